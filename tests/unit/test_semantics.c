/* test_semantics.c - pins the behaviour of the rules language
 * SPDX-License-Identifier: Apache-2.0
 * (the language contract plus the project's decisions, docs/language.md): every statement,
 * operator, literal, unit, function and quantifier, evaluation order,
 * rollback, kinds, policy sets, parameters and limits.
 *
 * Style: run() compiles a policy, evaluates it on a JSON spec and keeps the
 * compact-printed result; V()/VS() evaluate one expression (by writing it
 * to a fresh key `rr` of the spec) and return its compact JSON; T()/TS()
 * give an expression's truthiness as seen by `match`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "helpers.h"

/* ------------------------------------------------------------------ */
/* helpers                                                             */
/* ------------------------------------------------------------------ */

static rv_vm *vm;          /* reset before every evaluation */
static rv_program *cur;    /* the program of the last run() */

/* Strings handed back by the helpers are copied into a ring so a test may
 * hold several at once. */
static char *ring[32];
static int ringi;

static const char *keep(const char *s, size_t n)
{
    free(ring[ringi]);
    ring[ringi] = strndup(s, n);
    const char *r = ring[ringi];
    ringi = (ringi + 1) % 32;
    return r;
}

typedef struct res {
    rv_status st;       /* of rv_vm_eval */
    rv_decision d;      /* valid when st == RV_OK, until the next run */
    const char *out;    /* compact JSON of the spec after the call */
    rv_error err;
} res;

static const char *print_compact(const rv_doc *doc)
{
    const char *text;
    size_t len;
    rv_error err;
    assert_int_equal(rv_vm_print(vm, doc, RV_JSON, 0, &text, &len, &err), RV_OK);
    return keep(text, len);
}

static const char *request_json;   /* $request for the next evaluations, or NULL */

static res eval_full(rv_vm *v, const rv_program *prog, const char *kind, const char *user,
                     const char *project, const char *spec_json)
{
    res r;
    memset(&r, 0, sizeof r);
    rv_vm_reset(v);
    rv_doc *spec;
    rv_error err;
    rv_status ps = rv_vm_parse(v, spec_json, strlen(spec_json), RV_JSON, &spec, &err);
    if (ps != RV_OK)
        fail_msg("bad test spec %s: %s", spec_json, err.message);
    rv_request req = {.kind = kind, .user = user, .project = project};
    rv_doc *request = NULL;
    if (request_json) {
        ps = rv_vm_parse(v, request_json, strlen(request_json), RV_JSON, &request, &err);
        if (ps != RV_OK)
            fail_msg("bad test request %s: %s", request_json, err.message);
        req.request = request;
    }
    r.st = rv_vm_eval(v, prog, &req, spec, &r.d, &r.err);
    const char *text;
    size_t len;
    assert_int_equal(rv_vm_print(v, r.st == RV_OK ? r.d.spec : spec, RV_JSON, 0, &text, &len,
                                 &err),
                     RV_OK);
    r.out = keep(text, len);
    return r;
}

static res eval_prog(const rv_program *prog, const char *kind, const char *user,
                     const char *spec_json)
{
    return eval_full(vm, prog, kind, user, "proj", spec_json);
}

static void set_cur(rv_program *p)
{
    if (cur)
        rv_program_free(cur);
    cur = p;
}

static rv_program *must_compile(const char *policy)
{
    rv_program *p = compile_text(policy);
    if (!p)
        fail_msg("policy did not compile:\n%s", policy);
    return p;
}

/* Compiles policy, evaluates it and expects RV_OK. */
static res run(const char *policy, const char *kind, const char *user, const char *spec_json)
{
    set_cur(must_compile(policy));
    res r = eval_prog(cur, kind, user, spec_json);
    if (r.st != RV_OK)
        fail_msg("eval failed (%s): %s\npolicy:\n%s", rv_status_name(r.st), r.err.message,
                 policy);
    return r;
}

/* Shorthand: kind run, user alice, and the printed spec. */
static const char *R(const char *policy, const char *spec_json)
{
    return run(policy, "run", "alice", spec_json).out;
}

/* Value of expr (compact JSON) over spec: `set rr = (expr)`. */
static const char *VS(const char *expr, const char *spec_json)
{
    char pol[4096];
    snprintf(pol, sizeof pol, "on * {\n  set rr = (%s);\n}\n", expr);
    res r = run(pol, "run", "alice", spec_json);
    assert_true(r.d.allowed);
    const char *at = strstr(r.out, "\"rr\":");
    if (!at)
        fail_msg("no rr in %s (expr %s)", r.out, expr);
    at += 5;
    size_t n = strlen(at);
    assert_true(n >= 1 && at[n - 1] == '}');
    return keep(at, n - 1);
}

static const char *V(const char *expr)
{
    return VS(expr, "{}");
}

/* Truthiness of expr as a match condition, over spec. */
static int TS(const char *expr, const char *spec_json)
{
    char pol[4096];
    snprintf(pol, sizeof pol,
             "on * {\n  match %s {\n    warn \"yes\";\n  } else {\n    warn \"no\";\n  }\n}\n",
             expr);
    res r = run(pol, "run", "alice", spec_json);
    assert_int_equal(r.d.nwarnings, 1);
    return strcmp(r.d.warnings[0].text, "yes") == 0;
}

static int T(const char *expr)
{
    return TS(expr, "{}");
}

/* Evaluation error of expr over spec: `set rr = (expr)`, after a write
 * that must be undone, stops the decision with RV_EEVAL and leaves the
 * spec exactly as it came (spec_json is given compact). Returns the
 * message; the expression is on line 3 of policy "test". */
static const char *ES(const char *expr, const char *spec_json)
{
    char pol[4096];
    snprintf(pol, sizeof pol, "on * {\n  set before = 1;\n  set rr = (%s);\n}\n", expr);
    set_cur(must_compile(pol));
    res r = eval_prog(cur, "run", "alice", spec_json);
    if (r.st != RV_EEVAL)
        fail_msg("%s over %s: got %s (%s), want RV_EEVAL", expr, spec_json, rv_status_name(r.st),
                 r.out);
    assert_int_equal(r.err.status, RV_EEVAL);
    assert_string_equal(r.out, spec_json);  /* restored */
    return keep(r.err.message, strlen(r.err.message));
}

static const char *E(const char *expr)
{
    return ES(expr, "{}");
}

/* Text of the single warning a `warn "<msg>"` produces. */
static const char *MSG(const char *msg_literal_body, const char *spec_json)
{
    char pol[4096];
    snprintf(pol, sizeof pol, "on * {\n  warn \"%s\";\n}\n", msg_literal_body);
    res r = run(pol, "run", "alice", spec_json);
    assert_int_equal(r.d.nwarnings, 1);
    return keep(r.d.warnings[0].text, strlen(r.d.warnings[0].text));
}

static const char *doc_json(const rv_doc *d)
{
    if (!d)
        return "(missing)";
    return print_compact(d);
}

