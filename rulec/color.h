/* color.h - colour on a terminal for rulec's diagnostics, test results and
 * SPDX-License-Identifier: Apache-2.0
 * --explain: when, and how (ANSI SGR sequences).
 */
#ifndef RULEC_COLOR_H
#define RULEC_COLOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef enum cli_color { CLI_COLOR_AUTO = 0, CLI_COLOR_ALWAYS, CLI_COLOR_NEVER } cli_color;

/* The run's choice (--color, read by main before any subcommand). */
extern cli_color cli_color_mode;

/* "auto", "always" or "never"; false for anything else. */
bool cli_parse_color(const char *text, cli_color *out);

/* Whether to colour what goes to stream: --color=always yes, never no;
 * auto only when stream is a terminal, NO_COLOR is unset or empty and TERM
 * is not "dumb". */
bool cli_color_on(FILE *stream);

/* The sequences (empty strings when colour is off for stream). */
typedef struct cli_palette {
    const char *error, *warning, *note, *caret, *bold, *pass, *fail, *dim, *reset;
} cli_palette;
const cli_palette *cli_palette_for(FILE *stream);

/* Writes diagnostics text (rc_report_text's format: a header line
 * `FILE:LINE:COL: SEVERITY: message`, the source line and the carets) to
 * out, coloured when cli_color_on(out): the severity word red, yellow or
 * cyan, the location and message bold, the carets green. */
void cli_put_diagnostics(const char *text, size_t len, FILE *out);

#endif
