/*
 * aggregate.c - the aggregators of split climate shares and the disclosure rules.
 *
 * An aggregator opens its share of every day message, keeps the latest message per
 * (pseudonym, date), and sums shares per cell: (team or location) x 4-week window. It
 * releases a cell's sums only when the cell passes the rules of docs/ARCHITECTURE.md
 * ("Climate aggregates"), decided from clear facts both aggregators compute identically
 * (distinct pseudonyms, groups, enrolment) and from the combined "first answer" counts the
 * two exchange in a gate round. Single items never leave an aggregator: only the sums of
 * a category (vermogen, veilig, faciliterend) do, and only when every item in it has no
 * answers or at least k distinct answerers.
 *
 * Invariants: every share-sum is below WW_AGG_PRIME; both aggregators' cell lists are in
 * the same order (level, unit, window); a release never holds sums of a part that does not
 * pass; a report holds numbers only for what is shown.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "mp.h"
#include "share.h"
#include "wegwijs.h"

#define MAX_DAYS   (1u << 18) /* about 180 MiB of opened shares */
#define MAX_GROUPS 4096u

struct day {
    uint32_t g;      /* index into the config's groups */
    uint32_t window; /* ww_agg_window(date) */
    uint32_t date;
    uint64_t order; /* arrival: the later one wins per (nym, date) */
    uint16_t asked;
    uint8_t nym[WW_AGG_NYM_LEN], prev[WW_AGG_NYM_LEN];
    uint64_t v[WW_AGG_DIM];
};

struct cell {
    struct ww_agg_cellshare c;
    uint64_t sum[WW_AGG_DIM];
};

struct ww_agg {
    struct ww_agg_group *groups;
    size_t n_groups;
    uint32_t k;
    uint8_t by;
    int which;
    uint8_t pk[32], sk[32];
    struct day *days;
    size_t n_days, cap_days;
    uint64_t order;
    struct cell *cells; /* from the last ww_agg_gate */
    size_t n_cells;
    struct { /* (group, window) of a share one aggregator could not open: its cells void */
        uint32_t g, window;
    } * voids;
    size_t n_voids, cap_voids;
};

/* Which categories each item counts in: its vermogen and, when it has one, veilig or
 * faciliterend (from the item table in library.c). */
static unsigned item_cats(int item)
{
    const struct ww_climate_item *it = ww_climate_item_get((uint8_t)item);
    unsigned m = 0;
    if (!it)
        return 0;
    if (it->vermogen >= WW_VERM_ABSORPTIE && it->vermogen <= WW_VERM_LEREND)
        m |= 1u << (it->vermogen - WW_VERM_ABSORPTIE);
    if (it->climate == WW_CLIMATE_VEILIG)
        m |= 1u << WW_AGG_VEILIG;
    else if (it->climate == WW_CLIMATE_FACILITEREND)
        m |= 1u << WW_AGG_FACILITEREND;
    return m;
}

int ww_agg_new(const struct ww_agg_config *cfg, int which, const uint8_t pk[32],
               const uint8_t sk[32], struct ww_agg **out)
{
    uint32_t k = cfg->k ? cfg->k : WW_AGG_K_MIN;
    if (cfg->by == WW_AGG_BY_YEAR || cfg->by == WW_AGG_BY_TRACK)
        return WW_EPERM;
    if (k < WW_AGG_K_MIN || cfg->by > WW_AGG_BY_LOCATION || (which != 0 && which != 1) ||
        cfg->n_groups < 1 || cfg->n_groups > MAX_GROUPS || !cfg->groups)
        return WW_EINVAL;
    /* A team lies in one location; a group is listed once. */
    for (size_t i = 0; i < cfg->n_groups; i++)
        for (size_t j = 0; j < i; j++)
            if (!memcmp(cfg->groups[i].group, cfg->groups[j].group, 16) ||
                (cfg->groups[i].team == cfg->groups[j].team &&
                 cfg->groups[i].location != cfg->groups[j].location))
                return WW_EINVAL;
    struct ww_agg *a = ww_calloc(1, sizeof *a);
    if (!a)
        return WW_ENOMEM;
    a->groups = ww_calloc(cfg->n_groups, sizeof *a->groups);
    if (!a->groups) {
        ww_free(a);
        return WW_ENOMEM;
    }
    memcpy(a->groups, cfg->groups, cfg->n_groups * sizeof *a->groups);
    a->n_groups = cfg->n_groups;
    a->k = k;
    a->by = cfg->by;
    a->which = which;
    memcpy(a->pk, pk, 32);
    memcpy(a->sk, sk, 32);
    *out = a;
    return 0;
}

