/* test_secret.c - structural redaction (issue 13, fault 3): what the
 * SPDX-License-Identifier: Apache-2.0
 * checker marks as derived from a secret path (compiler/secret.c), what the
 * VM then hands out for logs (rv_message.redacted, rv_change.secret,
 * rv_vm_redacted_error), what the verifier refuses of SECRET, and the
 * targets' secrets.json read as data.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "helpers.h"
#include "opcodes.h"
#include "program.h"
#include "secret.h"

#include <string.h>

static rv_vm *vm;

/* Compiles text for dstack (the default target), as rulec and rulesd do. */
static rv_program *compile_dstack(const char *text, const char *target)
{
    rc_report *report = rc_report_new();
    rc_input in = {"s.rules", text, strlen(text), 0, 0, 0};
    rv_program *prog = NULL;
    rc_options opt = {NULL, 0, target};
    if (rc_load(report, &in, 1, &opt, &prog) != RC_OK)
        fail_msg("%s", rc_report_text(report, "test", NULL));
    rc_report_free(report);
    return prog;
}

static rv_decision decide(rv_program *prog, const char *kind, const char *json)
{
    rv_vm_reset(vm);
    rv_doc *spec;
    rv_error err;
    assert_int_equal(rv_vm_parse(vm, json, strlen(json), RV_JSON, &spec, &err), RV_OK);
    rv_request req = {.kind = kind, .user = "alice", .project = "main"};
    rv_decision d;
    if (rv_vm_eval(vm, prog, &req, spec, &d, &err) != RV_OK)
        fail_msg("eval: %s", err.message);
    return d;
}

static const rv_message *warning(const rv_decision *d, size_t i)
{
    assert_true(i < d->nwarnings);
    return &d->warnings[i];
}

static int setup(void **state)
{
    (void)state;
    return rv_vm_new(NULL, &vm) == RV_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    rv_vm_free(vm);
    return 0;
}

static const char run_spec[] =
    "{\"configuration\":{\"type\":\"task\",\"image\":\"ubuntu:22.04\",\"name\":\"train\","
    "\"env\":{\"HF_TOKEN\":\"hf_SecretToken\",\"PORT\":8443,\"LIST\":\"a,b\"},"
    "\"registry_auth\":{\"username\":\"bot\",\"password\":\"pw-Secret-1\"},"
    "\"commands\":[\"python train.py\"]}}";

/* Any transformation of a secret in a message: the part is the marker in
 * the redacted text, the rest stays; the requester's text is whole. */
static void transformed_secrets_in_messages(void **state)
{
    (void)state;
    rv_program *prog = compile_dstack(
        "on run {\n"
        "  warn \"up {upper(configuration.env.HF_TOKEN)} of {configuration.name}\";\n"
        "  warn \"low {lower(configuration.registry_auth.password)}\";\n"
        "  warn \"cat {configuration.env.HF_TOKEN + \\\"-x\\\"} num {configuration.env.PORT ?? 0}\";\n"
        "  warn \"str {str(configuration.env.PORT)} len {len(configuration.env.HF_TOKEN)}\";\n"
        "  warn \"all {configuration.env} auth {configuration.registry_auth}\";\n"
        "  warn \"list {[configuration.env.HF_TOKEN]} vals {values(configuration.env)}\";\n"
        "  warn \"key {configuration.env[\\\"HF_\\\" + \\\"TOKEN\\\"]} any {any v in values(configuration.env): v == 1}\";\n"
        "  warn \"image {configuration.image} user {$user}\";\n"
        "}\n", NULL);
    rv_decision d = decide(prog, "run", run_spec);
    assert_string_equal(warning(&d, 0)->text, "up HF_SECRETTOKEN of train");
    assert_string_equal(warning(&d, 0)->redacted, "up [REDACTED] of train");
    assert_string_equal(warning(&d, 1)->redacted, "low [REDACTED]");
    assert_string_equal(warning(&d, 2)->redacted, "cat [REDACTED] num [REDACTED]");
    assert_string_equal(warning(&d, 3)->redacted, "str [REDACTED] len [REDACTED]");
    assert_string_equal(warning(&d, 4)->redacted, "all [REDACTED] auth [REDACTED]");
    assert_string_equal(warning(&d, 5)->redacted, "list [REDACTED] vals [REDACTED]");
    assert_string_equal(warning(&d, 6)->redacted, "key [REDACTED] any [REDACTED]");
    /* Nothing secret: the same text, the same pointer. */
    assert_string_equal(warning(&d, 7)->text, "image ubuntu:22.04 user alice");
    assert_ptr_equal(warning(&d, 7)->redacted, warning(&d, 7)->text);
    rv_program_free(prog);
}

/* Changes: a value from a secret, a write at, above or below a secret
 * path; a tag from a secret; other writes are not marked. */
