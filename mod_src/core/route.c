/* Routing decisions: first available path of a chain, and the MFA policy. See
 * authfb/route.h. */
#include <apr_strings.h>

#include "authfb/route.h"

int afb_route_first(const int *available, int n, int start)
{
    int i;

    for (i = start < 0 ? 0 : start; i < n; i++)
        if (available[i])
            return i;
    return -1;
}

int afb_route_first_rec(const afb_health_rec_t *const *chain, int n, int start)
{
    int i;

    for (i = start < 0 ? 0 : start; i < n; i++)
        if (chain[i] == NULL || afb_health_available(chain[i]))
            return i;
    return -1;
}

int afb_route_drilled(const afb_health_rec_t *rec, const char *client_ip, uint32_t draw)
{
    return rec != NULL && afb_drill_applies(&rec->drill, client_ip, draw);
}

int afb_route_first_drill(const afb_health_rec_t *const *chain, int n, const char *client_ip,
                          uint32_t draw, int *drilled)
{
    int i, chosen = -1;

    for (i = 0; i < n && chosen < 0; i++)
        if (chain[i] == NULL
            || (afb_health_available(chain[i]) && !afb_route_drilled(chain[i], client_ip, draw)))
            chosen = i;
    if (drilled != NULL)
        *drilled = chosen != afb_route_first_rec(chain, n, 0);
    return chosen;
}

const char *afb_route_skipped(apr_pool_t *p, const char *const *names, int n, int start,
                              int chosen)
{
    int end = chosen < 0 || chosen > n ? n : chosen;
    const char *out = "";
    int i;

    for (i = start < 0 ? 0 : start; i < end; i++)
        out = *out == '\0' ? apr_pstrdup(p, names[i]) : apr_pstrcat(p, out, ",", names[i], NULL);
    return out;
}

static afb_mfa_decision_t mfa_decide(int chosen, int n, afb_mfa_policy_t policy)
{
    afb_mfa_decision_t d = { AFB_MFA_USE, chosen };

    if (chosen >= 0)
        return d;
    d.index = -1;
    if (n <= 0)
        d.action = AFB_MFA_NOT_REQUIRED;
    else
        d.action = policy == AFB_MFA_UNAVAILABLE_ALLOW ? AFB_MFA_BYPASS : AFB_MFA_DENY;
    return d;
}

afb_mfa_decision_t afb_route_mfa(const int *available, int n, int start,
                                 afb_mfa_policy_t policy)
{
    return mfa_decide(n > 0 ? afb_route_first(available, n, start) : -1, n, policy);
}

afb_mfa_decision_t afb_route_mfa_rec(const afb_health_rec_t *const *chain, int n, int start,
                                     afb_mfa_policy_t policy)
{
    return mfa_decide(n > 0 ? afb_route_first_rec(chain, n, start) : -1, n, policy);
}

const char *afb_route_mfa_action_name(afb_mfa_action_t a)
{
    switch (a) {
    case AFB_MFA_USE:
        return "use";
    case AFB_MFA_DENY:
        return "deny";
    case AFB_MFA_BYPASS:
        return "bypass";
    default:
        return "not-required";
    }
}
