/*
 * test_aggregate.c - split aggregation end to end (core/aggregate.c): generated days go
 * through both aggregators and come out as the totals computed here in the clear, and
 * every disclosure rule is attacked with the data that would break it.
 */
#include <sodium.h>

#include "runner.h"

#include "agg_test.h"
#include "alloc.h"
#include "buf.h"
#include "share.h"
#include "wegwijs.h"

#define MAX_G  16
#define BASE_W 730u /* the window of 2026-01-26 .. 2026-02-22 */

static uint32_t wstart(uint32_t w)
{
    return 4 + WW_AGG_WINDOW_DAYS * w;
}

struct sim {
    struct ww_agg_group groups[MAX_G];
    size_t n_groups;
    uint32_t k;
    uint8_t by;
    struct ww_agg *agg[2];
    uint8_t pk[2][32], sk[2][32];
    struct agg_rng rng;
    uint16_t answered[MAX_G][8][4]; /* blocks already answered: [group][student][window] */
    /* The truth, per (level, unit, window 0..3 from BASE_W): category histograms, status. */
    uint64_t hist[2][8][4][WW_AGG_CATS][5];
    uint64_t status[2][8][4][3];
};

static void sim_init(struct sim *s, uint32_t k)
{
    memset(s, 0, sizeof *s);
    s->k = k;
    agg_rng_init(&s->rng, "aggregate");
    agg_test_keys(0, s->pk[0], s->sk[0]);
    agg_test_keys(1, s->pk[1], s->sk[1]);
}

/* Group number g (its id is g repeated) in team and location (both below 8). */
static void sim_group(struct sim *s, uint32_t team, uint32_t location, uint32_t enrolled)
{
    struct ww_agg_group *g = &s->groups[s->n_groups];
    memset(g->group, (int)s->n_groups + 1, 16);
    g->team = team;
    g->location = location;
    g->enrolled = enrolled;
    s->n_groups++;
}

static void sim_start(struct sim *s)
{
    struct ww_agg_config cfg = {s->k, s->by, s->groups, s->n_groups};
    for (int w = 0; w < 2; w++)
        ASSERT_OK(ww_agg_new(&cfg, w, s->pk[w], s->sk[w], &s->agg[w]));
}

static void sim_stop(struct sim *s)
{
    ww_agg_free(s->agg[0]);
    ww_agg_free(s->agg[1]);
}

static unsigned cats_of(int item)
{
    const struct ww_climate_item *it = ww_climate_item_get((uint8_t)item);
    unsigned m = 1u << (it->vermogen - WW_VERM_ABSORPTIE);
    if (it->climate == WW_CLIMATE_VEILIG)
        m |= 1u << WW_AGG_VEILIG;
    if (it->climate == WW_CLIMATE_FACILITEREND)
        m |= 1u << WW_AGG_FACILITEREND;
    return m;
}

/* Sends a day of student st of group g through both aggregators, the device tracking its
 * first answers per window, and adds it to the truth. */
static void sim_send(struct sim *s, size_t g, int st, struct ww_agg_day d)
{
    uint32_t w = ww_agg_window(d.date) - BASE_W;
    ASSERT_LT(w, 4);
    uint16_t *seen = &s->answered[g][st][w];
    uint16_t blocks = 0;
    for (int b = 0; b < WW_AGG_ITEMS; b++)
        blocks |= (uint16_t)((d.value[b] != 0) << b);
    blocks |= (uint16_t)((d.status != 0) << WW_AGG_STATUS_BLOCK);
    d.first = blocks & ~*seen;
    *seen |= blocks;
    uint8_t key[32] = {0};
    key[0] = (uint8_t)g;
    key[1] = (uint8_t)st;
    struct ww_share_msg m;
    ASSERT_OK(
        ww_share_make(&d, s->groups[g].group, key, s->pk[0], s->pk[1], agg_rng_fill, &s->rng, &m));
    ASSERT_OK(ww_agg_add(s->agg[0], &m));
    ASSERT_OK(ww_agg_add(s->agg[1], &m));
    uint32_t unit[2] = {s->groups[g].team, s->groups[g].location};
    for (int l = 0; l < 2; l++) {
        for (int item = 1; item <= WW_AGG_ITEMS; item++)
            for (int c = 0; d.value[item - 1] && c < WW_AGG_CATS; c++)
                s->hist[l][unit[l]][w][c][d.value[item - 1] - 1] += cats_of(item) >> c & 1;
        if (d.status)
            s->status[l][unit[l]][w][d.status - 1]++;
    }
}

/* A generated day: K1, K2 and one rotating item asked; answers from a hash of who and
 * when, sometimes n.v.t. */
static struct ww_agg_day gen_day(size_t g, int st, uint32_t date)
{
    struct ww_agg_day d = {.date = date};
    uint32_t h = (uint32_t)(g * 7919 + (size_t)st * 104729 + date * 2654435761u);
    h ^= h >> 13;
    h *= 0x5bd1e995;
    h ^= h >> 15;
    int rot = 3 + (int)(date % 10);
    d.asked = (uint16_t)(1u | 2u | 1u << (rot - 1));
    d.value[0] = (uint8_t)(1 + h % 5);
    d.value[1] = (uint8_t)(h >> 3) % 6; /* 0: n.v.t. */
    d.value[rot - 1] = (uint8_t)(1 + (h >> 7) % 5);
    d.status = (uint8_t)(1 + (h >> 11) % 3);
    d.obstacles = d.status > 1 ? (uint8_t)(1u << ((h >> 13) % 6)) : 0;
    return d;
}

/* Students 0..n-1 of group g answer every weekday of window w (20 days). */
static void sim_window(struct sim *s, size_t g, int n, uint32_t w)
{
    for (int st = 0; st < n; st++)
        for (uint32_t day = 0; day < WW_AGG_WINDOW_DAYS; day++)
            if (day % 7 < 5)
                sim_send(s, g, st, gen_day(g, st, wstart(BASE_W + w) + day));
}

