/*
 * kind_day.c - the day's records: challenge.define, challenge.schedule, day.off,
 * reflection.put and climate.put.
 *
 * Each is a record keyed by what it describes (a code, a date, a member's date) and
 * replaced by the newer write: last-writer-wins by (hlc, author), WW_LWW.
 */
#include <string.h>

#include "kind.h"
#include "store.h"

uint32_t ww_ref_date(const struct ww_header *h)
{
    return (uint32_t)h->ref[0] << 24 | (uint32_t)h->ref[1] << 16 | (uint32_t)h->ref[2] << 8 |
           h->ref[3];
}

/* ---- challenge.define ---- */

static int apply_challenge_define(struct ww_store *s, struct ww_event *ev)
{
    const struct ww_header *h = &ev->env->h;
    const struct ww_body_challenge_define *c = &ev->body->u.challenge_define;
    sqlite3_stmt *st = ww_sql(
        s, "INSERT INTO challenges(gid, code, title, description, canmeds, week_from, week_to, "
           "assignment_ref, signoff_role, hlc, author) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,"
           "?11) ON CONFLICT(gid, code) DO UPDATE SET title=excluded.title, "
           "description=excluded.description, canmeds=excluded.canmeds, "
           "week_from=excluded.week_from, week_to=excluded.week_to, "
           "assignment_ref=excluded.assignment_ref, signoff_role=excluded.signoff_role, "
           "hlc=excluded.hlc, author=excluded.author" WW_LWW("challenges"));
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, h->group, 16);
    ww_bind_text(st, 2, &c->code);
    ww_bind_text(st, 3, &c->title);
    ww_bind_text(st, 4, &c->description);
    sqlite3_bind_int(st, 5, c->canmeds);
    sqlite3_bind_int(st, 6, c->week_from);
    sqlite3_bind_int(st, 7, c->week_to);
    ww_bind_text(st, 8, &c->assignment_ref);
    sqlite3_bind_int(st, 9, c->signoff_role);
    sqlite3_bind_int64(st, 10, (sqlite3_int64)h->hlc);
    ww_bind_blob(st, 11, h->author, 32);
    return ww_sql_done(s, st);
}

const struct ww_kind_rule ww_kind_challenge_define = {
    .roles = WW_ROLE_BIT(WW_ROLE_COACH),
    .audiences = WW_AUD_BIT(WW_AUD_GROUP),
    .erasable = 1,
    .apply = apply_challenge_define,
};

/* ---- challenge.schedule ---- */

static int check_challenge_schedule(struct ww_store *s, const struct ww_event *ev)
{
    (void)s;
    return ev->body->u.challenge_schedule.date == ww_ref_date(&ev->env->h) ? 0 : WW_EINVAL;
}

static int apply_challenge_schedule(struct ww_store *s, struct ww_event *ev)
{
    const struct ww_header *h = &ev->env->h;
    sqlite3_stmt *st = ww_sql(s, "INSERT INTO schedule(gid, date, code, hlc, author) "
                                 "VALUES(?1,?2,?3,?4,?5) ON CONFLICT(gid, date) DO UPDATE SET "
                                 "code=excluded.code, hlc=excluded.hlc, "
                                 "author=excluded.author" WW_LWW("schedule"));
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, h->group, 16);
    sqlite3_bind_int64(st, 2, ev->body->u.challenge_schedule.date);
    ww_bind_text(st, 3, &ev->body->u.challenge_schedule.code);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)h->hlc);
    ww_bind_blob(st, 5, h->author, 32);
    return ww_sql_done(s, st);
}

const struct ww_kind_rule ww_kind_challenge_schedule = {
    .roles = WW_ROLE_BIT(WW_ROLE_COACH),
    .audiences = WW_AUD_BIT(WW_AUD_GROUP),
    .ref_len = WW_REF_DATE,
    .erasable = 1,
    .check = check_challenge_schedule,
    .apply = apply_challenge_schedule,
};

/* ---- day.off ---- */

static int check_day_off(struct ww_store *s, const struct ww_event *ev)
{
    (void)s;
    return ev->body->u.day_off.date == ww_ref_date(&ev->env->h) ? 0 : WW_EINVAL;
}

static int apply_day_off(struct ww_store *s, struct ww_event *ev)
{
    const struct ww_header *h = &ev->env->h;
    sqlite3_stmt *st = ww_sql(s, "INSERT INTO days_off(gid, member, date, off, hlc, author) "
                                 "VALUES(?1,?2,?3,?4,?5,?6) ON CONFLICT(gid, member, date) DO "
                                 "UPDATE SET off=excluded.off, hlc=excluded.hlc, "
                                 "author=excluded.author" WW_LWW("days_off"));
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, h->group, 16);
    ww_bind_blob(st, 2, ev->author->member, 16);
    sqlite3_bind_int64(st, 3, ev->body->u.day_off.date);
    sqlite3_bind_int(st, 4, ev->body->u.day_off.off);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)h->hlc);
    ww_bind_blob(st, 6, h->author, 32);
    return ww_sql_done(s, st);
}

const struct ww_kind_rule ww_kind_day_off = {
    .roles = WW_LEARNER,
    .audiences = WW_AUD_BIT(WW_AUD_GROUP),
    .ref_len = WW_REF_DATE,
    .erasable = 1,
    .check = check_day_off,
    .apply = apply_day_off,
    .erase_sql = "DELETE FROM days_off WHERE gid=?1 AND member=?2 AND hlc<=?3",
};

