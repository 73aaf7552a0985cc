/* test_adapter.c - tw_packetdrill.so driven the way packetdrill drives it:
 * loaded with dlopen, initialised through packetdrill_interface_init with a
 * flags string, then socket calls, raw IPv4 packets in (netdev_send) and out
 * (netdev_receive), and the virtual clock (usleep, gettimeofday), including
 * a blocking accept() in a second thread. TW_PD_ADAPTER is the library's
 * path (set by CMakeLists.txt). */
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "test.h"

#include "adapter/pd_iface.h"
#include "wire/tcp_hdr.h"

#define STACK_IP 0xC0A80001u /* 192.168.0.1 */
#define PEER_IP 0xC0000201u  /* 192.0.2.1 */
#define PEER_PORT 5000
#define PEER_ISN 100u

static struct pd_iface ifc;
static void *lib;

static void load(const char *flags) {
    if (!lib) lib = dlopen(TW_PD_ADAPTER, RTLD_NOW | RTLD_LOCAL);
    if (!lib) FAIL("dlopen %s: %s", TW_PD_ADAPTER, dlerror());
    void *sym = dlsym(lib, "packetdrill_interface_init");
    if (!sym) FAIL("no packetdrill_interface_init in the library");
    pd_iface_init_fn init;
    memcpy(&init, &sym, sizeof init);
    memset(&ifc, 0, sizeof ifc);
    init(flags, &ifc);
    ASSERT_TRUE(ifc.userdata && ifc.socket && ifc.netdev_receive && ifc.gettimeofday && ifc.poll);
}

static void unload(void) {
    ifc.free(ifc.userdata);
}

/* A segment from the peer to the stack's port 8080. */
static void inject(uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len) {
    static const uint8_t zeros[64];
    tw_tcp_seg s;
    uint8_t buf[256];
    memset(&s, 0, sizeof s);
    s.src_addr = PEER_IP;
    s.dst_addr = STACK_IP;
    s.src_port = PEER_PORT;
    s.dst_port = 8080;
    s.seq = tw_seq(seq);
    s.ack = tw_seq(ack);
    s.flags = flags;
    s.wnd = 65535;
    s.payload = zeros;
    s.len = len;
    if (flags & TW_TH_SYN) {
        s.opt.has_mss = true;
        s.opt.mss = 1460;
    }
    int n = tw_packet_emit(&s, 1, buf, sizeof buf);
    ASSERT_CMP(n, >, 0);
    ASSERT_EQ(ifc.netdev_send(ifc.userdata, buf, (size_t)n), 0);
}

/* The next packet the stack sends; returns its send time (us). */
static long long sniff(tw_tcp_seg *s, uint8_t flags, uint32_t len) {
    static uint8_t buf[2048];
    size_t n = sizeof buf;
    long long t = 0;
    ASSERT_EQ(ifc.netdev_receive(ifc.userdata, buf, &n, &t), 0);
    ASSERT_EQ(tw_packet_parse(buf, n, s), 0);
    ASSERT_EQ(s->flags, flags);
    ASSERT_EQ(s->len, len);
    ASSERT_EQ(s->src_addr, STACK_IP);
    ASSERT_EQ(s->dst_addr, PEER_IP);
    return t;
}

static int listener(void) {
    int fd = ifc.socket(ifc.userdata, AF_INET, SOCK_STREAM, IPPROTO_TCP);
    ASSERT_CMP(fd, >=, 0);
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(8080);
    ASSERT_EQ(ifc.bind(ifc.userdata, fd, (struct sockaddr *)&sin, sizeof sin), 0);
    ASSERT_EQ(ifc.listen(ifc.userdata, fd, 4), 0);
    return fd;
}

/* SYN, SYN-ACK, ACK; returns the stack's ISS. */
static uint32_t handshake(void) {
    tw_tcp_seg s;
    inject(TW_TH_SYN, PEER_ISN, 0, 0);
    sniff(&s, TW_TH_SYN | TW_TH_ACK, 0);
    ASSERT_EQ(s.ack.v, PEER_ISN + 1);
    ASSERT_TRUE(s.opt.has_mss);
    inject(TW_TH_ACK, PEER_ISN + 1, s.seq.v + 1, 0);
    return s.seq.v;
}

static long long tod_us(void) {
    struct timeval tv;
    ASSERT_EQ(ifc.gettimeofday(ifc.userdata, &tv, NULL), 0);
    return (long long)tv.tv_sec * 1000000ll + tv.tv_usec;
}

