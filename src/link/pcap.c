/* pcap.c - owns the classic pcap writer and the recording tap link (see
 * pcap.h for the format and the uses).
 *
 * File layout (the libpcap savefile format, also documented as
 * draft-ietf-opsawg-pcap): a 24-byte file header
 *     magic u32, version_major u16 (2), version_minor u16 (4),
 *     thiszone i32 (0), sigfigs u32 (0), snaplen u32, linktype u32
 * then per packet a 16-byte record header
 *     ts_sec u32, ts_usec u32, incl_len u32, orig_len u32
 * followed by incl_len bytes. All fields are in the writer's byte order;
 * readers recognise it from the magic. */
#include "link/pcap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tcpwave/tw_errno.h>

#define PCAP_MAGIC_USEC 0xa1b2c3d4u

struct tw_pcap {
    FILE *f;
    uint64_t count;
    int err; /* first error (negative errno), sticky */
};

static int io_err(void) {
    return errno ? -errno : -TW_EINVAL;
}

static void put32(uint8_t *p, uint32_t v) {
    memcpy(p, &v, 4);
}
static void put16(uint8_t *p, uint16_t v) {
    memcpy(p, &v, 2);
}

int tw_pcap_open(const char *path, uint32_t linktype, tw_pcap **out) {
    if (!path || (linktype != TW_PCAP_LINKTYPE_RAW && linktype != TW_PCAP_LINKTYPE_IPV4))
        return -TW_EINVAL;
    tw_pcap *p = calloc(1, sizeof *p);
    if (!p) return -TW_ENOMEM;
    errno = 0;
    p->f = fopen(path, "wb");
    if (!p->f) {
        int rc = io_err();
        free(p);
        return rc;
    }
    uint8_t h[24];
    put32(h, PCAP_MAGIC_USEC);
    put16(h + 4, 2);
    put16(h + 6, 4);
    put32(h + 8, 0);  /* thiszone: timestamps are UTC */
    put32(h + 12, 0); /* sigfigs */
    put32(h + 16, TW_PCAP_SNAPLEN);
    put32(h + 20, linktype);
    errno = 0;
    if (fwrite(h, sizeof h, 1, p->f) != 1) {
        int rc = io_err();
        fclose(p->f);
        free(p);
        return rc;
    }
    *out = p;
    return 0;
}

int tw_pcap_write(tw_pcap *p, uint64_t t_ns, const uint8_t *pkt, size_t len) {
    if (p->err) return p->err;
    uint32_t incl = len > TW_PCAP_SNAPLEN ? TW_PCAP_SNAPLEN : (uint32_t)len;
    uint8_t h[16];
    put32(h, (uint32_t)(t_ns / 1000000000u));
    put32(h + 4, (uint32_t)((t_ns % 1000000000u) / 1000u));
    put32(h + 8, incl);
    put32(h + 12, len > UINT32_MAX ? UINT32_MAX : (uint32_t)len);
    errno = 0;
    if (fwrite(h, sizeof h, 1, p->f) != 1 || (incl && fwrite(pkt, incl, 1, p->f) != 1)) {
        p->err = io_err();
        return p->err;
    }
    p->count++;
    return 0;
}

int tw_pcap_flush(tw_pcap *p) {
    if (p->err) return p->err;
    errno = 0;
    if (fflush(p->f) != 0) p->err = io_err();
    return p->err;
}

uint64_t tw_pcap_count(const tw_pcap *p) {
    return p->count;
}

int tw_pcap_close(tw_pcap *p) {
    if (!p) return 0;
    int rc = p->err;
    errno = 0;
    if (fclose(p->f) != 0 && !rc) rc = io_err();
    free(p);
    return rc;
}

/* ---- the tap ---- */

static uint64_t stamp(const tw_pcap_tap *t, uint64_t now) {
    return (uint64_t)((int64_t)now + t->ts_offset_ns);
}

static int tap_send(tw_link *l, const uint8_t *pkt, size_t len, uint64_t now) {
    tw_pcap_tap *t = (tw_pcap_tap *)l;
    tw_pcap_write(t->pcap, stamp(t, now), pkt, len);
    return t->inner->ops->send(t->inner, pkt, len, now);
}

static int tap_recv(tw_link *l, uint8_t *buf, size_t cap, uint64_t now) {
    tw_pcap_tap *t = (tw_pcap_tap *)l;
    int n = t->inner->ops->recv(t->inner, buf, cap, now);
    if (n > 0) tw_pcap_write(t->pcap, stamp(t, now), buf, (size_t)n);
    return n;
}

static uint64_t tap_next_arrival(tw_link *l) {
    tw_pcap_tap *t = (tw_pcap_tap *)l;
    return t->inner->ops->next_arrival(t->inner);
}

static int tap_poll_fd(tw_link *l) {
    tw_pcap_tap *t = (tw_pcap_tap *)l;
    return t->inner->ops->poll_fd(t->inner);
}

static void tap_close(tw_link *l) {
    tw_pcap_tap *t = (tw_pcap_tap *)l;
    tw_pcap_flush(t->pcap);
    t->inner->ops->close(t->inner);
}

static const struct tw_link_ops tap_ops = {
    tap_send, tap_recv, tap_next_arrival, tap_poll_fd, tap_close,
};

void tw_pcap_tap_init(tw_pcap_tap *tap, tw_link *inner, tw_pcap *pcap, int64_t ts_offset_ns) {
    tap->link.ops = &tap_ops;
    tap->inner = inner;
    tap->pcap = pcap;
    tap->ts_offset_ns = ts_offset_ns;
}

void tw_pcap_tap_record(tw_pcap_tap *tap, const uint8_t *pkt, size_t len, uint64_t now) {
    tw_pcap_write(tap->pcap, stamp(tap, now), pkt, len);
}
