/*
 * kind_control.c - the control plane: group.create, member.add, member.remove, device.add,
 * key.epoch, key.share, erase and group.hub; and member.profile, the one owner-only kind
 * the group alone can read.
 *
 * Control events are PLAIN (signed, not encrypted) so that every forwarder can check them,
 * and all but key.share, erase and a member's vouching device.add come from the owner
 * device alone: the
 * group's membership is one linear log, so caps are checked against one order on every
 * replica. A member's own vouched device may vouch for another device of its member with a
 * device.add of its own; only vouched devices ever get a member's SELF key.
 */
#include <sodium.h>
#include <string.h>

#include "day.h"
#include "invite.h"
#include "keyring.h"
#include "kind.h"
#include "log.h"
#include "pending.h"
#include "seal.h"
#include "store.h"

/* Adds a device to a member, or marks a held one vouched for. A device is vouched for by
 * its own member (PROTOCOL.md 5.7): only those receive the member's SELF key. */
static int add_device(struct ww_store *s, const uint8_t *gid, const uint8_t *device,
                      const uint8_t *member, int vouched)
{
    sqlite3_stmt *st = ww_sql(s, "INSERT INTO devices(gid, device, member, vouched) "
                                 "VALUES(?1,?2,?3,?4) ON CONFLICT(gid, device) DO UPDATE SET "
                                 "vouched=max(vouched, excluded.vouched)");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, gid, 16);
    ww_bind_blob(st, 2, device, 32);
    ww_bind_blob(st, 3, member, 16);
    sqlite3_bind_int(st, 4, vouched);
    return ww_sql_done(s, st);
}

/* Whether `author` speaks for `member`: one of the member's own vouched devices. */
static int vouches(const struct ww_devinfo *author, const uint8_t *member)
{
    return author->vouched && !memcmp(author->member, member, 16);
}

/* ---- group.create ---- */

/* The group id is bound to its creator, and to its recovery key: only the holder of the
 * author key made it, and a fork of it (a thief's, on the owner phone) cannot name another
 * recovery key. */
static int check_group_create(struct ww_store *s, const struct ww_event *ev)
{
    (void)s;
    uint8_t gid[16];
    ww_group_id(ev->env->h.author, &ev->body->u.group_create, gid);
    return memcmp(gid, ev->env->h.group, 16) == 0 ? 0 : WW_EBADHASH;
}

static int apply_group_create(struct ww_store *s, struct ww_event *ev)
{
    const struct ww_envelope *env = ev->env;
    const struct ww_body_group_create *c = &ev->body->u.group_create;
    sqlite3_stmt *st = ww_sql(s, "INSERT INTO groups(gid, name, tz, start_date, owner, coach, "
                                 "agg_pk, epoch) VALUES(?1,?2,?3,?4,?5,?6,?7,0)");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, env->h.group, 16);
    ww_bind_text(st, 2, &c->name);
    if (c->tz.len)
        ww_bind_text(st, 3, &c->tz);
    else
        sqlite3_bind_text(st, 3, WW_DEFAULT_TZ, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, c->start_date);
    ww_bind_blob(st, 5, env->h.author, 32);
    ww_bind_blob(st, 6, c->coach, 16);
    if (c->has_agg)
        ww_bind_blob(st, 7, c->agg_pk, 32);
    int rc = ww_sql_done(s, st);
    if (rc != 0)
        return rc;
    /* The coach's name comes with its member.profile, as every member's does. */
    st = ww_sql(s, "INSERT INTO members(gid, member, role, alias, year, track, added_epoch) "
                   "VALUES(?1,?2,1,'',0,0,0)");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, env->h.group, 16);
    ww_bind_blob(st, 2, c->coach, 16);
    if ((rc = ww_sql_done(s, st)) != 0)
        return rc;
    if (c->has_recovery) {
        if (!(st = ww_sql(s, "INSERT INTO recoveries(gid, pk) VALUES(?1, ?2)")))
            return ww_sql_failed(s);
        ww_bind_blob(st, 1, env->h.group, 16);
        ww_bind_blob(st, 2, c->recovery, 32);
        if ((rc = ww_sql_done(s, st)) != 0)
            return rc;
    }
    ev->control = 1;
    return add_device(s, env->h.group, env->h.author, c->coach, 1);
}

const struct ww_kind_rule ww_kind_group_create = {
    .roles = WW_ROLE_BIT(WW_ROLE_COACH),
    .audiences = WW_AUD_BIT(WW_AUD_PLAIN),
    .owner_only = 1,
    .check = check_group_create,
    .apply = apply_group_create,
};

/* ---- member.add ---- */

/* Active members per role, each once (a member may have several devices). */
static int count_roles(struct ww_store *s, const uint8_t *gid, int *students, int *seniors)
{
    sqlite3_stmt *st = ww_sql(s, "SELECT role, count(*) FROM members WHERE gid=?1 AND "
                                 "removed_epoch IS NULL GROUP BY role");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, gid, 16);
    int step;
    *students = *seniors = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int role = sqlite3_column_int(st, 0), n = sqlite3_column_int(st, 1);
        if (role == WW_ROLE_STUDENT)
            *students = n;
        else if (role == WW_ROLE_SENIOR)
            *seniors = n;
    }
    sqlite3_reset(st);
    return step == SQLITE_DONE ? 0 : ww_db_err(s, step);
}

