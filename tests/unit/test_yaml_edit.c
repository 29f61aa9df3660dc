/* test_yaml_edit.c - YAML printed as its own text, edited (vm/yaml_edit.c):
 * SPDX-License-Identifier: Apache-2.0
 * an untouched document comes out byte for byte; each kind of edit keeps
 * the comments and layout docs/yaml.md says it keeps; where an edit
 * cannot be made in the text, the container (or the document) is printed
 * anew. And a bounded, deterministic random test: every YAML file of
 * tests/data and the texts below, through hundreds of random edits of the
 * kinds the VM makes (a value replaced, a member or item removed or
 * added, a list rebuilt with one more item), printed and read back, must
 * be the decided tree exactly (types, key order, typed keys, dates).
 * Run from the repository root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "doc_fixture.h"

#include "yaml_layout.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static rv_node *yaml_n(fixture *f, const char *text, size_t len)
{
    memset(&f->err, 0, sizeof f->err);
    rv_node *n = rv_yaml_parse(&f->a, text, len, 512, &f->err);
    if (!n)
        fail_msg("YAML does not parse: %s (line %lu)\n%s", f->err.message, f->err.line, text);
    return n;
}

static rv_node *yaml(fixture *f, const char *text)
{
    return yaml_n(f, text, strlen(text));
}

static const char *verbatim(fixture *f, const rv_node *n)
{
    f->b.len = 0;
    assert_true(rv_yaml_write_verbatim(&f->b, n, &f->err));
    ru_buf_terminate(&f->b);
    return f->b.data;
}

static rv_node *get(rv_node *obj, const char *key)
{
    rv_member *m = rv_object_find(obj, key, strlen(key));
    if (!m)
        fail_msg("no key %s", key);
    return m->value;
}

/* ---- edits as the VM makes them (interp.c: a slot replaced in place, a
 * member or item removed by building new storage, a member pushed, a
 * list appended to by building a new list of the old items) ---- */

static void replace_member(rv_node *obj, uint32_t i, rv_node *v)
{
    obj->u.members[i].value = v;
    obj->flags |= RV_NODE_EDITED;
}

static void replace_item(rv_node *arr, uint32_t i, rv_node *v)
{
    arr->u.items[i] = v;
    arr->flags |= RV_NODE_EDITED;
}

static void remove_at(fixture *f, rv_node *c, uint32_t i)
{
    size_t size = c->type == RV_OBJECT ? sizeof(rv_member) : sizeof(rv_node *);
    char *old = c->type == RV_OBJECT ? (char *)c->u.members : (char *)c->u.items;
    char *s = ru_arena_alloc(&f->a, (c->len ? c->len : 1) * size);
    assert_non_null(s);
    memcpy(s, old, i * size);
    memcpy(s + i * size, old + (i + 1) * size, (c->len - i - 1) * size);
    if (c->type == RV_OBJECT)
        c->u.members = (rv_member *)(void *)s;
    else
        c->u.items = (rv_node **)(void *)s;
    c->len--;
    c->cap = c->len;
    c->flags |= RV_NODE_EDITED;
}

static void remove_key(fixture *f, rv_node *obj, const char *key)
{
    rv_member *m = rv_object_find(obj, key, strlen(key));
    assert_non_null(m);
    remove_at(f, obj, (uint32_t)(m - obj->u.members));
}

static void add_member(fixture *f, rv_node *obj, const char *key, rv_node *v)
{
    /* A policy's key lives in the program: not a pointer the text gave. */
    char *k = ru_arena_strndup(&f->a, key, strlen(key));
    assert_true(rv_object_push(&f->a, obj, k, strlen(k), v));
}

static rv_node *appended(fixture *f, const rv_node *old, rv_node *item)
{
    rv_node *nv = rv_new_array(&f->a, old->len + 1);
    for (uint32_t k = 0; k < old->len; k++)
        nv->u.items[k] = old->u.items[k];
    nv->len = old->len;
    assert_true(rv_array_push(&f->a, nv, item));
    return nv;
}

static rv_node *str(fixture *f, const char *s)
{
    return rv_new_string(&f->a, s, strlen(s));
}

/* ---- what is kept ---- */

