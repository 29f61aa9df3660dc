/* log.h - rulesd's two outputs besides HTTP: the operational log (stderr,
 * SPDX-License-Identifier: Apache-2.0
 * one timestamped line per event, which journald captures under systemd)
 * and the decision log (JSON lines in a file, one per decision).
 * Neither ever receives a request body, a token or a spec value: callers
 * pass only redacted text (see redact.h).
 */
#ifndef RD_LOG_H
#define RD_LOG_H

#include <stdbool.h>
#include <stddef.h>

typedef enum rd_level { RD_ERROR, RD_WARN, RD_INFO, RD_DEBUG } rd_level;

void rd_log_set_level(rd_level max);
bool rd_log_enabled(rd_level level);
void rd_log(rd_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Logs a multi-line text (compiler diagnostics) one line at a time, each
 * line prefixed, so that every log line stays self-contained. A line that
 * starts with the level's own word ("error: ") loses it: the log line
 * names the level already. */
void rd_log_lines(rd_level level, const char *prefix, const char *text, size_t len);

/* UTC time as 2025-06-01T12:34:56.789Z (out holds at least 32 bytes). */
void rd_time_iso(char *out, size_t size);

/* The decision log. open: creates or appends (mode 0640); err gets the
 * reason on failure. reopen: opens the same path again and swaps it in
 * under the same descriptor number, so that writers racing with a log
 * rotation (SIGHUP) never see a closed descriptor. */
bool rd_declog_open(const char *path, char *err, size_t errsize);
bool rd_declog_reopen(void);
void rd_declog_close(void);
bool rd_declog_enabled(void);
/* Writes one complete line (with its newline) in one write(2): with
 * O_APPEND, lines from several threads never interleave. */
void rd_declog_write(const char *line, size_t len);

#endif
