/* Starting a sign-in at a protected location (afb_route.h): the first available path of
 * the chain (route.fallback events for the paths passed over), the sealed flow, and the
 * person sent to the path's form or to its site; the standby path taken when the path
 * chosen fails during the sign-in. Drills (override file `NAME drill ...`,
 * docs/operations.md "Before the outage") are decided here, once per new sign-in, from a
 * random draw of the server and the connection's address, and sealed in the flow. */
#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>

#include "afb_route.h"
#include "afb_cookie.h"
#include "afb_flow.h"
#include "afb_health.h"
#include "afb_log.h"
#include "afb_page.h"
#include "afb_provider.h"
#include "authfb/route.h"
#include "authfb/session.h"
#include "authfb/util.h"

APLOG_USE_MODULE(auth_fallback);

static int afb_not_browser(request_rec *r)
{
    apr_table_setn(r->err_headers_out, "WWW-Authenticate", "Fallback realm=\"sign-in required\"");
    afb_nocache(r);
    ap_custom_response(r, HTTP_UNAUTHORIZED,
                       "Sign-in required: open this address in a web browser.\n");
    return HTTP_UNAUTHORIZED;
}

/* This sign-in's draw for drills of a share: drawn by the server once per request that
 * starts a flow, never taken from the request. */
static uint32_t afb_drill_draw(request_rec *r)
{
    void *v = NULL;
    uint32_t *d;
    apr_pool_userdata_get(&v, "afb-drill-draw", r->pool);
    if (v)
        return *(uint32_t *)v;
    d = apr_palloc(r->pool, sizeof(*d));
    if (apr_generate_random_bytes((unsigned char *)d, sizeof(*d)) != APR_SUCCESS)
        *d = UINT32_MAX; /* in no share but 100% */
    apr_pool_userdata_setn(d, "afb-drill-draw", NULL, r->pool);
    return *d;
}

/* A drill of prov applies to this new sign-in (and prov is not really DOWN). */
static int afb_drilled(request_rec *r, const afb_provider_t *prov)
{
    return afb_health_drilled(prov, r->useragent_ip, afb_drill_draw(r));
}

static void afb_route_event(request_rec *r, afb_dir_conf_t *dc, int chosen, int drill)
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
        afb_health_counter(prov, drill && !afb_health_is_down(prov) ? AFB_HEALTH_COUNT_DRILL
                                                                     : AFB_HEALTH_COUNT_FALLBACK);
    }
    chosen_name = APR_ARRAY_IDX(dc->chain, chosen, afb_provider_t *)->conf.name;
    skipped_names = apr_array_pstrcat(r->pool, skipped, ',');
    count = afb_event_rate_take(r, apr_pstrcat(r->pool, dc->location, "|", skipped_names,
                                               drill ? "|drill" : "", NULL));
    if (!count)
        return;
    ev = afb_event(r, "route.fallback");
    afb_event_str(ev, "location", dc->location);
    afb_event_str(ev, "skipped", skipped_names);
    afb_event_str(ev, "chosen", chosen_name);
    afb_event_int(ev, "count", count);
    if (drill)
        afb_event_bool(ev, "drill", 1);
    afb_event_emit(r, ev);
}

/* Index of the first path of the chain, from `from` on, that can take this new sign-in, or
 * -1; *drill (may be NULL): 1 when a drill, not an outage, decided it. */
static int afb_route(request_rec *r, afb_dir_conf_t *dc, int from, int *drill)
{
    int available[AFB_FLOW_MAX_MFA], up[AFB_FLOW_MAX_MFA];
    int i, chosen;
    for (i = 0; i < dc->chain->nelts && i < AFB_FLOW_MAX_MFA; i++) {
        afb_provider_t *prov = APR_ARRAY_IDX(dc->chain, i, afb_provider_t *);
        up[i] = !afb_health_is_down(prov);
        available[i] = up[i] && (i < from || !afb_drilled(r, prov));
    }
    chosen = afb_route_first(available, i, from);
    if (drill)
        *drill = chosen != afb_route_first(up, i, from);
    return chosen;
}

/* The location's MFA chain for the flow, without the providers a drill takes out of this
 * sign-in (a path that asks for no second factor ignores them). */
static void afb_flow_mfa(request_rec *r, afb_dir_conf_t *dc, afb_flow_t *flow, int wants_mfa,
                         int count)
{
    int i;
    for (i = 0; dc->mfa && i < dc->mfa->nelts && i < AFB_FLOW_MAX_MFA; i++) {
        afb_provider_t *prov = APR_ARRAY_IDX(dc->mfa, i, afb_provider_t *);
        if (wants_mfa && afb_drilled(r, prov) && !afb_health_is_down(prov)) {
            flow->drill = 1;
            if (count)
                afb_health_counter(prov, AFB_HEALTH_COUNT_DRILL);
            continue;
        }
        flow->mfa[flow->n_mfa++] = prov->conf.name;
    }
}

/* The flow of a new sign-in on path `chosen` (drill: a drill chose it); a standby flow's
 * drilled MFA providers are not counted again. */
