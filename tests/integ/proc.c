/*
 * proc.c - helpers of the tests that run the real binary (proc.h).
 */
#include "proc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *proc_cli_path(void)
{
    static char path[PATH_MAX + 16];
    if (path[0])
        return path;
    const char *build = getenv("WW_BUILD");
    if (build && *build) {
        snprintf(path, sizeof path, "%s/wegwijs", build);
        return path;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/'); /* .../tests/unit_tests */
        if (slash) {
            *slash = '\0';
            slash = strrchr(exe, '/'); /* .../tests */
            if (slash) {
                *slash = '\0';
                snprintf(path, sizeof path, "%s/wegwijs", exe);
                if (access(path, X_OK) == 0)
                    return path;
            }
        }
    }
    snprintf(path, sizeof path, "build/wegwijs");
    return path;
}

void proc_tmp_path(char *out, size_t cap, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", ww_test_tmpdir(), name);
    if (n < 0 || (size_t)n >= cap)
        ww_test_fail(__FILE__, __LINE__, "path too long: %s", name);
}

size_t proc_slurp(const char *path, char *buf, size_t cap)
{
    size_t n = 0;
    FILE *f = fopen(path, "rb");
    if (f) {
        n = fread(buf, 1, cap, f);
        fclose(f);
    }
    buf[n] = '\0';
    return n;
}

int proc_loopback_socket(int port, struct sockaddr_in *a)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT(s >= 0);
    memset(a, 0, sizeof *a);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a->sin_port = htons((uint16_t)port);
    return s;
}

int proc_free_port(void)
{
    struct sockaddr_in a;
    int s = proc_loopback_socket(0, &a);
    socklen_t len = sizeof a;
    ASSERT_EQ(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    ASSERT_EQ(getsockname(s, (struct sockaddr *)&a, &len), 0);
    close(s);
    return ntohs(a.sin_port);
}

void proc_child_env(void)
{
    static const char *const vars[] = {"WEGWIJS_LANG", "WEGWIJS_HOME", "XDG_DATA_HOME", "LANG",
                                       "LC_ALL",       "LC_MESSAGES",  "LANGUAGE"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i]);
    if (setenv("HOME", ww_test_tmpdir(), 1) != 0)
        _exit(126);
}

json_t *proc_json(const char *out, const char *command, int line)
{
    json_error_t e;
    json_t *doc = json_loads(out, JSON_REJECT_DUPLICATES, &e);
    if (!doc)
        ww_test_fail(__FILE__, line, "not JSON (%s, line %d): %.400s", e.text, e.line, out);
    if (!json_is_object(doc) || !json_is_integer(json_object_get(doc, "version")) ||
        json_integer_value(json_object_get(doc, "version")) != 1)
        ww_test_fail(__FILE__, line, "no \"version\": 1: %.400s", out);
    const char *cmd = json_string_value(json_object_get(doc, "command"));
    if (!cmd || strcmp(cmd, command) != 0)
        ww_test_fail(__FILE__, line, "\"command\" is not \"%s\": %.400s", command, out);
    return doc;
}

const char *proc_json_str(json_t *o, const char *key, int line)
{
    const char *v = json_string_value(json_object_get(o, key));
    if (!v)
        ww_test_fail(__FILE__, line, "no string \"%s\"", key);
    return v;
}

json_t *proc_json_array(json_t *o, const char *key, size_t n, int line)
{
    json_t *a = json_object_get(o, key);
    if (!json_is_array(a) || json_array_size(a) != n)
        ww_test_fail(__FILE__, line, "\"%s\" is not an array of %zu", key, n);
    return a;
}

long long proc_json_int(json_t *o, const char *key, int line)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        ww_test_fail(__FILE__, line, "no integer \"%s\"", key);
    return (long long)json_integer_value(v);
}

void proc_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

int proc_shell(const char *cmd, char *out, size_t cap)
{
    fflush(stdout);
    FILE *p = popen(cmd, "r");
    if (!p)
        ww_test_fail(__FILE__, __LINE__, "popen: %s", cmd);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    return pclose(p);
}

/* ---- Processes ---------------------------------------------------------------------------- */

static char out_buf[PROC_OUT_MAX + 1], err_buf[PROC_ERR_MAX + 1];

long proc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Starts the command (args NULL-terminated, without the program name) with its stdout and
 * stderr on the given descriptors. The child dies with this process. */
