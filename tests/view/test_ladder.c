/* test_ladder.c - the ladder model (src/view/ladder.h): textbook letters,
 * marks (merged FIN+ACK, lost, retransmitted, TIME_WAIT, duplicate),
 * arrivals, connection pairing, one-sided traces, errors, and the shape of
 * the text and SVG drawings. */
#include <stdlib.h>

#include "capture.h"
#include "test.h"

typedef struct lad {
    tw_vev_list evs;
    tw_vindex ix;
    tw_ladder l;
} lad;

static void build(lad *x, tw_seqmode mode) {
    ASSERT_EQ(tw_vindex_build(x->evs.v, x->evs.n, &x->ix), 0);
    ASSERT_CMP(x->ix.nc, >=, 1);
    ASSERT_EQ(tw_ladder_build(x->evs.v, x->evs.n, &x->ix, 0, mode, &x->l), 0);
}

static void open_scn(lad *x, int id, tw_seqmode mode) {
    tw_vev_list_init(&x->evs);
    tw_test_context("scenario %s", tw_scn_name(id));
    ASSERT_EQ(capture_scenario(id, 1, 0, &x->evs, NULL), 0);
    build(x, mode);
}

static void close_lad(lad *x) {
    tw_ladder_free(&x->l);
    tw_vindex_free(&x->ix);
    tw_vev_list_free(&x->evs);
}

/* Index of the n-th segment (0-based) whose label starts with `prefix`, or -1. */
static int find_seg(const tw_ladder *l, int from, const char *prefix, int nth) {
    for (size_t k = 0; k < l->nsegs; k++)
        if (l->segs[k].from == from && !strncmp(l->segs[k].label, prefix, strlen(prefix)) &&
            nth-- == 0)
            return (int)k;
    return -1;
}

TEST(four_way_close_in_textbook_letters) {
    lad x;
    open_scn(&x, TW_SCN_CLIENT_CLOSE, TW_SEQ_SYMBOLIC);
    ASSERT_TRUE(find_seg(&x.l, 0, "SYN seq=x", 0) >= 0);
    ASSERT_TRUE(find_seg(&x.l, 1, "SYN|ACK seq=y ack=x+1", 0) >= 0);
    ASSERT_TRUE(find_seg(&x.l, 0, "ACK seq=x+1 ack=y+1", 0) >= 0);
    ASSERT_TRUE(find_seg(&x.l, 0, "FIN|ACK seq=u ack=", 0) >= 0);
    ASSERT_TRUE(find_seg(&x.l, 1, "ACK seq=v ack=u+1", 0) >= 0);
    ASSERT_TRUE(find_seg(&x.l, 1, "FIN|ACK seq=w ack=u+1", 0) >= 0);
    ASSERT_TRUE(find_seg(&x.l, 0, "ACK seq=u+1 ack=w+1", 0) >= 0);
    ASSERT_TRUE(strstr(x.l.legend[2], " u=") && strstr(x.l.legend[2], " w="));
    for (size_t k = 0; k < x.l.nsegs; k++) ASSERT_EQ(x.l.segs[k].marks, 0);
    close_lad(&x);
}

TEST(server_close_gives_u_to_the_server) {
    lad x;
    open_scn(&x, TW_SCN_SERVER_CLOSE, TW_SEQ_SYMBOLIC);
    ASSERT_TRUE(find_seg(&x.l, 1, "FIN|PSH|ACK seq=y+1 ack=x+101 len=200", 0) >= 0); /* u = y+201 */
    ASSERT_TRUE(find_seg(&x.l, 0, "ACK seq=v ack=u+1", 0) >= 0);
    ASSERT_TRUE(find_seg(&x.l, 0, "FIN|ACK seq=w ack=u+1", 0) >= 0);
    ASSERT_TRUE(find_seg(&x.l, 1, "ACK seq=u+1 ack=w+1", 0) >= 0);
    close_lad(&x);
}

