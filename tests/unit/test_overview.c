/*
 * test_overview.c - the coach's overview of a group: worked days, private reflections shown
 * as such, streaks, the three-days alert, and sign-offs that wait.
 */
#include <string.h>

#include "fixture.h"
#include "runner.h"

static struct ww_reflection reflection(uint32_t date, int share, const char *code)
{
    struct ww_reflection r;
    memset(&r, 0, sizeof r);
    r.date = date;
    r.code = code;
    r.status = WW_STATUS_PARTLY;
    r.obstacles = WW_OBST_NO_SUPERVISOR;
    r.reflectie = "Het ging beter dan gisteren.";
    r.share = share;
    return r;
}

struct rows {
    size_t n;
    struct ww_overview_row row[4];
    struct ww_overview_cell cells[4][WW_OVERVIEW_MAX_DAYS];
};

static void keep_row(void *ud, const struct ww_overview_row *r)
{
    struct rows *x = ud;
    ASSERT_LT(x->n, 4);
    ASSERT_LE(r->n_cells, WW_OVERVIEW_MAX_DAYS);
    x->row[x->n] = *r;
    memcpy(x->cells[x->n], r->cells, r->n_cells * sizeof *r->cells);
    x->n++;
}

static const struct ww_overview_row *row_of(const struct rows *x, const uint8_t *member,
                                            const struct ww_overview_cell **cells)
{
    for (size_t i = 0; i < x->n; i++)
        if (!memcmp(x->row[i].member, member, WW_ID_LEN)) {
            *cells = x->cells[i];
            return &x->row[i];
        }
    ww_test_fail(__FILE__, __LINE__, "member not in the overview");
    return NULL;
}

static void count_due(void *ud, const struct ww_signoff_due *d)
{
    ASSERT_STR_EQ(d->code, "OPD3");
    ASSERT_STR_EQ(d->assignment_ref, "Opdracht 3");
    (*(int *)ud)++;
}

