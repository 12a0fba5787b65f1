/*
 * invite.c - the coach's invites: make one (prints the code a student types), list them,
 * revoke an unused one.
 *
 *     wegwijs invite GROUP [--role student|senior] [--days N]
 *     wegwijs invite GROUP --device [--days N]
 *     wegwijs invite revoke GROUP INVITE
 *     wegwijs invites GROUP
 *
 * An invite is for one role in one group, single use and expiring; its code carries the
 * hub's address and the fingerprint of its key, so the group must have named its hub with
 * an address first (`wegwijs group hub`). The new device redeems it with `wegwijs join`.
 * With --device a member's own device invites another device of that member (anyone's, the
 * coach's too); the coach's device admits it without a step by the coach.
 */
#include <string.h>
#include <time.h>

#include <unistd.h>

#include "cli.h"

#define MAX_DAYS 30

static const char *invite_state_name(int state)
{
    switch (state) {
    case WW_INVITE_OPEN:
        return _("open");
    case WW_INVITE_USED:
        return _("used");
    case WW_INVITE_REVOKED:
        return _("revoked");
    case WW_INVITE_EXPIRED:
        return _("expired");
    default:
        return "?";
    }
}

static const char *invite_state_word(int state)
{
    static const char *const words[] = {"?", "open", "used", "revoked", "expired"};
    return state >= 1 && state <= 4 ? words[state] : "?";
}

static int invite_make(struct cli *c, int argc, char **argv)
{
    static const struct opt_spec spec[] = {{"role", 1, 0},  {"days", 1, 0},   {"qr", 0, 0},
                                           {"no-qr", 0, 0}, {"device", 0, 0}, {NULL, 0, 0}};
    struct args a;
    uint8_t gid[WW_ID_LEN];
    int rc = args_parse(spec, argc, argv, 1, 1, &a);
    int role = WW_ROLE_STUDENT;
    if (rc == CLI_OK && args_get(&a, "qr") && args_get(&a, "no-qr"))
        rc = usage_error(_("--qr and --no-qr exclude each other"), NULL, NULL);
    long days = 7;
    int device = args_get(&a, "device") != NULL;
    if (rc == CLI_OK && device && args_get(&a, "role"))
        rc = usage_error(_("--device and --role exclude each other"), NULL, NULL);
    if (rc == CLI_OK && args_get(&a, "role"))
        rc = parse_word(WORD_ROLE, args_get(&a, "role"), "--role", &role);
    if (rc == CLI_OK && role == WW_ROLE_COACH)
        rc =
            input_error(_("an invite is for a student or the senior, not for a coach"), NULL, NULL);
    if (rc == CLI_OK && args_get(&a, "days"))
        rc = parse_int(args_get(&a, "days"), "--days", 1, MAX_DAYS, &days);
    if (rc == CLI_OK)
        rc = cli_group(c, a.pos[0], gid);
    if (rc != CLI_OK)
        return rc;
    char code[WW_INVITE_CODE_MAX];
    uint8_t invite[WW_KEY_LEN];
    int64_t expires = args_get(&a, "days") ? (int64_t)time(NULL) * 1000 + days * 86400000LL : 0;
    rc = device ? ww_device_invite(c->store, gid, expires, code, sizeof code, invite)
                : ww_invite_create(c->store, gid, role, expires, code, sizeof code, invite);
    if (rc == WW_EROLE && device)
        return fail(CLI_DENIED,
                    _("only a device that its member added, or that joined with its own "
                      "invite, may invite another device of that member"),
                    NULL, NULL);
    if (rc == WW_ESTATE)
        return fail(CLI_CONFLICT,
                    _("the group has not named its hub with an address yet; first: wegwijs "
                      "group hub {1} HUBKEY HOST:PORT"),
                    a.pos[0], NULL);
    if (rc != 0)
        return lib_error(rc, _("cannot make the invite"), NULL);
    /* The hub must know the invite before a device can redeem it: publish it now, with a
     * sync to the hub the group named. Without a connection it goes with the next sync. */
    int json = c->json;
    char verb[] = "sync", quiet[] = "--quiet";
    char *sync_argv[] = {verb, quiet, NULL};
    c->json = 0;
    int published = verb_sync(c, 2, sync_argv) == CLI_OK;
    c->json = json;
    if (!published) {
        fputs("wegwijs: ", stderr);
        say_to(stderr, _("the invite is made; it reaches the hub with your next sync"), NULL, NULL,
               NULL);
    }
    struct hexbuf h;
    if (c->json)
        return json_result(
            "invite", json_pack("{s:o, s:o, s:o, s:s, s:I, s:b}", "group", j_hex(gid, WW_ID_LEN),
                                "invite", j_hex(invite, WW_KEY_LEN), "role",
                                device ? json_string("device") : j_enum(WORD_ROLE, role), "code",
                                code, "days", (json_int_t)days, "published", published));
    printf("%s\n", code);
    /* On a terminal (or with --qr) the code as a QR code too, for the student's camera. */
    if (args_get(&a, "qr") || (!args_get(&a, "no-qr") && isatty(STDOUT_FILENO)))
        qr_print(stdout, code);
    if (device)
        say1(_("device invite {1}: your other device joins with: wegwijs join CODE"),
             hex_of(invite, WW_KEY_LEN, &h));
    else
        say2(_("invite {1} for a {2}; the new device joins with: wegwijs join CODE --alias NAME"),
             hex_of(invite, WW_KEY_LEN, &h), role_name(role));
    return CLI_OK;
}

