/* replay.c - runs a fuzz target without libFuzzer: every file named, and
 * SPDX-License-Identifier: Apache-2.0
 * every file in every folder named, goes through LLVMFuzzerTestOneInput
 * once. `make test` builds each target with it (tests/run-fuzz.sh) and
 * replays the seed corpora and fuzz/regressions/, so the targets keep
 * building, their checks keep holding on the seeds, and an input that once
 * crashed stays fixed, under the plain and sanitizer builds alike. Prints
 * how many inputs ran; a failed check aborts, naming the file first.
 */
#include "dir.h"
#include "file.h"
#include "fuzz.h"

#include <errno.h>
#include <sys/stat.h>

static bool keep_all(const char *name, void *ud)
{
    (void)ud;
    return name[0] != '.';
}

static size_t run_file(const char *path)
{
    char *data;
    size_t len;
    int e = ru_read_file(path, 0, &data, &len);
    if (e) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(e));
        exit(2);
    }
    /* Named before it runs: a failed check aborts right after. */
    fprintf(stderr, "replay: %s\n", path);
    LLVMFuzzerTestOneInput((const uint8_t *)data, len);
    free(data);
    return 1;
}

int main(int argc, char **argv)
{
    size_t n = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
            return 2;
        }
        if (!S_ISDIR(st.st_mode)) {
            n += run_file(argv[i]);
            continue;
        }
        char **names;
        size_t count;
        int e = ru_list_dir(argv[i], keep_all, NULL, &names, &count);
        if (e) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(e));
            return 2;
        }
        for (size_t j = 0; j < count; j++)
            n += run_file(names[j]);
        ru_free_paths(names, count);
    }
    printf("replayed %zu inputs\n", n);
    return 0;
}