void ww_agg_free(struct ww_agg *a)
{
    if (!a)
        return;
    if (a->days)
        sodium_memzero(a->days, a->n_days * sizeof *a->days);
    sodium_memzero(a->sk, sizeof a->sk);
    ww_free(a->days);
    ww_free(a->cells);
    ww_free(a->groups);
    ww_free(a->voids);
    ww_free(a);
}

int ww_agg_add(struct ww_agg *a, const struct ww_share_msg *m)
{
    uint64_t v[WW_AGG_DIM];
    int rc = ww_share_open(m, a->which, a->pk, a->sk, v);
    return rc ? rc : ww_agg_add_opened(a, m, v);
}

int ww_agg_add_void(struct ww_agg *a, const struct ww_share_msg *m)
{
    size_t g = 0;
    while (g < a->n_groups && memcmp(a->groups[g].group, m->group, 16) != 0)
        g++;
    if (g == a->n_groups)
        return WW_EGROUP;
    if (a->n_voids >= MAX_DAYS)
        return WW_ETOOBIG;
    if (a->n_voids == a->cap_voids) {
        size_t cap = a->cap_voids ? 2 * a->cap_voids : 16;
        void *p = ww_realloc(a->voids, cap * sizeof *a->voids);
        if (!p)
            return WW_ENOMEM;
        a->voids = p;
        a->cap_voids = cap;
    }
    a->voids[a->n_voids].g = (uint32_t)g;
    a->voids[a->n_voids++].window = ww_agg_window(m->date);
    return 0;
}

int ww_agg_add_opened(struct ww_agg *a, const struct ww_share_msg *m, const uint64_t v[WW_AGG_DIM])
{
    for (int i = 0; i < WW_AGG_DIM; i++)
        if (v[i] >= WW_AGG_PRIME)
            return WW_ERANGE;
    size_t g = 0;
    while (g < a->n_groups && memcmp(a->groups[g].group, m->group, 16) != 0)
        g++;
    if (g == a->n_groups)
        return WW_EGROUP;
    if (a->n_days >= MAX_DAYS)
        return WW_ETOOBIG;
    if (a->n_days == a->cap_days) {
        size_t cap = a->cap_days ? 2 * a->cap_days : 1024; /* reaches MAX_DAYS exactly */
        struct day *p = ww_realloc(a->days, cap * sizeof *p);
        if (!p)
            return WW_ENOMEM;
        a->days = p;
        a->cap_days = cap;
    }
    struct day *d = &a->days[a->n_days];
    memcpy(d->v, v, sizeof d->v);
    d->g = (uint32_t)g;
    d->date = m->date;
    d->window = ww_agg_window(m->date);
    d->asked = m->asked;
    d->order = a->order++;
    memcpy(d->nym, m->nym, WW_AGG_NYM_LEN);
    memcpy(d->prev, m->prev_nym, WW_AGG_NYM_LEN);
    a->n_days++;
    return 0;
}

/* ---- Cells ---- */

/* qsort has no context argument: the sort key is built into an array of these. */
struct key {
    uint32_t unit, window;
    const struct day *d;
};

static int cmp_nym_date(const void *x, const void *y)
{
    const struct day *a = *(const struct day *const *)x, *b = *(const struct day *const *)y;
    int c = memcmp(a->nym, b->nym, WW_AGG_NYM_LEN);
    if (c)
        return c;
    if (a->date != b->date)
        return a->date < b->date ? -1 : 1;
    return a->order < b->order ? -1 : a->order > b->order;
}

static int cmp_key(const void *x, const void *y)
{
    const struct key *a = x, *b = y;
    if (a->unit != b->unit)
        return a->unit < b->unit ? -1 : 1;
    if (a->window != b->window)
        return a->window < b->window ? -1 : 1;
    return memcmp(a->d->nym, b->d->nym, WW_AGG_NYM_LEN);
}

