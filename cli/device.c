/*
 * device.c - this device: `init` and `id`, opening the store in the data folder, and the
 * small helpers every verb shares (group lookup, dates, member names, printing).
 *
 * Only `init` and `demo` create a device. Every other verb refuses a data folder without
 * an identity, so a mistyped --data never silently starts a new, empty device.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

int make_dirs(const char *path)
{
    size_t len = strlen(path);
    char *p = malloc(len + 1);
    if (!p)
        return -ENOMEM;
    memcpy(p, path, len + 1);
    int rc = 0;
    for (size_t i = 1; i <= len && rc == 0; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char c = p[i];
        p[i] = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST)
            rc = -errno;
        p[i] = c;
    }
    free(p);
    return rc;
}

int store_error(int rc, const char *path)
{
    int code = lib_error(rc, _("cannot open the device in '{1}'"), path);
    return code == CLI_FAIL ? CLI_STORE : code;
}

int cli_need_data(struct cli *c)
{
    return c->data
               ? CLI_OK
               : usage_error(_("no data folder: give --data DIR or set $WEGWIJS_HOME"), NULL, NULL);
}

int cli_open(struct cli *c, int create)
{
    if (c->store)
        return CLI_OK;
    if (!c->data)
        return cli_need_data(c);
    if (create) {
        int rc = make_dirs(c->data);
        if (rc != 0)
            return store_error(rc, c->data);
    } else {
        size_t len = strlen(c->data);
        char *key = malloc(len + sizeof "/identity.key");
        if (!key)
            return fail(CLI_FAIL, _("out of memory"), NULL, NULL);
        memcpy(key, c->data, len);
        memcpy(key + len, "/identity.key", sizeof "/identity.key");
        struct stat st;
        int missing = stat(key, &st) != 0 && errno == ENOENT;
        free(key);
        if (missing)
            return fail(CLI_NOTFOUND, _("no device in '{1}'; create it first with 'wegwijs init'"),
                        c->data, NULL);
    }
    int rc = ww_store_open(c->data, NULL, &c->store);
    if (rc != 0) {
        c->store = NULL;
        return store_error(rc, c->data);
    }
    return CLI_OK;
}

static void ignore_group(void *ud, const struct ww_group_info *g)
{
    (void)ud;
    (void)g;
}

int cli_group(struct cli *c, const char *arg, uint8_t gid[WW_ID_LEN])
{
    int rc = parse_group(arg, gid);
    if (rc != CLI_OK)
        return rc;
    if ((rc = cli_open(c, 0)) != CLI_OK)
        return rc;
    rc = ww_group_get(c->store, gid, ignore_group, NULL);
    if (rc == WW_EGROUP) {
        struct hexbuf h;
        return fail(CLI_NOTFOUND, _("unknown group {1}; 'wegwijs groups' lists your groups"),
                    hex_of(gid, WW_ID_LEN, &h), NULL);
    }
    if (rc != 0) {
        struct hexbuf h;
        return lib_error(rc, _("cannot read group {1}"), hex_of(gid, WW_ID_LEN, &h));
    }
    return CLI_OK;
}

int cli_date_or_today(struct cli *c, const uint8_t gid[WW_ID_LEN], const char *arg, uint32_t *out)
{
    if (arg)
        return parse_date(arg, out);
    int rc = ww_day_today(c->store, gid, out);
    if (rc != 0) {
        return lib_error(rc, _("cannot determine today's date"), NULL);
    }
    return CLI_OK;
}

int check_range(uint32_t from, uint32_t to, uint32_t max_days)
{
    if (from > to)
        return input_error(_("--from must not come after --to"), NULL, NULL);
    if (to - from + 1 > max_days) {
        char n[16];
        snprintf(n, sizeof n, "%u", (unsigned)max_days);
        return input_error(_("the range is longer than {1} days"), n, NULL);
    }
    return CLI_OK;
}

size_t text_width(const char *s)
{
    size_t w = 0;
    for (; s && *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

void print_padded(const char *s, size_t width)
{
    fputs(s, stdout);
    for (size_t w = text_width(s); w < width; w++)
        putchar(' ');
}

const char *hex_of(const uint8_t *bin, size_t len, struct hexbuf *b)
{
    if (len > WW_EVENT_HASH_LEN)
        len = WW_EVENT_HASH_LEN;
    ww_hex(bin, len, b->s);
    return b->s;
}

void print_text(const char *prefix, const char *text, int indent)
{
    fputs(prefix, stdout);
    for (const char *p = text ? text : ""; *p; p++) {
        putchar(*p);
        if (*p == '\n' && p[1])
            printf("%*s", indent, "");
    }
    putchar('\n');
}

/* ---- Members by id ------------------------------------------------------------------------ */

