/*
 * group.c - groups and their members: `group create`, `groups`, `member add|remove`,
 * `device add` and `members`.
 *
 * Ids are printed alone on stdout by the verbs that create something (group create,
 * member add), so scripts can capture them; lists are one line per item, with indented
 * detail lines.
 */
#include <string.h>

#include "cli.h"

/* The recovery code on stdout, and on stderr what it is for. */
static void recovery_note(const char *code)
{
    printf("%s: %s\n", _("recovery code"), code);
    fflush(stdout);
    say_to(stderr,
           _("write the recovery code down and keep it away from this device: with it a new "
             "device takes the group over when this one is lost ('wegwijs recover'); it is not "
             "shown again"),
           NULL, NULL, NULL);
}

static int group_create(struct cli *c, int argc, char **argv)
{
    static const struct opt_spec spec[] = {
        {"tz", 1, 0}, {"start", 1, 0}, {"alias", 1, 0}, {NULL, 0, 0}};
    struct args a;
    int rc = args_parse(spec, argc, argv, 1, 1, &a);
    if (rc != CLI_OK)
        return rc;
    uint32_t start = 0;
    const char *v = args_get(&a, "start");
    if (v && (rc = parse_date(v, &start)) != CLI_OK)
        return rc;
    const char *tz = args_get(&a, "tz");
    if (tz) {
        char q[48];
        if (ww_tz_check(tz) != 0)
            return input_error(_("unknown time zone '{1}'"), quoted(tz, q), NULL);
    }
    if ((rc = cli_open(c, 0)) != CLI_OK)
        return rc;
    /* The recovery code, shown this once: a new device takes the group over with it when
     * this one is lost (`recover`). */
    uint8_t gid[WW_ID_LEN];
    char code[WW_RECOVERY_CODE_MAX];
    struct hexbuf h;
    rc = ww_group_create(c->store, a.pos[0], tz, start, args_get(&a, "alias"), NULL, gid, code);
    if (rc != 0)
        return lib_error(rc, _("cannot create the group"), NULL);
    if (c->json)
        return json_result("group create", json_pack("{s:o,s:s}", "group", j_hex(gid, WW_ID_LEN),
                                                     "recovery_code", code));
    printf("%s\n", hex_of(gid, WW_ID_LEN, &h));
    recovery_note(code);
    return CLI_OK;
}

/* `group recovery GROUP`: a recovery code for a group made without one (the owner, once). */
static int group_recovery(struct cli *c, int argc, char **argv)
{
    struct args a;
    uint8_t gid[WW_ID_LEN];
    char code[WW_RECOVERY_CODE_MAX];
    int rc = args_parse(NULL, argc, argv, 1, 1, &a);
    if (rc == CLI_OK)
        rc = cli_group(c, a.pos[0], gid);
    if (rc != CLI_OK)
        return rc;
    if ((rc = ww_recovery_key_create(c->store, gid, code)) != 0)
        return lib_error(rc, _("cannot make a recovery code"), NULL);
    if (c->json)
        return json_result("group recovery", json_pack("{s:s}", "recovery_code", code));
    recovery_note(code);
    return CLI_OK;
}

/* `group hub GROUP KEY [HOST:PORT]`: the owner names the hub the group syncs through; its
 * devices then dial it with `sync` alone and check its key in the handshake. */
static int group_hub(struct cli *c, int argc, char **argv)
{
    struct args a;
    uint8_t gid[WW_ID_LEN], hub[WW_KEY_LEN];
    char host[256];
    int port = 0;
    int rc = args_parse(NULL, argc, argv, 2, 3, &a);
    if (rc != CLI_OK)
        return rc;
    if ((rc = parse_key(a.pos[1], hub)) != CLI_OK)
        return rc;
    const char *addr = a.n_pos > 2 ? a.pos[2] : "";
    if (*addr && (rc = parse_addr(addr, host, sizeof host, &port)) != CLI_OK)
        return rc;
    if ((rc = cli_group(c, a.pos[0], gid)) != CLI_OK)
        return rc;
    if ((rc = ww_group_hub_set(c->store, gid, hub, addr, NULL)) != 0)
        return lib_error(rc, _("cannot name the hub"), NULL);
    struct hexbuf h;
    if (*addr)
        say2(_("the group's hub is now {1} at {2}"), hex_of(hub, WW_KEY_LEN, &h), addr);
    else
        say1(_("the group's hub is now {1}"), hex_of(hub, WW_KEY_LEN, &h));
    return CLI_OK;
}

