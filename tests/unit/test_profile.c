/*
 * test_profile.c - a member's name, year and track (member.profile): readable by the group,
 * never by a forwarder, dropped by an erasure, and readable by a device that joins later.
 *
 * "hub" here is a store that holds the group's events without being a member: what a hub
 * (or anyone who forwards a bundle) holds.
 */
#include <stdio.h>
#include <string.h>

#include "fixture.h"
#include "runner.h"
#include "store.h"

/* The names fx_group_make gives. */
static const char *const NAMES[] = {"Coach Anna", "student1", "student2", "Senior Sam"};
#define N_NAMES (sizeof NAMES / sizeof NAMES[0])

/* A member as a store shows it. */
struct shown {
    size_t n;
    uint8_t id[8][WW_ID_LEN];
    char alias[8][WW_MAX_NAME + 1];
    int year[8], track[8];
};

static void take_member(void *ud, const struct ww_member_info *m)
{
    struct shown *s = ud;
    ASSERT_LT(s->n, 8);
    memcpy(s->id[s->n], m->id, WW_ID_LEN);
    snprintf(s->alias[s->n], sizeof s->alias[0], "%s", m->alias ? m->alias : "");
    s->year[s->n] = m->year;
    s->track[s->n] = m->track;
    s->n++;
}

static void shown_of(struct ww_store *st, const uint8_t gid[16], struct shown *out)
{
    memset(out, 0, sizeof *out);
    ASSERT_OK(ww_members_list(st, gid, take_member, out));
}

/* The alias a store shows for member id ("" when it shows none; the member must be there). */
static const char *alias_of(const struct shown *s, const uint8_t id[WW_ID_LEN])
{
    for (size_t i = 0; i < s->n; i++)
        if (!memcmp(s->id[i], id, WW_ID_LEN))
            return s->alias[i];
    ASSERT(0);
    return NULL;
}

static int shows_name(const struct shown *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->alias[i], name))
            return 1;
    return 0;
}

/* How many rows of the store hold these bytes in any text or blob column of the tables
 * that could carry a name: the log, what waits, the members. */
static long rows_with(struct ww_store *st, const char *text)
{
    char sql[300];
    snprintf(sql, sizeof sql,
             "SELECT (SELECT count(*) FROM events WHERE instr(raw, CAST('%s' AS BLOB)) > 0) + "
             "(SELECT count(*) FROM pending WHERE instr(raw, CAST('%s' AS BLOB)) > 0) + "
             "(SELECT count(*) FROM members WHERE alias='%s')",
             text, text, text);
    return fx_count(st, sql);
}

/* Everything a bundle of the group carries: every event the store holds, as sync hands it. */
static void bundle_of(struct ww_store *st, const uint8_t gid[16], struct fx_bag *bag)
{
    int more = 0;
    bag->n = 0;
    ASSERT_OK(ww_sync_missing(st, gid, NULL, 0, 256, 1u << 20, fx_bag_add, bag, &more));
    ASSERT_EQ(more, 0);
}

static int bag_has(const struct fx_bag *bag, const char *text)
{
    size_t m = strlen(text);
    for (size_t i = 0; i < bag->n; i++)
        for (size_t k = 0; k + m <= bag->len[i]; k++)
            if (!memcmp(bag->raw[i] + k, text, m))
                return 1;
    return 0;
}

/* After student1's erasure: the store shows no name for it and holds none in a table or an
 * event; one that reads the group's key (reads) still shows student2's. */
static void expect_erased(struct ww_store *st, const struct fx_group *g, int reads)
{
    struct shown s;
    shown_of(st, g->gid, &s);
    ASSERT_STR_EQ(alias_of(&s, g->m_st[0]), "");
    ASSERT_EQ(rows_with(st, "student1"), 0);
    if (reads)
        ASSERT_STR_EQ(alias_of(&s, g->m_st[1]), "student2");
}

