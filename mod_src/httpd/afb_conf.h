/* The configuration of the module (afb_conf.c): the module-wide state, the per-server and
 * per-directory records, and the directives that only set them.
 *
 * Module-wide state lives in one afb_module_t, created in pconf with the first server
 * record and reached from every server's record (afb_module(s)), as mod_md's
 * md_mod_conf_get does. It is immutable after post_config (children are forked copies),
 * except the runtime parts each subsystem sets up in post_config and child_init; a restart
 * drops it with pconf, and a pconf cleanup detaches the core's logging from the server
 * records that go with it. */
#ifndef AFB_CONF_H
#define AFB_CONF_H

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <ap_socache.h>
#include <apr_global_mutex.h>
#include <apr_hash.h>

#include "authfb/common.h"
#include "authfb/crypto.h"
#include "authfb/limits.h"

extern module AP_MODULE_DECLARE_DATA auth_fallback_module;

#define AFB_AUTH_TYPE "fallback"
#define AFB_DEFAULT_ENDPOINT "/auth-fallback"
#define AFB_DEFAULT_COOKIE "authfb_session"

typedef enum { AFB_SECURE_AUTO = 0, AFB_SECURE_ON, AFB_SECURE_OFF } afb_secure_t;

typedef struct afb_provider_t afb_provider_t;
typedef struct afb_checker_t afb_checker_t; /* afb_health.c */
typedef struct afb_events_t afb_events_t;             /* afb_log.c */
typedef struct afb_brand_t afb_brand_t;               /* afb_brand.c */
typedef struct afb_readiness_t afb_readiness_t;       /* afb_readiness.c */

/* Everything the module knows beyond one server or directory. */
typedef struct afb_module_t {
    apr_array_header_t *all;         /* afb_provider_t*, every provider of every server */
    apr_hash_t *main_providers;      /* name -> afb_provider_t*, the main server's */
    afb_keyring_t *keyring;
    const char *endpoint;
    const char *event_log;           /* file, or "|pipe" */
    const char *override_file;
    const char *cookie_name;
    const char *cookie_domain;
    const char *cookie_samesite;
    afb_secure_t cookie_secure;
    unsigned throttle_user;          /* AuthFallbackThrottle user= (failures per window) */
    unsigned throttle_client;        /* client= */
    apr_interval_time_t throttle_window;
    int throttle_v4_prefix;          /* ipv4_prefix= (bits of a client address counted) */
    int throttle_v6_prefix;          /* ipv6_prefix= */
    apr_array_header_t *user_headers; /* const char*, every AuthFallbackUserHeader name of the
                                       * configuration: removed from every request */
    apr_array_header_t *enroll_require; /* const char*, AuthFallbackEnrollRequire; NULL: every
                                         * oidc provider (afb_enroll.c) */
    /* the shared cache (afb_cache.c) */
    const char *cache_spec;
    const ap_socache_provider_t *cache_prov;   /* NULL: the own table */
    ap_socache_instance_t *cache_inst;
    unsigned cache_slots;            /* entries of the own table (AuthFallbackCache shmcb);
                                      * 0 with a socache backend */
    struct afb_cache_shm_t *cache_shm;          /* in shared memory, from post_config */
    struct afb_statetable_t *cache_table;       /* the own table; NULL with a socache */
    apr_global_mutex_t *cache_mutex; /* created in post_config, re-attached per child */
    const char *cache_lockfile;
    server_rec *main_server;         /* set in post_config: logging outside a request */
    /* runtime of the other subsystems, set up in post_config and child_init */
    afb_checker_t *health;
    afb_events_t *events;
    /* AuthFallbackRoster (afb_readiness.c): the file, DAYS, and its runtime */
    const char *roster_file;
    int roster_days;
    afb_readiness_t *readiness;
    apr_array_header_t *sections;    /* afb_dir_conf_t*, every section of the server
                                      * configuration with AuthFallbackChain */
    struct afb_vgate_t *vgate;       /* the password verification queue (afb_vgate.c) */
    struct afb_brand_t *brand;       /* the pages' branding and languages (afb_brand.c) */
    /* told when a request sees the shared cache fail (the checker probes it early); set by
     * afb_health.c, which owns the cache's health record */
    void (*cache_failed)(struct afb_module_t *mod, const char *what);
    /* more work for the checker at every tick; set by afb_readiness.c (the roster and
     * readiness) */
    void (*checker_also)(struct afb_module_t *mod, apr_pool_t *p);
} afb_module_t;

