/* test_params.c - parameter overrides are typed: the VM refuses a value
 * SPDX-License-Identifier: Apache-2.0
 * whose type is not the declared default's (rv_program_set_param), and the
 * compiler library reads override text as the language's literals
 * (rc_literal_json, rc_set_param), so `1h` is 3600 as in a policy.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "helpers.h"

static const char *const all_types = "policy \"p\";\n"
                                     "param i = 2h;\n"
                                     "param f = 2.0;\n"
                                     "param s = \"ml\";\n"
                                     "param b = true;\n"
                                     "param l = [1];\n"
                                     "param m = {a: 1};\n"
                                     "param n = null;\n"
                                     "on * { set f = $f; set n = $n; }\n";

/* The current value of policy 0's parameter name, as compact JSON. */
static const char *value_of(const rv_program *prog, const char *name)
{
    rv_policy_info info;
    rv_program_policy(prog, 0, &info);
    for (size_t j = 0; j < info.nparams; j++) {
        const char *n, *v;
        rv_program_param(prog, 0, j, &n, &v);
        if (strcmp(n, name) == 0)
            return v;
    }
    return NULL;
}

static void expect_refused(rv_program *prog, const char *param, const char *json,
                           const char *message)
{
    rv_error err;
    const char *before = value_of(prog, param);
    assert_int_equal(rv_program_set_param(prog, "p", param, json, &err), RV_EPARAM);
    assert_int_equal(err.status, RV_EPARAM);
    assert_string_equal(err.message, message);
    assert_string_equal(value_of(prog, param), before);  /* unchanged */
}

static void test_vm_checks_types(void **state)
{
    (void)state;
    rv_program *prog = compile_text(all_types);
    assert_non_null(prog);
    rv_error err;

    /* Each type takes its own kind of value. */
    assert_int_equal(rv_program_set_param(prog, "p", "i", "3600", &err), RV_OK);
    assert_string_equal(value_of(prog, "i"), "3600");
    assert_int_equal(rv_program_set_param(prog, "p", "f", "2.5", &err), RV_OK);
    assert_int_equal(rv_program_set_param(prog, "p", "s", "\"infra\"", &err), RV_OK);
    assert_int_equal(rv_program_set_param(prog, "p", "b", "false", &err), RV_OK);
    assert_int_equal(rv_program_set_param(prog, "p", "l", "[\"a\",\"b\"]", &err), RV_OK);
    assert_int_equal(rv_program_set_param(prog, "p", "m", "{}", &err), RV_OK);
    assert_string_equal(value_of(prog, "m"), "{}");

    /* ...and nothing else, naming policy.param, the type, the default
     * (as loaded, not as overridden) and the value. */
    expect_refused(prog, "i", "1.5",
                   "parameter 'p.i' takes an int (its default is 7200), not a float 1.5");
    expect_refused(prog, "i", "1h",  /* not JSON: a string, which an int refuses */
                   "parameter 'p.i' takes an int (its default is 7200), not a string \"1h\"");
    expect_refused(prog, "i", "null",
                   "parameter 'p.i' takes an int (its default is 7200), not null");
    expect_refused(prog, "f", "\"2\"",
                   "parameter 'p.f' takes a float or an int (its default is 2.0), not a string \"2\"");
    expect_refused(prog, "s", "42",
                   "parameter 'p.s' takes a string (its default is \"ml\"), not an int 42");
    expect_refused(prog, "b", "1",
                   "parameter 'p.b' takes a bool (its default is true), not an int 1");
    expect_refused(prog, "l", "{\"a\":1}",
                   "parameter 'p.l' takes a list (its default is [1]), not a map {\"a\":1}");
    expect_refused(prog, "m", "[1]",
                   "parameter 'p.m' takes a map (its default is {\"a\":1}), not a list [1]");

    /* A long value is quoted in part. */
    char big[400];
    big[0] = '[';
    size_t n = 1;
    while (n < sizeof big - 4) {
        big[n++] = '1';
        big[n++] = ',';
    }
    big[n++] = '1';
    big[n++] = ']';
    big[n] = '\0';
    assert_int_equal(rv_program_set_param(prog, "p", "s", big, &err), RV_EPARAM);
    assert_true(strlen(err.message) < 300);
    assert_non_null(strstr(err.message, ",1,1..."));

    /* An int for a float becomes a float; a null default takes anything,
     * again and again (its type is the default's, not the last value's). */
    assert_int_equal(rv_program_set_param(prog, "p", "f", "3", &err), RV_OK);
    assert_string_equal(value_of(prog, "f"), "3.0");
    assert_int_equal(rv_program_set_param(prog, "p", "n", "5", &err), RV_OK);
    assert_int_equal(rv_program_set_param(prog, "p", "n", "\"x\"", &err), RV_OK);
    assert_int_equal(rv_program_set_param(prog, "p", "n", "[true]", &err), RV_OK);

    rv_vm *vm;
    rv_doc *spec;
    rv_decision d;
    rv_request req = {.kind = "run", .user = "u", .project = "p"};
    const char *out;
    size_t len;
    assert_int_equal(rv_vm_new(NULL, &vm), RV_OK);
    assert_int_equal(rv_vm_parse(vm, "{}", 2, RV_JSON, &spec, &err), RV_OK);
    assert_int_equal(rv_vm_eval(vm, prog, &req, spec, &d, &err), RV_OK);
    assert_int_equal(rv_vm_print(vm, d.spec, RV_JSON, 0, &out, &len, &err), RV_OK);
    assert_string_equal(out, "{\"f\":3.0,\"n\":[true]}");
    rv_vm_free(vm);
    rv_program_free(prog);
}

