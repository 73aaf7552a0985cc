/* ladder_svg.c - owns the SVG drawing of ladders: the same rows as the text
 * diagram, but every segment is an arrow slanted from its send row to its
 * arrival row, with its label along the arrow. Plain SVG 1.1 with inline
 * styles (one self-contained file a browser opens), monospace text so the
 * widths can be computed without font metrics. */
#include <stdio.h>
#include <string.h>

#include "view/ladder_priv.h"

#define CH 7.3 /* width of a 12px monospace character */
#define ROW_H 24.0
#define LINE_H 17.0
#define MARGIN 20.0

static const char *const COL_LEFT = "#1f5fbf", *const COL_RIGHT = "#1a7f37",
                         *const COL_RST = "#c62828", *const COL_RETRANS = "#c26a00",
                         *const COL_GREY = "#777777";

typedef struct geo {
    double x_time, x_left, x_right, x_trail, width;
} geo;

/* Printable ASCII but the four characters XML escapes. */
static bool svg_plain(unsigned char c) {
    return c >= 0x20 && c < 0x7f && c != '&' && c != '<' && c != '>' && c != '"';
}

/* Writes `s` as XML text: runs of plain characters in one copy, the four
 * special ones as entities, anything else (control bytes, non-ASCII) as '?'. */
static void esc(tw_sbuf *out, const char *s) {
    while (*s) {
        size_t run = 0;
        while (svg_plain((unsigned char)s[run])) run++;
        if (run) tw_sbuf_putn(out, s, run);
        s += run;
        switch (*s) {
        case '\0': return;
        case '&': tw_sbuf_puts(out, "&amp;"); break;
        case '<': tw_sbuf_puts(out, "&lt;"); break;
        case '>': tw_sbuf_puts(out, "&gt;"); break;
        case '"': tw_sbuf_puts(out, "&quot;"); break;
        default: tw_sbuf_putc(out, '?');
        }
        s++;
    }
}

/* <text> at (x, y) with an anchor and extra attributes, escaped content. */
static void text(tw_sbuf *out, double x, double y, const char *anchor, const char *attrs,
                 const char *s) {
    tw_sbuf_printf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" %s>", x, y, anchor, attrs);
    esc(out, s);
    tw_sbuf_puts(out, "</text>\n");
}

static geo layout(const tw_ladder *l) {
    size_t lab = 30, trail = 0;
    for (size_t k = 0; k < l->nsegs; k++) {
        if (strlen(l->segs[k].label) > lab) lab = strlen(l->segs[k].label);
        const char *n = tw_ladder_seg_note(&l->segs[k]);
        if (n && strlen(n) + 3 > trail) trail = strlen(n) + 3;
    }
    size_t col = 14; /* state names, and notes, which sit in the state columns */
    for (size_t r = 0; r < l->nrows; r++)
        if (l->rows[r].note_side >= 0 && strlen(l->rows[r].note) + 2 > col)
            col = strlen(l->rows[r].note) + 2;
    geo g;
    g.x_time = MARGIN + 11 * CH;
    g.x_left = g.x_time + 16 + (double)col * CH;
    g.x_right = g.x_left + (lab * CH + 90 > 480 ? lab * CH + 90 : 480);
    g.x_trail = g.x_right + (double)col * CH;
    g.width = g.x_trail + trail * CH + MARGIN;
    return g;
}

static const char *seg_color(const tw_lseg *s) {
    if (s->flags & 0x04) return COL_RST;
    if (s->marks & (TW_LM_RETRANS | TW_LM_LOST)) return COL_RETRANS;
    return s->from == 0 ? COL_LEFT : COL_RIGHT;
}

static const char *marker_of(const char *color) {
    if (color == COL_LEFT) return "ah-l";
    if (color == COL_RIGHT) return "ah-r";
    if (color == COL_RST) return "ah-rst";
    if (color == COL_RETRANS) return "ah-re";
    return "ah-g";
}

static void defs(tw_sbuf *out) {
    const char *ids[5] = {"ah-l", "ah-r", "ah-rst", "ah-re", "ah-g"};
    const char *cols[5] = {COL_LEFT, COL_RIGHT, COL_RST, COL_RETRANS, COL_GREY};
    tw_sbuf_puts(out, "<defs>\n");
    for (int i = 0; i < 5; i++)
        tw_sbuf_printf(out,
                       "<marker id=\"%s\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" "
                       "markerWidth=\"8\" markerHeight=\"8\" orient=\"auto\">"
                       "<path d=\"M0,0 L10,5 L0,10 z\" fill=\"%s\"/></marker>\n",
                       ids[i], cols[i]);
    tw_sbuf_puts(out, "</defs>\n");
}

