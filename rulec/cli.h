/* cli.h - what the rulec subcommands share: exit codes, loading policy
 * SPDX-License-Identifier: Apache-2.0
 * arguments through the compiler library, reading and writing files, and
 * parameter overrides.
 */
#ifndef RULEC_CLI_H
#define RULEC_CLI_H

#include "buf.h"
#include "color.h"
#include "rulec.h"
#include "rulevm.h"

#include <stdbool.h>
#include <stdio.h>

/* Exit codes of every subcommand. */
enum { EXIT_ALLOWED = 0, EXIT_REJECTED = 1, EXIT_TROUBLE = 2 };

/* One parameter override from --param NAME=VALUE (NAME: param or
 * policy.param). */
typedef struct cli_param {
    const char *policy;   /* NULL: every policy declaring it */
    const char *name;
    const char *value;    /* as in a policy: 1h, "text", [1, 2] (rc_set_param) */
} cli_param;

/* Inputs larger than this are refused unless --max-input-size says
 * otherwise: a dstack spec is a few kilobytes, and a runaway input should
 * get a clear error, not exhaust memory. */
#define CLI_DEFAULT_MAX_INPUT ((size_t)64 << 20)

/* Reads a whole file ("-" is standard input) into memory from malloc,
 * refusing more than limit bytes (0: no limit). On failure prints
 * "rulec: cannot read 'PATH': reason" (or the limit) and returns NULL. */
char *cli_read_file(const char *path, size_t *len, size_t limit);

/* Writes data to path ("-": standard output) through a temporary file
 * beside it, flushed and renamed into place: a failed or interrupted run
 * never leaves a partial file or clobbers the old one. Prints the reason on
 * failure. */
bool cli_write_atomically(const char *path, const void *data, size_t len);

/* Reads policy arguments (sources, bundles, folders) and loads them with
 * rc_load(flags; target for sources whose header names none, NULL: dstack),
 * printing the diagnostics to stderr. Returns the exit code
 * the outcome means (0 loaded; 1 the policies have errors; 2 an input
 * cannot be used) and, on 0, the program (caller frees) and the report
 * (caller frees, may be NULL when report is NULL). */
int cli_load(char **args, int nargs, unsigned flags, const char *target, rv_program **prog,
             rc_report **report);

/* Loads policy arguments and applies the overrides. Prints diagnostics to
 * stderr. NULL on any error. */
rv_program *cli_load_program(char **args, int nargs, const char *target, const cli_param *params,
                             size_t nparams);

/* Parses "NAME=VALUE" into p (pointers into arg, which is modified). */
bool cli_parse_param(char *arg, cli_param *p);

/* The option getopt_long just refused (c: its ':' or '?'), as the user
 * wrote it ("-z", "--bogus"), in buf. */
const char *cli_bad_option(char **argv, int c, char *buf, size_t size);

/* The format of a spec file: by its name (.json, .yaml, .yml), else by
 * its first non-blank byte ('{' or '[': JSON). */
rv_format cli_spec_format(const char *path, const char *text, size_t len);

/* Reads the spec text (its format: cli_spec_format, stored in *in unless
 * in is NULL) into vm; it must be an object. false when it cannot be, the reason printed with the file and,
 * where known, the line and column. */
bool cli_parse_spec(rv_vm *vm, const char *path, const char *text, size_t len, rv_format *in,
                    rv_doc **spec);

/* Parses a positive byte count; false (with a message naming option) when
 * text is not one. */
bool cli_parse_size(const char *option, const char *text, size_t *out);

/* Prints the report's diagnostics (rc_report_text, program "rulec") to
 * standard error, in colour when cli_color_on(stderr). */
void cli_print_report(rc_report *report);

/* Subcommands: argv[0] is the subcommand's name. */
int cli_check(int argc, char **argv);
int cli_compile(int argc, char **argv);
int cli_disasm(int argc, char **argv);
int cli_apply(int argc, char **argv);
int cli_test(int argc, char **argv);   /* ruletest/runner.c */
int cli_fmt(int argc, char **argv);    /* fmt.c */
int cli_eval(int argc, char **argv);   /* eval.c */
int cli_completion(int argc, char **argv);   /* completion.c */
int cli_keygen(int argc, char **argv);   /* sign.c */
int cli_verify(int argc, char **argv);   /* sign.c */

/* compile --sign: appends to out the bundle (size bytes, the program
 * prog) followed by its signature section, signed with each private key
 * file (revision NULL: the creation time, 20250601T120000Z). Prints any
 * problem; returns 0 or EXIT_TROUBLE. */
int cli_sign_bundle(const char *const *keys, size_t nkeys, const char *revision, const void *bundle,
                    size_t size, const rv_program *prog, ru_buf *out);

#endif
