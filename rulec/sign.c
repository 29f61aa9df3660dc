/* sign.c - `rulec keygen`, `rulec verify`, and the signing step of
 * SPDX-License-Identifier: Apache-2.0
 * `rulec compile --sign` (the format and its checks are sign/'s; this is
 * the command line around them: files, modes, messages, exit codes).
 */
#include "cli.h"
#include "file.h"
#include "sign.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KEY_FILE_MAX 16384

static const char keygen_usage[] =
    "usage: rulec keygen KEY\n"
    "\n"
    "Writes a new Ed25519 key pair for signing bundles: the private key to KEY\n"
    "(mode 0600) and the public key to KEY.pub (KEY less a '.key' ending, then '.pub':\n"
    "keygen ci.key writes ci.key and ci.pub). Refuses to overwrite either file. Both\n"
    "are PEM as OpenSSL writes them (PKCS #8, SubjectPublicKeyInfo). Give the private\n"
    "key to 'rulec compile --sign', the public key to 'rulec verify --key' and to\n"
    "rulesd's policies.trusted_keys.\n"
    "\n"
    "example:\n"
    "  rulec keygen keys/ci.key      # keys/ci.key and keys/ci.pub\n"
    "exit status: 0 written, 2 usage error or a file cannot be written\n";

static const char verify_usage[] =
    "usage: rulec verify BUNDLE --key PUBLIC.pub [--key PUBLIC.pub]...\n"
    "\n"
    "Checks a signed bundle, as rulesd does before it loads one: that one of the\n"
    "given public keys signed its manifest, that the bundle is the one the manifest\n"
    "describes (size and SHA-256), that it loads and verifies, and that its policies\n"
    "are the manifest's (names and SHA-256 digests, in run order). Prints the signer,\n"
    "the revision, the creation time and the digests.\n"
    "  -k, --key FILE   a trusted public key (repeatable)\n"
    "\n"
    "example:\n"
    "  rulec verify policies.rbc --key keys/ci.pub\n"
    "exit status: 0 good signature, 1 not signed by a given key, altered, or not a\n"
    "signed bundle, 2 usage error or a file cannot be read\n";

/* ---- key files ---- */

static bool read_key_file(const char *path, char **text, size_t *len)
{
    int e = ru_read_file(path, KEY_FILE_MAX, text, len);
    if (e) {
        fprintf(stderr, "rulec: cannot read the key '%s': %s\n", path,
                e == EFBIG ? "larger than 16 KB: not a key file?" : strerror(e));
        return false;
    }
    return true;
}

static bool read_public_key(const char *path, rs_public_key *out)
{
    char *text;
    size_t len;
    if (!read_key_file(path, &text, &len))
        return false;
    char why[300];
    bool ok = rs_parse_public_key(text, len, out, why, sizeof why);
    if (!ok)
        fprintf(stderr, "rulec: '%s': %s\n", path, why);
    free(text);
    return ok;
}

static bool read_secret_key(const char *path, rs_secret_key *out)
{
    char *text;
    size_t len;
    if (!read_key_file(path, &text, &len))
        return false;
    char why[300];
    bool ok = rs_parse_secret_key(text, len, out, why, sizeof why);
    explicit_bzero(text, len);
    free(text);
    if (!ok) {
        fprintf(stderr, "rulec: '%s': %s\n", path, why);
        return false;
    }
    struct stat st;
    if (stat(path, &st) == 0 && (st.st_mode & 077)) {
        /* As ssh does: a signing key others can read is no longer only yours. */
        fprintf(stderr, "rulec: the private key '%s' can be read by others (mode %04o): "
                        "chmod 600 '%s'\n", path, (unsigned)(st.st_mode & 07777), path);
        rs_secret_key_wipe(out);
        return false;
    }
    return true;
}

/* Writes data to a new file at path with mode, never replacing one: the
 * bytes go to a temporary file first, which is then linked into place
 * (link fails if the name exists), so a reader never sees half a key. */
