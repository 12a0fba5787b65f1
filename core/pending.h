/*
 * pending.h - events kept aside, and evidence of forks.
 *
 * An event that is valid so far but cannot be placed yet (its group, author, epoch or
 * predecessor is not known, or its clock is too far ahead) waits in `pending` until a
 * later batch brings its cause; apply.c retries the waiting events after every batch that
 * may have. Two different events with the same (author, seq) are a fork: the first one
 * held stays, the other is kept as evidence, a few per author.
 *
 * Invariants: the table is bounded (per author, per group and in all, with a small share
 * for strangers) and every row but this device's own expires; a retry pass sees each row
 * at most once, because it only takes rows that existed when the pass began.
 */
#ifndef WW_PENDING_H
#define WW_PENDING_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct ww_store;

/* Quotas. A stranger is an author that is not a device of the group (or of a group this
 * device does not hold): anyone can make a key, so strangers share a much smaller part of
 * the table, and no one author can fill its part alone. */
#define WW_MAX_PENDING               4096  /* events of the group's devices, per group */
#define WW_MAX_PENDING_ALL           65536 /* ... and in all */
#define WW_MAX_PENDING_AUTHOR        1024  /* ... and per author */
#define WW_MAX_PENDING_STRANGERS     512   /* events of strangers, per group */
#define WW_MAX_PENDING_STRANGERS_ALL 8192  /* ... and in all */
#define WW_MAX_PENDING_STRANGER      64    /* ... and per author */
/* How long an event waits before it is dropped (by this device's clock, from the moment it
 * was kept aside). A peer never counts a waiting event as held, so a sync brings it again. */
#define WW_PENDING_TTL_MS          (30ll * 24 * 3600 * 1000)
#define WW_PENDING_STRANGER_TTL_MS (24ll * 3600 * 1000)
#define WW_MAX_FORKS               16 /* forks kept per author as evidence */

/* Counts of waiting events, read once per batch rather than once per event; index 0 for
 * the group's devices, 1 for strangers. loaded = 0 makes every count be read again. */
struct ww_pending_counts {
    int loaded;
    int purged; /* expired rows were dropped during this batch */
    int64_t all[2];
    uint8_t gid[16];
    int64_t in_group[2];
    uint8_t author[32];
    int64_t by_author;
};

/* Keeps an event aside for `reason` (a WW_E* code); `stranger` says its author is not a
 * device of the group. 0 when kept; 1 when it was kept aside already (a peer sent it again);
 * `reason` itself when a quota is exhausted even after dropping expired rows (the event is
 * then refused for that reason); or a store error. */
int ww_pending_defer(struct ww_store *s, struct ww_pending_counts *c, const struct ww_header *h,
                     const uint8_t *raw, size_t len, int reason, int stranger);
/* Drops the rows whose time is up. */
int ww_pending_expire(struct ww_store *s);
/* Where an author's held log may part from the branch a cut-off at `upto` keeps: *keep is
 * the seq below the first fork of the author on record at or below upto (none: 0). The
 * recorded forks above *keep move to pending (the caller drops the log above *keep). */
int ww_pending_unfork(struct ww_store *s, struct ww_pending_counts *c, const uint8_t gid[16],
                      const uint8_t author[32], uint64_t upto, uint64_t *keep);
/* 1 while fewer than WW_MAX_FORKS forks of (gid, author) are recorded, else 0 (or an error). */
int ww_pending_fork_room(struct ww_store *s, const uint8_t gid[16], const uint8_t author[32]);
/* How many forks of (gid, author) are recorded, into *n. */
int ww_pending_forks(struct ww_store *s, const uint8_t gid[16], const uint8_t author[32],
                     uint64_t *n);
/* Keeps a forked event as evidence (the first WW_MAX_FORKS per author). */
int ww_pending_fork(struct ww_store *s, const struct ww_header *h, const uint8_t hash[32],
                    const uint8_t *raw, size_t len, const uint8_t held[32]);
/* Drops the waiting event (group, author, seq) of h if it is exactly these bytes: an event
 * of a branch that lost a fork, which can never be placed. */
int ww_pending_drop(struct ww_store *s, const struct ww_header *h, const uint8_t *raw, size_t len);
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
