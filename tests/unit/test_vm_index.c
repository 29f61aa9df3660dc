/* test_vm_index.c - the evaluator's two shortcuts must never change a
 * SPDX-License-Identifier: Apache-2.0
 * decision: per-kind run lists (only policies for the request's kind run,
 * still in priority order with the "on *" ones interleaved) and path lookup
 * hints (a key found at a different position than last time is still found).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "helpers.h"

static char *eval_compact(rv_vm *vm, const rv_program *prog, const char *kind, const char *json)
{
    rv_vm_reset(vm);
    rv_doc *spec;
    rv_error err;
    assert_int_equal(rv_vm_parse(vm, json, strlen(json), RV_JSON, &spec, &err), RV_OK);
    rv_request req = {.kind = kind, .user = "u", .project = "p"};
    rv_decision d;
    assert_int_equal(rv_vm_eval(vm, prog, &req, spec, &d, &err), RV_OK);
    const char *out;
    size_t len;
    assert_int_equal(rv_vm_print(vm, d.spec, RV_JSON, 0, &out, &len, &err), RV_OK);
    return strdup(out);
}

static void test_kind_lists_keep_priority_order(void **state)
{
    (void)state;
    rc_input srcs[] = {
        {"a.rules", "policy \"a\" priority 1; on run { append trail \"a\"; }", 0, 0, 0, 0},
        {"b.rules", "policy \"b\" priority 2; on * { append trail \"b\"; }", 0, 0, 0, 0},
        {"c.rules", "policy \"c\" priority 3; on fleet, run { append trail \"c\"; }", 0, 0, 0, 0},
        {"d.rules", "policy \"d\" priority 4; on fleet { append trail \"d\"; }", 0, 0, 0, 0},
        {"e.rules", "policy \"e\" priority 0; on * { append trail \"e\"; }", 0, 0, 0, 0},
        {"f.rules", "policy \"f\" priority 5; on run { append trail \"f\"; } on gateway { append trail \"F\"; }", 0, 0, 0, 0},
    };
    for (size_t i = 0; i < 6; i++)
        srcs[i].size = strlen(srcs[i].data);
    rv_program *prog = compile_sources(srcs, 6, NULL);
    assert_non_null(prog);
    rv_vm *vm;
    assert_int_equal(rv_vm_new(NULL, &vm), RV_OK);
    char *out;
    out = eval_compact(vm, prog, "run", "{}");
    assert_string_equal(out, "{\"trail\":[\"e\",\"a\",\"b\",\"c\",\"f\"]}");
    free(out);
    out = eval_compact(vm, prog, "fleet", "{}");
    assert_string_equal(out, "{\"trail\":[\"e\",\"b\",\"c\",\"d\"]}");
    free(out);
    out = eval_compact(vm, prog, "gateway", "{}");
    assert_string_equal(out, "{\"trail\":[\"e\",\"b\",\"F\"]}");
    free(out);
    /* A kind no policy names still gets the "on *" policies. */
    out = eval_compact(vm, prog, "volume", "{}");
    assert_string_equal(out, "{\"trail\":[\"e\",\"b\"]}");
    free(out);
    out = eval_compact(vm, prog, "", "{}");
    assert_string_equal(out, "{\"trail\":[\"e\",\"b\"]}");
    free(out);
    rv_vm_free(vm);
    rv_program_free(prog);
}

/* The same VM sees specs whose keys sit at different positions: each read
 * and write must find its key, whatever the previous spec looked like. */
