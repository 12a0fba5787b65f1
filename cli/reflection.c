/*
 * reflection.c - the end of the day: `reflect` (STARR text, obstacles, sharing and climate
 * answers), `reflections`, `react` and `reactions`.
 *
 * Climate answers come in as ITEM=VALUE in any order; the library wants the items strictly
 * ascending, so they are collected per item, checked for contradictions and written out
 * in item order. Texts are passed through untouched: the library checks their length and
 * UTF-8 and answers with an error this file reports.
 */
#include <string.h>
#include <strings.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"

#define N_ITEMS     12 /* climate items are numbered 1..12 (K1, K2, R1..R10) */
#define MAX_ANSWERS 8

static int find_item(const char *code, size_t len)
{
    char buf[8];
    if (len == 0 || len >= sizeof buf)
        return 0;
    memcpy(buf, code, len);
    buf[len] = '\0';
    for (int i = 1; i <= N_ITEMS; i++) {
        const struct ww_climate_item *it = ww_climate_item_get((uint8_t)i);
        if (it && !strcasecmp(it->code, buf))
            return i;
    }
    return 0;
}

/* "1".."5", or one of the words for "not applicable" (0). -1 when neither. */
static int answer_value(const char *s)
{
    static const char *const na[] = {"nvt", "n.v.t.", "na", "n/a"};
    if (s[0] >= '1' && s[0] <= '5' && s[1] == '\0')
        return s[0] - '0';
    for (size_t i = 0; i < sizeof na / sizeof na[0]; i++)
        if (!strcasecmp(s, na[i]))
            return 0;
    return -1;
}

static int parse_answers(const struct args *a, struct ww_reflection *r)
{
    int value[N_ITEMS + 1];
    char q[48];
    for (int i = 0; i <= N_ITEMS; i++)
        value[i] = -1;
    size_t count = args_count(a, "answer");
    for (size_t k = 0; k < count; k++) {
        const char *s = args_at(a, "answer", k);
        const char *eq = strchr(s, '=');
        int item = eq ? find_item(s, (size_t)(eq - s)) : 0;
        int v = eq ? answer_value(eq + 1) : -1;
        if (!item || v < 0)
            return input_error(
                _("invalid answer '{1}' (expected ITEM=VALUE, such as K1=4 or R7=na)"),
                quoted(s, q), NULL);
        if (value[item] >= 0 && value[item] != v)
            return input_error(_("item {1} has two different answers"),
                               ww_climate_item_get((uint8_t)item)->code, NULL);
        value[item] = v;
    }
    size_t n = 0;
    for (int i = 1; i <= N_ITEMS; i++) {
        if (value[i] < 0)
            continue;
        if (n == MAX_ANSWERS)
            return input_error(_("too many climate answers (at most {1})"), "8", NULL);
        r->answer_item[n] = (uint8_t)i;
        r->answer_value[n] = (uint8_t)value[i];
        n++;
    }
    r->n_answers = n;
    return CLI_OK;
}

/* ---- Asking the STARR questions ---- */

#define LINE_MAX_BYTES 2048

/* The texts typed for one reflection (owned here, freed by free_asked). */
struct asked {
    char *text[6]; /* obstacles, situatie, taak, actie, resultaat, reflectie */
};

static void free_asked(struct asked *q)
{
    for (size_t i = 0; i < sizeof q->text / sizeof q->text[0]; i++)
        free(q->text[i]);
}

/* One line from stdin, without its newline, after the prompt on stderr when stdin is a
 * terminal (from a pipe the lines come silently); NULL at the end of the input or for a line
 * longer than LINE_MAX_BYTES, which is read no further. The caller frees the line. */
static char *ask(const char *prompt)
{
    int tty = isatty(STDIN_FILENO);
    if (tty) {
        fputs(prompt, stderr);
        fflush(stderr);
    }
    char buf[LINE_MAX_BYTES + 2];
    size_t n = fgets(buf, sizeof buf, stdin) ? strlen(buf) : 0;
    int whole = n > 0 && (buf[n - 1] == '\n' || feof(stdin));
    if (!whole) {
        if (tty)
            fputc('\n', stderr); /* the error that follows starts a line of its own */
        return NULL;
    }
    if (buf[n - 1] == '\n')
        buf[--n] = '\0';
    if (n > 0 && buf[n - 1] == '\r')
        buf[--n] = '\0';
    char *line = malloc(n + 1);
    if (line)
        memcpy(line, buf, n + 1);
    return line;
}

