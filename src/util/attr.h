/* attr.h - function attributes for instrumented (fuzz and sanitizer) builds.
 *
 * Code that only checks or computes arithmetic gives libFuzzer no feedback
 * worth having: its branches are loop bounds, not decisions about input.
 * Left in sanitizer coverage, clang's compare hooks in it cost real fuzzing
 * time, so such functions opt out (TW_NO_COVERAGE): the stack's axiom
 * checkers (they walk every bucket, slot and port word after each step of a
 * test or fuzz run, and took most of fuzz_stack's time) and the checksum's
 * word loop. The table checker also skips ASan's per-load checks and
 * UBSan's (TW_CHECKER, so its scans vectorize): it only reads, and
 * range-checks every index it follows itself. */
#ifndef TW_UTIL_ATTR_H
#define TW_UTIL_ATTR_H

#if defined(__clang__) && __clang_major__ >= 13
#define TW_NO_COVERAGE __attribute__((no_sanitize("coverage")))
#define TW_CHECKER __attribute__((no_sanitize("coverage", "address", "undefined")))
#else
#define TW_NO_COVERAGE
#define TW_CHECKER
#endif

#endif
