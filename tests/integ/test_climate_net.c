/*
 * test_climate_net.c - climate aggregates over real sockets on 127.0.0.1, in one process:
 * learners' shares reach a hub (aggregator A); the praktijkopleider's tool (aggregator B
 * and combiner) fetches pages of shares and A's gate and release, and the combined totals
 * are the learners' days, with the coach loop the hub counted over the respondents; a
 * learner's key may not fetch; REDEEMED confirms the keys a joining device pins.
 */
#include <string.h>

#include "fixture.h"
#include "loop.h"
#include "runner.h"
#include "share.h"
#include "store.h"
#include "wegwijs_sync.h"

struct got {
    struct loop_watch w; /* first: loop_on_conn counts into it */
    int done, rc;
    struct ww_agg_report r;
    size_t n_units;
    char team[81];
};

static void on_climate(void *ud, int rc, const struct ww_agg_report *r,
                       const struct ww_agg_setup *su)
{
    struct got *g = ud;
    g->done++;
    g->rc = rc;
    if (rc != 0)
        return;
    g->r.cells = calloc(r->n + 1, sizeof *r->cells);
    ASSERT(g->r.cells != NULL);
    memcpy(g->r.cells, r->cells, r->n * sizeof *r->cells);
    g->r.n = r->n;
    g->r.k = r->k;
    g->n_units = su->n_units;
    snprintf(g->team, sizeof g->team, "%s", ww_agg_setup_name(su, WW_AGG_TEAM, 1));
}

static int count_page(void *ud, uint64_t id, const uint8_t *msg, size_t len)
{
    (void)id, (void)msg, (void)len;
    ++*(size_t *)ud;
    return 0;
}

static struct ww_node *reader_node(uv_loop_t *loop, struct ww_store *s, struct got *g)
{
    struct ww_node_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.store = s;
    cfg.ud = g;
    cfg.on_conn = loop_on_conn;
    cfg.on_climate = on_climate;
    struct ww_node *n = NULL;
    ASSERT_OK(ww_node_new(loop, &cfg, &n));
    return n;
}