TEST(three_way_close_marks_the_merged_fin_ack) {
    lad x;
    open_scn(&x, TW_SCN_THREE_WAY, TW_SEQ_SYMBOLIC);
    int k = find_seg(&x.l, 1, "FIN|ACK seq=w ack=u+1", 0);
    ASSERT_TRUE(k >= 0);
    ASSERT_TRUE(x.l.segs[k].marks & TW_LM_MERGED);
    ASSERT_STREQ(tw_ladder_seg_note(&x.l.segs[k]), "FIN+ACK merged: three-way close");
    ASSERT_TRUE(find_seg(&x.l, 1, "ACK seq=v", 0) < 0); /* no separate ACK: no v */
    close_lad(&x);
}

TEST(lost_final_ack_is_lost_then_retransmitted) {
    lad x;
    open_scn(&x, TW_SCN_LOST_FINAL_ACK, TW_SEQ_RELATIVE);
    int lost = 0, retrans = 0, tw = 0;
    for (size_t k = 0; k < x.l.nsegs; k++) {
        const tw_lseg *s = &x.l.segs[k];
        if (s->marks & TW_LM_LOST) {
            lost++;
            ASSERT_EQ(s->from, 0);
            ASSERT_EQ(s->recv_row, -1);
            ASSERT_STREQ(s->label, "ACK seq=102 ack=202");
        } else {
            ASSERT_CMP(s->recv_row, >, s->send_row); /* 1 ms later: a later row */
            ASSERT_U64_EQ(s->t_recv - s->t_send, 1000000);
        }
        retrans += (s->marks & TW_LM_RETRANS) != 0;
        tw += (s->marks & TW_LM_TW) != 0;
    }
    ASSERT_EQ(lost, 1);
    ASSERT_EQ(retrans, 1);
    ASSERT_EQ(tw, 1);
    ASSERT_TRUE(find_seg(&x.l, 1, "FIN|ACK seq=201 ack=102 [retrans]", 0) >= 0);
    ASSERT_TRUE(find_seg(&x.l, 0, "ACK seq=102 ack=202 [TIME_WAIT]", 0) >= 0);
    close_lad(&x);
}

TEST(absolute_mode_prints_the_wire_numbers) {
    lad x;
    open_scn(&x, TW_SCN_ABORT, TW_SEQ_ABSOLUTE);
    const tw_lseg *syn = &x.l.segs[0];
    char want[64];
    snprintf(want, sizeof want, "SYN seq=%u", syn->seq);
    ASSERT_STREQ(syn->label, want);
    int k = find_seg(&x.l, 0, "RST", 0);
    ASSERT_TRUE(k >= 0);
    snprintf(want, sizeof want, "RST seq=%u", syn->seq + 101);
    ASSERT_STREQ(x.l.segs[k].label, want);
    close_lad(&x);
}

TEST(states_appear_on_the_rows_where_they_change) {
    lad x;
    open_scn(&x, TW_SCN_SIMULTANEOUS, TW_SEQ_RELATIVE);
    ASSERT_EQ(x.l.init_state[0], TW_CLOSED);
    ASSERT_EQ(x.l.init_state[1], TW_LISTEN);
    int closing = 0;
    for (size_t r = 0; r < x.l.nrows; r++)
        for (int s = 0; s < 2; s++) closing += x.l.rows[r].state[s] == TW_CLOSING;
    ASSERT_EQ(closing, 2);
    close_lad(&x);
}

TEST(a_duplicate_arrival_is_marked) {
    lad x;
    tw_vev_list_init(&x.evs);
    ASSERT_EQ(capture_scenario(TW_SCN_CLIENT_CLOSE, 1, 0, &x.evs, NULL), 0);
    size_t n = x.evs.n;
    for (size_t i = 0; i < n; i++) /* deliver the server's first SEG_IN twice */
        if (x.evs.v[i].ev.kind == TW_EV_SEG_IN && x.evs.v[i].host == 1) {
            tw_vev d = x.evs.v[i];
            ASSERT_EQ(tw_vev_list_push(&x.evs, &d), 0);
            memmove(&x.evs.v[i + 1], &x.evs.v[i], (n - i) * sizeof x.evs.v[0]);
            break;
        }
    build(&x, TW_SEQ_RELATIVE);
    int k = find_seg(&x.l, 0, "SYN seq=0 [dup]", 0);
    ASSERT_TRUE(k >= 0);
    ASSERT_TRUE(x.l.segs[k].marks & TW_LM_DUP);
    close_lad(&x);
}

