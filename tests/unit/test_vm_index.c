/* test_vm_index.c - the evaluator's shortcuts must never change a
 * SPDX-License-Identifier: Apache-2.0
 * decision: per-kind run lists (only policies for the request's kind run,
 * still in priority order with the "on *" ones interleaved), path lookup
 * hints (a key found at a different position than last time is still
 * found), the lookup memo (a value read before an edit is never read after
 * it), path slots shared by prefix, and the trace's own dispatch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "helpers.h"
#include "program.h"

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

/* Each read of a path is followed by one edit of a different kind and the
 * same read again; warnings record what was read, since a warning, unlike
 * a write, edits nothing that would make the memo forget by itself. */
static void test_memo_sees_every_edit(void **state)
{
    (void)state;
    rv_program *prog = compile_text(
        "on * {\n"
        "    warn \"x={conf.x}\";\n"
        "    set conf.x = 1;\n"                      /* a member added */
        "    warn \"x={conf.x}\";\n"
        "    warn \"b={conf.b}\";\n"
        "    set conf.b = 7;\n"                      /* a value replaced */
        "    warn \"b={conf.b}\";\n"
        "    warn \"yz={conf.y.z}\";\n"
        "    set conf.y = {z: 2};\n"                 /* a missing object made */
        "    warn \"yz={conf.y.z}\";\n"
        "    warn \"a={conf.a}\";\n"
        "    unset conf.a;\n"                        /* a member removed */
        "    warn \"a={conf.a}\";\n"
        "    warn \"v={conf.list[0].v}\";\n"
        "    each g in conf.list { set g.v = 9; }\n" /* through an element */
        "    warn \"v={conf.list[0].v}\";\n"
        "    warn \"nm={conf.n.m}\";\n"
        "    set conf.n.m = 3;\n"                    /* a null made an object */
        "    warn \"nm={conf.n.m}\";\n"
        "    warn \"s={conf.s}\";\n"
        "    append conf.s 4;\n"                     /* a list grown */
        "    warn \"s={conf.s}\";\n"
        "    warn \"t={conf.t}\";\n"
        "    append-tags conf.t {k: \"v\"};\n"         /* a tag added */
        "    warn \"t={conf.t}\";\n"
        "}\n");
    assert_non_null(prog);
    rv_vm *vm;
    assert_int_equal(rv_vm_new(NULL, &vm), RV_OK);
    const char *json = "{\"conf\":{\"a\":5,\"b\":6,\"list\":[{\"v\":1}],\"n\":null,"
                       "\"s\":[3],\"t\":{}}}";
    const char *want[] = {"x=null", "x=1", "b=6", "b=7", "yz=null", "yz=2", "a=5", "a=null",
                          "v=1", "v=9", "nm=null", "nm=3", "s=[3]", "s=[3,4]", "t={}",
                          "t={\"k\":\"v\"}"};
    for (int round = 0; round < 2; round++) {  /* a second decision on a reset VM too */
        rv_vm_reset(vm);
        rv_doc *spec;
        rv_error err;
        assert_int_equal(rv_vm_parse(vm, json, strlen(json), RV_JSON, &spec, &err), RV_OK);
        rv_request req = {.kind = "run", .user = "u", .project = "p"};
        rv_decision d;
        assert_int_equal(rv_vm_eval(vm, prog, &req, spec, &d, &err), RV_OK);
        assert_int_equal(d.nwarnings, sizeof want / sizeof *want);
        for (size_t i = 0; i < d.nwarnings; i++)
            assert_string_equal(d.warnings[i].text, want[i]);
    }
    rv_vm_free(vm);
    rv_program_free(prog);
}

/* The same keys from a path's start share a slot, in every policy of the
 * set; anything else (another key, the same key under another parent, a
 * key against an index) gets a slot of its own. */
