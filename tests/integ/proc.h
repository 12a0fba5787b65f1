/*
 * proc.h - what the tests that run the real `wegwijs` binary share: where the binary is,
 * paths in the test's folder, reading a captured output, runs with a bounded wait, hubs and
 * other processes in the background (they die with the test process), and the checks on a
 * run.
 */
#ifndef WW_TEST_PROC_H
#define WW_TEST_PROC_H

#include <jansson.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/types.h>

#include "runner.h"

/* The binary next to the test binary ($BUILD/tests/unit_tests -> $BUILD/wegwijs), or
 * $WW_BUILD/wegwijs, or build/wegwijs. */
const char *proc_cli_path(void);
/* out = the test's folder / name; a path too long fails the test. */
void proc_tmp_path(char *out, size_t cap, const char *name);
/* Reads at most cap bytes of a file into buf and NUL-terminates it; the byte count. */
size_t proc_slurp(const char *path, char *buf, size_t cap);

/* In a child about to run the binary: none of the caller's settings for the language or the
 * data folder (the command is then Dutch, whatever the machine's locale), and a home folder
 * of the test's own. */
void proc_child_env(void);
/* --json output (docs/JSON.md): out parsed as one object with "version": 1 and "command":
 * command (the caller releases it); a string, an array of exactly n items, an integer
 * member. Each fails the test, at line, when the shape is not so. */
json_t *proc_json(const char *out, const char *command, int line);
const char *proc_json_str(json_t *o, const char *key, int line);
json_t *proc_json_array(json_t *o, const char *key, size_t n, int line);
long long proc_json_int(json_t *o, const char *key, int line);
/* Runs cmd with sh -c; its stdout (at most cap - 1 bytes, NUL-terminated) in out. The
 * status as pclose gives it. */
int proc_shell(const char *cmd, char *out, size_t cap);
/* Sleeps ms milliseconds, through signals. */
void proc_sleep_ms(long ms);
/* A TCP socket and *a set to 127.0.0.1:port, for bind or connect. */
int proc_loopback_socket(int port, struct sockaddr_in *a);
/* A loopback port nobody listens on (bound, read back, closed). */
int proc_free_port(void);

/* ---- Running the binary ------------------------------------------------------------------ */

#define PROC_MAX_ARGS 64
#define PROC_OUT_MAX  (1024 * 1024)
#define PROC_ERR_MAX  (16 * 1024)
#define PROC_RUN_MS   30000 /* one foreground command, sanitizers included */
#define PROC_START_MS 10000 /* a background process reports its port */
#define PROC_STOP_MS  10000 /* a background process exits after SIGTERM */

/* One foreground run of the command. */
struct proc_run {
    int exited; /* ended by exit(), not by a signal */
    int code;   /* exit status, or the signal number */
    char *out;  /* stdout, NUL-terminated (static storage, overwritten by the next run) */
    char *err;  /* stderr, likewise */
    long ms;    /* how long it ran */
};

/* A process in the background: a hub, or a device running `sync --watch`. */
struct proc_bg {
    pid_t pid;
    int fd; /* the hub's stdout, or -1 */
    int port;
    char err_path[512], out_path[512];
};

/* Milliseconds on the monotonic clock. */
long proc_now_ms(void);
/* Starts the binary with argv (NULL-terminated, without the program name), its stdout and
 * stderr on out_fd and err_fd (close_fd, when >= 0, closed in the child). The child dies with
 * this process (PR_SET_PDEATHSIG) and runs with proc_child_env. */
pid_t proc_spawn(const char *const *argv, int out_fd, int err_fd, int close_fd);
/* Waits at most ms for pid; 0 and its status, or -1 after killing and reaping it. */
int proc_wait_bounded(pid_t pid, long ms, int *status);
/* Runs the binary with argv (or the NULL-terminated arguments) to its end, at most
 * PROC_RUN_MS; stdout and stderr captured in the test's folder. Fails the test when the run
 * overstays or the binary cannot be run. */
