/* libversions.h - the versions of the libraries linked in (PCRE2, libyaml,
 * SPDX-License-Identifier: Apache-2.0
 * nettle), for the programs' --version (util: the support code the
 * VM, the compiler and the programs share).
 */
#ifndef RU_LIBVERSIONS_H
#define RU_LIBVERSIONS_H

#include <stddef.h>

/* Writes "PCRE2 10.42, libyaml 0.2.5, nettle 3.8" (the
 * versions of the libraries as loaded, not as compiled against) to buf,
 * NUL-terminated, at most size bytes. */
void ru_library_versions(char *buf, size_t size);

#endif
