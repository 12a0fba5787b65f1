/*
 * test_broadcast.c - discovery (PROTOCOL.md 9.10) over a real broadcast between two hosts:
 * two network namespaces joined by a veth pair, each with a device of one group running the
 * real binary with the default beacon settings (to 255.255.255.255:7421, on 0.0.0.0:7421).
 *
 * Nothing outlives the test, whatever way it ends. Each host is a holder process that
 * unshares its own network namespace and waits; it dies with the test process
 * (PR_SET_PDEATHSIG), as do the devices started in its namespace, and a namespace with no
 * process left goes away with its interfaces. The veth pair is made inside the first host's
 * namespace with its peer end put straight into the second's, so no interface is ever in the
 * machine's own namespace; its names carry the test process's pid all the same. A device or
 * an `ip` is started in a host's namespace by entering it (setns) for the fork and leaving it
 * again. Every wait is bounded.
 *
 * Needs root and network namespaces; a machine that allows neither skips the test.
 */
#define _GNU_SOURCE 1 /* setns, unshare */
#include "proc.h"
#include "runner.h"
#include "wegwijs.h"
#include "ww_err.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FIRST_MS 10000 /* two beacon rounds (5 s, give or take a fifth) and a sync */
#define LIVE_MS  10000 /* a write on a live connection */
#define SUBNET   "10.210.7."

/* A host: a process holding a network namespace of its own. */
struct host {
    pid_t pid;
    char ifname[16];
    char addr[16];
};

static int home_ns = -1;

/* Enters (pid > 0) the network namespace of pid, or goes back home (pid 0). */
static void enter(pid_t pid)
{
    char path[64];
    if (home_ns < 0)
        home_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    ASSERT(home_ns >= 0);
    snprintf(path, sizeof path, "/proc/%d/ns/net", (int)pid);
    int fd = pid > 0 ? open(path, O_RDONLY | O_CLOEXEC) : home_ns;
    ASSERT(fd >= 0);
    if (setns(fd, CLONE_NEWNET) != 0)
        ww_test_fail(__FILE__, __LINE__, "setns: %s", strerror(errno));
    if (fd != home_ns)
        close(fd);
}

/* Forks the holder: a child that unshares its network namespace and then only waits to be
 * killed. A machine that does not allow that skips the test. */
static void host_start(struct host *h, const char *ifname, const char *addr)
{
    memset(h, 0, sizeof *h);
    snprintf(h->ifname, sizeof h->ifname, "%s", ifname);
    snprintf(h->addr, sizeof h->addr, "%s", addr);
    int p[2];
    ASSERT_OK(pipe(p));
    pid_t parent = getpid();
    fflush(stdout);
    fflush(stderr);
    h->pid = fork();
    ASSERT(h->pid >= 0);
    if (h->pid == 0) {
        close(p[0]);
        int err = 0;
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
            _exit(126);
        if (unshare(CLONE_NEWNET) != 0)
            err = errno;
        if (write(p[1], &err, sizeof err) != (ssize_t)sizeof err || err)
            _exit(126);
        close(p[1]);
        for (;;)
            pause();
    }
    close(p[1]);
    int err = 0;
    struct pollfd pf = {p[0], POLLIN, 0};
    int ready = poll(&pf, 1, PROC_START_MS) == 1 && read(p[0], &err, sizeof err) == sizeof err;
    close(p[0]);
    if (ready && (err == EPERM || err == EINVAL || err == ENOSYS)) {
        proc_bg_kill(&(struct proc_bg){.pid = h->pid});
        ww_test_skip("this machine allows no network namespace: unshare: %s", strerror(err));
    }
    if (!ready || err)
        ww_test_fail(__FILE__, __LINE__, "the host did not start: %s", strerror(err));
}

static void host_stop(struct host *h)
{
    proc_bg_kill(&(struct proc_bg){.pid = h->pid});
    h->pid = 0;
}

/* Runs `ip ARGS` in h's namespace, bounded; fails the test unless it exits with want_ok
 * (1: status 0, 0: any other). Its output in out. */
static void host_ip(const struct host *h, int want_ok, char *out, size_t cap, const char *fmt, ...)
{
    char args[256], cmd[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "timeout 5 ip %s 2>&1", args);
    enter(h->pid);
    int status = proc_shell(cmd, out, cap);
    enter(0);
    int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (ok != want_ok)
        ww_test_fail(__FILE__, __LINE__, "ip %s: status 0x%x: %s", args, (unsigned)status, out);
}

/* Starts `sync --watch --listen 0.0.0.0:7420 --discover` with the default beacons in h's
 * namespace, and waits until it says where its beacons go. */
