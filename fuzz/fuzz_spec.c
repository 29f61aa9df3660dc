/* fuzz_spec.c - libFuzzer target: arbitrary bytes as a spec (JSON, YAML and
 * auto-detected), evaluated by the example policy and printed back in both
 * formats. Parsing must fail cleanly or produce a tree that evaluates and
 * prints; printed YAML and JSON must parse again.
 */
#include "helpers.h"

#include <stdint.h>
#include <stdlib.h>

static rv_program *prog;
static rv_vm *vm;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!prog) {
        prog = compile_file("rules/example.rules");
        if (!prog || rv_vm_new(NULL, &vm) != RV_OK)
            abort();
    }
    static const rv_format formats[] = {RV_JSON, RV_YAML, RV_AUTO};
    for (size_t f = 0; f < 3; f++) {
        rv_vm_reset(vm);
        rv_doc *doc;
        rv_error err;
        if (rv_vm_parse(vm, (const char *)data, size, formats[f], &doc, &err) != RV_OK)
            continue;
        const char *out;
        size_t len;
        for (int pf = RV_JSON; pf <= RV_YAML; pf++) {
            if (rv_vm_print(vm, doc, (rv_format)pf, RV_PRETTY, &out, &len, &err) != RV_OK)
                continue;
            char *copy = malloc(len + 1);
            memcpy(copy, out, len + 1);
            rv_doc *again;
            if (rv_vm_parse(vm, copy, len, (rv_format)pf, &again, &err) != RV_OK)
                abort();  /* what we print must read back */
            free(copy);
        }
        if (rv_doc_kind(doc) == RV_OBJECT) {
            rv_request req = {"run", "u", "p", NULL};
            rv_decision d;
            if (rv_vm_eval(vm, prog, &req, doc, &d, &err) == RV_OK)
                rv_vm_print(vm, d.spec, RV_JSON, 0, &out, &len, &err);
        }
    }
    return 0;
}
