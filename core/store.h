/*
 * store.h - core internals shared by the modules of libwegwijs (never installed).
 *
 * A struct ww_store is one device: its identity keys, its SQLite database and a few
 * caches. The database holds two kinds of tables:
 *  - `events`: every sealed event exactly as received (the log; what sync forwards);
 *  - materialised tables (groups, members, reflections, ...): derived from the log by
 *    rules that do not depend on arrival order, so every replica with the same events
 *    and keys holds the same rows.
 * Both are written in the same transaction, so they never disagree.
 */
#ifndef WW_STORE_H
#define WW_STORE_H

#include <sqlite3.h>
#include <stdint.h>

#include "buf.h"
#include "proto.h"
#include "wegwijs.h"

#define WW_SCHEMA_VERSION    1
#define WW_MAX_PENDING       4096  /* events kept aside per group while they wait for a cause */
#define WW_MAX_PENDING_ALL   65536 /* ... and in all */
#define WW_MAX_FORKS         16    /* forks kept per author as evidence */
#define WW_MAX_SKEW_MS       (24ll * 3600 * 1000) /* how far ahead of our clock an event may be */
#define WW_MAX_GROUP_DEVICES 48                   /* devices in one group, all members together */

/* The statement cache: every query is prepared once, keyed by its SQL literal. */
#define WW_STMT_CACHE 128
struct ww_stmt_slot {
    const char *sql;
    sqlite3_stmt *stmt;
};

/* What this device knows of one group, cached between calls (reloaded after any control
 * event of that group). */
struct ww_devinfo {
    uint8_t device[WW_PK_LEN];
    uint8_t member[WW_MEMBER_ID_LEN];
    int role;
    uint32_t added_epoch;
    uint32_t removed_epoch; /* UINT32_MAX while active */
    uint64_t removed_hlc;   /* UINT64_MAX while active */
};

struct ww_keyinfo {
    uint8_t audience;
    uint8_t subject[WW_MEMBER_ID_LEN];
    uint32_t epoch;
    uint8_t key[32];
};

#define WW_CACHE_DEVICES 64 /* > WW_MAX_GROUP_DEVICES: the cache always holds them all */
#define WW_CACHE_KEYS    256

struct ww_group_cache {
    int valid;
    uint8_t gid[WW_GROUP_ID_LEN];
    int exists;
    uint8_t owner[WW_PK_LEN];
    uint32_t epoch;
    int has_agg;
    uint8_t agg_pk[32];
    int has_erasures; /* any erasure in this group: only then are events checked against them */
    size_t n_devices;
    struct ww_devinfo devices[WW_CACHE_DEVICES];
    size_t n_keys; /* keys this device holds for the group (a cache; may be partial) */
    struct ww_keyinfo keys[WW_CACHE_KEYS];
    int keys_complete; /* n_keys holds every key in the table */
};

struct ww_store {
    sqlite3 *db;
    struct ww_stmt_slot stmts[WW_STMT_CACHE];
    char *dir;
    uint8_t pk[32];       /* Ed25519 public key: the device id */
    uint8_t *sk;          /* Ed25519 secret key, 64 bytes, sodium_malloc'd */
    uint8_t curve_pk[32]; /* X25519 keys converted from the above, to open key wraps */
    uint8_t *curve_sk;    /* 32 bytes, sodium_malloc'd */
    uint8_t *agg_sk;      /* aggregator X25519 secret, when this device holds one */
    uint8_t agg_pk[32];
    struct ww_options opt;
    uint64_t hlc;         /* last HLC issued or seen */
    int64_t data_version; /* PRAGMA data_version when the cache was last checked */
    struct ww_group_cache cache;
    struct ww_buf scratch; /* reusable encode buffer */
};

/* ---- store.c ---- */
int ww_db_exec(struct ww_store *s, const char *sql);
int ww_db_begin(struct ww_store *s);
int ww_db_commit(struct ww_store *s);
void ww_db_rollback(struct ww_store *s);
int ww_db_err(struct ww_store *s, int sqlite_rc); /* translate a SQLite result */
/* The cached statement for sql (a string literal), reset and with bindings cleared.
 * NULL when it cannot be prepared (a programming error; the reason is in sqlite3_errmsg). */
sqlite3_stmt *ww_sql(struct ww_store *s, const char *sql);
/* Steps a statement that returns no rows; 0 or a translated error. */
int ww_sql_done(struct ww_store *s, sqlite3_stmt *st);
int64_t ww_store_now_ms(struct ww_store *s);
void ww_store_random(struct ww_store *s, uint8_t *buf, size_t len);
uint64_t ww_hlc_next(struct ww_store *s);
void ww_hlc_observe(struct ww_store *s, uint64_t hlc);
int ww_hlc_save(struct ww_store *s);

/* ---- identity.c ---- */
int ww_identity_load(struct ww_store *s);
void ww_identity_free(struct ww_store *s);
int ww_aggregator_load(struct ww_store *s, int create);

/* ---- seal.c: the crypto of one event ---- */
void ww_hash_domain(const char *domain, const uint8_t *a, size_t alen, const uint8_t *b,
                    size_t blen, const uint8_t *c, size_t clen, uint8_t *out, size_t outlen);
void ww_event_hash(const struct ww_slice *header_bytes, const uint8_t ct_hash[32],
                   const uint8_t sig[64], uint8_t out[32]);
void ww_ct_hash(const uint8_t *body, size_t len, uint8_t out[32]);
int ww_sig_verify(const struct ww_envelope *env);
int ww_event_sign(const struct ww_store *s, const struct ww_slice *header_bytes,
                  const uint8_t ct_hash[32], uint8_t sig[64]);
