/* main.c - rulec's entry point: subcommand dispatch, usage, and the
 * SPDX-License-Identifier: Apache-2.0
 * helpers every subcommand shares (reading and writing files, loading
 * policy arguments through the compiler library, parameter overrides).
 */
#include "cli.h"
#include "file.h"
#include "libversions.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The commit the build came from (the Makefile passes it; "unknown"
 * outside a git checkout). */
#ifndef RULES_COMMIT
#define RULES_COMMIT "unknown"
#endif

static const char usage_text[] =
    "usage: rulec <command> [options]\n"
    "\n"
    "commands:\n"
    "  check POLICY... [--format text|json|sarif] [--strict]\n"
    "                                     check policies, print every diagnostic\n"
    "  compile POLICY... -o BUNDLE.rbc [--sign KEY [--revision R]]\n"
    "                                     compile policies into one bytecode bundle,\n"
    "                                     signed with KEY when --sign is given\n"
    "  disasm POLICY...                   print a readable listing of the bytecode\n"
    "  apply POLICY... SPEC --kind K [--user U] [--project P] [--param NAME=VALUE]...\n"
    "        [--output json|yaml] [--explain] [--max-input-size BYTES]\n"
    "                                     apply policies to a spec (JSON or YAML, '-' = stdin)\n"
    "  apply POLICY... --request FILE --kind K [--ndjson] [--param NAME=VALUE]... [--explain]\n"
    "                                     answer dstack REST plugin request bodies\n"
    "  test [PATH...] [--coverage] [--min-coverage N] [-k PATTERN] [--json] [--junit FILE]\n"
    "                                     run the *.test.yaml policy tests under PATHs\n"
    "  fmt [--check | --diff | -w] [PATH...]\n"
    "                                     lay out .rules files canonically\n"
    "  eval EXPR --spec FILE --kind K [--target T] [--user U] [--project P]\n"
    "                                     print an expression's value and type on a spec\n"
    "  completion bash|zsh|fish           print a shell completion script\n"
    "  keygen KEY                         write an Ed25519 key pair: KEY (private, mode\n"
    "                                     0600) and KEY.pub, for signing bundles\n"
    "  verify BUNDLE --key PUBLIC.pub...  check a signed bundle's signature, digests\n"
    "                                     and policies\n"
    "\n"
    "check, compile, disasm and apply take --target NAME (default dstack; 'any'\n"
    "checks no kinds or paths).\n"
    "POLICY is a .rules source, a .rbc bundle (told apart by content), or a folder:\n"
    "its *.rules and *.rbc files not starting with '.', sorted. 'rulec COMMAND --help'\n"
    "describes each command, with an example. Every command takes --color=auto|always|never.\n"
    "exit status: 0 allowed/ok, 1 rejected/errors in policies, 2 usage or input error\n";

char *cli_read_file(const char *path, size_t *len, size_t limit)
{
    char *data;
    int e = ru_read_file(path, limit, &data, len);
    if (e == EFBIG)
        fprintf(stderr, "rulec: '%s' is larger than the %zu-byte input limit (--max-input-size)\n",
                path, limit);
    else if (e)
        fprintf(stderr, "rulec: cannot read '%s': %s\n", path, strerror(e));
    return data;
}

bool cli_write_atomically(const char *path, const void *data, size_t len)
{
    int e = ru_write_file_atomic(path, data, len);
    if (e)
        fprintf(stderr, "rulec: cannot write '%s': %s\n", strcmp(path, "-") ? path : "standard output",
                strerror(e));
    return e == 0;
}

bool cli_parse_param(char *arg, cli_param *p)
{
    char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return false;
    *eq = '\0';
    p->value = eq + 1;
    char *dot = strrchr(arg, '.');
    if (dot && dot != arg && dot[1]) {
        *dot = '\0';
        p->policy = arg;
        p->name = dot + 1;
    } else {
        p->policy = NULL;
        p->name = arg;
    }
    return true;
}

const char *cli_bad_option(char **argv, int c, char *buf, size_t size)
{
    /* An unknown short option may sit inside a group ("-zq") that optind
     * has not passed yet: only optopt names it. An unknown long option
     * leaves optopt 0 and is the element just passed. */
    const char *last = argv[optind - 1];
    bool long_opt = strncmp(last, "--", 2) == 0;
    if (c == '?' && optopt > 0 && optopt < 256)
        snprintf(buf, size, "-%c", optopt);
    else if (c == ':' && !long_opt && optopt > 0 && optopt < 256)
        snprintf(buf, size, "-%c", optopt);
    else
        snprintf(buf, size, "%.*s", (int)strcspn(last, "="), last);
    return buf;
}

bool cli_parse_size(const char *option, const char *text, size_t *out)
{
    /* strtoull takes "-1" as a huge number: only digits are a size. */
    bool digits = *text != '\0';
    for (const char *p = text; *p; p++)
        digits = digits && *p >= '0' && *p <= '9';
    errno = 0;
    unsigned long long n = digits ? strtoull(text, NULL, 10) : 0;
    if (!digits || errno || n == 0 || n > SIZE_MAX) {
        fprintf(stderr, "rulec: %s takes a positive number of bytes, not '%s'\n", option, text);
        return false;
    }
    *out = (size_t)n;
    return true;
}

