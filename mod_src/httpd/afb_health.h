/* Health checking in httpd (afb_health.c): one checker for the whole server (a mod_watchdog
 * singleton), probes through each provider's ops->probe in a small thread pool, the health
 * table in shared memory, the operator's override file, and what requests ask of it. The
 * state machine itself is the core's (include/authfb/health.h). */
#ifndef AFB_HEALTH_H
#define AFB_HEALTH_H

#include "afb_conf.h"
#include "authfb/health.h"

int afb_health_pre_config(apr_pool_t *pconf);
/* The table laid out (keeping the previous generation's state), the mutex, the checker. */
int afb_health_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s);
void afb_health_child_init(apr_pool_t *pchild, server_rec *s);

/* 1 when the provider is DOWN (probes or the operator's override); warns (AFB01010) when
 * the checker has gone silent. */
int afb_health_is_down(const afb_provider_t *prov);
/* 1 when a drill of the provider (override file `NAME drill ...`) applies to a new sign-in
 * from this client address with this flow's random draw (authfb/drill.h). */
int afb_health_drilled(const afb_provider_t *prov, const char *client_ip, uint32_t draw);
/* Evidence seen while serving a person (connect failure, timeout, 5xx): asks the checker for
 * an immediate probe; never marks a provider down by itself. */
void afb_health_passive(const afb_provider_t *prov, const char *reason);
/* One more of a per-path counter (afb_health_counter_t); prov may be NULL. */
void afb_health_counter(const afb_provider_t *prov, int which);
/* When the provider last passed a probe, 0 if never. */
apr_time_t afb_health_last_pass(const afb_provider_t *prov);

/* A store's probe saw this many records, and left this many out (status page). */
void afb_health_store_seen(const afb_provider_t *prov, int records, int skipped);
/* The deletion guard held back a copy (sig): 1 the first time for it (report it). */
int afb_health_store_hold(const afb_provider_t *prov, uint64_t sig, int held_users,
                          int kept_users);
/* What the first child to read copy sig decided, so every child decides alike: 1 taken into
 * use (within the limit, or released by the operator), -1 held back, 0 not decided yet. */
int afb_health_store_decided(const afb_provider_t *prov, uint64_t sig);
/* Copy sig is taken into use (within the limit): every child takes it (0: none is). */
void afb_health_store_take(const afb_provider_t *prov, uint64_t sig);
/* The copy taken into use last (by a child, by the operator's release, or loaded at the
 * start), 0 = none. */
uint64_t afb_health_store_taken(const afb_provider_t *prov);
/* 1 when the operator released this held copy (AuthFallbackOverrideFile NAME release). */
int afb_health_store_released(const afb_provider_t *prov, uint64_t sig);
/* A copy is in use: a hold on it (sig, or any with 0) is over. */
void afb_health_store_accepted(const afb_provider_t *prov, uint64_t sig);

/* For the status handler: the table (read under the lock) and the shared cache's own
 * record, each NULL before post_config. */
void afb_health_lock(afb_module_t *mod);
void afb_health_unlock(afb_module_t *mod);
afb_health_table_t *afb_health_table(afb_module_t *mod);
afb_health_rec_t *afb_health_cache_rec(afb_module_t *mod);
/* 1 while the shared cache's probes say it is DOWN. */
int afb_health_cache_down(afb_module_t *mod);

#endif
