/* The sign-in in progress (afb_flow.h): its sealed cookie, and how a form of the module
 * finds it and checks the CSRF token of a POST. */
#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>

#include "afb_flow.h"
#include "afb_cookie.h"
#include "afb_page.h"
#include "afb_brand.h"
#include "afb_provider.h"
#include "authfb/util.h"

APLOG_USE_MODULE(auth_fallback);

afb_status_t afb_flow_save(request_rec *r, const afb_flow_t *flow)
{
    const char *sealed = NULL;
    afb_status_t st = afb_flow_seal(afb_module(r->server)->keyring, r->pool, flow, &sealed);
    if (st == AFB_OK)
        afb_cookie_set(r, afb_flow_cookie_name(r), sealed, AFB_FLOW_LIFETIME,
                       afb_module(r->server)->endpoint);
    return st;
}

afb_status_t afb_flow_load(request_rec *r, afb_flow_t *flow)
{
    const char *c = afb_cookie_get(r, afb_flow_cookie_name(r));
    if (!c)
        return AFB_ENOENT;
    return afb_flow_open(afb_module(r->server)->keyring, r->pool, c, apr_time_now(), flow);
}

void afb_flow_forget(request_rec *r)
{
    afb_cookie_clear(r, afb_flow_cookie_name(r), afb_module(r->server)->endpoint);
}

int afb_flow_lost_page(request_rec *r, afb_status_t st, const char *return_to)
{
    const char *href = afb_html_escape(r->pool, afb_return_sanitize(r->pool, return_to));
    /* A form sent after its sign-in expired (left open too long, or the provider changed):
     * a fresh sign-in for the same page, whose form the person meets at once. */
    if (r->method_number == M_POST && return_to)
        return afb_redirect(r, HTTP_SEE_OTHER, afb_return_sanitize(r->pool, return_to));
    return afb_page(r, r->method_number == M_POST ? HTTP_BAD_REQUEST : HTTP_OK,
                    afb_t(r, AFB_MSG_LOGIN_TITLE),
                    apr_pstrcat(r->pool, "<p>",
                                afb_h(r, st == AFB_EEXPIRED ? AFB_MSG_FLOW_EXPIRED
                                                            : AFB_MSG_FLOW_NONE),
                                "</p><p><a href=\"", href, "\">", afb_h(r, AFB_MSG_FLOW_START),
                                "</a></p>", NULL));
}

/* Every provider the flow names still exists with a type that fits its place (a graceful
 * restart may have renamed, removed or retyped one): checked once here, at the entry of each
 * form handler, so nothing further on meets a provider name that resolves to nothing. */
static int afb_flow_providers_valid(request_rec *r, const afb_flow_t *flow)
{
    afb_provider_t *path = afb_provider_find(r->server, flow->path);
    int i;
    if (!afb_provider_has(path, AFB_ROLE_FIRST))
        return 0;
    if (flow->stage == AFB_FLOW_PASSWORD && !path->ops->form)
        return 0;
    for (i = 0; i < flow->n_mfa; i++)
        if (!afb_provider_has(afb_provider_find(r->server, flow->mfa[i]), AFB_ROLE_SECOND))
            return 0;
    return 1;
}

/* Load the flow for a form; on failure *status holds the page to send. */
static int afb_form_flow(request_rec *r, afb_flow_stage_t stage, afb_flow_t *flow, int *status)
{
    afb_status_t st = afb_flow_load(r, flow);
    const char *ret = NULL;
    if (st == AFB_OK && flow->stage == stage && !afb_flow_providers_valid(r, flow)) {
        afb_flow_forget(r);
        *status = afb_flow_lost_page(r, AFB_EEXPIRED, flow->return_to);
        return 0;
    }
    if (st == AFB_OK && flow->stage == stage)
        return 1;
    if (st == AFB_OK && flow->stage == AFB_FLOW_MFA && stage == AFB_FLOW_PASSWORD &&
        r->method_number == M_GET) {
        *status = afb_redirect(r, HTTP_SEE_OTHER, afb_endpoint_url(r, "mfa", NULL));
        return 0;
    }
    if (r->args) {
        apr_table_t *q = NULL;
        if (afb_form_parse(r->pool, r->args, strlen(r->args), 8, &q) == AFB_OK)
            ret = apr_table_get(q, "return");
    }
    *status = afb_flow_lost_page(r, st == AFB_OK ? AFB_ENOENT : st,
                                 st == AFB_OK ? flow->return_to : ret);
    return 0;
}

/* Read the form of a POST and check its CSRF token; on failure *status holds the answer. */
apr_table_t *afb_checked_form(request_rec *r, const afb_flow_t *flow, int *status)
{
    apr_table_t *form = NULL;
    const char *csrf;
    int st = afb_read_form(r, &form);
    if (st == HTTP_REQUEST_ENTITY_TOO_LARGE) {
        *status = afb_page(r, st, afb_t(r, AFB_MSG_TOOLARGE_TITLE),
                           apr_pstrcat(r->pool, "<p>", afb_h(r, AFB_MSG_TOOLARGE_TEXT), "</p>",
                                       NULL));
        return NULL;
    }
    if (st != OK) {
        *status = afb_bad_request(r, AFB_MSG_BADREQ_FORM);
        return NULL;
    }
    csrf = apr_table_get(form, "csrf");
    if (!csrf || !afb_ct_streq(csrf, flow->csrf)) {
        /* A form of an earlier sign-in (another tab started a new one): the current form,
         * fresh, for the same page, instead of a dead end. */
        *status = afb_redirect(r, HTTP_SEE_OTHER, afb_return_sanitize(r->pool, r->unparsed_uri));
        return NULL;
    }
    return form;
}

int afb_form_serve(request_rec *r, afb_flow_stage_t stage, afb_form_step_fn *post,
                   afb_form_step_fn *show)
{
    afb_flow_t flow;
    int status = OK;
    if (!afb_form_flow(r, stage, &flow, &status))
        return status;
    return (r->method_number == M_POST ? post : show)(r, &flow);
}
