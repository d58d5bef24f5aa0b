/* Request-time hooks (afb_request.h): authentication of `AuthType fallback` locations from
 * the session cookie, what the backend receives (docs/directives.md, "What the protected
 * application receives"), and the authz providers fallback-path and fallback-mfa. */
#include <apr_strings.h>
#include <apr_uri.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>
#include <ap_provider.h>
#include <mod_auth.h>

#include "afb_request.h"
#include "afb_cookie.h"
#include "afb_health.h"
#include "afb_log.h"
#include "afb_mfa_chain.h"
#include "afb_page.h"
#include "afb_brand.h"
#include "afb_provider.h"
#include "afb_route.h"
#include "authfb/session.h"
#include "authfb/util.h"
#include "authfb/event.h"

APLOG_USE_MODULE(auth_fallback);

/* What the authn hook found, for authz providers and fixups of the same request. */
typedef struct {
    afb_session_t session;
} afb_req_state_t;

static afb_req_state_t *afb_req_state(request_rec *r)
{
    for (; r; r = r->main ? r->main : r->prev) {
        afb_req_state_t *st = ap_get_module_config(r->request_config, &auth_fallback_module);
        if (st)
            return st;
    }
    return NULL;
}

static int afb_in_list(const apr_array_header_t *list, const char *name)
{
    int i;
    for (i = 0; list && i < list->nelts; i++)
        if (!strcmp(APR_ARRAY_IDX(list, i, afb_provider_t *)->conf.name, name))
            return 1;
    return 0;
}

/* Does this session meet this location's bar? A session from another location's weaker
 * configuration (a path not in this chain, or no second factor where one is required) does
 * not: the person signs in again here. */
static int afb_session_fits(request_rec *r, const afb_dir_conf_t *dc, const afb_session_t *s)
{
    afb_provider_t *path = afb_provider_find(r->server, s->path);
    if (!path || !afb_in_list(dc->chain, s->path))
        return 0;
    if (!afb_provider_has(path, AFB_ROLE_WANTS_MFA) || !dc->mfa || !dc->mfa->nelts)
        return 1;
    if (strcmp(s->mfa, "none"))
        return afb_in_list(dc->mfa, s->mfa);
    /* The same rule that issues the bypass (afb_mfa_none_left). */
    return dc->mfa_allow &&
           afb_mfa_chain_state(r->pool, (afb_provider_t *const *)dc->mfa->elts,
                               dc->mfa->nelts, s->user) == AFB_MFA_CHAIN_DOWN;
}

/* The session as this location sees it: degraded when its path is not the first of this
 * chain (or it lacks the second factor this location asks for), and never living longer than
 * this location's lifetime for such a session -- whatever the issuing location allowed. */
static void afb_session_localize(const afb_dir_conf_t *dc, afb_provider_t *path,
                                 afb_session_t *s)
{
    int idx = 0, degraded;
    long lifetime;
    apr_time_t local;
    while (idx < dc->chain->nelts && APR_ARRAY_IDX(dc->chain, idx, afb_provider_t *) != path)
        idx++;
    degraded = s->degraded || idx > 0 ||
               (afb_provider_has(path, AFB_ROLE_WANTS_MFA) && dc->mfa && dc->mfa->nelts &&
                !strcmp(s->mfa, "none"));
    lifetime = degraded ? dc->fallback_lifetime : dc->lifetime;
    local = s->issued + apr_time_from_sec(lifetime) +
            (s->extended ? apr_time_from_sec(dc->outage_grace) : 0);
    if (local < s->expires)
        s->expires = local;
    s->degraded = degraded;
}