/* A summary as it travels between services: encoded, decoded, and byte-identical on the
 * way back. Frees the original. */
static struct ww_agg_summary travel(struct ww_agg_summary *s)
{
    struct ww_buf b, again;
    struct ww_agg_summary out;
    ww_buf_init(&b, 0);
    ww_buf_init(&again, 0);
    ASSERT_OK(ww_agg_summary_encode(s, &b));
    ASSERT_OK(ww_agg_summary_decode(b.p, b.len, &out));
    ASSERT_OK(ww_agg_summary_encode(&out, &again));
    ASSERT_EQ(again.len, b.len);
    ASSERT_MEM_EQ(again.p, b.p, b.len);
    ww_buf_free(&b);
    ww_buf_free(&again);
    ww_agg_summary_free(s);
    return out;
}

/* Both gates, both releases, the combination, every summary sent through its wire form.
 * The releases are returned too when asked. */
static void sim_report(struct sim *s, struct ww_agg_report *r, struct ww_agg_summary rel[2])
{
    struct ww_agg_summary gate[2], mine[2];
    ASSERT_OK(ww_agg_gate(s->agg[0], &gate[0]));
    ASSERT_OK(ww_agg_gate(s->agg[1], &gate[1]));
    ASSERT_EQ(gate[0].released, 0);
    gate[0] = travel(&gate[0]);
    gate[1] = travel(&gate[1]);
    ASSERT_OK(ww_agg_release(s->agg[0], &gate[1], &mine[0]));
    ASSERT_OK(ww_agg_release(s->agg[1], &gate[0], &mine[1]));
    mine[0] = travel(&mine[0]);
    mine[1] = travel(&mine[1]);
    ASSERT_OK(ww_agg_combine(&mine[0], &mine[1], r));
    ww_agg_summary_free(&gate[0]);
    ww_agg_summary_free(&gate[1]);
    for (int i = 0; i < 2; i++) {
        if (rel)
            rel[i] = mine[i];
        else
            ww_agg_summary_free(&mine[i]);
    }
}

static const struct ww_agg_cell *cell(const struct ww_agg_report *r, uint8_t level, uint32_t unit,
                                      uint32_t w)
{
    const struct ww_agg_cell *c = ww_agg_report_find(r, level, unit, BASE_W + w);
    ASSERT(c != NULL);
    return c;
}

/* A suppressed cell carries nothing but its coordinates. */
static void assert_empty(const struct ww_agg_cell *c)
{
    struct ww_agg_cell z;
    memset(&z, 0, sizeof z);
    z.level = c->level;
    z.unit = c->unit;
    z.location = c->location;
    z.window = c->window;
    z.invalid = c->invalid;
    ASSERT_MEM_EQ(c, &z, sizeof z);
}

/* A release of a cell that does not pass holds no sums at all. */
static void assert_nothing_released(const struct ww_agg_summary rel[2], uint8_t level,
                                    uint32_t unit, uint32_t w)
{
    for (int a = 0; a < 2; a++) {
        int found = 0;
        for (size_t i = 0; i < rel[a].n; i++) {
            const struct ww_agg_cellshare *c = &rel[a].cells[i];
            if (c->level != level || c->unit != unit || c->window != BASE_W + w)
                continue;
            found = 1;
            struct ww_agg_cellshare z;
            memset(&z, 0, sizeof z);
            z.level = level;
            z.unit = unit;
            z.location = c->location;
            z.window = c->window;
            ASSERT_MEM_EQ(c, &z, sizeof z);
        }
        ASSERT(found);
    }
}

static void assert_truth(const struct sim *s, const struct ww_agg_cell *c, int l, uint32_t w)
{
    ASSERT(c->shown);
    for (int cat = 0; cat < WW_AGG_CATS; cat++) {
        ASSERT(c->cat[cat].shown);
        ASSERT_MEM_EQ(c->cat[cat].hist, s->hist[l][c->unit][w][cat], sizeof c->cat[cat].hist);
        uint64_t n = 0, t = 0;
        for (int v = 1; v <= 5; v++) {
            n += s->hist[l][c->unit][w][cat][v - 1];
            t += v * s->hist[l][c->unit][w][cat][v - 1];
        }
        /* The mean to one decimal, rounded half up. */
        ASSERT_EQ(c->cat[cat].mean10, (int)((100 * t / n + 5) / 10));
    }
    ASSERT_MEM_EQ(c->status, s->status[l][c->unit][w], sizeof c->status);
}

