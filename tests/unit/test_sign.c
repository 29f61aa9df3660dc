/* test_sign.c - signed bundles (sign/): keys and their PEM files against
 * SPDX-License-Identifier: Apache-2.0
 * RFC 8032's test vector, revision order, the signature section read
 * back, and every way of altering a signed file refused: each byte
 * flipped, each length cut short, another key, bytes added.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "helpers.h"
#include "sign.h"

#include <nettle/eddsa.h>

static const char *const policy_a =
    "policy \"alpha\";\non run { set configuration.max_price = 2.0; forbid-if configuration.privileged: \"no\"; }\n";
static const char *const policy_b =
    "policy \"beta\" priority 5;\non fleet { default configuration.max_price = 1.0; }\n";

/* Compiles sources into a program and its bundle bytes (malloc'd). */
static rv_program *compile_bundle(const char *const *texts, size_t n, char **bundle, size_t *size)
{
    rc_input in[4];
    char names[4][16];
    for (size_t i = 0; i < n; i++) {
        snprintf(names[i], sizeof names[i], "p%zu.rules", i);
        in[i] = (rc_input){names[i], texts[i], strlen(texts[i]), 0, 0, i};
    }
    rc_report *report = rc_report_new();
    rv_program *prog = NULL;
    assert_int_equal(rc_load(report, in, n, &(rc_options){NULL, RC_BUNDLE, NULL}, &prog), RC_OK);
    const void *b = rc_report_bundle(report, size);
    *bundle = malloc(*size);
    memcpy(*bundle, b, *size);
    rc_report_free(report);
    return prog;
}

static void make_key(rs_secret_key *k)
{
    char err[200];
    assert_true(rs_keygen(k, err, sizeof err));
}

/* A signed bundle of policy_a and policy_b. */
static rv_program *signed_file(const rs_secret_key *keys, size_t nkeys, const char *revision, ru_buf *out)
{
    const char *texts[] = {policy_a, policy_b};
    char *bundle;
    size_t size;
    rv_program *prog = compile_bundle(texts, 2, &bundle, &size);
    char err[300];
    bool ok = rs_sign(out, bundle, size, prog, revision, "2025-06-01T12:00:00Z", keys, nkeys, err, sizeof err);
    if (!ok)
        fail_msg("rs_sign: %s", err);
    free(bundle);
    return prog;
}

/* Whether data is a signed bundle that key verifies. */
static bool verifies(const void *data, size_t size, const rs_public_key *key)
{
    rs_signed s;
    char err[400];
    if (rs_open(data, size, &s, err, sizeof err) != RS_SIGNED)
        return false;
    size_t signer;
    bool ok = rs_verify(&s, data, key, 1, &signer, err, sizeof err);
    rs_signed_free(&s);
    return ok;
}

static void test_rfc8032_vector(void **state)
{
    (void)state;
    /* RFC 8032, section 7.1, TEST 1. */
    static const uint8_t secret[32] = {
        0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c, 0xc4,
        0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60};
    static const uint8_t public[32] = {
        0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64, 0x07, 0x3a,
        0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a};
    static const uint8_t sig_start[8] = {0xe5, 0x56, 0x43, 0x00, 0xc3, 0x60, 0xac, 0x72};
    rs_secret_key k;
    memcpy(k.seed, secret, 32);
    rs_secret_key_complete(&k);
    assert_memory_equal(k.pub.key, public, 32);
    uint8_t sig[64];
    ed25519_sha512_sign(k.pub.key, k.seed, 0, (const uint8_t *)"", sig);
    assert_memory_equal(sig, sig_start, sizeof sig_start);

    /* The PEM forms are OpenSSL's: this private key as `openssl pkey`
     * prints it, and its public key. */
    ru_buf pem = {0};
    rs_secret_key_pem(&k, &pem);
    ru_buf_terminate(&pem);
    assert_string_equal(pem.data, "-----BEGIN PRIVATE KEY-----\n"
                                  "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
                                  "-----END PRIVATE KEY-----\n");
    ru_buf_clear(&pem);
    rs_public_key_pem(&k.pub, &pem);
    ru_buf_terminate(&pem);
    assert_string_equal(pem.data, "-----BEGIN PUBLIC KEY-----\n"
                                  "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n"
                                  "-----END PUBLIC KEY-----\n");
    ru_buf_free(&pem);
}

