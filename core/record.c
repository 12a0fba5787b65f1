/*
 * record.c - what members write during the day: reflections (with climate answers),
 * reactions, signals for the coach, and the coach's sign-offs.
 *
 * Audiences follow who may read (docs/ARCHITECTURE.md, "Audiences"):
 *  - a reflection goes to SELF, GROUP or PAIR (the student and the coach) by its `share`;
 *  - climate answers go to the aggregator only (AGG): no person reads another student's
 *    answers; the author keeps its own copy locally;
 *  - a reaction has the audience of the reflection it answers;
 *  - signals and sign-offs are between one learner and the coach (PAIR).
 * Inputs are checked here for a clear error; apply.c checks the same rules again for every
 * event, wherever it was written.
 */
#include <sodium.h>
#include <string.h>

#include "alloc.h"
#include "apply.h"
#include "keyring.h"
#include "kind.h"
#include "library.h"
#include "seal.h"
#include "store.h"

/* This device's member in the group, which must be a learner (student or senior). */
static int learner(struct ww_store *s, const uint8_t gid[16], struct ww_devinfo *out)
{
    return ww_cache_acting(s, gid, WW_LEARNER, out);
}

static int coach(struct ww_store *s, const uint8_t gid[16])
{
    return ww_cache_acting(s, gid, WW_ROLE_BIT(WW_ROLE_COACH), NULL);
}

/* Makes sure this device holds its member's SELF key for the current epoch and that every
 * active device the member vouched for has it too: a new key is made when there is none,
 * and a device added since is sent the existing one. Only the member's own vouched devices
 * ever hold it; a device the owner added keeps a key of its own, for itself alone. */
static int ensure_self_key(struct ww_store *s, const uint8_t gid[16], const uint8_t member[16],
                           int *emitted)
{
    uint8_t key[32];
    const uint8_t *have = ww_cache_key(s, WW_AUD_SELF, member, ww_cache_cur(s)->epoch);
    if (have)
        memcpy(key, have, 32);
    else
        ww_store_random(s, key, 32);
    struct ww_body *b = ww_calloc(1, sizeof *b);
    if (!b)
        return WW_ENOMEM;
    b->kind = WW_KIND_KEY_SHARE;
    b->u.keys.epoch = ww_cache_cur(s)->epoch;
    int rc = 0;
    const struct ww_devinfo *me = ww_cache_me(s);
    int vouched = me && me->vouched;
    for (size_t i = 0; i < ww_cache_cur(s)->n_devices && rc == 0; i++) {
        const struct ww_devinfo *d = &ww_cache_cur(s)->devices[i];
        if (memcmp(d->member, member, 16) || d->removed_epoch != UINT32_MAX ||
            (!(vouched && d->vouched) && memcmp(d->device, s->pk, 32)))
            continue;
        if (have) {
            sqlite3_stmt *st = ww_sql(s, "SELECT 1 FROM key_recipients WHERE gid=?1 AND "
                                         "subject=?2 AND epoch=?3 AND key=?4 AND device=?5");
            if (!st) {
                rc = WW_ESTORE;
                break;
            }
            sqlite3_bind_blob(st, 1, gid, 16, SQLITE_TRANSIENT);
            sqlite3_bind_blob(st, 2, member, 16, SQLITE_TRANSIENT);
            sqlite3_bind_int64(st, 3, ww_cache_cur(s)->epoch);
            sqlite3_bind_blob(st, 4, key, 32, SQLITE_TRANSIENT);
            sqlite3_bind_blob(st, 5, d->device, 32, SQLITE_TRANSIENT);
            int holds = sqlite3_step(st) == SQLITE_ROW;
            sqlite3_reset(st);
            if (holds)
                continue;
        }
        if (b->u.keys.n_wraps >= WW_MAX_WRAPS) {
            rc = WW_ETOOBIG;
            break;
        }
        struct ww_wrap *w = &b->u.keys.wraps[b->u.keys.n_wraps++];
        w->audience = WW_AUD_SELF;
        memcpy(w->subject, member, 16);
        memcpy(w->device, d->device, 32);
        rc = ww_wrap_key(key, d->device, w->sealed);
    }
    struct ww_emit e = {.kind = WW_KIND_KEY_SHARE, .audience = WW_AUD_PLAIN, .body = b};
    uint32_t epoch = ww_cache_cur(s)->epoch;
    if (rc == 0 && b->u.keys.n_wraps) {
        rc = ww_emit(s, gid, &e, NULL);
        *emitted = rc == 0;
        /* A share that leaves out this device is not opened here: record it ourselves. */
        for (uint32_t i = 0; i < b->u.keys.n_wraps && rc == 0 && have; i++)
            rc = ww_keyring_recipient_put(s, gid, member, epoch, key, b->u.keys.wraps[i].device);
    }
    sodium_memzero(key, sizeof key);
    ww_free(b);
    return rc;
}