/* ---- reflection.put ---- */

static int check_reflection(struct ww_store *s, const struct ww_event *ev)
{
    static const uint8_t aud_of_share[] = {0, WW_AUD_SELF, WW_AUD_GROUP, WW_AUD_PAIR};
    const struct ww_body_reflection *r = &ev->body->u.reflection;
    (void)s;
    return r->date == ww_ref_date(&ev->env->h) && aud_of_share[r->share] == ev->env->h.audience
               ? 0
               : WW_EINVAL;
}

/* The metadata row of a reflection; the text stays encrypted in the log. A readable copy
 * of the winning event also replaces its unreadable row (same hash). */
static int put_reflection(struct ww_store *s, struct ww_event *ev)
{
    const struct ww_header *h = &ev->env->h;
    const struct ww_body_reflection *r = ev->body ? &ev->body->u.reflection : NULL;
    sqlite3_stmt *st = ww_sql(
        s, "INSERT INTO reflections(gid, member, date, hlc, author, seq, hash, audience, "
           "readable, code, status, obstacles, share, draft) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,"
           "?10,?11,?12,?13,?14) ON CONFLICT(gid, member, date) DO UPDATE SET hlc=excluded.hlc, "
           "author=excluded.author, seq=excluded.seq, hash=excluded.hash, "
           "audience=excluded.audience, readable=excluded.readable, code=excluded.code, "
           "status=excluded.status, obstacles=excluded.obstacles, share=excluded.share, "
           "draft=excluded.draft" WW_LWW("reflections") " OR (excluded.hash = reflections.hash "
                                                        "AND excluded.readable > "
                                                        "reflections.readable)");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, h->group, 16);
    ww_bind_blob(st, 2, ev->author->member, 16);
    sqlite3_bind_int64(st, 3, ww_ref_date(h));
    sqlite3_bind_int64(st, 4, (sqlite3_int64)h->hlc);
    ww_bind_blob(st, 5, h->author, 32);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)h->seq);
    ww_bind_blob(st, 7, ev->hash, 32);
    sqlite3_bind_int(st, 8, h->audience);
    sqlite3_bind_int(st, 9, r != NULL);
    if (r) {
        ww_bind_text(st, 10, &r->code);
        sqlite3_bind_int(st, 11, r->status);
        sqlite3_bind_int(st, 12, r->obstacles);
        sqlite3_bind_int(st, 13, r->share);
        sqlite3_bind_int(st, 14, r->draft);
    }
    return ww_sql_done(s, st);
}

const struct ww_kind_rule ww_kind_reflection_put = {
    .roles = WW_LEARNER,
    .audiences = WW_AUD_BIT(WW_AUD_GROUP) | WW_AUD_BIT(WW_AUD_PAIR) | WW_AUD_BIT(WW_AUD_SELF),
    .ref_len = WW_REF_DATE,
    .erasable = 1,
    .check = check_reflection,
    .apply = put_reflection,
    /* Unreadable here, it still replaces the member's earlier reflection of that day. */
    .apply_unread = put_reflection,
    .erase_sql = "DELETE FROM reflections WHERE gid=?1 AND member=?2 AND hlc<=?3",
};

/* ---- climate.put ---- */

static int check_climate(struct ww_store *s, const struct ww_event *ev)
{
    (void)s;
    return ev->body->u.climate.date == ww_ref_date(&ev->env->h) ? 0 : WW_EINVAL;
}

int ww_climate_store(struct ww_store *s, const uint8_t gid[16], const uint8_t member[16],
                     uint32_t date, uint64_t hlc, const uint8_t author[32], const uint8_t *answers,
                     size_t len)
{
    sqlite3_stmt *st = ww_sql(s, "INSERT INTO climate(gid, member, date, hlc, author, answers) "
                                 "VALUES(?1,?2,?3,?4,?5,?6) ON CONFLICT(gid, member, date) DO "
                                 "UPDATE SET hlc=excluded.hlc, author=excluded.author, "
                                 "answers=excluded.answers" WW_LWW("climate"));
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, gid, 16);
    ww_bind_blob(st, 2, member, 16);
    sqlite3_bind_int64(st, 3, date);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)hlc);
    ww_bind_blob(st, 5, author, 32);
    ww_bind_blob(st, 6, answers, len);
    return ww_sql_done(s, st);
}

static int apply_climate(struct ww_store *s, struct ww_event *ev)
{
    const struct ww_header *h = &ev->env->h;
    const struct ww_body_climate *c = &ev->body->u.climate;
    uint8_t answers[2 * WW_MAX_ANSWERS];
    for (uint32_t i = 0; i < c->n_answers; i++) {
        answers[2 * i] = c->answers[i].item;
        answers[2 * i + 1] = c->answers[i].value;
    }
    return ww_climate_store(s, h->group, ev->author->member, c->date, h->hlc, h->author, answers,
                            2 * c->n_answers);
}

const struct ww_kind_rule ww_kind_climate_put = {
    .roles = WW_LEARNER,
    .audiences = WW_AUD_BIT(WW_AUD_AGG),
    .ref_len = WW_REF_DATE,
    .erasable = 1,
    .check = check_climate,
    .apply = apply_climate,
    .erase_sql = "DELETE FROM climate WHERE gid=?1 AND member=?2 AND hlc<=?3",
};
