/* test_doc.c - the document layer: value semantics, number text, JSON and
 * SPDX-License-Identifier: Apache-2.0
 * YAML parsing and printing, on the real dstack specs in tests/data/dstack.
 *
 * Run from the repository root (specs are found at tests/data/dstack,
 * or wherever RULES_SPECS_DIR points).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "doc_fixture.h"

#include "dir.h"
#include "file.h"
#include "value.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ---- */

static const char *specs_dir(void)
{
    const char *d = getenv("RULES_SPECS_DIR");
    return d && *d ? d : "tests/data/dstack";
}

static char *slurp(const char *path, size_t *len)
{
    char *data;
    return ru_read_file(path, 0, &data, len) == 0 ? data : NULL;
}

typedef struct suffixes {
    const char *a, *b;
} suffixes;

static bool has_suffix(const char *name, void *ud)
{
    const suffixes *s = ud;
    size_t l = strlen(name);
    for (int k = 0; k < 2; k++) {
        const char *suf = k ? s->b : s->a;
        if (suf && l > strlen(suf) && strcmp(name + l - strlen(suf), suf) == 0)
            return true;
    }
    return false;
}

/* Sorted full paths of the files in specs_dir()/sub ending with one of the
 * suffixes; NULL-terminated. */
static char **list_files(const char *sub, const char *suf1, const char *suf2, size_t *count)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/%s", specs_dir(), sub);
    suffixes want = {suf1, suf2};
    char **v;
    if (ru_list_dir(dir, has_suffix, &want, &v, count) != 0)
        fail_msg("cannot open %s (set RULES_SPECS_DIR)", dir);
    v = realloc(v, (*count + 1) * sizeof *v);
    assert_non_null(v);
    v[*count] = NULL;
    return v;
}

static void free_list(char **v)
{
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

/* Stricter than rv_equal: same types (int is not float), same key order. */
static bool same_shape(const rv_node *x, const rv_node *y)
{
    if (x->type != y->type || x->len != y->len)
        return false;
    switch (x->type) {
    case RV_NULL:
        return true;
    case RV_BOOL:
        return x->u.b == y->u.b;
    case RV_INT:
        return x->u.i == y->u.i;
    case RV_FLOAT:
        return x->u.f == y->u.f || (isnan(x->u.f) && isnan(y->u.f));
    case RV_STRING:
        return memcmp(x->u.s, y->u.s, x->len) == 0;
    case RV_ARRAY:
        for (uint32_t i = 0; i < x->len; i++)
            if (!same_shape(x->u.items[i], y->u.items[i]))
                return false;
        return true;
    case RV_OBJECT:
        for (uint32_t i = 0; i < x->len; i++) {
            const rv_member *a = &x->u.members[i], *b = &y->u.members[i];
            if (a->klen != b->klen || memcmp(a->key, b->key, a->klen) != 0 ||
                !same_shape(a->value, b->value))
                return false;
        }
        return true;
    }
    return false;
}

/* Number tokens outside strings, each as its own text, joined by '|'. */
static char *number_tokens(const char *t, size_t len)
{
    char *out = malloc(len + 2);
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        if (t[i] == '"') {
            for (i++; i < len && t[i] != '"'; i += t[i] == '\\' ? 2 : 1)
                ;
            i++;
        } else if (t[i] == '-' || (t[i] >= '0' && t[i] <= '9')) {
            while (i < len && strchr("0123456789+-.eE", t[i]) && t[i])
                out[o++] = t[i++];
            out[o++] = '|';
        } else {
            i++;
        }
    }
    out[o] = '\0';
    return out;
}


static rv_node *json(fixture *f, const char *s)
{
    memset(&f->err, 0, sizeof f->err);
    return rv_json_parse(&f->a, s, strlen(s), 512, &f->err);
}

static rv_node *yaml(fixture *f, const char *s)
{
    memset(&f->err, 0, sizeof f->err);
    return rv_yaml_parse(&f->a, s, strlen(s), 512, &f->err);
}

static rv_node *must_json(fixture *f, const char *s)
{
    rv_node *n = json(f, s);
    if (!n)
        fail_msg("JSON %s: %s", s, f->err.message);
    return n;
}

static rv_node *must_yaml(fixture *f, const char *s)
{
    rv_node *n = yaml(f, s);
    if (!n)
        fail_msg("YAML %s: %s", s, f->err.message);
    return n;
}

static const char *compact(fixture *f, const rv_node *n)
{
    f->b.len = 0;
    assert_true(rv_json_write(&f->b, n, false, false));
    ru_buf_terminate(&f->b);
    return f->b.data;
}

static const char *num_text(fixture *f, double d)
{
    rv_node n = { .type = RV_FLOAT, .u.f = d };
    f->b.len = 0;
    rv_format_number(&f->b, &n);
    ru_buf_terminate(&f->b);
    return f->b.data;
}

static rv_node *get(const rv_node *obj, const char *key)
{
    rv_member *m = rv_object_find(obj, key, strlen(key));
    return m ? m->value : NULL;
}

/* ---- value semantics ---- */

static void test_truthy(void **state)
{
    fixture *f = *state;
    const char *falsy[] = { "null", "false", "0", "0.0", "\"\"", "[]", "{}", "-0.0" };
    const char *truthy[] = { "true", "1", "-1", "0.5", "\"0\"", "\" \"", "[0]", "{\"a\":null}" };
    for (size_t i = 0; i < sizeof falsy / sizeof *falsy; i++)
        assert_false(rv_truthy(must_json(f, falsy[i])));
    for (size_t i = 0; i < sizeof truthy / sizeof *truthy; i++)
        assert_true(rv_truthy(must_json(f, truthy[i])));
    assert_false(rv_truthy(&rv_null_node));
    assert_false(rv_truthy(&rv_false_node));
    assert_true(rv_truthy(&rv_true_node));
}

static void test_equal(void **state)
{
    fixture *f = *state;
    assert_true(rv_equal(must_json(f, "1"), must_json(f, "1.0")));
    assert_true(rv_equal(must_json(f, "-0.0"), must_json(f, "0")));
    assert_false(rv_equal(must_json(f, "1"), must_json(f, "1.5")));
    assert_false(rv_equal(must_json(f, "1"), must_json(f, "\"1\"")));
    assert_false(rv_equal(must_json(f, "1"), must_json(f, "true")));
    assert_false(rv_equal(must_json(f, "null"), must_json(f, "false")));
    assert_true(rv_equal(must_json(f, "[1,{\"a\":2}]"), must_json(f, "[1.0,{\"a\":2.0}]")));
    assert_false(rv_equal(must_json(f, "[1,{\"a\":2}]"), must_json(f, "[1,{\"a\":3}]")));
    assert_false(rv_equal(must_json(f, "[1,2]"), must_json(f, "[2,1]")));
    assert_false(rv_equal(must_json(f, "[1,2]"), must_json(f, "[1,2,3]")));
    assert_true(rv_equal(must_json(f, "{\"a\":1,\"b\":[true]}"), must_json(f, "{\"b\":[true],\"a\":1}")));
    assert_false(rv_equal(must_json(f, "{\"a\":1,\"b\":2}"), must_json(f, "{\"a\":1,\"c\":2}")));
    assert_false(rv_equal(must_json(f, "{\"a\":1}"), must_json(f, "{\"a\":1,\"b\":2}")));
    assert_true(rv_equal(must_json(f, "\"h\\u00e9\""), must_json(f, "\"h\xc3\xa9\"")));
    assert_false(rv_equal(must_json(f, "\"ab\""), must_json(f, "\"ab\\u0000\"")));
    /* 2^53 + 1 is an exact int but not an exact double. */
    assert_false(rv_equal(must_json(f, "9007199254740993"), must_json(f, "9007199254740992.0")));
    assert_true(rv_equal(must_json(f, "9007199254740992"), must_json(f, "9007199254740992.0")));
    assert_false(rv_equal(must_json(f, "9223372036854775807"), must_json(f, "9223372036854775808.0")));
    rv_node *nan = rv_new_float(&f->a, NAN);
    assert_false(rv_equal(nan, nan) && nan != nan); /* same pointer is equal; values never */
    assert_false(rv_equal(nan, rv_new_float(&f->a, NAN)));
}

/* The public rv_doc_equal is the same relation, over documents a VM parsed. */
static void test_doc_equal_public(void **state)
{
    (void)state;
    rv_vm *vm;
    assert_int_equal(rv_vm_new(NULL, &vm), RV_OK);
    static const char *const pairs[][3] = {
        {"1", "1.0", "1"}, {"[1,{\"a\":2}]", "[1.0,{\"a\":2.0}]", "1"},
        {"{\"a\":1,\"b\":[true]}", "{\"b\":[true],\"a\":1}", "1"},
        {"9007199254740993", "9007199254740992.0", "0"}, {"1", "\"1\"", "0"},
        {"[1,2]", "[2,1]", "0"}, {"null", "false", "0"},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++) {
        rv_doc *a, *b;
        rv_error err;
        assert_int_equal(rv_vm_parse(vm, pairs[i][0], strlen(pairs[i][0]), RV_JSON, &a, &err), RV_OK);
        assert_int_equal(rv_vm_parse(vm, pairs[i][1], strlen(pairs[i][1]), RV_JSON, &b, &err), RV_OK);
        assert_int_equal(rv_doc_equal(a, b), pairs[i][2][0] == '1');
        assert_int_equal(rv_doc_equal(b, a), pairs[i][2][0] == '1');
    }
    assert_false(rv_doc_equal(NULL, NULL));
    rv_vm_free(vm);
}

