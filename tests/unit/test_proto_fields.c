/*
 * test_proto_fields.c - every field bound of every body kind, frame type, header and
 * envelope, in both directions.
 *
 * Decoding: each struct is written out as a flat list of msgpack items (an array header is
 * followed by its elements), first as a valid encoding, then with one item replaced by a
 * value just inside or just outside its bound; the decoder must accept or reject it with
 * the expected code. Encoding: each fixture struct from the vectors is given one bad value
 * and the encoder must refuse it with the same rules.
 */
#include <msgpack.h>

#include "runner.h"

#include "alloc.h"
#include "buf.h"
#include "proto.h"

#include "vectors/vectors.inc"

enum it_type { T_END = 0, T_U, T_NEG, T_STR, T_STRN, T_BIN, T_ARR, T_NIL, T_HEX };

struct item {
    enum it_type t;
    uint64_t u;    /* T_U value, T_NEG value (as int64), T_BIN first byte, T_ARR count */
    const char *s; /* T_STR bytes, T_HEX digits */
    size_t n;      /* T_STR, T_STRN and T_BIN length */
};

#define U(v)                                                                                       \
    {                                                                                              \
        T_U, (uint64_t)(v), NULL, 0                                                                \
    }
#define NEG(v)                                                                                     \
    {                                                                                              \
        T_NEG, (uint64_t)(int64_t)(v), NULL, 0                                                     \
    }
#define S(lit)                                                                                     \
    {                                                                                              \
        T_STR, 0, lit, sizeof(lit) - 1                                                             \
    }
#define SN(len)                                                                                    \
    {                                                                                              \
        T_STRN, 0, NULL, (len)                                                                     \
    } /* len times 'a' */
#define B(len)                                                                                     \
    {                                                                                              \
        T_BIN, 0x11, NULL, (len)                                                                   \
    }
#define BP(len, start)                                                                             \
    {                                                                                              \
        T_BIN, (start), NULL, (len)                                                                \
    }
#define A(count)                                                                                   \
    {                                                                                              \
        T_ARR, (count), NULL, 0                                                                    \
    }
#define NIL                                                                                        \
    {                                                                                              \
        T_NIL, 0, NULL, 0                                                                          \
    }
#define HEX(h)                                                                                     \
    {                                                                                              \
        T_HEX, 0, h, 0                                                                             \
    }

struct fcase {
    size_t at;   /* first item replaced */
    size_t span; /* how many items are replaced */
    struct item with[10];
    int want;
};

#define R(at, it, want)                                                                            \
    {                                                                                              \
        at, 1, {it}, want                                                                          \
    }
#define RS(at, span, want, ...)                                                                    \
    {                                                                                              \
        at, span, {__VA_ARGS__}, want                                                              \
    }

static int sink(void *data, const char *p, size_t n)
{
    return ww_buf_append(data, p, n) == 0 ? 0 : -1;
}

static void emit_item(msgpack_packer *pk, struct ww_buf *out, const struct item *it)
{
    switch (it->t) {
    case T_U:
        ASSERT_EQ(msgpack_pack_uint64(pk, it->u), 0);
        break;
    case T_NEG:
        ASSERT_EQ(msgpack_pack_int64(pk, (int64_t)it->u), 0);
        break;
    case T_STR:
        ASSERT_EQ(msgpack_pack_str_with_body(pk, it->s, it->n), 0);
        break;
    case T_STRN:
        ASSERT_EQ(msgpack_pack_str(pk, it->n), 0);
        for (size_t k = 0; k < it->n; k++)
            ASSERT_OK(ww_buf_append(out, "a", 1));
        break;
    case T_BIN:
        ASSERT_EQ(msgpack_pack_bin(pk, it->n), 0);
        for (size_t k = 0; k < it->n; k++) {
            uint8_t c = (uint8_t)(it->u + k);
            ASSERT_OK(ww_buf_append(out, &c, 1));
        }
        break;
    case T_ARR:
        ASSERT_EQ(msgpack_pack_array(pk, (size_t)it->u), 0);
        break;
    case T_NIL:
        ASSERT_EQ(msgpack_pack_nil(pk), 0);
        break;
    case T_HEX:
        ASSERT_EQ(hex_decode(it->s, out), 0);
        break;
    case T_END:
        break;
    }
}

/* Encodes base with items [c->at, c->at + c->span) replaced by c->with (all of base when c
 * is NULL). */
static void emit(const struct item *base, size_t n, const struct fcase *c, struct ww_buf *out)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, sink);
    ww_buf_reset(out);
    for (size_t k = 0; k < n; k++) {
        if (c && k == c->at)
            for (size_t w = 0; w < 10 && c->with[w].t != T_END; w++)
                emit_item(&pk, out, &c->with[w]);
        if (c && k >= c->at && k < c->at + c->span)
            continue;
        emit_item(&pk, out, &base[k]);
    }
}

static void run_cases(const char *name, enum vec_what what, uint16_t kind, const struct item *base,
                      size_t nbase, const struct fcase *cases, size_t ncases)
{
    struct vec v = {name, what, kind, "", NULL, ""};
    struct ww_buf in, again;
    struct vec_value val;
    ww_buf_init(&in, 0);
    ww_buf_init(&again, 0);
    emit(base, nbase, NULL, &in);
    int rc = vec_decode(&v, in.p, in.len, &val);
    if (rc != 0)
        ww_test_fail(__FILE__, __LINE__, "%s: base does not decode: %s", name, ww_err_name(rc));
    for (size_t k = 0; k < ncases; k++) {
        emit(base, nbase, &cases[k], &in);
        memset(&val, 0, sizeof val);
        rc = vec_decode(&v, in.p, in.len, &val);
        if (rc != cases[k].want)
            ww_test_fail(__FILE__, __LINE__, "%s case %zu (item %zu): got %s, want %s", name, k,
                         cases[k].at, ww_err_name(rc), ww_err_name(cases[k].want));
        if (rc == 0) {
            ww_buf_reset(&again);
            ASSERT_OK(vec_encode(&v, &val, &again));
            ASSERT_EQ(again.len, in.len);
            ASSERT_MEM_EQ(again.p, in.p, in.len);
        }
    }
    ww_buf_free(&again);
    ww_buf_free(&in);
}

#define RUN(name, what, kind, base, cases)                                                         \
    run_cases(name, what, kind, base, sizeof base / sizeof base[0], cases,                         \
              sizeof cases / sizeof cases[0])

/* ---- Bodies: decoding -------------------------------------------------------------------- */

TEST(proto_body_group_create_bounds)
{
    static const struct item base[] = {A(7),     B(16), S("Afdeling"), S("Europe/Amsterdam"),
                                       U(20773), B(16), B(32),         B(32)};
    static const struct fcase cases[] = {
        R(0, A(6), WW_ETYPE),
        R(0, A(24), WW_ETOOBIG),
        R(0, HEX("dc0007"), WW_ENONCANON),
        R(1, B(15), WW_ERANGE),
        R(1, B(17), WW_ETOOBIG),
        R(1, U(0), WW_ETYPE),
        R(1, S("x"), WW_ETYPE),
        R(1, NIL, WW_ETYPE),
        R(2, SN(80), 0),
        R(2, SN(81), WW_ETOOBIG),
        R(2, S(""), 0),
        R(2, S("\xc3\x28"), WW_EUTF8),
        R(2, S("a\rb"), WW_EUTF8),
        R(2, B(3), WW_ETYPE),
        R(2, S("tab\tand\nnewline"), 0),
        R(3, SN(64), 0),
        R(3, SN(65), WW_ETOOBIG),
        R(3, S(""), 0),
        R(4, U(2932896), 0),
        R(4, U(2932897), WW_ERANGE),
        R(4, S("x"), WW_ETYPE),
        R(5, B(0), WW_ERANGE),
        R(6, B(0), 0),
        R(6, B(31), WW_ERANGE),
        R(6, B(33), WW_ETOOBIG),
        R(6, NIL, WW_ETYPE),
        R(7, B(0), 0), /* no recovery key */
        R(7, B(31), WW_ERANGE),
        R(7, B(33), WW_ETOOBIG),
        R(7, NIL, WW_ETYPE),
    };
    RUN("group.create", VEC_BODY, WW_KIND_GROUP_CREATE, base, cases);
}

