/* How a sign-in ends (afb_session.h): the session cookie issued, or the refusal recorded,
 * and how it is ended by the person (logout). */
#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>

#include "afb_session.h"
#include "afb_readiness.h"
#include "afb_cookie.h"
#include "afb_flow.h"
#include "afb_health.h"
#include "afb_log.h"
#include "afb_page.h"
#include "afb_brand.h"
#include "afb_provider.h"
#include "authfb/logout.h"
#include "authfb/util.h"

APLOG_USE_MODULE(auth_fallback);

/* drill: a drill chose the path or skipped an MFA provider (sealed in the flow). The
 * sign-in also goes to the roster (afb_readiness.c). */
static void afb_auth_success(request_rec *r, const afb_session_t *s, const afb_flow_t *flow)
{
    afb_event_t *ev = afb_person_event(r, "auth.success", s->user, s->path);
    afb_health_counter(afb_provider_find(r->server, s->path), AFB_HEALTH_COUNT_SUCCESS);
    afb_readiness_signed_in(r, s->user, flow->location, s->path);
    afb_event_str(ev, "mfa", s->mfa);
    afb_event_bool(ev, "degraded", s->degraded);
    if (flow->drill)
        afb_event_bool(ev, "drill", 1);
    afb_person_event_emit(r, ev);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  "AFB00021: %s signed in through %s with %s%s", s->user, s->path, s->mfa,
                  s->degraded ? " (fallback path)" : "");
}

void afb_auth_failure(request_rec *r, const char *path, const char *mfa, const char *user,
                      const char *reason)
{
    afb_event_t *ev = afb_person_event(r, "auth.failure", user, path);
    if (path)
        afb_health_counter(afb_provider_find(r->server, path), AFB_HEALTH_COUNT_FAILURE);
    if (mfa)
        afb_event_str(ev, "mfa", mfa);
    afb_event_str(ev, "reason", reason);
    afb_person_event_emit(r, ev);
}

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
    afb_module_t *mod = afb_module(r->server);
    afb_session_t s;
    const char *cookie = NULL;
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
    if (afb_session_seal(mod->keyring, r->pool, &s, &cookie) != AFB_OK && s.n_claims) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "AFB01018: claims of %s not passed on: "
                      "over %d bytes or not plain text", s.user, AFB_SESSION_CLAIMS_BYTES);
        s.n_claims = 0;
        cookie = NULL;
    }
    if (!cookie && afb_session_seal(mod->keyring, r->pool, &s, &cookie) != AFB_OK)
        return afb_unavailable_page(r);
    afb_cookie_set(r, mod->cookie_name, cookie, -1, "/");
    afb_flow_forget(r);
    afb_auth_success(r, &s, flow);
    return afb_redirect(r, HTTP_SEE_OTHER, flow->return_to);
}

const char *afb_logout_cookie(request_rec *r, const char *suffix)
{
    return apr_pstrcat(r->pool, afb_module(r->server)->cookie_name, suffix, NULL);
}

static int afb_signed_out_page(request_rec *r, const char *return_to)
{
    return afb_page(r, HTTP_OK, afb_t(r, AFB_MSG_LOGOUT_TITLE), apr_pstrcat(r->pool,
                    "<p>", afb_h(r, AFB_MSG_LOGOUT_TEXT), "</p><p><a id=\"sign-in-again\" href=\"",
                    afb_html_escape(r->pool, return_to), "\">", afb_h(r, AFB_MSG_LOGOUT_BACK),
                    "</a></p>", NULL));
}

/* The session being ended (an expired one too: it is still theirs), or 0. */
static int afb_logout_session(request_rec *r, afb_session_t *s)
{
    afb_module_t *mod = afb_module(r->server);
    const char *c = afb_cookie_get(r, mod->cookie_name);
    afb_status_t st = c ? afb_session_open(mod->keyring, r->pool, c, apr_time_now(), s)
                        : AFB_ENOENT;
    return st == AFB_OK || st == AFB_EEXPIRED;
}

/* Back from a provider's logout: the local path to offer when the state is the one sent
 * (afb_logout_pending_open), else "/". */
static const char *afb_logout_return(request_rec *r, const char *state)
{
    const char *c = afb_cookie_get(r, afb_logout_cookie(r, "_lo"));
    afb_logout_pending_t lp;
    afb_status_t st;
    if (!c)
        return "/";
    afb_cookie_clear(r, afb_logout_cookie(r, "_lo"), afb_module(r->server)->endpoint);
    st = afb_logout_pending_open(afb_module(r->server)->keyring, r->pool, c, state,
                                 apr_time_now(), &lp);
    if (st != AFB_OK) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "AFB01432: a return from the identity "
                      "provider's logout was not accepted (%s): the signed-out page offers the "
                      "start page", st == AFB_EMISMATCH ? "state differs"
                                    : st == AFB_EEXPIRED ? "expired" : "not ours");
        return "/";
    }
    return lp.return_to;
}

/* The session's provider ends its own session too, when its type can (ops->logout). */
static int afb_logout_at_provider(request_rec *r, const afb_session_t *s, const char *ret)
{
    afb_provider_t *prov = afb_provider_find(r->server, s->path);
    if (!prov || !prov->ops->logout)
        return DECLINED;
    return prov->ops->logout(r, prov, s->user, ret);
}

int afb_logout_handler(request_rec *r)
{
    const char *ret = "/", *state = NULL;
    apr_table_t *q = NULL;
    afb_session_t s;
    afb_event_t *ev;
    int st;
    if (r->args && afb_form_parse(r->pool, r->args, strlen(r->args), 8, &q) == AFB_OK) {
        if (apr_table_get(q, "return"))
            ret = afb_return_sanitize(r->pool, apr_table_get(q, "return"));
        state = apr_table_get(q, "state");
    }
    afb_cookie_clear(r, afb_module(r->server)->cookie_name, "/");
    afb_flow_forget(r);
    if (state) /* back from the identity provider's logout */
        return afb_signed_out_page(r, afb_logout_return(r, state));
    if (!afb_logout_session(r, &s))
        return afb_signed_out_page(r, ret);
    ev = afb_event(r, "auth.logout");
    afb_event_str(ev, "user", s.user);
    afb_event_str(ev, "path", s.path);
    afb_event_emit(r, ev);
    if ((st = afb_logout_at_provider(r, &s, ret)) != DECLINED)
        return st;
    afb_cookie_clear(r, afb_logout_cookie(r, "_idt"), afb_module(r->server)->endpoint);
    return afb_signed_out_page(r, ret);
}
