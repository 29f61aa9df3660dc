/* skypilot.c - SkyPilot's RESTful admin-policy protocol (skypilot.h):
 * SPDX-License-Identifier: Apache-2.0
 * request bodies in, HTTP answers out. Every check a body must pass lives
 * here, so that `rulec apply --request` and rulesd answer bad input the
 * same way. Strict on purpose: a body SkyPilot would never send is refused
 * with what is wrong and where, never guessed at.
 */
#include "skypilot.h"

#include "dstack.h"   /* dstack_error: the one join of rejection messages */
#include "rulec.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

const char *const skypilot_request_names[] = {
    "launch", "exec", "validate", "optimize", "jobs.launch", "jobs.pool_apply", "serve.up", "serve.update",
};
const size_t skypilot_nrequest_names = sizeof skypilot_request_names / sizeof *skypilot_request_names;

/* The members of the inner object, in the order SkyPilot writes them. */
static const char *const body_members[] = {
    "task", "skypilot_config", "request_name", "request_options", "at_client_side", "user",
    "client_api_version", "client_version",
};
#define BODY_MEMBER_LIST \
    "task, skypilot_config, request_name, request_options, at_client_side, user, client_api_version, client_version"

static const char *type_word(const rv_doc *v)
{
    static const char *const names[] = {"null", "a boolean", "an integer", "a number",
                                        "a string", "an array", "an object"};
    return v ? names[rv_doc_kind(v)] : "nothing";
}

/* A YAML value's type as a YAML user says it. */
static const char *yaml_word(const rv_doc *v)
{
    static const char *const names[] = {"null", "a boolean", "an integer", "a number",
                                        "a string", "a list", "a mapping"};
    return v ? names[rv_doc_kind(v)] : "nothing";
}

/* A string with no NUL inside: the VM's strings are NUL-terminated, so an
 * embedded NUL would silently cut a name or a YAML text short. */
static bool plain_string(const rv_doc *v)
{
    return v && rv_doc_kind(v) == RV_STRING && strlen(rv_doc_string(v)) == rv_doc_len(v);
}

static bool is_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!strchr(" \t\r\n", s[i]) || !s[i])
            return false;
    return true;
}

/* The inner object of a body, or NULL with why in problem (when problem
 * is not NULL). */
static rv_doc *inner_object(rv_vm *vm, const char *body, size_t len, char *problem, size_t size)
{
    char dummy[1];
    if (!problem) {
        problem = dummy;
        size = sizeof dummy;
    }
    if (is_blank(body, len)) {
        snprintf(problem, size, "request body is empty: expected SkyPilot's admin-policy request, a JSON "
                                "string holding a JSON object with \"task\", \"skypilot_config\", "
                                "\"request_name\" and \"user\"");
        return NULL;
    }
    rv_doc *outer;
    rv_error err;
    if (rv_vm_parse(vm, body, len, RV_JSON, &outer, &err) != RV_OK) {
        if (err.line)
            snprintf(problem, size, "request body at line %lu, column %lu: %s", err.line, err.column,
                     err.message);
        else
            snprintf(problem, size, "request body: %s", err.message);
        return NULL;
    }
    if (rv_doc_kind(outer) != RV_STRING) {
        snprintf(problem, size,
                 "request body: expected a JSON string holding the request object (SkyPilot encodes its "
                 "body twice), got %s%s",
                 type_word(outer),
                 rv_doc_kind(outer) == RV_OBJECT ? " (a dstack plugin body goes to /apply_policies/...)" : "");
        return NULL;
    }
    if (!plain_string(outer)) {
        snprintf(problem, size, "request body: the string holds a NUL byte");
        return NULL;
    }
    rv_doc *inner;
    if (rv_vm_parse(vm, rv_doc_string(outer), rv_doc_len(outer), RV_JSON, &inner, &err) != RV_OK) {
        if (err.line)
            snprintf(problem, size, "request body: the JSON inside the string, at line %lu, column %lu: %s",
                     err.line, err.column, err.message);
        else
            snprintf(problem, size, "request body: the JSON inside the string: %s", err.message);
        return NULL;
    }
    if (rv_doc_kind(inner) != RV_OBJECT) {
        snprintf(problem, size, "request body: the string must hold a JSON object, got %s", type_word(inner));
        return NULL;
    }
    return inner;
}

