/*
 * group.c - groups, members, devices and their keys.
 *
 * The control plane of a group is one linear log: only the owner device (the coach's
 * device that created the group) adds and removes members and starts key epochs. Caps are
 * therefore checked against one well-defined order, on every replica. Devices come from the
 * owner too; a member's own vouched device then vouches for the ones that are its own.
 *
 * Keys follow audiences: per epoch one GROUP key (every member's devices) and one PAIR key
 * per learner (that learner's devices and the coach's). A learner's SELF key is made by
 * its own device (record.c), never by the coach. Removing a member starts a new epoch
 * whose keys are wrapped only for the remaining devices.
 *
 * The cache (struct ww_group_cache) holds one group's devices and keys between calls; it is
 * invalidated by every control event and every rollback.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "day.h"
#include "invite.h"
#include "log.h"
#include "seal.h"
#include "store.h"

const struct ww_group_cache *ww_cache_cur(const struct ww_store *s)
{
    return s->cache;
}

void ww_cache_invalidate(struct ww_store *s)
{
    s->cache->valid = 0;
}

/* Outside a transaction another connection (a second process on the same folder) may
 * have written since the entries were loaded. Inside one, ww_db_begin checked already. */
static int check_data_version(struct ww_store *s)
{
    if (!sqlite3_get_autocommit(s->db))
        return 0;
    sqlite3_stmt *st = ww_sql(s, "PRAGMA data_version");
    if (!st)
        return ww_sql_failed(s);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        int64_t v = sqlite3_column_int64(st, 0);
        if (v != s->data_version)
            s->generation++;
        s->data_version = v;
    }
    sqlite3_reset(st);
    return step == SQLITE_ROW ? 0 : ww_db_err(s, step);
}

int ww_cache_load(struct ww_store *s, const uint8_t gid[WW_GROUP_ID_LEN])
{
    int rc = check_data_version(s);
    if (rc != 0)
        return rc;
    /* The group's entry if held and current; else the least recently used one. */
    struct ww_group_cache *g = NULL, *lru = &s->caches[0];
    for (size_t i = 0; i < WW_CACHE_GROUPS && !g; i++) {
        struct ww_group_cache *e = &s->caches[i];
        if (e->valid && e->generation == s->generation && !memcmp(e->gid, gid, 16))
            g = e;
        else if (e->used < lru->used)
            lru = e;
    }
    s->tick++;
    if (g) {
        g->used = s->tick;
        s->cache = g;
        return 0;
    }
    g = lru;
    s->cache = g;
    sodium_memzero(g, sizeof *g);
    g->used = s->tick;
    memcpy(g->gid, gid, 16);
    sqlite3_stmt *st =
        ww_sql(s, "SELECT g.owner, g.epoch, g.agg_pk, EXISTS(SELECT 1 FROM erasures e "
                  "WHERE e.gid=g.gid), r.pk FROM "
                  "groups g LEFT JOIN recoveries r ON r.gid=g.gid WHERE g.gid=?1");
    if (!st)
        return ww_sql_failed(s);
    sqlite3_bind_blob(st, 1, gid, 16, SQLITE_TRANSIENT);
    /* A cache filled by a failed read would be trusted later: every step is checked, and a
     * failure leaves the cache invalid. */
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        g->exists = 1;
        memcpy(g->owner, sqlite3_column_blob(st, 0), 32);
        g->epoch = (uint32_t)sqlite3_column_int64(st, 1);
        if (sqlite3_column_bytes(st, 2) == 32) {
            g->has_agg = 1;
            memcpy(g->agg_pk, sqlite3_column_blob(st, 2), 32);
        }
        g->has_erasures = sqlite3_column_int(st, 3);
        if ((g->has_recovery = sqlite3_column_bytes(st, 4) == 32))
            memcpy(g->recovery, sqlite3_column_blob(st, 4), 32);
    } else if (step != SQLITE_DONE) {
        sqlite3_reset(st);
        return ww_db_err(s, step);
    }
    sqlite3_reset(st);
    if (g->exists) {
        st = ww_sql(s, "SELECT d.device, d.member, m.role, m.added_epoch, m.removed_epoch, "
                       "m.removed_hlc, d.vouched, d.cutoff, d.pin FROM devices d JOIN members m ON "
                       "m.gid=d.gid AND "
                       "m.member=d.member WHERE d.gid=?1 ORDER BY d.device");
        if (!st)
            return ww_sql_failed(s);
        sqlite3_bind_blob(st, 1, gid, 16, SQLITE_TRANSIENT);
        while ((step = sqlite3_step(st)) == SQLITE_ROW && g->n_devices < WW_CACHE_DEVICES) {
            struct ww_devinfo *d = &g->devices[g->n_devices++];
            memcpy(d->device, sqlite3_column_blob(st, 0), 32);
            memcpy(d->member, sqlite3_column_blob(st, 1), 16);
            d->role = sqlite3_column_int(st, 2);
            d->added_epoch = (uint32_t)sqlite3_column_int64(st, 3);
            d->removed_epoch = sqlite3_column_type(st, 4) == SQLITE_NULL
                                   ? UINT32_MAX
                                   : (uint32_t)sqlite3_column_int64(st, 4);
            d->removed_hlc = sqlite3_column_type(st, 5) == SQLITE_NULL
                                 ? UINT64_MAX
                                 : (uint64_t)sqlite3_column_int64(st, 5);
            d->vouched = sqlite3_column_int(st, 6);
            d->cutoff = sqlite3_column_type(st, 7) == SQLITE_NULL
                            ? UINT64_MAX
                            : (uint64_t)sqlite3_column_int64(st, 7);
            memset(d->pin, 0, 32);
            if (sqlite3_column_bytes(st, 8) == 32)
                memcpy(d->pin, sqlite3_column_blob(st, 8), 32);
        }
        sqlite3_reset(st);
        if (step != SQLITE_DONE && step != SQLITE_ROW)
            return ww_db_err(s, step);
        /* The newest keys first: those are the ones in use. */
        st = ww_sql(s, "SELECT audience, subject, epoch, key FROM keys WHERE gid=?1 ORDER BY "
                       "epoch DESC, audience, subject, key LIMIT ?2");
        if (!st)
            return ww_sql_failed(s);
        sqlite3_bind_blob(st, 1, gid, 16, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 2, WW_CACHE_KEYS + 1);
        size_t rows = 0;
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
            if (++rows > WW_CACHE_KEYS)
                break;
            struct ww_keyinfo *k = &g->keys[g->n_keys++];
            k->audience = (uint8_t)sqlite3_column_int(st, 0);
            memcpy(k->subject, sqlite3_column_blob(st, 1), 16);
            k->epoch = (uint32_t)sqlite3_column_int64(st, 2);
            memcpy(k->key, sqlite3_column_blob(st, 3), 32);
        }
        g->keys_complete = rows <= WW_CACHE_KEYS;
        sqlite3_reset(st);
        if (step != SQLITE_DONE && step != SQLITE_ROW)
            return ww_db_err(s, step);
    }
    g->generation = s->generation;
    g->valid = 1;
    return 0;
}

