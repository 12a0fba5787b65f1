/*
 * climate.c - the praktijkopleider's climate report: `climate demo [--groups N] [--weeks N]
 * [--html FILE | --csv]` (and `--json`).
 *
 * The demo generates a region without a network and without real people: three hubs, one
 * location each, with groups of four students in teams of two or three groups. Every
 * answered day of every student goes through the real pipeline of wegwijs_agg.h: the
 * device's ww_share_make, ww_agg_add on aggregators A and B of the student's hub, both
 * gates, both releases, ww_agg_combine per hub and ww_agg_merge over the hubs. The report
 * shown is the region's (region and location cells) with, per location the region shows,
 * that hub's team breakdown; the region's k is the hubs', so the hubs' team rules hold
 * for it. The generator is seeded, so the same arguments give the same report.
 *
 * Three things are built in, so that the report has something to show: the first team of
 * location Noord is one group (too small: that location's team breakdown is suppressed),
 * the first team of Midden drops by about one point in the last window (an alert), and the
 * first team of Zuid answers the veilig items low (an alert in every window). The coach loop
 * (signals, how many the coach answered, sign-offs) is made up per group and window and
 * added to aggregator A's release, where a hub counts it from event headers.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "climate.h"
#include "wegwijs_sync.h"

#define DEMO_HUBS     3
#define DEMO_STUDENTS 4
#define DEMO_WINDOW0  739 /* the first window: Monday 2026-08-31 */

static const char *const location_names[DEMO_HUBS] = {"Noord", "Midden", "Zuid"};

/* splitmix64: small, seeded, the same on every machine. */
struct rng {
    uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static uint32_t rng_below(struct rng *r, uint32_t n)
{
    return (uint32_t)(rng_next(r) % n);
}

/* The split's randomness for ww_share_make. */
static void rng_fill(void *ud, uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i += 8) {
        uint64_t v = rng_next(ud);
        memcpy(buf + i, &v, len - i < 8 ? len - i : 8);
    }
}

struct demo_hub {
    struct ww_agg_group *groups;
    size_t n_groups;
    uint8_t pk[2][32], sk[2][32];
    struct ww_agg *agg[2];
    struct ww_agg_report report;
};

struct demo {
    uint32_t weeks;
    size_t n_windows;
    struct rng rng;
    struct demo_hub hubs[DEMO_HUBS];
    struct climate_unit *units;
    size_t n_units;
    char (*names)[32];
};

/* The team slot of the i-th of a hub's n groups: in Noord the first group is a team on its
 * own; the others go in pairs, an odd one out joining the last pair. */
static uint32_t team_slot(int hub, size_t i, size_t n)
{
    size_t alone = hub == 0;
    if (i < alone)
        return 0;
    size_t j = (i - alone) / 2, pairs = (n - alone) / 2;
    return (uint32_t)(alone + (j < pairs ? j : pairs - 1));
}

/* A value 1..5 around centre (-2: 5%, -1: 20%, 0: 45%, +1: 25%, +2: 5%); 0 (n.v.t.) in
 * one answer of twenty. */
static uint8_t demo_value(struct rng *r, int centre)
{
    static const int delta[20] = {-2, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2};
    if (rng_below(r, 20) == 0)
        return 0;
    int v = centre + delta[rng_below(r, 20)];
    return (uint8_t)(v < 1 ? 1 : v > 5 ? 5 : v);
}

/* One student's answered day: K1, K2 and two rotating R items; the built-in drop and low
 * veilig answers. */