static int invite_revoke(struct cli *c, int argc, char **argv)
{
    struct args a;
    uint8_t gid[WW_ID_LEN], invite[WW_KEY_LEN];
    int rc = args_parse(NULL, argc, argv, 2, 2, &a);
    if (rc == CLI_OK)
        rc = parse_key(a.pos[1], invite);
    if (rc == CLI_OK)
        rc = cli_group(c, a.pos[0], gid);
    if (rc != CLI_OK)
        return rc;
    uint8_t hash[WW_EVENT_HASH_LEN];
    if ((rc = ww_invite_revoke(c->store, gid, invite, hash)) != 0)
        return lib_error(rc, _("cannot revoke the invite"), a.pos[1]);
    struct hexbuf h;
    if (c->json)
        return json_result("invite revoke",
                           json_pack("{s:o, s:o}", "invite", j_hex(invite, WW_KEY_LEN), "event",
                                     j_hex(hash, WW_EVENT_HASH_LEN)));
    say1(_("invite revoked: {1}"), hex_of(invite, WW_KEY_LEN, &h));
    return CLI_OK;
}

int verb_invite(struct cli *c, int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "revoke"))
        return invite_revoke(c, argc - 1, argv + 1);
    return invite_make(c, argc, argv);
}

struct invite_list {
    size_t n;
    json_t *json;
    struct roster roster;
};

static void print_invite(void *ud, const struct ww_invite_info *i)
{
    struct invite_list *l = ud;
    struct hexbuf h;
    char date[11];
    uint32_t expires = (uint32_t)(i->expires_ms / (24 * 3600 * 1000LL));
    ww_date_format(expires, date);
    l->n++;
    if (l->json) {
        json_array_append_new(
            l->json,
            json_pack("{s:o, s:o, s:s, s:o, s:o}", "invite", j_hex(i->invite, WW_KEY_LEN), "role",
                      i->role ? j_enum(WORD_ROLE, i->role) : json_string("device"), "state",
                      invite_state_word(i->state), "expires", j_date(expires), "member",
                      i->state == WW_INVITE_USED || !i->role ? j_hex(i->member, WW_ID_LEN)
                                                             : json_null()));
        return;
    }
    printf("%s  %s  %s  %s %s", hex_of(i->invite, WW_KEY_LEN, &h),
           i->role ? role_name(i->role) : _("device"), invite_state_name(i->state), _("until"),
           date);
    if (i->state == WW_INVITE_USED || !i->role)
        printf("  %s", roster_alias(&l->roster, i->member));
    putchar('\n');
}

int verb_invites(struct cli *c, int argc, char **argv)
{
    struct args a;
    uint8_t gid[WW_ID_LEN];
    int rc = args_parse(NULL, argc, argv, 1, 1, &a);
    if (rc == CLI_OK)
        rc = cli_group(c, a.pos[0], gid);
    struct invite_list l;
    memset(&l, 0, sizeof l);
    json_t *doc = NULL;
    if (rc == CLI_OK)
        rc = json_list(c, "invites", gid, "invites", &doc, &l.json);
    if (rc == CLI_OK && !doc)
        rc = roster_load(c, gid, &l.roster);
    if (rc != CLI_OK) {
        json_decref(doc);
        return rc;
    }
    rc = ww_invites_list(c->store, gid, print_invite, &l);
    roster_free(&l.roster);
    if (rc != 0) {
        json_decref(doc);
        return lib_error(rc, _("cannot list the invites"), NULL);
    }
    if (doc)
        return json_print(doc);
    if (l.n == 0)
        say(_("(no invites)"));
    return CLI_OK;
}