const struct ww_devinfo *ww_cache_device(struct ww_store *s, const uint8_t device[WW_PK_LEN])
{
    for (size_t i = 0; i < s->cache->n_devices; i++)
        if (!memcmp(s->cache->devices[i].device, device, 32))
            return &s->cache->devices[i];
    return NULL;
}

const struct ww_devinfo *ww_cache_me(struct ww_store *s)
{
    return ww_cache_device(s, s->pk);
}

const uint8_t *ww_cache_key_nth(struct ww_store *s, uint8_t audience, const uint8_t *subject,
                                uint32_t epoch, size_t n)
{
    static const uint8_t zero[16];
    struct ww_group_cache *g = s->cache;
    const uint8_t *subj = audience == WW_AUD_GROUP || !subject ? zero : subject;
    for (size_t i = 0; i < g->n_keys; i++)
        if (g->keys[i].audience == audience && g->keys[i].epoch == epoch &&
            !memcmp(g->keys[i].subject, subj, 16) && n-- == 0)
            return g->keys[i].key;
    if (g->keys_complete)
        return NULL;
    /* An old key outside the cache: look it up and keep it in the last slot. */
    sqlite3_stmt *st = ww_sql(s, "SELECT key FROM keys WHERE gid=?1 AND audience=?2 AND "
                                 "subject=?3 AND epoch=?4 ORDER BY key LIMIT 1 OFFSET ?5");
    if (!st)
        return NULL;
    sqlite3_bind_blob(st, 1, g->gid, 16, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 2, audience);
    sqlite3_bind_blob(st, 3, subj, 16, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, epoch);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)n);
    const uint8_t *found = NULL;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32) {
        struct ww_keyinfo *k = &g->keys[WW_CACHE_KEYS - 1];
        k->audience = audience;
        memcpy(k->subject, subj, 16);
        k->epoch = epoch;
        memcpy(k->key, sqlite3_column_blob(st, 0), 32);
        found = k->key;
    }
    sqlite3_reset(st);
    return found;
}

const uint8_t *ww_cache_key(struct ww_store *s, uint8_t audience, const uint8_t *subject,
                            uint32_t epoch)
{
    return ww_cache_key_nth(s, audience, subject, epoch, 0);
}

/* ---- Key distribution -------------------------------------------------------------- */

static int add_wrap(struct ww_body_keys *k, uint8_t audience, const uint8_t *subject,
                    const uint8_t device[32], const uint8_t key[32])
{
    if (k->n_wraps >= WW_MAX_WRAPS)
        return WW_ETOOBIG; /* more devices than one event can carry keys for */
    struct ww_wrap *w = &k->wraps[k->n_wraps++];
    memset(w, 0, sizeof *w);
    w->audience = audience;
    if (subject && audience != WW_AUD_GROUP)
        memcpy(w->subject, subject, 16);
    memcpy(w->device, device, 32);
    return ww_wrap_key(key, device, w->sealed);
}

int ww_cache_may_own(struct ww_store *s, const struct ww_devinfo *dev)
{
    const struct ww_group_cache *g = ww_cache_cur(s);
    const struct ww_devinfo *o = ww_cache_device(s, g->owner);
    return o && dev->vouched && !memcmp(dev->member, o->member, 16) &&
           memcmp(dev->device, g->owner, 32) != 0 && dev->removed_epoch == UINT32_MAX &&
           dev->cutoff == UINT64_MAX;
}

/* A device of a member not removed, and not retired by a recovery (its cut-off). */
static int is_active(const struct ww_devinfo *d)
{
    return d->removed_epoch == UINT32_MAX && d->cutoff == UINT64_MAX;
}

/* Wraps `key` of (audience, subject) for every active device of `member` (NULL: of every
 * member; role_filter: only members with that role). */
