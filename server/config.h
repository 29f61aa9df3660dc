/* config.h - rulesd's configuration: one YAML file (--config, else
 * SPDX-License-Identifier: Apache-2.0
 * $RULESD_CONFIG), then command-line flags on top. Every error names the
 * file and the key as a path, e.g.
 *   rulesd.yaml: policies[1].params.max_price: no policy ... declares it
 */
#ifndef RD_CONFIG_H
#define RD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rd_param_override {
    char *policy;      /* NULL: the policies of the entry (or, from --param, every policy) */
    char *name;
    char *value;       /* as written (--param, a YAML string): read by rc_set_param */
    bool json;         /* value is another YAML value (a number, a list...) as JSON */
    char *where;       /* "rulesd.yaml: policies[1].params.max_price" or "--param" */
} rd_param_override;

typedef struct rd_policy_entry {
    char *path;         /* a .rules file, a .rbc bundle, or a folder of them */
    bool has_priority;
    int32_t priority;   /* overrides the policy header's priority (.rules only) */
    rd_param_override *params;
    size_t nparams;
    char *where;        /* "rulesd.yaml: policies[1]" or "--policy" */
} rd_policy_entry;

/* Signed bundles and pulling them (policies: as a mapping; docs/rulesd.md,
 * "Signed bundles and pulling from a URL"). */
typedef struct rd_source_config {
    char *url;                  /* NULL: the policy paths; else the bundle to pull */
    bool require_signature;     /* every input a bundle signed by a trusted key (always with url) */
    char **trusted_keys;        /* public key files */
    size_t ntrusted_keys;
    bool allow_rollback;        /* accept a lower signed revision than the one served */
    unsigned poll_interval_ms;  /* between pulls */
    unsigned poll_jitter_ms;    /* each wait is the interval less up to this much, at random */
    unsigned poll_max_backoff_ms;  /* the longest wait after failures (doubling) */
    unsigned poll_timeout_ms;   /* for one whole download */
    unsigned startup_timeout_ms;   /* how long start-up waits for a first good bundle */
    char *ca_file;              /* CA certificates for https (NULL: the system's) */
} rd_source_config;

typedef struct rd_config {
    char *config_path;       /* NULL when running on flags alone */
    char *address;           /* numeric IPv4 or IPv6 address */
    unsigned port;
    unsigned threads;
    rd_policy_entry *policies;
    size_t npolicies;
    rd_source_config source;    /* signatures, and the URL mode */
    rd_param_override *params;  /* --param flags, applied after the file's */
    size_t nparams;
    size_t max_body;            /* bytes */
    unsigned connection_timeout;  /* seconds */
    unsigned shutdown_grace;      /* seconds to finish in-flight requests */
    unsigned max_connections;
    unsigned header_timeout;      /* seconds for a request line and headers (conntab.h) */
    unsigned max_connections_per_client;
    unsigned reserved_connections;  /* slots kept free by closing the longest-waiting connection */
    char *token_file;
    char *decision_log;
    bool watch;
    unsigned watch_interval_ms;
    int log_level;              /* rd_level */
    char *port_file;            /* flag only: where to write the bound port */
    char *skypilot_path;        /* SkyPilot's endpoint; NULL: SKYPILOT_DEFAULT_PATH */
} rd_config;

/* Flags given on the command line; NULL/0 fields leave the file's value. */
typedef struct rd_cli {
    const char *config_path;
    const char *listen;         /* ADDRESS:PORT, ADDRESS, or [v6]:PORT */
    const char *port;
    const char *threads;
    const char **policies;
    size_t npolicies;
    const char **params;        /* POLICY.PARAM=VALUE or PARAM=VALUE */
    size_t nparams;
    const char *max_body;
    const char *connection_timeout;
    const char *token_file;
    const char *decision_log;
    const char *port_file;
    const char *log_level;
    const char *skypilot_path;
    bool no_watch;
} rd_cli;

/* Loads the file named by cli (if any) and applies the flags. On failure
 * returns false with the message in err (and leaves nothing to free). */
bool rd_config_load(const rd_cli *cli, rd_config *out, char *err, size_t errsize);
void rd_config_free(rd_config *cfg);

#endif
