/*
 * wegwijs_agg.h - climate aggregates that no single party can trace to a person.
 *
 * Split aggregation (the technique of Prio, Corrigan-Gibbs and Boneh, NSDI 2017): a
 * student's device turns one day's climate answers, the day's status and the reasons
 * given into a fixed vector of WW_AGG_DIM counters, splits it into two additive shares
 * modulo the prime WW_AGG_PRIME and seals share A to aggregator A and share B to
 * aggregator B. Each aggregator alone holds uniformly random numbers. Each sums its shares
 * per cell (team or location x 4-week window), and releases a cell's sums only when the
 * cell passes the disclosure rules (docs/ARCHITECTURE.md, "Climate aggregates"); the two
 * released sums together give the cell's totals.
 *
 * Every function here is pure: no store, no socket, no clock. Keys and randomness are
 * arguments. Functions return 0 or a negative code from ww_err.h; `*out` is written on
 * success only.
 *
 * The flow, for one hub with aggregators A and B:
 *   device:     ww_share_make() per answered day, sent as in docs/PROTOCOL.md 6.19
 *   A and B:    ww_agg_new(), ww_agg_add() for every share message
 *   A and B:    ww_agg_gate() each, then exchange the gates
 *   A and B:    ww_agg_release(own aggregator, the peer's gate)
 *   combiner:   ww_agg_combine(A's release, B's release) -> the hub's report
 *   region:     ww_agg_merge(hub reports) -> the region's report (the rules again)
 */
#ifndef WEGWIJS_AGG_H
#define WEGWIJS_AGG_H

#include <stddef.h>
#include <stdint.h>

#include "ww_err.h"

/* Shares are integers modulo the Mersenne prime 2^61 - 1. */
#define WW_AGG_PRIME ((UINT64_C(1) << 61) - 1)

#define WW_AGG_ITEMS        12 /* climate items 1..12 (K1, K2, R1..R10) */
#define WW_AGG_BLOCKS       13 /* each item, then the day's status with its reasons */
#define WW_AGG_STATUS_BLOCK 12
#define WW_AGG_REASONS      6 /* the bits of enum ww_obstacle */
/* Counters per day: per item 5 one-hot bins (values 1..5) and 1 "first answer in this
 * window"; then done/partly/not one-hot, the 6 reasons, and "first status in window". */
#define WW_AGG_DIM              (WW_AGG_ITEMS * 6 + 3 + WW_AGG_REASONS + 1)
#define WW_AGG_BIN(item, value) (((item)-1) * 6 + (value)-1) /* item 1..12, value 1..5 */
#define WW_AGG_FIRST(item)      (((item)-1) * 6 + 5)
#define WW_AGG_STATUS(status)   (WW_AGG_ITEMS * 6 + (status)-1) /* status 1..3 */
#define WW_AGG_REASON(bit)      (WW_AGG_ITEMS * 6 + 3 + (bit))  /* bit 0..5 */
#define WW_AGG_STATUS_FIRST     (WW_AGG_DIM - 1)

#define WW_AGG_K_MIN       5  /* k may be configured upwards only */
#define WW_AGG_MIN_GROUPS  2  /* distinct app groups per cell */
#define WW_AGG_WINDOW_DAYS 28 /* windows are fixed, disjoint 4-week blocks */
#define WW_AGG_NYM_LEN     16
/* One sealed share: a sealed box (48 bytes) around a 32-byte context hash and the
 * WW_AGG_DIM counters as 8-byte big-endian integers. */
#define WW_AGG_SEALED_LEN (48 + 32 + 8 * WW_AGG_DIM)

/* The window of a date: windows start on Monday 1970-01-05 (day 4) and last 28 days.
 * Dates before day 4 fall in window 0. */
uint32_t ww_agg_window(uint32_t date);

/* ---- The device side: shares ------------------------------------------------------------ */