static int wrap_for(struct ww_store *s, struct ww_body_keys *k, uint8_t audience,
                    const uint8_t *subject, const uint8_t key[32], const uint8_t *member,
                    int role_filter)
{
    for (size_t i = 0; i < s->cache->n_devices; i++) {
        const struct ww_devinfo *d = &s->cache->devices[i];
        if (!is_active(d) || (member && memcmp(d->member, member, 16)) ||
            (role_filter && d->role != role_filter))
            continue;
        int rc = add_wrap(k, audience, subject, d->device, key);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Emits key.epoch: fresh GROUP and PAIR keys for everyone still active. */
static int start_epoch(struct ww_store *s, const uint8_t gid[16])
{
    int rc = ww_cache_load(s, gid);
    if (rc != 0)
        return rc;
    struct ww_body *b = ww_calloc(1, sizeof *b);
    if (!b)
        return WW_ENOMEM;
    b->kind = WW_KIND_KEY_EPOCH;
    b->u.keys.epoch = s->cache->epoch + 1;
    uint8_t key[32];
    ww_store_random(s, key, 32);
    rc = wrap_for(s, &b->u.keys, WW_AUD_GROUP, NULL, key, NULL, 0);
    /* One PAIR key per active learner: the learner's devices and the coach's. */
    uint8_t done[WW_CACHE_DEVICES][16];
    size_t n_done = 0;
    for (size_t i = 0; i < s->cache->n_devices && rc == 0; i++) {
        const struct ww_devinfo *d = &s->cache->devices[i];
        if (!is_active(d) || d->role == WW_ROLE_COACH)
            continue;
        int seen = 0;
        for (size_t j = 0; j < n_done; j++)
            seen |= !memcmp(done[j], d->member, 16);
        if (seen)
            continue;
        memcpy(done[n_done++], d->member, 16);
        uint8_t member[16];
        memcpy(member, d->member, 16);
        ww_store_random(s, key, 32);
        rc = wrap_for(s, &b->u.keys, WW_AUD_PAIR, member, key, member, 0);
        if (rc == 0)
            rc = wrap_for(s, &b->u.keys, WW_AUD_PAIR, member, key, NULL, WW_ROLE_COACH);
    }
    sodium_memzero(key, sizeof key);
    struct ww_emit e = {.kind = WW_KIND_KEY_EPOCH, .audience = WW_AUD_PLAIN, .body = b};
    if (rc == 0)
        rc = ww_emit(s, gid, &e, NULL);
    ww_free(b);
    return rc;
}

/* Writes member's profile (member.profile): its name, year and track, for the group's eyes
 * alone (audience GROUP, ref = the member id). The owner device writes every profile. */
static int put_profile(struct ww_store *s, const uint8_t gid[16], const uint8_t member[16],
                       const char *alias, int year, int track)
{
    struct ww_body body;
    memset(&body, 0, sizeof body);
    body.kind = WW_KIND_MEMBER_PROFILE;
    struct ww_body_member_profile *p = &body.u.member_profile;
    memcpy(p->member, member, 16);
    p->alias = ww_slice_of(alias);
    p->year = (uint8_t)year;
    p->track = (uint8_t)track;
    struct ww_emit e = {.kind = WW_KIND_MEMBER_PROFILE,
                        .audience = WW_AUD_GROUP,
                        .ref = member,
                        .ref_len = 16,
                        .body = &body};
    return ww_emit(s, gid, &e, NULL);
}

/* A device that joins receives the keys of the current epoch alone, so it cannot read a
 * profile written in an earlier one: the owner writes each active member's profile again in
 * the current epoch when it hands a new device its keys. Only profiles this device shows are
 * written again (an erased one stays erased), each at most once per epoch. */
static int refresh_profiles(struct ww_store *s, const uint8_t gid[16])
{
    struct {
        uint8_t member[16];
        char alias[WW_MAX_NAME + 1];
        int year, track;
    } rows[WW_MAX_GROUP_DEVICES];
    size_t n = 0;
    sqlite3_stmt *st = ww_sql(s, "SELECT m.member, m.alias, m.year, m.track FROM members m JOIN "
                                 "groups g ON g.gid=m.gid WHERE m.gid=?1 AND m.removed_epoch IS "
                                 "NULL AND m.alias<>'' AND m.profile_epoch < g.epoch");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, gid, 16);
    int step;
    while (n < WW_MAX_GROUP_DEVICES && (step = sqlite3_step(st)) == SQLITE_ROW) {
        memcpy(rows[n].member, sqlite3_column_blob(st, 0), 16);
        snprintf(rows[n].alias, sizeof rows[n].alias, "%s",
                 (const char *)sqlite3_column_text(st, 1));
        rows[n].year = sqlite3_column_int(st, 2);
        rows[n].track = sqlite3_column_int(st, 3);
        n++;
    }
    int rc = n == WW_MAX_GROUP_DEVICES || step == SQLITE_DONE ? 0 : ww_db_err(s, step);
    sqlite3_reset(st);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = put_profile(s, gid, rows[i].member, rows[i].alias, rows[i].year, rows[i].track);
    return rc;
}

/* Emits key.share giving `member`'s new devices the keys of the current epoch: the GROUP
 * key and, for a learner, its PAIR key (new when the member is new); then the profiles the
 * new devices could not read otherwise (refresh_profiles). */
static int share_keys(struct ww_store *s, const uint8_t gid[16], const uint8_t member[16],
                      const uint8_t *only_device)
{
    int rc = ww_cache_load(s, gid);
    if (rc != 0)
        return rc;
    struct ww_body *b = ww_calloc(1, sizeof *b);
    if (!b)
        return WW_ENOMEM;
    b->kind = WW_KIND_KEY_SHARE;
    b->u.keys.epoch = s->cache->epoch;
    const struct ww_devinfo *who = NULL;
    for (size_t i = 0; i < s->cache->n_devices; i++)
        if (!memcmp(s->cache->devices[i].member, member, 16))
            who = &s->cache->devices[i];
    int role = who ? who->role : 0;
    uint8_t key[32];
    const uint8_t *group_key = ww_cache_key(s, WW_AUD_GROUP, NULL, s->cache->epoch);
    if (!who || !group_key) {
        rc = who ? WW_ENOKEY : WW_ENOTFOUND;
        goto done;
    }
    memcpy(key, group_key, 32);
    for (size_t i = 0; i < s->cache->n_devices && rc == 0; i++) {
        const struct ww_devinfo *d = &s->cache->devices[i];
        if (memcmp(d->member, member, 16) || !is_active(d) ||
            (only_device && memcmp(d->device, only_device, 32)))
            continue;
        rc = add_wrap(&b->u.keys, WW_AUD_GROUP, NULL, d->device, key);
    }
    if (rc == 0 && role == WW_ROLE_COACH) {
        /* A coach reads every learner's pair audience: wrap each current PAIR key. */
        for (size_t k = 0; k < s->cache->n_keys && rc == 0; k++) {
            const struct ww_keyinfo *ki = &s->cache->keys[k];
            if (ki->audience != WW_AUD_PAIR || ki->epoch != s->cache->epoch)
                continue;
            for (size_t i = 0; i < s->cache->n_devices && rc == 0; i++) {
                const struct ww_devinfo *d = &s->cache->devices[i];
                if (!memcmp(d->member, member, 16) && is_active(d) &&
                    (!only_device || !memcmp(d->device, only_device, 32)))
                    rc = add_wrap(&b->u.keys, WW_AUD_PAIR, ki->subject, d->device, ki->key);
            }
        }
    }
    if (rc == 0 && role != WW_ROLE_COACH) {
        const uint8_t *pair = ww_cache_key(s, WW_AUD_PAIR, member, s->cache->epoch);
        if (pair) {
            memcpy(key, pair, 32);
            for (size_t i = 0; i < s->cache->n_devices && rc == 0; i++) {
                const struct ww_devinfo *d = &s->cache->devices[i];
                if (!memcmp(d->member, member, 16) && is_active(d) &&
                    (!only_device || !memcmp(d->device, only_device, 32)))
                    rc = add_wrap(&b->u.keys, WW_AUD_PAIR, member, d->device, key);
            }
        } else {
            ww_store_random(s, key, 32);
            if (rc == 0)
                rc = wrap_for(s, &b->u.keys, WW_AUD_PAIR, member, key, member, 0);
            if (rc == 0)
                rc = wrap_for(s, &b->u.keys, WW_AUD_PAIR, member, key, NULL, WW_ROLE_COACH);
        }
    }
    sodium_memzero(key, sizeof key);
    if (rc == 0 && b->u.keys.n_wraps) {
        struct ww_emit e = {.kind = WW_KIND_KEY_SHARE, .audience = WW_AUD_PLAIN, .body = b};
        rc = ww_emit(s, gid, &e, NULL);
    }
    if (rc == 0)
        rc = refresh_profiles(s, gid);
done:
    ww_free(b);
    return rc;
}

int ww_cache_acting(struct ww_store *s, const uint8_t gid[WW_GROUP_ID_LEN], unsigned roles,
                    struct ww_devinfo *out)
{
    int rc = ww_cache_load(s, gid);
    if (rc != 0)
        return rc;
    if (!ww_cache_cur(s)->exists)
        return WW_EGROUP;
    const struct ww_devinfo *me = ww_cache_me(s);
    if (!me || me->removed_epoch != UINT32_MAX)
        return WW_ENOTMEMBER;
    if (!(roles & (1u << me->role)))
        return WW_EROLE;
    if (out)
        *out = *me;
    return 0;
}

/* ---- The public API ------------------------------------------------------------------ */

struct create_args {
    const char *name, *tz, *alias;
    uint32_t start;
    const uint8_t *agg_pk;
    uint8_t gid[16];
    char *code; /* the recovery code, when asked for */
};

void ww_group_id(const uint8_t author[32], const struct ww_body_group_create *c, uint8_t gid[16])
{
    ww_hash_domain("wegwijs/group/v1", author, 32, c->salt, 16,
                   c->has_recovery ? c->recovery : NULL, c->has_recovery ? 32 : 0, gid, 16);
}

/* A new recovery key: its public half into pk, its secret as a code (eight groups of eight
 * hex digits, to be copied by hand) into code. */
static void new_recovery_key(struct ww_store *s, uint8_t pk[32], char code[WW_RECOVERY_CODE_MAX])
{
    uint8_t seed[32], sk[64];
    char hex[65];
    ww_store_random(s, seed, sizeof seed);
    crypto_sign_seed_keypair(pk, sk, seed);
    ww_hex(seed, sizeof seed, hex);
    for (int i = 0, o = 0; i < 64; i++) {
        if (i && i % 8 == 0)
            code[o++] = '-';
        code[o++] = hex[i];
        code[o] = '\0';
    }
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(seed, sizeof seed);
    sodium_memzero(hex, sizeof hex);
}

static int do_create(struct ww_store *s, void *ud)
{
    struct create_args *a = ud;
    struct ww_body body;
    memset(&body, 0, sizeof body);
    body.kind = WW_KIND_GROUP_CREATE;
    struct ww_body_group_create *c = &body.u.group_create;
    ww_store_random(s, c->salt, 16);
    ww_store_random(s, c->coach, 16);
    c->name = ww_slice_of(a->name);
    c->tz = ww_slice_of(a->tz);
    c->start_date = a->start;
    if (a->agg_pk) {
        c->has_agg = 1;
        memcpy(c->agg_pk, a->agg_pk, 32);
    }
    if (a->code) {
        c->has_recovery = 1;
        new_recovery_key(s, c->recovery, a->code);
    }
    ww_group_id(s->pk, c, a->gid);
    struct ww_emit e = {.kind = WW_KIND_GROUP_CREATE, .audience = WW_AUD_PLAIN, .body = &body};
    int rc = ww_emit(s, a->gid, &e, NULL);
    if (rc == 0)
        rc = start_epoch(s, a->gid);
    /* The coach's name goes to the group alone, in the first epoch's key. */
    if (rc == 0 && a->alias && *a->alias)
        rc = put_profile(s, a->gid, c->coach, a->alias, 0, 0);
    return rc;
}

int ww_group_create(struct ww_store *s, const char *name, const char *tz, uint32_t start_date,
                    const char *coach_alias, const uint8_t *aggregator_pk,
                    uint8_t group_out[WW_ID_LEN], char recovery_code_out[WW_RECOVERY_CODE_MAX])
{
    struct ww_tz zone;
    if (!s || !group_out || start_date > WW_MAX_DATE)
        return WW_EINVAL;
    int rc = ww_text_check(name, WW_MAX_NAME, 1);
    if (rc == 0)
        rc = ww_text_check(tz, WW_MAX_TZ, 0);
    if (rc == 0)
        rc = ww_text_check(coach_alias, WW_MAX_NAME, 0);
    if (rc == 0)
        rc = ww_tz_load(tz, &zone);
    if (rc != 0)
        return rc;
    char code[WW_RECOVERY_CODE_MAX];
    struct create_args a = {
        name, tz && *tz ? tz : WW_DEFAULT_TZ, coach_alias, start_date, aggregator_pk,
        {0},  recovery_code_out ? code : NULL};
    if (!a.start)
        a.start = ww_tz_date(&zone, ww_store_now_ms(s));
    rc = ww_tx(s, do_create, &a);
    if (rc == 0)
        memcpy(group_out, a.gid, 16);
    if (rc == 0 && recovery_code_out)
        memcpy(recovery_code_out, code, sizeof code);
    sodium_memzero(code, sizeof code);
    return rc;
}

static int fill_group(struct ww_store *s, sqlite3_stmt *st, struct ww_group_info *g)
{
    memset(g, 0, sizeof *g);
    memcpy(g->id, sqlite3_column_blob(st, 0), 16);
    g->name = (const char *)sqlite3_column_text(st, 1);
    g->tz = (const char *)sqlite3_column_text(st, 2);
    g->start_date = (uint32_t)sqlite3_column_int64(st, 3);
    g->epoch = (uint32_t)sqlite3_column_int64(st, 5);
    memcpy(g->owner, sqlite3_column_blob(st, 4), 32);
    g->is_owner = !memcmp(g->owner, s->pk, 32);
    g->has_aggregator = sqlite3_column_type(st, 6) != SQLITE_NULL;
    if (sqlite3_column_type(st, 7) != SQLITE_NULL) {
        memcpy(g->my_member, sqlite3_column_blob(st, 7), 16);
        g->my_role = sqlite3_column_int(st, 8);
        if (sqlite3_column_type(st, 9) != SQLITE_NULL)
            g->my_role = 0; /* removed */
    }
    if (sqlite3_column_type(st, 10) != SQLITE_NULL) {
        g->has_hub = 1;
        memcpy(g->hub, sqlite3_column_blob(st, 10), 32);
        g->hub_addr = (const char *)sqlite3_column_text(st, 11);
    }
    return 0;
}

#define GROUP_SELECT                                                                               \
    "SELECT g.gid, g.name, g.tz, g.start_date, g.owner, g.epoch, g.agg_pk, m.member, m.role, "     \
    "m.removed_epoch, h.hub, h.addr FROM groups g LEFT JOIN devices d ON d.gid=g.gid AND "         \
    "d.device=?1 LEFT JOIN members m ON m.gid=g.gid AND m.member=d.member LEFT JOIN group_hubs h " \
    "ON h.gid=g.gid "

int ww_group_get(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                 void (*cb)(void *ud, const struct ww_group_info *g), void *ud)
{
    sqlite3_stmt *st = ww_sql(s, GROUP_SELECT "WHERE g.gid=?2");
    if (!st)
        return ww_sql_failed(s);
    sqlite3_bind_blob(st, 1, s->pk, 32, SQLITE_TRANSIENT);
    sqlite3_bind_blob(st, 2, group, 16, SQLITE_TRANSIENT);
    int step = sqlite3_step(st), rc = step == SQLITE_DONE ? WW_EGROUP : ww_db_err(s, step);
    if (step == SQLITE_ROW) {
        struct ww_group_info g;
        fill_group(s, st, &g);
        cb(ud, &g);
        rc = 0;
    }
    sqlite3_reset(st);
    return rc;
}

int ww_groups_list(struct ww_store *s, void (*cb)(void *ud, const struct ww_group_info *g),
                   void *ud)
{
    sqlite3_stmt *st = ww_sql(s, GROUP_SELECT "ORDER BY g.name, g.gid");
    if (!st)
        return ww_sql_failed(s);
    sqlite3_bind_blob(st, 1, s->pk, 32, SQLITE_TRANSIENT);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct ww_group_info g;
        fill_group(s, st, &g);
        cb(ud, &g);
    }
    sqlite3_reset(st);
    return step == SQLITE_DONE ? 0 : ww_db_err(s, step);
}

