/*
 * test_review3.c - an attacker's review of removal cut-offs, owner handover and recovery.
 *
 * Every test here failed on the reviewed commit: each shows one way a removed student, a
 * thief holding the lost owner phone or a hostile peer breaks a rule of PROTOCOL.md 6.3,
 * 6.16 or 6.27-6.29. The eleven that hold now are built as tests/unit/test_takeover.c; the
 * six here still fail, as docs/SECURITY.md ("Owner handover and recovery") says: a thief's or
 * a removed student's fork below a cut-off (1, 3, 5), a recovery from a stale copy (8, 14)
 * and a thief's erasure (12). The file is not built by default. To run it:
 *
 *   cp tests/review/test_review3.c tests/unit/ && make -j2 build/wegwijs build/tests/unit_tests &&
 *   build/tests/unit_tests review3; rm tests/unit/test_review3.c
 *
 * (run from the top of the repository: review3_leave_by_bundle_is_never_answered runs
 * build/wegwijs)
 */
#include <sodium.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "apply.h"
#include "fixture.h"
#include "group.h"
#include "integ/loop.h"
#include "log.h"
#include "runner.h"
#include "seal.h"
#include "store.h"
#include "wegwijs_sync.h"

static void copy_info(void *ud, const struct ww_group_info *g)
{
    *(struct ww_group_info *)ud = *g;
}

static void owner_of(struct ww_store *s, const uint8_t gid[16], uint8_t out[32])
{
    struct ww_group_info info;
    ASSERT_OK(ww_group_get(s, gid, copy_info, &info));
    memcpy(out, info.owner, 32);
}

/* The hash of event `seq` of author in s's copy of the group. */
static void hash_at(struct ww_store *s, const uint8_t gid[16], const uint8_t author[32],
                    uint64_t seq, uint8_t out[32])
{
    struct ww_log_head h;
    int rc = 0;
    ASSERT_OK(ww_log_head(s, gid, author, &h));
    ASSERT(ww_log_hash_at(s, h.log, seq, out, NULL, &rc));
    ASSERT_OK(rc);
}

static uint64_t head_seq(struct ww_store *s, const uint8_t gid[16], const uint8_t author[32])
{
    struct ww_log_head h;
    ASSERT_OK(ww_log_head(s, gid, author, &h));
    return h.seq;
}

/*
 * Seals body b as device s with the header fields given (seq, prev, hlc, epoch): what any
 * holder of a device key can sign at any time, e.g. from an old copy of its data. GROUP
 * bodies are encrypted with the key s holds for that epoch.
 */
static void craft(struct ww_store *s, const uint8_t gid[16], const struct ww_body *b,
                  uint8_t audience, const uint8_t *ref, size_t ref_len, uint64_t seq,
                  const uint8_t prev[32], uint64_t hlc, uint32_t epoch, struct fx_ev *out,
                  uint8_t hash[32])
{
    struct ww_buf pt, hb, ct, buf;
    ww_buf_init(&pt, WW_MAX_BODY);
    ww_buf_init(&hb, 4096);
    ww_buf_init(&ct, WW_MAX_BODY);
    ww_buf_init(&buf, WW_MAX_EVENT);
    ASSERT_OK(ww_body_encode(b, &pt));
    struct ww_envelope env;
    memset(&env, 0, sizeof env);
    struct ww_header *h = &env.h;
    h->version = WW_PROTO_VERSION;
    memcpy(h->group, gid, 16);
    memcpy(h->author, s->pk, 32);
    h->seq = seq;
    if (seq > 1)
        memcpy(h->prev, prev, 32);
    h->hlc = hlc;
    h->epoch = epoch;
    h->kind = b->kind;
    h->audience = audience;
    if (ref_len)
        memcpy(h->ref, ref, ref_len);
    h->ref_len = (uint8_t)ref_len;
    const uint8_t *key = NULL;
    if (audience != WW_AUD_PLAIN) {
        ASSERT_OK(ww_cache_load(s, gid));
        key = ww_cache_key(s, audience, h->subject, epoch);
        ASSERT(key != NULL);
    }
    ASSERT_OK(ww_header_encode(h, &hb));
    struct ww_slice hs = {hb.p, hb.len};
    uint8_t rnd[WW_SEAL_RANDOM];
    ww_store_random(s, rnd, sizeof rnd);
    ASSERT_OK(ww_body_seal(rnd, &hs, audience, key, NULL, pt.p, pt.len, &ct));
    ww_ct_hash(ct.p, ct.len, env.ct_hash);
    ASSERT_OK(ww_event_sign(s->sk, &hs, env.ct_hash, env.sig));
    env.body.p = ct.p;
    env.body.len = ct.len;
    ASSERT_OK(ww_envelope_encode(&env, &buf));
    ww_event_hash(&hs, env.ct_hash, env.sig, hash);
    ASSERT(buf.len <= sizeof out->raw);
    memcpy(out->raw, buf.p, buf.len);
    out->len = buf.len;
    ww_buf_free(&pt);
    ww_buf_free(&hb);
    ww_buf_free(&ct);
    ww_buf_free(&buf);
}