/* `group climate GROUP A B [--team T] [--location L]`: the owner names the two climate
 * aggregators (A: the hub's key, B: the organisation's) and the team and location the
 * group is counted in. Learners' devices use the keys only when their hub confirmed both. */
static int group_climate(struct cli *c, int argc, char **argv)
{
    static const struct opt_spec spec[] = {{"team", 1, 0}, {"location", 1, 0}, {NULL, 0, 0}};
    struct args a;
    uint8_t gid[WW_ID_LEN], agg[2][WW_KEY_LEN];
    int rc = args_parse(spec, argc, argv, 3, 3, &a);
    for (int i = 0; rc == CLI_OK && i < 2; i++)
        rc = parse_key(a.pos[1 + i], agg[i]);
    if (rc == CLI_OK && !memcmp(agg[0], agg[1], WW_KEY_LEN))
        rc = input_error(_("aggregators A and B must be two different keys"), NULL, NULL);
    if (rc == CLI_OK)
        rc = cli_group(c, a.pos[0], gid);
    if (rc != CLI_OK)
        return rc;
    const char *team = args_get(&a, "team"), *location = args_get(&a, "location");
    rc = ww_group_climate_set(c->store, gid, agg[0], agg[1], team ? team : "",
                              location ? location : "");
    if (rc != 0)
        return lib_error(rc, _("cannot name the climate aggregators"), NULL);
    if (team && location && *team && *location)
        say2(_("climate answers of this group now count for team {1} in {2}"), team, location);
    else
        say(_("climate aggregators named; without --team and --location the group is in no "
              "report"));
    return CLI_OK;
}

/* `recover GROUP CODE`: a new device takes the group over from the lost owner device with
 * the recovery code. It holds the group's log first (`bundle import` of a member's bundle),
 * and then hands its news to the group the same way or through the hub. */
int verb_recover(struct cli *c, int argc, char **argv)
{
    struct args a;
    uint8_t gid[WW_ID_LEN];
    int rc = args_parse(NULL, argc, argv, 2, 2, &a);
    if (rc == CLI_OK)
        rc = cli_group(c, a.pos[0], gid);
    if (rc != CLI_OK)
        return rc;
    rc = ww_owner_recover(c->store, gid, a.pos[1]);
    if (rc == WW_EINVAL || rc == WW_EBADSIG)
        return input_error(_("that is not the recovery code of this group"), NULL, NULL);
    if (rc == WW_EGROUP)
        return lib_error(rc,
                         _("this device does not hold the group yet: import a member's bundle "
                           "of it first ('wegwijs bundle import')"),
                         NULL);
    if (rc != 0)
        return lib_error(rc, _("cannot take the group over"), NULL);
    say(_("this device is now the group's owner, with new keys, and the lost device is cut off. "
          "The hub does not know this device yet: give a member a bundle of the group ('wegwijs "
          "bundle export GROUP FILE'); once that member imported it and synced, this device "
          "syncs with the hub itself"));
    return CLI_OK;
}

/* `group owner GROUP KEY`: the owner hands the group over to another device of the
 * coach's own (a laptop or a new phone), which manages the members from then on. */
