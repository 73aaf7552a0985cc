/* ladder_label.c - owns how a ladder writes its numbers: the bases of the
 * relative mode, the textbook letters of the symbolic mode (x, y, u, v, w;
 * see ladder.h), the FIN+ACK-merged mark, the legend and each segment's
 * label and tags. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "view/ladder_priv.h"

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_ACK 0x10

typedef struct anchor {
    char letter;
    uint32_t value;
    size_t def; /* index of the segment that defines it */
} anchor;

typedef struct numfmt {
    tw_seqmode mode;
    uint32_t base[2];
    int base_from_syn[2]; /* 1: ISN from a SYN, 0: first number seen, -1: none */
    anchor a[2][3];
    int na[2];
} numfmt;

static int32_t sdiff(uint32_t a, uint32_t b) {
    return (int32_t)(a - b);
}

static void find_bases(const tw_ladder *l, numfmt *f) {
    for (int s = 0; s < 2; s++) {
        f->base_from_syn[s] = -1;
        for (size_t k = 0; k < l->nsegs && f->base_from_syn[s] < 1; k++) {
            const tw_lseg *g = &l->segs[k];
            if (g->from == s && (g->flags & TH_SYN)) {
                f->base[s] = g->seq;
                f->base_from_syn[s] = 1;
            } else if (f->base_from_syn[s] < 0 && g->from == s) {
                f->base[s] = g->seq;
                f->base_from_syn[s] = 0;
            } else if (f->base_from_syn[s] < 0 && g->from != s && (g->flags & TH_ACK)) {
                f->base[s] = g->ack;
                f->base_from_syn[s] = 0;
            }
        }
    }
}

static void add_anchor(numfmt *f, int side, char letter, uint32_t value, size_t def) {
    if (f->na[side] < 3) f->a[side][f->na[side]++] = (anchor){letter, value, def};
}

static uint32_t fin_seq(const tw_lseg *g) {
    return g->seq + g->len + ((g->flags & TH_SYN) ? 1u : 0u);
}

/* x, y from the SYNs; u, v, w from the close; marks the merged FIN+ACK. */
static void find_anchors(tw_ladder *l, numfmt *f) {
    for (int s = 0; s < 2; s++)
        if (f->base_from_syn[s] == 1)
            for (size_t k = 0; k < l->nsegs; k++)
                if (l->segs[k].from == s && (l->segs[k].flags & TH_SYN)) {
                    add_anchor(f, s, s == 0 ? 'x' : 'y', l->segs[k].seq, k);
                    break;
                }
    size_t k1 = 0;
    while (k1 < l->nsegs && !(l->segs[k1].flags & TH_FIN)) k1++;
    if (k1 == l->nsegs) return;
    int a = l->segs[k1].from, b = 1 - a;
    uint32_t u = fin_seq(&l->segs[k1]);
    add_anchor(f, a, 'u', u, k1);
    size_t kw = k1 + 1, kack = k1 + 1;
    while (kw < l->nsegs && !(l->segs[kw].from == b && (l->segs[kw].flags & TH_FIN))) kw++;
    while (kack < l->nsegs && !(l->segs[kack].from == b && (l->segs[kack].flags & TH_ACK) &&
                                sdiff(l->segs[kack].ack, u + 1) >= 0))
        kack++;
    if (kack < kw) add_anchor(f, b, 'v', l->segs[kack].seq, kack);
    if (kw < l->nsegs) {
        add_anchor(f, b, 'w', fin_seq(&l->segs[kw]), kw);
        if (kack == kw) l->segs[kw].marks |= TW_LM_MERGED;
    }
}

static const char *fmt_num(const numfmt *f, int side, uint32_t v, size_t k, char *buf, size_t cap) {
    if (f->mode == TW_SEQ_SYMBOLIC) {
        const anchor *best = NULL;
        for (int i = 0; i < f->na[side]; i++) {
            const anchor *an = &f->a[side][i];
            if (an->def > k || sdiff(v, an->value) < 0) continue;
            if (!best || sdiff(v, an->value) < sdiff(v, best->value) ||
                (an->value == best->value && an->def > best->def))
                best = an;
        }
        if (best && v == best->value)
            snprintf(buf, cap, "%c", best->letter);
        else if (best)
            snprintf(buf, cap, "%c+%" PRIu32, best->letter, v - best->value);
        if (best) return buf;
    }
    if (f->mode != TW_SEQ_ABSOLUTE && f->base_from_syn[side] >= 0) v -= f->base[side];
    snprintf(buf, cap, "%" PRIu32, v);
    return buf;
}

