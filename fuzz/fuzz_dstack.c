/* fuzz_dstack.c - libFuzzer target: arbitrary bytes as the body of a dstack
 * SPDX-License-Identifier: Apache-2.0
 * REST plugin request (protocols/dstack.c), decoded for each of dstack's
 * four paths and for /v1/evaluate (the body names the kind). Decoding must
 * refuse with a message or give a request whose spec is an object and
 * whose kind, user and project are strings; the shipped policies then
 * decide, and the response body ({"spec", "error"}, whether decided or
 * failed closed) must print as JSON that reads back with both members,
 * the spec an object and the error null or a string.
 * Seeds: the request bodies in tests/data/dstack/requests.
 */
#include "dstack.h"
#include "fuzz.h"

static rv_program *prog;
static rv_vm *vm;

static void init(void)
{
    const char *paths[] = {"rules"};
    prog = fuzz_load_policies(paths, 1);
    rv_config cfg;
    rv_config_init(&cfg);
    cfg.instruction_budget = 200000;
    FUZZ_CHECK(rv_vm_new(&cfg, &vm) == RV_OK, "no VM");
}

static void check_response(const rv_doc *resp)
{
    const char *out;
    size_t len;
    rv_error err;
    FUZZ_CHECK(resp != NULL, "no response built");
    FUZZ_CHECK(rv_vm_print(vm, resp, RV_JSON, 0, &out, &len, &err) == RV_OK, "response: %s", err.message);
    char *copy = malloc(len + 1);
    FUZZ_CHECK(copy != NULL, "out of memory");
    memcpy(copy, out, len + 1);
    rv_doc *back;
    FUZZ_CHECK(rv_vm_parse(vm, copy, len, RV_JSON, &back, &err) == RV_OK, "response is not JSON: %s",
               err.message);
    FUZZ_CHECK(rv_doc_kind(back) == RV_OBJECT && rv_doc_len(back) == 2, "response shape: %s", copy);
    const rv_doc *spec = rv_doc_get(back, "spec"), *error = rv_doc_get(back, "error");
    FUZZ_CHECK(spec && rv_doc_kind(spec) == RV_OBJECT, "response spec: %s", copy);
    FUZZ_CHECK(error && (rv_doc_kind(error) == RV_NULL || rv_doc_kind(error) == RV_STRING), "response error: %s",
               copy);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!prog)
        init();
    static const char *const paths[] = {"/apply_policies/on_run_apply", "/apply_policies/on_fleet_apply",
                                        "/apply_policies/on_volume_apply", "/apply_policies/on_gateway_apply",
                                        "/v1/evaluate"};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        const char *kind = dstack_kind_of_path(paths[i]);
        FUZZ_CHECK((kind != NULL) == (i < 4), "path %s", paths[i]);
        rv_vm_reset(vm);
        dstack_request rq;
        char problem[800];
        memset(problem, 'x', sizeof problem);
        if (!dstack_decode(vm, (const char *)data, size, kind, &rq, problem, sizeof problem)) {
            FUZZ_CHECK(memchr(problem, '\0', sizeof problem) && problem[0], "a refusal without a message");
            continue;
        }
        FUZZ_CHECK(rq.kind && rq.user && rq.project, "decoded request lacks a field");
        FUZZ_CHECK(!kind || strcmp(rq.kind, kind) == 0, "kind %s from path %s", rq.kind, paths[i]);
        FUZZ_CHECK(rq.spec && rv_doc_kind(rq.spec) == RV_OBJECT, "spec is not an object");
        rv_request vrq = {.kind = rq.kind, .user = rq.user, .project = rq.project};
        rv_decision d;
        rv_error err;
        bool decided = rv_vm_eval(vm, prog, &vrq, rq.spec, &d, &err) == RV_OK;
        check_response(dstack_response(vm, &rq, decided ? &d : NULL, "rulesd: failed"));
        rv_doc *e = dstack_error(vm, decided ? &d : NULL, "rulesd: failed");
        FUZZ_CHECK(e && (decided && d.allowed ? rv_doc_kind(e) == RV_NULL : rv_doc_kind(e) == RV_STRING),
                   "error member disagrees with the decision");
    }
    return 0;
}
