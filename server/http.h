/* http.h - the HTTP transport: libmicrohttpd with a pool of threads, each
 * with its own worker (VM); requests are handed to handler.h.
 */
#ifndef RD_HTTP_H
#define RD_HTTP_H

#include "config.h"

#include <stdbool.h>
#include <stddef.h>

/* Starts listening on cfg's address and port (0: any free port) with
 * cfg->threads threads. *bound_port is the port actually bound. */
bool rd_http_start(const rd_config *cfg, unsigned *bound_port, char *err, size_t errsize);
/* Stops accepting, lets requests in flight finish (up to grace seconds),
 * then closes every connection and joins the threads. */
void rd_http_stop(unsigned grace_seconds);

#endif