/* A fork of author s's event `seq` (as `ref` holds it) that wins by the lower-hash rule
 * (6.16 step 3): the hlc is moved up from `hlc` until the hash is below the held one. */
static void craft_winning_fork(struct ww_store *s, struct ww_store *ref, const uint8_t gid[16],
                               const struct ww_body *b, uint8_t audience, const uint8_t *r,
                               size_t r_len, uint64_t seq, uint64_t hlc, uint32_t epoch,
                               struct fx_ev *out)
{
    uint8_t pk[32], prev[32] = {0}, held[32], hash[32];
    fx_device(s, pk);
    if (seq > 1)
        hash_at(ref, gid, pk, seq - 1, prev);
    hash_at(ref, gid, pk, seq, held);
    for (int i = 0; i < 4096; i++) {
        craft(s, gid, b, audience, r, r_len, seq, prev, hlc + (uint64_t)i, epoch, out, hash);
        if (memcmp(hash, held, 32) < 0)
            return;
    }
    ASSERT(!"no winning fork found");
}

/* ---- 1. A thief forks the lost owner phone below the recovery's cut-off -------------- */

/*
 * The coach's owner phone is lost; the coach recovers the group on a new phone (cut-off c,
 * the phone's last event the new phone held). The thief, holding the lost phone's key,
 * signs another event at seq c (a group.hub naming a hub of the thief's), grinding its hlc
 * until its hash is below that of the real event c, and with a clock an hour ahead. The
 * fork rule lets it take over event c; the rebuild that follows applies owner.recover
 * before the new event c (its log ends at c - 1 then, so the recovery waits), and when it
 * is tried again its hlc is below that of the thief's event c: it is refused for good. The
 * lost phone is the owner again on every replica that got the fork, the new owner's own
 * store included, and the thief's later events are not cut off any more.
 */
TEST(review3_thief_fork_at_the_cutoff_undoes_the_recovery)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    char code[WW_RECOVERY_CODE_MAX];
    ASSERT_OK(ww_recovery_key_create(g.coach, g.gid, code));
    fx_group_sync(&g);
    uint32_t d;
    ASSERT_OK(ww_day_today(g.coach, g.gid, &d));
    fx_now += 1000;
    ASSERT_OK(ww_challenge_schedule(g.coach, g.gid, d, "L02", NULL));
    fx_group_sync(&g);
    uint8_t cpk[32], npk[32], own[32];
    fx_device(g.coach, cpk);
    uint64_t c = head_seq(g.coach, g.gid, cpk);

    struct ww_store *np = fx_open("newphone");
    fx_device(np, npk);
    fx_sync(g.st[0], np, g.gid, 256);
    fx_now += 1000;
    ASSERT_OK(ww_owner_recover(np, g.gid, code));
    fx_deliver(np, g.st[0], g.gid);
    owner_of(g.st[0], g.gid, own);
    ASSERT_MEM_EQ(own, npk, 32); /* the recovery stands */

    /* The thief, from the lost phone: a winning fork of event c. */
    struct ww_body body;
    memset(&body, 0, sizeof body);
    body.kind = WW_KIND_GROUP_HUB;
    memset(body.u.group_hub.hub, 0x77, 32);
    body.u.group_hub.addr = ww_slice_of("thief.example:7420");
    struct fx_ev ev;
    uint64_t hlc = (uint64_t)(fx_now + 3600 * 1000) << 16;
    craft_winning_fork(g.coach, g.st[0], g.gid, &body, WW_AUD_PLAIN, NULL, 0, c, hlc, 1, &ev);
    fx_apply1(g.st[0], &ev);
    fx_apply1(np, &ev);

    /* Expected: the recovery still stands (nothing of the lost phone at or below its
     * cut-off can undo it), on the student's store and on the new owner's own. */
    owner_of(g.st[0], g.gid, own);
    ASSERT_MEM_EQ(own, npk, 32);
    owner_of(np, g.gid, own);
    ASSERT_MEM_EQ(own, npk, 32);
    ASSERT_EQ(fx_count(g.st[0], "SELECT count(*) FROM group_hubs"), 0);
    ww_store_close(np);
    fx_group_close(&g);
}