static uint32_t unit_of(const struct ww_agg *a, uint8_t level, uint32_t g)
{
    return level == WW_AGG_TEAM ? a->groups[g].team : a->groups[g].location;
}

/* 1 when some key in [lo, hi) has this nym (the range is sorted by nym). */
static int has_nym(const struct key *k, size_t lo, size_t hi, const uint8_t nym[WW_AGG_NYM_LEN])
{
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = memcmp(k[mid].d->nym, nym, WW_AGG_NYM_LEN);
        if (c == 0)
            return 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* Builds the cells of one level from the live days (keys sorted by unit, window, nym). */
static void build_level(struct ww_agg *a, uint8_t level, struct key *keys, size_t n,
                        uint32_t *stamp, struct cell *cells, size_t *n_cells)
{
    size_t prev_lo = 0, prev_hi = 0; /* the previous cell's key range */
    uint32_t prev_unit = 0, prev_window = 0;
    int have_prev = 0;
    for (size_t lo = 0; lo < n;) {
        size_t hi = lo;
        while (hi < n && keys[hi].unit == keys[lo].unit && keys[hi].window == keys[lo].window)
            hi++;
        struct cell *cl = &cells[(*n_cells)++];
        struct ww_agg_cellshare *c = &cl->c;
        memset(cl, 0, sizeof *cl);
        c->level = level;
        c->unit = keys[lo].unit;
        c->window = keys[lo].window;
        c->location = a->groups[keys[lo].d->g].location;
        for (size_t g = 0; g < a->n_groups; g++)
            if (unit_of(a, level, (uint32_t)g) == c->unit)
                c->enrolled += a->groups[g].enrolled;
        int prev_adjacent = have_prev && prev_unit == c->unit && prev_window + 1 == c->window;
        uint32_t cell_no = (uint32_t)*n_cells;
        unsigned asked_before = 0; /* the blocks already asked of the current student */
        for (size_t i = lo; i < hi; i++) {
            const struct day *d = keys[i].d;
            c->n_days++;
            for (int j = 0; j < WW_AGG_DIM; j++)
                cl->sum[j] = ww_agg_add_mod(cl->sum[j], d->v[j]);
            if (stamp[d->g] != cell_no) {
                stamp[d->g] = cell_no;
                c->groups++;
            }
            if (i == lo || memcmp(keys[i - 1].d->nym, d->nym, WW_AGG_NYM_LEN)) {
                c->students++;
                c->asked[WW_AGG_STATUS_BLOCK]++;
                asked_before = 0;
                if (prev_adjacent && has_nym(keys, prev_lo, prev_hi, d->prev))
                    c->overlap++;
            }
            for (int b = 0; b < WW_AGG_ITEMS; b++) {
                c->asked[b] += (d->asked & ~asked_before) >> b & 1;
                for (int cat = 0; d->asked >> b & 1 && cat < WW_AGG_CATS; cat++)
                    c->cat_asked[cat] += item_cats(b + 1) >> cat & 1;
            }
            asked_before |= d->asked;
        }
        for (int b = 0; b < WW_AGG_ITEMS; b++)
            c->first[b] = cl->sum[WW_AGG_FIRST(b + 1)];
        c->first[WW_AGG_STATUS_BLOCK] = cl->sum[WW_AGG_STATUS_FIRST];
        prev_lo = lo;
        prev_hi = hi;
        prev_unit = c->unit;
        prev_window = c->window;
        have_prev = 1;
        lo = hi;
    }
}

/* k distinct students from at least 2 groups, at least 40% of those enrolled,
 * and never more students than enrolled (extra pseudonyms are forged ones). */
static int passes(uint32_t students, uint32_t groups, uint32_t enrolled, uint32_t k)
{
    return students >= k && groups >= WW_AGG_MIN_GROUPS && students <= enrolled &&
           5ull * students >= 2ull * enrolled;
}

int ww_agg_gate(struct ww_agg *a, struct ww_agg_summary *out)
{
    int rc = WW_ENOMEM;
    size_t n_live = 0, n_cells = 0;
    const struct day **by_nym = ww_calloc(a->n_days ? a->n_days : 1, sizeof *by_nym);
    struct key *keys = ww_calloc(a->n_days ? a->n_days : 1, sizeof *keys);
    uint32_t *stamp = ww_calloc(a->n_groups, sizeof *stamp);
    struct cell *cells = ww_calloc(2 * a->n_days + 1, sizeof *cells);
    struct ww_agg_cellshare *pub = NULL;
    if (!by_nym || !keys || !stamp || !cells)
        goto out;
    /* The latest message per (nym, date) replaces the earlier ones. */
    for (size_t i = 0; i < a->n_days; i++)
        by_nym[i] = &a->days[i];
    qsort(by_nym, a->n_days, sizeof *by_nym, cmp_nym_date);
    for (size_t i = 0; i < a->n_days; i++) {
        const struct day *d = by_nym[i], *next = i + 1 < a->n_days ? by_nym[i + 1] : NULL;
        if (next && next->date == d->date && !memcmp(next->nym, d->nym, WW_AGG_NYM_LEN))
            continue;
        by_nym[n_live++] = d;
    }
    uint8_t levels = a->by == WW_AGG_BY_TEAM ? 2 : 1;
    for (uint8_t l = 0; l < levels; l++) {
        uint8_t level = a->by == WW_AGG_BY_TEAM ? l : WW_AGG_LOCATION;
        for (size_t i = 0; i < n_live; i++)
            keys[i] = (struct key){unit_of(a, level, by_nym[i]->g), by_nym[i]->window, by_nym[i]};
        qsort(keys, n_live, sizeof *keys, cmp_key);
        memset(stamp, 0, a->n_groups * sizeof *stamp);
        build_level(a, level, keys, n_live, stamp, cells, &n_cells);
    }
    pub = ww_calloc(n_cells ? n_cells : 1, sizeof *pub);
    if (!pub)
        goto out;
    /* The first counts of a cell that fails on its clear facts are not exchanged: for a few
     * students they would tell which of them answered an item and which said n.v.t. */
    for (size_t i = 0; i < n_cells; i++) {
        pub[i] = cells[i].c;
        if (!passes(pub[i].students, pub[i].groups, pub[i].enrolled, a->k))
            memset(pub[i].first, 0, sizeof pub[i].first);
    }
    ww_free(a->cells);
    a->cells = cells;
    a->n_cells = n_cells;
    cells = NULL;
    *out = (struct ww_agg_summary){pub, n_cells, a->k, 0};
    rc = 0;
out:
    ww_free(cells);
    ww_free(stamp);
    ww_free(keys);
    ww_free(by_nym);
    return rc;
}

/* The clear facts of two views of one cell agree. */
static int same_cell(const struct ww_agg_cellshare *x, const struct ww_agg_cellshare *y)
{
    return x->level == y->level && x->unit == y->unit && x->location == y->location &&
           x->window == y->window && x->n_days == y->n_days && x->students == y->students &&
           x->groups == y->groups && x->enrolled == y->enrolled && x->overlap == y->overlap &&
           !memcmp(x->asked, y->asked, sizeof x->asked) &&
           !memcmp(x->cat_asked, y->cat_asked, sizeof x->cat_asked);
}

/* Decides one cell from the combined first counts: whether it passes, and which
 * categories and the status part pass within it. A count above what was asked can only
 * come from a malformed share: the cell is then refused whole. */
static void decide(struct ww_agg_cellshare *c, const uint64_t first[WW_AGG_BLOCKS], uint32_t k)
{
    int plausible = 1;
    for (int b = 0; b < WW_AGG_BLOCKS; b++)
        plausible &= first[b] <= c->asked[b];
    c->pass = (uint8_t)(plausible && passes(c->students, c->groups, c->enrolled, k));
    c->cat_pass = 0;
    c->status_pass = 0;
    if (!c->pass)
        return;
    unsigned ok = (1u << WW_AGG_CATS) - 1, answered = 0;
    for (int item = 1; item <= WW_AGG_ITEMS; item++) {
        uint64_t f = first[item - 1];
        unsigned m = item_cats(item);
        if (f > 0 && f < k)
            ok &= ~m;
        if (f > 0)
            answered |= m;
    }
    c->cat_pass = (uint8_t)(ok & answered);
    c->status_pass = first[WW_AGG_STATUS_BLOCK] >= k;
}

/* R-5 with R-4: the team breakdown of a location and window is offered only when the
 * location cell and every team cell in it pass, and a category or the status part only
 * when it passes in all of them; otherwise a parent minus the visible children would
 * give a hidden child. */
static void breakdown(struct cell *cells, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct ww_agg_cellshare *loc = &cells[i].c;
        if (loc->level != WW_AGG_LOCATION)
            continue;
        uint8_t pass = loc->pass, cats = loc->cat_pass, status = loc->status_pass;
        for (size_t j = 0; j < n; j++) {
            const struct ww_agg_cellshare *t = &cells[j].c;
            if (t->level == WW_AGG_TEAM && t->location == loc->unit && t->window == loc->window) {
                pass &= t->pass;
                cats &= t->cat_pass;
                status &= t->status_pass;
            }
        }
        for (size_t j = 0; j < n; j++) {
            struct ww_agg_cellshare *t = &cells[j].c;
            if (t->level == WW_AGG_TEAM && t->location == loc->unit && t->window == loc->window) {
                t->pass = pass;
                t->cat_pass = pass ? cats : 0;
                t->status_pass = pass ? status : 0;
            }
        }
    }
}