static void test_untouched_byte_for_byte(void **state)
{
    fixture *f = *state;
    const char *texts[] = {
        "# head\n---\na: 1   # one\n\nb:   [x,  y]\nc: {p: 'q'}\n...\n",
        "\xEF\xBB\xBFkey: value\r\nother: 'x'\r\n",
        "a: &x 1\nb: *x\nc:\n  <<: {d: 1}\n",
        "no-final-newline: true",
    };
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
        assert_string_equal(verbatim(f, yaml(f, texts[i])), texts[i]);
}

static void test_set_keeps_comments(void **state)
{
    fixture *f = *state;
    rv_node *n = yaml(f, "# top\ntype: service\nresources:\n  gpu: 24GB   # at least\n"
                         "  # disk below\n  disk: 100GB\nport: 8000 # the port\n# tail\n");
    rv_node *res = get(n, "resources");
    replace_member(res, 0, str(f, "80GB"));
    replace_member(n, 2, rv_new_int(&f->a, 80));
    assert_string_equal(verbatim(f, n), "# top\ntype: service\nresources:\n  gpu: 80GB   # at least\n"
                                        "  # disk below\n  disk: 100GB\nport: 80 # the port\n# tail\n");
    /* A string that would read as something else is quoted, in place. */
    replace_member(n, 2, str(f, "yes"));
    assert_string_equal(verbatim(f, n), "# top\ntype: service\nresources:\n  gpu: 80GB   # at least\n"
                                        "  # disk below\n  disk: 100GB\nport: 'yes' # the port\n# tail\n");
}

static void test_add_at_indentation(void **state)
{
    fixture *f = *state;
    rv_node *n = yaml(f, "resources:\n    gpu: 24GB  # c\n# between\nname: x\n");
    add_member(f, get(n, "resources"), "disk", str(f, "100GB"));
    add_member(f, n, "max_price", rv_new_float(&f->a, 2.0));
    rv_node *tags = rv_new_object(&f->a, 1);
    add_member(f, tags, "team", str(f, "ml"));
    add_member(f, n, "tags", tags);
    assert_string_equal(verbatim(f, n), "resources:\n    gpu: 24GB  # c\n    disk: 100GB\n# between\n"
                                        "name: x\nmax_price: 2.0\ntags:\n  team: ml\n");
    /* A text without a final line break gets one before a new line. */
    n = yaml(f, "a: 1");
    add_member(f, n, "b", rv_new_int(&f->a, 2));
    assert_string_equal(verbatim(f, n), "a: 1\nb: 2\n");
}

static void test_remove_takes_its_lines(void **state)
{
    fixture *f = *state;
    rv_node *n = yaml(f, "a: 1\n# about b\nb:   # b's own\n  x: 1\n  y: [1,\n     2]  # end of b\n"
                         "# about c\nc: 3\n");
    remove_key(f, n, "b");
    assert_string_equal(verbatim(f, n), "a: 1\n# about b\n# about c\nc: 3\n");
    /* The last member of a nested mapping. */
    n = yaml(f, "r:\n  gpu: 1\n  disk: 2  # gone\n# kept\ns: 1\n");
    remove_key(f, get(n, "r"), "disk");
    assert_string_equal(verbatim(f, n), "r:\n  gpu: 1\n# kept\ns: 1\n");
    /* Every member: the mapping is empty, and written {} in its place. */
    remove_key(f, get(n, "r"), "gpu");
    assert_string_equal(verbatim(f, n), "r:\n  {}\n# kept\ns: 1\n");
}

static void test_lists(void **state)
{
    fixture *f = *state;
    rv_node *n = yaml(f, "commands:\n  # first\n  - pip install x   # deps\n  - |\n    run it\n"
                         "  # after\nenv:\n- A=1\n- B=2\n");
    rv_member *m = rv_object_find(n, "commands", 8);
    m->value = appended(f, m->value, str(f, "echo done"));
    n->flags |= RV_NODE_EDITED;
    remove_at(f, get(n, "env"), 0);
    assert_string_equal(verbatim(f, n), "commands:\n  # first\n  - pip install x   # deps\n  - |\n    run it\n"
                                        "  - echo done\n  # after\nenv:\n- B=2\n");
    /* Mappings in a list: a member set, added, removed. */
    n = yaml(f, "groups:\n- name: a  # A\n  count: 1\n- name: b\n  count: 2\n");
    rv_node *g = get(n, "groups");
    replace_member(g->u.items[0], 1, rv_new_int(&f->a, 5));
    add_member(f, g->u.items[1], "gpu", str(f, "H100"));
    remove_key(f, g->u.items[1], "count");
    assert_string_equal(verbatim(f, n), "groups:\n- name: a  # A\n  count: 5\n- name: b\n  gpu: H100\n");
    /* The first member after "- " cannot go alone: that mapping is
     * printed anew in its place; the rest of the text stays. */
    remove_key(f, g->u.items[0], "name");
    assert_string_equal(verbatim(f, n), "groups:\n- count: 5\n- name: b\n  gpu: H100\n");
}

