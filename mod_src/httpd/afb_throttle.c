/* Throttling of failed attempts (AuthFallbackThrottle; afb_throttle.h): per user and per
 * client address, over the shared cache. */
#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>

#include "afb_throttle.h"
#include "afb_cache.h"
#include "afb_health.h"
#include "afb_log.h"
#include "afb_page.h"
#include "afb_brand.h"
#include "afb_provider.h"
#include "authfb/names.h"

APLOG_USE_MODULE(auth_fallback);

/* A client is keyed by the network its address is counted under (AuthFallbackThrottle
 * ipv4_prefix= / ipv6_prefix=); a user by a MAC of their name (afb_cache_user_key). */
static const char *afb_client_key(request_rec *r)
{
    afb_module_t *mod = afb_module(r->server);
    return apr_pstrcat(r->pool, "thr:c:",
                       afb_throttle_client_net(r->pool, afb_client_ip(r),
                                               mod->throttle_v4_prefix,
                                               mod->throttle_v6_prefix), NULL);
}

static afb_throttle_policy_t afb_policy(request_rec *r, int per_user)
{
    afb_module_t *mod = afb_module(r->server);
    afb_throttle_policy_t pol;
    pol.max_failures = per_user ? mod->throttle_user : mod->throttle_client;
    pol.window = mod->throttle_window;
    return pol;
}


static afb_status_t afb_attempt_reserve(afb_cache_t *c, void *baton)
{
    afb_attempt_t *a = baton;
    apr_pool_t *p = a->r->pool;
    apr_time_t now = apr_time_now();
    int uread = 0, cread;
    afb_status_t ust = AFB_OK, cst;
    /* A cache outage (nothing can be read) does not lock everyone out; logged by the cache. */
    if (a->ukey)
        uread = afb_throttle_check(c, p, a->ukey, &a->upol, now, &a->ublocked,
                                   &a->uwait) == AFB_OK;
    cread = afb_throttle_check(c, p, a->ckey, &a->cpol, now, &a->cblocked, &a->cwait) == AFB_OK;
    a->ublocked &= uread;
    a->cblocked &= cread;
    if (a->ublocked || a->cblocked)
        return AFB_OK;
    if (a->ukey)
        ust = afb_throttle_fail(c, p, a->ukey, &a->upol, now);
    cst = afb_throttle_fail(c, p, a->ckey, &a->cpol, now);
    a->reserved = 1;
    /* A store that answers but cannot keep a new count (the table is full) would let every
     * guess through uncounted: this attempt is refused instead (docs/operations.md). */
    if ((uread && ust != AFB_OK) || (cread && cst != AFB_OK)) {
        if (a->ukey && ust == AFB_OK) /* give back only the counts that were kept */
            (void)!afb_throttle_refund(c, p, a->ukey, &a->upol, now);
        if (cst == AFB_OK)
            (void)!afb_throttle_refund(c, p, a->ckey, &a->cpol, now);
        a->reserved = 0;
        a->unkept = 1;
    }
    return AFB_OK;
}

static afb_status_t afb_attempt_refund(afb_cache_t *c, void *baton)
{
    afb_attempt_t *a = baton;
    apr_time_t now = apr_time_now();
    if (a->ukey)
        (void)!afb_throttle_refund(c, a->r->pool, a->ukey, &a->upol, now);
    (void)!afb_throttle_refund(c, a->r->pool, a->ckey, &a->cpol, now);
    return AFB_OK;
}

/* Give back the attempt counted in advance. */
void afb_attempt_done(afb_attempt_t *a)
{
    if (a->reserved)
        (void)!afb_cache_locked(a->r, afb_attempt_refund, a);
    a->reserved = 0;
}

static void afb_throttled_event(request_rec *r, const afb_flow_t *flow, const char *user,
                                const afb_attempt_t *a)
{
    const char *scope = a->ublocked ? "user" : "client";
    long count = afb_event_rate_take(r, apr_pstrcat(r->pool, "throttled|", scope, NULL));
    afb_event_t *ev;
    afb_health_counter(afb_provider_find(r->server, flow->path), AFB_HEALTH_COUNT_THROTTLED);
    if (!count)
        return;
    ev = afb_event(r, "auth.throttled");
    afb_event_str(ev, "user", user);
    afb_event_str(ev, "path", flow->path);
    afb_event_str(ev, "scope", scope);
    afb_event_str(ev, "client", afb_client_ip(r));
    afb_event_int(ev, "count", count);
    afb_event_emit(r, ev);
}

