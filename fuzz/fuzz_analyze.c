/* fuzz_analyze.c - libFuzzer target for the capture analyzer
 * (tools/analyze/): the input is a whole capture file (pcap or pcapng),
 * read from memory through libpcap (pcap_fopen_offline on fmemopen), decoded
 * and fed to the connection analysis, with the ladder events of connection 1
 * kept and drawn by src/view. Invariants (a violation aborts): the reader
 * answers 1, 0 or -1, and -1 always comes with a message naming the frame or
 * the file header; every finished connection's text and JSON render; the
 * ladder of connection 1 renders or fails with a message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "view/report.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "fuzz_analyze: check failed: %s (line %d)\n", #c, __LINE__);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_conn(void *ctx, const tw_an_conn *c) {
    (void)ctx;
    tw_sbuf b;
    tw_sbuf_init(&b);
    tw_an_text(c, TW_AN_TIME_REL, &b);
    tw_an_text(c, TW_AN_TIME_ABS, &b);
    tw_an_json(c, &b);
    CHECK(b.oom || (tw_sbuf_str(&b) && strstr(tw_sbuf_str(&b), "\"filter\":")));
    tw_sbuf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[512];
    tw_an_reader *rd;
    if (tw_an_open_mem(data, size, &rd, err, sizeof err)) {
        CHECK(strstr(err, "file header") || strstr(err, "out of memory") || strstr(err, "buffer"));
        return 0;
    }
    tw_an_opts o;
    tw_an_opts_default(&o);
    o.ladder_conn = 1;
    o.close_wait_ns = 1000000;
    tw_an *a;
    CHECK(tw_an_new(&o, on_conn, NULL, &a) == 0);
    tw_an_pkt p;
    int rc;
    unsigned n = 0;
    while ((rc = tw_an_next(rd, &p, err, sizeof err)) == 1 && n++ < 4096)
        CHECK(tw_an_feed(a, &p) == 0);
    CHECK(rc == 1 || rc == 0 || (rc == -1 && strncmp(err, "frame ", 6) == 0));
    CHECK(tw_an_finish(a) == 0);
    const tw_vev_list *evs = tw_an_ladder_events(a);
    if (evs) {
        tw_sbuf text;
        tw_sbuf_init(&text);
        tw_report_opts ro = {TW_SEQ_SYMBOLIC, 0, NULL};
        if (tw_view_report(evs->v, evs->n, &ro, &text, NULL, err, sizeof err)) CHECK(err[0]);
        tw_sbuf_free(&text);
    }
    tw_an_free(a);
    tw_an_close(rd);
    return 0;
}
