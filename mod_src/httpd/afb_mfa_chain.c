/* The second factor of a sign-in (afb_mfa_chain.h): which provider of the location's MFA
 * chain takes the person, and the one rule for a session without one. */
#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>

#include "afb_mfa_chain.h"
#include "afb_flow.h"
#include "afb_health.h"
#include "afb_log.h"
#include "afb_page.h"
#include "afb_brand.h"
#include "afb_provider.h"
#include "afb_session.h"
#include "authfb/util.h"

APLOG_USE_MODULE(auth_fallback);

afb_mfa_chain_t afb_mfa_chain_state(apr_pool_t *p, afb_provider_t *const *chain, int n,
                                    const char *user)
{
    int i, takes = 0;
    for (i = 0; i < n; i++) {
        if (!chain[i])
            continue;
        if (afb_provider_usable(chain[i], p, user))
            return AFB_MFA_CHAIN_USABLE;
        takes |= afb_provider_enrolled(chain[i], p, user);
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
        afb_auth_failure(r, flow->path, NULL, flow->user,
                         not_enrolled ? "mfa_not_enrolled" : "mfa_unavailable");
        afb_flow_forget(r);
        if (not_enrolled)
            return afb_page_end(r, HTTP_FORBIDDEN, afb_t(r, AFB_MSG_MFA_NONE_TITLE),
                                apr_pstrcat(r->pool, "<p>", afb_h(r, AFB_MSG_MFA_NONE_TEXT),
                                            "</p>", NULL));
        return afb_unavailable_page(r);
    }
    afb_health_counter(afb_provider_find(r->server, flow->path), AFB_HEALTH_COUNT_BYPASS);
    ev = afb_person_event(r, "mfa.bypassed", flow->user, flow->path);
    afb_event_str(ev, "location", flow->location);
    afb_person_event_emit(r, ev);
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
        if (prov && afb_provider_usable(prov, r->pool, flow->user))
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
        return afb_unavailable_page(r);
    return afb_redirect(r, HTTP_SEE_OTHER, afb_endpoint_url(r, "mfa", NULL));
}
