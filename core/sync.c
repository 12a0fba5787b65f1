/*
 * sync.c - what a sync session calls: the version vector of a group, the events a peer
 * lacks, and applying a peer's batch.
 *
 * The version vector is derived, not stored: each author's events are held contiguously
 * from seq 1 (apply.c defers anything after a gap), so the last seq of each log is exactly
 * "the highest contiguous seq held". Events are keyed log << 40 | seq (store.h), so an
 * author's events are one range of the integer key.
 */
#include <string.h>

#include "store.h"

int ww_sync_vv(struct ww_store *s, const uint8_t group[WW_ID_LEN], struct ww_vv_item *items,
               size_t max, size_t *n_out)
{
    if (!s || !group || !n_out || (max && !items))
        return WW_EINVAL;
    sqlite3_stmt *st = ww_sql(s, "SELECT l.author, (SELECT max(e.id) FROM events e WHERE e.id "
                                 "BETWEEN (l.id << 40) AND (l.id << 40 | 1099511627775)) & "
                                 "1099511627775 FROM logs l WHERE l.gid=?1 ORDER BY l.author");
    if (!st)
        return WW_ESTORE;
    sqlite3_bind_blob(st, 1, group, 16, SQLITE_TRANSIENT);
    size_t n = 0;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (n < max) {
            memcpy(items[n].author, sqlite3_column_blob(st, 0), 32);
            items[n].seq = (uint64_t)sqlite3_column_int64(st, 1);
        }
        n++;
    }
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        return ww_db_err(s, step);
    *n_out = n;
    return 0;
}

int ww_sync_missing(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                    const struct ww_vv_item *peer, size_t n_peer, size_t max_events,
                    size_t max_bytes, void (*cb)(void *ud, const uint8_t *event, size_t len),
                    void *ud, int *more_out)
{
    if (!s || !group || !cb || (n_peer && !peer) || n_peer > WW_MAX_VV || !max_events)
        return WW_EINVAL;
    for (size_t i = 0; i < n_peer; i++)
        if (peer[i].seq > WW_SEQ_MASK)
            return WW_ERANGE; /* no log is that long; the key range would wrap */
    int rc = ww_db_exec(s, "DELETE FROM temp.peer_vv");
    for (size_t i = 0; i < n_peer && rc == 0; i++) {
        sqlite3_stmt *st = ww_sql(s, "INSERT OR REPLACE INTO temp.peer_vv(author, seq) "
                                     "VALUES(?1,?2)");
        if (!st)
            return WW_ESTORE;
        sqlite3_bind_blob(st, 1, peer[i].author, 32, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)peer[i].seq);
        rc = ww_sql_done(s, st);
    }
    if (rc != 0)
        return rc;
    /* Each author's hlc rises with its seq, so HLC order keeps every author's order and puts
     * causes (which the writer had seen) before their effects. */
    sqlite3_stmt *st = ww_sql(s, "SELECT e.raw FROM logs l LEFT JOIN temp.peer_vv p ON "
                                 "p.author=l.author JOIN events e ON e.id BETWEEN (l.id << 40 | "
                                 "(coalesce(p.seq, 0) + 1)) AND (l.id << 40 | 1099511627775) WHERE "
                                 "l.gid=?1 ORDER BY e.hlc, l.author, e.id LIMIT ?2");
    if (!st)
        return WW_ESTORE;
    sqlite3_bind_blob(st, 1, group, 16, SQLITE_TRANSIENT);
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

int ww_sync_apply(struct ww_store *s, const uint8_t *const *events, const size_t *lens, size_t n,
                  struct ww_apply_result *res)
{
    if (!s || !res || (n && (!events || !lens)))
        return WW_EINVAL;
    int rc = ww_db_begin(s);
    if (rc != 0)
        return rc;
    rc = ww_apply_batch(s, events, lens, n, res, NULL);
    if (rc != 0) {
        ww_db_rollback(s);
        return rc;
    }
    return ww_db_commit(s);
}

int ww_sync_vv_advance(const uint8_t *event, size_t len, struct ww_vv_item *vv, size_t *n,
                       size_t max)
{
    if (!event || !vv || !n || *n > max)
        return WW_EINVAL;
    struct ww_envelope env;
    int rc = ww_envelope_decode(event, len, &env);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < *n; i++) {
        if (!memcmp(vv[i].author, env.h.author, 32)) {
            if (env.h.seq > vv[i].seq)
                vv[i].seq = env.h.seq;
            return 0;
        }
    }
    if (*n == max)
        return WW_ETOOBIG;
    memcpy(vv[*n].author, env.h.author, 32);
    vv[*n].seq = env.h.seq;
    (*n)++;
    return 0;
}
