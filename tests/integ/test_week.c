/*
 * test_week.c - one group's working week, end to end, through the real `wegwijs` binary: a
 * hub process and one data folder per device, on 127.0.0.1 with an ephemeral port, driven
 * the way people use the command.
 *
 * The coach creates a group whose internship began on a Monday two or three weeks ago, so
 * the whole week is in the past; names the hub; invites four students and a senior, whose
 * devices join through the hub while the coach's device is connected; a fifth student is
 * refused. A challenge is scheduled for every working day and each learner is shown it;
 * reflections are written offline and synced later; reactions, a senior's signal the coach
 * resolves, a sign-off and a day off follow, and the coach's overview shows all of it. A
 * removed member receives nothing new; an erased member's texts leave every remaining device.
 *
 * Every --json document is checked against docs/JSON.md by the table below: each member and
 * its type, the items of nested arrays included. Every exit status is checked against
 * wegwijs(1): 0 for success, the documented status for each refusal.
 *
 * Not checked, because today's verbs cannot reach it in a run of the real binary: a `missed`
 * day and the alert. A day before a learner joined counts as worked only when reflected, and
 * a learner joins now (member.add carries the time of joining), so a week in the past has no
 * missed day; the command has no clock to set.
 */
#include "proc.h"
#include "runner.h"

#include <fcntl.h>
#include <jansson.h>
#include <time.h>
#include <unistd.h>

/* ---- The documented JSON (docs/JSON.md) ------------------------------------------------------ */

enum {
    T_STR = 1, /* a string */
    T_TEXT,    /* a member's text: a string, or null when absent */
    T_INT,
    T_BOOL,
    T_ID32,    /* 32 lowercase hex digits: a group or member */
    T_ID64,    /* 64: a device key or event */
    T_DATE,    /* YYYY-MM-DD */
    T_WORD,    /* one of the words in `sub` */
    T_OBJ,     /* an object with the fields in `sub` */
    T_LIST,    /* an array, each item as the field `sub` */
    T_CLIMATE, /* an object of climate answers: 1..5, or null for "nvt" */
    T_TYPE = 0xff,
    T_NULL = 0x100, /* or null */
    T_BASE = 0x200, /* present in a reflection this device may not read ("readable": false) */
};

struct field {
    const char *name; /* NULL ends a list of fields (and names no array item) */
    int type;
    const void *sub;
};

/* An array's items: each an object with these fields, or each a value of this type. */
#define OBJS(fields)      (&(const struct field){NULL, T_OBJ, (fields)})
#define ITEMS(type, sub_) (&(const struct field){NULL, (type), (sub_)})

static const char *const ROLE[] = {"coach", "student", "senior", NULL};
static const char *const TRACK[] = {"bol", "bbl", NULL};
static const char *const STATUS[] = {"done", "partly", "not", NULL};
static const char *const SHARE[] = {"me", "group", "coach", NULL};
static const char *const OBSTACLE[] = {
    "no-chance", "no-supervisor", "did-not-dare", "not-fitting", "other-tasks", "absent", NULL};
static const char *const CATEGORY[] = {"workload",  "guidance", "safety", "learning",
                                       "wellbeing", "other",    NULL};
static const char *const STATE[] = {"open", "discussed", "resolved", NULL};
static const char *const LEVEL[] = {"never", "practising", "sufficient", "good", NULL};
static const char *const SIGNOFF_BY[] = {"none", "supervisor", "practice-educator", "coach", NULL};
static const char *const MARK[] = {"done",    "partly", "not",  "private",
                                   "day-off", "missed", "free", NULL};
static const char *const INVITE_STATE[] = {"open", "used", "revoked", "expired", NULL};

