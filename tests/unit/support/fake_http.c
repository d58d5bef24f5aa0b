/* The fake transport (see fake_http.h). */
#include "fake_http.h"

#include <string.h>
#include <apr_hash.h>
#include <apr_strings.h>

typedef struct {
    int status;
    const char *body;
    afb_status_t fail;
    int calls;
} canned_t;

struct fake_http_t {
    apr_pool_t *p;
    afb_http_t http;
    apr_hash_t *urls;
    int total;
    afb_http_request_t last;
    int have_last;
};

static canned_t *entry(fake_http_t *f, const char *url)
{
    canned_t *c = apr_hash_get(f->urls, url, APR_HASH_KEY_STRING);
    if (!c) {
        c = apr_pcalloc(f->p, sizeof(*c));
        c->fail = AFB_EIO;
        apr_hash_set(f->urls, apr_pstrdup(f->p, url), APR_HASH_KEY_STRING, c);
    }
    return c;
}

static const char *const *copy_headers(apr_pool_t *p, const char *const *h)
{
    int n = 0, i;
    const char **out;
    while (h && h[n])
        n++;
    out = apr_pcalloc(p, sizeof(*out) * (size_t)(n + 1));
    for (i = 0; i < n; i++)
        out[i] = apr_pstrdup(p, h[i]);
    return out;
}

static void record(fake_http_t *f, const afb_http_request_t *req)
{
    afb_http_request_t *l = &f->last;
    *l = *req;
    l->method = req->method ? apr_pstrdup(f->p, req->method) : NULL;
    l->url = apr_pstrdup(f->p, req->url);
    l->headers = copy_headers(f->p, req->headers);
    l->body = req->body ? apr_pstrmemdup(f->p, req->body, req->body_len) : NULL;
    l->ca_file = req->ca_file ? apr_pstrdup(f->p, req->ca_file) : NULL;
    l->basic_user = req->basic_user ? apr_pstrdup(f->p, req->basic_user) : NULL;
    l->basic_password = req->basic_password ? apr_pstrdup(f->p, req->basic_password) : NULL;
    f->have_last = 1;
}

static afb_status_t fake_perform(afb_http_t *http, apr_pool_t *p, const afb_http_request_t *req,
                                 afb_http_response_t *resp)
{
    fake_http_t *f = http->baton;
    canned_t *c = entry(f, req->url);
    size_t max = req->max_response ? req->max_response : AFB_HTTP_DEFAULT_MAX_RESPONSE;
    c->calls++;
    f->total++;
    record(f, req);
    if (!c->body)
        return c->fail;
    if (strlen(c->body) > max)
        return AFB_ETOOBIG;
    resp->status = c->status;
    resp->body = apr_pstrdup(p, c->body);
    resp->len = strlen(c->body);
    resp->content_type = "application/json";
    return AFB_OK;
}

fake_http_t *fake_http_create(apr_pool_t *p)
{
    fake_http_t *f = apr_pcalloc(p, sizeof(*f));
    f->p = p;
    f->urls = apr_hash_make(p);
    f->http.perform = fake_perform;
    f->http.baton = f;
    return f;
}

afb_http_t *fake_http_transport(fake_http_t *f)
{
    return &f->http;
}

void fake_http_set(fake_http_t *f, const char *url, int status, const char *body)
{
    canned_t *c = entry(f, url);
    c->status = status;
    c->body = apr_pstrdup(f->p, body);
}

void fake_http_fail(fake_http_t *f, const char *url, afb_status_t st)
{
    canned_t *c = entry(f, url);
    c->body = NULL;
    c->fail = st;
}

void fake_http_clear(fake_http_t *f, const char *url)
{
    fake_http_fail(f, url, AFB_EIO);
}

int fake_http_calls(const fake_http_t *f, const char *url)
{
    canned_t *c = apr_hash_get(f->urls, url, APR_HASH_KEY_STRING);
    return c ? c->calls : 0;
}

int fake_http_total_calls(const fake_http_t *f)
{
    return f->total;
}

const afb_http_request_t *fake_http_last(const fake_http_t *f)
{
    return f->have_last ? &f->last : NULL;
}
