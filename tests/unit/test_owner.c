/*
 * test_owner.c - the owner device hands the group over to another device of the coach's
 * (owner.handover): the control log goes on from the new owner on every replica, whatever
 * the order in which the two devices' events arrive.
 */
#include <sodium.h>
#include <sqlite3.h>
#include <string.h>

#include "fixture.h"
#include "runner.h"
#include "store.h"

/* The coach's second device (a laptop), added by the owner to the coach's own member. */
static struct ww_store *laptop_of(struct fx_group *g, uint8_t pk[32])
{
    struct ww_store *laptop = fx_open("laptop");
    uint8_t coach_member[16];
    fx_device(laptop, pk);
    fx_coach_member(g->coach, coach_member);
    ASSERT_OK(ww_device_add(g->coach, g->gid, coach_member, pk, NULL));
    fx_sync(g->coach, laptop, g->gid, 256);
    return laptop;
}

TEST(owner_handover_moves_the_control_log)
{
    struct fx_group g;
    fx_group_make(&g, 2, 0, NULL);
    uint8_t lpk[32], cpk[32], spk[32], m[16];
    struct ww_store *laptop = laptop_of(&g, lpk);
    fx_device(g.coach, cpk);

    /* Only the owner hands over, and only to another device of its own member. */
    fx_device(g.st[0], spk);
    ASSERT_ERR(ww_owner_handover(laptop, g.gid, lpk, NULL), WW_EROLE);
    ASSERT_ERR(ww_owner_handover(g.coach, g.gid, spk, NULL), WW_ENOTFOUND);
    ASSERT_ERR(ww_owner_handover(g.coach, g.gid, cpk, NULL), WW_EINVAL);
    fx_now += 1000;
    ASSERT_OK(ww_owner_handover(g.coach, g.gid, lpk, NULL));
    fx_sync(g.coach, laptop, g.gid, 256);

    /* The laptop manages the members now; the old phone no longer does. */
    struct ww_store *third = fx_open("third");
    fx_device(third, spk);
    ASSERT_ERR(ww_member_add(g.coach, g.gid, WW_ROLE_STUDENT, "Derde", 1, 1, spk, m), WW_EROLE);
    fx_now += 1000;
    ASSERT_OK(ww_member_add(laptop, g.gid, WW_ROLE_STUDENT, "Derde", 1, 1, spk, m));
    ASSERT_OK(ww_member_remove(laptop, g.gid, g.m_st[1], NULL));
    struct ww_group_info info;
    fx_group_info(laptop, g.gid, &info);
    ASSERT(info.is_owner);
    ASSERT_EQ(info.epoch, 2);

    /* One student gets the laptop's events before the handover, the other after. */
    ASSERT_EQ(fx_deliver_first(laptop, g.st[0], g.gid, lpk), 0);
    fx_sync(g.coach, g.st[1], g.gid, 256);
    fx_deliver(laptop, g.st[1], g.gid);
    fx_sync(laptop, g.coach, g.gid, 256);
    uint8_t d0[32], dc[32], dl[32];
    fx_digest_except(g.st[0], "reflections", d0);
    fx_digest_except(g.coach, "reflections", dc);
    fx_digest_except(laptop, "reflections", dl);
    ASSERT_MEM_EQ(dc, dl, 32);
    ASSERT_MEM_EQ(d0, dc, 32);
    ASSERT_EQ(fx_count(g.st[0], "SELECT count(*) FROM pending"), 0);
    ASSERT_EQ(fx_count(g.st[0], "SELECT count(*) FROM members WHERE removed_epoch IS NULL"), 3);
    /* The removed student learned of it from the new owner's log. */
    ASSERT_EQ(fx_count(g.st[1], "SELECT count(*) FROM members WHERE removed_epoch IS NOT NULL"), 1);
    fx_group_info(g.coach, g.gid, &info);
    ASSERT(!info.is_owner);
    ASSERT_MEM_EQ(info.owner, lpk, 32);
    ww_store_close(third);
    ww_store_close(laptop);
    fx_group_close(&g);
}

/* What the old owner writes as owner after its handover is never applied, wherever it
 * arrives: the handover precedes it in its own log. */
