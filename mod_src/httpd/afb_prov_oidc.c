/* The `oidc` provider type: a first factor at an OpenID Provider. Configuration (the client
 * secret file is read at startup), the redirect to the OP with a sealed pending-state cookie,
 * and the callback (its own URL under the endpoint). The protocol itself is in the core
 * (include/authfb/oidc.h). */
#include <apr_strings.h>
#include <apr_lib.h>
#include <apr_file_io.h>
#include <apr_thread_proc.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>

#include "afb_provider.h"
#include "afb_cache.h"
#include "afb_cookie.h"
#include "afb_flow.h"
#include "afb_health.h"
#include "afb_log.h"
#include "afb_page.h"
#include "afb_brand.h"
#include "afb_route.h"
#include "afb_session.h"
#include "authfb/names.h"
#include "authfb/event.h"
#include "authfb/logout.h"
#include "authfb/oidc.h"
#include "authfb/util.h"

APLOG_USE_MODULE(auth_fallback);

extern const afb_provider_ops_t afb_prov_oidc;

/* prov->runtime: the settings, and the per-process relying party made in child_init. */
typedef struct {
    afb_oidc_conf_t conf;
    afb_oidc_provider_t *op;          /* per process, created in child_init */
} afb_oidc_rt_t;

static const char *const *afb_claim_list(apr_pool_t *p, const char *csv)
{
    apr_array_header_t *arr = apr_array_make(p, 4, sizeof(const char *));
    char *last, *w, *copy;
    if (!csv || !*csv)
        return NULL;
    copy = apr_pstrdup(p, csv);
    for (w = apr_strtok(copy, ",", &last); w; w = apr_strtok(NULL, ",", &last))
        APR_ARRAY_PUSH(arr, const char *) = w;
    APR_ARRAY_PUSH(arr, const char *) = NULL;
    return (const char *const *)arr->elts;
}

/* claims_env= names become AUTH_FALLBACK_CLAIM_<NAME> variables and travel in the session
 * cookie: plain identifiers, at most AFB_SESSION_MAX_CLAIMS of them. */
static const char *afb_claims_check(apr_pool_t *ptemp, const char *const *claims)
{
    int n;
    for (n = 0; claims && claims[n]; n++) {
        const char *c;
        if (n >= AFB_SESSION_MAX_CLAIMS)
            return apr_psprintf(ptemp, "claims_env= names at most %d claims",
                                AFB_SESSION_MAX_CLAIMS);
        if (!*claims[n] || strlen(claims[n]) > AFB_SESSION_MAX_CLAIM_NAME)
            return apr_psprintf(ptemp, "claims_env=: '%s' is not a claim name", claims[n]);
        for (c = claims[n]; *c; c++)
            if (!apr_isalnum(*c) && *c != '_')
                return apr_psprintf(ptemp, "claims_env=: '%s' is not a claim name (letters, "
                                    "digits and _)", claims[n]);
    }
    return NULL;
}

static const char *afb_oidc_configure(afb_provider_t *prov, apr_pool_t *p, apr_pool_t *ptemp)
{
    afb_oidc_rt_t *rt = apr_pcalloc(p, sizeof(*rt));
    apr_table_t *kv = prov->conf.params;
    const char *secret_file = apr_table_get(kv, "client_secret_file");
    const char *err, *why = NULL;
    afb_oidc_provider_t *check = NULL;
    rt->conf.name = prov->conf.name;
    rt->conf.discovery_url = prov->conf.arg;
    rt->conf.client_id = apr_table_get(kv, "client_id");
    rt->conf.scope = apr_table_get(kv, "scope");
    rt->conf.user_claim = apr_table_get(kv, "user_claim");
    rt->conf.ca_file = apr_table_get(kv, "ca_file");
    rt->conf.timeout = prov->conf.timeout;
    rt->conf.claims = afb_claim_list(p, apr_table_get(kv, "claims_env"));
    if ((err = afb_claims_check(ptemp, rt->conf.claims)))
        return err;
    if (apr_table_get(kv, "token_auth") &&
        afb_oidc_token_auth_parse(apr_table_get(kv, "token_auth"), &rt->conf.token_auth) != AFB_OK)
        return "token_auth= must be client_secret_basic or client_secret_post";
    if (secret_file) {
        secret_file = ap_server_root_relative(ptemp, secret_file);
        if ((err = afb_read_secret_file(p, secret_file, &rt->conf.client_secret, NULL)))
            return apr_psprintf(ptemp, "client_secret_file: %s", err);
    }
    /* Validate now, so configtest names a bad oidc line; no network call is made. */
    if (afb_http_global_init() != AFB_OK)
        return "cannot initialise libcurl";
    if (afb_oidc_provider_create(ptemp, &rt->conf, afb_http_curl_create(ptemp), &check, &why)
        != AFB_OK)
        return why ? why : "invalid oidc configuration";
    prov->runtime = rt;
    return NULL;
}

