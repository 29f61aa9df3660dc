/* test_parser.c - the flex/bison front end and diagnostics, pinned.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Trees are compared through a small S-expression printer, so a test reads
 * like the grammar: "(?? a (or b c))". Diagnostic texts are compared whole,
 * exactly as rulec prints them.
 */
#include "parse.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* ---- fixtures ---- */

typedef struct fx {
    ru_arena arena;
    rc_diags diags;
    rc_source src;
} fx;

static int fx_setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    ru_arena_init(&f->arena, NULL, NULL);
    rc_diags_init(&f->diags, &f->arena);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    fx *f = *state;
    ru_arena_free(&f->arena);
    free(f);
    return 0;
}

static rc_file *parse(fx *f, const char *text)
{
    f->src.name = "t.rules";
    f->src.text = text;
    f->src.len = strlen(text);
    return rc_parse_file(&f->src, &f->arena, &f->diags);
}

/* All diagnostics as rulec prints them. */
static char *diags_text(fx *f)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    rc_diags_print(&f->diags, m);
    fclose(m);
    return buf;
}

static void assert_diags(fx *f, const char *expected)
{
    char *got = diags_text(f);
    assert_string_equal(got, expected);
    free(got);
}

static void assert_no_diags(fx *f)
{
    assert_diags(f, "");
    assert_int_equal(f->diags.nerrors, 0);
}

static void assert_loc(rc_loc l, int fl, int fc, int ll, int lc)
{
    assert_int_equal(l.first_line, fl);
    assert_int_equal(l.first_column, fc);
    assert_int_equal(l.last_line, ll);
    assert_int_equal(l.last_column, lc);
}

/* ---- S-expression printer ---- */

typedef struct sbuf {
    char s[4096];
    size_t n;
} sbuf;

static void put(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(b->s + b->n, sizeof b->s - b->n, fmt, ap);
    va_end(ap);
    if (k > 0)
        b->n += (size_t)k;
    if (b->n >= sizeof b->s)
        b->n = sizeof b->s - 1;
}

static const char *op_name(rc_op op)
{
    static const char *names[] = { "??", "or", "and", "not", "==", "!=", "<", "<=", ">", ">=",
                                   "in", "+", "-", "*", "/", "%", "neg" };
    return names[op];
}

static void dump_path(sbuf *b, const rc_expr *e)
{
    size_t i = 0;
    if (e->u.path.dollar) {
        put(b, "$%s", e->u.path.dollar);
    } else {
        put(b, "%s", e->u.path.segs[0].key);
        i = 1;
    }
    for (; i < e->u.path.nseg; i++) {
        const rc_seg *g = &e->u.path.segs[i];
        if (g->is_index)
            put(b, "[%lld]", (long long)g->index);
        else if (i > 0 || e->u.path.dollar)
            put(b, g->loc.first_column > 0 && g->key && strchr(g->key, ' ') ? "[\"%s\"]" : ".%s",
                g->key);
    }
}

static void dump(sbuf *b, const rc_expr *e)
{
    switch (e->kind) {
    case RC_E_NULL: put(b, "null"); break;
    case RC_E_BOOL: put(b, e->u.b ? "true" : "false"); break;
    case RC_E_INT: put(b, "%lld", (long long)e->u.i); break;
    case RC_E_FLOAT: put(b, "%gf", e->u.f); break;
    case RC_E_STRING: put(b, "\"%s\"", e->u.str.value); break;
    case RC_E_LIST:
        put(b, "[");
        for (size_t i = 0; i < e->u.list.n; i++) {
            put(b, i ? " " : "");
            dump(b, e->u.list.items[i]);
        }
        put(b, "]");
        break;
    case RC_E_MAP:
        put(b, "{");
        for (size_t i = 0; i < e->u.map.n; i++) {
            put(b, "%s%s:", i ? " " : "", e->u.map.entries[i].key);
            dump(b, e->u.map.entries[i].value);
        }
        put(b, "}");
        break;
    case RC_E_PATH: dump_path(b, e); break;
    case RC_E_UNARY:
        put(b, "(%s ", op_name(e->u.op.op));
        dump(b, e->u.op.lhs);
        put(b, ")");
        break;
    case RC_E_BINARY:
        put(b, "(%s ", op_name(e->u.op.op));
        dump(b, e->u.op.lhs);
        put(b, " ");
        dump(b, e->u.op.rhs);
        put(b, ")");
        break;
    case RC_E_MATCH:
        put(b, "(%s ", e->u.match.negated ? "!~" : "=~");
        dump(b, e->u.match.lhs);
        put(b, " /%.*s/%s%s%s%s)", (int)e->u.match.plen, e->u.match.pattern,
            e->u.match.flags & 1 ? "i" : "", e->u.match.flags & 2 ? "m" : "",
            e->u.match.flags & 4 ? "s" : "", e->u.match.flags & 8 ? "x" : "");
        break;
    case RC_E_CALL:
        put(b, "(%s", e->u.call.name);
        for (size_t i = 0; i < e->u.call.nargs; i++) {
            put(b, " ");
            dump(b, e->u.call.args[i]);
        }
        put(b, ")");
        break;
    case RC_E_QUANT:
        put(b, "(%s %s ", e->u.quant.q == RC_Q_ALL ? "all" : e->u.quant.q == RC_Q_SUM ? "sum" : "any",
            e->u.quant.var);
        dump(b, e->u.quant.over);
        put(b, " ");
        dump(b, e->u.quant.cond);
        put(b, ")");
        break;
    }
}

