/*
 * groups.c - a store holding many groups (a hub) answers one group's requests about as
 * fast as a store holding one.
 *
 * One device creates G groups, each with a student and a week of day-off marks, so every
 * group has a few authors and events. Then, for random groups, it answers what a sync
 * session asks of it: the group's version vector, and the events a peer with an empty
 * vector lacks. We time the same requests on a store with a single such group.
 *
 * Output: "bench: NAME VALUE UNIT" lines.
 * Usage: groups [G]   (default 5000)
 */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wegwijs.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t fake_ms = 1795417200000LL;

static int64_t clock_ms(void *ud)
{
    (void)ud;
    return fake_ms;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench groups: %s: %s\n", what, ww_strerror(rc));
    exit(1);
}

static struct ww_store *open_dev(const char *root, const char *name)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", root, name);
    struct ww_options opt = {clock_ms, NULL, NULL, NULL};
    struct ww_store *s = NULL;
    int rc = ww_store_open(dir, &opt, &s);
    if (rc != 0)
        die("open", rc);
    return s;
}

static void count_cb(void *ud, const uint8_t *ev, size_t len)
{
    (void)ev;
    *(size_t *)ud += len;
}

/* Creates n groups on s, each with one student (another device) and a few events. */
static uint8_t (*make_groups(struct ww_store *s, size_t n))[WW_ID_LEN]
{
    uint8_t(*gids)[WW_ID_LEN] = calloc(n, WW_ID_LEN);
    if (!gids)
        die("calloc", WW_ENOMEM);
    for (size_t i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "Groep %zu", i);
        int rc = ww_group_create(s, name, NULL, 0, "Coach", NULL, gids[i], NULL);
        uint8_t pk[WW_KEY_LEN], sk[64], m[WW_ID_LEN];
        crypto_sign_keypair(pk, sk); /* a student's device */
        if (rc == 0)
            rc = ww_member_add(s, gids[i], WW_ROLE_STUDENT, "Sara", 1, 1, pk, m);
        uint32_t d = 0;
        if (rc == 0)
            rc = ww_day_today(s, gids[i], &d);
        for (uint32_t k = 0; rc == 0 && k < 5; k++)
            rc = ww_challenge_schedule(s, gids[i], d + k, "W01", NULL);
        if (rc != 0)
            die("make group", rc);
        fake_ms += 10;
    }
    return gids;
}

/* Mean microseconds of one group's vector + missing events, over `rounds` random groups. */
static double request_us(struct ww_store *s, uint8_t (*gids)[WW_ID_LEN], size_t n, int rounds)
{
    size_t bytes = 0;
    double t0 = now_s();
    for (int r = 0; r < rounds; r++) {
        const uint8_t *g = gids[(size_t)rand() % n];
        struct ww_vv_item vv[64];
        size_t nv = 0;
        int more = 0;
        int rc = ww_sync_vv(s, g, vv, 64, &nv);
        if (rc == 0)
            rc = ww_sync_missing(s, g, NULL, 0, 256, 1u << 20, count_cb, &bytes, &more);
        if (rc != 0)
            die("request", rc);
    }
    return (now_s() - t0) * 1e6 / rounds;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 5000;
    if (n == 0)
        n = 1;
    char root[] = "/tmp/ww-bench-groups-XXXXXX";
    if (!mkdtemp(root))
        die("mkdtemp", WW_EIO);
    struct ww_store *one = open_dev(root, "one");
    struct ww_store *many = open_dev(root, "many");
    uint8_t(*g1)[WW_ID_LEN] = make_groups(one, 1);
    double t0 = now_s();
    uint8_t(*gn)[WW_ID_LEN] = make_groups(many, n);
    double made = now_s() - t0;
    srand(7);
    double us1 = request_us(one, g1, 1, 2000);
    double usn = request_us(many, gn, n, 2000);
    printf("bench: groups_in_store %zu groups\n", n);
    printf("bench: groups_created_per_s %.0f groups/s\n", (double)n / made);
    printf("bench: group_request_us_1 %.1f us\n", us1);
    printf("bench: group_request_us_%zu %.1f us\n", n, usn);
    printf("bench: group_request_ratio %.2f x\n", usn / us1);
    free(g1);
    free(gn);
    ww_store_close(one);
    ww_store_close(many);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        fprintf(stderr, "bench groups: could not remove %s\n", root);
    return 0;
}