static int setup(void **state)
{
    (void)state;
    return rv_vm_new(NULL, &vm) == RV_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    set_cur(NULL);
    rv_vm_free(vm);
    for (int i = 0; i < 32; i++) {
        free(ring[i]);
        ring[i] = NULL;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* statements                                                          */
/* ------------------------------------------------------------------ */

static void test_set(void **state)
{
    (void)state;
    /* creates missing intermediate objects */
    res r = run("on * { set a.b.c = 1; }", "run", "u", "{}");
    assert_true(r.d.allowed);
    assert_string_equal(r.out, "{\"a\":{\"b\":{\"c\":1}}}");
    assert_int_equal(r.d.nchanges, 1);
    assert_string_equal(r.d.changes[0].path, "a.b.c");
    assert_null(r.d.changes[0].old_value);
    assert_string_equal(doc_json(r.d.changes[0].new_value), "1");

    /* existing intermediates are kept, keys keep their order */
    assert_string_equal(R("on * { set a.b = 2; }", "{\"x\":0,\"a\":{\"c\":1,\"b\":1},\"y\":0}"),
                        "{\"x\":0,\"a\":{\"c\":1,\"b\":2},\"y\":0}");
    /* a non-object intermediate is replaced by an object */
    assert_string_equal(R("on * { set a.b = 1; }", "{\"a\":5}"), "{\"a\":{\"b\":1}}");
    assert_string_equal(R("on * { set a.b.c = 1; }", "{\"a\":\"s\"}"),
                        "{\"a\":{\"b\":{\"c\":1}}}");
    assert_string_equal(R("on * { set a.b = 1; }", "{\"a\":[1,2]}"), "{\"a\":{\"b\":1}}");
    assert_string_equal(R("on * { set a.b = 1; }", "{\"a\":null}"), "{\"a\":{\"b\":1}}");
    /* replacing any value with any value, including null */
    assert_string_equal(R("on * { set a = null; }", "{\"a\":{\"b\":1}}"), "{\"a\":null}");
    assert_string_equal(R("on * { set a = [1, {b: \"x\"}]; }", "{\"a\":1}"),
                        "{\"a\":[1,{\"b\":\"x\"}]}");

    /* an equal value of the same type records no change */
    r = run("on * { set a = 1; set s = \"x\"; set l = [1, {k: true}]; set m = {q: 1, p: 2}; }",
            "run", "u", "{\"a\":1,\"s\":\"x\",\"l\":[1,{\"k\":true}],\"m\":{\"p\":2,\"q\":1}}");
    assert_int_equal(r.d.nchanges, 0);
    assert_string_equal(r.out, "{\"a\":1,\"s\":\"x\",\"l\":[1,{\"k\":true}],\"m\":{\"p\":2,\"q\":1}}");
    /* ... but a different type is a change (1 -> 1.0) */
    r = run("on * { set a = 1.0; }", "run", "u", "{\"a\":1}");
    assert_int_equal(r.d.nchanges, 1);
    assert_string_equal(r.out, "{\"a\":1.0}");
    assert_string_equal(doc_json(r.d.changes[0].old_value), "1");
    assert_string_equal(doc_json(r.d.changes[0].new_value), "1.0");
    r = run("on * { set a = null; }", "run", "u", "{\"a\":null}");
    assert_int_equal(r.d.nchanges, 0);
    r = run("on * { set f = 2.0; }", "run", "u", "{\"f\":2.0}");
    assert_int_equal(r.d.nchanges, 0);
    r = run("on * { set a = 2; }", "run", "u", "{\"a\":1}");
    assert_int_equal(r.d.nchanges, 1);
    assert_string_equal(doc_json(r.d.changes[0].old_value), "1");
}

/* The value set is the value that ends up in the spec: "equal" for the
 * no-change rule must be equal and of the same type all the way down,
 * so [1] over [1.0] (or {a: 1.0} over {a: 1}) is a change, as 1 over 1.0
 * is. */
static void test_set_nested_type_change(void **state)
{
    (void)state;
    res r = run("on * { set l = [1]; }", "run", "u", "{\"l\":[1.0]}");
    assert_string_equal(r.out, "{\"l\":[1]}");
    assert_int_equal(r.d.nchanges, 1);
    r = run("on * { set m = {a: 1.0}; }", "run", "u", "{\"m\":{\"a\":1}}");
    assert_string_equal(r.out, "{\"m\":{\"a\":1.0}}");
    assert_int_equal(r.d.nchanges, 1);
    /* the same through append-tags-free writes: default never replaces */
    r = run("on * { set c = configuration; }", "run", "u",
            "{\"configuration\":{\"x\":2},\"c\":{\"x\":2.0}}");
    assert_string_equal(r.out, "{\"configuration\":{\"x\":2},\"c\":{\"x\":2}}");
}

static void test_default(void **state)
{
    (void)state;
    assert_string_equal(R("on * { default a = 1; }", "{}"), "{\"a\":1}");
    assert_string_equal(R("on * { default a = 1; }", "{\"a\":null}"), "{\"a\":1}");
    assert_string_equal(R("on * { default a.b.c = 1; }", "{}"), "{\"a\":{\"b\":{\"c\":1}}}");
    /* present values, even falsy ones, are kept */
    res r = run("on * { default a = 1; default b = 1; default c = 1; default d = 1; "
                "default e = 1; }",
                "run", "u", "{\"a\":0,\"b\":false,\"c\":\"\",\"d\":[],\"e\":{}}");
    assert_int_equal(r.d.nchanges, 0);
    assert_string_equal(r.out, "{\"a\":0,\"b\":false,\"c\":\"\",\"d\":[],\"e\":{}}");
    r = run("on * { default a = 1; }", "run", "u", "{\"a\":null}");
    assert_int_equal(r.d.nchanges, 1);
    assert_string_equal(r.d.changes[0].path, "a");
    assert_non_null(r.d.changes[0].old_value);
    assert_string_equal(doc_json(r.d.changes[0].old_value), "null");
    /* a non-object intermediate is replaced for default as for set */
    assert_string_equal(R("on * { default a.b = 1; }", "{\"a\":5}"), "{\"a\":{\"b\":1}}");
}

static void test_unset(void **state)
{
    (void)state;
    res r = run("on * { unset a.b; }", "run", "u", "{\"a\":{\"x\":1,\"b\":2,\"y\":3}}");
    assert_string_equal(r.out, "{\"a\":{\"x\":1,\"y\":3}}");
    assert_int_equal(r.d.nchanges, 1);
    assert_string_equal(r.d.changes[0].path, "a.b");
    assert_string_equal(doc_json(r.d.changes[0].old_value), "2");
    assert_null(r.d.changes[0].new_value);
    /* a null value is present: it is removed */
    assert_string_equal(R("on * { unset a; }", "{\"a\":null,\"b\":1}"), "{\"b\":1}");
    /* no-op when missing; never creates anything */
    r = run("on * { unset a.b.c; unset z; }", "run", "u", "{\"y\":1}");
    assert_string_equal(r.out, "{\"y\":1}");
    assert_int_equal(r.d.nchanges, 0);
    r = run("on * { unset a.b; }", "run", "u", "{\"a\":5}");
    assert_string_equal(r.out, "{\"a\":5}");
    assert_int_equal(r.d.nchanges, 0);
    r = run("on * { unset a.b; }", "run", "u", "{\"a\":{}}");
    assert_string_equal(r.out, "{\"a\":{}}");
    assert_int_equal(r.d.nchanges, 0);
}

static void test_append(void **state)
{
    (void)state;
    res r = run("on * { append a 1; }", "run", "u", "{}");
    assert_string_equal(r.out, "{\"a\":[1]}");
    assert_int_equal(r.d.nchanges, 1);
    assert_null(r.d.changes[0].old_value);
    assert_string_equal(R("on * { append a \"x\"; }", "{\"a\":null}"), "{\"a\":[\"x\"]}");
    assert_string_equal(R("on * { append a 3; append a 4; }", "{\"a\":[1,2]}"),
                        "{\"a\":[1,2,3,4]}");
    assert_string_equal(R("on * { append a.b {k: 1}; }", "{}"), "{\"a\":{\"b\":[{\"k\":1}]}}");
    /* a list value (parenthesised) is appended as one element */
    assert_string_equal(R("on * { append a ([1, 2]); }", "{\"a\":[0]}"), "{\"a\":[0,[1,2]]}");
    /* appending to a non-list is a no-op */
    r = run("on * { append a 1; append b 1; append c 1; append d 1; }", "run", "u",
            "{\"a\":\"s\",\"b\":{\"k\":1},\"c\":5,\"d\":false}");
    assert_string_equal(r.out, "{\"a\":\"s\",\"b\":{\"k\":1},\"c\":5,\"d\":false}");
    assert_int_equal(r.d.nchanges, 0);
    /* appending into an indexed element */
    assert_string_equal(R("on * { append l[1].v 9; }", "{\"l\":[{},{\"v\":[8]}]}"),
                        "{\"l\":[{},{\"v\":[8,9]}]}");
}

static void test_append_tags(void **state)
{
    (void)state;
    /* default path, created when missing */
    res r = run("on * { append-tags { team: \"ml\", n: 2, f: 2.5, b: true, z: null, "
                "l: [1, \"a\"], m: {k: 1}, \"odd-key\": \"v\" }; }",
                "run", "u", "{}");
    assert_string_equal(r.out, "{\"configuration\":{\"tags\":{\"team\":\"ml\",\"n\":\"2\","
                               "\"f\":\"2.5\",\"b\":\"true\",\"z\":\"null\",\"l\":\"[1,\\\"a\\\"]\","
                               "\"m\":\"{\\\"k\\\":1}\",\"odd-key\":\"v\"}}}");
    /* created when null; existing keys overwritten, others kept */
    assert_string_equal(R("on * { append-tags { a: 1 }; }", "{\"configuration\":{\"tags\":null}}"),
                        "{\"configuration\":{\"tags\":{\"a\":\"1\"}}}");
    r = run("on * { append-tags { a: \"new\", c: 3 }; }", "run", "u",
            "{\"configuration\":{\"tags\":{\"a\":\"old\",\"b\":\"keep\"}}}");
    assert_string_equal(r.out,
                        "{\"configuration\":{\"tags\":{\"a\":\"new\",\"b\":\"keep\",\"c\":\"3\"}}}");
    /* a change per tag written */
    assert_int_equal(r.d.nchanges, 2);
    assert_string_equal(r.d.changes[0].path, "configuration.tags.a");
    assert_string_equal(doc_json(r.d.changes[0].old_value), "\"old\"");
    assert_string_equal(doc_json(r.d.changes[0].new_value), "\"new\"");
    assert_string_equal(r.d.changes[1].path, "configuration.tags.c");
    assert_null(r.d.changes[1].old_value);
    /* values are computed expressions */
    assert_string_equal(
        run("on * { append-tags { who: $user, k: $kind, p: $project, x: 1 + 1 }; }", "fleet",
            "bob", "{}")
            .out,
        "{\"configuration\":{\"tags\":{\"who\":\"bob\",\"k\":\"fleet\",\"p\":\"proj\",\"x\":\"2\"}}}");
    /* a non-map at the tags path is left alone (only set/default replace) */
    r = run("on * { append-tags { a: 1 }; }", "run", "u", "{\"configuration\":{\"tags\":\"s\"}}");
    assert_string_equal(r.out, "{\"configuration\":{\"tags\":\"s\"}}");
    assert_int_equal(r.d.nchanges, 0);
    r = run("on * { append-tags { a: 1 }; }", "run", "u", "{\"configuration\":{\"tags\":[\"x\"]}}");
    assert_string_equal(r.out, "{\"configuration\":{\"tags\":[\"x\"]}}");
    /* explicit PATH form */
    assert_string_equal(R("on * { append-tags labels.extra { a: 1 }; }", "{\"labels\":{\"z\":\"0\"}}"),
                        "{\"labels\":{\"z\":\"0\",\"extra\":{\"a\":\"1\"}}}");
    assert_string_equal(R("on * { append-tags resources[\"my tags\"] { a: false }; }", "{}"),
                        "{\"resources\":{\"my tags\":{\"a\":\"false\"}}}");
}

static void test_forbid_warn(void **state)
{
    (void)state;
    res r = run("policy \"p\";\n"                                  /* 1 */
                "on * {\n"                                         /* 2 */
                "  forbid-if a > 1: \"a is {a}\";\n"               /* 3 */
                "  forbid-if a > 100: \"never\";\n"                /* 4 */
                "  warn-if a > 1: \"warned {a}\";\n"               /* 5 */
                "  warn-if a > 100: \"never\";\n"                  /* 6 */
                "  warn \"always\";\n"                             /* 7 */
                "  forbid \"flat\";\n"                             /* 8 */
                "}\n",
                "run", "u", "{\"a\":5}");
    assert_false(r.d.allowed);
    assert_int_equal(r.d.nerrors, 2);
    assert_string_equal(r.d.errors[0].text, "a is 5");
    assert_string_equal(r.d.errors[0].policy, "p");
    assert_int_equal(r.d.errors[0].line, 3);
    assert_string_equal(r.d.errors[1].text, "flat");
    assert_int_equal(r.d.errors[1].line, 8);
    assert_int_equal(r.d.nwarnings, 2);
    assert_string_equal(r.d.warnings[0].text, "warned 5");
    assert_int_equal(r.d.warnings[0].line, 5);
    assert_string_equal(r.d.warnings[0].policy, "p");
    assert_string_equal(r.d.warnings[1].text, "always");
    assert_int_equal(r.d.warnings[1].line, 7);

    /* nothing fires */
    r = run("on * { forbid-if a: \"x\"; warn-if a: \"y\"; }", "run", "u", "{\"a\":0}");
    assert_true(r.d.allowed);
    assert_int_equal(r.d.nerrors, 0);
    assert_int_equal(r.d.nwarnings, 0);

    /* forbid-if takes any truthy value */
    r = run("on * { forbid-if a: \"x\"; }", "run", "u", "{\"a\":\"yes\"}");
    assert_false(r.d.allowed);
    /* warnings never reject */
    r = run("on * { warn \"w1\"; warn-if true: \"w2\"; set x = 1; }", "run", "u", "{}");
    assert_true(r.d.allowed);
    assert_int_equal(r.d.nwarnings, 2);
    assert_string_equal(r.out, "{\"x\":1}");
}

static void test_match(void **state)
{
    (void)state;
    const char *pol = "on * {\n"
                      "  match t == \"a\" { set r = 1; }\n"
                      "  else match t == \"b\" { set r = 2; }\n"
                      "  else match t == \"c\" { set r = 3; }\n"
                      "  else { set r = 4; }\n"
                      "}\n";
    assert_string_equal(R(pol, "{\"t\":\"a\"}"), "{\"t\":\"a\",\"r\":1}");
    assert_string_equal(R(pol, "{\"t\":\"b\"}"), "{\"t\":\"b\",\"r\":2}");
    assert_string_equal(R(pol, "{\"t\":\"c\"}"), "{\"t\":\"c\",\"r\":3}");
    assert_string_equal(R(pol, "{\"t\":\"d\"}"), "{\"t\":\"d\",\"r\":4}");
    assert_string_equal(R(pol, "{}"), "{\"r\":4}");
    /* without a final else */
    const char *pol2 = "on * { match t == 1 { set r = 1; } else match t == 2 { set r = 2; } }";
    assert_string_equal(R(pol2, "{\"t\":2}"), "{\"t\":2,\"r\":2}");
    assert_string_equal(R(pol2, "{\"t\":3}"), "{\"t\":3}");
    /* match without else, nested matches, empty blocks */
    const char *pol3 = "on * {\n"
                       "  match a { match b { set r = \"ab\"; } else { set r = \"a\"; } }\n"
                       "  match a {} else {}\n"
                       "}\n";
    assert_string_equal(R(pol3, "{\"a\":1,\"b\":1}"), "{\"a\":1,\"b\":1,\"r\":\"ab\"}");
    assert_string_equal(R(pol3, "{\"a\":1}"), "{\"a\":1,\"r\":\"a\"}");
    assert_string_equal(R(pol3, "{}"), "{}");
    /* forbids inside a branch */
    res r = run("on * { match a { forbid \"in\"; } else { forbid \"out\"; } }", "run", "u",
                "{\"a\":true}");
    assert_int_equal(r.d.nerrors, 1);
    assert_string_equal(r.d.errors[0].text, "in");
    r = run("on * { match a { forbid \"in\"; } else { forbid \"out\"; } }", "run", "u", "{}");
    assert_int_equal(r.d.nerrors, 1);
    assert_string_equal(r.d.errors[0].text, "out");
}

/* ------------------------------------------------------------------ */
/* paths                                                               */
/* ------------------------------------------------------------------ */

static void test_index_and_quoted_paths(void **state)
{
    (void)state;
    const char *l2 = "{\"a\":[{\"x\":0},{\"x\":0}]}";
    /* index writes only touch existing elements */
    res r = run("on * { set a[5].x = 1; set a[2] = 1; set a[-3].x = 1; }", "run", "u", l2);
    assert_string_equal(r.out, l2);
    assert_int_equal(r.d.nchanges, 0);
    assert_string_equal(R("on * { set a[1].x = 1; }", l2), "{\"a\":[{\"x\":0},{\"x\":1}]}");
    assert_string_equal(R("on * { set a[0].y.z = 1; }", l2),
                        "{\"a\":[{\"x\":0,\"y\":{\"z\":1}},{\"x\":0}]}");
    /* no list is created for an index */
    r = run("on * { set b[0] = 1; set c[0].x = 1; default d[0] = 1; append e[0] 1; }", "run",
            "u", "{}");
    assert_string_equal(r.out, "{}");
    /* an index into an object writes nothing */
    assert_string_equal(R("on * { set m[0] = 1; }", "{\"m\":{\"0\":5}}"), "{\"m\":{\"0\":5}}");
    /* negative indices count from the end */
    r = run("on * { set a[-1].x = 9; set b[-2] = 7; }", "run", "u",
            "{\"a\":[{\"x\":0},{\"x\":0}],\"b\":[1,2,3]}");
    assert_string_equal(r.out, "{\"a\":[{\"x\":0},{\"x\":9}],\"b\":[1,7,3]}");
    assert_int_equal(r.d.nchanges, 2);
}

static void test_path_reads(void **state)
{
    (void)state;
    const char *s = "{\"l\":[10,20,30],\"m\":{\"k\":{\"x\":1}},\"n\":5,\"s\":\"str\","
                    "\"e\":{\"HF_TOKEN\":\"tok\",\"a.b\":\"dot\",\"with space\":1}}";
    assert_string_equal(VS("l[0]", s), "10");
    assert_string_equal(VS("l[2]", s), "30");
    assert_string_equal(VS("l[-1]", s), "30");
    assert_string_equal(VS("l[-3]", s), "10");
    assert_string_equal(VS("l[3]", s), "null");
    assert_string_equal(VS("l[-4]", s), "null");
    assert_string_equal(VS("m.k.x", s), "1");
    assert_string_equal(VS("m[\"k\"].x", s), "1");
    assert_string_equal(VS("e[\"HF_TOKEN\"]", s), "\"tok\"");
    assert_string_equal(VS("e.HF_TOKEN", s), "\"tok\"");
    assert_string_equal(VS("e[\"a.b\"]", s), "\"dot\"");
    assert_string_equal(VS("e[\"with space\"]", s), "1");
    /* missing paths and paths through non-objects read null */
    assert_string_equal(VS("nope", s), "null");
    assert_string_equal(VS("m.nope.deeper", s), "null");
    assert_string_equal(VS("n.x", s), "null");
    assert_string_equal(VS("s.x", s), "null");
    assert_string_equal(VS("s[0]", s), "null");
    assert_string_equal(VS("l.x", s), "null");
    assert_string_equal(VS("m[0]", s), "null");
    assert_string_equal(VS("n[0].x", s), "null");
    /* keyword names after '.' */
    assert_string_equal(VS("x.default.match", "{\"x\":{\"default\":{\"match\":3}}}"), "3");
    /* quoted key writes */
    assert_string_equal(R("on * { set configuration.env[\"HF_TOKEN\"] = \"x\"; }",
                          "{\"configuration\":{\"env\":{\"A\":\"1\"}}}"),
                        "{\"configuration\":{\"env\":{\"A\":\"1\",\"HF_TOKEN\":\"x\"}}}");
    res r = run("on * { set configuration.env[\"a.b\"] = 1; unset x[\"k-1\"]; }", "run", "u",
                "{\"x\":{\"k-1\":1,\"k\":2}}");
    assert_string_equal(r.out, "{\"x\":{\"k\":2},\"configuration\":{\"env\":{\"a.b\":1}}}");
}

/* Computed keys: any expression in brackets reads (issue 10). */
static void test_computed_keys(void **state)
{
    (void)state;
    const char *s = "{\"l\":[10,20,30],\"m\":{\"k\":{\"x\":1},\"7\":\"seven\"},\"n\":5,"
                    "\"name\":\"k\",\"i\":1,\"b\":true,\"e\":{\"HF_TOKEN\":\"tok\"},\"v\":[{\"n\":\"HF_TOKEN\"}]}";
    /* a string looks up a map's key, an integer a list's index */
    assert_string_equal(VS("m[name].x", s), "1");
    assert_string_equal(VS("m[\"k\" + \"\"].x", s), "1");
    assert_string_equal(VS("l[i]", s), "20");
    assert_string_equal(VS("l[i + 1]", s), "30");
    assert_string_equal(VS("l[len(l) - 1]", s), "30");
    assert_string_equal(VS("l[-i]", s), "30");
    assert_string_equal(VS("l[0 - len(l)]", s), "10");
    assert_string_equal(VS("m[str(7)]", s), "\"seven\"");
    /* what a literal segment reads as null, a computed one does too */
    assert_string_equal(VS("m[\"nope\" + \"\"]", s), "null");
    assert_string_equal(VS("l[i + 5]", s), "null");
    assert_string_equal(VS("l[-len(l) - 1]", s), "null");
    assert_string_equal(VS("l[name]", s), "null");    /* a string into a list */
    assert_string_equal(VS("m[i]", s), "null");       /* an integer into a map */
    assert_string_equal(VS("n[name]", s), "null");    /* into a scalar */
    assert_string_equal(VS("nope[name].x", s), "null");
    /* nested keys, and keys after and before literal segments */
    assert_string_equal(VS("e[v[l[0] - 10].n]", s), "\"tok\"");
    assert_string_equal(VS("e[v[0][\"n\"]]", s), "\"tok\"");
    /* a quantifier variable as the key, and as the root */
    assert_string_equal(VS("any x in v: e[x.n] == \"tok\"", s), "true");
    assert_string_equal(VS("all x in l: l[0 - 1] >= x", s), "true");
    /* parameters and the request's context: the per-project table */
    const char *pol = "param caps = {research: {gpus: 8}, \"*\": {gpus: 1}};\n"
                      "on * {\n  set g = $caps[$project] ?? $caps[\"*\"];\n"
                      "  set h = $caps[$project].gpus ?? $caps[\"*\"].gpus;\n}\n";
    set_cur(must_compile(pol));
    res r = eval_full(vm, cur, "run", "u", "research", "{}");
    assert_int_equal(r.st, RV_OK);
    assert_string_equal(r.out, "{\"g\":{\"gpus\":8},\"h\":8}");
    r = eval_full(vm, cur, "run", "u", "other", "{}");
    assert_int_equal(r.st, RV_OK);
    assert_string_equal(r.out, "{\"g\":{\"gpus\":1},\"h\":1}");
    /* in a message template */
    assert_string_equal(MSG("{l[n - 4]} {m[name][\\\"x\\\"]}", s), "20 1");
    /* any other key stops the decision (fail closed), null included */
    assert_string_equal(ES("m[nope]", s),
                        "test:3: cannot apply '[key]' to null: a key in brackets is a string (of a "
                        "map) or an integer (of a list)");
    assert_string_equal(ES("l[1.0 * i]", s),
                        "test:3: cannot apply '[key]' to a float (1.0): a key in brackets is a "
                        "string (of a map) or an integer (of a list)");
    assert_string_equal(ES("m[b]", s),
                        "test:3: cannot apply '[key]' to a bool (true): a key in brackets is a "
                        "string (of a map) or an integer (of a list)");
    /* even where the container is missing: the key is the mistake */
    assert_string_equal(ES("nope[m.k]", s),
                        "test:3: cannot apply '[key]' to a map: a key in brackets is a string (of "
                        "a map) or an integer (of a list)");
}

/* ------------------------------------------------------------------ */
/* expressions                                                         */
/* ------------------------------------------------------------------ */

static void test_coalesce_and_logic(void **state)
{
    (void)state;
    assert_string_equal(V("null ?? 1"), "1");
    assert_string_equal(V("nope ?? \"d\""), "\"d\"");
    assert_string_equal(V("null ?? null ?? 3"), "3");
    assert_string_equal(V("false ?? 1"), "false");
    assert_string_equal(V("0 ?? 1"), "0");
    assert_string_equal(V("\"\" ?? 1"), "\"\"");
    assert_string_equal(V("null ?? null"), "null");
    assert_string_equal(VS("a ?? 2", "{\"a\":[1]}"), "[1]");
    /* ?? is the loosest operator */
    assert_string_equal(V("null ?? 1 == 1"), "true");
    assert_string_equal(V("null ?? false or true"), "true");

    /* and/or/not return booleans */
    assert_string_equal(V("1 or 0"), "true");
    assert_string_equal(V("0 or \"x\""), "true");
    assert_string_equal(V("0 or \"\""), "false");
    assert_string_equal(V("null or null"), "false");
    assert_string_equal(V("\"a\" and [1]"), "true");
    assert_string_equal(V("\"\" and 1"), "false");
    assert_string_equal(V("1 and {}"), "false");
    assert_string_equal(V("not 0"), "true");
    assert_string_equal(V("not \"x\""), "false");
    assert_string_equal(V("not null"), "true");
    assert_string_equal(V("not not 5"), "true");
    assert_string_equal(V("true or false"), "true");
    assert_string_equal(V("false or false"), "false");
    assert_string_equal(V("true and false"), "false");
    assert_string_equal(V("true and true"), "true");
    /* precedence: not > and > or */
    assert_string_equal(V("true or false and false"), "true");
    assert_string_equal(V("(true or false) and false"), "false");
    assert_string_equal(V("not false and false"), "false");
    assert_string_equal(V("not 1 == 2"), "true");
    /* short-circuit results */
    assert_string_equal(V("false and nope.x"), "false");
    assert_string_equal(V("true or nope.x"), "true");
}

static void test_equality(void **state)
{
    (void)state;
    assert_string_equal(V("1 == 1.0"), "true");
    assert_string_equal(V("1.0 == 1"), "true");
    assert_string_equal(V("1 != 1.0"), "false");
    assert_string_equal(V("2 == 3"), "false");
    assert_string_equal(V("\"a\" == \"a\""), "true");
    assert_string_equal(V("\"a\" == \"A\""), "false");
    assert_string_equal(V("null == null"), "true");
    assert_string_equal(V("nope == null"), "true");
    assert_string_equal(V("true == true"), "true");
    assert_string_equal(V("[1, 2] == [1, 2]"), "true");
    assert_string_equal(V("[1, 2] == [2, 1]"), "false");
    assert_string_equal(V("[1, 2] == [1, 2, 3]"), "false");
    assert_string_equal(V("[1, [2, {a: 3}]] == [1.0, [2, {a: 3.0}]]"), "true");
    assert_string_equal(V("{a: 1, b: 2} == {b: 2, a: 1}"), "true");
    assert_string_equal(V("{a: 1} == {a: 1, b: 2}"), "false");
    assert_string_equal(V("{a: 1, b: 2} == {a: 1}"), "false");
    assert_string_equal(V("{a: 1, b: 2} == {a: 1, c: 2}"), "false");
    assert_string_equal(V("{a: null} == {}"), "false");
    assert_string_equal(V("[] == {}"), "false");
    assert_string_equal(V("{} == {}"), "true");
    /* mismatched types are not equal */
    assert_string_equal(V("1 == \"1\""), "false");
    assert_string_equal(V("1 != \"1\""), "true");
    assert_string_equal(V("true == 1"), "false");
    assert_string_equal(V("false == 0"), "false");
    assert_string_equal(V("null == 0"), "false");
    assert_string_equal(V("null == false"), "false");
    assert_string_equal(V("\"\" == null"), "false");
    assert_string_equal(V("[1] == 1"), "false");
    /* spec values, map order irrelevant */
    assert_string_equal(VS("a == b", "{\"a\":{\"x\":1,\"y\":[1,2]},\"b\":{\"y\":[1,2],\"x\":1}}"),
                        "true");
    assert_string_equal(VS("a != b", "{\"a\":{\"x\":1,\"y\":[1,2]},\"b\":{\"y\":[2,1],\"x\":1}}"),
                        "true");
}

static void test_ordering(void **state)
{
    (void)state;
    assert_string_equal(V("1 < 2"), "true");
    assert_string_equal(V("2 < 1"), "false");
    assert_string_equal(V("1 < 1"), "false");
    assert_string_equal(V("1 <= 1"), "true");
    assert_string_equal(V("2 > 1"), "true");
    assert_string_equal(V("1 >= 1"), "true");
    assert_string_equal(V("1 >= 2"), "false");
    assert_string_equal(V("1 < 1.5"), "true");
    assert_string_equal(V("1.5 > 1"), "true");
    assert_string_equal(V("2 <= 2.0"), "true");
    assert_string_equal(V("2.0 >= 2"), "true");
    assert_string_equal(V("-1 < 0"), "true");
    assert_string_equal(V("\"a\" < \"b\""), "true");
    assert_string_equal(V("\"b\" < \"a\""), "false");
    assert_string_equal(V("\"a\" < \"ab\""), "true");
    assert_string_equal(V("\"abc\" <= \"abc\""), "true");
    assert_string_equal(V("\"B\" < \"a\""), "true");
    assert_string_equal(V("\"z\" >= \"a\""), "true");
    /* large ints compare exactly */
    assert_string_equal(V("9007199254740993 > 9007199254740992"), "true");
    /* mismatched or incomparable types: every ordering is false */
    const char *s = "{\"s\":\"a\",\"n\":1,\"b\":true,\"l\":[1],\"l2\":[2],\"m\":{}}";
    const char *pairs[][2] = {
        {"s", "n"}, {"n", "s"}, {"n", "b"}, {"b", "n"}, {"l", "l2"}, {"l2", "l"},
        {"m", "m"}, {"n", "nope"}, {"nope", "n"}, {"nope", "nope"}, {"b", "b"},
    };
    const char *ops[] = {"<", "<=", ">", ">="};
    for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++)
        for (size_t j = 0; j < 4; j++) {
            char e[64];
            snprintf(e, sizeof e, "%s %s %s", pairs[i][0], ops[j], pairs[i][1]);
            const char *v = VS(e, s);
            if (strcmp(v, "false") != 0)
                fail_msg("%s gave %s, want false", e, v);
        }
    /* ... and they are not equal */
    assert_string_equal(VS("s == n", s), "false");
    assert_string_equal(VS("s != n", s), "true");
}

static void test_in(void **state)
{
    (void)state;
    assert_string_equal(V("2 in [1, 2, 3]"), "true");
    assert_string_equal(V("4 in [1, 2, 3]"), "false");
    assert_string_equal(V("1.0 in [1]"), "true");
    assert_string_equal(V("\"1\" in [1]"), "false");
    assert_string_equal(V("[1] in [[1], 2]"), "true");
    assert_string_equal(V("{a: 1} in [{a: 1}]"), "true");
    assert_string_equal(V("null in [null]"), "true");
    assert_string_equal(V("1 in []"), "false");
    assert_string_equal(V("\"a\" in {a: 1}"), "true");
    assert_string_equal(V("\"b\" in {a: 1}"), "false");
    assert_string_equal(V("\"a\" in {a: null}"), "true");
    assert_string_equal(V("1 in {a: 1}"), "false");  /* keys, not values */
    assert_string_equal(V("\"ell\" in \"hello\""), "true");
    assert_string_equal(V("\"hello\" in \"hello\""), "true");
    assert_string_equal(V("\"\" in \"x\""), "true");
    assert_string_equal(V("\"xyz\" in \"hello\""), "false");
    assert_string_equal(V("\"H\" in \"hello\""), "false");
    const char *s = "{\"str\":\"abc\",\"n\":1,\"map\":{\"k\":1},\"lst\":[\"x\"]}";
    assert_string_equal(VS("n in str", s), "false");
    assert_string_equal(VS("n in nope", s), "false");
    assert_string_equal(VS("\"x\" in n", s), "false");
    assert_string_equal(VS("\"k\" in map", s), "true");
    assert_string_equal(VS("\"x\" in lst", s), "true");
    assert_string_equal(VS("\"b\" in str", s), "true");
    assert_string_equal(VS("not (\"q\" in lst)", s), "true");
}

static void test_regex(void **state)
{
    (void)state;
    assert_string_equal(V("\"intern-bob\" =~ /^intern-/"), "true");
    assert_string_equal(V("\"bob\" =~ /^intern-/"), "false");
    assert_string_equal(V("\"bob\" !~ /^intern-/"), "true");
    assert_string_equal(V("\"intern-x\" !~ /^intern-/"), "false");
    assert_string_equal(V("\"xaby\" =~ /ab/"), "true");  /* unanchored search */
    /* flags */
    assert_string_equal(V("\"ABC\" =~ /abc/"), "false");
    assert_string_equal(V("\"ABC\" =~ /abc/i"), "true");
    assert_string_equal(V("\"a\\nb\" =~ /^b$/"), "false");
    assert_string_equal(V("\"a\\nb\" =~ /^b$/m"), "true");
    /* `$` is the end of the text, as in RE2, not "before a final newline";
     * multiline (the m flag or (?m)) keeps line anchors */
    assert_string_equal(V("\"CC-1234\" =~ /^CC-[0-9]{4}$/"), "true");
    assert_string_equal(V("\"CC-1234\\n\" =~ /^CC-[0-9]{4}$/"), "false");
    assert_string_equal(V("\"CC-1234\\n\" =~ /^CC-[0-9]{4}$/i"), "false");
    assert_string_equal(V("\"CC-1234\\n\" =~ /^CC-[0-9]{4}$/m"), "true");
    assert_string_equal(V("\"CC-1234\\n\" =~ /(?m)^CC-[0-9]{4}$/"), "true");
    assert_string_equal(V("\"a\\nb\" =~ /(?m)^a$/"), "true");
    assert_string_equal(V("\"a\\nb\" =~ /^a$/"), "false");
    assert_string_equal(V("\"CC-1234\\n\" =~ /^CC-[0-9]{4}\\n$/"), "true");
    assert_string_equal(V("\"CC-1234\\n\" =~ /^CC-[0-9]{4}\\Z/"), "true");   /* asked for */
    assert_string_equal(V("\"CC-1234\\n\" !~ /^CC-[0-9]{4}$/"), "true");
    assert_string_equal(V("\"a\\nb\" =~ /a.b/"), "false");
    assert_string_equal(V("\"a\\nb\" =~ /a.b/s"), "true");
    assert_string_equal(V("\"ab\" =~ /a b/"), "false");
    assert_string_equal(V("\"ab\" =~ /a b/x"), "true");
    assert_string_equal(V("\"A\\nB\" =~ /^a.b$/is"), "true");
    /* UTF-8 aware */
    assert_string_equal(V("\"\\u00e9\" =~ /^.$/"), "true");
    /* escaped slash */
    assert_string_equal(V("\"a/b\" =~ /^a\\/b$/"), "true");
    /* a non-string never matches */
    const char *s = "{\"n\":5,\"b\":true,\"l\":[\"a\"],\"m\":{\"a\":\"a\"},\"z\":null}";
    assert_string_equal(VS("n =~ /5/", s), "false");
    assert_string_equal(VS("n !~ /5/", s), "true");
    assert_string_equal(VS("b =~ /true/", s), "false");
    assert_string_equal(VS("b !~ /true/", s), "true");
    assert_string_equal(VS("l =~ /a/", s), "false");
    assert_string_equal(VS("l !~ /a/", s), "true");
    assert_string_equal(VS("m =~ /a/", s), "false");
    assert_string_equal(VS("z =~ /.*/", s), "false");
    assert_string_equal(VS("z !~ /.*/", s), "true");
    assert_string_equal(VS("nope =~ /.*/", s), "false");
    assert_string_equal(VS("nope !~ /x/", s), "true");
    /* in a condition, with $user */
    res r = run("on * { forbid-if $user =~ /^intern-/: \"no interns\"; }", "run", "intern-7", "{}");
    assert_false(r.d.allowed);
    r = run("on * { forbid-if $user =~ /^intern-/: \"no interns\"; }", "run", "staff", "{}");
    assert_true(r.d.allowed);
}

static void test_arithmetic(void **state)
{
    (void)state;
    assert_string_equal(V("2 + 3"), "5");
    assert_string_equal(V("7 - 10"), "-3");
    assert_string_equal(V("6 * 7"), "42");
    assert_string_equal(V("7 % 3"), "1");
    /* division: exact int/int stays int, otherwise float */
    assert_string_equal(V("6 / 3"), "2");
    assert_string_equal(V("-6 / 3"), "-2");
    assert_string_equal(V("7 / 2"), "3.5");
    assert_string_equal(V("7 / -2"), "-3.5");
    assert_string_equal(V("1 / 4"), "0.25");
    assert_string_equal(V("0 / 5"), "0");
    /* mixed int/float gives float */
    assert_string_equal(V("1.5 + 1"), "2.5");
    assert_string_equal(V("1 + 1.0"), "2.0");
    assert_string_equal(V("2 * 1.0"), "2.0");
    assert_string_equal(V("6.0 / 3"), "2.0");
    assert_string_equal(V("3 - 0.5"), "2.5");
    assert_string_equal(V("0.5 * 4"), "2.0");
    /* division or modulo by zero is an evaluation error */
    assert_string_equal(E("1 / 0"),
                        "test:3: cannot apply '/' to an integer (1) and an integer (0): "
                        "division by zero");
    assert_string_equal(E("0 / 0"),
                        "test:3: cannot apply '/' to an integer (0) and an integer (0): "
                        "division by zero");
    assert_string_equal(E("1.5 / 0"),
                        "test:3: cannot apply '/' to a float (1.5) and an integer (0): "
                        "division by zero");
    assert_string_equal(E("1 / 0.0"),
                        "test:3: cannot apply '/' to an integer (1) and a float (0.0): "
                        "division by zero");
    assert_string_equal(E("1 % 0"),
                        "test:3: cannot apply '%' to an integer (1) and an integer (0): "
                        "division by zero");
    assert_string_equal(E("1.5 % 0"),
                        "test:3: cannot apply '%' to a float (1.5) and an integer (0): "
                        "division by zero");
    assert_string_equal(E("1 % 0.0"),
                        "test:3: cannot apply '%' to an integer (1) and a float (0.0): "
                        "division by zero");
    /* a result JSON cannot hold (it would print as null) */
    assert_string_equal(ES("h * 10", "{\"h\":1e+308}"),
                        "test:3: cannot apply '*' to a float (1e+308) and an integer (10): "
                        "the result is not a finite number");
    assert_string_equal(ES("-h - h", "{\"h\":1e+308}"),
                        "test:3: cannot apply '-' to a float (-1e+308) and a float (1e+308): "
                        "the result is not a finite number");
    /* modulo takes the divisor's sign (Python) */
    assert_string_equal(V("-7 % 3"), "2");
    assert_string_equal(V("7 % -3"), "-2");
    assert_string_equal(V("-7 % -3"), "-1");
    assert_string_equal(V("6 % -3"), "0");
    assert_string_equal(V("7.5 % 2"), "1.5");
    assert_string_equal(V("-7.5 % 2"), "0.5");
    assert_string_equal(V("7.5 % -2"), "-0.5");
    /* precedence */
    assert_string_equal(V("1 + 2 * 3"), "7");
    assert_string_equal(V("(1 + 2) * 3"), "9");
    assert_string_equal(V("10 - 2 - 3"), "5");
    assert_string_equal(V("12 / 2 / 3"), "2");
    assert_string_equal(V("2 * 3 % 4"), "2");
    assert_string_equal(V("-2 * 3"), "-6");
    /* unary minus */
    assert_string_equal(V("-(3)"), "-3");
    assert_string_equal(V("-(1.5)"), "-1.5");
    assert_string_equal(V("- -3"), "3");
    assert_string_equal(VS("-a", "{\"a\":4}"), "-4");
    assert_string_equal(ES("-a", "{\"a\":\"x\"}"),
                        "test:3: cannot apply unary '-' to a string (\"x\")");
    assert_string_equal(ES("-a", "{}"), "test:3: cannot apply unary '-' to null");
    assert_string_equal(ES("-a", "{\"a\":true}"),
                        "test:3: cannot apply unary '-' to a bool (true)");
    assert_string_equal(ES("-a", "{\"a\":[1]}"), "test:3: cannot apply unary '-' to a list");
    /* + joins strings and lists */
    assert_string_equal(V("\"ab\" + \"cd\""), "\"abcd\"");
    assert_string_equal(V("\"\" + \"\""), "\"\"");
    assert_string_equal(V("[1] + [2, 3]"), "[1,2,3]");
    assert_string_equal(VS("l + [3]", "{\"l\":[1,2]}"), "[1,2,3]");
    /* the operands are not modified by + */
    assert_string_equal(R("on * { set m = l + [3]; }", "{\"l\":[1,2]}"),
                        "{\"l\":[1,2],\"m\":[1,2,3]}");
    /* arithmetic on anything else is an evaluation error (never a null
     * that a write would store over the user's data) */
    const char *s = "{\"s\":\"a\",\"n\":1,\"b\":true,\"l\":[1],\"m\":{\"k\":1},\"z\":null}";
    const char *bad[] = {
        "s + n", "n + s", "l + s", "s + l", "l + n", "m + l", "l + m", "m + s", "b + n",
        "n + b", "z + n", "n + z", "nope + 1", "z + z", "z + s", "s + z", "s - s", "s * 2",
        "n * s", "l * 2", "s / n", "n / s", "s % n", "b - b", "b * n", "z * z", "m - m",
        "l - l", "z - l",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        const char *m = ES(bad[i], s);
        if (strncmp(m, "test:3: cannot apply '", 22) != 0)
            fail_msg("%s: unexpected message %s", bad[i], m);
    }
    assert_string_equal(ES("s + n", s), "test:3: cannot apply '+' to a string (\"a\") and an integer (1)");
    assert_string_equal(ES("m - m", s), "test:3: cannot apply '-' to a map and a map");
    assert_string_equal(ES("nope * b", s), "test:3: cannot apply '*' to null and a bool (true)");
    assert_string_equal(ES("l % 2.5", s), "test:3: cannot apply '%' to a list and a float (2.5)");
}

/* + of two maps merges them: the left's keys in order, the right's value
 * winning on a shared key, then the right's other keys. A null map (or
 * list) is an empty one for +, as append-tags and append take it. */
static void test_map_merge(void **state)
{
    (void)state;
    /* Literal operands: the checker agrees with the VM's + on maps and on
     * null with a collection. */
    assert_string_equal(VS("{a: 1} + {b: 2}", "{}"), "{\"a\":1,\"b\":2}");
    assert_string_equal(VS("null + [1]", "{}"), "[1]");
    assert_string_equal(VS("{a: 1} + null", "{}"), "{\"a\":1}");
    const char *ms = "{\"ab\":{\"a\":1,\"b\":2},\"e\":{},\"b1\":{\"b\":1},\"nest\":{\"a\":{\"x\":1}}}";
    assert_string_equal(VS("ab + {c: 3}", ms), "{\"a\":1,\"b\":2,\"c\":3}");
    assert_string_equal(VS("ab + {b: \"x\", c: 3}", ms), "{\"a\":1,\"b\":\"x\",\"c\":3}");
    assert_string_equal(VS("b1 + {a: 2, b: 3}", ms), "{\"b\":3,\"a\":2}");
    assert_string_equal(VS("{a: 2, b: 3} + b1", ms), "{\"a\":2,\"b\":1}");
    assert_string_equal(VS("e + e", ms), "{}");
    assert_string_equal(VS("ab + e", ms), "{\"a\":1,\"b\":2}");
    assert_string_equal(VS("e + {a: null}", ms), "{\"a\":null}");
    /* shallow: a nested map on the right replaces the left's */
    assert_string_equal(VS("nest + {a: {y: 2}}", ms), "{\"a\":{\"y\":2}}");
    /* the canonical use: neither operand changes, and a later write to one
     * path never shows under the other */
    const char *in = "{\"configuration\":{\"env\":{\"A\":\"1\",\"HF_HOME\":\"/old\"}}}";
    res r = run("on run {\n"
                "  set configuration.env = configuration.env + {HF_HOME: \"/data\", B: \"2\"};\n"
                "  set configuration.copy = configuration.env;\n"
                "  set configuration.copy.A = \"changed\";\n"
                "}\n",
                "run", "alice", in);
    assert_true(r.d.allowed);
    assert_string_equal(r.out, "{\"configuration\":{\"env\":{\"A\":\"1\",\"HF_HOME\":\"/data\","
                               "\"B\":\"2\"},\"copy\":{\"A\":\"changed\",\"HF_HOME\":\"/data\","
                               "\"B\":\"2\"}}}");
    assert_string_equal(r.d.changes[0].path, "configuration.env");
    assert_string_equal(doc_json(r.d.changes[0].old_value), "{\"A\":\"1\",\"HF_HOME\":\"/old\"}");
    /* a null or missing env is an empty map */
    const char *merge = "on run { set configuration.env = configuration.env + {HF_HOME: \"/data\"}; }";
    assert_string_equal(R(merge, "{\"configuration\":{\"env\":null}}"),
                        "{\"configuration\":{\"env\":{\"HF_HOME\":\"/data\"}}}");
    assert_string_equal(R(merge, "{}"), "{\"configuration\":{\"env\":{\"HF_HOME\":\"/data\"}}}");
    const char *z = "{\"m\":{\"k\":1},\"l\":[1],\"z\":null}";
    assert_string_equal(VS("m + z", z), "{\"k\":1}");
    assert_string_equal(VS("z + m", z), "{\"k\":1}");
    assert_string_equal(VS("nope + m", z), "{\"k\":1}");
    assert_string_equal(VS("l + z", z), "[1]");
    assert_string_equal(VS("z + l", z), "[1]");
    /* an env that is not a map stops the decision rather than vanish */
    assert_string_equal(ES("e + {HF_HOME: \"/data\"}", "{\"e\":\"A=1\"}"),
                        "test:3: cannot apply '+' to a string (\"A=1\") and a map");
}

/* The issue's cases: an operator given types it cannot handle stops the
 * decision (RV_EEVAL) with policy:line, the operator and the operand
 * types, wherever it is (a write, a condition, a message, a later
 * policy), and the spec comes back as it went in. */
static void test_eval_errors(void **state)
{
    (void)state;
    assert_string_equal(rv_status_name(RV_EEVAL), "RV_EEVAL");
    const char *in = "{\"configuration\":{\"max_duration\":\"off\",\"env\":{\"A\":\"1\"}}}";
    set_cur(must_compile("policy \"example\";\n"
                         "on run {\n"
                         "  set configuration.env.B = \"2\";\n"
                         "  set configuration.max_duration = configuration.max_duration + 1h;\n"
                         "}\n"));
    res r = eval_prog(cur, "run", "u", in);
    assert_int_equal(r.st, RV_EEVAL);
    assert_int_equal(r.err.status, RV_EEVAL);
    assert_string_equal(r.err.message,
                        "example:4: cannot apply '+' to a string (\"off\") and an integer (3600)");
    assert_string_equal(r.out, in);
    /* the VM stays usable */
    r = eval_prog(cur, "run", "u", "{\"configuration\":{\"max_duration\":60}}");
    assert_int_equal(r.st, RV_OK);
    assert_string_equal(r.out, "{\"configuration\":{\"max_duration\":3660,\"env\":{\"B\":\"2\"}}}");

    /* in a condition: a forbid-if must not pass by default */
    set_cur(must_compile("on run {\n  forbid-if configuration.max_duration * 2 > 1d: \"too long\";\n}\n"));
    r = eval_prog(cur, "run", "u", in);
    assert_int_equal(r.st, RV_EEVAL);
    assert_string_equal(r.err.message,
                        "test:2: cannot apply '*' to a string (\"off\") and an integer (2)");
    assert_string_equal(r.out, in);
    /* in a message template */
    set_cur(must_compile("on run {\n  warn \"{len(configuration.max_duration) - 1}\";\n}\n"));
    r = eval_prog(cur, "run", "u", "{\"configuration\":{\"max_duration\":5}}");
    assert_int_equal(r.st, RV_EEVAL);
    assert_string_equal(r.err.message, "test:2: cannot apply len() to an integer (5)");
    /* in a later policy: what earlier policies wrote is undone */
    rc_input two[] = {
        {"a.rules", "policy \"first\" priority 1;\non * { set x = 1; set m = m + {k: 2}; }", 0, 0, 0, 0},
        {"b.rules", "policy \"second\" priority 2;\non * {\n  set y = lower(x);\n}", 0, 0, 0, 0},
    };
    two[0].size = strlen(two[0].data);
    two[1].size = strlen(two[1].data);
    set_cur(compile_sources(two, 2, NULL));
    assert_non_null(cur);
    const char *in2 = "{\"m\":{\"k\":1},\"y\":\"keep\"}";
    r = eval_prog(cur, "run", "u", in2);
    assert_int_equal(r.st, RV_EEVAL);
    assert_string_equal(r.err.message, "second:3: cannot apply lower() to an integer (1)");
    assert_string_equal(r.out, in2);
    /* inside a quantifier */
    assert_string_equal(ES("any v in l: v + 1 > 2", "{\"l\":[1,\"2\"]}"),
                        "test:3: cannot apply '+' to a string (\"2\") and an integer (1)");
    /* a long string is named by its length only */
    assert_string_equal(ES("t + 1", "{\"t\":\"hf_0123456789abcdefghijklmnopqrstuv\"}"),
                        "test:3: cannot apply '+' to a string of 35 bytes and an integer (1)");
    /* what stays well defined: comparisons, in, regexes, ??, starts_with */
    const char *s = "{\"s\":\"off\",\"n\":1}";
    assert_string_equal(VS("s < n", s), "false");
    assert_string_equal(VS("s >= n", s), "false");
    assert_string_equal(VS("n in s", s), "false");
    assert_string_equal(VS("s in n", s), "false");
    assert_string_equal(VS("n =~ /1/", s), "false");
    assert_string_equal(VS("(nope ?? 5) + n", s), "6");
    assert_string_equal(VS("starts_with(n, \"1\")", s), "false");
    assert_string_equal(VS("s == n", s), "false");
}

/* Python's float modulo: a zero result takes the divisor's sign too
 * (-6.0 % 3 == 0.0, 6.0 % -3 == -0.0). */
static void test_modulo_zero_sign(void **state)
{
    (void)state;
    const char *cases[][2] = {
        {"6.0 % 3", "0.0"},   {"-6.0 % 3", "0.0"},   {"-5 % 2.5", "0.0"},
        {"6.0 % -3", "-0.0"}, {"-6.0 % -3", "-0.0"}, {"5 % -2.5", "-0.0"},
    };
    char bad[1024] = "";
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *v = V(cases[i][0]);
        if (strcmp(v, cases[i][1]) != 0)
            snprintf(bad + strlen(bad), sizeof bad - strlen(bad), "  %s gave %s, want %s\n",
                     cases[i][0], v, cases[i][1]);
    }
    if (bad[0])
        fail_msg("modulo zero sign:\n%s", bad);
}

