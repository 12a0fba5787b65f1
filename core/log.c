/*
 * log.c - the event log: appending, heads, ranges, and the queries sync and erasure make.
 *
 * The key of an event is log << 40 | seq (log.h); it is spelled here and in log.h, in
 * C as WW_SEQ_BITS and in SQL through WW_LOG_RANGE() (log.h).
 */
#include <string.h>

#include "alloc.h"
#include "kind.h"
#include "log.h"
#include "store.h"

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

int ww_log_hash_at(struct ww_store *s, int64_t log, uint64_t seq, uint8_t hash[32], size_t *len,
                   int *rc)
{
    sqlite3_stmt *st = ww_sql(s, "SELECT hash, length(raw) FROM events WHERE id=?1");
    if (!st) {
        *rc = ww_sql_failed(s);
        return 0;
    }
    sqlite3_bind_int64(st, 1, log << WW_SEQ_BITS | (int64_t)seq);
    int step = sqlite3_step(st);
    int found = step == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32;
    if (found) {
        memcpy(hash, sqlite3_column_blob(st, 0), 32);
        if (len)
            *len = (size_t)sqlite3_column_int64(st, 1);
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        *rc = ww_db_err(s, step);
    sqlite3_reset(st);
    return found;
}

int ww_log_hlc_at(struct ww_store *s, const uint8_t gid[16], const uint8_t author[32], uint64_t seq,
                  uint64_t *hlc, int *rc)
{
    sqlite3_stmt *st = ww_sql(s, "SELECT e.hlc FROM logs l JOIN events e ON e.id = (l.id << 40 | "
                                 "?3) WHERE l.gid=?1 AND l.author=?2");
    if (!st) {
        *rc = ww_sql_failed(s);
        return 0;
    }
    ww_bind_blob(st, 1, gid, 16);
    ww_bind_blob(st, 2, author, 32);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)seq);
    int step = sqlite3_step(st);
    int found = step == SQLITE_ROW;
    if (found)
        *hlc = (uint64_t)sqlite3_column_int64(st, 0);
    else if (step != SQLITE_DONE)
        *rc = ww_db_err(s, step);
    sqlite3_reset(st);
    return found;
}

int ww_log_first_of_kind(struct ww_store *s, const uint8_t gid[16], const uint8_t author[32],
                         uint16_t kind, uint64_t *seq)
{
    sqlite3_stmt *st =
        ww_sql(s, "SELECT min(e.id) & 1099511627775 FROM logs l JOIN events e ON " WW_LOG_RANGE(
                      "e", "l") " WHERE l.gid=?1 AND l.author=?2 AND "
                                "e.kind=?3");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, gid, 16);
    ww_bind_blob(st, 2, author, 32);
    sqlite3_bind_int(st, 3, kind);
    int step = sqlite3_step(st);
    *seq = step == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? 0 : ww_db_err(s, step);
}

int ww_log_replace(struct ww_store *s, int64_t log, uint64_t seq, const uint8_t *raw, size_t len)
{
    sqlite3_stmt *st = ww_sql(s, "UPDATE events SET raw=?2 WHERE id=?1");
    if (!st)
        return ww_sql_failed(s);
    sqlite3_bind_int64(st, 1, log << WW_SEQ_BITS | (int64_t)seq);
    ww_bind_blob(st, 2, raw, len);
    return ww_sql_done(s, st);
}

int ww_log_truncate(struct ww_store *s, int64_t log, uint64_t seq)
{
    sqlite3_stmt *st = ww_sql(s, "DELETE FROM events WHERE id BETWEEN ?1 AND ?2");
    if (!st)
        return ww_sql_failed(s);
    sqlite3_bind_int64(st, 1, log << WW_SEQ_BITS | (int64_t)seq);
    sqlite3_bind_int64(st, 2, log << WW_SEQ_BITS | WW_SEQ_MASK);
    return ww_sql_done(s, st);
}

void ww_pin_head(struct ww_device_pin *p, const uint8_t device[32], const struct ww_log_head *h)
{
    memcpy(p->device, device, 32);
    p->seq = h->seq;
    memset(p->hash, 0, 32);
    if (h->seq)
        memcpy(p->hash, h->hash, 32);
}

