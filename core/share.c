/*
 * share.c - the device side of split aggregation: one day's counters, their two additive
 * shares modulo 2^61 - 1, the sealing of each share to its aggregator, and the wire form.
 *
 * Invariants: every counter and every share is below WW_AGG_PRIME; a sealed share binds
 * the clear metadata it travels with (a context hash inside the sealed plaintext), so an
 * aggregator cannot be fed a share under another group, date, pseudonym or role.
 */
#include <sodium.h>
#include <string.h>

#include "alloc.h"
#include "mp.h"
#include "seal.h"
#include "share.h"

#define CTX_LEN   32
#define PLAIN_LEN (CTX_LEN + 8 * WW_AGG_DIM)
#define ASKED_ALL ((1u << WW_AGG_ITEMS) - 1)

uint32_t ww_agg_window(uint32_t date)
{
    return date < 4 ? 0 : (date - 4) / WW_AGG_WINDOW_DAYS;
}

int ww_share_counters(const struct ww_agg_day *d, uint64_t out[WW_AGG_DIM])
{
    uint64_t x[WW_AGG_DIM] = {0};
    if (d->date > WW_MAX_DATE || d->asked & ~ASKED_ALL || d->status > 3 ||
        d->obstacles >> WW_AGG_REASONS || d->first >> WW_AGG_BLOCKS)
        return WW_EINVAL;
    for (int item = 1; item <= WW_AGG_ITEMS; item++) {
        uint8_t v = d->value[item - 1];
        int first = d->first >> (item - 1) & 1;
        if (v > 5 || (v && !(d->asked >> (item - 1) & 1)) || (first && !v))
            return WW_EINVAL;
        if (v)
            x[WW_AGG_BIN(item, v)] = 1;
        x[WW_AGG_FIRST(item)] = (uint64_t)first;
    }
    int first = d->first >> WW_AGG_STATUS_BLOCK & 1;
    if ((d->obstacles && d->status < 2) || (first && !d->status))
        return WW_EINVAL;
    if (d->status)
        x[WW_AGG_STATUS(d->status)] = 1;
    for (int bit = 0; bit < WW_AGG_REASONS; bit++)
        x[WW_AGG_REASON(bit)] = d->obstacles >> bit & 1;
    x[WW_AGG_STATUS_FIRST] = (uint64_t)first;
    memcpy(out, x, sizeof x);
    return 0;
}

void ww_share_nym(const uint8_t nym_key[32], uint32_t window, uint8_t nym[WW_AGG_NYM_LEN])
{
    static const char domain[] = "wegwijs/agg/nym/v1";
    uint8_t in[sizeof domain - 1 + 4];
    memcpy(in, domain, sizeof domain - 1);
    for (int i = 0; i < 4; i++)
        in[sizeof domain - 1 + i] = (uint8_t)(window >> (24 - 8 * i));
    crypto_generichash(nym, WW_AGG_NYM_LEN, in, sizeof in, nym_key, 32);
}

static void fill_random(void (*random)(void *, uint8_t *, size_t), void *ud, uint8_t *buf,
                        size_t len)
{
    if (random)
        random(ud, buf, len);
    else
        randombytes_buf(buf, len);
}

/* A uniform integer below p: 61 random bits, redrawn in the one case (2^61 - 1) that is
 * not below p. */
static uint64_t uniform_mod_p(void (*random)(void *, uint8_t *, size_t), void *ud)
{
    for (;;) {
        uint8_t b[8];
        uint64_t v = 0;
        fill_random(random, ud, b, sizeof b);
        for (int i = 0; i < 8; i++)
            v = v << 8 | b[i];
        v &= WW_AGG_PRIME;
        if (v < WW_AGG_PRIME)
            return v;
    }
}

void ww_share_split(const uint64_t x[WW_AGG_DIM], void (*random)(void *, uint8_t *, size_t),
                    void *ud, uint64_t a[WW_AGG_DIM], uint64_t b[WW_AGG_DIM])
{
    for (int i = 0; i < WW_AGG_DIM; i++) {
        a[i] = uniform_mod_p(random, ud);
        b[i] = ww_agg_sub_mod(x[i], a[i]);
    }
}

