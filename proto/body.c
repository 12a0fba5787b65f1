/*
 * body.c - event bodies: one fixed-schema msgpack array per kind.
 *
 * Each body is an array of the fields of its union member in proto.h, in declaration
 * order, followed by the raw unknown trailing fields of `ext`. The kind is not in the body;
 * it comes from the header.
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

static const char *const kind_names[WW_KIND_MAX_KNOWN + 1] = {
    [WW_KIND_GROUP_CREATE] = "group.create",
    [WW_KIND_MEMBER_ADD] = "member.add",
    [WW_KIND_MEMBER_REMOVE] = "member.remove",
    [WW_KIND_DEVICE_ADD] = "device.add",
    [WW_KIND_KEY_EPOCH] = "key.epoch",
    [WW_KIND_KEY_SHARE] = "key.share",
    [WW_KIND_CHALLENGE_DEFINE] = "challenge.define",
    [WW_KIND_CHALLENGE_SCHEDULE] = "challenge.schedule",
    [WW_KIND_DAY_OFF] = "day.off",
    [WW_KIND_REFLECTION_PUT] = "reflection.put",
    [WW_KIND_CLIMATE_PUT] = "climate.put",
    [WW_KIND_REACTION_PUT] = "reaction.put",
    [WW_KIND_SIGNAL_RAISE] = "signal.raise",
    [WW_KIND_SIGNAL_RESOLVE] = "signal.resolve",
    [WW_KIND_SIGNOFF_PUT] = "signoff.put",
    [WW_KIND_ERASE] = "erase",
};

/* The dotted name of a kind, or "unknown" for 0 and kinds this version does not know. */
const char *ww_kind_name(uint16_t kind)
{
    if (kind >= 1 && kind <= WW_KIND_MAX_KNOWN)
        return kind_names[kind];
    return "unknown";
}

/* Number of known fields of each kind's body. */
static const uint8_t field_count[WW_KIND_MAX_KNOWN + 1] = {
    [WW_KIND_GROUP_CREATE] = 7,     [WW_KIND_MEMBER_ADD] = 6,
    [WW_KIND_MEMBER_REMOVE] = 1,    [WW_KIND_DEVICE_ADD] = 2,
    [WW_KIND_KEY_EPOCH] = 2,        [WW_KIND_KEY_SHARE] = 2,
    [WW_KIND_CHALLENGE_DEFINE] = 8, [WW_KIND_CHALLENGE_SCHEDULE] = 2,
    [WW_KIND_DAY_OFF] = 2,          [WW_KIND_REFLECTION_PUT] = 12,
    [WW_KIND_CLIMATE_PUT] = 2,      [WW_KIND_REACTION_PUT] = 2,
    [WW_KIND_SIGNAL_RAISE] = 3,     [WW_KIND_SIGNAL_RESOLVE] = 3,
    [WW_KIND_SIGNOFF_PUT] = 5,      [WW_KIND_ERASE] = 1,
};

/* The size of the union member each kind uses. */
static const size_t member_size[WW_KIND_MAX_KNOWN + 1] = {
    [WW_KIND_GROUP_CREATE] = sizeof(struct ww_body_group_create),
    [WW_KIND_MEMBER_ADD] = sizeof(struct ww_body_member_add),
    [WW_KIND_MEMBER_REMOVE] = sizeof(struct ww_body_member_ref),
    [WW_KIND_DEVICE_ADD] = sizeof(struct ww_body_device_add),
    [WW_KIND_KEY_EPOCH] = sizeof(struct ww_body_keys),
    [WW_KIND_KEY_SHARE] = sizeof(struct ww_body_keys),
    [WW_KIND_CHALLENGE_DEFINE] = sizeof(struct ww_body_challenge_define),
    [WW_KIND_CHALLENGE_SCHEDULE] = sizeof(struct ww_body_challenge_schedule),
    [WW_KIND_DAY_OFF] = sizeof(struct ww_body_day_off),
    [WW_KIND_REFLECTION_PUT] = sizeof(struct ww_body_reflection),
    [WW_KIND_CLIMATE_PUT] = sizeof(struct ww_body_climate),
    [WW_KIND_REACTION_PUT] = sizeof(struct ww_body_reaction),
    [WW_KIND_SIGNAL_RAISE] = sizeof(struct ww_body_signal_raise),
    [WW_KIND_SIGNAL_RESOLVE] = sizeof(struct ww_body_signal_resolve),
    [WW_KIND_SIGNOFF_PUT] = sizeof(struct ww_body_signoff),
    [WW_KIND_ERASE] = sizeof(struct ww_body_member_ref),
};

