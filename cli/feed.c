/*
 * feed.c - what the group shared, newest first: `feed GROUP [--days N | --from DATE --to DATE]
 * [--limit N]`.
 *
 * The feed is made of the library's own listings, so it holds exactly what this device may
 * read: reflections whose body it can open (shared with the group; shared with the coach
 * on the coach's device and the author's; this member's own, private ones included), each
 * with the reactions on it, and the signals this device reads (a learner's own, all of them
 * on the coach's device). A reflection another member kept to itself, or shared with the
 * coach only, is a row without a readable body here and never appears; drafts and climate
 * answers do not either. Everything is copied out of the callbacks first, then sorted by
 * date and time, newest first, cut to the limit and printed.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define FEED_LIMIT_DEFAULT 20
#define FEED_LIMIT_MAX     500
#define FEED_DAYS_MAX      366

/* One reflection or signal, owning copies of its texts. */
struct item {
    int is_signal;
    uint32_t date;
    uint64_t hlc;
    uint8_t hash[WW_EVENT_HASH_LEN];
    struct ww_reflection r; /* a reflection: its strings point at text[] */
    struct ww_signal sg;    /* a signal: likewise */
    char *text[7];
};

struct reaction {
    struct ww_reaction r; /* text points at owned */
    char *owned;
};

struct feed {
    uint32_t from, to; /* the dates kept, inclusive */
    size_t n, n_reactions;
    struct item *items;
    struct reaction *reactions;
    int oom;
};

/* A copy of s in *slot; "" for NULL. Returns the copy (never NULL but when out of memory). */
static const char *keep_text(char **slot, const char *s, int *oom)
{
    *slot = strdup(s ? s : "");
    if (!*slot)
        *oom = 1;
    return *slot ? *slot : "";
}

static struct item *add_item(struct feed *f)
{
    if (f->oom)
        return NULL;
    struct item *n = realloc(f->items, (f->n + 1) * sizeof *n);
    if (!n) {
        f->oom = 1;
        return NULL;
    }
    f->items = n;
    memset(&n[f->n], 0, sizeof n[f->n]);
    return &n[f->n++];
}

static void take_reflection(void *ud, const struct ww_reflection *r)
{
    struct feed *f = ud;
    if (!r->readable || r->draft || r->date < f->from || r->date > f->to)
        return;
    struct item *it = add_item(f);
    if (!it)
        return;
    it->date = r->date;
    it->hlc = r->hlc;
    memcpy(it->hash, r->hash, WW_EVENT_HASH_LEN);
    it->r = *r;
    it->r.n_answers = 0; /* climate answers are no part of a feed */
    it->r.code = keep_text(&it->text[0], r->code, &f->oom);
    it->r.obstacle_note = keep_text(&it->text[1], r->obstacle_note, &f->oom);
    it->r.situatie = keep_text(&it->text[2], r->situatie, &f->oom);
    it->r.taak = keep_text(&it->text[3], r->taak, &f->oom);
    it->r.actie = keep_text(&it->text[4], r->actie, &f->oom);
    it->r.resultaat = keep_text(&it->text[5], r->resultaat, &f->oom);
    it->r.reflectie = keep_text(&it->text[6], r->reflectie, &f->oom);
}

/* Signals have no date of their own: it is set from their time once the listing is done
 * (a callback must not call into the store). */
static void take_signal(void *ud, const struct ww_signal *sg)
{
    struct feed *f = ud;
    struct item *it = add_item(f);
    if (!it)
        return;
    it->is_signal = 1;
    it->hlc = sg->hlc;
    memcpy(it->hash, sg->hash, WW_EVENT_HASH_LEN);
    it->sg = *sg;
    it->sg.text = keep_text(&it->text[0], sg->text, &f->oom);
    it->sg.note = keep_text(&it->text[1], sg->note, &f->oom);
}

static void take_reaction(void *ud, const struct ww_reaction *r)
{
    struct feed *f = ud;
    if (f->oom)
        return;
    struct reaction *n = realloc(f->reactions, (f->n_reactions + 1) * sizeof *n);
    if (!n) {
        f->oom = 1;
        return;
    }
    f->reactions = n;
    struct reaction *x = &n[f->n_reactions++];
    x->r = *r;
    x->r.text = keep_text(&x->owned, r->text, &f->oom);
}

