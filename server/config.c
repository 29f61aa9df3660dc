/* config.c - reads rulesd's YAML configuration with the library's own
 * SPDX-License-Identifier: Apache-2.0
 * parser (rv_vm_parse) and walks the document with its accessors, so the
 * server needs no YAML library of its own. Unknown keys are errors: a typo
 * in a security setting must not be silently ignored.
 */
#include "config.h"

#include "file.h"

#include "log.h"
#include "rulevm.h"
#include "skypilot_route.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONFIG_MAX_BYTES (1u << 20)
#define DEFAULT_MAX_BODY ((size_t)1 << 20)  /* dstack specs are a few KB */

typedef struct parser {
    rv_vm *vm;
    const char *file;
    char *err;
    size_t errsize;
    bool failed;
} parser;

static void fail(parser *p, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(parser *p, const char *where, const char *fmt, ...)
{
    if (p->failed)
        return;  /* keep the first error: later ones may follow from it */
    p->failed = true;
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(p->err, p->errsize, "%s: %s%s%s", p->file, where, *where ? ": " : "", msg);
}

static const char *type_name(const rv_doc *v)
{
    static const char *const names[] = {"null", "a boolean", "an integer", "a number",
                                        "a string", "a list", "a mapping"};
    return v ? names[rv_doc_kind(v)] : "nothing";
}

static char *xstrdup(parser *p, const char *s)
{
    char *d = strdup(s);
    if (!d)
        fail(p, "", "out of memory");
    return d;
}

/* A path written in the configuration file, made absolute against the
 * file's own folder: a service started from / (as systemd does) must find
 * `policies/` beside its rulesd.yaml, not at /policies. Paths given on the
 * command line stay relative to the working directory, as usual. */
static char *config_path(parser *p, const char *s)
{
    const char *slash = strrchr(p->file, '/');
    if (s[0] == '/' || !slash)
        return xstrdup(p, s);
    size_t dir = (size_t)(slash - p->file);
    char *d = malloc(dir + 1 + strlen(s) + 1);
    if (!d) {
        fail(p, "", "out of memory");
        return NULL;
    }
    memcpy(d, p->file, dir);
    d[dir] = '/';
    strcpy(d + dir + 1, s);
    return d;
}

static char *format_where(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *format_where(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return strdup(buf);
}

static bool get_uint(parser *p, const rv_doc *v, const char *where, unsigned long long min,
                     unsigned long long max, unsigned long long *out)
{
    if (rv_doc_kind(v) != RV_INT) {
        fail(p, where, "expected an integer, got %s", type_name(v));
        return false;
    }
    int64_t i = rv_doc_int(v);
    if (i < 0 || (unsigned long long)i < min || (unsigned long long)i > max) {
        fail(p, where, "%lld is out of range (%llu to %llu)", (long long)i, min, max);
        return false;
    }
    *out = (unsigned long long)i;
    return true;
}

static const char *get_string(parser *p, const rv_doc *v, const char *where)
{
    const char *s = rv_doc_string(v);
    if (!s || !*s) {
        fail(p, where, "expected a non-empty string, got %s", s ? "an empty string" : type_name(v));
        return NULL;
    }
    if (strlen(s) != rv_doc_len(v)) {
        fail(p, where, "the string holds a NUL byte");
        return NULL;
    }
    return s;
}

static bool get_bool(parser *p, const rv_doc *v, const char *where, bool *out)
{
    if (rv_doc_kind(v) != RV_BOOL) {
        fail(p, where, "expected true or false, got %s", type_name(v));
        return false;
    }
    *out = rv_doc_bool(v) != 0;
    return true;
}

/* Parses ADDRESS:PORT, [V6]:PORT, ADDRESS (keeping the port) or :PORT. */
static bool parse_listen(const char *s, char **addr, unsigned *port, char *why, size_t whysize)
{
    const char *colon = NULL, *host = s;
    size_t hostlen;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close) {
            snprintf(why, whysize, "'%s' has '[' without ']'", s);
            return false;
        }
        host = s + 1;
        hostlen = (size_t)(close - host);
        if (close[1] == ':')
            colon = close + 1;
        else if (close[1]) {
            snprintf(why, whysize, "'%s': expected ':PORT' after ']'", s);
            return false;
        }
    } else {
        colon = strrchr(s, ':');
        if (colon && strchr(s, ':') != colon) {
            snprintf(why, whysize, "'%s': write an IPv6 address as [ADDRESS]:PORT", s);
            return false;
        }
        hostlen = colon ? (size_t)(colon - s) : strlen(s);
    }
    if (colon) {
        char *end;
        errno = 0;
        unsigned long n = strtoul(colon + 1, &end, 10);
        if (!colon[1] || *end || errno || n > 65535) {
            snprintf(why, whysize, "'%s': the port must be a number from 0 to 65535", s);
            return false;
        }
        *port = (unsigned)n;
    }
    if (hostlen > 0) {
        char *a = strndup(host, hostlen);
        if (!a) {
            snprintf(why, whysize, "out of memory");
            return false;
        }
        /* Numeric only, as listening takes it: checked here so that
         * --check (the unit's ExecStartPre) refuses it too. */
        unsigned char probe[sizeof(struct in6_addr)];
        if (inet_pton(AF_INET, a, probe) != 1 && inet_pton(AF_INET6, a, probe) != 1) {
            snprintf(why, whysize, "'%s' is not a numeric IPv4 or IPv6 address", a);
            free(a);
            return false;
        }
        free(*addr);
        *addr = a;
    }
    return true;
}

