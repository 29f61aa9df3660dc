/* trust.c - the signature rules of rulesd (trust.h): every input of a set
 * SPDX-License-Identifier: Apache-2.0
 * verified against the trusted keys before anything is compiled or
 * loaded, then checked against the revision it replaces.
 *
 * The checks of the file itself are sign/'s, the same rulec verify runs;
 * here are the ones that need the server's state: which keys are trusted
 * now, and which revision is being served.
 */
#include "trust.h"

#include "file.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_FILE_MAX 16384

static void problem(ru_buf *diag, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(ru_buf *diag, const char *fmt, ...)
{
    char msg[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ru_buf_puts(diag, msg);
    ru_buf_putc(diag, '\n');
}

/* Reads every trusted key; false (with each reason in diag) if any cannot
 * be read: a key the configuration names must not silently drop out. */
static bool load_keys(const rd_source_config *src, rs_public_key *keys, ru_buf *diag)
{
    bool ok = true;
    for (size_t i = 0; i < src->ntrusted_keys; i++) {
        const char *path = src->trusted_keys[i];
        char *text;
        size_t len;
        int e = ru_read_file(path, KEY_FILE_MAX, &text, &len);
        if (e) {
            problem(diag, "policies.trusted_keys[%zu]: cannot read '%s': %s", i, path,
                    e == EFBIG ? "larger than 16 KB: not a key file?" : strerror(e));
            ok = false;
            continue;
        }
        char why[300];
        if (!rs_parse_public_key(text, len, &keys[i], why, sizeof why)) {
            problem(diag, "policies.trusted_keys[%zu]: '%s' %s", i, path, why);
            ok = false;
        }
        free(text);
    }
    return ok;
}

void rd_signed_info_free(rd_signed_info *info)
{
    free(info->key_file);
    info->key_file = NULL;
}

/* The bundle alone holds the policies its manifest lists (the signer's
 * tool made both; this catches one that lied or was broken). */
static bool manifest_holds(const rc_input *in, const rs_signed *s, ru_buf *diag)
{
    rv_program *prog;
    rv_error err;
    rv_blob blob = {in->data, in->size, in->name};
    if (rv_program_load(&blob, 1, NULL, &prog, &err) != RV_OK) {
        problem(diag, "%s: error: signed, but the bundle does not load: %s", in->name, err.message);
        return false;
    }
    char why[400];
    bool ok = rs_manifest_matches(&s->manifest, prog, why, sizeof why);
    if (!ok)
        problem(diag, "%s: error: signed, but %s", in->name, why);
    rv_program_free(prog);
    return ok;
}

/* The rollback rule against what this input was in the served set. */
static bool revision_allowed(const rd_source_config *src, const rc_input *in, const rd_signed_info *now,
                             const rd_signed_info *was, ru_buf *diag)
{
    if (!was)
        return true;
    int c = rs_revision_compare(now->revision, was->revision);
    if (c == 0 && strcmp(now->sha256, was->sha256) != 0) {
        problem(diag, "%s: error: revision %s again, but with other contents (SHA-256 %s; the one served "
                      "is %s): refused; sign changed policies with a new revision",
                in->name, now->revision, now->sha256, was->sha256);
        return false;
    }
    if (c < 0 && !src->allow_rollback) {
        problem(diag, "%s: error: revision %s is older than revision %s, which is being served: refused "
                      "(a rollback; set policies.allow_rollback: true to allow one)",
                in->name, now->revision, was->revision);
        return false;
    }
    return true;
}

bool rd_trust_check(const rd_config *cfg, const rc_input *in, size_t n, const rd_signed_info *const *prev,
                    rd_signed_info *infos, ru_buf *diag)
{
    const rd_source_config *src = &cfg->source;
    memset(infos, 0, n * sizeof *infos);
    rs_public_key *keys = calloc(src->ntrusted_keys ? src->ntrusted_keys : 1, sizeof *keys);
    if (!keys) {
        problem(diag, "out of memory");
        return false;
    }
    bool keys_ok = load_keys(src, keys, diag), ok = keys_ok;
    /* With every key read, every input is judged, so that one reload
     * reports every refusal. */
    for (size_t i = 0; keys_ok && i < n; i++) {
        char why[600];
        rs_signed s;
        rs_form form = rs_open(in[i].data, in[i].size, &s, why, sizeof why);
        if (form != RS_SIGNED) {
            problem(diag, "%s: error: not loaded (signatures are required: policies.%s): %s", in[i].name,
                    src->url ? "url" : "require_signature", why);
            ok = false;
            continue;
        }
        size_t signer;
        if (!rs_verify(&s, in[i].data, keys, src->ntrusted_keys, &signer, why, sizeof why)) {
            problem(diag, "%s: error: not loaded: %s", in[i].name, why);
            ok = false;
        } else if (manifest_holds(&in[i], &s, diag)) {
            rd_signed_info *info = &infos[i];
            memcpy(info->revision, s.manifest.revision, sizeof info->revision);
            memcpy(info->created, s.manifest.created, sizeof info->created);
            memcpy(info->key_id, keys[signer].id, sizeof info->key_id);
            memcpy(info->sha256, s.manifest.bundle_sha256, sizeof info->sha256);
            info->key_file = strdup(src->trusted_keys[signer]);
            if (!info->key_file) {
                problem(diag, "out of memory");
                ok = false;
            } else if (!revision_allowed(src, &in[i], info, prev ? prev[i] : NULL, diag)) {
                ok = false;
            }
        } else {
            ok = false;
        }
        rs_signed_free(&s);
    }
    free(keys);
    if (!ok)
        for (size_t i = 0; i < n; i++)
            rd_signed_info_free(&infos[i]);
    return ok;
}