static int group_owner(struct cli *c, int argc, char **argv)
{
    struct args a;
    uint8_t gid[WW_ID_LEN], device[WW_KEY_LEN];
    int rc = args_parse(NULL, argc, argv, 2, 2, &a);
    if (rc == CLI_OK)
        rc = parse_key(a.pos[1], device);
    if (rc == CLI_OK)
        rc = cli_group(c, a.pos[0], gid);
    if (rc != CLI_OK)
        return rc;
    if ((rc = ww_owner_handover(c->store, gid, device, NULL)) != 0)
        return lib_error(rc, _("cannot hand the group over to {1}"), a.pos[1]);
    struct hexbuf h;
    say1(_("device {1} is now the group's owner; sync so that the group learns of it"),
         hex_of(device, WW_KEY_LEN, &h));
    return CLI_OK;
}

int verb_group(struct cli *c, int argc, char **argv)
{
    if (argc < 2)
        return usage_error(_("'{1}' needs a subcommand: {2}; see 'wegwijs help'"), "group",
                           "create, hub, climate, owner, recovery");
    if (!strcmp(argv[1], "climate"))
        return group_climate(c, argc - 1, argv + 1);
    if (!strcmp(argv[1], "create"))
        return group_create(c, argc - 1, argv + 1);
    if (!strcmp(argv[1], "hub"))
        return group_hub(c, argc - 1, argv + 1);
    if (!strcmp(argv[1], "owner"))
        return group_owner(c, argc - 1, argv + 1);
    if (!strcmp(argv[1], "recovery"))
        return group_recovery(c, argc - 1, argv + 1);
    char q[48];
    return usage_error(_("unknown command '{1} {2}'; see 'wegwijs help'"), "group",
                       quoted(argv[1], q));
}

struct group_list {
    size_t n;
    json_t *json; /* the array for --json, else NULL */
};

static void print_group(void *ud, const struct ww_group_info *g)
{
    struct group_list *l = ud;
    struct hexbuf h;
    char start[11];
    ww_date_format(g->start_date, start);
    l->n++;
    if (l->json) {
        json_t *hub = g->has_hub ? json_pack("{s:o, s:o}", "key", j_hex(g->hub, WW_KEY_LEN),
                                             "address", j_text(g->hub_addr))
                                 : json_null();
        json_array_append_new(
            l->json, json_pack("{s:o, s:o, s:o, s:o, s:b, s:i, s:o, s:o, s:o}", "id",
                               j_hex(g->id, WW_ID_LEN), "name", j_text(g->name), "role",
                               j_enum(WORD_ROLE, g->my_role), "member",
                               g->my_role ? j_hex(g->my_member, WW_ID_LEN) : json_null(), "owner",
                               g->is_owner, "epoch", (json_int_t)g->epoch, "start",
                               j_date(g->start_date), "tz", j_text(g->tz), "hub", hub));
        return;
    }
    printf("%s  %s  %s%s%s  %s %u  %s %s  %s\n", hex_of(g->id, WW_ID_LEN, &h),
           g->name ? g->name : "", g->my_role ? role_name(g->my_role) : _("not a member"),
           g->is_owner ? ", " : "", g->is_owner ? _("owner") : "", _("key epoch"),
           (unsigned)g->epoch, _("start"), start, g->tz ? g->tz : "");
    if (g->has_hub)
        printf("  %s: %s%s%s\n", _("hub"), hex_of(g->hub, WW_KEY_LEN, &h),
               g->hub_addr && *g->hub_addr ? " " : "", g->hub_addr ? g->hub_addr : "");
}

int verb_groups(struct cli *c, int argc, char **argv)
{
    struct args a;
    int rc = args_parse(NULL, argc, argv, 0, 0, &a);
    if (rc == CLI_OK)
        rc = cli_open(c, 0);
    if (rc != CLI_OK)
        return rc;
    struct group_list l = {0, NULL};
    json_t *doc = NULL;
    if ((rc = json_list(c, "groups", NULL, "groups", &doc, &l.json)) != CLI_OK)
        return rc;
    rc = ww_groups_list(c->store, print_group, &l);
    if (rc != 0) {
        json_decref(doc);
        return lib_error(rc, _("cannot list the groups"), NULL);
    }
    if (doc)
        return json_print(doc);
    if (l.n == 0)
        say(_("(no groups)"));
    return CLI_OK;
}

