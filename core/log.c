/*
 * log.c - the event log: appending, heads, ranges, and the queries sync and erasure make.
 *
 * The key of an event is log << 40 | seq (log.h); it is spelled here and nowhere else, in
 * C as WW_SEQ_BITS and in SQL through RANGE() below.
 */
#include <string.h>

#include "alloc.h"
#include "log.h"
#include "store.h"

/* The SQL condition "e.id is an event of log l": one author's events are one key range. */
#define RANGE(e, l) e ".id BETWEEN (" l ".id << 40) AND (" l ".id << 40 | 1099511627775)"

int ww_log_head(struct ww_store *s, const uint8_t gid[16], const uint8_t author[32],
                struct ww_log_head *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = ww_sql(s, "SELECT id FROM logs WHERE gid=?1 AND author=?2");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, gid, 16);
    ww_bind_blob(st, 2, author, 32);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        out->log = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (step != SQLITE_ROW)
        return step == SQLITE_DONE ? 0 : ww_db_err(s, step);
    st = ww_sql(s, "SELECT id, hash, hlc FROM events WHERE id BETWEEN ?1 AND ?2 ORDER BY id DESC "
                   "LIMIT 1");
    if (!st)
        return ww_sql_failed(s);
    sqlite3_bind_int64(st, 1, out->log << WW_SEQ_BITS);
    sqlite3_bind_int64(st, 2, out->log << WW_SEQ_BITS | WW_SEQ_MASK);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        out->seq = (uint64_t)(sqlite3_column_int64(st, 0) & WW_SEQ_MASK);
        if (sqlite3_column_bytes(st, 1) == 32)
            memcpy(out->hash, sqlite3_column_blob(st, 1), 32);
        out->hlc = (uint64_t)sqlite3_column_int64(st, 2);
    }
    sqlite3_reset(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? 0 : ww_db_err(s, step);
}

int ww_log_hash_at(struct ww_store *s, int64_t log, uint64_t seq, uint8_t hash[32], int *rc)
{
    sqlite3_stmt *st = ww_sql(s, "SELECT hash FROM events WHERE id=?1");
    if (!st) {
        *rc = ww_sql_failed(s);
        return 0;
    }
    sqlite3_bind_int64(st, 1, log << WW_SEQ_BITS | (int64_t)seq);
    int step = sqlite3_step(st);
    int found = step == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32;
    if (found)
        memcpy(hash, sqlite3_column_blob(st, 0), 32);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        *rc = ww_db_err(s, step);
    sqlite3_reset(st);
    return found;
}

/* A new log for an author's first event. */
static int log_create(struct ww_store *s, const uint8_t *gid, const uint8_t *author, int64_t *out)
{
    sqlite3_stmt *st = ww_sql(s, "INSERT INTO logs(gid, author) VALUES(?1,?2)");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, gid, 16);
    ww_bind_blob(st, 2, author, 32);
    int rc = ww_sql_done(s, st);
    if (rc != 0)
        return rc;
    int64_t id = sqlite3_last_insert_rowid(s->db);
    if (id <= 0 || id >= WW_MAX_LOGS)
        return WW_EFULL; /* the store is full of logs */
    *out = id;
    return 0;
}

int ww_log_append(struct ww_store *s, struct ww_log_head *head, const struct ww_header *h,
                  const uint8_t hash[32], const uint8_t *raw, size_t len)
{
    int rc;
    if (!head->log && (rc = log_create(s, h->group, h->author, &head->log)) != 0)
        return rc;
    sqlite3_stmt *st = ww_sql(s, "INSERT INTO events(id, hash, hlc, kind, epoch, audience, "
                                 "subject, raw) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)");
    if (!st)
        return ww_sql_failed(s);
    sqlite3_bind_int64(st, 1, head->log << WW_SEQ_BITS | (sqlite3_int64)h->seq);
    ww_bind_blob(st, 2, hash, 32);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)h->hlc);
    sqlite3_bind_int(st, 4, h->kind);
    sqlite3_bind_int64(st, 5, h->epoch);
    sqlite3_bind_int(st, 6, h->audience);
    ww_bind_blob(st, 7, h->subject, 16);
    ww_bind_blob(st, 8, raw, len);
    if ((rc = ww_sql_done(s, st)) != 0)
        return rc;
    head->seq = h->seq;
    head->hlc = h->hlc;
    memcpy(head->hash, hash, 32);
    return 0;
}

