/* test_yaml.c - YAML read as PyYAML reads it and written so PyYAML reads
 * SPDX-License-Identifier: Apache-2.0
 * it back the same: YAML 1.1 scalars, typed keys (SkyPilot's
 * `image_id: {null: ...}`), merge keys, the alias budget in bytes, and the
 * printer's quoting and float forms. (tests/run-yaml.sh checks the same
 * against PyYAML itself.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "doc_fixture.h"

#include "value.h"
#include "yaml_resolve.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static rv_node *yaml(fixture *f, const char *text)
{
    memset(&f->err, 0, sizeof f->err);
    return rv_yaml_parse(&f->a, text, strlen(text), 512, &f->err);
}

static rv_node *must_yaml(fixture *f, const char *text)
{
    rv_node *n = yaml(f, text);
    if (!n)
        fail_msg("parse failed at %lu:%lu: %s", f->err.line, f->err.column, f->err.message);
    return n;
}

static const char *compact(fixture *f, const rv_node *n)
{
    f->b.len = 0;
    rv_json_compact(&f->b, n);
    ru_buf_terminate(&f->b);
    return f->b.data;
}

static const char *printed(fixture *f, const rv_node *n)
{
    f->b.len = 0;
    assert_true(rv_yaml_write(&f->b, n, &f->err));
    ru_buf_terminate(&f->b);
    return f->b.data;
}

static rv_node *get(const rv_node *obj, const char *key)
{
    rv_member *m = rv_object_find(obj, key, strlen(key));
    return m ? m->value : NULL;
}

/* ---- YAML 1.1 resolution, as PyYAML's SafeLoader ---- */

static void test_resolve_like_pyyaml(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        ry_tag tag;
    } cases[] = {
        {"", RY_NULL}, {"~", RY_NULL}, {"null", RY_NULL}, {"Null", RY_NULL}, {"NULL", RY_NULL},
        {"nULL", RY_STR},
        {"yes", RY_BOOL}, {"No", RY_BOOL}, {"ON", RY_BOOL}, {"off", RY_BOOL}, {"True", RY_BOOL},
        {"y", RY_STR}, {"n", RY_STR}, {"yES", RY_STR},
        {"0", RY_INT}, {"-0", RY_INT}, {"+5", RY_INT}, {"017", RY_INT}, {"0b101", RY_INT},
        {"0x1F", RY_INT}, {"-0x1f", RY_INT}, {"1_000", RY_INT}, {"1:30", RY_INT}, {"190:20:30", RY_INT},
        {"09", RY_STR}, {"0o17", RY_STR}, {"0x", RY_STR}, {"0:30", RY_STR}, {"1:60", RY_STR},
        {"1.5", RY_FLOAT}, {"1.", RY_FLOAT}, {".5", RY_FLOAT}, {"1.0e+3", RY_FLOAT}, {"-1.5E-2", RY_FLOAT},
        {"1_000.5", RY_FLOAT}, {"1:30.5", RY_FLOAT}, {".inf", RY_FLOAT}, {"-.Inf", RY_FLOAT},
        {"+.INF", RY_FLOAT}, {".nan", RY_FLOAT}, {".NaN", RY_FLOAT},
        {"1e3", RY_STR}, {"1.0e3", RY_STR}, {"1e+3", RY_STR}, {"-.5", RY_STR}, {"-.nan", RY_STR},
        {".", RY_STR}, {"1e400", RY_STR},
        {"2024-01-31", RY_TIMESTAMP}, {"2001-12-14t21:59:43.10-05:00", RY_TIMESTAMP},
        {"2001-12-14 21:59:43.10 -5", RY_TIMESTAMP}, {"2001-12-14 21:59:43", RY_TIMESTAMP},
        {"2024-1-31", RY_STR}, {"2024-01-31x", RY_STR},
        {"<<", RY_MERGE}, {"=", RY_VALUE},
        {"4+", RY_STR}, {"A100:8", RY_STR}, {"8080:80", RY_STR}, {"1..4", RY_STR},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ry_tag t = ry_resolve(cases[i].text, strlen(cases[i].text));
        if (t != cases[i].tag)
            fail_msg("'%s' resolves to %d, want %d", cases[i].text, t, cases[i].tag);
    }
    int64_t v;
    double d;
    assert_true(ry_int("017", 3, &v, &d) && v == 15);
    assert_true(ry_int("0b1_01", 6, &v, &d) && v == 5);
    assert_true(ry_int("-0x1F", 5, &v, &d) && v == -31);
    assert_true(ry_int("1_000", 5, &v, &d) && v == 1000);
    assert_true(ry_int("190:20:30", 9, &v, &d) && v == 190 * 3600 + 20 * 60 + 30);
    assert_true(ry_int("-9223372036854775808", 20, &v, &d) && v == INT64_MIN);
    assert_false(ry_int("9223372036854775808", 19, &v, &d));
    assert_true(d == 9223372036854775808.0);
    assert_true(ry_float("1:30.5", 6) == 90.5);
    assert_true(ry_float("-1_000.25", 9) == -1000.25);
    assert_true(isinf(ry_float("-.inf", 5)) && ry_float("-.inf", 5) < 0);
    assert_true(isnan(ry_float(".NaN", 4)));
    assert_true(ry_bool("on", 2) && !ry_bool("Off", 3));
    /* The 1.2 core schema, for quoting: what a 1.2 reader would misread. */
    assert_int_equal(ry_resolve_core("0o17", 4), RY_INT);
    assert_int_equal(ry_resolve_core("1e3", 3), RY_FLOAT);
    assert_int_equal(ry_resolve_core("yes", 3), RY_STR);
}