static void test_compare(void **state)
{
    fixture *f = *state;
    int c = 99;
    assert_true(rv_compare(must_json(f, "\"a\""), must_json(f, "\"b\""), &c));
    assert_true(c < 0);
    assert_true(rv_compare(must_json(f, "\"ab\""), must_json(f, "\"a\""), &c));
    assert_true(c > 0);
    assert_true(rv_compare(must_json(f, "\"\xc3\xa9\""), must_json(f, "\"z\""), &c));
    assert_true(c > 0); /* bytewise: 0xC3 > 'z' */
    assert_true(rv_compare(must_json(f, "1"), must_json(f, "2.5"), &c));
    assert_true(c < 0);
    assert_true(rv_compare(must_json(f, "3"), must_json(f, "2.5"), &c));
    assert_true(c > 0);
    assert_true(rv_compare(must_json(f, "2.0"), must_json(f, "2"), &c));
    assert_int_equal(c, 0);
    assert_true(rv_compare(must_json(f, "-1.5"), must_json(f, "-1"), &c));
    assert_true(c < 0);
    assert_true(rv_compare(must_json(f, "9007199254740993"), must_json(f, "9007199254740992.0"), &c));
    assert_true(c > 0);
    assert_true(rv_compare(must_json(f, "9223372036854775807"), must_json(f, "1e19"), &c));
    assert_true(c < 0);
    assert_false(rv_compare(must_json(f, "\"a\""), must_json(f, "3"), &c));
    assert_false(rv_compare(must_json(f, "null"), must_json(f, "null"), &c));
    assert_false(rv_compare(must_json(f, "true"), must_json(f, "false"), &c));
    assert_false(rv_compare(must_json(f, "[1]"), must_json(f, "[2]"), &c));
    assert_false(rv_compare(rv_new_float(&f->a, NAN), must_json(f, "1"), &c));
}

static void test_copy_and_find(void **state)
{
    fixture *f = *state;
    rv_node *n = must_json(f, "{\"a\":[1,2.5,{\"k\":\"v\"}],\"b2\":2,\"\":null}");
    rv_member *m = rv_object_find(n, "a", 1);
    assert_non_null(m);
    assert_int_equal(m->value->type, RV_ARRAY);
    assert_non_null(rv_object_find(n, "", 0));
    assert_null(rv_object_find(n, "b", 1));
    assert_null(rv_object_find(m->value, "a", 1)); /* not an object */
    rv_node *c = rv_copy(&f->a, n);
    assert_true(same_shape(n, c));
    assert_ptr_not_equal(c->u.members[0].value, n->u.members[0].value);
    /* Mutating the copy leaves the original alone. */
    c->u.members[0].value->u.items[0]->u.i = 7;
    assert_int_equal(n->u.members[0].value->u.items[0]->u.i, 1);

    rv_node *arr = rv_new_array(&f->a, 0);
    for (int i = 0; i < 1000; i++)
        assert_true(rv_array_push(&f->a, arr, rv_new_int(&f->a, i)));
    assert_int_equal(arr->len, 1000);
    assert_int_equal(arr->u.items[999]->u.i, 999);
    rv_node *obj = rv_new_object(&f->a, 1);
    char keys[100][16];
    for (int i = 0; i < 100; i++) {
        snprintf(keys[i], sizeof keys[i], "k%d", i);
        assert_true(rv_object_push(&f->a, obj, keys[i], strlen(keys[i]), rv_new_int(&f->a, i)));
    }
    assert_int_equal(rv_object_find(obj, "k57", 3)->value->u.i, 57);
    assert_string_equal(obj->u.members[42].key, "k42");
}

/* ---- number and JSON text ---- */