TEST(proto_body_member_add_bounds)
{
    static const struct item base[] = {A(3), B(16), U(2), A(1), B(32)};
    static const struct fcase cases[] = {
        R(0, A(2), WW_ETYPE),
        R(1, B(15), WW_ERANGE),
        R(2, U(0), WW_ERANGE),
        R(2, U(1), 0),
        R(2, U(3), 0),
        R(2, U(4), WW_ERANGE),
        R(2, U(256), WW_ERANGE),
        R(2, NEG(-1), WW_ERANGE),
        R(2, HEX("d002"), WW_ENONCANON),
        R(2, HEX("cc02"), WW_ENONCANON),
        R(2, S("Sanne"), WW_ETYPE),
        RS(3, 2, WW_ERANGE, A(0)),
        R(3, A(9), WW_ETOOBIG),
        R(3, U(1), WW_ETYPE),
        RS(3, 2, 0, A(8), B(32), B(32), B(32), B(32), B(32), B(32), B(32), B(32)),
        R(4, B(31), WW_ERANGE),
        R(4, B(33), WW_ETOOBIG),
        R(4, S("x"), WW_ETYPE),
    };
    RUN("member.add", VEC_BODY, WW_KIND_MEMBER_ADD, base, cases);
}

TEST(proto_body_member_profile_bounds)
{
    static const struct item base[] = {A(4), B(16), S("Sanne"), U(2), U(1)};
    static const struct fcase cases[] = {
        R(0, A(3), WW_ETYPE),
        R(1, B(15), WW_ERANGE),
        R(1, B(17), WW_ETOOBIG),
        R(2, SN(80), 0),
        R(2, SN(81), WW_ETOOBIG),
        R(2, S(""), 0),
        R(2, S("\xc3\x28"), WW_EUTF8),
        R(2, B(5), WW_ETYPE),
        R(3, U(0), 0),
        R(3, U(4), 0),
        R(3, U(5), WW_ERANGE),
        R(3, U(256), WW_ERANGE),
        R(4, U(0), 0),
        R(4, U(2), 0),
        R(4, U(3), WW_ERANGE),
        R(4, NIL, WW_ETYPE),
    };
    RUN("member.profile", VEC_BODY, WW_KIND_MEMBER_PROFILE, base, cases);
}

TEST(proto_body_erase_bounds)
{
    static const struct item base[] = {A(1), B(16)};
    static const struct fcase cases[] = {
        R(1, B(15), WW_ERANGE), R(1, B(17), WW_ETOOBIG), R(0, A(0), WW_ETYPE),
        R(1, U(1), WW_ETYPE),   R(0, A(18), WW_ETOOBIG),
    };
    RUN("erase", VEC_BODY, WW_KIND_ERASE, base, cases);
}

TEST(proto_body_member_remove_bounds)
{
    /* [member, [[device, seq, hash], [device, seq, hash]]] */
    static const struct item base[] = {A(2),  B(16), A(2),         A(3),   B(32),       U(7),
                                       B(32), A(3),  BP(32, 0x30), U(300), BP(32, 0x40)};
    static const struct fcase cases[] = {
        R(1, B(15), WW_ERANGE),
        R(1, B(17), WW_ETOOBIG),
        /* a device the owner held nothing of: no event, a zero hash */
        RS(5, 2, 0, U(0),
           HEX("c4200000000000000000000000000000000000000000000000000000000000000000")),
        R(5, U(0), WW_EINVAL),
        R(5, U((1ull << 40) - 1), 0),
        R(5, U(1ull << 40), WW_ERANGE),
        R(5, NEG(-1), WW_ERANGE),
        R(6, B(31), WW_ERANGE),
        R(6, B(33), WW_ETOOBIG),
        R(8, B(32), WW_EINVAL),        /* the same device twice */
        R(8, BP(32, 0x01), WW_EINVAL), /* devices out of order */
        R(8, B(31), WW_ERANGE),
        RS(2, 9, 0, A(0)), /* a leave: no cut-offs */
        R(2, A(49), WW_ETOOBIG),
        R(3, A(4), WW_ETOOBIG),
        R(3, A(2), WW_ETYPE), /* the hash missing */
        RS(3, 4, WW_ETYPE, A(1), B(32)),
        R(3, U(1), WW_ETYPE),
        R(0, A(1), WW_ETYPE),
    };
    RUN("member.remove", VEC_BODY, WW_KIND_MEMBER_REMOVE, base, cases);
}

TEST(proto_body_device_add_bounds)
{
    static const struct item base[] = {A(2), B(16), B(32)};
    static const struct fcase cases[] = {
        R(2, B(0), WW_ERANGE),
        R(2, B(64), WW_ETOOBIG),
        R(1, B(32), WW_ETOOBIG),
        R(0, A(1), WW_ETYPE),
    };
    RUN("device.add", VEC_BODY, WW_KIND_DEVICE_ADD, base, cases);
}

TEST(proto_body_keys_bounds)
{
    static const struct item base[] = {A(2), U(2), A(1), A(4), U(1), B(0), B(32), B(80)};
    static const struct fcase cases[] = {
        R(1, U(0xffffffffu), 0),
        R(1, U(0x100000000ull), WW_ERANGE),
        R(1, NEG(-5), WW_ERANGE),
        RS(2, 6, WW_ERANGE, A(0)),
        R(2, A(65), WW_ETOOBIG),
        R(2, HEX("dc0041"), WW_ETOOBIG),
        R(3, A(3), WW_ETYPE),
        R(3, A(5), WW_ETOOBIG),
        R(4, U(0), WW_ERANGE),
        R(4, U(4), WW_ERANGE),
        R(5, B(16), WW_ETOOBIG),
        RS(4, 2, WW_ERANGE, U(2), B(0)),
        RS(4, 2, 0, U(2), B(16)),
        RS(4, 2, 0, U(3), B(16)),
        RS(4, 2, WW_ETOOBIG, U(3), B(17)),
        RS(4, 2, WW_ERANGE, U(3), B(15)),
        R(6, B(31), WW_ERANGE),
        R(7, B(79), WW_ERANGE),
        R(7, B(81), WW_ETOOBIG),
        R(7, NIL, WW_ETYPE),
        /* two wraps: the second one's sealed key is the base's last item */
        RS(2, 5, 0, A(2), A(4), U(1), B(0), B(32), B(80), A(4), U(3), B(16), B(32)),
    };
    RUN("key.epoch", VEC_BODY, WW_KIND_KEY_EPOCH, base, cases);
    RUN("key.share", VEC_BODY, WW_KIND_KEY_SHARE, base, cases);
}

