/* handler.c - the endpoints. The hot path (a dstack apply) is: parse the
 * SPDX-License-Identifier: Apache-2.0
 * body into the worker's VM, evaluate, build {"spec","error"} from the
 * rewritten spec, print it. The VM's memory is reset per request and kept,
 * so a steady stream of decisions allocates nothing here; the response
 * text is copied once, by the transport, into the connection's buffer.
 */
#include "handler.h"

#include "buf.h"
#include "dstack.h"
#include "log.h"
#include "metrics.h"
#include "pull.h"
#include "redact.h"
#include "reload.h"
#include "rulevm.h"
#include "skypilot_route.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct rd_worker {
    rv_vm *vm;
    ru_buf out;        /* bodies the handler builds itself */
    ru_buf line;       /* one decision-log line */
    ru_buf scratch;    /* texts on their way into a log or an explanation */
    rd_redactor redactor;
};

typedef enum endpoint {
    EP_DSTACK,     /* /apply_policies/on_KIND_apply */
    EP_SKYPILOT,   /* its configured path (skypilot_route.h) */
    EP_EVALUATE,
    EP_HEALTH,
    EP_METRICS,
    EP_POLICIES
} endpoint;

typedef struct route {
    const char *path;
    endpoint ep;
    const char *kind;   /* for EP_DSTACK */
} route;

/* dstack's four plugin paths are the protocol module's (dstack.h). */
static const route routes[] = {
    {"/apply_policies/on_run_apply", EP_DSTACK, NULL},
    {"/apply_policies/on_fleet_apply", EP_DSTACK, NULL},
    {"/apply_policies/on_volume_apply", EP_DSTACK, NULL},
    {"/apply_policies/on_gateway_apply", EP_DSTACK, NULL},
    {"/v1/evaluate", EP_EVALUATE, NULL},
    {"/healthz", EP_HEALTH, NULL},
    {"/metrics", EP_METRICS, NULL},
    {"/v1/policies", EP_POLICIES, NULL},
};

uint64_t rd_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

rd_worker *rd_worker_new(void)
{
    rd_worker *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    if (rv_vm_new(NULL, &w->vm) != RV_OK) {
        free(w);
        return NULL;
    }
    rd_redactor_init(&w->redactor);
    return w;
}

void rd_worker_free(rd_worker *w)
{
    if (!w)
        return;
    rv_vm_free(w->vm);
    ru_buf_free(&w->out);
    ru_buf_free(&w->line);
    ru_buf_free(&w->scratch);
    rd_redactor_free(&w->redactor);
    free(w);
}

static const route *find_route(const char *path)
{
    static const route skypilot = {NULL, EP_SKYPILOT, NULL};
    if (rd_skypilot_is_path(path))
        return &skypilot;
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++)
        if (strcmp(path, routes[i].path) == 0)
            return &routes[i];
    return NULL;
}

static bool is_post(const route *r)
{
    return r->ep == EP_DSTACK || r->ep == EP_SKYPILOT || r->ep == EP_EVALUATE;
}

