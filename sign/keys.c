/* keys.c - Ed25519 key pairs and their PEM files (sign.h).
 * SPDX-License-Identifier: Apache-2.0
 *
 * The files are the ones OpenSSL reads and writes, so keys can be made,
 * inspected and kept with standard tools: a private key is PKCS #8
 * (RFC 8410: a fixed 16-byte DER prefix, then the 32-byte private key), a
 * public key SubjectPublicKeyInfo (a fixed 12-byte prefix, then the 32-byte
 * key). With one algorithm and no options, both are fixed byte strings
 * around the key, so no general DER parser is needed: anything else is
 * refused.
 */
#include "sign.h"

#include <nettle/base64.h>
#include <nettle/eddsa.h>
#include <nettle/sha2.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

/* RFC 8410: id-Ed25519 is OID 1.3.101.112 (06 03 2b 65 70). */
static const uint8_t pkcs8_prefix[16] = {0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
                                         0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20};
static const uint8_t spki_prefix[12] = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
                                        0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};

static bool failf(char *err, size_t errsize, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool failf(char *err, size_t errsize, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsize, fmt, ap);
    va_end(ap);
    return false;
}

/* Private key bytes do not outlive their use in stack memory. */
static void wipe(void *p, size_t n)
{
    volatile uint8_t *v = p;
    for (size_t i = 0; i < n; i++)
        v[i] = 0;
}

void rs_key_id(const uint8_t key[RS_KEY_BYTES], char id[RS_KEY_ID_HEX])
{
    static const char hex[] = "0123456789abcdef";
    struct sha256_ctx ctx;
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_init(&ctx);
    sha256_update(&ctx, RS_KEY_BYTES, key);
    sha256_digest(&ctx, sizeof d, d);
    for (int i = 0; i < 8; i++) {
        id[2 * i] = hex[d[i] >> 4];
        id[2 * i + 1] = hex[d[i] & 15];
    }
    id[16] = '\0';
}

void rs_secret_key_complete(rs_secret_key *k)
{
    ed25519_sha512_public_key(k->pub.key, k->seed);
    rs_key_id(k->pub.key, k->pub.id);
}

void rs_secret_key_wipe(rs_secret_key *k)
{
    wipe(k->seed, sizeof k->seed);
}

bool rs_keygen(rs_secret_key *out, char *err, size_t errsize)
{
    size_t got = 0;
    while (got < sizeof out->seed) {
        /* getrandom blocks only until the kernel's pool is first seeded. */
        ssize_t n = getrandom(out->seed + got, sizeof out->seed - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return failf(err, errsize, "cannot read random bytes: %s", strerror(errno));
        }
        got += (size_t)n;
    }
    rs_secret_key_complete(out);
    return true;
}

static void pem(ru_buf *out, const char *label, const uint8_t *der, size_t len)
{
    char b64[BASE64_ENCODE_RAW_LENGTH(64) + 1];
    base64_encode_raw(b64, len, der);  /* 48 or 44 bytes: one line of at most 64 characters */
    ru_buf_printf(out, "-----BEGIN %s-----\n%.*s\n-----END %s-----\n", label,
                  (int)BASE64_ENCODE_RAW_LENGTH(len), b64, label);
}

void rs_secret_key_pem(const rs_secret_key *k, ru_buf *out)
{
    uint8_t der[sizeof pkcs8_prefix + RS_KEY_BYTES];
    memcpy(der, pkcs8_prefix, sizeof pkcs8_prefix);
    memcpy(der + sizeof pkcs8_prefix, k->seed, RS_KEY_BYTES);
    pem(out, "PRIVATE KEY", der, sizeof der);
    wipe(der, sizeof der);
}

void rs_public_key_pem(const rs_public_key *k, ru_buf *out)
{
    uint8_t der[sizeof spki_prefix + RS_KEY_BYTES];
    memcpy(der, spki_prefix, sizeof spki_prefix);
    memcpy(der + sizeof spki_prefix, k->key, RS_KEY_BYTES);
    pem(out, "PUBLIC KEY", der, sizeof der);
}

/* Finds "-----BEGIN label-----" ... "-----END label-----" and decodes the
 * base64 between them into der (at most cap bytes). Returns the decoded
 * length, or -1 when there is no such block, -2 when it does not decode. */
