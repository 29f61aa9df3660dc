/* yaml_layout.h - where each part of a YAML document stood in its text
 * SPDX-License-Identifier: Apache-2.0
 * (internal: doc_yaml.c records it while reading, yaml_edit.c uses it to
 * print a changed document as its own text with the fewest edits).
 *
 * Every mapping and sequence read from YAML gets a layout: its byte span
 * in a copy of the text and, for each member or item as read, the node
 * that was read there and where its key and value stood. The container
 * keeps a pointer to it in its src field, with RV_NODE_YLAYOUT set
 * (containers read from YAML have no JSON text, so the field is free).
 * Printing compares the tree as decided with the layout: a value still
 * the node read there is unchanged text; a member whose key pointer is
 * still there is the member read (keys a policy adds come from elsewhere).
 */
#ifndef RV_YAML_LAYOUT_H
#define RV_YAML_LAYOUT_H

#include "value.h"

/* The text one parse read, shared by all its layouts. */
typedef struct ry_source {
    const char *text;     /* a copy of the text, in the document's arena */
    size_t len;
    const rv_node *root;  /* the document's root node */
    /* false: only the whole, untouched document is copied out as text; a
     * changed one is printed from its values. Set when the text uses an
     * alias (a copy shares nothing with its anchor's text, and editing
     * around an anchor could change what an alias copied as text reads
     * as), or has line breaks other than LF and CRLF (CR alone, NEL, LS,
     * PS: the editor works on lines ending in LF). */
    bool editable;
} ry_source;

/* A member or item as read. Offsets are bytes into ry_source.text. */
typedef struct ry_entry {
    const rv_node *value;  /* the node read there */
    const char *key;       /* mappings: the member's key pointer as read */
    uint32_t kstart;       /* mappings: the key's first byte (its anchor or
                            * tag, if any); sequences: vstart */
    uint32_t vstart, vend; /* the value's text, its anchor or tag included */
    uint8_t props;         /* the value had an anchor or a tag */
} ry_entry;

typedef struct ry_layout {
    const ry_source *src;
    uint32_t start, end;   /* the container's text: from its anchor, tag or
                            * first byte; a flow one to past its closing
                            * bracket, a block one to the end of its last
                            * value (comments after it belong to the parent) */
    uint8_t flow;          /* written in flow style ({...}, [...]) */
    /* Members are not the text's: a merge key (`<<`) put members there
     * that its text does not hold. Such a mapping is copied when untouched
     * and printed from its values otherwise. */
    uint8_t merged;
    uint32_t n;
    ry_entry *e;
} ry_layout;

static inline const ry_layout *ry_layout_of(const rv_node *n)
{
    return n && (n->flags & RV_NODE_YLAYOUT) ? (const ry_layout *)(const void *)n->src : NULL;
}

/* Prints n as a YAML document with the printer rv_yaml_write uses: block
 * style, or with flow every container in flow style and every string on
 * one line (for pieces of a flow collection). */
bool rv_yaml_write_style(ru_buf *b, const rv_node *n, bool flow, rv_error *err);

/* rv_vm_print's YAML with RV_VERBATIM (yaml_edit.c): n's own text when
 * nothing changed, else that text with the fewest edits that make it read
 * as n (docs/yaml.md, "What is kept"); printed from the values when n was
 * not read from YAML as the root of a document, or its text cannot be
 * edited safely. */
bool rv_yaml_write_verbatim(ru_buf *b, const rv_node *n, rv_error *err);

#endif
