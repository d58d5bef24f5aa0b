/* mod_auth_fallback: the hub of the adapter. The module record, the command table, the
 * hooks, and the router of the URLs under AuthFallbackEndpoint. It is the only file that
 * knows every other (docs/architecture.md, "Adapter files"); each afb_*.c beside it has one
 * header saying what it offers, and the decisions live in the core (mod_src/core). */
#include <apr_strings.h>
#include <ap_provider.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>
#include <mod_auth.h>

#include "afb_conf.h"
#include "afb_brand.h"
#include "afb_cache.h"
#include "afb_confcheck.h"
#include "afb_enroll.h"
#include "afb_health.h"
#include "afb_log.h"
#include "afb_provider.h"
#include "afb_login_form.h"
#include "afb_mfa_form.h"
#include "afb_readiness.h"
#include "afb_registry.h"
#include "afb_request.h"
#include "afb_session.h"
#include "afb_status.h"
#include "afb_vgate.h"
#include "authfb/http.h"
#include "authfb/log.h"

/* The module's name and version, as in the server banner: mod_auth_fallback/1.1.0. */
#define AFB_COMPONENT "mod_auth_fallback/" AFB_VERSION

static int afb_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    (void)plog; (void)ptemp;
    afb_log_bridge_install(NULL); /* messages while reading the configuration go to stderr */
    if (afb_health_pre_config(pconf) != OK)
        return !OK;
    return afb_cache_pre_config(pconf);
}

/* Checks of the whole configuration, at configtest as at every start and graceful restart:
 * whatever would stop httpd later for a configuration reason is refused here. */
static int afb_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                            server_rec *s)
{
    (void)pconf; (void)plog;
    if (afb_confcheck_tree(ptemp, s) != OK || afb_conf_check(ptemp, s) != OK)
        return !OK;
    if (!afb_module_active(afb_module(s)))
        return OK;
    if (afb_cache_check(afb_module(s), ptemp, s) != OK)
        return !OK;
    return afb_event_log_check(ptemp, s);
}

static int afb_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                           server_rec *s)
{
    afb_module_t *conf = afb_module(s);
    (void)plog;
    afb_log_bridge_install(s);
    /* The banner shows it only with ServerTokens Full (httpd locks the banner otherwise);
     * it is rebuilt on every configuration pass, so the component is added on every pass. */
    ap_add_version_component(pconf, AFB_COMPONENT);
    afb_brand_post_config(s, pconf);
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG)
        return OK;
    if (!afb_module_active(conf))
        return OK;
    conf->main_server = s;
    if (afb_cache_post_config(pconf, ptemp, s) != OK || afb_event_log_open(pconf, s) != OK ||
        afb_health_post_config(pconf, ptemp, s) != OK || afb_vgate_post_config(s) != OK ||
        afb_readiness_post_config(pconf, s) != OK)
        return !OK;
    afb_provider_stores_post_config(conf, pconf, s);
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s,
                 "AFB00013: " AFB_COMPONENT ": %d providers configured, %d cookie keys, "
                 "endpoint %s, cache %s", conf->all->nelts, afb_keyring_count(conf->keyring),
                 conf->endpoint, conf->cache_spec);
    return OK;
}

static void afb_child_init(apr_pool_t *pchild, server_rec *s)
{
    afb_module_t *conf = afb_module(s);
    afb_log_bridge_install(s);
    if (!afb_module_active(conf))
        return;
    if (afb_http_global_init() != AFB_OK)
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "AFB00014: cannot initialise libcurl");
    afb_cache_child_init(pchild, s);
    afb_health_child_init(pchild, s);
    afb_events_child_init(conf, pchild);
    afb_registry_child_init(conf, pchild, afb_http_curl_create(pchild));
}

/* ---- the URLs under AuthFallbackEndpoint ---- */

static int afb_endpoint_is(request_rec *r, const char *prefix, const char *name)
{
    apr_size_t n = strlen(prefix);
    return !strncmp(r->uri, prefix, n) && r->uri[n] == '/' && !strcmp(r->uri + n + 1, name);
}

/* They are served before URL mapping and access control, so a protected "/" never hides
 * its own sign-in page (docs/architecture.md, "Why the endpoint is served from a quick
 * handler"). */
static int afb_quick_handler(request_rec *r, int lookup)
{
    afb_module_t *conf = afb_module(r->server);
    afb_handler_fn *own;
    apr_size_t n;
    if (lookup || !afb_module_active(conf) || !r->uri)
        return DECLINED;
    n = strlen(conf->endpoint);
    if (strncmp(r->uri, conf->endpoint, n) || r->uri[n] != '/')
        return DECLINED;
    if (r->method_number != M_GET && r->method_number != M_POST) {
        apr_table_setn(r->err_headers_out, "Allow", "GET, POST");
        return HTTP_METHOD_NOT_ALLOWED;
    }
    if (afb_endpoint_is(r, conf->endpoint, "login"))
        return afb_login_handler(r);
    if (afb_endpoint_is(r, conf->endpoint, "mfa"))
        return afb_mfa_handler(r);
    if (afb_endpoint_is(r, conf->endpoint, "logout"))
        return afb_logout_handler(r);
    if (afb_endpoint_is(r, conf->endpoint, "enroll"))
        return afb_enroll_handler(r);
    own = afb_registry_endpoint(r->uri + n + 1); /* a provider type's own URL */
    return own ? own(r) : DECLINED;
}

