/* What the module's own pages share (afb_page.c): the HTML frame and the common pages,
 * redirects, reading a POSTed form, and the URLs under AuthFallbackEndpoint. */
#ifndef AFB_PAGE_H
#define AFB_PAGE_H

#include "afb_conf.h"
#include "authfb/i18n.h"

/* No caching, no framing, no referrer, a strict CSP: on every page of the module. */
void afb_nocache(request_rec *r);
/* A page in the module's frame (utf-8): sent now for 200, through ap_die otherwise. */
int afb_page(request_rec *r, int status, const char *title, const char *body_html);
/* The same for a page that ends a journey: it carries the helpdesk line. */
int afb_page_end(request_rec *r, int status, const char *title, const char *body_html);
/* 503 with Retry-After: no path can take a sign-in now. */
int afb_unavailable_page(request_rec *r);
int afb_bad_request(request_rec *r, afb_msg_id_t what);
/* The same with a text not in the catalogues yet (English, escaped). */
int afb_bad_request_text(request_rec *r, const char *what);
/* An urlencoded POST body (at most AFB_FORM_MAX_BYTES) into *form; an HTTP status on
 * failure (413 when too large). */
int afb_read_form(request_rec *r, apr_table_t **form);

int afb_redirect(request_rec *r, int status, const char *location);
/* ENDPOINT/name, with ?return= when return_to is not NULL. */
const char *afb_endpoint_url(request_rec *r, const char *name, const char *return_to);
const char *afb_client_ip(request_rec *r);
/* A browser navigation (Accept: text/html, not XMLHttpRequest): it can be redirected. */
int afb_is_browser(request_rec *r);

#endif