TEST(adapter_handshake_data_and_four_way_close) {
    load("addr=192.168.0.1,msl=1s");
    int lfd = listener();
    uint32_t iss = handshake();
    struct sockaddr_in peer;
    socklen_t plen = sizeof peer;
    int fd = ifc.accept(ifc.userdata, lfd, (struct sockaddr *)&peer, &plen);
    ASSERT_CMP(fd, >=, 0);
    ASSERT_EQ(ntohs(peer.sin_port), PEER_PORT);
    ASSERT_EQ(ifc.write(ifc.userdata, fd, "0123456789", 10), 10);
    tw_tcp_seg s;
    sniff(&s, TW_TH_PSH | TW_TH_ACK, 10);
    ASSERT_EQ(s.seq.v, iss + 1);
    inject(TW_TH_ACK | TW_TH_PSH, PEER_ISN + 1, iss + 11, 5);
    char buf[16];
    ASSERT_EQ(ifc.read(ifc.userdata, fd, buf, sizeof buf), 5);
    ASSERT_EQ(ifc.close(ifc.userdata, fd), 0);
    sniff(&s, TW_TH_FIN | TW_TH_ACK, 0); /* carries the ACK of the 5 bytes */
    ASSERT_EQ(s.ack.v, PEER_ISN + 6);
    inject(TW_TH_FIN | TW_TH_ACK, PEER_ISN + 6, iss + 12, 0);
    sniff(&s, TW_TH_ACK, 0);
    ASSERT_EQ(s.ack.v, PEER_ISN + 7);
    ASSERT_EQ(ifc.close(ifc.userdata, lfd), 0);
    ASSERT_EQ(ifc.close(ifc.userdata, lfd), -1);
    ASSERT_EQ(errno, EBADF);
    unload();
}

static atomic_int accepted;

static void *accept_thread(void *arg) {
    int lfd = *(int *)arg;
    atomic_store(&accepted, ifc.accept(ifc.userdata, lfd, NULL, NULL));
    return NULL;
}

static atomic_long got;

static void *read_thread(void *arg) {
    char buf[64];
    atomic_store(&got, (long)ifc.read(ifc.userdata, *(int *)arg, buf, sizeof buf));
    return NULL;
}

TEST(adapter_blocking_accept_returns_after_the_handshake) {
    load("");
    int lfd = listener();
    pthread_t th;
    atomic_store(&accepted, -2);
    ASSERT_EQ(pthread_create(&th, NULL, accept_thread, &lfd), 0);
    struct timespec pause = {0, 50000000};
    nanosleep(&pause, NULL); /* let it block */
    ASSERT_EQ(atomic_load(&accepted), -2);
    handshake();
    ASSERT_EQ(pthread_join(th, NULL), 0);
    ASSERT_CMP(atomic_load(&accepted), >=, 0);
    ASSERT_EQ(ifc.close(ifc.userdata, atomic_load(&accepted)), 0);
    unload();
}

TEST(adapter_blocking_read_woken_by_data_and_poll) {
    load("");
    int lfd = listener();
    uint32_t iss = handshake();
    int fd = ifc.accept(ifc.userdata, lfd, NULL, NULL);
    ASSERT_CMP(fd, >=, 0);
    struct pollfd pfd = {fd, POLLIN | POLLOUT, 0};
    ASSERT_EQ(ifc.poll(ifc.userdata, &pfd, 1, 0), 1);
    ASSERT_EQ(pfd.revents, POLLOUT); /* writable, nothing to read yet */
    pthread_t th;
    atomic_store(&got, -2);
    ASSERT_EQ(pthread_create(&th, NULL, read_thread, &fd), 0);
    struct timespec pause = {0, 50000000};
    nanosleep(&pause, NULL); /* let it block */
    ASSERT_EQ(atomic_load(&got), -2);
    inject(TW_TH_ACK | TW_TH_PSH, PEER_ISN + 1, iss + 1, 7);
    ASSERT_EQ(pthread_join(th, NULL), 0);
    ASSERT_EQ(atomic_load(&got), 7);
    /* the delayed ACK of those 7 bytes: netdev_receive runs the clock 200 ms */
    long long t0 = tod_us();
    tw_tcp_seg s;
    long long t1 = sniff(&s, TW_TH_ACK, 0);
    ASSERT_EQ(s.ack.v, PEER_ISN + 8);
    ASSERT_CMP(t1 - t0, >=, 199000);
    ASSERT_CMP(t1 - t0, <=, 201000);
    unload();
}

