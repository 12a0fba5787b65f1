/*
 * daily.c - the day: today's date in the group's time zone, the day's challenge (the
 * coach's schedule, else the rotation over the starter library and the group's own
 * challenges), the day's climate questions, and "geen dienst".
 *
 * Everything here is answered from the local store, offline, and is the same on every
 * device that holds the same events.
 */
#include <string.h>

#include "alloc.h"
#include "day.h"
#include "library.h"
#include "store.h"

struct group_row {
    char tz[WW_MAX_TZ + 1];
    uint32_t start;
};

static int group_row(struct ww_store *s, const uint8_t gid[16], struct group_row *g)
{
    sqlite3_stmt *st = ww_sql(s, "SELECT tz, start_date FROM groups WHERE gid=?1");
    if (!st)
        return ww_sql_failed(s);
    sqlite3_bind_blob(st, 1, gid, 16, SQLITE_TRANSIENT);
    int step = sqlite3_step(st), rc = step == SQLITE_DONE ? WW_EGROUP : ww_db_err(s, step);
    if (step == SQLITE_ROW) {
        const char *tz = (const char *)sqlite3_column_text(st, 0);
        size_t n = tz ? strlen(tz) : 0;
        if (n > WW_MAX_TZ)
            n = WW_MAX_TZ;
        memcpy(g->tz, tz ? tz : "", n);
        g->tz[n] = '\0';
        g->start = (uint32_t)sqlite3_column_int64(st, 1);
        rc = 0;
    }
    sqlite3_reset(st);
    return rc;
}

/* The group's local date at unix_ms. */
static int local_date(struct ww_store *s, const uint8_t group[WW_ID_LEN], int64_t unix_ms,
                      uint32_t *date_out)
{
    struct group_row g;
    struct ww_tz tz;
    int rc = group_row(s, group, &g);
    if (rc == 0)
        rc = ww_tz_load(g.tz, &tz);
    if (rc == 0)
        *date_out = ww_tz_date(&tz, unix_ms);
    return rc;
}

int ww_day_today(struct ww_store *s, const uint8_t group[WW_ID_LEN], uint32_t *date_out)
{
    return local_date(s, group, ww_store_now_ms(s), date_out);
}

int ww_day_of(struct ww_store *s, const uint8_t group[WW_ID_LEN], uint64_t hlc, uint32_t *date_out)
{
    if (!s || !group || !date_out)
        return WW_EINVAL;
    return local_date(s, group, (int64_t)(hlc >> 16), date_out);
}

int ww_challenge_define(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                        const struct ww_challenge *c, uint8_t hash_out[WW_EVENT_HASH_LEN])
{
    if (!s || !group || !c || !c->code)
        return WW_EINVAL;
    struct ww_body body;
    memset(&body, 0, sizeof body);
    body.kind = WW_KIND_CHALLENGE_DEFINE;
    struct ww_body_challenge_define *d = &body.u.challenge_define;
    d->code = ww_slice_of(c->code);
    d->title = ww_slice_of(c->title);
    d->description = ww_slice_of(c->description);
    if (c->canmeds < 1 || c->canmeds > 7 || c->week_from < 1 || c->week_to > 52 ||
        c->week_from > c->week_to || c->signoff_role < 0 || c->signoff_role > 3)
        return WW_EINVAL;
    d->canmeds = (uint8_t)c->canmeds;
    d->week_from = (uint8_t)c->week_from;
    d->week_to = (uint8_t)c->week_to;
    d->assignment_ref = ww_slice_of(c->assignment_ref);
    d->signoff_role = (uint8_t)c->signoff_role;
    struct ww_emit e = {.kind = WW_KIND_CHALLENGE_DEFINE, .audience = WW_AUD_GROUP, .body = &body};
    return ww_emit_tx(s, group, &e, hash_out);
}

/* The group's own challenge with this code, or the starter library's. `out` strings point
 * into `keep` (group challenges) or static storage. Returns 1 when found. */
struct owned_challenge {
    struct ww_challenge c;
    char code[WW_MAX_CODE + 1], title[WW_MAX_TITLE + 1], desc[WW_MAX_DESC + 1],
        ref[WW_MAX_REF_TEXT + 1];
};

static void copy_text(char *dst, size_t cap, const unsigned char *src)
{
    size_t n = src ? strlen((const char *)src) : 0;
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src ? (const char *)src : "", n);
    dst[n] = '\0';
}

