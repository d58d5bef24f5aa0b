/* What the module's own pages share (afb_page.h): the HTML frame, the 503 "sign-in
 * unavailable" page, redirects, reading a POSTed form, and the URLs under the endpoint. */
#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>
#include <util_filter.h>

#include "afb_page.h"
#include "afb_brand.h"
#include "authfb/webauthn.h"
#include "authfb/util.h"

APLOG_USE_MODULE(auth_fallback);

static const char afb_css[] =
    "body{font-family:system-ui,sans-serif;background:#f3f4f6;margin:0}"
    "main{max-width:24rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;"
    "box-shadow:0 1px 4px rgba(0,0,0,.15)}h1{font-size:1.3rem;margin-top:0}"
    "label{display:block;margin:.8rem 0 .2rem}input[type=text],input[type=password]"
    "{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem}"
    "button{margin-top:1.2rem;padding:.6rem 1.2rem;font-size:1rem}"
    ".err{color:#b00020}.note{color:#555;font-size:.9rem}"
    ".afb-brand{display:flex;align-items:center;gap:.6rem;margin-bottom:1rem}"
    ".afb-logo{max-height:3rem;max-width:100%}.afb-org{font-weight:600}"
    ".afb-help{border-top:1px solid #ddd;padding-top:.8rem;color:#333;font-size:.9rem}"
    "main a{overflow-wrap:anywhere}";

void afb_nocache(request_rec *r)
{
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->err_headers_out, "Pragma", "no-cache");
    apr_table_setn(r->err_headers_out, "X-Frame-Options", "DENY");
    apr_table_setn(r->err_headers_out, "Referrer-Policy", "no-referrer");
    /* the one script the pages carry (passkey forms) is allowed by its hash */
    apr_table_setn(r->err_headers_out, "Content-Security-Policy",
                   apr_pstrcat(r->pool, "default-src 'none'; style-src 'unsafe-inline'; img-src ",
                               afb_brand_img_src(r), "; script-src ",
                               afb_wa_browser_script_csp(r->pool), "; form-action 'self'; "
                               "frame-ancestors 'none'", NULL));
}

/* A page in the request's language and the configured frame; journey_end: the page leaves
 * the person with nothing to do here (access denied, 503, throttled, no second factor), so
 * the helpdesk line is shown (docs/branding.md). */
static int afb_page_frame(request_rec *r, int status, const char *title, const char *body_html,
                          int journey_end)
{
    const char *html = afb_brand_render(r, title, body_html, journey_end, afb_css);
    afb_nocache(r);
    if (status == HTTP_OK) {
        ap_set_content_type(r, "text/html; charset=utf-8");
        ap_set_content_length(r, (apr_off_t)strlen(html));
        if (!r->header_only)
            ap_rputs(html, r);
        return OK;
    }
    /* Error statuses go through ap_die so error headers and filters behave as usual; the page
     * says utf-8 itself, so httpd must not add its iso-8859-1 default. */
    apr_table_setn(r->subprocess_env, "suppress-error-charset", "1");
    ap_custom_response(r, status, html);
    return status;
}

int afb_page(request_rec *r, int status, const char *title, const char *body_html)
{
    return afb_page_frame(r, status, title, body_html, 0);
}

int afb_page_end(request_rec *r, int status, const char *title, const char *body_html)
{
    return afb_page_frame(r, status, title, body_html, 1);
}

/* "Try again": the address the person asked for, when it is a page of theirs (a GET outside the
 * module's own URLs). */
static const char *afb_try_again(request_rec *r)
{
    const char *ep = afb_module(r->server)->endpoint;
    if (r->method_number != M_GET || !r->unparsed_uri || !strncmp(r->uri, ep, strlen(ep)))
        return "";
    return apr_pstrcat(r->pool, "<p><a href=\"",
                       afb_html_escape(r->pool, afb_return_sanitize(r->pool, r->unparsed_uri)),
                       "\">", afb_h(r, AFB_MSG_TRY_AGAIN), "</a></p>", NULL);
}

