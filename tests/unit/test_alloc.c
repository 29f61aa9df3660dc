/* test_alloc.c - the allocator hook is always told the truth: every block
 * SPDX-License-Identifier: Apache-2.0
 * the library frees or grows comes back with the size it was allocated
 * with (PCRE2's blocks included, whose own free hook has no size), and a
 * program and a VM return every block when freed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "helpers.h"

/* A counting allocator that remembers each block's size in a header and
 * counts, rather than asserts, a wrong old size: the allocator runs inside
 * the library, where a longjmp out of cmocka's assert would leak. */
typedef union hdr {
    max_align_t a;
    size_t size;
} hdr;

typedef struct counts {
    long allocs, frees, reallocs;
    long wrong_osize;   /* frees and reallocs told a size other than the real one */
    long live;          /* blocks allocated and not yet freed */
    size_t live_bytes;
} counts;

static void *counting_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    counts *c = ud;
    hdr *h = ptr ? (hdr *)ptr - 1 : NULL;
    if (h && h->size != osize) {
        c->wrong_osize++;
        fprintf(stderr, "block %p of %zu bytes released or resized with osize %zu\n", ptr,
                h->size, osize);
    }
    if (nsize == 0) {
        if (h) {
            c->frees++;
            c->live--;
            c->live_bytes -= h->size;
            free(h);
        }
        return NULL;
    }
    hdr *n = realloc(h, sizeof(hdr) + nsize);
    if (!n)
        return NULL;
    if (h) {
        c->reallocs++;
        c->live_bytes -= n->size;
    } else {
        c->allocs++;
        c->live++;
    }
    n->size = nsize;
    c->live_bytes += nsize;
    return n + 1;
}

/* Compiles text into bundle bytes (malloc'd) so the load itself runs on the
 * counting allocator. */
static char *compile_bundle(const char *text, size_t *len)
{
    rc_report *report = rc_report_new();
    rc_input in = {"alloc.rules", text, strlen(text), 0, 0, 0};
    rv_program *prog;
    char *bytes = NULL;
    if (report && rc_load(report, &in, 1, &(rc_options){NULL, RC_BUNDLE, "any"}, &prog) == RC_OK) {
        size_t n;
        const void *bundle = rc_report_bundle(report, &n);
        if ((bytes = malloc(n))) {
            memcpy(bytes, bundle, n);
            *len = n;
        }
        rv_program_free(prog);
    } else if (report) {
        fputs(rc_report_text(report, "test_alloc", NULL), stderr);
    }
    rc_report_free(report);
    return bytes;
}

static const char policy_text[] =
    "policy \"alloc\";\n"
    "param prefix = \"intern-\";\n"
    "on run {\n"
    "    match $user =~ /^intern-/ {\n"
    "        set configuration.max_price = 1.0;\n"
    "    }\n"
    "    warn-if configuration.image != null and configuration.image =~ /:latest$/i:\n"
    "        \"pin a version instead of :latest\";\n"
    "    forbid-if any v in configuration.volumes: v.name =~ /^scratch-/ :\n"
    "        \"scratch volumes are not allowed\";\n"
    "}\n";

static void test_every_free_passes_its_size(void **state)
{
    (void)state;
    size_t len = 0;
    char *bytes = compile_bundle(policy_text, &len);
    assert_non_null(bytes);

    counts c = {0};
    rv_config cfg;
    rv_config_init(&cfg);
    cfg.alloc = counting_alloc;
    cfg.alloc_ud = &c;

    rv_program *prog;
    rv_error err;
    rv_blob blob = {bytes, len, "alloc.rbc"};
    assert_int_equal(rv_program_load(&blob, 1, &cfg, &prog, &err), RV_OK);
    free(bytes);
    long after_load = c.allocs;
    assert_true(after_load > 0);
    assert_int_equal(rv_program_set_param(prog, NULL, "prefix", "\"trainee-\"", &err), RV_OK);

    rv_vm *vm;
    assert_int_equal(rv_vm_new(&cfg, &vm), RV_OK);
    static const char *const specs[] = {
        "{\"configuration\": {\"image\": \"x:latest\", \"volumes\": [{\"name\": \"data\"}]}}",
        "{\"configuration\": {\"volumes\": [{\"name\": \"scratch-1\"}]}}",
        "configuration:\n  image: python:3.12\n",
    };
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < sizeof specs / sizeof *specs; i++) {
            rv_doc *spec;
            assert_int_equal(rv_vm_parse(vm, specs[i], strlen(specs[i]), RV_AUTO, &spec, &err),
                             RV_OK);
            rv_request req = {.kind = "run", .user = i == 0 ? "intern-bob" : "alice", .project = "main"};
            rv_decision d;
            assert_int_equal(rv_vm_eval(vm, prog, &req, spec, &d, &err), RV_OK);
            assert_int_equal(d.allowed, i != 1);
            const char *out;
            size_t outlen;
            assert_int_equal(rv_vm_print(vm, d.spec, RV_YAML, 0, &out, &outlen, &err), RV_OK);
            assert_int_equal(rv_vm_print(vm, d.spec, RV_JSON, RV_PRETTY, &out, &outlen, &err),
                             RV_OK);
            rv_vm_reset(vm);
        }
    }

    const char *listing;
    size_t listing_len;
    assert_int_equal(rv_program_disasm(prog, vm, &listing, &listing_len, &err), RV_OK);
    assert_non_null(strstr(listing, "R[0] = /^intern-/"));
    assert_int_equal(strlen(listing), listing_len);

    rv_vm_free(vm);
    rv_program_free(prog);

    assert_int_equal(c.wrong_osize, 0);
    assert_int_equal(c.live, 0);
    assert_int_equal(c.live_bytes, 0);
    assert_int_equal(c.frees, c.allocs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_free_passes_its_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
