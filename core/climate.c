/*
 * climate.c - where a group's climate goes, and the split shares that take it there.
 *
 *   group.climate (23)  the owner names aggregators A and B and the group's team and
 *                       location; a device uses the keys only when its hub confirmed them
 *                       (the pin, from REDEEMED: PROTOCOL.md 9.9)
 *   climate.share (22)  a learner's day as two sealed shares (6.19), written with every
 *                       final reflection; PLAIN, so that the hub can store and serve it,
 *                       yet no single party can read an answer
 *   the hub's side      the setup it aggregates over, the pages of shares it serves to
 *                       aggregator B, and its own aggregator A over them
 *
 * Invariants: a device writes a share only to the keys its group names AND its hub
 * confirmed; a day's newest share (by hlc, author) replaces the older one on every replica,
 * and takes a new row id, so a hub's pages up to a row id are a fixed snapshot.
 */
#include <sodium.h>
#include <string.h>

#include "alloc.h"
#include "apply.h"
#include "kind.h"
#include "log.h"
#include "share.h"
#include "store.h"

/* ---- group.climate ---- */

static int apply_group_climate(struct ww_store *s, struct ww_event *ev)
{
    const struct ww_header *h = &ev->env->h;
    const struct ww_body_group_climate *b = &ev->body->u.group_climate;
    sqlite3_stmt *st =
        ww_sql(s, "INSERT INTO group_climates(gid, agg_a, agg_b, team, location, "
                  "hlc, author) VALUES(?1,?2,?3,?4,?5,?6,?7) ON CONFLICT(gid) DO "
                  "UPDATE SET agg_a=excluded.agg_a, agg_b=excluded.agg_b, "
                  "team=excluded.team, location=excluded.location, "
                  "hlc=excluded.hlc, author=excluded.author" WW_LWW("group_climates"));
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, h->group, 16);
    ww_bind_blob(st, 2, b->agg_a, 32);
    ww_bind_blob(st, 3, b->agg_b, 32);
    ww_bind_text(st, 4, &b->team);
    ww_bind_text(st, 5, &b->location);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)h->hlc);
    ww_bind_blob(st, 7, h->author, 32);
    return ww_sql_done(s, st);
}

const struct ww_kind_rule ww_kind_group_climate = {
    .roles = WW_ROLE_BIT(WW_ROLE_COACH),
    .audiences = WW_AUD_BIT(WW_AUD_PLAIN),
    .owner_only = 1,
    .apply = apply_group_climate,
};

int ww_group_climate_set(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                         const uint8_t agg_a[WW_KEY_LEN], const uint8_t agg_b[WW_KEY_LEN],
                         const char *team, const char *location)
{
    if (!s || !group || !agg_a || !agg_b)
        return WW_EINVAL;
    int rc = ww_text_check(team, WW_MAX_NAME, 0);
    if (rc == 0)
        rc = ww_text_check(location, WW_MAX_NAME, 0);
    if (rc != 0)
        return rc;
    struct ww_body body;
    memset(&body, 0, sizeof body);
    body.kind = WW_KIND_GROUP_CLIMATE;
    struct ww_body_group_climate *b = &body.u.group_climate;
    memcpy(b->agg_a, agg_a, 32);
    memcpy(b->agg_b, agg_b, 32);
    b->team = ww_slice_of(team);
    b->location = ww_slice_of(location);
    struct ww_emit e = {.kind = WW_KIND_GROUP_CLIMATE, .audience = WW_AUD_PLAIN, .body = &body};
    return ww_emit_tx(s, group, &e, NULL);
}

int ww_climate_pin(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                   const uint8_t agg_a[WW_KEY_LEN], const uint8_t agg_b[WW_KEY_LEN])
{
    if (!s || !group || !agg_a || !agg_b || memcmp(agg_a, agg_b, 32) == 0)
        return WW_EINVAL;
    sqlite3_stmt *st = ww_sql(s, "INSERT OR REPLACE INTO agg_pins(gid, agg_a, agg_b) "
                                 "VALUES(?1,?2,?3)");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, group, 16);
    ww_bind_blob(st, 2, agg_a, 32);
    ww_bind_blob(st, 3, agg_b, 32);
    return ww_sql_done(s, st);
}

static void copy_text(char *dst, size_t cap, sqlite3_stmt *st, int col)
{
    const char *t = (const char *)sqlite3_column_text(st, col);
    snprintf(dst, cap, "%s", t ? t : "");
}

