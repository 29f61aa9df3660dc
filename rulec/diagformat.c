/* diagformat.c - `rulec check --format json|sarif`: the report's records
 * SPDX-License-Identifier: Apache-2.0
 * (rc_report_diagnostics) written as one JSON document of rulec's own
 * shape, or as a SARIF 2.1.0 log that CI code-scanning tools read. Both
 * nest each note under the record before it, as the record list orders
 * them; README.md ("rulec check --format") documents the shapes.
 */
#include "diagformat.h"

#include "buf.h"

#include <string.h>

bool cli_diag_format_parse(const char *name, cli_diag_format *out)
{
    static const struct {
        const char *name;
        cli_diag_format fmt;
    } names[] = {{"text", CLI_DIAG_TEXT}, {"json", CLI_DIAG_JSON}, {"sarif", CLI_DIAG_SARIF}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(name, names[i].name) == 0) {
            *out = names[i].fmt;
            return true;
        }
    }
    return false;
}

static const char *severity_name(rc_severity s)
{
    return s == RC_ERROR ? "error" : s == RC_WARNING ? "warning" : "note";
}

/* A newline and the indentation of depth (two spaces a level): both
 * documents are printed for people reading CI logs as well as programs. */
static void indent(ru_buf *b, int depth)
{
    ru_buf_putc(b, '\n');
    for (int i = 0; i < depth; i++)
        ru_buf_put(b, "  ", 2);
}

/* The length of the well-formed UTF-8 sequence at s (RFC 3629: no
 * overlong forms, surrogates or code points past U+10FFFF), 0 if there is
 * none. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;   /* the range of the second byte */
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0;   /* overlong */
        if (c == 0xED)
            hi = 0x9F;   /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;   /* overlong */
        if (c == 0xF4)
            hi = 0x8F;   /* past U+10FFFF */
    } else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

/* A JSON string of s. ru_buf_json_string escapes what JSON requires and
 * passes every other byte through, but a document must be UTF-8 (RFC 8259,
 * 8.1) while paths and messages (which quote source text) may hold any
 * bytes: each byte that starts no well-formed sequence becomes U+FFFD
 * first. (The SARIF uri keeps such a path's exact bytes, percent-encoded.) */
static void put_string(ru_buf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), i = 0, len;
    while (i < n && (len = utf8_len(p + i, n - i)) != 0)
        i += len;
    if (i == n) {
        ru_buf_json_string(b, s, n);
        return;
    }
    ru_buf clean = {0};
    for (i = 0; i < n; i += len ? len : 1) {
        len = utf8_len(p + i, n - i);
        if (len)
            ru_buf_put(&clean, s + i, len);
        else
            ru_buf_puts(&clean, "\xEF\xBF\xBD");   /* U+FFFD */
    }
    if (clean.oom)
        b->oom = true;
    else
        ru_buf_json_string(b, clean.data, clean.len);
    ru_buf_free(&clean);
}

/* The record's span with an end never before its start (an empty span is
 * a point); false when the record has no place in a file. */
static bool span_of(const rc_diagnostic *d, rc_span *out)
{
    if (!d->file || d->span.first_line <= 0)
        return false;
    *out = d->span;
    if (out->first_column <= 0)
        out->first_column = 1;
    if (out->last_line < out->first_line ||
        (out->last_line == out->first_line && out->last_column < out->first_column)) {
        out->last_line = out->first_line;
        out->last_column = out->first_column;
    }
    return true;
}

/* The index just past record i's notes. */
static size_t notes_end(const rc_diagnostic *d, size_t n, size_t i)
{
    size_t j = i + 1;
    while (j < n && d[j].severity == RC_NOTE)
        j++;
    return j;
}

/* ---- JSON ---- */

/* severity, file, span, message: the keys a record and a note share. */
static void json_fields(ru_buf *b, const rc_diagnostic *d, int depth)
{
    indent(b, depth);
    ru_buf_printf(b, "\"severity\": \"%s\",", severity_name(d->severity));
    indent(b, depth);
    ru_buf_puts(b, "\"file\": ");
    if (d->file)
        put_string(b, d->file);
    else
        ru_buf_puts(b, "null");
    ru_buf_putc(b, ',');
    indent(b, depth);
    ru_buf_puts(b, "\"span\": ");
    rc_span s;
    if (span_of(d, &s))
        ru_buf_printf(b,
                      "{\"start\": {\"line\": %d, \"column\": %d}, "
                      "\"end\": {\"line\": %d, \"column\": %d}}",
                      s.first_line, s.first_column, s.last_line, s.last_column);
    else
        ru_buf_puts(b, "null");
    ru_buf_putc(b, ',');
    indent(b, depth);
    ru_buf_puts(b, "\"message\": ");
    put_string(b, d->message);
}

