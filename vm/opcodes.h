/* opcodes.h - the instruction set, defined once (internal).
 * SPDX-License-Identifier: Apache-2.0
 *
 * One X-macro list generates the opcode enum, the name table, the operand
 * kind (hence format) and stack effect the verifier checks, and the
 * disassembler's operand comments. The VM
 * is a stack machine; every instruction is one 32-bit little-endian word:
 *
 *    31                     8 7        0
 *   +------------------------+----------+
 *   |           Ax           |    op    |     Ax: 24-bit unsigned operand
 *   +------------+-----------+----------+
 *   |     Bx     |     A     |    op    |     A: 8 bits, Bx: 16 bits
 *   +------------+-----------+----------+
 *    31        16 15        8 7        0
 *
 * Notation: S = the value stack, S[-1] its top; K = constants, P = paths,
 * R = regexes, C = request context, L = quantifier slots; "pop"/"push" on S.
 * Jumps are relative to the next instruction and forward only, except the
 * *_NEXT instructions, which return to the start of their quantifier or
 * each body while elements remain: iteration is bounded by the data, which
 * no loop body can grow (the verifier allows writes in an EACH body only
 * below the innermost loop's element, a list item or a map value), so
 * every program ends. New opcodes go at the end: a bundle's numbers stay.
 * SECRET changes nothing a policy computes: it marks a value of the
 * instruction after it as derived from a secret, so that the decision
 * hands that value out redacted for logs (rulevm.h, SECRETS).
 */
#ifndef RV_OPCODES_H
#define RV_OPCODES_H

#include <stdint.h>

/* Operand formats: how the bits above the opcode split (the bit diagram). */
enum { RV_FMT_NONE, RV_FMT_AX, RV_FMT_ABX };

/* Operand kinds: what an instruction's operand means, and so which table it
 * indexes and how the verifier bounds it and the disassembler resolves it.
 * The format follows from the kind: NONE has none, LOOP_* and EACH_* are
 * A,Bx, the rest Ax. */
typedef enum rv_operand {
    RV_OPND_NONE,       /* no operand: all operand bits are zero */
    RV_OPND_CONST,      /* Ax indexes K */
    RV_OPND_CTX,        /* Ax indexes C (RV_CTX_*) */
    RV_OPND_PARAM,      /* Ax indexes the policy's parameters */
    RV_OPND_PATH,       /* Ax indexes P, read */
    RV_OPND_WPATH,      /* Ax indexes P, written: the path must not be empty */
    RV_OPND_SLOT,       /* Ax names a quantifier slot open at this point */
    RV_OPND_REGEX,      /* Ax indexes R */
    RV_OPND_BUILTIN,    /* Ax indexes the builtins; pops its arity */
    RV_OPND_NVALUES,    /* Ax is a count: pops Ax values */
    RV_OPND_NPAIRS,     /* Ax is a count: pops Ax key/value pairs */
    RV_OPND_JUMP,       /* Ax is a forward offset from the next instruction */
    RV_OPND_LOOP_EXIT,  /* A opens slot L[A]; Bx is the forward offset to the exit */
    RV_OPND_LOOP_BACK,  /* A closes slot L[A]; Bx is the offset back to the body start */
    RV_OPND_EACH_IN,    /* A: 0 the spec, n: the element of L[n-1]; Bx indexes P, read */
    RV_OPND_EACH_WPATH, /* A names the innermost open EACH slot; Bx indexes P, written below
                         * its element: the path must not be empty */
    RV_OPND_KEY,        /* Ax names an open EACH_PAIRS slot (its collection is a map) */
    RV_OPND_WITNESS,    /* Ax names a slot below nslots that is not open here: a closed
                         * quantifier's, read after it (the interpreter clears every slot
                         * when a policy starts, so an unused one reads null) */
    RV_OPND_SECRET      /* Ax names a value of the next instruction that is not a SECRET: a part
                         * of a FORMAT (Ax below its count), or 0 for a write (its change) */
} rv_operand;

/* Marker for a variable stack effect (the verifier computes it from the
 * operand kind and Ax). */
#define RV_VAR (-1)

