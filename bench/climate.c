/*
 * climate.c - what one climate fetch costs a hub and the praktijkopleider's tool.
 *
 * A hub holds G groups (default 25) of 4 students in 5 teams of one location; every
 * student reflects on 20 worked days (four weeks) with climate answers, and the hub took
 * each climate.share as it arrived (opening share A once). Then one fetch is timed as the
 * two sides do it (sync/net.c without the sockets):
 *   - the hub: its setup, every page of shares, and at the gate its aggregator A over the
 *     snapshot, A's gate and release with the coach loop it counts from its log (every
 *     student raises two signals, the coach answers one and signs off once) (climate_hub_ms;
 *     the longest single step, which holds
 *     the hub's loop, is climate_hub_gate_ms);
 *   - the reader: aggregator B opening every share, B's gate, B's release and the
 *     combination (climate_reader_ms).
 *
 * Output: "bench: NAME VALUE UNIT" and "limit: NAME VALUE UNIT" lines.
 * Usage: climate [G]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"
#include "share.h"
#include "wegwijs.h"

#define STUDENTS 4
#define DAYS     20

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int64_t fake_ms = 1795158000000LL; /* Friday 2026-11-20 08:00: in the days' window */

static int64_t clock_ms(void *ud)
{
    (void)ud;
    return fake_ms;
}

static void check(int rc, const char *what)
{
    if (rc != 0) {
        fprintf(stderr, "bench climate: %s: %s\n", what, ww_strerror(rc));
        exit(1);
    }
}

static struct ww_store *open_dev(const char *root, const char *name)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", root, name);
    struct ww_options opt = {clock_ms, NULL, NULL, NULL};
    struct ww_store *s = NULL;
    check(ww_store_open(dir, &opt, &s), "open");
    return s;
}

struct bag {
    uint8_t *raw[256];
    size_t len[256];
    size_t n;
};

static void bag_add(void *ud, const uint8_t *ev, size_t len)
{
    struct bag *b = ud;
    if (b->n < 256 && (b->raw[b->n] = malloc(len)) != NULL) {
        memcpy(b->raw[b->n], ev, len);
        b->len[b->n++] = len;
    }
}

/* Everything `from` holds of the group that `to` lacks, as sync would bring it. */
static void copy_group(struct ww_store *from, struct ww_store *to, const uint8_t *gid)
{
    for (;;) {
        struct ww_vv_item vv[64];
        size_t n = 0;
        int more = 0;
        struct bag b = {.n = 0};
        check(ww_sync_vv(to, gid, vv, 64, &n), "vv");
        check(ww_sync_missing(from, gid, vv, n < 64 ? n : 64, 256, 1u << 20, bag_add, &b, &more),
              "missing");
        struct ww_apply_result res = {0};
        if (b.n)
            check(ww_sync_apply(to, (const uint8_t *const *)b.raw, b.len, b.n, &res), "apply");
        for (size_t i = 0; i < b.n; i++)
            free(b.raw[i]);
        if (b.n == 0 || res.accepted == 0)
            return;
    }
}

/* The reader's side of the pages: every share into aggregator B. */
static int reader_add(void *ud, uint64_t id, const uint8_t *msg, size_t len)
{
    struct ww_share_msg m;
    (void)id;
    int rc = ww_share_decode(msg, len, &m);
    if (rc == 0)
        rc = ww_agg_add(ud, &m);
    return rc == WW_EGROUP ? 0 : rc;
}

static int count_one(void *ud, uint64_t id, const uint8_t *msg, size_t len)
{
    (void)id, (void)msg;
    *(size_t *)ud += len;
    return 0;
}

