/* ladder_text.c - owns the text drawing of a ladder: a time column, the left
 * side's states right-aligned against its column, arrows between the two
 * columns, the right side's states, and notes on the far right. Widths adapt
 * to the longest label; lines carry no trailing spaces. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "view/ladder_priv.h"

#define STATE_W 12
#define MIN_AREA 44

static const char *time_str(uint64_t t, char *buf, size_t cap) {
    snprintf(buf, cap, "%" PRIu64 ".%06" PRIu64, t / 1000000000u, (t % 1000000000u) / 1000u);
    return buf;
}

/* The text between the columns for a segment: exactly w characters. */
static void arrow(char *a, size_t w, const tw_lseg *s) {
    size_t ll = strlen(s->label);
    bool lost = s->marks & TW_LM_LOST;
    size_t reach =
        lost ? (w * 2 / 3 > ll + 8 ? w * 2 / 3 : ll + 8) : w; /* columns the arrow spans */
    if (reach > w) reach = w;
    memset(a, ' ', w);
    a[w] = '\0';
    if (s->from == 0) {
        memset(a, '-', reach);
        memcpy(a + 3, s->label, ll);
        a[2] = a[3 + ll] = ' ';
        a[reach - 1] = lost ? 'X' : '>';
    } else {
        size_t start = w - reach;
        memset(a + start, '-', reach);
        memcpy(a + w - 3 - ll, s->label, ll);
        a[w - 3] = a[w - 4 - ll] = ' ';
        a[start] = lost ? 'X' : '<';
    }
}

static void note_area(char *a, size_t w, int side, const char *note) {
    size_t nl = strlen(note);
    if (nl > w - 2) nl = w - 2;
    memset(a, ' ', w);
    a[w] = '\0';
    if (side == 0)
        memcpy(a + 1, note, nl);
    else
        memcpy(a + w - 1 - nl, note, nl);
}

static size_t area_width(const tw_ladder *l) {
    size_t w = MIN_AREA;
    for (size_t k = 0; k < l->nsegs; k++)
        if (strlen(l->segs[k].label) + 10 > w) w = strlen(l->segs[k].label) + 10;
    for (size_t r = 0; r < l->nrows; r++)
        if (l->rows[r].note_side >= 0 && strlen(l->rows[r].note) + 4 > w)
            w = strlen(l->rows[r].note) + 4;
    return w;
}

static size_t time_width(const tw_ladder *l) {
    size_t w = strlen("time (s)");
    char buf[32];
    for (size_t r = 0; r < l->nrows; r++)
        if (strlen(time_str(l->rows[r].t, buf, sizeof buf)) > w) w = strlen(buf);
    return w;
}

static void endline(tw_sbuf *out) {
    tw_sbuf_rtrim(out);
    tw_sbuf_putc(out, '\n');
}

static const char *state_or_blank(int s) {
    return s >= 0 ? tw_state_name(s) : "";
}

static void header(const tw_ladder *l, tw_sbuf *out, size_t tw, size_t aw) {
    tw_sbuf_printf(out, "connection %zu: %s %s <-> %s %s\n", l->conn_no, l->name[0], l->addr[0],
                   l->name[1], l->addr[1]);
    for (int i = 0; i < 3; i++)
        if (l->legend[i][0]) tw_sbuf_printf(out, "  %s\n", l->legend[i]);
    tw_sbuf_puts(out, "  arrows: drawn on the row of the send time; the receiver's state changes "
                      "appear at the arrival time\n\n");
    size_t lead = tw + 2 + STATE_W;
    tw_sbuf_printf(out, "%*s  %*s", (int)tw, "time (s)", STATE_W, l->name[0]);
    tw_sbuf_pad(out, ' ', aw + 4);
    tw_sbuf_puts(out, l->name[1]);
    endline(out);
    tw_sbuf_printf(out, "%*s", (int)lead, l->addr[0]);
    tw_sbuf_pad(out, ' ', aw + 4);
    tw_sbuf_puts(out, l->addr[1]);
    endline(out);
    tw_sbuf_printf(out, "%*s |", (int)lead, state_or_blank(l->init_state[0]));
    tw_sbuf_pad(out, ' ', aw);
    tw_sbuf_printf(out, "| %s", state_or_blank(l->init_state[1]));
    endline(out);
}

void tw_ladder_text(const tw_ladder *l, tw_sbuf *out) {
    size_t tw = time_width(l), aw = area_width(l);
    char *area = malloc(aw + 1);
    if (!area) {
        out->oom = true;
        return;
    }
    header(l, out, tw, aw);
    char tb[32];
    for (size_t i = 0; i < l->nrows; i++) {
        const tw_lrow *r = &l->rows[i];
        if (!tw_ladder_row_visible(r)) continue;
        const char *trail = NULL;
        if (r->seg >= 0) {
            arrow(area, aw, &l->segs[r->seg]);
            trail = tw_ladder_seg_note(&l->segs[r->seg]);
        } else if (r->note_side >= 0) {
            note_area(area, aw, r->note_side, r->note);
        } else {
            memset(area, ' ', aw);
            area[aw] = '\0';
        }
        tw_sbuf_printf(out, "%*s  %*s |%s| %-*s", (int)tw, time_str(r->t, tb, sizeof tb), STATE_W,
                       state_or_blank(r->state[0]), area, STATE_W, state_or_blank(r->state[1]));
        if (trail) tw_sbuf_printf(out, "  <- %s", trail);
        endline(out);
    }
    free(area);
}