/* Monday 2026-11-16 is the group's first day; the fake clock says Monday the 23rd. */
TEST(overview_shows_the_week_as_the_coach_may_see_it)
{
    /* The group and its two students are made on Monday the 16th, its first day; a third
     * student joins on Thursday the 19th. */
    fx_now = FX_MONDAY_0800 - 7 * 86400000LL;
    struct fx_group g;
    fx_group_make(&g, 2, 0, NULL);
    fx_now += 3 * 86400000LL;
    struct ww_store *late = fx_open("student3");
    uint8_t late_pk[WW_KEY_LEN], late_member[WW_ID_LEN];
    ww_store_device(late, late_pk);
    ASSERT_OK(ww_member_add(g.coach, g.gid, WW_ROLE_STUDENT, "Later", 1, WW_TRACK_BOL, late_pk,
                            late_member));
    fx_now = FX_MONDAY_0800;
    uint32_t mon, today;
    ASSERT_OK(ww_date_parse("2026-11-16", &mon));
    ASSERT_OK(ww_day_today(g.coach, g.gid, &today));
    ASSERT_EQ(today, mon + 7);
    struct ww_challenge opd = {
        "OPD3",       "Overdracht geven",     "Geef een overdracht volgens SBAR.", 2, 1, 10,
        "Opdracht 3", WW_SIGNOFF_STUDENTCOACH};
    ASSERT_OK(ww_challenge_define(g.coach, g.gid, &opd, NULL));
    fx_group_sync(&g);

    /* Student 1: the group on Monday and Tuesday, private on Wednesday, off on Thursday,
     * nothing on Friday, a weekend shift on Saturday (the assignment). */
    struct ww_reflection r = reflection(mon, WW_SHARE_GROUP, "W03");
    uint8_t monday[32];
    ASSERT_OK(ww_reflection_put(g.st[0], g.gid, &r, monday));
    r = reflection(mon + 1, WW_SHARE_GROUP, "W03");
    ASSERT_OK(ww_reflection_put(g.st[0], g.gid, &r, NULL));
    r = reflection(mon + 2, WW_SHARE_SELF, "W03");
    ASSERT_OK(ww_reflection_put(g.st[0], g.gid, &r, NULL));
    ASSERT_OK(ww_day_off(g.st[0], g.gid, mon + 3, 1, NULL));
    r = reflection(mon + 5, WW_SHARE_COACH, "OPD3");
    r.status = WW_STATUS_DONE;
    r.obstacles = 0;
    ASSERT_OK(ww_reflection_put(g.st[0], g.gid, &r, NULL));
    /* Student 2 reflects on nothing. */
    fx_group_sync(&g);
    ASSERT_OK(ww_reaction_put(g.st[1], g.gid, monday, "Goed gedaan!", NULL));
    ASSERT_OK(ww_signoff_put(g.coach, g.gid, g.m_st[0], "W03", mon + 1, 3, "", NULL));
    fx_group_sync(&g);

    struct rows x;
    memset(&x, 0, sizeof x);
    ASSERT_OK(ww_overview(g.coach, g.gid, mon, mon + 13, keep_row, &x));
    ASSERT_EQ(x.n, 3);
    const struct ww_overview_cell *c;
    const struct ww_overview_row *a = row_of(&x, g.m_st[0], &c);
    ASSERT_EQ(a->n_cells, 14);
    ASSERT(c[0].reflected && c[0].readable && c[0].status == WW_STATUS_PARTLY);
    ASSERT_EQ(c[0].obstacles, WW_OBST_NO_SUPERVISOR);
    ASSERT_EQ(c[0].reactions, 1);
    ASSERT_EQ(c[1].signoff, 3);
    /* The private one: it exists, nothing more. */
    ASSERT(c[2].reflected && !c[2].readable && c[2].status == 0 && c[2].code[0] == '\0');
    ASSERT(c[3].day_off && !c[3].worked);
    ASSERT(c[4].worked && !c[4].reflected);
    ASSERT(c[5].worked && c[5].readable && !strcmp(c[5].code, "OPD3"));
    ASSERT(!c[6].worked); /* an empty Sunday is no missed day */
    ASSERT(c[7].worked);  /* today: worked, not missed yet */
    ASSERT(!c[8].worked); /* the future */
    ASSERT_EQ(a->worked, 5);
    ASSERT_EQ(a->reflected, 4);
    ASSERT_EQ(a->streak, 1);
    ASSERT_EQ(a->missed_in_a_row, 0);
    ASSERT_EQ(a->alert, 0);
    const struct ww_overview_row *b = row_of(&x, g.m_st[1], &c);
    ASSERT_EQ(b->worked, 5);
    ASSERT_EQ(b->reflected, 0);
    ASSERT_EQ(b->missed_in_a_row, 5);
    ASSERT_EQ(b->alert, 1);
    /* The late one: no missed day before it joined on Thursday. */
    const struct ww_overview_row *l = row_of(&x, late_member, &c);
    ASSERT(!c[0].worked && !c[2].worked && c[3].worked && c[4].worked);
    ASSERT_EQ(l->worked, 2);
    ASSERT_EQ(l->missed_in_a_row, 2);
    ASSERT_EQ(l->alert, 0);

    /* The assignment waits for the coach's sign-off, then no longer. */
    int due = 0;
    ASSERT_OK(ww_signoffs_due(g.coach, g.gid, count_due, &due));
    ASSERT_EQ(due, 1);
    ASSERT_OK(ww_signoff_put(g.coach, g.gid, g.m_st[0], "OPD3", mon + 5, 4, "", NULL));
    due = 0;
    ASSERT_OK(ww_signoffs_due(g.coach, g.gid, count_due, &due));
    ASSERT_EQ(due, 0);

    /* Only the coach has this view; ranges are bounded. */
    ASSERT_ERR(ww_overview(g.st[0], g.gid, mon, mon + 6, keep_row, &x), WW_EROLE);
    ASSERT_ERR(ww_signoffs_due(g.st[1], g.gid, count_due, &due), WW_EROLE);
    ASSERT_ERR(ww_overview(g.coach, g.gid, mon, mon + WW_OVERVIEW_MAX_DAYS, keep_row, &x),
               WW_EINVAL);
    ASSERT_ERR(ww_overview(g.coach, g.gid, mon + 1, mon, keep_row, &x), WW_EINVAL);
    ww_store_close(late);
    fx_group_close(&g);
}

static void count_path(void *ud, const struct ww_overview_row *r)
{
    struct rows *x = ud;
    ASSERT_EQ(r->n_cells, WW_HISTORY_MAX_DAYS);
    x->n++;
}

/* A learner's own path holds its private reflection; the coach's view of the same path
 * only what was shared with the coach; nobody reads another learner's path. */
