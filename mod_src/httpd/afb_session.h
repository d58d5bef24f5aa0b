/* How a sign-in ends (afb_session.c): the session cookie issued with its auth.success event,
 * a refusal recorded (the one auth.failure builder), and logout. */
#ifndef AFB_SESSION_H
#define AFB_SESSION_H

#include "afb_conf.h"
#include "authfb/flow.h"
#include "authfb/session.h"

/* The session for flow's user and path, with second factor `mfa` ("none" without);
 * claims: the OpenID Provider's claims to pass on (claims_env=), or NULL. Redirects to the
 * flow's return path. */
int afb_issue_session(request_rec *r, const afb_flow_t *flow, const char *mfa,
                      const apr_table_t *claims);
/* A refused sign-in: the auth.failure event and the path's failure counter. path, mfa and
 * user may be NULL (not known, or not to be logged). */
void afb_auth_failure(request_rec *r, const char *path, const char *mfa, const char *user,
                      const char *reason);
/* The logout URL (docs/directives.md, "Signing out"): the session cookie and any sign-in in
 * progress cleared, the auth.logout event, the provider's own logout when its type has one
 * (ops->logout), and the signed-out page with the way back; also where a provider sends the
 * person back (?state=, checked against the sealed pending logout). */
int afb_logout_handler(request_rec *r);
/* The module's cookies of signing out: NAME_idt (the logout hint), NAME_lo (the pending
 * logout), both on the endpoint path. */
const char *afb_logout_cookie(request_rec *r, const char *suffix);

#endif
