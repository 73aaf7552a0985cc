/* test_trace_json.c - the JSON-lines trace: every event of every scenario
 * written and read back is identical (in memory and through a file), values
 * without names survive as numbers, and malformed lines are rejected with
 * their line and column, never a crash (including random corruptions). */
#include <stdlib.h>

#include "capture.h"
#include "test.h"
#include "util/rng.h"

static bool ev_equal(const tw_vev *a, const tw_vev *b) {
    const tw_trace_ev *x = &a->ev, *y = &b->ev;
    return a->host == b->host && !strcmp(a->host_name, b->host_name) && x->t == y->t &&
           x->conn_id == y->conn_id && x->kind == y->kind && x->old_state == y->old_state &&
           x->new_state == y->new_state && x->cause == y->cause && x->reason == y->reason &&
           x->flags == y->flags && x->meta == y->meta && x->seq == y->seq && x->ack == y->ack &&
           x->len == y->len && x->wnd == y->wnd && x->lport == y->lport && x->rport == y->rport &&
           x->laddr == y->laddr && x->raddr == y->raddr;
}

static void roundtrip_one(const tw_vev *e) {
    char line[1024], err[256];
    size_t n = tw_tj_format(e, line, sizeof line);
    ASSERT_TRUE(n > 0 && n < sizeof line && line[n - 1] == '\n');
    tw_vev back;
    int rc = tw_tj_parse_line(line, n - 1, &back, err, sizeof err);
    if (rc != 0) FAIL("parse failed: %s\n  line: %s", err, line);
    if (!ev_equal(e, &back)) FAIL("round trip changed the event:\n  %s", line);
}

TEST(every_scenario_event_round_trips) {
    for (int id = 0; id < TW_SCN__COUNT; id++) {
        tw_vev_list evs;
        tw_vev_list_init(&evs);
        tw_test_context("scenario %s", tw_scn_name(id));
        ASSERT_EQ(capture_scenario(id, 7, 0, &evs, NULL), 0);
        ASSERT_CMP(evs.n, >, 20);
        for (size_t i = 0; i < evs.n; i++) roundtrip_one(&evs.v[i]);
        tw_vev_list_free(&evs);
    }
}

TEST(file_round_trip_keeps_order_and_content) {
    tw_vev_list evs, back;
    tw_vev_list_init(&evs);
    tw_vev_list_init(&back);
    ASSERT_EQ(capture_scenario(TW_SCN_LOST_FINAL_ACK, 1, 0, &evs, NULL), 0);
    FILE *f = tmpfile();
    ASSERT_TRUE(f != NULL);
    for (size_t i = 0; i < evs.n; i++) ASSERT_EQ(tw_tj_write(f, &evs.v[i]), 0);
    rewind(f);
    char err[256];
    ASSERT_EQ(tw_tj_read(f, &back, err, sizeof err), 0);
    fclose(f);
    ASSERT_EQ(back.n, evs.n);
    bool saw_lost = false;
    for (size_t i = 0; i < evs.n; i++) {
        ASSERT_TRUE(ev_equal(&evs.v[i], &back.v[i]));
        saw_lost |= back.v[i].ev.kind == TW_VEV_LINK_LOST;
    }
    ASSERT_TRUE(saw_lost);
    /* The views of the two copies are identical too. */
    char *a = report_text(&evs, TW_SEQ_SYMBOLIC), *b = report_text(&back, TW_SEQ_SYMBOLIC);
    ASSERT_TRUE(a && b);
    ASSERT_STREQ(a, b);
    free(a);
    free(b);
    tw_vev_list_free(&evs);
    tw_vev_list_free(&back);
}

TEST(unnamed_values_round_trip_as_numbers) {
    tw_vev e;
    memset(&e, 0, sizeof e);
    e.host = 65535;
    snprintf(e.host_name, sizeof e.host_name, "a \"quoted\\ name\t1");
    e.ev = (tw_trace_ev){UINT64_MAX, UINT32_MAX, 200,   99,         250,        251,
                         65535,      0xff,       0xff,  UINT32_MAX, UINT32_MAX, UINT32_MAX,
                         65535,      65535,      65535, UINT32_MAX, 0};
    roundtrip_one(&e);
    for (int k = 0; k <= TW_EV_USER; k++) { /* names where they exist, out of range where not */
        e.ev.kind = (uint8_t)k;
        e.ev.cause = 3;
        e.ev.meta = TW_SEGMETA_RETRANS | TW_SEGMETA_TW;
        e.ev.reason = TW_C_DROP_TW_SEGMENT;
        e.ev.old_state = TW_FIN_WAIT_2;
        roundtrip_one(&e);
        e.ev.cause = 240;
        roundtrip_one(&e);
    }
}

