/*
 * test_pin.c - a cut-off keeps one branch of a log (PROTOCOL.md 6.3): a removed student or
 * a thief holding a retired device's key cannot rewrite, by a fork below the cut-off, what
 * the removal or the recovery kept, and a replica that took such a fork before the cut-off
 * reached it returns to the kept branch in its next sync.
 */
#include <sodium.h>
#include <string.h>

#include "fixture.h"
#include "group.h"
#include "log.h"
#include "runner.h"
#include "store.h"

static void owner_of(struct ww_store *s, const uint8_t gid[16], uint8_t out[32])
{
    struct ww_group_info info;
    fx_group_info(s, gid, &info);
    memcpy(out, info.owner, 32);
}

/* A day.off for date d (its ref: the date, big-endian) by removed student s, at seq as ref
 * holds it, with a lower hash. */
static void student_fork(struct ww_store *s, struct ww_store *ref, const uint8_t gid[16],
                         uint32_t d, uint64_t seq, struct fx_ev *ev)
{
    struct ww_body body;
    memset(&body, 0, sizeof body);
    body.kind = WW_KIND_DAY_OFF;
    body.u.day_off.date = d;
    body.u.day_off.off = 1;
    uint8_t r[4];
    for (int i = 0; i < 4; i++)
        r[i] = (uint8_t)(d >> (24 - 8 * i));
    fx_craft_winning_fork(s, ref, gid, &body, WW_AUD_GROUP, r, 4, seq, (uint64_t)fx_now << 16, 1,
                          ev);
}

/* A group with a recovery code and a schedule written by the owner phone after it: c is the
 * phone's last event, the cut-off of a recovery made from a copy that holds all of it. */
static uint64_t lost_phone_group(struct fx_group *g, char code[WW_RECOVERY_CODE_MAX])
{
    fx_group_make(g, 1, 0, NULL);
    ASSERT_OK(ww_recovery_key_create(g->coach, g->gid, code));
    uint32_t d;
    ASSERT_OK(ww_day_today(g->coach, g->gid, &d));
    fx_now += 1000;
    ASSERT_OK(ww_challenge_schedule(g->coach, g->gid, d, "L02", NULL));
    fx_group_sync(g);
    uint8_t cpk[32];
    fx_device(g->coach, cpk);
    return fx_head_seq(g->coach, g->gid, cpk);
}

/* The thief's event at seq c of the lost phone (as ref holds it): a group.hub of its own,
 * with a lower hash than the real one. */
static void thief_fork(struct fx_group *g, struct ww_store *ref, uint64_t c, uint64_t hlc,
                       struct fx_ev *ev)
{
    struct ww_body body;
    memset(&body, 0, sizeof body);
    body.kind = WW_KIND_GROUP_HUB;
    memset(body.u.group_hub.hub, 0x77, 32);
    body.u.group_hub.addr = ww_slice_of("thief.example:7420");
    fx_craft_winning_fork(g->coach, ref, g->gid, &body, WW_AUD_PLAIN, NULL, 0, c, hlc, 1, ev);
}

/*
 * The coach's owner phone is lost and recovered on a new phone (cut-off c). The thief, with
 * the lost phone's key, signs another event at seq c (a group.hub of its own) whose hash is
 * below that of the real one: by the lower-hash rule alone it would take event c over and
 * the recovery, which follows event c, would no longer stand.
 */
TEST(pin_thief_fork_at_the_cutoff_leaves_the_recovery_standing)
{
    struct fx_group g;
    char code[WW_RECOVERY_CODE_MAX];
    uint64_t c = lost_phone_group(&g, code);
    uint8_t npk[32], own[32];

    struct ww_store *np = fx_open("newphone");
    fx_device(np, npk);
    fx_sync(g.st[0], np, g.gid, 256);
    fx_now += 1000;
    ASSERT_OK(ww_owner_recover(np, g.gid, code));
    fx_deliver(np, g.st[0], g.gid);
    owner_of(g.st[0], g.gid, own);
    ASSERT_MEM_EQ(own, npk, 32);

    struct fx_ev ev;
    thief_fork(&g, g.st[0], c, (uint64_t)(fx_now + 3600 * 1000) << 16, &ev);
    struct ww_apply_result r = fx_apply1(g.st[0], &ev);
    ASSERT_EQ(r.accepted, 0);
    r = fx_apply1(np, &ev);
    ASSERT_EQ(r.accepted, 0);

    owner_of(g.st[0], g.gid, own);
    ASSERT_MEM_EQ(own, npk, 32);
    owner_of(np, g.gid, own);
    ASSERT_MEM_EQ(own, npk, 32);
    ASSERT_EQ(fx_count(g.st[0], "SELECT count(*) FROM group_hubs"), 0);
    ww_store_close(np);
    fx_group_close(&g);
}