static int is_float_text(const char *v)
{
    return strchr(v, '.') || strchr(v, 'e') || strchr(v, 'E');
}

static void test_int_overflow(void **state)
{
    (void)state;
    const char *s = "{\"max\":9223372036854775807,\"min\":-9223372036854775808}";
    const char *v = VS("max + 1", s);
    if (!is_float_text(v) || v[0] == '-')
        fail_msg("max + 1 gave %s, want a float near 9.2e18", v);
    assert_string_equal(VS("max + 1 > max", s), "true");
    v = VS("min - 1", s);
    if (!is_float_text(v) || v[0] != '-')
        fail_msg("min - 1 gave %s, want a float near -9.2e18", v);
    v = VS("max * 2", s);
    if (!is_float_text(v) || v[0] == '-')
        fail_msg("max * 2 gave %s, want a float", v);
    v = VS("min * -1", s);
    if (!is_float_text(v) || v[0] == '-')
        fail_msg("min * -1 gave %s, want a float", v);
    v = VS("-min", s);
    if (!is_float_text(v) || v[0] == '-')
        fail_msg("-min gave %s, want a float", v);
    v = VS("min / -1", s);
    if (!is_float_text(v) || v[0] == '-')
        fail_msg("min / -1 gave %s, want a float", v);
    assert_string_equal(VS("min % -1", s), "0");
    assert_string_equal(VS("max - 1", s), "9223372036854775806");
    assert_string_equal(VS("min + 1", s), "-9223372036854775807");
    assert_string_equal(VS("4611686018427387903 * 2", s), "9223372036854775806");
}

