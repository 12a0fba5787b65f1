/*
 * body.c - event bodies: one fixed-schema msgpack array per kind.
 *
 * Each body is an array of the fields of its union member in proto.h, in declaration
 * order, followed by the raw unknown trailing fields of `ext`. The kind is not in the body;
 * it comes from the header.
 *
 * Every kind is one line of WW_KINDS (kinds.h) plus one section below: its field count
 * (<name>_fields) and three functions on its own struct, check_<name>, write_<name> and
 * read_<name>. The table `codecs`, generated from WW_KINDS, is the only place that maps a
 * kind number to them; nothing here switches on the kind.
 *
 * Invariants: one check_* function per body holds every rule on its values and is run by
 * both the encoder (before writing) and the decoder (after reading), so the two directions
 * cannot drift apart; decoders write *out only on success and never allocate.
 */
#include <stddef.h>
#include <string.h>

#include "mp.h"
#include "proto.h"

#define BODY_DEPTH 1 /* a body is the top-level value of its own byte string */

/* 1 for the kinds this version can decode and encode. */
static int known_kind(uint16_t kind)
{
    return kind >= 1 && kind <= WW_KIND_MAX_KNOWN;
}

/* ---- Shared value rules and field readers ----------------------------------------------- */

/* A date is a day number no later than 9999-12-31. */
static int check_date(uint32_t date)
{
    return date <= WW_MAX_DATE ? 0 : WW_ERANGE;
}

/* A challenge code: 1..WW_MAX_CODE bytes of [A-Za-z0-9_-]. */
static int check_code(struct ww_slice s)
{
    WW_TRY(ww_mp_check_text(s, 1, WW_MAX_CODE));
    for (size_t k = 0; k < s.len; k++) {
        uint8_t c = s.p[k];
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '-';
        if (!ok)
            return WW_ERANGE;
    }
    return 0;
}

/* 1 when lo <= v <= hi. */
static int in_range(unsigned v, unsigned lo, unsigned hi)
{
    return v >= lo && v <= hi;
}

/* An optional bin: its n bytes when present, else bin 0. */
static void put_bin_opt(struct ww_mp_writer *w, const uint8_t *p, size_t n, int present)
{
    ww_mp_put_bin(w, p, present ? n : 0);
}

/* A uint that fits a byte (WW_ERANGE above 255). */
static int read_u8(struct ww_mp_reader *r, uint8_t *out)
{
    uint64_t v;
    WW_TRY(ww_mp_read_uint_max(r, UINT8_MAX, &v));
    *out = (uint8_t)v;
    return 0;
}

/* A uint that fits 32 bits. */
static int read_u32(struct ww_mp_reader *r, uint32_t *out)
{
    uint64_t v;
    WW_TRY(ww_mp_read_uint_max(r, UINT32_MAX, &v));
    *out = (uint32_t)v;
    return 0;
}

/* Reads a date; the bound is checked with the other rules, after the whole body. */
static int read_date(struct ww_mp_reader *r, uint32_t *out)
{
    return read_u32(r, out);
}

/* ---- Lists of (device, seq) ------------------------------------------------------------- */

/* At most max, strictly ascending by device (so each device once, and one encoding), each
 * seq min_seq..WW_MAX_SEQ. */
static int check_device_seqs(const struct ww_device_seq *v, uint32_t n, uint32_t max,
                             uint64_t min_seq)
{
    if (n > max)
        return WW_ETOOBIG;
    for (uint32_t i = 0; i < n; i++) {
        if (v[i].seq < min_seq || v[i].seq > WW_MAX_SEQ)
            return WW_ERANGE;
        if (i > 0 && memcmp(v[i - 1].device, v[i].device, WW_PK_LEN) >= 0)
            return WW_EINVAL;
    }
    return 0;
}

/* Each entry a 2-element array [device, seq]. */
static void write_device_seqs(struct ww_mp_writer *w, const struct ww_device_seq *v, uint32_t n)
{
    ww_mp_put_array(w, n);
    for (uint32_t i = 0; i < n; i++) {
        ww_mp_put_array(w, 2);
        ww_mp_put_bin(w, v[i].device, WW_PK_LEN);
        ww_mp_put_uint(w, v[i].seq);
    }
}

static int read_device_seqs(struct ww_mp_reader *r, struct ww_device_seq *v, uint32_t max,
                            uint32_t *n_out)
{
    uint32_t n;
    WW_TRY(ww_mp_read_array(r, max, &n));
    *n_out = n;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t k;
        WW_TRY(ww_mp_read_array(r, 2, &k));
        if (k != 2)
            return WW_ETYPE;
        WW_TRY(ww_mp_read_bin_exact(r, WW_PK_LEN, v[i].device));
        WW_TRY(ww_mp_read_uint_max(r, WW_MAX_SEQ, &v[i].seq));
    }
    return 0;
}

/* ---- Lists of cut-offs (device, seq, hash) ------------------------------------------------ */

static const uint8_t zero_hash[WW_HASH_LEN];

/* A cut-off at seq 0 keeps nothing and names no event: its hash is zero (one encoding). */
static int check_pin(uint64_t seq, const uint8_t hash[WW_HASH_LEN])
{
    if (seq > WW_MAX_SEQ)
        return WW_ERANGE;
    return seq == 0 && memcmp(hash, zero_hash, WW_HASH_LEN) != 0 ? WW_EINVAL : 0;
}

/* At most max, strictly ascending by device, each a valid cut-off. */
static int check_pins(const struct ww_device_pin *v, uint32_t n, uint32_t max)
{
    if (n > max)
        return WW_ETOOBIG;
    for (uint32_t i = 0; i < n; i++) {
        WW_TRY(check_pin(v[i].seq, v[i].hash));
        if (i > 0 && memcmp(v[i - 1].device, v[i].device, WW_PK_LEN) >= 0)
            return WW_EINVAL;
    }
    return 0;
}

/* Each entry a 3-element array [device, seq, hash]. */
static void write_pins(struct ww_mp_writer *w, const struct ww_device_pin *v, uint32_t n)
{
    ww_mp_put_array(w, n);
    for (uint32_t i = 0; i < n; i++) {
        ww_mp_put_array(w, 3);
        ww_mp_put_bin(w, v[i].device, WW_PK_LEN);
        ww_mp_put_uint(w, v[i].seq);
        ww_mp_put_bin(w, v[i].hash, WW_HASH_LEN);
    }
}

