/* The session cookie: a compact binary record sealed with purpose "session".
 *
 * Layout (version 1):
 *   u8 version | u8 flags (bit0 degraded, bit1 extended) | i64 issued | i64 expires
 *   (seconds, big-endian) | u8 len + user | u8 len + path | u8 len + mfa
 *   [flag bit2: u8 n | n x (u8 len + claim name | u8 len + claim value)]
 * Every field must be present, non-empty, without NUL, at most AFB_SESSION_MAX_FIELD bytes;
 * nothing may follow the last field. */
#include "authfb/session.h"
#include "authfb/util.h"

#include <string.h>
#include <apr_strings.h>

#define SESSION_VERSION 1
#define SESSION_PURPOSE "session"
#define FLAG_DEGRADED 0x01
#define FLAG_EXTENDED 0x02
#define FLAG_CLAIMS 0x04
#define FLAGS_KNOWN (FLAG_DEGRADED | FLAG_EXTENDED | FLAG_CLAIMS)
#define SESSION_FIXED (1 + 1 + 8 + 8)
#define SESSION_MAX (SESSION_FIXED + 3 * (1 + AFB_SESSION_MAX_FIELD) + 1 + \
                     2 * AFB_SESSION_MAX_CLAIMS + AFB_SESSION_CLAIMS_BYTES)

typedef struct {
    const unsigned char *p;
    size_t left;
} reader_t;

static void put_i64(unsigned char *b, apr_time_t t)
{
    afb_be64_put(b, (uint64_t)(int64_t)apr_time_sec(t));
}

static int get_i64(reader_t *r, apr_time_t *t)
{
    uint64_t v;

    if (r->left < 8) {
        return 0;
    }
    v = afb_be64_get(r->p);
    r->p += 8;
    r->left -= 8;
    /* Seconds beyond what apr_time_t can hold in microseconds are not ours. */
    if ((int64_t)v > INT64_MAX / APR_USEC_PER_SEC || (int64_t)v < INT64_MIN / APR_USEC_PER_SEC) {
        return 0;
    }
    *t = apr_time_from_sec((int64_t)v);
    return 1;
}

static int field_ok(const char *s)
{
    return s != NULL && *s != '\0' && strlen(s) <= AFB_SESSION_MAX_FIELD;
}

static size_t put_str(unsigned char *b, const char *s)
{
    size_t n = strlen(s);

    b[0] = (unsigned char)n;
    memcpy(b + 1, s, n);
    return n + 1;
}

static const char *get_str(apr_pool_t *p, reader_t *r)
{
    size_t n;

    if (r->left < 1) {
        return NULL;
    }
    n = r->p[0];
    if (n == 0 || r->left - 1 < n || memchr(r->p + 1, '\0', n) != NULL) {
        return NULL;
    }
    r->p += 1 + n;
    r->left -= 1 + n;
    return apr_pstrmemdup(p, (const char *)r->p - n, n);
}

static int claim_name_ok(const char *s)
{
    size_t i, n = s ? strlen(s) : 0;
    if (n == 0 || n > AFB_SESSION_MAX_CLAIM_NAME)
        return 0;
    for (i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

static int claim_value_ok(const char *s)
{
    const unsigned char *c;
    if (!field_ok(s))
        return 0;
    for (c = (const unsigned char *)s; *c; c++)
        if (*c < 0x20 || *c == 0x7f)
            return 0;
    return 1;
}

static int claims_ok(const afb_session_t *s)
{
    size_t total = 0;
    int i;
    if (s->n_claims < 0 || s->n_claims > AFB_SESSION_MAX_CLAIMS)
        return 0;
    for (i = 0; i < s->n_claims; i++) {
        if (!claim_name_ok(s->claim_name[i]) || !claim_value_ok(s->claim_value[i]))
            return 0;
        total += strlen(s->claim_name[i]) + strlen(s->claim_value[i]);
    }
    return total <= AFB_SESSION_CLAIMS_BYTES;
}

afb_status_t afb_session_seal(const afb_keyring_t *kr, apr_pool_t *p, const afb_session_t *s,
                              const char **cookie)
{
    unsigned char buf[SESSION_MAX];
    size_t o;
    int i;

    if (s == NULL || cookie == NULL || !field_ok(s->user) || !field_ok(s->path)
        || !field_ok(s->mfa) || !claims_ok(s)) {
        return AFB_EINVAL;
    }
    buf[0] = SESSION_VERSION;
    buf[1] = (unsigned char)((s->degraded ? FLAG_DEGRADED : 0) | (s->extended ? FLAG_EXTENDED : 0)
                             | (s->n_claims ? FLAG_CLAIMS : 0));
    put_i64(buf + 2, s->issued);
    put_i64(buf + 10, s->expires);
    o = SESSION_FIXED;
    o += put_str(buf + o, s->user);
    o += put_str(buf + o, s->path);
    o += put_str(buf + o, s->mfa);
    if (s->n_claims) {
        buf[o++] = (unsigned char)s->n_claims;
        for (i = 0; i < s->n_claims; i++) {
            o += put_str(buf + o, s->claim_name[i]);
            o += put_str(buf + o, s->claim_value[i]);
        }
    }
    return afb_seal(kr, p, SESSION_PURPOSE, buf, o, cookie);
}

static int get_claims(apr_pool_t *p, reader_t *r, afb_session_t *s)
{
    int i, n;
    if (r->left < 1)
        return 0;
    n = r->p[0];
    r->p++;
    r->left--;
    if (n < 1 || n > AFB_SESSION_MAX_CLAIMS)
        return 0;
    for (i = 0; i < n; i++) {
        if ((s->claim_name[i] = get_str(p, r)) == NULL ||
            (s->claim_value[i] = get_str(p, r)) == NULL)
            return 0;
    }
    s->n_claims = n;
    return claims_ok(s);
}

/* Parse an authenticated plaintext into *s. */
static afb_status_t session_parse(apr_pool_t *p, const unsigned char *pt, size_t len,
                                  afb_session_t *s)
{
    reader_t r = { pt, len };
    unsigned char flags;

    if (len < SESSION_FIXED || pt[0] != SESSION_VERSION || (pt[1] & ~FLAGS_KNOWN) != 0) {
        return AFB_EINVAL;
    }
    flags = pt[1];
    r.p += 2;
    r.left -= 2;
    memset(s, 0, sizeof(*s));
    if (!get_i64(&r, &s->issued) || !get_i64(&r, &s->expires)
        || (s->user = get_str(p, &r)) == NULL || (s->path = get_str(p, &r)) == NULL
        || (s->mfa = get_str(p, &r)) == NULL) {
        return AFB_EINVAL;
    }
    if ((flags & FLAG_CLAIMS) && !get_claims(p, &r, s))
        return AFB_EINVAL;
    if (r.left != 0)
        return AFB_EINVAL;
    s->degraded = (flags & FLAG_DEGRADED) != 0;
    s->extended = (flags & FLAG_EXTENDED) != 0;
    return AFB_OK;
}

afb_status_t afb_session_open(const afb_keyring_t *kr, apr_pool_t *p, const char *cookie,
                              apr_time_t now, afb_session_t *out)
{
    afb_session_t s;
    unsigned char *pt;
    size_t len;

    if (out == NULL || afb_unseal(kr, p, SESSION_PURPOSE, cookie, &pt, &len) != AFB_OK
        || session_parse(p, pt, len, &s) != AFB_OK) {
        return AFB_EINVAL;
    }
    *out = s;
    return now >= s.expires ? AFB_EEXPIRED : AFB_OK;
}
