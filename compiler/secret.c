/* secret.c - the targets' secret paths, the credential-key rule, the pass
 * SPDX-License-Identifier: Apache-2.0
 * that marks what derives from a secret, and rc_secret_values (secret.h,
 * rulec.h).
 *
 * The marking is a taint analysis over the checked AST, by explicit data
 * flow: a value is secret when it reads a secret path (or a container that
 * holds one: `{configuration.env}` prints every value), or is computed from
 * a secret value by any operator or function (upper(), str(), +, a list
 * built around it). Loop variables carry the static path of what they
 * visit, so `v.value` inside `each v in configuration.probes[0].headers`
 * is known for what it is. A write of a secret value makes its path a
 * secret for the rest of the policy (a read anywhere in the policy sees
 * it, since the order of statements is not followed); the pass repeats
 * until no write adds a path. Conditions are not followed: a message
 * inside `match` on a secret says no more than its own parts (the language
 * has no way to print which branch ran, other than the message itself).
 */
#include "secret.h"

#include "opcodes.h"
#include "rulec.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ---- the targets' lists ---- */

#define MAX_TARGETS 8
#define MAX_PATHS 64   /* per kind: rc_secret_values tracks them per level on the stack */

typedef struct table {
    bool has;            /* the target lists its secrets */
    bool ok;             /* ... and the list could be read */
    rc_secret_kind *kinds;
    size_t n;
} table;

static table tables[MAX_TARGETS];
static ru_arena tables_arena;   /* lives as long as the process */
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

/* One "a.b.*.c" path into segments. */
static bool parse_path(ru_arena *arena, const char *s, size_t len, rc_secret_path *out)
{
    size_t n = 1;
    for (size_t i = 0; i < len; i++)
        n += s[i] == '.';
    rc_secret_seg *segs = ru_arena_alloc(arena, n * sizeof *segs);
    if (!segs)
        return false;
    size_t k = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '.')
            continue;
        if (i == start)
            return false;   /* an empty name */
        bool star = i - start == 1 && s[start] == '*';
        segs[k].key = star ? NULL : ru_arena_strndup(arena, s + start, i - start);
        segs[k].klen = star ? 0 : i - start;
        if (!star && !segs[k].key)
            return false;
        k++;
        start = i + 1;
    }
    out->segs = segs;
    out->n = k;
    return true;
}

bool rc_secret_parse(const char *text, size_t len, ru_arena *arena, rc_secret_kind **kinds, size_t *n)
{
    rv_error err;
    *kinds = NULL;
    *n = 0;
    const rv_node *root = rv_json_parse(arena, text, len, 0, &err);
    if (!root || rv_doc_kind(root) != RV_OBJECT)
        return false;
    rc_secret_kind *out = ru_arena_alloc(arena, (rv_doc_len(root) + 1) * sizeof *out);
    if (!out)
        return false;
    *kinds = out;
    for (size_t i = 0; i < rv_doc_len(root); i++) {
        const char *kind = rv_doc_key(root, i);
        const rv_node *list = rv_doc_value(root, i);
        if (kind[0] == '$')
            continue;
        if (rv_doc_kind(list) != RV_ARRAY || rv_doc_len(list) > MAX_PATHS)
            return false;
        rc_secret_path *paths = ru_arena_alloc(arena, (rv_doc_len(list) + 1) * sizeof *paths);
        if (!paths)
            return false;
        for (size_t j = 0; j < rv_doc_len(list); j++) {
            const rv_node *p = rv_doc_item(list, j);
            if (rv_doc_kind(p) != RV_STRING || !parse_path(arena, rv_doc_string(p), rv_doc_len(p), &paths[j]))
                return false;
        }
        out[(*n)++] = (rc_secret_kind){kind, paths, rv_doc_len(list)};
    }
    return true;
}

/* A target whose documents are made of roots (SkyPilot: task, config)
 * lists its secrets per root; every kind's document has all the roots, so
 * each kind gets every root's paths with the root as a first segment. */