static int read_pins(struct ww_mp_reader *r, struct ww_device_pin *v, uint32_t max, uint32_t *n_out)
{
    uint32_t n;
    WW_TRY(ww_mp_read_array(r, max, &n));
    *n_out = n;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t k;
        WW_TRY(ww_mp_read_array(r, 3, &k));
        if (k != 3)
            return WW_ETYPE;
        WW_TRY(ww_mp_read_bin_exact(r, WW_PK_LEN, v[i].device));
        WW_TRY(ww_mp_read_uint_max(r, WW_MAX_SEQ, &v[i].seq));
        WW_TRY(ww_mp_read_bin_exact(r, WW_HASH_LEN, v[i].hash));
    }
    return 0;
}

/* ---- member.remove (3): a member id and the cut-offs of its devices ---------------------- */

enum { member_remove_fields = 2 };

static int check_member_remove(const struct ww_body_member_remove *b)
{
    return check_pins(b->cutoffs, b->n_cutoffs, WW_MAX_CUTOFFS);
}

static void write_member_remove(struct ww_mp_writer *w, const struct ww_body_member_remove *b)
{
    ww_mp_put_bin(w, b->member, WW_MEMBER_ID_LEN);
    write_pins(w, b->cutoffs, b->n_cutoffs);
}

static int read_member_remove(struct ww_mp_reader *r, struct ww_body_member_remove *b)
{
    WW_TRY(ww_mp_read_bin_exact(r, WW_MEMBER_ID_LEN, b->member));
    return read_pins(r, b->cutoffs, WW_MAX_CUTOFFS, &b->n_cutoffs);
}

/* ---- erase (16): one member id ----------------------------------------------------------- */

enum { erase_fields = 1 };

/* Nothing to check: the member id is a fixed-size bin. */
static int check_erase(const struct ww_body_member_ref *b)
{
    (void)b;
    return 0;
}

static void write_erase(struct ww_mp_writer *w, const struct ww_body_member_ref *b)
{
    ww_mp_put_bin(w, b->member, WW_MEMBER_ID_LEN);
}

static int read_erase(struct ww_mp_reader *r, struct ww_body_member_ref *b)
{
    return ww_mp_read_bin_exact(r, WW_MEMBER_ID_LEN, b->member);
}

/* ---- key.epoch (5) and key.share (6): an epoch and its key wraps -------------------------- */

enum { key_epoch_fields = 2, key_share_fields = 2 };

/* Wrap subjects follow the header's rule: 16 bytes for PAIR and SELF, absent for GROUP. */
static int check_keys(const struct ww_body_keys *b)
{
    if (b->n_wraps > WW_MAX_WRAPS)
        return WW_ETOOBIG;
    if (b->n_wraps < 1)
        return WW_ERANGE;
    for (uint32_t k = 0; k < b->n_wraps; k++) {
        const struct ww_wrap *wr = &b->wraps[k];
        if (!in_range(wr->audience, WW_AUD_GROUP, WW_AUD_SELF))
            return WW_ERANGE;
        if (wr->audience == WW_AUD_GROUP && !ww_mp_all_zero(wr->subject, sizeof wr->subject))
            return WW_EINVAL;
    }
    return 0;
}

/* The epoch and the wraps, each a 4-element array. */
static void write_keys(struct ww_mp_writer *w, const struct ww_body_keys *b)
{
    ww_mp_put_uint(w, b->epoch);
    ww_mp_put_array(w, b->n_wraps);
    for (uint32_t k = 0; k < b->n_wraps; k++) {
        const struct ww_wrap *wr = &b->wraps[k];
        ww_mp_put_array(w, 4);
        ww_mp_put_uint(w, wr->audience);
        put_bin_opt(w, wr->subject, sizeof wr->subject, wr->audience != WW_AUD_GROUP);
        ww_mp_put_bin(w, wr->device, sizeof wr->device);
        ww_mp_put_bin(w, wr->sealed, sizeof wr->sealed);
    }
}

/* One key wrap: exactly 4 elements; the subject is present exactly for PAIR and SELF. */
static int read_wrap(struct ww_mp_reader *r, struct ww_wrap *wr)
{
    uint32_t n;
    WW_TRY(ww_mp_read_array(r, 4, &n));
    if (n != 4)
        return WW_ETYPE;
    WW_TRY(read_u8(r, &wr->audience));
    if (!in_range(wr->audience, WW_AUD_GROUP, WW_AUD_SELF))
        return WW_ERANGE;
    size_t subject_len = wr->audience == WW_AUD_GROUP ? 0 : sizeof wr->subject;
    WW_TRY(ww_mp_read_bin_exact(r, subject_len, wr->subject));
    WW_TRY(ww_mp_read_bin_exact(r, sizeof wr->device, wr->device));
    return ww_mp_read_bin_exact(r, sizeof wr->sealed, wr->sealed);
}

static int read_keys(struct ww_mp_reader *r, struct ww_body_keys *b)
{
    uint32_t n;
    WW_TRY(read_u32(r, &b->epoch));
    WW_TRY(ww_mp_read_array(r, WW_MAX_WRAPS, &n));
    if (n < 1)
        return WW_ERANGE;
    b->n_wraps = n;
    for (uint32_t i = 0; i < n; i++)
        WW_TRY(read_wrap(r, &b->wraps[i]));
    return 0;
}

/* Both kinds use the same struct and the same functions. */
#define check_key_epoch check_keys
#define write_key_epoch write_keys
#define read_key_epoch  read_keys
#define check_key_share check_keys
#define write_key_share write_keys
#define read_key_share  read_keys

/* ---- group.create (1) ------------------------------------------------------------------- */

enum { group_create_fields = 7 };

/* Texts within their limits; agg_pk and recovery all zero unless present. The coach's name
 * is in its member.profile, like every member's. */