static afb_status_t afb_oidc_health_probe(afb_provider_t *prov, apr_pool_t *p, const char **reason)
{
    afb_oidc_rt_t *rt = prov->runtime;
    if (!rt || !rt->op) {
        *reason = "not initialised";
        return AFB_ERR;
    }
    return afb_oidc_probe(rt->op, p, apr_time_now(), reason);
}

/* Fetch the OP's discovery document and JWKS in the background as a child starts, so the
 * first sign-in in this process does not wait for them (where the OP is reachable). */
typedef struct {
    afb_provider_t *prov;
    apr_pool_t *pool;
    apr_thread_t *thread;
} afb_prime_t;

static void *APR_THREAD_FUNC afb_prime_run(apr_thread_t *thd, void *data)
{
    afb_prime_t *pr = data;
    const char *why = NULL;
    apr_pool_t *p;
    apr_pool_create(&p, pr->pool);
    (void)!afb_oidc_health_probe(pr->prov, p, &why);
    apr_pool_destroy(p);
    apr_thread_exit(thd, APR_SUCCESS);
    return NULL;
}

static apr_status_t afb_prime_join(void *data)
{
    afb_prime_t *pr = data;
    apr_status_t rv;
    if (pr->thread)
        apr_thread_join(&rv, pr->thread); /* at most one timeout */
    apr_pool_destroy(pr->pool);
    return APR_SUCCESS;
}

static void afb_oidc_prime(afb_provider_t *prov, apr_pool_t *pchild)
{
    afb_prime_t *pr = apr_pcalloc(pchild, sizeof(*pr));
    /* The thread's pools come from a pool of its own: pchild is shared with the worker
     * threads and its pool tree is not safe to change from two threads. */
    if (apr_pool_create_unmanaged_ex(&pr->pool, NULL, NULL) != APR_SUCCESS)
        return;
    pr->prov = prov;
    if (apr_thread_create(&pr->thread, NULL, afb_prime_run, pr, pr->pool) == APR_SUCCESS)
        apr_pool_cleanup_register(pchild, pr, afb_prime_join, apr_pool_cleanup_null);
    else
        apr_pool_destroy(pr->pool);
}

static void afb_oidc_child_init(afb_provider_t *prov, apr_pool_t *pchild, afb_http_t *http)
{
    afb_oidc_rt_t *rt = prov->runtime;
    const char *why = NULL;
    if (afb_oidc_provider_create(pchild, &rt->conf, http, &rt->op, &why) != AFB_OK)
        rt->op = NULL;
    afb_oidc_prime(prov, pchild);
}

/* ---- starting: the redirect to the OpenID Provider ---- */

/* The redirect URI: the provider's redirect_uri= key, else the virtual host's own name
 * (ServerName: scheme, host, port; the port the connection came in on when ServerName has
 * none) -- never the client's Host header, which anyone can set. */