struct member_args {
    const uint8_t *gid;
    int role;
    const char *alias;
    int year, track;
    const uint8_t *device;
    const uint8_t *member;
    uint8_t out[16];
    uint8_t hash[32];      /* the event's hash, for the caller once committed */
    const uint8_t *invite; /* member.add: the invite it redeems, or NULL */
};

static int do_member_add(struct ww_store *s, void *ud)
{
    struct member_args *a = ud;
    struct ww_body body;
    memset(&body, 0, sizeof body);
    body.kind = WW_KIND_MEMBER_ADD;
    struct ww_body_member_add *m = &body.u.member_add;
    ww_store_random(s, m->member, 16);
    m->role = (uint8_t)a->role;
    m->n_devices = 1;
    memcpy(m->devices[0], a->device, 32);
    if (a->invite) {
        m->has_invite = 1;
        memcpy(m->invite, a->invite, 32);
    }
    memcpy(a->out, m->member, 16);
    /* An open invite holds its place: a learner added directly does not take it (the
     * member.add rule alone would let the invite's redemption fail later instead). */
    int held = 0, open = 0, rc = 0;
    if (!a->invite && a->role != WW_ROLE_COACH &&
        (rc = ww_invite_places(s, a->gid, a->role, ww_store_now_ms(s), &held, &open)) == 0 &&
        open > 0 && held + 1 > WW_ROLE_CAP(a->role))
        rc = a->role == WW_ROLE_STUDENT ? WW_ESTUDENTCAP : WW_ESENIORCAP;
    if (rc != 0)
        return rc;
    struct ww_emit e = {.kind = WW_KIND_MEMBER_ADD, .audience = WW_AUD_PLAIN, .body = &body};
    rc = ww_emit(s, a->gid, &e, NULL);
    if (rc == 0)
        rc = share_keys(s, a->gid, m->member, NULL);
    if (rc == 0)
        rc = put_profile(s, a->gid, a->out, a->alias, a->year, a->track);
    return rc;
}