/* The released share-sums of a decided cell; everything that does not pass is zero, and
 * the per-item answerer counts stay with the aggregators (for an item answered by few they
 * would tell how many said n.v.t.). */
static void release_cell(const struct cell *cl, struct ww_agg_cellshare *r)
{
    const struct ww_agg_cellshare *c = &cl->c;
    memset(r, 0, sizeof *r);
    r->level = c->level;
    r->unit = c->unit;
    r->location = c->location;
    r->window = c->window;
    if (!c->pass)
        return;
    *r = *c;
    memset(r->first, 0, sizeof r->first);
    for (int item = 1; item <= WW_AGG_ITEMS; item++) {
        unsigned m = item_cats(item) & c->cat_pass;
        for (int cat = 0; cat < WW_AGG_CATS; cat++)
            for (int v = 1; m >> cat & 1 && v <= 5; v++)
                r->cat_hist[cat][v - 1] =
                    ww_agg_add_mod(r->cat_hist[cat][v - 1], cl->sum[WW_AGG_BIN(item, v)]);
    }
    for (int s = 1; c->status_pass && s <= 3; s++)
        r->status[s - 1] = cl->sum[WW_AGG_STATUS(s)];
    for (int b = 0; c->status_pass && b < WW_AGG_REASONS; b++)
        r->reasons[b] = cl->sum[WW_AGG_REASON(b)];
}