/* ---- 2. A thief hands the lost phone's group to a device of its own ------------------- */

/* ---- 3. A removed student writes again by forking below its cut-off ------------------- */

/*
 * The owner removes a student; the removal keeps the student's events up to its cut-off k
 * "and refuses every later one" (6.3). The removed student still holds the old GROUP key
 * and its device key: it signs a new day.off at seq k (prev = its event k - 1, old epoch,
 * a fresh hlc), grinding the hlc until the hash is below that of its real event k. Every
 * replica takes the fork over (6.16 step 3): the removed student has replaced what it
 * wrote with new content after its removal, and can do so up to WW_MAX_FORKS times (each
 * one a rebuild of the whole group on every replica).
 */
TEST(review3_removed_student_writes_again_below_its_cutoff)
{
    struct fx_group g;
    fx_group_make(&g, 2, 0, NULL);
    uint32_t d;
    ASSERT_OK(ww_day_today(g.st[0], g.gid, &d));
    fx_now += 1000;
    ASSERT_OK(ww_day_off(g.st[0], g.gid, d, 1, NULL));
    fx_group_sync(&g);
    fx_now += 1000;
    ASSERT_OK(ww_member_remove(g.coach, g.gid, g.m_st[0], NULL));
    fx_sync(g.coach, g.st[1], g.gid, 256);
    uint8_t spk[32], before[32], after[32];
    fx_device(g.st[0], spk);
    uint64_t k = head_seq(g.st[1], g.gid, spk);
    hash_at(g.st[1], g.gid, spk, k, before);
    long offs = fx_count(g.st[1], "SELECT count(*) FROM days_off");

    /* A day later, the removed student writes "no shift" for tomorrow. */
    fx_now += 24LL * 3600 * 1000;
    struct ww_body body;
    memset(&body, 0, sizeof body);
    body.kind = WW_KIND_DAY_OFF;
    body.u.day_off.date = d + 1;
    body.u.day_off.off = 1;
    uint8_t ref[4] = {(uint8_t)((d + 1) >> 24), (uint8_t)((d + 1) >> 16), (uint8_t)((d + 1) >> 8),
                      (uint8_t)(d + 1)};
    struct fx_ev ev;
    craft_winning_fork(g.st[0], g.st[1], g.gid, &body, WW_AUD_GROUP, ref, 4, k,
                       (uint64_t)fx_now << 16, 1, &ev);
    fx_apply1(g.st[1], &ev);
    fx_apply1(g.coach, &ev);

    /* Expected: what the removal kept stays as it was. */
    hash_at(g.st[1], g.gid, spk, k, after);
    ASSERT_MEM_EQ(after, before, 32);
    ASSERT_EQ(fx_count(g.st[1], "SELECT count(*) FROM days_off"), offs);
    fx_group_close(&g);
}

/* ---- 4. The new owner's first control event, before the handover, is refused --------- */

/* ---- 5. The thief replaces the recovery key by a fork ----------------------------------- */

/*
 * 6.28: "the first in the owners' logs stands ... so whoever holds the owner device later
 * (a thief) cannot replace it". The thief signs, with the lost phone's key, another event
 * at the seq of the phone's recovery.key, naming a recovery key of its own, and grinds the
 * hlc until its hash is the lower: every replica takes the fork over (6.16 step 3), so the
 * group's recovery key is the thief's and the coach's recovery code no longer works. (Any
 * owner-log event can be replaced this way, the member.adds after it included.)
 */
