/*
 * invite.c - joining by invite: the invite.create and invite.revoke kinds, the invite rules
 * of member.add, the invite code, and redemptions (docs/PROTOCOL.md 6.20, 6.21, 9.9).
 *
 * An invite is a key pair derived from a 16-byte secret. The owner publishes the public
 * key in invite.create (PLAIN, so the hub can check redemptions) and gives the secret to
 * one new student in a code. The student's device proves it knows the secret by signing
 * its redemption with the invite key; the owner's device admits it by a member.add that
 * names the invite. Every replica checks that member.add against the group's invites, so
 * an invite is used at most once and never past its expiry, whatever any hub does.
 *
 * Device invites (device.invite, device.join) work the same way for another device of a
 * member: the member's own device publishes the invite, with a proof made with the secret,
 * and the owner's device admits the device that redeemed it.
 *
 * Invariants: the invites table is derived from the owner's log alone (in its seq order,
 * like members); device_invites from the members' logs, each key bound by its proof to one
 * member; the redemptions table is a hub's own record (and, on the owner's device, the
 * redemptions it holds until their invite arrives), not derived from events, and holds a
 * redemption only until the member.add or device.join that admits it is applied.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "invite.h"
#include "seal.h"
#include "store.h"

#define CODE_VERSION 1 /* an invite for a new member */
#define CODE_DEVICE  2 /* a device invite: another device of the inviting member */
#define CODE_PAYLOAD (1 + WW_INVITE_SECRET_LEN + WW_HUB_FP_LEN) /* version, secret, fp */
#define CODE_CHECK   3                                          /* checksum bytes */
#define CODE_BYTES   (CODE_PAYLOAD + CODE_CHECK)                /* 30 bytes: 48 letters */
#define CODE_LETTERS (CODE_BYTES * 8 / 5)
#define ROLE_CAP(r)  ((r) == WW_ROLE_STUDENT ? 4 : 1)
#define HLC_MS(hlc)  ((int64_t)((hlc) >> 16))

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/* ---- Keys and fingerprints ------------------------------------------------------------- */

/* The invite's key pair, derived from its secret (the caller wipes sk). */
static void invite_keypair(const uint8_t secret[WW_INVITE_SECRET_LEN], uint8_t pk[32],
                           uint8_t sk[64])
{
    uint8_t seed[32];
    ww_hash_domain("wegwijs/invite/v1", secret, WW_INVITE_SECRET_LEN, NULL, 0, NULL, 0, seed, 32);
    crypto_sign_seed_keypair(pk, sk, seed);
    sodium_memzero(seed, sizeof seed);
}

void ww_invite_key(const uint8_t secret[WW_INVITE_SECRET_LEN], uint8_t invite[WW_KEY_LEN])
{
    uint8_t sk[64];
    invite_keypair(secret, invite, sk);
    sodium_memzero(sk, sizeof sk);
}

/* What a device.invite's proof signs: the group and the member the invite is for. */
static void device_invite_digest(const uint8_t *gid, const uint8_t *member, uint8_t out[32])
{
    ww_hash_domain("wegwijs/device-invite/v1", gid, 16, member, 16, NULL, 0, out, 32);
}

void ww_hub_fingerprint(const uint8_t hub[WW_KEY_LEN], uint8_t fp[WW_HUB_FP_LEN])
{
    ww_hash_domain("wegwijs/hub-fp/v1", hub, WW_KEY_LEN, NULL, 0, NULL, 0, fp, WW_HUB_FP_LEN);
}

/* ---- The code ------------------------------------------------------------------------ */

/* The last c in the first len bytes of a, or NULL. */
static const char *last_of(const char *a, size_t len, char c)
{
    while (len-- > 0)
        if (a[len] == c)
            return a + len;
    return NULL;
}

/* A hub address as group.hub allows it, with a port: "host:port". */
static int addr_ok(const char *a, size_t len)
{
    struct ww_body_group_hub hb;
    memset(&hb, 0, sizeof hb);
    hb.addr.p = (const uint8_t *)a;
    hb.addr.len = len;
    struct ww_body b = {.kind = WW_KIND_GROUP_HUB};
    b.u.group_hub = hb;
    struct ww_buf tmp;
    ww_buf_init(&tmp, WW_MAX_BODY);
    int rc = len ? ww_body_encode(&b, &tmp) : WW_EINVAL;
    ww_buf_free(&tmp);
    const char *colon = last_of(a, len, ':');
    if (rc != 0 || !colon || colon == a)
        return 0;
    size_t digits = len - (size_t)(colon + 1 - a);
    unsigned port = 0;
    for (size_t i = 0; i < digits; i++) {
        char ch = colon[1 + i];
        if (ch < '0' || ch > '9')
            return 0;
        port = port * 10 + (unsigned)(ch - '0');
    }
    return digits >= 1 && digits <= 5 && port >= 1 && port <= 65535;
}

static void code_check(const char *addr, size_t len, const uint8_t *payload, uint8_t out[3])
{
    ww_hash_domain("wegwijs/invite-code/v1", (const uint8_t *)addr, len, payload, CODE_PAYLOAD,
                   NULL, 0, out, CODE_CHECK);
}