static const char *afb_redirect_uri(request_rec *r, const afb_provider_t *prov)
{
    const char *fixed = apr_table_get(prov->conf.params, "redirect_uri");
    const char *scheme = ap_http_scheme(r);
    apr_port_t port = r->server->port ? r->server->port : r->connection->local_addr->port;
    const char *host = r->server->server_hostname;
    if (fixed)
        return fixed;
    if (host && strchr(host, ':') && *host != '[') /* an IPv6 literal */
        host = apr_pstrcat(r->pool, "[", host, "]", NULL);
    return apr_pstrcat(r->pool, scheme, "://", host ? host : "localhost",
                       port == ap_default_port(r) ? ""
                       : apr_psprintf(r->pool, ":%u", (unsigned)port),
                       afb_endpoint_url(r, "callback", NULL), NULL);
}

/* 1 when the request's Host is one of this virtual host's names (ServerName, ServerAlias,
 * wildcard aliases), compared without the port. */
static int afb_host_is_ours(request_rec *r)
{
    const server_rec *s = r->server;
    int i;
    if (!r->hostname || !s->server_hostname)
        return 0;
    if (!strcasecmp(r->hostname, s->server_hostname))
        return 1;
    for (i = 0; s->names && i < s->names->nelts; i++)
        if (!strcasecmp(r->hostname, APR_ARRAY_IDX(s->names, i, const char *)))
            return 1;
    for (i = 0; s->wild_names && i < s->wild_names->nelts; i++)
        if (!ap_strcasecmp_match(r->hostname, APR_ARRAY_IDX(s->wild_names, i, const char *)))
            return 1;
    return 0;
}

static const char *afb_pending_prefix(request_rec *r)
{
    return apr_pstrcat(r->pool, afb_module(r->server)->cookie_name, "_oidc_", NULL);
}

/* Pending cookies are named PREFIX + 8 hex digits of the start time + 12 characters of the
 * state: the oldest sort first, and the callback finds its own by the state. */
static const char *afb_pending_new_name(request_rec *r, const char *state)
{
    return apr_psprintf(r->pool, "%s%08lx%.12s", afb_pending_prefix(r),
                        (unsigned long)(apr_time_sec(apr_time_now()) & 0xffffffffUL), state);
}

/* The pending cookies this browser sent: PREFIX + 20 characters. */
static apr_array_header_t *afb_pending_names(request_rec *r)
{
    const char *prefix = afb_pending_prefix(r);
    return afb_cookie_names(r, prefix, strlen(prefix) + 20);
}

static int afb_name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Lax whatever AuthFallbackCookie says: the OP's redirect back is a cross-site top-level GET,
 * which Strict would strip the state from. Path=/ so the protected location can see (and
 * bound) them; the fixups remove them before the backend. */
static void afb_pending_set(request_rec *r, const char *name, const char *value, long max_age)
{
    afb_cookie_set_lax(r, name, value, max_age);
}

/* Keep the Cookie header bounded: the oldest pending sign-ins beyond the limit are dropped. */
static void afb_pending_bound(request_rec *r)
{
    apr_array_header_t *names = afb_pending_names(r);
    int i;
    qsort(names->elts, (size_t)names->nelts, sizeof(const char *), afb_name_cmp);
    for (i = 0; i <= names->nelts - AFB_OIDC_MAX_PENDING; i++)
        afb_pending_set(r, APR_ARRAY_IDX(names, i, const char *), "", 0);
}

/* The pending cookie of this state, by the state's first 12 characters. */
static const char *afb_pending_find(request_rec *r, const char *state)
{
    apr_array_header_t *names = afb_pending_names(r);
    apr_size_t n = strlen(state) < 12 ? strlen(state) : 12;
    int i;
    for (i = 0; i < names->nelts; i++) {
        const char *name = APR_ARRAY_IDX(names, i, const char *);
        if (!strncmp(name + strlen(name) - 12, state, n) && n == 12)
            return name;
    }
    return NULL;
}