static void test_flow(void **state)
{
    fixture *f = *state;
    rv_node *n = yaml(f, "tags: {team: ml,   cost: 'a'}  # tags\nports: [8080, \"8081\"]\n");
    add_member(f, get(n, "tags"), "owner", str(f, "me, you"));
    rv_member *m = rv_object_find(n, "ports", 5);
    m->value = appended(f, m->value, str(f, "a\nb"));
    n->flags |= RV_NODE_EDITED;
    assert_string_equal(verbatim(f, n), "tags: {team: ml, cost: 'a', owner: 'me, you'}  # tags\n"
                                        "ports: [8080, \"8081\", \"a\\nb\"]\n");
    remove_key(f, get(n, "tags"), "team");
    assert_string_equal(verbatim(f, n), "tags: {cost: 'a', owner: 'me, you'}  # tags\n"
                                        "ports: [8080, \"8081\", \"a\\nb\"]\n");
}

/* A null replaced by a mapping: "- a: 1" is one line, but cannot follow
 * "tags: " (found by the yaml_spec golden). */
static void test_mapping_over_null(void **state)
{
    fixture *f = *state;
    rv_node *n = yaml(f, "tags: null  # none yet\nname: x\n");
    rv_node *tags = rv_new_object(&f->a, 1);
    add_member(f, tags, "team", str(f, "ml"));
    replace_member(n, 0, tags);
    assert_string_equal(verbatim(f, n), "tags:\n  team: ml\nname: x\n");
    /* An empty one fits: in place. */
    replace_member(n, 0, rv_new_object(&f->a, 0));
    assert_string_equal(verbatim(f, n), "tags: {}  # none yet\nname: x\n");
}

/* What is printed from the values instead. */
static void test_falls_back(void **state)
{
    fixture *f = *state;
    /* Aliases: the whole document, when it changed. */
    rv_node *n = yaml(f, "# c\nbase: &b {x: 1}\nuse: *b\n");
    replace_member(get(n, "base"), 0, rv_new_int(&f->a, 2));
    assert_string_equal(verbatim(f, n), "base:\n  x: 2\nuse:\n  x: 1\n");
    /* A lone CR as a line break. */
    n = yaml(f, "a: 1\rb: 2\r");
    replace_member(n, 0, rv_new_int(&f->a, 3));
    assert_string_equal(verbatim(f, n), "a: 3\nb: 2\n");
    /* CRLF is edited like LF (new lines end in LF). */
    n = yaml(f, "a: 1 # one\r\nb: 2\r\n");
    replace_member(n, 0, rv_new_int(&f->a, 3));
    add_member(f, n, "c", rv_new_int(&f->a, 4));
    assert_string_equal(verbatim(f, n), "a: 3 # one\r\nb: 2\r\nc: 4\n");
    /* Not read from YAML: printed from the values. */
    rv_node *obj = rv_new_object(&f->a, 1);
    add_member(f, obj, "k", str(f, "v"));
    assert_string_equal(verbatim(f, obj), "k: v\n");
    /* A merge key's mapping, changed: printed anew, its text's neighbours
     * kept. */
    n = yaml(f, "# c\nm:\n  <<: {a: 1}\n  b: 2\nz: 1  # z\n");
    add_member(f, get(n, "m"), "c", rv_new_int(&f->a, 3));
    assert_string_equal(verbatim(f, n), "# c\nm:\n  a: 1\n  b: 2\n  c: 3\nz: 1  # z\n");
}

/* ---- the random test ---- */

static uint64_t rng;

static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return n ? (uint32_t)(rng % n) : 0;
}