static int check_group_create(const struct ww_body_group_create *b)
{
    WW_TRY(ww_mp_check_text(b->name, 0, WW_MAX_NAME));
    WW_TRY(ww_mp_check_text(b->tz, 0, WW_MAX_TZ));
    WW_TRY(check_date(b->start_date));
    if (!b->has_agg && !ww_mp_all_zero(b->agg_pk, sizeof b->agg_pk))
        return WW_EINVAL;
    if (!b->has_recovery && !ww_mp_all_zero(b->recovery, sizeof b->recovery))
        return WW_EINVAL;
    return 0;
}

static void write_group_create(struct ww_mp_writer *w, const struct ww_body_group_create *g)
{
    ww_mp_put_bin(w, g->salt, sizeof g->salt);
    ww_mp_put_str(w, g->name);
    ww_mp_put_str(w, g->tz);
    ww_mp_put_uint(w, g->start_date);
    ww_mp_put_bin(w, g->coach, sizeof g->coach);
    put_bin_opt(w, g->agg_pk, sizeof g->agg_pk, g->has_agg);
    put_bin_opt(w, g->recovery, sizeof g->recovery, g->has_recovery);
}

static int read_group_create(struct ww_mp_reader *r, struct ww_body_group_create *g)
{
    WW_TRY(ww_mp_read_bin_exact(r, sizeof g->salt, g->salt));
    WW_TRY(ww_mp_read_str(r, WW_MAX_NAME, &g->name));
    WW_TRY(ww_mp_read_str(r, WW_MAX_TZ, &g->tz));
    WW_TRY(read_date(r, &g->start_date));
    WW_TRY(ww_mp_read_bin_exact(r, sizeof g->coach, g->coach));
    WW_TRY(ww_mp_read_bin_opt(r, sizeof g->agg_pk, g->agg_pk, &g->has_agg));
    return ww_mp_read_bin_opt(r, sizeof g->recovery, g->recovery, &g->has_recovery);
}

/* ---- member.add (2) --------------------------------------------------------------------- */

/* Three fields, then the optional `invite` (PROTOCOL.md 6.2): written when present, or as
 * bin 0 when unknown fields follow it, so that a body has one encoding either way. */
enum { member_add_fields = 4, member_add_min = 3 };

/* A role; 1..WW_MAX_DEVICES devices. */
static int check_member_add(const struct ww_body_member_add *b)
{
    if (!in_range(b->role, WW_ROLE_COACH, WW_ROLE_SENIOR))
        return WW_ERANGE;
    if (b->n_devices > WW_MAX_DEVICES)
        return WW_ETOOBIG;
    if (b->n_devices < 1)
        return WW_ERANGE;
    if (!b->has_invite && !ww_mp_all_zero(b->invite, sizeof b->invite))
        return WW_EINVAL;
    return 0;
}

static void write_member_add(struct ww_mp_writer *w, const struct ww_body_member_add *m)
{
    ww_mp_put_bin(w, m->member, sizeof m->member);
    ww_mp_put_uint(w, m->role);
    ww_mp_put_array(w, m->n_devices);
    for (uint32_t k = 0; k < m->n_devices; k++)
        ww_mp_put_bin(w, m->devices[k], WW_PK_LEN);
}

static int read_member_add(struct ww_mp_reader *r, struct ww_body_member_add *m)
{
    uint32_t n;
    WW_TRY(ww_mp_read_bin_exact(r, sizeof m->member, m->member));
    WW_TRY(read_u8(r, &m->role));
    WW_TRY(ww_mp_read_array(r, WW_MAX_DEVICES, &n));
    if (n < 1)
        return WW_ERANGE;
    m->n_devices = n;
    for (uint32_t k = 0; k < n; k++)
        WW_TRY(ww_mp_read_bin_exact(r, WW_PK_LEN, m->devices[k]));
    return 0;
}

/* ---- member.profile (26) ---------------------------------------------------------------- */

enum { member_profile_fields = 4 };

/* Year and track in range, the alias within its limit; which year a role needs is the
 * group's rule (it knows the member's role), not the codec's. */
static int check_member_profile(const struct ww_body_member_profile *b)
{
    if (b->year > 4 || b->track > WW_TRACK_BBL)
        return WW_ERANGE;
    return ww_mp_check_text(b->alias, 0, WW_MAX_NAME);
}

static void write_member_profile(struct ww_mp_writer *w, const struct ww_body_member_profile *p)
{
    ww_mp_put_bin(w, p->member, sizeof p->member);
    ww_mp_put_str(w, p->alias);
    ww_mp_put_uint(w, p->year);
    ww_mp_put_uint(w, p->track);
}

static int read_member_profile(struct ww_mp_reader *r, struct ww_body_member_profile *p)
{
    WW_TRY(ww_mp_read_bin_exact(r, sizeof p->member, p->member));
    WW_TRY(ww_mp_read_str(r, WW_MAX_NAME, &p->alias));
    WW_TRY(read_u8(r, &p->year));
    return read_u8(r, &p->track);
}

/* ---- device.add (4) --------------------------------------------------------------------- */

enum { device_add_fields = 2 };

/* Nothing to check: both fields are fixed-size bins. */
static int check_device_add(const struct ww_body_device_add *b)
{
    (void)b;
    return 0;
}

static void write_device_add(struct ww_mp_writer *w, const struct ww_body_device_add *b)
{
    ww_mp_put_bin(w, b->member, WW_MEMBER_ID_LEN);
    ww_mp_put_bin(w, b->device, WW_PK_LEN);
}

static int read_device_add(struct ww_mp_reader *r, struct ww_body_device_add *b)
{
    WW_TRY(ww_mp_read_bin_exact(r, WW_MEMBER_ID_LEN, b->member));
    return ww_mp_read_bin_exact(r, WW_PK_LEN, b->device);
}

/* ---- challenge.define (7) --------------------------------------------------------------- */

enum { challenge_define_fields = 8 };

/* A valid code, texts within limits, enums in range, weeks 1..52 in order. */
static int check_challenge_define(const struct ww_body_challenge_define *b)
{
    WW_TRY(check_code(b->code));
    WW_TRY(ww_mp_check_text(b->title, 0, WW_MAX_TITLE));
    WW_TRY(ww_mp_check_text(b->description, 0, WW_MAX_DESC));
    WW_TRY(ww_mp_check_text(b->assignment_ref, 0, WW_MAX_REF_TEXT));
    if (!in_range(b->canmeds, WW_CANMEDS_ZV, WW_CANMEDS_PK) || !in_range(b->week_from, 1, 52) ||
        !in_range(b->week_to, b->week_from, 52) || b->signoff_role > WW_SIGNOFF_STUDENTCOACH)
        return WW_ERANGE;
    return 0;
}