/* A word answer: on a terminal asked again until it is one of the words (at most 3 times);
 * from a pipe the first answer counts. "" takes dflt when there is one. */
static int ask_word(const char *prompt, enum word_kind kind, const char *option, const char *dflt,
                    int tty, int *out)
{
    for (int tries = 0; tries < 3; tries++) {
        char *line = ask(prompt);
        if (!line)
            return input_error(_("the answers ended before the reflection was complete"), NULL,
                               NULL);
        const char *word = *line || !dflt ? line : dflt;
        int rc = parse_word(kind, word, option, out);
        free(line);
        if (rc == CLI_OK || !tty)
            return rc;
    }
    return CLI_INPUT;
}

/*
 * On a terminal, `reflect GROUP` without --status asks the STARR questions one by one, after
 * the reminder not to write anything that identifies a client; from a pipe it reads the same
 * answers, one per line, in the same order (status, what was in the way when not done, the
 * five texts, who sees it). Options given on the command line are not asked again.
 */
static int ask_starr(struct args *a, struct ww_reflection *r, struct asked *q)
{
    int tty = isatty(STDIN_FILENO);
    if (tty)
        say_to(stderr,
               _("Reflect on today's challenge with STARR. Never write a client's name, room "
                 "number or anything else that tells who it is."),
               NULL, NULL, NULL);
    int rc = ask_word(_("How did it go? (done, partly, not): "), WORD_STATUS, "--status", NULL, tty,
                      &r->status);
    if (rc == CLI_OK && r->status != WW_STATUS_DONE && !args_count(a, "obstacle")) {
        q->text[0] = ask(_("What was in the way? (no-chance, no-supervisor, did-not-dare, "
                           "not-fitting, other-tasks, absent; several with spaces; empty: "
                           "nothing): "));
        if (!q->text[0])
            return input_error(_("the answers ended before the reflection was complete"), NULL,
                               NULL);
        for (char *save = NULL, *w = strtok_r(q->text[0], " ,", &save); w && rc == CLI_OK;
             w = strtok_r(NULL, " ,", &save)) {
            int bit = 0;
            if ((rc = parse_word(WORD_OBSTACLE, w, "--obstacle", &bit)) == CLI_OK)
                r->obstacles |= 1u << bit;
        }
    }
    static const char *const prompts[5] = {N_("Situation (situatie): "), N_("Task (taak): "),
                                           N_("Action (actie): "), N_("Result (resultaat): "),
                                           N_("Reflection (reflectie): ")};
    const char **fields[5] = {&r->situatie, &r->taak, &r->actie, &r->resultaat, &r->reflectie};
    for (size_t i = 0; i < 5 && rc == CLI_OK; i++) {
        if (*fields[i])
            continue; /* given as an option */
        if (!(q->text[1 + i] = ask(_(prompts[i]))))
            return input_error(_("the answers ended before the reflection was complete"), NULL,
                               NULL);
        *fields[i] = q->text[1 + i];
    }
    if (rc == CLI_OK && !args_get(a, "share"))
        rc = ask_word(_("Who may read it? (me, group, coach) [me]: "), WORD_SHARE, "--share", "me",
                      tty, &r->share);
    return rc;
}