/* One student's day as the device knows it. */
struct ww_agg_day {
    uint32_t date;
    uint16_t asked;              /* bit item-1: the item was asked that day */
    uint8_t value[WW_AGG_ITEMS]; /* value[item-1]: 1..5, or 0 for n.v.t. / not answered */
    uint8_t status;              /* 0 none given, 1 done, 2 partly, 3 not */
    uint8_t obstacles;           /* enum ww_obstacle bits; only with status 2 or 3 */
    uint16_t first;              /* bit b: block b is answered for the first time in the
                                  * window (items 0..11, status 12); the device keeps track */
};

/* The counters of one day. WW_EINVAL when a value is out of range, answers an item that
 * was not asked, gives reasons without a status of partly/not, or marks as first a block
 * that is not answered. */
int ww_share_counters(const struct ww_agg_day *d, uint64_t out[WW_AGG_DIM]);

/* The student's pseudonym in a window: BLAKE2b-128 keyed with the device's nym_key (32
 * random bytes that never leave the student's devices) over "wegwijs/agg/nym/v1" and the
 * window. Different in every window; linkable only through prev_nym (see below). */
void ww_share_nym(const uint8_t nym_key[32], uint32_t window, uint8_t nym[WW_AGG_NYM_LEN]);

/* What a device sends for one day: metadata in the clear, and the two sealed shares. */
struct ww_share_msg {
    uint8_t group[16];
    uint32_t date;
    uint16_t asked;                       /* which items were asked that day; not a secret */
    uint8_t nym[WW_AGG_NYM_LEN];          /* ww_share_nym of the date's window */
    uint8_t prev_nym[WW_AGG_NYM_LEN];     /* ww_share_nym of the window before it */
    uint8_t sealed[2][WW_AGG_SEALED_LEN]; /* [0] to aggregator A, [1] to aggregator B */
};

/* Makes both shares of a day and seals them to pk_a and pk_b (X25519). random may be
 * NULL (libsodium's randombytes_buf); tests pass a seeded generator. */
int ww_share_make(const struct ww_agg_day *d, const uint8_t group[16], const uint8_t nym_key[32],
                  const uint8_t pk_a[32], const uint8_t pk_b[32],
                  void (*random)(void *ud, uint8_t *buf, size_t len), void *ud,
                  struct ww_share_msg *out);

/* Opens share `which` (0 A, 1 B) with that aggregator's key pair. WW_EDECRYPT when it does
 * not open or belongs to other metadata; WW_ERANGE when a counter is not below the prime. */
int ww_share_open(const struct ww_share_msg *m, int which, const uint8_t pk[32],
                  const uint8_t sk[32], uint64_t share[WW_AGG_DIM]);

/* ---- The aggregators ---------------------------------------------------------------------- */

/* The hub's enrolment: which team and location a group belongs to, and how many students
 * are enrolled in it (the denominator of the response rate). */
struct ww_agg_group {
    uint8_t group[16];
    uint32_t team, location;
    uint32_t enrolled;
};

/* Breakdowns: only the fixed ones. Year and track (BOL/BBL) are refused (WW_EPERM): the
 * messages do not carry them, and carrying them in the clear would let an aggregator
 * split the respondents of a cell into groups smaller than k. */
enum ww_agg_by { WW_AGG_BY_TEAM = 0, WW_AGG_BY_LOCATION = 1, WW_AGG_BY_YEAR, WW_AGG_BY_TRACK };

struct ww_agg_config {
    uint32_t k; /* distinct students per cell; 0 means WW_AGG_K_MIN; below it is WW_EINVAL */
    uint8_t by; /* the finest breakdown: TEAM (team and location cells) or LOCATION */
    const struct ww_agg_group *groups;
    size_t n_groups; /* 1..4096 */
};

/* Categories a report shows: the four vermogens, then veilig and faciliterend. Single
 * items are never released. */
enum ww_agg_cat {
    WW_AGG_ABSORPTIE = 0,
    WW_AGG_OPLEIDEND,
    WW_AGG_VERBINDEND,
    WW_AGG_LEREND,
    WW_AGG_VEILIG,
    WW_AGG_FACILITEREND,
    WW_AGG_CATS
};

enum ww_agg_level { WW_AGG_TEAM = 0, WW_AGG_LOCATION = 1, WW_AGG_REGION = 2 };