static void changes_by_value_and_path(void **state)
{
    (void)state;
    rv_program *prog = compile_dstack(
        "on run {\n"
        "  set configuration.name = lower(configuration.env.HF_TOKEN);\n"
        "  set configuration.env.NEW = \"plain\";\n"
        "  unset configuration.registry_auth;\n"
        "  append-tags {owner: $user, leak: configuration.env.HF_TOKEN};\n"
        "  set configuration.max_price = 2.5;\n"
        "}\n", NULL);
    rv_decision d = decide(prog, "run", run_spec);
    const char *want[][2] = {{"configuration.name", "1"}, {"configuration.env.NEW", "1"},
                             {"configuration.registry_auth", "1"}, {"configuration.tags.owner", "0"},
                             {"configuration.tags.leak", "1"}, {"configuration.max_price", "0"}};
    assert_int_equal(d.nchanges, 6);
    for (size_t i = 0; i < 6; i++) {
        bool found = false;
        for (size_t k = 0; k < d.nchanges; k++) {
            if (strcmp(d.changes[k].path, want[i][0]) != 0)
                continue;
            found = true;
            if (d.changes[k].secret != (want[i][1][0] == '1'))
                fail_msg("%s: secret %d", want[i][0], d.changes[k].secret);
        }
        if (!found)
            fail_msg("no change of %s", want[i][0]);
    }
    rv_program_free(prog);
}

/* A secret the policy writes into a field that is no secret is one when
 * read back, wherever the read is (statement order is not followed). */
static void secret_written_then_read(void **state)
{
    (void)state;
    rv_program *prog = compile_dstack(
        "on run {\n"
        "  warn \"before {configuration.name}\";\n"
        "  set configuration.name = configuration.env.HF_TOKEN;\n"
        "  warn \"after {upper(configuration.name)} image {configuration.image}\";\n"
        "}\n", NULL);
    rv_decision d = decide(prog, "run", run_spec);
    assert_string_equal(warning(&d, 0)->redacted, "before [REDACTED]");
    assert_string_equal(warning(&d, 1)->text, "after HF_SECRETTOKEN image ubuntu:22.04");
    assert_string_equal(warning(&d, 1)->redacted, "after [REDACTED] image ubuntu:22.04");
    rv_program_free(prog);
}

/* dstack SSH fleets: the private keys at the top, of each host, of each
 * proxy jump, through each loops too; the host names stay. */
static void fleet_private_keys(void **state)
{
    (void)state;
    rv_program *prog = compile_dstack(
        "on fleet {\n"
        "  warn \"top {configuration.ssh_config.ssh_key.private}\";\n"
        "  warn \"jump {configuration.ssh_config.proxy_jump.ssh_key.private}\";\n"
        "  each h in configuration.ssh_config.hosts {\n"
        "    warn \"host {h.hostname} key {upper(h.ssh_key.private)} via {h.proxy_jump.ssh_key.private}\";\n"
        "    set h.ssh_key.private = \"x\";\n"
        "    set h.port = 2222;\n"
        "  }\n"
        "}\n", NULL);
    rv_decision d = decide(prog, "fleet",
                           "{\"configuration\":{\"type\":\"fleet\",\"ssh_config\":{"
                           "\"ssh_key\":{\"private\":\"PRIV1\"},\"proxy_jump\":{\"hostname\":\"j\","
                           "\"ssh_key\":{\"private\":\"PRIV2\"}},\"hosts\":[{\"hostname\":\"h1\","
                           "\"ssh_key\":{\"private\":\"PRIV3\"},\"proxy_jump\":{\"ssh_key\":{\"private\":\"PRIV4\"}}}]}}}");
    assert_string_equal(warning(&d, 0)->redacted, "top [REDACTED]");
    assert_string_equal(warning(&d, 1)->redacted, "jump [REDACTED]");
    assert_string_equal(warning(&d, 2)->redacted, "host h1 key [REDACTED] via [REDACTED]");
    assert_int_equal(d.nchanges, 2);
    assert_true(d.changes[0].secret);    /* below a secret path */
    assert_false(d.changes[1].secret);   /* the port */
    rv_program_free(prog);
}

/* Keys that name credentials are secrets wherever they are, in any case
 * and spelling; an env map's keys (names) are not, its values are. */
