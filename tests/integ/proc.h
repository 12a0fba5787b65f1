/*
 * proc.h - what the tests that run the real `wegwijs` binary share: where the binary is,
 * paths in the test's folder, reading a captured output, and the checks on a run.
 */
#ifndef WW_TEST_PROC_H
#define WW_TEST_PROC_H

#include <jansson.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>

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
