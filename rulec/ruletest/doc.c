/* doc.c - what `rulec test` needs of documents beyond rulevm.h's accessors,
 * SPDX-License-Identifier: Apache-2.0
 * written over the public API only:
 *
 * - tt_doc_json: a document's compact JSON appended to a buffer (printed
 *   by a VM, whose print buffer the next print reuses, so it is copied).
 * - Copies with one member or item set or removed. The public API builds
 *   documents but has no way to remove a member or to replace an item, so
 *   the expected spec of `changes:` is built without changing any document
 *   in place: each change rebuilds the containers on its path (shallow
 *   copies: a new container holding the same values) and shares everything
 *   else. That gives the tree the internal deep copy and in-place edits
 *   gave, and the input spec and the test file's values stay untouched.
 *
 * Keys are C strings here (rv_doc_key gives no length): a key holding a
 * NUL byte, which JSON can spell as \u0000, is seen up to that byte.
 */
#include "ruletest.h"

#include <math.h>
#include <string.h>

/* ---- text ---- */

bool tt_doc_json(ru_buf *b, rv_vm *vm, const rv_doc *doc)
{
    const char *text;
    size_t len;
    rv_error err;
    if (rv_vm_print(vm, doc, RV_JSON, 0, &text, &len, &err) != RV_OK) {
        b->oom = true;
        return false;
    }
    ru_buf_put(b, text, len);
    return !b->oom;
}

/* ---- copies with one member or item set or removed ---- */

/* Index of obj's member key (the one rv_doc_get finds), or -1. */
static long member_index(const rv_doc *obj, const char *key)
{
    const rv_doc *v = rv_doc_get(obj, key);
    for (size_t i = 0; v && i < rv_doc_len(obj); i++)
        if (rv_doc_value(obj, i) == v && strcmp(rv_doc_key(obj, i), key) == 0)
            return (long)i;
    return -1;
}

/* A new object with obj's members (obj NULL: none) but member skip
 * (-1: none). */
static rv_doc *object_copy(rv_vm *vm, const rv_doc *obj, long skip)
{
    rv_doc *o = rv_vm_new_object(vm);
    for (size_t i = 0; o && obj && i < rv_doc_len(obj); i++)
        if ((long)i != skip && rv_vm_object_put(vm, o, rv_doc_key(obj, i), rv_doc_value(obj, i)) != RV_OK)
            return NULL;
    return o;
}

rv_doc *tt_doc_with_key(rv_vm *vm, const rv_doc *obj, const char *key, rv_doc *value)
{
    rv_doc *o = object_copy(vm, obj, -1);
    /* Replaces the member in place, or appends it. */
    if (!o || rv_vm_object_put(vm, o, key, value) != RV_OK)
        return NULL;
    return o;
}

rv_doc *tt_doc_without_key(rv_vm *vm, rv_doc *obj, const char *key)
{
    long at = member_index(obj, key);
    return at < 0 ? obj : object_copy(vm, obj, at);
}

/* A new list of arr's items, item `set` replaced by value (value NULL:
 * left out; set == length: value appended). */
static rv_doc *array_copy(rv_vm *vm, const rv_doc *arr, size_t set, rv_doc *value)
{
    rv_doc *a = rv_vm_new_array(vm);
    size_t n = rv_doc_len(arr);
    for (size_t i = 0; a && i <= n; i++) {
        rv_doc *v = i == set ? value : i < n ? rv_doc_item(arr, i) : NULL;
        if (v && rv_vm_array_push(vm, a, v) != RV_OK)
            return NULL;
    }
    return a;
}

rv_doc *tt_doc_with_item(rv_vm *vm, const rv_doc *arr, size_t i, rv_doc *value)
{
    return array_copy(vm, arr, i, value);
}

rv_doc *tt_doc_without_item(rv_vm *vm, rv_doc *arr, size_t i)
{
    return i < rv_doc_len(arr) ? array_copy(vm, arr, i, NULL) : arr;
}
