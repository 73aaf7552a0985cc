/* an_pcap.c - owns reading captures for the analyzer: libpcap opens pcap
 * and pcapng (from a file or from memory), this file strips the link layer
 * (Ethernet with VLAN tags, raw IP, Linux cooked SLL and SLL2, BSD
 * loopback/null) and hands the IPv4 header to src/wire's checked view, then
 * reads the TCP header fields the close analysis needs. TCP checksums are
 * not checked: captures taken on the sending host (loopback, offload)
 * carry partial ones. A corrupt or truncated record is an error that names
 * the frame; a frame that is not TCP over IPv4 is counted and skipped. */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "wire/ipv4.h"
#include "wire/tcp_hdr.h"

struct tw_an_reader {
    pcap_t *pc;
    FILE *mem; /* fmemopen stream for tw_an_open_mem (pcap_close closes it) */
    int dlt;
    uint64_t frames, skipped;
};

static int finish_open(tw_an_reader *r, char *err, size_t cap) {
    r->dlt = pcap_datalink(r->pc);
    switch (r->dlt) {
    case DLT_EN10MB:
    case DLT_RAW:
    case DLT_IPV4:
    case DLT_LINUX_SLL:
#ifdef DLT_LINUX_SLL2
    case DLT_LINUX_SLL2:
#endif
    case DLT_NULL:
    case DLT_LOOP: return 0;
    default:
        snprintf(
            err, cap,
            "file header: link type %d (%s) is not supported: use Ethernet, raw IP, Linux cooked "
            "capture or loopback",
            r->dlt, pcap_datalink_val_to_name(r->dlt) ? pcap_datalink_val_to_name(r->dlt) : "?");
        return -1;
    }
}

int tw_an_open_file(const char *path, tw_an_reader **out, char *err, size_t cap) {
    char perr[PCAP_ERRBUF_SIZE] = "";
    tw_an_reader *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    r->pc = pcap_open_offline(path, perr);
    if (!r->pc) {
        snprintf(err, cap, "file header: not a readable pcap/pcapng capture: %s", perr);
        free(r);
        return -1;
    }
    if (finish_open(r, err, cap)) {
        tw_an_close(r);
        return -1;
    }
    *out = r;
    return 0;
}

int tw_an_open_mem(const uint8_t *data, size_t n, tw_an_reader **out, char *err, size_t cap) {
    char perr[PCAP_ERRBUF_SIZE] = "";
    if (n == 0) {
        snprintf(err, cap, "file header: empty capture");
        return -1;
    }
    tw_an_reader *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    r->mem = fmemopen((void *)data, n, "rb");
    if (!r->mem) {
        snprintf(err, cap, "cannot open the buffer: %s", strerror(errno));
        free(r);
        return -1;
    }
    r->pc = pcap_fopen_offline(r->mem, perr);
    if (!r->pc) {
        fclose(r->mem);
        snprintf(err, cap, "file header: not a readable pcap/pcapng capture: %s", perr);
        free(r);
        return -1;
    }
    r->mem = NULL; /* owned by pcap_t now */
    if (finish_open(r, err, cap)) {
        tw_an_close(r);
        return -1;
    }
    *out = r;
    return 0;
}