TEST(agg_known_answers_through_both_aggregators)
{
    struct sim s;
    sim_init(&s, 0);
    sim_group(&s, 1, 1, 4); /* team 1: groups 0 and 1 */
    sim_group(&s, 1, 1, 4);
    sim_group(&s, 2, 1, 4); /* team 2: groups 2 and 3 */
    sim_group(&s, 2, 1, 4);
    sim_start(&s);
    for (size_t g = 0; g < 4; g++)
        for (uint32_t w = 0; w < 2; w++)
            sim_window(&s, g, 4, w);
    struct ww_agg_report r;
    struct ww_agg_summary rel[2];
    sim_report(&s, &r, rel);
    ASSERT_EQ(r.n, 6); /* 2 teams and 1 location, 2 windows each */
    for (uint32_t w = 0; w < 2; w++) {
        for (uint32_t team = 1; team <= 2; team++) {
            const struct ww_agg_cell *c = cell(&r, WW_AGG_TEAM, team, w);
            assert_truth(&s, c, 0, w);
            ASSERT_EQ(c->students, 8);
            ASSERT_EQ(c->groups, 2);
            ASSERT_EQ(c->enrolled, 8);
            ASSERT_EQ(c->n_days, 160);
        }
        const struct ww_agg_cell *loc = cell(&r, WW_AGG_LOCATION, 1, w);
        assert_truth(&s, loc, 1, w);
        ASSERT_EQ(loc->students, 16);
        ASSERT_EQ(loc->overlap, w ? 16 : 0);
        /* Under 20 students: 10-point bands. */
        ASSERT(loc->cat[WW_AGG_VEILIG].banded);
        ASSERT_EQ(loc->cat[WW_AGG_VEILIG].low_pct % 10, 0);
        ASSERT_EQ(loc->status_pct[0] % 10, 0);
    }
    /* Trends against the previous window, where both pass and share k students. */
    const struct ww_agg_cell *c0 = cell(&r, WW_AGG_LOCATION, 1, 0), *c1 = cell(&r, 1, 1, 1);
    for (int cat = 0; cat < WW_AGG_CATS; cat++) {
        ASSERT(!c0->cat[cat].trend_shown);
        ASSERT(c1->cat[cat].trend_shown);
        ASSERT_EQ(c1->cat[cat].trend10, c1->cat[cat].mean10 - c0->cat[cat].mean10);
    }
    /* Each aggregator alone holds numbers unrelated to the totals; together they add up. */
    for (size_t i = 0; i < rel[0].n; i++) {
        const struct ww_agg_cellshare *a = &rel[0].cells[i], *b = &rel[1].cells[i];
        const struct ww_agg_cell *c = &r.cells[i];
        for (int v = 0; v < 5; v++) {
            ASSERT(a->cat_hist[WW_AGG_VEILIG][v] > 1000000);
            ASSERT(b->cat_hist[WW_AGG_VEILIG][v] > 1000000);
            ASSERT_EQ(ww_agg_add_mod(a->cat_hist[WW_AGG_VEILIG][v], b->cat_hist[WW_AGG_VEILIG][v]),
                      c->cat[WW_AGG_VEILIG].hist[v]);
        }
    }
    ww_agg_summary_free(&rel[0]);
    ww_agg_summary_free(&rel[1]);
    ww_agg_report_free(&r);
    sim_stop(&s);
}

/* Two groups with students per group a and b, enrolled ea and eb, one location (team 1). */
static void two_groups(struct sim *s, int a, int b, uint32_t ea, uint32_t eb,
                       struct ww_agg_report *r, struct ww_agg_summary rel[2])
{
    sim_init(s, 0);
    sim_group(s, 1, 1, ea);
    sim_group(s, 1, 1, eb);
    sim_start(s);
    sim_window(s, 0, a, 0);
    sim_window(s, 1, b, 0);
    sim_report(s, r, rel);
    sim_stop(s);
}

static void free_all(struct ww_agg_report *r, struct ww_agg_summary rel[2])
{
    ww_agg_report_free(r);
    ww_agg_summary_free(&rel[0]);
    ww_agg_summary_free(&rel[1]);
}

TEST(agg_rule_k_minus_one_students_learns_nothing)
{
    struct sim s;
    struct ww_agg_report r;
    struct ww_agg_summary rel[2];
    two_groups(&s, 2, 2, 2, 2, &r, rel);
    assert_empty(cell(&r, WW_AGG_LOCATION, 1, 0));
    /* Not even the gate tells the other aggregator which of the four answered an item. */
    sim_start(&s);
    sim_window(&s, 0, 2, 0);
    sim_window(&s, 1, 2, 0);
    struct ww_agg_summary gate;
    ASSERT_OK(ww_agg_gate(s.agg[0], &gate));
    ASSERT_EQ(gate.n, 2);
    for (size_t i = 0; i < gate.n; i++)
        for (int b = 0; b < WW_AGG_BLOCKS; b++)
            ASSERT_EQ(gate.cells[i].first[b], 0);
    ww_agg_summary_free(&gate);
    sim_stop(&s);
    assert_empty(cell(&r, WW_AGG_TEAM, 1, 0));
    assert_nothing_released(rel, WW_AGG_LOCATION, 1, 0);
    assert_nothing_released(rel, WW_AGG_TEAM, 1, 0);
    free_all(&r, rel);
    /* One more student and the cell is shown. */
    two_groups(&s, 3, 2, 3, 2, &r, rel);
    assert_truth(&s, cell(&r, WW_AGG_LOCATION, 1, 0), 1, 0);
    free_all(&r, rel);
    /* k is configurable upwards only. */
    struct ww_agg *a = NULL;
    struct ww_agg_config cfg = {4, 0, s.groups, s.n_groups};
    ASSERT_ERR(ww_agg_new(&cfg, 0, s.pk[0], s.sk[0], &a), WW_EINVAL);
    cfg.k = 6;
    ASSERT_OK(ww_agg_new(&cfg, 0, s.pk[0], s.sk[0], &a));
    ww_agg_free(a);
}

TEST(agg_rule_one_group_is_never_a_cell)
{
    struct sim s;
    struct ww_agg_report r;
    struct ww_agg_summary rel[2];
    /* Five learners (four students and the senior) of one group: enough people, one group. */
    two_groups(&s, 5, 0, 5, 0, &r, rel);
    assert_empty(cell(&r, WW_AGG_LOCATION, 1, 0));
    assert_nothing_released(rel, WW_AGG_LOCATION, 1, 0);
    free_all(&r, rel);
    two_groups(&s, 4, 1, 5, 1, &r, rel);
    ASSERT(cell(&r, WW_AGG_LOCATION, 1, 0)->shown);
    free_all(&r, rel);
}

TEST(agg_rule_response_rate_below_40_percent)
{
    struct sim s;
    struct ww_agg_report r;
    struct ww_agg_summary rel[2];
    two_groups(&s, 3, 2, 7, 6, &r, rel); /* 5 of 13: 38% */
    assert_empty(cell(&r, WW_AGG_LOCATION, 1, 0));
    assert_nothing_released(rel, WW_AGG_LOCATION, 1, 0);
    free_all(&r, rel);
    two_groups(&s, 3, 2, 6, 6, &r, rel); /* 5 of 12: 42% */
    ASSERT(cell(&r, WW_AGG_LOCATION, 1, 0)->shown);
    free_all(&r, rel);
    /* More students than enrolled is forged pseudonyms, not a high rate. */
    two_groups(&s, 4, 4, 3, 3, &r, rel);
    assert_empty(cell(&r, WW_AGG_LOCATION, 1, 0));
    free_all(&r, rel);
}