static void write_json(ru_buf *b, rc_report *report, const rc_diagnostic *d, size_t n)
{
    size_t notes = 0;
    ru_buf_puts(b, "{");
    indent(b, 1);
    ru_buf_puts(b, "\"diagnostics\": [");
    for (size_t i = 0; i < n;) {
        size_t end = notes_end(d, n, i);
        indent(b, 2);
        ru_buf_putc(b, '{');
        json_fields(b, &d[i], 3);
        ru_buf_putc(b, ',');
        indent(b, 3);
        ru_buf_puts(b, "\"notes\": [");
        for (size_t k = i + 1; k < end; k++) {
            indent(b, 4);
            ru_buf_putc(b, '{');
            json_fields(b, &d[k], 5);
            indent(b, 4);
            ru_buf_puts(b, k + 1 < end ? "}," : "}");
        }
        if (end > i + 1)
            indent(b, 3);
        ru_buf_putc(b, ']');
        indent(b, 2);
        ru_buf_puts(b, end < n ? "}," : "}");
        notes += (size_t)(d[i].severity == RC_NOTE) + (end - i - 1);
        i = end;
    }
    if (n)
        indent(b, 1);
    ru_buf_puts(b, "],");
    indent(b, 1);
    ru_buf_printf(b, "\"counts\": {\"errors\": %d, \"warnings\": %d, \"notes\": %zu}",
                  rc_report_errors(report), rc_report_warnings(report), notes);
    ru_buf_puts(b, "\n}\n");
}

/* ---- SARIF ---- */

/* The rule every result names. A record carries no kind of diagnostic
 * (rc_diagnostic: severity, place, message), and an id derived from the
 * wording of messages would change whenever a message is improved, so
 * there is one stable rule; the level tells errors from warnings. */
#define SARIF_RULE "rulec"

/* The input a record's file names, for its text (NULL: none read). */
static const rc_input *input_named(const rc_input *in, size_t nin, const char *file)
{
    for (size_t i = 0; i < nin; i++)
        if (in[i].name && strcmp(in[i].name, file) == 0)
            return &in[i];
    return NULL;
}

/* rulec counts columns in bytes (as the text output shows them); SARIF
 * knows only UTF-16 code units and Unicode code points, so the log says
 * unicodeCodePoints and each column is converted on its line of the
 * source: one per byte that does not continue a UTF-8 sequence. Past the
 * text, or with no text, bytes are all there is to count. */
static int code_point_column(const rc_input *in, int line, int column)
{
    if (!in || column <= 1)
        return column;
    const char *p = in->data, *end = in->data + in->size;
    for (int l = 1; l < line; l++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            return column;
        p = nl + 1;
    }
    int cp = 1;
    for (int i = 0; i < column - 1; i++)
        if (p + i >= end || ((unsigned char)p[i] & 0xC0) != 0x80)
            cp++;
    return cp;
}

/* The file as given, as a relative (or absolute-path) URI reference:
 * every byte but unreserved characters and '/' percent-encoded (RFC 3986),
 * so a space, a '%', a ':' in the first segment or any non-ASCII byte
 * still makes a valid uri. */
static void put_uri(ru_buf *b, const char *path)
{
    static const char hex[] = "0123456789ABCDEF";
    ru_buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        unsigned char c = *p;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
            ru_buf_putc(b, (char)c);
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            ru_buf_put(b, esc, 3);
        }
    }
    ru_buf_putc(b, '"');
}

/* "physicalLocation": {...} of a record that names a file (a whole-file
 * record gets no region). */
static void sarif_physical(ru_buf *b, const rc_diagnostic *d, const rc_input *in, size_t nin,
                           int depth)
{
    indent(b, depth);
    ru_buf_puts(b, "\"physicalLocation\": {");
    indent(b, depth + 1);
    ru_buf_puts(b, "\"artifactLocation\": {\"uri\": ");
    put_uri(b, d->file);
    ru_buf_putc(b, '}');
    rc_span s;
    if (span_of(d, &s)) {
        const rc_input *src = input_named(in, nin, d->file);
        ru_buf_putc(b, ',');
        indent(b, depth + 1);
        ru_buf_printf(b,
                      "\"region\": {\"startLine\": %d, \"startColumn\": %d, "
                      "\"endLine\": %d, \"endColumn\": %d}",
                      s.first_line, code_point_column(src, s.first_line, s.first_column),
                      s.last_line, code_point_column(src, s.last_line, s.last_column));
    }
    indent(b, depth);
    ru_buf_putc(b, '}');
}

static void sarif_message(ru_buf *b, const char *text)
{
    ru_buf_puts(b, "\"message\": {\"text\": ");
    put_string(b, text);
    ru_buf_putc(b, '}');
}

