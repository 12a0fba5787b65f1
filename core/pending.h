/*
 * pending.h - events kept aside, and evidence of forks.
 *
 * An event that is valid so far but cannot be placed yet (its group, author, epoch or
 * predecessor is not known, or its clock is too far ahead) waits in `pending` until a
 * later batch brings its cause; apply.c retries the waiting events after every batch that
 * may have. Two different events with the same (author, seq) are a fork: the first one
 * held stays, the other is kept as evidence, a few per author.
 *
 * Invariants: the table is bounded (per group and in all); a retry pass sees each row at
 * most once, because it only takes rows that existed when the pass began.
 */
#ifndef WW_PENDING_H
#define WW_PENDING_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct ww_store;

#define WW_MAX_PENDING     4096  /* events kept aside per group while they wait for a cause */
#define WW_MAX_PENDING_ALL 65536 /* ... and in all */
#define WW_MAX_FORKS       16    /* forks kept per author as evidence */

/* Counts of waiting events, read once per batch rather than once per event. */
struct ww_pending_counts {
    int loaded;
    int64_t all;
    uint8_t gid[16];
    int64_t in_group;
};

/* Keeps an event aside for `reason` (a WW_E* code). 0 when kept; `reason` itself when the
 * quota is exhausted (the event is then refused for that reason); or a store error. */
int ww_pending_defer(struct ww_store *s, struct ww_pending_counts *c, const struct ww_header *h,
                     const uint8_t *raw, size_t len, int reason);
/* Keeps a forked event as evidence (the first WW_MAX_FORKS per author). */
int ww_pending_fork(struct ww_store *s, const struct ww_header *h, const uint8_t hash[32],
                    const uint8_t *raw, size_t len, const uint8_t held[32]);
/* 1 when an event of (gid, author) waits, or an event from the future is now due. */
int ww_pending_waits(struct ww_store *s, const uint8_t gid[16], const uint8_t author[32]);
int ww_pending_due(struct ww_store *s, int64_t horizon_ms);
/* The highest row id of the table now (0 when empty): the end of a retry pass. */
int ww_pending_last(struct ww_store *s, int64_t *out);
/* Removes and returns up to max waiting events with row id in (*after, upto], in row id
 * order; raws[i] are ww_malloc'd copies the caller frees. *after moves to the last taken. */
int ww_pending_take(struct ww_store *s, int64_t *after, int64_t upto, uint8_t **raws, size_t *lens,
                    size_t max, size_t *n_out);

#endif