static bool same_tree(const rv_node *a, const rv_node *b)
{
    if (a->type != b->type || (a->flags & RV_NODE_YAML) != (b->flags & RV_NODE_YAML))
        return false;
    if ((a->flags & RV_NODE_YAML) && (a->srclen != b->srclen || memcmp(a->src, b->src, a->srclen) != 0))
        return false;
    switch (a->type) {
    case RV_NULL:
        return true;
    case RV_BOOL:
        return !a->u.b == !b->u.b;
    case RV_INT:
        return a->u.i == b->u.i;
    case RV_FLOAT:
        return isnan(a->u.f) ? isnan(b->u.f) : a->u.f == b->u.f && signbit(a->u.f) == signbit(b->u.f);
    case RV_STRING:
        return a->len == b->len && memcmp(a->u.s, b->u.s, a->len) == 0;
    case RV_ARRAY:
        if (a->len != b->len)
            return false;
        for (uint32_t i = 0; i < a->len; i++)
            if (!same_tree(a->u.items[i], b->u.items[i]))
                return false;
        return true;
    default:
        if (a->len != b->len)
            return false;
        for (uint32_t i = 0; i < a->len; i++) {
            const rv_member *x = &a->u.members[i], *y = &b->u.members[i];
            if (x->klen != y->klen || memcmp(x->key, y->key, x->klen) != 0 || x->ktyped != y->ktyped ||
                !same_tree(x->value, y->value))
                return false;
        }
        return true;
    }
}

/* The containers of a tree, to pick one to edit. */
static void containers(rv_node *n, rv_node **out, size_t *k, size_t max)
{
    if (n->type != RV_ARRAY && n->type != RV_OBJECT)
        return;
    if (*k < max)
        out[(*k)++] = n;
    for (uint32_t i = 0; i < n->len; i++)
        containers(n->type == RV_ARRAY ? n->u.items[i] : n->u.members[i].value, out, k, max);
}

static rv_node *random_value(fixture *f, int depth)
{
    static const char *const strings[] = {"80GB", "yes", "a: b", "x # y", "two\nlines\n", "", "  pad ",
                                          "-", "[x]", "{y}", "'q'", "caf\xC3\xA9", "null", "0o17", "- a",
                                          "#", "*alias", "&anchor", "|", ">", "%x", "@x", "`x", "a,b"};
    switch (rnd(depth > 1 ? 6 : 8)) {
    case 0:
        return rv_new_int(&f->a, (int64_t)rnd(100000) - 500);
    case 1:
        return rv_new_float(&f->a, rnd(2) ? 2.5 : 1e300);
    case 2:
        return rnd(2) ? rv_new_null(&f->a) : rv_new_bool(&f->a, rnd(2));
    case 6: {
        rv_node *o = rv_new_object(&f->a, 2);
        for (uint32_t i = rnd(3); i > 0; i--) {
            char key[16];
            snprintf(key, sizeof key, "k%u", i);
            add_member(f, o, key, random_value(f, depth + 1));
        }
        return o;
    }
    case 7: {
        rv_node *a = rv_new_array(&f->a, 2);
        for (uint32_t i = rnd(3); i > 0; i--)
            assert_true(rv_array_push(&f->a, a, random_value(f, depth + 1)));
        return a;
    }
    default:
        return str(f, strings[rnd(sizeof strings / sizeof *strings)]);
    }
}

static void random_edit(fixture *f, rv_node *root)
{
    rv_node *cs[4096];
    size_t k = 0;
    containers(root, cs, &k, sizeof cs / sizeof *cs);
    rv_node *c = cs[rnd((uint32_t)k)];
    uint32_t op = rnd(5);
    if (c->len == 0)
        op = 2;
    uint32_t i = rnd(c->len);
    switch (op) {
    case 0:
    case 1:  /* replace a value (a container by a changed copy of itself, at times) */
        if (c->type == RV_OBJECT)
            replace_member(c, i, random_value(f, 0));
        else
            replace_item(c, i, random_value(f, 0));
        break;
    case 2:  /* add */
        if (c->type == RV_OBJECT) {
            char key[32];
            snprintf(key, sizeof key, "new%u", rnd(1000));
            if (!rv_object_find(c, key, strlen(key)))
                add_member(f, c, key, random_value(f, 0));
        } else {
            assert_true(rv_array_push(&f->a, c, random_value(f, 0)));
        }
        break;
    case 3:
        remove_at(f, c, i);
        break;
    default: {  /* a list appended to, as the VM appends: a new list */
        for (uint32_t j = 0; j < c->len; j++) {
            rv_node **slot = c->type == RV_OBJECT ? &c->u.members[j].value : &c->u.items[j];
            if ((*slot)->type == RV_ARRAY) {
                *slot = appended(f, *slot, random_value(f, 1));
                c->flags |= RV_NODE_EDITED;
                break;
            }
        }
    }
    }
}

