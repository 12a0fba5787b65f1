/*
 * kind_social.c - what members say to each other: reaction.put, reaction.del,
 * signal.raise, signal.resolve and signoff.put.
 *
 * Reactions, signals and sign-offs are sets keyed by event hash (each event adds one
 * row); a signal's state is a record per signal, last-writer-wins (WW_LWW).
 */
#include <string.h>

#include "kind.h"
#include "store.h"

/* ---- reaction.put ---- */

static int apply_reaction(struct ww_store *s, struct ww_event *ev)
{
    const struct ww_header *h = &ev->env->h;
    const struct ww_body_reaction *r = &ev->body->u.reaction;
    /* Not when its author withdrew it already (the withdrawal may come first). */
    sqlite3_stmt *st = ww_sql(s, "INSERT OR REPLACE INTO reactions(gid, hash, target, member, "
                                 "subject, text, hlc, readable) SELECT ?1,?2,?3,?4,?7,?5,?6,1 "
                                 "WHERE NOT EXISTS(SELECT 1 FROM reaction_dels WHERE gid=?1 AND "
                                 "target=?2 AND member=?4)");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, h->group, 16);
    ww_bind_blob(st, 2, ev->hash, 32);
    ww_bind_blob(st, 3, r->target, 32);
    ww_bind_blob(st, 4, ev->author->member, 16);
    ww_bind_text(st, 5, &r->text);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)h->hlc);
    ww_bind_blob(st, 7, h->subject, 16);
    return ww_sql_done(s, st);
}

const struct ww_kind_rule ww_kind_reaction_put = {
    .roles = WW_ANY_ROLE,
    .audiences = WW_AUD_BIT(WW_AUD_GROUP) | WW_AUD_BIT(WW_AUD_PAIR),
    .erasable = 1,
    .apply = apply_reaction,
    .erase_sql = "DELETE FROM reactions WHERE gid=?1 AND (member=?2 OR subject=?2) AND hlc<=?3",
};

/* ---- reaction.del ---- */

/* Withdraws the author member's own reaction, whichever of the two arrived first: the
 * withdrawal is kept by target, and reaction.put checks it. */
static int apply_reaction_del(struct ww_store *s, struct ww_event *ev)
{
    const struct ww_header *h = &ev->env->h;
    const uint8_t *target = ev->body->u.reaction_del.target;
    sqlite3_stmt *st = ww_sql(s, "INSERT OR IGNORE INTO reaction_dels(gid, target, member, hlc) "
                                 "VALUES(?1,?2,?3,?4)");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, h->group, 16);
    ww_bind_blob(st, 2, target, 32);
    ww_bind_blob(st, 3, ev->author->member, 16);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)h->hlc);
    int rc = ww_sql_done(s, st);
    if (rc != 0)
        return rc;
    st = ww_sql(s, "DELETE FROM reactions WHERE gid=?1 AND hash=?2 AND member=?3");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, h->group, 16);
    ww_bind_blob(st, 2, target, 32);
    ww_bind_blob(st, 3, ev->author->member, 16);
    return ww_sql_done(s, st);
}

const struct ww_kind_rule ww_kind_reaction_del = {
    .roles = WW_ANY_ROLE,
    .audiences = WW_AUD_BIT(WW_AUD_GROUP) | WW_AUD_BIT(WW_AUD_PAIR),
    .erasable = 1,
    .apply = apply_reaction_del,
    .erase_sql = "DELETE FROM reaction_dels WHERE gid=?1 AND member=?2 AND hlc<=?3",
};

/* ---- signal.raise ---- */

static int apply_signal_raise(struct ww_store *s, struct ww_event *ev)
{
    const struct ww_header *h = &ev->env->h;
    const struct ww_body_signal_raise *g = &ev->body->u.signal_raise;
    sqlite3_stmt *st = ww_sql(s, "INSERT OR REPLACE INTO signals(gid, hash, member, category, "
                                 "text, concerns, hlc, readable) VALUES(?1,?2,?3,?4,?5,?6,?7,1)");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, h->group, 16);
    ww_bind_blob(st, 2, ev->hash, 32);
    ww_bind_blob(st, 3, ev->author->member, 16);
    sqlite3_bind_int(st, 4, g->category);
    ww_bind_text(st, 5, &g->text);
    if (g->has_concerns)
        ww_bind_blob(st, 6, g->concerns, 16);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)h->hlc);
    return ww_sql_done(s, st);
}