static const struct field HUB[] = {
    {"key", T_ID64, NULL},
    {"address", T_STR | T_NULL, NULL},
    {0},
};
static const struct field GROUP[] = {
    {"id", T_ID32, NULL},
    {"name", T_STR, NULL},
    {"role", T_WORD | T_NULL, ROLE},
    {"member", T_ID32 | T_NULL, NULL},
    {"owner", T_BOOL, NULL},
    {"epoch", T_INT, NULL},
    {"start", T_DATE, NULL},
    {"tz", T_STR, NULL},
    {"hub", T_OBJ | T_NULL, HUB},
    {0},
};
static const struct field MEMBER[] = {
    {"id", T_ID32, NULL},
    {"role", T_WORD, ROLE},
    {"alias", T_TEXT, NULL},
    {"year", T_INT | T_NULL, NULL},
    {"track", T_WORD | T_NULL, TRACK},
    {"active", T_BOOL, NULL},
    {"devices", T_LIST, ITEMS(T_ID64, NULL)},
    {0},
};
static const struct field CHALLENGE[] = {
    {"code", T_STR, NULL},
    {"title", T_STR, NULL},
    {"description", T_STR, NULL},
    {"canmeds", T_INT, NULL},
    {"week_from", T_INT, NULL},
    {"week_to", T_INT, NULL},
    {"assignment", T_TEXT, NULL},
    {"signoff_by", T_WORD, SIGNOFF_BY},
    {0},
};
static const struct field QUESTION[] = {
    {"code", T_STR, NULL},
    {"text_nl", T_STR, NULL},
    {"text_en", T_STR, NULL},
    {0},
};
static const struct field REFLECTION[] = {
    {"id", T_ID64 | T_BASE, NULL},
    {"date", T_DATE | T_BASE, NULL},
    {"member", T_ID32 | T_BASE, NULL},
    {"alias", T_TEXT | T_BASE, NULL},
    {"readable", T_BOOL | T_BASE, NULL},
    {"status", T_WORD, STATUS},
    {"share", T_WORD, SHARE},
    {"draft", T_BOOL, NULL},
    {"challenge", T_STR | T_NULL, NULL},
    {"obstacles", T_LIST, ITEMS(T_WORD, OBSTACLE)},
    {"obstacle_note", T_TEXT, NULL},
    {"situatie", T_TEXT, NULL},
    {"taak", T_TEXT, NULL},
    {"actie", T_TEXT, NULL},
    {"resultaat", T_TEXT, NULL},
    {"reflectie", T_TEXT, NULL},
    {"climate", T_CLIMATE, NULL},
    {0},
};
static const struct field REACTION[] = {
    {"id", T_ID64, NULL},     {"member", T_ID32, NULL}, {"alias", T_TEXT, NULL},
    {"target", T_ID64, NULL}, {"text", T_TEXT, NULL},   {0},
};
static const struct field SIGNAL[] = {
    {"id", T_ID64, NULL},
    {"member", T_ID32, NULL},
    {"alias", T_TEXT, NULL},
    {"category", T_WORD, CATEGORY},
    {"state", T_WORD, STATE},
    {"text", T_TEXT, NULL},
    {"concerns", T_ID32 | T_NULL, NULL},
    {"note", T_TEXT, NULL},
    {0},
};
static const struct field SIGNOFF[] = {
    {"id", T_ID64, NULL},     {"date", T_DATE, NULL},
    {"member", T_ID32, NULL}, {"alias", T_TEXT, NULL},
    {"code", T_STR, NULL},    {"level", T_WORD, LEVEL},
    {"note", T_TEXT, NULL},   {0},
};
static const struct field DAY[] = {
    {"date", T_DATE, NULL},
    {"mark", T_WORD, MARK},
    {"worked", T_BOOL, NULL},
    {"day_off", T_BOOL, NULL},
    {"reflected", T_BOOL, NULL},
    {"private", T_BOOL, NULL},
    {"code", T_STR | T_NULL, NULL},
    {"status", T_WORD | T_NULL, STATUS},
    {"obstacles", T_LIST, ITEMS(T_WORD, OBSTACLE)},
    {"reactions", T_INT, NULL},
    {"signoff", T_WORD | T_NULL, LEVEL},
    {0},
};
static const struct field LEARNER[] = {
    {"member", T_ID32, NULL},         {"alias", T_TEXT, NULL},
    {"role", T_WORD, ROLE},           {"worked", T_INT, NULL},
    {"reflected", T_INT, NULL},       {"streak", T_INT, NULL},
    {"missed_in_a_row", T_INT, NULL}, {"alert", T_BOOL, NULL},
    {"days", T_LIST, OBJS(DAY)},      {0},
};
static const struct field OPEN_SIGNAL[] = {
    {"id", T_ID64, NULL},           {"member", T_ID32, NULL}, {"alias", T_TEXT, NULL},
    {"category", T_WORD, CATEGORY}, {"text", T_TEXT, NULL},   {0},
};
static const struct field DUE[] = {
    {"date", T_DATE, NULL},
    {"member", T_ID32, NULL},
    {"alias", T_TEXT, NULL},
    {"code", T_STR, NULL},
    {"title", T_STR, NULL},
    {"assignment", T_TEXT, NULL},
    {0},
};
static const struct field INVITE_ROW[] = {
    {"invite", T_ID64, NULL},          {"role", T_WORD, ROLE},
    {"state", T_WORD, INVITE_STATE},   {"expires", T_DATE, NULL},
    {"member", T_ID32 | T_NULL, NULL}, {0},
};

static const struct field STATUS_GROUP[] = {
    {"group", T_ID32, NULL},
    {"name", T_STR, NULL},
    {"role", T_WORD | T_NULL, ROLE},
    {"hub", T_STR | T_NULL, NULL},
    {"hub_synced", T_STR | T_NULL, NULL},
    {"peer_synced", T_STR | T_NULL, NULL},
    {"reported", T_STR | T_NULL, NULL},
    {"unsent", T_INT, NULL},
    {"waiting", T_INT, NULL},
    {0},
};
static const struct field DEVICE_ROW[] = {
    {"device", T_ID64, NULL},
    {"member", T_ID32, NULL},
    {"alias", T_TEXT, NULL},
    {"role", T_WORD, ROLE},
    {"this_device", T_BOOL, NULL},
    {"reported", T_BOOL, NULL},
    {"report_at", T_STR | T_NULL, NULL},
    {"hub_synced", T_STR | T_NULL, NULL},
    {"peer_synced", T_STR | T_NULL, NULL},
    {"missing", T_INT | T_NULL, NULL},
    {0},
};
static const struct field RECEIPT[] = {
    {"device", T_ID64, NULL},
    {"alias", T_TEXT, NULL},
    {"applied", T_BOOL, NULL},
    {0},
};
static const struct field ERASURE[] = {
    {"event", T_ID64, NULL},
    {"member", T_ID32, NULL},
    {"at", T_STR, NULL},
    {"applied", T_INT, NULL},
    {"devices", T_INT, NULL},
    {"receipts", T_LIST, OBJS(RECEIPT)},
    {0},
};

