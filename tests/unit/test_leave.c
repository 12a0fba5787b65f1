/*
 * test_leave.c - a learner leaves its group (member.remove by its own device): every replica
 * applies it alike, whatever else arrives and in which order; the owner's device starts a new
 * epoch; the leaver writes and reads nothing new.
 */
#include <string.h>

#include "fixture.h"
#include "runner.h"

#define REMOVED "SELECT count(*) FROM members WHERE removed_epoch IS NOT NULL"

TEST(leave_removes_the_member_everywhere_and_the_owner_rekeys)
{
    struct fx_group g;
    fx_group_make(&g, 2, 0, NULL);
    uint32_t d;
    ASSERT_OK(ww_date_parse("2026-11-24", &d));
    ASSERT_OK(ww_day_off(g.st[0], g.gid, d, 1, NULL));
    fx_now += 1000;
    ASSERT_ERR(ww_member_leave(g.coach, g.gid, NULL), WW_EROLE); /* the coach stays */
    ASSERT_OK(ww_member_leave(g.st[0], g.gid, NULL));
    ASSERT_EQ(fx_count(g.st[0], REMOVED), 1);
    /* Left: it writes nothing more, and cannot leave twice. */
    ASSERT_ERR(ww_day_off(g.st[0], g.gid, d + 1, 1, NULL), WW_ENOTMEMBER);
    ASSERT_ERR(ww_member_leave(g.st[0], g.gid, NULL), WW_ENOTMEMBER);

    /* The coach learns of it and starts a new epoch, once. */
    int wrote = -1;
    ASSERT_OK(ww_removals_rekey(g.coach, g.gid, &wrote));
    ASSERT_EQ(wrote, 0);
    fx_sync(g.st[0], g.coach, g.gid, 64);
    ASSERT_EQ(fx_count(g.coach, REMOVED), 1);
    ASSERT_EQ(fx_count(g.coach, "SELECT count(*) FROM days_off"), 1); /* written before */
    ASSERT_OK(ww_removals_rekey(g.coach, g.gid, &wrote));
    ASSERT_EQ(wrote, 1);
    ASSERT_OK(ww_removals_rekey(g.coach, g.gid, &wrote));
    ASSERT_EQ(wrote, 0);
    ASSERT_OK(ww_removals_rekey(g.st[1], g.gid, &wrote)); /* not the owner: nothing */
    ASSERT_EQ(wrote, 0);
    /* A removal of a member who left is refused by the API, and a student cannot remove. */
    ASSERT_ERR(ww_member_remove(g.coach, g.gid, g.m_st[0], NULL), WW_ENOTFOUND);
    ASSERT_ERR(ww_member_remove(g.st[1], g.gid, g.m_st[0], NULL), WW_EROLE);

    /* The new epoch reaches the one who stayed, not the one who left. */
    fx_sync(g.coach, g.st[1], g.gid, 64);
    fx_sync(g.coach, g.st[0], g.gid, 64);
    ASSERT_EQ(fx_count(g.coach, "SELECT max(epoch) FROM keys WHERE audience=1"), 2);
    ASSERT_EQ(fx_count(g.st[1], "SELECT max(epoch) FROM keys WHERE audience=1"), 2);
    ASSERT_EQ(fx_count(g.st[0], "SELECT max(epoch) FROM keys WHERE audience=1"), 1);
    ASSERT_EQ(fx_count(g.st[1], REMOVED), 1);
    fx_group_close(&g);
}

/* A leave and the owner's removal of the same member, each written before the other was
 * seen, reach two replicas in opposite orders: both are accepted everywhere and the
 * replicas agree on when the member was cut off (the earlier of the two). */
TEST(leave_and_removal_agree_in_any_order)
{
    struct fx_group g;
    fx_group_make(&g, 3, 0, NULL);
    fx_now += 1000;
    ASSERT_OK(ww_member_leave(g.st[0], g.gid, NULL));
    fx_now += 1000;
    ASSERT_OK(ww_member_remove(g.coach, g.gid, g.m_st[0], NULL));
    /* st[1] hears the leave first, st[2] the removal first. */
    fx_sync(g.st[0], g.st[1], g.gid, 64);
    fx_sync(g.coach, g.st[1], g.gid, 64);
    fx_sync(g.coach, g.st[2], g.gid, 64);
    fx_sync(g.st[0], g.st[2], g.gid, 64);
    fx_sync(g.st[0], g.coach, g.gid, 64);
    static const char *const q[] = {
        "SELECT removed_epoch FROM members WHERE removed_epoch IS NOT NULL",
        "SELECT removed_hlc FROM members WHERE removed_epoch IS NOT NULL",
        "SELECT count(*) FROM events WHERE kind=3",
    };
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
        long want = fx_count(g.coach, q[i]);
        ASSERT_EQ(fx_count(g.st[1], q[i]), want);
        ASSERT_EQ(fx_count(g.st[2], q[i]), want);
    }
    ASSERT_EQ(fx_count(g.coach, "SELECT count(*) FROM events WHERE kind=3"), 2);
    /* The owner's removal took effect with its epoch, at the time of the earlier leave. */
    ASSERT_EQ(
        fx_count(g.coach, "SELECT removed_epoch FROM members WHERE removed_epoch IS NOT NULL"), 2);
    ASSERT_EQ(fx_count(g.coach, "SELECT removed_hlc = (SELECT min(hlc) FROM events WHERE kind=3)"
                                " FROM members WHERE removed_epoch IS NOT NULL"),
              1);
    fx_group_close(&g);
}
