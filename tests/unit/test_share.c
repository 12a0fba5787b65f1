/*
 * test_share.c - the device side of split aggregation (core/share.c): counters, the
 * additive split, sealing to two aggregators, the wire form, and the vectors of
 * docs/PROTOCOL.md 6.19.
 */
#include <sodium.h>

#include "runner.h"

#include "agg_test.h"
#include "buf.h"
#include "proto.h"
#include "share.h"

void agg_rng_init(struct agg_rng *r, const char *label)
{
    crypto_generichash(r->seed, 32, (const uint8_t *)label, strlen(label), NULL, 0);
    r->ctr = 0;
}

void agg_rng_fill(void *ud, uint8_t *buf, size_t len)
{
    struct agg_rng *r = ud;
    uint8_t in[40], seed[32];
    memcpy(in, r->seed, 32);
    memcpy(in + 32, &r->ctr, 8);
    r->ctr++;
    crypto_generichash(seed, 32, in, sizeof in, NULL, 0);
    randombytes_buf_deterministic(buf, len, seed);
}

void agg_test_keys(int which, uint8_t pk[32], uint8_t sk[32])
{
    uint8_t seed[32];
    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t)((which ? 0xb0 : 0xa0) + i);
    ASSERT_EQ(crypto_box_seed_keypair(pk, sk, seed), 0);
}

/* The example day of the vectors: K1 = 4, K2 = 2 (first time this window), R3 asked but
 * n.v.t., status partly with the reasons "geen tijd bij begeleider" and "andere taken". */
static struct ww_agg_day example_day(void)
{
    struct ww_agg_day d = {.date = 20458, .asked = 0x0013, .status = 2, .obstacles = 0x12};
    d.value[0] = 4;
    d.value[1] = 2;
    d.first = 1u << 1 | 1u << WW_AGG_STATUS_BLOCK;
    return d;
}

TEST(share_counters_one_hot)
{
    struct ww_agg_day d = example_day();
    uint64_t x[WW_AGG_DIM];
    ASSERT_OK(ww_share_counters(&d, x));
    uint64_t want[WW_AGG_DIM] = {0};
    want[WW_AGG_BIN(1, 4)] = 1;
    want[WW_AGG_BIN(2, 2)] = 1;
    want[WW_AGG_FIRST(2)] = 1;
    want[WW_AGG_STATUS(2)] = 1;
    want[WW_AGG_REASON(1)] = 1;
    want[WW_AGG_REASON(4)] = 1;
    want[WW_AGG_STATUS_FIRST] = 1;
    ASSERT_MEM_EQ(x, want, sizeof want);
    ASSERT_EQ(WW_AGG_DIM, 82);
    ASSERT_EQ(WW_AGG_BIN(1, 4), 3);
    ASSERT_EQ(WW_AGG_STATUS(2), 73);
    ASSERT_EQ(WW_AGG_REASON(4), 79);
}

TEST(share_counters_refuse_out_of_range)
{
    uint64_t x[WW_AGG_DIM];
    struct ww_agg_day d = example_day();
    d.value[0] = 6;
    ASSERT_ERR(ww_share_counters(&d, x), WW_EINVAL);
    d = example_day();
    d.value[5] = 3; /* R4 was not asked */
    ASSERT_ERR(ww_share_counters(&d, x), WW_EINVAL);
    d = example_day();
    d.status = 1; /* done, with reasons */
    ASSERT_ERR(ww_share_counters(&d, x), WW_EINVAL);
    d = example_day();
    d.first |= 1u << 4; /* first answer of R3, which is n.v.t. */
    ASSERT_ERR(ww_share_counters(&d, x), WW_EINVAL);
    d = example_day();
    d.asked = 0x1000;
    ASSERT_ERR(ww_share_counters(&d, x), WW_EINVAL);
    d = example_day();
    d.obstacles = 0x40;
    ASSERT_ERR(ww_share_counters(&d, x), WW_EINVAL);
    d = example_day();
    ASSERT_OK(ww_share_counters(&d, x));
}