/* Each document: its "command" and its members besides "version" and "command". */
static const struct doc {
    const char *command;
    struct field fields[8];
} DOCS[] = {
    {"init", {{"device", T_ID64, NULL}}},
    {"id", {{"device", T_ID64, NULL}}},
    {"groups", {{"groups", T_LIST, OBJS(GROUP)}}},
    {"members", {{"group", T_ID32, NULL}, {"members", T_LIST, OBJS(MEMBER)}}},
#define DAY_DOC                                                                                    \
    {                                                                                              \
        {"group", T_ID32, NULL}, {"date", T_DATE, NULL}, {"week", T_INT | T_NULL, NULL},           \
            {"scheduled", T_BOOL, NULL}, {"day_off", T_BOOL, NULL},                                \
            {"challenge", T_OBJ, CHALLENGE},                                                       \
        {                                                                                          \
            "climate", T_LIST, OBJS(QUESTION)                                                      \
        }                                                                                          \
    }
    {"today", DAY_DOC},
    {"day", DAY_DOC},
    {"library", {{"challenges", T_LIST, OBJS(CHALLENGE)}}},
    {"reflections", {{"group", T_ID32, NULL}, {"reflections", T_LIST, OBJS(REFLECTION)}}},
    {"reactions", {{"group", T_ID32, NULL}, {"reactions", T_LIST, OBJS(REACTION)}}},
    {"signals", {{"group", T_ID32, NULL}, {"signals", T_LIST, OBJS(SIGNAL)}}},
    {"signoffs", {{"group", T_ID32, NULL}, {"signoffs", T_LIST, OBJS(SIGNOFF)}}},
    {"overview",
     {{"group", T_ID32, NULL},
      {"from", T_DATE, NULL},
      {"to", T_DATE, NULL},
      {"learners", T_LIST, OBJS(LEARNER)},
      {"signals", T_LIST, OBJS(OPEN_SIGNAL)},
      {"signoffs_due", T_LIST, OBJS(DUE)}}},
    {"group create", {{"group", T_ID32, NULL}}},
    {"member add", {{"group", T_ID32, NULL}, {"member", T_ID32, NULL}}},
    {"reflect",
     {{"group", T_ID32, NULL},
      {"id", T_ID64, NULL},
      {"date", T_DATE, NULL},
      {"share", T_WORD, SHARE},
      {"draft", T_BOOL, NULL}}},
    {"react", {{"group", T_ID32, NULL}, {"id", T_ID64, NULL}, {"target", T_ID64, NULL}}},
    {"status", {{"device", T_ID64, NULL}, {"groups", T_LIST, OBJS(STATUS_GROUP)}}},
    {"devices",
     {{"group", T_ID32, NULL},
      {"devices", T_LIST, OBJS(DEVICE_ROW)},
      {"erasures", T_LIST, OBJS(ERASURE)}}},
    {"signal raise", {{"group", T_ID32, NULL}, {"id", T_ID64, NULL}}},
    {"invite",
     {{"group", T_ID32, NULL},
      {"invite", T_ID64, NULL},
      {"role", T_WORD, ROLE},
      {"code", T_STR, NULL},
      {"days", T_INT, NULL},
      {"published", T_BOOL, NULL}}},
    {"invites", {{"group", T_ID32, NULL}, {"invites", T_LIST, OBJS(INVITE_ROW)}}},
    {"join", {{"group", T_ID32, NULL}, {"hub", T_STR, NULL}, {"received", T_INT, NULL}}},
    {"sync",
     {{"address", T_STR, NULL},
      {"sent", T_INT, NULL},
      {"received", T_INT, NULL},
      {"bytes", T_INT, NULL}}},
#undef DAY_DOC
};

static void check_value(json_t *v, const struct field *f, const char *path, int line);

/* The object o has every field, each of its type; in a reflection this device may not read,
 * only the T_BASE fields and none of the others. Members not in the table are allowed (new
 * members may appear in any version). */
static void check_fields(json_t *o, const struct field *fields, const char *path, int line)
{
    if (!json_is_object(o))
        ww_test_fail(__FILE__, line, "%s is not an object", path);
    int unreadable = json_is_false(json_object_get(o, "readable"));
    for (const struct field *f = fields; f->name; f++) {
        char at[256];
        snprintf(at, sizeof at, "%s.%s", path, f->name);
        json_t *v = json_object_get(o, f->name);
        if (unreadable && !(f->type & T_BASE)) {
            if (v)
                ww_test_fail(__FILE__, line, "%s in a reflection this device may not read", at);
            continue;
        }
        if (!v)
            ww_test_fail(__FILE__, line, "%s is missing", at);
        check_value(v, f, at, line);
    }
}

static int is_word(const char *s, const char *const *words)
{
    for (; s && *words; words++)
        if (!strcmp(s, *words))
            return 1;
    return 0;
}

static int is_date(const char *s)
{
    static const char shape[] = "dddd-dd-dd";
    if (!s || strlen(s) != sizeof shape - 1)
        return 0;
    for (size_t i = 0; shape[i]; i++)
        if (shape[i] == 'd' ? s[i] < '0' || s[i] > '9' : s[i] != shape[i])
            return 0;
    return 1;
}

static void check_value(json_t *v, const struct field *f, const char *path, int line)
{
    int type = f->type & T_TYPE, ok = 0;
    const char *s = json_string_value(v);
    if (json_is_null(v)) {
        if (!(f->type & T_NULL) && type != T_TEXT)
            ww_test_fail(__FILE__, line, "%s is null", path);
        return;
    }
    switch (type) {
    case T_STR:
    case T_TEXT:
        ok = s != NULL;
        break;
    case T_INT:
        ok = json_is_integer(v);
        break;
    case T_BOOL:
        ok = json_is_boolean(v);
        break;
    case T_ID32:
        ok = s && proc_is_hex(s, 32);
        break;
    case T_ID64:
        ok = s && proc_is_hex(s, 64);
        break;
    case T_DATE:
        ok = is_date(s);
        break;
    case T_WORD:
        ok = is_word(s, f->sub);
        break;
    case T_OBJ:
        check_fields(v, f->sub, path, line);
        return;
    case T_LIST: {
        if (!json_is_array(v))
            ww_test_fail(__FILE__, line, "%s is not an array", path);
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item)
        {
            char at[256];
            snprintf(at, sizeof at, "%s[%zu]", path, i);
            check_value(item, f->sub, at, line);
        }
        return;
    }
    case T_CLIMATE: {
        ok = json_is_object(v);
        const char *k;
        json_t *a;
        json_object_foreach(v, k, a)
        {
            long long n = json_integer_value(a);
            ok = ok && (json_is_null(a) || (json_is_integer(a) && n >= 1 && n <= 5));
        }
        break;
    }
    }
    if (!ok) {
        char *text = json_dumps(v, JSON_ENCODE_ANY);
        ww_test_fail(__FILE__, line, "%s has the wrong type: %s", path, text ? text : "?");
    }
}

/* The run succeeded and printed one document of `command`, of the documented shape. */
static json_t *json_doc(const struct proc_run *r, const char *command, int line)
{
    if (!r->exited || r->code != 0)
        ww_test_fail(__FILE__, line, "%s: exit %d, want 0; stderr: %s", command, r->code, r->err);
    json_t *doc = proc_json(r->out, command, line);
    for (size_t i = 0; i < sizeof DOCS / sizeof DOCS[0]; i++) {
        if (!strcmp(DOCS[i].command, command)) {
            check_fields(doc, DOCS[i].fields, command, line);
            return doc;
        }
    }
    ww_test_fail(__FILE__, line, "no documented shape for \"%s\"", command);
}

#define DOC(r, command) json_doc(&(r), (command), __LINE__)

/* o.key, a string equal to want. */
#define EXPECT_STR(o, key, want)                                                                   \
    ASSERT_STR_EQ(json_string_value(json_object_get((o), (key))), (want))
