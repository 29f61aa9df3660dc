/* main.c - rulesd's entry point: flags, start-up, and the control loop.
 * SPDX-License-Identifier: Apache-2.0
 * Signals are blocked in every thread and taken synchronously here with
 * sigtimedwait, so SIGHUP (reload), SIGTERM/SIGINT (graceful shutdown) and
 * the file-watch poll all run on this one thread, never inside a handler.
 */
#include "config.h"
#include "file.h"
#include "libversions.h"
#include "http.h"
#include "log.h"
#include "notify.h"
#include "policyset.h"
#include "pull.h"
#include "reload.h"
#include "skypilot_route.h"

#include <errno.h>
#include <microhttpd.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char usage_text[] =
    "usage: rulesd [--config FILE] [options]\n"
    "\n"
    "Serves dstack's REST plugin protocol and SkyPilot's RESTful admin policy,\n"
    "checking and rewriting every apply or launch with .rules policies. The\n"
    "configuration file comes from --config, else $RULESD_CONFIG; flags\n"
    "override it.\n"
    "\n"
    "  -c, --config FILE          YAML configuration (see rulesd.example.yaml)\n"
    "  -l, --listen ADDR[:PORT]   address to listen on (default 127.0.0.1:8000)\n"
    "  -p, --port PORT            port (0: any free port; see --port-file)\n"
    "  -P, --policy PATH          a .rules file, .rbc bundle or folder (repeatable;\n"
    "                             replaces the file's 'policies')\n"
    "      --param [POLICY.]NAME=VALUE   parameter override (repeatable)\n"
    "  -t, --threads N            worker threads (default: one per CPU)\n"
    "      --max-body BYTES       request body limit (default 1048576)\n"
    "      --timeout SECONDS      idle/slow connection limit (default 10)\n"
    "      --token-file FILE      require 'Authorization: Bearer <token>'\n"
    "      --decision-log FILE    append one JSON line per decision\n"
    "      --port-file FILE       write the bound port there once listening\n"
    "      --log-level LEVEL      error, warning, info (default) or debug\n"
    "      --no-watch             reload on SIGHUP only, not on file changes\n"
    "      --skypilot-path PATH   where SkyPilot's admin_policy URL points\n"
    "                             (default " SKYPILOT_DEFAULT_PATH ")\n"
    "      --check                load the configuration and policies, then exit\n"
    "  -h, --help                 this text\n"
    "      --version              print the version\n"
    "\n"
    "Policies can also be one signed bundle pulled from a URL, and signatures can\n"
    "be required of every bundle: policies.url, policies.require_signature and\n"
    "policies.trusted_keys in the configuration file (see rulesd.example.yaml).\n"
    "\n"
    "Example:\n"
    "  rulesd --config /etc/rulesd/rulesd.yaml\n"
    "  rulesd --policy rules/ --port 8000\n"
    "\n"
    "Signals: SIGHUP reloads policies and reopens the decision log;\n"
    "SIGTERM/SIGINT finish requests in flight and exit 0.\n"
    "Under systemd (Type=notify), READY=1 is sent once the first policy set is\n"
    "loaded and rulesd listens.\n";

enum { OPT_PARAM = 256, OPT_MAX_BODY, OPT_TIMEOUT, OPT_TOKEN, OPT_DECLOG, OPT_PORT_FILE,
       OPT_LOG_LEVEL, OPT_NO_WATCH, OPT_CHECK, OPT_VERSION, OPT_SKYPILOT_PATH };

/* The commit the build came from (the Makefile passes it). */
#ifndef RULES_COMMIT
#define RULES_COMMIT "unknown"
#endif

static const struct option options[] = {
    {"config", required_argument, NULL, 'c'},
    {"listen", required_argument, NULL, 'l'},
    {"port", required_argument, NULL, 'p'},
    {"policy", required_argument, NULL, 'P'},
    {"param", required_argument, NULL, OPT_PARAM},
    {"threads", required_argument, NULL, 't'},
    {"max-body", required_argument, NULL, OPT_MAX_BODY},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"token-file", required_argument, NULL, OPT_TOKEN},
    {"decision-log", required_argument, NULL, OPT_DECLOG},
    {"port-file", required_argument, NULL, OPT_PORT_FILE},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"no-watch", no_argument, NULL, OPT_NO_WATCH},
    {"skypilot-path", required_argument, NULL, OPT_SKYPILOT_PATH},
    {"check", no_argument, NULL, OPT_CHECK},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static bool write_port_file(const char *path, unsigned port)
{
    /* Written whole and renamed into place: a reader never sees a
     * half-written number. */
    char text[16];
    int n = snprintf(text, sizeof text, "%u\n", port);
    int e = ru_write_file_atomic(path, text, (size_t)n);
    if (e) {
        rd_log(RD_ERROR, "cannot write the port file '%s': %s", path, strerror(e));
        return false;
    }
    return true;
}

