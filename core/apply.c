/*
 * apply.c - the one path by which events enter the store, whether this device wrote them
 * or a peer sent them.
 *
 * For a batch: decode every envelope, check each body against its ct_hash, compute event
 * hashes, link each author's events into runs by their `prev` hashes and verify one
 * signature per run (the last event's: its header hashes the previous event, which hashes
 * the one before, and so on). Then, in batch order, each event is checked against the
 * group's rules and either stored and materialised, recognised as a duplicate or a fork,
 * kept aside until its cause arrives (deferred), or rejected with a reason.
 *
 * Invariants:
 *  - Materialised state depends only on the set of events and keys held, never on the
 *    order they arrived in: records are last-writer-wins by (hlc, author), sets are keyed
 *    by event hash, and the control plane (members, devices, epochs) is one linear log,
 *    the owner's.
 *  - A rejected event leaves no trace but its count in the result: apply_one makes every
 *    check before its first write, and after that fails only with an error of the store
 *    itself (store_failed), which abandons the whole batch and its transaction.
 *  - Each author's stored events are contiguous from seq 1, so the version vector is
 *    max(seq) per author.
 */
#include <sodium.h>
#include <string.h>

#include "alloc.h"
#include "day.h"
#include "store.h"

enum outcome { APPLIED = 0, DUPLICATE = 1, DEFERRED = 2, FORKED = 3 };

#define ROLE(r)  (1u << (r))
#define AUD(a)   (1u << (a))
#define ANY_ROLE (ROLE(WW_ROLE_COACH) | ROLE(WW_ROLE_STUDENT) | ROLE(WW_ROLE_SENIOR))
#define LEARNER  (ROLE(WW_ROLE_STUDENT) | ROLE(WW_ROLE_SENIOR))
#define REF_DATE 4

/* Who may write each kind, to which audiences, and what `ref` it carries. */
struct rule {
    uint8_t roles;
    uint8_t audiences;
    uint8_t owner_only;
    uint8_t ref_len;
};

static const struct rule rules[WW_KIND_MAX_KNOWN + 1] = {
    [WW_KIND_GROUP_CREATE] = {ROLE(WW_ROLE_COACH), AUD(WW_AUD_PLAIN), 1, 0},
    [WW_KIND_MEMBER_ADD] = {ROLE(WW_ROLE_COACH), AUD(WW_AUD_PLAIN), 1, 0},
    [WW_KIND_MEMBER_REMOVE] = {ROLE(WW_ROLE_COACH), AUD(WW_AUD_PLAIN), 1, 0},
    [WW_KIND_DEVICE_ADD] = {ROLE(WW_ROLE_COACH), AUD(WW_AUD_PLAIN), 1, 0},
    [WW_KIND_KEY_EPOCH] = {ROLE(WW_ROLE_COACH), AUD(WW_AUD_PLAIN), 1, 0},
    [WW_KIND_KEY_SHARE] = {ANY_ROLE, AUD(WW_AUD_PLAIN), 0, 0},
    [WW_KIND_CHALLENGE_DEFINE] = {ROLE(WW_ROLE_COACH), AUD(WW_AUD_GROUP), 0, 0},
    [WW_KIND_CHALLENGE_SCHEDULE] = {ROLE(WW_ROLE_COACH), AUD(WW_AUD_GROUP), 0, REF_DATE},
    [WW_KIND_DAY_OFF] = {LEARNER, AUD(WW_AUD_GROUP), 0, REF_DATE},
    [WW_KIND_REFLECTION_PUT] = {LEARNER, AUD(WW_AUD_GROUP) | AUD(WW_AUD_PAIR) | AUD(WW_AUD_SELF), 0,
                                REF_DATE},
    [WW_KIND_CLIMATE_PUT] = {LEARNER, AUD(WW_AUD_AGG), 0, REF_DATE},
    [WW_KIND_REACTION_PUT] = {ANY_ROLE, AUD(WW_AUD_GROUP) | AUD(WW_AUD_PAIR), 0, 0},
    [WW_KIND_SIGNAL_RAISE] = {LEARNER, AUD(WW_AUD_PAIR), 0, 0},
    [WW_KIND_SIGNAL_RESOLVE] = {ROLE(WW_ROLE_COACH), AUD(WW_AUD_PAIR), 0, 16},
    [WW_KIND_SIGNOFF_PUT] = {ROLE(WW_ROLE_COACH), AUD(WW_AUD_PAIR), 0, 0},
    [WW_KIND_ERASE] = {ANY_ROLE, AUD(WW_AUD_PLAIN), 0, 0},
    /* No role may write it until its application (PROTOCOL.md 6.12) is in place: refused,
     * rather than kept as an unknown kind that later replicas would interpret. */
    [WW_KIND_REACTION_DEL] = {0, 0, 0, 0},
};

/* One decoded event of a batch. */
struct item {
    const uint8_t *raw;
    size_t len;
    struct ww_envelope env;
    uint8_t hash[32];
    int rc; /* decode or verification failure */
    int sig_ok;
    int next;     /* index of the event that links to this one in the batch, or -1 */
    int has_prev; /* an earlier event of the batch links into this one */
};

/* Per batch: the last stored event of each author seen, to avoid a query per event. */
struct head {
    uint8_t gid[16];
    uint8_t author[32];
    struct ww_log_head h;
};

struct batch {
    struct head heads[64];
    size_t n_heads;
    struct ww_buf pt;  /* decrypted body */
    struct ww_buf out; /* re-encoded raw (erasure) */
    int control;       /* a control event or key arrived: retry the deferred */
};

static uint32_t ref_date(const struct ww_header *h)
{
    return (uint32_t)h->ref[0] << 24 | (uint32_t)h->ref[1] << 16 | (uint32_t)h->ref[2] << 8 |
           h->ref[3];
}

static void bind_blob(sqlite3_stmt *st, int i, const void *p, size_t n)
{
    sqlite3_bind_blob(st, i, p, (int)n, SQLITE_TRANSIENT);
}

static void bind_text(sqlite3_stmt *st, int i, const struct ww_slice *t)
{
    sqlite3_bind_text(st, i, t->len ? (const char *)t->p : "", (int)t->len, SQLITE_TRANSIENT);
}

static struct head *find_head(struct batch *b, const uint8_t gid[16], const uint8_t author[32])
{
    for (size_t i = 0; i < b->n_heads; i++)
        if (!memcmp(b->heads[i].author, author, 32) && !memcmp(b->heads[i].gid, gid, 16))
            return &b->heads[i];
    return NULL;
}

static void set_head(struct batch *b, const struct item *it, int64_t log)
{
    struct head *h = find_head(b, it->env.h.group, it->env.h.author);
    if (!h) {
        if (b->n_heads == sizeof b->heads / sizeof b->heads[0]) {
            memmove(b->heads, b->heads + 1, sizeof b->heads - sizeof b->heads[0]);
            b->n_heads--;
        }
        h = &b->heads[b->n_heads++];
        memcpy(h->gid, it->env.h.group, 16);
        memcpy(h->author, it->env.h.author, 32);
    }
    h->h.log = log;
    h->h.seq = it->env.h.seq;
    h->h.hlc = it->env.h.hlc;
    memcpy(h->h.hash, it->hash, 32);
}