int main(int argc, char **argv)
{
    char *end = NULL;
    long groups = argc > 1 ? strtol(argv[1], &end, 10) : 25;
    if ((end && *end) || groups < 2 || groups > 200) {
        fprintf(stderr, "usage: climate [2..200]\n");
        return 2;
    }
    char root[] = "/tmp/wwbench.climate.XXXXXX";
    if (!mkdtemp(root))
        check(WW_EIO, "mkdtemp");
    struct ww_store *hub = open_dev(root, "hub"), *po = open_dev(root, "po");
    struct ww_store *coach = open_dev(root, "coach"), *st[STUDENTS];
    for (int s = 0; s < STUDENTS; s++) {
        char name[16];
        snprintf(name, sizeof name, "st%d", s);
        st[s] = open_dev(root, name);
    }
    uint8_t pk_a[32], pk_b[32], hub_key[32];
    check(ww_store_aggregator_pk(hub, pk_a), "aggregator A");
    check(ww_store_aggregator_pk(po, pk_b), "aggregator B");
    ww_store_device(hub, hub_key);
    uint32_t start;
    check(ww_date_parse("2026-10-26", &start), "date");

    double t0 = now_ms();
    for (int g = 0; g < groups; g++) {
        char name[32], team[16];
        uint8_t gid[WW_ID_LEN], member[STUDENTS][WW_ID_LEN], pk[32];
        snprintf(name, sizeof name, "Afdeling %d", g);
        snprintf(team, sizeof team, "Team %d", g % 5);
        check(ww_group_create(coach, name, NULL, start, "Coach", NULL, gid, NULL), "group");
        for (int s = 0; s < STUDENTS; s++) {
            ww_store_device(st[s], pk);
            check(ww_member_add(coach, gid, WW_ROLE_STUDENT, "Student", 1, WW_TRACK_BOL, pk,
                                member[s]),
                  "member");
        }
        check(ww_group_hub_set(coach, gid, hub_key, "", NULL), "hub");
        check(ww_group_climate_set(coach, gid, pk_a, pk_b, team, "Utrecht"), "climate");
        for (int s = 0; s < STUDENTS; s++) {
            copy_group(coach, st[s], gid);
            check(ww_climate_pin(st[s], gid, pk_a, pk_b), "pin");
            for (int d = 0; d < DAYS; d++) {
                struct ww_reflection r;
                memset(&r, 0, sizeof r);
                r.date = start + (uint32_t)(d / 5 * 7 + d % 5);
                r.status = 1 + (g + s + d) % 3;
                r.obstacles = r.status > 1 ? 2 : 0;
                r.share = 1;
                r.n_answers = 2;
                r.answer_item[0] = 1, r.answer_value[0] = (uint8_t)(1 + (g * 7 + s + d) % 5);
                r.answer_item[1] = 2, r.answer_value[1] = (uint8_t)(1 + (g + s * 3 + d) % 5);
                check(ww_reflection_put(st[s], gid, &r, NULL), "reflect");
            }
            /* The coach loop: two signals, the first answered, and one sign-off. */
            uint8_t sig[WW_EVENT_HASH_LEN];
            check(ww_signal_raise(st[s], gid, WW_SIGCAT_WORKLOAD, "Druk.", NULL, sig), "signal");
            check(ww_signal_raise(st[s], gid, WW_SIGCAT_WELLBEING, "Moe.", NULL, NULL), "signal");
            copy_group(st[s], hub, gid);
            copy_group(st[s], coach, gid);
            check(ww_signal_resolve(coach, gid, sig, WW_SIGNAL_DISCUSSED, "", NULL), "resolve");
            check(ww_signoff_put(coach, gid, member[s], "W01", start + 3, WW_LEVEL_GOOD, "", NULL),
                  "signoff");
        }
        copy_group(coach, hub, gid);
    }
    double t1 = now_ms();
    fake_ms += 42LL * 86400000; /* six weeks on: the period's windows are final */

    /* The hub: setup and pages (the first AGG_SHARES and the rest), then the gate. */
    struct ww_agg_setup su;
    uint64_t upto = 0, after = 0, next = 0;
    size_t bytes = 0;
    double h0 = now_ms();
    check(ww_climate_setup(hub, &su), "setup");
    check(ww_climate_last(hub, &upto), "last");
    do {
        check(ww_climate_page(hub, after, upto, WW_MAX_AGG_PAGE, count_one, &bytes, &next), "page");
        after = next;
    } while (next);
    double h1 = now_ms();

    /* The reader: aggregator B over the same pages, and its gate. */
    struct ww_agg *b = NULL, *a = NULL;
    struct ww_agg_summary gate_b, gate_a, rel_a, rel_b;
    struct ww_agg_report rep;
    double r0 = now_ms();
    check(ww_climate_agg_new(po, &su, 0, 1, &b), "B");
    after = 0;
    do {
        check(ww_climate_page(hub, after, upto, WW_MAX_AGG_PAGE, reader_add, b, &next), "B page");
        after = next;
    } while (next);
    check(ww_agg_gate(b, &gate_b), "B gate");
    double r1 = now_ms();

    /* The hub at the gate: aggregator A over the snapshot, its gate and its release. */
    double g0 = now_ms();
    struct ww_agg_setup su2;
    check(ww_climate_setup(hub, &su2), "setup again");
    check(ww_climate_aggregate(hub, &su2, gate_b.k, upto, NULL, 0, &a), "A");
    check(ww_agg_gate(a, &gate_a), "A gate");
    check(ww_agg_release(a, &gate_b, &rel_a), "A release");
    double l0 = now_ms();
    check(ww_climate_loop(hub, &su2, upto, &rel_a), "A coach loop");
    double g1 = now_ms();

    double r2 = now_ms();
    check(ww_agg_release(b, &gate_a, &rel_b), "B release");
    check(ww_agg_combine(&rel_a, &rel_b, &rep), "combine");
    double r3 = now_ms();
    size_t shown = 0;
    uint64_t signals = 0;
    for (size_t i = 0; i < rep.n; i++) {
        shown += rep.cells[i].shown;
        signals += rep.cells[i].level == WW_AGG_LOCATION ? rep.cells[i].signals : 0;
    }

    printf("# %ld groups, %llu shares (%zu bytes) on the hub, made in %.0f ms; %zu cells (%zu "
           "shown); %llu signals counted in the locations\n",
           groups, (unsigned long long)upto, bytes, t1 - t0, rep.n, shown,
           (unsigned long long)signals);
    printf("bench: climate_hub_ms %.1f ms\n", (h1 - h0) + (g1 - g0));
    printf("bench: climate_hub_gate_ms %.1f ms\n", g1 - g0);
    printf("limit: climate_hub_gate_ms 100 ms\n");
    printf("bench: climate_hub_loop_ms %.1f ms\n", g1 - l0);
    printf("bench: climate_reader_ms %.1f ms\n", (r1 - r0) + (r3 - r2));
    if (shown == 0) {
        fprintf(stderr, "bench climate: no cell shown\n");
        return 1;
    }
    ww_agg_report_free(&rep);
    ww_agg_summary_free(&gate_a);
    ww_agg_summary_free(&gate_b);
    ww_agg_summary_free(&rel_a);
    ww_agg_summary_free(&rel_b);
    ww_agg_free(a);
    ww_agg_free(b);
    ww_agg_setup_free(&su);
    ww_agg_setup_free(&su2);
    ww_store_close(hub);
    ww_store_close(po);
    ww_store_close(coach);
    for (int s = 0; s < STUDENTS; s++)
        ww_store_close(st[s]);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : 1;
}