int ww_member_add(struct ww_store *s, const uint8_t group[WW_ID_LEN], int role, const char *alias,
                  int year, int track, const uint8_t device[WW_KEY_LEN],
                  uint8_t member_out[WW_ID_LEN])
{
    return ww_member_add_invite(s, group, role, alias, year, track, device, NULL, member_out);
}

int ww_member_add_invite(struct ww_store *s, const uint8_t group[16], int role, const char *alias,
                         int year, int track, const uint8_t device[32], const uint8_t *invite,
                         uint8_t member_out[16])
{
    if (!s || !group || !device || !member_out || role < WW_ROLE_COACH || role > WW_ROLE_SENIOR ||
        track < 0 || track > 2 || year < 0 || year > 4 || (role != WW_ROLE_COACH && year < 1))
        return WW_EINVAL;
    int rc = ww_text_check(alias, WW_MAX_NAME, 1);
    if (rc != 0)
        return rc;
    struct member_args a = {group, role,   alias, role == WW_ROLE_COACH ? 0 : year,
                            track, device, NULL,  {0},
                            {0},   invite};
    rc = ww_tx(s, do_member_add, &a);
    if (rc == 0)
        memcpy(member_out, a.out, 16);
    return rc;
}

static int do_device_add(struct ww_store *s, void *ud)
{
    struct member_args *a = ud;
    int rc = ww_cache_load(s, a->gid);
    if (rc != 0)
        return rc;
    if (memcmp(ww_cache_cur(s)->owner, s->pk, 32) != 0 && !ww_cache_device(s, a->device))
        return WW_ENOTFOUND; /* the owner adds a device first; its member then vouches */
    struct ww_body body;
    memset(&body, 0, sizeof body);
    body.kind = WW_KIND_DEVICE_ADD;
    memcpy(body.u.device_add.member, a->member, 16);
    memcpy(body.u.device_add.device, a->device, 32);
    struct ww_emit e = {.kind = WW_KIND_DEVICE_ADD, .audience = WW_AUD_PLAIN, .body = &body};
    rc = ww_emit(s, a->gid, &e, a->hash);
    /* The owner hands the new device the keys; a member vouching for it shares its SELF
     * key when it next writes privately. */
    if (rc == 0 && !memcmp(ww_cache_cur(s)->owner, s->pk, 32))
        rc = share_keys(s, a->gid, a->member, a->device);
    return rc;
}

