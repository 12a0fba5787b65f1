/*
 * test_leave.c - a learner leaves its group (member.remove by its own device): every replica
 * applies it alike, whatever else arrives and in which order; the owner's device starts a new
 * epoch; the leaver writes and reads nothing new.
 */
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "fixture.h"
#include "runner.h"
#include "store.h"

#define REMOVED "SELECT count(*) FROM members WHERE removed_epoch IS NOT NULL"

/* The events a replica holds, as one digest, and its derived state. */
static void held(struct ww_store *s, uint8_t events[32], uint8_t state[32])
{
    fx_events_digest(s, events);
    fx_digest(s, state);
}

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
 * seen, reach replicas in different orders. The owner's removal keeps what the owner held
 * of the member, which is not the leave: every replica ends without the leave, with the
 * owner's epoch limit, whichever it saw first. */
TEST(leave_and_removal_agree_in_any_order)
{
    struct fx_group g;
    fx_group_make(&g, 3, 0, NULL);
    fx_now += 1000;
    ASSERT_OK(ww_member_leave(g.st[0], g.gid, NULL));
    fx_now += 1000;
    ASSERT_OK(ww_member_remove(g.coach, g.gid, g.m_st[0], NULL));
    /* st[1] hears the leave first, st[2] the removal first. */
    fx_deliver(g.st[0], g.st[1], g.gid);
    ASSERT_EQ(fx_count(g.st[1], "SELECT removed_hlc IS NOT NULL FROM members WHERE "
                                "removed_epoch IS NOT NULL"),
              1);
    fx_deliver(g.coach, g.st[1], g.gid);
    fx_deliver(g.coach, g.st[2], g.gid);
    fx_deliver(g.st[0], g.st[2], g.gid);
    fx_deliver(g.st[0], g.coach, g.gid);
    fx_deliver(g.coach, g.st[0], g.gid);
    static const char *const q[] = {
        "SELECT removed_epoch FROM members WHERE removed_epoch IS NOT NULL",
        "SELECT removed_hlc IS NULL FROM members WHERE removed_epoch IS NOT NULL",
        "SELECT count(*) FROM events WHERE kind=3",
        "SELECT count(*) FROM events",
    };
    struct ww_store *all[] = {g.st[0], g.st[1], g.st[2]};
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++)
        for (size_t k = 0; k < 3; k++)
            ASSERT_EQ(fx_count(all[k], q[i]), fx_count(g.coach, q[i]));
    ASSERT_EQ(fx_count(g.coach, "SELECT count(*) FROM events WHERE kind=3"), 1);
    ASSERT_EQ(
        fx_count(g.coach, "SELECT removed_epoch FROM members WHERE removed_epoch IS NOT NULL"), 2);
    ASSERT_EQ(fx_count(g.coach, "SELECT removed_hlc IS NULL FROM members WHERE removed_epoch IS "
                                "NOT NULL"),
              1);
    fx_group_close(&g);
}

/* ---- The owner's removal: cut-offs ----------------------------------------------------- */

/*
 * A student removed while offline writes on: once with its clock behind (an hlc before the
 * removal's, in the old epoch), once after. It also wrote once before the removal without
 * the owner seeing it. Replicas that get its events before the removal, or after, or never
 * get the removal from the owner directly, all end with the same events and state: what
 * the owner held of the student when it removed it, and nothing the student wrote later.
 */
TEST(removal_keeps_what_the_owner_held_in_any_order)
{
    struct fx_group g;
    fx_group_make(&g, 3, 0, NULL);
    uint8_t hub[32];
    char code[WW_INVITE_CODE_MAX];
    fx_device(g.st[2], hub);
    ASSERT_OK(ww_group_hub_set(g.coach, g.gid, hub, "127.0.0.1:7420", NULL));
    ASSERT_OK(ww_invite_create(g.coach, g.gid, WW_ROLE_STUDENT, 0, code, sizeof code, NULL));
    fx_group_sync(&g);
    uint32_t d;
    ASSERT_OK(ww_date_parse("2026-11-24", &d));
    ASSERT_OK(ww_day_off(g.st[1], g.gid, d, 1, NULL)); /* the owner sees this one */
    fx_sync(g.st[1], g.coach, g.gid, 256);
    int64_t before = fx_now;
    fx_now += 1000;
    ASSERT_OK(ww_day_off(g.st[1], g.gid, d + 1, 1, NULL)); /* this one it does not */
    fx_now += 1000;
    ASSERT_OK(ww_member_remove(g.coach, g.gid, g.m_st[1], NULL));
    fx_now += 1000;
    ASSERT_OK(ww_day_off(g.st[1], g.gid, d + 2, 1, NULL)); /* after the removal */
    /* The removed device's clock is set back: an hlc just after its last one, before the
     * removal's, in the epoch it knows. */
    fx_now = before;
    ASSERT_OK(ww_day_off(g.st[1], g.gid, d + 3, 1, NULL));
    fx_now += 10000;

    /* student1 gets the removed student's events first; student3 the removal first. */
    fx_deliver(g.st[1], g.st[0], g.gid);
    ASSERT_EQ(fx_count(g.st[0], "SELECT count(*) FROM days_off"), 4);
    fx_deliver(g.coach, g.st[0], g.gid);
    fx_deliver(g.coach, g.st[2], g.gid);
    fx_deliver(g.st[1], g.st[2], g.gid);
    fx_deliver(g.st[0], g.coach, g.gid); /* offers the coach what it refuses */
    fx_deliver(g.coach, g.st[1], g.gid); /* the removed device learns of it */

    uint8_t ev[4][32], st[4][32];
    struct ww_store *all[4] = {g.coach, g.st[0], g.st[1], g.st[2]};
    for (int i = 0; i < 4; i++) {
        held(all[i], ev[i], st[i]);
        ASSERT_EQ(fx_count(all[i], "SELECT count(*) FROM days_off"), 1);
        ASSERT_EQ(fx_count(all[i], "SELECT count(*) FROM invites"), 1);
        ASSERT_EQ(fx_count(all[i], "SELECT count(*) FROM group_hubs"), 1);
        ASSERT(!memcmp(ev[i], ev[0], 32));
    }
    /* Derived state agrees between the replicas that read the same keys. */
    ASSERT(!memcmp(st[1], st[3], 32));
    fx_group_close(&g);
}

