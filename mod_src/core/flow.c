/* A sign-in in progress: a compact binary record sealed with purpose "flow".
 *
 * Layout (version 1), integers big-endian:
 *   u8 version | u8 stage | u8 flags (bit0 degraded, bit1 mfa_allow_none, bit2 drill,
 *   bit3 standby) | u8 n_mfa
 *   | i64 lifetime | i64 fallback_lifetime | i64 expires (seconds)
 *   | str return_to | str csrf | str location | str path | str user | n_mfa x str mfa
 *   [| str standby, when flags bit3 is set]
 * where str = u16 length + bytes (no NUL); length 0 stands for an absent (NULL) optional
 * field. The same validation runs before sealing and after opening. */
#include "authfb/flow.h"
#include "authfb/util.h"

#include <limits.h>
#include <string.h>
#include <apr_strings.h>

#define FLOW_VERSION 1
#define FLOW_PURPOSE "flow"
#define FLAG_DEGRADED 0x01
#define FLAG_ALLOW_NONE 0x02
#define FLAG_DRILL 0x04
#define FLAG_STANDBY 0x08
#define FLAGS_KNOWN (FLAG_DEGRADED | FLAG_ALLOW_NONE | FLAG_DRILL | FLAG_STANDBY)
#define FLOW_FIXED (4 + 8 + 8)
#define FLOW_RETURN_MAX 2048  /* as afb_return_sanitize */
#define FLOW_FIELD_MAX 255    /* every other string */
#define FLOW_MAX (FLOW_FIXED + 2 + FLOW_RETURN_MAX + (5 + AFB_FLOW_MAX_MFA) * (2 + FLOW_FIELD_MAX))

typedef struct {
    unsigned char *b;
    size_t len;
} writer_t;

typedef struct {
    const unsigned char *p;
    size_t left;
} reader_t;

/* ---- validation ----------------------------------------------------------------------- */

static int str_ok(const char *s, size_t max, int required)
{
    if (s == NULL) {
        return !required;
    }
    return *s != '\0' && strlen(s) <= max;
}

static int flow_valid(apr_pool_t *p, const afb_flow_t *f)
{
    int i;

    if ((f->stage != AFB_FLOW_PASSWORD && f->stage != AFB_FLOW_MFA && f->stage != AFB_FLOW_STANDBY)
        || f->n_mfa < 0 || f->n_mfa > AFB_FLOW_MAX_MFA || f->lifetime < 0 || f->expires < 0
        || !str_ok(f->return_to, FLOW_RETURN_MAX, 1)
        || strcmp(afb_return_sanitize(p, f->return_to), f->return_to) != 0
        || !str_ok(f->csrf, FLOW_FIELD_MAX, 1) || !str_ok(f->location, FLOW_FIELD_MAX, 0)
        || !str_ok(f->path, FLOW_FIELD_MAX, 1) || !str_ok(f->standby, FLOW_FIELD_MAX, 0)
        || !str_ok(f->user, FLOW_FIELD_MAX, f->stage == AFB_FLOW_MFA)) {
        return 0;
    }
    for (i = 0; i < f->n_mfa; i++) {
        if (!str_ok(f->mfa[i], FLOW_FIELD_MAX, 1)) {
            return 0;
        }
    }
    return 1;
}

/* ---- writing -------------------------------------------------------------------------- */

static void put_u8(writer_t *w, unsigned int v)
{
    w->b[w->len++] = (unsigned char)v;
}

static void put_i64(writer_t *w, int64_t sv)
{
    afb_be64_put(w->b + w->len, (uint64_t)sv);
    w->len += 8;
}

static void put_str(writer_t *w, const char *s)
{
    size_t n = s ? strlen(s) : 0;

    put_u8(w, (unsigned int)(n >> 8));
    put_u8(w, (unsigned int)(n & 0xff));
    if (n > 0) {
        memcpy(w->b + w->len, s, n);
        w->len += n;
    }
}

static void flow_write(writer_t *w, const afb_flow_t *f)
{
    int i;

    put_u8(w, FLOW_VERSION);
    put_u8(w, (unsigned int)f->stage);
    put_u8(w, (f->degraded ? FLAG_DEGRADED : 0u) | (f->mfa_allow_none ? FLAG_ALLOW_NONE : 0u)
              | (f->drill ? FLAG_DRILL : 0u) | (f->standby ? FLAG_STANDBY : 0u));
    put_u8(w, (unsigned int)f->n_mfa);
    put_i64(w, (int64_t)f->lifetime);
    put_i64(w, (int64_t)f->fallback_lifetime);
    put_i64(w, (int64_t)apr_time_sec(f->expires));
    put_str(w, f->return_to);
    put_str(w, f->csrf);
    put_str(w, f->location);
    put_str(w, f->path);
    put_str(w, f->user);
    for (i = 0; i < f->n_mfa; i++) {
        put_str(w, f->mfa[i]);
    }
    if (f->standby) {
        put_str(w, f->standby);
    }
}

