/* wheel.c - the hierarchical timing wheel; see wheel.h for the layout and the
 * invariants W1-W7 that every function here preserves. */
#include "util/wheel.h"

#include <string.h>

#define SLOT_MASK ((uint64_t)TW_WHEEL_SLOTS - 1)

/* ---- intrusive doubly-linked lists ------------------------------------ */

static inline void list_push(tw_wheel_list *l, tw_wheel_entry *e, uint32_t where) {
    e->where = where;
    e->next = NULL;
    e->prev = l->tail;
    if (l->tail)
        l->tail->next = e;
    else
        l->head = e;
    l->tail = e;
}

static inline void list_remove(tw_wheel_list *l, tw_wheel_entry *e) {
    if (e->prev)
        e->prev->next = e->next;
    else
        l->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        l->tail = e->prev;
    e->next = e->prev = NULL;
}

/* Detach and return the whole chain of l, leaving l empty. */
static inline tw_wheel_entry *list_take(tw_wheel_list *l) {
    tw_wheel_entry *h = l->head;
    l->head = l->tail = NULL;
    return h;
}

/* ---- placement --------------------------------------------------------- */

/* Index of the highest 6-bit group in which two times differ (diff != 0). */
static inline unsigned top_group(uint64_t diff) {
    return (unsigned)(63 - __builtin_clzll(diff)) / TW_WHEEL_BITS;
}

/* Put an unlinked entry (expiry already set) on the list W2-W4 demand. */
static void place(tw_wheel *w, tw_wheel_entry *e) {
    if (e->expiry <= w->now) {
        list_push(&w->due, e, TW_WHEEL_DUE);
        return;
    }
    unsigned g = top_group(e->expiry ^ w->now);
    if (g >= TW_WHEEL_LEVELS) {
        list_push(&w->overflow, e, TW_WHEEL_OVERFLOW);
        return;
    }
    unsigned s = (unsigned)((e->expiry >> (g * TW_WHEEL_BITS)) & SLOT_MASK);
    uint64_t bit = (uint64_t)1 << s;
    list_push(&w->slot[g][s], e, TW_WHEEL_SLOT0 + g * TW_WHEEL_SLOTS + s);
    if (!(w->occ[g] & bit)) {
        w->occ[g] |= bit;
        w->stale[g] &= ~bit;
        w->slot_min[g][s] = e->expiry; /* W7 */
    } else if (e->expiry < w->slot_min[g][s]) {
        w->slot_min[g][s] = e->expiry; /* a stale slot stays stale: still a bound */
    }
}

/* Take an armed entry off its list, keeping occ (W5) and slot_min (W7)
 * right; e->where, count and the min cache (W6) are the caller's. */
static inline void unlink_entry(tw_wheel *w, tw_wheel_entry *e) {
    uint32_t where = e->where;
    if (where >= TW_WHEEL_SLOT0) {
        uint32_t id = where - TW_WHEEL_SLOT0;
        unsigned lvl = id / TW_WHEEL_SLOTS, s = id % TW_WHEEL_SLOTS;
        tw_wheel_list *l = &w->slot[lvl][s];
        list_remove(l, e);
        if (!l->head)
            w->occ[lvl] &= ~((uint64_t)1 << s);
        else if (e->expiry == w->slot_min[lvl][s])
            w->stale[lvl] |= (uint64_t)1 << s; /* W7 */
    } else {
        list_remove(where == TW_WHEEL_DUE ? &w->due : &w->overflow, e);
    }
}

/* Unlink an armed entry and keep count and the min cache right (W6). */
static void detach(tw_wheel *w, tw_wheel_entry *e) {
    unlink_entry(w, e);
    e->where = TW_WHEEL_UNARMED;
    w->count--;
    if (w->count == 0) {
        w->min_cache = TW_TIME_NEVER;
        w->min_valid = true;
    } else if (w->min_valid && e->expiry == w->min_cache) {
        w->min_valid = false;
    }
}

/* ---- public API -------------------------------------------------------- */

void tw_wheel_init(tw_wheel *w, tw_time_t now) {
    memset(w, 0, sizeof *w);
    w->now = now;
    w->min_cache = TW_TIME_NEVER;
    w->min_valid = true;
}

void tw_wheel_entry_init(tw_wheel_entry *e) {
    e->next = e->prev = NULL;
    e->expiry = TW_TIME_NEVER;
    e->where = TW_WHEEL_UNARMED;
}

size_t tw_wheel_count(const tw_wheel *w) {
    return w->count;
}

tw_time_t tw_wheel_now(const tw_wheel *w) {
    return w->now;
}

/* A connection re-arms its entry at almost every step (the retransmission
 * and delayed-ACK deadlines take turns), so re-arming moves the entry from
 * list to list without the detach-then-arm round trip through count and
 * the min cache. */
