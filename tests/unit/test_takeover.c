/*
 * test_takeover.c - removal cut-offs, owner handover and recovery against an attacker: a
 * thief holding the lost owner phone, a second coach device, a peer sending crafted events,
 * a hub with a coach list. Each scenario below was first written as a test that failed
 * (an attack review); the comment above each test tells the attack, the test asserts that it
 * no longer works. The attacks that still work are in tests/review/test_review3.c (not
 * built; see docs/SECURITY.md, "Owner handover and recovery").
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

static void owner_of(struct ww_store *s, const uint8_t gid[16], uint8_t out[32])
{
    struct ww_group_info info;
    fx_group_info(s, gid, &info);
    memcpy(out, info.owner, 32);
}

/* ---- 1. A thief forks the lost owner phone below the recovery's cut-off -------------- */

/* ---- 2. A thief hands the lost phone's group to a device of its own ------------------- */

/*
 * The thief, on the lost owner phone, adds a device of its own to the coach's member and
 * hands the group over to it (both after the recovery's cut-off). A replica that gets the
 * thief's events before the new phone's has the thief's device as owner when
 * owner.recover arrives: `from` is no longer "the owner", so the recovery is refused
 * (WW_EROLE) and stays refused. A replica that gets the recovery first cuts the thief's
 * events off. The two never converge, and on the first one the thief keeps the group.
 */
TEST(takeover_a_thiefs_handover_does_not_stop_the_recovery)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    char code[WW_RECOVERY_CODE_MAX];
    ASSERT_OK(ww_recovery_key_create(g.coach, g.gid, code));
    fx_group_sync(&g);
    struct ww_store *b = fx_open_db("student1", "b.db");
    fx_sync(g.st[0], b, g.gid, 256);

    struct ww_store *np = fx_open("newphone");
    uint8_t npk[32], tpk[32], cm[16], oa[32], ob[32];
    fx_device(np, npk);
    fx_sync(g.st[0], np, g.gid, 256);
    fx_now += 1000;
    ASSERT_OK(ww_owner_recover(np, g.gid, code));

    struct ww_store *t = fx_open("thiefdevice");
    fx_device(t, tpk);
    fx_coach_member(g.coach, cm);
    fx_now += 1000;
    ASSERT_OK(ww_device_add(g.coach, g.gid, cm, tpk, NULL));
    fx_now += 1000;
    ASSERT_OK(ww_owner_handover(g.coach, g.gid, tpk, NULL));

    /* The student's store gets the thief's events first, the other copy the new phone's. */
    fx_deliver(g.coach, g.st[0], g.gid);
    fx_deliver(np, g.st[0], g.gid);
    fx_deliver(np, b, g.gid);
    fx_deliver(g.coach, b, g.gid);
    fx_deliver(g.st[0], b, g.gid);
    fx_deliver(b, g.st[0], g.gid);

    uint8_t ea[32], eb[32];
    fx_events_digest(g.st[0], ea);
    fx_events_digest(b, eb);
    owner_of(g.st[0], g.gid, oa);
    owner_of(b, g.gid, ob);
    ASSERT_MEM_EQ(ob, npk, 32); /* the copy that got the recovery first */
    ASSERT_MEM_EQ(oa, npk, 32); /* fails: the thief's device owns the group here */
    ASSERT_MEM_EQ(ea, eb, 32);
    ww_store_close(t);
    ww_store_close(np);
    ww_store_close(b);
    fx_group_close(&g);
}

/* ---- 3. A removed student writes again by forking below its cut-off ------------------- */

/* ---- 4. The new owner's first control event, before the handover, is refused --------- */

/*
 * 6.27: "the new owner's control events wait until the handover is held". The coach hands
 * the group to the laptop, and the laptop's first act as owner is to remove a student. A
 * student's phone that gets the laptop's events before the old phone's handover refuses
 * that member.remove for good (it is not owner-only, so check_member_remove sees a coach
 * device that is not the owner removing another member: WW_EROLE); the laptop's key.epoch
 * after it then waits forever behind the gap. Replicas that got the handover first removed
 * the student: the group is split. (A rebuild in hlc order does the same when the old
 * phone's clock ran more than the 60 s drag limit ahead of the laptop's; so do the new
 * owner's erase and its GROUP/PAIR key.share.)
 */