static int check_member_add(struct ww_store *s, const struct ww_event *ev)
{
    const struct ww_group_cache *g = ww_cache_cur(s);
    const struct ww_body_member_add *m = &ev->body->u.member_add;
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
    int students = 0, seniors = 0;
    int rc = count_roles(s, ev->env->h.group, &students, &seniors);
    if (rc != 0)
        return rc;
    if (m->role == WW_ROLE_STUDENT && students >= 4)
        return WW_ESTUDENTCAP;
    if (m->role == WW_ROLE_SENIOR && seniors >= 1)
        return WW_ESENIORCAP;
    return m->has_invite ? ww_invite_check_use(s, ev) : 0;
}

static int apply_member_add(struct ww_store *s, struct ww_event *ev)
{
    const uint8_t *gid = ev->env->h.group;
    const struct ww_body_member_add *m = &ev->body->u.member_add;
    /* No name yet: it comes with the member's profile, on the devices that can read it. */
    sqlite3_stmt *st = ww_sql(s, "INSERT INTO members(gid, member, role, alias, year, track, "
                                 "added_epoch) VALUES(?1,?2,?3,'',0,0,?4)");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, gid, 16);
    ww_bind_blob(st, 2, m->member, 16);
    sqlite3_bind_int(st, 3, m->role);
    sqlite3_bind_int64(st, 4, ww_cache_cur(s)->epoch);
    int rc = ww_sql_done(s, st);
    for (uint32_t i = 0; i < m->n_devices && rc == 0; i++)
        rc = add_device(s, gid, m->devices[i], m->member, 1);
    if (rc == 0 && m->has_invite)
        rc = ww_invite_mark_used(s, ev);
    ev->control = 1;
    return rc;
}

const struct ww_kind_rule ww_kind_member_add = {
    .roles = WW_ROLE_BIT(WW_ROLE_COACH),
    .audiences = WW_AUD_BIT(WW_AUD_PLAIN),
    .owner_only = 1,
    .check = check_member_add,
    .apply = apply_member_add,
};

/* ---- member.profile ---- */

/*
 * A member's name, study year and track: personal data no forwarder needs, so they are not
 * in the signed control plane but in this GROUP event, which the owner writes about the
 * member its ref names. Last writer wins per member. An erasure of that member drops every
 * profile of it, whatever its hlc (kind.h about_ref): the owner writes profiles again when
 * a device joins, and one written before the owner device learnt of the erasure must not
 * bring the name back. The member then has no name on any replica.
 */
static int check_member_profile(struct ww_store *s, const struct ww_event *ev)
{
    const struct ww_group_cache *g = ww_cache_cur(s);
    const struct ww_body_member_profile *p = &ev->body->u.member_profile;
    if (memcmp(ev->env->h.ref, p->member, 16) != 0)
        return WW_EINVAL;
    for (size_t i = 0; i < g->n_devices; i++)
        if (!memcmp(g->devices[i].member, p->member, 16))
            return g->devices[i].role == WW_ROLE_COACH || (p->year >= 1 && p->year <= 4)
                       ? 0
                       : WW_ERANGE;
    return WW_ENOTFOUND;
}

static int apply_member_profile(struct ww_store *s, struct ww_event *ev)
{
    const struct ww_header *h = &ev->env->h;
    const struct ww_body_member_profile *p = &ev->body->u.member_profile;
    sqlite3_stmt *st = ww_sql(s, "UPDATE members SET alias=?3, year=?4, track=?5, "
                                 "profile_hlc=?6, profile_epoch=?7 WHERE gid=?1 AND member=?2 "
                                 "AND profile_hlc < ?6");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, h->group, 16);
    ww_bind_blob(st, 2, p->member, 16);
    ww_bind_text(st, 3, &p->alias);
    sqlite3_bind_int(st, 4, p->year);
    sqlite3_bind_int(st, 5, p->track);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)h->hlc);
    sqlite3_bind_int64(st, 7, h->epoch);
    return ww_sql_done(s, st);
}

const struct ww_kind_rule ww_kind_member_profile = {
    .roles = WW_ROLE_BIT(WW_ROLE_COACH),
    .audiences = WW_AUD_BIT(WW_AUD_GROUP),
    .owner_only = 1,
    .ref_len = 16,
    .erasable = 1,
    .about_ref = 1,
    .check = check_member_profile,
    .apply = apply_member_profile,
    .erase_sql = "UPDATE members SET alias='', year=0, track=0 WHERE gid=?1 AND member=?2 AND "
                 "?3 >= 0",
};

/* ---- member.remove ---- */

_Static_assert(WW_MAX_CUTOFFS >= WW_MAX_GROUP_DEVICES, "a removal lists every device of a member");

