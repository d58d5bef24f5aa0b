/* The password form under the endpoint (/login; afb_login_form.h), for every first factor
 * whose type gives its secret in a form of the module (ops->form "login"): the person's
 * user name and password, judged by the path's verify(). It acts only on what the sealed
 * flow cookie says, carries a CSRF token, is never cached, and says the same thing for an
 * unknown user as for a wrong password. */
#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>

#include "afb_login_form.h"
#include "afb_flow.h"
#include "afb_health.h"
#include "afb_mfa_chain.h"
#include "afb_page.h"
#include "afb_brand.h"
#include "afb_provider.h"
#include "afb_route.h"
#include "afb_session.h"
#include "afb_throttle.h"
#include "authfb/names.h"
#include "authfb/session.h"
#include "authfb/util.h"

APLOG_USE_MODULE(auth_fallback);

static int afb_login_form(request_rec *r, const afb_flow_t *flow, const char *error,
                          const char *user)
{
    /* The action names the page the sign-in is for: a form left open past its lifetime still
     * leads to a fresh sign-in for it (afb_flow_lost_page). */
    const char *action = afb_html_escape(r->pool, afb_endpoint_url(r, "login", flow->return_to));
    return afb_page(r, HTTP_OK, afb_t(r, AFB_MSG_LOGIN_TITLE), apr_pstrcat(r->pool,
        error ? "<p class=\"err\" role=\"alert\">" : "", error ? error : "",
        error ? "</p>" : "",
        flow->degraded ? "<p class=\"note\">" : "",
        flow->degraded ? afb_h(r, AFB_MSG_LOGIN_DEGRADED) : "", flow->degraded ? "</p>" : "",
        "<form method=\"post\" action=\"", action, "\" autocomplete=\"off\">"
        "<input type=\"hidden\" name=\"csrf\" value=\"", afb_html_escape(r->pool, flow->csrf),
        "\"><label for=\"user\">", afb_h(r, AFB_MSG_LOGIN_USER), "</label>"
        "<input type=\"text\" id=\"user\" name=\"user\" autocomplete=\"username\" "
        "autocapitalize=\"none\" autocorrect=\"off\" spellcheck=\"false\" required",
        user ? "" : " autofocus", " value=\"", afb_html_escape(r->pool, user ? user : ""), "\">"
        "<label for=\"password\">", afb_h(r, AFB_MSG_LOGIN_PASSWORD), "</label>"
        "<input type=\"password\" id=\"password\" name=\"password\" "
        "autocomplete=\"current-password\" required", user ? " autofocus" : "", ">"
        "<button type=\"submit\">", afb_h(r, AFB_MSG_LOGIN_SUBMIT), "</button></form>", NULL));
}

/* The failure of a typed name: an unknown one is recorded as typed (normalized, cut and
 * escaped: an operator tells a typo from an attack), a known one by its canonical name. A
 * path that knows why it refused (a directory: a locked account) gives the event's reason
 * and one sentence for the person beside the usual refusal. */
static int afb_login_refused(request_rec *r, afb_flow_t *flow, const afb_provider_t *prov,
                             afb_status_t st, const char *typed, const afb_verdict_t *v)
{
    const char *reason = v->reason ? v->reason
                                   : st == AFB_ENOENT ? "unknown_user" : "bad_password";
    if (st == AFB_ENOENT || !v->who)
        afb_auth_failure(r, flow->path, NULL, afb_name_for_log(r->pool, typed), reason);
    else
        afb_auth_failure(r, flow->path, NULL,
                         afb_names_user(r->pool, &prov->conf.names, v->who), reason);
    return afb_login_form(r, flow, v->notice ? apr_pstrcat(r->pool, afb_h(r, AFB_MSG_LOGIN_BAD),
                                                           " ", v->notice, NULL)
                                             : afb_h(r, AFB_MSG_LOGIN_BAD), typed);
}

/* The path failed while judging the password (a directory that cannot be reached or
 * answers too late), not the person: passive evidence against it, and the sign-in moves to
 * the standby path the flow names (afb_route.c), as for a path at another site. */
