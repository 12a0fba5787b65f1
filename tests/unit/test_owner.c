/*
 * test_owner.c - the owner device hands the group over to another device of the coach's
 * (owner.handover): the control log goes on from the new owner on every replica, whatever
 * the order in which the two devices' events arrive.
 */
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

static void copy_info(void *ud, const struct ww_group_info *g)
{
    *(struct ww_group_info *)ud = *g;
}

/* Applies the events of `from` that `to` lacks, those by `first` before all others. */
static void deliver_first(struct ww_store *from, struct ww_store *to, const uint8_t gid[16],
                          const uint8_t first[32])
{
    struct fx_bag bag = {.n = 0};
    fx_missing(from, to, gid, &bag);
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < bag.n; i++) {
            struct ww_envelope env;
            ASSERT_OK(ww_envelope_decode(bag.raw[i], bag.len[i], &env));
            if ((memcmp(env.h.author, first, 32) == 0) != (pass == 0))
                continue;
            const uint8_t *raw = bag.raw[i];
            size_t len = bag.len[i];
            struct ww_apply_result r;
            ASSERT_OK(ww_sync_apply(to, &raw, &len, 1, &r));
            ASSERT_EQ(r.rejected, 0);
        }
    fx_bag_free(&bag);
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
    ASSERT_OK(ww_group_get(laptop, g.gid, copy_info, &info));
    ASSERT(info.is_owner);
    ASSERT_EQ(info.epoch, 2);

    /* One student gets the laptop's events before the handover, the other after. */
    deliver_first(laptop, g.st[0], g.gid, lpk);
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
    ASSERT_EQ(fx_count(g.st[1], "SELECT count(*) FROM members WHERE removed_epoch IS NOT NULL"),
              1);
    ASSERT_OK(ww_group_get(g.coach, g.gid, copy_info, &info));
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
    a->alias = ww_slice_of("X");
    a->year = 1;
    a->track = 1;
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
    ASSERT_EQ(fx_count(g.st[0], "SELECT count(*) FROM members WHERE removed_epoch IS NOT NULL"),
              0);
    ww_store_close(x);
    ww_store_close(laptop);
    fx_group_close(&g);
}
