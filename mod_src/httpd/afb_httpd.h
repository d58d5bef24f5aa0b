/* The httpd adapter's shared declarations: configuration records and the entry points each
 * adapter file offers the others. The core (include/authfb) knows nothing of this file. */
#ifndef AFB_HTTPD_H
#define AFB_HTTPD_H

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <ap_socache.h>
#include <apr_global_mutex.h>
#include <apr_hash.h>
#include <apr_lib.h>

#include "authfb/common.h"
#include "authfb/crypto.h"
#include "authfb/provider.h"
#include "authfb/session.h"
#include "authfb/flow.h"
#include "authfb/cache.h"
#include "authfb/limits.h"

extern module AP_MODULE_DECLARE_DATA auth_fallback_module;

#define AFB_AUTH_TYPE "fallback"
#define AFB_DEFAULT_ENDPOINT "/auth-fallback"
#define AFB_DEFAULT_COOKIE "authfb_session"

typedef enum { AFB_SECURE_AUTO = 0, AFB_SECURE_ON, AFB_SECURE_OFF } afb_secure_t;

/* A loaded file-backed store (password hashes or TOTP secrets), one generation of it.
 * Generations are reference-counted so a reload never frees a copy another thread uses. */
typedef struct afb_store_gen_t afb_store_gen_t;
typedef struct afb_filestore_t afb_filestore_t;

/* One declared provider: its parsed words plus its runtime state in this process. */
typedef struct {
    afb_provider_conf_t conf;
    afb_filestore_t *store;          /* password and totp types */
    void *runtime;                   /* type-specific runtime (oidc, radius, ...) */
    int health_idx;                  /* its record in the shared health table */
    const char *declared_at;         /* "FILE:LINE" for messages */
} afb_provider_t;

typedef struct {
    apr_hash_t *providers;           /* name -> afb_provider_t*, this server's and inherited */
    /* Everything below is only meaningful in the main server's record. */
    apr_array_header_t *all;         /* afb_provider_t*, every provider of every server */
    afb_keyring_t *keyring;
    const char *endpoint;
    const char *cache_spec;
    const ap_socache_provider_t *cache_prov;
    ap_socache_instance_t *cache_inst;
    unsigned cache_slots;            /* entries of the own table (AuthFallbackCache shmcb);
                                      * 0 with a socache backend */
    const char *event_log;           /* file, or "|pipe" */
    apr_file_t *event_fd;
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
} afb_server_conf_t;

typedef struct {
    int enabled_set;
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

/* What the authn hook found, for authz providers and fixups of the same request. */
typedef struct {
    afb_session_t session;
} afb_req_state_t;

/* afb_config.c */
extern const command_rec afb_cmds[];
void *afb_create_server_conf(apr_pool_t *p, server_rec *s);
void *afb_merge_server_conf(apr_pool_t *p, void *basev, void *addv);
void *afb_create_dir_conf(apr_pool_t *p, char *dir);
void *afb_merge_dir_conf(apr_pool_t *p, void *basev, void *addv);
afb_server_conf_t *afb_main_conf(void);
int afb_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s);
afb_provider_t *afb_provider_find(server_rec *s, const char *name);

/* afb_filestore.c */
afb_filestore_t *afb_filestore_create(apr_pool_t *p, afb_provider_t *prov);
/* Loads the file now. Returns NULL: a store that cannot be used is logged and leaves the
 * provider without a copy (DOWN) until the file is good; it never fails the configuration. */
const char *afb_filestore_load_initial(afb_filestore_t *fs, apr_pool_t *ptemp);
/* The current generation, reloading when the file changed (checked at most once a second).
 * Release with afb_filestore_release. Never NULL once loaded initially (its data may be). */
afb_store_gen_t *afb_filestore_acquire(afb_filestore_t *fs);
void afb_filestore_release(afb_filestore_t *fs, afb_store_gen_t *gen);
/* afb_pwstore_t* or afb_totp_store_t*, NULL when the store has no usable copy. */
void *afb_store_gen_data(afb_store_gen_t *gen);
/* 1 when the store has a usable copy (checks the file for a new one, at most once a second). */
int afb_filestore_usable(afb_filestore_t *fs);
/* The store's own spelling of the name with this key (authfb/names.h), or NULL. */
const char *afb_store_gen_name(afb_store_gen_t *gen, const char *key);
/* The same for a name as given (the rules of the store's provider applied first). */
const char *afb_store_gen_find(const afb_filestore_t *fs, afb_store_gen_t *gen, apr_pool_t *p,
                               const char *name);
void afb_filestore_child_init(afb_filestore_t *fs, apr_pool_t *pchild);

/* afb_health.c: when the last probe passed (0 when it failed or none ran), for a child to
 * know that a failure it remembers is older than the provider's recovery. */
apr_time_t afb_health_last_pass(const afb_provider_t *prov);

