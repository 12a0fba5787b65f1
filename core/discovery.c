/*
 * discovery.c - the beacon by which a device that listens for peers makes itself known on
 * the local network (PROTOCOL.md 9.10): its device key and TCP port, sealed under a key
 * that only the devices holding the group's GROUP key of an epoch can derive.
 *
 * Invariants: a beacon has one fixed length; to anyone without the key it is the magic
 * followed by random-looking bytes, fresh for every beacon (a random nonce), so two beacons
 * of one device cannot be linked. Opening checks the length and the tag before it reads a
 * field, and allocates nothing.
 */
#include <sodium.h>
#include <string.h>

#include "group.h"
#include "store.h"
#include "wegwijs.h"

#define DOMAIN    "wegwijs/discovery/v1"
#define PLAIN_LEN (4 + WW_KEY_LEN + 2)
#define NONCE_OFF 4
#define CT_OFF    (NONCE_OFF + WW_BEACON_NONCE_LEN)
static const uint8_t magic[4] = {'W', 'W', 'B', '1'};

void ww_discovery_derive(const uint8_t group_key[WW_KEY_LEN], uint8_t key[WW_KEY_LEN])
{
    crypto_generichash(key, WW_KEY_LEN, (const uint8_t *)DOMAIN, sizeof DOMAIN - 1, group_key,
                       WW_KEY_LEN);
}

int ww_discovery_key(struct ww_store *s, const uint8_t group[WW_ID_LEN], uint32_t back,
                     uint8_t key[WW_KEY_LEN])
{
    if (!s || !group || !key)
        return WW_EINVAL;
    int rc = ww_cache_load(s, group);
    if (rc != 0)
        return rc;
    const struct ww_group_cache *g = ww_cache_cur(s);
    if (!g->exists)
        return WW_EGROUP;
    const struct ww_devinfo *me = ww_cache_me(s);
    if (!me || me->removed_epoch != UINT32_MAX || me->cutoff != UINT64_MAX)
        return WW_ENOTMEMBER;
    if (back > g->epoch)
        return WW_ENOKEY;
    const uint8_t *gk = ww_cache_key(s, WW_AUD_GROUP, NULL, g->epoch - back);
    if (!gk)
        return WW_ENOKEY;
    ww_discovery_derive(gk, key);
    return 0;
}

int ww_discovery_peer(struct ww_store *s, const uint8_t group[WW_ID_LEN],
                      const uint8_t device[WW_KEY_LEN])
{
    if (!s || !group || !device)
        return WW_EINVAL;
    int rc = ww_cache_load(s, group);
    if (rc != 0)
        return rc;
    if (!ww_cache_cur(s)->exists)
        return WW_EGROUP;
    const struct ww_devinfo *d = ww_cache_device(s, device);
    return d && d->removed_epoch == UINT32_MAX && d->cutoff == UINT64_MAX ? 0 : WW_ENOTMEMBER;
}

uint32_t ww_discovery_window(struct ww_store *s)
{
    int64_t now = s ? ww_store_now_ms(s) : 0;
    return now > 0 ? (uint32_t)(now / WW_BEACON_WINDOW_MS) : 0;
}

void ww_beacon_seal(const uint8_t key[WW_KEY_LEN], const uint8_t *nonce, const struct ww_beacon *b,
                    uint8_t out[WW_BEACON_LEN])
{
    uint8_t plain[PLAIN_LEN];
    plain[0] = (uint8_t)(b->window >> 24);
    plain[1] = (uint8_t)(b->window >> 16);
    plain[2] = (uint8_t)(b->window >> 8);
    plain[3] = (uint8_t)b->window;
    memcpy(plain + 4, b->device, WW_KEY_LEN);
    plain[4 + WW_KEY_LEN] = (uint8_t)(b->port >> 8);
    plain[5 + WW_KEY_LEN] = (uint8_t)b->port;
    memcpy(out, magic, sizeof magic);
    if (nonce)
        memcpy(out + NONCE_OFF, nonce, WW_BEACON_NONCE_LEN);
    else
        randombytes_buf(out + NONCE_OFF, WW_BEACON_NONCE_LEN);
    crypto_aead_xchacha20poly1305_ietf_encrypt(out + CT_OFF, NULL, plain, sizeof plain, magic,
                                               sizeof magic, NULL, out + NONCE_OFF, key);
}

int ww_beacon_open(const uint8_t key[WW_KEY_LEN], const uint8_t *buf, size_t len,
                   struct ww_beacon *out)
{
    if (!key || !buf || !out)
        return WW_EINVAL;
    if (len != WW_BEACON_LEN)
        return len < WW_BEACON_LEN ? WW_ETRUNC : WW_ETRAILING;
    if (memcmp(buf, magic, sizeof magic))
        return WW_EVERSION;
    uint8_t plain[PLAIN_LEN];
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain, NULL, NULL, buf + CT_OFF,
                                                   WW_BEACON_LEN - CT_OFF, magic, sizeof magic,
                                                   buf + NONCE_OFF, key) != 0)
        return WW_EDECRYPT;
    out->window =
        (uint32_t)plain[0] << 24 | (uint32_t)plain[1] << 16 | (uint32_t)plain[2] << 8 | plain[3];
    memcpy(out->device, plain + 4, WW_KEY_LEN);
    out->port = (uint16_t)(plain[4 + WW_KEY_LEN] << 8 | plain[5 + WW_KEY_LEN]);
    return 0;
}