TEST(a_trace_of_one_side_draws_the_peer) {
    lad x;
    tw_vev_list all;
    tw_vev_list_init(&all);
    tw_vev_list_init(&x.evs);
    ASSERT_EQ(capture_scenario(TW_SCN_CLIENT_CLOSE, 1, 0, &all, NULL), 0);
    for (size_t i = 0; i < all.n; i++)
        if (all.v[i].host == 1) ASSERT_EQ(tw_vev_list_push(&x.evs, &all.v[i]), 0);
    tw_vev_list_free(&all);
    build(&x, TW_SEQ_RELATIVE);
    ASSERT_EQ(x.ix.nc, 1);
    ASSERT_FALSE(x.l.traced[0]);
    ASSERT_TRUE(x.l.traced[1]);
    ASSERT_STREQ(x.l.name[0], "peer");
    ASSERT_STREQ(x.l.addr[1], "198.18.0.2:80");
    int k = find_seg(&x.l, 0, "SYN seq=0", 0);
    ASSERT_TRUE(k >= 0);
    ASSERT_TRUE(x.l.segs[k].marks & TW_LM_NO_SENDER);
    ASSERT_TRUE(find_seg(&x.l, 0, "ACK seq=102 ack=202", 0) >= 0);
    for (size_t j = 0; j < x.l.nsegs; j++) ASSERT_FALSE(x.l.segs[j].marks & TW_LM_NO_ARRIVAL);
    char *text = report_text(&x.evs, TW_SEQ_RELATIVE);
    ASSERT_TRUE(text && strstr(text, "connection 1: peer "));
    ASSERT_TRUE(strstr(text, "close: server: passive close"));
    free(text);
    close_lad(&x);
}

TEST(two_connections_in_one_trace) {
    tw_vev_list evs;
    tw_vev_list_init(&evs);
    ASSERT_EQ(capture_scenario(TW_SCN_CLIENT_CLOSE, 1, 0, &evs, NULL), 0);
    ASSERT_EQ(capture_scenario(TW_SCN_SERVER_CLOSE, 2, 2, &evs, NULL), 0);
    tw_vindex ix;
    ASSERT_EQ(tw_vindex_build(evs.v, evs.n, &ix), 0);
    ASSERT_EQ(ix.nc, 2);
    for (size_t c = 0; c < 2; c++) {
        ASSERT_TRUE(ix.c[c].half[0] >= 0 && ix.c[c].half[1] >= 0);
        ASSERT_EQ(ix.h[ix.c[c].half[0]].host, 2 * c);
        ASSERT_EQ(ix.h[ix.c[c].half[1]].host, 2 * c + 1);
    }
    tw_vindex_free(&ix);
    tw_sbuf t;
    tw_sbuf_init(&t);
    char err[200];
    tw_report_opts o = {TW_SEQ_RELATIVE, 2, NULL};
    ASSERT_EQ(tw_view_report(evs.v, evs.n, &o, &t, NULL, err, sizeof err), 0);
    ASSERT_TRUE(strstr(tw_sbuf_str(&t), "connection 2: ") != NULL);
    ASSERT_TRUE(strstr(tw_sbuf_str(&t), "four-way close, server closed first") != NULL);
    ASSERT_TRUE(strstr(tw_sbuf_str(&t), "connection 1: ") == NULL);
    o.conn = 3;
    ASSERT_EQ(tw_view_report(evs.v, evs.n, &o, &t, NULL, err, sizeof err), -1);
    ASSERT_STREQ(err, "no connection 3: the trace has 2 (see --list)");
    tw_sbuf_free(&t);
    tw_sbuf_init(&t);
    ASSERT_EQ(tw_view_list(evs.v, evs.n, &t), 2);
    ASSERT_TRUE(strstr(tw_sbuf_str(&t), "2  client 198.18.0.1:") != NULL);
    tw_sbuf_free(&t);
    tw_vev_list_free(&evs);
}