int ww_log_head(struct ww_store *s, const uint8_t gid[16], const uint8_t author[32],
                struct ww_log_head *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = ww_sql(s, "SELECT id FROM logs WHERE gid=?1 AND author=?2");
    if (!st)
        return WW_ESTORE;
    bind_blob(st, 1, gid, 16);
    bind_blob(st, 2, author, 32);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        out->log = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (step != SQLITE_ROW)
        return step == SQLITE_DONE ? 0 : ww_db_err(s, step);
    st = ww_sql(s, "SELECT id, hash, hlc FROM events WHERE id BETWEEN ?1 AND ?2 ORDER BY id DESC "
                   "LIMIT 1");
    if (!st)
        return WW_ESTORE;
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

/* The hash of the stored event `seq` of a log: 1 when held. */
static int stored_hash(struct ww_store *s, int64_t log, uint64_t seq, uint8_t hash[32], int *rc)
{
    sqlite3_stmt *st = ww_sql(s, "SELECT hash FROM events WHERE id=?1");
    if (!st) {
        *rc = WW_ESTORE;
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

/* The author's head, from this batch when it has stored an event of that author already. */
static int author_head(struct ww_store *s, struct batch *b, const uint8_t *gid,
                       const uint8_t *author, struct ww_log_head *out)
{
    struct head *h = find_head(b, gid, author);
    if (h) {
        *out = h->h;
        return 0;
    }
    return ww_log_head(s, gid, author, out);
}

/* A new log for an author's first event. */
static int log_create(struct ww_store *s, const uint8_t *gid, const uint8_t *author, int64_t *out)
{
    sqlite3_stmt *st = ww_sql(s, "INSERT INTO logs(gid, author) VALUES(?1,?2)");
    if (!st)
        return WW_ESTORE;
    bind_blob(st, 1, gid, 16);
    bind_blob(st, 2, author, 32);
    int rc = ww_sql_done(s, st);
    if (rc != 0)
        return rc;
    *out = sqlite3_last_insert_rowid(s->db);
    return *out > 0 && *out < WW_MAX_LOGS ? 0 : WW_EFULL; /* the store is full of logs */
}

/* ---- Materialisation, one function per kind ---------------------------------------- */

static int put_keys(struct ww_store *s, struct batch *b, const uint8_t *gid,
                    const struct ww_body_keys *k)
{
    for (uint32_t i = 0; i < k->n_wraps; i++) {
        const struct ww_wrap *w = &k->wraps[i];
        if (memcmp(w->device, s->pk, 32) != 0)
            continue;
        uint8_t key[32];
        if (ww_unwrap_key(s, w->sealed, key) != 0)
            continue; /* not sealed for us after all: nothing to learn */
        sqlite3_stmt *st = ww_sql(s, "INSERT OR IGNORE INTO keys(gid, audience, subject, epoch, "
                                     "key) VALUES(?1,?2,?3,?4,?5)");
        if (!st)
            return WW_ESTORE;
        bind_blob(st, 1, gid, 16);
        sqlite3_bind_int(st, 2, w->audience);
        bind_blob(st, 3, w->subject, 16);
        sqlite3_bind_int64(st, 4, k->epoch);
        bind_blob(st, 5, key, 32);
        int rc = ww_sql_done(s, st);
        if (rc == 0 && w->audience == WW_AUD_SELF) {
            /* Everyone this key.share wrapped the key for holds it now. */
            for (uint32_t j = 0; j < k->n_wraps && rc == 0; j++)
                if (k->wraps[j].audience == WW_AUD_SELF &&
                    !memcmp(k->wraps[j].subject, w->subject, 16))
                    rc =
                        ww_key_recipient_put(s, gid, w->subject, k->epoch, key, k->wraps[j].device);
        }
        sodium_memzero(key, sizeof key);
        if (rc != 0)
            return rc;
        ww_cache_invalidate(s);
        b->control = 1;
        if ((rc = ww_apply_unread(s, gid, w->audience, w->subject, k->epoch)) != 0)
            return rc;
    }
    return 0;
}

int ww_key_recipient_put(struct ww_store *s, const uint8_t gid[16], const uint8_t member[16],
                         uint32_t epoch, const uint8_t key[32], const uint8_t device[32])
{
    sqlite3_stmt *st = ww_sql(s, "INSERT OR IGNORE INTO key_recipients(gid, subject, epoch, key, "
                                 "device) VALUES(?1,?2,?3,?4,?5)");
    if (!st)
        return WW_ESTORE;
    bind_blob(st, 1, gid, 16);
    bind_blob(st, 2, member, 16);
    sqlite3_bind_int64(st, 3, epoch);
    bind_blob(st, 4, key, 32);
    bind_blob(st, 5, device, 32);
    return ww_sql_done(s, st);
}

/* Checks a control event's body against the control state, before anything is stored. */
static int check_control(struct ww_store *s, const struct ww_envelope *env,
                         const struct ww_body *body, const struct ww_devinfo *dev)
{
    const struct ww_group_cache *g = &s->cache;
    switch (env->h.kind) {
    case WW_KIND_MEMBER_ADD: {
        const struct ww_body_member_add *m = &body->u.member_add;
        int students = 0, seniors = 0;
        for (size_t i = 0; i < g->n_devices; i++) {
            const struct ww_devinfo *d = &g->devices[i];
            if (!memcmp(d->member, m->member, 16))
                return WW_EEXIST;
            for (uint32_t j = 0; j < m->n_devices; j++)
                if (!memcmp(d->device, m->devices[j], 32))
                    return WW_EEXIST;
        }
        for (uint32_t j = 0; j < m->n_devices; j++)
            for (uint32_t k = 0; k < j; k++)
                if (!memcmp(m->devices[j], m->devices[k], 32))
                    return WW_EEXIST;
        if (g->n_devices + m->n_devices > WW_MAX_GROUP_DEVICES)
            return WW_ETOOBIG;
        /* Count active members (each once: a member may have several devices). */
        sqlite3_stmt *st = ww_sql(s, "SELECT role, count(*) FROM members WHERE gid=?1 AND "
                                     "removed_epoch IS NULL GROUP BY role");
        if (!st)
            return WW_ESTORE;
        bind_blob(st, 1, env->h.group, 16);
        while (sqlite3_step(st) == SQLITE_ROW) {
            int role = sqlite3_column_int(st, 0), n = sqlite3_column_int(st, 1);
            if (role == WW_ROLE_STUDENT)
                students = n;
            else if (role == WW_ROLE_SENIOR)
                seniors = n;
        }
        sqlite3_reset(st);
        if (m->role == WW_ROLE_STUDENT && students >= 4)
            return WW_ESTUDENTCAP;
        if (m->role == WW_ROLE_SENIOR && seniors >= 1)
            return WW_ESENIORCAP;
        if (m->role != WW_ROLE_COACH && (m->year < 1 || m->year > 4))
            return WW_ERANGE;
        return 0;
    }
    case WW_KIND_MEMBER_REMOVE: {
        const uint8_t *m = body->u.member_remove.member;
        if (!memcmp(m, dev->member, 16))
            return WW_EROLE; /* the owner cannot remove itself */
        for (size_t i = 0; i < g->n_devices; i++)
            if (!memcmp(g->devices[i].member, m, 16))
                return g->devices[i].removed_epoch == UINT32_MAX ? 0 : WW_ENOTFOUND;
        return WW_ENOTFOUND;
    }
    case WW_KIND_DEVICE_ADD: {
        const struct ww_body_device_add *d = &body->u.device_add;
        int found = 0;
        if (g->n_devices + 1 > WW_MAX_GROUP_DEVICES)
            return WW_ETOOBIG;
        for (size_t i = 0; i < g->n_devices; i++) {
            if (!memcmp(g->devices[i].device, d->device, 32))
                return WW_EEXIST;
            if (!memcmp(g->devices[i].member, d->member, 16) &&
                g->devices[i].removed_epoch == UINT32_MAX)
                found = 1;
        }
        return found ? 0 : WW_ENOTFOUND;
    }
    case WW_KIND_KEY_EPOCH:
        return body->u.keys.epoch == g->epoch + 1 ? 0 : WW_EEPOCH;
    case WW_KIND_KEY_SHARE: {
        const struct ww_body_keys *k = &body->u.keys;
        if (k->epoch > g->epoch || k->epoch == 0)
            return WW_EEPOCH;
        if (!memcmp(env->h.author, g->owner, 32))
            return 0;
        /* A member shares only its own SELF key, only with its own devices. */
        for (uint32_t i = 0; i < k->n_wraps; i++) {
            const struct ww_wrap *w = &k->wraps[i];
            if (w->audience != WW_AUD_SELF || memcmp(w->subject, dev->member, 16) != 0)
                return WW_EROLE;
            const struct ww_devinfo *to = ww_cache_device(s, w->device);
            if (!to || memcmp(to->member, dev->member, 16) != 0)
                return WW_EROLE;
        }
        return 0;
    }
    case WW_KIND_ERASE:
        if (!memcmp(env->h.author, g->owner, 32) || !memcmp(body->u.erase.member, dev->member, 16))
            return 0;
        return WW_EROLE;
    default:
        return 0;
    }
}

static int apply_group_create(struct ww_store *s, const struct ww_envelope *env,
                              const struct ww_body_group_create *c)
{
    sqlite3_stmt *st = ww_sql(s, "INSERT INTO groups(gid, name, tz, start_date, owner, coach, "
                                 "agg_pk, epoch) VALUES(?1,?2,?3,?4,?5,?6,?7,0)");
    if (!st)
        return WW_ESTORE;
    bind_blob(st, 1, env->h.group, 16);
    bind_text(st, 2, &c->name);
    if (c->tz.len)
        bind_text(st, 3, &c->tz);
    else
        sqlite3_bind_text(st, 3, WW_DEFAULT_TZ, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, c->start_date);
    bind_blob(st, 5, env->h.author, 32);
    bind_blob(st, 6, c->coach, 16);
    if (c->has_agg)
        bind_blob(st, 7, c->agg_pk, 32);
    int rc = ww_sql_done(s, st);
    if (rc != 0)
        return rc;
    st = ww_sql(s, "INSERT INTO members(gid, member, role, alias, year, track, added_epoch) "
                   "VALUES(?1,?2,1,?3,0,0,0)");
    if (!st)
        return WW_ESTORE;
    bind_blob(st, 1, env->h.group, 16);
    bind_blob(st, 2, c->coach, 16);
    bind_text(st, 3, &c->coach_alias);
    if ((rc = ww_sql_done(s, st)) != 0)
        return rc;
    st = ww_sql(s, "INSERT INTO devices(gid, device, member) VALUES(?1,?2,?3)");
    if (!st)
        return WW_ESTORE;
    bind_blob(st, 1, env->h.group, 16);
    bind_blob(st, 2, env->h.author, 32);
    bind_blob(st, 3, c->coach, 16);
    return ww_sql_done(s, st);
}

static int add_device(struct ww_store *s, const uint8_t *gid, const uint8_t *device,
                      const uint8_t *member)
{
    sqlite3_stmt *st = ww_sql(s, "INSERT INTO devices(gid, device, member) VALUES(?1,?2,?3)");
    if (!st)
        return WW_ESTORE;
    bind_blob(st, 1, gid, 16);
    bind_blob(st, 2, device, 32);
    bind_blob(st, 3, member, 16);
    return ww_sql_done(s, st);
}

static int apply_control(struct ww_store *s, struct batch *b, const struct ww_envelope *env,
                         const struct ww_body *body)
{
    const uint8_t *gid = env->h.group;
    sqlite3_stmt *st;
    int rc = 0;
    b->control = 1;
    switch (env->h.kind) {
    case WW_KIND_MEMBER_ADD: {
        const struct ww_body_member_add *m = &body->u.member_add;
        st = ww_sql(s, "INSERT INTO members(gid, member, role, alias, year, track, added_epoch) "
                       "VALUES(?1,?2,?3,?4,?5,?6,?7)");
        if (!st)
            return WW_ESTORE;
        bind_blob(st, 1, gid, 16);
        bind_blob(st, 2, m->member, 16);
        sqlite3_bind_int(st, 3, m->role);
        bind_text(st, 4, &m->alias);
        sqlite3_bind_int(st, 5, m->year);
        sqlite3_bind_int(st, 6, m->track);
        sqlite3_bind_int64(st, 7, s->cache.epoch);
        if ((rc = ww_sql_done(s, st)) != 0)
            return rc;
        for (uint32_t i = 0; i < m->n_devices && rc == 0; i++)
            rc = add_device(s, gid, m->devices[i], m->member);
        break;
    }
    case WW_KIND_MEMBER_REMOVE:
        /* Removal takes effect with the next epoch, which the owner starts right after. */
        st = ww_sql(s, "UPDATE members SET removed_epoch=?3, removed_hlc=?4 WHERE gid=?1 AND "
                       "member=?2");
        if (!st)
            return WW_ESTORE;
        bind_blob(st, 1, gid, 16);
        bind_blob(st, 2, body->u.member_remove.member, 16);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)s->cache.epoch + 1);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)env->h.hlc);
        rc = ww_sql_done(s, st);
        break;
    case WW_KIND_DEVICE_ADD:
        rc = add_device(s, gid, body->u.device_add.device, body->u.device_add.member);
        break;
    case WW_KIND_KEY_EPOCH:
        st = ww_sql(s, "UPDATE groups SET epoch=?2 WHERE gid=?1");
        if (!st)
            return WW_ESTORE;
        bind_blob(st, 1, gid, 16);
        sqlite3_bind_int64(st, 2, body->u.keys.epoch);
        if ((rc = ww_sql_done(s, st)) != 0)
            return rc;
        ww_cache_invalidate(s);
        rc = put_keys(s, b, gid, &body->u.keys);
        break;
    case WW_KIND_KEY_SHARE:
        rc = put_keys(s, b, gid, &body->u.keys);
        break;
    default:
        break;
    }
    ww_cache_invalidate(s);
    return rc;
}

