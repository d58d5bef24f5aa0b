/* The core's cache interface (authfb/cache.h) over httpd's socache providers
 * (AuthFallbackCache; afb_cache.c), with a global mutex for read-modify-write. */
#ifndef AFB_CACHE_H
#define AFB_CACHE_H

#include "afb_conf.h"
#include "authfb/cache.h"

/* AuthFallbackCache PROVIDER[:ARGS] (the hub's command table). */
const char *afb_cmd_cache(cmd_parms *cmd, void *dc, const char *arg);
/* At configtest and every start: !OK, logged, when the cache the configuration names cannot be
 * used (its socache module is not loaded). */
int afb_cache_check(const afb_module_t *conf, apr_pool_t *ptemp, server_rec *s);
int afb_cache_pre_config(apr_pool_t *pconf);
int afb_cache_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s);
void afb_cache_child_init(apr_pool_t *pchild, server_rec *s);

/* The cache for this request. A miss is AFB_ENOENT; a full table AFB_ETOOBIG; any other
 * failure AFB_EIO. */
afb_cache_t *afb_cache_for(request_rec *r);
/* Mark key as used for ttl; *used says whether it already was (single use of OIDC states and
 * remote MFA codes). AFB_EIO when the cache cannot say. */
afb_status_t afb_cache_once(request_rec *r, const char *key, apr_interval_time_t ttl, int *used);
/* Run fn with the cross-process cache lock held (a read-modify-write such as TOTP replay). */
afb_status_t afb_cache_locked(request_rec *r, afb_status_t (*fn)(afb_cache_t *c, void *baton),
                              void *baton);
/* The cache's own health probe (set, get, delete within the deadline), for the checker. */
afb_status_t afb_cache_probe(apr_pool_t *p, server_rec *s, apr_interval_time_t deadline,
                             const char **reason);
typedef struct {
    unsigned capacity;               /* entries of the own table; 0 with a socache backend */
    unsigned live;                   /* of them, records not expired */
    unsigned long refused;           /* new records refused (table full) or failed stores */
} afb_cache_stats_t;
void afb_cache_stats(afb_module_t *conf, afb_cache_stats_t *out);
/* PREFIX + the user's MAC under the first crypto key (no user name in the cache), or NULL. */
const char *afb_cache_user_key(request_rec *r, const char *prefix, const char *user);

#endif