const struct ww_kind_rule ww_kind_signal_raise = {
    .roles = WW_LEARNER,
    .audiences = WW_AUD_BIT(WW_AUD_PAIR),
    .erasable = 1,
    .apply = apply_signal_raise,
    .erase_sql = "DELETE FROM signals WHERE gid=?1 AND member=?2 AND hlc<=?3",
};

/* ---- signal.resolve ---- */

static int check_signal_resolve(struct ww_store *s, const struct ww_event *ev)
{
    (void)s;
    return memcmp(ev->body->u.signal_resolve.signal, ev->env->h.ref, 16) == 0 ? 0 : WW_EINVAL;
}

static int apply_signal_resolve(struct ww_store *s, struct ww_event *ev)
{
    const struct ww_header *h = &ev->env->h;
    const struct ww_body_signal_resolve *r = &ev->body->u.signal_resolve;
    sqlite3_stmt *st = ww_sql(s, "INSERT INTO signal_states(gid, signal, state, note, hlc, "
                                 "author, subject) VALUES(?1,?2,?3,?4,?5,?6,?7) ON CONFLICT(gid, "
                                 "signal) DO UPDATE SET state=excluded.state, "
                                 "note=excluded.note, hlc=excluded.hlc, author=excluded.author, "
                                 "subject=excluded.subject" WW_LWW("signal_states"));
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, h->group, 16);
    ww_bind_blob(st, 2, r->signal, 32);
    sqlite3_bind_int(st, 3, r->state);
    ww_bind_text(st, 4, &r->note);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)h->hlc);
    ww_bind_blob(st, 6, h->author, 32);
    ww_bind_blob(st, 7, h->subject, 16);
    return ww_sql_done(s, st);
}

const struct ww_kind_rule ww_kind_signal_resolve = {
    .roles = WW_ROLE_BIT(WW_ROLE_COACH),
    .audiences = WW_AUD_BIT(WW_AUD_PAIR),
    .ref_len = 16,
    .erasable = 1,
    .check = check_signal_resolve,
    .apply = apply_signal_resolve,
    .erase_sql = "DELETE FROM signal_states WHERE gid=?1 AND subject=?2 AND hlc<=?3",
};

/* ---- signoff.put ---- */

static int check_signoff(struct ww_store *s, const struct ww_event *ev)
{
    (void)s;
    return memcmp(ev->body->u.signoff.member, ev->env->h.subject, 16) == 0 ? 0 : WW_EINVAL;
}

static int apply_signoff(struct ww_store *s, struct ww_event *ev)
{
    const struct ww_header *h = &ev->env->h;
    const struct ww_body_signoff *o = &ev->body->u.signoff;
    sqlite3_stmt *st = ww_sql(s, "INSERT OR REPLACE INTO signoffs(gid, hash, member, code, date, "
                                 "level, note, hlc, readable) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,1)");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, h->group, 16);
    ww_bind_blob(st, 2, ev->hash, 32);
    ww_bind_blob(st, 3, o->member, 16);
    ww_bind_text(st, 4, &o->code);
    sqlite3_bind_int64(st, 5, o->date);
    sqlite3_bind_int(st, 6, o->level);
    ww_bind_text(st, 7, &o->note);
    sqlite3_bind_int64(st, 8, (sqlite3_int64)h->hlc);
    return ww_sql_done(s, st);
}

const struct ww_kind_rule ww_kind_signoff_put = {
    .roles = WW_ROLE_BIT(WW_ROLE_COACH),
    .audiences = WW_AUD_BIT(WW_AUD_PAIR),
    .erasable = 1,
    .check = check_signoff,
    .apply = apply_signoff,
    .erase_sql = "DELETE FROM signoffs WHERE gid=?1 AND member=?2 AND hlc<=?3",
};
