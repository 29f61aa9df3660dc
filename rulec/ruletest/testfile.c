/* testfile.c - reads a `rulec test` file (YAML) into cases. Values come
 * SPDX-License-Identifier: Apache-2.0
 * from the library's YAML reader (rv_vm_parse, into the file's own VM), so
 * scalars are typed exactly as in a dstack YAML spec; a pass over libyaml's
 * events records where each node sits, so every problem (all of them, not
 * the first) is reported as file:line:col. */
#include "ruletest.h"
#include "file.h"
#include "skypilot.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <yaml.h>

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- errors ---- */

void tt_error(tt_errors *e, const char *file, tt_loc loc, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char line[1400];
    if (loc.line)
        snprintf(line, sizeof line, "%s:%lu:%lu: error: %s\n", file, loc.line, loc.col, msg);
    else
        snprintf(line, sizeof line, "%s: error: %s\n", file, msg);
    fputs(line, stderr);
    ru_buf_puts(&e->text, line);
    e->count++;
}


/* ---- positions: a skeleton of the document from libyaml's events ---- */

typedef struct pnode {
    tt_loc loc;
    yaml_event_type_t kind;  /* SCALAR, ALIAS, SEQUENCE_START or MAPPING_START */
    const char *text;        /* scalars: the value as written */
    size_t n, cap;           /* children: a mapping holds key, value pairs */
    struct pnode **kids;
} pnode;

typedef struct reader {
    tt_file *f;
    tt_errors *errs;
    const char *dir;         /* the test file's folder, "" for the current one */
    bool ok;
} reader;

static pnode *pnode_new(ru_arena *a, const yaml_event_t *ev)
{
    pnode *p = ru_arena_alloc(a, sizeof *p);
    if (!p)
        return NULL;
    *p = (pnode){{ev->start_mark.line + 1, ev->start_mark.column + 1}, ev->type, NULL, 0, 0, NULL};
    if (ev->type == YAML_SCALAR_EVENT) {
        p->text = ru_arena_strndup(a, (const char *)ev->data.scalar.value, ev->data.scalar.length);
        if (!p->text)
            return NULL;
    }
    return p;
}

static bool pnode_add(ru_arena *a, pnode *parent, pnode *kid)
{
    if (parent->n == parent->cap) {
        size_t ncap = parent->cap ? parent->cap * 2 : 8;
        pnode **nk = ru_arena_alloc(a, ncap * sizeof *nk);
        if (!nk)
            return false;
        if (parent->n)
            memcpy(nk, parent->kids, parent->n * sizeof *nk);
        parent->kids = nk;
        parent->cap = ncap;
    }
    parent->kids[parent->n++] = kid;
    return true;
}

/* Builds the skeleton. Called only after the library parsed the same text,
 * so the text is valid YAML of bounded nesting. */
static pnode *positions(ru_arena *a, const char *text, size_t len)
{
    yaml_parser_t yp;
    if (!yaml_parser_initialize(&yp))
        return NULL;
    yaml_parser_set_input_string(&yp, (const unsigned char *)text, len);
    pnode *stack[600];
    size_t depth = 0;
    pnode *root = NULL;
    bool done = false, failed = false;
    while (!done && !failed) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&yp, &ev))
            break;
        switch (ev.type) {
        case YAML_SCALAR_EVENT:
        case YAML_ALIAS_EVENT:
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT: {
            pnode *p = pnode_new(a, &ev);
            if (!p || (depth && !pnode_add(a, stack[depth - 1], p))) {
                failed = true;
                break;
            }
            if (!depth && !root)
                root = p;
            if (ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT) {
                if (depth == sizeof stack / sizeof *stack)
                    failed = true;
                else
                    stack[depth++] = p;
            }
            break;
        }
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            if (depth)
                depth--;
            break;
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&yp);
    return failed ? NULL : root;
}

/* The library reports a repeated key at the start of its mapping; the
 * author wants the repeat itself. Finds the mapping starting at `at` and
 * returns where its first repeated key is ({0, 0} if none). */
static tt_loc repeated_key(const pnode *p, tt_loc at, int depth)
{
    if (!p || depth > 600 || (p->kind != YAML_MAPPING_START_EVENT && p->kind != YAML_SEQUENCE_START_EVENT))
        return (tt_loc){0, 0};
    if (p->kind == YAML_MAPPING_START_EVENT && p->loc.line == at.line && p->loc.col == at.col)
        for (size_t i = 2; i < p->n; i += 2)
            for (size_t j = 0; j < i; j += 2)
                if (p->kids[i]->text && p->kids[j]->text && strcmp(p->kids[i]->text, p->kids[j]->text) == 0)
                    return p->kids[i]->loc;
    for (size_t i = 0; i < p->n; i++) {
        tt_loc l = repeated_key(p->kids[i], at, depth + 1);
        if (l.line)
            return l;
    }
    return (tt_loc){0, 0};
}