TEST(names_are_written_for_people) {
    tw_vev e;
    tw_trace_ev ev;
    memset(&ev, 0, sizeof ev);
    ev.t = 4000000;
    ev.kind = TW_EV_STATE;
    ev.old_state = TW_ESTABLISHED;
    ev.new_state = TW_FIN_WAIT_1;
    ev.cause = TW_CAUSE_USER_CLOSE;
    ev.laddr = 0xC6120001;
    tw_vev_make(&e, 0, "client", &ev);
    char line[1024];
    tw_tj_format(&e, line, sizeof line);
    ASSERT_TRUE(strstr(line, "\"kind\":\"state\"") != NULL);
    ASSERT_TRUE(strstr(line, "\"old_state\":\"ESTABLISHED\",\"new_state\":\"FIN_WAIT_1\"") != NULL);
    ASSERT_TRUE(strstr(line, "\"cause\":\"USER_CLOSE\"") != NULL);
    ASSERT_TRUE(strstr(line, "\"cause_desc\":\"user close\"") != NULL);
    ASSERT_TRUE(strstr(line, "\"laddr\":\"198.18.0.1\"") != NULL);
    ASSERT_TRUE(strstr(line, "\"reason\":null") != NULL);
    /* The ECN field of a segment, by name, and back. */
    memset(&ev, 0, sizeof ev);
    ev.kind = TW_EV_SEG_IN;
    ev.flags = 0x10 | 0x80; /* ACK, CWR */
    ev.meta = TW_SEGMETA_CE;
    tw_vev_make(&e, 1, "server", &ev);
    tw_tj_format(&e, line, sizeof line);
    ASSERT_TRUE(strstr(line, "\"flags\":\"ACK|CWR\"") != NULL);
    ASSERT_TRUE(strstr(line, "\"meta\":\"CE\"") != NULL);
    tw_vev back;
    char err[200];
    ASSERT_EQ(tw_tj_parse_line(line, strlen(line) - 1, &back, err, sizeof err), 0);
    ASSERT_EQ(back.ev.meta, TW_SEGMETA_CE);
    ev.meta = TW_SEGMETA_RETRANS | TW_SEGMETA_ECT;
    tw_vev_make(&e, 1, "server", &ev);
    tw_tj_format(&e, line, sizeof line);
    ASSERT_TRUE(strstr(line, "\"meta\":\"RETRANS|ECT\"") != NULL);
}

/* A stream of good lines with one bad line at `bad_at`. */
static void expect_rejected(const char *bad, const char *want) {
    const char *good = "{\"t\":1,\"kind\":\"seg_out\",\"flags\":\"SYN\",\"host\":0}\n";
    char text[70000];
    size_t n = 0;
    for (int i = 0; i < 3; i++) n += (size_t)snprintf(text + n, sizeof text - n, "%s", good);
    n += (size_t)snprintf(text + n, sizeof text - n, "\n"); /* an empty line is skipped, counted */
    n += (size_t)snprintf(text + n, sizeof text - n, "%s\n%s", bad, good);
    FILE *f = tmpfile();
    ASSERT_TRUE(f != NULL);
    fwrite(text, 1, n, f);
    rewind(f);
    tw_vev_list evs;
    tw_vev_list_init(&evs);
    char err[320];
    int rc = tw_tj_read(f, &evs, err, sizeof err);
    fclose(f);
    tw_test_context("bad line: %.100s", bad);
    ASSERT_EQ(rc, -1);
    ASSERT_EQ(evs.n, 3); /* the good lines before it were kept */
    tw_vev_list_free(&evs);
    if (strncmp(err, "line 5: column ", 15) != 0) FAIL("error lacks 'line 5: column': %s", err);
    if (!strstr(err, want)) FAIL("error '%s' lacks '%s'", err, want);
}

