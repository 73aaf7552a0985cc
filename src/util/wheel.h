/* wheel.h - hierarchical timing wheel: the one timer structure of a stack
 * instance. Every per-connection deadline (retransmit, delayed ACK, persist,
 * keepalive, TIME-WAIT) is an intrusive tw_wheel_entry embedded in its owner,
 * armed, re-armed and cancelled in O(1) with no allocation.
 *
 * Deadlines are EXACT: the wheel's resolution is one nanosecond, so an entry
 * is never reported due before its expiry, and tw_wheel_next() returns the
 * exact earliest expiry (the event loop sleeps until precisely then; the
 * simulator's virtual clock jumps precisely there).
 *
 * Layout. TW_WHEEL_LEVELS levels of TW_WHEEL_SLOTS (64) slots; level L slot s
 * covers the 6-bit digit s at bits [6L, 6L+6) of a time. Besides the levels
 * there is a `due` list (entries whose expiry has passed) and an `overflow`
 * list (entries beyond the top level). `now` is the wheel's current time; it
 * only moves forward, in tw_wheel_advance / tw_wheel_pop_due.
 *
 * Invariants (all hold between calls):
 *  W1 An entry is armed iff e->where != TW_WHEEL_UNARMED; an armed entry is
 *     on exactly the list that e->where names, an unarmed one on none (and
 *     its links are NULL).
 *  W2 Every entry on `due` has expiry <= now.
 *  W3 An entry in level L, slot s has expiry > now, and the highest 6-bit
 *     group in which expiry and now differ is group L; s is expiry's digit in
 *     that group, so s > now's digit there.
 *  W4 An entry on `overflow` has expiry > now and differs from now in some
 *     bit >= 6 * TW_WHEEL_LEVELS.
 *  W5 Bit s of occ[L] is set iff slot (L, s) is non-empty.
 *  W6 count is the number of armed entries; when min_valid, min_cache is the
 *     smallest expiry among them (TW_TIME_NEVER if none).
 *  W7 For a non-empty slot (L, s) whose bit in stale[L] is clear, slot_min[L][s]
 *     is the smallest expiry in it (so tw_wheel_next() need not walk a long
 *     chain; the bit is set when that smallest entry leaves the slot).
 * Consequences: every `due` entry precedes every level entry; every level-L
 * entry precedes every entry at a higher level and on `overflow`; within a
 * level, a lower slot precedes a higher one; a level-0 slot holds entries of
 * one exact expiry. So the earliest entry is on `due`, or else in the lowest
 * set bit of the lowest non-empty level, or else on `overflow`.
 *
 * Advancing from t0 to t1: let g be the highest group where t0 and t1 differ.
 * All entries on levels below g, and in slots of level g below t1's digit,
 * expire before t1 and move to `due` wholesale; the slot of level g at t1's
 * digit is re-placed entry by entry (to `due` or to a level below g); if g is
 * beyond the top level, `overflow` is re-placed instead. An entry therefore
 * moves down at most TW_WHEEL_LEVELS times per arming, and a caller that
 * advances straight to tw_wheel_next() moves the earliest entry to `due`
 * directly, without intermediate cascades. */
#ifndef TW_UTIL_WHEEL_H
#define TW_UTIL_WHEEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/time.h"

#define TW_WHEEL_BITS 6
#define TW_WHEEL_SLOTS (1u << TW_WHEEL_BITS)
/* 8 levels of 6 bits span 2^48 ns (about 78 hours) ahead of `now`. */
#define TW_WHEEL_LEVELS 8

/* Values of tw_wheel_entry.where besides slot ids. */
#define TW_WHEEL_UNARMED 0u
#define TW_WHEEL_DUE 1u
#define TW_WHEEL_OVERFLOW 2u
#define TW_WHEEL_SLOT0 3u /* slot (L, s) is TW_WHEEL_SLOT0 + L * 64 + s */

typedef struct tw_wheel_entry {
    struct tw_wheel_entry *next, *prev;
    tw_time_t expiry;
    uint32_t where;
} tw_wheel_entry;

typedef struct tw_wheel_list {
    tw_wheel_entry *head, *tail;
} tw_wheel_list;

typedef struct tw_wheel {
    tw_time_t now;
    tw_time_t min_cache; /* see W6 */
    bool min_valid;
    size_t count;
    uint64_t occ[TW_WHEEL_LEVELS];
    tw_wheel_list slot[TW_WHEEL_LEVELS][TW_WHEEL_SLOTS];
    tw_wheel_list due, overflow;
    uint64_t stale[TW_WHEEL_LEVELS];                     /* see W7 */
    tw_time_t slot_min[TW_WHEEL_LEVELS][TW_WHEEL_SLOTS]; /* see W7 */
} tw_wheel;

/* Make an empty wheel whose current time is `now`. */
void tw_wheel_init(tw_wheel *w, tw_time_t now);
/* Make an entry unarmed; call once before first use. */
void tw_wheel_entry_init(tw_wheel_entry *e);
/* Arm e at `expiry`, first cancelling it if armed. An expiry <= the wheel's
 * current time makes it due at once. O(1). */
void tw_wheel_arm(tw_wheel *w, tw_wheel_entry *e, tw_time_t expiry);
/* Disarm e; a no-op if it is not armed. O(1). */
void tw_wheel_cancel(tw_wheel *w, tw_wheel_entry *e);
/* True if e is armed (including due but not yet popped). Inline: the stack
 * asks at every settle of a connection. */
static inline bool tw_wheel_armed(const tw_wheel_entry *e) {
    return e->where != TW_WHEEL_UNARMED;
}
/* The exact smallest expiry among armed entries, or TW_TIME_NEVER if none.
 * Cached; recomputing scans one slot (or the due list). */
tw_time_t tw_wheel_next(tw_wheel *w);
/* Move the wheel's time forward to `now` (earlier times are ignored),
 * cascading entries as needed. */
void tw_wheel_advance(tw_wheel *w, tw_time_t now);
/* Advance to `now`, then remove and return one armed entry with
 * expiry <= now, or NULL. The order among due entries is deterministic and
 * roughly by expiry (exactly by slot, arbitrary within a slot). Inline for
 * the common answer, NULL with no time passed (`now` not past the wheel's
 * time) and nothing due, which leaves the wheel as it is: a stack polls far
 * more often than its timers fire. */
tw_wheel_entry *tw__wheel_pop_due(tw_wheel *w, tw_time_t now);
static inline tw_wheel_entry *tw_wheel_pop_due(tw_wheel *w, tw_time_t now) {
    if (now <= w->now && !w->due.head) return NULL;
    return tw__wheel_pop_due(w, now);
}
/* Number of armed entries. */
size_t tw_wheel_count(const tw_wheel *w);
/* The wheel's current time (the latest `now` it was advanced to). */
tw_time_t tw_wheel_now(const tw_wheel *w);

#endif