TEST(owner_old_device_writes_no_control_after_its_handover)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    uint8_t lpk[32], spk[32];
    struct ww_store *laptop = laptop_of(&g, lpk);
    ASSERT_OK(ww_owner_handover(g.coach, g.gid, lpk, NULL));
    fx_sync(g.coach, g.st[0], g.gid, 256);
    struct ww_store *x = fx_open("x");
    fx_device(x, spk);
    struct ww_body body;
    memset(&body, 0, sizeof body);
    body.kind = WW_KIND_MEMBER_ADD;
    struct ww_body_member_add *a = &body.u.member_add;
    memset(a->member, 9, 16);
    a->role = WW_ROLE_STUDENT;
    a->n_devices = 1;
    memcpy(a->devices[0], spk, 32);
    struct fx_ev ev;
    fx_seal_plain(g.coach, g.gid, &body, &ev);
    ASSERT_EQ(fx_apply1(g.st[0], &ev).accepted, 0);
    ASSERT_EQ(fx_apply1(laptop, &ev).accepted, 0);
    ASSERT_EQ(fx_count(g.st[0], "SELECT count(*) FROM members"), 2);
    /* Nor can it end the coach's own member, the new owner's, as if it left. */
    memset(&body, 0, sizeof body);
    body.kind = WW_KIND_MEMBER_REMOVE;
    fx_coach_member(g.coach, body.u.member_remove.member);
    fx_seal_plain(g.coach, g.gid, &body, &ev);
    ASSERT_EQ(fx_apply1(g.st[0], &ev).rejected, 1);
    ASSERT_EQ(fx_count(g.st[0], "SELECT count(*) FROM members WHERE removed_epoch IS NOT NULL"), 0);
    ww_store_close(x);
    ww_store_close(laptop);
    fx_group_close(&g);
}

/* ---- Recovery ----------------------------------------------------------------------------- */

/*
 * The coach's only phone, the owner device, is lost. A thief writes on it as the owner (a
 * member added, offline, then synced). The coach types the recovery code on a new phone that
 * got the group's log from a student: the new phone is the owner, the lost one is cut off
 * where the new phone's copy of it ended, and whatever order the students get the new
 * phone's and the thief's events in, they end the same, without the thief's.
 */
TEST(owner_recovery_code_takes_the_group_from_a_lost_phone)
{
    struct fx_group g;
    fx_group_make(&g, 2, 0, NULL);
    char code[WW_RECOVERY_CODE_MAX], again[WW_RECOVERY_CODE_MAX];
    ASSERT_ERR(ww_recovery_key_create(g.st[0], g.gid, code), WW_EROLE);
    ASSERT_OK(ww_recovery_key_create(g.coach, g.gid, code));
    ASSERT_EQ(strlen(code), 71);
    ASSERT_ERR(ww_recovery_key_create(g.coach, g.gid, again), WW_EEXIST);
    fx_group_sync(&g);
    uint32_t d;
    ASSERT_OK(ww_day_today(g.coach, g.gid, &d));
    fx_now += 1000;
    ASSERT_OK(ww_challenge_schedule(g.coach, g.gid, d, "L02", NULL));
    fx_group_sync(&g);

    /* The thief, on the lost phone. */
    struct ww_store *x = fx_open("x");
    uint8_t xpk[32], xm[16];
    fx_device(x, xpk);
    fx_now += 1000;
    ASSERT_OK(ww_member_add(g.coach, g.gid, WW_ROLE_STUDENT, "Dief", 1, 1, xpk, xm));

    /* The new phone: the log from a student, then the code. */
    struct ww_store *np = fx_open("newphone");
    fx_sync(g.st[0], np, g.gid, 256);
    ASSERT_ERR(ww_owner_recover(np, g.gid, "1234"), WW_EINVAL);
    char wrong[WW_RECOVERY_CODE_MAX];
    memcpy(wrong, code, sizeof wrong);
    wrong[0] = wrong[0] == '0' ? '1' : '0';
    ASSERT_ERR(ww_owner_recover(np, g.gid, wrong), WW_EBADSIG);
    ASSERT_ERR(ww_owner_recover(g.st[1], g.gid, code), WW_EEXIST);
    fx_now += 1000;
    ASSERT_OK(ww_owner_recover(np, g.gid, code));
    struct ww_group_info info;
    fx_group_info(np, g.gid, &info);
    ASSERT(info.is_owner);
    ASSERT_EQ(info.epoch, 2);
    struct ww_store *fourth = fx_open("fourth");
    uint8_t fpk[32], fm[16];
    fx_device(fourth, fpk);
    ASSERT_OK(ww_member_add(np, g.gid, WW_ROLE_STUDENT, "Vier", 1, 1, fpk, fm));

    /* student1 gets the thief's events first, student2 the new phone's. */
    fx_sync(g.coach, g.st[0], g.gid, 256);
    ASSERT_EQ(fx_count(g.st[0], "SELECT count(*) FROM members WHERE alias='Dief'"), 1);
    fx_deliver(np, g.st[0], g.gid);
    fx_deliver(np, g.st[1], g.gid);
    fx_deliver(g.coach, g.st[1], g.gid);
    fx_deliver(g.st[1], g.coach, g.gid); /* the lost phone learns, too */
    uint8_t e0[32], e1[32], en[32], s0[32], s1[32];
    fx_events_digest(g.st[0], e0);
    fx_events_digest(g.st[1], e1);
    fx_events_digest(np, en);
    ASSERT_MEM_EQ(e0, e1, 32);
    ASSERT_MEM_EQ(e0, en, 32);
    fx_digest_except(g.st[0], "reflections", s0);
    fx_digest_except(g.st[1], "reflections", s1);
    ASSERT_MEM_EQ(s0, s1, 32);
    for (int i = 0; i < 2; i++) {
        ASSERT_EQ(fx_count(g.st[i], "SELECT count(*) FROM members WHERE alias='Dief'"), 0);
        ASSERT_EQ(fx_count(g.st[i], "SELECT count(*) FROM members WHERE alias='Vier'"), 1);
        ASSERT_EQ(fx_count(g.st[i], "SELECT count(*) FROM schedule"), 1);
        ASSERT_EQ(fx_count(g.st[i], "SELECT max(epoch) FROM keys WHERE audience=1"), 2);
    }
    /* The lost phone holds no key of the new epoch and writes nothing more. */
    ASSERT_EQ(fx_count(g.coach, "SELECT max(epoch) FROM keys WHERE audience=1"), 1);
    ASSERT_ERR(ww_challenge_schedule(g.coach, g.gid, d + 1, "L03", NULL), WW_ENOTMEMBER);
    ww_store_close(fourth);
    ww_store_close(np);
    ww_store_close(x);
    fx_group_close(&g);
}

