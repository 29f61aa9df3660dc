/* vm_impl.h - the evaluator's state, shared by vm.c (API) and interp.c.
 * SPDX-License-Identifier: Apache-2.0
 *
 * One rv_vm per thread. Everything a decision produces lives in `arena`,
 * which rv_vm_reset rewinds; the growable logs below are allocated once and
 * reused, so a warmed-up VM evaluates without calling the allocator.
 */
#ifndef RV_VM_IMPL_H
#define RV_VM_IMPL_H

#include "program.h"
#include "value.h"

/* One reversible edit of the document, for rolling back a rejection. */
typedef enum { RV_UNDO_MEMBER, RV_UNDO_ITEM, RV_UNDO_SHAPE } rv_undo_kind;

typedef struct rv_undo {
    rv_undo_kind kind;
    rv_node *node;        /* the container that was edited */
    uint32_t index;       /* MEMBER/ITEM: which slot */
    uint32_t len, cap;    /* SHAPE: previous length and capacity */
    uint8_t flags;        /* the container's flags before the edit (RV_NODE_EDITED) */
    union {
        rv_node *value;   /* MEMBER/ITEM: previous child */
        void *storage;    /* SHAPE: previous items/members array */
    } old;
} rv_undo;

/* A growable array of fixed-size records, allocated with the VM's allocator
 * and kept across resets. */
typedef struct rv_vec {
    void *data;
    size_t len, cap, elem;
} rv_vec;

typedef struct rv_iter {
    const rv_node *coll;  /* array or object being iterated */
    uint32_t i;
    /* EACH loops only: where the list is, for the display path of a change
     * below an element (configuration.replicas[1].resources...). */
    uint32_t parent;      /* 0: path from the spec; n: from the element of L[n-1] */
    const rv_path *path;
    const rv_node *total; /* SUM loops only: the running total */
} rv_iter;

/* What one path prefix (a slot: pathslots.c) led to last time. Within a
 * generation, the value reached from root by the prefix's keys is node
 * (NULL: missing) and stays so: no key needs comparing again. Across
 * generations, hint is where the prefix's last key was found: specs from
 * one orchestrator share their key order, so it almost always lands and a
 * lookup costs one comparison instead of a scan. Only a hint: it is checked
 * every time, so a stale one is harmless. */
typedef struct rv_memo {
    const rv_node *root;
    const rv_node *node;
    uint64_t gen;
    uint32_t hint;
} rv_memo;

struct rv_vm {
    rv_config cfg;
    ru_arena arena;
    ru_buf out;           /* printed documents */
    ru_buf scratch;       /* message templates, tag paths */
    rv_vec undo, changes, errors, warnings;
    void *match_data;     /* pcre2_match_data_8 * */
    void *match_ctx;      /* pcre2_match_context_8 * */
    rv_trace_fn trace;
    void *trace_ud;
    /* The lookup memo, one entry per rv_seg.slot (the program numbers them
     * so that segments reached by the same keys share one: pathslots.c),
     * and the generation that says which entries still hold: it moves on
     * when an evaluation starts and with every edit of a document (each
     * passes the undo log, and so does a rollback), so an entry is only
     * ever used on a tree exactly as it was when the entry was made. */
    rv_memo *memo;
    size_t nmemo;
    uint64_t gen;
    const rv_node *stack[RV_STACK_MAX];
    rv_iter iters[RV_SLOTS_MAX];
    /* The last rv_vm_eval's error as it may be logged (rv_vm_redacted_error). */
    char error_redacted[512];
};

/* interp.c */
rv_status rv_interp_eval(rv_vm *vm, const rv_program *prog, const rv_request *req,
                         rv_node *spec, rv_decision *out, rv_error *err);

#endif
