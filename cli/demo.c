/*
 * demo.c - `wegwijs demo`: a guided walkthrough of one day in a group, with four devices
 * in one process.
 *
 * The data folder gets four device folders (coach/, student1/, student2/, senior/), each
 * its own store. Events travel between the stores in-process ("sync"): the receiver's
 * version vector goes to the sender, whose missing events are applied by the receiver,
 * until nothing is missing. Every step looks before it writes, so running the demo again
 * reuses the devices, the group and the day's entries and shows the overview again; on a
 * new day it writes that day's reflections and sign-off.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define DEMO_GROUP  "Wegwijs demo"
#define SYNC_BATCH  256
#define SYNC_BYTES  (4u << 20)
#define SYNC_ROUNDS 1000 /* far more than the demo needs; a bound all the same */
#define VV_MAX      64   /* authors in one version vector, as the library allows */

enum { COACH, STUDENT1, STUDENT2, SENIOR, N_PEERS };

struct peer {
    const char *folder; /* also the name shown for the device */
    const char *alias;
    int role;
    char *path;
    struct ww_store *s;
    uint8_t pk[WW_KEY_LEN];
    uint8_t member[WW_ID_LEN];
};

struct demo {
    struct peer p[N_PEERS];
    uint8_t gid[WW_ID_LEN];
    uint32_t today;
    int step;
};

static void step(struct demo *d, const char *what, const char *arg)
{
    char n[16];
    snprintf(n, sizeof n, "%d", ++d->step);
    put_msg(stdout,
            _("\n"
              "== Step {1}: "),
            n, NULL, NULL);
    say1(what, arg);
}

static int failed(int rc, const char *where)
{
    return lib_error(rc, _("walkthrough failed at '{1}'"), where);
}

/* ---- Sync ---------------------------------------------------------------------------- */

struct batch {
    uint8_t *ev[SYNC_BATCH];
    size_t len[SYNC_BATCH];
    size_t n;
    int nomem;
};

static void collect(void *ud, const uint8_t *event, size_t len)
{
    struct batch *b = ud;
    if (b->nomem || b->n == SYNC_BATCH)
        return;
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) {
        b->nomem = 1;
        return;
    }
    memcpy(copy, event, len);
    b->ev[b->n] = copy;
    b->len[b->n] = len;
    b->n++;
}

static void batch_free(struct batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        free(b->ev[i]);
    b->n = 0;
}

/* Moves every event `from` has and `to` lacks. *accepted counts what `to` took in. */
static int sync_pair(struct demo *d, struct peer *from, struct peer *to, size_t *accepted)
{
    struct ww_vv_item vv[VV_MAX];
    *accepted = 0;
    for (int round = 0; round < SYNC_ROUNDS; round++) {
        size_t n_vv = 0;
        int rc = ww_sync_vv(to->s, d->gid, vv, VV_MAX, &n_vv);
        if (rc == 0 && n_vv > VV_MAX)
            rc = WW_ETOOBIG;
        if (rc != 0)
            return rc;
        struct batch b;
        memset(&b, 0, sizeof b);
        int more = 0;
        rc = ww_sync_missing(from->s, d->gid, vv, n_vv, SYNC_BATCH, SYNC_BYTES, collect, &b, &more);
        if (rc == 0 && b.nomem)
            rc = WW_ENOMEM;
        struct ww_apply_result res;
        memset(&res, 0, sizeof res);
        if (rc == 0 && b.n > 0)
            rc = ww_sync_apply(to->s, (const uint8_t *const *)b.ev, b.len, b.n, &res);
        size_t sent = b.n;
        batch_free(&b);
        if (rc != 0)
            return rc;
        if (res.rejected)
            return res.first_error ? res.first_error : WW_EINVAL;
        *accepted += res.accepted;
        /* Done when nothing is missing, or when nothing moved (the rest waits for a cause
         * that `from` does not have either). */
        if (sent == 0 || !more || res.accepted == 0)
            return 0;
    }
    return 0;
}

/* A star through the coach: everyone to the coach, then the coach to everyone. */
static int sync_all(struct demo *d)
{
    step(d, _("sync: the devices exchange events"), NULL);
    for (int pass = 0; pass < 2; pass++) {
        for (int i = STUDENT1; i < N_PEERS; i++) {
            struct peer *from = pass == 0 ? &d->p[i] : &d->p[COACH];
            struct peer *to = pass == 0 ? &d->p[COACH] : &d->p[i];
            size_t accepted = 0;
            int rc = sync_pair(d, from, to, &accepted);
            if (rc != 0)
                return failed(rc, "sync");
            char n[24];
            snprintf(n, sizeof n, "%zu", accepted);
            say3(_("{1} -> {2}: {3} new"), from->folder, to->folder, n);
        }
    }
    return CLI_OK;
}