static void test_scalars_typed_as_pyyaml(void **state)
{
    fixture *f = *state;
    rv_node *n = must_yaml(f, "a: yes\nb: off\nc: 0o17\nd: 1e3\ne: 017\nf: 1_000\ng: 1:30\nh: 1.0e+3\n"
                              "i: '4+'\nj: \"8\"\nk: 09\nl: 2024-01-31\nm: <<\n");
    assert_string_equal(compact(f, n), "{\"a\":true,\"b\":false,\"c\":\"0o17\",\"d\":\"1e3\",\"e\":15,\"f\":1000,"
                                       "\"g\":90,\"h\":1000.0,\"i\":\"4+\",\"j\":\"8\",\"k\":\"09\","
                                       "\"l\":\"2024-01-31\",\"m\":\"<<\"}");
    assert_int_equal(get(n, "e")->type, RV_INT);
    assert_int_equal(get(n, "h")->type, RV_FLOAT);
}

/* ---- keys ---- */

static void test_typed_keys(void **state)
{
    fixture *f = *state;
    /* SkyPilot writes a region-less image as {null: IMAGE}; PyYAML reads
     * the key as None. Other spellings of null, booleans and numbers too. */
    rv_node *n = must_yaml(f, "image_id:\n  null: docker:img\n  us-east-1: ami-1\n~: t\nyes: y\n0x1F: h\n"
                              "1.5: f\n\"8\": s\n");
    rv_node *img = get(n, "image_id");
    assert_non_null(img);
    assert_string_equal(img->u.members[0].key, "null");
    assert_true(img->u.members[0].ktyped);
    assert_false(img->u.members[1].ktyped);
    assert_false(n->u.members[n->len - 1].ktyped);   /* "8" was quoted */
    /* One spelling for a policy to find them by, as Python's json shows them. */
    assert_string_equal(compact(f, n),
                        "{\"image_id\":{\"null\":\"docker:img\",\"us-east-1\":\"ami-1\"},\"null\":\"t\","
                        "\"true\":\"y\",\"31\":\"h\",\"1.5\":\"f\",\"8\":\"s\"}");
    /* A copy (an alias) keeps the key's type. */
    n = must_yaml(f, "a: &a {null: x}\nb: *a\n");
    assert_true(get(n, "b")->u.members[0].ktyped);
    /* None and 'null' are two keys to PyYAML but one text here: refused
     * as a repeat rather than one silently shadowing the other. */
    assert_null(yaml(f, "m:\n  ~: a\n  'null': b\n"));
    assert_non_null(strstr(f->err.message, "duplicate key \"null\""));
}