static bool per_kind_from_roots(const rc_target *t, table *tb)
{
    size_t total = 0;
    for (size_t r = 0; r < tb->n; r++)
        total += tb->kinds[r].n;
    if (total > MAX_PATHS)
        return false;
    rc_secret_kind *kinds = ru_arena_alloc(&tables_arena, (t->nkinds + 1) * sizeof *kinds);
    rc_secret_path *paths = ru_arena_alloc(&tables_arena, (total + 1) * sizeof *paths);
    if (!kinds || !paths)
        return false;
    size_t np = 0;
    for (size_t r = 0; r < tb->n; r++) {
        const rc_secret_kind *root = &tb->kinds[r];
        for (size_t j = 0; j < root->n; j++) {
            const rc_secret_path *p = &root->paths[j];
            rc_secret_seg *segs = ru_arena_alloc(&tables_arena, (p->n + 1) * sizeof *segs);
            if (!segs)
                return false;
            segs[0] = (rc_secret_seg){root->kind, strlen(root->kind)};
            memcpy(segs + 1, p->segs, p->n * sizeof *segs);
            paths[np++] = (rc_secret_path){segs, p->n + 1};
        }
    }
    for (size_t k = 0; k < t->nkinds; k++)
        kinds[k] = (rc_secret_kind){t->kinds[k].name, paths, np};
    tb->kinds = kinds;
    tb->n = t->nkinds;
    return true;
}

static void load_tables(void)
{
    ru_arena_init(&tables_arena, NULL, NULL);
    const rc_target *t;
    for (size_t i = 0; i < MAX_TARGETS && (t = rc_target_at(i)); i++) {
        if (!t->secrets)
            continue;
        tables[i].has = true;
        size_t len = (size_t)(t->secrets_end - t->secrets) - 1;   /* without the NUL */
        tables[i].ok = rc_secret_parse(t->secrets, len, &tables_arena, &tables[i].kinds, &tables[i].n);
        if (tables[i].ok && t->nkinds && t->kinds[0].nroots)
            tables[i].ok = per_kind_from_roots(t, &tables[i]);
    }
}

static const table *table_of(const rc_target *t)
{
    pthread_once(&tables_once, load_tables);
    for (size_t i = 0; i < MAX_TARGETS; i++)
        if (rc_target_at(i) == t)
            return &tables[i];
    return NULL;
}

const rc_secret_kind *rc_secret_kind_of(const rc_target *t, const char *kind, bool *ok)
{
    const table *tb = t ? table_of(t) : NULL;
    *ok = !tb || !tb->has || tb->ok;
    if (!tb || !tb->has || !tb->ok)
        return NULL;
    for (size_t i = 0; i < tb->n; i++)
        if (strcmp(tb->kinds[i].kind, kind) == 0)
            return &tb->kinds[i];
    return NULL;
}

/* Whether t has a readable secrets list. */
static bool has_table(const rc_target *t)
{
    const table *tb = t ? table_of(t) : NULL;
    return tb && tb->has && tb->ok;
}

bool rc_secret_key(const char *key, size_t len)
{
    static const char *const words[] = {"password", "passwd", "passphrase", "secret", "token",
                                        "privatekey", "apikey", "accesskey", "authorization",
                                        "credential"};
    char small[256];
    char *norm = len < sizeof small ? small : malloc(len + 1);
    if (!norm)
        return true;   /* cannot tell: a secret */
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = key[i];
        if (c == '-' || c == '_' || c == '.' || c == ' ')
            continue;
        norm[n++] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c == '\0' ? ' ' : c;
    }
    norm[n] = '\0';
    bool found = false;
    for (size_t w = 0; w < sizeof words / sizeof *words && !found; w++)
        found = strstr(norm, words[w]) != NULL;
    if (norm != small)
        free(norm);
    return found;
}

/* ---- marking ---- */

/* A static path: a key, an index (key NULL, !any), or anything (any: a
 * computed key, or an element a loop visits). */
typedef struct pseg {
    const char *key;
    size_t klen;
    bool any;
} pseg;

typedef struct spath {
    pseg *segs;
    size_t n;
} spath;

/* What a loop variable visits. */
typedef struct slot_info {
    bool known;          /* coll is its collection's static path */
    spath coll;
    bool tainted;        /* !known: the collection is secret; known: a
                            computed key on the way there is */
} slot_info;

typedef struct marker {
    ru_arena *arena;
    bool all;            /* no secrets list: every value read counts */
    const rc_secret_kind *kinds[16];   /* of the current `on` block */
    size_t nkinds;
    spath *extra;        /* paths this policy writes secret values to */
    size_t nextra, capextra;
    bool grew;           /* a round added one */
    slot_info slots[RV_SLOTS_MAX];
    bool oom;
} marker;