int ww_invite_code_format(const struct ww_invite_code *c, char *out, size_t cap)
{
    size_t alen = c ? strnlen(c->addr, sizeof c->addr) : 0;
    if (!c || !out || alen == sizeof c->addr || !addr_ok(c->addr, alen))
        return WW_EINVAL;
    uint8_t raw[CODE_BYTES];
    raw[0] = c->device ? CODE_DEVICE : CODE_VERSION;
    memcpy(raw + 1, c->secret, WW_INVITE_SECRET_LEN);
    memcpy(raw + 1 + WW_INVITE_SECRET_LEN, c->hub_fp, WW_HUB_FP_LEN);
    code_check(c->addr, alen, raw, raw + CODE_PAYLOAD);
    size_t need = alen + 1 + CODE_LETTERS + CODE_LETTERS / 4 - 1 + 1;
    if (cap < need)
        return WW_ETOOBIG;
    memcpy(out, c->addr, alen);
    size_t at = alen;
    out[at++] = '/';
    for (size_t i = 0; i < CODE_LETTERS; i++) {
        size_t bit = i * 5;
        unsigned v =
            (unsigned)raw[bit / 8] << 8 | (bit / 8 + 1 < CODE_BYTES ? raw[bit / 8 + 1] : 0);
        if (i && i % 4 == 0)
            out[at++] = '-';
        out[at++] = b32[(v >> (11 - bit % 8)) & 31];
    }
    out[at] = '\0';
    sodium_memzero(raw, sizeof raw);
    return 0;
}

int ww_invite_code_parse(const char *text, struct ww_invite_code *out)
{
    if (!text || !out)
        return WW_EINVAL;
    size_t len = strnlen(text, WW_INVITE_CODE_MAX);
    const char *slash = last_of(text, len, '/');
    if (len == WW_INVITE_CODE_MAX || !slash || (size_t)(slash - text) >= sizeof out->addr ||
        !addr_ok(text, (size_t)(slash - text)))
        return WW_EBADCODE;
    uint8_t raw[CODE_BYTES];
    memset(raw, 0, sizeof raw);
    size_t n = 0;
    for (const char *p = slash + 1; *p; p++) {
        if (*p == '-')
            continue;
        char ch = *p >= 'a' && *p <= 'z' ? (char)(*p - 'a' + 'A') : *p;
        const char *at = ch ? strchr(b32, ch) : NULL;
        if (!at || n == CODE_LETTERS)
            return WW_EBADCODE;
        unsigned v = (unsigned)(at - b32);
        size_t bit = n * 5;
        unsigned shifted = v << (11 - bit % 8);
        raw[bit / 8] |= (uint8_t)(shifted >> 8);
        if (bit / 8 + 1 < CODE_BYTES)
            raw[bit / 8 + 1] |= (uint8_t)shifted;
        n++;
    }
    if (n != CODE_LETTERS)
        return WW_EBADCODE;
    struct ww_invite_code c;
    memset(&c, 0, sizeof c);
    memcpy(c.addr, text, (size_t)(slash - text));
    uint8_t check[CODE_CHECK];
    code_check(c.addr, strlen(c.addr), raw, check);
    int rc = 0;
    if (sodium_memcmp(check, raw + CODE_PAYLOAD, CODE_CHECK) != 0)
        rc = WW_EBADCODE;
    else if (raw[0] != CODE_VERSION && raw[0] != CODE_DEVICE)
        rc = WW_EVERSION;
    if (rc == 0) {
        c.device = raw[0] == CODE_DEVICE;
        memcpy(c.secret, raw + 1, WW_INVITE_SECRET_LEN);
        memcpy(c.hub_fp, raw + 1 + WW_INVITE_SECRET_LEN, WW_HUB_FP_LEN);
        *out = c;
    }
    sodium_memzero(raw, sizeof raw);
    sodium_memzero(&c, sizeof c);
    return rc;
}

/* ---- invite.create and invite.revoke ------------------------------------------------- */

/* Active members of a role and its invites still open at ms: the places the role holds. */
int ww_invite_places(struct ww_store *s, const uint8_t *gid, int role, int64_t ms, int *held,
                     int *open)
{
    sqlite3_stmt *st =
        ww_sql(s, "SELECT (SELECT count(*) FROM members WHERE gid=?1 AND role=?2 AND "
                  "removed_epoch IS NULL), (SELECT count(*) FROM invites WHERE gid=?1 AND "
                  "role=?2 AND used_member IS NULL AND revoked_hlc IS NULL AND expires_ms > ?3)");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, gid, 16);
    sqlite3_bind_int(st, 2, role);
    sqlite3_bind_int64(st, 3, ms);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *open = sqlite3_column_int(st, 1);
        *held = sqlite3_column_int(st, 0) + *open;
    }
    sqlite3_reset(st);
    return step == SQLITE_ROW ? 0 : ww_db_err(s, step);
}

struct invite_row {
    int found, role, revoked, used;
    int64_t expires_ms;
    int device;                       /* a device invite (role 0) */
    uint8_t member[WW_MEMBER_ID_LEN]; /* a device invite: the member it adds a device to */
};

/* A device invite of the group (a member's, from its log). */
static int device_invite_get(struct ww_store *s, const uint8_t *gid, const uint8_t *invite,
                             struct invite_row *out)
{
    sqlite3_stmt *st = ww_sql(s, "SELECT member, expires_ms, used_device IS NOT NULL FROM "
                                 "device_invites WHERE gid=?1 AND invite=?2");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, gid, 16);
    ww_bind_blob(st, 2, invite, 32);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 16) {
        memcpy(out->member, sqlite3_column_blob(st, 0), 16);
        out->expires_ms = sqlite3_column_int64(st, 1);
        out->used = sqlite3_column_int(st, 2);
        out->found = out->device = 1;
    }
    sqlite3_reset(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? 0 : ww_db_err(s, step);
}

/* An invite of the owner's log (invite.create): what member.add and invite.revoke look at,
 * so that their outcome depends on the owner's log alone. */
