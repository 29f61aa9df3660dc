/* disasm.c - the readable listing of a loaded policy set: what `rulec
 * SPDX-License-Identifier: Apache-2.0
 * disasm` prints and what golden tests pin, so its layout is part of the
 * contract. Every operand is resolved in a trailing comment (constant,
 * path, regex, builtin, jump target) so a listing reads without the tables.
 * The set's and each policy's SHA-256 digest head their parts, so a listing
 * says which bytes it describes.
 */
#include "opcodes.h"
#include "vm_impl.h"

#include <stdio.h>
#include <string.h>

/* Long constants are cut in instruction comments (the K table above has
 * them whole), keeping one instruction per readable line. */
#define COMMENT_MAX 60

static void put_json_string(ru_buf *b, const char *s, size_t n)
{
    rv_node tmp = {.type = RV_STRING, .len = (uint32_t)n, .u.s = s};
    rv_json_compact(b, &tmp);
}

/* /pattern/flags; '/' and control characters escaped so the listing stays
 * one entry per line and reads back as the same regex. */
static void put_regex(ru_buf *b, const rv_regex *r)
{
    static const char hex[] = "0123456789abcdef";
    ru_buf_putc(b, '/');
    for (const char *s = r->pattern; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\\' && s[1]) {
            ru_buf_put(b, s, 2);
            s++;
        } else if (c == '/') {
            ru_buf_puts(b, "\\/");
        } else if (c == '\n') {
            ru_buf_puts(b, "\\n");
        } else if (c < 0x20 || c == 0x7f) {
            char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
            ru_buf_put(b, e, 4);
        } else {
            ru_buf_putc(b, (char)c);
        }
    }
    ru_buf_putc(b, '/');
    if (r->flags & RV_RE_I)
        ru_buf_putc(b, 'i');
    if (r->flags & RV_RE_M)
        ru_buf_putc(b, 'm');
    if (r->flags & RV_RE_S)
        ru_buf_putc(b, 's');
    if (r->flags & RV_RE_X)
        ru_buf_putc(b, 'x');
}

static const char *path_text(const rv_path *p)
{
    return p->text && p->text[0] ? p->text : "(root)";
}

/* Compact JSON of a constant, cut after COMMENT_MAX bytes at a UTF-8
 * character boundary. */
static void put_const_comment(ru_buf *b, const rv_node *n)
{
    size_t start = b->len;
    rv_json_compact(b, n);
    if (b->oom || b->len - start <= COMMENT_MAX)
        return;
    size_t cut = start + COMMENT_MAX - 3;
    while (cut > start && ((unsigned char)b->data[cut] & 0xC0) == 0x80)
        cut--;
    b->len = cut;
    ru_buf_puts(b, "...");
}

static void trim_line(ru_buf *b)
{
    while (!b->oom && b->len && b->data[b->len - 1] == ' ')
        b->len--;
    ru_buf_putc(b, '\n');
}

static void put_instruction(ru_buf *b, const rv_program *prog, size_t pi, uint32_t pc)
{
    static const char *const ctx_names[RV_CTX__COUNT] = {"$user", "$project", "$kind", "$request"};
    const rv_policy *p = prog->policies[pi];
    uint32_t ins = p->code[pc];
    uint32_t op = ins & 0xFFu, ax = RV_GET_AX(ins), a = RV_GET_A(ins), bx = RV_GET_BX(ins);
    uint32_t line = rv_program_line(prog, pi, pc);

    ru_buf_printf(b, "%5u  ", pc);
    if (line)
        ru_buf_printf(b, "L%-3u ", line);
    else
        ru_buf_puts(b, "-    ");
    if (op >= RV_OP__COUNT) { /* cannot pass the verifier; shown, not trusted */
        ru_buf_printf(b, "?%-9u 0x%08x", op, ins);
        trim_line(b);
        return;
    }
    ru_buf_printf(b, "%-10s", rv_opcode_names[op]);
    char operand[24];
    if (rv_opcode_formats[op] == RV_FMT_AX)
        snprintf(operand, sizeof operand, "%u", ax);
    else if (rv_opcode_formats[op] == RV_FMT_ABX)
        snprintf(operand, sizeof operand, "%u,%u", a, bx);
    else
        operand[0] = '\0';
    ru_buf_printf(b, " %-8s ; ", operand);

    size_t mark = b->len;
    switch ((rv_operand)rv_opcode_operands[op]) {
    case RV_OPND_CONST:
        if (ax < p->nconsts)
            put_const_comment(b, p->consts[ax]);
        break;
    case RV_OPND_CTX:
        if (ax < RV_CTX__COUNT)
            ru_buf_puts(b, ctx_names[ax]);
        break;
    case RV_OPND_PARAM:
        if (ax < p->nparams)
            ru_buf_printf(b, "$%s", p->params[ax].name);
        break;
    case RV_OPND_PATH:
    case RV_OPND_WPATH:
        if (ax < p->npaths)
            ru_buf_puts(b, path_text(&p->paths[ax]));
        break;
    case RV_OPND_REGEX:
        if (ax < p->nregex)
            put_regex(b, &p->regex[ax]);
        break;
    case RV_OPND_BUILTIN:
        if (ax < RV_BI__COUNT)
            ru_buf_printf(b, "%s/%u", rv_builtin_names[ax], rv_builtin_arity[ax]);
        break;
    case RV_OPND_JUMP:
        ru_buf_printf(b, "-> %lu", (unsigned long)pc + 1 + ax);
        break;
    case RV_OPND_LOOP_EXIT:
        ru_buf_printf(b, "L[%u], %s -> %lu", a,
                      op == RV_OP_EACH_PAIRS ? "not a map or empty"
                      : op == RV_OP_EACH_BEGIN || op == RV_OP_SUM_BEGIN ? "not a list or empty"
                                                                         : "empty",
                      (unsigned long)pc + 1 + bx);
        break;
    case RV_OPND_LOOP_BACK:
        ru_buf_printf(b, "L[%u], loop -> %ld", a, (long)pc - (long)bx);
        break;
    case RV_OPND_SLOT:
        ru_buf_printf(b, "L[%u]", ax);
        break;
    case RV_OPND_KEY:
        ru_buf_printf(b, "key of L[%u]", ax);
        break;
    case RV_OPND_WITNESS:
        ru_buf_printf(b, "where L[%u] stopped", ax);
        break;
    case RV_OPND_EACH_IN:
        /* each ... in configuration.replicas / in L[0].items */
        if (a)
            ru_buf_printf(b, "in L[%u]", a - 1);
        else
            ru_buf_puts(b, "in ");
        if (bx < p->npaths && (p->paths[bx].nseg || !a))
            ru_buf_printf(b, "%s%s", a && p->paths[bx].segs[0].key ? "." : "",
                          path_text(&p->paths[bx]));
        break;
    case RV_OPND_EACH_WPATH:
        ru_buf_printf(b, "L[%u]", a);
        if (bx < p->npaths)
            ru_buf_printf(b, "%s%s", p->paths[bx].nseg && p->paths[bx].segs[0].key ? "." : "",
                          path_text(&p->paths[bx]));
        break;
    case RV_OPND_SECRET: {
        /* What it marks: the first instruction after the run of SECRETs. */
        uint32_t at = pc + 1;
        while (at < p->ncode && (p->code[at] & 0xFFu) == RV_OP_SECRET)
            at++;
        uint32_t target = at < p->ncode ? p->code[at] & 0xFFu : RV_OP__COUNT;
        if (target == RV_OP_FORMAT)
            ru_buf_printf(b, "part %u of the FORMAT at %u is secret", ax, at);
        else if (target < RV_OP__COUNT)
            ru_buf_printf(b, "the change of the %s at %u is secret", rv_opcode_names[target], at);
        break;
    }
    case RV_OPND_NONE:
        if (op == RV_OP_INDEX)
            ru_buf_puts(b, "S[-2][S[-1]]: computed key");
        break;
    case RV_OPND_NVALUES:
    case RV_OPND_NPAIRS:
        break;
    }
    if (!b->oom && b->len == mark)
        b->len = mark - 2; /* no comment: drop the "; " */
    trim_line(b);
}