int ww_agg_release(struct ww_agg *a, const struct ww_agg_summary *peer, struct ww_agg_summary *out)
{
    if (!a->cells || peer->released || peer->n != a->n_cells || peer->k != a->k)
        return WW_ESTATE;
    for (size_t i = 0; i < a->n_cells; i++)
        if (!same_cell(&a->cells[i].c, &peer->cells[i]))
            return WW_ESTATE;
    uint64_t(*first)[WW_AGG_BLOCKS] = ww_calloc(a->n_cells + 1, sizeof *first);
    struct ww_agg_cellshare *r = ww_calloc(a->n_cells + 1, sizeof *r);
    if (!first || !r) {
        ww_free(first);
        ww_free(r);
        return WW_ENOMEM;
    }
    for (size_t i = 0; i < a->n_cells; i++) {
        for (int b = 0; b < WW_AGG_BLOCKS; b++)
            first[i][b] = ww_agg_add_mod(a->cells[i].c.first[b], peer->cells[i].first[b]);
        decide(&a->cells[i].c, first[i], a->k);
    }
    /* A share left out (one aggregator could not open it) voids its team and location in
     * its window: else two releases, with and without it, would differ by that one day. */
    for (size_t v = 0; v < a->n_voids; v++)
        for (size_t i = 0; i < a->n_cells; i++) {
            struct ww_agg_cellshare *c = &a->cells[i].c;
            if (c->window == a->voids[v].window && c->unit == unit_of(a, c->level, a->voids[v].g))
                c->pass = c->cat_pass = c->status_pass = 0;
        }
    breakdown(a->cells, a->n_cells);
    for (size_t i = 0; i < a->n_cells; i++)
        release_cell(&a->cells[i], &r[i]);
    ww_free(first);
    *out = (struct ww_agg_summary){r, a->n_cells, a->k, 1};
    return 0;
}

