/* test_bytecode.c - the bundle format, the loader, the verifier and the
 * SPDX-License-Identifier: Apache-2.0
 * disassembler, driven by policies assembled by hand: every verifier rule
 * has a program that breaks it, and every byte of a bundle is corrupted to
 * show that bad input fails cleanly (run this under ASan/UBSan too).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "opcodes.h"
#include "program.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- An allocator that checks sizes, counts blocks and can fail ---- */

typedef union hdr {
    max_align_t a;
    size_t size;
} hdr;

static long live_blocks;
static long alloc_calls;
static long fail_after = -1; /* fail the Nth allocation from now; -1 never */

static void *test_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    (void)ud;
    hdr *h = ptr ? (hdr *)ptr - 1 : NULL;
    if (h)
        assert_int_equal(h->size, osize); /* callers must tell the true size */
    if (nsize == 0) {
        if (h) {
            live_blocks--;
            free(h);
        }
        return NULL;
    }
    if (fail_after >= 0 && alloc_calls++ >= fail_after)
        return NULL;
    hdr *n = realloc(h, sizeof(hdr) + nsize);
    if (!n)
        return NULL;
    if (!h)
        live_blocks++;
    n->size = nsize;
    return n + 1;
}

static rv_config test_config(void)
{
    rv_config c;
    rv_config_init(&c);
    c.alloc = test_alloc;
    return c;
}

/* ---- A tiny assembler ---- */

typedef struct pb {
    rv_policy p;
    ru_arena arena;
    rv_node *consts[16];
    rv_param params[8];
    rv_regex regex[8];
    rv_path paths[16];
    rv_seg segs[64];
    size_t nsegs;
    uint32_t code[1100];
    rv_line lines[64];
    const char *kinds[4];
    uint32_t cur_line;
} pb;

static void pb_init(pb *b, const char *name, int32_t priority)
{
    memset(b, 0, sizeof *b);
    ru_arena_init(&b->arena, NULL, NULL);
    b->p.name = name;
    b->p.priority = priority;
    b->p.source = "rules/test.rules";
    b->p.target = "dstack";
    b->p.kinds = b->kinds;
    b->p.consts = b->consts;
    b->p.params = b->params;
    b->p.regex = b->regex;
    b->p.paths = b->paths;
    b->p.code = b->code;
    b->p.lines = b->lines;
}

static void pb_done(pb *b)
{
    ru_arena_free(&b->arena);
}

static rv_node *json(pb *b, const char *text)
{
    rv_error err;
    rv_node *n = rv_json_parse(&b->arena, text, strlen(text), 0, &err);
    assert_non_null(n);
    return n;
}

static uint32_t pb_const(pb *b, const char *text)
{
    b->consts[b->p.nconsts] = json(b, text);
    return b->p.nconsts++;
}

static uint32_t pb_param(pb *b, const char *name, const char *text)
{
    b->params[b->p.nparams].name = name;
    b->params[b->p.nparams].value = json(b, text);
    return b->p.nparams++;
}

static uint32_t pb_regex(pb *b, const char *pattern, uint32_t flags)
{
    rv_regex *r = &b->regex[b->p.nregex];
    r->pattern = pattern;
    r->flags = flags;
    r->line = 3;
    r->column = 7;
    return b->p.nregex++;
}

/* "configuration|env|HF_TOKEN", "volumes|#0": '|' separates, '#N' is an index. */
static uint32_t pb_path(pb *b, const char *spec)
{
    rv_path *p = &b->paths[b->p.npaths];
    p->segs = &b->segs[b->nsegs];
    while (*spec) {
        const char *end = strchr(spec, '|');
        size_t n = end ? (size_t)(end - spec) : strlen(spec);
        rv_seg *s = &b->segs[b->nsegs++];
        if (spec[0] == '#') {
            s->key = NULL;
            s->index = atoi(spec + 1);
        } else {
            s->key = ru_arena_strndup(&b->arena, spec, n);
            s->klen = (uint32_t)n;
        }
        p->nseg++;
        spec += n + (end != NULL);
    }
    return b->p.npaths++;
}

static void pb_line(pb *b, uint32_t line)
{
    b->cur_line = line;
}

static uint32_t emit(pb *b, uint32_t ins)
{
    uint32_t pc = b->p.ncode++;
    b->code[pc] = ins;
    if (b->cur_line &&
        (b->p.nlines == 0 || b->lines[b->p.nlines - 1].line != b->cur_line)) {
        b->lines[b->p.nlines++] = (rv_line){pc, b->cur_line};
    }
    return pc;
}

#define OP(op) emit(b, RV_MAKE_AX(RV_OP_##op, 0))
#define OPX(op, x) emit(b, RV_MAKE_AX(RV_OP_##op, (x)))
#define OPAB(op, a, x) emit(b, RV_MAKE_ABX(RV_OP_##op, (a), (x)))

/* ---- Bundles ---- */

static ru_buf write_bundle(pb **ps, size_t n)
{
    rv_policy *pol[8];
    for (size_t i = 0; i < n; i++)
        pol[i] = &ps[i]->p;
    ru_buf out;
    ru_buf_init(&out, NULL, NULL);
    assert_true(rv_bundle_write(&out, pol, n));
    return out;
}

static void refix_crc(unsigned char *d, size_t size)
{
    uint32_t c = rv_crc32(d + 16, size - 16);
    d[12] = (unsigned char)c;
    d[13] = (unsigned char)(c >> 8);
    d[14] = (unsigned char)(c >> 16);
    d[15] = (unsigned char)(c >> 24);
}

static void put32(unsigned char *d, uint32_t v)
{
    d[0] = (unsigned char)v;
    d[1] = (unsigned char)(v >> 8);
    d[2] = (unsigned char)(v >> 16);
    d[3] = (unsigned char)(v >> 24);
}

static rv_status load_bytes(const void *data, size_t size, const char *name, rv_program **prog,
                            rv_error *err)
{
    rv_config c = test_config();
    rv_blob blob = {data, size, name};
    return rv_program_load(&blob, 1, &c, prog, err);
}

/* Loads one policy and returns the status (the program is freed). */
static rv_status load_policy(pb *b, rv_error *err)
{
    pb *ps[1] = {b};
    ru_buf buf = write_bundle(ps, 1);
    rv_program *prog = NULL;
    rv_status st = load_bytes(buf.data, buf.len, "t.rbc", &prog, err);
    if (st == RV_OK)
        assert_non_null(prog);
    else
        assert_null(prog);
    rv_program_free(prog);
    ru_buf_free(&buf);
    return st;
}

/* A realistic little policy, used by several tests:
 *   param max_price = 2.0; param team = "ml";
 *   on run, fleet {
 *     set configuration.max_price = min(configuration.max_price ?? $max_price, $max_price);
 *     forbid-if $user =~ /^intern-/i : "no interns";
 *     append-tags { team: $team };
 *   }                                                                   */
static void build_limits(pb *b, const char *name, int32_t priority)
{
    pb_init(b, name, priority);
    b->kinds[0] = "run";
    b->kinds[1] = "fleet";
    b->p.nkinds = 2;
    uint32_t pmax = pb_param(b, "max_price", "2.0");
    uint32_t pteam = pb_param(b, "team", "\"ml\"");
    uint32_t kmsg = pb_const(b, "\"no interns\"");
    uint32_t kteam = pb_const(b, "\"team\"");
    uint32_t re = pb_regex(b, "^intern-", RV_RE_I);
    uint32_t path_price = pb_path(b, "configuration|max_price");
    uint32_t path_tags = pb_path(b, "configuration|tags");

    pb_line(b, 7);
    OPX(GET, path_price);         /* 0 */
    OPX(JNOTNULL, 2);             /* 1 -> 4 */
    OPX(PARAM, pmax);             /* 2 */
    OPX(JMP, 0);                  /* 3 -> 4 */
    OPX(PARAM, pmax);             /* 4 */
    OPX(CALL, RV_BI_min);         /* 5 */
    OPX(SET, path_price);         /* 6 */
    pb_line(b, 8);
    OPX(CTX, RV_CTX_USER);        /* 7 */
    OPX(MATCH, re);               /* 8 */
    OPX(JFALSE, 2);               /* 9 -> 12 */
    OPX(CONST, kmsg);             /* 10 */
    OP(FORBID);                   /* 11 */
    pb_line(b, 9);
    OPX(CONST, kteam);            /* 12 */
    OPX(PARAM, pteam);            /* 13 */
    OPX(TAG, path_tags);          /* 14 */
    pb_line(b, 10);
    OP(HALT);                     /* 15 */
}

static void build_nested(pb *b);

static void test_valid_policy_loads(void **state)
{
    (void)state;
    pb b;
    build_limits(&b, "limits", 10);
    pb *ps[1] = {&b};
    ru_buf buf = write_bundle(ps, 1);
    rv_program *prog = NULL;
    rv_error err;
    assert_int_equal(load_bytes(buf.data, buf.len, "limits.rbc", &prog, &err), RV_OK);
    assert_int_equal(rv_program_policy_count(prog), 1);

    rv_policy_info info;
    rv_program_policy(prog, 0, &info);
    assert_string_equal(info.name, "limits");
    assert_string_equal(info.source, "rules/test.rules");
    assert_int_equal(info.priority, 10);
    assert_int_equal(info.nkinds, 2);
    assert_string_equal(info.kinds[1], "fleet");
    assert_int_equal(info.nparams, 2);
    assert_int_equal(info.ninstructions, 16);
    /* The checksum covers the policy's bytes after its size word. */
    uint32_t psize = (uint32_t)(unsigned char)buf.data[20] | (uint32_t)(unsigned char)buf.data[21] << 8;
    assert_int_equal(info.checksum, rv_crc32(buf.data + 24, psize));

    const char *name, *value;
    rv_program_param(prog, 0, 0, &name, &value);
    assert_string_equal(name, "max_price");
    assert_string_equal(value, "2.0");
    rv_program_param(prog, 0, 1, &name, &value);
    assert_string_equal(value, "\"ml\"");
    rv_program_param(prog, 0, 2, &name, &value);
    assert_null(name);

    const rv_policy *p = prog->policies[0];
    assert_string_equal(p->paths[0].text, "configuration.max_price");
    assert_non_null(p->regex[0].code);
    assert_int_equal(p->max_stack, 2);
    assert_string_equal(p->consts[0]->u.s, "no interns");

    assert_int_equal(rv_program_line(prog, 0, 0), 7);
    assert_int_equal(rv_program_line(prog, 0, 6), 7);
    assert_int_equal(rv_program_line(prog, 0, 7), 8);
    assert_int_equal(rv_program_line(prog, 0, 14), 9);
    assert_int_equal(rv_program_line(prog, 0, 15), 10);
    assert_int_equal(rv_program_line(prog, 0, 99), 10);
    assert_int_equal(rv_program_line(prog, 1, 0), 0);

    rv_program_free(prog);
    ru_buf_free(&buf);
    pb_done(&b);
    assert_int_equal(live_blocks, 0);
}

