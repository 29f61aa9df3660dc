/* redact.h - keeping the spec's secrets out of everything rulesd logs or
 * SPDX-License-Identifier: Apache-2.0
 * explains (docs/rulesd.md, "Security").
 *
 * Redaction is by structure first: the compiler marks every message part
 * and change that derives from a secret path of the target's schema, and
 * the VM hands out each message's `redacted` text and each change's
 * `secret` flag (rulevm.h, SECRETS). This module is the second line: the
 * texts of the request's secret values (rc_secret_values: the secret paths
 * of its kind, and keys that name credentials) are found in whatever is
 * about to be logged, in any ASCII case and in JSON-escaped form, at a
 * cost linear in the request and in what is logged, whatever the number
 * and size of the secrets (util/scrub.h).
 */
#ifndef RD_REDACT_H
#define RD_REDACT_H

#include "buf.h"
#include "rulevm.h"
#include "scrub.h"

#include <stdbool.h>
#include <stddef.h>

#define RD_REDACTED RV_REDACTED

typedef struct rd_redactor {
    ru_scrub scrub;    /* the secret texts, and the search for them */
    ru_buf expected;   /* the texts a scrub will see, back to back */
    ru_buf lens;       /* their lengths (size_t each) */
} rd_redactor;

void rd_redactor_init(rd_redactor *r);
void rd_redactor_free(rd_redactor *r);
/* Forgets the previous request's secrets and texts (keeps the memory). */
void rd_redactor_reset(rd_redactor *r);
/* Collects the secret values of spec, a dstack document of kind (call it
 * before evaluation rewrites the spec). */
void rd_redactor_collect(rd_redactor *r, const char *kind, const rv_doc *spec);
/* The same for a document of another target's ("skypilot": the secret
 * paths of schemas/skypilot/secrets.json in its {task, config}). */
void rd_redactor_collect_target(rd_redactor *r, const char *target, const char *kind, const rv_doc *spec);
/* How many secret texts (escaped forms included) were collected. */
size_t rd_redactor_count(const rd_redactor *r);

/* Tells the redactor a text a later scrub will see (copied), then, once all
 * of them are told, prepares the search over them (scrub.h): the cost of
 * scrubbing is then linear in what is logged, and bounded. A text scrubbed
 * without having been told may keep a secret: tell every one. */
void rd_redactor_expect(rd_redactor *r, const char *text, size_t n);
void rd_redactor_prepare(rd_redactor *r);

/* Appends text (n bytes) to b as a JSON string with every collected secret
 * replaced by RD_REDACTED. */
void rd_redact_json_string(rd_redactor *r, ru_buf *b, const char *text, size_t n);
/* Appends text to b (raw, not as a JSON string), scrubbed the same way. */
void rd_redact_text(rd_redactor *r, ru_buf *b, const char *text, size_t n);
/* Whether text holds a collected secret (or texts are withheld). */
bool rd_redactor_finds(rd_redactor *r, const char *text, size_t n);

#endif