pid_t proc_spawn(const char *const *argv, int out_fd, int err_fd, int close_fd)
{
    const char *args[PROC_MAX_ARGS + 2];
    size_t n = 0;
    args[n++] = proc_cli_path();
    while (argv[n - 1] && n < PROC_MAX_ARGS + 1) {
        args[n] = argv[n - 1];
        n++;
    }
    args[n] = NULL;
    pid_t parent = getpid();
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        ww_test_fail(__FILE__, __LINE__, "fork: %s", strerror(errno));
    if (pid == 0) {
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
            _exit(126);
        if (close_fd >= 0)
            close(close_fd);
        int in = open("/dev/null", O_RDONLY); /* never the terminal `make test` runs in */
        if (in < 0 || dup2(in, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
            _exit(126);
        proc_child_env();
        execv(args[0], (char *const *)args);
        _exit(127);
    }
    return pid;
}

/* Waits at most ms for pid; 0 and its status, or -1 after killing and reaping it. */
int proc_wait_bounded(pid_t pid, long ms, int *status)
{
    long end = proc_now_ms() + ms;
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid)
            return 0;
        if (r < 0 && errno != EINTR)
            ww_test_fail(__FILE__, __LINE__, "waitpid: %s", strerror(errno));
        if (proc_now_ms() > end)
            break;
        proc_sleep_ms(2);
    }
    kill(pid, SIGKILL);
    while (waitpid(pid, status, 0) < 0 && errno == EINTR) {
    }
    return -1;
}

void proc_run_argv(struct proc_run *r, const char *const *argv)
{
    char out_path[512], err_path[512];
    proc_tmp_path(out_path, sizeof out_path, "cli.out");
    proc_tmp_path(err_path, sizeof err_path, "cli.err");
    int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (o < 0 || e < 0)
        ww_test_fail(__FILE__, __LINE__, "open: %s", strerror(errno));
    long start = proc_now_ms();
    pid_t pid = proc_spawn(argv, o, e, -1);
    close(o);
    close(e);
    int status = 0;
    if (proc_wait_bounded(pid, PROC_RUN_MS, &status) != 0)
        ww_test_fail(__FILE__, __LINE__, "%s %s %s %s: still running after %d ms", argv[0],
                     argv[1] ? argv[1] : "", argv[1] && argv[2] ? argv[2] : "",
                     argv[1] && argv[2] && argv[3] ? argv[3] : "", PROC_RUN_MS);
    r->ms = proc_now_ms() - start;
    r->exited = WIFEXITED(status);
    r->code = r->exited ? WEXITSTATUS(status) : WIFSIGNALED(status) ? WTERMSIG(status) : -1;
    proc_slurp(out_path, out_buf, PROC_OUT_MAX);
    proc_slurp(err_path, err_buf, PROC_ERR_MAX);
    r->out = out_buf;
    r->err = err_buf;
    if (r->exited && (r->code == 127 || r->code == 126))
        ww_test_fail(__FILE__, __LINE__, "cannot run %s", proc_cli_path());
}

const char *proc_last_out(void)
{
    return out_buf;
}

/* proc_run(&r, "--data", dir, "groups", NULL) */
void proc_run(struct proc_run *r, ...)
{
    const char *argv[PROC_MAX_ARGS + 1];
    size_t n = 0;
    va_list ap;
    va_start(ap, r);
    const char *a;
    while ((a = va_arg(ap, const char *)) && n < PROC_MAX_ARGS)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    proc_run_argv(r, argv);
}

void proc_first_line(const char *s, char *out, size_t cap)
{
    size_t n = strcspn(s, "\n");
    if (n >= cap)
        ww_test_fail(__FILE__, __LINE__, "line too long: %.80s", s);
    memcpy(out, s, n);
    out[n] = '\0';
}

int proc_is_hex(const char *s, size_t len)
{
    if (strlen(s) != len)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

/* The last line of out that is exactly 64 hex digits (an event id a verb printed). */
void proc_event_id(const char *out, char id[65])
{
    id[0] = '\0';
    for (const char *q = out; *q;) {
        size_t n = strcspn(q, "\n");
        if (n == 64 && strspn(q, "0123456789abcdef") == 64) {
            memcpy(id, q, 64);
            id[64] = '\0';
        }
        q += n;
        if (*q)
            q++;
    }
    if (!id[0])
        ww_test_fail(__FILE__, __LINE__, "no event id in: %.400s", out);
}

/* Reads one line from fd within the deadline; 1 when a whole line came, 0 at EOF. */
int proc_read_line(int fd, char *buf, size_t cap, long deadline)
{
    size_t n = 0;
    while (n + 1 < cap) {
        long left = deadline - proc_now_ms();
        if (left <= 0)
            ww_test_fail(__FILE__, __LINE__, "no line within the time limit: \"%.*s\"", (int)n,
                         buf);
        struct pollfd p = {fd, POLLIN, 0};
        int rc = poll(&p, 1, (int)left);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0)
            continue;
        ssize_t got = read(fd, buf + n, 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            buf[n] = '\0';
            return 0;
        }
        if (buf[n] == '\n') {
            buf[n] = '\0';
            return 1;
        }
        n++;
    }
    buf[n] = '\0';
    return 1;
}

