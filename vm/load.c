/* load.c - turns untrusted bytecode bundles into a verified, immutable
 * SPDX-License-Identifier: Apache-2.0
 * program: decode with a bounds check on every read, compile the regexes,
 * verify every policy, then merge the bundles into one ordered policy set.
 * A bundle that is truncated, corrupted or hostile fails with a message that
 * names the blob, the policy and the byte offset; it never crashes a reader.
 */
#include "opcodes.h"
#include "program.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RV_DEFAULT_BUDGET 10000000u
#define RV_DEFAULT_MATCH_LIMIT 1000000u
#define RV_DEFAULT_DEPTH_LIMIT 10000u
#define RV_DEFAULT_NESTING 512u

/* Smallest encodings, to refuse a count before allocating for it. */
#define MIN_POLICY 52u  /* size + 12 empty counts/strings/ints */
#define MIN_VALUE 1u
#define MIN_MEMBER 5u
#define MIN_STR 4u
#define MIN_PARAM 5u
#define MIN_REGEX 16u
#define MIN_PATH 4u
#define MIN_SEG 5u

void rv_config_init(rv_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->alloc = ru_default_alloc;
    cfg->alloc_ud = NULL;
    cfg->instruction_budget = RV_DEFAULT_BUDGET;
    cfg->regex_match_limit = RV_DEFAULT_MATCH_LIMIT;
    cfg->regex_depth_limit = RV_DEFAULT_DEPTH_LIMIT;
    cfg->max_nesting = RV_DEFAULT_NESTING;
}

void rv_config_resolve(rv_config *out, const rv_config *in)
{
    rv_config def;
    rv_config_init(&def);
    *out = in ? *in : def;
    if (!out->alloc) {
        out->alloc = ru_default_alloc;
        out->alloc_ud = NULL;
    }
    if (!out->instruction_budget)
        out->instruction_budget = def.instruction_budget;
    if (!out->regex_match_limit)
        out->regex_match_limit = def.regex_match_limit;
    if (!out->regex_depth_limit)
        out->regex_depth_limit = def.regex_depth_limit;
    if (!out->max_nesting)
        out->max_nesting = def.max_nesting;
}

const char *rv_status_name(rv_status s)
{
    switch (s) {
    case RV_OK: return "RV_OK";
    case RV_ENOMEM: return "RV_ENOMEM";
    case RV_EFORMAT: return "RV_EFORMAT";
    case RV_EVERIFY: return "RV_EVERIFY";
    case RV_EPARSE: return "RV_EPARSE";
    case RV_ELIMIT: return "RV_ELIMIT";
    case RV_EPARAM: return "RV_EPARAM";
    case RV_EPOLICY: return "RV_EPOLICY";
    case RV_EINPUT: return "RV_EINPUT";
    case RV_EEVAL: return "RV_EEVAL";
    }
    return "RV_E?";
}

/* ---- PCRE2 memory through the configured allocator ----
 * PCRE2's free hook is not told the block size, but rv_alloc_fn promises
 * the old size to the allocator, so each block carries its size in front.
 * Programs (compiled codes) and VMs (match data and context) both use these. */

typedef union re_hdr {
    max_align_t align;
    size_t size;
} re_hdr;

void *rv_pcre2_malloc(size_t size, void *ud)
{
    const rv_config *c = ud;
    if (size > SIZE_MAX - sizeof(re_hdr))
        return NULL;
    re_hdr *h = c->alloc(c->alloc_ud, NULL, 0, size + sizeof(re_hdr));
    if (!h)
        return NULL;
    h->size = size + sizeof(re_hdr);
    return h + 1;
}

void rv_pcre2_free(void *p, void *ud)
{
    const rv_config *c = ud;
    if (!p)
        return;
    re_hdr *h = (re_hdr *)p - 1;
    c->alloc(c->alloc_ud, h, h->size, 0);
}

static void free_regex_codes(rv_policy *p)
{
    for (uint32_t i = 0; i < p->nregex; i++) {
        if (p->regex[i].code) {
            pcre2_code_free(p->regex[i].code);
            p->regex[i].code = NULL;
        }
    }
}

/* ---- Decoding ---- */

typedef struct loader {
    rv_program *prog;
    rv_error *err;
    ru_buf buf;                  /* scratch text: path display, JSON */
    pcre2_general_context *gctx;
    pcre2_compile_context *cctx;
    rv_policy **all;             /* every policy decoded so far, for cleanup */
    size_t nall;
    /* Where we are, for messages. */
    const char *blob;            /* display name of the current blob */
    char blob_tmp[32];
    long pidx;                   /* policy index in the blob, -1 in the header */
    const char *pname;           /* its name once decoded */
    /* The cursor: every read stays in [pos, end). */
    const uint8_t *base;
    size_t pos, end;
} loader;

static void vfail(loader *l, rv_status st, size_t at, bool with_offset, const char *fmt,
                  va_list ap)
{
    char what[300], where[160];
    vsnprintf(what, sizeof what, fmt, ap);
    if (l->pidx < 0)
        snprintf(where, sizeof where, "%s", l->blob);
    else if (l->pname)
        snprintf(where, sizeof where, "%s: policy %ld '%s'", l->blob, l->pidx, l->pname);
    else
        snprintf(where, sizeof where, "%s: policy %ld", l->blob, l->pidx);
    if (with_offset)
        rv_set_error(l->err, st, "%s: byte %zu: %s", where, at, what);
    else
        rv_set_error(l->err, st, "%s: %s", where, what);
}

