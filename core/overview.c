/*
 * overview.c - the coach's view of a group: per learner and worked day, what the learner
 * shared with the coach, and what waits for the coach (sign-offs of school assignments).
 *
 * Everything here is read from this device's own materialised rows, so the view holds
 * exactly what this device may read: a reflection its author kept private is a row without
 * a readable body ("privé", nothing more), and climate answers are never read at all (they
 * are not the coach's: see docs/ARCHITECTURE.md, "Climate").
 *
 * ww_history is the same row for one learner: the learner's own devices see everything it
 * wrote (its private reflections too), the coach's what the learner shared with the coach.
 *
 * A worked day is a date of the internship up to today that the learner did not mark
 * "geen dienst", and that is a weekday or has a reflection: weekend and evening shifts are
 * normal, so an empty weekend day is not a missed day, and a reflected one counts.
 */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "day.h"
#include "group.h"
#include "log.h"
#include "store.h"

_Static_assert(WW_CODE_MAX == WW_MAX_CODE, "one limit for challenge codes");

/* The day's cell of each learner, in date order. */
struct row {
    uint8_t member[16];
    char alias[WW_MAX_NAME + 1];
    int role;
    uint32_t joined; /* the local date of the member.add that added it; 0 unknown */
    struct ww_overview_cell *cells;
};

/* The active learners of the group, or only `member` when it is not NULL. */
static int load_rows(struct ww_store *s, const uint8_t *gid, const uint8_t *member,
                     struct row **out, size_t *n_out)
{
    sqlite3_stmt *st = ww_sql(s, "SELECT member, alias, role FROM members WHERE gid=?1 AND role "
                                 "IN (2,3) AND removed_epoch IS NULL AND (?2 IS NULL OR "
                                 "member=?2) ORDER BY role, alias, member");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, gid, 16);
    if (member)
        ww_bind_blob(st, 2, member, 16);
    struct row *rows = NULL;
    size_t n = 0;
    int step, rc = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct row *nr = ww_realloc(rows, (n + 1) * sizeof *rows);
        if (!nr) {
            rc = WW_ENOMEM;
            break;
        }
        rows = nr;
        struct row *r = &rows[n++];
        memset(r, 0, sizeof *r);
        if (sqlite3_column_bytes(st, 0) == 16)
            memcpy(r->member, sqlite3_column_blob(st, 0), 16);
        const unsigned char *alias = sqlite3_column_text(st, 1);
        if (alias)
            snprintf(r->alias, sizeof r->alias, "%s", (const char *)alias);
        r->role = sqlite3_column_int(st, 2);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = ww_db_err(s, step);
    sqlite3_reset(st);
    *out = rows;
    *n_out = n;
    return rc;
}

static struct row *row_of(struct row *rows, size_t n, const void *member)
{
    for (size_t i = 0; i < n; i++)
        if (member && !memcmp(rows[i].member, member, 16))
            return &rows[i];
    return NULL;
}

/* The date each learner joined: the local date of its member.add, read from the log (the
 * owner's events are PLAIN), so a learner added on Thursday has no missed Monday. */
static int fill_joined(struct ww_store *s, const uint8_t *gid, struct row *rows, size_t n)
{
    char tzname[WW_MAX_TZ + 1] = "";
    sqlite3_stmt *st = ww_sql(s, "SELECT tz FROM groups WHERE gid=?1");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, gid, 16);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(tzname, sizeof tzname, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    struct ww_tz tz;
    if (ww_tz_load(tzname, &tz) != 0 && ww_tz_load(NULL, &tz) != 0)
        return 0; /* no zone: every learner counts from the group's start */
    st = ww_sql(s, "SELECT e.raw, e.hlc FROM logs l JOIN events e ON " WW_LOG_RANGE(
                       "e", "l") " WHERE l.gid=?1 AND e.kind=2");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, gid, 16);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct ww_envelope env;
        struct ww_body body;
        if (ww_envelope_decode(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0),
                               &env) != 0 ||
            env.erased || ww_body_decode(WW_KIND_MEMBER_ADD, env.body.p, env.body.len, &body))
            continue;
        struct row *r = row_of(rows, n, body.u.member_add.member);
        if (r)
            r->joined = ww_tz_date(&tz, (int64_t)((uint64_t)sqlite3_column_int64(st, 1) >> 16));
    }
    sqlite3_reset(st);
    return step == SQLITE_DONE ? 0 : ww_db_err(s, step);
}