struct join_args {
    const uint8_t *gid, *member, *device, *invite, *sig;
};

static int do_device_join(struct ww_store *s, void *ud)
{
    struct join_args *a = ud;
    int rc = ww_cache_load(s, a->gid);
    if (rc != 0)
        return rc;
    struct ww_body body;
    memset(&body, 0, sizeof body);
    body.kind = WW_KIND_DEVICE_JOIN;
    struct ww_body_device_join *j = &body.u.device_join;
    memcpy(j->member, a->member, 16);
    memcpy(j->device, a->device, 32);
    memcpy(j->invite, a->invite, 32);
    memcpy(j->sig, a->sig, 64);
    struct ww_emit e = {.kind = WW_KIND_DEVICE_JOIN, .audience = WW_AUD_PLAIN, .body = &body};
    rc = ww_emit(s, a->gid, &e, NULL);
    return rc ? rc : share_keys(s, a->gid, a->member, a->device);
}

int ww_device_join(struct ww_store *s, const uint8_t group[16], const uint8_t member[16],
                   const uint8_t device[32], const uint8_t invite[32], const uint8_t sig[64])
{
    struct join_args a = {group, member, device, invite, sig};
    return ww_tx(s, do_device_join, &a);
}

int ww_device_add(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                  const uint8_t member[WW_ID_LEN], const uint8_t device[WW_KEY_LEN],
                  uint8_t hash_out[WW_EVENT_HASH_LEN])
{
    if (!s || !group || !member || !device)
        return WW_EINVAL;
    struct member_args a = {group, 0, NULL, 0, 0, device, member, {0}, {0}, NULL};
    int rc = ww_tx(s, do_device_add, &a);
    if (rc == 0 && hash_out)
        memcpy(hash_out, a.hash, sizeof a.hash);
    return rc;
}

/* A removal of a->member; by the owner, with the last seq it holds of each of the member's
 * devices (ascending by key, as the cache lists them), which is what it keeps of them. */
static int emit_remove(struct ww_store *s, struct member_args *a)
{
    struct ww_body body;
    memset(&body, 0, sizeof body);
    body.kind = WW_KIND_MEMBER_REMOVE;
    struct ww_body_member_remove *r = &body.u.member_remove;
    memcpy(r->member, a->member, 16);
    int rc = ww_cache_load(s, a->gid);
    if (rc != 0)
        return rc;
    struct ww_devinfo devs[WW_CACHE_DEVICES];
    size_t n = 0;
    if (s->cache->exists && memcmp(s->cache->owner, s->pk, 32) == 0)
        for (size_t i = 0; i < s->cache->n_devices; i++)
            if (!memcmp(s->cache->devices[i].member, a->member, 16))
                devs[n++] = s->cache->devices[i];
    for (size_t i = 0; i < n && r->n_cutoffs < WW_MAX_CUTOFFS; i++) {
        struct ww_log_head h;
        if ((rc = ww_log_head(s, a->gid, devs[i].device, &h)) != 0)
            return rc;
        ww_pin_head(&r->cutoffs[r->n_cutoffs++], devs[i].device, &h);
    }
    struct ww_emit e = {.kind = WW_KIND_MEMBER_REMOVE, .audience = WW_AUD_PLAIN, .body = &body};
    return ww_emit(s, a->gid, &e, a->hash);
}

static int do_member_remove(struct ww_store *s, void *ud)
{
    struct member_args *a = ud;
    int rc = ww_cache_load(s, a->gid), active = 0;
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < s->cache->n_devices; i++)
        active |=
            !memcmp(s->cache->devices[i].member, a->member, 16) && is_active(&s->cache->devices[i]);
    /* A member who left may still be removed by the owner, which fixes its cut-offs. */
    for (size_t i = 0; i < s->cache->n_devices; i++)
        active |= !memcmp(s->cache->devices[i].member, a->member, 16) &&
                  s->cache->devices[i].removed_epoch == WW_LEFT_EPOCH;
    if (s->cache->exists && !active && memcmp(s->cache->owner, s->pk, 32) == 0)
        return WW_ENOTFOUND; /* unknown, or removed already */
    rc = emit_remove(s, a);
    if (rc == 0)
        rc = start_epoch(s, a->gid);
    return rc;
}

static int do_member_leave(struct ww_store *s, void *ud)
{
    struct member_args *a = ud;
    struct ww_devinfo me;
    int rc = ww_cache_acting(s, a->gid, (1u << WW_ROLE_STUDENT) | (1u << WW_ROLE_SENIOR), &me);
    if (rc != 0)
        return rc;
    a->member = me.member;
    return emit_remove(s, a);
}

int ww_member_leave(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                    uint8_t hash_out[WW_EVENT_HASH_LEN])
{
    if (!s || !group)
        return WW_EINVAL;
    struct member_args a = {group, 0, NULL, 0, 0, NULL, NULL, {0}, {0}, NULL};
    int rc = ww_tx(s, do_member_leave, &a);
    if (rc == 0 && hash_out)
        memcpy(hash_out, a.hash, sizeof a.hash);
    return rc;
}

