/* fuzz_yaml.c - libFuzzer target: arbitrary bytes as a YAML spec (what
 * SPDX-License-Identifier: Apache-2.0
 * `rulec apply` reads from a dstack or SkyPilot .yml file). Parsing must
 * fail with a message and a position, or give a document that
 * - prints as JSON and as YAML, each reading back as the same document
 *   (a printer that loses a type, e.g. an unquoted "yes" or "1.0", fails);
 * - printed as its own text (RV_VERBATIM), after edits chosen from the
 *   input's bytes (a value replaced, a key added, an item pushed: the
 *   public building calls), reads back as the edited document, as does
 *   every decided spec (the VM's own edits: yaml_edit.c);
 * - is evaluated, when it is a mapping, by the shipped policies and the
 *   opcode seed for every kind, and the decided spec prints.
 * Seeds: the YAML files under tests/data and rules/ (sh fuzz/seeds.sh).
 */
#include "fuzz.h"

#include <math.h>

static rv_program *prog;
static rv_vm *vm;

static void init(void)
{
    const char *paths[] = {"rules", "fuzz/seeds/opcodes.rules"};
    prog = fuzz_load_policies(paths, 2);
    rv_config cfg;
    rv_config_init(&cfg);
    cfg.instruction_budget = 200000;
    FUZZ_CHECK(rv_vm_new(&cfg, &vm) == RV_OK, "no VM");
}

/* Whether b, read back from a's printed text, is a: rv_doc_equal, except
 * that NaN reads back as NaN (it equals nothing, itself included), and in
 * JSON, which has no NaN or infinity, a non-finite number prints as null --
 * unless it kept digits JSON can hold (an integer too big for a double,
 * read from YAML: docs/yaml.md), which read back as the same number.
 * Members in order: printing keeps it. */
static bool same(const rv_doc *a, const rv_doc *b, rv_format fmt)
{
    rv_doc_type ta = rv_doc_kind(a), tb = rv_doc_kind(b);
    if (ta == RV_FLOAT && !isfinite(rv_doc_number(a))) {
        bool same_number = tb == RV_FLOAT && (isnan(rv_doc_number(a)) ? isnan(rv_doc_number(b))
                                                                      : rv_doc_number(a) == rv_doc_number(b));
        return fmt == RV_JSON ? tb == RV_NULL || (same_number && !isnan(rv_doc_number(a))) : same_number;
    }
    if (ta == RV_ARRAY || ta == RV_OBJECT) {
        if (ta != tb || rv_doc_len(a) != rv_doc_len(b))
            return false;
        for (size_t i = 0; i < rv_doc_len(a); i++) {
            if (ta == RV_OBJECT && strcmp(rv_doc_key(a, i), rv_doc_key(b, i)) != 0)
                return false;
            if (!same(ta == RV_ARRAY ? rv_doc_item(a, i) : rv_doc_value(a, i),
                      ta == RV_ARRAY ? rv_doc_item(b, i) : rv_doc_value(b, i), fmt))
                return false;
        }
        return true;
    }
    return rv_doc_equal(a, b);
}

/* Prints doc in fmt, parses the text again and checks it is the same. */
static void round_trip_flags(const rv_doc *doc, rv_format fmt, int flags)
{
    const char *out;
    size_t len;
    rv_error err;
    FUZZ_CHECK(rv_vm_print(vm, doc, fmt, flags, &out, &len, &err) == RV_OK, "print (%d): %s", (int)fmt,
               err.message);
    char *copy = malloc(len + 1);
    FUZZ_CHECK(copy != NULL, "out of memory");
    memcpy(copy, out, len + 1);
    rv_doc *again;
    FUZZ_CHECK(rv_vm_parse(vm, copy, len, fmt, &again, &err) == RV_OK,
               "printed %s does not read back: %s\n%s", fmt == RV_JSON ? "JSON" : "YAML", err.message, copy);
    FUZZ_CHECK(same(doc, again, fmt), "printed %s reads back as another document:\n%s",
               fmt == RV_JSON ? "JSON" : "YAML", copy);
    free(copy);
}

static void round_trip(const rv_doc *doc, rv_format fmt)
{
    round_trip_flags(doc, fmt, RV_PRETTY);
}