static const rv_path *path_named(const rv_policy *p, const char *text)
{
    for (uint32_t j = 0; j < p->npaths; j++)
        if (strcmp(p->paths[j].text, text) == 0)
            return &p->paths[j];
    fail_msg("no path %s", text);
    return NULL;
}

static void test_path_slots_by_prefix(void **state)
{
    (void)state;
    rc_input srcs[] = {
        {"a.rules", "policy \"a\"; on * { set r.x = a.b.c ?? a.b.d ?? a.e[0].c; }", 0, 0, 0, 0},
        {"b.rules", "policy \"b\"; on * { set r.y = a.b.c ?? b.b.c ?? a.e[1].c ?? a.e.c; }", 0, 0, 0, 0},
    };
    for (size_t i = 0; i < 2; i++)
        srcs[i].size = strlen(srcs[i].data);
    rv_program *prog = compile_sources(srcs, 2, NULL);
    assert_non_null(prog);
    const rv_policy *pa = prog->policies[0], *pb = prog->policies[1];
    assert_string_equal(pa->name, "a");
    const rv_path *abc = path_named(pa, "a.b.c"), *abd = path_named(pa, "a.b.d");
    const rv_path *ae0c = path_named(pa, "a.e[0].c"), *rx = path_named(pa, "r.x");
    const rv_path *abc2 = path_named(pb, "a.b.c"), *bbc = path_named(pb, "b.b.c");
    const rv_path *ae1c = path_named(pb, "a.e[1].c"), *aec = path_named(pb, "a.e.c");
    const rv_path *ry = path_named(pb, "r.y");
    /* shared prefixes, across policies */
    assert_int_equal(abc->segs[0].slot, abd->segs[0].slot);
    assert_int_equal(abc->segs[1].slot, abd->segs[1].slot);
    assert_int_equal(abc->segs[0].slot, ae0c->segs[0].slot);
    assert_int_equal(abc->segs[2].slot, abc2->segs[2].slot);
    assert_int_equal(ae0c->segs[1].slot, aec->segs[1].slot);
    assert_int_equal(rx->segs[0].slot, ry->segs[0].slot);
    /* and nothing else */
    assert_int_not_equal(abc->segs[2].slot, abd->segs[2].slot);
    assert_int_not_equal(abc->segs[1].slot, ae0c->segs[1].slot);
    assert_int_not_equal(abc->segs[1].slot, bbc->segs[1].slot);
    assert_int_not_equal(abc->segs[2].slot, bbc->segs[2].slot);
    assert_int_not_equal(ae0c->segs[2].slot, ae1c->segs[2].slot);
    assert_int_not_equal(ae0c->segs[2].slot, aec->segs[2].slot);
    assert_int_not_equal(rx->segs[1].slot, ry->segs[1].slot);
    /* a a.b a.b.c a.b.d a.e a.e[0] a.e[0].c a.e[1] a.e[1].c a.e.c b b.b b.b.c
     * r r.x r.y */
    assert_int_equal(prog->nsegs, 16);
    for (uint32_t i = 0; i < prog->npolicies; i++)
        for (uint32_t j = 0; j < prog->policies[i]->npaths; j++)
            for (uint32_t k = 0; k < prog->policies[i]->paths[j].nseg; k++)
                assert_true(prog->policies[i]->paths[j].segs[k].slot < prog->nsegs);
    rv_program_free(prog);
}

/* A trace sees every instruction once, and each conditional jump's
 * outcome, as the decision counts them. */
typedef struct trace_count {
    uint64_t steps, taken, not_taken;
} trace_count;

static void count_trace(void *ud, size_t policy, uint32_t pc, int taken)
{
    (void)policy;
    (void)pc;
    trace_count *t = ud;
    if (taken < 0)
        t->steps++;
    else if (taken)
        t->taken++;
    else
        t->not_taken++;
}