static long pem_block(const char *text, size_t len, const char *label, uint8_t *der, size_t cap)
{
    char begin[64], end[64];
    snprintf(begin, sizeof begin, "-----BEGIN %s-----", label);
    snprintf(end, sizeof end, "-----END %s-----", label);
    const char *b = memmem(text, len, begin, strlen(begin));
    if (!b)
        return -1;
    const char *body = b + strlen(begin);
    const char *e = memmem(body, len - (size_t)(body - text), end, strlen(end));
    if (!e)
        return -2;
    size_t n = (size_t)(e - body);
    if (BASE64_DECODE_LENGTH(n) > 4096)
        return -2;
    uint8_t tmp[4096];
    struct base64_decode_ctx ctx;
    size_t out = sizeof tmp;
    base64_decode_init(&ctx);
    /* nettle skips the line breaks and spaces inside the block. */
    long got = -2;
    if (base64_decode_update(&ctx, &out, tmp, n, body) && base64_decode_final(&ctx) && out <= cap) {
        memcpy(der, tmp, out);
        got = (long)out;
    }
    wipe(tmp, sizeof tmp);
    return got;
}

static bool has_block(const char *text, size_t len, const char *kind)
{
    return memmem(text, len, kind, strlen(kind)) != NULL;
}

bool rs_parse_public_key(const char *text, size_t len, rs_public_key *out, char *err, size_t errsize)
{
    uint8_t der[128];
    long n = pem_block(text, len, "PUBLIC KEY", der, sizeof der);
    if (n == -1) {
        if (has_block(text, len, "PRIVATE KEY-----"))
            return failf(err, errsize, "holds a private key: give the public key (the .pub file "
                                       "rulec keygen wrote beside it)");
        return failf(err, errsize, "not a PEM public key (no '-----BEGIN PUBLIC KEY-----' line; "
                                   "rulec keygen and 'openssl pkey -pubout' write one)");
    }
    if (n < 0)
        return failf(err, errsize, "the PUBLIC KEY block is not valid base64 or has no END line");
    if ((size_t)n != sizeof spki_prefix + RS_KEY_BYTES || memcmp(der, spki_prefix, sizeof spki_prefix) != 0)
        return failf(err, errsize, "not an Ed25519 public key (%ld bytes of DER; an Ed25519 key "
                                   "has 44, starting 30 2a 30 05 06 03 2b 65 70)", n);
    memcpy(out->key, der + sizeof spki_prefix, RS_KEY_BYTES);
    rs_key_id(out->key, out->id);
    return true;
}

bool rs_parse_secret_key(const char *text, size_t len, rs_secret_key *out, char *err, size_t errsize)
{
    uint8_t der[128];
    long n = pem_block(text, len, "PRIVATE KEY", der, sizeof der);
    bool ok = false;
    if (n == -1) {
        if (has_block(text, len, "PUBLIC KEY-----"))
            failf(err, errsize, "holds a public key: signing needs the private key (the file "
                                "rulec keygen wrote without .pub)");
        else if (has_block(text, len, "ENCRYPTED PRIVATE KEY-----"))
            failf(err, errsize, "is an encrypted private key: decrypt it first ('openssl pkey')");
        else
            failf(err, errsize, "not a PEM private key (no '-----BEGIN PRIVATE KEY-----' line; "
                                "rulec keygen and 'openssl genpkey -algorithm ed25519' write one)");
    } else if (n < 0) {
        failf(err, errsize, "the PRIVATE KEY block is not valid base64 or has no END line");
    } else if ((size_t)n != sizeof pkcs8_prefix + RS_KEY_BYTES ||
               memcmp(der, pkcs8_prefix, sizeof pkcs8_prefix) != 0) {
        failf(err, errsize, "not an Ed25519 private key (%ld bytes of DER; an Ed25519 key has "
                            "48, starting 30 2e 02 01 00 30 05 06 03 2b 65 70)", n);
    } else {
        memcpy(out->seed, der + sizeof pkcs8_prefix, RS_KEY_BYTES);
        rs_secret_key_complete(out);
        ok = true;
    }
    wipe(der, sizeof der);
    return ok;
}
