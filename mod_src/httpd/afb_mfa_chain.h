/* The second factor of a sign-in (afb_mfa_chain.c): which provider of the MFA chain takes
 * the person, and what happens when none can. */
#ifndef AFB_MFA_CHAIN_H
#define AFB_MFA_CHAIN_H

#include "afb_conf.h"
#include "authfb/flow.h"

/* The one rule for a session without a second factor (docs/architecture.md, security
 * properties): USABLE when a provider of this MFA chain can take the person now (not DOWN;
 * for the local store, a secret is enrolled); NOT_ENROLLED when none ever could ("not set
 * up", never a bypass); DOWN when some could and every such one is DOWN. The bypass
 * (mfa=none) is issued, and accepted, only in state DOWN under AuthFallbackMFAUnavailable
 * allow. NULL entries (unknown names) are skipped. */
typedef enum {
    AFB_MFA_CHAIN_USABLE = 0,
    AFB_MFA_CHAIN_NOT_ENROLLED = 1,
    AFB_MFA_CHAIN_DOWN = 2
} afb_mfa_chain_t;
afb_mfa_chain_t afb_mfa_chain_state(apr_pool_t *p, afb_provider_t *const *chain, int n,
                                    const char *user);

/* Make flow->mfa[0] the first provider usable for flow->user from index `from` on;
 * 0 when none is. */
int afb_mfa_next(request_rec *r, afb_flow_t *flow, int from);
/* No second factor left for the flow: "not set up" (state NOT_ENROLLED), the outage page
 * (DOWN under deny, or a provider still usable), or the bypass (DOWN under allow). */
int afb_mfa_none_left(request_rec *r, afb_flow_t *flow);
/* Next step after the first factor passed: the MFA page, a session, or a refusal. */
int afb_after_first_factor(request_rec *r, afb_flow_t *flow);

#endif
