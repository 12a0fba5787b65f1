/*
 * alloc.h - the one allocator seam of the library.
 *
 * All heap memory the library owns comes from ww_malloc/ww_calloc/ww_realloc and goes
 * back through ww_free. Tests use the hooks to count outstanding allocations and to fail
 * the Nth one, so every error path that handles out-of-memory is exercised.
 */
#ifndef WW_ALLOC_H
#define WW_ALLOC_H

#include <stddef.h>

void *ww_malloc(size_t n);
void *ww_calloc(size_t count, size_t size);
void *ww_realloc(void *p, size_t n);
void ww_free(void *p);

/* Test hooks. ww_alloc_outstanding() counts live blocks. ww_alloc_fail_after(n) makes the
 * allocation after the next n succeed-able ones fail (n < 0 disables). */
long ww_alloc_outstanding(void);
void ww_alloc_fail_after(long n);

#endif
