/*
 * store.h - core internals shared by the modules of libwegwijs (never installed).
 *
 * A struct ww_store is one device: its identity keys, its SQLite database and a few
 * caches. The subsystems have headers of their own (log.h, pending.h, group.h, keyring.h,
 * kind.h, apply.h, seal.h); this one holds the store itself. The database holds two kinds of
 * tables:
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
#include "group.h"
#include "proto.h"
#include "wegwijs.h"

#define WW_SCHEMA_VERSION 13
#define WW_STR_(x)        #x
#define WW_STR(x)         WW_STR_(x)

/* The statement cache: every query is prepared once, keyed by its SQL literal. */
#define WW_STMT_CACHE 128
struct ww_stmt_slot {
    const char *sql;
    sqlite3_stmt *stmt;
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
    int64_t data_version; /* PRAGMA data_version when the caches were last checked */
    /* What this device knows of its groups, the most recently used kept (group.h). An entry
     * is good while its generation is the store's: a rollback or another connection's
     * write bumps the store's generation, and every entry is then reloaded on next use. */
    struct ww_group_cache caches[WW_CACHE_GROUPS];
    struct ww_group_cache *cache; /* the group of the last ww_cache_load */
    uint64_t generation;
    uint64_t tick;
    int tx_depth;     /* 0 outside a transaction; 1 in one; more in savepoints inside it */
    int climate_live; /* a hub serves climate of open windows too (ww_climate_live) */
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
/* The error behind a NULL from ww_sql: WW_ENOMEM when SQLite ran out of memory, else
 * WW_ESTORE. */
int ww_sql_failed(struct ww_store *s);
/* Binds a copy of a blob, or of a text slice ("" when empty). */
void ww_bind_blob(sqlite3_stmt *st, int i, const void *p, size_t n);
void ww_bind_text(sqlite3_stmt *st, int i, const struct ww_slice *t);
/* The first column of the first row of a cached statement (0 when there is none), which
 * may be NULL from ww_sql; 0 or a translated error. */
int ww_sql_int(struct ww_store *s, sqlite3_stmt *st, int64_t *out);
/* Steps a statement that returns no rows; 0 or a translated error. */
int ww_sql_done(struct ww_store *s, sqlite3_stmt *st);
int64_t ww_store_now_ms(struct ww_store *s);
/* 1 when rc is a failure of the store (or memory) rather than a verdict on the input. */
static inline int ww_store_failure(int rc)
{
    return rc == WW_ESTORE || rc == WW_ENOMEM || rc == WW_EFULL || rc == WW_EIO || rc == WW_EBUSY ||
           rc == WW_ECORRUPT || rc == WW_EPERM;
}
void ww_store_random(struct ww_store *s, uint8_t *buf, size_t len);
/* The HLC: the next stamp for an event of this device (after every stamp issued or
 * observed, never behind the wall clock). */
uint64_t ww_hlc_next(struct ww_store *s);
/* How far beyond our wall clock an event seen from another device may move our HLC: an
 * author whose clock runs ahead (by mistake or on purpose) drags the others this far at
 * most, however far ahead the events it may send are (WW_MAX_SKEW_MS). */
#define WW_MAX_DRAG_MS 60000
/* Takes the stamp of an event seen into the HLC, up to WW_MAX_DRAG_MS past the wall clock. */
void ww_hlc_observe(struct ww_store *s, uint64_t hlc);
int ww_hlc_save(struct ww_store *s);

/* ---- identity.c ---- */
int ww_identity_load(struct ww_store *s);
void ww_identity_free(struct ww_store *s);
int ww_aggregator_load(struct ww_store *s, int create);

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