static void test_truthiness(void **state)
{
    (void)state;
    const char *falsy[] = {"null", "false", "0", "0.0", "\"\"", "[]", "{}", "nope", "nope.x"};
    const char *truthy[] = {"true", "1", "-1", "0.5", "\"0\"", "\"false\"", "\" \"", "[0]",
                            "[null]", "{a: null}", "1d", "512MB"};
    for (size_t i = 0; i < sizeof falsy / sizeof *falsy; i++)
        if (T(falsy[i]))
            fail_msg("%s is truthy, want falsy", falsy[i]);
    for (size_t i = 0; i < sizeof truthy / sizeof *truthy; i++)
        if (!T(truthy[i]))
            fail_msg("%s is falsy, want truthy", truthy[i]);
    /* spec values */
    const char *s = "{\"el\":[],\"em\":{},\"es\":\"\",\"z\":0,\"zf\":0.0,\"f\":false,\"n\":null,"
                    "\"l\":[0],\"m\":{\"a\":0},\"s\":\"x\",\"i\":-3,\"d\":1e-9}";
    const char *sf[] = {"el", "em", "es", "z", "zf", "f", "n"};
    const char *st[] = {"l", "m", "s", "i", "d"};
    for (size_t i = 0; i < sizeof sf / sizeof *sf; i++)
        if (TS(sf[i], s))
            fail_msg("spec %s is truthy", sf[i]);
    for (size_t i = 0; i < sizeof st / sizeof *st; i++)
        if (!TS(st[i], s))
            fail_msg("spec %s is falsy", st[i]);
}

/* ------------------------------------------------------------------ */
/* literals                                                            */
/* ------------------------------------------------------------------ */

static void test_literals(void **state)
{
    (void)state;
    assert_string_equal(V("null"), "null");
    assert_string_equal(V("true"), "true");
    assert_string_equal(V("false"), "false");
    assert_string_equal(V("42"), "42");
    assert_string_equal(V("-5"), "-5");
    assert_string_equal(V("0"), "0");
    assert_string_equal(V("1.5"), "1.5");
    assert_string_equal(V("2.0"), "2.0");
    assert_string_equal(V("0.25"), "0.25");
    assert_string_equal(V("9223372036854775807"), "9223372036854775807");
    /* strings and escapes */
    assert_string_equal(V("\"plain\""), "\"plain\"");
    assert_string_equal(V("\"q\\\"b\\\\s\\/\""), "\"q\\\"b\\\\s/\"");
    assert_string_equal(V("\"a\\nb\\tc\\rd\""), "\"a\\nb\\tc\\rd\"");
    assert_string_equal(VS("len(\"a\\nb\")", "{}"), "3");
    assert_string_equal(V("\"\\u00e9\" == \"\xc3\xa9\""), "true");
    assert_string_equal(V("len(\"\\ud83d\\ude00\")"), "1");
    assert_string_equal(V("\"\""), "\"\"");
    /* lists and maps */
    assert_string_equal(V("[]"), "[]");
    assert_string_equal(V("[1, \"a\", null, [true], {}]"), "[1,\"a\",null,[true],{}]");
    assert_string_equal(V("[1, 2,]"), "[1,2]");
    assert_string_equal(V("{}"), "{}");
    assert_string_equal(V("{a: 1, \"odd-key\": [2], \"with space\": {b: null}}"),
                        "{\"a\":1,\"odd-key\":[2],\"with space\":{\"b\":null}}");
    assert_string_equal(V("{in: 1, match: 2, null: 3,}"), "{\"in\":1,\"match\":2,\"null\":3}");
    assert_string_equal(V("{z: 1, a: 2}"), "{\"z\":1,\"a\":2}");  /* order kept */
    assert_string_equal(V("[1 + 1, {k: 2 * 3}]"), "[2,{\"k\":6}]");
    assert_string_equal(VS("{u: $user, v: a}", "{\"a\":[1]}"), "{\"u\":\"alice\",\"v\":[1]}");
}

static void test_units(void **state)
{
    (void)state;
    /* durations: integer seconds */
    assert_string_equal(V("90s"), "90");
    assert_string_equal(V("30m"), "1800");
    assert_string_equal(V("12h"), "43200");
    assert_string_equal(V("1d"), "86400");
    assert_string_equal(V("2w"), "1209600");
    assert_string_equal(V("0s"), "0");
    assert_string_equal(V("1.5h"), "5400");
    assert_string_equal(V("1d + 1h"), "90000");
    assert_string_equal(V("1d == 86400"), "true");
    /* sizes: gigabytes as a float */
    assert_string_equal(V("512MB"), "0.5");
    assert_string_equal(V("24GB"), "24.0");
    assert_string_equal(V("1TB"), "1024.0");
    assert_string_equal(V("1GB"), "1.0");
    assert_string_equal(V("1.5GB"), "1.5");
    assert_string_equal(V("2TB"), "2048.0");
    assert_string_equal(V("24GB == 24"), "true");
    assert_string_equal(V("512MB < 1GB"), "true");
    /* exponents are floats, never units */
    assert_string_equal(V("1e3"), "1000.0");
    assert_string_equal(V("1.5e-2"), "0.015");
    assert_string_equal(V("2E+6"), "2000000.0");
    assert_string_equal(V("1e3 == 1000"), "true");
    assert_string_equal(V("-1e3 + 1d"), "85400.0");
}

/* ------------------------------------------------------------------ */
/* functions                                                           */
/* ------------------------------------------------------------------ */

static void test_exists_len(void **state)
{
    (void)state;
    const char *s = "{\"a\":{\"b\":0,\"z\":null,\"f\":false,\"e\":\"\"},\"l\":[1,null],\"n\":5}";
    assert_string_equal(VS("exists(a)", s), "true");
    assert_string_equal(VS("exists(a.b)", s), "true");
    assert_string_equal(VS("exists(a.f)", s), "true");
    assert_string_equal(VS("exists(a.e)", s), "true");
    assert_string_equal(VS("exists(a.z)", s), "false");
    assert_string_equal(VS("exists(a.nope)", s), "false");
    assert_string_equal(VS("exists(nope.deeper)", s), "false");
    assert_string_equal(VS("exists(n.x)", s), "false");
    assert_string_equal(VS("exists(l[0])", s), "true");
    assert_string_equal(VS("exists(l[1])", s), "false");
    assert_string_equal(VS("exists(l[2])", s), "false");
    assert_string_equal(VS("exists(l[-1])", s), "false");
    assert_string_equal(VS("exists(l[-2])", s), "true");

    assert_string_equal(V("len(\"hello\")"), "5");
    assert_string_equal(V("len(\"\")"), "0");
    assert_string_equal(V("len(\"h\xc3\xa9llo\")"), "5");      /* code points, not bytes */
    assert_string_equal(V("len(\"\xe6\x97\xa5\xe6\x9c\xac\")"), "2");
    assert_string_equal(V("len(\"\xf0\x9f\x98\x80!\")"), "2");
    assert_string_equal(V("len([])"), "0");
    assert_string_equal(V("len([1, [2, 3], null])"), "3");
    assert_string_equal(V("len({})"), "0");
    assert_string_equal(V("len({a: 1, b: 2})"), "2");
    assert_string_equal(V("len(null)"), "0");
    assert_string_equal(VS("len(nope)", s), "0");
    assert_string_equal(VS("len(a)", s), "4");
    assert_string_equal(VS("len(l)", s), "2");
    /* len of a number or a bool: an error */
    assert_string_equal(E("len(3)"), "test:3: cannot apply len() to an integer (3)");
    assert_string_equal(E("len(1.5)"), "test:3: cannot apply len() to a float (1.5)");
    assert_string_equal(E("len(true)"), "test:3: cannot apply len() to a bool (true)");
}

static void test_string_functions(void **state)
{
    (void)state;
    assert_string_equal(V("lower(\"AbC-1\")"), "\"abc-1\"");
    assert_string_equal(V("upper(\"AbC-1\")"), "\"ABC-1\"");
    assert_string_equal(V("lower(\"\")"), "\"\"");
    /* ASCII only: other code points are kept */
    assert_string_equal(V("lower(\"\xc3\x80X\")"), "\"\xc3\x80x\"");
    assert_string_equal(V("upper(\"\xc3\xa9x\")"), "\"\xc3\xa9X\"");
    assert_string_equal(V("starts_with(\"hello\", \"he\")"), "true");
    assert_string_equal(V("starts_with(\"hello\", \"lo\")"), "false");
    assert_string_equal(V("starts_with(\"hello\", \"\")"), "true");
    assert_string_equal(V("starts_with(\"he\", \"hello\")"), "false");
    assert_string_equal(V("starts_with(\"hello\", \"hello\")"), "true");
    assert_string_equal(V("ends_with(\"hello\", \"lo\")"), "true");
    assert_string_equal(V("ends_with(\"hello\", \"he\")"), "false");
    assert_string_equal(V("ends_with(\"hello\", \"\")"), "true");
    assert_string_equal(V("ends_with(\"lo\", \"hello\")"), "false");
    assert_string_equal(V("starts_with(\"Hello\", \"he\")"), "false");
    assert_string_equal(VS("starts_with(u, \"ml-\")", "{\"u\":\"ml-team\"}"), "true");
    assert_string_equal(VS("ends_with(nope, \"x\")", "{}"), "false");
    assert_string_equal(VS("starts_with(n, \"1\")", "{\"n\":12}"), "false");
    /* lower/upper of anything but a string, null included: an error */
    assert_string_equal(ES("lower(n)", "{\"n\":12}"), "test:3: cannot apply lower() to an integer (12)");
    assert_string_equal(E("upper(nope)"), "test:3: cannot apply upper() to null");
    assert_string_equal(E("lower([\"A\"])"), "test:3: cannot apply lower() to a list");
    assert_string_equal(E("upper(2.5)"), "test:3: cannot apply upper() to a float (2.5)");
}

static void test_min_max(void **state)
{
    (void)state;
    assert_string_equal(V("min(1, 2)"), "1");
    assert_string_equal(V("min(2, 1)"), "1");
    assert_string_equal(V("max(1, 2)"), "2");
    assert_string_equal(V("max(2, 1)"), "2");
    assert_string_equal(V("min(2, 1.5)"), "1.5");
    assert_string_equal(V("max(1, 2.0)"), "2.0");
    assert_string_equal(V("max(2.5, 1)"), "2.5");
    assert_string_equal(V("min(-1, 0)"), "-1");
    assert_string_equal(V("min(\"a\", \"b\")"), "\"a\"");
    assert_string_equal(V("max(\"a\", \"b\")"), "\"b\"");
    assert_string_equal(V("max(\"abc\", \"ab\")"), "\"abc\"");
    /* one null argument: the other */
    assert_string_equal(V("min(null, 3)"), "3");
    assert_string_equal(V("min(3, null)"), "3");
    assert_string_equal(V("max(null, 3)"), "3");
    assert_string_equal(V("max(3, null)"), "3");
    assert_string_equal(V("max(null, \"s\")"), "\"s\"");
    assert_string_equal(V("min(null, [1])"), "[1]");
    assert_string_equal(V("min(null, null)"), "null");
    assert_string_equal(VS("min(nope, 2.0)", "{}"), "2.0");
    /* incomparable pairs: an evaluation error */
    const char *s = "{\"s\":\"a\",\"n\":1,\"b\":true,\"l\":[1],\"l2\":[2],\"m\":{}}";
    const char *bad[] = {"min(s, n)", "max(n, s)", "min(b, n)", "max(n, b)", "min(l, l2)",
                         "max(l, l2)", "min(m, m)", "max(b, b)", "min(l, n)"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        const char *m = ES(bad[i], s);
        if (strncmp(m, "test:3: cannot apply m", 22) != 0)
            fail_msg("%s: unexpected message %s", bad[i], m);
    }
    assert_string_equal(ES("min(s, n)", s),
                        "test:3: cannot apply min() to a string (\"a\") and an integer (1)");
    assert_string_equal(ES("max(l, l2)", s), "test:3: cannot apply max() to a list and a list");
    /* the canonical use */
    assert_string_equal(R("param cap = 2.0;\n"
                          "on run { set configuration.max_price = "
                          "min(configuration.max_price ?? $cap, $cap); }",
                          "{\"configuration\":{\"max_price\":3.5}}"),
                        "{\"configuration\":{\"max_price\":2.0}}");
    assert_string_equal(R("param cap = 2.0;\n"
                          "on run { set configuration.max_price = "
                          "min(configuration.max_price ?? $cap, $cap); }",
                          "{\"configuration\":{\"max_price\":1}}"),
                        "{\"configuration\":{\"max_price\":1}}");
    assert_string_equal(R("param cap = 2.0;\n"
                          "on run { set configuration.max_price = "
                          "min(configuration.max_price ?? $cap, $cap); }",
                          "{\"configuration\":{}}"),
                        "{\"configuration\":{\"max_price\":2.0}}");
}

static void test_int_str(void **state)
{
    (void)state;
    assert_string_equal(V("int(3.9)"), "3");
    assert_string_equal(V("int(-3.9)"), "-3");
    assert_string_equal(V("int(2.0)"), "2");
    assert_string_equal(V("int(7)"), "7");
    assert_string_equal(V("int(\"42\")"), "42");
    assert_string_equal(V("int(\"-42\")"), "-42");
    assert_string_equal(V("int(true)"), "1");
    assert_string_equal(V("int(false)"), "0");
    assert_string_equal(E("int(\"abc\")"), "test:3: cannot apply int() to a string (\"abc\"): "
                                           "not a decimal number in the integer range");
    assert_string_equal(E("int(\"42abc\")"), "test:3: cannot apply int() to a string (\"42abc\"): "
                                             "not a decimal number in the integer range");
    assert_string_equal(E("int(\"\")"), "test:3: cannot apply int() to a string (\"\"): "
                                        "not a decimal number in the integer range");
    assert_string_equal(E("int(null)"), "test:3: cannot apply int() to null");
    assert_string_equal(E("int([1])"), "test:3: cannot apply int() to a list");
    assert_string_equal(E("int({})"), "test:3: cannot apply int() to a map");
    assert_string_equal(V("int(512MB * 4)"), "2");
    /* a float far out of int range must not become a garbage int */
    assert_string_equal(ES("int(h)", "{\"h\":1e+300}"),
                        "test:3: cannot apply int() to a float (1e+300): out of the integer range");

    assert_string_equal(V("str(\"a\")"), "\"a\"");
    assert_string_equal(V("str(\"\")"), "\"\"");
    assert_string_equal(V("str(2)"), "\"2\"");
    assert_string_equal(V("str(-2)"), "\"-2\"");
    assert_string_equal(V("str(2.0)"), "\"2.0\"");
    assert_string_equal(V("str(2.5)"), "\"2.5\"");
    assert_string_equal(V("str(true)"), "\"true\"");
    assert_string_equal(V("str(false)"), "\"false\"");
    assert_string_equal(V("str(null)"), "\"null\"");
    assert_string_equal(V("str([1, \"a\"])"), "\"[1,\\\"a\\\"]\"");
    assert_string_equal(V("str({a: 1, b: [true]})"), "\"{\\\"a\\\":1,\\\"b\\\":[true]}\"");
    assert_string_equal(V("str(1d)"), "\"86400\"");
    assert_string_equal(V("str(512MB)"), "\"0.5\"");
    assert_string_equal(V("int(str(42)) == 42"), "true");
}

/* int() of a string: decimal text only. Hexadecimal (C's strtod syntax)
 * is junk and an evaluation error. */
static void test_int_rejects_hex(void **state)
{
    (void)state;
    assert_string_equal(V("int(\"12\")"), "12");
    const char *junk[] = {"nan", "inf", "1e300", "0x10", "0x1p3"};
    for (size_t i = 0; i < sizeof junk / sizeof *junk; i++) {
        char expr[64], want[200];
        snprintf(expr, sizeof expr, "int(\"%s\")", junk[i]);
        snprintf(want, sizeof want, "test:3: cannot apply int() to a string (\"%s\"): "
                 "not a decimal number in the integer range", junk[i]);
        assert_string_equal(E(expr), want);
    }
}

/* int() of decimal text is exact at both ends of the int range: the text
 * is never rounded through a double first (which took
 * "-9223372036854775809" as -2^63 and refused the in-range
 * "9.2233720368547758e18" as 2^63). */
