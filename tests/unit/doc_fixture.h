/* doc_fixture.h - the cmocka fixture of the document tests (test_doc,
 * SPDX-License-Identifier: Apache-2.0
 * test_yaml, test_yaml_edit): an arena for the trees a test reads, a buffer
 * for what it prints, and an error, made before each test and freed after
 * it (the default allocator: malloc and realloc). Header-only.
 */
#ifndef TEST_DOC_FIXTURE_H
#define TEST_DOC_FIXTURE_H

#include "arena.h"
#include "buf.h"
#include "rulevm.h"

#include <stdlib.h>

typedef struct fixture {
    ru_arena a;
    ru_buf b;
    rv_error err;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    ru_arena_init(&f->a, NULL, NULL);
    ru_buf_init(&f->b, NULL, NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    ru_arena_free(&f->a);
    ru_buf_free(&f->b);
    free(f);
    return 0;
}

#endif