/* ctx = BLAKE2b-256("wegwijs/agg/share/v1" || which || group || u32be(date) ||
 * u16be(asked) || nym || prev_nym) */
static void share_context(const struct ww_share_msg *m, int which, uint8_t ctx[CTX_LEN])
{
    static const char domain[] = "wegwijs/agg/share/v1";
    uint8_t meta[1 + 16 + 4 + 2 + 2 * WW_AGG_NYM_LEN], *p = meta;
    *p++ = (uint8_t)which;
    memcpy(p, m->group, 16);
    p += 16;
    for (int i = 0; i < 4; i++)
        *p++ = (uint8_t)(m->date >> (24 - 8 * i));
    *p++ = (uint8_t)(m->asked >> 8);
    *p++ = (uint8_t)m->asked;
    memcpy(p, m->nym, WW_AGG_NYM_LEN);
    memcpy(p + WW_AGG_NYM_LEN, m->prev_nym, WW_AGG_NYM_LEN);
    ww_hash_domain(domain, meta, sizeof meta, NULL, 0, NULL, 0, ctx, CTX_LEN);
}

/* A libsodium sealed box (crypto_box_seal_open opens it) whose ephemeral key pair comes
 * from `seed`, so that a seeded generator gives reproducible vectors:
 * epk || crypto_box_easy(m, nonce = BLAKE2b-192(epk || pk), pk, esk). */
static int seal_box(const uint8_t pk[32], const uint8_t seed[32], const uint8_t *m, size_t len,
                    uint8_t *out)
{
    uint8_t epk[32], esk[32], nonce[crypto_box_NONCEBYTES];
    crypto_generichash_state st;
    crypto_box_seed_keypair(epk, esk, seed);
    crypto_generichash_init(&st, NULL, 0, sizeof nonce);
    crypto_generichash_update(&st, epk, 32);
    crypto_generichash_update(&st, pk, 32);
    crypto_generichash_final(&st, nonce, sizeof nonce);
    memcpy(out, epk, 32);
    int rc = crypto_box_easy(out + 32, m, len, nonce, pk, esk);
    sodium_memzero(esk, sizeof esk);
    return rc == 0 ? 0 : WW_ECRYPTO;
}

static int seal_share(const struct ww_share_msg *m, int which, const uint8_t pk[32],
                      const uint8_t seed[32], const uint64_t share[WW_AGG_DIM])
{
    uint8_t plain[PLAIN_LEN];
    share_context(m, which, plain);
    for (int i = 0; i < WW_AGG_DIM; i++)
        for (int j = 0; j < 8; j++)
            plain[CTX_LEN + 8 * i + j] = (uint8_t)(share[i] >> (56 - 8 * j));
    int rc = seal_box(pk, seed, plain, sizeof plain, (uint8_t *)m->sealed[which]);
    sodium_memzero(plain, sizeof plain);
    return rc;
}

int ww_share_make_counters(const uint64_t x[WW_AGG_DIM], uint32_t date, uint16_t asked,
                           const uint8_t group[16], const uint8_t nym_key[32],
                           const uint8_t pk_a[32], const uint8_t pk_b[32],
                           void (*random)(void *ud, uint8_t *buf, size_t len), void *ud,
                           struct ww_share_msg *out)
{
    uint64_t sh[2][WW_AGG_DIM];
    uint8_t seeds[2][32];
    struct ww_share_msg m;
    memset(&m, 0, sizeof m);
    memcpy(m.group, group, 16);
    m.date = date;
    m.asked = asked;
    uint32_t w = ww_agg_window(date);
    ww_share_nym(nym_key, w, m.nym);
    ww_share_nym(nym_key, w - 1, m.prev_nym); /* window 0 links to 2^32 - 1: no window */
    ww_share_split(x, random, ud, sh[0], sh[1]);
    fill_random(random, ud, seeds[0], sizeof seeds);
    int rc = seal_share(&m, 0, pk_a, seeds[0], sh[0]);
    if (rc == 0)
        rc = seal_share(&m, 1, pk_b, seeds[1], sh[1]);
    sodium_memzero(sh, sizeof sh);
    sodium_memzero(seeds, sizeof seeds);
    if (rc == 0)
        *out = m;
    return rc;
}