static void afb_flow_init(request_rec *r, afb_dir_conf_t *dc, int chosen, int drill,
                          int standby, afb_flow_t *flow)
{
    afb_provider_t *path = APR_ARRAY_IDX(dc->chain, chosen, afb_provider_t *);
    memset(flow, 0, sizeof(*flow));
    flow->stage = AFB_FLOW_PASSWORD;
    flow->return_to = afb_return_sanitize(r->pool, r->unparsed_uri);
    flow->csrf = afb_random_token(r->pool, 24);
    flow->location = strlen(dc->location) > AFB_SESSION_MAX_FIELD
                     ? apr_pstrndup(r->pool, dc->location, AFB_SESSION_MAX_FIELD) : dc->location;
    flow->path = path->conf.name;
    flow->degraded = chosen > 0;
    flow->drill = drill;
    afb_flow_mfa(r, dc, flow, afb_provider_has(path, AFB_ROLE_WANTS_MFA), !standby);
    flow->mfa_allow_none = dc->mfa_allow;
    flow->lifetime = flow->degraded ? dc->fallback_lifetime : dc->lifetime;
    flow->fallback_lifetime = dc->fallback_lifetime;
    flow->expires = apr_time_now() + apr_time_from_sec(AFB_FLOW_LIFETIME);
}

/* A path at another site (an OpenID Provider): its start() sends the person there, and the
 * next available path of the chain is held as a sealed standby flow in case that site
 * fails while the person is there. A site this process cannot reach right now sends the
 * person straight on to the next path. */
static int afb_start_path(request_rec *r, afb_dir_conf_t *dc, int chosen, int drill);

static int afb_start_away(request_rec *r, afb_dir_conf_t *dc, int chosen,
                          const afb_flow_t *flow)
{
    int unreachable = 0, next = afb_route(r, dc, chosen + 1, NULL);
    afb_provider_t *prov = APR_ARRAY_IDX(dc->chain, chosen, afb_provider_t *);
    afb_flow_t standby;
    int status = prov->ops->start(r, prov, flow, &unreachable);
    if (unreachable)
        return next < 0 ? afb_unavailable_page(r) : afb_start_path(r, dc, next, flow->drill);
    if (status != HTTP_MOVED_TEMPORARILY)
        return status;
    if (next < 0) {
        if (afb_cookie_get(r, afb_flow_cookie_name(r)))
            afb_flow_forget(r);
        return status;
    }
    afb_flow_init(r, dc, next, flow->drill, 1, &standby);
    standby.stage = AFB_FLOW_STANDBY;
    if (!standby.csrf || afb_flow_save(r, &standby) != AFB_OK)
        return afb_unavailable_page(r);
    return status;
}

/* A path given in the module's form names the next available path in the flow: should it
 * fail while the person fills the form (a directory that stops answering), the module --
 * never the client -- moves the sign-in there (afb_login_form.c). */
static void afb_hold_standby(request_rec *r, afb_dir_conf_t *dc, int chosen, afb_flow_t *flow)
{
    int next = afb_route(r, dc, chosen + 1, NULL);
    if (next >= 0)
        flow->standby = APR_ARRAY_IDX(dc->chain, next, afb_provider_t *)->conf.name;
}

/* Start the sign-in on path `chosen` of the chain. */
static int afb_start_path(request_rec *r, afb_dir_conf_t *dc, int chosen, int drill)
{
    afb_provider_t *prov = APR_ARRAY_IDX(dc->chain, chosen, afb_provider_t *);
    afb_flow_t flow;
    afb_route_event(r, dc, chosen, drill);
    afb_flow_init(r, dc, chosen, drill, 0, &flow);
    if (prov->ops->start)
        return afb_start_away(r, dc, chosen, &flow);
    afb_hold_standby(r, dc, chosen, &flow);
    if (!flow.csrf || afb_flow_save(r, &flow) != AFB_OK)
        return afb_unavailable_page(r);
    return afb_redirect(r, HTTP_MOVED_TEMPORARILY,
                        afb_endpoint_url(r, prov->ops->form, flow.return_to));
}

int afb_start_signin(request_rec *r, afb_dir_conf_t *dc)
{
    int chosen, drill = 0;
    if (!dc->chain || !dc->chain->nelts) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "AFB00020: AuthType fallback without AuthFallbackChain for %s", r->uri);
        return afb_unavailable_page(r);
    }
    if (!afb_is_browser(r))
        return afb_not_browser(r);
    chosen = afb_route(r, dc, 0, &drill);
    if (chosen < 0) {
        afb_event_t *ev = afb_event(r, "route.unavailable");
        afb_event_str(ev, "location", dc->location);
        if (drill)
            afb_event_bool(ev, "drill", 1);
        afb_event_emit(r, ev);
        return afb_unavailable_page(r);
    }
    return afb_start_path(r, dc, chosen, drill);
}

int afb_activate_standby(request_rec *r, afb_flow_t *standby)
{
    afb_provider_t *prov = afb_provider_find(r->server, standby->path);
    afb_event_t *ev;
    if (!afb_provider_has(prov, AFB_ROLE_FIRST)) { /* gone since sealed */
        afb_flow_forget(r);
        return afb_flow_lost_page(r, AFB_EEXPIRED, standby->return_to);
    }
    ev = afb_event(r, "route.fallback");
    afb_event_str(ev, "location", standby->location);
    afb_event_str(ev, "skipped", "(failed during sign-in)");
    afb_event_str(ev, "chosen", standby->path);
    afb_event_emit(r, ev);
    afb_flow_forget(r);
    if (prov->ops->start)
        return prov->ops->start(r, prov, standby, NULL);
    standby->stage = AFB_FLOW_PASSWORD;
    standby->csrf = afb_random_token(r->pool, 24);
    standby->expires = apr_time_now() + apr_time_from_sec(AFB_FLOW_LIFETIME);
    if (!standby->csrf || afb_flow_save(r, standby) != AFB_OK)
        return afb_unavailable_page(r);
    return afb_redirect(r, HTTP_SEE_OTHER,
                        afb_endpoint_url(r, prov->ops->form, standby->return_to));
}
