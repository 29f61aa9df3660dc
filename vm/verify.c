/* verify.c - proves a decoded policy safe to run before it ever runs, as
 * SPDX-License-Identifier: Apache-2.0
 * libpcap's bpf_validate does for filters: every operand in range, every
 * jump forward and in range, quantifiers properly nested, a known stack depth
 * at every reachable instruction, and every name (policy, kind, parameter,
 * constant map key) non-empty where it must be and never given twice. The interpreter relies on this and does no
 * per-step checking at all.
 */
#include "opcodes.h"
#include "program.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An open quantifier while scanning its body. */
typedef struct vloop {
    uint32_t begin;  /* pc of X_BEGIN */
    uint32_t exit;   /* its exit target: must be the pc after X_NEXT */
    uint32_t slot;
    rv_opcode begin_op;  /* ANY_BEGIN, ALL_BEGIN, SUM_BEGIN, EACH_BEGIN or EACH_PAIRS */
} vloop;

typedef struct verifier {
    rv_policy *p;
    rv_error *err;
    int32_t *loop_of;  /* per pc: X_BEGIN pc of the innermost loop holding it, -1 */
    int32_t *depth;    /* per pc: stack depth on entry, -1 while unknown */
} verifier;

static const char *op_name(uint32_t ins, char *tmp, size_t n)
{
    uint32_t op = ins & 0xFFu;
    if (op < RV_OP__COUNT)
        return rv_opcode_names[op];
    snprintf(tmp, n, "opcode %u", op);
    return tmp;
}