static const char *show(const rc_expr *e)
{
    static sbuf b;
    b.n = 0;
    b.s[0] = '\0';
    dump(&b, e);
    return b.s;
}

/* Parses `on run { set x = EXPR; }` and returns EXPR. */
static const rc_expr *value_of(fx *f, const char *text)
{
    static char buf[1024];
    snprintf(buf, sizeof buf, "on run { set x = %s; }", text);
    rc_file *file = parse(f, buf);
    assert_non_null(file);
    assert_no_diags(f);
    assert_non_null(file->ons);
    assert_non_null(file->ons->body);
    assert_int_equal(file->ons->body->kind, RC_S_SET);
    return file->ons->body->value;
}

static rc_stmt *body_of(fx *f, const char *text)
{
    rc_file *file = parse(f, text);
    assert_non_null(file);
    assert_no_diags(f);
    assert_non_null(file->ons);
    return file->ons->body;
}

/* ---- the example of language.md ---- */

static const char example[] =
    "# rules/limits.rules\n"
    "policy \"limits\" priority 10;        # optional header\n"
    "\n"
    "param max_price = 2.0;              # parameters\n"
    "param team      = \"ml\";\n"
    "\n"
    "on run {                            # statements for specs of kind \"run\"\n"
    "    set configuration.max_price = min(configuration.max_price ?? $max_price, $max_price);\n"
    "    default configuration.max_duration = 1d;\n"
    "    append-tags { team: $team, project: $project };\n"
    "    forbid-if configuration.privileged: \"running privileged containers is forbidden\";\n"
    "    match configuration.type == \"service\" {\n"
    "        set configuration.https = true;\n"
    "    }\n"
    "    match $user =~ /^intern-/ and configuration.resources.gpu.count.min > 1 {\n"
    "        forbid \"interns may request at most one GPU (asked for "
    "{configuration.resources.gpu.count.min})\";\n"
    "    }\n"
    "}\n"
    "\n"
    "on gateway {\n"
    "    forbid \"gateways are created by the platform team\";\n"
    "}\n";

static void test_example_policy(void **state)
{
    fx *f = *state;
    rc_file *file = parse(f, example);
    assert_non_null(file);
    assert_no_diags(f);
    assert_ptr_equal(file->src, &f->src);

    rc_header *h = file->headers;
    assert_non_null(h);
    assert_null(h->next);
    assert_string_equal(h->name.value, "limits");
    assert_true(h->has_priority);
    assert_int_equal(h->priority, 10);
    assert_loc(h->loc, 2, 1, 2, 29);
    assert_loc(h->name.loc, 2, 8, 2, 16);
    assert_loc(h->priority_loc, 2, 26, 2, 28);

    rc_param_decl *p = file->params;
    assert_string_equal(p->name, "max_price");
    assert_int_equal(p->value->kind, RC_E_FLOAT);
    assert_true(p->value->u.f == 2.0);
    assert_loc(p->name_loc, 4, 7, 4, 16);
    p = p->next;
    assert_string_equal(p->name, "team");
    assert_string_equal(p->value->u.str.value, "ml");
    assert_null(p->next);

    rc_on *on = file->ons;
    assert_int_equal(on->nkinds, 1);
    assert_string_equal(on->kinds[0].name, "run");
    assert_loc(on->kinds[0].loc, 7, 4, 7, 7);
    assert_loc(on->loc, 7, 1, 18, 2);

    rc_stmt *s = on->body;
    assert_int_equal(s->kind, RC_S_SET);
    assert_loc(s->loc, 8, 5, 8, 90);
    assert_string_equal(show(s->path), "configuration.max_price");
    assert_string_equal(show(s->value),
                        "(min (?? configuration.max_price $max_price) $max_price)");
    assert_loc(s->value->u.call.name_loc, 8, 35, 8, 38);
    assert_loc(s->value->u.call.args[1]->loc, 8, 78, 8, 88);

    s = s->next;
    assert_int_equal(s->kind, RC_S_DEFAULT);
    assert_string_equal(show(s->value), "86400");

    s = s->next;
    assert_int_equal(s->kind, RC_S_TAGS);
    assert_null(s->path);
    assert_int_equal(s->ntags, 2);
    assert_string_equal(s->tags[0].key, "team");
    assert_string_equal(show(s->tags[0].value), "$team");
    assert_string_equal(s->tags[1].key, "project");
    assert_loc(s->tags[1].key_loc, 10, 32, 10, 39);

    s = s->next;
    assert_int_equal(s->kind, RC_S_FORBID);
    assert_string_equal(show(s->cond), "configuration.privileged");
    assert_string_equal(s->message.value, "running privileged containers is forbidden");

    s = s->next;
    assert_int_equal(s->kind, RC_S_MATCH);
    assert_string_equal(show(s->cond), "(== configuration.type \"service\")");
    assert_int_equal(s->body->kind, RC_S_SET);
    assert_false(s->has_else);
    assert_null(s->else_body);

    s = s->next;
    assert_int_equal(s->kind, RC_S_MATCH);
    assert_string_equal(show(s->cond),
                        "(and (=~ $user /^intern-/) (> configuration.resources.gpu.count.min 1))");
    assert_loc(s->cond->u.op.lhs->u.match.regex_loc, 15, 20, 15, 30);
    assert_int_equal(s->body->kind, RC_S_FORBID);
    assert_null(s->body->cond);
    assert_string_equal(s->body->message.raw,
                        "interns may request at most one GPU (asked for "
                        "{configuration.resources.gpu.count.min})");
    assert_loc(s->body->message.loc, 16, 16, 16, 105);
    assert_null(s->next);

    on = on->next;
    assert_string_equal(on->kinds[0].name, "gateway");
    assert_int_equal(on->body->kind, RC_S_FORBID);
    assert_null(on->next);
}