/* One segment: the line, its head or X, and its label along it. */
static void draw_seg(tw_sbuf *out, const tw_ladder *l, size_t k, const geo *g, double y0, int uid) {
    const tw_lseg *s = &l->segs[k];
    const char *col = seg_color(s);
    double xa = s->from == 0 ? g->x_left : g->x_right, xb = s->from == 0 ? g->x_right : g->x_left;
    double ya = y0 + s->send_row * ROW_H, yb = ya;
    bool lost = s->marks & TW_LM_LOST;
    if (s->recv_row >= 0)
        yb = y0 + s->recv_row * ROW_H;
    else if (lost) {
        xb = (g->x_left + g->x_right) / 2 + (s->from == 0 ? 60 : -60);
        yb = ya + ROW_H * 0.7;
    } else
        yb = ya + ROW_H * 0.5;
    tw_sbuf_printf(out,
                   "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                   "stroke-width=\"1.6\"%s%s%s%s/>\n",
                   xa, ya, xb, yb, col, lost || s->recv_row < 0 ? " stroke-dasharray=\"6 3\"" : "",
                   lost ? "" : " marker-end=\"url(#", lost ? "" : marker_of(col),
                   lost ? "" : ")\"");
    if (lost)
        tw_sbuf_printf(out,
                       "<path d=\"M%.1f,%.1f l10,10 m0,-10 l-10,10\" stroke=\"%s\" "
                       "stroke-width=\"2.5\"/>\n",
                       xb - 5, yb - 5, COL_RST);
    /* The label runs left to right whatever the direction, so it reads upright;
     * it sits a little towards the sender, so crossing arrows keep theirs apart. */
    double lx1 = xa < xb ? xa : xb, ly1 = xa < xb ? ya : yb, lx2 = xa < xb ? xb : xa,
           ly2 = xa < xb ? yb : ya;
    tw_sbuf_printf(
        out, "<path id=\"p%d_%zu\" d=\"M%.1f,%.1f L%.1f,%.1f\" fill=\"none\" stroke=\"none\"/>\n",
        uid, k, lx1, ly1, lx2, ly2);
    tw_sbuf_printf(out,
                   "<text dy=\"-4\" fill=\"%s\" stroke=\"#ffffff\" stroke-width=\"4\" "
                   "paint-order=\"stroke\"><textPath href=\"#p%d_%zu\" xlink:href=\"#p%d_%zu\" "
                   "startOffset=\"%d%%\" text-anchor=\"middle\">",
                   col, uid, k, uid, k, s->from == 0 ? 40 : 60);
    esc(out, s->label);
    tw_sbuf_puts(out, "</textPath></text>\n");
    const char *note = tw_ladder_seg_note(s);
    if (note) {
        tw_sbuf_printf(out,
                       "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\" font-style=\"italic\">&#8592; ",
                       g->x_trail, ya + 4, lost ? COL_RST : COL_RETRANS);
        esc(out, note);
        tw_sbuf_puts(out, "</text>\n");
    }
}

static void draw_row(tw_sbuf *out, const tw_ladder *l, size_t i, const geo *g, double y) {
    const tw_lrow *r = &l->rows[i];
    char tb[32];
    if (tw_ladder_row_visible(r)) {
        snprintf(tb, sizeof tb, "%llu.%06llu", (unsigned long long)(r->t / 1000000000u),
                 (unsigned long long)((r->t % 1000000000u) / 1000u));
        text(out, g->x_time, y + 4, "end", "fill=\"#777777\"", tb);
    }
    for (int s = 0; s < 2; s++) {
        if (r->state[s] < 0) continue;
        double x = s == 0 ? g->x_left : g->x_right;
        tw_sbuf_printf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"#222222\"/>\n", x, y);
        text(out, s == 0 ? x - 10 : x + 10, y + 4, s == 0 ? "end" : "start", "font-weight=\"bold\"",
             tw_state_name(r->state[s]));
    }
    if (r->note_side >= 0) { /* a note row has no state: use the state column, clear of arrows */
        double x = r->note_side == 0 ? g->x_left - 10 : g->x_right + 10;
        text(out, x, y + 4, r->note_side == 0 ? "end" : "start",
             "fill=\"#555555\" font-style=\"italic\"", r->note);
    }
}

