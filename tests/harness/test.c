/* test.c - the runner behind test.h. Runs every registered test (or those
 * whose name contains argv[1]), catches failed assertions with longjmp, and
 * ends with the "N passed, N failed" line that CI reads. */
#include "test.h"

#include <stdarg.h>

#define MAX_TESTS 1024

static struct tw_test_case tests[MAX_TESTS];
static int ntests;
static jmp_buf fail_jmp;
static char context[256];

void tw_test_register(const char *name, tw_test_fn fn) {
    if (ntests >= MAX_TESTS) {
        fprintf(stderr, "too many tests\n");
        exit(2);
    }
    tests[ntests].name = name;
    tests[ntests].fn = fn;
    ntests++;
}

void tw_test_context(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(context, sizeof context, fmt, ap);
    va_end(ap);
}

void tw_test_fail(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    fprintf(stdout, "  %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fprintf(stdout, "\n");
    if (context[0]) fprintf(stdout, "  context: %s\n", context);
    fflush(stdout);
    longjmp(fail_jmp, 1);
}

int tw_test_run_all(int argc, char **argv) {
    const char *filter = argc > 1 ? argv[1] : NULL;
    /* static: longjmp back into this frame must not clobber them */
    static int passed, failed, n, i;
    passed = failed = n = 0;
    for (i = 0; i < ntests; i++) {
        if (filter && !strstr(tests[i].name, filter)) continue;
        n++;
        context[0] = 0;
        if (setjmp(fail_jmp) == 0) {
            tests[i].fn();
            printf("ok %d - %s\n", n, tests[i].name);
            passed++;
        } else {
            printf("not ok %d - %s\n", n, tests[i].name);
            failed++;
        }
        fflush(stdout);
    }
    printf("%d passed, %d failed\n", passed, failed);
    if (n == 0) {
        printf("no test matched\n");
        return 1;
    }
    return failed ? 1 : 0;
}