TEST(share_split_adds_up_mod_p)
{
    struct agg_rng rng;
    agg_rng_init(&rng, "split");
    uint64_t x[WW_AGG_DIM], a[WW_AGG_DIM], b[WW_AGG_DIM];
    for (int i = 0; i < WW_AGG_DIM; i++)
        x[i] = (uint64_t)i % 3 == 0 ? 1 : (i == 7 ? WW_AGG_PRIME - 1 : 0);
    for (int round = 0; round < 100; round++) {
        ww_share_split(x, agg_rng_fill, &rng, a, b);
        for (int i = 0; i < WW_AGG_DIM; i++) {
            ASSERT_LT(a[i], WW_AGG_PRIME);
            ASSERT_LT(b[i], WW_AGG_PRIME);
            ASSERT_EQ(ww_agg_add_mod(a[i], b[i]), x[i]);
        }
    }
}

/* Pearson's chi-square of 16 buckets (the top 4 of 61 bits) against uniform. */
static double chi2_16(const uint32_t count[16], uint32_t n)
{
    double e = n / 16.0, chi = 0;
    for (int i = 0; i < 16; i++)
        chi += (count[i] - e) * (count[i] - e) / e;
    return chi;
}

/* What one aggregator holds of one counter is uniform below p whatever the answer: the
 * distribution of A's share and of B's share for a counter that is 1 (the answer given)
 * and for one that is 0 (every other answer) pass a chi-square test (15 degrees of
 * freedom, 0.1% level: 37.7), and a guesser who reads the answer off the share's parity
 * or its top bit is right about half the time. */
TEST(share_each_half_is_uniform)
{
    enum { N = 20000 };
    struct agg_rng rng;
    agg_rng_init(&rng, "uniform");
    struct ww_agg_day d = example_day();
    uint64_t x[WW_AGG_DIM], a[WW_AGG_DIM], b[WW_AGG_DIM];
    ASSERT_OK(ww_share_counters(&d, x));
    uint32_t hist[2][2][16] = {{{0}}}; /* [share][counter 0 or 1][bucket] */
    uint32_t right[2] = {0};
    for (int round = 0; round < N; round++) {
        ww_share_split(x, agg_rng_fill, &rng, a, b);
        const uint64_t *s[2] = {a, b};
        for (int w = 0; w < 2; w++) {
            hist[w][1][s[w][WW_AGG_BIN(1, 4)] >> 57]++;
            hist[w][0][s[w][WW_AGG_BIN(1, 3)] >> 57]++;
            /* Guess "answered 4, not 3" when the share of bin 4 is odd. */
            right[w] += (s[w][WW_AGG_BIN(1, 4)] & 1) == 1;
        }
    }
    for (int w = 0; w < 2; w++) {
        for (int v = 0; v < 2; v++)
            ASSERT(chi2_16(hist[w][v], N) < 37.7);
        ASSERT(right[w] > N / 2 - 400 && right[w] < N / 2 + 400);
    }
}

