/* fuzz_wire.c - libFuzzer target for the wire layer: the checksum, the TCP
 * option parser, the TCP header parser and whole-packet parsing, with an
 * emit -> re-parse round trip that must reproduce every parsed field.
 *
 * Random mutations almost never keep checksums right, which would stop the
 * fuzzer at the checksum checks; so each input is also tried as a copy with
 * its IPv4 and TCP checksums repaired, reaching options, flags and ports.
 * Any violated property calls abort() so libFuzzer records the input.
 *
 * Build: clang -g -fsanitize=fuzzer,address,undefined -Iinclude -Isrc with
 * every .c file of src/wire and src/util plus this file.
 * Run:   ./fuzz_wire -max_total_time=60 /tmp/new_corpus fuzz/corpus/wire
 * (new inputs go to the first directory, keeping the seed directory clean). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <tcpwave/tw_errno.h>
#include <tcpwave/tw_stats.h>

#include "wire/cksum.h"
#include "wire/ipv4.h"
#include "wire/tcp_hdr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) abort();                                                                         \
    } while (0)

/* RFC 1071 §4.1 reference: one 16-bit word at a time, end-around carry. */
static uint16_t naive_cksum(const uint8_t *p, size_t len) {
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2) {
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
        sum = (sum & 0xffff) + (sum >> 16);
    }
    if (len & 1) {
        sum += (uint32_t)p[len - 1] << 8;
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)~sum;
}

/* The fast checksum must equal the reference, also when chained at an even
 * split point chosen by the input. */
static void fuzz_cksum(const uint8_t *data, size_t size) {
    uint16_t want = naive_cksum(data, size);
    CHECK(tw_cksum_fin(tw_cksum_add(0, data, size)) == want);
    if (size >= 2) {
        size_t cut = (data[0] % (size / 2 + 1)) * 2;
        uint64_t acc = tw_cksum_add(0, data, cut);
        CHECK(tw_cksum_fin(tw_cksum_add(acc, data + cut, size - cut)) == want);
    }
}

/* Round-trip invariant for options: everything parse reports is emitted and
 * read back identically, except SACK blocks beyond the 40-byte area. */
static void check_opts_same(const tw_tcp_opts *a, const tw_tcp_opts *b) {
    CHECK(a->has_mss == b->has_mss && (!a->has_mss || a->mss == b->mss));
    CHECK(a->has_ws == b->has_ws && (!a->has_ws || a->ws == b->ws));
    CHECK(a->sack_ok == b->sack_ok);
    CHECK(a->has_ts == b->has_ts);
    CHECK(!a->has_ts || (a->tsval == b->tsval && a->tsecr == b->tsecr));
    unsigned n = tw_tcp_opts_emit_nsack(a);
    CHECK(n <= a->nsack && b->nsack == n);
    /* Blocks are only left out when the options area is full. */
    CHECK(n == a->nsack || tw_tcp_opts_emit_len(a) > 40 - 12);
    for (unsigned i = 0; i < n; i++)
        CHECK(a->sack[i].left == b->sack[i].left && a->sack[i].right == b->sack[i].right);
}

static void fuzz_opts(const uint8_t *data, size_t size) {
    tw_tcp_opts o, r;
    if (tw_tcp_opts_parse(data, size, &o) != 0) return;
    CHECK(o.ws <= TW_TCP_MAX_WS && o.nsack <= TW_TCP_MAX_SACK);
    uint8_t buf[40];
    int n = tw_tcp_opts_emit(&o, buf, sizeof buf);
    CHECK(n >= 0 && n % 4 == 0 && (size_t)n == tw_tcp_opts_emit_len(&o));
    CHECK(tw_tcp_opts_parse(buf, (size_t)n, &r) == 0);
    check_opts_same(&o, &r);
}

static void check_seg_same(const tw_tcp_seg *a, const tw_tcp_seg *b) {
    CHECK(a->src_addr == b->src_addr && a->dst_addr == b->dst_addr);
    CHECK(a->src_port == b->src_port && a->dst_port == b->dst_port);
    CHECK(a->seq.v == b->seq.v && a->ack.v == b->ack.v);
    CHECK(a->flags == b->flags && a->wnd == b->wnd && a->urp == b->urp);
    check_opts_same(&a->opt, &b->opt);
    CHECK(a->len == b->len);
    CHECK(a->len == 0 || memcmp(a->payload, b->payload, a->len) == 0);
}