int ww_share_make(const struct ww_agg_day *d, const uint8_t group[16], const uint8_t nym_key[32],
                  const uint8_t pk_a[32], const uint8_t pk_b[32],
                  void (*random)(void *ud, uint8_t *buf, size_t len), void *ud,
                  struct ww_share_msg *out)
{
    uint64_t x[WW_AGG_DIM];
    WW_TRY(ww_share_counters(d, x));
    int rc =
        ww_share_make_counters(x, d->date, d->asked, group, nym_key, pk_a, pk_b, random, ud, out);
    sodium_memzero(x, sizeof x);
    return rc;
}

int ww_share_open(const struct ww_share_msg *m, int which, const uint8_t pk[32],
                  const uint8_t sk[32], uint64_t share[WW_AGG_DIM])
{
    uint8_t plain[PLAIN_LEN], ctx[CTX_LEN];
    uint64_t v[WW_AGG_DIM];
    int rc = 0;
    if (which != 0 && which != 1)
        return WW_EINVAL;
    if (crypto_box_seal_open(plain, m->sealed[which], WW_AGG_SEALED_LEN, pk, sk) != 0)
        return WW_EDECRYPT;
    share_context(m, which, ctx);
    if (sodium_memcmp(ctx, plain, CTX_LEN) != 0)
        rc = WW_EDECRYPT;
    for (int i = 0; rc == 0 && i < WW_AGG_DIM; i++) {
        v[i] = 0;
        for (int j = 0; j < 8; j++)
            v[i] = v[i] << 8 | plain[CTX_LEN + 8 * i + j];
        if (v[i] >= WW_AGG_PRIME)
            rc = WW_ERANGE;
    }
    sodium_memzero(plain, sizeof plain);
    if (rc == 0)
        memcpy(share, v, sizeof v);
    sodium_memzero(v, sizeof v);
    return rc;
}

/* ---- Wire form ---- */

enum { share_fields = 8 };

static int check_msg(const struct ww_share_msg *m)
{
    return m->date > WW_MAX_DATE || m->asked > ASKED_ALL ? WW_ERANGE : 0;
}

int ww_share_encode(const struct ww_share_msg *m, struct ww_buf *out)
{
    WW_TRY(check_msg(m));
    struct ww_mp_writer w;
    ww_mp_writer_init(&w, out, WW_SHARE_MSG_MAX);
    ww_mp_put_array(&w, share_fields);
    ww_mp_put_uint(&w, WW_SHARE_VERSION);
    ww_mp_put_bin(&w, m->group, 16);
    ww_mp_put_uint(&w, m->date);
    ww_mp_put_uint(&w, m->asked);
    ww_mp_put_bin(&w, m->nym, WW_AGG_NYM_LEN);
    ww_mp_put_bin(&w, m->prev_nym, WW_AGG_NYM_LEN);
    ww_mp_put_bin(&w, m->sealed[0], WW_AGG_SEALED_LEN);
    ww_mp_put_bin(&w, m->sealed[1], WW_AGG_SEALED_LEN);
    return ww_mp_writer_finish(&w);
}

/* A fixed schema: exactly 8 fields, no extension (a new layout is a new version). */
int ww_share_decode(const uint8_t *buf, size_t len, struct ww_share_msg *out)
{
    struct ww_mp_reader r;
    struct ww_share_msg m;
    uint32_t n;
    uint64_t v;
    if (len > WW_SHARE_MSG_MAX)
        return WW_ETOOBIG;
    memset(&m, 0, sizeof m);
    ww_mp_reader_init(&r, buf, len);
    WW_TRY(ww_mp_read_array(&r, share_fields, &n));
    if (n != share_fields)
        return WW_ETYPE;
    WW_TRY(ww_mp_read_uint(&r, &v));
    if (v != WW_SHARE_VERSION)
        return WW_EVERSION;
    WW_TRY(ww_mp_read_bin_exact(&r, 16, m.group));
    WW_TRY(ww_mp_read_uint_max(&r, WW_MAX_DATE, &v));
    m.date = (uint32_t)v;
    WW_TRY(ww_mp_read_uint_max(&r, ASKED_ALL, &v));
    m.asked = (uint16_t)v;
    WW_TRY(ww_mp_read_bin_exact(&r, WW_AGG_NYM_LEN, m.nym));
    WW_TRY(ww_mp_read_bin_exact(&r, WW_AGG_NYM_LEN, m.prev_nym));
    WW_TRY(ww_mp_read_bin_exact(&r, WW_AGG_SEALED_LEN, m.sealed[0]));
    WW_TRY(ww_mp_read_bin_exact(&r, WW_AGG_SEALED_LEN, m.sealed[1]));
    WW_TRY(ww_mp_finish(&r));
    *out = m;
    return 0;
}