int afb_unavailable_page(request_rec *r)
{
    const char *wait = apr_itoa(r->pool, AFB_RETRY_AFTER);
    apr_table_setn(r->err_headers_out, "Retry-After", wait);
    return afb_page_end(r, HTTP_SERVICE_UNAVAILABLE, afb_t(r, AFB_MSG_UNAVAILABLE_TITLE),
        apr_pstrcat(r->pool, "<p>", afb_h(r, AFB_MSG_UNAVAILABLE_TEXT), " ",
                    afb_msg_html(r->pool, afb_lang(r), AFB_MSG_UNAVAILABLE_WAIT, "seconds", wait,
                                 NULL),
                    "</p>", afb_try_again(r), "<p class=\"note\">",
                    afb_h(r, AFB_MSG_UNAVAILABLE_NOTE), "</p>", NULL));
}

int afb_bad_request(request_rec *r, afb_msg_id_t what)
{
    return afb_page(r, HTTP_BAD_REQUEST, afb_t(r, AFB_MSG_BADREQ_TITLE),
                    apr_pstrcat(r->pool, "<p>", afb_h(r, what), "</p>", NULL));
}

int afb_bad_request_text(request_rec *r, const char *what)
{
    return afb_page(r, HTTP_BAD_REQUEST, afb_t(r, AFB_MSG_BADREQ_TITLE),
                    apr_pstrcat(r->pool, "<p>", afb_html_escape(r->pool, what), "</p>", NULL));
}

/* Read a POSTed body of at most max bytes into a NUL-terminated buffer. */
static int afb_read_body(request_rec *r, apr_size_t max, char **out, apr_size_t *outlen)
{
    apr_bucket_brigade *bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    char *buf = apr_palloc(r->pool, max + 1);
    apr_size_t len = 0;
    int seen_eos = 0;
    do {
        apr_bucket *b;
        apr_status_t rv = ap_get_brigade(r->input_filters, bb, AP_MODE_READBYTES,
                                         APR_BLOCK_READ, 2048);
        if (rv != APR_SUCCESS)
            return HTTP_BAD_REQUEST;
        for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb); b = APR_BUCKET_NEXT(b)) {
            const char *data;
            apr_size_t n;
            if (APR_BUCKET_IS_EOS(b)) {
                seen_eos = 1;
                break;
            }
            if (apr_bucket_read(b, &data, &n, APR_BLOCK_READ) != APR_SUCCESS)
                return HTTP_BAD_REQUEST;
            if (n > max - len)
                return HTTP_REQUEST_ENTITY_TOO_LARGE;
            memcpy(buf + len, data, n);
            len += n;
        }
        apr_brigade_cleanup(bb);
    } while (!seen_eos);
    buf[len] = '\0';
    *out = buf;
    *outlen = len;
    return OK;
}

/* Parse an urlencoded POST body into *form; an HTTP status on failure. */
int afb_read_form(request_rec *r, apr_table_t **form)
{
    const char *ct = apr_table_get(r->headers_in, "Content-Type");
    char *body = NULL;
    apr_size_t len = 0;
    int st;
    if (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33))
        return HTTP_BAD_REQUEST;
    if ((st = afb_read_body(r, AFB_FORM_MAX_BYTES, &body, &len)) != OK)
        return st;
    if (afb_form_parse(r->pool, body, len, 16, form) != AFB_OK)
        return HTTP_BAD_REQUEST;
    return OK;
}

const char *afb_client_ip(request_rec *r)
{
    return r->useragent_ip ? r->useragent_ip : r->connection->client_ip;
}

int afb_redirect(request_rec *r, int status, const char *location)
{
    afb_nocache(r);
    apr_table_setn(r->err_headers_out, "Location", location);
    return status;
}

const char *afb_endpoint_url(request_rec *r, const char *name, const char *return_to)
{
    const char *base = apr_pstrcat(r->pool, afb_module(r->server)->endpoint, "/", name, NULL);
    if (!return_to)
        return base;
    return apr_pstrcat(r->pool, base, "?return=",
                       afb_pct_encode_path(r->pool, return_to), NULL);
}

int afb_is_browser(request_rec *r)
{
    const char *accept = apr_table_get(r->headers_in, "Accept");
    const char *xrw = apr_table_get(r->headers_in, "X-Requested-With");
    if (xrw && !strcasecmp(xrw, "XMLHttpRequest"))
        return 0;
    return accept && ap_strcasestr(accept, "text/html") != NULL;
}
