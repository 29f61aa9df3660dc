/* yaml_resolve.h - what a plain YAML scalar means (internal to doc_yaml.c).
 * SPDX-License-Identifier: Apache-2.0
 *
 * dstack and SkyPilot read and write their YAML with PyYAML's SafeLoader,
 * which resolves plain scalars by YAML 1.1: `yes` and `on` are booleans,
 * `0o17` and `1e3` are strings, `017` is octal, `1_000` and `1:30` are
 * integers. Specs are read the way they do (ry_resolve), so a policy sees
 * what the orchestrator will. The printer quotes a string when either
 * PyYAML or a YAML 1.2 reader (ry_resolve_core) would take it for anything
 * else, so the text reads back as a string in both.
 */
#ifndef RV_YAML_RESOLVE_H
#define RV_YAML_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum ry_tag {
    RY_STR,
    RY_NULL,        /* ~, null, Null, NULL, or nothing */
    RY_BOOL,
    RY_INT,
    RY_FLOAT,
    RY_TIMESTAMP,   /* 2024-01-31, 2024-01-31T12:00:00Z: PyYAML makes a date */
    RY_MERGE,       /* << (a merge key in a mapping) */
    RY_VALUE        /* = (YAML 1.1's value key) */
} ry_tag;

/* PyYAML's resolution (SafeLoader, YAML 1.1) of a plain scalar of n bytes. */
ry_tag ry_resolve(const char *s, size_t n);
/* The YAML 1.2 core schema's resolution of the same (null, bool, int,
 * float or string only). */
ry_tag ry_resolve_core(const char *s, size_t n);

/* The value of a text ry_resolve took for a boolean. */
bool ry_bool(const char *s, size_t n);
/* The value of a text ry_resolve took for an integer, as PyYAML builds it
 * (underscores dropped; 0b binary, 0x hex, a leading 0 octal, a:b:c base
 * 60). false when it does not fit in 64 bits: *approx then holds it as a
 * double. */
bool ry_int(const char *s, size_t n, int64_t *out, double *approx);
/* The value of a text ry_resolve took for a float (or an integer). */
double ry_float(const char *s, size_t n);

#endif