static void test_pem_round_trip_and_refusals(void **state)
{
    (void)state;
    rs_secret_key k, back;
    rs_public_key pub;
    char err[300];
    make_key(&k);
    ru_buf sk = {0}, pk = {0};
    rs_secret_key_pem(&k, &sk);
    rs_public_key_pem(&k.pub, &pk);
    assert_true(rs_parse_secret_key(sk.data, sk.len, &back, err, sizeof err));
    assert_memory_equal(back.seed, k.seed, 32);
    assert_memory_equal(back.pub.key, k.pub.key, 32);
    assert_string_equal(back.pub.id, k.pub.id);
    assert_true(rs_parse_public_key(pk.data, pk.len, &pub, err, sizeof err));
    assert_memory_equal(pub.key, k.pub.key, 32);
    assert_int_equal(strlen(pub.id), 16);

    /* Each file where the other is expected says so. */
    assert_false(rs_parse_public_key(sk.data, sk.len, &pub, err, sizeof err));
    assert_non_null(strstr(err, "holds a private key"));
    assert_false(rs_parse_secret_key(pk.data, pk.len, &back, err, sizeof err));
    assert_non_null(strstr(err, "holds a public key"));
    /* Not PEM; PEM of another algorithm (an X25519 key: OID 1.3.101.110);
     * broken base64; an encrypted key. */
    assert_false(rs_parse_public_key("hello", 5, &pub, err, sizeof err));
    assert_non_null(strstr(err, "not a PEM public key"));
    const char *x25519 = "-----BEGIN PUBLIC KEY-----\n"
                         "MCowBQYDK2VuAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n"
                         "-----END PUBLIC KEY-----\n";
    assert_false(rs_parse_public_key(x25519, strlen(x25519), &pub, err, sizeof err));
    assert_non_null(strstr(err, "not an Ed25519 public key"));
    const char *broken = "-----BEGIN PUBLIC KEY-----\nMCow!!!\n-----END PUBLIC KEY-----\n";
    assert_false(rs_parse_public_key(broken, strlen(broken), &pub, err, sizeof err));
    assert_non_null(strstr(err, "not valid base64"));
    const char *enc = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMCow\n-----END ENCRYPTED PRIVATE KEY-----\n";
    assert_false(rs_parse_secret_key(enc, strlen(enc), &back, err, sizeof err));
    assert_non_null(strstr(err, "encrypted"));
    ru_buf_free(&sk);
    ru_buf_free(&pk);
}

static void test_revisions(void **state)
{
    (void)state;
    char err[200];
    assert_true(rs_revision_valid("42", err, sizeof err));
    assert_true(rs_revision_valid("v1.2.3+build.7~rc:1_x-y", err, sizeof err));
    assert_false(rs_revision_valid("", err, sizeof err));
    assert_false(rs_revision_valid("has space", err, sizeof err));
    assert_non_null(strstr(err, "character 4"));
    assert_false(rs_revision_valid("a/b", err, sizeof err));
    char long_rev[70];
    memset(long_rev, '1', 65);
    long_rev[65] = '\0';
    assert_false(rs_revision_valid(long_rev, err, sizeof err));
    long_rev[64] = '\0';
    assert_true(rs_revision_valid(long_rev, err, sizeof err));

    /* Each pair in ascending order. */
    static const char *const order[][2] = {
        {"9", "10"}, {"41", "42"}, {"1.9", "1.10"}, {"1.2", "1.2.1"}, {"20250601T120000Z", "20250602T000000Z"},
        {"a", "b"}, {"1", "1a"}, {"v2", "v10"}, {"rc9", "rc10"}, {"99999999999999999999", "100000000000000000000"},
        {"007", "7"},  /* numerically equal: byte order decides, so they are not the same revision */
    };
    for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
        assert_int_equal(rs_revision_compare(order[i][0], order[i][1]), -1);
        assert_int_equal(rs_revision_compare(order[i][1], order[i][0]), 1);
    }
    assert_int_equal(rs_revision_compare("1.10", "1.10"), 0);
}