static void test_format_number(void **state)
{
    fixture *f = *state;
    struct { double d; const char *want; } cases[] = {
        { 2.0, "2.0" },          { 0.1, "0.1" },         { 1e16, "1e+16" },
        { -0.5, "-0.5" },        { 1.5e-07, "1.5e-07" }, { 0.0001, "0.0001" },
        { 1e-05, "1e-05" },      { 1e15, "1000000000000000.0" },
        { 123456789.125, "123456789.125" },              { 0.1 + 0.2, "0.30000000000000004" },
        { 1e100, "1e+100" },     { -1e-300, "-1e-300" }, { 0.0, "0.0" },
        { -0.0, "-0.0" },        { 5e-324, "5e-324" },   { 1.7976931348623157e308, "1.7976931348623157e+308" },
        { 2.5e16, "2.5e+16" },   { 9999999999999998.0, "9999999999999998.0" },
        { 100.0, "100.0" },      { 1.0 / 3, "0.3333333333333333" },
        { NAN, "null" },         { INFINITY, "null" },   { -INFINITY, "null" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        assert_string_equal(num_text(f, cases[i].d), cases[i].want);

    rv_node i1 = { .type = RV_INT, .u.i = 86400 };
    rv_node i2 = { .type = RV_INT, .u.i = INT64_MIN };
    f->b.len = 0;
    rv_format_number(&f->b, &i1);
    ru_buf_putc(&f->b, ' ');
    rv_format_number(&f->b, &i2);
    ru_buf_terminate(&f->b);
    assert_string_equal(f->b.data, "86400 -9223372036854775808");

    /* Every formatted float reads back as the same double and as a float. */
    uint64_t x = 88172645463325252ull;
    for (int k = 0; k < 20000; k++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double d;
        memcpy(&d, &x, sizeof d);
        if (!isfinite(d))
            continue;
        const char *t = num_text(f, d);
        assert_true(strtod(t, NULL) == d);
        assert_true(strpbrk(t, ".e") != NULL);
        rv_node *back = must_json(f, t);
        assert_int_equal(back->type, RV_FLOAT);
        assert_true(back->u.f == d);
    }
}

static void test_json_numbers(void **state)
{
    fixture *f = *state;
    rv_node *n = must_json(f, "[2, 2.0, -0, 86400, 1e3, 9007199254740993, 99999999999999999999, "
                              "-9223372036854775808, 1E-2, 10.50]");
    int types[] = { RV_INT, RV_FLOAT, RV_INT, RV_INT, RV_FLOAT, RV_INT, RV_FLOAT, RV_INT, RV_FLOAT, RV_FLOAT };
    for (int i = 0; i < 10; i++)
        assert_int_equal(n->u.items[i]->type, types[i]);
    assert_true(n->u.items[5]->u.i == 9007199254740993LL);
    assert_true(n->u.items[7]->u.i == INT64_MIN);
    /* As read, every number prints as it was written... */
    assert_string_equal(compact(f, n), "[2,2.0,-0,86400,1e3,9007199254740993,99999999999999999999,"
                                       "-9223372036854775808,1E-2,10.50]");
    /* ...and the same values made anew (as the VM computes them) print in
     * the canonical form. */
    rv_node *made = rv_new_array(&f->a, 0);
    for (uint32_t i = 0; i < n->len; i++) {
        const rv_node *v = n->u.items[i];
        assert_true(rv_array_push(&f->a, made, v->type == RV_INT ? rv_new_int(&f->a, v->u.i)
                                                                : rv_new_float(&f->a, v->u.f)));
    }
    assert_string_equal(compact(f, made), "[2,2.0,0,86400,1000.0,9007199254740993,1e+20,"
                                          "-9223372036854775808,0.01,10.5]");
}

static void test_json_strings(void **state)
{
    fixture *f = *state;
    rv_node *n = must_json(f, "{\"k\\u0000ey\": \"a\\\"b\\\\c\\/d\\n\\t\\r\\b\\f\\u0001\", "
                              "\"\xc3\xa9\": \"\\u00e9\\ud83d\\ude00\xe2\x82\xac\"}");
    assert_int_equal(n->u.members[0].klen, 4);
    assert_memory_equal(n->u.members[0].key, "k\0ey", 4);
    assert_int_equal(n->u.members[0].value->len, 13);
    assert_string_equal(n->u.members[1].value->u.s, "\xc3\xa9\xf0\x9f\x98\x80\xe2\x82\xac");
    /* as written, escapes kept, in keys too */
    assert_string_equal(compact(f, n), "{\"k\\u0000ey\":\"a\\\"b\\\\c\\/d\\n\\t\\r\\b\\f\\u0001\","
                                       "\"\xc3\xa9\":\"\\u00e9\\ud83d\\ude00\xe2\x82\xac\"}");
    /* made anew: escaped only where JSON must */
    rv_node *made = rv_new_object(&f->a, 0);
    for (uint32_t i = 0; i < n->len; i++) {
        const rv_member *m = &n->u.members[i];
        assert_true(rv_object_push(&f->a, made, m->key, m->klen,
                                   rv_new_string(&f->a, m->value->u.s, m->value->len)));
    }
    assert_string_equal(compact(f, made), "{\"k\\u0000ey\":\"a\\\"b\\\\c/d\\n\\t\\r\\b\\f\\u0001\","
                                          "\"\xc3\xa9\":\"\xc3\xa9\xf0\x9f\x98\x80\xe2\x82\xac\"}");
    /* message text: strings bare, the rest compact JSON */
    f->b.len = 0;
    rv_message_text(&f->b, n->u.members[1].value);
    ru_buf_putc(&f->b, '|');
    rv_message_text(&f->b, must_json(f, "[1, \"x\", {\"a\": null}]"));
    ru_buf_terminate(&f->b);
    assert_string_equal(f->b.data, "\xc3\xa9\xf0\x9f\x98\x80\xe2\x82\xac|[1,\"x\",{\"a\":null}]");
}

/* A repeated key is refused: dstack keeps the last value, lookups here the
 * first, so accepting it would let a spec slip past a policy. */
static void test_duplicate_keys_rejected(void **state)
{
    fixture *f = *state;
    assert_null(json(f, "{\"privileged\": false,\n \"x\": {\"privileged\": 1},\n \"privileged\": true}"));
    assert_int_equal(f->err.status, RV_EPARSE);
    assert_int_equal(f->err.line, 3);
    assert_int_equal(f->err.column, 2);
    assert_non_null(strstr(f->err.message, "duplicate key \"privileged\""));
    /* Large objects go through the hashing path. */
    char big[4096];
    size_t n = 0;
    n += (size_t)snprintf(big + n, sizeof big - n, "{");
    for (int i = 0; i < 100; i++)
        n += (size_t)snprintf(big + n, sizeof big - n, "\"k%d\":%d,", i, i);
    snprintf(big + n, sizeof big - n, "\"k42\":0}");
    assert_null(json(f, big));
    assert_non_null(strstr(f->err.message, "duplicate key \"k42\""));
    assert_null(yaml(f, "a: 1\nb:\n  c: 2\n  c: 3\n"));
    assert_int_equal(f->err.status, RV_EPARSE);
    assert_int_equal(f->err.line, 3);
    assert_non_null(strstr(f->err.message, "duplicate key \"c\""));
    /* Same key in different objects is fine. */
    assert_non_null(json(f, "{\"a\":{\"k\":1},\"b\":{\"k\":2}}"));
}

static void test_json_pretty_layout(void **state)
{
    fixture *f = *state;
    rv_node *n = must_json(f, "{\"a\":1,\"b\":[true,null,{}],\"c\":{\"d\":[]},\"e\":2.0,\"z\":\"last\"}");
    f->b.len = 0;
    assert_true(rv_json_write(&f->b, n, true, false));
    ru_buf_terminate(&f->b);
    /* Python: json.dumps(obj, indent=2) */
    assert_string_equal(f->b.data, "{\n"
                                   "  \"a\": 1,\n"
                                   "  \"b\": [\n"
                                   "    true,\n"
                                   "    null,\n"
                                   "    {}\n"
                                   "  ],\n"
                                   "  \"c\": {\n"
                                   "    \"d\": []\n"
                                   "  },\n"
                                   "  \"e\": 2.0,\n"
                                   "  \"z\": \"last\"\n"
                                   "}");
    assert_string_equal(compact(f, must_json(f, " [ ] ")), "[]");
    assert_string_equal(compact(f, must_json(f, "\t\"s\"\r\n")), "\"s\"");
}

static void test_request_files(void **state)
{
    fixture *f = *state;
    size_t count;
    char **files = list_files("requests", ".json", NULL, &count);
    assert_true(count >= 10);
    size_t total_numbers = 0;
    for (char **p = files; *p; p++) {
        size_t len;
        char *text = slurp(*p, &len);
        assert_non_null(text);
        rv_node *n = rv_json_parse(&f->a, text, len, 512, &f->err);
        if (!n)
            fail_msg("%s: %s", *p, f->err.message);
        assert_int_equal(n->type, RV_OBJECT);
        rv_node *spec = get(n, "spec");
        assert_non_null(spec);
        assert_int_equal(spec->type, RV_OBJECT);

        /* compact and pretty output parse back to the same tree */
        for (int pretty = 0; pretty < 2; pretty++) {
            f->b.len = 0;
            assert_true(rv_json_write(&f->b, n, pretty, false));
            rv_node *back = rv_json_parse(&f->a, f->b.data, f->b.len, 512, &f->err);
            if (!back)
                fail_msg("%s re-parse: %s", *p, f->err.message);
            assert_true(rv_equal(n, back));
            assert_true(same_shape(n, back));
            if (!pretty)
                assert_null(memchr(f->b.data, '\n', f->b.len));
        }
        /* the number tokens survive as written: 10.0 stays 10.0, 86400 stays 86400 */
        char *want = number_tokens(text, len);
        char *got = number_tokens(f->b.data, f->b.len);
        total_numbers += strlen(want);
        assert_string_equal(got, want);
        free(want);
        free(got);

        /* JSON -> YAML -> tree: equal, same key order, same number kinds */
        f->b.len = 0;
        if (!rv_yaml_write(&f->b, n, &f->err))
            fail_msg("%s to YAML: %s", *p, f->err.message);
        rv_node *y = rv_yaml_parse(&f->a, f->b.data, f->b.len, 512, &f->err);
        if (!y)
            fail_msg("%s YAML re-parse: %s\n%.*s", *p, f->err.message, (int)f->b.len, f->b.data);
        assert_true(rv_equal(n, y));
        assert_true(same_shape(n, y));
        free(text);
    }
    assert_true(total_numbers > 100);
    free_list(files);
}

static void test_yaml_files(void **state)
{
    fixture *f = *state;
    size_t count;
    char **files = list_files("yaml", ".yml", ".yaml", &count);
    assert_true(count >= 6);
    for (char **p = files; *p; p++) {
        size_t len;
        char *text = slurp(*p, &len);
        rv_node *n = rv_yaml_parse(&f->a, text, len, 512, &f->err);
        if (!n)
            fail_msg("%s: %s", *p, f->err.message);
        assert_int_equal(n->type, RV_OBJECT);
        assert_non_null(get(n, "type"));
        /* YAML -> YAML and YAML -> JSON round trips keep the tree exactly */
        f->b.len = 0;
        assert_true(rv_yaml_write(&f->b, n, &f->err));
        rv_node *y = rv_yaml_parse(&f->a, f->b.data, f->b.len, 512, &f->err);
        assert_non_null(y);
        assert_true(same_shape(n, y));
        f->b.len = 0;
        assert_true(rv_json_write(&f->b, n, true, false));
        rv_node *j = rv_json_parse(&f->a, f->b.data, f->b.len, 512, &f->err);
        assert_non_null(j);
        assert_true(same_shape(n, j));
        free(text);
    }
    free_list(files);

    char path[1024];
    snprintf(path, sizeof path, "%s/yaml/s1.yml", specs_dir());
    size_t len;
    char *text = slurp(path, &len);
    assert_non_null(text);
    rv_node *n = rv_yaml_parse(&f->a, text, len, 512, &f->err);
    assert_non_null(n);
    assert_string_equal(n->u.members[0].key, "type"); /* key order kept */
    assert_string_equal(n->u.members[1].key, "name");
    rv_node *v = get(n, "replicas");
    assert_int_equal(v->type, RV_STRING);
    assert_string_equal(v->u.s, "1..4");
    v = get(n, "port");
    assert_int_equal(v->type, RV_INT);
    assert_int_equal(v->u.i, 8000);
    v = get(get(n, "scaling"), "target");
    assert_int_equal(v->type, RV_INT);
    assert_int_equal(v->u.i, 10);
    v = get(n, "idle_duration"); /* as PyYAML reads it for dstack: `off` is false */
    assert_int_equal(v->type, RV_BOOL);
    assert_false(v->u.b);
    v = get(get(n, "retry"), "on_events");
    assert_int_equal(v->type, RV_ARRAY);
    assert_string_equal(v->u.items[0]->u.s, "no-capacity");
    assert_string_equal(get(get(n, "resources"), "memory")->u.s, "64GB..256GB");
    free(text);
}

/* ---- YAML scalars, aliases, printing ---- */

static void test_yaml_scalars(void **state)
{
    fixture *f = *state;
    rv_node *n = must_yaml(f,
        "- null\n- Null\n- NULL\n- ~\n-\n- true\n- False\n- TRUE\n- 42\n- -7\n- +3\n- 0x1F\n- 0o17\n"
        "- 1.5\n- 2.0\n- .5\n- 1e3\n- -1.5E-2\n- .inf\n- -.Inf\n- .NaN\n"
        "- off\n- yes\n- 1..4\n- 0x\n- 12abc\n- '1'\n- \"true\"\n- !!str 5\n- !!int \"12\"\n"
        "- !!float 3\n- !!bool 'false'\n- !!null ''\n- ! 7\n- 99999999999999999999\n- 3.10\n");
    struct { int type; const char *json; } want[] = {
        { RV_NULL, "null" }, { RV_NULL, "null" }, { RV_NULL, "null" }, { RV_NULL, "null" },
        { RV_NULL, "null" }, { RV_BOOL, "true" }, { RV_BOOL, "false" }, { RV_BOOL, "true" },
        /* YAML 1.1, as PyYAML: 0o17 and 1e3 are strings, off and yes booleans */
        { RV_INT, "42" }, { RV_INT, "-7" }, { RV_INT, "3" }, { RV_INT, "31" }, { RV_STRING, "\"0o17\"" },
        { RV_FLOAT, "1.5" }, { RV_FLOAT, "2.0" }, { RV_FLOAT, "0.5" }, { RV_STRING, "\"1e3\"" },
        { RV_FLOAT, "-0.015" }, { RV_FLOAT, "null" }, { RV_FLOAT, "null" }, { RV_FLOAT, "null" },
        { RV_BOOL, "false" }, { RV_BOOL, "true" }, { RV_STRING, "\"1..4\"" },
        { RV_STRING, "\"0x\"" }, { RV_STRING, "\"12abc\"" }, { RV_STRING, "\"1\"" },
        { RV_STRING, "\"true\"" }, { RV_STRING, "\"5\"" }, { RV_INT, "12" }, { RV_FLOAT, "3.0" },
        /* an integer beyond 64 bits: a float, printed with its digits */
        { RV_BOOL, "false" }, { RV_NULL, "null" }, { RV_STRING, "\"7\"" }, { RV_FLOAT, "99999999999999999999" },
        { RV_FLOAT, "3.1" },
    };
    size_t nw = sizeof want / sizeof *want;
    assert_int_equal(n->len, nw);
    for (size_t i = 0; i < nw; i++) {
        if (n->u.items[i]->type != want[i].type)
            fail_msg("item %zu: type %d, want %d", i, n->u.items[i]->type, want[i].type);
        assert_string_equal(compact(f, n->u.items[i]), want[i].json);
    }
    assert_true(isinf(n->u.items[19]->u.f) && n->u.items[19]->u.f < 0);
    assert_true(isnan(n->u.items[20]->u.f));

    /* a tag the value does not fit */
    assert_null(yaml(f, "a: !!int abc\n"));
    assert_int_equal(f->err.status, RV_EPARSE);
    assert_int_equal(f->err.line, 1);
    /* keys are text; flow style and JSON are YAML too */
    n = must_yaml(f, "{\"b\": 1, a: [x, 'y'], 3: z, true: ~}");
    assert_string_equal(compact(f, n), "{\"b\":1,\"a\":[\"x\",\"y\"],\"3\":\"z\",\"true\":null}");
    n = must_yaml(f, "text: |\n  line one\n  line two\nfolded: >\n  a\n  b\n");
    assert_string_equal(get(n, "text")->u.s, "line one\nline two\n");
    assert_string_equal(get(n, "folded")->u.s, "a b\n");
}

static void test_yaml_aliases(void **state)
{
    fixture *f = *state;
    rv_node *n = must_yaml(f, "base: &b {cpu: 4, tags: [a, b]}\nx: *b\ny: &s hello\nz: *s\n"
                              "*s : keyed\n");
    assert_true(same_shape(get(n, "base"), get(n, "x")));
    assert_ptr_not_equal(get(n, "base"), get(n, "x")); /* a deep copy, not shared */
    assert_ptr_not_equal(get(n, "base")->u.members[1].value, get(n, "x")->u.members[1].value);
    assert_string_equal(get(n, "z")->u.s, "hello");
    assert_string_equal(get(n, "hello")->u.s, "keyed");

    assert_null(yaml(f, "a: *nope\n"));
    assert_int_equal(f->err.status, RV_EPARSE);
    assert_int_equal(f->err.line, 1);
    assert_int_equal(f->err.column, 4);

    /* billion laughs: 10^9 nodes if expanded */
    const char *bomb = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
                       "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                       "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
                       "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
                       "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
                       "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
                       "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
                       "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
                       "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
    assert_null(yaml(f, bomb));
    assert_int_equal(f->err.status, RV_ELIMIT);
    assert_non_null(strstr(f->err.message, "aliases"));
    assert_true(f->err.line >= 4 && f->err.line <= 6);

    /* aliases cannot build a tree deeper than the nesting limit */
    rv_node *ok = rv_yaml_parse(&f->a, "a: &a [[[1]]]\nb: [[*a]]\n", 24, 6, &f->err);
    assert_non_null(ok);
    assert_null(rv_yaml_parse(&f->a, "a: &a [[[1]]]\nb: [[[*a]]]\n", 26, 6, &f->err));
    assert_int_equal(f->err.status, RV_ELIMIT);
}

static void test_yaml_quoting(void **state)
{
    fixture *f = *state;
    const char *strs[] = {
        "true", "False", "1.5", "null", "Null", "", "0x10", "0o7", "~", "1", "-3", "+3", "1e3",
        ".inf", ".nan", "yes", "off", "on", "1..4", "2024-01-31", "1_000", "1:30",
        "multi\nline\n", "no trailing\nnewline", "  leading", "trailing  ", "a: b", "#x", "- x",
        "x #y", "[x]", "{a}", "*ref", "&anc", "!tag", "%p", "@", "`", "\"q\"", "'q'",
        "tab\there", "nul\0x", "h\xc3\xa9llo \xe2\x82\xac", "\n", " \n x\n", "line\r\n",
        "---", "...", "?", ":", "-", ",", "plain words", "$MODEL_ID --port 8000",
    };
    size_t ns = sizeof strs / sizeof *strs;
    rv_node *arr = rv_new_array(&f->a, 0);
    rv_node *obj = rv_new_object(&f->a, 0);
    for (size_t i = 0; i < ns; i++) {
        size_t l = strcmp(strs[i], "nul") == 0 ? 5 : strlen(strs[i]);
        assert_true(rv_array_push(&f->a, arr, rv_new_string(&f->a, strs[i], l)));
        /* the same strings as keys */
        char *k = ru_arena_strndup(&f->a, strs[i], l);
        assert_true(rv_object_push(&f->a, obj, k, l, rv_new_int(&f->a, (int64_t)i)));
    }
    rv_node *doc = rv_new_object(&f->a, 0);
    assert_true(rv_object_push(&f->a, doc, "values", 6, arr));
    assert_true(rv_object_push(&f->a, doc, "keys", 4, obj));
    assert_true(rv_object_push(&f->a, doc, "empty_list", 10, rv_new_array(&f->a, 0)));
    assert_true(rv_object_push(&f->a, doc, "empty_map", 9, rv_new_object(&f->a, 0)));
    assert_true(rv_object_push(&f->a, doc, "f", 1, rv_new_float(&f->a, 2.0)));
    assert_true(rv_object_push(&f->a, doc, "inf", 3, rv_new_float(&f->a, -INFINITY)));
    f->b.len = 0;
    if (!rv_yaml_write(&f->b, doc, &f->err))
        fail_msg("yaml write: %s", f->err.message);
    ru_buf_terminate(&f->b);
    rv_node *back = rv_yaml_parse(&f->a, f->b.data, f->b.len, 512, &f->err);
    if (!back)
        fail_msg("%s\n%s", f->err.message, f->b.data);
    if (!same_shape(doc, back))
        fail_msg("round trip differs:\n%s", f->b.data);
    /* spot checks on the text */
    assert_non_null(strstr(f->b.data, "- 'true'\n"));
    assert_non_null(strstr(f->b.data, "- ''\n"));
    assert_non_null(strstr(f->b.data, "- plain words\n"));
    assert_non_null(strstr(f->b.data, "- |\n"));
    assert_non_null(strstr(f->b.data, "empty_list: []\n"));
    assert_non_null(strstr(f->b.data, "empty_map: {}\n"));
    assert_non_null(strstr(f->b.data, "f: 2.0\n"));
    assert_non_null(strstr(f->b.data, "inf: -.inf\n"));
    assert_non_null(strstr(f->b.data, "h\xc3\xa9llo \xe2\x82\xac")); /* unicode kept */

    /* scalars as the whole document */
    const char *roots[] = { "\"x\"", "1", "2.5", "null", "[]", "{}", "\"multi\\nline\"" };
    for (size_t i = 0; i < sizeof roots / sizeof *roots; i++) {
        rv_node *r = must_json(f, roots[i]);
        f->b.len = 0;
        assert_true(rv_yaml_write(&f->b, r, &f->err));
        rv_node *rb = rv_yaml_parse(&f->a, f->b.data, f->b.len, 512, &f->err);
        assert_non_null(rb);
        assert_true(same_shape(r, rb));
    }
    /* invalid UTF-8 cannot be printed as YAML: an error, not a crash */
    rv_node *bad = rv_new_string(&f->a, "\xff\xfe", 2);
    f->b.len = 0;
    f->err.status = RV_OK;
    assert_false(rv_yaml_write(&f->b, bad, &f->err));
    assert_int_equal(f->err.status, RV_EINPUT);
}


/* ---- strictness: RFC 8259 and UTF-8 (RFC 3629), every refusal located ---- */

typedef struct bad_json {
    const char *text;
    size_t len;             /* 0: strlen */
    unsigned long line, col;
    const char *message;    /* after "invalid JSON: " */
} bad_json;

static void test_json_strict_refusals(void **state)
{
    fixture *f = *state;
    static const bad_json cases[] = {
        /* whitespace is space, tab, LF and CR only */
        {"[\f]", 0, 1, 2, "unexpected form feed (0x0C), which is not JSON whitespace: expected a value"},
        {"[1\f]", 0, 1, 3, "unexpected form feed (0x0C), which is not JSON whitespace: expected ',' or ']'"},
        {"{\"a\":1}\0", 8, 1, 8, "unexpected NUL byte (0x00) after the document"},
        {"[1,\0 2]", 7, 1, 4, "unexpected NUL byte (0x00): expected a value"},
        {"[\v1]", 0, 1, 2, "unexpected control character 0x0B: expected a value"},
        {"[1]\xc2\xa0", 0, 1, 4, "unexpected byte 0xC2 after the document"},
        /* escapes */
        {"[\"\\uqqqq\"]", 0, 1, 3, "invalid escape '\\uqqqq': \\u takes four hex digits"},
        {"[\"\\u12\"]", 0, 1, 3, "invalid escape '\\u12': \\u takes four hex digits"},
        {"[\"\\x41\"]", 0, 1, 3, "invalid escape '\\x' (JSON has \\\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX)"},
        {"[\"\\'\"]", 0, 1, 3, "invalid escape '\\'' (JSON has \\\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX)"},
        {"[\"\\\xc3\xa9\"]", 0, 1, 3, "invalid escape: '\\' followed by byte 0xC3"},
        /* surrogates written as escapes must pair up */
        {"{\"a\": \"\\ud800\"}", 0, 1, 8,
         "lone surrogate \\ud800: a high surrogate must be followed by a low one (\\uDC00-\\uDFFF)"},
        {"[\"x\\uD83Dy\"]", 0, 1, 4,
         "lone surrogate \\uD83D: a high surrogate must be followed by a low one (\\uDC00-\\uDFFF)"},
        {"[\"\\ud800\\u0041\"]", 0, 1, 3,
         "lone surrogate \\ud800: a high surrogate must be followed by a low one (\\uDC00-\\uDFFF)"},
        {"[\"\\ud800\\ud800\"]", 0, 1, 3,
         "lone surrogate \\ud800: a high surrogate must be followed by a low one (\\uDC00-\\uDFFF)"},
        {"[\"\\udc00\"]", 0, 1, 3,
         "lone surrogate \\udc00: a low surrogate (\\uDC00-\\uDFFF) must follow a high one (\\uD800-\\uDBFF)"},
        {"[\"\\ude00\\ud83d\"]", 0, 1, 3,
         "lone surrogate \\ude00: a low surrogate (\\uDC00-\\uDFFF) must follow a high one (\\uD800-\\uDBFF)"},
        /* UTF-8, every kind of ill-formed sequence */
        {"[\"caf\xe9\"]", 0, 1, 6, "invalid UTF-8: byte 0xE9 starts a 3-byte sequence, but byte 0x22 follows "
                                  "(is the text Latin-1 rather than UTF-8?)"},
        {"[\"\xe2\x82\"]", 0, 1, 3, "invalid UTF-8: byte 0xE2 starts a 3-byte sequence, but byte 0x22 follows"},
        {"[\"\xe2\x82", 0, 1, 3, "invalid UTF-8: byte 0xE2 starts a 3-byte sequence, but the text ends"},
        {"[\"\x80\"]", 0, 1, 3, "invalid UTF-8: byte 0x80 continues a sequence that did not start"},
        {"[\"\xbf\"]", 0, 1, 3, "invalid UTF-8: byte 0xBF continues a sequence that did not start"},
        {"[\"\xc0\xaf\"]", 0, 1, 3, "invalid UTF-8: byte 0xC0 starts an overlong encoding"},
        {"[\"\xc1\xbf\"]", 0, 1, 3, "invalid UTF-8: byte 0xC1 starts an overlong encoding"},
        {"[\"\xe0\x80\xaf\"]", 0, 1, 3, "invalid UTF-8: an overlong encoding (byte 0xE0 0x80)"},
        {"[\"\xf0\x80\x80\xaf\"]", 0, 1, 3, "invalid UTF-8: an overlong encoding (byte 0xF0 0x80)"},
        {"[\"\xed\xa0\x80\"]", 0, 1, 3, "invalid UTF-8: an encoded surrogate (U+D800); surrogates are not characters"},
        {"[\"\xed\xbf\xbf\"]", 0, 1, 3, "invalid UTF-8: an encoded surrogate (U+DFFF); surrogates are not characters"},
        {"[\"\xf4\x90\x80\x80\"]", 0, 1, 3, "invalid UTF-8: a code point above U+10FFFF"},
        {"[\"\xf5\x80\x80\x80\"]", 0, 1, 3, "invalid UTF-8: byte 0xF5 never appears in UTF-8 (it would start "
                                          "a code point above U+10FFFF)"},
        {"[\"\xff\"]", 0, 1, 3, "invalid UTF-8: byte 0xFF never appears in UTF-8"},
        {"[\"\xfe\xff\"]", 0, 1, 3, "invalid UTF-8: byte 0xFE never appears in UTF-8"},
        {"[\"\xc3\xa9\xc3\"]", 0, 1, 4, "invalid UTF-8: byte 0xC3 starts a 2-byte sequence, but byte 0x22 follows "
                                       "(is the text Latin-1 rather than UTF-8?)"},
        /* raw control characters in strings */
        {"[\"a\tb\"]", 0, 1, 4, "control character 0x09 in a string: write it as an escape (\\n, \\t, \\u00XX)"},
        {"[\"a\nb\"]", 0, 1, 4, "control character 0x0A in a string: write it as an escape (\\n, \\t, \\u00XX)"},
        {"[\"a\0b\"]", 6, 1, 4, "control character 0x00 in a string: write it as an escape (\\n, \\t, \\u00XX)"},
        {"[\"abc", 0, 1, 2, "unterminated string"},
        {"[\"abc\\", 0, 1, 2, "unterminated string"},
        /* numbers */
        {"[01]", 0, 1, 2, "a number cannot start with a leading zero"},
        {"[-012]", 0, 1, 2, "a number cannot start with a leading zero"},
        {"[1.]", 0, 1, 3, "a number needs digits after its decimal point"},
        {"[1.e5]", 0, 1, 3, "a number needs digits after its decimal point"},
        {"[1e]", 0, 1, 3, "a number needs digits in its exponent"},
        {"[1e+]", 0, 1, 3, "a number needs digits in its exponent"},
        {"[-]", 0, 1, 2, "a number needs a digit after '-'"},
        {"[-a]", 0, 1, 2, "a number needs a digit after '-'"},
        {"[+1]", 0, 1, 2, "unexpected character '+': expected a value"},
        {"[.5]", 0, 1, 2, "unexpected character '.': expected a value"},
        {"[1.5.2]", 0, 1, 5, "unexpected character '.': expected ',' or ']'"},
        {"[0x10]", 0, 1, 3, "unexpected character 'x': expected ',' or ']'"},
        {"[Infinity]", 0, 1, 2, "unexpected character 'I': expected a value"},
        {"[NaN]", 0, 1, 2, "unexpected character 'N': expected a value"},
        {"[-Infinity]", 0, 1, 2, "a number needs a digit after '-'"},
        /* literals */
        {"[nul]", 0, 1, 2, "invalid literal 'nul' (JSON has true, false and null; strings take double quotes)"},
        {"[True]", 0, 1, 2, "unexpected character 'T': expected a value"},
        {"[truex]", 0, 1, 2, "invalid literal 'truex' (JSON has true, false and null; strings take double quotes)"},
        {"[undefined]", 0, 1, 2, "invalid literal 'undefined' (JSON has true, false and null; strings take double quotes)"},
        /* structure */
        {"[1,]", 0, 1, 4, "unexpected character ']': expected a value"},
        {"[,1]", 0, 1, 2, "unexpected character ',': expected a value"},
        {"[1 2]", 0, 1, 4, "unexpected character '2': expected ',' or ']'"},
        {"{\"a\":1,}", 0, 1, 8, "unexpected character '}': expected a key (a string in double quotes) after ','"},
        {"{\"a\" 1}", 0, 1, 6, "unexpected character '1': expected ':' after the key"},
        {"{\"a\"}", 0, 1, 5, "unexpected character '}': expected ':' after the key"},
        {"{a:1}", 0, 1, 2, "unexpected character 'a': expected a key (a string in double quotes) or '}'"},
        {"{'a':1}", 0, 1, 2, "unexpected character ''': expected a key (a string in double quotes) or '}'"},
        {"{1:1}", 0, 1, 2, "unexpected character '1': expected a key (a string in double quotes) or '}'"},
        {"{\"a\":1 \"b\":2}", 0, 1, 8, "unexpected character '\"': expected ',' or '}'"},
        {"[1}", 0, 1, 3, "unexpected character '}': expected ',' or ']'"},
        {"{\"a\":1]", 0, 1, 7, "unexpected character ']': expected ',' or '}'"},
        {"[", 0, 1, 2, "unexpected end of input: expected a value"},
        {"{", 0, 1, 2, "unexpected end of input: expected a key (a string in double quotes) or '}'"},
        {"{\"a\":", 0, 1, 6, "unexpected end of input: expected a value"},
        {"[1", 0, 1, 3, "unexpected end of input: expected ',' or ']'"},
        {"[1]]", 0, 1, 4, "unexpected character ']' after the document"},
        {"{} {}", 0, 1, 4, "unexpected character '{' after the document"},
        {"1 2", 0, 1, 3, "unexpected character '2' after the document"},
        {"[1] // comment", 0, 1, 5, "unexpected character '/' after the document"},
        {"[/* c */ 1]", 0, 1, 2, "unexpected character '/': expected a value"},
        {"]", 0, 1, 1, "unexpected character ']'"},
        {"\xef\xbb\xbf", 0, 1, 2, "empty input"},
        {"\xef\xbb", 0, 1, 1, "unexpected byte 0xEF"},
        /* UTF-16 and UTF-32 are named as such */
        {"\xff\xfe{\0}\0", 6, 1, 1, "the text looks like UTF-16 or UTF-32 (a byte order mark or NUL bytes at "
                                   "its start): JSON must be UTF-8"},
        {"\0{\0\"\0a", 6, 1, 1, "the text looks like UTF-16 or UTF-32 (a byte order mark or NUL bytes at "
                                  "its start): JSON must be UTF-8"},
        {"1\0", 2, 1, 2, "unexpected NUL byte (0x00) after the document"},
        /* positions: lines, and columns in characters */
        {"{\n  \"a\": [\n    1,\n    \xc3\xa9\n  ]\n}", 0, 4, 5, "unexpected byte 0xC3: expected a value"},
        {"{\"\xc3\xa9\xc3\xa9\": \"\\q\"}", 0, 1, 9,
         "invalid escape '\\q' (JSON has \\\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX)"},
        {"{\"a\": 1,\r\n \"a\": 2}", 0, 2, 2, "duplicate key \"a\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const bad_json *c = &cases[i];
        size_t len = c->len ? c->len : strlen(c->text);
        memset(&f->err, 0, sizeof f->err);
        if (rv_json_parse(&f->a, c->text, len, 512, &f->err))
            fail_msg("case %zu accepted: %s", i, c->text);
        char want[600];
        snprintf(want, sizeof want, "invalid JSON: %s", c->message);
        if (f->err.status != RV_EPARSE || strcmp(f->err.message, want) != 0 || f->err.line != c->line ||
            f->err.column != c->col)
            fail_msg("case %zu (%s):\n  got  %d %lu:%lu %s\n  want %lu:%lu %s", i, c->text, f->err.status,
                     f->err.line, f->err.column, f->err.message, c->line, c->col, want);
    }
}

/* The reader scans strings many bytes at a step and reads ahead of the
 * cursor without checking the length (the text's copy ends in a NUL and
 * padding): every kind of stop, at every place of a scan's window, is
 * found where it is, and every cut of a document is refused, not read
 * past its end. */
static void test_json_scan_windows(void **state)
{
    fixture *f = *state;
    char text[128], want[200];
    for (size_t at = 0; at < 40; at++) {
        char plain[48];
        memset(plain, 'a', 40);
        /* a plain run of every length, alone and as a key */
        snprintf(text, sizeof text, "{\"%.*s\":\"%.*s\"}", (int)at, plain, (int)at, plain);
        rv_node *n = must_json(f, text);
        assert_int_equal(n->u.members[0].klen, at);
        assert_int_equal(n->u.members[0].value->len, at);
        /* a character of two bytes, an escape: read, at any place */
        snprintf(text, sizeof text, "[\"%.*s\xc3\xa9%.*s\", \"%.*s\\n%.*s\"]", (int)at, plain,
                 (int)(39 - at), plain, (int)at, plain, (int)(39 - at), plain);
        n = must_json(f, text);
        assert_int_equal(n->u.items[0]->len, 41);
        assert_memory_equal(n->u.items[0]->u.s + at, "\xc3\xa9", 2);
        assert_int_equal(n->u.items[1]->len, 40);
        assert_int_equal(n->u.items[1]->u.s[at], '\n');
        /* a control character, a Latin-1 byte (an 'a' after it): refused where they are */
        static const struct { char byte; const char *message; } bad[] = {
            {'\x01', "control character 0x01 in a string: write it as an escape (\\n, \\t, \\u00XX)"},
            {'\xe9', "invalid UTF-8: byte 0xE9 starts a 3-byte sequence, but byte 0x61 follows (is the "
                     "text Latin-1 rather than UTF-8?)"},
        };
        for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
            snprintf(text, sizeof text, "[\"%.*s%c%.*s\"]", (int)at, plain, bad[k].byte, (int)(40 - at),
                     plain);
            memset(&f->err, 0, sizeof f->err);
            assert_null(rv_json_parse(&f->a, text, strlen(text), 512, &f->err));
            snprintf(want, sizeof want, "invalid JSON: %s", bad[k].message);
            assert_int_equal(f->err.status, RV_EPARSE);
            assert_string_equal(f->err.message, want);
            assert_int_equal(f->err.line, 1);
            assert_int_equal(f->err.column, 3 + at);
        }
    }
    /* every cut of a document, in a buffer of exactly its size */
    const char *doc = "{\"a\":[1,-2.5e3,\"x\\u00e9y\",true,false,null,{}],\"bb\":{\"c\":\"dddddddddddddddddddd\"}}";
    size_t len = strlen(doc);
    must_json(f, doc);
    for (size_t cut = 0; cut < len; cut++) {
        char *piece = malloc(cut ? cut : 1);
        assert_non_null(piece);
        memcpy(piece, doc, cut);
        memset(&f->err, 0, sizeof f->err);
        if (rv_json_parse(&f->a, piece, cut, 512, &f->err))
            fail_msg("the first %zu bytes accepted", cut);
        assert_int_equal(f->err.status, RV_EPARSE);
        assert_int_equal(f->err.line, 1);
        assert_true(f->err.column >= 1 && f->err.column <= cut + 1);
        free(piece);
    }
}

/* Everything RFC 8259 and UTF-8 allow is read, with the right values. */
static void test_json_strict_accepts(void **state)
{
    fixture *f = *state;
    /* every escape, pairs of surrogates, the edges of UTF-8 */
    rv_node *n = must_json(f, "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\", \"\\u0000\\u001f\\u007F\\u00e9\\u20AC\", "
                              "\"\\ud83d\\ude00\\uDBFF\\uDFFF\\ud800\\udc00\", "
                              "\"\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf\", "
                              "\"\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\x7f\"]");
    assert_int_equal(n->len, 5);
    assert_int_equal(n->u.items[0]->len, 8);
    assert_memory_equal(n->u.items[0]->u.s, "\"\\/\b\f\n\r\t", 8);
    assert_int_equal(n->u.items[1]->len, 8);
    assert_memory_equal(n->u.items[1]->u.s, "\0\x1f\x7f\xc3\xa9\xe2\x82\xac", 8);
    assert_string_equal(n->u.items[2]->u.s, "\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\xf0\x90\x80\x80");
    assert_string_equal(n->u.items[3]->u.s, "\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf");
    assert_string_equal(n->u.items[4]->u.s, "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\x7f");
    /* the four whitespace bytes anywhere between tokens */
    n = must_json(f, " \t\r\n{ \t\r\n\"a\" \t\r\n: \t\r\n[ \t\r\n1 \t\r\n, \t\r\n{} \t\r\n] \t\r\n} \t\r\n");
    assert_int_equal(get(n, "a")->len, 2);
    /* a byte order mark before the text is skipped (RFC 8259, 8.1) */
    assert_int_equal(must_json(f, "\xef\xbb\xbf{\"a\": 1}")->type, RV_OBJECT);
    /* any value at the top, empty keys, keys that differ only after a NUL */
    assert_int_equal(must_json(f, "\"x\"")->type, RV_STRING);
    assert_int_equal(must_json(f, "-0")->type, RV_INT);
    assert_int_equal(must_json(f, "null")->type, RV_NULL);
    n = must_json(f, "{\"\": 1, \"a\\u0000b\": 2, \"a\\u0000c\": 3, \"a\": 4}");
    assert_int_equal(n->len, 4);
    assert_int_equal(n->u.members[0].klen, 0);
    assert_int_equal(n->u.members[1].klen, 3);
    /* numbers: ints while int64 holds them, else the nearest double */
    n = must_json(f, "[0, -0, 9223372036854775807, -9223372036854775808, 9223372036854775808, "
                     "-9223372036854775809, 1E2, 1e+2, 1e-2, 0.5e1, 123456789012345678901234567890, "
                     "1e400, -1e400, 1e-400, 0.1, 2.2250738585072014e-308, 4.9e-324, "
                     "0.30000000000000004, 100000000000000000000000e-23, 1.7976931348623157e308]");
    int types[] = {RV_INT, RV_INT, RV_INT, RV_INT, RV_FLOAT, RV_FLOAT, RV_FLOAT, RV_FLOAT, RV_FLOAT,
                   RV_FLOAT, RV_FLOAT, RV_FLOAT, RV_FLOAT, RV_FLOAT, RV_FLOAT, RV_FLOAT, RV_FLOAT,
                   RV_FLOAT, RV_FLOAT, RV_FLOAT};
    double want[] = {0, 0, 0, 0, 9223372036854775808.0, -9223372036854775808.0, 100, 100, 0.01, 5,
                     1.2345678901234568e29, INFINITY, -INFINITY, 0, 0.1, 2.2250738585072014e-308,
                     4.9e-324, 0.30000000000000004, 1.0, 1.7976931348623157e308};
    assert_int_equal(n->len, 20);
    for (int i = 0; i < 20; i++) {
        if (n->u.items[i]->type != types[i])
            fail_msg("number %d: type %d", i, n->u.items[i]->type);
        if (types[i] == RV_FLOAT && n->u.items[i]->u.f != want[i])
            fail_msg("number %d: %.17g, want %.17g", i, n->u.items[i]->u.f, want[i]);
    }
    assert_true(n->u.items[2]->u.i == INT64_MAX);
    assert_true(n->u.items[3]->u.i == INT64_MIN);
    assert_true(signbit(must_json(f, "-0.0")->u.f));
    /* Decimals of every length and exponent read as the C library reads
     * them (the fast path is exact or not taken). */
    uint64_t x = 88172645463325252ull;
    char text[80];
    for (int k = 0; k < 50000; k++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int digits = (int)(x % 20), exp10 = (int)((x >> 8) % 61) - 30;
        unsigned long long m = (x >> 16) % 10000000000000000000ull;
        int len = snprintf(text, sizeof text, "%s%llu", (x >> 5) & 1 ? "-" : "", m);
        if (digits && len > digits + 1)
            memmove(text + len - digits + 1, text + len - digits, (size_t)digits + 1), text[len - digits] = '.';
        len = (int)strlen(text);
        if ((x >> 6) & 1)
            snprintf(text + len, sizeof text - (size_t)len, "e%d", exp10);
        rv_node *v = json(f, text);
        if (!v)
            continue;  /* a leading zero, which JSON refuses */
        double d = v->type == RV_INT ? (double)v->u.i : v->u.f;
        if (d != strtod(text, NULL))
            fail_msg("%s read as %.17g, strtod says %.17g", text, d, strtod(text, NULL));
    }
}


/* ---- fidelity: what nothing changed prints as it came in ---- */

static const char *vm_print(rv_vm *vm, const rv_doc *d, int flags)
{
    const char *out;
    size_t len;
    rv_error err;
    assert_int_equal(rv_vm_print(vm, d, RV_JSON, flags, &out, &len, &err), RV_OK);
    assert_int_equal(strlen(out), len);
    return out;
}

static void test_json_verbatim(void **state)
{
    (void)state;
    rv_vm *vm;
    assert_int_equal(rv_vm_new(NULL, &vm), RV_OK);
    static const char text[] = "{\n  \"a\" : [1, 2.50 ,\"x\\u0041\", 1e400, -0.0],\n\t\"b\":{ \"c\" : null },"
                               " \"\\u006b\": true, \"big\": 123456789012345678901234567890 }";
    rv_doc *d;
    rv_error err;
    assert_int_equal(rv_vm_parse(vm, text, strlen(text), RV_JSON, &d, &err), RV_OK);
    /* untouched: byte for byte, compact or pretty */
    assert_string_equal(vm_print(vm, d, RV_VERBATIM), text);
    assert_string_equal(vm_print(vm, d, RV_VERBATIM | RV_PRETTY), text);
    /* laid out by the printer, every scalar and key still as written */
    assert_string_equal(vm_print(vm, d, 0), "{\"a\":[1,2.50,\"x\\u0041\",1e400,-0.0],\"b\":{\"c\":null},"
                                            "\"\\u006b\":true,\"big\":123456789012345678901234567890}");
    assert_string_equal(vm_print(vm, d, RV_PRETTY),
                        "{\n  \"a\": [\n    1,\n    2.50,\n    \"x\\u0041\",\n    1e400,\n    -0.0\n  ],\n"
                        "  \"b\": {\n    \"c\": null\n  },\n  \"\\u006b\": true,\n"
                        "  \"big\": 123456789012345678901234567890\n}");
    /* the values are the numbers and text they say */
    assert_true(isinf(rv_doc_number(rv_doc_item(rv_doc_get(d, "a"), 3))));
    assert_string_equal(rv_doc_string(rv_doc_item(rv_doc_get(d, "a"), 2)), "xA");
    assert_non_null(rv_doc_get(d, "k"));

    /* A change below: the containers on its way are laid out, and in them
     * every run of members still as read is copied as written. */
    rv_doc *b = rv_doc_get(d, "b");
    assert_int_equal(rv_vm_object_put(vm, b, "c", rv_vm_new_float(vm, 1.0)), RV_OK);
    assert_string_equal(vm_print(vm, d, RV_VERBATIM), "{\"a\" : [1, 2.50 ,\"x\\u0041\", 1e400, -0.0],"
                                                      "\"b\":{\"c\":1.0},\"\\u006b\":true,"
                                                      "\"big\": 123456789012345678901234567890}");
    /* ...a new member, an item pushed: the same */
    assert_int_equal(rv_vm_object_put(vm, d, "n", rv_vm_new_int(vm, 7)), RV_OK);
    assert_int_equal(rv_vm_array_push(vm, rv_doc_get(d, "a"), rv_vm_new_null(vm)), RV_OK);
    assert_string_equal(vm_print(vm, d, RV_VERBATIM), "{\"a\":[1, 2.50 ,\"x\\u0041\", 1e400, -0.0,null],"
                                                      "\"b\":{\"c\":1.0},\"\\u006b\":true,"
                                                      "\"big\": 123456789012345678901234567890,\"n\":7}");

    /* A deep change leaves its untouched ancestors' text unused. */
    static const char deep[] = "{\"x\": {\"y\": {\"z\": 1}, \"s\": [ 2 ]}, \"w\": [ 1 ]}";
    assert_int_equal(rv_vm_parse(vm, deep, strlen(deep), RV_JSON, &d, &err), RV_OK);
    rv_doc *y = rv_doc_get(rv_doc_get(d, "x"), "y");
    assert_int_equal(rv_vm_object_put(vm, y, "z", rv_vm_new_string(vm, "two")), RV_OK);
    assert_string_equal(vm_print(vm, d, RV_VERBATIM), "{\"x\":{\"y\":{\"z\":\"two\"},\"s\": [ 2 ]},\"w\": [ 1 ]}");
    /* laid out without RV_VERBATIM */
    assert_string_equal(vm_print(vm, d, 0), "{\"x\":{\"y\":{\"z\":\"two\"},\"s\":[2]},\"w\":[1]}");
    rv_vm_free(vm);
}

/* Copies keep the text of scalars and of escaped keys; a copied container
 * is laid out by the printer. */
static void test_json_copy_text(void **state)
{
    fixture *f = *state;
    rv_node *n = must_json(f, "{\"\\u0041\": [ 1.50, \"\\/\" ], \"b\": 1E2}");
    rv_node *c = rv_copy(&f->a, n);
    assert_string_equal(compact(f, c), "{\"\\u0041\":[1.50,\"\\/\"],\"b\":1E2}");
    assert_string_equal(c->u.members[0].key, "A");
    f->b.len = 0;
    assert_true(rv_json_write(&f->b, c, false, true));
    ru_buf_terminate(&f->b);
    assert_string_equal(f->b.data, "{\"\\u0041\":[1.50,\"\\/\"],\"b\":1E2}");
    /* YAML output takes a number's JSON text only where PyYAML reads it
     * as the same number (1.50; not 1E2, a string to it), and no string's */
    f->b.len = 0;
    assert_true(rv_yaml_write(&f->b, n, &f->err));
    ru_buf_terminate(&f->b);
    assert_string_equal(f->b.data, "A:\n- 1.50\n- /\nb: 100.0\n");
}


/* The escaper finds the bytes to escape 8 at a step: against a byte by
 * byte reference, on strings of every length where each byte is one that
 * needs escaping, one next to such a byte's value, or text (ASCII and
 * multi-byte UTF-8). */
static void reference_escape(ru_buf *b, const char *s, size_t n)
{
    ru_buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *e = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\n' ? "\\n" : c == '\r' ? "\\r"
                      : c == '\t' ? "\\t" : c == '\b' ? "\\b" : c == '\f' ? "\\f" : NULL;
        if (e)
            ru_buf_puts(b, e);
        else if (c < 0x20)
            ru_buf_printf(b, "\\u%04x", c);
        else
            ru_buf_putc(b, (char)c);
    }
    ru_buf_putc(b, '"');
}

static void test_json_escaper(void **state)
{
    (void)state;
    static const unsigned char pool[] = {0x00, 0x01, 0x1f, 0x20, 0x21, '"', '#', '\\', ']', '[', 'a', 'z',
                                         0x7f, 0x80, 0xa2, 0xc3, 0xe2, 0xff, '\n', '\t'};
    ru_buf got, want;
    ru_buf_init(&got, NULL, NULL);
    ru_buf_init(&want, NULL, NULL);
    uint64_t x = 0x9E3779B97F4A7C15ull;
    char s[80];
    for (int k = 0; k < 20000; k++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t n = (size_t)(x % sizeof s);
        uint64_t y = x;
        for (size_t i = 0; i < n; i++) {
            y ^= y << 13, y ^= y >> 7, y ^= y << 17;
            /* mostly plain text, so that long runs occur */
            s[i] = (y >> 8) % 4 ? (char)('a' + (y >> 16) % 26) : (char)pool[(y >> 24) % sizeof pool];
        }
        ru_buf_clear(&got);
        ru_buf_clear(&want);
        ru_buf_json_string(&got, s, n);
        reference_escape(&want, s, n);
        if (got.len != want.len || memcmp(got.data, want.data, got.len) != 0)
            fail_msg("escaping %zu bytes differs: %.*s vs %.*s", n, (int)got.len, got.data, (int)want.len,
                     want.data);
    }
    ru_buf_free(&got);
    ru_buf_free(&want);
}


/* Runs of members copied as read never bring back a removed member, nor
 * copy a value from where it was read when it was moved. (White-box: the
 * edits are made as the VM makes them, new storage and the mark.) */
static void test_json_verbatim_runs(void **state)
{
    fixture *f = *state;
    rv_node *n = must_json(f, "{\"a\": 1, \"b\": 2, \"c\": \"three\", \"d\": [4, 5]}");
    rv_member *m = n->u.members;
    /* unset b */
    rv_member *without = ru_arena_alloc(&f->a, 3 * sizeof *without);
    without[0] = m[0];
    without[1] = m[2];
    without[2] = m[3];
    n->u.members = without;
    n->len = n->cap = 3;
    n->flags |= RV_NODE_EDITED;
    f->b.len = 0;
    assert_true(rv_json_write(&f->b, n, false, true));
    ru_buf_terminate(&f->b);
    assert_string_equal(f->b.data, "{\"a\": 1,\"c\": \"three\", \"d\": [4, 5]}");
    /* a takes d's list (moved, not read there): a is laid out */
    without[0].value = without[2].value;
    f->b.len = 0;
    assert_true(rv_json_write(&f->b, n, false, true));
    ru_buf_terminate(&f->b);
    assert_string_equal(f->b.data, "{\"a\":[4, 5],\"c\": \"three\", \"d\": [4, 5]}");
    /* order changed: each run starts anew */
    rv_member t = without[1];
    without[1] = without[2];
    without[2] = t;
    f->b.len = 0;
    assert_true(rv_json_write(&f->b, n, false, true));
    ru_buf_terminate(&f->b);
    assert_string_equal(f->b.data, "{\"a\":[4, 5],\"d\": [4, 5],\"c\": \"three\"}");
    rv_node *back = must_json(f, f->b.data);
    assert_true(rv_equal(n, back));
    /* an array: an item replaced in the middle */
    n = must_json(f, "[ 1 , \"x\" , null , 2.50 ]");
    n->u.items[1] = rv_new_int(&f->a, 7);
    n->flags |= RV_NODE_EDITED;
    f->b.len = 0;
    assert_true(rv_json_write(&f->b, n, false, true));
    ru_buf_terminate(&f->b);
    assert_string_equal(f->b.data, "[1,7,null , 2.50]");
}

/* ---- bad input ---- */

static char *deep(size_t n, char open)
{
    char *s = malloc(n + 1);
    memset(s, open, n);
    s[n] = '\0';
    return s;
}

static void test_json_errors(void **state)
{
    fixture *f = *state;
    assert_null(json(f, "{\n  \"a\": 1,\n  \"b\": x\n}"));
    assert_int_equal(f->err.status, RV_EPARSE);
    assert_int_equal(f->err.line, 3);
    assert_int_equal(f->err.column, 8);
    assert_string_equal(f->err.message, "invalid JSON: invalid literal 'x' (JSON has true, false and "
                                        "null; strings take double quotes)");

    assert_null(json(f, "{\"a\": [1, 2}"));
    assert_int_equal(f->err.status, RV_EPARSE);
    assert_int_equal(f->err.line, 1);
    assert_int_equal(f->err.column, 12);

    assert_null(json(f, "{\"a\": 1} x"));
    assert_int_equal(f->err.status, RV_EPARSE);
    assert_int_equal(f->err.column, 10);
    assert_non_null(strstr(f->err.message, "unexpected character 'x'"));
    assert_null(json(f, "[1] [2]"));
    assert_int_equal(f->err.status, RV_EPARSE);
    assert_non_null(must_json(f, "[1]  \n\t "));

    assert_null(json(f, ""));
    assert_int_equal(f->err.status, RV_EPARSE);
    assert_null(json(f, "  \n "));
    assert_int_equal(f->err.status, RV_EPARSE);
    assert_null(json(f, "{\"a\": "));
    assert_int_equal(f->err.status, RV_EPARSE);
    assert_non_null(strstr(f->err.message, "unexpected end of input"));
    assert_null(json(f, "[\"abc"));
    assert_int_equal(f->err.status, RV_EPARSE);

    /* what the side pass and cJSON let through, or blamed on the wrong thing */
    const char *bad[] = { "[01]", "[1.]", "[-]", "[1e]", "[\"a\tb\"]", "[1.5.2]", "{\"a\" 1}",
                          "[1,]", "{\"a\":1,}", "[nul]", "'x'", "[1]\x01" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (json(f, bad[i]))
            fail_msg("accepted %s", bad[i]);
        assert_int_equal(f->err.status, RV_EPARSE);
        assert_int_equal(f->err.line, 1);
        assert_true(f->err.column >= 1);
    }
    /* columns count characters, not bytes */
    assert_null(json(f, "[\"\xc3\xa9\xc3\xa9\", ?]"));
    assert_int_equal(f->err.column, 8);

    /* nesting: the parser keeps an explicit stack, bounded by the limit */
    char *s = deep(100000, '[');
    assert_null(rv_json_parse(&f->a, s, strlen(s), 512, &f->err));
    assert_int_equal(f->err.status, RV_ELIMIT);
    assert_string_equal(f->err.message, "nesting deeper than 512 levels");
    assert_int_equal(f->err.line, 1);  /* the position is in the fields only */
    assert_int_equal(f->err.column, 513);
    free(s);
    assert_null(rv_json_parse(&f->a, "[[[1]]]", 7, 2, &f->err));
    assert_int_equal(f->err.status, RV_ELIMIT);
    assert_non_null(rv_json_parse(&f->a, "[[[1]]]", 7, 3, &f->err));
    assert_non_null(rv_json_parse(&f->a, "[\"[[[[\"]", 8, 1, &f->err));
}

static void test_yaml_errors(void **state)
{
    fixture *f = *state;
    assert_null(yaml(f, "a: 1\nb: [1, 2\nc: 3\n"));
    assert_int_equal(f->err.status, RV_EPARSE);
    assert_true(f->err.line >= 2);
    assert_true(f->err.column >= 1);
    assert_non_null(strstr(f->err.message, "invalid YAML: "));
    assert_null(strstr(f->err.message, "line"));  /* the position is in the fields only */

    assert_null(yaml(f, "a: 1\n  b: 2\n"));
    assert_int_equal(f->err.status, RV_EPARSE);
    assert_int_equal(f->err.line, 2);
    assert_int_equal(f->err.column, 4);
    assert_string_equal(f->err.message,
                        "invalid YAML: mapping values are not allowed in this context");

    assert_null(yaml(f, "a: 1\n---\nb: 2\n"));
    assert_int_equal(f->err.status, RV_EPARSE);
    assert_int_equal(f->err.line, 2);
    assert_null(yaml(f, ""));
    assert_int_equal(f->err.status, RV_EPARSE);
    assert_string_equal(f->err.message, "empty YAML document");
    assert_null(yaml(f, "# only a comment\n"));
    assert_int_equal(f->err.status, RV_EPARSE);

    assert_null(yaml(f, "a: 1\n[x]: 2\n"));
    assert_int_equal(f->err.status, RV_EPARSE);
    assert_int_equal(f->err.line, 2);
    assert_int_equal(f->err.column, 1);
    assert_non_null(strstr(f->err.message, "keys must be scalars"));

    assert_null(yaml(f, "a: \"\xff\"\n"));
    assert_int_equal(f->err.status, RV_EPARSE);
    assert_int_equal(f->err.line, 1);

    char *s = deep(100000, '[');
    assert_null(rv_yaml_parse(&f->a, s, strlen(s), 512, &f->err));
    assert_int_equal(f->err.status, RV_ELIMIT);
    assert_int_equal(f->err.line, 1);
    assert_int_equal(f->err.column, 513);
    free(s);
    /* block nesting as well */
    char block[4096];
    size_t o = 0;
    for (int i = 0; i < 30; i++)
        o += (size_t)snprintf(block + o, sizeof block - o, "%*sk%d:\n", 2 * i, "", i);
    assert_null(rv_yaml_parse(&f->a, block, o, 20, &f->err));
    assert_int_equal(f->err.status, RV_ELIMIT);
    assert_non_null(rv_yaml_parse(&f->a, block, o, 40, &f->err));
}

/* ---- buffers under memory pressure ---- */

static size_t budget;
static void *tight_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    (void)ud;
    (void)osize;
    if (nsize == 0) {
        free(ptr);
        return NULL;
    }
    if (nsize > budget)
        return NULL;
    return realloc(ptr, nsize);
}