static void test_int_text_boundaries(void **state)
{
    (void)state;
    static const struct { const char *text, *want; } ok[] = {
        {"9223372036854775807", "9223372036854775807"},
        {"-9223372036854775808", "-9223372036854775808"},
        {"+9223372036854775807", "9223372036854775807"},
        {"9223372036854775807.999", "9223372036854775807"},
        {"-9223372036854775808.999", "-9223372036854775808"},
        {"9.2233720368547758e18", "9223372036854775800"},
        {"-9.223372036854775808e18", "-9223372036854775808"},
        {"922337203685477580.7e1", "9223372036854775807"},
        {"0000000000000000000000009223372036854775807", "9223372036854775807"},
        {"1e18", "1000000000000000000"},
        {"123e-2", "1"},
        {"-0.5", "0"},
        {"-0", "0"},
        {"4.", "4"},
        {"1.5E+1", "15"},
        {"0e99999999999999999999", "0"},
        {"5e-99999999999999999999", "0"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        char expr[96];
        snprintf(expr, sizeof expr, "int(\"%s\")", ok[i].text);
        const char *got = V(expr);
        if (strcmp(got, ok[i].want) != 0)
            fail_msg("int(\"%s\") is %s, want %s", ok[i].text, got, ok[i].want);
    }
    static const char *const out_of_range[] = {
        "9223372036854775808", "-9223372036854775809", "9223372036854775808.0",
        "-9223372036854775809.5", "9.223372036854775808e18", "-9.223372036854775809e18",
        "92233720368547758080e-1", "1e19", "-1e19", "10000000000000000000",
        "1e99999999999999999999",
    };
    for (size_t i = 0; i < sizeof out_of_range / sizeof *out_of_range; i++) {
        char expr[96], want[200];
        snprintf(expr, sizeof expr, "int(\"%s\")", out_of_range[i]);
        snprintf(want, sizeof want, "test:3: cannot apply int() to a string (\"%s\"): "
                 "not a decimal number in the integer range", out_of_range[i]);
        assert_string_equal(E(expr), want);
    }
    static const char *const junk[] = {"1e", "1e+", "1.2.3", " 1", "1 ", ".5", "-", "+", "1_000",
                                       "--1", "1e5.0", "0x1A"};
    for (size_t i = 0; i < sizeof junk / sizeof *junk; i++) {
        char expr[96], want[200];
        snprintf(expr, sizeof expr, "int(\"%s\")", junk[i]);
        snprintf(want, sizeof want, "test:3: cannot apply int() to a string (\"%s\"): "
                 "not a decimal number in the integer range", junk[i]);
        assert_string_equal(E(expr), want);
    }
}

/* ------------------------------------------------------------------ */
/* quantifiers                                                         */
/* ------------------------------------------------------------------ */

static void test_quantifiers(void **state)
{
    (void)state;
    assert_string_equal(V("any x in [1, 2, 3]: x > 2"), "true");
    assert_string_equal(V("any x in [1, 2, 3]: x > 3"), "false");
    assert_string_equal(V("all x in [1, 2, 3]: x > 0"), "true");
    assert_string_equal(V("all x in [1, 2, 3]: x > 1"), "false");
    /* over a map's values */
    assert_string_equal(V("any v in {a: 1, b: 5}: v > 4"), "true");
    assert_string_equal(V("any v in {a: 1, b: 5}: v == \"a\""), "false");
    assert_string_equal(V("all v in {a: 1, b: 5}: v > 0"), "true");
    assert_string_equal(V("all v in {a: 1, b: 5}: v > 1"), "false");
    /* over null or empty */
    assert_string_equal(V("any x in null: true"), "false");
    assert_string_equal(V("all x in null: false"), "true");
    assert_string_equal(V("any x in []: true"), "false");
    assert_string_equal(V("all x in []: false"), "true");
    assert_string_equal(V("any x in {}: true"), "false");
    assert_string_equal(V("all x in {}: false"), "true");
    assert_string_equal(VS("any x in nope: true", "{}"), "false");
    assert_string_equal(VS("all x in nope.deep: false", "{}"), "true");
    /* the condition's value is taken for truth; result is a boolean */
    assert_string_equal(V("any x in [0, \"\", 3]: x"), "true");
    assert_string_equal(V("all x in [1, \"a\", [0]]: x"), "true");
    assert_string_equal(V("all x in [1, {}]: x"), "false");
    /* nested */
    assert_string_equal(V("any a in [[1, 2], [3]]: any b in a: b == 3"), "true");
    assert_string_equal(V("all a in [[1, 2], [3]]: any b in a: b > 1"), "true");
    assert_string_equal(V("all a in [[1, 2], [0]]: any b in a: b > 1"), "false");
    assert_string_equal(V("any a in [1, 2]: any b in [10, 20]: a * b == 40"), "true");
    assert_string_equal(V("all a in [1, 2]: all b in [3, 4]: b > a"), "true");
    /* the variable as a path root */
    const char *vols = "{\"configuration\":{\"volumes\":[{\"name\":\"data\",\"path\":\"/d\"},"
                       "{\"name\":\"scratch-1\",\"path\":\"/s\",\"meta\":{\"k\":[7]}}]}}";
    assert_string_equal(VS("any v in configuration.volumes: v.name =~ /^scratch-/", vols), "true");
    assert_string_equal(VS("all v in configuration.volumes: v.name =~ /^scratch-/", vols),
                        "false");
    assert_string_equal(VS("all v in configuration.volumes: starts_with(v.path, \"/\")", vols),
                        "true");
    assert_string_equal(VS("any v in configuration.volumes: v.meta.k[0] == 7", vols), "true");
    assert_string_equal(VS("any v in configuration.volumes: v[\"name\"] == \"data\"", vols),
                        "true");
    assert_string_equal(VS("any v in configuration.volumes: v.nope.x == null", vols), "true");
    /* the variable shadows a spec root of the same name, only inside */
    assert_string_equal(VS("(any configuration in [1]: configuration == 1) and "
                           "configuration.volumes[0].name == \"data\"",
                           vols),
                        "true");
    /* quantifiers inside larger expressions */
    assert_string_equal(V("not (any v in [1]: v == 2)"), "true");
    assert_string_equal(V("true and (all v in [1, 2]: v > 0)"), "true");
    assert_string_equal(V("[any v in [1]: v == 1, all v in []: false]"), "[true,true]");
    /* in a forbid-if */
    res r = run("on run { forbid-if any v in configuration.volumes: v.name =~ /^scratch-/ : "
                "\"no scratch\"; }",
                "run", "u", vols);
    assert_false(r.d.allowed);
    assert_string_equal(r.d.errors[0].text, "no scratch");
}

/* sum X in LIST: TERM adds one number per list element (issue 10: GPU
 * totals across replica and node groups). */
static void test_sum(void **state)
{
    (void)state;
    assert_string_equal(V("sum x in [1, 2, 3]: x"), "6");
    assert_string_equal(V("sum x in [1, 2.5]: x * 2"), "7.0");
    assert_string_equal(V("sum x in [[1, 2], [3]]: len(x)"), "3");
    /* nothing to add: 0 (an int) */
    assert_string_equal(V("sum x in []: x"), "0");
    assert_string_equal(V("sum x in null: x"), "0");
    assert_string_equal(VS("sum x in nope.deep: x", "{}"), "0");
    /* a list's elements only: a map (a dstack range {min, max}) or a
     * scalar is not a collection of terms */
    assert_string_equal(V("sum x in {a: 1, b: 5}: x"), "0");
    assert_string_equal(V("sum x in values({a: 1, b: 5}): x"), "6");
    assert_string_equal(V("sum x in \"abc\": x"), "0");
    assert_string_equal(V("sum x in 7: x"), "0");
    /* nested, and inside larger expressions */
    assert_string_equal(V("sum a in [[1, 2], [3]]: sum b in a: b * 10"), "60");
    assert_string_equal(V("(sum x in [1, 2]: x) + 1"), "4");
    assert_string_equal(V("(sum x in [4, 5]: x) > 8"), "true");
    /* the shape of dstack's replica groups: count x GPUs, with defaults */
    const char *groups =
        "{\"configuration\":{\"replicas\":["
        "{\"name\":\"a\",\"count\":{\"min\":1,\"max\":2},"
        "\"resources\":{\"gpu\":{\"count\":{\"min\":4,\"max\":4}}}},"
        "{\"name\":\"b\",\"count\":{\"min\":3,\"max\":null},"
        "\"resources\":{\"gpu\":{\"count\":{\"min\":1,\"max\":null}}}}]}}";
    assert_string_equal(VS("sum g in configuration.replicas: (g.count.max ?? g.count.min) * "
                           "(g.resources.gpu.count.max ?? g.resources.gpu.count.min)",
                           groups),
                        "11");
    /* a term that is not a number stops the decision (fail closed):
     * null included, since a missing count must not count as none */
    set_cur(must_compile("policy \"p\";\non run {\n  forbid-if (sum g in configuration.replicas: "
                         "g.count.max) > 4: \"too many\";\n}\n"));
    res r = eval_prog(cur, "run", "u", groups);
    assert_int_equal(r.st, RV_EEVAL);
    assert_string_equal(r.err.message, "p:3: cannot apply sum to null: each term must be a "
                                       "number (give a missing one a default with '?\?')");
    assert_string_equal(r.out, groups);
    set_cur(must_compile("policy \"p\";\non run {\n  forbid-if (sum g in configuration.replicas: "
                         "g.name) > 4: \"too many\";\n}\n"));
    r = eval_prog(cur, "run", "u", groups);
    assert_int_equal(r.st, RV_EEVAL);
    assert_string_equal(r.err.message, "p:3: cannot apply sum to a string (\"a\"): each term must "
                                       "be a number (give a missing one a default with '?\?')");
    /* int overflow goes on as + does */
    assert_string_equal(V("sum x in [9223372036854775807, 1]: x"),
                        V("9223372036854775807 + 1"));
}

/* A forbid-if or warn-if message names the element its condition's
 * quantifier stopped at: `any`'s first match, `not (all ...)`'s first
 * failure (issue 10: "replica group {r.name} is privileged" printed null). */
static void test_quantifier_witness(void **state)
{
    (void)state;
    const char *groups = "{\"configuration\":{\"replicas\":[{\"name\":\"small\"},"
                         "{\"name\":\"big\",\"privileged\":true},"
                         "{\"name\":\"huge\",\"privileged\":true}]}}";
    res r = run("on run { forbid-if any r in configuration.replicas: r.privileged:\n"
                "  \"replica group {r.name} asks for a privileged container\"; }",
                "run", "u", groups);
    assert_false(r.d.allowed);
    assert_string_equal(r.d.errors[0].text, "replica group big asks for a privileged container");
    r = run("on run { warn-if not (all r in configuration.replicas: r.privileged):\n"
            "  \"replica group {r.name} is not privileged\"; }",
            "run", "u", groups);
    assert_int_equal(r.d.nwarnings, 1);
    assert_string_equal(r.d.warnings[0].text, "replica group small is not privileged");
    /* over a map's values, and inside an each block (the slot above the
     * loop's) */
    r = run("on run { each g in configuration.replicas {\n"
            "  forbid-if any v in g: v == true: \"{g.name}: {v}\"; } }",
            "run", "u", groups);
    assert_false(r.d.allowed);
    assert_int_equal(r.d.nerrors, 2);
    assert_string_equal(r.d.errors[0].text, "big: true");
    assert_string_equal(r.d.errors[1].text, "huge: true");
    /* a quantifier in the message itself does not disturb the witness */
    r = run("on run { forbid-if any r in configuration.replicas: r.privileged:\n"
            "  \"{r.name} ({any x in [1]: x == 1})\"; }",
            "run", "u", groups);
    assert_string_equal(r.d.errors[0].text, "big (true)");
}

/* ------------------------------------------------------------------ */
/* $ names and parameters                                              */
/* ------------------------------------------------------------------ */

/* $request: what the host passes of a request beyond $user, $project and
 * $kind (SkyPilot's request facts), read-only; null when the host passes
 * nothing. */
static void test_request_context(void **state)
{
    (void)state;
    const char *policy = "policy \"p\" target any;\n"
                         "on launch, jobs.launch {\n"
                         "  forbid-if $request.client_api_version < 45: \"old client {$request.client_version}\";\n"
                         "  warn-if $request.options.dryrun: \"dry run by {$request.user.name} ({$kind})\";\n"
                         "  set task.seen = $request.at_client_side;\n"
                         "}\n";
    request_json = "{\"name\": \"jobs.launch\", \"at_client_side\": false, \"client_api_version\": 49,"
                   " \"client_version\": \"1.0.0\", \"options\": {\"dryrun\": true},"
                   " \"user\": {\"name\": \"alice\"}}";
    res r = run(policy, "jobs.launch", "alice", "{\"task\": {}}");
    assert_true(r.d.allowed);
    assert_int_equal(r.d.nwarnings, 1);
    assert_string_equal(r.d.warnings[0].text, "dry run by alice (jobs.launch)");
    assert_string_equal(r.out, "{\"task\":{\"seen\":false}}");
    request_json = "{\"client_api_version\": 44, \"client_version\": \"0.9\"}";
    r = run(policy, "launch", "alice", "{\"task\": {}}");
    assert_false(r.d.allowed);
    assert_string_equal(r.d.errors[0].text, "old client 0.9");
    /* none passed: null, so every read below it is null too */
    request_json = NULL;
    r = run(policy, "launch", "alice", "{\"task\": {}}");
    assert_true(r.d.allowed);
    assert_string_equal(r.out, "{\"task\":{\"seen\":null}}");
    assert_string_equal(V("$request"), "null");
}

static void test_context_names(void **state)
{
    (void)state;
    res r = eval_full(vm, (set_cur(must_compile("on * { set u = $user; set p = $project; "
                                                 "set k = $kind; }")),
                           cur),
                      "fleet", "bob", "research", "{}");
    assert_int_equal(r.st, RV_OK);
    assert_string_equal(r.out, "{\"u\":\"bob\",\"p\":\"research\",\"k\":\"fleet\"}");
    assert_string_equal(MSG("{$user}@{$project}/{$kind}", "{}"), "alice@proj/run");
}

static void test_params(void **state)
{
    (void)state;
    const char *pol = "policy \"lim\";\n"
                      "param max_price = 2.0;\n"
                      "param team = \"ml\";\n"
                      "param gpus = [1, 2];\n"
                      "on * { set p = $max_price; set t = $team; set g = $gpus; }\n";
    assert_string_equal(R(pol, "{}"), "{\"p\":2.0,\"t\":\"ml\",\"g\":[1,2]}");

    rv_error err;
    /* by policy name */
    set_cur(must_compile(pol));
    assert_int_equal(rv_program_set_param(cur, "lim", "max_price", "5", &err), RV_OK);
    assert_int_equal(rv_program_set_param(cur, "lim", "team", "\"infra\"", &err), RV_OK);
    assert_int_equal(rv_program_set_param(cur, "lim", "gpus", "[{\"a\":null}]", &err), RV_OK);
    res r = eval_prog(cur, "run", "u", "{}");
    assert_int_equal(r.st, RV_OK);
    assert_string_equal(r.out, "{\"p\":5.0,\"t\":\"infra\",\"g\":[{\"a\":null}]}");

    /* NULL policy; a value that is not JSON becomes a string */
    set_cur(must_compile(pol));
    assert_int_equal(rv_program_set_param(cur, NULL, "team", "platform team", &err), RV_OK);
    assert_int_equal(rv_program_set_param(cur, NULL, "max_price", "1.25", &err), RV_OK);
    r = eval_prog(cur, "run", "u", "{}");
    assert_int_equal(r.st, RV_OK);
    assert_string_equal(r.out, "{\"p\":1.25,\"t\":\"platform team\",\"g\":[1,2]}");

    set_cur(must_compile(pol));
    assert_int_equal(rv_program_set_param(cur, "lim", "team", "{not json", &err), RV_OK);
    r = eval_prog(cur, "run", "u", "{}");
    assert_string_equal(r.out, "{\"p\":2.0,\"t\":\"{not json\",\"g\":[1,2]}");

    /* A value must have its default's type (tests/unit/test_params.c has more). */
    set_cur(must_compile(pol));
    assert_int_equal(rv_program_set_param(cur, "lim", "team", "a: b", &err), RV_OK);  /* YAML, not JSON */
    assert_int_equal(rv_program_set_param(cur, "lim", "gpus", "5 6", &err), RV_EPARAM);
    assert_int_equal(rv_program_set_param(cur, "lim", "max_price", " true ", &err), RV_EPARAM);
    r = eval_prog(cur, "run", "u", "{}");
    assert_string_equal(r.out, "{\"p\":2.0,\"t\":\"a: b\",\"g\":[1,2]}");
    set_cur(must_compile(pol));
    assert_int_equal(rv_program_set_param(cur, "lim", "team", "", &err), RV_OK);
    assert_int_equal(rv_program_set_param(cur, "lim", "gpus", "null", &err), RV_EPARAM);
    r = eval_prog(cur, "run", "u", "{}");
    assert_string_equal(r.out, "{\"p\":2.0,\"t\":\"\",\"g\":[1,2]}");

    /* unknown parameter or policy */
    set_cur(must_compile(pol));
    assert_int_equal(rv_program_set_param(cur, "lim", "nope", "1", &err), RV_EPARAM);
    assert_int_equal(err.status, RV_EPARAM);
    assert_int_equal(rv_program_set_param(cur, "other", "team", "1", &err), RV_EPARAM);
    assert_int_equal(rv_program_set_param(cur, NULL, "nope", "1", &err), RV_EPARAM);
    /* failed overrides changed nothing */
    r = eval_prog(cur, "run", "u", "{}");
    assert_string_equal(r.out, "{\"p\":2.0,\"t\":\"ml\",\"g\":[1,2]}");

    /* NULL policy reaches every policy that declares the parameter */
    rc_input srcs[] = {
        {"a.rules", "param team = \"a\";\non * { set a = $team; }\n", 0, 0, 0, 0},
        {"b.rules", "param team = \"b\";\non * { set b = $team; }\n", 0, 0, 0, 0},
        {"c.rules", "param other = 1;\non * { set c = $other; }\n", 0, 0, 0, 0},
    };
    for (size_t i = 0; i < 3; i++)
        srcs[i].size = strlen(srcs[i].data);
    rv_program *p = compile_sources(srcs, 3, NULL);
    assert_non_null(p);
    set_cur(p);
    assert_int_equal(rv_program_set_param(cur, NULL, "team", "\"z\"", &err), RV_OK);
    assert_int_equal(rv_program_set_param(cur, "c", "team", "\"z\"", &err), RV_EPARAM);
    r = eval_prog(cur, "run", "u", "{}");
    assert_string_equal(r.out, "{\"a\":\"z\",\"b\":\"z\",\"c\":1}");

    /* parameters in conditions and templates */
    r = run("param limit = 2;\n"
            "on * { forbid-if n > $limit: \"n={n} > {$limit}\"; }",
            "run", "u", "{\"n\":3}");
    assert_false(r.d.allowed);
    assert_string_equal(r.d.errors[0].text, "n=3 > 2");
}

/* ------------------------------------------------------------------ */
/* message templates                                                   */
/* ------------------------------------------------------------------ */

static void test_templates(void **state)
{
    (void)state;
    const char *s = "{\"s\":\"str\",\"i\":2,\"f\":2.0,\"g\":2.5,\"b\":true,\"z\":null,"
                    "\"l\":[\"a\",\"b\"],\"m\":{\"k\":[1,{\"x\":null}]}}";
    assert_string_equal(MSG("{s}", s), "str");
    assert_string_equal(MSG("[{s}]", s), "[str]");
    assert_string_equal(MSG("{i}", s), "2");
    assert_string_equal(MSG("{f}", s), "2.0");
    assert_string_equal(MSG("{g}", s), "2.5");
    assert_string_equal(MSG("{b}", s), "true");
    assert_string_equal(MSG("{z}", s), "null");
    assert_string_equal(MSG("{nope}", s), "null");
    assert_string_equal(MSG("{l}", s), "[\"a\",\"b\"]");
    assert_string_equal(MSG("{m}", s), "{\"k\":[1,{\"x\":null}]}");
    assert_string_equal(MSG("{i + 1} and {i * 1.0}", s), "3 and 2.0");
    assert_string_equal(MSG("{1d}/{512MB}", s), "86400/0.5");
    assert_string_equal(MSG("{l[1]}{s}{i}", s), "bstr2");
    assert_string_equal(MSG("{\\\"q\\\" + s}", s), "qstr");
    assert_string_equal(MSG("{{literal}} {{{s}}}", s), "{literal} {str}");
    assert_string_equal(MSG("}}{{", s), "}{");
    assert_string_equal(MSG("no braces", s), "no braces");
    assert_string_equal(MSG("", s), "");
    assert_string_equal(MSG("{len(l)} items", s), "2 items");
    assert_string_equal(MSG("{any v in l: v == \\\"b\\\"}", s), "true");
    /* the template sees the spec as modified so far */
    res r = run("on * { set i = i + 1; forbid \"i is {i}\"; }", "run", "u", s);
    assert_string_equal(r.d.errors[0].text, "i is 3");
}

static bool valid_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n = *p < 0x80 ? 0 : (*p & 0xE0) == 0xC0 ? 1 : (*p & 0xF0) == 0xE0 ? 2
                 : (*p & 0xF8) == 0xF0 ? 3 : 9;
        if (n == 9)
            return false;
        unsigned long cp = n == 0 ? *p : n == 1 ? (*p & 0x1Fu) : n == 2 ? (*p & 0x0Fu) : (*p & 0x07u);
        for (size_t i = 1; i <= n; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (p[i] & 0x3Fu);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
            return false;
        p += n + 1;
    }
    return true;
}

