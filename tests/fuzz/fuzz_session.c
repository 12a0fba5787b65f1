/*
 * fuzz_session.c - libFuzzer target: a sync session fed any sequence of frames by a peer
 * never crashes, never hangs and never lets the store break its invariants.
 *
 * The input is a sequence of records u16be(len) || len bytes, each handed to the session
 * as one frame the channel opened. The session is a hub's: it allows every group. One
 * store (deterministic keys, clock and randomness, so the group id is the same on every
 * run) holds a group; each input first opens that group as a peer would, then its frames
 * follow. The store persists across inputs, as a hub's does across connections. Invite
 * frames reach the store's own redemption paths: REDEEM is recorded as a hub would, and
 * REDEMPTION is admitted as the group's owner device would (the store is both).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_common.inc"
#include "session.h"
#include "wegwijs.h"

static struct ww_store *store;
static uint8_t gid[WW_ID_LEN];
static uint64_t counter;

static int64_t fixed_now(void *ud)
{
    (void)ud;
    return 1795417200000LL;
}

static void fixed_random(void *ud, uint8_t *buf, size_t len)
{
    (void)ud;
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(0x5a ^ (counter++ * 131u >> 3));
}

static int drop(void *ud, const uint8_t *frame, size_t len)
{
    (void)ud;
    (void)frame;
    (void)len;
    return 0;
}

static int redeem(void *ud, struct ww_redemption *r, int *state)
{
    (void)ud;
    int admitted = 0, rc = ww_redemption_record(store, r, &admitted);
    *state = admitted ? WW_REDEEM_ADMITTED : WW_REDEEM_WAITING;
    return rc;
}

static void redemption(void *ud, const struct ww_redemption *r)
{
    (void)ud;
    uint8_t member[WW_ID_LEN];
    ww_redemption_admit(store, r, member);
}

static void setup(void)
{
    char dir[] = "/tmp/ww-fuzz-session-XXXXXX";
    if (!mkdtemp(dir))
        abort();
    struct ww_options opt = {fixed_now, fixed_random, NULL, ":memory:"};
    if (ww_store_open(dir, &opt, &store) != 0)
        abort();
    if (ww_group_create(store, "Groep", NULL, 0, "Coach", NULL, gid, NULL) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!store)
        setup();
    struct ww_session_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.store = store;
    cfg.send = drop;
    cfg.on_redeem = redeem;
    cfg.on_redemption = redemption;
    struct ww_session ss;
    if (ww_session_init(&ss, &cfg, 0) != 0)
        abort();
    /* The peer opens the group with an empty vector: the session answers and sends. */
    struct ww_frame *f = ww_calloc(1, sizeof *f);
    struct ww_buf b;
    ww_buf_init(&b, WW_MAX_FRAME);
    if (!f)
        abort();
    f->type = WW_FRAME_VV;
    memcpy(f->u.vv.group, gid, WW_ID_LEN);
    if (ww_frame_encode(f, &b) != 0 || ww_session_on_frame(&ss, b.p, b.len, 1) != 0)
        abort();
    ww_buf_free(&b);
    ww_free(f);
    for (size_t off = 0; off + 2 <= size && !ss.failed;) {
        size_t len = (size_t)data[off] << 8 | data[off + 1];
        off += 2;
        if (len > size - off)
            len = size - off;
        ww_session_on_frame(&ss, data + off, len, 2);
        off += len;
    }
    ww_session_close(&ss);
    return 0;
}