static int invite_get(struct ww_store *s, const uint8_t *gid, const uint8_t *invite,
                      struct invite_row *out)
{
    sqlite3_stmt *st = ww_sql(s, "SELECT role, expires_ms, revoked_hlc IS NOT NULL, used_member "
                                 "IS NOT NULL FROM invites WHERE gid=?1 AND invite=?2");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, gid, 16);
    ww_bind_blob(st, 2, invite, 32);
    memset(out, 0, sizeof *out);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        out->found = 1;
        out->role = sqlite3_column_int(st, 0);
        out->expires_ms = sqlite3_column_int64(st, 1);
        out->revoked = sqlite3_column_int(st, 2);
        out->used = sqlite3_column_int(st, 3);
    }
    sqlite3_reset(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? 0 : ww_db_err(s, step);
}

/* An invite of either kind, for a redemption (which names no kind). */
static int any_invite_get(struct ww_store *s, const uint8_t *gid, const uint8_t *invite,
                          struct invite_row *out)
{
    int rc = invite_get(s, gid, invite, out);
    return rc == 0 && !out->found ? device_invite_get(s, gid, invite, out) : rc;
}

/* Whether an invite can still be used at ms: 0, or why not. */
static int invite_usable(const struct invite_row *r, int64_t ms)
{
    if (!r->found)
        return WW_ENOTFOUND;
    if (r->used)
        return WW_EUSED;
    if (r->revoked)
        return WW_EREVOKED;
    return ms < r->expires_ms ? 0 : WW_EEXPIRED;
}

/* A new invite key, and a place for its role within the cap at the event's time. */
static int check_invite_create(struct ww_store *s, const struct ww_event *ev)
{
    const struct ww_body_invite_create *b = &ev->body->u.invite_create;
    struct invite_row row;
    int held = 0, open = 0, rc = invite_get(s, ev->env->h.group, b->invite, &row);
    if (rc == 0 && row.found)
        rc = WW_EEXIST;
    if (rc == 0)
        rc = ww_invite_places(s, ev->env->h.group, b->role, HLC_MS(ev->env->h.hlc), &held, &open);
    if (rc == 0 && held + 1 > WW_ROLE_CAP(b->role))
        rc = b->role == WW_ROLE_STUDENT ? WW_ESTUDENTCAP : WW_ESENIORCAP;
    return rc;
}

static int apply_invite_create(struct ww_store *s, struct ww_event *ev)
{
    const struct ww_body_invite_create *b = &ev->body->u.invite_create;
    sqlite3_stmt *st = ww_sql(s, "INSERT INTO invites(gid, invite, role, expires_ms, hlc) "
                                 "VALUES(?1,?2,?3,?4,?5)");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, ev->env->h.group, 16);
    ww_bind_blob(st, 2, b->invite, 32);
    sqlite3_bind_int(st, 3, b->role);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)b->expires_ms);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)ev->env->h.hlc);
    return ww_sql_done(s, st);
}

const struct ww_kind_rule ww_kind_invite_create = {
    .roles = WW_ROLE_BIT(WW_ROLE_COACH),
    .audiences = WW_AUD_BIT(WW_AUD_PLAIN),
    .owner_only = 1,
    .check = check_invite_create,
    .apply = apply_invite_create,
};

/* An invite that is used or revoked: the hub's record of its redemption, and the owner
 * device's copy of its secret, are of no use any more. */
static int drop_redemption(struct ww_store *s, const uint8_t *gid, const uint8_t *invite)
{
    static const char *const sql[] = {"DELETE FROM redemptions WHERE gid=?1 AND invite=?2",
                                      "DELETE FROM invite_secrets WHERE gid=?1 AND invite=?2"};
    int rc = 0;
    for (size_t i = 0; i < 2 && rc == 0; i++) {
        sqlite3_stmt *st = ww_sql(s, sql[i]);
        if (!st)
            return ww_sql_failed(s);
        ww_bind_blob(st, 1, gid, 16);
        ww_bind_blob(st, 2, invite, 32);
        rc = ww_sql_done(s, st);
    }
    return rc;
}

/* Only an invite that is still unused and not revoked yet. */
static int check_invite_revoke(struct ww_store *s, const struct ww_event *ev)
{
    struct invite_row row;
    int rc = invite_get(s, ev->env->h.group, ev->body->u.invite_revoke.invite, &row);
    if (rc == 0 && !row.found)
        rc = WW_ENOTFOUND;
    if (rc == 0 && row.used)
        rc = WW_EUSED;
    if (rc == 0 && row.revoked)
        rc = WW_EREVOKED;
    return rc;
}

static int apply_invite_revoke(struct ww_store *s, struct ww_event *ev)
{
    sqlite3_stmt *st = ww_sql(s, "UPDATE invites SET revoked_hlc=?3 WHERE gid=?1 AND invite=?2");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, ev->env->h.group, 16);
    ww_bind_blob(st, 2, ev->body->u.invite_revoke.invite, 32);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)ev->env->h.hlc);
    int rc = ww_sql_done(s, st);
    if (rc != 0)
        return rc;
    return drop_redemption(s, ev->env->h.group, ev->body->u.invite_revoke.invite);
}

const struct ww_kind_rule ww_kind_invite_revoke = {
    .roles = WW_ROLE_BIT(WW_ROLE_COACH),
    .audiences = WW_AUD_BIT(WW_AUD_PLAIN),
    .owner_only = 1,
    .check = check_invite_revoke,
    .apply = apply_invite_revoke,
};

/* ---- device.invite and device.join ---------------------------------------------------- */