static void afb_session_accept(request_rec *r, const afb_session_t *s)
{
    afb_req_state_t *st = apr_pcalloc(r->pool, sizeof(*st));
    int i;
    st->session = *s;
    ap_set_module_config(r->request_config, &auth_fallback_module, st);
    r->user = apr_pstrdup(r->pool, s->user);
    r->ap_auth_type = (char *)AFB_AUTH_TYPE;
    apr_table_setn(r->subprocess_env, "AUTH_FALLBACK_USER", s->user);
    apr_table_setn(r->subprocess_env, "AUTH_FALLBACK_PATH", s->path);
    apr_table_setn(r->subprocess_env, "AUTH_FALLBACK_MFA", s->mfa);
    apr_table_setn(r->subprocess_env, "AUTH_FALLBACK_DEGRADED", s->degraded ? "1" : "0");
    apr_table_setn(r->subprocess_env, "AUTH_FALLBACK_SESSION_EXPIRES",
                   apr_psprintf(r->pool, "%" APR_TIME_T_FMT, apr_time_sec(s->expires)));
    for (i = 0; i < s->n_claims; i++) {
        char *name = apr_pstrcat(r->pool, "AUTH_FALLBACK_CLAIM_", s->claim_name[i], NULL);
        ap_str_toupper(name);
        apr_table_setn(r->subprocess_env, name, s->claim_value[i]);
    }
}

/* AuthFallbackOutageGrace: an expiring session is extended once while the path that issued
 * it is DOWN, or (for a fallback path) while every path before it in the chain still is. */
static int afb_grace_applies(request_rec *r, const afb_dir_conf_t *dc, const afb_session_t *s)
{
    afb_provider_t *issuer = afb_provider_find(r->server, s->path);
    int i;
    if (dc->outage_grace <= 0 || s->extended || !issuer || !dc->chain ||
        apr_time_now() >= s->expires + apr_time_from_sec(dc->outage_grace))
        return 0;
    if (afb_health_is_down(issuer))
        return 1;
    for (i = 0; i < dc->chain->nelts; i++) {
        afb_provider_t *prov = APR_ARRAY_IDX(dc->chain, i, afb_provider_t *);
        if (prov == issuer)
            return i > 0;
        if (!afb_health_is_down(prov))
            return 0;
    }
    return 0;
}

static int afb_extend(request_rec *r, const afb_dir_conf_t *dc, afb_session_t *s)
{
    const char *cookie = NULL;
    afb_event_t *ev;
    s->expires += apr_time_from_sec(dc->outage_grace);
    s->extended = 1;
    if (afb_session_seal(afb_module(r->server)->keyring, r->pool, s, &cookie) != AFB_OK)
        return 0;
    afb_cookie_set(r, afb_module(r->server)->cookie_name, cookie, -1, "/");
    ev = afb_event(r, "session.extended");
    afb_event_str(ev, "user", s->user);
    afb_event_str(ev, "path", s->path);
    afb_event_int(ev, "expires", (long long)apr_time_sec(s->expires));
    afb_event_str(ev, "location", dc->location);
    afb_event_emit(r, ev);
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, "AFB01012: session of %s (path %s) extended "
                  "by %ld s during an outage", s->user, s->path, dc->outage_grace);
    return 1;
}

int afb_check_authn(request_rec *r)
{
    const char *type = ap_auth_type(r);
    afb_module_t *conf = afb_module(r->server);
    afb_dir_conf_t *dc;
    afb_session_t s;
    afb_status_t st;
    const char *cookie;
    if (!type || strcasecmp(type, AFB_AUTH_TYPE))
        return DECLINED;
    dc = afb_dir_conf(r);
    r->ap_auth_type = (char *)AFB_AUTH_TYPE;
    if (!afb_keyring_count(conf->keyring))
        return afb_unavailable_page(r);
    cookie = afb_cookie_get(r, conf->cookie_name);
    st = cookie ? afb_session_open(conf->keyring, r->pool, cookie, apr_time_now(), &s) : AFB_ENOENT;
    if ((st == AFB_OK || st == AFB_EEXPIRED) && afb_session_fits(r, dc, &s)) {
        afb_session_localize(dc, afb_provider_find(r->server, s.path), &s);
        st = apr_time_now() < s.expires ? AFB_OK : AFB_EEXPIRED;
        if (st == AFB_EEXPIRED && afb_grace_applies(r, dc, &s) && afb_extend(r, dc, &s))
            st = AFB_OK;
        if (st == AFB_OK) {
            afb_session_accept(r, &s);
            return OK;
        }
    }
    if (r->main) /* a subrequest cannot carry a sign-in's cookies back to the browser */
        return HTTP_UNAUTHORIZED;
    return afb_start_signin(r, dc);
}