TEST(takeover_new_owners_removal_waits_for_its_handover)
{
    struct fx_group g;
    fx_group_make(&g, 2, 0, NULL);
    uint8_t lpk[32], cm[16];
    struct ww_store *laptop = fx_open("laptop");
    fx_device(laptop, lpk);
    fx_coach_member(g.coach, cm);
    ASSERT_OK(ww_device_add(g.coach, g.gid, cm, lpk, NULL));
    fx_group_sync(&g);
    fx_sync(g.coach, laptop, g.gid, 256);
    fx_now += 1000;
    ASSERT_OK(ww_owner_handover(g.coach, g.gid, lpk, NULL));
    fx_sync(g.coach, laptop, g.gid, 256);
    fx_now += 1000;
    ASSERT_OK(ww_member_remove(laptop, g.gid, g.m_st[1], NULL));

    size_t refused = fx_deliver_first(laptop, g.st[0], g.gid, lpk);
    fx_deliver(laptop, g.coach, g.gid);
    ASSERT_EQ(refused, 0);
    ASSERT_EQ(fx_count(g.st[0], "SELECT count(*) FROM pending"), 0);
    uint8_t e0[32], ec[32];
    fx_events_digest(g.st[0], e0);
    fx_events_digest(g.coach, ec);
    ASSERT_MEM_EQ(e0, ec, 32);
    ww_store_close(laptop);
    fx_group_close(&g);
}

/* ---- 5. The thief replaces the recovery key by a fork ----------------------------------- */

/* ---- 6. The thief's own coach device survives the recovery ---------------------------- */

/*
 * The thief, on the lost owner phone, first adds a device of its own to the coach's member
 * (device.add by the owner: vouched) and syncs it out. The coach recovers on a new phone
 * that got the log from a student, this device.add included (it is below the cut-off).
 * owner.recover retires only the lost phone: the thief's device stays an active, vouched
 * coach device, gets the new epoch's GROUP and PAIR keys from the new owner's key.epoch
 * (every coach device may read every learner's coach-only texts) and may write as the
 * coach. Nothing lets the new owner retire it: member.remove cannot name the owner's own
 * member and there is no device removal.
 */
TEST(takeover_recovery_retires_the_thiefs_coach_device)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    char code[WW_RECOVERY_CODE_MAX];
    ASSERT_OK(ww_recovery_key_create(g.coach, g.gid, code));
    fx_group_sync(&g);
    struct ww_store *t = fx_open("thiefdevice");
    uint8_t tpk[32], cm[16];
    fx_device(t, tpk);
    fx_coach_member(g.coach, cm);
    fx_now += 1000;
    ASSERT_OK(ww_device_add(g.coach, g.gid, cm, tpk, NULL));
    fx_group_sync(&g);

    struct ww_store *np = fx_open("newphone");
    fx_sync(g.st[0], np, g.gid, 256);
    fx_now += 1000;
    ASSERT_OK(ww_owner_recover(np, g.gid, code));
    fx_deliver(np, g.st[0], g.gid);
    fx_deliver(g.st[0], t, g.gid);
    ASSERT_EQ(fx_count(g.st[0], "SELECT max(epoch) FROM keys WHERE audience=1"), 2);
    /* Expected: the thief's device holds nothing of the epoch the recovery started. */
    ASSERT_EQ(fx_count(t, "SELECT max(epoch) FROM keys WHERE audience=1"), 1);
    ww_store_close(np);
    ww_store_close(t);
    fx_group_close(&g);
}

/* ---- 7. A rebuild replays the new owner's removal before the handover and drops it ---- */