/* A location whose team 2 is too small: the location total is shown, and no team is, so
 * the total minus the visible teams gives nothing. */
TEST(agg_rule_parent_total_minus_visible_cells)
{
    struct sim s;
    struct ww_agg_report r;
    struct ww_agg_summary rel[2];
    for (int small = 0; small < 2; small++) {
        sim_init(&s, 0);
        sim_group(&s, 1, 1, 4);
        sim_group(&s, 1, 1, 4);
        sim_group(&s, 2, 1, 4);
        sim_group(&s, 2, 1, 4);
        sim_start(&s);
        sim_window(&s, 0, 4, 0);
        sim_window(&s, 1, 4, 0);
        sim_window(&s, 2, small ? 2 : 3, 0);
        sim_window(&s, 3, small ? 2 : 3, 0);
        sim_report(&s, &r, rel);
        assert_truth(&s, cell(&r, WW_AGG_LOCATION, 1, 0), 1, 0);
        if (small) {
            /* Team 1 passes on its own, but showing it would reveal team 2. */
            assert_empty(cell(&r, WW_AGG_TEAM, 1, 0));
            assert_empty(cell(&r, WW_AGG_TEAM, 2, 0));
            assert_nothing_released(rel, WW_AGG_TEAM, 1, 0);
            assert_nothing_released(rel, WW_AGG_TEAM, 2, 0);
        } else {
            assert_truth(&s, cell(&r, WW_AGG_TEAM, 1, 0), 0, 0);
            assert_truth(&s, cell(&r, WW_AGG_TEAM, 2, 0), 0, 0);
        }
        free_all(&r, rel);
        sim_stop(&s);
    }
}

/* An item that fewer than k students answered (the others said n.v.t.) hides every category
 * it counts in, so that no sum or difference of visible categories contains it. */
TEST(agg_rule_item_answered_by_few_hides_its_categories)
{
    struct sim s;
    sim_init(&s, 0);
    sim_group(&s, 1, 1, 3);
    sim_group(&s, 1, 1, 3);
    sim_start(&s);
    for (size_t g = 0; g < 2; g++)
        for (int st = 0; st < 3; st++) {
            struct ww_agg_day d = {.date = wstart(BASE_W), .asked = 0x7, .status = 1};
            d.value[0] = 4;
            d.value[1] = 3;
            d.value[2] = (g == 0 && st < 2) ? 1 : 0; /* R1: two answers, four n.v.t. */
            sim_send(&s, g, st, d);
        }
    struct ww_agg_report r;
    struct ww_agg_summary rel[2];
    sim_report(&s, &r, rel);
    const struct ww_agg_cell *c = cell(&r, WW_AGG_LOCATION, 1, 0);
    ASSERT(c->shown);
    ASSERT(!c->cat[WW_AGG_LEREND].shown); /* K1 and R1 */
    ASSERT(!c->cat[WW_AGG_VEILIG].shown);
    ASSERT(c->cat[WW_AGG_ABSORPTIE].shown); /* K2 */
    ASSERT(c->cat[WW_AGG_FACILITEREND].shown);
    ASSERT_EQ(c->cat[WW_AGG_ABSORPTIE].hist[2], 6);
    ASSERT_EQ(c->cat[WW_AGG_LEREND].answers, 0);
    for (int a = 0; a < 2; a++)
        for (size_t i = 0; i < rel[a].n; i++)
            for (int v = 0; v < 5; v++)
                ASSERT_EQ(rel[a].cells[i].cat_hist[WW_AGG_LEREND][v], 0);
    free_all(&r, rel);
    sim_stop(&s);
}

/* Adjacent windows: a trend (and with it the difference of the windows) only when both
 * pass and at least k students answered in both; a joiner between windows is never the
 * difference. */
TEST(agg_rule_adjacent_windows_and_a_joiner)
{
    struct sim s;
    struct ww_agg_report r;
    for (int joiner = 0; joiner < 2; joiner++) {
        sim_init(&s, 0);
        sim_group(&s, 1, 1, 4);
        sim_group(&s, 1, 1, 4);
        sim_start(&s);
        /* Window 0: group 0 students 0..2 and group 1 students 0..1 (5). Window 1: the same
         * five plus a joiner, or with student 0 of group 0 replaced by a joiner. */
        sim_window(&s, 0, 3, 0);
        sim_window(&s, 1, 2, 0);
        for (int st = joiner ? 1 : 0; st < 4; st++)
            for (uint32_t day = 0; day < 20; day++)
                sim_send(&s, 0, st, gen_day(0, st, wstart(BASE_W + 1) + day));
        sim_window(&s, 1, 2, 1);
        sim_report(&s, &r, NULL);
        const struct ww_agg_cell *c0 = cell(&r, 1, 1, 0), *c1 = cell(&r, 1, 1, 1);
        ASSERT(c0->shown && c1->shown);
        ASSERT_EQ(c1->overlap, joiner ? 4 : 5);
        for (int cat = 0; cat < WW_AGG_CATS; cat++) {
            ASSERT_EQ(c1->cat[cat].trend_shown, !joiner);
            if (joiner)
                ASSERT_EQ(c1->cat[cat].trend10, 0);
        }
        ww_agg_report_free(&r);
        sim_stop(&s);
    }
}

/* A student leaving between windows: the window left with k - 1 students is suppressed, and
 * so is the trend. */
