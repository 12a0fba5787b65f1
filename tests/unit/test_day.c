/*
 * test_day.c - civil dates, POSIX TZ rules and TZif loading (core/day.c).
 *
 * Calendar facts are checked against an independent month-length table; time zone
 * answers against known instants around the 2026 transitions and local midnights. TZif
 * files are built byte by byte in the test's own folder, with TZDIR pointing there.
 */
#include "runner.h"

#include <errno.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "day.h"
#include "wegwijs.h"

#define MAX_DATE 2932896u /* 9999-12-31 */

/* Seconds since 1970 of date (days since 1970) at hh:mm:ss UTC. */
static int64_t instant(uint32_t date, int hh, int mm, int ss)
{
    return (int64_t)date * 86400 + hh * 3600 + mm * 60 + ss;
}

static uint32_t ymd(int y, int m, int d)
{
    uint32_t out = 0;
    int rc = ww_date_from_ymd(y, m, d, &out);
    if (rc != 0)
        ww_test_fail(__FILE__, __LINE__, "ww_date_from_ymd(%d, %d, %d): %s", y, m, d,
                     ww_err_name(rc));
    return out;
}

/* An independent leap-year rule, for checking the calendar against. */
static int leap(int y)
{
    return y % 400 == 0 || (y % 4 == 0 && y % 100 != 0);
}

static int days_in_month(int y, int m)
{
    static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : len[m - 1];
}

/* ---- Calendar ------------------------------------------------------------------------ */

TEST(day_civil_walk_1970_to_9999)
{
    /* Walks every day from 1970-01-01 to 9999-12-31, checking each step against the
     * month table and that both directions agree. */
    int y = 1970, m = 1, d = 1;
    for (uint32_t date = 0; date <= MAX_DATE; date++) {
        int yy, mm, dd;
        ww_date_to_ymd(date, &yy, &mm, &dd);
        if (yy != y || mm != m || dd != d)
            ww_test_fail(__FILE__, __LINE__, "date %u: %d-%d-%d, want %d-%d-%d", date, yy, mm, dd,
                         y, m, d);
        uint32_t back = 0;
        ASSERT_OK(ww_date_from_ymd(y, m, d, &back));
        ASSERT_EQ(back, date);
        if (++d > days_in_month(y, m)) {
            d = 1;
            if (++m > 12) {
                m = 1;
                y++;
            }
        }
    }
    ASSERT_EQ(y, 10000);
}

TEST(day_known_dates)
{
    ASSERT_EQ(ymd(1970, 1, 1), 0);
    ASSERT_EQ(ymd(1970, 1, 2), 1);
    ASSERT_EQ(ymd(2000, 1, 1), 10957);
    ASSERT_EQ(ymd(2024, 2, 29), 19782);
    ASSERT_EQ(ymd(2026, 3, 29), 20541);
    ASSERT_EQ(ymd(2026, 10, 25), 20751);
    ASSERT_EQ(ymd(2026, 11, 22), 20779);
    ASSERT_EQ(ymd(2100, 3, 1), 47541);
    ASSERT_EQ(ymd(9999, 12, 31), MAX_DATE);
    int y, m, d;
    ww_date_to_ymd(20779, &y, &m, &d);
    ASSERT_EQ(y, 2026);
    ASSERT_EQ(m, 11);
    ASSERT_EQ(d, 22);
    /* Past 9999 the arithmetic still holds, it is just not a protocol date. */
    ww_date_to_ymd(MAX_DATE + 1, &y, &m, &d);
    ASSERT_EQ(y, 10000);
    ASSERT_EQ(m, 1);
    ASSERT_EQ(d, 1);
}

TEST(day_leap_year_rules)
{
    uint32_t out = 12345;
    /* Divisible by 4: leap; by 100: not; by 400: leap again (1900 is out of range, the
     * same rule shows at 2100, 2200 and 2300). */
    ASSERT_OK(ww_date_from_ymd(2024, 2, 29, &out));
    ASSERT_OK(ww_date_from_ymd(2000, 2, 29, &out));
    ASSERT_OK(ww_date_from_ymd(2400, 2, 29, &out));
    out = 12345;
    ASSERT_ERR(ww_date_from_ymd(2026, 2, 29, &out), WW_ERANGE);
    ASSERT_ERR(ww_date_from_ymd(2100, 2, 29, &out), WW_ERANGE);
    ASSERT_ERR(ww_date_from_ymd(2200, 2, 29, &out), WW_ERANGE);
    ASSERT_ERR(ww_date_from_ymd(2300, 2, 29, &out), WW_ERANGE);
    ASSERT_ERR(ww_date_from_ymd(1900, 3, 1, &out), WW_ERANGE); /* before 1970 */
    ASSERT_EQ(out, 12345);                                     /* untouched on failure */
    ASSERT_EQ(ymd(2000, 3, 1) - ymd(2000, 2, 28), 2);
    ASSERT_EQ(ymd(2100, 3, 1) - ymd(2100, 2, 28), 1);
    ASSERT_EQ(ymd(2001, 1, 1) - ymd(2000, 1, 1), 366);
    ASSERT_EQ(ymd(2101, 1, 1) - ymd(2100, 1, 1), 365);
    /* 400 years are always 146097 days. */
    ASSERT_EQ(ymd(2400, 1, 1) - ymd(2000, 1, 1), 146097);
    ASSERT_EQ(ymd(9600, 1, 1) - ymd(9200, 1, 1), 146097);
}