/*
 * The old owner phone's clock runs ten minutes ahead (6.16 step 5 accepts up to 24 h); its
 * handover reaches the laptop, whose clock moves at most 60 s past its own (5.6), so the
 * laptop's removal of a student carries a lower hlc than the handover. Nothing is wrong
 * yet. Then any rebuild of the group (here a student's winning fork of its own day.off, as
 * a phone restored from a backup makes) replays the log "oldest hlc first": the removal
 * comes before the handover, is checked as a non-owner coach device removing another
 * member (WW_EROLE) and is rejected, so it leaves the laptop's own log; the key.epoch after
 * it waits behind the gap. The new owner lost its own control events, and the student is a
 * member again on the laptop.
 */
TEST(takeover_rebuild_keeps_the_new_owners_removal)
{
    struct fx_group g;
    fx_group_make(&g, 2, 0, NULL);
    uint8_t lpk[32], cm[16], spk[32];
    struct ww_store *laptop = fx_open("laptop");
    fx_device(laptop, lpk);
    fx_device(g.st[0], spk);
    fx_coach_member(g.coach, cm);
    ASSERT_OK(ww_device_add(g.coach, g.gid, cm, lpk, NULL));
    uint32_t d;
    ASSERT_OK(ww_day_today(g.st[0], g.gid, &d));
    fx_now += 1000;
    ASSERT_OK(ww_day_off(g.st[0], g.gid, d, 1, NULL));
    fx_group_sync(&g);
    fx_sync(g.coach, laptop, g.gid, 256);

    fx_now += 10 * 60 * 1000; /* the old phone's clock, ten minutes ahead */
    ASSERT_OK(ww_owner_handover(g.coach, g.gid, lpk, NULL));
    fx_now -= 10 * 60 * 1000;
    fx_sync(g.coach, laptop, g.gid, 256);
    fx_now += 1000;
    ASSERT_OK(ww_member_remove(laptop, g.gid, g.m_st[1], NULL));
    uint64_t head = fx_head_seq(laptop, g.gid, lpk);
    ASSERT_EQ(fx_count(laptop, "SELECT count(*) FROM members WHERE removed_epoch IS NOT NULL"), 1);

    /* A student's phone restored from a backup writes its first event again. */
    struct ww_body body;
    memset(&body, 0, sizeof body);
    body.kind = WW_KIND_DAY_OFF;
    body.u.day_off.date = d + 1;
    body.u.day_off.off = 1;
    uint8_t ref[4] = {(uint8_t)((d + 1) >> 24), (uint8_t)((d + 1) >> 16), (uint8_t)((d + 1) >> 8),
                      (uint8_t)(d + 1)};
    struct fx_ev ev;
    fx_craft_winning_fork(g.st[0], laptop, g.gid, &body, WW_AUD_GROUP, ref, 4, 1,
                          (uint64_t)fx_now << 16, 1, &ev);
    fx_apply1(laptop, &ev);

    /* Expected: the laptop keeps its own events, and the student stays removed. */
    ASSERT_EQ(fx_head_seq(laptop, g.gid, lpk), head);
    ASSERT_EQ(fx_count(laptop, "SELECT count(*) FROM members WHERE removed_epoch IS NOT NULL"), 1);
    ww_store_close(laptop);
    fx_group_close(&g);
}

/* ---- 8. A stale recovery wipes a student who joined since, from the student's own phone */

/* ---- 9. Keys of a cut-off key.epoch stay in use ----------------------------------------- */

/*
 * The thief, on the lost owner phone, removes a student, which starts epoch 2 with GROUP
 * and PAIR keys the thief made (both above the cut-off the recovery will set). A student
 * gets these first. Then the recovery arrives: the thief's events leave the log and the new
 * owner starts epoch 2 again with its own keys. But a rebuild keeps every key a device
 * holds, so the student now holds two GROUP keys for epoch 2, the thief's among them, and
 * writes with the first in key order: half the time the thief's, which then reads the
 * student's texts of the "new" epoch.
 */
