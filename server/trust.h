/* trust.h - which bundles rulesd loads when signatures are required
 * SPDX-License-Identifier: Apache-2.0
 * (policies.require_signature, or a policies.url): each input must be a
 * bundle signed by one of policies.trusted_keys and unaltered since
 * (sign.h does those checks), hold the policies its manifest lists, and
 * not take the served set back to an older revision unless
 * policies.allow_rollback says so. Anything else is refused, with the
 * file and the reason, and the set being served stays.
 */
#ifndef RD_TRUST_H
#define RD_TRUST_H

#include "buf.h"
#include "config.h"
#include "rulec.h"
#include "sign.h"

#include <stdbool.h>
#include <stddef.h>

/* What a verified signature says about one input. */
typedef struct rd_signed_info {
    char revision[RS_REVISION_MAX + 1];
    char created[32];
    char key_id[RS_KEY_ID_HEX];   /* the trusted key whose signature verified */
    char *key_file;               /* that key's file (malloc'd) */
    char sha256[RS_SHA256_HEX];   /* the bundle's, as the manifest states and the bytes are */
} rd_signed_info;

/* Checks inputs in[0..n) as cfg->source requires, reading the trusted key
 * files afresh (so a reload takes a key rotation). prev[i] is what input
 * i was in the set being served (NULL: it was not there, or not signed),
 * for the rollback rule. On success fills infos[i] for every input (free
 * each with rd_signed_info_free); on failure appends every reason to diag
 * (one line each) and returns false. */
bool rd_trust_check(const rd_config *cfg, const rc_input *in, size_t n, const rd_signed_info *const *prev,
                    rd_signed_info *infos, ru_buf *diag);
void rd_signed_info_free(rd_signed_info *info);

#endif
