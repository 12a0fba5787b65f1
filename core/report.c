/*
 * report.c - sync health: what each device held when it last synced (sync.report), what
 * this device knows of its own syncs, and what the coach's device makes of the reports.
 *
 * A learner's device writes a sync.report (PROTOCOL.md 6.22) when a sync completes and the
 * report is due: its times of last sync with the hub and with a peer, and for every log of
 * the group the highest seq it holds. The report goes to the coach (audience PAIR), so the
 * coach's device sees per member device when it last synced and how many events it still
 * lacks, and, because an erasure is an event in a log, which devices hold (and so applied)
 * each erasure: the report is a signed receipt. No report says anything of content; the
 * hub forwards it sealed like any other event.
 *
 * Reports do not count as news for the next report, so two devices never answer each
 * other's reports; on a live connection a device reports at most every REPORT_LIVE_MS
 * (except for a new erasure, which is receipted at once), and at least every
 * REPORT_IDLE_MS when it syncs at all, so that "last synced" stays true.
 *
 * The table sync_local is this device's own record (not materialised from events, not
 * the same on two replicas): when it last synced with whom, its own seq then, and what
 * its last report covered.
 */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "group.h"
#include "kind.h"
#include "log.h"
#include "store.h"

#define REPORT_LIVE_MS (15 * 60 * 1000LL)
#define REPORT_IDLE_MS (12 * 3600 * 1000LL)
#define SEQ_MASK       "1099511627775"

/* ---- The kind ---- */

/* A report speaks of its own author device alone, to its own member and the coach. */
static int check_report(struct ww_store *s, const struct ww_event *ev)
{
    (void)s;
    return memcmp(ev->env->h.subject, ev->author->member, 16) ? WW_EINVAL : 0;
}

/* The newest report of each device (by hlc) replaces the older one, whatever arrives first. */
static int apply_report(struct ww_store *s, struct ww_event *ev)
{
    const struct ww_header *h = &ev->env->h;
    const struct ww_body_sync_report *b = &ev->body->u.sync_report;
    sqlite3_stmt *st = ww_sql(s, "INSERT INTO sync_reports(gid, device, hlc, hub_at, peer_at) "
                                 "VALUES(?1,?2,?3,?4,?5) ON CONFLICT(gid, device) DO UPDATE SET "
                                 "hlc=excluded.hlc, hub_at=excluded.hub_at, "
                                 "peer_at=excluded.peer_at WHERE excluded.hlc > sync_reports.hlc");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, h->group, 16);
    ww_bind_blob(st, 2, h->author, 32);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)h->hlc);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)b->hub_at);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)b->peer_at);
    int rc = ww_sql_done(s, st);
    if (rc != 0 || sqlite3_changes(s->db) == 0)
        return rc; /* an older report than the one held */
    st = ww_sql(s, "DELETE FROM sync_held WHERE gid=?1 AND device=?2");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, h->group, 16);
    ww_bind_blob(st, 2, h->author, 32);
    if ((rc = ww_sql_done(s, st)) != 0)
        return rc;
    for (uint32_t i = 0; i < b->n_held && rc == 0; i++) {
        st = ww_sql(s, "INSERT INTO sync_held(gid, device, author, seq) VALUES(?1,?2,?3,?4)");
        if (!st)
            return ww_sql_failed(s);
        ww_bind_blob(st, 1, h->group, 16);
        ww_bind_blob(st, 2, h->author, 32);
        ww_bind_blob(st, 3, b->held[i].device, 32);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)b->held[i].seq);
        rc = ww_sql_done(s, st);
    }
    return rc;
}

const struct ww_kind_rule ww_kind_sync_report = {
    .roles = WW_LEARNER,
    .audiences = WW_AUD_BIT(WW_AUD_PAIR),
    .check = check_report,
    .apply = apply_report,
};

/* ---- This device's own syncs ---- */

struct local {
    int64_t hub_at, peer_at, hub_seq, reported_at, reported_events;
    double reported_erasures;
};

static int load_local(struct ww_store *s, const uint8_t gid[16], struct local *l)
{
    memset(l, 0, sizeof *l);
    l->reported_events = -1;
    sqlite3_stmt *st = ww_sql(s, "SELECT hub_at, peer_at, hub_seq, reported_at, reported_events,"
                                 " reported_erasures FROM sync_local WHERE gid=?1");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, gid, 16);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        l->hub_at = sqlite3_column_int64(st, 0);
        l->peer_at = sqlite3_column_int64(st, 1);
        l->hub_seq = sqlite3_column_int64(st, 2);
        l->reported_at = sqlite3_column_int64(st, 3);
        l->reported_events = sqlite3_column_int64(st, 4);
        l->reported_erasures = sqlite3_column_double(st, 5);
    }
    sqlite3_reset(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? 0 : ww_db_err(s, step);
}