/* One attempt at starting the hub on port (0: ephemeral); 1 started, 0 it exited with the
 * status in *code. */
int proc_hub_try(struct proc_bg *h, const char *dir, int port, const char *const *extra, int *code)
{
    char listen[32], line[512];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    int p[2];
    ASSERT_EQ(pipe(p), 0);
    int e = open(h->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT(e >= 0);
    const char *argv[16] = {"--data", dir, "hub", "--listen", listen, NULL};
    for (size_t i = 0; extra && extra[i]; i++) {
        ASSERT_LT(5 + i, 15);
        argv[5 + i] = extra[i];
    }
    h->pid = proc_spawn(argv, p[1], e, p[0]);
    close(p[1]);
    close(e);
    h->fd = p[0];
    if (proc_read_line(h->fd, line, sizeof line, proc_now_ms() + PROC_START_MS)) {
        const char *at = strstr(line, "127.0.0.1:");
        ASSERT(at != NULL);
        h->port = (int)strtol(at + 10, NULL, 10);
        ASSERT(h->port > 0 && h->port < 65536);
        if (port)
            ASSERT_EQ(h->port, port);
        return 1;
    }
    int status = 0;
    if (proc_wait_bounded(h->pid, PROC_STOP_MS, &status) != 0)
        ww_test_fail(__FILE__, __LINE__, "the hub closed its stdout and kept running");
    close(h->fd);
    h->fd = -1;
    h->pid = 0;
    *code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return 0;
}

void proc_hub_start(struct proc_bg *h, const char *dir, const char *name)
{
    proc_hub_start_with(h, dir, name, NULL);
}

void proc_hub_start_with(struct proc_bg *h, const char *dir, const char *name,
                         const char *const *extra)
{
    memset(h, 0, sizeof *h);
    h->fd = -1;
    char errname[64];
    snprintf(errname, sizeof errname, "%s.err", name);
    proc_tmp_path(h->err_path, sizeof h->err_path, errname);
    int code = 0;
    if (proc_hub_try(h, dir, 0, extra, &code))
        return;
    char err[PROC_ERR_MAX + 1];
    proc_slurp(h->err_path, err, PROC_ERR_MAX);
    ww_test_fail(__FILE__, __LINE__, "hub --listen 127.0.0.1:0 exited %d: %s", code, err);
}

/* SIGTERM, then a bounded wait; the process must exit 0 of its own. */
void proc_bg_stop(struct proc_bg *b)
{
    if (b->pid <= 0)
        return;
    ASSERT_EQ(kill(b->pid, SIGTERM), 0);
    int status = 0;
    int rc = proc_wait_bounded(b->pid, PROC_STOP_MS, &status);
    b->pid = 0;
    if (b->fd >= 0)
        close(b->fd);
    b->fd = -1;
    char err[PROC_ERR_MAX + 1];
    proc_slurp(b->err_path, err, PROC_ERR_MAX);
    if (rc != 0)
        ww_test_fail(__FILE__, __LINE__, "still running %d ms after SIGTERM: %s", PROC_STOP_MS,
                     err);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        ww_test_fail(__FILE__, __LINE__, "after SIGTERM: status 0x%x: %s", (unsigned)status, err);
}

/* kill -9 and reap. */
void proc_bg_kill(struct proc_bg *b)
{
    if (b->pid <= 0)
        return;
    kill(b->pid, SIGKILL);
    int status = 0;
    proc_wait_bounded(b->pid, PROC_STOP_MS, &status);
    b->pid = 0;
}

void proc_expect_alive(const struct proc_bg *b)
{
    int status = 0;
    if (waitpid(b->pid, &status, WNOHANG) != 0) {
        char err[PROC_ERR_MAX + 1];
        proc_slurp(b->err_path, err, PROC_ERR_MAX);
        ww_test_fail(__FILE__, __LINE__, "the process ended (status 0x%x): %s", (unsigned)status,
                     err);
    }
}

size_t proc_count_text(const char *text, const char *needle)
{
    size_t n = 0, m = strlen(needle);
    for (const char *q = strstr(text, needle); q; q = strstr(q + m, needle))
        n++;
    return n;
}
