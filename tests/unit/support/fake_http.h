/* A fake afb_http_t for unit tests: canned answers per URL, transport failures, and a record
 * of what was sent. Enforces max_response like the real transport. */
#ifndef AFB_TEST_FAKE_HTTP_H
#define AFB_TEST_FAKE_HTTP_H

#include "authfb/http.h"

typedef struct fake_http_t fake_http_t;

fake_http_t *fake_http_create(apr_pool_t *p);
afb_http_t *fake_http_transport(fake_http_t *f);

/* Answer url with this status and body (copied). Replaces an earlier setting of url. */
void fake_http_set(fake_http_t *f, const char *url, int status, const char *body);
/* Fail url at the transport level (AFB_ETIMEOUT, AFB_EIO, ...). */
void fake_http_fail(fake_http_t *f, const char *url, afb_status_t st);
/* Forget url: it then fails with AFB_EIO (like a connection refused). */
void fake_http_clear(fake_http_t *f, const char *url);

/* How often url was requested; the last request seen (deep copy; NULL before any). */
int fake_http_calls(const fake_http_t *f, const char *url);
int fake_http_total_calls(const fake_http_t *f);
const afb_http_request_t *fake_http_last(const fake_http_t *f);

#endif