/* The shared table is full: the attempt cannot be counted, so it is not judged. */
static int afb_attempt_unkept(request_rec *r, int *status)
{
    long count = afb_event_rate_take(r, "cache.refused");
    if (count)
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "AFB01151: AuthFallbackCache is full: %ld "
                      "sign-in attempt(s) refused because their count could not be kept; "
                      "raise the number of entries (docs/operations.md)", count);
    apr_table_setn(r->err_headers_out, "Retry-After", apr_ltoa(r->pool, AFB_RETRY_AFTER));
    *status = afb_page_end(r, HTTP_SERVICE_UNAVAILABLE, afb_t(r, AFB_MSG_BUSY_TITLE),
                           apr_pstrcat(r->pool, "<p>", afb_msg_html(r->pool, afb_lang(r),
                               AFB_MSG_BUSY_TEXT, "seconds", apr_ltoa(r->pool, AFB_RETRY_AFTER),
                               NULL), "</p>", NULL));
    return 1;
}

/* While the cache is DOWN (its probes fail), a store that looks empty is an outage, not a
 * full table: attempts go through uncounted, as documented (docs/directives.md,
 * AuthFallbackCache), and that is logged. */
static int afb_attempt_uncounted(request_rec *r)
{
    long count = afb_event_rate_take(r, "cache.down.throttle");
    if (count)
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "AFB01209: AuthFallbackCache is DOWN: "
                      "%ld sign-in attempt(s) not counted by throttling", count);
    return 0;
}

/* Too many attempts: how long to wait (as Retry-After says) and the way back to the form. */
static int afb_throttled_page(request_rec *r, const afb_flow_t *flow, long wait)
{
    const char *secs = apr_ltoa(r->pool, wait);
    apr_table_setn(r->err_headers_out, "Retry-After", secs);
    return afb_page_end(r, HTTP_TOO_MANY_REQUESTS, afb_t(r, AFB_MSG_THROTTLED_TITLE),
        apr_pstrcat(r->pool, "<p>", afb_h(r, AFB_MSG_THROTTLED_TEXT), "</p><p class=\"err\" "
                    "role=\"alert\">", afb_msg_html(r->pool, afb_lang(r), AFB_MSG_THROTTLED_WAIT,
                                                    "seconds", secs, NULL),
                    "</p><p><a href=\"", afb_html_escape(r->pool, afb_endpoint_url(r,
                    flow->stage == AFB_FLOW_MFA ? "mfa" : "login", flow->return_to)), "\">",
                    afb_h(r, AFB_MSG_BACK_TO_FORM), "</a></p>", NULL));
}

/* Count this attempt, or 1 (and the 429 page in *status) when the user or client is
 * throttled, or the 503 page when the count cannot be kept. */
int afb_throttled(request_rec *r, const afb_flow_t *flow, const char *key, const char *shown,
                  afb_attempt_t *a, int *status)
{
    memset(a, 0, sizeof(*a));
    a->r = r;
    a->ukey = key ? afb_cache_user_key(r, "thr:u:", key) : NULL;
    a->ckey = afb_client_key(r);
    a->upol = afb_policy(r, 1);
    a->cpol = afb_policy(r, 0);
    if (afb_health_cache_down(afb_module(r->server)))
        return afb_attempt_uncounted(r);
    if (afb_cache_locked(r, afb_attempt_reserve, a) != AFB_OK)
        return 0;
    if (a->unkept)
        return afb_attempt_unkept(r, status);
    if (!a->ublocked && !a->cblocked)
        return 0;
    afb_throttled_event(r, flow, afb_name_for_log(r->pool, shown), a);
    *status = afb_throttled_page(r, flow, a->uwait > a->cwait ? a->uwait : a->cwait);
    return 1;
}