static void test_trace_sees_every_instruction(void **state)
{
    (void)state;
    rv_program *prog = compile_text(
        "on * {\n"
        "    forbid-if a.b > 1: \"big\";\n"
        "    each g in xs { set g.k = 1; }\n"
        "    match a.c == null { set a.c = 2; }\n"
        "}\n");
    assert_non_null(prog);
    rv_vm *vm;
    assert_int_equal(rv_vm_new(NULL, &vm), RV_OK);
    const char *json = "{\"a\":{\"b\":0},\"xs\":[{},{},{}]}";
    rv_decision d;
    rv_error err;
    rv_request req = {.kind = "run", .user = "u", .project = "p"};
    rv_doc *spec;
    assert_int_equal(rv_vm_parse(vm, json, strlen(json), RV_JSON, &spec, &err), RV_OK);
    assert_int_equal(rv_vm_eval(vm, prog, &req, spec, &d, &err), RV_OK);
    uint64_t untraced = d.instructions;
    trace_count t = {0, 0, 0};
    rv_vm_set_trace(vm, count_trace, &t);
    rv_vm_reset(vm);
    assert_int_equal(rv_vm_parse(vm, json, strlen(json), RV_JSON, &spec, &err), RV_OK);
    assert_int_equal(rv_vm_eval(vm, prog, &req, spec, &d, &err), RV_OK);
    assert_int_equal(d.instructions, untraced);
    assert_int_equal(t.steps, d.instructions);
    /* forbid-if not taken past (0 > 1 is false: jumps), match taken into */
    assert_true(t.taken + t.not_taken >= 2);
    rv_vm_set_trace(vm, NULL, NULL);
    uint64_t before = t.steps;
    rv_vm_reset(vm);
    assert_int_equal(rv_vm_parse(vm, json, strlen(json), RV_JSON, &spec, &err), RV_OK);
    assert_int_equal(rv_vm_eval(vm, prog, &req, spec, &d, &err), RV_OK);
    assert_int_equal(t.steps, before);  /* off again */
    rv_vm_free(vm);
    rv_program_free(prog);
}

/* Member and list searches that take shortcuts (the first byte before the
 * rest, strings against strings only) answer as a full comparison does. */
static void test_searches_compare_whole_keys(void **state)
{
    (void)state;
    rv_program *prog = compile_text(
        "on * {\n"
        "    warn \"{m[\\\"\\\"]} {m.ab} {m.ac} {m.bc} {m[\\\"a\\\"]} {m.abc} {m.zz}\";\n"
        "    warn \"{\\\"1\\\" in [1, \\\"2\\\"]} {\\\"2\\\" in [1, \\\"2\\\"]} {1 in [\\\"1\\\", 1.0]}"
        " {\\\"\\\" in [null, \\\"\\\"]} {\\\"ab\\\" in [\\\"ac\\\", \\\"ba\\\"]} {$kind in [\\\"run\\\"]}\";\n"
        "}\n");
    assert_non_null(prog);
    rv_vm *vm;
    assert_int_equal(rv_vm_new(NULL, &vm), RV_OK);
    const char *json = "{\"m\":{\"ac\":1,\"bc\":2,\"ab\":3,\"\":4,\"a\":5,\"abd\":6}}";
    rv_doc *spec;
    rv_error err;
    assert_int_equal(rv_vm_parse(vm, json, strlen(json), RV_JSON, &spec, &err), RV_OK);
    rv_request req = {.kind = "run", .user = "u", .project = "p"};
    rv_decision d;
    assert_int_equal(rv_vm_eval(vm, prog, &req, spec, &d, &err), RV_OK);
    assert_int_equal(d.nwarnings, 2);
    assert_string_equal(d.warnings[0].text, "4 3 1 2 5 null null");
    assert_string_equal(d.warnings[1].text, "false true true true false true");
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
        cmocka_unit_test(test_memo_sees_every_edit),
        cmocka_unit_test(test_path_slots_by_prefix),
        cmocka_unit_test(test_trace_sees_every_instruction),
        cmocka_unit_test(test_searches_compare_whole_keys),
        cmocka_unit_test(test_declares),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