/* A removal whose cut-offs do not name exactly the member's devices is refused by every
 * replica, and so is a leave that names any. */
TEST(removal_cut_offs_must_name_the_members_devices)
{
    struct fx_group g;
    fx_group_make(&g, 2, 0, NULL);
    fx_group_sync(&g);
    uint8_t pk[32];
    fx_device(g.st[0], pk);
    struct ww_body body;
    memset(&body, 0, sizeof body);
    body.kind = WW_KIND_MEMBER_REMOVE;
    struct ww_body_member_remove *r = &body.u.member_remove;
    memcpy(r->member, g.m_st[0], 16);
    struct fx_ev ev;
    /* None named by the owner; another device named; the right one named by a leave. */
    fx_seal_plain(g.coach, g.gid, &body, &ev);
    ASSERT_EQ(fx_apply1(g.st[1], &ev).rejected, 1);
    r->n_cutoffs = 1;
    memset(r->cutoffs[0].device, 7, 32);
    fx_seal_plain(g.coach, g.gid, &body, &ev);
    ASSERT_EQ(fx_apply1(g.st[1], &ev).rejected, 1);
    memcpy(r->cutoffs[0].device, pk, 32);
    fx_seal_plain(g.st[0], g.gid, &body, &ev);
    ASSERT_EQ(fx_apply1(g.st[1], &ev).rejected, 1);
    fx_seal_plain(g.coach, g.gid, &body, &ev);
    ASSERT_EQ(fx_apply1(g.st[1], &ev).accepted, 1);
    ASSERT_EQ(fx_count(g.st[1], REMOVED), 1);
    fx_group_close(&g);
}

/* The same as a random interleaving: the owner's removal (and the epoch after it) and what
 * the removed student wrote offline, before and after it, reach fresh replicas in many
 * orders and batch sizes; every replica ends with the same events and the same state. */
TEST(removal_converges_in_any_interleaving)
{
    struct fx_group g;
    fx_group_make(&g, 2, 0, NULL);
    uint32_t d;
    ASSERT_OK(ww_date_parse("2026-11-24", &d));
    struct ww_vv_item vv[64];
    size_t n_vv = 0;
    ASSERT_OK(ww_sync_vv(g.coach, g.gid, vv, 64, &n_vv));
    for (uint32_t i = 0; i < 3; i++) {
        fx_now += 1000;
        ASSERT_OK(ww_day_off(g.st[1], g.gid, d + i, 1, NULL));
    }
    fx_now += 1000;
    ASSERT_OK(ww_member_remove(g.coach, g.gid, g.m_st[1], NULL));
    for (uint32_t i = 3; i < 6; i++) {
        fx_now += 1000;
        ASSERT_OK(ww_day_off(g.st[1], g.gid, d + i, 1, NULL));
    }
    struct fx_bag owner = {.n = 0}, student = {.n = 0};
    int more = 0;
    ASSERT_OK(ww_sync_missing(g.coach, g.gid, vv, n_vv, 256, 1u << 20, fx_bag_add, &owner, &more));
    ASSERT_OK(
        ww_sync_missing(g.st[1], g.gid, vv, n_vv, 256, 1u << 20, fx_bag_add, &student, &more));
    ASSERT_EQ(owner.n, 2); /* the removal and the epoch after it */
    ASSERT_EQ(student.n, 6);

    uint64_t rng = 0x2545f4914f6cdd1dull ^ ww_test_seed();
    uint8_t first_ev[32], first_st[32];
    for (int trial = 0; trial < 12; trial++) {
        char db[32];
        snprintf(db, sizeof db, "r%d.db", trial);
        struct ww_store *x = fx_open_db("student1", db); /* reads what student1 reads */
        fx_sync(g.coach, x, g.gid, 256);
        size_t i1 = 0, i2 = 0;
        while (i1 < owner.n || i2 < student.n) {
            rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
            const uint8_t *raws[8];
            size_t lens[8], n = 0, batch = 1 + rng % 4;
            while (n < batch && (i1 < owner.n || i2 < student.n)) {
                int from_owner = i2 == student.n || (i1 < owner.n && ((rng >> (8 + n)) & 1));
                raws[n] = from_owner ? owner.raw[i1] : student.raw[i2];
                lens[n++] = from_owner ? owner.len[i1++] : student.len[i2++];
            }
            struct ww_apply_result res;
            ASSERT_OK(ww_sync_apply(x, raws, lens, n, &res));
        }
        ASSERT_EQ(fx_count(x, "SELECT count(*) FROM days_off"), 0);
        ASSERT_EQ(fx_count(x, "SELECT count(*) FROM pending"), 0);
        uint8_t ev[32], st[32];
        held(x, ev, st);
        if (trial == 0) {
            memcpy(first_ev, ev, 32);
            memcpy(first_st, st, 32);
        } else {
            ASSERT_MEM_EQ(ev, first_ev, 32);
            ASSERT_MEM_EQ(st, first_st, 32);
        }
        ww_store_close(x);
    }
    fx_bag_free(&owner);
    fx_bag_free(&student);
    fx_group_close(&g);
}