/* Drops the bodies and materialised rows an erasure covers (events of the member, or
 * about the member, up to the erasure's HLC). */
static int apply_erase(struct ww_store *s, struct batch *b, const struct ww_envelope *env,
                       const uint8_t *member)
{
    const uint8_t *gid = env->h.group;
    uint64_t hlc = env->h.hlc;
    sqlite3_stmt *st = ww_sql(s, "INSERT INTO erasures(gid, member, hlc) VALUES(?1,?2,?3) "
                                 "ON CONFLICT(gid, member) DO UPDATE SET hlc=max(hlc, "
                                 "excluded.hlc)");
    if (!st)
        return WW_ESTORE;
    bind_blob(st, 1, gid, 16);
    bind_blob(st, 2, member, 16);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)hlc);
    int rc = ww_sql_done(s, st);
    if (rc != 0)
        return rc;

    /* Strip the bodies of the covered events, keeping header, ct_hash and signature.
     * Row ids are collected first: the rows are rewritten while nothing reads them. */
    sqlite3_stmt *q = ww_sql(s, "SELECT e.id FROM logs l JOIN events e ON e.id BETWEEN "
                                "(l.id << 40) AND (l.id << 40 | 1099511627775) WHERE l.gid=?1 "
                                "AND e.hlc<=?3 AND e.kind>=7 AND e.kind<>16 AND (e.subject=?2 OR "
                                "l.author IN (SELECT device FROM devices WHERE gid=?1 AND "
                                "member=?2))");
    if (!q)
        return WW_ESTORE;
    bind_blob(q, 1, gid, 16);
    bind_blob(q, 2, member, 16);
    sqlite3_bind_int64(q, 3, (sqlite3_int64)hlc);
    int64_t *rows = NULL;
    size_t n_rows = 0, cap = 0;
    while (rc == 0 && sqlite3_step(q) == SQLITE_ROW) {
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
    sqlite3_reset(q);
    for (size_t i = 0; i < n_rows && rc == 0; i++) {
        sqlite3_stmt *g = ww_sql(s, "SELECT raw FROM events WHERE id=?1");
        if (!g) {
            rc = WW_ESTORE;
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
            ww_buf_reset(&b->out);
            rc = ww_envelope_encode(&e, &b->out); /* reads e's slices before g moves on */
        }
        sqlite3_reset(g);
        if (!ok || rc != 0)
            continue;
        sqlite3_stmt *u = ww_sql(s, "UPDATE events SET raw=?2 WHERE id=?1");
        if (!u) {
            rc = WW_ESTORE;
            break;
        }
        sqlite3_bind_int64(u, 1, rows[i]);
        bind_blob(u, 2, b->out.p, b->out.len);
        rc = ww_sql_done(s, u);
    }
    ww_free(rows);
    if (rc != 0)
        return rc;

    static const char *const dels[] = {
        "DELETE FROM reflections WHERE gid=?1 AND member=?2 AND hlc<=?3",
        "DELETE FROM climate WHERE gid=?1 AND member=?2 AND hlc<=?3",
        "DELETE FROM days_off WHERE gid=?1 AND member=?2 AND hlc<=?3",
        "DELETE FROM reactions WHERE gid=?1 AND (member=?2 OR subject=?2) AND hlc<=?3",
        "DELETE FROM signal_states WHERE gid=?1 AND subject=?2 AND hlc<=?3",
        "DELETE FROM signals WHERE gid=?1 AND member=?2 AND hlc<=?3",
        "DELETE FROM signoffs WHERE gid=?1 AND member=?2 AND hlc<=?3",
        "UPDATE members SET alias='' WHERE gid=?1 AND member=?2 AND ?3 >= 0",
    };
    for (size_t i = 0; i < sizeof dels / sizeof dels[0] && rc == 0; i++) {
        sqlite3_stmt *d = ww_sql(s, dels[i]);
        if (!d)
            return WW_ESTORE;
        bind_blob(d, 1, gid, 16);
        bind_blob(d, 2, member, 16);
        sqlite3_bind_int64(d, 3, (sqlite3_int64)hlc);
        rc = ww_sql_done(s, d);
    }
    ww_cache_invalidate(s);
    return rc;
}

