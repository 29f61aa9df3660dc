/* log.c - the operational log on stderr and the decision log file.
 * SPDX-License-Identifier: Apache-2.0
 * Each log line is formatted in full, then written with one fprintf so
 * that lines from worker threads never interleave (stdio locks per call).
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static rd_level max_level = RD_INFO;
static int declog_fd = -1;
static char declog_path[4096];

static const char *const level_names[] = {"error", "warning", "info", "debug"};

void rd_log_set_level(rd_level max)
{
    max_level = max;
}

bool rd_log_enabled(rd_level level)
{
    return level <= max_level;
}

void rd_time_iso(char *out, size_t size)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    char base[24];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, size, "%s.%03ldZ", base, ts.tv_nsec / 1000000L);
}

void rd_log(rd_level level, const char *fmt, ...)
{
    if (!rd_log_enabled(level))
        return;
    char msg[2048], when[32];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    rd_time_iso(when, sizeof when);
    fprintf(stderr, "%s rulesd: %s: %s\n", when, level_names[level], msg);
}

void rd_log_lines(rd_level level, const char *prefix, const char *text, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && text[j] != '\n')
            j++;
        /* A diagnostic without a file starts with its severity, which
         * the log line says already ("rulesd: error: error: ..."). */
        size_t sev = strlen(level_names[level]);
        size_t from = i;
        if (j - i > sev + 2 && memcmp(text + i, level_names[level], sev) == 0 && text[i + sev] == ':' &&
            text[i + sev + 1] == ' ')
            from = i + sev + 2;
        if (j > i)
            rd_log(level, "%s%.*s", prefix, (int)(j - from), text + from);
        i = j + 1;
    }
}

bool rd_declog_open(const char *path, char *err, size_t errsize)
{
    if (strlen(path) >= sizeof declog_path) {
        snprintf(err, errsize, "decision log path is too long");
        return false;
    }
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        snprintf(err, errsize, "cannot open decision log '%s': %s", path, strerror(errno));
        return false;
    }
    declog_fd = fd;
    snprintf(declog_path, sizeof declog_path, "%s", path);
    return true;
}

bool rd_declog_reopen(void)
{
    if (declog_fd < 0)
        return true;
    int fd = open(declog_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        rd_log(RD_ERROR, "cannot reopen decision log '%s': %s (still writing to the old file)",
               declog_path, strerror(errno));
        return false;
    }
    /* dup2 swaps the open file under the same number atomically. */
    if (dup2(fd, declog_fd) < 0) {
        rd_log(RD_ERROR, "cannot reopen decision log '%s': %s", declog_path, strerror(errno));
        close(fd);
        return false;
    }
    close(fd);
    return true;
}

void rd_declog_close(void)
{
    if (declog_fd >= 0)
        close(declog_fd);
    declog_fd = -1;
}

bool rd_declog_enabled(void)
{
    return declog_fd >= 0;
}

void rd_declog_write(const char *line, size_t len)
{
    if (declog_fd < 0)
        return;
    while (len > 0) {
        ssize_t n = write(declog_fd, line, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            /* A full disk must not take the server down; say so, once per
             * failing write, and go on deciding. */
            rd_log(RD_ERROR, "cannot write decision log '%s': %s", declog_path, strerror(errno));
            return;
        }
        line += n;
        len -= (size_t)n;
    }
}
