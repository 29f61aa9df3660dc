/* opcodes.c - per-opcode and per-builtin tables, generated from the X-macros
 * SPDX-License-Identifier: Apache-2.0
 * in opcodes.h so that the verifier, the disassembler and the interpreter can
 * never disagree about names, operand kinds and formats, or stack effects.
 */
#include "opcodes.h"

const char *const rv_opcode_names[RV_OP__COUNT] = {
#define X(name, opnd, pops, pushes, doc) #name,
    RV_OPCODES(X)
#undef X
};

#define FORMAT_OF(opnd)                                                         \
    ((opnd) == RV_OPND_NONE ? RV_FMT_NONE                                       \
     : (opnd) == RV_OPND_LOOP_EXIT || (opnd) == RV_OPND_LOOP_BACK ? RV_FMT_ABX  \
     : (opnd) == RV_OPND_EACH_IN || (opnd) == RV_OPND_EACH_WPATH ? RV_FMT_ABX   \
     : RV_FMT_AX)

const uint8_t rv_opcode_formats[RV_OP__COUNT] = {
#define X(name, opnd, pops, pushes, doc) FORMAT_OF(opnd),
    RV_OPCODES(X)
#undef X
};

const uint8_t rv_opcode_operands[RV_OP__COUNT] = {
#define X(name, opnd, pops, pushes, doc) opnd,
    RV_OPCODES(X)
#undef X
};

const int8_t rv_opcode_pops[RV_OP__COUNT] = {
#define X(name, opnd, pops, pushes, doc) pops,
    RV_OPCODES(X)
#undef X
};

const int8_t rv_opcode_pushes[RV_OP__COUNT] = {
#define X(name, opnd, pops, pushes, doc) pushes,
    RV_OPCODES(X)
#undef X
};

const char *const rv_opcode_docs[RV_OP__COUNT] = {
#define X(name, opnd, pops, pushes, doc) doc,
    RV_OPCODES(X)
#undef X
};

const char *const rv_builtin_names[RV_BI__COUNT] = {
#define X(name, arity) #name,
    RV_BUILTINS(X)
#undef X
};

const uint8_t rv_builtin_arity[RV_BI__COUNT] = {
#define X(name, arity) arity,
    RV_BUILTINS(X)
#undef X
};
