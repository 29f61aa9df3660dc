/* cmds.c - `rulec check`, `rulec compile` and `rulec disasm`.
 * SPDX-License-Identifier: Apache-2.0
 *
 * All three load their arguments through the compiler library exactly as
 * apply, test and rulesd do, so a folder means the same set everywhere.
 * compile writes its bundle through a temporary file renamed into place,
 * so a failed or interrupted run never leaves a half-written bundle.
 */
#include "cli.h"
#include "diagformat.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char check_usage[] =
    "usage: rulec check [--target NAME] [--format text|json|sarif] [--strict] POLICY...\n"
    "\n"
    "Checks policies (.rules sources; .rbc bundles are verified) and prints every\n"
    "diagnostic, sorted by file and position, then (when there were any) a count.\n"
    "  --target NAME   the target of policies whose header names none (default\n"
    "                  dstack; skypilot; 'any' checks no kinds or paths)\n"
    "  --format FMT    text (default): 'file:line:col: error: message', the line and\n"
    "                  carets, and the count, on standard error; json: one JSON\n"
    "                  document of the diagnostics (their notes nested) and counts;\n"
    "                  sarif: a SARIF 2.1.0 log. json and sarif go to standard output\n"
    "                  and nothing else does (see README, 'rulec check --format')\n"
    "  --strict        warnings fail the check too (exit 1): a condition that can\n"
    "                  never hold, a statement that never runs, a map walked as a\n"
    "                  list are rules that silently do nothing (for CI)\n"
    "\n"
    "example:\n"
    "  rulec check rules/ --format sarif > check.sarif\n"
    "exit status: 0 clean (warnings allowed unless --strict), 1 errors in the\n"
    "policies (or warnings, with --strict), 2 an input cannot be read or used\n";

static const char compile_usage[] =
    "usage: rulec compile [--target NAME] POLICY... -o BUNDLE.rbc [--sign KEY [--revision R]]\n"
    "\n"
    "Compiles policies into one verified bytecode bundle: the policy-set rules\n"
    "(priority order, same-name override) applied across sources and bundles.\n"
    "  -o, --output FILE   where to write it ('-': standard output); written through\n"
    "                      a temporary file renamed into place\n"
    "  --target NAME       the target of policies whose header names none (default\n"
    "                      dstack; skypilot; 'any' checks no kinds or paths)\n"
    "  --sign KEY          append a manifest (the bundle's size and SHA-256, the\n"
    "                      revision, each policy's name and SHA-256) signed with the\n"
    "                      private key KEY (rulec keygen); repeatable, up to 8 keys\n"
    "  --revision R        the signed revision (1-64 of A-Z a-z 0-9 . _ + : ~ -;\n"
    "                      compared as versions: 9 < 10); default: the UTC time,\n"
    "                      20250601T120000Z (SOURCE_DATE_EPOCH when set)\n"
    "\n"
    "example:\n"
    "  rulec compile rules/ -o policies.rbc\n"
    "  rulec compile rules/ -o policies.rbc --sign ci.key --revision 42\n"
    "exit status: 0 written, 1 errors in the policies, 2 usage or input error\n";

static const char disasm_usage[] =
    "usage: rulec disasm [--target NAME] POLICY...\n"
    "\n"
    "Prints a readable listing of the bytecode of the loaded set: the set's SHA-256\n"
    "digest (that of the bundle rulec compile writes for the same arguments), then\n"
    "each policy's name, priority, source, kinds, checksum and SHA-256 digest,\n"
    "parameters, constants, regexes, paths and instructions with their source lines.\n"
    "\n"
    "example:\n"
    "  rulec disasm rules/example.rules\n"
    "exit status: 0 listed, 1 errors in the policies, 2 usage or input error\n";

/* Parses a subcommand that takes only -h/--help (and what opts adds). On a
 * problem prints it with the usage and returns -1; on --help returns -2;
 * else the index of the first operand. */
typedef struct simple_opts {
    const char *output;   /* -o */
    const char *target;   /* --target */
    cli_diag_format format;  /* --format (check only) */
    const char *sign[9];     /* --sign (compile only; one more than allowed, to say so) */
    size_t nsign;
    const char *revision;    /* --revision (compile only) */
    bool strict;             /* --strict (check only) */
} simple_opts;

enum { OPT_TARGET = 256, OPT_FORMAT, OPT_SIGN, OPT_REVISION, OPT_STRICT };

static int parse_simple(int argc, char **argv, const char *usage, const char *shortopts,
                        const struct option *longopts, simple_opts *so)
{
    memset(so, 0, sizeof *so);
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            fputs(usage, stdout);
            return -2;
        case 'o':
            if (so->output) {
                fprintf(stderr, "rulec %s: -o given twice ('%s', then '%s')\n", argv[0], so->output,
                        optarg);
                return -1;
            }
            so->output = optarg;
            break;
        case OPT_TARGET: {
            char why[400];
            if (!rc_target_has_kind(optarg, NULL, why, sizeof why)) {
                fprintf(stderr, "rulec %s: --target: %s\n", argv[0], why);
                return -1;
            }
            so->target = optarg;
            break;
        }
        case OPT_SIGN:
            if (so->nsign == sizeof so->sign / sizeof *so->sign - 1) {
                fprintf(stderr, "rulec %s: at most %zu --sign keys\n", argv[0], so->nsign);
                return -1;
            }
            so->sign[so->nsign++] = optarg;
            break;
        case OPT_REVISION:
            so->revision = optarg;
            break;
        case OPT_STRICT:
            so->strict = true;
            break;
        case OPT_FORMAT:
            if (!cli_diag_format_parse(optarg, &so->format)) {
                fprintf(stderr, "rulec %s: --format takes text, json or sarif, not '%s'\n", argv[0],
                        optarg);
                return -1;
            }
            break;
        default: {
            char name[64];
            cli_bad_option(argv, c, name, sizeof name);
            if (c == ':')
                fprintf(stderr, "rulec %s: %s needs a value\n%s", argv[0], name, usage);
            else
                fprintf(stderr, "rulec %s: unknown option '%s'\n%s", argv[0], name, usage);
            return -1;
        }
        }
    }
    return optind;
}

