/* Starting a sign-in at a protected location (routing to the first available path of the
 * chain) and finishing one (choosing the second factor, issuing the session). */
#include <apr_strings.h>
#include <apr_escape.h>
#include <apr_hash.h>
#include <apr_thread_mutex.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>

#include "afb_httpd.h"
#include "afb_endpoints.h"
#include "authfb/event.h"
#include "authfb/log.h"
#include "authfb/route.h"
#include "authfb/totp.h"
#include "authfb/util.h"

APLOG_USE_MODULE(auth_fallback);

afb_event_t *afb_event(request_rec *r, const char *name)
{
    return afb_event_new(r->pool, name, apr_time_now());
}

void afb_event_emit(afb_event_t *ev)
{
    afb_event_write(afb_event_line(ev));
}

const char *afb_client_ip(request_rec *r)
{
    return r->useragent_ip ? r->useragent_ip : r->connection->client_ip;
}

int afb_redirect(request_rec *r, int status, const char *location)
{
    afb_nocache(r);
    apr_table_setn(r->err_headers_out, "Location", location);
    return status;
}

const char *afb_endpoint_url(request_rec *r, const char *name, const char *return_to)
{
    const char *base = apr_pstrcat(r->pool, afb_main_conf()->endpoint, "/", name, NULL);
    if (!return_to)
        return base;
    return apr_pstrcat(r->pool, base, "?return=",
                       afb_pct_encode_path(r->pool, return_to), NULL);
}

afb_status_t afb_flow_save(request_rec *r, const afb_flow_t *flow)
{
    const char *sealed = NULL;
    afb_status_t st = afb_flow_seal(afb_main_conf()->keyring, r->pool, flow, &sealed);
    if (st == AFB_OK)
        afb_cookie_set(r, afb_flow_cookie_name(r), sealed, AFB_FLOW_LIFETIME,
                       afb_main_conf()->endpoint);
    return st;
}

afb_status_t afb_flow_load(request_rec *r, afb_flow_t *flow)
{
    const char *c = afb_cookie_get(r, afb_flow_cookie_name(r));
    if (!c)
        return AFB_ENOENT;
    return afb_flow_open(afb_main_conf()->keyring, r->pool, c, apr_time_now(), flow);
}

void afb_flow_forget(request_rec *r)
{
    afb_cookie_clear(r, afb_flow_cookie_name(r), afb_main_conf()->endpoint);
}

int afb_flow_lost_page(request_rec *r, afb_status_t st, const char *return_to)
{
    const char *href = afb_html_escape(r->pool, afb_return_sanitize(r->pool, return_to));
    return afb_page(r, r->method_number == M_POST ? HTTP_BAD_REQUEST : HTTP_OK,
                    "Sign in",
                    apr_pstrcat(r->pool, "<p>",
                                st == AFB_EEXPIRED ? "This sign-in form has expired."
                                                   : "There is no sign-in in progress.",
                                "</p><p><a href=\"", href, "\">Start signing in</a></p>", NULL));
}

/* ---- starting a sign-in ---- */

int afb_is_browser(request_rec *r)
{
    const char *accept = apr_table_get(r->headers_in, "Accept");
    const char *xrw = apr_table_get(r->headers_in, "X-Requested-With");
    if (xrw && !strcasecmp(xrw, "XMLHttpRequest"))
        return 0;
    return accept && ap_strcasestr(accept, "text/html") != NULL;
}

static int afb_not_browser(request_rec *r)
{
    apr_table_setn(r->err_headers_out, "WWW-Authenticate", "Fallback realm=\"sign-in required\"");
    afb_nocache(r);
    ap_custom_response(r, HTTP_UNAUTHORIZED,
                       "Sign-in required: open this address in a web browser.\n");
    return HTTP_UNAUTHORIZED;
}

/* High-rate events (route.fallback, auth.throttled) are emitted at most once per
 * AFB_EVENT_RATE_EVERY per key and process, with the number of occurrences they stand for,
 * so a login storm cannot flood the event log. */
typedef struct {
    apr_time_t last;
    long pending;
} afb_rate_t;

static apr_thread_mutex_t *afb_rate_lock;
static apr_hash_t *afb_rates;
static apr_pool_t *afb_rate_pool;

static apr_status_t afb_pool_destroy_cleanup(void *data)
{
    apr_pool_destroy(data);
    return APR_SUCCESS;
}