/* Only a device its member vouched for speaks for the member. */
/* From a device its member vouched for (else it waits: the vouching device.add may come
 * from another log), with the invite key's proof for the group and the author's member, so
 * that nobody who lacks the secret can publish its key, and the key speaks for one member. */
static int check_device_invite(struct ww_store *s, const struct ww_event *ev)
{
    (void)s;
    const struct ww_body_device_invite *b = &ev->body->u.device_invite;
    uint8_t digest[32];
    device_invite_digest(ev->env->h.group, ev->author->member, digest);
    if (crypto_sign_verify_detached(b->proof, digest, sizeof digest, b->invite) != 0)
        return WW_EBADSIG;
    return ev->author->vouched ? 0 : WW_ENOTMEMBER;
}

/* Keyed by the invite: its proof ties it to one member. The same key published twice (by
 * two devices of that member) keeps the earliest expiry, whatever the order. */
static int apply_device_invite(struct ww_store *s, struct ww_event *ev)
{
    const struct ww_body_device_invite *b = &ev->body->u.device_invite;
    ev->control = 1; /* a device.join waiting for it may apply now */
    sqlite3_stmt *st =
        ww_sql(s, "INSERT INTO device_invites(gid, invite, member, expires_ms, hlc) "
                  "VALUES(?1,?2,?3,?4,?5) ON CONFLICT(gid, invite) DO UPDATE SET "
                  "expires_ms=min(expires_ms, excluded.expires_ms), hlc=min(hlc, excluded.hlc)");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, ev->env->h.group, 16);
    ww_bind_blob(st, 2, b->invite, 32);
    ww_bind_blob(st, 3, ev->author->member, 16);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)b->expires_ms);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)ev->env->h.hlc);
    return ww_sql_done(s, st);
}

const struct ww_kind_rule ww_kind_device_invite = {
    .roles = WW_ANY_ROLE,
    .audiences = WW_AUD_BIT(WW_AUD_PLAIN),
    .check = check_device_invite,
    .apply = apply_device_invite,
};

int ww_device_invite_check_join(struct ww_store *s, const struct ww_event *ev)
{
    const struct ww_body_device_join *j = &ev->body->u.device_join;
    sqlite3_stmt *st = ww_sql(s, "SELECT expires_ms, used_device FROM device_invites WHERE "
                                 "gid=?1 AND invite=?2 AND member=?3");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, ev->env->h.group, 16);
    ww_bind_blob(st, 2, j->invite, 32);
    ww_bind_blob(st, 3, j->member, 16);
    int step = sqlite3_step(st);
    int64_t expires = step == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    int used = step == SQLITE_ROW && sqlite3_column_type(st, 1) != SQLITE_NULL;
    sqlite3_reset(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return ww_db_err(s, step);
    /* The invite is in its member's log, which may come after the owner's: wait for it. */
    if (step == SQLITE_DONE)
        return WW_ENOTMEMBER;
    if (used)
        return WW_EUSED;
    if (HLC_MS(ev->env->h.hlc) >= expires)
        return WW_EEXPIRED;
    struct ww_redemption r;
    memset(&r, 0, sizeof r);
    memcpy(r.invite, j->invite, 32);
    memcpy(r.device, j->device, 32);
    memcpy(r.sig, j->sig, sizeof r.sig);
    return ww_redemption_verify(&r);
}

int ww_device_invite_mark_used(struct ww_store *s, const struct ww_event *ev)
{
    const struct ww_body_device_join *j = &ev->body->u.device_join;
    sqlite3_stmt *st = ww_sql(s, "UPDATE device_invites SET used_device=?4 WHERE gid=?1 AND "
                                 "invite=?2 AND member=?3");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, ev->env->h.group, 16);
    ww_bind_blob(st, 2, j->invite, 32);
    ww_bind_blob(st, 3, j->member, 16);
    ww_bind_blob(st, 4, j->device, 32);
    int rc = ww_sql_done(s, st);
    if (rc != 0)
        return rc;
    return drop_redemption(s, ev->env->h.group, j->invite);
}

/* ---- member.add with an invite ------------------------------------------------------- */

int ww_invite_check_use(struct ww_store *s, const struct ww_event *ev)
{
    const struct ww_body_member_add *m = &ev->body->u.member_add;
    struct invite_row row;
    int rc = invite_get(s, ev->env->h.group, m->invite, &row);
    if (rc == 0 && row.found && (row.device || row.role != m->role))
        rc = WW_EROLE;
    return rc ? rc : invite_usable(&row, HLC_MS(ev->env->h.hlc));
}

int ww_invite_mark_used(struct ww_store *s, const struct ww_event *ev)
{
    const struct ww_body_member_add *m = &ev->body->u.member_add;
    sqlite3_stmt *st = ww_sql(s, "UPDATE invites SET used_member=?3 WHERE gid=?1 AND invite=?2");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, ev->env->h.group, 16);
    ww_bind_blob(st, 2, m->invite, 32);
    ww_bind_blob(st, 3, m->member, 16);
    int rc = ww_sql_done(s, st);
    if (rc != 0)
        return rc;
    return drop_redemption(s, ev->env->h.group, m->invite);
}

/* ---- The owner's API ----------------------------------------------------------------- */

struct hub_seen {
    int has;
    uint8_t hub[32];
    char addr[256];
    uint8_t me[16]; /* this device's member */
};