static int member_add(struct cli *c, int argc, char **argv)
{
    static const struct opt_spec spec[] = {{"role", 1, 0},  {"alias", 1, 0},  {"year", 1, 0},
                                           {"track", 1, 0}, {"device", 1, 0}, {NULL, 0, 0}};
    struct args a;
    uint8_t gid[WW_ID_LEN], device[WW_KEY_LEN];
    int rc = args_parse(spec, argc, argv, 1, 1, &a);
    if (rc != CLI_OK)
        return rc;
    const char *role_arg = args_get(&a, "role"), *alias = args_get(&a, "alias"),
               *dev_arg = args_get(&a, "device"), *v;
    if (!role_arg)
        return usage_error(_("option '--{1}' is missing; see 'wegwijs help'"), "role", NULL);
    if (!alias)
        return usage_error(_("option '--{1}' is missing; see 'wegwijs help'"), "alias", NULL);
    if (!dev_arg)
        return usage_error(_("option '--{1}' is missing; see 'wegwijs help'"), "device", NULL);
    int role = 0, track = WW_TRACK_NONE;
    if ((rc = parse_word(WORD_ROLE, role_arg, "--role", &role)) != CLI_OK)
        return rc;
    long year = role == WW_ROLE_SENIOR ? 3 : role == WW_ROLE_STUDENT ? 1 : 0;
    if ((v = args_get(&a, "year")) && (rc = parse_int(v, "--year", 1, 4, &year)) != CLI_OK)
        return rc;
    if (role == WW_ROLE_COACH)
        year = 0;
    if ((v = args_get(&a, "track")) && (rc = parse_word(WORD_TRACK, v, "--track", &track)))
        return rc;
    if ((rc = parse_key(dev_arg, device)) != CLI_OK)
        return rc;
    if ((rc = cli_group(c, a.pos[0], gid)) != CLI_OK)
        return rc;
    uint8_t member[WW_ID_LEN];
    rc = ww_member_add(c->store, gid, role, alias, (int)year, track, device, member);
    if (rc != 0)
        return lib_error(rc, _("cannot add the member"), NULL);
    if (c->json)
        return json_result("member add", json_pack("{s:o, s:o}", "group", j_hex(gid, WW_ID_LEN),
                                                   "member", j_hex(member, WW_ID_LEN)));
    struct hexbuf h;
    printf("%s\n", hex_of(member, WW_ID_LEN, &h));
    return CLI_OK;
}

static int member_remove(struct cli *c, int argc, char **argv)
{
    struct args a;
    uint8_t gid[WW_ID_LEN], member[WW_ID_LEN];
    int rc = args_parse(NULL, argc, argv, 2, 2, &a);
    if (rc == CLI_OK)
        rc = parse_member(a.pos[1], member);
    if (rc == CLI_OK)
        rc = cli_group(c, a.pos[0], gid);
    if (rc != CLI_OK)
        return rc;
    if ((rc = ww_member_remove(c->store, gid, member, NULL)) != 0)
        return lib_error(rc, _("cannot remove the member"), NULL);
    struct hexbuf h;
    say1(_("member {1} removed; a new key epoch has started"), hex_of(member, WW_ID_LEN, &h));
    return CLI_OK;
}

int verb_member(struct cli *c, int argc, char **argv)
{
    if (argc < 2)
        return usage_error(_("'{1}' needs a subcommand: {2}; see 'wegwijs help'"), "member",
                           "add, remove");
    if (!strcmp(argv[1], "add"))
        return member_add(c, argc - 1, argv + 1);
    if (!strcmp(argv[1], "remove"))
        return member_remove(c, argc - 1, argv + 1);
    char q[48];
    return usage_error(_("unknown command '{1} {2}'; see 'wegwijs help'"), "member",
                       quoted(argv[1], q));
}