static int save_local(struct ww_store *s, const uint8_t gid[16], const struct local *l)
{
    sqlite3_stmt *st = ww_sql(s, "INSERT OR REPLACE INTO sync_local(gid, hub_at, peer_at, hub_seq,"
                                 " reported_at, reported_events, reported_erasures)"
                                 " VALUES(?1,?2,?3,?4,?5,?6,?7)");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, gid, 16);
    sqlite3_bind_int64(st, 2, l->hub_at);
    sqlite3_bind_int64(st, 3, l->peer_at);
    sqlite3_bind_int64(st, 4, l->hub_seq);
    sqlite3_bind_int64(st, 5, l->reported_at);
    sqlite3_bind_int64(st, 6, l->reported_events);
    sqlite3_bind_double(st, 7, l->reported_erasures);
    return ww_sql_done(s, st);
}

/* The group's events other than reports: what a report is news about. */
static int count_news(struct ww_store *s, const uint8_t gid[16], int64_t *out)
{
    sqlite3_stmt *st = ww_sql(s, "SELECT count(*) FROM logs l JOIN events e ON " WW_LOG_RANGE(
                                     "e", "l") " WHERE l.gid=?1 AND e.kind<>21");
    if (st)
        ww_bind_blob(st, 1, gid, 16);
    return ww_sql_int(s, st, out);
}

/* A fingerprint of the erasures held: a new one changes it. */
static int erasure_print(struct ww_store *s, const uint8_t gid[16], double *out)
{
    sqlite3_stmt *st = ww_sql(s, "SELECT total(hlc) + count(*) FROM erasures WHERE gid=?1");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, gid, 16);
    int step = sqlite3_step(st);
    *out = step == SQLITE_ROW ? sqlite3_column_double(st, 0) : 0;
    sqlite3_reset(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? 0 : ww_db_err(s, step);
}

/* Whether peer is the hub the group named. */
static int is_named_hub(struct ww_store *s, const uint8_t gid[16], const uint8_t peer[32])
{
    sqlite3_stmt *st = ww_sql(s, "SELECT 1 FROM group_hubs WHERE gid=?1 AND hub=?2");
    if (!st)
        return 0;
    ww_bind_blob(st, 1, gid, 16);
    ww_bind_blob(st, 2, peer, 32);
    int found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    return found;
}

/* The highest seq of this device's own log in the group (0: none). */
static int own_head(struct ww_store *s, const uint8_t gid[16], int64_t *out)
{
    struct ww_log_head h;
    int rc = ww_log_head(s, gid, s->pk, &h);
    *out = rc == 0 ? (int64_t)h.seq : 0;
    return rc;
}

/* Whether a report could be due on a live connection without counting the log: it is
 * when the last one is old, or an erasure arrived since. */
static int report_may_be_due(struct ww_store *s, const uint8_t gid[16], const struct local *l,
                             int64_t now)
{
    double erasures = 0;
    if (now < l->reported_at || now - l->reported_at >= REPORT_LIVE_MS)
        return 1;
    return erasure_print(s, gid, &erasures) != 0 || erasures != l->reported_erasures;
}

static int write_report(struct ww_store *s, const uint8_t gid[16], const struct ww_devinfo *me,
                        const struct local *l)
{
    struct ww_vv_item vv[WW_MAX_HELD];
    size_t n = 0;
    int rc = ww_sync_vv(s, gid, vv, WW_MAX_HELD, &n);
    if (rc != 0)
        return rc;
    struct ww_body *body = ww_malloc(sizeof *body);
    if (!body)
        return WW_ENOMEM;
    memset(body, 0, sizeof *body);
    body->kind = WW_KIND_SYNC_REPORT;
    struct ww_body_sync_report *r = &body->u.sync_report;
    r->hub_at = (uint64_t)l->hub_at;
    r->peer_at = (uint64_t)l->peer_at;
    /* The vector is in ascending author order; a group has at most WW_MAX_GROUP_DEVICES
     * authors, fewer than WW_MAX_HELD. */
    for (size_t i = 0; i < n && i < WW_MAX_HELD; i++) {
        if (vv[i].seq == 0)
            continue;
        memcpy(r->held[r->n_held].device, vv[i].author, 32);
        r->held[r->n_held++].seq = vv[i].seq;
    }
    struct ww_emit e = {
        .kind = WW_KIND_SYNC_REPORT, .audience = WW_AUD_PAIR, .subject = me->member, .body = body};
    rc = ww_emit(s, gid, &e, NULL);
    ww_free(body);
    return rc;
}

