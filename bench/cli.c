/*
 * cli.c - how long the `wegwijs` command takes, as a process, on a store with a year in it.
 *
 * A group of a coach, four students and a senior works for a year (52 weeks of four worked
 * days): every learner reflects on every worked day (with climate answers), the coach
 * schedules every day and reacts once a week to each learner. Everything is gathered on
 * the first student's device, as syncing would. Then the built binary is started over and
 * over on that device's data folder:
 *
 *   today_ms        `wegwijs --data DIR today GROUP`: the day's challenge (target < 5 ms)
 *   feed_ms         `wegwijs --data DIR feed GROUP`: the newest 20 of a year of what the
 *                   group shared, with reactions (every readable reflection is opened)
 *   history_ms      `wegwijs --data DIR history GROUP --from (a year ago)`: a year of the
 *                   student's own path
 *   cli_startup_ms  `wegwijs --data DIR help`: a verb that opens no store
 *
 * Each figure is the median of RUNS runs (after WARM unmeasured ones), wall clock from
 * fork to the child's exit, output to /dev/null.
 *
 * Output: "bench: NAME VALUE UNIT" and "limit: NAME VALUE UNIT" lines.
 * Usage: cli [path-to-wegwijs]   (default: next to this program, ../wegwijs)
 */
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "wegwijs.h"

#define WEEKS 52
#define RUNS  60
#define WARM  5

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench cli: %s: %s\n", what, ww_strerror(rc));
    exit(1);
}

static struct ww_store *open_dev(const char *root, const char *name)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/%s", root, name);
    struct ww_store *s = NULL;
    int rc = ww_store_open(dir, NULL, &s);
    if (rc != 0)
        die("open", rc);
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
        int rc = ww_sync_vv(to, gid, vv, 64, &n), more = 0;
        struct bag b = {.n = 0};
        if (rc == 0)
            rc = ww_sync_missing(from, gid, vv, n < 64 ? n : 64, 256, 1u << 20, bag_add, &b, &more);
        if (rc != 0)
            die("missing", rc);
        struct ww_apply_result res;
        if (b.n && (rc = ww_sync_apply(to, (const uint8_t *const *)b.raw, b.len, b.n, &res)))
            die("apply", rc);
        for (size_t i = 0; i < b.n; i++)
            free(b.raw[i]);
        if (b.n == 0 || res.accepted == 0)
            return;
    }
}

/* Wall-clock milliseconds of one run of the binary with these arguments. */
static double run_once(const char *bin, char *const argv[])
{
    double t0 = now_ms();
    pid_t pid = fork();
    if (pid < 0)
        die("fork", WW_EIO);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) {
            dup2(null, 1);
            dup2(null, 2);
        }
        execv(bin, argv);
        _exit(127);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "bench cli: %s %s failed (status 0x%x)\n", bin, argv[3], status);
        exit(1);
    }
    return now_ms() - t0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_ms(const char *bin, char *const argv[])
{
    double t[RUNS];
    for (int i = 0; i < WARM; i++)
        run_once(bin, argv);
    for (int i = 0; i < RUNS; i++)
        t[i] = run_once(bin, argv);
    qsort(t, RUNS, sizeof t[0], cmp_double);
    return t[RUNS / 2];
}

