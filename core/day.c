/*
 * day.c - civil dates and POSIX time zone rules, computed without the C library's clock.
 *
 * Dates are days since 1970-01-01 in the proleptic Gregorian calendar, converted with
 * the days-from-civil algorithm; nothing here calls mktime, localtime or setenv("TZ"),
 * which depend on process state and are not thread-safe. Every function is pure apart
 * from ww_tz_load, which may read one TZif file.
 *
 * Invariants:
 *  - A parsed struct ww_tz is always usable: offsets within +-25 hours, and when has_dst
 *    is set, months 1..12, weeks 1..5, weekdays 0..6 and rule times within +-167 hours.
 *  - Dates handed out are within 1970-01-01 .. 9999-12-31 (0 .. MAX_DATE).
 *  - A TZif file is hostile input: its name is checked before it is opened, at most
 *    TZIF_MAX bytes are read, and every count is checked against the bytes present.
 *  - `*out` is written only on success.
 */
#include "day.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "wegwijs.h"

#define MIN_YEAR 1970
#define MAX_YEAR 9999
#define MAX_DATE 2932896 /* 9999-12-31 */
#define DAY_S    86400
/* Instants are clamped to +-2^40 s (about 34,800 years) so no sum below can overflow. */
#define INSTANT_LIMIT ((int64_t)1 << 40)

#define ZONE_NAME_MAX 63 /* sizeof ((struct ww_tz *)0)->name - 1 */
_Static_assert(sizeof(((struct ww_tz *)0)->name) == ZONE_NAME_MAX + 1, "zone name size");
#define TZ_ABBR_MIN          3
#define TZ_ABBR_MAX          16
#define TZ_OFFSET_MAX_H      24
#define TZ_RULE_TIME_MAX_H   167
#define TZ_DEFAULT_RULE_TIME 7200

#define TZIF_MAX        (256u * 1024u)
#define TZIF_HEADER     44
#define TZIF_FOOTER_MAX 255

/* ---- Calendar ------------------------------------------------------------------------ */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
    return a - floor_div(a, b) * b;
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_len(int64_t y, int m)
{
    static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : len[m - 1];
}

/* Days since 1970-01-01 of y-m-d (m 1..12, d 1..31), for any year (H. Hinnant's
 * days_from_civil: years are shifted to start in March so the leap day comes last). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;                                   /* 0..399 */
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* 0..365 */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* 0..146096 */
    return era * 146097 + doe - 719468;
}

/* The inverse of days_from_civil. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* 0 Sunday .. 6 Saturday, as in POSIX rules; 1970-01-01 was a Thursday. */
static int weekday_sun0(int64_t days)
{
    return (int)floor_mod(days + 4, 7);
}

int ww_date_from_ymd(int y, int m, int d, uint32_t *out)
{
    if (y < MIN_YEAR || y > MAX_YEAR || m < 1 || m > 12 || d < 1 || d > month_len(y, m))
        return WW_ERANGE;
    *out = (uint32_t)days_from_civil(y, m, d);
    return 0;
}

void ww_date_to_ymd(uint32_t date, int *y, int *m, int *d)
{
    int64_t yy;
    int mm, dd;
    civil_from_days(date, &yy, &mm, &dd);
    if (y)
        *y = (int)yy; /* at most about 11.8 million for the largest uint32_t */
    if (m)
        *m = mm;
    if (d)
        *d = dd;
}

int ww_date_weekday(uint32_t date)
{
    int wd = weekday_sun0(date);
    return wd == 0 ? 7 : wd;
}

