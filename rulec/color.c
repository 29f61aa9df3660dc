/* color.c - colour on a terminal (color.h). The diagnostics text is the
 * SPDX-License-Identifier: Apache-2.0
 * compiler library's (rc_report_text): colour is added here, by reading
 * its fixed shape line by line, so the library stays free of terminals.
 */
#include "color.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

cli_color cli_color_mode = CLI_COLOR_AUTO;

bool cli_parse_color(const char *text, cli_color *out)
{
    if (strcmp(text, "auto") == 0)
        *out = CLI_COLOR_AUTO;
    else if (strcmp(text, "always") == 0)
        *out = CLI_COLOR_ALWAYS;
    else if (strcmp(text, "never") == 0)
        *out = CLI_COLOR_NEVER;
    else
        return false;
    return true;
}

bool cli_color_on(FILE *stream)
{
    if (cli_color_mode != CLI_COLOR_AUTO)
        return cli_color_mode == CLI_COLOR_ALWAYS;
    const char *no = getenv("NO_COLOR");
    if (no && *no)
        return false;
    const char *term = getenv("TERM");
    if (term && strcmp(term, "dumb") == 0)
        return false;
    return isatty(fileno(stream)) == 1;
}

const cli_palette *cli_palette_for(FILE *stream)
{
    static const cli_palette on = {
        "\033[1;31m", "\033[1;33m", "\033[1;36m", "\033[1;32m", "\033[1m",
        "\033[32m", "\033[1;31m", "\033[2m", "\033[0m",
    };
    static const cli_palette off = {"", "", "", "", "", "", "", "", ""};
    return cli_color_on(stream) ? &on : &off;
}

/* The severity word of a header line and where it starts, or NULL. */
static const char *severity_at(const char *line, size_t len, size_t *at, size_t *wlen)
{
    static const char *const words[] = {": error: ", ": warning: ", ": note: "};
    for (size_t w = 0; w < 3; w++) {
        size_t n = strlen(words[w]);
        for (size_t i = 0; i + n <= len; i++)
            if (memcmp(line + i, words[w], n) == 0) {
                *at = i + 2;
                *wlen = n - 3;
                return words[w] + 2;
            }
    }
    return NULL;
}

static bool caret_line(const char *line, size_t len)
{
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i == len || line[i] != '^')
        return false;
    for (i++; i < len; i++)
        if (line[i] != '~')
            return false;
    return true;
}

void cli_put_diagnostics(const char *text, size_t len, FILE *out)
{
    if (!cli_color_on(out)) {
        fwrite(text, 1, len, out);
        return;
    }
    const cli_palette *c = cli_palette_for(out);
    int expect_source = 0;   /* lines of source and carets still to come */
    for (size_t pos = 0; pos < len;) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        size_t at, wlen;
        const char *sev;
        if (expect_source == 1 && caret_line(line, n)) {
            size_t lead = strspn(line, " \t");
            fprintf(out, "%.*s%s%.*s%s", (int)lead, line, c->caret, (int)(n - lead), line + lead, c->reset);
            expect_source = 0;
        } else if (expect_source == 2) {
            fwrite(line, 1, n, out);   /* the source line, as it is */
            expect_source = 1;
        } else if ((sev = severity_at(line, n, &at, &wlen)) != NULL) {
            const char *color = sev[0] == 'e' ? c->error : sev[0] == 'w' ? c->warning : c->note;
            fprintf(out, "%s%.*s%s%s%.*s%s%s%.*s%s", c->bold, (int)at, line, c->reset, color, (int)wlen,
                    line + at, c->reset, c->bold, (int)(n - at - wlen), line + at + wlen, c->reset);
            /* file:line:col: headers are followed by the source and carets. */
            const char *colon = memchr(line, ':', at);
            expect_source = colon && colon + 1 < line + at && colon[1] >= '0' && colon[1] <= '9' ? 2 : 0;
        } else {
            fwrite(line, 1, n, out);
            expect_source = 0;
        }
        if (nl)
            fputc('\n', out);
        pos += n + (nl ? 1 : 0);
    }
}