TEST(day_from_ymd_rejects)
{
    uint32_t out = 7;
    ASSERT_ERR(ww_date_from_ymd(1969, 12, 31, &out), WW_ERANGE);
    ASSERT_ERR(ww_date_from_ymd(10000, 1, 1, &out), WW_ERANGE);
    ASSERT_ERR(ww_date_from_ymd(2026, 0, 1, &out), WW_ERANGE);
    ASSERT_ERR(ww_date_from_ymd(2026, 13, 1, &out), WW_ERANGE);
    ASSERT_ERR(ww_date_from_ymd(2026, 1, 0, &out), WW_ERANGE);
    ASSERT_ERR(ww_date_from_ymd(2026, 1, 32, &out), WW_ERANGE);
    ASSERT_ERR(ww_date_from_ymd(2026, 4, 31, &out), WW_ERANGE);
    ASSERT_ERR(ww_date_from_ymd(-2026, 1, 1, &out), WW_ERANGE);
    ASSERT_EQ(out, 7);
}

TEST(day_weekday_known_values)
{
    ASSERT_EQ(ww_date_weekday(0), 4);                 /* 1970-01-01 Thursday */
    ASSERT_EQ(ww_date_weekday(ymd(2000, 1, 1)), 6);   /* Saturday */
    ASSERT_EQ(ww_date_weekday(ymd(2024, 2, 29)), 4);  /* Thursday */
    ASSERT_EQ(ww_date_weekday(ymd(2026, 3, 29)), 7);  /* Sunday */
    ASSERT_EQ(ww_date_weekday(ymd(2026, 6, 30)), 2);  /* Tuesday */
    ASSERT_EQ(ww_date_weekday(ymd(2027, 1, 1)), 5);   /* Friday */
    ASSERT_EQ(ww_date_weekday(ymd(2100, 3, 1)), 1);   /* Monday */
    ASSERT_EQ(ww_date_weekday(ymd(9999, 12, 31)), 5); /* Friday */
    for (uint32_t date = 0; date < 3000; date++) {
        int wd = ww_date_weekday(date);
        ASSERT(wd >= 1 && wd <= 7);
        ASSERT_EQ(ww_date_weekday(date + 1), wd % 7 + 1);
    }
    ASSERT(ww_date_weekday(UINT32_MAX) >= 1 && ww_date_weekday(UINT32_MAX) <= 7);
}

TEST(day_week_numbers)
{
    uint32_t start = ymd(2026, 9, 1);
    ASSERT_EQ(ww_date_week(start, start - 1), 0);
    ASSERT_EQ(ww_date_week(start, 0), 0);
    ASSERT_EQ(ww_date_week(start, start), 1);
    ASSERT_EQ(ww_date_week(start, start + 6), 1);
    ASSERT_EQ(ww_date_week(start, start + 7), 2);
    ASSERT_EQ(ww_date_week(start, start + 27), 4);
    ASSERT_EQ(ww_date_week(start, start + 28), 5);
    ASSERT_EQ(ww_date_week(start, start + 363), 52);
    ASSERT_EQ(ww_date_week(0, MAX_DATE), (int)(MAX_DATE / 7 + 1));
}

TEST(day_parse_and_format)
{
    uint32_t date = 0;
    ASSERT_OK(ww_date_parse("2026-11-22", &date));
    ASSERT_EQ(date, 20779);
    ASSERT_OK(ww_date_parse("1970-01-01", &date));
    ASSERT_EQ(date, 0);
    ASSERT_OK(ww_date_parse("9999-12-31", &date));
    ASSERT_EQ(date, MAX_DATE);
    ASSERT_OK(ww_date_parse("2024-02-29", &date));
    ASSERT_EQ(date, 19782);

    char out[11];
    ww_date_format(20779, out);
    ASSERT_STR_EQ(out, "2026-11-22");
    ww_date_format(0, out);
    ASSERT_STR_EQ(out, "1970-01-01");
    ww_date_format(MAX_DATE, out);
    ASSERT_STR_EQ(out, "9999-12-31");
    /* Beyond the protocol's range: a marker that parsing refuses. */
    ww_date_format(MAX_DATE + 1, out);
    ASSERT_STR_EQ(out, "0000-00-00");
    ASSERT_ERR(ww_date_parse(out, &date), WW_EINVAL);

    /* Round trip over the whole range, in steps that hit every month and day. */
    for (uint32_t d = 0; d <= MAX_DATE; d += 13) {
        ww_date_format(d, out);
        uint32_t back = UINT32_MAX;
        ASSERT_OK(ww_date_parse(out, &back));
        ASSERT_EQ(back, d);
    }
}

TEST(day_parse_rejects)
{
    static const char *const bad[] = {
        "",
        "2026",
        "2026-1-22",
        "2026-11-2",
        "26-11-22",
        "2026-11-222",
        "2026-11-22 ",
        "2026-11-22T00:00",
        " 2026-11-22",
        "2026/11/22",
        "2026-11_22",
        "20261122",
        "2026-02-29",
        "2024-02-30",
        "2100-02-29",
        "2026-13-01",
        "2026-00-10",
        "2026-04-31",
        "2026-12-32",
        "2026-12-00",
        "1969-12-31",
        "0000-01-01",
        "abcd-ef-gh",
        "2O26-11-22",
        "2026-1a-22",
        "+026-11-22",
        "-026-11-22",
        "2026-+1-22",
        "2026-11-+2",
        "2026-11-22\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint32_t date = 4242;
        int rc = ww_date_parse(bad[i], &date);
        if (rc != WW_EINVAL)
            ww_test_fail(__FILE__, __LINE__, "\"%s\": got %d (%s), want WW_EINVAL", bad[i], rc,
                         ww_err_name(rc));
        ASSERT_EQ(date, 4242);
    }
    uint32_t date = 4242;
    ASSERT_ERR(ww_date_parse(NULL, &date), WW_EINVAL);
    /* A NUL inside the ten bytes ends the string: refused, and nothing past it is read. */
    char shortbuf[5] = {'2', '0', '2', '6', '\0'};
    ASSERT_ERR(ww_date_parse(shortbuf, &date), WW_EINVAL);
    ASSERT_EQ(date, 4242);
}

