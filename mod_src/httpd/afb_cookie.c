/* Reading, setting and stripping the module's cookies (AuthFallbackCookie; afb_cookie.h). */
#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>

#include "afb_cookie.h"

APLOG_USE_MODULE(auth_fallback);

const char *afb_flow_cookie_name(request_rec *r)
{
    return apr_pstrcat(r->pool, afb_module(r->server)->cookie_name, "_flow", NULL);
}

/* ---- the one scanner ---- */

/* Called with each `name=value` segment of a Cookie header (not NUL-terminated); returns 0
 * to stop. */
typedef int afb_cookie_seg_fn(void *baton, const char *seg, apr_size_t len);

static int afb_cookie_segments(const char *hdr, afb_cookie_seg_fn *fn, void *baton)
{
    const char *s = hdr;
    while (s && *s) {
        const char *end;
        while (*s == ' ' || *s == '\t' || *s == ';')
            s++;
        end = strchr(s, ';');
        if (!end)
            end = s + strlen(s);
        if (end > s && !fn(baton, s, (apr_size_t)(end - s)))
            return 0;
        s = end;
    }
    return 1;
}

typedef struct {
    afb_cookie_seg_fn *fn;
    void *baton;
    apr_size_t cap;          /* headers longer than this are passed over; 0: none is */
} afb_cookie_walk_t;

static int afb_cookie_header(void *baton, const char *key, const char *val)
{
    afb_cookie_walk_t *w = baton;
    (void)key;
    if (w->cap && strlen(val) > w->cap)
        return 1;
    return afb_cookie_segments(val, w->fn, w->baton);
}

static void afb_cookie_walk(request_rec *r, apr_size_t cap, afb_cookie_seg_fn *fn, void *baton)
{
    afb_cookie_walk_t w = {fn, baton, cap};
    apr_table_do(afb_cookie_header, &w, r->headers_in, "Cookie", NULL);
}

/* ---- reading ---- */

typedef struct {
    request_rec *r;
    const char *prefix;
    apr_size_t n;            /* get: the name's length; names: the wanted name length */
    const char *value;
    apr_array_header_t *names;
} afb_cookie_find_t;

static int afb_cookie_match(void *baton, const char *seg, apr_size_t len)
{
    afb_cookie_find_t *f = baton;
    if (len <= f->n || strncmp(seg, f->prefix, f->n) || seg[f->n] != '=')
        return 1;
    f->value = apr_pstrndup(f->r->pool, seg + f->n + 1, len - f->n - 1);
    return 0;
}

const char *afb_cookie_get(request_rec *r, const char *name)
{
    afb_cookie_find_t f = {r, name, strlen(name), NULL, NULL};
    afb_cookie_walk(r, AFB_COOKIE_HEADER_MAX_BYTES, afb_cookie_match, &f);
    return f.value && *f.value ? f.value : NULL;
}

static int afb_cookie_name_match(void *baton, const char *seg, apr_size_t len)
{
    afb_cookie_find_t *f = baton;
    const char *eq = memchr(seg, '=', len);
    apr_size_t plen = strlen(f->prefix);
    if (eq && (apr_size_t)(eq - seg) == f->n && !strncmp(seg, f->prefix, plen))
        APR_ARRAY_PUSH(f->names, const char *) = apr_pstrndup(f->r->pool, seg, f->n);
    return 1;
}

apr_array_header_t *afb_cookie_names(request_rec *r, const char *prefix, apr_size_t namelen)
{
    afb_cookie_find_t f = {r, prefix, namelen, NULL, NULL};
    f.names = apr_array_make(r->pool, 4, sizeof(const char *));
    afb_cookie_walk(r, 0, afb_cookie_name_match, &f);
    return f.names;
}

/* ---- setting ---- */

/* The one Secure rule: on when AuthFallbackCookie secure=on, or secure=auto over HTTPS. */
static int afb_cookie_secure(request_rec *r)
{
    afb_module_t *mod = afb_module(r->server);
    if (mod->cookie_secure == AFB_SECURE_AUTO)
        return !strcmp(ap_http_scheme(r), "https");
    return mod->cookie_secure == AFB_SECURE_ON;
}

static void afb_cookie_write(request_rec *r, const char *name, const char *value,
                             long max_age, const char *path, const char *samesite,
                             const char *domain)
{
    const char *c = apr_pstrcat(r->pool, name, "=", value, "; Path=", path ? path : "/",
                                "; HttpOnly; SameSite=", samesite, NULL);
    if (max_age >= 0)
        c = apr_psprintf(r->pool, "%s; Max-Age=%ld", c, max_age);
    if (domain)
        c = apr_pstrcat(r->pool, c, "; Domain=", domain, NULL);
    if (afb_cookie_secure(r) || !strcmp(samesite, "None"))
        c = apr_pstrcat(r->pool, c, "; Secure", NULL);
    apr_table_addn(r->err_headers_out, "Set-Cookie", c);
}

void afb_cookie_set(request_rec *r, const char *name, const char *value, long max_age,
                    const char *path)
{
    afb_module_t *mod = afb_module(r->server);
    afb_cookie_write(r, name, value, max_age, path, mod->cookie_samesite, mod->cookie_domain);
}

void afb_cookie_clear(request_rec *r, const char *name, const char *path)
{
    afb_cookie_set(r, name, "", 0, path);
}

void afb_cookie_set_lax(request_rec *r, const char *name, const char *value, long max_age)
{
    afb_cookie_write(r, name, value, max_age, "/", "Lax", NULL);
}

/* ---- keeping them from the backend ---- */

/* A name ending in '*' matches every cookie name with that prefix. */
static int afb_cookie_is_ours(const char *s, apr_size_t len, const char *const *names)
{
    for (; *names; names++) {
        apr_size_t n = strlen(*names);
        const char *eq = memchr(s, '=', len);
        if (n && (*names)[n - 1] == '*' && eq && !strncmp(s, *names, n - 1))
            return 1;
        if (len > n && !strncmp(s, *names, n) && s[n] == '=')
            return 1;
    }
    return 0;
}

typedef struct {
    request_rec *r;
    const char *const *names;
    apr_array_header_t *keep;
    int found;
} afb_cookie_strip_t;

static int afb_cookie_keep(void *baton, const char *seg, apr_size_t len)
{
    afb_cookie_strip_t *st = baton;
    if (afb_cookie_is_ours(seg, len, st->names))
        st->found = 1;
    else
        APR_ARRAY_PUSH(st->keep, const char *) = apr_pstrcat(
            st->r->pool, st->keep->nelts ? " " : "", apr_pstrndup(st->r->pool, seg, len), NULL);
    return 1;
}

void afb_cookie_strip(request_rec *r, const char *const *names)
{
    afb_cookie_strip_t st = {r, names, apr_array_make(r->pool, 4, sizeof(const char *)), 0};
    afb_cookie_walk(r, 0, afb_cookie_keep, &st);
    if (!st.found)
        return;
    apr_table_unset(r->headers_in, "Cookie");
    if (st.keep->nelts)
        apr_table_setn(r->headers_in, "Cookie", apr_array_pstrcat(r->pool, st.keep, ';'));
}
