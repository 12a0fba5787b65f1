/*
 * fixture.h - helpers for core tests: stores with a fake clock and seeded randomness in
 * the test's temporary folder, moving a group's events between stores, and a digest of a
 * store's whole materialised state for convergence checks.
 */
#ifndef WW_TEST_FIXTURE_H
#define WW_TEST_FIXTURE_H

#include <stdint.h>

#include "proto.h"
#include "wegwijs.h"

/* The shared fake clock: 2026-11-23 08:00 Europe/Amsterdam unless a test moves it. */
extern int64_t fx_now;
#define FX_MONDAY_0800 1795417200000LL

/* The events the members wrote, in SQL: each device also writes a sync.report (kind 21) as
 * its syncs complete, which the tests of sync health count on their own. */
#define WRITTEN_EVENTS "SELECT count(*) FROM events WHERE kind<>21"

/* Opens (creating) the device in <tmpdir>/<name>, seeded by name. */
struct ww_store *fx_open(const char *name);
/* The same with another database file name in the same folder (same identity). */
struct ww_store *fx_open_db(const char *name, const char *db);
/* Moves every event of the group that `to` lacks, in batches of `batch`; asserts nothing
 * was rejected. Returns the number of events accepted. */
size_t fx_sync(struct ww_store *from, struct ww_store *to, const uint8_t gid[16], size_t batch);
/* Both ways. */
struct fx_bag;
/* Collects into bag (empty) the events `from` holds beyond `to`'s version vector. */
void fx_missing(struct ww_store *from, struct ww_store *to, const uint8_t gid[16],
                struct fx_bag *bag);
/* What `from` holds and `to` lacks, applied in batches until nothing more applies, as
 * fx_sync but with refusals allowed (a hostile or a removed peer's events). */
void fx_deliver(struct ww_store *from, struct ww_store *to, const uint8_t gid[16]);
/* What `from` holds and `to` lacks, one event at a time: those by `first` before all others
 * (a new owner's events before the old owner's log, say). Returns the events refused. */
size_t fx_deliver_first(struct ww_store *from, struct ww_store *to, const uint8_t gid[16],
                        const uint8_t first[32]);
/* The group as ww_group_get gives it (its strings not kept). */
void fx_group_info(struct ww_store *s, const uint8_t gid[16], struct ww_group_info *out);
void fx_sync2(struct ww_store *a, struct ww_store *b, const uint8_t gid[16]);
/* BLAKE2b of every materialised table, ordered by primary key. */
void fx_digest(struct ww_store *s, uint8_t out[32]);
/* The same without one table (NULL: none). */
void fx_digest_except(struct ww_store *s, const char *skip, uint8_t out[32]);
/* Counts rows of a table matching a WHERE clause (test-only SQL). */
long fx_count(struct ww_store *s, const char *sql);
/* The hashes of the events s holds, in hash order, as one digest: which events, not how. */
void fx_events_digest(struct ww_store *s, uint8_t out[32]);
void fx_device(struct ww_store *s, uint8_t pk[32]);

/* The owner's member id in the group (groups.coach). */
void fx_coach_member(struct ww_store *s, uint8_t out[16]);

/* One sealed event, as a peer would send it. */
struct fx_ev {
    uint8_t raw[WW_MAX_EVENT];
    size_t len;
};
/* Seals a PLAIN body as s without applying it: what a device that skips its own checks
 * sends. */
void fx_seal_plain(struct ww_store *s, const uint8_t gid[16], const struct ww_body *b,
                   struct fx_ev *out);
/* Applies one event through ww_sync_apply (which must not fail) and returns the result. */
struct ww_apply_result fx_apply1(struct ww_store *s, const struct fx_ev *ev);

/* The hash of event `seq` of author in s's copy of the group, and the seq of its head. */
void fx_hash_at(struct ww_store *s, const uint8_t gid[16], const uint8_t author[32], uint64_t seq,
                uint8_t out[32]);
uint64_t fx_head_seq(struct ww_store *s, const uint8_t gid[16], const uint8_t author[32]);
/* Seals body b as device s with the header fields given (seq, prev, hlc, epoch): what any
 * holder of a device key can sign at any time, e.g. from an old copy of its data. GROUP
 * bodies are encrypted with the key s holds for that epoch; hash gets the event hash. */
void fx_craft(struct ww_store *s, const uint8_t gid[16], const struct ww_body *b, uint8_t audience,
              const uint8_t *ref, size_t ref_len, uint64_t seq, const uint8_t prev[32],
              uint64_t hlc, uint32_t epoch, struct fx_ev *out, uint8_t hash[32]);
/* A fork of s's event `seq` (as `ref` holds it) that wins by the lower-hash rule (6.16 step
 * 3): the hlc moves up from `hlc` until its hash is below the held one. */
void fx_craft_winning_fork(struct ww_store *s, struct ww_store *ref, const uint8_t gid[16],
                           const struct ww_body *b, uint8_t audience, const uint8_t *r,
                           size_t r_len, uint64_t seq, uint64_t hlc, uint32_t epoch,
                           struct fx_ev *out);

/* An event of a kind from the future, signed by device x at `seq` of its log in the group,
 * its predecessor made up: it waits (pending) for a predecessor that never comes. */
void fx_stuck_event(struct ww_store *x, const uint8_t gid[16], uint64_t seq, struct fx_ev *out);

/* Events collected from ww_sync_missing: pass fx_bag_add as its callback. */
struct fx_bag {
    uint8_t *raw[256];
    size_t len[256];
    size_t n;
};
void fx_bag_add(void *ud, const uint8_t *ev, size_t len);
void fx_bag_free(struct fx_bag *b);

/* A group: coach (owner), up to 4 students, a senior; all synced. */
struct fx_group {
    struct ww_store *coach, *st[4], *senior;
    uint8_t gid[16];
    uint8_t m_st[4][16], m_senior[16];
    int n_students;
    char code[WW_RECOVERY_CODE_MAX]; /* fx_group_make_recoverable: the recovery code */
};
void fx_group_make(struct fx_group *g, int n_students, int with_senior, const uint8_t *agg_pk);
/* The same group, made with a recovery code (in g->code). */
void fx_group_make_recoverable(struct fx_group *g, int n_students);
void fx_group_sync(struct fx_group *g); /* everyone with the coach, twice round */
void fx_group_close(struct fx_group *g);

/* Whether the file at path holds these bytes anywhere (0 when it does not exist). */
int fx_file_has(const char *path, const char *needle);

#endif
