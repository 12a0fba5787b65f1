/*
 * pending.c - events kept aside until their cause arrives, and fork evidence (pending.h).
 */
#include <string.h>

#include "alloc.h"
#include "pending.h"
#include "store.h"

/* The rows of (members, strangers): of one group, or of one author of it, or in all. */
static int count(struct ww_store *s, const uint8_t *gid, const uint8_t *author, int64_t out[2])
{
    sqlite3_stmt *st =
        author ? ww_sql(s, "SELECT count(*), 0 FROM pending WHERE gid=?1 AND author=?2")
        : gid  ? ww_sql(s, "SELECT count(*), total(stranger) FROM pending WHERE gid=?1")
               : ww_sql(s, "SELECT count(*), total(stranger) FROM pending");
    if (!st)
        return ww_sql_failed(s);
    if (gid)
        ww_bind_blob(st, 1, gid, 16);
    if (author)
        ww_bind_blob(st, 2, author, 32);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        int64_t n = sqlite3_column_int64(st, 0), strangers = sqlite3_column_int64(st, 1);
        out[0] = n - strangers;
        out[1] = strangers;
    }
    sqlite3_reset(st);
    return step == SQLITE_ROW ? 0 : ww_db_err(s, step);
}

int ww_pending_expire(struct ww_store *s)
{
    sqlite3_stmt *st = ww_sql(s, "DELETE FROM pending WHERE expires <= ?1");
    if (!st)
        return ww_sql_failed(s);
    sqlite3_bind_int64(st, 1, ww_store_now_ms(s));
    return ww_sql_done(s, st);
}

/* Whether one more row of this kind fits; counts are read when not current. */
static int fits(struct ww_store *s, struct ww_pending_counts *c, const struct ww_header *h,
                int stranger, int *out)
{
    int rc;
    if (!c->loaded) {
        if ((rc = count(s, NULL, NULL, c->all)) != 0)
            return rc;
        c->loaded = 1;
        memset(c->gid, 0, sizeof c->gid);
        memset(c->author, 0, sizeof c->author);
        c->in_group[0] = c->by_author = -1;
    }
    if (c->in_group[0] < 0 || memcmp(c->gid, h->group, 16) != 0) {
        memcpy(c->gid, h->group, 16);
        if ((rc = count(s, h->group, NULL, c->in_group)) != 0)
            return rc;
        c->by_author = -1;
    }
    if (c->by_author < 0 || memcmp(c->author, h->author, 32) != 0) {
        int64_t n[2];
        memcpy(c->author, h->author, 32);
        if ((rc = count(s, h->group, h->author, n)) != 0)
            return rc;
        c->by_author = n[0];
    }
    static const int64_t all[2] = {WW_MAX_PENDING_ALL, WW_MAX_PENDING_STRANGERS_ALL};
    static const int64_t group[2] = {WW_MAX_PENDING, WW_MAX_PENDING_STRANGERS};
    static const int64_t author[2] = {WW_MAX_PENDING_AUTHOR, WW_MAX_PENDING_STRANGER};
    *out = c->all[stranger] < all[stranger] && c->in_group[stranger] < group[stranger] &&
           c->by_author < author[stranger];
    return 0;
}

