/* Outbound HTTP for the core (mod_md's md_http.h shape): a request and a response struct
 * and a one-function implementation vtable, so unit tests plug in a fake transport and
 * http_curl.c is the only file that touches libcurl.
 *
 * Order of use in the adapter:
 *   post_config (once per process):  afb_http_global_init()
 *   child_init (after the fork):     http = afb_http_curl_create(pchild)
 *   then hand `http` to every afb_oidc_provider_create().
 *
 * Threads: one afb_http_t from afb_http_curl_create() may be used by any number of threads
 * at once. Every afb_http_perform() uses a fresh curl easy handle and its own connection
 * (libcurl does not support sharing connections between concurrent threads); DNS answers
 * and TLS sessions (resumption) are shared through one CURLSH per transport, guarded by APR
 * thread mutexes. Create the transport after the fork (child_init).
 * Proxies: libcurl's usual environment variables (https_proxy, no_proxy) apply. */
#ifndef AUTHFB_HTTP_H
#define AUTHFB_HTTP_H

#include "authfb/common.h"

#define AFB_HTTP_DEFAULT_MAX_RESPONSE (256 * 1024)

typedef struct {
    const char *method;               /* "GET" (default when NULL) or "POST" */
    const char *url;                  /* http:// or https:// only */
    const char *const *headers;       /* NULL-terminated "Name: value" lines, or NULL */
    const char *body;                 /* POST body, or NULL */
    size_t body_len;
    apr_interval_time_t connect_timeout; /* 0: same as timeout */
    apr_interval_time_t timeout;      /* total deadline of the exchange; must be > 0 */
    size_t max_response;              /* cap of the response body; 0: the default above */
    const char *ca_file;              /* PEM bundle to trust instead of the system's, or NULL */
    const char *basic_user;           /* HTTP Basic credentials (sent as given), or NULL */
    const char *basic_password;
} afb_http_request_t;

typedef struct {
    int status;                       /* HTTP status (5xx is not a transport error) */
    const char *body;                 /* NUL-terminated copy in the pool; never NULL on AFB_OK */
    size_t len;
    const char *content_type;         /* as sent, or NULL */
    const char *error;                /* on a transport failure: a short fixed text saying
                                       * what failed ("TLS certificate not trusted",
                                       * "connection refused", ...), or NULL */
} afb_http_response_t;

typedef struct afb_http_t afb_http_t;

/* One exchange. Returns AFB_OK with resp filled whenever an HTTP answer arrived (any status),
 * AFB_ETIMEOUT when a deadline passed, AFB_ETOOBIG when the body exceeded max_response,
 * AFB_EIO for DNS, connect, TLS and protocol failures, AFB_EINVAL for a request the
 * transport refuses (bad scheme, missing url). */
typedef afb_status_t afb_http_perform_fn(afb_http_t *http, apr_pool_t *p,
                                         const afb_http_request_t *req,
                                         afb_http_response_t *resp);

struct afb_http_t {
    afb_http_perform_fn *perform;
    void *baton;                      /* the implementation's own state */
};

/* A request with the defaults filled in (GET, no body, no headers). */
void afb_http_request_init(afb_http_request_t *req, const char *method, const char *url,
                           apr_interval_time_t timeout);

/* Dispatch through the vtable; checks the arguments and clears resp first. */
afb_status_t afb_http_perform(afb_http_t *http, apr_pool_t *p, const afb_http_request_t *req,
                              afb_http_response_t *resp) AFB_MUST_CHECK;

/* The one wording of a failed exchange (afb_http_perform() not AFB_OK), for every caller:
 * *reason is "WHAT: timeout" (AFB_ETIMEOUT), "WHAT: response too large" (AFB_ETOOBIG, then
 * AFB_EIO) or "WHAT: " and resp->error, else "connection failed" (AFB_EIO). Returns the
 * status the caller reports: AFB_ETIMEOUT or AFB_EIO. */
afb_status_t afb_http_failure(apr_pool_t *p, afb_status_t st, const char *what,
                              const afb_http_response_t *resp, const char **reason);

/* curl_global_init(CURL_GLOBAL_DEFAULT): call once per process before any thread starts. */
afb_status_t afb_http_global_init(void) AFB_MUST_CHECK;

/* The libcurl transport, living as long as p (the share is released in a pool cleanup).
 * NULL when libcurl cannot create a share. */
afb_http_t *afb_http_curl_create(apr_pool_t *p);

#endif
