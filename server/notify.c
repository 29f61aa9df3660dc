/* notify.c - sd_notify for Type=notify (notify.h). The message goes to the
 * SPDX-License-Identifier: Apache-2.0
 * socket in $NOTIFY_SOCKET, which systemd sets for the service (and a test
 * can set to a datagram socket of its own); sd_notify does nothing when
 * it is unset. The variable is kept (unset_environment 0): rulesd starts
 * no children, and a later reload's STATUS= needs it.
 */
#include "notify.h"

#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef RD_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

bool rd_notify_supported(void)
{
#ifdef RD_HAVE_SYSTEMD
    return true;
#else
    return false;
#endif
}

void rd_notify(const char *fmt, ...)
{
    const char *sock = getenv("NOTIFY_SOCKET");
    if (!sock || !*sock)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
#ifdef RD_HAVE_SYSTEMD
    int r = sd_notify(0, msg);
    if (r < 0)
        rd_log(RD_WARN, "cannot notify the service manager at %s: %s", sock, strerror(-r));
#else
    static bool said;
    if (!said)
        rd_log(RD_WARN, "NOTIFY_SOCKET is set but this rulesd was built without libsystemd: it cannot "
                        "notify the service manager (use Type=simple, or rebuild with libsystemd-dev)");
    said = true;
#endif
}