static void put_policy(ru_buf *b, const rv_program *prog, size_t pi)
{
    const rv_policy *p = prog->policies[pi];
    ru_buf_puts(b, "policy ");
    put_json_string(b, p->name, strlen(p->name));
    ru_buf_printf(b, " priority %ld  source %s  kinds ", (long)p->priority,
                  p->source[0] ? p->source : "-");
    if (p->nkinds == 0)
        ru_buf_putc(b, '*');
    for (uint32_t i = 0; i < p->nkinds; i++) {
        if (i)
            ru_buf_putc(b, ',');
        ru_buf_puts(b, p->kinds[i]);
    }
    ru_buf_printf(b, "  target %s  checksum 0x%08x\n", p->target, p->checksum);
    ru_buf_printf(b, "  sha256 %s\n", p->digest);

    for (uint32_t i = 0; i < p->nparams; i++)
        ru_buf_printf(b, "  param %s = %s\n", p->params[i].name, p->params[i].json);
    for (uint32_t i = 0; i < p->nconsts; i++) {
        ru_buf_printf(b, "  K[%u] = ", i);
        rv_json_compact(b, p->consts[i]);
        ru_buf_putc(b, '\n');
    }
    for (uint32_t i = 0; i < p->nregex; i++) {
        ru_buf_printf(b, "  R[%u] = ", i);
        put_regex(b, &p->regex[i]);
        ru_buf_putc(b, '\n');
    }
    for (uint32_t i = 0; i < p->npaths; i++)
        ru_buf_printf(b, "  P[%u] = %s\n", i, path_text(&p->paths[i]));
    ru_buf_printf(b, "  code %u instructions, stack %u, slots %u\n", p->ncode, p->max_stack,
                  p->nslots);
    for (uint32_t pc = 0; pc < p->ncode; pc++)
        put_instruction(b, prog, pi, pc);
}

rv_status rv_program_disasm(const rv_program *prog, rv_vm *vm, const char **out, size_t *len,
                            rv_error *err)
{
    if (out)
        *out = NULL;
    if (len)
        *len = 0;
    if (!prog || !vm || !out) {
        rv_set_error(err, RV_EINPUT, "rv_program_disasm: no program, no VM or no place for the text");
        return RV_EINPUT;
    }
    /* The VM's print buffer: printed text of every kind follows one rule. */
    ru_buf *b = &vm->out;
    b->len = 0;
    b->oom = false;
    /* What identifies the set: sha256sum of the bundle rulec compile
     * writes for it. */
    ru_buf_printf(b, "set sha256 %s  policies %u\n\n", prog->digest, prog->npolicies);
    for (size_t i = 0; i < prog->npolicies; i++) {
        if (i)
            ru_buf_putc(b, '\n');
        put_policy(b, prog, i);
    }
    ru_buf_terminate(b);
    if (b->oom || !b->data) {
        rv_set_error(err, RV_ENOMEM, "out of memory writing the listing");
        return RV_ENOMEM;
    }
    *out = b->data;
    if (len)
        *len = b->len;
    return RV_OK;
}
