/*
 * test_climate_cli.c - the climate of two groups end to end through the real binaries: a
 * hub that confirms aggregator B and lets the praktijkopleider's tool read, two coaches and
 * six students who join by invite (and so pin the aggregator keys), reflect with climate
 * answers and sync; the praktijkopleider's `climate fetch` shows the team, with the totals
 * the students gave; a student's device cannot fetch; and a coach who then names an own key
 * as B gets no answers from any student device.
 */
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"
#include "runner.h"

#define GROUPS   2
#define STUDENTS 3

#define WW(r, dev, ...)  proc_run((r), "--data", (dev), __VA_ARGS__, (char *)NULL)
#define WWJ(r, dev, ...) proc_run((r), "--data", (dev), "--json", __VA_ARGS__, (char *)NULL)

static void line_key(struct proc_bg *hub, char key[65])
{
    char line[512];
    ASSERT(proc_read_line(hub->fd, line, sizeof line, proc_now_ms() + PROC_START_MS));
    size_t n = strlen(line);
    ASSERT_GE(n, 64);
    ASSERT(proc_is_hex(line + n - 64, 64));
    memcpy(key, line + n - 64, 65);
}

static json_t *doc_of(const struct proc_run *r, const char *command)
{
    EXPECT_EXIT(*r, 0);
    return proc_json(r->out, command, __LINE__);
}

/* The unit named `name` in a climate document, or NULL. */
static json_t *unit_named(json_t *doc, const char *name)
{
    json_t *units = json_object_get(doc, "units"), *u;
    size_t i;
    json_array_foreach(units, i, u)
    {
        if (!strcmp(json_string_value(json_object_get(u, "name")), name))
            return u;
    }
    return NULL;
}