static int add32(uint32_t *sum, uint32_t v)
{
    if (*sum > UINT32_MAX - v)
        return WW_ERANGE;
    *sum += v;
    return 0;
}

int ww_agg_loop_add(struct ww_agg_summary *rel, const struct ww_agg_group *g, uint32_t window,
                    uint32_t signals, uint32_t responded, uint32_t signoffs)
{
    if (!rel || !g || responded > signals)
        return WW_EINVAL;
    if (!rel->released)
        return WW_ESTATE;
    for (size_t i = 0; i < rel->n; i++) {
        struct ww_agg_cellshare *c = &rel->cells[i];
        if (!c->pass || c->window != window ||
            c->unit != (c->level == WW_AGG_TEAM ? g->team : g->location))
            continue;
        int rc = add32(&c->signals, signals);
        if (rc == 0)
            rc = add32(&c->responded, responded);
        if (rc == 0)
            rc = add32(&c->signoffs, signoffs);
        if (rc != 0)
            return rc;
    }
    return 0;
}

void ww_agg_summary_free(struct ww_agg_summary *s)
{
    if (!s)
        return;
    ww_free(s->cells);
    s->cells = NULL;
    s->n = 0;
}

/* ---- Reports ---- */

void ww_agg_report_free(struct ww_agg_report *r)
{
    if (!r)
        return;
    ww_free(r->cells);
    r->cells = NULL;
    r->n = 0;
}

const struct ww_agg_cell *ww_agg_report_find(const struct ww_agg_report *r, uint8_t level,
                                             uint32_t unit, uint32_t window)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->cells[i].level == level && r->cells[i].unit == unit && r->cells[i].window == window)
            return &r->cells[i];
    return NULL;
}

/* a percentage in 10-point bands (the band's lower bound) when fewer than 20 students
 * stand behind it. */
static int percent(uint64_t part, uint64_t whole, int banded)
{
    int p = whole ? (int)(100 * part / whole) : 0;
    return banded ? p / 10 * 10 : p;
}

/* Fills in what a shown cell displays from its totals. */
static void finish_cell(struct ww_agg_cell *c)
{
    int banded = c->students < 20;
    for (int cat = 0; cat < WW_AGG_CATS; cat++) {
        struct ww_agg_stat *s = &c->cat[cat];
        uint64_t n = 0, total = 0;
        for (int v = 1; v <= 5; v++) {
            n += s->hist[v - 1];
            total += (uint64_t)v * s->hist[v - 1];
        }
        if (!s->shown || n == 0) {
            memset(s, 0, sizeof *s);
            continue;
        }
        s->answers = (uint32_t)n;
        s->mean10 = (int)((20 * total + n) / (2 * n));
        s->banded = (uint8_t)banded;
        s->low_pct = percent(s->hist[0] + s->hist[1], n, banded);
        s->alert_low = cat == WW_AGG_VEILIG && 10 * (s->hist[0] + s->hist[1]) >= 3 * n;
    }
    if (c->status_shown) {
        uint64_t days = c->status[0] + c->status[1] + c->status[2];
        c->status_banded = (uint8_t)banded;
        for (int s = 0; s < 3; s++)
            c->status_pct[s] = percent(c->status[s], days, banded);
        for (int b = 0; b < WW_AGG_REASONS; b++)
            c->reason_pct[b] = percent(c->reasons[b], c->status[1] + c->status[2], banded);
    }
    c->responded_pct = percent(c->responded, c->signals, banded);
    c->signoffs10 =
        c->students
            ? (int)((20 * (uint64_t)c->signoffs + c->students) / (2 * (uint64_t)c->students))
            : 0;
}

/* a trend only when both windows are shown, the category is shown in both, and at
 * least k students answered in both. Windows are disjoint, so two shown windows never
 * differ by one person's answers alone. */
