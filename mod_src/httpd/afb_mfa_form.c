/* The second-factor form under the endpoint (/mfa; afb_mfa_form.h): the page of the
 * provider whose turn it is, and the code it posts, checked by that provider's verify().
 * It acts only on what the sealed flow cookie says, carries a CSRF token, and is never
 * cached. */
#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>

#include "afb_mfa_form.h"
#include "afb_cache.h"
#include "afb_flow.h"
#include "afb_health.h"
#include "afb_mfa_chain.h"
#include "afb_page.h"
#include "afb_brand.h"
#include "afb_provider.h"
#include "afb_session.h"
#include "afb_throttle.h"
#include "authfb/names.h"
#include "authfb/util.h"

APLOG_USE_MODULE(auth_fallback);

static int afb_code_form(request_rec *r, const afb_flow_t *flow, const char *error)
{
    const char *action = afb_html_escape(r->pool, afb_endpoint_url(r, "mfa", flow->return_to));
    /* Start over: the page itself again, which begins a new sign-in (a new flow replaces
     * this one), e.g. for someone else or with another way to sign in. */
    const char *restart = afb_html_escape(r->pool, afb_return_sanitize(r->pool, flow->return_to));
    return afb_page(r, HTTP_OK, afb_t(r, AFB_MSG_MFA_TITLE), apr_pstrcat(r->pool,
        error ? "<p class=\"err\" role=\"alert\">" : "", error ? error : "",
        error ? "</p>" : "", "<p>",
        afb_msg_html(r->pool, afb_lang(r), AFB_MSG_MFA_INTRO, "user", flow->user, NULL), "</p>"
        "<form method=\"post\" action=\"", action, "\" autocomplete=\"off\">"
        "<input type=\"hidden\" name=\"csrf\" value=\"", afb_html_escape(r->pool, flow->csrf),
        "\"><label for=\"code\">", afb_h(r, AFB_MSG_MFA_CODE), "</label>"
        "<input type=\"text\" id=\"code\" name=\"code\" inputmode=\"numeric\" "
        "autocomplete=\"one-time-code\" pattern=\"[0-9]*\" maxlength=\"8\" required autofocus>"
        "<button type=\"submit\">", afb_h(r, AFB_MSG_MFA_SUBMIT), "</button></form>"
        "<p class=\"note\"><a id=\"start-over\" href=\"", restart, "\">",
        afb_h(r, AFB_MSG_MFA_RESTART), "</a></p>", NULL));
}

/* The page of the provider whose turn it is: its own, or the code form. */
static int afb_mfa_page(request_rec *r, const afb_flow_t *flow, const char *error)
{
    afb_provider_t *prov = afb_provider_find(r->server, flow->mfa[0]);
    if (prov && prov->ops->mfa_page)
        return prov->ops->mfa_page(r, prov, flow, error);
    return afb_code_form(r, flow, error);
}

/* ---- a code accepted once ---- */

/* One single-use record per person and code across every MFA provider of the chain: a code
 * RADIUS or privacyIDEA accepted is not accepted again by a local store holding the same
 * secret (when the remote service fails while the code is still valid), nor the reverse. */
static const char *afb_code_key(request_rec *r, const char *user, const char *code)
{
    return afb_cache_user_key(r, "code:", apr_pstrcat(r->pool, user, "\n", code, NULL));
}

/* Mark the person's code as used (AFB_REMOTE_CODE_TTL outlives any code's validity):
 * AFB_EREPLAY when it already was, AFB_ERR when single use cannot be promised (refused). */
static afb_status_t afb_code_once(request_rec *r, const char *user, const char *code)
{
    const char *key = afb_code_key(r, user, code);
    int used = 0;
    if (!key || afb_cache_once(r, key, apr_time_from_sec(AFB_REMOTE_CODE_TTL), &used) != AFB_OK)
        return AFB_ERR;
    return used ? AFB_EREPLAY : AFB_OK;
}

/* A code already used is not even asked again of a remote service (many, rlm_totp among
 * them, would take it again within its time step). */
static int afb_code_used(request_rec *r, const char *user, const char *code)
{
    const char *key = afb_code_key(r, user, code);
    afb_cache_t *c = afb_cache_for(r);
    unsigned char v[1];
    size_t len = sizeof(v);
    return key && c->get(c, key, v, &len, NULL) == AFB_OK;
}

