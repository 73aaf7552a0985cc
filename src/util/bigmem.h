/* bigmem.h - hints for the stack's few very large arrays. */
#ifndef TW_UTIL_BIGMEM_H
#define TW_UTIL_BIGMEM_H

#include <stddef.h>

/* Arrays at least this large are worth huge pages. */
#define TW_BIGMEM_MIN ((size_t)4 << 20)

/* Asks the kernel to back [p, p + n) with transparent huge pages (Linux
 * MADV_HUGEPAGE) when n >= TW_BIGMEM_MIN; a no-op elsewhere or when refused.
 * Call it before the memory is first touched. */
void tw_bigmem_hint(void *p, size_t n);

#endif
