/* helpers.h - shared by the unit tests: compile policy text or files into
 * a verified program, read files, and locate tests/data/dstack. Header-only
 * (static functions) so each test binary stays one file.
 */
#ifndef TEST_HELPERS_H
#define TEST_HELPERS_H

#include "compile.h"
#include "program.h"
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
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        if (len)
            *len = (size_t)n;
    }
    return buf;
}

/* Compiles sources (name/text pairs) into a verified program. On a compile
 * error, prints the diagnostics and returns NULL. If diag_text is given,
 * the printed diagnostics are stored there (malloc'd). */
static inline rv_program *compile_sources(const rc_source *srcs, size_t n, char **diag_text)
{
    rv_arena arena;
    rv_arena_init(&arena, NULL, NULL);
    rc_diags diags;
    rc_diags_init(&diags, &arena);
    rv_policy **pols;
    size_t npols;
    rv_program *prog = NULL;
    bool ok = rc_compile(srcs, n, &arena, &diags, &pols, &npols);
    if (diag_text) {
        char *text = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&text, &len);
        rc_diags_print(&diags, m);
        fclose(m);
        *diag_text = text;
    } else if (!ok) {
        rc_diags_print(&diags, stderr);
    }
    if (ok) {
        rv_buf b;
        rv_buf_init(&b, NULL, NULL);
        rv_error err;
        if (rv_bundle_write(&b, pols, npols)) {
            rv_blob blob = {b.data, b.len, "test"};
            if (rv_program_load(&blob, 1, NULL, &prog, &err) != RV_OK) {
                fprintf(stderr, "load failed: %s\n", err.message);
                prog = NULL;
            }
        }
        rv_buf_free(&b);
    }
    rv_arena_free(&arena);
    return prog;
}

static inline rv_program *compile_text(const char *text)
{
    rc_source src = {"test.rules", text, strlen(text)};
    return compile_sources(&src, 1, NULL);
}

static inline rv_program *compile_file(const char *path)
{
    size_t len;
    char *text = read_whole_file(path, &len);
    if (!text)
        return NULL;
    rc_source src = {path, text, len};
    rv_program *p = compile_sources(&src, 1, NULL);
    free(text);
    return p;
}

#endif