/* 1 for the kinds this version can decode and encode. */
static int known_kind(uint16_t kind)
{
    return kind >= 1 && kind <= WW_KIND_MAX_KNOWN;
}

/* ---- Value rules ------------------------------------------------------------------------ */

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

/* Texts within their limits; agg_pk all zero unless present. */
static int check_group_create(const struct ww_body_group_create *b)
{
    WW_TRY(ww_mp_check_text(b->name, 0, WW_MAX_NAME));
    WW_TRY(ww_mp_check_text(b->tz, 0, WW_MAX_TZ));
    WW_TRY(check_date(b->start_date));
    WW_TRY(ww_mp_check_text(b->coach_alias, 0, WW_MAX_NAME));
    if (!b->has_agg && !ww_mp_all_zero(b->agg_pk, sizeof b->agg_pk))
        return WW_EINVAL;
    return 0;
}

/* Role, year and track in range; 1..WW_MAX_DEVICES devices. */
static int check_member_add(const struct ww_body_member_add *b)
{
    if (!in_range(b->role, WW_ROLE_COACH, WW_ROLE_SENIOR) || b->year > 4 || b->track > WW_TRACK_BBL)
        return WW_ERANGE;
    WW_TRY(ww_mp_check_text(b->alias, 0, WW_MAX_NAME));
    if (b->n_devices > WW_MAX_DEVICES)
        return WW_ETOOBIG;
    if (b->n_devices < 1)
        return WW_ERANGE;
    return 0;
}

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

/* A valid date and code. */
static int check_challenge_schedule(const struct ww_body_challenge_schedule *b)
{
    WW_TRY(check_date(b->date));
    return check_code(b->code);
}

/* A valid date; off is 0 or 1. */
static int check_day_off(const struct ww_body_day_off *b)
{
    WW_TRY(check_date(b->date));
    return b->off <= 1 ? 0 : WW_ERANGE;
}

/* A valid date and code, enums in range, no obstacles when done, STARR texts in limits. */
static int check_reflection(const struct ww_body_reflection *b)
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

/* A valid date; 1..WW_MAX_ANSWERS answers, items strictly ascending from 1, values 0..5. */
static int check_climate(const struct ww_body_climate *b)
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

/* Non-empty text within its limit. */
static int check_reaction(const struct ww_body_reaction *b)
{
    return ww_mp_check_text(b->text, 1, WW_MAX_REACTION);
}

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

/* State in range, note within its limit. */
static int check_signal_resolve(const struct ww_body_signal_resolve *b)
{
    if (!in_range(b->state, WW_SIGNAL_DISCUSSED, WW_SIGNAL_RESOLVED))
        return WW_ERANGE;
    return ww_mp_check_text(b->note, 0, WW_MAX_NOTE);
}

/* A valid code and date, level in range, note within its limit. */
static int check_signoff(const struct ww_body_signoff *b)
{
    WW_TRY(check_code(b->code));
    WW_TRY(check_date(b->date));
    if (!in_range(b->level, WW_LEVEL_NEVER, WW_LEVEL_GOOD))
        return WW_ERANGE;
    return ww_mp_check_text(b->note, 0, WW_MAX_NOTE);
}

