/* assembler.c - the out-of-order range list. With at most TW_ASM_MAX (96)
 * ranges a linear scan and a memmove beat any tree; every operation is
 * O(TW_ASM_MAX). */
#include "util/assembler.h"

#include <string.h>

void tw_asm_init(tw_asm *a) {
    a->n = 0; /* r[] beyond n is never read */
}

bool tw_asm_empty(const tw_asm *a) {
    return a->n == 0;
}

int tw_asm_add(tw_asm *a, uint32_t off, uint32_t len) {
    if (len == 0) return 0;
    uint64_t end64 = (uint64_t)off + len;
    uint32_t end = end64 > UINT32_MAX ? UINT32_MAX : (uint32_t)end64;
    int n = a->n;
    /* lo: first range that ends at or after off (overlaps or touches us);
     * hi: one past the last range that starts at or before end. */
    int lo = 0;
    while (lo < n && a->r[lo].end < off) lo++;
    int hi = lo;
    while (hi < n && a->r[hi].start <= end) hi++;
    if (lo == hi) {
        /* No range to merge with: insert a new one at lo. */
        if (n >= TW_ASM_MAX) return -1;
        memmove(&a->r[lo + 1], &a->r[lo], (size_t)(n - lo) * sizeof a->r[0]);
        a->r[lo].start = off;
        a->r[lo].end = end;
        a->n = (uint8_t)(n + 1);
        return 0;
    }
    /* Ranges lo..hi-1 collapse into one. */
    if (a->r[lo].start < off) off = a->r[lo].start;
    if (a->r[hi - 1].end > end) end = a->r[hi - 1].end;
    a->r[lo].start = off;
    a->r[lo].end = end;
    int gone = hi - lo - 1;
    if (gone > 0) {
        memmove(&a->r[lo + 1], &a->r[hi], (size_t)(n - hi) * sizeof a->r[0]);
        a->n = (uint8_t)(n - gone);
    }
    return 0;
}

uint32_t tw_asm_take_front(tw_asm *a) {
    if (a->n == 0 || a->r[0].start != 0) return 0;
    uint32_t len = a->r[0].end;
    a->n--;
    memmove(&a->r[0], &a->r[1], (size_t)a->n * sizeof a->r[0]);
    return len;
}

void tw_asm_shift(tw_asm *a, uint32_t n) {
    if (n == 0) return;
    int drop = 0;
    while (drop < a->n && a->r[drop].end <= n) drop++;
    int keep = a->n - drop;
    memmove(&a->r[0], &a->r[drop], (size_t)keep * sizeof a->r[0]);
    for (int i = 0; i < keep; i++) {
        a->r[i].start = a->r[i].start > n ? a->r[i].start - n : 0;
        a->r[i].end -= n;
    }
    a->n = (uint8_t)keep;
}

uint32_t tw_asm_bytes(const tw_asm *a) {
    uint32_t total = 0;
    for (int i = 0; i < a->n; i++) total += a->r[i].end - a->r[i].start;
    return total;
}

bool tw_asm_contains(const tw_asm *a, uint32_t off, uint32_t len) {
    if (len == 0) return true; /* vacuously covered */
    uint64_t end = (uint64_t)off + len;
    for (int i = 0; i < a->n; i++)
        if (a->r[i].start <= off && end <= a->r[i].end) return true;
    return false;
}