/* ---- POSIX rules --------------------------------------------------------------------- */

struct posix_case {
    const char *rule;
    int32_t std_offset, dst_offset;
    int has_dst;
    int sm, sw, sd;
    int32_t st;
    int em, ew, ed;
    int32_t et;
};

TEST(day_posix_accepts)
{
    static const struct posix_case cases[] = {
        {"CET-1CEST,M3.5.0,M10.5.0/3", 3600, 7200, 1, 3, 5, 0, 7200, 10, 5, 0, 10800},
        {"CET-1CEST-2,M3.5.0/2,M10.5.0/03:00", 3600, 7200, 1, 3, 5, 0, 7200, 10, 5, 0, 10800},
        {"GMT0BST,M3.5.0/1,M10.5.0", 0, 3600, 1, 3, 5, 0, 3600, 10, 5, 0, 7200},
        {"UTC0", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
        {"JST-9", 32400, 32400, 0, 0, 0, 0, 0, 0, 0, 0, 0},
        {"<+0545>-5:45", 20700, 20700, 0, 0, 0, 0, 0, 0, 0, 0, 0},
        {"<-03>3", -10800, -10800, 0, 0, 0, 0, 0, 0, 0, 0, 0},
        {"AAA+5", -18000, -18000, 0, 0, 0, 0, 0, 0, 0, 0, 0},
        {"AAA-1:02:03", 3723, 3723, 0, 0, 0, 0, 0, 0, 0, 0, 0},
        {"EST5EDT,M3.2.0,M11.1.0", -18000, -14400, 1, 3, 2, 0, 7200, 11, 1, 0, 7200},
        {"AEST-10AEDT,M10.1.0,M4.1.0/3", 36000, 39600, 1, 10, 1, 0, 7200, 4, 1, 0, 10800},
        {"<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", 37800, 39600, 1, 10, 1, 0, 7200, 4, 1, 0, 7200},
        {"IST-1GMT0,M10.5.0,M3.5.0/1", 3600, 0, 1, 10, 5, 0, 7200, 3, 5, 0, 3600},
        {"<-02>2<-01>,M3.5.0/-1,M10.5.0/0", -7200, -3600, 1, 3, 5, 0, -3600, 10, 5, 0, 0},
        {"XXX3YYY,M3.2.6/25:30:15,M11.1.1/167", -10800, -7200, 1, 3, 2, 6, 91815, 11, 1, 1, 601200},
        {"ABCDEFGHIJKLMNOP0", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct posix_case *c = &cases[i];
        struct ww_tz tz;
        int rc = ww_tz_parse_posix(c->rule, &tz);
        if (rc != 0)
            ww_test_fail(__FILE__, __LINE__, "\"%s\": %s", c->rule, ww_err_name(rc));
        ASSERT_EQ(tz.std_offset, c->std_offset);
        ASSERT_EQ(tz.dst_offset, c->dst_offset);
        ASSERT_EQ(tz.has_dst, c->has_dst);
        if (c->has_dst) {
            ASSERT_EQ(tz.start_month, c->sm);
            ASSERT_EQ(tz.start_week, c->sw);
            ASSERT_EQ(tz.start_wday, c->sd);
            ASSERT_EQ(tz.start_time, c->st);
            ASSERT_EQ(tz.end_month, c->em);
            ASSERT_EQ(tz.end_week, c->ew);
            ASSERT_EQ(tz.end_wday, c->ed);
            ASSERT_EQ(tz.end_time, c->et);
        }
    }
}

TEST(day_posix_rejects)
{
    static const char *const bad[] = {
        "",
        "C",
        "CE-1",
        "CET",
        "CET-",
        "CET+",
        "CET-25",
        "CET-001",
        "CET-1:60",
        "CET-1:5",
        "CET-1:05:6",
        "CET-1:05:60",
        "CET-1 ",
        " CET-1",
        "CET-1CEST",
        "CET-1CEST-2",
        "CET-1CEST,M3.5.0",
        "CET-1CEST,M3.5.0,",
        "CET-1CEST,M3.5.0,M10.5.0,",
        "CET-1CEST,M3.5.0,M10.5.0/3x",
        "CET-1CEST,M13.5.0,M10.5.0",
        "CET-1CEST,M0.5.0,M10.5.0",
        "CET-1CEST,M3.6.0,M10.5.0",
        "CET-1CEST,M3.0.0,M10.5.0",
        "CET-1CEST,M3.5.7,M10.5.0",
        "CET-1CEST,M3.5,M10.5.0",
        "CET-1CEST,M3.5.0/168,M10.5.0",
        "CET-1CEST,M3.5.0/-168,M10.5.0",
        "CET-1CEST,M3.5.0/,M10.5.0",
        "CET-1CEST,J60,J300",
        "CET-1CEST,60,300",
        "CET-1CE,M3.5.0,M10.5.0",
        ":Europe/Amsterdam",
        "Europe/Amsterdam",
        "<+03-3",
        "<+3>-3",
        "<+03>>-3",
        "<+0 3>-3",
        "ABCDEFGHIJKLMNOPQ-1",
        "CET\t-1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ww_tz tz;
        memset(&tz, 0xA5, sizeof tz);
        int rc = ww_tz_parse_posix(bad[i], &tz);
        if (rc != WW_EINVAL)
            ww_test_fail(__FILE__, __LINE__, "\"%s\": got %d (%s), want WW_EINVAL", bad[i], rc,
                         ww_err_name(rc));
        ASSERT_EQ(tz.std_offset, (int32_t)0xA5A5A5A5); /* *out untouched */
    }
    struct ww_tz tz;
    ASSERT_ERR(ww_tz_parse_posix(NULL, &tz), WW_EINVAL);
}

/* ---- Offsets and local dates --------------------------------------------------------- */

static struct ww_tz load(const char *name)
{
    struct ww_tz tz;
    int rc = ww_tz_load(name, &tz);
    if (rc != 0)
        ww_test_fail(__FILE__, __LINE__, "ww_tz_load(%s): %s", name, ww_err_name(rc));
    return tz;
}

static uint32_t local_date(const struct ww_tz *tz, int64_t unix_s)
{
    return ww_tz_date(tz, unix_s * 1000);
}

TEST(day_amsterdam_transitions_2026)
{
    struct ww_tz tz = load("Europe/Amsterdam");
    ASSERT_STR_EQ(tz.name, "Europe/Amsterdam");
    /* Summer time starts 2026-03-29 at 02:00 CET = 01:00 UTC. */
    int64_t start = instant(ymd(2026, 3, 29), 1, 0, 0);
    ASSERT_EQ(start, 1774746000);
    ASSERT_EQ(ww_tz_offset(&tz, start - 3600), 3600);
    ASSERT_EQ(ww_tz_offset(&tz, start - 1), 3600);
    ASSERT_EQ(ww_tz_offset(&tz, start), 7200);
    ASSERT_EQ(ww_tz_offset(&tz, start + 1), 7200);
    /* It ends 2026-10-25 at 03:00 CEST = 01:00 UTC. */
    int64_t end = instant(ymd(2026, 10, 25), 1, 0, 0);
    ASSERT_EQ(end, 1792890000);
    ASSERT_EQ(ww_tz_offset(&tz, end - 1), 7200);
    ASSERT_EQ(ww_tz_offset(&tz, end), 3600);
    ASSERT_EQ(ww_tz_offset(&tz, end + 3600), 3600);
    /* Deep winter and summer. */
    ASSERT_EQ(ww_tz_offset(&tz, instant(ymd(2026, 1, 15), 12, 0, 0)), 3600);
    ASSERT_EQ(ww_tz_offset(&tz, instant(ymd(2026, 7, 15), 12, 0, 0)), 7200);
    ASSERT_EQ(ww_tz_offset(&tz, instant(ymd(2026, 12, 31), 23, 59, 59)), 3600);
    /* Both transition instants are on the same local date. */
    ASSERT_EQ(local_date(&tz, start - 1), ymd(2026, 3, 29));
    ASSERT_EQ(local_date(&tz, start), ymd(2026, 3, 29));
    ASSERT_EQ(local_date(&tz, end - 1), ymd(2026, 10, 25));
    ASSERT_EQ(local_date(&tz, end), ymd(2026, 10, 25));
}

TEST(day_amsterdam_local_midnight)
{
    struct ww_tz tz = load(NULL); /* the default zone */
    ASSERT_STR_EQ(tz.name, "Europe/Amsterdam");
    /* Summer: local midnight is 22:00 UTC. */
    uint32_t jun30 = ymd(2026, 6, 30);
    ASSERT_EQ(local_date(&tz, instant(jun30, 21, 59, 59)), jun30);
    ASSERT_EQ(local_date(&tz, instant(jun30, 22, 0, 0)), ymd(2026, 7, 1));
    ASSERT_EQ(local_date(&tz, instant(jun30, 22, 30, 0)), ymd(2026, 7, 1));
    /* Winter: local midnight is 23:00 UTC, and here the year changes too. */
    uint32_t dec31 = ymd(2026, 12, 31);
    ASSERT_EQ(local_date(&tz, instant(dec31, 22, 59, 59)), dec31);
    ASSERT_EQ(local_date(&tz, instant(dec31, 23, 0, 0)), ymd(2027, 1, 1));
    ASSERT_EQ(local_date(&tz, instant(dec31, 23, 30, 0)), ymd(2027, 1, 1));
    /* Milliseconds round down, not to the nearest second. */
    ASSERT_EQ(ww_tz_date(&tz, instant(dec31, 22, 59, 59) * 1000 + 999), dec31);
}

/* Last Sunday of month m in year y, computed from the weekday of the month's last day. */
static uint32_t last_sunday(int y, int m)
{
    uint32_t last = ymd(y, m, days_in_month(y, m));
    return last - (uint32_t)(ww_date_weekday(last) % 7);
}

TEST(day_amsterdam_matches_eu_rule_2026_2040)
{
    /* Every half hour for 15 years: summer time exactly between 01:00 UTC on the last
     * Sunday of March and 01:00 UTC on the last Sunday of October (the EU rule). */
    struct ww_tz tz = load("Europe/Amsterdam");
    for (int y = 2026; y <= 2040; y++) {
        int64_t on = instant(last_sunday(y, 3), 1, 0, 0);
        int64_t off = instant(last_sunday(y, 10), 1, 0, 0);
        for (int64_t t = instant(ymd(y, 1, 1), 0, 0, 0); t < instant(ymd(y + 1, 1, 1), 0, 0, 0);
             t += 1800) {
            int32_t want = t >= on && t < off ? 7200 : 3600;
            if (ww_tz_offset(&tz, t) != want)
                ww_test_fail(__FILE__, __LINE__, "t=%lld: %d, want %d", (long long)t,
                             ww_tz_offset(&tz, t), want);
        }
    }
}

TEST(day_london_and_utc)
{
    struct ww_tz london = load("Europe/London");
    int64_t start = instant(ymd(2026, 3, 29), 1, 0, 0); /* 01:00 GMT */
    int64_t end = instant(ymd(2026, 10, 25), 1, 0, 0);  /* 02:00 BST */
    ASSERT_EQ(ww_tz_offset(&london, start - 1), 0);
    ASSERT_EQ(ww_tz_offset(&london, start), 3600);
    ASSERT_EQ(ww_tz_offset(&london, end - 1), 3600);
    ASSERT_EQ(ww_tz_offset(&london, end), 0);
    uint32_t jun30 = ymd(2026, 6, 30), dec31 = ymd(2026, 12, 31);
    ASSERT_EQ(local_date(&london, instant(jun30, 22, 30, 0)), jun30);
    ASSERT_EQ(local_date(&london, instant(jun30, 23, 0, 0)), ymd(2026, 7, 1));
    ASSERT_EQ(local_date(&london, instant(dec31, 23, 30, 0)), dec31);

    struct ww_tz utc = load("UTC");
    ASSERT_EQ(utc.has_dst, 0);
    ASSERT_EQ(ww_tz_offset(&utc, start), 0);
    ASSERT_EQ(ww_tz_offset(&utc, instant(jun30, 12, 0, 0)), 0);
    ASSERT_EQ(local_date(&utc, instant(dec31, 23, 59, 59)), dec31);
    ASSERT_EQ(local_date(&utc, instant(dec31, 23, 59, 59) + 1), ymd(2027, 1, 1));
    ASSERT_EQ(ww_tz_date(&utc, 86400 * 1000 - 1), 0);
    ASSERT_EQ(ww_tz_date(&utc, 86400 * 1000), 1);

    struct ww_tz other = load("Europe/Brussels");
    ASSERT_EQ(ww_tz_offset(&other, start), 7200);
    other = load("Europe/Berlin");
    ASSERT_EQ(ww_tz_offset(&other, end), 3600);
}

TEST(day_southern_and_negative_dst)
{
    /* Sydney: summer time spans the new year; both changes happen at 16:00 UTC. */
    struct ww_tz syd;
    ASSERT_OK(ww_tz_parse_posix("AEST-10AEDT,M10.1.0,M4.1.0/3", &syd));
    int64_t end = instant(ymd(2026, 4, 4), 16, 0, 0);    /* Sun 5 April 03:00 AEDT */
    int64_t start = instant(ymd(2026, 10, 3), 16, 0, 0); /* Sun 4 October 02:00 AEST */
    ASSERT_EQ(ww_tz_offset(&syd, instant(ymd(2026, 1, 10), 0, 0, 0)), 39600);
    ASSERT_EQ(ww_tz_offset(&syd, end - 1), 39600);
    ASSERT_EQ(ww_tz_offset(&syd, end), 36000);
    ASSERT_EQ(ww_tz_offset(&syd, instant(ymd(2026, 7, 1), 0, 0, 0)), 36000);
    ASSERT_EQ(ww_tz_offset(&syd, start - 1), 36000);
    ASSERT_EQ(ww_tz_offset(&syd, start), 39600);
    ASSERT_EQ(ww_tz_offset(&syd, instant(ymd(2026, 12, 31), 14, 0, 0)), 39600);
    ASSERT_EQ(local_date(&syd, instant(ymd(2026, 12, 31), 13, 0, 0)), ymd(2027, 1, 1));

    /* Dublin writes winter as its "summer" rule with a negative difference. */
    struct ww_tz dub;
    ASSERT_OK(ww_tz_parse_posix("IST-1GMT0,M10.5.0,M3.5.0/1", &dub));
    int64_t mar = instant(ymd(2026, 3, 29), 1, 0, 0), oct = instant(ymd(2026, 10, 25), 1, 0, 0);
    ASSERT_EQ(ww_tz_offset(&dub, mar - 1), 0);
    ASSERT_EQ(ww_tz_offset(&dub, mar), 3600);
    ASSERT_EQ(ww_tz_offset(&dub, oct - 1), 3600);
    ASSERT_EQ(ww_tz_offset(&dub, oct), 0);

    /* A negative rule time: Greenland changes at -1:00 on the last Sunday of March, which
     * is Saturday 23:00 at -02, or 01:00 UTC: the same instant as the EU. */
    struct ww_tz nuuk;
    ASSERT_OK(ww_tz_parse_posix("<-02>2<-01>,M3.5.0/-1,M10.5.0/0", &nuuk));
    int64_t on = instant(ymd(2026, 3, 29), 1, 0, 0);
    ASSERT_EQ(ww_tz_offset(&nuuk, on - 1), -7200);
    ASSERT_EQ(ww_tz_offset(&nuuk, on), -3600);
    /* Rule time past 24h: "M3.2.6/25:30:15" is Sunday 01:30:15 after the second Saturday. */
    struct ww_tz odd;
    ASSERT_OK(ww_tz_parse_posix("XXX3YYY,M3.2.6/25:30:15,M11.1.1/167", &odd));
    /* Second Saturday of March 2026 is the 14th; +25:30:15 local (-03) is 15th 04:30:15Z. */
    int64_t odd_on = instant(ymd(2026, 3, 15), 4, 30, 15);
    ASSERT_EQ(ww_tz_offset(&odd, odd_on - 1), -10800);
    ASSERT_EQ(ww_tz_offset(&odd, odd_on), -7200);
}

TEST(day_extreme_instants)
{
    struct ww_tz tz = load("Europe/Amsterdam");
    ASSERT_EQ(ww_tz_date(&tz, INT64_MIN), 0);
    ASSERT_EQ(ww_tz_date(&tz, INT64_MAX), MAX_DATE);
    ASSERT_EQ(ww_tz_date(&tz, -1), 0); /* 1970-01-01 00:59:59 local */
    ASSERT_EQ(ww_tz_date(&tz, -3600001), 0);
    int32_t o = ww_tz_offset(&tz, INT64_MIN);
    ASSERT(o == 3600 || o == 7200);
    o = ww_tz_offset(&tz, INT64_MAX);
    ASSERT(o == 3600 || o == 7200);
}

TEST(day_hand_made_zone_out_of_range)
{
    /* A struct filled in by hand with impossible rules keeps standard time. */
    struct ww_tz tz;
    memset(&tz, 0, sizeof tz);
    tz.std_offset = 3600;
    tz.dst_offset = 7200;
    tz.has_dst = 1;
    tz.start_month = 13;
    tz.start_week = 5;
    tz.end_month = 10;
    tz.end_week = 5;
    ASSERT_EQ(ww_tz_offset(&tz, instant(ymd(2026, 7, 1), 0, 0, 0)), 3600);
    tz.start_month = 3;
    tz.start_week = 0;
    ASSERT_EQ(ww_tz_offset(&tz, instant(ymd(2026, 7, 1), 0, 0, 0)), 3600);
    tz.start_week = 5;
    tz.end_wday = 7;
    ASSERT_EQ(ww_tz_offset(&tz, instant(ymd(2026, 7, 1), 0, 0, 0)), 3600);
    tz.end_wday = 0;
    tz.end_time = INT32_MAX;
    ASSERT_EQ(ww_tz_offset(&tz, instant(ymd(2026, 7, 1), 0, 0, 0)), 3600);
    tz.end_time = 10800;
    ASSERT_EQ(ww_tz_offset(&tz, instant(ymd(2026, 7, 1), 0, 0, 0)), 7200);
}

/* ---- Loading zones --------------------------------------------------------------------- */

TEST(day_tz_load_names)
{
    struct ww_tz tz = load("");
    ASSERT_STR_EQ(tz.name, "Europe/Amsterdam");
    static const char *const bad[] = {
        "../etc/passwd",     "Europe/../../etc/passwd", "Europe/..",         "..",
        "/etc/passwd",       "/Europe/Amsterdam",       "Europe//Amsterdam", "Europe/",
        "Europe/Amster dam", "Europe/Amsterdam\n",      "Europe\\Amsterdam", "Europe/./Amsterdam",
        "Europe/Am*",        "Europe/Amsterdäm",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&tz, 0xA5, sizeof tz);
        int rc = ww_tz_load(bad[i], &tz);
        if (rc != WW_EINVAL)
            ww_test_fail(__FILE__, __LINE__, "\"%s\": got %d (%s), want WW_EINVAL", bad[i], rc,
                         ww_err_name(rc));
        ASSERT_EQ(tz.std_offset, (int32_t)0xA5A5A5A5);
    }
    /* 63 bytes pass the name rules (and no such zone exists); 64 do not. */
    ASSERT_OK(setenv("TZDIR", ww_test_tmpdir(), 1));
    char name[65];
    memset(name, 'A', 63);
    name[63] = '\0';
    ASSERT_ERR(ww_tz_load(name, &tz), WW_ENOTFOUND);
    name[63] = 'A';
    name[64] = '\0';
    ASSERT_ERR(ww_tz_load(name, &tz), WW_EINVAL);
    ASSERT_ERR(ww_tz_load("Etc/GMT+5", &tz), WW_ENOTFOUND);
}

/* Appends a TZif header: magic, version, 15 reserved bytes, six big-endian counts. */
static size_t put_header(uint8_t *p, char version, const uint32_t counts[6])
{
    memcpy(p, "TZif", 4);
    p[4] = (uint8_t)version;
    memset(p + 5, 0, 15);
    for (int i = 0; i < 6; i++) {
        p[20 + 4 * i] = (uint8_t)(counts[i] >> 24);
        p[21 + 4 * i] = (uint8_t)(counts[i] >> 16);
        p[22 + 4 * i] = (uint8_t)(counts[i] >> 8);
        p[23 + 4 * i] = (uint8_t)counts[i];
    }
    return 44;
}

/* Appends a data block: one transition, two types ("LMT", "CET"), one leap second record,
 * standard/wall and UT/local indicators for both types. time_size is 4 or 8. */
static size_t put_block(uint8_t *p, int time_size)
{
    size_t n = 0;
    /* transition time 0 (big-endian, time_size bytes), then its type index 1 */
    memset(p + n, 0, (size_t)time_size);
    n += (size_t)time_size;
    p[n++] = 1;
    /* ttinfo: utoff (4), isdst (1), abbrind (1) */
    static const uint8_t types[12] = {0, 0, 0x04, 0x4c, 0, 0, 0, 0, 0x0e, 0x10, 0, 4};
    memcpy(p + n, types, sizeof types);
    n += sizeof types;
    memcpy(p + n, "LMT\0CET\0", 8);
    n += 8;
    /* one leap record: occurrence (time_size) and correction (4) */
    memset(p + n, 0, (size_t)time_size + 4);
    n += (size_t)time_size + 4;
    p[n++] = 0; /* isstd x2 */
    p[n++] = 0;
    p[n++] = 0; /* isut x2 */
    p[n++] = 0;
    return n;
}

/* isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt */
static const uint32_t good_counts[6] = {2, 2, 1, 1, 2, 8};

struct tzif {
    uint8_t b[1024];
    size_t len;
    size_t h2;     /* offset of the second header */
    size_t footer; /* offset of the footer's first newline */
};

static void build_tzif(struct tzif *f, const char *footer)
{
    size_t n = 0;
    n += put_header(f->b + n, '2', good_counts);
    n += put_block(f->b + n, 4);
    ASSERT_EQ(n, 44 + 8 + 5 + 12 + 8 - 4 + 8); /* v1 block: 37 bytes */
    f->h2 = n;
    n += put_header(f->b + n, '2', good_counts);
    n += put_block(f->b + n, 8);
    ASSERT_EQ(n - f->h2, 44 + 45);
    f->footer = n;
    size_t flen = strlen(footer);
    ASSERT(n + flen <= sizeof f->b);
    memcpy(f->b + n, footer, flen);
    f->len = n + flen;
}

static void write_zone(const char *name, const uint8_t *buf, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", ww_test_tmpdir(), name);
    char *slash = strrchr(path, '/');
    if (slash > path + strlen(ww_test_tmpdir())) {
        *slash = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST)
            ww_test_fail(__FILE__, __LINE__, "mkdir %s: %s", path, strerror(errno));
        *slash = '/';
    }
    FILE *fp = fopen(path, "wb");
    ASSERT(fp != NULL);
    ASSERT_EQ(fwrite(buf, 1, len, fp), len);
    ASSERT_EQ(fclose(fp), 0);
}

