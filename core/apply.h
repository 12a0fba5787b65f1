/*
 * apply.h - the pipeline every event takes into the store (apply.c).
 */
#ifndef WW_APPLY_H
#define WW_APPLY_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "proto.h"
#include "wegwijs.h"

struct ww_store;

/* How far ahead of our clock an event may be and still be applied; further ahead it waits
 * until it is due, unless it would not be due before its pending row expires (pending.h):
 * then it never can be, and is refused. */
#define WW_MAX_SKEW_MS (24ll * 3600 * 1000)

/*
 * Applies a batch of sealed events inside the caller's transaction. cb (may be NULL) hears
 * the outcome of every event of the batch and of every deferred event it released.
 * *primary_accepted (may be NULL): how many of these n events were applied, not counting
 * released ones. Returns 0 unless the store itself failed: then the caller rolls back.
 */
int ww_apply_batch(struct ww_store *s, const uint8_t *const *events, const size_t *lens, size_t n,
                   struct ww_apply_result *res, size_t *primary_accepted, ww_outcome_cb cb,
                   void *ud);
/* Materialises the held events that a newly received key makes readable. */
int ww_apply_unread(struct ww_store *s, const uint8_t gid[16], uint8_t audience,
                    const uint8_t subject[16], uint32_t epoch);
/* Decrypts and decodes the body of a held event into pt (body's slices point into pt). */
int ww_read_body(struct ww_store *s, const uint8_t gid[16], const uint8_t author[32], uint64_t seq,
                 struct ww_buf *pt, struct ww_body *body);

#endif
