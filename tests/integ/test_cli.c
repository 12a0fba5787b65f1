/*
 * test_cli.c - the `wegwijs` command as people use it: the real binary, run with fork and
 * execv, its stdout and stderr captured in files under the test's folder.
 *
 * The binary is found next to the test binary ($BUILD/tests/unit_tests -> $BUILD/wegwijs),
 * so `make test-plain` tests build/wegwijs and `make test-san` tests build-san/wegwijs;
 * env WW_BUILD overrides. Every run is checked to have ended by a normal exit (never a
 * signal), with the expected status, and its output is checked for real content.
 */
#include "proc.h"
#include "runner.h"
#include "wegwijs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ARGS 64
#define OUT_MAX  (256 * 1024)
#define ERR_MAX  (16 * 1024)

struct run {
    int exited; /* ended by exit(), not by a signal */
    int code;   /* exit status, or the signal number */
    char *out;  /* stdout, NUL-terminated (static storage, overwritten by the next run) */
    char *err;  /* stderr, likewise */
};

static char out_buf[OUT_MAX + 1], err_buf[ERR_MAX + 1];

/* Runs the command with argv (NULL-terminated, without the program name). env_kv, when not
 * NULL, is lines "NAME=value" (set) or "NAME" (unset) for the child's environment, after
 * proc_child_env. */
static void run_argv(struct run *r, const char *env_kv, const char *const *argv)
{
    char out_path[512], err_path[512];
    proc_tmp_path(out_path, sizeof out_path, "cli.out");
    proc_tmp_path(err_path, sizeof err_path, "cli.err");
    const char *args[MAX_ARGS + 2];
    size_t n = 0;
    args[n++] = proc_cli_path();
    while (argv[n - 1] && n < MAX_ARGS + 1) {
        args[n] = argv[n - 1];
        n++;
    }
    args[n] = NULL;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        ww_test_fail(__FILE__, __LINE__, "fork: %s", strerror(errno));
    if (pid == 0) {
        int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int i = open("/dev/null", O_RDONLY); /* never the terminal `make test` runs in */
        if (o < 0 || e < 0 || i < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0 || dup2(i, 0) < 0)
            _exit(126);
        proc_child_env();
        for (const char *kv = env_kv; kv && *kv;) {
            char name[64], value[1024];
            size_t len = strcspn(kv, "\n");
            const char *eq = memchr(kv, '=', len);
            size_t n_name = eq ? (size_t)(eq - kv) : 0;
            if (!eq) { /* a bare NAME: unset */
                n_name = len;
                eq = kv + len;
            }
            if (n_name >= sizeof name || (eq < kv + len && len - n_name - 1 >= sizeof value))
                _exit(126);
            memcpy(name, kv, n_name);
            name[n_name] = '\0';
            if (eq == kv + len) {
                unsetenv(name);
            } else {
                memcpy(value, eq + 1, len - n_name - 1);
                value[len - n_name - 1] = '\0';
                if (setenv(name, value, 1) != 0)
                    _exit(126);
            }
            kv += len + (kv[len] == '\n');
        }
        execv(args[0], (char *const *)args);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            ww_test_fail(__FILE__, __LINE__, "waitpid: %s", strerror(errno));
    }
    r->exited = WIFEXITED(status);
    r->code = r->exited ? WEXITSTATUS(status) : WIFSIGNALED(status) ? WTERMSIG(status) : -1;
    proc_slurp(out_path, out_buf, OUT_MAX);
    proc_slurp(err_path, err_buf, ERR_MAX);
    r->out = out_buf;
    r->err = err_buf;
    if (r->exited && r->code == 127)
        ww_test_fail(__FILE__, __LINE__, "cannot run %s", args[0]);
}

/* run(&r, "--data", dir, "groups", NULL) */
static void run(struct run *r, ...)
{
    const char *argv[MAX_ARGS + 1];
    size_t n = 0;
    va_list ap;
    va_start(ap, r);
    const char *a;
    while ((a = va_arg(ap, const char *)) && n < MAX_ARGS)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    run_argv(r, NULL, argv);
}

static void run_env(struct run *r, const char *env_kv, ...)
{
    const char *argv[MAX_ARGS + 1];
    size_t n = 0;
    va_list ap;
    va_start(ap, env_kv);
    const char *a;
    while ((a = va_arg(ap, const char *)) && n < MAX_ARGS)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    run_argv(r, env_kv, argv);
}

/* A failed run: normal exit with `want`, one "wegwijs: " line on stderr containing needle. */
static void expect_error(const struct run *r, int want, const char *needle, int line)
{
    if (!r->exited)
        ww_test_fail(__FILE__, line, "killed by signal %d; stderr: %s", r->code, r->err);
    if (r->code != want)
        ww_test_fail(__FILE__, line, "exit %d, want %d; stderr: %s", r->code, want, r->err);
    if (strncmp(r->err, "wegwijs: ", 9) != 0)
        ww_test_fail(__FILE__, line, "stderr does not start with \"wegwijs: \": %s", r->err);
    if (needle && !strstr(r->err, needle))
        ww_test_fail(__FILE__, line, "\"%s\" not in stderr: %s", needle, r->err);
}

/* Copies the first line of s (without its newline) into out. */
static void first_line(const char *s, char *out, size_t cap)
{
    size_t n = strcspn(s, "\n");
    if (n >= cap)
        ww_test_fail(__FILE__, __LINE__, "line too long: %.80s", s);
    memcpy(out, s, n);
    out[n] = '\0';
}