static void hub_cb(void *ud, const struct ww_group_info *g)
{
    struct hub_seen *h = ud;
    memcpy(h->me, g->my_member, 16);
    h->has = g->has_hub && g->hub_addr && *g->hub_addr;
    if (h->has) {
        memcpy(h->hub, g->hub, 32);
        snprintf(h->addr, sizeof h->addr, "%s", g->hub_addr);
    }
}

struct publish_args {
    const uint8_t *gid;
    const struct ww_body *body;
    const uint8_t *key, *secret; /* secret: NULL for a device invite */
};

/* The event that publishes an invite and, for a member's invite, the owner device's own
 * copy of its secret, which opens the profile a redemption seals to the invite's key. */
static int publish(struct ww_store *s, void *ud)
{
    const struct publish_args *a = ud;
    struct ww_emit e = {.kind = a->body->kind, .audience = WW_AUD_PLAIN, .body = a->body};
    int rc = ww_emit(s, a->gid, &e, NULL);
    if (rc != 0 || !a->secret)
        return rc;
    sqlite3_stmt *st =
        ww_sql(s, "INSERT INTO invite_secrets(gid, invite, secret) VALUES(?1,?2,?3)");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, a->gid, 16);
    ww_bind_blob(st, 2, a->key, 32);
    ww_bind_blob(st, 3, a->secret, WW_INVITE_SECRET_LEN);
    return ww_sql_done(s, st);
}

/* An invite of either kind: a new secret, its code for the group's hub, and the event that
 * publishes its key: body (invite.create or device.invite, its other fields set) with the
 * key written to `key` and the expiry to `expires`; a device.invite's proof is signed here
 * with the secret's key. */
static int invite_publish(struct ww_store *s, const uint8_t group[WW_ID_LEN], struct ww_body *body,
                          uint8_t key[WW_KEY_LEN], uint64_t *expires, int64_t expires_ms,
                          char *code_out, size_t cap, uint8_t invite_out[WW_KEY_LEN])
{
    struct hub_seen hub;
    memset(&hub, 0, sizeof hub);
    int rc = ww_group_get(s, group, hub_cb, &hub);
    if (rc != 0)
        return rc;
    if (!hub.has)
        return WW_ESTATE; /* the code must say where to redeem it */
    struct ww_invite_code code;
    memset(&code, 0, sizeof code);
    code.device = body->kind == WW_KIND_DEVICE_INVITE;
    memcpy(code.addr, hub.addr, sizeof code.addr);
    ww_hub_fingerprint(hub.hub, code.hub_fp);
    ww_store_random(s, code.secret, sizeof code.secret);
    uint8_t sk[64], digest[32];
    invite_keypair(code.secret, key, sk);
    if (code.device) {
        device_invite_digest(group, hub.me, digest);
        crypto_sign_detached(body->u.device_invite.proof, NULL, digest, sizeof digest, sk);
    }
    sodium_memzero(sk, sizeof sk);
    *expires = (uint64_t)(expires_ms ? expires_ms : ww_store_now_ms(s) + WW_INVITE_TTL_MS);
    rc = ww_invite_code_format(&code, code_out, cap);
    if (rc == 0) {
        struct publish_args a = {group, body, key, code.device ? NULL : code.secret};
        rc = ww_tx(s, publish, &a);
    }
    if (rc == 0 && invite_out)
        memcpy(invite_out, key, 32);
    if (rc != 0)
        sodium_memzero(code_out, cap);
    sodium_memzero(&code, sizeof code);
    return rc;
}

int ww_invite_create(struct ww_store *s, const uint8_t group[WW_ID_LEN], int role,
                     int64_t expires_ms, char *code_out, size_t cap, uint8_t invite_out[WW_KEY_LEN])
{
    if (!s || !group || !code_out || (role != WW_ROLE_STUDENT && role != WW_ROLE_SENIOR) ||
        expires_ms < 0)
        return WW_EINVAL;
    struct ww_body body;
    memset(&body, 0, sizeof body);
    body.kind = WW_KIND_INVITE_CREATE;
    struct ww_body_invite_create *b = &body.u.invite_create;
    b->role = (uint8_t)role;
    return invite_publish(s, group, &body, b->invite, &b->expires_ms, expires_ms, code_out, cap,
                          invite_out);
}

int ww_device_invite(struct ww_store *s, const uint8_t group[WW_ID_LEN], int64_t expires_ms,
                     char *code_out, size_t cap, uint8_t invite_out[WW_KEY_LEN])
{
    if (!s || !group || !code_out || expires_ms < 0)
        return WW_EINVAL;
    /* Only a device its member vouched for speaks for the member (elsewhere its invite
     * would wait for a vouching that may never come). */
    int rc = ww_cache_load(s, group);
    const struct ww_devinfo *me = rc == 0 ? ww_cache_me(s) : NULL;
    if (rc != 0)
        return rc;
    if (!me || !me->vouched || me->removed_epoch != UINT32_MAX)
        return WW_EROLE;
    struct ww_body body;
    memset(&body, 0, sizeof body);
    body.kind = WW_KIND_DEVICE_INVITE;
    struct ww_body_device_invite *b = &body.u.device_invite;
    return invite_publish(s, group, &body, b->invite, &b->expires_ms, expires_ms, code_out, cap,
                          invite_out);
}

int ww_invite_revoke(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                     const uint8_t invite[WW_KEY_LEN], uint8_t hash_out[WW_EVENT_HASH_LEN])
{
    if (!s || !group || !invite)
        return WW_EINVAL;
    struct ww_body body;
    memset(&body, 0, sizeof body);
    body.kind = WW_KIND_INVITE_REVOKE;
    memcpy(body.u.invite_revoke.invite, invite, 32);
    struct ww_emit e = {.kind = WW_KIND_INVITE_REVOKE, .audience = WW_AUD_PLAIN, .body = &body};
    return ww_emit_tx(s, group, &e, hash_out);
}

