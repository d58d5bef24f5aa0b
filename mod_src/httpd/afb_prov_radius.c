/* The `radius` provider type: a second factor checked by a RADIUS server (RFC 2865 with
 * Message-Authenticator, RFC 5997 Status-Server as the probe; the client is the core's,
 * include/authfb/radius.h). An infrastructure failure while checking a code sends the person
 * on to the next MFA provider; a code the server accepted is accepted once. */
#include <apr_strings.h>
#include <arpa/inet.h>
#include <http_core.h>

#include "afb_provider.h"
#include "authfb/log.h"
#include "authfb/names.h"
#include "authfb/radius.h"

APLOG_USE_MODULE(auth_fallback);

/* prov->runtime is the client (afb_radius_t), made at configuration time. */

static const char *afb_radius_configure(afb_provider_t *prov, apr_pool_t *p, apr_pool_t *ptemp)
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
    prov->runtime = afb_radius_create(p, host, port, (const unsigned char *)secret, len,
                                      apr_table_get(kv, "nas_identifier"), require_ma);
    memset((char *)secret, 0, len);
    if (!prov->runtime)
        return "invalid radius settings";
    if (!require_ma)
        afb_log(AFB_LOG_WARN, 1013, "provider %s: require_message_authenticator=off: answers "
                "without a Message-Authenticator are accepted (BlastRADIUS, CVE-2024-3596); "
                "upgrade the RADIUS server and remove this setting", prov->conf.name);
    return NULL;
}

static afb_status_t afb_radius_health_probe(afb_provider_t *prov, apr_pool_t *p,
                                            const char **reason)
{
    return afb_radius_status_server(prov->runtime, p, prov->conf.timeout, reason);
}

/* AFB_OK accepted, AFB_EMISMATCH refused (the person's failure), AFB_EIO / AFB_ETIMEOUT the
 * server failed (*why says how). */
static afb_status_t afb_radius_check_code(request_rec *r, afb_provider_t *prov,
                                          const char *user, const char *code, const char **who,
                                          const char **why)
{
    afb_radius_result_t res = AFB_RADIUS_REJECT;
    /* the server is asked with the name in the provider's user_form= */
    afb_status_t st = afb_radius_authenticate(prov->runtime, r->pool,
                                              afb_names_user(r->pool, &prov->conf.names, user),
                                              code, prov->conf.timeout, &res, why);
    *who = NULL;
    return afb_provider_verdict(st, res == AFB_RADIUS_ACCEPT);
}

const afb_provider_ops_t afb_prov_radius = {
    .type = "radius", .roles = AFB_ROLE_SECOND | AFB_ROLE_CODES_ONCE,
    .configure = afb_radius_configure, .probe = afb_radius_health_probe,
    .verify = afb_radius_check_code,
};
