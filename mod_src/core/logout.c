/* Signing out everywhere: the logout hint and the pending logout, sealed records of
 * u16-length-prefixed fields (include/authfb/logout.h).
 *
 * Layout (version 1), after the version byte:
 *   hint:    provider | user | i64 issued (seconds, big-endian) | id_token
 *   pending: provider | state | return_to | i64 expires
 * A string field is u16 length (big-endian) + bytes: non-empty, no NUL, within its cap;
 * nothing may follow the last field. */
#include <string.h>
#include <apr_strings.h>

#include "authfb/logout.h"
#include "authfb/util.h"

#define LOGOUT_VERSION 1
#define HINT_PURPOSE "idtoken"
#define PENDING_PURPOSE "logout"

typedef struct {
    unsigned char *b;
    size_t len, cap;
} writer_t;

typedef struct {
    const unsigned char *p;
    size_t left;
} reader_t;

static int field_ok(const char *s, size_t max)
{
    return s && *s && strlen(s) <= max;
}

static void put_bytes(writer_t *w, const void *d, size_t n)
{
    memcpy(w->b + w->len, d, n);
    w->len += n;
}

static void put_str(writer_t *w, const char *s)
{
    size_t n = strlen(s);
    unsigned char h[2] = {(unsigned char)(n >> 8), (unsigned char)n};
    put_bytes(w, h, 2);
    put_bytes(w, s, n);
}

static void put_time(writer_t *w, apr_time_t t)
{
    unsigned char b[8];
    afb_be64_put(b, (uint64_t)(int64_t)apr_time_sec(t));
    put_bytes(w, b, 8);
}

static const char *get_str(apr_pool_t *p, reader_t *r, size_t max)
{
    size_t n;
    if (r->left < 2)
        return NULL;
    n = ((size_t)r->p[0] << 8) | r->p[1];
    if (n == 0 || n > max || r->left - 2 < n || memchr(r->p + 2, '\0', n))
        return NULL;
    r->p += 2 + n;
    r->left -= 2 + n;
    return apr_pstrmemdup(p, (const char *)r->p - n, n);
}

static int get_time(reader_t *r, apr_time_t *t)
{
    int64_t v;
    if (r->left < 8)
        return 0;
    v = (int64_t)afb_be64_get(r->p);
    r->p += 8;
    r->left -= 8;
    if (v < 0 || v > INT64_MAX / APR_USEC_PER_SEC)
        return 0;
    *t = apr_time_from_sec(v);
    return 1;
}

static writer_t writer(apr_pool_t *p, size_t cap)
{
    writer_t w;
    w.b = apr_palloc(p, cap + 1);
    w.len = 0;
    w.cap = cap;
    w.b[w.len++] = LOGOUT_VERSION;
    return w;
}

/* Unseals and checks the version; *r is the rest. */
static afb_status_t open_record(const afb_keyring_t *kr, apr_pool_t *p, const char *purpose,
                                const char *cookie, reader_t *r)
{
    unsigned char *pt = NULL;
    size_t len = 0;
    if (!cookie || afb_unseal(kr, p, purpose, cookie, &pt, &len) != AFB_OK || len < 1 ||
        pt[0] != LOGOUT_VERSION)
        return AFB_EINVAL;
    r->p = pt + 1;
    r->left = len - 1;
    return AFB_OK;
}

afb_status_t afb_logout_hint_seal(const afb_keyring_t *kr, apr_pool_t *p,
                                  const afb_logout_hint_t *in, const char **cookie)
{
    writer_t w;
    if (in->id_token && strlen(in->id_token) > AFB_LOGOUT_ID_TOKEN_MAX)
        return AFB_ETOOBIG;
    if (!field_ok(in->provider, AFB_LOGOUT_FIELD_MAX) || !field_ok(in->user, AFB_LOGOUT_FIELD_MAX)
        || !field_ok(in->id_token, AFB_LOGOUT_ID_TOKEN_MAX))
        return AFB_EINVAL;
    w = writer(p, 1 + 3 * 2 + 2 * AFB_LOGOUT_FIELD_MAX + 8 + AFB_LOGOUT_ID_TOKEN_MAX);
    put_str(&w, in->provider);
    put_str(&w, in->user);
    put_time(&w, in->issued);
    put_str(&w, in->id_token);
    return afb_seal(kr, p, HINT_PURPOSE, w.b, w.len, cookie);
}

