/* redact.c - the per-request secret texts and their scrubbing (redact.h).
 * SPDX-License-Identifier: Apache-2.0
 *
 * Collection copies the texts (numbers are printed, so they have no node
 * of their own) before evaluation; what is logged is told first, so the
 * search looks only for the secrets that can be in it (scrub.h).
 */
#include "redact.h"

#include "rulec.h"

#include <string.h>

static const char withheld[] = RD_REDACTED " (this text could not be checked for secrets)";

void rd_redactor_init(rd_redactor *r)
{
    memset(r, 0, sizeof *r);
    ru_scrub_init(&r->scrub, NULL, NULL);
}

void rd_redactor_free(rd_redactor *r)
{
    ru_scrub_free(&r->scrub);
    ru_buf_free(&r->expected);
    ru_buf_free(&r->lens);
    rd_redactor_init(r);
}

void rd_redactor_reset(rd_redactor *r)
{
    ru_scrub_clear(&r->scrub);
    ru_buf_clear(&r->expected);
    ru_buf_clear(&r->lens);
}

static void add(void *ud, const char *text, size_t len)
{
    ru_scrub_add_json(ud, text, len);
}

void rd_redactor_collect(rd_redactor *r, const char *kind, const rv_doc *spec)
{
    rd_redactor_collect_target(r, "dstack", kind, spec);
}

void rd_redactor_collect_target(rd_redactor *r, const char *target, const char *kind, const rv_doc *spec)
{
    rc_secret_values(target, kind, spec, add, &r->scrub);
}

size_t rd_redactor_count(const rd_redactor *r)
{
    return ru_scrub_count(&r->scrub) + (r->scrub.oom ? 1 : 0);
}

void rd_redactor_expect(rd_redactor *r, const char *text, size_t n)
{
    if (!rd_redactor_count(r))
        return;
    ru_buf_put(&r->expected, text, n);
    ru_buf_put(&r->lens, (const char *)&n, sizeof n);
}

void rd_redactor_prepare(rd_redactor *r)
{
    if (!rd_redactor_count(r))
        return;
    size_t n = r->lens.len / sizeof(size_t);
    const char **texts = NULL;
    if (n && !r->expected.oom && !r->lens.oom)
        texts = r->scrub.alloc(r->scrub.ud, NULL, 0, n * sizeof *texts);
    if (n && !texts) {
        r->scrub.oom = true;   /* texts are withheld */
        return;
    }
    size_t *lens = (size_t *)(void *)r->lens.data;
    const char *at = r->expected.data;
    for (size_t i = 0; i < n; i++) {
        texts[i] = at;
        at += lens[i];
    }
    ru_scrub_prepare(&r->scrub, texts, lens, n);
    if (n)
        r->scrub.alloc(r->scrub.ud, texts, n * sizeof *texts, 0);
}

/* An unprepared redactor searches for every secret with no budget: fine for
 * a test, never for a request (handler.c prepares every time). */
void rd_redact_text(rd_redactor *r, ru_buf *b, const char *text, size_t n)
{
    if (!rd_redactor_count(r)) {
        ru_buf_put(b, text, n);
        return;
    }
    ru_scrub_apply(&r->scrub, text, n, RD_REDACTED, withheld, b);
}

void rd_redact_json_string(rd_redactor *r, ru_buf *b, const char *text, size_t n)
{
    if (!rd_redactor_count(r)) {
        ru_buf_json_string(b, text, n);
        return;
    }
    /* Scrub first, then escape: a secret is found as the text holds it
     * (a JSON-printed value inside the text holds it escaped, which the
     * patterns include). */
    ru_buf tmp;
    ru_buf_init(&tmp, NULL, NULL);
    ru_scrub_apply(&r->scrub, text, n, RD_REDACTED, withheld, &tmp);
    if (tmp.oom)
        ru_buf_json_string(b, withheld, sizeof withheld - 1);
    else
        ru_buf_json_string(b, tmp.data ? tmp.data : "", tmp.len);
    ru_buf_free(&tmp);
}

bool rd_redactor_finds(rd_redactor *r, const char *text, size_t n)
{
    if (!rd_redactor_count(r))
        return false;
    return ru_scrub_found(&r->scrub, text, n);
}
