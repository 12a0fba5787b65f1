/*
 * identity.c - the device's key files in its data folder.
 *
 * identity.key: this device's Ed25519 key pair (its identity in every group).
 * aggregator.key: an X25519 key pair, only on a hub that computes aggregates.
 *
 * File layout (both): magic (4 bytes, "WWID" or "WWAG"), version (1 byte, 1), secret seed
 * (32), public key (32), BLAKE2b-256 of the preceding 69 bytes (32): 101 bytes.
 * Invariants: files are created with mode 0600 by write-to-temporary, fsync, rename, so a
 * crash never leaves a half-written key; a key file readable by others is refused
 * (WW_EPERM); a damaged one is refused (WW_ECORRUPT) and never overwritten.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "store.h"

#define KEYFILE_LEN 101

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int path_of(const struct ww_store *s, const char *name, char *out, size_t cap)
{
    size_t a = strlen(s->dir), b = strlen(name);
    if (a + b + 2 > cap)
        return WW_ETOOBIG;
    memcpy(out, s->dir, a);
    out[a] = '/';
    memcpy(out + a + 1, name, b + 1);
    return 0;
}

/* Writes a key file atomically with mode 0600. */
static int keyfile_write(const struct ww_store *s, const char *name, const char magic[4],
                         const uint8_t seed[32], const uint8_t pk[32])
{
    char path[4096], tmp[4096];
    int rc = path_of(s, name, path, sizeof path);
    char tmpname[64];
    snprintf(tmpname, sizeof tmpname, ".%s.%ld.tmp", name, (long)getpid());
    if (rc == 0)
        rc = path_of(s, tmpname, tmp, sizeof tmp); /* one per process: never shared */
    if (rc != 0)
        return rc;
    uint8_t file[KEYFILE_LEN];
    memcpy(file, magic, 4);
    file[4] = 1;
    memcpy(file + 5, seed, 32);
    memcpy(file + 37, pk, 32);
    crypto_generichash(file + 69, 32, file, 69, NULL, 0);

    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    rc = write_all(fd, file, sizeof file);
    if (rc == 0 && fsync(fd) != 0)
        rc = -errno;
    close(fd);
    sodium_memzero(file, sizeof file);
    if (rc == 0 && link(tmp, path) != 0) /* link, not rename: never replace an existing key */
        rc = errno == EEXIST ? WW_EEXIST : -errno;
    unlink(tmp);
    if (rc == 0) {
        int dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    return rc;
}

/* Reads a key file: WW_ENOTFOUND when absent. */
static int keyfile_read(const struct ww_store *s, const char *name, const char magic[4],
                        uint8_t seed[32], uint8_t pk[32])
{
    char path[4096];
    int rc = path_of(s, name, path, sizeof path);
    if (rc != 0)
        return rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? WW_ENOTFOUND : -errno;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return WW_ECORRUPT;
    }
    if (st.st_mode & 077) {
        close(fd);
        return WW_EPERM;
    }
    uint8_t file[KEYFILE_LEN + 1];
    ssize_t n = read(fd, file, sizeof file);
    close(fd);
    uint8_t sum[32];
    rc = 0;
    if (n != KEYFILE_LEN || memcmp(file, magic, 4) != 0 || file[4] != 1)
        rc = WW_ECORRUPT;
    if (rc == 0) {
        crypto_generichash(sum, 32, file, 69, NULL, 0);
        if (sodium_memcmp(sum, file + 69, 32) != 0)
            rc = WW_ECORRUPT;
    }
    if (rc == 0) {
        memcpy(seed, file + 5, 32);
        memcpy(pk, file + 37, 32);
    }
    sodium_memzero(file, sizeof file);
    return rc;
}

int ww_identity_load(struct ww_store *s)
{
    uint8_t seed[32], pk[32];
    s->sk = sodium_malloc(crypto_sign_SECRETKEYBYTES);
    s->curve_sk = sodium_malloc(crypto_scalarmult_BYTES);
    if (!s->sk || !s->curve_sk)
        return WW_ENOMEM;
    int rc = keyfile_read(s, "identity.key", "WWID", seed, pk);
    if (rc == WW_ENOTFOUND) {
        ww_store_random(s, seed, sizeof seed);
        crypto_sign_seed_keypair(pk, s->sk, seed);
        rc = keyfile_write(s, "identity.key", "WWID", seed, pk);
    }
    if (rc == 0 && crypto_sign_seed_keypair(s->pk, s->sk, seed) != 0)
        rc = WW_ECRYPTO;
    if (rc == 0 && sodium_memcmp(s->pk, pk, 32) != 0)
        rc = WW_ECORRUPT; /* the public key does not belong to the seed */
    if (rc == 0 && (crypto_sign_ed25519_pk_to_curve25519(s->curve_pk, s->pk) != 0 ||
                    crypto_sign_ed25519_sk_to_curve25519(s->curve_sk, s->sk) != 0))
        rc = WW_ECRYPTO;
    sodium_memzero(seed, sizeof seed);
    return rc;
}

int ww_aggregator_load(struct ww_store *s, int create)
{
    if (s->agg_sk)
        return 0;
    uint8_t seed[32], pk[32];
    int rc = keyfile_read(s, "aggregator.key", "WWAG", seed, pk);
    if (rc == WW_ENOTFOUND && !create)
        return 0;
    if (rc == WW_ENOTFOUND) {
        ww_store_random(s, seed, sizeof seed);
        crypto_scalarmult_base(pk, seed);
        rc = keyfile_write(s, "aggregator.key", "WWAG", seed, pk);
    }
    uint8_t check[32];
    if (rc == 0 && (crypto_scalarmult_base(check, seed) != 0 || sodium_memcmp(check, pk, 32)))
        rc = WW_ECORRUPT;
    if (rc == 0) {
        s->agg_sk = sodium_malloc(32);
        if (!s->agg_sk)
            rc = WW_ENOMEM;
    }
    if (rc == 0) {
        memcpy(s->agg_sk, seed, 32);
        memcpy(s->agg_pk, pk, 32);
    }
    sodium_memzero(seed, sizeof seed);
    return rc;
}

int ww_store_aggregator_pk(struct ww_store *s, uint8_t pk[WW_KEY_LEN])
{
    int rc = ww_aggregator_load(s, 1);
    if (rc == 0)
        memcpy(pk, s->agg_pk, 32);
    return rc;
}

void ww_identity_free(struct ww_store *s)
{
    sodium_free(s->sk);
    sodium_free(s->curve_sk);
    sodium_free(s->agg_sk);
    s->sk = s->curve_sk = s->agg_sk = NULL;
}

void ww_store_dh_pk(const struct ww_store *s, uint8_t pk[WW_KEY_LEN])
{
    memcpy(pk, s->curve_pk, WW_KEY_LEN);
}

int ww_store_dh(const struct ww_store *s, const uint8_t peer_pk[WW_KEY_LEN],
                uint8_t shared[WW_KEY_LEN])
{
    if (!s || !peer_pk || !shared)
        return WW_EINVAL;
    return crypto_scalarmult(shared, s->curve_sk, peer_pk) == 0 ? 0 : WW_ECRYPTO;
}