int ww_invites_list(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                    void (*cb)(void *ud, const struct ww_invite_info *i), void *ud)
{
    if (!s || !group || !cb)
        return WW_EINVAL;
    /* Device invites too: role 0, the member they add a device to, used once a device.join
     * named them. */
    sqlite3_stmt *st = ww_sql(s, "SELECT invite, role, expires_ms, revoked_hlc IS NOT NULL, "
                                 "used_member, hlc, 0 FROM invites WHERE gid=?1 UNION ALL SELECT "
                                 "invite, 0, expires_ms, 0, member, hlc, used_device IS NOT NULL "
                                 "FROM device_invites WHERE gid=?1 ORDER BY 6, 1");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, group, 16);
    int64_t now = ww_store_now_ms(s);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct ww_invite_info i;
        memset(&i, 0, sizeof i);
        memcpy(i.invite, sqlite3_column_blob(st, 0), 32);
        i.role = sqlite3_column_int(st, 1);
        i.expires_ms = sqlite3_column_int64(st, 2);
        if (sqlite3_column_bytes(st, 4) == 16)
            memcpy(i.member, sqlite3_column_blob(st, 4), 16);
        if (i.role ? sqlite3_column_bytes(st, 4) == 16 : sqlite3_column_int(st, 6)) {
            i.state = WW_INVITE_USED;
        } else if (sqlite3_column_int(st, 3)) {
            i.state = WW_INVITE_REVOKED;
        } else {
            i.state = now < i.expires_ms ? WW_INVITE_OPEN : WW_INVITE_EXPIRED;
        }
        cb(ud, &i);
    }
    sqlite3_reset(st);
    return step == SQLITE_DONE ? 0 : ww_db_err(s, step);
}

/* ---- Redemptions --------------------------------------------------------------------- */

_Static_assert(WW_PROFILE_SEALED_MAX == WW_REDEEM_PROFILE_MAX,
               "the public bound of a sealed profile is proto's");

/* What the invite key signs: the device and what it asks to be listed as (sealed), under a
 * domain of its own (PROTOCOL.md 9.9). */
static int redemption_digest(const struct ww_redemption *r, uint8_t out[32])
{
    size_t n = r->profile_len;
    if (n != 0 && (n < WW_SEAL_OVERHEAD + 3 || n > WW_REDEEM_PROFILE_MAX))
        return WW_EINVAL;
    ww_hash_domain("wegwijs/redeem/v2", r->device, 32, r->invite, 32, r->profile, n, out, 32);
    return 0;
}

/* A profile in the clear: year, track, then the alias (PROTOCOL.md 9.9). A device invite's
 * redemption names no one: alias "", year 0, track 0, and has no profile. */
static int profile_plain(const struct ww_redemption *r, uint8_t pt[2 + WW_MAX_NAME], size_t *len)
{
    size_t alen = r->alias ? strlen(r->alias) : 0;
    *len = 0;
    if (alen == 0 && r->year == 0 && r->track == 0)
        return 0;
    if (ww_text_check(r->alias, WW_MAX_NAME, 1) != 0 || r->year < 1 || r->year > 4 ||
        r->track < 0 || r->track > WW_TRACK_BBL)
        return WW_EINVAL;
    pt[0] = (uint8_t)r->year;
    pt[1] = (uint8_t)r->track;
    memcpy(pt + 2, r->alias, alen);
    *len = 2 + alen;
    return 0;
}

int ww_redemption_sign(const uint8_t secret[WW_INVITE_SECRET_LEN], struct ww_redemption *r)
{
    if (!secret || !r)
        return WW_EINVAL;
    uint8_t sk[64], digest[32], pt[2 + WW_MAX_NAME];
    size_t len;
    invite_keypair(secret, r->invite, sk);
    int rc = profile_plain(r, pt, &len);
    r->profile_len = 0;
    if (rc == 0 && len > 0 && (rc = ww_seal_to(pt, len, r->invite, r->profile)) == 0)
        r->profile_len = len + WW_SEAL_OVERHEAD;
    if (rc == 0)
        rc = redemption_digest(r, digest);
    if (rc == 0)
        crypto_sign_detached(r->sig, NULL, digest, sizeof digest, sk);
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(pt, sizeof pt);
    return rc;
}

int ww_redemption_verify(const struct ww_redemption *r)
{
    uint8_t digest[32];
    if (!r || redemption_digest(r, digest) != 0)
        return WW_EINVAL;
    return crypto_sign_verify_detached(r->sig, digest, sizeof digest, r->invite) == 0 ? 0
                                                                                      : WW_EBADSIG;
}

int ww_invite_group(struct ww_store *s, const uint8_t invite[WW_KEY_LEN],
                    uint8_t group_out[WW_ID_LEN])
{
    sqlite3_stmt *st = ww_sql(s, "SELECT gid FROM invites WHERE invite=?1 UNION ALL SELECT gid "
                                 "FROM device_invites WHERE invite=?1 LIMIT 2");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, invite, 32);
    int step, n = 0;
    uint8_t gid[16] = {0};
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        if (n++ == 0)
            memcpy(gid, sqlite3_column_blob(st, 0), 16);
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        return ww_db_err(s, step);
    if (n != 1)
        return WW_ENOTFOUND; /* none, or a key claimed twice: redeem neither */
    memcpy(group_out, gid, 16);
    return 0;
}

struct record_args {
    struct ww_redemption *r;
    int admitted;
};

