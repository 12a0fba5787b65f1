/*
 * test_invite.c - joining by invite in the library: the code, invite.create and its caps,
 * invite.revoke, member.add with an invite on every replica, and redemptions at a hub and
 * at the owner device.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "fixture.h"
#include "runner.h"
#include "seal.h"
#include "store.h"

#define ADDR "127.0.0.1:7420"

static void pat(uint8_t *p, size_t n, uint8_t start)
{
    for (size_t k = 0; k < n; k++)
        p[k] = (uint8_t)(start + k);
}

/* ---- The code ------------------------------------------------------------------------ */

/* The code of PROTOCOL.md 12.11: secret pat(0x00), fingerprint pat(0xa0). */
#define CODE_VECTOR "127.0.0.1:7420/AEAA-CAQD-AQCQ-MBYI-BEFA-WDAN-BYH2-BINC-UOSK-LJVH-VCU7-SIBD"

TEST(invite_code_round_trip)
{
    struct ww_invite_code c, back;
    memset(&c, 0, sizeof c);
    snprintf(c.addr, sizeof c.addr, "%s", ADDR);
    pat(c.secret, sizeof c.secret, 0x00);
    pat(c.hub_fp, sizeof c.hub_fp, 0xa0);
    char text[WW_INVITE_CODE_MAX];
    ASSERT_OK(ww_invite_code_format(&c, text, sizeof text));
    ASSERT_STR_EQ(text, CODE_VECTOR);
    ASSERT_OK(ww_invite_code_parse(text, &back));
    ASSERT_STR_EQ(back.addr, ADDR);
    ASSERT_MEM_EQ(back.secret, c.secret, sizeof c.secret);
    ASSERT_MEM_EQ(back.hub_fp, c.hub_fp, sizeof c.hub_fp);
    /* As typed: lower case, dashes anywhere or none. */
    char typed[WW_INVITE_CODE_MAX];
    size_t n = 0;
    for (const char *p = text; *p; p++)
        if (*p != '-')
            typed[n++] = (char)(p > strchr(text, '/') && *p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    typed[n] = '\0';
    memset(&back, 0, sizeof back);
    ASSERT_OK(ww_invite_code_parse(typed, &back));
    ASSERT_MEM_EQ(back.secret, c.secret, sizeof c.secret);
    /* Too small a buffer. */
    ASSERT_ERR(ww_invite_code_format(&c, text, 20), WW_ETOOBIG);
}

TEST(invite_code_mistyped_is_a_clear_error)
{
    struct ww_invite_code c;
    char bad[WW_INVITE_CODE_MAX];
    const char *slash = strchr(CODE_VECTOR, '/');
    /* Every single letter changed to every other letter is caught by the checksum. */
    for (size_t i = (size_t)(slash - CODE_VECTOR) + 1; i < strlen(CODE_VECTOR); i++) {
        if (CODE_VECTOR[i] == '-')
            continue;
        snprintf(bad, sizeof bad, "%s", CODE_VECTOR);
        bad[i] = bad[i] == 'Q' ? 'R' : 'Q';
        ASSERT_ERR(ww_invite_code_parse(bad, &c), WW_EBADCODE);
    }
    static const char *const wrong[] = {
        "",
        "AEAA-CAQD-AQCQ-MBYI-BEFA-WDAN-BYH2-BINC-UOSK-LJVH-VCU7-SIBD",                 /* no hub */
        "127.0.0.1:7420/AEAA-CAQD-AQCQ-MBYI-BEFA-WDAN-BYH2-BINC-UOSK-LJVH-VCU7-SIB",   /* short */
        "127.0.0.1:7420/AEAA-CAQD-AQCQ-MBYI-BEFA-WDAN-BYH2-BINC-UOSK-LJVH-VCU7-SIBDA", /* long */
        "127.0.0.1:7420/AEAA-CAQD-AQCQ-MBYI-BEFA-WDAN-BYH2-BINC-UOSK-LJVH-VCU7-SIO",   /* O */
        "127.0.0.1:7420/AEAA-CAQD-AQCQ-MBYI-BEFA-WDAN-BYH2-BINC-UOSK-LJVH-VCU7-SI1",   /* 1 */
        "127.0.0.1:7420/AEAA CAQD-AQCQ-MBYI-BEFA-WDAN-BYH2-BINC-UOSK-LJVH-VCU7-SIBD",  /* space */
        "127.0.0.2:7420/AEAA-CAQD-AQCQ-MBYI-BEFA-WDAN-BYH2-BINC-UOSK-LJVH-VCU7-SIBD",  /* addr */
        "127.0.0.1:7421/AEAA-CAQD-AQCQ-MBYI-BEFA-WDAN-BYH2-BINC-UOSK-LJVH-VCU7-SIBD",  /* port */
        "127.0.0.1/AEAA-CAQD-AQCQ-MBYI-BEFA-WDAN-BYH2-BINC-UOSK-LJVH-VCU7-SIBD",       /* no port */
        "127.0.0.1:99999/AEAA-CAQD-AQCQ-MBYI-BEFA-WDAN-BYH2-BINC-UOSK-LJVH-VCU7-SIBD",
        "hub_1:7420/AEAA-CAQD-AQCQ-MBYI-BEFA-WDAN-BYH2-BINC-UOSK-LJVH-VCU7-SIBD",
    };
    for (size_t k = 0; k < sizeof wrong / sizeof wrong[0]; k++)
        if (ww_invite_code_parse(wrong[k], &c) != WW_EBADCODE)
            ww_test_fail(__FILE__, __LINE__, "accepted: %s", wrong[k]);
    ASSERT_ERR(ww_invite_code_parse(NULL, &c), WW_EINVAL);
    ASSERT_STR_EQ(ww_strerror_lang(WW_EBADCODE, WW_LANG_NL),
                  "de uitnodigingscode is verkeerd getypt of onvolledig");
}

/* ---- Invites in a group --------------------------------------------------------------- */

/* A group of n students (no senior) whose hub is the device `hub`. */
static struct ww_store *group_with_hub(struct fx_group *g, int n_students)
{
    fx_group_make(g, n_students, 0, NULL);
    struct ww_store *hub = fx_open("hub");
    uint8_t hub_pk[32];
    fx_device(hub, hub_pk);
    ASSERT_OK(ww_group_hub_set(g->coach, g->gid, hub_pk, ADDR, NULL));
    return hub;
}

TEST(invite_caps_count_open_invites)
{
    struct fx_group g;
    struct ww_store *hub = group_with_hub(&g, 3);
    char code[WW_INVITE_CODE_MAX];
    uint8_t inv[32], inv2[32];
    ASSERT_OK(ww_invite_create(g.coach, g.gid, WW_ROLE_STUDENT, 0, code, sizeof code, inv));
    /* Three students and one open invite: a fifth student is refused when invited. */
    ASSERT_ERR(ww_invite_create(g.coach, g.gid, WW_ROLE_STUDENT, 0, code, sizeof code, NULL),
               WW_ESTUDENTCAP);
    /* Nor can the owner add a fourth student directly while the invite holds the place. */
    struct ww_store *x = fx_open("x");
    uint8_t x_pk[32], member[16];
    fx_device(x, x_pk);
    ASSERT_ERR(
        ww_member_add(g.coach, g.gid, WW_ROLE_STUDENT, "Xander", 1, WW_TRACK_BOL, x_pk, member),
        WW_ESTUDENTCAP);
    ww_store_close(x);
    ASSERT_OK(ww_invite_create(g.coach, g.gid, WW_ROLE_SENIOR, 0, code, sizeof code, NULL));
    ASSERT_ERR(ww_invite_create(g.coach, g.gid, WW_ROLE_SENIOR, 0, code, sizeof code, NULL),
               WW_ESENIORCAP);
    ASSERT_ERR(ww_invite_create(g.coach, g.gid, WW_ROLE_COACH, 0, code, sizeof code, NULL),
               WW_EINVAL);
    /* A revoked invite frees its place; so does an expired one. */
    ASSERT_OK(ww_invite_revoke(g.coach, g.gid, inv, NULL));
    ASSERT_ERR(ww_invite_revoke(g.coach, g.gid, inv, NULL), WW_EREVOKED);
    ASSERT_OK(
        ww_invite_create(g.coach, g.gid, WW_ROLE_STUDENT, fx_now + 60000, code, sizeof code, inv2));
    fx_now += 120000;
    ASSERT_OK(ww_invite_create(g.coach, g.gid, WW_ROLE_STUDENT, 0, code, sizeof code, NULL));
    /* A student (not the owner) cannot invite. */
    fx_group_sync(&g);
    ASSERT_ERR(ww_invite_create(g.st[0], g.gid, WW_ROLE_STUDENT, 0, code, sizeof code, NULL),
               WW_EROLE);
    /* Every replica holds the same invites... */
    fx_sync(g.coach, hub, g.gid, 256);
    long open_hub = fx_count(hub, "SELECT count(*) FROM invites WHERE revoked_hlc IS NULL");
    ASSERT_EQ(open_hub, 3);
    /* ...and refuses a fifth-student invite the owner's device would not have written. */
    struct ww_body b;
    memset(&b, 0, sizeof b);
    b.kind = WW_KIND_INVITE_CREATE;
    pat(b.u.invite_create.invite, 32, 0x40);
    b.u.invite_create.role = WW_ROLE_STUDENT;
    b.u.invite_create.expires_ms = (uint64_t)fx_now + 600000;
    static struct fx_ev ev;
    fx_seal_plain(g.coach, g.gid, &b, &ev);
    struct ww_apply_result r = fx_apply1(hub, &ev);
    ASSERT_EQ(r.rejected, 1);
    ASSERT_ERR(r.first_error, WW_ESTUDENTCAP);
    ww_store_close(hub);
    fx_group_close(&g);
}

struct count_ud {
    int n;
    struct ww_invite_info last;
};

static void count_invites(void *ud, const struct ww_invite_info *i)
{
    struct count_ud *c = ud;
    c->n++;
    c->last = *i;
}

static void count_pending(void *ud, const struct ww_redemption *r)
{
    (void)r;
    ((struct count_ud *)ud)->n++;
}

/* A device's redemption of the code's invite. */
static void redeem(const char *code, struct ww_store *dev, const char *alias,
                   struct ww_redemption *r)
{
    struct ww_invite_code c;
    ASSERT_OK(ww_invite_code_parse(code, &c));
    memset(r, 0, sizeof *r);
    fx_device(dev, r->device);
    r->alias = alias;
    r->year = 1;
    r->track = WW_TRACK_BBL;
    ASSERT_OK(ww_redemption_sign(c.secret, r));
}

TEST(invite_redeemed_once_admitted_by_the_owner)
{
    struct fx_group g;
    struct ww_store *hub = group_with_hub(&g, 2);
    struct ww_store *a = fx_open("a"), *b = fx_open("b");
    char code[WW_INVITE_CODE_MAX];
    uint8_t inv[32];
    ASSERT_OK(ww_invite_create(g.coach, g.gid, WW_ROLE_STUDENT, 0, code, sizeof code, inv));
    struct ww_redemption ra, rb;
    redeem(code, a, "Anouk", &ra);
    redeem(code, b, "Bram", &rb);
    ASSERT_MEM_EQ(ra.invite, inv, 32);
    /* The hub knows nothing of the invite before the owner's device synced it. */
    int admitted = -1;
    ASSERT_ERR(ww_redemption_record(hub, &ra, &admitted), WW_ENOTFOUND);
    fx_sync(g.coach, hub, g.gid, 256);
    /* First wins; the same device again changes nothing; another device is refused. */
    ASSERT_OK(ww_redemption_record(hub, &ra, &admitted));
    ASSERT_EQ(admitted, 0);
    ASSERT_MEM_EQ(ra.group, g.gid, 16);
    ASSERT_OK(ww_redemption_record(hub, &ra, &admitted));
    ASSERT_ERR(ww_redemption_record(hub, &rb, &admitted), WW_EUSED);
    struct count_ud cu = {0};
    ASSERT_OK(ww_redemptions_pending(hub, g.gid, count_pending, &cu));
    ASSERT_EQ(cu.n, 1);
    /* The owner admits the first; the second, racing through another peer, is refused by
     * the member.add rule itself. */
    memcpy(rb.group, g.gid, 16);
    uint8_t member[16];
    ASSERT_OK(ww_redemption_admit(g.coach, &ra, member));
    ASSERT_ERR(ww_redemption_admit(g.coach, &rb, member), WW_EUSED);
    memset(&cu, 0, sizeof cu);
    ASSERT_OK(ww_invites_list(g.coach, g.gid, count_invites, &cu));
    ASSERT_EQ(cu.n, 1);
    ASSERT_EQ(cu.last.state, WW_INVITE_USED);
    ASSERT_MEM_EQ(cu.last.member, member, 16);
    ASSERT_ERR(ww_invite_revoke(g.coach, g.gid, inv, NULL), WW_EUSED);
    /* The hub applies the member.add: the redemption is done and its record dropped. */
    fx_sync(g.coach, hub, g.gid, 256);
    memset(&cu, 0, sizeof cu);
    ASSERT_OK(ww_redemptions_pending(hub, g.gid, count_pending, &cu));
    ASSERT_EQ(cu.n, 0);
    ASSERT_EQ(fx_count(hub, "SELECT count(*) FROM redemptions"), 0);
    ASSERT_OK(ww_redemption_record(hub, &ra, &admitted));
    ASSERT_EQ(admitted, 1);
    ASSERT_ERR(ww_redemption_record(hub, &rb, &admitted), WW_EUSED);
    /* The new device syncs like any member and reads the group's keys. */
    fx_sync(hub, a, g.gid, 256);
    uint32_t today;
    ASSERT_OK(ww_day_today(a, g.gid, &today));
    ASSERT_OK(ww_day_off(a, g.gid, today, 1, NULL));
    /* A second member.add with the same invite, written anyway, is refused by a replica. */
    struct ww_body body;
    memset(&body, 0, sizeof body);
    body.kind = WW_KIND_MEMBER_ADD;
    struct ww_body_member_add *m = &body.u.member_add;
    pat(m->member, 16, 0x70);
    m->role = WW_ROLE_STUDENT;
    m->n_devices = 1;
    memcpy(m->devices[0], rb.device, 32);
    m->has_invite = 1;
    memcpy(m->invite, inv, 32);
    static struct fx_ev ev;
    fx_seal_plain(g.coach, g.gid, &body, &ev);
    struct ww_apply_result res = fx_apply1(hub, &ev);
    ASSERT_EQ(res.rejected, 1);
    ASSERT_ERR(res.first_error, WW_EUSED);
    ww_store_close(a);
    ww_store_close(b);
    ww_store_close(hub);
    fx_group_close(&g);
}

/* A group of one student whose hub holds a new student invite, its code in code. */
static struct ww_store *hub_with_invite(struct fx_group *g, char code[WW_INVITE_CODE_MAX])
{
    struct ww_store *hub = group_with_hub(g, 1);
    ASSERT_OK(
        ww_invite_create(g->coach, g->gid, WW_ROLE_STUDENT, 0, code, WW_INVITE_CODE_MAX, NULL));
    fx_sync(g->coach, hub, g->gid, 256);
    return hub;
}

/* Signs r's profile as it stands with the invite of secret: what a device that seals a
 * profile of its own making sends (the digest of PROTOCOL.md 9.9). */
static void sign_as_is(const uint8_t secret[16], struct ww_redemption *r)
{
    uint8_t seed[32], pk[32], sk[64], digest[32];
    ww_hash_domain("wegwijs/invite/v1", secret, 16, NULL, 0, NULL, 0, seed, 32);
    crypto_sign_seed_keypair(pk, sk, seed);
    ASSERT_MEM_EQ(pk, r->invite, 32);
    ww_hash_domain("wegwijs/redeem/v2", r->device, 32, r->invite, 32, r->profile, r->profile_len,
                   digest, 32);
    crypto_sign_detached(r->sig, NULL, digest, sizeof digest, sk);
}

/* What a new student asks to be listed as travels sealed to the invite's key: the hub
 * checks and keeps it without reading it, the owner's device opens it, and a profile that
 * does not open, or breaks the member's rules, admits no one. */
TEST(invite_redemption_profile_is_sealed_for_the_owner)
{
    struct fx_group g;
    char code[WW_INVITE_CODE_MAX];
    struct ww_store *hub = hub_with_invite(&g, code);
    struct ww_store *a = fx_open("a"), *b = fx_open("b");
    struct ww_redemption r;
    redeem(code, a, "Anouk van Dijk", &r);
    ASSERT_EQ(r.profile_len, WW_SEAL_OVERHEAD + 2 + strlen("Anouk van Dijk"));
    int admitted;
    struct ww_redemption at_hub = r;
    at_hub.alias = NULL; /* what the frame carries */
    at_hub.year = at_hub.track = 0;
    ASSERT_OK(ww_redemption_record(hub, &at_hub, &admitted));
    ASSERT_EQ(fx_count(hub, "SELECT count(*) FROM redemptions"), 1);
    ASSERT_EQ(fx_count(hub, "SELECT count(*) FROM redemptions WHERE instr(profile, "
                            "CAST('Anouk' AS BLOB)) > 0"),
              0);

    /* A profile that does not open with the invite's key, or says year 0, is refused with
     * its signature good, and admits no one; the invite stays open. */
    struct ww_invite_code c;
    ASSERT_OK(ww_invite_code_parse(code, &c));
    struct ww_redemption bad;
    uint8_t member[16], other[32], pt[2 + 5] = {0, WW_TRACK_BOL, 'M', 'a', 'l', 'l', 'y'};
    memset(&bad, 0, sizeof bad);
    memcpy(bad.group, g.gid, 16);
    memcpy(bad.invite, r.invite, 32);
    fx_device(b, bad.device);
    bad.profile_len = WW_SEAL_OVERHEAD + sizeof pt;
    ASSERT_OK(ww_seal_to(pt, sizeof pt, bad.invite, bad.profile));
    sign_as_is(c.secret, &bad);
    ASSERT_OK(ww_redemption_verify(&bad));
    ASSERT_ERR(ww_redemption_admit(g.coach, &bad, member), WW_EINVAL);
    fx_device(g.coach, other);
    pt[0] = 1;
    ASSERT_OK(ww_seal_to(pt, sizeof pt, other, bad.profile));
    sign_as_is(c.secret, &bad);
    ASSERT_ERR(ww_redemption_admit(g.coach, &bad, member), WW_EDECRYPT);
    ASSERT_EQ(fx_count(g.coach, "SELECT count(*) FROM members"), 2);

    /* The owner admits what the hub hands it, under the name the student gave. */
    struct ww_redemption from_hub;
    memcpy(&from_hub, &at_hub, sizeof from_hub);
    ASSERT_OK(ww_redemption_admit(g.coach, &from_hub, member));
    ASSERT_EQ(fx_count(g.coach, "SELECT count(*) FROM members WHERE alias='Anouk van Dijk' AND "
                                "year=1 AND track=2"),
              1);
    ASSERT_EQ(fx_count(g.coach, "SELECT count(*) FROM invite_secrets"), 0);
    fx_sync(g.coach, hub, g.gid, 256);
    ASSERT_EQ(fx_count(hub, "SELECT count(*) FROM redemptions"), 0);
    ASSERT_EQ(fx_count(hub, "SELECT count(*) FROM members WHERE alias<>''"), 0);
    ww_store_close(a);
    ww_store_close(b);
    ww_store_close(hub);
    fx_group_close(&g);
}

TEST(invite_expired_or_revoked_is_refused)
{
    struct fx_group g;
    struct ww_store *hub = group_with_hub(&g, 1);
    struct ww_store *a = fx_open("a");
    char c1[WW_INVITE_CODE_MAX], c2[WW_INVITE_CODE_MAX];
    uint8_t inv2[32];
    ASSERT_OK(
        ww_invite_create(g.coach, g.gid, WW_ROLE_STUDENT, fx_now + 60000, c1, sizeof c1, NULL));
    ASSERT_OK(ww_invite_create(g.coach, g.gid, WW_ROLE_STUDENT, 0, c2, sizeof c2, inv2));
    ASSERT_OK(ww_invite_revoke(g.coach, g.gid, inv2, NULL));
    fx_sync(g.coach, hub, g.gid, 256);
    struct ww_redemption r1, r2;
    redeem(c1, a, "Anouk", &r1);
    redeem(c2, a, "Anouk", &r2);
    int admitted;
    ASSERT_ERR(ww_redemption_record(hub, &r2, &admitted), WW_EREVOKED);
    memcpy(r2.group, g.gid, 16);
    uint8_t member[16];
    ASSERT_ERR(ww_redemption_admit(g.coach, &r2, member), WW_EREVOKED);
    /* Recorded while valid, admitted too late: the member.add is refused. */
    ASSERT_OK(ww_redemption_record(hub, &r1, &admitted));
    fx_now += 120000;
    ASSERT_EQ(fx_count(hub, "SELECT count(*) FROM redemptions"), 1);
    ASSERT_ERR(ww_redemption_record(hub, &r1, &admitted), WW_EEXPIRED);
    ASSERT_EQ(fx_count(hub, "SELECT count(*) FROM redemptions"), 0); /* the alias is gone */
    ASSERT_ERR(ww_redemption_admit(g.coach, &r1, member), WW_EEXPIRED);
    struct count_ud cu = {0};
    ASSERT_OK(ww_invites_list(g.coach, g.gid, count_invites, &cu));
    ASSERT_EQ(cu.n, 2);
    ASSERT_EQ(cu.last.state, WW_INVITE_REVOKED);
    ww_store_close(a);
    ww_store_close(hub);
    fx_group_close(&g);
}

TEST(invite_redemption_cannot_be_forged_or_replayed)
{
    struct fx_group g;
    char code[WW_INVITE_CODE_MAX];
    struct ww_store *hub = hub_with_invite(&g, code);
    struct ww_store *a = fx_open("a"), *b = fx_open("b");
    struct ww_redemption r;
    redeem(code, a, "Anouk", &r);
    ASSERT_OK(ww_redemption_verify(&r));
    int admitted;
    uint8_t member[16];
    /* Replayed for another device, or listed under another name: the proof fails. */
    struct ww_redemption replay = r;
    fx_device(b, replay.device);
    ASSERT_ERR(ww_redemption_verify(&replay), WW_EBADSIG);
    ASSERT_ERR(ww_redemption_record(hub, &replay, &admitted), WW_EBADSIG);
    memcpy(replay.group, g.gid, 16);
    ASSERT_ERR(ww_redemption_admit(g.coach, &replay, member), WW_EBADSIG);
    struct ww_redemption renamed = r;
    renamed.profile[WW_SEAL_OVERHEAD] ^= 1;
    ASSERT_ERR(ww_redemption_record(hub, &renamed, &admitted), WW_EBADSIG);
    struct ww_redemption forged = r;
    forged.sig[5] ^= 1;
    ASSERT_ERR(ww_redemption_record(hub, &forged, &admitted), WW_EBADSIG);
    /* A made-up secret names no invite. */
    uint8_t secret[16] = {1};
    struct ww_redemption guess = r;
    ASSERT_OK(ww_redemption_sign(secret, &guess));
    ASSERT_ERR(ww_redemption_record(hub, &guess, &admitted), WW_ENOTFOUND);
    ASSERT_EQ(fx_count(hub, "SELECT count(*) FROM redemptions"), 0);
    /* The real one still works. */
    ASSERT_OK(ww_redemption_record(hub, &r, &admitted));
    ASSERT_OK(ww_redemption_admit(g.coach, &r, member));
    ww_store_close(a);
    ww_store_close(b);
    ww_store_close(hub);
    fx_group_close(&g);
}

TEST(invite_needs_a_named_hub)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    char code[WW_INVITE_CODE_MAX];
    ASSERT_ERR(ww_invite_create(g.coach, g.gid, WW_ROLE_STUDENT, 0, code, sizeof code, NULL),
               WW_ESTATE);
    fx_group_close(&g);
}

