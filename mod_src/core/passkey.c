/* The passkey store (include/authfb/passkey.h): parse, edit, format. */
#include "authfb/passkey.h"
#include "authfb/util.h"

#include <string.h>
#include <apr_hash.h>
#include <apr_strings.h>

#define PK_FIELDS 8

struct afb_passkey_store_t {
    apr_array_header_t *all;   /* afb_passkey_t *, in file order; removed ones have user NULL */
    apr_hash_t *by_id;         /* id -> afb_passkey_t * */
    afb_skips_t skips;         /* records left out, with their reasons */
};

/* ---- fields ---------------------------------------------------------------------------- */

static int user_ok(const char *u)
{
    size_t n = u ? strlen(u) : 0;

    if (n == 0 || n > AFB_PASSKEY_MAX_USER)
        return 0;
    for (const char *c = u; *c; c++) {
        if ((unsigned char)*c < 0x20 || *c == 0x7f || *c == ':')
            return 0;
    }
    return 1;
}

static int label_ok(const char *l)
{
    if (l == NULL || strlen(l) > AFB_PASSKEY_MAX_LABEL)
        return 0;
    for (const char *c = l; *c; c++) {
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            return 0;
    }
    return 1;
}

/* Key lengths libfido2 takes (webauthn.h). */
static int key_len_ok(afb_wa_alg_t alg, size_t len)
{
    switch (alg) {
    case AFB_WA_ES256:
        return len == 64;
    case AFB_WA_RS256:
        return len == 259;
    case AFB_WA_EDDSA:
        return len == 32;
    }
    return 0;
}

static int id_ok(apr_pool_t *p, const char *id)
{
    unsigned char *raw = NULL;
    size_t n = 0;

    return id && *id && afb_b64url_decode(p, id, strlen(id), &raw, &n) == AFB_OK && n > 0
           && n <= AFB_WA_MAX_CRED_ID;
}

static int record_ok(apr_pool_t *p, const afb_passkey_t *c)
{
    return user_ok(c->user) && id_ok(p, c->id) && key_len_ok(c->key.alg, c->key.key_len)
           && c->created >= 0 && c->last_used >= 0 && label_ok(c->label);
}

static const char *parse_time(const char *s, apr_time_t *out)
{
    long v = 0;

    if (afb_parse_uint(s, 253402300799L, &v) != AFB_OK)  /* up to year 9999 */
        return "not a Unix time";
    *out = apr_time_from_sec(v);
    return NULL;
}

static const char *parse_key(apr_pool_t *p, const char *alg, const char *b64, afb_wa_pubkey_t *k)
{
    unsigned char *raw = NULL;
    size_t n = 0;

    if (afb_wa_alg_parse(alg, &k->alg) != AFB_OK)
        return "unknown key algorithm (es256, rs256 or eddsa)";
    if (afb_b64url_decode(p, b64, strlen(b64), &raw, &n) != AFB_OK)
        return "public key is not base64url";
    if (!key_len_ok(k->alg, n))
        return "public key has the wrong length for its algorithm";
    k->key = raw;
    k->key_len = n;
    return NULL;
}

/* Splits at the first PK_FIELDS-1 colons: the label keeps any later ones. */
static int split(char *line, char *f[PK_FIELDS])
{
    int n = 0;

    f[n++] = line;
    for (char *c = line; *c && n < PK_FIELDS; c++) {
        if (*c == ':') {
            *c = '\0';
            f[n++] = c + 1;
        }
    }
    return n;
}

static const char *parse_record(apr_pool_t *p, char *line, afb_passkey_t *c)
{
    char *f[PK_FIELDS];
    long count = 0;
    const char *why;

    if (split(line, f) != PK_FIELDS)
        return "expected 8 fields (user:id:alg:key:count:created:last-used:label)";
    c->user = f[0];
    c->id = f[1];
    c->label = f[7];
    if (!user_ok(c->user))
        return "bad user name";
    if (!id_ok(p, c->id))
        return "credential id is not base64url of 1..1023 bytes";
    if ((why = parse_key(p, f[2], f[3], &c->key)) != NULL)
        return why;
    if (afb_parse_uint(f[4], 4294967295L, &count) != AFB_OK)
        return "sign count is not 0..4294967295";
    c->sign_count = (uint32_t)count;
    if (parse_time(f[5], &c->created) != NULL || parse_time(f[6], &c->last_used) != NULL)
        return "created or last use is not a Unix time";
    if (!label_ok(c->label))
        return "label too long or with control characters";
    return NULL;
}

