/*
 * memory.c - hints to the kernel about large arrays. A dataset of millions
 * of rows is one array of a few hundred MiB, touched a page at a time as
 * rows arrive: with 4 KiB pages that is one page fault per 16 rows, a fair
 * share of reading a large file. Transparent huge pages (Linux, when the
 * system leaves them to madvise) cut that 512-fold.
 */
#define _DEFAULT_SOURCE 1 /* madvise's MADV_HUGEPAGE beside _POSIX_C_SOURCE */
#include <stdint.h>

#include "core/internal.h"

#if defined(__linux__)
#include <sys/mman.h>
#endif

#define HUGE_PAGE ((uintptr_t)2 << 20)

void esl__advise_huge(void *p, size_t size)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (p == NULL || size < 2 * HUGE_PAGE)
        return;
    /* the whole huge pages inside [p, p + size) */
    uintptr_t start = ((uintptr_t)p + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    uintptr_t end = ((uintptr_t)p + size) & ~(HUGE_PAGE - 1);
    if (end > start)
        (void)madvise((void *)start, end - start, MADV_HUGEPAGE);
#else
    (void)p, (void)size;
#endif
}