/* With no policy named, every policy that declares the parameter must take
 * the value, or none gets it. */
static void test_vm_all_or_nothing(void **state)
{
    (void)state;
    rc_input srcs[] = {
        {"a.rules", "param team = \"a\";\non * { set a = $team; }\n", 0, 0, 0, 0},
        {"b.rules", "param team = 1;\non * { set b = $team; }\n", 0, 0, 0, 0},
    };
    for (size_t i = 0; i < 2; i++)
        srcs[i].size = strlen(srcs[i].data);
    rv_program *prog = compile_sources(srcs, 2, NULL);
    assert_non_null(prog);
    rv_error err;
    assert_int_equal(rv_program_set_param(prog, NULL, "team", "\"z\"", &err), RV_EPARAM);
    assert_string_equal(err.message,
                        "parameter 'b.team' takes an int (its default is 1), not a string \"z\"");
    assert_string_equal(value_of(prog, "team"), "\"a\"");
    assert_int_equal(rv_program_set_param(prog, "a", "team", "\"z\"", &err), RV_OK);
    assert_string_equal(value_of(prog, "team"), "\"z\"");
    rv_program_free(prog);
}

static void expect_literal(const char *text, const char *json)
{
    char *out = NULL;
    char why[200];
    int r = rc_literal_json(text, strlen(text), &out, why, sizeof why);
    if (r != 1)
        fail_msg("'%s' is not a literal: %s", text, why);
    assert_string_equal(out, json);
    free(out);
}

static void expect_not_literal(const char *text, const char *why_part)
{
    char *out = (char *)"unset";
    char why[200];
    assert_int_equal(rc_literal_json(text, strlen(text), &out, why, sizeof why), 0);
    assert_null(out);
    if (!strstr(why, why_part))
        fail_msg("'%s': '%s' does not say '%s'", text, why, why_part);
}