void tw_wheel_arm(tw_wheel *w, tw_wheel_entry *e, tw_time_t expiry) {
    tw_time_t old = e->expiry;
    bool was_armed = e->where != TW_WHEEL_UNARMED;
    if (was_armed)
        unlink_entry(w, e);
    else
        w->count++;
    e->expiry = expiry;
    place(w, e);
    /* W6: the new expiry is the minimum if it is the only one or below the
     * cached minimum; the cache is stale only if the entry held the minimum
     * and moved above it (another entry may or may not share that value). */
    if (w->count == 1) {
        w->min_cache = expiry;
        w->min_valid = true;
    } else if (w->min_valid) {
        if (expiry <= w->min_cache)
            w->min_cache = expiry;
        else if (was_armed && old == w->min_cache)
            w->min_valid = false;
    }
}

void tw_wheel_cancel(tw_wheel *w, tw_wheel_entry *e) {
    if (e->where != TW_WHEEL_UNARMED) detach(w, e);
}

/* Smallest expiry on a chain (non-empty). */
static tw_time_t chain_min(const tw_wheel_entry *e) {
    tw_time_t m = e->expiry;
    for (e = e->next; e; e = e->next)
        if (e->expiry < m) m = e->expiry;
    return m;
}

tw_time_t tw_wheel_next(tw_wheel *w) {
    if (w->min_valid) return w->min_cache;
    tw_time_t m = TW_TIME_NEVER;
    if (w->due.head) {
        m = chain_min(w->due.head);
    } else {
        unsigned lvl = 0;
        while (lvl < TW_WHEEL_LEVELS && !w->occ[lvl]) lvl++;
        if (lvl < TW_WHEEL_LEVELS) {
            unsigned s = (unsigned)__builtin_ctzll(w->occ[lvl]);
            uint64_t bit = (uint64_t)1 << s;
            const tw_wheel_entry *h = w->slot[lvl][s].head;
            /* A level-0 slot holds a single exact expiry (W3); a higher one
             * knows its minimum unless that entry left it (W7). */
            if (lvl == 0) {
                m = h->expiry;
            } else if (w->stale[lvl] & bit) {
                m = w->slot_min[lvl][s] = chain_min(h);
                w->stale[lvl] &= ~bit;
            } else {
                m = w->slot_min[lvl][s];
            }
        } else if (w->overflow.head) {
            m = chain_min(w->overflow.head);
        }
    }
    w->min_cache = m;
    w->min_valid = true;
    return m;
}

/* Move every entry of slot (lvl, s) to the end of `due`, keeping order. */
static void slot_to_due(tw_wheel *w, unsigned lvl, unsigned s) {
    tw_wheel_list *l = &w->slot[lvl][s];
    for (tw_wheel_entry *e = l->head; e; e = e->next) e->where = TW_WHEEL_DUE;
    if (w->due.tail) {
        w->due.tail->next = l->head;
        l->head->prev = w->due.tail;
    } else {
        w->due.head = l->head;
    }
    w->due.tail = l->tail;
    l->head = l->tail = NULL;
}

/* Move the slots of level lvl whose bits are in `mask` to `due`, lowest
 * slot first, and clear them in occ. */
static void slots_to_due(tw_wheel *w, unsigned lvl, uint64_t mask) {
    uint64_t bits = w->occ[lvl] & mask;
    w->occ[lvl] &= ~bits;
    while (bits) {
        unsigned s = (unsigned)__builtin_ctzll(bits);
        bits &= bits - 1;
        slot_to_due(w, lvl, s);
    }
}

/* Re-place every entry of a detached chain against the current `now`. */
static void replace_chain(tw_wheel *w, tw_wheel_entry *e) {
    while (e) {
        tw_wheel_entry *next = e->next;
        e->next = e->prev = NULL;
        place(w, e);
        e = next;
    }
}

void tw_wheel_advance(tw_wheel *w, tw_time_t now) {
    tw_time_t t0 = w->now;
    if (now <= t0) return;
    unsigned g = top_group(t0 ^ now);
    w->now = now;
    unsigned below = g < TW_WHEEL_LEVELS ? g : TW_WHEEL_LEVELS;
    /* Levels under g share with t0 a prefix that is now in the past. */
    for (unsigned lvl = 0; lvl < below; lvl++)
        if (w->occ[lvl]) slots_to_due(w, lvl, ~(uint64_t)0);
    if (g >= TW_WHEEL_LEVELS) {
        replace_chain(w, list_take(&w->overflow));
        return;
    }
    unsigned d1 = (unsigned)((now >> (g * TW_WHEEL_BITS)) & SLOT_MASK);
    uint64_t bit = (uint64_t)1 << d1;
    slots_to_due(w, g, bit - 1);
    if (w->occ[g] & bit) {
        w->occ[g] &= ~bit;
        replace_chain(w, list_take(&w->slot[g][d1]));
    }
    /* Advancing never changes the set of armed entries, so min_cache stays. */
}

/* tw_wheel_pop_due() (wheel.h) once its inline test found something to do. */
tw_wheel_entry *tw__wheel_pop_due(tw_wheel *w, tw_time_t now) {
    tw_wheel_entry *e;
    if (now >= w->now) {
        tw_wheel_advance(w, now);
        e = w->due.head; /* all of `due` is <= now (W2) */
    } else {
        /* A clock that went backwards: only part of `due` may qualify, and
         * nothing outside `due` can (W3, W4). */
        for (e = w->due.head; e && e->expiry > now; e = e->next) {
        }
    }
    if (e) detach(w, e);
    return e;
}