/* ---- what the backend receives ---- */

/* 1 for a header that could carry an identity to the backend: the module's reserved prefix
 * or any AuthFallbackUserHeader of the configuration, wherever it was set. */
static int afb_header_is_identity(const apr_array_header_t *user_headers, const char *name)
{
    int i;
    if (afb_header_is_reserved(name, NULL))
        return 1;
    for (i = 0; user_headers && i < user_headers->nelts; i++)
        if (afb_header_name_eq(name, APR_ARRAY_IDX(user_headers, i, const char *)))
            return 1;
    return 0;
}

static void afb_strip_headers(request_rec *r, const apr_array_header_t *user_headers)
{
    const apr_array_header_t *arr = apr_table_elts(r->headers_in);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    apr_array_header_t *gone = NULL;
    int i;
    for (i = 0; i < arr->nelts; i++) {
        if (!e[i].key || !afb_header_is_identity(user_headers, e[i].key))
            continue;
        if (!gone)
            gone = apr_array_make(r->pool, 2, sizeof(const char *));
        APR_ARRAY_PUSH(gone, const char *) = e[i].key;
    }
    for (i = 0; gone && i < gone->nelts; i++)
        apr_table_unset(r->headers_in, APR_ARRAY_IDX(gone, i, const char *));
}

int afb_fixups(request_rec *r)
{
    afb_module_t *conf = afb_module(r->server);
    afb_dir_conf_t *dc;
    afb_req_state_t *st;
    const char *cookies[4];
    if (!afb_module_active(conf))
        return DECLINED;
    dc = afb_dir_conf(r);
    afb_strip_headers(r, conf->user_headers);
    cookies[0] = conf->cookie_name;
    cookies[1] = afb_flow_cookie_name(r);
    cookies[2] = apr_pstrcat(r->pool, conf->cookie_name, "_oidc_*", NULL);
    cookies[3] = NULL;
    afb_cookie_strip(r, cookies);
    st = afb_req_state(r);
    if (st && r->user && dc->user_header)
        apr_table_setn(r->headers_in, dc->user_header, st->session.user);
    return DECLINED;
}

/* What the refused page needs, as the authz providers noted it when they said no. */
static const char *afb_denied_need(request_rec *r)
{
    const char *paths = apr_table_get(r->notes, "afb-need-path");
    if (paths)
        return afb_msg_html(r->pool, afb_lang(r), AFB_MSG_DENIED_NEED_PATH, "paths", paths, NULL);
    if (apr_table_get(r->notes, "afb-need-mfa"))
        return afb_h(r, AFB_MSG_DENIED_NEED_MFA);
    return afb_h(r, AFB_MSG_DENIED_NEED_OTHER);
}

/* "Go back": the page the person came from when it is one of this site's (Referer with the
 * request's own host), else the site's start. */
static const char *afb_denied_back(request_rec *r)
{
    const char *ref = apr_table_get(r->headers_in, "Referer");
    apr_uri_t u;
    if (ref && r->hostname && apr_uri_parse(r->pool, ref, &u) == APR_SUCCESS && u.hostname &&
        !strcasecmp(u.hostname, r->hostname) && u.path)
        return afb_return_sanitize(r->pool, apr_pstrcat(r->pool, u.path, u.query ? "?" : "",
                                                        u.query ? u.query : "", NULL));
    return "/";
}

/* Access denied: who the person is, what this page needs, and the ways on (sign out and sign
 * in another way, coming back here; or go back). */