/* `remove GROUP MEMBER`: the coach's short form of `member remove`. */
int verb_remove(struct cli *c, int argc, char **argv)
{
    return member_remove(c, argc, argv);
}

int verb_device(struct cli *c, int argc, char **argv)
{
    char q[48];
    if (argc < 2)
        return usage_error(_("'{1}' needs a subcommand: {2}; see 'wegwijs help'"), "device", "add");
    if (strcmp(argv[1], "add") != 0)
        return usage_error(_("unknown command '{1} {2}'; see 'wegwijs help'"), "device",
                           quoted(argv[1], q));
    struct args a;
    uint8_t gid[WW_ID_LEN], member[WW_ID_LEN], device[WW_KEY_LEN];
    int rc = args_parse(NULL, argc - 1, argv + 1, 3, 3, &a);
    if (rc == CLI_OK)
        rc = parse_member(a.pos[1], member);
    if (rc == CLI_OK)
        rc = parse_key(a.pos[2], device);
    if (rc == CLI_OK)
        rc = cli_group(c, a.pos[0], gid);
    if (rc != CLI_OK)
        return rc;
    if ((rc = ww_device_add(c->store, gid, member, device, NULL)) != 0)
        return lib_error(rc, _("cannot add the device"), NULL);
    struct hexbuf h;
    say1(_("device added to member {1}"), hex_of(member, WW_ID_LEN, &h));
    return CLI_OK;
}

struct member_list {
    size_t n;
    json_t *json;
};

static void print_member(void *ud, const struct ww_member_info *m)
{
    struct member_list *l = ud;
    struct hexbuf h;
    char buf[MEMBER_NAME_MAX];
    const char *name = member_name(m->alias, m->id, buf);
    l->n++;
    if (l->json) {
        json_t *devices = json_array();
        for (size_t i = 0; devices && i < m->n_devices; i++)
            json_array_append_new(devices, j_hex(m->devices[i], WW_KEY_LEN));
        json_array_append_new(
            l->json,
            json_pack("{s:o, s:o, s:o, s:o, s:o, s:b, s:o}", "id", j_hex(m->id, WW_ID_LEN), "role",
                      j_enum(WORD_ROLE, m->role), "alias", j_text(m->alias), "year",
                      m->role == WW_ROLE_COACH || !m->year ? json_null() : json_integer(m->year),
                      "track", j_enum(WORD_TRACK, m->track), "active", m->active, "devices",
                      devices));
        return;
    }
    printf("%s  %s  %s", hex_of(m->id, WW_ID_LEN, &h), role_name(m->role), name);
    if (m->role != WW_ROLE_COACH && m->year) /* year 0: its profile is not readable here */
        printf("  %s %d  %s", _("year"), m->year, track_name(m->track));
    if (!m->active)
        printf("  (%s)", _("removed"));
    putchar('\n');
    for (size_t i = 0; i < m->n_devices; i++)
        printf("    %s %s\n", _("device"), hex_of(m->devices[i], WW_KEY_LEN, &h));
}

int verb_members(struct cli *c, int argc, char **argv)
{
    struct args a;
    uint8_t gid[WW_ID_LEN];
    int rc = args_parse(NULL, argc, argv, 1, 1, &a);
    if (rc == CLI_OK)
        rc = cli_group(c, a.pos[0], gid);
    struct member_list l = {0, NULL};
    json_t *doc = NULL;
    if (rc == CLI_OK)
        rc = json_list(c, "members", gid, "members", &doc, &l.json);
    if (rc != CLI_OK)
        return rc;
    if ((rc = ww_members_list(c->store, gid, print_member, &l)) != 0) {
        json_decref(doc);
        return lib_error(rc, _("cannot list the members"), NULL);
    }
    if (doc)
        return json_print(doc);
    if (l.n == 0)
        say(_("(no members)"));
    return CLI_OK;
}