int ww_log_cut(struct ww_store *s, const uint8_t gid[16], const uint8_t author[32],
               uint64_t last_seq, uint64_t last_hlc, int *cut)
{
    sqlite3_stmt *st =
        ww_sql(s, "DELETE FROM events WHERE id IN (SELECT e.id FROM logs l JOIN "
                  "events e ON " WW_LOG_RANGE(
                      "e", "l") " WHERE l.gid=?1 AND "
                                "l.author=?2 AND (e.id > (l.id << 40 | ?3) OR e.hlc > ?4))");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, gid, 16);
    ww_bind_blob(st, 2, author, 32);
    /* NULL for no limit: a comparison with it is never true. */
    if (last_seq <= WW_SEQ_MASK)
        sqlite3_bind_int64(st, 3, (sqlite3_int64)last_seq);
    else
        sqlite3_bind_null(st, 3);
    if (last_hlc <= (uint64_t)INT64_MAX)
        sqlite3_bind_int64(st, 4, (sqlite3_int64)last_hlc);
    else
        sqlite3_bind_null(st, 4);
    int rc = ww_sql_done(s, st);
    *cut = rc == 0 && sqlite3_changes(s->db) > 0;
    return rc;
}

int ww_log_take_group(struct ww_store *s, const uint8_t gid[16])
{
    static const char *const steps[] = {
        "DELETE FROM temp.rebuild",
        "INSERT INTO temp.rebuild(raw) SELECT e.raw FROM logs l JOIN events e ON " WW_LOG_RANGE(
            "e", "l") " WHERE l.gid=?1 ORDER BY e.hlc, e.id",
        "DELETE FROM events WHERE id IN (SELECT e.id FROM logs l JOIN events e ON " WW_LOG_RANGE(
            "e", "l") " WHERE l.gid=?1)",
        "DELETE FROM logs WHERE gid=?1",
    };
    int rc = ww_db_exec(s, "CREATE TEMP TABLE IF NOT EXISTS rebuild(n INTEGER PRIMARY KEY, "
                           "raw BLOB NOT NULL)");
    for (size_t i = 0; rc == 0 && i < sizeof steps / sizeof steps[0]; i++) {
        sqlite3_stmt *st = ww_sql(s, steps[i]);
        if (!st)
            return ww_sql_failed(s);
        if (i > 0)
            ww_bind_blob(st, 1, gid, 16);
        rc = ww_sql_done(s, st);
    }
    return rc;
}

int ww_log_take_page(struct ww_store *s, int64_t *after, uint8_t **raws, size_t *lens, size_t max,
                     size_t *n_out)
{
    sqlite3_stmt *st = ww_sql(s, "SELECT n, raw FROM temp.rebuild WHERE n > ?1 ORDER BY n "
                                 "LIMIT ?2");
    if (!st)
        return ww_sql_failed(s);
    sqlite3_bind_int64(st, 1, *after);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
    size_t n = 0;
    int rc = 0, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        size_t len = (size_t)sqlite3_column_bytes(st, 1);
        if (!(raws[n] = ww_malloc(len ? len : 1))) {
            rc = WW_ENOMEM;
            break;
        }
        memcpy(raws[n], sqlite3_column_blob(st, 1), len);
        lens[n++] = len;
        *after = sqlite3_column_int64(st, 0);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = ww_db_err(s, step);
    sqlite3_reset(st);
    if (rc != 0) {
        for (size_t i = 0; i < n; i++)
            ww_free(raws[i]);
        return rc;
    }
    *n_out = n;
    return 0;
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
    ww_bind_blob(st, 7, ww_event_about(h), 16);
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
              void (*cb)(void *ud, const uint8_t author[32], uint64_t seq, const uint8_t hash[32]),
              void *ud)
{
    static const char sql[] =
        "SELECT l.author, e.id & 1099511627775, e.hash FROM logs l JOIN events e ON e.id = "
        "(SELECT max(x.id) FROM events x WHERE " WW_LOG_RANGE("x", "l") ") WHERE l.gid=?1 "
                                                                        "ORDER BY l.author";
    sqlite3_stmt *st = ww_sql(s, sql);
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, gid, 16);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        if (sqlite3_column_bytes(st, 0) == 32 && sqlite3_column_int64(st, 1) > 0 &&
            sqlite3_column_bytes(st, 2) == 32)
            cb(ud, sqlite3_column_blob(st, 0), (uint64_t)sqlite3_column_int64(st, 1),
               sqlite3_column_blob(st, 2));
    sqlite3_reset(st);
    return step == SQLITE_DONE ? 0 : ww_db_err(s, step);
}

int ww_log_newer(struct ww_store *s, const uint8_t gid[16], const uint8_t author[32], uint16_t kind,
                 uint64_t hlc, int (*cb)(void *ud, const uint8_t *raw, size_t len), void *ud)
{
    sqlite3_stmt *st = ww_sql(s, "SELECT e.raw FROM logs l JOIN events e ON " WW_LOG_RANGE(
                                     "e", "l") " WHERE l.gid=?1 AND l.author=?2 AND e.kind=?3 "
                                               "AND e.hlc>?4 ORDER BY e.id");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, gid, 16);
    ww_bind_blob(st, 2, author, 32);
    sqlite3_bind_int(st, 3, kind);
    sqlite3_bind_int64(st, 4, hlc > (uint64_t)INT64_MAX ? INT64_MAX : (sqlite3_int64)hlc);
    int step = SQLITE_DONE, rc = 0;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW)
        rc = cb(ud, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0));
    if (rc == 0 && step != SQLITE_DONE)
        rc = ww_db_err(s, step);
    sqlite3_reset(st);
    return rc;
}