/* A value with its position. Under an alias the skeleton stops; positions
 * below it are the alias's own. */
typedef struct cur {
    rv_doc *v;
    const pnode *p;
} cur;

static const pnode *kid(const pnode *p, size_t i)
{
    return p && i < p->n && p->kids[i] ? p->kids[i] : p;
}

static cur item(cur c, size_t i)
{
    return (cur){rv_doc_item(c.v, i),
                 c.p && c.p->kind == YAML_SEQUENCE_START_EVENT ? kid(c.p, i) : c.p};
}

static cur member_value(cur c, size_t i)
{
    return (cur){rv_doc_value(c.v, i),
                 c.p && c.p->kind == YAML_MAPPING_START_EVENT ? kid(c.p, 2 * i + 1) : c.p};
}

static tt_loc member_key_loc(cur c, size_t i)
{
    const pnode *p = c.p && c.p->kind == YAML_MAPPING_START_EVENT ? kid(c.p, 2 * i) : c.p;
    return p ? p->loc : (tt_loc){0, 0};
}

static tt_loc loc_of(cur c)
{
    return c.p ? c.p->loc : (tt_loc){0, 0};
}

static void fail(reader *r, cur at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(reader *r, cur at, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    tt_error(r->errs, r->f->path, loc_of(at), "%s", msg);
    r->ok = false;
}

static const char *type_name(const rv_doc *v)
{
    switch (rv_doc_kind(v)) {
    case RV_NULL: return "null";
    case RV_BOOL: return "a boolean";
    case RV_INT: return "an integer";
    case RV_FLOAT: return "a number";
    case RV_STRING: return "a string";
    case RV_ARRAY: return "a list";
    default: return "a mapping";
    }
}

/* Looks up key in mapping c; false when absent. */
static bool get(cur c, const char *key, cur *out)
{
    for (size_t i = 0; i < rv_doc_len(c.v); i++)
        if (strcmp(rv_doc_key(c.v, i), key) == 0) {
            *out = member_value(c, i);
            return true;
        }
    return false;
}

/* Reports keys of mapping c that are not in allowed (a typo in a test file
 * must not silently turn a check off). */
static void only_keys(reader *r, cur c, const char *where, const char *const *allowed)
{
    for (size_t i = 0; i < rv_doc_len(c.v); i++) {
        const char *k = rv_doc_key(c.v, i);
        bool known = false;
        for (size_t j = 0; allowed[j] && !known; j++)
            known = strcmp(k, allowed[j]) == 0;
        if (known)
            continue;
        char list[300] = "";
        for (size_t j = 0; allowed[j]; j++) {
            strncat(list, j ? ", " : "", sizeof list - strlen(list) - 1);
            strncat(list, allowed[j], sizeof list - strlen(list) - 1);
        }
        tt_error(r->errs, r->f->path, member_key_loc(c, i), "unknown key '%s' in %s (expected: %s)",
                 k, where, list);
        r->ok = false;
    }
}

static const char *copy(reader *r, const char *s, size_t n)
{
    const char *d = ru_arena_strndup(&r->f->arena, s, n);
    if (!d)
        r->ok = false;
    return d ? d : "";
}

static const char *string_of(reader *r, cur c, const char *what)
{
    if (rv_doc_kind(c.v) != RV_STRING) {
        fail(r, c, "%s must be a string, not %s", what, type_name(c.v));
        return NULL;
    }
    return rv_doc_string(c.v);
}

/* Compact JSON of v, kept in the file's arena (the VM's printed text is
 * reused by its next print). */
static const char *json_of(reader *r, const rv_doc *v)
{
    const char *text;
    size_t len;
    rv_error err;
    if (rv_vm_print(r->f->vm, v, RV_JSON, 0, &text, &len, &err) != RV_OK) {
        r->ok = false;
        return NULL;
    }
    return copy(r, text, len);
}

/* A path relative to the test file's folder (absolute paths stay). */
static const char *resolve(reader *r, const char *path)
{
    /* "./x" and "." would show up in every path printed from here on. */
    while (path[0] == '.' && path[1] == '/')
        path += 2;
    if (strcmp(path, ".") == 0 || !path[0])
        return r->dir[0] ? r->dir : ".";
    if (path[0] == '/' || !r->dir[0])
        return copy(r, path, strlen(path));
    size_t n = strlen(r->dir) + strlen(path) + 2;
    char *s = ru_arena_alloc(&r->f->arena, n);
    if (!s) {
        r->ok = false;
        return "";
    }
    snprintf(s, n, "%s/%s", r->dir, path);
    return s;
}

/* ---- parameters ---- */

/* NAME or POLICY.NAME (split at the last dot, as --param does) -> value. */
static bool read_params(reader *r, cur c, bool qualified, tt_param **out, size_t *n)
{
    if (rv_doc_kind(c.v) != RV_OBJECT) {
        fail(r, c, "params must be a mapping of parameter names to values, not %s", type_name(c.v));
        return false;
    }
    size_t len = rv_doc_len(c.v);
    *out = ru_arena_alloc(&r->f->arena, (len ? len : 1) * sizeof **out);
    if (!*out) {
        r->ok = false;
        return false;
    }
    *n = 0;
    for (size_t i = 0; i < len; i++) {
        const char *key = rv_doc_key(c.v, i);
        tt_param *p = &(*out)[(*n)++];
        p->loc = member_key_loc(c, i);
        p->policy = NULL;
        p->name = key;
        const char *dot = qualified ? strrchr(key, '.') : NULL;
        if (dot && dot != key && dot[1]) {
            p->policy = copy(r, key, (size_t)(dot - key));
            p->name = dot + 1;
        }
        /* A string is override text, as after --param (max_idle: 1h);
         * YAML's numbers, booleans, lists and maps are values already. */
        const rv_doc *v = member_value(c, i).v;
        p->json = rv_doc_kind(v) != RV_STRING;
        p->value = p->json ? json_of(r, v) : copy(r, rv_doc_string(v), rv_doc_len(v));
    }
    return true;
}

/* ---- files ---- */

/* Reads a whole file, refusing more than the input limit. A test file names
 * files, so "-" is the file of that name here, never standard input.
 * Returns 0, or an errno value with *opened set when the file was opened
 * and then could not be read whole (a read error -- EISDIR for a folder --
 * too large, or out of memory) rather than not opened at all. */
static int read_whole(const char *path, char **data, size_t *len, bool *opened)
{
    int e = ru_read_file(strcmp(path, "-") == 0 ? "./-" : path, CLI_DEFAULT_MAX_INPUT, data, len);
    *opened = e == EFBIG || e == ENOMEM || e == EISDIR || e == EIO;
    return e;
}

/* ---- specs ---- */

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* What a request body says besides its spec: dstack's body (user,
 * project), or a SkyPilot body's request name, user and $request map. */
