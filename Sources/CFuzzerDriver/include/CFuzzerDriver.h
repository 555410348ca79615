#ifndef C_FUZZER_DRIVER_H
#define C_FUZZER_DRIVER_H

#include <stddef.h>
#include <stdint.h>

// libFuzzer's driver (compiler-rt's FuzzerInterface.h), linked by `-sanitize=fuzzer`: runs the fuzzing loop with
// `callback` as the target. triage-eval-fuzz calls it from its own entry point, because SwiftPM gives every
// executable an entry point of its own, so libFuzzer's `main` is never the one that runs.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