struct self_args {
    const uint8_t *gid;
    int emitted;
};

static int do_self_key_refresh(struct ww_store *s, void *ud)
{
    struct self_args *a = ud;
    int rc = ww_cache_load(s, a->gid);
    if (rc != 0)
        return rc;
    const struct ww_devinfo *me = ww_cache_me(s);
    if (!me || !me->vouched || me->removed_epoch != UINT32_MAX ||
        !ww_cache_key(s, WW_AUD_SELF, me->member, ww_cache_cur(s)->epoch))
        return 0;
    uint8_t member[16];
    memcpy(member, me->member, 16);
    return ensure_self_key(s, a->gid, member, &a->emitted);
}

int ww_self_key_refresh(struct ww_store *s, const uint8_t group[WW_ID_LEN], int *wrote)
{
    if (!s || !group || !wrote)
        return WW_EINVAL;
    struct self_args a = {group, 0};
    int rc = ww_tx(s, do_self_key_refresh, &a);
    *wrote = a.emitted;
    return rc;
}

/* WW_EGROUP unless this device holds the group. */
static int group_known(struct ww_store *s, const uint8_t gid[16])
{
    int rc = ww_cache_load(s, gid);
    return rc ? rc : ww_cache_cur(s)->exists ? 0 : WW_EGROUP;
}

/* ---- Reflections -------------------------------------------------------------------- */

/* What a reflection takes from its day: the challenge's code and the climate items asked. */
struct day_facts {
    char code[WW_MAX_CODE + 1];
    uint16_t asked;
};

static void day_facts(void *ud, const struct ww_day *d)
{
    struct day_facts *f = ud;
    size_t n = strlen(d->challenge.code);
    if (n > WW_MAX_CODE)
        n = WW_MAX_CODE;
    memcpy(f->code, d->challenge.code, n);
    f->code[n] = '\0';
    for (size_t i = 0; i < d->n_items && i < sizeof d->items; i++)
        if (d->items[i] >= 1 && d->items[i] <= 12)
            f->asked |= (uint16_t)(1u << (d->items[i] - 1));
}

static int check_reflection(const struct ww_reflection *r)
{
    if (r->date > WW_MAX_DATE || r->status < WW_STATUS_DONE || r->status > WW_STATUS_NOT ||
        r->share < WW_SHARE_SELF || r->share > WW_SHARE_COACH || (r->draft != 0 && r->draft != 1))
        return WW_EINVAL;
    if (r->obstacles & ~(unsigned)WW_OBST_ALL || (r->status == WW_STATUS_DONE && r->obstacles))
        return WW_EINVAL;
    const struct {
        const char *t;
        size_t max;
    } texts[] = {{r->obstacle_note, WW_MAX_OBSTACLE}, {r->situatie, WW_MAX_STARR_S},
                 {r->taak, WW_MAX_STARR_T},           {r->actie, WW_MAX_STARR_A},
                 {r->resultaat, WW_MAX_STARR_R},      {r->reflectie, WW_MAX_STARR_R2}};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        int rc = ww_text_check(texts[i].t, texts[i].max, 0);
        if (rc != 0)
            return rc;
    }
    if (r->n_answers > WW_MAX_ANSWERS)
        return WW_ETOOBIG;
    for (size_t i = 0; i < r->n_answers; i++) {
        if (!ww_climate_item_get(r->answer_item[i]) || r->answer_value[i] > 5 ||
            (i && r->answer_item[i] <= r->answer_item[i - 1]))
            return WW_EINVAL;
    }
    return 0;
}

struct reflect_args {
    const uint8_t *gid;
    const struct ww_reflection *r;
    const char *code;
    struct ww_devinfo me;
    uint8_t *hash_out;
    uint16_t asked; /* the day's climate items, bit item-1 */
};

