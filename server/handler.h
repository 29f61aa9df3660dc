/* handler.h - what each endpoint answers, independent of the HTTP library:
 * SPDX-License-Identifier: Apache-2.0
 * a request (method, path, Authorization header, body) in, a status,
 * headers and body out. http.c does the transport; this does the policy.
 *
 * The response body points into the worker (its VM or its buffers) and
 * stays valid until the worker's next call: copy it before then.
 */
#ifndef RD_HANDLER_H
#define RD_HANDLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One per worker thread: its own VM (an rv_vm is not thread-safe) and
 * scratch buffers, reused by every request the thread serves. */
typedef struct rd_worker rd_worker;

rd_worker *rd_worker_new(void);
void rd_worker_free(rd_worker *w);

typedef struct rd_request {
    const char *method;
    const char *path;
    const char *authorization;  /* the header, or NULL */
    const char *body;
    size_t body_len;
    const char *id;             /* for the decision log and X-Request-Id */
    uint64_t start_ns;          /* CLOCK_MONOTONIC when the headers were complete */
} rd_request;

typedef struct rd_response {
    int status;
    const char *content_type;
    const char *body;
    size_t len;
    const char *allow;          /* Allow header for 405 */
    bool challenge;             /* WWW-Authenticate for 401 */
} rd_response;

/* Checks what can be checked from the headers alone (authentication, path,
 * method, declared body size) so that a request that will be refused is
 * refused before its body is read. Returns true and fills resp when the
 * request is refused. */
bool rd_precheck(rd_worker *w, const rd_request *req, bool has_length, uint64_t length,
                 size_t max_body, rd_response *resp);

/* Answers a complete request. */
void rd_handle(rd_worker *w, const rd_request *req, rd_response *resp);

/* A {"detail": "..."} error response, for the transport's own refusals
 * (413 on a chunked body, 408, 500). */
void rd_error_response(rd_worker *w, int status, const char *detail, rd_response *resp);

uint64_t rd_now_ns(void);

/* Requests being received or answered (maintained by http.c). */
long rd_in_flight(void);

#endif
