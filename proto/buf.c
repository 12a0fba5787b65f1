/*
 * buf.c - growable byte buffer with a hard maximum (see buf.h).
 * Invariant: len <= cap, len <= max; p is NULL exactly when cap is 0.
 */
#include "buf.h"

#include <string.h>

#include "alloc.h"
#include "ww_err.h"

void ww_buf_init(struct ww_buf *b, size_t max)
{
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max ? max : WW_BUF_DEFAULT_MAX;
}

int ww_buf_append(struct ww_buf *b, const void *data, size_t n)
{
    if (n > b->max - b->len)
        return WW_ETOOBIG;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        if (cap > b->max)
            cap = b->max;
        uint8_t *p = ww_realloc(b->p, cap);
        if (!p)
            return WW_ENOMEM;
        b->p = p;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
    return 0;
}

void ww_buf_reset(struct ww_buf *b)
{
    b->len = 0;
}

void ww_buf_free(struct ww_buf *b)
{
    ww_free(b->p);
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
}