/* ---- parse ----------------------------------------------------------------------------- */

static afb_passkey_store_t *store_new(apr_pool_t *p)
{
    afb_passkey_store_t *s = apr_pcalloc(p, sizeof(*s));

    s->all = apr_array_make(p, 16, sizeof(afb_passkey_t *));
    s->by_id = apr_hash_make(p);
    return s;
}

typedef struct {
    apr_pool_t *p;
    afb_passkey_store_t *s;
} take_ctx_t;

static const char *take_line(void *baton, char *line)
{
    take_ctx_t *c = baton;
    afb_passkey_t *k = apr_pcalloc(c->p, sizeof(*k));
    const char *why;

    if ((why = parse_record(c->p, line, k)) != NULL)
        return why;
    if (apr_hash_get(c->s->by_id, k->id, APR_HASH_KEY_STRING) != NULL)
        return "credential id already enrolled on an earlier line";
    APR_ARRAY_PUSH(c->s->all, afb_passkey_t *) = k;
    apr_hash_set(c->s->by_id, k->id, APR_HASH_KEY_STRING, k);
    return NULL;
}

static int header_ok(const char *text, size_t len)
{
    size_t n = strlen(AFB_PASSKEY_HEADER);

    return len >= n && memcmp(text, AFB_PASSKEY_HEADER, n) == 0
           && (len == n || text[n] == '\n' || text[n] == '\r');
}

afb_status_t afb_passkey_store_parse(apr_pool_t *p, const char *text, size_t len,
                                     afb_passkey_store_t **out)
{
    afb_passkey_store_t *s = store_new(p);
    take_ctx_t c = {p, s};
    const char *err = NULL;
    char *copy;

    *out = NULL;
    if (len > 0 && (text == NULL || !header_ok(text, len)))
        return AFB_EINVAL;
    copy = apr_pstrmemdup(p, len ? text : "", len);
    /* A record that cannot be used is left out with its reason; the others still load. */
    if (afb_lines_each(p, copy, copy + len, AFB_PASSKEY_MAX_LINE, take_line, &c, &s->skips,
                       &err) != AFB_OK)
        return AFB_EINVAL;
    *out = s;
    return AFB_OK;
}

const afb_skips_t *afb_passkey_store_skips(const afb_passkey_store_t *s)
{
    return s ? &s->skips : NULL;
}

int afb_passkey_store_count(const afb_passkey_store_t *s)
{
    return s ? (int)apr_hash_count(s->by_id) : 0;
}

const afb_passkey_t *afb_passkey_store_find(const afb_passkey_store_t *s, const char *id)
{
    if (s == NULL || id == NULL)
        return NULL;
    return apr_hash_get(s->by_id, id, APR_HASH_KEY_STRING);
}

apr_array_header_t *afb_passkey_store_for_user(const afb_passkey_store_t *s, apr_pool_t *p,
                                               const char *user)
{
    apr_array_header_t *out = apr_array_make(p, 4, sizeof(const afb_passkey_t *));

    for (int i = 0; s && user && i < s->all->nelts; i++) {
        const afb_passkey_t *c = APR_ARRAY_IDX(s->all, i, const afb_passkey_t *);
        if (c->user && strcmp(c->user, user) == 0)
            APR_ARRAY_PUSH(out, const afb_passkey_t *) = c;
    }
    return out;
}

apr_array_header_t *afb_passkey_store_users(const afb_passkey_store_t *s, apr_pool_t *p)
{
    apr_hash_t *seen = apr_hash_make(p);
    apr_array_header_t *out = apr_array_make(p, 8, sizeof(const char *));

    for (int i = 0; s && i < s->all->nelts; i++) {
        const afb_passkey_t *c = APR_ARRAY_IDX(s->all, i, const afb_passkey_t *);
        if (c->user == NULL || apr_hash_get(seen, c->user, APR_HASH_KEY_STRING) != NULL)
            continue;
        apr_hash_set(seen, c->user, APR_HASH_KEY_STRING, c);
        APR_ARRAY_PUSH(out, const char *) = c->user;
    }
    return out;
}

/* ---- edits ----------------------------------------------------------------------------- */

static afb_passkey_t *owned(afb_passkey_store_t *s, const char *user, const char *id)
{
    afb_passkey_t *c = (afb_passkey_t *)afb_passkey_store_find(s, id);

    return (c && user && c->user && strcmp(c->user, user) == 0) ? c : NULL;
}