typedef struct {
    apr_hash_t *providers;           /* name -> afb_provider_t*, this server's and inherited */
    afb_module_t *mod;               /* the same for every server */
} afb_server_conf_t;

typedef struct {
    apr_array_header_t *chain;       /* afb_provider_t*, first-factor paths */
    apr_array_header_t *mfa;         /* afb_provider_t*, second factors; empty = none */
    int mfa_set;
    int mfa_none;                    /* AuthFallbackMFA none was given in this section */
    int mfa_allow;                   /* AuthFallbackMFAUnavailable allow */
    int mfa_allow_set;
    long lifetime;
    long fallback_lifetime;
    int lifetime_set;
    long outage_grace;
    int outage_grace_set;
    const char *user_header;
    int user_header_set;
    const char *location;            /* the section that declared the chain */
} afb_dir_conf_t;

void *afb_create_server_conf(apr_pool_t *p, server_rec *s);
void *afb_merge_server_conf(apr_pool_t *p, void *basev, void *addv);
void *afb_create_dir_conf(apr_pool_t *p, char *dir);
void *afb_merge_dir_conf(apr_pool_t *p, void *basev, void *addv);

afb_module_t *afb_module(const server_rec *s);

/* A zeroed block for state that threads may still read while a child exits: httpd destroys
 * pconf at exit (apr_terminate) while the watchdog's and the workers' threads can still run,
 * so such state lives in memory that is never freed, one block per key for the life of the
 * process, cleared for each configuration pass (children of an older generation keep their
 * own copies). */
void *afb_kept_block(const char *key, apr_size_t size);
afb_dir_conf_t *afb_dir_conf(const request_rec *r);
/* 1 once AuthFallbackProvider was used: the module has work to do in this configuration. */
int afb_module_active(const afb_module_t *mod);

/* A provider declared for this server (or inherited from the main server), or NULL. */
afb_provider_t *afb_provider_find(const server_rec *s, const char *name);
/* Record a declared provider in this server's and the module's lists. */
void afb_provider_add(cmd_parms *cmd, afb_provider_t *prov, const char *name);

/* The module for a directive of the main server configuration only; NULL with *err
 * elsewhere. dc is the handler's unused per-directory record. */
afb_module_t *afb_cmd_global(cmd_parms *cmd, void *dc, const char **err);
/* A directive handler's error: "DIRECTIVE: message", so httpd prints it with file and line. */
const char *afb_cmd_err(cmd_parms *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A secret file (client secret, RADIUS shared secret) read at configuration time: trailing
 * newlines and spaces dropped; empty or over AFB_SECRET_MAX_BYTES refused with a message. */
const char *afb_read_secret_file(apr_pool_t *p, const char *path, const char **out,
                                 apr_size_t *outlen);

/* Directive handlers for the hub's command table. */
const char *afb_cmd_key(cmd_parms *cmd, void *dc, const char *arg);
const char *afb_cmd_endpoint(cmd_parms *cmd, void *dc, const char *arg);
/* A path of the main server, into the afb_module_t field at the table's offset (cmd->info);
 * AuthFallbackEventLog also takes "|program". */
const char *afb_cmd_path(cmd_parms *cmd, void *dc, const char *arg);
const char *afb_cmd_cookie(cmd_parms *cmd, void *dc, const char *word);
const char *afb_cmd_throttle(cmd_parms *cmd, void *dc, const char *word);
const char *afb_cmd_chain(cmd_parms *cmd, void *dcv, const char *name);
const char *afb_cmd_mfa(cmd_parms *cmd, void *dcv, const char *name);
const char *afb_cmd_mfa_unavail(cmd_parms *cmd, void *dcv, const char *arg);
const char *afb_cmd_lifetime(cmd_parms *cmd, void *dcv, const char *a, const char *b);
const char *afb_cmd_grace(cmd_parms *cmd, void *dcv, const char *arg);
const char *afb_cmd_user_header(cmd_parms *cmd, void *dcv, const char *arg);

/* Checks that need the whole configuration (a key, depends=); !OK refuses it. */
int afb_conf_check(apr_pool_t *ptemp, server_rec *s);

#endif