/* ---- Between aggregators: a gate or a release ---- */

enum { summary_fields = 4, cell_fields = 19, loop_fields = 3 };

/* One counter list: n values below p (a hist, a sum) or at most max (a count). */
static void put_list(struct ww_mp_writer *w, const uint64_t *v, uint32_t n)
{
    ww_mp_put_array(w, n);
    for (uint32_t i = 0; i < n; i++)
        ww_mp_put_uint(w, v[i]);
}

static void put_list32(struct ww_mp_writer *w, const uint32_t *v, uint32_t n)
{
    ww_mp_put_array(w, n);
    for (uint32_t i = 0; i < n; i++)
        ww_mp_put_uint(w, v[i]);
}

static int read_list(struct ww_mp_reader *r, uint64_t *v, uint32_t n, uint64_t max)
{
    uint32_t got;
    WW_TRY(ww_mp_read_array(r, n, &got));
    if (got != n)
        return WW_ETYPE;
    for (uint32_t i = 0; i < n; i++)
        WW_TRY(ww_mp_read_uint_max(r, max, &v[i]));
    return 0;
}

static int read_list32(struct ww_mp_reader *r, uint32_t *v, uint32_t n)
{
    uint64_t tmp[WW_AGG_BLOCKS];
    WW_TRY(read_list(r, tmp, n, UINT32_MAX));
    for (uint32_t i = 0; i < n; i++)
        v[i] = (uint32_t)tmp[i];
    return 0;
}

static int all_below_p(const uint64_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] >= WW_AGG_PRIME)
            return 0;
    return 1;
}

/* What both the encoder and the decoder require of one cell, and of its place after prev:
 * cells strictly ascending by (level, unit, window); sums only of passing parts. */
static int check_cell(const struct ww_agg_cellshare *c, const struct ww_agg_cellshare *prev,
                      int released)
{
    if (c->level > WW_AGG_LOCATION || (c->level == WW_AGG_LOCATION && c->location != c->unit) ||
        c->pass > 1 || c->status_pass > 1 || c->cat_pass >> WW_AGG_CATS ||
        !all_below_p(c->first, WW_AGG_BLOCKS) || !all_below_p(c->cat_hist[0], 5 * WW_AGG_CATS) ||
        !all_below_p(c->status, 3) || !all_below_p(c->reasons, WW_AGG_REASONS))
        return WW_ERANGE;
    /* Nothing is released of a part that does not pass (and nothing at all by a gate). */
    static const struct ww_agg_cellshare zero;
    if (!released && (c->pass || c->cat_pass || c->status_pass))
        return WW_ERANGE;
    if (released && memcmp(c->first, zero.first, sizeof zero.first))
        return WW_ERANGE;
    if (!c->pass && (c->cat_pass || c->status_pass))
        return WW_ERANGE;
    /* The coach loop: only in a passing cell of a release; answered signals are signals. */
    if ((!c->pass && (c->signals || c->responded || c->signoffs)) || c->responded > c->signals)
        return WW_ERANGE;
    for (int cat = 0; cat < WW_AGG_CATS; cat++)
        if (!(c->cat_pass >> cat & 1) && memcmp(c->cat_hist[cat], zero.cat_hist[cat], 40))
            return WW_ERANGE;
    if (!c->status_pass && (memcmp(c->status, zero.status, sizeof zero.status) ||
                            memcmp(c->reasons, zero.reasons, sizeof zero.reasons)))
        return WW_ERANGE;
    if (prev && (c->level < prev->level ||
                 (c->level == prev->level &&
                  (c->unit < prev->unit || (c->unit == prev->unit && c->window <= prev->window)))))
        return WW_ERANGE;
    return 0;
}

