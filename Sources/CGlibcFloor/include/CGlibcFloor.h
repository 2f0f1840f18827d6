// Keeps the binary within glibc 2.34 (Amazon Linux 2023). See hypotf.c and arc4random.c.
#ifndef EC2NETGEN_CGLIBCFLOOR_H
#define EC2NETGEN_CGLIBCFLOOR_H
#include <stdint.h>
float __wrap_hypotf(float x, float y);
uint32_t __wrap_arc4random(void);
#endif