void cli_print_report(rc_report *report)
{
    size_t len;
    const char *text = rc_report_text(report, "rulec", &len);
    cli_put_diagnostics(text, len, stderr);
}

int cli_load(char **args, int nargs, unsigned flags, const char *target, rv_program **prog,
             rc_report **report_out)
{
    *prog = NULL;
    if (report_out)
        *report_out = NULL;
    rc_report *report = rc_report_new();
    if (!report) {
        fprintf(stderr, "rulec: out of memory\n");
        return EXIT_TROUBLE;
    }
    int rc = EXIT_TROUBLE;
    if (rc_read_inputs(report, (const char *const *)args, (size_t)nargs, 0)) {
        size_t n;
        rc_input *inputs = rc_report_inputs(report, &n);
        rc_result r = rc_load(report, inputs, n, &(rc_options){NULL, flags, target}, prog);
        rc = r == RC_OK ? 0 : r == RC_INVALID ? EXIT_REJECTED : EXIT_TROUBLE;
    }
    cli_print_report(report);
    if (rc == 0 && report_out)
        *report_out = report;
    else
        rc_report_free(report);
    return rc;
}

rv_program *cli_load_program(char **args, int nargs, const char *target, const cli_param *params,
                             size_t nparams)
{
    rv_program *prog;
    if (cli_load(args, nargs, 0, target, &prog, NULL) != 0)
        return NULL;
    rv_error err;
    for (size_t i = 0; i < nparams; i++) {
        if (rc_set_param(prog, params[i].policy, params[i].name, params[i].value, &err) != RV_OK) {
            if (err.line)
                fprintf(stderr, "rulec: --param: %s (value line %lu, column %lu)\n", err.message,
                        err.line, err.column);
            else
                fprintf(stderr, "rulec: --param: %s\n", err.message);
            rv_program_free(prog);
            return NULL;
        }
    }
    return prog;
}

/* Takes --color=WHEN / --color WHEN out of argv wherever it stands (before
 * a "--"), so every subcommand honours it. Returns false (with a message)
 * for a bad WHEN. */
static bool take_color(int *argc, char **argv)
{
    int out = 1;
    bool dashdash = false;
    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i];
        const char *when = NULL;
        if (!dashdash && strcmp(a, "--") == 0)
            dashdash = true;
        if (!dashdash && strncmp(a, "--color=", 8) == 0) {
            when = a + 8;
        } else if (!dashdash && strcmp(a, "--color") == 0) {
            if (i + 1 >= *argc) {
                fprintf(stderr, "rulec: --color takes auto, always or never\n");
                return false;
            }
            when = argv[++i];
        } else {
            argv[out++] = argv[i];
            continue;
        }
        if (!cli_parse_color(when, &cli_color_mode)) {
            fprintf(stderr, "rulec: --color takes auto, always or never, not '%s'\n", when);
            return false;
        }
    }
    argv[out] = NULL;
    *argc = out;
    return true;
}

static int run_command(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_text, stderr);
        return EXIT_TROUBLE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        char libs[256];
        ru_library_versions(libs, sizeof libs);
        printf("rulec %d.%d.%d\ncommit %s\nlibraries: %s\n", RV_VERSION_MAJOR, RV_VERSION_MINOR,
               RV_VERSION_PATCH, RULES_COMMIT, libs);
        return 0;
    }
    if (strcmp(cmd, "check") == 0)
        return cli_check(argc - 1, argv + 1);
    if (strcmp(cmd, "compile") == 0)
        return cli_compile(argc - 1, argv + 1);
    if (strcmp(cmd, "disasm") == 0)
        return cli_disasm(argc - 1, argv + 1);
    if (strcmp(cmd, "apply") == 0)
        return cli_apply(argc - 1, argv + 1);
    if (strcmp(cmd, "test") == 0)
        return cli_test(argc - 1, argv + 1);
    if (strcmp(cmd, "fmt") == 0)
        return cli_fmt(argc - 1, argv + 1);
    if (strcmp(cmd, "eval") == 0)
        return cli_eval(argc - 1, argv + 1);
    if (strcmp(cmd, "completion") == 0)
        return cli_completion(argc - 1, argv + 1);
    if (strcmp(cmd, "keygen") == 0)
        return cli_keygen(argc - 1, argv + 1);
    if (strcmp(cmd, "verify") == 0)
        return cli_verify(argc - 1, argv + 1);
    fprintf(stderr, "rulec: unknown command '%s'\n\n%s", cmd, usage_text);
    return EXIT_TROUBLE;
}

/* What a command wrote to standard output must have arrived: a full disk
 * or a closed pipe would otherwise leave a cut-off answer behind an exit
 * status that says all went well. */
int main(int argc, char **argv)
{
    if (!take_color(&argc, argv))
        return EXIT_TROUBLE;
    int rc = run_command(argc, argv);
    int e = fflush(stdout) == 0 ? 0 : errno;
    if (e || ferror(stdout)) {
        fprintf(stderr, "rulec: cannot write standard output: %s\n", e ? strerror(e) : "a write failed");
        return EXIT_TROUBLE;
    }
    return rc;
}
