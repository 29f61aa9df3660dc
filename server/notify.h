/* notify.h - telling systemd how rulesd is doing (Type=notify): READY=1
 * SPDX-License-Identifier: Apache-2.0
 * once the first policy set is loaded and rulesd listens, STATUS= lines on
 * each reload, STOPPING=1 on shutdown. Through libsystemd's sd_notify;
 * a build without libsystemd (RD_HAVE_SYSTEMD unset) sends nothing and
 * says so once at start-up when NOTIFY_SOCKET asks for notifications.
 */
#ifndef RD_NOTIFY_H
#define RD_NOTIFY_H

#include <stdbool.h>

/* Sends one notification (a newline-separated list of VAR=value);
 * nothing when rulesd was not started by a service manager that asked. */
void rd_notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Whether this build can notify (libsystemd was found at build time). */
bool rd_notify_supported(void);

#endif