static void free_params(rd_param_override *ps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(ps[i].policy);
        free(ps[i].name);
        free(ps[i].value);
        free(ps[i].where);
    }
    free(ps);
}

void rd_config_free(rd_config *cfg)
{
    free(cfg->config_path);
    free(cfg->address);
    for (size_t i = 0; i < cfg->npolicies; i++) {
        free(cfg->policies[i].path);
        free(cfg->policies[i].where);
        free_params(cfg->policies[i].params, cfg->policies[i].nparams);
    }
    free(cfg->policies);
    free(cfg->source.url);
    for (size_t i = 0; i < cfg->source.ntrusted_keys; i++)
        free(cfg->source.trusted_keys[i]);
    free(cfg->source.trusted_keys);
    free(cfg->source.ca_file);
    free_params(cfg->params, cfg->nparams);
    free(cfg->token_file);
    free(cfg->decision_log);
    free(cfg->port_file);
    free(cfg->skypilot_path);
    memset(cfg, 0, sizeof *cfg);
}

static void parse_params(parser *p, rd_policy_entry *e, const rv_doc *v, const char *where)
{
    if (rv_doc_kind(v) != RV_OBJECT) {
        fail(p, where, "expected a mapping of parameter names to values, got %s", type_name(v));
        return;
    }
    size_t n = rv_doc_len(v);
    e->params = calloc(n ? n : 1, sizeof *e->params);
    if (!e->params) {
        fail(p, where, "out of memory");
        return;
    }
    for (size_t i = 0; i < n && !p->failed; i++) {
        rd_param_override *o = &e->params[e->nparams++];
        const char *key = rv_doc_key(v, i);
        o->where = format_where("%s: %s.%s", p->file, where, key);
        o->name = xstrdup(p, key);
        /* A YAML string is override text, as after --param (max_idle: 1h);
         * YAML's numbers, booleans, lists and maps are values already. */
        const rv_doc *val = rv_doc_value(v, i);
        const char *json;
        size_t len;
        rv_error err;
        if (rv_doc_kind(val) == RV_STRING) {
            o->value = xstrdup(p, rv_doc_string(val));
        } else if (rv_vm_print(p->vm, val, RV_JSON, 0, &json, &len, &err) != RV_OK) {
            fail(p, o->where ? o->where : where, "%s", err.message);
            return;
        } else {
            o->value = xstrdup(p, json);
            o->json = true;
        }
        if (!o->where)
            fail(p, where, "out of memory");
    }
}