static int check_summary(const struct ww_agg_summary *s)
{
    if (s->n > WW_AGG_MAX_CELLS)
        return WW_ETOOBIG;
    if (s->k < WW_AGG_K_MIN || s->released > 1 || (s->n && !s->cells))
        return WW_ERANGE;
    for (size_t i = 0; i < s->n; i++)
        WW_TRY(check_cell(&s->cells[i], i ? &s->cells[i - 1] : NULL, s->released));
    return 0;
}

int ww_agg_summary_encode(const struct ww_agg_summary *s, struct ww_buf *out)
{
    WW_TRY(check_summary(s));
    struct ww_mp_writer w;
    ww_mp_writer_init(&w, out, WW_MAX_FRAME);
    ww_mp_put_array(&w, summary_fields);
    ww_mp_put_uint(&w, WW_SHARE_VERSION);
    ww_mp_put_uint(&w, s->k);
    ww_mp_put_uint(&w, s->released);
    ww_mp_put_array(&w, (uint32_t)s->n);
    for (size_t i = 0; i < s->n; i++) {
        const struct ww_agg_cellshare *c = &s->cells[i];
        const uint32_t facts[] = {c->level,    c->unit,   c->location, c->window, c->n_days,
                                  c->students, c->groups, c->enrolled, c->overlap};
        ww_mp_put_array(&w, cell_fields);
        for (size_t f = 0; f < sizeof facts / sizeof facts[0]; f++)
            ww_mp_put_uint(&w, facts[f]);
        put_list32(&w, c->asked, WW_AGG_BLOCKS);
        put_list32(&w, c->cat_asked, WW_AGG_CATS);
        put_list(&w, c->first, WW_AGG_BLOCKS);
        ww_mp_put_uint(&w, c->pass);
        ww_mp_put_uint(&w, c->cat_pass);
        ww_mp_put_uint(&w, c->status_pass);
        put_list(&w, c->cat_hist[0], 5 * WW_AGG_CATS);
        put_list(&w, c->status, 3);
        put_list(&w, c->reasons, WW_AGG_REASONS);
        const uint32_t loop[loop_fields] = {c->signals, c->responded, c->signoffs};
        put_list32(&w, loop, loop_fields);
    }
    return ww_mp_writer_finish(&w);
}

static int read_cell(struct ww_mp_reader *r, struct ww_agg_cellshare *c)
{
    uint32_t n;
    uint64_t v[9];
    WW_TRY(ww_mp_read_array(r, cell_fields, &n));
    if (n != cell_fields)
        return WW_ETYPE;
    for (int f = 0; f < 9; f++)
        WW_TRY(ww_mp_read_uint_max(r, UINT32_MAX, &v[f]));
    c->level = (uint8_t)(v[0] > 255 ? 255 : v[0]);
    c->unit = (uint32_t)v[1];
    c->location = (uint32_t)v[2];
    c->window = (uint32_t)v[3];
    c->n_days = (uint32_t)v[4];
    c->students = (uint32_t)v[5];
    c->groups = (uint32_t)v[6];
    c->enrolled = (uint32_t)v[7];
    c->overlap = (uint32_t)v[8];
    WW_TRY(read_list32(r, c->asked, WW_AGG_BLOCKS));
    WW_TRY(read_list32(r, c->cat_asked, WW_AGG_CATS));
    WW_TRY(read_list(r, c->first, WW_AGG_BLOCKS, WW_AGG_PRIME - 1));
    WW_TRY(ww_mp_read_uint_max(r, 1, &v[0]));
    WW_TRY(ww_mp_read_uint_max(r, (1u << WW_AGG_CATS) - 1, &v[1]));
    WW_TRY(ww_mp_read_uint_max(r, 1, &v[2]));
    c->pass = (uint8_t)v[0];
    c->cat_pass = (uint8_t)v[1];
    c->status_pass = (uint8_t)v[2];
    WW_TRY(read_list(r, c->cat_hist[0], 5 * WW_AGG_CATS, WW_AGG_PRIME - 1));
    WW_TRY(read_list(r, c->status, 3, WW_AGG_PRIME - 1));
    WW_TRY(read_list(r, c->reasons, WW_AGG_REASONS, WW_AGG_PRIME - 1));
    uint32_t loop[loop_fields];
    WW_TRY(read_list32(r, loop, loop_fields));
    c->signals = loop[0];
    c->responded = loop[1];
    c->signoffs = loop[2];
    return 0;
}