/* Records with last-writer-wins by (hlc, author). r is NULL when unreadable. */
static int apply_reflection(struct ww_store *s, const struct item *it, const uint8_t *member,
                            const struct ww_body_reflection *r)
{
    const struct ww_header *h = &it->env.h;
    sqlite3_stmt *st = ww_sql(
        s, "INSERT INTO reflections(gid, member, date, hlc, author, seq, hash, audience, "
           "readable, code, status, obstacles, share, draft) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,"
           "?10,?11,?12,?13,?14) ON CONFLICT(gid, member, date) DO UPDATE SET hlc=excluded.hlc, "
           "author=excluded.author, seq=excluded.seq, hash=excluded.hash, "
           "audience=excluded.audience, readable=excluded.readable, code=excluded.code, "
           "status=excluded.status, obstacles=excluded.obstacles, share=excluded.share, "
           "draft=excluded.draft WHERE excluded.hlc > reflections.hlc OR (excluded.hlc = "
           "reflections.hlc AND excluded.author > reflections.author) OR (excluded.hash = "
           "reflections.hash AND excluded.readable > reflections.readable)");
    if (!st)
        return WW_ESTORE;
    bind_blob(st, 1, h->group, 16);
    bind_blob(st, 2, member, 16);
    sqlite3_bind_int64(st, 3, ref_date(h));
    sqlite3_bind_int64(st, 4, (sqlite3_int64)h->hlc);
    bind_blob(st, 5, h->author, 32);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)h->seq);
    bind_blob(st, 7, it->hash, 32);
    sqlite3_bind_int(st, 8, h->audience);
    sqlite3_bind_int(st, 9, r != NULL);
    if (r) {
        bind_text(st, 10, &r->code);
        sqlite3_bind_int(st, 11, r->status);
        sqlite3_bind_int(st, 12, r->obstacles);
        sqlite3_bind_int(st, 13, r->share);
        sqlite3_bind_int(st, 14, r->draft);
    }
    return ww_sql_done(s, st);
}

/* The rules an encrypted body must follow against its own header (PROTOCOL.md 6.16). */
static int check_record(const struct ww_envelope *env, const struct ww_devinfo *dev,
                        const struct ww_body *body)
{
    const struct ww_header *h = &env->h;
    static const uint8_t aud_of_share[] = {0, WW_AUD_SELF, WW_AUD_GROUP, WW_AUD_PAIR};
    (void)dev;
    switch (h->kind) {
    case WW_KIND_CHALLENGE_SCHEDULE:
        return body->u.challenge_schedule.date == ref_date(h) ? 0 : WW_EINVAL;
    case WW_KIND_DAY_OFF:
        return body->u.day_off.date == ref_date(h) ? 0 : WW_EINVAL;
    case WW_KIND_REFLECTION_PUT:
        return body->u.reflection.date == ref_date(h) &&
                       aud_of_share[body->u.reflection.share] == h->audience
                   ? 0
                   : WW_EINVAL;
    case WW_KIND_CLIMATE_PUT:
        return body->u.climate.date == ref_date(h) ? 0 : WW_EINVAL;
    case WW_KIND_SIGNAL_RESOLVE:
        return memcmp(body->u.signal_resolve.signal, h->ref, 16) == 0 ? 0 : WW_EINVAL;
    case WW_KIND_SIGNOFF_PUT:
        return memcmp(body->u.signoff.member, h->subject, 16) == 0 ? 0 : WW_EINVAL;
    default:
        return 0;
    }
}