int main(int argc, char **argv)
{
    rd_cli cli;
    memset(&cli, 0, sizeof cli);
    const char **policies = calloc((size_t)argc, sizeof *policies);
    const char **params = calloc((size_t)argc, sizeof *params);
    bool check_only = false;
    int status = 1;
    char libs[256];
    if (!policies || !params) {
        fprintf(stderr, "rulesd: out of memory\n");
        goto out_args;
    }
    cli.policies = policies;
    cli.params = params;
    int opt;
    while ((opt = getopt_long(argc, argv, "c:l:p:P:t:h", options, NULL)) != -1) {
        switch (opt) {
        case 'c': cli.config_path = optarg; break;
        case 'l': cli.listen = optarg; break;
        case 'p': cli.port = optarg; break;
        case 'P': policies[cli.npolicies++] = optarg; break;
        case OPT_PARAM: params[cli.nparams++] = optarg; break;
        case 't': cli.threads = optarg; break;
        case OPT_MAX_BODY: cli.max_body = optarg; break;
        case OPT_TIMEOUT: cli.connection_timeout = optarg; break;
        case OPT_TOKEN: cli.token_file = optarg; break;
        case OPT_DECLOG: cli.decision_log = optarg; break;
        case OPT_PORT_FILE: cli.port_file = optarg; break;
        case OPT_LOG_LEVEL: cli.log_level = optarg; break;
        case OPT_NO_WATCH: cli.no_watch = true; break;
        case OPT_SKYPILOT_PATH: cli.skypilot_path = optarg; break;
        case OPT_CHECK: check_only = true; break;
        case 'h':
            fputs(usage_text, stdout);
            status = 0;
            goto out_args;
        case OPT_VERSION:
            ru_library_versions(libs, sizeof libs);
            printf("rulesd %d.%d.%d\ncommit %s\nlibraries: %s, libmicrohttpd %s\n", RV_VERSION_MAJOR,
                   RV_VERSION_MINOR, RV_VERSION_PATCH, RULES_COMMIT, libs, MHD_get_version());
            status = 0;
            goto out_args;
        default:
            fputs(usage_text, stderr);
            status = 2;
            goto out_args;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "rulesd: unexpected argument '%s' (policies go after --policy)\n", argv[optind]);
        status = 2;
        goto out_args;
    }

    /* Before any thread exists, so every thread inherits the mask. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGHUP);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGUSR1);  /* the bundle puller has a download (pull.h) */
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    rd_reloader rl;
    memset(&rl, 0, sizeof rl);
    rl.cli = &cli;
    char err[1024];
    if (!rd_config_load(&cli, &rl.cfg, err, sizeof err)) {
        rd_log(RD_ERROR, "%s", err);
        goto out_args;
    }
    rd_log_set_level((rd_level)rl.cfg.log_level);
    rl.fingerprint = rd_inputs_fingerprint(&rl.cfg);
    bool interrupted;
    rd_set *set = rd_initial_set(&rl, &sigs, check_only, &interrupted);
    if (!set) {
        if (interrupted)
            status = 0;
        else
            rd_log(RD_ERROR, "no policy set could be loaded: not starting");
        goto out_cfg;
    }
    if (check_only) {
        if (set->nwarnings)
            printf("rulesd: configuration and %zu policies OK, with %d warning%s (above)\n",
                   set->npolicies, set->nwarnings, set->nwarnings == 1 ? "" : "s");
        else
            printf("rulesd: configuration and %zu policies OK\n", set->npolicies);
        rd_set_free(set);
        status = 0;
        goto out_cfg;
    }
    rd_current_init(set);
    if (!rd_skypilot_set_path(rl.cfg.skypilot_path)) {
        rd_log(RD_ERROR, "out of memory");
        goto out_set;
    }
    if (rl.cfg.decision_log && !rd_declog_open(rl.cfg.decision_log, err, sizeof err)) {
        rd_log(RD_ERROR, "%s", err);
        goto out_set;
    }
    unsigned port;
    if (!rd_http_start(&rl.cfg, &port, err, sizeof err)) {
        rd_log(RD_ERROR, "%s", err);
        goto out_log;
    }
    rd_log(RD_INFO, "listening on %s%s%s:%u (%u threads), policy set revision 1: %zu policies%s",
           strchr(rl.cfg.address, ':') ? "[" : "", rl.cfg.address, strchr(rl.cfg.address, ':') ? "]" : "",
           port, rl.cfg.threads, set->npolicies, rl.cfg.token_file ? ", bearer token required" : "");
    if (rl.cfg.port_file && !write_port_file(rl.cfg.port_file, port))
        goto out_http;
    if (getenv("NOTIFY_SOCKET") && !rd_notify_supported())
        rd_notify("READY=1");  /* says once why it cannot */
    else if (set->bundle_revision[0])
        rd_notify("READY=1\nSTATUS=serving policy set revision 1: %zu policies, signed revision %s",
                  set->npolicies, set->bundle_revision);
    else
        rd_notify("READY=1\nSTATUS=serving policy set revision 1: %zu policies", set->npolicies);

    uint64_t last_poll = 0;
    for (;;) {
        unsigned interval = rl.cfg.watch ? rl.cfg.watch_interval_ms : 1000;
        struct timespec wait = {interval / 1000, (long)(interval % 1000) * 1000000L};
        int sig = sigtimedwait(&sigs, NULL, &wait);
        if (sig == SIGTERM || sig == SIGINT) {
            rd_log(RD_INFO, "%s: finishing requests in flight, then exiting", sig == SIGTERM ? "SIGTERM" : "SIGINT");
            rd_notify("STOPPING=1");
            break;
        }
        if (sig == SIGUSR1) {
            rd_reload_pulled(&rl);
            continue;
        }
        if (sig == SIGHUP) {
            rd_declog_reopen();
            rd_reload(&rl, "SIGHUP");
            continue;
        }
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        uint64_t ms = (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;
        if (rl.cfg.watch && ms - last_poll >= rl.cfg.watch_interval_ms) {
            last_poll = ms;
            rd_reload_poll(&rl);
        }
    }
    status = 0;
out_http:
    rd_http_stop(rl.cfg.shutdown_grace);
out_log:
    rd_declog_close();
out_set:
    rd_current_shutdown();
    rd_skypilot_free();
out_cfg:
    rd_pull_stop();
    rd_config_free(&rl.cfg);
    if (status == 0 && !check_only)
        rd_log(RD_INFO, "stopped");
out_args:
    free(policies);
    free(params);
    return status;
}