/* Encrypts plaintext for the header's audience into `out` (cleared first). */
int ww_body_seal(struct ww_store *s, const struct ww_slice *header_bytes, uint8_t audience,
                 const uint8_t key[32], const uint8_t *agg_pk, const uint8_t *pt, size_t ptlen,
                 struct ww_buf *out);
/* Decrypts a GROUP/PAIR/SELF body with key, or an AGG body with the aggregator secret. */
int ww_body_open(const struct ww_envelope *env, const uint8_t key[32], const uint8_t *agg_sk,
                 const uint8_t *agg_pk, struct ww_buf *out);
int ww_wrap_key(const uint8_t key[32], const uint8_t device[32], uint8_t sealed[80]);
int ww_unwrap_key(struct ww_store *s, const uint8_t sealed[80], uint8_t key[32]);

/* ---- group.c: the cache and shared lookups ---- */
int ww_cache_load(struct ww_store *s, const uint8_t gid[WW_GROUP_ID_LEN]);
void ww_cache_invalidate(struct ww_store *s);
const struct ww_devinfo *ww_cache_device(struct ww_store *s, const uint8_t device[WW_PK_LEN]);
/* The key for (audience, subject, epoch) of the cached group, or NULL; _nth gives the n-th
 * of several (two devices of one member may each have made a SELF key). */
const uint8_t *ww_cache_key(struct ww_store *s, uint8_t audience, const uint8_t *subject,
                            uint32_t epoch);
const uint8_t *ww_cache_key_nth(struct ww_store *s, uint8_t audience, const uint8_t *subject,
                                uint32_t epoch, size_t n);
/* This device's membership in the cached group: NULL when not a member. */
const struct ww_devinfo *ww_cache_me(struct ww_store *s);

/* ---- emit.c: authoring ---- */
struct ww_emit {
    uint16_t kind;
    uint8_t audience;
    const uint8_t *subject; /* PAIR / SELF */
    const uint8_t *ref;
    size_t ref_len;
    const struct ww_body *body;
};
/* Seals one event as this device, with the given plaintext body bytes, into `out`
 * without applying it (tests use it to craft events a peer could send). */
int ww_seal(struct ww_store *s, const uint8_t gid[WW_GROUP_ID_LEN], const struct ww_emit *e,
            const uint8_t *pt, size_t ptlen, struct ww_buf *out, uint8_t hash_out[32]);
/* Seals one event as this device and applies it through the same path as a peer's
 * events, inside the caller's transaction. hash_out may be NULL. */
int ww_emit(struct ww_store *s, const uint8_t gid[WW_GROUP_ID_LEN], const struct ww_emit *e,
            uint8_t hash_out[32]);
/* ww_emit in a transaction of its own. */
int ww_emit_tx(struct ww_store *s, const uint8_t gid[WW_GROUP_ID_LEN], const struct ww_emit *e,
               uint8_t hash_out[32]);
/* Runs fn inside one transaction; rolls back when it fails. */
int ww_tx(struct ww_store *s, int (*fn)(struct ww_store *s, void *ud), void *ud);

/* ---- apply.c ---- */
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
int ww_log_head(struct ww_store *s, const uint8_t gid[16], const uint8_t author[32],
                struct ww_log_head *out);
/* *primary_accepted (may be NULL): how many of these n events were applied, not counting
 * deferred events that they let through. */
int ww_apply_batch(struct ww_store *s, const uint8_t *const *events, const size_t *lens, size_t n,
                   struct ww_apply_result *res, size_t *primary_accepted);
/* Decrypts and decodes the body of a held event into pt (body's slices point into pt). */
int ww_read_body(struct ww_store *s, const uint8_t gid[16], const uint8_t author[32], uint64_t seq,
                 struct ww_buf *pt, struct ww_body *body);
/* Materialises events that a newly received key makes readable. */
int ww_apply_unread(struct ww_store *s, const uint8_t gid[16], uint8_t audience,
                    const uint8_t subject[16], uint32_t epoch);

/* Records that the SELF key `key` of (member, epoch) is wrapped for `device`. */
int ww_key_recipient_put(struct ww_store *s, const uint8_t gid[16], const uint8_t member[16],
                         uint32_t epoch, const uint8_t key[32], const uint8_t device[32]);

/* ---- util.c ---- */
/* A slice over a C string; NULL gives the empty slice. */
struct ww_slice ww_slice_of(const char *t);
/* 0 for acceptable text: at most max bytes of valid text (ww_text_valid); NULL or "" only
 * when not required (WW_EINVAL). Otherwise WW_ETOOBIG or WW_EUTF8. */
int ww_text_check(const char *t, size_t max, int required);
/* The 4-byte `ref` of a dated record: the date, big-endian. */
void ww_date_ref(uint32_t date, uint8_t ref[4]);
struct ww_json {
    struct ww_buf b;
    int rc;
    int first; /* no comma before the next member */
};
void ww_json_init(struct ww_json *j);
void ww_json_raw(struct ww_json *j, const char *s);
void ww_json_key(struct ww_json *j, const char *key);
void ww_json_str(struct ww_json *j, const char *s, size_t len);
void ww_json_int(struct ww_json *j, int64_t v);
void ww_json_hexval(struct ww_json *j, const uint8_t *bin, size_t len);
void ww_json_open(struct ww_json *j, char c);  /* '{' or '[' */
void ww_json_close(struct ww_json *j, char c); /* '}' or ']' */

#endif