TEST(agg_rule_a_leaver_is_not_isolated)
{
    struct sim s;
    struct ww_agg_report r;
    struct ww_agg_summary rel[2];
    sim_init(&s, 0);
    sim_group(&s, 1, 1, 3);
    sim_group(&s, 1, 1, 3);
    sim_start(&s);
    sim_window(&s, 0, 3, 0);
    sim_window(&s, 1, 2, 0);
    sim_window(&s, 0, 2, 1);
    sim_window(&s, 1, 2, 1);
    sim_report(&s, &r, rel);
    assert_truth(&s, cell(&r, 1, 1, 0), 1, 0);
    assert_empty(cell(&r, 1, 1, 1));
    assert_nothing_released(rel, WW_AGG_LOCATION, 1, 1);
    free_all(&r, rel);
    sim_stop(&s);
}

TEST(agg_rule_breakdown_by_year_or_track_refused)
{
    struct sim s;
    sim_init(&s, 0);
    sim_group(&s, 1, 1, 4);
    struct ww_agg *a = NULL;
    struct ww_agg_config cfg = {0, WW_AGG_BY_YEAR, s.groups, s.n_groups};
    ASSERT_ERR(ww_agg_new(&cfg, 0, s.pk[0], s.sk[0], &a), WW_EPERM);
    cfg.by = WW_AGG_BY_TRACK;
    ASSERT_ERR(ww_agg_new(&cfg, 0, s.pk[0], s.sk[0], &a), WW_EPERM);
    ASSERT(a == NULL);
    /* By location only: no team cells at all. */
    s.by = WW_AGG_BY_LOCATION;
    sim_group(&s, 2, 1, 4);
    sim_start(&s);
    sim_window(&s, 0, 4, 0);
    sim_window(&s, 1, 4, 0);
    struct ww_agg_report r;
    sim_report(&s, &r, NULL);
    ASSERT_EQ(r.n, 1);
    ASSERT_EQ(r.cells[0].level, WW_AGG_LOCATION);
    ASSERT(r.cells[0].shown);
    ww_agg_report_free(&r);
    sim_stop(&s);
}

/* A later message for the same student and date replaces the earlier one. */
TEST(agg_later_day_replaces_earlier)
{
    struct sim s;
    sim_init(&s, 0);
    sim_group(&s, 1, 1, 3);
    sim_group(&s, 1, 1, 3);
    sim_start(&s);
    sim_window(&s, 0, 3, 0);
    sim_window(&s, 1, 3, 0);
    struct ww_agg_day d = gen_day(0, 0, wstart(BASE_W));
    d.value[0] = d.value[0] == 5 ? 1 : 5;
    /* Take the old day out of the truth; the new one goes in with the send. */
    struct ww_agg_day old = gen_day(0, 0, wstart(BASE_W));
    for (int item = 1; item <= WW_AGG_ITEMS; item++)
        for (int l = 0; l < 2; l++)
            for (int c = 0; old.value[item - 1] && c < WW_AGG_CATS; c++)
                s.hist[l][1][0][c][old.value[item - 1] - 1] -= cats_of(item) >> c & 1;
    for (int l = 0; l < 2; l++)
        s.status[l][1][0][old.status - 1]--;
    sim_send(&s, 0, 0, d);
    struct ww_agg_report r;
    sim_report(&s, &r, NULL);
    const struct ww_agg_cell *c = cell(&r, 1, 1, 0);
    assert_truth(&s, c, 1, 0);
    ASSERT_EQ(c->n_days, 6 * 20);
    ww_agg_report_free(&r);
    sim_stop(&s);
}

/* A malformed share: what a device that skips ww_share_counters can do to a cell. Totals
 * that no valid days can produce void the cell; a forged "first" count above the students
 * asked voids it before anything is released. */
TEST(agg_malformed_share_voids_the_cell)
{
    for (int attack = 0; attack < 2; attack++) {
        struct sim s;
        sim_init(&s, 0);
        sim_group(&s, 1, 1, 4); /* the fourth student of group 0 is the malformed one */
        sim_group(&s, 1, 1, 3);
        sim_start(&s);
        sim_window(&s, 0, 3, 0);
        sim_window(&s, 1, 3, 0);
        uint64_t x[WW_AGG_DIM] = {0};
        if (attack == 0)
            x[WW_AGG_BIN(1, 1)] = 1000; /* a thousand "1" answers to K1 in one day */
        else
            x[WW_AGG_FIRST(3)] = 7; /* seven first answerers of R1 */
        uint8_t key[32] = {9};
        struct ww_share_msg m;
        ASSERT_OK(ww_share_make_counters(x, wstart(BASE_W) + 1, 0x7, s.groups[0].group, key,
                                         s.pk[0], s.pk[1], agg_rng_fill, &s.rng, &m));
        ASSERT_OK(ww_agg_add(s.agg[0], &m));
        ASSERT_OK(ww_agg_add(s.agg[1], &m));
        struct ww_agg_report r;
        struct ww_agg_summary rel[2];
        sim_report(&s, &r, rel);
        const struct ww_agg_cell *c = cell(&r, WW_AGG_LOCATION, 1, 0);
        ASSERT(!c->shown);
        if (attack == 0) {
            ASSERT(c->invalid);
        } else {
            ASSERT(!c->invalid);
            assert_nothing_released(rel, WW_AGG_LOCATION, 1, 0);
        }
        assert_empty(c);
        free_all(&r, rel);
        sim_stop(&s);
    }
}

