/* mod_auth_fallback: the module record and its hooks. Everything else of the adapter lives
 * in the afb_*.c files beside this one; the decisions live in the core (mod_src/core). */
#include <apr_strings.h>
#include <ap_provider.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>
#include <mod_auth.h>

#include "afb_httpd.h"
#include "afb_endpoints.h"
#include "afb_brand.h"
#include "authfb/log.h"
#include "authfb/http.h"

/* The module's name and version, as in the server banner: mod_auth_fallback/1.1.0. */
#define AFB_COMPONENT "mod_auth_fallback/" AFB_VERSION


static int afb_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    (void)plog; (void)ptemp;
    afb_log_bridge_install(NULL); /* messages while reading the configuration go to stderr */
    afb_brand_reset(pconf);
    if (afb_health_pre_config(pconf) != OK)
        return !OK;
    return afb_cache_pre_config(pconf);
}

static int afb_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                           server_rec *s)
{
    afb_server_conf_t *conf = afb_main_conf();
    (void)plog;
    afb_log_bridge_install(s);
    /* The banner shows it only with ServerTokens Full (httpd locks the banner otherwise);
     * it is rebuilt on every configuration pass, so the component is added on every pass. */
    ap_add_version_component(pconf, AFB_COMPONENT);
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG)
        return OK;
    if (!conf || !conf->all->nelts)
        return OK;
    if (afb_cache_post_config(pconf, ptemp, s) != OK || afb_event_log_open(pconf, s) != OK ||
        afb_health_post_config(pconf, ptemp, s) != OK || afb_vgate_post_config(s) != OK)
        return !OK;
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s,
                 "AFB00013: " AFB_COMPONENT ": %d providers configured, %d cookie keys, "
                 "endpoint %s, cache %s", conf->all->nelts, afb_keyring_count(conf->keyring),
                 conf->endpoint, conf->cache_spec);
    return OK;
}

static void afb_child_init(apr_pool_t *pchild, server_rec *s)
{
    afb_server_conf_t *conf = afb_main_conf();
    afb_http_t *http;
    int i;
    afb_log_bridge_install(s);
    if (!conf || !conf->all->nelts)
        return;
    if (afb_http_global_init() != AFB_OK)
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "AFB00014: cannot initialise libcurl");
    afb_cache_child_init(pchild, s);
    afb_health_child_init(pchild, s);
    afb_signin_child_init(pchild);
    http = afb_http_curl_create(pchild);
    for (i = 0; i < conf->all->nelts; i++) {
        afb_provider_t *prov = APR_ARRAY_IDX(conf->all, i, afb_provider_t *);
        if (prov->store)
            afb_filestore_child_init(prov->store, pchild);
        if (prov->conf.type == AFB_PROV_OIDC)
            afb_oidc_child_init(prov, pchild, http);
        if (prov->conf.type == AFB_PROV_HTTP_MFA)
            afb_mfa_child_init(prov, pchild, http);
    }
    afb_oidc_prime(pchild, conf->all);
}

static void afb_register_hooks(apr_pool_t *p)
{
    ap_hook_pre_config(afb_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(afb_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(afb_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(afb_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_quick_handler(afb_quick_handler, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_handler(afb_status_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_authn(afb_check_authn, NULL, NULL, APR_HOOK_MIDDLE,
                        AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_fixups(afb_fixups, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_note_auth_failure(afb_note_auth_failure, NULL, NULL, APR_HOOK_MIDDLE);
    afb_register_authz(p);
}

AP_DECLARE_MODULE(auth_fallback) = {
    STANDARD20_MODULE_STUFF,
    afb_create_dir_conf,
    afb_merge_dir_conf,
    afb_create_server_conf,
    afb_merge_server_conf,
    afb_cmds,
    afb_register_hooks,
    AP_MODULE_FLAG_NONE
};
