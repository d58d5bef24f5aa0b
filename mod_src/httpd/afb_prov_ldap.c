/* The `ldap` provider type: a first factor judged by the directory itself (pass-through: the
 * module finds the person's entry and binds as it with the typed password), given in the
 * module's own form (/login); the location's MFA chain follows it. The service account's
 * password file is read at startup, as root; each child has its own directory client. The
 * protocol, the deadline and what the directory's answers mean are in the core
 * (include/authfb/ldap.h); docs/providers.md, "Directory pass-through". */
#include <apr_strings.h>
#include <http_core.h>

#include "afb_provider.h"
#include "authfb/ldap.h"

APLOG_USE_MODULE(auth_fallback);

typedef struct {
    afb_ldap_conf_t conf;
    afb_ldap_t *client;            /* per process, created in child_init */
} afb_ldap_rt_t;

static const char *afb_ldap_secret(afb_provider_t *prov, afb_ldap_rt_t *rt, apr_pool_t *p,
                                   apr_pool_t *ptemp)
{
    const char *file = apr_table_get(prov->conf.params, "bind_password_file");
    const char *err;

    if (!rt->conf.bind_dn && file)
        return "bind_password_file= needs bind_dn=";
    if (!rt->conf.bind_dn)
        return NULL;
    if (!file)
        return "bind_dn= needs bind_password_file= (the service account's password)";
    file = ap_server_root_relative(ptemp, file);
    if ((err = afb_read_secret_file(p, file, &rt->conf.bind_password, NULL)))
        return apr_psprintf(ptemp, "bind_password_file: %s", err);
    return NULL;
}

static const char *afb_ldap_configure(afb_provider_t *prov, apr_pool_t *p, apr_pool_t *ptemp)
{
    afb_ldap_rt_t *rt = apr_pcalloc(p, sizeof(*rt));
    apr_table_t *kv = prov->conf.params;
    const char *ca = apr_table_get(kv, "ca_file"), *err, *why = NULL;
    afb_ldap_t *check = NULL;
    int n = 0;

    rt->conf.name = prov->conf.name;
    rt->conf.urls = afb_ldap_url_split(p, prov->conf.arg, &n);
    rt->conf.base = apr_table_get(kv, "base");
    rt->conf.filter = apr_table_get(kv, "filter");
    rt->conf.bind_dn = apr_table_get(kv, "bind_dn");
    rt->conf.user_attr = apr_table_get(kv, "user_attr");
    rt->conf.ca_file = ca ? ap_server_root_relative(p, ca) : NULL;
    rt->conf.starttls = !strcmp(apr_table_get(kv, "starttls"), "on");
    rt->conf.timeout = prov->conf.timeout;
    if ((err = afb_ldap_secret(prov, rt, p, ptemp)))
        return err;
    /* Validate now, so configtest names a bad ldap line; no network call is made. */
    if (afb_ldap_create(ptemp, &rt->conf, &check, &why) != AFB_OK)
        return why ? why : "invalid ldap configuration";
    prov->runtime = rt;
    return NULL;
}

/* After the fork: the client owns a watchdog thread and a pool of connections. */
static void afb_ldap_child_init(afb_provider_t *prov, apr_pool_t *pchild, afb_http_t *http)
{
    afb_ldap_rt_t *rt = prov->runtime;
    const char *why = NULL;

    (void)http;
    if (afb_ldap_create(pchild, &rt->conf, &rt->client, &why) != AFB_OK)
        rt->client = NULL;
}

static afb_status_t afb_ldap_health(afb_provider_t *prov, apr_pool_t *p, const char **reason)
{
    afb_ldap_rt_t *rt = prov->runtime;
    afb_ldap_result_t res;
    afb_status_t st;

    if (!rt->client) {
        *reason = "directory client not initialised in this process";
        return AFB_ERR;
    }
    st = afb_ldap_probe(rt->client, p, &res);
    if (st != AFB_OK)
        *reason = apr_psprintf(p, "%s: %s", afb_ldap_reason_name(res.why),
                               res.detail ? res.detail : "");
    return st;
}

/* One sentence beside the usual refusal for a locked or expired account, nothing the
 * directory said. */
static const char *afb_ldap_notice(afb_ldap_reason_t why)
{
    switch (why) {
    case AFB_LDAP_R_LOCKED:
        return "This account is locked; please contact your helpdesk.";
    case AFB_LDAP_R_PASSWORD_EXPIRED:
    case AFB_LDAP_R_MUST_CHANGE:
        return "The password of this account has expired; please change it first.";
    case AFB_LDAP_R_ACCOUNT_EXPIRED:
        return "This account has expired; please contact your helpdesk.";
    default:
        return NULL;
    }
}

/* The directory is asked for the name's key under the path's rules (realm removed; case
 * folded under the default names=caseless, which a directory's own matching ignores). */
static afb_status_t afb_ldap_verify(request_rec *r, afb_provider_t *prov, const char *key,
                                    const char *password, afb_verdict_t *v)
{
    afb_ldap_rt_t *rt = prov->runtime;
    afb_ldap_result_t res;
    afb_status_t st;

    if (!rt->client)
        return AFB_ERR;
    st = afb_ldap_authenticate(rt->client, r->pool, key ? key : "", key ? strlen(key) : 0,
                               password, &res);
    v->who = res.user ? res.user : key;
    if (st == AFB_OK)
        return AFB_OK;
    v->why = apr_psprintf(r->pool, "%s: %s", afb_ldap_reason_name(res.why),
                          res.detail ? res.detail : "");
    if (st == AFB_ENOENT || st == AFB_EMISMATCH) {
        v->reason = afb_ldap_reason_name(res.why);
        v->notice = afb_ldap_notice(res.why);
    }
    return st;
}

/* Can this process sign people in through it: its client exists. */
static int afb_ldap_ready(const afb_provider_t *prov)
{
    const afb_ldap_rt_t *rt = prov->runtime;
    return rt && rt->client;
}

const afb_provider_ops_t afb_prov_ldap = {
    .type = "ldap", .roles = AFB_ROLE_FIRST | AFB_ROLE_WANTS_MFA,
    .configure = afb_ldap_configure, .child_init = afb_ldap_child_init,
    .probe = afb_ldap_health, .ready = afb_ldap_ready,
    .form = "login", .verify_form = afb_ldap_verify, .max_secret = AFB_LDAP_MAX_PASSWORD,
};