static const struct option help_only[] = {
    {"target", required_argument, NULL, OPT_TARGET}, {"help", no_argument, NULL, 'h'}, {0, 0, 0, 0}};

static void print_summary(const rc_report *r, bool strict)
{
    int e = rc_report_errors(r), w = rc_report_warnings(r);
    if (e || w)
        fprintf(stderr, "%d error%s, %d warning%s%s\n", e, e == 1 ? "" : "s", w, w == 1 ? "" : "s",
                strict && w ? " (--strict: warnings fail the check)" : "");
}

int cli_check(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"target", required_argument, NULL, OPT_TARGET}, {"format", required_argument, NULL, OPT_FORMAT},
        {"strict", no_argument, NULL, OPT_STRICT}, {"help", no_argument, NULL, 'h'}, {0, 0, 0, 0}};
    simple_opts so;
    int first = parse_simple(argc, argv, check_usage, ":h", longopts, &so);
    if (first == -2)
        return 0;
    if (first < 0)
        return EXIT_TROUBLE;
    if (first >= argc) {
        fputs(check_usage, stderr);
        return EXIT_TROUBLE;
    }
    rv_program *prog;
    rc_report *report = rc_report_new();
    if (!report) {
        fprintf(stderr, "rulec: out of memory\n");
        return EXIT_TROUBLE;
    }
    int rc = EXIT_TROUBLE;
    /* An unreadable file is the run's input being wrong (2); the readable
     * ones are not compiled then, as their diagnostics would be partial. */
    if (rc_read_inputs(report, (const char *const *)argv + first, (size_t)(argc - first), 0)) {
        size_t n;
        rc_input *inputs = rc_report_inputs(report, &n);
        rc_result r = rc_load(report, inputs, n, &(rc_options){NULL, 0, so.target}, &prog);
        rc = r == RC_OK ? 0 : r == RC_INVALID ? EXIT_REJECTED : EXIT_TROUBLE;
        if (r == RC_OK)
            rv_program_free(prog);
        if (rc == 0 && so.strict && rc_report_warnings(report) > 0)
            rc = EXIT_REJECTED;
    }
    if (so.format == CLI_DIAG_TEXT) {
        cli_print_report(report);
        print_summary(report, so.strict);
    } else if (!cli_diag_write(report, so.format, stdout)) {
        /* Out of memory or a failed write: the document is missing or cut
         * short, so the run cannot say whether the policies are clean. */
        fprintf(stderr, "rulec check: cannot write the diagnostics to standard output\n");
        rc = EXIT_TROUBLE;
    }
    rc_report_free(report);
    return rc;
}

int cli_compile(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'}, {"target", required_argument, NULL, OPT_TARGET},
        {"sign", required_argument, NULL, OPT_SIGN}, {"revision", required_argument, NULL, OPT_REVISION},
        {"help", no_argument, NULL, 'h'}, {0, 0, 0, 0}};
    simple_opts so;
    int first = parse_simple(argc, argv, compile_usage, ":ho:", longopts, &so);
    const char *output = so.output;
    if (first == -2)
        return 0;
    if (first < 0)
        return EXIT_TROUBLE;
    if (!output || first >= argc) {
        fprintf(stderr, "rulec compile: %s\n%s", output ? "no policies given" : "-o BUNDLE.rbc is required",
                compile_usage);
        return EXIT_TROUBLE;
    }
    if (so.revision && !so.nsign) {
        fprintf(stderr, "rulec compile: --revision is the revision a signature states: give --sign KEY\n");
        return EXIT_TROUBLE;
    }
    rv_program *prog;
    rc_report *report;
    int rc = cli_load(argv + first, argc - first, RC_BUNDLE, so.target, &prog, &report);
    if (rc != 0)
        return rc;
    print_summary(report, so.strict);
    size_t size;
    const void *bundle = rc_report_bundle(report, &size);
    ru_buf signed_bundle = {0};
    if (so.nsign) {
        rc = cli_sign_bundle(so.sign, so.nsign, so.revision, bundle, size, prog, &signed_bundle);
        bundle = signed_bundle.data;
        size = signed_bundle.len;
    }
    if (rc == 0 && !cli_write_atomically(output, bundle, size))
        rc = EXIT_TROUBLE;
    ru_buf_free(&signed_bundle);
    rv_program_free(prog);
    rc_report_free(report);
    return rc;
}

int cli_disasm(int argc, char **argv)
{
    simple_opts so;
    int first = parse_simple(argc, argv, disasm_usage, ":h", help_only, &so);
    if (first == -2)
        return 0;
    if (first < 0)
        return EXIT_TROUBLE;
    if (first >= argc) {
        fputs(disasm_usage, stderr);
        return EXIT_TROUBLE;
    }
    rv_program *prog;
    int rc = cli_load(argv + first, argc - first, 0, so.target, &prog, NULL);
    if (rc != 0)
        return rc;  /* 1: the policies have errors, as check says */
    const char *text;
    size_t len;
    rv_error err;
    rv_vm *vm = NULL;
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