static void write_challenge_define(struct ww_mp_writer *w, const struct ww_body_challenge_define *c)
{
    ww_mp_put_str(w, c->code);
    ww_mp_put_str(w, c->title);
    ww_mp_put_str(w, c->description);
    ww_mp_put_uint(w, c->canmeds);
    ww_mp_put_uint(w, c->week_from);
    ww_mp_put_uint(w, c->week_to);
    ww_mp_put_str(w, c->assignment_ref);
    ww_mp_put_uint(w, c->signoff_role);
}

static int read_challenge_define(struct ww_mp_reader *r, struct ww_body_challenge_define *c)
{
    WW_TRY(ww_mp_read_str(r, WW_MAX_CODE, &c->code));
    WW_TRY(ww_mp_read_str(r, WW_MAX_TITLE, &c->title));
    WW_TRY(ww_mp_read_str(r, WW_MAX_DESC, &c->description));
    WW_TRY(read_u8(r, &c->canmeds));
    WW_TRY(read_u8(r, &c->week_from));
    WW_TRY(read_u8(r, &c->week_to));
    WW_TRY(ww_mp_read_str(r, WW_MAX_REF_TEXT, &c->assignment_ref));
    return read_u8(r, &c->signoff_role);
}

/* ---- challenge.schedule (8) ------------------------------------------------------------- */

enum { challenge_schedule_fields = 2 };

/* A valid date and code. */
static int check_challenge_schedule(const struct ww_body_challenge_schedule *b)
{
    WW_TRY(check_date(b->date));
    return check_code(b->code);
}

static void write_challenge_schedule(struct ww_mp_writer *w,
                                     const struct ww_body_challenge_schedule *b)
{
    ww_mp_put_uint(w, b->date);
    ww_mp_put_str(w, b->code);
}

static int read_challenge_schedule(struct ww_mp_reader *r, struct ww_body_challenge_schedule *b)
{
    WW_TRY(read_date(r, &b->date));
    return ww_mp_read_str(r, WW_MAX_CODE, &b->code);
}

/* ---- day.off (9) ------------------------------------------------------------------------ */

enum { day_off_fields = 2 };

/* A valid date; off is 0 or 1. */
static int check_day_off(const struct ww_body_day_off *b)
{
    WW_TRY(check_date(b->date));
    return b->off <= 1 ? 0 : WW_ERANGE;
}

static void write_day_off(struct ww_mp_writer *w, const struct ww_body_day_off *b)
{
    ww_mp_put_uint(w, b->date);
    ww_mp_put_uint(w, b->off);
}

static int read_day_off(struct ww_mp_reader *r, struct ww_body_day_off *b)
{
    WW_TRY(read_date(r, &b->date));
    return read_u8(r, &b->off);
}

/* ---- reflection.put (10) ---------------------------------------------------------------- */

enum { reflection_put_fields = 12 };

/* A valid date and code, enums in range, no obstacles when done, STARR texts in limits. */
static int check_reflection_put(const struct ww_body_reflection *b)
{
    WW_TRY(check_date(b->date));
    WW_TRY(check_code(b->code));
    if (!in_range(b->status, WW_STATUS_DONE, WW_STATUS_NOT) || (b->obstacles & ~WW_OBST_ALL) ||
        (b->status == WW_STATUS_DONE && b->obstacles) ||
        !in_range(b->share, WW_SHARE_SELF, WW_SHARE_COACH) || b->draft > 1)
        return WW_ERANGE;
    WW_TRY(ww_mp_check_text(b->obstacle_note, 0, WW_MAX_OBSTACLE));
    WW_TRY(ww_mp_check_text(b->situatie, 0, WW_MAX_STARR_S));
    WW_TRY(ww_mp_check_text(b->taak, 0, WW_MAX_STARR_T));
    WW_TRY(ww_mp_check_text(b->actie, 0, WW_MAX_STARR_A));
    WW_TRY(ww_mp_check_text(b->resultaat, 0, WW_MAX_STARR_R));
    return ww_mp_check_text(b->reflectie, 0, WW_MAX_STARR_R2);
}

static void write_reflection_put(struct ww_mp_writer *w, const struct ww_body_reflection *x)
{
    ww_mp_put_uint(w, x->date);
    ww_mp_put_str(w, x->code);
    ww_mp_put_uint(w, x->status);
    ww_mp_put_uint(w, x->obstacles);
    ww_mp_put_str(w, x->obstacle_note);
    ww_mp_put_str(w, x->situatie);
    ww_mp_put_str(w, x->taak);
    ww_mp_put_str(w, x->actie);
    ww_mp_put_str(w, x->resultaat);
    ww_mp_put_str(w, x->reflectie);
    ww_mp_put_uint(w, x->share);
    ww_mp_put_uint(w, x->draft);
}

static int read_reflection_put(struct ww_mp_reader *r, struct ww_body_reflection *x)
{
    WW_TRY(read_date(r, &x->date));
    WW_TRY(ww_mp_read_str(r, WW_MAX_CODE, &x->code));
    WW_TRY(read_u8(r, &x->status));
    WW_TRY(read_u8(r, &x->obstacles));
    WW_TRY(ww_mp_read_str(r, WW_MAX_OBSTACLE, &x->obstacle_note));
    WW_TRY(ww_mp_read_str(r, WW_MAX_STARR_S, &x->situatie));
    WW_TRY(ww_mp_read_str(r, WW_MAX_STARR_T, &x->taak));
    WW_TRY(ww_mp_read_str(r, WW_MAX_STARR_A, &x->actie));
    WW_TRY(ww_mp_read_str(r, WW_MAX_STARR_R, &x->resultaat));
    WW_TRY(ww_mp_read_str(r, WW_MAX_STARR_R2, &x->reflectie));
    WW_TRY(read_u8(r, &x->share));
    return read_u8(r, &x->draft);
}

/* ---- climate.put (11) ------------------------------------------------------------------- */

enum { climate_put_fields = 2 };