/* One ladder at vertical offset y; returns the y below it. */
static double draw_ladder(tw_sbuf *out, const tw_ladder *l, const char *foot, double y, int uid) {
    geo g = layout(l);
    char buf[320];
    snprintf(buf, sizeof buf, "connection %zu: %s %s <-> %s %s", l->conn_no, l->name[0], l->addr[0],
             l->name[1], l->addr[1]);
    text(out, MARGIN, y, "start", "font-weight=\"bold\" font-size=\"14\"", buf);
    y += LINE_H;
    for (int i = 0; i < 3; i++)
        if (l->legend[i][0]) {
            text(out, MARGIN, y, "start", "fill=\"#444444\"", l->legend[i]);
            y += LINE_H;
        }
    text(out, MARGIN, y, "start", "fill=\"#444444\"",
         "arrows: from the send time (left end) to the arrival time (head); X = lost on the link");
    y += LINE_H * 2;
    for (int s = 0; s < 2; s++) {
        double x = s == 0 ? g.x_left : g.x_right;
        text(out, x, y, "middle", "font-weight=\"bold\" font-size=\"14\"", l->name[s]);
        text(out, x, y + LINE_H, "middle", "fill=\"#444444\"", l->addr[s]);
        if (l->init_state[s] >= 0)
            text(out, s == 0 ? x - 10 : x + 10, y + 2 * LINE_H + 6, s == 0 ? "end" : "start",
                 "font-weight=\"bold\"", tw_state_name(l->init_state[s]));
    }
    text(out, g.x_time, y + 2 * LINE_H + 6, "end", "fill=\"#777777\"", "time (s)");
    double top = y + LINE_H + 8, y0 = y + 2 * LINE_H + 6 + ROW_H;
    double bottom = y0 + (l->nrows ? (double)(l->nrows - 1) * ROW_H : 0) + ROW_H / 2;
    for (int s = 0; s < 2; s++)
        tw_sbuf_printf(out,
                       "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999999\" "
                       "stroke-width=\"2\"%s/>\n",
                       s == 0 ? g.x_left : g.x_right, top, s == 0 ? g.x_left : g.x_right, bottom,
                       l->traced[s] ? "" : " stroke-dasharray=\"4 4\"");
    for (size_t i = 0; i < l->nrows; i++) draw_row(out, l, i, &g, y0 + (double)i * ROW_H);
    for (size_t k = 0; k < l->nsegs; k++) draw_seg(out, l, k, &g, y0, uid);
    y = bottom + LINE_H * 1.5;
    for (const char *p = foot ? foot : ""; *p;) {
        size_t n = strcspn(p, "\n");
        snprintf(buf, sizeof buf, "%.*s", (int)(n < sizeof buf - 1 ? n : sizeof buf - 1), p);
        text(out, MARGIN, y, "start", "xml:space=\"preserve\" style=\"white-space:pre\"", buf);
        y += LINE_H;
        p += n + (p[n] == '\n');
    }
    return y + LINE_H * 2;
}

/* The ladders are drawn into a scratch buffer first: the document's height
 * is known only at the end. */
void tw_ladder_svg(const tw_ladder *const *l, const char *const *footer, size_t n,
                   const char *title, tw_sbuf *out) {
    tw_sbuf body;
    tw_sbuf_init(&body);
    double y = MARGIN + 30, width = 900;
    for (size_t i = 0; i < n; i++) {
        geo g = layout(l[i]);
        if (g.width > width) width = g.width;
        for (int k = 0; k < 3; k++)
            if (2 * MARGIN + (double)strlen(l[i]->legend[k]) * CH > width)
                width = 2 * MARGIN + (double)strlen(l[i]->legend[k]) * CH;
        for (const char *p = footer && footer[i] ? footer[i] : ""; *p;) {
            size_t w = strcspn(p, "\n");
            if (2 * MARGIN + (double)w * CH > width) width = 2 * MARGIN + (double)w * CH;
            p += w + (p[w] == '\n');
        }
        y = draw_ladder(&body, l[i], footer ? footer[i] : NULL, y, (int)i);
    }
    tw_sbuf_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    tw_sbuf_printf(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" "
        "width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
        "font-family=\"DejaVu Sans Mono, Menlo, Consolas, monospace\" font-size=\"12\">\n",
        width, y, width, y);
    tw_sbuf_puts(out, "<title>");
    esc(out, title);
    tw_sbuf_puts(out, "</title>\n");
    tw_sbuf_printf(out, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#ffffff\"/>\n",
                   width, y);
    defs(out);
    text(out, MARGIN, MARGIN + 8, "start", "font-weight=\"bold\" font-size=\"16\"", title);
    tw_sbuf_puts(out, tw_sbuf_str(&body) ? tw_sbuf_str(&body) : "");
    if (body.oom) out->oom = true;
    tw_sbuf_puts(out, "</svg>\n");
    tw_sbuf_free(&body);
}