/* ---- statements ---- */

static void test_write_statements(void **state)
{
    fx *f = *state;
    rc_stmt *s = body_of(f, "on run, fleet {\n"
                            "  set configuration.volumes[0].name = 1;\n"
                            "  default configuration.env[\"HF_TOKEN\"] = \"x\";\n"
                            "  unset a.default.match[-1];\n"
                            "  append configuration.tags \"t\";\n"
                            "  append a[2] 5;\n"
                            "  append a ([1, 2,]);\n"
                            "  set $user = 1;\n"
                            "}\n");
    rc_file *file = parse(f, f->src.text);
    assert_int_equal(file->ons->nkinds, 2);
    assert_string_equal(file->ons->kinds[1].name, "fleet");
    assert_loc(file->ons->kinds[1].loc, 1, 9, 1, 14);

    assert_int_equal(s->kind, RC_S_SET);
    const rc_expr *p = s->path;
    assert_int_equal(p->kind, RC_E_PATH);
    assert_null(p->u.path.dollar);
    assert_int_equal(p->u.path.nseg, 4);
    assert_string_equal(p->u.path.segs[0].key, "configuration");
    assert_string_equal(p->u.path.segs[1].key, "volumes");
    assert_true(p->u.path.segs[2].is_index);
    assert_int_equal(p->u.path.segs[2].index, 0);
    assert_string_equal(p->u.path.segs[3].key, "name");
    assert_int_equal(p->u.path.segs[3].klen, 4);
    assert_loc(p->u.path.segs[0].loc, 2, 7, 2, 20);
    assert_loc(p->u.path.segs[2].loc, 2, 28, 2, 31);
    assert_loc(p->u.path.segs[3].loc, 2, 32, 2, 36);
    assert_loc(p->loc, 2, 7, 2, 36);
    assert_loc(s->loc, 2, 3, 2, 41);

    s = s->next;
    assert_int_equal(s->kind, RC_S_DEFAULT);
    assert_int_equal(s->path->u.path.nseg, 3);
    assert_false(s->path->u.path.segs[2].is_index);
    assert_string_equal(s->path->u.path.segs[2].key, "HF_TOKEN");
    assert_string_equal(s->value->u.str.value, "x");

    s = s->next;
    assert_int_equal(s->kind, RC_S_UNSET);
    assert_null(s->value);
    assert_int_equal(s->path->u.path.nseg, 4);
    assert_string_equal(s->path->u.path.segs[1].key, "default");
    assert_string_equal(s->path->u.path.segs[2].key, "match");
    assert_int_equal(s->path->u.path.segs[3].index, -1);

    s = s->next;
    assert_int_equal(s->kind, RC_S_APPEND);
    assert_string_equal(show(s->path), "configuration.tags");
    assert_string_equal(show(s->value), "\"t\"");

    /* `[2]` right after the path is an index segment, not a list value. */
    s = s->next;
    assert_int_equal(s->kind, RC_S_APPEND);
    assert_string_equal(show(s->path), "a[2]");
    assert_string_equal(show(s->value), "5");

    s = s->next;
    assert_string_equal(show(s->path), "a");
    assert_string_equal(show(s->value), "[1 2]");

    /* `$` targets parse; the checker rejects them. */
    s = s->next;
    assert_int_equal(s->kind, RC_S_SET);
    assert_string_equal(s->path->u.path.dollar, "user");
    assert_int_equal(s->path->u.path.nseg, 0);
    assert_loc(s->path->u.path.dollar_loc, 8, 7, 8, 12);
    assert_null(s->next);
}

static void test_tags_and_messages(void **state)
{
    fx *f = *state;
    rc_stmt *s = body_of(f, "on * {\n"
                            "  append-tags { a: 1, else: \"x\", \"odd-key\": $team, };\n"
                            "  append-tags configuration.labels { };\n"
                            "  forbid-if a > 1: \"too big\";\n"
                            "  forbid \"no\";\n"
                            "  warn-if b: \"hm {b}\";\n"
                            "  warn \"careful\";\n"
                            "}\n");
    rc_file *file = parse(f, f->src.text);
    assert_int_equal(file->ons->nkinds, 1);
    assert_string_equal(file->ons->kinds[0].name, "*");

    assert_int_equal(s->kind, RC_S_TAGS);
    assert_null(s->path);
    assert_int_equal(s->ntags, 3);
    assert_string_equal(s->tags[0].key, "a");
    assert_string_equal(s->tags[1].key, "else");
    assert_string_equal(s->tags[2].key, "odd-key");
    assert_int_equal(s->tags[2].klen, 7);
    assert_loc(s->tags[2].key_loc, 2, 34, 2, 43);
    assert_string_equal(show(s->tags[2].value), "$team");

    s = s->next;
    assert_int_equal(s->kind, RC_S_TAGS);
    assert_string_equal(show(s->path), "configuration.labels");
    assert_int_equal(s->ntags, 0);

    s = s->next;
    assert_int_equal(s->kind, RC_S_FORBID);
    assert_string_equal(show(s->cond), "(> a 1)");
    assert_string_equal(s->message.value, "too big");
    assert_loc(s->message.loc, 4, 20, 4, 29);

    s = s->next;
    assert_int_equal(s->kind, RC_S_FORBID);
    assert_null(s->cond);
    assert_string_equal(s->message.value, "no");

    s = s->next;
    assert_int_equal(s->kind, RC_S_WARN);
    assert_string_equal(show(s->cond), "b");
    assert_string_equal(s->message.raw, "hm {b}");

    s = s->next;
    assert_int_equal(s->kind, RC_S_WARN);
    assert_null(s->cond);
    assert_null(s->next);
}

