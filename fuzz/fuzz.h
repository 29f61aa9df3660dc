/* fuzz.h - what the libFuzzer targets share (header-only, like the unit
 * SPDX-License-Identifier: Apache-2.0
 * tests' helpers.h): the policy sets they evaluate with, loaded once
 * through the compiler library as every host loads them, and specs whose
 * shape reaches the shipped policies' loops (replica groups, env maps,
 * volumes, node groups). Every target is also built without libFuzzer by
 * fuzz/replay.c, so that `make test` replays the seed corpora and every
 * input that ever crashed (fuzz/regressions/) under the plain and
 * sanitizer builds.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include "rulec.h"
#include "rulevm.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Fails the run: libFuzzer reports the input, the replay names the file. */
#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz check failed: %s: ", #cond);                                     \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* The policies in paths (files or folders), loaded as one set; aborts if
 * they do not load (the seed policies always do). */
static inline rv_program *fuzz_load_policies(const char *const *paths, size_t n)
{
    rc_report *report = rc_report_new();
    rv_program *prog = NULL;
    size_t ninputs;
    if (!report || !rc_read_inputs(report, paths, n, 0)) {
        fprintf(stderr, "fuzz: cannot read the policies (run from the repository root)\n");
        abort();
    }
    rc_input *inputs = rc_report_inputs(report, &ninputs);
    if (rc_load(report, inputs, ninputs, &(rc_options){NULL, 0, "dstack"}, &prog) != RC_OK) {
        fputs(rc_report_text(report, "fuzz", NULL), stderr);
        abort();
    }
    rc_report_free(report);
    return prog;
}

/* Every kind dstack sends, and one that no policy names. */
static const char *const fuzz_kinds[] = {"run", "fleet", "volume", "gateway", "other"};
#define FUZZ_NKINDS (sizeof fuzz_kinds / sizeof *fuzz_kinds)

/* Specs for bundles to run on: a service with replica groups (privileged,
 * GPU ranges, env maps, volumes), a task with node groups and an env list,
 * and an almost empty one. */
static const char *const fuzz_specs[] = {
    "{\"configuration\": {\"type\": \"service\", \"name\": \"svc\", \"image\": \"x:latest\","
    " \"privileged\": false, \"docker\": null, \"max_price\": 3.5, \"regions\": [\"eu-west-1\"],"
    " \"env\": {\"HF_TOKEN\": \"hf_x\", \"EMPTY\": \"\", \"N\": 1}, \"tags\": {\"team\": \"a\"},"
    " \"resources\": {\"gpu\": {\"name\": \"A100\", \"count\": {\"min\": 2, \"max\": null}}, \"disk\": \"100GB\"},"
    " \"volumes\": [{\"name\": \"scratch-a\", \"path\": \"/a\"}, \"vol:/b\"],"
    " \"replicas\": [{\"name\": \"prefill\", \"count\": 2, \"privileged\": true, \"commands\": [\"a\"],"
    "   \"env\": {\"K\": \"\", \"SECRET_KEY\": \"s\"}, \"volumes\": [{\"name\": \"v\"}],"
    "   \"resources\": {\"gpu\": {\"name\": \"H100\", \"count\": {\"min\": 8, \"max\": 8}}, \"disk\": 1}},"
    "  {\"name\": \"decode\", \"docker\": true, \"resources\": {\"gpu\": 1}}, null, 7]}}",
    "{\"configuration\": {\"type\": \"task\", \"nodes\": 4, \"env\": [\"A=1\", \"B\"],"
    " \"groups\": [{\"name\": \"g\", \"nodes\": 2, \"resources\": {\"gpu\": {\"count\": {\"min\": 1}}}}],"
    " \"max_duration\": \"2h\", \"setup\": [\"pip install x\"], \"utilization_policy\": null,"
    " \"resources\": {\"gpu\": \"A100:8\", \"cpu\": \"4+\", \"memory\": \"32GB+\"}}}",
    "{\"configuration\": {}}",
};
#define FUZZ_NSPECS (sizeof fuzz_specs / sizeof *fuzz_specs)

#endif