TEST(climate_fetch_combines_to_the_learners_days)
{
    struct ww_store *hub = fx_open("hub"), *po = fx_open("praktijkopleider");
    uint8_t pk_a[32], pk_b[32], hubkey[32], reader[32];
    ASSERT_OK(ww_store_aggregator_pk(hub, pk_a));
    ASSERT_OK(ww_store_aggregator_pk(po, pk_b));
    ww_store_device(hub, hubkey);
    ww_store_device(po, reader);
    /* Two groups of three students in one team: 6 students >= k from 2 groups, all of
     * them enrolled answering. */
    struct fx_group g[2];
    uint32_t d = 0;
    uint8_t sig[4][32];
    for (int i = 0; i < 2; i++) {
        fx_group_make(&g[i], i == 0 ? 4 : 3, 0, NULL); /* group 0's fourth never answers */
        ASSERT_OK(ww_group_hub_set(g[i].coach, g[i].gid, hubkey, "", NULL));
        ASSERT_OK(ww_group_climate_set(g[i].coach, g[i].gid, pk_a, pk_b, "Zonnebloem", "Utrecht"));
        fx_group_sync(&g[i]);
        ASSERT_OK(ww_day_today(g[i].coach, g[i].gid, &d));
        for (int s = 0; s < 3; s++) {
            ASSERT_OK(ww_climate_pin(g[i].st[s], g[i].gid, pk_a, pk_b));
            struct ww_reflection r;
            memset(&r, 0, sizeof r);
            r.date = d;
            r.status = s == 0 ? WW_STATUS_DONE : WW_STATUS_PARTLY;
            r.obstacles = s == 0 ? 0 : WW_OBST_NO_SUPERVISOR;
            r.share = WW_SHARE_SELF;
            r.n_answers = 2;
            r.answer_item[0] = 1, r.answer_value[0] = (uint8_t)(3 + (s & 1)); /* K1 */
            r.answer_item[1] = 2, r.answer_value[1] = 2;                      /* K2 */
            ASSERT_OK(ww_reflection_put(g[i].st[s], g[i].gid, &r, NULL));
        }
        /* The coach loop: in group 0 student 0 raises two signals and student 1 one, and the
         * fourth (no respondent) one; the coach answers student 0's first, student 1's and
         * the fourth's, and signs off student 0 twice and the fourth once. In group 1
         * student 2 raises one left unanswered, and student 1 is signed off. */
        if (i == 0) {
            ASSERT_OK(
                ww_signal_raise(g[0].st[0], g[0].gid, WW_SIGCAT_WORKLOAD, "Druk.", NULL, sig[0]));
            ASSERT_OK(
                ww_signal_raise(g[0].st[0], g[0].gid, WW_SIGCAT_WELLBEING, "Moe.", NULL, NULL));
            ASSERT_OK(
                ww_signal_raise(g[0].st[1], g[0].gid, WW_SIGCAT_WORKLOAD, "Alleen.", NULL, sig[1]));
            ASSERT_OK(
                ww_signal_raise(g[0].st[3], g[0].gid, WW_SIGCAT_WORKLOAD, "Veel.", NULL, sig[2]));
        } else {
            ASSERT_OK(
                ww_signal_raise(g[1].st[2], g[1].gid, WW_SIGCAT_WELLBEING, "Zwaar.", NULL, NULL));
        }
        for (int s = 0; s < g[i].n_students; s++)
            fx_sync(g[i].st[s], g[i].coach, g[i].gid, 256);
        if (i == 0) {
            ASSERT_OK(
                ww_signal_resolve(g[0].coach, g[0].gid, sig[0], WW_SIGNAL_DISCUSSED, "", NULL));
            ASSERT_OK(
                ww_signal_resolve(g[0].coach, g[0].gid, sig[1], WW_SIGNAL_RESOLVED, "", NULL));
            ASSERT_OK(
                ww_signal_resolve(g[0].coach, g[0].gid, sig[2], WW_SIGNAL_RESOLVED, "", NULL));
            for (int k = 0; k < 2; k++)
                ASSERT_OK(ww_signoff_put(g[0].coach, g[0].gid, g[0].m_st[0], "W01", d,
                                         WW_LEVEL_GOOD, "", NULL));
            ASSERT_OK(ww_signoff_put(g[0].coach, g[0].gid, g[0].m_st[3], "W01", d, WW_LEVEL_GOOD,
                                     "", NULL));
        } else {
            ASSERT_OK(ww_signoff_put(g[1].coach, g[1].gid, g[1].m_st[1], "W01", d, WW_LEVEL_GOOD,
                                     "", NULL));
        }
        fx_sync(g[i].coach, hub, g[i].gid, 256);
    }
    ASSERT_EQ(fx_count(hub, "SELECT count(*) FROM climate_shares WHERE length(a_share)=656"), 6);
    /* Nothing is served while the window is open: a fetch now and one after one more
     * answer would differ by that answer. Six weeks on, the window is final. */
    uint64_t last0 = 0, next0 = 1;
    size_t n0 = 0;
    ASSERT_OK(ww_climate_last(hub, &last0));
    ASSERT_OK(ww_climate_page(hub, 0, last0, 6, count_page, &n0, &next0));
    ASSERT_EQ(n0, 0);
    fx_now += 42LL * 86400000;
    /* A signal and a sign-off of a respondent dated in a later window count in that one. */
    ASSERT_OK(ww_signal_raise(g[1].st[0], g[1].gid, WW_SIGCAT_WORKLOAD, "Later.", NULL, sig[3]));
    fx_sync(g[1].st[0], g[1].coach, g[1].gid, 256);
    ASSERT_OK(ww_signal_resolve(g[1].coach, g[1].gid, sig[3], WW_SIGNAL_DISCUSSED, "", NULL));
    ASSERT_OK(
        ww_signoff_put(g[1].coach, g[1].gid, g[1].m_st[0], "W02", d, WW_LEVEL_GOOD, "", NULL));
    fx_sync(g[1].coach, hub, g[1].gid, 256);
    /* Pages: a full page that reaches the snapshot's end is the last; one that does not
     * may have more. */
    uint64_t last = 0, next = 1;
    size_t n = 0;
    ASSERT_OK(ww_climate_last(hub, &last));
    ASSERT_OK(ww_climate_page(hub, 0, last, 6, count_page, &n, &next));
    ASSERT_EQ(n, 6);
    ASSERT_EQ(next, 0);
    ASSERT_OK(ww_climate_page(hub, 0, last, 5, count_page, &n, &next));
    ASSERT(next > 0 && next < last);
    uv_loop_t loop;
    ASSERT_EQ(uv_loop_init(&loop), 0);
    struct loop_watch wh = {0};
    struct ww_node_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.store = hub;
    cfg.hub = 1;
    cfg.ud = &wh;
    cfg.on_conn = loop_on_conn;
    cfg.climate_readers = (const uint8_t(*)[WW_KEY_LEN])reader;
    cfg.n_climate_readers = 1;
    struct ww_node *hn = NULL;
    ASSERT_OK(ww_node_new(&loop, &cfg, &hn));
    ASSERT_OK(ww_node_listen(hn, "127.0.0.1", 0));
    int port = ww_node_port(hn);

    struct got got = {0};
    struct ww_node *pn = reader_node(&loop, po, &got);
    ASSERT_OK(ww_node_climate(pn, "127.0.0.1", port, hubkey, 0));
    loop_run_until(&loop, &got.done, 1);
    ASSERT_OK(got.rc);
    ASSERT_EQ(got.n_units, 2);
    ASSERT_STR_EQ(got.team, "Zonnebloem");
    const struct ww_agg_cell *team = ww_agg_report_find(&got.r, WW_AGG_TEAM, 1, ww_agg_window(d));
    ASSERT(team != NULL);
    ASSERT(team->shown);
    ASSERT_EQ(team->students, 6);
    ASSERT_EQ(team->groups, 2);
    ASSERT(team->status_shown);
    /* One done and two partly per group; both partly ones gave the supervisor reason. */
    ASSERT_EQ(team->status[0], 2);
    ASSERT_EQ(team->status[1], 4);
    ASSERT_EQ(team->status[2], 0);
    ASSERT_EQ(team->reasons[1], 4); /* bit 1: geen tijd bij begeleider */
    ASSERT_EQ(team->reasons[0], 0);
    /* K1 and K2, each answered by all six and each counted in its vermogen and in veilig or
     * faciliterend: 24 answers in the categories, K2's all 2s, K1's 3s and 4s. */
    uint64_t answers = 0, bins[5] = {0};
    for (int cat = 0; cat < WW_AGG_CATS; cat++) {
        if (!team->cat[cat].shown)
            continue;
        answers += team->cat[cat].answers;
        for (int v = 0; v < 5; v++)
            bins[v] += team->cat[cat].hist[v];
    }
    ASSERT_EQ(answers, 24);
    ASSERT_EQ(bins[1], 12);
    ASSERT_EQ(bins[2], 8); /* K1 = 3 for two students of each group, 4 for one */
    ASSERT_EQ(bins[3], 4);
    /* The coach loop over the six respondents, in the team and its location alike: 4
     * signals, 2 answered (50%), 3 sign-offs (0.5 per student). */
    const struct ww_agg_cell *loc =
        ww_agg_report_find(&got.r, WW_AGG_LOCATION, 1, ww_agg_window(d));
    ASSERT(loc != NULL);
    for (const struct ww_agg_cell *c = team; c; c = c == team ? loc : NULL) {
        ASSERT_EQ(c->signals, 4);
        ASSERT_EQ(c->responded, 2);
        ASSERT_EQ(c->signoffs, 3);
        ASSERT_EQ(c->responded_pct, 50);
        ASSERT_EQ(c->signoffs10, 5);
    }
    free(got.r.cells);
    /* The hub's count directly: each group once in a location whose team cell passes too,
     * and in the location alone when its team cell does not pass; nothing in a cell that
     * does not pass. */
    struct ww_agg_setup su;
    ASSERT_OK(ww_climate_setup(hub, &su));
    for (int team_pass = 0; team_pass < 2; team_pass++) {
        struct ww_agg_cellshare cells[2] = {
            {.level = WW_AGG_TEAM, .unit = 1, .location = 1, .window = ww_agg_window(d)},
            {.level = WW_AGG_LOCATION, .unit = 1, .location = 1, .window = ww_agg_window(d)}};
        cells[0].pass = (uint8_t)team_pass;
        cells[1].pass = 1;
        struct ww_agg_summary rel = {cells, 2, 5, 1};
        ASSERT_OK(ww_climate_loop(hub, &su, last, &rel));
        ASSERT_EQ(cells[0].signals, team_pass ? 4 : 0);
        ASSERT_EQ(cells[0].signoffs, team_pass ? 3 : 0);
        ASSERT_EQ(cells[1].signals, 4);
        ASSERT_EQ(cells[1].responded, 2);
        ASSERT_EQ(cells[1].signoffs, 3);
    }
    ww_agg_setup_free(&su);

    /* A learner's device is no climate reader: refused, and nothing comes back. */
    struct got denied = {0};
    struct ww_node *sn = reader_node(&loop, g[0].st[0], &denied);
    ASSERT_OK(ww_node_climate(sn, "127.0.0.1", port, hubkey, 0));
    loop_run_until(&loop, &denied.done, 1);
    ASSERT(denied.rc != 0);
    ASSERT_EQ(denied.r.n, 0);

    /* Nor is the coach's device, which holds the group's keys. */
    struct got coach = {0};
    struct ww_node *cn = reader_node(&loop, g[0].coach, &coach);
    ASSERT_OK(ww_node_climate(cn, "127.0.0.1", port, hubkey, 0));
    loop_run_until(&loop, &coach.done, 1);
    ASSERT(coach.rc != 0);

    /* The reader's key fetches aggregates and nothing else: asking for a group's events is
     * refused, and it holds none. */
    int down = got.w.down + 1;
    ASSERT_OK(
        ww_node_dial(pn, "127.0.0.1", port, hubkey, (const uint8_t(*)[WW_ID_LEN])g[0].gid, 1, 1));
    loop_run_until(&loop, &got.w.down, down);
    ASSERT(got.w.last_error != 0);
    ASSERT_EQ(fx_count(po, "SELECT count(*) FROM events"), 0);

    int closed = 0;
    ww_node_close(cn, loop_closed, &closed);
    ww_node_close(sn, loop_closed, &closed);
    ww_node_close(pn, loop_closed, &closed);
    ww_node_close(hn, loop_closed, &closed);
    loop_run_until(&loop, &closed, 4);
    uv_run(&loop, UV_RUN_DEFAULT);
    ASSERT_EQ(uv_loop_close(&loop), 0);
    ww_store_close(hub);
    ww_store_close(po);
    fx_group_close(&g[0]);
    fx_group_close(&g[1]);
}