static void test_lookup_hints_never_mislead(void **state)
{
    (void)state;
    rv_program *prog = compile_text(
        "on * {\n"
        "    set out.a = conf.a;\n"
        "    set out.b = conf.b ?? \"none\";\n"
        "    set conf.c = 3;\n"
        "    set out.n = conf.nested.k;\n"
        "}\n");
    assert_non_null(prog);
    rv_vm *vm;
    assert_int_equal(rv_vm_new(NULL, &vm), RV_OK);
    const char *specs[] = {
        "{\"conf\":{\"a\":1,\"b\":2,\"c\":0,\"nested\":{\"k\":\"x\"}}}",
        "{\"conf\":{\"c\":0,\"b\":20,\"a\":10,\"nested\":{\"z\":0,\"k\":\"y\"}}}",
        "{\"conf\":{\"a\":100}}",
        "{\"x\":1,\"conf\":{\"zz\":1,\"zy\":2,\"a\":7,\"b\":8}}",
        "{\"conf\":{\"b\":5}}",
        "{\"conf\":{\"a\":1,\"b\":2,\"c\":0,\"nested\":{\"k\":\"x\"}}}",
    };
    const char *want[] = {
        "{\"conf\":{\"a\":1,\"b\":2,\"c\":3,\"nested\":{\"k\":\"x\"}},\"out\":{\"a\":1,\"b\":2,\"n\":\"x\"}}",
        "{\"conf\":{\"c\":3,\"b\":20,\"a\":10,\"nested\":{\"z\":0,\"k\":\"y\"}},\"out\":{\"a\":10,\"b\":20,\"n\":\"y\"}}",
        "{\"conf\":{\"a\":100,\"c\":3},\"out\":{\"a\":100,\"b\":\"none\",\"n\":null}}",
        "{\"x\":1,\"conf\":{\"zz\":1,\"zy\":2,\"a\":7,\"b\":8,\"c\":3},\"out\":{\"a\":7,\"b\":8,\"n\":null}}",
        "{\"conf\":{\"b\":5,\"c\":3},\"out\":{\"a\":null,\"b\":5,\"n\":null}}",
        "{\"conf\":{\"a\":1,\"b\":2,\"c\":3,\"nested\":{\"k\":\"x\"}},\"out\":{\"a\":1,\"b\":2,\"n\":\"x\"}}",
    };
    for (size_t i = 0; i < 6; i++) {
        char *out = eval_compact(vm, prog, "run", specs[i]);
        assert_string_equal(out, want[i]);
        free(out);
    }
    /* A second program in the same VM (more path segments) is fine too. */
    rv_program *other = compile_text("on * { set p.q.r.s = t.u.v ?? 1; set conf.a = 0; }");
    assert_non_null(other);
    char *out = eval_compact(vm, other, "run", specs[0]);
    assert_string_equal(out, "{\"conf\":{\"a\":0,\"b\":2,\"c\":0,\"nested\":{\"k\":\"x\"}},"
                             "\"p\":{\"q\":{\"r\":{\"s\":1}}}}");
    free(out);
    out = eval_compact(vm, prog, "run", specs[1]);
    assert_string_equal(out, want[1]);
    free(out);
    rv_program_free(other);
    rv_vm_free(vm);
    rv_program_free(prog);
}

/* Making room for a write through a non-object throws a value away: the
 * change list must show that, not only the new leaf. */
static void test_replaced_values_are_changes(void **state)
{
    (void)state;
    rv_program *prog = compile_text("on * { set a.b = 1; set n.m = 2; set l[0].q = 3; }");
    assert_non_null(prog);
    rv_vm *vm;
    assert_int_equal(rv_vm_new(NULL, &vm), RV_OK);
    const char *json = "{\"a\": 5, \"n\": null, \"l\": [\"s\"]}";
    rv_doc *spec;
    rv_error err;
    assert_int_equal(rv_vm_parse(vm, json, strlen(json), RV_JSON, &spec, &err), RV_OK);
    rv_request req = {.kind = "run", .user = "u", .project = "p"};
    rv_decision d;
    assert_int_equal(rv_vm_eval(vm, prog, &req, spec, &d, &err), RV_OK);
    /* a (5 replaced), a.b, n.m (a null is not a value lost), l[0] ("s"
     * replaced), l[0].q */
    assert_int_equal(d.nchanges, 5);
    assert_string_equal(d.changes[0].path, "a");
    assert_int_equal(rv_doc_int(d.changes[0].old_value), 5);
    assert_string_equal(d.changes[1].path, "a.b");
    assert_string_equal(d.changes[2].path, "n.m");
    assert_string_equal(d.changes[3].path, "l[0]");
    assert_string_equal(rv_doc_string(d.changes[3].old_value), "s");
    assert_string_equal(d.changes[4].path, "l[0].q");
    rv_vm_free(vm);
    rv_program_free(prog);
}

/* rv_program_declares: what hosts ask before a per-policy override. */
static void test_declares(void **state)
{
    (void)state;
    rv_program *prog = compile_text("param team = \"a\";\nparam cap = 2;\non * { set t = $team; }\n");
    assert_non_null(prog);
    assert_int_equal(rv_program_declares(prog, 0, "team"), 1);
    assert_int_equal(rv_program_declares(prog, 0, "cap"), 1);
    assert_int_equal(rv_program_declares(prog, 0, "other"), 0);
    assert_int_equal(rv_program_declares(prog, 1, "team"), 0);   /* no policy 1 */
    assert_int_equal(rv_program_declares(prog, 0, NULL), 0);
    assert_int_equal(rv_program_declares(NULL, 0, "team"), 0);
    rv_program_free(prog);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kind_lists_keep_priority_order),
        cmocka_unit_test(test_lookup_hints_never_mislead),
        cmocka_unit_test(test_replaced_values_are_changes),
        cmocka_unit_test(test_declares),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