/* A format error at the current offset. Always returns false. */
static bool fail(loader *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(loader *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(l, RV_EFORMAT, l->pos, true, fmt, ap);
    va_end(ap);
    return false;
}

static bool fail_at(loader *l, rv_status st, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static bool fail_at(loader *l, rv_status st, size_t at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(l, st, at, true, fmt, ap);
    va_end(ap);
    return false;
}

/* A failure that has no byte offset (regex, verifier, memory). */
static bool fail_here(loader *l, rv_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool fail_here(loader *l, rv_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(l, st, 0, false, fmt, ap);
    va_end(ap);
    return false;
}

static bool oom(loader *l)
{
    return fail_here(l, RV_ENOMEM, "out of memory");
}

static void *zalloc(loader *l, size_t count, size_t elem)
{
    if (elem && count > SIZE_MAX / elem)
        return NULL;
    size_t size = count * elem;
    void *p = ru_arena_alloc(&l->prog->arena, size);
    if (p)
        memset(p, 0, size ? size : 1);
    return p;
}

static size_t left(const loader *l)
{
    return l->end - l->pos;
}

static bool need(loader *l, size_t n, const char *what)
{
    if (left(l) < n)
        return fail(l, "truncated: %s needs %zu bytes, %zu left", what, n, left(l));
    return true;
}

static bool get_u8(loader *l, uint8_t *v, const char *what)
{
    if (!need(l, 1, what))
        return false;
    *v = l->base[l->pos++];
    return true;
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static bool get_u32(loader *l, uint32_t *v, const char *what)
{
    if (!need(l, 4, what))
        return false;
    *v = rd32(l->base + l->pos);
    l->pos += 4;
    return true;
}

static bool get_i32(loader *l, int32_t *v, const char *what)
{
    uint32_t u;
    if (!get_u32(l, &u, what))
        return false;
    *v = (int32_t)u; /* two's complement on every target we build for */
    return true;
}

static bool get_u64(loader *l, uint64_t *v, const char *what)
{
    uint32_t lo, hi;
    if (!get_u32(l, &lo, what) || !get_u32(l, &hi, what))
        return false;
    *v = (uint64_t)hi << 32 | lo;
    return true;
}

/* A string of any bytes, copied into the arena with a NUL after it. With
 * no_nul, refuses embedded NULs: names compared as C strings must not have
 * a hidden tail. */
static bool get_str(loader *l, const char **s, uint32_t *len, bool no_nul, const char *what)
{
    uint32_t n;
    size_t at = l->pos;
    if (!get_u32(l, &n, what))
        return false;
    if (n > left(l))
        return fail_at(l, RV_EFORMAT, at, "truncated: %s of %u bytes, %zu left", what, n, left(l));
    const char *src = (const char *)l->base + l->pos;
    if (no_nul && memchr(src, '\0', n))
        return fail_at(l, RV_EFORMAT, at, "%s contains a NUL byte", what);
    char *p = ru_arena_strndup(&l->prog->arena, src, n);
    if (!p)
        return oom(l);
    l->pos += n;
    *s = p;
    if (len)
        *len = n;
    return true;
}

/* A count of things each at least min bytes long: refused unless they can
 * fit in what is left, so a hostile count never drives an allocation. */
static bool get_count(loader *l, uint32_t *n, size_t min, const char *what)
{
    size_t at = l->pos;
    if (!get_u32(l, n, what))
        return false;
    if (*n > left(l) / min)
        return fail_at(l, RV_EFORMAT, at, "%u %s cannot fit in the %zu bytes left", *n, what,
                       left(l));
    return true;
}

static bool get_value(loader *l, rv_node **out, unsigned depth)
{
    size_t at = l->pos;
    if (depth > RV_CONST_DEPTH_MAX)
        return fail(l, "value nested deeper than %d", RV_CONST_DEPTH_MAX);
    uint8_t tag;
    if (!get_u8(l, &tag, "value tag"))
        return false;
    rv_node *n = zalloc(l, 1, sizeof *n);
    if (!n)
        return oom(l);
    n->type = tag;
    switch (tag) {
    case RV_NULL:
        break;
    case RV_BOOL: {
        uint8_t b;
        if (!get_u8(l, &b, "bool"))
            return false;
        if (b > 1)
            return fail_at(l, RV_EFORMAT, at, "bool value %u is neither 0 nor 1", b);
        n->u.b = b;
        break;
    }
    case RV_INT: {
        uint64_t u;
        if (!get_u64(l, &u, "int"))
            return false;
        memcpy(&n->u.i, &u, sizeof u);
        break;
    }
    case RV_FLOAT: {
        uint64_t u;
        if (!get_u64(l, &u, "float"))
            return false;
        memcpy(&n->u.f, &u, sizeof u);
        break;
    }
    case RV_STRING:
        if (!get_str(l, &n->u.s, &n->len, false, "string"))
            return false;
        break;
    case RV_ARRAY: {
        uint32_t cnt;
        if (!get_count(l, &cnt, MIN_VALUE, "array items"))
            return false;
        n->u.items = zalloc(l, cnt, sizeof *n->u.items);
        if (!n->u.items)
            return oom(l);
        for (uint32_t i = 0; i < cnt; i++)
            if (!get_value(l, &n->u.items[i], depth + 1))
                return false;
        n->len = n->cap = cnt;
        break;
    }
    case RV_OBJECT: {
        uint32_t cnt;
        if (!get_count(l, &cnt, MIN_MEMBER, "object members"))
            return false;
        n->u.members = zalloc(l, cnt, sizeof *n->u.members);
        if (!n->u.members)
            return oom(l);
        for (uint32_t i = 0; i < cnt; i++) {
            rv_member *m = &n->u.members[i];
            uint32_t klen;  /* a bit-field in the member: no address */
            if (!get_str(l, &m->key, &klen, false, "object key") || !get_value(l, &m->value, depth + 1))
                return false;
            if (klen > RV_KEY_MAX)
                return fail_at(l, RV_EFORMAT, at, "an object key of %u bytes is too long", klen);
            m->klen = klen;
        }
        n->len = n->cap = cnt;
        break;
    }
    default:
        return fail_at(l, RV_EFORMAT, at, "unknown value tag %u", tag);
    }
    *out = n;
    return true;
}

static bool get_path(loader *l, rv_path *path)
{
    uint32_t nseg;
    if (!get_count(l, &nseg, MIN_SEG, "path segments"))
        return false;
    path->segs = zalloc(l, nseg, sizeof *path->segs);
    if (!path->segs)
        return oom(l);
    for (uint32_t i = 0; i < nseg; i++) {
        rv_seg *s = &path->segs[i];
        size_t at = l->pos;
        uint8_t kind;
        if (!get_u8(l, &kind, "path segment kind"))
            return false;
        if (kind == 0) {
            if (!get_str(l, &s->key, &s->klen, false, "path key"))
                return false;
        } else if (kind == 1) {
            if (!get_i32(l, &s->index, "path index"))
                return false;
        } else {
            return fail_at(l, RV_EFORMAT, at, "unknown path segment kind %u", kind);
        }
    }
    path->nseg = nseg;
    return true;
}

/* Decodes the `size` bytes of one policy; pos is at its first byte. */
static bool get_policy_body(loader *l, rv_policy *p)
{
    if (!get_str(l, &p->name, NULL, true, "policy name"))
        return false;
    l->pname = p->name;
    if (!get_i32(l, &p->priority, "priority") ||
        !get_str(l, &p->source, NULL, false, "source name"))
        return false;

    uint32_t n;
    if (!get_count(l, &n, MIN_STR, "kinds"))
        return false;
    p->kinds = zalloc(l, n, sizeof *p->kinds);
    if (!p->kinds)
        return oom(l);
    for (uint32_t i = 0; i < n; i++)
        if (!get_str(l, &p->kinds[i], NULL, true, "kind"))
            return false;
    p->nkinds = n;
    if (!get_str(l, &p->target, NULL, true, "target"))
        return false;

    if (!get_count(l, &n, MIN_VALUE, "constants"))
        return false;
    p->consts = zalloc(l, n, sizeof *p->consts);
    if (!p->consts)
        return oom(l);
    for (uint32_t i = 0; i < n; i++)
        if (!get_value(l, &p->consts[i], 1))
            return false;
    p->nconsts = n;

    if (!get_count(l, &n, MIN_PARAM, "parameters"))
        return false;
    p->params = zalloc(l, n, sizeof *p->params);
    if (!p->params)
        return oom(l);
    for (uint32_t i = 0; i < n; i++) {
        if (!get_str(l, &p->params[i].name, NULL, true, "parameter name") ||
            !get_value(l, &p->params[i].value, 1))
            return false;
        p->params[i].type = p->params[i].value->type;
    }
    p->nparams = n;

    if (!get_count(l, &n, MIN_REGEX, "regexes"))
        return false;
    p->regex = zalloc(l, n, sizeof *p->regex);
    if (!p->regex)
        return oom(l);
    p->nregex = n; /* codes are all NULL until compiled: safe to free */
    for (uint32_t i = 0; i < n; i++) {
        rv_regex *r = &p->regex[i];
        size_t at;
        if (!get_str(l, &r->pattern, NULL, true, "regex pattern"))
            return false;
        at = l->pos;
        if (!get_u32(l, &r->flags, "regex flags") || !get_u32(l, &r->line, "regex line") ||
            !get_u32(l, &r->column, "regex column"))
            return false;
        if (r->flags & ~(RV_RE_I | RV_RE_M | RV_RE_S | RV_RE_X))
            return fail_at(l, RV_EFORMAT, at, "unknown regex flags 0x%x", r->flags);
    }

    if (!get_count(l, &n, MIN_PATH, "paths"))
        return false;
    p->paths = zalloc(l, n, sizeof *p->paths);
    if (!p->paths)
        return oom(l);
    for (uint32_t i = 0; i < n; i++)
        if (!get_path(l, &p->paths[i]))
            return false;
    p->npaths = n;

    if (!get_u32(l, &p->nslots, "slot count"))
        return false;
    if (!get_count(l, &n, 4, "instructions"))
        return false;
    p->code = zalloc(l, n, sizeof *p->code);
    if (!p->code)
        return oom(l);
    for (uint32_t i = 0; i < n; i++)
        p->code[i] = rd32(l->base + l->pos + 4 * (size_t)i);
    l->pos += 4 * (size_t)n;
    p->ncode = n;

    if (!get_count(l, &n, 8, "line entries"))
        return false;
    p->lines = zalloc(l, n, sizeof *p->lines);
    if (!p->lines)
        return oom(l);
    for (uint32_t i = 0; i < n; i++) {
        size_t at = l->pos;
        rv_line *ln = &p->lines[i];
        if (!get_u32(l, &ln->pc, "line entry") || !get_u32(l, &ln->line, "line entry"))
            return false;
        if (ln->pc >= p->ncode)
            return fail_at(l, RV_EFORMAT, at, "line entry for pc %u beyond the code (%u)", ln->pc,
                           p->ncode);
        if (i && ln->pc < p->lines[i - 1].pc)
            return fail_at(l, RV_EFORMAT, at, "line entries not sorted by pc");
    }
    p->nlines = n;

    if (l->pos != l->end)
        return fail(l, "%zu unused bytes at the end of the policy", left(l));
    return true;
}

/* ---- What the loader derives from a decoded policy ---- */

static const char *buf_to_arena(loader *l)
{
    if (l->buf.oom)
        return NULL;
    return ru_arena_strndup(&l->prog->arena, l->buf.len ? l->buf.data : "", l->buf.len);
}

bool rv_is_ident(const char *s, size_t n)
{
    if (n == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    }
    return true;
}

void rv_path_write(ru_buf *b, const rv_seg *segs, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        const rv_seg *s = &segs[i];
        if (!s->key) {
            ru_buf_printf(b, "[%ld]", (long)s->index);
        } else if (rv_is_ident(s->key, s->klen)) {
            if (i)
                ru_buf_putc(b, '.');
            ru_buf_put(b, s->key, s->klen);
        } else {
            rv_node key = {.type = RV_STRING, .len = s->klen, .u.s = s->key};
            ru_buf_putc(b, '[');
            rv_json_compact(b, &key);
            ru_buf_putc(b, ']');
        }
    }
}

/* Changes and messages show paths as the language writes them, so each
 * path's text is computed once, here. */
static bool path_text(loader *l, rv_path *path)
{
    l->buf.len = 0;
    rv_path_write(&l->buf, path->segs, path->nseg);
    path->text = buf_to_arena(l);
    return path->text || oom(l);
}

static const char *compact_json(loader *l, const rv_node *n)
{
    l->buf.len = 0;
    rv_json_compact(&l->buf, n);
    return buf_to_arena(l);
}

static bool compile_regex(loader *l, rv_policy *p, uint32_t i)
{
    rv_regex *r = &p->regex[i];
    /* `$` is the end of the text, as in RE2 (CEL, Rego, Kyverno), not also
     * "before a final newline" ("CC-1234\n" must not pass /^CC-[0-9]{4}$/).
     * PCRE2 ignores this in multiline mode (the m flag or (?m)), where `$`
     * keeps its line meaning. compiler/check.c compiles with the same. */
    uint32_t opts = PCRE2_UTF | PCRE2_DOLLAR_ENDONLY;
#ifdef PCRE2_MATCH_INVALID_UTF
    /* Spec strings are not guaranteed valid UTF-8; with this a bad sequence
     * simply never matches instead of making pcre2_match fail. */
    opts |= PCRE2_MATCH_INVALID_UTF;
#endif
    if (r->flags & RV_RE_I)
        opts |= PCRE2_CASELESS;
    if (r->flags & RV_RE_M)
        opts |= PCRE2_MULTILINE;
    if (r->flags & RV_RE_S)
        opts |= PCRE2_DOTALL;
    if (r->flags & RV_RE_X)
        opts |= PCRE2_EXTENDED;
    int code;
    PCRE2_SIZE off;
    /* The loader refused raw NULs in patterns (rv_regex keeps no length;
     * a pattern says \x00 instead), so strlen is the whole pattern. */
    r->code = pcre2_compile((PCRE2_SPTR)r->pattern, strlen(r->pattern), opts, &code, &off,
                            l->cctx);
    if (!r->code) {
        PCRE2_UCHAR msg[160];
        if (pcre2_get_error_message(code, msg, sizeof msg) < 0)
            snprintf((char *)msg, sizeof msg, "error %d", code);
        if (code == PCRE2_ERROR_HEAP_FAILED || code == PCRE2_ERROR_NOMEMORY)
            return oom(l);
        return fail_here(l, RV_EVERIFY, "regex R[%u] /%s/ (line %u, column %u): %s at offset %zu",
                         i, r->pattern, r->line, r->column, (const char *)msg, (size_t)off);
    }
    /* JIT is an optimisation: where it is missing or fails, the
     * interpreter matches with the same code through the interpreter. */
    (void)pcre2_jit_compile(r->code, PCRE2_JIT_COMPLETE);
    return true;
}

static bool finish_policy(loader *l, rv_policy *p)
{
    for (uint32_t i = 0; i < p->nregex; i++)
        if (!compile_regex(l, p, i))
            return false;
    for (uint32_t i = 0; i < p->npaths; i++)
        if (!path_text(l, &p->paths[i]))
            return false;
    for (uint32_t i = 0; i < p->nparams; i++) {
        if (!(p->params[i].json = compact_json(l, p->params[i].value)))
            return oom(l);
        p->params[i].default_json = p->params[i].json;
    }
    rv_error verr;
    if (rv_verify_policy_alloc(p, l->prog->cfg.alloc, l->prog->cfg.alloc_ud, &verr))
        return true;
    /* The verifier already names the policy; add only the blob. */
    rv_set_error(l->err, verr.status, "%s: %s", l->blob, verr.message);
    return false;
}

static bool load_policy(loader *l, rv_policy *p)
{
    size_t at = l->pos;
    uint32_t size;
    if (!get_u32(l, &size, "policy size"))
        return false;
    if (size > left(l))
        return fail_at(l, RV_EFORMAT, at, "policy size %u exceeds the %zu bytes left", size,
                       left(l));
    size_t outer_end = l->end;
    l->end = l->pos + size;
    p->checksum = rv_crc32(l->base + l->pos, size);
    if (!get_policy_body(l, p))
        return false;
    l->end = outer_end;
    return finish_policy(l, p);
}

/* The bytes of a blob that are its bundle: all of them, unless a signature
 * section (RV_SIG_MAGIC) follows the size the header states. */
static size_t bundle_extent(const rv_blob *b)
{
    const uint8_t *d = b->data;
    if (!d || b->size < RV_HEADER_SIZE || memcmp(d, RV_MAGIC, 4) != 0)
        return b->size;
    uint32_t total = rd32(d + 8);
    if (total >= RV_HEADER_SIZE && total < b->size && b->size - total >= 4 &&
        memcmp(d + total, RV_SIG_MAGIC, 4) == 0)
        return total;
    return b->size;
}

/* Header fields, in file order. */
static bool check_header(loader *l, const rv_blob *b, uint32_t *npolicies)
{
    const uint8_t *d = b->data;
    size_t size = bundle_extent(b);
    if (size < RV_HEADER_SIZE || !d)
        return fail_at(l, RV_EFORMAT, 0, "truncated header: %zu bytes, a bundle has at least %d",
                       size, RV_HEADER_SIZE);
    if (memcmp(d, RV_MAGIC, 4) != 0)
        return fail_at(l, RV_EFORMAT, 0, "bad magic: not a rules bytecode bundle");
    uint32_t vf = rd32(d + 4);
    /* What each older version lacked, for the message that says why it is
     * refused (program.h). */
    static const char *const lacked[] = {NULL, "before secrets were marked",
                                         "before policies recorded their target"};
    if ((vf & 0xFFFFu) >= 1 && (vf & 0xFFFFu) < RV_FORMAT_VERSION)
        return fail_at(l, RV_EFORMAT, 4, "format version %u, written %s (this library reads %d): "
                       "recompile it from its source with rulec compile", vf & 0xFFFFu,
                       lacked[vf & 0xFFFFu], RV_FORMAT_VERSION);
    if ((vf & 0xFFFFu) != RV_FORMAT_VERSION)
        return fail_at(l, RV_EFORMAT, 4, "unsupported version %u (this library reads %d)",
                       vf & 0xFFFFu, RV_FORMAT_VERSION);
    if (vf >> 16)
        return fail_at(l, RV_EFORMAT, 6, "unknown flags 0x%x", vf >> 16);
    uint32_t total = rd32(d + 8);
    if (total != size)
        return fail_at(l, RV_EFORMAT, 8, "total size %u but the blob has %zu bytes", total,
                       size);
    uint32_t want = rd32(d + 12), got = rv_crc32(d + 16, size - 16);
    if (want != got)
        return fail_at(l, RV_EFORMAT, 12, "checksum mismatch: header 0x%08x, content 0x%08x",
                       want, got);
    *npolicies = rd32(d + 16);
    if (*npolicies > (size - RV_HEADER_SIZE) / MIN_POLICY)
        return fail_at(l, RV_EFORMAT, 16, "%u policies cannot fit in %zu bytes", *npolicies,
                       size);
    return true;
}

/* ---- The policy set ---- */

static const char *blob_name(const rv_blob *b, size_t i, char *tmp, size_t n)
{
    if (b->name)
        return b->name;
    snprintf(tmp, n, "bundle #%zu", i);
    return tmp;
}

/* Same name: the highest priority wins; two at the same priority is an
 * inconsistency the admin must resolve, wherever it sits in the group. */
static int compare_kind_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool policy_has_kind(const rv_policy *p, const char *kind)
{
    if (p->nkinds == 0)
        return true;
    for (uint32_t k = 0; k < p->nkinds; k++)
        if (strcmp(p->kinds[k], kind) == 0)
            return true;
    return false;
}

/* Builds the per-kind run lists and numbers every path segment, once,
 * after the set rules have fixed the run order. */
static bool index_program(loader *l)
{
    rv_program *prog = l->prog;
    l->blob = "policy set";
    l->pidx = -1;
    size_t total = 0;
    for (uint32_t i = 0; i < prog->npolicies; i++)
        total += prog->policies[i]->nkinds;
    if (!rv_number_segments(prog))
        return oom(l);

    const char **names = zalloc(l, total ? total : 1, sizeof *names);
    if (!names)
        return oom(l);
    size_t n = 0;
    for (uint32_t i = 0; i < prog->npolicies; i++)
        for (uint32_t k = 0; k < prog->policies[i]->nkinds; k++)
            names[n++] = prog->policies[i]->kinds[k];
    if (n > 1)
        qsort(names, n, sizeof *names, compare_kind_names);
    size_t distinct = 0;
    for (size_t i = 0; i < n; i++)
        if (distinct == 0 || strcmp(names[distinct - 1], names[i]) != 0)
            names[distinct++] = names[i];

    prog->kinds = zalloc(l, distinct ? distinct : 1, sizeof *prog->kinds);
    if (!prog->kinds)
        return oom(l);
    prog->nkinds = (uint32_t)distinct;
    for (size_t d = 0; d <= distinct; d++) {
        rv_kind_list *list = d < distinct ? &prog->kinds[d] : &prog->any_kind;
        list->kind = d < distinct ? names[d] : "*";
        uint32_t count = 0;
        for (uint32_t i = 0; i < prog->npolicies; i++)
            count += d < distinct ? policy_has_kind(prog->policies[i], names[d])
                                  : prog->policies[i]->nkinds == 0;
        list->policies = zalloc(l, count ? count : 1, sizeof *list->policies);
        if (!list->policies)
            return oom(l);
        for (uint32_t i = 0; i < prog->npolicies; i++)
            if (d < distinct ? policy_has_kind(prog->policies[i], names[d])
                             : prog->policies[i]->nkinds == 0)
                list->policies[list->n++] = i;
    }
    return true;
}

static bool apply_set_rules(loader *l, const rv_blob *blobs)
{
    rv_program *prog = l->prog;
    rv_set_entry *e = zalloc(l, l->nall, sizeof *e);
    prog->policies = zalloc(l, l->nall, sizeof *prog->policies);
    if (!e || !prog->policies) {
        l->blob = "policy set";
        l->pidx = -1;
        return oom(l);
    }
    for (size_t i = 0; i < l->nall; i++)
        e[i] = (rv_set_entry){l->all[i], i, false};
    size_t kept, clash[2];
    rv_set_clash why;
    if (!rv_set_rule(e, l->nall, &kept, clash, &why)) {
        const rv_policy *a = l->all[clash[0]], *b = l->all[clash[1]];
        char t1[32], t2[32];
        const char *na = blob_name(&blobs[a->blob], a->blob, t1, sizeof t1);
        const char *nb = blob_name(&blobs[b->blob], b->blob, t2, sizeof t2);
        if (why == RV_CLASH_TARGET)
            rv_set_error(l->err, RV_EPOLICY, "policy '%s' is defined for target %s (%s) and for target %s "
                         "(%s): a policy overrides one of its name only within its target (else one "
                         "protocol's requests would lose its rules unseen); rename one",
                         a->name, a->target, na, b->target, nb);
        else
            rv_set_error(l->err, RV_EPOLICY, "policy '%s' is defined twice with priority %ld (%s, %s)",
                         a->name, (long)a->priority, na, nb);
        return false;
    }
    for (size_t i = 0; i < kept; i++)
        prog->policies[i] = e[i].policy;
    for (size_t i = kept; i < l->nall; i++)
        free_regex_codes(e[i].policy); /* overridden: never runs */
    prog->npolicies = (uint32_t)kept;
    return true;
}

/* Interns the policies' targets (program.h: rv_program.targets). */
static bool index_targets(loader *l)
{
    rv_program *prog = l->prog;
    prog->targets = zalloc(l, prog->npolicies ? prog->npolicies : 1, sizeof *prog->targets);
    if (!prog->targets)
        return oom(l);
    for (uint32_t i = 0; i < prog->npolicies; i++) {
        rv_policy *p = prog->policies[i];
        const char *known = rv_program_target(prog, p->target);
        if (known)
            p->target = known;
        else
            prog->targets[prog->ntargets++] = p->target;
        p->judges_all = strcmp(p->target, RV_TARGET_ANY) == 0;
    }
    return true;
}

/* The digests of the set as it will run (digest.c), once its order is
 * fixed. */
static bool digest_program(loader *l)
{
    l->blob = "policy set";
    l->pidx = -1;
    if (rv_program_digest_update(l->prog, &l->buf))
        return true;
    if (l->buf.oom)
        return oom(l);
    return fail_here(l, RV_ELIMIT, "too large for one bundle (4 GiB)");
}

static bool load_all(loader *l, const rv_blob *blobs, size_t n)
{
    uint32_t *counts = zalloc(l, n, sizeof *counts);
    if (!counts) {
        l->blob = "policy set";
        return oom(l);
    }
    /* Headers first: a bad checksum anywhere fails before any decoding,
     * and the policy total sizes the cleanup list exactly. */
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        l->blob = blob_name(&blobs[i], i, l->blob_tmp, sizeof l->blob_tmp);
        if (!check_header(l, &blobs[i], &counts[i]))
            return false;
        total += counts[i];
    }
    l->all = zalloc(l, total, sizeof *l->all);
    if (!l->all)
        return oom(l);

    for (size_t i = 0; i < n; i++) {
        l->blob = blob_name(&blobs[i], i, l->blob_tmp, sizeof l->blob_tmp);
        l->base = blobs[i].data;
        l->pos = RV_HEADER_SIZE;
        l->end = bundle_extent(&blobs[i]);
        for (uint32_t k = 0; k < counts[i]; k++) {
            l->pidx = k;
            l->pname = NULL;
            rv_policy *p = zalloc(l, 1, sizeof *p);
            if (!p)
                return oom(l);
            p->blob = (uint32_t)i;
            l->all[l->nall++] = p;
            if (!load_policy(l, p))
                return false;
        }
        l->pidx = -1;
        if (l->pos != l->end)
            return fail(l, "%zu bytes after the last policy", left(l));
    }
    l->pidx = -1;
    return apply_set_rules(l, blobs) && index_program(l) && index_targets(l) && digest_program(l);
}

const rv_kind_list *rv_program_kind_list(const rv_program *prog, const char *kind)
{
    uint32_t lo = 0, hi = prog->nkinds;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = strcmp(prog->kinds[mid].kind, kind);
        if (c == 0)
            return &prog->kinds[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return &prog->any_kind;
}

void rv_program_free(rv_program *prog)
{
    if (!prog)
        return;
    for (uint32_t i = 0; i < prog->npolicies; i++)
        free_regex_codes(prog->policies[i]);
    ru_arena_free(&prog->arena);
    prog->cfg.alloc(prog->cfg.alloc_ud, prog, sizeof *prog, 0);
}

rv_status rv_program_load(const rv_blob *blobs, size_t n, const rv_config *cfg,
                          rv_program **out, rv_error *err)
{
    rv_error dummy;
    if (!err)
        err = &dummy;
    memset(err, 0, sizeof *err);
    if (!out || (n && !blobs)) {
        rv_set_error(err, RV_EINPUT, "rv_program_load: no blobs or no place for the result");
        return RV_EINPUT;
    }
    *out = NULL;

    rv_config c;
    rv_config_resolve(&c, cfg);

    rv_program *prog = c.alloc(c.alloc_ud, NULL, 0, sizeof *prog);
    if (!prog) {
        rv_set_error(err, RV_ENOMEM, "out of memory");
        return RV_ENOMEM;
    }
    memset(prog, 0, sizeof *prog);
    prog->cfg = c;
    ru_arena_init(&prog->arena, c.alloc, c.alloc_ud);

    loader l;
    memset(&l, 0, sizeof l);
    l.prog = prog;
    l.err = err;
    l.pidx = -1;
    l.blob = "bundle";
    ru_buf_init(&l.buf, c.alloc, c.alloc_ud);
    /* The codes keep a copy of the memory hooks and &prog->cfg, which lives
     * exactly as long as they do. */
    l.gctx = pcre2_general_context_create(rv_pcre2_malloc, rv_pcre2_free, &prog->cfg);
    l.cctx = l.gctx ? pcre2_compile_context_create(l.gctx) : NULL;

    prog->sealed = ru_arena_alloc(&prog->arena, sizeof *prog->sealed);
    if (prog->sealed)
        atomic_init(prog->sealed, false);

    bool ok;
    if (!l.cctx || !prog->sealed)
        ok = fail_here(&l, RV_ENOMEM, "out of memory");
    else
        ok = load_all(&l, blobs, n);

    ru_buf_free(&l.buf);
    if (l.cctx)
        pcre2_compile_context_free(l.cctx);
    if (l.gctx)
        pcre2_general_context_free(l.gctx);
    if (!ok) {
        for (size_t i = 0; i < l.nall; i++)
            free_regex_codes(l.all[i]);
        prog->npolicies = 0;
        rv_program_free(prog);
        if (err->status == RV_OK)
            rv_set_error(err, RV_EFORMAT, "invalid bundle");
        return err->status;
    }
    *out = prog;
    return RV_OK;
}

/* ---- Introspection and overrides ---- */

void rv_program_seal(const rv_program *prog)
{
    /* Read first: once sealed, evaluations on many threads only share the
     * cache line, they do not fight over it. */
    if (!atomic_load_explicit(prog->sealed, memory_order_relaxed))
        atomic_store_explicit(prog->sealed, true, memory_order_release);
}

static bool find_param(const rv_policy *p, const char *name, uint32_t *j)
{
    for (uint32_t k = 0; k < p->nparams; k++) {
        if (strcmp(p->params[k].name, name) == 0) {
            *j = k;
            return true;
        }
    }
    return false;
}

int rv_program_declares(const rv_program *prog, size_t i, const char *name)
{
    uint32_t j;
    return prog && name && i < prog->npolicies && find_param(prog->policies[i], name, &j);
}

/* Compact JSON of v, in the program's arena; NULL when memory ran out. */
static const char *compact_json_text(rv_program *prog, const rv_node *v)
{
    ru_buf b;
    ru_buf_init(&b, prog->cfg.alloc, prog->cfg.alloc_ud);
    rv_json_compact(&b, v);
    const char *json = b.oom ? NULL : ru_arena_strndup(&prog->arena, b.len ? b.data : "", b.len);
    ru_buf_free(&b);
    return json;
}

/* The type names of the language (docs/language.md), with an article. */
static const char *type_phrase(uint8_t t)
{
    switch (t) {
    case RV_NULL: return "null";
    case RV_BOOL: return "a bool";
    case RV_INT: return "an int";
    case RV_FLOAT: return "a float";
    case RV_STRING: return "a string";
    case RV_ARRAY: return "a list";
    default: return "a map";
    }
}

/* Whether a value of type got may override a parameter declared with a
 * default of type want: the same type; any value for a null default (it
 * declares no type); an int for a float (it becomes one: sizes and prices
 * are written either way, `2` or `2.0`). */
static bool param_type_fits(uint8_t want, uint8_t got)
{
    return want == RV_NULL || want == got || (want == RV_FLOAT && got == RV_INT);
}

/* Compact JSON of v in b, cut short (with "...") past max bytes: a
 * message quotes the value, whatever its size. */
static void json_excerpt(ru_buf *b, const rv_node *v, size_t max)
{
    rv_json_compact(b, v);
    if (!b->oom && b->len > max) {
        b->len = max;
        ru_buf_puts(b, "...");
    }
    ru_buf_terminate(b);
}

/* The refusal of a value of the wrong type: names policy.param, the type
 * its default declares (and the default as loaded), and the value. */
static rv_status param_type_error(const rv_program *prog, const rv_policy *p, const rv_param *pa,
                                  const rv_node *v, rv_error *err)
{
    ru_buf got;
    ru_buf_init(&got, prog->cfg.alloc, prog->cfg.alloc_ud);
    json_excerpt(&got, v, 160);
    size_t dlen = strlen(pa->default_json);
    if (got.oom)
        rv_set_error(err, RV_ENOMEM, "out of memory");
    else
        rv_set_error(err, RV_EPARAM,
                     "parameter '%s.%s' takes %s%s (its default is %.*s%s), not %s%s%s", p->name,
                     pa->name, type_phrase(pa->type), pa->type == RV_FLOAT ? " or an int" : "",
                     dlen > 80 ? 80 : (int)dlen, pa->default_json, dlen > 80 ? "..." : "",
                     v->type == RV_NULL ? "" : type_phrase(v->type), v->type == RV_NULL ? "" : " ",
                     got.data);
    ru_buf_free(&got);
    return err->status;
}

rv_status rv_program_set_param(rv_program *prog, const char *policy, const char *param,
                               const char *value_json, rv_error *err)
{
    rv_error dummy;
    if (!err)
        err = &dummy;
    memset(err, 0, sizeof *err);
    if (!prog || !param || !value_json) {
        rv_set_error(err, RV_EINPUT, "rv_program_set_param: missing program, name or value");
        return RV_EINPUT;
    }
    if (atomic_load_explicit(prog->sealed, memory_order_acquire)) {
        rv_set_error(err, RV_EINPUT,
                     "parameter '%s': the program has been evaluated and can no longer change",
                     param);
        return RV_EINPUT;
    }

    if (policy) {
        const rv_policy *found = NULL;
        for (uint32_t i = 0; i < prog->npolicies && !found; i++)
            if (strcmp(prog->policies[i]->name, policy) == 0)
                found = prog->policies[i];
        uint32_t j;
        if (!found) {
            rv_set_error(err, RV_EPARAM, "no policy '%s' in the set (overriding parameter '%s')",
                         policy, param);
            return RV_EPARAM;
        }
        if (!find_param(found, param, &j)) {
            rv_set_error(err, RV_EPARAM, "policy '%s' has no parameter '%s'", policy, param);
            return RV_EPARAM;
        }
    } else {
        size_t hits = 0;
        uint32_t j;
        for (uint32_t i = 0; i < prog->npolicies; i++)
            hits += find_param(prog->policies[i], param, &j);
        if (!hits) {
            rv_set_error(err, RV_EPARAM, "no policy in the set declares parameter '%s'", param);
            return RV_EPARAM;
        }
    }

    size_t len = strlen(value_json);
    rv_error perr;
    memset(&perr, 0, sizeof perr);
    rv_node *v = rv_json_parse(&prog->arena, value_json, len, prog->cfg.max_nesting, &perr);
    if (!v) {
        if (perr.status != RV_EPARSE) {
            rv_set_error(err, perr.status ? perr.status : RV_ENOMEM, "parameter '%s': %s", param,
                         perr.message);
            err->line = perr.line;  /* where in value_json */
            err->column = perr.column;
            return err->status;
        }
        /* Not JSON: the text itself is the value (team=ml, not team="ml");
         * only a string (or null) default takes it, below. */
        v = rv_new_string(&prog->arena, value_json, len);
        if (!v) {
            rv_set_error(err, RV_ENOMEM, "out of memory");
            return RV_ENOMEM;
        }
    }

    /* Every policy the override reaches must take the value before any
     * gets it: a refused override changes nothing. */
    for (uint32_t i = 0; i < prog->npolicies; i++) {
        const rv_policy *p = prog->policies[i];
        uint32_t j;
        if ((policy && strcmp(p->name, policy) != 0) || !find_param(p, param, &j))
            continue;
        if (!param_type_fits(p->params[j].type, v->type))
            return param_type_error(prog, p, &p->params[j], v, err);
    }

    /* An int for a float parameter becomes a float, so the parameter keeps
     * its declared type wherever the policy writes it into a spec. */
    rv_node *as_float = NULL;
    if (v->type == RV_INT) {
        as_float = rv_new_float(&prog->arena, (double)v->u.i);
        if (!as_float) {
            rv_set_error(err, RV_ENOMEM, "out of memory");
            return RV_ENOMEM;
        }
    }
    const char *json = NULL, *float_json = NULL;
    for (uint32_t i = 0; i < prog->npolicies; i++) {
        rv_policy *p = prog->policies[i];
        uint32_t j;
        if ((policy && strcmp(p->name, policy) != 0) || !find_param(p, param, &j))
            continue;
        bool to_float = as_float && p->params[j].type == RV_FLOAT;
        const char **text = to_float ? &float_json : &json;
        if (!*text && !(*text = compact_json_text(prog, to_float ? as_float : v))) {
            rv_set_error(err, RV_ENOMEM, "out of memory");
            return RV_ENOMEM;
        }
    }
    /* The values are part of what the digests identify: set them, and
     * put the old ones back if the digests cannot follow, so that a
     * refused override still changes nothing. */
    size_t old_size = (prog->npolicies ? prog->npolicies : 1) * sizeof(rv_param);
    rv_param *old = prog->cfg.alloc(prog->cfg.alloc_ud, NULL, 0, old_size);
    if (!old) {
        rv_set_error(err, RV_ENOMEM, "out of memory");
        return RV_ENOMEM;
    }
    for (uint32_t i = 0; i < prog->npolicies; i++) {
        rv_policy *p = prog->policies[i];
        uint32_t j;
        if ((policy && strcmp(p->name, policy) != 0) || !find_param(p, param, &j))
            continue;
        bool to_float = as_float && p->params[j].type == RV_FLOAT;
        old[i] = p->params[j];
        p->params[j].value = to_float ? as_float : v;
        p->params[j].json = to_float ? float_json : json;
    }
    ru_buf scratch;
    ru_buf_init(&scratch, prog->cfg.alloc, prog->cfg.alloc_ud);
    bool digested = rv_program_digest_update(prog, &scratch);
    bool oom = scratch.oom;
    ru_buf_free(&scratch);
    for (uint32_t i = 0; !digested && i < prog->npolicies; i++) {
        rv_policy *p = prog->policies[i];
        uint32_t j;
        if ((policy && strcmp(p->name, policy) != 0) || !find_param(p, param, &j))
            continue;
        p->params[j] = old[i];
    }
    prog->cfg.alloc(prog->cfg.alloc_ud, old, old_size, 0);
    if (digested)
        return RV_OK;
    rv_set_error(err, oom ? RV_ENOMEM : RV_ELIMIT, "%s",
                 oom ? "out of memory" : "the policy set is too large for one bundle");
    return err->status;
}

size_t rv_program_policy_count(const rv_program *prog)
{
    return prog ? prog->npolicies : 0;
}

void rv_program_policy(const rv_program *prog, size_t i, rv_policy_info *info)
{
    memset(info, 0, sizeof *info);
    if (!prog || i >= prog->npolicies)
        return;
    const rv_policy *p = prog->policies[i];
    info->name = p->name;
    info->source = p->source;
    info->priority = p->priority;
    info->checksum = p->checksum;
    info->nkinds = p->nkinds;
    info->kinds = p->kinds;
    info->nparams = p->nparams;
    info->ninstructions = p->ncode;
    info->bundle = p->blob;
    info->target = p->target;
}

const char *rv_program_target(const rv_program *prog, const char *target)
{
    for (uint32_t i = 0; i < prog->ntargets; i++)
        if (strcmp(prog->targets[i], target) == 0)
            return prog->targets[i];
    return NULL;
}


const char *rv_program_digest(const rv_program *prog)
{
    return prog ? prog->digest : NULL;
}

const char *rv_program_policy_digest(const rv_program *prog, size_t i)
{
    return prog && i < prog->npolicies ? prog->policies[i]->digest : NULL;
}

void rv_program_param(const rv_program *prog, size_t i, size_t j, const char **name,
                      const char **value_json)
{
    const rv_param *pa = NULL;
    if (prog && i < prog->npolicies && j < prog->policies[i]->nparams)
        pa = &prog->policies[i]->params[j];
    if (name)
        *name = pa ? pa->name : NULL;
    if (value_json)
        *value_json = pa ? pa->json : NULL;
}

uint32_t rv_program_line(const rv_program *prog, size_t policy, uint32_t pc)
{
    if (!prog || policy >= prog->npolicies)
        return 0;
    const rv_policy *p = prog->policies[policy];
    /* The last entry with entry.pc <= pc. */
    uint32_t lo = 0, hi = p->nlines;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (p->lines[mid].pc <= pc)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? p->lines[lo - 1].line : 0;
}