static int is_hex(const char *s, size_t len)
{
    if (strlen(s) != len)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

static void write_bytes(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ASSERT(f != NULL);
    ASSERT_EQ(fwrite(data, 1, len, f), len);
    ASSERT_EQ(fclose(f), 0);
}

static size_t read_bytes(const char *path, unsigned char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    ASSERT(f != NULL);
    size_t n = fread(buf, 1, cap, f);
    ASSERT(feof(f));
    fclose(f);
    return n;
}

/* ---- A coach and a student -------------------------------------------------------------- */

struct pair {
    char coach[512], student[512];
    char coach_key[65], student_key[65];
    char group[33], member[33];
    char recovery[80]; /* the recovery code group create printed */
};

/* Two devices; the coach creates a group and adds the student by the student's device key;
 * a bundle brings the group to the student. */
static void setup_pair(struct pair *p)
{
    struct run r;
    proc_tmp_path(p->coach, sizeof p->coach, "coach");
    proc_tmp_path(p->student, sizeof p->student, "student");
    run(&r, "--data", p->coach, "init", NULL);
    EXPECT_EXIT(r, 0);
    first_line(r.out, p->coach_key, sizeof p->coach_key);
    ASSERT(is_hex(p->coach_key, 64));
    run(&r, "--data", p->student, "init", NULL);
    EXPECT_EXIT(r, 0);
    first_line(r.out, p->student_key, sizeof p->student_key);
    ASSERT(is_hex(p->student_key, 64));
    ASSERT(strcmp(p->coach_key, p->student_key) != 0);

    run(&r, "--data", p->coach, "group", "create", "Afdeling 3B", "--alias", "Coach Anja", NULL);
    EXPECT_EXIT(r, 0);
    first_line(r.out, p->group, sizeof p->group);
    ASSERT(is_hex(p->group, 32));
    const char *code = strstr(r.out, "herstelcode: ");
    ASSERT(code != NULL);
    first_line(code + strlen("herstelcode: "), p->recovery, sizeof p->recovery);
    ASSERT_EQ(strlen(p->recovery), 71);
    EXPECT_HAS(r.err, "niet nog eens getoond");
    run(&r, "--data", p->coach, "member", "add", p->group, "--role", "student", "--alias", "Sam",
        "--year", "2", "--track", "bbl", "--device", p->student_key, NULL);
    EXPECT_EXIT(r, 0);
    first_line(r.out, p->member, sizeof p->member);
    ASSERT(is_hex(p->member, 32));

    char bundle[512];
    proc_tmp_path(bundle, sizeof bundle, "to-student.wwb");
    run(&r, "--data", p->coach, "bundle", "export", p->group, bundle, NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", p->student, "bundle", "import", bundle, NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "geweigerd: 0");
    EXPECT_LACKS(r.out, "nieuw: 0\n");
}

/* ---- Tests -------------------------------------------------------------------------------- */

TEST(cli_init_and_id)
{
    struct run r;
    char dir[512], key[80], again[80];
    proc_tmp_path(dir, sizeof dir, "device/nested");
    run(&r, "--data", dir, "id", NULL);
    expect_error(&r, EXIT_NOTFOUND, "wegwijs init", __LINE__);

    run(&r, "--data", dir, "init", NULL);
    EXPECT_EXIT(r, 0);
    first_line(r.out, key, sizeof key);
    ASSERT(is_hex(key, 64));
    run(&r, "--data", dir, "id", NULL);
    EXPECT_EXIT(r, 0);
    first_line(r.out, again, sizeof again);
    ASSERT_STR_EQ(again, key);
    /* init is idempotent: the same device, the same key. */
    run(&r, "--data", dir, "init", NULL);
    EXPECT_EXIT(r, 0);
    first_line(r.out, again, sizeof again);
    ASSERT_STR_EQ(again, key);
    /* WEGWIJS_HOME names the folder when --data does not. */
    char env[600];
    snprintf(env, sizeof env, "WEGWIJS_HOME=%s", dir);
    run_env(&r, env, "id", NULL);
    EXPECT_EXIT(r, 0);
    first_line(r.out, again, sizeof again);
    ASSERT_STR_EQ(again, key);
    /* The identity file is private to its owner. */
    char idfile[600];
    snprintf(idfile, sizeof idfile, "%s/identity.key", dir);
    struct stat st;
    ASSERT_EQ(stat(idfile, &st), 0);
    ASSERT_EQ(st.st_mode & 077, 0);
}

TEST(cli_two_devices_through_bundles)
{
    struct pair p;
    struct run r;
    setup_pair(&p);

    /* The student sees the group, its role and today's challenge. */
    run(&r, "--data", p.student, "groups", NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, p.group);
    EXPECT_HAS(r.out, "Afdeling 3B  student");
    run(&r, "--data", p.student, "today", p.group, NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "Datum: ");
    EXPECT_HAS(r.out, "Challenge ");
    EXPECT_HAS(r.out, "CanMEDS-rol: ");
    EXPECT_HAS(r.out, "Ingepland door de coach: nee");
    EXPECT_HAS(r.out, "  K1  Ik voelde me vandaag vrij om vragen te stellen");
    EXPECT_HAS(r.out, "  K2  ");
    run(&r, "--data", p.student, "members", p.group, NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "student  Sam  jaar 2  bbl");
    EXPECT_HAS(r.out, p.student_key);

    /* The student reflects, shared with the coach, answers in any order. */
    const char *text = "Ik vroeg bij de overdracht wat SBAR betekent.";
    run(&r, "--data", p.student, "reflect", p.group, "--status", "deels", "--obstacle",
        "andere-taken", "--situatie", text, "--reflectie", "Vragen mag.", "--share", "coach",
        "--answer", "K2=5", "--answer", "k1=4", "--answer", "K1=4", NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "opgeslagen (coach)");
    char hash[80];
    const char *nl = strchr(r.out, '\n');
    ASSERT(nl != NULL);
    first_line(nl + 1, hash, sizeof hash);
    ASSERT(is_hex(hash, 64));
    run(&r, "--data", p.student, "reflections", p.group, NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, text);
    EXPECT_HAS(r.out, "klimaat: K1=4 K2=5");

    /* Back to the coach. */
    char bundle[512];
    proc_tmp_path(bundle, sizeof bundle, "to-coach.wwb");
    run(&r, "--data", p.student, "bundle", "export", p.group, bundle, NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", p.coach, "bundle", "import", bundle, NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "geweigerd: 0");
    run(&r, "--data", p.coach, "reflections", p.group, NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, text);
    EXPECT_HAS(r.out, "Vragen mag.");
    EXPECT_HAS(r.out, p.member);
    EXPECT_HAS(r.out, "  Sam  deels  coach  ");
    EXPECT_HAS(r.out, hash);
    EXPECT_HAS(r.out, "obstakels: andere taken gingen voor");
    /* Climate answers go to the aggregator only: the coach never sees them. */
    EXPECT_LACKS(r.out, "K1=4");
    /* The same bundle again changes nothing. */
    run(&r, "--data", p.coach, "bundle", "import", bundle, NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "nieuw: 0\n");

    /* The coach reacts and signs off; the member listing by member works too. */
    run(&r, "--data", p.coach, "react", p.group, hash, "Mooi dat je het vroeg!", NULL);
    EXPECT_EXIT(r, 0);
    /* The reaction's id is the last line printed: withdrawn and posted again. */
    char reaction[65] = "";
    for (const char *q = r.out; *q; q = strchr(q, '\n') ? strchr(q, '\n') + 1 : "")
        if (strspn(q, "0123456789abcdef") == 64)
            memcpy(reaction, q, 64);
    ASSERT_EQ(strlen(reaction), 64);
    run(&r, "--data", p.student, "unreact", p.group, reaction, NULL);
    EXPECT_EXIT(r, EXIT_NOTFOUND); /* not among the student's own */
    run(&r, "--data", p.coach, "unreact", p.group, reaction, NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", p.coach, "reactions", p.group, hash, NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_LACKS(r.out, "Mooi dat je het vroeg!");
    run(&r, "--data", p.coach, "react", p.group, hash, "Mooi dat je het vroeg!", NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", p.coach, "reactions", p.group, hash, NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "Mooi dat je het vroeg!");
    run(&r, "--data", p.coach, "signoff", p.group, p.member, "W03", "--level", "voldoende",
        "--date", "2026-11-20", "--note", "Goed gedaan", NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", p.coach, "signoffs", p.group, NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "2026-11-20  ");
    EXPECT_HAS(r.out, "  W03  voldoende  ");
    EXPECT_HAS(r.out, "notitie: Goed gedaan");
}

TEST(cli_private_reflection_and_signal)
{
    struct pair p;
    struct run r;
    setup_pair(&p);
    run(&r, "--data", p.student, "reflect", p.group, "--status", "niet", "--date", "2026-11-20",
        "--situatie", "Alleen voor mij.", NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "(privé)");
    run(&r, "--data", p.student, "signal", "raise", p.group, "--category", "werkdruk", "--text",
        "Te weinig tijd voor uitleg.", NULL);
    EXPECT_EXIT(r, 0);
    char signal[80];
    first_line(r.out, signal, sizeof signal);
    ASSERT(is_hex(signal, 64));

    char bundle[512];
    proc_tmp_path(bundle, sizeof bundle, "to-coach.wwb");
    run(&r, "--data", p.student, "bundle", "export", p.group, bundle, NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", p.coach, "bundle", "import", bundle, NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", p.coach, "reflections", p.group, p.member, NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "2026-11-20  ");
    EXPECT_HAS(r.out, "(privé)");
    EXPECT_LACKS(r.out, "Alleen voor mij.");
    run(&r, "--data", p.coach, "signals", p.group, NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, signal);
    EXPECT_HAS(r.out, "werkdruk  open");
    EXPECT_HAS(r.out, "Te weinig tijd voor uitleg.");
    run(&r, "--data", p.coach, "signal", "resolve", p.group, signal, "--state", "opgelost",
        "--note", "Besproken met de afdeling.", NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", p.coach, "signals", p.group, NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "werkdruk  opgelost");
    /* Roles are the library's to enforce; the command reports the refusal. */
    run(&r, "--data", p.coach, "signal", "raise", p.group, "--category", "overig", "--text", "x",
        NULL);
    expect_error(&r, EXIT_DENIED, "deze rol mag dat niet", __LINE__);
}

TEST(cli_fifth_student_refused)
{
    struct run r;
    char coach[512], group[40];
    proc_tmp_path(coach, sizeof coach, "coach");
    run(&r, "--data", coach, "init", NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", coach, "group", "create", "Vol", NULL);
    EXPECT_EXIT(r, 0);
    first_line(r.out, group, sizeof group);
    for (int i = 0; i < 5; i++) {
        char dir[512], name[32], key[80], alias[16];
        snprintf(name, sizeof name, "student%d", i + 1);
        snprintf(alias, sizeof alias, "S%d", i + 1);
        proc_tmp_path(dir, sizeof dir, name);
        run(&r, "--data", dir, "init", NULL);
        EXPECT_EXIT(r, 0);
        first_line(r.out, key, sizeof key);
        run(&r, "--data", coach, "member", "add", group, "--role", "student", "--alias", alias,
            "--device", key, NULL);
        if (i < 4) {
            EXPECT_EXIT(r, 0);
            continue;
        }
        expect_error(&r, EXIT_CONFLICT, "de groep heeft al vier studenten", __LINE__);
        ASSERT_EQ(r.out[0], '\0');
    }
    run(&r, "--data", coach, "members", group, NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "  S4  ");
    EXPECT_LACKS(r.out, "  S5  ");
}

TEST(cli_bad_arguments)
{
    struct pair p;
    struct run r;
    setup_pair(&p);
    const char *g = p.group;
    static char big[420], exact[401], long_arg[100001];
    memset(big, 'a', sizeof big - 1);
    memset(exact, 'b', sizeof exact - 1);
    memset(long_arg, 'f', sizeof long_arg - 1);

    run(&r, "--data", p.coach, "members", "xyz", NULL);
    expect_error(&r, EXIT_INPUT, "ongeldige groep-id 'xyz'", __LINE__);
    run(&r, "--data", p.coach, "members", "0123456789abcdef0123456789abcdeg", NULL);
    expect_error(&r, EXIT_INPUT, "ongeldige groep-id", __LINE__);
    run(&r, "--data", p.coach, "members", long_arg, NULL);
    expect_error(&r, EXIT_INPUT, "...' (verwacht 32", __LINE__);
    run(&r, "--data", p.coach, "members", "00000000000000000000000000000000", NULL);
    expect_error(&r, EXIT_NOTFOUND, "onbekende groep", __LINE__);
    run(&r, "--data", p.coach, "day", g, "2026-02-30", NULL);
    expect_error(&r, EXIT_INPUT, "ongeldige datum '2026-02-30'", __LINE__);
    run(&r, "--data", p.coach, "day", g, "2026-2-3", NULL);
    expect_error(&r, EXIT_INPUT, "ongeldige datum", __LINE__);
    run(&r, "--data", p.coach, "frobnicate", NULL);
    expect_error(&r, EXIT_USAGE, "onbekende opdracht 'frobnicate'", __LINE__);
    run(&r, "--data", p.coach, "group", "destroy", NULL);
    expect_error(&r, EXIT_USAGE, "onbekende opdracht 'group destroy'", __LINE__);
    run(&r, "--data", p.coach, "member", "add", g, "--role", "student", "--alias", "X", "--year",
        "9", "--device", p.coach_key, NULL);
    expect_error(&r, EXIT_INPUT, "ongeldige waarde '9' voor --year", __LINE__);
    run(&r, "--data", p.coach, "member", "add", g, "--role", "student", "--alias", "X", "--year",
        "99999999999999999999999", "--device", p.coach_key, NULL);
    expect_error(&r, EXIT_INPUT, "--year", __LINE__);
    run(&r, "--data", p.coach, "member", "add", g, "--role", "student", "--alias", "X", "--year",
        " 2", "--device", p.coach_key, NULL);
    expect_error(&r, EXIT_INPUT, "--year", __LINE__);
    run(&r, "--data", p.coach, "member", "add", g, "--role", "decaan", "--alias", "X", "--device",
        p.coach_key, NULL);
    expect_error(&r, EXIT_INPUT, "kies uit: student, ouderejaars, coach", __LINE__);
    run(&r, "--data", p.coach, "member", "add", g, "--role", "student", "--alias", "X", "--device",
        "abcd", NULL);
    expect_error(&r, EXIT_INPUT, "ongeldige apparaatsleutel 'abcd'", __LINE__);
    run(&r, "--data", p.coach, "member", "add", g, "--role", "student", "--alias", NULL);
    expect_error(&r, EXIT_USAGE, "'--alias' heeft een waarde nodig", __LINE__);
    run(&r, "--data", p.coach, "members", g, "--verbose", NULL);
    expect_error(&r, EXIT_USAGE, "onbekende optie '--verbose'", __LINE__);
    run(&r, "--data", p.coach, "react", g, "beef", "tekst", NULL);
    expect_error(&r, EXIT_INPUT, "ongeldige gebeurtenis-id 'beef'", __LINE__);
    run(&r, "--lang", "fr", "--data", p.coach, "groups", NULL);
    expect_error(&r, EXIT_INPUT, "onbekende taal 'fr'", __LINE__);
    run(&r, "--data", "", "groups", NULL);
    expect_error(&r, EXIT_INPUT, NULL, __LINE__);
    run(&r, "--data", NULL);
    expect_error(&r, EXIT_USAGE, NULL, __LINE__);

    /* Text limits and UTF-8 are the library's; 400 bytes of situatie fit, 419 do not. */
    run(&r, "--data", p.student, "reflect", g, "--status", "gedaan", "--situatie", big, NULL);
    expect_error(&r, EXIT_INPUT, "invoer is te groot", __LINE__);
    run(&r, "--data", p.student, "reflect", g, "--status", "gedaan", "--situatie", "\xff\xfe",
        NULL);
    expect_error(&r, EXIT_INPUT, "UTF-8", __LINE__);
    run(&r, "--data", p.student, "reflect", g, "--status", "gedaan", "--situatie", exact, NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", p.student, "reflect", g, "--status", "klaar", NULL);
    expect_error(&r, EXIT_INPUT, "kies uit: gedaan, deels, niet", __LINE__);
    run(&r, "--data", p.student, "reflect", g, "--status", "gedaan", "--obstacle", "durfde-niet",
        NULL);
    expect_error(&r, EXIT_INPUT, "obstakels", __LINE__);
    run(&r, "--data", p.student, "reflect", g, "--status", "deels", "--answer", "K1=6", NULL);
    expect_error(&r, EXIT_INPUT, "ongeldig antwoord 'K1=6'", __LINE__);
    run(&r, "--data", p.student, "reflect", g, "--status", "deels", "--answer", "K1=2", "--answer",
        "K1=3", NULL);
    expect_error(&r, EXIT_INPUT, "vraag K1", __LINE__);
    run(&r, "--data", p.student, "reflect", g, "--status", "deels", "--answer", "X", "--answer",
        "=", "--answer", "K1=", NULL);
    expect_error(&r, EXIT_INPUT, "ongeldig antwoord 'X'", __LINE__);
    run(&r, "--data", p.student, "reflect", g, "--status", "deels", "--answer", "K1=1", "--answer",
        "K2=1", "--answer", "R1=1", "--answer", "R2=1", "--answer", "R3=1", "--answer", "R4=1",
        "--answer", "R5=1", "--answer", "R6=1", "--answer", "R7=nvt", NULL);
    expect_error(&r, EXIT_INPUT, "hoogstens 8", __LINE__);
    run(&r, "--data", p.student, "dayoff", g, "9999-99-99", NULL);
    expect_error(&r, EXIT_INPUT, "ongeldige datum", __LINE__);
    run(&r, "--data", p.coach, "challenge", "define", g, "--code", "C1", "--title", "T",
        "--description", "D", "--canmeds", "8", "--weeks", "1-2", NULL);
    expect_error(&r, EXIT_INPUT, "--canmeds", __LINE__);
    run(&r, "--data", p.coach, "challenge", "define", g, "--code", "C1", "--title", "T",
        "--description", "D", "--canmeds", "zorgverlener", "--weeks", "5-2", NULL);
    expect_error(&r, EXIT_INPUT, "ongeldige weken '5-2'", __LINE__);
    run(&r, "--data", p.coach, "challenge", "schedule", g, "2026-11-23", "GEENCODE", NULL);
    expect_error(&r, EXIT_NOTFOUND, "niet gevonden", __LINE__);

    /* Nothing above changed the device: the student's exact-length reflection is the only
     * reflection. */
    run(&r, "--data", p.student, "reflections", g, NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, exact);
    EXPECT_LACKS(r.out, "aaaaaaaaaa");
}

TEST(cli_valid_challenge_and_day)
{
    struct pair p;
    struct run r;
    setup_pair(&p);
    run(&r, "--data", p.coach, "challenge", "define", p.group, "--code", "EIG1", "--title",
        "Eigen challenge", "--description", "Iets dat de coach bedacht.", "--canmeds",
        "communicator", "--weeks", "1-52", "--signoff", "werkbegeleider", NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", p.coach, "challenge", "schedule", p.group, "2026-12-01", "EIG1", NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", p.coach, "day", p.group, "2026-12-01", NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "Datum: 2026-12-01");
    EXPECT_HAS(r.out, "Challenge EIG1: Eigen challenge");
    EXPECT_HAS(r.out, "CanMEDS-rol: Communicator");
    EXPECT_HAS(r.out, "Ingepland door de coach: ja");
    EXPECT_HAS(r.out, "Aftekenen door: werkbegeleider");
    run(&r, "--data", p.coach, "library", NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "W01  weken 1-2    Wie werkt er vandaag?");
    EXPECT_HAS(r.out, "L01  weken 5-52   Overdragen met SBAR");
    run(&r, "--data", p.student, "dayoff", p.group, "2026-11-20", NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", p.student, "day", p.group, "2026-11-20", NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "Geen dienst");
    run(&r, "--data", p.student, "dayoff", p.group, "2026-11-20", "--undo", NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", p.student, "day", p.group, "2026-11-20", NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_LACKS(r.out, "Geen dienst");
    run(&r, "--data", p.coach, "export", p.group, p.member, NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "\"format\":\"wegwijs-export-v1\"");
    EXPECT_HAS(r.out, p.member);
}

/* A group's bundle from the coach, for the hostile-file test to take apart. */
static size_t coach_bundle(struct pair *p, unsigned char *buf, size_t cap)
{
    char bundle[512];
    struct run r;
    proc_tmp_path(bundle, sizeof bundle, "good.wwb");
    run(&r, "--data", p->coach, "bundle", "export", p->group, bundle, NULL);
    EXPECT_EXIT(r, 0);
    return read_bytes(bundle, buf, cap);
}

TEST(cli_hostile_bundles)
{
    struct pair p;
    struct run r;
    setup_pair(&p);
    static unsigned char good[1 << 20], bad[(1 << 20) + 64];
    size_t n = coach_bundle(&p, good, sizeof good);
    ASSERT_GT(n, 8 + 4);
    ASSERT_MEM_EQ(good, "WWBNDL1\n", 8);
    /* Every record's length is in range and the records fill the file exactly. */
    size_t pos = 8, records = 0;
    while (pos < n) {
        ASSERT_LE(pos + 4, n);
        size_t len = (size_t)good[pos] << 24 | (size_t)good[pos + 1] << 16 |
                     (size_t)good[pos + 2] << 8 | good[pos + 3];
        ASSERT_GT(len, 0);
        ASSERT_LE(len, 65536);
        pos += 4 + len;
        records++;
    }
    ASSERT_EQ(pos, n);
    ASSERT_GE(records, 3);

    /* A fresh device that has never seen the group. */
    char fresh[512], path[512];
    proc_tmp_path(fresh, sizeof fresh, "fresh");
    run(&r, "--data", fresh, "init", NULL);
    EXPECT_EXIT(r, 0);
    proc_tmp_path(path, sizeof path, "bad.wwb");

    memcpy(bad, good, n);
    bad[0] = 'X';
    write_bytes(path, bad, n);
    run(&r, "--data", fresh, "bundle", "import", path, NULL);
    expect_error(&r, EXIT_INPUT, "geen Wegwijs-bundel", __LINE__);

    write_bytes(path, good, 5);
    run(&r, "--data", fresh, "bundle", "import", path, NULL);
    expect_error(&r, EXIT_INPUT, "geen Wegwijs-bundel", __LINE__);

    /* Whole records first, then one cut short: nothing at all may be applied. */
    write_bytes(path, good, n - 1);
    run(&r, "--data", fresh, "bundle", "import", path, NULL);
    expect_error(&r, EXIT_INPUT, "afgebroken", __LINE__);

    /* A length beyond the end of the file. */
    memcpy(bad, good, n);
    memcpy(bad + n,
           "\x00\x00\x10\x00"
           "abc",
           7);
    write_bytes(path, bad, n + 7);
    run(&r, "--data", fresh, "bundle", "import", path, NULL);
    expect_error(&r, EXIT_INPUT, "afgebroken", __LINE__);

    /* 1 GiB claimed by the last record. */
    memcpy(bad + n,
           "\x40\x00\x00\x00"
           "abcdefgh",
           12);
    write_bytes(path, bad, n + 12);
    run(&r, "--data", fresh, "bundle", "import", path, NULL);
    expect_error(&r, EXIT_INPUT, "ongeldige lengte (1073741824 bytes)", __LINE__);

    /* A zero length, and a trailing half length field. */
    memcpy(bad + n, "\x00\x00\x00\x00", 4);
    write_bytes(path, bad, n + 4);
    run(&r, "--data", fresh, "bundle", "import", path, NULL);
    expect_error(&r, EXIT_INPUT, "ongeldige lengte (0 bytes)", __LINE__);
    write_bytes(path, bad, n + 2);
    run(&r, "--data", fresh, "bundle", "import", path, NULL);
    expect_error(&r, EXIT_INPUT, "afgebroken", __LINE__);

    /* Not a file at all. */
    run(&r, "--data", fresh, "bundle", "import", ww_test_tmpdir(), NULL);
    expect_error(&r, EXIT_INPUT, "geen gewoon bestand", __LINE__);
    run(&r, "--data", fresh, "bundle", "import", "/nonexistent/x.wwb", NULL);
    expect_error(&r, EXIT_NOTFOUND, "kan bundel", __LINE__);

    /* None of that reached the store. */
    run(&r, "--data", fresh, "groups", NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "(geen groepen)");

    /* Well framed, but the events themselves are forged: refused by the library. */
    memcpy(bad, good, n);
    bad[n - 1] ^= 0x01;
    bad[20] ^= 0x80;
    write_bytes(path, bad, n);
    run(&r, "--data", fresh, "bundle", "import", path, NULL);
    expect_error(&r, EXIT_INPUT, "geweigerd", __LINE__);
    EXPECT_LACKS(r.out, "geweigerd: 0\n");

    /* The untouched bundle still goes in whole. */
    write_bytes(path, good, n);
    run(&r, "--data", fresh, "bundle", "import", path, NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", fresh, "groups", NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, p.group);
    EXPECT_HAS(r.out, "geen lid");
}

TEST(cli_english)
{
    struct run r;
    char dir[512];
    proc_tmp_path(dir, sizeof dir, "nothing-here");
    run(&r, NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "Gebruik: wegwijs");
    run(&r, "--lang", "en", "help", NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "Usage: wegwijs");
    EXPECT_LACKS(r.out, "Gebruik");
    run(&r, "--lang", "en", "--data", dir, "frobnicate", NULL);
    expect_error(&r, EXIT_USAGE, "unknown command 'frobnicate'", __LINE__);
    run_env(&r, "WEGWIJS_LANG=en", "--data", dir, "id", NULL);
    expect_error(&r, EXIT_NOTFOUND, "no device in", __LINE__);
    run(&r, "--data", dir, "--lang", "en", "day", "00", "2026-01-01", NULL);
    expect_error(&r, EXIT_INPUT, "invalid group id '00'", __LINE__);
    /* --lang beats the environment. */
    run_env(&r, "WEGWIJS_LANG=en", "--lang", "nl", "--data", dir, "id", NULL);
    expect_error(&r, EXIT_NOTFOUND, "geen apparaat in", __LINE__);

    /* Library errors in English too. */
    run(&r, "--data", dir, "init", NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--lang", "en", "--data", dir, "group", "create", "", NULL);
    expect_error(&r, EXIT_INPUT, "cannot create the group: invalid argument", __LINE__);
    run(&r, "--lang", "en", "--data", dir, "group", "create", "Ward 4", NULL);
    EXPECT_EXIT(r, 0);
    char group[40];
    first_line(r.out, group, sizeof group);
    run(&r, "--lang", "en", "--data", dir, "today", group, NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "Date: ");
    EXPECT_HAS(r.out, "Scheduled by the coach: no");
    EXPECT_HAS(r.out, "  K1  Today I felt free to ask questions");
    run(&r, "--lang", "en", "--data", dir, "reflect", group, "--status", "done", NULL);
    expect_error(&r, EXIT_DENIED, "cannot save the reflection: this role may not do that",
                 __LINE__);
}

TEST(cli_demo_twice)
{
    struct run r;
    char dir[512];
    proc_tmp_path(dir, sizeof dir, "demo-data");
    run(&r, "--data", dir, "demo", NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "== Stap 1: vier apparaten");
    EXPECT_HAS(r.out, "nieuwe groep 'Wegwijs demo'");
    EXPECT_HAS(r.out, "Sam: gereflecteerd (gedaan, groep)");
    EXPECT_HAS(r.out, "Noor: gereflecteerd, maar privé");
    EXPECT_HAS(r.out, "begeleiding van Daan (open)");
    EXPECT_HAS(r.out, "afgetekend voor");
    /* Noor's private text: readable on her own device, on no other. */
    EXPECT_HAS(r.out, "  student2: Ik vond de dienst zwaar");
    EXPECT_HAS(r.out, "  coach: (privé)");
    EXPECT_HAS(r.out, "  student1: (privé)");
    EXPECT_HAS(r.out, "  senior: (privé)");
    ASSERT_EQ(r.err[0], '\0');

    run(&r, "--lang", "en", "--data", dir, "demo", NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "existing group 'Wegwijs demo'");
    EXPECT_HAS(r.out, "already a member: Sam");
    EXPECT_HAS(r.out, "Sam: reflected (done, group)");
    EXPECT_HAS(r.out, "  coach: (private)");
    ASSERT_EQ(r.err[0], '\0');

    /* The demo's devices are ordinary devices. */
    char coach[600];
    snprintf(coach, sizeof coach, "%s/coach", dir);
    run(&r, "--data", coach, "groups", NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "Wegwijs demo  coach, eigenaar");
}

/* The documented exit status for representative bad input to every verb; none of it
 * changes the device. */
TEST(cli_exit_codes)
{
    struct pair p;
    struct run r;
    setup_pair(&p);
    const char *g = p.group, *unknown = "0123456789abcdef0123456789abcdef";
    const char *ev = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    static char big[8192];
    memset(big, 'x', sizeof big - 1);
    char before[3][4096];
    const char *views[3] = {"reflections", "signals", "reactions"};
    for (int k = 0; k < 3; k++) {
        run(&r, "--data", p.student, views[k], g, NULL);
        EXPECT_EXIT(r, 0);
        snprintf(before[k], sizeof before[k], "%s", r.out);
    }

    /* Missing arguments: a usage error for every verb that takes one. */
    static const char *const need_args[][4] = {
        {"members"},
        {"today"},
        {"day", "G"},
        {"dayoff"},
        {"reflect"},
        {"reflections"},
        {"react", "G"},
        {"reactions"},
        {"unreact", "G"},
        {"signals"},
        {"signoffs"},
        {"export", "G"},
        {"erase", "G"},
        {"sync"},
        {"group"},
        {"member", "add"},
        {"member", "remove", "G"},
        {"device", "add", "G"},
        {"challenge", "schedule", "G"},
        {"signal", "raise"},
        {"signal", "resolve", "G"},
        {"signoff", "G"},
        {"bundle", "export", "G"},
        {"bundle", "import"},
    };
    for (size_t i = 0; i < sizeof need_args / sizeof need_args[0]; i++) {
        const char *argv[8] = {"--data", p.student};
        size_t n = 2;
        for (size_t k = 0; k < 4 && need_args[i][k]; k++)
            argv[n++] = !strcmp(need_args[i][k], "G") ? g : need_args[i][k];
        argv[n] = NULL;
        run_argv(&r, NULL, argv);
        if (r.code != EXIT_USAGE)
            ww_test_fail(__FILE__, __LINE__, "%s: exit %d, want %d; stderr: %s", need_args[i][0],
                         r.code, EXIT_USAGE, r.err);
        expect_error(&r, EXIT_USAGE, "wegwijs help", __LINE__);
    }
    /* A required option left out: a usage error that names it. */
    run(&r, "--data", p.coach, "member", "add", g, "--role", "student", "--device", p.coach_key,
        NULL);
    expect_error(&r, EXIT_USAGE, "'--alias'", __LINE__);
    /* reflect without --status reads its answers; none came (stdin is empty here). */
    run(&r, "--data", p.student, "reflect", g, NULL);
    expect_error(&r, EXIT_INPUT, "antwoorden", __LINE__);

    /* A well-formed group id this device does not know: not found, for every verb. */
    static const char *const by_group[][3] = {
        {"members"},   {"today"},   {"dayoff"},   {"reflections"},
        {"reactions"}, {"signals"}, {"signoffs"}, {"day", "2026-11-20"},
    };
    for (size_t i = 0; i < sizeof by_group / sizeof by_group[0]; i++) {
        run(&r, "--data", p.student, by_group[i][0], unknown, by_group[i][1], NULL);
        expect_error(&r, EXIT_NOTFOUND, "onbekende groep", __LINE__);
        EXPECT_HAS(r.err, "wegwijs groups");
    }
    run(&r, "--data", p.student, "reflect", unknown, "--status", "gedaan", NULL);
    expect_error(&r, EXIT_NOTFOUND, "onbekende groep", __LINE__);
    run(&r, "--data", p.student, "signal", "raise", unknown, "--category", "werkdruk", "--text",
        "t", NULL);
    expect_error(&r, EXIT_NOTFOUND, "onbekende groep", __LINE__);
    run(&r, "--data", p.coach, "member", "remove", unknown, p.member, NULL);
    expect_error(&r, EXIT_NOTFOUND, "onbekende groep", __LINE__);
    run(&r, "--data", p.coach, "bundle", "export", unknown, "x.wwb", NULL);
    expect_error(&r, EXIT_NOTFOUND, "onbekende groep", __LINE__);

    /* The wrong role: not allowed. */
    run(&r, "--data", p.student, "member", "add", g, "--role", "student", "--alias", "Y",
        "--device", p.coach_key, NULL);
    expect_error(&r, EXIT_DENIED, "deze rol mag dat niet", __LINE__);
    run(&r, "--data", p.student, "challenge", "schedule", g, "2026-11-24", "L02", NULL);
    expect_error(&r, EXIT_DENIED, "deze rol mag dat niet", __LINE__);
    run(&r, "--data", p.student, "signoff", g, p.member, "W03", "--level", "goed", NULL);
    expect_error(&r, EXIT_DENIED, "deze rol mag dat niet", __LINE__);
    run(&r, "--data", p.coach, "reflect", g, "--status", "gedaan", NULL);
    expect_error(&r, EXIT_DENIED, "deze rol mag dat niet", __LINE__);

    /* Texts: too long, invalid UTF-8, control characters; the hint says what to do. */
    run(&r, "--data", p.student, "signal", "raise", g, "--category", "werkdruk", "--text", big,
        NULL);
    expect_error(&r, EXIT_INPUT, "maak de tekst korter", __LINE__);
    run(&r, "--data", p.student, "reflect", g, "--status", "gedaan", "--reflectie", big, NULL);
    expect_error(&r, EXIT_INPUT, "invoer is te groot", __LINE__);
    run(&r, "--data", p.student, "signal", "raise", g, "--category", "werkdruk", "--text",
        "caf\xc3", NULL);
    expect_error(&r, EXIT_INPUT, "UTF-8", __LINE__);
    run(&r, "--data", p.student, "reflect", g, "--status", "gedaan", "--situatie",
        "bel\x07 en \x1b[2J", NULL);
    expect_error(&r, EXIT_INPUT, "stuurtekens", __LINE__);
    run(&r, "--data", p.student, "signal", "raise", g, "--category", "werkdruk", "--text",
        "a\x01"
        "b",
        NULL);
    expect_error(&r, EXIT_INPUT, "stuurtekens", __LINE__);

    /* Dates: malformed, and well-formed but not in the calendar. */
    static const char *const dates[] = {"2026/11/20", "20-11-2026", "2026-11-2",  "2026-02-29",
                                        "2026-04-31", "2026-13-01", "0000-01-00", ""};
    for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++) {
        run(&r, "--data", p.student, "day", g, dates[i], NULL);
        expect_error(&r, EXIT_INPUT, "JJJJ-MM-DD", __LINE__);
        run(&r, "--data", p.student, "dayoff", g, dates[i], NULL);
        expect_error(&r, EXIT_INPUT, "ongeldige datum", __LINE__);
        run(&r, "--data", p.student, "reflect", g, "--status", "gedaan", "--date", dates[i], NULL);
        expect_error(&r, EXIT_INPUT, "ongeldige datum", __LINE__);
    }
    run(&r, "--data", p.student, "react", g, ev, "tekst", NULL);
    expect_error(&r, EXIT_NOTFOUND, "niet gevonden", __LINE__);

    /* A hub that is not there: a network failure, quickly, naming the address. */
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", proc_free_port());
    run(&r, "--data", p.student, "sync", addr, NULL);
    expect_error(&r, EXIT_NET, addr, __LINE__);

    /* None of it reached the device. */
    for (int k = 0; k < 3; k++) {
        run(&r, "--data", p.student, views[k], g, NULL);
        EXPECT_EXIT(r, 0);
        ASSERT_STR_EQ(r.out, before[k]);
    }
}

/* A device's key, from `id` run with the given environment; "" when there is no device. */
static void key_with_env(const char *env, char out[80])
{
    struct run r;
    run_env(&r, env, "id", NULL);
    out[0] = '\0';
    if (r.exited && r.code == 0)
        first_line(r.out, out, 80);
}

/* The data folder: --data, else $WEGWIJS_HOME, else $XDG_DATA_HOME/wegwijs, else
 * ~/.local/share/wegwijs, made private to its owner. The old $WEGWIJS_DATA is not read. */
TEST(cli_data_folder)
{
    struct run r;
    char home_dev[600], xdg[512], xdg_env[600], mine[512], mine_env[1100];
    char k_home[80], k_xdg[80], k_mine[80], k[80];
    snprintf(home_dev, sizeof home_dev, "%s/.local/share/wegwijs", ww_test_tmpdir());
    proc_tmp_path(xdg, sizeof xdg, "xdg");
    snprintf(xdg_env, sizeof xdg_env, "XDG_DATA_HOME=%s", xdg);
    proc_tmp_path(mine, sizeof mine, "mine");
    snprintf(mine_env, sizeof mine_env, "WEGWIJS_HOME=%s\nXDG_DATA_HOME=%s", mine, xdg);

    /* Nothing set: the home folder's, created 0700. */
    run(&r, "id", NULL);
    expect_error(&r, EXIT_NOTFOUND, ".local/share/wegwijs", __LINE__);
    run(&r, "init", NULL);
    EXPECT_EXIT(r, 0);
    first_line(r.out, k_home, sizeof k_home);
    ASSERT(is_hex(k_home, 64));
    struct stat st;
    ASSERT_EQ(stat(home_dev, &st), 0);
    ASSERT_EQ(st.st_mode & 0777, 0700);
    /* XDG_DATA_HOME, when absolute, is next; a relative one is ignored. */
    run_env(&r, xdg_env, "init", NULL);
    EXPECT_EXIT(r, 0);
    first_line(r.out, k_xdg, sizeof k_xdg);
    ASSERT(strcmp(k_xdg, k_home) != 0);
    char xdg_dev[600];
    snprintf(xdg_dev, sizeof xdg_dev, "%s/wegwijs/identity.key", xdg);
    ASSERT_EQ(stat(xdg_dev, &st), 0);
    key_with_env("XDG_DATA_HOME=relative/path", k);
    ASSERT_STR_EQ(k, k_home);
    /* WEGWIJS_HOME beats XDG_DATA_HOME; --data beats both. */
    run_env(&r, mine_env, "init", NULL);
    EXPECT_EXIT(r, 0);
    first_line(r.out, k_mine, sizeof k_mine);
    ASSERT(strcmp(k_mine, k_xdg) != 0 && strcmp(k_mine, k_home) != 0);
    key_with_env(xdg_env, k);
    ASSERT_STR_EQ(k, k_xdg);
    run_env(&r, mine_env, "--data", home_dev, "id", NULL);
    EXPECT_EXIT(r, 0);
    first_line(r.out, k, sizeof k);
    ASSERT_STR_EQ(k, k_home);
    /* An empty WEGWIJS_HOME counts as unset; the old WEGWIJS_DATA is not read. */
    key_with_env("WEGWIJS_HOME=", k);
    ASSERT_STR_EQ(k, k_home);
    char old_env[600];
    snprintf(old_env, sizeof old_env, "WEGWIJS_DATA=%s", mine);
    key_with_env(old_env, k);
    ASSERT_STR_EQ(k, k_home);
}

/* Dutch by default from the built binary, with no locale settings at all or the plain C
 * locale (where glibc ignores LANGUAGE) and no nl_NL locale on the machine; English with
 * --lang en, $WEGWIJS_LANG or an English locale. The binary finds its catalogue itself. */
TEST(cli_language_from_gettext)
{
    static const struct {
        const char *env;
        int english;
    } cases[] = {
        {NULL, 0},
        {"LANG=C", 0},
        {"LC_ALL=C\nLANGUAGE=en", 0},
        {"LANG=C.UTF-8", 0},
        {"LANG=nl_NL.UTF-8", 0},
        {"LANG=en_GB.UTF-8", 1},
        {"LANG=C\nLC_MESSAGES=en_US.UTF-8", 1},
        {"LANG=en_US.UTF-8\nLC_ALL=nl_BE.UTF-8", 0},
        {"WEGWIJS_LANG=en\nLANG=C", 1},
        {"WEGWIJS_LANG=nl\nLANG=en_US.UTF-8", 0},
    };
    struct run r;
    char dir[512];
    proc_tmp_path(dir, sizeof dir, "nowhere");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_env(&r, cases[i].env, "--data", dir, "day", "00", "2026-01-01", NULL);
        expect_error(&r, EXIT_INPUT,
                     cases[i].english ? "invalid group id '00' (expected 32 hexadecimal digits)"
                                      : "ongeldige groep-id '00' (verwacht 32 hexadecimale tekens)",
                     __LINE__);
        run_env(&r, cases[i].env, "help", NULL);
        EXPECT_EXIT(r, 0);
        EXPECT_HAS(r.out, cases[i].english ? "Exit status: 0 success" : "Afsluitcode: 0 gelukt");
    }
    /* --lang beats every variable; non-ASCII Dutch comes out as UTF-8 in the C locale. */
    run_env(&r, "LANG=C", "--lang", "en", "help", NULL);
    EXPECT_HAS(r.out, "Usage: wegwijs");
    run_env(&r, "LANG=en_US.UTF-8", "--lang", "nl", "help", NULL);
    EXPECT_HAS(r.out, "Gebruik: wegwijs");
    EXPECT_HAS(r.out, "blijft de reflectie priv\xc3\xa9 (ik)");
}

/* Every message in the sources has a Dutch translation that is not fuzzy: the msgids
 * xgettext finds now are compared with po/nl.po, and msgfmt counts what is translated. */
TEST(cli_catalogue_complete)
{
    char pot[512], cmd[2048], out[4096];
    proc_tmp_path(pot, sizeof pot, "fresh.pot");
    snprintf(cmd, sizeof cmd,
             "xgettext --from-code=UTF-8 --language=C --keyword=_ --keyword=N_ -o %s cli/*.c "
             "2>&1 && msgcmp po/nl.po %s 2>&1 && msgfmt --check --statistics -o /dev/null "
             "po/nl.po 2>&1",
             pot, pot);
    if (proc_shell(cmd, out, sizeof out) != 0)
        ww_test_fail(__FILE__, __LINE__, "catalogue check failed: %s", out);
    EXPECT_HAS(out, " translated message");
    EXPECT_LACKS(out, "fuzzy");
    EXPECT_LACKS(out, "untranslated");
}

/* The completions bash offers for a command line: the script sourced, COMP_WORDS set to
 * words (the last one the word being completed), the replies joined by spaces. */
static void complete_line(const char *words, char *out, size_t cap)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "bash -c 'source cli/wegwijs.bash-completion && COMP_WORDS=(%s %s) && "
             "COMP_CWORD=$((${#COMP_WORDS[@]} - 1)) && _wegwijs && echo \"${COMPREPLY[*]}\"' 2>&1",
             proc_cli_path(), words);
    ASSERT_EQ(proc_shell(cmd, out, cap), 0);
}

/* Bash completion: verbs, subcommands, options, the words of an option, and the ids of the
 * groups in the data folder on the command line. */
TEST(cli_bash_completion)
{
    struct pair p;
    char line[2048], out[4096];
    setup_pair(&p);
    complete_line("re", out, sizeof out);
    ASSERT_STR_EQ(out, "reflect reflections react reactions remove recover\n");
    complete_line("signal \"\"", out, sizeof out);
    ASSERT_STR_EQ(out, "raise resolve\n");
    snprintf(line, sizeof line, "reflect %s --sta", p.group);
    complete_line(line, out, sizeof out);
    ASSERT_STR_EQ(out, "--status\n");
    complete_line("ov", out, sizeof out);
    ASSERT_STR_EQ(out, "overview\n");
    snprintf(line, sizeof line, "overview %s --h", p.group);
    complete_line(line, out, sizeof out);
    ASSERT_STR_EQ(out, "--html\n");
    complete_line("climate \"\"", out, sizeof out);
    ASSERT_STR_EQ(out, "fetch key demo\n");
    complete_line("hub --agg", out, sizeof out);
    ASSERT_STR_EQ(out, "--aggregator-b\n");
    complete_line("climate demo --g", out, sizeof out);
    ASSERT_STR_EQ(out, "--groups\n");
    complete_line("fe", out, sizeof out);
    ASSERT_STR_EQ(out, "feed\n");
    snprintf(line, sizeof line, "feed %s --l", p.group);
    complete_line(line, out, sizeof out);
    ASSERT_STR_EQ(out, "--limit\n");
    snprintf(line, sizeof line, "history %s --m", p.group);
    complete_line(line, out, sizeof out);
    ASSERT_STR_EQ(out, "--member\n");
    complete_line("groups --j", out, sizeof out);
    ASSERT_STR_EQ(out, "--json\n");
    snprintf(line, sizeof line, "reflect %s --share \"\"", p.group);
    complete_line(line, out, sizeof out);
    ASSERT_STR_EQ(out, "ik groep coach\n");
    /* Group ids, from this device's folder; also after an option with free text. */
    snprintf(line, sizeof line, "--data %s today \"\"", p.student);
    complete_line(line, out, sizeof out);
    char want[64];
    snprintf(want, sizeof want, "%s\n", p.group);
    ASSERT_STR_EQ(out, want);
    snprintf(line, sizeof line, "--data=%s signal raise %.4s", p.coach, p.group);
    complete_line(line, out, sizeof out);
    ASSERT_STR_EQ(out, want);
    snprintf(line, sizeof line, "--data %s sync 127.0.0.1:1 --group \"\"", p.coach);
    complete_line(line, out, sizeof out);
    ASSERT_STR_EQ(out, want);
    snprintf(line, sizeof line, "--data %s reflect %s --situatie \"a b\" --sh", p.student, p.group);
    complete_line(line, out, sizeof out);
    ASSERT_STR_EQ(out, "--share\n");
    /* A folder without a device offers no ids. */
    snprintf(line, sizeof line, "--data %s/none members \"\"", ww_test_tmpdir());
    complete_line(line, out, sizeof out);
    ASSERT_STR_EQ(out, "\n");
}

/* ---- --json ------------------------------------------------------------------------------ */

/* A run's stdout as the JSON document of command (proc_json), after checking it succeeded. */
static json_t *json_of(const struct run *r, const char *command, int line)
{
    if (!r->exited || r->code != 0)
        ww_test_fail(__FILE__, line, "exit %d; stderr: %s", r->code, r->err);
    return proc_json(r->out, command, line);
}

#define jstr proc_json_str
#define jarr proc_json_array

/* Every verb that prints data has the documented --json shape (docs/JSON.md); texts come
 * back byte for byte, whatever they hold; words do not follow --lang. */
TEST(cli_json_output)
{
    struct pair p;
    struct run r;
    setup_pair(&p);
    const char *text = "Zei \"SBAR\" \\ dacht {1} %s \xc3\xa9\xe2\x82\xac\nregel twee\ttab";

    run(&r, "--data", p.student, "--json", "id", NULL);
    json_t *doc = json_of(&r, "id", __LINE__);
    ASSERT_STR_EQ(jstr(doc, "device", __LINE__), p.student_key);
    json_decref(doc);

    run(&r, "--data", p.student, "groups", "--json", NULL);
    doc = json_of(&r, "groups", __LINE__);
    json_t *g = json_array_get(jarr(doc, "groups", 1, __LINE__), 0);
    ASSERT_STR_EQ(jstr(g, "id", __LINE__), p.group);
    ASSERT_STR_EQ(jstr(g, "name", __LINE__), "Afdeling 3B");
    ASSERT_STR_EQ(jstr(g, "role", __LINE__), "student");
    ASSERT_STR_EQ(jstr(g, "member", __LINE__), p.member);
    ASSERT(json_is_false(json_object_get(g, "owner")));
    ASSERT(json_is_integer(json_object_get(g, "epoch")));
    ASSERT_EQ(strlen(jstr(g, "start", __LINE__)), 10);
    ASSERT_STR_EQ(jstr(g, "tz", __LINE__), "Europe/Amsterdam");
    json_decref(doc);

    run(&r, "--lang", "en", "--data", p.coach, "members", p.group, "--json", NULL);
    doc = json_of(&r, "members", __LINE__);
    ASSERT_STR_EQ(jstr(doc, "group", __LINE__), p.group);
    json_t *members = jarr(doc, "members", 2, __LINE__);
    int seen = 0;
    for (size_t i = 0; i < 2; i++) {
        json_t *m = json_array_get(members, i);
        if (strcmp(jstr(m, "id", __LINE__), p.member) != 0)
            continue;
        seen = 1;
        ASSERT_STR_EQ(jstr(m, "role", __LINE__), "student");
        ASSERT_STR_EQ(jstr(m, "alias", __LINE__), "Sam");
        ASSERT_EQ(json_integer_value(json_object_get(m, "year")), 2);
        ASSERT_STR_EQ(jstr(m, "track", __LINE__), "bbl");
        ASSERT(json_is_true(json_object_get(m, "active")));
        ASSERT_STR_EQ(json_string_value(json_array_get(jarr(m, "devices", 1, __LINE__), 0)),
                      p.student_key);
    }
    ASSERT(seen);
    json_decref(doc);

    run(&r, "--data", p.student, "day", p.group, "2026-12-01", "--json", NULL);
    doc = json_of(&r, "day", __LINE__);
    ASSERT_STR_EQ(jstr(doc, "date", __LINE__), "2026-12-01");
    ASSERT(json_is_boolean(json_object_get(doc, "scheduled")));
    ASSERT(json_is_boolean(json_object_get(doc, "day_off")));
    json_t *ch = json_object_get(doc, "challenge");
    ASSERT(json_is_object(ch));
    jstr(ch, "code", __LINE__);
    jstr(ch, "title", __LINE__);
    ASSERT(json_integer_value(json_object_get(ch, "canmeds")) >= 1);
    json_t *climate = json_object_get(doc, "climate");
    ASSERT(json_is_array(climate) && json_array_size(climate) >= 2);
    ASSERT_STR_EQ(jstr(json_array_get(climate, 0), "code", __LINE__), "K1");
    jstr(json_array_get(climate, 0), "text_en", __LINE__);
    json_decref(doc);

    run(&r, "--json", "library", NULL);
    doc = json_of(&r, "library", __LINE__);
    json_t *lib = json_object_get(doc, "challenges");
    ASSERT(json_is_array(lib) && json_array_size(lib) >= 10);
    ASSERT_STR_EQ(jstr(json_array_get(lib, 0), "code", __LINE__), "W01");
    json_decref(doc);

    /* A reflection, a reaction, a signal and a sign-off, then each listing. */
    run(&r, "--data", p.student, "reflect", p.group, "--status", "deels", "--date", "2026-11-20",
        "--obstacle", "durfde-niet", "--situatie", text, "--share", "groep", "--answer", "K1=4",
        "--answer", "K2=nvt", NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", p.student, "--lang", "en", "reflections", p.group, "--json", NULL);
    doc = json_of(&r, "reflections", __LINE__);
    json_t *refl = json_array_get(jarr(doc, "reflections", 1, __LINE__), 0);
    char hash[65];
    snprintf(hash, sizeof hash, "%s", jstr(refl, "id", __LINE__));
    ASSERT(is_hex(hash, 64));
    ASSERT_STR_EQ(jstr(refl, "date", __LINE__), "2026-11-20");
    ASSERT_STR_EQ(jstr(refl, "member", __LINE__), p.member);
    ASSERT_STR_EQ(jstr(refl, "alias", __LINE__), "Sam");
    ASSERT(json_is_true(json_object_get(refl, "readable")));
    ASSERT_STR_EQ(jstr(refl, "status", __LINE__), "partly");
    ASSERT_STR_EQ(jstr(refl, "share", __LINE__), "group");
    ASSERT(json_is_false(json_object_get(refl, "draft")));
    ASSERT_STR_EQ(jstr(refl, "situatie", __LINE__), text);
    ASSERT(json_is_null(json_object_get(refl, "taak")));
    ASSERT_STR_EQ(json_string_value(json_array_get(jarr(refl, "obstacles", 1, __LINE__), 0)),
                  "did-not-dare");
    json_t *answers = json_object_get(refl, "climate");
    ASSERT_EQ(json_integer_value(json_object_get(answers, "K1")), 4);
    ASSERT(json_is_null(json_object_get(answers, "K2")));
    json_decref(doc);

    run(&r, "--data", p.student, "react", p.group, hash, text, NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", p.student, "reactions", p.group, "--json", NULL);
    doc = json_of(&r, "reactions", __LINE__);
    json_t *re = json_array_get(jarr(doc, "reactions", 1, __LINE__), 0);
    ASSERT(is_hex(jstr(re, "id", __LINE__), 64));
    ASSERT_STR_EQ(jstr(re, "target", __LINE__), hash);
    ASSERT_STR_EQ(jstr(re, "member", __LINE__), p.member);
    ASSERT_STR_EQ(jstr(re, "text", __LINE__), text);
    json_decref(doc);

    run(&r, "--data", p.student, "signal", "raise", p.group, "--category", "sfeer", "--text", text,
        "--concerns", p.member, NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", p.student, "signals", p.group, "--json", NULL);
    doc = json_of(&r, "signals", __LINE__);
    json_t *sg = json_array_get(jarr(doc, "signals", 1, __LINE__), 0);
    ASSERT(is_hex(jstr(sg, "id", __LINE__), 64));
    ASSERT_STR_EQ(jstr(sg, "category", __LINE__), "safety");
    ASSERT_STR_EQ(jstr(sg, "state", __LINE__), "open");
    ASSERT_STR_EQ(jstr(sg, "text", __LINE__), text);
    ASSERT_STR_EQ(jstr(sg, "concerns", __LINE__), p.member);
    ASSERT(json_is_null(json_object_get(sg, "note")));
    json_decref(doc);

    run(&r, "--data", p.coach, "signoff", p.group, p.member, "W03", "--level", "goed", "--date",
        "2026-11-21", "--note", text, NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", p.coach, "signoffs", p.group, "--json", NULL);
    doc = json_of(&r, "signoffs", __LINE__);
    json_t *so = json_array_get(jarr(doc, "signoffs", 1, __LINE__), 0);
    ASSERT_STR_EQ(jstr(so, "date", __LINE__), "2026-11-21");
    ASSERT_STR_EQ(jstr(so, "member", __LINE__), p.member);
    ASSERT_STR_EQ(jstr(so, "code", __LINE__), "W03");
    ASSERT_STR_EQ(jstr(so, "level", __LINE__), "good");
    ASSERT_STR_EQ(jstr(so, "note", __LINE__), text);
    json_decref(doc);

    /* The verbs that create something say what, by id. */
    run(&r, "--data", p.student, "--json", "reflect", p.group, "--status", "gedaan", "--date",
        "2026-11-23", "--share", "coach", "--draft", NULL);
    doc = json_of(&r, "reflect", __LINE__);
    ASSERT_STR_EQ(jstr(doc, "group", __LINE__), p.group);
    ASSERT(is_hex(jstr(doc, "id", __LINE__), 64));
    ASSERT_STR_EQ(jstr(doc, "date", __LINE__), "2026-11-23");
    ASSERT_STR_EQ(jstr(doc, "share", __LINE__), "coach");
    ASSERT(json_is_true(json_object_get(doc, "draft")));
    json_decref(doc);
    run(&r, "--data", p.student, "react", p.group, hash, "Nog een.", "--json", NULL);
    doc = json_of(&r, "react", __LINE__);
    ASSERT(is_hex(jstr(doc, "id", __LINE__), 64));
    ASSERT_STR_EQ(jstr(doc, "target", __LINE__), hash);
    json_decref(doc);
    run(&r, "--data", p.student, "signal", "raise", p.group, "--category", "overig", "--text", "t",
        "--json", NULL);
    doc = json_of(&r, "signal raise", __LINE__);
    ASSERT(is_hex(jstr(doc, "id", __LINE__), 64));
    json_decref(doc);
    run(&r, "--data", p.coach, "--json", "group", "create", "Tweede", NULL);
    doc = json_of(&r, "group create", __LINE__);
    char second[33];
    snprintf(second, sizeof second, "%s", jstr(doc, "group", __LINE__));
    ASSERT(is_hex(second, 32));
    json_decref(doc);
    run(&r, "--data", p.coach, "--json", "member", "add", second, "--role", "senior", "--alias",
        "Lisa", "--device", p.student_key, NULL);
    doc = json_of(&r, "member add", __LINE__);
    ASSERT_STR_EQ(jstr(doc, "group", __LINE__), second);
    ASSERT(is_hex(jstr(doc, "member", __LINE__), 32));
    json_decref(doc);
    char bundle[512];
    proc_tmp_path(bundle, sizeof bundle, "json.wwb");
    run(&r, "--data", p.coach, "--json", "bundle", "export", second, bundle, NULL);
    doc = json_of(&r, "bundle export", __LINE__);
    ASSERT_STR_EQ(jstr(doc, "file", __LINE__), bundle);
    long long events = proc_json_int(doc, "events", __LINE__);
    ASSERT_GE(events, 2);
    json_decref(doc);
    run(&r, "--data", p.student, "--json", "bundle", "import", bundle, NULL);
    doc = json_of(&r, "bundle import", __LINE__);
    ASSERT_EQ(proc_json_int(doc, "events", __LINE__), events);
    ASSERT_EQ(proc_json_int(doc, "accepted", __LINE__), events);
    ASSERT_EQ(proc_json_int(doc, "rejected", __LINE__), 0);
    ASSERT(json_is_null(json_object_get(doc, "first_error")));
    json_decref(doc);

    /* Empty lists are empty arrays; a verb without data output refuses --json. */
    run(&r, "--data", p.coach, "reflections", p.group, "--json", NULL);
    doc = json_of(&r, "reflections", __LINE__);
    jarr(doc, "reflections", 0, __LINE__);
    json_decref(doc);
    run(&r, "--data", p.student, "dayoff", p.group, "--json", NULL);
    expect_error(&r, EXIT_USAGE, "--json", __LINE__);
    ASSERT_EQ(r.out[0], '\0');
}

/* ---- Sync progress ----------------------------------------------------------------------- */

/* A hub on 127.0.0.1 with an ephemeral port, its store in dir; its address in addr. */
/* A hub in dir on an ephemeral port, serving only coach's groups when coach is not NULL; its
 * address in addr and its key (the line after the address, for scripts) in key. */
static pid_t hub_up(const char *dir, const char *coach, char addr[32], char key[65])
{
    char out_path[512], out[1024];
    proc_tmp_path(out_path, sizeof out_path, "hub.out");
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        /* Gone with the tests, even when a failed check skips hub_down. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
            _exit(126);
        int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = open("/dev/null", O_WRONLY);
        if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
            _exit(126);
        proc_child_env();
        if (coach)
            execl(proc_cli_path(), proc_cli_path(), "--data", dir, "hub", "--listen", "127.0.0.1:0",
                  "--coach", coach, (char *)NULL);
        else
            execl(proc_cli_path(), proc_cli_path(), "--data", dir, "hub", "--listen", "127.0.0.1:0",
                  (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 500; i++) { /* at most 5 s */
        proc_slurp(out_path, out, sizeof out - 1);
        const char *at = strstr(out, "127.0.0.1:"), *nl = at ? strchr(at, '\n') : NULL;
        if (nl && strchr(nl + 1, '\n')) {
            size_t n = strcspn(at, ";");
            ASSERT_LT(n, 32);
            memcpy(addr, at, n);
            addr[n] = '\0';
            first_line(nl + 1, key, 65);
            ASSERT(is_hex(key, 64));
            ASSERT(strstr(out, key) < nl); /* the first line names it too */
            return pid;
        }
        proc_sleep_ms(10);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    ww_test_fail(__FILE__, __LINE__, "the hub did not start: %s", out);
    return -1;
}

static void hub_down(pid_t pid)
{
    int status = 0;
    ASSERT_EQ(kill(pid, SIGTERM), 0);
    for (int i = 0; i < 500 && waitpid(pid, &status, WNOHANG) == 0; i++)
        proc_sleep_ms(10);
    if (waitpid(pid, &status, WNOHANG) == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        ww_test_fail(__FILE__, __LINE__, "the hub did not stop on SIGTERM");
    }
}

/* What `sync` shows on a terminal: the command run under script(1), in a pseudo-terminal. */
static void sync_on_tty(const char *dir, const char *addr, const char *extra, char *out, size_t cap)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "script -qec '%s --lang nl --data %s sync %s %s' /dev/null 2>&1",
             proc_cli_path(), dir, addr, extra);
    ASSERT_EQ(proc_shell(cmd, out, cap), 0);
}

/* `sync` shows events, bytes and a rate on a terminal, and nothing when piped or --quiet. */
TEST(cli_sync_progress)
{
    struct pair p;
    struct run r;
    static char out[16 * 1024];
    setup_pair(&p);
    char hub_dir[512], addr[32], want[128];
    proc_tmp_path(hub_dir, sizeof hub_dir, "hub");
    char hub_key[65];
    pid_t hub = hub_up(hub_dir, NULL, addr, hub_key);

    sync_on_tty(p.coach, addr, "", out, sizeof out);
    snprintf(want, sizeof want, "\rwegwijs: %s: ", addr);
    EXPECT_HAS(out, want);
    EXPECT_HAS(out, " gebeurtenissen verstuurd, 0 ontvangen, ");
    EXPECT_HAS(out, "B in ");
    EXPECT_HAS(out, "/s)");
    EXPECT_HAS(out, "gesynchroniseerd met");
    /* The student receives what the coach wrote since. */
    run(&r, "--data", p.coach, "challenge", "schedule", p.group, "2026-12-02", "L02", NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", p.coach, "sync", addr, "--quiet", NULL);
    EXPECT_EXIT(r, 0);
    sync_on_tty(p.student, addr, "", out, sizeof out);
    EXPECT_HAS(out, " gebeurtenissen verstuurd, ");
    EXPECT_LACKS(out, " verstuurd, 0 ontvangen");
    /* Quiet on a terminal with --quiet, and when not on a terminal at all. */
    sync_on_tty(p.coach, addr, "--quiet", out, sizeof out);
    EXPECT_LACKS(out, "/s)");
    EXPECT_LACKS(out, "\r\033");
    run(&r, "--data", p.coach, "sync", addr, NULL);
    EXPECT_EXIT(r, 0);
    ASSERT_EQ(r.err[0], '\0');
    EXPECT_HAS(r.out, "gesynchroniseerd met");
    EXPECT_LACKS(r.out, "/s)");
    hub_down(hub);
}

/* The manual renders without a single groff warning and documents every verb, option,
 * environment variable and exit status. */
TEST(cli_man_page)
{
    static char page[64 * 1024];
    ASSERT_GT(proc_slurp("docs/wegwijs.1", page, sizeof page - 1), 1000);
    char warnings[512];
    ASSERT_EQ(proc_shell("groff -ww -z -man docs/wegwijs.1 2>&1", warnings, sizeof warnings), 0);
    if (warnings[0])
        ww_test_fail(__FILE__, __LINE__, "groff warns: %s", warnings);
    /* Every verb `wegwijs help` lists has an entry of its own. */
    struct run r;
    run(&r, "--lang", "en", "help", NULL);
    EXPECT_EXIT(r, 0);
    size_t verbs = 0;
    for (const char *line = r.out; *line;
         line += strcspn(line, "\n") + (line[strcspn(line, "\n")] != 0)) {
        if (line[0] != ' ' || line[1] != ' ' || line[2] < 'a' || line[2] > 'z')
            continue;
        char verb[32], entry[3][48];
        size_t len = strspn(line + 2, "abcdefghijklmnopqrstuvwxyz");
        ASSERT_LT(len, sizeof verb);
        memcpy(verb, line + 2, len);
        verb[len] = '\0';
        snprintf(entry[0], sizeof entry[0], "\n.B %s\n", verb);
        snprintf(entry[1], sizeof entry[1], "\n.BI \"%s ", verb);
        snprintf(entry[2], sizeof entry[2], "\n.BR %s ", verb);
        if (!strstr(page, entry[0]) && !strstr(page, entry[1]) && !strstr(page, entry[2]))
            ww_test_fail(__FILE__, __LINE__, "verb '%s' is not in docs/wegwijs.1", verb);
        verbs++;
    }
    ASSERT_GE(verbs, 25);
    static const char *const named[] = {".SH SYNOPSIS",     ".SH OPTIONS",     ".SH ENVIRONMENT",
                                        ".SH FILES",        ".SH EXAMPLES",    "\\-\\-data",
                                        "\\-\\-lang",       ".B \\-\\-json",   ".B WEGWIJS_HOME",
                                        ".B XDG_DATA_HOME", ".B WEGWIJS_LANG", "LC_MESSAGES"};
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
        EXPECT_HAS(page, named[i]);
    const char *status = strstr(page, "\n.SH EXIT STATUS\n");
    ASSERT(status != NULL);
    for (int code = 0; code <= 8; code++) {
        char item[16];
        snprintf(item, sizeof item, "\n.B %d\n", code);
        EXPECT_HAS(status, item);
    }
}

/* Bundles both ways: the coach's events to the student, the student's back. */
static void exchange(const char *from, const char *to, const char *group)
{
    struct run r;
    char bundle[512];
    proc_tmp_path(bundle, sizeof bundle, "exchange.wwb");
    run(&r, "--data", from, "bundle", "export", group, bundle, NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", to, "bundle", "import", bundle, NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "geweigerd: 0");
}

/* The coach's overview of two weeks in the past: every mark, the counts, the alert, the open
 * signal and the sign-off due; a hostile alias escaped in the HTML page; climate answers
 * nowhere; bad ranges, the wrong role and an unwritable file refused with their codes. */
TEST(cli_overview)
{
    struct run r;
    char coach[512], student[512], skey[80], g[40], m[40], html[512];
    const char *alias = "<script>alert(\"x\")</script>&'";
    proc_tmp_path(coach, sizeof coach, "coach");
    proc_tmp_path(student, sizeof student, "student");
    proc_tmp_path(html, sizeof html, "overview.html");
    run(&r, "--data", coach, "init", NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", student, "init", NULL);
    EXPECT_EXIT(r, 0);
    first_line(r.out, skey, sizeof skey);
    run(&r, "--data", coach, "group", "create", "Afdeling <b>", "--start", "2026-11-02", NULL);
    EXPECT_EXIT(r, 0);
    first_line(r.out, g, sizeof g);
    run(&r, "--data", coach, "member", "add", g, "--role", "student", "--alias", alias, "--device",
        skey, NULL);
    EXPECT_EXIT(r, 0);
    first_line(r.out, m, sizeof m);
    run(&r, "--data", coach, "challenge", "define", g, "--code", "OPD1", "--title", "SBAR-opdracht",
        "--description", "Overdragen.", "--canmeds", "1", "--weeks", "1-52", "--assignment",
        "SCH-7", NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", coach, "challenge", "schedule", g, "2026-11-10", "OPD1", NULL);
    EXPECT_EXIT(r, 0);
    exchange(coach, student, g);

    /* Week 1: done (shared), private, then three worked days unreflected: the alert. Week 2:
     * no shift, partly on the assignment, then done, not. */
    run(&r, "--data", student, "reflect", g, "--status", "gedaan", "--date", "2026-11-02",
        "--share", "coach", "--situatie", "Gevraagd.", "--answer", "K1=1", NULL);
    EXPECT_EXIT(r, 0);
    char hash[80];
    first_line(strchr(r.out, '\n') + 1, hash, sizeof hash);
    ASSERT(is_hex(hash, 64));
    run(&r, "--data", student, "reflect", g, "--status", "niet", "--date", "2026-11-03", NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", student, "dayoff", g, "2026-11-09", NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", student, "reflect", g, "--status", "deels", "--date", "2026-11-10", "--share",
        "coach", "--obstacle", "geen-tijd-begeleider", NULL);
    EXPECT_EXIT(r, 0);
    const char *later[][2] = {
        {"2026-11-11", "gedaan"}, {"2026-11-12", "niet"}, {"2026-11-13", "gedaan"}};
    for (size_t i = 0; i < 3; i++) {
        run(&r, "--data", student, "reflect", g, "--status", later[i][1], "--date", later[i][0],
            "--share", "group", NULL);
        EXPECT_EXIT(r, 0);
    }
    run(&r, "--data", student, "signal", "raise", g, "--category", "werkdruk", "--text",
        "Te weinig tijd.", NULL);
    EXPECT_EXIT(r, 0);
    exchange(student, coach, g);
    run(&r, "--data", coach, "react", g, hash, "Goed zo", NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", coach, "signoff", g, m, "W01", "--level", "goed", "--date", "2026-11-02",
        NULL);
    EXPECT_EXIT(r, 0);

    run(&r, "--data", coach, "overview", g, "--from", "2026-11-02", "--to", "2026-11-15", NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "Overzicht van Afdeling <b>, 2026-11-02 t/m 2026-11-15");
    EXPECT_HAS(r.out, "ma02  di03  wo04");
    /* The row: +r* p . . . . . | o ~ + - + . . (the student joined today, so the empty
     * days before are nobody's to miss; the reflections written for them count) */
    EXPECT_HAS(r.out,
               "  +r*   p     .     .     .     .     .     o     ~     +     -     +     .");
    EXPECT_HAS(r.out, "~ deels");
    EXPECT_HAS(r.out, "o geen dienst");
    EXPECT_HAS(r.out, ": 6 werkdagen, 6 gereflecteerd, reeks 6, op rij gemist 0");
    EXPECT_LACKS(r.out, "let op:");
    EXPECT_HAS(r.out, "werkdruk  Te weinig tijd.");
    EXPECT_HAS(r.out, "2026-11-10  ");
    EXPECT_HAS(r.out, "OPD1  SBAR-opdracht  SCH-7");
    EXPECT_LACKS(r.out, "K1");
    run(&r, "--lang", "en", "--data", coach, "overview", g, "--from", "2026-11-09", NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "Overview of Afdeling <b>, 2026-11-09 to 2026-11-15");
    EXPECT_HAS(r.out, "o no shift");

    run(&r, "--data", coach, "--json", "overview", g, "--from", "2026-11-02", "--to", "2026-11-15",
        NULL);
    json_t *doc = json_of(&r, "overview", __LINE__);
    ASSERT_STR_EQ(jstr(doc, "from", __LINE__), "2026-11-02");
    json_t *learners = jarr(doc, "learners", 1, __LINE__);
    json_t *l0 = json_array_get(learners, 0);
    ASSERT_STR_EQ(jstr(l0, "alias", __LINE__), alias);
    ASSERT_EQ(proc_json_int(l0, "worked", __LINE__), 6);
    ASSERT(json_is_false(json_object_get(l0, "alert")));
    json_t *days = jarr(l0, "days", 14, __LINE__);
    ASSERT_STR_EQ(jstr(json_array_get(days, 0), "mark", __LINE__), "done");
    ASSERT_STR_EQ(jstr(json_array_get(days, 0), "signoff", __LINE__), "good");
    ASSERT_EQ(proc_json_int(json_array_get(days, 0), "reactions", __LINE__), 1);
    ASSERT_STR_EQ(jstr(json_array_get(days, 1), "mark", __LINE__), "private");
    ASSERT_STR_EQ(jstr(json_array_get(days, 7), "mark", __LINE__), "day-off");
    ASSERT_STR_EQ(jstr(json_array_get(days, 8), "status", __LINE__), "partly");
    json_t *sg = json_array_get(jarr(doc, "signals", 1, __LINE__), 0);
    ASSERT_STR_EQ(jstr(sg, "category", __LINE__), "workload");
    /* OPD1 (weeks 1-52) is also the library's pick for 2026-11-02, done then too. */
    json_t *due = json_array_get(jarr(doc, "signoffs_due", 2, __LINE__), 1);
    ASSERT_STR_EQ(jstr(due, "date", __LINE__), "2026-11-10");
    ASSERT_STR_EQ(jstr(due, "assignment", __LINE__), "SCH-7");
    json_decref(doc);
    EXPECT_LACKS(r.out, "K1");

    /* The page: every text escaped, nothing of the alias as markup. */
    run(&r, "--data", coach, "overview", g, "--from", "2026-11-02", "--to", "2026-11-15", "--html",
        html, NULL);
    EXPECT_EXIT(r, 0);
    static char page[64 * 1024];
    proc_slurp(html, page, sizeof page - 1);
    EXPECT_HAS(page, "<!DOCTYPE html>");
    EXPECT_HAS(page, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;");
    EXPECT_HAS(page, "<title>Afdeling &lt;b&gt;</title>");
    EXPECT_LACKS(page, "<script");
    EXPECT_LACKS(page, "<b>");
    EXPECT_LACKS(page, "K1");

    /* Bad input. */
    run(&r, "--data", coach, "overview", NULL);
    expect_error(&r, EXIT_USAGE, "overview", __LINE__);
    run(&r, "--data", coach, "overview", g, "--from", "2026-02-30", NULL);
    expect_error(&r, EXIT_INPUT, NULL, __LINE__);
    run(&r, "--data", coach, "overview", g, "--from", "2026-11-10", "--to", "2026-11-09", NULL);
    expect_error(&r, EXIT_INPUT, "--from", __LINE__);
    run(&r, "--data", coach, "overview", g, "--from", "2026-09-01", "--to", "2026-11-01", NULL);
    EXPECT_EXIT(r, 0); /* 62 days */
    run(&r, "--data", coach, "overview", g, "--from", "2026-09-01", "--to", "2026-11-02", NULL);
    expect_error(&r, EXIT_INPUT, "62", __LINE__);
    run(&r, "--data", coach, "overview", "0123456789abcdef0123456789abcdef", NULL);
    expect_error(&r, EXIT_NOTFOUND, "onbekende groep", __LINE__);
    run(&r, "--data", student, "overview", g, NULL);
    expect_error(&r, EXIT_DENIED, "deze rol mag dat niet", __LINE__);
    run(&r, "--data", coach, "overview", g, "--html", "/nonexistent/dir/o.html", NULL);
    expect_error(&r, 1, "o.html", __LINE__);
}

/* The coach names the hub; the devices then sync without an address, with the hub's key
 * pinned: a different device at that address fails the handshake. A hub told to serve one
 * coach refuses another coach's group. */
TEST(cli_named_hub)
{
    struct pair p;
    struct run r;
    char hub_dir[512], other_dir[512], addr[32], key[65], other_addr[32], other_key[65];
    setup_pair(&p);
    proc_tmp_path(hub_dir, sizeof hub_dir, "hub");
    proc_tmp_path(other_dir, sizeof other_dir, "other-hub");
    pid_t hub = hub_up(hub_dir, NULL, addr, key);

    run(&r, "--data", p.coach, "sync", NULL);
    expect_error(&r, EXIT_USAGE, "wegwijs group hub", __LINE__);
    run(&r, "--data", p.student, "group", "hub", p.group, key, addr, NULL);
    expect_error(&r, EXIT_DENIED, "deze rol mag dat niet", __LINE__);
    run(&r, "--data", p.coach, "group", "hub", p.group, "abc", addr, NULL);
    expect_error(&r, EXIT_INPUT, "abc", __LINE__);
    run(&r, "--data", p.coach, "group", "hub", p.group, key, "127.0.0.1", NULL);
    expect_error(&r, EXIT_INPUT, "HOST:POORT", __LINE__);
    run(&r, "--data", p.coach, "group", "hub", p.group, NULL);
    expect_error(&r, EXIT_USAGE, NULL, __LINE__);
    run(&r, "--data", other_dir, "hub", "--listen", "127.0.0.1:0", "--quota", "-1", NULL);
    expect_error(&r, EXIT_INPUT, "--quota", __LINE__);
    run(&r, "--data", other_dir, "hub", "--listen", "127.0.0.1:0", "--quota", "2048", NULL);
    expect_error(&r, EXIT_INPUT, "0..1024", __LINE__);
    run(&r, "--data", p.coach, "group", "hub", "0123456789abcdef0123456789abcdef", key, NULL);
    expect_error(&r, EXIT_NOTFOUND, "onbekende groep", __LINE__);
    run(&r, "--data", p.coach, "group", "hub", p.group, key, addr, NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, key);
    run(&r, "--data", p.coach, "groups", NULL);
    EXPECT_EXIT(r, 0);
    char want[128];
    snprintf(want, sizeof want, "  hub: %s %s\n", key, addr);
    EXPECT_HAS(r.out, want);
    run(&r, "--data", p.coach, "--json", "groups", NULL);
    json_t *doc = json_of(&r, "groups", __LINE__);
    json_t *g0 = json_array_get(jarr(doc, "groups", 1, __LINE__), 0);
    json_t *h = json_object_get(g0, "hub");
    ASSERT_STR_EQ(jstr(h, "key", __LINE__), key);
    ASSERT_STR_EQ(jstr(h, "address", __LINE__), addr);
    json_decref(doc);

    /* Plain sync: the coach uploads; the student learns the hub from the first sync, by
     * address, and needs none after it. */
    run(&r, "--data", p.coach, "sync", NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, addr);
    run(&r, "--data", p.student, "sync", NULL);
    expect_error(&r, EXIT_USAGE, "ADRES:POORT", __LINE__);
    run(&r, "--data", p.student, "sync", addr, NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", p.student, "sync", NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, addr);
    run(&r, "--data", p.student, "sync", "--group", p.group, NULL);
    expect_error(&r, EXIT_USAGE, "--group", __LINE__);

    /* A wrong key named: the device at the address is not it. */
    run(&r, "--data", p.coach, "group", "hub", p.group, p.student_key, addr, NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", p.coach, "sync", NULL);
    expect_error(&r, EXIT_NET, "niet de hub", __LINE__);
    hub_down(hub);

    /* A hub for another coach only: this coach's group is not served. */
    pid_t other = hub_up(other_dir, p.student_key, other_addr, other_key);
    run(&r, "--data", p.coach, "group", "hub", p.group, other_key, other_addr, NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", p.coach, "sync", NULL);
    if (r.exited && r.code == 0)
        ww_test_fail(__FILE__, __LINE__, "served a group of another coach: %s", r.out);
    hub_down(other);
    run(&r, "--data", other_dir, "groups", NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_LACKS(r.out, p.group);
    run(&r, "hub", "--coach", "xyz", NULL);
    expect_error(&r, EXIT_INPUT, "xyz", __LINE__);
}

/* The student's row of `devices --json`: its "missing" (-1 for null) and whether it
 * reported; and the erasures' applied counts. */
struct device_seen {
    long long missing;
    int reported;
    const char *hub_synced;
    size_t n_erasures;
    long long applied, of;
};

static struct device_seen devices_of(const struct pair *p, int line)
{
    struct run r;
    struct device_seen s = {-2, 0, NULL, 0, -1, -1};
    run(&r, "--data", p->coach, "--json", "devices", p->group, NULL);
    json_t *doc = json_of(&r, "devices", line);
    ASSERT_STR_EQ(jstr(doc, "group", line), p->group);
    json_t *devs = jarr(doc, "devices", 2, line), *d;
    size_t i;
    json_array_foreach(devs, i, d)
    {
        const char *key = jstr(d, "device", line);
        jstr(d, "member", line);
        jstr(d, "role", line);
        ASSERT(json_is_boolean(json_object_get(d, "this_device")));
        ASSERT(json_is_boolean(json_object_get(d, "reported")));
        ASSERT(json_object_get(d, "missing") && json_object_get(d, "hub_synced") &&
               json_object_get(d, "peer_synced") && json_object_get(d, "report_at"));
        if (!strcmp(key, p->coach_key)) {
            ASSERT(json_is_true(json_object_get(d, "this_device")));
            continue;
        }
        ASSERT_STR_EQ(key, p->student_key);
        json_t *m = json_object_get(d, "missing");
        s.missing = json_is_integer(m) ? json_integer_value(m) : -1;
        s.reported = json_is_true(json_object_get(d, "reported"));
        static char hub_at[32];
        const char *h = json_string_value(json_object_get(d, "hub_synced"));
        snprintf(hub_at, sizeof hub_at, "%s", h ? h : "");
        s.hub_synced = h ? hub_at : NULL;
    }
    json_t *er = json_object_get(doc, "erasures");
    ASSERT(json_is_array(er));
    s.n_erasures = json_array_size(er);
    if (s.n_erasures) {
        json_t *e0 = json_array_get(er, 0);
        jstr(e0, "event", line);
        s.applied = proc_json_int(e0, "applied", line);
        s.of = proc_json_int(e0, "devices", line);
        ASSERT_EQ(json_array_size(json_object_get(e0, "receipts")), (size_t)s.of);
    }
    json_decref(doc);
    return s;
}

/* Sync health (PROTOCOL.md 6.22): a student's device that stays offline lacks more and
 * more of what the coach wrote, and nothing once it synced; an erasure is receipted by
 * every device. */
TEST(cli_devices_and_status)
{
    struct pair p;
    struct run r;
    char hub_dir[512], addr[32], key[65];
    setup_pair(&p);
    proc_tmp_path(hub_dir, sizeof hub_dir, "hub");
    pid_t hub = hub_up(hub_dir, NULL, addr, key);
    run(&r, "--data", p.coach, "group", "hub", p.group, key, addr, NULL);
    EXPECT_EXIT(r, 0);

    /* Before any sync: the student has not reported; status says never. */
    struct device_seen s = devices_of(&p, __LINE__);
    ASSERT(!s.reported);
    ASSERT_EQ(s.missing, -1);
    run(&r, "--data", p.student, "status", NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "nooit");
    run(&r, "--data", p.coach, "sync", NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", p.student, "sync", addr, NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", p.coach, "sync", NULL);
    EXPECT_EXIT(r, 0);
    s = devices_of(&p, __LINE__);
    ASSERT(s.reported);
    ASSERT_EQ(s.missing, 0);
    ASSERT(s.hub_synced != NULL);
    run(&r, "--data", p.student, "--json", "status", p.group, NULL);
    json_t *doc = json_of(&r, "status", __LINE__);
    json_t *g0 = json_array_get(jarr(doc, "groups", 1, __LINE__), 0);
    ASSERT_STR_EQ(jstr(g0, "group", __LINE__), p.group);
    ASSERT_STR_EQ(jstr(g0, "role", __LINE__), "student");
    ASSERT_STR_EQ(jstr(g0, "hub", __LINE__), addr);
    jstr(g0, "hub_synced", __LINE__);
    ASSERT_EQ(proc_json_int(g0, "unsent", __LINE__), 0);
    ASSERT_EQ(proc_json_int(g0, "waiting", __LINE__), 0);
    json_decref(doc);

    /* The student stays offline while the coach writes: what it lacks rises. */
    run(&r, "--data", p.coach, "challenge", "schedule", p.group, "2026-12-01", "W01", NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", p.coach, "sync", NULL);
    EXPECT_EXIT(r, 0);
    ASSERT_EQ(devices_of(&p, __LINE__).missing, 1);
    run(&r, "--data", p.coach, "challenge", "schedule", p.group, "2026-12-02", "W02", NULL);
    EXPECT_EXIT(r, 0);
    ASSERT_EQ(devices_of(&p, __LINE__).missing, 2);
    run(&r, "--data", p.coach, "sync", NULL);
    EXPECT_EXIT(r, 0);
    /* ... and what it wrote offline is not sent yet, as it says itself. */
    run(&r, "--data", p.student, "dayoff", p.group, "2026-12-01", NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", p.student, "--lang", "en", "status", p.group, NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "not sent to the hub yet: 1");

    /* It syncs: it lacks nothing, and has sent everything. */
    run(&r, "--data", p.student, "sync", NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", p.coach, "sync", NULL);
    EXPECT_EXIT(r, 0);
    s = devices_of(&p, __LINE__);
    ASSERT_EQ(s.missing, 0);
    ASSERT_EQ(s.n_erasures, 0);
    run(&r, "--data", p.student, "--lang", "en", "status", NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "not sent to the hub yet: 0");

    /* An erasure: the coach's device holds it at once, the student's once it synced. */
    run(&r, "--data", p.coach, "erase", p.group, p.member, NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", p.coach, "sync", NULL);
    EXPECT_EXIT(r, 0);
    s = devices_of(&p, __LINE__);
    ASSERT_EQ(s.n_erasures, 1);
    ASSERT_EQ(s.applied, 1);
    ASSERT_EQ(s.of, 2);
    run(&r, "--data", p.coach, "--lang", "en", "devices", p.group, NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "applied on 1 of 2 devices");
    EXPECT_HAS(r.out, p.student_key);
    run(&r, "--data", p.student, "sync", NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", p.coach, "sync", NULL);
    EXPECT_EXIT(r, 0);
    s = devices_of(&p, __LINE__);
    ASSERT_EQ(s.applied, 2);
    run(&r, "--data", p.coach, "--lang", "en", "devices", p.group, NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "applied on 2 of 2 devices");

    /* Bad input. */
    run(&r, "--data", p.coach, "devices", NULL);
    expect_error(&r, EXIT_USAGE, NULL, __LINE__);
    run(&r, "--data", p.coach, "devices", p.group, "extra", NULL);
    expect_error(&r, EXIT_USAGE, NULL, __LINE__);
    run(&r, "--data", p.coach, "devices", "0123456789abcdef0123456789abcdef", NULL);
    expect_error(&r, EXIT_NOTFOUND, "onbekende groep", __LINE__);
    run(&r, "--data", p.coach, "devices", "zz", NULL);
    expect_error(&r, EXIT_INPUT, "zz", __LINE__);
    run(&r, "--data", p.student, "devices", p.group, NULL);
    expect_error(&r, EXIT_DENIED, NULL, __LINE__);
    run(&r, "--data", p.student, "status", "0123456789abcdef0123456789abcdef", NULL);
    expect_error(&r, EXIT_NOTFOUND, NULL, __LINE__);
    run(&r, "--data", p.student, "status", p.group, "extra", NULL);
    expect_error(&r, EXIT_USAGE, NULL, __LINE__);
    hub_down(hub);
}

/* `hub --log FILE`: one stamped line per connection event in the file; SIGHUP (after a
 * rotation moved the file away) opens it again by name and never ends the hub; a log that
 * cannot be opened is refused before the hub starts. */
TEST(cli_hub_log_reopens_on_sighup)
{
    struct pair p;
    struct run r;
    struct proc_bg hub;
    char hub_dir[512], log[512], rotated[512], addr[32], text[8192];
    setup_pair(&p);
    proc_tmp_path(hub_dir, sizeof hub_dir, "hub");
    proc_tmp_path(log, sizeof log, "hub.log");
    proc_tmp_path(rotated, sizeof rotated, "hub.log.1");
    const char *const extra[] = {"--log", log, NULL};
    proc_hub_start_with(&hub, hub_dir, "hub", extra);
    snprintf(addr, sizeof addr, "127.0.0.1:%d", hub.port);
    run(&r, "--data", p.coach, "sync", addr, NULL);
    EXPECT_EXIT(r, 0);
    ASSERT_EQ(rename(log, rotated), 0);
    ASSERT_EQ(kill(hub.pid, SIGHUP), 0);
    /* The hub says it opened the file again; wait for that line, boundedly. */
    long end = proc_now_ms() + PROC_START_MS;
    while (proc_now_ms() < end &&
           (proc_slurp(log, text, sizeof text - 1) == 0 || !strstr(text, "log: opened")))
        proc_sleep_ms(10);
    EXPECT_HAS(text, "log: opened");
    run(&r, "--data", p.student, "sync", addr, NULL);
    EXPECT_EXIT(r, 0);
    proc_expect_alive(&hub);
    proc_bg_stop(&hub);
    /* Each file holds its own connections, each line stamped with the time. */
    proc_slurp(rotated, text, sizeof text - 1);
    EXPECT_HAS(text, "listen 127.0.0.1:");
    EXPECT_HAS(text, "Z up 127.0.0.1:");
    EXPECT_LACKS(text, "log: opened");
    char peer[32];
    snprintf(peer, sizeof peer, "peer=%.16s", p.student_key);
    EXPECT_LACKS(text, peer);
    proc_slurp(log, text, sizeof text - 1);
    EXPECT_HAS(text, peer);
    ASSERT(text[4] == '-' && text[10] == 'T');

    run(&r, "--data", hub_dir, "hub", "--listen", "127.0.0.1:0", "--log", "/nonexistent/dir/x.log",
        NULL);
    expect_error(&r, EXIT_INPUT, "/nonexistent/dir/x.log", __LINE__);
}

/* ---- feed and history --------------------------------------------------------------------- */

/* A coach and two students, Sam and Noor, who shared a week in every way: the group, the
 * coach, only themselves; reactions, a sign-off, a signal and a day off. */
struct trio {
    char coach[512], sam[512], noor[512];
    char g[40], m_sam[40], m_noor[40];
};

static void reflect_on(const char *dir, const char *g, const char *date, const char *status,
                       const char *share, const char *text, char hash[80])
{
    struct run r;
    run(&r, "--data", dir, "reflect", g, "--status", status, "--date", date, "--share", share,
        "--situatie", text, NULL);
    EXPECT_EXIT(r, 0);
    if (hash)
        first_line(strchr(r.out, '\n') + 1, hash, 80);
}

static void setup_trio(struct trio *t)
{
    struct run r;
    char key[80];
    proc_tmp_path(t->coach, sizeof t->coach, "coach");
    proc_tmp_path(t->sam, sizeof t->sam, "sam");
    proc_tmp_path(t->noor, sizeof t->noor, "noor");
    run(&r, "--data", t->coach, "init", NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", t->coach, "group", "create", "Afdeling 3B", "--start", "2026-11-02",
        "--alias", "Anja", NULL);
    EXPECT_EXIT(r, 0);
    first_line(r.out, t->g, sizeof t->g);
    const char *dirs[] = {t->sam, t->noor}, *aliases[] = {"Sam", "Noor"};
    char *members[] = {t->m_sam, t->m_noor};
    for (size_t i = 0; i < 2; i++) {
        run(&r, "--data", dirs[i], "init", NULL);
        EXPECT_EXIT(r, 0);
        first_line(r.out, key, sizeof key);
        run(&r, "--data", t->coach, "member", "add", t->g, "--role", "student", "--alias",
            aliases[i], "--device", key, NULL);
        EXPECT_EXIT(r, 0);
        first_line(r.out, members[i], 40);
        exchange(t->coach, dirs[i], t->g);
    }
    char sam_group[80], sam_coach[80], noor_group[80];
    reflect_on(t->sam, t->g, "2026-11-10", "gedaan", "groep", "Groepstekst van Sam", sam_group);
    reflect_on(t->sam, t->g, "2026-11-11", "niet", "ik", "Geheim van Sam", NULL);
    run(&r, "--data", t->sam, "reflect", t->g, "--status", "deels", "--date", "2026-11-12",
        "--share", "coach", "--situatie", "Voor de coach van Sam", "--obstacle",
        "geen-tijd-begeleider", "--answer", "K1=2", NULL);
    EXPECT_EXIT(r, 0);
    first_line(strchr(r.out, '\n') + 1, sam_coach, sizeof sam_coach);
    run(&r, "--data", t->sam, "dayoff", t->g, "2026-11-13", NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", t->sam, "signal", "raise", t->g, "--category", "werkdruk", "--text",
        "Te druk op de afdeling", NULL);
    EXPECT_EXIT(r, 0);
    reflect_on(t->noor, t->g, "2026-11-10", "gedaan", "ik", "Geheim van Noor", NULL);
    reflect_on(t->noor, t->g, "2026-11-11", "gedaan", "coach", "Noor aan de coach", NULL);
    reflect_on(t->noor, t->g, "2026-11-12", "deels", "groep", "Noor in de groep", noor_group);
    exchange(t->sam, t->coach, t->g);
    exchange(t->noor, t->coach, t->g);
    exchange(t->coach, t->noor, t->g);
    run(&r, "--data", t->noor, "react", t->g, sam_group, "Herkenbaar!", NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", t->coach, "react", t->g, sam_coach, "Goed dat je het zegt", NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", t->coach, "signoff", t->g, t->m_sam, "W01", "--level", "goed", "--date",
        "2026-11-12", NULL);
    EXPECT_EXIT(r, 0);
    exchange(t->noor, t->coach, t->g);
    exchange(t->coach, t->sam, t->g);
    exchange(t->coach, t->noor, t->g);
}

/* needle a comes before needle b in text. */
#define EXPECT_BEFORE(text, a, b)                                                                  \
    do {                                                                                           \
        EXPECT_HAS(text, a);                                                                       \
        EXPECT_HAS(text, b);                                                                       \
        if (strstr(text, a) > strstr(text, b))                                                     \
            ww_test_fail(__FILE__, __LINE__, "\"%s\" after \"%s\" in: %.2000s", a, b, text);       \
    } while (0)

/* What each device's feed holds: what it may read, newest first, with reactions; another
 * student's private reflection never, one shared with the coach only on the coach's device
 * and the author's; signals only for the one who raised them and the coach. */
TEST(cli_feed)
{
    struct trio t;
    struct run r;
    setup_trio(&t);

    run(&r, "--data", t.sam, "feed", t.g, NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_BEFORE(r.out, "Te druk op de afdeling", "Noor in de groep");
    EXPECT_BEFORE(r.out, "Noor in de groep", "Geheim van Sam");
    EXPECT_BEFORE(r.out, "Geheim van Sam", "Groepstekst van Sam");
    EXPECT_BEFORE(r.out, "Groepstekst van Sam", "    > Noor: Herkenbaar!");
    EXPECT_HAS(r.out, "Voor de coach van Sam");
    EXPECT_HAS(r.out, "    > Anja: Goed dat je het zegt");
    EXPECT_HAS(r.out, "2026-11-12  Noor  deels     gedeeld met: groep");
    EXPECT_LACKS(r.out, "Geheim van Noor");
    EXPECT_LACKS(r.out, "Noor aan de coach");
    EXPECT_LACKS(r.out, "K1");

    run(&r, "--data", t.noor, "feed", t.g, NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "Groepstekst van Sam");
    EXPECT_HAS(r.out, "Herkenbaar!");
    EXPECT_HAS(r.out, "Geheim van Noor");
    EXPECT_LACKS(r.out, "Geheim van Sam");
    EXPECT_LACKS(r.out, "Voor de coach van Sam");
    EXPECT_LACKS(r.out, "Goed dat je het zegt");
    EXPECT_LACKS(r.out, "Te druk");

    run(&r, "--data", t.coach, "feed", t.g, NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "Voor de coach van Sam");
    EXPECT_HAS(r.out, "Noor aan de coach");
    EXPECT_HAS(r.out, "Te druk op de afdeling");
    EXPECT_LACKS(r.out, "Geheim van");

    /* JSON: the shape of docs/JSON.md, the limit, the ranges. */
    run(&r, "--data", t.sam, "--json", "feed", t.g, NULL);
    json_t *doc = json_of(&r, "feed", __LINE__);
    ASSERT_STR_EQ(jstr(doc, "group", __LINE__), t.g);
    ASSERT(json_is_null(json_object_get(doc, "from")));
    ASSERT(json_is_false(json_object_get(doc, "more")));
    json_t *items = jarr(doc, "items", 5, __LINE__);
    json_t *sg = json_array_get(items, 0);
    ASSERT_STR_EQ(jstr(sg, "type", __LINE__), "signal");
    ASSERT_STR_EQ(jstr(sg, "category", __LINE__), "workload");
    ASSERT_STR_EQ(jstr(sg, "alias", __LINE__), "Sam");
    json_t *noor = json_array_get(items, 1);
    ASSERT_STR_EQ(jstr(noor, "type", __LINE__), "reflection");
    ASSERT_STR_EQ(jstr(noor, "date", __LINE__), "2026-11-12");
    ASSERT_STR_EQ(jstr(noor, "situatie", __LINE__), "Noor in de groep");
    ASSERT_STR_EQ(jstr(noor, "share", __LINE__), "group");
    json_t *coach = json_array_get(items, 2);
    ASSERT_STR_EQ(jstr(coach, "share", __LINE__), "coach");
    ASSERT_STR_EQ(json_string_value(json_array_get(jarr(coach, "obstacles", 1, __LINE__), 0)),
                  "no-supervisor");
    ASSERT(json_object_get(coach, "climate") == NULL);
    json_t *react = json_array_get(jarr(coach, "reactions", 1, __LINE__), 0);
    ASSERT_STR_EQ(jstr(react, "alias", __LINE__), "Anja");
    ASSERT_STR_EQ(jstr(react, "text", __LINE__), "Goed dat je het zegt");
    json_t *own = json_array_get(items, 4);
    ASSERT_STR_EQ(jstr(own, "situatie", __LINE__), "Groepstekst van Sam");
    react = json_array_get(jarr(own, "reactions", 1, __LINE__), 0);
    ASSERT_STR_EQ(jstr(react, "member", __LINE__), t.m_noor);
    json_decref(doc);

    run(&r, "--data", t.sam, "--json", "feed", t.g, "--limit", "2", NULL);
    doc = json_of(&r, "feed", __LINE__);
    jarr(doc, "items", 2, __LINE__);
    ASSERT(json_is_true(json_object_get(doc, "more")));
    json_decref(doc);
    run(&r, "--data", t.sam, "feed", t.g, "--limit", "2", NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "(de nieuwste 2; --limit toont meer)");
    run(&r, "--data", t.sam, "--json", "feed", t.g, "--from", "2026-11-11", "--to", "2026-11-11",
        NULL);
    doc = json_of(&r, "feed", __LINE__);
    ASSERT_STR_EQ(jstr(doc, "from", __LINE__), "2026-11-11");
    items = jarr(doc, "items", 1, __LINE__);
    ASSERT_STR_EQ(jstr(json_array_get(items, 0), "situatie", __LINE__), "Geheim van Sam");
    json_decref(doc);
    run(&r, "--data", t.noor, "--json", "feed", t.g, "--days", "7", NULL);
    doc = json_of(&r, "feed", __LINE__);
    jarr(doc, "items", 0, __LINE__); /* the week was in the past */
    json_decref(doc);

    /* Bad input, each with its exit status. */
    run(&r, "--data", t.sam, "feed", NULL);
    expect_error(&r, EXIT_USAGE, "feed", __LINE__);
    run(&r, "--data", t.sam, "feed", "0123456789abcdef0123456789abcdef", NULL);
    expect_error(&r, EXIT_NOTFOUND, "onbekende groep", __LINE__);
    run(&r, "--data", t.sam, "feed", t.g, "--from", "2026-02-30", NULL);
    expect_error(&r, EXIT_INPUT, "2026-02-30", __LINE__);
    run(&r, "--data", t.sam, "feed", t.g, "--to", "12-11-2026", NULL);
    expect_error(&r, EXIT_INPUT, "12-11-2026", __LINE__);
    run(&r, "--data", t.sam, "feed", t.g, "--from", "2026-11-12", "--to", "2026-11-11", NULL);
    expect_error(&r, EXIT_INPUT, "--from", __LINE__);
    run(&r, "--data", t.sam, "feed", t.g, "--limit", "501", NULL);
    expect_error(&r, EXIT_INPUT, "--limit", __LINE__);
    run(&r, "--data", t.sam, "feed", t.g, "--limit", "99999999999999999999", NULL);
    expect_error(&r, EXIT_INPUT, "--limit", __LINE__);
    run(&r, "--data", t.sam, "feed", t.g, "--days", "0", NULL);
    expect_error(&r, EXIT_INPUT, "--days", __LINE__);
    run(&r, "--data", t.sam, "feed", t.g, "--days", "7", "--from", "2026-11-01", NULL);
    expect_error(&r, EXIT_USAGE, "--days", __LINE__);
}

/* A learner's own path: every shown day with the challenge, how it went and why, reactions,
 * the sign-off and the day off; the coach's view of it with the private day private; only
 * the coach names a learner. */
TEST(cli_history)
{
    struct trio t;
    struct run r;
    setup_trio(&t);

    run(&r, "--data", t.sam, "history", t.g, "--from", "2026-11-09", "--to", "2026-11-15", NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "Leerpad van Sam, 2026-11-09 t/m 2026-11-15");
    EXPECT_HAS(r.out, "datum       dag  challenge  hoe ging het");
    EXPECT_HAS(r.out, "2026-11-12  do   W11        deels         1         goed        geen tijd "
                      "bij begeleider\n");
    EXPECT_HAS(r.out, "gedaan");
    EXPECT_HAS(r.out, "geen dienst");
    EXPECT_HAS(r.out, "goed");
    EXPECT_HAS(r.out, "Sam: 3 werkdagen, 3 gereflecteerd");
    EXPECT_LACKS(r.out, "\n2026-11-09");
    EXPECT_LACKS(r.out, "Geheim");

    run(&r, "--data", t.sam, "--json", "history", t.g, "--from", "2026-11-09", "--to", "2026-11-15",
        NULL);
    json_t *doc = json_of(&r, "history", __LINE__);
    ASSERT_STR_EQ(jstr(doc, "member", __LINE__), t.m_sam);
    ASSERT_STR_EQ(jstr(doc, "to", __LINE__), "2026-11-15");
    ASSERT_EQ(proc_json_int(doc, "worked", __LINE__), 3);
    json_t *days = jarr(doc, "days", 4, __LINE__);
    json_t *d = json_array_get(days, 0);
    ASSERT_STR_EQ(jstr(d, "date", __LINE__), "2026-11-10");
    ASSERT_STR_EQ(jstr(d, "mark", __LINE__), "done");
    ASSERT_EQ(proc_json_int(d, "reactions", __LINE__), 1);
    ASSERT(json_is_string(json_object_get(d, "code")));
    d = json_array_get(days, 1);
    ASSERT_STR_EQ(jstr(d, "mark", __LINE__), "not");
    ASSERT(json_is_false(json_object_get(d, "private")));
    d = json_array_get(days, 2);
    ASSERT_STR_EQ(jstr(d, "status", __LINE__), "partly");
    ASSERT_STR_EQ(jstr(d, "signoff", __LINE__), "good");
    ASSERT_STR_EQ(json_string_value(json_array_get(jarr(d, "obstacles", 1, __LINE__), 0)),
                  "no-supervisor");
    ASSERT_STR_EQ(jstr(json_array_get(days, 3), "mark", __LINE__), "day-off");
    json_decref(doc);

    /* The coach sees the same path, the private day as private. */
    run(&r, "--data", t.coach, "--json", "history", t.g, "--member", t.m_sam, "--from",
        "2026-11-09", "--to", "2026-11-15", NULL);
    doc = json_of(&r, "history", __LINE__);
    days = jarr(doc, "days", 4, __LINE__);
    ASSERT_STR_EQ(jstr(json_array_get(days, 1), "mark", __LINE__), "private");
    ASSERT(json_is_null(json_object_get(json_array_get(days, 1), "status")));
    ASSERT_STR_EQ(jstr(json_array_get(days, 2), "status", __LINE__), "partly");
    json_decref(doc);
    run(&r, "--lang", "en", "--data", t.coach, "history", t.g, "--member", t.m_noor, "--from",
        "2026-11-09", "--to", "2026-11-15", NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "Learning path of Noor, 2026-11-09 to 2026-11-15");
    EXPECT_HAS(r.out, "private");

    /* Bad input, each with its exit status. */
    run(&r, "--data", t.sam, "history", NULL);
    expect_error(&r, EXIT_USAGE, "history", __LINE__);
    run(&r, "--data", t.sam, "history", "0123456789abcdef0123456789abcdef", NULL);
    expect_error(&r, EXIT_NOTFOUND, "onbekende groep", __LINE__);
    run(&r, "--data", t.noor, "history", t.g, "--member", t.m_sam, NULL);
    expect_error(&r, EXIT_DENIED, "--member", __LINE__);
    run(&r, "--data", t.coach, "history", t.g, NULL);
    expect_error(&r, EXIT_USAGE, "--member", __LINE__);
    run(&r, "--data", t.coach, "history", t.g, "--member", "0123456789abcdef0123456789abcdef",
        NULL);
    expect_error(&r, EXIT_NOTFOUND, "0123456789abcdef", __LINE__);
    run(&r, "--data", t.coach, "history", t.g, "--member", "sam", NULL);
    expect_error(&r, EXIT_INPUT, NULL, __LINE__);
    run(&r, "--data", t.sam, "history", t.g, "--from", "2026-02-30", NULL);
    expect_error(&r, EXIT_INPUT, "2026-02-30", __LINE__);
    run(&r, "--data", t.sam, "history", t.g, "--from", "2026-11-12", "--to", "2026-11-11", NULL);
    expect_error(&r, EXIT_INPUT, "--from", __LINE__);
    run(&r, "--data", t.sam, "history", t.g, "--from", "2025-01-01", "--to", "2026-11-15", NULL);
    expect_error(&r, EXIT_INPUT, "366", __LINE__);
}

/* `leave GROUP`: the student's device leaves through the hub even though the hub serves it
 * no more once the leave is in; the coach's device starts a new epoch at its next sync; a
 * hub that cannot be reached leaves the leave written and says to run it again. */
TEST(cli_leave)
{
    struct pair p;
    struct run r;
    char hub_dir[512], addr[32], key[65];
    setup_pair(&p);
    proc_tmp_path(hub_dir, sizeof hub_dir, "hub");
    pid_t hub = hub_up(hub_dir, NULL, addr, key);
    run(&r, "--data", p.coach, "group", "hub", p.group, key, addr, NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", p.coach, "sync", NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", p.student, "sync", addr, NULL);
    EXPECT_EXIT(r, 0);

    run(&r, "--data", p.student, "leave", NULL);
    expect_error(&r, EXIT_USAGE, NULL, __LINE__);
    run(&r, "--data", p.student, "leave", "0123456789abcdef0123456789abcdef", NULL);
    expect_error(&r, EXIT_NOTFOUND, NULL, __LINE__);
    run(&r, "--data", p.coach, "leave", p.group, NULL);
    expect_error(&r, EXIT_DENIED, "member remove", __LINE__);
    run(&r, "--data", p.student, "--json", "leave", p.group, NULL);
    expect_error(&r, EXIT_USAGE, "--json", __LINE__);

    /* The hub is away: the leave is written, and said to be undelivered. */
    hub_down(hub);
    run(&r, "--data", p.student, "leave", p.group, NULL);
    expect_error(&r, EXIT_NET, "wegwijs leave", __LINE__);
    run(&r, "--data", p.student, "--json", "groups", NULL);
    json_t *doc = json_of(&r, "groups", __LINE__);
    ASSERT(
        json_is_null(json_object_get(json_array_get(jarr(doc, "groups", 1, __LINE__), 0), "role")));
    json_decref(doc);
    run(&r, "--data", p.student, "dayoff", p.group, "2026-12-01", NULL);
    expect_error(&r, EXIT_DENIED, NULL, __LINE__);

    /* Back online, the same command delivers it. */
    struct proc_bg again;
    memset(&again, 0, sizeof again);
    proc_tmp_path(again.err_path, sizeof again.err_path, "hub2.err");
    int code = 0;
    ASSERT(
        proc_hub_try(&again, hub_dir, (int)strtol(strchr(addr, ':') + 1, NULL, 10), NULL, &code));
    run(&r, "--data", p.student, "leave", p.group, NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", p.student, "sync", NULL);
    expect_error(&r, EXIT_DENIED, NULL, __LINE__);
    run(&r, "--data", p.coach, "sync", NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", p.coach, "--json", "members", p.group, NULL);
    doc = json_of(&r, "members", __LINE__);
    json_t *m, *members = json_object_get(doc, "members");
    size_t i, left = 0;
    json_array_foreach(members, i, m)
    {
        if (!strcmp(json_string_value(json_object_get(m, "id")), p.member)) {
            ASSERT(json_is_false(json_object_get(m, "active")));
            left++;
        }
    }
    ASSERT_EQ(left, 1);
    json_decref(doc);
    /* The coach's device started a new epoch when it learned of the leave. */
    run(&r, "--data", p.coach, "--json", "groups", NULL);
    doc = json_of(&r, "groups", __LINE__);
    ASSERT_EQ(proc_json_int(json_array_get(jarr(doc, "groups", 1, __LINE__), 0), "epoch", __LINE__),
              2);
    json_decref(doc);
    proc_bg_stop(&again);
}

/* `challenge list`: each date's challenge, the coach's schedule marked, the rotation
 * otherwise; `challenge add` is `challenge define`. */
TEST(cli_challenge_list)
{
    struct pair p;
    struct run r;
    setup_pair(&p);
    run(&r, "--data", p.coach, "challenge", "add", p.group, "--code", "EIG2", "--title",
        "Eigen twee", "--description", "Doe iets eigens.", "--canmeds", "2", "--weeks", "1-52",
        NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", p.coach, "challenge", "schedule", p.group, "2026-12-01", "EIG2", NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", p.coach, "challenge", "list", p.group, "--from", "2026-11-30", "--to",
        "2026-12-02", NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "di 2026-12-01  * EIG2     Eigen twee\n");
    EXPECT_HAS(r.out, "ma 2026-11-30    ");
    EXPECT_HAS(r.out, "wo 2026-12-02    ");
    EXPECT_HAS(r.out, "ingepland door de coach");
    run(&r, "--data", p.coach, "--json", "challenge", "list", p.group, "--from", "2026-11-30",
        "--to", "2026-12-02", NULL);
    json_t *doc = json_of(&r, "challenge list", __LINE__);
    json_t *days = jarr(doc, "days", 3, __LINE__);
    ASSERT_STR_EQ(jstr(json_array_get(days, 1), "date", __LINE__), "2026-12-01");
    ASSERT(json_is_true(json_object_get(json_array_get(days, 1), "scheduled")));
    ASSERT(json_is_false(json_object_get(json_array_get(days, 0), "scheduled")));
    ASSERT_STR_EQ(jstr(json_object_get(json_array_get(days, 1), "challenge"), "code", __LINE__),
                  "EIG2");
    json_decref(doc);
    /* Without dates: two weeks from today. */
    run(&r, "--data", p.student, "--json", "challenge", "list", p.group, NULL);
    doc = json_of(&r, "challenge list", __LINE__);
    jarr(doc, "days", 14, __LINE__);
    json_decref(doc);

    run(&r, "--data", p.coach, "challenge", "list", NULL);
    expect_error(&r, EXIT_USAGE, NULL, __LINE__);
    run(&r, "--data", p.coach, "challenge", "list", p.group, "--from", "2026-12-02", "--to",
        "2026-12-01", NULL);
    expect_error(&r, EXIT_INPUT, "--from", __LINE__);
    run(&r, "--data", p.coach, "challenge", "list", p.group, "--from", "2026-01-01", "--to",
        "2026-12-01", NULL);
    expect_error(&r, EXIT_INPUT, "92", __LINE__);
    run(&r, "--data", p.coach, "challenge", "list", p.group, "--from", "2026-02-30", NULL);
    expect_error(&r, EXIT_INPUT, "2026-02-30", __LINE__);
    run(&r, "--data", p.coach, "challenge", "list", "0123456789abcdef0123456789abcdef", NULL);
    expect_error(&r, EXIT_NOTFOUND, NULL, __LINE__);
}

/* The cells of one printed QR line: the UTF-8 characters between the colour and the reset. */
static size_t qr_cells(const char *line, const char *end)
{
    size_t n = 0;
    for (const char *p = line; p < end; p++)
        n += ((unsigned char)*p & 0xC0) != 0x80;
    return n;
}

/* `invite --qr`: the code as a QR symbol of half blocks, with its quiet zone and the finder
 * patterns where the standard puts them; only on a terminal unless asked for. */
TEST(cli_invite_qr)
{
    struct pair p;
    struct run r;
    char hub_dir[512], addr[32], key[65];
    setup_pair(&p);
    proc_tmp_path(hub_dir, sizeof hub_dir, "hub");
    pid_t hub = hub_up(hub_dir, NULL, addr, key);
    run(&r, "--data", p.coach, "group", "hub", p.group, key, addr, NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", p.coach, "invite", p.group, "--qr", NULL);
    EXPECT_EXIT(r, 0);
    static const char color[] = "\x1b[30;107m", reset[] = "\x1b[0m\n";
    size_t lines = 0, side = 0;
    for (const char *at = strstr(r.out, color); at; at = strstr(at + 1, color)) {
        const char *cells = at + sizeof color - 1, *end = strstr(cells, reset);
        ASSERT(end != NULL);
        size_t n = qr_cells(cells, end);
        if (lines++ == 0)
            side = n;
        ASSERT_EQ(n, side); /* a square, line by line */
    }
    /* 4 light modules around a symbol of 21 + 4 (version - 1) modules, two rows a line. */
    ASSERT_GE(side, 29);
    ASSERT_EQ((side - 8 - 21) % 4, 0);
    ASSERT_EQ(lines, (side + 1) / 2);
    /* The third line holds rows 0 and 1: the top of the finder patterns, left and right. */
    EXPECT_HAS(r.out, "    \xe2\x96\x88\xe2\x96\x80\xe2\x96\x80\xe2\x96\x80\xe2\x96\x80\xe2\x96\x80"
                      "\xe2\x96\x88");
    /* The code itself comes first, on its own line. */
    ASSERT(strncmp(r.out, addr, strlen(addr)) == 0);

    run(&r, "--data", p.coach, "invite", p.group, NULL); /* not a terminal: no symbol */
    EXPECT_EXIT(r, 0);
    EXPECT_LACKS(r.out, color);
    run(&r, "--data", p.coach, "invite", p.group, "--qr", "--no-qr", NULL);
    expect_error(&r, EXIT_USAGE, "--no-qr", __LINE__);
    hub_down(hub);
}

/* `reflect GROUP` without --status asks the STARR questions; from a pipe it reads the
 * answers one per line, in the order of the questions, and what options give is not
 * asked. Answers that end early, or a word that is not one, change nothing. */
TEST(cli_reflect_reads_starr_answers)
{
    struct pair p;
    struct run r;
    char cmd[2048], out[4096];
    setup_pair(&p);
    snprintf(cmd, sizeof cmd,
             "printf 'deels\\ngeen-tijd-begeleider durfde-niet\\nOp de gang\\nHelpen\\nGevraagd\\n"
             "Gelukt\\nEerder vragen\\ngroep\\n' | '%s' --lang nl --data '%s' reflect %s --date "
             "2026-11-24 2>&1",
             proc_cli_path(), p.student, p.group);
    int st = proc_shell(cmd, out, sizeof out);
    ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    EXPECT_HAS(out, "reflectie voor 2026-11-24 opgeslagen (groep)");
    run(&r, "--data", p.student, "--json", "reflections", p.group, NULL);
    json_t *doc = json_of(&r, "reflections", __LINE__);
    json_t *r0 = json_array_get(jarr(doc, "reflections", 1, __LINE__), 0);
    ASSERT_STR_EQ(jstr(r0, "status", __LINE__), "partly");
    ASSERT_STR_EQ(jstr(r0, "share", __LINE__), "group");
    ASSERT_STR_EQ(jstr(r0, "situatie", __LINE__), "Op de gang");
    ASSERT_STR_EQ(jstr(r0, "reflectie", __LINE__), "Eerder vragen");
    ASSERT_EQ(json_array_size(json_object_get(r0, "obstacles")), 2);
    json_decref(doc);

    /* Options are not asked again: with --taak, four texts and who reads it. */
    snprintf(cmd, sizeof cmd,
             "printf 'gedaan\\nS\\nT\\nA\\nR\\n\\n' | '%s' --lang nl --data '%s' reflect %s "
             "--date 2026-11-25 --taak Gegeven 2>&1",
             proc_cli_path(), p.student, p.group);
    st = proc_shell(cmd, out, sizeof out);
    ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    EXPECT_HAS(out, "(privé)"); /* an empty answer keeps it to oneself */
    run(&r, "--data", p.student, "--json", "reflections", p.group, NULL);
    doc = json_of(&r, "reflections", __LINE__);
    json_t *r1 = json_array_get(jarr(doc, "reflections", 2, __LINE__), 0);
    ASSERT_STR_EQ(jstr(r1, "taak", __LINE__), "Gegeven");
    ASSERT_STR_EQ(jstr(r1, "actie", __LINE__), "T");
    json_decref(doc);

    /* Ended early, or not a word: refused, nothing saved. */
    snprintf(cmd, sizeof cmd,
             "printf 'deels\\n' | '%s' --lang nl --data '%s' reflect %s --date 2026-11-26 2>&1",
             proc_cli_path(), p.student, p.group);
    st = proc_shell(cmd, out, sizeof out);
    ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 3);
    EXPECT_HAS(out, "wegwijs: de antwoorden hielden op");
    snprintf(cmd, sizeof cmd,
             "printf 'misschien\\n' | '%s' --lang nl --data '%s' reflect %s --date 2026-11-26 "
             "2>&1",
             proc_cli_path(), p.student, p.group);
    st = proc_shell(cmd, out, sizeof out);
    ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 3);
    EXPECT_HAS(out, "misschien");
    run(&r, "--data", p.student, "--json", "reflections", p.group, NULL);
    doc = json_of(&r, "reflections", __LINE__);
    jarr(doc, "reflections", 2, __LINE__);
    json_decref(doc);
}

/* ---- climate demo ------------------------------------------------------------------------ */

/* The unit of a `climate demo --json` document with that name, or a failure. */
static json_t *climate_unit(json_t *doc, const char *name, int line)
{
    json_t *units = json_object_get(doc, "units"), *u;
    size_t i;
    json_array_foreach(units, i, u)
    {
        const char *n = json_string_value(json_object_get(u, "name"));
        if (n && !strcmp(n, name))
            return u;
    }
    ww_test_fail(__FILE__, line, "no unit '%s' in the climate report", name);
    return NULL;
}

/* The generated region through the real aggregation, as JSON: the documented shape, the
 * window named by its dates, suppressed cells and categories without any value, the alert
 * for the team with a drop and for the team with low veilig answers, nowhere else. */
TEST(cli_climate_demo_json)
{
    struct run r;
    run(&r, "climate", "demo", "--groups", "12", "--weeks", "8", "--json", NULL);
    json_t *doc = json_of(&r, "climate demo", __LINE__);
    ASSERT(json_is_true(json_object_get(doc, "generated")));
    ASSERT_GE(proc_json_int(doc, "k", __LINE__), 5);
    json_t *units = json_object_get(doc, "units"), *u;
    ASSERT_GE(json_array_size(units), 8);
    size_t i, shown = 0, suppressed = 0, drops = 0, lows = 0;
    long long loop_signals = 0;
    json_array_foreach(units, i, u)
    {
        const char *level = jstr(u, "level", __LINE__);
        ASSERT(!strcmp(level, "region") || !strcmp(level, "location") || !strcmp(level, "team"));
        ASSERT(jstr(u, "name", __LINE__)[0] != '\0');
        json_t *windows = json_object_get(u, "windows"), *w;
        ASSERT_EQ(json_array_size(windows), 2);
        size_t j;
        json_array_foreach(windows, j, w)
        {
            long long win = proc_json_int(w, "window", __LINE__);
            char from[11], to[11];
            ww_date_format((uint32_t)(4 + 28 * win), from);
            ww_date_format((uint32_t)(4 + 28 * win + 27), to);
            ASSERT_STR_EQ(jstr(w, "from", __LINE__), from);
            ASSERT_STR_EQ(jstr(w, "to", __LINE__), to);
            if (!json_is_true(json_object_get(w, "shown"))) {
                /* window, from, to, shown, invalid: nothing that could be a value */
                ASSERT_EQ(json_object_size(w), 5);
                suppressed++;
                continue;
            }
            shown++;
            ASSERT_GE(proc_json_int(w, "students", __LINE__), 5);
            json_t *cats = json_object_get(w, "categories"), *c;
            ASSERT_EQ(json_array_size(cats), 6);
            size_t k;
            json_array_foreach(cats, k, c)
            {
                if (!json_is_true(json_object_get(c, "shown"))) {
                    ASSERT_EQ(json_object_size(c), 2);
                    continue;
                }
                double mean = json_real_value(json_object_get(c, "mean"));
                ASSERT(mean >= 1.0 && mean <= 5.0);
                ASSERT(json_is_integer(json_object_get(c, "low_pct")));
                if (json_is_true(json_object_get(c, "alert_drop"))) {
                    /* the team, or its location when the team weighs enough in it */
                    const char *name = jstr(u, "name", __LINE__);
                    ASSERT(!strcmp(name, "Midden-1") || !strcmp(name, "Midden"));
                    ASSERT(json_real_value(json_object_get(c, "trend")) <= -0.5);
                    drops++;
                }
                if (json_is_true(json_object_get(c, "alert_low"))) {
                    const char *name = jstr(u, "name", __LINE__);
                    ASSERT(!strcmp(name, "Zuid-1") || !strcmp(name, "Zuid"));
                    ASSERT_STR_EQ(jstr(c, "category", __LINE__), "veilig");
                    lows++;
                }
            }
            json_t *p = json_object_get(w, "participation");
            ASSERT(json_is_object(p));
            /* The coach loop: counts, answered ones no more than signals. */
            json_t *loop = json_object_get(w, "coach_loop");
            long long signals = proc_json_int(loop, "signals", __LINE__);
            ASSERT(proc_json_int(loop, "answered", __LINE__) <= signals);
            ASSERT(signals ? json_is_integer(json_object_get(loop, "answered_pct"))
                           : json_is_null(json_object_get(loop, "answered_pct")));
            ASSERT(proc_json_int(loop, "signoffs", __LINE__) >= 0);
            ASSERT(json_is_real(json_object_get(loop, "signoffs_per_student")));
            loop_signals += signals;
        }
    }
    ASSERT_GT(shown, 0);
    ASSERT_GT(suppressed, 0);
    ASSERT_GT(loop_signals, 0);
    ASSERT_GT(drops, 0);
    ASSERT_GT(lows, 0);
    /* The team on its own is suppressed in every window, the drop is in the last one. */
    json_t *alone = json_object_get(climate_unit(doc, "Noord-1", __LINE__), "windows");
    ASSERT(json_is_false(json_object_get(json_array_get(alone, 0), "shown")));
    ASSERT(json_is_false(json_object_get(json_array_get(alone, 1), "shown")));
    json_t *dropped = json_object_get(climate_unit(doc, "Midden-1", __LINE__), "windows");
    json_t *last = json_object_get(json_array_get(dropped, 1), "categories");
    ASSERT(json_is_true(json_object_get(json_array_get(last, 0), "alert_drop")));
    ASSERT(json_is_null(json_object_get(
        json_array_get(json_object_get(json_array_get(dropped, 0), "categories"), 0), "trend")));
    json_decref(doc);
}

/* Text, CSV and HTML of the same demo: suppressed cells say so, the invitation is there,
 * the page has a chart per category and no script. */
TEST(cli_climate_demo_outputs)
{
    struct run r;
    run(&r, "--lang", "en", "climate", "demo", "--groups", "12", "--weeks", "8", NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "Generated demo data");
    const char *alone = strstr(r.out, "== Noord-1 ==\n");
    ASSERT(alone != NULL);
    ASSERT(strncmp(strchr(alone + 15, ':'), ": not enough respondents to show\n", 33) == 0);
    const char *dropped = strstr(r.out, "== Midden-1 ==\n");
    ASSERT(dropped != NULL);
    const char *next = strstr(dropped + 1, "\n== ");
    const char *invite = strstr(dropped, "! invitation to a team conversation: ");
    ASSERT(invite != NULL && next != NULL && invite < next);
    EXPECT_HAS(invite, "fell by");
    /* The coach loop of a shown cell; none for the suppressed team. */
    const char *loop = strstr(dropped, "    coach loop: ");
    ASSERT(loop != NULL && loop < next);
    ASSERT(strstr(loop, "    sign-offs: ") < next);
    ASSERT(strstr(alone, "coach loop") > strstr(alone + 1, "\n== "));
    EXPECT_LACKS(r.out, "2026-08-31: "); /* windows are named by both dates */
    EXPECT_HAS(r.out, "2026-08-31 to 2026-09-27: ");

    run(&r, "climate", "demo", "--groups", "12", "--weeks", "8", "--csv", NULL);
    EXPECT_EXIT(r, 0);
    ASSERT(strncmp(r.out, "generated,level,unit,location,name,window,from,to,category,suppressed,",
                   70) == 0);
    EXPECT_HAS(r.out,
               "\n1,team,100,1,\"Noord-1\",739,2026-08-31,2026-09-27,veilig,1,0,,,,,,,,,,,,,\n");
    EXPECT_HAS(r.out, ",alert_low,signals,answered,answered_pct,signoffs,signoffs_per_student\n");
    EXPECT_HAS(r.out, "\n1,region,0,0,");
    size_t rows = 0;
    for (const char *s = r.out; (s = strchr(s, '\n')); s++)
        rows++;
    ASSERT_EQ((rows - 1) % 6, 0);

    char html[512];
    static char page[512 * 1024];
    proc_tmp_path(html, sizeof html, "climate.html");
    run(&r, "--lang", "en", "climate", "demo", "--groups", "12", "--weeks", "8", "--html", html,
        NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "climate.html");
    size_t n = proc_slurp(html, page, sizeof page - 1);
    ASSERT_GT(n, 1000);
    page[n] = '\0';
    size_t svgs = 0;
    for (const char *s = page; (s = strstr(s, "<svg xmlns=")); s++)
        svgs++;
    ASSERT_EQ(svgs, 6);
    EXPECT_LACKS(page, "<script");
    EXPECT_LACKS(page, "src=");
    EXPECT_LACKS(page, "href=");
    EXPECT_HAS(page, "Generated demo data");
    EXPECT_HAS(page, "class=\"suppressed\"");
    EXPECT_HAS(page, "not enough respondents to show");
    EXPECT_HAS(page, "invitation to a team conversation");
    EXPECT_HAS(page, "coach loop and sign-offs");
    EXPECT_HAS(page, "answered by the coach");
    EXPECT_HAS(page, "</html>\n");
}

/* The command line's shape is checked: exit 2; values out of range: exit 3. */
TEST(cli_climate_bad_arguments)
{
    struct run r;
    run(&r, "climate", NULL);
    expect_error(&r, 2, "demo", __LINE__);
    run(&r, "climate", "show", NULL);
    expect_error(&r, 2, "show", __LINE__);
    run(&r, "climate", "demo", "extra", NULL);
    expect_error(&r, 2, NULL, __LINE__);
    run(&r, "climate", "demo", "--bogus", NULL);
    expect_error(&r, 2, "bogus", __LINE__);
    run(&r, "climate", "demo", "--csv", "--json", NULL);
    expect_error(&r, 2, "--csv", __LINE__);
    run(&r, "climate", "demo", "--html", "x.html", "--csv", NULL);
    expect_error(&r, 2, "--html", __LINE__);
    run(&r, "climate", "demo", "--groups", NULL);
    expect_error(&r, 2, NULL, __LINE__);
    run(&r, "--lang", "en", "climate", "demo", "--groups", "11", NULL);
    expect_error(&r, 3, "12..100", __LINE__);
    run(&r, "--lang", "en", "climate", "demo", "--weeks", "21", NULL);
    expect_error(&r, 3, "8..20", __LINE__);
    run(&r, "climate", "demo", "--weeks", "1e3", NULL);
    expect_error(&r, 3, NULL, __LINE__);
    run(&r, "climate", "demo", "--html", "", NULL);
    expect_error(&r, 3, NULL, __LINE__);
}

/* `group owner GROUP KEY`: the coach hands the group over to a laptop added to the coach's
 * own member; the laptop manages the members from then on, the old phone no longer. */
TEST(cli_group_owner)
{
    struct pair p;
    struct run r;
    setup_pair(&p);
    char laptop[512], key[65], bundle[512];
    proc_tmp_path(laptop, sizeof laptop, "laptop");
    run(&r, "--data", laptop, "init", NULL);
    EXPECT_EXIT(r, 0);
    first_line(r.out, key, sizeof key);
    run(&r, "--data", p.coach, "--json", "groups", NULL);
    json_t *doc = json_of(&r, "groups", __LINE__);
    char coach_member[33];
    snprintf(coach_member, sizeof coach_member, "%s",
             json_string_value(
                 json_object_get(json_array_get(jarr(doc, "groups", 1, __LINE__), 0), "member")));
    json_decref(doc);

    /* Not yet a device of the coach's; not a key; the student's device; not the owner. */
    run(&r, "--data", p.coach, "group", "owner", p.group, key, NULL);
    expect_error(&r, EXIT_NOTFOUND, "de groep overdragen aan", __LINE__);
    run(&r, "--data", p.coach, "group", "owner", p.group, "xyz", NULL);
    EXPECT_EXIT(r, EXIT_INPUT);
    run(&r, "--data", p.coach, "group", "owner", p.group, NULL);
    EXPECT_EXIT(r, EXIT_USAGE);
    run(&r, "--data", p.coach, "group", "owner", p.group, p.student_key, NULL);
    EXPECT_EXIT(r, EXIT_NOTFOUND);
    run(&r, "--data", p.student, "group", "owner", p.group, p.student_key, NULL);
    EXPECT_EXIT(r, EXIT_DENIED);

    run(&r, "--data", p.coach, "device", "add", p.group, coach_member, key, NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", p.coach, "group", "owner", p.group, key, NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "is nu de eigenaar van de groep");
    run(&r, "--data", p.coach, "member", "remove", p.group, p.member, NULL);
    EXPECT_EXIT(r, EXIT_DENIED);
    proc_tmp_path(bundle, sizeof bundle, "to-laptop.wwb");
    run(&r, "--data", p.coach, "bundle", "export", p.group, bundle, NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", laptop, "bundle", "import", bundle, NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", laptop, "--json", "groups", NULL);
    doc = json_of(&r, "groups", __LINE__);
    ASSERT(json_is_true(
        json_object_get(json_array_get(jarr(doc, "groups", 1, __LINE__), 0), "owner")));
    json_decref(doc);
    run(&r, "--data", laptop, "member", "remove", p.group, p.member, NULL);
    EXPECT_EXIT(r, 0);
}

/* `recover GROUP CODE`: the coach's only phone is lost; a new phone gets the group's log in a
 * student's bundle, takes the group over with the recovery code, and the student's bundle
 * back makes it known; the lost phone can no longer change the group. */
TEST(cli_recover)
{
    struct pair p;
    struct run r;
    setup_pair(&p);
    char np[512], bundle[512], back[512];
    proc_tmp_path(np, sizeof np, "newphone");
    proc_tmp_path(bundle, sizeof bundle, "from-student.wwb");
    proc_tmp_path(back, sizeof back, "to-student.wwb");
    run(&r, "--data", np, "init", NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", np, "recover", p.group, p.recovery, NULL);
    EXPECT_EXIT(r, EXIT_NOTFOUND); /* it holds no group yet */
    run(&r, "--data", p.student, "bundle", "export", p.group, bundle, NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", np, "bundle", "import", bundle, NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", np, "recover", p.group, "0123-4567", NULL);
    expect_error(&r, EXIT_INPUT, "niet de herstelcode van deze groep", __LINE__);
    run(&r, "--data", np, "recover", p.group, NULL);
    EXPECT_EXIT(r, EXIT_USAGE);
    run(&r, "--data", p.student, "recover", p.group, p.recovery, NULL);
    EXPECT_EXIT(r, EXIT_CONFLICT); /* a member hands over instead */
    run(&r, "--data", np, "recover", p.group, p.recovery, NULL);
    EXPECT_EXIT(r, 0);
    EXPECT_HAS(r.out, "dit apparaat is nu de eigenaar van de groep");
    run(&r, "--data", np, "--json", "groups", NULL);
    json_t *doc = json_of(&r, "groups", __LINE__);
    json_t *g = json_array_get(jarr(doc, "groups", 1, __LINE__), 0);
    ASSERT(json_is_true(json_object_get(g, "owner")));
    ASSERT_EQ(proc_json_int(g, "epoch", __LINE__), 2);
    json_decref(doc);

    /* The news reaches the student, and from it the lost phone. */
    run(&r, "--data", np, "bundle", "export", p.group, back, NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", p.student, "bundle", "import", back, NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", p.student, "--json", "groups", NULL);
    doc = json_of(&r, "groups", __LINE__);
    ASSERT_EQ(proc_json_int(json_array_get(jarr(doc, "groups", 1, __LINE__), 0), "epoch", __LINE__),
              2);
    json_decref(doc);
    run(&r, "--data", p.coach, "bundle", "import", back, NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", p.coach, "member", "remove", p.group, p.member, NULL);
    ASSERT(r.exited && r.code != 0);
    run(&r, "--data", np, "member", "remove", p.group, p.member, NULL);
    EXPECT_EXIT(r, 0);
}

/* A student's data folder restored from an old copy, written on before it hears from the
 * group: one of the two days off the student marked at the same place of its log loses
 * the fork (which one is up to the hashes); the import says so and writes it again. */
TEST(cli_restored_folder_is_told)
{
    struct run r;
    struct pair p;
    setup_pair(&p);
    char copy[600], to_coach[512], to_student[512], cmd[2400];
    snprintf(copy, sizeof copy, "%s.copy", p.student);
    proc_tmp_path(to_coach, sizeof to_coach, "to-coach.wwb");
    proc_tmp_path(to_student, sizeof to_student, "to-student2.wwb");
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -a '%s' '%s'", copy, p.student, copy);
    ASSERT_EQ(system(cmd), 0);
    run(&r, "--data", p.student, "dayoff", p.group, "2026-12-01", NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", p.student, "bundle", "export", p.group, to_coach, NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", p.coach, "bundle", "import", to_coach, NULL);
    EXPECT_EXIT(r, 0);
    /* The restore: the old copy back, and another day off written on it. */
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mv '%s' '%s'", p.student, copy, p.student);
    ASSERT_EQ(system(cmd), 0);
    run(&r, "--data", p.student, "dayoff", p.group, "2026-12-02", NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", p.coach, "bundle", "export", p.group, to_student, NULL);
    EXPECT_EXIT(r, 0);
    run(&r, "--data", p.student, "--json", "bundle", "import", to_student, NULL);
    ASSERT(r.exited);
    json_error_t je;
    json_t *doc = json_loads(r.out, 0, &je);
    ASSERT(doc != NULL);
    ASSERT_EQ(json_integer_value(json_object_get(doc, "own_lost")), 1);
    ASSERT_EQ(json_integer_value(json_object_get(doc, "rewritten")), 1);
    json_decref(doc);
    EXPECT_HAS(r.err, "oudere kopie van zijn gegevens");
    EXPECT_HAS(r.err, "1 daarvan zijn opnieuw geschreven");
}
