/* fuzz_redact.c - libFuzzer target: the promise that rulesd's decision
 * SPDX-License-Identifier: Apache-2.0
 * log, /v1/evaluate's explanation and rulec --explain never hold a secret
 * (docs/rulesd.md, "Security").
 *
 * The input picks a kind and fills a spec: secrets at the kind's secret
 * paths and under credential-named keys (env values as strings, numbers
 * and NAME=VALUE items, the registry login, probe header values, the SSH
 * private keys of a fleet, volume tags named api-key, access_key,
 * passphrase, authorization), and ordinary fields. A fixed set of policies
 * prints and writes them every way the language allows: interpolated,
 * upper()d, lower()d, str()d, concatenated, inside lists and maps, through
 * loops and quantifiers, copied into ordinary fields and printed again by
 * a later policy, made to fail evaluation. What rulesd would log is built
 * the way handler.c builds it (the VM's redacted texts and secret flags,
 * then the request's secret texts scrubbed, told first), and checked: no
 * 4-byte window of any secret, nor its upper- or lower-case form, may be
 * in it. Secrets are drawn from bytes that nothing else logged uses
 * (digits, q x z j in either case, and # % & @ ~ ^ =), so any window found
 * is a leak, not a coincidence.
 */
#include "redact.h"
#include "rulec.h"
#include "rulevm.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char secret_bytes[] = "0123456789qxzjQXZJ#%&@~^=";
static const char plain_bytes[] = "abcdefghiklmnoprstuvwy";

/* Messages use no digit and none of q x z j: nothing in them can look like
 * a secret but a secret. */
static const char policies[] =
    "policy \"show\" priority 1;\n"
    "on run {\n"
    "  warn \"image {configuration.image} name {upper(configuration.name)}\";\n"
    "  warn \"token {configuration.env.a} upper {upper(configuration.env.b ?? \\\"none\\\")} lower {lower(configuration.env.b ?? \\\"none\\\")}\";\n"
    "  warn \"all {configuration.env} login {configuration.registry_auth}\";\n"
    "  warn \"str {str(configuration.env.c)} cat {(configuration.env.a ?? \\\"none\\\") + \\\"-\\\" + configuration.image}\";\n"
    "  warn \"list {[configuration.env.a, configuration.name]} map {configuration.env}\";\n"
    "  warn \"probe {configuration.probes[0].headers[0].value} all {configuration.probes}\";\n"
    "  each k, v in configuration.env { warn \"env {k} is {v} or {upper(str(v))}\"; }\n"
    "  warn-if any v in configuration.env: v == configuration.name: \"same {configuration.name}\";\n"
    "  set configuration.tags.copy = lower(configuration.env.a ?? \"none\");\n"
    "  set configuration.user = configuration.registry_auth.password;\n"
    "  set configuration.name = upper(configuration.env.b ?? \"none\");\n"
    "  warn \"copied {configuration.user} {configuration.tags}\";\n"
    "  match configuration.image =~ /^a/ { warn \"number {int(configuration.env.d)}\"; }\n"
    "}\n"
    "on fleet {\n"
    "  warn \"key {configuration.ssh_config.ssh_key.private} jump {lower(configuration.ssh_config.proxy_jump.ssh_key.private)}\";\n"
    "  each h in configuration.ssh_config.hosts {\n"
    "    warn \"host {h.hostname} key {upper(h.ssh_key.private)} via {h.proxy_jump.ssh_key.private}\";\n"
    "    set h.user = h.ssh_key.private;\n"
    "  }\n"
    "  warn \"all {configuration.ssh_config} env {configuration.env}\";\n"
    "  set configuration.name = configuration.ssh_config.ssh_key.private;\n"
    "}\n"
    "on volume {\n"
    "  warn \"tags {configuration.tags} api {configuration.tags[\\\"api-key\\\"]}\";\n"
    "  warn \"access {upper(configuration.tags.access_key)} pass {lower(configuration.tags.passphrase)}\";\n"
    "  set configuration.name = configuration.tags.authorization;\n"
    "}\n";

/* A later policy reads, unmarked, what the first one copied. */
static const char later[] =
    "policy \"later\" priority 2;\n"
    "on run { warn \"later {configuration.name} and {lower(configuration.user)}\"; }\n"
    "on fleet { warn \"later {configuration.name} and {upper(configuration.name)}\"; }\n"
    "on volume { warn \"later {configuration.name}\"; }\n";

static rv_program *prog;
static rv_vm *vm;
static rd_redactor red;

/* The fuzz input, read a byte at a time (zeros past its end). */
typedef struct reader {
    const uint8_t *p;
    size_t n, at;
} reader;

static unsigned next(reader *r)
{
    return r->at < r->n ? r->p[r->at++] : 0;
}

/* A value of 1..24 bytes from alphabet, as a JSON string (no escaping
 * needed: neither alphabet has a quote or a backslash). */