TEST(climate_two_groups_through_the_binaries)
{
    struct proc_run r;
    char po[512], hub_dir[512], coach[GROUPS][512], st[GROUPS][STUDENTS][512];
    char po_dev[65], po_agg[65], hub_key[65], agg_a[65], addr[32], group[GROUPS][33];
    proc_tmp_path(po, sizeof po, "praktijkopleider");
    proc_tmp_path(hub_dir, sizeof hub_dir, "hub");
    WWJ(&r, po, "climate", "key");
    json_t *doc = doc_of(&r, "climate key");
    memcpy(po_dev, proc_json_str(doc, "device", __LINE__), 65);
    memcpy(po_agg, proc_json_str(doc, "aggregator", __LINE__), 65);
    json_decref(doc);

    struct proc_bg hub;
    /* Today's window is not final for weeks: --climate-live serves it now (the rule that
     * waits is tested in climate_fetch_combines_to_the_learners_days). */
    const char *extra[] = {"--aggregator-b", po_agg,           "--climate-reader",
                           po_dev,           "--climate-live", NULL};
    proc_hub_start_with(&hub, hub_dir, "hub", extra);
    snprintf(addr, sizeof addr, "127.0.0.1:%d", hub.port);
    line_key(&hub, hub_key);
    line_key(&hub, agg_a);

    for (int g = 0; g < GROUPS; g++) {
        char name[32];
        snprintf(name, sizeof name, "coach%d", g);
        proc_tmp_path(coach[g], sizeof coach[g], name);
        WW(&r, coach[g], "init");
        EXPECT_EXIT(r, 0);
        WWJ(&r, coach[g], "group", "create", g ? "Afdeling 3C" : "Afdeling 3B");
        doc = doc_of(&r, "group create");
        memcpy(group[g], proc_json_str(doc, "group", __LINE__), 33);
        json_decref(doc);
        WW(&r, coach[g], "group", "hub", group[g], hub_key, addr);
        EXPECT_EXIT(r, 0);
        WW(&r, coach[g], "group", "climate", group[g], agg_a, po_agg, "--team", "Zonnebloem",
           "--location", "Utrecht");
        EXPECT_EXIT(r, 0);
        char codes[STUDENTS][128];
        for (int s = 0; s < STUDENTS; s++) {
            WWJ(&r, coach[g], "invite", group[g], "--role", "student");
            doc = doc_of(&r, "invite");
            snprintf(codes[s], sizeof codes[s], "%s", proc_json_str(doc, "code", __LINE__));
            json_decref(doc);
        }
        /* The coach's device stays connected and admits the students as they redeem. */
        struct proc_bg watch;
        memset(&watch, 0, sizeof watch);
        watch.fd = -1;
        proc_tmp_path(watch.err_path, sizeof watch.err_path, "watch.err");
        int e = open(watch.err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ASSERT(e >= 0);
        const char *argv[] = {"--data", coach[g], "sync", "--watch", "--quiet", NULL};
        watch.pid = proc_spawn(argv, e, e, -1);
        close(e);
        for (int s = 0; s < STUDENTS; s++) {
            snprintf(name, sizeof name, "g%ds%d", g, s);
            proc_tmp_path(st[g][s], sizeof st[g][s], name);
            snprintf(name, sizeof name, "Student %d.%d", g, s);
            WW(&r, st[g][s], "join", codes[s], "--alias", name, "--quiet");
            EXPECT_EXIT(r, 0);
        }
        proc_bg_stop(&watch);
    }

    /* Each student reflects today: K1 4, 4, 2 and K2 3 in both groups; status done or
     * partly with "geen tijd bij begeleider". */
    static const char *const k1[STUDENTS] = {"K1=4", "K1=4", "K1=2"};
    for (int g = 0; g < GROUPS; g++)
        for (int s = 0; s < STUDENTS; s++) {
            WW(&r, st[g][s], "reflect", group[g], "--status", s ? "partly" : "done",
               s ? "--obstacle" : "--share", s ? "no-supervisor" : "me", "--answer", k1[s],
               "--answer", "K2=3");
            EXPECT_EXIT(r, 0);
            WW(&r, st[g][s], "sync", "--quiet");
            EXPECT_EXIT(r, 0);
        }

    /* The coach loop of group 0: students 1 and 2 raise a signal each; the coach marks the
     * first besproken and signs off student 1; the hub counts them from event headers. */
    char sig[65], member[33];
    for (int s = 1; s <= 2; s++) {
        WWJ(&r, st[0][s], "signal", "raise", group[0], "--category", "werkdruk", "--text", "Druk.");
        doc = doc_of(&r, "signal raise");
        if (s == 1)
            memcpy(sig, proc_json_str(doc, "id", __LINE__), 65);
        json_decref(doc);
        WW(&r, st[0][s], "sync", "--quiet");
        EXPECT_EXIT(r, 0);
    }
    WWJ(&r, st[0][1], "groups");
    doc = doc_of(&r, "groups");
    memcpy(member,
           proc_json_str(json_array_get(json_object_get(doc, "groups"), 0), "member", __LINE__),
           33);
    json_decref(doc);
    WW(&r, coach[0], "sync", "--quiet");
    EXPECT_EXIT(r, 0);
    WW(&r, coach[0], "signal", "resolve", group[0], sig, "--state", "besproken");
    EXPECT_EXIT(r, 0);
    WW(&r, coach[0], "signoff", group[0], member, "W01", "--level", "goed");
    EXPECT_EXIT(r, 0);
    WW(&r, coach[0], "sync", "--quiet");
    EXPECT_EXIT(r, 0);

    /* Each student's device says where its answers go. */
    WWJ(&r, st[1][2], "status");
    doc = doc_of(&r, "status");
    ASSERT_STR_EQ(json_string_value(json_object_get(
                      json_array_get(json_object_get(doc, "groups"), 0), "climate")),
                  "shared");
    json_decref(doc);

    /* The praktijkopleider's tool: aggregator B and combiner. */
    WWJ(&r, po, "climate", "fetch", addr, hub_key);
    doc = doc_of(&r, "climate fetch");
    json_t *team = unit_named(doc, "Zonnebloem"), *loc = unit_named(doc, "Utrecht");
    ASSERT(team != NULL && loc != NULL);
    json_t *w = json_array_get(json_object_get(team, "windows"), 0);
    ASSERT(json_is_true(json_object_get(w, "shown")));
    ASSERT_EQ(proc_json_int(w, "students", __LINE__), 6);
    ASSERT_EQ(proc_json_int(w, "groups", __LINE__), 2);
    ASSERT_EQ(proc_json_int(w, "days", __LINE__), 6);
    json_t *loop = json_object_get(w, "coach_loop");
    ASSERT_EQ(proc_json_int(loop, "signals", __LINE__), 2);
    ASSERT_EQ(proc_json_int(loop, "answered", __LINE__), 1);
    ASSERT_EQ(proc_json_int(loop, "answered_pct", __LINE__), 50);
    ASSERT_EQ(proc_json_int(loop, "signoffs", __LINE__), 1);
    json_decref(doc);
    /* Two hubs at once (here the same one twice): fetched one after the other, their units
     * numbered apart, merged into one region of twice the students. */
    WWJ(&r, po, "climate", "fetch", addr, hub_key, addr, hub_key);
    doc = doc_of(&r, "climate fetch");
    size_t teams = 0, i;
    json_t *u;
    json_array_foreach(json_object_get(doc, "units"), i, u)
    {
        if (!strcmp(json_string_value(json_object_get(u, "name")), "Zonnebloem"))
            teams++;
        if (!strcmp(json_string_value(json_object_get(u, "level")), "region")) {
            json_t *rw = json_array_get(json_object_get(u, "windows"), 0);
            ASSERT(json_is_true(json_object_get(rw, "shown")));
            ASSERT_EQ(proc_json_int(rw, "students", __LINE__), 12);
        }
    }
    ASSERT_EQ(teams, 2);
    json_decref(doc);
    /* Text too: the team is shown, with its participation. */
    WW(&r, po, "--lang", "en", "climate", "fetch", addr, hub_key);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "Zonnebloem");
    EXPECT_HAS(r.out, "6 students from 2 groups");
    EXPECT_HAS(r.out, "coach loop: 2 signals, 1 answered by the coach (50-60%)");
    EXPECT_HAS(r.out, "sign-offs: 1 (0.2 per student)");

    /* A student's device is not a reader: refused, exit 4. */
    WW(&r, st[0][0], "climate", "fetch", addr, hub_key);
    EXPECT_REFUSED(r, EXIT_DENIED, "laat dit apparaat geen klimaat lezen");

    /* A coach names an own key as B: no student device of that group gives answers. */
    WWJ(&r, coach[0], "climate", "key");
    doc = doc_of(&r, "climate key");
    char own[65];
    memcpy(own, proc_json_str(doc, "aggregator", __LINE__), 65);
    json_decref(doc);
    WW(&r, coach[0], "group", "climate", group[0], agg_a, own, "--team", "Zonnebloem", "--location",
       "Utrecht");
    EXPECT_EXIT(r, 0);
    WW(&r, coach[0], "sync", "--quiet");
    EXPECT_EXIT(r, 0);
    for (int s = 0; s < STUDENTS; s++) {
        WW(&r, st[0][s], "sync", "--quiet");
        EXPECT_EXIT(r, 0);
        WW(&r, st[0][s], "reflect", group[0], "--status", "done", "--answer", "K1=5");
        EXPECT_REFUSED(r, EXIT_DENIED, "de groep noemt andere sleutels voor de klimaatvragen");
    }
    WW(&r, st[0][0], "--lang", "en", "status");
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "climate: refused");
    proc_bg_stop(&hub);
}

