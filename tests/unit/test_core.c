/*
 * test_core.c - libwegwijs: store, identity, groups and caps, the day, reflections and
 * audiences, reactions, signals, sign-offs, and every rejection path of apply.
 */
#define _GNU_SOURCE 1
#include <fcntl.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"
#include "runner.h"
#include "store.h"

static char *path(const char *a, const char *b)
{
    static char p[4][512];
    static int i;
    i = (i + 1) % 4;
    snprintf(p[i], sizeof p[i], "%s/%s/%s", ww_test_tmpdir(), a, b);
    return p[i];
}

static size_t file_bytes(const char *p, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(p, "rb");
    ASSERT(f);
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

/* 1 when the file holds the bytes of text anywhere (a missing file holds nothing). */
static int file_contains(const char *p, const char *text)
{
    static uint8_t buf[8 << 20];
    FILE *f = fopen(p, "rb");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    return memmem(buf, n, text, strlen(text)) != NULL;
}

/* ---- Identity and store --------------------------------------------------------- */

TEST(core_identity_created_0600_and_stable)
{
    struct ww_store *s = fx_open("dev");
    uint8_t a[32], b[32];
    ww_store_device(s, a);
    ww_store_close(s);
    struct stat st;
    ASSERT_EQ(stat(path("dev", "identity.key"), &st), 0);
    ASSERT_EQ(st.st_mode & 0777, 0600);
    s = fx_open("dev");
    ww_store_device(s, b);
    ww_store_close(s);
    ASSERT_MEM_EQ(a, b, 32);
}

TEST(core_identity_refused_when_readable_or_damaged)
{
    ww_store_close(fx_open("dev"));
    const char *p = path("dev", "identity.key");
    ASSERT_EQ(chmod(p, 0644), 0);
    struct ww_store *s = NULL;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/dev", ww_test_tmpdir());
    ASSERT_ERR(ww_store_open(dir, NULL, &s), WW_EPERM);
    ASSERT(s == NULL);
    ASSERT_EQ(chmod(p, 0600), 0);
    uint8_t buf[200];
    size_t n = file_bytes(p, buf, sizeof buf);
    ASSERT_EQ(n, 101);
    buf[50] ^= 1;
    int fd = open(p, O_WRONLY | O_TRUNC);
    ASSERT(fd >= 0);
    ASSERT_EQ(write(fd, buf, n), (ssize_t)n);
    close(fd);
    ASSERT_ERR(ww_store_open(dir, NULL, &s), WW_ECORRUPT);
    /* The damaged key is never replaced by a new one. */
    uint8_t after[200];
    ASSERT_EQ(file_bytes(p, after, sizeof after), n);
    ASSERT_MEM_EQ(buf, after, n);
}

TEST(core_store_from_newer_version_refused_unchanged)
{
    ww_store_close(fx_open("dev"));
    sqlite3 *db;
    ASSERT_EQ(sqlite3_open(path("dev", "wegwijs.db"), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version=99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    static uint8_t before[1 << 20], after[1 << 20];
    size_t n = file_bytes(path("dev", "wegwijs.db"), before, sizeof before);
    char dir[512];
    snprintf(dir, sizeof dir, "%s/dev", ww_test_tmpdir());
    struct ww_store *s = NULL;
    ASSERT_ERR(ww_store_open(dir, NULL, &s), WW_ENEWER);
    ASSERT_EQ(file_bytes(path("dev", "wegwijs.db"), after, sizeof after), n);
    ASSERT_MEM_EQ(before, after, n);
}

TEST(core_corrupt_store_refused_unchanged)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    fx_group_close(&g);
    const char *p = path("coach", "wegwijs.db");
    static uint8_t buf[1 << 20], after[1 << 20];
    size_t n = file_bytes(p, buf, sizeof buf);
    ASSERT_GT(n, 8192);
    for (size_t i = 4096; i < n; i += 7)
        buf[i] ^= 0x5a; /* damage every page after the header */
    FILE *f = fopen(p, "wb");
    ASSERT(f);
    ASSERT_EQ(fwrite(buf, 1, n, f), n);
    fclose(f);
    char dir[512];
    snprintf(dir, sizeof dir, "%s/coach", ww_test_tmpdir());
    struct ww_store *s = NULL;
    ASSERT_ERR(ww_store_open(dir, NULL, &s), WW_ECORRUPT);
    ASSERT_EQ(file_bytes(p, after, sizeof after), n);
    ASSERT_MEM_EQ(buf, after, n);

    FILE *g2 = fopen(path("coach", "wegwijs.db"), "wb");
    ASSERT(g2);
    fputs("this is not a database at all, just text", g2);
    fclose(g2);
    ASSERT_ERR(ww_store_open(dir, NULL, &s), WW_ECORRUPT);
}

/* ---- Groups and caps ------------------------------------------------------------- */

static void count_member(void *ud, const struct ww_member_info *m)
{
    int *n = ud;
    if (m->active)
        n[m->role]++;
}

TEST(core_caps_four_students_one_senior)
{
    struct fx_group g;
    fx_group_make(&g, 4, 1, NULL);
    int n[4] = {0};
    ASSERT_OK(ww_members_list(g.coach, g.gid, count_member, n));
    ASSERT_EQ(n[WW_ROLE_COACH], 1);
    ASSERT_EQ(n[WW_ROLE_STUDENT], 4);
    ASSERT_EQ(n[WW_ROLE_SENIOR], 1);

    struct ww_store *fifth = fx_open("fifth"), *second = fx_open("second");
    uint8_t pk[32], m[16];
    ww_store_device(fifth, pk);
    ASSERT_ERR(ww_member_add(g.coach, g.gid, WW_ROLE_STUDENT, "Vijf", 1, 1, pk, m), WW_ESTUDENTCAP);
    ww_store_device(second, pk);
    ASSERT_ERR(ww_member_add(g.coach, g.gid, WW_ROLE_SENIOR, "Twee", 3, 1, pk, m), WW_ESENIORCAP);
    /* The refusal left nothing behind: the next add after a removal works. */
    ASSERT_OK(ww_member_remove(g.coach, g.gid, g.m_st[0], NULL));
    ww_store_device(fifth, pk);
    ASSERT_OK(ww_member_add(g.coach, g.gid, WW_ROLE_STUDENT, "Vijf", 1, 1, pk, m));
    /* A device already in the group cannot be added again. */
    ASSERT_ERR(ww_member_add(g.coach, g.gid, WW_ROLE_STUDENT, "Dubbel", 1, 1, pk, m), WW_EEXIST);
    ww_store_close(fifth);
    ww_store_close(second);
    fx_group_close(&g);
}

TEST(core_only_owner_changes_membership)
{
    struct fx_group g;
    fx_group_make(&g, 2, 0, NULL);
    struct ww_store *x = fx_open("x");
    uint8_t pk[32], m[16];
    ww_store_device(x, pk);
    ASSERT_ERR(ww_member_add(g.st[0], g.gid, WW_ROLE_STUDENT, "X", 1, 1, pk, m), WW_EROLE);
    ASSERT_ERR(ww_member_remove(g.st[0], g.gid, g.m_st[1], NULL), WW_EROLE);
    ASSERT_ERR(ww_member_add(x, g.gid, WW_ROLE_STUDENT, "X", 1, 1, pk, m), WW_EGROUP);
    ASSERT_ERR(ww_member_add(g.coach, g.gid, WW_ROLE_STUDENT, "", 1, 1, pk, m), WW_EINVAL);
    ASSERT_ERR(ww_member_add(g.coach, g.gid, WW_ROLE_STUDENT, "X", 7, 1, pk, m), WW_EINVAL);
    ww_store_close(x);
    fx_group_close(&g);
}

TEST(core_removed_member_cannot_read_what_follows)
{
    struct fx_group g;
    fx_group_make(&g, 2, 0, NULL);
    uint32_t d;
    ASSERT_OK(ww_date_parse("2026-11-24", &d));
    /* Offline, before it learns of its removal, student2 marks a day off (old epoch). */
    ASSERT_OK(ww_day_off(g.st[1], g.gid, d, 1, NULL));
    fx_now += 1000;
    ASSERT_OK(ww_member_remove(g.coach, g.gid, g.m_st[1], NULL));
    ASSERT_OK(ww_challenge_schedule(g.coach, g.gid, d, "L02", NULL));
    fx_sync2(g.coach, g.st[0], g.gid);
    fx_sync(g.coach, g.st[1], g.gid, 256);
    /* student1 reads the new schedule; the removed student2 holds it but cannot read it. */
    ASSERT_EQ(fx_count(g.st[0], "SELECT count(*) FROM schedule WHERE code='L02'"), 1);
    ASSERT_EQ(fx_count(g.st[1], "SELECT count(*) FROM schedule"), 0);
    ASSERT_EQ(fx_count(g.st[1], "SELECT count(*) FROM events WHERE kind=8"), 1);
    ASSERT_EQ(fx_count(g.coach, "SELECT max(epoch) FROM groups"), 2);
    /* What student2 wrote while offline, which the coach had not seen when it removed
     * student2, is not kept: not by the coach, and no longer by student2 itself. */
    ASSERT_EQ(fx_count(g.st[1], "SELECT count(*) FROM days_off"), 0);
    struct ww_vv_item vv[64];
    size_t n = 0;
    struct fx_bag bag = {.n = 0};
    int more = 0;
    ASSERT_OK(ww_sync_vv(g.coach, g.gid, vv, 64, &n));
    ASSERT_OK(ww_sync_missing(g.st[1], g.gid, vv, n, 256, 1u << 20, fx_bag_add, &bag, &more));
    ASSERT_EQ(bag.n, 0);
    ASSERT_EQ(fx_count(g.coach, "SELECT count(*) FROM days_off"), 0);
    /* After learning of the removal it can write nothing more. */
    ASSERT_ERR(ww_day_off(g.st[1], g.gid, d + 1, 1, NULL), WW_ENOTMEMBER);
    fx_group_close(&g);
}

/* ---- The day ---------------------------------------------------------------------- */

static void get_day(void *ud, const struct ww_day *d)
{
    struct ww_day *out = ud;
    *out = *d;
    static char code[32];
    snprintf(code, sizeof code, "%s", d->challenge.code);
    out->challenge.code = code;
}

TEST(core_today_challenge_schedule_and_rotation)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    uint32_t today, mon;
    ASSERT_OK(ww_day_today(g.st[0], g.gid, &today));
    ASSERT_OK(ww_date_parse("2026-11-23", &mon));
    ASSERT_EQ(today, mon);
    /* 23:30 UTC on Monday is already Tuesday in Amsterdam. */
    fx_now = FX_MONDAY_0800 + (int64_t)(16 * 3600 + 1800) * 1000;
    ASSERT_OK(ww_day_today(g.st[0], g.gid, &today));
    ASSERT_EQ(today, mon + 1);
    fx_now = FX_MONDAY_0800;

    struct ww_day d;
    ASSERT_OK(ww_day_get(g.st[0], g.gid, mon, get_day, &d));
    ASSERT_EQ(d.week, 2); /* the group started 2026-11-16 */
    ASSERT_EQ(d.scheduled, 0);
    ASSERT(d.challenge.code[0] == 'W');
    ASSERT_GE(d.n_items, 3);
    ASSERT_EQ(d.items[0], 1);
    ASSERT_EQ(d.items[1], 2);
    /* Every day of 30 weeks has a challenge, identical on coach and student devices. */
    for (uint32_t day = mon - 7; day < mon + 200; day++) {
        struct ww_day a, b;
        char ca[32];
        ASSERT_OK(ww_day_get(g.st[0], g.gid, day, get_day, &a));
        snprintf(ca, sizeof ca, "%s", a.challenge.code);
        ASSERT_OK(ww_day_get(g.coach, g.gid, day, get_day, &b));
        ASSERT_STR_EQ(ca, b.challenge.code);
        ASSERT(ca[0] != '\0');
    }
    ASSERT_OK(ww_challenge_schedule(g.coach, g.gid, mon, "L10", NULL));
    ASSERT_ERR(ww_challenge_schedule(g.coach, g.gid, mon, "NOPE", NULL), WW_ENOTFOUND);
    ASSERT_ERR(ww_challenge_schedule(g.st[0], g.gid, mon, "L10", NULL), WW_EROLE);
    fx_sync(g.coach, g.st[0], g.gid, 256);
    ASSERT_OK(ww_day_get(g.st[0], g.gid, mon, get_day, &d));
    ASSERT_EQ(d.scheduled, 1);
    ASSERT_STR_EQ(d.challenge.code, "L10");

    /* The coach's own challenge joins the library and can be scheduled. */
    struct ww_challenge c = {"EIGEN1",
                             "Eigen uitdaging",
                             "Doe iets kleins onder begeleiding.",
                             WW_CANMEDS_CO,
                             1,
                             52,
                             "BPV-1",
                             WW_SIGNOFF_WERKBEGELEIDER};
    ASSERT_OK(ww_challenge_define(g.coach, g.gid, &c, NULL));
    ASSERT_OK(ww_challenge_schedule(g.coach, g.gid, mon + 1, "EIGEN1", NULL));
    fx_sync(g.coach, g.st[0], g.gid, 256);
    ASSERT_OK(ww_day_get(g.st[0], g.gid, mon + 1, get_day, &d));
    ASSERT_STR_EQ(d.challenge.code, "EIGEN1");

    ASSERT_EQ(d.day_off, 0);
    ASSERT_OK(ww_day_off(g.st[0], g.gid, mon + 1, 1, NULL));
    ASSERT_OK(ww_day_get(g.st[0], g.gid, mon + 1, get_day, &d));
    ASSERT_EQ(d.day_off, 1);
    ASSERT_OK(ww_day_off(g.st[0], g.gid, mon + 1, 0, NULL));
    ASSERT_OK(ww_day_get(g.st[0], g.gid, mon + 1, get_day, &d));
    ASSERT_EQ(d.day_off, 0);
    ASSERT_ERR(ww_day_off(g.coach, g.gid, mon, 1, NULL), WW_EROLE);
    fx_group_close(&g);
}

/* ---- Reflections and audiences ------------------------------------------------------ */

struct seen {
    int n, readable;
    char text[512];
    uint8_t hash[32];
    int n_answers;
};

static void see_reflection(void *ud, const struct ww_reflection *r)
{
    struct seen *s = ud;
    s->n++;
    s->readable = r->readable;
    snprintf(s->text, sizeof s->text, "%s", r->reflectie);
    memcpy(s->hash, r->hash, 32);
    s->n_answers = (int)r->n_answers;
}

static struct ww_reflection refl(uint32_t date, int share, const char *text)
{
    struct ww_reflection r;
    memset(&r, 0, sizeof r);
    r.date = date;
    r.status = WW_STATUS_PARTLY;
    r.obstacles = WW_OBST_NO_SUPERVISOR;
    r.situatie = "Ochtendzorg op de afdeling.";
    r.actie = "Ik vroeg mijn werkbegeleider om uitleg.";
    r.reflectie = text;
    r.share = share;
    return r;
}

static struct seen seen_by(struct ww_store *s, const uint8_t gid[16], const uint8_t *member)
{
    struct seen v;
    memset(&v, 0, sizeof v);
    ASSERT_OK(ww_reflections_list(s, gid, member, see_reflection, &v));
    return v;
}

TEST(core_reflection_audiences)
{
    struct fx_group g;
    fx_group_make(&g, 2, 1, NULL);
    uint32_t d;
    ASSERT_OK(ww_day_today(g.coach, g.gid, &d));
    struct ww_reflection r = refl(d, WW_SHARE_SELF, "Alleen voor mij.");
    ASSERT_OK(ww_reflection_put(g.st[0], g.gid, &r, NULL));
    fx_group_sync(&g);
    struct seen v = seen_by(g.st[0], g.gid, g.m_st[0]);
    ASSERT_EQ(v.n, 1);
    ASSERT_EQ(v.readable, 1);
    ASSERT_STR_EQ(v.text, "Alleen voor mij.");
    ASSERT_EQ(seen_by(g.coach, g.gid, g.m_st[0]).readable, 0);
    ASSERT_EQ(seen_by(g.st[1], g.gid, g.m_st[0]).readable, 0);
    ASSERT_EQ(seen_by(g.senior, g.gid, g.m_st[0]).readable, 0);

    /* Shared with the coach: the coach reads it, the group does not. */
    r = refl(d, WW_SHARE_COACH, "Voor mijn coach.");
    ASSERT_OK(ww_reflection_put(g.st[0], g.gid, &r, NULL));
    fx_group_sync(&g);
    v = seen_by(g.coach, g.gid, g.m_st[0]);
    ASSERT_EQ(v.n, 1);
    ASSERT_EQ(v.readable, 1);
    ASSERT_STR_EQ(v.text, "Voor mijn coach.");
    ASSERT_EQ(seen_by(g.st[1], g.gid, g.m_st[0]).readable, 0);
    ASSERT_EQ(seen_by(g.senior, g.gid, g.m_st[0]).readable, 0);

    /* Shared with the group: everyone reads it. Made private again: nobody else does,
     * and the earlier text is gone from their stores. */
    r = refl(d, WW_SHARE_GROUP, "Voor de groep.");
    ASSERT_OK(ww_reflection_put(g.st[0], g.gid, &r, NULL));
    fx_group_sync(&g);
    ASSERT_STR_EQ(seen_by(g.st[1], g.gid, g.m_st[0]).text, "Voor de groep.");
    ASSERT_STR_EQ(seen_by(g.senior, g.gid, g.m_st[0]).text, "Voor de groep.");
    r = refl(d, WW_SHARE_SELF, "Toch privé.");
    ASSERT_OK(ww_reflection_put(g.st[0], g.gid, &r, NULL));
    fx_group_sync(&g);
    v = seen_by(g.st[1], g.gid, g.m_st[0]);
    ASSERT_EQ(v.n, 1);
    ASSERT_EQ(v.readable, 0);
    ASSERT_STR_EQ(v.text, "");
    /* No reflection text is stored in the clear, on any device. */
    const char *names[] = {"coach", "student1", "student2", "senior"};
    for (int i = 0; i < 4; i++) {
        ASSERT(!file_contains(path(names[i], "wegwijs.db"), "Voor de groep."));
        ASSERT(!file_contains(path(names[i], "wegwijs.db-wal"), "Voor de groep."));
        ASSERT(!file_contains(path(names[i], "wegwijs.db"), "Alleen voor mij."));
        ASSERT(!file_contains(path(names[i], "wegwijs.db-wal"), "Alleen voor mij."));
    }
    ASSERT_EQ(seen_by(g.st[0], g.gid, g.m_st[0]).readable, 1);

    /* Only learners reflect; bounds are enforced. */
    ASSERT_ERR(ww_reflection_put(g.coach, g.gid, &r, NULL), WW_EROLE);
    static char big[402];
    memset(big, 'a', 401);
    r.reflectie = big;
    ASSERT_ERR(ww_reflection_put(g.st[0], g.gid, &r, NULL), WW_ETOOBIG);
    r = refl(d, WW_SHARE_SELF, "x");
    r.status = WW_STATUS_DONE; /* "gedaan" has no obstacles */
    ASSERT_ERR(ww_reflection_put(g.st[0], g.gid, &r, NULL), WW_EINVAL);
    r = refl(d, WW_SHARE_SELF, "\xc3\x28");
    ASSERT_ERR(ww_reflection_put(g.st[0], g.gid, &r, NULL), WW_EUTF8);
    fx_group_close(&g);
}

TEST(core_reflection_last_writer_wins_across_devices)
{
    struct fx_group g;
    fx_group_make(&g, 1, 0, NULL);
    struct ww_store *phone = fx_open("phone");
    uint8_t pk[32];
    ww_store_device(phone, pk);
    ASSERT_OK(ww_device_add(g.coach, g.gid, g.m_st[0], pk, NULL));
    fx_sync2(g.coach, g.st[0], g.gid);
    fx_sync2(g.coach, phone, g.gid);
    uint32_t d;
    ASSERT_OK(ww_day_today(g.coach, g.gid, &d));
    /* Both devices write the same day offline; the later one wins everywhere. */
    struct ww_reflection r = refl(d, WW_SHARE_COACH, "Van de laptop.");
    ASSERT_OK(ww_reflection_put(g.st[0], g.gid, &r, NULL));
    fx_now += 60000;
    r = refl(d, WW_SHARE_COACH, "Van de telefoon.");
    ASSERT_OK(ww_reflection_put(phone, g.gid, &r, NULL));
    fx_sync2(phone, g.coach, g.gid);
    fx_sync2(g.st[0], g.coach, g.gid);
    fx_sync2(g.coach, phone, g.gid);
    ASSERT_STR_EQ(seen_by(g.coach, g.gid, g.m_st[0]).text, "Van de telefoon.");
    ASSERT_STR_EQ(seen_by(g.st[0], g.gid, g.m_st[0]).text, "Van de telefoon.");
    ASSERT_STR_EQ(seen_by(phone, g.gid, g.m_st[0]).text, "Van de telefoon.");
    ASSERT_EQ(seen_by(g.coach, g.gid, g.m_st[0]).n, 1);
    ww_store_close(phone);
    fx_group_close(&g);
}

/* ---- Reactions, signals, sign-offs --------------------------------------------------- */

static void count_cb(void *ud, const void *x)
{
    (void)x;
    (*(int *)ud)++;
}

static void reaction_cb(void *ud, const struct ww_reaction *r)
{
    count_cb(ud, r);
}

struct sig_seen {
    int n, state;
    uint8_t hash[32];
    char text[600];
};

static void signal_cb(void *ud, const struct ww_signal *sg)
{
    struct sig_seen *s = ud;
    s->n++;
    s->state = sg->state;
    memcpy(s->hash, sg->hash, 32);
    snprintf(s->text, sizeof s->text, "%s", sg->text);
}

static void signoff_cb(void *ud, const struct ww_signoff *so)
{
    int *n = ud;
    n[0]++;
    n[1] = so->level;
}

TEST(core_reactions_signals_signoffs)
{
    struct fx_group g;
    fx_group_make(&g, 2, 1, NULL);
    uint32_t d;
    ASSERT_OK(ww_day_today(g.coach, g.gid, &d));
    struct ww_reflection r = refl(d, WW_SHARE_GROUP, "Gedeeld.");
    ASSERT_OK(ww_reflection_put(g.st[0], g.gid, &r, NULL));
    fx_group_sync(&g);
    struct seen v = seen_by(g.st[1], g.gid, g.m_st[0]);
    ASSERT_OK(ww_reaction_put(g.st[1], g.gid, v.hash, "Herkenbaar, goed gedaan!", NULL));
    ASSERT_OK(ww_reaction_put(g.senior, g.gid, v.hash, "Mooi dat je om uitleg vroeg.", NULL));
    uint8_t bogus[32] = {1};
    ASSERT_ERR(ww_reaction_put(g.st[1], g.gid, bogus, "?", NULL), WW_ENOTFOUND);
    fx_group_sync(&g);
    int n = 0;
    ASSERT_OK(ww_reactions_list(g.st[0], g.gid, v.hash, reaction_cb, &n));
    ASSERT_EQ(n, 2);

    uint8_t sig[32];
    ASSERT_OK(ww_signal_raise(g.senior, g.gid, WW_SIGCAT_WORKLOAD,
                              "De groep krijgt weinig tijd van de werkbegeleiders.", NULL, sig));
    ASSERT_ERR(ww_signal_raise(g.coach, g.gid, WW_SIGCAT_OTHER, "x", NULL, sig), WW_EROLE);
    ASSERT_ERR(ww_signal_raise(g.senior, g.gid, 9, "x", NULL, sig), WW_EINVAL);
    fx_group_sync(&g);
    struct sig_seen ss = {0};
    ASSERT_OK(ww_signals_list(g.coach, g.gid, signal_cb, &ss));
    ASSERT_EQ(ss.n, 1);
    ASSERT_EQ(ss.state, 0);
    ASSERT_MEM_EQ(ss.hash, sig, 32);
    struct sig_seen other = {0};
    ASSERT_OK(ww_signals_list(g.st[0], g.gid, signal_cb, &other));
    ASSERT_EQ(other.n, 0); /* between the senior and the coach only */
    ASSERT_ERR(ww_signal_resolve(g.st[0], g.gid, sig, WW_SIGNAL_DISCUSSED, NULL, NULL), WW_EROLE);
    ASSERT_OK(
        ww_signal_resolve(g.coach, g.gid, sig, WW_SIGNAL_DISCUSSED, "Besproken in MDO.", NULL));
    fx_group_sync(&g);
    memset(&ss, 0, sizeof ss);
    ASSERT_OK(ww_signals_list(g.senior, g.gid, signal_cb, &ss));
    ASSERT_EQ(ss.state, WW_SIGNAL_DISCUSSED);

    ASSERT_OK(
        ww_signoff_put(g.coach, g.gid, g.m_st[0], "W03", d, WW_LEVEL_SUFFICIENT, "Netjes.", NULL));
    ASSERT_ERR(ww_signoff_put(g.st[1], g.gid, g.m_st[0], "W03", d, WW_LEVEL_GOOD, NULL, NULL),
               WW_EROLE);
    ASSERT_ERR(ww_signoff_put(g.coach, g.gid, g.m_st[0], "W03", d, 5, NULL, NULL), WW_EINVAL);
    fx_group_sync(&g);
    int so[2] = {0};
    ASSERT_OK(ww_signoffs_list(g.st[0], g.gid, signoff_cb, so));
    ASSERT_EQ(so[0], 1);
    ASSERT_EQ(so[1], WW_LEVEL_SUFFICIENT);
    int so2[2] = {0};
    ASSERT_OK(ww_signoffs_list(g.st[1], g.gid, signoff_cb, so2));
    ASSERT_EQ(so2[0], 0);
    fx_group_close(&g);
}

/* A member withdraws their own reaction; nobody else can, and a replica that receives the
 * withdrawal before the reaction ends up the same. */
TEST(core_reaction_withdrawn_in_any_order)
{
    struct fx_group g;
    fx_group_make(&g, 2, 0, NULL);
    uint32_t d;
    ASSERT_OK(ww_day_today(g.coach, g.gid, &d));
    struct ww_reflection r = refl(d, WW_SHARE_GROUP, "Gedeeld.");
    uint8_t refl_hash[32], react[32], del[32];
    ASSERT_OK(ww_reflection_put(g.st[0], g.gid, &r, refl_hash));
    fx_group_sync(&g);
    ASSERT_OK(ww_reaction_put(g.st[1], g.gid, refl_hash, "Goed zo!", react));
    ASSERT_OK(ww_reaction_put(g.coach, g.gid, refl_hash, "Mooi.", NULL));
    fx_group_sync(&g);
    /* Only its author withdraws a reaction. */
    ASSERT_ERR(ww_reaction_del(g.st[0], g.gid, react, NULL), WW_EROLE);
    uint8_t bogus[32] = {7};
    ASSERT_ERR(ww_reaction_del(g.st[1], g.gid, bogus, NULL), WW_ENOTFOUND);
    /* A replica of the coach that holds everything but the student's reaction. */
    struct ww_store *late = fx_open_db("coach", "late.db");
    fx_sync(g.coach, late, g.gid, 256);
    ASSERT_OK(ww_reaction_del(g.st[1], g.gid, react, del));
    int n = 0;
    ASSERT_OK(ww_reactions_list(g.st[1], g.gid, refl_hash, reaction_cb, &n));
    ASSERT_EQ(n, 1);
    /* The late replica gets the student's events newest first, one batch each: the
     * withdrawal waits for the reaction, then removes it. */
    struct fx_bag all = {.n = 0};
    int more = 0;
    ASSERT_OK(ww_sync_missing(g.st[1], g.gid, NULL, 0, 256, 1u << 20, fx_bag_add, &all, &more));
    const uint8_t *order[256];
    size_t lens[256], k = 0;
    for (size_t i = all.n; i-- > 0;) { /* newest first: the withdrawal leads */
        order[k] = all.raw[i];
        lens[k++] = all.len[i];
    }
    struct ww_apply_result res;
    for (size_t i = 0; i < k; i++)
        ASSERT_OK(ww_sync_apply(late, &order[i], &lens[i], 1, &res));
    fx_group_sync(&g);
    fx_sync(g.coach, late, g.gid, 256);
    n = 0;
    ASSERT_OK(ww_reactions_list(late, g.gid, refl_hash, reaction_cb, &n));
    ASSERT_EQ(n, 1);
    uint8_t a[32], b[32];
    fx_digest(late, a);
    fx_digest(g.coach, b);
    ASSERT_MEM_EQ(a, b, 32);
    fx_bag_free(&all);
    ww_store_close(late);
    fx_group_close(&g);
}