TEST(profile_names_never_reach_a_forwarder)
{
    struct fx_group g;
    fx_group_make(&g, 2, 1, NULL);
    struct ww_store *hub = fx_open("hub");
    fx_sync(g.coach, hub, g.gid, 256);

    /* The members read each other's names, years and tracks. */
    struct shown s;
    shown_of(g.st[1], g.gid, &s);
    ASSERT_EQ(s.n, 4);
    for (size_t k = 0; k < N_NAMES; k++)
        ASSERT(shows_name(&s, NAMES[k]));
    for (size_t i = 0; i < s.n; i++)
        if (!memcmp(s.id[i], g.m_senior, WW_ID_LEN)) {
            ASSERT_EQ(s.year[i], 3);
            ASSERT_EQ(s.track[i], WW_TRACK_BBL);
        }

    /* The hub holds every member and device, and not one name: not in what it shows, not in
     * its tables, not in its file; nor does a bundle of the group. */
    shown_of(hub, g.gid, &s);
    ASSERT_EQ(s.n, 4);
    for (size_t i = 0; i < s.n; i++) {
        ASSERT_STR_EQ(s.alias[i], "");
        ASSERT_EQ(s.year[i], 0);
    }
    ASSERT_EQ(fx_count(hub, "SELECT count(*) FROM devices"), 4);
    struct fx_bag bag;
    bundle_of(g.coach, g.gid, &bag);
    ASSERT_GT(bag.n, 0);
    for (size_t k = 0; k < N_NAMES; k++) {
        ASSERT_EQ(rows_with(hub, NAMES[k]), 0);
        ASSERT(!bag_has(&bag, NAMES[k]));
    }
    fx_bag_free(&bag);
    ww_store_close(hub);
    char path[600];
    snprintf(path, sizeof path, "%s/hub/wegwijs.db", ww_test_tmpdir());
    ASSERT(fx_file_has(path, "Afdeling Zonnebloem")); /* the file is where we look */
    for (size_t k = 0; k < N_NAMES; k++)
        ASSERT(!fx_file_has(path, NAMES[k]));
    fx_group_close(&g);
}

TEST(profile_erasure_drops_the_name_on_every_replica)
{
    struct fx_group g;
    fx_group_make(&g, 2, 0, NULL);
    struct ww_store *hub = fx_open("hub");
    fx_sync(g.coach, hub, g.gid, 256);
    ASSERT_GT(rows_with(g.st[1], "student1"), 0);
    /* An intact copy of student1's profile, as a forwarder may still hold it. */
    struct fx_bag bag;
    struct fx_ev intact;
    intact.len = 0;
    bundle_of(g.coach, g.gid, &bag);
    for (size_t i = 0; i < bag.n; i++) {
        struct ww_envelope env;
        ASSERT_OK(ww_envelope_decode(bag.raw[i], bag.len[i], &env));
        if (env.h.kind == WW_KIND_MEMBER_PROFILE && !memcmp(env.h.ref, g.m_st[0], 16)) {
            ASSERT(!env.erased);
            memcpy(intact.raw, bag.raw[i], bag.len[i]);
            intact.len = bag.len[i];
        }
    }
    fx_bag_free(&bag);
    ASSERT_GT(intact.len, 0);

    /* student1 asks for its data to be erased; its own device writes the erasure. */
    ASSERT_OK(ww_member_erase(g.st[0], g.gid, g.m_st[0], NULL));
    fx_group_sync(&g);
    fx_sync(g.coach, hub, g.gid, 256);
    struct ww_store *all[] = {g.coach, g.st[0], g.st[1], hub};
    for (size_t i = 0; i < 4; i++) {
        expect_erased(all[i], &g, i < 3);
        ASSERT_EQ(fx_count(all[i], "SELECT count(*) FROM events WHERE kind=29"), 3);
    }

    /* A device that gets the erasure before the profile it covers never shows the name: a
     * second store of student2's device takes every event but that profile, then the intact
     * copy of it (which the erasure covers), then the stripped one (which changes nothing). */
    struct ww_store *late = fx_open_db("student2", "late.db");
    bundle_of(g.coach, g.gid, &bag);
    const uint8_t *raws[256], *held = NULL;
    size_t lens[256], n = 0, held_len = 0;
    for (size_t i = 0; i < bag.n; i++) {
        struct ww_envelope env;
        ASSERT_OK(ww_envelope_decode(bag.raw[i], bag.len[i], &env));
        if (env.h.kind == WW_KIND_MEMBER_PROFILE && !memcmp(env.h.ref, g.m_st[0], 16)) {
            ASSERT(env.erased);
            held = bag.raw[i];
            held_len = bag.len[i];
            continue;
        }
        raws[n] = bag.raw[i];
        lens[n++] = bag.len[i];
    }
    ASSERT(held != NULL);
    struct ww_apply_result r;
    ASSERT_OK(ww_sync_apply(late, raws, lens, n, &r));
    size_t waiting = r.deferred;
    ASSERT_GT(waiting, 0); /* the owner's events after the profile wait for it */
    r = fx_apply1(late, &intact);
    ASSERT_EQ(r.accepted, 1 + waiting);
    ASSERT_OK(ww_sync_apply(late, &held, &held_len, 1, &r));
    ASSERT_EQ(r.rejected, 0);
    fx_bag_free(&bag);
    ASSERT_EQ(fx_count(late, "SELECT count(*) FROM pending"), 0);
    struct shown s;
    shown_of(late, g.gid, &s);
    ASSERT_STR_EQ(alias_of(&s, g.m_st[0]), "");
    ASSERT_STR_EQ(alias_of(&s, g.m_st[1]), "student2");
    ASSERT_EQ(rows_with(late, "student1"), 0);
    ww_store_close(late);
    ww_store_close(hub);
    fx_group_close(&g);
}

