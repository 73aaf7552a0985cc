/* bigmem.c - transparent huge pages for the 4-tuple buckets and the TIME_WAIT
 * records.
 *
 * With 10^6 TIME_WAIT records the table is some 60 MB touched at random: one
 * bucket and one record per lookup, each on its own 4 KB page, so nearly
 * every lookup also misses the TLB. Backed by 2 MB pages the same arrays need
 * a few dozen TLB entries. Linux gives huge pages to the aligned 2 MB ranges
 * of a region marked MADV_HUGEPAGE as they are first touched (the machine's
 * `transparent_hugepage/enabled` must be `madvise` or `always`); memory from
 * malloc stays malloc's (and counted by it), only the hint is added. */
#define _DEFAULT_SOURCE
#include "util/bigmem.h"

#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

void tw_bigmem_hint(void *p, size_t n) {
#ifdef MADV_HUGEPAGE
    if (!p || n < TW_BIGMEM_MIN) return;
    long pg = sysconf(_SC_PAGESIZE);
    uintptr_t mask = (uintptr_t)(pg > 0 ? pg : 4096) - 1;
    uintptr_t a = ((uintptr_t)p + mask) & ~mask, e = ((uintptr_t)p + n) & ~mask;
    if (e > a) (void)madvise((void *)a, e - a, MADV_HUGEPAGE); /* a hint: failure is fine */
#else
    (void)p;
    (void)n;
#endif
}
