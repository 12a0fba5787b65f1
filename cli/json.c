/*
 * json.c - the `--json` output of the `wegwijs` command, built with jansson (escaping and
 * UTF-8 are the library's, never ours). The shape is documented in docs/JSON.md: one object
 * per run, {"version": 1, "command": "...", ...}, with ids as lowercase hex, dates as
 * "YYYY-MM-DD" and enumerated values as fixed English words that do not depend on --lang.
 */
#include "cli.h"

json_t *json_doc(const char *command)
{
    json_t *doc = json_object();
    if (doc && (json_object_set_new(doc, "version", json_integer(JSON_SHAPE_VERSION)) != 0 ||
                json_object_set_new(doc, "command", json_string(command)) != 0)) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

int json_list(struct cli *c, const char *command, const uint8_t *gid, const char *key, json_t **doc,
              json_t **items)
{
    *doc = *items = NULL;
    if (!c->json)
        return CLI_OK;
    json_t *d = json_doc(command), *a = json_array();
    if (!d || !a || (gid && json_object_set_new(d, "group", j_hex(gid, WW_ID_LEN)) != 0) ||
        json_object_set(d, key, a) != 0) {
        json_decref(d);
        json_decref(a);
        return fail(CLI_FAIL, _("out of memory"), NULL, NULL);
    }
    json_decref(a); /* d holds it */
    *doc = d;
    *items = a;
    return CLI_OK;
}

int json_result(const char *command, json_t *fields)
{
    json_t *doc = json_doc(command);
    if (doc && (!fields || json_object_update(doc, fields) != 0)) {
        json_decref(doc);
        doc = NULL;
    }
    json_decref(fields);
    return json_print(doc);
}

int json_print(json_t *doc)
{
    int rc = doc ? json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : -1;
    json_decref(doc);
    if (rc != 0)
        return fail(CLI_FAIL, _("out of memory"), NULL, NULL);
    putchar('\n');
    return CLI_OK;
}

json_t *j_hex(const uint8_t *bin, size_t len)
{
    struct hexbuf h;
    return json_string(hex_of(bin, len, &h));
}

json_t *j_date(uint32_t date)
{
    char d[11];
    ww_date_format(date, d);
    return json_string(d);
}

json_t *j_text(const char *s)
{
    json_t *v = s && *s ? json_string(s) : NULL;
    return v ? v : json_null();
}

json_t *j_enum(enum word_kind kind, int value)
{
    static const char *const role[] = {NULL, "coach", "student", "senior"};
    static const char *const track[] = {NULL, "bol", "bbl"};
    static const char *const status[] = {NULL, "done", "partly", "not"};
    static const char *const share[] = {NULL, "me", "group", "coach"};
    static const char *const category[] = {NULL,       "workload",  "guidance", "safety",
                                           "learning", "wellbeing", "other"};
    static const char *const state[] = {"open", "discussed", "resolved"};
    static const char *const level[] = {NULL, "never", "practising", "sufficient", "good"};
    static const char *const signoff[] = {"none", "supervisor", "practice-educator", "coach"};
#define WORDS(w)                                                                                   \
    {                                                                                              \
        w, sizeof w / sizeof w[0]                                                                  \
    }
    static const struct {
        const char *const *w;
        size_t n;
    } words[] = {
        [WORD_ROLE] = WORDS(role),         [WORD_TRACK] = WORDS(track),
        [WORD_STATUS] = WORDS(status),     [WORD_SHARE] = WORDS(share),
        [WORD_CATEGORY] = WORDS(category), [WORD_SIGNAL_STATE] = WORDS(state),
        [WORD_LEVEL] = WORDS(level),       [WORD_SIGNOFF_ROLE] = WORDS(signoff),
    };
#undef WORDS
    if (kind == WORD_CANMEDS)
        return json_integer(value);
    if ((size_t)kind < sizeof words / sizeof words[0] && value >= 0 &&
        (size_t)value < words[kind].n && words[kind].w[value])
        return json_string(words[kind].w[value]);
    return json_null();
}

json_t *j_obstacles(unsigned bits)
{
    static const char *const names[] = {"no-chance",   "no-supervisor", "did-not-dare",
                                        "not-fitting", "other-tasks",   "absent"};
    json_t *a = json_array();
    for (unsigned bit = 0; a && bit < sizeof names / sizeof names[0]; bit++)
        if (bits & (1u << bit))
            json_array_append_new(a, json_string(names[bit]));
    return a;
}

json_t *j_challenge(const struct ww_challenge *ch)
{
    return json_pack("{s:o, s:o, s:o, s:i, s:i, s:i, s:o, s:o}", "code", j_text(ch->code), "title",
                     j_text(ch->title), "description", j_text(ch->description), "canmeds",
                     ch->canmeds, "week_from", ch->week_from, "week_to", ch->week_to, "assignment",
                     j_text(ch->assignment_ref), "signoff_by",
                     j_enum(WORD_SIGNOFF_ROLE, ch->signoff_role));
}