/* One decoder reads every string: a message's text and a plain string
 * literal give the same bytes for the same escapes. */
static void test_template_escapes(void **state)
{
    (void)state;
    res r = run("on * {\n"
                "  forbid \"\\uD83D\\uDE2C {$user} \\u00e9\\n\\{\";\n"
                "  forbid \"{\\\"\\uD83D\\uDE2C \\\" + $user + \\\" \\u00e9\\n\\{\\\"}\";\n"
                "}\n",
                "run", "alice", "{}");
    assert_int_equal(r.d.nerrors, 2);
    assert_true(valid_utf8(r.d.errors[0].text));
    assert_string_equal(r.d.errors[0].text, "\xf0\x9f\x98\xac alice \xc3\xa9\n{");
    assert_string_equal(r.d.errors[0].text, r.d.errors[1].text);
    assert_string_equal(VS("\"\\uD83D\\uDE2C\"", "{}"), "\"\xf0\x9f\x98\xac\"");
}

/* A bad escape in a message is one error at its own position, as in a
 * plain string, and costs nothing else (no stray brace errors). */
static void test_template_escape_errors(void **state)
{
    (void)state;
    const char *pol = "on * {\n"
                      "  forbid \"a \\uD83D {$user}\";\n"
                      "  forbid \"b \\uZZ {$user}\";\n"
                      "  set x = \"a \\uD83D b\" + \"\\uZZ {\";\n"
                      "}\n";
    rc_input in = {"t.rules", pol, strlen(pol), 0, 0, 0};
    char *text = NULL;
    rv_program *p = compile_sources(&in, 1, &text);
    assert_null(p);
    assert_string_equal(text,
        "t.rules:2:13: error: invalid \\u escape: unpaired surrogate\n"
        "  forbid \"a \\uD83D {$user}\";\n"
        "            ^~~~~~\n"
        "t.rules:3:13: error: invalid \\u escape: expected 4 hex digits\n"
        "  forbid \"b \\uZZ {$user}\";\n"
        "            ^~~~~~\n"
        "t.rules:4:14: error: invalid \\u escape: unpaired surrogate\n"
        "  set x = \"a \\uD83D b\" + \"\\uZZ {\";\n"
        "             ^~~~~~\n"
        "t.rules:4:27: error: invalid \\u escape: expected 4 hex digits\n"
        "  set x = \"a \\uD83D b\" + \"\\uZZ {\";\n"
        "                          ^~~~~~\n");
    free(text);
}

/* ------------------------------------------------------------------ */
/* evaluation                                                          */
/* ------------------------------------------------------------------ */

static void test_order_and_visibility(void **state)
{
    (void)state;
    assert_string_equal(R("on * { set a = 1; set b = a + 1; set a = b * 10; }", "{}"),
                        "{\"a\":20,\"b\":2}");
    assert_string_equal(R("on * { unset a; default a = \"d\"; }", "{\"a\":\"x\"}"),
                        "{\"a\":\"d\"}");
    assert_string_equal(R("on * { append l 1; set n = len(l); }", "{}"), "{\"l\":[1],\"n\":1}");
    assert_string_equal(R("on * { append-tags { a: 1 }; set t = configuration.tags.a; }", "{}"),
                        "{\"configuration\":{\"tags\":{\"a\":\"1\"}},\"t\":\"1\"}");
    assert_string_equal(R("on * { set x = 1; match x == 1 { set y = 2; } }", "{}"),
                        "{\"x\":1,\"y\":2}");
    /* a value written from a spec subtree is a copy: later writes to the
     * source do not change it */
    assert_string_equal(R("on * { set b = a; set a.k = 2; append l2 a; set a.k = 3; }",
                          "{\"a\":{\"k\":1}}"),
                        "{\"a\":{\"k\":3},\"b\":{\"k\":1},\"l2\":[{\"k\":2}]}");
    /* several on blocks of one file run top to bottom */
    assert_string_equal(R("on * { set a = 1; }\non run { set a = a + 1; }\non * { set a = a * 10; }",
                          "{}"),
                        "{\"a\":20}");
}

static void test_rejection_rolls_back(void **state)
{
    (void)state;
    const char *in = "{\"z\":1.50,\"a\":{\"b\":1,\"c\":[1,2]},\"u\":\"keep\",\"n\":5,"
                     "\"configuration\":{\"tags\":{\"t\":\"v\"}},\"q\":null,\"big\":1e3}";
    /* print the input once, unevaluated, for the byte-for-byte check */
    rv_vm_reset(vm);
    rv_doc *d;
    rv_error err;
    assert_int_equal(rv_vm_parse(vm, in, strlen(in), RV_JSON, &d, &err), RV_OK);
    const char *want = print_compact(d);

    res r = run("on * {\n"
                "  set a.b = 2;\n"
                "  set a.new.deep = 1;\n"
                "  set n.x = 1;\n"
                "  append a.c 3;\n"
                "  append fresh 1;\n"
                "  unset u;\n"
                "  default q = 7;\n"
                "  set z = 9;\n"
                "  append-tags { t: \"w\", new: 1 };\n"
                "  append-tags other { k: 1 };\n"
                "  forbid \"first\";\n"
                "  set after = 1;\n"
                "  forbid-if after == 1: \"second sees {after}\";\n"
                "  warn \"w\";\n"
                "}\n",
                "run", "u", in);
    assert_false(r.d.allowed);
    assert_string_equal(r.out, want);
    assert_int_equal(r.d.nerrors, 2);
    assert_string_equal(r.d.errors[0].text, "first");
    assert_string_equal(r.d.errors[1].text, "second sees 1");
    assert_int_equal(r.d.nwarnings, 1);

    /* key order is restored too (a removed middle key comes back in place) */
    r = run("on * { unset b; set b = 9; unset a; forbid \"x\"; }", "run", "u",
            "{\"a\":1,\"b\":2,\"c\":3}");
    assert_false(r.d.allowed);
    assert_string_equal(r.out, "{\"a\":1,\"b\":2,\"c\":3}");
}

/* each VAR in LIST { ... }: statements per element, writes below it. */
static void test_each(void **state)
{
    (void)state;
    const char *groups = "{\"configuration\":{\"replicas\":[{\"name\":\"a\",\"privileged\":true,"
                         "\"resources\":{\"gpu\":{\"count\":{\"max\":8}}}},"
                         "{\"name\":\"b\",\"docker\":true},{\"name\":\"c\"}]}}";
    const char *pol = "on * {\n"
                      "  each g in configuration.replicas {\n"
                      "    forbid-if g.privileged or g.docker: \"replica group {g.name} is privileged\";\n"
                      "    set g.resources.gpu.count.max = min(g.resources.gpu.count.max ?? 1, 1);\n"
                      "  }\n"
                      "}\n";
    res r = run(pol, "run", "u", groups);
    assert_false(r.d.allowed);
    assert_int_equal(r.d.nerrors, 2);
    assert_string_equal(r.d.errors[0].text, "replica group a is privileged");
    assert_string_equal(r.d.errors[1].text, "replica group b is privileged");

    /* allowed: every element written, each change named by its index */
    r = run(pol, "run", "u",
            "{\"configuration\":{\"replicas\":[{\"resources\":{\"gpu\":{\"count\":{\"max\":8}}}},"
            "{\"name\":\"b\"},\"not a map\"]}}");
    assert_true(r.d.allowed);
    assert_string_equal(r.out,
                        "{\"configuration\":{\"replicas\":[{\"resources\":{\"gpu\":{\"count\":{"
                        "\"max\":1}}}},{\"name\":\"b\",\"resources\":{\"gpu\":{\"count\":{"
                        "\"max\":1}}}},\"not a map\"]}}");
    assert_int_equal(r.d.nchanges, 2);
    assert_string_equal(r.d.changes[0].path, "configuration.replicas[0].resources.gpu.count.max");
    assert_string_equal(r.d.changes[1].path, "configuration.replicas[1].resources.gpu.count.max");

    /* missing, null, a map, a scalar: the body never runs */
    const char *count = "on * { each x in xs { forbid \"ran {x}\"; } }";
    assert_true(run(count, "run", "u", "{}").d.allowed);
    assert_true(run(count, "run", "u", "{\"xs\":null}").d.allowed);
    assert_true(run(count, "run", "u", "{\"xs\":{\"a\":1}}").d.allowed);
    assert_true(run(count, "run", "u", "{\"xs\":\"abc\"}").d.allowed);
    assert_true(run(count, "run", "u", "{\"xs\":[]}").d.allowed);
    r = run(count, "run", "u", "{\"xs\":[1,null,\"z\"]}");
    assert_int_equal(r.d.nerrors, 3);
    assert_string_equal(r.d.errors[2].text, "ran z");

    /* nested blocks, the inner list below the outer element; default,
     * unset and append below the element; a quantifier inside a block */
    r = run("on * {\n"
            "  each g in gs {\n"
            "    each h in g.items {\n"
            "      default h.seen = g.name;\n"
            "      unset h.drop;\n"
            "      append h.log (g.name);\n"
            "      warn-if any t in h.tags: t == g.name: \"{h.id} tagged {g.name}\";\n"
            "    }\n"
            "    set g.n = len(g.items);\n"
            "  }\n"
            "}\n",
            "run", "u",
            "{\"gs\":[{\"name\":\"p\",\"items\":[{\"id\":1,\"drop\":0,\"tags\":[\"p\"]},{\"id\":2,"
            "\"seen\":\"x\"}]},{\"name\":\"q\"}]}");
    assert_true(r.d.allowed);
    assert_string_equal(r.out,
                        "{\"gs\":[{\"name\":\"p\",\"items\":[{\"id\":1,\"tags\":[\"p\"],\"seen\":"
                        "\"p\",\"log\":[\"p\"]},{\"id\":2,\"seen\":\"x\",\"log\":[\"p\"]}],\"n\":2},"
                        "{\"name\":\"q\",\"n\":0}]}");
    assert_int_equal(r.d.nwarnings, 1);
    assert_string_equal(r.d.warnings[0].text, "1 tagged p");
    assert_string_equal(r.d.changes[0].path, "gs[0].items[0].seen");
    assert_string_equal(r.d.changes[1].path, "gs[0].items[0].drop");
    assert_string_equal(r.d.changes[2].path, "gs[0].items[0].log");
    assert_string_equal(r.d.changes[3].path, "gs[0].items[1].log");
    assert_string_equal(r.d.changes[4].path, "gs[0].n");
    assert_string_equal(r.d.changes[5].path, "gs[1].n");
    assert_int_equal(r.d.nchanges, 6);

    /* an inner write that shortens an outer list: the outer loop still
     * visits the elements it started with, and reads stay in bounds */
    r = run("on * { each g in ys[0].zs { each h in ys { unset h.zs[0]; } warn \"{g}\"; } }",
            "run", "u", "{\"ys\":[{\"zs\":[1,2]}]}");
    assert_true(r.d.allowed);
    assert_string_equal(r.out, "{\"ys\":[{\"zs\":[]}]}");
    assert_int_equal(r.d.nwarnings, 2);
    assert_string_equal(r.d.warnings[0].text, "1");
    assert_string_equal(r.d.warnings[1].text, "2");

    /* a rejection rolls element writes back too */
    r = run("on * { each g in gs { set g.x = 1; } forbid \"no\"; }", "run", "u",
            "{\"gs\":[{\"y\":2},{}]}");
    assert_false(r.d.allowed);
    assert_string_equal(r.out, "{\"gs\":[{\"y\":2},{}]}");

    /* the compiler keeps writes below the innermost element */
    const char *bad[] = {
        "on * { each g in gs { set gs = []; } }",
        "on * { each g in gs { set other = 1; } }",
        "on * { each g in gs { set g = 1; } }",
        "on * { each g in gs { each h in g.items { set g.x = 1; } } }",
        "on * { each g in gs { append-tags { a: 1 }; } }",
        "on * { each g in $user { forbid \"x\"; } }",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *diags = NULL;
        rc_input in = {"t.rules", bad[i], strlen(bad[i]), 0, 0, 0};
        rv_program *p = compile_sources(&in, 1, &diags);
        if (p)
            fail_msg("compiled: %s", bad[i]);
        free(diags);
    }
}

/* Does compiling src fail with a diagnostic containing want? */
static void expect_compile_error(const char *src, const char *want)
{
    char *diags = NULL;
    rc_input in = {"t.rules", src, strlen(src), 0, 0, 0};
    rv_program *p = compile_sources(&in, 1, &diags);
    if (p) {
        rv_program_free(p);
        fail_msg("compiled: %s", src);
    }
    if (!diags || !strstr(diags, want))
        fail_msg("%s\nwanted \"%s\" in:\n%s", src, want, diags ? diags : "(nothing)");
    free(diags);
}

/* each KEY, VALUE in MAP: the map's members in its order, the key a
 * string, writes below the value named .KEY or ["odd key"]. */
static void test_each_map(void **state)
{
    (void)state;
    const char *pol = "on * {\n"
                      "  each name, value in configuration.env {\n"
                      "    warn-if name =~ /TOKEN|SECRET|PASSWORD/i: \"env {name} looks like a credential\";\n"
                      "    warn \"{name}={value}\";\n"
                      "  }\n"
                      "}\n";
    res r = run(pol, "run", "u",
                "{\"configuration\":{\"env\":{\"ZED\":\"1\",\"HF_TOKEN\":\"x\",\"a\":2,"
                "\"db_password\":null}}}");
    assert_true(r.d.allowed);
    assert_int_equal(r.d.nchanges, 0);
    assert_int_equal(r.d.nwarnings, 6);
    /* the map's order, not sorted */
    assert_string_equal(r.d.warnings[0].text, "ZED=1");
    assert_string_equal(r.d.warnings[1].text, "env HF_TOKEN looks like a credential");
    assert_string_equal(r.d.warnings[2].text, "HF_TOKEN=x");
    assert_string_equal(r.d.warnings[3].text, "a=2");
    assert_string_equal(r.d.warnings[4].text, "env db_password looks like a credential");
    assert_string_equal(r.d.warnings[5].text, "db_password=null");

    /* missing, null, a list, a scalar, an empty map: the body never runs
     * (the one-variable form, over a list, is the other way round) */
    const char *count = "on * { each k, v in xs { forbid \"ran {k}\"; } }";
    assert_true(run(count, "run", "u", "{}").d.allowed);
    assert_true(run(count, "run", "u", "{\"xs\":null}").d.allowed);
    assert_true(run(count, "run", "u", "{\"xs\":[1,2]}").d.allowed);
    assert_true(run(count, "run", "u", "{\"xs\":\"abc\"}").d.allowed);
    assert_true(run(count, "run", "u", "{\"xs\":{}}").d.allowed);
    r = run(count, "run", "u", "{\"xs\":{\"p\":1,\"q\":2}}");
    assert_int_equal(r.d.nerrors, 2);
    assert_string_equal(r.d.errors[1].text, "ran q");
    assert_true(run("on * { each x in xs { forbid \"ran\"; } }", "run", "u",
                    "{\"xs\":{\"p\":1}}").d.allowed);

    /* the key is a string value: compared, passed to functions, used in a
     * computed key */
    r = run("on * { each k, v in m { warn-if starts_with(k, \"a\") and m[k] == v: \"{upper(k)}\"; } }",
            "run", "u", "{\"m\":{\"ab\":1,\"b\":2,\"ac\":[3]}}");
    assert_int_equal(r.d.nwarnings, 2);
    assert_string_equal(r.d.warnings[0].text, "AB");
    assert_string_equal(r.d.warnings[1].text, "AC");

    /* writes below a map value; keys that are not identifiers in brackets;
     * a value that is not a map is left alone */
    r = run("on * { each k, v in pools { set v.gpu.max = 1; default v.seen = k; unset v.old; } }",
            "run", "u",
            "{\"pools\":{\"a100\":{\"old\":1},\"odd key\":{},\"2x\":{\"seen\":\"y\"},\"s\":\"scalar\"}}");
    assert_true(r.d.allowed);
    assert_string_equal(r.out,
                        "{\"pools\":{\"a100\":{\"gpu\":{\"max\":1},\"seen\":\"a100\"},"
                        "\"odd key\":{\"gpu\":{\"max\":1},\"seen\":\"odd key\"},"
                        "\"2x\":{\"seen\":\"y\",\"gpu\":{\"max\":1}},\"s\":\"scalar\"}}");
    assert_int_equal(r.d.nchanges, 6);
    assert_string_equal(r.d.changes[0].path, "pools.a100.gpu.max");
    assert_string_equal(r.d.changes[1].path, "pools.a100.seen");
    assert_string_equal(r.d.changes[2].path, "pools.a100.old");
    assert_string_equal(r.d.changes[3].path, "pools[\"odd key\"].gpu.max");
    assert_string_equal(r.d.changes[4].path, "pools[\"odd key\"].seen");
    assert_string_equal(r.d.changes[5].path, "pools[\"2x\"].gpu.max");

    /* a list in a map: each inside each k, v, changes below both */
    r = run("on * { each k, v in m { each x in v.items { set x.by = k; } } }", "run", "u",
            "{\"m\":{\"p\":{\"items\":[{},{}]},\"q\":{\"items\":[]},\"r s\":{\"items\":[{}]}}}");
    assert_true(r.d.allowed);
    assert_int_equal(r.d.nchanges, 3);
    assert_string_equal(r.d.changes[0].path, "m.p.items[0].by");
    assert_string_equal(r.d.changes[1].path, "m.p.items[1].by");
    assert_string_equal(r.d.changes[2].path, "m[\"r s\"].items[0].by");
    assert_string_equal(r.out, "{\"m\":{\"p\":{\"items\":[{\"by\":\"p\"},{\"by\":\"p\"}]},"
                               "\"q\":{\"items\":[]},\"r s\":{\"items\":[{\"by\":\"r s\"}]}}}");

    /* a map in a list, and the members of the element itself */
    r = run("on * { each g in gs { each k, v in g.env { set v.from = g.name; } "
            "each f, x in g { warn \"{g.name}:{f}\"; } } }",
            "run", "u", "{\"gs\":[{\"name\":\"a\",\"env\":{\"X\":{}}},{\"name\":\"b\"}]}");
    assert_true(r.d.allowed);
    assert_int_equal(r.d.nchanges, 1);
    assert_string_equal(r.d.changes[0].path, "gs[0].env.X.from");
    assert_int_equal(r.d.nwarnings, 3);
    assert_string_equal(r.d.warnings[0].text, "a:name");
    assert_string_equal(r.d.warnings[1].text, "a:env");
    assert_string_equal(r.d.warnings[2].text, "b:name");

    /* two map loops nested: the inner key shadows nothing it should not */
    r = run("on * { each a, x in m { each b, y in x { warn \"{a}.{b}={y}\"; } } }", "run", "u",
            "{\"m\":{\"p\":{\"q\":1,\"r\":2},\"s\":{\"t\":3}}}");
    assert_int_equal(r.d.nwarnings, 3);
    assert_string_equal(r.d.warnings[2].text, "s.t=3");

    /* an inner write that removes a member of an outer map: the outer loop
     * still visits the members it started with */
    r = run("on * { each k, v in ys[0].m { each h in ys { unset h.m.b; } warn \"{k}={v}\"; } }",
            "run", "u", "{\"ys\":[{\"m\":{\"a\":1,\"b\":2}}]}");
    assert_true(r.d.allowed);
    assert_string_equal(r.out, "{\"ys\":[{\"m\":{\"a\":1}}]}");
    assert_int_equal(r.d.nwarnings, 2);
    assert_string_equal(r.d.warnings[1].text, "b=2");

    /* a rejection rolls writes below values back */
    r = run("on * { each k, v in m { set v.x = 1; } forbid \"no\"; }", "run", "u",
            "{\"m\":{\"a\":{}}}");
    assert_false(r.d.allowed);
    assert_string_equal(r.out, "{\"m\":{\"a\":{}}}");

    /* refused: writes to the key, to the value itself, to the map, to the
     * spec, to an outer value; fields of the key; one name for both */
    expect_compile_error("on * { each k, v in m { set k = 1; } }",
                         "cannot write to 'k': the key of a map member is read-only");
    expect_compile_error("on * { each k, v in m { unset k.x; } }", "'k' is a map key");
    expect_compile_error("on * { each k, v in m { forbid-if k.x: \"x\"; } }",
                         "'k' is a map key, a string: it has no fields");
    expect_compile_error("on * { each k, v in m { set v = 1; } }",
                         "cannot replace 'v' itself: write a field below it (v.FIELD), so the "
                         "map keeps its keys");
    expect_compile_error("on * { each k, v in m { set m.new = 1; } }",
                         "could change the map being iterated");
    expect_compile_error("on * { each k, v in m { each x in v.items { set v.y = 1; } } }",
                         "not the outer 'v': its map is iterated");
    expect_compile_error("on * { each k, v in m { append-tags { a: 1 }; } }",
                         "append-tags cannot be used inside");
    expect_compile_error("on * { each k, k in m { forbid \"x\"; } }",
                         "names the key and the value alike");
    expect_compile_error("on * { each k, v in $user { forbid \"x\"; } }",
                         "'each KEY, VALUE' goes over a map in the spec");
    expect_compile_error("on * { each k, v in m { each a, b in k { forbid \"x\"; } } }",
                         "'each KEY, VALUE' goes over a map in the spec");
}

