/* ast.h - the syntax tree the parser builds and the checker walks.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Every node is allocated from the compilation's arena and carries its
 * source span. The parser only builds this tree; names are resolved, types
 * checked and templates split by the checker (check.c).
 */
#ifndef RC_AST_H
#define RC_AST_H

#include "arena.h"   /* util: every node lives in the compilation's arena */
#include "rulec.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A source span: the public rc_span (rulec.h), bison's YYLTYPE. */
typedef rc_span rc_loc;

/* One source text being compiled. */
typedef struct rc_source {
    const char *name;   /* file name as given */
    const char *text;   /* whole contents, NUL-terminated */
    size_t len;
    bool has_priority;  /* override the header's priority (rulesd's per-entry priority) */
    int32_t priority;
} rc_source;

/* Regex flags as written after the closing slash (/.../imsx). The code
 * generator maps them to the bundle format's flags. */
#define RC_RE_I 1u
#define RC_RE_M 2u
#define RC_RE_S 4u
#define RC_RE_X 8u

typedef struct rc_expr rc_expr;
typedef struct rc_stmt rc_stmt;

typedef enum rc_expr_kind {
    RC_E_NULL,
    RC_E_BOOL,
    RC_E_INT,        /* also durations: 1d -> 86400 */
    RC_E_FLOAT,      /* also sizes: 512MB -> 0.5 */
    RC_E_STRING,
    RC_E_LIST,       /* items */
    RC_E_MAP,        /* entries */
    RC_E_PATH,       /* spec path, quantifier variable path, or $name path */
    RC_E_UNARY,      /* op: RC_OP_NOT, RC_OP_NEG */
    RC_E_BINARY,     /* op: everything else but matches */
    RC_E_MATCH,      /* lhs =~ /regex/ or !~ (negated) */
    RC_E_CALL,       /* name(args) */
    RC_E_QUANT       /* any/all/sum var in over: cond (u.quant.q) */
} rc_expr_kind;

/* What a quantifier-shaped expression computes over its collection:
 * any/all test a condition (a bool); sum adds a number per list element. */
typedef enum rc_quant_kind { RC_Q_ANY, RC_Q_ALL, RC_Q_SUM } rc_quant_kind;

typedef enum rc_op {
    RC_OP_COALESCE, RC_OP_OR, RC_OP_AND, RC_OP_NOT,
    RC_OP_EQ, RC_OP_NE, RC_OP_LT, RC_OP_LE, RC_OP_GT, RC_OP_GE, RC_OP_IN,
    RC_OP_ADD, RC_OP_SUB, RC_OP_MUL, RC_OP_DIV, RC_OP_MOD, RC_OP_NEG
} rc_op;

/* The operator as a policy writes it ("??", "and", "<=", ...). */
const char *rc_op_text(rc_op op);

/* A path segment: .name, ["quoted key"], [index] or [expr]. A bracket
 * holding a string or (signed) integer literal is a literal segment; any
 * other expression is a computed key (expr non-NULL, key NULL), read at
 * run time (docs/language.md, "Paths"). */
typedef struct rc_seg {
    bool is_index;
    const char *key;   /* decoded, NUL-terminated */
    size_t klen;
    int64_t index;
    rc_loc loc;
    rc_expr *expr;     /* computed key; NULL for a literal segment */
} rc_seg;

typedef struct rc_map_entry {
    const char *key;   /* identifier or decoded string */
    size_t klen;
    rc_loc key_loc;
    rc_expr *value;
} rc_map_entry;

/* A string literal: decoded value, and the raw text between the quotes
 * (templates are split from the raw text, see check.c). */
typedef struct rc_string {
    const char *value;
    size_t len;
    const char *raw;
    size_t raw_len;
    rc_loc loc;        /* includes the quotes */
} rc_string;

/* How the checker resolved a path's root. */
typedef enum rc_root {
    RC_ROOT_SPEC,    /* the spec: segs[0] is its first key */
    RC_ROOT_LOCAL,   /* a quantifier variable: segs[0] is the variable */
    RC_ROOT_WITNESS, /* in a forbid-if/warn-if message, the variable of the condition's
                      * `any` (or `not all`): the element it stopped at; index is its slot */
    RC_ROOT_KEY,     /* the key variable of `each KEY, VALUE in MAP`: index is its slot */
    RC_ROOT_CTX,     /* $user $project $kind */
    RC_ROOT_PARAM    /* $param */
} rc_root;