afb_status_t afb_passkey_store_add(afb_passkey_store_t *s, apr_pool_t *p, const afb_passkey_t *c)
{
    afb_passkey_t *copy;

    if (s == NULL || c == NULL || !record_ok(p, c))
        return AFB_EINVAL;
    if (afb_passkey_store_find(s, c->id) != NULL)
        return AFB_EMISMATCH;
    if (afb_passkey_store_for_user(s, p, c->user)->nelts >= AFB_PASSKEY_MAX_PER_USER)
        return AFB_ETOOBIG;
    copy = apr_pmemdup(p, c, sizeof(*c));
    copy->user = apr_pstrdup(p, c->user);
    copy->id = apr_pstrdup(p, c->id);
    copy->label = apr_pstrdup(p, c->label);
    copy->key.key = apr_pmemdup(p, c->key.key, c->key.key_len);
    APR_ARRAY_PUSH(s->all, afb_passkey_t *) = copy;
    apr_hash_set(s->by_id, copy->id, APR_HASH_KEY_STRING, copy);
    return AFB_OK;
}

afb_status_t afb_passkey_store_remove(afb_passkey_store_t *s, const char *user, const char *id)
{
    afb_passkey_t *c = owned(s, user, id);

    if (c == NULL)
        return AFB_ENOENT;
    apr_hash_set(s->by_id, c->id, APR_HASH_KEY_STRING, NULL);
    c->user = NULL;
    return AFB_OK;
}

afb_status_t afb_passkey_store_label(afb_passkey_store_t *s, apr_pool_t *p, const char *user,
                                     const char *id, const char *label)
{
    afb_passkey_t *c = owned(s, user, id);

    if (c == NULL)
        return AFB_ENOENT;
    if (!label_ok(label))
        return AFB_EINVAL;
    c->label = apr_pstrdup(p, label);
    return AFB_OK;
}

afb_status_t afb_passkey_store_touch(afb_passkey_store_t *s, const char *user, const char *id,
                                     uint32_t sign_count, apr_time_t now)
{
    afb_passkey_t *c = owned(s, user, id);

    if (c == NULL)
        return AFB_ENOENT;
    c->sign_count = sign_count;
    c->last_used = now < 0 ? 0 : now;
    return AFB_OK;
}

/* ---- format ---------------------------------------------------------------------------- */

const char *afb_passkey_store_format(const afb_passkey_store_t *s, apr_pool_t *p, size_t *len)
{
    apr_array_header_t *parts = apr_array_make(p, s->all->nelts + 1, sizeof(const char *));
    const char *text;

    APR_ARRAY_PUSH(parts, const char *) = AFB_PASSKEY_HEADER "\n";
    for (int i = 0; i < s->all->nelts; i++) {
        const afb_passkey_t *c = APR_ARRAY_IDX(s->all, i, const afb_passkey_t *);
        if (c->user == NULL)
            continue;
        APR_ARRAY_PUSH(parts, const char *) = apr_psprintf(
            p, "%s:%s:%s:%s:%u:%" APR_INT64_T_FMT ":%" APR_INT64_T_FMT ":%s\n", c->user, c->id,
            afb_wa_alg_name(c->key.alg), afb_b64url_encode(p, c->key.key, c->key.key_len),
            (unsigned)c->sign_count, (apr_int64_t)apr_time_sec(c->created),
            (apr_int64_t)apr_time_sec(c->last_used), c->label);
    }
    text = apr_array_pstrcat(p, parts, 0);
    *len = strlen(text);
    return text;
}

const char *afb_passkey_label_clean(apr_pool_t *p, const char *in, const char *dflt)
{
    char *out = apr_palloc(p, AFB_PASSKEY_MAX_LABEL + 1);
    size_t o = 0;

    for (const unsigned char *c = (const unsigned char *)(in ? in : ""); *c;) {
        size_t n = afb_utf8_seq_len(c, strnlen((const char *)c, 4));
        if (n == 0 || *c < 0x20 || *c == 0x7f) {
            c++;  /* control characters and invalid UTF-8 are dropped */
            continue;
        }
        if (o + n > AFB_PASSKEY_MAX_LABEL)
            break;
        memcpy(out + o, c, n);
        o += n;
        c += n;
    }
    while (o > 0 && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
    while (*out == ' ')
        out++;
    return *out ? out : dflt;
}
