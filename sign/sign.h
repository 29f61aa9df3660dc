/* sign.h - signed bundles: a bundle (vm/program.h's format, unchanged)
 * SPDX-License-Identifier: Apache-2.0
 * followed by a signature section that holds a manifest -- what the bundle
 * is: its size and SHA-256, a revision, each policy's name and digest --
 * and Ed25519 signatures of that manifest. docs/signing.md defines the
 * format byte by byte. rulec writes and checks them (keygen, compile
 * --sign, verify); rulesd refuses any bundle not signed by a trusted key
 * when the configuration asks it to.
 *
 * The VM loads a signed bundle as the bundle it starts with (it skips a
 * section that starts with RS_SECTION_MAGIC right after the bundle's own
 * bytes) and checks nothing of the section: trusting a signature is the
 * host's decision, made here.
 *
 * Keys are PEM files as OpenSSL writes them ("PRIVATE KEY", PKCS #8;
 * "PUBLIC KEY", SubjectPublicKeyInfo), so `openssl genpkey -algorithm
 * ed25519` makes a key rulec can sign with. The cryptography is nettle's
 * (SHA-256, Ed25519), already a dependency of the VM.
 *
 * Nothing here exits or prints: each function that can fail fills err
 * (NUL-terminated, at most errsize bytes) with the reason.
 */
#ifndef RS_SIGN_H
#define RS_SIGN_H

#include "buf.h"
#include "rulevm.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RS_SECTION_MAGIC "\x7f" "RBS"    /* vm/load.c skips a section starting so */
#define RS_SECTION_VERSION 1
#define RS_MANIFEST_FORMAT "rules-bundle-manifest/1"
#define RS_KEY_BYTES 32
#define RS_SIG_BYTES 64
#define RS_MAX_SIGNATURES 8
#define RS_MAX_MANIFEST ((size_t)1 << 20)
#define RS_REVISION_MAX 64
#define RS_KEY_ID_HEX 17    /* 16 hex digits and a NUL */
#define RS_SHA256_HEX 65

/* ---- Keys ---- */

typedef struct rs_public_key {
    uint8_t key[RS_KEY_BYTES];
    char id[RS_KEY_ID_HEX];   /* the first 8 bytes of SHA-256(key), hex: how keys are named */
} rs_public_key;

typedef struct rs_secret_key {
    uint8_t seed[RS_KEY_BYTES];  /* RFC 8032's private key */
    rs_public_key pub;
} rs_secret_key;

/* A new key pair from the kernel's random source (getrandom). */
bool rs_keygen(rs_secret_key *out, char *err, size_t errsize);
/* Derives pub (and its id) from seed. */
void rs_secret_key_complete(rs_secret_key *k);
/* Overwrites the private key in memory. */
void rs_secret_key_wipe(rs_secret_key *k);
void rs_key_id(const uint8_t key[RS_KEY_BYTES], char id[RS_KEY_ID_HEX]);

/* PEM text of a key (appended to out). */
void rs_secret_key_pem(const rs_secret_key *k, ru_buf *out);
void rs_public_key_pem(const rs_public_key *k, ru_buf *out);
/* Reads a PEM key file's text. A private key where a public one is
 * expected (and the reverse), another algorithm, or anything that is not
 * one PEM key is an error saying which. */
bool rs_parse_public_key(const char *text, size_t len, rs_public_key *out, char *err, size_t errsize);
bool rs_parse_secret_key(const char *text, size_t len, rs_secret_key *out, char *err, size_t errsize);

/* ---- Revisions ---- */

/* A revision is 1 to 64 characters from [A-Za-z0-9._+:~-]. */
bool rs_revision_valid(const char *rev, char *err, size_t errsize);
/* Orders revisions as versions: runs of digits compare as numbers (9 <
 * 10, 1.9 < 1.10, 20250601T0900Z < 20250602T0800Z), other characters
 * byte by byte; equal runs with different text ("07", "7") fall back to
 * byte order, so 0 means the same text. */
int rs_revision_compare(const char *a, const char *b);

/* ---- The manifest and the signature section ---- */

typedef struct rs_manifest_policy {
    char *name;
    char sha256[RS_SHA256_HEX];
} rs_manifest_policy;

typedef struct rs_manifest {
    char revision[RS_REVISION_MAX + 1];
    char created[32];               /* UTC, 2025-06-01T12:00:00Z */
    uint64_t bundle_size;
    char bundle_sha256[RS_SHA256_HEX];
    size_t npolicies;
    rs_manifest_policy *policies;
} rs_manifest;

typedef struct rs_signature {
    uint8_t key[RS_KEY_BYTES];
    uint8_t sig[RS_SIG_BYTES];
} rs_signature;

/* A file's signature section, read (rs_open) but not yet trusted. */
typedef struct rs_signed {
    size_t bundle_size;           /* the bundle itself: the file's first bytes */
    const char *manifest_text;    /* points into the file's bytes */
    size_t manifest_len;
    rs_manifest manifest;
    size_t nsigs;
    rs_signature sigs[RS_MAX_SIGNATURES];
} rs_signed;

typedef enum rs_form {
    RS_SIGNED,       /* a bundle with a well-formed signature section */
    RS_UNSIGNED,     /* a bundle with nothing after it */
    RS_NOT_BUNDLE,   /* no bundle magic: a source, or anything else */
    RS_MALFORMED     /* a bundle cut short, or a broken section: err says where */
} rs_form;

/* Reads the signature section of a file's bytes. Only RS_SIGNED fills out
 * (free it with rs_signed_free); err says what the other forms are. */
rs_form rs_open(const void *data, size_t size, rs_signed *out, char *err, size_t errsize);
void rs_signed_free(rs_signed *s);

/* Checks, in this order, that a signature in s is by one of keys and
 * verifies over the manifest, and that data's bundle bytes have the size
 * and SHA-256 the manifest states. *signer is the index in keys of the key
 * whose signature verified. */
bool rs_verify(const rs_signed *s, const void *data, const rs_public_key *keys, size_t nkeys,
               size_t *signer, char *err, size_t errsize);

/* Whether the manifest describes prog: the same policies, in run order,
 * with the same names and SHA-256 digests. */
bool rs_manifest_matches(const rs_manifest *m, const rv_program *prog, char *err, size_t errsize);

/* Appends to out the bundle followed by a signature section: a manifest of
 * prog (which must be the program the bundle holds, checked by digest),
 * revision and created (UTC, 2025-06-01T12:00:00Z), signed by each key. */
bool rs_sign(ru_buf *out, const void *bundle, size_t size, const rv_program *prog, const char *revision,
             const char *created, const rs_secret_key *keys, size_t nkeys, char *err, size_t errsize);

#endif