static afb_status_t afb_mfa_verify(request_rec *r, afb_provider_t *prov, const char *user,
                                   const char *code, const char **why)
{
    const char *who = NULL;
    afb_status_t st;
    if (!prov->ops->verify)
        return AFB_ERR;
    if (afb_provider_has(prov, AFB_ROLE_CODES_ONCE) && afb_code_used(r, user, code))
        return AFB_EREPLAY;
    st = prov->ops->verify(r, prov, user, code, &who, why);
    return st == AFB_OK ? afb_code_once(r, user, code) : st;
}

/* ---- the POST ---- */

/* Check the code with the first provider of the flow's chain that can take it: one that
 * is DOWN is passed over (nobody waits on it), one that fails (not the person) hands the
 * same code to the next. 0 with *prov and *st set; 1 with the page to send in *page. */
static int afb_mfa_check(request_rec *r, afb_flow_t *flow, const char *code,
                         afb_provider_t **prov, afb_status_t *st, int *moved, int *page)
{
    for (;;) {
        const char *why = NULL;
        int from = 0; /* where the next provider is looked for */
        *prov = afb_provider_find(r->server, flow->mfa[0]);
        if (!*prov) {
            *page = afb_unavailable_page(r);
            return 1;
        }
        if (!afb_health_is_down(*prov)) {
            *st = afb_mfa_verify(r, *prov, flow->user, code, &why);
            if (*st != AFB_EIO && *st != AFB_ETIMEOUT)
                return 0;
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "AFB01015: provider %s could not "
                          "check the code of %s (%s); trying the next MFA provider",
                          (*prov)->conf.name, flow->user, why ? why : afb_status_str(*st));
            afb_health_passive(*prov, why);
            from = 1;
        }
        if (!afb_mfa_next(r, flow, from)) {
            *page = afb_mfa_none_left(r, flow);
            return 1;
        }
        *moved = 1;
    }
}

/* The person's throttle key at the second factor: the same as at the password form, the
 * canonical name under the first path's name rules. */
static const char *afb_flow_user_key(request_rec *r, const afb_flow_t *flow)
{
    afb_provider_t *path = afb_provider_find(r->server, flow->path);
    afb_name_t name;
    if (path && afb_names_apply(r->pool, &path->conf.names, flow->user, &name) == AFB_OK)
        return name.key;
    return flow->user;
}

static apr_size_t afb_mfa_max_code(request_rec *r, const afb_flow_t *flow)
{
    afb_provider_t *prov = afb_provider_find(r->server, flow->mfa[0]);
    return prov && prov->ops->max_secret ? prov->ops->max_secret : AFB_CODE_MAX_BYTES;
}

static int afb_mfa_post(request_rec *r, afb_flow_t *flow)
{
    int status = OK, moved = 0;
    apr_table_t *form = afb_checked_form(r, flow, &status);
    afb_provider_t *prov = NULL;
    const char *code;
    afb_attempt_t att;
    afb_status_t st = AFB_ERR;
    if (!form)
        return status;
    code = apr_table_get(form, "code");
    if (!code || !*code || strlen(code) > afb_mfa_max_code(r, flow))
        return afb_bad_request(r, AFB_MSG_BADREQ_INCOMPLETE);
    if (afb_throttled(r, flow, afb_flow_user_key(r, flow), flow->user, &att, &status))
        return status;
    if (afb_mfa_check(r, flow, code, &prov, &st, &moved, &status)) {
        afb_attempt_done(&att);
        return status;
    }
    if (st == AFB_OK || st == AFB_ERR)
        afb_attempt_done(&att);
    if (st == AFB_OK)
        return afb_issue_session(r, flow, prov->conf.name, NULL);
    if (moved) /* the next attempt starts with the provider that answered */
        (void)!afb_flow_save(r, flow);
    if (st == AFB_ERR) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "AFB00023: single-use state of codes "
                      "unavailable; code for %s not accepted", flow->user);
        return afb_mfa_page(r, flow, afb_h(r, AFB_MSG_MFA_UNCHECKED));
    }
    afb_auth_failure(r, flow->path, flow->mfa[0], flow->user,
                     st == AFB_EREPLAY ? "code_replayed" : "bad_code");
    return afb_mfa_page(r, flow, afb_h(r, AFB_MSG_MFA_BAD));
}

static int afb_mfa_show(request_rec *r, afb_flow_t *flow)
{
    return afb_mfa_page(r, flow, NULL);
}

int afb_mfa_handler(request_rec *r)
{
    return afb_form_serve(r, AFB_FLOW_MFA, afb_mfa_post, afb_mfa_show);
}
