/* SPDX-License-Identifier: Apache-2.0 */
/* dir.c - listing a folder (dir.h). */
#include "dir.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int by_string(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void ru_free_paths(char **paths, size_t count)
{
    for (size_t i = 0; paths && i < count; i++)
        free(paths[i]);
    free(paths);
}

int ru_list_dir(const char *dir, bool (*keep)(const char *name, void *ud), void *ud,
                char ***paths, size_t *count)
{
    *paths = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (!d)
        return errno;
    size_t n = 0, cap = 0, dlen = strlen(dir);
    bool slash = dlen && dir[dlen - 1] == '/';
    char **out = NULL;
    int failure = 0;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d))) {
        const char *name = de->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || (keep && !keep(name, ud)))
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **no = realloc(out, ncap * sizeof *out);
            if (!no) {
                failure = ENOMEM;
                break;
            }
            out = no;
            cap = ncap;
        }
        size_t len = dlen + strlen(name) + 2;
        if (!(out[n] = malloc(len))) {
            failure = ENOMEM;
            break;
        }
        snprintf(out[n++], len, "%s%s%s", dir, slash ? "" : "/", name);
        errno = 0;
    }
    if (!failure && errno)
        failure = errno;
    closedir(d);
    if (failure) {
        ru_free_paths(out, n);
        return failure;
    }
    if (n > 1)
        qsort(out, n, sizeof *out, by_string);
    *paths = out;
    *count = n;
    return 0;
}