/* ---- Device invites ------------------------------------------------------------------ */

/* dev's redemption of a device code: no alias, year 0, track 0. */
static void redeem_device(const char *code, struct ww_store *dev, struct ww_redemption *r)
{
    struct ww_invite_code c;
    ASSERT_OK(ww_invite_code_parse(code, &c));
    ASSERT_EQ(c.device, 1);
    memset(r, 0, sizeof *r);
    fx_device(dev, r->device);
    r->alias = "";
    ASSERT_OK(ww_redemption_sign(c.secret, r));
}

static long vouched_of(struct ww_store *s, const uint8_t device[32])
{
    char hex[65], sql[160];
    sodium_bin2hex(hex, sizeof hex, device, 32);
    snprintf(sql, sizeof sql,
             "SELECT coalesce(max(vouched + 1), 0) FROM devices WHERE device=x'%s'", hex);
    return fx_count(s, sql) - 1; /* -1: no such device */
}

/* A student's device invites the student's second device: the hub records the redemption
 * once the invite reached it, the owner's device admits it (device.join) once the invite
 * reached it too, and every replica holds the new device as vouched for by its member, the
 * same whatever the order in which the owner's log and the member's arrive. A second device
 * with the same code, a member's form of redemption, a forged signature, an expired invite
 * and an author its member did not vouch for are refused; a copy of the invite key under
 * another member makes the key ambiguous, not another member's. */