int ww_date_week(uint32_t start, uint32_t date)
{
    if (date < start)
        return 0;
    return (int)((date - start) / 7 + 1);
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Reads exactly n digits at s; -1 if any is not a digit (a NUL stops it safely). */
static int fixed_digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Accepts exactly "YYYY-MM-DD" (10 bytes, then NUL) naming a real date in 1970..9999. */
int ww_date_parse(const char *iso, uint32_t *date_out)
{
    if (!iso)
        return WW_EINVAL;
    int y = fixed_digits(iso, 4);
    if (y < 0 || iso[4] != '-')
        return WW_EINVAL;
    int m = fixed_digits(iso + 5, 2);
    if (m < 0 || iso[7] != '-')
        return WW_EINVAL;
    int d = fixed_digits(iso + 8, 2);
    if (d < 0 || iso[10] != '\0')
        return WW_EINVAL;
    uint32_t date;
    if (ww_date_from_ymd(y, m, d, &date) != 0)
        return WW_EINVAL;
    *date_out = date;
    return 0;
}

static void put_digits(char *out, int v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* Writes "YYYY-MM-DD". A date past 9999-12-31 has no such form; it is written as
 * "0000-00-00", which ww_date_parse rejects, rather than as a plausible wrong date. */
void ww_date_format(uint32_t date, char out[11])
{
    int y, m, d;
    if (date > MAX_DATE) {
        y = m = d = 0;
    } else {
        ww_date_to_ymd(date, &y, &m, &d);
    }
    put_digits(out, y, 4);
    out[4] = '-';
    put_digits(out + 5, m, 2);
    out[7] = '-';
    put_digits(out + 8, d, 2);
    out[10] = '\0';
}

/* ---- POSIX TZ rules ------------------------------------------------------------------ */

static int is_alpha(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* A zone abbreviation: TZ_ABBR_MIN..TZ_ABBR_MAX letters, or the same number of letters,
 * digits, '+' and '-' between '<' and '>'. Advances *pp past it. */
static int parse_abbr(const char **pp)
{
    const char *p = *pp;
    size_t n = 0;
    if (*p == '<') {
        p++;
        while (is_alpha(*p) || is_digit(*p) || *p == '+' || *p == '-') {
            p++;
            n++;
        }
        if (*p != '>')
            return -1;
        p++;
    } else {
        while (is_alpha(*p)) {
            p++;
            n++;
        }
    }
    if (n < TZ_ABBR_MIN || n > TZ_ABBR_MAX)
        return -1;
    *pp = p;
    return 0;
}

/* Reads 1..max_digits digits as a number; -1 when there is none. */
static int parse_number(const char **pp, int max_digits)
{
    const char *p = *pp;
    int v = 0, n = 0;
    while (is_digit(*p) && n < max_digits) {
        v = v * 10 + (*p - '0');
        p++;
        n++;
    }
    if (n == 0 || is_digit(*p))
        return -1;
    *pp = p;
    return v;
}

/* [+-]hh[:mm[:ss]] with hours 0..max_h (one or two digits, three when max_h needs them)
 * and two-digit minutes and seconds below 60. The result is the signed number of seconds
 * as written, without the POSIX sign inversion. */
static int parse_hms(const char **pp, int max_h, int32_t *out)
{
    const char *p = *pp;
    int sign = 1;
    if (*p == '+' || *p == '-') {
        sign = *p == '-' ? -1 : 1;
        p++;
    }
    int h = parse_number(&p, max_h >= 100 ? 3 : 2);
    if (h < 0 || h > max_h)
        return -1;
    int mm = 0, ss = 0;
    if (*p == ':') {
        mm = fixed_digits(p + 1, 2);
        if (mm < 0 || mm > 59 || is_digit(p[3]))
            return -1;
        p += 3;
        if (*p == ':') {
            ss = fixed_digits(p + 1, 2);
            if (ss < 0 || ss > 59 || is_digit(p[3]))
                return -1;
            p += 3;
        }
    }
    *out = sign * (h * 3600 + mm * 60 + ss);
    *pp = p;
    return 0;
}

/* ",Mm.w.d[/time]": month 1..12, week 1..5 (5 = last), weekday 0..6 (0 = Sunday). */
static int parse_rule(const char **pp, uint8_t *month, uint8_t *week, uint8_t *wday, int32_t *time)
{
    const char *p = *pp;
    if (p[0] != ',' || p[1] != 'M')
        return -1; /* the Julian forms Jn and n are not supported */
    p += 2;
    int m = parse_number(&p, 2);
    if (m < 1 || m > 12 || *p != '.')
        return -1;
    p++;
    int w = parse_number(&p, 1);
    if (w < 1 || w > 5 || *p != '.')
        return -1;
    p++;
    int d = parse_number(&p, 1);
    if (d < 0 || d > 6)
        return -1;
    int32_t t = TZ_DEFAULT_RULE_TIME;
    if (*p == '/') {
        p++;
        if (parse_hms(&p, TZ_RULE_TIME_MAX_H, &t) != 0)
            return -1;
    }
    *month = (uint8_t)m;
    *week = (uint8_t)w;
    *wday = (uint8_t)d;
    *time = t;
    *pp = p;
    return 0;
}

/*
 * Accepts "std offset" or "std offset dst [offset],rule,rule" and nothing else. POSIX
 * offsets count west of Greenwich, so "CET-1" is one hour east; a missing summer offset
 * is one hour more than standard time. A summer name without rules is refused, since
 * POSIX leaves its transition dates to the implementation.
 */
int ww_tz_parse_posix(const char *rule, struct ww_tz *out)
{
    if (!rule)
        return WW_EINVAL;
    struct ww_tz tz;
    memset(&tz, 0, sizeof tz);
    const char *p = rule;
    int32_t off;
    if (parse_abbr(&p) != 0 || parse_hms(&p, TZ_OFFSET_MAX_H, &off) != 0)
        return WW_EINVAL;
    tz.std_offset = -off;
    tz.dst_offset = tz.std_offset;
    if (*p != '\0') {
        if (parse_abbr(&p) != 0)
            return WW_EINVAL;
        tz.dst_offset = tz.std_offset + 3600;
        if (*p != ',' && *p != '\0') {
            if (parse_hms(&p, TZ_OFFSET_MAX_H, &off) != 0)
                return WW_EINVAL;
            tz.dst_offset = -off;
        }
        if (parse_rule(&p, &tz.start_month, &tz.start_week, &tz.start_wday, &tz.start_time) != 0 ||
            parse_rule(&p, &tz.end_month, &tz.end_week, &tz.end_wday, &tz.end_time) != 0 ||
            *p != '\0')
            return WW_EINVAL;
        tz.has_dst = 1;
    }
    size_t len = strlen(rule);
    if (len >= sizeof tz.name)
        len = sizeof tz.name - 1; /* the rule is ASCII, so cutting it anywhere is safe */
    memcpy(tz.name, rule, len);
    tz.name[len] = '\0';
    *out = tz;
    return 0;
}

/* The day (since 1970) on which rule "Mmonth.week.wday" falls in `year`. */
static int64_t rule_day(int64_t year, int month, int week, int wday)
{
    int64_t first = days_from_civil(year, month, 1);
    int64_t day = first + (wday - weekday_sun0(first) + 7) % 7 + 7 * (week - 1);
    while (day >= first + month_len(year, month))
        day -= 7; /* week 5 means the last such weekday of the month */
    return day;
}

/* A struct ww_tz can be filled in by hand; rules out of range are not followed (they would
 * index past the month table), and the zone then keeps standard time. */
static int rules_valid(const struct ww_tz *tz)
{
    const int32_t max_time = TZ_RULE_TIME_MAX_H * 3600 + 59 * 60 + 59;
    return tz->start_month >= 1 && tz->start_month <= 12 && tz->start_week >= 1 &&
           tz->start_week <= 5 && tz->start_wday <= 6 && tz->end_month >= 1 &&
           tz->end_month <= 12 && tz->end_week >= 1 && tz->end_week <= 5 && tz->end_wday <= 6 &&
           tz->start_time >= -max_time && tz->start_time <= max_time && tz->end_time >= -max_time &&
           tz->end_time <= max_time;
}

static int64_t clamp_instant(int64_t t)
{
    return t < -INSTANT_LIMIT ? -INSTANT_LIMIT : t > INSTANT_LIMIT ? INSTANT_LIMIT : t;
}

/*
 * Summer time starts at start_time local standard time and ends at end_time local summer
 * time, as POSIX defines. The offset in force is the one set by the latest transition at
 * or before the instant; looking at the neighbouring years too makes this right for
 * southern-hemisphere rules (start after end in the year) and for rule times that spill
 * into another day or year.
 */
int32_t ww_tz_offset(const struct ww_tz *tz, int64_t unix_s)
{
    if (!tz->has_dst || !rules_valid(tz))
        return tz->std_offset;
    int64_t t = clamp_instant(unix_s);
    int64_t year;
    int m, d;
    civil_from_days(floor_div(t + tz->std_offset, DAY_S), &year, &m, &d);
    int64_t latest = INT64_MIN;
    int in_dst = 0;
    for (int64_t y = year - 1; y <= year + 1; y++) {
        int64_t start = rule_day(y, tz->start_month, tz->start_week, tz->start_wday) * DAY_S +
                        tz->start_time - tz->std_offset;
        int64_t end = rule_day(y, tz->end_month, tz->end_week, tz->end_wday) * DAY_S +
                      tz->end_time - tz->dst_offset;
        if (start <= t && start > latest) {
            latest = start;
            in_dst = 1;
        }
        if (end <= t && end >= latest) {
            latest = end;
            in_dst = 0;
        }
    }
    return in_dst ? tz->dst_offset : tz->std_offset;
}

/* The local date at unix_ms, clamped to 1970-01-01 .. 9999-12-31. */
uint32_t ww_tz_date(const struct ww_tz *tz, int64_t unix_ms)
{
    int64_t s = clamp_instant(floor_div(unix_ms, 1000));
    int64_t days = floor_div(s + ww_tz_offset(tz, s), DAY_S);
    if (days < 0)
        return 0;
    if (days > MAX_DATE)
        return MAX_DATE;
    return (uint32_t)days;
}

/* ---- Loading a zone ------------------------------------------------------------------ */

/* Zones answered without the file system, so every device agrees on them. */
static const struct {
    const char *name;
    const char *rule;
} builtin_zones[] = {
    {"Europe/Amsterdam", "CET-1CEST,M3.5.0,M10.5.0/3"},
    {"Europe/Brussels", "CET-1CEST,M3.5.0,M10.5.0/3"},
    {"Europe/Berlin", "CET-1CEST,M3.5.0,M10.5.0/3"},
    {"Europe/Luxembourg", "CET-1CEST,M3.5.0,M10.5.0/3"},
    {"Europe/Paris", "CET-1CEST,M3.5.0,M10.5.0/3"},
    {"Europe/London", "GMT0BST,M3.5.0/1,M10.5.0"},
    {"UTC", "UTC0"},
    {"Etc/UTC", "UTC0"},
};

/* A zone name: segments of [A-Za-z0-9_+-] separated by single '/', 1..63 bytes. So no
 * leading '/', no "." or ".." segment, nothing that leaves the zoneinfo folder. */
static int tz_name_valid(const char *name)
{
    size_t len = strnlen(name, ZONE_NAME_MAX + 1);
    if (len == 0 || len > ZONE_NAME_MAX || strstr(name, ".."))
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (c == '/') {
            if (i == 0 || i + 1 == len || name[i + 1] == '/')
                return 0;
        } else if (!is_alpha(c) && !is_digit(c) && c != '_' && c != '+' && c != '-') {
            return 0;
        }
    }
    return 1;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * Checks the TZif header at buf[off] (RFC 8536) and sets *data_len to the size of the
 * data block after it: 4-byte transition times and leap records for the version 1 block,
 * 8-byte ones for the version 2+ block. Every count is checked against the bytes that are
 * really there. Returns 0 or -1.
 */
static int tzif_header(const uint8_t *buf, size_t len, size_t off, int time_size,
                       uint64_t *data_len)
{
    if (len < TZIF_HEADER || off > len - TZIF_HEADER)
        return -1;
    const uint8_t *h = buf + off;
    if (memcmp(h, "TZif", 4) != 0 || h[4] < '2' || h[4] > '4')
        return -1;
    uint64_t isutcnt = be32(h + 20), isstdcnt = be32(h + 24), leapcnt = be32(h + 28);
    uint64_t timecnt = be32(h + 32), typecnt = be32(h + 36), charcnt = be32(h + 40);
    if (typecnt == 0 || charcnt == 0 || (isutcnt != 0 && isutcnt != typecnt) ||
        (isstdcnt != 0 && isstdcnt != typecnt))
        return -1;
    /* Each count is below 2^32 and each factor at most 12, so this cannot overflow. */
    uint64_t n = timecnt * (uint64_t)time_size + timecnt + typecnt * 6 + charcnt +
                 leapcnt * (uint64_t)(time_size + 4) + isstdcnt + isutcnt;
    if (n > len - off - TZIF_HEADER)
        return -1;
    *data_len = n;
    return 0;
}

/*
 * Finds the POSIX rule in a TZif v2+ file: version 1 header and block, version 2+ header
 * and block, then "\n<rule>\n" up to the last byte. Anything else is WW_ECORRUPT.
 */
static int tzif_footer(const uint8_t *buf, size_t len, char rule[TZIF_FOOTER_MAX + 1])
{
    uint64_t v1, v2;
    if (tzif_header(buf, len, 0, 4, &v1) != 0)
        return WW_ECORRUPT;
    size_t off = TZIF_HEADER + (size_t)v1;
    if (tzif_header(buf, len, off, 8, &v2) != 0 || buf[off + 4] != buf[4])
        return WW_ECORRUPT;
    off += TZIF_HEADER + (size_t)v2;
    if (len - off < 3 || buf[off] != '\n' || buf[len - 1] != '\n')
        return WW_ECORRUPT;
    size_t n = len - off - 2;
    const uint8_t *text = buf + off + 1;
    if (n > TZIF_FOOTER_MAX || memchr(text, '\n', n) || memchr(text, '\0', n))
        return WW_ECORRUPT;
    memcpy(rule, text, n);
    rule[n] = '\0';
    return 0;
}

/* Reads the regular file at path, at most TZIF_MAX bytes, into a ww_malloc'd buffer.
 * WW_ENOTFOUND when it cannot be opened or is not a regular file, WW_ECORRUPT when it is
 * larger than TZIF_MAX. */
static int read_small_file(const char *path, uint8_t **buf_out, size_t *len_out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return errno == ENOMEM ? WW_ENOMEM : WW_ENOTFOUND;
    int rc;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = WW_ENOTFOUND;
        goto err_after_open;
    }
    uint8_t *buf = ww_malloc(TZIF_MAX + 1);
    if (!buf) {
        rc = WW_ENOMEM;
        goto err_after_open;
    }
    size_t len = 0;
    while (len < TZIF_MAX + 1) {
        ssize_t r = read(fd, buf + len, TZIF_MAX + 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = WW_EIO;
            goto err_after_alloc;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    if (len > TZIF_MAX) {
        rc = WW_ECORRUPT;
        goto err_after_alloc;
    }
    close(fd);
    *buf_out = buf;
    *len_out = len;
    return 0;

err_after_alloc:
    ww_free(buf);
err_after_open:
    close(fd);
    return rc;
}

/* Loads `name` from the zoneinfo folder ($TZDIR, else /usr/share/zoneinfo) by the POSIX
 * rule in its TZif footer. The name has already been checked. */
static int tz_load_file(const char *name, struct ww_tz *out)
{
    const char *dir = getenv("TZDIR");
    if (!dir || !*dir)
        dir = "/usr/share/zoneinfo";
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof path)
        return WW_ENOTFOUND;
    uint8_t *buf;
    size_t len;
    int rc = read_small_file(path, &buf, &len);
    if (rc != 0)
        return rc;
    rc = ww_tzif_parse(buf, len, out);
    ww_free(buf);
    return rc;
}

int ww_tzif_parse(const uint8_t *buf, size_t len, struct ww_tz *out)
{
    char rule[TZIF_FOOTER_MAX + 1];
    int rc = tzif_footer(buf, len, rule);
    if (rc != 0)
        return rc;
    if (ww_tz_parse_posix(rule, out) != 0)
        return WW_ECORRUPT; /* a rule we cannot follow is as useless as a damaged one */
    return 0;
}

int ww_tz_load(const char *name, struct ww_tz *out)
{
    if (!name || !*name)
        name = WW_DEFAULT_TZ;
    if (!tz_name_valid(name))
        return WW_EINVAL;
    struct ww_tz tz;
    int rc = WW_ENOTFOUND;
    for (size_t i = 0; i < sizeof builtin_zones / sizeof builtin_zones[0]; i++) {
        if (strcmp(name, builtin_zones[i].name) == 0) {
            rc = ww_tz_parse_posix(builtin_zones[i].rule, &tz);
            break;
        }
    }
    if (rc == WW_ENOTFOUND)
        rc = tz_load_file(name, &tz);
    if (rc != 0)
        return rc;
    size_t len = strlen(name); /* at most ZONE_NAME_MAX, checked above */
    memcpy(tz.name, name, len + 1);
    *out = tz;
    return 0;
}

int ww_tz_check(const char *name)
{
    struct ww_tz tz;
    if (!name || !*name)
        return WW_EINVAL;
    return ww_tz_load(name, &tz) == 0 ? 0 : WW_EINVAL;
}
