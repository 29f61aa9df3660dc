/* file.h - reading a whole file and writing one atomically (util: the
 * SPDX-License-Identifier: Apache-2.0
 * support code the compiler and the programs share).
 */
#ifndef RU_FILE_H
#define RU_FILE_H

#include <stddef.h>

/* Reads the whole of path ("-": standard input) into malloc'd memory with
 * a NUL after the data (not counted in *len; the data may hold NULs). More
 * than max_bytes (0: no limit) is refused with EFBIG. Returns 0 and *data
 * (the caller frees it), or an errno value (ENOMEM, EFBIG, or the system's
 * reason) and *data NULL. */
int ru_read_file(const char *path, size_t max_bytes, char **data, size_t *len);

/* Writes data to path ("-": standard output) through a temporary file
 * beside it, flushed to disk and renamed into place, so a failed or
 * interrupted run never leaves a partial file or clobbers the old one. A
 * file that exists keeps its permission bits (`rulec fmt -w` on a 0600 or
 * 0755 file), and a symbolic link stays one: its target is rewritten. A new
 * file gets the permissions a plain create would (0666 less the umask).
 * Returns 0 or an errno value. */
int ru_write_file_atomic(const char *path, const void *data, size_t len);

#endif