/* Three nested blocks over 10,000-element lists: 10^12 rounds, which the
 * instruction budget ends with a clear error, quickly. */
static void test_each_budget(void **state)
{
    (void)state;
    char *spec = malloc(6 + 3 * 10000 + 3);
    assert_non_null(spec);
    size_t n = 0;
    n += (size_t)sprintf(spec + n, "{\"a\":[");
    for (int i = 0; i < 10000; i++)
        n += (size_t)sprintf(spec + n, i ? ",{}" : "{}");
    sprintf(spec + n, "]}");
    set_cur(must_compile("on * {\n"
                         "  each x in a {\n"
                         "    each y in a {\n"
                         "      each z in a {\n"
                         "        set z.seen = true;\n"
                         "      }\n"
                         "    }\n"
                         "  }\n"
                         "}\n"));
    res r = eval_prog(cur, "run", "u", spec);
    assert_int_equal(r.st, RV_ELIMIT);
    if (!strstr(r.err.message, "instruction budget of 10000000 exhausted in policy"))
        fail_msg("message: %s", r.err.message);
    free(spec);
}

static void test_changes(void **state)
{
    (void)state;
    res r = run("policy \"chg\";\n"                              /* 1 */
                "on * {\n"                                       /* 2 */
                "  set a = 2;\n"                                 /* 3 */
                "  set a = 2;\n"                                 /* 4: no change */
                "  default b = \"x\";\n"                         /* 5 */
                "  unset c;\n"                                   /* 6 */
                "  append l 3;\n"                                /* 7 */
                "  set m[\"k\"] = [1];\n"                        /* 8 */
                "  set arr[1] = 0;\n"                            /* 9 */
                "}\n",
                "run", "u", "{\"a\":1,\"c\":true,\"l\":[1],\"arr\":[5,6]}");
    assert_true(r.d.allowed);
    assert_string_equal(r.out, "{\"a\":2,\"l\":[1,3],\"arr\":[5,0],\"b\":\"x\",\"m\":{\"k\":[1]}}");
    assert_int_equal(r.d.nchanges, 6);
    const rv_change *c = r.d.changes;
    assert_string_equal(c[0].path, "a");
    assert_string_equal(doc_json(c[0].old_value), "1");
    assert_string_equal(doc_json(c[0].new_value), "2");
    assert_string_equal(c[0].policy, "chg");
    assert_int_equal(c[0].line, 3);
    assert_string_equal(c[1].path, "b");
    assert_null(c[1].old_value);
    assert_string_equal(doc_json(c[1].new_value), "\"x\"");
    assert_int_equal(c[1].line, 5);
    assert_string_equal(c[2].path, "c");
    assert_string_equal(doc_json(c[2].old_value), "true");
    assert_null(c[2].new_value);
    assert_int_equal(c[2].line, 6);
    assert_string_equal(c[3].path, "l");
    assert_string_equal(doc_json(c[3].old_value), "[1]");
    assert_string_equal(doc_json(c[3].new_value), "[1,3]");
    assert_int_equal(c[3].line, 7);
    assert_non_null(strstr(c[4].path, "k"));
    assert_null(c[4].old_value);
    assert_string_equal(doc_json(c[4].new_value), "[1]");
    assert_int_equal(c[4].line, 8);
    assert_string_equal(c[5].path, "arr[1]");
    assert_string_equal(doc_json(c[5].old_value), "6");
    assert_string_equal(doc_json(c[5].new_value), "0");
    assert_int_equal(c[5].line, 9);
    for (size_t i = 0; i < r.d.nchanges; i++)
        assert_string_equal(c[i].policy, "chg");
}

/* ------------------------------------------------------------------ */
/* kinds                                                               */
/* ------------------------------------------------------------------ */

static void test_kinds(void **state)
{
    (void)state;
    const char *pol = "on run, fleet { append seen \"run|fleet\"; }\n"
                      "on * { append seen \"*\"; }\n"
                      "on gateway { append seen \"gateway\"; }\n"
                      "on volume { append seen \"volume\"; }\n"
                      "on custom_kind { append seen \"custom\"; }\n"
                      "on run { append seen \"run\"; }\n";
    assert_string_equal(run(pol, "run", "u", "{}").out, "{\"seen\":[\"run|fleet\",\"*\",\"run\"]}");
    assert_string_equal(run(pol, "fleet", "u", "{}").out, "{\"seen\":[\"run|fleet\",\"*\"]}");
    assert_string_equal(run(pol, "gateway", "u", "{}").out, "{\"seen\":[\"*\",\"gateway\"]}");
    assert_string_equal(run(pol, "volume", "u", "{}").out, "{\"seen\":[\"*\",\"volume\"]}");
    assert_string_equal(run(pol, "custom_kind", "u", "{}").out,
                        "{\"seen\":[\"*\",\"custom\"]}");
    assert_string_equal(run(pol, "other", "u", "{}").out, "{\"seen\":[\"*\"]}");

    /* a policy that does not apply to the kind does nothing */
    res r = run("on gateway { forbid \"no\"; set x = 1; warn \"w\"; }", "run", "u", "{\"a\":1}");
    assert_true(r.d.allowed);
    assert_string_equal(r.out, "{\"a\":1}");
    assert_int_equal(r.d.nchanges, 0);
    assert_int_equal(r.d.nerrors, 0);
    assert_int_equal(r.d.nwarnings, 0);
    r = run("on gateway { forbid \"no\"; }", "gateway", "u", "{}");
    assert_false(r.d.allowed);

    /* policy info: kinds */
    set_cur(must_compile("on run, fleet { }\n"));
    rv_policy_info info;
    rv_program_policy(cur, 0, &info);
    assert_int_equal(info.nkinds, 2);
    set_cur(must_compile("on * { }\n"));
    rv_program_policy(cur, 0, &info);
    assert_int_equal(info.nkinds, 0);
}

/* ------------------------------------------------------------------ */
/* policy sets                                                         */
/* ------------------------------------------------------------------ */

static rv_program *compile_set(const char *const *names, const char *const *texts, size_t n)
{
    rc_input srcs[8];
    assert_true(n <= 8);
    for (size_t i = 0; i < n; i++)
        srcs[i] = (rc_input){names[i], texts[i], strlen(texts[i]), 0, 0, i};
    return compile_sources(srcs, n, NULL);
}

static void test_policy_sets(void **state)
{
    (void)state;
    /* ascending priority; each sees the previous output */
    {
        const char *names[] = {"x.rules", "y.rules", "z.rules"};
        const char *texts[] = {
            "policy \"plus\" priority 20;\non * { set v = v + 1; append log \"plus\"; }\n",
            "policy \"times\" priority -5;\non * { set v = v * 10; append log \"times\"; }\n",
            "policy \"sq\" priority 7;\non * { set v = v * v; append log \"sq\"; }\n",
        };
        set_cur(compile_set(names, texts, 3));
        assert_non_null(cur);
        res r = eval_prog(cur, "run", "u", "{\"v\":1}");
        assert_int_equal(r.st, RV_OK);
        assert_string_equal(r.out, "{\"v\":101,\"log\":[\"times\",\"sq\",\"plus\"]}");
        assert_int_equal(r.d.nchanges, 6);
        assert_string_equal(r.d.changes[0].policy, "times");
        assert_string_equal(r.d.changes[5].policy, "plus");
    }
    /* ties by name; names default to the file's stem */
    {
        const char *names[] = {"rules/zeta.rules", "rules/alpha.rules", "rules/mid.rules"};
        const char *texts[] = {
            "on * { append log \"zeta\"; }\n",
            "on * { append log \"alpha\"; }\n",
            "policy \"beta\";\non * { append log \"beta\"; }\n",
        };
        set_cur(compile_set(names, texts, 3));
        assert_non_null(cur);
        res r = eval_prog(cur, "run", "u", "{}");
        assert_string_equal(r.out, "{\"log\":[\"alpha\",\"beta\",\"zeta\"]}");
        assert_string_equal(r.d.changes[0].policy, "alpha");
    }
    /* same name: only the higher priority is kept */
    {
        const char *names[] = {"shipped.rules", "site.rules"};
        const char *texts[] = {
            "policy \"limits\" priority 0;\non * { set cap = 1; forbid \"shipped\"; }\n",
            "policy \"limits\" priority 10;\non * { set cap = 2; }\n",
        };
        set_cur(compile_set(names, texts, 2));
        assert_non_null(cur);
        assert_int_equal(rv_program_policy_count(cur), 1);
        rv_policy_info info;
        rv_program_policy(cur, 0, &info);
        assert_string_equal(info.name, "limits");
        assert_int_equal(info.priority, 10);
        res r = eval_prog(cur, "run", "u", "{}");
        assert_true(r.d.allowed);
        assert_string_equal(r.out, "{\"cap\":2}");
        /* the same the other way round */
        const char *names2[] = {"site.rules", "shipped.rules"};
        const char *texts2[] = {texts[1], texts[0]};
        set_cur(compile_set(names2, texts2, 2));
        assert_non_null(cur);
        assert_int_equal(rv_program_policy_count(cur), 1);
        r = eval_prog(cur, "run", "u", "{}");
        assert_true(r.d.allowed);
        assert_string_equal(r.out, "{\"cap\":2}");
    }
    /* same name and priority: an error */
    {
        const char *names[] = {"a.rules", "b.rules"};
        const char *texts[] = {
            "policy \"dup\" priority 3;\non * { }\n",
            "policy \"dup\" priority 3;\non * { }\n",
        };
        rc_input srcs[2] = {{names[0], texts[0], strlen(texts[0]), 0, 0, 0},
                            {names[1], texts[1], strlen(texts[1]), 0, 0, 1}};
        char *diag = NULL;
        rv_program *p = compile_sources(srcs, 2, &diag);
        assert_null(p);
        free(diag);
    }
    /* forbids in several policies are all reported, in order; all rolled back */
    {
        const char *names[] = {"one.rules", "two.rules", "three.rules"};
        const char *texts[] = {
            "policy \"one\" priority 1;\non * { set a = 1; forbid \"one says no\"; }\n",
            "policy \"two\" priority 2;\non * { set b = a; append-tags { t: 1 }; }\n",
            "policy \"three\" priority 3;\non * { forbid-if b == 1: \"three says no ({b})\"; "
            "unset keep; }\n",
        };
        set_cur(compile_set(names, texts, 3));
        assert_non_null(cur);
        res r = eval_prog(cur, "run", "u", "{\"keep\":[1]}");
        assert_int_equal(r.st, RV_OK);
        assert_false(r.d.allowed);
        assert_int_equal(r.d.nerrors, 2);
        assert_string_equal(r.d.errors[0].text, "one says no");
        assert_string_equal(r.d.errors[0].policy, "one");
        assert_string_equal(r.d.errors[1].text, "three says no (1)");
        assert_string_equal(r.d.errors[1].policy, "three");
        assert_string_equal(r.out, "{\"keep\":[1]}");
    }
}

/* ------------------------------------------------------------------ */
/* limits and input                                                    */
/* ------------------------------------------------------------------ */

static void test_instruction_budget(void **state)
{
    (void)state;
    set_cur(must_compile("on * {\n"
                         "  set a = 1; set b = 2; set c.d = 3; append l 1; unset keep;\n"
                         "  set x = all v in [1,2,3,4,5,6,7,8,9,10]: "
                         "all w in [1,2,3,4,5,6,7,8,9,10]: v * w > 0;\n"
                         "}\n"));
    rv_config cfg;
    rv_config_init(&cfg);
    cfg.instruction_budget = 50;
    rv_vm *small;
    assert_int_equal(rv_vm_new(&cfg, &small), RV_OK);
    const char *in = "{\"keep\":true,\"a\":0}";
    res r = eval_full(small, cur, "run", "u", "p", in);
    assert_int_equal(r.st, RV_ELIMIT);
    assert_int_equal(r.err.status, RV_ELIMIT);
    assert_true(strlen(r.err.message) > 0);
    assert_string_equal(r.out, in);   /* restored */
    /* the VM stays usable and a generous budget succeeds */
    rv_vm_free(small);
    r = eval_prog(cur, "run", "u", in);
    assert_int_equal(r.st, RV_OK);
    assert_true(r.d.instructions > 50);
    assert_string_equal(r.out, "{\"a\":1,\"b\":2,\"c\":{\"d\":3},\"l\":[1],\"x\":true}");
}

static void test_regex_limit(void **state)
{
    (void)state;
    set_cur(must_compile("on * { set before = 1; forbid-if s =~ /^(a+)+$/: \"matched\"; }"));
    const char *in = "{\"s\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\"}";
    res r = eval_prog(cur, "run", "u", in);
    assert_int_equal(r.st, RV_ELIMIT);
    assert_int_equal(r.err.status, RV_ELIMIT);
    if (!strstr(r.err.message, "(a+)+"))
        fail_msg("message does not name the regex: %s", r.err.message);
    assert_string_equal(r.out, in);
    /* a short subject is fine */
    r = eval_prog(cur, "run", "u", "{\"s\":\"aaaa\"}");
    assert_int_equal(r.st, RV_OK);
    assert_false(r.d.allowed);
}

/* The budget counts all policies of a decision; a limit hit in a later
 * policy restores what earlier policies wrote. */
static void test_limits_across_policies(void **state)
{
    (void)state;
    const char *names[] = {"a.rules", "b.rules"};
    const char *texts[] = {
        "policy \"first\" priority 1;\non * { set a = 1; set b.c = [1, 2]; unset keep; "
        "append l 1; append-tags { t: 1 }; }\n",
        "policy \"second\" priority 2;\non * { set x = all v in [1,2,3,4,5,6,7,8]: "
        "all w in [1,2,3,4,5,6,7,8]: v + w > 0; }\n",
    };
    set_cur(compile_set(names, texts, 2));
    assert_non_null(cur);
    const char *in = "{\"keep\":1,\"l\":[0]}";
    /* how many instructions the whole decision takes */
    res r = eval_prog(cur, "run", "u", in);
    assert_int_equal(r.st, RV_OK);
    uint64_t total = r.d.instructions;
    /* and how many the first policy alone takes */
    rv_program *first = compile_set(names, texts, 1);
    assert_non_null(first);
    r = eval_prog(first, "run", "u", in);
    assert_int_equal(r.st, RV_OK);
    uint64_t first_n = r.d.instructions;
    rv_program_free(first);
    assert_true(first_n < total);

    rv_config cfg;
    rv_config_init(&cfg);
    cfg.instruction_budget = first_n + 5;  /* enough for the first, not both */
    rv_vm *small;
    assert_int_equal(rv_vm_new(&cfg, &small), RV_OK);
    r = eval_full(small, cur, "run", "u", "p", in);
    assert_int_equal(r.st, RV_ELIMIT);
    assert_string_equal(r.out, in);
    /* the exact budget is enough */
    rv_vm_free(small);
    cfg.instruction_budget = total;
    assert_int_equal(rv_vm_new(&cfg, &small), RV_OK);
    r = eval_full(small, cur, "run", "u", "p", in);
    assert_int_equal(r.st, RV_OK);
    assert_true(r.d.allowed);
    /* and the same VM is usable for the next decision */
    r = eval_full(small, cur, "run", "u", "p", "{}");
    assert_int_equal(r.st, RV_OK);
    rv_vm_free(small);
}