static void use_test_zoneinfo(void)
{
    ASSERT_OK(setenv("TZDIR", ww_test_tmpdir(), 1));
}

TEST(day_tzif_valid_file)
{
    use_test_zoneinfo();
    struct tzif f;
    build_tzif(&f, "\nCET-1CEST,M3.5.0,M10.5.0/3\n");
    write_zone("Test/Zone", f.b, f.len);
    struct ww_tz tz = load("Test/Zone");
    ASSERT_STR_EQ(tz.name, "Test/Zone");
    ASSERT_EQ(tz.has_dst, 1);
    int64_t start = instant(ymd(2026, 3, 29), 1, 0, 0);
    ASSERT_EQ(ww_tz_offset(&tz, start - 1), 3600);
    ASSERT_EQ(ww_tz_offset(&tz, start), 7200);
    ASSERT_EQ(local_date(&tz, instant(ymd(2026, 12, 31), 23, 30, 0)), ymd(2027, 1, 1));

    /* Versions 3 and 4 have the same layout. */
    build_tzif(&f, "\n<+0545>-5:45\n");
    f.b[4] = '3';
    f.b[f.h2 + 4] = '3';
    write_zone("Test/Kathmandu", f.b, f.len);
    tz = load("Test/Kathmandu");
    ASSERT_EQ(tz.has_dst, 0);
    ASSERT_EQ(ww_tz_offset(&tz, start), 20700);
    f.b[4] = '4';
    f.b[f.h2 + 4] = '4';
    write_zone("Test/V4", f.b, f.len);
    tz = load("Test/V4");
    ASSERT_EQ(tz.std_offset, 20700);

    /* A built-in name wins over a file of the same name. */
    write_zone("UTC", f.b, f.len);
    tz = load("UTC");
    ASSERT_EQ(tz.std_offset, 0);
}