TEST(proto_body_challenge_define_bounds)
{
    static const struct item base[] = {A(8), S("W03"), S("Titel"), S("Omschrijving"), U(2), U(1),
                                       U(4), S("BPV"), U(1)};
    static const struct fcase cases[] = {
        R(1, S(""), WW_ERANGE),
        R(1, SN(16), 0),
        R(1, SN(17), WW_ETOOBIG),
        R(1, S("W 3"), WW_ERANGE),
        R(1, S("W.3"), WW_ERANGE),
        R(1, S("w_-9Z"), 0),
        R(1, S("\xc3\xa9"), WW_ERANGE),
        R(1, S("W\n"), WW_ERANGE),
        R(1, S("\xff"), WW_EUTF8),
        R(1, B(3), WW_ETYPE),
        R(2, SN(120), 0),
        R(2, SN(121), WW_ETOOBIG),
        R(2, S(""), 0),
        R(3, SN(600), 0),
        R(3, SN(601), WW_ETOOBIG),
        R(4, U(0), WW_ERANGE),
        R(4, U(1), 0),
        R(4, U(7), 0),
        R(4, U(8), WW_ERANGE),
        R(5, U(0), WW_ERANGE),
        R(5, U(4), 0),
        R(5, U(5), WW_ERANGE),
        R(5, U(53), WW_ERANGE),
        R(6, U(1), 0),
        R(6, U(52), 0),
        R(6, U(53), WW_ERANGE),
        R(6, U(0), WW_ERANGE),
        RS(5, 2, 0, U(52), U(52)),
        RS(5, 2, WW_ERANGE, U(53), U(53)),
        R(7, SN(64), 0),
        R(7, SN(65), WW_ETOOBIG),
        R(7, S(""), 0),
        R(8, U(0), 0),
        R(8, U(3), 0),
        R(8, U(4), WW_ERANGE),
    };
    RUN("challenge.define", VEC_BODY, WW_KIND_CHALLENGE_DEFINE, base, cases);
}

TEST(proto_body_challenge_schedule_bounds)
{
    static const struct item base[] = {A(2), U(20414), S("W03")};
    static const struct fcase cases[] = {
        R(1, U(0), 0),
        R(1, U(WW_MAX_DATE), 0),
        R(1, U(WW_MAX_DATE + 1), WW_ERANGE),
        R(1, U(0x100000000ull), WW_ERANGE),
        R(1, NEG(-1), WW_ERANGE),
        R(1, S("20414"), WW_ETYPE),
        R(2, S(""), WW_ERANGE),
        R(2, S("W/3"), WW_ERANGE),
        R(2, SN(16), 0),
        R(2, SN(17), WW_ETOOBIG),
        R(2, B(3), WW_ETYPE),
    };
    RUN("challenge.schedule", VEC_BODY, WW_KIND_CHALLENGE_SCHEDULE, base, cases);
}

TEST(proto_body_day_off_bounds)
{
    static const struct item base[] = {A(2), U(20415), U(1)};
    static const struct fcase cases[] = {
        R(2, U(0), 0),
        R(2, U(2), WW_ERANGE),
        R(2, HEX("c3"), WW_ETYPE),
        R(1, U(WW_MAX_DATE), 0),
        R(1, U(WW_MAX_DATE + 1), WW_ERANGE),
    };
    RUN("day.off", VEC_BODY, WW_KIND_DAY_OFF, base, cases);
}

TEST(proto_body_reflection_bounds)
{
    static const struct item base[] = {A(12),     U(20414), S("W03"), U(2),   U(18),
                                       S("note"), S("s"),   S("t"),   S("a"), S("r"),
                                       S("r2"),   U(2),     U(0)};
    static const struct fcase cases[] = {
        R(0, A(11), WW_ETYPE),
        R(0, A(29), WW_ETOOBIG),
        R(1, U(WW_MAX_DATE + 1), WW_ERANGE),
        R(2, S(""), WW_ERANGE),
        R(2, S("W 3"), WW_ERANGE),
        R(3, U(0), WW_ERANGE),
        R(3, U(1), WW_ERANGE), /* done, yet obstacles */
        RS(3, 2, 0, U(1), U(0)),
        R(3, U(3), 0),
        R(3, U(4), WW_ERANGE),
        R(4, U(0), 0),
        R(4, U(63), 0),
        R(4, U(64), WW_ERANGE),
        R(4, U(255), WW_ERANGE),
        R(5, SN(200), 0),
        R(5, SN(201), WW_ETOOBIG),
        R(6, SN(400), 0),
        R(6, SN(401), WW_ETOOBIG),
        R(7, SN(300), 0),
        R(7, SN(301), WW_ETOOBIG),
        R(8, SN(400), 0),
        R(8, SN(401), WW_ETOOBIG),
        R(9, SN(300), 0),
        R(9, SN(301), WW_ETOOBIG),
        R(10, SN(400), 0),
        R(10, SN(401), WW_ETOOBIG),
        R(6, S("\x7f"), WW_EUTF8),
        R(7, S("\xed\xa0\x80"), WW_EUTF8),
        R(8, S("a\x00z"), WW_EUTF8),
        R(9, S("\xe2\x82"), WW_EUTF8),
        R(10, S("Fijn \xf0\x9f\x98\x80\nklaar"), 0),
        R(11, U(0), WW_ERANGE),
        R(11, U(1), 0),
        R(11, U(3), 0),
        R(11, U(4), WW_ERANGE),
        R(12, U(1), 0),
        R(12, U(2), WW_ERANGE),
        R(12, HEX("c2"), WW_ETYPE),
    };
    RUN("reflection.put", VEC_BODY, WW_KIND_REFLECTION_PUT, base, cases);
}

TEST(proto_body_climate_bounds)
{
    static const struct item base[] = {A(2), U(20414), A(2), A(2), U(1), U(4), A(2), U(2), U(3)};
    static const struct fcase cases[] = {
        RS(2, 7, WW_ERANGE, A(0)),
        R(2, A(9), WW_ETOOBIG),
        RS(2, 7, 0, HEX("98920101920201920301920401920501920601920701920801")),
        RS(2, 7, WW_ETOOBIG, HEX("99920101920201920301920401920501920601920701920801920901")),
        R(3, A(1), WW_ETYPE),
        R(3, A(3), WW_ETOOBIG),
        R(3, U(1), WW_ETYPE),
        R(4, U(0), WW_ERANGE),
        R(4, U(256), WW_ERANGE),
        R(4, U(2), WW_ERANGE), /* equal to the next item */
        R(4, U(3), WW_ERANGE), /* above the next item */
        R(7, U(1), WW_ERANGE),
        R(7, U(255), 0),
        R(5, U(0), 0),
        R(5, U(5), 0),
        R(5, U(6), WW_ERANGE),
        R(8, U(6), WW_ERANGE),
        R(5, NEG(-1), WW_ERANGE),
        R(1, U(WW_MAX_DATE + 1), WW_ERANGE),
    };
    RUN("climate.put", VEC_BODY, WW_KIND_CLIMATE_PUT, base, cases);
}

TEST(proto_body_reaction_bounds)
{
    static const struct item base[] = {A(2), B(32), S("Goed!")};
    static const struct fcase cases[] = {
        R(1, B(16), WW_ERANGE),  R(1, B(33), WW_ETOOBIG),   R(2, S(""), WW_ERANGE),
        R(2, SN(280), 0),        R(2, SN(281), WW_ETOOBIG), R(2, NIL, WW_ETYPE),
        R(2, S("\r"), WW_EUTF8),
    };
    RUN("reaction.put", VEC_BODY, WW_KIND_REACTION_PUT, base, cases);
}