/* Override text means what it means in a policy. */
static void test_literal_json(void **state)
{
    (void)state;
    expect_literal("1h", "3600");
    expect_literal(" 1.5h ", "5400");
    expect_literal("2w", "1209600");
    expect_literal("24GB", "24.0");
    expect_literal("512MB", "0.5");
    expect_literal("2.0", "2.0");
    expect_literal("-3", "-3");
    expect_literal("42", "42");
    expect_literal("\"text\"", "\"text\"");
    expect_literal("\"1h\"", "\"1h\"");
    expect_literal("true", "true");
    expect_literal("null", "null");
    expect_literal("[\"a\",\"b\",]", "[\"a\",\"b\"]");
    expect_literal("{a: 1, \"b-c\": 2w, on: [1h]}", "{\"a\":1,\"b-c\":1209600,\"on\":[3600]}");
    expect_not_literal("ml", "not a literal");
    expect_not_literal("1 + 2", "not a literal");
    expect_not_literal("$x", "not a literal");
    expect_not_literal("two words", "column ");
    expect_not_literal("[1,", "column ");
    expect_not_literal("", "");
    /* Text to a policy: nothing after the value is read as code. */
    expect_not_literal("1; on run { forbid \"x\"; }", "column 2");
}

/* rc_set_param: literals, and bare words only where a string is declared. */
static void test_set_param_text(void **state)
{
    (void)state;
    rv_program *prog = compile_text(all_types);
    assert_non_null(prog);
    rv_error err;
    assert_int_equal(rc_set_param(prog, NULL, "i", "1h", &err), RV_OK);
    assert_string_equal(value_of(prog, "i"), "3600");
    assert_int_equal(rc_set_param(prog, "p", "f", "24GB", &err), RV_OK);
    assert_string_equal(value_of(prog, "f"), "24.0");
    assert_int_equal(rc_set_param(prog, "p", "f", "2", &err), RV_OK);
    assert_string_equal(value_of(prog, "f"), "2.0");
    assert_int_equal(rc_set_param(prog, "p", "s", "ml-infra", &err), RV_OK);
    assert_string_equal(value_of(prog, "s"), "\"ml-infra\"");
    assert_int_equal(rc_set_param(prog, "p", "s", "platform team", &err), RV_OK);
    assert_string_equal(value_of(prog, "s"), "\"platform team\"");
    assert_int_equal(rc_set_param(prog, "p", "s", "\"1h\"", &err), RV_OK);
    assert_string_equal(value_of(prog, "s"), "\"1h\"");
    assert_int_equal(rc_set_param(prog, "p", "l", "[\"a\", 2h]", &err), RV_OK);
    assert_string_equal(value_of(prog, "l"), "[\"a\",7200]");
    assert_int_equal(rc_set_param(prog, "p", "m", "{team: \"ml\"}", &err), RV_OK);
    assert_int_equal(rc_set_param(prog, "p", "b", "false", &err), RV_OK);
    assert_int_equal(rc_set_param(prog, "p", "n", "anything", &err), RV_OK);
    assert_string_equal(value_of(prog, "n"), "\"anything\"");

    assert_int_equal(rc_set_param(prog, NULL, "i", "two", &err), RV_EPARAM);
    assert_string_equal(err.message,
                        "parameter 'p.i' takes an int (its default is 7200), not a string \"two\"");
    assert_int_equal(rc_set_param(prog, NULL, "i", "2.5", &err), RV_EPARAM);
    assert_int_equal(rc_set_param(prog, NULL, "s", "42", &err), RV_EPARAM);
    assert_string_equal(err.message,
                        "parameter 'p.s' takes a string (its default is \"ml\"), not an int 42");
    assert_int_equal(rc_set_param(prog, NULL, "b", "yes", &err), RV_EPARAM);
    assert_int_equal(rc_set_param(prog, NULL, "l", "[1,", &err), RV_EPARAM);
    assert_int_equal(rc_set_param(prog, NULL, "nope", "1", &err), RV_EPARAM);
    assert_string_equal(err.message, "no policy in the set declares parameter 'nope'");
    assert_string_equal(value_of(prog, "i"), "3600");
    rv_program_free(prog);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vm_checks_types),
        cmocka_unit_test(test_vm_all_or_nothing),
        cmocka_unit_test(test_literal_json),
        cmocka_unit_test(test_set_param_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