static int do_reflect(struct ww_store *s, void *ud)
{
    struct reflect_args *a = ud;
    const struct ww_reflection *r = a->r;
    static const uint8_t aud_of_share[] = {0, WW_AUD_SELF, WW_AUD_GROUP, WW_AUD_PAIR};
    uint8_t audience = aud_of_share[r->share];
    int rc = 0;
    int emitted = 0;
    if (audience == WW_AUD_SELF && (rc = ensure_self_key(s, a->gid, a->me.member, &emitted)) != 0)
        return rc;

    struct ww_body body;
    memset(&body, 0, sizeof body);
    body.kind = WW_KIND_REFLECTION_PUT;
    struct ww_body_reflection *b = &body.u.reflection;
    b->date = r->date;
    b->code = ww_slice_of(a->code);
    b->status = (uint8_t)r->status;
    b->obstacles = (uint8_t)r->obstacles;
    b->obstacle_note = ww_slice_of(r->obstacle_note);
    b->situatie = ww_slice_of(r->situatie);
    b->taak = ww_slice_of(r->taak);
    b->actie = ww_slice_of(r->actie);
    b->resultaat = ww_slice_of(r->resultaat);
    b->reflectie = ww_slice_of(r->reflectie);
    b->share = (uint8_t)r->share;
    b->draft = (uint8_t)r->draft;
    uint8_t ref[4];
    ww_date_ref(r->date, ref);
    struct ww_emit e = {.kind = WW_KIND_REFLECTION_PUT,
                        .audience = audience,
                        .subject = audience == WW_AUD_GROUP ? NULL : a->me.member,
                        .ref = ref,
                        .ref_len = 4,
                        .body = &body};
    if ((rc = ww_emit(s, a->gid, &e, a->hash_out)) != 0)
        return rc;

    /* The day as split climate shares (a final reflection only), then this device's own
     * copy of the answers, which stays here. */
    if (!r->draft && (rc = ww_climate_share_put(s, a->gid, a->me.member, r, a->asked)) != 0)
        return rc;
    if (r->n_answers == 0)
        return 0;
    uint8_t answers[2 * WW_MAX_ANSWERS];
    for (size_t i = 0; i < r->n_answers; i++) {
        answers[2 * i] = r->answer_item[i];
        answers[2 * i + 1] = r->answer_value[i];
    }
    /* This device's own copy of its member's answers, by the one rule of the climate row. */
    return ww_climate_store(s, a->gid, a->me.member, r->date, s->hlc, s->pk, answers,
                            2 * r->n_answers);
}

int ww_reflection_put(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                      const struct ww_reflection *r, uint8_t hash_out[WW_EVENT_HASH_LEN])
{
    if (!s || !group || !r)
        return WW_EINVAL;
    int rc = check_reflection(r);
    if (rc != 0)
        return rc;
    uint8_t hash[WW_EVENT_HASH_LEN];
    struct reflect_args a = {.gid = group, .r = r, .code = r->code, .hash_out = hash};
    if ((rc = learner(s, group, &a.me)) != 0)
        return rc;
    struct day_facts day = {{0}, 0};
    if ((rc = ww_day_get(s, group, r->date, day_facts, &day)) != 0)
        return rc;
    a.asked = day.asked;
    if (!a.code)
        a.code = day.code;
    else if (!*a.code || strlen(a.code) > WW_MAX_CODE)
        return WW_EINVAL;
    if ((rc = ww_tx(s, do_reflect, &a)) == 0 && hash_out)
        memcpy(hash_out, hash, sizeof hash);
    return rc;
}

static const char *col_text(sqlite3_stmt *st, int i)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    return t ? t : "";
}

/* NUL-terminated copies of a reflection's texts, for the public struct. */
struct texts {
    char note[WW_MAX_OBSTACLE + 1], s[WW_MAX_STARR_S + 1], t[WW_MAX_STARR_T + 1],
        a[WW_MAX_STARR_A + 1], r[WW_MAX_STARR_R + 1], r2[WW_MAX_STARR_R2 + 1];
};