int ww_group_climate_get(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                         struct ww_climate_info *out)
{
    if (!s || !group || !out)
        return WW_EINVAL;
    struct ww_climate_info ci;
    memset(&ci, 0, sizeof ci);
    sqlite3_stmt *st = ww_sql(s, "SELECT c.agg_a, c.agg_b, c.team, c.location, p.agg_a, p.agg_b "
                                 "FROM (SELECT ?1 AS gid) q LEFT JOIN group_climates c ON "
                                 "c.gid=q.gid LEFT JOIN agg_pins p ON p.gid=q.gid");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, group, 16);
    int step = sqlite3_step(st);
    if (step != SQLITE_ROW)
        return ww_db_err(s, step);
    if (sqlite3_column_bytes(st, 0) == 32 && sqlite3_column_bytes(st, 1) == 32) {
        memcpy(ci.agg_a, sqlite3_column_blob(st, 0), 32);
        memcpy(ci.agg_b, sqlite3_column_blob(st, 1), 32);
        copy_text(ci.team, sizeof ci.team, st, 2);
        copy_text(ci.location, sizeof ci.location, st, 3);
        ci.state = WW_AGGKEYS_UNPINNED;
    }
    if (sqlite3_column_bytes(st, 4) == 32 && sqlite3_column_bytes(st, 5) == 32) {
        memcpy(ci.pin_a, sqlite3_column_blob(st, 4), 32);
        memcpy(ci.pin_b, sqlite3_column_blob(st, 5), 32);
        ci.has_pin = 1;
    }
    sqlite3_reset(st);
    if (ci.state && ci.has_pin)
        ci.state = memcmp(ci.agg_a, ci.pin_a, 32) == 0 && memcmp(ci.agg_b, ci.pin_b, 32) == 0
                       ? WW_AGGKEYS_PINNED
                       : WW_AGGKEYS_MISMATCH;
    *out = ci;
    return 0;
}

/* ---- climate.share ---- */

/* The message must be a well-formed share message of this very group and day. */
static int check_climate_share(struct ww_store *s, const struct ww_event *ev)
{
    (void)s;
    const struct ww_body_climate_share *b = &ev->body->u.climate_share;
    struct ww_share_msg m;
    if (ww_share_decode(b->msg.p, b->msg.len, &m) != 0 || b->date != ww_ref_date(&ev->env->h) ||
        m.date != b->date || memcmp(m.group, ev->env->h.group, 16) != 0)
        return WW_EINVAL;
    return 0;
}

#define A_SHARE_LEN (8 * WW_AGG_DIM)

/* On a hub whose aggregator key opens share A: its counters, 82 u64be, in out; 1. Else 0.
 * Only such shares are served to aggregator B, so that a share A cannot open never splits
 * A's and B's view. */
static int open_for_hub(struct ww_store *s, const struct ww_share_msg *m, uint8_t out[A_SHARE_LEN])
{
    uint64_t v[WW_AGG_DIM];
    if (ww_aggregator_load(s, 0) != 0 || !s->agg_sk ||
        ww_share_open(m, 0, s->agg_pk, s->agg_sk, v) != 0)
        return 0;
    for (int i = 0; i < WW_AGG_DIM; i++)
        for (int k = 0; k < 8; k++)
            out[8 * i + k] = (uint8_t)(v[i] >> (56 - 8 * k));
    return 1;
}

/* 1 when a hub already serves a share of this member in this window under another
 * pseudonym: a member is one student in a cell, however many pseudonyms its devices (or a
 * hostile device) make up, so the first served pseudonym of the window is the member's. */
static int other_nym_served(struct ww_store *s, const struct ww_header *h, const uint8_t member[16],
                            const struct ww_share_msg *m)
{
    sqlite3_stmt *st = ww_sql(s, "SELECT 1 FROM climate_shares WHERE gid=?1 AND member=?2 AND "
                                 "win=?3 AND nym<>?4 AND a_share IS NOT NULL LIMIT 1");
    if (!st)
        return -1;
    ww_bind_blob(st, 1, h->group, 16);
    ww_bind_blob(st, 2, member, 16);
    sqlite3_bind_int64(st, 3, ww_agg_window(m->date));
    ww_bind_blob(st, 4, m->nym, WW_AGG_NYM_LEN);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    return step == SQLITE_ROW ? 1 : step == SQLITE_DONE ? 0 : -1;
}