static bool write_new_file(const char *path, const char *data, size_t len, mode_t mode)
{
    size_t n = strlen(path);
    char *tmp = malloc(n + 16);
    if (!tmp) {
        fprintf(stderr, "rulec: out of memory\n");
        return false;
    }
    snprintf(tmp, n + 16, "%s.tmp-XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        fprintf(stderr, "rulec: cannot write '%s': %s\n", path, strerror(errno));
        free(tmp);
        return false;
    }
    bool ok = fchmod(fd, mode) == 0;
    for (size_t off = 0; ok && off < len;) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        ok = w > 0;
        off += ok ? (size_t)w : 0;
    }
    ok = ok && fsync(fd) == 0;
    int e = errno;
    ok = close(fd) == 0 && ok;
    if (ok && link(tmp, path) != 0) {
        e = errno;
        ok = false;
    }
    if (!ok)
        fprintf(stderr, "rulec: cannot write '%s': %s\n", path,
                e == EEXIST ? "it exists (keygen never overwrites a key)" : strerror(e));
    unlink(tmp);
    free(tmp);
    return ok;
}

static char *public_key_path(const char *key)
{
    size_t n = strlen(key);
    if (n > 4 && strcmp(key + n - 4, ".key") == 0)
        n -= 4;
    char *p = malloc(n + 5);
    if (p) {
        memcpy(p, key, n);
        strcpy(p + n, ".pub");
    }
    return p;
}

int cli_keygen(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        fputs(keygen_usage, stdout);
        return 0;
    }
    int first = argc >= 2 && strcmp(argv[1], "--") == 0 ? 2 : 1;
    if (argc - first != 1 || (first == 1 && argv[1][0] == '-')) {
        if (argc - first == 1)
            fprintf(stderr, "rulec keygen: unknown option '%s'\n", argv[1]);
        fputs(keygen_usage, stderr);
        return EXIT_TROUBLE;
    }
    const char *key = argv[first];
    char *pub = public_key_path(key);
    if (!pub) {
        fprintf(stderr, "rulec: out of memory\n");
        return EXIT_TROUBLE;
    }
    int rc = EXIT_TROUBLE;
    struct stat st;
    if (stat(key, &st) == 0 || stat(pub, &st) == 0) {
        fprintf(stderr, "rulec keygen: '%s' exists; keygen never overwrites a key (remove it first, "
                        "or choose another name)\n", stat(key, &st) == 0 ? key : pub);
        free(pub);
        return EXIT_TROUBLE;
    }
    rs_secret_key sk;
    char why[200];
    ru_buf priv = {0}, pubtext = {0};
    if (!rs_keygen(&sk, why, sizeof why)) {
        fprintf(stderr, "rulec keygen: %s\n", why);
        goto out;
    }
    rs_secret_key_pem(&sk, &priv);
    rs_public_key_pem(&sk.pub, &pubtext);
    if (priv.oom || pubtext.oom) {
        fprintf(stderr, "rulec: out of memory\n");
        goto out;
    }
    /* The public key first: if the private one then cannot be written,
     * removing the public one leaves nothing behind. */
    if (!write_new_file(pub, pubtext.data, pubtext.len, 0644))
        goto out;
    if (!write_new_file(key, priv.data, priv.len, 0600)) {
        unlink(pub);
        goto out;
    }
    printf("rulec keygen: wrote the private key %s (mode 0600) and the public key %s (key %s)\n", key, pub,
           sk.pub.id);
    rc = 0;
out:
    rs_secret_key_wipe(&sk);
    if (priv.data)
        explicit_bzero(priv.data, priv.len);
    ru_buf_free(&priv);
    ru_buf_free(&pubtext);
    free(pub);
    return rc;
}

/* ---- compile --sign ---- */

/* The creation time: SOURCE_DATE_EPOCH when set (reproducible builds:
 * Ed25519 signatures are deterministic, so the same inputs then give the
 * same signed file), else now. */
static bool creation_time(time_t *out)
{
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    if (!sde || !*sde) {
        *out = time(NULL);
        return true;
    }
    char *end;
    errno = 0;
    long long v = strtoll(sde, &end, 10);
    if (*end || errno || v < 0 || sde[0] == '-') {
        fprintf(stderr, "rulec compile: SOURCE_DATE_EPOCH is '%s', not a number of seconds\n", sde);
        return false;
    }
    *out = (time_t)v;
    return true;
}