static void value(reader *r, ru_buf *b, const char *alphabet, char *copy, size_t *len)
{
    size_t n = 1 + next(r) % 24, k = strlen(alphabet);
    ru_buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        char c = alphabet[next(r) % k];
        ru_buf_putc(b, c);
        if (copy)
            copy[i] = c;
    }
    ru_buf_putc(b, '"');
    if (len)
        *len = n;
}

#define MAX_SECRETS 32
static char secrets[MAX_SECRETS][32];
static size_t secret_len[MAX_SECRETS], nsecrets;

static void secret(reader *r, ru_buf *b)
{
    char *copy = nsecrets < MAX_SECRETS ? secrets[nsecrets] : NULL;
    size_t len = 0;
    value(r, b, secret_bytes, copy, &len);
    if (copy)
        secret_len[nsecrets++] = len;
}

static void plain(reader *r, ru_buf *b)
{
    value(r, b, plain_bytes, NULL, NULL);
}

static const char *build_spec(reader *r, ru_buf *b)
{
    unsigned kind = next(r) % 3;
    ru_buf_puts(b, "{\"configuration\":{");
    if (kind == 0) {
        ru_buf_puts(b, "\"type\":\"task\",\"image\":");
        plain(r, b);
        ru_buf_puts(b, ",\"name\":");
        plain(r, b);
        ru_buf_puts(b, ",\"commands\":[\"run\"],\"env\":");
        if (next(r) % 4 == 0) {
            /* The list form: NAME=VALUE items. */
            ru_buf_puts(b, "[\"a=");
            char *copy = nsecrets < MAX_SECRETS ? secrets[nsecrets] : NULL;
            size_t n = 1 + next(r) % 20;
            for (size_t i = 0; i < n; i++) {
                char c = secret_bytes[next(r) % (sizeof secret_bytes - 2)];   /* no '=' */
                ru_buf_putc(b, c);
                if (copy)
                    copy[i] = c;
            }
            if (copy)
                secret_len[nsecrets++] = n;
            ru_buf_puts(b, "\"]");
        } else {
            ru_buf_puts(b, "{\"a\":");
            secret(r, b);
            ru_buf_puts(b, ",\"b\":");
            secret(r, b);
            /* A number: digits only, logged as printed. */
            unsigned long long num = 1000 + next(r) * 65536ull + next(r) * 256ull + next(r);
            ru_buf_printf(b, ",\"c\":%llu,\"d\":", num);
            secret(r, b);
            ru_buf_puts(b, "}");
            if (nsecrets < MAX_SECRETS) {
                secret_len[nsecrets] = (size_t)snprintf(secrets[nsecrets], sizeof secrets[0], "%llu", num);
                nsecrets++;
            }
        }
        ru_buf_puts(b, ",\"registry_auth\":{\"username\":");
        secret(r, b);
        ru_buf_puts(b, ",\"password\":");
        secret(r, b);
        ru_buf_puts(b, "},\"probes\":[{\"type\":\"http\",\"headers\":[{\"name\":\"authorization\",\"value\":");
        secret(r, b);
        ru_buf_puts(b, "}]}]}}");
        return "run";
    }
    if (kind == 1) {
        ru_buf_puts(b, "\"type\":\"fleet\",\"name\":");
        plain(r, b);
        ru_buf_puts(b, ",\"ssh_config\":{\"user\":\"ubuntu\",\"ssh_key\":{\"public\":\"p\",\"private\":");
        secret(r, b);
        ru_buf_puts(b, "},\"proxy_jump\":{\"hostname\":\"h\",\"ssh_key\":{\"public\":\"p\",\"private\":");
        secret(r, b);
        ru_buf_puts(b, "}},\"hosts\":[");
        size_t hosts = 1 + next(r) % 3;
        for (size_t i = 0; i < hosts; i++) {
            ru_buf_puts(b, i ? ",{\"hostname\":" : "{\"hostname\":");
            plain(r, b);
            ru_buf_puts(b, ",\"ssh_key\":{\"public\":\"p\",\"private\":");
            secret(r, b);
            ru_buf_puts(b, "},\"proxy_jump\":{\"hostname\":\"h\",\"ssh_key\":{\"public\":\"p\",\"private\":");
            secret(r, b);
            ru_buf_puts(b, "}}}");
        }
        ru_buf_puts(b, "]},\"env\":{\"a\":");
        secret(r, b);
        ru_buf_puts(b, "}}}");
        return "fleet";
    }
    ru_buf_puts(b, "\"type\":\"volume\",\"backend\":\"aws\",\"region\":\"us\",\"name\":");
    plain(r, b);
    ru_buf_puts(b, ",\"tags\":{\"team\":");
    plain(r, b);
    static const char *const keys[] = {"api-key", "access_key", "passphrase", "authorization"};
    for (size_t i = 0; i < 4; i++) {
        ru_buf_printf(b, ",\"%s\":", keys[i]);
        secret(r, b);
    }
    ru_buf_puts(b, "}}}");
    return "volume";
}