/* A valid date; 1..WW_MAX_ANSWERS answers, items strictly ascending from 1, values 0..5. */
static int check_climate_put(const struct ww_body_climate *b)
{
    WW_TRY(check_date(b->date));
    if (b->n_answers > WW_MAX_ANSWERS)
        return WW_ETOOBIG;
    if (b->n_answers < 1)
        return WW_ERANGE;
    for (uint32_t k = 0; k < b->n_answers; k++) {
        const struct ww_answer *a = &b->answers[k];
        if (a->item < 1 || a->value > 5)
            return WW_ERANGE;
        if (k > 0 && a->item <= b->answers[k - 1].item)
            return WW_ERANGE;
    }
    return 0;
}

static void write_climate_put(struct ww_mp_writer *w, const struct ww_body_climate *c)
{
    ww_mp_put_uint(w, c->date);
    ww_mp_put_array(w, c->n_answers);
    for (uint32_t k = 0; k < c->n_answers; k++) {
        ww_mp_put_array(w, 2);
        ww_mp_put_uint(w, c->answers[k].item);
        ww_mp_put_uint(w, c->answers[k].value);
    }
}

/* One climate answer: exactly [item, value]; their bounds are checked with the body. */
static int read_answer(struct ww_mp_reader *r, struct ww_answer *a)
{
    uint32_t n;
    WW_TRY(ww_mp_read_array(r, 2, &n));
    if (n != 2)
        return WW_ETYPE;
    WW_TRY(read_u8(r, &a->item));
    return read_u8(r, &a->value);
}

static int read_climate_put(struct ww_mp_reader *r, struct ww_body_climate *c)
{
    uint32_t n;
    WW_TRY(read_date(r, &c->date));
    WW_TRY(ww_mp_read_array(r, WW_MAX_ANSWERS, &n));
    if (n < 1)
        return WW_ERANGE;
    c->n_answers = n;
    for (uint32_t k = 0; k < n; k++)
        WW_TRY(read_answer(r, &c->answers[k]));
    return 0;
}

/* ---- reaction.put (12) ------------------------------------------------------------------ */

enum { reaction_put_fields = 2 };

/* Non-empty text within its limit. */
static int check_reaction_put(const struct ww_body_reaction *b)
{
    return ww_mp_check_text(b->text, 1, WW_MAX_REACTION);
}

static void write_reaction_put(struct ww_mp_writer *w, const struct ww_body_reaction *b)
{
    ww_mp_put_bin(w, b->target, WW_HASH_LEN);
    ww_mp_put_str(w, b->text);
}

static int read_reaction_put(struct ww_mp_reader *r, struct ww_body_reaction *b)
{
    WW_TRY(ww_mp_read_bin_exact(r, WW_HASH_LEN, b->target));
    return ww_mp_read_str(r, WW_MAX_REACTION, &b->text);
}

/* ---- signal.raise (13) ------------------------------------------------------------------ */

enum { signal_raise_fields = 3 };

/* Category in range, non-empty text, concerns all zero unless present. */
static int check_signal_raise(const struct ww_body_signal_raise *b)
{
    if (!in_range(b->category, WW_SIGCAT_WORKLOAD, WW_SIGCAT_MAX))
        return WW_ERANGE;
    WW_TRY(ww_mp_check_text(b->text, 1, WW_MAX_SIGNAL));
    if (!b->has_concerns && !ww_mp_all_zero(b->concerns, sizeof b->concerns))
        return WW_EINVAL;
    return 0;
}

static void write_signal_raise(struct ww_mp_writer *w, const struct ww_body_signal_raise *s)
{
    ww_mp_put_uint(w, s->category);
    ww_mp_put_str(w, s->text);
    put_bin_opt(w, s->concerns, sizeof s->concerns, s->has_concerns);
}

static int read_signal_raise(struct ww_mp_reader *r, struct ww_body_signal_raise *s)
{
    WW_TRY(read_u8(r, &s->category));
    WW_TRY(ww_mp_read_str(r, WW_MAX_SIGNAL, &s->text));
    return ww_mp_read_bin_opt(r, sizeof s->concerns, s->concerns, &s->has_concerns);
}

/* ---- signal.resolve (14) ---------------------------------------------------------------- */

enum { signal_resolve_fields = 3 };

/* State in range, note within its limit. */
static int check_signal_resolve(const struct ww_body_signal_resolve *b)
{
    if (!in_range(b->state, WW_SIGNAL_DISCUSSED, WW_SIGNAL_RESOLVED))
        return WW_ERANGE;
    return ww_mp_check_text(b->note, 0, WW_MAX_NOTE);
}

static void write_signal_resolve(struct ww_mp_writer *w, const struct ww_body_signal_resolve *b)
{
    ww_mp_put_bin(w, b->signal, WW_HASH_LEN);
    ww_mp_put_uint(w, b->state);
    ww_mp_put_str(w, b->note);
}

static int read_signal_resolve(struct ww_mp_reader *r, struct ww_body_signal_resolve *b)
{
    WW_TRY(ww_mp_read_bin_exact(r, WW_HASH_LEN, b->signal));
    WW_TRY(read_u8(r, &b->state));
    return ww_mp_read_str(r, WW_MAX_NOTE, &b->note);
}

/* ---- signoff.put (15) ------------------------------------------------------------------- */

enum { signoff_put_fields = 5 };

/* A valid code and date, level in range, note within its limit. */
static int check_signoff_put(const struct ww_body_signoff *b)
{
    WW_TRY(check_code(b->code));
    WW_TRY(check_date(b->date));
    if (!in_range(b->level, WW_LEVEL_NEVER, WW_LEVEL_GOOD))
        return WW_ERANGE;
    return ww_mp_check_text(b->note, 0, WW_MAX_NOTE);
}

static void write_signoff_put(struct ww_mp_writer *w, const struct ww_body_signoff *s)
{
    ww_mp_put_bin(w, s->member, sizeof s->member);
    ww_mp_put_str(w, s->code);
    ww_mp_put_uint(w, s->date);
    ww_mp_put_uint(w, s->level);
    ww_mp_put_str(w, s->note);
}

