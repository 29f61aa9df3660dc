/* secret.h - what in a target's documents is a secret, and which values of
 * SPDX-License-Identifier: Apache-2.0
 * a policy derive from one (internal to the compiler; the public part is
 * rc_secret_values in rulec.h).
 *
 * A secret is a value at one of the paths a target's secrets.json lists
 * for a kind (schemas/; `*` is any key or index), or a value under a key
 * that names a credential (password, token, api-key, ...) wherever it is:
 * free-form maps that no schema describes hold such keys too. The data is
 * per target, so a target that is added brings its own list and nothing
 * else changes.
 */
#ifndef RC_SECRET_H
#define RC_SECRET_H

#include "compile.h"
#include "target.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct rc_secret_seg {
    const char *key;     /* NULL for `*` */
    size_t klen;
} rc_secret_seg;

typedef struct rc_secret_path {
    const rc_secret_seg *segs;
    size_t n;
} rc_secret_path;

typedef struct rc_secret_kind {
    const char *kind;
    const rc_secret_path *paths;
    size_t n;
} rc_secret_kind;

/* The secret paths of kind in target t: NULL (and *n 0) when t has no
 * secrets list (the target "any") or does not have the kind. *ok is false
 * when t should have a list and it cannot be read (a build problem, caught
 * by the tests): callers then treat every value as a secret. Parsed once
 * per process, thread-safely. */
const rc_secret_kind *rc_secret_kind_of(const rc_target *t, const char *kind, bool *ok);

/* Reads a secrets.json ({"KIND": ["a.b.*.c", ...], ...}; keys starting
 * with '$' are comments) into arena memory. false: not such a document, a
 * path with an empty name, a kind with more than 64 paths, or out of
 * memory. */
bool rc_secret_parse(const char *text, size_t len, ru_arena *arena, rc_secret_kind **kinds, size_t *n);

/* Whether a key names a credential: ignoring case and the separators '-',
 * '_', '.' and ' ', it contains password, passwd, passphrase, secret,
 * token, privatekey, apikey, accesskey, authorization or credential. */
bool rc_secret_key(const char *key, size_t len);

/* Marks the checked AST for code generation: each message part and tag
 * whose value derives from a secret (secret_parts), each write whose value
 * does or whose path is at, above or below a secret (secret_write). A value
 * derives from a secret when it reads one, reads a container holding one,
 * or is computed (by any operator or function) from such a value; a value
 * the policy itself wrote from a secret counts as one when read again.
 * Without a secrets list for the target, every value read from the spec
 * counts. false: out of memory. */
bool rc_secret_mark(rc_checked *checked, const rc_target *t, ru_arena *arena);

#endif