/* One author's candidates for ww_log_missing: the ids and hlcs of its next events. */
struct cand {
    const uint8_t *author; /* into the authors block */
    int rank;              /* 0 the owner device, 1 this device, 2 the others */
    int64_t *id, *hlc;
    size_t n, at;
};

/* x before y in the order events are sent: (rank, hlc, author, seq). */
static int cand_before(const struct cand *x, const struct cand *y)
{
    if (x->rank != y->rank)
        return x->rank < y->rank;
    int64_t hx = x->hlc[x->at], hy = y->hlc[y->at];
    if (hx != hy)
        return hx < hy;
    int c = memcmp(x->author, y->author, 32);
    return c != 0 ? c < 0 : x->id[x->at] < y->id[y->at];
}

/*
 * Each author's events are one key range in seq order, so the events a peer lacks are, per
 * author, a run of rows after the peer's seq. Sending them in causal order is a k-way merge
 * of those runs by hlc (each author's hlc rises with its seq): read at most max_events + 1
 * (id, hlc) pairs per author through the primary key, merge, then fetch the bodies of the
 * chosen ones. The cost is that of the page, not of the group's whole history.
 *
 * What matters most goes first: the owner device's log (the control plane and the day's
 * challenges: without it the peer can apply nothing else, so anything sent before it would
 * only wait), then this device's own writes (on a connection that may drop, they reach the
 * peer before anything it could get elsewhere), then everyone else in hlc order. Each
 * author's run stays in seq order.
 */