void afb_signin_child_init(apr_pool_t *pchild)
{
    /* Its own pool: pchild's allocator is shared with the worker threads. */
    apr_pool_create_unmanaged_ex(&afb_rate_pool, NULL, NULL);
    apr_pool_cleanup_register(pchild, afb_rate_pool, afb_pool_destroy_cleanup,
                              apr_pool_cleanup_null);
    afb_rates = apr_hash_make(afb_rate_pool);
    apr_thread_mutex_create(&afb_rate_lock, APR_THREAD_MUTEX_DEFAULT, pchild);
}

/* How many fallbacks the event to emit now stands for; 0 = stay quiet for now. */
long afb_event_rate_take(const char *key)
{
    afb_rate_t *rt;
    apr_time_t now = apr_time_now();
    long n = 0;
    if (!afb_rate_lock)
        return 1;
    apr_thread_mutex_lock(afb_rate_lock);
    rt = apr_hash_get(afb_rates, key, APR_HASH_KEY_STRING);
    if (!rt && apr_hash_count(afb_rates) < AFB_EVENT_RATE_KEYS) {
        rt = apr_pcalloc(afb_rate_pool, sizeof(*rt));
        apr_hash_set(afb_rates, apr_pstrdup(afb_rate_pool, key), APR_HASH_KEY_STRING, rt);
    }
    if (rt) {
        rt->pending++;
        if (now - rt->last >= AFB_EVENT_RATE_EVERY) {
            n = rt->pending;
            rt->pending = 0;
            rt->last = now;
        }
    }
    else
        n = 1;
    apr_thread_mutex_unlock(afb_rate_lock);
    return n;
}

static void afb_route_event(request_rec *r, afb_dir_conf_t *dc, int chosen)
{
    afb_event_t *ev;
    apr_array_header_t *skipped;
    const char *chosen_name, *skipped_names;
    long count;
    int i;
    if (chosen <= 0)
        return;
    skipped = apr_array_make(r->pool, chosen, sizeof(const char *));
    for (i = 0; i < chosen; i++) {
        afb_provider_t *prov = APR_ARRAY_IDX(dc->chain, i, afb_provider_t *);
        APR_ARRAY_PUSH(skipped, const char *) = prov->conf.name;
        afb_health_counter(prov, AFB_HEALTH_COUNT_FALLBACK);
    }
    chosen_name = APR_ARRAY_IDX(dc->chain, chosen, afb_provider_t *)->conf.name;
    skipped_names = apr_array_pstrcat(r->pool, skipped, ',');
    count = afb_event_rate_take(apr_pstrcat(r->pool, dc->location, "|", skipped_names, NULL));
    if (!count)
        return;
    ev = afb_event(r, "route.fallback");
    afb_event_str(ev, "location", dc->location);
    afb_event_str(ev, "skipped", skipped_names);
    afb_event_str(ev, "chosen", chosen_name);
    afb_event_int(ev, "count", count);
    afb_event_emit(ev);
}

/* Index of the first path of the chain, from `from` on, that can take a new sign-in, or -1. */
static int afb_route(afb_dir_conf_t *dc, int from)
{
    int available[AFB_FLOW_MAX_MFA];
    int i;
    for (i = 0; i < dc->chain->nelts && i < AFB_FLOW_MAX_MFA; i++) {
        afb_provider_t *prov = APR_ARRAY_IDX(dc->chain, i, afb_provider_t *);
        available[i] = prov->runtime || prov->conf.type != AFB_PROV_OIDC
                       ? !afb_health_is_down(prov) : 0;
    }
    return afb_route_first(available, i, from);
}

