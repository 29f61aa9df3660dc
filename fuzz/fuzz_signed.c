/* fuzz_signed.c - libFuzzer target: arbitrary bytes as a signed bundle,
 * SPDX-License-Identifier: Apache-2.0
 * what rulesd downloads from a policy URL and reads before it trusts
 * anything (sign/: the signature section, the manifest, the checks).
 * Reading must refuse with a reason, or find a section that lies inside
 * the input; checking against the seeds' key must refuse with a reason,
 * or -- only for the seeds' own bytes, since a signature cannot be forged
 * -- vouch for a bundle that the VM loads and whose policies are the
 * manifest's (the promise rulec verify and rulesd make).
 * Seeds: signed bundles of the bundle seeds, signed with RFC 8032's first
 * test key (sh fuzz/seeds.sh), which this harness trusts.
 */
#include "fuzz.h"
#include "sign.h"

static rs_public_key key;

static void init(void)
{
    /* RFC 8032, section 7.1, TEST 1: a published key, for tests only. */
    static const char pem[] = "-----BEGIN PUBLIC KEY-----\n"
                              "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n"
                              "-----END PUBLIC KEY-----\n";
    char err[300];
    FUZZ_CHECK(rs_parse_public_key(pem, sizeof pem - 1, &key, err, sizeof err), "%s", err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        init();
        ready = true;
    }
    rs_signed s;
    char err[800] = "";
    rs_form form = rs_open(data, size, &s, err, sizeof err);
    if (form != RS_SIGNED) {
        FUZZ_CHECK(err[0], "form %d refused without a reason", (int)form);
        return 0;
    }
    const char *base = (const char *)data;
    FUZZ_CHECK(s.bundle_size >= 20 && s.bundle_size < size, "bundle size %zu of %zu", s.bundle_size, size);
    FUZZ_CHECK(s.manifest_text > base + s.bundle_size && s.manifest_text + s.manifest_len < base + size,
               "the manifest lies outside the input");
    FUZZ_CHECK(s.nsigs >= 1 && s.nsigs <= RS_MAX_SIGNATURES, "%zu signatures", s.nsigs);
    size_t signer = 99;
    if (!rs_verify(&s, data, &key, 1, &signer, err, sizeof err)) {
        FUZZ_CHECK(err[0], "refused without a reason");
        rs_signed_free(&s);
        return 0;
    }
    FUZZ_CHECK(signer == 0, "signer %zu", signer);
    /* Vouched for: the bundle must be one the VM loads, holding what the
     * signed manifest lists. */
    rv_program *prog;
    rv_error verr;
    rv_blob blob = {data, size, "signed"};
    FUZZ_CHECK(rv_program_load(&blob, 1, NULL, &prog, &verr) == RV_OK, "a verified bundle does not load: %s",
               verr.message);
    FUZZ_CHECK(rs_manifest_matches(&s.manifest, prog, err, sizeof err), "%s", err);
    FUZZ_CHECK(strcmp(rv_program_digest(prog), s.manifest.bundle_sha256) == 0, "the set digest is not the manifest's");
    if (getenv("FUZZ_SHOW"))  /* FUZZ_SHOW=1: whether an input got through every check */
        fprintf(stderr, "verified: revision %s, %zu policies\n", s.manifest.revision, rv_program_policy_count(prog));
    rv_program_free(prog);
    rs_signed_free(&s);
    return 0;
}