/* The newest share of (member, date) wins; a newer one takes a new row id. */
static int apply_climate_share(struct ww_store *s, struct ww_event *ev)
{
    const struct ww_header *h = &ev->env->h;
    const struct ww_body_climate_share *b = &ev->body->u.climate_share;
    struct ww_share_msg m;
    if (ww_share_decode(b->msg.p, b->msg.len, &m) != 0)
        return WW_EINVAL; /* check_climate_share let it through: cannot happen */
    /* Stamped after its window became final: kept in the log, counted nowhere (else a
     * window's release could change after it closed, by one student's day). */
    uint64_t final_ms =
        (uint64_t)(4 + WW_AGG_WINDOW_DAYS * (ww_agg_window(m.date) + 1) + WW_CLIMATE_GRACE_DAYS) *
        86400000u;
    if ((h->hlc >> 16) >= final_ms) /* the stamp in ms */
        return 0;
    sqlite3_stmt *st = ww_sql(s, "DELETE FROM climate_shares WHERE gid=?1 AND member=?2 AND "
                                 "date=?3 AND (hlc<?4 OR (hlc=?4 AND author<?5))");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, h->group, 16);
    ww_bind_blob(st, 2, ev->author->member, 16);
    sqlite3_bind_int64(st, 3, b->date);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)h->hlc);
    ww_bind_blob(st, 5, h->author, 32);
    int rc = ww_sql_done(s, st);
    if (rc != 0)
        return rc;
    uint8_t a[A_SHARE_LEN];
    int served = open_for_hub(s, &m, a);
    int other = served ? other_nym_served(s, h, ev->author->member, &m) : 0;
    if (other < 0)
        return ww_sql_failed(s);
    st = ww_sql(s, "INSERT OR IGNORE INTO climate_shares(gid, member, date, hlc, author, msg, "
                   "a_share, win, nym) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, h->group, 16);
    ww_bind_blob(st, 2, ev->author->member, 16);
    sqlite3_bind_int64(st, 3, b->date);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)h->hlc);
    ww_bind_blob(st, 5, h->author, 32);
    ww_bind_blob(st, 6, b->msg.p, b->msg.len);
    if (served && !other)
        ww_bind_blob(st, 7, a, sizeof a);
    sqlite3_bind_int64(st, 8, ww_agg_window(m.date));
    ww_bind_blob(st, 9, m.nym, WW_AGG_NYM_LEN);
    return ww_sql_done(s, st);
}

const struct ww_kind_rule ww_kind_climate_share = {
    .roles = WW_LEARNER,
    .audiences = WW_AUD_BIT(WW_AUD_PLAIN),
    .ref_len = WW_REF_DATE,
    .erasable = 1,
    .check = check_climate_share,
    .apply = apply_climate_share,
    .erase_sql = "DELETE FROM climate_shares WHERE gid=?1 AND member=?2 AND hlc<=?3",
};

/* 32 random bytes, made once on this device and never sent. */
static int nym_secret(struct ww_store *s, uint8_t key[32])
{
    sqlite3_stmt *st = ww_sql(s, "SELECT v FROM meta WHERE k='nym_key'");
    if (!st)
        return ww_sql_failed(s);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32) {
        memcpy(key, sqlite3_column_blob(st, 0), 32);
        sqlite3_reset(st);
        return 0;
    }
    sqlite3_reset(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return ww_db_err(s, step);
    ww_store_random(s, key, 32);
    if (!(st = ww_sql(s, "INSERT OR REPLACE INTO meta(k, v) VALUES('nym_key', ?1)")))
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, key, 32);
    return ww_sql_done(s, st);
}

/* This device's pseudonym key in a group (the nym_key of PROTOCOL.md 6.19): the group id
 * hashed under the secret, so that a device in two groups is two pseudonyms. */
static int nym_key(struct ww_store *s, const uint8_t gid[16], uint8_t key[32])
{
    uint8_t secret[32];
    int rc = nym_secret(s, secret);
    if (rc == 0)
        crypto_generichash(key, 32, gid, 16, secret, sizeof secret);
    sodium_memzero(secret, sizeof secret);
    return rc;
}

/* Which blocks this member answered on an earlier day of the date's window (bit item-1 for
 * the items, WW_AGG_STATUS_BLOCK for a status): those are not "first" any more. */