static bool seg_match(const pseg *a, const rc_secret_seg *s)
{
    if (a->any || !s->key)
        return true;
    return a->key && a->klen == s->klen && memcmp(a->key, s->key, s->klen) == 0;
}

static bool pseg_match(const pseg *a, const pseg *b)
{
    if (a->any || b->any)
        return true;
    if (!a->key || !b->key)
        return !a->key && !b->key;   /* two indices: maybe the same (-1 is the last) */
    return a->klen == b->klen && memcmp(a->key, b->key, a->klen) == 0;
}

/* Whether p is at, below or above the list path s: one of the two is a
 * prefix of the other, segment by segment. */
static bool crosses(const spath *p, const rc_secret_path *s)
{
    for (size_t i = 0; i < p->n && i < s->n; i++)
        if (!seg_match(&p->segs[i], &s->segs[i]))
            return false;
    return true;
}

static bool crosses_path(const spath *p, const spath *q)
{
    for (size_t i = 0; i < p->n && i < q->n; i++)
        if (!pseg_match(&p->segs[i], &q->segs[i]))
            return false;
    return true;
}

/* Whether p is at or below the list path s. */
static bool within(const spath *p, const rc_secret_path *s)
{
    return p->n >= s->n && crosses(p, s);
}

static bool credential_on(const spath *p)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->segs[i].key && rc_secret_key(p->segs[i].key, p->segs[i].klen))
            return true;
    return false;
}

/* Whether reading or writing p touches a secret. */
static bool touches(const marker *m, const spath *p)
{
    if (m->all || credential_on(p))
        return true;
    for (size_t k = 0; k < m->nkinds; k++)
        for (size_t i = 0; m->kinds[k] && i < m->kinds[k]->n; i++)
            if (crosses(p, &m->kinds[k]->paths[i]))
                return true;
    for (size_t i = 0; i < m->nextra; i++)
        if (crosses_path(p, &m->extra[i]))
            return true;
    return false;
}

/* Whether the container at p is itself (within) a secret: then its keys
 * are part of the secret too. */
static bool is_within_secret(const marker *m, const spath *p)
{
    if (m->all || credential_on(p))
        return true;
    for (size_t k = 0; k < m->nkinds; k++)
        for (size_t i = 0; m->kinds[k] && i < m->kinds[k]->n; i++)
            if (within(p, &m->kinds[k]->paths[i]))
                return true;
    for (size_t i = 0; i < m->nextra; i++)
        if (p->n >= m->extra[i].n && crosses_path(p, &m->extra[i]))
            return true;
    return false;
}

/* base, then `*` when elem, then the segments of e from `from` on. */
static bool build(marker *m, const spath *base, bool elem, const rc_expr *e, size_t from, spath *out)
{
    size_t n = (base ? base->n : 0) + (elem ? 1 : 0) + (e ? e->u.path.nseg - from : 0);
    out->segs = ru_arena_alloc(m->arena, (n ? n : 1) * sizeof *out->segs);
    out->n = 0;
    if (!out->segs) {
        m->oom = true;
        return false;
    }
    for (size_t i = 0; base && i < base->n; i++)
        out->segs[out->n++] = base->segs[i];
    if (elem)
        out->segs[out->n++] = (pseg){NULL, 0, true};
    for (size_t i = from; e && i < e->u.path.nseg; i++) {
        const rc_seg *g = &e->u.path.segs[i];
        out->segs[out->n++] = g->expr ? (pseg){NULL, 0, true}
                              : g->is_index ? (pseg){NULL, 0, false}
                                            : (pseg){g->key, g->klen, false};
    }
    return true;
}

static bool secret_expr(marker *m, const rc_expr *e);

/* The static path a spec or loop-variable path reads or writes: false when
 * it has none (a variable over something other than a path), with
 * *tainted telling whether that something is secret. */
static bool static_path(marker *m, const rc_expr *e, spath *out, bool *tainted)
{
    *tainted = false;
    if (e->root == RC_ROOT_SPEC)
        return build(m, NULL, false, e, 0, out);
    const slot_info *si = &m->slots[e->index];
    *tainted = si->tainted;
    return si->known && build(m, &si->coll, true, e, 1, out);
}

