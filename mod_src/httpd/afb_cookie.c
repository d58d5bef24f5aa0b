/* Reading, setting and stripping the module's cookies (AuthFallbackCookie). */
#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>

#include "afb_httpd.h"

APLOG_USE_MODULE(auth_fallback);

const char *afb_flow_cookie_name(request_rec *r)
{
    return apr_pstrcat(r->pool, afb_main_conf()->cookie_name, "_flow", NULL);
}

/* Find `name=value` in one Cookie header value; returns the value or NULL. */
static const char *afb_cookie_find(apr_pool_t *p, const char *hdr, const char *name)
{
    apr_size_t n = strlen(name);
    const char *s = hdr;
    while (s && *s) {
        const char *end;
        while (*s == ' ' || *s == '\t' || *s == ';')
            s++;
        end = strchr(s, ';');
        if (!strncmp(s, name, n) && s[n] == '=') {
            s += n + 1;
            return end ? apr_pstrndup(p, s, (apr_size_t)(end - s)) : apr_pstrdup(p, s);
        }
        s = end;
    }
    return NULL;
}

typedef struct {
    apr_pool_t *p;
    const char *name;
    const char *value;
} afb_cookie_search_t;

static int afb_cookie_each(void *baton, const char *key, const char *val)
{
    afb_cookie_search_t *cs = baton;
    (void)key;
    if (strlen(val) > AFB_COOKIE_HEADER_MAX_BYTES)
        return 1;
    cs->value = afb_cookie_find(cs->p, val, cs->name);
    return cs->value == NULL;
}

const char *afb_cookie_get(request_rec *r, const char *name)
{
    afb_cookie_search_t cs = {r->pool, name, NULL};
    apr_table_do(afb_cookie_each, &cs, r->headers_in, "Cookie", NULL);
    return cs.value && *cs.value ? cs.value : NULL;
}

static int afb_cookie_secure(request_rec *r)
{
    afb_server_conf_t *conf = afb_main_conf();
    if (conf->cookie_secure == AFB_SECURE_AUTO)
        return !strcmp(ap_http_scheme(r), "https");
    return conf->cookie_secure == AFB_SECURE_ON;
}

void afb_cookie_set(request_rec *r, const char *name, const char *value, long max_age,
                    const char *path)
{
    afb_server_conf_t *conf = afb_main_conf();
    const char *c = apr_pstrcat(r->pool, name, "=", value, "; Path=", path ? path : "/",
                                "; HttpOnly; SameSite=", conf->cookie_samesite, NULL);
    if (max_age >= 0)
        c = apr_psprintf(r->pool, "%s; Max-Age=%ld", c, max_age);
    if (conf->cookie_domain)
        c = apr_pstrcat(r->pool, c, "; Domain=", conf->cookie_domain, NULL);
    if (afb_cookie_secure(r) || !strcmp(conf->cookie_samesite, "None"))
        c = apr_pstrcat(r->pool, c, "; Secure", NULL);
    apr_table_addn(r->err_headers_out, "Set-Cookie", c);
}

void afb_cookie_clear(request_rec *r, const char *name, const char *path)
{
    afb_cookie_set(r, name, "", 0, path);
}

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

/* Remove our cookies from every Cookie header so the backend never sees them. */
void afb_cookie_strip(request_rec *r, const char *const *names)
{
    const apr_array_header_t *arr = apr_table_elts(r->headers_in);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    apr_array_header_t *keep = apr_array_make(r->pool, 4, sizeof(const char *));
    int i, found = 0;
    for (i = 0; i < arr->nelts; i++) {
        const char *s;
        if (!e[i].key || strcasecmp(e[i].key, "Cookie"))
            continue;
        for (s = e[i].val; s && *s;) {
            const char *end;
            while (*s == ' ' || *s == '\t' || *s == ';')
                s++;
            end = strchr(s, ';');
            if (!end)
                end = s + strlen(s);
            if (end > s && !afb_cookie_is_ours(s, (apr_size_t)(end - s), names))
                APR_ARRAY_PUSH(keep, const char *) = apr_pstrcat(
                    r->pool, keep->nelts ? " " : "", apr_pstrndup(r->pool, s, (apr_size_t)(end - s)),
                    NULL);
            else if (end > s)
                found = 1;
            s = end;
        }
    }
    if (!found)
        return;
    apr_table_unset(r->headers_in, "Cookie");
    if (keep->nelts)
        apr_table_setn(r->headers_in, "Cookie", apr_array_pstrcat(r->pool, keep, ';'));
}