static const char *cstr(char *dst, size_t cap, const struct ww_slice *src)
{
    size_t n = src->len < cap - 1 ? src->len : cap - 1;
    if (n)
        memcpy(dst, src->p, n);
    dst[n] = '\0';
    return dst;
}

int ww_reflections_list(struct ww_store *s, const uint8_t group[WW_ID_LEN], const uint8_t *member,
                        void (*cb)(void *ud, const struct ww_reflection *r), void *ud)
{
    int grc = group_known(s, group);
    if (grc != 0)
        return grc;
    /* Rows first (metadata), then each readable text from the log: the statement cache
     * must not be asked for the same query while it is being stepped. */
    sqlite3_stmt *st;
    int rc = ww_db_err(
        s, sqlite3_prepare_v2(s->db,
                              "SELECT r.member, r.date, r.hlc, r.hash, r.readable, r.code, "
                              "r.status, r.obstacles, r.share, r.draft, c.answers, r.author, "
                              "r.seq FROM reflections r LEFT JOIN climate c ON c.gid=r.gid AND "
                              "c.member=r.member AND c.date=r.date WHERE r.gid=?1 AND (?2 IS NULL "
                              "OR r.member=?2) ORDER BY r.date DESC, r.member",
                              -1, &st, NULL));
    if (rc != 0)
        return rc;
    sqlite3_bind_blob(st, 1, group, 16, SQLITE_TRANSIENT);
    if (member)
        sqlite3_bind_blob(st, 2, member, 16, SQLITE_TRANSIENT);
    struct ww_buf pt;
    ww_buf_init(&pt, WW_MAX_BODY);
    struct texts *tx = ww_malloc(sizeof *tx);
    if (!tx)
        rc = WW_ENOMEM;
    int step = SQLITE_DONE;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        struct ww_reflection r;
        memset(&r, 0, sizeof r);
        memcpy(r.member, sqlite3_column_blob(st, 0), 16);
        r.date = (uint32_t)sqlite3_column_int64(st, 1);
        r.hlc = (uint64_t)sqlite3_column_int64(st, 2);
        memcpy(r.hash, sqlite3_column_blob(st, 3), 32);
        r.readable = sqlite3_column_int(st, 4);
        r.code = col_text(st, 5);
        r.status = sqlite3_column_int(st, 6);
        r.obstacles = (unsigned)sqlite3_column_int(st, 7);
        r.share = sqlite3_column_int(st, 8);
        r.draft = sqlite3_column_int(st, 9);
        size_t n = (size_t)sqlite3_column_bytes(st, 10) / 2;
        const uint8_t *ans = sqlite3_column_blob(st, 10);
        for (size_t i = 0; i < n && i < WW_MAX_ANSWERS; i++) {
            r.answer_item[i] = ans[2 * i];
            r.answer_value[i] = ans[2 * i + 1];
            r.n_answers = i + 1;
        }
        r.obstacle_note = r.situatie = r.taak = r.actie = r.resultaat = r.reflectie = "";
        struct ww_body body;
        uint8_t author[32];
        memcpy(author, sqlite3_column_blob(st, 11), 32);
        if (r.readable &&
            ww_read_body(s, group, author, (uint64_t)sqlite3_column_int64(st, 12), &pt, &body) ==
                0 &&
            body.kind == WW_KIND_REFLECTION_PUT) {
            const struct ww_body_reflection *b = &body.u.reflection;
            r.obstacle_note = cstr(tx->note, sizeof tx->note, &b->obstacle_note);
            r.situatie = cstr(tx->s, sizeof tx->s, &b->situatie);
            r.taak = cstr(tx->t, sizeof tx->t, &b->taak);
            r.actie = cstr(tx->a, sizeof tx->a, &b->actie);
            r.resultaat = cstr(tx->r, sizeof tx->r, &b->resultaat);
            r.reflectie = cstr(tx->r2, sizeof tx->r2, &b->reflectie);
        } else {
            r.readable = 0;
        }
        cb(ud, &r);
    }
    sqlite3_finalize(st);
    ww_free(tx);
    ww_buf_free(&pt);
    if (rc == 0 && step != SQLITE_DONE)
        rc = ww_db_err(s, step);
    return rc;
}

/* ---- Reactions ------------------------------------------------------------------------ */