static int answered_before(struct ww_store *s, const uint8_t gid[16], const uint8_t member[16],
                           uint32_t date, uint16_t *out)
{
    uint32_t w = ww_agg_window(date);
    uint32_t from = w * WW_AGG_WINDOW_DAYS + 4;
    if (date < 4)
        from = 0;
    uint16_t seen = 0;
    sqlite3_stmt *st = ww_sql(s, "SELECT answers FROM climate WHERE gid=?1 AND member=?2 AND "
                                 "date>=?3 AND date<?4");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, gid, 16);
    ww_bind_blob(st, 2, member, 16);
    sqlite3_bind_int64(st, 3, from);
    sqlite3_bind_int64(st, 4, date);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const uint8_t *a = sqlite3_column_blob(st, 0);
        int n = sqlite3_column_bytes(st, 0);
        for (int i = 0; a && i + 1 < n; i += 2)
            if (a[i] >= 1 && a[i] <= WW_AGG_ITEMS && a[i + 1] >= 1)
                seen |= (uint16_t)(1u << (a[i] - 1));
    }
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        return ww_db_err(s, step);
    if (!(st = ww_sql(s, "SELECT 1 FROM reflections WHERE gid=?1 AND member=?2 AND date>=?3 AND "
                         "date<?4 AND status>0 AND draft=0 LIMIT 1")))
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, gid, 16);
    ww_bind_blob(st, 2, member, 16);
    sqlite3_bind_int64(st, 3, from);
    sqlite3_bind_int64(st, 4, date);
    step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step == SQLITE_ROW)
        seen |= 1u << WW_AGG_STATUS_BLOCK;
    else if (step != SQLITE_DONE)
        return ww_db_err(s, step);
    *out = seen;
    return 0;
}

int ww_climate_share_put(struct ww_store *s, const uint8_t gid[16], const uint8_t member[16],
                         const struct ww_reflection *r, uint16_t asked)
{
    struct ww_climate_info ci;
    int rc = ww_group_climate_get(s, gid, &ci);
    if (rc != 0)
        return rc;
    if (ci.state == WW_AGGKEYS_MISMATCH)
        return r->n_answers ? WW_EAGGKEY : 0; /* the status alone is not worth a refusal */
    if (ci.state != WW_AGGKEYS_PINNED)
        return 0; /* no destination, or none this device can trust: nothing leaves it */
    struct ww_agg_day d = {.date = r->date,
                           .asked = asked,
                           .status = (uint8_t)r->status,
                           .obstacles = (uint8_t)r->obstacles};
    for (size_t i = 0; i < r->n_answers; i++) {
        uint8_t item = r->answer_item[i];
        if (item >= 1 && item <= WW_AGG_ITEMS && (asked >> (item - 1) & 1))
            d.value[item - 1] = r->answer_value[i]; /* an item not asked that day stays out */
    }
    uint16_t before = 0;
    if ((rc = answered_before(s, gid, member, r->date, &before)) != 0)
        return rc;
    for (int item = 1; item <= WW_AGG_ITEMS; item++)
        if (d.value[item - 1] && !(before >> (item - 1) & 1))
            d.first |= (uint16_t)(1u << (item - 1));
    if (d.status && !(before >> WW_AGG_STATUS_BLOCK & 1))
        d.first |= 1u << WW_AGG_STATUS_BLOCK;

    uint8_t key[32];
    struct ww_share_msg m;
    if ((rc = nym_key(s, gid, key)) == 0)
        rc = ww_share_make(&d, gid, key, ci.agg_a, ci.agg_b, NULL, NULL, &m);
    sodium_memzero(key, sizeof key);
    sodium_memzero(&d, sizeof d);
    return rc ? rc : ww_climate_share_emit(s, gid, r->date, &m);
}

int ww_climate_share_emit(struct ww_store *s, const uint8_t gid[16], uint32_t date,
                          const struct ww_share_msg *m)
{
    struct ww_buf msg;
    ww_buf_init(&msg, WW_SHARE_MSG_MAX);
    int rc = ww_share_encode(m, &msg);
    if (rc == 0) {
        struct ww_body body;
        memset(&body, 0, sizeof body);
        body.kind = WW_KIND_CLIMATE_SHARE;
        body.u.climate_share.date = date;
        body.u.climate_share.msg = (struct ww_slice){msg.p, msg.len};
        uint8_t ref[4];
        ww_date_ref(date, ref);
        struct ww_emit e = {.kind = WW_KIND_CLIMATE_SHARE,
                            .audience = WW_AUD_PLAIN,
                            .ref = ref,
                            .ref_len = 4,
                            .body = &body};
        rc = ww_emit_tx(s, gid, &e, NULL);
    }
    ww_buf_free(&msg);
    return rc;
}

