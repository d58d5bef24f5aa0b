/* The libcurl transport of http.h: the only file of the core that touches libcurl.
 * Also holds the transport-independent helpers of http.h. */
#include "authfb/http.h"

#include <string.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <curl/curl.h>

/* ---- transport-independent helpers ---- */

void afb_http_request_init(afb_http_request_t *req, const char *method, const char *url,
                           apr_interval_time_t timeout)
{
    memset(req, 0, sizeof(*req));
    req->method = method ? method : "GET";
    req->url = url;
    req->timeout = timeout;
}

afb_status_t afb_http_perform(afb_http_t *http, apr_pool_t *p, const afb_http_request_t *req,
                              afb_http_response_t *resp)
{
    memset(resp, 0, sizeof(*resp));
    if (!http || !http->perform || !req || !req->url || req->timeout <= 0)
        return AFB_EINVAL;
    return http->perform(http, p, req, resp);
}

afb_status_t afb_http_failure(apr_pool_t *p, afb_status_t st, const char *what,
                              const afb_http_response_t *resp, const char **reason)
{
    const char *detail = resp && resp->error ? resp->error : "connection failed";
    if (st == AFB_ETIMEOUT) {
        *reason = apr_pstrcat(p, what, ": timeout", NULL);
        return AFB_ETIMEOUT;
    }
    *reason = apr_pstrcat(p, what, ": ", st == AFB_ETOOBIG ? "response too large" : detail, NULL);
    return AFB_EIO;
}

/* ---- libcurl ---- */

#define AFB_CURL_LOCKS (CURL_LOCK_DATA_LAST)

#define AFB_CURL_IDLE_MAX 8 /* idle handles kept, each with its open connections */

typedef struct {
    CURLSH *share;
    apr_thread_mutex_t *locks[AFB_CURL_LOCKS];
    /* Connection reuse: a handle is used by one thread at a time and keeps its connections
     * when returned here, so the next request to the same OP skips the TCP/TLS set-up. */
    apr_thread_mutex_t *idle_lock;
    CURL *idle[AFB_CURL_IDLE_MAX];
    int n_idle;
} curl_transport_t;

static CURL *handle_get(curl_transport_t *t)
{
    CURL *c = NULL;
    if (t->idle_lock && apr_thread_mutex_lock(t->idle_lock) == APR_SUCCESS) {
        if (t->n_idle > 0)
            c = t->idle[--t->n_idle];
        apr_thread_mutex_unlock(t->idle_lock);
    }
    if (c) {
        curl_easy_reset(c); /* options back to defaults; connections stay */
        return c;
    }
    return curl_easy_init();
}

/* reusable: 0 after a failed transfer, whose connection is not worth keeping. */
static void handle_put(curl_transport_t *t, CURL *c, int reusable)
{
    if (reusable && t->idle_lock && apr_thread_mutex_lock(t->idle_lock) == APR_SUCCESS) {
        if (t->n_idle < AFB_CURL_IDLE_MAX) {
            t->idle[t->n_idle++] = c;
            c = NULL;
        }
        apr_thread_mutex_unlock(t->idle_lock);
    }
    if (c)
        curl_easy_cleanup(c);
}