/* Every rule on the known fields of b, whose kind is known. */
static int check_body(const struct ww_body *b)
{
    switch (b->kind) {
    case WW_KIND_GROUP_CREATE:
        return check_group_create(&b->u.group_create);
    case WW_KIND_MEMBER_ADD:
        return check_member_add(&b->u.member_add);
    case WW_KIND_KEY_EPOCH:
    case WW_KIND_KEY_SHARE:
        return check_keys(&b->u.keys);
    case WW_KIND_CHALLENGE_DEFINE:
        return check_challenge_define(&b->u.challenge_define);
    case WW_KIND_CHALLENGE_SCHEDULE:
        return check_challenge_schedule(&b->u.challenge_schedule);
    case WW_KIND_DAY_OFF:
        return check_day_off(&b->u.day_off);
    case WW_KIND_REFLECTION_PUT:
        return check_reflection(&b->u.reflection);
    case WW_KIND_CLIMATE_PUT:
        return check_climate(&b->u.climate);
    case WW_KIND_REACTION_PUT:
        return check_reaction(&b->u.reaction);
    case WW_KIND_SIGNAL_RAISE:
        return check_signal_raise(&b->u.signal_raise);
    case WW_KIND_SIGNAL_RESOLVE:
        return check_signal_resolve(&b->u.signal_resolve);
    case WW_KIND_SIGNOFF_PUT:
        return check_signoff(&b->u.signoff);
    default: /* member.remove, device.add, erase: fixed-size fields only */
        return 0;
    }
}

/* ---- Encoding -------------------------------------------------------------------------- */

/* An optional bin: its n bytes when present, else bin 0. */
static void put_bin_opt(struct ww_mp_writer *w, const uint8_t *p, size_t n, int present)
{
    ww_mp_put_bin(w, p, present ? n : 0);
}

/* key.epoch / key.share: the epoch and the wraps, each a 4-element array. */
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