TEST(takeover_thiefs_epoch_keys_go_with_its_epoch)
{
    struct fx_group g;
    fx_group_make(&g, 2, 0, NULL);
    char code[WW_RECOVERY_CODE_MAX];
    ASSERT_OK(ww_recovery_key_create(g.coach, g.gid, code));
    fx_group_sync(&g);
    struct ww_store *np = fx_open("newphone");
    fx_sync(g.st[0], np, g.gid, 256);
    fx_now += 1000;
    ASSERT_OK(ww_owner_recover(np, g.gid, code));

    fx_now += 1000;
    ASSERT_OK(ww_member_remove(g.coach, g.gid, g.m_st[1], NULL)); /* the thief */
    fx_deliver(g.coach, g.st[0], g.gid);
    fx_deliver(np, g.st[0], g.gid);
    fx_deliver(np, g.coach, g.gid);
    ASSERT_EQ(fx_count(g.st[0], "SELECT count(*) FROM members WHERE removed_epoch IS NOT NULL"), 0);

    uint32_t d;
    ASSERT_OK(ww_day_today(g.st[0], g.gid, &d));
    fx_now += 1000;
    uint8_t spk[32];
    fx_device(g.st[0], spk);
    ASSERT_OK(ww_day_off(g.st[0], g.gid, d, 1, NULL));
    uint64_t seq = fx_head_seq(g.st[0], g.gid, spk);
    fx_deliver(g.st[0], g.coach, g.gid);
    ASSERT_EQ(fx_head_seq(g.coach, g.gid, spk), seq);
    struct ww_buf pt;
    struct ww_body body;
    ww_buf_init(&pt, WW_MAX_BODY);
    int rc = ww_read_body(g.coach, g.gid, spk, seq, &pt, &body);
    ww_buf_free(&pt);
    /* Expected: the lost phone reads nothing of the new epoch, and the student holds only
     * the new owner's GROUP key of it. */
    ASSERT(rc != 0);
    ASSERT_EQ(fx_count(g.st[0], "SELECT count(*) FROM keys WHERE audience=1 AND epoch=2"), 1);
    ww_store_close(np);
    fx_group_close(&g);
}

/* ---- 10. A leave that reaches the owner in a bundle is never answered --------------------- */

/* Runs the command (build/wegwijs, which `make` builds) and returns the first line of its
 * output in out. */
static void cli_line(char *out, size_t cap, const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    FILE *p = popen(cmd, "r");
    ASSERT(p != NULL);
    out[0] = '\0';
    if (fgets(out, (int)cap, p))
        out[strcspn(out, "\n")] = '\0';
    char rest[512];
    while (fgets(rest, sizeof rest, p))
        ;
    ASSERT_EQ(pclose(p), 0);
}

/*
 * 5.7 and 6.3: the owner device answers a leave "when it applies it" with a removal of its
 * own (the cut-offs of the member's other devices) and a new key epoch. Only the network
 * layer does (sync/net.c, session_changed); `wegwijs leave` on a device without a hub says
 * the others learn of it at the next exchange, and `wegwijs bundle import` on the owner
 * applies the leave but never calls ww_removals_rekey. Nor does a later sync that brings no
 * control event. The leaver's other devices keep the group's current keys and stay open
 * up to the leave's hlc for as long as the owner exchanges only bundles.
 */