TEST(day_tzif_out_of_memory)
{
    use_test_zoneinfo();
    struct tzif f;
    build_tzif(&f, "\nCET-1CEST,M3.5.0,M10.5.0/3\n");
    write_zone("Test/Zone", f.b, f.len);
    struct ww_tz tz;
    memset(&tz, 0xA5, sizeof tz);
    ww_alloc_fail_after(0);
    int rc = ww_tz_load("Test/Zone", &tz);
    ww_alloc_fail_after(-1);
    ASSERT_ERR(rc, WW_ENOMEM);
    ASSERT_EQ(tz.std_offset, (int32_t)0xA5A5A5A5);
    ASSERT_OK(ww_tz_load("Test/Zone", &tz));
}

static void expect_corrupt(const char *what, const uint8_t *buf, size_t len)
{
    write_zone("Bad/Zone", buf, len);
    struct ww_tz tz;
    memset(&tz, 0xA5, sizeof tz);
    int rc = ww_tz_load("Bad/Zone", &tz);
    if (rc != WW_ECORRUPT)
        ww_test_fail(__FILE__, __LINE__, "%s: got %d (%s), want WW_ECORRUPT", what, rc,
                     ww_err_name(rc));
    ASSERT_EQ(tz.std_offset, (int32_t)0xA5A5A5A5);
}