/* Writes the known fields of b (already checked). */
static void write_fields(struct ww_mp_writer *w, const struct ww_body *b)
{
    switch (b->kind) {
    case WW_KIND_GROUP_CREATE: {
        const struct ww_body_group_create *g = &b->u.group_create;
        ww_mp_put_bin(w, g->salt, sizeof g->salt);
        ww_mp_put_str(w, g->name);
        ww_mp_put_str(w, g->tz);
        ww_mp_put_uint(w, g->start_date);
        ww_mp_put_bin(w, g->coach, sizeof g->coach);
        ww_mp_put_str(w, g->coach_alias);
        put_bin_opt(w, g->agg_pk, sizeof g->agg_pk, g->has_agg);
        break;
    }
    case WW_KIND_MEMBER_ADD: {
        const struct ww_body_member_add *m = &b->u.member_add;
        ww_mp_put_bin(w, m->member, sizeof m->member);
        ww_mp_put_uint(w, m->role);
        ww_mp_put_str(w, m->alias);
        ww_mp_put_uint(w, m->year);
        ww_mp_put_uint(w, m->track);
        ww_mp_put_array(w, m->n_devices);
        for (uint32_t k = 0; k < m->n_devices; k++)
            ww_mp_put_bin(w, m->devices[k], WW_PK_LEN);
        break;
    }
    case WW_KIND_MEMBER_REMOVE:
        ww_mp_put_bin(w, b->u.member_remove.member, WW_MEMBER_ID_LEN);
        break;
    case WW_KIND_ERASE:
        ww_mp_put_bin(w, b->u.erase.member, WW_MEMBER_ID_LEN);
        break;
    case WW_KIND_DEVICE_ADD:
        ww_mp_put_bin(w, b->u.device_add.member, WW_MEMBER_ID_LEN);
        ww_mp_put_bin(w, b->u.device_add.device, WW_PK_LEN);
        break;
    case WW_KIND_KEY_EPOCH:
    case WW_KIND_KEY_SHARE:
        write_keys(w, &b->u.keys);
        break;
    case WW_KIND_CHALLENGE_DEFINE: {
        const struct ww_body_challenge_define *c = &b->u.challenge_define;
        ww_mp_put_str(w, c->code);
        ww_mp_put_str(w, c->title);
        ww_mp_put_str(w, c->description);
        ww_mp_put_uint(w, c->canmeds);
        ww_mp_put_uint(w, c->week_from);
        ww_mp_put_uint(w, c->week_to);
        ww_mp_put_str(w, c->assignment_ref);
        ww_mp_put_uint(w, c->signoff_role);
        break;
    }
    case WW_KIND_CHALLENGE_SCHEDULE:
        ww_mp_put_uint(w, b->u.challenge_schedule.date);
        ww_mp_put_str(w, b->u.challenge_schedule.code);
        break;
    case WW_KIND_DAY_OFF:
        ww_mp_put_uint(w, b->u.day_off.date);
        ww_mp_put_uint(w, b->u.day_off.off);
        break;
    case WW_KIND_REFLECTION_PUT: {
        const struct ww_body_reflection *r = &b->u.reflection;
        ww_mp_put_uint(w, r->date);
        ww_mp_put_str(w, r->code);
        ww_mp_put_uint(w, r->status);
        ww_mp_put_uint(w, r->obstacles);
        ww_mp_put_str(w, r->obstacle_note);
        ww_mp_put_str(w, r->situatie);
        ww_mp_put_str(w, r->taak);
        ww_mp_put_str(w, r->actie);
        ww_mp_put_str(w, r->resultaat);
        ww_mp_put_str(w, r->reflectie);
        ww_mp_put_uint(w, r->share);
        ww_mp_put_uint(w, r->draft);
        break;
    }
    case WW_KIND_CLIMATE_PUT: {
        const struct ww_body_climate *c = &b->u.climate;
        ww_mp_put_uint(w, c->date);
        ww_mp_put_array(w, c->n_answers);
        for (uint32_t k = 0; k < c->n_answers; k++) {
            ww_mp_put_array(w, 2);
            ww_mp_put_uint(w, c->answers[k].item);
            ww_mp_put_uint(w, c->answers[k].value);
        }
        break;
    }
    case WW_KIND_REACTION_PUT:
        ww_mp_put_bin(w, b->u.reaction.target, WW_HASH_LEN);
        ww_mp_put_str(w, b->u.reaction.text);
        break;
    case WW_KIND_SIGNAL_RAISE: {
        const struct ww_body_signal_raise *s = &b->u.signal_raise;
        ww_mp_put_uint(w, s->category);
        ww_mp_put_str(w, s->text);
        put_bin_opt(w, s->concerns, sizeof s->concerns, s->has_concerns);
        break;
    }
    case WW_KIND_SIGNAL_RESOLVE:
        ww_mp_put_bin(w, b->u.signal_resolve.signal, WW_HASH_LEN);
        ww_mp_put_uint(w, b->u.signal_resolve.state);
        ww_mp_put_str(w, b->u.signal_resolve.note);
        break;
    case WW_KIND_SIGNOFF_PUT: {
        const struct ww_body_signoff *s = &b->u.signoff;
        ww_mp_put_bin(w, s->member, sizeof s->member);
        ww_mp_put_str(w, s->code);
        ww_mp_put_uint(w, s->date);
        ww_mp_put_uint(w, s->level);
        ww_mp_put_str(w, s->note);
        break;
    }
    default:
        break;
    }
}

/* Encodes the union member for b->kind and b->ext. WW_EUNKNOWN for a kind this version
 * cannot encode; the rules of the decoder otherwise; at most WW_MAX_BODY bytes. */
int ww_body_encode(const struct ww_body *b, struct ww_buf *out)
{
    if (!known_kind(b->kind))
        return WW_EUNKNOWN;
    WW_TRY(check_body(b));
    WW_TRY(ww_mp_check_ext(&b->ext, BODY_DEPTH));

    struct ww_mp_writer w;
    ww_mp_writer_init(&w, out, WW_MAX_BODY);
    ww_mp_put_array(&w, field_count[b->kind] + b->ext.n);
    write_fields(&w, b);
    ww_mp_put_raw(&w, b->ext.raw.p, b->ext.raw.len);
    return ww_mp_writer_finish(&w);
}