TEST(review3_thief_replaces_the_recovery_key_by_a_fork)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    char code[WW_RECOVERY_CODE_MAX];
    ASSERT_OK(ww_recovery_key_create(g.coach, g.gid, code));
    fx_group_sync(&g);
    uint8_t cpk[32];
    fx_device(g.coach, cpk);
    uint64_t r = head_seq(g.coach, g.gid, cpk); /* the recovery.key */

    struct ww_body body;
    memset(&body, 0, sizeof body);
    body.kind = WW_KIND_RECOVERY_KEY;
    uint8_t tsk[64];
    crypto_sign_keypair(body.u.recovery_key.pk, tsk);
    struct fx_ev ev;
    fx_now += 1000;
    craft_winning_fork(g.coach, g.st[0], g.gid, &body, WW_AUD_PLAIN, NULL, 0, r,
                       (uint64_t)fx_now << 16, 1, &ev);
    fx_apply1(g.st[0], &ev);

    struct ww_store *np = fx_open("newphone");
    fx_sync(g.st[0], np, g.gid, 256);
    fx_now += 1000;
    ASSERT_OK(ww_owner_recover(np, g.gid, code)); /* fails: WW_EBADSIG */
    ww_store_close(np);
    fx_group_close(&g);
}

/* ---- 6. The thief's own coach device survives the recovery ---------------------------- */

/* ---- 7. A rebuild replays the new owner's removal before the handover and drops it ---- */

/* ---- 8. A stale recovery wipes a student who joined since, from the student's own phone */

/*
 * The new phone's copy of the group came from a student's bundle a few days old; since
 * then the owner phone added a student, who wrote a day's reflection. The coach recovers
 * with that stale copy: nothing warns or checks that the cut-off leaves out what the hub
 * and the group hold (do_owner_recover takes its own head). The cut-off drops the member.add;
 * on the new student's own phone the rebuild then keeps its own events aside as a
 * stranger's (24 h), after which they are gone: the student's own texts are lost on every
 * replica, its own included.
 */
TEST(review3_stale_recovery_wipes_a_student_who_joined_since)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    char code[WW_RECOVERY_CODE_MAX];
    ASSERT_OK(ww_recovery_key_create(g.coach, g.gid, code));
    fx_group_sync(&g);
    struct ww_store *np = fx_open("newphone");
    fx_sync(g.st[0], np, g.gid, 256); /* the stale copy */

    struct ww_store *s2 = fx_open("late");
    uint8_t s2pk[32], m2[16];
    fx_device(s2, s2pk);
    fx_now += 1000;
    ASSERT_OK(ww_member_add(g.coach, g.gid, WW_ROLE_STUDENT, "Laat", 1, 1, s2pk, m2));
    fx_sync(g.coach, s2, g.gid, 256);
    uint32_t d;
    ASSERT_OK(ww_day_today(s2, g.gid, &d));
    fx_now += 1000;
    ASSERT_OK(ww_day_off(s2, g.gid, d, 1, NULL));
    fx_sync(s2, g.st[0], g.gid, 256);
    uint64_t mine = head_seq(s2, g.gid, s2pk);
    ASSERT(mine >= 1);

    fx_now += 1000;
    ASSERT_OK(ww_owner_recover(np, g.gid, code));
    fx_deliver(np, s2, g.gid);
    fx_now += 25LL * 3600 * 1000; /* a day later */
    fx_deliver(np, s2, g.gid);
    /* Expected: what the student wrote stays on its own phone at least. */
    ASSERT_EQ(head_seq(s2, g.gid, s2pk), mine);
    ww_store_close(s2);
    ww_store_close(np);
    fx_group_close(&g);
}

/* ---- 9. Keys of a cut-off key.epoch stay in use ----------------------------------------- */

/* ---- 10. A leave that reaches the owner in a bundle is never answered --------------------- */

/* ---- 11. Recovering on a device the lost phone had added ------------------------------- */

/* ---- 12. A thief's erase, cut off by the recovery, still destroys the texts ----------- */

/*
 * The thief, on the lost owner phone, erases a student (erase by the owner, above the
 * cut-off the recovery sets). The student's own phone applies it before the recovery:
 * the bodies of its events are stripped in its log. The recovery then cuts the erase off and
 * derives the group again, but a rebuild replays the stripped events as they are: the
 * student's own texts are gone from its own phone, and no sync brings them back (they count
 * as held), while a copy that got the recovery first still reads them. The thief's event
 * "stands nowhere" (6.29), yet its effect stays.
 */