/*
 * The owner removes any member but its own; a learner's device removes its own member (it
 * leaves the group). A removal decides by itself, the same on every replica, which of the
 * member's events stand:
 *  - the owner's lists each device of the member with the last seq of it the owner held
 *    (its cut-offs): later events of that device are refused, whenever they come, and the
 *    epoch after the one it was written in is closed to the member (the owner starts it
 *    right after, in its log alone, so every replica checks against the same state);
 *  - a leave has none: the member is cut off after the leave's hlc, which follows
 *    everything the leaving device wrote; its owner's device answers with a removal of its own
 *    (ww_removals_rekey) that fixes the cut-offs of the member's other devices.
 * A removal of a member already removed is valid; each limit keeps the least of all, so
 * removals agree in any order. Events already held that a removal refuses leave the log,
 * and the group is derived again without them (ev->rederive), so that a replica that
 * received them before the removal ends where one that received the removal first does.
 */
static int check_member_remove(struct ww_store *s, const struct ww_event *ev)
{
    const struct ww_group_cache *g = ww_cache_cur(s);
    const struct ww_body_member_remove *r = &ev->body->u.member_remove;
    int by_owner = !memcmp(ev->env->h.author, g->owner, 32);
    if (!by_owner && ev->author->role == WW_ROLE_COACH) /* only a learner leaves */
        return ww_cache_may_own(s, ev->author) && memcmp(r->member, ev->author->member, 16)
                   ? WW_ENOTMEMBER /* a new owner's removal, before its handover */
                   : WW_EROLE;
    if (by_owner == !memcmp(r->member, ev->author->member, 16))
        return WW_EROLE; /* the owner cannot remove itself, nor a learner another */
    if (by_owner && ev->env->h.epoch != g->epoch)
        return WW_EINVAL;
    /* The owner's cut-offs name exactly the member's devices (both ascending by key); a
     * leave names none. */
    uint32_t k = 0;
    int found = 0;
    for (size_t i = 0; i < g->n_devices; i++) {
        if (memcmp(g->devices[i].member, r->member, 16) != 0)
            continue;
        found = 1;
        if (by_owner &&
            (k == r->n_cutoffs || memcmp(r->cutoffs[k++].device, g->devices[i].device, 32)))
            return WW_EINVAL;
    }
    if (!found)
        return WW_ENOTFOUND;
    return k == r->n_cutoffs ? 0 : WW_EINVAL;
}

/*
 * Sets a cut-off of a device (a removal's or a recovery's; the least in force stands) and
 * cuts its log to it. The cut-off keeps one branch of the log: the one that ends in the
 * event of its hash. A replica that holds another event at that seq holds another branch (a
 * fork of a removed or retired device): its log leaves from where this replica knows the
 * two part (the first fork of it on record, else all of it), the forks on record above that
 * wait in pending, and the kept branch comes again by sync (PROTOCOL.md 6.16 step 6). *cut:
 * whether any event left.
 */
static int pin_device(struct ww_store *s, const uint8_t gid[16], const struct ww_device_pin *p,
                      int *cut)
{
    sqlite3_stmt *st =
        ww_sql(s, "UPDATE devices SET cutoff=?3, pin=?4 WHERE gid=?1 AND device=?2 AND (cutoff "
                  "IS NULL OR ?3 < cutoff OR (?3 = cutoff AND ?4 < pin))");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, gid, 16);
    ww_bind_blob(st, 2, p->device, 32);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)p->seq);
    ww_bind_blob(st, 4, p->hash, 32);
    int rc = ww_sql_done(s, st);
    if (rc != 0)
        return rc;
    /* The cut-off in force: this one, or an earlier one the cache (as it was before this
     * event, which names each device once) holds. */
    const struct ww_devinfo *d = ww_cache_device(s, p->device);
    uint64_t last = p->seq;
    const uint8_t *pin = p->hash;
    if (d && (d->cutoff < last || (d->cutoff == last && memcmp(d->pin, pin, 32) < 0))) {
        last = d->cutoff;
        pin = d->pin;
    }
    struct ww_log_head h;
    uint8_t held[32];
    if ((rc = ww_log_head(s, gid, p->device, &h)) != 0)
        return rc;
    if (last && h.seq >= last && ww_log_hash_at(s, h.log, last, held, NULL, &rc) &&
        sodium_memcmp(held, pin, 32) != 0) {
        struct ww_pending_counts counts;
        memset(&counts, 0, sizeof counts);
        rc = ww_pending_unfork(s, &counts, gid, p->device, last, &last);
    }
    return rc ? rc : ww_log_cut(s, gid, p->device, last, UINT64_MAX, cut);
}

