/* The session cookie: who signed in, through which path and second factor, until when.
 * Compact binary record sealed with afb_seal(purpose "session"). */
#ifndef AUTHFB_SESSION_H
#define AUTHFB_SESSION_H

#include "authfb/common.h"
#include "authfb/crypto.h"

#define AFB_SESSION_MAX_FIELD 255 /* bytes of user, path, mfa each */
#define AFB_SESSION_MAX_CLAIMS 8    /* identity claims carried for the backend */
#define AFB_SESSION_MAX_CLAIM_NAME 32
#define AFB_SESSION_CLAIMS_BYTES 512 /* names and values together, to keep the cookie small */

typedef struct {
    const char *user;
    const char *path;   /* first-factor provider name */
    const char *mfa;    /* second-factor provider name, or "none" */
    apr_time_t issued;  /* second precision in the cookie */
    apr_time_t expires;
    int degraded;       /* path was not the first of its chain */
    int extended;       /* already extended once by AuthFallbackOutageGrace */
    /* Claims of the OpenID Provider passed on as AUTH_FALLBACK_CLAIM_<NAME> (claims_env=).
     * Names: 1..32 of [A-Za-z0-9_]; values: 1..255 bytes without control characters. */
    int n_claims;
    const char *claim_name[AFB_SESSION_MAX_CLAIMS];
    const char *claim_value[AFB_SESSION_MAX_CLAIMS];
} afb_session_t;

afb_status_t afb_session_seal(const afb_keyring_t *kr, apr_pool_t *p, const afb_session_t *s,
                              const char **cookie) AFB_MUST_CHECK;
/* AFB_OK: valid now. AFB_EEXPIRED: authentic but expired (*out filled, for outage grace).
 * AFB_EINVAL: anything else (tampered, truncated, garbage, unknown version). */
afb_status_t afb_session_open(const afb_keyring_t *kr, apr_pool_t *p, const char *cookie,
                              apr_time_t now, afb_session_t *out) AFB_MUST_CHECK;

#endif