/* A removal newer than the owner's newest key.epoch: a member left since (the owner's own
 * removals are followed by their epoch in the same transaction). */
struct rekey_args {
    const uint8_t *gid;
    int wrote;
};

static int do_rekey(struct ww_store *s, void *ud)
{
    struct rekey_args *a = ud;
    int rc = ww_cache_load(s, a->gid);
    if (rc != 0)
        return rc;
    if (!s->cache->exists || memcmp(s->cache->owner, s->pk, 32) != 0)
        return 0; /* only the owner device starts epochs */
    /* A member who left is removed by the owner too: its removal fixes what is kept of the
     * member's other devices, which the leave's hlc alone would leave open to a device
     * whose clock runs behind. */
    uint8_t left[WW_CACHE_DEVICES][16];
    size_t n_left = 0;
    for (size_t i = 0; i < s->cache->n_devices; i++) {
        const struct ww_devinfo *d = &s->cache->devices[i];
        int seen = 0;
        for (size_t j = 0; j < n_left; j++)
            seen |= !memcmp(left[j], d->member, 16);
        if (d->removed_epoch == WW_LEFT_EPOCH && !seen)
            memcpy(left[n_left++], d->member, 16);
    }
    for (size_t i = 0; i < n_left; i++) {
        struct member_args m = {a->gid, 0, NULL, 0, 0, NULL, left[i], {0}, {0}, NULL};
        if ((rc = emit_remove(s, &m)) != 0)
            return rc;
        a->wrote = 1;
    }
    sqlite3_stmt *st = ww_sql(
        s, "SELECT 1 FROM members WHERE gid=?1 AND removed_hlc > coalesce((SELECT max(e.hlc) FROM"
           " logs l JOIN events e ON " WW_LOG_RANGE("e", "l") " WHERE l.gid=?1 AND l.author=?2 AND"
                                                              " e.kind=5), 0)");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, a->gid, 16);
    ww_bind_blob(st, 2, s->pk, 32);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return ww_db_err(s, step);
    if (step == SQLITE_DONE)
        return 0;
    a->wrote = 1;
    return start_epoch(s, a->gid);
}

int ww_removals_rekey(struct ww_store *s, const uint8_t group[WW_ID_LEN], int *wrote)
{
    if (!s || !group)
        return WW_EINVAL;
    struct rekey_args a = {group, 0};
    int rc = ww_tx(s, do_rekey, &a);
    if (wrote)
        *wrote = rc == 0 && a.wrote;
    return rc;
}

int ww_member_remove(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                     const uint8_t member[WW_ID_LEN], uint8_t hash_out[WW_EVENT_HASH_LEN])
{
    if (!s || !group || !member)
        return WW_EINVAL;
    struct member_args a = {group, 0, NULL, 0, 0, NULL, member, {0}, {0}, NULL};
    int rc = ww_tx(s, do_member_remove, &a);
    if (rc == 0 && hash_out)
        memcpy(hash_out, a.hash, sizeof a.hash);
    return rc;
}

int ww_group_hub_set(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                     const uint8_t hub[WW_KEY_LEN], const char *addr,
                     uint8_t hash_out[WW_EVENT_HASH_LEN])
{
    if (!s || !group || !hub)
        return WW_EINVAL;
    int rc = ww_text_check(addr, WW_MAX_ADDR, 0);
    if (rc != 0)
        return rc;
    struct ww_body body;
    memset(&body, 0, sizeof body);
    body.kind = WW_KIND_GROUP_HUB;
    memcpy(body.u.group_hub.hub, hub, 32);
    body.u.group_hub.addr = ww_slice_of(addr);
    struct ww_emit e = {.kind = WW_KIND_GROUP_HUB, .audience = WW_AUD_PLAIN, .body = &body};
    return ww_emit_tx(s, group, &e, hash_out);
}

int ww_owner_handover(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                      const uint8_t device[WW_KEY_LEN], uint8_t hash_out[WW_EVENT_HASH_LEN])
{
    if (!s || !group || !device)
        return WW_EINVAL;
    struct ww_body body;
    memset(&body, 0, sizeof body);
    body.kind = WW_KIND_OWNER_HANDOVER;
    memcpy(body.u.owner_handover.device, device, 32);
    struct ww_emit e = {.kind = WW_KIND_OWNER_HANDOVER, .audience = WW_AUD_PLAIN, .body = &body};
    return ww_emit_tx(s, group, &e, hash_out);
}

/* ---- Recovery ------------------------------------------------------------------------- */

struct recovery_key_args {
    const uint8_t *gid;
    char code[WW_RECOVERY_CODE_MAX];
};

static int do_recovery_key(struct ww_store *s, void *ud)
{
    struct recovery_key_args *a = ud;
    struct ww_body body;
    memset(&body, 0, sizeof body);
    body.kind = WW_KIND_RECOVERY_KEY;
    new_recovery_key(s, body.u.recovery_key.pk, a->code);
    struct ww_emit e = {.kind = WW_KIND_RECOVERY_KEY, .audience = WW_AUD_PLAIN, .body = &body};
    return ww_emit(s, a->gid, &e, NULL);
}

int ww_recovery_key_create(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                           char code_out[WW_RECOVERY_CODE_MAX])
{
    if (!s || !group || !code_out)
        return WW_EINVAL;
    struct recovery_key_args a = {.gid = group};
    int rc = ww_tx(s, do_recovery_key, &a);
    if (rc == 0)
        memcpy(code_out, a.code, WW_RECOVERY_CODE_MAX);
    sodium_memzero(&a, sizeof a);
    return rc;
}

/* The recovery code's 32 bytes: 64 hex digits, dashes and spaces between them ignored. */
static int parse_recovery_code(const char *code, uint8_t seed[32])
{
    size_t n = 0;
    for (const char *p = code; *p; p++) {
        if (*p == '-' || *p == ' ')
            continue;
        int v = *p >= '0' && *p <= '9'   ? *p - '0'
                : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10
                : *p >= 'A' && *p <= 'F' ? *p - 'A' + 10
                                         : -1;
        if (v < 0 || n == 64)
            return WW_EINVAL;
        seed[n / 2] = (uint8_t)(n % 2 ? seed[n / 2] | v : v << 4);
        n++;
    }
    return n == 64 ? 0 : WW_EINVAL;
}