/* Newest first: by date, then by time, then by id so the order is the same every time. */
static int newest_first(const void *a, const void *b)
{
    const struct item *x = a, *y = b;
    if (x->date != y->date)
        return x->date < y->date ? 1 : -1;
    if (x->hlc != y->hlc)
        return x->hlc < y->hlc ? 1 : -1;
    return memcmp(x->hash, y->hash, WW_EVENT_HASH_LEN);
}

static void feed_free(struct feed *f)
{
    for (size_t i = 0; i < f->n; i++)
        for (size_t k = 0; k < 7; k++)
            free(f->items[i].text[k]);
    for (size_t i = 0; i < f->n_reactions; i++)
        free(f->reactions[i].owned);
    free(f->items);
    free(f->reactions);
}

/* Reads everything the feed may hold from the store, dates the signals and drops those out
 * of range, and sorts the rest newest first. */
static int feed_load(struct cli *c, const uint8_t gid[WW_ID_LEN], struct feed *f)
{
    int rc = ww_reflections_list(c->store, gid, NULL, take_reflection, f);
    size_t first_signal = f->n;
    if (rc == 0)
        rc = ww_signals_list(c->store, gid, take_signal, f);
    if (rc == 0)
        rc = ww_reactions_list(c->store, gid, NULL, take_reaction, f);
    for (size_t i = first_signal; rc == 0 && i < f->n; i++)
        rc = ww_day_of(c->store, gid, f->items[i].hlc, &f->items[i].date);
    if (rc != 0)
        return lib_error(rc, _("cannot show the feed"), NULL);
    if (f->oom)
        return fail(CLI_FAIL, _("out of memory"), NULL, NULL);
    size_t kept = first_signal;
    for (size_t i = first_signal; i < f->n; i++) {
        struct item *it = &f->items[i];
        if (it->date >= f->from && it->date <= f->to) {
            f->items[kept++] = *it;
            continue;
        }
        for (size_t k = 0; k < 7; k++)
            free(it->text[k]);
    }
    f->n = kept;
    if (f->n > 1)
        qsort(f->items, f->n, sizeof *f->items, newest_first);
    return CLI_OK;
}

static json_t *json_reactions(const struct feed *f, const struct roster *roster,
                              const uint8_t target[WW_EVENT_HASH_LEN])
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < f->n_reactions; i++) {
        const struct ww_reaction *r = &f->reactions[i].r;
        if (memcmp(r->target, target, WW_EVENT_HASH_LEN))
            continue;
        json_array_append_new(a, json_pack("{s:o, s:o, s:o, s:o}", "id",
                                           j_hex(r->hash, WW_EVENT_HASH_LEN), "member",
                                           j_hex(r->member, WW_ID_LEN), "alias",
                                           j_alias(roster_alias(roster, r->member), r->member),
                                           "text", j_text(r->text)));
    }
    return a ? a : json_null();
}