void proc_run_argv(struct proc_run *r, const char *const *argv);
void proc_run(struct proc_run *r, ...);
/* The stdout of the last run (what its r->out points to). */
const char *proc_last_out(void);
/* The first line of s (without its newline) into out; too long fails the test. */
void proc_first_line(const char *s, char *out, size_t cap);
/* s is exactly len lowercase hex digits. */
int proc_is_hex(const char *s, size_t len);
/* The last line of out that is exactly 64 hex digits (an event id a verb printed). */
void proc_event_id(const char *out, char id[65]);
/* How often needle occurs in text. */
size_t proc_count_text(const char *text, const char *needle);
/* Reads one line from fd within the deadline (proc_now_ms); 1 when a whole line came, 0 at
 * EOF. */
int proc_read_line(int fd, char *buf, size_t cap, long deadline);
/* One attempt at starting `hub --listen 127.0.0.1:port` (0: ephemeral) on the store in dir,
 * with the options in extra (NULL-terminated; may be NULL); 1 started (h->port is where it
 * listens, h->fd its stdout), 0 it exited with *code. */
int proc_hub_try(struct proc_bg *h, const char *dir, int port, const char *const *extra, int *code);
/* A hub on an ephemeral port; its stderr in the test's folder as NAME.err. */
void proc_hub_start(struct proc_bg *h, const char *dir, const char *name);
void proc_hub_start_with(struct proc_bg *h, const char *dir, const char *name,
                         const char *const *extra);
/* SIGTERM, then a bounded wait; the process must exit 0 of its own. */
void proc_bg_stop(struct proc_bg *b);
/* kill -9 and reap. */
void proc_bg_kill(struct proc_bg *b);
/* The process still runs; else the test fails with its stderr. */
void proc_expect_alive(const struct proc_bg *b);

/* The run ended by a normal exit with status `want`; on failure prints what it said. */
#define EXPECT_EXIT(r, want)                                                                       \
    do {                                                                                           \
        if (!(r).exited)                                                                           \
            ww_test_fail(__FILE__, __LINE__, "killed by signal %d; stderr: %s", (r).code,          \
                         (r).err);                                                                 \
        if ((r).code != (want))                                                                    \
            ww_test_fail(__FILE__, __LINE__, "exit %d, want %d; stdout: %.400s; stderr: %s",       \
                         (r).code, (want), (r).out, (r).err);                                      \
    } while (0)

/* The documented exit status (wegwijs(1), EXIT STATUS). */
enum {
    EXIT_USAGE = 2,
    EXIT_INPUT = 3,
    EXIT_DENIED = 4,
    EXIT_NOTFOUND = 5,
    EXIT_CONFLICT = 6,
    EXIT_NET = 7,
};

/* A refused run: a normal exit with status `want` and one "wegwijs: " line on stderr that
 * contains needle. */
#define EXPECT_REFUSED(r, want, needle)                                                            \
    do {                                                                                           \
        EXPECT_EXIT(r, want);                                                                      \
        const char *nl_ = strchr((r).err, '\n');                                                   \
        if (strncmp((r).err, "wegwijs: ", 9) != 0 || !nl_ || nl_[1])                               \
            ww_test_fail(__FILE__, __LINE__, "not one \"wegwijs: \" line on stderr: %s", (r).err); \
        EXPECT_HAS((r).err, needle);                                                               \
    } while (0)

#define EXPECT_HAS(text, needle)                                                                   \
    do {                                                                                           \
        if (!strstr((text), (needle)))                                                             \
            ww_test_fail(__FILE__, __LINE__, "\"%s\" not found in: %.2000s", (needle), (text));    \
    } while (0)

#define EXPECT_LACKS(text, needle)                                                                 \
    do {                                                                                           \
        if (strstr((text), (needle)))                                                              \
            ww_test_fail(__FILE__, __LINE__, "\"%s\" unexpectedly in: %.2000s", (needle), (text)); \
    } while (0)

#endif