/* The n-th container of doc in document order (counting from 0), or NULL;
 * *seen counts them. */
static rv_doc *nth_container(rv_doc *doc, size_t n, size_t *seen)
{
    rv_doc_type t = rv_doc_kind(doc);
    if (t != RV_ARRAY && t != RV_OBJECT)
        return NULL;
    if ((*seen)++ == n)
        return doc;
    for (size_t i = 0; i < rv_doc_len(doc); i++) {
        rv_doc *c = nth_container(t == RV_ARRAY ? rv_doc_item(doc, i) : rv_doc_value(doc, i), n, seen);
        if (c)
            return c;
    }
    return NULL;
}

/* A value for an edit: text that must be quoted or laid out, numbers, a
 * mapping. */
static rv_doc *edit_value(uint32_t h)
{
    static const char *const texts[] = {"yes", "a: b", "x # y", "two\nlines\n", "", "- a", "{y}", "null"};
    switch (h % 4) {
    case 0:
        return rv_vm_new_string(vm, texts[(h >> 2) % 8]);
    case 1:
        return rv_vm_new_float(vm, (double)(h >> 2) / 4.0);
    case 2: {
        rv_doc *o = rv_vm_new_object(vm);
        if (o && rv_vm_object_put(vm, o, "k", rv_vm_new_string(vm, texts[(h >> 2) % 8])) != RV_OK)
            return NULL;
        return o;
    }
    default:
        return rv_vm_new_int(vm, (int64_t)(h >> 2));
    }
}

/* Edits doc in up to three places chosen from the input's bytes. */
static void edit(rv_doc *doc, const uint8_t *data, size_t size)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 16777619u;
    for (int k = 0; k < 3; k++, h = h * 1103515245u + 12345u) {
        size_t seen = 0;
        nth_container(doc, SIZE_MAX, &seen);
        size_t none = 0;
        rv_doc *c = nth_container(doc, (h >> 8) % (seen ? seen : 1), &none);
        rv_doc *v = edit_value(h >> 3);
        if (!c || !v)
            return;
        if (rv_doc_kind(c) == RV_ARRAY) {
            FUZZ_CHECK(rv_vm_array_push(vm, c, v) == RV_OK, "push");
        } else if (rv_doc_len(c) && (h & 1)) {
            FUZZ_CHECK(rv_vm_object_put(vm, c, rv_doc_key(c, (h >> 16) % rv_doc_len(c)), v) == RV_OK, "put");
        } else if (!rv_doc_get(c, "fuzz_added")) {
            FUZZ_CHECK(rv_vm_object_put(vm, c, "fuzz_added", v) == RV_OK, "add");
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!prog)
        init();
    rv_vm_reset(vm);
    rv_doc *doc;
    rv_error err;
    if (rv_vm_parse(vm, (const char *)data, size, RV_YAML, &doc, &err) != RV_OK) {
        FUZZ_CHECK(err.message[0] != '\0', "a refusal without a message");
        return 0;
    }
    round_trip(doc, RV_JSON);
    round_trip(doc, RV_YAML);
    round_trip_flags(doc, RV_YAML, RV_VERBATIM);
    if (rv_doc_kind(doc) != RV_OBJECT)
        return 0;
    for (size_t k = 0; k < FUZZ_NKINDS; k++) {
        rv_request req = {.kind = fuzz_kinds[k], .user = "intern-bob", .project = "research"};
        rv_decision d;
        if (rv_vm_eval(vm, prog, &req, doc, &d, &err) == RV_OK) {
            const char *out;
            size_t len;
            FUZZ_CHECK(rv_vm_print(vm, d.spec, RV_YAML, 0, &out, &len, &err) == RV_OK, "decided spec: %s",
                       err.message);
            round_trip_flags(d.spec, RV_YAML, RV_VERBATIM);
        }
    }
    /* A fresh copy of the text, edited through the public calls. */
    rv_vm_reset(vm);
    if (rv_vm_parse(vm, (const char *)data, size, RV_YAML, &doc, &err) != RV_OK)
        return 0;
    edit(doc, data, size);
    round_trip_flags(doc, RV_YAML, RV_VERBATIM);
    return 0;
}