static int read_signoff_put(struct ww_mp_reader *r, struct ww_body_signoff *s)
{
    WW_TRY(ww_mp_read_bin_exact(r, sizeof s->member, s->member));
    WW_TRY(ww_mp_read_str(r, WW_MAX_CODE, &s->code));
    WW_TRY(read_date(r, &s->date));
    WW_TRY(read_u8(r, &s->level));
    return ww_mp_read_str(r, WW_MAX_NOTE, &s->note);
}

/* ---- reaction.del (17) ------------------------------------------------------------------ */

enum { reaction_del_fields = 1 };

/* Nothing to check: the target is a fixed-size bin. Whether it names a reaction.put of the
 * same author is a rule of application (core), which sees the other events. */
static int check_reaction_del(const struct ww_body_reaction_del *b)
{
    (void)b;
    return 0;
}

static void write_reaction_del(struct ww_mp_writer *w, const struct ww_body_reaction_del *b)
{
    ww_mp_put_bin(w, b->target, WW_HASH_LEN);
}

static int read_reaction_del(struct ww_mp_reader *r, struct ww_body_reaction_del *b)
{
    return ww_mp_read_bin_exact(r, WW_HASH_LEN, b->target);
}

/* ---- group.hub (18) --------------------------------------------------------------------- */

enum { group_hub_fields = 2 };

/* The address is empty or "host:port" in the characters of a host name or an IP literal,
 * so a device can dial it as it is and a log can print it as it is. */
static int check_group_hub(const struct ww_body_group_hub *b)
{
    WW_TRY(ww_mp_check_text(b->addr, 0, WW_MAX_ADDR));
    for (size_t i = 0; i < b->addr.len; i++) {
        uint8_t c = b->addr.p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == ':' || c == '[' || c == ']'))
            return WW_EINVAL;
    }
    return 0;
}

static void write_group_hub(struct ww_mp_writer *w, const struct ww_body_group_hub *b)
{
    ww_mp_put_bin(w, b->hub, WW_PK_LEN);
    ww_mp_put_str(w, b->addr);
}

static int read_group_hub(struct ww_mp_reader *r, struct ww_body_group_hub *b)
{
    WW_TRY(ww_mp_read_bin_exact(r, WW_PK_LEN, b->hub));
    return ww_mp_read_str(r, WW_MAX_ADDR, &b->addr);
}

/* ---- invite.create (19) and invite.revoke (20) -------------------------------------------- */

enum { invite_create_fields = 3, invite_revoke_fields = 1 };

/* An invite admits a student or the senior, never a coach. */
static int check_invite_create(const struct ww_body_invite_create *b)
{
    if (b->role != WW_ROLE_STUDENT && b->role != WW_ROLE_SENIOR)
        return WW_ERANGE;
    return b->expires_ms < (UINT64_C(1) << 47) ? 0 : WW_ERANGE;
}

static void write_invite_create(struct ww_mp_writer *w, const struct ww_body_invite_create *b)
{
    ww_mp_put_bin(w, b->invite, WW_PK_LEN);
    ww_mp_put_uint(w, b->role);
    ww_mp_put_uint(w, b->expires_ms);
}

static int read_invite_create(struct ww_mp_reader *r, struct ww_body_invite_create *b)
{
    WW_TRY(ww_mp_read_bin_exact(r, WW_PK_LEN, b->invite));
    WW_TRY(read_u8(r, &b->role));
    return ww_mp_read_uint_max(r, (UINT64_C(1) << 47) - 1, &b->expires_ms);
}

/* Nothing to check: the key is a fixed-size bin. */
static int check_invite_revoke(const struct ww_body_invite_revoke *b)
{
    (void)b;
    return 0;
}

static void write_invite_revoke(struct ww_mp_writer *w, const struct ww_body_invite_revoke *b)
{
    ww_mp_put_bin(w, b->invite, WW_PK_LEN);
}

static int read_invite_revoke(struct ww_mp_reader *r, struct ww_body_invite_revoke *b)
{
    return ww_mp_read_bin_exact(r, WW_PK_LEN, b->invite);
}

/* ---- sync.report (21) ------------------------------------------------------------------- */

enum { sync_report_fields = 3 };

#define MAX_MS ((UINT64_C(1) << 47) - 1)

/* Times below 2^47 ms; logs strictly ascending by author, each seq 1..2^40-1, so one
 * report has one encoding. */
static int check_sync_report(const struct ww_body_sync_report *b)
{
    if (b->hub_at > MAX_MS || b->peer_at > MAX_MS)
        return WW_ERANGE;
    return check_device_seqs(b->held, b->n_held, WW_MAX_HELD, 1);
}

static void write_sync_report(struct ww_mp_writer *w, const struct ww_body_sync_report *b)
{
    ww_mp_put_uint(w, b->hub_at);
    ww_mp_put_uint(w, b->peer_at);
    write_device_seqs(w, b->held, b->n_held);
}

static int read_sync_report(struct ww_mp_reader *r, struct ww_body_sync_report *b)
{
    WW_TRY(ww_mp_read_uint_max(r, MAX_MS, &b->hub_at));
    WW_TRY(ww_mp_read_uint_max(r, MAX_MS, &b->peer_at));
    return read_device_seqs(r, b->held, WW_MAX_HELD, &b->n_held);
}

/* ---- climate.share (22) ----------------------------------------------------------------- */

enum { climate_share_fields = 2 };

/* The message itself is checked by the receiver's core (it decodes it and compares its
 * group and date with the header's); here only its size. */
static int check_climate_share(const struct ww_body_climate_share *b)
{
    if (b->date > WW_MAX_DATE)
        return WW_ERANGE;
    return b->msg.len >= 1 && b->msg.len <= WW_MAX_SHARE_MSG ? 0 : WW_ERANGE;
}

static void write_climate_share(struct ww_mp_writer *w, const struct ww_body_climate_share *b)
{
    ww_mp_put_uint(w, b->date);
    ww_mp_put_bin(w, b->msg.p, b->msg.len);
}

static int read_climate_share(struct ww_mp_reader *r, struct ww_body_climate_share *b)
{
    WW_TRY(read_date(r, &b->date));
    return ww_mp_read_bin(r, WW_MAX_SHARE_MSG, &b->msg);
}

/* ---- group.climate (23) ----------------------------------------------------------------- */

enum { group_climate_fields = 4 };

