/* section.c - the signature section after a bundle: reading it, checking
 * SPDX-License-Identifier: Apache-2.0
 * it against trusted keys, and writing it (sign.h; the format is in
 * docs/signing.md).
 *
 * What is signed is the manifest, not the bundle: the manifest names the
 * bundle by size and SHA-256, so one small signed text pins every byte,
 * can be read by a person (it is JSON), and can be checked with standard
 * tools (`openssl pkeyutl -verify -rawin`). The order of checks matters: a
 * manifest is read as data before its signature is checked, but nothing
 * it says is believed until a trusted key's signature over its exact bytes
 * verifies.
 */
#include "sign.h"

#include <nettle/eddsa.h>
#include <nettle/sha2.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUNDLE_MAGIC "\x7f" "RBC"
#define BUNDLE_HEADER 20
#define SECTION_FIXED 12   /* magic, version, manifest length */

static bool failf(char *err, size_t errsize, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool failf(char *err, size_t errsize, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsize, fmt, ap);
    va_end(ap);
    return false;
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_u32(ru_buf *b, uint32_t v)
{
    char s[4] = {(char)(v & 0xFF), (char)((v >> 8) & 0xFF), (char)((v >> 16) & 0xFF), (char)(v >> 24)};
    ru_buf_put(b, s, 4);
}

static void sha256_hex(const void *data, size_t len, char out[RS_SHA256_HEX])
{
    static const char hex[] = "0123456789abcdef";
    struct sha256_ctx ctx;
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_init(&ctx);
    sha256_update(&ctx, len, data);
    sha256_digest(&ctx, sizeof d, d);
    for (size_t i = 0; i < sizeof d; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[64] = '\0';
}

static bool is_hex64(const char *s)
{
    if (!s || strlen(s) != 64)
        return false;
    for (size_t i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* ---- the manifest ---- */

static void manifest_free(rs_manifest *m)
{
    for (size_t i = 0; i < m->npolicies; i++)
        free(m->policies[i].name);
    free(m->policies);
    m->policies = NULL;
    m->npolicies = 0;
}

static const char *manifest_string(const rv_doc *root, const char *key, char *err, size_t errsize)
{
    const rv_doc *v = rv_doc_get(root, key);
    const char *s = v ? rv_doc_string(v) : NULL;
    if (!s || strlen(s) != rv_doc_len(v)) {
        failf(err, errsize, "the manifest's '%s' is %s", key, v ? "not a string" : "missing");
        return NULL;
    }
    return s;
}

static bool read_policies(const rv_doc *list, rs_manifest *m, char *err, size_t errsize)
{
    if (!list || rv_doc_kind(list) != RV_ARRAY)
        return failf(err, errsize, "the manifest's 'policies' is %s", list ? "not a list" : "missing");
    size_t n = rv_doc_len(list);
    m->policies = calloc(n ? n : 1, sizeof *m->policies);
    if (!m->policies)
        return failf(err, errsize, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const rv_doc *p = rv_doc_item(list, i);
        if (rv_doc_kind(p) != RV_OBJECT || rv_doc_len(p) != 2)
            return failf(err, errsize, "the manifest's policies[%zu] is not {\"name\", \"sha256\"}", i);
        const char *name = manifest_string(p, "name", err, errsize);
        const char *digest = name ? manifest_string(p, "sha256", err, errsize) : NULL;
        if (!digest)
            return failf(err, errsize, "the manifest's policies[%zu] is not {\"name\", \"sha256\"}", i);
        if (!*name || !is_hex64(digest))
            return failf(err, errsize, "the manifest's policies[%zu] has an empty name or a sha256 that "
                                       "is not 64 lowercase hex digits", i);
        if (!(m->policies[i].name = strdup(name)))
            return failf(err, errsize, "out of memory");
        memcpy(m->policies[i].sha256, digest, RS_SHA256_HEX);
        m->npolicies++;
    }
    return true;
}

static bool manifest_parse(const char *text, size_t len, rs_manifest *m, char *err, size_t errsize)
{
    static const char *const keys[] = {"format", "revision", "created", "bundle_size", "bundle_sha256",
                                       "policies"};
    memset(m, 0, sizeof *m);
    rv_vm *vm;
    if (rv_vm_new(NULL, &vm) != RV_OK)
        return failf(err, errsize, "out of memory");
    rv_doc *root;
    rv_error perr;
    bool ok = false;
    const char *s;
    if (rv_vm_parse(vm, text, len, RV_JSON, &root, &perr) != RV_OK) {
        failf(err, errsize, "the manifest is not JSON: %s", perr.message);
        goto out;
    }
    if (rv_doc_kind(root) != RV_OBJECT) {
        failf(err, errsize, "the manifest is not a JSON object");
        goto out;
    }
    /* Every key known: what a signer meant must not depend on a field this
     * reader ignores. A new field is a new format. */
    for (size_t i = 0; i < rv_doc_len(root); i++) {
        bool known = false;
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++)
            known = known || strcmp(rv_doc_key(root, i), keys[k]) == 0;
        if (!known) {
            failf(err, errsize, "the manifest has an unknown key '%.60s'", rv_doc_key(root, i));
            goto out;
        }
    }
    if (!(s = manifest_string(root, "format", err, errsize)))
        goto out;
    if (strcmp(s, RS_MANIFEST_FORMAT) != 0) {
        failf(err, errsize, "the manifest's format is '%.60s'; this rulec reads '%s'", s, RS_MANIFEST_FORMAT);
        goto out;
    }
    if (!(s = manifest_string(root, "revision", err, errsize)))
        goto out;
    char why[200];
    if (!rs_revision_valid(s, why, sizeof why)) {
        failf(err, errsize, "the manifest's revision: %s", why);
        goto out;
    }
    strcpy(m->revision, s);
    if (!(s = manifest_string(root, "created", err, errsize)))
        goto out;
    if (strlen(s) >= sizeof m->created) {
        failf(err, errsize, "the manifest's 'created' is longer than a UTC time");
        goto out;
    }
    strcpy(m->created, s);
    const rv_doc *size = rv_doc_get(root, "bundle_size");
    if (!size || rv_doc_kind(size) != RV_INT || rv_doc_int(size) < BUNDLE_HEADER) {
        failf(err, errsize, "the manifest's 'bundle_size' is not a bundle's size in bytes");
        goto out;
    }
    m->bundle_size = (uint64_t)rv_doc_int(size);
    if (!(s = manifest_string(root, "bundle_sha256", err, errsize)))
        goto out;
    if (!is_hex64(s)) {
        failf(err, errsize, "the manifest's bundle_sha256 is not 64 lowercase hex digits");
        goto out;
    }
    memcpy(m->bundle_sha256, s, RS_SHA256_HEX);
    ok = read_policies(rv_doc_get(root, "policies"), m, err, errsize);
out:
    rv_vm_free(vm);
    if (!ok)
        manifest_free(m);
    return ok;
}

/* The manifest's exact text: one line of JSON, keys in this order. */
static bool manifest_write(ru_buf *out, const rv_program *prog, const char *revision, const char *created,
                           size_t bundle_size, const char *bundle_sha256)
{
    ru_buf_printf(out, "{\"format\":\"%s\",\"revision\":", RS_MANIFEST_FORMAT);
    ru_buf_json_string(out, revision, strlen(revision));
    ru_buf_puts(out, ",\"created\":");
    ru_buf_json_string(out, created, strlen(created));
    ru_buf_printf(out, ",\"bundle_size\":%zu,\"bundle_sha256\":\"%s\",\"policies\":[", bundle_size,
                  bundle_sha256);
    for (size_t i = 0; i < rv_program_policy_count(prog); i++) {
        rv_policy_info info;
        rv_program_policy(prog, i, &info);
        ru_buf_puts(out, i ? ",{\"name\":" : "{\"name\":");
        ru_buf_json_string(out, info.name, strlen(info.name));
        ru_buf_printf(out, ",\"sha256\":\"%s\"}", rv_program_policy_digest(prog, i));
    }
    ru_buf_puts(out, "]}");
    return !out->oom;
}

/* ---- the section ---- */

rs_form rs_open(const void *data, size_t size, rs_signed *out, char *err, size_t errsize)
{
    const uint8_t *d = data;
    memset(out, 0, sizeof *out);
    if (size < 4 || memcmp(d, BUNDLE_MAGIC, 4) != 0) {
        failf(err, errsize, "not a bundle (it does not start with the bundle magic \\x7fRBC)");
        return RS_NOT_BUNDLE;
    }
    if (size < BUNDLE_HEADER) {
        failf(err, errsize, "a bundle cut short: %zu bytes, less than its %d-byte header", size, BUNDLE_HEADER);
        return RS_MALFORMED;
    }
    size_t total = rd32(d + 8);
    if (total < BUNDLE_HEADER) {
        failf(err, errsize, "byte 8: the bundle's size field says %zu bytes, less than its header", total);
        return RS_MALFORMED;
    }
    if (total > size) {
        failf(err, errsize, "a bundle cut short: its header says %zu bytes, the file has %zu", total, size);
        return RS_MALFORMED;
    }
    if (total == size) {
        failf(err, errsize, "a bundle without a signature (nothing follows its %zu bytes; sign it with "
                            "rulec compile --sign)", total);
        return RS_UNSIGNED;
    }
    const uint8_t *s = d + total;
    size_t left = size - total;
    if (left < 4 || memcmp(s, RS_SECTION_MAGIC, 4) != 0) {
        failf(err, errsize, "byte %zu: %zu bytes follow the bundle and they are not a signature section "
                            "(which starts with \\x7fRBS)", total, left);
        return RS_MALFORMED;
    }
    if (left < SECTION_FIXED) {
        failf(err, errsize, "byte %zu: the signature section is cut short (%zu bytes)", total, left);
        return RS_MALFORMED;
    }
    uint32_t version = rd32(s + 4);
    if (version != RS_SECTION_VERSION) {
        failf(err, errsize, "byte %zu: signature section version %u (this program reads %d)", total + 4,
              version, RS_SECTION_VERSION);
        return RS_MALFORMED;
    }
    size_t mlen = rd32(s + 8);
    if (mlen == 0 || mlen > RS_MAX_MANIFEST) {
        failf(err, errsize, "byte %zu: a manifest of %zu bytes (1 to %zu)", total + 8, mlen, RS_MAX_MANIFEST);
        return RS_MALFORMED;
    }
    if (left - SECTION_FIXED < mlen + 4) {
        failf(err, errsize, "byte %zu: the signature section is cut short (its manifest has %zu bytes, "
                            "%zu follow)", total + SECTION_FIXED, mlen, left - SECTION_FIXED);
        return RS_MALFORMED;
    }
    size_t at = SECTION_FIXED + mlen;
    uint32_t nsigs = rd32(s + at);
    if (nsigs == 0 || nsigs > RS_MAX_SIGNATURES) {
        failf(err, errsize, "byte %zu: %u signatures (1 to %d)", total + at, nsigs, RS_MAX_SIGNATURES);
        return RS_MALFORMED;
    }
    at += 4;
    size_t want = (size_t)nsigs * (RS_KEY_BYTES + RS_SIG_BYTES);
    if (left - at != want) {
        failf(err, errsize, "byte %zu: %u signatures take %zu bytes, but %zu %s", total + at, nsigs, want,
              left - at, left - at < want ? "are left (cut short)" : "follow (bytes after the signatures)");
        return RS_MALFORMED;
    }
    for (uint32_t i = 0; i < nsigs; i++) {
        memcpy(out->sigs[i].key, s + at, RS_KEY_BYTES);
        memcpy(out->sigs[i].sig, s + at + RS_KEY_BYTES, RS_SIG_BYTES);
        at += RS_KEY_BYTES + RS_SIG_BYTES;
    }
    out->nsigs = nsigs;
    out->bundle_size = total;
    out->manifest_text = (const char *)s + SECTION_FIXED;
    out->manifest_len = mlen;
    if (!manifest_parse(out->manifest_text, mlen, &out->manifest, err, errsize)) {
        memset(out, 0, sizeof *out);
        return RS_MALFORMED;
    }
    return RS_SIGNED;
}

void rs_signed_free(rs_signed *s)
{
    manifest_free(&s->manifest);
}

bool rs_verify(const rs_signed *s, const void *data, const rs_public_key *keys, size_t nkeys,
               size_t *signer, char *err, size_t errsize)
{
    bool found = false;
    char bad[RS_KEY_ID_HEX] = "";
    for (size_t i = 0; i < s->nsigs && !found; i++)
        for (size_t k = 0; k < nkeys; k++) {
            if (memcmp(s->sigs[i].key, keys[k].key, RS_KEY_BYTES) != 0)
                continue;
            if (ed25519_sha512_verify(keys[k].key, s->manifest_len, (const uint8_t *)s->manifest_text,
                                      s->sigs[i].sig)) {
                *signer = k;
                found = true;
            } else {
                memcpy(bad, keys[k].id, sizeof bad);
            }
            break;
        }
    if (!found) {
        if (*bad)
            return failf(err, errsize, "the signature by trusted key %s does not verify: the manifest or "
                                       "the signature was altered after signing", bad);
        char ids[RS_MAX_SIGNATURES * (RS_KEY_ID_HEX + 2)] = "";
        for (size_t i = 0; i < s->nsigs; i++) {
            char id[RS_KEY_ID_HEX];
            rs_key_id(s->sigs[i].key, id);
            strcat(ids, i ? ", " : "");
            strcat(ids, id);
        }
        return failf(err, errsize, "signed by key%s %s, which %s not trusted", s->nsigs == 1 ? "" : "s", ids,
                     s->nsigs == 1 ? "is" : "are");
    }
    const rs_manifest *m = &s->manifest;
    if (m->bundle_size != s->bundle_size)
        return failf(err, errsize, "the bundle has %zu bytes but its signed manifest says %llu: altered "
                                   "after signing", s->bundle_size, (unsigned long long)m->bundle_size);
    char digest[RS_SHA256_HEX];
    sha256_hex(data, s->bundle_size, digest);
    if (strcmp(digest, m->bundle_sha256) != 0)
        return failf(err, errsize, "the bundle's SHA-256 is %s but its signed manifest says %s: altered "
                                   "after signing", digest, m->bundle_sha256);
    return true;
}

bool rs_manifest_matches(const rs_manifest *m, const rv_program *prog, char *err, size_t errsize)
{
    size_t n = rv_program_policy_count(prog);
    if (n != m->npolicies)
        return failf(err, errsize, "the manifest lists %zu policies, the bundle holds %zu", m->npolicies, n);
    for (size_t i = 0; i < n; i++) {
        rv_policy_info info;
        rv_program_policy(prog, i, &info);
        if (strcmp(info.name, m->policies[i].name) != 0)
            return failf(err, errsize, "policy %zu is '%s' in the bundle but '%s' in the manifest", i + 1,
                         info.name, m->policies[i].name);
        if (strcmp(rv_program_policy_digest(prog, i), m->policies[i].sha256) != 0)
            return failf(err, errsize, "policy '%s' has SHA-256 %s in the bundle but %s in the manifest",
                         info.name, rv_program_policy_digest(prog, i), m->policies[i].sha256);
    }
    return true;
}

bool rs_sign(ru_buf *out, const void *bundle, size_t size, const rv_program *prog, const char *revision,
             const char *created, const rs_secret_key *keys, size_t nkeys, char *err, size_t errsize)
{
    char why[200];
    if (!rs_revision_valid(revision, why, sizeof why))
        return failf(err, errsize, "--revision %s", why);
    if (nkeys == 0 || nkeys > RS_MAX_SIGNATURES)
        return failf(err, errsize, "1 to %d signing keys, not %zu", RS_MAX_SIGNATURES, nkeys);
    if (size < BUNDLE_HEADER || size > UINT32_MAX || memcmp(bundle, BUNDLE_MAGIC, 4) != 0 ||
        rd32((const uint8_t *)bundle + 8) != size)
        return failf(err, errsize, "not a whole bundle (%zu bytes)", size);
    char digest[RS_SHA256_HEX];
    sha256_hex(bundle, size, digest);
    /* The manifest's policy digests come from prog: it must be this bundle. */
    if (strcmp(digest, rv_program_digest(prog)) != 0)
        return failf(err, errsize, "the bundle (SHA-256 %s) is not the program's (%s)", digest,
                     rv_program_digest(prog));
    ru_buf manifest = {0};
    if (!manifest_write(&manifest, prog, revision, created, size, digest)) {
        ru_buf_free(&manifest);
        return failf(err, errsize, "out of memory");
    }
    ru_buf_put(out, bundle, size);
    ru_buf_puts(out, RS_SECTION_MAGIC);
    put_u32(out, RS_SECTION_VERSION);
    put_u32(out, (uint32_t)manifest.len);
    ru_buf_put(out, manifest.data, manifest.len);
    put_u32(out, (uint32_t)nkeys);
    for (size_t k = 0; k < nkeys; k++) {
        uint8_t sig[RS_SIG_BYTES];
        ed25519_sha512_sign(keys[k].pub.key, keys[k].seed, manifest.len, (const uint8_t *)manifest.data, sig);
        ru_buf_put(out, (const char *)keys[k].pub.key, RS_KEY_BYTES);
        ru_buf_put(out, (const char *)sig, RS_SIG_BYTES);
    }
    ru_buf_free(&manifest);
    if (out->oom)
        return failf(err, errsize, "out of memory");
    return true;
}