TEST(proto_body_reaction_del_bounds)
{
    static const struct item base[] = {A(1), B(32)};
    static const struct fcase cases[] = {
        R(1, B(0), WW_ERANGE), R(1, B(31), WW_ERANGE), R(1, B(33), WW_ETOOBIG),
        R(1, NIL, WW_ETYPE),   R(1, S("x"), WW_ETYPE), R(0, A(0), WW_ETYPE),
    };
    RUN("reaction.del", VEC_BODY, WW_KIND_REACTION_DEL, base, cases);
}

TEST(proto_body_sync_report_bounds)
{
    /* [hub_at, peer_at, [[device, seq], [device, seq]]] */
    static const struct item base[] = {A(3), U(1763280000000), U(0),  A(2), A(2), B(32), U(7),
                                       A(2), BP(32, 0x30),     U(300)};
    static const struct fcase cases[] = {
        R(1, U((1ull << 47) - 1), 0),
        R(1, U(1ull << 47), WW_ERANGE),
        R(2, U(1ull << 47), WW_ERANGE),
        R(2, NEG(-1), WW_ERANGE),
        R(6, U(0), WW_ERANGE), /* a held seq is at least 1 */
        R(6, U((1ull << 40) - 1), 0),
        R(6, U(1ull << 40), WW_ERANGE),
        R(8, B(32), WW_EINVAL),        /* the same log twice */
        R(8, BP(32, 0x01), WW_EINVAL), /* logs out of order */
        R(8, B(31), WW_ERANGE),
        RS(3, 7, 0, A(0)), /* holds nothing yet */
        R(3, A(65), WW_ETOOBIG),
        R(4, A(3), WW_ETOOBIG),
        RS(4, 3, WW_ETYPE, A(1), B(32)),
        R(4, U(1), WW_ETYPE),
        R(0, A(2), WW_ETYPE),
    };
    RUN("sync.report", VEC_BODY, WW_KIND_SYNC_REPORT, base, cases);
}

TEST(proto_body_group_hub_bounds)
{
    static const struct item base[] = {A(2), B(32), S("hub.example.nl:7420")};
    static const struct fcase cases[] = {
        R(1, B(31), WW_ERANGE),
        R(1, B(33), WW_ETOOBIG),
        R(2, S(""), 0),
        R(2, SN(255), 0),
        R(2, SN(256), WW_ETOOBIG),
        R(2, NIL, WW_ETYPE),
        R(2, S("a b:1"), WW_EINVAL),
        R(2, S("[::1]:7420"), 0),
        R(2, S("h\xc3\xa9:1"), WW_EINVAL),
    };
    RUN("group.hub", VEC_BODY, WW_KIND_GROUP_HUB, base, cases);
}

TEST(proto_body_signal_raise_bounds)
{
    static const struct item base[] = {A(3), U(1), S("Druk"), B(16)};
    static const struct fcase cases[] = {
        R(1, U(0), WW_ERANGE),  R(1, U(6), 0),          R(1, U(7), WW_ERANGE),
        R(2, S(""), WW_ERANGE), R(2, SN(500), 0),       R(2, SN(501), WW_ETOOBIG),
        R(3, B(0), 0),          R(3, B(15), WW_ERANGE), R(3, B(17), WW_ETOOBIG),
        R(3, NIL, WW_ETYPE),
    };
    RUN("signal.raise", VEC_BODY, WW_KIND_SIGNAL_RAISE, base, cases);
}

TEST(proto_body_signal_resolve_bounds)
{
    static const struct item base[] = {A(3), B(32), U(1), S("ok")};
    static const struct fcase cases[] = {
        R(2, U(0), WW_ERANGE), R(2, U(2), 0),    R(2, U(3), WW_ERANGE),
        R(3, S(""), 0),        R(3, SN(500), 0), R(3, SN(501), WW_ETOOBIG),
        R(1, B(0), WW_ERANGE),
    };
    RUN("signal.resolve", VEC_BODY, WW_KIND_SIGNAL_RESOLVE, base, cases);
}

TEST(proto_body_signoff_bounds)
{
    static const struct item base[] = {A(5), B(16), S("W03"), U(20420), U(3), S("note")};
    static const struct fcase cases[] = {
        R(4, U(0), WW_ERANGE),
        R(4, U(1), 0),
        R(4, U(4), 0),
        R(4, U(5), WW_ERANGE),
        R(3, U(WW_MAX_DATE + 1), WW_ERANGE),
        R(2, S(""), WW_ERANGE),
        R(2, S("W 3"), WW_ERANGE),
        R(5, SN(500), 0),
        R(5, SN(501), WW_ETOOBIG),
        R(5, S(""), 0),
        R(1, B(32), WW_ETOOBIG),
    };
    RUN("signoff.put", VEC_BODY, WW_KIND_SIGNOFF_PUT, base, cases);
}

/* ---- Header and envelope: decoding ------------------------------------------------------- */

#define HEADER_ITEMS                                                                               \
    A(11), U(1), B(16), B(32), U(2), B(32), U(VEC_HLC), U(0), U(10), U(2), B(16), B(4)

TEST(proto_header_bounds)
{
    static const struct item base[] = {HEADER_ITEMS};
    static const struct fcase cases[] = {
        R(1, U(2), WW_EVERSION),
        R(1, U(0), WW_EVERSION),
        R(1, U(256), WW_EVERSION),
        R(1, S("1"), WW_ETYPE),
        R(1, HEX("cc01"), WW_ENONCANON),
        RS(0, 2, WW_ETYPE, A(3), U(1)),
        RS(0, 2, WW_EVERSION, A(3), U(2)), /* another version, another layout */
        R(0, A(10), WW_ETYPE),
        R(0, A(28), WW_ETOOBIG),
        R(0, A(0), WW_ETYPE),
        R(2, B(15), WW_ERANGE),
        R(3, B(33), WW_ETOOBIG),
        R(4, U(0), WW_ERANGE),
        RS(4, 2, 0, U(1), B(0)),
        R(4, U(1), WW_ETOOBIG), /* the first event has no prev */
        R(5, B(0), WW_ERANGE),
        R(5, B(31), WW_ERANGE),
        R(5, B(33), WW_ETOOBIG),
        R(4, U(UINT64_MAX), 0),
        R(6, U(0), 0),
        R(6, U(UINT64_MAX), 0),
        R(6, NEG(-1), WW_ERANGE),
        R(7, U(0xffffffffu), 0),
        R(7, U(0x100000000ull), WW_ERANGE),
        R(8, U(0), WW_ERANGE),
        R(8, U(17), 0),
        R(8, U(65535), 0),
        R(8, U(65536), WW_ERANGE),
        R(9, U(5), WW_ERANGE),
        RS(9, 2, 0, U(0), B(0)),
        RS(9, 2, 0, U(1), B(0)),
        RS(9, 2, 0, U(3), B(16)),
        RS(9, 2, 0, U(4), B(0)),
        R(9, U(1), WW_ETOOBIG), /* GROUP with a subject */
        RS(9, 2, WW_ERANGE, U(2), B(0)),
        RS(9, 2, WW_ERANGE, U(3), B(15)),
        RS(9, 2, WW_ETOOBIG, U(4), B(16)),
        R(11, B(0), 0),
        R(11, B(16), 0),
        R(11, B(17), WW_ETOOBIG),
        R(11, S("ref"), WW_ETYPE),
    };
    RUN("header", VEC_HEADER, 0, base, cases);
}

