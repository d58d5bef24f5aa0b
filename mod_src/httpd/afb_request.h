/* Request-time hooks (afb_request.c). */
#ifndef AFB_REQUEST_H
#define AFB_REQUEST_H

#include "afb_conf.h"

/* check_authn: a session that meets this location's bar sets r->user and the
 * AUTH_FALLBACK_* variables; otherwise a sign-in starts. */
int afb_check_authn(request_rec *r);
/* fixups: identity headers and the module's cookies never reach the backend. */
int afb_fixups(request_rec *r);
/* A signed-in person an authz rule refuses: a plain page instead of httpd's bare 401. */
int afb_note_auth_failure(request_rec *r, const char *auth_type);
/* Require fallback-path NAME... and Require fallback-mfa. */
void afb_register_authz(apr_pool_t *p);

#endif