/* Two different aggregators: with one key for both, one party would hold both shares. */
static int check_group_climate(const struct ww_body_group_climate *b)
{
    if (memcmp(b->agg_a, b->agg_b, WW_PK_LEN) == 0)
        return WW_EINVAL;
    WW_TRY(ww_mp_check_text(b->team, 0, WW_MAX_NAME));
    return ww_mp_check_text(b->location, 0, WW_MAX_NAME);
}

static void write_group_climate(struct ww_mp_writer *w, const struct ww_body_group_climate *b)
{
    ww_mp_put_bin(w, b->agg_a, WW_PK_LEN);
    ww_mp_put_bin(w, b->agg_b, WW_PK_LEN);
    ww_mp_put_str(w, b->team);
    ww_mp_put_str(w, b->location);
}

static int read_group_climate(struct ww_mp_reader *r, struct ww_body_group_climate *b)
{
    WW_TRY(ww_mp_read_bin_exact(r, WW_PK_LEN, b->agg_a));
    WW_TRY(ww_mp_read_bin_exact(r, WW_PK_LEN, b->agg_b));
    WW_TRY(ww_mp_read_str(r, WW_MAX_NAME, &b->team));
    return ww_mp_read_str(r, WW_MAX_NAME, &b->location);
}

/* ---- device.invite (24) and device.join (25) ------------------------------------------- */

enum { device_invite_fields = 3, device_join_fields = 4 };

static int check_device_invite(const struct ww_body_device_invite *b)
{
    return b->expires_ms < (UINT64_C(1) << 47) ? 0 : WW_ERANGE;
}

static void write_device_invite(struct ww_mp_writer *w, const struct ww_body_device_invite *b)
{
    ww_mp_put_bin(w, b->invite, WW_PK_LEN);
    ww_mp_put_uint(w, b->expires_ms);
    ww_mp_put_bin(w, b->proof, WW_SIG_LEN);
}

static int read_device_invite(struct ww_mp_reader *r, struct ww_body_device_invite *b)
{
    WW_TRY(ww_mp_read_bin_exact(r, WW_PK_LEN, b->invite));
    WW_TRY(ww_mp_read_uint_max(r, (UINT64_C(1) << 47) - 1, &b->expires_ms));
    return ww_mp_read_bin_exact(r, WW_SIG_LEN, b->proof);
}

/* Nothing to check: every field is a fixed-size bin. */
static int check_device_join(const struct ww_body_device_join *b)
{
    (void)b;
    return 0;
}

static void write_device_join(struct ww_mp_writer *w, const struct ww_body_device_join *b)
{
    ww_mp_put_bin(w, b->member, WW_MEMBER_ID_LEN);
    ww_mp_put_bin(w, b->device, WW_PK_LEN);
    ww_mp_put_bin(w, b->invite, WW_PK_LEN);
    ww_mp_put_bin(w, b->sig, WW_SIG_LEN);
}

static int read_device_join(struct ww_mp_reader *r, struct ww_body_device_join *b)
{
    WW_TRY(ww_mp_read_bin_exact(r, WW_MEMBER_ID_LEN, b->member));
    WW_TRY(ww_mp_read_bin_exact(r, WW_PK_LEN, b->device));
    WW_TRY(ww_mp_read_bin_exact(r, WW_PK_LEN, b->invite));
    return ww_mp_read_bin_exact(r, WW_SIG_LEN, b->sig);
}

/* ---- owner.handover (26) ---------------------------------------------------------------- */

enum { owner_handover_fields = 1 };

/* Nothing to check: the device is a fixed-size bin. */
static int check_owner_handover(const struct ww_body_owner_handover *b)
{
    (void)b;
    return 0;
}

static void write_owner_handover(struct ww_mp_writer *w, const struct ww_body_owner_handover *b)
{
    ww_mp_put_bin(w, b->device, WW_PK_LEN);
}

static int read_owner_handover(struct ww_mp_reader *r, struct ww_body_owner_handover *b)
{
    return ww_mp_read_bin_exact(r, WW_PK_LEN, b->device);
}

/* ---- recovery.key (27) and owner.recover (28) ------------------------------------------- */

enum { recovery_key_fields = 1, owner_recover_fields = 5 };

/* Nothing to check: the key is a fixed-size bin. */
static int check_recovery_key(const struct ww_body_recovery_key *b)
{
    (void)b;
    return 0;
}

static void write_recovery_key(struct ww_mp_writer *w, const struct ww_body_recovery_key *b)
{
    ww_mp_put_bin(w, b->pk, WW_PK_LEN);
}

static int read_recovery_key(struct ww_mp_reader *r, struct ww_body_recovery_key *b)
{
    return ww_mp_read_bin_exact(r, WW_PK_LEN, b->pk);
}

static int check_owner_recover(const struct ww_body_owner_recover *b)
{
    WW_TRY(check_pin(b->cutoff, b->tip));
    return check_pins(b->others, b->n_others, WW_MAX_CUTOFFS);
}

static void write_owner_recover(struct ww_mp_writer *w, const struct ww_body_owner_recover *b)
{
    ww_mp_put_bin(w, b->from, WW_PK_LEN);
    ww_mp_put_uint(w, b->cutoff);
    ww_mp_put_bin(w, b->tip, WW_HASH_LEN);
    write_pins(w, b->others, b->n_others);
    ww_mp_put_bin(w, b->sig, WW_SIG_LEN);
}

static int read_owner_recover(struct ww_mp_reader *r, struct ww_body_owner_recover *b)
{
    WW_TRY(ww_mp_read_bin_exact(r, WW_PK_LEN, b->from));
    WW_TRY(ww_mp_read_uint_max(r, WW_MAX_SEQ, &b->cutoff));
    WW_TRY(ww_mp_read_bin_exact(r, WW_HASH_LEN, b->tip));
    WW_TRY(read_pins(r, b->others, WW_MAX_CUTOFFS, &b->n_others));
    return ww_mp_read_bin_exact(r, WW_SIG_LEN, b->sig);
}

/* ---- The table of kinds ----------------------------------------------------------------- */

/* Each kind's functions reached through the whole body, so that one table holds them all;
 * the typed call inside makes the compiler check that the union member matches. */