static void trends(struct ww_agg_report *r)
{
    for (size_t i = 0; i < r->n; i++) {
        struct ww_agg_cell *c = &r->cells[i];
        if (!c->shown || c->window == 0 || c->overlap < r->k)
            continue;
        const struct ww_agg_cell *p = ww_agg_report_find(r, c->level, c->unit, c->window - 1);
        if (!p || !p->shown)
            continue;
        for (int cat = 0; cat < WW_AGG_CATS; cat++) {
            struct ww_agg_stat *s = &c->cat[cat];
            if (!s->shown || !p->cat[cat].shown)
                continue;
            s->trend_shown = 1;
            s->trend10 = s->mean10 - p->cat[cat].mean10;
            s->alert_drop = s->trend10 <= -5;
        }
    }
}

/* Combined totals a valid set of days can produce: no more answers in a category than
 * (day, item) pairs asked in it, one status a day, reasons only on days partly or not done. */
static int plausible(const struct ww_agg_cell *c)
{
    for (int cat = 0; cat < WW_AGG_CATS; cat++) {
        uint64_t n = 0;
        for (int v = 0; v < 5; v++)
            n += c->cat[cat].hist[v];
        if (n > c->cat_asked[cat])
            return 0;
    }
    uint64_t days = c->status[0] + c->status[1] + c->status[2];
    for (int b = 0; b < WW_AGG_REASONS; b++)
        if (c->reasons[b] > c->status[1] + c->status[2])
            return 0;
    return days <= c->n_days;
}

int ww_agg_combine(const struct ww_agg_summary *a, const struct ww_agg_summary *b,
                   struct ww_agg_report *out)
{
    if (!a->released || !b->released || a->n != b->n || a->k != b->k)
        return WW_ESTATE;
    for (size_t i = 0; i < a->n; i++) {
        const struct ww_agg_cellshare *x = &a->cells[i], *y = &b->cells[i];
        if (!same_cell(x, y) || x->pass != y->pass || x->cat_pass != y->cat_pass ||
            x->status_pass != y->status_pass || memcmp(x->first, y->first, sizeof x->first))
            return WW_ESTATE;
        /* Only A counts the coach loop, and only in a passing cell. */
        if (y->signals || y->responded || y->signoffs || x->responded > x->signals ||
            (!x->pass && (x->signals || x->signoffs)))
            return WW_ESTATE;
    }
    struct ww_agg_cell *cells = ww_calloc(a->n + 1, sizeof *cells);
    if (!cells)
        return WW_ENOMEM;
    for (size_t i = 0; i < a->n; i++) {
        const struct ww_agg_cellshare *x = &a->cells[i], *y = &b->cells[i];
        struct ww_agg_cell *c = &cells[i];
        c->level = x->level;
        c->unit = x->unit;
        c->location = x->location;
        c->window = x->window;
        if (!x->pass)
            continue;
        c->shown = 1;
        c->n_days = x->n_days;
        c->students = x->students;
        c->groups = x->groups;
        c->enrolled = x->enrolled;
        c->overlap = x->overlap;
        memcpy(c->cat_asked, x->cat_asked, sizeof c->cat_asked);
        for (int cat = 0; cat < WW_AGG_CATS; cat++) {
            c->cat[cat].shown = x->cat_pass >> cat & 1;
            for (int v = 0; v < 5; v++)
                c->cat[cat].hist[v] = ww_agg_add_mod(x->cat_hist[cat][v], y->cat_hist[cat][v]);
        }
        c->status_shown = x->status_pass;
        for (int s = 0; s < 3; s++)
            c->status[s] = ww_agg_add_mod(x->status[s], y->status[s]);
        for (int r = 0; r < WW_AGG_REASONS; r++)
            c->reasons[r] = ww_agg_add_mod(x->reasons[r], y->reasons[r]);
        c->signals = x->signals;
        c->responded = x->responded;
        c->signoffs = x->signoffs;
        if (!plausible(c)) {
            memset(c, 0, sizeof *c);
            c->level = x->level;
            c->unit = x->unit;
            c->location = x->location;
            c->window = x->window;
            c->invalid = 1;
            continue;
        }
        finish_cell(c);
    }
    *out = (struct ww_agg_report){cells, a->n, a->k};
    trends(out);
    return 0;
}