TEST(agg_aggregators_must_agree)
{
    struct sim s;
    sim_init(&s, 0);
    sim_group(&s, 1, 1, 3);
    sim_group(&s, 1, 1, 3);
    sim_start(&s);
    sim_window(&s, 0, 3, 0);
    sim_window(&s, 1, 3, 0);
    /* B misses one message that A has. */
    struct ww_agg_day d = gen_day(0, 0, wstart(BASE_W) + 26); /* a Saturday */
    struct ww_share_msg m;
    uint8_t key[32] = {0};
    ASSERT_OK(
        ww_share_make(&d, s.groups[0].group, key, s.pk[0], s.pk[1], agg_rng_fill, &s.rng, &m));
    ASSERT_OK(ww_agg_add(s.agg[0], &m));
    struct ww_agg_summary gate[2], out;
    ASSERT_ERR(ww_agg_release(s.agg[0], &gate[0], &out), WW_ESTATE); /* no gate yet */
    ASSERT_OK(ww_agg_gate(s.agg[0], &gate[0]));
    ASSERT_OK(ww_agg_gate(s.agg[1], &gate[1]));
    ASSERT_ERR(ww_agg_release(s.agg[0], &gate[1], &out), WW_ESTATE);
    ASSERT_ERR(ww_agg_release(s.agg[1], &gate[0], &out), WW_ESTATE);
    /* A group outside the configuration. */
    uint8_t other[16] = {0x77};
    ASSERT_OK(ww_share_make(&d, other, key, s.pk[0], s.pk[1], agg_rng_fill, &s.rng, &m));
    ASSERT_ERR(ww_agg_add(s.agg[0], &m), WW_EGROUP);
    ww_agg_summary_free(&gate[0]);
    ww_agg_summary_free(&gate[1]);
    sim_stop(&s);
}

/* One hub per location; location n has n_students of its groups answering window 0. */
static void hub(struct ww_agg_report *r, uint32_t location, int per_group)
{
    struct sim s;
    sim_init(&s, 0);
    sim_group(&s, location, location, 3);
    sim_group(&s, location, location, 3);
    sim_start(&s);
    sim_window(&s, 0, per_group, 0);
    sim_window(&s, 1, per_group, 0);
    sim_report(&s, r, NULL);
    sim_stop(&s);
}

TEST(agg_region_merge_applies_the_rules_again)
{
    struct ww_agg_report hubs[3], region;
    hub(&hubs[0], 1, 3);
    hub(&hubs[1], 2, 3);
    hub(&hubs[2], 3, 2); /* 4 students: hidden at its hub */
    ASSERT_OK(ww_agg_merge(hubs, 2, 0, &region));
    const struct ww_agg_cell *t = cell(&region, WW_AGG_REGION, 0, 0);
    ASSERT(t->shown);
    ASSERT_EQ(t->students, 12);
    for (int v = 0; v < 5; v++)
        ASSERT_EQ(t->cat[WW_AGG_VEILIG].hist[v],
                  cell(&hubs[0], 1, 1, 0)->cat[WW_AGG_VEILIG].hist[v] +
                      cell(&hubs[1], 1, 2, 0)->cat[WW_AGG_VEILIG].hist[v]);
    ASSERT(cell(&region, WW_AGG_LOCATION, 1, 0)->shown); /* the breakdown is offered */
    ww_agg_report_free(&region);
    /* With the hidden location the region total is the same and no breakdown is offered:
     * the total minus the visible locations would be the hidden one. */
    ASSERT_OK(ww_agg_merge(hubs, 3, 0, &region));
    ASSERT_EQ(cell(&region, WW_AGG_REGION, 0, 0)->students, 12);
    ASSERT(ww_agg_report_find(&region, WW_AGG_LOCATION, 1, BASE_W) == NULL);
    ww_agg_report_free(&region);
    /* A region with k = 10: the total of 12 passes, locations of 6 do not. */
    ASSERT_OK(ww_agg_merge(hubs, 2, 10, &region));
    ASSERT(cell(&region, WW_AGG_REGION, 0, 0)->shown);
    ASSERT(ww_agg_report_find(&region, WW_AGG_LOCATION, 1, BASE_W) == NULL);
    ww_agg_report_free(&region);
    /* k = 13: nothing. */
    ASSERT_OK(ww_agg_merge(hubs, 2, 13, &region));
    assert_empty(cell(&region, WW_AGG_REGION, 0, 0));
    ww_agg_report_free(&region);
    ASSERT_ERR(ww_agg_merge(hubs, 2, 4, &region), WW_EINVAL);
    for (int h = 0; h < 3; h++)
        ww_agg_report_free(&hubs[h]);
}

/* The tightest bound the clear facts give: a device asked only K1 that also "answers" K2
 * adds an answer to absorptie beyond the (day, item) pairs asked in it, and the cell is
 * void, although the total is small. */
TEST(agg_malformed_share_answering_what_was_not_asked)
{
    struct sim s;
    sim_init(&s, 0);
    sim_group(&s, 1, 1, 4);
    sim_group(&s, 1, 1, 3);
    sim_start(&s);
    for (size_t g = 0; g < 2; g++)
        for (int st = 0; st < 3; st++) {
            struct ww_agg_day d = {.date = wstart(BASE_W), .asked = 0x3, .status = 1};
            d.value[0] = 4;
            d.value[1] = 4;
            sim_send(&s, g, st, d);
        }
    for (int forged = 0; forged < 2; forged++) {
        uint64_t x[WW_AGG_DIM] = {0};
        x[WW_AGG_BIN(1, 1)] = 1;
        x[WW_AGG_FIRST(1)] = 1;
        x[WW_AGG_BIN(2, 1)] = (uint64_t)forged; /* K2 was not asked */
        uint8_t key[32] = {9};
        struct ww_share_msg m;
        ASSERT_OK(ww_share_make_counters(x, wstart(BASE_W) + 1, 0x1, s.groups[0].group, key,
                                         s.pk[0], s.pk[1], agg_rng_fill, &s.rng, &m));
        ASSERT_OK(ww_agg_add(s.agg[0], &m));
        ASSERT_OK(ww_agg_add(s.agg[1], &m));
        struct ww_agg_report r;
        sim_report(&s, &r, NULL);
        const struct ww_agg_cell *c = cell(&r, WW_AGG_LOCATION, 1, 0);
        ASSERT_EQ(c->shown, !forged);
        ASSERT_EQ(c->invalid, forged);
        if (!forged)
            ASSERT_EQ(c->cat[WW_AGG_ABSORPTIE].answers, 6);
        ww_agg_report_free(&r);
    }
    sim_stop(&s);
}

