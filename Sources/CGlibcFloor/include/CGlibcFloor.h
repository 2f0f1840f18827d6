// Keeps the binary within glibc 2.34 (Amazon Linux 2023). See hypotf.c.
#ifndef EC2NETGEN_CGLIBCFLOOR_H
#define EC2NETGEN_CGLIBCFLOOR_H
float __wrap_hypotf(float x, float y);
#endif
