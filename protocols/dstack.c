/* dstack.c - dstack's REST plugin protocol (dstack.h): request bodies in,
 * SPDX-License-Identifier: Apache-2.0
 * response bodies out. Every check a body must pass lives here, so that
 * `rulec apply --request` and rulesd answer bad input the same way.
 */
#include "dstack.h"

#include "buf.h"
#include "rulec.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *path, *kind;
} plugin_paths[] = {
    {"/apply_policies/on_run_apply", "run"},
    {"/apply_policies/on_fleet_apply", "fleet"},
    {"/apply_policies/on_volume_apply", "volume"},
    {"/apply_policies/on_gateway_apply", "gateway"},
};

const char *dstack_kind_of_path(const char *path)
{
    for (size_t i = 0; i < sizeof plugin_paths / sizeof *plugin_paths; i++)
        if (strcmp(path, plugin_paths[i].path) == 0)
            return plugin_paths[i].kind;
    return NULL;
}

static const char *type_word(const rv_doc *v)
{
    static const char *const names[] = {"null", "a boolean", "an integer", "a number",
                                        "a string", "an array", "an object"};
    return names[rv_doc_kind(v)];
}

/* A string with no NUL inside: the VM's strings are NUL-terminated, so an
 * embedded NUL would silently cut a user or kind name short. */
static bool plain_string(const rv_doc *v)
{
    return rv_doc_kind(v) == RV_STRING && strlen(rv_doc_string(v)) == rv_doc_len(v);
}

/* An optional string member: absent or null reads as "". */
static bool optional_string(const rv_doc *body, const char *key, const char **out, char *problem,
                            size_t size)
{
    const rv_doc *v = rv_doc_get(body, key);
    *out = "";
    if (!v || rv_doc_kind(v) == RV_NULL)
        return true;
    if (!plain_string(v)) {
        snprintf(problem, size, "request body: \"%s\" must be a string, got %s", key,
                 rv_doc_kind(v) == RV_STRING ? "a string with a NUL byte" : type_word(v));
        return false;
    }
    *out = rv_doc_string(v);
    return true;
}

bool dstack_decode(rv_vm *vm, const char *body, size_t len, const char *kind,
                   dstack_request *out, char *problem, size_t size)
{
    memset(out, 0, sizeof *out);
    size_t blank = 0;  /* the body need not be NUL-terminated */
    while (blank < len && strchr(" \t\r\n", body[blank]) && body[blank])
        blank++;
    if (blank == len) {
        snprintf(problem, size, "request body is empty: expected a JSON object with %s",
                 kind ? "\"user\", \"project\" and \"spec\""
                      : "\"kind\", \"user\", \"project\" and \"spec\"");
        return false;
    }
    rv_doc *doc;
    rv_error err;
    if (rv_vm_parse(vm, body, len, RV_JSON, &doc, &err) != RV_OK) {
        if (err.line)
            snprintf(problem, size, "request body at line %lu, column %lu: %s", err.line, err.column,
                     err.message);
        else
            snprintf(problem, size, "request body: %s", err.message);
        return false;
    }
    if (rv_doc_kind(doc) != RV_OBJECT) {
        snprintf(problem, size, "request body: expected a JSON object, got %s%s", type_word(doc),
                 rv_doc_kind(doc) == RV_STRING ? " (SkyPilot's admin-policy bodies are strings: not a dstack request)"
                                               : "");
        return false;
    }
    if (!kind) {
        const rv_doc *k = rv_doc_get(doc, "kind");
        if (!k || !plain_string(k) || rv_doc_len(k) == 0) {
            snprintf(problem, size, "request body: \"kind\" must be a non-empty string (run, fleet, volume, "
                     "gateway, ...), got %s",
                     !k ? "nothing" : rv_doc_kind(k) == RV_STRING ? "an empty string or one with a NUL byte"
                                                                  : type_word(k));
            return false;
        }
        kind = rv_doc_string(k);
        /* A kind dstack does not have would match no policy: the request
         * would pass unjudged. */
        char why[400];
        if (!rc_target_has_kind("dstack", kind, why, sizeof why)) {
            snprintf(problem, size, "request body: \"kind\": %s", why);
            return false;
        }
    }
    out->kind = kind;
    if (!optional_string(doc, "user", &out->user, problem, size) ||
        !optional_string(doc, "project", &out->project, problem, size))
        return false;
    out->spec = rv_doc_get(doc, "spec");
    if (!out->spec) {
        snprintf(problem, size, "request body: missing \"spec\" (the %s spec object)", kind);
        return false;
    }
    if (rv_doc_kind(out->spec) != RV_OBJECT) {
        snprintf(problem, size, "request body: \"spec\" must be an object, got %s", type_word(out->spec));
        return false;
    }
    return true;
}

rv_doc *dstack_error(rv_vm *vm, const rv_decision *d, const char *failure)
{
    if (!d)
        return rv_vm_new_string(vm, failure ? failure : DSTACK_FAILED_PREFIX "unknown error");
    if (d->allowed)
        return rv_vm_new_null(vm);
    if (d->nerrors == 1)
        return rv_vm_new_string(vm, d->errors[0].text);
    /* One pass, each message measured once and appended to a buffer that
     * grows by doubling: linear in the length of what is joined, however
     * many policies rejected (a thousand is a realistic set). The VM copies
     * the text. */
    ru_buf joined;
    ru_buf_init(&joined, NULL, NULL);
    for (size_t i = 0; i < d->nerrors; i++) {
        if (i)
            ru_buf_put(&joined, "; ", 2);
        ru_buf_puts(&joined, d->errors[i].text);
    }
    ru_buf_terminate(&joined);
    rv_doc *s = joined.oom ? NULL : rv_vm_new_string(vm, joined.data ? joined.data : "");
    ru_buf_free(&joined);
    return s;
}

rv_doc *dstack_response(rv_vm *vm, const dstack_request *req, const rv_decision *d,
                        const char *failure)
{
    rv_doc *out = rv_vm_new_object(vm);
    rv_doc *spec = d ? d->spec : req->spec;
    rv_doc *error = dstack_error(vm, d, failure);
    if (!out || !spec || !error || rv_vm_object_put(vm, out, "spec", spec) != RV_OK ||
        rv_vm_object_put(vm, out, "error", error) != RV_OK)
        return NULL;
    return out;
}