#define KIND_THUNKS(num, NAME, name, wire, member)                                                 \
    static int check_body_##name(const struct ww_body *b)                                          \
    {                                                                                              \
        return check_##name(&b->u.member);                                                         \
    }                                                                                              \
    static void write_body_##name(struct ww_mp_writer *w, const struct ww_body *b)                 \
    {                                                                                              \
        write_##name(w, &b->u.member);                                                             \
    }                                                                                              \
    static int read_body_##name(struct ww_mp_reader *r, struct ww_body *b)                         \
    {                                                                                              \
        return read_##name(r, &b->u.member);                                                       \
    }                                                                                              \
    _Static_assert((num) >= 1 && (num) <= WW_KIND_MAX_KNOWN, #name ": number out of 1..max");
WW_KINDS(KIND_THUNKS)
#undef KIND_THUNKS

/* What one kind's body is: its dotted name, the number of its known fields, the size of its
 * union member, and the rule check, writer and reader of those fields. */
struct kind_codec {
    const char *name;
    uint8_t fields;
    size_t size;
    int (*check)(const struct ww_body *b);
    void (*write)(struct ww_mp_writer *w, const struct ww_body *b);
    int (*read)(struct ww_mp_reader *r, struct ww_body *b);
};

/* Indexed by kind. WW_KINDS numbers its lines 1..WW_KIND_MAX_KNOWN (asserted above) and a
 * repeated number would be a duplicate initializer, which the build rejects; so every entry
 * from 1 to WW_KIND_MAX_KNOWN is filled. */
#define KIND_CODEC(num, NAME, name, wire, member)                                                  \
    [num] = {wire,                                                                                 \
             name##_fields,                                                                        \
             sizeof(((struct ww_body *)0)->u.member),                                              \
             check_body_##name,                                                                    \
             write_body_##name,                                                                    \
             read_body_##name},
static const struct kind_codec codecs[WW_KIND_MAX_KNOWN + 1] = {WW_KINDS(KIND_CODEC)};
#undef KIND_CODEC

/* The dotted name of a kind, or "unknown" for 0 and kinds this version does not know. */
const char *ww_kind_name(uint16_t kind)
{
    if (known_kind(kind))
        return codecs[kind].name;
    return "unknown";
}

/* ---- Optional trailing fields ------------------------------------------------------------ */

/* member.add is the one kind with an optional known field (its `invite`): the fields it
 * has at least, and whether b encodes the optional one. */
static uint32_t min_fields(uint16_t kind)
{
    return kind == WW_KIND_MEMBER_ADD ? member_add_min : codecs[kind].fields;
}

static int has_optional(const struct ww_body *b)
{
    return b->kind == WW_KIND_MEMBER_ADD &&
           (b->u.member_add.invite_field || b->u.member_add.has_invite || b->ext.n);
}

/* The optional field, after the others: bin 0 when absent. */
static void write_optional(struct ww_mp_writer *w, const struct ww_body *b)
{
    const struct ww_body_member_add *m = &b->u.member_add;
    put_bin_opt(w, m->invite, sizeof m->invite, m->has_invite);
}

static int read_optional(struct ww_mp_reader *r, struct ww_body *b)
{
    struct ww_body_member_add *m = &b->u.member_add;
    m->invite_field = 1;
    return ww_mp_read_bin_opt(r, sizeof m->invite, m->invite, &m->has_invite);
}

/* ---- Encoding -------------------------------------------------------------------------- */

/* Encodes the union member for b->kind and b->ext. WW_EUNKNOWN for a kind this version
 * cannot encode; the rules of the decoder otherwise; at most WW_MAX_BODY bytes. */
int ww_body_encode(const struct ww_body *b, struct ww_buf *out)
{
    if (!known_kind(b->kind))
        return WW_EUNKNOWN;
    const struct kind_codec *c = &codecs[b->kind];
    WW_TRY(c->check(b));
    WW_TRY(ww_mp_check_ext(&b->ext, BODY_DEPTH));
    uint32_t known = has_optional(b) ? c->fields : min_fields(b->kind);

    struct ww_mp_writer w;
    ww_mp_writer_init(&w, out, WW_MAX_BODY);
    ww_mp_put_array(&w, known + b->ext.n);
    c->write(&w, b);
    if (known > min_fields(b->kind))
        write_optional(&w, b);
    ww_mp_put_raw(&w, b->ext.raw.p, b->ext.raw.len);
    return ww_mp_writer_finish(&w);
}

/* ---- Decoding -------------------------------------------------------------------------- */

/* Decodes the body of an event of `kind` filling all of buf. WW_EUNKNOWN, before looking at
 * the bytes, for 0 and kinds above WW_KIND_MAX_KNOWN. */
int ww_body_decode(uint16_t kind, const uint8_t *buf, size_t len, struct ww_body *out)
{
    if (!known_kind(kind))
        return WW_EUNKNOWN;
    if (len > WW_MAX_BODY)
        return WW_ETOOBIG;
    const struct kind_codec *c = &codecs[kind];
    struct ww_mp_reader r;
    struct ww_body b;
    uint32_t n_ext;
    /* Only the union member of this kind is cleared and copied: the key kinds' member is
     * 8 KiB, and a reflection should not pay for it on every decode. */
    size_t used = offsetof(struct ww_body, u) + c->size;
    memset(&b, 0, used);
    memset(&b.ext, 0, sizeof b.ext);
    b.kind = kind;
    ww_mp_reader_init(&r, buf, len);
    uint32_t n;
    WW_TRY(ww_mp_read_array(&r, c->fields + WW_MAX_EXT_FIELDS, &n));
    uint32_t known = n >= c->fields ? c->fields : min_fields(kind);
    WW_TRY(ww_mp_split_fields(n, known, &n_ext));
    WW_TRY(c->read(&r, &b));
    if (known > min_fields(kind)) {
        WW_TRY(read_optional(&r, &b));
        /* An absent optional field is left out unless unknown fields follow it. */
        if (!b.u.member_add.has_invite && n_ext == 0)
            return WW_ENONCANON;
    }
    WW_TRY(c->check(&b));
    WW_TRY(ww_mp_read_ext(&r, n_ext, BODY_DEPTH, &b.ext));
    WW_TRY(ww_mp_finish(&r));
    memcpy(out, &b, used);
    out->ext = b.ext;
    return 0;
}