/* X(name, operand kind, pops, pushes, description) */
#define RV_OPCODES(X)                                                                               \
    X(HALT,      RV_OPND_NONE,      0, 0, "end of the policy")                                      \
    X(POP,       RV_OPND_NONE,      1, 0, "pop")                                                    \
    X(CONST,     RV_OPND_CONST,     0, 1, "push K[Ax]")                                             \
    X(CTX,       RV_OPND_CTX,       0, 1, "push C[Ax]  (0 $user, 1 $project, 2 $kind)")             \
    X(PARAM,     RV_OPND_PARAM,     0, 1, "push parameter Ax")                                      \
    X(GET,       RV_OPND_PATH,      0, 1, "push spec at path P[Ax], null if missing")               \
    X(LOCAL,     RV_OPND_SLOT,      0, 1, "push current element of L[Ax]")                          \
    X(WALK,      RV_OPND_PATH,      1, 1, "S[-1] := S[-1] at path P[Ax]")                           \
    X(NOT,       RV_OPND_NONE,      1, 1, "S[-1] := not truthy(S[-1])")                             \
    X(TRUTH,     RV_OPND_NONE,      1, 1, "S[-1] := truthy(S[-1])")                                 \
    X(NEG,       RV_OPND_NONE,      1, 1, "S[-1] := -S[-1]")                                        \
    X(ADD,       RV_OPND_NONE,      2, 1, "S[-2] := S[-2] + S[-1]")                                 \
    X(SUB,       RV_OPND_NONE,      2, 1, "S[-2] := S[-2] - S[-1]")                                 \
    X(MUL,       RV_OPND_NONE,      2, 1, "S[-2] := S[-2] * S[-1]")                                 \
    X(DIV,       RV_OPND_NONE,      2, 1, "S[-2] := S[-2] / S[-1]")                                 \
    X(MOD,       RV_OPND_NONE,      2, 1, "S[-2] := S[-2] % S[-1]")                                 \
    X(EQ,        RV_OPND_NONE,      2, 1, "S[-2] := S[-2] == S[-1]")                                \
    X(NE,        RV_OPND_NONE,      2, 1, "S[-2] := S[-2] != S[-1]")                                \
    X(LT,        RV_OPND_NONE,      2, 1, "S[-2] := S[-2] < S[-1]")                                 \
    X(LE,        RV_OPND_NONE,      2, 1, "S[-2] := S[-2] <= S[-1]")                                \
    X(GT,        RV_OPND_NONE,      2, 1, "S[-2] := S[-2] > S[-1]")                                 \
    X(GE,        RV_OPND_NONE,      2, 1, "S[-2] := S[-2] >= S[-1]")                                \
    X(IN,        RV_OPND_NONE,      2, 1, "S[-2] := S[-2] in S[-1]")                                \
    X(MATCH,     RV_OPND_REGEX,     1, 1, "S[-1] := S[-1] =~ R[Ax]")                                \
    X(NMATCH,    RV_OPND_REGEX,     1, 1, "S[-1] := S[-1] !~ R[Ax]")                                \
    X(CALL,      RV_OPND_BUILTIN,   RV_VAR, 1, "call builtin Ax on its arguments")                  \
    X(MKLIST,    RV_OPND_NVALUES,   RV_VAR, 1, "pop Ax values, push them as a list")                \
    X(MKMAP,     RV_OPND_NPAIRS,    RV_VAR, 1, "pop Ax key/value pairs, push a map")                \
    X(FORMAT,    RV_OPND_NVALUES,   RV_VAR, 1, "pop Ax values, push their message text")            \
    X(JMP,       RV_OPND_JUMP,      0, 0, "pc += Ax")                                               \
    X(JFALSE,    RV_OPND_JUMP,      1, 0, "pop; if falsy pc += Ax")                                 \
    X(JTRUE,     RV_OPND_JUMP,      1, 0, "pop; if truthy pc += Ax")                                \
    X(JNOTNULL,  RV_OPND_JUMP,      1, 1, "if S[-1] is not null pc += Ax, else pop")                \
    X(ANY_BEGIN, RV_OPND_LOOP_EXIT, 1, 0, "pop collection into L[A]; empty: push false, pc += Bx")  \
    X(ALL_BEGIN, RV_OPND_LOOP_EXIT, 1, 0, "pop collection into L[A]; empty: push true, pc += Bx")   \
    X(ANY_NEXT,  RV_OPND_LOOP_BACK, 1, 1, "pop c; c or last: push c, else next, pc := this pc - Bx") \
    X(ALL_NEXT,  RV_OPND_LOOP_BACK, 1, 1, "pop c; !c or last: push c, else next, pc := this pc - Bx") \
    X(SET,       RV_OPND_WPATH,     1, 0, "spec at P[Ax] := pop")                                   \
    X(DEFAULT,   RV_OPND_WPATH,     1, 0, "spec at P[Ax] := pop, if missing or null")               \
    X(UNSET,     RV_OPND_WPATH,     0, 0, "remove spec at P[Ax]")                                   \
    X(APPEND,    RV_OPND_WPATH,     1, 0, "append pop to the list at P[Ax]")                        \
    X(TAG,       RV_OPND_WPATH,     2, 0, "map at P[Ax][S[-2]] := str(S[-1]); pop 2")               \
    X(FORBID,    RV_OPND_NONE,      1, 0, "record violation with message pop")                      \
    X(WARN,      RV_OPND_NONE,      1, 0, "record warning with message pop")                        \
    X(INDEX,     RV_OPND_NONE,      2, 1, "S[-2] := S[-2][S[-1]]: a computed key, null if missing") \
    X(EACH_IN,   RV_OPND_EACH_IN,   0, 0, "no-op: names the next EACH_BEGIN's list or EACH_PAIRS's map, P[Bx] below A (0 spec, n L[n-1])") \
    X(EACH_BEGIN, RV_OPND_LOOP_EXIT, 0, 0, "L[A] := the list EACH_IN names; not a list or empty: pc += Bx") \
    X(EACH_NEXT, RV_OPND_LOOP_BACK, 0, 0, "next element (or member) of L[A]; one left: pc := this pc - Bx")   \
    X(SET_EL,    RV_OPND_EACH_WPATH, 1, 0, "element of L[A] at P[Bx] := pop")                      \
    X(DEFAULT_EL, RV_OPND_EACH_WPATH, 1, 0, "element of L[A] at P[Bx] := pop, if missing or null") \
    X(UNSET_EL,  RV_OPND_EACH_WPATH, 0, 0, "remove element of L[A] at P[Bx]")                      \
    X(APPEND_EL, RV_OPND_EACH_WPATH, 1, 0, "append pop to the list at element of L[A] at P[Bx]") \
    X(EACH_PAIRS, RV_OPND_LOOP_EXIT, 0, 0, "L[A] := the map EACH_IN names; not a map or empty: pc += Bx") \
    X(KEY,       RV_OPND_KEY,       0, 1, "push the key (a string) of L[Ax]'s current member") \
    X(SUM_BEGIN, RV_OPND_LOOP_EXIT, 1, 0, "pop collection into L[A], total := 0; not a list or empty: push 0, pc += Bx") \
    X(SUM_NEXT,  RV_OPND_LOOP_BACK, 1, 1, "pop n (a number), total += n; last: push total, else next, pc := this pc - Bx") \
    X(WITNESS,   RV_OPND_WITNESS,   0, 1, "push the element at which L[Ax]'s quantifier stopped, or null") \
    X(SECRET,    RV_OPND_SECRET,    0, 0, "no-op: value Ax of the next FORMAT or write derives from a secret (logged redacted)")