TEST(takeover_leave_by_bundle_is_answered)
{
    char c[512], s[512], ckey[80], skey[80], gid[80], line[512];
    snprintf(c, sizeof c, "%s/cli-coach", ww_test_tmpdir());
    snprintf(s, sizeof s, "%s/cli-student", ww_test_tmpdir());
    const char *w = "build/wegwijs";
    cli_line(ckey, sizeof ckey, "%s --data %s init 2>/dev/null", w, c);
    cli_line(skey, sizeof skey, "%s --data %s init 2>/dev/null", w, s);
    cli_line(gid, sizeof gid, "%s --data %s group create G --alias A 2>/dev/null", w, c);
    cli_line(line, sizeof line,
             "%s --data %s member add %s --role student --alias Sam --year 2 --track bbl "
             "--device %s 2>/dev/null",
             w, c, gid, skey);
    cli_line(line, sizeof line,
             "%s --data %s bundle export %s %s/b1 >/dev/null 2>&1 && "
             "%s --data %s bundle import %s/b1 2>/dev/null",
             w, c, gid, c, w, s, c);
    cli_line(line, sizeof line, "%s --data %s leave %s 2>/dev/null", w, s, gid);
    cli_line(line, sizeof line,
             "%s --data %s bundle export %s %s/b2 >/dev/null 2>&1 && "
             "%s --data %s bundle import %s/b2 2>/dev/null",
             w, s, gid, s, w, c, s);

    struct ww_store *cs = NULL;
    ASSERT_OK(ww_store_open(c, NULL, &cs));
    ASSERT_EQ(fx_count(cs, "SELECT count(*) FROM members WHERE removed_epoch IS NOT NULL"), 1);
    /* Expected: the owner answered the leave with its removal and epoch 2. */
    ASSERT_EQ(fx_count(cs, "SELECT count(*) FROM members WHERE removed_epoch=4294967294"), 0);
    ASSERT_EQ(fx_count(cs, "SELECT epoch FROM groups"), 2);
    ww_store_close(cs);
}

/* ---- 11. Recovering on a device the lost phone had added ------------------------------- */

/*
 * The coach added the laptop to the coach's member on the owner phone, but the laptop's
 * copy of the group predates that device.add. The phone is lost; the coach recovers on the
 * laptop. The laptop does not see itself in its copy, so ww_owner_recover goes ahead, with
 * a cut-off below the device.add. A replica that holds the device.add refuses the
 * owner.recover outright (apply.c: the author is a device of the group already, WW_EEXIST),
 * although the recovery's own cut-off would drop that device.add; a replica without it
 * applies the recovery and then refuses the device.add. The group splits for good.
 */
TEST(takeover_recovery_on_a_device_the_lost_phone_added)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    char code[WW_RECOVERY_CODE_MAX];
    ASSERT_OK(ww_recovery_key_create(g.coach, g.gid, code));
    fx_group_sync(&g);
    struct ww_store *b = fx_open_db("student1", "b.db");
    fx_sync(g.st[0], b, g.gid, 256);
    struct ww_store *laptop = fx_open("laptop");
    uint8_t lpk[32], cm[16], oa[32], ob[32];
    fx_device(laptop, lpk);
    fx_sync(g.st[0], laptop, g.gid, 256);
    fx_coach_member(g.coach, cm);
    fx_now += 1000;
    ASSERT_OK(ww_device_add(g.coach, g.gid, cm, lpk, NULL));
    fx_sync(g.coach, g.st[0], g.gid, 256);

    fx_now += 1000;
    ASSERT_OK(ww_owner_recover(laptop, g.gid, code));
    fx_deliver(laptop, g.st[0], g.gid);
    fx_deliver(laptop, b, g.gid);
    fx_deliver(g.st[0], b, g.gid);
    fx_deliver(b, g.st[0], g.gid);
    owner_of(b, g.gid, ob);
    ASSERT_MEM_EQ(ob, lpk, 32);
    owner_of(g.st[0], g.gid, oa);
    ASSERT_MEM_EQ(oa, lpk, 32); /* fails: the recovery was refused here */
    ww_store_close(laptop);
    ww_store_close(b);
    fx_group_close(&g);
}

/* ---- 12. A thief's erase, cut off by the recovery, still destroys the texts ----------- */

/* ---- 13. Two recoveries of the lost phone, one of them recovered from in turn ---------- */

/*
 * The coach recovers the lost phone O on n1 and, unsure it worked, on n2 as well (n2's
 * owner.recover has the lower hash, but n2 stays offline). Later n1 is lost too and the
 * coach recovers from n1 on n3. A replica that got n1 and n3 first refused n2's recovery
 * when it came (from O, which is no longer the owner, and the recovery in force is of n1,
 * not of O: WW_EROLE). A replica that got n2 first kept n2 (the lower hash) and never
 * applied n3 (from n1, not a device there). The group split for good. Now the recovery of
 * O is compared with the one of O in force, whatever was built on it: n2 stands on every
 * replica, n1 leaves from its recovery on and n3's recovery of n1 waits, in every order.
 */