static void afb_flow_init(request_rec *r, afb_dir_conf_t *dc, int chosen, afb_flow_t *flow)
{
    int i;
    memset(flow, 0, sizeof(*flow));
    flow->stage = AFB_FLOW_PASSWORD;
    flow->return_to = afb_return_sanitize(r->pool, r->unparsed_uri);
    flow->csrf = afb_random_token(r->pool, 24);
    flow->location = strlen(dc->location) > AFB_SESSION_MAX_FIELD
                     ? apr_pstrndup(r->pool, dc->location, AFB_SESSION_MAX_FIELD) : dc->location;
    flow->path = APR_ARRAY_IDX(dc->chain, chosen, afb_provider_t *)->conf.name;
    flow->degraded = chosen > 0;
    for (i = 0; dc->mfa && i < dc->mfa->nelts && i < AFB_FLOW_MAX_MFA; i++)
        flow->mfa[flow->n_mfa++] = APR_ARRAY_IDX(dc->mfa, i, afb_provider_t *)->conf.name;
    flow->mfa_allow_none = dc->mfa_allow;
    flow->lifetime = flow->degraded ? dc->fallback_lifetime : dc->lifetime;
    flow->fallback_lifetime = dc->fallback_lifetime;
    flow->expires = apr_time_now() + apr_time_from_sec(AFB_FLOW_LIFETIME);
}

static int afb_start_path(request_rec *r, afb_dir_conf_t *dc, int chosen);

/* An OpenID Connect path: redirect to the OP, holding the next available path of the chain
 * as a sealed standby flow in case the OP fails while the person is there. An OP this
 * process cannot reach right now sends the person straight on to the next path. */
static int afb_start_oidc_path(request_rec *r, afb_dir_conf_t *dc, int chosen,
                               const afb_flow_t *flow)
{
    int unreachable = 0, next = afb_route(dc, chosen + 1);
    afb_flow_t standby;
    int status = afb_oidc_start(r, APR_ARRAY_IDX(dc->chain, chosen, afb_provider_t *), flow,
                                &unreachable);
    if (unreachable)
        return next < 0 ? afb_unavailable_page(r, dc->location) : afb_start_path(r, dc, next);
    if (status != HTTP_MOVED_TEMPORARILY)
        return status;
    if (next < 0) {
        if (afb_cookie_get(r, afb_flow_cookie_name(r)))
            afb_flow_forget(r);
        return status;
    }
    afb_flow_init(r, dc, next, &standby);
    standby.stage = AFB_FLOW_STANDBY;
    if (!standby.csrf || afb_flow_save(r, &standby) != AFB_OK)
        return afb_unavailable_page(r, dc->location);
    return status;
}

/* Start the sign-in on path `chosen` of the chain. */
static int afb_start_path(request_rec *r, afb_dir_conf_t *dc, int chosen)
{
    afb_flow_t flow;
    afb_route_event(r, dc, chosen);
    afb_flow_init(r, dc, chosen, &flow);
    if (APR_ARRAY_IDX(dc->chain, chosen, afb_provider_t *)->conf.type == AFB_PROV_OIDC)
        return afb_start_oidc_path(r, dc, chosen, &flow);
    if (!flow.csrf || afb_flow_save(r, &flow) != AFB_OK)
        return afb_unavailable_page(r, dc->location);
    return afb_redirect(r, HTTP_MOVED_TEMPORARILY,
                        afb_endpoint_url(r, "login", flow.return_to));
}

int afb_start_signin(request_rec *r, afb_dir_conf_t *dc)
{
    int chosen;
    if (!dc->chain || !dc->chain->nelts) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "AFB00020: AuthType fallback without AuthFallbackChain for %s", r->uri);
        return afb_unavailable_page(r, dc->location);
    }
    if (!afb_is_browser(r))
        return afb_not_browser(r);
    chosen = afb_route(dc, 0);
    if (chosen < 0) {
        afb_event_t *ev = afb_event(r, "route.unavailable");
        afb_event_str(ev, "location", dc->location);
        afb_event_emit(ev);
        return afb_unavailable_page(r, dc->location);
    }
    return afb_start_path(r, dc, chosen);
}

int afb_activate_standby(request_rec *r, afb_flow_t *standby)
{
    afb_provider_t *prov = afb_provider_find(r->server, standby->path);
    afb_event_t *ev;
    if (!prov || !afb_provider_is_first_factor(prov->conf.type)) { /* gone since sealed */
        afb_flow_forget(r);
        return afb_flow_lost_page(r, AFB_EEXPIRED, standby->return_to);
    }
    ev = afb_event(r, "route.fallback");
    afb_event_str(ev, "location", standby->location);
    afb_event_str(ev, "skipped", "(failed during sign-in)");
    afb_event_str(ev, "chosen", standby->path);
    afb_event_emit(ev);
    afb_flow_forget(r);
    if (prov->conf.type == AFB_PROV_OIDC)
        return afb_oidc_start(r, prov, standby, NULL);
    standby->stage = AFB_FLOW_PASSWORD;
    standby->csrf = afb_random_token(r->pool, 24);
    standby->expires = apr_time_now() + apr_time_from_sec(AFB_FLOW_LIFETIME);
    if (!standby->csrf || afb_flow_save(r, standby) != AFB_OK)
        return afb_unavailable_page(r, standby->location);
    return afb_redirect(r, HTTP_SEE_OTHER, afb_endpoint_url(r, "login", standby->return_to));
}