/* The code used twice, on two new phones: every replica keeps the recovery with the lower
 * event hash, whichever it got first, and drops the other phone. */
TEST(owner_two_recoveries_the_lower_hash_stands)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    char code[WW_RECOVERY_CODE_MAX];
    ASSERT_OK(ww_recovery_key_create(g.coach, g.gid, code));
    fx_group_sync(&g);
    struct ww_store *n1 = fx_open("n1"), *n2 = fx_open("n2");
    fx_sync(g.st[0], n1, g.gid, 256);
    fx_sync(g.st[0], n2, g.gid, 256);
    fx_now += 1000;
    ASSERT_OK(ww_owner_recover(n1, g.gid, code));
    fx_now += 1000;
    ASSERT_OK(ww_owner_recover(n2, g.gid, code));
    struct ww_store *a = fx_open_db("student1", "a.db"), *b = fx_open_db("student1", "b.db");
    fx_sync(g.coach, a, g.gid, 256);
    fx_sync(g.coach, b, g.gid, 256);
    fx_deliver(n1, a, g.gid);
    fx_deliver(n2, a, g.gid);
    fx_deliver(n2, b, g.gid);
    fx_deliver(n1, b, g.gid);
    uint8_t ea[32], eb[32];
    fx_events_digest(a, ea);
    fx_events_digest(b, eb);
    ASSERT_MEM_EQ(ea, eb, 32);
    struct ww_group_info ia, ib;
    fx_group_info(a, g.gid, &ia);
    fx_group_info(b, g.gid, &ib);
    ASSERT_MEM_EQ(ia.owner, ib.owner, 32);
    uint8_t p1[32], p2[32];
    fx_device(n1, p1);
    fx_device(n2, p2);
    ASSERT(!memcmp(ia.owner, p1, 32) || !memcmp(ia.owner, p2, 32));
    /* The other phone's next event (its key epoch) may wait as a stranger's does, for at most
     * a day: it follows a recovery no replica keeps. */
    ASSERT_LE(fx_count(a, "SELECT count(*) FROM pending WHERE stranger=1"), 1);
    ww_store_close(a);
    ww_store_close(b);
    ww_store_close(n1);
    ww_store_close(n2);
    fx_group_close(&g);
}