struct chain {
    struct fx_group g;
    struct ww_store *n[3]; /* n1, n2, n3 */
    uint8_t pk[3][32];
};

/* laptop: n1 is the coach's second device, not a new one. */
static void chain_make(struct chain *c, int laptop)
{
    fx_group_make(&c->g, 1, 0, NULL);
    char code[WW_RECOVERY_CODE_MAX];
    ASSERT_OK(ww_recovery_key_create(c->g.coach, c->g.gid, code));
    uint8_t h1[32], h2[32], cm[16];
    c->n[0] = fx_open("n1");
    fx_device(c->n[0], c->pk[0]);
    fx_coach_member(c->g.coach, cm);
    if (laptop)
        ASSERT_OK(ww_device_add(c->g.coach, c->g.gid, cm, c->pk[0], NULL));
    fx_group_sync(&c->g);
    fx_sync(c->g.st[0], c->n[0], c->g.gid, 256);
    fx_now += 1000;
    ASSERT_OK(ww_owner_recover(c->n[0], c->g.gid, code));
    uint64_t r1 = 0;
    ASSERT_OK(ww_log_first_of_kind(c->n[0], c->g.gid, c->pk[0], WW_KIND_OWNER_RECOVER, &r1));
    fx_hash_at(c->n[0], c->g.gid, c->pk[0], r1, h1);
    /* n2: a recovery of O with a lower hash than n1's. */
    c->n[1] = NULL;
    for (int i = 0; i < 64 && !c->n[1]; i++) {
        char name[16];
        snprintf(name, sizeof name, "n2-%d", i);
        c->n[1] = fx_open(name);
        fx_device(c->n[1], c->pk[1]);
        fx_sync(c->g.st[0], c->n[1], c->g.gid, 256);
        ASSERT_OK(ww_owner_recover(c->n[1], c->g.gid, code));
        fx_hash_at(c->n[1], c->g.gid, c->pk[1], 1, h2);
        if (memcmp(h2, h1, 32) > 0) {
            ww_store_close(c->n[1]);
            c->n[1] = NULL;
        }
    }
    ASSERT(c->n[1] != NULL);
    /* n1 works as the owner, then is lost: n3 recovers from it. */
    fx_now += 1000;
    uint8_t dpk[32], dsk[64], dm[16];
    crypto_sign_keypair(dpk, dsk);
    ASSERT_OK(ww_member_add(c->n[0], c->g.gid, WW_ROLE_STUDENT, "Sanne", 2, 1, dpk, dm));
    c->n[2] = fx_open("n3");
    fx_device(c->n[2], c->pk[2]);
    fx_sync(c->n[0], c->n[2], c->g.gid, 256);
    fx_now += 1000;
    ASSERT_OK(ww_owner_recover(c->n[2], c->g.gid, code));
}

static void chain_close(struct chain *c)
{
    for (int i = 0; i < 3; i++)
        ww_store_close(c->n[i]);
    fx_group_close(&c->g);
}

/* A copy of the group that receives n1, n2 and n3 in the order given (0-based), each
 * with all it holds; its owner and event digest into owner and digest. */
static void chain_replica(struct chain *c, const char *name, const int order[3], uint8_t owner[32],
                          uint8_t digest[32])
{
    struct ww_store *r = fx_open_db("student1", name);
    fx_sync(c->g.st[0], r, c->g.gid, 256);
    for (int i = 0; i < 3; i++)
        fx_deliver(c->n[order[i]], r, c->g.gid);
    owner_of(r, c->g.gid, owner);
    fx_events_digest(r, digest);
    ASSERT_EQ(fx_head_seq(r, c->g.gid, c->pk[0]), 0); /* n1 from its recovery on */
    ASSERT_EQ(fx_head_seq(r, c->g.gid, c->pk[2]), 0); /* n3's recovery of n1 */
    ww_store_close(r);
}

