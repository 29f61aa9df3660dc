/* libversions.c - the versions of the linked libraries (libversions.h),
 * SPDX-License-Identifier: Apache-2.0
 * asked of the libraries themselves at run time. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "libversions.h"

#include <nettle/version.h>
#include <pcre2.h>
#include <stdio.h>
#include <yaml.h>

void ru_library_versions(char *buf, size_t size)
{
    char pcre[48] = "?";
    if (pcre2_config(PCRE2_CONFIG_VERSION, pcre) < 0)
        snprintf(pcre, sizeof pcre, "?");
    snprintf(buf, size, "PCRE2 %s, libyaml %s, nettle %d.%d", pcre, yaml_get_version_string(),
             nettle_version_major(), nettle_version_minor());
}