TEST(share_seal_open_each_half)
{
    uint8_t pk[2][32], sk[2][32], nym_key[32], group[16];
    struct agg_rng rng;
    agg_rng_init(&rng, "seal");
    agg_test_keys(0, pk[0], sk[0]);
    agg_test_keys(1, pk[1], sk[1]);
    memset(nym_key, 0x11, sizeof nym_key);
    memset(group, 0x22, sizeof group);
    struct ww_agg_day d = example_day();
    struct ww_share_msg m;
    uint64_t x[WW_AGG_DIM], s[2][WW_AGG_DIM];
    ASSERT_OK(ww_share_counters(&d, x));
    ASSERT_OK(ww_share_make(&d, group, nym_key, pk[0], pk[1], agg_rng_fill, &rng, &m));
    ASSERT_OK(ww_share_open(&m, 0, pk[0], sk[0], s[0]));
    ASSERT_OK(ww_share_open(&m, 1, pk[1], sk[1], s[1]));
    for (int i = 0; i < WW_AGG_DIM; i++)
        ASSERT_EQ(ww_agg_add_mod(s[0][i], s[1][i]), x[i]);
    /* Neither aggregator opens the other's half. */
    ASSERT_ERR(ww_share_open(&m, 1, pk[0], sk[0], s[0]), WW_EDECRYPT);
    ASSERT_ERR(ww_share_open(&m, 0, pk[1], sk[1], s[1]), WW_EDECRYPT);
    /* A half moved under other metadata (date, group, nym, role) does not open. */
    struct ww_share_msg moved = m;
    moved.date++;
    ASSERT_ERR(ww_share_open(&moved, 0, pk[0], sk[0], s[0]), WW_EDECRYPT);
    moved = m;
    moved.nym[0] ^= 1;
    ASSERT_ERR(ww_share_open(&moved, 1, pk[1], sk[1], s[1]), WW_EDECRYPT);
    moved = m;
    memcpy(moved.sealed[1], m.sealed[0], WW_AGG_SEALED_LEN);
    ASSERT_ERR(ww_share_open(&moved, 1, pk[0], sk[0], s[0]), WW_EDECRYPT);
    moved = m;
    moved.sealed[0][100] ^= 1;
    ASSERT_ERR(ww_share_open(&moved, 0, pk[0], sk[0], s[0]), WW_EDECRYPT);
    /* The nym changes with the window and prev_nym is the previous window's nym. */
    uint8_t nym[WW_AGG_NYM_LEN];
    ww_share_nym(nym_key, ww_agg_window(d.date), nym);
    ASSERT_MEM_EQ(nym, m.nym, sizeof nym);
    ww_share_nym(nym_key, ww_agg_window(d.date) - 1, nym);
    ASSERT_MEM_EQ(nym, m.prev_nym, sizeof nym);
    ASSERT(memcmp(m.nym, m.prev_nym, sizeof nym) != 0);
}

/* A share whose counter is not below p is refused by the aggregator that opens it, even
 * when it is sealed correctly (built here from the spec, as another implementation would). */
TEST(share_open_refuses_counter_not_below_p)
{
    uint8_t pk[32], sk[32], plain[32 + 8 * WW_AGG_DIM], sealed[WW_AGG_SEALED_LEN];
    uint64_t s[WW_AGG_DIM];
    agg_test_keys(0, pk, sk);
    struct ww_share_msg m;
    memset(&m, 0, sizeof m);
    m.date = 20458;
    m.asked = 3;
    uint8_t meta[1 + 16 + 4 + 2 + 32] = {0};
    meta[19] = 0x4f; /* which 0, group 0 x 16, u32be(20458) = 00 00 4f ea, u16be(3) */
    meta[20] = 0xea;
    meta[22] = 3;
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, (const uint8_t *)"wegwijs/agg/share/v1", 20);
    crypto_generichash_update(&st, meta, sizeof meta);
    crypto_generichash_final(&st, plain, 32);
    memset(plain + 32, 0, sizeof plain - 32);
    ASSERT_EQ(crypto_box_seal(sealed, plain, sizeof plain, pk), 0);
    memcpy(m.sealed[0], sealed, sizeof sealed);
    ASSERT_OK(ww_share_open(&m, 0, pk, sk, s));
    /* Counter 5 = 2^61 - 1 = p. */
    memset(plain + 32 + 8 * 5, 0, 8);
    plain[32 + 8 * 5] = 0x1f;
    memset(plain + 32 + 8 * 5 + 1, 0xff, 7);
    ASSERT_EQ(crypto_box_seal(sealed, plain, sizeof plain, pk), 0);
    memcpy(m.sealed[0], sealed, sizeof sealed);
    ASSERT_ERR(ww_share_open(&m, 0, pk, sk, s), WW_ERANGE);
}

static void hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", p[i]);
}

/* The vector of docs/PROTOCOL.md 6.19: the example day, nym_key 11 x 32, group 22 x 16,
 * the test keys and the generator labelled "vector". */