int verb_reflect(struct cli *c, int argc, char **argv)
{
    static const struct opt_spec spec[] = {
        {"status", 1, 0},    {"date", 1, 0},  {"obstacle", 1, 1}, {"obstacle-note", 1, 0},
        {"situatie", 1, 0},  {"taak", 1, 0},  {"actie", 1, 0},    {"resultaat", 1, 0},
        {"reflectie", 1, 0}, {"share", 1, 0}, {"draft", 0, 0},    {"answer", 1, 1},
        {NULL, 0, 0}};
    struct args a;
    uint8_t gid[WW_ID_LEN];
    struct ww_reflection r;
    int rc = args_parse(spec, argc, argv, 1, 1, &a);
    if (rc != CLI_OK)
        return rc;
    memset(&r, 0, sizeof r);
    const char *v = args_get(&a, "status");
    if (v && (rc = parse_word(WORD_STATUS, v, "--status", &r.status)) != CLI_OK)
        return rc;
    r.share = WW_SHARE_SELF;
    if ((v = args_get(&a, "share")) && (rc = parse_word(WORD_SHARE, v, "--share", &r.share)))
        return rc;
    for (size_t k = 0; k < args_count(&a, "obstacle"); k++) {
        int bit = 0;
        rc = parse_word(WORD_OBSTACLE, args_at(&a, "obstacle", k), "--obstacle", &bit);
        if (rc != CLI_OK)
            return rc;
        r.obstacles |= 1u << bit;
    }
    if (r.obstacles && r.status == WW_STATUS_DONE)
        return input_error(_("obstacles go with status partly or not, not with done"), NULL, NULL);
    if ((rc = parse_answers(&a, &r)) != CLI_OK)
        return rc;
    uint32_t date_arg = 0;
    const char *date_str = args_get(&a, "date");
    if (date_str && (rc = parse_date(date_str, &date_arg)) != CLI_OK)
        return rc;
    r.obstacle_note = args_get(&a, "obstacle-note");
    r.situatie = args_get(&a, "situatie");
    r.taak = args_get(&a, "taak");
    r.actie = args_get(&a, "actie");
    r.resultaat = args_get(&a, "resultaat");
    r.reflectie = args_get(&a, "reflectie");
    r.draft = args_get(&a, "draft") ? 1 : 0;
    if ((rc = cli_group(c, a.pos[0], gid)) != CLI_OK)
        return rc;
    /* Without --status: the questions, on a terminal or from stdin. */
    struct asked q;
    memset(&q, 0, sizeof q);
    if (!args_get(&a, "status") && (rc = ask_starr(&a, &r, &q)) != CLI_OK) {
        free_asked(&q);
        return rc;
    }
    if (r.obstacles && r.status == WW_STATUS_DONE) {
        free_asked(&q);
        return input_error(_("obstacles go with status partly or not, not with done"), NULL, NULL);
    }
    r.date = date_arg;
    if (!date_str && (rc = cli_date_or_today(c, gid, NULL, &r.date)) != CLI_OK)
        return rc;
    uint8_t hash[WW_EVENT_HASH_LEN];
    rc = ww_reflection_put(c->store, gid, &r, hash);
    free_asked(&q);
    if (rc != 0)
        return lib_error(rc, _("cannot save the reflection"), NULL);
    if (c->json)
        return json_result("reflect",
                           json_pack("{s:o, s:o, s:o, s:o, s:b}", "group", j_hex(gid, WW_ID_LEN),
                                     "id", j_hex(hash, WW_EVENT_HASH_LEN), "date", j_date(r.date),
                                     "share", j_enum(WORD_SHARE, r.share), "draft", r.draft));
    char d[11];
    ww_date_format(r.date, d);
    say2(r.draft ? _("draft for {1} saved ({2})") : _("reflection for {1} saved ({2})"), d,
         share_name(r.share));
    struct hexbuf h; /* the event id, for reactions */
    printf("%s\n", hex_of(hash, WW_EVENT_HASH_LEN, &h));
    /* Climate answers that no aggregator receives: the learner should know (stderr, so
     * that the id stays the last line of stdout). */
    struct ww_climate_info ci;
    if (r.n_answers && !r.draft && ww_group_climate_get(c->store, gid, &ci) == 0 &&
        ci.state == WW_AGGKEYS_UNPINNED)
        say_to(stderr,
               _("note: your climate answers stay on this device: its hub did not confirm "
                 "the group's climate keys to it (join through the hub to share them)"),
               NULL, NULL, NULL);
    return CLI_OK;
}

struct reflection_list {
    const struct roster *roster;
    size_t n;
    json_t *json;
};

static void print_field(const char *label, const char *text)
{
    if (!text || !*text)
        return;
    char prefix[64];
    snprintf(prefix, sizeof prefix, "  %s: ", label);
    print_text(prefix, text, 4);
}