/* Stores r (its profile sealed, as it came) with the statement sql of six parameters. */
static int insert_redemption(struct ww_store *s, const struct ww_redemption *r, const char *sql)
{
    sqlite3_stmt *st = ww_sql(s, sql);
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, r->group, 16);
    ww_bind_blob(st, 2, r->invite, 32);
    ww_bind_blob(st, 3, r->device, 32);
    sqlite3_bind_blob(st, 4, r->profile, (int)r->profile_len, SQLITE_TRANSIENT);
    ww_bind_blob(st, 5, r->sig, 64);
    sqlite3_bind_int64(st, 6, ww_store_now_ms(s));
    return ww_sql_done(s, st);
}

/* In one transaction: the first valid redemption of an invite is the one kept. */
static int do_record(struct ww_store *s, void *ud)
{
    struct record_args *a = ud;
    struct ww_redemption *r = a->r;
    sqlite3_stmt *st;
    int rc = ww_invite_group(s, r->invite, r->group);
    if (rc == 0)
        rc = ww_redemption_verify(r);
    if (rc == 0)
        rc = ww_cache_load(s, r->group);
    if (rc != 0)
        return rc;
    const struct ww_devinfo *d = ww_cache_device(s, r->device);
    if (d && d->removed_epoch == UINT32_MAX) {
        a->admitted = 1;
        return 0;
    }
    struct invite_row row;
    if ((rc = any_invite_get(s, r->group, r->invite, &row)) != 0)
        return rc;
    if (row.found && row.device != (r->profile_len == 0))
        return WW_ENOTFOUND; /* a member's redemption of a device invite, or the reverse */
    if ((rc = invite_usable(&row, ww_store_now_ms(s))) != 0)
        return rc;
    st = ww_sql(s, "SELECT device FROM redemptions WHERE gid=?1 AND invite=?2");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, r->group, 16);
    ww_bind_blob(st, 2, r->invite, 32);
    int step = sqlite3_step(st);
    int other = step == SQLITE_ROW && (sqlite3_column_bytes(st, 0) != 32 ||
                                       memcmp(sqlite3_column_blob(st, 0), r->device, 32) != 0);
    sqlite3_reset(st);
    if (step == SQLITE_ROW)
        return other ? WW_EUSED : 0; /* the same device asking again changes nothing */
    if (step != SQLITE_DONE)
        return ww_db_err(s, step);
    return insert_redemption(s, r,
                             "INSERT INTO redemptions(gid, invite, device, profile, sig, "
                             "at_ms) VALUES(?1,?2,?3,?4,?5,?6)");
}

/* What the redemption of an expired invite held is of no use to anyone now. */
static int drop_expired(struct ww_store *s, void *ud)
{
    (void)ud;
    sqlite3_stmt *st = ww_sql(s, "DELETE FROM redemptions WHERE EXISTS(SELECT 1 FROM invites i "
                                 "WHERE i.gid=redemptions.gid AND i.invite=redemptions.invite "
                                 "AND i.expires_ms <= ?1) OR EXISTS(SELECT 1 FROM device_invites "
                                 "d WHERE d.gid=redemptions.gid AND d.invite=redemptions.invite "
                                 "AND d.expires_ms <= ?1)");
    if (!st)
        return ww_sql_failed(s);
    sqlite3_bind_int64(st, 1, ww_store_now_ms(s));
    return ww_sql_done(s, st);
}

int ww_redemption_record(struct ww_store *s, struct ww_redemption *r, int *admitted_out)
{
    if (!s || !r || !admitted_out)
        return WW_EINVAL;
    struct record_args a = {r, 0};
    int rc = ww_tx(s, drop_expired, NULL);
    if (rc == 0)
        rc = ww_tx(s, do_record, &a);
    if (rc == 0)
        *admitted_out = a.admitted;
    return rc;
}

#define HELD_MS (30 * 24 * 3600 * 1000LL) /* the longest an invite's --days allows */

static int do_hold(struct ww_store *s, void *ud)
{
    const struct ww_redemption *r = ud;
    int64_t now = ww_store_now_ms(s);
    sqlite3_stmt *st = ww_sql(s, "DELETE FROM redemptions WHERE at_ms < ?1");
    if (!st)
        return ww_sql_failed(s);
    sqlite3_bind_int64(st, 1, now - HELD_MS);
    int rc = ww_sql_done(s, st);
    int64_t held = 0;
    st = rc ? NULL : ww_sql(s, "SELECT count(*) FROM redemptions WHERE gid=?1");
    if (rc == 0 && !st)
        return ww_sql_failed(s);
    if (rc == 0) {
        ww_bind_blob(st, 1, r->group, 16);
        rc = ww_sql_int(s, st, &held);
    }
    if (rc != 0 || held >= WW_HELD_REDEMPTIONS)
        return rc ? rc : WW_ETOOBIG;
    return insert_redemption(s, r,
                             "INSERT OR IGNORE INTO redemptions(gid, invite, device, "
                             "profile, sig, at_ms) VALUES(?1,?2,?3,?4,?5,?6)");
}

int ww_redemption_hold(struct ww_store *s, const struct ww_redemption *r)
{
    if (!s || !r)
        return WW_EINVAL;
    int rc = ww_redemption_verify(r);
    return rc ? rc : ww_tx(s, do_hold, (void *)r);
}

