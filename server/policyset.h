/* policyset.h - a loaded policy set: the verified rv_program every worker
 * SPDX-License-Identifier: Apache-2.0
 * shares read-only, plus what is derived from the same inputs and must
 * change with it in one step (the /v1/policies listing, the bearer token).
 * Sets are reference counted (reload.h) and never modified once built.
 */
#ifndef RD_POLICYSET_H
#define RD_POLICYSET_H

#include "buf.h"
#include "config.h"
#include "rulec.h"
#include "rulevm.h"
#include "trust.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* A policy file of the set and what rc_load made of it (sorted by path),
 * for the next reload to compare against. */
typedef struct rd_set_file {
    char *path;              /* or the URL the bundle was pulled from */
    rc_input_form form;
    bool is_signed;          /* sig holds what its verified signature says */
    rd_signed_info sig;
} rd_set_file;

typedef struct rd_set {
    atomic_long refs;
    rv_program *prog;
    uint64_t revision;
    size_t npolicies;
    int nwarnings;           /* compiler warnings of the set (also in the log) */
    rd_set_file *files;
    size_t nfiles;
    char *policies_json;     /* the GET /v1/policies body */
    size_t policies_json_len;
    char *token;             /* NULL: no authentication */
    size_t token_len;
    char loaded_at[32];
    /* The signed revision when the set is one signed bundle (always so
     * with a url), else "": /healthz and /metrics show it. */
    char bundle_revision[RS_REVISION_MAX + 1];
    char bundle_key_id[RS_KEY_ID_HEX];
} rd_set;

/* Compiles and verifies everything cfg names, off to the side. On failure
 * returns NULL and diag holds every diagnostic (several lines). Compiler
 * warnings of a good set are in diag too. prev (NULL at start-up) is the
 * set being served: a file that was a bundle in it and no longer reads as
 * one, or a source that held rules and now holds none, is refused -- a
 * truncated or half-copied deployment must not switch enforcement off. */
rd_set *rd_set_build(const rd_config *cfg, uint64_t revision, const rd_set *prev, ru_buf *diag);
/* The same for a bundle pulled from cfg->source.url (pull.h): pulled is
 * its bytes, named by the URL; every other rule is rd_set_build's. */
rd_set *rd_set_build_pulled(const rd_config *cfg, uint64_t revision, const rd_set *prev, const rc_input *pulled,
                            ru_buf *diag);
void rd_set_free(rd_set *set);

/* A hash of what the set is built from: the configuration file, the token
 * file, the trusted keys, every policy path and the files in policy
 * folders (name, size, mtime, inode). A change means: reload. (A pulled
 * bundle's changes come from the puller, not from here.) */
uint64_t rd_inputs_fingerprint(const rd_config *cfg);

#endif