typedef struct {
    apr_pool_t *p;
    char *buf;
    size_t len;
    size_t cap;       /* allocated */
    size_t max;       /* hard limit */
    int toobig;
} sink_t;

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *userp)
{
    curl_transport_t *t = userp;
    (void)h;
    (void)access;
    if ((int)data >= 0 && (int)data < AFB_CURL_LOCKS && t->locks[data])
        apr_thread_mutex_lock(t->locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *userp)
{
    curl_transport_t *t = userp;
    (void)h;
    if ((int)data >= 0 && (int)data < AFB_CURL_LOCKS && t->locks[data])
        apr_thread_mutex_unlock(t->locks[data]);
}

static apr_status_t share_cleanup(void *data)
{
    curl_transport_t *t = data;
    while (t->n_idle > 0)
        curl_easy_cleanup(t->idle[--t->n_idle]);
    if (t->share)
        curl_share_cleanup(t->share);
    t->share = NULL;
    return APR_SUCCESS;
}

static size_t sink_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    sink_t *s = userdata;
    size_t n = size * nmemb;
    if (n > s->max - s->len) {
        s->toobig = 1;
        return 0; /* makes curl stop with CURLE_WRITE_ERROR */
    }
    if (s->len + n + 1 > s->cap) {
        size_t ncap = s->cap ? s->cap : 4096;
        char *nb;
        while (ncap < s->len + n + 1)
            ncap *= 2;
        if (ncap > s->max + 1)
            ncap = s->max + 1;
        nb = apr_palloc(s->p, ncap);
        if (s->len)
            memcpy(nb, s->buf, s->len);
        s->buf = nb;
        s->cap = ncap;
    }
    memcpy(s->buf + s->len, ptr, n);
    s->len += n;
    s->buf[s->len] = '\0';
    return n;
}

static long to_ms(apr_interval_time_t t)
{
    long ms = (long)(t / 1000);
    return ms > 0 ? ms : 1;
}

static int url_scheme_ok(const char *url)
{
    return strncasecmp(url, "https://", 8) == 0 || strncasecmp(url, "http://", 7) == 0;
}

/* What failed, for the logs and the status page: fixed texts, never data from the peer. */
static const char *curl_error_text(CURLcode rc)
{
    switch (rc) {
    case CURLE_PEER_FAILED_VERIFICATION:
        return "TLS certificate not trusted (ca_file?)";
    case CURLE_SSL_CONNECT_ERROR:
        return "TLS handshake failed";
    case CURLE_SSL_CACERT_BADFILE:
        return "ca_file cannot be used";
    case CURLE_COULDNT_CONNECT:
        return "connection refused or unreachable";
    case CURLE_COULDNT_RESOLVE_HOST:
        return "host name not resolved";
    case CURLE_OPERATION_TIMEDOUT:
        return "timeout";
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
        return "connection closed by the peer";
    default:
        return "connection failed";
    }
}

static afb_status_t map_curl_error(CURLcode rc, const sink_t *s)
{
    if (s->toobig || rc == CURLE_FILESIZE_EXCEEDED)
        return AFB_ETOOBIG;
    if (rc == CURLE_OPERATION_TIMEDOUT)
        return AFB_ETIMEOUT;
    if (rc == CURLE_OUT_OF_MEMORY)
        return AFB_ERR;
    return AFB_EIO;
}

static struct curl_slist *build_headers(const afb_http_request_t *req)
{
    struct curl_slist *list = NULL, *n;
    const char *const *h;
    /* no "Expect: 100-continue" round trip on small POST bodies */
    list = curl_slist_append(list, "Expect:");
    for (h = req->headers; list && h && *h; h++) {
        n = curl_slist_append(list, *h);
        if (!n) {
            curl_slist_free_all(list);
            return NULL;
        }
        list = n;
    }
    return list;
}

static CURLcode set_options(CURL *c, curl_transport_t *t, const afb_http_request_t *req,
                            struct curl_slist *hdrs, sink_t *s)
{
    CURLcode rc = CURLE_OK;
    apr_interval_time_t ct = req->connect_timeout > 0 ? req->connect_timeout : req->timeout;
#define SET(opt, val) do { if (rc == CURLE_OK) rc = curl_easy_setopt(c, opt, val); } while (0)
    SET(CURLOPT_URL, req->url);
    SET(CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
    SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    if (req->ca_file)
        SET(CURLOPT_CAINFO, req->ca_file);
    SET(CURLOPT_CONNECTTIMEOUT_MS, to_ms(ct));
    SET(CURLOPT_TIMEOUT_MS, to_ms(req->timeout));
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)s->max);
    SET(CURLOPT_WRITEFUNCTION, sink_write);
    SET(CURLOPT_WRITEDATA, s);
    SET(CURLOPT_HTTPHEADER, hdrs);
    SET(CURLOPT_USERAGENT, "mod_auth_fallback");
    if (t->share)
        SET(CURLOPT_SHARE, t->share);
    if (req->basic_user) {
        SET(CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        SET(CURLOPT_USERNAME, req->basic_user);
        SET(CURLOPT_PASSWORD, req->basic_password ? req->basic_password : "");
    }
    if (req->method && strcmp(req->method, "POST") == 0) {
        SET(CURLOPT_POST, 1L);
        SET(CURLOPT_POSTFIELDS, req->body ? req->body : "");
        SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(req->body ? req->body_len : 0));
    }
    else if (req->method && strcmp(req->method, "GET") != 0) {
        SET(CURLOPT_CUSTOMREQUEST, req->method);
    }