#define ROSTER_MAX 4096 /* removed members stay listed; bound the table all the same */

static void roster_add(void *ud, const struct ww_member_info *m)
{
    struct roster *r = ud;
    if (r->rc != 0 || r->n == ROSTER_MAX)
        return;
    struct roster_entry *e = realloc(r->e, (r->n + 1) * sizeof *e);
    if (!e) {
        r->rc = -ENOMEM;
        return;
    }
    r->e = e;
    e = &r->e[r->n++];
    memset(e, 0, sizeof *e);
    memcpy(e->id, m->id, WW_ID_LEN);
    e->role = m->role;
    e->year = m->year;
    e->track = m->track;
    e->active = m->active;
    e->n_devices = m->n_devices;
    if (m->n_devices > 0)
        memcpy(e->first_device, m->devices[0], WW_KEY_LEN);
    char name[MEMBER_NAME_MAX];
    snprintf(e->alias, sizeof e->alias, "%s", member_name(m->alias, m->id, name));
}

const char *member_name(const char *alias, const uint8_t id[WW_ID_LEN], char out[MEMBER_NAME_MAX])
{
    if (alias && *alias)
        return alias;
    struct hexbuf h;
    /* TRANSLATORS: the name of a member whose profile this device cannot read; {1} is the
       first four hex digits of its id. */
    const char *text = _("member {1}"), *at = strstr(text, "{1}");
    if (!at)
        at = text + strlen(text);
    snprintf(out, MEMBER_NAME_MAX, "%.*s%s%s", (int)(at - text), text, hex_of(id, 2, &h),
             *at ? at + 3 : "");
    return out;
}

json_t *j_alias(const char *name, const uint8_t id[WW_ID_LEN])
{
    char buf[MEMBER_NAME_MAX];
    return j_text(name && strcmp(name, member_name(NULL, id, buf)) ? name : NULL);
}

int roster_load(struct cli *c, const uint8_t gid[WW_ID_LEN], struct roster *r)
{
    memset(r, 0, sizeof *r);
    int rc = ww_members_list(c->store, gid, roster_add, r);
    if (rc == 0)
        rc = r->rc;
    if (rc != 0) {
        roster_free(r);
        return lib_error(rc, _("cannot list the members"), NULL);
    }
    return CLI_OK;
}

void roster_free(struct roster *r)
{
    free(r->e);
    r->e = NULL;
    r->n = 0;
}

const struct roster_entry *roster_find(const struct roster *r, const uint8_t id[WW_ID_LEN])
{
    for (size_t i = 0; i < r->n; i++)
        if (!memcmp(r->e[i].id, id, WW_ID_LEN))
            return &r->e[i];
    return NULL;
}

const char *roster_alias(const struct roster *r, const uint8_t id[WW_ID_LEN])
{
    const struct roster_entry *e = roster_find(r, id);
    return e ? e->alias : "?";
}

/* ---- Verbs -------------------------------------------------------------------------------- */

static int print_device(struct cli *c, const char *verb)
{
    uint8_t pk[WW_KEY_LEN];
    struct hexbuf h;
    ww_store_device(c->store, pk);
    if (!c->json) {
        printf("%s\n", hex_of(pk, WW_KEY_LEN, &h));
        return CLI_OK;
    }
    json_t *doc = json_doc(verb);
    if (doc)
        json_object_set_new(doc, "device", j_hex(pk, WW_KEY_LEN));
    return json_print(doc);
}

int verb_init(struct cli *c, int argc, char **argv)
{
    struct args a;
    int rc = args_parse(NULL, argc, argv, 0, 0, &a);
    if (rc == CLI_OK)
        rc = cli_open(c, 1);
    if (rc == CLI_OK)
        rc = print_device(c, "init");
    return rc;
}

int verb_id(struct cli *c, int argc, char **argv)
{
    struct args a;
    int rc = args_parse(NULL, argc, argv, 0, 0, &a);
    if (rc == CLI_OK)
        rc = cli_open(c, 0);
    if (rc == CLI_OK)
        rc = print_device(c, "id");
    return rc;
}