afb_status_t afb_logout_hint_open(const afb_keyring_t *kr, apr_pool_t *p, const char *cookie,
                                  afb_logout_hint_t *out)
{
    reader_t r;
    memset(out, 0, sizeof(*out));
    if (open_record(kr, p, HINT_PURPOSE, cookie, &r) != AFB_OK)
        return AFB_EINVAL;
    out->provider = get_str(p, &r, AFB_LOGOUT_FIELD_MAX);
    out->user = out->provider ? get_str(p, &r, AFB_LOGOUT_FIELD_MAX) : NULL;
    if (!out->user || !get_time(&r, &out->issued) ||
        !(out->id_token = get_str(p, &r, AFB_LOGOUT_ID_TOKEN_MAX)) || r.left) {
        memset(out, 0, sizeof(*out));
        return AFB_EINVAL;
    }
    return AFB_OK;
}

afb_status_t afb_logout_pending_seal(const afb_keyring_t *kr, apr_pool_t *p,
                                     const afb_logout_pending_t *in, const char **cookie)
{
    writer_t w;
    if (!field_ok(in->provider, AFB_LOGOUT_FIELD_MAX) || !field_ok(in->state, AFB_LOGOUT_FIELD_MAX)
        || !field_ok(in->return_to, AFB_LOGOUT_FIELD_MAX))
        return AFB_EINVAL;
    w = writer(p, 1 + 3 * (2 + AFB_LOGOUT_FIELD_MAX) + 8);
    put_str(&w, in->provider);
    put_str(&w, in->state);
    put_str(&w, in->return_to);
    put_time(&w, in->expires);
    return afb_seal(kr, p, PENDING_PURPOSE, w.b, w.len, cookie);
}

afb_status_t afb_logout_pending_open(const afb_keyring_t *kr, apr_pool_t *p, const char *cookie,
                                     const char *state, apr_time_t now,
                                     afb_logout_pending_t *out)
{
    reader_t r;
    memset(out, 0, sizeof(*out));
    if (open_record(kr, p, PENDING_PURPOSE, cookie, &r) != AFB_OK)
        return AFB_EINVAL;
    out->provider = get_str(p, &r, AFB_LOGOUT_FIELD_MAX);
    out->state = out->provider ? get_str(p, &r, AFB_LOGOUT_FIELD_MAX) : NULL;
    out->return_to = out->state ? get_str(p, &r, AFB_LOGOUT_FIELD_MAX) : NULL;
    if (!out->return_to || !get_time(&r, &out->expires) || r.left) {
        memset(out, 0, sizeof(*out));
        return AFB_EINVAL;
    }
    out->return_to = afb_return_sanitize(p, out->return_to);
    if (!state || !afb_ct_streq(state, out->state))
        return AFB_EMISMATCH;
    return now >= out->expires ? AFB_EEXPIRED : AFB_OK;
}

const char *afb_logout_url(apr_pool_t *p, const char *end_session_endpoint,
                           const char *client_id, const char *id_token_hint,
                           const char *post_logout_redirect_uri, const char *state)
{
    return apr_pstrcat(p, end_session_endpoint, strchr(end_session_endpoint, '?') ? "&" : "?",
                       "client_id=", afb_pct_encode(p, client_id, 0),
                       id_token_hint ? "&id_token_hint=" : "",
                       id_token_hint ? afb_pct_encode(p, id_token_hint, 0) : "",
                       "&post_logout_redirect_uri=",
                       afb_pct_encode(p, post_logout_redirect_uri, 0),
                       "&state=", afb_pct_encode(p, state, 0), NULL);
}