static void test_path_text(void **state)
{
    (void)state;
    pb b;
    pb_init(&b, "paths", 0);
    pb_path(&b, "configuration|tags|team");
    pb_path(&b, "configuration|env|HF_TOKEN");
    pb_path(&b, "configuration|env|HF-TOKEN");
    pb_path(&b, "volumes|#0|name");
    pb_path(&b, "a\"b|#-1");
    pb_path(&b, "");
    emit(&b, RV_MAKE_AX(RV_OP_HALT, 0));
    pb *ps[1] = {&b};
    ru_buf buf = write_bundle(ps, 1);
    rv_program *prog = NULL;
    rv_error err;
    assert_int_equal(load_bytes(buf.data, buf.len, "p.rbc", &prog, &err), RV_OK);
    const rv_policy *p = prog->policies[0];
    assert_string_equal(p->paths[0].text, "configuration.tags.team");
    assert_string_equal(p->paths[1].text, "configuration.env.HF_TOKEN");
    assert_string_equal(p->paths[2].text, "configuration.env[\"HF-TOKEN\"]");
    assert_string_equal(p->paths[3].text, "volumes[0].name");
    assert_string_equal(p->paths[4].text, "[\"a\\\"b\"][-1]");
    assert_string_equal(p->paths[5].text, "");
    rv_program_free(prog);
    ru_buf_free(&buf);
    pb_done(&b);
}

static void halt_only(pb *b, const char *name, int32_t priority)
{
    pb_init(b, name, priority);
    emit(b, RV_MAKE_AX(RV_OP_HALT, 0));
}

static void test_set_rules(void **state)
{
    (void)state;
    pb a10, b10, c5, a20, d10;
    halt_only(&a10, "a", 10);
    halt_only(&b10, "b", 10);
    halt_only(&c5, "c", -5);
    halt_only(&a20, "a", 20);
    halt_only(&d10, "d", 10);
    pb *first[3] = {&a10, &d10, &b10};
    pb *second[2] = {&a20, &c5};
    ru_buf b1 = write_bundle(first, 3), b2 = write_bundle(second, 2);
    rv_blob blobs[2] = {{b1.data, b1.len, "one.rbc"}, {b2.data, b2.len, "two.rbc"}};
    rv_config c = test_config();
    rv_program *prog = NULL;
    rv_error err;
    assert_int_equal(rv_program_load(blobs, 2, &c, &prog, &err), RV_OK);
    assert_int_equal(rv_program_policy_count(prog), 4);
    const char *want[4] = {"c", "b", "d", "a"};
    int32_t prio[4] = {-5, 10, 10, 20};
    for (size_t i = 0; i < 4; i++) {
        rv_policy_info info;
        rv_program_policy(prog, i, &info);
        assert_string_equal(info.name, want[i]);
        assert_int_equal(info.priority, prio[i]);
    }
    rv_program_free(prog);
    assert_int_equal(live_blocks, 0);

    /* Same name, same priority, in two bundles. */
    pb a10b;
    halt_only(&a10b, "a", 10);
    pb *third[1] = {&a10b};
    ru_buf b3 = write_bundle(third, 1);
    rv_blob dup[2] = {{b1.data, b1.len, "a.rbc"}, {b3.data, b3.len, "b.rbc"}};
    assert_int_equal(rv_program_load(dup, 2, &c, &prog, &err), RV_EPOLICY);
    assert_null(prog);
    assert_string_equal(err.message, "policy 'a' is defined twice with priority 10 (a.rbc, b.rbc)");
    /* Even when a higher priority one exists too. */
    rv_blob dup3[3] = {{b1.data, b1.len, "a.rbc"}, {b2.data, b2.len, "x.rbc"}, {b3.data, b3.len, "b.rbc"}};
    assert_int_equal(rv_program_load(dup3, 3, &c, &prog, &err), RV_EPOLICY);
    assert_int_equal(live_blocks, 0);

    /* One name, two targets: refused whatever the priorities (the higher
     * one would drop the other target's rules while never judging that
     * target's requests). Within one target, priorities decide. */
    pb a30s;
    halt_only(&a30s, "a", 30);
    a30s.p.target = "skypilot";
    pb *fourth[1] = {&a30s};
    ru_buf b4 = write_bundle(fourth, 1);
    rv_blob cross[2] = {{b1.data, b1.len, "one.rbc"}, {b4.data, b4.len, "sky.rbc"}};
    assert_int_equal(rv_program_load(cross, 2, &c, &prog, &err), RV_EPOLICY);
    assert_null(prog);
    assert_string_equal(err.message, "policy 'a' is defined for target skypilot (sky.rbc) and for target "
                                     "dstack (one.rbc): a policy overrides one of its name only within its "
                                     "target (else one protocol's requests would lose its rules unseen); "
                                     "rename one");
    assert_int_equal(live_blocks, 0);
    ru_buf_free(&b4);
    pb_done(&a30s);

    /* Empty set is fine. */
    assert_int_equal(rv_program_load(NULL, 0, &c, &prog, &err), RV_OK);
    assert_int_equal(rv_program_policy_count(prog), 0);
    rv_program_free(prog);

    ru_buf_free(&b1);
    ru_buf_free(&b2);
    ru_buf_free(&b3);
    pb_done(&a10); pb_done(&b10); pb_done(&c5); pb_done(&a20); pb_done(&d10); pb_done(&a10b);
    assert_int_equal(live_blocks, 0);
}

static void expect_format(const unsigned char *d, size_t n, const char *needle)
{
    rv_program *prog = (rv_program *)1;
    rv_error err;
    assert_int_equal(load_bytes(d, n, "bad.rbc", &prog, &err), RV_EFORMAT);
    assert_null(prog);
    if (needle && !strstr(err.message, needle))
        fail_msg("message '%s' lacks '%s'", err.message, needle);
    assert_non_null(strstr(err.message, "bad.rbc"));
}

static void test_bad_headers(void **state)
{
    (void)state;
    pb b;
    build_limits(&b, "limits", 0);
    pb *ps[1] = {&b};
    ru_buf buf = write_bundle(ps, 1);
    size_t n = buf.len;
    unsigned char *d = malloc(n);

    memcpy(d, buf.data, n);
    d[1] = 'X';
    expect_format(d, n, "bad magic");

    memcpy(d, buf.data, n);
    d[4] = 4;
    expect_format(d, n, "unsupported version 4 (this library reads 3)");

    /* Version 1 predates SECRET marks, version 2 each policy's target:
     * refused, saying what to do. */
    memcpy(d, buf.data, n);
    d[4] = 1;
    expect_format(d, n, "format version 1, written before secrets were marked (this library reads 3): "
                        "recompile it from its source with rulec compile");
    memcpy(d, buf.data, n);
    d[4] = 2;
    expect_format(d, n, "format version 2, written before policies recorded their target (this library "
                        "reads 3): recompile it from its source with rulec compile");
    memcpy(d, buf.data, n);
    d[4] = 0;
    expect_format(d, n, "unsupported version 0");

    memcpy(d, buf.data, n);
    d[6] = 1;
    expect_format(d, n, "flags");

    memcpy(d, buf.data, n);
    put32(d + 8, (uint32_t)n + 1);
    expect_format(d, n, "total size");

    memcpy(d, buf.data, n);
    d[n - 1] ^= 0x40;
    expect_format(d, n, "checksum mismatch");

    memcpy(d, buf.data, n);
    d[12] ^= 1;
    expect_format(d, n, "checksum mismatch");

    /* Trailing bytes after the last policy (size and CRC made consistent). */
    unsigned char *e = calloc(1, n + 3);
    memcpy(e, buf.data, n);
    put32(e + 8, (uint32_t)n + 3);
    refix_crc(e, n + 3);
    expect_format(e, n + 3, "after the last policy");

    /* npolicies larger than the blob can hold. */
    memcpy(d, buf.data, n);
    put32(d + 16, 1000000);
    refix_crc(d, n);
    expect_format(d, n, "policies cannot fit");

    /* A policy size beyond the blob. */
    memcpy(d, buf.data, n);
    put32(d + 20, (uint32_t)n);
    refix_crc(d, n);
    expect_format(d, n, "policy 0: byte 20");

    free(e);
    free(d);
    ru_buf_free(&buf);
    pb_done(&b);
    assert_int_equal(live_blocks, 0);
}

static void test_truncated(void **state)
{
    (void)state;
    pb b;
    build_limits(&b, "limits", 0);
    pb *ps[1] = {&b};
    ru_buf buf = write_bundle(ps, 1);
    size_t n = buf.len;
    unsigned char *d = malloc(n);
    for (size_t len = 0; len < n; len++) {
        /* As cut: the header catches it. */
        memcpy(d, buf.data, n);
        expect_format(len ? d : NULL, len, NULL);
        /* Header made consistent with the cut, so the decoder sees a
         * truncated policy. */
        if (len >= RV_HEADER_SIZE) {
            put32(d + 8, (uint32_t)len);
            refix_crc(d, len);
            expect_format(d, len, NULL);
            /* ... and with the policy size shrunk to fit, too. */
            if (len >= RV_HEADER_SIZE + 52) {  /* load.c's MIN_POLICY */
                put32(d + 20, (uint32_t)(len - 24));
                refix_crc(d, len);
                expect_format(d, len, "policy 0");
            }
        }
    }
    free(d);
    ru_buf_free(&buf);
    pb_done(&b);
    assert_int_equal(live_blocks, 0);
}

/* Disassembles prog with a VM of its own on the checking allocator. */
static void print_listing(const rv_program *prog)
{
    rv_config c = test_config();
    rv_vm *vm;
    rv_error err;
    const char *text;
    size_t len;
    assert_int_equal(rv_vm_new(&c, &vm), RV_OK);
    assert_int_equal(rv_program_disasm(prog, vm, &text, &len, &err), RV_OK);
    assert_int_equal(strlen(text), len);
    rv_vm_free(vm);
}

/* Corrupts every byte three ways, with and without a fixed-up CRC (so the
 * decoder and the verifier see the damage). Whatever happens must be a
 * clean OK or a clean error; the checking allocator and ASan catch the rest. */