TEST(malformed_lines_are_rejected_with_line_and_column) {
    expect_rejected("not json", "expected '{'");
    expect_rejected("{\"t\":1,\"kind\":\"state\"", "expected ',' or '}'");
    expect_rejected("{\"t\":-1,\"kind\":\"state\"}", "\"t\": expected a whole number");
    expect_rejected("{\"t\":1.5,\"kind\":\"state\"}", "\"t\": expected a whole number");
    expect_rejected("{\"t\":1e3,\"kind\":\"state\"}", "\"t\": expected a whole number");
    expect_rejected("{\"t\":\"1\",\"kind\":\"state\"}", "\"t\": expected a whole number");
    expect_rejected("{\"t\":01,\"kind\":\"state\"}", "leading zeros");
    expect_rejected("{\"t\":18446744073709551616,\"kind\":\"state\"}",
                    "\"t\": expected a whole number");
    expect_rejected("{\"kind\":\"state\"}", "missing key \"t\"");
    expect_rejected("{\"t\":1}", "missing key \"kind\"");
    expect_rejected("{}", "missing key \"t\"");
    expect_rejected("{\"t\":1,\"kind\":\"bogus\"}", "\"kind\": unknown name \"bogus\"");
    expect_rejected("{\"t\":1,\"kind\":\"?\"}", "unknown name");
    expect_rejected("{\"t\":1,\"kind\":\"seg_out\",\"flags\":\"FIN|XYZ\"}", "unknown name \"XYZ\"");
    expect_rejected("{\"t\":1,\"kind\":\"seg_out\",\"flags\":\"FIN|\"}", "a name must follow '|'");
    expect_rejected("{\"t\":1,\"kind\":\"seg_out\",\"meta\":\"LOUD\"}", "\"meta\": unknown name");
    expect_rejected("{\"t\":1,\"kind\":\"seg_out\",\"seq\":4294967296}",
                    "\"seq\": expected a whole number from 0 to 4294967295");
    expect_rejected("{\"t\":1,\"kind\":\"seg_out\",\"wnd\":65536}", "\"wnd\"");
    expect_rejected("{\"t\":1,\"kind\":\"seg_out\",\"laddr\":\"1.2.3\"}",
                    "expected an IPv4 address");
    expect_rejected("{\"t\":1,\"kind\":\"seg_out\",\"raddr\":\"1.2.3.256\"}",
                    "expected an IPv4 address");
    expect_rejected("{\"t\":1,\"kind\":\"seg_out\",\"raddr\":\" 1.2.3.4\"}",
                    "expected an IPv4 address");
    expect_rejected("{\"t\":1,\"kind\":\"state\",\"old_state\":\"OPEN\"}",
                    "\"old_state\": unknown name");
    expect_rejected("{\"t\":1,\"kind\":\"state\",\"cause\":\"NOPE\"}", "\"cause\": unknown name");
    expect_rejected("{\"t\":1,\"kind\":\"drop\",\"cause\":\"close\"}", "only valid for kinds");
    expect_rejected("{\"t\":1,\"kind\":\"drop\",\"reason\":\"DROP_EVERYTHING\"}",
                    "\"reason\": unknown name");
    expect_rejected("{\"t\":1,\"kind\":\"state\"} x", "after the object");
    expect_rejected("{\"t\":1,\"kind\":\"state\"}{}", "after the object");
    expect_rejected("{\"t\":1,\"kind\":\"state\",\"host_name\":\"a\\u0000b\"}", "\\u0000");
    expect_rejected(
        "{\"t\":1,\"kind\":\"state\",\"host_name\":\"0123456789012345678901234567890123\"}",
        "at most 31 bytes");
    expect_rejected("{\"t\":1,\"kind\":\"state\",\"x\":\"\\q\"}", "unknown escape");
    expect_rejected("{\"t\":1,\"kind\":\"state\",\"x\":\"\\u12\"}", "four hex digits");
    expect_rejected("{\"t\":1,\"kind\":\"state\",\"x\":\"\\ud800\"}", "surrogate");
    expect_rejected("{\"t\":1,\"kind\":\"state\",\"x\":\"a\tb\"}", "control byte 0x09");
    expect_rejected("{\"t\":1,\"kind\":\"state\",\"x\":\"abc}", "string not closed");
    expect_rejected("{\"t\":1,\"kind\":\"state\",\"host_name\":\"caf\xe9\"}",
                    "invalid UTF-8 byte 0xe9");
    expect_rejected("{\"t\":1,\"kind\":\"state\",\"x\":\"\xc0\xaf\"}",
                    "invalid UTF-8"); /* overlong */
    expect_rejected("{\"t\":1,\"kind\":\"state\",\"x\":\"\xed\xa0\x80\"}",
                    "invalid UTF-8"); /* surrogate */
    expect_rejected("{\"t\":1,\"kind\":\"state\",\"x\":}", "expected a value");
    expect_rejected("{\"t\":1,\"kind\":\"state\",}", "expected a key in double quotes");
    expect_rejected("{\"t\" 1,\"kind\":\"state\"}", "expected ':'");
    expect_rejected("{\"t\":1,\"kind\":\"state\",\"x\":tru}", "expected a value");
    expect_rejected("{\"t\":1,\"kind\":\"state\",\"x\":[1,2}", "expected ',' or ']'");
    char deep[200] = "{\"t\":1,\"kind\":\"state\",\"x\":";
    for (int i = 0; i < 40; i++) strcat(deep, "[");
    expect_rejected(deep, "nested deeper than");
}