/* ---- finishing a sign-in ---- */

typedef struct {
    afb_session_t *s;
} afb_claim_fill_t;

static int afb_claim_each(void *baton, const char *key, const char *val)
{
    afb_session_t *s = ((afb_claim_fill_t *)baton)->s;
    if (s->n_claims >= AFB_SESSION_MAX_CLAIMS)
        return 0;
    s->claim_name[s->n_claims] = key;
    s->claim_value[s->n_claims] = val;
    s->n_claims++;
    return 1;
}

int afb_issue_session(request_rec *r, const afb_flow_t *flow, const char *mfa,
                      const apr_table_t *claims)
{
    afb_server_conf_t *conf = afb_main_conf();
    afb_session_t s;
    const char *cookie = NULL;
    afb_event_t *ev;
    apr_time_t now = apr_time_now();
    s.user = flow->user;
    s.path = flow->path;
    s.mfa = mfa;
    s.issued = now;
    s.expires = now + apr_time_from_sec(flow->lifetime);
    s.degraded = flow->degraded;
    s.extended = 0;
    s.n_claims = 0;
    if (claims) {
        afb_claim_fill_t fill = {&s};
        apr_table_do(afb_claim_each, &fill, claims, NULL);
    }
    if (afb_session_seal(conf->keyring, r->pool, &s, &cookie) != AFB_OK && s.n_claims) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "AFB01018: claims of %s not passed on: "
                      "over %d bytes or not plain text", s.user, AFB_SESSION_CLAIMS_BYTES);
        s.n_claims = 0;
        cookie = NULL;
    }
    if (!cookie && afb_session_seal(conf->keyring, r->pool, &s, &cookie) != AFB_OK)
        return afb_unavailable_page(r, flow->location);
    afb_cookie_set(r, conf->cookie_name, cookie, -1, "/");
    afb_flow_forget(r);
    afb_health_counter(afb_provider_find(r->server, s.path), AFB_HEALTH_COUNT_SUCCESS);
    ev = afb_event(r, "auth.success");
    afb_event_str(ev, "user", s.user);
    afb_event_str(ev, "path", s.path);
    afb_event_str(ev, "mfa", s.mfa);
    afb_event_bool(ev, "degraded", s.degraded);
    afb_event_str(ev, "client", afb_client_ip(r));
    afb_event_emit(ev);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  "AFB00021: %s signed in through %s with %s%s", s.user, s.path, s.mfa,
                  s.degraded ? " (fallback path)" : "");
    return afb_redirect(r, HTTP_SEE_OTHER, flow->return_to);
}

/* 1 when this provider could ever take the person: a remote service decides enrolment
 * itself; the local TOTP store only for someone with a secret in it. */
static int afb_mfa_takes(apr_pool_t *p, const afb_provider_t *prov, const char *user)
{
    afb_store_gen_t *gen;
    int enrolled;
    if (prov->conf.type != AFB_PROV_TOTP)
        return 1;
    gen = afb_filestore_acquire(prov->store);
    /* A store without a usable copy could take anyone: the person is not "not enrolled",
     * the provider is down. */
    enrolled = !afb_store_gen_data(gen) || afb_store_gen_find(prov->store, gen, p, user) != NULL;
    afb_filestore_release(prov->store, gen);
    return enrolled;
}

/* 1 when the person can use this MFA provider now: it could take them and is not DOWN. */
static int afb_mfa_usable(apr_pool_t *p, const afb_provider_t *prov, const char *user)
{
    if (afb_health_is_down(prov))
        return 0;
    if (prov->conf.type != AFB_PROV_TOTP && !prov->runtime)
        return 0;
    return afb_mfa_takes(p, prov, user);
}