static void test_flip_every_byte(void **state)
{
    (void)state;
    pb b;
    build_limits(&b, "limits", 0);
    pb *ps[1] = {&b};
    ru_buf buf = write_bundle(ps, 1);
    size_t n = buf.len;
    unsigned char *d = malloc(n);
    static const unsigned char masks[] = {0x01, 0x80, 0xFF, 0x10};
    size_t loaded = 0, failed = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t m = 0; m < sizeof masks; m++) {
            for (int fix = 0; fix < 2; fix++) {
                memcpy(d, buf.data, n);
                d[i] ^= masks[m];
                if (fix && i >= 16)
                    refix_crc(d, n);
                rv_program *prog = NULL;
                rv_error err;
                rv_status st = load_bytes(d, n, "flip.rbc", &prog, &err);
                if (st == RV_OK) {
                    loaded++;
                    /* Whatever loaded must also print. */
                    print_listing(prog);
                    rv_program_free(prog);
                } else {
                    failed++;
                    assert_null(prog);
                    assert_true(st == RV_EFORMAT || st == RV_EVERIFY || st == RV_EPOLICY);
                    assert_true(err.message[0] != '\0');
                }
                assert_int_equal(live_blocks, 0);
            }
        }
    }
    assert_true(failed > 0);
    assert_true(loaded > 0); /* e.g. flipped bits in a constant's text */
    free(d);
    ru_buf_free(&buf);
    pb_done(&b);
}

/* Random multi-byte damage to a bundle holding loops, regexes and params,
 * CRC fixed so that the decoder and the verifier take the hits. */
static void test_random_mutations(void **state)
{
    (void)state;
    pb a, q;
    build_limits(&a, "limits", 0);
    build_nested(&q);
    pb *ps[2] = {&a, &q};
    ru_buf buf = write_bundle(ps, 2);
    size_t n = buf.len;
    unsigned char *d = malloc(n);
    uint64_t seed = 0x9E3779B97F4A7C15u;
    size_t loaded = 0;
    for (int round = 0; round < 5000; round++) {
        memcpy(d, buf.data, n);
        int hits = 1 + round % 4;
        for (int h = 0; h < hits; h++) {
            seed = seed * 6364136223846793005u + 1442695040888963407u;
            size_t at = RV_HEADER_SIZE + (size_t)(seed >> 33) % (n - RV_HEADER_SIZE);
            d[at] = (unsigned char)(seed >> 17);
        }
        refix_crc(d, n);
        rv_program *prog = NULL;
        rv_error err;
        if (load_bytes(d, n, "m.rbc", &prog, &err) == RV_OK) {
            loaded++;
            print_listing(prog);
            rv_program_free(prog);
        } else {
            assert_null(prog);
        }
        assert_int_equal(live_blocks, 0);
    }
    assert_true(loaded > 0);
    free(d);
    ru_buf_free(&buf);
    pb_done(&a);
    pb_done(&q);
}

/* Every allocation failure point of a load fails cleanly with ENOMEM. */
static void test_out_of_memory(void **state)
{
    (void)state;
    pb b;
    build_limits(&b, "limits", 0);
    pb *ps[1] = {&b};
    ru_buf buf = write_bundle(ps, 1);
    for (long k = 0;; k++) {
        rv_program *prog = NULL;
        rv_error err;
        alloc_calls = 0;
        fail_after = k;
        rv_status st = load_bytes(buf.data, buf.len, "oom.rbc", &prog, &err);
        fail_after = -1;
        if (st == RV_OK) {
            rv_program_free(prog);
            assert_true(k > 0);
            break;
        }
        if (st != RV_ENOMEM)
            fail_msg("k=%ld: %s: %s", k, rv_status_name(st), err.message);
        assert_null(prog);
        assert_int_equal(live_blocks, 0);
    }
    assert_int_equal(live_blocks, 0);
    ru_buf_free(&buf);
    pb_done(&b);
}

/* ---- The verifier ---- */

static void expect_verify(pb *b, const char *needle)
{
    rv_error err;
    assert_int_equal(load_policy(b, &err), RV_EVERIFY);
    if (!strstr(err.message, needle))
        fail_msg("message '%s' lacks '%s'", err.message, needle);
    assert_non_null(strstr(err.message, "t.rbc: policy 'v'"));
    pb_done(b);
    assert_int_equal(live_blocks, 0);
}

static void test_verify_jumps(void **state)
{
    (void)state;
    pb bb, *b = &bb;

    pb_init(b, "v", 0); /* a backward jump is a huge forward one */
    OPX(JMP, RV_MAX_AX);
    OP(HALT);
    expect_verify(b, "pc 0 (JMP): jump target 16777216 out of range");

    pb_init(b, "v", 0);
    OPX(CONST, pb_const(b, "true"));
    OPX(JFALSE, 5);
    OP(HALT);
    expect_verify(b, "pc 1 (JFALSE): jump target 7 out of range");

    pb_init(b, "v", 0);
    OPX(JMP, 0);
    OP(POP);
    expect_verify(b, "pc 1 (POP): the last instruction is not HALT");

    pb_init(b, "v", 0);
    expect_verify(b, "policy 'v': no code");

    pb_init(b, "v", 0);
    emit(b, 0xFF);
    OP(HALT);
    expect_verify(b, "pc 0 (opcode 255): unknown opcode");

    pb_init(b, "v", 0);
    OPX(POP, 3);
    OP(HALT);
    expect_verify(b, "pc 0 (POP): operand 3 on an instruction that takes none");
}

static void test_verify_operands(void **state)
{
    (void)state;
    pb bb, *b = &bb;

    pb_init(b, "v", 0);
    pb_const(b, "1");
    OPX(CONST, 1);
    OP(POP);
    OP(HALT);
    expect_verify(b, "pc 0 (CONST): constant 1 out of range (1 constants)");

    pb_init(b, "v", 0);
    OPX(CTX, RV_CTX__COUNT);
    OP(POP);
    OP(HALT);
    expect_verify(b, "pc 0 (CTX): context index 4 out of range");

    pb_init(b, "v", 0);
    OPX(PARAM, 0);
    OP(POP);
    OP(HALT);
    expect_verify(b, "pc 0 (PARAM): parameter 0 out of range");

    pb_init(b, "v", 0);
    pb_path(b, "a");
    OPX(GET, 1);
    OP(POP);
    OP(HALT);
    expect_verify(b, "pc 0 (GET): path 1 out of range (1 paths)");

    pb_init(b, "v", 0);
    pb_const(b, "\"x\"");
    OPX(CONST, 0);
    OPX(MATCH, 0);
    OP(POP);
    OP(HALT);
    expect_verify(b, "pc 1 (MATCH): regex 0 out of range");

    pb_init(b, "v", 0);
    OPX(CALL, RV_BI__COUNT);
    OP(POP);
    OP(HALT);
    {
        char want[64];
        snprintf(want, sizeof want, "pc 0 (CALL): builtin %d out of range", (int)RV_BI__COUNT);
        expect_verify(b, want);
    }

    pb_init(b, "v", 0);
    pb_path(b, "");
    OPX(UNSET, 0);
    OP(HALT);
    expect_verify(b, "pc 0 (UNSET): writes through path 0, which is empty");
}

static void test_verify_stack(void **state)
{
    (void)state;
    pb bb, *b = &bb;

    pb_init(b, "v", 0);
    OP(POP);
    OP(HALT);
    expect_verify(b, "pc 0 (POP): stack underflow: needs 1 values, has 0");

    pb_init(b, "v", 0);
    OPX(CONST, pb_const(b, "1"));
    OP(ADD);
    OP(POP);
    OP(HALT);
    expect_verify(b, "pc 1 (ADD): stack underflow: needs 2 values, has 1");

    pb_init(b, "v", 0);
    OPX(CONST, pb_const(b, "1"));
    OPX(CALL, RV_BI_starts_with);
    OP(POP);
    OP(HALT);
    expect_verify(b, "pc 1 (CALL): stack underflow: needs 2 values, has 1");

    pb_init(b, "v", 0);
    OPX(CONST, pb_const(b, "1"));
    OPX(MKMAP, 1);
    OP(POP);
    OP(HALT);
    expect_verify(b, "pc 1 (MKMAP): stack underflow: needs 2 values, has 1");

    /* Two paths reach pc 4 with different depths. */
    pb_init(b, "v", 0);
    uint32_t k = pb_const(b, "1");
    OPX(CONST, k);   /* 0: 1 */
    OPX(CONST, k);   /* 1: 2 */
    OPX(JFALSE, 1);  /* 2: 1, -> 4 with 1 */
    OP(POP);         /* 3: 0 */
    OP(POP);         /* 4: fall 0 vs jump 1 */
    OP(HALT);
    expect_verify(b, "pc 4 (POP): stack depth 0 on fall-through, but 1 from a jump");

    /* Two jumps into one pc disagree. */
    pb_init(b, "v", 0);
    k = pb_const(b, "1");
    OPX(CONST, k);   /* 0 */
    OPX(CONST, k);   /* 1 */
    OPX(JFALSE, 3);  /* 2: -> 6 with 1 */
    OP(POP);         /* 3: 0 */
    OPX(JMP, 1);     /* 4: -> 6 with 0 */
    OP(HALT);        /* 5: unreachable, skipped */
    OP(HALT);        /* 6 */
    expect_verify(b, "pc 4 (JMP): stack depth 0 at target pc 6, which is entered with depth 1 elsewhere");

    pb_init(b, "v", 0);
    OPX(CONST, pb_const(b, "1"));
    OP(HALT);
    expect_verify(b, "pc 1 (HALT): stack depth 1 at HALT");

    pb_init(b, "v", 0);
    k = pb_const(b, "1");
    for (int i = 0; i <= RV_STACK_MAX; i++)
        OPX(CONST, k);
    for (int i = 0; i <= RV_STACK_MAX; i++)
        OP(POP);
    OP(HALT);
    expect_verify(b, "pc 256 (CONST): stack overflow: depth 257 exceeds 256");

    /* Exactly RV_STACK_MAX is fine. */
    pb_init(b, "v", 0);
    k = pb_const(b, "1");
    for (int i = 0; i < RV_STACK_MAX; i++)
        OPX(CONST, k);
    OPX(MKLIST, RV_STACK_MAX);
    OP(POP);
    OP(HALT);
    rv_error err;
    assert_int_equal(load_policy(b, &err), RV_OK);
    assert_int_equal(rv_verify_policy(&b->p, &err), true);
    assert_int_equal(b->p.max_stack, RV_STACK_MAX);
    pb_done(b);
}

static void expect_line(const char *text, const char *line);

/* INDEX (a computed key, S[-2][S[-1]]): no operand, pops two, pushes
 * one, allowed inside a quantifier body (it writes nothing). */
