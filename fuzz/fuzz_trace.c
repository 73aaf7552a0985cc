/* fuzz_trace.c - libFuzzer target for the JSON-lines trace reader and the
 * views drawn from whatever it accepts (src/view/).
 *
 * The input is text, split into lines at '\n'; every line goes through
 * tw_tj_parse_line() (each line is copied to a buffer of its exact size, so
 * ASan sees any read past it). Invariants (a violation aborts):
 *  - the parser answers 0 (event), 1 (empty line) or -1 with a message that
 *    starts with "column ";
 *  - an accepted event, written again with tw_tj_format(), parses back to
 *    the same event (the writer's output is always accepted);
 *  - the accepted events (at most 512) render: the text ladder + lifecycle
 *    of every connection, and its SVG, or a clean error message; the
 *    connection list and lifecycle summary run too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "view/report.h"

#define MAX_EVENTS 512

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "fuzz_trace: check failed: %s (line %d)\n", #c, __LINE__);             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same(const tw_vev *a, const tw_vev *b) {
    const tw_trace_ev *x = &a->ev, *y = &b->ev;
    return a->host == b->host && !strcmp(a->host_name, b->host_name) && x->t == y->t &&
           x->conn_id == y->conn_id && x->kind == y->kind && x->old_state == y->old_state &&
           x->new_state == y->new_state && x->cause == y->cause && x->reason == y->reason &&
           x->flags == y->flags && x->meta == y->meta && x->seq == y->seq && x->ack == y->ack &&
           x->len == y->len && x->wnd == y->wnd && x->lport == y->lport && x->rport == y->rport &&
           x->laddr == y->laddr && x->raddr == y->raddr;
}

static void parse_one(const uint8_t *line, size_t len, tw_vev_list *evs) {
    char *copy = malloc(len ? len : 1);
    CHECK(copy != NULL);
    memcpy(copy, line, len);
    tw_vev e;
    char err[256];
    int rc = tw_tj_parse_line(copy, len, &e, err, sizeof err);
    free(copy);
    CHECK(rc == 0 || rc == 1 || rc == -1);
    if (rc == -1) CHECK(!strncmp(err, "column ", 7));
    if (rc != 0) return;
    char buf[1024];
    size_t n = tw_tj_format(&e, buf, sizeof buf);
    CHECK(n > 0 && n < sizeof buf && buf[n - 1] == '\n');
    tw_vev back;
    CHECK(tw_tj_parse_line(buf, n - 1, &back, err, sizeof err) == 0);
    CHECK(same(&e, &back));
    if (evs->n < MAX_EVENTS) CHECK(tw_vev_list_push(evs, &e) == 0);
}

static void render(const tw_vev_list *evs) {
    for (int mode = TW_SEQ_RELATIVE; mode <= TW_SEQ_SYMBOLIC; mode++) {
        tw_sbuf text, svg;
        tw_sbuf_init(&text);
        tw_sbuf_init(&svg);
        char err[200] = "";
        tw_report_opts o = {(tw_seqmode)mode, 0, "fuzz"};
        if (tw_view_report(evs->v, evs->n, &o, &text, mode == TW_SEQ_SYMBOLIC ? &svg : NULL, err,
                           sizeof err) == 0)
            CHECK(tw_sbuf_str(&text) != NULL && !strncmp(tw_sbuf_str(&text), "connection 1: ", 14));
        else
            CHECK(err[0] != '\0');
        tw_sbuf_free(&text);
        tw_sbuf_free(&svg);
    }
    tw_sbuf out;
    tw_sbuf_init(&out);
    CHECK(tw_view_list(evs->v, evs->n, &out) >= 0);
    CHECK(tw_view_lifecycle(evs->v, evs->n, &out) == 0);
    tw_sbuf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tw_vev_list evs;
    tw_vev_list_init(&evs);
    for (size_t start = 0; start <= size;) {
        const uint8_t *nl = memchr(data + start, '\n', size - start);
        size_t end = nl ? (size_t)(nl - data) : size;
        parse_one(data + start, end - start, &evs);
        start = end + 1;
    }
    render(&evs);
    tw_vev_list_free(&evs);
    return 0;
}