static uint16_t be16(const uint8_t *p) {
    return (uint16_t)(p[0] << 8 | p[1]);
}
static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Offset of the IPv4 header in a frame, or -1 when the frame is not IPv4. */
static long link_offset(int dlt, const uint8_t *b, size_t n) {
    switch (dlt) {
    case DLT_RAW:
    case DLT_IPV4: return n >= 1 && (b[0] >> 4) == 4 ? 0 : -1;
    case DLT_EN10MB: {
        size_t off = 12;
        while (off + 2 <= n && (be16(b + off) == 0x8100 || be16(b + off) == 0x88a8)) off += 4;
        if (off + 2 > n || be16(b + off) != 0x0800) return -1;
        return (long)off + 2;
    }
    case DLT_LINUX_SLL: return n >= 16 && be16(b + 14) == 0x0800 ? 16 : -1;
#ifdef DLT_LINUX_SLL2
    case DLT_LINUX_SLL2: return n >= 20 && be16(b) == 0x0800 ? 20 : -1;
#endif
    case DLT_NULL:
    case DLT_LOOP: {
        if (n < 4) return -1;
        uint32_t fam = dlt == DLT_LOOP ? be32(b)
                                       : ((uint32_t)b[0] | (uint32_t)b[1] << 8 |
                                          (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
        /* AF_INET is 2 everywhere; null captures use the writer's byte order */
        return fam == 2 || fam == 0x02000000u ? 4 : -1;
    }
    default: return -1;
    }
}

/* The IPv4 header and TCP header of a frame into p. 0, or -1 to skip it. */
static int decode(int dlt, const uint8_t *b, size_t caplen, tw_an_pkt *p) {
    long off = link_offset(dlt, b, caplen);
    if (off < 0) return -1;
    const uint8_t *ip = b + off;
    size_t n = caplen - (size_t)off;
    if (n < TW_IPV4_HDR_LEN || (ip[0] >> 4) != 4) return -1;
    size_t ihl = (size_t)(ip[0] & 15) * 4, total = be16(ip + 2);
    if (ihl < TW_IPV4_HDR_LEN || total < ihl) return -1;
    tw_ipv4_hdr h;
    tw_ipv4_view v;
    if (n >= total) {
        /* whole packet captured: the checked parser of src/wire */
        if (tw_ipv4_view_init(&v, ip, n) || tw_ipv4_parse(&v, &h)) return -1;
    } else {
        /* cut by the snap length: header fields only */
        if (n < ihl) return -1;
        memset(&h, 0, sizeof h);
        h.src = be32(ip + 12);
        h.dst = be32(ip + 16);
        h.proto = ip[9];
        h.frag = be16(ip + 6);
        if (h.frag & 0x3fff) return -1;
        h.payload = ip + ihl;
        h.payload_len = total - ihl;
    }
    if (h.proto != TW_IPPROTO_TCP) return -1;
    size_t have = n - ihl < h.payload_len ? n - ihl : h.payload_len;
    tw_tcp_view tv;
    if (have < TW_TCP_HDR_LEN) return -1;
    const uint8_t *t = h.payload;
    size_t doff = (size_t)(t[12] >> 4) * 4;
    if (doff < TW_TCP_HDR_LEN || doff > h.payload_len) return -1;
    if (have >= doff && tw_tcp_view_init(&tv, t, have)) return -1;
    p->src = h.src;
    p->dst = h.dst;
    p->sport = be16(t);
    p->dport = be16(t + 2);
    p->seq = be32(t + 4);
    p->ack = be32(t + 8);
    p->flags = t[13];
    p->tos = h.tos;
    p->wnd = be16(t + 14);
    p->len = (uint32_t)(h.payload_len - doff);
    p->ws = -1;
    /* A SYN's window scale and MSS, when its options were captured: the
     * receive windows of later segments are scaled by them (RFC 7323 §2.2)
     * and the MSS sizes the SWS threshold (RFC 9293 §3.8.6.2.2). Options a
     * stack would reject leave both unknown. */
    tw_tcp_opts o;
    if ((p->flags & TW_TH_SYN) && have >= doff &&
        tw_tcp_opts_parse(t + TW_TCP_HDR_LEN, doff - TW_TCP_HDR_LEN, &o) == 0) {
        if (o.has_ws) p->ws = (int8_t)(o.ws > TW_TCP_MAX_WS ? TW_TCP_MAX_WS : o.ws);
        if (o.has_mss) p->mss = o.mss;
    }
    return 0;
}

int tw_an_next(tw_an_reader *r, tw_an_pkt *p, char *err, size_t cap) {
    for (;;) {
        struct pcap_pkthdr *hdr;
        const u_char *data;
        int rc = pcap_next_ex(r->pc, &hdr, &data);
        if (rc == PCAP_ERROR_BREAK) return 0;
        if (rc != 1) {
            snprintf(err, cap, "frame %llu: corrupt or truncated capture: %s",
                     (unsigned long long)r->frames + 1, pcap_geterr(r->pc));
            return -1;
        }
        r->frames++;
        if (hdr->caplen > hdr->len && hdr->len != 0) {
            snprintf(err, cap,
                     "frame %llu: corrupt record: captured length %u exceeds the "
                     "packet length %u",
                     (unsigned long long)r->frames, hdr->caplen, hdr->len);
            return -1;
        }
        memset(p, 0, sizeof *p);
        if (decode(r->dlt, data, hdr->caplen, p)) {
            r->skipped++;
            continue;
        }
        p->frame = r->frames;
        int64_t sec = hdr->ts.tv_sec, usec = hdr->ts.tv_usec;
        if (sec < 0 || usec < 0) {
            snprintf(err, cap, "frame %llu: corrupt record: negative timestamp",
                     (unsigned long long)r->frames);
            return -1;
        }
        /* pcap_open_offline gives microseconds (nanosecond files are scaled) */
        p->t = (uint64_t)sec * 1000000000u + (uint64_t)usec * 1000u;
        return 1;
    }
}

uint64_t tw_an_frames(const tw_an_reader *r) {
    return r->frames;
}
uint64_t tw_an_skipped(const tw_an_reader *r) {
    return r->skipped;
}
const char *tw_an_linktype(const tw_an_reader *r) {
    const char *n = pcap_datalink_val_to_name(r->dlt);
    return n ? n : "?";
}

void tw_an_close(tw_an_reader *r) {
    if (!r) return;
    if (r->pc) pcap_close(r->pc);
    if (r->mem) fclose(r->mem);
    free(r);
}
