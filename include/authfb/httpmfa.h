/* http-mfa (docs/providers.md, "privacyIDEA"): a privacyIDEA-compatible `/validate/check` endpoint over the injected
 * outbound HTTP transport (authfb/http.h).
 *
 * Use from the adapter:
 *   child_init    afb_httpmfa_create(pchild, &conf, http, &mfa, &why)
 *   code check    st = afb_httpmfa_check(mfa, r->pool, user, code, timeout, &res, &why)
 *                 st == AFB_OK: res is ACCEPT or REJECT (REJECT: the person's failure)
 *   health check  st = afb_httpmfa_probe(mfa, probe_pool, timeout, &why)
 *
 * The check POSTs `user`, `pass` (and `realm` when configured) as a form and reads the JSON
 * answer: result.status true and result.value true is ACCEPT; result.status true and
 * result.value false is REJECT. Everything else is an infrastructure failure with *reason:
 * AFB_ETIMEOUT for a deadline, AFB_EIO for connect/TLS errors (worded by afb_http_failure(),
 * "MFA service: timeout", "MFA service: connection refused or unreachable"), a non-2xx status, a body that
 * is not JSON or lacks those booleans, result.status false (privacyIDEA's "the server could
 * not decide", e.g. an unknown user or a resolver error), or a body over max_response. Only
 * AFB_ETIMEOUT and AFB_EIO may send the person on to the next MFA provider. Reasons are fixed
 * texts (plus the HTTP status) and never contain the code or the body.
 *
 * The probe GETs health_url and passes on 2xx. Without health_url it GETs the check URL and
 * passes on any answer below 500 (privacyIDEA answers a bare GET with a JSON error), so a
 * reachable, working server counts as up.
 *
 * Threads: an afb_httpmfa_t is read-only after creation and may be shared by all threads of
 * a process, like the transport. */
#ifndef AUTHFB_HTTPMFA_H
#define AUTHFB_HTTPMFA_H

#include "authfb/common.h"
#include "authfb/http.h"

#define AFB_HTTPMFA_DEFAULT_MAX_RESPONSE (64 * 1024)

typedef struct {
    const char *url;            /* the /validate/check URL (http:// or https://) */
    const char *health_url;     /* or NULL */
    const char *ca_file;        /* PEM bundle to trust, or NULL for the system's */
    const char *realm;          /* or NULL */
    size_t max_response;        /* 0: AFB_HTTPMFA_DEFAULT_MAX_RESPONSE */
} afb_httpmfa_conf_t;

typedef enum {
    AFB_HTTPMFA_ACCEPT = 0,
    AFB_HTTPMFA_REJECT
} afb_httpmfa_result_t;

typedef struct afb_httpmfa_t afb_httpmfa_t;

/* Checks the configuration (URL schemes); copies it into p. AFB_EINVAL with *reason on a
 * bad configuration. No network here. */
afb_status_t afb_httpmfa_create(apr_pool_t *p, const afb_httpmfa_conf_t *conf,
                                afb_http_t *http, afb_httpmfa_t **out,
                                const char **reason) AFB_MUST_CHECK;

/* One code check; timeout > 0 bounds the whole exchange. AFB_EINVAL for an empty user. */
afb_status_t afb_httpmfa_check(afb_httpmfa_t *mfa, apr_pool_t *p, const char *user,
                               const char *code, apr_interval_time_t timeout,
                               afb_httpmfa_result_t *result,
                               const char **reason) AFB_MUST_CHECK;

afb_status_t afb_httpmfa_probe(afb_httpmfa_t *mfa, apr_pool_t *p, apr_interval_time_t timeout,
                               const char **reason) AFB_MUST_CHECK;

/* The verdict of a /validate/check answer body (pure): AFB_OK with *result, or AFB_EIO with
 * *reason. */
afb_status_t afb_httpmfa_parse(const char *body, size_t len, afb_httpmfa_result_t *result,
                               const char **reason) AFB_MUST_CHECK;

#endif