/* ---- Devices, group, members ------------------------------------------------------- */

static int open_devices(struct demo *d, const char *data)
{
    int rc = make_dirs(data);
    if (rc != 0)
        return fail(CLI_FAIL, _("cannot create the data folder '{1}': {2}"), data, strerror(-rc));
    step(d, _("four devices"), NULL);
    for (int i = 0; i < N_PEERS; i++) {
        struct peer *p = &d->p[i];
        size_t a = strlen(data), b = strlen(p->folder);
        p->path = malloc(a + b + 2);
        if (!p->path)
            return fail(CLI_FAIL, _("out of memory"), NULL, NULL);
        memcpy(p->path, data, a);
        p->path[a] = '/';
        memcpy(p->path + a + 1, p->folder, b + 1);
        if ((rc = ww_store_open(p->path, NULL, &p->s)) != 0) {
            p->s = NULL;
            return store_error(rc, p->path);
        }
        ww_store_device(p->s, p->pk);
        struct hexbuf h;
        say3(_("{1}: device {2} in {3}"), p->folder, hex_of(p->pk, WW_KEY_LEN, &h), p->path);
    }
    return CLI_OK;
}

struct find_group {
    int found;
    uint8_t gid[WW_ID_LEN];
};

static void find_group_cb(void *ud, const struct ww_group_info *g)
{
    struct find_group *f = ud;
    if (!f->found && g->is_owner && g->name && !strcmp(g->name, DEMO_GROUP)) {
        memcpy(f->gid, g->id, WW_ID_LEN);
        f->found = 1;
    }
}

static int find_device(const struct roster *r, const uint8_t pk[WW_KEY_LEN])
{
    for (size_t i = 0; i < r->n; i++)
        if (r->e[i].active && r->e[i].n_devices > 0 &&
            !memcmp(r->e[i].first_device, pk, WW_KEY_LEN))
            return (int)i;
    return -1;
}

static int setup_group(struct demo *d)
{
    struct peer *coach = &d->p[COACH];
    struct hexbuf h;
    step(d, _("the coach creates the group"), NULL);
    struct find_group f = {0, {0}};
    int rc = ww_groups_list(coach->s, find_group_cb, &f);
    if (rc != 0)
        return failed(rc, "groups");
    if (f.found) {
        memcpy(d->gid, f.gid, WW_ID_LEN);
        say2(_("existing group '{1}' from a previous run: {2}"), DEMO_GROUP,
             hex_of(d->gid, WW_ID_LEN, &h));
    } else {
        rc = ww_group_create(coach->s, DEMO_GROUP, NULL, 0, coach->alias, NULL, d->gid, NULL);
        if (rc != 0)
            return failed(rc, "group create");
        say2(_("new group '{1}': {2}"), DEMO_GROUP, hex_of(d->gid, WW_ID_LEN, &h));
    }
    if ((rc = ww_day_today(coach->s, d->gid, &d->today)) != 0)
        return failed(rc, "today");

    struct cli view = {coach->path, coach->s, NULL, 0};
    struct roster r;
    if ((rc = roster_load(&view, d->gid, &r)) != CLI_OK)
        return rc;
    int k = find_device(&r, coach->pk);
    if (k >= 0)
        memcpy(coach->member, r.e[k].id, WW_ID_LEN);
    for (int i = STUDENT1; i < N_PEERS && rc == CLI_OK; i++) {
        struct peer *p = &d->p[i];
        k = find_device(&r, p->pk);
        if (k >= 0) {
            memcpy(p->member, r.e[k].id, WW_ID_LEN);
            say3(_("already a member: {1} ({2}), member id {3}"), p->alias, role_name(p->role),
                 hex_of(p->member, WW_ID_LEN, &h));
            continue;
        }
        int year = p->role == WW_ROLE_SENIOR ? 3 : 1;
        int lrc = ww_member_add(coach->s, d->gid, p->role, p->alias, year, WW_TRACK_BOL, p->pk,
                                p->member);
        if (lrc != 0)
            rc = failed(lrc, "member add");
        else
            say3(_("member added: {1} ({2}), member id {3}"), p->alias, role_name(p->role),
                 hex_of(p->member, WW_ID_LEN, &h));
    }
    roster_free(&r);
    return rc;
}

/* ---- The day ------------------------------------------------------------------------ */