#define EXPECT_INT(o, key, want) ASSERT_EQ(proc_json_int((o), (key), __LINE__), (want))
#define EXPECT_TRUE(o, key)      ASSERT(json_is_true(json_object_get((o), (key))))
#define EXPECT_FALSE(o, key)     ASSERT(json_is_false(json_object_get((o), (key))))
#define EXPECT_NULL(o, key)      ASSERT(json_is_null(json_object_get((o), (key))))

/* The item of array doc.list whose member `key` is the string `value`, or NULL. */
static json_t *find(json_t *doc, const char *list, const char *key, const char *value)
{
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(doc, list), i, item)
    {
        const char *s = json_string_value(json_object_get(item, key));
        if (s && !strcmp(s, value))
            return item;
    }
    return NULL;
}

static size_t count(json_t *doc, const char *list)
{
    json_t *a = json_object_get(doc, list);
    ASSERT(json_is_array(a));
    return json_array_size(a);
}

/* How many items `command GROUP [MEMBER]` lists on the device in dir (its list has the
 * command's name), the document checked. */
static size_t listed(const char *dir, const char *command, const char *group, const char *member)
{
    struct proc_run r;
    /* Without a member, the NULL there ends the arguments. */
    proc_run(&r, "--data", dir, "--json", command, group, member, (char *)NULL);
    json_t *doc = json_doc(&r, command, __LINE__);
    size_t n = count(doc, command);
    json_decref(doc);
    return n;
}

/* ---- The group and its devices ------------------------------------------------------------ */

enum { COACH, SARA, NOOR, DAAN, EVA, LISA, N_DEV };

static const struct who {
    const char *alias, *role, *year, *track;
} WHO[N_DEV] = {
    {"Anja", "coach", NULL, NULL},   {"Sara", "student", "1", "bol"},
    {"Noor", "student", "2", "bbl"}, {"Daan", "student", "1", "bbl"},
    {"Eva", "student", "2", "bol"},  {"Lisa", "senior", "3", "bol"},
};

/* The challenge of each day of the week, Monday to Friday; EIGEN1 is the group's own, tied to
 * a school assignment the coach signs off. */
static const char *const CODE[5] = {"W02", "W04", "EIGEN1", "W05", "W06"};

struct week {
    struct proc_bg hub;
    char addr[32], hub_key[65];
    char dir[N_DEV][512];
    char member[N_DEV][33];
    char group[33];
    char date[7][11]; /* Monday .. Sunday */
    char today[11];
};

#define WW(r, dev, ...)  proc_run((r), "--data", (dev), __VA_ARGS__, (char *)NULL)
#define WWJ(r, dev, ...) proc_run((r), "--data", (dev), "--json", __VA_ARGS__, (char *)NULL)
#define OK(r)            EXPECT_EXIT((r), 0)

/* The dates of the week: Monday to Sunday of the week two weeks before this one. */
static void week_dates(struct week *w)
{
    time_t t = time(NULL) - 14 * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    t -= (time_t)((tm.tm_wday + 6) % 7) * 86400;
    for (int d = 0; d < 7; d++) {
        time_t at = t + (time_t)d * 86400;
        gmtime_r(&at, &tm);
        strftime(w->date[d], sizeof w->date[d], "%Y-%m-%d", &tm);
    }
}