static json_t *json_feed(const struct feed *f, size_t limit, const uint8_t gid[WW_ID_LEN],
                         const struct roster *roster)
{
    json_t *items = json_array();
    for (size_t i = 0; items && i < f->n && i < limit; i++) {
        const struct item *it = &f->items[i];
        json_t *o = it->is_signal ? json_signal(roster, &it->sg) : json_reflection(roster, &it->r);
        if (!o)
            continue;
        json_object_set_new(o, "type", json_string(it->is_signal ? "signal" : "reflection"));
        if (it->is_signal) {
            json_object_set_new(o, "date", j_date(it->date));
        } else {
            json_object_del(o, "climate");
            json_object_set_new(o, "reactions", json_reactions(f, roster, it->hash));
        }
        json_array_append_new(items, o);
    }
    json_t *doc = json_doc("feed");
    if (!doc || !items || json_object_set_new(doc, "group", j_hex(gid, WW_ID_LEN)) ||
        json_object_set_new(doc, "from", f->from ? j_date(f->from) : json_null()) ||
        json_object_set_new(doc, "to", f->to < UINT32_MAX ? j_date(f->to) : json_null()) ||
        json_object_set_new(doc, "more", json_boolean(f->n > limit)) ||
        json_object_set_new(doc, "items", items)) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

static void print_text_feed(const struct feed *f, size_t limit, const struct roster *roster)
{
    size_t n = f->n < limit ? f->n : limit, aw = 0, sw = 0;
    for (size_t i = 0; i < n; i++) {
        const struct item *it = &f->items[i];
        const char *what =
            it->is_signal ? category_name(it->sg.category) : status_name(it->r.status);
        const char *who = roster_alias(roster, it->is_signal ? it->sg.member : it->r.member);
        if (text_width(who) > aw)
            aw = text_width(who);
        if (text_width(what) > sw)
            sw = text_width(what);
    }
    for (size_t i = 0; i < n; i++) {
        const struct item *it = &f->items[i];
        char date[11];
        struct hexbuf h;
        ww_date_format(it->date, date);
        printf("%s  ", date);
        if (it->is_signal) {
            print_padded(roster_alias(roster, it->sg.member), aw + 2);
            print_padded(category_name(it->sg.category), sw + 2);
            printf("%s: %s  %s\n", _("signal"), signal_state_name(it->sg.state),
                   hex_of(it->hash, WW_EVENT_HASH_LEN, &h));
            print_signal_text(roster, &it->sg);
            continue;
        }
        print_padded(roster_alias(roster, it->r.member), aw + 2);
        print_padded(status_name(it->r.status), sw + 2);
        printf("%s: %s  %s\n", _("shared with"), share_name(it->r.share),
               hex_of(it->hash, WW_EVENT_HASH_LEN, &h));
        print_reflection_text(&it->r);
        for (size_t k = 0; k < f->n_reactions; k++) {
            const struct ww_reaction *r = &f->reactions[k].r;
            if (memcmp(r->target, it->hash, WW_EVENT_HASH_LEN))
                continue;
            char prefix[160];
            snprintf(prefix, sizeof prefix, "    > %s: ", roster_alias(roster, r->member));
            print_text(prefix, r->text, 6);
        }
    }
    if (n == 0)
        say(_("(nothing shared yet)"));
    else if (f->n > limit) {
        char shown[24];
        snprintf(shown, sizeof shown, "%zu", limit);
        say1(_("(the newest {1}; --limit shows more)"), shown);
    }
}

/* The dates kept: every date by default, the last N days up to today with --days, or
 * --from and --to (each end open when not given). */
static int feed_range(struct cli *c, const uint8_t gid[WW_ID_LEN], const struct args *a,
                      struct feed *f)
{
    const char *days = args_get(a, "days"), *from = args_get(a, "from"), *to = args_get(a, "to");
    int rc;
    f->from = 0;
    f->to = UINT32_MAX;
    if (days) {
        long n;
        uint32_t today;
        if ((rc = parse_int(days, "--days", 1, FEED_DAYS_MAX, &n)) != CLI_OK ||
            (rc = cli_date_or_today(c, gid, NULL, &today)) != CLI_OK)
            return rc;
        f->to = today;
        f->from = today >= (uint32_t)n - 1 ? today - (uint32_t)(n - 1) : 0;
        return CLI_OK;
    }
    if (from && (rc = parse_date(from, &f->from)) != CLI_OK)
        return rc;
    if (to && (rc = parse_date(to, &f->to)) != CLI_OK)
        return rc;
    return f->from > f->to ? input_error(_("--from must not come after --to"), NULL, NULL) : CLI_OK;
}

int verb_feed(struct cli *c, int argc, char **argv)
{
    static const struct opt_spec spec[] = {
        {"days", 1, 0}, {"from", 1, 0}, {"to", 1, 0}, {"limit", 1, 0}, {NULL, 0, 0}};
    struct args a;
    uint8_t gid[WW_ID_LEN];
    int rc = args_parse(spec, argc, argv, 1, 1, &a);
    if (rc != CLI_OK)
        return rc;
    if (args_get(&a, "days") && (args_get(&a, "from") || args_get(&a, "to")))
        return usage_error(_("--days goes without --from and --to"), NULL, NULL);
    long limit = FEED_LIMIT_DEFAULT;
    const char *limit_arg = args_get(&a, "limit");
    if (limit_arg && (rc = parse_int(limit_arg, "--limit", 1, FEED_LIMIT_MAX, &limit)) != CLI_OK)
        return rc;
    struct feed f;
    memset(&f, 0, sizeof f);
    if ((rc = cli_group(c, a.pos[0], gid)) != CLI_OK || (rc = feed_range(c, gid, &a, &f)) != CLI_OK)
        return rc;
    struct roster roster;
    if ((rc = feed_load(c, gid, &f)) == CLI_OK && (rc = roster_load(c, gid, &roster)) == CLI_OK) {
        if (c->json) {
            json_t *doc = json_feed(&f, (size_t)limit, gid, &roster);
            rc = doc ? json_print(doc) : fail(CLI_FAIL, _("out of memory"), NULL, NULL);
        } else {
            print_text_feed(&f, (size_t)limit, &roster);
        }
        roster_free(&roster);
    }
    feed_free(&f);
    return rc;
}