/* afb_health.c, the deletion guard's shared state (docs/operations.md, "The deletion guard").
 * A child holding a copy back records it: 1 when it is the first to hold this copy (sig), so
 * one child reports it. */
int afb_health_store_hold(const afb_provider_t *prov, uint64_t sig, int held_users,
                          int kept_users);
/* What the first child to read copy sig decided, so every child decides alike: 1 taken into
 * use (within the limit, or released by the operator), -1 held back, 0 not decided yet. */
int afb_health_store_decided(const afb_provider_t *prov, uint64_t sig);
/* Copy sig is taken into use (within the limit): every child takes it. */
void afb_health_store_take(const afb_provider_t *prov, uint64_t sig);
/* 1 when the operator released the held copy sig (`NAME release` in the override file). */
int afb_health_store_released(const afb_provider_t *prov, uint64_t sig);
/* A copy was taken into use: nothing is held any more (sig 0), or nothing when the copy sig
 * was the held one (a restart loaded it). */
void afb_health_store_accepted(const afb_provider_t *prov, uint64_t sig);

/* afb_vgate.c: at most one password verification per core at once, across children */
int afb_vgate_post_config(server_rec *s);
/* Waits for a turn (in order, without CPU), then runs fn(baton); returns what fn returned. */
typedef afb_status_t (*afb_vgate_work_fn)(void *baton);
afb_status_t afb_vgate_verify(request_rec *r, afb_vgate_work_fn fn, void *baton);

/* afb_cache.c */
/* At configtest and every start: !OK, logged, when the cache the configuration names cannot be
 * used (its socache module is not loaded). */
int afb_cache_check(const afb_server_conf_t *conf, apr_pool_t *ptemp, server_rec *s);
const char *afb_cache_configure(afb_server_conf_t *conf, const char *spec, apr_pool_t *ptemp,
                                apr_pool_t *pconf);
int afb_cache_pre_config(apr_pool_t *pconf);
int afb_cache_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s);
void afb_cache_child_init(apr_pool_t *pchild, server_rec *s);
afb_cache_t *afb_cache_for(request_rec *r);
/* The health probe of the cache: a set/get/delete round trip of a probe key, failed when it
 * takes longer than `deadline`. AFB_OK, or an error with *reason for people. */
afb_status_t afb_cache_probe(apr_pool_t *p, server_rec *s, apr_interval_time_t deadline,
                             const char **reason);
typedef struct {
    unsigned capacity;               /* entries of the own table; 0 with a socache backend */
    unsigned live;                   /* of them, records not expired */
    unsigned long refused;           /* new records refused (table full) or failed stores */
} afb_cache_stats_t;
void afb_cache_stats(afb_cache_stats_t *out);
/* Mark key as used for ttl; *used says whether it already was (single use of OIDC states and
 * remote MFA codes). AFB_EIO when the cache cannot say. */
afb_status_t afb_cache_once(request_rec *r, const char *key, apr_interval_time_t ttl, int *used);
/* Run fn with the cross-process cache lock held (a read-modify-write such as TOTP replay). */
afb_status_t afb_cache_locked(request_rec *r, afb_status_t (*fn)(afb_cache_t *c, void *baton),
                              void *baton);

/* afb_log.c */
void afb_log_bridge_install(server_rec *s);
int afb_event_log_open(apr_pool_t *pconf, server_rec *s);
int afb_event_log_check(apr_pool_t *ptemp, server_rec *s);
void afb_event_write(const char *line);

/* afb_request.c */
int afb_check_authn(request_rec *r);
int afb_fixups(request_rec *r);
int afb_note_auth_failure(request_rec *r, const char *auth_type);
void afb_register_authz(apr_pool_t *p);
afb_req_state_t *afb_req_state(request_rec *r);
int afb_is_browser(request_rec *r);

/* afb_cookie.c */
const char *afb_cookie_get(request_rec *r, const char *name);
void afb_cookie_set(request_rec *r, const char *name, const char *value, long max_age,
                    const char *path);
void afb_cookie_clear(request_rec *r, const char *name, const char *path);
void afb_cookie_strip(request_rec *r, const char *const *names);
const char *afb_flow_cookie_name(request_rec *r);

/* afb_pages.c */
int afb_quick_handler(request_rec *r, int lookup);
int afb_page(request_rec *r, int status, const char *title, const char *body_html);
/* The same for a page that ends a journey: it carries the helpdesk line. */
int afb_page_end(request_rec *r, int status, const char *title, const char *body_html);
int afb_unavailable_page(request_rec *r, const char *location);
void afb_nocache(request_rec *r);

/* afb_signin.c: start and finish sign-ins */
int afb_start_signin(request_rec *r, afb_dir_conf_t *dc);
/* claims: the OpenID Provider's claims to pass on (claims_env=), or NULL. */
int afb_issue_session(request_rec *r, const afb_flow_t *flow, const char *mfa,
                      const apr_table_t *claims);
const char *afb_client_ip(request_rec *r);

#endif