TEST(adapter_virtual_clock_runs_to_the_retransmission) {
    load("rto_initial=1s");
    int lfd = listener();
    uint32_t iss = handshake();
    int fd = ifc.accept(ifc.userdata, lfd, NULL, NULL);
    ASSERT_CMP(fd, >=, 0);
    long long t0 = tod_us();
    ASSERT_EQ(ifc.close(ifc.userdata, fd), 0);
    tw_tcp_seg s;
    long long t1 = sniff(&s, TW_TH_FIN | TW_TH_ACK, 0);
    ASSERT_CMP(t1 - t0, <, 1000);
    long long t2 = sniff(&s, TW_TH_FIN | TW_TH_ACK, 0); /* nobody ACKed: the RTO fires */
    ASSERT_EQ(s.seq.v, iss + 1);
    ASSERT_EQ(t2 - t1, 1000000);
    ASSERT_CMP(tod_us() - t2, <, 1000);
    ASSERT_EQ(ifc.usleep(ifc.userdata, 250000), 0);
    long long t3 = tod_us();
    ASSERT_CMP(t3 - t2, >=, 250000);
    ASSERT_CMP(t3 - t2, <, 251000);
    unload();
}

TEST(adapter_netdev_receive_ends_when_nothing_will_come) {
    load(NULL);
    int lfd = listener();
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    uint8_t buf[256];
    size_t n = sizeof buf;
    long long t;
    /* an empty packet, not an error: packetdrill retries errors for ever */
    ASSERT_EQ(ifc.netdev_receive(ifc.userdata, buf, &n, &t), 0);
    ASSERT_EQ(n, 0);
    clock_gettime(CLOCK_MONOTONIC, &b);
    ASSERT_CMP(b.tv_sec - a.tv_sec, <, 3);
    ASSERT_EQ(ifc.close(ifc.userdata, lfd), 0);
    unload();
}

TEST(adapter_linger_zero_close_sends_rst) {
    load("addr=192.168.0.1");
    int lfd = listener();
    uint32_t iss = handshake();
    int fd = ifc.accept(ifc.userdata, lfd, NULL, NULL);
    struct linger l = {1, 0};
    ASSERT_EQ(ifc.setsockopt(ifc.userdata, fd, SOL_SOCKET, SO_LINGER, &l, sizeof l), 0);
    ASSERT_EQ(ifc.close(ifc.userdata, fd), 0);
    tw_tcp_seg s;
    sniff(&s, TW_TH_RST, 0);
    ASSERT_EQ(s.seq.v, iss + 1);
    unload();
}

TEST(adapter_nonblocking_connect_and_so_error) {
    load("addr=192.168.0.1");
    int fd = ifc.socket(ifc.userdata, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(8080);
    sin.sin_addr.s_addr = htonl(PEER_IP);
    ASSERT_EQ(ifc.connect(ifc.userdata, fd, (struct sockaddr *)&sin, sizeof sin), -1);
    ASSERT_EQ(errno, EINPROGRESS);
    ASSERT_EQ(ifc.connect(ifc.userdata, fd, (struct sockaddr *)&sin, sizeof sin), -1);
    ASSERT_EQ(errno, EALREADY);
    static uint8_t buf[256];
    size_t n = sizeof buf;
    long long t;
    tw_tcp_seg s;
    ASSERT_EQ(ifc.netdev_receive(ifc.userdata, buf, &n, &t), 0);
    ASSERT_EQ(tw_packet_parse(buf, n, &s), 0);
    ASSERT_EQ(s.flags, TW_TH_SYN);
    /* refused: RST|ACK */
    tw_tcp_seg r;
    memset(&r, 0, sizeof r);
    r.src_addr = PEER_IP, r.dst_addr = STACK_IP, r.src_port = 8080, r.dst_port = s.src_port;
    r.flags = TW_TH_RST | TW_TH_ACK, r.ack = tw_seq(s.seq.v + 1);
    int len = tw_packet_emit(&r, 2, buf, sizeof buf);
    ASSERT_EQ(ifc.netdev_send(ifc.userdata, buf, (size_t)len), 0);
    int err = 0;
    socklen_t el = sizeof err;
    ASSERT_EQ(ifc.getsockopt(ifc.userdata, fd, SOL_SOCKET, SO_ERROR, &err, &el), 0);
    ASSERT_EQ(err, ECONNREFUSED);
    ASSERT_EQ(ifc.close(ifc.userdata, fd), 0);
    unload();
}

TEST(adapter_bad_flags_fail_every_call) {
    load("bogus=1");
    ASSERT_EQ(ifc.socket(ifc.userdata, AF_INET, SOCK_STREAM, 0), -1);
    ASSERT_EQ(errno, EINVAL);
    unload();
}

TEST_MAIN()
