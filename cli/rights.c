/*
 * rights.c - data rights: `export` (everything this device holds about a member, as the
 * library's JSON, on stdout) and `erase` (a member's texts, on every device that syncs).
 */
#include "cli.h"

static int group_and_member(struct cli *c, int argc, char **argv, uint8_t gid[WW_ID_LEN],
                            uint8_t member[WW_ID_LEN])
{
    struct args a;
    int rc = args_parse(NULL, argc, argv, 2, 2, &a);
    if (rc == CLI_OK)
        rc = parse_member(a.pos[1], member);
    if (rc == CLI_OK)
        rc = cli_group(c, a.pos[0], gid);
    return rc;
}

int verb_export(struct cli *c, int argc, char **argv)
{
    uint8_t gid[WW_ID_LEN], member[WW_ID_LEN];
    int rc = group_and_member(c, argc, argv, gid, member);
    if (rc != CLI_OK)
        return rc;
    char *json = NULL;
    if ((rc = ww_member_export(c->store, gid, member, &json)) != 0)
        return lib_error(rc, _("cannot export"), NULL);
    fputs(json, stdout);
    ww_free_string(json);
    return CLI_OK;
}

int verb_erase(struct cli *c, int argc, char **argv)
{
    uint8_t gid[WW_ID_LEN], member[WW_ID_LEN];
    int rc = group_and_member(c, argc, argv, gid, member);
    if (rc != CLI_OK)
        return rc;
    if ((rc = ww_member_erase(c->store, gid, member, NULL)) != 0)
        return lib_error(rc, _("cannot erase"), NULL);
    struct hexbuf h;
    say1(_("member {1}'s texts are being erased on every device"), hex_of(member, WW_ID_LEN, &h));
    return CLI_OK;
}
