/* A sign-in in progress, carried in a short-lived sealed cookie (purpose "flow").
 * The protected location decides the path, MFA chain, policy and lifetime and seals them
 * here; the login and MFA handlers only ever act on what this cookie says, so nothing a
 * client sends can choose another (weaker) path. */
#ifndef AUTHFB_FLOW_H
#define AUTHFB_FLOW_H

#include "authfb/common.h"
#include "authfb/crypto.h"

#define AFB_FLOW_MAX_MFA 8

typedef enum {
    AFB_FLOW_PASSWORD = 1, /* waiting for the password form */
    AFB_FLOW_MFA = 2,      /* first factor done, waiting for the second */
    AFB_FLOW_STANDBY = 3   /* the next path, held while an OpenID Provider is asked; only the
                              module activates it, after an infrastructure failure it saw */
} afb_flow_stage_t;

typedef struct {
    afb_flow_stage_t stage;
    const char *return_to;  /* sanitized local path */
    const char *csrf;       /* token the form must echo back */
    const char *location;   /* the protected location that started it (for events) */
    const char *path;       /* the chosen first-factor provider */
    int degraded;           /* path was not the first of the chain */
    const char *user;       /* set once the first factor passed (stage MFA) */
    int n_mfa;              /* the MFA chain, in order */
    const char *mfa[AFB_FLOW_MAX_MFA];
    int mfa_allow_none;     /* AuthFallbackMFAUnavailable allow */
    long lifetime;          /* seconds the session will get */
    long fallback_lifetime; /* seconds for a session without its second factor (MFA bypass) */
    apr_time_t expires;     /* of this flow */
    int drill;              /* a drill chose the path or the MFA chain (authfb/drill.h): decided
                             * when the flow began, for the events (drill: true) */
    const char *standby;    /* the path a sign-in moves to when `path` fails for the
                             * infrastructure's reasons while the person is on its form
                             * (a directory path), or NULL */
} afb_flow_t;

afb_status_t afb_flow_seal(const afb_keyring_t *kr, apr_pool_t *p, const afb_flow_t *f,
                           const char **cookie) AFB_MUST_CHECK;
/* AFB_OK, AFB_EEXPIRED, or AFB_EINVAL (tampered, truncated, garbage, wrong version). */
afb_status_t afb_flow_open(const afb_keyring_t *kr, apr_pool_t *p, const char *cookie,
                           apr_time_t now, afb_flow_t *out) AFB_MUST_CHECK;

#endif