static int apply_member_remove(struct ww_store *s, struct ww_event *ev)
{
    const struct ww_body_member_remove *r = &ev->body->u.member_remove;
    const uint8_t *gid = ev->env->h.group;
    int by_owner = !memcmp(ev->env->h.author, ww_cache_cur(s)->owner, 32);
    sqlite3_stmt *st = ww_sql(s, "UPDATE members SET removed_epoch=min(coalesce(removed_epoch, ?3),"
                                 " ?3), removed_hlc=min(coalesce(removed_hlc, ?4), coalesce(?4, "
                                 "removed_hlc)) WHERE gid=?1 AND member=?2");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, gid, 16);
    ww_bind_blob(st, 2, r->member, 16);
    sqlite3_bind_int64(st, 3, by_owner ? (sqlite3_int64)ev->env->h.epoch + 1 : WW_LEFT_EPOCH);
    if (by_owner)
        sqlite3_bind_null(st, 4); /* keeps removed_hlc as it is */
    else
        sqlite3_bind_int64(st, 4, (sqlite3_int64)ev->env->h.hlc);
    int rc = ww_sql_done(s, st), cut = 0;
    ev->control = 1;
    /* What the member's devices wrote beyond the limits now in force leaves the log: the
     * owner's cut-offs, or for a leave what follows it (the cache, as it was before this
     * event, gives an earlier owner's cut-off). */
    for (uint32_t k = 0; rc == 0 && k < r->n_cutoffs; k++) {
        rc = pin_device(s, gid, &r->cutoffs[k], &cut);
        ev->rederive |= cut;
    }
    const struct ww_group_cache *g = ww_cache_cur(s);
    for (size_t i = 0; rc == 0 && !by_owner && i < g->n_devices; i++) {
        const struct ww_devinfo *d = &g->devices[i];
        if (memcmp(d->member, r->member, 16) != 0)
            continue;
        uint64_t last_hlc = d->removed_hlc < ev->env->h.hlc ? d->removed_hlc : ev->env->h.hlc;
        rc = ww_log_cut(s, gid, d->device, d->cutoff, last_hlc, &cut);
        ev->rederive |= cut;
    }
    return rc;
}

const struct ww_kind_rule ww_kind_member_remove = {
    .roles = WW_ANY_ROLE,
    .audiences = WW_AUD_BIT(WW_AUD_PLAIN),
    .check = check_member_remove,
    .apply = apply_member_remove,
};

/* ---- owner.handover ---- */

/*
 * The owner hands the control log on to another device of its own member (the coach's
 * laptop, or a new phone the coach added): from this event on, the owner is that device
 * and the old one a coach device like any other. The handover sits in the old owner's log,
 * so whatever that device writes later is checked against the new owner on every replica,
 * and the new owner's control events wait (pending) until the handover is held.
 */
static int check_owner_handover(struct ww_store *s, const struct ww_event *ev)
{
    const struct ww_group_cache *g = ww_cache_cur(s);
    const uint8_t *to = ev->body->u.owner_handover.device;
    const struct ww_devinfo *d = ww_cache_device(s, to);
    if (!memcmp(to, g->owner, 32))
        return WW_EINVAL;
    if (!d || memcmp(d->member, ev->author->member, 16) != 0)
        return WW_ENOTFOUND;
    if (!d->vouched || d->removed_epoch != UINT32_MAX || d->cutoff != UINT64_MAX)
        return WW_EROLE;
    return 0;
}

static int apply_owner_handover(struct ww_store *s, struct ww_event *ev)
{
    sqlite3_stmt *st = ww_sql(s, "UPDATE groups SET owner=?2 WHERE gid=?1");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, ev->env->h.group, 16);
    ww_bind_blob(st, 2, ev->body->u.owner_handover.device, 32);
    ev->control = 1;
    return ww_sql_done(s, st);
}

const struct ww_kind_rule ww_kind_owner_handover = {
    .roles = WW_ROLE_BIT(WW_ROLE_COACH),
    .audiences = WW_AUD_BIT(WW_AUD_PLAIN),
    .owner_only = 1,
    .check = check_owner_handover,
    .apply = apply_owner_handover,
};

/* ---- recovery.key and owner.recover ---- */

/*
 * A coach who loses the owner device, with no other device to hand the group to, takes it
 * over on a new device with the recovery code printed when the group was made: the secret
 * of the group's recovery key, which no device keeps. The owner sets the key once
 * (recovery.key: the first in the owners' logs stands, so a thief holding the phone cannot
 * replace it). A new device then writes owner.recover as its first event, signed by the
 * recovery key: it names the owner device it replaces and that device's last seq that
 * stands (what the new device held of it), and becomes the owner, a device of the same
 * member. The old device is retired: its later events are refused everywhere, and what a
 * replica held of them leaves its log (the group is derived again), as for a removal.
 */
static void hash_u64(crypto_generichash_state *st, uint64_t v)
{
    uint8_t be[8];
    for (int i = 0; i < 8; i++)
        be[i] = (uint8_t)(v >> (56 - 8 * i));
    crypto_generichash_update(st, be, sizeof be);
}

void ww_recover_digest(const uint8_t group[16], const uint8_t device[32],
                       const struct ww_body_owner_recover *r, uint8_t out[32])
{
    static const char ctx[] = "wegwijs/owner-recover/v2";
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, (const uint8_t *)ctx, sizeof ctx - 1);
    crypto_generichash_update(&st, group, 16);
    crypto_generichash_update(&st, device, 32);
    crypto_generichash_update(&st, r->from, 32);
    hash_u64(&st, r->cutoff);
    crypto_generichash_update(&st, r->tip, 32);
    for (uint32_t i = 0; i < r->n_others; i++) {
        crypto_generichash_update(&st, r->others[i].device, 32);
        hash_u64(&st, r->others[i].seq);
        crypto_generichash_update(&st, r->others[i].hash, 32);
    }
    crypto_generichash_final(&st, out, 32);
}