typedef struct body_info {
    const rv_doc *dstack;
    const char *sky_name, *sky_user;
    const rv_doc *sky_request;
} body_info;

/* Whether a document is a dstack REST plugin request body. */
static bool is_request_body(const rv_doc *v)
{
    if (rv_doc_kind(v) != RV_OBJECT)
        return false;
    if (rv_doc_kind(rv_doc_get(v, "spec")) != RV_OBJECT)
        return false;
    for (size_t i = 0; i < rv_doc_len(v); i++) {
        const char *k = rv_doc_key(v, i);
        if (strcmp(k, "spec") && strcmp(k, "user") && strcmp(k, "project"))
            return false;
    }
    return true;
}

/* Reads a spec file named at c: JSON or YAML; a request body gives its
 * spec (and, through body, what else it says of the request): dstack's
 * "spec", or SkyPilot's {task, config} decoded as rulesd decodes it. */
static const rv_doc *spec_file(reader *r, cur c, body_info *body)
{
    const char *path = resolve(r, rv_doc_string(c.v));
    char *text;
    size_t len;
    bool opened;
    int e = read_whole(path, &text, &len, &opened);
    if (e && !opened) {
        fail(r, c, "cannot read spec '%s': %s", path, strerror(e));
        return NULL;
    }
    rv_doc *v = NULL;
    rv_error err;
    if (e) {
        fail(r, c, "cannot read spec '%s': %s", path,
             e == EFBIG ? "larger than the input limit" : e == ENOMEM ? "out of memory" : "read error");
    } else {
        size_t i = 0;
        while (i < len && strchr(" \t\r\n", text[i]))
            i++;
        bool json = has_suffix(path, ".json") ||
                    (!has_suffix(path, ".yml") && !has_suffix(path, ".yaml") && i < len &&
                     (text[i] == '{' || text[i] == '['));
        if (json && i < len && text[i] == '"') {
            /* A JSON string: SkyPilot's body, or nothing a spec can be. */
            skypilot_request sq;
            char problem[700];
            if (!skypilot_decode(r->f->vm, text, len, &sq, problem, sizeof problem)) {
                fail(r, c, "spec '%s' is not a SkyPilot request body: %s", path, problem);
                free(text);
                return NULL;
            }
            free(text);
            *body = (body_info){NULL, sq.name, sq.user, sq.request};
            return sq.spec;
        }
        if (rv_vm_parse(r->f->vm, text, len, json ? RV_JSON : RV_YAML, &v, &err) != RV_OK)
            v = NULL;
        if (!v && err.line)
            fail(r, c, "spec '%s' is not valid at line %lu, column %lu: %s", path, err.line,
                 err.column, err.message);
        else if (!v)
            fail(r, c, "spec '%s' is not valid: %s", path, err.message);
    }
    free(text);
    if (!v)
        return NULL;
    *body = (body_info){0};
    const rv_doc *spec = v;
    if (is_request_body(v)) {
        body->dstack = v;
        spec = rv_doc_get(v, "spec");
    }
    if (rv_doc_kind(spec) != RV_OBJECT) {
        fail(r, c, "spec '%s' must hold a mapping, not %s", path, type_name(spec));
        return NULL;
    }
    return spec;
}