static int afb_oidc_start(request_rec *r, afb_provider_t *prov, const afb_flow_t *flow,
                   int *unreachable)
{
    afb_oidc_rt_t *rt = prov->runtime;
    afb_oidc_authreq_t ar;
    afb_oidc_pending_t pend;
    const char *why = NULL, *sealed = NULL;
    afb_status_t st;
    if (!rt || !rt->op) {
        if (unreachable) {
            *unreachable = 1;
            return DECLINED;
        }
        return afb_unavailable_page(r);
    }
    if (!afb_host_is_ours(r))
        return afb_bad_request(r, AFB_MSG_BADREQ_HOST);
    /* Recovery reaches every child: a probe that passed after this child's failed fetch
     * lets it fetch again at once. */
    afb_oidc_passed_since(rt->op, afb_health_last_pass(prov));
    st = afb_oidc_begin(rt->op, r->pool, apr_time_now(), afb_redirect_uri(r, prov), &ar, &why);
    if (st != AFB_OK) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "AFB00024: provider %s: cannot start a sign-in: %s", prov->conf.name,
                      why ? why : afb_status_str(st));
        if (afb_oidc_is_infra(st))
            afb_health_passive(prov, why);
        if (afb_oidc_is_infra(st) && unreachable) {
            *unreachable = 1; /* the caller moves the person on to the next path */
            return DECLINED;
        }
        return afb_unavailable_page(r);
    }
    memset(&pend, 0, sizeof(pend));
    pend.provider = prov->conf.name;
    pend.state = ar.state;
    pend.nonce = ar.nonce;
    pend.code_verifier = ar.code_verifier;
    pend.return_to = flow->return_to;
    pend.location = flow->location;
    pend.degraded = flow->degraded;
    pend.drill = flow->drill;
    pend.lifetime = flow->lifetime;
    pend.expires = apr_time_now() + apr_time_from_sec(AFB_OIDC_PENDING_LIFETIME);
    if (afb_oidc_pending_seal(afb_module(r->server)->keyring, r->pool, &pend, &sealed) != AFB_OK)
        return afb_unavailable_page(r);
    afb_pending_bound(r);
    afb_pending_set(r, afb_pending_new_name(r, ar.state), sealed, AFB_OIDC_PENDING_LIFETIME);
    return afb_redirect(r, HTTP_MOVED_TEMPORARILY, ar.url);
}

/* ---- the callback ---- */

/* ---- signing out everywhere (RP-initiated logout; docs/directives.md, "Signing out") ---- */

static int afb_oidc_logout_on(const afb_provider_t *prov)
{
    const char *v = apr_table_get(prov->conf.params, "logout");
    return !v || strcasecmp(v, "off");
}

/* The ID token, kept for the id_token_hint in a cookie of its own on the endpoint path (the
 * session cookie, sent with every request, stays small). */
static void afb_logout_hint_keep(request_rec *r, const afb_provider_t *prov, const char *user,
                                 const char *id_token)
{
    afb_logout_hint_t h;
    const char *sealed = NULL;
    if (!afb_oidc_logout_on(prov) || !id_token)
        return;
    h.provider = prov->conf.name;
    h.user = user;
    h.issued = apr_time_now();
    h.id_token = id_token;
    if (afb_logout_hint_seal(afb_module(r->server)->keyring, r->pool, &h, &sealed) == AFB_OK)
        afb_cookie_set(r, afb_logout_cookie(r, "_idt"), sealed, -1,
                       afb_module(r->server)->endpoint);
    else
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "AFB01430: provider %s: ID token of %lu "
                      "bytes not kept for the logout (at most %d): the provider may ask the "
                      "person to confirm when they sign out", prov->conf.name,
                      (unsigned long)strlen(id_token), AFB_LOGOUT_ID_TOKEN_MAX);
}

/* Where the OP sends the person back after its logout: the logout URL beside the callback. */
static const char *afb_post_logout_uri(request_rec *r, const afb_provider_t *prov)
{
    const char *cb = afb_redirect_uri(r, prov);
    apr_size_t n = strlen(cb), k = strlen("/callback");
    if (n > k && !strcmp(cb + n - k, "/callback"))
        return apr_pstrcat(r->pool, apr_pstrmemdup(r->pool, cb, n - k), "/logout", NULL);
    return apr_pstrcat(r->pool, cb, cb[n - 1] == '/' ? "" : "/", "logout", NULL);
}

