/* test_pcap.c - unit tests for link/pcap.c: the file header and record
 * layout byte for byte, snaplen truncation, errors, and the tap decorator
 * recording what goes through send() and recv() of the link it wraps. */
#include "test.h"

#include <unistd.h>

#include <tcpwave/tw_errno.h>

#include "link/pcap.h"

static char path[64];

static void tmp_path(void) {
    snprintf(path, sizeof path, "/tmp/tw-test-pcap.XXXXXX");
    int fd = mkstemp(path);
    ASSERT_TRUE(fd >= 0);
    close(fd);
}

static size_t slurp(uint8_t *buf, size_t cap) {
    FILE *f = fopen(path, "rb");
    ASSERT_TRUE(f != NULL);
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static uint32_t u32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint16_t u16(const uint8_t *p) {
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

TEST(pcap_header_and_records) {
    tmp_path();
    tw_pcap *p;
    ASSERT_EQ(tw_pcap_open(path, TW_PCAP_LINKTYPE_RAW, &p), 0);
    const uint8_t pkt[5] = {0x45, 1, 2, 3, 4};
    ASSERT_EQ(tw_pcap_write(p, 1700000000123456789ull, pkt, sizeof pkt), 0);
    ASSERT_EQ(tw_pcap_write(p, 999, pkt, 0), 0);
    ASSERT_U64_EQ(tw_pcap_count(p), 2);
    ASSERT_EQ(tw_pcap_close(p), 0);
    static uint8_t b[256];
    size_t n = slurp(b, sizeof b);
    ASSERT_EQ(n, 24 + 16 + 5 + 16);
    ASSERT_U64_EQ(u32(b), 0xa1b2c3d4u);
    ASSERT_EQ(u16(b + 4), 2);
    ASSERT_EQ(u16(b + 6), 4);
    ASSERT_U64_EQ(u32(b + 8), 0);
    ASSERT_U64_EQ(u32(b + 12), 0);
    ASSERT_U64_EQ(u32(b + 16), TW_PCAP_SNAPLEN);
    ASSERT_U64_EQ(u32(b + 20), 101);
    ASSERT_U64_EQ(u32(b + 24), 1700000000u);
    ASSERT_U64_EQ(u32(b + 28), 123456u); /* microseconds, truncated */
    ASSERT_U64_EQ(u32(b + 32), 5);
    ASSERT_U64_EQ(u32(b + 36), 5);
    ASSERT_MEMEQ(b + 40, pkt, 5);
    ASSERT_U64_EQ(u32(b + 45), 0);
    ASSERT_U64_EQ(u32(b + 49), 0); /* 999 ns -> 0 us */
    ASSERT_U64_EQ(u32(b + 53), 0);
    unlink(path);
}

TEST(pcap_truncates_to_snaplen) {
    tmp_path();
    tw_pcap *p;
    ASSERT_EQ(tw_pcap_open(path, TW_PCAP_LINKTYPE_IPV4, &p), 0);
    static uint8_t big[70000];
    ASSERT_EQ(tw_pcap_write(p, 0, big, sizeof big), 0);
    ASSERT_EQ(tw_pcap_close(p), 0);
    static uint8_t b[80000];
    size_t n = slurp(b, sizeof b);
    ASSERT_EQ(n, 24 + 16 + TW_PCAP_SNAPLEN);
    ASSERT_U64_EQ(u32(b + 20), 228);
    ASSERT_U64_EQ(u32(b + 32), TW_PCAP_SNAPLEN);
    ASSERT_U64_EQ(u32(b + 36), 70000);
    unlink(path);
}

TEST(pcap_open_errors) {
    tw_pcap *p = NULL;
    ASSERT_EQ(tw_pcap_open("/tmp/x.pcap", 1, &p), -TW_EINVAL); /* Ethernet: not ours */
    ASSERT_TRUE(tw_pcap_open("/nonexistent-dir/x.pcap", TW_PCAP_LINKTYPE_RAW, &p) < 0);
    ASSERT_EQ(tw_pcap_close(NULL), 0);
}

/* ---- the tap around a fake link ---- */

typedef struct fake {
    tw_link link;
    int sent, closed;
    uint64_t last_now;
    int to_give; /* packets recv() still hands out */
} fake;

static int f_send(tw_link *l, const uint8_t *pkt, size_t len, uint64_t now) {
    (void)pkt;
    (void)len;
    fake *f = (fake *)l;
    f->sent++;
    f->last_now = now;
    return -TW_EAGAIN; /* the tap passes the inner result through */
}
static int f_recv(tw_link *l, uint8_t *buf, size_t cap, uint64_t now) {
    (void)now;
    fake *f = (fake *)l;
    if (!f->to_give || cap < 3) return 0;
    f->to_give--;
    buf[0] = 0x45;
    buf[1] = 0xee;
    buf[2] = (uint8_t)f->to_give;
    return 3;
}
static uint64_t f_next(tw_link *l) {
    (void)l;
    return 1234;
}
static int f_fd(tw_link *l) {
    (void)l;
    return 42;
}
static void f_close(tw_link *l) {
    ((fake *)l)->closed++;
}
static const struct tw_link_ops fake_ops = {f_send, f_recv, f_next, f_fd, f_close};

TEST(pcap_tap_records_both_directions) {
    tmp_path();
    tw_pcap *p;
    ASSERT_EQ(tw_pcap_open(path, TW_PCAP_LINKTYPE_RAW, &p), 0);
    fake f = {{&fake_ops}, 0, 0, 0, 2};
    tw_pcap_tap tap;
    tw_pcap_tap_init(&tap, &f.link, p, 1000000000); /* +1 s */
    tw_link *l = &tap.link;
    const uint8_t out[4] = {0x45, 9, 9, 9};
    ASSERT_EQ(l->ops->send(l, out, sizeof out, 5000), -TW_EAGAIN);
    ASSERT_EQ(f.sent, 1);
    ASSERT_U64_EQ(f.last_now, 5000); /* the inner link sees the real now */
    uint8_t buf[16];
    ASSERT_EQ(l->ops->recv(l, buf, sizeof buf, 7000000), 3);
    ASSERT_EQ(l->ops->recv(l, buf, sizeof buf, 8000000), 3);
    ASSERT_EQ(l->ops->recv(l, buf, sizeof buf, 9000000), 0); /* nothing: not recorded */
    tw_pcap_tap_record(&tap, out, 2, 2000000000);
    ASSERT_U64_EQ(l->ops->next_arrival(l), 1234);
    ASSERT_EQ(l->ops->poll_fd(l), 42);
    l->ops->close(l);
    ASSERT_EQ(f.closed, 1);
    ASSERT_U64_EQ(tw_pcap_count(p), 4);
    ASSERT_EQ(tw_pcap_close(p), 0);
    static uint8_t b[256];
    size_t n = slurp(b, sizeof b);
    ASSERT_EQ(n, 24 + (16 + 4) + 2 * (16 + 3) + (16 + 2));
    ASSERT_U64_EQ(u32(b + 24), 1); /* 5000 ns + 1 s */
    ASSERT_U64_EQ(u32(b + 28), 5);
    ASSERT_MEMEQ(b + 40, out, 4);
    ASSERT_U64_EQ(u32(b + 44 + 4), 7000); /* received at 7 ms */
    ASSERT_EQ(b[44 + 16 + 1], 0xee);
    ASSERT_U64_EQ(u32(b + 63), 1); /* second received packet, 1 s + 8 ms */
    ASSERT_U64_EQ(u32(b + 63 + 4), 8000);
    ASSERT_U64_EQ(u32(b + 82), 3); /* recorded by the driver at 2 s + 1 s */
    unlink(path);
}

TEST_MAIN()