/* ---- The hub: aggregator A ---- */

/* Names in sorted order, numbered from 1 by their position. */
struct names {
    char (*v)[2][WW_MAX_NAME + 1]; /* [0] location, [1] team ("" for a location) */
    size_t n;
};

static int add_unit(struct ww_agg_setup *su, uint8_t level, uint32_t unit, const char *name)
{
    struct ww_agg_unit *u = &su->units[su->n_units++];
    u->level = level;
    u->unit = unit;
    snprintf(u->name, sizeof u->name, "%s", name);
    return 0;
}

/* Units: locations numbered 1.. in name order, teams 1.. in (location, team) order. */
static int load_units(struct ww_store *s, struct names *loc, struct names *team)
{
    static const char *const sql[2] = {
        "SELECT DISTINCT location, '' FROM group_climates g JOIN group_hubs h ON h.gid=g.gid "
        "AND h.hub=?1 WHERE team<>'' AND location<>'' ORDER BY 1",
        "SELECT DISTINCT location, team FROM group_climates g JOIN group_hubs h ON h.gid=g.gid "
        "AND h.hub=?1 WHERE team<>'' AND location<>'' ORDER BY 1, 2"};
    uint8_t me[WW_KEY_LEN];
    ww_store_device(s, me);
    struct names *out[2] = {loc, team};
    for (int i = 0; i < 2; i++) {
        sqlite3_stmt *st = ww_sql(s, sql[i]);
        if (!st)
            return ww_sql_failed(s);
        ww_bind_blob(st, 1, me, WW_KEY_LEN);
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
            if (out[i]->n == WW_AGG_MAX_GROUPS)
                break;
            void *p = ww_realloc(out[i]->v, (out[i]->n + 1) * sizeof *out[i]->v);
            if (!p) {
                sqlite3_reset(st);
                return WW_ENOMEM;
            }
            out[i]->v = p;
            copy_text(out[i]->v[out[i]->n][0], WW_MAX_NAME + 1, st, 0);
            copy_text(out[i]->v[out[i]->n][1], WW_MAX_NAME + 1, st, 1);
            out[i]->n++;
        }
        sqlite3_reset(st);
        if (step != SQLITE_DONE && step != SQLITE_ROW)
            return ww_db_err(s, step);
    }
    return 0;
}

static uint32_t find_unit(const struct names *n, const char *location, const char *team)
{
    for (size_t i = 0; i < n->n; i++)
        if (strcmp(n->v[i][0], location) == 0 && strcmp(n->v[i][1], team) == 0)
            return (uint32_t)i + 1;
    return 0;
}

int ww_climate_setup(struct ww_store *s, struct ww_agg_setup *out)
{
    if (!s || !out)
        return WW_EINVAL;
    struct names loc = {0}, team = {0};
    struct ww_agg_setup su = {0};
    int rc = load_units(s, &loc, &team);
    if (rc == 0 && (!(su.units = ww_calloc(loc.n + team.n + 1, sizeof *su.units)) ||
                    !(su.groups = ww_calloc(team.n ? WW_AGG_MAX_GROUPS : 1, sizeof *su.groups))))
        rc = WW_ENOMEM;
    for (size_t i = 0; rc == 0 && i < team.n; i++)
        rc = add_unit(&su, WW_AGG_TEAM, (uint32_t)i + 1, team.v[i][1]);
    for (size_t i = 0; rc == 0 && i < loc.n; i++)
        rc = add_unit(&su, WW_AGG_LOCATION, (uint32_t)i + 1, loc.v[i][0]);
    /* Groups served here that name a team and location; enrolled: their learners now. */
    sqlite3_stmt *st = rc ? NULL
                          : ww_sql(s, "SELECT g.gid, g.location, g.team, (SELECT count(*) FROM "
                                      "members m WHERE m.gid=g.gid AND m.role IN (2,3) AND "
                                      "m.removed_epoch IS NULL) FROM group_climates g JOIN "
                                      "group_hubs h ON h.gid=g.gid AND h.hub=?1 WHERE "
                                      "team<>'' AND location<>'' ORDER BY g.gid");
    if (rc == 0 && !st)
        rc = ww_sql_failed(s);
    uint8_t me[WW_KEY_LEN];
    ww_store_device(s, me);
    if (st)
        ww_bind_blob(st, 1, me, WW_KEY_LEN);
    int step = SQLITE_DONE;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW && su.n_groups < WW_AGG_MAX_GROUPS) {
        struct ww_agg_group *g = &su.groups[su.n_groups];
        char l[WW_MAX_NAME + 1], t[WW_MAX_NAME + 1];
        if (sqlite3_column_bytes(st, 0) != 16)
            continue;
        memcpy(g->group, sqlite3_column_blob(st, 0), 16);
        copy_text(l, sizeof l, st, 1);
        copy_text(t, sizeof t, st, 2);
        g->location = find_unit(&loc, l, "");
        g->team = find_unit(&team, l, t);
        int64_t e = sqlite3_column_int64(st, 3);
        g->enrolled = (uint32_t)(e > 64 ? 64 : e);
        su.n_groups++;
    }
    if (st)
        sqlite3_reset(st);
    if (rc == 0 && step != SQLITE_DONE && step != SQLITE_ROW)
        rc = ww_db_err(s, step);
    ww_free(loc.v);
    ww_free(team.v);
    if (rc != 0) {
        ww_agg_setup_free(&su);
        return rc;
    }
    *out = su;
    return 0;
}