int ww_redemptions_pending(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                           void (*cb)(void *ud, const struct ww_redemption *r), void *ud)
{
    if (!s || !group || !cb)
        return WW_EINVAL;
    sqlite3_stmt *st = ww_sql(
        s, "SELECT r.invite, r.device, r.profile, r.sig FROM redemptions r WHERE "
           "r.gid=?1 AND (EXISTS(SELECT 1 FROM invites i WHERE i.gid=r.gid AND i.invite=r.invite "
           "AND i.used_member IS NULL AND i.revoked_hlc IS NULL) OR EXISTS(SELECT 1 FROM "
           "device_invites d WHERE d.gid=r.gid AND d.invite=r.invite AND d.used_device IS NULL)) "
           "ORDER BY r.at_ms, r.invite");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, group, 16);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct ww_redemption r;
        memset(&r, 0, sizeof r);
        memcpy(r.group, group, 16);
        memcpy(r.invite, sqlite3_column_blob(st, 0), 32);
        memcpy(r.device, sqlite3_column_blob(st, 1), 32);
        size_t n = (size_t)sqlite3_column_bytes(st, 2);
        if (n > sizeof r.profile)
            continue; /* not one this version recorded */
        if (n)        /* a device invite's redemption carries none */
            memcpy(r.profile, sqlite3_column_blob(st, 2), n);
        r.profile_len = n;
        memcpy(r.sig, sqlite3_column_blob(st, 3), 64);
        cb(ud, &r);
    }
    sqlite3_reset(st);
    return step == SQLITE_DONE ? 0 : ww_db_err(s, step);
}

static int drop_held(struct ww_store *s, void *ud)
{
    const struct ww_redemption *r = ud;
    sqlite3_stmt *st =
        ww_sql(s, "DELETE FROM redemptions WHERE gid=?1 AND invite=?2 AND device=?3");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, r->group, 16);
    ww_bind_blob(st, 2, r->invite, 32);
    ww_bind_blob(st, 3, r->device, 32);
    return ww_sql_done(s, st);
}

/* Opens the profile of a redemption of one of this device's own invites: its alias (NUL
 * ended), year and track, checked as the member's form. WW_ENOKEY when this device does not
 * hold the invite's secret (it did not make the invite, or the invite is spent). */
static int open_profile(struct ww_store *s, const struct ww_redemption *r,
                        char alias[WW_MAX_NAME + 1], int *year, int *track)
{
    sqlite3_stmt *st = ww_sql(s, "SELECT secret FROM invite_secrets WHERE gid=?1 AND invite=?2");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, r->group, 16);
    ww_bind_blob(st, 2, r->invite, 32);
    uint8_t secret[WW_INVITE_SECRET_LEN], pk[32], sk[64], pt[WW_REDEEM_PROFILE_MAX];
    int step = sqlite3_step(st);
    int rc = step == SQLITE_ROW ? 0 : step == SQLITE_DONE ? WW_ENOKEY : ww_db_err(s, step);
    if (rc == 0 && sqlite3_column_bytes(st, 0) != WW_INVITE_SECRET_LEN)
        rc = WW_ECORRUPT;
    if (rc == 0)
        memcpy(secret, sqlite3_column_blob(st, 0), sizeof secret);
    sqlite3_reset(st);
    if (rc != 0)
        return rc;
    invite_keypair(secret, pk, sk);
    size_t n = r->profile_len - WW_SEAL_OVERHEAD;
    if (r->profile_len < WW_SEAL_OVERHEAD + 3 || memcmp(pk, r->invite, 32) != 0)
        rc = WW_EINVAL;
    else
        rc = ww_seal_open(r->profile, r->profile_len, sk, pt);
    if (rc == 0) {
        memcpy(alias, pt + 2, n - 2);
        alias[n - 2] = '\0';
        *year = pt[0];
        *track = pt[1];
        if (ww_text_check(alias, WW_MAX_NAME, 1) != 0 || strlen(alias) != n - 2 || *year < 1 ||
            *year > 4 || *track > WW_TRACK_BBL)
            rc = WW_EINVAL;
    }
    sodium_memzero(secret, sizeof secret);
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(pt, sizeof pt);
    return rc;
}

int ww_redemption_admit(struct ww_store *s, const struct ww_redemption *r,
                        uint8_t member_out[WW_ID_LEN])
{
    if (!s || !r || !member_out)
        return WW_EINVAL;
    int rc = ww_redemption_verify(r);
    if (rc != 0)
        return rc;
    struct invite_row row;
    if ((rc = any_invite_get(s, r->group, r->invite, &row)) != 0)
        return rc;
    if (!row.found)
        return WW_ENOTFOUND;
    if (row.device) {
        /* A device invite: the device joins the member that published it (device.join). */
        memcpy(member_out, row.member, WW_MEMBER_ID_LEN);
        rc = ww_device_join(s, r->group, row.member, r->device, r->invite, r->sig);
    } else {
        /* The member.add's own rules decide the rest (used, revoked, expired, caps), as on
         * every replica. */
        char alias[WW_MAX_NAME + 1];
        int year = 0, track = 0;
        rc = open_profile(s, r, alias, &year, &track);
        /* The secret goes once the invite is used or revoked: say which. */
        if (rc == WW_ENOKEY && invite_usable(&row, ww_store_now_ms(s)) != 0)
            rc = invite_usable(&row, ww_store_now_ms(s));
        if (rc == 0)
            rc = ww_member_add_invite(s, r->group, row.role, alias, year, track, r->device,
                                      r->invite, member_out);
        sodium_memzero(alias, sizeof alias);
    }
    /* A held redemption that can never be admitted (used, expired, a cap) is of no use. */
    if (rc != 0 && !ww_store_failure(rc))
        ww_tx(s, drop_held, (void *)r);
    return rc;
}