static bool method_ok(const route *r, const char *method)
{
    if (is_post(r))
        return strcmp(method, "POST") == 0;
    return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

void rd_error_response(rd_worker *w, int status, const char *detail, rd_response *resp)
{
    ru_buf_clear(&w->out);
    ru_buf_puts(&w->out, "{\"detail\":");
    ru_buf_json_string(&w->out, detail, strlen(detail));
    ru_buf_puts(&w->out, "}\n");
    memset(resp, 0, sizeof *resp);
    resp->status = status;
    resp->content_type = "application/json";
    if (w->out.oom) {
        resp->status = 500;
        resp->body = "{\"detail\":\"out of memory\"}\n";
        resp->len = strlen(resp->body);
    } else {
        resp->body = w->out.data;
        resp->len = w->out.len;
    }
}

/* Constant time in the token's length, so that response timing does not
 * reveal how much of a guess was right. */
static bool token_matches(const char *given, size_t glen, const char *token, size_t tlen)
{
    unsigned char diff = (unsigned char)(glen != tlen);
    for (size_t i = 0; i < tlen; i++)
        diff |= (unsigned char)(token[i] ^ (i < glen ? given[i] : 0));
    return diff == 0;
}

static bool authorized(const rd_set *set, const char *header)
{
    if (!set->token)
        return true;
    if (!header || strncasecmp(header, "Bearer ", 7) != 0)
        return false;
    const char *t = header + 7;
    while (*t == ' ')
        t++;
    size_t len = strlen(t);
    while (len && (t[len - 1] == ' ' || t[len - 1] == '\t'))
        len--;
    return token_matches(t, len, set->token, set->token_len);
}

bool rd_precheck(rd_worker *w, const rd_request *req, bool has_length, uint64_t length,
                 size_t max_body, rd_response *resp)
{
    const route *r = find_route(req->path);
    if (!r || r->ep != EP_HEALTH) {
        /* Authentication first: without a token, even which paths exist
         * is not answered. */
        rd_set *set = rd_current_acquire();
        bool ok = !set || authorized(set, req->authorization);
        rd_set_release(set);
        if (!ok) {
            rd_error_response(w, 401, req->authorization ? "invalid bearer token"
                                                         : "missing 'Authorization: Bearer <token>' header",
                              resp);
            resp->challenge = true;
            return true;
        }
    }
    if (!r) {
        char detail[300];
        snprintf(detail, sizeof detail, "no such endpoint: %.200s", req->path);
        rd_error_response(w, 404, detail, resp);
        return true;
    }
    if (!method_ok(r, req->method)) {
        char detail[300];
        snprintf(detail, sizeof detail, "%s takes %s, not %.20s", r->path ? r->path : rd_skypilot_path(),
                 is_post(r) ? "POST" : "GET", req->method);
        rd_error_response(w, 405, detail, resp);
        resp->allow = is_post(r) ? "POST" : "GET, HEAD";
        return true;
    }
    if (is_post(r) && has_length && length > max_body) {
        char detail[200];
        snprintf(detail, sizeof detail, "request body of %llu bytes is over the %zu-byte limit",
                 (unsigned long long)length, max_body);
        rd_error_response(w, 413, detail, resp);
        return true;
    }
    return false;
}

static void json_response(rd_response *resp, const char *text, size_t len)
{
    memset(resp, 0, sizeof *resp);
    resp->status = 200;
    resp->content_type = "application/json";
    resp->body = text;
    resp->len = len;
}

/* ---- the decision log ---- */

/* A message as it may be logged: the parts the compiler marked secret are
 * already the marker (rv_message.redacted); the request's secret texts are
 * scrubbed from the rest. */
static void log_messages(ru_buf *b, const char *severity, const rv_message *m, size_t n,
                         rd_redactor *red, bool *first)
{
    for (size_t i = 0; i < n; i++) {
        ru_buf_puts(b, *first ? "{\"severity\":\"" : ",{\"severity\":\"");
        *first = false;
        ru_buf_puts(b, severity);
        ru_buf_puts(b, "\",\"text\":");
        rd_redact_json_string(red, b, m[i].redacted, strlen(m[i].redacted));
        ru_buf_puts(b, ",\"policy\":");
        ru_buf_json_string(b, m[i].policy, strlen(m[i].policy));
        ru_buf_printf(b, ",\"line\":%u}", (unsigned)m[i].line);
    }
}

typedef struct decision_info {
    const rd_request *req;
    const char *protocol;   /* NULL: dstack's (the lines it has always had) */
    const char *kind, *user, *project;
    rd_outcome outcome;
    const rv_decision *d;   /* NULL when no decision was made */
    const char *detail;     /* why, when there is no decision, as it may be logged */
    uint64_t revision;
    const char *set_sha256; /* which policies decided (rv_program_digest) */
    uint64_t ns;
} decision_info;

static void log_decision(rd_worker *w, const decision_info *di)
{
    if (!rd_declog_enabled())
        return;
    ru_buf *b = &w->line;
    char when[32];
    rd_time_iso(when, sizeof when);
    ru_buf_clear(b);
    ru_buf_printf(b, "{\"time\":\"%s\",\"id\":", when);
    ru_buf_json_string(b, di->req->id, strlen(di->req->id));
    if (di->protocol)
        ru_buf_printf(b, ",\"protocol\":\"%s\"", di->protocol);
    ru_buf_puts(b, ",\"kind\":");
    ru_buf_json_string(b, di->kind ? di->kind : "", di->kind ? strlen(di->kind) : 0);
    ru_buf_puts(b, ",\"user\":");
    ru_buf_json_string(b, di->user ? di->user : "", di->user ? strlen(di->user) : 0);
    ru_buf_puts(b, ",\"project\":");
    ru_buf_json_string(b, di->project ? di->project : "", di->project ? strlen(di->project) : 0);
    ru_buf_printf(b, ",\"outcome\":\"%s\",\"revision\":%llu,\"set_sha256\":\"%s\",\"messages\":[",
                  rd_outcome_name(di->outcome), (unsigned long long)di->revision, di->set_sha256);
    bool first = true;
    if (di->d) {
        log_messages(b, "error", di->d->errors, di->d->nerrors, &w->redactor, &first);
        log_messages(b, "warning", di->d->warnings, di->d->nwarnings, &w->redactor, &first);
    } else if (di->detail) {
        ru_buf_puts(b, "{\"severity\":\"error\",\"text\":");
        rd_redact_json_string(&w->redactor, b, di->detail, strlen(di->detail));
        ru_buf_putc(b, '}');
    }
    ru_buf_puts(b, "],\"changed\":[");
    /* A rejected spec goes back unchanged, whatever the policies tried. */
    for (size_t i = 0; di->d && di->d->allowed && i < di->d->nchanges; i++) {
        if (i)
            ru_buf_putc(b, ',');
        rd_redact_json_string(&w->redactor, b, di->d->changes[i].path, strlen(di->d->changes[i].path));
    }
    ru_buf_printf(b, "],\"latency_ms\":%.3f}\n", (double)di->ns / 1e6);
    if (b->oom) {
        rd_log(RD_ERROR, "decision log: out of memory for request %s", di->req->id);
        return;
    }
    rd_declog_write(b->data, b->len);
}

/* ---- decisions ---- */

/* The builders take non-const nodes; the decision hands out const ones
 * that are only read again (printed). */
static rv_doc *unconst(const rv_doc *d)
{
    return (rv_doc *)(uintptr_t)d;
}

static bool put(rv_vm *vm, rv_doc *obj, const char *key, rv_doc *v)
{
    return v && rv_vm_object_put(vm, obj, key, v) == RV_OK;
}

/* /v1/evaluate explains a decision to whoever asks, not only to the
 * requester, so what explains it follows the decision log's rule: marked
 * parts and changes redacted, the request's secret texts scrubbed. Only the
 * rewritten spec, the answer itself, comes back whole. */

/* A logged form of text as a new string of vm (scrubbed in w->scratch). */
static rv_doc *redacted_string(rd_worker *w, const char *text)
{
    ru_buf_clear(&w->scratch);
    rd_redact_text(&w->redactor, &w->scratch, text, strlen(text));
    ru_buf_terminate(&w->scratch);
    return w->scratch.oom ? NULL : rv_vm_new_string(w->vm, w->scratch.data ? w->scratch.data : "");
}

/* The decision's error as explained: the redacted messages, joined as
 * dstack's answer joins them. */
static rv_doc *explained_error(rd_worker *w, const rv_decision *d, const char *failure)
{
    if (!d)
        return redacted_string(w, failure);
    if (d->allowed)
        return rv_vm_new_null(w->vm);
    ru_buf_clear(&w->scratch);
    for (size_t i = 0; i < d->nerrors; i++) {
        if (i)
            ru_buf_puts(&w->scratch, "; ");
        rd_redact_text(&w->redactor, &w->scratch, d->errors[i].redacted, strlen(d->errors[i].redacted));
    }
    ru_buf_terminate(&w->scratch);
    return w->scratch.oom ? NULL : rv_vm_new_string(w->vm, w->scratch.data ? w->scratch.data : "");
}

/* A change's value as explained: the marker when the change is marked or
 * the value prints a secret's text. */
static rv_doc *explained_value(rd_worker *w, const rv_change *c, const rv_doc *v)
{
    if (!v)
        return rv_vm_new_null(w->vm);
    if (c->secret)
        return rv_vm_new_string(w->vm, RD_REDACTED);
    if (rd_redactor_count(&w->redactor)) {
        const char *text;
        size_t len;
        rv_error err;
        if (rv_vm_print(w->vm, v, RV_JSON, 0, &text, &len, &err) != RV_OK ||
            rd_redactor_finds(&w->redactor, text, len))
            return rv_vm_new_string(w->vm, RD_REDACTED);
    }
    return unconst(v);
}

static rv_doc *messages_doc(rd_worker *w, const rv_message *m, size_t n)
{
    rv_vm *vm = w->vm;
    rv_doc *arr = rv_vm_new_array(vm);
    for (size_t i = 0; arr && i < n; i++) {
        rv_doc *o = rv_vm_new_object(vm);
        if (!o || !put(vm, o, "message", redacted_string(w, m[i].redacted)) ||
            !put(vm, o, "policy", rv_vm_new_string(vm, m[i].policy)) ||
            !put(vm, o, "line", rv_vm_new_int(vm, m[i].line)) || rv_vm_array_push(vm, arr, o) != RV_OK)
            return NULL;
    }
    return arr;
}

/* A change's "old" is the value the path held, null included; a path
 * that was missing (the change created it) has no "old" at all, so the
 * two never read alike (docs/rulesd.md, Endpoints). */
static rv_doc *changes_doc(rd_worker *w, const rv_change *c, size_t n)
{
    rv_vm *vm = w->vm;
    rv_doc *arr = rv_vm_new_array(vm);
    for (size_t i = 0; arr && i < n; i++) {
        rv_doc *o = rv_vm_new_object(vm);
        if (!o || !put(vm, o, "path", redacted_string(w, c[i].path)) ||
            (c[i].old_value && !put(vm, o, "old", explained_value(w, &c[i], c[i].old_value))) ||
            !put(vm, o, "new", explained_value(w, &c[i], c[i].new_value)) ||
            !put(vm, o, "removed", rv_vm_new_bool(vm, c[i].new_value == NULL)) ||
            !put(vm, o, "policy", rv_vm_new_string(vm, c[i].policy)) ||
            !put(vm, o, "line", rv_vm_new_int(vm, c[i].line)) || rv_vm_array_push(vm, arr, o) != RV_OK)
            return NULL;
    }
    return arr;
}

static void expect_messages(rd_worker *w, const rv_message *m, size_t n)
{
    for (size_t i = 0; i < n; i++)
        rd_redactor_expect(&w->redactor, m[i].redacted, strlen(m[i].redacted));
}

/* Tells the redactor the texts the log and the explanation will hold: the
 * messages, the changed paths, a failure, and (to explain) the values of
 * the changes as printed. */
static void expect_decision(rd_worker *w, const rv_decision *d, const char *failure, bool values)
{
    if (failure)
        rd_redactor_expect(&w->redactor, failure, strlen(failure));
    if (!d)
        return;
    expect_messages(w, d->errors, d->nerrors);
    expect_messages(w, d->warnings, d->nwarnings);
    for (size_t i = 0; i < d->nchanges; i++) {
        const rv_change *c = &d->changes[i];
        rd_redactor_expect(&w->redactor, c->path, strlen(c->path));
        const rv_doc *v[2] = {c->old_value, c->new_value};
        for (size_t k = 0; values && !c->secret && k < 2; k++) {
            const char *text;
            size_t len;
            rv_error err;
            if (v[k] && rv_vm_print(w->vm, v[k], RV_JSON, 0, &text, &len, &err) == RV_OK)
                rd_redactor_expect(&w->redactor, text, len);
        }
    }
}

static void decide(rd_worker *w, const rd_request *req, const route *r, rd_response *resp)
{
    rv_vm *vm = w->vm;
    rd_set *set = rd_current_acquire();
    if (!set) {
        rd_error_response(w, 503, "no policy set is loaded", resp);
        return;
    }
    rv_vm_reset(vm);
    rd_redactor_reset(&w->redactor);
    bool sky = r->ep == EP_SKYPILOT;
    const char *path_kind = r->ep == EP_DSTACK ? dstack_kind_of_path(r->path) : NULL;
    decision_info di = {req, sky ? SKYPILOT_TARGET : NULL, path_kind, "", "", RD_O_INVALID, NULL, NULL,
                        set->revision, rv_program_digest(set->prog), 0};
    char detail[800], logged[800];
    rv_error err;
    rv_decision d;
    dstack_request rq;
    skypilot_request sq;
    bool decoded = sky ? skypilot_decode(vm, req->body, req->body_len, &sq, detail, sizeof detail)
                       : dstack_decode(vm, req->body, req->body_len, path_kind, &rq, detail, sizeof detail);
    if (!decoded) {
        /* SkyPilot shows a 400's text as a policy's rejection: a body it
         * should never have sent is another 4xx. */
        int status = sky ? 422 : 400;
        rd_error_response(w, status, detail, resp);
        di.detail = detail;
        di.ns = rd_now_ns() - req->start_ns;
        if (sky)
            rd_metrics_skypilot(NULL, RD_O_INVALID, di.ns);
        else
            rd_metrics_decision(path_kind ? rd_kind_of(path_kind) : RD_K_OTHER, RD_O_INVALID, di.ns);
        log_decision(w, &di);
        rd_log(RD_DEBUG, "request %s: %d: %s", req->id, status, detail);
        rd_set_release(set);
        return;
    }
    /* From here on both protocols are decided alike: their kind, user,
     * project and spec in one place (SkyPilot has no project). */
    if (sky)
        rq = (dstack_request){sq.name, sq.user, "", sq.spec};
    const char *kind = di.kind = rq.kind;
    di.user = rq.user;
    di.project = rq.project;
    /* The secret texts, before evaluation rewrites the spec: for the
     * decision log and for /v1/evaluate's explanation. */
    if (rd_declog_enabled() || r->ep == EP_EVALUATE)
        rd_redactor_collect_target(&w->redactor, sky ? SKYPILOT_TARGET : "dstack", kind, rq.spec);

    /* The protocol's own policies judge it, and target "any"'s: a policy
     * for the other protocol never runs here, even as `on *`. */
    rv_request vrq = {.kind = kind, .user = rq.user, .project = rq.project,
                      .request = sky ? sq.request : NULL, .target = sky ? SKYPILOT_TARGET : "dstack"};
    rv_status st = rv_vm_eval(vm, set->prog, &vrq, rq.spec, &d, &err);
    bool decided = st == RV_OK;
    /* dstack shows a failure as a rejection's error (dstack.h), SkyPilot
     * gets it as a 500's text (skypilot.h). */
    const char *failed = sky ? SKYPILOT_FAILED_PREFIX : "rulesd: " DSTACK_FAILED_PREFIX;
    if (!decided) {
        /* Fail closed. The spec was restored to its input. */
        snprintf(detail, sizeof detail, "%s%s", failed, err.message);
        /* The message may quote a value from the spec (an evaluation
         * error names its operands): the logs get the VM's form without
         * the operands' values. */
        snprintf(logged, sizeof logged, "%s%s", failed, rv_vm_redacted_error(vm));
        rd_log(RD_ERROR, "request %s (%s): %s", req->id, kind, rv_vm_redacted_error(vm));
        di.outcome = RD_O_ERROR;
        di.detail = logged;
    } else {
        di.outcome = d.allowed ? RD_O_ALLOWED : RD_O_REJECTED;
        di.d = &d;
    }

    if (sky) {
        char unfit[600];
        rd_outcome o = rd_skypilot_respond(vm, &sq, decided ? &d : NULL, detail, resp, unfit, sizeof unfit);
        if (decided && o == RD_O_ERROR) {
            /* Allowed, but not as anything SkyPilot could take back: no
             * decision after all (fail closed). The reason names paths
             * and types, never values. */
            rd_log(RD_ERROR, "request %s (%s): %s", req->id, kind, unfit);
            snprintf(logged, sizeof logged, "%s", unfit);
            di.d = NULL;
            di.detail = logged;
        }
        di.outcome = o;
        if (rd_redactor_count(&w->redactor)) {
            expect_decision(w, di.d, di.d ? NULL : di.detail, false);
            rd_redactor_prepare(&w->redactor);
        }
        di.ns = rd_now_ns() - req->start_ns;
        rd_metrics_skypilot(kind, di.outcome, di.ns);
        log_decision(w, &di);
        rd_set_release(set);
        return;
    }

    /* Everything that will be scrubbed, told first: the search then looks
     * only for the secrets that can be in it (redact.h). */
    if (rd_redactor_count(&w->redactor)) {
        expect_decision(w, decided ? &d : NULL, decided ? NULL : logged, r->ep == EP_EVALUATE);
        rd_redactor_prepare(&w->redactor);
    }

    rv_doc *out;
    bool ok;
    if (r->ep == EP_EVALUATE) {
        out = rv_vm_new_object(vm);
        ok = out && put(vm, out, "allowed", rv_vm_new_bool(vm, decided && d.allowed)) &&
             put(vm, out, "error", explained_error(w, decided ? &d : NULL, logged)) &&
             put(vm, out, "spec", decided ? d.spec : rq.spec) &&
             put(vm, out, "errors", decided ? messages_doc(w, d.errors, d.nerrors) : rv_vm_new_array(vm)) &&
             put(vm, out, "warnings", decided ? messages_doc(w, d.warnings, d.nwarnings) : rv_vm_new_array(vm)) &&
             put(vm, out, "changes", decided ? changes_doc(w, d.changes, d.nchanges) : rv_vm_new_array(vm)) &&
             put(vm, out, "instructions", rv_vm_new_int(vm, decided ? (int64_t)d.instructions : 0)) &&
             put(vm, out, "revision", rv_vm_new_int(vm, (int64_t)set->revision));
    } else {
        out = dstack_response(vm, &rq, decided ? &d : NULL, detail);
        ok = out != NULL;
    }
    const char *text;
    size_t len;
    /* RV_VERBATIM: what no policy changed goes back byte for byte as it was
     * received (a rejected spec: all of it), as dstack's protocol echoes. */
    if (!ok || rv_vm_print(vm, out, RV_JSON, RV_VERBATIM, &text, &len, &err) != RV_OK) {
        rd_log(RD_ERROR, "request %s: cannot build the response: out of memory", req->id);
        rd_error_response(w, 500, "out of memory while building the response", resp);
        di.outcome = RD_O_ERROR;
    } else {
        json_response(resp, text, len);
    }
    di.ns = rd_now_ns() - req->start_ns;
    rd_metrics_decision(rd_kind_of(kind), di.outcome, di.ns);
    log_decision(w, &di);
    rd_set_release(set);
}

void rd_handle(rd_worker *w, const rd_request *req, rd_response *resp)
{
    const route *r = find_route(req->path);
    if (!r || !method_ok(r, req->method)) {
        /* rd_precheck answered these already; kept for callers that skip it. */
        rd_precheck(w, req, false, 0, 0, resp);
        return;
    }
    rd_set *set;
    switch (r->ep) {
    case EP_DSTACK:
    case EP_SKYPILOT:
    case EP_EVALUATE:
        decide(w, req, r, resp);
        return;
    case EP_HEALTH:
        set = rd_current_acquire();
        ru_buf_clear(&w->out);
        ru_buf_printf(&w->out, "{\"status\":\"%s\",\"revision\":%llu,\"policies\":%zu",
                      set ? "ok" : "no policies", set ? (unsigned long long)set->revision : 0ull,
                      set ? set->npolicies : 0);
        if (set && set->bundle_revision[0])
            ru_buf_printf(&w->out, ",\"bundle_revision\":\"%s\"", set->bundle_revision);
        rd_pull_render_json(&w->out, true);
        ru_buf_puts(&w->out, "}\n");
        json_response(resp, w->out.data, w->out.len);
        if (!set)
            resp->status = 503;
        rd_set_release(set);
        return;
    case EP_METRICS:
        set = rd_current_acquire();
        ru_buf_clear(&w->out);
        rd_metrics_render(&w->out, set ? set->revision : 0, set ? set->npolicies : 0,
                          set ? rv_program_digest(set->prog) : "", rd_in_flight());
        rd_pull_render_metrics(&w->out, set ? set->bundle_revision : "", set ? set->bundle_key_id : "");
        rd_set_release(set);
        json_response(resp, w->out.data, w->out.len);
        resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
        break;
    case EP_POLICIES:
        set = rd_current_acquire();
        ru_buf_clear(&w->out);
        if (set) {
            /* The set's own listing, then what the puller saw since. */
            ru_buf_put(&w->out, set->policies_json, set->policies_json_len - 2);  /* less "}\n" */
            rd_pull_render_json(&w->out, false);
            ru_buf_puts(&w->out, "}\n");
        }
        rd_set_release(set);
        if (!set) {
            rd_error_response(w, 503, "no policy set is loaded", resp);
            return;
        }
        json_response(resp, w->out.data, w->out.len);
        break;
    }
    if (w->out.oom)
        rd_error_response(w, 500, "out of memory", resp);
}
