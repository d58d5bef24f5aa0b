/* Handlers of the URLs under AuthFallbackEndpoint and the helpers they share. */
#ifndef AFB_ENDPOINTS_H
#define AFB_ENDPOINTS_H

#include "afb_httpd.h"
#include "authfb/event.h"
#include "authfb/http.h"
#include "authfb/health.h"

int afb_login_handler(request_rec *r);
int afb_mfa_handler(request_rec *r);
int afb_logout_handler(request_rec *r);
int afb_callback_handler(request_rec *r);

int afb_bad_request(request_rec *r, const char *what);
int afb_read_body(request_rec *r, apr_size_t max, char **out, apr_size_t *outlen);
int afb_read_form(request_rec *r, apr_table_t **form);

/* Routing (afb_signin.c). */
int afb_health_is_down(const afb_provider_t *prov);
/* Evidence seen while serving a person (connect failure, timeout, 5xx): asks the checker for
 * an immediate probe; never marks a provider down by itself. */
void afb_health_passive(const afb_provider_t *prov, const char *reason);
/* The module saw the path it chose fail: continue on the standby path sealed at the start. */
int afb_activate_standby(request_rec *r, afb_flow_t *standby);

void afb_signin_child_init(apr_pool_t *pchild);
/* Rate limit for high-rate events: how many occurrences the event to write now stands for,
 * or 0 to stay quiet (one event per key every 10 s per process). */
long afb_event_rate_take(const char *key);

/* Health (afb_health.c). */
int afb_health_pre_config(apr_pool_t *pconf);
int afb_health_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s);
void afb_health_child_init(apr_pool_t *pchild, server_rec *s);
void afb_health_counter(const afb_provider_t *prov, int which); /* afb_health_counter_t */
afb_health_table_t *afb_health_table(void);
/* The shared cache's own record (state, probes; passive_events counts the errors requests
 * saw), or NULL before the table exists. */
afb_health_rec_t *afb_health_cache_rec(void);
/* 1 while the cache's probes say it is DOWN. */
int afb_health_cache_down(void);
/* A request saw the cache fail: counted, and the next cache probe comes early. */
void afb_health_cache_error(const char *what);
/* depends= of every record as indices (one per record of the table), or NULL. */
const afb_health_deps_t *afb_health_deps(void);
void afb_health_lock(void);
void afb_health_unlock(void);

/* The auth-fallback-status handler (afb_status.c). */
int afb_status_handler(request_rec *r);

const char *afb_read_secret_file(apr_pool_t *p, const char *path, const char **out,
                                 apr_size_t *outlen);

/* Remote MFA providers (afb_mfa.c). */
const char *afb_mfa_configure(afb_provider_t *prov, apr_pool_t *p, apr_pool_t *ptemp);
void afb_mfa_child_init(afb_provider_t *prov, apr_pool_t *pchild, afb_http_t *http);
afb_status_t afb_mfa_health_probe(afb_provider_t *prov, apr_pool_t *p, const char **reason);
/* A code at a remote provider: AFB_OK accepted, AFB_EMISMATCH refused (the person's
 * failure), AFB_EIO / AFB_ETIMEOUT an infrastructure failure (*why says which). */
afb_status_t afb_mfa_remote_check(request_rec *r, afb_provider_t *prov, const char *user,
                                  const char *code, const char **why);
/* Make flow->mfa[0] the first provider usable for flow->user from index `from` on;
 * 0 when none is. */
int afb_mfa_next(request_rec *r, afb_flow_t *flow, int from);
/* The one rule for a session without a second factor (docs/architecture.md, security
 * properties): USABLE when a provider of this MFA chain can take the person now (not DOWN;
 * for the local store, a secret is enrolled); NOT_ENROLLED when none ever could ("not set
 * up", never a bypass); DOWN when some could and every such one is DOWN. The bypass
 * (mfa=none) is issued, and accepted, only in state DOWN under AuthFallbackMFAUnavailable
 * allow. NULL entries (unknown names) are skipped. */
typedef enum {
    AFB_MFA_CHAIN_USABLE = 0,
    AFB_MFA_CHAIN_NOT_ENROLLED = 1,
    AFB_MFA_CHAIN_DOWN = 2
} afb_mfa_chain_t;
afb_mfa_chain_t afb_mfa_chain_state(apr_pool_t *p, afb_provider_t *const *chain, int n,
                                    const char *user);
/* No second factor left for the flow: "not set up" (state NOT_ENROLLED), the outage page
 * (DOWN under deny, or a provider still usable), or the bypass (DOWN under allow). */
int afb_mfa_none_left(request_rec *r, afb_flow_t *flow);

/* The oidc provider type (afb_oidc.c). */
const char *afb_oidc_configure(afb_provider_t *prov, apr_pool_t *p, apr_pool_t *ptemp);
void afb_oidc_child_init(afb_provider_t *prov, apr_pool_t *pchild, afb_http_t *http);
afb_status_t afb_oidc_health_probe(afb_provider_t *prov, apr_pool_t *p, const char **reason);
void afb_oidc_prime(apr_pool_t *pchild, apr_array_header_t *all);
/* Redirect to the OP. With `unreachable` non-NULL, an OP that cannot be reached (metadata
 * not fetched in this process yet, the OP down) sets *unreachable and returns DECLINED
 * without a page, so the caller can move the person on. */
int afb_oidc_start(request_rec *r, afb_provider_t *prov, const afb_flow_t *flow,
                   int *unreachable);
afb_event_t *afb_event(request_rec *r, const char *name);
void afb_event_emit(afb_event_t *ev);
int afb_redirect(request_rec *r, int status, const char *location);
const char *afb_endpoint_url(request_rec *r, const char *name, const char *return_to);
afb_status_t afb_flow_save(request_rec *r, const afb_flow_t *flow);
/* Open the flow cookie: AFB_OK, AFB_EEXPIRED or AFB_EINVAL / AFB_ENOENT when absent. */
afb_status_t afb_flow_load(request_rec *r, afb_flow_t *flow);
void afb_flow_forget(request_rec *r);
/* The form page shown when a flow cookie is missing or expired. */
int afb_flow_lost_page(request_rec *r, afb_status_t st, const char *return_to);
/* Next step after the first factor passed: the MFA page, a session, or a refusal. */
int afb_after_first_factor(request_rec *r, afb_flow_t *flow);

#endif