int main(int argc, char **argv)
{
    char bin[PATH_MAX];
    if (argc > 1) {
        snprintf(bin, sizeof bin, "%s", argv[1]);
    } else {
        snprintf(bin, sizeof bin, "%s", argv[0]);
        char *slash = strrchr(bin, '/');
        snprintf(slash ? slash + 1 : bin, sizeof bin - (size_t)(slash ? slash + 1 - bin : 0),
                 "../wegwijs");
    }
    if (access(bin, X_OK) != 0) {
        fprintf(stderr, "bench cli: no binary at %s (build it with make)\n", bin);
        return 1;
    }
    char root[] = "/tmp/wwbench-cli.XXXXXX";
    if (!mkdtemp(root))
        die("mkdtemp", WW_EIO);

    /* The group, a year ago. */
    double t_gen = now_ms();
    struct ww_store *coach = open_dev(root, "coach"), *l[5];
    uint8_t gid[WW_ID_LEN], member[WW_ID_LEN], pk[WW_KEY_LEN];
    uint32_t today;
    int rc = ww_group_create(coach, "Afdeling Zonnebloem", NULL, 0, "Coach Anna", NULL, gid, NULL);
    if (rc == 0)
        rc = ww_day_today(coach, gid, &today);
    if (rc != 0)
        die("group", rc);
    static const char *const names[5] = {"s1", "s2", "s3", "s4", "senior"};
    for (int i = 0; i < 5; i++) {
        l[i] = open_dev(root, names[i]);
        ww_store_device(l[i], pk);
        if ((rc = ww_member_add(coach, gid, i < 4 ? WW_ROLE_STUDENT : WW_ROLE_SENIOR, names[i],
                                i < 4 ? 1 : 3, WW_TRACK_BOL, pk, member)) != 0)
            die("member", rc);
    }
    for (int i = 0; i < 5; i++)
        copy_group(coach, l[i], gid);

    /* A year of worked days: Monday to Thursday of 52 weeks ending this week; the coach
     * reacts to every Monday's reflection. */
    static uint8_t monday[5 * (WEEKS + 1)][WW_EVENT_HASH_LEN];
    size_t n_monday = 0;
    uint32_t first = today - 7 * WEEKS;
    for (uint32_t d = first; d <= today; d++) {
        if ((rc = ww_challenge_schedule(coach, gid, d, "W03", NULL)) != 0)
            die("schedule", rc);
    }
    for (int i = 0; i < 5; i++) {
        for (uint32_t d = first; d <= today; d++) {
            int wd = (int)((d + 3) % 7); /* 0 Monday: 1970-01-01 was a Thursday */
            if (wd > 3)
                continue;
            struct ww_reflection r;
            memset(&r, 0, sizeof r);
            r.date = d;
            r.code = "W03";
            r.status = 1 + (int)(d % 3);
            r.obstacles = r.status == 1 ? 0 : 2;
            r.situatie = "Ochtendzorg bij een client met dementie, samen met mijn begeleider.";
            r.actie = "Ik heb gevraagd waarom we de zorg in deze volgorde doen.";
            r.reflectie = "Vragen stellen helpt me om de routine te begrijpen.";
            r.share = 2 + (int)(d % 2);
            r.n_answers = 2;
            r.answer_item[0] = 1;
            r.answer_value[0] = (uint8_t)(1 + d % 5);
            r.answer_item[1] = 2;
            r.answer_value[1] = (uint8_t)(1 + (d / 3) % 5);
            uint8_t hash[WW_EVENT_HASH_LEN];
            if ((rc = ww_reflection_put(l[i], gid, &r, hash)) != 0)
                die("reflection", rc);
            if (wd == 0 && n_monday < sizeof monday / sizeof monday[0])
                memcpy(monday[n_monday++], hash, WW_EVENT_HASH_LEN);
        }
        copy_group(l[i], coach, gid);
    }
    for (size_t k = 0; k < n_monday; k++)
        if ((rc = ww_reaction_put(coach, gid, monday[k], "Mooi dat je dit deelt.", NULL)) != 0)
            die("reaction", rc);
    copy_group(coach, l[0], gid);
    for (int i = 1; i < 5; i++)
        copy_group(l[i], l[0], gid);
    ww_store_close(coach);
    for (int i = 0; i < 5; i++)
        ww_store_close(l[i]);
    fprintf(stderr, "# a year of a group written and gathered in %.0f ms\n", now_ms() - t_gen);

    char dir[PATH_MAX], group[2 * WW_ID_LEN + 1];
    snprintf(dir, sizeof dir, "%s/s1", root);
    ww_hex(gid, WW_ID_LEN, group);
    char *today_argv[] = {bin, "--data", dir, "today", group, NULL};
    char *help_argv[] = {bin, "--data", dir, "help", NULL, NULL};
    char from[11];
    ww_date_format(today - 365, from);
    char *feed_argv[] = {bin, "--data", dir, "feed", group, NULL};
    char *history_argv[] = {bin, "--data", dir, "history", group, "--from", from, NULL};
    double t_today = median_ms(bin, today_argv);
    double t_feed = median_ms(bin, feed_argv);
    double t_history = median_ms(bin, history_argv);
    double t_help = median_ms(bin, help_argv);
    printf("bench: today_ms %.2f ms\n", t_today);
    printf("limit: today_ms 5 ms\n");
    printf("bench: feed_ms %.2f ms\n", t_feed);
    printf("bench: history_ms %.2f ms\n", t_history);
    printf("bench: cli_startup_ms %.2f ms\n", t_help);

    if (getenv("WW_BENCH_KEEP")) {
        fprintf(stderr, "# kept %s\n", root);
        return 0;
    }
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        fprintf(stderr, "bench cli: could not remove %s\n", root);
    return 0;
}
