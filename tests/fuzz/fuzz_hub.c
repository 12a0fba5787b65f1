/*
 * fuzz_hub.c - libFuzzer target: a member's device, after a genuine handshake, sends a hub
 * any sequence of frames, cut into any pieces.
 *
 * End to end on the hub's side of one connection: the secure channel (Noise XX, records,
 * AEAD), then a hub's sync session on a store, with the membership rule a hub applies
 * (only a device of an active member may sync a group; after each batch, inside its
 * transaction, the group is checked again). The input is a sequence of frames,
 * u16be(len) || len bytes; the device seals each as one record, and the stream of records
 * is fed to the hub in pieces of 1..64 bytes (chosen by the input's first byte), as TCP
 * may cut it. The device is the group's owner (a coach), so its valid events apply.
 *
 * Properties: no crash, no leak beyond what the store keeps, the hub's store still answers
 * after every input, and once the session failed the hub takes nothing more. The stores persist
 * across inputs, as a hub's does across connections.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "alloc.h"
#include "channel.h"
#include "fuzz_common.inc"
#include "session.h"
#include "wegwijs.h"

static struct ww_store *hub, *coach;
static uint8_t gid[WW_ID_LEN], coach_pk[WW_KEY_LEN];
static uint64_t counter;

static int64_t fixed_now(void *ud)
{
    (void)ud;
    return 1795417200000LL;
}

static void fixed_random(void *ud, uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)((uintptr_t)ud ^ (counter++ * 131u >> 3));
}

static struct ww_store *open_store(const char *name, uintptr_t salt)
{
    char dir[] = "/tmp/ww-fuzz-hub-XXXXXX";
    if (!mkdtemp(dir))
        abort();
    (void)name;
    struct ww_options opt = {fixed_now, fixed_random, (void *)salt, ":memory:"};
    struct ww_store *s = NULL;
    if (ww_store_open(dir, &opt, &s) != 0)
        abort();
    return s;
}

static int dh(void *ud, const uint8_t pub[32], uint8_t out[32])
{
    return ww_store_dh(ud, pub, out);
}

static void id_of(struct ww_store *s, struct ww_channel_id *id)
{
    ww_store_device(s, id->device_pk);
    ww_store_dh_pk(s, id->static_pk);
    id->dh = dh;
    id->ud = s;
}

static void collect(void *ud, const uint8_t *ev, size_t len)
{
    struct ww_apply_result r;
    const uint8_t *evs[1] = {ev};
    if (ww_sync_apply(ud, evs, &len, 1, &r) != 0)
        abort();
}

static void setup(void)
{
    if (sodium_init() < 0)
        abort();
    /* The coach's store is made exactly as fuzz_session's is, so the two targets share a
     * group id and each one's seeds are useful to the other. */
    coach = open_store("coach", 0x5a);
    ww_store_device(coach, coach_pk);
    if (ww_group_create(coach, "Groep", NULL, 0, "Coach", NULL, gid, NULL) != 0)
        abort();
    hub = open_store("hub", 0x11);
    /* The hub holds the group, as after the coach's first upload. */
    if (ww_sync_missing(coach, gid, NULL, 0, 256, 1u << 20, collect, hub, NULL) != 0)
        abort();
}

/* ---- The hub's side: its session and the rule a hub node applies ---------------------- */

struct hub_side {
    struct ww_session ss;
    int frames_after_fail;
};

static int drop(void *ud, const uint8_t *frame, size_t len)
{
    (void)ud;
    (void)frame;
    (void)len;
    return 0;
}

struct found {
    const uint8_t *device;
    int yes;
};

static void member_cb(void *ud, const struct ww_member_info *m)
{
    struct found *f = ud;
    for (size_t i = 0; m->active && i < m->n_devices; i++)
        f->yes |= !memcmp(m->devices[i], f->device, WW_KEY_LEN);
}

static int may_sync(void *ud, const uint8_t group[WW_ID_LEN])
{
    struct hub_side *h = ud;
    struct found f = {h->ss.cfg.peer, 0};
    int rc = ww_members_list(hub, group, member_cb, &f);
    return rc ? rc : f.yes ? 0 : WW_ENOTMEMBER;
}

static int on_frame(void *ud, const uint8_t *frame, size_t len)
{
    struct hub_side *h = ud;
    if (h->ss.failed) {
        h->frames_after_fail++;
        return h->ss.failed;
    }
    return ww_session_on_frame(&h->ss, frame, len, 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!hub)
        setup();
    struct ww_channel_id hid, cid;
    id_of(hub, &hid);
    id_of(coach, &cid);
    struct ww_channel a, b;
    struct ww_buf m;
    ww_buf_init(&m, 0);
    if (ww_channel_init_id(&a, WW_CHANNEL_INITIATOR, &cid, WW_CAP_SYNC | WW_CAP_COMPACT) ||
        ww_channel_init_id(&b, WW_CHANNEL_RESPONDER, &hid, WW_CAP_SYNC | WW_CAP_COMPACT))
        abort();
    struct hub_side h;
    memset(&h, 0, sizeof h);
    /* The handshake: three messages; nothing is a frame yet. */
    for (int i = 0; i < 3; i++) {
        struct ww_channel *from = i % 2 ? &b : &a, *to = i % 2 ? &a : &b;
        ww_buf_reset(&m);
        if (ww_channel_handshake_write(from, &m) != 0 ||
            ww_channel_feed(to, m.p, m.len, on_frame, &h) != 0)
            abort();
    }
    struct ww_channel_peer peer;
    if (ww_channel_peer(&b, &peer) != 0 || memcmp(peer.device_pk, coach_pk, WW_KEY_LEN))
        abort();
    struct ww_session_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.store = hub;
    memcpy(cfg.peer, peer.device_pk, WW_KEY_LEN);
    cfg.peer_caps = peer.caps;
    cfg.ud = &h;
    cfg.send = drop;
    cfg.may_sync = may_sync;
    cfg.recheck_batches = 1;
    if (ww_session_init(&h.ss, &cfg, 1) != 0)
        abort();

    /* The device seals the input's frames; the hub takes the stream in pieces. */
    size_t step = size ? 1 + data[0] % 64 : 1;
    ww_buf_reset(&m);
    for (size_t off = 1; off + 2 <= size;) {
        size_t len = (size_t)data[off] << 8 | data[off + 1];
        off += 2;
        if (len > size - off)
            len = size - off;
        /* An empty frame is no record (the device refuses to seal it); skip it. */
        if (len && ww_channel_seal(&a, data + off, len, &m) != 0)
            abort();
        off += len;
    }
    for (size_t pos = 0; pos < m.len;) {
        size_t take = step < m.len - pos ? step : m.len - pos;
        if (ww_channel_feed(&b, m.p + pos, take, on_frame, &h) != 0)
            break;
        pos += take;
    }
    if (h.frames_after_fail > 1)
        abort(); /* the channel stops at the first refusal */
    ww_session_close(&h.ss);
    ww_channel_close(&a);
    ww_channel_close(&b);
    ww_buf_free(&m);
    /* Whatever the session did, the hub's store still answers. */
    struct ww_vv_item vv[WW_MAX_VV];
    size_t n = 0;
    if (ww_sync_vv(hub, gid, vv, WW_MAX_VV, &n) != 0)
        abort();
    return 0;
}