static void credential_keys_and_env_loops(void **state)
{
    (void)state;
    rv_program *prog = compile_dstack(
        "on run {\n"
        "  each k, v in configuration.env {\n"
        "    warn \"{k}={v}\";\n"
        "  }\n"
        "  warn \"{configuration.env[\\\"api-key\\\"]} {configuration.env.access_key}\";\n"
        "}\n"
        "on volume {\n"
        "  warn \"{configuration.name}\";\n"
        "}\n", NULL);
    rv_decision d = decide(prog, "run", run_spec);
    assert_string_equal(warning(&d, 0)->redacted, "HF_TOKEN=[REDACTED]");
    assert_string_equal(warning(&d, 1)->redacted, "PORT=[REDACTED]");
    assert_string_equal(warning(&d, 3)->redacted, "[REDACTED] [REDACTED]");
    rv_program_free(prog);
    assert_true(rc_secret_key("api-key", 7));
    assert_true(rc_secret_key("AWS_ACCESS_KEY_ID", 17));
    assert_true(rc_secret_key("ssh passphrase", 14));
    assert_true(rc_secret_key("Authorization", 13));
    assert_true(rc_secret_key("db_Password", 11));
    assert_false(rc_secret_key("image", 5));
    assert_false(rc_secret_key("hostname", 8));
}

/* A policy for target any has no list of secret paths: every value it
 * reads from the spec counts as one (fail closed). */
static void target_any_marks_every_read(void **state)
{
    (void)state;
    rv_program *prog = compile_dstack("on run { warn \"{configuration.image} {$user} {1 + 1}\"; }\n", "any");
    rv_decision d = decide(prog, "run", run_spec);
    assert_string_equal(warning(&d, 0)->redacted, "[REDACTED] alice 2");
    rv_program_free(prog);
}

/* An evaluation error names its operands for the requester; the form for
 * logs gives their types only. */
static void evaluation_error_for_logs(void **state)
{
    (void)state;
    rv_program *prog = compile_dstack("on run { warn \"{int(configuration.env.HF_TOKEN)}\"; }\n", NULL);
    rv_vm_reset(vm);
    rv_doc *spec;
    rv_error err;
    assert_int_equal(rv_vm_parse(vm, run_spec, strlen(run_spec), RV_JSON, &spec, &err), RV_OK);
    rv_request req = {.kind = "run", .user = "alice", .project = "main"};
    rv_decision d;
    assert_int_equal(rv_vm_eval(vm, prog, &req, spec, &d, &err), RV_EEVAL);
    assert_non_null(strstr(err.message, "hf_SecretToken"));
    assert_string_equal(rv_vm_redacted_error(vm), "s:1: cannot apply int() to a string: not a decimal "
                                                  "number in the integer range");
    /* A decision that did not fail leaves it empty. */
    rv_program_free(prog);
    prog = compile_dstack("on run { warn \"x\"; }\n", NULL);
    decide(prog, "run", run_spec);
    assert_string_equal(rv_vm_redacted_error(vm), "");
    rv_program_free(prog);
}

/* ---- the verifier and SECRET ---- */

/* The bundle of a compiled policy, with its first instruction word equal
 * to from replaced by to (the header's CRC fixed), loaded: the error. */
static void expect_refused(const char *policy, uint32_t from, uint32_t to, const char *needle)
{
    rc_report *report = rc_report_new();
    rc_input in = {"v.rules", policy, strlen(policy), 0, 0, 0};
    rv_program *prog = NULL;
    rc_options opt = {NULL, RC_BUNDLE, NULL};
    assert_int_equal(rc_load(report, &in, 1, &opt, &prog), RC_OK);
    rv_program_free(prog);
    size_t size;
    const unsigned char *b = rc_report_bundle(report, &size);
    unsigned char *copy = malloc(size);
    memcpy(copy, b, size);
    rc_report_free(report);
    bool found = false;
    for (size_t i = RV_HEADER_SIZE; i + 4 <= size && !found; i++) {
        uint32_t w = (uint32_t)copy[i] | (uint32_t)copy[i + 1] << 8 | (uint32_t)copy[i + 2] << 16 |
                     (uint32_t)copy[i + 3] << 24;
        if (w == from) {
            for (int k = 0; k < 4; k++)
                copy[i + (size_t)k] = (unsigned char)(to >> (8 * k));
            found = true;
        }
    }
    assert_true(found);
    uint32_t crc = rv_crc32(copy + 16, size - 16);
    for (int k = 0; k < 4; k++)
        copy[12 + k] = (unsigned char)(crc >> (8 * k));
    rv_blob blob = {copy, size, "v.rbc"};
    rv_error err;
    assert_int_equal(rv_program_load(&blob, 1, NULL, &prog, &err), RV_EVERIFY);
    if (!strstr(err.message, needle))
        fail_msg("'%s' lacks '%s'", err.message, needle);
    free(copy);
}