int ww_agg_summary_decode(const uint8_t *buf, size_t len, struct ww_agg_summary *out)
{
    struct ww_mp_reader r;
    uint32_t n;
    uint64_t v, k, released;
    if (len > WW_MAX_FRAME)
        return WW_ETOOBIG;
    ww_mp_reader_init(&r, buf, len);
    WW_TRY(ww_mp_read_array(&r, summary_fields, &n));
    if (n != summary_fields)
        return WW_ETYPE;
    WW_TRY(ww_mp_read_uint(&r, &v));
    if (v != WW_SHARE_VERSION)
        return WW_EVERSION;
    WW_TRY(ww_mp_read_uint_max(&r, UINT32_MAX, &k));
    WW_TRY(ww_mp_read_uint_max(&r, 1, &released));
    WW_TRY(ww_mp_read_array(&r, WW_AGG_MAX_CELLS, &n));
    struct ww_agg_summary s = {ww_calloc(n ? n : 1, sizeof *s.cells), n, (uint32_t)k,
                               (uint8_t)released};
    if (!s.cells)
        return WW_ENOMEM;
    int rc = 0;
    for (uint32_t i = 0; rc == 0 && i < n; i++)
        rc = read_cell(&r, &s.cells[i]);
    if (rc == 0)
        rc = ww_mp_finish(&r);
    if (rc == 0)
        rc = check_summary(&s);
    if (rc != 0) {
        ww_free(s.cells);
        return rc;
    }
    *out = s;
    return 0;
}

/* ---- A hub's setup: its groups' units and the units' names ---- */

enum { setup_fields = 3, setup_group_fields = 4, setup_unit_fields = 3 };

void ww_agg_setup_free(struct ww_agg_setup *s)
{
    if (!s)
        return;
    ww_free(s->groups);
    ww_free(s->units);
    s->groups = NULL;
    s->units = NULL;
    s->n_groups = s->n_units = 0;
}

/* Groups strictly ascending by id, each in a named team and location; units strictly
 * ascending by (level, unit), each named. */
static int check_setup(const struct ww_agg_setup *s)
{
    if (s->n_groups > WW_AGG_MAX_GROUPS || s->n_units > WW_AGG_MAX_UNITS)
        return WW_ETOOBIG;
    for (size_t i = 0; i < s->n_groups; i++) {
        const struct ww_agg_group *g = &s->groups[i];
        if (i && memcmp(s->groups[i - 1].group, g->group, 16) >= 0)
            return WW_ERANGE;
        if (!ww_agg_setup_name(s, WW_AGG_TEAM, g->team) ||
            !ww_agg_setup_name(s, WW_AGG_LOCATION, g->location) || g->enrolled > 64)
            return WW_ERANGE;
    }
    for (size_t i = 0; i < s->n_units; i++) {
        const struct ww_agg_unit *u = &s->units[i], *p = i ? &s->units[i - 1] : NULL;
        if (u->level > WW_AGG_LOCATION || !u->name[0] ||
            (p && (p->level > u->level || (p->level == u->level && p->unit >= u->unit))))
            return WW_ERANGE;
        size_t len = strnlen(u->name, sizeof u->name);
        if (len == sizeof u->name)
            return WW_ETOOBIG;
        WW_TRY(ww_mp_check_text((struct ww_slice){(const uint8_t *)u->name, len}, 1, WW_MAX_NAME));
    }
    return 0;
}

