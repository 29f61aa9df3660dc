/* value.h - the document tree the VM reads and rewrites (internal).
 * SPDX-License-Identifier: Apache-2.0
 *
 * A spec is a tree of rv_node allocated from an ru_arena. Objects keep their
 * members in input order (YAML and JSON output must not reorder keys); ints
 * and floats stay distinct so that `2.0` prints back as `2.0` and `86400` as
 * `86400`. Nodes are plain structs: the public rv_doc is this same struct.
 *
 * A value read from JSON keeps its text (src): a scalar is immutable, so
 * its text stays true for as long as it exists and printing uses it (`1e400`
 * and `"\u00e9"` come out as they came in); a container's text stays true
 * until the container or one below it is changed, which marks it
 * RV_NODE_EDITED (every edit of the VM passes its undo log, which marks it;
 * pushes and puts do too). Values the VM computes have no text and print
 * canonically.
 */
#ifndef RV_VALUE_H
#define RV_VALUE_H

#include "rulevm.h"
#include "arena.h"
#include "buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct rv_doc rv_node;

typedef struct rv_member {
    const char *key;   /* NUL-terminated; klen bytes (keys may hold NUL in JSON) */
    uint32_t klen : 31;  /* at most RV_KEY_MAX: rv_object_push refuses longer */
    /* 1: the key was a plain YAML scalar that PyYAML reads as null, a
     * boolean or a number (SkyPilot's `image_id: {null: ...}`), kept as
     * its text ("null", "true", "8"): YAML output writes it back plain, so
     * it reads back as the same type; JSON has string keys only. Whoever
     * copies a member copies this too. */
    uint32_t ktyped : 1;
    /* How the key prints. 0: escaped where JSON needs it. RV_KEY_PLAIN: it
     * was read from JSON without escapes, and prints between quotes as it
     * is. Otherwise it was written with escapes, and that text (kesc bytes,
     * quotes included, so at least 4) follows the key's NUL and prints as
     * written; whoever copies such a key copies those bytes too. */
    uint32_t kesc;
    rv_node *value;
} rv_member;

#define RV_KEY_MAX 0x7fffffffu
#define RV_KEY_PLAIN 1

/* rv_doc.flags */
#define RV_NODE_SRC 1     /* src holds the value's text as read */
#define RV_NODE_EDITED 2  /* a container changed after it was read: its src is stale */
#define RV_NODE_YAML 4    /* a scalar read from a plain YAML scalar whose value
                           * this tree cannot hold as PyYAML does (an integer
                           * beyond 64 bits, kept as a float; a date, kept as a
                           * string): src holds that text, and YAML output
                           * writes it back as it came, so it reads back as it
                           * did. JSON output goes by RV_NODE_SRC alone. */
#define RV_NODE_YLAYOUT 8 /* a container read from YAML: src points to its
                           * ry_layout (yaml_layout.h), not to text */

struct rv_doc {
    uint8_t type;      /* rv_doc_type */
    uint8_t flags;     /* RV_NODE_* */
    uint32_t len;      /* string bytes, array items, object members */
    uint32_t cap;      /* array/object slots allocated */
    uint32_t srclen;   /* bytes at src */
    union {
        int b;
        int64_t i;
        double f;
        const char *s;       /* NUL-terminated, len bytes */
        rv_node **items;
        rv_member *members;
    } u;
    const char *src;   /* the JSON text the value was read from (RV_NODE_SRC);
                        * a YAML container's layout (RV_NODE_YLAYOUT) */
};

/* Shared immutable nodes. */
extern const rv_node rv_null_node, rv_true_node, rv_false_node;

/* ---- Node construction (all in an arena; NULL on OOM) ---- */

rv_node *rv_new_null(ru_arena *a);
rv_node *rv_new_bool(ru_arena *a, bool b);
rv_node *rv_new_int(ru_arena *a, int64_t i);
rv_node *rv_new_float(ru_arena *a, double f);
rv_node *rv_new_string(ru_arena *a, const char *s, size_t n);     /* copies */
rv_node *rv_new_array(ru_arena *a, uint32_t cap);
rv_node *rv_new_object(ru_arena *a, uint32_t cap);
/* Append in place, growing by copying into the arena (and marking the
 * container RV_NODE_EDITED). false on OOM. */
bool rv_array_push(ru_arena *a, rv_node *arr, rv_node *v);
bool rv_object_push(ru_arena *a, rv_node *obj, const char *key, size_t klen, rv_node *v);