/* Catastrophic regexes in every place a regex can run. */
static void test_regex_limit_everywhere(void **state)
{
    (void)state;
    const char *in = "{\"s\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\",\"l\":[\"x\","
                     "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\"]}";
    const char *pols[] = {
        "on * { set t = 1; set r = s !~ /^(a+)+$/; }",
        "on * { set t = 1; match s =~ /^(a+)+$/ { set y = 1; } }",
        "on * { set t = 1; set r = any v in l: v =~ /^(a+)+$/; }",
        "on * { set t = 1; warn \"{s =~ /^(a+)+$/}\"; }",
        "on * { set t = 1; set r = false or s =~ /^(a+)+$/; }",
    };
    for (size_t i = 0; i < sizeof pols / sizeof *pols; i++) {
        set_cur(must_compile(pols[i]));
        res r = eval_prog(cur, "run", "u", in);
        if (r.st != RV_ELIMIT)
            fail_msg("%s: got %s, want RV_ELIMIT", pols[i], rv_status_name(r.st));
        if (!strstr(r.err.message, "(a+)+"))
            fail_msg("%s: message does not name the regex: %s", pols[i], r.err.message);
        assert_string_equal(r.out, in);
    }
    /* a regex limit configured higher still ends */
    rv_config cfg;
    rv_config_init(&cfg);
    cfg.regex_match_limit = 100;
    rv_vm *small;
    assert_int_equal(rv_vm_new(&cfg, &small), RV_OK);
    set_cur(must_compile("on * { set r = s =~ /^(a|aa)+$/; }"));
    res r = eval_full(small, cur, "run", "u", "p", "{\"s\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaac\"}");
    assert_int_equal(r.st, RV_ELIMIT);
    rv_vm_free(small);
}

static void test_root_must_be_object(void **state)
{
    (void)state;
    set_cur(must_compile("on * { set a = 1; }"));
    const char *bad[] = {"[1,2]", "5", "\"s\"", "null", "true", "[]"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        rv_vm_reset(vm);
        rv_doc *d;
        rv_error err;
        assert_int_equal(rv_vm_parse(vm, bad[i], strlen(bad[i]), RV_JSON, &d, &err), RV_OK);
        rv_request req = {.kind = "run", .user = "u", .project = "p"};
        rv_decision dec;
        rv_status st = rv_vm_eval(vm, cur, &req, d, &dec, &err);
        if (st != RV_EINPUT)
            fail_msg("root %s gave %s, want RV_EINPUT", bad[i], rv_status_name(st));
        assert_int_equal(err.status, RV_EINPUT);
    }
    /* an empty object is fine */
    res r = eval_prog(cur, "run", "u", "{}");
    assert_int_equal(r.st, RV_OK);
    assert_string_equal(r.out, "{\"a\":1}");
}

/* keys(), values(), type(), contains(), at_least(), accelerators()
 * (issue 10): each type, null, and the errors with their exact text. */
static void test_map_functions(void **state)
{
    (void)state;
    const char *env = "{\"env\":{\"B\":1,\"A\":[2],\"C\":null}}";
    assert_string_equal(VS("keys(env)", env), "[\"B\",\"A\",\"C\"]");   /* the map's order */
    assert_string_equal(VS("values(env)", env), "[1,[2],null]");
    assert_string_equal(V("keys({})"), "[]");
    assert_string_equal(V("values({})"), "[]");
    assert_string_equal(VS("keys(nope)", "{}"), "[]");                  /* null: [] */
    assert_string_equal(VS("values(nope)", "{}"), "[]");
    assert_int_equal(TS("any k in keys(env): k =~ /^A$/", env), 1);
    assert_int_equal(TS("\"C\" in keys(env)", env), 1);
    assert_string_equal(ES("keys(l)", "{\"l\":[1]}"), "test:3: cannot apply keys() to a list: not a map");
    assert_string_equal(ES("values(s)", "{\"s\":\"a\"}"),
                        "test:3: cannot apply values() to a string (\"a\"): not a map");
    assert_string_equal(ES("keys(n)", "{\"n\":1}"), "test:3: cannot apply keys() to an integer (1): not a map");
    /* + extends lists and merges maps (the right side wins); no function
     * duplicates it */
    assert_string_equal(VS("setup + [\"b\"]", "{\"setup\":[\"a\"]}"), "[\"a\",\"b\"]");
    assert_string_equal(VS("env + {B: 2}", env), "{\"B\":2,\"A\":[2],\"C\":null}");
}

static void test_type_function(void **state)
{
    (void)state;
    const char *doc = "{\"a\":null,\"b\":true,\"i\":3,\"f\":2.5,\"s\":\"x\",\"l\":[],\"m\":{}}";
    assert_string_equal(VS("type(a)", doc), "\"null\"");
    assert_string_equal(VS("type(missing)", doc), "\"null\"");
    assert_string_equal(VS("type(b)", doc), "\"bool\"");
    assert_string_equal(VS("type(i)", doc), "\"int\"");
    assert_string_equal(VS("type(f)", doc), "\"float\"");
    assert_string_equal(VS("type(s)", doc), "\"string\"");
    assert_string_equal(VS("type(l)", doc), "\"list\"");
    assert_string_equal(VS("type(m)", doc), "\"map\"");
    assert_string_equal(V("type(24GB)"), "\"float\"");
    /* the volume rule a string defeated: `all n in "my-vol"` is true */
    assert_int_equal(TS("type(v) == \"list\" and (all n in v: n =~ /^ok-/)", "{\"v\":\"my-vol\"}"), 0);
}

static void test_contains(void **state)
{
    (void)state;
    assert_string_equal(V("contains(\"nvidia/cuda:12\", \"cuda\")"), "true");
    assert_string_equal(V("contains(\"nvidia/cuda:12\", \"rocm\")"), "false");
    assert_string_equal(V("contains(\"abc\", \"\")"), "true");
    assert_string_equal(V("contains(\"\", \"a\")"), "false");
    assert_string_equal(VS("contains(image, \"x\")", "{}"), "false");      /* null: false */
    assert_string_equal(ES("contains(image, \"1\")", "{\"image\":12}"),
                        "test:3: cannot apply contains() to an integer (12) and a string (\"1\"): "
                        "it takes a string and a substring");
    assert_string_equal(ES("contains(l, \"a\")", "{\"l\":[\"a\"]}"),
                        "test:3: cannot apply contains() to a list and a string (\"a\"): "
                        "it takes a string and a substring");
    assert_string_equal(ES("contains(\"abc\", n)", "{}"),
                        "test:3: cannot apply contains() to a string (\"abc\") and null: "
                        "it takes a string and a substring");
}

static void test_at_least(void **state)
{
    (void)state;
    assert_string_equal(VS("at_least(cpus)", "{\"cpus\":\"4+\"}"), "4");
    assert_string_equal(VS("at_least(cpus)", "{\"cpus\":\"4\"}"), "4");
    assert_string_equal(VS("at_least(cpus)", "{\"cpus\":4}"), "4");
    assert_string_equal(VS("at_least(cpus)", "{\"cpus\":0.5}"), "0.5");
    assert_string_equal(VS("at_least(cpus)", "{\"cpus\":\"0.5+\"}"), "0.5");
    assert_string_equal(VS("at_least(cpus)", "{\"cpus\":\"2.0\"}"), "2.0");
    assert_string_equal(VS("at_least(memory)", "{\"memory\":\"32+\"}"), "32");
    assert_string_equal(VS("at_least(memory)", "{\"memory\":\"32GB+\"}"), "32.0");
    assert_string_equal(VS("at_least(memory)", "{\"memory\":\"512MB\"}"), "0.5");
    assert_string_equal(VS("at_least(memory)", "{\"memory\":\"1tb+\"}"), "1024.0");
    assert_string_equal(VS("at_least(memory)", "{\"memory\":\"2T\"}"), "2048.0");
    assert_string_equal(VS("at_least(memory)", "{}"), "null");            /* null: null */
    assert_int_equal(TS("at_least(cpus) > 8", "{\"cpus\":\"16+\"}"), 1);
    assert_string_equal(ES("at_least(cpus)", "{\"cpus\":\"many\"}"),
                        "test:3: cannot apply at_least() to a string (\"many\"): "
                        "not a count such as 4, \"4\", \"4+\" or \"32GB+\"");
    assert_string_equal(ES("at_least(cpus)", "{\"cpus\":\"+\"}"),
                        "test:3: cannot apply at_least() to a string (\"+\"): "
                        "not a count such as 4, \"4\", \"4+\" or \"32GB+\"");
    assert_string_equal(ES("at_least(cpus)", "{\"cpus\":\"4++\"}"),
                        "test:3: cannot apply at_least() to a string (\"4++\"): "
                        "not a count such as 4, \"4\", \"4+\" or \"32GB+\"");
    assert_string_equal(ES("at_least(cpus)", "{\"cpus\":\"-4\"}"),
                        "test:3: cannot apply at_least() to a string (\"-4\"): "
                        "not a count such as 4, \"4\", \"4+\" or \"32GB+\"");
    assert_string_equal(ES("at_least(cpus)", "{\"cpus\":\"4GiB\"}"),
                        "test:3: cannot apply at_least() to a string (\"4GiB\"): "
                        "not a count such as 4, \"4\", \"4+\" or \"32GB+\"");
    assert_string_equal(ES("at_least(cpus)", "{\"cpus\":true}"),
                        "test:3: cannot apply at_least() to a bool (true): "
                        "not a count such as 4, \"4\", \"4+\" or \"32GB+\"");
    assert_string_equal(ES("at_least(cpus)", "{\"cpus\":[4]}"),
                        "test:3: cannot apply at_least() to a list: "
                        "not a count such as 4, \"4\", \"4+\" or \"32GB+\"");
}

static void test_accelerators(void **state)
{
    (void)state;
    const char *why = "not an accelerator such as \"A100\", \"A100:8\" or {\"A100\": 8}";
    char want[256];
    assert_string_equal(VS("accelerators(a)", "{\"a\":\"A100:8\"}"), "{\"A100\":8}");
    assert_string_equal(VS("accelerators(a)", "{\"a\":\"V100\"}"), "{\"V100\":1}");
    assert_string_equal(VS("accelerators(a)", "{\"a\":\"tpu-v6e-8\"}"), "{\"tpu-v6e-8\":1}");
    assert_string_equal(VS("accelerators(a)", "{\"a\":\"A100:0.5\"}"), "{\"A100\":0.5}");
    assert_string_equal(VS("accelerators(a)", "{\"a\":{\"A100\":8}}"), "{\"A100\":8}");
    /* YAML's set form {A100:8, H100:8}: keys with null values */
    assert_string_equal(VS("accelerators(a)", "{\"a\":{\"A100:8\":null,\"H100\":null}}"),
                        "{\"A100\":8,\"H100\":1}");
    /* a list of alternatives; on a name in several, the larger count */
    assert_string_equal(VS("accelerators(a)", "{\"a\":[\"A100:2\",{\"H100\":8},\"A100:4\",\"A100\"]}"),
                        "{\"A100\":4,\"H100\":8}");
    assert_string_equal(VS("accelerators(a)", "{}"), "{}");                /* null: {} */
    assert_string_equal(VS("accelerators(a)", "{\"a\":[]}"), "{}");
    assert_int_equal(TS("all n in accelerators(a): n <= 8", "{\"a\":\"A100:16\"}"), 0);
    assert_int_equal(TS("all n in accelerators(a): n <= 8", "{\"a\":{\"A100\":8}}"), 1);
    snprintf(want, sizeof want, "test:3: cannot apply accelerators() to a string (\"A100:x\"): %s", why);
    assert_string_equal(ES("accelerators(a)", "{\"a\":\"A100:x\"}"), want);
    snprintf(want, sizeof want, "test:3: cannot apply accelerators() to a string (\":8\"): %s", why);
    assert_string_equal(ES("accelerators(a)", "{\"a\":\":8\"}"), want);
    snprintf(want, sizeof want, "test:3: cannot apply accelerators() to a string (\"\"): %s", why);
    assert_string_equal(ES("accelerators(a)", "{\"a\":\"\"}"), want);
    snprintf(want, sizeof want, "test:3: cannot apply accelerators() to a string (\"A100:8+\"): %s", why);
    assert_string_equal(ES("accelerators(a)", "{\"a\":\"A100:8+\"}"), want);
    snprintf(want, sizeof want, "test:3: cannot apply accelerators() to a map: %s", why);
    assert_string_equal(ES("accelerators(a)", "{\"a\":{\"A100\":\"8\"}}"), want);
    assert_string_equal(ES("accelerators(a)", "{\"a\":{\"A100\":-1}}"), want);
    assert_string_equal(ES("accelerators(a)", "{\"a\":{\"A100:8\":8}}"), want);
    snprintf(want, sizeof want, "test:3: cannot apply accelerators() to an integer (8): %s", why);
    assert_string_equal(ES("accelerators(a)", "{\"a\":8}"), want);
    snprintf(want, sizeof want, "test:3: cannot apply accelerators() to a list: %s", why);
    assert_string_equal(ES("accelerators(a)", "{\"a\":[[\"A100\"]]}"), want);
}

/* Joining empty lists. Kept last in the run: under UBSan a failure here
 * (memcpy with a NULL pointer) ends the whole process. */
static void test_empty_list_concat(void **state)
{
    (void)state;
    assert_string_equal(V("[] + [1]"), "[1]");
    assert_string_equal(V("[1] + []"), "[1]");
    assert_string_equal(VS("a + b", "{\"a\":[],\"b\":[]}"), "[]");
    assert_string_equal(V("[] + []"), "[]");
}

/* One set holding dstack's, SkyPilot's and target any's policies (rulesd
 * serves both protocols from one set): a request of one target runs that
 * target's policies and any's, never the other's, even an `on *` one. */
static void test_request_target(void **state)
{
    (void)state;
    static const char dstack_src[] =
        "policy \"d\" target dstack;\non * {\n  set configuration.name = \"d\";\n}\n";
    static const char sky_src[] =
        "policy \"s\" target skypilot;\non * {\n  set task.name = \"s\";\n}\n";
    static const char any_src[] = "policy \"a\" target any;\non * {\n  set seen = $kind;\n}\n";
    rc_input in[3] = {{"d.rules", dstack_src, sizeof dstack_src - 1, 0, 0, 0},
                      {"s.rules", sky_src, sizeof sky_src - 1, 0, 0, 0},
                      {"a.rules", any_src, sizeof any_src - 1, 0, 0, 0}};
    rv_program *prog = compile_sources(in, 3, NULL);
    assert_non_null(prog);
    rv_policy_info info;
    const char *want[3][2] = {{"a", "any"}, {"d", "dstack"}, {"s", "skypilot"}};
    assert_int_equal(rv_program_policy_count(prog), 3);
    for (size_t i = 0; i < 3; i++) {
        rv_program_policy(prog, i, &info);
        assert_string_equal(info.name, want[i][0]);
        assert_string_equal(info.target, want[i][1]);
    }

    static const struct {
        const char *kind, *target, *out;
    } cases[] = {
        {"run", "dstack", "{\"configuration\":{\"name\":\"d\"},\"seen\":\"run\"}"},
        {"launch", "skypilot", "{\"configuration\":{},\"seen\":\"launch\",\"task\":{\"name\":\"s\"}}"},
        /* A request name the target does not list yet: still SkyPilot's. */
        {"jobs.launch_controller", "skypilot",
         "{\"configuration\":{},\"seen\":\"jobs.launch_controller\",\"task\":{\"name\":\"s\"}}"},
        /* A target no policy has: only target any's judge it. */
        {"run", "flyte", "{\"configuration\":{},\"seen\":\"run\"}"},
        /* No target said: every policy whose kinds match. */
        {"run", NULL,
         "{\"configuration\":{\"name\":\"d\"},\"seen\":\"run\",\"task\":{\"name\":\"s\"}}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rv_vm_reset(vm);
        rv_doc *spec;
        rv_error err;
        assert_int_equal(rv_vm_parse(vm, "{\"configuration\":{}}", 20, RV_JSON, &spec, &err), RV_OK);
        rv_request req = {.kind = cases[i].kind, .user = "u", .project = "p", .target = cases[i].target};
        rv_decision d;
        assert_int_equal(rv_vm_eval(vm, prog, &req, spec, &d, &err), RV_OK);
        const char *out = print_compact(d.spec);
        if (strcmp(out, cases[i].out) != 0)
            fail_msg("kind %s target %s: got %s, want %s", cases[i].kind,
                     cases[i].target ? cases[i].target : "NULL", out, cases[i].out);
    }
    rv_program_free(prog);

    /* What hosts pass: the target told, or for "any" the one that has the
     * kind (so `rulec apply --target any` keeps protocols apart too). */
    assert_string_equal(rc_request_target(NULL, "run"), "dstack");
    assert_string_equal(rc_request_target("dstack", "run"), "dstack");
    assert_string_equal(rc_request_target("skypilot", "launch"), "skypilot");
    assert_string_equal(rc_request_target("any", "run"), "dstack");
    assert_string_equal(rc_request_target("any", "jobs.launch"), "skypilot");
    assert_null(rc_request_target("any", "something-else"));
    assert_null(rc_request_target("any", NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set),
        cmocka_unit_test(test_set_nested_type_change),
        cmocka_unit_test(test_default),
        cmocka_unit_test(test_unset),
        cmocka_unit_test(test_append),
        cmocka_unit_test(test_append_tags),
        cmocka_unit_test(test_forbid_warn),
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_index_and_quoted_paths),
        cmocka_unit_test(test_path_reads),
        cmocka_unit_test(test_computed_keys),
        cmocka_unit_test(test_coalesce_and_logic),
        cmocka_unit_test(test_equality),
        cmocka_unit_test(test_ordering),
        cmocka_unit_test(test_in),
        cmocka_unit_test(test_regex),
        cmocka_unit_test(test_arithmetic),
        cmocka_unit_test(test_modulo_zero_sign),
        cmocka_unit_test(test_map_merge),
        cmocka_unit_test(test_eval_errors),
        cmocka_unit_test(test_int_overflow),
        cmocka_unit_test(test_truthiness),
        cmocka_unit_test(test_literals),
        cmocka_unit_test(test_units),
        cmocka_unit_test(test_exists_len),
        cmocka_unit_test(test_string_functions),
        cmocka_unit_test(test_min_max),
        cmocka_unit_test(test_map_functions),
        cmocka_unit_test(test_type_function),
        cmocka_unit_test(test_contains),
        cmocka_unit_test(test_at_least),
        cmocka_unit_test(test_accelerators),
        cmocka_unit_test(test_int_str),
        cmocka_unit_test(test_int_rejects_hex),
        cmocka_unit_test(test_int_text_boundaries),
        cmocka_unit_test(test_quantifiers),
        cmocka_unit_test(test_sum),
        cmocka_unit_test(test_quantifier_witness),
        cmocka_unit_test(test_context_names),
        cmocka_unit_test(test_request_context),
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_templates),
        cmocka_unit_test(test_template_escapes),
        cmocka_unit_test(test_template_escape_errors),
        cmocka_unit_test(test_order_and_visibility),
        cmocka_unit_test(test_rejection_rolls_back),
        cmocka_unit_test(test_each),
        cmocka_unit_test(test_each_map),
        cmocka_unit_test(test_each_budget),
        cmocka_unit_test(test_changes),
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_policy_sets),
        cmocka_unit_test(test_instruction_budget),
        cmocka_unit_test(test_regex_limit),
        cmocka_unit_test(test_limits_across_policies),
        cmocka_unit_test(test_regex_limit_everywhere),
        cmocka_unit_test(test_root_must_be_object),
        cmocka_unit_test(test_empty_list_concat),
        cmocka_unit_test(test_request_target),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
