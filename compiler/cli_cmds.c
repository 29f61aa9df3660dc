/* cli_cmds.c - `rulec check`, `rulec compile` and `rulec disasm`.
 *
 * compile writes its bundle through a temporary file renamed into place,
 * so a failed or interrupted run never leaves a half-written bundle.
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Reads every source named (folders expanded); diagnostics for unreadable
 * files go to diags. Returns the number read into *srcs. */
static size_t read_sources(char **paths, size_t npaths, rv_arena *arena, rc_diags *diags,
                           rc_source **srcs)
{
    *srcs = rv_arena_alloc(arena, (npaths ? npaths : 1) * sizeof **srcs);
    size_t n = 0;
    for (size_t i = 0; *srcs && i < npaths; i++)
        if (rc_read_source(paths[i], arena, diags, &(*srcs)[n]))
            n++;
    return n;
}

static void print_summary(const rc_diags *d)
{
    if (d->nerrors || d->nwarnings)
        fprintf(stderr, "%d error%s, %d warning%s\n", d->nerrors, d->nerrors == 1 ? "" : "s",
                d->nwarnings, d->nwarnings == 1 ? "" : "s");
}

/* Reads and compiles policy files into the arena, prints the diagnostics
 * and a count. Returns 0 when it compiled, 1 when the policies have errors,
 * 2 when a file could not be read (the run's input is wrong). */
static int compile_files(char **paths, size_t npaths, rv_arena *arena, rv_policy ***pols,
                         size_t *npols)
{
    rc_diags diags;
    rc_diags_init(&diags, arena);
    rc_source *srcs;
    size_t nsrcs = read_sources(paths, npaths, arena, &diags, &srcs);
    int unreadable = diags.nerrors;
    *pols = NULL;
    *npols = 0;
    if (nsrcs && !unreadable)
        rc_compile(srcs, nsrcs, arena, &diags, pols, npols);
    rc_diags_print(&diags, stderr);
    print_summary(&diags);
    return unreadable ? EXIT_TROUBLE : diags.nerrors ? EXIT_REJECTED : 0;
}

int cli_check(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: rulec check FILE...\n");
        return EXIT_TROUBLE;
    }
    size_t npaths;
    char **paths = cli_expand_policies(argv + 1, argc - 1, &npaths);
    if (!paths)
        return EXIT_TROUBLE;
    rv_arena arena;
    rv_arena_init(&arena, NULL, NULL);
    rv_policy **pols;
    size_t npols;
    int rc = compile_files(paths, npaths, &arena, &pols, &npols);
    rv_arena_free(&arena);
    cli_free_paths(paths, npaths);
    return rc;
}

int cli_compile(int argc, char **argv)
{
    const char *output = NULL;
    char **inputs = calloc((size_t)argc, sizeof *inputs);
    int ninputs = 0;
    if (!inputs)
        return EXIT_TROUBLE;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
            output = argv[++i];
        else if (strncmp(argv[i], "-o", 2) == 0 && argv[i][2])
            output = argv[i] + 2;
        else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "rulec compile: unknown option '%s'\n", argv[i]);
            free(inputs);
            return EXIT_TROUBLE;
        } else
            inputs[ninputs++] = argv[i];
    }
    if (!output || ninputs == 0) {
        fprintf(stderr, "usage: rulec compile FILE... -o BUNDLE.rbc\n");
        free(inputs);
        return EXIT_TROUBLE;
    }
    size_t npaths;
    char **paths = cli_expand_policies(inputs, ninputs, &npaths);
    free(inputs);
    if (!paths)
        return EXIT_TROUBLE;

    rv_arena arena;
    rv_arena_init(&arena, NULL, NULL);
    rv_policy **pols;
    size_t npols;
    int rc = compile_files(paths, npaths, &arena, &pols, &npols);

    rv_buf bundle;
    rv_buf_init(&bundle, NULL, NULL);
    if (!rc) {
        if (!rv_bundle_write(&bundle, pols, npols)) {
            fprintf(stderr, "rulec: out of memory\n");
            rc = EXIT_TROUBLE;
        }
    }
    if (!rc) {
        /* Verify what we are about to write, exactly as a loader will. */
        rv_blob blob = {bundle.data, bundle.len, output};
        rv_program *prog;
        rv_error err;
        if (rv_program_load(&blob, 1, NULL, &prog, &err) != RV_OK) {
            fprintf(stderr, "rulec: internal error: the compiled bundle fails to load: %s\n",
                    err.message);
            rc = EXIT_TROUBLE;
        } else {
            rv_program_free(prog);
        }
    }
    if (!rc && !cli_write_atomically(output, bundle.data, bundle.len))
        rc = EXIT_TROUBLE;
    rv_buf_free(&bundle);
    rv_arena_free(&arena);
    cli_free_paths(paths, npaths);
    return rc;
}

int cli_disasm(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: rulec disasm BUNDLE.rbc|FILE...\n");
        return EXIT_TROUBLE;
    }
    rv_program *prog = cli_load_program(argv + 1, argc - 1, NULL, 0);
    if (!prog)
        return EXIT_TROUBLE;
    const char *text;
    size_t len;
    rv_error err;
    int rc = 0;
    rv_vm *vm;
    if (rv_vm_new(NULL, &vm) != RV_OK) {
        fprintf(stderr, "rulec: out of memory\n");
        rc = EXIT_TROUBLE;
    } else if (rv_program_disasm(prog, vm, &text, &len, &err) != RV_OK) {
        fprintf(stderr, "rulec: %s\n", err.message);
        rc = EXIT_TROUBLE;
    } else {
        fwrite(text, 1, len, stdout);
    }
    rv_vm_free(vm);
    rv_program_free(prog);
    return rc;
}
