/* test_server_redact.c - rulesd's secret scrubbing (server/redact.c): which
 * spec values count as secrets, and that logged texts lose them in raw and
 * JSON-escaped form while short values are only removed as whole words.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../server/redact.h"

#include <stdio.h>
#include <string.h>

static rv_vm *vm;
static ru_buf out;

static rv_doc *parse(const char *json)
{
    rv_doc *d;
    rv_error err;
    assert_int_equal(rv_vm_parse(vm, json, strlen(json), RV_JSON, &d, &err), RV_OK);
    return d;
}

/* The JSON string the log would get for text. */
static char *scrub(const rd_secrets *sec, const char *text)
{
    ru_buf_clear(&out);
    rd_redact_json_string(&out, text, strlen(text), sec);
    ru_buf_terminate(&out);
    assert_false(out.oom);
    return out.data;
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
    ru_buf_free(&out);
    return 0;
}

static void collects_env_and_registry_auth(void **state)
{
    (void)state;
    rd_secrets sec;
    rd_secrets_collect(&sec, parse("{\"configuration\":{\"env\":{\"HF_TOKEN\":\"hf_abcdef\","
                                   "\"REF\":{\"key\":\"WANDB_API_KEY\"}},"
                                   "\"registry_auth\":{\"username\":\"bot-user\",\"password\":\"pw-secret\"},"
                                   "\"replicas\":[{\"env\":[\"A=list-value\",\"PASSTHROUGH\"]}],"
                                   "\"name\":\"not-a-secret\",\"api_key\":\"k-123456\"}}"));
    assert_false(sec.overflow);
    const char *want[] = {"hf_abcdef", "bot-user", "pw-secret", "list-value", "k-123456"};
    assert_int_equal(sec.n, 5);
    for (size_t i = 0; i < 5; i++) {
        int found = 0;
        for (size_t j = 0; j < sec.n; j++)
            found |= sec.len[j] == strlen(want[i]) && memcmp(sec.text[j], want[i], sec.len[j]) == 0;
        assert_true(found);
    }
    /* The env sentinel's variable name is not a secret; the run name is not. */
    assert_string_equal(scrub(&sec, "WANDB_API_KEY not-a-secret"), "\"WANDB_API_KEY not-a-secret\"");
    rv_vm_reset(vm);
}

static void scrubs_raw_and_escaped(void **state)
{
    (void)state;
    rd_secrets sec;
    rd_secrets_collect(&sec, parse("{\"env\":{\"A\":\"s3cr\\\"et\",\"B\":\"plainsecret\"}}"));
    assert_string_equal(scrub(&sec, "token plainsecret!"), "\"token [REDACTED]!\"");
    /* {configuration.env} prints the value JSON-escaped inside a message. */
    assert_string_equal(scrub(&sec, "env {\"A\":\"s3cr\\\"et\"}"),
                        "\"env {\\\"A\\\":\\\"[REDACTED]\\\"}\"");
    assert_string_equal(scrub(&sec, "raw s3cr\"et"), "\"raw [REDACTED]\"");
    rv_vm_reset(vm);
}

static void short_values_only_as_words(void **state)
{
    (void)state;
    rd_secrets sec;
    rd_secrets_collect(&sec, parse("{\"env\":{\"DEBUG\":\"1\",\"PW\":\"ab\"}}"));
    assert_string_equal(scrub(&sec, "asked for 10 GPUs, about ab"), "\"asked for 10 GPUs, about [REDACTED]\"");
    assert_string_equal(scrub(&sec, "value 1 here"), "\"value [REDACTED] here\"");
    rv_vm_reset(vm);
}

static void too_many_secrets_withholds_text(void **state)
{
    (void)state;
    char json[20000];
    size_t n = (size_t)snprintf(json, sizeof json, "{\"env\":{");
    for (int i = 0; i < RD_MAX_SECRETS + 5; i++)
        n += (size_t)snprintf(json + n, sizeof json - n, "%s\"K%d\":\"value-%d\"", i ? "," : "", i, i);
    snprintf(json + n, sizeof json - n, "}}");
    rd_secrets sec;
    rd_secrets_collect(&sec, parse(json));
    assert_true(sec.overflow);
    assert_null(strstr(scrub(&sec, "value-130 leaked"), "value-130"));
    rv_vm_reset(vm);
}

static void no_secrets_plain_escaping(void **state)
{
    (void)state;
    rd_secrets sec;
    rd_secrets_collect(&sec, parse("{\"configuration\":{\"type\":\"task\"}}"));
    assert_int_equal(sec.n, 0);
    assert_string_equal(scrub(&sec, "a \"quoted\"\nline"), "\"a \\\"quoted\\\"\\nline\"");
    rv_vm_reset(vm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(collects_env_and_registry_auth),
        cmocka_unit_test(scrubs_raw_and_escaped),
        cmocka_unit_test(short_values_only_as_words),
        cmocka_unit_test(too_many_secrets_withholds_text),
        cmocka_unit_test(no_secrets_plain_escaping),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
