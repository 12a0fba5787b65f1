/*
 * test_library.c - the starter challenges, the rotation and the climate items
 * (core/library.c).
 *
 * The table checks hold the starter text to the wire limits of proto.h and to the domain
 * rules (both sets present, every CanMEDS role covered); the rotation and climate checks
 * pin down the documented, deterministic choice of the day.
 */
#include "runner.h"

#include "day.h"
#include "library.h"
#include "proto.h"
#include "wegwijs.h"

/* Text that the wire format accepts too (proto.h's validator), besides the stricter local
 * check below. */
static int wire_text(const char *s)
{
    return ww_text_valid((const uint8_t *)s, strlen(s));
}

/* Strict UTF-8 (no overlong forms, no surrogates, at most U+10FFFF) with no control
 * characters at all: library text is single-line. */
static int clean_utf8(const char *text)
{
    const unsigned char *s = (const unsigned char *)text;
    while (*s) {
        unsigned c = *s;
        if (c < 0x20 || c == 0x7f)
            return 0;
        if (c < 0x80) {
            s++;
            continue;
        }
        size_t n;
        unsigned cp, min;
        if ((c & 0xe0) == 0xc0) {
            n = 1, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return 0;
        }
        for (size_t i = 1; i <= n; i++) {
            if ((s[i] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        if (cp >= 0x80 && cp < 0xa0) /* C1 controls */
            return 0;
        s += n + 1;
    }
    return 1;
}

static int is_intro(const struct ww_challenge *c)
{
    return c->code[0] == 'W';
}

TEST(library_utf8_checker_self_test)
{
    ASSERT(clean_utf8("cliënt"));
    ASSERT(clean_utf8("\xe2\x82\xac")); /* euro sign */
    ASSERT(!clean_utf8("a\nb"));
    ASSERT(!clean_utf8("\xc3"));             /* cut off */
    ASSERT(!clean_utf8("\xc0\xaf"));         /* overlong */
    ASSERT(!clean_utf8("\xed\xa0\x80"));     /* surrogate */
    ASSERT(!clean_utf8("\xf4\x90\x80\x80")); /* above U+10FFFF */
    ASSERT(!clean_utf8("\xc2\x85"));         /* C1 control */
}

TEST(library_count_and_unique_codes)
{
    size_t n = ww_library_count();
    ASSERT_GE(n, 36);
    ASSERT(ww_library_at(n) == NULL);
    ASSERT(ww_library_at((size_t)-1) == NULL);
    for (size_t i = 0; i < n; i++) {
        const struct ww_challenge *c = ww_library_at(i);
        ASSERT(c != NULL);
        ASSERT(ww_library_find(c->code) == c);
        for (size_t j = 0; j < i; j++)
            ASSERT(strcmp(ww_library_at(j)->code, c->code) != 0);
        if (i > 0 && ww_library_at(i - 1)->code[0] == c->code[0]) /* in order per set */
            ASSERT_LT(strcmp(ww_library_at(i - 1)->code, c->code), 0);
    }
    ASSERT(ww_library_find("W01") != NULL);
    ASSERT(ww_library_find("L01") != NULL);
    ASSERT(ww_library_find("w01") == NULL); /* exact match only */
    ASSERT(ww_library_find("W01 ") == NULL);
    ASSERT(ww_library_find("W0") == NULL);
    ASSERT(ww_library_find("") == NULL);
    ASSERT(ww_library_find("X99") == NULL);
    ASSERT(ww_library_find(NULL) == NULL);
}

TEST(library_fields_within_limits)
{
    for (size_t i = 0; i < ww_library_count(); i++) {
        const struct ww_challenge *c = ww_library_at(i);
        size_t code_len = strlen(c->code);
        ASSERT(code_len >= 1 && code_len <= WW_MAX_CODE);
        ASSERT_EQ(strspn(c->code, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                  "0123456789_-"),
                  code_len);
        size_t title_len = strlen(c->title);
        ASSERT(title_len >= 1 && title_len <= WW_MAX_TITLE);
        size_t desc_len = strlen(c->description);
        ASSERT(desc_len >= 1 && desc_len <= WW_MAX_DESC);
        ASSERT_LE(strlen(c->assignment_ref), WW_MAX_REF_TEXT);
        ASSERT(wire_text(c->code) && wire_text(c->title) && wire_text(c->description));
        if (!clean_utf8(c->title) || !clean_utf8(c->description))
            ww_test_fail(__FILE__, __LINE__, "%s: text is not clean UTF-8", c->code);
        ASSERT_STR_EQ(c->assignment_ref, "");
        ASSERT(c->canmeds >= WW_CANMEDS_ZV && c->canmeds <= WW_CANMEDS_PK);
        ASSERT(c->week_from >= 1 && c->week_from <= c->week_to && c->week_to <= 52);
        ASSERT(c->signoff_role == WW_SIGNOFF_NONE || c->signoff_role == WW_SIGNOFF_WERKBEGELEIDER);
        /* One sentence: ends in '.' or '?', no sentence break inside, no trailing blank. */
        char last = c->description[desc_len - 1];
        ASSERT(last == '.' || last == '?');
        ASSERT(strstr(c->description, ". ") == NULL);
        ASSERT(strstr(c->description, "? ") == NULL);
        ASSERT(c->title[title_len - 1] != '.' && c->title[title_len - 1] != ' ');
        ASSERT(c->description[0] != ' ');
        /* The code says which set a challenge belongs to. */
        if (is_intro(c)) {
            ASSERT_LE(c->week_to, 4);
        } else {
            ASSERT_EQ(c->code[0], 'L');
            ASSERT_GE(c->week_from, 5);
            ASSERT_EQ(c->week_to, 52);
        }
    }
}

TEST(library_roles_and_sets)
{
    int intro_roles[8] = {0}, later_roles[8] = {0};
    size_t intro = 0, later = 0, signoffs = 0;
    for (size_t i = 0; i < ww_library_count(); i++) {
        const struct ww_challenge *c = ww_library_at(i);
        if (is_intro(c)) {
            intro++;
            intro_roles[c->canmeds]++;
        } else {
            later++;
            later_roles[c->canmeds]++;
        }
        signoffs += c->signoff_role != WW_SIGNOFF_NONE;
    }
    ASSERT_GE(intro, 18);
    ASSERT_GE(later, 18);
    /* Both sets cover every role, so any stretch of the internship touches all seven. */
    for (int r = WW_CANMEDS_ZV; r <= WW_CANMEDS_PK; r++) {
        ASSERT_GT(intro_roles[r], 0);
        ASSERT_GT(later_roles[r], 0);
    }
    /* A handful ask for a werkbegeleider's sign-off; most do not. */
    ASSERT_GE(signoffs, 3);
    ASSERT_LE(signoffs, 10);
    /* Every week of the year has challenges made for it. */
    for (int week = 1; week <= 52; week++) {
        size_t fit = 0;
        for (size_t i = 0; i < ww_library_count(); i++) {
            const struct ww_challenge *c = ww_library_at(i);
            fit += c->week_from <= week && week <= c->week_to;
        }
        ASSERT_GE(fit, 4);
    }
}

/* ---- Rotation -------------------------------------------------------------------------- */

static size_t library_pointers(const struct ww_challenge **out, size_t max)
{
    size_t n = ww_library_count();
    ASSERT_LE(n, max);
    for (size_t i = 0; i < n; i++)
        out[i] = ww_library_at(i);
    return n;
}

/* A small deterministic generator for shuffles, seeded from the run's seed. */
static uint64_t next_random(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

TEST(library_rotation_deterministic_and_order_free)
{
    const struct ww_challenge *c[128], *shuffled[128];
    size_t n = library_pointers(c, 128);
    memcpy(shuffled, c, n * sizeof c[0]);
    uint64_t state = ww_test_seed() | 1;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)(next_random(&state) % (i + 1));
        const struct ww_challenge *t = shuffled[i];
        shuffled[i] = shuffled[j];
        shuffled[j] = t;
    }
    uint32_t start = 20697; /* 2026-09-01 */
    for (uint32_t date = start - 20; date < start + 400; date++) {
        size_t a = ww_rotation_pick(c, n, start, date);
        size_t b = ww_rotation_pick(c, n, start, date);
        size_t s = ww_rotation_pick(shuffled, n, start, date);
        ASSERT_LT(a, n);
        ASSERT_EQ(a, b);
        ASSERT_LT(s, n);
        ASSERT(shuffled[s] == c[a]); /* the same challenge, whatever the input order */
    }
}

TEST(library_rotation_every_day_weeks_1_to_30)
{
    const struct ww_challenge *c[128];
    size_t n = library_pointers(c, 128);
    uint32_t start = 20697; /* 2026-09-01 */
    const struct ww_challenge *prev = NULL;
    for (uint32_t date = start; date < start + 30 * 7; date++) {
        int week = ww_date_week(start, date);
        size_t i = ww_rotation_pick(c, n, start, date);
        ASSERT_LT(i, n);
        ASSERT(c[i]->week_from <= week && week <= c[i]->week_to);
        if (prev)
            ASSERT(c[i] != prev);
        prev = c[i];
    }
    /* Within a week every candidate comes up before any repeats. */
    for (int week = 1; week <= 30; week++) {
        size_t fit = 0;
        for (size_t k = 0; k < n; k++)
            fit += c[k]->week_from <= week && week <= c[k]->week_to;
        size_t days = fit < 7 ? fit : 7;
        uint32_t first = start + (uint32_t)(week - 1) * 7;
        for (uint32_t a = first; a < first + days; a++)
            for (uint32_t b = first; b < a; b++)
                ASSERT_NE(ww_rotation_pick(c, n, start, a), ww_rotation_pick(c, n, start, b));
    }
}

static struct ww_challenge make(const char *code, int from, int to)
{
    struct ww_challenge ch = {code, "t", "d.", WW_CANMEDS_ZV, from, to, "", 0};
    return ch;
}

TEST(library_rotation_by_code_and_day)
{
    /* All for every week, given out of code order: day k after start picks the k-th code,
     * wrapping around. */
    struct ww_challenge a = make("A", 1, 52), b = make("B", 1, 52), cc = make("C", 1, 52);
    const struct ww_challenge *c[3] = {&cc, &a, &b};
    uint32_t start = 1000;
    ASSERT_EQ(ww_rotation_pick(c, 3, start, start), 1);     /* A */
    ASSERT_EQ(ww_rotation_pick(c, 3, start, start + 1), 2); /* B */
    ASSERT_EQ(ww_rotation_pick(c, 3, start, start + 2), 0); /* C */
    ASSERT_EQ(ww_rotation_pick(c, 3, start, start + 3), 1); /* A */
    ASSERT_EQ(ww_rotation_pick(c, 3, start, start + 301), 2);
    /* Before the start: week 1's set, and the day count runs backwards. */
    ASSERT_EQ(ww_rotation_pick(c, 3, start, start - 1), 0); /* C */
    ASSERT_EQ(ww_rotation_pick(c, 3, start, start - 2), 2); /* B */
    ASSERT_EQ(ww_rotation_pick(c, 3, start, start - 3), 1); /* A */
    ASSERT_EQ(ww_rotation_pick(c, 3, start, 0), 0);         /* -1000 mod 3 is 2: C */
    /* Codes compare as bytes (strcmp): "B10" before "B2", upper case before lower. */
    struct ww_challenge b10 = make("B10", 1, 52), b2 = make("B2", 1, 52), lc = make("a", 1, 52);
    const struct ww_challenge *d[3] = {&lc, &b2, &b10};
    ASSERT_EQ(ww_rotation_pick(d, 3, start, start), 2);
    ASSERT_EQ(ww_rotation_pick(d, 3, start, start + 1), 1);
    ASSERT_EQ(ww_rotation_pick(d, 3, start, start + 2), 0);
}

TEST(library_rotation_prefers_week_then_set_then_all)
{
    struct ww_challenge w1 = make("A1", 1, 1), w3 = make("A3", 3, 3), w6 = make("B6", 6, 52);
    const struct ww_challenge *c[3] = {&w6, &w3, &w1};
    uint32_t start = 500;
    /* Week 1: only A1 fits, every day. */
    for (uint32_t d = start; d < start + 7; d++)
        ASSERT_EQ(ww_rotation_pick(c, 3, start, d), 2);
    /* Dates before the start count as week 1. */
    ASSERT_EQ(ww_rotation_pick(c, 3, start, start - 5), 2);
    /* Week 2: nothing fits; the introduction set (A1, A3) takes turns by day. */
    for (uint32_t d = start + 7; d < start + 14; d++) {
        size_t want = (d - start) % 2 == 0 ? 2 : 1;
        ASSERT_EQ(ww_rotation_pick(c, 3, start, d), want);
    }
    /* Week 3: A3 fits. */
    ASSERT_EQ(ww_rotation_pick(c, 3, start, start + 15), 1);
    /* Week 5: nothing fits; the later set is B6 alone. */
    for (uint32_t d = start + 28; d < start + 35; d++)
        ASSERT_EQ(ww_rotation_pick(c, 3, start, d), 0);
    /* Week 60 is past every range: still the later set. */
    ASSERT_EQ(ww_rotation_pick(c, 3, start, start + 59 * 7), 0);

    /* Only later challenges, in week 2: no introduction set, so all of them. */
    struct ww_challenge l1 = make("L1", 5, 52), l2 = make("L2", 8, 52);
    const struct ww_challenge *later[2] = {&l2, &l1};
    ASSERT_EQ(ww_rotation_pick(later, 2, start, start + 7), 0);     /* L2: day 7 is odd */
    ASSERT_EQ(ww_rotation_pick(later, 2, start, start + 8), 1);     /* L1 */
    ASSERT_EQ(ww_rotation_pick(later, 2, start, start + 5 * 7), 1); /* week 6: L1 fits */
    /* Only introduction challenges, in week 9: all of them. */
    const struct ww_challenge *intro[2] = {&w3, &w1};
    ASSERT_EQ(ww_rotation_pick(intro, 2, start, start + 56), 1); /* A1 */
    ASSERT_EQ(ww_rotation_pick(intro, 2, start, start + 57), 0); /* A3 */
}

TEST(library_rotation_edges)
{
    ASSERT_EQ(ww_rotation_pick(NULL, 0, 0, 0), 0);
    struct ww_challenge a = make("A", 1, 52);
    const struct ww_challenge *one[1] = {&a};
    ASSERT_EQ(ww_rotation_pick(one, 0, 0, 0), 0);
    for (uint32_t d = 0; d < 20; d++)
        ASSERT_EQ(ww_rotation_pick(one, 1, 10, d), 0);
    /* Empty slots are skipped; an array of them yields n. */
    const struct ww_challenge *holes[3] = {NULL, &a, NULL};
    ASSERT_EQ(ww_rotation_pick(holes, 3, 0, 5), 1);
    const struct ww_challenge *none[2] = {NULL, NULL};
    ASSERT_EQ(ww_rotation_pick(none, 2, 0, 5), 2);
    /* Equal codes keep their array order, so the pick is still well defined. */
    struct ww_challenge x1 = make("X", 1, 52), x2 = make("X", 1, 52);
    const struct ww_challenge *dup[2] = {&x1, &x2};
    ASSERT_EQ(ww_rotation_pick(dup, 2, 0, 0), 0);
    ASSERT_EQ(ww_rotation_pick(dup, 2, 0, 1), 1);
    /* The extremes of the date range. */
    ASSERT_EQ(ww_rotation_pick(dup, 2, 0, UINT32_MAX), 1);
    ASSERT_EQ(ww_rotation_pick(dup, 2, UINT32_MAX, 0), 1);
}

/* ---- Climate items --------------------------------------------------------------------- */

TEST(library_climate_items_table)
{
    static const char *const codes[] = {"K1", "K2", "R1", "R2", "R3", "R4",
                                        "R5", "R6", "R7", "R8", "R9", "R10"};
    static const uint8_t verm[] = {4, 1, 4, 1, 2, 2, 2, 3, 3, 4, 1, 3};
    static const uint8_t climate[] = {1, 2, 1, 2, 2, 2, 2, 1, 2, 1, 2, 0};
    ASSERT(ww_climate_item_get(0) == NULL);
    ASSERT(ww_climate_item_get(13) == NULL);
    ASSERT(ww_climate_item_get(255) == NULL);
    for (uint8_t i = 1; i <= 12; i++) {
        const struct ww_climate_item *it = ww_climate_item_get(i);
        ASSERT(it != NULL);
        ASSERT_EQ(it->item, i);
        ASSERT_STR_EQ(it->code, codes[i - 1]);
        ASSERT_EQ(it->vermogen, verm[i - 1]);
        ASSERT_EQ(it->climate, climate[i - 1]);
        ASSERT(strlen(it->text_nl) > 10 && clean_utf8(it->text_nl));
        ASSERT(strlen(it->text_en) > 10 && clean_utf8(it->text_en));
        ASSERT(wire_text(it->text_nl) && wire_text(it->text_en));
    }
}

static int in_set(uint8_t item, const uint8_t *set, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (set[i] == item)
            return 1;
    return 0;
}

TEST(library_climate_items_for_day)
{
    static const uint8_t intro[] = {4, 8, 9};            /* R2, R6, R7 */
    static const uint8_t later[] = {3, 5, 6, 7, 10, 11}; /* R1, R3, R4, R5, R8, R9 */
    uint32_t start = 20697;                              /* 2026-09-01, a Tuesday */
    int seen_intro[13] = {0}, seen_later[13] = {0};
    uint8_t prev = 0;
    for (uint32_t date = start; date < start + 52 * 7; date++) {
        int week = ww_date_week(start, date);
        uint8_t out[4] = {0, 0, 0, 0};
        size_t n = ww_climate_items_for(week, date, out);
        ASSERT_EQ(out[0], 1); /* K1 */
        ASSERT_EQ(out[1], 2); /* K2 */
        if (week <= 4) {
            ASSERT(in_set(out[2], intro, sizeof intro));
            seen_intro[out[2]]++;
        } else {
            ASSERT(in_set(out[2], later, sizeof later));
            seen_later[out[2]]++;
        }
        if (ww_date_weekday(date) == 5) {
            ASSERT_EQ(n, 4);
            ASSERT_EQ(out[3], 12); /* R10 on Fridays */
        } else {
            ASSERT_EQ(n, 3);
            ASSERT_EQ(out[3], 0); /* nothing written past the count */
        }
        for (size_t i = 0; i < n; i++) {
            ASSERT(ww_climate_item_get(out[i]) != NULL);
            if (i > 0)
                ASSERT_LT(out[i - 1], out[i]); /* ascending, as climate.put wants */
        }
        /* The rotating item changes every day within a set. */
        int same_set = (ww_date_week(start, date - 1) <= 4) == (week <= 4);
        if (date > start && same_set)
            ASSERT_NE(out[2], prev);
        prev = out[2];
        /* The same for everyone: a function of (week, date) only. */
        uint8_t again[4] = {0, 0, 0, 0};
        ASSERT_EQ(ww_climate_items_for(week, date, again), n);
        ASSERT_MEM_EQ(again, out, n);
    }
    /* Every rotating item is used, about equally often. */
    for (size_t i = 0; i < sizeof intro; i++)
        ASSERT(seen_intro[intro[i]] >= 9 && seen_intro[intro[i]] <= 10);
    for (size_t i = 0; i < sizeof later; i++)
        ASSERT(seen_later[later[i]] >= 56 && seen_later[later[i]] <= 57);
    /* Week 0 (before the start) gets the settling-in items. */
    uint8_t out[4];
    ASSERT_GE(ww_climate_items_for(0, start - 1, out), 3);
    ASSERT(in_set(out[2], intro, sizeof intro));
    /* The extremes of the date range. */
    ASSERT_GE(ww_climate_items_for(52, UINT32_MAX, out), 3);
    ASSERT(in_set(out[2], later, sizeof later));
}
