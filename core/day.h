/*
 * day.h - civil dates and time zones, answered offline.
 *
 * A date is a local civil date counted in days since 1970-01-01 (so 0 is 1970-01-01).
 * A time zone is a POSIX TZ rule ("CET-1CEST,M3.5.0,M10.5.0/3"): built in for the zones
 * we expect, otherwise read from the footer of the system's TZif file. The rule is all we
 * need: "today" is always about the present, never about historic offsets.
 */
#ifndef WW_DAY_H
#define WW_DAY_H

#include <stddef.h>
#include <stdint.h>

#define WW_DEFAULT_TZ "Europe/Amsterdam"

struct ww_tz {
    char name[64];
    int32_t std_offset; /* seconds east of UTC in standard time */
    int32_t dst_offset; /* seconds east of UTC in summer time */
    int has_dst;
    /* Transition rules: Mm.w.d/time; times in seconds after local midnight. */
    uint8_t start_month, start_week, start_wday;
    int32_t start_time;
    uint8_t end_month, end_week, end_wday;
    int32_t end_time;
};

/* Loads a zone by IANA name; NULL or "" means Europe/Amsterdam. Names are checked
 * ([A-Za-z0-9_+-] segments separated by '/', no "..", at most 63 bytes): WW_EINVAL.
 * WW_ENOTFOUND when the zone is neither built in nor readable from the zoneinfo folder
 * (env TZDIR, else /usr/share/zoneinfo); a TZif file is hostile input and fully checked. */
int ww_tz_load(const char *name, struct ww_tz *out);
/* Takes the POSIX rule from the footer of a TZif (v2+) file's bytes: WW_ECORRUPT for anything
 * malformed. Bytes from a file are hostile input; this has a fuzz target. */
int ww_tzif_parse(const uint8_t *buf, size_t len, struct ww_tz *out);
/* Parses a POSIX TZ rule string (the subset with M-format rules and fixed offsets). */
int ww_tz_parse_posix(const char *rule, struct ww_tz *out);
/* Offset east of UTC, in seconds, at the instant unix_s. */
int32_t ww_tz_offset(const struct ww_tz *tz, int64_t unix_s);
/* The local date at instant unix_ms. */
uint32_t ww_tz_date(const struct ww_tz *tz, int64_t unix_ms);

/* Proleptic Gregorian calendar. */
int ww_date_from_ymd(int y, int m, int d, uint32_t *out); /* WW_ERANGE on an invalid date */
void ww_date_to_ymd(uint32_t date, int *y, int *m, int *d);
int ww_date_weekday(uint32_t date); /* 1 Monday .. 7 Sunday */
/* Internship week of `date` for a group that started on `start`: 1 for the first seven days;
 * 0 when date is before start. */
int ww_date_week(uint32_t start, uint32_t date);

#endif