const char *ww_agg_setup_name(const struct ww_agg_setup *s, uint8_t level, uint32_t unit)
{
    size_t lo = 0, hi = s->n_units;
    while (lo < hi) { /* units are sorted by (level, unit) */
        size_t mid = lo + (hi - lo) / 2;
        const struct ww_agg_unit *u = &s->units[mid];
        if (u->level == level && u->unit == unit)
            return u->name;
        if (u->level < level || (u->level == level && u->unit < unit))
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

int ww_agg_setup_encode(const struct ww_agg_setup *s, struct ww_buf *out)
{
    WW_TRY(check_setup(s));
    struct ww_mp_writer w;
    ww_mp_writer_init(&w, out, WW_AGG_SETUP_MAX);
    ww_mp_put_array(&w, setup_fields);
    ww_mp_put_uint(&w, WW_SHARE_VERSION);
    ww_mp_put_array(&w, (uint32_t)s->n_groups);
    for (size_t i = 0; i < s->n_groups; i++) {
        const struct ww_agg_group *g = &s->groups[i];
        ww_mp_put_array(&w, setup_group_fields);
        ww_mp_put_bin(&w, g->group, 16);
        ww_mp_put_uint(&w, g->team);
        ww_mp_put_uint(&w, g->location);
        ww_mp_put_uint(&w, g->enrolled);
    }
    ww_mp_put_array(&w, (uint32_t)s->n_units);
    for (size_t i = 0; i < s->n_units; i++) {
        const struct ww_agg_unit *u = &s->units[i];
        ww_mp_put_array(&w, setup_unit_fields);
        ww_mp_put_uint(&w, u->level);
        ww_mp_put_uint(&w, u->unit);
        ww_mp_put_str(&w, (struct ww_slice){(const uint8_t *)u->name, strlen(u->name)});
    }
    return ww_mp_writer_finish(&w);
}

static int read_setup(struct ww_mp_reader *r, struct ww_agg_setup *s)
{
    uint32_t n, f;
    uint64_t v[3];
    WW_TRY(ww_mp_read_array(r, WW_AGG_MAX_GROUPS, &n));
    if (!(s->groups = ww_calloc(n ? n : 1, sizeof *s->groups)))
        return WW_ENOMEM;
    for (; s->n_groups < n; s->n_groups++) {
        struct ww_agg_group *g = &s->groups[s->n_groups];
        WW_TRY(ww_mp_read_array(r, setup_group_fields, &f));
        if (f != setup_group_fields)
            return WW_ETYPE;
        WW_TRY(ww_mp_read_bin_exact(r, 16, g->group));
        for (int i = 0; i < 3; i++)
            WW_TRY(ww_mp_read_uint_max(r, UINT32_MAX, &v[i]));
        g->team = (uint32_t)v[0];
        g->location = (uint32_t)v[1];
        g->enrolled = (uint32_t)v[2];
    }
    WW_TRY(ww_mp_read_array(r, WW_AGG_MAX_UNITS, &n));
    if (!(s->units = ww_calloc(n ? n : 1, sizeof *s->units)))
        return WW_ENOMEM;
    for (; s->n_units < n; s->n_units++) {
        struct ww_agg_unit *u = &s->units[s->n_units];
        struct ww_slice name;
        WW_TRY(ww_mp_read_array(r, setup_unit_fields, &f));
        if (f != setup_unit_fields)
            return WW_ETYPE;
        WW_TRY(ww_mp_read_uint_max(r, WW_AGG_LOCATION, &v[0]));
        WW_TRY(ww_mp_read_uint_max(r, UINT32_MAX, &v[1]));
        WW_TRY(ww_mp_read_str(r, WW_MAX_NAME, &name));
        u->level = (uint8_t)v[0];
        u->unit = (uint32_t)v[1];
        memcpy(u->name, name.p, name.len);
        u->name[name.len] = '\0';
    }
    return 0;
}

int ww_agg_setup_decode(const uint8_t *buf, size_t len, struct ww_agg_setup *out)
{
    struct ww_mp_reader r;
    struct ww_agg_setup s = {0};
    uint32_t n;
    uint64_t v;
    if (len > WW_AGG_SETUP_MAX)
        return WW_ETOOBIG;
    ww_mp_reader_init(&r, buf, len);
    int rc = ww_mp_read_array(&r, setup_fields, &n);
    if (rc == 0 && n != setup_fields)
        rc = WW_ETYPE;
    if (rc == 0)
        rc = ww_mp_read_uint(&r, &v);
    if (rc == 0 && v != WW_SHARE_VERSION)
        rc = WW_EVERSION;
    if (rc == 0)
        rc = read_setup(&r, &s);
    if (rc == 0)
        rc = ww_mp_finish(&r);
    if (rc == 0)
        rc = check_setup(&s);
    if (rc != 0) {
        ww_agg_setup_free(&s);
        return rc;
    }
    *out = s;
    return 0;
}
