/* helpers.h - shared by the unit tests: compile policy text or files into
 * SPDX-License-Identifier: Apache-2.0
 * a verified program through the compiler library (rulec.h), read files, and locate tests/data/dstack. Header-only
 * (static functions) so each test binary stays one file.
 */
#ifndef TEST_HELPERS_H
#define TEST_HELPERS_H

#include "file.h"
#include "rulec.h"
#include "rulevm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline const char *specs_dir(void)
{
    const char *d = getenv("RULES_SPECS_DIR");
    return d ? d : "tests/data/dstack";
}

static inline char *read_whole_file(const char *path, size_t *len)
{
    char *data;
    size_t n;
    if (ru_read_file(path, 0, &data, &n) != 0)
        return NULL;
    if (len)
        *len = n;
    return data;
}

/* Compiles inputs (sources or bundles) into a verified program through the
 * compiler library, as every host does. On an error prints the diagnostics
 * and returns NULL. If diag_text is given, the diagnostics are stored there
 * (malloc'd) instead. */
static inline rv_program *compile_sources(const rc_input *inputs, size_t n, char **diag_text)
{
    rc_report *report = rc_report_new();
    rv_program *prog = NULL;
    if (!report)
        return NULL;
    rc_result r = rc_load(report, inputs, n, &(rc_options){NULL, 0, "any"}, &prog);
    const char *text = rc_report_text(report, "test", NULL);
    if (diag_text)
        *diag_text = strdup(text);
    else if (r != RC_OK)
        fputs(text, stderr);
    rc_report_free(report);
    return prog;
}

static inline rv_program *compile_text(const char *text)
{
    rc_input in = {"test.rules", text, strlen(text), 0, 0, 0};
    return compile_sources(&in, 1, NULL);
}

static inline rv_program *compile_file(const char *path)
{
    size_t len;
    char *text = read_whole_file(path, &len);
    if (!text)
        return NULL;
    rc_input in = {path, text, len, 0, 0, 0};
    rv_program *p = compile_sources(&in, 1, NULL);
    free(text);
    return p;
}

#endif