int ww_reaction_put(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                    const uint8_t target[WW_EVENT_HASH_LEN], const char *text,
                    uint8_t hash_out[WW_EVENT_HASH_LEN])
{
    if (!s || !group || !target)
        return WW_EINVAL;
    int rc = ww_text_check(text, WW_MAX_REACTION, 1);
    if (rc == 0)
        rc = ww_cache_load(s, group);
    if (rc != 0)
        return rc;
    sqlite3_stmt *st = ww_sql(s, "SELECT audience, member FROM reflections WHERE gid=?1 AND "
                                 "hash=?2 AND readable=1");
    if (!st)
        return ww_sql_failed(s);
    sqlite3_bind_blob(st, 1, group, 16, SQLITE_TRANSIENT);
    sqlite3_bind_blob(st, 2, target, 32, SQLITE_TRANSIENT);
    int audience = -1;
    uint8_t subject[16] = {0};
    if (sqlite3_step(st) == SQLITE_ROW) {
        audience = sqlite3_column_int(st, 0);
        memcpy(subject, sqlite3_column_blob(st, 1), 16);
    }
    sqlite3_reset(st);
    if (audience < 0)
        return WW_ENOTFOUND;
    if (audience != WW_AUD_GROUP && audience != WW_AUD_PAIR)
        return WW_EPERM; /* a private reflection has no audience to react in */
    struct ww_body body;
    memset(&body, 0, sizeof body);
    body.kind = WW_KIND_REACTION_PUT;
    memcpy(body.u.reaction.target, target, 32);
    body.u.reaction.text = ww_slice_of(text);
    struct ww_emit e = {.kind = WW_KIND_REACTION_PUT,
                        .audience = (uint8_t)audience,
                        .subject = audience == WW_AUD_PAIR ? subject : NULL,
                        .body = &body};
    return ww_emit_tx(s, group, &e, hash_out);
}

int ww_reaction_del(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                    const uint8_t reaction[WW_EVENT_HASH_LEN], uint8_t hash_out[WW_EVENT_HASH_LEN])
{
    if (!s || !group || !reaction)
        return WW_EINVAL;
    struct ww_devinfo me;
    int rc = ww_cache_load(s, group);
    if (rc != 0)
        return rc;
    if (!ww_cache_cur(s)->exists)
        return WW_EGROUP;
    const struct ww_devinfo *d = ww_cache_me(s);
    if (!d)
        return WW_ENOTMEMBER;
    me = *d;
    sqlite3_stmt *st = ww_sql(s, "SELECT member, subject FROM reactions WHERE gid=?1 AND hash=?2");
    if (!st)
        return ww_sql_failed(s);
    ww_bind_blob(st, 1, group, 16);
    ww_bind_blob(st, 2, reaction, 32);
    int step = sqlite3_step(st), found = step == SQLITE_ROW, mine = 0;
    uint8_t subject[16] = {0};
    if (found) {
        mine = !memcmp(sqlite3_column_blob(st, 0), me.member, 16);
        memcpy(subject, sqlite3_column_blob(st, 1), 16);
    }
    sqlite3_reset(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return ww_db_err(s, step);
    if (!found)
        return WW_ENOTFOUND;
    if (!mine)
        return WW_EROLE; /* only its author withdraws a reaction */
    static const uint8_t zero[16];
    int pair = memcmp(subject, zero, 16) != 0;
    struct ww_body body;
    memset(&body, 0, sizeof body);
    body.kind = WW_KIND_REACTION_DEL;
    memcpy(body.u.reaction_del.target, reaction, 32);
    struct ww_emit e = {.kind = WW_KIND_REACTION_DEL,
                        .audience = pair ? WW_AUD_PAIR : WW_AUD_GROUP,
                        .subject = pair ? subject : NULL,
                        .body = &body};
    return ww_emit_tx(s, group, &e, hash_out);
}

int ww_reactions_list(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                      const uint8_t target[WW_EVENT_HASH_LEN],
                      void (*cb)(void *ud, const struct ww_reaction *r), void *ud)
{
    int grc = group_known(s, group);
    if (grc != 0)
        return grc;
    sqlite3_stmt *st = ww_sql(s, "SELECT hash, target, member, text, hlc FROM reactions WHERE "
                                 "gid=?1 AND (?2 IS NULL OR target=?2) ORDER BY hlc, hash");
    if (!st)
        return ww_sql_failed(s);
    sqlite3_bind_blob(st, 1, group, 16, SQLITE_TRANSIENT);
    if (target)
        sqlite3_bind_blob(st, 2, target, 32, SQLITE_TRANSIENT);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct ww_reaction r;
        memcpy(r.hash, sqlite3_column_blob(st, 0), 32);
        memcpy(r.target, sqlite3_column_blob(st, 1), 32);
        memcpy(r.member, sqlite3_column_blob(st, 2), 16);
        r.text = col_text(st, 3);
        r.hlc = (uint64_t)sqlite3_column_int64(st, 4);
        cb(ud, &r);
    }
    sqlite3_reset(st);
    return step == SQLITE_DONE ? 0 : ww_db_err(s, step);
}