json_t *json_reflection(const struct roster *roster, const struct ww_reflection *r)
{
    json_t *o =
        json_pack("{s:o, s:o, s:o, s:o, s:b}", "id", j_hex(r->hash, WW_EVENT_HASH_LEN), "date",
                  j_date(r->date), "member", j_hex(r->member, WW_ID_LEN), "alias",
                  j_alias(roster_alias(roster, r->member), r->member), "readable", r->readable);
    if (!o || !r->readable)
        return o;
    json_t *climate = json_object();
    for (size_t i = 0; climate && i < r->n_answers && i < MAX_ANSWERS; i++) {
        const struct ww_climate_item *it = ww_climate_item_get(r->answer_item[i]);
        if (it)
            json_object_set_new(climate, it->code,
                                r->answer_value[i] ? json_integer(r->answer_value[i])
                                                   : json_null());
    }
    json_object_update_new(
        o, json_pack("{s:o, s:o, s:b, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "status",
                     j_enum(WORD_STATUS, r->status), "share", j_enum(WORD_SHARE, r->share), "draft",
                     r->draft, "challenge", j_text(r->code), "obstacles", j_obstacles(r->obstacles),
                     "obstacle_note", j_text(r->obstacle_note), "situatie", j_text(r->situatie),
                     "taak", j_text(r->taak), "actie", j_text(r->actie), "resultaat",
                     j_text(r->resultaat), "reflectie", j_text(r->reflectie), "climate", climate));
    return o;
}

void print_reflection_text(const struct ww_reflection *r)
{
    print_field(_("challenge"), r->code);
    if (r->obstacles) {
        printf("  %s:", _("obstacles"));
        const char *sep = " ";
        for (unsigned bit = 0; bit < 6; bit++) {
            if (r->obstacles & (1u << bit)) {
                printf("%s%s", sep, obstacle_name(bit));
                sep = ", ";
            }
        }
        putchar('\n');
    }
    print_field(_("note"), r->obstacle_note);
    print_field(_("situation"), r->situatie);
    print_field(_("task"), r->taak);
    print_field(_("action"), r->actie);
    print_field(_("result"), r->resultaat);
    print_field(_("reflection"), r->reflectie);
}

static void print_reflection(void *ud, const struct ww_reflection *r)
{
    struct reflection_list *l = ud;
    if (l->json) {
        json_array_append_new(l->json, json_reflection(l->roster, r));
        l->n++;
        return;
    }
    struct hexbuf m, h;
    char date[11];
    ww_date_format(r->date, date);
    const char *status = r->readable ? status_name(r->status) : "-";
    const char *share = r->readable ? share_name(r->share) : "-";
    printf("%s  %s  %s  %s  %s  %s%s%s%s\n", date, hex_of(r->member, WW_ID_LEN, &m),
           roster_alias(l->roster, r->member), status, share,
           hex_of(r->hash, WW_EVENT_HASH_LEN, &h), r->draft ? "  (" : "",
           r->draft ? _("draft") : "", r->draft ? ")" : "");
    l->n++;
    if (!r->readable) {
        printf("  %s\n", _("(private)"));
        return;
    }
    print_reflection_text(r);
    if (r->n_answers) {
        printf("  %s:", _("climate"));
        for (size_t i = 0; i < r->n_answers && i < MAX_ANSWERS; i++) {
            const struct ww_climate_item *it = ww_climate_item_get(r->answer_item[i]);
            if (!it)
                continue;
            if (r->answer_value[i] == 0)
                printf(" %s=%s", it->code, _("na"));
            else
                printf(" %s=%u", it->code, (unsigned)r->answer_value[i]);
        }
        putchar('\n');
    }
}

int verb_reflections(struct cli *c, int argc, char **argv)
{
    struct args a;
    uint8_t gid[WW_ID_LEN], member[WW_ID_LEN];
    int rc = args_parse(NULL, argc, argv, 1, 2, &a);
    if (rc == CLI_OK && a.n_pos == 2)
        rc = parse_member(a.pos[1], member);
    if (rc == CLI_OK)
        rc = cli_group(c, a.pos[0], gid);
    struct roster roster;
    struct reflection_list l = {&roster, 0, NULL};
    json_t *doc = NULL;
    if (rc == CLI_OK)
        rc = json_list(c, "reflections", gid, "reflections", &doc, &l.json);
    if (rc == CLI_OK && (rc = roster_load(c, gid, &roster)) != CLI_OK)
        json_decref(doc);
    if (rc != CLI_OK)
        return rc;
    rc = ww_reflections_list(c->store, gid, a.n_pos == 2 ? member : NULL, print_reflection, &l);
    roster_free(&roster);
    if (rc != 0) {
        json_decref(doc);
        return lib_error(rc, _("cannot list the reflections"), NULL);
    }
    if (doc)
        return json_print(doc);
    if (l.n == 0)
        say(_("(no reflections)"));
    return CLI_OK;
}

