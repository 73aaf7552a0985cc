/* ladder.h - owns the ladder diagram of one connection: the textbook
 * teardown figure with two columns (left: the active opener, "client";
 * right: the passive side, "server"), each side's state written beside its
 * column when it changes, and an arrow per segment labelled with its flags
 * and seq/ack(/len).
 *
 * Model -> layout -> output: tw_ladder_build() turns the events of one
 * connection (from a tw_vindex) into rows and segments; tw_ladder_text()
 * and tw_ladder_svg() (ladder_svg.c) draw the same layout. The capture
 * analyzer reuses it with events made from packets.
 *
 * Convention for time: rows go down in time order (not to scale). The text
 * diagram draws each segment as a horizontal arrow on the row of its send
 * time, pointing at the receiver; the receiver's reaction (state change,
 * answer) appears on the row of its arrival time. The SVG draws the same
 * arrow slanted, from the send row to the arrival row.
 * Marks: [retrans] retransmission, [probe] zero-window probe, [challenge]
 * RFC 5961 challenge ACK, [TIME_WAIT] sent from a TIME_WAIT record, [dup]
 * a duplicate delivery; an arrow ending in X was lost on the link; notes on
 * the right say "lost on the link", "FIN+ACK merged: three-way close" and
 * "no arrival in the trace".
 *
 * Sequence numbers (tw_seqmode):
 *   relative (default)  as Wireshark: seq - sender's ISN, ack - receiver's
 *                       ISN (the first seq seen when the SYN is not in the
 *                       trace)
 *   absolute            the numbers on the wire
 *   symbolic            the textbook's letters: x = the left side's ISN,
 *                       y = the right side's ISN, u = the first FIN (its
 *                       sequence number, i.e. seq+len of the segment that
 *                       carries it), v = the other side's seq in its first
 *                       segment that ACKs u (when that segment is not its
 *                       FIN), w = the other side's FIN. A number is written
 *                       as the nearest letter at or below it that is known
 *                       by then, plus the difference: ack=u+1, seq=x+101.
 *                       The legend gives each letter's absolute value. */
#ifndef TW_VIEW_LADDER_H
#define TW_VIEW_LADDER_H

#include "view/conns.h"
#include "view/sbuf.h"

typedef enum tw_seqmode { TW_SEQ_RELATIVE, TW_SEQ_ABSOLUTE, TW_SEQ_SYMBOLIC } tw_seqmode;

enum tw_lmark {
    TW_LM_RETRANS = 1,
    TW_LM_PROBE = 2,
    TW_LM_CHALLENGE = 4,
    TW_LM_TW = 8,
    TW_LM_LOST = 16,        /* lost on the link */
    TW_LM_MERGED = 32,      /* FIN that also carries the first ACK of the peer's FIN */
    TW_LM_DUP = 64,         /* an extra arrival of an earlier segment */
    TW_LM_NO_SENDER = 128,  /* arrived from a sender that is not in the trace */
    TW_LM_NO_ARRIVAL = 256, /* both sides traced, yet no arrival and no loss */
};

typedef struct tw_lseg {
    int from;                /* sending side: 0 left, 1 right */
    uint64_t t_send, t_recv; /* t_recv valid when recv_row >= 0 */
    uint8_t flags;
    uint32_t seq, ack, len;
    uint16_t wnd;
    unsigned marks;         /* TW_LM_* */
    int send_row, recv_row; /* rows of the layout (-1: none) */
    char label[200];        /* "FIN|ACK seq=u ack=y+201 [retrans]" */
} tw_lseg;

typedef struct tw_lrow {
    uint64_t t;
    int state[2];    /* state entered on this row, per side (-1 none) */
    int seg;         /* segment sent on this row (-1 none) */
    int note_side;   /* side of the note (-1 none) */
    char note[64];   /* "close()", "timer: retransmit", "drop: DROP_TW_SEGMENT" */
    bool arrival[2]; /* a segment arrives at this side on this row */
} tw_lrow;

typedef struct tw_ladder {
    size_t conn_no;                     /* 1-based number in the trace */
    char name[2][TW_VEV_HOST_NAME_MAX]; /* host names; "peer" for a side not traced */
    char addr[2][24];                   /* "198.18.0.1:49152" */
    bool traced[2];                     /* the side's own events are in the trace */
    int init_state[2];                  /* state at the top, -1 unknown */
    tw_seqmode mode;
    char legend[3][200]; /* how to read the numbers ("" = no line) */
    tw_lseg *segs;
    size_t nsegs;
    tw_lrow *rows;
    size_t nrows;
} tw_ladder;

/* Builds the ladder of connection `conn` (0-based index into ix->c) from the
 * n events ix was built from. 0, or -1 when out of memory. */
int tw_ladder_build(const tw_vev *ev, size_t n, const tw_vindex *ix, size_t conn, tw_seqmode mode,
                    tw_ladder *out);
void tw_ladder_free(tw_ladder *l);
/* True when a row has something to show in text (rows that only mark an
 * arrival exist for the SVG's slanted arrows). */
bool tw_ladder_row_visible(const tw_lrow *r);
/* Bracketed tags of a segment's marks (" [retrans] [TIME_WAIT]") into buf. */
const char *tw_ladder_tags(unsigned marks, char *buf, size_t cap);
/* The note drawn beside a segment ("lost on the link", "FIN+ACK merged:
 * three-way close", "no arrival in the trace"), or NULL. */
const char *tw_ladder_seg_note(const tw_lseg *s);
/* Appends the text diagram (header, column titles, rows). */
void tw_ladder_text(const tw_ladder *l, tw_sbuf *out);
/* Appends one SVG document drawing each ladder in turn, each followed by
 * its footer text (e.g. the lifecycle summary; may be NULL). `title` heads
 * the picture. */
void tw_ladder_svg(const tw_ladder *const *l, const char *const *footer, size_t n,
                   const char *title, tw_sbuf *out);

#endif
