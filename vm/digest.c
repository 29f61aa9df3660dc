/* digest.c - SHA-256 content digests: what identifies a policy set and each
 * SPDX-License-Identifier: Apache-2.0
 * of its policies (a CRC-32 detects corruption but identifies nothing: any
 * edit can be made to keep it). The digest of a set is that of the bundle
 * rv_program_save writes for it, so `sha256sum` of the file `rulec compile`
 * wrote proves which set ran; a policy's covers its section of that bundle
 * (the bytes its CRC-32 covers). Both are recomputed from the policies as
 * they are now, parameter overrides included, never from the input bytes.
 * The hash is nettle's: it allocates nothing, so the library's memory
 * still all comes from the configured allocator.
 */
#include "program.h"

#include <nettle/sha2.h>

static void hex_digest(struct sha256_ctx *ctx, char out[RV_DIGEST_HEX])
{
    static const char hex[] = "0123456789abcdef";
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_digest(ctx, sizeof d, d);
    for (size_t i = 0; i < sizeof d; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[2 * SHA256_DIGEST_SIZE] = '\0';
}

void rv_sha256_hex(const void *data, size_t len, char out[RV_DIGEST_HEX])
{
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    sha256_update(&ctx, len, data);
    hex_digest(&ctx, out);
}

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

bool rv_program_digest_update(rv_program *prog, ru_buf *scratch)
{
    scratch->len = 0;
    scratch->oom = false;
    if (!rv_bundle_write(scratch, prog->policies, prog->npolicies) || scratch->oom)
        return false;
    /* Written: nothing below can fail, so the digests change all or none. */
    const unsigned char *d = (const unsigned char *)scratch->data;
    rv_sha256_hex(d, scratch->len, prog->digest);
    size_t pos = RV_HEADER_SIZE;
    for (uint32_t i = 0; i < prog->npolicies; i++) {
        uint32_t size = rd32(d + pos);
        rv_sha256_hex(d + pos + 4, size, prog->policies[i]->digest);
        pos += 4 + (size_t)size;
    }
    return true;
}
