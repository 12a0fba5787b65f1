/*
 * agg_test.h - what test_share.c and test_aggregate.c share: a seeded generator and the
 * aggregators' fixed test keys.
 */
#ifndef WW_AGG_TEST_H
#define WW_AGG_TEST_H

#include <stddef.h>
#include <stdint.h>

/* A generator from a 32-byte seed: each call is randombytes_buf_deterministic under
 * BLAKE2b(seed || counter). */
struct agg_rng {
    uint8_t seed[32];
    uint64_t ctr;
};
void agg_rng_init(struct agg_rng *r, const char *label);
void agg_rng_fill(void *ud, uint8_t *buf, size_t len);

/* X25519 key pairs of aggregator A (which 0) and B (which 1), from fixed seeds 0xa0.. and
 * 0xb0.. (crypto_box_seed_keypair). */
void agg_test_keys(int which, uint8_t pk[32], uint8_t sk[32]);

#endif