int ww_log_get(struct ww_store *s, const uint8_t gid[16], const uint8_t author[32], uint64_t seq,
               struct ww_buf *out)
{
    if (seq == 0 || seq > WW_SEQ_MASK)
        return WW_ENOTFOUND;
    sqlite3_stmt *st = ww_sql(s, "SELECT e.raw FROM logs l JOIN events e ON e.id = (l.id << 40 | "
                                 "?3) WHERE l.gid=?1 AND l.author=?2");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, gid, 16);
    ww_bind_blob(st, 2, author, 32);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)seq);
    int step = sqlite3_step(st), rc = WW_ENOTFOUND;
    if (step == SQLITE_ROW) {
        ww_buf_reset(out);
        rc = ww_buf_append(out, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0));
    } else if (step != SQLITE_DONE) {
        rc = ww_db_err(s, step);
    }
    sqlite3_reset(st);
    return rc;
}

int ww_log_vv(struct ww_store *s, const uint8_t gid[16],
              void (*cb)(void *ud, const uint8_t author[32], uint64_t seq), void *ud)
{
    static const char sql[] = "SELECT l.author, (SELECT max(e.id) FROM events e WHERE " RANGE(
        "e", "l") ") & 1099511627775 FROM logs l WHERE l.gid=?1 "
                  "ORDER BY l.author";
    sqlite3_stmt *st = ww_sql(s, sql);
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, gid, 16);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        if (sqlite3_column_bytes(st, 0) == 32 && sqlite3_column_int64(st, 1) > 0)
            cb(ud, sqlite3_column_blob(st, 0), (uint64_t)sqlite3_column_int64(st, 1));
    sqlite3_reset(st);
    return step == SQLITE_DONE ? 0 : ww_db_err(s, step);
}

int ww_log_missing(struct ww_store *s, const uint8_t gid[16], const struct ww_vv_item *peer,
                   size_t n_peer, size_t max_events, size_t max_bytes,
                   void (*cb)(void *ud, const uint8_t *event, size_t len), void *ud, int *more_out)
{
    for (size_t i = 0; i < n_peer; i++)
        if (peer[i].seq > WW_SEQ_MASK)
            return WW_ERANGE; /* no log is that long; the key range would wrap */
    int rc = ww_db_exec(s, "DELETE FROM temp.peer_vv");
    for (size_t i = 0; i < n_peer && rc == 0; i++) {
        sqlite3_stmt *st = ww_sql(s, "INSERT OR REPLACE INTO temp.peer_vv(author, seq) "
                                     "VALUES(?1,?2)");
        if (!st)
            return ww_sql_failed(s);
        ww_bind_blob(st, 1, peer[i].author, 32);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)peer[i].seq);
        rc = ww_sql_done(s, st);
    }
    if (rc != 0)
        return rc;
    /* Each author's hlc rises with its seq, so HLC order keeps every author's order and puts
     * causes (which the writer had seen) before their effects. */
    static const char sql[] = "SELECT e.raw FROM logs l LEFT JOIN temp.peer_vv p ON "
                              "p.author=l.author JOIN events e ON e.id BETWEEN (l.id << 40 | "
                              "(coalesce(p.seq, 0) + 1)) AND (l.id << 40 | 1099511627775) "
                              "WHERE l.gid=?1 ORDER BY e.hlc, l.author, e.id LIMIT ?2";
    sqlite3_stmt *st = ww_sql(s, sql);
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, gid, 16);
    /* One past the limit tells whether more remain; a huge limit means "all". */
    sqlite3_int64 limit = max_events >= (size_t)INT32_MAX ? INT32_MAX : (sqlite3_int64)max_events;
    sqlite3_bind_int64(st, 2, limit + 1);
    size_t n = 0, bytes = 0;
    int more = 0, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        size_t len = (size_t)sqlite3_column_bytes(st, 0);
        if (n == max_events || (n > 0 && bytes + len > max_bytes)) {
            more = 1;
            break;
        }
        cb(ud, sqlite3_column_blob(st, 0), len);
        n++;
        bytes += len;
    }
    sqlite3_reset(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return ww_db_err(s, step);
    if (more_out)
        *more_out = more;
    return 0;
}