int ww_pending_defer(struct ww_store *s, struct ww_pending_counts *c, const struct ww_header *h,
                     const uint8_t *raw, size_t len, int reason, int stranger)
{
    /* This device's own events wait as long as it takes: a removal or a recovery made from a
     * stale copy may have cut its member off, and the owner adding the device again brings
     * them back. */
    int own = !memcmp(h->author, s->pk, 32);
    if (own)
        stranger = 0;
    int ok = 0, rc = fits(s, c, h, stranger, &ok);
    if (rc == 0 && !ok && !c->purged) {
        /* Full: drop what has expired, once per batch, and count again. */
        c->purged = 1;
        c->loaded = 0;
        if ((rc = ww_pending_expire(s)) == 0)
            rc = fits(s, c, h, stranger, &ok);
    }
    if (rc != 0)
        return rc;
    if (!ok)
        return reason; /* too much waiting: refuse rather than hold without bound */
    sqlite3_stmt *st = ww_sql(s, "INSERT OR IGNORE INTO pending(gid, author, seq, hlc, reason, "
                                 "raw, stranger, expires) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, h->group, 16);
    ww_bind_blob(st, 2, h->author, 32);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)h->seq);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)h->hlc);
    sqlite3_bind_int(st, 5, reason);
    ww_bind_blob(st, 6, raw, len);
    sqlite3_bind_int(st, 7, stranger);
    sqlite3_bind_int64(st, 8,
                       own ? INT64_MAX
                           : ww_store_now_ms(s) +
                                 (stranger ? WW_PENDING_STRANGER_TTL_MS : WW_PENDING_TTL_MS));
    if ((rc = ww_sql_done(s, st)) != 0)
        return rc;
    if (sqlite3_changes(s->db) == 0)
        return 1; /* kept aside already */
    c->all[stranger]++;
    c->in_group[stranger]++;
    c->by_author++;
    return 0;
}

int ww_pending_forks(struct ww_store *s, const uint8_t gid[16], const uint8_t author[32],
                     uint64_t *n)
{
    sqlite3_stmt *st = ww_sql(s, "SELECT count(*) FROM forks WHERE gid=?1 AND author=?2");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, gid, 16);
    ww_bind_blob(st, 2, author, 32);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *n = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return step == SQLITE_ROW ? 0 : ww_db_err(s, step);
}

int ww_pending_unfork(struct ww_store *s, struct ww_pending_counts *c, const uint8_t gid[16],
                      const uint8_t author[32], uint64_t upto, uint64_t *keep)
{
    sqlite3_stmt *st =
        ww_sql(s, "SELECT coalesce(min(seq), 1) - 1 FROM forks WHERE gid=?1 AND author=?2 AND "
                  "seq <= ?3");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, gid, 16);
    ww_bind_blob(st, 2, author, 32);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)upto);
    int step = sqlite3_step(st), rc = 0;
    if (step == SQLITE_ROW)
        *keep = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (step != SQLITE_ROW)
        return ww_db_err(s, step);
    /* The events that lost a fork there may be the kept branch: they wait in pending, the
     * lower hash first at each seq, and are tried again like any other. */
    if (!(st = ww_sql(s, "SELECT raw_seen FROM forks WHERE gid=?1 AND author=?2 AND seq > ?3 "
                         "ORDER BY seq, hash_seen")))
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, gid, 16);
    ww_bind_blob(st, 2, author, 32);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)*keep);
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        struct ww_envelope env;
        const uint8_t *raw = sqlite3_column_blob(st, 0);
        size_t len = (size_t)sqlite3_column_bytes(st, 0);
        if (ww_envelope_decode(raw, len, &env) != 0)
            continue; /* stored as received and checked then: cannot happen */
        rc = ww_pending_defer(s, c, &env.h, raw, len, WW_ECHAIN, 0);
        if (rc < 0 && !ww_store_failure(rc))
            rc = 0; /* no room: sync brings it again */
    }
    sqlite3_reset(st);
    if (rc == 0 && step != SQLITE_DONE && step != SQLITE_ROW)
        rc = ww_db_err(s, step);
    if (rc != 0 || !(st = ww_sql(s, "DELETE FROM forks WHERE gid=?1 AND author=?2 AND seq > ?3")))
        return rc ? rc : ww_sql_failed(s);
    ww_bind_blob(st, 1, gid, 16);
    ww_bind_blob(st, 2, author, 32);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)*keep);
    return ww_sql_done(s, st);
}

int ww_pending_fork_room(struct ww_store *s, const uint8_t gid[16], const uint8_t author[32])
{
    uint64_t n = 0;
    int rc = ww_pending_forks(s, gid, author, &n);
    return rc != 0 ? rc : n < WW_MAX_FORKS;
}