TEST(invite_device_code_adds_a_vouched_device)
{
    struct fx_group g;
    struct ww_store *hub = group_with_hub(&g, 2);
    fx_sync(g.coach, g.st[0], g.gid, 256);
    struct ww_store *pc = fx_open("pc"), *pc2 = fx_open("pc2"), *r2 = fx_open("r2");
    char code[WW_INVITE_CODE_MAX];
    uint8_t inv[32], member[16], st0[32];
    fx_device(g.st[0], st0);
    ASSERT_OK(ww_device_invite(g.st[0], g.gid, 0, code, sizeof code, inv));
    struct ww_redemption r, r_2, as_member;
    redeem_device(code, pc, &r);
    redeem_device(code, pc2, &r_2);
    ASSERT_MEM_EQ(r.invite, inv, 32);
    /* The hub learns of the invite from the student's log. */
    int admitted = -1;
    ASSERT_ERR(ww_redemption_record(hub, &r, &admitted), WW_ENOTFOUND);
    fx_sync(g.st[0], hub, g.gid, 256);
    ASSERT_OK(ww_redemption_record(hub, &r, &admitted));
    ASSERT_EQ(admitted, 0);
    ASSERT_ERR(ww_redemption_record(hub, &r_2, &admitted), WW_EUSED);
    /* A member's form of redemption (alias, year) does not fit a device code. */
    struct ww_invite_code c;
    ASSERT_OK(ww_invite_code_parse(code, &c));
    memset(&as_member, 0, sizeof as_member);
    fx_device(pc2, as_member.device);
    as_member.alias = "Mallory";
    as_member.year = 1;
    ASSERT_OK(ww_redemption_sign(c.secret, &as_member));
    ASSERT_ERR(ww_redemption_record(hub, &as_member, &admitted), WW_ENOTFOUND);
    /* The owner cannot admit before the student's invite reached it; held, then admitted. */
    ASSERT_ERR(ww_redemption_admit(g.coach, &r, member), WW_ENOTFOUND);
    ASSERT_OK(ww_redemption_hold(g.coach, &r));
    struct count_ud cu = {0};
    ASSERT_OK(ww_redemptions_pending(g.coach, g.gid, count_pending, &cu));
    ASSERT_EQ(cu.n, 0); /* its invite unknown here yet */
    fx_sync(hub, g.coach, g.gid, 256);
    ASSERT_OK(ww_redemptions_pending(g.coach, g.gid, count_pending, &cu));
    ASSERT_EQ(cu.n, 1);
    ASSERT_OK(ww_redemption_admit(g.coach, &r, member));
    ASSERT_MEM_EQ(member, g.m_st[0], 16);
    ASSERT_EQ(vouched_of(g.coach, r.device), 1);
    memcpy(r_2.group, g.gid, 16);
    ASSERT_ERR(ww_redemption_admit(g.coach, &r_2, member), WW_EUSED);
    memset(&cu, 0, sizeof cu);
    ASSERT_OK(ww_invites_list(g.coach, g.gid, count_invites, &cu));
    ASSERT_EQ(cu.last.role, 0);
    ASSERT_EQ(cu.last.state, WW_INVITE_USED);
    ASSERT_MEM_EQ(cu.last.member, g.m_st[0], 16);

    /* A replica that gets the owner's device.join before the student's invite keeps it
     * pending, then applies it: the same devices as in the other order. */
    struct ww_vv_item vv[WW_MAX_VV], skip = {{0}, 0, {0}};
    size_t n_vv = 0;
    ASSERT_OK(ww_sync_vv(g.coach, g.gid, vv, WW_MAX_VV, &n_vv));
    for (size_t k = 0; k < n_vv; k++)
        if (!memcmp(vv[k].author, st0, 32))
            skip = vv[k];
    ASSERT_GT(skip.seq, 0);
    struct fx_bag bag;
    memset(&bag, 0, sizeof bag);
    int more = 0;
    ASSERT_OK(ww_sync_missing(g.coach, g.gid, &skip, 1, 256, 1u << 20, fx_bag_add, &bag, &more));
    struct ww_apply_result res;
    ASSERT_OK(ww_sync_apply(r2, (const uint8_t *const *)bag.raw, bag.len, bag.n, &res));
    fx_bag_free(&bag);
    ASSERT_EQ(vouched_of(r2, r.device), -1);
    ASSERT_GE(fx_count(r2, "SELECT count(*) FROM pending"), 1);
    fx_sync(g.st[0], r2, g.gid, 256);
    ASSERT_EQ(vouched_of(r2, r.device), 1);
    ASSERT_EQ(fx_count(r2, "SELECT count(*) FROM pending"), 0);
    fx_sync(g.coach, hub, g.gid, 256);
    ASSERT_EQ(vouched_of(hub, r.device), 1);
    ASSERT_EQ(fx_count(hub, "SELECT count(*) FROM redemptions"), 0);

    /* Crafted by the owner: a second device.join of the used invite, one with a forged
     * signature, one past the invite's expiry. */
    struct ww_body b;
    memset(&b, 0, sizeof b);
    b.kind = WW_KIND_DEVICE_JOIN;
    memcpy(b.u.device_join.member, g.m_st[0], 16);
    memcpy(b.u.device_join.device, r_2.device, 32);
    memcpy(b.u.device_join.invite, inv, 32);
    memcpy(b.u.device_join.sig, r_2.sig, 64);
    static struct fx_ev ev;
    fx_seal_plain(g.coach, g.gid, &b, &ev);
    ASSERT_ERR(fx_apply1(r2, &ev).first_error, WW_EUSED);
    char code2[WW_INVITE_CODE_MAX];
    uint8_t inv2[32];
    ASSERT_OK(ww_device_invite(g.st[0], g.gid, fx_now + 1000, code2, sizeof code2, inv2));
    fx_sync(g.st[0], r2, g.gid, 256);
    redeem_device(code2, pc2, &r_2);
    memcpy(b.u.device_join.invite, inv2, 32);
    memcpy(b.u.device_join.sig, r.sig, 64); /* another device's proof, for another invite */
    fx_seal_plain(g.coach, g.gid, &b, &ev);
    ASSERT_ERR(fx_apply1(r2, &ev).first_error, WW_EBADSIG);
    memcpy(b.u.device_join.sig, r_2.sig, 64);
    fx_now += 2000;
    fx_seal_plain(g.coach, g.gid, &b, &ev);
    ASSERT_ERR(fx_apply1(r2, &ev).first_error, WW_EEXPIRED);

    /* The other student publishes the first student's invite key as its own, with the proof
     * the first student's device.invite carries: the proof is for the first student, so it
     * is refused; without the secret no other proof can be made. The invite stays the
     * first student's. */
    fx_sync(g.st[0], hub, g.gid, 256);
    struct fx_bag mine;
    memset(&mine, 0, sizeof mine);
    ASSERT_OK(ww_sync_missing(g.st[0], g.gid, vv, n_vv, 256, 1u << 20, fx_bag_add, &mine, &more));
    int copied = 0;
    for (size_t k = 0; k < mine.n && !copied; k++) {
        struct ww_envelope env;
        struct ww_body body;
        if (ww_envelope_decode(mine.raw[k], mine.len[k], &env) != 0 ||
            env.h.kind != WW_KIND_DEVICE_INVITE ||
            ww_body_decode(env.h.kind, env.body.p, env.body.len, &body) != 0 ||
            memcmp(body.u.device_invite.invite, inv2, 32))
            continue;
        fx_seal_plain(g.st[1], g.gid, &body, &ev);
        ASSERT_ERR(fx_apply1(hub, &ev).first_error, WW_EBADSIG);
        copied = 1;
    }
    fx_bag_free(&mine);
    ASSERT(copied);
    uint8_t gid[16];
    ASSERT_OK(ww_invite_group(hub, inv2, gid));
    ASSERT_MEM_EQ(gid, g.gid, 16);

    /* A device its member did not vouch for (the owner added it) may not invite. */
    struct ww_store *x = fx_open("x");
    uint8_t xpk[32];
    fx_device(x, xpk);
    ASSERT_OK(ww_device_add(g.coach, g.gid, g.m_st[1], xpk, NULL));
    fx_sync(g.coach, x, g.gid, 256);
    ASSERT_ERR(ww_device_invite(x, g.gid, 0, code2, sizeof code2, NULL), WW_EROLE);
    fx_now -= 2000;
    ww_store_close(x);
    ww_store_close(pc);
    ww_store_close(pc2);
    ww_store_close(r2);
    ww_store_close(hub);
    fx_group_close(&g);
}