TEST(review3_thief_erase_outlives_the_recovery)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    char code[WW_RECOVERY_CODE_MAX];
    ASSERT_OK(ww_recovery_key_create(g.coach, g.gid, code));
    uint32_t d;
    ASSERT_OK(ww_day_today(g.st[0], g.gid, &d));
    fx_now += 1000;
    uint8_t spk[32];
    fx_device(g.st[0], spk);
    ASSERT_OK(ww_day_off(g.st[0], g.gid, d, 1, NULL));
    uint64_t seq = head_seq(g.st[0], g.gid, spk);
    fx_group_sync(&g);
    struct ww_store *np = fx_open("newphone");
    struct ww_store *b = fx_open_db("student1", "b.db"); /* the student's tablet, say */
    fx_sync(g.st[0], np, g.gid, 256);
    fx_sync(g.st[0], b, g.gid, 256);
    fx_now += 1000;
    ASSERT_OK(ww_owner_recover(np, g.gid, code));

    fx_now += 1000;
    ASSERT_OK(ww_member_erase(g.coach, g.gid, g.m_st[0], NULL)); /* the thief */
    fx_deliver(g.coach, g.st[0], g.gid);
    ASSERT_EQ(fx_count(g.st[0], "SELECT count(*) FROM days_off"), 0);
    fx_deliver(np, g.st[0], g.gid);
    fx_deliver(np, g.st[0], g.gid);
    fx_deliver(np, b, g.gid);
    fx_deliver(g.coach, b, g.gid);

    /* Expected: with the erase cut off, the student reads its own day again. */
    struct ww_buf pt;
    struct ww_body body;
    ww_buf_init(&pt, WW_MAX_BODY);
    ASSERT_OK(ww_read_body(b, g.gid, spk, seq, &pt, &body)); /* the other copy still can */
    int rc = ww_read_body(g.st[0], g.gid, spk, seq, &pt, &body);
    ww_buf_free(&pt);
    ASSERT_OK(rc);
    ASSERT_EQ(fx_count(g.st[0], "SELECT count(*) FROM days_off"), 1);
    ww_store_close(b);
    ww_store_close(np);
    fx_group_close(&g);
}

/* ---- 14. A removed student undoes its removal with a stale bundle ---------------------- */

/*
 * The coach removed a student, then lost the owner phone. To recover, the new phone needs
 * the group's log "from a member's bundle" (6.29); the removed student, asked for one (or
 * the only one at hand), hands over a copy made before its removal. Nothing checks it:
 * the recovery's cut-off ends before the removal, so on every replica the removal and the
 * epoch after it leave the log, the student is a member again and the new owner's
 * key.epoch wraps the new GROUP key for the student's device.
 */
TEST(review3_removed_student_returns_through_a_stale_bundle)
{
    struct fx_group g;
    fx_group_make(&g, 2, 0, NULL);
    char code[WW_RECOVERY_CODE_MAX];
    ASSERT_OK(ww_recovery_key_create(g.coach, g.gid, code));
    fx_group_sync(&g);
    struct ww_store *old = fx_open_db("student1", "old.db");
    fx_sync(g.st[0], old, g.gid, 256); /* the student's copy before its removal */
    fx_now += 1000;
    ASSERT_OK(ww_member_remove(g.coach, g.gid, g.m_st[0], NULL));
    fx_sync(g.coach, g.st[1], g.gid, 256);
    fx_deliver(g.coach, g.st[0], g.gid);
    ASSERT_EQ(fx_count(g.st[1], "SELECT count(*) FROM members WHERE removed_epoch IS NOT NULL"), 1);

    struct ww_store *np = fx_open("newphone");
    fx_sync(old, np, g.gid, 256);
    fx_now += 1000;
    ASSERT_OK(ww_owner_recover(np, g.gid, code));
    fx_deliver(np, g.st[1], g.gid);
    fx_deliver(g.st[1], g.st[0], g.gid);
    /* Expected: the student stays removed and gets no key of the new owner's epoch. */
    ASSERT_EQ(fx_count(g.st[1], "SELECT count(*) FROM members WHERE removed_epoch IS NOT NULL"), 1);
    ASSERT_EQ(fx_count(g.st[0], "SELECT count(*) FROM keys WHERE audience=1 AND epoch>=2"), 0);
    ww_store_close(np);
    ww_store_close(old);
    fx_group_close(&g);
}

/* ---- 15. A hub that accepts listed coaches never takes the recovery --------------------- */

/* ---- 16. Too many coach devices: the recovery cannot be written ------------------------- */

/* ---- 17. The coach's second device cannot take over from the lost owner ---------------- */
