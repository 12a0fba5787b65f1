/*
 * lost.c - this device's own events on a losing branch.
 *
 * A device restored from a backup, or a copy of its data folder, writes at seqs its peers
 * hold other events of it for: its log forks, and once the branches meet every replica
 * keeps the one with the lower hash (apply.c, take_over). What this device wrote on the
 * other branch would then be gone from the group; so apply.c collects, per batch, the
 * events of ours that lose (held ones that give way, arriving ones recorded as forks, and
 * the ones that follow them), and they are written again as new events at the end of the
 * batch (ww_lost_rewrite, PROTOCOL.md 6.16 step 3).
 */
#include <string.h>

#include "alloc.h"
#include "keyring.h"
#include "log.h"
#include "lost.h"
#include "pending.h"
#include "store.h"

#define WW_MAX_LOST 256 /* lost events a batch writes again; more are only counted */

struct ww_lost {
    size_t n, more;
    uint8_t *raw[WW_MAX_LOST];
    size_t len[WW_MAX_LOST];
    uint8_t hash[WW_MAX_LOST][32];
};

int ww_lost_has(const struct ww_lost *l, const uint8_t hash[32])
{
    for (size_t i = 0; l && i < l->n; i++)
        if (!memcmp(l->hash[i], hash, 32))
            return 1;
    return 0;
}

int ww_lost_add(struct ww_lost **lp, const uint8_t *raw, size_t len, const uint8_t hash[32])
{
    if (ww_lost_has(*lp, hash))
        return 0;
    if (!*lp && !(*lp = ww_calloc(1, sizeof **lp)))
        return WW_ENOMEM;
    struct ww_lost *l = *lp;
    if (l->n == WW_MAX_LOST) {
        l->more++;
        return 0;
    }
    if (!(l->raw[l->n] = ww_malloc(len ? len : 1)))
        return WW_ENOMEM;
    memcpy(l->raw[l->n], raw, len);
    l->len[l->n] = len;
    memcpy(l->hash[l->n++], hash, 32);
    return 0;
}

size_t ww_lost_count(const struct ww_lost *l)
{
    return l ? l->n : 0;
}

void ww_lost_trim(struct ww_lost *l, size_t n)
{
    while (l && l->n > n)
        ww_free(l->raw[--l->n]);
}

void ww_lost_free(struct ww_lost *l)
{
    ww_lost_trim(l, 0);
    ww_free(l);
}

/* Whether a newer event of ours already says what a lost one said: one of the same kind,
 * audience, subject and ref with a later hlc that is the same record (a kind with a ref
 * names its record by it: the newer write wins anyway), or carries the same body (the
 * lost event written again already, by an earlier batch that brought the same fork). */
struct newer {
    struct ww_store *s;
    const struct ww_envelope *lost;
    const struct ww_buf *pt;
    struct ww_buf mine;
};

static int newer_cb(void *ud, const uint8_t *raw, size_t len)
{
    struct newer *nw = ud;
    const struct ww_header *x = &nw->lost->h;
    struct ww_envelope env;
    if (ww_envelope_decode(raw, len, &env) != 0 || env.h.audience != x->audience ||
        memcmp(env.h.subject, x->subject, 16) != 0 || env.h.ref_len != x->ref_len ||
        memcmp(env.h.ref, x->ref, x->ref_len) != 0)
        return 0;
    if (x->ref_len)
        return 1;
    return !env.erased && ww_keyring_open(nw->s, &env, &nw->mine) == 0 &&
           nw->mine.len == nw->pt->len && !memcmp(nw->mine.p, nw->pt->p, nw->pt->len);
}

/* Writes one lost event of ours again: 1 when written, 0 when it is not (see below), or a
 * failure of the store. */
static int rewrite_one(struct ww_store *s, const uint8_t *raw, size_t len, struct ww_buf *pt)
{
    struct ww_envelope env;
    struct ww_body body;
    int rc;
    if (ww_envelope_decode(raw, len, &env) != 0)
        return 0;
    if ((rc = ww_cache_load(s, env.h.group)) != 0)
        return rc;
    /* The control plane (members, devices, keys, invites, the hub, erasures: every PLAIN
     * kind) is a decision taken against the group as it stood on the losing branch: it is
     * not taken again behind the user's back; the fork stays on record (the forks table).
     * A body this device cannot read (climate answers, sealed for the aggregator) or that
     * was erased cannot be written again. */
    if (env.h.audience == WW_AUD_PLAIN || env.erased || ww_keyring_open(s, &env, pt) != 0 ||
        ww_body_decode(env.h.kind, pt->p, pt->len, &body) != 0)
        return 0;
    struct newer nw = {s, &env, pt, {0}};
    ww_buf_init(&nw.mine, WW_MAX_BODY);
    rc = ww_log_newer(s, env.h.group, s->pk, env.h.kind, env.h.hlc, newer_cb, &nw);
    ww_buf_free(&nw.mine);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    struct ww_emit e = {env.h.kind, env.h.audience, env.h.subject, env.h.ref, env.h.ref_len, &body};
    rc = ww_emit(s, env.h.group, &e, NULL);
    if (rc != 0)
        return ww_store_failure(rc) ? rc : 0; /* e.g. no longer a member: it stays lost */
    return 1;
}

int ww_lost_rewrite(struct ww_store *s, struct ww_lost *l, struct ww_apply_result *res)
{
    struct ww_buf pt;
    ww_buf_init(&pt, WW_MAX_BODY);
    int rc = 0;
    res->own_lost = l->n + l->more;
    /* Lost events that wait (they follow one that lost) never apply: gone before ours are
     * written at their seqs. */
    for (size_t i = 0; rc == 0 && i < l->n; i++) {
        struct ww_envelope env;
        if (ww_envelope_decode(l->raw[i], l->len[i], &env) == 0)
            rc = ww_pending_drop(s, &env.h, l->raw[i], l->len[i]);
    }
    for (size_t i = 0; rc >= 0 && i < l->n; i++)
        if ((rc = rewrite_one(s, l->raw[i], l->len[i], &pt)) > 0)
            res->rewritten++;
    ww_buf_free(&pt);
    return rc < 0 ? rc : 0;
}