TEST(history_is_the_learners_own_path_or_what_it_shared_with_the_coach)
{
    fx_now = FX_MONDAY_0800 - 7 * 86400000LL;
    struct fx_group g;
    fx_group_make(&g, 2, 0, NULL);
    fx_now = FX_MONDAY_0800;
    uint32_t mon;
    ASSERT_OK(ww_date_parse("2026-11-16", &mon));
    struct ww_reflection r = reflection(mon, WW_SHARE_GROUP, "W03");
    uint8_t monday[32];
    ASSERT_OK(ww_reflection_put(g.st[0], g.gid, &r, monday));
    r = reflection(mon + 1, WW_SHARE_SELF, "W03");
    ASSERT_OK(ww_reflection_put(g.st[0], g.gid, &r, NULL));
    r = reflection(mon + 2, WW_SHARE_COACH, "W03");
    r.status = WW_STATUS_DONE;
    r.obstacles = 0;
    ASSERT_OK(ww_reflection_put(g.st[0], g.gid, &r, NULL));
    ASSERT_OK(ww_day_off(g.st[0], g.gid, mon + 3, 1, NULL));
    fx_group_sync(&g);
    ASSERT_OK(ww_reaction_put(g.st[1], g.gid, monday, "Herkenbaar", NULL));
    ASSERT_OK(ww_signoff_put(g.coach, g.gid, g.m_st[0], "W03", mon + 2, 4, "", NULL));
    fx_group_sync(&g);

    struct rows x;
    memset(&x, 0, sizeof x);
    ASSERT_OK(ww_history(g.st[0], g.gid, NULL, mon, mon + 6, keep_row, &x));
    ASSERT_EQ(x.n, 1);
    const struct ww_overview_cell *c;
    const struct ww_overview_row *a = row_of(&x, g.m_st[0], &c);
    ASSERT_EQ(a->n_cells, 7);
    ASSERT(c[0].readable && c[0].status == WW_STATUS_PARTLY && c[0].reactions == 1);
    /* Its own private reflection: the learner reads it. */
    ASSERT(c[1].reflected && c[1].readable && !strcmp(c[1].code, "W03"));
    ASSERT(c[2].readable && c[2].status == WW_STATUS_DONE && c[2].signoff == 4);
    ASSERT(c[3].day_off && !c[3].worked);
    ASSERT(c[4].worked && !c[4].reflected);
    ASSERT_EQ(a->worked, 4);
    ASSERT_EQ(a->reflected, 3);

    /* The coach: the private day is private, the rest as shared. */
    memset(&x, 0, sizeof x);
    ASSERT_OK(ww_history(g.coach, g.gid, g.m_st[0], mon, mon + 6, keep_row, &x));
    ASSERT_EQ(x.n, 1);
    row_of(&x, g.m_st[0], &c);
    ASSERT(c[1].reflected && !c[1].readable && c[1].status == 0 && c[1].code[0] == '\0');
    ASSERT(c[2].readable && c[2].status == WW_STATUS_DONE);

    /* Nobody else's path; the coach names a learner, and only a learner. */
    memset(&x, 0, sizeof x);
    ASSERT_ERR(ww_history(g.st[1], g.gid, g.m_st[0], mon, mon + 6, keep_row, &x), WW_EROLE);
    ASSERT_ERR(ww_history(g.coach, g.gid, NULL, mon, mon + 6, keep_row, &x), WW_EROLE);
    uint8_t nobody[WW_ID_LEN] = {1};
    ASSERT_ERR(ww_history(g.coach, g.gid, nobody, mon, mon + 6, keep_row, &x), WW_ENOTFOUND);
    ASSERT_ERR(ww_history(g.st[0], g.gid, NULL, mon, mon + WW_HISTORY_MAX_DAYS, keep_row, &x),
               WW_EINVAL);
    ASSERT_EQ(x.n, 0);
    /* A path as long as the limit allows. */
    ASSERT_OK(
        ww_history(g.st[0], g.gid, g.m_st[0], mon, mon + WW_HISTORY_MAX_DAYS - 1, count_path, &x));
    ASSERT_EQ(x.n, 1);

    /* The local date of an event's HLC: 23:30 UTC on a November Monday is Tuesday in
     * Amsterdam. */
    uint32_t d;
    uint64_t late_ms = (uint64_t)FX_MONDAY_0800 + (16 * 60 + 30) * 60000ULL;
    ASSERT_OK(ww_day_of(g.st[0], g.gid, late_ms << 16, &d));
    ASSERT_EQ(d, mon + 8);
    ASSERT_OK(ww_day_of(g.st[0], g.gid, (uint64_t)FX_MONDAY_0800 << 16, &d));
    ASSERT_EQ(d, mon + 7);
    fx_group_close(&g);
}