static void verifier_checks_secret_marks(void **state)
{
    (void)state;
    const char *msg = "on run { warn \"t {configuration.env.A}\"; }\n";
    /* A part the FORMAT does not have. */
    expect_refused(msg, RV_MAKE_AX(RV_OP_SECRET, 1), RV_MAKE_AX(RV_OP_SECRET, 7),
                   "marks part 7 of the FORMAT at pc 3, which has 2");
    /* Not followed by a FORMAT or a write: the FORMAT made a WARN. */
    expect_refused(msg, RV_MAKE_AX(RV_OP_FORMAT, 2), RV_MAKE_AX(RV_OP_WARN, 0),
                   "not followed by a FORMAT or a write");
    /* A write's change is value 0. */
    expect_refused("on run { set configuration.env.A = \"x\"; }\n", RV_MAKE_AX(RV_OP_SECRET, 0),
                   RV_MAKE_AX(RV_OP_SECRET, 1), "a write's change is 0");
}

/* The disassembler says what a SECRET marks. */
static void disasm_shows_marks(void **state)
{
    (void)state;
    rv_program *prog = compile_dstack("on run { warn \"t {configuration.env.A}\"; set configuration.env.B = \"x\"; }\n",
                                      NULL);
    const char *text;
    size_t len;
    rv_error err;
    assert_int_equal(rv_program_disasm(prog, vm, &text, &len, &err), RV_OK);
    assert_non_null(strstr(text, "SECRET     1        ; part 1 of the FORMAT at 3 is secret"));
    assert_non_null(strstr(text, "SECRET     0        ; the change of the SET at 7 is secret"));
    rv_program_free(prog);
}

/* ---- the lists, as data ---- */

static void secrets_lists_read(void **state)
{
    (void)state;
    static const char *const files[] = {"schemas/dstack/secrets.json", "schemas/skypilot/secrets.json"};
    for (size_t f = 0; f < 2; f++) {
        size_t len = 0;
        char *text = read_whole_file(files[f], &len);
        assert_non_null(text);
        ru_arena a;
        ru_arena_init(&a, NULL, NULL);
        rc_secret_kind *kinds;
        size_t n;
        assert_true(rc_secret_parse(text, len, &a, &kinds, &n));
        assert_true(n >= 2);
        bool star = false;
        for (size_t k = 0; k < n; k++)
            for (size_t i = 0; i < kinds[k].n; i++)
                for (size_t s = 0; s < kinds[k].paths[i].n; s++)
                    star |= kinds[k].paths[i].segs[s].key == NULL;
        assert_true(star);   /* `*` read as any key */
        ru_arena_free(&a);
        free(text);
    }
    /* What a broken list is. */
    ru_arena a;
    ru_arena_init(&a, NULL, NULL);
    rc_secret_kind *kinds;
    size_t n;
    assert_false(rc_secret_parse("[1]", 3, &a, &kinds, &n));
    assert_false(rc_secret_parse("{\"run\":[\"a..b\"]}", 16, &a, &kinds, &n));
    assert_false(rc_secret_parse("{\"run\":\"a\"}", 11, &a, &kinds, &n));
    ru_arena_free(&a);
}

/* rc_secret_values: the built-in dstack list by kind. */
static void collect_text(void *ud, const char *text, size_t len)
{
    ru_buf *b = ud;
    ru_buf_put(b, text, len);
    ru_buf_putc(b, '|');
}

static const char *values_of(ru_buf *b, const char *target, const char *kind, const rv_doc *spec)
{
    ru_buf_clear(b);
    rc_secret_values(target, kind, spec, collect_text, b);
    ru_buf_terminate(b);
    return b->data ? b->data : "";
}

static void secret_values_by_kind(void **state)
{
    (void)state;
    rv_vm_reset(vm);
    rv_doc *spec;
    rv_error err;
    assert_int_equal(rv_vm_parse(vm, run_spec, strlen(run_spec), RV_JSON, &spec, &err), RV_OK);
    ru_buf b = {0};
    /* run: every env value (the number as printed), the registry login. */
    assert_string_equal(values_of(&b, NULL, "run", spec), "hf_SecretToken|8443|a,b|bot|pw-Secret-1|");
    /* gateway has no list paths: the key rule only (HF_TOKEN, password). */
    assert_string_equal(values_of(&b, "dstack", "gateway", spec), "hf_SecretToken|pw-Secret-1|");
    assert_string_equal(values_of(&b, "any", "run", spec), "hf_SecretToken|pw-Secret-1|");
    ru_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(transformed_secrets_in_messages),
        cmocka_unit_test(changes_by_value_and_path),
        cmocka_unit_test(secret_written_then_read),
        cmocka_unit_test(fleet_private_keys),
        cmocka_unit_test(credential_keys_and_env_loops),
        cmocka_unit_test(target_any_marks_every_read),
        cmocka_unit_test(evaluation_error_for_logs),
        cmocka_unit_test(verifier_checks_secret_marks),
        cmocka_unit_test(disasm_shows_marks),
        cmocka_unit_test(secrets_lists_read),
        cmocka_unit_test(secret_values_by_kind),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