/* "policy 'NAME': pc N (OP): what", or without the pc part when pc < 0. */
static bool fail(verifier *v, int64_t pc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool fail(verifier *v, int64_t pc, const char *fmt, ...)
{
    if (!v->err)
        return false;
    char what[320], tmp[24];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    const char *name = v->p->name ? v->p->name : "?";
    if (pc >= 0)
        rv_set_error(v->err, RV_EVERIFY, "policy '%s': pc %u (%s): %s", name, (unsigned)pc,
                     op_name(v->p->code[pc], tmp, sizeof tmp), what);
    else
        rv_set_error(v->err, RV_EVERIFY, "policy '%s': %s", name, what);
    v->err->line = v->err->column = 0;
    return false;
}

static bool is_jump(uint32_t op)
{
    return rv_opcode_operands[op] == RV_OPND_JUMP;
}

/* Writes to a spec path: never inside any loop body, so no loop can change
 * the collection it iterates (or any ancestor of it). */
static bool is_spec_write(uint32_t op)
{
    switch (op) {
    case RV_OP_SET: case RV_OP_DEFAULT: case RV_OP_UNSET: case RV_OP_APPEND:
    case RV_OP_TAG:
        return true;
    default:
        return false;
    }
}

/* Statements an EACH body may hold (a quantifier body, an expression, may
 * hold none of them). Writes below the element (SET_EL ...) are checked with
 * their operands. */
static bool is_body_statement(uint32_t op)
{
    switch (op) {
    case RV_OP_FORBID: case RV_OP_WARN: case RV_OP_EACH_IN: case RV_OP_EACH_BEGIN:
    case RV_OP_EACH_PAIRS:
        return true;
    default:
        return false;
    }
}

/* A loop of statements: over a list's items (EACH_BEGIN) or a map's
 * members (EACH_PAIRS). */
static bool is_each(rv_opcode begin_op)
{
    return begin_op == RV_OP_EACH_BEGIN || begin_op == RV_OP_EACH_PAIRS;
}

static vloop *open_loop(vloop *open, uint32_t nopen, uint32_t slot)
{
    for (uint32_t i = 0; i < nopen; i++)
        if (open[i].slot == slot)
            return &open[i];
    return NULL;
}

/* Whether op records changes: what a SECRET before it marks. */
static bool is_write(uint32_t op)
{
    return is_spec_write(op) || (op < RV_OP__COUNT && rv_opcode_operands[op] == RV_OPND_EACH_WPATH);
}

/* SECRET Ax marks value Ax of the first instruction after it that is not a
 * SECRET (the compiler emits them right before it): a FORMAT's part, below
 * its count, or a write's change, 0. A mark that names nothing would be a
 * compiler slip a host could not see. */
static bool check_secret(verifier *v, uint32_t pc)
{
    const rv_policy *p = v->p;
    uint32_t ax = RV_GET_AX(p->code[pc]), at = pc + 1;
    while (at < p->ncode && (p->code[at] & 0xFFu) == RV_OP_SECRET)
        at++;
    uint32_t op = at < p->ncode ? p->code[at] & 0xFFu : RV_OP__COUNT;
    if (op == RV_OP_FORMAT) {
        if (ax >= RV_GET_AX(p->code[at]))
            return fail(v, pc, "marks part %u of the FORMAT at pc %u, which has %u", ax, at,
                        RV_GET_AX(p->code[at]));
        return true;
    }
    if (is_write(op)) {
        if (ax != 0)
            return fail(v, pc, "marks value %u of the %s at pc %u: a write's change is 0", ax,
                        rv_opcode_names[op], at);
        return true;
    }
    return fail(v, pc, "not followed by a FORMAT or a write (SET, DEFAULT, UNSET, APPEND, TAG, "
                "or their _EL forms)");
}

/* Pass 1: opcodes, operand ranges, quantifier nesting. Fills loop_of. */
static bool check_structure(verifier *v)
{
    rv_policy *p = v->p;
    vloop open[RV_SLOTS_MAX];
    uint32_t nopen = 0;

    for (uint32_t pc = 0; pc < p->ncode; pc++) {
        uint32_t ins = p->code[pc];
        uint32_t op = ins & 0xFFu;
        if (op >= RV_OP__COUNT)
            return fail(v, pc, "unknown opcode");
        v->loop_of[pc] = nopen ? (int32_t)open[nopen - 1].begin : -1;

        uint32_t ax = RV_GET_AX(ins), a = RV_GET_A(ins), bx = RV_GET_BX(ins);
        /* Unused operand bits must be zero: one encoding per instruction. */
        if (rv_opcode_formats[op] == RV_FMT_NONE && ax != 0)
            return fail(v, pc, "operand %u on an instruction that takes none", ax);
        if (nopen) {
            const vloop *in = &open[nopen - 1];
            bool statement = op == RV_OP_HALT || is_spec_write(op) || is_body_statement(op) ||
                             rv_opcode_operands[op] == RV_OPND_EACH_WPATH;
            if (!is_each(in->begin_op) && statement)
                return fail(v, pc, "not allowed inside a quantifier body (opened at pc %u)",
                            in->begin);
            if (op == RV_OP_HALT || is_spec_write(op))
                return fail(v, pc, "not allowed inside an EACH body (%s at pc %u): it "
                            "may write only below its element (SET_EL ...), so its list cannot "
                            "change", rv_opcode_names[in->begin_op], in->begin);
        }
        /* EACH_IN holds EACH_BEGIN's (or EACH_PAIRS') operands: the two
         * always come as a pair. */
        if (op == RV_OP_EACH_IN &&
            (pc + 1 >= p->ncode || !is_each((rv_opcode)(p->code[pc + 1] & 0xFFu))))
            return fail(v, pc, "not followed by EACH_BEGIN or EACH_PAIRS");
        if (is_each((rv_opcode)op) && (pc == 0 || (p->code[pc - 1] & 0xFFu) != RV_OP_EACH_IN))
            return fail(v, pc, "not preceded by EACH_IN, which names its %s",
                        op == RV_OP_EACH_PAIRS ? "map" : "list");

        switch ((rv_operand)rv_opcode_operands[op]) {
        case RV_OPND_CONST:
            if (ax >= p->nconsts)
                return fail(v, pc, "constant %u out of range (%u constants)", ax, p->nconsts);
            break;
        case RV_OPND_CTX:
            if (ax >= RV_CTX__COUNT)
                return fail(v, pc, "context index %u out of range (%u)", ax, RV_CTX__COUNT);
            break;
        case RV_OPND_PARAM:
            if (ax >= p->nparams)
                return fail(v, pc, "parameter %u out of range (%u parameters)", ax, p->nparams);
            break;
        case RV_OPND_PATH:
            if (ax >= p->npaths)
                return fail(v, pc, "path %u out of range (%u paths)", ax, p->npaths);
            break;
        case RV_OPND_WPATH:
            if (ax >= p->npaths)
                return fail(v, pc, "path %u out of range (%u paths)", ax, p->npaths);
            if (p->paths[ax].nseg == 0)
                return fail(v, pc, "writes through path %u, which is empty", ax);
            break;
        case RV_OPND_REGEX:
            if (ax >= p->nregex)
                return fail(v, pc, "regex %u out of range (%u regexes)", ax, p->nregex);
            break;
        case RV_OPND_BUILTIN:
            if (ax >= RV_BI__COUNT)
                return fail(v, pc, "builtin %u out of range (%u builtins)", ax, RV_BI__COUNT);
            break;
        case RV_OPND_SLOT: {
            bool found = false;
            for (uint32_t i = 0; i < nopen; i++)
                found |= open[i].slot == ax;
            if (!found)
                return fail(v, pc, "slot %u is not open here", ax);
            break;
        }
        case RV_OPND_JUMP: {
            uint64_t t = (uint64_t)pc + 1 + ax;
            if (t > p->ncode - 1)
                return fail(v, pc, "jump target %llu out of range (last pc %u; jumps go forward)",
                            (unsigned long long)t, p->ncode - 1);
            break;
        }
        case RV_OPND_LOOP_EXIT: {
            if (a >= p->nslots)
                return fail(v, pc, "slot %u out of range (%u slots)", a, p->nslots);
            for (uint32_t i = 0; i < nopen; i++)
                if (open[i].slot == a)
                    return fail(v, pc, "slot %u is already open (quantifier at pc %u)", a,
                                open[i].begin);
            uint64_t t = (uint64_t)pc + 1 + bx;
            if (t > p->ncode - 1)
                return fail(v, pc, "exit target %llu out of range (last pc %u)",
                            (unsigned long long)t, p->ncode - 1);
            /* Distinct slots below nslots <= RV_SLOTS_MAX: nopen < RV_SLOTS_MAX. */
            open[nopen++] = (vloop){pc, (uint32_t)t, a, (rv_opcode)op};
            break;
        }
        case RV_OPND_LOOP_BACK: {
            if (nopen == 0)
                return fail(v, pc, "no open quantifier to close");
            vloop *l = &open[nopen - 1];
            bool closes = op == RV_OP_ANY_NEXT   ? l->begin_op == RV_OP_ANY_BEGIN
                          : op == RV_OP_ALL_NEXT ? l->begin_op == RV_OP_ALL_BEGIN
                          : op == RV_OP_SUM_NEXT ? l->begin_op == RV_OP_SUM_BEGIN
                                                 : is_each(l->begin_op);
            if (!closes)
                return fail(v, pc, "closes the %s at pc %u", rv_opcode_names[l->begin_op],
                            l->begin);
            if (a != l->slot)
                return fail(v, pc, "slot %u, but the quantifier at pc %u uses slot %u", a,
                            l->begin, l->slot);
            if (bx > pc || pc - bx != l->begin + 1)
                return fail(v, pc, "loops back to pc %lld, not to the body start %u",
                            (long long)pc - bx, l->begin + 1);
            if (l->exit != pc + 1)
                return fail(v, pc, "the quantifier at pc %u exits to pc %u, not to pc %u after it",
                            l->begin, l->exit, pc + 1);
            nopen--;
            break;
        }
        case RV_OPND_EACH_IN: {
            if (bx >= p->npaths)
                return fail(v, pc, "path %u out of range (%u paths)", bx, p->npaths);
            if (a == 0)
                break;
            const vloop *l = open_loop(open, nopen, a - 1);
            if (!l || !is_each(l->begin_op))
                return fail(v, pc, "the list is below the element of slot %u, which no open EACH "
                            "loop holds", a - 1);
            break;
        }
        case RV_OPND_EACH_WPATH: {
            /* Below the innermost element only: an outer element holds the
             * inner loop's list, which must not change while it runs. */
            if (nopen == 0)
                return fail(v, pc, "writes below an element outside any EACH loop");
            const vloop *in = &open[nopen - 1];
            if (a != in->slot)
                return fail(v, pc, "writes below the element of slot %u, but only the innermost "
                            "loop's element (slot %u, %s at pc %u) may be written", a,
                            in->slot, rv_opcode_names[in->begin_op], in->begin);
            if (bx >= p->npaths)
                return fail(v, pc, "path %u out of range (%u paths)", bx, p->npaths);
            if (p->paths[bx].nseg == 0)
                return fail(v, pc, "writes the element itself (path %u is empty): only below it",
                            bx);
            break;
        }
        case RV_OPND_KEY: {
            /* Only a map loop's slot has a key: the interpreter reads the
             * member's key, which a list (or a quantifier's collection,
             * list or map) does not have. */
            const vloop *l = open_loop(open, nopen, ax);
            if (!l)
                return fail(v, pc, "slot %u is not open here", ax);
            if (l->begin_op != RV_OP_EACH_PAIRS)
                return fail(v, pc, "slot %u is opened by %s at pc %u, not by EACH_PAIRS: only a "
                            "map's members have keys", ax, rv_opcode_names[l->begin_op], l->begin);
            break;
        }
        case RV_OPND_WITNESS:
            /* After its quantifier: an open slot is read with LOCAL. */
            if (ax >= p->nslots)
                return fail(v, pc, "slot %u out of range (%u slots)", ax, p->nslots);
            if (open_loop(open, nopen, ax))
                return fail(v, pc, "slot %u is open here: its element is read with LOCAL", ax);
            break;
        case RV_OPND_SECRET:
            if (!check_secret(v, pc))
                return false;
            break;
        case RV_OPND_NONE:
        case RV_OPND_NVALUES:
        case RV_OPND_NPAIRS:
            break;
        }
    }
    if (nopen)
        return fail(v, open[nopen - 1].begin, "quantifier is never closed");
    return true;
}

/* Pass 2: a jump stays within its innermost loop (X_NEXT counts as inside,
 * the instruction after it as outside), so loop state is the same on every
 * path into an instruction. */
static bool check_jump_scopes(verifier *v)
{
    rv_policy *p = v->p;
    for (uint32_t pc = 0; pc < p->ncode; pc++) {
        uint32_t ins = p->code[pc];
        if (!is_jump(ins & 0xFFu))
            continue;
        uint32_t t = pc + 1 + RV_GET_AX(ins);
        if (v->loop_of[pc] != v->loop_of[t])
            return fail(v, pc, "jump to pc %u crosses a quantifier boundary", t);
    }
    return true;
}

static bool merge(verifier *v, uint32_t pc, uint32_t target, int32_t d)
{
    if (v->depth[target] >= 0 && v->depth[target] != d)
        return fail(v, pc, "stack depth %d at target pc %u, which is entered with depth %d elsewhere",
                    d, target, v->depth[target]);
    v->depth[target] = d;
    return true;
}

/* Pass 3: stack depth. Every edge but X_NEXT's goes forward, so one pass in
 * pc order sees every way into an instruction before reaching it. Code that
 * nothing reaches (after JMP or HALT, with no jump in) is skipped: its
 * operands were checked in pass 1 and it never runs, so it needs no depth,
 * and the jumps it holds are not recorded either. */
static bool check_stack(verifier *v)
{
    rv_policy *p = v->p;
    for (uint32_t pc = 0; pc < p->ncode; pc++)
        v->depth[pc] = -1;

    int32_t fall = 0;  /* depth flowing into pc from pc-1 */
    bool live = true;  /* pc 0 is entered with an empty stack */
    int32_t maxd = 0;

    for (uint32_t pc = 0; pc < p->ncode; pc++) {
        uint32_t ins = p->code[pc];
        uint32_t op = ins & 0xFFu, ax = RV_GET_AX(ins), bx = RV_GET_BX(ins);
        int32_t d;
        if (live) {
            d = fall;
            if (v->depth[pc] >= 0 && v->depth[pc] != d)
                return fail(v, pc, "stack depth %d on fall-through, but %d from a jump", d,
                            v->depth[pc]);
        } else if (v->depth[pc] >= 0) {
            d = v->depth[pc];
        } else {
            continue;
        }
        v->depth[pc] = d;
        live = true;

        int64_t pops = rv_opcode_pops[op];
        if (pops == RV_VAR) {
            switch (rv_opcode_operands[op]) {
            case RV_OPND_BUILTIN: pops = rv_builtin_arity[ax]; break;
            case RV_OPND_NVALUES: pops = ax; break;
            case RV_OPND_NPAIRS: pops = 2 * (int64_t)ax; break;
            default: return fail(v, pc, "no stack effect defined"); /* an opcodes.h slip */
            }
        }
        if (pops > d)
            return fail(v, pc, "stack underflow: needs %lld values, has %d", (long long)pops, d);
        int64_t nd = d - pops + rv_opcode_pushes[op];
        if (nd > RV_STACK_MAX)
            return fail(v, pc, "stack overflow: depth %lld exceeds %d", (long long)nd,
                        RV_STACK_MAX);
        if (nd > maxd)
            maxd = (int32_t)nd;

        switch ((rv_opcode)op) {
        case RV_OP_HALT:
            if (d != 0)
                return fail(v, pc, "stack depth %d at HALT (statements must leave nothing)", d);
            live = false;
            break;
        case RV_OP_JMP:
            if (!merge(v, pc, pc + 1 + ax, d))
                return false;
            live = false;
            break;
        case RV_OP_JFALSE:
        case RV_OP_JTRUE:
            if (!merge(v, pc, pc + 1 + ax, d - 1))
                return false;
            fall = d - 1;
            break;
        case RV_OP_JNOTNULL:
            /* Taken: the non-null value stays; fall-through: it was popped. */
            if (!merge(v, pc, pc + 1 + ax, d))
                return false;
            fall = d - 1;
            break;
        case RV_OP_ANY_BEGIN:
        case RV_OP_ALL_BEGIN:
        case RV_OP_SUM_BEGIN:
            /* Empty collection: the result is pushed and the body skipped. */
            if (!merge(v, pc, pc + 1 + bx, d))
                return false;
            fall = d - 1;
            break;
        case RV_OP_EACH_BEGIN:
        case RV_OP_EACH_PAIRS:
            /* A statement: nothing on the stack, on entry to the body, on
             * the way past it, and (EACH_NEXT) on every way back. */
            if (d != 0)
                return fail(v, pc, "stack depth %d at a loop of statements (must be 0)", d);
            if (!merge(v, pc, pc + 1 + bx, d))
                return false;
            fall = d;
            break;
        case RV_OP_EACH_NEXT:
            if (d != 0 || v->depth[pc - bx] != 0)
                return fail(v, pc, "stack depth %d at the end of a loop body starting at %d "
                            "(both must be 0)", d, v->depth[pc - bx]);
            fall = d;
            break;
        case RV_OP_ANY_NEXT:
        case RV_OP_ALL_NEXT:
        case RV_OP_SUM_NEXT: {
            /* The backward edge carries the body's start depth: each round
             * of the body must consume exactly its condition (or term). */
            uint32_t start = pc - bx;
            if (v->depth[start] != d - 1)
                return fail(v, pc, "the body leaves depth %d below its condition, but starts at %d",
                            d - 1, v->depth[start]);
            fall = d;
            break;
        }
        default:
            fall = (int32_t)nd;
            break;
        }
    }
    p->max_stack = (uint32_t)maxd;
    return true;
}

/* ---- Names and constant values: one meaning each ----
 * A policy is found by its name, runs for its kinds, and reads its
 * parameters and map constants by name or key: an empty name, or two of
 * one name, would make which one is meant depend on lookup order (the
 * first of two keys wins a lookup; `==` and printing see both). The
 * compiler never writes such a bundle; a crafted or damaged one is
 * refused. */

typedef struct vname {
    const char *s;
    uint32_t len;
} vname;

static int compare_names(const void *a, const void *b)
{
    const vname *x = a, *y = b;
    uint32_t n = x->len < y->len ? x->len : y->len;
    int c = n ? memcmp(x->s, y->s, n) : 0;
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* A name as a message shows it: quoted, cut at 40 bytes, bytes other than
 * printable ASCII as \xNN. */
static const char *shown(const vname *n, char *out, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    out[o++] = '"';
    for (uint32_t i = 0; i < n->len && o + 8 < size; i++) {
        unsigned char c = (unsigned char)n->s[i];
        if (i == 40) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        } else {
            out[o++] = (char)c;
        }
    }
    out[o++] = '"';
    out[o] = '\0';
    return out;
}

/* Whether names[0..n) holds one name twice; *dup is then one of them.
 * Small lists are compared pairwise; larger ones sorted in scratch memory
 * (n log n, however hostile the bundle). false with RV_ENOMEM in *oom. */
static bool has_duplicate(vname *names, size_t n, rv_alloc_fn alloc, void *ud, vname *dup, bool *oom)
{
    *oom = false;
    if (n <= 16) {
        for (size_t i = 0; i < n; i++)
            for (size_t j = i + 1; j < n; j++)
                if (compare_names(&names[i], &names[j]) == 0) {
                    *dup = names[i];
                    return true;
                }
        return false;
    }
    vname *sorted = alloc(ud, NULL, 0, n * sizeof *sorted);
    if (!sorted) {
        *oom = true;
        return false;
    }
    memcpy(sorted, names, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, compare_names);
    bool found = false;
    for (size_t i = 1; i < n && !found; i++)
        if (compare_names(&sorted[i - 1], &sorted[i]) == 0) {
            *dup = sorted[i];
            found = true;
        }
    alloc(ud, sorted, n * sizeof *sorted, 0);
    return found;
}

typedef struct name_check {
    verifier *v;
    rv_alloc_fn alloc;
    void *ud;
} name_check;

static bool no_memory(name_check *nc)
{
    if (nc->v->err) {
        rv_set_error(nc->v->err, RV_ENOMEM, "policy '%s': out of memory verifying",
                     nc->v->p->name ? nc->v->p->name : "?");
        nc->v->err->line = nc->v->err->column = 0;
    }
    return false;
}

/* Every map in a constant value (what: "constant K[3]") has each key once.
 * The loader bounds the nesting (RV_CONST_DEPTH_MAX), so this recursion
 * is bounded too. */
static bool check_value_keys(name_check *nc, const rv_node *n, const char *what)
{
    if (n->type == RV_ARRAY) {
        for (uint32_t i = 0; i < n->len; i++)
            if (!check_value_keys(nc, n->u.items[i], what))
                return false;
        return true;
    }
    if (n->type != RV_OBJECT)
        return true;
    vname small[16], *keys = small;
    size_t size = n->len * sizeof *keys;
    if (n->len > 16 && !(keys = nc->alloc(nc->ud, NULL, 0, size)))
        return no_memory(nc);
    for (uint32_t i = 0; i < n->len; i++)
        keys[i] = (vname){n->u.members[i].key, n->u.members[i].klen};
    vname dup;
    bool oom, twice = has_duplicate(keys, n->len, nc->alloc, nc->ud, &dup, &oom);
    char tmp[180];
    if (twice)
        fail(nc->v, -1, "%s holds a map with the key %s twice", what, shown(&dup, tmp, sizeof tmp));
    if (keys != small)
        nc->alloc(nc->ud, keys, size, 0);
    if (oom)
        return no_memory(nc);
    if (twice)
        return false;
    for (uint32_t i = 0; i < n->len; i++)
        if (!check_value_keys(nc, n->u.members[i].value, what))
            return false;
    return true;
}

/* Names (of the policy, its kinds and its parameters) and constant maps. */
static bool check_names(verifier *v, rv_alloc_fn alloc, void *ud)
{
    rv_policy *p = v->p;
    name_check nc = {v, alloc, ud};
    char tmp[180], what[200];
    if (!p->name || !p->name[0])
        return fail(v, -1, "the policy's name is empty");
    if (!p->target || !p->target[0])
        return fail(v, -1, "the policy names no target");

    uint32_t most = p->nkinds > p->nparams ? p->nkinds : p->nparams;
    vname *names = most ? alloc(ud, NULL, 0, most * sizeof *names) : NULL;
    if (most && !names)
        return no_memory(&nc);
    bool ok = true, oom = false;
    vname dup;
    for (uint32_t i = 0; i < p->nkinds && ok; i++) {
        names[i] = (vname){p->kinds[i], (uint32_t)strlen(p->kinds[i])};
        if (!names[i].len)
            ok = fail(v, -1, "kind %u has an empty name", i);
    }
    if (ok && has_duplicate(names, p->nkinds, alloc, ud, &dup, &oom))
        ok = fail(v, -1, "the kind %s is listed twice", shown(&dup, tmp, sizeof tmp));
    for (uint32_t i = 0; i < p->nparams && ok && !oom; i++) {
        names[i] = (vname){p->params[i].name, (uint32_t)strlen(p->params[i].name)};
        if (!names[i].len)
            ok = fail(v, -1, "parameter %u has an empty name", i);
    }
    if (ok && !oom && has_duplicate(names, p->nparams, alloc, ud, &dup, &oom))
        ok = fail(v, -1, "two parameters are named %s", shown(&dup, tmp, sizeof tmp));
    if (names)
        alloc(ud, names, most * sizeof *names, 0);
    if (oom)
        return no_memory(&nc);
    if (!ok)
        return false;

    for (uint32_t i = 0; i < p->nconsts; i++) {
        snprintf(what, sizeof what, "constant K[%u]", i);
        if (!check_value_keys(&nc, p->consts[i], what))
            return false;
    }
    for (uint32_t i = 0; i < p->nparams; i++) {
        snprintf(what, sizeof what, "the value of parameter '%s'", p->params[i].name);
        if (!check_value_keys(&nc, p->params[i].value, what))
            return false;
    }
    return true;
}

bool rv_verify_policy_alloc(rv_policy *p, rv_alloc_fn alloc, void *ud, rv_error *err)
{
    verifier v = {p, err, NULL, NULL};
    if (!alloc)
        alloc = ru_default_alloc;
    if (!check_names(&v, alloc, ud))
        return false;
    if (p->ncode == 0)
        return fail(&v, -1, "no code (a policy ends in HALT)");
    if (p->nslots > RV_SLOTS_MAX)
        return fail(&v, -1, "%u quantifier slots, at most %d", p->nslots, RV_SLOTS_MAX);
    if (p->ncode > INT32_MAX / 2)
        return fail(&v, -1, "%u instructions, too many", p->ncode);
    if ((p->code[p->ncode - 1] & 0xFFu) != RV_OP_HALT)
        return fail(&v, p->ncode - 1, "the last instruction is not HALT");

    size_t size = (size_t)p->ncode * 2 * sizeof(int32_t);
    int32_t *scratch = alloc(ud, NULL, 0, size);
    if (!scratch) {
        if (err) {
            rv_set_error(err, RV_ENOMEM, "policy '%s': out of memory verifying",
                         p->name ? p->name : "?");
            err->line = err->column = 0;
        }
        return false;
    }
    v.loop_of = scratch;
    v.depth = scratch + p->ncode;
    bool ok = check_structure(&v) && check_jump_scopes(&v) && check_stack(&v);
    alloc(ud, scratch, size, 0);
    return ok;
}

bool rv_verify_policy(rv_policy *p, rv_error *err)
{
    return rv_verify_policy_alloc(p, NULL, NULL, err);
}