static void set_count(uint8_t *header, int which, uint32_t v)
{
    uint8_t *p = header + 20 + 4 * which;
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

TEST(day_tzif_corrupt_files)
{
    use_test_zoneinfo();
    static const char footer[] = "\nCET-1CEST,M3.5.0,M10.5.0/3\n";
    struct tzif f;

    build_tzif(&f, footer);
    f.b[0] = 'X';
    expect_corrupt("bad magic", f.b, f.len);
    build_tzif(&f, footer);
    f.b[f.h2 + 3] = 'F';
    expect_corrupt("bad second magic", f.b, f.len);
    build_tzif(&f, footer);
    f.b[4] = 0;
    f.b[f.h2 + 4] = 0;
    expect_corrupt("version 1 (no footer)", f.b, f.len);
    build_tzif(&f, footer);
    f.b[4] = '5';
    f.b[f.h2 + 4] = '5';
    expect_corrupt("unknown version", f.b, f.len);
    build_tzif(&f, footer);
    f.b[f.h2 + 4] = '3';
    expect_corrupt("versions differ", f.b, f.len);

    /* Counts that do not fit the bytes that are there. */
    for (int which = 0; which < 6; which++) {
        static const uint32_t huge[] = {1000, 0xFFFFFFFFu};
        for (size_t h = 0; h < 2; h++) {
            build_tzif(&f, footer);
            set_count(f.b, which, huge[h]);
            expect_corrupt("first header count too large", f.b, f.len);
            build_tzif(&f, footer);
            set_count(f.b + f.h2, which, huge[h]);
            expect_corrupt("second header count too large", f.b, f.len);
        }
    }
    /* One more transition than stored: the blocks shift and the footer is not found. */
    build_tzif(&f, footer);
    set_count(f.b + f.h2, 3, 2);
    expect_corrupt("timecnt off by one", f.b, f.len);
    build_tzif(&f, footer);
    set_count(f.b, 5, 7);
    expect_corrupt("charcnt one short", f.b, f.len);
    build_tzif(&f, footer);
    set_count(f.b, 4, 0);
    expect_corrupt("no types", f.b, f.len);
    build_tzif(&f, footer);
    set_count(f.b, 0, 1);
    expect_corrupt("isutcnt neither 0 nor typecnt", f.b, f.len);

    /* Truncations at every length. */
    build_tzif(&f, footer);
    for (size_t len = 0; len < f.len; len++)
        expect_corrupt("truncated", f.b, len);

    /* Footers that are missing or malformed. */
    build_tzif(&f, "");
    expect_corrupt("no footer", f.b, f.len);
    build_tzif(&f, "\n");
    expect_corrupt("lone newline", f.b, f.len);
    build_tzif(&f, "\n\n");
    expect_corrupt("empty footer", f.b, f.len);
    build_tzif(&f, "\nCET-1CEST,M3.5.0,M10.5.0/3");
    expect_corrupt("footer without its last newline", f.b, f.len);
    build_tzif(&f, "CET-1CEST,M3.5.0,M10.5.0/3\n");
    expect_corrupt("footer without its first newline", f.b, f.len);
    build_tzif(&f, "\nCET-1CEST,M3.5.0,M10.5.0/3\nxx");
    expect_corrupt("bytes after the footer", f.b, f.len);
    build_tzif(&f, "\nCET-1\nCEST,M3.5.0,M10.5.0/3\n");
    expect_corrupt("newline inside the footer", f.b, f.len);
    build_tzif(&f, "\nnot a rule\n");
    expect_corrupt("footer that is no rule", f.b, f.len);
    build_tzif(&f, "\nEST5EDT,J60,J300\n");
    expect_corrupt("footer with an unsupported rule", f.b, f.len);
    build_tzif(&f, "\nUTC0X\n");
    f.b[f.footer + 5] = '\0'; /* a C string reader would see the valid rule "UTC0" */
    expect_corrupt("NUL inside the footer", f.b, f.len);
    {
        struct tzif big;
        build_tzif(&big, "\n");
        memset(big.b + big.footer + 1, 'A', 300);
        big.b[big.footer + 301] = '\n';
        big.len = big.footer + 302;
        expect_corrupt("footer too long", big.b, big.len);
    }
}

TEST(day_tzif_too_large)
{
    use_test_zoneinfo();
    /* A file over 256 KiB is refused without being parsed. */
    size_t len = 256 * 1024 + 1;
    uint8_t *buf = calloc(1, len);
    ASSERT(buf != NULL);
    struct tzif f;
    build_tzif(&f, "\nUTC0\n");
    memcpy(buf, f.b, f.len);
    expect_corrupt("too large", buf, len);
    /* Exactly 256 KiB is read; it is then corrupt because of the padding. */
    expect_corrupt("at the limit", buf, len - 1);
    free(buf);
}

TEST(day_tzif_missing)
{
    use_test_zoneinfo();
    struct ww_tz tz;
    memset(&tz, 0xA5, sizeof tz);
    ASSERT_ERR(ww_tz_load("Nowhere/Zone", &tz), WW_ENOTFOUND);
    ASSERT_ERR(ww_tz_load("Nowhere", &tz), WW_ENOTFOUND);
    /* A folder is not a zone. */
    char path[512];
    snprintf(path, sizeof path, "%s/Folder", ww_test_tmpdir());
    ASSERT_EQ(mkdir(path, 0700), 0);
    ASSERT_ERR(ww_tz_load("Folder", &tz), WW_ENOTFOUND);
    /* A file below a file is not found either. */
    struct tzif f;
    build_tzif(&f, "\nUTC0\n");
    write_zone("Flat", f.b, f.len);
    ASSERT_ERR(ww_tz_load("Flat/Zone", &tz), WW_ENOTFOUND);
    ASSERT_EQ(tz.std_offset, (int32_t)0xA5A5A5A5);
    /* An empty TZDIR means the system folder. */
    ASSERT_OK(setenv("TZDIR", "", 1));
    ASSERT_ERR(ww_tz_load("No_Such/Zone_Anywhere", &tz), WW_ENOTFOUND);
}

TEST(day_tzif_system_zone)
{
    /* Reads a real zone when the system has tzdata; the footer rule is what counts. */
    ASSERT_OK(unsetenv("TZDIR"));
    if (access("/usr/share/zoneinfo/America/New_York", R_OK) != 0)
        return;
    struct ww_tz tz = load("America/New_York");
    ASSERT_EQ(tz.std_offset, -18000);
    ASSERT_EQ(tz.dst_offset, -14400);
    /* 2026: second Sunday of March (8th) 02:00 EST = 07:00 UTC; first Sunday of
     * November (1st) 02:00 EDT = 06:00 UTC. */
    int64_t on = instant(ymd(2026, 3, 8), 7, 0, 0), off = instant(ymd(2026, 11, 1), 6, 0, 0);
    ASSERT_EQ(ww_tz_offset(&tz, on - 1), -18000);
    ASSERT_EQ(ww_tz_offset(&tz, on), -14400);
    ASSERT_EQ(ww_tz_offset(&tz, off - 1), -14400);
    ASSERT_EQ(ww_tz_offset(&tz, off), -18000);
    ASSERT_EQ(local_date(&tz, instant(ymd(2027, 1, 1), 4, 59, 59)), ymd(2026, 12, 31));
}