TEST(proto_envelope_bounds)
{
    static const struct item base[] = {A(4), HEADER_ITEMS, B(32), B(64), B(19)};
    static const struct fcase cases[] = {
        R(2, U(2), WW_EVERSION),
        R(0, A(3), WW_ETYPE),
        R(0, A(21), WW_ETOOBIG),
        R(1, U(1), WW_ETYPE),
        R(13, B(31), WW_ERANGE),
        R(13, B(33), WW_ETOOBIG),
        R(14, B(63), WW_ERANGE),
        R(14, B(65), WW_ETOOBIG),
        R(15, NIL, 0),
        R(15, B(0), 0),
        R(15, U(0), WW_ETYPE),
        R(15, S("x"), WW_ETYPE),
        R(15, HEX("c2"), WW_ETYPE),
        R(15, B(WW_MAX_BODY), 0),
        R(15, B(WW_MAX_BODY + 1), WW_ETOOBIG),
    };
    RUN("envelope", VEC_ENVELOPE, 0, base, cases);
}

/* ---- Frames: decoding -------------------------------------------------------------------- */

TEST(proto_frame_handshake_bounds)
{
    static const struct item init[] = {A(4), U(1), U(1), U(3), B(32)};
    static const struct fcase init_cases[] = {
        R(2, U(0), WW_ERANGE),
        R(2, U(2), 0),
        R(2, U(255), 0),
        R(2, U(256), WW_ERANGE),
        R(3, U(0), 0),
        R(3, U(0xffffffffu), 0),
        R(3, U(0x100000000ull), WW_ERANGE),
        R(4, B(31), WW_ERANGE),
        R(4, B(33), WW_ETOOBIG),
        R(0, A(3), WW_ETYPE),
        R(0, A(21), WW_ETOOBIG),
        R(1, U(WW_FRAME_MAX_KNOWN + 1), WW_EUNKNOWN),
        R(1, U(0), WW_EUNKNOWN),
        R(1, NEG(-1), WW_ERANGE),
        R(1, HEX("cc01"), WW_ENONCANON),
        R(1, S("1"), WW_ETYPE),
    };
    RUN("hs_init", VEC_FRAME, 0, init, init_cases);

    static const struct item resp[] = {A(6), U(2), U(1), U(3), B(32), B(32), B(64)};
    static const struct fcase resp_cases[] = {
        R(2, U(0), WW_ERANGE),  R(2, U(9), 0),           R(5, B(31), WW_ERANGE),
        R(6, B(63), WW_ERANGE), R(6, B(65), WW_ETOOBIG), R(0, A(5), WW_ETYPE),
        R(4, NIL, WW_ETYPE),
    };
    RUN("hs_resp", VEC_FRAME, 0, resp, resp_cases);

    static const struct item fin[] = {A(3), U(3), B(32), B(64)};
    static const struct fcase fin_cases[] = {
        R(2, B(33), WW_ETOOBIG),
        R(3, B(0), WW_ERANGE),
        R(0, A(2), WW_ETYPE),
    };
    RUN("hs_fin", VEC_FRAME, 0, fin, fin_cases);
}

TEST(proto_frame_vv_and_ack_bounds)
{
    /* A VV's entries carry a tip: [author, seq, tip]. */
    static const struct item vv[] = {A(3), U(4), B(16), A(2),         A(3),   BP(32, 0x20),
                                     U(7), B(8), A(3),  BP(32, 0x30), U(300), B(8)};
    static const struct fcase vv_cases[] = {
        RS(3, 9, 0, A(0)),
        R(3, A(65), WW_ETOOBIG),
        R(3, HEX("dc0041"), WW_ETOOBIG),
        R(9, BP(32, 0x20), WW_ERANGE), /* the same author twice */
        R(9, BP(32, 0x10), WW_ERANGE), /* descending */
        R(9, BP(32, 0x21), 0),
        R(6, U(0), WW_ERANGE),
        R(10, U(0), WW_ERANGE),
        R(10, U(UINT64_MAX), 0),
        R(6, NEG(-1), WW_ERANGE),
        R(4, A(4), WW_ETOOBIG),
        R(4, A(2), WW_ETYPE), /* an ACK's entry in a VV */
        R(5, B(31), WW_ERANGE),
        R(7, B(7), WW_ERANGE),
        R(7, B(9), WW_ETOOBIG),
        R(7, U(1), WW_ETYPE),
        R(11, NIL, WW_ETYPE),
        R(2, B(15), WW_ERANGE),
        R(0, A(2), WW_ETYPE),
    };
    RUN("vv", VEC_FRAME, 0, vv, vv_cases);
    /* An ACK's entries do not: [author, seq]. */
    static const struct item ack[] = {A(3),         U(6), B(16), A(2),         A(2),
                                      BP(32, 0x20), U(7), A(2),  BP(32, 0x30), U(300)};
    static const struct fcase ack_cases[] = {
        RS(3, 7, 0, A(0)),
        R(3, A(65), WW_ETOOBIG),
        R(3, HEX("dc0041"), WW_ETOOBIG),
        R(8, BP(32, 0x20), WW_ERANGE), /* the same author twice */
        R(8, BP(32, 0x10), WW_ERANGE), /* descending */
        R(8, BP(32, 0x21), 0),
        R(6, U(0), WW_ERANGE),
        R(9, U(0), WW_ERANGE),
        R(9, U(UINT64_MAX), 0),
        R(6, NEG(-1), WW_ERANGE),
        R(4, A(3), WW_ETOOBIG), /* a VV's entry in an ACK */
        R(4, A(1), WW_ETYPE),
        R(5, B(31), WW_ERANGE),
        R(2, B(15), WW_ERANGE),
        R(0, A(2), WW_ETYPE),
    };
    RUN("ack", VEC_FRAME, 0, ack, ack_cases);
}

TEST(proto_frame_batch_bounds)
{
    static const struct item base[] = {A(4), U(5), B(16), A(1), B(10), U(0)};
    static const struct fcase cases[] = {
        RS(3, 2, WW_ERANGE, A(0)),
        R(3, A(257), WW_ETOOBIG),
        R(4, B(0), WW_ERANGE),
        R(5, U(1), 0),
        R(5, U(2), WW_ERANGE),
        R(4, B(WW_MAX_EVENT), 0),
        R(4, B(WW_MAX_EVENT + 1), WW_ETOOBIG),
        R(4, S("x"), WW_ETYPE),
        R(4, NIL, WW_ETYPE),
        RS(3, 2, 0, A(3), B(1), B(2), B(3)),
        R(2, B(0), WW_ERANGE),
    };
    RUN("batch", VEC_FRAME, 0, base, cases);
}

TEST(proto_frame_error_ping_bounds)
{
    static const struct item err[] = {A(3), U(7), U(5), S("frame too large")};
    static const struct fcase err_cases[] = {
        R(2, U(0), WW_ERANGE),
        R(2, U(65535), 0),
        R(2, U(65536), WW_ERANGE),
        R(2, U(99), 0),
        R(3, S(""), 0),
        R(3, SN(200), 0),
        R(3, SN(201), WW_ETOOBIG),
        R(3, S("\x01"), WW_EUTF8),
        R(3, B(3), WW_ETYPE),
    };
    RUN("error", VEC_FRAME, 0, err, err_cases);
    static const struct item ping[] = {A(2), U(8), U(42)};
    static const struct item pong[] = {A(2), U(9), U(42)};
    static const struct fcase ping_cases[] = {
        R(2, U(UINT64_MAX), 0),
        R(2, U(0), 0),
        R(2, NEG(-1), WW_ERANGE),
        R(2, S("x"), WW_ETYPE),
        R(2, HEX("cf0000000000000001"), WW_ENONCANON),
        R(0, A(1), WW_ETYPE),
        R(0, A(18), WW_ETRUNC), /* more elements than bytes left */
    };
    RUN("ping", VEC_FRAME, 0, ping, ping_cases);
    RUN("pong", VEC_FRAME, 0, pong, ping_cases);
}