struct recover_args {
    const uint8_t *gid;
    const uint8_t *seed;
};

static int do_owner_recover(struct ww_store *s, void *ud)
{
    struct recover_args *a = ud;
    int rc = ww_cache_load(s, a->gid);
    if (rc != 0)
        return rc;
    if (!s->cache->exists)
        return WW_EGROUP;
    const struct ww_devinfo *me = ww_cache_me(s);
    if (me && !ww_cache_may_own(s, me))
        return WW_EEXIST; /* of the group already, and not one of the coach's */
    uint8_t pk[32], sk[64], from[32], digest[32];
    crypto_sign_seed_keypair(pk, sk, a->seed);
    if (!s->cache->has_recovery || memcmp(pk, s->cache->recovery, 32) != 0) {
        sodium_memzero(sk, sizeof sk);
        return WW_EBADSIG; /* not this group's code */
    }
    memcpy(from, s->cache->owner, 32);
    struct ww_log_head head;
    if ((rc = ww_log_head(s, a->gid, from, &head)) != 0) {
        sodium_memzero(sk, sizeof sk);
        return rc;
    }
    /* The recovery follows all it keeps of the lost device, even a clock of that device
     * that ran ahead: every replica checks that it does. */
    if (s->hlc < head.hlc)
        s->hlc = head.hlc;
    uint8_t self[32];
    ww_store_device(s, self);
    struct ww_body *body = ww_calloc(1, sizeof *body);
    if (!body) {
        sodium_memzero(sk, sizeof sk);
        return WW_ENOMEM;
    }
    body->kind = WW_KIND_OWNER_RECOVER;
    struct ww_body_owner_recover *r = &body->u.owner_recover;
    memcpy(r->from, from, 32);
    r->cutoff = head.seq;
    if (head.seq)
        memcpy(r->tip, head.hash, 32);
    /* The coach's other devices go too, where this device holds them: one the thief added
     * would keep the keys. The coach adds back the ones that are still theirs. */
    const struct ww_devinfo *fd = ww_cache_device(s, from);
    struct ww_devinfo devs[WW_CACHE_DEVICES];
    size_t n = 0;
    for (size_t i = 0; fd && i < s->cache->n_devices; i++) {
        const struct ww_devinfo *d = &s->cache->devices[i];
        if (!memcmp(d->member, fd->member, 16) && memcmp(d->device, from, 32) &&
            memcmp(d->device, self, 32))
            devs[n++] = *d;
    }
    for (size_t i = 0; rc == 0 && i < n && r->n_others < WW_MAX_CUTOFFS; i++) {
        struct ww_log_head dh;
        if ((rc = ww_log_head(s, a->gid, devs[i].device, &dh)) == 0)
            ww_pin_head(&r->others[r->n_others++], devs[i].device, &dh);
    }
    ww_recover_digest(a->gid, self, r, digest);
    crypto_sign_detached(r->sig, NULL, digest, sizeof digest, sk);
    sodium_memzero(sk, sizeof sk);
    struct ww_emit e = {.kind = WW_KIND_OWNER_RECOVER, .audience = WW_AUD_PLAIN, .body = body};
    if (rc == 0)
        rc = ww_emit(s, a->gid, &e, NULL);
    ww_free(body);
    /* It holds no key of the group for sure: new ones for every device but those retired. */
    return rc ? rc : start_epoch(s, a->gid);
}

int ww_owner_recover(struct ww_store *s, const uint8_t group[WW_ID_LEN], const char *code)
{
    if (!s || !group || !code)
        return WW_EINVAL;
    uint8_t seed[32];
    int rc = parse_recovery_code(code, seed);
    if (rc != 0)
        return rc;
    struct recover_args a = {group, seed};
    rc = ww_tx(s, do_owner_recover, &a);
    sodium_memzero(seed, sizeof seed);
    return rc;
}

int ww_group_coach_device(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                          const uint8_t device[WW_KEY_LEN])
{
    if (!s || !group || !device || ww_cache_load(s, group) != 0 || !s->cache->exists)
        return 0;
    const struct ww_devinfo *o = ww_cache_device(s, s->cache->owner);
    const struct ww_devinfo *d = ww_cache_device(s, device);
    return o && d && !memcmp(o->member, d->member, 16);
}

int ww_members_list(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                    void (*cb)(void *ud, const struct ww_member_info *m), void *ud)
{
    int rc = ww_cache_load(s, group);
    if (rc != 0)
        return rc;
    if (!s->cache->exists)
        return WW_EGROUP;
    sqlite3_stmt *st = ww_sql(s, "SELECT member, role, alias, year, track, removed_epoch FROM "
                                 "members WHERE gid=?1 ORDER BY role, alias, member");
    if (!st)
        return ww_sql_failed(s);
    sqlite3_bind_blob(st, 1, group, 16, SQLITE_TRANSIENT);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct ww_member_info m;
        uint8_t devices[WW_CACHE_DEVICES][WW_KEY_LEN];
        memset(&m, 0, sizeof m);
        memcpy(m.id, sqlite3_column_blob(st, 0), 16);
        m.role = sqlite3_column_int(st, 1);
        m.alias = (const char *)sqlite3_column_text(st, 2);
        m.year = sqlite3_column_int(st, 3);
        m.track = sqlite3_column_int(st, 4);
        m.active = sqlite3_column_type(st, 5) == SQLITE_NULL;
        for (size_t i = 0; i < s->cache->n_devices; i++)
            if (!memcmp(s->cache->devices[i].member, m.id, 16) &&
                (m.active ? is_active(&s->cache->devices[i]) : 1))
                memcpy(devices[m.n_devices++], s->cache->devices[i].device, 32);
        m.devices = (const uint8_t(*)[WW_KEY_LEN])devices;
        cb(ud, &m);
    }
    sqlite3_reset(st);
    return step == SQLITE_DONE ? 0 : ww_db_err(s, step);
}