static int check_recovery_key(struct ww_store *s, const struct ww_event *ev)
{
    (void)ev;
    return ww_cache_cur(s)->has_recovery ? WW_EEXIST : 0;
}

static int apply_recovery_key(struct ww_store *s, struct ww_event *ev)
{
    sqlite3_stmt *st = ww_sql(s, "INSERT INTO recoveries(gid, pk) VALUES(?1, ?2)");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, ev->env->h.group, 16);
    ww_bind_blob(st, 2, ev->body->u.recovery_key.pk, 32);
    ev->control = 1;
    return ww_sql_done(s, st);
}

const struct ww_kind_rule ww_kind_recovery_key = {
    .roles = WW_ROLE_BIT(WW_ROLE_COACH),
    .audiences = WW_AUD_BIT(WW_AUD_PLAIN),
    .owner_only = 1,
    .check = check_recovery_key,
    .apply = apply_recovery_key,
};

/*
 * Two recoveries of one device compete whatever was built on the one in force: another
 * recovery of its author (a chain), a handover, its control events. The one in force is
 * found in the log, not in what the group holds of its latest recovery: it is written by a
 * device of the replaced device's member (its author joins that member), and a group holds
 * at most one recovery of a device, since the loser's author leaves from it on.
 */
struct recovery_of {
    const uint8_t *from; /* the replaced device asked about */
    int found;
    uint8_t author[32], hash[32];
    uint64_t seq;
};

static int recovery_of_cb(void *ud, const uint8_t *raw, size_t len)
{
    struct recovery_of *q = ud;
    struct ww_envelope env;
    struct ww_body body;
    /* Held events were checked when applied: one that does not decode is not it. */
    if (ww_envelope_decode(raw, len, &env) != 0 ||
        ww_body_decode(env.h.kind, env.body.p, env.body.len, &body) != 0 ||
        memcmp(body.u.owner_recover.from, q->from, 32) != 0)
        return 0;
    q->found = 1;
    memcpy(q->author, env.h.author, 32);
    q->seq = env.h.seq;
    ww_event_hash(&env.header_bytes, env.ct_hash, env.sig, q->hash);
    return 1;
}

/* The owner.recover of `from` that the group holds, if any (q->found). */
static int recovery_in_force(struct ww_store *s, const uint8_t gid[16], const uint8_t from[32],
                             struct recovery_of *q)
{
    memset(q, 0, sizeof *q);
    q->from = from;
    const struct ww_group_cache *g = ww_cache_cur(s);
    const struct ww_devinfo *f = ww_cache_device(s, from);
    int rc = 0;
    for (size_t i = 0; f && rc == 0 && i < g->n_devices; i++)
        if (!memcmp(g->devices[i].member, f->member, 16))
            rc = ww_log_newer(s, gid, g->devices[i].device, WW_KIND_OWNER_RECOVER, 0,
                              recovery_of_cb, q);
    return rc == 1 ? 0 : rc;
}

/* The author is new to the group (apply.c lets it in for this kind alone, at its seq 1).
 * WW_ENOTMEMBER: it waits, for the recovery key or for the replaced device's log up to
 * the cut-off. Two recoveries of one device: the lower event hash stands, on every
 * replica, whichever came first and whatever was built on it since (apply then drops the
 * other's author from it on). */