TEST(share_wire_vector)
{
    uint8_t pk[2][32], sk[2][32], nym_key[32], group[16], digest[32];
    char text[65], nymtext[33];
    struct agg_rng rng;
    agg_rng_init(&rng, "vector");
    agg_test_keys(0, pk[0], sk[0]);
    agg_test_keys(1, pk[1], sk[1]);
    memset(nym_key, 0x11, sizeof nym_key);
    memset(group, 0x22, sizeof group);
    struct ww_agg_day d = example_day();
    struct ww_share_msg m, back;
    ASSERT_OK(ww_share_make(&d, group, nym_key, pk[0], pk[1], agg_rng_fill, &rng, &m));
    struct ww_buf out;
    ww_buf_init(&out, 0);
    ASSERT_OK(ww_share_encode(&m, &out));
    ASSERT_EQ(out.len, 1 + 1 + 18 + 3 + 1 + 18 + 18 + 2 * (3 + WW_AGG_SEALED_LEN));
    ASSERT_OK(ww_share_decode(out.p, out.len, &back));
    ASSERT_MEM_EQ(&back, &m, sizeof m);
    hex(m.nym, 16, nymtext);
    ASSERT_STR_EQ(nymtext, "4efb55eb982269bcf407434febcf0a44");
    crypto_generichash(digest, 32, out.p, out.len, NULL, 0);
    hex(digest, 32, text);
    ASSERT_STR_EQ(text, "94c6a0ba3367aca54a4572626527ff34a9f05894f03810c4b96d6644960f8a63");
    uint64_t a[WW_AGG_DIM];
    ASSERT_OK(ww_share_open(&m, 0, pk[0], sk[0], a));
    ASSERT_EQ(a[0], 1966465835155906954u);
    ASSERT_EQ(a[3], 29556483871276418u);
    ASSERT_OK(ww_share_open(&m, 1, pk[1], sk[1], a));
    ASSERT_EQ(a[0], 339377174057786997u);  /* p - A[0]: counter 0 is 0 */
    ASSERT_EQ(a[3], 2276286525342417534u); /* 1 - A[3] mod p: counter 3 (K1 = 4) is 1 */
    ww_buf_free(&out);
}

TEST(share_decode_refuses_malformed)
{
    uint8_t pk[2][32], sk[2][32], key[32] = {1}, group[16] = {2};
    struct agg_rng rng;
    agg_rng_init(&rng, "decode");
    agg_test_keys(0, pk[0], sk[0]);
    agg_test_keys(1, pk[1], sk[1]);
    struct ww_agg_day d = example_day();
    struct ww_share_msg m, back;
    ASSERT_OK(ww_share_make(&d, group, key, pk[0], pk[1], agg_rng_fill, &rng, &m));
    struct ww_buf out;
    ww_buf_init(&out, 0);
    ASSERT_OK(ww_share_encode(&m, &out));
    uint8_t buf[WW_SHARE_MSG_MAX + 8];
    size_t n = out.len;
    memcpy(buf, out.p, n);
    ww_buf_free(&out);
    for (size_t cut = 0; cut < n; cut += 97)
        ASSERT(ww_share_decode(buf, cut, &back) != 0);
    buf[n] = 0xc0;
    ASSERT_ERR(ww_share_decode(buf, n + 1, &back), WW_ETRAILING);
    buf[1] = 2; /* version */
    ASSERT_ERR(ww_share_decode(buf, n, &back), WW_EVERSION);
    buf[1] = 1;
    buf[0] = 0x97; /* 7 fields */
    ASSERT(ww_share_decode(buf, n, &back) != 0);
    buf[0] = 0x98;
    ASSERT_OK(ww_share_decode(buf, n, &back));
    m.date = WW_MAX_DATE + 1;
    ww_buf_init(&out, 0);
    ASSERT_ERR(ww_share_encode(&m, &out), WW_ERANGE);
    m.date = 20458;
    m.asked = 0x1000;
    ASSERT_ERR(ww_share_encode(&m, &out), WW_ERANGE);
    ASSERT_EQ(out.len, 0);
    ww_buf_free(&out);
}