static void test_verify_index(void **state)
{
    (void)state;
    pb bb, *b = &bb;
    rv_error err;

    pb_init(b, "v", 0);
    OPX(CONST, pb_const(b, "\"k\""));
    OP(INDEX);
    OP(POP);
    OP(HALT);
    expect_verify(b, "pc 1 (INDEX): stack underflow: needs 2 values, has 1");

    pb_init(b, "v", 0);
    uint32_t k = pb_const(b, "\"k\"");
    OPX(CONST, k);
    OPX(CONST, k);
    OPX(INDEX, 1);
    OP(POP);
    OP(HALT);
    expect_verify(b, "pc 2 (INDEX): operand 1 on an instruction that takes none");

    pb_init(b, "v", 0);   /* it pushes its result: something must pop it */
    OPX(PARAM, pb_param(b, "t", "{\"k\":1}"));
    OPX(CTX, RV_CTX_PROJECT);
    OP(INDEX);
    OP(HALT);
    expect_verify(b, "pc 3 (HALT): stack depth 1 at HALT");

    /* $t[$project] and, in a quantifier body, v[$project] */
    pb_init(b, "v", 0);
    b->p.nslots = 1;
    OPX(PARAM, pb_param(b, "t", "{\"k\":1}"));  /* 0 */
    OPX(CTX, RV_CTX_PROJECT);                     /* 1 */
    OP(INDEX);                                    /* 2 */
    OP(POP);                                      /* 3 */
    OPX(GET, pb_path(b, "a"));                    /* 4 */
    OPAB(ANY_BEGIN, 0, 4);                        /* 5: empty -> 10 */
    OPX(LOCAL, 0);                                /* 6 */
    OPX(CTX, RV_CTX_PROJECT);                     /* 7 */
    OP(INDEX);                                    /* 8 */
    OPAB(ANY_NEXT, 0, 3);                         /* 9: loop -> 6 */
    OP(POP);                                      /* 10 */
    OP(HALT);                                     /* 11 */
    assert_int_equal(load_policy(b, &err), RV_OK);
    assert_int_equal(rv_verify_policy(&b->p, &err), true);
    assert_int_equal(b->p.max_stack, 2);

    pb *ps[1] = {b};
    ru_buf buf = write_bundle(ps, 1);
    rv_program *prog;
    assert_int_equal(load_bytes(buf.data, buf.len, "i.rbc", &prog, &err), RV_OK);
    rv_config vc = test_config();
    rv_vm *vm;
    assert_int_equal(rv_vm_new(&vc, &vm), RV_OK);
    const char *text;
    size_t len;
    assert_int_equal(rv_program_disasm(prog, vm, &text, &len, &err), RV_OK);
    expect_line(text, "    2  -    INDEX               ; S[-2][S[-1]]: computed key");
    expect_line(text, "    8  -    INDEX               ; S[-2][S[-1]]: computed key");
    rv_vm_free(vm);
    rv_program_free(prog);
    ru_buf_free(&buf);
    pb_done(b);
    assert_int_equal(live_blocks, 0);
}

/* SUM loops and WITNESS reads (issue 10): a sum is a quantifier whose body
 * yields a term; WITNESS reads a closed quantifier's slot, never an open
 * one, never one out of range. */
static void test_verify_sum_witness(void **state)
{
    (void)state;
    pb bb, *b = &bb;
    uint32_t px;
    rv_error err;

    /* The shapes the compiler emits load. */
    pb_init(b, "v", 0);
    b->p.nslots = 1;
    px = pb_path(b, "xs");
    OPX(GET, px);              /* 0 */
    OPAB(SUM_BEGIN, 0, 2);     /* 1 -> 4 */
    OPX(LOCAL, 0);             /* 2 */
    OPAB(SUM_NEXT, 0, 1);      /* 3 -> 2 */
    OP(POP);                   /* 4 */
    OPX(GET, px);              /* 5 */
    OPAB(ANY_BEGIN, 0, 2);     /* 6 -> 9 */
    OPX(LOCAL, 0);             /* 7 */
    OPAB(ANY_NEXT, 0, 1);      /* 8 -> 7 */
    OPX(JFALSE, 2);            /* 9 -> 12 */
    OPX(WITNESS, 0);           /* 10 */
    OP(WARN);                  /* 11 */
    OP(HALT);                  /* 12 */
    if (load_policy(b, &err) != RV_OK)
        fail_msg("%s", err.message);
    pb_done(b);

    /* SUM_NEXT closing an ANY_BEGIN (and the reverse). */
    pb_init(b, "v", 0);
    b->p.nslots = 1;
    px = pb_path(b, "xs");
    OPX(GET, px);
    OPAB(ANY_BEGIN, 0, 2);
    OPX(LOCAL, 0);
    OPAB(SUM_NEXT, 0, 1);      /* 3 */
    OP(POP);
    OP(HALT);
    expect_verify(b, "pc 3 (SUM_NEXT): closes the ANY_BEGIN at pc 1");
    pb_init(b, "v", 0);
    b->p.nslots = 1;
    px = pb_path(b, "xs");
    OPX(GET, px);
    OPAB(SUM_BEGIN, 0, 2);
    OPX(LOCAL, 0);
    OPAB(ALL_NEXT, 0, 1);      /* 3 */
    OP(POP);
    OP(HALT);
    expect_verify(b, "pc 3 (ALL_NEXT): closes the SUM_BEGIN at pc 1");

    /* A write in a sum's body: a sum is an expression. */
    pb_init(b, "v", 0);
    b->p.nslots = 1;
    px = pb_path(b, "xs");
    OPX(GET, px);
    OPAB(SUM_BEGIN, 0, 4);     /* 1 -> 6 */
    OPX(LOCAL, 0);
    OPX(SET, px);              /* 3 */
    OPX(LOCAL, 0);
    OPAB(SUM_NEXT, 0, 3);
    OP(POP);
    OP(HALT);
    expect_verify(b, "pc 3 (SET): not allowed inside a quantifier body (opened at pc 1)");

    /* A body that leaves two terms per round would grow the stack. */
    pb_init(b, "v", 0);
    b->p.nslots = 1;
    px = pb_path(b, "xs");
    OPX(GET, px);
    OPAB(SUM_BEGIN, 0, 3);     /* 1 -> 5 */
    OPX(LOCAL, 0);
    OPX(LOCAL, 0);
    OPAB(SUM_NEXT, 0, 2);      /* 4 */
    OP(POP);
    OP(POP);
    OP(HALT);
    expect_verify(b, "pc 4 (SUM_NEXT): the body leaves depth 1 below its condition, but starts at 0");

    /* WITNESS inside its own quantifier (LOCAL reads an open slot). */
    pb_init(b, "v", 0);
    b->p.nslots = 1;
    px = pb_path(b, "xs");
    OPX(GET, px);
    OPAB(ANY_BEGIN, 0, 2);
    OPX(WITNESS, 0);           /* 2 */
    OPAB(ANY_NEXT, 0, 1);
    OP(POP);
    OP(HALT);
    expect_verify(b, "pc 2 (WITNESS): slot 0 is open here: its element is read with LOCAL");

    /* WITNESS of a slot the policy does not have. */
    pb_init(b, "v", 0);
    b->p.nslots = 1;
    OPX(WITNESS, 1);           /* 0 */
    OP(POP);
    OP(HALT);
    expect_verify(b, "pc 0 (WITNESS): slot 1 out of range (1 slots)");
}

/* EACH loops: writes only below the innermost element, no jump into or out
 * of a body, EACH_IN and EACH_BEGIN as a pair, properly nested. */
/* Loops over a map's members (EACH_PAIRS) and their keys (KEY): the same
 * structure as EACH_BEGIN's, and a key only where a map is iterated. */
static void test_verify_each_map(void **state)
{
    (void)state;
    pb bb, *b = &bb;
    uint32_t pm, px, pe;
    rv_error err;

    /* The shape the compiler emits, a list loop inside a map loop: it loads. */
    pb_init(b, "v", 0);
    b->p.nslots = 2;
    pm = pb_path(b, "configuration|env");
    px = pb_path(b, "items");
    pe = pb_path(b, "seen");
    OPAB(EACH_IN, 0, pm);      /* 0 */
    OPAB(EACH_PAIRS, 0, 8);    /* 1 -> 10 */
    OPX(KEY, 0);               /* 2 */
    OP(WARN);                  /* 3 */
    OPAB(EACH_IN, 1, px);      /* 4: below L[0]'s value */
    OPAB(EACH_BEGIN, 1, 3);    /* 5 -> 9 */
    OPX(KEY, 0);               /* 6: the outer key, inside the inner loop */
    OPAB(SET_EL, 1, pe);       /* 7 */
    OPAB(EACH_NEXT, 1, 2);     /* 8 -> 6 */
    OPAB(EACH_NEXT, 0, 7);     /* 9 -> 2 */
    OP(HALT);
    if (load_policy(b, &err) != RV_OK)
        fail_msg("%s", err.message);
    pb_done(b);

    /* A spec write (which could add a key to the map) inside the body. */
    pb_init(b, "v", 0);
    b->p.nslots = 1;
    pm = pb_path(b, "configuration|env");
    pe = pb_path(b, "configuration|env|NEW");
    OPAB(EACH_IN, 0, pm);      /* 0 */
    OPAB(EACH_PAIRS, 0, 3);    /* 1 -> 5 */
    OPX(CONST, pb_const(b, "1"));
    OPX(SET, pe);              /* 3 */
    OPAB(EACH_NEXT, 0, 2);     /* 4 */
    OP(HALT);
    expect_verify(b, "pc 3 (SET): not allowed inside an EACH body (EACH_PAIRS at pc 1)");

    /* Replacing or removing the value itself (an empty path): the map
     * would lose a key. */
    pb_init(b, "v", 0);
    b->p.nslots = 1;
    pm = pb_path(b, "m");
    pe = pb_path(b, "");
    OPAB(EACH_IN, 0, pm);
    OPAB(EACH_PAIRS, 0, 2);
    OPAB(UNSET_EL, 0, pe);     /* 2 */
    OPAB(EACH_NEXT, 0, 1);
    OP(HALT);
    expect_verify(b, "pc 2 (UNSET_EL): writes the element itself");

    /* Writing below the outer map's value from an inner loop. */
    pb_init(b, "v", 0);
    b->p.nslots = 2;
    pm = pb_path(b, "m");
    px = pb_path(b, "items");
    OPAB(EACH_IN, 0, pm);      /* 0 */
    OPAB(EACH_PAIRS, 0, 6);    /* 1 -> 8 */
    OPAB(EACH_IN, 1, px);      /* 2 */
    OPAB(EACH_BEGIN, 1, 3);    /* 3 -> 7 */
    OPX(CONST, pb_const(b, "[]"));
    OPAB(SET_EL, 0, px);       /* 5 */
    OPAB(EACH_NEXT, 1, 2);
    OPAB(EACH_NEXT, 0, 6);
    OP(HALT);
    expect_verify(b, "pc 5 (SET_EL): writes below the element of slot 0, but only the "
                     "innermost loop's element (slot 1, EACH_BEGIN at pc 3) may be written");

    /* A key of a list loop's element: a list has no keys. */
    pb_init(b, "v", 0);
    b->p.nslots = 1;
    pm = pb_path(b, "xs");
    OPAB(EACH_IN, 0, pm);      /* 0 */
    OPAB(EACH_BEGIN, 0, 3);    /* 1 -> 5 */
    OPX(KEY, 0);               /* 2 */
    OP(WARN);
    OPAB(EACH_NEXT, 0, 2);
    OP(HALT);
    expect_verify(b, "pc 2 (KEY): slot 0 is opened by EACH_BEGIN at pc 1, not by EACH_PAIRS");

    /* A key of a quantifier's element (list or map alike: not known). */
    pb_init(b, "v", 0);
    b->p.nslots = 1;
    pm = pb_path(b, "m");
    OPX(GET, pm);              /* 0 */
    OPAB(ANY_BEGIN, 0, 2);     /* 1 -> 4 */
    OPX(KEY, 0);               /* 2 */
    OPAB(ANY_NEXT, 0, 1);      /* 3 */
    OP(POP);
    OP(HALT);
    expect_verify(b, "pc 2 (KEY): slot 0 is opened by ANY_BEGIN at pc 1, not by EACH_PAIRS");

    /* A key outside any loop. */
    pb_init(b, "v", 0);
    b->p.nslots = 1;
    OPX(KEY, 0);
    OP(POP);
    OP(HALT);
    expect_verify(b, "pc 0 (KEY): slot 0 is not open here");

    /* EACH_PAIRS without EACH_IN; closed by a quantifier's ANY_NEXT. */
    pb_init(b, "v", 0);
    b->p.nslots = 1;
    OPAB(EACH_PAIRS, 0, 1);
    OPAB(EACH_NEXT, 0, 0);
    OP(HALT);
    expect_verify(b, "pc 0 (EACH_PAIRS): not preceded by EACH_IN, which names its map");

    pb_init(b, "v", 0);
    b->p.nslots = 1;
    pm = pb_path(b, "m");
    OPAB(EACH_IN, 0, pm);      /* 0 */
    OPAB(EACH_PAIRS, 0, 2);    /* 1 -> 4 */
    OPX(CONST, pb_const(b, "true"));
    OPAB(ANY_NEXT, 0, 1);      /* 3 */
    OP(HALT);
    expect_verify(b, "pc 3 (ANY_NEXT): closes the EACH_PAIRS at pc 1");

    /* A map loop's body that leaves a value on the stack. */
    pb_init(b, "v", 0);
    b->p.nslots = 1;
    pm = pb_path(b, "m");
    OPAB(EACH_IN, 0, pm);      /* 0 */
    OPAB(EACH_PAIRS, 0, 2);    /* 1 -> 4 */
    OPX(KEY, 0);               /* 2 */
    OPAB(EACH_NEXT, 0, 1);     /* 3 */
    OP(HALT);
    expect_verify(b, "pc 3 (EACH_NEXT): stack depth 1 at the end of a loop body");
}

