/*
 * health.c - sync health: `status [GROUP]` (every role: my groups, my role, when this
 * device last synced with the hub and with a peer, what it has not sent yet and what waits)
 * and `devices GROUP` (the coach: per member device its last syncs as it reported them,
 * the events it still lacks, and per erasure which devices applied it).
 *
 * Everything comes from the library (ww_sync_state, ww_devices_health); the reports behind
 * `devices` say nothing of content (PROTOCOL.md 6.22). Times print as local time on a
 * terminal and as UTC ISO 8601 in JSON (docs/JSON.md).
 */
#include <string.h>
#include <time.h>

#include "cli.h"

/* "YYYY-MM-DD HH:MM" in local time, or "never" for 0. */
static const char *when(uint64_t ms, char buf[32])
{
    if (ms == 0)
        return _("never");
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!localtime_r(&t, &tm) || strftime(buf, 32, "%Y-%m-%d %H:%M", &tm) == 0)
        return "?";
    return buf;
}

/* "YYYY-MM-DDTHH:MM:SSZ", or null for 0. */
static json_t *j_time(uint64_t ms)
{
    if (ms == 0)
        return json_null();
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char buf[32];
    if (!gmtime_r(&t, &tm) || strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        return json_null();
    return json_string(buf);
}

/* ---- status ---- */

struct status_list {
    struct cli *c;
    const uint8_t *only; /* one group, or NULL for all */
    size_t n;
    json_t *json;
    int rc;
};

/* Where this device's climate answers go, as a word (JSON) and a sentence. */
static const char *const CLIMATE_WORD[] = {"none", "unconfirmed", "shared", "refused"};

static const char *climate_sentence(int state)
{
    switch (state) {
    case WW_AGGKEYS_PINNED:
        return _("  climate: shared as split shares with the two aggregators the hub confirmed");
    case WW_AGGKEYS_UNPINNED:
        return _("  climate: stays on this device (the hub did not confirm the group's keys to "
                 "it)");
    case WW_AGGKEYS_MISMATCH:
        return _("  climate: refused: the group names other keys than the hub confirmed");
    default:
        return _("  climate: stays on this device (the group names no aggregators)");
    }
}

static void status_group(void *ud, const struct ww_group_info *g)
{
    struct status_list *l = ud;
    if (l->rc != 0 || (l->only && memcmp(l->only, g->id, WW_ID_LEN)))
        return;
    struct ww_sync_state st;
    struct ww_climate_info ci;
    if ((l->rc = ww_sync_state(l->c->store, g->id, &st)) != 0 ||
        (l->rc = ww_group_climate_get(l->c->store, g->id, &ci)) != 0)
        return;
    int learner = g->my_role == WW_ROLE_STUDENT || g->my_role == WW_ROLE_SENIOR;
    l->n++;
    if (l->json) {
        json_array_append_new(
            l->json,
            json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:s}", "group",
                      j_hex(g->id, WW_ID_LEN), "name", j_text(g->name), "role",
                      g->my_role ? j_enum(WORD_ROLE, g->my_role) : json_null(), "hub",
                      g->has_hub && g->hub_addr[0] ? json_string(g->hub_addr) : json_null(),
                      "hub_synced", j_time(st.hub_at), "peer_synced", j_time(st.peer_at),
                      "reported", j_time(st.reported_at), "unsent", (json_int_t)st.unsent,
                      "waiting", (json_int_t)st.waiting, "climate", CLIMATE_WORD[ci.state]));
        return;
    }
    struct hexbuf h;
    char b1[32], b2[32], n1[24], n2[24];
    printf("%s  %s  %s\n", hex_of(g->id, WW_ID_LEN, &h), g->name,
           g->my_role ? role_name(g->my_role) : _("no longer a member"));
    if (g->has_hub)
        say2(_("  hub {1}: last synced {2}"), g->hub_addr[0] ? g->hub_addr : "?",
             when(st.hub_at, b1));
    else
        say(_("  no hub named yet"));
    say1(_("  another device: last synced {1}"), when(st.peer_at, b2));
    snprintf(n1, sizeof n1, "%llu", (unsigned long long)st.unsent);
    snprintf(n2, sizeof n2, "%llu", (unsigned long long)st.waiting);
    say2(_("  not sent to the hub yet: {1}; waiting for earlier events: {2}"), n1, n2);
    if (learner)
        say(climate_sentence(ci.state));
}

int verb_status(struct cli *c, int argc, char **argv)
{
    struct args a;
    uint8_t gid[WW_ID_LEN];
    int rc = args_parse(NULL, argc, argv, 0, 1, &a);
    if (rc == CLI_OK && a.n_pos == 1)
        rc = cli_group(c, a.pos[0], gid);
    else if (rc == CLI_OK)
        rc = cli_open(c, 0);
    if (rc != CLI_OK)
        return rc;
    struct status_list l = {c, a.n_pos == 1 ? gid : NULL, 0, NULL, 0};
    json_t *doc = NULL;
    if ((rc = json_list(c, "status", NULL, "groups", &doc, &l.json)) != CLI_OK)
        return rc;
    if (doc) {
        uint8_t me[WW_KEY_LEN];
        ww_store_device(c->store, me);
        json_object_set_new(doc, "device", j_hex(me, WW_KEY_LEN));
    }
    rc = ww_groups_list(c->store, status_group, &l);
    if (rc == 0)
        rc = l.rc;
    if (rc != 0) {
        json_decref(doc);
        return lib_error(rc, _("cannot read the sync state"), NULL);
    }
    if (doc)
        return json_print(doc);
    if (l.n == 0)
        say(_("(no groups)"));
    return CLI_OK;
}