static void demo_day(struct demo *d, int hub, uint32_t slot, uint32_t date, struct ww_agg_day *day)
{
    memset(day, 0, sizeof *day);
    day->date = date;
    uint8_t items[4] = {1, 2, (uint8_t)(3 + (2 * date) % 10), (uint8_t)(3 + (2 * date + 1) % 10)};
    int last = ww_agg_window(date) == DEMO_WINDOW0 + d->n_windows - 1;
    for (int k = 0; k < 4; k++) {
        const struct ww_climate_item *it = ww_climate_item_get(items[k]);
        int centre = slot % 3 == 1 ? 3 : 4;
        if (hub == 1 && slot == 0 && last)
            centre = 3;
        if (hub == 2 && slot == 0 && it && it->climate == WW_CLIMATE_VEILIG)
            centre = 2;
        day->asked |= (uint16_t)(1u << (items[k] - 1));
        day->value[items[k] - 1] = demo_value(&d->rng, centre);
    }
    uint32_t s = rng_below(&d->rng, 20);
    day->status = s < 12 ? 1 : s < 17 ? 2 : 3;
    if (day->status > 1) /* "geen tijd bij begeleider" most often */
        day->obstacles = (uint8_t)(1u << (rng_below(&d->rng, 3) ? 1 : rng_below(&d->rng, 6)));
}