/* Days off, reflections (with their readable reactions) and sign-offs of the range. */
static int fill_cells(struct ww_store *s, const uint8_t *gid, uint32_t from, uint32_t to,
                      struct row *rows, size_t n)
{
    static const char *const sql[] = {
        "SELECT member, date, off FROM days_off WHERE gid=?1 AND date BETWEEN ?2 AND ?3",
        "SELECT r.member, r.date, r.readable, r.code, r.status, r.obstacles, r.draft, "
        "(SELECT count(*) FROM reactions x WHERE x.gid=r.gid AND x.target=r.hash AND "
        "x.readable=1 AND NOT EXISTS(SELECT 1 FROM reaction_dels d WHERE d.gid=x.gid AND "
        "d.target=x.hash AND d.member=x.member)) FROM reflections r WHERE r.gid=?1 AND "
        "r.date BETWEEN ?2 AND ?3",
        "SELECT member, date, max(level) FROM signoffs WHERE gid=?1 AND readable=1 AND date "
        "BETWEEN ?2 AND ?3 GROUP BY member, date",
    };
    for (size_t q = 0; q < sizeof sql / sizeof sql[0]; q++) {
        sqlite3_stmt *st = ww_sql(s, sql[q]);
        if (!st)
            return ww_sql_failed(s);
        ww_bind_blob(st, 1, gid, 16);
        sqlite3_bind_int64(st, 2, from);
        sqlite3_bind_int64(st, 3, to);
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
            struct row *r = row_of(rows, n, sqlite3_column_blob(st, 0));
            int64_t date = sqlite3_column_int64(st, 1);
            if (!r || sqlite3_column_bytes(st, 0) != 16 || date < from || date > to)
                continue;
            struct ww_overview_cell *c = &r->cells[date - from];
            if (q == 0) {
                c->day_off = sqlite3_column_int(st, 2) != 0;
            } else if (q == 1) {
                c->reflected = 1;
                c->readable = sqlite3_column_int(st, 2) != 0;
                const unsigned char *code = sqlite3_column_text(st, 3);
                if (code)
                    snprintf(c->code, sizeof c->code, "%s", (const char *)code);
                c->status = sqlite3_column_int(st, 4);
                c->obstacles = (unsigned)sqlite3_column_int(st, 5);
                c->draft = sqlite3_column_int(st, 6) != 0;
                c->reactions = sqlite3_column_int(st, 7);
            } else {
                c->signoff = sqlite3_column_int(st, 2);
            }
        }
        sqlite3_reset(st);
        if (step != SQLITE_DONE)
            return ww_db_err(s, step);
    }
    return 0;
}

/* Worked days, streaks and the alert of one learner, from its cells. */
static void summarise(struct ww_overview_row *o, struct ww_overview_cell *cells, uint32_t from,
                      uint32_t start, uint32_t joined, uint32_t today)
{
    int run_missed = 0;
    for (size_t i = 0; i < o->n_cells; i++) {
        struct ww_overview_cell *c = &cells[i];
        uint32_t date = from + (uint32_t)i;
        int counted = c->reflected && !c->draft;
        /* Before the learner joined only a reflection makes a worked day (one written
         * afterwards for an earlier date); an empty day then was nobody's to miss. */
        c->worked = date >= start && date <= today && !c->day_off &&
                    (counted || (date >= joined && ww_date_weekday(date) <= 5));
        /* Today is not missed yet: the reflection comes at the end of the day. */
        if (!c->worked || (date == today && !counted))
            continue;
        o->worked++;
        if (counted) {
            o->reflected++;
            o->streak++;
            run_missed = 0;
        } else {
            o->streak = 0;
            if (++run_missed >= 3)
                o->alert = 1;
        }
    }
    o->missed_in_a_row = run_missed;
}

/* The rows of the learners (all, or only `member`) from `from` to `to`, for a caller whose
 * right to see them was checked; WW_ENOTFOUND when `member` is no active learner. */