TEST(error_names_the_column) {
    tw_vev e;
    char err[256];
    const char *line = "{\"t\":1,\"kind\":\"seg_out\",\"seq\":-5}";
    ASSERT_EQ(tw_tj_parse_line(line, strlen(line), &e, err, sizeof err), -1);
    ASSERT_STREQ(err, "column 31: \"seq\": expected a whole number from 0 to 4294967295");
}

TEST(a_nul_byte_or_an_overlong_line_is_an_error) {
    tw_vev e;
    char err[256];
    const char line[] = "{\"t\":1,\"kind\":\"st\0te\"}";
    ASSERT_EQ(tw_tj_parse_line(line, sizeof line - 1, &e, err, sizeof err), -1);
    ASSERT_TRUE(strstr(err, "0x00") != NULL);
    FILE *f = tmpfile();
    ASSERT_TRUE(f != NULL);
    fputs("{\"t\":1,\"kind\":\"state\",\"x\":\"", f);
    for (int i = 0; i < 70000; i++) fputc('a', f);
    fputs("\"}\n", f);
    rewind(f);
    tw_vev_list evs;
    tw_vev_list_init(&evs);
    ASSERT_EQ(tw_tj_read(f, &evs, err, sizeof err), -1);
    fclose(f);
    tw_vev_list_free(&evs);
    ASSERT_TRUE(strstr(err, "line 1: longer than 65536 bytes") != NULL);
}

TEST(unknown_keys_nested_values_blank_lines_and_any_order_are_accepted) {
    const char *text = "\n   \r\n"
                       "{\"future\":{\"a\":[1,2.5e-3,{\"b\":null}],\"c\":true},\"seq\":7,"
                       "\"kind\":\"seg_in\",\"t\":42,\"flags\":0,\"meta\":\"\",\"reason\":null,"
                       "\"cause\":0,\"host_name\":\"caf\\u00e9 \\ud83d\\ude00\"}\r\n"
                       "{\"t\":43,\"kind\":\"timer\",\"cause\":\"retransmit\"}";
    FILE *f = tmpfile();
    ASSERT_TRUE(f != NULL);
    fputs(text, f);
    rewind(f);
    tw_vev_list evs;
    tw_vev_list_init(&evs);
    char err[256];
    int rc = tw_tj_read(f, &evs, err, sizeof err);
    fclose(f);
    if (rc) FAIL("%s", err);
    ASSERT_EQ(evs.n, 2);
    ASSERT_U64_EQ(evs.v[0].ev.t, 42);
    ASSERT_EQ(evs.v[0].ev.seq, 7);
    ASSERT_EQ(evs.v[0].ev.kind, TW_EV_SEG_IN);
    ASSERT_STREQ(evs.v[0].host_name, "caf\xc3\xa9 \xf0\x9f\x98\x80");
    roundtrip_one(&evs.v[0]); /* UTF-8 names are written as they are */
    ASSERT_EQ(evs.v[1].ev.cause, TW_TIMER_RETRANSMIT);
    tw_vev_list_free(&evs);
}

/* Random corruption of real lines: the parser answers (0, 1 or -1 with a
 * message) and never reads outside the line (ASan builds check that). */
TEST(corrupted_lines_never_crash) {
    tw_vev_list evs;
    tw_vev_list_init(&evs);
    ASSERT_EQ(capture_scenario(TW_SCN_THREE_WAY, 3, 0, &evs, NULL), 0);
    tw_rng rng;
    tw_rng_seed(&rng, 12345);
    int rejected = 0;
    for (int round = 0; round < 20000; round++) {
        char line[1024], err[256];
        size_t n = tw_tj_format(&evs.v[round % evs.n], line, sizeof line) - 1;
        int edits = 1 + (int)(tw_rng_next(&rng) % 4);
        for (int k = 0; k < edits && n > 0; k++) {
            size_t at = (size_t)(tw_rng_next(&rng) % n);
            switch (tw_rng_next(&rng) % 3) {
            case 0: line[at] = (char)(tw_rng_next(&rng) & 0xff); break;
            case 1: n = at; break; /* truncate */
            default: line[at] = "{}[]\",:\\0-e."[tw_rng_next(&rng) % 13]; break;
            }
        }
        char *copy = malloc(n ? n : 1); /* exact size: ASan catches any overread */
        ASSERT_TRUE(copy != NULL);
        memcpy(copy, line, n);
        tw_vev e;
        err[0] = '\0';
        int rc = tw_tj_parse_line(copy, n, &e, err, sizeof err);
        free(copy);
        ASSERT_TRUE(rc == 0 || rc == 1 || rc == -1);
        if (rc == -1) {
            rejected++;
            ASSERT_TRUE(strncmp(err, "column ", 7) == 0);
        }
    }
    ASSERT_CMP(rejected, >, 10000);
    tw_vev_list_free(&evs);
}

TEST_MAIN()