/* The kept ID token when it belongs to this session, else NULL; the cookie is cleared. */
static const char *afb_logout_hint_take(request_rec *r, const char *provider, const char *user)
{
    const char *c = afb_cookie_get(r, afb_logout_cookie(r, "_idt"));
    afb_logout_hint_t h;
    if (!c)
        return NULL;
    afb_cookie_clear(r, afb_logout_cookie(r, "_idt"), afb_module(r->server)->endpoint);
    if (afb_logout_hint_open(afb_module(r->server)->keyring, r->pool, c, &h) != AFB_OK ||
        strcmp(h.provider, provider) || strcmp(h.user, user))
        return NULL;
    return h.id_token;
}

static int afb_oidc_logout(request_rec *r, afb_provider_t *prov, const char *user,
                           const char *return_to)
{
    afb_oidc_rt_t *rt = prov->runtime;
    afb_logout_pending_t lp;
    const char *url = NULL, *why = NULL, *sealed = NULL, *hint;
    afb_status_t st;
    if (!rt || !rt->op || !afb_oidc_logout_on(prov) || afb_health_is_down(prov))
        return DECLINED; /* a provider that is down is not waited on: signed out here only */
    st = afb_oidc_end_session_endpoint(rt->op, r->pool, apr_time_now(), &url, &why);
    if (st != AFB_OK) {
        if (st != AFB_ENOENT)
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "AFB01431: provider %s: the session "
                          "at the identity provider cannot be ended (%s); signed out here only",
                          prov->conf.name, why ? why : afb_status_str(st));
        return DECLINED;
    }
    hint = afb_logout_hint_take(r, prov->conf.name, user);
    lp.provider = prov->conf.name;
    lp.state = afb_random_token(r->pool, 24);
    lp.return_to = return_to;
    lp.expires = apr_time_now() + apr_time_from_sec(AFB_LOGOUT_PENDING_LIFETIME);
    if (!lp.state || afb_logout_pending_seal(afb_module(r->server)->keyring, r->pool, &lp,
                                             &sealed) != AFB_OK)
        return DECLINED;
    afb_cookie_set(r, afb_logout_cookie(r, "_lo"), sealed, AFB_LOGOUT_PENDING_LIFETIME,
                   afb_module(r->server)->endpoint);
    return afb_redirect(r, HTTP_MOVED_TEMPORARILY, afb_logout_url(r->pool, url,
                        apr_table_get(prov->conf.params, "client_id"), hint,
                        afb_post_logout_uri(r, prov), lp.state));
}

/* ---- the callback ---- */

static void afb_oidc_failure(request_rec *r, const afb_oidc_pending_t *pend, const char *reason)
{
    afb_auth_failure(r, pend ? pend->provider : NULL, NULL, NULL, reason);
}

static int afb_retry_page(request_rec *r, int status, afb_msg_id_t title, afb_msg_id_t text,
                          const char *return_to)
{
    int (*page)(request_rec *, int, const char *, const char *) =
        status == HTTP_SERVICE_UNAVAILABLE ? afb_page_end : afb_page;
    return page(r, status, afb_t(r, title), apr_pstrcat(r->pool, "<p>", afb_h(r, text),
                "</p><p><a href=\"", afb_html_escape(r->pool, afb_return_sanitize(r->pool,
                return_to)), "\">", afb_h(r, AFB_MSG_OIDC_RETRY), "</a></p>", NULL));
}

/* An OP error code is a short token; anything else is reported as "invalid". */
static const char *afb_op_error(apr_pool_t *p, const char *err)
{
    const char *s;
    if (strlen(err) > 64)
        return "op_error:invalid";
    for (s = err; *s; s++)
        if (!apr_islower(*s) && *s != '_')
            return "op_error:invalid";
    return apr_pstrcat(p, "op_error:", err, NULL);
}