static void parse_policy(parser *p, rd_policy_entry *e, const rv_doc *v, const char *list, size_t index)
{
    char where[64];
    snprintf(where, sizeof where, "%s[%zu]", list, index);
    e->where = format_where("%s: %s", p->file, where);
    if (!e->where) {
        fail(p, where, "out of memory");
        return;
    }
    if (rv_doc_kind(v) == RV_STRING) {
        const char *s = get_string(p, v, where);
        if (s)
            e->path = config_path(p, s);
        return;
    }
    if (rv_doc_kind(v) != RV_OBJECT) {
        fail(p, where, "expected a path or a mapping with 'path', got %s", type_name(v));
        return;
    }
    for (size_t i = 0; i < rv_doc_len(v) && !p->failed; i++) {
        const char *key = rv_doc_key(v, i);
        const rv_doc *m = rv_doc_value(v, i);
        char sub[160];
        snprintf(sub, sizeof sub, "%s.%s", where, key);
        if (strcmp(key, "path") == 0) {
            const char *s = get_string(p, m, sub);
            if (s)
                e->path = config_path(p, s);
        } else if (strcmp(key, "priority") == 0) {
            if (rv_doc_kind(m) != RV_INT || rv_doc_int(m) < INT32_MIN || rv_doc_int(m) > INT32_MAX) {
                fail(p, sub, "expected a 32-bit integer, got %s", type_name(m));
                return;
            }
            e->has_priority = true;
            e->priority = (int32_t)rv_doc_int(m);
        } else if (strcmp(key, "params") == 0) {
            parse_params(p, e, m, sub);
        } else {
            fail(p, sub, "unknown key (expected path, priority or params)");
        }
    }
    if (!p->failed && !e->path)
        fail(p, where, "missing 'path'");
}

static void parse_policy_list(parser *p, rd_config *cfg, const rv_doc *v, const char *where)
{
    if (rv_doc_kind(v) != RV_ARRAY || rv_doc_len(v) == 0) {
        fail(p, where, "expected a non-empty list of policy paths, got %s", type_name(v));
        return;
    }
    size_t np = rv_doc_len(v);
    cfg->policies = calloc(np, sizeof *cfg->policies);
    if (!cfg->policies) {
        fail(p, where, "out of memory");
        return;
    }
    for (size_t j = 0; j < np && !p->failed; j++)
        parse_policy(p, &cfg->policies[cfg->npolicies++], rv_doc_item(v, j), where, j);
}

/* policies.poll: how a URL is pulled (milliseconds). */
static void parse_poll(parser *p, rd_source_config *src, const rv_doc *v)
{
    if (rv_doc_kind(v) != RV_OBJECT) {
        fail(p, "policies.poll", "expected a mapping, got %s", type_name(v));
        return;
    }
    for (size_t i = 0; i < rv_doc_len(v) && !p->failed; i++) {
        const char *key = rv_doc_key(v, i);
        const rv_doc *m = rv_doc_value(v, i);
        char sub[160];
        unsigned long long n;
        snprintf(sub, sizeof sub, "policies.poll.%s", key);
        if (strcmp(key, "interval_ms") == 0) {
            if (get_uint(p, m, sub, 100, 86400000, &n))
                src->poll_interval_ms = (unsigned)n;
        } else if (strcmp(key, "jitter_ms") == 0) {
            if (get_uint(p, m, sub, 0, 86400000, &n))
                src->poll_jitter_ms = (unsigned)n;
        } else if (strcmp(key, "max_backoff_ms") == 0) {
            if (get_uint(p, m, sub, 100, 86400000, &n))
                src->poll_max_backoff_ms = (unsigned)n;
        } else if (strcmp(key, "timeout_ms") == 0) {
            if (get_uint(p, m, sub, 100, 3600000, &n))
                src->poll_timeout_ms = (unsigned)n;
        } else if (strcmp(key, "startup_timeout_ms") == 0) {
            if (get_uint(p, m, sub, 0, 86400000, &n))
                src->startup_timeout_ms = (unsigned)n;
        } else {
            fail(p, sub, "unknown key (expected interval_ms, jitter_ms, max_backoff_ms, timeout_ms or "
                         "startup_timeout_ms)");
        }
    }
}