static int learner_rows(struct ww_store *s, const uint8_t *group, const uint8_t *member,
                        uint32_t from, uint32_t to,
                        void (*cb)(void *ud, const struct ww_overview_row *r), void *ud)
{
    uint32_t start = 0, today = 0;
    int rc = ww_day_today(s, group, &today);
    if (rc != 0)
        return rc;
    sqlite3_stmt *st = ww_sql(s, "SELECT start_date FROM groups WHERE gid=?1");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, group, 16);
    if (sqlite3_step(st) == SQLITE_ROW)
        start = (uint32_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);

    struct row *rows = NULL;
    size_t n = 0, days = (size_t)(to - from) + 1;
    rc = load_rows(s, group, member, &rows, &n);
    if (rc == 0 && member && n == 0)
        rc = WW_ENOTFOUND;
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (!(rows[i].cells = ww_calloc(days, sizeof *rows[i].cells)))
            rc = WW_ENOMEM;
    if (rc == 0)
        rc = fill_cells(s, group, from, to, rows, n);
    if (rc == 0)
        rc = fill_joined(s, group, rows, n);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct ww_overview_row o;
        memset(&o, 0, sizeof o);
        memcpy(o.member, rows[i].member, 16);
        o.alias = rows[i].alias;
        o.role = rows[i].role;
        o.n_cells = days;
        o.cells = rows[i].cells;
        for (size_t k = 0; k < days; k++)
            rows[i].cells[k].date = from + (uint32_t)k;
        summarise(&o, rows[i].cells, from, start, rows[i].joined, today);
        cb(ud, &o);
    }
    for (size_t i = 0; i < n; i++)
        ww_free(rows[i].cells);
    ww_free(rows);
    return rc;
}

int ww_overview(struct ww_store *s, const uint8_t group[WW_ID_LEN], uint32_t from, uint32_t to,
                void (*cb)(void *ud, const struct ww_overview_row *r), void *ud)
{
    if (!s || !group || !cb || from > to || to > WW_MAX_DATE || to - from >= WW_OVERVIEW_MAX_DAYS)
        return WW_EINVAL;
    int rc = ww_cache_acting(s, group, 1u << WW_ROLE_COACH, NULL);
    if (rc != 0)
        return rc;
    return learner_rows(s, group, NULL, from, to, cb, ud);
}

int ww_history(struct ww_store *s, const uint8_t group[WW_ID_LEN], const uint8_t *member,
               uint32_t from, uint32_t to, void (*cb)(void *ud, const struct ww_overview_row *r),
               void *ud)
{
    if (!s || !group || !cb || from > to || to > WW_MAX_DATE || to - from >= WW_HISTORY_MAX_DAYS)
        return WW_EINVAL;
    struct ww_devinfo me;
    int rc = ww_cache_acting(
        s, group, (1u << WW_ROLE_COACH) | (1u << WW_ROLE_STUDENT) | (1u << WW_ROLE_SENIOR), &me);
    if (rc != 0)
        return rc;
    /* A learner sees its own path, the coach any learner's; the senior is a learner here
     * too, never a reader of the others' paths. */
    if (me.role == WW_ROLE_COACH ? !member : member && memcmp(member, me.member, 16) != 0)
        return WW_EROLE;
    return learner_rows(s, group, member ? member : me.member, from, to, cb, ud);
}

int ww_signoffs_due(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                    void (*cb)(void *ud, const struct ww_signoff_due *d), void *ud)
{
    if (!s || !group || !cb)
        return WW_EINVAL;
    int rc = ww_cache_acting(s, group, 1u << WW_ROLE_COACH, NULL);
    if (rc != 0)
        return rc;
    /* A learner did a challenge tied to a school assignment (done or partly, as far as
     * shared with this device) and no sign-off of that learner and code exists yet. */
    sqlite3_stmt *st = ww_sql(
        s, "SELECT r.member, m.alias, r.code, r.date, c.title, c.assignment_ref FROM "
           "reflections r JOIN challenges c ON c.gid=r.gid AND c.code=r.code JOIN members m ON "
           "m.gid=r.gid AND m.member=r.member WHERE r.gid=?1 AND r.readable=1 AND r.draft=0 AND "
           "r.status IN (1,2) AND c.assignment_ref<>'' AND m.removed_epoch IS NULL AND NOT "
           "EXISTS(SELECT 1 FROM signoffs o WHERE o.gid=r.gid AND o.member=r.member AND "
           "o.code=r.code) ORDER BY r.date, m.alias, r.code");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, group, 16);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct ww_signoff_due d;
        memset(&d, 0, sizeof d);
        if (sqlite3_column_bytes(st, 0) == 16)
            memcpy(d.member, sqlite3_column_blob(st, 0), 16);
        d.alias = (const char *)sqlite3_column_text(st, 1);
        d.code = (const char *)sqlite3_column_text(st, 2);
        d.date = (uint32_t)sqlite3_column_int64(st, 3);
        d.title = (const char *)sqlite3_column_text(st, 4);
        d.assignment_ref = (const char *)sqlite3_column_text(st, 5);
        cb(ud, &d);
    }
    sqlite3_reset(st);
    return step == SQLITE_DONE ? 0 : ww_db_err(s, step);
}