/* A hub's setup as it sends it to aggregator B and the combiner (PROTOCOL.md 6.19, 9.12): its
 * groups' teams, locations and enrolment, and the names of those units. */
#define WW_AGG_MAX_GROUPS 4096
#define WW_AGG_MAX_UNITS  8192
#define WW_AGG_SETUP_MAX  (1u << 20)
struct ww_agg_unit {
    uint8_t level; /* WW_AGG_TEAM or WW_AGG_LOCATION */
    uint32_t unit;
    char name[81]; /* 1..80 bytes of UTF-8 text */
};
struct ww_agg_setup {
    struct ww_agg_group *groups; /* strictly ascending by group id */
    size_t n_groups;
    struct ww_agg_unit *units; /* strictly ascending by (level, unit) */
    size_t n_units;
};
void ww_agg_setup_free(struct ww_agg_setup *s); /* NULL is a no-op */
/* The name of a unit, or NULL. */
const char *ww_agg_setup_name(const struct ww_agg_setup *s, uint8_t level, uint32_t unit);

/* One cell as one aggregator holds it: first its gate (the share-sums of the "first"
 * counters), then its release. Both aggregators compute the same clear fields from the
 * same messages. */
struct ww_agg_cellshare {
    uint8_t level;     /* WW_AGG_TEAM or WW_AGG_LOCATION */
    uint32_t unit;     /* team or location number */
    uint32_t location; /* the location of a team; the location itself otherwise */
    uint32_t window;
    uint32_t n_days;                 /* day messages in the cell, after replacement */
    uint32_t students, groups;       /* distinct pseudonyms and app groups */
    uint32_t enrolled;               /* students enrolled in the cell's groups */
    uint32_t overlap;                /* distinct students also in the previous window */
    uint32_t asked[WW_AGG_BLOCKS];   /* distinct students asked the block */
    uint32_t cat_asked[WW_AGG_CATS]; /* (day, item) pairs asked, per category */
    /* Gate: share-sums of the first counters. Release: zero. */
    uint64_t first[WW_AGG_BLOCKS];
    /* Release only: which parts pass, and their share-sums (zero where they do not). */
    uint8_t pass;        /* the cell passes k, groups, response rate and its breakdown */
    uint8_t cat_pass;    /* bit per enum ww_agg_cat */
    uint8_t status_pass; /* status and reasons */
    uint64_t cat_hist[WW_AGG_CATS][5];
    uint64_t status[3], reasons[WW_AGG_REASONS];
    /* The coach loop, counted in the clear by aggregator A (the hub) from event headers
     * over the cell's respondents (PROTOCOL.md 6.19): signals raised, how many of them have
     * a signal.resolve, sign-offs. In A's release of a passing cell only; zero otherwise. */
    uint32_t signals, responded, signoffs;
};

struct ww_agg_summary {
    struct ww_agg_cellshare *cells;
    size_t n;
    uint32_t k;
    uint8_t released; /* 0 a gate, 1 a release */
};
void ww_agg_summary_free(struct ww_agg_summary *s); /* frees the cells; NULL is a no-op */

struct ww_agg;
/* An aggregator with its X25519 key pair; which is 0 for A, 1 for B. The config is
 * copied. */
int ww_agg_new(const struct ww_agg_config *cfg, int which, const uint8_t pk[32],
               const uint8_t sk[32], struct ww_agg **out);
void ww_agg_free(struct ww_agg *a); /* NULL is a no-op */
/* Opens and keeps one day message. WW_EGROUP for a group not in the config; the errors of
 * ww_share_open; WW_ETOOBIG past 262 144 messages. A later message for the same
 * (pseudonym, date) replaces the earlier one, as a later climate.put does. */
int ww_agg_add(struct ww_agg *a, const struct ww_share_msg *m);
/* The same for a share this aggregator opened before (ww_share_open, its own `which`): a
 * hub opens each share once, as it arrives. WW_ERANGE for a counter not below the prime. */
int ww_agg_add_opened(struct ww_agg *a, const struct ww_share_msg *m, const uint64_t v[WW_AGG_DIM]);
/* A message left out because one of the two aggregators could not open its share: both
 * call this for it, and its team and location cells of its window release nothing (else
 * the releases with and without it would differ by that day). WW_EGROUP as ww_agg_add. */
