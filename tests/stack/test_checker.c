/* test_checker.c - the table checker (tw__stack_check) is the oracle of
 * every stack test, the soak and fuzz_stack, so it is tested itself: a
 * healthy stack passes, and each corruption below makes it abort with the
 * axiom it breaks. Each case runs the checker in a child process and reads
 * the message it prints. The corruptions sit at the ends of the scans
 * (last bucket, last port word, the slot just past the high-water mark), so
 * a scan that stops early or skips a block is caught. */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sx.h"
#include "test.h"

#include "stack/stack.h"

/* Runs tw__stack_check(st) in a child; returns what it wrote to stderr if it
 * died of SIGABRT, or "" if it returned. */
static const char *check_in_child(const tw_stack *st, char *msg, size_t cap) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    ASSERT_TRUE(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        tw__stack_check(st);
        _exit(0);
    }
    close(fds[1]);
    size_t n = 0;
    ssize_t r;
    while (n + 1 < cap && (r = read(fds[0], msg + n, cap - 1 - n)) > 0) n += (size_t)r;
    msg[n] = '\0';
    close(fds[0]);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    if (WIFEXITED(status)) {
        ASSERT_EQ(WEXITSTATUS(status), 0);
        return "";
    }
    ASSERT_TRUE(WIFSIGNALED(status));
    ASSERT_EQ(WTERMSIG(status), SIGABRT);
    return msg;
}

/* A stack with one open connection (slot 0, socket held port). */
static void open_one(sx *x, sx_conn *c) {
    sx_init(x, NULL);
    size_t cur = 0;
    sx_active_open(x, c, 80, 9000, &cur);
    ASSERT_EQ(x->st->slot_hwm, 1u);
    ASSERT_EQ(x->st->nlive, 1u);
}

static void expect_abort(const tw_stack *st, const char *what) {
    char msg[512];
    const char *got = check_in_child(st, msg, sizeof msg);
    if (!strstr(got, what))
        tw_test_fail(__FILE__, __LINE__, "expected \"%s\", the checker said \"%s\"", what, got);
}

TEST(healthy_stack_passes) {
    sx x;
    sx_conn c;
    open_one(&x, &c);
    char msg[512];
    ASSERT_STREQ(check_in_child(x.st, msg, sizeof msg), "");
    sx_free(&x);
}

TEST(entry_moved_to_the_last_bucket_is_found_there) {
    sx x;
    sx_conn c;
    open_one(&x, &c);
    tw_stack *st = x.st;
    uint32_t last = st->nbuckets - 1, from = st->nbuckets;
    for (uint32_t b = 0; b < st->nbuckets; b++)
        if (st->buckets[b] != TW_NIL) from = b;
    ASSERT_TRUE(from < last); /* the 4-tuple of this test does not hash there */
    st->buckets[last] = st->buckets[from];
    st->buckets[from] = TW_NIL;
    expect_abort(st, "entry in the wrong bucket");
    st->buckets[from] = st->buckets[last];
    st->buckets[last] = TW_NIL;
    sx_free(&x);
}

TEST(port_bit_in_the_last_word_without_a_socket) {
    sx x;
    sx_conn c;
    open_one(&x, &c);
    ASSERT_FALSE(tw__port_used(x.st, 65535));
    tw__port_hold(x.st, 65535);
    expect_abort(x.st, "port bitmap holds ports no socket holds");
    tw__port_drop(x.st, 65535);
    sx_free(&x);
}

/* A slot handed out without moving the high-water mark would be beyond
 * every scan; the live count still gives it away. */
TEST(live_slot_past_the_high_water_mark) {
    sx x;
    sx_conn c;
    open_one(&x, &c);
    tw_stack *st = x.st;
    tw_slot *s = tw__slot(st, st->slot_hwm);
    ASSERT_EQ(s->in_use, 0);
    s->in_use = 1;
    st->nlive++;
    expect_abort(st, "live slot count");
    s->in_use = 0;
    st->nlive--;
    st->slot_hwm = st->nslots + 1;
    expect_abort(st, "slot high-water mark");
    st->slot_hwm = 1;
    sx_free(&x);
}

TEST(open_connection_missing_from_the_table) {
    sx x;
    sx_conn c;
    open_one(&x, &c);
    tw_stack *st = x.st;
    tw_slot *s = tw__slot(st, 0);
    ASSERT_EQ(s->c.state, TW_ESTABLISHED);
    s->in_hash = 0;
    expect_abort(st, "stale slot in table");
    s->in_hash = 1;
    sx_free(&x);
}

/* Two entries with one 4-tuple in a chain: a lookup would only ever find
 * the first, so the second connection could never get a segment. */
TEST(two_entries_share_a_4_tuple) {
    sx x;
    sx_conn c0, c1;
    size_t cur = 0;
    sx_init(&x, NULL);
    sx_active_open(&x, &c0, 80, 9000, &cur);
    sx_active_open(&x, &c1, 81, 9000, &cur);
    tw_stack *st = x.st;
    ASSERT_EQ(st->slot_hwm, 2u);
    tw_slot *s0 = tw__slot(st, 0), *s1 = tw__slot(st, 1);
    uint32_t b0 = st->nbuckets, b1 = st->nbuckets;
    for (uint32_t b = 0; b < st->nbuckets; b++) {
        if (st->buckets[b] == 0) b0 = b;
        if (st->buckets[b] == 1) b1 = b;
    }
    ASSERT_TRUE(b0 < st->nbuckets && b1 < st->nbuckets && b0 != b1);
    ASSERT_EQ(s0->hnext, TW_NIL);
    ASSERT_EQ(s1->hnext, TW_NIL);
    tw_slot saved = *s1;
    /* slot 1 takes slot 0's 4-tuple and goes ahead of it in its chain */
    s1->c.lport = s0->c.lport;
    s1->c.rport = s0->c.rport;
    s1->hash = s0->hash;
    st->buckets[b1] = TW_NIL;
    s1->hnext = 0;
    st->buckets[b0] = 1;
    expect_abort(st, "4-tuple shared");
    /* a chain that loops back on itself */
    st->buckets[b0] = 0;
    s0->hnext = 0;
    expect_abort(st, "more entries than hashed");
    s0->hnext = TW_NIL;
    *s1 = saved;
    st->buckets[b1] = 1;
    char msg[512];
    ASSERT_STREQ(check_in_child(st, msg, sizeof msg), "");
    sx_free(&x);
}

TEST_MAIN()