static void test_verify_each(void **state)
{
    (void)state;
    pb bb, *b = &bb;
    uint32_t pl, px, pe;
    rv_error err;

    /* The shape the compiler emits, two deep: it loads. */
    pb_init(b, "v", 0);
    b->p.nslots = 2;
    pl = pb_path(b, "configuration|replicas");
    px = pb_path(b, "items");
    pe = pb_path(b, "seen");
    OPAB(EACH_IN, 0, pl);      /* 0 */
    OPAB(EACH_BEGIN, 0, 6);    /* 1 -> 8 */
    OPAB(EACH_IN, 1, px);      /* 2: below L[0]'s element */
    OPAB(EACH_BEGIN, 1, 3);    /* 3 -> 7 */
    OPX(CONST, pb_const(b, "true"));
    OPAB(SET_EL, 1, pe);       /* 5 */
    OPAB(EACH_NEXT, 1, 2);     /* 6 -> 4 */
    OPAB(EACH_NEXT, 0, 5);     /* 7 -> 2 */
    OP(HALT);
    if (load_policy(b, &err) != RV_OK)
        fail_msg("%s", err.message);
    pb_done(b);

    /* A write to a spec path (the list itself) inside the body. */
    pb_init(b, "v", 0);
    b->p.nslots = 1;
    pl = pb_path(b, "configuration|replicas");
    OPAB(EACH_IN, 0, pl);      /* 0 */
    OPAB(EACH_BEGIN, 0, 3);    /* 1 -> 5 */
    OPX(CONST, pb_const(b, "[]"));
    OPX(SET, pl);              /* 3 */
    OPAB(EACH_NEXT, 0, 2);     /* 4 */
    OP(HALT);
    expect_verify(b, "pc 3 (SET): not allowed inside an EACH body (EACH_BEGIN at pc 1)");

    /* APPEND and UNSET likewise. */
    pb_init(b, "v", 0);
    b->p.nslots = 1;
    pl = pb_path(b, "xs");
    OPAB(EACH_IN, 0, pl);
    OPAB(EACH_BEGIN, 0, 2);
    OPX(UNSET, pl);            /* 2 */
    OPAB(EACH_NEXT, 0, 1);
    OP(HALT);
    expect_verify(b, "pc 2 (UNSET): not allowed inside an EACH body");

    /* Writing below the outer element from the inner body: the outer
     * element holds the inner list. */
    pb_init(b, "v", 0);
    b->p.nslots = 2;
    pl = pb_path(b, "xs");
    px = pb_path(b, "items");
    OPAB(EACH_IN, 0, pl);      /* 0 */
    OPAB(EACH_BEGIN, 0, 6);    /* 1 -> 8 */
    OPAB(EACH_IN, 1, px);      /* 2 */
    OPAB(EACH_BEGIN, 1, 3);    /* 3 -> 7 */
    OPX(CONST, pb_const(b, "[]"));
    OPAB(SET_EL, 0, px);       /* 5 */
    OPAB(EACH_NEXT, 1, 2);
    OPAB(EACH_NEXT, 0, 6);
    OP(HALT);
    expect_verify(b, "pc 5 (SET_EL): writes below the element of slot 0, but only the "
                     "innermost loop's element (slot 1, EACH_BEGIN at pc 3) may be written");

    /* Replacing the element itself (an empty path). */
    pb_init(b, "v", 0);
    b->p.nslots = 1;
    pl = pb_path(b, "xs");
    pe = pb_path(b, "");
    OPAB(EACH_IN, 0, pl);
    OPAB(EACH_BEGIN, 0, 2);
    OPAB(UNSET_EL, 0, pe);     /* 2 */
    OPAB(EACH_NEXT, 0, 1);
    OP(HALT);
    expect_verify(b, "pc 2 (UNSET_EL): writes the element itself");

    /* An element write outside any loop, and inside a quantifier. */
    pb_init(b, "v", 0);
    b->p.nslots = 1;
    pe = pb_path(b, "x");
    OPAB(UNSET_EL, 0, pe);
    OP(HALT);
    expect_verify(b, "pc 0 (UNSET_EL): writes below an element outside any EACH loop");

    pb_init(b, "v", 0);
    b->p.nslots = 1;
    pl = pb_path(b, "xs");
    pe = pb_path(b, "x");
    OPX(GET, pl);
    OPAB(ANY_BEGIN, 0, 3);     /* 1 -> 5 */
    OPAB(UNSET_EL, 0, pe);     /* 2 */
    OPX(CONST, pb_const(b, "true"));
    OPAB(ANY_NEXT, 0, 3);
    OP(POP);
    OP(HALT);
    expect_verify(b, "pc 2 (UNSET_EL): not allowed inside a quantifier body (opened at pc 1)");

    /* A jump into the body from before the loop. */
    pb_init(b, "v", 0);
    b->p.nslots = 1;
    pl = pb_path(b, "xs");
    OPX(JMP, 2);               /* 0 -> 3 */
    OPAB(EACH_IN, 0, pl);      /* 1 */
    OPAB(EACH_BEGIN, 0, 2);    /* 2 -> 5 */
    OPX(CONST, pb_const(b, "\"m\""));  /* 3 */
    OPAB(EACH_NEXT, 0, 1);     /* 4 */
    OP(HALT);
    expect_verify(b, "pc 0 (JMP): jump to pc 3 crosses a quantifier boundary");

    /* A jump out of the body, past its EACH_NEXT. */
    pb_init(b, "v", 0);
    b->p.nslots = 1;
    pl = pb_path(b, "xs");
    OPAB(EACH_IN, 0, pl);      /* 0 */
    OPAB(EACH_BEGIN, 0, 2);    /* 1 -> 4 */
    OPX(JMP, 1);               /* 2 -> 4 */
    OPAB(EACH_NEXT, 0, 1);     /* 3 */
    OP(HALT);
    expect_verify(b, "pc 2 (JMP): jump to pc 4 crosses a quantifier boundary");

    /* EACH_BEGIN without its EACH_IN, and EACH_IN alone. */
    pb_init(b, "v", 0);
    b->p.nslots = 1;
    OPAB(EACH_BEGIN, 0, 1);
    OPAB(EACH_NEXT, 0, 0);
    OP(HALT);
    expect_verify(b, "pc 0 (EACH_BEGIN): not preceded by EACH_IN, which names its list");

    pb_init(b, "v", 0);
    pl = pb_path(b, "xs");
    OPAB(EACH_IN, 0, pl);
    OP(HALT);
    expect_verify(b, "pc 0 (EACH_IN): not followed by EACH_BEGIN");

    /* A list below an element no open EACH loop holds. */
    pb_init(b, "v", 0);
    b->p.nslots = 1;
    pl = pb_path(b, "xs");
    OPAB(EACH_IN, 1, pl);
    OPAB(EACH_BEGIN, 0, 1);
    OPAB(EACH_NEXT, 0, 0);
    OP(HALT);
    expect_verify(b, "pc 0 (EACH_IN): the list is below the element of slot 0, which no open "
                     "EACH loop holds");

    /* Improper nesting: EACH_NEXT closing a quantifier, and an each loop
     * (a statement) inside a quantifier body. */
    pb_init(b, "v", 0);
    b->p.nslots = 2;
    pl = pb_path(b, "xs");
    OPAB(EACH_IN, 0, pl);      /* 0 */
    OPAB(EACH_BEGIN, 0, 4);    /* 1 */
    OPX(GET, pl);              /* 2 */
    OPAB(ANY_BEGIN, 1, 1);     /* 3 */
    OPAB(EACH_NEXT, 0, 3);     /* 4 */
    OPAB(ANY_NEXT, 1, 1);      /* 5 */
    OP(HALT);
    expect_verify(b, "pc 4 (EACH_NEXT): closes the ANY_BEGIN at pc 3");

    pb_init(b, "v", 0);
    b->p.nslots = 2;
    pl = pb_path(b, "xs");
    OPX(GET, pl);              /* 0 */
    OPAB(ANY_BEGIN, 0, 5);     /* 1 -> 7 */
    OPAB(EACH_IN, 0, pl);      /* 2 */
    OPAB(EACH_BEGIN, 1, 1);    /* 3 */
    OPAB(EACH_NEXT, 1, 0);     /* 4 */
    OPX(CONST, pb_const(b, "true"));
    OPAB(ANY_NEXT, 0, 5);      /* 6 */
    OP(POP);
    OP(HALT);
    expect_verify(b, "pc 2 (EACH_IN): not allowed inside a quantifier body (opened at pc 1)");

    /* A body that leaves a value on the stack. */
    pb_init(b, "v", 0);
    b->p.nslots = 1;
    pl = pb_path(b, "xs");
    OPAB(EACH_IN, 0, pl);
    OPAB(EACH_BEGIN, 0, 2);
    OPX(CONST, pb_const(b, "true"));
    OPAB(EACH_NEXT, 0, 1);     /* 3 */
    OP(HALT);
    expect_verify(b, "pc 3 (EACH_NEXT): stack depth 1 at the end of a loop body");
}

