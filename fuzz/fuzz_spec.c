/* fuzz_spec.c - libFuzzer target: arbitrary bytes as a spec (JSON, YAML and
 * SPDX-License-Identifier: Apache-2.0
 * auto-detected), evaluated by the example policy and printed back in both
 * formats. Parsing must fail cleanly or produce a tree that evaluates and
 * prints; printed YAML and JSON must parse again. A JSON text read as JSON
 * must also come back as itself: printed with RV_VERBATIM, untouched, it is
 * the input without its outer blanks (and byte order mark), and in every
 * layout it reads back equal; so must a spec a decision rejected, and a
 * spec a decision rewrote reads back equal to the rewritten tree.
 */
#include "helpers.h"

#include <stdint.h>
#include <stdlib.h>

static rv_program *prog;
static rv_vm *vm;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input's JSON text without the blanks around it and a leading BOM. */
static void trimmed(const char *t, size_t n, const char **start, size_t *len)
{
    size_t a = 0, b = n;
    if (n >= 3 && memcmp(t, "\xEF\xBB\xBF", 3) == 0)
        a = 3;
    while (a < b && (t[a] == ' ' || t[a] == '\t' || t[a] == '\n' || t[a] == '\r'))
        a++;
    while (b > a && (t[b - 1] == ' ' || t[b - 1] == '\t' || t[b - 1] == '\n' || t[b - 1] == '\r'))
        b--;
    *start = t + a;
    *len = b - a;
}

/* Prints doc with flags and reads it back in fmt: it must read, and (JSON
 * from JSON, where no NaN can occur) equal the document. */
static void reads_back(const rv_doc *doc, rv_format fmt, int flags, int must_equal)
{
    const char *out;
    size_t len;
    rv_error err;
    if (rv_vm_print(vm, doc, fmt, flags, &out, &len, &err) != RV_OK)
        return;
    char *copy = malloc(len + 1);
    if (!copy)
        abort();
    memcpy(copy, out, len + 1);
    rv_doc *again;
    if (rv_vm_parse(vm, copy, len, fmt, &again, &err) != RV_OK)
        abort();  /* what we print must read back */
    if (must_equal && !rv_doc_equal(doc, again))
        abort();
    free(copy);
}

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
        int json = formats[f] == RV_JSON;
        if (json) {
            const char *t;
            size_t n;
            trimmed((const char *)data, size, &t, &n);
            if (rv_vm_print(vm, doc, RV_JSON, RV_VERBATIM, &out, &len, &err) == RV_OK &&
                (len != n || memcmp(out, t, n) != 0))
                abort();  /* untouched JSON comes back as it came in */
            reads_back(doc, RV_JSON, 0, 1);
        }
        reads_back(doc, RV_JSON, RV_PRETTY, json);
        reads_back(doc, RV_YAML, RV_PRETTY, 0);
        if (rv_doc_kind(doc) == RV_OBJECT) {
            rv_request req = {.kind = "run", .user = "u", .project = "p"};
            rv_decision d;
            if (rv_vm_eval(vm, prog, &req, doc, &d, &err) == RV_OK) {
                /* what a policy changed, laid out among what it did not */
                reads_back(d.spec, RV_JSON, RV_VERBATIM, json);
                if (json && !d.allowed) {
                    const char *t;
                    size_t n;
                    trimmed((const char *)data, size, &t, &n);
                    if (rv_vm_print(vm, d.spec, RV_JSON, RV_VERBATIM, &out, &len, &err) == RV_OK &&
                        (len != n || memcmp(out, t, n) != 0))
                        abort();  /* a rejected spec, as received */
                }
            }
        }
    }
    return 0;
}