static int apply_record(struct ww_store *s, struct batch *b, const struct item *it,
                        const struct ww_devinfo *dev, const struct ww_body *body)
{
    const struct ww_header *h = &it->env.h;
    const uint8_t *gid = h->group;
    sqlite3_stmt *st = NULL;
    switch (h->kind) {
    case WW_KIND_CHALLENGE_DEFINE: {
        const struct ww_body_challenge_define *c = &body->u.challenge_define;
        st = ww_sql(s, "INSERT INTO challenges(gid, code, title, description, canmeds, "
                       "week_from, week_to, assignment_ref, signoff_role, hlc, author) "
                       "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11) ON CONFLICT(gid, code) DO "
                       "UPDATE SET title=excluded.title, description=excluded.description, "
                       "canmeds=excluded.canmeds, week_from=excluded.week_from, "
                       "week_to=excluded.week_to, assignment_ref=excluded.assignment_ref, "
                       "signoff_role=excluded.signoff_role, hlc=excluded.hlc, "
                       "author=excluded.author WHERE excluded.hlc > challenges.hlc OR "
                       "(excluded.hlc = challenges.hlc AND excluded.author > challenges.author)");
        if (!st)
            return WW_ESTORE;
        bind_blob(st, 1, gid, 16);
        bind_text(st, 2, &c->code);
        bind_text(st, 3, &c->title);
        bind_text(st, 4, &c->description);
        sqlite3_bind_int(st, 5, c->canmeds);
        sqlite3_bind_int(st, 6, c->week_from);
        sqlite3_bind_int(st, 7, c->week_to);
        bind_text(st, 8, &c->assignment_ref);
        sqlite3_bind_int(st, 9, c->signoff_role);
        sqlite3_bind_int64(st, 10, (sqlite3_int64)h->hlc);
        bind_blob(st, 11, h->author, 32);
        break;
    }
    case WW_KIND_CHALLENGE_SCHEDULE:
        st = ww_sql(s, "INSERT INTO schedule(gid, date, code, hlc, author) VALUES(?1,?2,?3,?4,?5)"
                       " ON CONFLICT(gid, date) DO UPDATE SET code=excluded.code, "
                       "hlc=excluded.hlc, author=excluded.author WHERE excluded.hlc > "
                       "schedule.hlc OR (excluded.hlc = schedule.hlc AND excluded.author > "
                       "schedule.author)");
        if (!st)
            return WW_ESTORE;
        bind_blob(st, 1, gid, 16);
        sqlite3_bind_int64(st, 2, body->u.challenge_schedule.date);
        bind_text(st, 3, &body->u.challenge_schedule.code);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)h->hlc);
        bind_blob(st, 5, h->author, 32);
        break;
    case WW_KIND_DAY_OFF:
        st = ww_sql(s, "INSERT INTO days_off(gid, member, date, off, hlc, author) "
                       "VALUES(?1,?2,?3,?4,?5,?6) ON CONFLICT(gid, member, date) DO UPDATE SET "
                       "off=excluded.off, hlc=excluded.hlc, author=excluded.author WHERE "
                       "excluded.hlc > days_off.hlc OR (excluded.hlc = days_off.hlc AND "
                       "excluded.author > days_off.author)");
        if (!st)
            return WW_ESTORE;
        bind_blob(st, 1, gid, 16);
        bind_blob(st, 2, dev->member, 16);
        sqlite3_bind_int64(st, 3, body->u.day_off.date);
        sqlite3_bind_int(st, 4, body->u.day_off.off);
        sqlite3_bind_int64(st, 5, (sqlite3_int64)h->hlc);
        bind_blob(st, 6, h->author, 32);
        break;
    case WW_KIND_REFLECTION_PUT:
        return apply_reflection(s, it, dev->member, &body->u.reflection);
    case WW_KIND_CLIMATE_PUT: {
        const struct ww_body_climate *c = &body->u.climate;
        uint8_t answers[2 * WW_MAX_ANSWERS];
        for (uint32_t i = 0; i < c->n_answers; i++) {
            answers[2 * i] = c->answers[i].item;
            answers[2 * i + 1] = c->answers[i].value;
        }
        st = ww_sql(s, "INSERT INTO climate(gid, member, date, hlc, author, answers) "
                       "VALUES(?1,?2,?3,?4,?5,?6) ON CONFLICT(gid, member, date) DO UPDATE SET "
                       "hlc=excluded.hlc, author=excluded.author, answers=excluded.answers "
                       "WHERE excluded.hlc > climate.hlc OR (excluded.hlc = climate.hlc AND "
                       "excluded.author > climate.author)");
        if (!st)
            return WW_ESTORE;
        bind_blob(st, 1, gid, 16);
        bind_blob(st, 2, dev->member, 16);
        sqlite3_bind_int64(st, 3, c->date);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)h->hlc);
        bind_blob(st, 5, h->author, 32);
        bind_blob(st, 6, answers, 2 * c->n_answers);
        break;
    }
    case WW_KIND_REACTION_PUT:
        st = ww_sql(s, "INSERT OR REPLACE INTO reactions(gid, hash, target, member, subject, "
                       "text, hlc, readable) VALUES(?1,?2,?3,?4,?7,?5,?6,1)");
        if (!st)
            return WW_ESTORE;
        bind_blob(st, 1, gid, 16);
        bind_blob(st, 2, it->hash, 32);
        bind_blob(st, 3, body->u.reaction.target, 32);
        bind_blob(st, 4, dev->member, 16);
        bind_text(st, 5, &body->u.reaction.text);
        sqlite3_bind_int64(st, 6, (sqlite3_int64)h->hlc);
        bind_blob(st, 7, h->subject, 16);
        break;
    case WW_KIND_SIGNAL_RAISE: {
        const struct ww_body_signal_raise *g = &body->u.signal_raise;
        st = ww_sql(s, "INSERT OR REPLACE INTO signals(gid, hash, member, category, text, "
                       "concerns, hlc, readable) VALUES(?1,?2,?3,?4,?5,?6,?7,1)");
        if (!st)
            return WW_ESTORE;
        bind_blob(st, 1, gid, 16);
        bind_blob(st, 2, it->hash, 32);
        bind_blob(st, 3, dev->member, 16);
        sqlite3_bind_int(st, 4, g->category);
        bind_text(st, 5, &g->text);
        if (g->has_concerns)
            bind_blob(st, 6, g->concerns, 16);
        sqlite3_bind_int64(st, 7, (sqlite3_int64)h->hlc);
        break;
    }
    case WW_KIND_SIGNAL_RESOLVE: {
        const struct ww_body_signal_resolve *r = &body->u.signal_resolve;
        st = ww_sql(s, "INSERT INTO signal_states(gid, signal, state, note, hlc, author, subject) "
                       "VALUES(?1,?2,?3,?4,?5,?6,?7) ON CONFLICT(gid, signal) DO UPDATE SET "
                       "state=excluded.state, note=excluded.note, hlc=excluded.hlc, "
                       "author=excluded.author, subject=excluded.subject WHERE excluded.hlc > "
                       "signal_states.hlc OR "
                       "(excluded.hlc = signal_states.hlc AND excluded.author > "
                       "signal_states.author)");
        if (!st)
            return WW_ESTORE;
        bind_blob(st, 1, gid, 16);
        bind_blob(st, 2, r->signal, 32);
        sqlite3_bind_int(st, 3, r->state);
        bind_text(st, 4, &r->note);
        sqlite3_bind_int64(st, 5, (sqlite3_int64)h->hlc);
        bind_blob(st, 6, h->author, 32);
        bind_blob(st, 7, h->subject, 16);
        break;
    }
    case WW_KIND_SIGNOFF_PUT: {
        const struct ww_body_signoff *o = &body->u.signoff;
        st = ww_sql(s, "INSERT OR REPLACE INTO signoffs(gid, hash, member, code, date, level, "
                       "note, hlc, readable) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,1)");
        if (!st)
            return WW_ESTORE;
        bind_blob(st, 1, gid, 16);
        bind_blob(st, 2, it->hash, 32);
        bind_blob(st, 3, o->member, 16);
        bind_text(st, 4, &o->code);
        sqlite3_bind_int64(st, 5, o->date);
        sqlite3_bind_int(st, 6, o->level);
        bind_text(st, 7, &o->note);
        sqlite3_bind_int64(st, 8, (sqlite3_int64)h->hlc);
        break;
    }
    case WW_KIND_ERASE:
        return apply_erase(s, b, &it->env, body->u.erase.member);
    default:
        return 0;
    }
    return ww_sql_done(s, st);
}

/* ---- Checking and storing one event ------------------------------------------------ */

static int defer(struct ww_store *s, const struct item *it, int reason)
{
    sqlite3_stmt *st = ww_sql(s, "SELECT (SELECT count(*) FROM pending WHERE gid=?1), "
                                 "(SELECT count(*) FROM pending)");
    if (!st)
        return WW_ESTORE;
    bind_blob(st, 1, it->env.h.group, 16);
    int in_group = 0, all = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        in_group = sqlite3_column_int(st, 0);
        all = sqlite3_column_int(st, 1);
    }
    sqlite3_reset(st);
    if (in_group >= WW_MAX_PENDING || all >= WW_MAX_PENDING_ALL)
        return reason; /* too much waiting: refuse rather than hold without bound */
    st = ww_sql(s, "INSERT OR IGNORE INTO pending(gid, author, seq, hlc, reason, raw) "
                   "VALUES(?1,?2,?3,?4,?5,?6)");
    if (!st)
        return WW_ESTORE;
    bind_blob(st, 1, it->env.h.group, 16);
    bind_blob(st, 2, it->env.h.author, 32);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)it->env.h.seq);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)it->env.h.hlc);
    sqlite3_bind_int(st, 5, reason);
    bind_blob(st, 6, it->raw, it->len);
    int rc = ww_sql_done(s, st);
    return rc ? rc : DEFERRED;
}

static int record_fork(struct ww_store *s, const struct item *it, const uint8_t held[32])
{
    /* A few forks per author are evidence enough; more would only fill the disk. */
    sqlite3_stmt *st = ww_sql(s, "SELECT count(*) FROM forks WHERE gid=?1 AND author=?2");
    if (!st)
        return WW_ESTORE;
    bind_blob(st, 1, it->env.h.group, 16);
    bind_blob(st, 2, it->env.h.author, 32);
    int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_reset(st);
    if (n >= WW_MAX_FORKS)
        return FORKED;
    st = ww_sql(s, "INSERT OR IGNORE INTO forks(gid, author, seq, hash_held, "
                   "hash_seen, raw_seen) VALUES(?1,?2,?3,?4,?5,?6)");
    if (!st)
        return WW_ESTORE;
    bind_blob(st, 1, it->env.h.group, 16);
    bind_blob(st, 2, it->env.h.author, 32);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)it->env.h.seq);
    bind_blob(st, 4, held, 32);
    bind_blob(st, 5, it->hash, 32);
    bind_blob(st, 6, it->raw, it->len);
    int rc = ww_sql_done(s, st);
    return rc ? rc : FORKED;
}

