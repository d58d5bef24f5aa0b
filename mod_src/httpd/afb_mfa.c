/* Remote second factors in httpd: `radius` (RFC 2865/3579/5997 client in the core) and
 * `http-mfa` (a privacyIDEA-compatible /validate/check). Both are health-checked like every
 * provider; an infrastructure failure while checking a code sends the person on to the next
 * MFA provider of the chain. */
#include <apr_strings.h>
#include <arpa/inet.h>
#include <http_core.h>
#include <http_log.h>

#include "afb_httpd.h"
#include "afb_endpoints.h"
#include "authfb/httpmfa.h"
#include "authfb/log.h"
#include "authfb/radius.h"

APLOG_USE_MODULE(auth_fallback);

typedef struct {
    afb_radius_t *radius;
    afb_httpmfa_conf_t hconf;
    afb_httpmfa_t *http;       /* per process, created in child_init */
} afb_mfa_rt_t;

static const char *afb_radius_configure(afb_provider_t *prov, afb_mfa_rt_t *rt, apr_pool_t *p,
                                        apr_pool_t *ptemp)
{
    apr_table_t *kv = prov->conf.params;
    const char *host = NULL, *secret = NULL, *err;
    const char *file = apr_table_get(kv, "secret_file");
    const char *ma = apr_table_get(kv, "require_message_authenticator");
    apr_size_t len = 0;
    int port = 0, require_ma = !ma || strcasecmp(ma, "off");
    struct in6_addr addr;
    if (afb_radius_hostport_split(ptemp, prov->conf.arg, &host, &port) != AFB_OK)
        return apr_psprintf(ptemp, "'%s' is not HOST:PORT", prov->conf.arg);
    /* A name lookup has no deadline of ours: RADIUS servers are given by address. */
    if (inet_pton(AF_INET, host, &addr) != 1 && inet_pton(AF_INET6, host, &addr) != 1)
        return apr_psprintf(ptemp, "'%s': give the RADIUS server as an IP address (a name "
                            "lookup could wait longer than timeout=)", host);
    if (!file)
        return "secret_file= is required";
    if ((err = afb_read_secret_file(p, ap_server_root_relative(ptemp, file), &secret, &len)))
        return apr_psprintf(ptemp, "secret_file: %s", err);
    rt->radius = afb_radius_create(p, host, port, (const unsigned char *)secret, len,
                                   apr_table_get(kv, "nas_identifier"), require_ma);
    memset((char *)secret, 0, len);
    if (!rt->radius)
        return "invalid radius settings";
    if (!require_ma)
        afb_log(AFB_LOG_WARN, 1013, "provider %s: require_message_authenticator=off: answers "
                "without a Message-Authenticator are accepted (BlastRADIUS, CVE-2024-3596); "
                "upgrade the RADIUS server and remove this setting", prov->conf.name);
    return NULL;
}

const char *afb_mfa_configure(afb_provider_t *prov, apr_pool_t *p, apr_pool_t *ptemp)
{
    afb_mfa_rt_t *rt = apr_pcalloc(p, sizeof(*rt));
    const char *err = NULL;
    if (prov->conf.type == AFB_PROV_RADIUS)
        err = afb_radius_configure(prov, rt, p, ptemp);
    else {
        rt->hconf.url = prov->conf.arg;
        rt->hconf.health_url = apr_table_get(prov->conf.params, "health_url");
        rt->hconf.ca_file = apr_table_get(prov->conf.params, "ca_file");
        rt->hconf.realm = apr_table_get(prov->conf.params, "realm");
    }
    if (!err)
        prov->runtime = rt;
    return err;
}

void afb_mfa_child_init(afb_provider_t *prov, apr_pool_t *pchild, afb_http_t *http)
{
    afb_mfa_rt_t *rt = prov->runtime;
    const char *why = NULL;
    if (rt && prov->conf.type == AFB_PROV_HTTP_MFA &&
        afb_httpmfa_create(pchild, &rt->hconf, http, &rt->http, &why) != AFB_OK) {
        afb_log(AFB_LOG_ERR, 1014, "provider %s: %s", prov->conf.name, why ? why : "invalid");
        rt->http = NULL;
    }
}

afb_status_t afb_mfa_health_probe(afb_provider_t *prov, apr_pool_t *p, const char **reason)
{
    afb_mfa_rt_t *rt = prov->runtime;
    if (rt && rt->radius)
        return afb_radius_status_server(rt->radius, p, prov->conf.timeout, reason);
    if (rt && rt->http)
        return afb_httpmfa_probe(rt->http, p, prov->conf.timeout, reason);
    *reason = "not initialised";
    return AFB_ERR;
}

afb_status_t afb_mfa_remote_check(request_rec *r, afb_provider_t *prov, const char *user,
                                  const char *code, const char **why)
{
    afb_mfa_rt_t *rt = prov->runtime;
    afb_status_t st = AFB_ERR;
    *why = "not initialised";
    if (rt && rt->radius) {
        afb_radius_result_t res = AFB_RADIUS_REJECT;
        st = afb_radius_authenticate(rt->radius, r->pool, user, code, prov->conf.timeout, &res,
                                     why);
        if (st == AFB_OK && res != AFB_RADIUS_ACCEPT)
            st = AFB_EMISMATCH;
    }
    else if (rt && rt->http) {
        afb_httpmfa_result_t res = AFB_HTTPMFA_REJECT;
        st = afb_httpmfa_check(rt->http, r->pool, user, code, prov->conf.timeout, &res, why);
        if (st == AFB_OK && res != AFB_HTTPMFA_ACCEPT)
            st = AFB_EMISMATCH;
    }
    if (st == AFB_ERR)
        st = AFB_EIO;
    return st;
}
