/* Routing decisions (docs/architecture.md, "Security properties"): which path of a chain a new sign-in takes, and what
 * happens to the second factor. Pure functions over availability flags (1 = available, see
 * afb_health_available: UNKNOWN counts as available) or over health records. */
#ifndef AUTHFB_ROUTE_H
#define AUTHFB_ROUTE_H

#include "authfb/common.h"
#include "authfb/health.h"

/* Index of the first available entry at or after `start`, or -1 when none is (the caller
 * answers 503). start 0 routes a new sign-in; start k+1 moves a person on after
 * path k failed during their sign-in. */
int afb_route_first(const int *available, int n, int start);
/* The same over health records; a NULL record (no health view yet) counts as available. */
int afb_route_first_rec(const afb_health_rec_t *const *chain, int n, int start);

/* A new sign-in while drills may be set (authfb/drill.h): the first entry that is available
 * and to which no drill applies for this client address and this flow's draw (a NULL record
 * counts as available). *drilled (may be NULL) is 1 when that differs from
 * afb_route_first_rec(chain, n, 0): a drill moved this sign-in, which is then a drill
 * sign-in (drill: true in its events, counted on the drilled providers). */
int afb_route_first_drill(const afb_health_rec_t *const *chain, int n, const char *client_ip,
                          uint32_t draw, int *drilled);
/* 1 when the record's drill applies to this client address and draw. */
int afb_route_drilled(const afb_health_rec_t *rec, const char *client_ip, uint32_t draw);

/* The names passed over to reach `chosen` (entries start..chosen-1, all of them unavailable),
 * or every name from start on when chosen is -1, joined by ",": the `skipped` field of the
 * route.fallback event. "" when nothing was skipped. */
const char *afb_route_skipped(apr_pool_t *p, const char *const *names, int n, int start,
                              int chosen);

typedef enum {
    AFB_MFA_UNAVAILABLE_DENY = 0, /* AuthFallbackMFAUnavailable deny (default) */
    AFB_MFA_UNAVAILABLE_ALLOW = 1 /* AuthFallbackMFAUnavailable allow */
} afb_mfa_policy_t;

typedef enum {
    AFB_MFA_USE = 0,          /* ask the provider at `index` */
    AFB_MFA_DENY = 1,         /* every MFA provider is down and the policy is deny: 503 */
    AFB_MFA_BYPASS = 2,       /* every MFA provider is down and the policy is allow: the
                               * session says mfa=none, event mfa.bypassed at warn level */
    AFB_MFA_NOT_REQUIRED = 3  /* the location has no MFA chain (AuthFallbackMFA none) */
} afb_mfa_action_t;

typedef struct {
    afb_mfa_action_t action;
    int index; /* with AFB_MFA_USE, the chosen entry of the MFA chain; else -1 */
} afb_mfa_decision_t;

/* The second factor after a password path: the first available MFA provider at or after
 * `start` (start > 0 after the previous one failed mid-flow), else the policy decides.
 * n == 0 means no MFA is configured. */
afb_mfa_decision_t afb_route_mfa(const int *available, int n, int start,
                                 afb_mfa_policy_t policy);
afb_mfa_decision_t afb_route_mfa_rec(const afb_health_rec_t *const *chain, int n, int start,
                                     afb_mfa_policy_t policy);
/* "use", "deny", "bypass", "not-required". */
const char *afb_route_mfa_action_name(afb_mfa_action_t a);

#endif