int ww_log_each(struct ww_store *s, const uint8_t gid[16], uint8_t audience,
                const uint8_t subject[16], uint32_t epoch,
                int (*cb)(void *ud, const uint8_t *raw, size_t len, const uint8_t hash[32]),
                void *ud)
{
    /* A statement of its own, not a cached one: the callback materialises through the
     * cached statements while this one is still stepping. */
    static const char sql[] = "SELECT e.raw, e.hash FROM logs l JOIN events e ON " RANGE(
        "e", "l") " WHERE l.gid=?1 AND e.audience=?2 AND "
                  "e.subject=?3 AND e.epoch=?4 ORDER BY e.hlc, e.id";
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &q, NULL);
    if (rc != SQLITE_OK)
        return ww_db_err(s, rc);
    ww_bind_blob(q, 1, gid, 16);
    sqlite3_bind_int(q, 2, audience);
    ww_bind_blob(q, 3, subject, 16);
    sqlite3_bind_int64(q, 4, epoch);
    int step;
    rc = 0;
    while (rc == 0 && (step = sqlite3_step(q)) == SQLITE_ROW)
        if (sqlite3_column_bytes(q, 1) == 32)
            rc = cb(ud, sqlite3_column_blob(q, 0), (size_t)sqlite3_column_bytes(q, 0),
                    sqlite3_column_blob(q, 1));
    if (rc == 0 && step != SQLITE_DONE)
        rc = ww_db_err(s, step);
    sqlite3_finalize(q);
    return rc;
}

int ww_log_strip_bodies(struct ww_store *s, const uint8_t gid[16], const uint8_t member[16],
                        uint64_t hlc, uint64_t kind_mask)
{
    /* Row ids are collected first: the rows are rewritten while nothing reads them. */
    static const char sql[] = "SELECT e.id FROM logs l JOIN events e ON " RANGE(
        "e", "l") " WHERE l.gid=?1 AND e.hlc<=?3 AND ((?4 >> e.kind) & 1) AND "
                  "(e.subject=?2 OR l.author IN (SELECT device FROM devices WHERE "
                  "gid=?1 AND member=?2))";
    sqlite3_stmt *q = ww_sql(s, sql);
    if (!q)
        return ww_sql_failed(s);
    ww_bind_blob(q, 1, gid, 16);
    ww_bind_blob(q, 2, member, 16);
    sqlite3_bind_int64(q, 3, (sqlite3_int64)hlc);
    sqlite3_bind_int64(q, 4, (sqlite3_int64)kind_mask);
    int64_t *rows = NULL;
    size_t n_rows = 0, cap = 0;
    int rc = 0, step;
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        if (n_rows == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            int64_t *nrows = ww_realloc(rows, ncap * sizeof *rows);
            if (!nrows) {
                rc = WW_ENOMEM;
                break;
            }
            rows = nrows;
            cap = ncap;
        }
        rows[n_rows++] = sqlite3_column_int64(q, 0);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = ww_db_err(s, step);
    sqlite3_reset(q);
    struct ww_buf out;
    ww_buf_init(&out, WW_MAX_EVENT);
    for (size_t i = 0; i < n_rows && rc == 0; i++) {
        sqlite3_stmt *g = ww_sql(s, "SELECT raw FROM events WHERE id=?1");
        if (!g) {
            rc = ww_sql_failed(s);
            break;
        }
        sqlite3_bind_int64(g, 1, rows[i]);
        struct ww_envelope e;
        int ok = sqlite3_step(g) == SQLITE_ROW &&
                 ww_envelope_decode(sqlite3_column_blob(g, 0), (size_t)sqlite3_column_bytes(g, 0),
                                    &e) == 0 &&
                 !e.erased;
        if (ok) {
            e.erased = 1;
            e.body.p = NULL;
            e.body.len = 0;
            ww_buf_reset(&out);
            rc = ww_envelope_encode(&e, &out); /* reads e's slices before g moves on */
        }
        sqlite3_reset(g);
        if (!ok || rc != 0)
            continue;
        sqlite3_stmt *u = ww_sql(s, "UPDATE events SET raw=?2 WHERE id=?1");
        if (!u) {
            rc = ww_sql_failed(s);
            break;
        }
        sqlite3_bind_int64(u, 1, rows[i]);
        ww_bind_blob(u, 2, out.p, out.len);
        rc = ww_sql_done(s, u);
    }
    ww_buf_free(&out);
    ww_free(rows);
    return rc;
}