static int check_owner_recover(struct ww_store *s, const struct ww_event *ev)
{
    const struct ww_group_cache *g = ww_cache_cur(s);
    const struct ww_body_owner_recover *r = &ev->body->u.owner_recover;
    const struct ww_header *h = &ev->env->h;
    /* A device new to the group writes it as its first event; one of the coach's other
     * devices at any point of its log. */
    if (!ww_cache_device(s, h->author) && h->seq != 1)
        return WW_EINVAL;
    if (!g->has_recovery)
        return WW_ENOTMEMBER;
    uint8_t digest[32];
    ww_recover_digest(h->group, h->author, r, digest);
    if (crypto_sign_verify_detached(r->sig, digest, sizeof digest, g->recovery) != 0)
        return WW_EBADSIG;
    const struct ww_devinfo *from = ww_cache_device(s, r->from);
    if (!from)
        return WW_ENOTMEMBER;
    /* The others it retires: devices of the same member, neither it nor the author. */
    for (uint32_t i = 0; i < r->n_others; i++) {
        const struct ww_devinfo *d = ww_cache_device(s, r->others[i].device);
        if (!d || memcmp(d->member, from->member, 16) || !memcmp(d->device, r->from, 32) ||
            !memcmp(d->device, h->author, 32))
            return WW_EINVAL;
    }
    /* Another recovery of the same device stands: the lower hash wins. The group is then
     * derived again without the other, and this one is checked in full there. */
    struct recovery_of prior = {0};
    int rc = 0;
    if (memcmp(r->from, g->owner, 32) != 0 &&
        (rc = recovery_in_force(s, h->group, r->from, &prior)) != 0)
        return rc;
    if (prior.found &&
        (!memcmp(prior.author, h->author, 32) || memcmp(ev->hash, prior.hash, 32) >= 0))
        return WW_EEXIST; /* a device recovers a device once */
    /* A replica that holds another branch of `from` than the one the recovery keeps (a
     * fork of the thief's) drops that branch when the recovery applies; the group is then
     * derived again and the recovery checked on the kept branch. */
    struct ww_log_head head;
    uint8_t held[32];
    if ((rc = ww_log_head(s, h->group, r->from, &head)) != 0)
        return rc;
    if (r->cutoff && head.seq >= r->cutoff &&
        ww_log_hash_at(s, head.log, r->cutoff, held, NULL, &rc) &&
        sodium_memcmp(held, r->tip, 32) != 0)
        return 0;
    if (rc != 0)
        return rc;
    /* `from` must have been the owner at its cut-off: it is, or it handed the group on
     * only after it (a thief's handover, which the cut-off drops). */
    uint64_t handed = 0;
    if (!prior.found && memcmp(r->from, g->owner, 32) != 0 &&
        ((rc = ww_log_first_of_kind(s, h->group, r->from, WW_KIND_OWNER_HANDOVER, &handed)) != 0 ||
         handed == 0 || handed <= r->cutoff))
        return rc ? rc : WW_EROLE;
    if (head.seq < r->cutoff)
        return WW_ENOTMEMBER;
    /* It follows all it keeps of the replaced device, on every replica alike. */
    uint64_t last = 0;
    if (r->cutoff && !ww_log_hlc_at(s, h->group, r->from, r->cutoff, &last, &rc))
        return rc ? rc : WW_ECORRUPT;
    return h->hlc > last ? 0 : WW_EINVAL;
}

static int apply_owner_recover(struct ww_store *s, struct ww_event *ev)
{
    const struct ww_group_cache *g = ww_cache_cur(s);
    const struct ww_body_owner_recover *r = &ev->body->u.owner_recover;
    const struct ww_header *h = &ev->env->h;
    const struct ww_devinfo *from = ww_cache_device(s, r->from);
    if (!from)
        return WW_ECORRUPT; /* checked just before */
    uint8_t member[16];
    memcpy(member, from->member, 16);
    int rc = 0, cut = 0;
    /* A recovery of the same device with a higher hash gives way: its author leaves the
     * group from it on (a new device entirely; a coach's device from its recovery on), and
     * what was built on it is derived again. */
    struct recovery_of prior = {0};
    if (memcmp(r->from, g->owner, 32) &&
        (rc = recovery_in_force(s, h->group, r->from, &prior)) == 0 && prior.found)
        rc = ww_log_cut(s, h->group, prior.author, prior.seq - 1, UINT64_MAX, &cut);
    ev->rederive |= cut;
    if (rc == 0)
        rc = add_device(s, h->group, h->author, member, 1);
    /* The lost device, and the others named, are retired where they stand. */
    struct ww_device_pin lost;
    memcpy(lost.device, r->from, 32);
    lost.seq = r->cutoff;
    memcpy(lost.hash, r->tip, 32);
    for (uint32_t i = 0; rc == 0 && i <= r->n_others; i++) {
        rc = pin_device(s, h->group, i < r->n_others ? &r->others[i] : &lost, &cut);
        ev->rederive |= cut;
    }
    sqlite3_stmt *st = NULL;
    if (rc == 0 && !(st = ww_sql(s, "UPDATE groups SET owner=?2 WHERE gid=?1")))
        return ww_sql_failed(s);
    if (rc == 0) {
        ww_bind_blob(st, 1, h->group, 16);
        ww_bind_blob(st, 2, h->author, 32);
        rc = ww_sql_done(s, st);
    }
    ev->control = 1;
    return rc;
}

const struct ww_kind_rule ww_kind_owner_recover = {
    .roles = WW_ROLE_BIT(WW_ROLE_COACH),
    .audiences = WW_AUD_BIT(WW_AUD_PLAIN),
    .check = check_owner_recover,
    .apply = apply_owner_recover,
};

/* ---- device.add ---- */

/*
 * Devices enter a group through the owner's log alone, so the cap and a key claimed twice
 * are decided in one order on every replica. The owner adds a device to any member; it is
 * vouched for only when it is a device of the owner's own member. A vouched device of a
 * member vouches for another device of that member with a device.add of its own, which
 * waits (WW_ENOTMEMBER: pending) until the owner's device.add of it is held.
 */
/* The owner may give member a new device: within the cap, a key no device of the group
 * holds, a member that is active. */