/* Any computed key ([expr]) of a path that is secret. */
static bool secret_keys(marker *m, const rc_expr *e)
{
    bool t = false;
    for (size_t i = 0; i < e->u.path.nseg; i++)
        if (e->u.path.segs[i].expr)
            t |= secret_expr(m, e->u.path.segs[i].expr);
    return t;
}

static bool secret_path(marker *m, const rc_expr *e)
{
    bool keys = secret_keys(m, e);
    switch (e->root) {
    case RC_ROOT_CTX:
    case RC_ROOT_PARAM:
        return keys;   /* the request and the administrator's parameters */
    case RC_ROOT_KEY: {
        /* A member's key is a secret only where the whole map is. */
        const slot_info *si = &m->slots[e->index];
        return si->tainted || !si->known || is_within_secret(m, &si->coll);
    }
    case RC_ROOT_SPEC:
    case RC_ROOT_LOCAL:
    case RC_ROOT_WITNESS:   /* a closed quantifier's element: its slot keeps the binding */
        break;
    }
    spath p;
    bool tainted;
    if (!static_path(m, e, &p, &tainted))
        return tainted || keys;
    return keys || tainted || touches(m, &p);
}

/* Binds slot to what `over` visits. */
static void bind(marker *m, uint32_t slot, const rc_expr *over)
{
    slot_info *si = &m->slots[slot];
    si->known = false;
    si->tainted = false;
    if (over->kind == RC_E_PATH && (over->root == RC_ROOT_SPEC || over->root == RC_ROOT_LOCAL ||
                                    over->root == RC_ROOT_WITNESS)) {
        bool tainted;
        si->known = static_path(m, over, &si->coll, &tainted);
        si->tainted = tainted || secret_keys(m, over);
        if (si->known)
            return;
    }
    si->tainted = secret_expr(m, over);
}

static bool secret_expr(marker *m, const rc_expr *e)
{
    bool t = false;
    switch (e->kind) {
    case RC_E_NULL: case RC_E_BOOL: case RC_E_INT: case RC_E_FLOAT: case RC_E_STRING:
        return false;
    case RC_E_LIST:
        for (size_t i = 0; i < e->u.list.n; i++)
            t |= secret_expr(m, e->u.list.items[i]);
        return t;
    case RC_E_MAP:
        for (size_t i = 0; i < e->u.map.n; i++)
            t |= secret_expr(m, e->u.map.entries[i].value);
        return t;
    case RC_E_PATH:
        return secret_path(m, e);
    case RC_E_UNARY:
        return secret_expr(m, e->u.op.lhs);
    case RC_E_BINARY:
        t = secret_expr(m, e->u.op.lhs);
        return secret_expr(m, e->u.op.rhs) || t;
    case RC_E_MATCH:
        return secret_expr(m, e->u.match.lhs);
    case RC_E_CALL:
        for (size_t i = 0; i < e->u.call.nargs; i++)
            t |= secret_expr(m, e->u.call.args[i]);
        return t;
    case RC_E_QUANT:
        t = secret_expr(m, e->u.quant.over);
        bind(m, e->index, e->u.quant.over);
        return secret_expr(m, e->u.quant.cond) || t;
    }
    return true;
}

/* Remembers that the policy writes a secret value at p. */
static void add_extra(marker *m, const spath *p)
{
    for (size_t i = 0; i < m->nextra; i++) {
        const spath *q = &m->extra[i];
        bool same = q->n == p->n;
        for (size_t k = 0; same && k < p->n; k++)
            same = q->segs[k].any == p->segs[k].any && q->segs[k].klen == p->segs[k].klen &&
                   (!q->segs[k].key) == (!p->segs[k].key) &&
                   (!q->segs[k].key || memcmp(q->segs[k].key, p->segs[k].key, p->segs[k].klen) == 0);
        if (same)
            return;
    }
    if (m->nextra == m->capextra) {
        size_t cap = m->capextra ? m->capextra * 2 : 8;
        spath *nx = ru_arena_alloc(m->arena, cap * sizeof *nx);
        if (!nx) {
            m->oom = true;
            return;
        }
        if (m->nextra)
            memcpy(nx, m->extra, m->nextra * sizeof *nx);
        m->extra = nx;
        m->capextra = cap;
    }
    m->extra[m->nextra++] = *p;
    m->grew = true;
}

