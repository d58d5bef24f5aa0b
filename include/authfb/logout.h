/* Signing out everywhere (docs/directives.md, "Signing out"): what the module keeps to end the
 * session at an OpenID Provider too (RP-initiated logout, OpenID Connect RP-Initiated Logout
 * 1.0), in two sealed records. No httpd headers.
 *
 * - The logout hint (purpose "idtoken"): the ID token of an oidc sign-in, kept for the
 *   id_token_hint, in a cookie of its own limited to the module's endpoint path, so the session
 *   cookie sent with every request stays small. It names the provider, the user and the
 *   session's issue time: a hint is used only with the session it was issued with.
 * - The pending logout (purpose "logout"): the state sent to the OP's end_session_endpoint and
 *   the local path to offer after it; the OP's return is accepted only with the same state
 *   (compared in constant time) before its expiry.
 * Both parsers refuse anything not sealed by our keys, truncated, or with trailing bytes. */
#ifndef AUTHFB_LOGOUT_H
#define AUTHFB_LOGOUT_H

#include "authfb/common.h"
#include "authfb/crypto.h"

/* An ID token longer than this is not kept (the sealed cookie must stay under 4 KiB); the
 * logout then goes to the OP with client_id alone, and the OP may ask the person to confirm. */
#define AFB_LOGOUT_ID_TOKEN_MAX 2600
#define AFB_LOGOUT_FIELD_MAX 255        /* provider, user, state, return path */
#define AFB_LOGOUT_PENDING_LIFETIME 600 /* seconds a person may spend at the OP's logout page */

typedef struct {
    const char *provider;
    const char *user;
    apr_time_t issued;   /* of the session (second precision) */
    const char *id_token;
} afb_logout_hint_t;

typedef struct {
    const char *provider;
    const char *state;
    const char *return_to; /* sanitized local path */
    apr_time_t expires;
} afb_logout_pending_t;

/* AFB_ETOOBIG: the ID token is over AFB_LOGOUT_ID_TOKEN_MAX; AFB_EINVAL: a field missing,
 * empty or over its cap. */
afb_status_t afb_logout_hint_seal(const afb_keyring_t *kr, apr_pool_t *p,
                                  const afb_logout_hint_t *in, const char **cookie) AFB_MUST_CHECK;
/* AFB_OK or AFB_EINVAL. */
afb_status_t afb_logout_hint_open(const afb_keyring_t *kr, apr_pool_t *p, const char *cookie,
                                  afb_logout_hint_t *out) AFB_MUST_CHECK;

afb_status_t afb_logout_pending_seal(const afb_keyring_t *kr, apr_pool_t *p,
                                     const afb_logout_pending_t *in,
                                     const char **cookie) AFB_MUST_CHECK;
/* AFB_OK; AFB_EEXPIRED; AFB_EMISMATCH when state (the OP's return) differs from the sealed
 * one; AFB_EINVAL for anything not sealed by us. */
afb_status_t afb_logout_pending_open(const afb_keyring_t *kr, apr_pool_t *p, const char *cookie,
                                     const char *state, apr_time_t now,
                                     afb_logout_pending_t *out) AFB_MUST_CHECK;

/* The URL that ends the session at the OP: end_session_endpoint with client_id, id_token_hint
 * (when not NULL), post_logout_redirect_uri and state, each percent-encoded. */
const char *afb_logout_url(apr_pool_t *p, const char *end_session_endpoint,
                           const char *client_id, const char *id_token_hint,
                           const char *post_logout_redirect_uri, const char *state);

#endif