/* policies as a mapping: the paths or a URL, and whom to trust. */
static void parse_policies_map(parser *p, rd_config *cfg, const rv_doc *v)
{
    rd_source_config *src = &cfg->source;
    int require = -1;  /* not given */
    for (size_t i = 0; i < rv_doc_len(v) && !p->failed; i++) {
        const char *key = rv_doc_key(v, i);
        const rv_doc *m = rv_doc_value(v, i);
        char sub[160];
        const char *s;
        snprintf(sub, sizeof sub, "policies.%s", key);
        if (strcmp(key, "paths") == 0) {
            parse_policy_list(p, cfg, m, sub);
        } else if (strcmp(key, "url") == 0) {
            if ((s = get_string(p, m, sub)) && strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0)
                fail(p, sub, "'%s' is not an http:// or https:// URL", s);
            else if (s)
                src->url = xstrdup(p, s);
        } else if (strcmp(key, "require_signature") == 0) {
            bool b;
            if (get_bool(p, m, sub, &b))
                require = b;
        } else if (strcmp(key, "trusted_keys") == 0) {
            if (rv_doc_kind(m) != RV_ARRAY || rv_doc_len(m) == 0) {
                fail(p, sub, "expected a non-empty list of public key files, got %s", type_name(m));
                return;
            }
            src->trusted_keys = calloc(rv_doc_len(m), sizeof *src->trusted_keys);
            if (!src->trusted_keys) {
                fail(p, sub, "out of memory");
                return;
            }
            for (size_t j = 0; j < rv_doc_len(m) && !p->failed; j++) {
                char item[200];
                snprintf(item, sizeof item, "%s[%zu]", sub, j);
                if ((s = get_string(p, rv_doc_item(m, j), item)))
                    src->trusted_keys[src->ntrusted_keys++] = config_path(p, s);
            }
        } else if (strcmp(key, "allow_rollback") == 0) {
            get_bool(p, m, sub, &src->allow_rollback);
        } else if (strcmp(key, "poll") == 0) {
            parse_poll(p, src, m);
        } else if (strcmp(key, "ca_file") == 0) {
            if ((s = get_string(p, m, sub)))
                src->ca_file = config_path(p, s);
        } else {
            fail(p, sub, "unknown key (expected paths, url, require_signature, trusted_keys, "
                         "allow_rollback, poll or ca_file)");
        }
    }
    if (p->failed)
        return;
    if (src->url && cfg->npolicies)
        fail(p, "policies", "give 'paths' or 'url', not both");
    else if (!src->url && !cfg->npolicies)
        fail(p, "policies", "give 'paths' (policy files and folders) or 'url' (a signed bundle to pull)");
    else if (src->url && require == 0)
        fail(p, "policies.require_signature", "cannot be false with a url: a bundle pulled over the "
                                              "network is loaded only when a trusted key signed it");
    else {
        src->require_signature = src->url || require == 1;
        if (src->require_signature && !src->ntrusted_keys)
            fail(p, src->url ? "policies.url" : "policies.require_signature",
                 "needs policies.trusted_keys: the public keys whose signatures are accepted");
        else if (!src->require_signature && src->ntrusted_keys)
            fail(p, "policies.trusted_keys", "set require_signature: true to use them (keys that are "
                                             "never checked would only look like protection)");
    }
}

static void parse_limits(parser *p, rd_config *cfg, const rv_doc *v)
{
    if (rv_doc_kind(v) != RV_OBJECT) {
        fail(p, "limits", "expected a mapping, got %s", type_name(v));
        return;
    }
    for (size_t i = 0; i < rv_doc_len(v) && !p->failed; i++) {
        const char *key = rv_doc_key(v, i);
        const rv_doc *m = rv_doc_value(v, i);
        char sub[160];
        unsigned long long n;
        snprintf(sub, sizeof sub, "limits.%s", key);
        if (strcmp(key, "max_body_bytes") == 0) {
            if (get_uint(p, m, sub, 64, (unsigned long long)1 << 30, &n))
                cfg->max_body = (size_t)n;
        } else if (strcmp(key, "connection_timeout") == 0) {
            if (get_uint(p, m, sub, 1, 3600, &n))
                cfg->connection_timeout = (unsigned)n;
        } else if (strcmp(key, "shutdown_grace") == 0) {
            if (get_uint(p, m, sub, 0, 3600, &n))
                cfg->shutdown_grace = (unsigned)n;
        } else if (strcmp(key, "max_connections") == 0) {
            if (get_uint(p, m, sub, 2, 100000, &n))
                cfg->max_connections = (unsigned)n;
        } else if (strcmp(key, "header_timeout") == 0) {
            if (get_uint(p, m, sub, 1, 3600, &n))
                cfg->header_timeout = (unsigned)n;
        } else if (strcmp(key, "max_connections_per_client") == 0) {
            if (get_uint(p, m, sub, 1, 100000, &n))
                cfg->max_connections_per_client = (unsigned)n;
        } else if (strcmp(key, "reserved_connections") == 0) {
            if (get_uint(p, m, sub, 1, 100000, &n))
                cfg->reserved_connections = (unsigned)n;
        } else {
            fail(p, sub, "unknown key (expected max_body_bytes, connection_timeout, header_timeout, "
                         "shutdown_grace, max_connections, max_connections_per_client or "
                         "reserved_connections)");
        }
    }
    /* Checked against each other once all are read (in any order). */
    if (!p->failed && cfg->reserved_connections >= cfg->max_connections)
        fail(p, "limits.reserved_connections",
             "%u must be below limits.max_connections (%u): the reserve is the part of the "
             "connections kept free for new clients", cfg->reserved_connections, cfg->max_connections);
    if (!p->failed && cfg->max_connections_per_client > cfg->max_connections)
        fail(p, "limits.max_connections_per_client", "%u is above limits.max_connections (%u)",
             cfg->max_connections_per_client, cfg->max_connections);
}

