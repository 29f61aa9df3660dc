/* skypilot.h - SkyPilot's RESTful admin-policy protocol, the one
 * SPDX-License-Identifier: Apache-2.0
 * implementation that `rulec apply --request` and rulesd share: request
 * bodies decoded and checked, decisions encoded as HTTP answers, one
 * behaviour on bad input.
 *
 * The protocol (SkyPilot 0.10+, sky/admin_policy.py's RestfulAdminPolicy,
 * measured against the bodies in tests/data/skypilot, which SkyPilot's own
 * code produced):
 *   POST <the admin_policy URL>, Content-Type: application/json, no
 *   authentication, no retries, a 30 s timeout.
 *   request  a JSON *string* whose content is a JSON object:
 *            {"task": YAML, "skypilot_config": YAML, "request_name": str,
 *             "request_options": {...} | null, "at_client_side": bool,
 *             "user": YAML ("" on client-side calls),
 *             "client_api_version": int | null, "client_version": str | null}
 *            (the last two only from SkyPilot versions that send them)
 *   allowed  200, a JSON *string* whose content is the JSON object
 *            {"task": YAML, "skypilot_config": YAML}; SkyPilot refuses a
 *            plain object, and re-reads both YAML texts with PyYAML
 *   rejected 400, the text shown to the user verbatim after "User request
 *            is rejected by admin policy URL: "
 * SkyPilot aborts the user's request on any other status, so a malformed
 * body gets 422 and a decision that cannot be made 500: both fail closed,
 * and 400 always means a policy said no.
 *
 * Policies see one document with two roots, {"task": ..., "config": ...}
 * (the task and the SkyPilot config, YAML-loaded), the request name as the
 * kind, the user's name as $user, and the rest of the request as the
 * $request map (SKYPILOT_REQUEST_MAP below).
 *
 * Everything returned lives in the VM (rulevm.h's ownership rule): valid
 * until its next rv_vm_reset; a body in an answer until the VM's next print.
 */
#ifndef PROTOCOLS_SKYPILOT_H
#define PROTOCOLS_SKYPILOT_H

#include "rulevm.h"

#include <stdbool.h>
#include <stddef.h>

/* The target whose kinds are SkyPilot's request names. */
#define SKYPILOT_TARGET "skypilot"
/* Where rulesd serves the protocol unless configured otherwise. */
#define SKYPILOT_DEFAULT_PATH "/skypilot/admin_policy"

/* The request names SkyPilot asks an admin policy about (the skypilot
 * target's kinds), in the order rulesd's metrics list them. A body may name
 * another (a newer SkyPilot's): only `on *` blocks judge it, and metrics
 * count it as "other". */
extern const char *const skypilot_request_names[];
extern const size_t skypilot_nrequest_names;

/* A decoded request. The $request map (request):
 *   {"name": request_name, "at_client_side": bool,
 *    "options": request_options as sent (a map or null),
 *    "client_api_version": int or null, "client_version": string or null,
 *    "user": {"id", "name", "user_type"} or null on client-side calls} */
typedef struct skypilot_request {
    const char *name;      /* request_name: the kind */
    const char *user;      /* the user's name; "" when there is none */
    rv_doc *spec;          /* {"task": a map, "config": a map} */
    rv_doc *request;       /* the $request map */
} skypilot_request;

/* Whether body is SkyPilot's (a JSON string whose content is a JSON object
 * with "request_name" and "task"), as opposed to a dstack body (an
 * object). Used to pick the protocol when no flag names it. Parses in vm. */
bool skypilot_recognize(rv_vm *vm, const char *body, size_t len);

/* Parses and checks a request body in vm. On a bad body returns false and
 * writes why to problem (NUL-terminated, at most size bytes), naming the
 * member and, inside YAML or the inner JSON, the line and column, e.g.
 * `request body: "task" (YAML) at line 3, column 5: ...`: the host adds
 * where (a file, a line) and answers 422 or exits 2. */
bool skypilot_decode(rv_vm *vm, const char *body, size_t len, skypilot_request *out,
                     char *problem, size_t size);

/* An HTTP answer: status 200 (allowed), 400 (rejected: the messages), 500
 * (no decision: the failure, fail closed). body is len bytes in vm. */
typedef struct skypilot_answer {
    int status;
    const char *content_type;
    const char *body;
    size_t len;
} skypilot_answer;

/* What a host puts before the VM's message when no decision could be made. */
#define SKYPILOT_FAILED_PREFIX "the policies could not be evaluated: "

/* The answer to req: with d allowed, 200 and the double-encoded
 * {"task", "skypilot_config"} of d's spec; with d rejected, 400 and every
 * forbid message in order, joined with "; "; without d (evaluation
 * failed), 500 and failure. An allowed spec SkyPilot could not take (a
 * root that is not a map, a root beside task and config, a value YAML
 * cannot hold) becomes a 500 too, with why in failure_out (NUL-terminated,
 * at most size bytes; "" otherwise): never an answer SkyPilot would
 * misread. false only when out of memory. */
bool skypilot_answer_of(rv_vm *vm, const skypilot_request *req, const rv_decision *d,
                        const char *failure, skypilot_answer *out, char *failure_out,
                        size_t size);

#endif
