/*
 * buf.h - a growable byte buffer with a hard maximum.
 *
 * Encoders write into a ww_buf; it never grows past `max`, so no encoder (and no peer
 * that makes us encode) can make memory grow without bound.
 */
#ifndef WW_BUF_H
#define WW_BUF_H

#include <stddef.h>
#include <stdint.h>

struct ww_buf {
    uint8_t *p;
    size_t len;
    size_t cap;
    size_t max; /* hard limit on len; 0 means the default, WW_BUF_DEFAULT_MAX */
};

#define WW_BUF_DEFAULT_MAX (2u << 20)

void ww_buf_init(struct ww_buf *b, size_t max);
/* Appends n bytes; WW_ETOOBIG past max, WW_ENOMEM when the allocator fails. */
int ww_buf_append(struct ww_buf *b, const void *data, size_t n);
/* Empties the buffer, keeping its memory. */
void ww_buf_reset(struct ww_buf *b);
/* Releases the memory; the buffer is then empty and reusable. */
void ww_buf_free(struct ww_buf *b);

#endif