afb_mfa_chain_t afb_mfa_chain_state(apr_pool_t *p, afb_provider_t *const *chain, int n,
                                    const char *user)
{
    int i, takes = 0;
    for (i = 0; i < n; i++) {
        if (!chain[i])
            continue;
        if (afb_mfa_usable(p, chain[i], user))
            return AFB_MFA_CHAIN_USABLE;
        takes |= afb_mfa_takes(p, chain[i], user);
    }
    return takes ? AFB_MFA_CHAIN_DOWN : AFB_MFA_CHAIN_NOT_ENROLLED;
}

/* The flow's MFA chain as providers (an unknown name is NULL). */
static int afb_flow_mfa_chain(request_rec *r, const afb_flow_t *flow,
                              afb_provider_t **chain)
{
    int i;
    for (i = 0; i < flow->n_mfa && i < AFB_FLOW_MAX_MFA; i++)
        chain[i] = afb_provider_find(r->server, flow->mfa[i]);
    return i;
}

int afb_mfa_none_left(request_rec *r, afb_flow_t *flow)
{
    afb_provider_t *chain[AFB_FLOW_MAX_MFA];
    afb_mfa_chain_t state = afb_mfa_chain_state(r->pool, chain,
                                                afb_flow_mfa_chain(r, flow, chain), flow->user);
    int not_enrolled = state == AFB_MFA_CHAIN_NOT_ENROLLED;
    afb_event_t *ev;
    if (state != AFB_MFA_CHAIN_DOWN || !flow->mfa_allow_none) {
        afb_health_counter(afb_provider_find(r->server, flow->path), AFB_HEALTH_COUNT_FAILURE);
        ev = afb_event(r, "auth.failure");
        afb_event_str(ev, "user", flow->user);
        afb_event_str(ev, "path", flow->path);
        afb_event_str(ev, "reason", not_enrolled ? "mfa_not_enrolled" : "mfa_unavailable");
        afb_event_str(ev, "client", afb_client_ip(r));
        afb_event_emit(ev);
        afb_flow_forget(r);
        if (not_enrolled)
            return afb_page_end(r, HTTP_FORBIDDEN, "Second factor not set up",
                            "<p>No second factor is set up for your account. "
                            "Please contact your helpdesk.</p>");
        return afb_unavailable_page(r, flow->location);
    }
    afb_health_counter(afb_provider_find(r->server, flow->path), AFB_HEALTH_COUNT_BYPASS);
    ev = afb_event(r, "mfa.bypassed");
    afb_event_str(ev, "user", flow->user);
    afb_event_str(ev, "path", flow->path);
    afb_event_str(ev, "location", flow->location);
    afb_event_str(ev, "client", afb_client_ip(r));
    afb_event_emit(ev);
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                  "AFB00022: every MFA provider is down; %s signed in without a second factor "
                  "(AuthFallbackMFAUnavailable allow)", flow->user);
    flow->degraded = 1;
    if (flow->lifetime > flow->fallback_lifetime)
        flow->lifetime = flow->fallback_lifetime;
    return afb_issue_session(r, flow, "none", NULL);
}

int afb_mfa_next(request_rec *r, afb_flow_t *flow, int from)
{
    int i;
    for (i = from; i < flow->n_mfa; i++) {
        afb_provider_t *prov = afb_provider_find(r->server, flow->mfa[i]);
        if (prov && afb_mfa_usable(r->pool, prov, flow->user))
            break;
    }
    if (i >= flow->n_mfa)
        return 0;
    memmove(flow->mfa, flow->mfa + i, sizeof(flow->mfa[0]) * (size_t)(flow->n_mfa - i));
    flow->n_mfa -= i;
    return 1;
}

int afb_after_first_factor(request_rec *r, afb_flow_t *flow)
{
    if (flow->n_mfa == 0)
        return afb_issue_session(r, flow, "none", NULL);
    if (!afb_mfa_next(r, flow, 0))
        return afb_mfa_none_left(r, flow);
    flow->stage = AFB_FLOW_MFA;
    flow->csrf = afb_random_token(r->pool, 24);
    flow->expires = apr_time_now() + apr_time_from_sec(AFB_FLOW_LIFETIME);
    if (!flow->csrf || afb_flow_save(r, flow) != AFB_OK)
        return afb_unavailable_page(r, flow->location);
    return afb_redirect(r, HTTP_SEE_OTHER, afb_endpoint_url(r, "mfa", NULL));
}