/* forbid-if any v in volumes: not not (all t in v.tags: t == "a") */
static void build_nested(pb *b)
{
    pb_init(b, "v", 0);
    b->p.nslots = 2;
    uint32_t pv = pb_path(b, "volumes"), pt = pb_path(b, "tags");
    uint32_t ka = pb_const(b, "\"a\""), km = pb_const(b, "\"msg\"");
    OPX(GET, pv);                  /* 0  d1 */
    OPAB(ANY_BEGIN, 0, 10);        /* 1  body d0, exit -> 12 with d1 */
    OPX(LOCAL, 0);                 /* 2  d1 */
    OPX(WALK, pt);                 /* 3  d1 */
    OPAB(ALL_BEGIN, 1, 4);         /* 4  body d0, exit -> 9 */
    OPX(LOCAL, 1);                 /* 5  d1 */
    OPX(CONST, ka);                /* 6  d2 */
    OP(EQ);                        /* 7  d1 */
    OPAB(ALL_NEXT, 1, 3);          /* 8  -> 5, d1 */
    OP(NOT);                       /* 9  d1 */
    OP(NOT);                       /* 10 d1 */
    OPAB(ANY_NEXT, 0, 9);          /* 11 -> 2 */
    OPX(JFALSE, 2);                /* 12 -> 15 */
    OPX(CONST, km);                /* 13 */
    OP(FORBID);                    /* 14 */
    OP(HALT);                      /* 15 */
}

static void test_verify_nested_quantifiers_pass(void **state)
{
    (void)state;
    pb bb, *b = &bb;
    build_nested(b);
    rv_error err;
    assert_int_equal(load_policy(b, &err), RV_OK);
    assert_true(rv_verify_policy(&b->p, &err));
    assert_int_equal(b->p.max_stack, 2);
    pb_done(b);

    /* A short-circuit inside a body jumping to its NEXT is allowed. */
    pb_init(b, "v", 0);
    b->p.nslots = 1;
    uint32_t pv = pb_path(b, "volumes");
    uint32_t ka = pb_const(b, "\"a\"");
    OPX(GET, pv);              /* 0 d1 */
    OPAB(ANY_BEGIN, 0, 5);     /* 1 -> 7 */
    OPX(LOCAL, 0);             /* 2 d1 */
    OPX(JNOTNULL, 1);          /* 3 -> 5 with d1; fall d0 */
    OPX(CONST, ka);            /* 4 d1 */
    OPX(CALL, RV_BI_len);      /* 5 d1 */
    OPAB(ANY_NEXT, 0, 4);      /* 6 -> 2 */
    OP(POP);                   /* 7 */
    OP(HALT);
    assert_int_equal(load_policy(b, &err), RV_OK);
    pb_done(b);

    /* Unreachable code after JMP is skipped, not depth-checked. */
    pb_init(b, "v", 0);
    OPX(JMP, 2);
    OP(POP);
    OP(ADD);
    OP(HALT);
    assert_int_equal(load_policy(b, &err), RV_OK);
    pb_done(b);
}

static void test_verify_quantifiers(void **state)
{
    (void)state;
    pb bb, *b = &bb;
    uint32_t pv;

    /* SET inside a body. */
    pb_init(b, "v", 0);
    b->p.nslots = 1;
    pv = pb_path(b, "volumes");
    OPX(GET, pv);             /* 0 */
    OPAB(ANY_BEGIN, 0, 3);    /* 1 -> 5 */
    OPX(LOCAL, 0);            /* 2 */
    OPX(SET, pv);             /* 3 */
    OPAB(ANY_NEXT, 0, 2);     /* 4 */
    OP(POP);
    OP(HALT);
    expect_verify(b, "pc 3 (SET): not allowed inside a quantifier body (opened at pc 1)");

    /* LOCAL outside its loop. */
    pb_init(b, "v", 0);
    b->p.nslots = 1;
    OPX(LOCAL, 0);
    OP(POP);
    OP(HALT);
    expect_verify(b, "pc 0 (LOCAL): slot 0 is not open here");

    /* LOCAL after the loop closed. */
    pb_init(b, "v", 0);
    b->p.nslots = 1;
    pv = pb_path(b, "volumes");
    OPX(GET, pv);             /* 0 */
    OPAB(ANY_BEGIN, 0, 2);    /* 1 -> 4 */
    OPX(LOCAL, 0);            /* 2 */
    OPAB(ANY_NEXT, 0, 1);     /* 3 */
    OPX(LOCAL, 0);            /* 4 */
    OP(POP);
    OP(POP);
    OP(HALT);
    expect_verify(b, "pc 4 (LOCAL): slot 0 is not open here");

    /* ANY_BEGIN closed by ALL_NEXT. */
    pb_init(b, "v", 0);
    b->p.nslots = 1;
    pv = pb_path(b, "volumes");
    OPX(GET, pv);
    OPAB(ANY_BEGIN, 0, 2);
    OPX(LOCAL, 0);
    OPAB(ALL_NEXT, 0, 1);
    OP(POP);
    OP(HALT);
    expect_verify(b, "pc 3 (ALL_NEXT): closes the ANY_BEGIN at pc 1");

    /* NEXT on another slot. */
    pb_init(b, "v", 0);
    b->p.nslots = 2;
    pv = pb_path(b, "volumes");
    OPX(GET, pv);
    OPAB(ANY_BEGIN, 0, 2);
    OPX(LOCAL, 0);
    OPAB(ANY_NEXT, 1, 1);
    OP(POP);
    OP(HALT);
    expect_verify(b, "pc 3 (ANY_NEXT): slot 1, but the quantifier at pc 1 uses slot 0");

    /* NEXT looping back to the wrong place. */
    pb_init(b, "v", 0);
    b->p.nslots = 1;
    pv = pb_path(b, "volumes");
    OPX(GET, pv);
    OPAB(ANY_BEGIN, 0, 2);
    OPX(LOCAL, 0);
    OPAB(ANY_NEXT, 0, 3);
    OP(POP);
    OP(HALT);
    expect_verify(b, "pc 3 (ANY_NEXT): loops back to pc 0, not to the body start 2");

    /* BEGIN exiting somewhere other than after its NEXT. */
    pb_init(b, "v", 0);
    b->p.nslots = 1;
    pv = pb_path(b, "volumes");
    OPX(GET, pv);
    OPAB(ANY_BEGIN, 0, 3);
    OPX(LOCAL, 0);
    OPAB(ANY_NEXT, 0, 1);
    OP(POP);
    OP(HALT);
    expect_verify(b, "pc 3 (ANY_NEXT): the quantifier at pc 1 exits to pc 5, not to pc 4 after it");

    /* NEXT with nothing open; BEGIN never closed. */
    pb_init(b, "v", 0);
    b->p.nslots = 1;
    OPX(CONST, pb_const(b, "true"));
    OPAB(ALL_NEXT, 0, 0);
    OP(POP);
    OP(HALT);
    expect_verify(b, "pc 1 (ALL_NEXT): no open quantifier to close");

    pb_init(b, "v", 0);
    b->p.nslots = 1;
    pv = pb_path(b, "volumes");
    OPX(GET, pv);
    OPAB(ANY_BEGIN, 0, 2);
    OP(HALT);
    OPAB(ANY_NEXT, 0, 1);
    OP(POP);
    OP(HALT);
    expect_verify(b, "pc 2 (HALT): not allowed inside a quantifier body");

    /* A loop left open reaches the final HALT inside its body. */
    pb_init(b, "v", 0);
    b->p.nslots = 1;
    pv = pb_path(b, "volumes");
    OPX(GET, pv);
    OPAB(ANY_BEGIN, 0, 0);
    OPX(LOCAL, 0);
    OP(POP);
    OP(HALT);
    expect_verify(b, "pc 4 (HALT): not allowed inside a quantifier body (opened at pc 1)");

    /* Slot reused by a nested loop; slot beyond nslots. */
    pb_init(b, "v", 0);
    b->p.nslots = 1;
    pv = pb_path(b, "volumes");
    OPX(GET, pv);             /* 0 */
    OPAB(ANY_BEGIN, 0, 5);    /* 1 -> 7 */
    OPX(LOCAL, 0);            /* 2 */
    OPAB(ANY_BEGIN, 0, 2);    /* 3 -> 6 */
    OPX(LOCAL, 0);            /* 4 */
    OPAB(ANY_NEXT, 0, 1);     /* 5 */
    OPAB(ANY_NEXT, 0, 4);     /* 6 */
    OP(POP);
    OP(HALT);
    expect_verify(b, "pc 3 (ANY_BEGIN): slot 0 is already open (quantifier at pc 1)");

    pb_init(b, "v", 0);
    b->p.nslots = 1;
    pv = pb_path(b, "volumes");
    OPX(GET, pv);
    OPAB(ANY_BEGIN, 1, 2);
    OPX(LOCAL, 1);
    OPAB(ANY_NEXT, 1, 1);
    OP(POP);
    OP(HALT);
    expect_verify(b, "pc 1 (ANY_BEGIN): slot 1 out of range (1 slots)");

    pb_init(b, "v", 0);
    b->p.nslots = RV_SLOTS_MAX + 1;
    OP(HALT);
    expect_verify(b, "policy 'v': 17 quantifier slots, at most 16");

    /* A jump out of a body. */
    pb_init(b, "v", 0);
    b->p.nslots = 1;
    pv = pb_path(b, "volumes");
    OPX(GET, pv);             /* 0 */
    OPAB(ANY_BEGIN, 0, 3);    /* 1 -> 5 */
    OPX(LOCAL, 0);            /* 2 */
    OPX(JNOTNULL, 2);         /* 3 -> 6 */
    OPAB(ANY_NEXT, 0, 2);     /* 4 */
    OP(POP);                  /* 5 */
    OP(HALT);                 /* 6 */
    expect_verify(b, "pc 3 (JNOTNULL): jump to pc 6 crosses a quantifier boundary");

    /* A jump into a body. */
    pb_init(b, "v", 0);
    b->p.nslots = 1;
    pv = pb_path(b, "volumes");
    OPX(GET, pv);             /* 0 */
    OPX(JMP, 2);              /* 1 -> 4 */
    OPAB(ANY_BEGIN, 0, 2);    /* 2 -> 5 */
    OPX(LOCAL, 0);            /* 3 */
    OPAB(ANY_NEXT, 0, 1);     /* 4 */
    OP(POP);                  /* 5 */
    OP(HALT);
    expect_verify(b, "pc 1 (JMP): jump to pc 4 crosses a quantifier boundary");

    /* A body that does not leave exactly its condition. */
    pb_init(b, "v", 0);
    b->p.nslots = 1;
    pv = pb_path(b, "volumes");
    OPX(GET, pv);             /* 0 */
    OPAB(ANY_BEGIN, 0, 3);    /* 1 -> 5 */
    OPX(LOCAL, 0);            /* 2 */
    OPX(LOCAL, 0);            /* 3 */
    OPAB(ANY_NEXT, 0, 2);     /* 4 */
    OP(POP);
    OP(HALT);
    expect_verify(b, "pc 4 (ANY_NEXT): the body leaves depth 1 below its condition, but starts at 0");
}