static void test_match_else_chain(void **state)
{
    fx *f = *state;
    rc_stmt *s = body_of(f, "on run {\n"
                            "  match a { set x = 1; set y = 2; }\n"
                            "  else match b { }\n"
                            "  else { unset z; }\n"
                            "  match c { } else { }\n"
                            "}\n");
    assert_int_equal(s->kind, RC_S_MATCH);
    assert_string_equal(show(s->cond), "a");
    assert_int_equal(s->body->kind, RC_S_SET);
    assert_int_equal(s->body->next->kind, RC_S_SET);
    assert_true(s->has_else);
    assert_loc(s->else_loc, 3, 3, 3, 7);
    rc_stmt *e = s->else_body;
    assert_int_equal(e->kind, RC_S_MATCH);
    assert_null(e->next);
    assert_string_equal(show(e->cond), "b");
    assert_null(e->body);
    assert_true(e->has_else);
    assert_int_equal(e->else_body->kind, RC_S_UNSET);
    assert_loc(s->loc, 2, 3, 4, 20);

    s = s->next;
    assert_int_equal(s->kind, RC_S_MATCH);
    assert_true(s->has_else);
    assert_null(s->else_body);
    assert_null(s->next);
}

static void test_header_negative_priority(void **state)
{
    fx *f = *state;
    rc_file *file = parse(f, "policy \"p\" priority -5;\npolicy \"q\";\n");
    assert_no_diags(f);
    assert_int_equal(file->headers->priority, -5);
    assert_loc(file->headers->priority_loc, 1, 21, 1, 23);
    assert_false(file->headers->next->has_priority);
    assert_string_equal(file->headers->next->name.value, "q");
    assert_null(file->ons);
}

/* ---- literals ---- */

static void test_literals(void **state)
{
    fx *f = *state;
    assert_string_equal(show(value_of(f, "[null, true, false, 0, 42, 3.25, \"s\",]")),
                        "[null true false 0 42 3.25f \"s\"]");
    assert_string_equal(show(value_of(f, "{a: 1, \"odd-key\": [], in: {}, }")),
                        "{a:1 odd-key:[] in:{}}");
    assert_string_equal(show(value_of(f, "[]")), "[]");

    const rc_expr *e = value_of(f, "[90s, 30m, 12h, 1d, 2w, 1.5h, 0.5m]");
    int64_t want[] = { 90, 1800, 43200, 86400, 1209600, 5400, 30 };
    for (size_t i = 0; i < 7; i++) {
        assert_int_equal(e->u.list.items[i]->kind, RC_E_INT);
        assert_int_equal(e->u.list.items[i]->u.i, want[i]);
    }
    e = value_of(f, "[512MB, 24GB, 1TB, 1.5GB]");
    double gb[] = { 0.5, 24.0, 1024.0, 1.5 };
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(e->u.list.items[i]->kind, RC_E_FLOAT);
        assert_true(e->u.list.items[i]->u.f == gb[i]);
    }
    e = value_of(f, "9223372036854775807");
    assert_int_equal(e->u.i, INT64_MAX);
}

/* Exponents are floats; a unit suffix is still a unit, and a suffix that
 * is neither keeps its own error. */
static void test_exponent_literals(void **state)
{
    fx *f = *state;
    const rc_expr *e = value_of(f, "[1e3, 1.5e-2, 2E+6, 1E0, 25e-1]");
    double want[] = { 1000.0, 0.015, 2000000.0, 1.0, 2.5 };
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(e->u.list.items[i]->kind, RC_E_FLOAT);
        assert_true(e->u.list.items[i]->u.f == want[i]);
    }
    e = value_of(f, "[1d, 24GB, 512MB, 90s, 2w, 1.5e1]");
    assert_int_equal(e->u.list.items[0]->kind, RC_E_INT);
    assert_int_equal(e->u.list.items[0]->u.i, 86400);
    assert_true(e->u.list.items[1]->u.f == 24.0);
    assert_true(e->u.list.items[2]->u.f == 0.5);
    assert_int_equal(e->u.list.items[3]->u.i, 90);
    assert_int_equal(e->u.list.items[4]->u.i, 1209600);
    assert_true(e->u.list.items[5]->u.f == 15.0);
    assert_no_diags(f);

    parse(f, "on run {\n  set a = 1e + 2ex + 1e3x + 1e999;\n}\n");
    assert_diags(f,
        "t.rules:2:12: error: unknown unit suffix 'e' (expected s, m, h, d, w, MB, GB or TB)\n"
        "  set a = 1e + 2ex + 1e3x + 1e999;\n"
        "           ^\n"
        "t.rules:2:17: error: unknown unit suffix 'ex' (expected s, m, h, d, w, MB, GB or TB)\n"
        "  set a = 1e + 2ex + 1e3x + 1e999;\n"
        "                ^~\n"
        "t.rules:2:23: error: unknown unit suffix 'e3x' (expected s, m, h, d, w, MB, GB or TB)\n"
        "  set a = 1e + 2ex + 1e3x + 1e999;\n"
        "                      ^~~\n"
        "t.rules:2:29: error: number out of range\n"
        "  set a = 1e + 2ex + 1e3x + 1e999;\n"
        "                            ^~~~~\n");
}

