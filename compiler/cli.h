/* cli.h - what the rulec subcommands share: loading policy arguments
 * (.rules sources, .rbc bundles, folders) into a verified program, reading
 * files, and the exit codes.
 */
#ifndef RC_CLI_H
#define RC_CLI_H

#include "compile.h"
#include "rulevm.h"

#include <stdio.h>

/* Exit codes of every subcommand. */
enum { EXIT_ALLOWED = 0, EXIT_REJECTED = 1, EXIT_TROUBLE = 2 };

/* One parameter override from --param NAME=VALUE (NAME: param or
 * policy.param). */
typedef struct cli_param {
    const char *policy;   /* NULL: every policy declaring it */
    const char *name;
    const char *value;    /* JSON text, or a bare string */
} cli_param;

/* Inputs larger than this are refused unless --max-input-size says
 * otherwise: a dstack spec is a few kilobytes, and a runaway input should
 * get a clear error, not exhaust memory. */
#define CLI_DEFAULT_MAX_INPUT ((size_t)64 << 20)

/* Reads a whole file ("-" is standard input) into memory from malloc,
 * refusing more than limit bytes (0: no limit). On failure prints
 * "rulec: cannot read 'PATH': reason" (or the limit) and returns NULL. */
char *cli_read_file(const char *path, size_t *len, size_t limit);

/* Writes data to path through a temporary file beside it, flushed and
 * renamed into place: a failed or interrupted run never leaves a partial
 * file or clobbers the old one. Prints the reason on failure. */
bool cli_write_atomically(const char *path, const void *data, size_t len);

/* Expands policy arguments: a folder stands for its *.rules and *.rbc
 * files (sorted, not recursive). Returns a malloc'd array of paths (each
 * malloc'd) or NULL after printing an error. */
char **cli_expand_policies(char **args, int nargs, size_t *count);
void cli_free_paths(char **paths, size_t count);

/* Compiles/loads policy arguments into one verified program and applies the
 * overrides. Prints diagnostics to stderr. NULL on any error. */
rv_program *cli_load_program(char **args, int nargs, const cli_param *params, size_t nparams);

/* Parses "NAME=VALUE" into p (pointers into arg, which is modified). */
bool cli_parse_param(char *arg, cli_param *p);

int cli_check(int argc, char **argv);
int cli_compile(int argc, char **argv);
int cli_disasm(int argc, char **argv);
int cli_apply(int argc, char **argv);
int cli_test(int argc, char **argv);   /* cli_test.c */

#endif