/* Every allocation of the aggregators and the reports fails in turn: a clean error, no
 * leak (the runner counts outstanding blocks), and the run that succeeds is complete. */
TEST(agg_every_allocation_failure_is_handled)
{
    struct sim s;
    sim_init(&s, 0);
    sim_group(&s, 1, 1, 3);
    sim_group(&s, 1, 1, 3);
    sim_start(&s);
    sim_window(&s, 0, 3, 0);
    sim_window(&s, 1, 3, 0);
    int succeeded = 0;
    for (long k = 0; !succeeded && k < 1000; k++) {
        struct ww_agg_summary gate[2] = {{0}}, rel[2] = {{0}};
        struct ww_agg_report r = {0}, region = {0};
        ww_alloc_fail_after(k);
        int rc = ww_agg_gate(s.agg[0], &gate[0]);
        if (rc == 0)
            rc = ww_agg_gate(s.agg[1], &gate[1]);
        if (rc == 0)
            rc = ww_agg_release(s.agg[0], &gate[1], &rel[0]);
        if (rc == 0)
            rc = ww_agg_release(s.agg[1], &gate[0], &rel[1]);
        if (rc == 0)
            rc = ww_agg_combine(&rel[0], &rel[1], &r);
        if (rc == 0)
            rc = ww_agg_merge(&r, 1, 0, &region);
        ww_alloc_fail_after(-1);
        if (rc == 0) {
            succeeded = 1;
            ASSERT(cell(&region, WW_AGG_REGION, 0, 0)->shown);
        } else {
            ASSERT_ERR(rc, WW_ENOMEM);
        }
        for (int i = 0; i < 2; i++) {
            ww_agg_summary_free(&gate[i]);
            ww_agg_summary_free(&rel[i]);
        }
        ww_agg_report_free(&r);
        ww_agg_report_free(&region);
    }
    ASSERT(succeeded);
    sim_stop(&s);
}

/* A summary from another service is hostile input: out-of-order cells, a share-sum not
 * below p, a gate that releases something, a location whose location differs, and every
 * truncation are refused. */