/* ---- devices ---- */

struct device_list {
    json_t *devices, *erasures;
    size_t n;
};

static void device_row(void *ud, const struct ww_device_health *d)
{
    struct device_list *l = ud;
    char buf[MEMBER_NAME_MAX];
    const char *name = member_name(d->alias, d->member, buf);
    l->n++;
    if (l->devices) {
        json_array_append_new(l->devices,
                              json_pack("{s:o, s:o, s:o, s:o, s:b, s:b, s:o, s:o, s:o, s:o}",
                                        "device", j_hex(d->device, WW_KEY_LEN), "member",
                                        j_hex(d->member, WW_ID_LEN), "alias", j_text(d->alias),
                                        "role", j_enum(WORD_ROLE, d->role), "this_device",
                                        d->this_device, "reported", d->reported, "report_at",
                                        j_time(d->reported ? d->report_at : 0), "hub_synced",
                                        j_time(d->known ? d->hub_at : 0), "peer_synced",
                                        j_time(d->known ? d->peer_at : 0), "missing",
                                        d->reported      ? json_integer((json_int_t)d->missing)
                                        : d->this_device ? json_integer(0)
                                                         : json_null()));
        return;
    }
    struct hexbuf h;
    char b1[32], b2[32], miss[24];
    const char *lacks = d->this_device ? "0" : "?";
    if (d->reported) {
        snprintf(miss, sizeof miss, "%llu", (unsigned long long)d->missing);
        lacks = miss;
    }
    printf("%.16s  ", hex_of(d->device, WW_KEY_LEN, &h));
    print_padded(name, 20);
    putchar(' ');
    print_padded(role_name(d->role), 12); /* widths in characters: "ouderejaars", "privé" */
    if (!d->known) {
        say(_("no report yet"));
        return;
    }
    const char *args[] = {when(d->hub_at, b1), when(d->peer_at, b2), lacks};
    put_msgv(stdout, _("hub {1}  peer {2}  lacks {3}"), args, 3);
    if (d->this_device)
        printf("  (%s)", _("this device"));
    putchar('\n');
}

static void erasure_row(void *ud, const struct ww_erasure_receipts *r)
{
    struct device_list *l = ud;
    if (l->erasures) {
        json_t *devs = json_array();
        for (size_t i = 0; devs && i < r->n_devices; i++)
            json_array_append_new(devs, json_pack("{s:o, s:o, s:b}", "device",
                                                  j_hex(r->devices[i].device, WW_KEY_LEN), "alias",
                                                  j_text(r->devices[i].alias), "applied",
                                                  r->devices[i].applied));
        json_array_append_new(l->erasures,
                              json_pack("{s:o, s:o, s:o, s:I, s:I, s:o}", "event",
                                        j_hex(r->hash, WW_EVENT_HASH_LEN), "member",
                                        j_hex(r->member, WW_ID_LEN), "at", j_time(r->at), "applied",
                                        (json_int_t)r->n_applied, "devices",
                                        (json_int_t)r->n_devices, "receipts", devs));
        return;
    }
    struct hexbuf h;
    char b[32], n1[24], n2[24];
    snprintf(n1, sizeof n1, "%zu", r->n_applied);
    snprintf(n2, sizeof n2, "%zu", r->n_devices);
    const char *args[] = {when(r->at, b), hex_of(r->member, WW_ID_LEN, &h), n1, n2};
    put_msgv(stdout, _("erasure of {1} for member {2}: applied on {3} of {4} devices"), args, 4);
    putchar('\n');
    for (size_t i = 0; i < r->n_devices; i++)
        if (!r->devices[i].applied)
            say2(_("  not yet: {1} {2}"),
                 r->devices[i].alias && *r->devices[i].alias ? r->devices[i].alias : "?",
                 hex_of(r->devices[i].device, WW_KEY_LEN, &h));
}

int verb_devices(struct cli *c, int argc, char **argv)
{
    struct args a;
    uint8_t gid[WW_ID_LEN];
    int rc = args_parse(NULL, argc, argv, 1, 1, &a);
    if (rc == CLI_OK)
        rc = cli_group(c, a.pos[0], gid);
    struct device_list l = {NULL, NULL, 0};
    json_t *doc = NULL;
    if (rc == CLI_OK)
        rc = json_list(c, "devices", gid, "devices", &doc, &l.devices);
    if (rc == CLI_OK && doc) {
        l.erasures = json_array();
        if (!l.erasures || json_object_set_new(doc, "erasures", l.erasures) != 0) {
            json_decref(doc);
            return fail(CLI_FAIL, _("out of memory"), NULL, NULL);
        }
    }
    if (rc != CLI_OK)
        return rc;
    if ((rc = ww_devices_health(c->store, gid, device_row, erasure_row, &l)) != 0) {
        json_decref(doc);
        return lib_error(rc, _("cannot read the devices' sync state"), NULL);
    }
    return doc ? json_print(doc) : CLI_OK;
}
