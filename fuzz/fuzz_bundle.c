/* fuzz_bundle.c - libFuzzer target: arbitrary bytes as a bytecode bundle.
 * SPDX-License-Identifier: Apache-2.0
 * The loader and verifier must refuse it cleanly or accept a program that
 * then evaluates (within its budget) on specs of every shape, for every
 * kind, disassembles, and saves to a bundle that loads again.
 *
 * The harness writes the header's total size and CRC-32 for the bytes it
 * got before loading: a random mutation otherwise breaks the checksum and
 * is refused before the decoder, verifier or interpreter sees it (26.6
 * million executions once reached 94 new inputs that way). The size and
 * checksum checks themselves are covered by the bad-input suite, which
 * flips every byte of a bundle. Seeds: sh fuzz/seeds.sh (compiled
 * policies holding every opcode).
 */
#include "fuzz.h"

/* CRC-32 (IEEE, reflected, as zlib and the bundle format): written out
 * here rather than borrowed from the VM, so the harness does not trust the
 * code it checks. */
static uint32_t crc32_ieee(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    while (n--) {
        c ^= *p++;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static void put32(unsigned char *d, uint32_t v)
{
    d[0] = (unsigned char)v;
    d[1] = (unsigned char)(v >> 8);
    d[2] = (unsigned char)(v >> 16);
    d[3] = (unsigned char)(v >> 24);
}

static rv_vm *vm;

static void init(void)
{
    rv_config cfg;
    rv_config_init(&cfg);
    cfg.instruction_budget = 100000;
    FUZZ_CHECK(rv_vm_new(&cfg, &vm) == RV_OK, "no VM");
}

/* Evaluates prog on every spec for every kind: a decided spec prints. */
static void evaluate(const rv_program *prog)
{
    rv_error err;
    for (size_t s = 0; s < FUZZ_NSPECS; s++) {
        for (size_t k = 0; k < FUZZ_NKINDS; k++) {
            rv_vm_reset(vm);
            /* Parsed again after each reset: a decision may rewrite it. */
            rv_doc *spec;
            FUZZ_CHECK(rv_vm_parse(vm, fuzz_specs[s], strlen(fuzz_specs[s]), RV_JSON, &spec, &err) == RV_OK,
                       "spec %zu: %s", s, err.message);
            rv_request req = {.kind = fuzz_kinds[k], .user = k % 2 ? "intern-x" : "alice", .project = k % 3 ? "research" : "p"};
            rv_decision d;
            rv_status st = rv_vm_eval(vm, prog, &req, spec, &d, &err);
            if (st == RV_OK) {
                const char *out;
                size_t len;
                FUZZ_CHECK(rv_vm_print(vm, d.spec, RV_JSON, 0, &out, &len, &err) == RV_OK,
                           "a decided spec does not print: %s", err.message);
            }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!vm)
        init();
    unsigned char *bytes = malloc(size ? size : 1);
    FUZZ_CHECK(bytes != NULL, "out of memory");
    memcpy(bytes, data, size);
    if (size >= 16) {
        put32(bytes + 8, (uint32_t)size);
        put32(bytes + 12, crc32_ieee(bytes + 16, size - 16));
    }
    rv_blob blob = {bytes, size, "fuzz.rbc"};
    rv_program *prog;
    rv_error err;
    rv_config cfg;
    rv_config_init(&cfg);
    cfg.instruction_budget = 100000;
    static int show = -1;
    if (show < 0)
        show = getenv("FUZZ_SHOW") != NULL;
    if (rv_program_load(&blob, 1, &cfg, &prog, &err) != RV_OK) {
        FUZZ_CHECK(err.message[0] != '\0', "a refusal without a message");
        if (show)  /* FUZZ_SHOW=1: whether an input got past the loader */
            fprintf(stderr, "refused: %s\n", err.message);
        free(bytes);
        return 0;
    }
    if (show)
        fprintf(stderr, "loaded: %zu policies\n", rv_program_policy_count(prog));
    /* Introspection reads every table the loader filled. */
    for (size_t i = 0; i < rv_program_policy_count(prog); i++) {
        rv_policy_info info;
        rv_program_policy(prog, i, &info);
        FUZZ_CHECK(info.name != NULL, "policy %zu has no name", i);
        for (size_t j = 0; j < info.nparams; j++) {
            const char *name, *json;
            rv_program_param(prog, i, j, &name, &json);
            FUZZ_CHECK(name && json, "policy %zu parameter %zu", i, j);
        }
    }
    evaluate(prog);
    rv_vm_reset(vm);
    const char *text;
    size_t len;
    FUZZ_CHECK(rv_program_disasm(prog, vm, &text, &len, &err) == RV_OK, "disasm: %s", err.message);
    /* What the VM writes of a verified program must verify again. */
    const void *saved;
    size_t saved_len;
    FUZZ_CHECK(rv_program_save(prog, vm, &saved, &saved_len, &err) == RV_OK, "save: %s", err.message);
    void *copy = malloc(saved_len);
    FUZZ_CHECK(copy != NULL, "out of memory");
    memcpy(copy, saved, saved_len);
    rv_blob again = {copy, saved_len, "saved.rbc"};
    rv_program *prog2;
    FUZZ_CHECK(rv_program_load(&again, 1, &cfg, &prog2, &err) == RV_OK, "a saved program does not load: %s",
               err.message);
    FUZZ_CHECK(rv_program_policy_count(prog2) == rv_program_policy_count(prog), "policies lost in saving");
    rv_program_free(prog2);
    free(copy);
    rv_program_free(prog);
    free(bytes);
    return 0;
}
