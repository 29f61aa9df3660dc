/* fuzz_rules.c - libFuzzer target: arbitrary bytes as a .rules source. The
 * SPDX-License-Identifier: Apache-2.0
 * front end must report diagnostics or produce a policy that the verifier
 * accepts (anything else is a compiler bug: abort) and that evaluates.
 */
#include "helpers.h"

#include <stdint.h>
#include <stdlib.h>

static const char spec_text[] =
    "{\"configuration\": {\"type\": \"task\", \"privileged\": true, \"tags\": {\"a\": 1},"
    " \"env\": {\"K\": \"v\"}, \"volumes\": [{\"name\": \"v\"}], \"max_price\": 3.5}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    /* A text is a source or a bundle by its content (rc_load): a bundle's
     * refusal is RC_FAILED, and bundles are fuzz_bundle's. */
    if (memchr(text, '\0', size) || (size >= 4 && memcmp(text, "\x7fRBC", 4) == 0)) {
        free(text);
        return 0;
    }
    /* Content decides: bytes that start with the bundle magic, or are a
     * piece of it, are a bundle (or one cut short), refused as an input
     * that cannot be used -- fuzz_bundle's ground, not a source's. */
    if (size && memcmp(text, "\x7f" "RBC", size < 4 ? size : 4) == 0) {
        free(text);
        return 0;
    }
    rc_input src = {"fuzz.rules", text, size, 0, 0, 0};
    rc_report *report = rc_report_new();
    rv_program *prog;
    rc_result r = rc_load(report, &src, 1, &(rc_options){NULL, RC_BUNDLE | RC_COVERAGE, "any"}, &prog);
    /* Printing diagnostics exercises the caret code on hostile text. */
    size_t len;
    const char *diag = rc_report_text(report, "fuzz", &len);
    if (r == RC_FAILED) {
        /* A source either has errors or compiles to code the verifier
         * accepts: anything else is a compiler bug. */
        fprintf(stderr, "compiled code fails to load: %s\n", diag);
        abort();
    }
    if (r == RC_OK) {
        rv_config cfg;
        rv_config_init(&cfg);
        cfg.instruction_budget = 100000;
        rv_vm *vm;
        rv_error err;
        rv_vm_new(&cfg, &vm);
        rv_doc *spec;
        rv_vm_parse(vm, spec_text, sizeof spec_text - 1, RV_JSON, &spec, &err);
        rv_request req = {.kind = "run", .user = "u", .project = "p"};
        rv_decision d;
        rv_vm_eval(vm, prog, &req, spec, &d, &err);
        rv_vm_free(vm);
        rv_program_free(prog);
    }
    rc_report_free(report);
    free(text);
    return 0;
}