static void device_start(struct proc_bg *b, const struct host *h, const char *dir, const char *name)
{
    memset(b, 0, sizeof *b);
    b->fd = -1;
    proc_tmp_path(b->err_path, sizeof b->err_path, name); /* stdout and stderr */
    int e = open(b->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT(e >= 0);
    const char *argv[] = {"--data",       dir,          "sync",      "--watch", "--listen",
                          "0.0.0.0:7420", "--discover", "--verbose", NULL};
    enter(h->pid);
    b->pid = proc_spawn(argv, e, e, -1);
    enter(0);
    close(e);
    char err[PROC_ERR_MAX + 1];
    for (long end = proc_now_ms() + PROC_START_MS; proc_now_ms() < end; proc_sleep_ms(5)) {
        proc_slurp(b->err_path, err, PROC_ERR_MAX);
        if (strstr(err, "beacons to 255.255.255.255:7421, from port 7421"))
            return;
        proc_expect_alive(b);
    }
    ww_test_fail(__FILE__, __LINE__, "%s sends no beacons: %s", name, err);
}

/* A UDP socket in h's namespace on the beacon port, beside the device's (SO_REUSEADDR: each
 * gets every broadcast): what anyone on the network hears. */
static int ear_open(const struct host *h)
{
    enter(h->pid);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(7421)};
    a.sin_addr.s_addr = htonl(INADDR_ANY);
    int ok = fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
             bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    enter(0);
    if (!ok)
        ww_test_fail(__FILE__, __LINE__, "ear: %s", strerror(errno));
    return fd;
}

/* The next datagram on fd from the address from, within ms; its length. */
static size_t ear_hear(int fd, const char *from, uint8_t *buf, size_t cap, long ms)
{
    for (long end = proc_now_ms() + ms;;) {
        struct sockaddr_in src;
        socklen_t len = sizeof src;
        ssize_t n = recvfrom(fd, buf, cap, 0, (struct sockaddr *)&src, &len);
        char ip[INET_ADDRSTRLEN] = "";
        if (n >= 0 && inet_ntop(AF_INET, &src.sin_addr, ip, sizeof ip) && !strcmp(ip, from))
            return (size_t)n;
        ASSERT(n >= 0 || errno == EAGAIN || errno == EWOULDBLOCK);
        long left = end - proc_now_ms();
        if (left <= 0)
            ww_test_fail(__FILE__, __LINE__, "no datagram from %s in %ld ms", from, ms);
        if (n < 0) {
            struct pollfd p = {fd, POLLIN, 0};
            poll(&p, 1, (int)left);
        }
    }
}

/* 1 when the datagram holds any 4 consecutive bytes of secret. */
static int reveals(const uint8_t *d, size_t n, const uint8_t *secret, size_t m)
{
    for (size_t j = 0; j + 4 <= m; j++)
        if (memmem(d, n, secret + j, 4))
            return 1;
    return 0;
}

/* Runs the reading command until its output has needle, at most ms; how long it took. */
static long until_shown(const char *const *argv, const char *needle, long ms)
{
    long start = proc_now_ms();
    struct proc_run r;
    for (;;) {
        proc_run_argv(&r, argv);
        EXPECT_EXIT(r, 0);
        if (strstr(r.out, needle))
            return proc_now_ms() - start;
        if (proc_now_ms() - start > ms)
            ww_test_fail(__FILE__, __LINE__, "\"%s\" not shown by %s %s within %ld ms: %.400s",
                         needle, argv[2], argv[3], ms, r.out);
        proc_sleep_ms(100);
    }
}

/* A new device in dir; its key. */
static void device_init(const char *dir, char key[65])
{
    struct proc_run r;
    proc_run(&r, "--data", dir, "init", NULL);
    EXPECT_EXIT(r, 0);
    proc_first_line(r.out, key, 65);
    ASSERT(proc_is_hex(key, 64));
}

/* Two hosts on one network without a gateway (a ward's wifi with no internet), a device of
 * one group on each, started with the default beacons and no address of the other: a
 * reflection the student shares reaches the coach's device, and a challenge the coach
 * schedules reaches the student's, each within a bounded time. A beacon heard on the wire
 * shows neither the group nor a device. */