/* ---- Encoding: the same rules ------------------------------------------------------------ */

static char aaa[1024];

/* A slice of n bytes of 'a' (or of p). */
static struct ww_slice sl(const char *p, size_t n)
{
    if (!aaa[0])
        memset(aaa, 'a', sizeof aaa);
    struct ww_slice s = {(const uint8_t *)p, n};
    return s;
}

#define AS(n) sl(aaa, n)

/* Builds the fixture of vector vecname, applies stmt to x (a struct vec_value *) and
 * requires the encoder to return want, leaving the output empty when it fails. */
#define ENC_CASE(vecname, want, stmt)                                                              \
    do {                                                                                           \
        struct vec_value val_;                                                                     \
        struct ww_buf s_, o_;                                                                      \
        const struct vec *v_ = vec_find(vecname);                                                  \
        ASSERT(v_ != NULL);                                                                        \
        memset(&val_, 0, sizeof val_);                                                             \
        ww_buf_init(&s_, 0);                                                                       \
        ww_buf_init(&o_, 0);                                                                       \
        v_->build(&val_, &s_);                                                                     \
        {                                                                                          \
            struct vec_value *x = &val_;                                                           \
            stmt;                                                                                  \
        }                                                                                          \
        int rc_ = vec_encode(v_, &val_, &o_);                                                      \
        if (rc_ != (want))                                                                         \
            ww_test_fail(__FILE__, __LINE__, "%s: %s: got %s", vecname, #stmt, ww_err_name(rc_));  \
        if (rc_ != 0)                                                                              \
            ASSERT_EQ(o_.len, 0);                                                                  \
        ww_buf_free(&o_);                                                                          \
        ww_buf_free(&s_);                                                                          \
    } while (0)

TEST(proto_encode_rejects_bad_bodies)
{
    ENC_CASE("body.group.create", 0, (void)x);
    ENC_CASE("body.group.create", WW_ETOOBIG, x->body.u.group_create.name = AS(81));
    ENC_CASE("body.group.create", 0, x->body.u.group_create.name = AS(80));
    ENC_CASE("body.group.create", WW_EUTF8, x->body.u.group_create.name = txt("\xc3\x28"));
    ENC_CASE("body.group.create", WW_EINVAL, x->body.u.group_create.name = sl(NULL, 3));
    ENC_CASE("body.group.create", WW_ETOOBIG, x->body.u.group_create.tz = AS(65));
    ENC_CASE("body.group.create", WW_EINVAL, x->body.u.group_create.has_agg = 0);
    ENC_CASE("body.group.create", 0, x->body.u.group_create.has_agg = 0;
             memset(x->body.u.group_create.agg_pk, 0, 32));

    ENC_CASE("body.member.add", WW_ERANGE, x->body.u.member_add.role = 0);
    ENC_CASE("body.member.add", WW_ERANGE, x->body.u.member_add.role = 4);
    ENC_CASE("body.member.add", WW_ERANGE, x->body.u.member_add.n_devices = 0);
    ENC_CASE("body.member.add", WW_ETOOBIG, x->body.u.member_add.n_devices = 9);
    ENC_CASE("body.member.add", 0, x->body.u.member_add.n_devices = 8);

    ENC_CASE("body.member.profile", 0, (void)x);
    ENC_CASE("body.member.profile", WW_ERANGE, x->body.u.member_profile.year = 5);
    ENC_CASE("body.member.profile", 0, x->body.u.member_profile.year = 0);
    ENC_CASE("body.member.profile", WW_ERANGE, x->body.u.member_profile.track = 3);
    ENC_CASE("body.member.profile", WW_ETOOBIG, x->body.u.member_profile.alias = AS(81));
    ENC_CASE("body.member.profile", 0, x->body.u.member_profile.alias = AS(80));
    ENC_CASE("body.member.profile", WW_EUTF8, x->body.u.member_profile.alias = txt("\xc3\x28"));

    ENC_CASE("body.key.epoch", WW_ERANGE, x->body.u.keys.n_wraps = 0);
    ENC_CASE("body.key.epoch", WW_ETOOBIG, x->body.u.keys.n_wraps = 65);
    ENC_CASE("body.key.epoch", WW_ERANGE, x->body.u.keys.wraps[0].audience = 0);
    ENC_CASE("body.key.epoch", WW_ERANGE, x->body.u.keys.wraps[2].audience = 4);
    ENC_CASE("body.key.epoch", WW_EINVAL, x->body.u.keys.wraps[0].subject[3] = 1);
    ENC_CASE("body.key.share", WW_ERANGE, x->body.u.keys.n_wraps = 2);

    ENC_CASE("body.challenge.define", WW_ERANGE, x->body.u.challenge_define.code = txt(""));
    ENC_CASE("body.challenge.define", WW_ERANGE, x->body.u.challenge_define.code = txt("a b"));
    ENC_CASE("body.challenge.define", WW_ETOOBIG, x->body.u.challenge_define.code = AS(17));
    ENC_CASE("body.challenge.define", WW_ERANGE, x->body.u.challenge_define.week_from = 5);
    ENC_CASE("body.challenge.define", WW_ERANGE, x->body.u.challenge_define.week_to = 53);
    ENC_CASE("body.challenge.define", WW_ERANGE, x->body.u.challenge_define.week_from = 0);
    ENC_CASE("body.challenge.define", WW_ERANGE, x->body.u.challenge_define.canmeds = 0);
    ENC_CASE("body.challenge.define", WW_ERANGE, x->body.u.challenge_define.canmeds = 8);
    ENC_CASE("body.challenge.define", WW_ERANGE, x->body.u.challenge_define.signoff_role = 4);
    ENC_CASE("body.challenge.define", WW_ETOOBIG, x->body.u.challenge_define.title = AS(121));
    ENC_CASE("body.challenge.define", WW_ETOOBIG, x->body.u.challenge_define.description = AS(601));
    ENC_CASE("body.challenge.define", WW_ETOOBIG,
             x->body.u.challenge_define.assignment_ref = AS(65));

    ENC_CASE("body.challenge.schedule", WW_ERANGE,
             x->body.u.challenge_schedule.date = WW_MAX_DATE + 1);
    ENC_CASE("body.challenge.schedule", WW_ERANGE, x->body.u.challenge_schedule.code = txt(""));
    ENC_CASE("body.day.off", WW_ERANGE, x->body.u.day_off.off = 2);
    ENC_CASE("body.day.off", WW_ERANGE, x->body.u.day_off.date = WW_MAX_DATE + 1);

    ENC_CASE("body.reflection.put", WW_ERANGE, x->body.u.reflection.status = WW_STATUS_DONE);
    ENC_CASE("body.reflection.put", WW_ERANGE, x->body.u.reflection.status = 0);
    ENC_CASE("body.reflection.put", WW_ERANGE, x->body.u.reflection.obstacles = 64);
    ENC_CASE("body.reflection.put", WW_ERANGE, x->body.u.reflection.share = 4);
    ENC_CASE("body.reflection.put", WW_ERANGE, x->body.u.reflection.draft = 2);
    ENC_CASE("body.reflection.put", WW_ERANGE, x->body.u.reflection.code = txt("W 3"));
    ENC_CASE("body.reflection.put", WW_ETOOBIG, x->body.u.reflection.obstacle_note = AS(201));
    ENC_CASE("body.reflection.put", WW_ETOOBIG, x->body.u.reflection.situatie = AS(401));
    ENC_CASE("body.reflection.put", WW_ETOOBIG, x->body.u.reflection.taak = AS(301));
    ENC_CASE("body.reflection.put", WW_ETOOBIG, x->body.u.reflection.actie = AS(401));
    ENC_CASE("body.reflection.put", WW_ETOOBIG, x->body.u.reflection.resultaat = AS(301));
    ENC_CASE("body.reflection.put", WW_ETOOBIG, x->body.u.reflection.reflectie = AS(401));
    ENC_CASE("body.reflection.put", WW_EUTF8, x->body.u.reflection.taak = txt("a\rb"));
    ENC_CASE("body.reflection.put.done", WW_ERANGE, x->body.u.reflection.obstacles = 1);

    ENC_CASE("body.climate.put", WW_ERANGE, x->body.u.climate.n_answers = 0);
    ENC_CASE("body.climate.put", WW_ETOOBIG, x->body.u.climate.n_answers = 9);
    ENC_CASE("body.climate.put", WW_ERANGE, x->body.u.climate.answers[1].item = 1);
    ENC_CASE("body.climate.put", WW_ERANGE, x->body.u.climate.answers[0].item = 0);
    ENC_CASE("body.climate.put", WW_ERANGE, x->body.u.climate.answers[2].value = 6);

    ENC_CASE("body.reaction.put", WW_ERANGE, x->body.u.reaction.text = txt(""));
    ENC_CASE("body.reaction.put", WW_ETOOBIG, x->body.u.reaction.text = AS(281));
    ENC_CASE("body.reaction.put", WW_EUTF8, x->body.u.reaction.text = txt("\x7f"));

    ENC_CASE("body.signal.raise", WW_ERANGE, x->body.u.signal_raise.category = 0);
    ENC_CASE("body.signal.raise", WW_ERANGE, x->body.u.signal_raise.category = 7);
    ENC_CASE("body.signal.raise", WW_ERANGE, x->body.u.signal_raise.text = txt(""));
    ENC_CASE("body.signal.raise", WW_ETOOBIG, x->body.u.signal_raise.text = AS(501));
    ENC_CASE("body.signal.raise", WW_EINVAL, x->body.u.signal_raise.has_concerns = 0);

    ENC_CASE("body.signal.resolve", WW_ERANGE, x->body.u.signal_resolve.state = 0);
    ENC_CASE("body.signal.resolve", WW_ERANGE, x->body.u.signal_resolve.state = 3);
    ENC_CASE("body.signal.resolve", WW_ETOOBIG, x->body.u.signal_resolve.note = AS(501));

    ENC_CASE("body.signoff.put", WW_ERANGE, x->body.u.signoff.level = 0);
    ENC_CASE("body.signoff.put", WW_ERANGE, x->body.u.signoff.level = 5);
    ENC_CASE("body.signoff.put", WW_ERANGE, x->body.u.signoff.date = WW_MAX_DATE + 1);
    ENC_CASE("body.signoff.put", WW_ERANGE, x->body.u.signoff.code = txt(""));
    ENC_CASE("body.signoff.put", WW_ETOOBIG, x->body.u.signoff.note = AS(501));

    ENC_CASE("body.erase", WW_EUNKNOWN, x->body.kind = 0);
    ENC_CASE("body.erase", WW_EUNKNOWN, x->body.kind = WW_KIND_MAX_KNOWN + 1);
}

static const uint8_t ext_float[] = {0xca, 0, 0, 0, 0};
static const uint8_t ext_two[] = {0x01, 0x02};
static const uint8_t ext_deep6[] = {0x91, 0x91, 0x91, 0x91, 0x91, 0x90};
static const uint8_t ext_deep7[] = {0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x90};

static void set_ext(struct ww_ext *e, const uint8_t *p, size_t n, uint32_t count)
{
    e->raw.p = p;
    e->raw.len = n;
    e->n = count;
}

TEST(proto_encode_rejects_bad_ext)
{
    ENC_CASE("body.erase", 0, set_ext(&x->body.ext, ext_two, 2, 2));
    ENC_CASE("body.erase", WW_EINVAL, set_ext(&x->body.ext, ext_two, 2, 1));
    ENC_CASE("body.erase", WW_ETRUNC, set_ext(&x->body.ext, ext_two, 2, 3));
    ENC_CASE("body.erase", WW_EINVAL, set_ext(&x->body.ext, ext_two, 2, 0));
    ENC_CASE("body.erase", WW_ETOOBIG, set_ext(&x->body.ext, ext_two, 2, 17));
    ENC_CASE("body.erase", WW_ETYPE, set_ext(&x->body.ext, ext_float, 5, 1));
    ENC_CASE("body.erase", WW_EINVAL, set_ext(&x->body.ext, NULL, 2, 1));
    ENC_CASE("frame.ping", WW_ETYPE, set_ext(&x->frame.ext, ext_float, 5, 1));
    ENC_CASE("frame.ping", 0, set_ext(&x->frame.ext, ext_deep7, 7, 1));
    ENC_CASE("envelope.plain", 0, set_ext(&x->envelope.ext, ext_deep7, 7, 1));
    ENC_CASE("envelope.plain", WW_ETYPE, set_ext(&x->envelope.ext, ext_float, 5, 1));
    /* a header sits at depth 2, also when encoded alone */
    ENC_CASE("header.first", 0, set_ext(&x->header.ext, ext_deep6, 6, 1));
    ENC_CASE("header.first", WW_EDEPTH, set_ext(&x->header.ext, ext_deep7, 7, 1));
    ENC_CASE("envelope.plain", 0, set_ext(&x->envelope.h.ext, ext_deep6, 6, 1));
    ENC_CASE("envelope.plain", WW_EDEPTH, set_ext(&x->envelope.h.ext, ext_deep7, 7, 1));
}

TEST(proto_encode_rejects_bad_header_and_envelope)
{
    ENC_CASE("header.pair", WW_EVERSION, x->header.version = 0);
    ENC_CASE("header.pair", WW_EVERSION, x->header.version = 2);
    ENC_CASE("header.pair", WW_ERANGE, x->header.seq = 0);
    ENC_CASE("header.pair", WW_EINVAL, x->header.seq = 1);
    ENC_CASE("header.pair", 0, x->header.seq = 1; memset(x->header.prev, 0, WW_HASH_LEN));
    ENC_CASE("header.pair", WW_ERANGE, x->header.kind = 0);
    ENC_CASE("header.pair", WW_ERANGE, x->header.audience = 5);
    ENC_CASE("header.pair", WW_EINVAL, x->header.audience = WW_AUD_GROUP);
    ENC_CASE("header.pair", 0, x->header.audience = WW_AUD_SELF);
    ENC_CASE("header.pair", WW_ETOOBIG, x->header.ref_len = 17);
    ENC_CASE("header.pair", 0, x->header.ref_len = 16);

    ENC_CASE("envelope.plain", WW_EINVAL, x->envelope.erased = 1);
    ENC_CASE("envelope.plain", 0, x->envelope.erased = 1; x->envelope.body.len = 0);
    ENC_CASE("envelope.plain", WW_EINVAL, x->envelope.body.p = NULL);
    ENC_CASE("envelope.plain", WW_ETOOBIG, x->envelope.body.len = WW_MAX_BODY + 1);
    ENC_CASE("envelope.plain", WW_EVERSION, x->envelope.h.version = 3);
    ENC_CASE("envelope.erased", WW_EINVAL, x->envelope.h.subject[0] = 1;
             x->envelope.h.audience = WW_AUD_AGG);
    /* header_bytes is ignored: the header is always re-encoded */
    ENC_CASE("envelope.plain", 0, x->envelope.header_bytes = txt("garbage"));
}

TEST(proto_encode_size_limits)
{
    /* a body of exactly WW_MAX_BODY bytes, and one byte more */
    uint8_t *blob = ww_calloc(WW_MAX_EVENT + 16, 1);
    ASSERT(blob != NULL);
    struct ww_body b;
    struct ww_buf out;
    memset(&b, 0, sizeof b);
    ww_buf_init(&out, 0);
    b.kind = WW_KIND_ERASE; /* 0x92 c4 10 <16>: 19 bytes, then a bin16 ext */
    size_t bin = WW_MAX_BODY - 19 - 3;
    blob[0] = 0xc5;
    blob[1] = (uint8_t)(bin >> 8);
    blob[2] = (uint8_t)bin;
    set_ext(&b.ext, blob, 3 + bin, 1);
    ASSERT_OK(ww_body_encode(&b, &out));
    ASSERT_EQ(out.len, WW_MAX_BODY);
    struct ww_body back;
    ASSERT_OK(ww_body_decode(WW_KIND_ERASE, out.p, out.len, &back));
    ww_buf_reset(&out);
    bin++;
    blob[1] = (uint8_t)(bin >> 8);
    blob[2] = (uint8_t)bin;
    set_ext(&b.ext, blob, 3 + bin, 1);
    ASSERT_ERR(ww_body_encode(&b, &out), WW_ETOOBIG);
    ASSERT_EQ(out.len, 0);

    /* an envelope whose header ext pushes it past WW_MAX_EVENT */
    const struct vec *v = vec_find("envelope.plain");
    struct vec_value val;
    memset(&val, 0, sizeof val);
    v->build(&val, &out);
    val.envelope.body.p = blob + 8;
    val.envelope.body.len = WW_MAX_BODY;
    ASSERT_OK(ww_envelope_encode(&val.envelope, &out));
    size_t base = out.len;
    ww_buf_reset(&out);
    size_t room = WW_MAX_EVENT - base - 3; /* the ext bin16 header takes 3 */
    blob[0] = 0xc5;
    blob[1] = (uint8_t)(room >> 8);
    blob[2] = (uint8_t)room;
    uint8_t *hext = ww_malloc(3 + room + 1);
    ASSERT(hext != NULL);
    memcpy(hext, blob, 3);
    memset(hext + 3, 0, room + 1);
    set_ext(&val.envelope.h.ext, hext, 3 + room, 1);
    ASSERT_OK(ww_envelope_encode(&val.envelope, &out));
    ASSERT_EQ(out.len, WW_MAX_EVENT);
    struct ww_envelope e;
    ASSERT_OK(ww_envelope_decode(out.p, out.len, &e));
    ASSERT_EQ(e.h.ext.n, 1);
    ww_buf_reset(&out);
    hext[1] = (uint8_t)((room + 1) >> 8);
    hext[2] = (uint8_t)(room + 1);
    set_ext(&val.envelope.h.ext, hext, 3 + room + 1, 1);
    ASSERT_ERR(ww_envelope_encode(&val.envelope, &out), WW_ETOOBIG);
    ASSERT_EQ(out.len, 0);
    ww_free(hext);

    /* a batch of 256 events of 8 KiB is 2 MiB: refused at 1 MiB, without growing past it */
    struct ww_frame f;
    memset(&f, 0, sizeof f);
    f.type = WW_FRAME_BATCH;
    f.u.batch.n = WW_MAX_BATCH;
    for (uint32_t k = 0; k < WW_MAX_BATCH; k++) {
        f.u.batch.ev[k].p = blob;
        f.u.batch.ev[k].len = 8192;
    }
    ww_buf_free(&out);
    ww_buf_init(&out, 0);
    ASSERT_ERR(ww_frame_encode(&f, &out), WW_ETOOBIG);
    ASSERT_EQ(out.len, 0);
    ASSERT_LE(out.cap, WW_MAX_FRAME);
    /* the largest batch that fits: 256 events filling the frame exactly */
    size_t each = (WW_MAX_FRAME - 24) / WW_MAX_BATCH - 3;
    for (uint32_t k = 0; k < WW_MAX_BATCH; k++)
        f.u.batch.ev[k].len = each;
    ASSERT_OK(ww_frame_encode(&f, &out));
    ASSERT_LE(out.len, WW_MAX_FRAME);
    struct ww_frame back_f;
    ASSERT_OK(ww_frame_decode(out.p, out.len, &back_f));
    ASSERT_EQ(back_f.u.batch.n, WW_MAX_BATCH);
    ASSERT_EQ(back_f.u.batch.ev[255].len, each);
    ww_buf_free(&out);
    ww_free(blob);
}

TEST(proto_encode_rejects_bad_frames)
{
    ENC_CASE("frame.hs_init", WW_ERANGE, x->frame.u.hs_init.version = 0);
    ENC_CASE("frame.hs_init", 0, x->frame.u.hs_init.version = 255);
    ENC_CASE("frame.hs_resp", WW_ERANGE, x->frame.u.hs_resp.version = 0);
    ENC_CASE("frame.vv", WW_ETOOBIG, x->frame.u.vv.n = 65);
    ENC_CASE("frame.vv", 0, x->frame.u.vv.n = 0);
    ENC_CASE("frame.vv", WW_ERANGE,
             memcpy(x->frame.u.vv.e[1].author, x->frame.u.vv.e[0].author, WW_PK_LEN));
    ENC_CASE("frame.vv", WW_ERANGE, x->frame.u.vv.e[1].author[0] = 0x1f);
    ENC_CASE("frame.vv", WW_ERANGE, x->frame.u.vv.e[0].seq = 0);
    ENC_CASE("frame.ack", WW_ERANGE, x->frame.u.vv.e[0].seq = 0);
    ENC_CASE("frame.batch", WW_ERANGE, x->frame.u.batch.n = 0);
    ENC_CASE("frame.batch", WW_ETOOBIG, x->frame.u.batch.n = 257);
    ENC_CASE("frame.batch", WW_ERANGE, x->frame.u.batch.ev[0].len = 0);
    ENC_CASE("frame.batch", WW_EINVAL, x->frame.u.batch.ev[0].p = NULL);
    ENC_CASE("frame.batch", WW_ETOOBIG, x->frame.u.batch.ev[0].len = WW_MAX_EVENT + 1);
    ENC_CASE("frame.batch", WW_ERANGE, x->frame.u.batch.more = 2);
    ENC_CASE("frame.batch", 0, x->frame.u.batch.more = 1);
    ENC_CASE("frame.error", WW_ERANGE, x->frame.u.error.code = 0);
    ENC_CASE("frame.error", WW_ETOOBIG, x->frame.u.error.text = AS(201));
    ENC_CASE("frame.error", 0, x->frame.u.error.text = AS(200));
    ENC_CASE("frame.error", WW_EUTF8, x->frame.u.error.text = txt("\xc0\x80"));
    ENC_CASE("frame.error", WW_EINVAL, x->frame.u.error.text = sl(NULL, 4));
    ENC_CASE("frame.ping", WW_EUNKNOWN, x->frame.type = 0);
    ENC_CASE("frame.ping", WW_EUNKNOWN, x->frame.type = WW_FRAME_MAX_KNOWN + 1);
}