/* The day number of a date YYYY-MM-DD (days since 1970-01-01, proleptic Gregorian). */
static long day_number(const char *date)
{
    int y, m, d;
    ASSERT_EQ(sscanf(date, "%d-%d-%d", &y, &m, &d), 3);
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

/* The hub, the coach's device and the group: its start the week's Monday, its hub named, a
 * challenge on every working day of the week and on today. */
static void week_begin(struct week *w)
{
    struct proc_run r;
    static const char *const names[N_DEV] = {"coach", "sara", "noor", "daan", "eva", "lisa"};
    memset(w, 0, sizeof *w);
    for (int i = 0; i < N_DEV; i++)
        proc_tmp_path(w->dir[i], sizeof w->dir[i], names[i]);
    week_dates(w);
    char hub_dir[512], line[256];
    proc_tmp_path(hub_dir, sizeof hub_dir, "hub");
    proc_hub_start(&w->hub, hub_dir, "hub");
    snprintf(w->addr, sizeof w->addr, "127.0.0.1:%d", w->hub.port);
    /* The line after the address is the hub's key alone. */
    ASSERT(proc_read_line(w->hub.fd, line, sizeof line, proc_now_ms() + PROC_START_MS));
    ASSERT(proc_is_hex(line, 64));
    memcpy(w->hub_key, line, 65);

    const char *coach = w->dir[COACH];
    WWJ(&r, coach, "init");
    json_t *doc = DOC(r, "init");
    json_decref(doc);
    WWJ(&r, coach, "group", "create", "Afdeling 3B", "--start", w->date[0], "--alias", "Anja");
    doc = DOC(r, "group create");
    memcpy(w->group, proc_json_str(doc, "group", __LINE__), 33);
    json_decref(doc);
    const char *g = w->group;
    WW(&r, coach, "group", "hub", g, w->hub_key, w->addr);
    OK(r);
    WWJ(&r, coach, "groups");
    doc = DOC(r, "groups");
    json_t *row = find(doc, "groups", "id", g);
    ASSERT(row != NULL);
    EXPECT_STR(row, "role", "coach");
    EXPECT_TRUE(row, "owner");
    EXPECT_STR(row, "start", w->date[0]);
    EXPECT_STR(json_object_get(row, "hub"), "key", w->hub_key);
    EXPECT_STR(json_object_get(row, "hub"), "address", w->addr);
    json_decref(doc);

    WW(&r, coach, "challenge", "define", g, "--code", "EIGEN1", "--title", "SBAR-overdracht",
       "--description", "Draag een cliënt over met SBAR.", "--canmeds", "2", "--weeks", "1-52",
       "--assignment", "SCH-7", "--signoff", "coach");
    OK(r);
    for (int d = 0; d < 5; d++) {
        WW(&r, coach, "challenge", "schedule", g, w->date[d], CODE[d]);
        OK(r);
    }
    WWJ(&r, coach, "today", g);
    doc = DOC(r, "today");
    memcpy(w->today, proc_json_str(doc, "date", __LINE__), 11);
    /* Two or three weeks after the start: week 3, or 4 just after midnight in the group's
     * zone while it is still the day before in UTC. */
    EXPECT_INT(doc, "week", (day_number(w->today) - day_number(w->date[0])) / 7 + 1);
    json_decref(doc);
    WW(&r, coach, "challenge", "schedule", g, w->today, "W03");
    OK(r);
    WWJ(&r, coach, "library");
    doc = DOC(r, "library");
    ASSERT_GE(count(doc, "challenges"), 20);
    json_decref(doc);
}

/* An invite for role; its code in code. */
static void invite(struct week *w, const char *role, char code[128])
{
    struct proc_run r;
    WWJ(&r, w->dir[COACH], "invite", w->group, "--role", role);
    json_t *doc = json_doc(&r, "invite", __LINE__);
    EXPECT_STR(doc, "role", role);
    EXPECT_TRUE(doc, "published");
    const char *c = proc_json_str(doc, "code", __LINE__);
    ASSERT_LT(strlen(c), 128);
    memcpy(code, c, strlen(c) + 1);
    json_decref(doc);
    size_t n = strlen(w->addr);
    ASSERT(strncmp(code, w->addr, n) == 0 && code[n] == '/');
}

/* Device i joins with code; its member id from its own `groups`. */
static void join(struct week *w, int i, const char *code)
{
    struct proc_run r;
    const char *d = w->dir[i];
    WWJ(&r, d, "join", code, "--alias", WHO[i].alias, "--year", WHO[i].year, "--track",
        WHO[i].track);
    json_t *doc = json_doc(&r, "join", __LINE__);
    EXPECT_STR(doc, "group", w->group);
    EXPECT_STR(doc, "hub", w->addr);
    ASSERT_GT(proc_json_int(doc, "received", __LINE__), 0);
    json_decref(doc);
    WWJ(&r, d, "groups");
    doc = DOC(r, "groups");
    json_t *row = find(doc, "groups", "id", w->group);
    ASSERT(row != NULL);
    EXPECT_STR(row, "role", WHO[i].role);
    EXPECT_FALSE(row, "owner");
    EXPECT_STR(json_object_get(row, "hub"), "key", w->hub_key);
    memcpy(w->member[i], proc_json_str(row, "member", __LINE__), 33);
    json_decref(doc);
}

/* `sync` of device i through the group's hub, once; the document checked. */
static void sync_dev(struct week *w, int i)
{
    struct proc_run r;
    WWJ(&r, w->dir[i], "sync");
    json_t *doc = DOC(r, "sync");
    EXPECT_STR(doc, "address", w->addr);
    json_decref(doc);
}

/* Learners upload, the coach exchanges, learners download: everything everywhere. */
static void sync_all(struct week *w)
{
    for (int i = SARA; i < N_DEV; i++)
        if (i != EVA || w->member[EVA][0])
            sync_dev(w, i);
    sync_dev(w, COACH);
    for (int i = SARA; i < N_DEV; i++)
        if (i != EVA || w->member[EVA][0])
            sync_dev(w, i);
}

/* The invites, the joins through the hub while the coach's device is connected, and the
 * fifth student refused. */
static void week_join(struct week *w)
{
    struct proc_run r;
    const char *coach = w->dir[COACH], *g = w->group;
    char codes[N_DEV][128];
    for (int i = SARA; i < N_DEV; i++)
        invite(w, WHO[i].role, codes[i]);
    /* A fifth student and a second senior: refused when the invite is made. */
    WW(&r, coach, "invite", g, "--role", "student");
    EXPECT_REFUSED(r, EXIT_CONFLICT, "de groep heeft al vier studenten");
    WW(&r, coach, "invite", g, "--role", "senior");
    EXPECT_REFUSED(r, EXIT_CONFLICT, "de groep heeft al een ouderejaars");
    WWJ(&r, coach, "invites", g);
    json_t *doc = json_doc(&r, "invites", __LINE__);
    ASSERT_EQ(count(doc, "invites"), 5);
    json_decref(doc);
    WW(&r, coach, "invites", g);
    OK(r);
    ASSERT_EQ(proc_count_text(r.out, "  open  "), 5);

    /* The coach's device stays connected and admits every device that redeems an invite. */
    struct proc_bg watch;
    memset(&watch, 0, sizeof watch);
    watch.fd = -1;
    proc_tmp_path(watch.err_path, sizeof watch.err_path, "coach.watch.err");
    int e = open(watch.err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT(e >= 0);
    const char *argv[] = {"--data", coach, "sync", "--watch", "--quiet", NULL};
    watch.pid = proc_spawn(argv, e, e, -1);
    close(e);
    for (int i = SARA; i < N_DEV; i++)
        join(w, i, codes[i]);
    proc_expect_alive(&watch);
    proc_bg_stop(&watch);

    /* A fifth student: a used code is refused when redeemed, and the coach cannot add one. */
    char bram[512];
    proc_tmp_path(bram, sizeof bram, "bram");
    WW(&r, bram, "join", codes[SARA], "--alias", "Bram");
    EXPECT_REFUSED(r, EXIT_CONFLICT, "de uitnodiging is al gebruikt");
    WWJ(&r, bram, "id");
    doc = DOC(r, "id");
    WW(&r, coach, "member", "add", g, "--role", "student", "--alias", "Bram", "--year", "1",
       "--track", "bol", "--device", proc_json_str(doc, "device", __LINE__));
    EXPECT_REFUSED(r, EXIT_CONFLICT, "de groep heeft al vier studenten");
    json_decref(doc);

    WW(&r, coach, "invites", g);
    OK(r);
    ASSERT_EQ(proc_count_text(r.out, "  gebruikt  "), 5);
    WWJ(&r, coach, "members", g);
    doc = DOC(r, "members");
    ASSERT_EQ(count(doc, "members"), N_DEV);
    for (int i = SARA; i < N_DEV; i++) {
        json_t *m = find(doc, "members", "id", w->member[i]);
        ASSERT(m != NULL);
        EXPECT_STR(m, "alias", WHO[i].alias);
        EXPECT_STR(m, "role", WHO[i].role);
        EXPECT_STR(m, "track", WHO[i].track);
        EXPECT_INT(m, "year", WHO[i].year[0] - '0');
        EXPECT_TRUE(m, "active");
    }
    json_decref(doc);
}

/* Each learner is shown each day's challenge, and today's. */
static void week_days(struct week *w)
{
    struct proc_run r;
    for (int i = SARA; i < N_DEV; i++) {
        for (int d = 0; d < 5; d++) {
            WWJ(&r, w->dir[i], "day", w->group, w->date[d]);
            json_t *doc = DOC(r, "day");
            EXPECT_STR(doc, "date", w->date[d]);
            EXPECT_INT(doc, "week", 1);
            EXPECT_TRUE(doc, "scheduled");
            EXPECT_FALSE(doc, "day_off");
            json_t *ch = json_object_get(doc, "challenge");
            EXPECT_STR(ch, "code", CODE[d]);
            if (d == 2) {
                EXPECT_STR(ch, "assignment", "SCH-7");
                EXPECT_STR(ch, "signoff_by", "coach");
            }
            ASSERT_GT(count(doc, "climate"), 0);
            json_decref(doc);
        }
        WWJ(&r, w->dir[i], "today", w->group);
        json_t *doc = DOC(r, "today");
        EXPECT_STR(doc, "date", w->today);
        EXPECT_TRUE(doc, "scheduled");
        EXPECT_STR(json_object_get(doc, "challenge"), "code", "W03");
        json_decref(doc);
    }
}

/* The ids of what was written. */
struct written {
    char sara_mon[65], sara_wed[65], noor_tue[65], signal[65], noor_fri[65];
};

/* A reflection of device i, its document checked; its id in id (when not NULL). The options
 * follow the date and share. */
#define REFLECT(w, i, d, share, id, ...)                                                           \
    reflect_checked(w, i, d, share, id, __LINE__, (const char *const[]){__VA_ARGS__, NULL})

static void reflect_checked(struct week *w, int i, int d, const char *share, char *id, int line,
                            const char *const *opts)
{
    static const char *const share_word[][2] = {
        {"ik", "me"}, {"groep", "group"}, {"coach", "coach"}};
    const char *argv[PROC_MAX_ARGS + 1] = {"--data", w->dir[i],  "--json",  "reflect", w->group,
                                           "--date", w->date[d], "--share", share};
    size_t n = 9;
    while (*opts && n < PROC_MAX_ARGS)
        argv[n++] = *opts++;
    argv[n] = NULL;
    struct proc_run r;
    proc_run_argv(&r, argv);
    json_t *doc = json_doc(&r, "reflect", line);
    EXPECT_STR(doc, "group", w->group);
    EXPECT_STR(doc, "date", w->date[d]);
    for (size_t k = 0; k < 3; k++)
        if (!strcmp(share, share_word[k][0]))
            EXPECT_STR(doc, "share", share_word[k][1]);
    EXPECT_FALSE(doc, "draft");
    if (id)
        memcpy(id, proc_json_str(doc, "id", line), 65);
    json_decref(doc);
}

/* Reflections, a day off and a signal, written with no sync in between; then synced. */
static void week_offline(struct week *w, struct written *x)
{
    struct proc_run r;
    const char *g = w->group;
    REFLECT(w, SARA, 0, "groep", x->sara_mon, "--status", "gedaan", "--situatie",
            "Sara: ochtendzorg bij meneer De Vries.", "--reflectie",
            "Sara: ik vroeg eerst wat hij zelf wilde.", "--answer", "K1=4", "--answer", "K2=nvt");
    REFLECT(w, SARA, 2, "coach", x->sara_wed, "--status", "gedaan", "--actie",
            "Sara: overdracht aan de avonddienst met SBAR.");
    REFLECT(w, SARA, 3, "coach", NULL, "--status", "deels", "--obstacle", "geen-tijd-begeleider",
            "--reflectie", "Sara: morgen opnieuw.");
    REFLECT(w, NOOR, 0, "coach", NULL, "--status", "deels", "--obstacle", "durfde-niet",
            "--situatie", "Noor: een familiegesprek.");
    REFLECT(w, NOOR, 1, "ik", x->noor_tue, "--status", "niet", "--obstacle", "andere-taken",
            "--reflectie", "Noor: alleen voor mezelf.");
    REFLECT(w, DAAN, 0, "groep", NULL, "--status", "gedaan", "--reflectie", "Daan: gelukt.");
    WW(&r, w->dir[DAAN], "dayoff", g, w->date[1], "--json");
    EXPECT_REFUSED(r, EXIT_USAGE, "--json");
    WW(&r, w->dir[DAAN], "dayoff", g, w->date[1]);
    OK(r);
    REFLECT(w, EVA, 0, "groep", NULL, "--status", "gedaan", "--reflectie", "Eva: rustige dag.");
    REFLECT(w, LISA, 0, "groep", NULL, "--status", "gedaan", "--reflectie", "Lisa: veel geleerd.");
    WWJ(&r, w->dir[LISA], "signal", "raise", g, "--category", "werkdruk", "--text",
        "Lisa: de groep krijgt weinig tijd van de werkbegeleiders.");
    json_t *doc = DOC(r, "signal raise");
    memcpy(x->signal, proc_json_str(doc, "id", __LINE__), 65);
    json_decref(doc);

    /* Nothing has left the devices yet. */
    ASSERT_EQ(listed(w->dir[COACH], "reflections", g, NULL), 0);
    ASSERT_EQ(listed(w->dir[COACH], "signals", g, NULL), 0);
    /* The writer's own device reads its climate answers. */
    WWJ(&r, w->dir[SARA], "reflections", g, w->member[SARA]);
    doc = DOC(r, "reflections");
    ASSERT_EQ(count(doc, "reflections"), 3);
    json_t *climate = json_object_get(find(doc, "reflections", "id", x->sara_mon), "climate");
    EXPECT_INT(climate, "K1", 4);
    EXPECT_NULL(climate, "K2");
    json_decref(doc);

    sync_all(w);
}

/* Reactions, the coach's reading, the signal resolved and the sign-off, seen in the overview
 * before and after. */
static void week_coach(struct week *w, struct written *x)
{
    struct proc_run r;
    const char *coach = w->dir[COACH], *g = w->group;
    static const char *const reaction[][2] = {{"Noor", "Herkenbaar!"}, {"Lisa", "Goed gedaan."}};
    for (int k = 0; k < 2; k++) {
        int i = k == 0 ? NOOR : LISA;
        WWJ(&r, w->dir[i], "react", g, x->sara_mon, reaction[k][1]);
        json_t *doc = DOC(r, "react");
        EXPECT_STR(doc, "target", x->sara_mon);
        json_decref(doc);
        sync_dev(w, i);
    }
    sync_dev(w, COACH);

    WWJ(&r, coach, "reflections", g);
    json_t *doc = DOC(r, "reflections");
    ASSERT_EQ(count(doc, "reflections"), 8);
    json_t *item = find(doc, "reflections", "id", x->noor_tue);
    EXPECT_FALSE(item, "readable"); /* private: only the base members, checked by the table */
    item = find(doc, "reflections", "id", x->sara_wed);
    EXPECT_STR(item, "share", "coach");
    EXPECT_STR(item, "challenge", "EIGEN1");
    EXPECT_STR(item, "actie", "Sara: overdracht aan de avonddienst met SBAR.");
    ASSERT_EQ(json_object_size(json_object_get(item, "climate")), 0); /* the writer's only */
    json_decref(doc);
    WWJ(&r, coach, "reactions", g);
    doc = DOC(r, "reactions");
    ASSERT_EQ(count(doc, "reactions"), 2);
    for (int k = 0; k < 2; k++) {
        item = find(doc, "reactions", "text", reaction[k][1]);
        ASSERT(item != NULL);
        EXPECT_STR(item, "alias", reaction[k][0]);
        EXPECT_STR(item, "target", x->sara_mon);
    }
    json_decref(doc);
    WWJ(&r, coach, "signals", g);
    doc = DOC(r, "signals");
    item = find(doc, "signals", "id", x->signal);
    EXPECT_STR(item, "state", "open");
    EXPECT_STR(item, "category", "workload");
    EXPECT_STR(item, "member", w->member[LISA]);
    json_decref(doc);

    WWJ(&r, coach, "overview", g, "--from", w->date[0], "--to", w->date[6]);
    doc = DOC(r, "overview");
    ASSERT_EQ(count(doc, "learners"), 5);
    json_t *sara = find(doc, "learners", "member", w->member[SARA]);
    json_t *days = json_object_get(sara, "days");
    ASSERT_EQ(json_array_size(days), 7);
    json_t *mon = json_array_get(days, 0), *tue = json_array_get(days, 1);
    json_t *wed = json_array_get(days, 2), *thu = json_array_get(days, 3);
    EXPECT_STR(mon, "mark", "done");
    EXPECT_STR(mon, "code", "W02");
    EXPECT_INT(mon, "reactions", 2);
    EXPECT_STR(tue, "mark", "free"); /* before she joined, and not reflected */
    EXPECT_STR(wed, "mark", "done");
    EXPECT_STR(wed, "code", "EIGEN1");
    EXPECT_NULL(wed, "signoff");
    EXPECT_STR(thu, "mark", "partly");
    ASSERT_STR_EQ(json_string_value(json_array_get(json_object_get(thu, "obstacles"), 0)),
                  "no-supervisor");
    EXPECT_INT(sara, "worked", 3);
    EXPECT_INT(sara, "reflected", 3);
    json_t *noor_tue = json_array_get(
        json_object_get(find(doc, "learners", "member", w->member[NOOR]), "days"), 1);
    EXPECT_STR(noor_tue, "mark", "private");
    EXPECT_NULL(noor_tue, "code");
    EXPECT_NULL(noor_tue, "status");
    ASSERT_EQ(count(noor_tue, "obstacles"), 0);
    json_t *daan_tue = json_array_get(
        json_object_get(find(doc, "learners", "member", w->member[DAAN]), "days"), 1);
    EXPECT_STR(daan_tue, "mark", "day-off");
    EXPECT_TRUE(daan_tue, "day_off");
    ASSERT_EQ(count(doc, "signals"), 1);
    EXPECT_STR(json_array_get(json_object_get(doc, "signals"), 0), "id", x->signal);
    ASSERT_EQ(count(doc, "signoffs_due"), 1);
    item = json_array_get(json_object_get(doc, "signoffs_due"), 0);
    EXPECT_STR(item, "member", w->member[SARA]);
    EXPECT_STR(item, "date", w->date[2]);
    EXPECT_STR(item, "code", "EIGEN1");
    EXPECT_STR(item, "assignment", "SCH-7");
    json_decref(doc);

    WW(&r, coach, "signal", "resolve", g, x->signal, "--state", "besproken", "--note",
       "Besproken met de teamleider.");
    OK(r);
    WW(&r, coach, "signoff", g, w->member[SARA], "EIGEN1", "--level", "goed", "--date", w->date[2],
       "--note", "Goed gedaan.", "--json");
    EXPECT_REFUSED(r, EXIT_USAGE, "--json");
    WW(&r, coach, "signoff", g, w->member[SARA], "EIGEN1", "--level", "goed", "--date", w->date[2],
       "--note", "Goed gedaan.");
    OK(r);
    WW(&r, w->dir[NOOR], "signoff", g, w->member[SARA], "EIGEN1", "--level", "goed");
    EXPECT_REFUSED(r, EXIT_DENIED, "deze rol mag dat niet");

    WWJ(&r, coach, "overview", g, "--from", w->date[0], "--to", w->date[6]);
    doc = DOC(r, "overview");
    ASSERT_EQ(count(doc, "signals"), 0);
    ASSERT_EQ(count(doc, "signoffs_due"), 0);
    sara = find(doc, "learners", "member", w->member[SARA]);
    EXPECT_STR(json_array_get(json_object_get(sara, "days"), 2), "signoff", "good");
    json_decref(doc);
    sync_all(w);

    /* The pair's other side sees it; the rest of the group does not. */
    WWJ(&r, w->dir[LISA], "signals", g);
    doc = DOC(r, "signals");
    item = find(doc, "signals", "id", x->signal);
    EXPECT_STR(item, "state", "discussed");
    EXPECT_STR(item, "note", "Besproken met de teamleider.");
    json_decref(doc);
    WWJ(&r, w->dir[SARA], "signoffs", g);
    doc = DOC(r, "signoffs");
    ASSERT_EQ(count(doc, "signoffs"), 1);
    item = json_array_get(json_object_get(doc, "signoffs"), 0);
    EXPECT_STR(item, "code", "EIGEN1");
    EXPECT_STR(item, "level", "good");
    EXPECT_STR(item, "date", w->date[2]);
    EXPECT_STR(item, "note", "Goed gedaan.");
    json_decref(doc);
    ASSERT_EQ(listed(w->dir[NOOR], "signoffs", g, NULL), 0);
    ASSERT_EQ(listed(w->dir[DAAN], "signals", g, NULL), 0);
}

/* Eva is removed: what the group writes later does not reach her device. */
static void week_remove(struct week *w, struct written *x)
{
    struct proc_run r;
    const char *coach = w->dir[COACH], *g = w->group;
    WW(&r, coach, "member", "remove", g, w->member[EVA], "--json");
    EXPECT_REFUSED(r, EXIT_USAGE, "--json");
    WW(&r, w->dir[NOOR], "member", "remove", g, w->member[EVA]);
    EXPECT_REFUSED(r, EXIT_DENIED, "deze rol mag dat niet");
    WW(&r, coach, "member", "remove", g, w->member[EVA]);
    OK(r);
    WW(&r, coach, "challenge", "schedule", g, w->date[5], "W07");
    OK(r);
    sync_dev(w, COACH);
    REFLECT(w, NOOR, 4, "groep", x->noor_fri, "--status", "gedaan", "--reflectie",
            "Noor: na het vertrek van Eva.");
    sync_dev(w, NOOR);
    /* Eva's device is no longer served: exit status 4, not a member. */
    WW(&r, w->dir[EVA], "sync");
    EXPECT_REFUSED(r, EXIT_DENIED, "synchroniseert deze groep niet");
    memset(w->member[EVA], 0, sizeof w->member[EVA]);
    sync_all(w);

    for (int i = SARA; i < N_DEV; i++) {
        WWJ(&r, w->dir[i], "day", g, w->date[5]);
        json_t *doc = DOC(r, "day");
        if (i == EVA) {
            EXPECT_FALSE(doc, "scheduled");
        } else {
            EXPECT_TRUE(doc, "scheduled");
            EXPECT_STR(json_object_get(doc, "challenge"), "code", "W07");
        }
        json_decref(doc);
        WWJ(&r, w->dir[i], "reflections", g);
        doc = DOC(r, "reflections");
        ASSERT((find(doc, "reflections", "id", x->noor_fri) == NULL) == (i == EVA));
        json_decref(doc);
    }
    WWJ(&r, coach, "members", g);
    json_t *doc = DOC(r, "members");
    json_t *eva = find(doc, "members", "alias", "Eva");
    EXPECT_FALSE(eva, "active");
    json_decref(doc);
    WWJ(&r, coach, "overview", g, "--from", w->date[0], "--to", w->date[6]);
    doc = DOC(r, "overview");
    ASSERT_EQ(count(doc, "learners"), 4);
    ASSERT(find(doc, "learners", "alias", "Eva") == NULL);
    json_decref(doc);
}

/* The coach erases Sara: her texts leave every remaining device. */
static void week_erase(struct week *w, struct written *x)
{
    struct proc_run r;
    const char *coach = w->dir[COACH], *g = w->group, *sara = w->member[SARA];
    WW(&r, w->dir[NOOR], "erase", g, sara);
    EXPECT_REFUSED(r, EXIT_DENIED, "deze rol mag dat niet");
    WW(&r, coach, "erase", g, sara, "--json");
    EXPECT_REFUSED(r, EXIT_USAGE, "--json");
    WWJ(&r, coach, "devices", g);
    json_t *doc = DOC(r, "devices");
    ASSERT_EQ(count(doc, "erasures"), 0);
    json_decref(doc);
    WW(&r, coach, "erase", g, sara);
    OK(r);
    sync_all(w);
    /* Every device of an active member receipted the erasure (Eva's is no longer one). */
    sync_dev(w, COACH);
    WWJ(&r, coach, "devices", g);
    doc = DOC(r, "devices");
    ASSERT_EQ(count(doc, "devices"), 5);
    json_t *er = json_array_get(json_object_get(doc, "erasures"), 0);
    ASSERT(er != NULL);
    EXPECT_STR(er, "member", sara);
    EXPECT_INT(er, "devices", 5);
    EXPECT_INT(er, "applied", 5);
    json_decref(doc);
    WWJ(&r, w->dir[LISA], "status", g);
    doc = DOC(r, "status");
    EXPECT_INT(json_array_get(json_object_get(doc, "groups"), 0), "unsent", 0);
    json_decref(doc);
    for (int i = COACH; i < N_DEV; i++) {
        if (i == EVA)
            continue;
        const char *d = w->dir[i];
        ASSERT_EQ(listed(d, "reflections", g, sara), 0);
        WWJ(&r, d, "reflections", g);
        EXPECT_LACKS(r.out, "Sara:");
        doc = DOC(r, "reflections");
        ASSERT((find(doc, "reflections", "id", x->noor_fri) != NULL));
        json_decref(doc);
        WWJ(&r, d, "signoffs", g);
        doc = DOC(r, "signoffs");
        ASSERT(find(doc, "signoffs", "member", sara) == NULL);
        json_decref(doc);
        WWJ(&r, d, "members", g);
        doc = DOC(r, "members");
        EXPECT_NULL(find(doc, "members", "id", sara), "alias");
        json_decref(doc);
        WW(&r, d, "export", g, sara);
        OK(r);
        EXPECT_LACKS(r.out, "Sara:");
        EXPECT_LACKS(r.out, "\"Sara\"");
    }
    WWJ(&r, coach, "overview", g, "--from", w->date[0], "--to", w->date[6]);
    doc = DOC(r, "overview");
    json_t *row = find(doc, "learners", "member", sara);
    EXPECT_INT(row, "reflected", 0);
    EXPECT_STR(json_array_get(json_object_get(row, "days"), 0), "mark", "free");
    EXPECT_NULL(json_array_get(json_object_get(row, "days"), 2), "signoff");
    json_decref(doc);
}

TEST(week_of_a_group_end_to_end)
{
    struct week w;
    struct written x;
    memset(&x, 0, sizeof x);
    long start = proc_now_ms();
    week_begin(&w);
    week_join(&w);
    week_days(&w);
    week_offline(&w, &x);
    week_coach(&w, &x);
    week_remove(&w, &x);
    week_erase(&w, &x);
    proc_bg_stop(&w.hub);
    fprintf(stderr, "# a week of a group: %ld ms\n", proc_now_ms() - start);
}