/*
 * The same fork reaches a student before the recovery does: by the lower-hash rule the
 * student takes it (nothing is retired yet). (The fork is of an event after the
 * recovery.key: a fork of the recovery.key itself is docs/SECURITY.md's open case.) When the
 * recovery comes, its tip names the real event c: the student drops the thief's branch, gets the
 * real one back from the new phone in the same sync, and ends with the new owner and the new
 * phone's events.
 */
TEST(pin_recovery_undoes_a_thief_fork_that_came_first)
{
    struct fx_group g;
    char code[WW_RECOVERY_CODE_MAX];
    uint64_t c = lost_phone_group(&g, code);
    uint8_t cpk[32], npk[32], own[32], real[32], now[32], a[32], b[32];
    fx_device(g.coach, cpk);
    fx_hash_at(g.coach, g.gid, cpk, c, real);

    struct ww_store *np = fx_open("newphone");
    fx_device(np, npk);
    fx_sync(g.st[0], np, g.gid, 256);
    fx_now += 1000;
    ASSERT_OK(ww_owner_recover(np, g.gid, code));

    struct fx_ev ev;
    thief_fork(&g, g.st[0], c, (uint64_t)(fx_now + 1000) << 16, &ev);
    struct ww_apply_result r = fx_apply1(g.st[0], &ev);
    ASSERT_EQ(r.accepted, 1);
    ASSERT_EQ(fx_count(g.st[0], "SELECT count(*) FROM group_hubs"), 1);

    fx_deliver(np, g.st[0], g.gid);
    owner_of(g.st[0], g.gid, own);
    ASSERT_MEM_EQ(own, npk, 32);
    fx_hash_at(g.st[0], g.gid, cpk, c, now);
    ASSERT_MEM_EQ(now, real, 32);
    ASSERT_EQ(fx_count(g.st[0], "SELECT count(*) FROM group_hubs"), 0);
    fx_events_digest(g.st[0], a);
    fx_events_digest(np, b);
    ASSERT_MEM_EQ(a, b, 32);
    ww_store_close(np);
    fx_group_close(&g);
}

/*
 * A removed student still holds its device key and the old GROUP key: a day later it signs
 * a new day.off at the seq of its last kept event k, with a hash below the real one's. What
 * the removal kept stays as it was on every replica that holds the removal.
 */
TEST(pin_removed_student_cannot_rewrite_what_its_removal_kept)
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
    uint64_t k = fx_head_seq(g.st[1], g.gid, spk);
    fx_hash_at(g.st[1], g.gid, spk, k, before);
    long offs = fx_count(g.st[1], "SELECT count(*) FROM days_off");

    fx_now += 24LL * 3600 * 1000;
    struct fx_ev ev;
    student_fork(g.st[0], g.st[1], g.gid, d + 1, k, &ev);
    struct ww_apply_result r = fx_apply1(g.st[1], &ev);
    ASSERT_EQ(r.accepted, 0);
    fx_apply1(g.coach, &ev);

    fx_hash_at(g.st[1], g.gid, spk, k, after);
    ASSERT_MEM_EQ(after, before, 32);
    fx_hash_at(g.coach, g.gid, spk, k, after);
    ASSERT_MEM_EQ(after, before, 32);
    ASSERT_EQ(fx_count(g.st[1], "SELECT count(*) FROM days_off"), offs);
    fx_group_close(&g);
}

/*
 * The removed student's fork reaches a replica before the removal does (the student syncs
 * with a classmate who has not seen the coach yet): by the lower-hash rule that replica takes
 * it. When the removal comes, its cut-off names the real event: the replica drops the fork
 * and gets the kept branch back in the same sync, and ends with the coach's events.
 * fork_at_top: the fork replaces event k itself; else event k - 1 (and k goes with it).
 */