static void test_string_escapes(void **state)
{
    fx *f = *state;
    const rc_expr *e = value_of(f, "\"q\\\" b\\\\ n\\n t\\t r\\r s\\/ {\\{\\}} \\u00e9 \\u20ac "
                                   "\\ud83d\\ude00\"");
    assert_int_equal(e->kind, RC_E_STRING);
    const char want[] = "q\" b\\ n\n t\t r\r s/ {{}} \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
    assert_int_equal(e->u.str.len, sizeof want - 1);
    assert_memory_equal(e->u.str.value, want, sizeof want);
    assert_string_equal(e->u.str.raw, "q\\\" b\\\\ n\\n t\\t r\\r s\\/ {\\{\\}} \\u00e9 \\u20ac "
                                      "\\ud83d\\ude00");
    assert_int_equal(e->u.str.raw_len, strlen(e->u.str.raw));
    assert_loc(e->u.str.loc, 1, 18, 1, 77);
    assert_loc(e->loc, 1, 18, 1, 77);
}

/* ---- expressions ---- */

static void test_precedence(void **state)
{
    fx *f = *state;
    assert_string_equal(show(value_of(f, "a ?? b or c and not d == e + f * -g")),
                        "(?? a (or b (and c (not (== d (+ e (* f (neg g))))))))");
    assert_string_equal(show(value_of(f, "-g * f + e == d and not c or b ?? a")),
                        "(?? (or (and (== (+ (* (neg g) f) e) d) (not c)) b) a)");
    assert_string_equal(show(value_of(f, "a - b - c / d % e")), "(- (- a b) (% (/ c d) e))");
    assert_string_equal(show(value_of(f, "a ?? b ?? c")), "(?? (?? a b) c)");
    assert_string_equal(show(value_of(f, "not not a")), "(not (not a))");
    assert_string_equal(show(value_of(f, "(a + b) * c")), "(* (+ a b) c)");
}

static void test_comparisons(void **state)
{
    fx *f = *state;
    assert_string_equal(show(value_of(f, "[a != b, a < b, a <= b, a > b, a >= b, a in b]")),
                        "[(!= a b) (< a b) (<= a b) (> a b) (>= a b) (in a b)]");
    assert_string_equal(show(value_of(f, "len(x) + 1 in [1, 2] and exists(y)")),
                        "(and (in (+ (len x) 1) [1 2]) (exists y))");
    assert_string_equal(show(value_of(f, "f()")), "(f)");
    assert_string_equal(show(value_of(f, "$user.name.default[0][\"a key\"]")),
                        "$user.name.default[0][\"a key\"]");
}

static void test_quantifiers(void **state)
{
    fx *f = *state;
    rc_stmt *s = body_of(
        f, "on run { forbid-if any v in configuration.volumes: v.name =~ /^scratch-/ : \"msg\"; }");
    assert_int_equal(s->kind, RC_S_FORBID);
    const rc_expr *q = s->cond;
    assert_int_equal(q->kind, RC_E_QUANT);
    assert_int_equal(q->u.quant.q, RC_Q_ANY);
    assert_string_equal(q->u.quant.var, "v");
    assert_loc(q->u.quant.var_loc, 1, 24, 1, 25);
    assert_string_equal(show(q), "(any v configuration.volumes (=~ v.name /^scratch-/))");
    assert_string_equal(s->message.value, "msg");

    assert_string_equal(show(value_of(f, "all x in a + b: x > 1 and x < 5 ?? c")),
                        "(all x (+ a b) (?? (and (> x 1) (< x 5)) c))");
    assert_string_equal(show(value_of(f, "not (any v in xs: v) and (all w in ys: any u in w: u)")),
                        "(and (not (any v xs v)) (all w ys (any u w u)))");
    assert_string_equal(show(value_of(f, "[any v in xs: v, 1]")), "[(any v xs v) 1]");
    /* sum has the quantifiers' shape: its term extends as far right as it can */
    assert_string_equal(show(value_of(f, "sum g in xs: g.n * 2 + 1")),
                        "(sum g xs (+ (* g.n 2) 1))");
    assert_string_equal(show(value_of(f, "(sum g in xs: g.n) > 4")), "(> (sum g xs g.n) 4)");
    /* and "sum" stays a field name after a dot or in a map literal */
    assert_string_equal(show(value_of(f, "a.sum + {sum: 1}")), "(+ a.sum {sum:1})");
}

