/*
 * keyring.c - key intake and body opening (keyring.h).
 */
#include <sodium.h>
#include <string.h>

#include "keyring.h"
#include "seal.h"
#include "store.h"

int ww_keyring_recipient_put(struct ww_store *s, const uint8_t gid[16], const uint8_t member[16],
                             uint32_t epoch, const uint8_t key[32], const uint8_t device[32])
{
    sqlite3_stmt *st = ww_sql(s, "INSERT OR IGNORE INTO key_recipients(gid, subject, epoch, key, "
                                 "device) VALUES(?1,?2,?3,?4,?5)");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, gid, 16);
    ww_bind_blob(st, 2, member, 16);
    sqlite3_bind_int64(st, 3, epoch);
    ww_bind_blob(st, 4, key, 32);
    ww_bind_blob(st, 5, device, 32);
    return ww_sql_done(s, st);
}

static int key_put(struct ww_store *s, const uint8_t *gid, const struct ww_wrap *w, uint32_t epoch,
                   const uint8_t key[32])
{
    sqlite3_stmt *st = ww_sql(s, "INSERT OR IGNORE INTO keys(gid, audience, subject, epoch, key) "
                                 "VALUES(?1,?2,?3,?4,?5)");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, gid, 16);
    sqlite3_bind_int(st, 2, w->audience);
    ww_bind_blob(st, 3, w->subject, 16);
    sqlite3_bind_int64(st, 4, epoch);
    ww_bind_blob(st, 5, key, 32);
    return ww_sql_done(s, st);
}

int ww_keyring_take(struct ww_store *s, struct ww_event *ev, const struct ww_body_keys *k)
{
    const uint8_t *gid = ev->env->h.group;
    for (uint32_t i = 0; i < k->n_wraps; i++) {
        const struct ww_wrap *w = &k->wraps[i];
        if (memcmp(w->device, s->pk, 32) != 0)
            continue;
        uint8_t key[32];
        if (ww_unwrap_key(s->curve_pk, s->curve_sk, w->sealed, key) != 0)
            continue; /* not sealed for us after all: nothing to learn */
        int rc = key_put(s, gid, w, k->epoch, key);
        if (rc == 0 && w->audience == WW_AUD_SELF) {
            /* Everyone this key.share wrapped the key for holds it now. */
            for (uint32_t j = 0; j < k->n_wraps && rc == 0; j++)
                if (k->wraps[j].audience == WW_AUD_SELF &&
                    !memcmp(k->wraps[j].subject, w->subject, 16))
                    rc = ww_keyring_recipient_put(s, gid, w->subject, k->epoch, key,
                                                  k->wraps[j].device);
        }
        sodium_memzero(key, sizeof key);
        if (rc != 0)
            return rc;
        ww_cache_invalidate(s);
        ev->control = 1;
        if (ev->n_learned < WW_MAX_WRAPS) {
            struct ww_key_learned *l = &ev->learned[ev->n_learned++];
            l->audience = w->audience;
            memcpy(l->subject, w->subject, 16);
            l->epoch = k->epoch;
        }
    }
    return 0;
}

int ww_keyring_open(struct ww_store *s, const struct ww_envelope *env, struct ww_buf *pt)
{
    const struct ww_group_cache *g = ww_cache_cur(s);
    if (env->h.audience == WW_AUD_AGG) {
        if (!s->agg_sk || !g->has_agg || memcmp(g->agg_pk, s->agg_pk, 32) != 0)
            return WW_ENOKEY;
        return ww_body_open(env, NULL, s->agg_sk, s->agg_pk, pt);
    }
    /* Every key held for (audience, subject, epoch) is tried: two devices of one member may
     * each have made a SELF key for the same epoch. */
    int rc = WW_ENOKEY;
    const uint8_t *key;
    for (size_t n = 0;
         rc != 0 && (key = ww_cache_key_nth(s, env->h.audience, env->h.subject, env->h.epoch, n));
         n++)
        rc = ww_body_open(env, key, NULL, NULL, pt);
    return rc;
}