static int afb_login_move_on(request_rec *r, afb_flow_t *flow, afb_provider_t *prov,
                             const char *typed, const char *why)
{
    afb_provider_t *next = flow->standby ? afb_provider_find(r->server, flow->standby) : NULL;
    int usable = next && !afb_health_is_down(next);
    afb_flow_t moved = *flow;
    afb_health_passive(prov, why);
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "AFB01330: provider %s could not check the "
                  "password of %s (%s); %s%s", prov->conf.name,
                  afb_name_for_log(r->pool, typed), why ? why : "failed",
                  usable ? "moving the sign-in to " : "no path left",
                  usable ? next->conf.name : "");
    if (!usable)
        return afb_unavailable_page(r);
    moved.path = flow->standby;
    moved.standby = NULL;
    moved.degraded = 1;
    moved.lifetime = flow->fallback_lifetime;
    return afb_activate_standby(r, &moved);
}

/* The path's verify_form() when it has one, else verify(). */
static afb_status_t afb_login_verify(request_rec *r, afb_provider_t *prov, const char *key,
                                     const char *password, afb_verdict_t *v)
{
    memset(v, 0, sizeof(*v));
    if (prov->ops->verify_form)
        return prov->ops->verify_form(r, prov, key, password, v);
    return prov->ops->verify(r, prov, key, password, &v->who, &v->why);
}

/* Judge the name and password with the path's verify(). The path's name rules come first:
 * throttling, lookup and logging see one name per person; a name the rules refuse is nobody
 * here (counted per client only). */
static int afb_login_judge(request_rec *r, afb_flow_t *flow, afb_provider_t *prov,
                           const char *user, const char *password)
{
    afb_verdict_t v;
    afb_attempt_t att;
    afb_name_t name;
    afb_status_t st;
    int status = OK;
    if (afb_names_apply(r->pool, &prov->conf.names, user, &name) != AFB_OK)
        name.key = NULL;
    if (afb_throttled(r, flow, name.key, user, &att, &status))
        return status;
    st = afb_login_verify(r, prov, name.key, password, &v);
    if (st == AFB_OK || st == AFB_ERR || st == AFB_EIO || st == AFB_ETIMEOUT)
        afb_attempt_done(&att);
    if (st == AFB_EIO || st == AFB_ETIMEOUT) /* the provider failed, not the person */
        return afb_login_move_on(r, flow, prov, user, v.why);
    if (st == AFB_OK) {
        flow->user = afb_names_user(r->pool, &prov->conf.names, v.who);
        return afb_after_first_factor(r, flow);
    }
    if (st == AFB_ERR)
        return afb_unavailable_page(r);
    return afb_login_refused(r, flow, prov, st, user, &v);
}

static int afb_login_post(request_rec *r, afb_flow_t *flow)
{
    int status = OK;
    apr_table_t *form = afb_checked_form(r, flow, &status);
    afb_provider_t *prov = afb_provider_find(r->server, flow->path);
    const char *user, *password;
    if (!form)
        return status;
    if (!prov || !prov->ops->form || (!prov->ops->verify && !prov->ops->verify_form))
        return afb_unavailable_page(r);
    user = apr_table_get(form, "user");
    password = apr_table_get(form, "password");
    if (!user || !password || !*user || strlen(user) > AFB_SESSION_MAX_FIELD ||
        strlen(password) > prov->ops->max_secret)
        return afb_bad_request(r, AFB_MSG_BADREQ_INCOMPLETE);
    if (afb_health_is_down(prov)) {
        /* The path went down (e.g. a stale store) since the form was shown: route again. */
        afb_flow_forget(r);
        return afb_redirect(r, HTTP_SEE_OTHER, flow->return_to);
    }
    return afb_login_judge(r, flow, prov, user, password);
}

static int afb_login_show(request_rec *r, afb_flow_t *flow)
{
    return afb_login_form(r, flow, NULL, NULL);
}

int afb_login_handler(request_rec *r)
{
    return afb_form_serve(r, AFB_FLOW_PASSWORD, afb_login_post, afb_login_show);
}