/* Adds a shown location cell into a region cell. */
static void add_into(struct ww_agg_cell *r, const struct ww_agg_cell *c)
{
    r->n_days += c->n_days;
    r->students += c->students;
    r->groups += c->groups;
    r->enrolled += c->enrolled;
    r->overlap += c->overlap;
    for (int cat = 0; cat < WW_AGG_CATS; cat++) {
        r->cat_asked[cat] += c->cat_asked[cat];
        r->cat[cat].shown &= c->cat[cat].shown;
        for (int v = 0; v < 5; v++)
            r->cat[cat].hist[v] += c->cat[cat].hist[v];
    }
    r->status_shown &= c->status_shown;
    for (int s = 0; s < 3; s++)
        r->status[s] += c->status[s];
    for (int b = 0; b < WW_AGG_REASONS; b++)
        r->reasons[b] += c->reasons[b];
    r->signals += c->signals;
    r->responded += c->responded;
    r->signoffs += c->signoffs;
}

int ww_agg_merge(const struct ww_agg_report *hubs, size_t n, uint32_t k, struct ww_agg_report *out)
{
    size_t n_loc = 0;
    uint32_t kk = k;
    for (size_t h = 0; h < n; h++) {
        kk = hubs[h].k > kk ? hubs[h].k : kk;
        for (size_t i = 0; i < hubs[h].n; i++)
            n_loc += hubs[h].cells[i].level == WW_AGG_LOCATION;
    }
    if (kk < WW_AGG_K_MIN || (k && k < kk))
        return WW_EINVAL;
    /* At most one region cell per location cell, plus the location cells themselves. */
    struct ww_agg_cell *cells = ww_calloc(2 * n_loc + 1, sizeof *cells);
    if (!cells)
        return WW_ENOMEM;
    size_t m = 0;
    for (size_t h = 0; h < n; h++) {
        for (size_t i = 0; i < hubs[h].n; i++) {
            const struct ww_agg_cell *c = &hubs[h].cells[i];
            if (c->level != WW_AGG_LOCATION)
                continue;
            struct ww_agg_cell *r = NULL;
            for (size_t j = 0; j < m && !r; j++)
                if (cells[j].window == c->window)
                    r = &cells[j];
            if (!r) {
                r = &cells[m++];
                r->level = WW_AGG_REGION;
                r->window = c->window;
                r->shown = 1; /* until a location of the window is hidden */
                r->status_shown = 1;
                for (int cat = 0; cat < WW_AGG_CATS; cat++)
                    r->cat[cat].shown = 1;
            }
            if (c->shown)
                add_into(r, c); /* a hidden location adds nothing */
        }
    }
    /* The rules again over the region's totals, then the breakdown by location. */
    size_t n_region = m;
    for (size_t j = 0; j < n_region; j++) {
        struct ww_agg_cell *r = &cells[j];
        int breakdown_ok = 1;
        for (size_t h = 0; h < n; h++)
            for (size_t i = 0; i < hubs[h].n; i++) {
                const struct ww_agg_cell *c = &hubs[h].cells[i];
                if (c->level == WW_AGG_LOCATION && c->window == r->window &&
                    (!c->shown || !passes(c->students, c->groups, c->enrolled, kk)))
                    breakdown_ok = 0;
            }
        if (!passes(r->students, r->groups, r->enrolled, kk)) {
            uint32_t w = r->window;
            memset(r, 0, sizeof *r);
            r->level = WW_AGG_REGION;
            r->window = w;
            continue;
        }
        finish_cell(r);
        for (size_t h = 0; breakdown_ok && h < n; h++)
            for (size_t i = 0; i < hubs[h].n; i++)
                if (hubs[h].cells[i].level == WW_AGG_LOCATION &&
                    hubs[h].cells[i].window == r->window) {
                    struct ww_agg_cell *c = &cells[m++];
                    *c = hubs[h].cells[i];
                    for (int cat = 0; cat < WW_AGG_CATS; cat++) /* redone below */
                        c->cat[cat].trend_shown = c->cat[cat].trend10 = c->cat[cat].alert_drop = 0;
                }
    }
    *out = (struct ww_agg_report){cells, m, kk};
    trends(out);
    return 0;
}
