/* The module's cookies (afb_cookie.c): reading them from the Cookie headers (one scanner),
 * setting them with the AuthFallbackCookie attributes (one Secure rule), and keeping them
 * from the backend. */
#ifndef AFB_COOKIE_H
#define AFB_COOKIE_H

#include "afb_conf.h"

/* The value of cookie `name`, or NULL when absent or empty. Cookie headers over
 * AFB_COOKIE_HEADER_MAX_BYTES are not looked into. */
const char *afb_cookie_get(request_rec *r, const char *name);
/* The names of the cookies that start with prefix and are namelen long. */
apr_array_header_t *afb_cookie_names(request_rec *r, const char *prefix, apr_size_t namelen);

/* Set-Cookie with the AuthFallbackCookie attributes (SameSite, Domain, Secure); max_age < 0:
 * a browser-session cookie. */
void afb_cookie_set(request_rec *r, const char *name, const char *value, long max_age,
                    const char *path);
void afb_cookie_clear(request_rec *r, const char *name, const char *path);
/* Set-Cookie that must survive a cross-site top-level GET back to us (the OIDC callback):
 * host-only, Path=/, SameSite=Lax whatever AuthFallbackCookie says; Secure by the same
 * rule as the others. */
void afb_cookie_set_lax(request_rec *r, const char *name, const char *value, long max_age);

/* Remove these cookies from every Cookie header (a name ending in '*' is a prefix). */
void afb_cookie_strip(request_rec *r, const char *const *names);

/* The name of the sign-in-in-progress cookie. */
const char *afb_flow_cookie_name(request_rec *r);

#endif
