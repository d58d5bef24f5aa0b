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
/* The logout URL: the session cookie and any sign-in in progress cleared. */
int afb_logout_handler(request_rec *r);

#endif