struct rc_expr {
    rc_expr_kind kind;
    rc_loc loc;
    bool parens;         /* written as `( expr )` (loc leaves them out): for lints */
    /* Filled by the checker: */
    rc_root root;        /* PATH */
    uint32_t index;      /* PATH: slot, ctx or param index; CALL: builtin; QUANT: slot */
    union {
        bool b;
        int64_t i;
        double f;
        rc_string str;
        struct { rc_expr **items; size_t n; } list;
        struct { rc_map_entry *entries; size_t n; } map;
        struct {
            const char *dollar;   /* "user" for $user.x; NULL for plain paths */
            rc_loc dollar_loc;
            rc_seg *segs;         /* for plain paths segs[0] is the root name */
            size_t nseg;
        } path;
        struct { rc_op op; rc_expr *lhs, *rhs; } op;  /* unary: lhs only */
        struct {
            rc_expr *lhs;
            bool negated;         /* !~ */
            const char *pattern;  /* between the slashes, as written */
            size_t plen;
            uint32_t flags;       /* RC_RE_* */
            rc_loc regex_loc;     /* the /.../flags literal */
        } match;
        struct { const char *name; rc_loc name_loc; rc_expr **args; size_t nargs; } call;
        struct {
            rc_quant_kind q;
            const char *var;
            rc_loc var_loc;
            rc_expr *over;
            rc_expr *cond;
        } quant;
    } u;
};

typedef enum rc_stmt_kind {
    RC_S_SET, RC_S_DEFAULT, RC_S_UNSET, RC_S_APPEND, RC_S_TAGS,
    RC_S_FORBID, RC_S_WARN,   /* with or without a condition (-if) */
    RC_S_MATCH,
    RC_S_EACH            /* each [key_var,] var in value { body } */
} rc_stmt_kind;

struct rc_stmt {
    rc_stmt_kind kind;
    rc_loc loc;          /* the whole statement */
    rc_stmt *next;       /* next statement in the block */
    rc_expr *path;       /* SET DEFAULT UNSET APPEND, TAGS (NULL: default path) */
    rc_expr *value;      /* SET DEFAULT APPEND; EACH: the list */
    rc_expr *cond;       /* FORBID/WARN with -if, MATCH; NULL otherwise */
    rc_string message;   /* FORBID WARN */
    rc_map_entry *tags;  /* TAGS */
    size_t ntags;
    rc_stmt *body;       /* MATCH, EACH */
    const char *var;     /* EACH: the loop variable (a map's: the value) */
    rc_loc var_loc;
    const char *key_var; /* EACH over a map's members: the key; NULL over a list */
    rc_loc key_loc;
    uint32_t slot;       /* EACH: its quantifier slot (filled by the checker) */
    rc_stmt *else_body;  /* MATCH, NULL if none */
    bool has_else;
    rc_loc else_loc;
    /* Filled by the checker: the message template split into literal
     * strings and expressions, in order. */
    rc_expr **parts;
    size_t nparts;
    /* Filled by the secret pass (compiler/secret.c) for code generation:
     * which message parts (FORBID WARN) or tags (TAGS) derive from a
     * secret of the spec (NULL: none), and whether a write's change
     * touches one (SET DEFAULT UNSET APPEND). */
    bool *secret_parts;
    bool secret_write;
};

typedef struct rc_kind_name {
    const char *name;    /* "*" for every kind */
    rc_loc loc;
} rc_kind_name;

typedef struct rc_on {
    rc_kind_name *kinds;
    size_t nkinds;
    rc_stmt *body;
    rc_loc loc;
    struct rc_on *next;
} rc_on;

typedef struct rc_header {
    rc_string name;
    bool has_priority;
    int64_t priority;
    rc_loc priority_loc;
    const char *target;    /* `target NAME`; NULL: the default */
    rc_loc target_loc;
    rc_loc loc;
    struct rc_header *next;
} rc_header;

typedef struct rc_param_decl {
    const char *name;
    rc_loc name_loc;
    rc_expr *value;
    rc_loc loc;
    struct rc_param_decl *next;
} rc_param_decl;

/* A parsed file, items in source order per list. */
typedef struct rc_file {
    const rc_source *src;
    rc_header *headers;     /* more than one is an error the checker reports */
    rc_param_decl *params;
    rc_on *ons;
} rc_file;

#endif