bool skypilot_recognize(rv_vm *vm, const char *body, size_t len)
{
    size_t i = 0;
    while (i < len && strchr(" \t\r\n", body[i]) && body[i])
        i++;
    if (i == len || body[i] != '"')
        return false;
    rv_doc *inner = inner_object(vm, body, len, NULL, 0);
    return inner && rv_doc_get(inner, "request_name") && rv_doc_get(inner, "task");
}

/* A YAML text member parsed into a mapping; empty_ok: "" reads as NULL
 * (the user of a client-side call). */
static bool yaml_member(rv_vm *vm, const rv_doc *obj, const char *key, const char *what, bool empty_ok,
                        rv_doc **out, char *problem, size_t size)
{
    const rv_doc *v = rv_doc_get(obj, key);
    *out = NULL;
    if (!v) {
        snprintf(problem, size, "request body: missing \"%s\" (%s as YAML text)", key, what);
        return false;
    }
    if (!plain_string(v)) {
        snprintf(problem, size, "request body: \"%s\" must be a string (%s as YAML text), got %s", key, what,
                 rv_doc_kind(v) == RV_STRING ? "a string with a NUL byte" : type_word(v));
        return false;
    }
    if (empty_ok && rv_doc_len(v) == 0)
        return true;
    rv_doc *doc;
    rv_error err;
    if (rv_vm_parse(vm, rv_doc_string(v), rv_doc_len(v), RV_YAML, &doc, &err) != RV_OK) {
        if (err.line)
            snprintf(problem, size, "request body: \"%s\" (YAML) at line %lu, column %lu: %s", key, err.line,
                     err.column, err.message);
        else
            snprintf(problem, size, "request body: \"%s\" (YAML): %s", key, err.message);
        return false;
    }
    if (rv_doc_kind(doc) != RV_OBJECT) {
        snprintf(problem, size, "request body: \"%s\" must be YAML of a mapping (%s), got %s", key, what,
                 yaml_word(doc));
        return false;
    }
    *out = doc;
    return true;
}

/* An optional member of one JSON type, or null: absent reads as null. */
static bool optional_member(rv_vm *vm, const rv_doc *obj, const char *where, const char *key,
                            rv_doc_type type, rv_doc **out, char *problem, size_t size)
{
    rv_doc *v = rv_doc_get(obj, key);
    if (!v || rv_doc_kind(v) == RV_NULL) {
        *out = rv_vm_new_null(vm);
        if (!*out)
            snprintf(problem, size, "out of memory");
        return *out != NULL;
    }
    static const char *const wanted[] = {"null", "a boolean", "an integer", "a number", "a string",
                                         "an array", "an object"};
    if (rv_doc_kind(v) != type || (type == RV_STRING && !plain_string(v))) {
        snprintf(problem, size, "%s: \"%s\" must be %s or null, got %s", where, key, wanted[type],
                 rv_doc_kind(v) == RV_STRING ? "a string with a NUL byte" : type_word(v));
        return false;
    }
    *out = v;
    return true;
}