TEST(agg_summary_decode_refuses_malformed)
{
    struct sim s;
    sim_init(&s, 0);
    sim_group(&s, 1, 1, 3);
    sim_group(&s, 2, 1, 3);
    sim_start(&s);
    sim_window(&s, 0, 3, 0);
    sim_window(&s, 1, 3, 0);
    struct ww_agg_summary gate, back;
    ASSERT_OK(ww_agg_gate(s.agg[0], &gate));
    ASSERT_EQ(gate.n, 3);
    struct ww_buf b;
    ww_buf_init(&b, 0);
    ASSERT_OK(ww_agg_summary_encode(&gate, &b));
    for (size_t cut = 0; cut < b.len; cut += 7)
        ASSERT(ww_agg_summary_decode(b.p, cut, &back) != 0);
    ww_buf_free(&b);
    struct ww_agg_cellshare keep = gate.cells[1];
    gate.cells[1] = gate.cells[0]; /* the same cell twice */
    ASSERT_ERR(ww_agg_summary_encode(&gate, &b), WW_ERANGE);
    gate.cells[1] = keep;
    gate.cells[0].first[3] = WW_AGG_PRIME;
    ASSERT_ERR(ww_agg_summary_encode(&gate, &b), WW_ERANGE);
    gate.cells[0].first[3] = 0;
    gate.cells[0].status[0] = 1; /* a sum of a part that does not pass */
    ASSERT_ERR(ww_agg_summary_encode(&gate, &b), WW_ERANGE);
    gate.released = 1;
    ASSERT_ERR(ww_agg_summary_encode(&gate, &b), WW_ERANGE);
    gate.cells[0].status[0] = 0;
    ASSERT_ERR(ww_agg_summary_encode(&gate, &b), WW_ERANGE); /* a release has no first */
    for (size_t i = 0; i < gate.n; i++)
        memset(gate.cells[i].first, 0, sizeof gate.cells[i].first);
    gate.cells[0].pass = 1;
    gate.cells[0].status_pass = 1;
    gate.cells[0].status[0] = 1;
    ASSERT_OK(ww_agg_summary_encode(&gate, &b));
    gate.released = 0;
    ASSERT_ERR(ww_agg_summary_encode(&gate, &b), WW_ERANGE);
    gate.released = 1;
    ww_buf_reset(&b);
    gate.cells[2].location = 2;
    ASSERT_EQ(gate.cells[2].level, WW_AGG_LOCATION);
    ASSERT_ERR(ww_agg_summary_encode(&gate, &b), WW_ERANGE);
    gate.cells[2].location = 1;
    gate.k = 4;
    ASSERT_ERR(ww_agg_summary_encode(&gate, &b), WW_ERANGE);
    gate.k = 5;
    /* The decoder holds the same rules: a value of p written by hand. */
    gate.cells[2].pass = 1;
    gate.cells[2].status_pass = 1;
    ASSERT_OK(ww_agg_summary_encode(&gate, &b));
    static const uint8_t p_enc[] = {0xcf, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    uint8_t *x = ww_malloc(b.len + 16);
    ASSERT(x != NULL);
    /* The last share-sum of the last cell (a reason, 0 here, before the coach loop's
     * [0, 0, 0]) becomes p. */
    static const uint8_t no_loop[] = {0x93, 0, 0, 0};
    ASSERT(!memcmp(b.p + b.len - 4, no_loop, 4));
    ASSERT_EQ(b.p[b.len - 5], 0);
    memcpy(x, b.p, b.len - 5);
    memcpy(x + b.len - 5, p_enc, sizeof p_enc);
    memcpy(x + b.len - 5 + sizeof p_enc, no_loop, 4);
    size_t xlen = b.len - 1 + sizeof p_enc;
    ASSERT_ERR(ww_agg_summary_decode(x, xlen, &back), WW_ERANGE);
    x[xlen - 5] = 0xfe; /* p - 1 */
    ASSERT_OK(ww_agg_summary_decode(x, xlen, &back));
    ww_agg_summary_free(&back);
    /* The coach loop: more answered than raised, or counts in a cell that does not pass,
     * are refused by the decoder as by the encoder. */
    x[xlen - 2] = 1; /* responded 1 of 0 signals */
    ASSERT_ERR(ww_agg_summary_decode(x, xlen, &back), WW_ERANGE);
    x[xlen - 3] = 1; /* signals 1 */
    ASSERT_OK(ww_agg_summary_decode(x, xlen, &back));
    ASSERT_EQ(back.cells[2].signals, 1);
    ASSERT_EQ(back.cells[2].responded, 1);
    ww_agg_summary_free(&back);
    ww_free(x);
    gate.cells[0].signals = 2;
    gate.cells[0].responded = 3;
    ASSERT_ERR(ww_agg_summary_encode(&gate, &b), WW_ERANGE);
    gate.cells[0].responded = 2;
    gate.cells[1].signoffs = 1; /* cell 1 does not pass */
    ASSERT_ERR(ww_agg_summary_encode(&gate, &b), WW_ERANGE);
    gate.cells[1].signoffs = 0;
    ww_buf_reset(&b);
    ASSERT_OK(ww_agg_summary_encode(&gate, &b));
    ASSERT_OK(ww_agg_summary_decode(b.p, b.len, &back));
    ASSERT_EQ(back.cells[0].signals, 2);
    ASSERT_EQ(back.cells[0].responded, 2);
    ww_agg_summary_free(&back);
    ww_buf_free(&b);
    ww_agg_summary_free(&gate);
    sim_stop(&s);
}

/* The coach loop: aggregator A's counts per group and window go into its passing cells
 * only, travel in its release, and reach the team, location and region cells; a
 * suppressed cell shows none of them; counts in B's release are refused. */
TEST(agg_coach_loop_counts_through_both_aggregators)
{
    struct sim s;
    sim_init(&s, 0);
    sim_group(&s, 1, 1, 3); /* team 1 in location 1: 6 students, shown */
    sim_group(&s, 1, 1, 3);
    sim_group(&s, 2, 2, 2); /* team 2 in location 2: 4 students, suppressed */
    sim_group(&s, 2, 2, 2);
    sim_start(&s);
    for (size_t g = 0; g < 4; g++)
        sim_window(&s, g, g < 2 ? 3 : 2, 0);
    struct ww_agg_summary gate[2], rel[2];
    for (int w = 0; w < 2; w++)
        ASSERT_OK(ww_agg_gate(s.agg[w], &gate[w]));
    ASSERT_ERR(ww_agg_loop_add(&gate[0], &s.groups[0], BASE_W, 1, 0, 0), WW_ESTATE);
    for (int w = 0; w < 2; w++)
        ASSERT_OK(ww_agg_release(s.agg[w], &gate[1 - w], &rel[w]));
    ASSERT_ERR(ww_agg_loop_add(&rel[0], &s.groups[0], BASE_W, 1, 2, 0), WW_EINVAL);
    ASSERT_OK(ww_agg_loop_add(&rel[0], &s.groups[0], BASE_W, 4, 3, 4));
    ASSERT_OK(ww_agg_loop_add(&rel[0], &s.groups[1], BASE_W, 3, 1, 1));
    ASSERT_OK(ww_agg_loop_add(&rel[0], &s.groups[2], BASE_W, 5, 5, 5));     /* not passing */
    ASSERT_OK(ww_agg_loop_add(&rel[0], &s.groups[0], BASE_W + 1, 9, 9, 9)); /* no cell */
    assert_nothing_released(rel, WW_AGG_TEAM, 2, 0);
    assert_nothing_released(rel, WW_AGG_LOCATION, 2, 0);
    rel[0] = travel(&rel[0]);
    rel[1] = travel(&rel[1]);
    struct ww_agg_report r;
    ASSERT_OK(ww_agg_combine(&rel[0], &rel[1], &r));
    for (uint8_t level = WW_AGG_TEAM; level <= WW_AGG_LOCATION; level++) {
        const struct ww_agg_cell *c = cell(&r, level, 1, 0);
        ASSERT(c->shown);
        ASSERT_EQ(c->students, 6);
        ASSERT_EQ(c->signals, 7);
        ASSERT_EQ(c->responded, 4);
        ASSERT_EQ(c->signoffs, 5);
        ASSERT_EQ(c->responded_pct, 50); /* 57%, in its band under 20 students */
        ASSERT_EQ(c->signoffs10, 8);     /* 5 / 6 = 0.83 */
        assert_empty(cell(&r, level, 2, 0));
    }
    /* The region sums its shown locations; the hidden one adds nothing. */
    struct ww_agg_report region;
    ASSERT_OK(ww_agg_merge(&r, 1, 0, &region));
    const struct ww_agg_cell *t = cell(&region, WW_AGG_REGION, 0, 0);
    ASSERT(t->shown);
    ASSERT_EQ(t->signals, 7);
    ASSERT_EQ(t->responded, 4);
    ASSERT_EQ(t->signoffs, 5);
    ww_agg_report_free(&region);
    ww_agg_report_free(&r);
    /* B does not count the coach loop: a release of B with a count is refused, and so is
     * one of A with more answered than raised. */
    size_t shown = 0;
    while (!rel[1].cells[shown].pass)
        shown++;
    rel[1].cells[shown].signoffs = 1;
    ASSERT_ERR(ww_agg_combine(&rel[0], &rel[1], &r), WW_ESTATE);
    rel[1].cells[shown].signoffs = 0;
    rel[0].cells[shown].responded = rel[0].cells[shown].signals + 1;
    ASSERT_ERR(ww_agg_combine(&rel[0], &rel[1], &r), WW_ESTATE);
    for (int w = 0; w < 2; w++) {
        ww_agg_summary_free(&gate[w]);
        ww_agg_summary_free(&rel[w]);
    }
    sim_stop(&s);
}