/* Shows the reflection `who` already wrote today, if any; returns 1 when there was one. */
static int already_reflected(struct demo *d, struct peer *who, int *rc);

static int reflect(struct demo *d)
{
    struct peer *s1 = &d->p[STUDENT1], *s2 = &d->p[STUDENT2];
    char date[11];
    ww_date_format(d->today, date);

    step(d, _("{1} looks at today's challenge"), s1->alias);
    int rc = print_day(s1->s, d->gid, d->today);
    if (rc != 0)
        return failed(rc, "today");

    step(d, _("{1} reflects and shares with the group"), s1->alias);
    struct ww_reflection r;
    if (!already_reflected(d, s1, &rc) && rc == CLI_OK) {
        memset(&r, 0, sizeof r);
        r.date = d->today;
        r.status = WW_STATUS_DONE;
        r.situatie = _("At the handover I heard two abbreviations I did not know.");
        r.actie = _("I asked my supervisor what they mean.");
        r.reflectie = _("It felt a bit scary, but asking questions is part of learning.");
        r.share = WW_SHARE_GROUP;
        r.n_answers = 2;
        r.answer_item[0] = 1; /* K1 */
        r.answer_value[0] = 4;
        r.answer_item[1] = 2; /* K2 */
        r.answer_value[1] = 5;
        if ((rc = ww_reflection_put(s1->s, d->gid, &r, NULL)) != 0)
            return failed(rc, "reflect");
        say2(_("reflection for {1} saved ({2})"), date, share_name(r.share));
        printf("  %s: %s\n", _("situation"), r.situatie);
        printf("  %s: %s\n", _("action"), r.actie);
        printf("  %s: %s\n", _("reflection"), r.reflectie);
        printf("  %s: K1=4 K2=5\n", _("climate"));
    }
    if (rc != CLI_OK)
        return rc;

    step(d, _("{1} writes a private reflection"), s2->alias);
    if (!already_reflected(d, s2, &rc) && rc == CLI_OK) {
        memset(&r, 0, sizeof r);
        r.date = d->today;
        r.status = WW_STATUS_PARTLY;
        r.obstacles = WW_OBST_OTHER_TASKS;
        r.situatie = _("I found the shift hard and want to think about it by myself first.");
        r.share = WW_SHARE_SELF;
        if ((rc = ww_reflection_put(s2->s, d->gid, &r, NULL)) != 0)
            return failed(rc, "reflect");
        say2(_("reflection for {1} saved ({2})"), date, share_name(r.share));
        printf("  %s: %s\n", _("situation"), r.situatie);
    }
    return rc;
}

struct find_signal {
    const uint8_t *member;
    const char *text;
    int found;
    uint8_t hash[WW_EVENT_HASH_LEN];
};

static void find_signal_cb(void *ud, const struct ww_signal *sg)
{
    struct find_signal *f = ud;
    if (!f->found && sg->state == 0 && !memcmp(sg->member, f->member, WW_ID_LEN)) {
        memcpy(f->hash, sg->hash, WW_EVENT_HASH_LEN);
        f->found = 1;
    }
}

static int raise_signal(struct demo *d)
{
    struct peer *senior = &d->p[SENIOR];
    struct hexbuf h;
    step(d, _("{1} raises a signal for the coach"), senior->alias);
    struct find_signal f = {
        senior->member,
        _("On the late shift there is often nobody with time for the students."),
        0,
        {0}};
    int rc = ww_signals_list(senior->s, d->gid, find_signal_cb, &f);
    if (rc != 0)
        return failed(rc, "signals");
    if (f.found) {
        say1(_("this signal is already open: {1}"), hex_of(f.hash, WW_EVENT_HASH_LEN, &h));
        return CLI_OK;
    }
    rc = ww_signal_raise(senior->s, d->gid, WW_SIGCAT_GUIDANCE, f.text, NULL, f.hash);
    if (rc != 0)
        return failed(rc, "signal raise");
    say1(_("signal raised: {1}"), hex_of(f.hash, WW_EVENT_HASH_LEN, &h));
    printf("  %s: %s\n", category_name(WW_SIGCAT_GUIDANCE), f.text);
    return CLI_OK;
}

/* ---- The coach's view ---------------------------------------------------------------- */

struct day_reflection {
    const uint8_t *member;
    uint32_t date;
    int found, readable, status, share;
    uint8_t hash[WW_EVENT_HASH_LEN];
    char situatie[512];
};