/* Each state is redeemed once, across every child and node sharing the cache. */
static int afb_state_used(request_rec *r, const char *state)
{
    unsigned char mac[32];
    int used = 0;
    if (afb_keyring_mac(afb_module(r->server)->keyring, state, strlen(state), mac) != AFB_OK)
        return 0;
    if (afb_cache_once(r, apr_pstrcat(r->pool, "oidc:", afb_b64url_encode(r->pool, mac, 18),
                                      NULL), apr_time_from_sec(AFB_OIDC_PENDING_LIFETIME),
                       &used) != AFB_OK)
        return 0; /* the OP refuses a second use of the code anyway */
    return used;
}

static int afb_oidc_infra_failure(request_rec *r, afb_provider_t *prov,
                                  const afb_oidc_pending_t *pend, afb_status_t st,
                                  const char *why)
{
    afb_flow_t standby;
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                  "AFB00025: provider %s: sign-in failed at the token endpoint: %s",
                  prov->conf.name, why ? why : "unknown");
    afb_health_passive(prov, why);
    afb_oidc_failure(r, pend, apr_pstrcat(r->pool, "infrastructure:", why ? why : "", NULL));
    /* An HTTP error answer could be provoked with a made-up code: only a failure to reach the
     * OP at all (or a refusal of our own credentials) moves the person on at once; otherwise
     * they retry, and the checker decides within seconds whether the OP is down. */
    if (st == AFB_EANSWER)
        return afb_retry_page(r, HTTP_SERVICE_UNAVAILABLE, AFB_MSG_UNAVAILABLE_TITLE,
                              AFB_MSG_OIDC_DOWN_ANSWER, pend->return_to);
    if (afb_flow_load(r, &standby) == AFB_OK && standby.stage == AFB_FLOW_STANDBY &&
        !strcmp(standby.return_to, pend->return_to))
        return afb_activate_standby(r, &standby);
    return afb_retry_page(r, HTTP_SERVICE_UNAVAILABLE, AFB_MSG_UNAVAILABLE_TITLE,
                          AFB_MSG_OIDC_DOWN_UNREACHABLE, pend->return_to);
}

/* The returned name under the provider's name rules (docs/directives.md, "Name rules"):
 * what the application sees, or NULL for a name this provider may not sign in (a realm that
 * realms= does not list, or no name at all). */
static const char *afb_oidc_user(request_rec *r, const afb_provider_t *prov, const char *claim)
{
    afb_name_t name;
    if (afb_names_apply(r->pool, &prov->conf.names, claim, &name) != AFB_OK)
        return NULL;
    return afb_names_user(r->pool, &prov->conf.names, name.normal);
}

static int afb_oidc_finish(request_rec *r, const afb_oidc_pending_t *pend, const char *code)
{
    afb_provider_t *prov = afb_provider_find(r->server, pend->provider);
    afb_oidc_rt_t *rt = prov ? prov->runtime : NULL;
    afb_oidc_identity_t id;
    afb_flow_t flow;
    const char *why = NULL;
    afb_status_t st;
    if (!rt || !rt->op || prov->ops != &afb_prov_oidc) /* renamed, removed or retyped */
        return afb_flow_lost_page(r, AFB_EEXPIRED, pend->return_to);
    st = afb_oidc_redeem(rt->op, r->pool, apr_time_now(), code, afb_redirect_uri(r, prov),
                         pend->code_verifier, pend->nonce, &id, &why);
    if (afb_oidc_is_infra(st))
        return afb_oidc_infra_failure(r, prov, pend, st, why);
    if (st != AFB_OK) {
        afb_oidc_failure(r, pend, why ? why : afb_status_str(st));
        return afb_retry_page(r, HTTP_FORBIDDEN, AFB_MSG_OIDC_FAILED_TITLE,
                              AFB_MSG_OIDC_FAILED_TEXT, pend->return_to);
    }
    memset(&flow, 0, sizeof(flow));
    if ((flow.user = afb_oidc_user(r, prov, id.user)) == NULL) {
        afb_auth_failure(r, pend->provider, NULL, afb_name_for_log(r->pool, id.user),
                         "unknown_user");
        return afb_retry_page(r, HTTP_FORBIDDEN, AFB_MSG_OIDC_FAILED_TITLE,
                              AFB_MSG_OIDC_ACCOUNT_TEXT, pend->return_to);
    }
    flow.path = pend->provider;
    flow.location = pend->location;
    flow.return_to = pend->return_to;
    flow.degraded = pend->degraded;
    flow.drill = pend->drill;
    flow.lifetime = pend->lifetime;
    afb_logout_hint_keep(r, prov, flow.user, id.id_token);
    /* Honest assurance: the session names a second factor only when the OP says it used one. */
    return afb_issue_session(r, &flow, id.mfa ? prov->conf.name : "none", id.claims);
}