/* What a completed sync is recorded against: this device's record, its membership, and
 * whether the peer is the group's hub. */
struct done_state {
    struct local l;
    struct ww_devinfo me;
    int learner, hub;
    int64_t now, own;
};

static int load_state(struct ww_store *s, const uint8_t gid[16], const uint8_t peer[32],
                      struct done_state *d)
{
    memset(d, 0, sizeof *d);
    d->now = ww_store_now_ms(s);
    int rc = load_local(s, gid, &d->l);
    if (rc != 0)
        return rc;
    /* The coach and former members keep their own record, and report nothing. */
    int acting = ww_cache_acting(s, gid, WW_LEARNER, &d->me);
    if (acting != 0 && acting != WW_EROLE && acting != WW_ENOTMEMBER)
        return acting;
    d->learner = acting == 0;
    d->hub = is_named_hub(s, gid, peer);
    return d->hub ? own_head(s, gid, &d->own) : 0;
}

/* A live connection is caught up again after each batch: within a minute, and with nothing
 * new of this device's own unsent and no report due, that changes nothing worth a write. */
static int nothing_to_record(struct ww_store *s, const uint8_t gid[16], const struct done_state *d)
{
    int64_t last = d->hub ? d->l.hub_at : d->l.peer_at;
    return d->now >= last && d->now - last < 60000 && (!d->hub || d->own == d->l.hub_seq) &&
           !(d->learner && report_may_be_due(s, gid, &d->l, d->now));
}

static int sync_done(struct ww_store *s, const uint8_t gid[16], const uint8_t peer[32], int live,
                     int *written)
{
    struct done_state d;
    int rc = load_state(s, gid, peer, &d);
    if (rc != 0 || (live && nothing_to_record(s, gid, &d)))
        return rc;
    struct local l = d.l;
    int64_t now = d.now;
    if (d.hub) {
        l.hub_at = now;
        l.hub_seq = d.own;
    } else {
        l.peer_at = now;
    }
    if (d.learner) {
        double erasures;
        int64_t news = -1;
        rc = erasure_print(s, gid, &erasures);
        int idle = now - l.reported_at >= REPORT_IDLE_MS || now < l.reported_at;
        int new_erasure = erasures != l.reported_erasures;
        int may = !live || now - l.reported_at >= REPORT_LIVE_MS || idle || new_erasure;
        if (rc == 0 && may)
            rc = count_news(s, gid, &news);
        if (rc == 0 && may && (idle || new_erasure || news != l.reported_events)) {
            if ((rc = write_report(s, gid, &d.me, &l)) == 0) {
                l.reported_at = now;
                l.reported_events = news;
                l.reported_erasures = erasures;
                *written = 1;
            }
        }
    }
    if (rc == 0 && *written && d.hub)
        l.hub_seq = d.own + 1; /* the report goes out on this connection */
    return rc ? rc : save_local(s, gid, &l);
}

struct done_args {
    const uint8_t *gid, *peer;
    int live, written;
};

static int done_tx(struct ww_store *s, void *ud)
{
    struct done_args *a = ud;
    return sync_done(s, a->gid, a->peer, a->live, &a->written);
}

int ww_sync_done(struct ww_store *s, const uint8_t group[WW_ID_LEN], const uint8_t peer[WW_KEY_LEN],
                 int live, int *written)
{
    if (!s || !group || !peer)
        return WW_EINVAL;
    struct done_args a = {.gid = group, .peer = peer, .live = live};
    struct done_state d;
    /* A live connection mostly has nothing to record: decided by reads alone, outside a
     * write transaction, since it runs each time a session is caught up. */
    int rc = live ? load_state(s, group, peer, &d) : 0;
    if (rc == 0 && live && nothing_to_record(s, group, &d)) {
        if (written)
            *written = 0;
        return 0;
    }
    if (rc == 0)
        rc = ww_tx(s, done_tx, &a);
    if (written)
        *written = rc == 0 && a.written;
    return rc;
}

/* ---- What this device says of its own syncs ---- */

