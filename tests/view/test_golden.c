/* test_golden.c - the text ladder (and lifecycle summary) of every demo
 * scenario, relative and symbolic, compared byte for byte with
 * tests/view/golden/<scenario>[.symbolic].txt. TW_UPDATE_GOLDEN=1 rewrites
 * the files instead (review the diff before committing). tests/cli/ladder.sh
 * checks that `tcpwave ladder` on the JSON trace prints the same files. */
#include <stdlib.h>

#include "capture.h"
#include "test.h"

static void check_golden(int id, tw_seqmode mode) {
    const char *name = tw_scn_name(id);
    tw_test_context("scenario %s%s", name, mode == TW_SEQ_SYMBOLIC ? " (symbolic)" : "");
    tw_vev_list evs;
    tw_vev_list_init(&evs);
    ASSERT_EQ(capture_scenario(id, 1, 0, &evs, NULL), 0);
    char *got = report_text(&evs, mode);
    tw_vev_list_free(&evs);
    ASSERT_TRUE(got != NULL);
    char rel[128], path[512];
    snprintf(rel, sizeof rel, "tests/view/golden/%s%s.txt", name,
             mode == TW_SEQ_SYMBOLIC ? ".symbolic" : "");
    repo_path(rel, path, sizeof path);
    const char *upd = getenv("TW_UPDATE_GOLDEN");
    if (upd && !strcmp(upd, "1")) {
        FILE *f = fopen(path, "w");
        ASSERT_TRUE(f != NULL);
        fputs(got, f);
        fclose(f);
        printf("# updated %s\n", path);
        free(got);
        return;
    }
    char *want = slurp(path, NULL);
    if (!want) {
        free(got);
        FAIL("missing golden file %s (TW_UPDATE_GOLDEN=1 creates it)", path);
    }
    if (strcmp(got, want) != 0) {
        /* Show the first line that differs, and keep the whole output. */
        const char *g = got, *w = want;
        int line = 1;
        while (*g && *g == *w) {
            if (*g == '\n') line++;
            g++;
            w++;
        }
        while (g > got && g[-1] != '\n') g--, w--;
        char out[256];
        snprintf(out, sizeof out, "/tmp/tw-golden-%s%s.txt", name,
                 mode == TW_SEQ_SYMBOLIC ? ".symbolic" : "");
        FILE *f = fopen(out, "w");
        if (f) {
            fputs(got, f);
            fclose(f);
        }
        char gline[240], wline[240];
        snprintf(gline, sizeof gline, "%.*s", (int)strcspn(g, "\n"), g);
        snprintf(wline, sizeof wline, "%.*s", (int)strcspn(w, "\n"), w);
        free(got);
        free(want);
        FAIL("%s differs at line %d:\n  got:      %s\n  expected: %s\n  (whole output in %s; "
             "TW_UPDATE_GOLDEN=1 regenerates the golden files)",
             path, line, gline, wline, out);
    }
    free(got);
    free(want);
}

TEST(client_close) {
    check_golden(TW_SCN_CLIENT_CLOSE, TW_SEQ_RELATIVE);
}
TEST(server_close) {
    check_golden(TW_SCN_SERVER_CLOSE, TW_SEQ_RELATIVE);
}
TEST(three_way) {
    check_golden(TW_SCN_THREE_WAY, TW_SEQ_RELATIVE);
}
TEST(simultaneous) {
    check_golden(TW_SCN_SIMULTANEOUS, TW_SEQ_RELATIVE);
}
TEST(half_close) {
    check_golden(TW_SCN_HALF_CLOSE, TW_SEQ_RELATIVE);
}
TEST(lost_final_ack) {
    check_golden(TW_SCN_LOST_FINAL_ACK, TW_SEQ_RELATIVE);
}
TEST(abort) {
    check_golden(TW_SCN_ABORT, TW_SEQ_RELATIVE);
}
TEST(unread_data) {
    check_golden(TW_SCN_UNREAD_DATA, TW_SEQ_RELATIVE);
}

TEST(client_close_symbolic) {
    check_golden(TW_SCN_CLIENT_CLOSE, TW_SEQ_SYMBOLIC);
}
TEST(server_close_symbolic) {
    check_golden(TW_SCN_SERVER_CLOSE, TW_SEQ_SYMBOLIC);
}
TEST(three_way_symbolic) {
    check_golden(TW_SCN_THREE_WAY, TW_SEQ_SYMBOLIC);
}
TEST(simultaneous_symbolic) {
    check_golden(TW_SCN_SIMULTANEOUS, TW_SEQ_SYMBOLIC);
}
TEST(half_close_symbolic) {
    check_golden(TW_SCN_HALF_CLOSE, TW_SEQ_SYMBOLIC);
}
TEST(lost_final_ack_symbolic) {
    check_golden(TW_SCN_LOST_FINAL_ACK, TW_SEQ_SYMBOLIC);
}
TEST(abort_symbolic) {
    check_golden(TW_SCN_ABORT, TW_SEQ_SYMBOLIC);
}
TEST(unread_data_symbolic) {
    check_golden(TW_SCN_UNREAD_DATA, TW_SEQ_SYMBOLIC);
}

TEST_MAIN()