static void chain_converges(int laptop)
{
    static const int orders[][3] = {
        {0, 2, 1}, /* n2 last */
        {1, 0, 2}, /* n2 first */
        {2, 0, 1}, /* n3 first */
        {2, 1, 0}, {0, 1, 2}, {1, 2, 0},
    };
    struct chain c;
    chain_make(&c, laptop);
    uint8_t digest0[32];
    for (size_t i = 0; i < sizeof orders / sizeof orders[0]; i++) {
        char name[16];
        uint8_t owner[32], digest[32];
        snprintf(name, sizeof name, "r%zu.db", i);
        chain_replica(&c, name, orders[i], owner, digest);
        ASSERT_MEM_EQ(owner, c.pk[1], 32); /* the lower hash stands */
        if (i == 0)
            memcpy(digest0, digest, 32);
        ASSERT_MEM_EQ(digest, digest0, 32);
    }
    chain_close(&c);
}

TEST(takeover_chained_recoveries_do_not_split_the_group)
{
    chain_converges(0);
}

/* The same when n1 is the coach's second device: it stays a device, without its recovery
 * and what followed, and n3's recovery of it is refused everywhere (n1 was never the
 * owner once n2's recovery stands). */
TEST(takeover_chained_recoveries_from_a_second_device_do_not_split_the_group)
{
    chain_converges(1);
}

/* ---- 14. A removed student undoes its removal with a stale bundle ---------------------- */

/* ---- 15. A hub that accepts listed coaches never takes the recovery --------------------- */

/* One dial of `dev` to a fresh hub node on `hub_cfg`'s store, for one group. */
static int dial_hub(const struct ww_node_cfg *hub_cfg, struct ww_store *dev, const uint8_t gid[16])
{
    uv_loop_t loop;
    ASSERT_OK(uv_loop_init(&loop));
    struct loop_watch wh = {0}, wd = {0};
    struct ww_node_cfg cfg = *hub_cfg;
    cfg.ud = &wh;
    cfg.on_conn = loop_on_conn;
    struct ww_node *hub = NULL;
    ASSERT_OK(ww_node_new(&loop, &cfg, &hub));
    struct ww_node *d = loop_node(&loop, dev, 0, &wd);
    ASSERT_OK(ww_node_listen(hub, "127.0.0.1", 0));
    ASSERT_OK(ww_node_dial(d, "127.0.0.1", ww_node_port(hub), NULL,
                           (const uint8_t(*)[WW_ID_LEN])gid, 1, 1));
    loop_run_until(&loop, &wd.down, 1);
    int n_closed = 0;
    ww_node_close(d, loop_closed, &n_closed);
    ww_node_close(hub, loop_closed, &n_closed);
    loop_run_until(&loop, &n_closed, 2);
    ASSERT_OK(uv_loop_close(&loop));
    return wd.last_error;
}

/*
 * 9.2: "A hub may also accept only groups whose owner device is on a list its operator
 * keeps", and a hub decides after each batch, rolling back a batch after which it would not
 * serve the group. The owner device is the lost phone, on the list; after owner.recover the
 * owner is the new phone, which is not. A student who brings the recovery to the hub (the
 * way 6.29 says it gets there) has that batch rolled back and is denied: the hub never holds
 * the recovery, while the thief on the lost phone is still served. (A handover to the
 * coach's laptop has the same effect.)
 */
TEST(takeover_hub_with_a_coach_list_takes_the_recovery)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    struct ww_store *hub_store = fx_open("hub");
    uint8_t hub_pk[32], listed[1][WW_KEY_LEN];
    ww_store_device(hub_store, hub_pk);
    ww_store_device(g.coach, listed[0]);
    struct ww_node_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.store = hub_store;
    cfg.hub = 1;
    cfg.accept_new_groups = 1;
    cfg.coaches = (const uint8_t(*)[WW_KEY_LEN])listed;
    cfg.n_coaches = 1;
    char code[WW_RECOVERY_CODE_MAX];
    ASSERT_OK(ww_recovery_key_create(g.coach, g.gid, code));
    ASSERT_OK(ww_group_hub_set(g.coach, g.gid, hub_pk, "", NULL));
    fx_group_sync(&g);
    ASSERT_OK(dial_hub(&cfg, g.coach, g.gid));

    struct ww_store *np = fx_open("newphone");
    fx_sync(g.st[0], np, g.gid, 256);
    fx_now += 1000;
    ASSERT_OK(ww_owner_recover(np, g.gid, code));
    fx_deliver(np, g.st[0], g.gid);
    /* Expected: the student brings the recovery to the hub, and the lost phone is denied. */
    ASSERT_OK(dial_hub(&cfg, g.st[0], g.gid));
    ASSERT(dial_hub(&cfg, g.coach, g.gid) != 0);
    ww_store_close(np);
    ww_store_close(hub_store);
    fx_group_close(&g);
}

