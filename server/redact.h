/* redact.h - keeping dstack's secrets out of every log. dstack sends env
 * values and registry credentials in clear; a message template can print
 * them ({configuration.env}). Before a decision is logged, the secrets of
 * its input spec are collected, and every logged text is scrubbed of them.
 */
#ifndef RD_REDACT_H
#define RD_REDACT_H

#include "buf.h"
#include "rulevm.h"

#include <stdbool.h>
#include <stddef.h>

#define RD_MAX_SECRETS 128
#define RD_REDACTED "[REDACTED]"

typedef struct rd_secrets {
    const char *text[RD_MAX_SECRETS];  /* point into the spec (VM memory) */
    size_t len[RD_MAX_SECRETS];
    size_t n;
    bool overflow;   /* more than RD_MAX_SECRETS: withhold texts entirely */
} rd_secrets;

/* Collects the secret strings of a spec: every string value under a key
 * "env" (map values, and the VALUE of "KEY=VALUE" list items), and under
 * "registry_auth" (username, password), and any value of a key that names
 * a credential (password, token, secret, private_key, api_key), at any
 * depth. */
void rd_secrets_collect(rd_secrets *out, const rv_doc *spec);

/* Appends text (n bytes) to b as a JSON string with every secret replaced
 * by RD_REDACTED, in raw form or as the JSON-escaped form a template prints
 * inside {configuration.env}. Secrets shorter than 4 bytes are replaced
 * only where they stand as a whole word, so that a value such as "1" does
 * not shred every number in a message. */
void rd_redact_json_string(ru_buf *b, const char *text, size_t n, const rd_secrets *sec);

#endif
