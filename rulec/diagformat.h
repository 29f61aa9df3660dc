/* diagformat.h - `rulec check --format`: the report's diagnostics as one
 * SPDX-License-Identifier: Apache-2.0
 * JSON document or as a SARIF 2.1.0 log, for CI and editors. The text
 * format is the compiler library's own (rc_report_text).
 */
#ifndef RULEC_DIAGFORMAT_H
#define RULEC_DIAGFORMAT_H

#include "rulec.h"

#include <stdbool.h>
#include <stdio.h>

typedef enum cli_diag_format { CLI_DIAG_TEXT, CLI_DIAG_JSON, CLI_DIAG_SARIF } cli_diag_format;

/* Reads a --format value ("text", "json", "sarif"); false when it names
 * none of them. */
bool cli_diag_format_parse(const char *name, cli_diag_format *out);

/* Writes every record of report as one JSON or SARIF document (fmt not
 * CLI_DIAG_TEXT) to out, ending in a newline, and flushes it. The shapes
 * are documented in README.md ("rulec check --format"). Returns false
 * when memory ran out (nothing is written then) or writing failed; the
 * caller says so. */
bool cli_diag_write(rc_report *report, cli_diag_format fmt, FILE *out);

#endif
