/* fuzz_bundle.c - libFuzzer target: arbitrary bytes as a bytecode bundle.
 * The loader and verifier must refuse it cleanly or accept a program that
 * then evaluates (within its budget) and disassembles without fault. Seed
 * it with compiled bundles (make fuzz does).
 */
#include "helpers.h"

#include <stdint.h>
#include <stdlib.h>

static const char spec_text[] =
    "{\"configuration\": {\"type\": \"service\", \"privileged\": false, \"tags\": null,"
    " \"volumes\": [{\"name\": \"a\"}, {\"name\": \"scratch-b\"}], \"image\": \"x:latest\","
    " \"resources\": {\"gpu\": {\"count\": {\"min\": 2, \"max\": null}}}}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rv_blob blob = {data, size, "fuzz.rbc"};
    rv_program *prog;
    rv_error err;
    if (rv_program_load(&blob, 1, NULL, &prog, &err) != RV_OK)
        return 0;
    rv_config cfg;
    rv_config_init(&cfg);
    cfg.instruction_budget = 100000;
    rv_vm *vm;
    if (rv_vm_new(&cfg, &vm) != RV_OK)
        abort();
    rv_doc *spec;
    if (rv_vm_parse(vm, spec_text, sizeof spec_text - 1, RV_JSON, &spec, &err) != RV_OK)
        abort();
    const char *kinds[] = {"run", "fleet", "gateway"};
    for (int k = 0; k < 3; k++) {
        rv_request req = {kinds[k], "intern-x", "p", NULL};
        rv_decision d;
        rv_vm_eval(vm, prog, &req, spec, &d, &err);
    }
    const char *text;
    size_t len;
    (void)rv_program_disasm(prog, vm, &text, &len, &err);
    rv_vm_free(vm);
    rv_program_free(prog);
    return 0;
}