static void test_regex_flags_and_division(void **state)
{
    fx *f = *state;
    const rc_expr *e = value_of(f, "name !~ /x y/i");
    assert_int_equal(e->kind, RC_E_MATCH);
    assert_true(e->u.match.negated);
    assert_string_equal(e->u.match.pattern, "x y");
    assert_int_equal(e->u.match.flags, 1u);
    assert_loc(e->u.match.regex_loc, 1, 26, 1, 32);
    assert_loc(e->loc, 1, 18, 1, 32);

    e = value_of(f, "s =~ /a\\/b/smx");
    assert_string_equal(e->u.match.pattern, "a\\/b");
    assert_int_equal(e->u.match.plen, 4);
    assert_int_equal(e->u.match.flags, 2u | 4u | 8u);

    e = value_of(f, "s =~ # the pattern:\n  //");
    assert_int_equal(e->u.match.plen, 0);
    assert_int_equal(e->u.match.flags, 0u);

    /* After anything but =~ and !~, a slash divides. */
    assert_string_equal(show(value_of(f, "a / b / 2 == c")), "(== (/ (/ a b) 2) c)");
    assert_string_equal(show(value_of(f, "(x =~ /a/) == (y / 2 > 1)")),
                        "(== (=~ x /a/) (> (/ y 2) 1))");
}

/* ---- errors ---- */

static void test_missing_semicolon(void **state)
{
    fx *f = *state;
    rc_file *file = parse(f, "on run {\n    set a = 1\n}\n");
    assert_non_null(file);
    assert_int_equal(f->diags.nerrors, 1);
    /* Reported where the ';' belongs, not at the next line's '}'. */
    assert_diags(f, "t.rules:2:14: error: syntax error: expected ';' (found '}' on line 3)\n"
                    "    set a = 1\n"
                    "             ^\n");
}

static void test_two_syntax_errors(void **state)
{
    fx *f = *state;
    rc_file *file = parse(f, "on run {\n"
                             "    set a b = 1;\n"
                             "    set c = 2;\n"
                             "    forbid 3;\n"
                             "}\n"
                             "on fleet { warn \"ok\"; }\n");
    assert_non_null(file);
    assert_int_equal(f->diags.nerrors, 2);
    assert_diags(f, "t.rules:2:11: error: syntax error: unexpected identifier 'b', expected '='\n"
                    "    set a b = 1;\n"
                    "          ^\n"
                    "t.rules:4:12: error: syntax error: unexpected number '3', expected string\n"
                    "    forbid 3;\n"
                    "           ^\n");
    /* Recovery kept the good statements and the next block. */
    assert_int_equal(file->ons->body->kind, RC_S_SET);
    assert_string_equal(show(file->ons->body->path), "c");
    assert_null(file->ons->body->next);
    assert_int_equal(file->ons->next->body->kind, RC_S_WARN);
}

static void test_syntax_error_wordings(void **state)
{
    fx *f = *state;
    parse(f, "on run { foo = 1; }\n"
             "on run { set a = ; }\n"
             "policy \"x\" priority;\n"
             "on run { set a = x =~ \"s\"; }\n"
             "on run { set a = {k 1}; }\n"
             "on run { match a {} else set x = 1; }\n"
             "on run { set a = not any v in x: v; }\n"
             "on run { set a = 1 == 2 == 3; }\n"
             "param = 1;\n"
             "on run set a = 1;\n"
             "on run {");
    assert_diags(f,
        "t.rules:1:10: error: syntax error: unexpected identifier 'foo', expected statement or '}'\n"
        "on run { foo = 1; }\n"
        "         ^~~\n"
        "t.rules:2:18: error: syntax error: unexpected ';', expected expression\n"
        "on run { set a = ; }\n"
        "                 ^\n"
        "t.rules:3:20: error: syntax error: unexpected ';', expected integer\n"
        "policy \"x\" priority;\n"
        "                   ^\n"
        "t.rules:4:23: error: syntax error: unexpected string, expected regex literal\n"
        "on run { set a = x =~ \"s\"; }\n"
        "                      ^~~\n"
        "t.rules:5:21: error: syntax error: unexpected number '1', expected ':'\n"
        "on run { set a = {k 1}; }\n"
        "                    ^\n"
        "t.rules:6:26: error: syntax error: unexpected keyword 'set', expected keyword 'match' or '{'\n"
        "on run { match a {} else set x = 1; }\n"
        "                         ^~~\n"
        "t.rules:7:22: error: syntax error: unexpected keyword 'any', expected expression (a "
        "quantifier here needs parentheses)\n"
        "on run { set a = not any v in x: v; }\n"
        "                     ^~~\n"
        "t.rules:8:25: error: comparisons do not chain: write 'a == b and b == c'\n"
        "on run { set a = 1 == 2 == 3; }\n"
        "                        ^~\n"
        "t.rules:9:7: error: syntax error: unexpected '=', expected identifier\n"
        "param = 1;\n"
        "      ^\n"
        "t.rules:10:8: error: syntax error: unexpected keyword 'set', expected ',' or '{'\n"
        "on run set a = 1;\n"
        "       ^~~\n"
        "t.rules:11:9: error: syntax error: unexpected end of file, expected statement or '}'\n"
        "on run {\n"
        "        ^\n"
        "t.rules:11:8: note: unclosed '{' opened here\n"
        "on run {\n"
        "       ^\n");
    assert_int_equal(f->diags.nerrors, 11);
}

