/* dir.h - listing a folder (util: the support code the compiler and the
 * SPDX-License-Identifier: Apache-2.0
 * programs share).
 */
#ifndef RU_DIR_H
#define RU_DIR_H

#include <stdbool.h>
#include <stddef.h>

/* Lists the entries of dir that keep accepts (keep NULL: all but "." and
 * ".."), sorted by name with strcmp, not recursive, as malloc'd "dir/name"
 * strings in a malloc'd array (free with ru_free_paths). Returns 0, or an
 * errno value (ENOTDIR when dir is not a folder) with *paths NULL. */
int ru_list_dir(const char *dir, bool (*keep)(const char *name, void *ud), void *ud,
                char ***paths, size_t *count);
void ru_free_paths(char **paths, size_t count);

#endif
