/*
 * log.h - the event log: every sealed event this device holds, as it was signed.
 *
 * Each (group, author) pair has a log with a local number; its events are rows of the
 * `events` table keyed by log << 40 | seq, so one integer range holds one author's events
 * in order. Every statement that knows this key lives in log.c; nothing else spells it.
 *
 * Invariant: an author's events are held contiguously from seq 1 (apply.c defers anything
 * after a gap), so the last seq of a log is the highest contiguous seq held.
 */
#ifndef WW_LOG_H
#define WW_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "proto.h"
#include "wegwijs.h"

struct ww_store;

#define WW_SEQ_BITS 40
#define WW_SEQ_MASK ((1ll << WW_SEQ_BITS) - 1)
#define WW_MAX_LOGS (1ll << 22) /* logs per store: the key stays a positive int64 */

/* An author's log in a group: its local number (0 when it has no events yet) and its last
 * event's seq (0 when none), hash and hlc. */
struct ww_log_head {
    int64_t log;
    uint64_t seq;
    uint8_t hash[32];
    uint64_t hlc;
};

/* SQL: the events e of log l (the key range log << 40 | seq, as WW_SEQ_BITS says). */
#define WW_LOG_RANGE(e, l) e ".id BETWEEN (" l ".id << 40) AND (" l ".id << 40 | 1099511627775)"

int ww_log_head(struct ww_store *s, const uint8_t gid[16], const uint8_t author[32],
                struct ww_log_head *out);
/* The hash of event `seq` of a log into hash, and the length of its stored bytes into
 * *len (may be NULL): 1 when held, 0 when not (or on error, then *rc is set). */
int ww_log_hash_at(struct ww_store *s, int64_t log, uint64_t seq, uint8_t hash[32], size_t *len,
                   int *rc);
/* The hlc of event `seq` of an author's log in a group into *hlc: 1 when held, 0 when not
 * (or on error, then *rc is set). */
int ww_log_hlc_at(struct ww_store *s, const uint8_t gid[16], const uint8_t author[32], uint64_t seq,
                  uint64_t *hlc, int *rc);
/* The seq of the first held event of `kind` in an author's log in a group into *seq (0
 * when none). */
int ww_log_first_of_kind(struct ww_store *s, const uint8_t gid[16], const uint8_t author[32],
                         uint16_t kind, uint64_t *seq);
/* Replaces the stored bytes of event `seq` of a log (the same event, its body restored). */
int ww_log_replace(struct ww_store *s, int64_t log, uint64_t seq, const uint8_t *raw, size_t len);
/* A cut-off at the head of a device's log: its seq and the hash there (zero when empty). */
void ww_pin_head(struct ww_device_pin *p, const uint8_t device[32], const struct ww_log_head *h);
/* Drops event `seq` of a log and every later one: a branch that lost a fork (apply.c). */
int ww_log_truncate(struct ww_store *s, int64_t log, uint64_t seq);
/* Drops the events of an author in a group after seq last_seq or after hlc last_hlc
 * (UINT64_MAX: no such limit), a suffix of its log since hlc grows along it: what a
 * removal cuts off (kind_control.c). *cut: whether any was held. */
int ww_log_cut(struct ww_store *s, const uint8_t gid[16], const uint8_t author[32],
               uint64_t last_seq, uint64_t last_hlc, int *cut);
/* Moves every event of the group out of the log, oldest hlc first, into the scratch table
 * that ww_log_take_page reads; the group's logs are gone afterwards (rebuilding). */
int ww_log_take_group(struct ww_store *s, const uint8_t gid[16]);
/* Up to max events of the scratch table after *after, as ww_malloc'd copies the caller
 * frees; *after moves on. */
int ww_log_take_page(struct ww_store *s, int64_t *after, uint8_t **raws, size_t *lens, size_t max,
                     size_t *n_out);
/* Appends one event to a log, creating the log (head->log == 0) on its first event. */
int ww_log_append(struct ww_store *s, struct ww_log_head *head, const struct ww_header *h,
                  const uint8_t hash[32], const uint8_t *raw, size_t len);
/* A copy of the stored envelope of (group, author, seq) into out: WW_ENOTFOUND if not held. */
int ww_log_get(struct ww_store *s, const uint8_t gid[16], const uint8_t author[32], uint64_t seq,
               struct ww_buf *out);

/* Per author of the group, in ascending author order: the highest seq held and the hash of
 * the event held there. */
int ww_log_vv(struct ww_store *s, const uint8_t gid[16],
              void (*cb)(void *ud, const uint8_t author[32], uint64_t seq, const uint8_t hash[32]),
              void *ud);
/* Each event of the author's log in the group of this kind with an hlc above `hlc`, in seq
 * order, until cb returns non-zero (which is then returned). */
int ww_log_newer(struct ww_store *s, const uint8_t gid[16], const uint8_t author[32], uint16_t kind,
                 uint64_t hlc, int (*cb)(void *ud, const uint8_t *raw, size_t len), void *ud);
/* The events above `peer` (a vector of n authors), in (hlc, author, seq) order, at most
 * max_events and max_bytes (at least one); *more_out says whether more remain. */
int ww_log_missing(struct ww_store *s, const uint8_t gid[16], const struct ww_vv_item *peer,
                   size_t n_peer, size_t max_events, size_t max_bytes,
                   void (*cb)(void *ud, const uint8_t *event, size_t len), void *ud, int *more_out);
/* Every held event of the group with this audience, subject and epoch, oldest first; for
 * GROUP, every one of the epoch (the subject is then ignored). */
int ww_log_each(struct ww_store *s, const uint8_t gid[16], uint8_t audience,
                const uint8_t subject[16], uint32_t epoch,
                int (*cb)(void *ud, const uint8_t *raw, size_t len, const uint8_t hash[32]),
                void *ud);
/* Drops the bodies of the group's events written by `member`'s devices or about the member
 * (ww_event_about), up to hlc, whose kind is in kind_mask (bit k for kind k); a kind in
 * about_mask when it is about the member, whoever wrote it and whatever its hlc. */
int ww_log_strip_bodies(struct ww_store *s, const uint8_t gid[16], const uint8_t member[16],
                        uint64_t hlc, uint64_t kind_mask, uint64_t about_mask);

#endif