/* The path a statement writes: false when it is not known (then the write
 * counts as secret). */
static bool write_path(marker *m, const rc_expr *path, spath *out)
{
    bool tainted;
    return path && path->kind == RC_E_PATH && static_path(m, path, out, &tainted) && !tainted;
}

static bool *parts_of(marker *m, rc_stmt *s, size_t n)
{
    if (!s->secret_parts && n) {
        s->secret_parts = ru_arena_alloc(m->arena, n * sizeof *s->secret_parts);
        if (!s->secret_parts)
            m->oom = true;
    }
    return s->secret_parts;
}

static void mark_block(marker *m, rc_stmt *s);

static void mark_write(marker *m, rc_stmt *s, bool value_secret)
{
    spath p;
    if (!write_path(m, s->path, &p)) {
        s->secret_write = true;
        return;
    }
    s->secret_write = value_secret || touches(m, &p);
    if (value_secret)
        add_extra(m, &p);
}

static void mark_stmt(marker *m, rc_stmt *s)
{
    switch (s->kind) {
    case RC_S_SET:
    case RC_S_DEFAULT:
    case RC_S_APPEND:
        mark_write(m, s, secret_expr(m, s->value));
        return;
    case RC_S_UNSET:
        mark_write(m, s, false);
        return;
    case RC_S_TAGS: {
        static rc_seg tags[2] = {
            {false, "configuration", 13, 0, {0, 0, 0, 0}, NULL},
            {false, "tags", 4, 0, {0, 0, 0, 0}, NULL},
        };
        rc_expr deflt;
        memset(&deflt, 0, sizeof deflt);
        deflt.kind = RC_E_PATH;
        deflt.root = RC_ROOT_SPEC;
        deflt.u.path.segs = tags;
        deflt.u.path.nseg = 2;
        spath base;
        bool known = write_path(m, s->path ? s->path : &deflt, &base);
        bool *parts = parts_of(m, s, s->ntags);
        for (size_t i = 0; parts && i < s->ntags; i++) {
            bool v = secret_expr(m, s->tags[i].value);
            /* The tag's own path: the map's, and its key. */
            spath p = {NULL, 0};
            if (known) {
                p.segs = ru_arena_alloc(m->arena, (base.n + 1) * sizeof *p.segs);
                if (!p.segs) {
                    m->oom = true;
                    return;
                }
                memcpy(p.segs, base.segs, base.n * sizeof *p.segs);
                p.segs[base.n] = (pseg){s->tags[i].key, s->tags[i].klen, false};
                p.n = base.n + 1;
            }
            parts[i] = !known || v || touches(m, &p);
            if (known && v)
                add_extra(m, &p);
        }
        return;
    }
    case RC_S_FORBID:
    case RC_S_WARN: {
        bool *parts = parts_of(m, s, s->nparts);
        for (size_t i = 0; parts && i < s->nparts; i++)
            parts[i] = secret_expr(m, s->parts[i]);
        return;
    }
    case RC_S_MATCH:
        mark_block(m, s->body);
        mark_block(m, s->else_body);
        return;
    case RC_S_EACH:
        bind(m, s->slot, s->value);
        mark_block(m, s->body);
        return;
    }
}

static void mark_block(marker *m, rc_stmt *s)
{
    for (; s && !m->oom; s = s->next)
        mark_stmt(m, s);
}

bool rc_secret_mark(rc_checked *checked, const rc_target *t, ru_arena *arena)
{
    marker m;
    memset(&m, 0, sizeof m);
    m.arena = arena;
    bool ok;
    /* Rounds until no write adds a secret path: each round adds at least
     * one of the policy's write paths, so there are at most as many rounds
     * as writes, plus one. */
    do {
        m.grew = false;
        for (rc_on *on = checked->file->ons; on && !m.oom; on = on->next) {
            const char *names[64];
            size_t n = 0;
            for (size_t i = 0; i < on->nkinds && n < 64; i++)
                names[n++] = on->kinds[i].name;
            const rc_target_kind *kinds[16];
            m.nkinds = 0;
            m.all = !has_table(t);
            size_t nk = t && !m.all ? rc_target_block_kinds(t, names, n, kinds, 16) : 0;
            for (size_t k = 0; k < nk; k++) {
                m.kinds[m.nkinds++] = rc_secret_kind_of(t, kinds[k]->name, &ok);
                m.all |= !ok;
            }
            mark_block(&m, on->body);
        }
    } while (m.grew && !m.oom);
    return !m.oom;
}