/* ---- Decoding -------------------------------------------------------------------------- */

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

/* Reads the known fields of a body of b->kind into b (zeroed by the caller). */
static int read_fields(struct ww_mp_reader *r, struct ww_body *b)
{
    uint32_t n;
    switch (b->kind) {
    case WW_KIND_GROUP_CREATE: {
        struct ww_body_group_create *g = &b->u.group_create;
        WW_TRY(ww_mp_read_bin_exact(r, sizeof g->salt, g->salt));
        WW_TRY(ww_mp_read_str(r, WW_MAX_NAME, &g->name));
        WW_TRY(ww_mp_read_str(r, WW_MAX_TZ, &g->tz));
        WW_TRY(read_date(r, &g->start_date));
        WW_TRY(ww_mp_read_bin_exact(r, sizeof g->coach, g->coach));
        WW_TRY(ww_mp_read_str(r, WW_MAX_NAME, &g->coach_alias));
        return ww_mp_read_bin_opt(r, sizeof g->agg_pk, g->agg_pk, &g->has_agg);
    }
    case WW_KIND_MEMBER_ADD: {
        struct ww_body_member_add *m = &b->u.member_add;
        WW_TRY(ww_mp_read_bin_exact(r, sizeof m->member, m->member));
        WW_TRY(read_u8(r, &m->role));
        WW_TRY(ww_mp_read_str(r, WW_MAX_NAME, &m->alias));
        WW_TRY(read_u8(r, &m->year));
        WW_TRY(read_u8(r, &m->track));
        WW_TRY(ww_mp_read_array(r, WW_MAX_DEVICES, &n));
        if (n < 1)
            return WW_ERANGE;
        m->n_devices = n;
        for (uint32_t k = 0; k < n; k++)
            WW_TRY(ww_mp_read_bin_exact(r, WW_PK_LEN, m->devices[k]));
        return 0;
    }
    case WW_KIND_MEMBER_REMOVE:
        return ww_mp_read_bin_exact(r, WW_MEMBER_ID_LEN, b->u.member_remove.member);
    case WW_KIND_ERASE:
        return ww_mp_read_bin_exact(r, WW_MEMBER_ID_LEN, b->u.erase.member);
    case WW_KIND_DEVICE_ADD:
        WW_TRY(ww_mp_read_bin_exact(r, WW_MEMBER_ID_LEN, b->u.device_add.member));
        return ww_mp_read_bin_exact(r, WW_PK_LEN, b->u.device_add.device);
    case WW_KIND_KEY_EPOCH:
    case WW_KIND_KEY_SHARE: {
        struct ww_body_keys *k = &b->u.keys;
        WW_TRY(read_u32(r, &k->epoch));
        WW_TRY(ww_mp_read_array(r, WW_MAX_WRAPS, &n));
        if (n < 1)
            return WW_ERANGE;
        k->n_wraps = n;
        for (uint32_t i = 0; i < n; i++)
            WW_TRY(read_wrap(r, &k->wraps[i]));
        return 0;
    }
    case WW_KIND_CHALLENGE_DEFINE: {
        struct ww_body_challenge_define *c = &b->u.challenge_define;
        WW_TRY(ww_mp_read_str(r, WW_MAX_CODE, &c->code));
        WW_TRY(ww_mp_read_str(r, WW_MAX_TITLE, &c->title));
        WW_TRY(ww_mp_read_str(r, WW_MAX_DESC, &c->description));
        WW_TRY(read_u8(r, &c->canmeds));
        WW_TRY(read_u8(r, &c->week_from));
        WW_TRY(read_u8(r, &c->week_to));
        WW_TRY(ww_mp_read_str(r, WW_MAX_REF_TEXT, &c->assignment_ref));
        return read_u8(r, &c->signoff_role);
    }
    case WW_KIND_CHALLENGE_SCHEDULE:
        WW_TRY(read_date(r, &b->u.challenge_schedule.date));
        return ww_mp_read_str(r, WW_MAX_CODE, &b->u.challenge_schedule.code);
    case WW_KIND_DAY_OFF:
        WW_TRY(read_date(r, &b->u.day_off.date));
        return read_u8(r, &b->u.day_off.off);
    case WW_KIND_REFLECTION_PUT: {
        struct ww_body_reflection *x = &b->u.reflection;
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
    case WW_KIND_CLIMATE_PUT: {
        struct ww_body_climate *c = &b->u.climate;
        WW_TRY(read_date(r, &c->date));
        WW_TRY(ww_mp_read_array(r, WW_MAX_ANSWERS, &n));
        if (n < 1)
            return WW_ERANGE;
        c->n_answers = n;
        for (uint32_t k = 0; k < n; k++)
            WW_TRY(read_answer(r, &c->answers[k]));
        return 0;
    }
    case WW_KIND_REACTION_PUT:
        WW_TRY(ww_mp_read_bin_exact(r, WW_HASH_LEN, b->u.reaction.target));
        return ww_mp_read_str(r, WW_MAX_REACTION, &b->u.reaction.text);
    case WW_KIND_SIGNAL_RAISE: {
        struct ww_body_signal_raise *s = &b->u.signal_raise;
        WW_TRY(read_u8(r, &s->category));
        WW_TRY(ww_mp_read_str(r, WW_MAX_SIGNAL, &s->text));
        return ww_mp_read_bin_opt(r, sizeof s->concerns, s->concerns, &s->has_concerns);
    }
    case WW_KIND_SIGNAL_RESOLVE:
        WW_TRY(ww_mp_read_bin_exact(r, WW_HASH_LEN, b->u.signal_resolve.signal));
        WW_TRY(read_u8(r, &b->u.signal_resolve.state));
        return ww_mp_read_str(r, WW_MAX_NOTE, &b->u.signal_resolve.note);
    case WW_KIND_SIGNOFF_PUT: {
        struct ww_body_signoff *s = &b->u.signoff;
        WW_TRY(ww_mp_read_bin_exact(r, sizeof s->member, s->member));
        WW_TRY(ww_mp_read_str(r, WW_MAX_CODE, &s->code));
        WW_TRY(read_date(r, &s->date));
        WW_TRY(read_u8(r, &s->level));
        return ww_mp_read_str(r, WW_MAX_NOTE, &s->note);
    }
    default:
        return WW_EUNKNOWN;
    }
}

/* Decodes the body of an event of `kind` filling all of buf. WW_EUNKNOWN, before looking at
 * the bytes, for 0 and kinds above WW_KIND_MAX_KNOWN. */
int ww_body_decode(uint16_t kind, const uint8_t *buf, size_t len, struct ww_body *out)
{
    if (!known_kind(kind))
        return WW_EUNKNOWN;
    if (len > WW_MAX_BODY)
        return WW_ETOOBIG;
    struct ww_mp_reader r;
    struct ww_body b;
    uint32_t n_ext;
    /* Only the union member of this kind is cleared and copied: the key kinds' member is
     * 8 KiB, and a reflection should not pay for it on every decode. */
    size_t used = offsetof(struct ww_body, u) + member_size[kind];
    memset(&b, 0, used);
    memset(&b.ext, 0, sizeof b.ext);
    b.kind = kind;
    ww_mp_reader_init(&r, buf, len);
    WW_TRY(ww_mp_read_fields(&r, field_count[kind], &n_ext));
    WW_TRY(read_fields(&r, &b));
    WW_TRY(check_body(&b));
    WW_TRY(ww_mp_read_ext(&r, n_ext, BODY_DEPTH, &b.ext));
    WW_TRY(ww_mp_finish(&r));
    memcpy(out, &b, used);
    out->ext = b.ext;
    return 0;
}