static void fork_before_removal(int fork_at_top)
{
    struct fx_group g;
    fx_group_make(&g, 2, 0, NULL);
    uint32_t d;
    ASSERT_OK(ww_day_today(g.st[0], g.gid, &d));
    fx_now += 1000;
    ASSERT_OK(ww_day_off(g.st[0], g.gid, d, 1, NULL));
    fx_now += 1000;
    ASSERT_OK(ww_day_off(g.st[0], g.gid, d + 2, 1, NULL));
    fx_group_sync(&g);
    uint8_t spk[32], real[32], now[32], a[32], b[32];
    fx_device(g.st[0], spk);
    uint64_t k = fx_head_seq(g.st[1], g.gid, spk);
    uint64_t at = fork_at_top ? k : k - 1;
    fx_hash_at(g.st[1], g.gid, spk, at, real);
    fx_now += 1000;
    ASSERT_OK(ww_member_remove(g.coach, g.gid, g.m_st[0], NULL));

    fx_now += 3600 * 1000;
    struct fx_ev ev;
    student_fork(g.st[0], g.st[1], g.gid, d + 1, at, &ev);
    struct ww_apply_result r = fx_apply1(g.st[1], &ev);
    ASSERT_EQ(r.accepted, 1); /* no cut-off known yet: the lower hash wins */
    fx_hash_at(g.st[1], g.gid, spk, at, now);
    ASSERT(memcmp(now, real, 32) != 0);

    fx_sync(g.coach, g.st[1], g.gid, 256); /* the removal, then the kept branch */
    ASSERT_EQ(fx_head_seq(g.st[1], g.gid, spk), k);
    fx_hash_at(g.st[1], g.gid, spk, at, now);
    ASSERT_MEM_EQ(now, real, 32);
    fx_events_digest(g.st[1], a);
    fx_events_digest(g.coach, b);
    ASSERT_MEM_EQ(a, b, 32);
    ASSERT_EQ(fx_count(g.st[1], "SELECT count(*) FROM days_off"),
              fx_count(g.coach, "SELECT count(*) FROM days_off"));
    /* The fork, sent again, changes nothing now. */
    fx_apply1(g.st[1], &ev);
    fx_events_digest(g.st[1], a);
    ASSERT_MEM_EQ(a, b, 32);
    fx_group_close(&g);
}

TEST(pin_replica_that_took_a_fork_at_the_cutoff_returns_to_the_kept_branch)
{
    fork_before_removal(1);
}

TEST(pin_replica_that_took_a_fork_below_the_cutoff_returns_to_the_kept_branch)
{
    fork_before_removal(0);
}

/*
 * The thief holds the owner phone before any recovery and tries to make the coach's code
 * useless: a recovery.key of its own (the group has one already), or a fork of the group's
 * first event naming another recovery key, with a lower hash. The group id commits to the
 * recovery key the group was made with, so neither stands, and the code still works.
 */