int ww_sync_state(struct ww_store *s, const uint8_t group[WW_ID_LEN], struct ww_sync_state *out)
{
    if (!s || !group || !out)
        return WW_EINVAL;
    memset(out, 0, sizeof *out);
    int rc = ww_cache_load(s, group);
    if (rc != 0)
        return rc;
    if (!ww_cache_cur(s)->exists)
        return WW_EGROUP;
    struct local l;
    int64_t own = 0;
    if ((rc = load_local(s, group, &l)) != 0 || (rc = own_head(s, group, &own)) != 0)
        return rc;
    out->hub_at = (uint64_t)l.hub_at;
    out->peer_at = (uint64_t)l.peer_at;
    out->reported_at = (uint64_t)l.reported_at;
    out->unsent = own > l.hub_seq ? (uint64_t)(own - l.hub_seq) : 0;
    int64_t waiting = 0;
    sqlite3_stmt *st = ww_sql(s, "SELECT count(*) FROM pending WHERE gid=?1");
    if (st)
        ww_bind_blob(st, 1, group, 16);
    if ((rc = ww_sql_int(s, st, &waiting)) == 0)
        out->waiting = (uint64_t)waiting;
    return rc;
}

/* ---- The coach's view ---- */

/* The devices of the group's active members, coach first, then by alias. */
#define DEVICES_SQL                                                                                \
    "SELECT d.device, d.member, m.alias, m.role, r.hlc, r.hub_at, r.peer_at FROM devices d"        \
    " JOIN members m ON m.gid=d.gid AND m.member=d.member LEFT JOIN sync_reports r ON"             \
    " r.gid=d.gid AND r.device=d.device WHERE d.gid=?1 AND m.removed_epoch IS NULL"                \
    " ORDER BY m.role, m.alias, d.device"

/* Events of the group, reports aside, that `device` had not when it last reported. */
static int count_missing(struct ww_store *s, const uint8_t gid[16], const uint8_t device[32],
                         int64_t *out)
{
    sqlite3_stmt *st = ww_sql(
        s, "SELECT count(*) FROM logs l JOIN events e ON e.id > (l.id << 40) + coalesce((SELECT"
           " seq FROM sync_held h WHERE h.gid=?1 AND h.device=?2 AND h.author=l.author), 0) AND"
           " e.id <= (l.id << 40 | " SEQ_MASK ") WHERE l.gid=?1 AND e.kind<>21");
    if (st) {
        ww_bind_blob(st, 1, gid, 16);
        ww_bind_blob(st, 2, device, 32);
    }
    return ww_sql_int(s, st, out);
}

/* Whether `device` reported holding (author, seq). */
static int holds(struct ww_store *s, const uint8_t gid[16], const uint8_t device[32],
                 const uint8_t author[32], uint64_t seq)
{
    if (!memcmp(device, s->pk, 32))
        return 1; /* this device holds what it lists */
    sqlite3_stmt *st =
        ww_sql(s, "SELECT seq >= ?4 FROM sync_held WHERE gid=?1 AND device=?2 AND author=?3");
    if (!st)
        return 0;
    ww_bind_blob(st, 1, gid, 16);
    ww_bind_blob(st, 2, device, 32);
    ww_bind_blob(st, 3, author, 32);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)seq);
    int yes = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    return yes;
}

struct dev {
    struct ww_device_health h;
    char alias[WW_MAX_NAME + 1];
};

static int load_devices(struct ww_store *s, const uint8_t gid[16], struct dev **out, size_t *n_out)
{
    sqlite3_stmt *st = ww_sql(s, DEVICES_SQL);
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, gid, 16);
    struct dev *v = NULL;
    size_t n = 0;
    int step, rc = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct dev *nv = ww_realloc(v, (n + 1) * sizeof *v);
        if (!nv) {
            rc = WW_ENOMEM;
            break;
        }
        v = nv;
        struct dev *d = &v[n++];
        memset(d, 0, sizeof *d);
        if (sqlite3_column_bytes(st, 0) == 32)
            memcpy(d->h.device, sqlite3_column_blob(st, 0), 32);
        if (sqlite3_column_bytes(st, 1) == 16)
            memcpy(d->h.member, sqlite3_column_blob(st, 1), 16);
        const unsigned char *alias = sqlite3_column_text(st, 2);
        if (alias)
            snprintf(d->alias, sizeof d->alias, "%s", (const char *)alias);
        d->h.role = sqlite3_column_int(st, 3);
        d->h.reported = sqlite3_column_type(st, 4) != SQLITE_NULL;
        d->h.report_at = (uint64_t)sqlite3_column_int64(st, 4) >> 16;
        d->h.hub_at = (uint64_t)sqlite3_column_int64(st, 5);
        d->h.peer_at = (uint64_t)sqlite3_column_int64(st, 6);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = ww_db_err(s, step);
    sqlite3_reset(st);
    if (rc != 0) {
        ww_free(v);
        return rc;
    }
    *out = v;
    *n_out = n;
    return 0;
}