/* ---- rc_secret_values ---- */

typedef struct finder {
    const rc_secret_kind *kind;   /* NULL: the key rule only */
    bool all;                     /* report every value */
    rc_secret_fn fn;
    void *ud;
    size_t count;
    ru_buf num;
} finder;

/* An active list path at a level: which one and how many of its segments
 * the way down has matched. */
typedef struct active {
    uint8_t path, pos;
} active;

static void report(finder *f, const char *s, size_t n)
{
    if (!n)
        return;
    f->fn(f->ud, s, n);
    f->count++;
}

/* Every string and number below v. */
static void report_all(finder *f, const rv_node *v)
{
    switch (rv_doc_kind(v)) {
    case RV_STRING: {
        const char *s = rv_doc_string(v);
        size_t n = rv_doc_len(v);
        report(f, s, n);
        /* An env list's "NAME=VALUE": the value alone may be printed. */
        const char *eq = memchr(s, '=', n);
        if (eq && eq > s)
            report(f, eq + 1, n - (size_t)(eq + 1 - s));
        return;
    }
    case RV_INT:
    case RV_FLOAT:
        f->num.len = 0;
        rv_format_number(&f->num, v);
        if (!f->num.oom)
            report(f, f->num.data, f->num.len);
        return;
    case RV_ARRAY:
        for (size_t i = 0; i < rv_doc_len(v); i++)
            report_all(f, rv_doc_item(v, i));
        return;
    case RV_OBJECT:
        for (size_t i = 0; i < rv_doc_len(v); i++)
            report_all(f, rv_doc_value(v, i));
        return;
    default:
        return;
    }
}

static void find(finder *f, const rv_node *v, const active *act, size_t nact);

/* One member (key != NULL) or item of a container, with the list paths
 * still active above it. */
static void find_child(finder *f, const rv_node *child, const char *key, size_t klen, const active *act,
                       size_t nact)
{
    if (key && rc_secret_key(key, klen)) {
        report_all(f, child);
        return;
    }
    active next[MAX_PATHS];
    size_t nn = 0;
    for (size_t i = 0; i < nact; i++) {
        const rc_secret_path *p = &f->kind->paths[act[i].path];
        const rc_secret_seg *s = &p->segs[act[i].pos];
        if (s->key && (!key || s->klen != klen || memcmp(s->key, key, klen) != 0))
            continue;
        if (act[i].pos + 1u == p->n) {
            report_all(f, child);
            return;
        }
        next[nn++] = (active){act[i].path, (uint8_t)(act[i].pos + 1)};
    }
    find(f, child, next, nn);
}

static void find(finder *f, const rv_node *v, const active *act, size_t nact)
{
    if (rv_doc_kind(v) == RV_OBJECT) {
        for (size_t i = 0; i < rv_doc_len(v); i++) {
            const char *k = rv_doc_key(v, i);
            find_child(f, rv_doc_value(v, i), k, strlen(k), act, nact);
        }
    } else if (rv_doc_kind(v) == RV_ARRAY) {
        for (size_t i = 0; i < rv_doc_len(v); i++)
            find_child(f, rv_doc_item(v, i), NULL, 0, act, nact);
    }
}

size_t rc_secret_values(const char *target, const char *kind, const rv_doc *spec, rc_secret_fn fn, void *ud)
{
    const rc_target *t = rc_target_find(target ? target : RC_DEFAULT_TARGET);
    bool ok = true;
    finder f;
    memset(&f, 0, sizeof f);
    f.kind = t && kind ? rc_secret_kind_of(t, kind, &ok) : NULL;
    f.fn = fn;
    f.ud = ud;
    if (!spec)
        return 0;
    if (!ok || (f.kind && f.kind->n > MAX_PATHS)) {
        report_all(&f, spec);   /* the list cannot be read: everything */
    } else {
        active all[MAX_PATHS];
        size_t n = f.kind ? f.kind->n : 0;
        for (size_t i = 0; i < n; i++)
            all[i] = (active){(uint8_t)i, 0};
        find(&f, spec, all, n);
    }
    ru_buf_free(&f.num);
    return f.count;
}