int ww_log_missing(struct ww_store *s, const uint8_t gid[16], const struct ww_vv_item *peer,
                   size_t n_peer, size_t max_events, size_t max_bytes,
                   void (*cb)(void *ud, const uint8_t *event, size_t len), void *ud, int *more_out)
{
    for (size_t i = 0; i < n_peer; i++)
        if (peer[i].seq > WW_SEQ_MASK)
            return WW_ERANGE; /* no log is that long; the key range would wrap */
    /* Per author at most one more than the page: an author's run is then never used up
     * while it has rows we did not read, so the merge order holds. */
    size_t want = max_events;

    sqlite3_stmt *st = ww_sql(s, "SELECT id, author FROM logs WHERE gid=?1 ORDER BY author");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, gid, 16);
    struct cand *cands = NULL;
    uint8_t *authors = NULL;
    int64_t *logs = NULL;
    size_t n = 0, cap = 0;
    int rc = 0, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            int64_t *nl = ww_realloc(logs, ncap * sizeof *nl);
            if (nl)
                logs = nl;
            uint8_t *na = nl ? ww_realloc(authors, ncap * 32) : NULL;
            if (!na) {
                rc = WW_ENOMEM;
                break;
            }
            authors = na;
            cap = ncap;
        }
        logs[n] = sqlite3_column_int64(st, 0);
        if (sqlite3_column_bytes(st, 1) != 32) {
            rc = WW_ECORRUPT;
            break;
        }
        memcpy(authors + 32 * n, sqlite3_column_blob(st, 1), 32);
        n++;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = ww_db_err(s, step);
    sqlite3_reset(st);
    if (rc == 0 && n > 0 && !(cands = ww_calloc(n, sizeof *cands)))
        rc = WW_ENOMEM;
    uint8_t owner[32] = {0};
    if (rc == 0 && (st = ww_sql(s, "SELECT owner FROM groups WHERE gid=?1")) != NULL) {
        ww_bind_blob(st, 1, gid, 16);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32)
            memcpy(owner, sqlite3_column_blob(st, 0), 32);
        sqlite3_reset(st);
    } else if (rc == 0) {
        rc = ww_sql_failed(s);
    }

    /* Per author: the next events after the peer's seq. */
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct cand *c = &cands[i];
        c->author = authors + 32 * i;
        c->rank = !memcmp(c->author, owner, 32) ? 0 : !memcmp(c->author, s->pk, 32) ? 1 : 2;
        uint64_t from = 0;
        for (size_t k = 0; k < n_peer; k++)
            if (!memcmp(peer[k].author, c->author, 32))
                from = peer[k].seq;
        st = ww_sql(s, "SELECT id, hlc FROM events WHERE id BETWEEN ?1 AND ?2 ORDER BY id "
                       "LIMIT ?3");
        if (!st) {
            rc = ww_sql_failed(s);
            break;
        }
        sqlite3_bind_int64(st, 1, logs[i] << WW_SEQ_BITS | (int64_t)(from + 1));
        sqlite3_bind_int64(st, 2, logs[i] << WW_SEQ_BITS | WW_SEQ_MASK);
        sqlite3_bind_int64(st, 3, want >= (size_t)INT32_MAX ? -1 : (sqlite3_int64)want + 1);
        /* (-1: no limit, for a caller that wants everything) */
        size_t ccap = 0;
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
            if (c->n == ccap) {
                size_t ncap = ccap ? ccap * 2 : 64;
                int64_t *ni = ww_realloc(c->id, ncap * sizeof *ni);
                if (ni)
                    c->id = ni;
                int64_t *nh = ni ? ww_realloc(c->hlc, ncap * sizeof *nh) : NULL;
                if (!nh) {
                    rc = WW_ENOMEM;
                    break;
                }
                c->hlc = nh;
                ccap = ncap;
            }
            c->id[c->n] = sqlite3_column_int64(st, 0);
            c->hlc[c->n] = sqlite3_column_int64(st, 1);
            c->n++;
        }
        if (rc == 0 && step != SQLITE_DONE)
            rc = ww_db_err(s, step);
        sqlite3_reset(st);
    }

    /* Merge and send, within the limits (at least one event). */
    size_t sent = 0, bytes = 0;
    int more = 0;
    while (rc == 0) {
        struct cand *best = NULL;
        for (size_t i = 0; i < n; i++)
            if (cands[i].at < cands[i].n && (!best || cand_before(&cands[i], best)))
                best = &cands[i];
        if (!best)
            break;
        if (sent == max_events) {
            more = 1;
            break;
        }
        st = ww_sql(s, "SELECT raw FROM events WHERE id=?1");
        if (!st) {
            rc = ww_sql_failed(s);
            break;
        }
        sqlite3_bind_int64(st, 1, best->id[best->at]);
        step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            size_t len = (size_t)sqlite3_column_bytes(st, 0);
            if (sent > 0 && bytes + len > max_bytes)
                more = 1;
            else {
                cb(ud, sqlite3_column_blob(st, 0), len);
                sent++;
                bytes += len;
                best->at++;
            }
        } else {
            rc = step == SQLITE_DONE ? WW_ECORRUPT : ww_db_err(s, step);
        }
        sqlite3_reset(st);
        if (more)
            break;
    }
    for (size_t i = 0; cands && i < n; i++) {
        ww_free(cands[i].id);
        ww_free(cands[i].hlc);
    }
    ww_free(cands);
    ww_free(authors);
    ww_free(logs);
    if (rc == 0 && more_out)
        *more_out = more;
    return rc;
}

int ww_log_each(struct ww_store *s, const uint8_t gid[16], uint8_t audience,
                const uint8_t subject[16], uint32_t epoch,
                int (*cb)(void *ud, const uint8_t *raw, size_t len, const uint8_t hash[32]),
                void *ud)
{
    /* A statement of its own, not a cached one: the callback materialises through the
     * cached statements while this one is still stepping. */
    static const char sql[] = "SELECT e.raw, e.hash FROM logs l JOIN events e ON " WW_LOG_RANGE(
        "e", "l") " WHERE l.gid=?1 AND e.audience=?2 AND "
                  "(e.audience=1 OR e.subject=?3) AND e.epoch=?4 ORDER BY e.hlc, e.id";
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
                        uint64_t hlc, uint64_t kind_mask, uint64_t about_mask)
{
    /* Row ids are collected first: the rows are rewritten while nothing reads them. */
    static const char sql[] = "SELECT e.id FROM logs l JOIN events e ON " WW_LOG_RANGE(
        "e", "l") " WHERE l.gid=?1 AND ((?4 >> e.kind) & 1) AND "
                  "CASE WHEN (?5 >> e.kind) & 1 THEN e.subject=?2 ELSE e.hlc<=?3 AND "
                  "(e.subject=?2 OR l.author IN (SELECT device FROM devices WHERE gid=?1 AND "
                  "member=?2)) END";
    sqlite3_stmt *q = ww_sql(s, sql);
    if (!q)
        return ww_sql_failed(s);
    ww_bind_blob(q, 1, gid, 16);
    ww_bind_blob(q, 2, member, 16);
    sqlite3_bind_int64(q, 3, (sqlite3_int64)hlc);
    sqlite3_bind_int64(q, 4, (sqlite3_int64)kind_mask);
    sqlite3_bind_int64(q, 5, (sqlite3_int64)about_mask);
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
