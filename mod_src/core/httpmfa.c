/* http-mfa: privacyIDEA-compatible /validate/check over the injected HTTP transport. */
#include "authfb/httpmfa.h"
#include "authfb/util.h"

#include <string.h>
#include <strings.h>

#include <apr_strings.h>
#include <jansson.h>

#define AFB_HTTPMFA_WHAT "MFA service" /* names the peer in transport failures */

struct afb_httpmfa_t {
    afb_httpmfa_conf_t conf;
    afb_http_t *http;
};

static int url_ok(const char *url)
{
    return url != NULL && (strncasecmp(url, "http://", 7) == 0
                           || strncasecmp(url, "https://", 8) == 0) && strlen(url) > 8;
}

afb_status_t afb_httpmfa_create(apr_pool_t *p, const afb_httpmfa_conf_t *conf,
                                afb_http_t *http, afb_httpmfa_t **out, const char **reason)
{
    afb_httpmfa_t *m;

    *out = NULL;
    if (conf == NULL || http == NULL || !url_ok(conf->url)) {
        *reason = "http-mfa needs an http:// or https:// URL";
        return AFB_EINVAL;
    }
    if (conf->health_url != NULL && !url_ok(conf->health_url)) {
        *reason = "health_url must be an http:// or https:// URL";
        return AFB_EINVAL;
    }
    m = apr_pcalloc(p, sizeof(*m));
    m->http = http;
    m->conf.url = apr_pstrdup(p, conf->url);
    m->conf.health_url = conf->health_url ? apr_pstrdup(p, conf->health_url) : NULL;
    m->conf.ca_file = conf->ca_file ? apr_pstrdup(p, conf->ca_file) : NULL;
    m->conf.realm = conf->realm ? apr_pstrdup(p, conf->realm) : NULL;
    m->conf.max_response = conf->max_response ? conf->max_response
                                              : AFB_HTTPMFA_DEFAULT_MAX_RESPONSE;
    *out = m;
    return AFB_OK;
}

/* result.status / result.value as JSON booleans: 1 true, 0 false, -1 missing or another type. */
static int json_flag(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    if (!json_is_boolean(v))
        return -1;
    return json_is_true(v) ? 1 : 0;
}

afb_status_t afb_httpmfa_parse(const char *body, size_t len, afb_httpmfa_result_t *result,
                               const char **reason)
{
    json_error_t err;
    json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
    json_t *res = json_object_get(doc, "result");
    afb_status_t st = AFB_EIO;
    int status = json_flag(res, "status"), value = json_flag(res, "value");

    if (doc == NULL)
        *reason = "answer is not JSON";
    else if (!json_is_object(res) || status < 0)
        *reason = "answer without a boolean result.status";
    else if (status == 0) {
        /* privacyIDEA answers this way for conditions of the request (an unknown user, a
         * policy): a refusal, so that nothing a client sends moves it to another factor. */
        *result = AFB_HTTPMFA_REJECT;
        *reason = "server refused the request (result.status false)";
        st = AFB_OK;
    }
    else if (value < 0)
        *reason = "answer without a boolean result.value";
    else {
        *result = value ? AFB_HTTPMFA_ACCEPT : AFB_HTTPMFA_REJECT;
        *reason = value ? NULL : "code rejected";
        st = AFB_OK;
    }
    json_decref(doc);
    return st;
}

static const char *check_body(apr_pool_t *p, const afb_httpmfa_t *m, const char *user,
                              const char *code)
{
    const char *body = apr_pstrcat(p, "user=", afb_pct_encode(p, user, 0), "&pass=",
                                   afb_pct_encode(p, code, 0), NULL);

    if (m->conf.realm != NULL)
        body = apr_pstrcat(p, body, "&realm=", afb_pct_encode(p, m->conf.realm, 0),
                           NULL);
    return body;
}

afb_status_t afb_httpmfa_check(afb_httpmfa_t *mfa, apr_pool_t *p, const char *user,
                               const char *code, apr_interval_time_t timeout,
                               afb_httpmfa_result_t *result, const char **reason)
{
    static const char *const headers[] = {
        "Content-Type: application/x-www-form-urlencoded", "Accept: application/json", NULL};
    afb_http_request_t req;
    afb_http_response_t resp;
    afb_status_t st;

    *reason = NULL;
    if (mfa == NULL || user == NULL || user[0] == '\0' || code == NULL || timeout <= 0) {
        *reason = "bad arguments";
        return AFB_EINVAL;
    }
    afb_http_request_init(&req, "POST", mfa->conf.url, timeout);
    req.headers = headers;
    req.body = check_body(p, mfa, user, code);
    req.body_len = strlen(req.body);
    req.max_response = mfa->conf.max_response;
    req.ca_file = mfa->conf.ca_file;
    st = afb_http_perform(mfa->http, p, &req, &resp);
    if (st != AFB_OK)
        return afb_http_failure(p, st, AFB_HTTPMFA_WHAT, &resp, reason);
    if (resp.status >= 400 && resp.status < 500) {
        afb_httpmfa_result_t r4 = AFB_HTTPMFA_ACCEPT;
        const char *why4 = NULL;
        if (afb_httpmfa_parse(resp.body, resp.len, &r4, &why4) == AFB_OK &&
            r4 == AFB_HTTPMFA_REJECT) {
            *result = r4; /* a 4xx with a privacyIDEA refusal: the request's fault */
            *reason = why4;
            return AFB_OK;
        }
    }
    if (resp.status < 200 || resp.status > 299) {
        *reason = apr_psprintf(p, "HTTP status %d", resp.status);
        return AFB_EIO;
    }
    return afb_httpmfa_parse(resp.body, resp.len, result, reason);
}

afb_status_t afb_httpmfa_probe(afb_httpmfa_t *mfa, apr_pool_t *p, apr_interval_time_t timeout,
                               const char **reason)
{
    afb_http_request_t req;
    afb_http_response_t resp;
    const char *url;
    afb_status_t st;
    int limit;

    *reason = NULL;
    if (mfa == NULL || timeout <= 0) {
        *reason = "bad arguments";
        return AFB_EINVAL;
    }
    url = mfa->conf.health_url ? mfa->conf.health_url : mfa->conf.url;
    limit = mfa->conf.health_url ? 300 : 500;
    afb_http_request_init(&req, "GET", url, timeout);
    req.max_response = mfa->conf.max_response;
    req.ca_file = mfa->conf.ca_file;
    st = afb_http_perform(mfa->http, p, &req, &resp);
    if (st != AFB_OK)
        return afb_http_failure(p, st, AFB_HTTPMFA_WHAT, &resp, reason);
    if (resp.status < 200 || resp.status >= limit) {
        *reason = apr_psprintf(p, "HTTP status %d", resp.status);
        return AFB_EIO;
    }
    return AFB_OK;
}
