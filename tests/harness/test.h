/* test.h - a minimal test harness: typed assertions that print both operands,
 * tests registered with TEST(), a runner that prints TAP-like lines and the
 * closing "N passed, N failed" line.
 *
 * Each test file is its own executable: write TEST(name) { ... } functions and
 * end the file with TEST_MAIN(). A failed assertion ends the current test. */
#ifndef TW_TEST_H
#define TW_TEST_H

#include <inttypes.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*tw_test_fn)(void);
struct tw_test_case {
    const char *name;
    tw_test_fn fn;
};

void tw_test_register(const char *name, tw_test_fn fn);
void tw_test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));
int tw_test_run_all(int argc, char **argv);
/* Optional: a test may set a context line (e.g. "seed=42") printed on failure. */
void tw_test_context(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define TEST(name)                                                                                 \
    static void test_##name(void);                                                                 \
    __attribute__((constructor)) static void reg_##name(void) {                                    \
        tw_test_register(#name, test_##name);                                                      \
    }                                                                                              \
    static void test_##name(void)

#define TEST_MAIN()                                                                                \
    int main(int argc, char **argv) {                                                              \
        return tw_test_run_all(argc, argv);                                                        \
    }

#define ASSERT_TRUE(c)                                                                             \
    do {                                                                                           \
        if (!(c)) tw_test_fail(__FILE__, __LINE__, "expected true: %s", #c);                       \
    } while (0)
#define ASSERT_FALSE(c)                                                                            \
    do {                                                                                           \
        if (c) tw_test_fail(__FILE__, __LINE__, "expected false: %s", #c);                         \
    } while (0)
#define ASSERT_EQ(a, b)                                                                            \
    do {                                                                                           \
        long long _a = (long long)(a), _b = (long long)(b);                                        \
        if (_a != _b) tw_test_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, _a, _b);  \
    } while (0)
#define ASSERT_NE(a, b)                                                                            \
    do {                                                                                           \
        long long _a = (long long)(a), _b = (long long)(b);                                        \
        if (_a == _b) tw_test_fail(__FILE__, __LINE__, "%s != %s: both %lld", #a, #b, _a);         \
    } while (0)
#define ASSERT_CMP(a, op, b)                                                                       \
    do {                                                                                           \
        long long _a = (long long)(a), _b = (long long)(b);                                        \
        if (!(_a op _b))                                                                           \
            tw_test_fail(__FILE__, __LINE__, "%s %s %s: %lld vs %lld", #a, #op, #b, _a, _b);       \
    } while (0)
/* As ASSERT_CMP, for doubles. */
#define ASSERT_FCMP(a, op, b)                                                                      \
    do {                                                                                           \
        double _a = (double)(a), _b = (double)(b);                                                 \
        if (!(_a op _b))                                                                           \
            tw_test_fail(__FILE__, __LINE__, "%s %s %s: %g vs %g", #a, #op, #b, _a, _b);           \
    } while (0)
#define ASSERT_U64_EQ(a, b)                                                                        \
    do {                                                                                           \
        uint64_t _a = (uint64_t)(a), _b = (uint64_t)(b);                                           \
        if (_a != _b)                                                                              \
            tw_test_fail(__FILE__, __LINE__, "%s == %s: %" PRIu64 " != %" PRIu64, #a, #b, _a, _b); \
    } while (0)
#define ASSERT_STREQ(a, b)                                                                         \
    do {                                                                                           \
        const char *_a = (a), *_b = (b);                                                           \
        if (!_a || !_b || strcmp(_a, _b) != 0)                                                     \
            tw_test_fail(__FILE__, __LINE__, "%s == %s:\n  got:      \"%s\"\n  expected: \"%s\"",  \
                         #a, #b, _a ? _a : "(null)", _b ? _b : "(null)");                          \
    } while (0)
#define ASSERT_MEMEQ(a, b, n)                                                                      \
    do {                                                                                           \
        if (memcmp((a), (b), (n)) != 0)                                                            \
            tw_test_fail(__FILE__, __LINE__, "memory %s != %s (%zu bytes)", #a, #b, (size_t)(n));  \
    } while (0)
#define FAIL(...) tw_test_fail(__FILE__, __LINE__, __VA_ARGS__)

#endif