static const char *afb_denied_content(request_rec *r, const afb_req_state_t *st)
{
    const char *who = st ? afb_msg_html(r->pool, afb_lang(r), AFB_MSG_DENIED_WHO, "user",
                                        st->session.user, "path", st->session.path, NULL) : "";
    const char *here = afb_return_sanitize(r->pool, r->unparsed_uri);
    return apr_pstrcat(r->pool, "<p>", who, "</p><p>", afb_denied_need(r), "</p>"
        "<p><a id=\"sign-out\" href=\"",
        afb_html_escape(r->pool, afb_endpoint_url(r, "logout", here)), "\">",
        afb_h(r, AFB_MSG_DENIED_SIGNOUT), "</a></p><p><a id=\"go-back\" href=\"",
        afb_html_escape(r->pool, afb_denied_back(r)), "\">", afb_h(r, AFB_MSG_DENIED_BACK),
        "</a></p>", NULL);
}

/* A signed-in person whom an authz rule (e.g. Require fallback-mfa) refuses: say so plainly
 * instead of httpd's bare 401. */
int afb_note_auth_failure(request_rec *r, const char *auth_type)
{
    afb_req_state_t *st;
    if (strcasecmp(auth_type, AFB_AUTH_TYPE))
        return DECLINED;
    st = afb_req_state(r);
    apr_table_setn(r->err_headers_out, "WWW-Authenticate", "Fallback realm=\"sign-in required\"");
    (void)afb_page_end(r, HTTP_UNAUTHORIZED, afb_t(r, AFB_MSG_DENIED_TITLE),
                       afb_denied_content(r, st));
    return OK;
}

/* ---- authorization providers ---- */

static const char *afb_parse_path_require(cmd_parms *cmd, const char *line, const void **parsed)
{
    const char *w, *s = line;
    apr_array_header_t *names = apr_array_make(cmd->pool, 2, sizeof(const char *));
    while (*(w = ap_getword_conf(cmd->pool, &s))) {
        afb_provider_t *prov = afb_provider_find(cmd->server, w);
        if (!afb_provider_has(prov, AFB_ROLE_FIRST))
            return apr_psprintf(cmd->pool, "Require fallback-path: '%s' is not a declared "
                                "oidc or password provider", w);
        APR_ARRAY_PUSH(names, const char *) = w;
    }
    if (!names->nelts)
        return "Require fallback-path: name at least one provider";
    *parsed = names;
    return NULL;
}

static authz_status afb_authz_path(request_rec *r, const char *line, const void *parsed)
{
    const apr_array_header_t *names = parsed;
    afb_req_state_t *st;
    int i;
    (void)line;
    if (!r->user)
        return AUTHZ_DENIED_NO_USER;
    if (!(st = afb_req_state(r)))
        return AUTHZ_DENIED;
    for (i = 0; i < names->nelts; i++)
        if (!strcmp(APR_ARRAY_IDX(names, i, const char *), st->session.path))
            return AUTHZ_GRANTED;
    apr_table_setn(r->notes, "afb-need-path", apr_array_pstrcat(r->pool, names, ' '));
    return AUTHZ_DENIED;
}

static authz_status afb_authz_mfa(request_rec *r, const char *line, const void *parsed)
{
    afb_req_state_t *st;
    (void)line; (void)parsed;
    if (!r->user)
        return AUTHZ_DENIED_NO_USER;
    if (!(st = afb_req_state(r)))
        return AUTHZ_DENIED;
    if (strcmp(st->session.mfa, "none"))
        return AUTHZ_GRANTED;
    apr_table_setn(r->notes, "afb-need-mfa", "1");
    return AUTHZ_DENIED;
}

static const authz_provider afb_authz_path_provider = {afb_authz_path, afb_parse_path_require};
static const authz_provider afb_authz_mfa_provider = {afb_authz_mfa, NULL};

void afb_register_authz(apr_pool_t *p)
{
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "fallback-path", AUTHZ_PROVIDER_VERSION,
                              &afb_authz_path_provider, AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "fallback-mfa", AUTHZ_PROVIDER_VERSION,
                              &afb_authz_mfa_provider, AP_AUTH_INTERNAL_PER_CONF);
}