static void load_row(sqlite3_stmt *st, struct owned_challenge *o)
{
    copy_text(o->code, sizeof o->code, sqlite3_column_text(st, 0));
    copy_text(o->title, sizeof o->title, sqlite3_column_text(st, 1));
    copy_text(o->desc, sizeof o->desc, sqlite3_column_text(st, 2));
    copy_text(o->ref, sizeof o->ref, sqlite3_column_text(st, 7));
    o->c.code = o->code;
    o->c.title = o->title;
    o->c.description = o->desc;
    o->c.canmeds = sqlite3_column_int(st, 3);
    o->c.week_from = sqlite3_column_int(st, 4);
    o->c.week_to = sqlite3_column_int(st, 5);
    o->c.signoff_role = sqlite3_column_int(st, 6);
    o->c.assignment_ref = o->ref;
}

#define WW_MAX_OWN_CHALLENGES 256 /* a group's own challenges that join the rotation */

#define CHALLENGE_COLS                                                                             \
    "SELECT code, title, description, canmeds, week_from, week_to, signoff_role, "                 \
    "assignment_ref FROM challenges "

static int find_challenge(struct ww_store *s, const uint8_t gid[16], const char *code,
                          struct owned_challenge *o)
{
    sqlite3_stmt *st = ww_sql(s, CHALLENGE_COLS "WHERE gid=?1 AND code=?2");
    if (!st)
        return ww_sql_failed(s);
    sqlite3_bind_blob(st, 1, gid, 16, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, code, -1, SQLITE_TRANSIENT);
    int found = sqlite3_step(st) == SQLITE_ROW;
    if (found)
        load_row(st, o);
    sqlite3_reset(st);
    if (found)
        return 1;
    const struct ww_challenge *lib = ww_library_find(code);
    if (!lib)
        return 0;
    o->c = *lib;
    return 1;
}

int ww_challenge_schedule(struct ww_store *s, const uint8_t group[WW_ID_LEN], uint32_t date,
                          const char *code, uint8_t hash_out[WW_EVENT_HASH_LEN])
{
    if (!s || !group || !code || date > WW_MAX_DATE)
        return WW_EINVAL;
    struct owned_challenge o;
    int rc = find_challenge(s, group, code, &o);
    if (rc <= 0)
        return rc == 0 ? WW_ENOTFOUND : rc;
    struct ww_body body;
    memset(&body, 0, sizeof body);
    body.kind = WW_KIND_CHALLENGE_SCHEDULE;
    body.u.challenge_schedule.date = date;
    body.u.challenge_schedule.code = ww_slice_of(code);
    uint8_t ref[4];
    ww_date_ref(date, ref);
    struct ww_emit e = {.kind = WW_KIND_CHALLENGE_SCHEDULE,
                        .audience = WW_AUD_GROUP,
                        .ref = ref,
                        .ref_len = 4,
                        .body = &body};
    return ww_emit_tx(s, group, &e, hash_out);
}

int ww_day_off(struct ww_store *s, const uint8_t group[WW_ID_LEN], uint32_t date, int off,
               uint8_t hash_out[WW_EVENT_HASH_LEN])
{
    if (!s || !group || date > WW_MAX_DATE || (off != 0 && off != 1))
        return WW_EINVAL;
    struct ww_body body;
    memset(&body, 0, sizeof body);
    body.kind = WW_KIND_DAY_OFF;
    body.u.day_off.date = date;
    body.u.day_off.off = (uint8_t)off;
    uint8_t ref[4];
    ww_date_ref(date, ref);
    struct ww_emit e = {
        .kind = WW_KIND_DAY_OFF, .audience = WW_AUD_GROUP, .ref = ref, .ref_len = 4, .body = &body};
    return ww_emit_tx(s, group, &e, hash_out);
}

/* The rotation's candidates: the starter library with the group's own challenges added
 * (a group challenge with a starter code replaces it). */