/* The kinds whose bodies an erasure drops: records, not the control plane (which other
 * replicas need to check everything else) and not erasures themselves. The erase pass in
 * apply_erase selects the same kinds. */
static int erasable(uint16_t kind)
{
    return kind >= WW_KIND_CHALLENGE_DEFINE && kind != WW_KIND_ERASE;
}

/* Whether an erasure covers this event: it is then stored without its body. */
static int erased_by(struct ww_store *s, const struct ww_header *h, const uint8_t *member,
                     int *covered)
{
    *covered = 0;
    sqlite3_stmt *st = ww_sql(s, "SELECT 1 FROM erasures WHERE gid=?1 AND hlc>=?2 AND "
                                 "(member=?3 OR member=?4) LIMIT 1");
    if (!st)
        return WW_ESTORE;
    bind_blob(st, 1, h->group, 16);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)h->hlc);
    bind_blob(st, 3, member, 16);
    bind_blob(st, 4, h->subject, 16);
    int step = sqlite3_step(st);
    *covered = step == SQLITE_ROW;
    sqlite3_reset(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? 0 : ww_db_err(s, step);
}

/* The plaintext body of an encrypted event into b->pt: 0, WW_ENOKEY when this device holds
 * no key that opens it, or another error. Every key held for (audience, subject, epoch) is
 * tried: two devices of one member may each have made a SELF key for the same epoch. */
static int open_body(struct ww_store *s, struct batch *b, const struct ww_envelope *env)
{
    if (env->h.audience == WW_AUD_AGG) {
        if (!s->agg_sk || !s->cache.has_agg || memcmp(s->cache.agg_pk, s->agg_pk, 32) != 0)
            return WW_ENOKEY;
        return ww_body_open(env, NULL, s->agg_sk, s->agg_pk, &b->pt);
    }
    int rc = WW_ENOKEY;
    const uint8_t *key;
    for (size_t n = 0;
         rc != 0 && (key = ww_cache_key_nth(s, env->h.audience, env->h.subject, env->h.epoch, n));
         n++)
        rc = ww_body_open(env, key, NULL, NULL, &b->pt);
    return rc;
}

/* The header-level rules: who may write this kind, to whom, with which ref. */
static int check_header(struct ww_store *s, const struct ww_header *h, const struct ww_devinfo *dev)
{
    if (h->kind == 0)
        return WW_EUNKNOWN;
    if (h->kind > WW_KIND_MAX_KNOWN)
        return 0; /* a newer kind: kept and forwarded, not interpreted */
    const struct rule *r = &rules[h->kind];
    if (!(r->roles & ROLE(dev->role)))
        return WW_EROLE;
    if (r->owner_only && memcmp(h->author, s->cache.owner, 32) != 0)
        return WW_EROLE;
    if (!(r->audiences & AUD(h->audience)))
        return WW_EINVAL;
    if (r->ref_len != h->ref_len)
        return WW_EINVAL;
    if (h->audience == WW_AUD_PAIR || h->audience == WW_AUD_SELF) {
        if (dev->role != WW_ROLE_COACH || h->audience == WW_AUD_SELF) {
            if (memcmp(h->subject, dev->member, 16) != 0)
                return WW_EROLE; /* a learner writes only in its own audiences */
        } else {
            int found = 0; /* the coach writes to a learner's pair audience */
            for (size_t i = 0; i < s->cache.n_devices && !found; i++)
                found = !memcmp(s->cache.devices[i].member, h->subject, 16) &&
                        s->cache.devices[i].role != WW_ROLE_COACH;
            if (!found)
                return WW_ENOTFOUND;
        }
    }
    return 0;
}

static int apply_one(struct ww_store *s, struct batch *b, struct item *it, int *reason)
{
    const struct ww_header *h = &it->env.h;
    uint8_t held[32];
    int rc = 0, covered = 0;

    /* Nothing is looked at, let alone kept, without a signature that vouches for it. The
     * store keys events by log << 40 | seq and keeps hlc as a signed 64-bit integer. */
    if (!it->sig_ok)
        return WW_EBADSIG;
    if (h->seq > WW_SEQ_MASK || h->hlc > (uint64_t)INT64_MAX)
        return WW_ERANGE;

    /* The chain: seq follows the author's stored head, prev is its hash, time moves on.
     * At or below the head the event is held already, or it is a fork. */
    struct ww_log_head head;
    if ((rc = author_head(s, b, h->group, h->author, &head)) != 0)
        return rc;
    if (h->seq <= head.seq) {
        if (!stored_hash(s, head.log, h->seq, held, &rc))
            return rc ? rc : WW_ECORRUPT; /* the log has a hole: never written by us */
        return sodium_memcmp(held, it->hash, 32) == 0 ? DUPLICATE : record_fork(s, it, held);
    }
    if ((rc = ww_cache_load(s, h->group)) != 0)
        return rc;
    if (h->kind != WW_KIND_GROUP_CREATE && !s->cache.exists) {
        *reason = WW_EGROUP; /* bounded: WW_MAX_PENDING_ALL */
        return defer(s, it, WW_EGROUP);
    }
    if (head.seq + 1 < h->seq) {
        *reason = WW_ECHAIN; /* a gap: an earlier event of this author is missing */
        return defer(s, it, WW_ECHAIN);
    }
    if (h->seq > 1 && (sodium_memcmp(head.hash, h->prev, 32) != 0 || h->hlc <= head.hlc))
        return WW_ECHAIN;
    /* An event from far in the future waits: adopting its clock would push every later
     * event of this device past it, up to the end of the clock's range. */
    if ((int64_t)(h->hlc >> 16) > ww_store_now_ms(s) + WW_MAX_SKEW_MS) {
        *reason = WW_ERANGE;
        return defer(s, it, WW_ERANGE);
    }

    if (h->kind == WW_KIND_GROUP_CREATE) {
        if (s->cache.exists || h->seq != 1 || h->audience != WW_AUD_PLAIN || h->epoch != 0 ||
            h->ref_len != 0)
            return s->cache.exists ? WW_EEXIST : WW_EINVAL;
        struct ww_body body;
        if ((rc = ww_body_decode(h->kind, it->env.body.p, it->env.body.len, &body)) != 0)
            return rc;
        uint8_t gid[16];
        ww_hash_domain("wegwijs/group/v1", h->author, 32, body.u.group_create.salt, 16, NULL, 0,
                       gid, 16);
        if (memcmp(gid, h->group, 16) != 0)
            return WW_EBADHASH;
        if (it->env.erased)
            return WW_EINVAL;
        if ((rc = apply_group_create(s, &it->env, &body.u.group_create)) != 0)
            return rc;
        ww_cache_invalidate(s);
        b->control = 1;
        goto store;
    }

    const struct ww_devinfo *dev = ww_cache_device(s, h->author);
    if (!dev) {
        *reason = WW_ENOTMEMBER;
        return defer(s, it, WW_ENOTMEMBER);
    }
    if (h->epoch > s->cache.epoch) {
        *reason = WW_EEPOCH;
        return defer(s, it, WW_EEPOCH);
    }
    if (h->epoch >= dev->removed_epoch || h->hlc >= dev->removed_hlc)
        return WW_ENOTMEMBER; /* written after its member was removed */
    if ((rc = check_header(s, h, dev)) != 0)
        return rc;
    struct ww_devinfo author = *dev; /* the cache may be reloaded below */

    if (s->cache.has_erasures && erasable(h->kind) &&
        (rc = erased_by(s, h, author.member, &covered)) != 0)
        return rc;

    /* Read and check the body when this device can. A PLAIN body must decode and follow the
     * rules. An encrypted body that this device cannot open, or that does not check out once
     * opened, is kept unread, exactly as on every device without its key: all replicas hold
     * the same events, whatever keys they hold. */
    int readable = 0;
    struct ww_body body;
    if (h->kind <= WW_KIND_MAX_KNOWN && !it->env.erased) {
        if (h->audience == WW_AUD_PLAIN) {
            if ((rc = ww_body_decode(h->kind, it->env.body.p, it->env.body.len, &body)) != 0)
                return rc;
            readable = 1;
        } else {
            readable = open_body(s, b, &it->env) == 0 &&
                       ww_body_decode(h->kind, b->pt.p, b->pt.len, &body) == 0 &&
                       check_record(&it->env, &author, &body) == 0;
        }
    }
    if (h->audience == WW_AUD_PLAIN && h->kind <= WW_KIND_MAX_KNOWN && !readable)
        return WW_EINVAL; /* the control plane is never erased or opaque */
    if (readable && h->audience == WW_AUD_PLAIN &&
        (rc = check_control(s, &it->env, &body, &author)) != 0)
        return rc;

    if (readable && !covered) {
        if (h->audience == WW_AUD_PLAIN && h->kind != WW_KIND_ERASE)
            rc = apply_control(s, b, &it->env, &body);
        else
            rc = apply_record(s, b, it, &author, &body);
        if (rc != 0)
            return rc;
    } else if (!covered && !it->env.erased && h->kind == WW_KIND_REFLECTION_PUT) {
        /* Unreadable, but it still replaces the member's earlier reflection of that day. */
        if ((rc = apply_reflection(s, it, author.member, NULL)) != 0)
            return rc;
    }

store:;
    const uint8_t *raw = it->raw;
    size_t len = it->len;
    if (covered && !it->env.erased) {
        struct ww_envelope e = it->env;
        e.erased = 1;
        e.body.p = NULL;
        e.body.len = 0;
        ww_buf_reset(&b->out);
        if ((rc = ww_envelope_encode(&e, &b->out)) != 0)
            return rc;
        raw = b->out.p;
        len = b->out.len;
    }
    if (!head.log && (rc = log_create(s, h->group, h->author, &head.log)) != 0)
        return rc;
    sqlite3_int64 id = head.log << WW_SEQ_BITS | (sqlite3_int64)h->seq;
    sqlite3_stmt *st = ww_sql(s, "INSERT INTO events(id, hash, hlc, kind, epoch, audience, "
                                 "subject, raw) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)");
    if (!st)
        return WW_ESTORE;
    sqlite3_bind_int64(st, 1, id);
    bind_blob(st, 2, it->hash, 32);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)h->hlc);
    sqlite3_bind_int(st, 4, h->kind);
    sqlite3_bind_int64(st, 5, h->epoch);
    sqlite3_bind_int(st, 6, h->audience);
    bind_blob(st, 7, h->subject, 16);
    bind_blob(st, 8, raw, len);
    if ((rc = ww_sql_done(s, st)) != 0)
        return rc;
    set_head(b, it, head.log);
    ww_hlc_observe(s, h->hlc);
    return APPLIED;
}