int ww_climate_last(struct ww_store *s, uint64_t *out)
{
    int64_t last = 0;
    int rc = ww_sql_int(s, ww_sql(s, "SELECT coalesce(max(id), 0) FROM climate_shares"), &last);
    if (rc == 0)
        *out = (uint64_t)last;
    return rc;
}

/* The page, with each share's opened share A (A_SHARE_LEN bytes) for the hub itself. */
void ww_climate_live(struct ww_store *s, int live)
{
    if (s)
        s->climate_live = live != 0;
}

/* The first window not final yet at the store's now: a window w is final once its last
 * day is WW_CLIMATE_GRACE_DAYS days past. */
static uint32_t first_open_window(struct ww_store *s)
{
    if (s->climate_live)
        return UINT32_MAX;
    int64_t day = ww_store_now_ms(s) / 86400000 - WW_CLIMATE_GRACE_DAYS;
    return day < 4 ? 0 : ww_agg_window((uint32_t)(day > WW_MAX_DATE ? WW_MAX_DATE : day));
}

static int page_with_a(struct ww_store *s, uint64_t after, uint64_t upto, size_t max,
                       int (*cb)(void *ud, uint64_t id, const uint8_t *msg, size_t len,
                                 const uint8_t *a),
                       void *ud, uint64_t *next)
{
    sqlite3_stmt *st = ww_sql(s, "SELECT id, msg, a_share FROM climate_shares WHERE id>?1 AND "
                                 "id<=?2 AND length(a_share)=656 AND win<?4 ORDER BY id LIMIT ?3");
    if (!st)
        return ww_sql_failed(s);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)after);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)upto);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
    sqlite3_bind_int64(st, 4, first_open_window(s));
    int rc = 0, step;
    size_t n = 0;
    uint64_t last = after;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        last = (uint64_t)sqlite3_column_int64(st, 0);
        rc = cb(ud, last, sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1),
                sqlite3_column_blob(st, 2));
        n++;
    }
    sqlite3_reset(st);
    if (rc == 0 && step != SQLITE_DONE && step != SQLITE_ROW)
        rc = ww_db_err(s, step);
    /* More may follow only when the page is full and did not reach upto. */
    if (rc == 0)
        *next = n == max && last < upto ? last : 0;
    return rc;
}

struct msg_page {
    int (*cb)(void *ud, uint64_t id, const uint8_t *msg, size_t len);
    void *ud;
};

static int msg_only(void *ud, uint64_t id, const uint8_t *msg, size_t len, const uint8_t *a)
{
    struct msg_page *p = ud;
    (void)a;
    return p->cb(p->ud, id, msg, len);
}

int ww_climate_page(struct ww_store *s, uint64_t after, uint64_t upto, size_t max,
                    int (*cb)(void *ud, uint64_t id, const uint8_t *msg, size_t len), void *ud,
                    uint64_t *next)
{
    struct msg_page p = {cb, ud};
    return page_with_a(s, after, upto, max, msg_only, &p, next);
}

struct build {
    struct ww_agg *agg;
    const uint64_t *skip; /* ascending */
    size_t n_skip;
};