/* Texts with the layouts the editor handles, and those it gives up on. */
static const char *const shapes[] = {
    "a: 1\nb:\n  - x\n  -   y: 1\n      z: 2\n  - - p\n    - q\nc: {d: [1, {e: f}], g: h}  # c\n",
    "- a: 1\n  b: [x, y]\n- c\n-\n  d: 1\n- # note\n  e: 2\n",
    "k: |\n  text\n\n# comment\nl: >-\n  folded\n  more\nm: 'multi\n  line'\nn: plain\n  continued\n",
    "? complex\n: value\nx: !!str 5\ny: &a\n  z: 1\nw: !!map {v: 1}\n",
    "empty:\nnull_value: ~\nlist: []\nmap: {}\n? explicit\n",
    "a:\n- 1\n- 2\nb:\n-  c: 1\n   d: 2\n",
    "x: [a: 1, {b: 2}, [c]]\ny: {\"q\": 'r', s: [t,\n  u]}\n",
    "tab:\t1\n\"quoted key\": 2\n'single': 3\nunicode_\xC3\xA9: \xE6\x97\xA5\n",
    "{a: 1, b: 2}\n",
    "[1, 2, {a: b}]\n",
    "- 1\n- 2\n",
    "# only comment first\n\n\nroot:\n    deep:\n        deeper: 1   # d\n        more: 2\n    back: 3\n",
    "a: 1\r\nb:\r\n  c: 2\r\n",
};

static void check_random(fixture *f, const char *text, size_t len, const char *name, unsigned rounds)
{
    for (unsigned r = 0; r < rounds; r++) {
        ru_arena_reset(&f->a);
        rv_node *n = yaml_n(f, text, len);
        if (n->type != RV_OBJECT && n->type != RV_ARRAY)
            return;
        unsigned edits = 1 + rnd(4);
        for (unsigned e = 0; e < edits; e++)
            random_edit(f, n);
        const char *out = verbatim(f, n);
        rv_error err;
        rv_node *back = rv_yaml_parse(&f->a, out, f->b.len, 512, &err);
        if (!back)
            fail_msg("%s, round %u: the edited text does not read: %s (line %lu)\n%s", name, r, err.message,
                     err.line, out);
        if (!same_tree(n, back)) {
            ru_buf want;
            ru_buf_init(&want, NULL, NULL);
            rv_yaml_write(&want, n, &err);
            ru_buf_terminate(&want);
            fail_msg("%s, round %u: the edited text reads as another tree:\n%s\n--- decided:\n%s", name, r, out,
                     want.data);
        }
    }
}

static char *read_all(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    *len = 0;
    if (!fp)
        return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    *len = fread(s, 1, (size_t)n, fp);
    s[*len] = '\0';
    fclose(fp);
    return s;
}

static void test_random_edits_read_back(void **state)
{
    fixture *f = *state;
    rng = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
        check_random(f, shapes[i], strlen(shapes[i]), shapes[i], 300);
    const char *dirs[] = {"tests/data/yaml", "tests/data/skypilot/yaml", "tests/data/dstack/yaml"};
    size_t files = 0;
    for (size_t d = 0; d < 3; d++) {
        DIR *dir = opendir(dirs[d]);
        assert_non_null(dir);
        struct dirent *de;
        while ((de = readdir(dir))) {
            size_t nl = strlen(de->d_name);
            if (nl < 5 || (strcmp(de->d_name + nl - 4, ".yml") != 0 && strcmp(de->d_name + nl - 5, ".yaml") != 0))
                continue;
            char path[512];
            snprintf(path, sizeof path, "%s/%s", dirs[d], de->d_name);
            size_t len = 0;
            char *text = read_all(path, &len);
            assert_non_null(text);
            check_random(f, text, len, path, 40);
            free(text);
            files++;
        }
        closedir(dir);
    }
    assert_true(files >= 40);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_untouched_byte_for_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_keeps_comments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_at_indentation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove_takes_its_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mapping_over_null, setup, teardown),
        cmocka_unit_test_setup_teardown(test_falls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_edits_read_back, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
