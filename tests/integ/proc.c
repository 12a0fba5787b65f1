/*
 * proc.c - helpers of the tests that run the real binary (proc.h).
 */
#include "proc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
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
