/* SPDX-License-Identifier: Apache-2.0 */
/* file.c - reading a whole file and writing one atomically (file.h). */
#include "file.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int ru_read_file(const char *path, size_t max_bytes, char **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return errno;
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap + 1);
    int failure = buf ? 0 : ENOMEM;
    while (!failure) {
        n += fread(buf + n, 1, cap - n, f);
        if (max_bytes && n > max_bytes) {
            failure = EFBIG;
            break;
        }
        if (n < cap) {
            if (ferror(f))
                failure = errno ? errno : EIO;
            break;
        }
        char *nb = cap <= ((size_t)-1 - 1) / 2 ? realloc(buf, cap * 2 + 1) : NULL;
        if (!nb) {
            failure = ENOMEM;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    if (f != stdin)
        fclose(f);
    if (failure) {
        free(buf);
        return failure;
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
}

int ru_write_file_atomic(const char *path, const void *data, size_t len)
{
    if (strcmp(path, "-") == 0) {
        if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0)
            return errno ? errno : EIO;
        return 0;
    }
    /* Through a link to what it names: renaming over the link itself would
     * replace it with a plain file. */
    char *resolved = NULL;
    struct stat st;
    bool exists = lstat(path, &st) == 0;
    if (exists && S_ISLNK(st.st_mode)) {
        if (!(resolved = realpath(path, NULL)))
            return errno;
        path = resolved;
        exists = stat(path, &st) == 0;
    }
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp) {
        free(resolved);
        return ENOMEM;
    }
    snprintf(tmp, n, "%s.tmpXXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        free(resolved);
        return e;
    }
    /* mkstemp makes the file private; give it the old file's permissions,
     * or for a new one those of a plain create (0666 less the umask). */
    mode_t mode;
    if (exists && S_ISREG(st.st_mode)) {
        mode = st.st_mode & 07777;
    } else {
        mode_t mask = umask(0);
        umask(mask);
        mode = 0666 & ~mask;
    }
    int failure = fchmod(fd, mode) == 0 ? 0 : errno;
    const char *p = data;
    size_t left = len;
    while (!failure && left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            failure = errno;
            break;
        }
        p += w;
        left -= (size_t)w;
    }
    if (!failure && fsync(fd) != 0)
        failure = errno;
    if (close(fd) != 0 && !failure)
        failure = errno;
    if (!failure && rename(tmp, path) != 0)
        failure = errno;
    if (failure)
        unlink(tmp);
    free(tmp);
    free(resolved);
    return failure;
}