/* ---- Batches -------------------------------------------------------------------------- */

/* Decodes, hashes and verifies a batch: one signature per run of linked events. */
static void prepare(struct item *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct item *it = &items[i];
        it->next = -1;
        it->rc = ww_envelope_decode(it->raw, it->len, &it->env);
        if (it->rc != 0)
            continue;
        if (!it->env.erased) {
            uint8_t ct[32];
            ww_ct_hash(it->env.body.p, it->env.body.len, ct);
            if (sodium_memcmp(ct, it->env.ct_hash, 32) != 0) {
                it->rc = WW_EBADHASH;
                continue;
            }
        }
        ww_event_hash(&it->env.header_bytes, it->env.ct_hash, it->env.sig, it->hash);
        /* Link to the previous event of the same author in this batch. */
        for (size_t j = i; j-- > 0;) {
            struct item *p = &items[j];
            if (p->rc != 0 || p->next >= 0 || p->env.h.seq + 1 != it->env.h.seq ||
                memcmp(p->env.h.author, it->env.h.author, 32) != 0 ||
                memcmp(p->env.h.group, it->env.h.group, 16) != 0)
                continue;
            if (!memcmp(p->hash, it->env.h.prev, 32)) {
                p->next = (int)i;
                it->has_prev = 1;
            }
            break;
        }
    }
    /* Verify the last event of each run; a good signature vouches for the whole run.
     * A bad one means the run cannot be trusted as a whole: verify its events one by one. */
    for (size_t i = 0; i < n; i++) {
        struct item *it = &items[i];
        if (it->rc != 0 || it->has_prev)
            continue; /* not the start of a run */
        size_t last = i;
        while (items[last].next >= 0)
            last = (size_t)items[last].next;
        if (ww_sig_verify(&items[last].env) == 0) {
            for (int k = (int)i; k >= 0; k = items[k].next)
                items[k].sig_ok = 1;
        } else {
            for (int k = (int)i; k >= 0; k = items[k].next)
                items[k].sig_ok = ww_sig_verify(&items[k].env) == 0;
        }
    }
}

/* Failures of the store rather than of an event: the whole batch is abandoned. */
static int store_failed(int rc)
{
    return rc == WW_ESTORE || rc == WW_ENOMEM || rc == WW_EFULL || rc == WW_EIO || rc == WW_EBUSY ||
           rc == WW_ECORRUPT || rc == WW_EPERM;
}

static int apply_items(struct ww_store *s, struct batch *b, struct item *items, size_t n,
                       struct ww_apply_result *res, size_t base)
{
    prepare(items, n);
    for (size_t i = 0; i < n; i++) {
        struct item *it = &items[i];
        int reason = 0;
        int rc = it->rc != 0 ? it->rc : apply_one(s, b, it, &reason);
        switch (rc) {
        case APPLIED:
            res->accepted++;
            break;
        case DUPLICATE:
            res->duplicates++;
            break;
        case DEFERRED:
            res->deferred++;
            break;
        case FORKED:
            res->forks++;
            break;
        default:
            if (store_failed(rc))
                return rc; /* the store failed, not the event: abandon the batch */
            res->rejected++;
            if (!res->first_error) {
                res->first_error = rc;
                res->first_error_index = base + i;
            }
            break;
        }
    }
    return 0;
}

/* 1 when deferred events may have become applicable without a control event: the authors
 * of this batch filled a gap, or events from the future are now due. */
static int pending_due(struct ww_store *s, struct batch *b)
{
    sqlite3_stmt *st;
    for (size_t i = 0; i < b->n_heads; i++) {
        st = ww_sql(s, "SELECT 1 FROM pending WHERE gid=?1 AND author=?2 LIMIT 1");
        if (!st)
            return WW_ESTORE;
        bind_blob(st, 1, b->heads[i].gid, 16);
        bind_blob(st, 2, b->heads[i].author, 32);
        int found = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_reset(st);
        if (found)
            return 1;
    }
    st = ww_sql(s, "SELECT 1 FROM pending WHERE reason=?1 AND (hlc >> 16) <= ?2 LIMIT 1");
    if (!st)
        return WW_ESTORE;
    sqlite3_bind_int(st, 1, WW_ERANGE);
    sqlite3_bind_int64(st, 2, ww_store_now_ms(s) + WW_MAX_SKEW_MS);
    int found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    return found;
}

/* Retries the deferred events, in pages by row id and each page in causal order, pass after
 * pass until a whole pass applies nothing: events that can never apply cannot keep those
 * behind them waiting. Events deferred again keep their place (they were counted already). */