int ww_pending_fork(struct ww_store *s, const struct ww_header *h, const uint8_t hash[32],
                    const uint8_t *raw, size_t len, const uint8_t held[32])
{
    /* A few forks per author are evidence enough; more would only fill the disk. */
    int rc = ww_pending_fork_room(s, h->group, h->author);
    if (rc <= 0)
        return rc;
    sqlite3_stmt *st =
        ww_sql(s, "INSERT OR IGNORE INTO forks(gid, author, seq, hash_held, hash_seen, "
                  "raw_seen) VALUES(?1,?2,?3,?4,?5,?6)");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, h->group, 16);
    ww_bind_blob(st, 2, h->author, 32);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)h->seq);
    ww_bind_blob(st, 4, held, 32);
    ww_bind_blob(st, 5, hash, 32);
    ww_bind_blob(st, 6, raw, len);
    return ww_sql_done(s, st);
}

int ww_pending_drop(struct ww_store *s, const struct ww_header *h, const uint8_t *raw, size_t len)
{
    sqlite3_stmt *st =
        ww_sql(s, "DELETE FROM pending WHERE gid=?1 AND author=?2 AND seq=?3 AND raw=?4");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, h->group, 16);
    ww_bind_blob(st, 2, h->author, 32);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)h->seq);
    ww_bind_blob(st, 4, raw, len);
    return ww_sql_done(s, st);
}

/* 1 when the statement yields a row, 0 when not, or an error. */
static int exists(struct ww_store *s, sqlite3_stmt *st)
{
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step == SQLITE_ROW)
        return 1;
    return step == SQLITE_DONE ? 0 : ww_db_err(s, step);
}

int ww_pending_waits(struct ww_store *s, const uint8_t gid[16], const uint8_t author[32])
{
    sqlite3_stmt *st = ww_sql(s, "SELECT 1 FROM pending WHERE gid=?1 AND author=?2 LIMIT 1");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, gid, 16);
    ww_bind_blob(st, 2, author, 32);
    return exists(s, st);
}

int ww_pending_due(struct ww_store *s, int64_t horizon_ms)
{
    sqlite3_stmt *st = ww_sql(s, "SELECT 1 FROM pending WHERE reason=?1 AND (hlc >> 16) <= ?2 "
                                 "LIMIT 1");
    if (!st)
        return ww_sql_failed(s);
    sqlite3_bind_int(st, 1, WW_ERANGE);
    sqlite3_bind_int64(st, 2, horizon_ms);
    return exists(s, st);
}

int ww_pending_last(struct ww_store *s, int64_t *out)
{
    return ww_sql_int(s, ww_sql(s, "SELECT coalesce(max(rowid), 0) FROM pending"), out);
}

int ww_pending_take(struct ww_store *s, int64_t *after, int64_t upto, uint8_t **raws, size_t *lens,
                    size_t max, size_t *n_out)
{
    int64_t first = *after, last = *after;
    size_t n = 0;
    int rc = 0, step;
    sqlite3_stmt *st = ww_sql(s, "SELECT rowid, raw FROM pending WHERE rowid > ?1 AND rowid <= "
                                 "?2 ORDER BY rowid LIMIT ?3");
    if (!st)
        return ww_sql_failed(s);
    sqlite3_bind_int64(st, 1, first);
    sqlite3_bind_int64(st, 2, upto);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        size_t len = (size_t)sqlite3_column_bytes(st, 1);
        raws[n] = ww_malloc(len ? len : 1);
        if (!raws[n]) {
            rc = WW_ENOMEM;
            break;
        }
        memcpy(raws[n], sqlite3_column_blob(st, 1), len);
        lens[n++] = len;
        last = sqlite3_column_int64(st, 0);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = ww_db_err(s, step);
    sqlite3_reset(st);
    if (rc == 0 && n > 0) {
        st = ww_sql(s, "DELETE FROM pending WHERE rowid > ?1 AND rowid <= ?2");
        if (!st)
            rc = ww_sql_failed(s);
        else {
            sqlite3_bind_int64(st, 1, first);
            sqlite3_bind_int64(st, 2, last);
            rc = ww_sql_done(s, st);
        }
    }
    if (rc != 0) {
        for (size_t i = 0; i < n; i++)
            ww_free(raws[i]);
        return rc;
    }
    *after = last;
    *n_out = n;
    return 0;
}
