/*
 * share.h - the wire form of one day's split climate share (docs/PROTOCOL.md 6.19) and
 * the arithmetic modulo WW_AGG_PRIME that the device and the aggregators share.
 */
#ifndef WW_SHARE_H
#define WW_SHARE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "wegwijs_agg.h"

/* An encoded message is at most this long; its length depends on the clear fields only. */
#define WW_SHARE_MSG_MAX 1600
#define WW_SHARE_VERSION 1

/* (a + b) mod p and (a - b) mod p for a, b < p. */
static inline uint64_t ww_agg_add_mod(uint64_t a, uint64_t b)
{
    uint64_t s = a + b; /* < 2^62: no overflow */
    return s >= WW_AGG_PRIME ? s - WW_AGG_PRIME : s;
}
static inline uint64_t ww_agg_sub_mod(uint64_t a, uint64_t b)
{
    return a >= b ? a - b : a + WW_AGG_PRIME - b;
}

/* Canonical msgpack: [1, group, date, asked, nym, prev_nym, sealed_a, sealed_b]. */
int ww_share_encode(const struct ww_share_msg *m, struct ww_buf *out);
/* Decodes exactly one message filling all of buf; every field is range-checked (date
 * 0..WW_MAX_DATE, asked 0..0xfff). The shares stay sealed. */
int ww_share_decode(const uint8_t *buf, size_t len, struct ww_share_msg *out);

/* The split itself, for tests and vectors: share A is r (uniform below p, from `random`),
 * share B is x - r. */
void ww_share_split(const uint64_t x[WW_AGG_DIM],
                    void (*random)(void *ud, uint8_t *buf, size_t len), void *ud,
                    uint64_t a[WW_AGG_DIM], uint64_t b[WW_AGG_DIM]);

/* A gate or a release as one aggregator sends it to the other or to the combiner: a
 * canonical msgpack array [1, k, released, [cell...]], each cell an array of 18 fields in
 * the order of struct ww_agg_cellshare (lists for the arrays), at most WW_AGG_MAX_CELLS
 * cells and WW_MAX_FRAME bytes. Cells are strictly ascending by (level, unit, window),
 * every share-sum is below p, and a gate releases nothing. The decoder allocates the cells
 * (free them with ww_agg_summary_free). */
#define WW_AGG_MAX_CELLS 1024
int ww_agg_summary_encode(const struct ww_agg_summary *s, struct ww_buf *out);
int ww_agg_summary_decode(const uint8_t *buf, size_t len, struct ww_agg_summary *out);

/* A hub's setup (struct ww_agg_setup): canonical msgpack
 * [1, [[group, team, location, enrolled]...], [[level, unit, name]...]], at most
 * WW_AGG_SETUP_MAX bytes; groups strictly ascending, units strictly ascending by (level,
 * unit), every group's team and location a named unit, enrolled at most 64. The decoder
 * allocates (free with ww_agg_setup_free). */
int ww_agg_setup_encode(const struct ww_agg_setup *s, struct ww_buf *out);
int ww_agg_setup_decode(const uint8_t *buf, size_t len, struct ww_agg_setup *out);

/* ww_share_make for counters given as they are, unchecked: what a malformed device could
 * send (tests), and the common path of ww_share_make. Each x[i] must be below p. */
int ww_share_make_counters(const uint64_t x[WW_AGG_DIM], uint32_t date, uint16_t asked,
                           const uint8_t group[16], const uint8_t nym_key[32],
                           const uint8_t pk_a[32], const uint8_t pk_b[32],
                           void (*random)(void *ud, uint8_t *buf, size_t len), void *ud,
                           struct ww_share_msg *out);

#endif
