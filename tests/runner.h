/*
 * runner.h - the in-house test runner.
 *
 * A test is `TEST(name) { ... }` in any file under tests/unit or tests/integ. The build
 * collects the names into a table; the runner forks each test into its own child with a
 * timeout, so a crash or hang fails that test alone. After the body returns, the child
 * checks that the test freed every block it took from the library allocator.
 *
 * Output is TAP ("ok 3 - name") and ends with "N passed, N failed". A test that cannot run
 * on this machine (it needs root for a mount or a network namespace) calls ww_test_skip:
 * TAP's "ok 3 - name # SKIP", counted as neither passed nor failed.
 */
#ifndef WW_TEST_RUNNER_H
#define WW_TEST_RUNNER_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST(name)                                                                                 \
    void test_##name(void);                                                                        \
    void test_##name(void)

void ww_test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));
#define WW_TEST_SKIPPED 77
/* Ends the test as skipped, saying why on stderr. */
void ww_test_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* A fresh empty directory for this test, removed after it; valid for the test's life. */
const char *ww_test_tmpdir(void);
/* The seed of this test run (env WW_TEST_SEED, else fixed); printed on failure. */
uint64_t ww_test_seed(void);

#define ASSERT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond))                                                                               \
            ww_test_fail(__FILE__, __LINE__, "assertion failed: %s", #cond);                       \
    } while (0)

#define ASSERT_INT_OP_(a, op, b)                                                                   \
    do {                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        if (!(a_ op b_))                                                                           \
            ww_test_fail(__FILE__, __LINE__, "%s %s %s: %lld vs %lld", #a, #op, #b, a_, b_);       \
    } while (0)

#define ASSERT_EQ(a, b) ASSERT_INT_OP_(a, ==, b)
#define ASSERT_NE(a, b) ASSERT_INT_OP_(a, !=, b)
#define ASSERT_LT(a, b) ASSERT_INT_OP_(a, <, b)
#define ASSERT_LE(a, b) ASSERT_INT_OP_(a, <=, b)
#define ASSERT_GT(a, b) ASSERT_INT_OP_(a, >, b)
#define ASSERT_GE(a, b) ASSERT_INT_OP_(a, >=, b)

/* rc == 0, printing the error name when it is not. */
#define ASSERT_OK(expr)                                                                            \
    do {                                                                                           \
        int rc_ = (expr);                                                                          \
        if (rc_ != 0)                                                                              \
            ww_test_fail(__FILE__, __LINE__, "%s: %d (%s)", #expr, rc_, ww_err_name(rc_));         \
    } while (0)

/* expr returns exactly the error code want. */
#define ASSERT_ERR(expr, want)                                                                     \
    do {                                                                                           \
        int rc_ = (expr), w_ = (want);                                                             \
        if (rc_ != w_)                                                                             \
            ww_test_fail(__FILE__, __LINE__, "%s: got %d (%s), want %s", #expr, rc_,               \
                         ww_err_name(rc_), #want);                                                 \
    } while (0)

#define ASSERT_STR_EQ(a, b)                                                                        \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        if (!a_ || !b_ || strcmp(a_, b_) != 0)                                                     \
            ww_test_fail(__FILE__, __LINE__, "%s == %s: \"%s\" vs \"%s\"", #a, #b,                 \
                         a_ ? a_ : "(null)", b_ ? b_ : "(null)");                                  \
    } while (0)

#define ASSERT_MEM_EQ(a, b, n)                                                                     \
    do {                                                                                           \
        if (memcmp((a), (b), (n)) != 0)                                                            \
            ww_test_fail(__FILE__, __LINE__, "%s and %s differ in their first %zu bytes", #a, #b,  \
                         (size_t)(n));                                                             \
    } while (0)

#endif