static int owner_may_add(struct ww_store *s, const uint8_t *member, const uint8_t *device)
{
    const struct ww_group_cache *g = ww_cache_cur(s);
    int found = 0;
    if (g->n_devices + 1 > WW_MAX_GROUP_DEVICES)
        return WW_ETOOBIG;
    for (size_t i = 0; i < g->n_devices; i++) {
        if (!memcmp(g->devices[i].device, device, 32))
            return WW_EEXIST;
        if (!memcmp(g->devices[i].member, member, 16) && g->devices[i].removed_epoch == UINT32_MAX)
            found = 1;
    }
    return found ? 0 : WW_ENOTFOUND;
}

static int check_device_add(struct ww_store *s, const struct ww_event *ev)
{
    const struct ww_group_cache *g = ww_cache_cur(s);
    const struct ww_body_device_add *d = &ev->body->u.device_add;
    if (memcmp(ev->env->h.author, g->owner, 32) != 0) {
        const struct ww_devinfo *held = ww_cache_device(s, d->device);
        if (!vouches(ev->author, d->member) || (held && memcmp(held->member, d->member, 16)))
            return ww_cache_may_own(s, ev->author) ? WW_ENOTMEMBER : WW_EROLE;
        return held ? 0 : WW_ENOTMEMBER;
    }
    return owner_may_add(s, d->member, d->device);
}

static int apply_device_add(struct ww_store *s, struct ww_event *ev)
{
    const struct ww_body_device_add *d = &ev->body->u.device_add;
    ev->control = 1;
    return add_device(s, ev->env->h.group, d->device, d->member, vouches(ev->author, d->member));
}

const struct ww_kind_rule ww_kind_device_add = {
    .roles = WW_ANY_ROLE,
    .audiences = WW_AUD_BIT(WW_AUD_PLAIN),
    .check = check_device_add,
    .apply = apply_device_add,
};

/* ---- device.join ---- */

/*
 * The owner admits the device that redeemed a member's device invite. The invite, in the
 * member's own log, is the member's word for the device, and the redemption signature in
 * the body proves that this device holds its secret: so the device is vouched for, as if
 * the member had added it, and may receive the member's SELF key.
 */
static int check_device_join(struct ww_store *s, const struct ww_event *ev)
{
    const struct ww_body_device_join *j = &ev->body->u.device_join;
    int rc = owner_may_add(s, j->member, j->device);
    if (rc != 0)
        return rc;
    /* The owner admits these without a person deciding: a member may reach no more than a
     * few devices this way, so that it cannot take the group's places. */
    const struct ww_group_cache *g = ww_cache_cur(s);
    size_t active = 0;
    for (size_t i = 0; i < g->n_devices; i++)
        active += !memcmp(g->devices[i].member, j->member, 16) &&
                  g->devices[i].removed_epoch == UINT32_MAX;
    if (active >= WW_MEMBER_JOIN_DEVICES)
        return WW_ETOOBIG;
    return ww_device_invite_check_join(s, ev);
}

static int apply_device_join(struct ww_store *s, struct ww_event *ev)
{
    const struct ww_body_device_join *j = &ev->body->u.device_join;
    ev->control = 1;
    int rc = add_device(s, ev->env->h.group, j->device, j->member, 1);
    return rc ? rc : ww_device_invite_mark_used(s, ev);
}

const struct ww_kind_rule ww_kind_device_join = {
    .roles = WW_ROLE_BIT(WW_ROLE_COACH),
    .audiences = WW_AUD_BIT(WW_AUD_PLAIN),
    .owner_only = 1,
    .check = check_device_join,
    .apply = apply_device_join,
};

/* ---- key.epoch and key.share ---- */

static int check_key_epoch(struct ww_store *s, const struct ww_event *ev)
{
    return ev->body->u.keys.epoch == ww_cache_cur(s)->epoch + 1 ? 0 : WW_EEPOCH;
}

static int apply_key_epoch(struct ww_store *s, struct ww_event *ev)
{
    sqlite3_stmt *st = ww_sql(s, "UPDATE groups SET epoch=?2 WHERE gid=?1");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, ev->env->h.group, 16);
    sqlite3_bind_int64(st, 2, ev->body->u.keys.epoch);
    int rc = ww_sql_done(s, st);
    if (rc != 0)
        return rc;
    ww_cache_invalidate(s);
    ev->control = 1;
    return ww_keyring_take(s, ev, &ev->body->u.keys);
}

const struct ww_kind_rule ww_kind_key_epoch = {
    .roles = WW_ROLE_BIT(WW_ROLE_COACH),
    .audiences = WW_AUD_BIT(WW_AUD_PLAIN),
    .owner_only = 1,
    .check = check_key_epoch,
    .apply = apply_key_epoch,
};

/*
 * Who may hand which key to whom. The owner shares GROUP and PAIR keys with anyone. A SELF
 * key goes only from a vouched device of its member to the member's vouched devices, or
 * from any device of the member to itself: neither the owner nor a device the owner added
 * can put a key it knows into a member's hands. WW_ENOTMEMBER: a recipient is not (yet) a
 * vouched device of the member; the event waits, since the device.add that vouches for it
 * may come from another author.
 */