static void test_typed_keys_print_back_plain(void **state)
{
    fixture *f = *state;
    rv_node *n = must_yaml(f, "image_id:\n  null: docker:img\nquoted:\n  'null': q\n  '8': str\n"
                              "map:\n  8: eight\n  true: t\n  '<<': lt\n");
    const char *out = printed(f, n);
    assert_string_equal(out, "image_id:\n  null: docker:img\nquoted:\n  'null': q\n  '8': str\n"
                             "map:\n  8: eight\n  true: t\n  '<<': lt\n");
    /* A key that came from JSON is a string: it prints quoted. */
    rv_node *j = rv_json_parse(&f->a, "{\"null\":1,\"<<\":2,\"8\":3,\"yes\":4}", 31, 512, &f->err);
    assert_non_null(j);
    assert_string_equal(printed(f, j), "'null': 1\n'<<': 2\n'8': 3\n'yes': 4\n");
}

/* ---- merge keys ---- */

static void test_merge_keys(void **state)
{
    fixture *f = *state;
    const char *text =
        "base: &base\n  privileged: true\n  image: python:3.11\n"
        "other: &other\n  image: ubuntu\n  spot: yes\n"
        "configuration:\n  type: task\n  <<: *base\n  image: mine\n"
        "c2:\n  z: 0\n  <<: [*base, *other]\n  x: 1\n"
        "c3:\n  <<: {a: 1, b: 2}\n  <<: {b: 3, c: 4}\n  a: 9\n"
        "nested:\n  <<:\n    <<: *other\n    k: v\n  m: n\n";
    rv_node *n = must_yaml(f, text);
    /* Merged members first, the mapping's own win; PyYAML's order. */
    assert_string_equal(compact(f, get(n, "configuration")),
                        "{\"privileged\":true,\"image\":\"mine\",\"type\":\"task\"}");
    /* Of a list, the earlier mapping wins. */
    assert_string_equal(compact(f, get(n, "c2")),
                        "{\"image\":\"python:3.11\",\"spot\":true,\"privileged\":true,\"z\":0,\"x\":1}");
    assert_string_equal(compact(f, get(n, "c3")), "{\"a\":9,\"b\":3,\"c\":4}");
    assert_string_equal(compact(f, get(n, "nested")),
                        "{\"image\":\"ubuntu\",\"spot\":true,\"k\":\"v\",\"m\":\"n\"}");
    /* Never a bare << in the output. */
    assert_null(strstr(printed(f, n), "<<"));
}

static void test_merge_key_errors(void **state)
{
    fixture *f = *state;
    assert_null(yaml(f, "a: &a 1\nb:\n  <<: *a\n"));
    assert_int_equal(f->err.status, RV_EPARSE);
    assert_non_null(strstr(f->err.message, "a merge key '<<' takes a mapping or a list of mappings, not an integer"));
    assert_int_equal(f->err.line, 3);
    assert_null(yaml(f, "a: &a {x: 1}\nb:\n  <<: [*a, 2]\n"));
    assert_non_null(strstr(f->err.message, "not a list holding something else"));
    assert_null(yaml(f, "b:\n  <<:\n"));
    assert_non_null(strstr(f->err.message, "not null"));
    /* The mapping's own keys repeated are still refused; a merged key
     * overridden is not a repeat. */
    assert_null(yaml(f, "a: &a {x: 1}\nb:\n  <<: *a\n  y: 1\n  y: 2\n"));
    assert_non_null(strstr(f->err.message, "duplicate key \"y\""));
    assert_non_null(must_yaml(f, "a: &a {x: 1}\nb:\n  <<: *a\n  x: 2\n"));
    /* A quoted or tagged << is an ordinary key. */
    rv_node *n = must_yaml(f, "!!str <<: 2\n");
    assert_string_equal(compact(f, n), "{\"<<\":2}");
    n = must_yaml(f, "b:\n  '<<': {x: 1}\n");
    assert_string_equal(compact(f, n), "{\"b\":{\"<<\":{\"x\":1}}}");
}

/* ---- the alias budget ---- */