TEST(pin_recovery_key_made_with_the_group_cannot_be_replaced)
{
    struct fx_group g;
    fx_group_make_recoverable(&g, 1);
    fx_group_sync(&g);
    uint8_t cpk[32], npk[32], own[32], tsk[64];
    fx_device(g.coach, cpk);
    ASSERT_ERR(ww_recovery_key_create(g.coach, g.gid, (char[WW_RECOVERY_CODE_MAX]){0}), WW_EEXIST);

    /* A recovery.key of the thief's, at the owner's next seq. */
    struct ww_body body;
    memset(&body, 0, sizeof body);
    body.kind = WW_KIND_RECOVERY_KEY;
    crypto_sign_keypair(body.u.recovery_key.pk, tsk);
    uint8_t prev[32], hash[32];
    uint64_t top = fx_head_seq(g.coach, g.gid, cpk);
    fx_hash_at(g.coach, g.gid, cpk, top, prev);
    struct fx_ev ev;
    fx_now += 1000;
    fx_craft(g.coach, g.gid, &body, WW_AUD_PLAIN, NULL, 0, top + 1, prev, (uint64_t)fx_now << 16, 1,
             &ev, hash);
    struct ww_apply_result r = fx_apply1(g.st[0], &ev);
    ASSERT_EQ(r.accepted, 0);
    ASSERT_EQ(r.first_error, WW_EEXIST);

    /* A fork of group.create naming the thief's recovery key. */
    struct ww_buf raw;
    struct ww_envelope env;
    ww_buf_init(&raw, WW_MAX_EVENT);
    ASSERT_OK(ww_log_get(g.st[0], g.gid, cpk, 1, &raw));
    ASSERT_OK(ww_envelope_decode(raw.p, raw.len, &env));
    ASSERT_OK(ww_body_decode(WW_KIND_GROUP_CREATE, env.body.p, env.body.len, &body));
    ASSERT(body.u.group_create.has_recovery);
    crypto_sign_keypair(body.u.group_create.recovery, tsk);
    fx_craft_winning_fork(g.coach, g.st[0], g.gid, &body, WW_AUD_PLAIN, NULL, 0, 1,
                          (uint64_t)fx_now << 16, 0, &ev);
    ww_buf_free(&raw);
    r = fx_apply1(g.st[0], &ev);
    ASSERT_EQ(r.accepted, 0); /* it names another group: a fork that cannot take over */
    ASSERT_EQ(r.forks, 1);

    struct ww_store *np = fx_open("newphone");
    fx_device(np, npk);
    fx_sync(g.st[0], np, g.gid, 256);
    fx_now += 1000;
    ASSERT_OK(ww_owner_recover(np, g.gid, g.code));
    fx_deliver(np, g.st[0], g.gid);
    owner_of(g.st[0], g.gid, own);
    ASSERT_MEM_EQ(own, npk, 32);
    ww_store_close(np);
    fx_group_close(&g);
}

/*
 * The coach recovers from a stale copy: since it was made, the lost phone added a student,
 * who wrote a day off. The recovery's cut-off leaves that member.add out, so on every
 * replica the student is no member; but what the student wrote stays on its own phone,
 * however long it waits, and comes back when the new owner adds the device again.
 */
TEST(pin_stale_recovery_keeps_a_cut_off_students_own_events)
{
    struct fx_group g;
    fx_group_make_recoverable(&g, 1);
    fx_group_sync(&g);
    struct ww_store *np = fx_open("newphone");
    fx_sync(g.st[0], np, g.gid, 256); /* the stale copy */

    struct ww_store *late = fx_open("late");
    uint8_t lpk[32], m[16];
    fx_device(late, lpk);
    fx_now += 1000;
    ASSERT_OK(ww_member_add(g.coach, g.gid, WW_ROLE_STUDENT, "Laat", 1, 1, lpk, m));
    fx_sync(g.coach, late, g.gid, 256);
    uint32_t d;
    ASSERT_OK(ww_day_today(late, g.gid, &d));
    fx_now += 1000;
    ASSERT_OK(ww_day_off(late, g.gid, d, 1, NULL));
    uint64_t mine = fx_head_seq(late, g.gid, lpk);
    ASSERT(mine >= 1);

    fx_now += 1000;
    ASSERT_OK(ww_owner_recover(np, g.gid, g.code));
    fx_deliver(np, late, g.gid);
    ASSERT_EQ(fx_head_seq(late, g.gid, lpk), 0); /* no member: nothing of it applies */
    fx_now += 40LL * 24 * 3600 * 1000;           /* past every expiry */
    fx_deliver(np, late, g.gid);
    ASSERT_EQ(fx_count(late, "SELECT count(*) FROM pending"), (long)mine);

    /* The coach adds the student's phone again. */
    fx_now += 1000;
    ASSERT_OK(ww_member_add(np, g.gid, WW_ROLE_STUDENT, "Laat", 1, 1, lpk, m));
    fx_deliver(np, late, g.gid);
    ASSERT_EQ(fx_head_seq(late, g.gid, lpk), mine);
    fx_deliver(late, np, g.gid);
    ASSERT_EQ(fx_head_seq(np, g.gid, lpk), mine);
    /* A classmate, who holds the key of the epoch it was written in, reads it again. */
    fx_deliver(np, g.st[0], g.gid);
    ASSERT_EQ(fx_count(g.st[0], "SELECT count(*) FROM days_off"), 1);
    ww_store_close(late);
    ww_store_close(np);
    fx_group_close(&g);
}