int verb_react(struct cli *c, int argc, char **argv)
{
    struct args a;
    uint8_t gid[WW_ID_LEN], target[WW_EVENT_HASH_LEN];
    int rc = args_parse(NULL, argc, argv, 3, 3, &a);
    if (rc == CLI_OK)
        rc = parse_event(a.pos[1], target);
    if (rc == CLI_OK && !*a.pos[2])
        rc = input_error(_("{1} must not be empty"), _("the text"), NULL);
    if (rc == CLI_OK)
        rc = cli_group(c, a.pos[0], gid);
    if (rc != CLI_OK)
        return rc;
    uint8_t hash[WW_EVENT_HASH_LEN];
    if ((rc = ww_reaction_put(c->store, gid, target, a.pos[2], hash)) != 0)
        return lib_error(rc, _("cannot react"), NULL);
    if (c->json)
        return json_result("react", json_pack("{s:o, s:o, s:o}", "group", j_hex(gid, WW_ID_LEN),
                                              "id", j_hex(hash, WW_EVENT_HASH_LEN), "target",
                                              j_hex(target, WW_EVENT_HASH_LEN)));
    say(_("reaction posted"));
    struct hexbuf h; /* the reaction's id, to withdraw it */
    printf("%s\n", hex_of(hash, WW_EVENT_HASH_LEN, &h));
    return CLI_OK;
}

int verb_unreact(struct cli *c, int argc, char **argv)
{
    struct args a;
    uint8_t gid[WW_ID_LEN], reaction[WW_EVENT_HASH_LEN];
    int rc = args_parse(NULL, argc, argv, 2, 2, &a);
    if (rc == CLI_OK)
        rc = parse_event(a.pos[1], reaction);
    if (rc == CLI_OK)
        rc = cli_group(c, a.pos[0], gid);
    if (rc != CLI_OK)
        return rc;
    if ((rc = ww_reaction_del(c->store, gid, reaction, NULL)) != 0)
        return lib_error(rc, _("cannot withdraw the reaction"), NULL);
    say(_("reaction withdrawn"));
    return CLI_OK;
}

struct reaction_list {
    const struct roster *roster;
    size_t n;
    json_t *json;
};

static void print_reaction(void *ud, const struct ww_reaction *r)
{
    struct reaction_list *l = ud;
    struct hexbuf h, m, t;
    if (l->json) {
        json_array_append_new(
            l->json, json_pack("{s:o, s:o, s:o, s:o, s:o}", "id", j_hex(r->hash, WW_EVENT_HASH_LEN),
                               "member", j_hex(r->member, WW_ID_LEN), "alias",
                               j_alias(roster_alias(l->roster, r->member), r->member), "target",
                               j_hex(r->target, WW_EVENT_HASH_LEN), "text", j_text(r->text)));
        l->n++;
        return;
    }
    printf("%s  %s  %s  %s %s\n", hex_of(r->hash, WW_EVENT_HASH_LEN, &h),
           hex_of(r->member, WW_ID_LEN, &m), roster_alias(l->roster, r->member), _("on"),
           hex_of(r->target, WW_EVENT_HASH_LEN, &t));
    print_text("  ", r->text, 2);
    l->n++;
}

int verb_reactions(struct cli *c, int argc, char **argv)
{
    struct args a;
    uint8_t gid[WW_ID_LEN], target[WW_EVENT_HASH_LEN];
    int rc = args_parse(NULL, argc, argv, 1, 2, &a);
    if (rc == CLI_OK && a.n_pos == 2)
        rc = parse_event(a.pos[1], target);
    if (rc == CLI_OK)
        rc = cli_group(c, a.pos[0], gid);
    struct roster roster;
    struct reaction_list l = {&roster, 0, NULL};
    json_t *doc = NULL;
    if (rc == CLI_OK)
        rc = json_list(c, "reactions", gid, "reactions", &doc, &l.json);
    if (rc == CLI_OK && (rc = roster_load(c, gid, &roster)) != CLI_OK)
        json_decref(doc);
    if (rc != CLI_OK)
        return rc;
    rc = ww_reactions_list(c->store, gid, a.n_pos == 2 ? target : NULL, print_reaction, &l);
    roster_free(&roster);
    if (rc != 0) {
        json_decref(doc);
        return lib_error(rc, _("cannot list the reactions"), NULL);
    }
    if (doc)
        return json_print(doc);
    if (l.n == 0)
        say(_("(no reactions)"));
    return CLI_OK;
}