/* A student's device codes admit at most WW_MEMBER_JOIN_DEVICES active devices of the
 * student in all: the owner admits them without a person deciding, so one member cannot
 * take the group's places that way. A held redemption that can never be admitted is
 * dropped. */
TEST(invite_device_codes_reach_a_few_devices_at_most)
{
    struct fx_group g;
    struct ww_store *hub = group_with_hub(&g, 1);
    fx_sync(g.coach, g.st[0], g.gid, 256);
    int admitted = 0;
    for (int i = 0; i < WW_MEMBER_JOIN_DEVICES + 1; i++) {
        char name[16], code[WW_INVITE_CODE_MAX];
        snprintf(name, sizeof name, "extra%d", i);
        struct ww_store *d = fx_open(name);
        ASSERT_OK(ww_device_invite(g.st[0], g.gid, 0, code, sizeof code, NULL));
        struct ww_redemption r;
        redeem_device(code, d, &r);
        fx_sync(g.st[0], g.coach, g.gid, 256);
        memcpy(r.group, g.gid, 16);
        uint8_t member[16];
        if (i < WW_MEMBER_JOIN_DEVICES - 1) {
            ASSERT_OK(ww_redemption_admit(g.coach, &r, member));
            admitted++;
        } else {
            ASSERT_OK(ww_redemption_hold(g.coach, &r));
            ASSERT_EQ(fx_count(g.coach, "SELECT count(*) FROM redemptions"), 1);
            ASSERT_ERR(ww_redemption_admit(g.coach, &r, member), WW_ETOOBIG);
            ASSERT_EQ(fx_count(g.coach, "SELECT count(*) FROM redemptions"), 0);
        }
        fx_sync(g.coach, g.st[0], g.gid, 256);
        ww_store_close(d);
    }
    ASSERT_EQ(admitted, WW_MEMBER_JOIN_DEVICES - 1); /* and the student's first device */
    ASSERT_EQ(fx_count(g.coach, "SELECT count(*) FROM redemptions"), 0);
    ww_store_close(hub);
    fx_group_close(&g);
}