int cli_sign_bundle(const char *const *keys, size_t nkeys, const char *revision, const void *bundle,
                    size_t size, const rv_program *prog, ru_buf *out)
{
    rs_secret_key sk[RS_MAX_SIGNATURES];
    size_t loaded = 0;
    int rc = EXIT_TROUBLE;
    char why[400];
    time_t t;
    struct tm tm;
    char created[32], default_rev[32];
    if (nkeys > RS_MAX_SIGNATURES) {
        fprintf(stderr, "rulec compile: at most %d --sign keys\n", RS_MAX_SIGNATURES);
        return EXIT_TROUBLE;
    }
    if (!creation_time(&t) || !gmtime_r(&t, &tm))
        return EXIT_TROUBLE;
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);
    strftime(default_rev, sizeof default_rev, "%Y%m%dT%H%M%SZ", &tm);
    for (; loaded < nkeys; loaded++)
        if (!read_secret_key(keys[loaded], &sk[loaded]))
            goto out;
    if (!rs_sign(out, bundle, size, prog, revision ? revision : default_rev, created, sk, nkeys, why,
                 sizeof why)) {
        fprintf(stderr, "rulec compile: %s\n", why);
        goto out;
    }
    rc = 0;
out:
    for (size_t i = 0; i < loaded; i++)
        rs_secret_key_wipe(&sk[i]);
    return rc;
}

/* ---- verify ---- */

int cli_verify(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"key", required_argument, NULL, 'k'}, {"help", no_argument, NULL, 'h'}, {0, 0, 0, 0}};
    const char *keyfiles[64];
    size_t nkeys = 0;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":hk:", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            fputs(verify_usage, stdout);
            return 0;
        case 'k':
            if (nkeys == sizeof keyfiles / sizeof *keyfiles) {
                fprintf(stderr, "rulec verify: at most 64 --key files\n");
                return EXIT_TROUBLE;
            }
            keyfiles[nkeys++] = optarg;
            break;
        default: {
            char name[64];
            cli_bad_option(argv, c, name, sizeof name);
            fprintf(stderr, c == ':' ? "rulec verify: %s needs a value\n%s" : "rulec verify: unknown option '%s'\n%s",
                    name, verify_usage);
            return EXIT_TROUBLE;
        }
        }
    }
    if (optind != argc - 1 || nkeys == 0) {
        fprintf(stderr, "rulec verify: %s\n%s",
                optind >= argc ? "no bundle given" : optind < argc - 1 ? "one bundle at a time" : "no --key given: "
                "a signature is checked against the public keys you trust", verify_usage);
        return EXIT_TROUBLE;
    }
    const char *path = argv[optind];
    rs_public_key keys[64];
    for (size_t i = 0; i < nkeys; i++)
        if (!read_public_key(keyfiles[i], &keys[i]))
            return EXIT_TROUBLE;
    size_t len;
    char *data = cli_read_file(path, &len, CLI_DEFAULT_MAX_INPUT);
    if (!data)
        return EXIT_TROUBLE;
    int rc = EXIT_REJECTED;
    char why[600];
    rs_signed s;
    size_t signer = 0;
    rv_program *prog = NULL;
    rs_form form = rs_open(data, len, &s, why, sizeof why);
    if (form != RS_SIGNED) {
        fprintf(stderr, "rulec verify: %s: %s\n", path, why);
        free(data);
        return EXIT_REJECTED;
    }
    if (!rs_verify(&s, data, keys, nkeys, &signer, why, sizeof why)) {
        fprintf(stderr, "rulec verify: %s: %s\n", path, why);
        goto out;
    }
    /* The signed bytes must also be a bundle the VM accepts, holding the
     * policies the manifest lists. */
    rv_error err;
    rv_blob blob = {data, len, path};
    if (rv_program_load(&blob, 1, NULL, &prog, &err) != RV_OK) {
        fprintf(stderr, "rulec verify: %s: signed, but the bundle does not load: %s\n", path, err.message);
        goto out;
    }
    if (!rs_manifest_matches(&s.manifest, prog, why, sizeof why)) {
        fprintf(stderr, "rulec verify: %s: %s\n", path, why);
        goto out;
    }
    printf("%s: good signature by key %s (%s)\n", path, keys[signer].id, keyfiles[signer]);
    printf("revision %s\ncreated %s\nset sha256 %s (%zu bytes)\n", s.manifest.revision, s.manifest.created,
           s.manifest.bundle_sha256, s.bundle_size);
    for (size_t i = 0; i < s.manifest.npolicies; i++)
        printf("policy %s sha256 %s\n", s.manifest.policies[i].name, s.manifest.policies[i].sha256);
    rc = 0;
out:
    if (prog)
        rv_program_free(prog);
    rs_signed_free(&s);
    free(data);
    return rc;
}