/* A spec given inline (a mapping) or as a path. */
static const rv_doc *read_spec(reader *r, cur c, const char *what, body_info *body)
{
    *body = (body_info){0};
    if (rv_doc_kind(c.v) == RV_OBJECT)
        return c.v;
    if (rv_doc_kind(c.v) == RV_STRING)
        return spec_file(r, c, body);
    fail(r, c, "%s must be a mapping or the path of a JSON/YAML file, not %s", what,
         type_name(c.v));
    return NULL;
}

/* ---- messages ---- */

static bool read_messages(reader *r, cur c, const char *what, tt_msg **out, size_t *n)
{
    if (rv_doc_kind(c.v) != RV_ARRAY) {
        fail(r, c, "%s must be a list (of texts, or {regex: PATTERN})", what);
        return false;
    }
    *n = 0;
    size_t len = rv_doc_len(c.v);
    *out = ru_arena_alloc(&r->f->arena, (len ? len : 1) * sizeof **out);
    if (!*out) {
        r->ok = false;
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        cur it = item(c, i);
        tt_msg *m = &(*out)[*n];
        memset(m, 0, sizeof *m);
        m->loc = loc_of(it);
        if (rv_doc_kind(it.v) == RV_STRING) {
            m->text = rv_doc_string(it.v);
            (*n)++;
            continue;
        }
        cur re;
        if (rv_doc_kind(it.v) != RV_OBJECT || rv_doc_len(it.v) != 1 || !get(it, "regex", &re) ||
            rv_doc_kind(re.v) != RV_STRING) {
            fail(r, it, "each of %s is a text or {regex: PATTERN}", what);
            continue;
        }
        int code;
        PCRE2_SIZE off;
        pcre2_code *pc = pcre2_compile((PCRE2_SPTR)rv_doc_string(re.v), rv_doc_len(re.v), PCRE2_UTF, &code, &off, NULL);
        if (!pc) {
            PCRE2_UCHAR buf[256];
            pcre2_get_error_message(code, buf, sizeof buf);
            fail(r, re, "invalid regex (at offset %zu of the pattern): %s", (size_t)off, (char *)buf);
            continue;
        }
        if (r->f->nregexes == r->f->cap_regexes) {
            size_t ncap = r->f->cap_regexes ? r->f->cap_regexes * 2 : 8;
            void **nr = realloc(r->f->regexes, ncap * sizeof *nr);
            if (!nr) {
                pcre2_code_free(pc);
                r->ok = false;
                continue;
            }
            r->f->regexes = nr;
            r->f->cap_regexes = ncap;
        }
        r->f->regexes[r->f->nregexes++] = pc;
        m->text = rv_doc_string(re.v);
        m->is_regex = true;
        m->re = pc;
        (*n)++;
    }
    return true;
}

bool tt_msg_matches(const tt_msg *m, const char *text)
{
    if (!m->is_regex)
        return strcmp(m->text, text) == 0;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(m->re, NULL);
    if (!md)
        return false;
    int rc = pcre2_match(m->re, (PCRE2_SPTR)text, strlen(text), 0, 0, md, NULL);
    pcre2_match_data_free(md);
    return rc >= 0;
}