/* request_options as SkyPilot's RequestOptions model writes it. */
static bool check_options(const rv_doc *opts, char *problem, size_t size)
{
    static const struct {
        const char *key;
        rv_doc_type type;
        bool nullable;
    } fields[] = {
        {"cluster_name", RV_STRING, true},
        {"idle_minutes_to_autostop", RV_INT, true},
        {"down", RV_BOOL, false},
        {"dryrun", RV_BOOL, false},
    };
    static const char *const wanted[] = {"null", "a boolean", "an integer", "a number", "a string",
                                         "an array", "an object"};
    for (size_t i = 0; i < rv_doc_len(opts); i++) {
        const char *key = rv_doc_key(opts, i);
        const rv_doc *v = rv_doc_value(opts, i);
        size_t f = 0;
        while (f < sizeof fields / sizeof *fields && strcmp(fields[f].key, key) != 0)
            f++;
        if (f == sizeof fields / sizeof *fields) {
            snprintf(problem, size, "request body: \"request_options\" has an unknown member \"%.100s\" "
                                    "(SkyPilot sends cluster_name, idle_minutes_to_autostop, down, dryrun)", key);
            return false;
        }
        bool ok = rv_doc_kind(v) == fields[f].type || (fields[f].nullable && rv_doc_kind(v) == RV_NULL);
        if (ok && fields[f].type == RV_STRING && rv_doc_kind(v) == RV_STRING)
            ok = plain_string(v);
        if (!ok) {
            snprintf(problem, size, "request body: \"request_options\".\"%s\" must be %s%s, got %s", key,
                     wanted[fields[f].type], fields[f].nullable ? " or null" : "",
                     rv_doc_kind(v) == RV_STRING ? "a string with a NUL byte" : type_word(v));
            return false;
        }
    }
    return true;
}

/* The user mapping (id, name, user_type) made into $request.user; *name
 * gets the name for $user ("" when null). */
static rv_doc *user_map(rv_vm *vm, const rv_doc *user, const char **name, char *problem, size_t size)
{
    static const char *const keys[] = {"id", "name", "user_type"};
    for (size_t i = 0; i < rv_doc_len(user); i++) {
        const char *k = rv_doc_key(user, i);
        if (strcmp(k, "id") && strcmp(k, "name") && strcmp(k, "user_type")) {
            snprintf(problem, size, "request body: \"user\" has an unknown key \"%.100s\" (SkyPilot sends id, "
                                    "name and user_type)", k);
            return NULL;
        }
    }
    const rv_doc *id = rv_doc_get(user, "id");
    if (!plain_string(id) || rv_doc_len(id) == 0) {
        snprintf(problem, size, "request body: \"user\" must have an \"id\" that is a non-empty string, got %s",
                 !id ? "nothing" : rv_doc_kind(id) == RV_STRING ? "an empty string or one with a NUL byte"
                                                                : yaml_word(id));
        return NULL;
    }
    rv_doc *out = rv_vm_new_object(vm);
    if (!out) {
        snprintf(problem, size, "out of memory");
        return NULL;
    }
    *name = "";
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        rv_doc *v = rv_doc_get(user, keys[i]);
        if (v && rv_doc_kind(v) != RV_NULL && !plain_string(v)) {
            snprintf(problem, size, "request body: \"user\".%s must be a string or null, got %s", keys[i],
                     rv_doc_kind(v) == RV_STRING ? "a string with a NUL byte" : yaml_word(v));
            return NULL;
        }
        if (!v && !(v = rv_vm_new_null(vm))) {
            snprintf(problem, size, "out of memory");
            return NULL;
        }
        if (i == 1 && rv_doc_kind(v) == RV_STRING)
            *name = rv_doc_string(v);
        if (rv_vm_object_put(vm, out, keys[i], v) != RV_OK) {
            snprintf(problem, size, "out of memory");
            return NULL;
        }
    }
    return out;
}

/* A request name as SkyPilot writes them (jobs.launch, serve.up): it ends
 * up in logs and metrics, so nothing else is taken for one. */
static bool name_like(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 100)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
              s[i] == '.' || s[i] == '_' || s[i] == '-'))
            return false;
    return true;
}