/* One share into aggregator A, opened when it arrived. */
static int add_one(void *ud, uint64_t id, const uint8_t *msg, size_t len, const uint8_t *a)
{
    struct build *b = ud;
    struct ww_share_msg m;
    size_t lo = 0, hi = b->n_skip;
    while (lo < hi) { /* B could not open it: left out by both, and its cells void */
        size_t mid = lo + (hi - lo) / 2;
        if (b->skip[mid] == id) {
            int rc = ww_share_decode(msg, len, &m);
            if (rc == 0)
                rc = ww_agg_add_void(b->agg, &m);
            return rc == WW_EGROUP ? 0 : rc;
        }
        if (b->skip[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    uint64_t v[WW_AGG_DIM];
    for (int i = 0; i < WW_AGG_DIM; i++) {
        v[i] = 0;
        for (int k = 0; k < 8; k++)
            v[i] = v[i] << 8 | a[8 * i + k];
    }
    int rc = ww_share_decode(msg, len, &m);
    if (rc == 0)
        rc = ww_agg_add_opened(b->agg, &m, v);
    return rc == WW_EGROUP ? 0 : rc; /* a group no longer in a unit: not counted by either */
}

int ww_climate_agg_new(struct ww_store *s, const struct ww_agg_setup *su, uint32_t k, int which,
                       struct ww_agg **out)
{
    if (!s || !su || !out)
        return WW_EINVAL;
    int rc = ww_aggregator_load(s, 0);
    if (rc == 0 && !s->agg_sk)
        rc = WW_ENOKEY;
    struct ww_agg_config cfg = {k, WW_AGG_BY_TEAM, su->groups, su->n_groups};
    return rc ? rc : ww_agg_new(&cfg, which, s->agg_pk, s->agg_sk, out);
}

int ww_climate_aggregate(struct ww_store *s, const struct ww_agg_setup *su, uint32_t k,
                         uint64_t upto, const uint64_t *skip, size_t n_skip, struct ww_agg **out)
{
    struct build b = {NULL, skip, n_skip};
    int rc = ww_climate_agg_new(s, su, k, 0, &b.agg);
    for (uint64_t after = 0; rc == 0;) {
        uint64_t next;
        rc = page_with_a(s, after, upto, 512, add_one, &b, &next);
        if (rc != 0 || !next)
            break;
        after = next;
    }
    if (rc != 0) {
        ww_agg_free(b.agg);
        return rc;
    }
    *out = b.agg;
    return 0;
}

/* ---- The hub: the coach loop of aggregator A's release ---- */

/* The first 16 bytes of each signal a signal.resolve in the group refers to (its header's
 * ref), sorted. */
struct refs {
    uint8_t (*v)[16];
    size_t n;
};

static int ref_cmp(const void *a, const void *b)
{
    return memcmp(a, b, 16);
}

static int load_resolved(struct ww_store *s, const uint8_t gid[16], struct refs *out)
{
    sqlite3_stmt *st = ww_sql(s, "SELECT e.raw FROM logs l JOIN events e ON " WW_LOG_RANGE(
                                     "e", "l") " WHERE l.gid=?1 AND e.kind=?2");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, gid, 16);
    sqlite3_bind_int(st, 2, WW_KIND_SIGNAL_RESOLVE);
    int rc = 0, step;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        struct ww_envelope env;
        if (ww_envelope_decode(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0),
                               &env) != 0 ||
            env.h.ref_len != 16)
            continue;
        void *p = ww_realloc(out->v, (out->n + 1) * sizeof *out->v);
        if (!p)
            rc = WW_ENOMEM;
        else
            memcpy((out->v = p)[out->n++], env.h.ref, 16);
    }
    sqlite3_reset(st);
    if (rc == 0 && step != SQLITE_DONE)
        rc = ww_db_err(s, step);
    if (rc == 0 && out->n)
        qsort(out->v, out->n, sizeof *out->v, ref_cmp);
    return rc;
}

/* The events of one kind in a group, dated in window w, whose author's member (signals) or
 * subject (sign-offs) has a share served in w up to upto; for signals, also how many of
 * them a signal.resolve refers to. */