/* ---- Signals ------------------------------------------------------------------------ */

static int is_member(struct ww_store *s, const uint8_t member[16], int learners_only)
{
    for (size_t i = 0; i < ww_cache_cur(s)->n_devices; i++)
        if (!memcmp(ww_cache_cur(s)->devices[i].member, member, 16) &&
            (!learners_only || ww_cache_cur(s)->devices[i].role != WW_ROLE_COACH))
            return 1;
    return 0;
}

int ww_signal_raise(struct ww_store *s, const uint8_t group[WW_ID_LEN], int category,
                    const char *text, const uint8_t *concerns, uint8_t hash_out[WW_EVENT_HASH_LEN])
{
    if (!s || !group || category < 1 || category > WW_SIGCAT_MAX)
        return WW_EINVAL;
    struct ww_devinfo me;
    int rc = ww_text_check(text, WW_MAX_SIGNAL, 1);
    if (rc == 0)
        rc = learner(s, group, &me);
    if (rc != 0)
        return rc;
    if (concerns && !is_member(s, concerns, 0))
        return WW_ENOTFOUND;
    struct ww_body body;
    memset(&body, 0, sizeof body);
    body.kind = WW_KIND_SIGNAL_RAISE;
    body.u.signal_raise.category = (uint8_t)category;
    body.u.signal_raise.text = ww_slice_of(text);
    if (concerns) {
        body.u.signal_raise.has_concerns = 1;
        memcpy(body.u.signal_raise.concerns, concerns, 16);
    }
    struct ww_emit e = {
        .kind = WW_KIND_SIGNAL_RAISE, .audience = WW_AUD_PAIR, .subject = me.member, .body = &body};
    uint8_t hash[32];
    if ((rc = ww_emit_tx(s, group, &e, hash)) == 0 && hash_out)
        memcpy(hash_out, hash, 32);
    return rc;
}

int ww_signal_resolve(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                      const uint8_t signal[WW_EVENT_HASH_LEN], int state, const char *note,
                      uint8_t hash_out[WW_EVENT_HASH_LEN])
{
    if (!s || !group || !signal || (state != WW_SIGNAL_DISCUSSED && state != WW_SIGNAL_RESOLVED))
        return WW_EINVAL;
    int rc = ww_text_check(note, WW_MAX_NOTE, 0);
    if (rc == 0)
        rc = coach(s, group);
    if (rc != 0)
        return rc;
    sqlite3_stmt *st = ww_sql(s, "SELECT member FROM signals WHERE gid=?1 AND hash=?2");
    if (!st)
        return ww_sql_failed(s);
    sqlite3_bind_blob(st, 1, group, 16, SQLITE_TRANSIENT);
    sqlite3_bind_blob(st, 2, signal, 32, SQLITE_TRANSIENT);
    uint8_t raiser[16];
    int found = sqlite3_step(st) == SQLITE_ROW;
    if (found)
        memcpy(raiser, sqlite3_column_blob(st, 0), 16);
    sqlite3_reset(st);
    if (!found)
        return WW_ENOTFOUND;
    struct ww_body body;
    memset(&body, 0, sizeof body);
    body.kind = WW_KIND_SIGNAL_RESOLVE;
    memcpy(body.u.signal_resolve.signal, signal, 32);
    body.u.signal_resolve.state = (uint8_t)state;
    body.u.signal_resolve.note = ww_slice_of(note);
    struct ww_emit e = {.kind = WW_KIND_SIGNAL_RESOLVE,
                        .audience = WW_AUD_PAIR,
                        .subject = raiser,
                        .ref = signal,
                        .ref_len = 16,
                        .body = &body};
    return ww_emit_tx(s, group, &e, hash_out);
}