bool skypilot_decode(rv_vm *vm, const char *body, size_t len, skypilot_request *out, char *problem,
                     size_t size)
{
    memset(out, 0, sizeof *out);
    rv_doc *in = inner_object(vm, body, len, problem, size);
    if (!in)
        return false;
    for (size_t i = 0; i < rv_doc_len(in); i++) {
        const char *k = rv_doc_key(in, i);
        size_t m = 0;
        while (m < sizeof body_members / sizeof *body_members && strcmp(k, body_members[m]) != 0)
            m++;
        if (m == sizeof body_members / sizeof *body_members) {
            snprintf(problem, size, "request body: unknown member \"%.100s\" (SkyPilot sends " BODY_MEMBER_LIST ")",
                     k);
            return false;
        }
    }

    const rv_doc *name = rv_doc_get(in, "request_name");
    if (!name) {
        snprintf(problem, size, "request body: missing \"request_name\" (launch, exec, jobs.launch, ...)");
        return false;
    }
    if (!plain_string(name) || rv_doc_len(name) == 0) {
        snprintf(problem, size, "request body: \"request_name\" must be a non-empty string, got %s",
                 rv_doc_kind(name) == RV_STRING ? "an empty string or one with a NUL byte" : type_word(name));
        return false;
    }
    out->name = rv_doc_string(name);
    /* A name the target does not list (a newer SkyPilot's) is judged by
     * the `on *` blocks (docs/language.md), so it is taken; but only
     * something shaped like a request name. */
    if (!name_like(out->name)) {
        snprintf(problem, size, "request body: \"request_name\" '%.100s' is not a request name (letters, "
                                "digits, '.', '_' and '-', at most 100: launch, jobs.launch, ...)", out->name);
        return false;
    }

    rv_doc *task, *config, *user;
    if (!yaml_member(vm, in, "task", "the task", false, &task, problem, size) ||
        !yaml_member(vm, in, "skypilot_config", "the SkyPilot config", false, &config, problem, size) ||
        !yaml_member(vm, in, "user", "the user's id, name and user_type; \"\" on client-side calls", true,
                     &user, problem, size))
        return false;

    rv_doc *options, *api_version, *client_version;
    if (!optional_member(vm, in, "request body", "request_options", RV_OBJECT, &options, problem, size) ||
        !optional_member(vm, in, "request body", "client_api_version", RV_INT, &api_version, problem, size) ||
        !optional_member(vm, in, "request body", "client_version", RV_STRING, &client_version, problem, size))
        return false;
    if (rv_doc_kind(options) == RV_OBJECT && !check_options(options, problem, size))
        return false;
    rv_doc *client_side = rv_doc_get(in, "at_client_side");
    if (client_side && rv_doc_kind(client_side) != RV_BOOL) {
        snprintf(problem, size, "request body: \"at_client_side\" must be true or false, got %s",
                 type_word(client_side));
        return false;
    }
    if (!client_side && !(client_side = rv_vm_new_bool(vm, 0))) {
        snprintf(problem, size, "out of memory");
        return false;
    }

    out->user = "";
    rv_doc *user_doc = user ? user_map(vm, user, &out->user, problem, size) : rv_vm_new_null(vm);
    if (!user_doc) {
        if (!user)
            snprintf(problem, size, "out of memory");
        return false;
    }

    rv_doc *spec = rv_vm_new_object(vm);
    rv_doc *req = rv_vm_new_object(vm);
    rv_doc *name_doc = rv_vm_new_string(vm, out->name);
    if (!spec || !req || !name_doc || rv_vm_object_put(vm, spec, "task", task) != RV_OK ||
        rv_vm_object_put(vm, spec, "config", config) != RV_OK ||
        rv_vm_object_put(vm, req, "name", name_doc) != RV_OK ||
        rv_vm_object_put(vm, req, "at_client_side", client_side) != RV_OK ||
        rv_vm_object_put(vm, req, "options", options) != RV_OK ||
        rv_vm_object_put(vm, req, "client_api_version", api_version) != RV_OK ||
        rv_vm_object_put(vm, req, "client_version", client_version) != RV_OK ||
        rv_vm_object_put(vm, req, "user", user_doc) != RV_OK) {
        snprintf(problem, size, "out of memory");
        return false;
    }
    out->spec = spec;
    out->request = req;
    return true;
}

/* ---- answers ---- */

static void text_answer(skypilot_answer *out, int status, const rv_doc *text)
{
    out->status = status;
    out->content_type = "text/plain; charset=utf-8";
    out->body = rv_doc_string(text);
    out->len = rv_doc_len(text);
}

/* Prints v as YAML into a new string of vm. NULL with why in failure_out
 * when YAML cannot hold it; *oom when memory ran out. */
