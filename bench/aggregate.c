/*
 * aggregate.c - how long a region's climate report takes: 100 groups on 4 hubs, one
 * internship period of 20 weeks (5 windows), every student answering most worked days.
 *
 * Each hub has 25 groups of 4 students in 5 teams of one location, and two aggregators.
 * The devices' share messages are made first and not timed. Then each aggregator opens
 * and stores its share of every message (timed apart: in service this happens as the
 * messages arrive, over the 20 weeks), and the report is computed: both gates, both
 * releases, the combination per hub and the merge of the 4 hubs (region_aggregate_ms).
 *
 * Output: "bench: NAME VALUE UNIT" and "limit: NAME VALUE UNIT" lines.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "share.h"
#include "wegwijs.h"

#define HUBS      4
#define GROUPS    25 /* per hub */
#define STUDENTS  4
#define WEEKS     20
#define FIRST_DAY (4 + WW_AGG_WINDOW_DAYS * 730)

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void check(int rc, const char *what)
{
    if (rc != 0) {
        fprintf(stderr, "bench aggregate: %s: %s\n", what, ww_strerror(rc));
        exit(1);
    }
}

struct hub {
    struct ww_agg_group groups[GROUPS];
    struct ww_share_msg *msgs;
    size_t n_msgs;
    struct ww_agg *agg[2];
};

/* The messages of one hub's students over the period, with the "first" bits a device
 * would set. */
static void make_messages(struct hub *h, int hub_no, uint8_t pk[2][32])
{
    h->msgs = calloc((size_t)GROUPS * STUDENTS * WEEKS * 5, sizeof *h->msgs);
    if (!h->msgs)
        check(WW_ENOMEM, "messages");
    for (int g = 0; g < GROUPS; g++) {
        memset(h->groups[g].group, 0, 16);
        h->groups[g].group[0] = (uint8_t)hub_no;
        h->groups[g].group[1] = (uint8_t)g;
        h->groups[g].team = (uint32_t)(hub_no * 10 + g / 5);
        h->groups[g].location = (uint32_t)hub_no;
        h->groups[g].enrolled = STUDENTS;
        for (int s = 0; s < STUDENTS; s++) {
            uint8_t key[32] = {(uint8_t)hub_no, (uint8_t)g, (uint8_t)s};
            uint16_t seen = 0;
            uint32_t window = 0;
            for (uint32_t day = 0; day < WEEKS * 7; day++) {
                uint32_t r = randombytes_uniform(100);
                if (day % 7 >= 5 || r < 15) /* weekends off; a day in seven not answered */
                    continue;
                struct ww_agg_day d = {.date = FIRST_DAY + day, .asked = 0x3};
                int rot = 3 + (int)(d.date % 10);
                d.asked |= (uint16_t)(1u << (rot - 1));
                d.value[0] = (uint8_t)(1 + randombytes_uniform(5));
                d.value[1] = (uint8_t)(1 + randombytes_uniform(5));
                d.value[rot - 1] = (uint8_t)randombytes_uniform(6);
                d.status = (uint8_t)(1 + randombytes_uniform(3));
                d.obstacles = d.status > 1 ? (uint8_t)(1u << randombytes_uniform(6)) : 0;
                if (ww_agg_window(d.date) != window) {
                    window = ww_agg_window(d.date);
                    seen = 0;
                }
                uint16_t blocks = (uint16_t)(1u << WW_AGG_STATUS_BLOCK);
                for (int b = 0; b < WW_AGG_ITEMS; b++)
                    blocks |= (uint16_t)((d.value[b] != 0) << b);
                d.first = blocks & ~seen;
                seen |= blocks;
                check(ww_share_make(&d, h->groups[g].group, key, pk[0], pk[1], NULL, NULL,
                                    &h->msgs[h->n_msgs++]),
                      "share");
            }
        }
    }
}

int main(void)
{
    static struct hub hubs[HUBS];
    uint8_t pk[HUBS][2][32], sk[HUBS][2][32];
    if (sodium_init() < 0)
        return 1;
    size_t total = 0;
    for (int h = 0; h < HUBS; h++) {
        for (int w = 0; w < 2; w++)
            crypto_box_keypair(pk[h][w], sk[h][w]);
        make_messages(&hubs[h], h, pk[h]);
        total += hubs[h].n_msgs;
    }

    double t0 = now_ms();
    for (int h = 0; h < HUBS; h++) {
        struct ww_agg_config cfg = {0, WW_AGG_BY_TEAM, hubs[h].groups, GROUPS};
        for (int w = 0; w < 2; w++) {
            check(ww_agg_new(&cfg, w, pk[h][w], sk[h][w], &hubs[h].agg[w]), "new");
            for (size_t i = 0; i < hubs[h].n_msgs; i++)
                check(ww_agg_add(hubs[h].agg[w], &hubs[h].msgs[i]), "add");
        }
    }
    double t1 = now_ms();

    struct ww_agg_report reports[HUBS], region;
    for (int h = 0; h < HUBS; h++) {
        struct ww_agg_summary gate[2], rel[2];
        for (int w = 0; w < 2; w++)
            check(ww_agg_gate(hubs[h].agg[w], &gate[w]), "gate");
        for (int w = 0; w < 2; w++)
            check(ww_agg_release(hubs[h].agg[w], &gate[1 - w], &rel[w]), "release");
        check(ww_agg_combine(&rel[0], &rel[1], &reports[h]), "combine");
        for (int w = 0; w < 2; w++) {
            ww_agg_summary_free(&gate[w]);
            ww_agg_summary_free(&rel[w]);
        }
    }
    check(ww_agg_merge(reports, HUBS, 0, &region), "merge");
    double t2 = now_ms();

    size_t shown = 0;
    for (size_t i = 0; i < region.n; i++)
        shown += region.cells[i].shown;
    printf("# %zu day messages, %zu region cells (%zu shown)\n", total, region.n, shown);
    printf("bench: share_open_us %.1f us\n", (t1 - t0) * 1e3 / (2.0 * (double)total));
    printf("bench: region_ingest_ms %.0f ms\n", t1 - t0);
    printf("bench: region_aggregate_ms %.0f ms\n", t2 - t1);
    printf("limit: region_aggregate_ms 2000 ms\n");
    ww_agg_report_free(&region);
    for (int h = 0; h < HUBS; h++) {
        ww_agg_report_free(&reports[h]);
        ww_agg_free(hubs[h].agg[0]);
        ww_agg_free(hubs[h].agg[1]);
        free(hubs[h].msgs);
    }
    return shown ? 0 : 1;
}