TEST(discovery_real_broadcast_between_two_hosts)
{
    if (geteuid() != 0)
        ww_test_skip("network namespaces need root");
    char out[4096];
    if (proc_shell("command -v ip >/dev/null 2>&1", out, sizeof out) != 0)
        ww_test_skip("no 'ip' (iproute2) on this machine");

    /* The group, made with the real commands: a coach and a student, a bundle between. */
    char coach[512], student[512], bundle[512], ck[65], sk[65], group[33], day[16];
    struct proc_run r;
    proc_tmp_path(coach, sizeof coach, "coach");
    proc_tmp_path(student, sizeof student, "student");
    proc_tmp_path(bundle, sizeof bundle, "group.wwb");
    device_init(coach, ck);
    device_init(student, sk);
    proc_run(&r, "--data", coach, "group", "create", "Afdeling 4C", "--alias", "Coach", NULL);
    EXPECT_EXIT(r, 0);
    proc_first_line(r.out, group, sizeof group);
    ASSERT(proc_is_hex(group, 32));
    proc_run(&r, "--data", coach, "member", "add", group, "--role", "student", "--alias", "Sam",
             "--device", sk, NULL);
    EXPECT_EXIT(r, 0);
    proc_run(&r, "--data", coach, "bundle", "export", group, bundle, NULL);
    EXPECT_EXIT(r, 0);
    proc_run(&r, "--data", student, "bundle", "import", bundle, NULL);
    EXPECT_EXIT(r, 0);
    time_t later = time(NULL) + 2 * 86400;
    ASSERT(strftime(day, sizeof day, "%Y-%m-%d", localtime(&later)) == 10);

    /* The hosts and the wire between them: lo and one veth end up in each, no default
     * route. There a limited broadcast has no way out (ENETUNREACH): the beacons must go to
     * the subnet's broadcast address. */
    struct host a, b;
    char ifa[16], ifb[16];
    snprintf(ifa, sizeof ifa, "wwa%d", (int)getpid());
    snprintf(ifb, sizeof ifb, "wwb%d", (int)getpid());
    host_start(&a, ifa, SUBNET "1");
    host_start(&b, ifb, SUBNET "2");
    host_ip(&a, 1, out, sizeof out, "link add %s type veth peer name %s netns %d", ifa, ifb,
            (int)b.pid);
    const struct host *hosts[2] = {&a, &b};
    for (int i = 0; i < 2; i++) {
        const struct host *h = hosts[i];
        host_ip(h, 1, out, sizeof out, "link set lo up");
        host_ip(h, 1, out, sizeof out, "addr add %s/24 dev %s", h->addr, h->ifname);
        host_ip(h, 1, out, sizeof out, "link set %s up", h->ifname);
        host_ip(h, 1, out, sizeof out, "route show default");
        ASSERT_STR_EQ(out, "");
        host_ip(h, 0, out, sizeof out, "route get 255.255.255.255");
    }
    /* Beacons go out on interfaces that are running: wait for the carrier of both ends. */
    for (int i = 0; i < 2; i++)
        for (long end = proc_now_ms() + PROC_START_MS;; proc_sleep_ms(20)) {
            host_ip(hosts[i], 1, out, sizeof out, "-o link show dev %s", hosts[i]->ifname);
            if (strstr(out, "state UP"))
                break;
            if (proc_now_ms() > end)
                ww_test_fail(__FILE__, __LINE__, "%s does not come up: %s", hosts[i]->ifname, out);
        }
    host_ip(&a, 1, out, sizeof out, "route get " SUBNET "2");
    EXPECT_HAS(out, ifa);

    int ear = ear_open(&b);
    struct proc_bg dc, ds;
    device_start(&dc, &a, coach, "coach.log");
    device_start(&ds, &b, student, "student.log");

    /* What the coach's beacons show anyone on the network: 82 bytes that begin "WWB1", from
     * the coach's address, with nothing of the group id or either device key. */
    uint8_t dgram[512], gid[16], kc[32], ks[32];
    ASSERT_OK(ww_unhex(group, gid, sizeof gid));
    ASSERT_OK(ww_unhex(ck, kc, sizeof kc));
    ASSERT_OK(ww_unhex(sk, ks, sizeof ks));
    size_t n = ear_hear(ear, a.addr, dgram, sizeof dgram, FIRST_MS);
    ASSERT_EQ(n, WW_BEACON_LEN);
    ASSERT_MEM_EQ(dgram, "WWB1", 4);
    ASSERT(!reveals(dgram, n, gid, sizeof gid));
    ASSERT(!reveals(dgram, n, kc, sizeof kc));
    ASSERT(!reveals(dgram, n, ks, sizeof ks));
    close(ear);

    /* Student to coach: a reflection shared with the group. */
    proc_run(&r, "--data", student, "reflect", group, "--status", "done", "--share", "group",
             "--situatie", "Uitgezonden over de afdeling", NULL);
    EXPECT_EXIT(r, 0);
    const char *reflections[] = {"--data", coach, "reflections", group, NULL};
    long first_ms = until_shown(reflections, "Uitgezonden over de afdeling", FIRST_MS);
    /* Coach to student, on the connection the beacons made. */
    proc_run(&r, "--data", coach, "challenge", "schedule", group, day, "L02", NULL);
    EXPECT_EXIT(r, 0);
    const char *show_day[] = {"--data", student, "day", group, day, NULL};
    long back_ms = until_shown(show_day, "L02", LIVE_MS);

    /* One of them dialled the other at the address its beacon came from. */
    char err_c[PROC_ERR_MAX + 1], err_s[PROC_ERR_MAX + 1];
    proc_slurp(dc.err_path, err_c, PROC_ERR_MAX);
    proc_slurp(ds.err_path, err_s, PROC_ERR_MAX);
    ASSERT(strstr(err_s, "discover " SUBNET "1:7420 ") ||
           strstr(err_c, "discover " SUBNET "2:7420 "));
    proc_expect_alive(&dc);
    proc_expect_alive(&ds);
    proc_bg_stop(&dc);
    proc_bg_stop(&ds);
    host_stop(&a);
    host_stop(&b);
    close(home_ns);
    fprintf(stderr, "# broadcast: student to coach in %ld ms, coach to student in %ld ms\n",
            first_ms, back_ms);
}