static void test_sign_open_verify(void **state)
{
    (void)state;
    rs_secret_key k, other;
    make_key(&k);
    make_key(&other);
    ru_buf file = {0};
    rv_program *prog = signed_file(&k, 1, "42", &file);
    rs_signed s;
    char err[400];
    assert_int_equal(rs_open(file.data, file.len, &s, err, sizeof err), RS_SIGNED);
    assert_string_equal(s.manifest.revision, "42");
    assert_string_equal(s.manifest.created, "2025-06-01T12:00:00Z");
    assert_string_equal(s.manifest.bundle_sha256, rv_program_digest(prog));
    assert_int_equal(s.manifest.npolicies, 2);
    assert_string_equal(s.manifest.policies[0].name, "alpha");  /* run order: ascending priority */
    assert_string_equal(s.manifest.policies[1].name, "beta");
    assert_string_equal(s.manifest.policies[1].sha256, rv_program_policy_digest(prog, 1));
    assert_true(rs_manifest_matches(&s.manifest, prog, err, sizeof err));
    size_t signer = 9;
    rs_public_key keys[2] = {other.pub, k.pub};
    assert_true(rs_verify(&s, file.data, keys, 2, &signer, err, sizeof err));
    assert_int_equal(signer, 1);
    /* Another key: named as untrusted. */
    assert_false(rs_verify(&s, file.data, &other.pub, 1, &signer, err, sizeof err));
    assert_non_null(strstr(err, "not trusted"));
    assert_non_null(strstr(err, k.pub.id));
    rs_signed_free(&s);

    /* The VM loads the signed file as its bundle, with the manifest's digest. */
    rv_program *loaded;
    rv_error verr;
    rv_blob blob = {file.data, file.len, "signed.rbc"};
    assert_int_equal(rv_program_load(&blob, 1, NULL, &loaded, &verr), RV_OK);
    assert_string_equal(rv_program_digest(loaded), rv_program_digest(prog));
    rv_program_free(loaded);

    /* A manifest of one program does not match another. */
    const char *texts[] = {policy_a};
    char *bundle;
    size_t size;
    rv_program *just_a = compile_bundle(texts, 1, &bundle, &size);
    assert_int_equal(rs_open(file.data, file.len, &s, err, sizeof err), RS_SIGNED);
    assert_false(rs_manifest_matches(&s.manifest, just_a, err, sizeof err));
    assert_non_null(strstr(err, "lists 2 policies"));
    rs_signed_free(&s);
    /* rs_sign refuses a bundle that is not the program's. */
    ru_buf junk = {0};
    assert_false(rs_sign(&junk, bundle, size, prog, "1", "2025-06-01T12:00:00Z", &k, 1, err, sizeof err));
    assert_non_null(strstr(err, "not the program's"));
    assert_false(rs_sign(&junk, bundle, size, just_a, "bad rev", "2025-06-01T12:00:00Z", &k, 1, err, sizeof err));
    assert_non_null(strstr(err, "revision"));
    ru_buf_free(&junk);
    free(bundle);
    rv_program_free(just_a);
    rv_program_free(prog);
    ru_buf_free(&file);
}

static void test_two_signers(void **state)
{
    (void)state;
    rs_secret_key keys[2];
    make_key(&keys[0]);
    make_key(&keys[1]);
    ru_buf file = {0};
    rv_program *prog = signed_file(keys, 2, "7", &file);
    assert_true(verifies(file.data, file.len, &keys[0].pub));
    assert_true(verifies(file.data, file.len, &keys[1].pub));
    rv_program_free(prog);
    ru_buf_free(&file);
}

/* Every byte of a signed file flipped, and every shorter length: none
 * verifies, and the VM never reads the altered bundle part as the signed
 * one. */