/* End of file is reported just after the last token. */
static void test_unexpected_end_of_file(void **state)
{
    fx *f = *state;
    parse(f, "on run {\n  set a = 1; # done\n\n");
    assert_diags(f, "t.rules:2:13: error: syntax error: unexpected end of file, expected "
                    "statement or '}'\n"
                    "  set a = 1; # done\n"
                    "            ^\n"
                    "t.rules:1:8: note: unclosed '{' opened here\n"
                    "on run {\n"
                    "       ^\n");
}

static void test_lexical_errors(void **state)
{
    fx *f = *state;
    rc_file *file = parse(f, "on run {\n"
                             "  set a = \"x\\q\" + 5x + @;\n"
                             "  set b = \"\\u12\" + 99999999999999999999 + 1.1s;\n"
                             "  set c = x =~ /a/gi;\n"
                             "  set d = \"open;\n"
                             "  set e = \xc3\xa9;\n"
                             "}\n");
    assert_non_null(file);
    assert_diags(f,
        "t.rules:2:13: error: invalid escape '\\q' in string\n"
        "  set a = \"x\\q\" + 5x + @;\n"
        "            ^~\n"
        "t.rules:2:20: error: unknown unit suffix 'x' (expected s, m, h, d, w, MB, GB or TB)\n"
        "  set a = \"x\\q\" + 5x + @;\n"
        "                   ^\n"
        "t.rules:2:24: error: unexpected character '@'\n"
        "  set a = \"x\\q\" + 5x + @;\n"
        "                       ^\n"
        "t.rules:3:12: error: invalid \\u escape: expected 4 hex digits\n"
        "  set b = \"\\u12\" + 99999999999999999999 + 1.1s;\n"
        "           ^~~~\n"
        "t.rules:3:20: error: integer literal out of range\n"
        "  set b = \"\\u12\" + 99999999999999999999 + 1.1s;\n"
        "                   ^~~~~~~~~~~~~~~~~~~~\n"
        "t.rules:3:43: error: duration '1.1s' is not a whole number of seconds\n"
        "  set b = \"\\u12\" + 99999999999999999999 + 1.1s;\n"
        "                                          ^~~~\n"
        "t.rules:4:19: error: unknown regex flag 'g' (expected i, m, s or x)\n"
        "  set c = x =~ /a/gi;\n"
        "                  ^\n"
        "t.rules:5:11: error: unterminated string\n"
        "  set d = \"open;\n"
        "          ^~~~~~\n"
        "t.rules:6:11: error: unexpected character '\xc3\xa9'\n"
        "  set e = \xc3\xa9;\n"
        "          ^\n");
    assert_int_equal(f->diags.nerrors, 9);
}

static void test_lexical_error_edges(void **state)
{
    fx *f = *state;
    parse(f, "on run { set a = \"\\ud800x\" + \"tab\\\x01\" + x =~ /unterminated\n}\n"
             "on run { set a = 1 $ 2; }");
    assert_diags(f,
        "t.rules:1:19: error: invalid \\u escape: unpaired surrogate\n"
        "on run { set a = \"\\ud800x\" + \"tab\\\x01\" + x =~ /unterminated\n"
        "                  ^~~~~~\n"
        "t.rules:1:34: error: invalid escape '\\x01' in string\n"
        "on run { set a = \"\\ud800x\" + \"tab\\\x01\" + x =~ /unterminated\n"
        "                                 ^~\n"
        "t.rules:1:45: error: unterminated regex literal\n"
        "on run { set a = \"\\ud800x\" + \"tab\\\x01\" + x =~ /unterminated\n"
        "                                            ^~~~~~~~~~~~~\n"
        "t.rules:3:20: error: unexpected character '$'\n"
        "on run { set a = 1 $ 2; }\n"
        "                   ^\n");
}

/* ---- the expression entry point ---- */

static void test_parse_expr_offset(void **state)
{
    fx *f = *state;
    /* A template `{...}` at line 2: its expression starts at column 18. */
    const char *text = "on run {\n  warn \"size is {a.b + 1}\";\n}\n";
    f->src.name = "t.rules";
    f->src.text = text;
    f->src.len = strlen(text);
    const char *inner = strstr(text, "a.b");
    rc_expr *e = rc_parse_expr(&f->src, inner, 7, 2, 18, &f->arena, &f->diags);
    assert_non_null(e);
    assert_no_diags(f);
    assert_string_equal(show(e), "(+ a.b 1)");
    assert_loc(e->loc, 2, 18, 2, 25);
    assert_loc(e->u.op.lhs->u.path.segs[1].loc, 2, 20, 2, 21);

    /* Errors point into the file too; the result is NULL. */
    assert_null(rc_parse_expr(&f->src, "a +", 3, 2, 18, &f->arena, &f->diags));
    assert_null(rc_parse_expr(&f->src, "a b", 3, 2, 18, &f->arena, &f->diags));
    assert_diags(f,
        "t.rules:2:20: error: syntax error: unexpected identifier 'b', expected '}'\n"
        "  warn \"size is {a.b + 1}\";\n"
        "                   ^\n"
        "t.rules:2:21: error: syntax error: unexpected '}', expected expression\n"
        "  warn \"size is {a.b + 1}\";\n"
        "                    ^\n");

    /* Statements are not expressions. */
    f->diags.head = f->diags.tail = NULL;
    assert_null(rc_parse_expr(&f->src, "set", 3, 1, 1, &f->arena, &f->diags));
}