/* Index of the first member whose key repeats an earlier one, or -1.
 * Linear time for large objects (hashing in the arena): parsers call it on
 * every object, since a repeated key would let a spec show a policy one
 * value while the orchestrator, which keeps the last, uses another. */
long rv_object_duplicate(ru_arena *a, const rv_node *obj);

/* Whether n bytes at a and b are the same. Keys and the like are short,
 * and comparing them here, a word at a time (the last word overlapping the
 * one before), costs less than a call to memcmp. Reads no byte outside
 * [a, a + n) and [b, b + n). */
static inline bool rv_same_bytes(const char *a, const char *b, uint32_t n)
{
    uint64_t x, y;
    if (n >= 8) {
        for (uint32_t k = 0; k + 8 < n; k += 8) {
            memcpy(&x, a + k, 8);
            memcpy(&y, b + k, 8);
            if (x != y)
                return false;
        }
        memcpy(&x, a + n - 8, 8);
        memcpy(&y, b + n - 8, 8);
        return x == y;
    }
    if (n >= 4) {
        uint32_t u, v, w, z;
        memcpy(&u, a, 4);
        memcpy(&v, b, 4);
        memcpy(&w, a + n - 4, 4);
        memcpy(&z, b + n - 4, 4);
        return u == v && w == z;
    }
    /* 0 to 3 bytes: the first, middle and last cover them all */
    return n == 0 || (a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1]);
}

/* Member lookup (first match); NULL if absent or obj is not an object.
 * Keys passed to rv_object_push are not copied: they must live as long as
 * the object (in the same arena, as a rule). */
rv_member *rv_object_find(const rv_node *obj, const char *key, size_t klen);
/* Deep copy into an arena. Scalars keep their text (src points into the
 * original's memory, which must outlive the copy, as keys do); containers
 * are new and print from their parts. */
rv_node *rv_copy(ru_arena *a, const rv_node *n);

/* ---- Semantics shared by the VM and the compiler's constant folding ---- */

bool rv_truthy(const rv_node *n);
/* Deep equality; ints and floats compare by value (1 == 1.0); object key
 * order does not matter. */
bool rv_equal(const rv_node *x, const rv_node *y);
/* Orders two numbers or two strings (bytewise): *cmp is <0, 0, >0.
 * false when the pair is not comparable. */
bool rv_compare(const rv_node *x, const rv_node *y, int *cmp);

/* Appends a number in JSON form: ints as digits, floats as the shortest text
 * that reads back as the same double, always with a '.' or exponent (2.0,
 * 0.5, 1e+100); NaN and infinities, which JSON cannot hold, print as null. */
void rv_format_number(ru_buf *b, const rv_node *n);
/* Compact JSON of any node: {"a":1,"b":[true,null]}. */
void rv_json_compact(ru_buf *b, const rv_node *n);
/* Message text of a value: strings bare, anything else compact JSON. */
void rv_message_text(ru_buf *b, const rv_node *n);
/* A value as an evaluation error names it: its type with an article, and
 * its value when that is a scalar short enough to read ("a string
 * (\"off\")", "an integer (3600)", "a list", "null"). A string longer than
 * RV_DESCRIBE_MAX bytes is named by its length only: the text may end up in
 * logs, and a long string is more likely a credential than a setting. */
#define RV_DESCRIBE_MAX 32
void rv_describe(ru_buf *b, const rv_node *n);

/* ---- Document I/O ---- */

/* Parse text into a tree in the arena. max_nesting bounds depth (arrays and
 * objects). On failure returns NULL and fills err with RV_EPARSE (or
 * RV_ELIMIT / RV_ENOMEM), a message saying what is wrong and the line and
 * column where known. */
rv_node *rv_json_parse(ru_arena *a, const char *text, size_t len, uint32_t max_nesting,
                       rv_error *err);
rv_node *rv_yaml_parse(ru_arena *a, const char *text, size_t len, uint32_t max_nesting,
                       rv_error *err);

/* Print; false (with err) on failure. JSON pretty output indents 2 spaces,
 * "key": value, like Python's json.dumps(indent=2); compact output has no
 * spaces. Scalars read from JSON print as they were written (src); with
 * verbatim, so do untouched objects and arrays, whitespace included. YAML
 * output is block style, keys in order; strings that would read back as
 * another type are quoted. */
bool rv_json_write(ru_buf *b, const rv_node *n, bool pretty, bool verbatim);
bool rv_yaml_write(ru_buf *b, const rv_node *n, rv_error *err);

/* Fill an rv_error. */
void rv_set_error(rv_error *err, rv_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