/* skypilot: {path: /skypilot/admin_policy}: where SkyPilot's admin_policy
 * URL points. */
static void parse_skypilot(parser *p, rd_config *cfg, const rv_doc *v)
{
    if (rv_doc_kind(v) != RV_OBJECT) {
        fail(p, "skypilot", "expected a mapping (path), got %s", type_name(v));
        return;
    }
    for (size_t i = 0; i < rv_doc_len(v) && !p->failed; i++) {
        const char *key = rv_doc_key(v, i);
        char sub[160], why[300];
        snprintf(sub, sizeof sub, "skypilot.%s", key);
        const char *s;
        if (strcmp(key, "path") != 0) {
            fail(p, sub, "unknown key (expected path)");
        } else if ((s = get_string(p, rv_doc_value(v, i), sub))) {
            if (!rd_skypilot_path_ok(s, why, sizeof why))
                fail(p, sub, "%s", why);
            else {
                free(cfg->skypilot_path);
                cfg->skypilot_path = xstrdup(p, s);
            }
        }
    }
}

static int level_of(const char *s)
{
    static const char *const names[] = {"error", "warning", "info", "debug"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

static void parse_root(parser *p, rd_config *cfg, const rv_doc *root)
{
    if (rv_doc_kind(root) != RV_OBJECT) {
        fail(p, "", "expected a mapping at the top, got %s", type_name(root));
        return;
    }
    for (size_t i = 0; i < rv_doc_len(root) && !p->failed; i++) {
        const char *key = rv_doc_key(root, i);
        const rv_doc *v = rv_doc_value(root, i);
        unsigned long long n;
        const char *s;
        if (strcmp(key, "listen") == 0) {
            char why[200];
            if ((s = get_string(p, v, key)) && !parse_listen(s, &cfg->address, &cfg->port, why, sizeof why))
                fail(p, key, "%s", why);
        } else if (strcmp(key, "threads") == 0) {
            if (get_uint(p, v, key, 1, 256, &n))
                cfg->threads = (unsigned)n;
        } else if (strcmp(key, "policies") == 0) {
            if (rv_doc_kind(v) == RV_OBJECT)
                parse_policies_map(p, cfg, v);
            else
                parse_policy_list(p, cfg, v, "policies");
        } else if (strcmp(key, "limits") == 0) {
            parse_limits(p, cfg, v);
        } else if (strcmp(key, "auth") == 0) {
            if (rv_doc_kind(v) != RV_OBJECT) {
                fail(p, key, "expected a mapping, got %s", type_name(v));
                return;
            }
            for (size_t j = 0; j < rv_doc_len(v) && !p->failed; j++) {
                char sub[160];
                snprintf(sub, sizeof sub, "auth.%s", rv_doc_key(v, j));
                if (strcmp(rv_doc_key(v, j), "token_file") != 0)
                    fail(p, sub, "unknown key (expected token_file)");
                else if ((s = get_string(p, rv_doc_value(v, j), sub)))
                    cfg->token_file = config_path(p, s);
            }
        } else if (strcmp(key, "decision_log") == 0) {
            if (rv_doc_kind(v) == RV_NULL)
                continue;
            if ((s = get_string(p, v, key)))
                cfg->decision_log = config_path(p, s);
        } else if (strcmp(key, "watch") == 0) {
            if (rv_doc_kind(v) == RV_BOOL) {
                cfg->watch = rv_doc_bool(v) != 0;
                continue;
            }
            if (rv_doc_kind(v) != RV_OBJECT) {
                fail(p, key, "expected true, false or a mapping, got %s", type_name(v));
                return;
            }
            for (size_t j = 0; j < rv_doc_len(v) && !p->failed; j++) {
                char sub[160];
                const char *k = rv_doc_key(v, j);
                snprintf(sub, sizeof sub, "watch.%s", k);
                if (strcmp(k, "enabled") == 0)
                    get_bool(p, rv_doc_value(v, j), sub, &cfg->watch);
                else if (strcmp(k, "interval_ms") == 0) {
                    if (get_uint(p, rv_doc_value(v, j), sub, 50, 3600000, &n))
                        cfg->watch_interval_ms = (unsigned)n;
                } else
                    fail(p, sub, "unknown key (expected enabled or interval_ms)");
            }
        } else if (strcmp(key, "skypilot") == 0) {
            parse_skypilot(p, cfg, v);
        } else if (strcmp(key, "log_level") == 0) {
            if ((s = get_string(p, v, key)) && (cfg->log_level = level_of(s)) < 0)
                fail(p, key, "'%s' is not one of error, warning, info, debug", s);
        } else {
            fail(p, key, "unknown key (expected listen, threads, policies, limits, auth, "
                         "decision_log, watch, skypilot or log_level)");
        }
    }
}

static char *read_config(const char *path, size_t *len, char *err, size_t errsize)
{
    char *buf;
    int e = ru_read_file(path, CONFIG_MAX_BYTES, &buf, len);
    if (e == EFBIG)
        snprintf(err, errsize, "%s: larger than 1 MiB: not a configuration file?", path);
    else if (e)
        snprintf(err, errsize, "%s: cannot read the configuration: %s", path, strerror(e));
    return buf;
}

static bool parse_file(const char *path, rd_config *cfg, char *err, size_t errsize)
{
    size_t len;
    char *text = read_config(path, &len, err, errsize);
    if (!text)
        return false;
    parser p = {NULL, path, err, errsize, false};
    if (rv_vm_new(NULL, &p.vm) != RV_OK) {
        free(text);
        snprintf(err, errsize, "out of memory");
        return false;
    }
    rv_doc *root;
    rv_error perr;
    if (rv_vm_parse(p.vm, text, len, RV_YAML, &root, &perr) != RV_OK && perr.line) {
        char at[64];
        snprintf(at, sizeof at, "line %lu, column %lu", perr.line, perr.column);
        fail(&p, at, "%s", perr.message);
    } else if (!root)
        fail(&p, "", "%s", perr.message);
    else if (len == 0 || rv_doc_kind(root) == RV_NULL)
        fail(&p, "", "the file is empty");
    else
        parse_root(&p, cfg, root);
    rv_vm_free(p.vm);
    free(text);
    return !p.failed;
}

static bool cli_uint(const char *flag, const char *s, unsigned long long min, unsigned long long max,
                     unsigned long long *out, char *err, size_t errsize)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(s, &end, 10);
    if (!*s || *end || errno || n < min || n > max || s[0] == '-') {
        snprintf(err, errsize, "%s takes a number from %llu to %llu, not '%s'", flag, min, max, s);
        return false;
    }
    *out = n;
    return true;
}

static bool apply_cli(const rd_cli *cli, rd_config *cfg, char *err, size_t errsize)
{
    unsigned long long n;
    char why[300];
    if (cli->listen && !parse_listen(cli->listen, &cfg->address, &cfg->port, why, sizeof why)) {
        snprintf(err, errsize, "--listen: %s", why);
        return false;
    }
    if (cli->port) {
        if (!cli_uint("--port", cli->port, 0, 65535, &n, err, errsize))
            return false;
        cfg->port = (unsigned)n;
    }
    if (cli->threads) {
        if (!cli_uint("--threads", cli->threads, 1, 256, &n, err, errsize))
            return false;
        cfg->threads = (unsigned)n;
    }
    if (cli->max_body) {
        if (!cli_uint("--max-body", cli->max_body, 64, (unsigned long long)1 << 30, &n, err, errsize))
            return false;
        cfg->max_body = (size_t)n;
    }
    if (cli->connection_timeout) {
        if (!cli_uint("--timeout", cli->connection_timeout, 1, 3600, &n, err, errsize))
            return false;
        cfg->connection_timeout = (unsigned)n;
    }
    if (cli->log_level && (cfg->log_level = level_of(cli->log_level)) < 0) {
        snprintf(err, errsize, "--log-level takes error, warning, info or debug, not '%s'", cli->log_level);
        return false;
    }
    if (cli->no_watch)
        cfg->watch = false;
    if (cli->skypilot_path && !rd_skypilot_path_ok(cli->skypilot_path, why, sizeof why)) {
        snprintf(err, errsize, "--skypilot-path: %s", why);
        return false;
    }
    /* Owned strings replaced by flags. */
    const char *const *srcs[] = {&cli->token_file, &cli->decision_log, &cli->port_file, &cli->skypilot_path};
    char **dsts[] = {&cfg->token_file, &cfg->decision_log, &cfg->port_file, &cfg->skypilot_path};
    for (size_t i = 0; i < sizeof srcs / sizeof *srcs; i++) {
        if (!*srcs[i])
            continue;
        free(*dsts[i]);
        if (!(*dsts[i] = strdup(*srcs[i]))) {
            snprintf(err, errsize, "out of memory");
            return false;
        }
    }
    if (cli->npolicies) {
        /* --policy replaces the file's list (or url): a quick way to try
         * another set, under the same trust settings. */
        free(cfg->source.url);
        cfg->source.url = NULL;
        for (size_t i = 0; i < cfg->npolicies; i++) {
            free(cfg->policies[i].path);
            free(cfg->policies[i].where);
            free_params(cfg->policies[i].params, cfg->policies[i].nparams);
        }
        free(cfg->policies);
        cfg->npolicies = 0;
        cfg->policies = calloc(cli->npolicies, sizeof *cfg->policies);
        if (!cfg->policies) {
            snprintf(err, errsize, "out of memory");
            return false;
        }
        for (size_t i = 0; i < cli->npolicies; i++) {
            rd_policy_entry *e = &cfg->policies[cfg->npolicies++];
            e->path = strdup(cli->policies[i]);
            e->where = strdup("--policy");
            if (!e->path || !e->where) {
                snprintf(err, errsize, "out of memory");
                return false;
            }
        }
    }
    if (cli->nparams) {
        cfg->params = calloc(cli->nparams, sizeof *cfg->params);
        if (!cfg->params) {
            snprintf(err, errsize, "out of memory");
            return false;
        }
        for (size_t i = 0; i < cli->nparams; i++) {
            const char *a = cli->params[i];
            const char *eq = strchr(a, '=');
            if (!eq || eq == a) {
                snprintf(err, errsize, "--param takes [POLICY.]NAME=VALUE, not '%s'", a);
                return false;
            }
            rd_param_override *o = &cfg->params[cfg->nparams++];
            const char *dot = memrchr(a, '.', (size_t)(eq - a));
            if (dot && dot != a && dot + 1 != eq) {
                o->policy = strndup(a, (size_t)(dot - a));
                o->name = strndup(dot + 1, (size_t)(eq - dot - 1));
            } else {
                o->name = strndup(a, (size_t)(eq - a));
            }
            o->value = strdup(eq + 1);
            o->where = format_where("--param %.*s", (int)(eq - a), a);
            if (!o->name || !o->value || !o->where || (dot && dot != a && dot + 1 != eq && !o->policy)) {
                snprintf(err, errsize, "out of memory");
                return false;
            }
        }
    }
    return true;
}

/* What the settings of policies: mean together, once flags are applied. */
static bool check_source(rd_config *cfg, const char *path, char *err, size_t errsize)
{
    rd_source_config *src = &cfg->source;
    if (src->poll_jitter_ms == UINT_MAX)
        src->poll_jitter_ms = src->poll_interval_ms / 10;
    if (src->poll_jitter_ms >= src->poll_interval_ms) {
        snprintf(err, errsize, "%s%spolicies.poll.jitter_ms: %u must be below interval_ms (%u)", path ? path : "",
                 path ? ": " : "", src->poll_jitter_ms, src->poll_interval_ms);
        return false;
    }
    if (src->poll_max_backoff_ms < src->poll_interval_ms)
        src->poll_max_backoff_ms = src->poll_interval_ms;
    if (!src->require_signature)
        return true;
    /* A signed set runs as it was signed: an override would change what
     * runs from what the signer approved (and the digests from the
     * manifest's). */
    const char *where = cfg->nparams ? cfg->params[0].where : NULL;
    for (size_t i = 0; !where && i < cfg->npolicies; i++)
        if (cfg->policies[i].nparams)
            where = cfg->policies[i].params[0].where;
    if (where) {
        snprintf(err, errsize, "%s: parameter overrides are refused with signed bundles (policies.%s): a "
                               "signed set runs as it was signed; set the value in the policy and sign again",
                 where, src->url ? "url" : "require_signature");
        return false;
    }
    return true;
}

bool rd_config_load(const rd_cli *cli, rd_config *out, char *err, size_t errsize)
{
    rd_config cfg = {0};
    cfg.port = 8000;
    cfg.max_body = DEFAULT_MAX_BODY;
    /* Longer than dstack's 8-second timeout, so dstack gives up first. */
    cfg.connection_timeout = 10;
    cfg.shutdown_grace = 10;
    cfg.max_connections = 1024;
    /* A request line and headers take milliseconds; 5 s (Apache's
     * keep-alive timeout) also closes an idle keep-alive connection. */
    cfg.header_timeout = 5;
    /* 0: decided from max_connections once it is known (below). */
    cfg.max_connections_per_client = 0;
    cfg.reserved_connections = 0;
    cfg.watch = true;
    cfg.watch_interval_ms = 1000;
    cfg.source.poll_interval_ms = 30000;
    cfg.source.poll_jitter_ms = UINT_MAX;  /* a tenth of the interval unless set */
    cfg.source.poll_max_backoff_ms = 300000;
    cfg.source.poll_timeout_ms = 30000;
    cfg.source.startup_timeout_ms = 60000;
    cfg.log_level = RD_INFO;
    cfg.threads = 0;  /* 0: one per CPU, decided at start-up */
    cfg.address = strdup("127.0.0.1");
    if (!cfg.address) {
        snprintf(err, errsize, "out of memory");
        return false;
    }
    const char *path = cli->config_path;
    if (!path) {
        const char *env = getenv("RULESD_CONFIG");
        if (env && *env)
            path = env;
    }
    if (path) {
        cfg.config_path = strdup(path);
        if (!cfg.config_path || !parse_file(path, &cfg, err, errsize)) {
            if (!cfg.config_path)
                snprintf(err, errsize, "out of memory");
            rd_config_free(&cfg);
            return false;
        }
    }
    if (!apply_cli(cli, &cfg, err, errsize)) {
        rd_config_free(&cfg);
        return false;
    }
    if (cfg.threads == 0) {
        /* One per CPU: decisions are CPU-bound, more threads only queue. */
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        cfg.threads = n < 1 ? 1 : n > 64 ? 64 : (unsigned)n;
    }
    /* Defaults relative to the connection limit: a client may hold an
     * eighth of it (a dstack server opens a handful), and a sixteenth is
     * kept in reserve, at least one slot. */
    if (cfg.max_connections_per_client == 0)
        cfg.max_connections_per_client = cfg.max_connections >= 8 ? cfg.max_connections / 8 : cfg.max_connections;
    if (cfg.reserved_connections == 0)
        cfg.reserved_connections = cfg.max_connections >= 32 ? cfg.max_connections / 16 : 1;
    if (cfg.npolicies == 0 && !cfg.source.url) {
        snprintf(err, errsize, "%s%sno policies: list them under 'policies:' or give --policy PATH",
                 path ? path : "", path ? ": " : "");
        rd_config_free(&cfg);
        return false;
    }
    if (!check_source(&cfg, path, err, errsize)) {
        rd_config_free(&cfg);
        return false;
    }
    *out = cfg;
    return true;
}