TEST(profile_a_device_that_joins_later_reads_every_name)
{
    struct fx_group g;
    fx_group_make(&g, 3, 0, NULL);
    /* A removal starts a new epoch: the profiles so far were written in the old one. */
    ASSERT_OK(ww_member_remove(g.coach, g.gid, g.m_st[2], NULL));
    fx_group_sync(&g);
    struct ww_store *newcomer = fx_open("newcomer"), *laptop = fx_open("laptop");
    uint8_t pk[32], m[16];
    ww_store_device(newcomer, pk);
    ASSERT_OK(ww_member_add(g.coach, g.gid, WW_ROLE_SENIOR, "Nieuwe Noor", 4, WW_TRACK_BOL, pk, m));
    /* The owner wrote each active member's profile again, once, in the new epoch. */
    ASSERT_EQ(fx_count(g.coach, "SELECT count(*) FROM events WHERE kind=29"), 4 + 4);
    ww_store_device(laptop, pk);
    ASSERT_OK(ww_device_add(g.coach, g.gid, g.m_st[0], pk, NULL));
    ASSERT_EQ(fx_count(g.coach, "SELECT count(*) FROM events WHERE kind=29"), 8);
    fx_sync(g.coach, newcomer, g.gid, 256);
    fx_sync(g.coach, laptop, g.gid, 256);

    struct ww_store *late[] = {newcomer, laptop};
    for (size_t i = 0; i < 2; i++) {
        struct shown s;
        shown_of(late[i], g.gid, &s);
        ASSERT_STR_EQ(alias_of(&s, g.m_st[0]), "student1");
        ASSERT_STR_EQ(alias_of(&s, g.m_st[1]), "student2");
        ASSERT_STR_EQ(alias_of(&s, m), "Nieuwe Noor");
        ASSERT(shows_name(&s, "Coach Anna"));
        /* The removed member's profile was not written again: no name. */
        ASSERT_STR_EQ(alias_of(&s, g.m_st[2]), "");
    }
    ww_store_close(newcomer);
    ww_store_close(laptop);
    fx_group_close(&g);
}

/* The owner device writes a member's profile again for a device that joins while the
 * member's own erasure has not reached it yet: that later copy is dropped as well, on every
 * replica, whatever the order in which the two arrive. */
TEST(profile_written_again_before_the_erasure_arrives_stays_erased)
{
    struct fx_group g;
    fx_group_make(&g, 3, 0, NULL);
    ASSERT_OK(ww_member_erase(g.st[0], g.gid, g.m_st[0], NULL)); /* not synced yet */
    ASSERT_OK(ww_member_remove(g.coach, g.gid, g.m_st[2], NULL));
    struct ww_store *newcomer = fx_open("newcomer");
    uint8_t pk[32], m[16];
    ww_store_device(newcomer, pk);
    long before = fx_count(g.coach, "SELECT count(*) FROM events WHERE kind=29");
    ASSERT_OK(ww_member_add(g.coach, g.gid, WW_ROLE_STUDENT, "Nieuwe Noor", 1, 0, pk, m));
    ASSERT_GT(fx_count(g.coach, "SELECT count(*) FROM events WHERE kind=29"), before + 1);
    ASSERT_GT(rows_with(g.coach, "student1"), 0);
    fx_sync(g.coach, newcomer, g.gid, 256);
    ASSERT_GT(rows_with(newcomer, "student1"), 0); /* it read the copy written for it */
    fx_group_sync(&g);
    fx_sync(g.coach, newcomer, g.gid, 256);
    struct ww_store *all[] = {g.coach, g.st[0], g.st[1], newcomer};
    for (size_t i = 0; i < 4; i++)
        expect_erased(all[i], &g, 1);
    ww_store_close(newcomer);
    fx_group_close(&g);
}