static void test_alias_budget_counts_bytes(void **state)
{
    fixture *f = *state;
    /* One 100 KB string repeated 10,000 times: 1 GB of output from a
     * 150 KB text. Refused at the alias that crosses 10x the text. */
    size_t big = 100000, copies = 10000;
    size_t cap = big + copies * 6 + 64, len = 0;
    char *text = malloc(cap);
    len += (size_t)snprintf(text + len, cap - len, "big: &a ");
    memset(text + len, 'x', big);
    len += big;
    len += (size_t)snprintf(text + len, cap - len, "\nlist:\n");
    for (size_t i = 0; i < copies; i++)
        len += (size_t)snprintf(text + len, cap - len, "- *a\n");
    memset(&f->err, 0, sizeof f->err);
    assert_null(rv_yaml_parse(&f->a, text, len, 512, &f->err));
    assert_int_equal(f->err.status, RV_ELIMIT);
    assert_non_null(strstr(f->err.message, "aliases expand to more than"));
    assert_true(f->err.line > 3 && f->err.line < 3 + 20);  /* within the first copies */
    free(text);

    /* The classic: nine levels of ten aliases each. */
    const char *laughs =
        "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
        "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
        "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
    assert_null(yaml(f, laughs));
    assert_int_equal(f->err.status, RV_ELIMIT);

    /* Ordinary use of anchors stays well inside it. */
    rv_node *n = must_yaml(f, "defaults: &d {cpus: 4+, memory: 16+, disk_size: 256}\n"
                              "any_of:\n- <<: *d\n  infra: aws\n- <<: *d\n  infra: gcp\n- *d\n");
    assert_int_equal(get(n, "any_of")->len, 3);
}

/* ---- printing ---- */

static void test_print_reads_back(void **state)
{
    fixture *f = *state;
    rv_node *n = must_yaml(f, "a: .inf\nb: -.inf\nc: .nan\nd: 1.0e+100\ne: 1.0e-05\nf: 2.0\n"
                              "g: 'yes'\nh: '0o17'\ni: '1e3'\nj: '1_000'\nk: '2024-01-31'\nl: '='\n"
                              "m: 8080:80\nn: '22:22'\n");
    assert_string_equal(printed(f, n),
                        "a: .inf\nb: -.inf\nc: .nan\nd: 1.0e+100\ne: 1.0e-05\nf: 2.0\n"
                        "g: 'yes'\nh: '0o17'\ni: '1e3'\nj: '1_000'\nk: '2024-01-31'\nl: '='\n"
                        "m: 8080:80\n'n': '22:22'\n");
    /* What this tree cannot hold as PyYAML does comes back as written: an
     * integer beyond 64 bits (a float for policies, its digits in the
     * output, in JSON too) and a date (a string for policies). */
    n = must_yaml(f, "a: 123456789012345678901234567890\nb: 2024-01-31\nc: -99_999_999_999_999_999_999\n"
                     "d: '2024-01-31'\n");
    assert_int_equal(get(n, "a")->type, RV_FLOAT);
    assert_true(get(n, "a")->u.f > 1.2e29 && get(n, "a")->u.f < 1.3e29);
    assert_int_equal(get(n, "b")->type, RV_STRING);
    assert_string_equal(printed(f, n), "a: 123456789012345678901234567890\nb: 2024-01-31\n"
                                       "c: -99_999_999_999_999_999_999\nd: '2024-01-31'\n");
    f->b.len = 0;
    assert_true(rv_json_write(&f->b, n, false, false));
    ru_buf_terminate(&f->b);
    assert_string_equal(f->b.data, "{\"a\":123456789012345678901234567890,\"b\":\"2024-01-31\","
                                   "\"c\":-1e+20,\"d\":\"2024-01-31\"}");
    /* A copy keeps the text; a value the VM computes has none. */
    rv_node *copy = rv_copy(&f->a, get(n, "a"));
    assert_true(copy->flags & RV_NODE_YAML);
    /* Multi-line text goes out as a block and reads back the same. */
    n = must_yaml(f, "run: |\n  echo one\n    two\n  three\n");
    const char *out = printed(f, n);
    rv_node *back = must_yaml(f, out);
    assert_true(rv_equal(n, back));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resolve_like_pyyaml),
        cmocka_unit_test_setup_teardown(test_scalars_typed_as_pyyaml, setup, teardown),
        cmocka_unit_test_setup_teardown(test_typed_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_typed_keys_print_back_plain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge_key_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alias_budget_counts_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_print_reads_back, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