/* Parses a whole packet; on success checks the payload lies inside the
 * input, then re-emits and re-parses it. */
static void fuzz_packet(const uint8_t *data, size_t size) {
    tw_tcp_seg s, r;
    if (tw_packet_parse(data, size, &s) != 0) return;
    CHECK(s.payload >= data && s.payload + s.len <= data + size);
    CHECK(s.src_port != 0 && s.dst_port != 0);

    size_t cap = TW_IPV4_HDR_LEN + tw_tcp_hdr_emit_len(&s) + s.len;
    uint8_t *out = malloc(cap);
    CHECK(out != NULL);
    int n = tw_packet_emit(&s, 7, out, cap);
    if (n < 0) {
        /* Only legitimate when emitted options outgrow the original ones so
         * the packet no longer fits in 65535 bytes. */
        CHECK(cap > 65535);
    } else {
        CHECK((size_t)n == cap);
        CHECK(tw_packet_parse(out, (size_t)n, &r) == 0);
        check_seg_same(&s, &r);
        /* Emitting the re-parsed segment yields the same bytes again. */
        uint8_t *again = malloc(cap);
        CHECK(again != NULL);
        CHECK(tw_packet_emit(&r, 7, again, cap) == n);
        CHECK(memcmp(out, again, cap) == 0);
        free(again);
    }
    free(out);
}

/* The TCP parser alone on raw bytes, with fixed pseudo-header addresses. */
static void fuzz_tcp_raw(const uint8_t *data, size_t size) {
    tw_tcp_view v;
    tw_tcp_seg s;
    if (tw_tcp_view_init(&v, data, size) != 0) return;
    CHECK(v.hdr_len >= 20 && v.hdr_len <= 60 && v.hdr_len <= size);
    if (tw_tcp_parse(&v, 0x0a000001u, 0x0a000002u, &s) == 0)
        CHECK(s.payload == data + v.hdr_len && s.len == size - v.hdr_len);
}

static void put16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* Repairs the IPv4 header checksum and, where the lengths allow, the TCP
 * checksum of a copy of the input. Returns false if nothing could be fixed. */
static int fix_checksums(uint8_t *p, size_t size) {
    if (size < 20) return 0;
    size_t ihl = (size_t)(p[0] & 0x0f) * 4;
    if (ihl < 20 || ihl > size) return 0;
    put16(p + 10, 0);
    put16(p + 10, tw_cksum_fin(tw_cksum_add(0, p, ihl)));
    size_t total = (size_t)(p[2] << 8 | p[3]);
    if (total > size) total = size;
    if (total < ihl + 20) return 1;
    size_t tlen = total - ihl;
    uint8_t *t = p + ihl;
    uint32_t src = (uint32_t)p[12] << 24 | (uint32_t)p[13] << 16 | (uint32_t)p[14] << 8 | p[15];
    uint32_t dst = (uint32_t)p[16] << 24 | (uint32_t)p[17] << 16 | (uint32_t)p[18] << 8 | p[19];
    put16(t + 16, 0);
    uint64_t acc = tw_cksum_pseudo(src, dst, TW_IPPROTO_TCP, (uint16_t)tlen);
    put16(t + 16, tw_cksum_fin(tw_cksum_add(acc, t, tlen)));
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 65535 + 64) return 0;
    fuzz_cksum(data, size);
    fuzz_opts(data, size);
    fuzz_tcp_raw(data, size);
    fuzz_packet(data, size);

    /* The same bytes with repaired checksums, to get past the checksums. */
    uint8_t *copy = malloc(size ? size : 1);
    CHECK(copy != NULL);
    if (size) memcpy(copy, data, size);
    if (fix_checksums(copy, size)) fuzz_packet(copy, size);
    /* Also the TCP parser on what follows a 20-byte IP header. */
    if (size > 20) {
        fuzz_opts(copy + 20, size - 20 < 40 ? size - 20 : 40);
        fuzz_tcp_raw(copy + 20, size - 20);
    }
    free(copy);
    return 0;
}