/* Whether text holds a window (4 bytes) of a secret, as it is or folded. */
static void check(const char *text, size_t n, const char *where)
{
    for (size_t s = 0; s < nsecrets; s++) {
        for (size_t i = 0; i + 4 <= secret_len[s]; i++) {
            for (int fold = 0; fold < 3; fold++) {
                char w[4];
                for (int k = 0; k < 4; k++) {
                    char c = secrets[s][i + (size_t)k];
                    w[k] = fold == 1 && c >= 'a' && c <= 'z' ? (char)(c - 32)
                           : fold == 2 && c >= 'A' && c <= 'Z' ? (char)(c + 32)
                                                               : c;
                }
                if (n >= 4 && memmem(text, n, w, 4)) {
                    fprintf(stderr, "leak in %s: '%.4s' of secret '%.*s' in:\n%.*s\n", where, w,
                            (int)secret_len[s], secrets[s], (int)(n > 2000 ? 2000 : n), text);
                    abort();
                }
            }
        }
    }
}

/* What rulesd logs and explains, into b (handler.c's order and rules). */
static void logged(const rv_decision *d, const char *failure, ru_buf *b)
{
    const rv_message *lists[2] = {d ? d->errors : NULL, d ? d->warnings : NULL};
    size_t counts[2] = {d ? d->nerrors : 0, d ? d->nwarnings : 0};
    if (failure)
        rd_redactor_expect(&red, failure, strlen(failure));
    for (int l = 0; l < 2; l++)
        for (size_t i = 0; i < counts[l]; i++)
            rd_redactor_expect(&red, lists[l][i].redacted, strlen(lists[l][i].redacted));
    for (size_t i = 0; d && i < d->nchanges; i++) {
        const rv_change *c = &d->changes[i];
        rd_redactor_expect(&red, c->path, strlen(c->path));
        const rv_doc *v[2] = {c->old_value, c->new_value};
        for (int k = 0; k < 2 && !c->secret; k++) {
            const char *t;
            size_t len;
            rv_error err;
            if (v[k] && rv_vm_print(vm, v[k], RV_JSON, 0, &t, &len, &err) == RV_OK)
                rd_redactor_expect(&red, t, len);
        }
    }
    rd_redactor_prepare(&red);
    if (failure)
        rd_redact_json_string(&red, b, failure, strlen(failure));
    for (int l = 0; l < 2; l++)
        for (size_t i = 0; i < counts[l]; i++) {
            rd_redact_json_string(&red, b, lists[l][i].redacted, strlen(lists[l][i].redacted));
            ru_buf_putc(b, '\n');
        }
    for (size_t i = 0; d && i < d->nchanges; i++) {
        const rv_change *c = &d->changes[i];
        rd_redact_json_string(&red, b, c->path, strlen(c->path));
        const rv_doc *v[2] = {c->old_value, c->new_value};
        for (int k = 0; k < 2; k++) {
            const char *t;
            size_t len;
            rv_error err;
            ru_buf_puts(b, k ? " -> " : ": ");
            if (!v[k])
                ru_buf_puts(b, "(missing)");
            else if (c->secret)
                ru_buf_puts(b, RV_REDACTED);
            else if (rv_vm_print(vm, v[k], RV_JSON, 0, &t, &len, &err) == RV_OK) {
                if (rd_redactor_finds(&red, t, len))
                    ru_buf_puts(b, RV_REDACTED);
                else
                    ru_buf_put(b, t, len);
            }
        }
        ru_buf_putc(b, '\n');
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!prog) {
        rc_report *report = rc_report_new();
        rc_input in[2] = {{"show.rules", policies, strlen(policies), 0, 0, 0},
                          {"later.rules", later, strlen(later), 0, 0, 1}};
        if (rc_load(report, in, 2, NULL, &prog) != RC_OK) {
            fputs(rc_report_text(report, "fuzz_redact", NULL), stderr);
            abort();
        }
        rc_report_free(report);
        if (rv_vm_new(NULL, &vm) != RV_OK)
            abort();
        rd_redactor_init(&red);
    }
    reader r = {data, size, 0};
    ru_buf spec = {0}, out = {0};
    nsecrets = 0;
    const char *kind = build_spec(&r, &spec);
    rv_vm_reset(vm);
    rd_redactor_reset(&red);
    rv_doc *doc;
    rv_error err;
    if (spec.oom || rv_vm_parse(vm, spec.data, spec.len, RV_JSON, &doc, &err) != RV_OK) {
        fprintf(stderr, "the harness built a spec that does not parse: %s\n%.*s\n", err.message,
                (int)spec.len, spec.data);
        abort();
    }
    rd_redactor_collect(&red, kind, doc);
    rv_request req = {.kind = kind, .user = "user", .project = "project"};
    rv_decision d;
    if (rv_vm_eval(vm, prog, &req, doc, &d, &err) == RV_OK) {
        logged(&d, NULL, &out);
    } else {
        char failure[700];
        snprintf(failure, sizeof failure, "rulesd: the policies could not be evaluated: %s",
                 rv_vm_redacted_error(vm));
        logged(NULL, failure, &out);
    }
    if (out.oom)
        abort();
    check(out.data ? out.data : "", out.len, kind);
    ru_buf_free(&spec);
    ru_buf_free(&out);
    return 0;
}