/* ---- printing ---- */

static char *print_one(const rc_diag_rec *d)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    rc_diag_print(d, m);
    fclose(m);
    return buf;
}

static void test_diag_print(void **state)
{
    fx *f = *state;
    rc_source src = { "dir/p.rules", "line one\n\tx\t= \"\xc3\xa9t\xc3\xa9\" + y;\r\nlast", 0, false, 0 };
    src.len = strlen(src.text);
    rc_diags *d = &f->diags;

    rc_diag(d, RC_ERROR, &src, (rc_loc){ 2, 14, 2, 17 }, "bad %s", "plus");
    rc_diag(d, RC_WARNING, &src, (rc_loc){ 2, 6, 2, 13 }, "a string of %d characters", 3);
    rc_diag(d, RC_NOTE, &src, (rc_loc){ 1, 6, 3, 2 }, "spans lines");
    rc_diag(d, RC_ERROR, NULL, (rc_loc){ 0, 0, 0, 0 }, "cannot read '%s'", "x.rules");
    rc_diag(d, RC_ERROR, &src, (rc_loc){ 3, 5, 3, 5 }, "at the end");
    rc_diag(d, RC_ERROR, &src, (rc_loc){ 9, 1, 9, 2 }, "past the end");
    assert_int_equal(d->nerrors, 4);
    assert_int_equal(d->nwarnings, 1);

    char *one = print_one(d->head);
    assert_string_equal(one, "dir/p.rules:2:14: error: bad plus\n"
                             "\tx\t= \"\xc3\xa9t\xc3\xa9\" + y;\n"
                             "\t \t        ^~~\n");
    free(one);

    /* Printed sorted: records tied to no file first, then by position;
     * a note stays with the record before it. */
    assert_diags(f, "rulec: error: cannot read 'x.rules'\n"
                    "dir/p.rules:2:6: warning: a string of 3 characters\n"
                    "\tx\t= \"\xc3\xa9t\xc3\xa9\" + y;\n"
                    "\t \t  ^~~~~\n"
                    "dir/p.rules:1:6: note: spans lines\n"
                    "line one\n"
                    "     ^~~\n"
                    "dir/p.rules:2:14: error: bad plus\n"
                    "\tx\t= \"\xc3\xa9t\xc3\xa9\" + y;\n"
                    "\t \t        ^~~\n"
                    "dir/p.rules:3:5: error: at the end\n"
                    "last\n"
                    "    ^\n"
                    "dir/p.rules:9:1: error: past the end\n");
    /* Messages are copies in the arena. */
    assert_string_equal(d->head->message, "bad plus");
}

/* ---- limits ---- */

static int alloc_budget;

static void *failing_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    (void)ud;
    (void)osize;
    if (nsize == 0) {
        free(ptr);
        return NULL;
    }
    if (alloc_budget-- <= 0)
        return NULL;
    return realloc(ptr, nsize);
}

/* Every allocation failure ends in NULL (or a whole tree), never a crash
 * or an exit; the scanner's own buffers are released. */
static void test_out_of_memory(void **state)
{
    (void)state;
    /* Big enough that the arena needs several chunks. */
    static char big[200000];
    size_t n = 0;
    while (n + sizeof example < sizeof big) {
        memcpy(big + n, example, sizeof example - 1);
        n += sizeof example - 1;
    }
    big[n] = '\0';
    int nulls = 0, trees = 0;
    for (int budget = 0; budget < 40; budget++) {
        ru_arena a;
        rc_diags d;
        ru_arena_init(&a, failing_alloc, NULL);
        rc_diags_init(&d, &a);
        alloc_budget = budget;
        rc_source src = { "big.rules", big, n, false, 0 };
        rc_file *file = rc_parse_file(&src, &a, &d);
        if (file) {
            trees++;
            assert_int_equal(d.nerrors, 0);
        } else {
            nulls++;
            assert_true(d.nerrors > 0);
        }
        ru_arena_free(&a);
    }
    assert_true(nulls > 0);
    assert_true(trees > 0);
}

static void test_nesting_limit(void **state)
{
    fx *f = *state;
    static char buf[8192];
    size_t n = (size_t)snprintf(buf, sizeof buf, "param p = ");
    for (int i = 0; i < 2000; i++)
        buf[n++] = '(';
    buf[n++] = '1';
    for (int i = 0; i < 2000; i++)
        buf[n++] = ')';
    memcpy(buf + n, ";\n", 3);
    rc_file *file = parse(f, buf);
    assert_non_null(file);
    assert_int_equal(f->diags.nerrors, 1);
    assert_string_equal(f->diags.head->message, "nested too deeply");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_example_policy, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_write_statements, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_tags_and_messages, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_match_else_chain, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_header_negative_priority, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_literals, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_exponent_literals, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_string_escapes, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_precedence, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_comparisons, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_quantifiers, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_regex_flags_and_division, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_missing_semicolon, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_two_syntax_errors, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_syntax_error_wordings, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_unexpected_end_of_file, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_lexical_errors, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_lexical_error_edges, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_parse_expr_offset, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_diag_print, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_out_of_memory, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_nesting_limit, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