/* The devices with what each reported, and per device the erasures it holds. */
static int health(struct ww_store *s, const uint8_t gid[16], struct dev *v, size_t n)
{
    struct ww_sync_state me;
    int rc = ww_sync_state(s, gid, &me);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct ww_device_health *h = &v[i].h;
        h->alias = v[i].alias;
        if (!memcmp(h->device, s->pk, 32)) {
            h->this_device = 1;
            h->hub_at = me.hub_at;
            h->peer_at = me.peer_at;
            h->known = 1;
            continue;
        }
        h->known = h->reported;
        int64_t missing = 0;
        if (h->reported && (rc = count_missing(s, gid, h->device, &missing)) == 0)
            h->missing = (uint64_t)missing;
    }
    return rc;
}

/* Every erasure event of the group, oldest first: its log position and erased member. */
static int each_erasure(struct ww_store *s, const uint8_t gid[16], struct dev *v, size_t n,
                        void (*cb)(void *ud, const struct ww_erasure_receipts *r), void *ud)
{
    sqlite3_stmt *st =
        ww_sql(s, "SELECT l.author, e.id & " SEQ_MASK ", e.hash, e.hlc, e.raw FROM "
                  "logs l JOIN events e ON " WW_LOG_RANGE(
                      "e", "l") " WHERE l.gid=?1 AND e.kind=16 ORDER BY e.hlc, e.hash");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, gid, 16);
    struct ww_erasure_device *devs = ww_malloc((n ? n : 1) * sizeof *devs);
    if (!devs) {
        sqlite3_reset(st);
        return WW_ENOMEM;
    }
    int step, rc = 0;
    /* The rows are read into a list first: holds() runs statements of its own. */
    struct item {
        uint8_t author[32], hash[32], member[16];
        uint64_t seq, hlc;
    } *items = NULL;
    size_t n_items = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct ww_envelope env;
        struct ww_body body;
        if (sqlite3_column_bytes(st, 0) != 32 || sqlite3_column_bytes(st, 2) != 32 ||
            ww_envelope_decode(sqlite3_column_blob(st, 4), (size_t)sqlite3_column_bytes(st, 4),
                               &env) != 0 ||
            ww_body_decode(env.h.kind, env.body.p, env.body.len, &body) != 0)
            continue;
        struct item *ni = ww_realloc(items, (n_items + 1) * sizeof *items);
        if (!ni) {
            rc = WW_ENOMEM;
            break;
        }
        items = ni;
        struct item *it = &items[n_items++];
        memcpy(it->author, sqlite3_column_blob(st, 0), 32);
        it->seq = (uint64_t)sqlite3_column_int64(st, 1);
        memcpy(it->hash, sqlite3_column_blob(st, 2), 32);
        it->hlc = (uint64_t)sqlite3_column_int64(st, 3);
        memcpy(it->member, body.u.erase.member, 16);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = ww_db_err(s, step);
    sqlite3_reset(st);
    for (size_t k = 0; rc == 0 && k < n_items; k++) {
        struct ww_erasure_receipts r = {.at = items[k].hlc >> 16, .devices = devs, .n_devices = n};
        memcpy(r.hash, items[k].hash, 32);
        memcpy(r.member, items[k].member, 16);
        for (size_t i = 0; i < n; i++) {
            devs[i].device = v[i].h.device;
            devs[i].alias = v[i].alias;
            devs[i].applied = holds(s, gid, v[i].h.device, items[k].author, items[k].seq);
            r.n_applied += (size_t)devs[i].applied;
        }
        cb(ud, &r);
    }
    ww_free(items);
    ww_free(devs);
    return rc;
}

int ww_devices_health(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                      void (*cb)(void *ud, const struct ww_device_health *d),
                      void (*erasure_cb)(void *ud, const struct ww_erasure_receipts *r), void *ud)
{
    if (!s || !group)
        return WW_EINVAL;
    int rc = ww_cache_acting(s, group, WW_ROLE_BIT(WW_ROLE_COACH), NULL);
    if (rc != 0)
        return rc;
    struct dev *v = NULL;
    size_t n = 0;
    if ((rc = load_devices(s, group, &v, &n)) == 0)
        rc = health(s, group, v, n);
    for (size_t i = 0; rc == 0 && cb && i < n; i++)
        cb(ud, &v[i].h);
    if (rc == 0 && erasure_cb)
        rc = each_erasure(s, group, v, n, erasure_cb, ud);
    ww_free(v);
    return rc;
}