static void test_every_alteration_refused(void **state)
{
    (void)state;
    rs_secret_key k;
    make_key(&k);
    ru_buf file = {0};
    rv_program *prog = signed_file(&k, 1, "42", &file);
    assert_true(verifies(file.data, file.len, &k.pub));
    char *copy = malloc(file.len + 8);
    for (size_t i = 0; i < file.len; i++) {
        memcpy(copy, file.data, file.len);
        copy[i] ^= 0x01;
        if (verifies(copy, file.len, &k.pub))
            fail_msg("byte %zu of %zu flipped still verifies", i, file.len);
    }
    for (size_t n = 0; n < file.len; n++)
        if (verifies(file.data, n, &k.pub))
            fail_msg("cut to %zu of %zu bytes still verifies", n, file.len);
    /* Bytes added after the signatures. */
    memcpy(copy, file.data, file.len);
    memcpy(copy + file.len, "extra", 5);
    rs_signed s;
    char err[400];
    assert_int_equal(rs_open(copy, file.len + 5, &s, err, sizeof err), RS_MALFORMED);
    assert_non_null(strstr(err, "bytes after the signatures"));
    free(copy);
    rv_program_free(prog);
    ru_buf_free(&file);
}

static void test_open_forms(void **state)
{
    (void)state;
    const char *texts[] = {policy_a};
    char *bundle;
    size_t size;
    rv_program *prog = compile_bundle(texts, 1, &bundle, &size);
    rs_signed s;
    char err[400];
    assert_int_equal(rs_open(policy_a, strlen(policy_a), &s, err, sizeof err), RS_NOT_BUNDLE);
    assert_int_equal(rs_open(bundle, size, &s, err, sizeof err), RS_UNSIGNED);
    assert_non_null(strstr(err, "without a signature"));
    assert_int_equal(rs_open(bundle, size - 1, &s, err, sizeof err), RS_MALFORMED);
    assert_non_null(strstr(err, "cut short"));

    /* Junk after a bundle: no section magic. The VM refuses it too. */
    char *more = malloc(size + 100);
    memcpy(more, bundle, size);
    memcpy(more + size, "junkjunkjunk", 12);
    assert_int_equal(rs_open(more, size + 12, &s, err, sizeof err), RS_MALFORMED);
    assert_non_null(strstr(err, "not a signature section"));
    rv_program *p2;
    rv_error verr;
    rv_blob blob = {more, size + 12, "junk.rbc"};
    assert_int_not_equal(rv_program_load(&blob, 1, NULL, &p2, &verr), RV_OK);

    /* A section whose manifest has a key this reader does not know, signed
     * properly: refused before anything is believed. */
    rs_secret_key k;
    make_key(&k);
    const char *manifest = "{\"format\":\"rules-bundle-manifest/1\",\"revision\":\"1\",\"created\":\"x\","
                           "\"bundle_size\":20,\"bundle_sha256\":\"00\",\"policies\":[],\"extra\":1}";
    size_t mlen = strlen(manifest), at = size;
    memcpy(more + at, "\x7f" "RBS\x01\0\0\0", 8);
    more[at + 8] = (char)mlen;
    more[at + 9] = more[at + 10] = more[at + 11] = 0;
    at += 12;
    more = realloc(more, size + 12 + mlen + 4 + 96);
    memcpy(more + at, manifest, mlen);
    at += mlen;
    memcpy(more + at, "\x01\0\0\0", 4);
    at += 4;
    memcpy(more + at, k.pub.key, 32);
    ed25519_sha512_sign(k.pub.key, k.seed, mlen, (const uint8_t *)manifest, (uint8_t *)more + at + 32);
    at += 96;
    assert_int_equal(rs_open(more, at, &s, err, sizeof err), RS_MALFORMED);
    assert_non_null(strstr(err, "unknown key 'extra'"));
    /* The VM still loads the bundle part: it checks no signatures. */
    blob.data = more;
    blob.size = at;
    assert_int_equal(rv_program_load(&blob, 1, NULL, &p2, &verr), RV_OK);
    rv_program_free(p2);
    free(more);
    free(bundle);
    rv_program_free(prog);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc8032_vector),
        cmocka_unit_test(test_pem_round_trip_and_refusals),
        cmocka_unit_test(test_revisions),
        cmocka_unit_test(test_sign_open_verify),
        cmocka_unit_test(test_two_signers),
        cmocka_unit_test(test_every_alteration_refused),
        cmocka_unit_test(test_open_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
