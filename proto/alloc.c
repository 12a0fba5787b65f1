/*
 * alloc.c - allocator seam: a thin layer over the C library that counts live blocks and
 * can be told to fail, so tests can prove every allocation failure is handled.
 */
#include "alloc.h"

#include <stdlib.h>

static long outstanding;
static long fail_countdown = -1;

static int should_fail(void)
{
    if (fail_countdown < 0)
        return 0;
    if (fail_countdown == 0)
        return 1;
    fail_countdown--;
    return 0;
}

void *ww_malloc(size_t n)
{
    if (should_fail())
        return NULL;
    void *p = malloc(n ? n : 1);
    if (p)
        outstanding++;
    return p;
}

void *ww_calloc(size_t count, size_t size)
{
    if (should_fail())
        return NULL;
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (p)
        outstanding++;
    return p;
}

void *ww_realloc(void *p, size_t n)
{
    if (!p)
        return ww_malloc(n);
    if (should_fail())
        return NULL;
    return realloc(p, n ? n : 1);
}

void ww_free(void *p)
{
    if (!p)
        return;
    outstanding--;
    free(p);
}

long ww_alloc_outstanding(void)
{
    return outstanding;
}

void ww_alloc_fail_after(long n)
{
    fail_countdown = n;
}