static int rotation(struct ww_store *s, const uint8_t gid[16], uint32_t start, uint32_t date,
                    struct owned_challenge *out)
{
    size_t n_lib = ww_library_count(), max_own = 0;
    sqlite3_stmt *st = ww_sql(s, "SELECT count(*) FROM challenges WHERE gid=?1");
    if (!st)
        return ww_sql_failed(s);
    sqlite3_bind_blob(st, 1, gid, 16, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW)
        max_own = (size_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (max_own > WW_MAX_OWN_CHALLENGES)
        max_own = WW_MAX_OWN_CHALLENGES; /* the rest (by code) do not rotate */
    st = ww_sql(s, CHALLENGE_COLS "WHERE gid=?1 ORDER BY code LIMIT ?2");
    if (!st)
        return ww_sql_failed(s);
    struct owned_challenge *own = ww_calloc(max_own ? max_own : 1, sizeof *own);
    const struct ww_challenge **cand = ww_calloc(n_lib + max_own, sizeof *cand);
    long *from_own = ww_calloc(n_lib + max_own, sizeof *from_own); /* index into own, or -1 */
    int rc = own && cand && from_own ? 0 : WW_ENOMEM;
    size_t n_own = 0, n = 0;
    if (rc == 0) {
        sqlite3_bind_blob(st, 1, gid, 16, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)max_own);
        while (n_own < max_own && sqlite3_step(st) == SQLITE_ROW)
            load_row(st, &own[n_own++]);
    }
    sqlite3_reset(st);
    if (rc == 0) {
        for (size_t i = 0; i < n_lib; i++) {
            const struct ww_challenge *c = ww_library_at(i);
            int replaced = 0;
            for (size_t j = 0; j < n_own && !replaced; j++)
                replaced = !strcmp(own[j].code, c->code);
            if (!replaced) {
                from_own[n] = -1;
                cand[n++] = c;
            }
        }
        for (size_t j = 0; j < n_own; j++) {
            from_own[n] = (long)j;
            cand[n++] = &own[j].c;
        }
        size_t pick = ww_rotation_pick(cand, n, start, date);
        if (pick >= n) {
            rc = WW_ENOTFOUND;
        } else if (from_own[pick] >= 0) {
            *out = own[from_own[pick]];
            out->c.code = out->code;
            out->c.title = out->title;
            out->c.description = out->desc;
            out->c.assignment_ref = out->ref;
        } else {
            out->c = *cand[pick];
        }
    }
    ww_free(from_own);
    ww_free(cand);
    ww_free(own);
    return rc;
}

int ww_day_get(struct ww_store *s, const uint8_t group[WW_ID_LEN], uint32_t date,
               void (*cb)(void *ud, const struct ww_day *d), void *ud)
{
    if (!s || !group || !cb || date > WW_MAX_DATE)
        return WW_EINVAL;
    struct group_row g;
    int rc = group_row(s, group, &g);
    if (rc != 0)
        return rc;
    struct ww_day d;
    memset(&d, 0, sizeof d);
    d.date = date;
    d.week = ww_date_week(g.start, date);

    struct owned_challenge o;
    memset(&o, 0, sizeof o);
    int found = 0;
    sqlite3_stmt *st = ww_sql(s, "SELECT code FROM schedule WHERE gid=?1 AND date=?2");
    if (!st)
        return ww_sql_failed(s);
    sqlite3_bind_blob(st, 1, group, 16, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, date);
    char code[WW_MAX_CODE + 1] = "";
    if (sqlite3_step(st) == SQLITE_ROW)
        copy_text(code, sizeof code, sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    if (code[0]) {
        rc = find_challenge(s, group, code, &o);
        if (rc < 0)
            return rc;
        found = rc;
    }
    d.scheduled = found;
    if (!found && (rc = rotation(s, group, g.start, date, &o)) != 0)
        return rc;
    d.challenge = o.c;

    if ((rc = ww_cache_load(s, group)) != 0)
        return rc;
    const struct ww_devinfo *me = ww_cache_me(s);
    if (me) {
        st = ww_sql(s, "SELECT off FROM days_off WHERE gid=?1 AND member=?2 AND date=?3");
        if (!st)
            return ww_sql_failed(s);
        sqlite3_bind_blob(st, 1, group, 16, SQLITE_TRANSIENT);
        sqlite3_bind_blob(st, 2, me->member, 16, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 3, date);
        if (sqlite3_step(st) == SQLITE_ROW)
            d.day_off = sqlite3_column_int(st, 0);
        sqlite3_reset(st);
    }
    d.n_items = ww_climate_items_for(d.week ? d.week : 1, date, d.items);
    cb(ud, &d);
    return 0;
}