static void day_reflection_cb(void *ud, const struct ww_reflection *r)
{
    struct day_reflection *f = ud;
    if (f->found || r->date != f->date || memcmp(r->member, f->member, WW_ID_LEN))
        return;
    f->found = 1;
    f->readable = r->readable;
    f->status = r->status;
    f->share = r->share;
    memcpy(f->hash, r->hash, WW_EVENT_HASH_LEN);
    size_t n = r->readable && r->situatie ? strlen(r->situatie) : 0;
    if (n >= sizeof f->situatie)
        n = sizeof f->situatie - 1;
    memcpy(f->situatie, r->readable && r->situatie ? r->situatie : "", n);
    f->situatie[n] = '\0';
}

static int day_reflection(struct demo *d, struct peer *viewer, const uint8_t member[WW_ID_LEN],
                          struct day_reflection *f)
{
    memset(f, 0, sizeof *f);
    f->member = member;
    f->date = d->today;
    return ww_reflections_list(viewer->s, d->gid, member, day_reflection_cb, f);
}

static int already_reflected(struct demo *d, struct peer *who, int *rc)
{
    struct day_reflection f;
    int lrc = day_reflection(d, who, who->member, &f);
    *rc = lrc ? failed(lrc, "reflections") : CLI_OK;
    if (lrc || !f.found)
        return 0;
    say2(_("{1} already reflected today ({2}):"), who->alias, share_name(f.share));
    if (f.readable)
        printf("  %s: %s\n", _("situation"), f.situatie);
    return 1;
}

struct overview {
    const struct roster *roster;
};

static void overview_signal_cb(void *ud, const struct ww_signal *sg)
{
    struct overview *o = ud;
    char what[64];
    snprintf(what, sizeof what, "%s", category_name(sg->category));
    say3(_("  {1} from {2} ({3})"), what, roster_alias(o->roster, sg->member),
         signal_state_name(sg->state));
    print_text("    ", sg->text, 4);
}

static int overview(struct demo *d)
{
    struct peer *coach = &d->p[COACH];
    step(d, _("the coach looks at the group"), NULL);
    struct cli view = {coach->path, coach->s, NULL, 0};
    struct roster r;
    int rc = roster_load(&view, d->gid, &r);
    if (rc != CLI_OK)
        return rc;
    say(_("Members:"));
    for (size_t i = 0; i < r.n; i++)
        if (r.e[i].active)
            printf("  %-12s %s\n", role_name(r.e[i].role), r.e[i].alias);
    char date[11];
    ww_date_format(d->today, date);
    say1(_("Reflections of {1}:"), date);
    for (size_t i = 0; i < r.n && rc == CLI_OK; i++) {
        if (!r.e[i].active || r.e[i].role == WW_ROLE_COACH)
            continue;
        struct day_reflection f;
        int lrc = day_reflection(d, coach, r.e[i].id, &f);
        if (lrc != 0)
            rc = failed(lrc, "reflections");
        else if (!f.found)
            say1(_("  {1}: not yet"), r.e[i].alias);
        else if (!f.readable)
            say1(_("  {1}: reflected, but privately"), r.e[i].alias);
        else
            say3(_("  {1}: reflected ({2}, {3})"), r.e[i].alias, status_name(f.status),
                 share_name(f.share));
    }
    if (rc == CLI_OK) {
        say(_("Signals:"));
        struct overview o = {&r};
        int lrc = ww_signals_list(coach->s, d->gid, overview_signal_cb, &o);
        if (lrc != 0)
            rc = failed(lrc, "signals");
    }
    roster_free(&r);
    return rc;
}

struct find_reaction {
    const uint8_t *member;
    int found;
};

static void find_reaction_cb(void *ud, const struct ww_reaction *re)
{
    struct find_reaction *f = ud;
    if (!memcmp(re->member, f->member, WW_ID_LEN))
        f->found = 1;
}

struct find_signoff {
    const uint8_t *member;
    const char *code;
    uint32_t date;
    int found;
};

static void find_signoff_cb(void *ud, const struct ww_signoff *so)
{
    struct find_signoff *f = ud;
    if (!memcmp(so->member, f->member, WW_ID_LEN) && so->date == f->date && so->code &&
        !strcmp(so->code, f->code))
        f->found = 1;
}

static void day_code_cb(void *ud, const struct ww_day *day)
{
    char *code = ud;
    snprintf(code, 32, "%s", day->challenge.code ? day->challenge.code : "");
}

