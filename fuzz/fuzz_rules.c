/* fuzz_rules.c - libFuzzer target: arbitrary bytes as a .rules source. The
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
    if (memchr(text, '\0', size)) {
        free(text);
        return 0;
    }
    rc_source src = {"fuzz.rules", text, size};
    rv_arena arena;
    rv_arena_init(&arena, NULL, NULL);
    rc_diags diags;
    rc_diags_init(&diags, &arena);
    rv_policy **pols;
    size_t n;
    if (rc_compile(&src, 1, &arena, &diags, &pols, &n)) {
        rv_buf b;
        rv_buf_init(&b, NULL, NULL);
        if (!rv_bundle_write(&b, pols, n))
            abort();
        rv_blob blob = {b.data, b.len, "fuzz"};
        rv_program *prog;
        rv_error err;
        if (rv_program_load(&blob, 1, NULL, &prog, &err) != RV_OK) {
            fprintf(stderr, "compiled code fails to load: %s\n", err.message);
            abort();
        }
        rv_config cfg;
        rv_config_init(&cfg);
        cfg.instruction_budget = 100000;
        rv_vm *vm;
        rv_vm_new(&cfg, &vm);
        rv_doc *spec;
        rv_vm_parse(vm, spec_text, sizeof spec_text - 1, RV_JSON, &spec, &err);
        rv_request req = {"run", "u", "p"};
        rv_decision d;
        rv_vm_eval(vm, prog, &req, spec, &d, &err);
        rv_vm_free(vm);
        rv_program_free(prog);
        rv_buf_free(&b);
    } else {
        /* Printing diagnostics exercises the caret code on hostile text. */
        FILE *null = fopen("/dev/null", "w");
        rc_diags_print(&diags, null);
        fclose(null);
    }
    rv_arena_free(&arena);
    free(text);
    return 0;
}