const char *tw_ladder_tags(unsigned marks, char *buf, size_t cap) {
    snprintf(buf, cap, "%s%s%s%s%s", (marks & TW_LM_RETRANS) ? " [retrans]" : "",
             (marks & TW_LM_PROBE) ? " [probe]" : "",
             (marks & TW_LM_CHALLENGE) ? " [challenge]" : "",
             (marks & TW_LM_TW) ? " [TIME_WAIT]" : "", (marks & TW_LM_DUP) ? " [dup]" : "");
    return buf;
}

const char *tw_ladder_seg_note(const tw_lseg *s) {
    if (s->marks & TW_LM_LOST) return "lost on the link";
    if (s->marks & TW_LM_MERGED) return "FIN+ACK merged: three-way close";
    if (s->marks & TW_LM_NO_ARRIVAL) return "no arrival in the trace";
    return NULL;
}

static void legend(tw_ladder *l, const numfmt *f) {
    const char *n0 = l->name[0], *n1 = l->name[1];
    char isn[2][48];
    for (int s = 0; s < 2; s++) {
        if (f->base_from_syn[s] == 1)
            snprintf(isn[s], sizeof isn[s], "ISN %" PRIu32, f->base[s]);
        else if (f->base_from_syn[s] == 0)
            snprintf(isn[s], sizeof isn[s], "first seen %" PRIu32, f->base[s]);
        else
            snprintf(isn[s], sizeof isn[s], "not seen");
    }
    if (l->mode == TW_SEQ_ABSOLUTE) {
        snprintf(l->legend[0], sizeof l->legend[0], "seq/ack: absolute, as on the wire");
    } else if (l->mode == TW_SEQ_RELATIVE) {
        snprintf(l->legend[0], sizeof l->legend[0],
                 "seq/ack: relative to each side's ISN, as Wireshark shows them");
        snprintf(l->legend[1], sizeof l->legend[1], "%s %s, %s %s", n0, isn[0], n1, isn[1]);
    } else {
        snprintf(l->legend[0], sizeof l->legend[0],
                 "seq/ack: the textbook's letters: x = %s's ISN, y = %s's ISN, u = the first FIN,",
                 n0, n1);
        snprintf(l->legend[1], sizeof l->legend[1],
                 "  v = the other side's seq when it ACKs u, w = the other side's FIN");
        size_t len = (size_t)snprintf(l->legend[2], sizeof l->legend[2], "letters:");
        for (int s = 0; s < 2; s++) {
            if (f->na[s] && len < sizeof l->legend[2])
                len += (size_t)snprintf(l->legend[2] + len, sizeof l->legend[2] - len, "%s %s",
                                        s && f->na[0] ? ";" : "", s ? n1 : n0);
            for (int i = 0; i < f->na[s] && len < sizeof l->legend[2]; i++)
                len += (size_t)snprintf(l->legend[2] + len, sizeof l->legend[2] - len,
                                        " %c=%" PRIu32, f->a[s][i].letter, f->a[s][i].value);
        }
        if (f->na[0] + f->na[1] == 0)
            snprintf(l->legend[2], sizeof l->legend[2],
                     "letters: none (no SYN or FIN in the trace)");
    }
}

void tw_ladder_label(tw_ladder *l) {
    numfmt f;
    memset(&f, 0, sizeof f);
    f.mode = l->mode;
    find_bases(l, &f);
    find_anchors(l, &f);
    legend(l, &f);
    for (size_t k = 0; k < l->nsegs; k++) {
        tw_lseg *g = &l->segs[k];
        char fl[48], seq[24], ack[32], len[24], tags[64];
        tw_vev_flags_str(g->flags, fl, sizeof fl);
        fmt_num(&f, g->from, g->seq, k, seq, sizeof seq);
        if (g->flags & TH_ACK) {
            char n[20];
            snprintf(ack, sizeof ack, " ack=%s", fmt_num(&f, 1 - g->from, g->ack, k, n, sizeof n));
        } else {
            ack[0] = '\0';
        }
        if (g->len)
            snprintf(len, sizeof len, " len=%" PRIu32, g->len);
        else
            len[0] = '\0';
        snprintf(g->label, sizeof g->label, "%s seq=%s%s%s%s", fl[0] ? fl : "none", seq, ack, len,
                 tw_ladder_tags(g->marks, tags, sizeof tags));
    }
}