static int afb_callback_handler(request_rec *r)
{
    apr_table_t *q = NULL;
    const char *state, *code, *err, *cookie, *name;
    afb_oidc_pending_t pend;
    afb_status_t st;
    if (r->method_number != M_GET)
        return HTTP_METHOD_NOT_ALLOWED;
    if (!r->args || afb_form_parse(r->pool, r->args, strlen(r->args), 16, &q) != AFB_OK)
        return afb_bad_request(r, AFB_MSG_BADREQ_ANSWER);
    state = apr_table_get(q, "state");
    code = apr_table_get(q, "code");
    err = apr_table_get(q, "error");
    if (!state || !*state || strlen(state) > 256)
        return afb_bad_request(r, AFB_MSG_BADREQ_STATE);
    name = afb_pending_find(r, state);
    cookie = name ? afb_cookie_get(r, name) : NULL;
    if (!cookie)
        return afb_retry_page(r, HTTP_BAD_REQUEST, AFB_MSG_OIDC_EXPIRED_TITLE,
                              AFB_MSG_OIDC_EXPIRED_NONE, "/");
    st = afb_oidc_pending_open(afb_module(r->server)->keyring, r->pool, cookie, state,
                               apr_time_now(), &pend);
    if (st != AFB_OK) {
        afb_oidc_failure(r, NULL, st == AFB_EMISMATCH ? "state_mismatch"
                                        : st == AFB_EEXPIRED ? "state_expired" : "state_invalid");
        return afb_retry_page(r, HTTP_BAD_REQUEST, AFB_MSG_OIDC_EXPIRED_TITLE,
                              AFB_MSG_OIDC_EXPIRED_FOREIGN, "/");
    }
    afb_pending_set(r, name, "", 0);
    if (err) {
        afb_oidc_failure(r, &pend, afb_op_error(r->pool, err));
        return afb_retry_page(r, HTTP_FORBIDDEN, AFB_MSG_OIDC_REFUSED_TITLE,
                              AFB_MSG_OIDC_REFUSED_TEXT, pend.return_to);
    }
    if (!code || !*code || strlen(code) > 2048)
        return afb_bad_request(r, AFB_MSG_BADREQ_CODE);
    if (afb_state_used(r, state)) {
        afb_oidc_failure(r, &pend, "state_replayed");
        return afb_retry_page(r, HTTP_BAD_REQUEST, AFB_MSG_OIDC_USED_TITLE,
                              AFB_MSG_OIDC_USED_TEXT, pend.return_to);
    }
    return afb_oidc_finish(r, &pend, code);
}

const afb_provider_ops_t afb_prov_oidc = {
    .type = "oidc", .roles = AFB_ROLE_FIRST,
    .configure = afb_oidc_configure, .child_init = afb_oidc_child_init,
    .probe = afb_oidc_health_probe,
    .start = afb_oidc_start, .logout = afb_oidc_logout,
    .endpoint = "callback", .handler = afb_callback_handler,
};
