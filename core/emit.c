/*
 * emit.c - authoring: this device seals an event and applies it through apply.c, the
 * same path a peer's events take, so every rule is enforced by one piece of code.
 *
 * Invariant: an event is appended only inside a transaction, at seq = the device's head
 * + 1 with prev = the head's hash, and an HLC above everything this device has seen.
 */
#include <sodium.h>
#include <string.h>

#include "alloc.h"
#include "apply.h"
#include "kind.h"
#include "log.h"
#include "seal.h"
#include "store.h"

int ww_seal(struct ww_store *s, const uint8_t gid[WW_GROUP_ID_LEN], const struct ww_emit *e,
            const uint8_t *pt, size_t ptlen, struct ww_buf *out, uint8_t hash_out[32])
{
    int rc = ww_cache_load(s, gid);
    if (rc != 0)
        return rc;
    if (!ww_cache_cur(s)->exists && e->kind != WW_KIND_GROUP_CREATE)
        return WW_EGROUP;

    struct ww_envelope env;
    memset(&env, 0, sizeof env);
    struct ww_header *h = &env.h;
    h->version = WW_PROTO_VERSION;
    memcpy(h->group, gid, 16);
    memcpy(h->author, s->pk, 32);
    h->kind = e->kind;
    h->audience = e->audience;
    h->epoch = ww_cache_cur(s)->exists ? ww_cache_cur(s)->epoch : 0;
    if (e->subject)
        memcpy(h->subject, e->subject, 16);
    if (e->ref_len > WW_REF_MAX)
        return WW_EINVAL;
    if (e->ref_len)
        memcpy(h->ref, e->ref, e->ref_len);
    h->ref_len = (uint8_t)e->ref_len;

    struct ww_log_head head;
    if ((rc = ww_log_head(s, gid, s->pk, &head)) != 0)
        return rc;
    h->seq = head.seq + 1;
    if (head.seq)
        memcpy(h->prev, head.hash, 32);
    ww_hlc_observe(s, head.hlc);
    h->hlc = ww_hlc_next(s);

    const uint8_t *key = NULL;
    if (e->audience == WW_AUD_GROUP || e->audience == WW_AUD_PAIR || e->audience == WW_AUD_SELF) {
        key = ww_cache_key(s, e->audience, h->subject, h->epoch);
        if (!key)
            return WW_ENOKEY;
    }
    uint8_t agg_pk[32];
    int has_agg = ww_cache_cur(s)->has_agg;
    if (has_agg)
        memcpy(agg_pk, ww_cache_cur(s)->agg_pk, 32);
    if (e->audience == WW_AUD_AGG && !has_agg)
        return WW_ENOKEY;

    struct ww_buf hb, ct;
    ww_buf_init(&hb, 4096);
    ww_buf_init(&ct, WW_MAX_BODY);
    if ((rc = ww_header_encode(h, &hb)) != 0)
        goto done;
    struct ww_slice hs = {hb.p, hb.len};
    uint8_t rnd[WW_SEAL_RANDOM];
    ww_store_random(s, rnd, sizeof rnd);
    rc = ww_body_seal(rnd, &hs, e->audience, key, has_agg ? agg_pk : NULL, pt, ptlen, &ct);
    sodium_memzero(rnd, sizeof rnd);
    if (rc != 0)
        goto done;
    ww_ct_hash(ct.p, ct.len, env.ct_hash);
    if ((rc = ww_event_sign(s->sk, &hs, env.ct_hash, env.sig)) != 0)
        goto done;
    env.body.p = ct.p;
    env.body.len = ct.len;
    ww_buf_reset(out);
    if ((rc = ww_envelope_encode(&env, out)) != 0)
        goto done;
    if (hash_out)
        ww_event_hash(&hs, env.ct_hash, env.sig, hash_out);
done:
    ww_buf_free(&hb);
    ww_buf_free(&ct);
    return rc;
}

int ww_emit(struct ww_store *s, const uint8_t gid[WW_GROUP_ID_LEN], const struct ww_emit *e,
            uint8_t hash_out[32])
{
    if (e->kind != WW_KIND_GROUP_CREATE) {
        /* Say plainly why a device that left the group cannot write to it. */
        int rc = ww_cache_load(s, gid);
        if (rc != 0)
            return rc;
        const struct ww_devinfo *me = ww_cache_me(s);
        if (ww_cache_cur(s)->exists && e->kind != WW_KIND_OWNER_RECOVER &&
            (!me || me->removed_epoch <= ww_cache_cur(s)->epoch || me->cutoff != UINT64_MAX))
            return WW_ENOTMEMBER;
        /* A peer's control event from a coach device that is not the owner waits for a
         * handover (apply.c); this device's own is simply not its to write. */
        const struct ww_kind_rule *k = ww_kind_rule(e->kind);
        if (k && k->owner_only && ww_cache_cur(s)->exists &&
            memcmp(ww_cache_cur(s)->owner, s->pk, 32) != 0)
            return WW_EROLE;
    }
    struct ww_buf pt, out;
    ww_buf_init(&pt, WW_MAX_BODY);
    ww_buf_init(&out, WW_MAX_EVENT);
    int rc = ww_body_encode(e->body, &pt);
    if (rc == 0)
        rc = ww_seal(s, gid, e, pt.p, pt.len, &out, hash_out);
    if (rc == 0) {
        const uint8_t *raw = out.p;
        size_t len = out.len;
        struct ww_apply_result res;
        size_t mine = 0;
        rc = ww_apply_batch(s, &raw, &len, 1, &res, &mine, NULL, NULL);
        /* An event of ours that would wait asks for what only another device (the owner)
         * may do. */
        if (rc == 0 && mine != 1)
            rc = res.first_error ? res.first_error : res.deferred ? WW_EROLE : WW_ESTATE;
    }
    ww_buf_free(&pt);
    ww_buf_free(&out);
    return rc;
}

int ww_emit_tx(struct ww_store *s, const uint8_t gid[WW_GROUP_ID_LEN], const struct ww_emit *e,
               uint8_t hash_out[32])
{
    uint8_t hash[32];
    int rc = ww_db_begin(s);
    if (rc != 0)
        return rc;
    if ((rc = ww_emit(s, gid, e, hash)) != 0) {
        ww_db_rollback(s);
        return rc;
    }
    /* The hash goes out only once the event is committed. */
    if ((rc = ww_db_commit(s)) == 0 && hash_out)
        memcpy(hash_out, hash, sizeof hash);
    return rc;
}