int ww_agg_add_void(struct ww_agg *a, const struct ww_share_msg *m);
/* Phase 1: the cells and the share-sums of their "first" counters, to send to the peer. */
int ww_agg_gate(struct ww_agg *a, struct ww_agg_summary *out);
/* Phase 2: combines the peer's gate with its own (WW_ESTATE when the two do not describe
 * the same cells), applies the disclosure rules and returns the released share-sums. */
int ww_agg_release(struct ww_agg *a, const struct ww_agg_summary *peer_gate,
                   struct ww_agg_summary *out);
/* Aggregator A only: adds one group's coach-loop counts in a window to the passing cells of
 * a release that hold the group (its team and its location cell of that window). Cells
 * that do not pass stay at zero. WW_EINVAL when responded > signals, WW_ESTATE for a gate,
 * WW_ERANGE when a sum would pass UINT32_MAX. */
int ww_agg_loop_add(struct ww_agg_summary *release, const struct ww_agg_group *g, uint32_t window,
                    uint32_t signals, uint32_t responded, uint32_t signoffs);

/* ---- Reports ------------------------------------------------------------------------------ */

struct ww_agg_stat {
    uint8_t shown;
    uint8_t banded;      /* low_pct is a 10-point band (fewer than 20 students) */
    uint8_t trend_shown; /* the previous window passes too and shares >= k students */
    uint8_t alert_drop;  /* the mean fell by 0.5 or more against the previous window */
    uint8_t alert_low;   /* veilig only: 30% or more of the answers are 1 or 2 */
    uint32_t answers;    /* answers 1..5 */
    int mean10;          /* mean x 10, rounded: 37 is 3.7 */
    int low_pct;         /* answers 1 or 2, percent (or the band's lower bound) */
    int trend10;         /* mean10 minus the previous window's */
    uint64_t hist[5];
};

struct ww_agg_cell {
    uint8_t level; /* enum ww_agg_level */
    uint32_t unit, location, window;
    uint8_t shown;   /* 0: suppressed; nothing below is filled in */
    uint8_t invalid; /* combined sums were impossible (a malformed share): suppressed */
    uint32_t n_days, students, groups, enrolled, overlap;
    uint32_t cat_asked[WW_AGG_CATS]; /* (day, item) pairs asked, per category */
    struct ww_agg_stat cat[WW_AGG_CATS];
    uint8_t status_shown, status_banded;
    uint64_t status[3], reasons[WW_AGG_REASONS];
    int status_pct[3];              /* of the days with a status */
    int reason_pct[WW_AGG_REASONS]; /* of the days partly or not done */
    /* The coach loop and sign-off throughput (from A's release): signals raised by the
     * cell's respondents, how many the coach answered (a signal.resolve of any state), and
     * sign-offs for them. responded_pct is of the signals, banded as status_pct; signoffs10
     * is sign-offs per student x 10, rounded (12 is 1.2). */
    uint32_t signals, responded, signoffs;
    int responded_pct, signoffs10;
};

struct ww_agg_report {
    struct ww_agg_cell *cells;
    size_t n;
    uint32_t k;
};
void ww_agg_report_free(struct ww_agg_report *r); /* NULL is a no-op */

/* Adds A's and B's releases into a hub report. WW_ESTATE when they disagree on a cell or
 * its decisions, or when B's release carries coach-loop counts (only A counts them). */
int ww_agg_combine(const struct ww_agg_summary *a, const struct ww_agg_summary *b,
                   struct ww_agg_report *out);
/* Merges several hubs' reports into a region's: per window one region cell over the shown
 * location cells, and the location breakdown only where every location cell of the window
 * is shown. k is the region's (0: the largest of the hubs'). */
int ww_agg_merge(const struct ww_agg_report *hubs, size_t n, uint32_t k, struct ww_agg_report *out);
/* The cell of (level, unit, window), or NULL. */
const struct ww_agg_cell *ww_agg_report_find(const struct ww_agg_report *r, uint8_t level,
                                             uint32_t unit, uint32_t window);

#endif
