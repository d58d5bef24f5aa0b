/* The `http-mfa` provider type: a second factor checked by a privacyIDEA-compatible
 * /validate/check over the shared outbound HTTP transport (include/authfb/httpmfa.h). An
 * infrastructure failure while checking a code sends the person on to the next MFA
 * provider; a code the service accepted is accepted once. */
#include <apr_strings.h>

#include "afb_provider.h"
#include "authfb/httpmfa.h"
#include "authfb/log.h"
#include "authfb/names.h"

APLOG_USE_MODULE(auth_fallback);

/* prov->runtime: the settings, and the per-process client made in child_init. */
typedef struct {
    afb_httpmfa_conf_t hconf;
    afb_httpmfa_t *http;       /* per process, created in child_init */
} afb_httpmfa_rt_t;

static const char *afb_httpmfa_configure(afb_provider_t *prov, apr_pool_t *p,
                                         apr_pool_t *ptemp)
{
    afb_httpmfa_rt_t *rt = apr_pcalloc(p, sizeof(*rt));
    (void)ptemp;
    rt->hconf.url = prov->conf.arg;
    rt->hconf.health_url = apr_table_get(prov->conf.params, "health_url");
    rt->hconf.ca_file = apr_table_get(prov->conf.params, "ca_file");
    rt->hconf.realm = apr_table_get(prov->conf.params, "realm");
    prov->runtime = rt;
    return NULL;
}

static void afb_httpmfa_child_init(afb_provider_t *prov, apr_pool_t *pchild, afb_http_t *http)
{
    afb_httpmfa_rt_t *rt = prov->runtime;
    const char *why = NULL;
    if (afb_httpmfa_create(pchild, &rt->hconf, http, &rt->http, &why) != AFB_OK) {
        afb_log(AFB_LOG_ERR, 1014, "provider %s: %s", prov->conf.name, why ? why : "invalid");
        rt->http = NULL;
    }
}

static afb_status_t afb_httpmfa_health_probe(afb_provider_t *prov, apr_pool_t *p,
                                             const char **reason)
{
    afb_httpmfa_rt_t *rt = prov->runtime;
    if (!rt->http) {
        *reason = "not initialised";
        return AFB_ERR;
    }
    return afb_httpmfa_probe(rt->http, p, prov->conf.timeout, reason);
}

/* AFB_OK accepted, AFB_EMISMATCH refused (the person's failure), AFB_EIO / AFB_ETIMEOUT the
 * service failed (*why says how). */
static afb_status_t afb_httpmfa_check_code(request_rec *r, afb_provider_t *prov,
                                           const char *user, const char *code,
                                           const char **who, const char **why)
{
    afb_httpmfa_rt_t *rt = prov->runtime;
    afb_httpmfa_result_t res = AFB_HTTPMFA_REJECT;
    afb_status_t st;
    *who = NULL;
    *why = "not initialised";
    if (!rt->http)
        return AFB_EIO;
    /* the service is asked with the name in the provider's user_form= */
    st = afb_httpmfa_check(rt->http, r->pool, afb_names_user(r->pool, &prov->conf.names, user),
                           code, prov->conf.timeout, &res, why);
    return afb_provider_verdict(st, res == AFB_HTTPMFA_ACCEPT);
}

const afb_provider_ops_t afb_prov_httpmfa = {
    .type = "http-mfa", .roles = AFB_ROLE_SECOND | AFB_ROLE_CODES_ONCE,
    .configure = afb_httpmfa_configure, .child_init = afb_httpmfa_child_init,
    .probe = afb_httpmfa_health_probe, .verify = afb_httpmfa_check_code,
};