afb_status_t afb_flow_seal(const afb_keyring_t *kr, apr_pool_t *p, const afb_flow_t *f,
                           const char **cookie)
{
    afb_flow_t copy;
    writer_t w;

    if (f == NULL || cookie == NULL) {
        return AFB_EINVAL;
    }
    copy = *f;
    copy.return_to = afb_return_sanitize(p, f->return_to);
    if (!flow_valid(p, &copy)) {
        return AFB_EINVAL;
    }
    w.b = apr_palloc(p, FLOW_MAX);
    w.len = 0;
    flow_write(&w, &copy);
    return afb_seal(kr, p, FLOW_PURPOSE, w.b, w.len, cookie);
}

/* ---- reading -------------------------------------------------------------------------- */

static int get_u8(reader_t *r, unsigned int *v)
{
    if (r->left < 1) {
        return 0;
    }
    *v = r->p[0];
    r->p++;
    r->left--;
    return 1;
}

static int get_i64(reader_t *r, int64_t *out)
{
    if (r->left < 8) {
        return 0;
    }
    *out = (int64_t)afb_be64_get(r->p);
    r->p += 8;
    r->left -= 8;
    return 1;
}

/* A string field; *s = NULL for an absent one. 0 on overrun or a NUL byte. */
static int get_str(apr_pool_t *p, reader_t *r, const char **s)
{
    unsigned int hi, lo;
    size_t n;

    if (!get_u8(r, &hi) || !get_u8(r, &lo)) {
        return 0;
    }
    n = (hi << 8) | lo;
    if (n > r->left || (n > 0 && memchr(r->p, '\0', n) != NULL)) {
        return 0;
    }
    *s = n > 0 ? apr_pstrmemdup(p, (const char *)r->p, n) : NULL;
    r->p += n;
    r->left -= n;
    return 1;
}

static int flow_read_head(reader_t *r, afb_flow_t *f, int *has_standby)
{
    unsigned int version, stage, flags, n_mfa;
    int64_t lifetime, fallback_lifetime, expires;

    if (!get_u8(r, &version) || !get_u8(r, &stage) || !get_u8(r, &flags) || !get_u8(r, &n_mfa)
        || !get_i64(r, &lifetime) || !get_i64(r, &fallback_lifetime) || !get_i64(r, &expires)) {
        return 0;
    }
    if (version != FLOW_VERSION || (flags & ~(unsigned int)FLAGS_KNOWN) != 0
        || n_mfa > AFB_FLOW_MAX_MFA || lifetime < 0 || lifetime > LONG_MAX
        || fallback_lifetime < 0 || fallback_lifetime > LONG_MAX
        || expires > INT64_MAX / APR_USEC_PER_SEC || expires < 0) {
        return 0;
    }
    f->stage = (afb_flow_stage_t)stage;
    f->degraded = (flags & FLAG_DEGRADED) != 0;
    f->mfa_allow_none = (flags & FLAG_ALLOW_NONE) != 0;
    f->drill = (flags & FLAG_DRILL) != 0;
    *has_standby = (flags & FLAG_STANDBY) != 0;
    f->n_mfa = (int)n_mfa;
    f->lifetime = (long)lifetime;
    f->fallback_lifetime = (long)fallback_lifetime;
    f->expires = apr_time_from_sec(expires);
    return 1;
}

static int flow_read(apr_pool_t *p, reader_t *r, afb_flow_t *f)
{
    int i, has_standby = 0;

    memset(f, 0, sizeof(*f));
    if (!flow_read_head(r, f, &has_standby) || !get_str(p, r, &f->return_to)
        || !get_str(p, r, &f->csrf)
        || !get_str(p, r, &f->location) || !get_str(p, r, &f->path)
        || !get_str(p, r, &f->user)) {
        return 0;
    }
    for (i = 0; i < f->n_mfa; i++) {
        if (!get_str(p, r, &f->mfa[i])) {
            return 0;
        }
    }
    if (has_standby && (!get_str(p, r, &f->standby) || f->standby == NULL)) {
        return 0;
    }
    return r->left == 0;
}

afb_status_t afb_flow_open(const afb_keyring_t *kr, apr_pool_t *p, const char *cookie,
                           apr_time_t now, afb_flow_t *out)
{
    afb_flow_t f;
    unsigned char *pt;
    size_t len;
    reader_t r;

    if (out == NULL || afb_unseal(kr, p, FLOW_PURPOSE, cookie, &pt, &len) != AFB_OK) {
        return AFB_EINVAL;
    }
    r.p = pt;
    r.left = len;
    if (!flow_read(p, &r, &f) || !flow_valid(p, &f)) {
        return AFB_EINVAL;
    }
    *out = f;
    return now >= f.expires ? AFB_EEXPIRED : AFB_OK;
}