static int check_key_share(struct ww_store *s, const struct ww_event *ev)
{
    const struct ww_group_cache *g = ww_cache_cur(s);
    const struct ww_body_keys *k = &ev->body->u.keys;
    const struct ww_devinfo *dev = ev->author;
    int owner = !memcmp(ev->env->h.author, g->owner, 32);
    if (k->epoch > g->epoch || k->epoch == 0)
        return WW_EEPOCH;
    for (uint32_t i = 0; i < k->n_wraps; i++) {
        const struct ww_wrap *w = &k->wraps[i];
        if (w->audience != WW_AUD_SELF) {
            if (owner)
                continue;
            return ww_cache_may_own(s, dev) ? WW_ENOTMEMBER : WW_EROLE;
        }
        if (memcmp(w->subject, dev->member, 16) != 0)
            return WW_EROLE;
        if (!memcmp(w->device, ev->env->h.author, 32))
            continue;
        const struct ww_devinfo *to = ww_cache_device(s, w->device);
        if (!dev->vouched || (to && memcmp(to->member, dev->member, 16) != 0))
            return WW_EROLE;
        if (!to || !to->vouched)
            return WW_ENOTMEMBER;
    }
    return 0;
}

static int apply_key_share(struct ww_store *s, struct ww_event *ev)
{
    ev->control = 1;
    return ww_keyring_take(s, ev, &ev->body->u.keys);
}

const struct ww_kind_rule ww_kind_key_share = {
    .roles = WW_ANY_ROLE,
    .audiences = WW_AUD_BIT(WW_AUD_PLAIN),
    .check = check_key_share,
    .apply = apply_key_share,
};

/* ---- erase ---- */

static int check_erase(struct ww_store *s, const struct ww_event *ev)
{
    if (!memcmp(ev->env->h.author, ww_cache_cur(s)->owner, 32) ||
        !memcmp(ev->body->u.erase.member, ev->author->member, 16))
        return 0;
    return ww_cache_may_own(s, ev->author) ? WW_ENOTMEMBER : WW_EROLE;
}

/* Drops the bodies and materialised rows the erasure covers: events of the member, or
 * about the member, up to the erasure's HLC. Each kind says what it materialised. */
static int apply_erase(struct ww_store *s, struct ww_event *ev)
{
    const uint8_t *gid = ev->env->h.group, *member = ev->body->u.erase.member;
    uint64_t hlc = ev->env->h.hlc;
    sqlite3_stmt *st = ww_sql(s, "INSERT INTO erasures(gid, member, hlc) VALUES(?1,?2,?3) "
                                 "ON CONFLICT(gid, member) DO UPDATE SET hlc=max(hlc, "
                                 "excluded.hlc)");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, gid, 16);
    ww_bind_blob(st, 2, member, 16);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)hlc);
    int rc = ww_sql_done(s, st);
    if (rc == 0)
        rc = ww_log_strip_bodies(s, gid, member, hlc, ww_kind_erasable_mask(),
                                 ww_kind_about_ref_mask());
    for (uint16_t k = 1; rc == 0 && ww_kind_rule(k); k++) {
        if (!ww_kind_rule(k)->erase_sql)
            continue;
        sqlite3_stmt *d = ww_sql(s, ww_kind_rule(k)->erase_sql);
        if (!d)
            return ww_sql_failed(s);
        ww_bind_blob(d, 1, gid, 16);
        ww_bind_blob(d, 2, member, 16);
        sqlite3_bind_int64(d, 3, (sqlite3_int64)hlc);
        rc = ww_sql_done(s, d);
    }
    ww_cache_invalidate(s);
    ev->control = 1; /* stripped copies waiting for this erasure may now be held */
    return rc;
}

const struct ww_kind_rule ww_kind_erase = {
    .roles = WW_ANY_ROLE,
    .audiences = WW_AUD_BIT(WW_AUD_PLAIN),
    .check = check_erase,
    .apply = apply_erase,
};

/* ---- group.hub ---- */

/* The group's hub: one record, replaced by the owner's newer write. A hub reads it to know
 * that the group asked to be served there (PROTOCOL.md 6.18). */
static int apply_group_hub(struct ww_store *s, struct ww_event *ev)
{
    const struct ww_header *h = &ev->env->h;
    const struct ww_body_group_hub *b = &ev->body->u.group_hub;
    sqlite3_stmt *st = ww_sql(s, "INSERT INTO group_hubs(gid, hub, addr, hlc, author) "
                                 "VALUES(?1,?2,?3,?4,?5) ON CONFLICT(gid) DO UPDATE SET "
                                 "hub=excluded.hub, addr=excluded.addr, hlc=excluded.hlc, "
                                 "author=excluded.author" WW_LWW("group_hubs"));
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, h->group, 16);
    ww_bind_blob(st, 2, b->hub, 32);
    ww_bind_text(st, 3, &b->addr);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)h->hlc);
    ww_bind_blob(st, 5, h->author, 32);
    return ww_sql_done(s, st);
}

const struct ww_kind_rule ww_kind_group_hub = {
    .roles = WW_ROLE_BIT(WW_ROLE_COACH),
    .audiences = WW_AUD_BIT(WW_AUD_PLAIN),
    .owner_only = 1,
    .apply = apply_group_hub,
};
