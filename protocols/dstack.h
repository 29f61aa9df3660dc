/* dstack.h - dstack's REST plugin protocol, the one implementation that
 * SPDX-License-Identifier: Apache-2.0
 * `rulec apply --request` and rulesd share: request bodies decoded and
 * checked, decisions encoded as response bodies, one behaviour on bad input.
 *
 * The protocol (dstack 0.19.11+, its builtin `rest_plugin`, which posts to
 * DSTACK_PLUGIN_SERVICE_URI; the request bodies in tests/data/dstack were
 * produced by dstack's own models):
 *   POST /apply_policies/on_{run,fleet,volume,gateway}_apply
 *   request  {"user": str, "project": str, "spec": {...}}
 *   response 200 {"spec": {...the whole spec...}, "error": null | str}
 * dstack shows a non-null "error" as "Apply request rejected: <error>" and
 * uses the returned spec as is. A non-2xx status reaches the user only as
 * "Request to the plugin service failed", so a decision that cannot be made
 * is answered as a rejection (fail closed), never as a 5xx.
 *
 * Everything returned lives in the VM (rulevm.h's ownership rule): valid
 * until its next rv_vm_reset.
 */
#ifndef PROTOCOLS_DSTACK_H
#define PROTOCOLS_DSTACK_H

#include "rulevm.h"

#include <stdbool.h>
#include <stddef.h>

/* The kind a plugin path is for ("run" for /apply_policies/on_run_apply),
 * or NULL when path is not one of dstack's four. */
const char *dstack_kind_of_path(const char *path);

/* A decoded request body. */
typedef struct dstack_request {
    const char *kind;      /* as given to dstack_decode, or the body's "kind" */
    const char *user;      /* "" when absent or null */
    const char *project;   /* "" when absent or null */
    rv_doc *spec;          /* an object */
} dstack_request;

/* Parses and checks a request body in vm. kind NULL means the body names
 * it in a "kind" member (rulesd's /v1/evaluate). On a bad body returns
 * false and writes why to problem (NUL-terminated, at most size bytes),
 * e.g. `request body: "spec" must be an object, got an array`: the host
 * adds where (a file, a line) and answers 400 or exits 2. */
bool dstack_decode(rv_vm *vm, const char *body, size_t len, const char *kind,
                   dstack_request *out, char *problem, size_t size);

/* What a host puts before the VM's message in the "error" text when no
 * decision could be made (a limit was hit). */
#define DSTACK_FAILED_PREFIX "the policies could not be evaluated: "

/* The response's "error" member: null when d allowed the spec; every
 * forbid message of d, in order, joined with "; " (dstack shows one
 * string); failure when there is no decision (d NULL). Built in vm; NULL
 * when out of memory. */
rv_doc *dstack_error(rv_vm *vm, const rv_decision *d, const char *failure);

/* The response body {"spec", "error"}: with d, the decision's spec and
 * null or the joined messages; without d (evaluation failed), the spec as
 * received and failure as the error (fail closed). NULL when out of
 * memory. */
rv_doc *dstack_response(rv_vm *vm, const dstack_request *req, const rv_decision *d,
                        const char *failure);

#endif
