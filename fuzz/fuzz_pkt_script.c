/* fuzz_pkt_script.c - libFuzzer target for the packetdrill-language reader
 * and runner (src/drive/pkt_script.h).
 *
 * The input is a script. Invariants (a violation aborts):
 *  - pd_parse() returns 0, or -1 with a message that starts with
 *    "fuzz.pkt:LINE: " (every error names its line);
 *  - an accepted script of at most 64 statements runs to PASS, FAIL or ERROR
 *    (output discarded), without crashing, leaking or looping; each outbound
 *    line formats back to script syntax. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drive/pkt_script.h"

#define MAX_RUN_EVENTS 64

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "fuzz_pkt_script: check failed: %s (line %d)\n", #c, __LINE__);        \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static FILE *sink;
    if (!sink) sink = fopen("/dev/null", "w");
    char *text = malloc(size ? size : 1); /* exact size: ASan sees overreads */
    if (!text) return 0;
    memcpy(text, data, size);
    pd_script s;
    char err[512];
    int rc = pd_parse("fuzz.pkt", text, size, &s, err, sizeof err);
    free(text);
    if (rc) {
        CHECK(!strncmp(err, "fuzz.pkt:", 9));
        const char *p = err + 9;
        CHECK(*p >= '0' && *p <= '9');
        while (*p >= '0' && *p <= '9') p++;
        CHECK(p[0] == ':' && p[1] == ' ' && p[2]);
        return 0;
    }
    for (size_t i = 0; i < s.n; i++) {
        char buf[512];
        if (s.ev[i].type == PD_EV_PACKET) pd_pkt_format(&s.ev[i].pkt, buf, sizeof buf);
    }
    if (s.n <= MAX_RUN_EVENTS && sink) {
        pd_run_opts o;
        memset(&o, 0, sizeof o);
        o.out = sink;
        rc = pd_run(&s, &o);
        CHECK(rc == PD_PASS || rc == PD_FAIL || rc == PD_ERROR);
    }
    pd_script_free(&s);
    return 0;
}