static void sarif_result(ru_buf *b, const rc_diagnostic *d, size_t nnotes, const rc_input *in,
                         size_t nin)
{
    indent(b, 4);
    ru_buf_putc(b, '{');
    indent(b, 5);
    ru_buf_puts(b, "\"ruleId\": \"" SARIF_RULE "\",");
    indent(b, 5);
    ru_buf_printf(b, "\"level\": \"%s\",", severity_name(d->severity));
    indent(b, 5);
    sarif_message(b, d->message);
    if (d->file) {
        ru_buf_putc(b, ',');
        indent(b, 5);
        ru_buf_puts(b, "\"locations\": [");
        indent(b, 6);
        ru_buf_putc(b, '{');
        sarif_physical(b, d, in, nin, 7);
        indent(b, 6);
        ru_buf_putc(b, '}');
        indent(b, 5);
        ru_buf_putc(b, ']');
    }
    if (nnotes) {
        /* relatedLocations must be unique: each gets an id (3.28.2). */
        ru_buf_putc(b, ',');
        indent(b, 5);
        ru_buf_puts(b, "\"relatedLocations\": [");
        for (size_t k = 0; k < nnotes; k++) {
            const rc_diagnostic *note = &d[1 + k];
            indent(b, 6);
            ru_buf_putc(b, '{');
            indent(b, 7);
            ru_buf_printf(b, "\"id\": %zu,", k + 1);
            if (note->file) {
                sarif_physical(b, note, in, nin, 7);
                ru_buf_putc(b, ',');
            }
            indent(b, 7);
            sarif_message(b, note->message);
            indent(b, 6);
            ru_buf_puts(b, k + 1 < nnotes ? "}," : "}");
        }
        indent(b, 5);
        ru_buf_putc(b, ']');
    }
    indent(b, 4);
    ru_buf_putc(b, '}');
}

static void write_sarif(ru_buf *b, rc_report *report, const rc_diagnostic *d, size_t n)
{
    size_t nin;
    const rc_input *in = rc_report_inputs(report, &nin);
    ru_buf_puts(b, "{");
    indent(b, 1);
    ru_buf_puts(b, "\"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",");
    indent(b, 1);
    ru_buf_puts(b, "\"version\": \"2.1.0\",");
    indent(b, 1);
    ru_buf_puts(b, "\"runs\": [");
    indent(b, 2);
    ru_buf_putc(b, '{');
    indent(b, 3);
    ru_buf_puts(b, "\"tool\": {");
    indent(b, 4);
    ru_buf_puts(b, "\"driver\": {");
    indent(b, 5);
    ru_buf_puts(b, "\"name\": \"rulec\",");
    indent(b, 5);
    ru_buf_printf(b, "\"version\": \"%d.%d.%d\",", RV_VERSION_MAJOR, RV_VERSION_MINOR,
                  RV_VERSION_PATCH);
    indent(b, 5);
    ru_buf_puts(b, "\"rules\": [");
    indent(b, 6);
    ru_buf_puts(b, "{\"id\": \"" SARIF_RULE "\", \"shortDescription\": {\"text\": "
                   "\"A problem rulec check found in a policy or an input\"}}");
    indent(b, 5);
    ru_buf_putc(b, ']');
    indent(b, 4);
    ru_buf_putc(b, '}');
    indent(b, 3);
    ru_buf_puts(b, "},");
    indent(b, 3);
    ru_buf_puts(b, "\"columnKind\": \"unicodeCodePoints\",");
    indent(b, 3);
    ru_buf_puts(b, "\"results\": [");
    for (size_t i = 0; i < n;) {
        size_t end = notes_end(d, n, i);
        sarif_result(b, &d[i], end - i - 1, in, nin);
        if (end < n)
            ru_buf_putc(b, ',');
        i = end;
    }
    if (n)
        indent(b, 3);
    ru_buf_putc(b, ']');
    indent(b, 2);
    ru_buf_putc(b, '}');
    indent(b, 1);
    ru_buf_puts(b, "]\n}\n");
}

bool cli_diag_write(rc_report *report, cli_diag_format fmt, FILE *out)
{
    size_t n;
    const rc_diagnostic *d = rc_report_diagnostics(report, &n);
    /* The records are made on demand: none while the report counts some
     * means memory ran out making them. */
    if (!n && (rc_report_errors(report) || rc_report_warnings(report)))
        return false;
    ru_buf b = {0};
    if (fmt == CLI_DIAG_SARIF)
        write_sarif(&b, report, d, n);
    else
        write_json(&b, report, d, n);
    bool ok = !b.oom && fwrite(b.data, 1, b.len, out) == b.len;
    ru_buf_free(&b);
    return fflush(out) == 0 && ok && !ferror(out);
}