static rv_doc *yaml_text(rv_vm *vm, const rv_doc *v, const char *root, char *failure_out, size_t size,
                         bool *oom)
{
    const char *text;
    size_t len;
    rv_error err;
    /* The YAML text SkyPilot sent, edited where the policies changed it
     * (docs/yaml.md): what they did not touch goes back as it came. */
    rv_status st = rv_vm_print(vm, v, RV_YAML, RV_VERBATIM, &text, &len, &err);
    if (st == RV_ENOMEM) {
        *oom = true;
        return NULL;
    }
    if (st != RV_OK) {
        snprintf(failure_out, size, "the policies' %s cannot be written as YAML: %s", root, err.message);
        return NULL;
    }
    rv_doc *s = rv_vm_new_string(vm, text);
    if (!s)
        *oom = true;
    return s;
}

/* Why an allowed spec is not one SkyPilot can take back, or NULL. */
static bool spec_problem(const rv_doc *spec, char *failure_out, size_t size)
{
    for (size_t i = 0; i < rv_doc_len(spec); i++) {
        const char *k = rv_doc_key(spec, i);
        if (strcmp(k, "task") && strcmp(k, "config")) {
            snprintf(failure_out, size, "the policies added \"%.100s\" beside \"task\" and \"config\": SkyPilot's "
                                        "answer holds only those two", k);
            return true;
        }
    }
    static const char *const roots[] = {"task", "config"};
    for (size_t i = 0; i < 2; i++) {
        const rv_doc *v = rv_doc_get(spec, roots[i]);
        if (!v || rv_doc_kind(v) != RV_OBJECT) {
            snprintf(failure_out, size, "the policies left \"%s\" %s%s: SkyPilot needs a mapping", roots[i],
                     v ? "as " : "missing", v ? yaml_word(v) : "");
            return true;
        }
    }
    return false;
}

bool skypilot_answer_of(rv_vm *vm, const skypilot_request *req, const rv_decision *d, const char *failure,
                        skypilot_answer *out, char *failure_out, size_t size)
{
    (void)req;
    memset(out, 0, sizeof *out);
    failure_out[0] = '\0';
    rv_doc *text;
    if (!d) {
        if (!(text = rv_vm_new_string(vm, failure ? failure : SKYPILOT_FAILED_PREFIX "unknown error")))
            return false;
        text_answer(out, 500, text);
        return true;
    }
    if (!d->allowed) {
        /* Every message, in order, as dstack gets them: one line the user
         * reads after SkyPilot's "rejected by admin policy" prefix. */
        if (!(text = dstack_error(vm, d, NULL)))
            return false;
        text_answer(out, 400, text);
        return true;
    }
    bool oom = false;
    rv_doc *task = NULL, *config = NULL;
    if (!spec_problem(d->spec, failure_out, size)) {
        task = yaml_text(vm, rv_doc_get(d->spec, "task"), "task", failure_out, size, &oom);
        if (task)
            config = yaml_text(vm, rv_doc_get(d->spec, "config"), "config", failure_out, size, &oom);
    }
    if (oom)
        return false;
    if (!config) {
        /* Fail closed: an answer SkyPilot would misread is no answer. */
        if (!(text = rv_vm_new_string(vm, failure_out)))
            return false;
        text_answer(out, 500, text);
        return true;
    }
    /* The object as JSON text, then that text as a JSON string: the
     * second encoding SkyPilot's client undoes before it reads the
     * object. */
    rv_doc *obj = rv_vm_new_object(vm);
    const char *json;
    size_t len;
    rv_error err;
    if (!obj || rv_vm_object_put(vm, obj, "task", task) != RV_OK ||
        rv_vm_object_put(vm, obj, "skypilot_config", config) != RV_OK ||
        rv_vm_print(vm, obj, RV_JSON, 0, &json, &len, &err) != RV_OK || !(text = rv_vm_new_string(vm, json)) ||
        rv_vm_print(vm, text, RV_JSON, 0, &json, &len, &err) != RV_OK)
        return false;
    out->status = 200;
    out->content_type = "application/json";
    out->body = json;
    out->len = len;
    return true;
}