/* The afb_module_t fields the path directives set (afb_cmd_path). */
#define AFB_EVENT_LOG_FIELD ((void *)APR_OFFSETOF(afb_module_t, event_log))
#define AFB_OVERRIDE_FIELD ((void *)APR_OFFSETOF(afb_module_t, override_file))

static const command_rec afb_cmds[] = {
    AP_INIT_TAKE1("AuthFallbackCryptoKey", afb_cmd_key, NULL, RSRC_CONF,
                  "A file of >= 32 random bytes keying the cookies; repeat to rotate"),
    AP_INIT_TAKE1("AuthFallbackEndpoint", afb_cmd_endpoint, NULL, RSRC_CONF,
                  "URL path prefix of the module's own pages (default /auth-fallback)"),
    AP_INIT_RAW_ARGS("AuthFallbackProvider", afb_cmd_provider, NULL, RSRC_CONF,
                     "NAME TYPE ARG [key=value ...]: declare one dependency"),
    AP_INIT_ITERATE("AuthFallbackEnrollRequire", afb_cmd_enroll_require, NULL, RSRC_CONF,
                    "Providers whose sessions (with multi-factor) may use the enrollment page"),
    AP_INIT_TAKE1("AuthFallbackCache", afb_cmd_cache, NULL, RSRC_CONF,
                  "socache provider for shared state, e.g. shmcb or redis:HOST:PORT"),
    AP_INIT_TAKE1("AuthFallbackEventLog", afb_cmd_path, AFB_EVENT_LOG_FIELD, RSRC_CONF,
                  "JSON-lines event log: a file or \"|program\""),
    AP_INIT_TAKE1("AuthFallbackOverrideFile", afb_cmd_path, AFB_OVERRIDE_FIELD, RSRC_CONF,
                  "Operator override file: lines NAME auto|up|down|release|drill ARG"),
    AP_INIT_TAKE12("AuthFallbackRoster", afb_cmd_roster, NULL, RSRC_CONF,
                   "Roster of who signed in where: FILE [DAYS], the base of readiness"),
    AP_INIT_ITERATE("AuthFallbackCookie", afb_cmd_cookie, NULL, RSRC_CONF,
                    "name= domain= samesite=Lax|Strict|None secure=auto|on|off"),
    AP_INIT_ITERATE("AuthFallbackThrottle", afb_cmd_throttle, NULL, RSRC_CONF,
                    "user=N client=N window=SECONDS: failed attempts per window (0: no limit)"),
    AP_INIT_TAKE1("AuthFallbackPageTemplate", afb_cmd_page_template, NULL, RSRC_CONF,
                  "HTML file framing the pages people see ({{content}} and other placeholders)"),
    AP_INIT_TAKE1("AuthFallbackOrganisation", afb_cmd_organisation, NULL, RSRC_CONF,
                  "Organisation name shown on the pages people see"),
    AP_INIT_TAKE1("AuthFallbackLogo", afb_cmd_logo, NULL, RSRC_CONF,
                  "URL of the logo shown on the pages people see"),
    AP_INIT_TAKE1("AuthFallbackHelpdesk", afb_cmd_helpdesk, NULL, RSRC_CONF,
                  "How to reach the helpdesk, shown where a sign-in cannot go on"),
    AP_INIT_TAKE2("AuthFallbackMessages", afb_cmd_messages, NULL, RSRC_CONF,
                  "LANG FILE: messages of a language, added or overriding the built-in ones"),
    AP_INIT_ITERATE("AuthFallbackChain", afb_cmd_chain, NULL, OR_AUTHCFG,
                    "First-factor providers in order of preference"),
    AP_INIT_ITERATE("AuthFallbackMFA", afb_cmd_mfa, NULL, OR_AUTHCFG,
                    "Second-factor providers in order, or none"),
    AP_INIT_TAKE1("AuthFallbackMFAUnavailable", afb_cmd_mfa_unavail, NULL, OR_AUTHCFG,
                  "deny (default) or allow when every MFA provider is down"),
    AP_INIT_TAKE12("AuthFallbackSessionLifetime", afb_cmd_lifetime, NULL, OR_AUTHCFG,
                   "Seconds for sessions of the first path [and of later paths]"),
    AP_INIT_TAKE1("AuthFallbackOutageGrace", afb_cmd_grace, NULL, OR_AUTHCFG,
                  "Seconds an expiring session may be extended once during an outage"),
    AP_INIT_TAKE1("AuthFallbackUserHeader", afb_cmd_user_header, NULL, OR_AUTHCFG,
                  "Request header that carries the user name to the backend"),
    {NULL}
};

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