TEST(a_trace_without_connections_is_an_error) {
    tw_trace_ev e;
    memset(&e, 0, sizeof e);
    e.kind = TW_EV_DROP;
    e.reason = TW_C_DROP_IP_SHORT;
    tw_vev v;
    tw_vev_make(&v, 0, "x", &e);
    tw_sbuf t;
    tw_sbuf_init(&t);
    char err[200];
    tw_report_opts o = {TW_SEQ_RELATIVE, 0, NULL};
    ASSERT_EQ(tw_view_report(&v, 1, &o, &t, NULL, err, sizeof err), -1);
    ASSERT_TRUE(strstr(err, "no connection") != NULL);
    ASSERT_EQ(tw_view_report(NULL, 0, &o, &t, NULL, err, sizeof err), -1);
    tw_sbuf_free(&t);
}

TEST(text_rows_keep_their_columns) {
    for (int id = 0; id < TW_SCN__COUNT; id++) {
        tw_vev_list evs;
        tw_vev_list_init(&evs);
        tw_test_context("scenario %s", tw_scn_name(id));
        ASSERT_EQ(capture_scenario(id, 1, 0, &evs, NULL), 0);
        char *text = report_text(&evs, TW_SEQ_SYMBOLIC);
        ASSERT_TRUE(text != NULL);
        long left = -1, right = -1;
        int rows = 0;
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
            size_t len = strlen(line);
            ASSERT_TRUE(len == 0 || line[len - 1] != ' '); /* no trailing spaces */
            char *a = strchr(line, '|');
            if (!a || strncmp(line, "    ", 4) == 0) continue;
            char *b = strchr(a + 1, '|');
            if (b && strchr(line, '-') == NULL && b[-1] != ' ') continue; /* "FIN|ACK" in a note */
            while (b && b[1] != ' ' && b[1] != '\0' && b[1] != '\n') b = strchr(b + 1, '|');
            ASSERT_TRUE(b != NULL);
            if (left < 0) {
                left = a - line;
                right = b - line;
            }
            ASSERT_EQ(a - line, left);
            ASSERT_EQ(b - line, right);
            rows++;
        }
        ASSERT_CMP(rows, >, 10);
        free(text);
        tw_vev_list_free(&evs);
    }
}

TEST(svg_is_one_document_with_an_arrow_per_segment) {
    lad x;
    open_scn(&x, TW_SCN_LOST_FINAL_ACK, TW_SEQ_RELATIVE);
    snprintf(x.l.name[0], sizeof x.l.name[0], "a&b<c>\"d\"");
    tw_sbuf svg;
    tw_sbuf_init(&svg);
    const tw_ladder *ls[1] = {&x.l};
    const char *foot[1] = {"close: <four-way> & more\n  indented line"};
    tw_ladder_svg(ls, foot, 1, "title & <more>", &svg);
    const char *s = tw_sbuf_str(&svg);
    ASSERT_TRUE(s != NULL);
    ASSERT_TRUE(!strncmp(s, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg ", 44));
    ASSERT_TRUE(strstr(s, "</svg>\n") == s + strlen(s) - 7);
    ASSERT_TRUE(strstr(s, "a&amp;b&lt;c&gt;&quot;d&quot;") != NULL);
    ASSERT_TRUE(strstr(s, "title &amp; &lt;more&gt;") != NULL);
    ASSERT_TRUE(strstr(s, "close: &lt;four-way&gt; &amp; more") != NULL);
    ASSERT_TRUE(strstr(s, "a&b") == NULL);
    int paths = 0;
    for (const char *p = s; (p = strstr(p, "<textPath")) != NULL; p++) paths++;
    ASSERT_EQ(paths, (int)x.l.nsegs);
    ASSERT_TRUE(strstr(s, "lost on the link") != NULL);
    tw_sbuf_free(&svg);
    close_lad(&x);
}

TEST_MAIN()