/* ---- spec paths: a.b["odd key"][0] ---- */

static bool is_ident(const char *s, size_t n)
{
    if (n == 0 || !(s[0] == '_' || (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!(s[i] == '_' || s[i] == '-' || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
            return false;
    return true;
}

void tt_path_append_key(ru_buf *b, const char *key, size_t klen, bool first)
{
    if (is_ident(key, klen)) {
        if (!first)
            ru_buf_putc(b, '.');
        ru_buf_put(b, key, klen);
        return;
    }
    ru_buf_puts(b, "[\"");
    for (size_t i = 0; i < klen; i++) {
        if (key[i] == '"' || key[i] == '\\')
            ru_buf_putc(b, '\\');
        ru_buf_putc(b, key[i]);
    }
    ru_buf_puts(b, "\"]");
}

/* Parses a path; false (with a reason) when it is not one. */
static bool parse_path(reader *r, const char *s, tt_change *ch, const char **why)
{
    size_t cap = 8, n = 0;
    tt_seg *segs = ru_arena_alloc(&r->f->arena, cap * sizeof *segs);
    char *keys = ru_arena_alloc(&r->f->arena, strlen(s) + 1);   /* decoded keys */
    size_t kused = 0;
    if (!segs || !keys) {
        r->ok = false;
        *why = "out of memory";
        return false;
    }
    size_t i = 0, len = strlen(s);
    while (i < len) {
        if (n == cap) {
            tt_seg *ns = ru_arena_alloc(&r->f->arena, cap * 2 * sizeof *ns);
            if (!ns) {
                r->ok = false;
                *why = "out of memory";
                return false;
            }
            memcpy(ns, segs, n * sizeof *ns);
            segs = ns;
            cap *= 2;
        }
        tt_seg *g = &segs[n];
        if (s[i] == '[') {
            i++;
            if (i < len && s[i] == '"') {
                i++;
                g->key = keys + kused;
                size_t start = kused;
                while (i < len && s[i] != '"') {
                    if (s[i] == '\\' && i + 1 < len)
                        i++;
                    keys[kused++] = s[i++];
                }
                if (i >= len || i + 1 >= len || s[i + 1] != ']') {
                    *why = "a quoted key must end with \"]";
                    return false;
                }
                g->klen = kused - start;
                keys[kused++] = '\0';
                i += 2;
            } else {
                size_t start = i;
                long idx = 0;
                while (i < len && s[i] >= '0' && s[i] <= '9' && idx < 100000000)
                    idx = idx * 10 + (s[i++] - '0');
                if (i == start || i >= len || s[i] != ']') {
                    *why = "an index is [DIGITS] and a quoted key [\"KEY\"]";
                    return false;
                }
                i++;
                g->key = NULL;
                g->index = idx;
            }
        } else {
            if (n > 0) {
                if (s[i] != '.') {
                    *why = "expected '.' or '[' between segments";
                    return false;
                }
                i++;
            }
            size_t start = i;
            while (i < len && s[i] != '.' && s[i] != '[')
                i++;
            if (i == start) {
                *why = "empty segment";
                return false;
            }
            g->key = keys + kused;
            g->klen = i - start;
            memcpy(keys + kused, s + start, g->klen);
            kused += g->klen;
            keys[kused++] = '\0';
        }
        n++;
    }
    if (n == 0) {
        *why = "empty path";
        return false;
    }
    ru_buf b;
    ru_buf_init(&b, NULL, NULL);
    for (size_t k = 0; k < n; k++) {
        if (segs[k].key)
            tt_path_append_key(&b, segs[k].key, segs[k].klen, k == 0);
        else
            ru_buf_printf(&b, "[%ld]", segs[k].index);
    }
    ch->path = b.oom ? "" : copy(r, b.data, b.len);
    ru_buf_free(&b);
    ch->segs = segs;
    ch->nseg = n;
    return true;
}

/* ---- expectations ---- */

static const char *const expect_keys[] = {"decision", "messages", "warnings", "spec", "changes",
                                          "removed", "unchanged", NULL};

static void read_expect(reader *r, cur e, tt_case *tc)
{
    if (rv_doc_kind(e.v) != RV_OBJECT) {
        fail(r, e, "expect must be a mapping (decision, messages, warnings, spec, changes, "
                   "removed, unchanged), not %s", type_name(e.v));
        return;
    }
    only_keys(r, e, "expect", expect_keys);
    cur c;
    if (!get(e, "decision", &c)) {
        fail(r, e, "expect needs 'decision: allowed' or 'decision: rejected'");
    } else if (rv_doc_string(c.v) && strcmp(rv_doc_string(c.v), "allowed") == 0) {
        tc->decision = 1;
    } else if (rv_doc_string(c.v) && strcmp(rv_doc_string(c.v), "rejected") == 0) {
        tc->decision = 0;
    } else {
        fail(r, c, "decision is 'allowed' or 'rejected'");
    }
    if (get(e, "messages", &c))
        tc->check_messages = read_messages(r, c, "messages", &tc->messages, &tc->nmessages);
    if (get(e, "warnings", &c))
        tc->check_warnings = read_messages(r, c, "warnings", &tc->warnings, &tc->nwarnings);

    cur spec, changes, removed, unchanged;
    bool has_spec = get(e, "spec", &spec), has_changes = get(e, "changes", &changes);
    bool has_removed = get(e, "removed", &removed), has_unchanged = get(e, "unchanged", &unchanged);
    if (has_spec + (has_changes || has_removed) + has_unchanged > 1) {
        fail(r, e, "expect takes one of 'spec', 'changes'/'removed' and 'unchanged'");
        return;
    }
    if (has_spec) {
        body_info body;
        tc->expect_spec = read_spec(r, spec, "expect.spec", &body);
        tc->spec_mode = TT_SPEC_WHOLE;
    }
    if (has_unchanged) {
        if (rv_doc_kind(unchanged.v) != RV_BOOL || !rv_doc_bool(unchanged.v))
            fail(r, unchanged, "unchanged takes only 'true' (leave it out to not check the spec)");
        tc->spec_mode = TT_SPEC_UNCHANGED;
    }
    if (!has_changes && !has_removed)
        return;
    tc->spec_mode = TT_SPEC_CHANGES;
    size_t total = 0;
    bool changes_ok = has_changes && rv_doc_kind(changes.v) == RV_OBJECT;
    bool removed_ok = has_removed && rv_doc_kind(removed.v) == RV_ARRAY;
    if (has_changes && !changes_ok)
        fail(r, changes, "changes must be a mapping of spec paths to their new values");
    else if (has_changes)
        total += rv_doc_len(changes.v);
    if (has_removed && !removed_ok)
        fail(r, removed, "removed must be a list of spec paths");
    else if (has_removed)
        total += rv_doc_len(removed.v);
    tc->changes = ru_arena_alloc(&r->f->arena, (total ? total : 1) * sizeof *tc->changes);
    if (!tc->changes) {
        r->ok = false;
        return;
    }
    const char *why;
    for (size_t i = 0; changes_ok && i < rv_doc_len(changes.v); i++) {
        tt_change *ch = &tc->changes[tc->nchanges];
        ch->loc = member_key_loc(changes, i);
        ch->value = member_value(changes, i).v;
        if (parse_path(r, rv_doc_key(changes.v, i), ch, &why))
            tc->nchanges++;
        else {
            tt_error(r->errs, r->f->path, ch->loc, "'%s' is not a spec path: %s",
                     rv_doc_key(changes.v, i), why);
            r->ok = false;
        }
    }
    for (size_t i = 0; removed_ok && i < rv_doc_len(removed.v); i++) {
        cur it = item(removed, i);
        tt_change *ch = &tc->changes[tc->nchanges];
        ch->loc = loc_of(it);
        ch->value = NULL;
        const char *path = rv_doc_string(it.v);
        if (!path)
            fail(r, it, "removed lists spec paths (strings), not %s", type_name(it.v));
        else if (parse_path(r, path, ch, &why))
            tc->nchanges++;
        else
            fail(r, it, "'%s' is not a spec path: %s", path, why);
    }
}

/* ---- cases ---- */

static const char *const case_keys[] = {"name", "kind", "user", "project", "request", "spec",
                                        "params", "expect", NULL};

static void read_case(reader *r, cur c, tt_case *tc, size_t index)
{
    memset(tc, 0, sizeof *tc);
    tc->loc = loc_of(c);
    tc->decision = -1;
    if (rv_doc_kind(c.v) != RV_OBJECT) {
        fail(r, c, "case %zu must be a mapping (name, kind, spec, expect, ...), not %s", index + 1,
             type_name(c.v));
        return;
    }
    only_keys(r, c, "a case", case_keys);
    cur v;
    if (!get(c, "name", &v)) {
        fail(r, c, "case %zu has no name", index + 1);
    } else if ((tc->name = string_of(r, v, "name")) != NULL) {
        for (size_t i = 0; i < index; i++)
            if (strcmp(r->f->cases[i].name, tc->name) == 0) {
                fail(r, v, "a case named '%s' is already defined at line %lu", tc->name,
                     r->f->cases[i].loc.line);
                break;
            }
    }
    if (!tc->name) {
        /* Named by position, so later messages can still say which. */
        char buf[40];
        snprintf(buf, sizeof buf, "case %zu", index + 1);
        tc->name = copy(r, buf, strlen(buf));
    }
    char why[400];
    cur kv;
    bool has_kind = get(c, "kind", &kv);
    if (has_kind && (tc->kind = string_of(r, kv, "kind")) && !rc_target_has_kind(r->f->target, tc->kind, why, sizeof why))
        fail(r, kv, "%s", why);  /* no policy would run: the case could not fail */
    body_info body = {0};
    bool spec_read = false;
    if (!get(c, "spec", &v)) {
        fail(r, c, "case '%s' has no spec (a mapping, or the path of a JSON/YAML file)", tc->name);
    } else {
        const rv_doc *spec = read_spec(r, v, "spec", &body);
        if (spec)
            tc->spec_json = json_of(r, spec);
        spec_read = spec != NULL;
    }
    /* A SkyPilot body names its request: the kind is its request_name. */
    if (!has_kind && body.sky_name) {
        tc->kind = copy(r, body.sky_name, strlen(body.sky_name));
        if (!rc_target_has_kind(r->f->target, tc->kind, why, sizeof why))
            fail(r, v, "%s", why);
    } else if (!has_kind && (spec_read || !get(c, "spec", &v))) {  /* else the spec's error says enough */
        fail(r, c, "case '%s' has no kind (run, fleet, volume, gateway, ...; a SkyPilot body names its own)",
             tc->name);
    } else if (tc->kind && body.sky_name && strcmp(tc->kind, body.sky_name) != 0) {
        fail(r, kv, "kind '%s' is not the request the SkyPilot body names ('%s'): leave kind out", tc->kind,
             body.sky_name);
    }
    const char *user = "", *project = "";
    if (body.dstack) {
        const char *s = rv_doc_string(rv_doc_get(body.dstack, "user"));
        if (s)
            user = s;
        s = rv_doc_string(rv_doc_get(body.dstack, "project"));
        if (s)
            project = s;
    } else if (body.sky_name) {
        user = body.sky_user;
    }
    /* The body's $request, unless the case gives its own (below). */
    if (body.sky_request)
        tc->request_json = json_of(r, body.sky_request);
    if (get(c, "user", &v))
        user = string_of(r, v, "user");
    if (get(c, "project", &v))
        project = string_of(r, v, "project");
    tc->user = user ? user : "";
    tc->project = project ? project : "";
    if (get(c, "request", &v)) {
        if (rv_doc_kind(v.v) != RV_OBJECT)
            fail(r, v, "request must be a mapping (what the host passes as $request), not %s",
                 type_name(v.v));
        else
            tc->request_json = json_of(r, v.v);
    }
    if (get(c, "params", &v))
        read_params(r, v, true, &tc->params, &tc->nparams);
    if (!get(c, "expect", &v))
        fail(r, c, "case '%s' has no expect (at least 'decision: allowed' or 'rejected')", tc->name);
    else
        read_expect(r, v, tc);
}

/* ---- the file ---- */

static const char *const ref_keys[] = {"path", "params", NULL};

static void read_policies(reader *r, cur c)
{
    bool list = rv_doc_kind(c.v) == RV_ARRAY;
    size_t n = list ? rv_doc_len(c.v) : 1;
    if (list && n == 0) {
        fail(r, c, "policies lists no policy");
        return;
    }
    r->f->policies = ru_arena_alloc(&r->f->arena, n * sizeof *r->f->policies);
    if (!r->f->policies) {
        r->ok = false;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        cur it = list ? item(c, i) : c;
        tt_policy_ref *ref = &r->f->policies[r->f->npolicies];
        memset(ref, 0, sizeof *ref);
        ref->loc = loc_of(it);
        const char *path = NULL;
        if (rv_doc_kind(it.v) == RV_STRING) {
            path = rv_doc_string(it.v);
        } else if (rv_doc_kind(it.v) == RV_OBJECT) {
            only_keys(r, it, "a policies entry", ref_keys);
            cur p;
            if (!get(it, "path", &p))
                fail(r, it, "a policies entry needs a path (a .rules file or a folder)");
            else
                path = string_of(r, p, "path");
            if (get(it, "params", &p))
                read_params(r, p, false, &ref->params, &ref->nparams);
        } else {
            fail(r, it, "policies lists .rules files or folders (strings, or {path, params}), not %s",
                 type_name(it.v));
        }
        if (path) {
            ref->path = resolve(r, path);
            r->f->npolicies++;
        }
    }
}

static const char *const file_keys[] = {"target", "policies", "params", "cases", NULL};

bool tt_file_read(const char *path, tt_file *f, tt_errors *errs)
{
    memset(f, 0, sizeof *f);
    ru_arena_init(&f->arena, NULL, NULL);
    f->path = path;
    reader r = {f, errs, "", true};
    const char *slash = strrchr(path, '/');
    if (slash)
        r.dir = copy(&r, path, slash == path ? 1 : (size_t)(slash - path));
    if (rv_vm_new(NULL, &f->vm) != RV_OK) {
        tt_error(errs, path, (tt_loc){0, 0}, "out of memory");
        return false;
    }

    char *text;
    size_t len;
    bool opened;
    int e = read_whole(path, &text, &len, &opened);
    if (e && !opened) {
        tt_error(errs, path, (tt_loc){0, 0}, "cannot read test file: %s", strerror(e));
        return false;
    }
    if (e) {
        tt_error(errs, path, (tt_loc){0, 0}, "cannot read test file (too large, or a read error)");
        return false;
    }
    rv_error err;
    rv_doc *root;
    if (rv_vm_parse(f->vm, text, len, RV_YAML, &root, &err) != RV_OK)
        root = NULL;
    const pnode *proot = positions(&f->arena, text, len);
    free(text);
    if (!root) {
        char buf[600];
        tt_loc at = {err.line ? err.line : 1, err.line ? err.column : 1};
        const char *msg = err.message;  /* the position is in err.line/column only */
        /* The library points at the mapping; the author wants the repeat. */
        const char *dup = strstr(err.message, "duplicate key ");
        tt_loc l = dup ? repeated_key(proot, at, 0) : (tt_loc){0, 0};
        if (l.line) {
            at = l;
            const char *end = strstr(dup, " in the mapping");
            snprintf(buf, sizeof buf, "%.*s (keys must be unique)",
                     (int)(end ? (size_t)(end - dup) : strlen(dup)), dup);
            msg = buf;
        }
        tt_error(errs, path, at, "%s", msg);
        return false;
    }
    cur top = {root, proot};
    if (rv_doc_kind(root) != RV_OBJECT) {
        tt_error(errs, path, loc_of(top).line ? loc_of(top) : (tt_loc){1, 1},
                 "a test file is a mapping with 'policies' and 'cases', not %s", type_name(root));
        return false;
    }
    only_keys(&r, top, "a test file", file_keys);
    cur c;
    if (get(top, "target", &c)) {
        const char *t = string_of(&r, c, "target");
        char why[400];
        if (t && !rc_target_has_kind(t, NULL, why, sizeof why))
            fail(&r, c, "%s", why);
        else if (t)
            f->target = copy(&r, t, strlen(t));
    }
    if (!get(top, "policies", &c))
        fail(&r, top, "the test file names no policies (policies: [FILE.rules or FOLDER, ...])");
    else
        read_policies(&r, c);
    if (get(top, "params", &c))
        read_params(&r, c, true, &f->params, &f->nparams);
    if (!get(top, "cases", &c)) {
        fail(&r, top, "the test file has no cases");
    } else if (rv_doc_kind(c.v) != RV_ARRAY || rv_doc_len(c.v) == 0) {
        fail(&r, c, "cases must be a non-empty list");
    } else {
        f->cases = ru_arena_alloc(&f->arena, rv_doc_len(c.v) * sizeof *f->cases);
        if (!f->cases)
            return false;
        for (size_t i = 0; i < rv_doc_len(c.v); i++) {
            read_case(&r, item(c, i), &f->cases[i], i);
            f->ncases++;
        }
    }
    return r.ok;
}

void tt_file_free(tt_file *f)
{
    for (size_t i = 0; i < f->nregexes; i++)
        pcre2_code_free(f->regexes[i]);
    free(f->regexes);
    rv_vm_free(f->vm);
    ru_arena_free(&f->arena);
    memset(f, 0, sizeof *f);
}
