/* test_example.c - the seed's example policy (rules/example.rules) over
 * SPDX-License-Identifier: Apache-2.0
 * every real dstack request body in tests/data/dstack/requests.
 *
 * For each spec it builds the expected result independently (the original
 * tree with exactly the intended fields patched) and compares the printed
 * JSON byte for byte: so no key may be added, removed or reordered, and
 * numbers keep their form (2.0 stays a float, 86400 an integer).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>


#include "dir.h"
#include "helpers.h"
#include "value.h"

static rv_program *prog;

static int setup(void **state)
{
    (void)state;
    prog = compile_file("rules/example.rules");
    return prog ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    rv_program_free(prog);
    return 0;
}

static const char *kind_of(const rv_node *spec)
{
    rv_node *conf = rv_doc_get(spec, "configuration");
    const char *type = conf ? rv_doc_string(rv_doc_get(conf, "type")) : NULL;
    if (!type)
        return "run";
    if (strcmp(type, "fleet") == 0 || strcmp(type, "volume") == 0 || strcmp(type, "gateway") == 0)
        return type;
    return "run";  /* dev-environment, task, service */
}

/* Sets obj[key] = v in place, appending the key if missing. */
static void put(ru_arena *a, rv_node *obj, const char *key, rv_node *v)
{
    rv_member *m = rv_object_find(obj, key, strlen(key));
    if (m)
        m->value = v;
    else
        assert_true(rv_object_push(a, obj, key, strlen(key), v));
}

static char *print_json(rv_vm *vm, const rv_node *n)
{
    const char *text;
    size_t len;
    rv_error err;
    assert_int_equal(rv_vm_print(vm, n, RV_JSON, RV_PRETTY, &text, &len, &err), RV_OK);
    return strdup(text);
}

static int checked;

static void check_one(const char *path)
{
    size_t len = 0;
    char *text = read_whole_file(path, &len);
    assert_non_null(text);
    rv_vm *vm;
    assert_int_equal(rv_vm_new(NULL, &vm), RV_OK);
    rv_error err;
    rv_doc *body, *orig_body;
    assert_int_equal(rv_vm_parse(vm, text, len, RV_JSON, &body, &err), RV_OK);
    assert_int_equal(rv_vm_parse(vm, text, len, RV_JSON, &orig_body, &err), RV_OK);
    rv_node *spec = rv_doc_get(body, "spec");
    rv_node *expected = rv_doc_get(orig_body, "spec");
    assert_non_null(spec);
    char *original_text = print_json(vm, expected);

    const char *kind = kind_of(spec);
    rv_request req = {.kind = kind, .user = "alice", .project = "main"};
    rv_decision d;
    assert_int_equal(rv_vm_eval(vm, prog, &req, spec, &d, &err), RV_OK);

    rv_node *conf = rv_doc_get(expected, "configuration");
    rv_node *privileged = conf ? rv_doc_get(conf, "privileged") : NULL;
    bool is_privileged = privileged && rv_truthy(privileged);

    if (strcmp(kind, "gateway") == 0 || (strcmp(kind, "run") == 0 && is_privileged)) {
        /* Rejected: every message, and the spec exactly as it came in. */
        assert_false(d.allowed);
        assert_int_equal(d.nerrors, 1);
        assert_string_equal(d.errors[0].text, strcmp(kind, "gateway") == 0
                                                  ? "gateways are created by the platform team"
                                                  : "Running privileged containers is forbidden");
        char *got = print_json(vm, d.spec);
        assert_string_equal(got, original_text);
        free(got);
    } else if (strcmp(kind, "run") == 0) {
        assert_true(d.allowed);
        /* The expected spec, patched independently of the VM. */
        ru_arena a;
        ru_arena_init(&a, NULL, NULL);
        put(&a, conf, "max_price", rv_new_float(&a, 2.0));
        put(&a, conf, "max_duration", rv_new_int(&a, 86400));
        rv_node *tags = rv_doc_get(conf, "tags");
        if (!tags || tags->type != RV_OBJECT) {
            tags = rv_new_object(&a, 1);
            put(&a, conf, "tags", tags);
        }
        put(&a, tags, "team", rv_new_string(&a, "my_team", 7));
        const char *type = rv_doc_string(rv_doc_get(conf, "type"));
        if (type && strcmp(type, "service") == 0)
            put(&a, conf, "https", rv_new_bool(&a, true));
        char *want = print_json(vm, expected);
        char *got = print_json(vm, d.spec);
        assert_string_equal(got, want);
        /* The forms that matter, checked directly as well. */
        assert_non_null(strstr(got, "\"max_price\": 2.0"));
        assert_non_null(strstr(got, "\"max_duration\": 86400"));
        free(want);
        free(got);
        ru_arena_free(&a);
        assert_true(d.nchanges >= 3);
    } else {
        /* Fleets and volumes are left alone. */
        assert_true(d.allowed);
        assert_int_equal(d.nchanges, 0);
        char *got = print_json(vm, d.spec);
        assert_string_equal(got, original_text);
        free(got);
    }
    free(original_text);
    rv_vm_free(vm);
    free(text);
    checked++;
}

static bool is_json(const char *name, void *ud)
{
    (void)ud;
    return strstr(name, ".json") != NULL;
}

static void test_every_request(void **state)
{
    (void)state;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/requests", specs_dir());
    char **paths;
    size_t n;
    assert_int_equal(ru_list_dir(dir, is_json, NULL, &paths, &n), 0);
    assert_true(n >= 30);
    for (size_t i = 0; i < n; i++)
        check_one(paths[i]);
    ru_free_paths(paths, n);
    assert_int_equal(checked, (int)n);
}

/* A privileged run: the spec comes back unchanged although the policy set
 * fields before the forbid fired. */
static void test_privileged_rejection_is_total(void **state)
{
    (void)state;
    const char *text =
        "{\"configuration\": {\"type\": \"task\", \"privileged\": true, \"max_price\": 3.5,"
        " \"tags\": {\"a\": \"b\"}, \"max_duration\": null}}";
    rv_vm *vm;
    assert_int_equal(rv_vm_new(NULL, &vm), RV_OK);
    rv_doc *spec;
    rv_error err;
    assert_int_equal(rv_vm_parse(vm, text, strlen(text), RV_JSON, &spec, &err), RV_OK);
    rv_request req = {.kind = "run", .user = "bob", .project = "p"};
    rv_decision d;
    assert_int_equal(rv_vm_eval(vm, prog, &req, spec, &d, &err), RV_OK);
    assert_false(d.allowed);
    const char *out;
    size_t len;
    assert_int_equal(rv_vm_print(vm, d.spec, RV_JSON, 0, &out, &len, &err), RV_OK);
    assert_string_equal(out, "{\"configuration\":{\"type\":\"task\",\"privileged\":true,"
                             "\"max_price\":3.5,\"tags\":{\"a\":\"b\"},\"max_duration\":null}}");
    rv_vm_free(vm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_request),
        cmocka_unit_test(test_privileged_rejection_is_total),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