static int retry_pending(struct ww_store *s, struct batch *b, struct ww_apply_result *res)
{
    struct item *items = ww_calloc(WW_MAX_BATCH, sizeof *items);
    uint8_t **raws = ww_calloc(WW_MAX_BATCH, sizeof *raws);
    int64_t *rowids = ww_calloc(WW_MAX_BATCH, sizeof *rowids);
    int rc = items && raws && rowids ? 0 : WW_ENOMEM;
    size_t deferred = res->deferred;
    for (int progress = 1; rc == 0 && progress;) {
        progress = 0;
        for (int64_t after = 0; rc == 0;) {
            size_t n = 0, before = res->accepted;
            sqlite3_stmt *st = ww_sql(s, "SELECT rowid, raw FROM pending WHERE rowid > ?1 ORDER BY "
                                         "rowid LIMIT ?2");
            if (!st) {
                rc = WW_ESTORE;
                break;
            }
            sqlite3_bind_int64(st, 1, after);
            sqlite3_bind_int(st, 2, WW_MAX_BATCH);
            while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
                size_t len = (size_t)sqlite3_column_bytes(st, 1);
                raws[n] = ww_malloc(len ? len : 1);
                if (!raws[n]) {
                    rc = WW_ENOMEM;
                    break;
                }
                memcpy(raws[n], sqlite3_column_blob(st, 1), len);
                rowids[n] = after = sqlite3_column_int64(st, 0);
                memset(&items[n], 0, sizeof items[n]);
                items[n].raw = raws[n];
                items[n].len = len;
                n++;
            }
            sqlite3_reset(st);
            if (n == 0)
                break;
            for (size_t i = 0; i < n && rc == 0; i++) {
                sqlite3_stmt *del = ww_sql(s, "DELETE FROM pending WHERE rowid=?1");
                if (!del)
                    rc = WW_ESTORE;
                else {
                    sqlite3_bind_int64(del, 1, rowids[i]);
                    rc = ww_sql_done(s, del);
                }
            }
            /* Causal order within the page: by hlc, then author, then seq. */
            for (size_t i = 1; i < n && rc == 0; i++) {
                for (size_t j = i; j > 0; j--) {
                    struct ww_envelope x, y;
                    if (ww_envelope_decode(items[j - 1].raw, items[j - 1].len, &x) ||
                        ww_envelope_decode(items[j].raw, items[j].len, &y))
                        break;
                    int later = x.h.hlc > y.h.hlc ||
                                (x.h.hlc == y.h.hlc && memcmp(x.h.author, y.h.author, 32) > 0) ||
                                (x.h.hlc == y.h.hlc && !memcmp(x.h.author, y.h.author, 32) &&
                                 x.h.seq > y.h.seq);
                    if (!later)
                        break;
                    struct item t = items[j - 1];
                    items[j - 1] = items[j];
                    items[j] = t;
                }
            }
            struct ww_apply_result page = {0};
            if (rc == 0)
                rc = apply_items(s, b, items, n, &page, 0);
            res->accepted += page.accepted;
            res->duplicates += page.duplicates;
            res->rejected += page.rejected;
            res->forks += page.forks;
            for (size_t i = 0; i < n; i++)
                ww_free(raws[i]);
            if (res->accepted > before)
                progress = 1;
            if (n < WW_MAX_BATCH)
                break;
        }
    }
    res->deferred = deferred;
    ww_free(rowids);
    ww_free(raws);
    ww_free(items);
    return rc;
}

int ww_apply_batch(struct ww_store *s, const uint8_t *const *events, const size_t *lens, size_t n,
                   struct ww_apply_result *res, size_t *primary_accepted)
{
    memset(res, 0, sizeof *res);
    if (n > WW_MAX_BATCH)
        return WW_ETOOBIG;
    struct batch *b = ww_calloc(1, sizeof *b);
    struct item *items = ww_calloc(n ? n : 1, sizeof *items);
    int rc = b && items ? 0 : WW_ENOMEM;
    if (rc == 0) {
        ww_buf_init(&b->pt, WW_MAX_BODY);
        ww_buf_init(&b->out, WW_MAX_EVENT);
        for (size_t i = 0; i < n; i++) {
            items[i].raw = events[i];
            items[i].len = lens[i];
            if (lens[i] > WW_MAX_EVENT)
                items[i].rc = WW_ETOOBIG;
        }
        rc = apply_items(s, b, items, n, res, 0);
        if (primary_accepted)
            *primary_accepted = res->accepted;
        if (rc == 0 && res->accepted && (b->control || (rc = pending_due(s, b)) > 0))
            rc = retry_pending(s, b, res);
        ww_buf_free(&b->pt);
        ww_buf_free(&b->out);
    }
    ww_free(items);
    ww_free(b);
    return rc;
}

int ww_apply_unread(struct ww_store *s, const uint8_t gid[16], uint8_t audience,
                    const uint8_t subject[16], uint32_t epoch)
{
    static const uint8_t zero[16];
    int rc = ww_cache_load(s, gid);
    if (rc != 0)
        return rc;
    struct batch *b = ww_calloc(1, sizeof *b);
    if (!b)
        return WW_ENOMEM;
    ww_buf_init(&b->pt, WW_MAX_BODY);
    ww_buf_init(&b->out, WW_MAX_EVENT);
    /* Every held event of that audience, subject and epoch, in the order they were written.
     * A statement of its own: materialising below uses the cached ones. */
    sqlite3_stmt *q;
    rc = ww_db_err(s, sqlite3_prepare_v2(s->db,
                                         "SELECT e.raw, e.hash FROM logs l JOIN events e ON e.id "
                                         "BETWEEN (l.id << 40) AND (l.id << 40 | 1099511627775) "
                                         "WHERE l.gid=?1 AND e.audience=?2 AND e.subject=?3 AND "
                                         "e.epoch=?4 ORDER BY e.hlc, e.id",
                                         -1, &q, NULL));
    int step = SQLITE_DONE;
    if (rc == 0) {
        bind_blob(q, 1, gid, 16);
        sqlite3_bind_int(q, 2, audience);
        bind_blob(q, 3, audience == WW_AUD_GROUP ? zero : subject, 16);
        sqlite3_bind_int64(q, 4, epoch);
        while (rc == 0 && (step = sqlite3_step(q)) == SQLITE_ROW) {
            struct item it;
            memset(&it, 0, sizeof it);
            it.raw = sqlite3_column_blob(q, 0);
            it.len = (size_t)sqlite3_column_bytes(q, 0);
            if (sqlite3_column_bytes(q, 1) != 32 || ww_envelope_decode(it.raw, it.len, &it.env))
                continue;
            memcpy(it.hash, sqlite3_column_blob(q, 1), 32);
            const struct ww_devinfo *dev = ww_cache_device(s, it.env.h.author);
            if (!dev || it.env.erased || open_body(s, b, &it.env) != 0)
                continue;
            struct ww_devinfo author = *dev;
            struct ww_body body;
            if (ww_body_decode(it.env.h.kind, b->pt.p, b->pt.len, &body) != 0 ||
                check_record(&it.env, &author, &body) != 0)
                continue; /* stays unreadable, as on every replica */
            int covered = 0;
            if (s->cache.has_erasures && erasable(it.env.h.kind) &&
                (rc = erased_by(s, &it.env.h, author.member, &covered)) != 0)
                break;
            if (!covered)
                rc = apply_record(s, b, &it, &author, &body);
        }
        if (rc == 0 && step != SQLITE_DONE && step != SQLITE_ROW)
            rc = ww_db_err(s, step);
        sqlite3_finalize(q);
    }
    ww_buf_free(&b->pt);
    ww_buf_free(&b->out);
    ww_free(b);
    return rc;
}

int ww_read_body(struct ww_store *s, const uint8_t gid[16], const uint8_t author[32], uint64_t seq,
                 struct ww_buf *pt, struct ww_body *body)
{
    int rc = ww_cache_load(s, gid);
    if (rc != 0)
        return rc;
    struct ww_log_head lh;
    if ((rc = ww_log_head(s, gid, author, &lh)) != 0)
        return rc;
    if (!lh.log || seq > lh.seq)
        return WW_ENOTFOUND;
    sqlite3_stmt *st = ww_sql(s, "SELECT raw FROM events WHERE id=?1");
    if (!st)
        return WW_ESTORE;
    sqlite3_bind_int64(st, 1, lh.log << WW_SEQ_BITS | (sqlite3_int64)seq);
    rc = WW_ENOTFOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        struct ww_envelope env;
        struct batch b;
        b.pt = *pt;
        rc = ww_envelope_decode(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0),
                                &env);
        if (rc == 0)
            rc = env.erased ? WW_ENOKEY : open_body(s, &b, &env);
        *pt = b.pt;
        if (rc == 0)
            rc = ww_body_decode(env.h.kind, pt->p, pt->len, body);
    }
    sqlite3_reset(st);
    return rc;
}