static void test_bad_regex(void **state)
{
    (void)state;
    pb bb, *b = &bb;
    pb_init(b, "v", 0);
    pb_regex(b, "^ok$", 0);
    pb_regex(b, "(unclosed", RV_RE_I);
    OP(HALT);
    rv_error err;
    assert_int_equal(load_policy(b, &err), RV_EVERIFY);
    if (!strstr(err.message, "t.rbc: policy 0 'v': regex R[1] /(unclosed/ (line 3, column 7): "))
        fail_msg("bad message: %s", err.message);
    pb_done(b);
    assert_int_equal(live_blocks, 0);

    /* Unknown flags are a format error. */
    pb_init(b, "v", 0);
    pb_regex(b, "x", 0x10);
    OP(HALT);
    assert_int_equal(load_policy(b, &err), RV_EFORMAT);
    assert_non_null(strstr(err.message, "unknown regex flags 0x10"));
    pb_done(b);
}

static void test_set_param(void **state)
{
    (void)state;
    pb a, b2, c;
    build_limits(&a, "limits", 0);
    build_limits(&b2, "other", 5);
    halt_only(&c, "plain", 1);
    pb *ps[3] = {&a, &b2, &c};
    ru_buf buf = write_bundle(ps, 3);
    rv_program *prog;
    rv_error err;
    assert_int_equal(load_bytes(buf.data, buf.len, "s.rbc", &prog, &err), RV_OK);
    /* Run order: limits(0), plain(1), other(5). */
    const char *name, *v;

    /* An int for a float parameter becomes a float. */
    assert_int_equal(rv_program_set_param(prog, "other", "max_price", "3", &err), RV_OK);
    rv_program_param(prog, 2, 0, &name, &v);
    assert_string_equal(v, "3.0");
    rv_program_param(prog, 0, 0, &name, &v);
    assert_string_equal(v, "2.0");

    assert_int_equal(rv_program_set_param(prog, NULL, "team", "ml-infra", &err), RV_OK);
    rv_program_param(prog, 0, 1, &name, &v);
    assert_string_equal(v, "\"ml-infra\"");
    rv_program_param(prog, 2, 1, &name, &v);
    assert_string_equal(v, "\"ml-infra\"");
    assert_int_equal(prog->policies[2]->params[1].value->type, RV_STRING);

    /* A value of another type is refused, and changes nothing. */
    assert_int_equal(rv_program_set_param(prog, NULL, "team", " {\"a\": [1, 2.5]} ", &err),
                     RV_EPARAM);
    assert_string_equal(err.message, "parameter 'limits.team' takes a string (its default is "
                                     "\"ml\"), not a map {\"a\":[1,2.5]}");
    rv_program_param(prog, 0, 1, &name, &v);
    assert_string_equal(v, "\"ml-infra\"");

    assert_int_equal(rv_program_set_param(prog, "nope", "team", "1", &err), RV_EPARAM);
    assert_non_null(strstr(err.message, "'nope'"));
    assert_int_equal(rv_program_set_param(prog, "plain", "team", "1", &err), RV_EPARAM);
    assert_string_equal(err.message, "policy 'plain' has no parameter 'team'");
    assert_int_equal(rv_program_set_param(prog, NULL, "budget", "1", &err), RV_EPARAM);
    assert_non_null(strstr(err.message, "'budget'"));

    /* The first evaluation fixes the parameters, whatever it decides. */
    rv_config vc = test_config();
    rv_vm *vm;
    rv_doc *spec;
    rv_decision d;
    rv_request req = {.kind = "run", .user = "u", .project = "p"};
    assert_int_equal(rv_vm_new(&vc, &vm), RV_OK);
    assert_int_equal(rv_vm_parse(vm, "{}", 2, RV_JSON, &spec, &err), RV_OK);
    assert_int_equal(rv_program_set_param(prog, NULL, "team", "before", &err), RV_OK);
    (void)rv_vm_eval(vm, prog, &req, spec, &d, &err);
    assert_int_equal(rv_program_set_param(prog, NULL, "team", "x", &err), RV_EINPUT);
    assert_string_equal(err.message,
                        "parameter 'team': the program has been evaluated and can no longer change");
    rv_program_param(prog, 0, 1, &name, &v);
    assert_string_equal(v, "\"before\"");
    rv_vm_free(vm);

    rv_program_free(prog);
    ru_buf_free(&buf);
    pb_done(&a);
    pb_done(&b2);
    pb_done(&c);
    assert_int_equal(live_blocks, 0);
}

static void expect_line(const char *text, const char *line)
{
    const char *p = text;
    size_t n = strlen(line);
    while ((p = strstr(p, line)) != NULL) {
        if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
            return;
        p++;
    }
    fail_msg("line not found: [%s]\nin:\n%s", line, text);
}

static void test_disasm(void **state)
{
    (void)state;
    pb a, q;
    build_limits(&a, "limits", 10);
    build_nested(&q);
    q.p.name = "quant";
    q.p.priority = 20;
    pb *ps[2] = {&q, &a};
    ru_buf buf = write_bundle(ps, 2);
    rv_program *prog;
    rv_error err;
    assert_int_equal(load_bytes(buf.data, buf.len, "d.rbc", &prog, &err), RV_OK);
    rv_config vc = test_config();
    rv_vm *vm;
    assert_int_equal(rv_vm_new(&vc, &vm), RV_OK);
    const char *text;
    size_t len;
    assert_int_equal(rv_program_disasm(prog, vm, &text, &len, &err), RV_OK);
    assert_int_equal(strlen(text), len);

    char head[160];
    snprintf(head, sizeof head,
             "policy \"limits\" priority 10  source rules/test.rules  kinds run,fleet  target dstack  checksum 0x%08x",
             prog->policies[0]->checksum);
    expect_line(text, head);
    /* The set's digest heads the listing; each policy's follows its line. */
    char top[160];
    snprintf(top, sizeof top, "set sha256 %s  policies 2\n\npolicy \"limits\"", rv_program_digest(prog));
    assert_true(strncmp(text, top, strlen(top)) == 0); /* then run order */
    snprintf(head, sizeof head, "  sha256 %s", rv_program_policy_digest(prog, 0));
    expect_line(text, head);
    expect_line(text, "  param max_price = 2.0");
    expect_line(text, "  param team = \"ml\"");
    expect_line(text, "  K[0] = \"no interns\"");
    expect_line(text, "  R[0] = /^intern-/i");
    expect_line(text, "  P[0] = configuration.max_price");
    expect_line(text, "  code 16 instructions, stack 2, slots 0");
    expect_line(text, "    0  L7   GET        0        ; configuration.max_price");
    expect_line(text, "    1  L7   JNOTNULL   2        ; -> 4");
    expect_line(text, "    2  L7   PARAM      0        ; $max_price");
    expect_line(text, "    5  L7   CALL       5        ; min/2");
    expect_line(text, "    7  L8   CTX        0        ; $user");
    expect_line(text, "    8  L8   MATCH      0        ; /^intern-/i");
    expect_line(text, "   10  L8   CONST      0        ; \"no interns\"");
    expect_line(text, "   11  L8   FORBID");
    expect_line(text, "   14  L9   TAG        1        ; configuration.tags");
    expect_line(text, "   15  L10  HALT");
    assert_non_null(strstr(text, "\n\npolicy \"quant\" priority 20  source rules/test.rules  kinds *  target dstack  checksum 0x"));
    expect_line(text, "    1  -    ANY_BEGIN  0,10     ; L[0], empty -> 12");
    expect_line(text, "    2  -    LOCAL      0        ; L[0]");
    expect_line(text, "    8  -    ALL_NEXT   1,3      ; L[1], loop -> 5");
    expect_line(text, "   15  -    HALT");
    /* Printed text is the VM's: the next print reuses the buffer. */
    rv_doc *doc;
    const char *json;
    assert_int_equal(rv_vm_parse(vm, "[1]", 3, RV_JSON, &doc, &err), RV_OK);
    assert_int_equal(rv_vm_print(vm, doc, RV_JSON, 0, &json, &len, &err), RV_OK);
    assert_string_equal(json, "[1]");
    rv_vm_free(vm);
    rv_program_free(prog);
    ru_buf_free(&buf);
    pb_done(&a);
    pb_done(&q);
    assert_int_equal(live_blocks, 0);
}

/* ---- Names and constant maps: one meaning each ---- */

/* Gives member k of the map n the key of member 0: a bundle the compiler
 * never writes (its literals refuse a key twice, as JSON input does). */
static void clash_key(rv_node *n, uint32_t k)
{
    assert_int_equal(n->type, RV_OBJECT);
    n->u.members[k].key = n->u.members[0].key;
    n->u.members[k].klen = n->u.members[0].klen;
}

static void expect_refused(pb *b, const char *name, const char *needle)
{
    rv_error err;
    assert_int_equal(load_policy(b, &err), RV_EVERIFY);
    char where[80];
    snprintf(where, sizeof where, "t.rbc: policy '%s': ", name);
    if (!strstr(err.message, needle) || !strstr(err.message, where))
        fail_msg("message '%s' lacks '%s' or '%s'", err.message, where, needle);
    pb_done(b);
    assert_int_equal(live_blocks, 0);
}