/* ---- 16. Too many coach devices: the recovery cannot be written ------------------------- */

/*
 * A key.epoch carries at most 64 wraps (WW_MAX_WRAPS), and start_epoch puts them all in
 * one event: one GROUP wrap per active device plus, per learner, a PAIR wrap for each of the
 * learner's devices and each coach device. The thief, on the lost owner phone, adds 20
 * devices to the coach's member (the owner may, up to the group's 48) and syncs them out
 * before the coach recovers. ww_owner_recover must write its key.epoch right after the
 * owner.recover (6.29), which now needs 2 + 21 GROUP wraps and 2 * (1 + 21) PAIR wraps: it fails
 * with WW_ETOOBIG, and so does every later try. (A member.remove by the owner of a large
 * group fails the same way.)
 */
TEST(takeover_many_coach_devices_do_not_stop_the_recovery)
{
    struct fx_group g;
    fx_group_make(&g, 2, 0, NULL);
    char code[WW_RECOVERY_CODE_MAX];
    ASSERT_OK(ww_recovery_key_create(g.coach, g.gid, code));
    uint8_t cm[16];
    fx_coach_member(g.coach, cm);
    for (int i = 0; i < 20; i++) {
        uint8_t pk[32], sk[64];
        crypto_sign_keypair(pk, sk);
        fx_now += 1000;
        ASSERT_OK(ww_device_add(g.coach, g.gid, cm, pk, NULL)); /* the thief */
    }
    fx_group_sync(&g);
    struct ww_store *np = fx_open("newphone");
    fx_sync(g.st[0], np, g.gid, 256);
    fx_now += 1000;
    ASSERT_OK(ww_owner_recover(np, g.gid, code)); /* fails: WW_ETOOBIG */
    ww_store_close(np);
    fx_group_close(&g);
}

/* ---- 17. The coach's second device cannot take over from the lost owner ---------------- */

/*
 * 6.29 is for "a coach who lost the owner device, with no other device to hand the group
 * to (6.27)". But only the owner writes owner.handover: with the owner phone lost, the
 * coach's laptop (a vouched coach device with every key) cannot be handed the group, and
 * ww_owner_recover refuses it too (WW_EEXIST, "a device of the group hands over instead").
 * The coach has to start a new data folder with a new key, and the laptop stays a plain
 * coach device. Expected: the laptop can take the group over with the recovery code.
 */
TEST(takeover_second_coach_device_takes_over)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    char code[WW_RECOVERY_CODE_MAX];
    ASSERT_OK(ww_recovery_key_create(g.coach, g.gid, code));
    struct ww_store *laptop = fx_open("laptop");
    uint8_t lpk[32], cm[16], own[32];
    fx_device(laptop, lpk);
    fx_coach_member(g.coach, cm);
    ASSERT_OK(ww_device_add(g.coach, g.gid, cm, lpk, NULL));
    fx_group_sync(&g);
    fx_sync(g.coach, laptop, g.gid, 256);
    /* The owner phone is lost. */
    fx_now += 1000;
    ASSERT_OK(ww_owner_recover(laptop, g.gid, code)); /* fails: WW_EEXIST */
    owner_of(laptop, g.gid, own);
    ASSERT_MEM_EQ(own, lpk, 32);
    ww_store_close(laptop);
    fx_group_close(&g);
}