static int count_kind(struct ww_store *s, const uint8_t gid[16], uint32_t w, uint64_t upto,
                      int kind, const struct refs *resolved, uint32_t *n, uint32_t *answered)
{
    static const char *const sql[2] = {
        "SELECT e.hash, e.hlc FROM logs l JOIN events e ON " WW_LOG_RANGE(
            "e", "l") " JOIN devices d ON d.gid=l.gid AND d.device=l.author WHERE l.gid=?1 AND "
                      "e.kind=?5 AND e.hlc>=?3 AND e.hlc<?4 AND d.member IN (SELECT member FROM "
                      "climate_shares WHERE gid=?1 AND win=?2 AND id<=?6 AND a_share IS NOT NULL)",
        "SELECT e.hash, e.hlc FROM logs l JOIN events e ON " WW_LOG_RANGE(
            "e", "l") " WHERE l.gid=?1 AND e.kind=?5 AND e.hlc>=?3 AND e.hlc<?4 AND e.subject IN "
                      "(SELECT member FROM climate_shares WHERE gid=?1 AND win=?2 AND id<=?6 AND "
                      "a_share IS NOT NULL)"};
    /* A local date is within a day of the UTC date: a coarse range first, then the date. */
    uint64_t first = 4 + (uint64_t)WW_AGG_WINDOW_DAYS * w;
    uint64_t lo = first > 4 ? first - 1 : 0, hi = first + WW_AGG_WINDOW_DAYS + 1;
    sqlite3_stmt *st = ww_sql(s, sql[kind == WW_KIND_SIGNOFF_PUT]);
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, gid, 16);
    sqlite3_bind_int64(st, 2, w);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)(lo * 86400000u << 16));
    sqlite3_bind_int64(st, 4, (sqlite3_int64)(hi * 86400000u << 16));
    sqlite3_bind_int(st, 5, kind);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)upto);
    int rc = 0, step;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        uint32_t date;
        uint64_t hlc = (uint64_t)sqlite3_column_int64(st, 1);
        const void *hash = sqlite3_column_blob(st, 0);
        if (ww_day_of(s, gid, hlc, &date) != 0)
            date = (uint32_t)((hlc >> 16) / 86400000u); /* a zone the hub cannot load: UTC */
        if (sqlite3_column_bytes(st, 0) != 32 || ww_agg_window(date) != w)
            continue;
        (*n)++;
        if (resolved && resolved->n && bsearch(hash, resolved->v, resolved->n, 16, ref_cmp))
            (*answered)++;
    }
    sqlite3_reset(st);
    if (rc == 0 && step != SQLITE_DONE)
        rc = ww_db_err(s, step);
    return rc;
}

static int team_passes(const struct ww_agg_summary *rel, uint32_t team, uint32_t window)
{
    for (size_t i = 0; i < rel->n; i++)
        if (rel->cells[i].level == WW_AGG_TEAM && rel->cells[i].unit == team &&
            rel->cells[i].window == window)
            return rel->cells[i].pass;
    return 0;
}

int ww_climate_loop(struct ww_store *s, const struct ww_agg_setup *su, uint64_t upto,
                    struct ww_agg_summary *rel)
{
    if (!s || !su || !rel)
        return WW_EINVAL;
    int rc = 0;
    for (size_t g = 0; rc == 0 && g < su->n_groups; g++) {
        const struct ww_agg_group *grp = &su->groups[g];
        struct refs resolved = {0};
        int loaded = 0;
        for (size_t i = 0; rc == 0 && i < rel->n; i++) {
            const struct ww_agg_cellshare *c = &rel->cells[i];
            /* Each (group, window) once: at its team cell, or at its location cell when the
             * team cell does not pass; ww_agg_loop_add adds it to both where they pass. */
            if (!c->pass || c->unit != (c->level == WW_AGG_TEAM ? grp->team : grp->location) ||
                (c->level == WW_AGG_LOCATION && team_passes(rel, grp->team, c->window)))
                continue;
            if (!loaded++)
                rc = load_resolved(s, grp->group, &resolved);
            uint32_t sig = 0, answered = 0, so = 0, unused = 0;
            if (rc == 0)
                rc = count_kind(s, grp->group, c->window, upto, WW_KIND_SIGNAL_RAISE, &resolved,
                                &sig, &answered);
            if (rc == 0)
                rc = count_kind(s, grp->group, c->window, upto, WW_KIND_SIGNOFF_PUT, NULL, &so,
                                &unused);
            if (rc == 0)
                rc = ww_agg_loop_add(rel, grp, c->window, sig, answered, so);
        }
        ww_free(resolved.v);
    }
    return rc;
}
