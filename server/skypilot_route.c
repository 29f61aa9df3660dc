/* skypilot_route.c - the SkyPilot endpoint's path and answers
 * SPDX-License-Identifier: Apache-2.0
 * (skypilot_route.h).
 */
#include "skypilot_route.h"

#include "dstack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Set once before the worker threads start, read-only after. */
static char *configured;

bool rd_skypilot_set_path(const char *path)
{
    free(configured);
    configured = NULL;
    if (!path)
        return true;
    configured = strdup(path);
    return configured != NULL;
}

const char *rd_skypilot_path(void)
{
    return configured ? configured : SKYPILOT_DEFAULT_PATH;
}

bool rd_skypilot_is_path(const char *path)
{
    return strcmp(path, rd_skypilot_path()) == 0;
}

void rd_skypilot_free(void)
{
    free(configured);
    configured = NULL;
}

bool rd_skypilot_path_ok(const char *path, char *why, size_t size)
{
    static const char *const taken[] = {"/v1/evaluate", "/healthz", "/metrics", "/v1/policies"};
    if (path[0] != '/') {
        snprintf(why, size, "'%.200s' must start with '/' (the path of SkyPilot's admin_policy URL)", path);
        return false;
    }
    for (const char *p = path; *p; p++) {
        /* What an HTTP request line can carry as a path, without a query. */
        if (*p <= ' ' || *p == '?' || *p == '#' || (unsigned char)*p >= 0x7f) {
            snprintf(why, size, "'%.200s' holds a character a URL path cannot (space, control, '?', '#' or "
                                "non-ASCII)", path);
            return false;
        }
    }
    for (size_t i = 0; i < sizeof taken / sizeof *taken; i++)
        if (strcmp(path, taken[i]) == 0) {
            snprintf(why, size, "'%s' is rulesd's own endpoint", path);
            return false;
        }
    if (dstack_kind_of_path(path)) {
        snprintf(why, size, "'%s' is one of dstack's plugin paths", path);
        return false;
    }
    return true;
}

rd_outcome rd_skypilot_respond(rv_vm *vm, const skypilot_request *sq, const rv_decision *d, const char *failure,
                               rd_response *resp, char *detail, size_t size)
{
    skypilot_answer a;
    memset(resp, 0, sizeof *resp);
    if (!skypilot_answer_of(vm, sq, d, failure, &a, detail, size)) {
        resp->status = 500;
        resp->content_type = "text/plain; charset=utf-8";
        resp->body = "rulesd: out of memory while building the answer";
        resp->len = strlen(resp->body);
        snprintf(detail, size, "out of memory while building the answer");
        return RD_O_ERROR;
    }
    resp->status = a.status;
    resp->content_type = a.content_type;
    resp->body = a.body;
    resp->len = a.len;
    return a.status == 200 ? RD_O_ALLOWED : a.status == 400 ? RD_O_REJECTED : RD_O_ERROR;
}
