// libFuzzer's driver entry (compiler-rt, linked by -sanitize=fuzzer). SwiftPM names an
// executable's entry point TARGET_main, so each fuzz target's entry calls this.
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