int ww_signals_list(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                    void (*cb)(void *ud, const struct ww_signal *sg), void *ud)
{
    int grc = group_known(s, group);
    if (grc != 0)
        return grc;
    sqlite3_stmt *st = ww_sql(
        s, "SELECT s.hash, s.member, s.category, s.text, s.concerns, s.hlc, coalesce(t.state, 0), "
           "coalesce(t.note, '') FROM signals s LEFT JOIN signal_states t ON t.gid=s.gid AND "
           "t.signal=s.hash WHERE s.gid=?1 ORDER BY s.hlc DESC, s.hash");
    if (!st)
        return ww_sql_failed(s);
    sqlite3_bind_blob(st, 1, group, 16, SQLITE_TRANSIENT);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct ww_signal g;
        memset(&g, 0, sizeof g);
        memcpy(g.hash, sqlite3_column_blob(st, 0), 32);
        memcpy(g.member, sqlite3_column_blob(st, 1), 16);
        g.category = sqlite3_column_int(st, 2);
        g.text = col_text(st, 3);
        if (sqlite3_column_bytes(st, 4) == 16) {
            g.has_concerns = 1;
            memcpy(g.concerns, sqlite3_column_blob(st, 4), 16);
        }
        g.hlc = (uint64_t)sqlite3_column_int64(st, 5);
        g.state = sqlite3_column_int(st, 6);
        g.note = col_text(st, 7);
        cb(ud, &g);
    }
    sqlite3_reset(st);
    return step == SQLITE_DONE ? 0 : ww_db_err(s, step);
}

/* ---- Sign-offs ---------------------------------------------------------------------- */

int ww_signoff_put(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                   const uint8_t member[WW_ID_LEN], const char *code, uint32_t date, int level,
                   const char *note, uint8_t hash_out[WW_EVENT_HASH_LEN])
{
    if (!s || !group || !member || !code || !*code || strlen(code) > WW_MAX_CODE ||
        date > WW_MAX_DATE || level < WW_LEVEL_NEVER || level > WW_LEVEL_GOOD)
        return WW_EINVAL;
    int rc = ww_text_check(note, WW_MAX_NOTE, 0);
    if (rc == 0)
        rc = coach(s, group);
    if (rc != 0)
        return rc;
    if (!is_member(s, member, 1))
        return WW_ENOTFOUND;
    struct ww_body body;
    memset(&body, 0, sizeof body);
    body.kind = WW_KIND_SIGNOFF_PUT;
    struct ww_body_signoff *o = &body.u.signoff;
    memcpy(o->member, member, 16);
    o->code = ww_slice_of(code);
    o->date = date;
    o->level = (uint8_t)level;
    o->note = ww_slice_of(note);
    struct ww_emit e = {
        .kind = WW_KIND_SIGNOFF_PUT, .audience = WW_AUD_PAIR, .subject = member, .body = &body};
    return ww_emit_tx(s, group, &e, hash_out);
}

int ww_signoffs_list(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                     void (*cb)(void *ud, const struct ww_signoff *so), void *ud)
{
    int grc = group_known(s, group);
    if (grc != 0)
        return grc;
    sqlite3_stmt *st = ww_sql(s, "SELECT hash, member, code, date, level, note, hlc FROM signoffs "
                                 "WHERE gid=?1 ORDER BY date DESC, hlc DESC, hash");
    if (!st)
        return ww_sql_failed(s);
    sqlite3_bind_blob(st, 1, group, 16, SQLITE_TRANSIENT);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct ww_signoff o;
        memcpy(o.hash, sqlite3_column_blob(st, 0), 32);
        memcpy(o.member, sqlite3_column_blob(st, 1), 16);
        o.code = col_text(st, 2);
        o.date = (uint32_t)sqlite3_column_int64(st, 3);
        o.level = sqlite3_column_int(st, 4);
        o.note = col_text(st, 5);
        o.hlc = (uint64_t)sqlite3_column_int64(st, 6);
        cb(ud, &o);
    }
    sqlite3_reset(st);
    return step == SQLITE_DONE ? 0 : ww_db_err(s, step);
}