#undef SET
    return rc;
}

static void fill_response(CURL *c, apr_pool_t *p, sink_t *s, afb_http_response_t *resp)
{
    long status = 0;
    char *ct = NULL;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
    resp->status = (int)status;
    resp->body = s->buf ? s->buf : "";
    resp->len = s->len;
    resp->content_type = ct ? apr_pstrdup(p, ct) : NULL;
}

static afb_status_t curl_perform(afb_http_t *http, apr_pool_t *p, const afb_http_request_t *req,
                                 afb_http_response_t *resp)
{
    curl_transport_t *t = http->baton;
    struct curl_slist *hdrs = NULL;
    sink_t s;
    CURL *c = NULL;
    CURLcode rc;
    afb_status_t st = AFB_ERR;

    if (!url_scheme_ok(req->url))
        return AFB_EINVAL;
    memset(&s, 0, sizeof(s));
    s.p = p;
    s.max = req->max_response ? req->max_response : AFB_HTTP_DEFAULT_MAX_RESPONSE;
    c = handle_get(t);
    hdrs = build_headers(req);
    if (!c || !hdrs)
        goto out;
    if (set_options(c, t, req, hdrs, &s) != CURLE_OK)
        goto out;
    rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        st = map_curl_error(rc, &s);
        resp->error = curl_error_text(rc);
        goto out;
    }
    fill_response(c, p, &s, resp);
    st = AFB_OK;
out:
    if (c)
        handle_put(t, c, st == AFB_OK);
    curl_slist_free_all(hdrs);
    return st;
}

afb_status_t afb_http_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? AFB_OK : AFB_ERR;
}

static void share_setup(curl_transport_t *t, apr_pool_t *p)
{
    /* Not CURL_LOCK_DATA_CONNECT: libcurl does not support sharing connections between
     * concurrent threads. DNS answers and TLS session resumption are safe to share. */
    static const curl_lock_data shared[] = {CURL_LOCK_DATA_DNS, CURL_LOCK_DATA_SSL_SESSION};
    size_t i;
    for (i = 0; i < AFB_CURL_LOCKS; i++) {
        if (apr_thread_mutex_create(&t->locks[i], APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS) {
            curl_share_cleanup(t->share);
            t->share = NULL; /* no sharing rather than unguarded sharing */
            return;
        }
    }
    curl_share_setopt(t->share, CURLSHOPT_LOCKFUNC, share_lock);
    curl_share_setopt(t->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
    curl_share_setopt(t->share, CURLSHOPT_USERDATA, t);
    for (i = 0; i < sizeof(shared) / sizeof(shared[0]); i++)
        curl_share_setopt(t->share, CURLSHOPT_SHARE, shared[i]);
}

afb_http_t *afb_http_curl_create(apr_pool_t *p)
{
    afb_http_t *http = apr_pcalloc(p, sizeof(*http));
    curl_transport_t *t = apr_pcalloc(p, sizeof(*t));
    t->share = curl_share_init();
    if (!t->share)
        return NULL;
    share_setup(t, p);
    if (apr_thread_mutex_create(&t->idle_lock, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS)
        t->idle_lock = NULL; /* no reuse: a fresh handle per request */
    apr_pool_cleanup_register(p, t, share_cleanup, apr_pool_cleanup_null);
    http->perform = curl_perform;
    http->baton = t;
    return http;
}