/* Every answered day of one student, made into shares and added to both aggregators. */
static int demo_student(struct demo *d, int hub, const struct ww_agg_group *g, uint32_t slot,
                        const uint8_t nym_key[32])
{
    struct demo_hub *h = &d->hubs[hub];
    uint32_t first = 4 + WW_AGG_WINDOW_DAYS * DEMO_WINDOW0, window = 0;
    uint16_t seen = 0;
    for (uint32_t date = first; date < first + 7 * d->weeks; date++) {
        if ((date - first) % 7 >= 5 || rng_below(&d->rng, 100) < 15)
            continue; /* weekends off; about one day in seven not answered */
        struct ww_agg_day day;
        demo_day(d, hub, slot, date, &day);
        if (ww_agg_window(date) != window) {
            window = ww_agg_window(date);
            seen = 0;
        }
        uint16_t blocks = (uint16_t)(1u << WW_AGG_STATUS_BLOCK);
        for (int b = 0; b < WW_AGG_ITEMS; b++)
            if (day.value[b])
                blocks |= (uint16_t)(1u << b);
        day.first = blocks & (uint16_t)~seen;
        seen |= blocks;
        struct ww_share_msg m;
        int rc = ww_share_make(&day, g->group, nym_key, h->pk[0], h->pk[1], rng_fill, &d->rng, &m);
        if (rc == 0)
            rc = ww_agg_add(h->agg[0], &m);
        if (rc == 0)
            rc = ww_agg_add(h->agg[1], &m);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* A name for a unit, kept in d->names. */
static void demo_name(struct demo *d, uint8_t level, uint32_t unit, const char *loc, uint32_t slot)
{
    for (size_t i = 0; i < d->n_units; i++)
        if (d->units[i].level == level && d->units[i].unit == unit)
            return;
    char *n = d->names[d->n_units];
    if (level == WW_AGG_LOCATION)
        snprintf(n, sizeof d->names[0], "%s", loc);
    else
        snprintf(n, sizeof d->names[0], "%s-%u", loc, (unsigned)slot + 1);
    d->units[d->n_units++] = (struct climate_unit){level, unit, n};
}

/* The groups of each hub, its keys and aggregators, and every student's days. */
static int demo_hubs(struct demo *d, size_t n_groups)
{
    for (int hub = 0; hub < DEMO_HUBS; hub++) {
        struct demo_hub *h = &d->hubs[hub];
        h->n_groups = n_groups / DEMO_HUBS + ((size_t)hub < n_groups % DEMO_HUBS);
        h->groups = calloc(h->n_groups, sizeof *h->groups);
        if (!h->groups)
            return WW_ENOMEM;
        for (int w = 0; w < 2; w++) {
            uint8_t seed[crypto_box_SEEDBYTES] = {'w', 'w', 'd',          'e',
                                                  'm', 'o', (uint8_t)hub, (uint8_t)w};
            crypto_box_seed_keypair(h->pk[w], h->sk[w], seed);
        }
        for (size_t i = 0; i < h->n_groups; i++) {
            struct ww_agg_group *g = &h->groups[i];
            uint32_t slot = team_slot(hub, i, h->n_groups);
            memcpy(g->group, "demo", 4);
            g->group[4] = (uint8_t)hub;
            g->group[5] = (uint8_t)i;
            g->location = (uint32_t)hub + 1;
            g->team = g->location * 100 + slot;
            g->enrolled = DEMO_STUDENTS;
            demo_name(d, WW_AGG_LOCATION, g->location, location_names[hub], 0);
            demo_name(d, WW_AGG_TEAM, g->team, location_names[hub], slot);
        }
        struct ww_agg_config cfg = {0, WW_AGG_BY_TEAM, h->groups, h->n_groups};
        for (int w = 0; w < 2; w++) {
            int rc = ww_agg_new(&cfg, w, h->pk[w], h->sk[w], &h->agg[w]);
            if (rc != 0)
                return rc;
        }
        for (size_t i = 0; i < h->n_groups; i++)
            for (uint8_t s = 0; s < DEMO_STUDENTS; s++) {
                uint8_t nym_key[32] = {'n', 'y', 'm', (uint8_t)hub, (uint8_t)i, s};
                int rc =
                    demo_student(d, hub, &h->groups[i], team_slot(hub, i, h->n_groups), nym_key);
                if (rc != 0)
                    return rc;
            }
    }
    return 0;
}

/* The coach loop aggregator A counts from event headers, made up per group and window:
 * 0 to 3 signals, four in five answered by the coach (one in two in Midden's first team),
 * and 0 to 8 sign-offs for the group's four students. */
static int demo_loop(struct demo *d, int hub, struct ww_agg_summary *rel)
{
    struct demo_hub *h = &d->hubs[hub];
    for (size_t i = 0; i < h->n_groups; i++)
        for (uint32_t w = 0; w < d->n_windows; w++) {
            uint32_t signals = rng_below(&d->rng, 4), answered = 0;
            int slow = hub == 1 && team_slot(hub, i, h->n_groups) == 0;
            for (uint32_t k = 0; k < signals; k++)
                answered += rng_below(&d->rng, 10) < (slow ? 5u : 8u);
            uint32_t signoffs = rng_below(&d->rng, 2 * DEMO_STUDENTS + 1);
            int rc =
                ww_agg_loop_add(rel, &h->groups[i], DEMO_WINDOW0 + w, signals, answered, signoffs);
            if (rc != 0)
                return rc;
        }
    return 0;
}

/* Gates, releases and the combination of one hub, as A, B and the combiner do them. */
static int demo_combine(struct demo *d, int hub)
{
    struct demo_hub *h = &d->hubs[hub];
    struct ww_agg_summary gate[2], rel[2];
    memset(gate, 0, sizeof gate);
    memset(rel, 0, sizeof rel);
    int rc = 0;
    for (int w = 0; rc == 0 && w < 2; w++)
        rc = ww_agg_gate(h->agg[w], &gate[w]);
    for (int w = 0; rc == 0 && w < 2; w++)
        rc = ww_agg_release(h->agg[w], &gate[1 - w], &rel[w]);
    if (rc == 0)
        rc = demo_loop(d, hub, &rel[0]);
    if (rc == 0)
        rc = ww_agg_combine(&rel[0], &rel[1], &h->report);
    for (int w = 0; w < 2; w++) {
        ww_agg_summary_free(&gate[w]);
        ww_agg_summary_free(&rel[w]);
    }
    return rc;
}

/* The report shown: the region's cells, and each hub's team cells where the region shows
 * the team's location in that window (blanked, so suppressed, elsewhere). Units must be
 * numbered apart across the hubs. */
static int region_with_teams(const struct ww_agg_report *hubs, size_t n_hubs,
                             const struct ww_agg_report *region, struct ww_agg_report *out)
{
    size_t n = region->n;
    for (size_t hub = 0; hub < n_hubs; hub++)
        n += hubs[hub].n;
    struct ww_agg_cell *cells = calloc(n + 1, sizeof *cells);
    if (!cells)
        return WW_ENOMEM;
    memcpy(cells, region->cells, region->n * sizeof *cells);
    size_t m = region->n;
    for (size_t hub = 0; hub < n_hubs; hub++) {
        const struct ww_agg_report *r = &hubs[hub];
        for (size_t i = 0; i < r->n; i++) {
            const struct ww_agg_cell *c = &r->cells[i];
            if (c->level != WW_AGG_TEAM)
                continue;
            const struct ww_agg_cell *loc =
                ww_agg_report_find(region, WW_AGG_LOCATION, c->location, c->window);
            if (loc && loc->shown && !loc->invalid && r->k == region->k) {
                cells[m++] = *c;
            } else {
                struct ww_agg_cell *b = &cells[m++];
                b->level = c->level;
                b->unit = c->unit;
                b->location = c->location;
                b->window = c->window;
            }
        }
    }
    *out = (struct ww_agg_report){cells, m, region->k};
    return 0;
}

static void demo_free(struct demo *d)
{
    for (int hub = 0; hub < DEMO_HUBS; hub++) {
        ww_agg_free(d->hubs[hub].agg[0]);
        ww_agg_free(d->hubs[hub].agg[1]);
        ww_agg_report_free(&d->hubs[hub].report);
        free(d->hubs[hub].groups);
    }
    free(d->units);
    free(d->names);
}

static int climate_output(struct cli *c, const char *command, const struct ww_agg_report *r,
                          const struct climate_names *nm, const char *html, int csv)
{
    if (html) {
        int rc = climate_write_html(html, r, nm);
        if (rc == CLI_OK) {
            char q[48];
            say1(_("climate report written to {1}"), quoted(html, q));
        }
        return rc;
    }
    if (csv)
        return climate_print_csv(stdout, r, nm);
    if (!c->json)
        return climate_print_text(stdout, r, nm);
    json_t *doc = climate_json(command, r, nm);
    int rc =
        doc ? json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(3))
            : -1;
    json_decref(doc);
    if (rc != 0)
        return fail(CLI_FAIL, _("out of memory"), NULL, NULL);
    putchar('\n');
    return CLI_OK;
}

static int climate_demo(struct cli *c, int argc, char **argv)
{
    static const struct opt_spec spec[] = {
        {"groups", 1, 0}, {"weeks", 1, 0}, {"html", 1, 0}, {"csv", 0, 0}, {NULL, 0, 0}};
    struct args a;
    long groups = 30, weeks = 16;
    int rc = args_parse(spec, argc, argv, 0, 0, &a);
    if (rc != CLI_OK)
        return rc;
    const char *html = args_get(&a, "html");
    int csv = args_get(&a, "csv") != NULL;
    if ((html != NULL) + csv + c->json > 1)
        return usage_error(_("choose one of --html, --csv and --json"), NULL, NULL);
    if (html && !*html)
        return input_error(_("{1} must not be empty"), _("the file name"), NULL);
    if ((args_get(&a, "groups") &&
         (rc = parse_int(args_get(&a, "groups"), "--groups", 12, 100, &groups)) != CLI_OK) ||
        (args_get(&a, "weeks") &&
         (rc = parse_int(args_get(&a, "weeks"), "--weeks", 8, 20, &weeks)) != CLI_OK))
        return rc;
    if (sodium_init() < 0)
        return fail(CLI_FAIL, _("cannot start the cryptography library"), NULL, NULL);
    struct demo d;
    memset(&d, 0, sizeof d);
    d.weeks = (uint32_t)weeks;
    d.n_windows = ((size_t)weeks + 3) / 4;
    d.rng.s = UINT64_C(20260831);
    d.units = calloc((size_t)groups + DEMO_HUBS, sizeof *d.units);
    d.names = calloc((size_t)groups + DEMO_HUBS, sizeof *d.names);
    struct ww_agg_report region = {NULL, 0, 0}, shown = {NULL, 0, 0};
    rc = d.units && d.names ? demo_hubs(&d, (size_t)groups) : WW_ENOMEM;
    for (int hub = 0; rc == 0 && hub < DEMO_HUBS; hub++)
        rc = demo_combine(&d, hub);
    struct ww_agg_report hubs[DEMO_HUBS];
    for (int hub = 0; hub < DEMO_HUBS; hub++)
        hubs[hub] = d.hubs[hub].report;
    if (rc == 0)
        rc = ww_agg_merge(hubs, DEMO_HUBS, 0, &region);
    if (rc == 0)
        rc = region_with_teams(hubs, DEMO_HUBS, &region, &shown);
    if (rc != 0) {
        rc = lib_error(rc, _("cannot compute the demo report"), NULL);
    } else {
        struct climate_names nm = {d.units, d.n_units, _("demo region"), 1};
        rc = climate_output(c, "climate demo", &shown, &nm, html, csv);
    }
    free(shown.cells);
    ww_agg_report_free(&region);
    demo_free(&d);
    return rc;
}

/* ---- climate fetch: the praktijkopleider's tool as aggregator B and combiner ---- */

#define MAX_FETCH  16
#define UNIT_SPACE 100000u /* hub h's units are numbered from (h + 1) * UNIT_SPACE */
#define FETCH_MS   60000

struct fetch_run {
    uv_loop_t loop;
    uv_timer_t timer, step;
    struct ww_node *node;
    const char **addrs;
    uint8_t (*keys)[WW_KEY_LEN];
    uint32_t k;
    size_t want, cur; /* hubs asked for; the one in flight (or next) */
    int inflight, closed;
    struct {
        int rc;
        struct ww_agg_report report;
        struct ww_agg_unit *units;
        size_t n_units;
    } hub[MAX_FETCH];
};

static void fetch_closed(void *ud)
{
    struct fetch_run *f = ud;
    f->closed = 1;
    uv_close((uv_handle_t *)&f->timer, NULL);
    uv_close((uv_handle_t *)&f->step, NULL);
}

static void fetch_stop(struct fetch_run *f)
{
    if (!f->closed && !f->inflight) {
        f->closed = 1;
        ww_node_close(f->node, fetch_closed, f);
    }
}

static void on_fetch_timeout(uv_timer_t *t)
{
    struct fetch_run *f = t->data;
    if (!f->closed) {
        f->closed = 1;
        ww_node_close(f->node, fetch_closed, f);
    }
}

/* Copies a hub's report and unit names, its units renumbered apart from other hubs'. */
static int keep_result(struct fetch_run *f, size_t h, const struct ww_agg_report *r,
                       const struct ww_agg_setup *su)
{
    uint32_t off = (uint32_t)(h + 1) * UNIT_SPACE;
    struct ww_agg_cell *cells = calloc(r->n + 1, sizeof *cells);
    struct ww_agg_unit *units = calloc(su->n_units + 1, sizeof *units);
    if (!cells || !units || su->n_units >= UNIT_SPACE) {
        free(cells);
        free(units);
        return WW_ENOMEM;
    }
    for (size_t i = 0; i < r->n; i++) {
        cells[i] = r->cells[i];
        cells[i].unit += off;
        cells[i].location += off;
    }
    for (size_t i = 0; i < su->n_units; i++) {
        units[i] = su->units[i];
        units[i].unit += off;
    }
    f->hub[h].report = (struct ww_agg_report){cells, r->n, r->k};
    f->hub[h].units = units;
    f->hub[h].n_units = su->n_units;
    return 0;
}

/* Dials the hubs one after another, so that each result belongs to the hub in flight. */
static void fetch_next(struct fetch_run *f)
{
    while (!f->closed && !f->inflight && f->cur < f->want) {
        char ip[64];
        int port = 0;
        size_t h = f->cur;
        int rc = parse_addr(f->addrs[h], ip, sizeof ip, &port);
        if (rc == CLI_OK && (rc = ww_node_climate(f->node, ip, port, f->keys[h], f->k)) == 0) {
            f->inflight = 1;
            return;
        }
        f->hub[h].rc = rc ? rc : WW_EINVAL;
        f->cur++;
    }
    if (f->cur == f->want)
        fetch_stop(f);
}

static void on_step(uv_timer_t *t)
{
    fetch_next(t->data);
}

/* A hub's result (or failure): kept, and the next hub dialled from the loop, outside the
 * connection's own callbacks. */
static void on_climate(void *ud, int rc, const struct ww_agg_report *r,
                       const struct ww_agg_setup *su)
{
    struct fetch_run *f = ud;
    if (!f->inflight || f->cur >= f->want)
        return;
    f->hub[f->cur].rc = rc == 0 ? keep_result(f, f->cur, r, su) : rc;
    f->cur++;
    f->inflight = 0;
    uv_timer_start(&f->step, on_step, 0, 0);
}

static int climate_fetch(struct cli *c, int argc, char **argv)
{
    static const struct opt_spec spec[] = {
        {"k", 1, 0}, {"html", 1, 0}, {"csv", 0, 0}, {NULL, 0, 0}};
    struct args a;
    int rc = args_parse(spec, argc, argv, 2, 2 * MAX_FETCH, &a);
    if (rc != CLI_OK)
        return rc;
    const char *html = args_get(&a, "html");
    int csv = args_get(&a, "csv") != NULL;
    long k = WW_AGG_K_MIN;
    if ((html != NULL) + csv + c->json > 1)
        return usage_error(_("choose one of --html, --csv and --json"), NULL, NULL);
    if (a.n_pos % 2)
        return usage_error(_("give each hub as HOST:PORT KEY"), NULL, NULL);
    if (args_get(&a, "k") && (rc = parse_int(args_get(&a, "k"), "--k", WW_AGG_K_MIN, 1000, &k)))
        return rc;
    static struct fetch_run f;
    static uint8_t keys[MAX_FETCH][WW_KEY_LEN];
    static const char *addrs[MAX_FETCH];
    memset(&f, 0, sizeof f);
    f.addrs = addrs;
    f.keys = keys;
    f.k = (uint32_t)k;
    f.want = a.n_pos / 2;
    for (size_t h = 0; rc == CLI_OK && h < f.want; h++) {
        char ip[64];
        int port;
        addrs[h] = a.pos[2 * h];
        if ((rc = parse_addr(addrs[h], ip, sizeof ip, &port)) == CLI_OK)
            rc = parse_key(a.pos[2 * h + 1], keys[h]);
    }
    if (rc == CLI_OK)
        rc = cli_open(c, 1);
    if (rc != CLI_OK)
        return rc;
    if (uv_loop_init(&f.loop) != 0)
        return lib_error(WW_ENOMEM, _("cannot start the network"), NULL);
    struct ww_node_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.store = c->store;
    cfg.ud = &f;
    cfg.on_climate = on_climate;
    signal(SIGPIPE, SIG_IGN);
    if ((rc = ww_node_new(&f.loop, &cfg, &f.node)) != 0) {
        uv_loop_close(&f.loop);
        return lib_error(rc, _("cannot start the network"), NULL);
    }
    uv_timer_init(&f.loop, &f.timer);
    uv_timer_init(&f.loop, &f.step);
    f.timer.data = f.step.data = &f;
    uv_timer_start(&f.timer, on_fetch_timeout, FETCH_MS, 0);
    fetch_next(&f);
    uv_run(&f.loop, UV_RUN_DEFAULT);
    uv_loop_close(&f.loop);

    struct ww_agg_report hubs[MAX_FETCH], region = {NULL, 0, 0}, shown = {NULL, 0, 0};
    struct climate_unit *names = calloc(MAX_FETCH * (WW_AGG_MAX_UNITS + 1), sizeof *names);
    size_t n_names = 0, n_ok = 0;
    rc = names ? CLI_OK : lib_error(WW_ENOMEM, _("cannot compute the report"), NULL);
    for (size_t h = 0; h < f.want; h++) {
        if (f.hub[h].rc != 0 || h >= f.cur) {
            char q[80];
            int e = h < f.cur ? f.hub[h].rc : WW_EIO;
            if (rc == CLI_OK && e == WW_EDENIED)
                rc = fail(CLI_DENIED,
                          _("the hub {1} does not let this device read climate (its operator "
                            "adds it with 'hub --climate-reader')"),
                          quoted(addrs[h], q), NULL);
            else if (rc == CLI_OK)
                rc = net_error(e, _("cannot fetch the climate of {1}"), quoted(addrs[h], q));
            continue;
        }
        hubs[n_ok++] = f.hub[h].report;
        for (size_t i = 0; names && i < f.hub[h].n_units; i++)
            names[n_names++] = (struct climate_unit){
                f.hub[h].units[i].level, f.hub[h].units[i].unit, f.hub[h].units[i].name};
    }
    if (rc == CLI_OK && (rc = ww_agg_merge(hubs, n_ok, (uint32_t)k, &region)) == 0)
        rc = region_with_teams(hubs, n_ok, &region, &shown);
    if (rc > 0) {
        /* an exit code, already explained */
    } else if (rc != 0) {
        rc = lib_error(rc, _("cannot compute the report"), NULL);
    } else {
        struct climate_names nm = {names, n_names, NULL, 0};
        rc = climate_output(c, "climate fetch", &shown, &nm, html, csv);
    }
    free(shown.cells);
    ww_agg_report_free(&region);
    for (size_t h = 0; h < f.want; h++) {
        free(f.hub[h].report.cells);
        free(f.hub[h].units);
    }
    free(names);
    return rc;
}

/* `climate key`: what the hub operator needs from the praktijkopleider's tool. */
static int climate_key(struct cli *c, int argc, char **argv)
{
    struct args a;
    int rc = args_parse(NULL, argc, argv, 0, 0, &a);
    if (rc == CLI_OK)
        rc = cli_open(c, 1);
    if (rc != CLI_OK)
        return rc;
    uint8_t dev[WW_KEY_LEN], agg[WW_KEY_LEN];
    ww_store_device(c->store, dev);
    if ((rc = ww_store_aggregator_pk(c->store, agg)) != 0)
        return lib_error(rc, _("cannot make the aggregator key"), NULL);
    struct hexbuf h1, h2;
    if (c->json)
        return json_result("climate key", json_pack("{s:o,s:o}", "device", j_hex(dev, WW_KEY_LEN),
                                                    "aggregator", j_hex(agg, WW_KEY_LEN)));
    say1(_("this device (for 'hub --climate-reader'): {1}"), hex_of(dev, WW_KEY_LEN, &h1));
    say1(_("aggregator B (for 'hub --aggregator-b' and 'group climate'): {1}"),
         hex_of(agg, WW_KEY_LEN, &h2));
    return CLI_OK;
}

int verb_climate(struct cli *c, int argc, char **argv)
{
    char q[48];
    if (argc < 2)
        return usage_error(_("'{1}' needs a subcommand: {2}; see 'wegwijs help'"), "climate",
                           "fetch, key, demo");
    if (!strcmp(argv[1], "demo"))
        return climate_demo(c, argc - 1, argv + 1);
    if (!strcmp(argv[1], "fetch"))
        return climate_fetch(c, argc - 1, argv + 1);
    if (!strcmp(argv[1], "key"))
        return climate_key(c, argc - 1, argv + 1);
    return usage_error(_("unknown command '{1} {2}'; see 'wegwijs help'"), "climate",
                       quoted(argv[1], q));
}
