/* fuzz_http.c - libFuzzer target: arbitrary bytes as everything a client
 * SPDX-License-Identifier: Apache-2.0
 * sends rulesd on one connection (one request, several, or garbage),
 * through the server's own path: libmicrohttpd's parser, server/http.c's
 * callbacks and limits, the bearer-token check, the endpoints, dstack's
 * decoding, the shipped policies, the decision log (to /dev/null), and the
 * response. rd_http_exchange runs that path on a socket pair with no
 * listening socket or thread (server/http.h), then hangs up.
 *
 * Every connection must end (a hang fails the run), and each response sent
 * back must be an HTTP/1.x status line; no 500 (rulesd sends one only when
 * out of memory) and no 503 (a set is always loaded); a 200 with a JSON
 * content type carries a body that parses as JSON.
 * Seeds: dstack's request bodies as full HTTP requests, with and without
 * the token, pipelined, chunked, and the other endpoints (fuzz/seeds.sh).
 */
#include "config.h"
#include "fuzz.h"
#include "http.h"
#include "log.h"
#include "policyset.h"
#include "reload.h"

#include <strings.h>
#include <unistd.h>

/* The token the seeds carry (fuzz/seeds.sh writes the same). */
#define FUZZ_TOKEN "fuzz-token-0123456789abcdef"

static rv_vm *vm;
static ru_buf out;

static void init(void)
{
    char token_path[] = "/tmp/rulesd-fuzz-token-XXXXXX";
    int fd = mkstemp(token_path);
    FUZZ_CHECK(fd >= 0 && write(fd, FUZZ_TOKEN "\n", sizeof FUZZ_TOKEN) == (ssize_t)sizeof FUZZ_TOKEN,
               "token file");
    close(fd);
    const char *policies[] = {"rules"};
    rd_cli cli;
    memset(&cli, 0, sizeof cli);
    cli.policies = policies;
    cli.npolicies = 1;
    cli.token_file = token_path;
    cli.decision_log = "/dev/null";
    cli.max_body = "16384";   /* small enough for inputs to pass it */
    cli.no_watch = true;
    rd_config cfg;
    char err[1024];
    FUZZ_CHECK(rd_config_load(&cli, &cfg, err, sizeof err), "%s", err);
    rd_log_set_level(RD_ERROR);
    ru_buf diag;
    ru_buf_init(&diag, NULL, NULL);
    rd_set *set = rd_set_build(&cfg, 1, NULL, &diag);
    FUZZ_CHECK(set != NULL, "policies: %.*s", (int)diag.len, diag.data ? diag.data : "");
    ru_buf_free(&diag);
    unlink(token_path);  /* read into the set already */
    rd_current_init(set);
    FUZZ_CHECK(rd_declog_open(cfg.decision_log, err, sizeof err), "%s", err);
    FUZZ_CHECK(rd_http_start_embedded(&cfg, err, sizeof err), "%s", err);
    rd_config_free(&cfg);
    FUZZ_CHECK(rv_vm_new(NULL, &vm) == RV_OK, "no VM");
    ru_buf_init(&out, NULL, NULL);
}

/* The value of header name in the block [h, end), or NULL. */
static const char *header(const char *h, const char *end, const char *name, size_t *len)
{
    size_t n = strlen(name);
    for (const char *line = h; line < end;) {
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        if (!eol)
            eol = end;
        if ((size_t)(eol - line) > n && strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (v < eol && *v == ' ')
                v++;
            *len = (size_t)(eol - v) - (eol > v && eol[-1] == '\r');
            return v;
        }
        line = eol + 1;
    }
    return NULL;
}

/* Walks the responses in out: status lines and bodies (see the top). */
static void check_responses(const char *p, size_t len)
{
    const char *end = p + len;
    while (p < end) {
        FUZZ_CHECK(end - p >= 13 && memcmp(p, "HTTP/1.", 7) == 0, "not a status line: %.40s", p);
        int status = atoi(p + 9);
        FUZZ_CHECK(status >= 100 && status <= 599, "status %.12s", p);
        FUZZ_CHECK(status != 500 && status != 503, "status %d", status);
        const char *head_end = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
        if (!head_end)
            return;  /* cut off by the hang-up */
        const char *body = head_end + 4;
        size_t cl_len, ct_len;
        const char *cl = header(p, head_end, "Content-Length", &cl_len);
        const char *ct = header(p, head_end, "Content-Type", &ct_len);
        size_t n = cl ? (size_t)strtoull(cl, NULL, 10) : 0;
        /* A HEAD answer announces a body it does not send: then the next
         * response (or the end) follows the headers directly. */
        bool has_body = n <= (size_t)(end - body) &&
                        (body + n == end || ((size_t)(end - body - n) >= 7 && memcmp(body + n, "HTTP/1.", 7) == 0));
        if (has_body && n && status == 200 && ct && ct_len >= 16 && strncmp(ct, "application/json", 16) == 0) {
            rv_vm_reset(vm);
            rv_doc *doc;
            rv_error err;
            FUZZ_CHECK(rv_vm_parse(vm, body, n, RV_JSON, &doc, &err) == RV_OK, "a 200 body is not JSON: %s",
                       err.message);
        }
        p = has_body ? body + n : body;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!vm)
        init();
    ru_buf_clear(&out);
    FUZZ_CHECK(rd_http_exchange((const char *)data, size, &out), "the connection did not end");
    static int show = -1;
    if (show < 0)
        show = getenv("FUZZ_SHOW") != NULL;
    if (show)  /* FUZZ_SHOW=1: what rulesd sent back, for a look at an input */
        fprintf(stderr, "%.*s\n", (int)out.len, out.data ? out.data : "");
    check_responses(out.data ? out.data : "", out.len);
    return 0;
}
