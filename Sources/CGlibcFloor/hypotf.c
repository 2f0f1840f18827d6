// The Swift runtime, linked statically, calls hypotf, and a build against glibc 2.35 or
// later binds it to hypotf@GLIBC_2.35 — the only symbol that keeps the binary off glibc
// 2.34 (Amazon Linux 2023), where it would not start. The linker wraps every hypotf call
// (-Xlinker --wrap=hypotf, Package.swift) to this function, which computes it with the
// double-precision hypot, bound to its first version (glibc 2.35 versioned hypot anew
// too); the float result is as exact.
#include <math.h>
#include "CGlibcFloor.h"

#if defined(__x86_64__)
__asm__(".symver hypot,hypot@GLIBC_2.2.5");
#elif defined(__aarch64__)
__asm__(".symver hypot,hypot@GLIBC_2.17");
#endif

float __wrap_hypotf(float x, float y) {
    return (float)hypot((double)x, (double)y);
}