static void test_buf_oom(void **state)
{
    fixture *f = *state;
    ru_buf b;
    ru_buf_init(&b, tight_alloc, NULL);
    budget = 100;
    ru_buf_printf(&b, "%s-%d", "abc", 42);
    assert_false(b.oom);
    for (int i = 0; i < 100; i++)
        ru_buf_puts(&b, "0123456789");
    assert_true(b.oom);
    size_t len = b.len;
    ru_buf_putc(&b, 'x'); /* sticky: nothing more is written */
    assert_int_equal(b.len, len);
    ru_buf_terminate(&b);
    assert_memory_equal(b.data, "abc-42", 6);
    assert_int_equal(b.data[b.len], '\0');
    ru_buf_free(&b);

    ru_buf_init(&b, tight_alloc, NULL);
    budget = 1 << 20;
    char big[600];
    memset(big, 'y', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ru_buf_printf(&b, "<%s>", big);
    assert_false(b.oom);
    assert_int_equal(b.len, 601);
    ru_buf_free(&b);

    /* printers report OOM instead of crashing */
    rv_node *n = must_json(f, "{\"a\": [1, 2, 3, \"a long string value here\"]}");
    budget = 16;
    ru_buf_init(&b, tight_alloc, NULL);
    assert_false(rv_json_write(&b, n, true, false));
    ru_buf_free(&b);
    ru_buf_init(&b, tight_alloc, NULL);
    f->err.status = RV_OK;
    assert_false(rv_yaml_write(&b, n, &f->err));
    assert_int_equal(f->err.status, RV_ENOMEM);
    ru_buf_free(&b);

    /* parsers report OOM from an arena that cannot grow */
    ru_arena a;
    ru_arena_init(&a, tight_alloc, NULL);
    budget = 64;
    assert_null(rv_json_parse(&a, "[1]", 3, 512, &f->err));
    assert_int_equal(f->err.status, RV_ENOMEM);
    assert_null(rv_yaml_parse(&a, "[1]", 3, 512, &f->err));
    assert_int_equal(f->err.status, RV_ENOMEM);
    ru_arena_free(&a);

    rv_error *none = NULL;
    rv_set_error(none, RV_EINPUT, "ignored %d", 1); /* err may be NULL */
    rv_set_error(&f->err, RV_EINPUT, "x=%d", 5);
    assert_int_equal(f->err.status, RV_EINPUT);
    assert_int_equal(f->err.line, 0);
    assert_string_equal(f->err.message, "x=5");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_truthy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_equal, setup, teardown),
        cmocka_unit_test(test_doc_equal_public),
        cmocka_unit_test_setup_teardown(test_compare, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_and_find, setup, teardown),
        cmocka_unit_test_setup_teardown(test_format_number, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_numbers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_strings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_keys_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_pretty_layout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_yaml_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_yaml_scalars, setup, teardown),
        cmocka_unit_test_setup_teardown(test_yaml_aliases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_yaml_quoting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_strict_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_strict_accepts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_scan_windows, setup, teardown),
        cmocka_unit_test(test_json_verbatim),
        cmocka_unit_test_setup_teardown(test_json_verbatim_runs, setup, teardown),
        cmocka_unit_test(test_json_escaper),
        cmocka_unit_test_setup_teardown(test_json_copy_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_yaml_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_buf_oom, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