/* The README's main job (`make run`, cli/run.sh) in a folder of its own: it comes up with
 * the demo group, a new student joins with the code it prints and shares climate, and the
 * praktijkopleider's fetch it prints works. The whole process group stops at the end. */
TEST(main_job_serves_a_group_and_its_climate)
{
    char dir[512], out_path[600], root[PATH_MAX], script[PATH_MAX + 16], port[16];
    proc_tmp_path(dir, sizeof dir, "main");
    ASSERT_EQ(mkdir(dir, 0700), 0);
    snprintf(out_path, sizeof out_path, "%s/run.out", dir);
    snprintf(root, sizeof root, "%s", proc_cli_path());
    for (int up = 0; up < 2; up++) /* <root>/build/wegwijs -> <root> */
        *strrchr(root, '/') = '\0';
    snprintf(script, sizeof script, "%s/cli/run.sh", root);
    snprintf(port, sizeof port, "%d", proc_free_port());
    int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT(out >= 0);
    fflush(stdout);
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        if (setsid() < 0 || chdir(dir) != 0 || in < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 ||
            dup2(out, 2) < 0 || setenv("WEGWIJS_PORT", port, 1) != 0)
            _exit(126);
        proc_child_env();
        execlp("sh", "sh", script, proc_cli_path(), (char *)NULL);
        _exit(127);
    }
    close(out);
    /* The closing text ends with "Stoppen: Ctrl-C."; the demo takes a while under ASan. */
    static char text[16384];
    long deadline = proc_now_ms() + 120000;
    while (!strstr(text, "Stoppen: Ctrl-C.")) {
        ASSERT_LT(proc_now_ms(), deadline);
        int status;
        ASSERT_EQ(waitpid(pid, &status, WNOHANG), 0);
        proc_sleep_ms(100);
        proc_slurp(out_path, text, sizeof text);
    }
    char code[160], group[40], hub[80], *p = strstr(text, " join ");
    ASSERT(p != NULL);
    ASSERT_EQ(sscanf(p, " join %159s", code), 1);
    ASSERT((p = strstr(text, " today ")) != NULL);
    ASSERT_EQ(sscanf(p, " today %39s", group), 1);
    ASSERT((p = strstr(text, "climate fetch ")) != NULL);
    char addr[40];
    ASSERT_EQ(sscanf(p, "climate fetch %39s %79s", addr, hub), 2);

    struct proc_run r;
    char me[600], po[600];
    snprintf(me, sizeof me, "%s/ik", dir);
    snprintf(po, sizeof po, "%s/wegwijs-data/praktijkopleider", dir);
    WW(&r, me, "join", code, "--alias", "Jij", "--quiet");
    EXPECT_EXIT(r, 0);
    WW(&r, me, "reflect", group, "--status", "done", "--answer", "K1=4");
    EXPECT_EXIT(r, 0);
    WW(&r, me, "sync", "--quiet");
    EXPECT_EXIT(r, 0);
    WWJ(&r, me, "status");
    json_t *doc = doc_of(&r, "status");
    ASSERT_STR_EQ(json_string_value(json_object_get(
                      json_array_get(json_object_get(doc, "groups"), 0), "climate")),
                  "shared");
    json_decref(doc);
    WWJ(&r, po, "climate", "fetch", addr, hub);
    doc = doc_of(&r, "climate fetch");
    ASSERT(unit_named(doc, "Zonnebloem") != NULL);
    json_decref(doc);

    kill(-pid, SIGKILL);
    int status;
    ASSERT_EQ(proc_wait_bounded(pid, PROC_STOP_MS, &status), 0);
}
