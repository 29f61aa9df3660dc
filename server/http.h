/* http.h - the HTTP transport: libmicrohttpd with a pool of threads, each
 * SPDX-License-Identifier: Apache-2.0
 * with its own worker (VM); requests are handed to handler.h.
 */
#ifndef RD_HTTP_H
#define RD_HTTP_H

#include "buf.h"
#include "config.h"

#include <stdbool.h>
#include <stddef.h>

/* Starts listening on cfg's address and port (0: any free port) with
 * cfg->threads threads. *bound_port is the port actually bound. */
bool rd_http_start(const rd_config *cfg, unsigned *bound_port, char *err, size_t errsize);
/* Stops accepting, lets requests in flight finish (up to grace seconds),
 * then closes every connection and joins the threads. Stops an embedded
 * daemon too. */
void rd_http_stop(unsigned grace_seconds);

/* The same HTTP handling without a listening socket or threads, for the
 * fuzz target and tests: rd_http_exchange hands request (raw bytes, as a
 * client would send them; several requests are served in turn) to
 * libmicrohttpd and this module's callbacks through a socket pair, then
 * hangs up, and appends everything sent back to out. false: the
 * connection could not be made, or was not closed within 10 s (a hang). */
bool rd_http_start_embedded(const rd_config *cfg, char *err, size_t errsize);
bool rd_http_exchange(const char *request, size_t len, ru_buf *out);

#endif
