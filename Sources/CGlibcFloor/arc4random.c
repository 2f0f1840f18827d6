// The static libstdc++ of release builds (Package.swift) calls arc4random, which glibc
// added in 2.36 (std::random_device uses it when present); bound to arc4random@GLIBC_2.36
// it keeps the binary off glibc 2.34 (Amazon Linux 2023), as hypotf would. The linker
// wraps it (-Xlinker --wrap=arc4random) to this function, which fills the same 32 bits
// from getrandom(2) (glibc 2.25), as glibc's arc4random does; ec2-netgen itself never
// asks libstdc++ for random numbers.
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/random.h>
#include "CGlibcFloor.h"

uint32_t __wrap_arc4random(void) {
    uint32_t value;
    size_t filled = 0;
    while (filled < sizeof value) {
        ssize_t got = getrandom((char *)&value + filled, sizeof value - filled, 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            abort();  // as glibc's arc4random does when the kernel cannot give randomness
        }
        filled += (size_t)got;
    }
    return value;
}
