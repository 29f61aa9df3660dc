/* redact.c - secrets collection and scrubbing for the logs (see redact.h).
 * The walk is bounded by the document's own nesting limit (the VM refuses
 * deeper input), and collection stops at RD_MAX_SECRETS, after which logged
 * messages are withheld rather than risk printing an unscrubbed one.
 */
#include "redact.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#define SHORT_SECRET 4

static void add(rd_secrets *out, const char *s, size_t n)
{
    if (!s || n == 0)
        return;
    for (size_t i = 0; i < out->n; i++)
        if (out->len[i] == n && memcmp(out->text[i], s, n) == 0)
            return;
    if (out->n == RD_MAX_SECRETS) {
        out->overflow = true;
        return;
    }
    out->text[out->n] = s;
    out->len[out->n] = n;
    out->n++;
}

static void add_doc_string(rd_secrets *out, const rv_doc *v)
{
    const char *s = rv_doc_string(v);
    if (s)
        add(out, s, rv_doc_len(v));
}

/* Every string inside v (a credential object may nest). */
static void add_all_strings(rd_secrets *out, const rv_doc *v, int depth)
{
    if (!v || depth > 600)
        return;
    switch (rv_doc_kind(v)) {
    case RV_STRING:
        add_doc_string(out, v);
        break;
    case RV_ARRAY:
        for (size_t i = 0; i < rv_doc_len(v); i++)
            add_all_strings(out, rv_doc_item(v, i), depth + 1);
        break;
    case RV_OBJECT:
        for (size_t i = 0; i < rv_doc_len(v); i++)
            add_all_strings(out, rv_doc_value(v, i), depth + 1);
        break;
    default:
        break;
    }
}

static void add_env(rd_secrets *out, const rv_doc *env)
{
    if (rv_doc_kind(env) == RV_OBJECT) {
        /* Values that are objects are dstack's env sentinels ({"key":
         * "NAME"}: take NAME from the client's environment): a name, not
         * a secret. */
        for (size_t i = 0; i < rv_doc_len(env); i++)
            add_doc_string(out, rv_doc_value(env, i));
    } else if (rv_doc_kind(env) == RV_ARRAY) {
        for (size_t i = 0; i < rv_doc_len(env); i++) {
            const char *s = rv_doc_string(rv_doc_item(env, i));
            const char *eq = s ? strchr(s, '=') : NULL;
            if (eq)
                add(out, eq + 1, strlen(eq + 1));
        }
    } else {
        add_doc_string(out, env);
    }
}

static bool credential_key(const char *k)
{
    static const char *const words[] = {"password", "passwd", "token", "secret", "private_key",
                                        "api_key", "apikey", "credentials"};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (strcasestr(k, words[i]))
            return true;
    return false;
}

static void walk(rd_secrets *out, const rv_doc *v, int depth)
{
    if (!v || depth > 600)
        return;
    if (rv_doc_kind(v) == RV_ARRAY) {
        for (size_t i = 0; i < rv_doc_len(v); i++)
            walk(out, rv_doc_item(v, i), depth + 1);
        return;
    }
    if (rv_doc_kind(v) != RV_OBJECT)
        return;
    for (size_t i = 0; i < rv_doc_len(v); i++) {
        const char *k = rv_doc_key(v, i);
        const rv_doc *m = rv_doc_value(v, i);
        if (strcmp(k, "env") == 0)
            add_env(out, m);
        else if (strcmp(k, "registry_auth") == 0 || credential_key(k))
            add_all_strings(out, m, depth + 1);
        else
            walk(out, m, depth + 1);
    }
}

void rd_secrets_collect(rd_secrets *out, const rv_doc *spec)
{
    out->n = 0;
    out->overflow = false;
    walk(out, spec, 0);
}

/* Length of the JSON-escaped form of secret s matched at t, or 0. */
static size_t match_escaped(const char *t, size_t tn, const char *s, size_t sn)
{
    static const char hex[] = "0123456789abcdef";
    size_t j = 0;
    for (size_t i = 0; i < sn; i++) {
        unsigned char c = (unsigned char)s[i];
        char e[7];
        size_t en = 0;
        switch (c) {
        case '"': e[0] = '\\'; e[1] = '"'; en = 2; break;
        case '\\': e[0] = '\\'; e[1] = '\\'; en = 2; break;
        case '\n': e[0] = '\\'; e[1] = 'n'; en = 2; break;
        case '\r': e[0] = '\\'; e[1] = 'r'; en = 2; break;
        case '\t': e[0] = '\\'; e[1] = 't'; en = 2; break;
        case '\b': e[0] = '\\'; e[1] = 'b'; en = 2; break;
        case '\f': e[0] = '\\'; e[1] = 'f'; en = 2; break;
        default:
            if (c < 0x20) {
                e[0] = '\\'; e[1] = 'u'; e[2] = '0'; e[3] = '0';
                e[4] = hex[c >> 4]; e[5] = hex[c & 15]; en = 6;
            } else {
                e[0] = (char)c;
                en = 1;
            }
        }
        if (j + en > tn)
            return 0;
        /* \u00XX may be printed with upper-case hex digits. */
        if (en == 6 ? strncasecmp(t + j, e, 6) != 0 : memcmp(t + j, e, en) != 0)
            return 0;
        j += en;
    }
    return j;
}

static bool word_char(unsigned char c)
{
    return isalnum(c) || c == '_' || c >= 0x80;
}

/* Length of a secret starting at text[i], or 0. */
static size_t secret_at(const char *text, size_t n, size_t i, const rd_secrets *sec)
{
    size_t best = 0;
    for (size_t k = 0; k < sec->n; k++) {
        size_t m = 0;
        if (sec->len[k] <= n - i && memcmp(text + i, sec->text[k], sec->len[k]) == 0)
            m = sec->len[k];
        else
            m = match_escaped(text + i, n - i, sec->text[k], sec->len[k]);
        if (m && sec->len[k] < SHORT_SECRET) {
            bool before = i > 0 && word_char((unsigned char)text[i - 1]);
            bool after = i + m < n && word_char((unsigned char)text[i + m]);
            if (before || after)
                m = 0;
        }
        if (m > best)
            best = m;
    }
    return best;
}

void rd_redact_json_string(ru_buf *b, const char *text, size_t n, const rd_secrets *sec)
{
    if (sec->overflow) {
        ru_buf_puts(b, "\"" RD_REDACTED " (too many secrets in the spec to scrub this text)\"");
        return;
    }
    if (sec->n == 0) {
        ru_buf_json_string(b, text, n);
        return;
    }
    /* Scrub into a stack copy first, then escape the result once. */
    char small[1024];
    ru_buf big = {0};
    char *out = small;
    size_t cap = sizeof small, len = 0;
    for (size_t i = 0; i < n;) {
        size_t m = secret_at(text, n, i, sec);
        const char *piece = m ? RD_REDACTED : text + i;
        size_t plen = m ? sizeof RD_REDACTED - 1 : 1;
        if (len + plen > cap) {
            if (out == small)
                ru_buf_put(&big, small, len);
            ru_buf_put(&big, piece, plen);
            out = NULL;
        } else if (out) {
            memcpy(out + len, piece, plen);
        } else {
            ru_buf_put(&big, piece, plen);
        }
        len += plen;
        i += m ? m : 1;
    }
    if (out)
        ru_buf_json_string(b, out, len);
    else if (big.oom)
        ru_buf_puts(b, "\"" RD_REDACTED " (out of memory while scrubbing)\"");
    else
        ru_buf_json_string(b, big.data, big.len);
    ru_buf_free(&big);
}