static void test_verify_names(void **state)
{
    (void)state;
    pb bb, *b = &bb;

    /* A constant map with a key twice, at the top and nested in lists and
     * maps; a large map goes through the sorting path. */
    pb_init(b, "v", 0);
    clash_key(b->consts[pb_const(b, "{\"a\":1,\"b\":2}")], 1);
    OP(HALT);
    expect_verify(b, "policy 'v': constant K[0] holds a map with the key \"a\" twice");

    pb_init(b, "v", 0);
    pb_const(b, "1");
    rv_node *deep = b->consts[pb_const(b, "[0,{\"x\":{\"k\\u0001\\\"\":1,\"y\":2}}]")];
    clash_key(deep->u.items[1]->u.members[0].value, 1);
    OP(HALT);
    expect_verify(b, "constant K[1] holds a map with the key \"k\\x01\\x22\" twice");

    pb_init(b, "v", 0);
    {
        char big[2048];
        size_t o = 0;
        big[o++] = '{';
        for (int i = 0; i < 100; i++)
            o += (size_t)snprintf(big + o, sizeof big - o, "%s\"key%03d\":%d", i ? "," : "", i, i);
        big[o++] = '}';
        big[o] = '\0';
        clash_key(b->consts[pb_const(b, big)], 99);
    }
    OP(HALT);
    expect_verify(b, "constant K[0] holds a map with the key \"key000\" twice");

    /* A parameter's value is a constant too. */
    pb_init(b, "v", 0);
    clash_key(b->params[pb_param(b, "limits", "{\"gpu\":1,\"cpu\":2}")].value, 1);
    OP(HALT);
    expect_verify(b, "the value of parameter 'limits' holds a map with the key \"gpu\" twice");

    /* Two parameters with one name, an empty one. */
    pb_init(b, "v", 0);
    pb_param(b, "max", "1");
    pb_param(b, "team", "\"a\"");
    pb_param(b, "max", "2");
    OP(HALT);
    expect_verify(b, "policy 'v': two parameters are named \"max\"");

    pb_init(b, "v", 0);
    pb_param(b, "", "1");
    OP(HALT);
    expect_verify(b, "policy 'v': parameter 0 has an empty name");

    /* Kinds: each once, none empty. */
    pb_init(b, "v", 0);
    b->kinds[0] = "run";
    b->kinds[1] = "fleet";
    b->kinds[2] = "run";
    b->p.nkinds = 3;
    OP(HALT);
    expect_verify(b, "policy 'v': the kind \"run\" is listed twice");

    pb_init(b, "v", 0);
    b->kinds[0] = "run";
    b->kinds[1] = "";
    b->p.nkinds = 2;
    OP(HALT);
    expect_verify(b, "policy 'v': kind 1 has an empty name");

    /* The policy itself needs a name, and a target: whose requests it
     * judges (an empty one would match no request, silently). */
    pb_init(b, "", 0);
    OP(HALT);
    expect_refused(b, "", "the policy's name is empty");

    pb_init(b, "v", 0);
    b->p.target = "";
    OP(HALT);
    expect_verify(b, "policy 'v': the policy names no target");

    /* Distinct names and keys load (one policy with all of them). */
    pb_init(b, "v", 0);
    b->kinds[0] = "run";
    b->kinds[1] = "fleet";
    b->p.nkinds = 2;
    pb_param(b, "a", "{\"x\":1,\"X\":2,\"x \":3}");
    pb_param(b, "b", "1");
    pb_const(b, "{\"a\":{\"a\":{\"a\":1}}}");
    OP(HALT);
    rv_error err;
    assert_int_equal(load_policy(b, &err), RV_OK);
    pb_done(b);
    assert_int_equal(live_blocks, 0);
}

/* ---- Digests ---- */

static const char *sha256_of(const void *data, size_t len, char out[RV_DIGEST_HEX])
{
    rv_sha256_hex(data, len, out);
    return out;
}

static void test_digests(void **state)
{
    (void)state;
    char hex[RV_DIGEST_HEX];
    /* FIPS 180-2's test vectors. */
    assert_string_equal(sha256_of("abc", 3, hex),
                        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_string_equal(sha256_of("", 0, hex),
                        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

    pb a, b2, c;
    build_limits(&a, "limits", 0);
    build_limits(&b2, "other", 5);
    halt_only(&c, "plain", 1);
    pb *ps[3] = {&a, &c, &b2};  /* in run order, as rulec compile writes it */
    ru_buf buf = write_bundle(ps, 3);
    rv_program *prog;
    rv_error err;
    assert_int_equal(load_bytes(buf.data, buf.len, "s.rbc", &prog, &err), RV_OK);

    /* The set's digest is the file's, and each policy's is its section's
     * (the bytes its CRC-32 covers). */
    assert_string_equal(rv_program_digest(prog), sha256_of(buf.data, buf.len, hex));
    size_t pos = RV_HEADER_SIZE;
    for (size_t i = 0; i < 3; i++) {
        const unsigned char *d = (const unsigned char *)buf.data + pos;
        uint32_t size = (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
        assert_string_equal(rv_program_policy_digest(prog, i), sha256_of(d + 4, size, hex));
        assert_int_equal(rv_crc32(d + 4, size), prog->policies[i]->checksum);
        pos += 4 + size;
    }
    assert_null(rv_program_policy_digest(prog, 3));
    assert_null(rv_program_digest(NULL));
    assert_null(rv_program_policy_digest(NULL, 0));
    assert_string_not_equal(rv_program_policy_digest(prog, 0), rv_program_policy_digest(prog, 2));

    /* An override changes what runs, so it changes the digests that
     * identify it: its policy's and the set's, no other policy's, and the
     * set's is still that of the bundle rv_program_save writes. */
    char set0[RV_DIGEST_HEX], lim0[RV_DIGEST_HEX], plain0[RV_DIGEST_HEX], other0[RV_DIGEST_HEX];
    strcpy(set0, rv_program_digest(prog));
    strcpy(lim0, rv_program_policy_digest(prog, 0));
    strcpy(plain0, rv_program_policy_digest(prog, 1));
    strcpy(other0, rv_program_policy_digest(prog, 2));
    assert_int_equal(rv_program_set_param(prog, "other", "max_price", "3", &err), RV_OK);
    assert_string_not_equal(rv_program_digest(prog), set0);
    assert_string_equal(rv_program_policy_digest(prog, 0), lim0);
    assert_string_equal(rv_program_policy_digest(prog, 1), plain0);
    assert_string_not_equal(rv_program_policy_digest(prog, 2), other0);
    rv_config vc = test_config();
    rv_vm *vm;
    const void *saved;
    size_t saved_size;
    assert_int_equal(rv_vm_new(&vc, &vm), RV_OK);
    assert_int_equal(rv_program_save(prog, vm, &saved, &saved_size, &err), RV_OK);
    assert_string_equal(rv_program_digest(prog), sha256_of(saved, saved_size, hex));
    /* Loaded again, the saved bundle has the same digests. */
    rv_program *again;
    assert_int_equal(load_bytes(saved, saved_size, "saved.rbc", &again, &err), RV_OK);
    assert_string_equal(rv_program_digest(again), rv_program_digest(prog));
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(rv_program_policy_digest(again, i), rv_program_policy_digest(prog, i));
    rv_program_free(again);
    /* The value back as it was: the digests are as they were. */
    assert_int_equal(rv_program_set_param(prog, "other", "max_price", "2.0", &err), RV_OK);
    assert_string_equal(rv_program_digest(prog), set0);
    assert_string_equal(rv_program_policy_digest(prog, 2), other0);

    /* A refused override changes no digest, whether the value is wrong
     * or memory runs out while the digests are recomputed. */
    assert_int_equal(rv_program_set_param(prog, NULL, "team", "[1]", &err), RV_EPARAM);
    assert_string_equal(rv_program_digest(prog), set0);
    const char *name, *v;
    bool refused = false;
    for (long k = 0; k < 64 && !refused; k++) {
        alloc_calls = 0;
        fail_after = k;
        rv_status st = rv_program_set_param(prog, NULL, "team", "\"x\"", &err);
        fail_after = -1;
        if (st == RV_OK) {
            assert_int_equal(rv_program_set_param(prog, NULL, "team", "\"ml\"", &err), RV_OK);
            assert_string_equal(rv_program_digest(prog), set0);
            continue;
        }
        assert_int_equal(st, RV_ENOMEM);
        rv_program_param(prog, 0, 1, &name, &v);
        assert_string_equal(v, "\"ml\"");
        assert_string_equal(rv_program_digest(prog), set0);
        assert_string_equal(rv_program_policy_digest(prog, 0), lim0);
        refused = true;
    }
    assert_true(refused);
    rv_vm_free(vm);
    rv_program_free(prog);
    ru_buf_free(&buf);
    pb_done(&a);
    pb_done(&b2);
    pb_done(&c);
    assert_int_equal(live_blocks, 0);
}

static void test_misc_api(void **state)
{
    (void)state;
    rv_config c;
    rv_config_init(&c);
    assert_int_equal(c.instruction_budget, 10000000);
    assert_int_equal(c.regex_match_limit, 1000000);
    assert_int_equal(c.regex_depth_limit, 10000);
    assert_int_equal(c.max_nesting, 512);
    assert_non_null(c.alloc);
    assert_string_equal(rv_status_name(RV_EVERIFY), "RV_EVERIFY");
    assert_int_equal(rv_crc32("123456789", 9), 0xCBF43926u);
    assert_string_equal(rv_opcode_names[RV_OP_ANY_NEXT], "ANY_NEXT");
    assert_int_equal(rv_builtin_arity[RV_BI_starts_with], 2);
    assert_int_equal(rv_opcode_formats[RV_OP_ALL_BEGIN], RV_FMT_ABX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_misc_api),
        cmocka_unit_test(test_valid_policy_loads),
        cmocka_unit_test(test_path_text),
        cmocka_unit_test(test_set_rules),
        cmocka_unit_test(test_bad_headers),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_flip_every_byte),
        cmocka_unit_test(test_random_mutations),
        cmocka_unit_test(test_out_of_memory),
        cmocka_unit_test(test_verify_jumps),
        cmocka_unit_test(test_verify_operands),
        cmocka_unit_test(test_verify_stack),
        cmocka_unit_test(test_verify_index),
        cmocka_unit_test(test_verify_nested_quantifiers_pass),
        cmocka_unit_test(test_verify_quantifiers),
        cmocka_unit_test(test_verify_each),
        cmocka_unit_test(test_verify_each_map),
        cmocka_unit_test(test_verify_sum_witness),
        cmocka_unit_test(test_bad_regex),
        cmocka_unit_test(test_set_param),
        cmocka_unit_test(test_disasm),
        cmocka_unit_test(test_verify_names),
        cmocka_unit_test(test_digests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