static int coach_acts(struct demo *d)
{
    struct peer *coach = &d->p[COACH], *s1 = &d->p[STUDENT1];
    step(d, _("the coach reacts and signs off"), NULL);
    struct day_reflection f;
    int rc = day_reflection(d, coach, s1->member, &f);
    if (rc != 0)
        return failed(rc, "reflections");
    if (f.found && f.readable) {
        struct find_reaction fr = {coach->member, 0};
        if ((rc = ww_reactions_list(coach->s, d->gid, f.hash, find_reaction_cb, &fr)) != 0)
            return failed(rc, "reactions");
        if (fr.found) {
            say1(_("the coach already reacted to {1}'s reflection"), s1->alias);
        } else {
            if ((rc = ww_reaction_put(coach->s, d->gid, f.hash, _("Well done for simply asking!"),
                                      NULL)) != 0)
                return failed(rc, "react");
            say2(_("the coach's reaction to {1}'s reflection: {2}"), s1->alias,
                 _("Well done for simply asking!"));
        }
    }
    char code[32] = "", date[11];
    if ((rc = ww_day_get(coach->s, d->gid, d->today, day_code_cb, code)) != 0)
        return failed(rc, "day");
    ww_date_format(d->today, date);
    struct find_signoff fs = {s1->member, code, d->today, 0};
    if ((rc = ww_signoffs_list(coach->s, d->gid, find_signoff_cb, &fs)) != 0)
        return failed(rc, "signoffs");
    if (fs.found) {
        say2(_("{2} already has today's sign-off for {1}"), code, s1->alias);
        return CLI_OK;
    }
    rc = ww_signoff_put(coach->s, d->gid, s1->member, code, d->today, WW_LEVEL_PRACTISING,
                        _("Asked a question at the handover on their own."), NULL);
    if (rc != 0)
        return failed(rc, "signoff");
    say3(_("{1} signed off for {2}: {3}"), code, date, level_name(WW_LEVEL_PRACTISING));
    return CLI_OK;
}

static int privacy(struct demo *d)
{
    struct peer *s2 = &d->p[STUDENT2];
    step(d, _("what everyone can read of {1}'s reflection"), s2->alias);
    for (int i = 0; i < N_PEERS; i++) {
        struct peer *viewer = &d->p[i];
        struct day_reflection f;
        int rc = day_reflection(d, viewer, s2->member, &f);
        if (rc != 0)
            return failed(rc, "reflections");
        if (!f.found)
            say1(_("  {1}: (not received yet)"), viewer->folder);
        else if (!f.readable)
            say2(_("  {1}: {2} (no key for this text)"), viewer->folder, _("(private)"));
        else
            say2(_("  {1}: {2}"), viewer->folder, f.situatie);
    }
    return CLI_OK;
}

int verb_demo(struct cli *c, int argc, char **argv)
{
    struct args a;
    int rc = args_parse(NULL, argc, argv, 0, 0, &a);
    if (rc != CLI_OK)
        return rc;
    struct demo d;
    memset(&d, 0, sizeof d);
    static const struct {
        const char *folder, *alias;
        int role;
    } cast[N_PEERS] = {{"coach", "Ilse", WW_ROLE_COACH},
                       {"student1", "Sam", WW_ROLE_STUDENT},
                       {"student2", "Noor", WW_ROLE_STUDENT},
                       {"senior", "Daan", WW_ROLE_SENIOR}};
    for (int i = 0; i < N_PEERS; i++) {
        d.p[i].folder = cast[i].folder;
        d.p[i].alias = cast[i].alias;
        d.p[i].role = cast[i].role;
    }
    if ((rc = cli_need_data(c)) != CLI_OK)
        return rc;
    say1(_("Wegwijs walkthrough in {1}"), c->data);
    rc = open_devices(&d, c->data);
    if (rc == CLI_OK)
        rc = setup_group(&d);
    if (rc == CLI_OK)
        rc = sync_all(&d);
    if (rc == CLI_OK)
        rc = reflect(&d);
    if (rc == CLI_OK)
        rc = raise_signal(&d);
    if (rc == CLI_OK)
        rc = sync_all(&d);
    if (rc == CLI_OK)
        rc = overview(&d);
    if (rc == CLI_OK)
        rc = coach_acts(&d);
    if (rc == CLI_OK)
        rc = sync_all(&d);
    if (rc == CLI_OK)
        rc = privacy(&d);
    if (rc == CLI_OK)
        say2(_("\n"
               "Done. Try it yourself: wegwijs --data {1} groups  (or --data {2} today GROUP)"),
             d.p[COACH].path, d.p[STUDENT1].path);
    for (int i = 0; i < N_PEERS; i++) {
        ww_store_close(d.p[i].s);
        free(d.p[i].path);
    }
    return rc;
}