typedef enum rv_opcode {
#define RV_OP_ENUM(name, opnd, pops, pushes, doc) RV_OP_##name,
    RV_OPCODES(RV_OP_ENUM)
#undef RV_OP_ENUM
    RV_OP__COUNT
} rv_opcode;

/* Builtin functions called by CALL: X(name, arity). Compiled by name. */
#define RV_BUILTINS(X)   \
    X(len, 1)            \
    X(lower, 1)          \
    X(upper, 1)          \
    X(starts_with, 2)    \
    X(ends_with, 2)      \
    X(min, 2)            \
    X(max, 2)            \
    X(int, 1)            \
    X(str, 1)            \
    X(exists, 1)         \
    X(keys, 1)           \
    X(values, 1)         \
    X(type, 1)           \
    X(contains, 2)       \
    X(at_least, 1)       \
    X(accelerators, 1)

typedef enum rv_builtin {
#define RV_BI_ENUM(name, arity) RV_BI_##name,
    RV_BUILTINS(RV_BI_ENUM)
#undef RV_BI_ENUM
    RV_BI__COUNT
} rv_builtin;

/* Request context indices for CTX. */
enum { RV_CTX_USER, RV_CTX_PROJECT, RV_CTX_KIND, RV_CTX_REQUEST, RV_CTX__COUNT };

#define RV_GET_OP(i) ((rv_opcode)((i) & 0xFFu))
#define RV_GET_AX(i) ((uint32_t)(i) >> 8)
#define RV_GET_A(i)  (((uint32_t)(i) >> 8) & 0xFFu)
#define RV_GET_BX(i) ((uint32_t)(i) >> 16)
#define RV_MAKE_AX(op, ax) ((uint32_t)(op) | ((uint32_t)(ax) << 8))
#define RV_MAKE_ABX(op, a, bx) ((uint32_t)(op) | ((uint32_t)(a) << 8) | ((uint32_t)(bx) << 16))
#define RV_MAX_AX 0xFFFFFFu
#define RV_MAX_BX 0xFFFFu

/* Per-opcode tables (opcodes.c). */
extern const char *const rv_opcode_names[RV_OP__COUNT];
extern const uint8_t rv_opcode_formats[RV_OP__COUNT];   /* RV_FMT_*, from the kind */
extern const uint8_t rv_opcode_operands[RV_OP__COUNT];  /* rv_operand */
extern const int8_t rv_opcode_pops[RV_OP__COUNT];
extern const int8_t rv_opcode_pushes[RV_OP__COUNT];
extern const char *const rv_opcode_docs[RV_OP__COUNT];
extern const char *const rv_builtin_names[RV_BI__COUNT];
extern const uint8_t rv_builtin_arity[RV_BI__COUNT];

#endif
