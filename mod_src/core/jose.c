/* JWK sets and compact JWS verification (RS256, PS256, ES256) with OpenSSL 3 EVP. */
#include "authfb/jose.h"
#include "authfb/util.h"

#include <string.h>
#include <apr_strings.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#define KID_MAX 256
#define RSA_MIN_BITS 2048
#define RSA_MAX_N_BYTES 1024 /* 8192 bits */
#define RSA_MAX_E_BYTES 8
#define P256_COORD 32

typedef enum { KTY_RSA = 1, KTY_EC = 2 } kty_t;

typedef struct {
    const char *kid;   /* NULL when the JWK has none */
    kty_t kty;
    unsigned alg;      /* the JWK's own "alg" bit, 0 when absent */
    EVP_PKEY *pkey;
} jwk_t;

struct afb_jwks_t {
    int n;
    jwk_t keys[AFB_JWKS_MAX_KEYS];
};

static const struct {
    const char *name;
    unsigned bit;
} alg_names[] = {
    {"RS256", AFB_JWS_RS256},
    {"PS256", AFB_JWS_PS256},
    {"ES256", AFB_JWS_ES256},
};

unsigned afb_jws_alg_from_name(const char *name)
{
    size_t i;
    if (!name)
        return 0;
    for (i = 0; i < sizeof(alg_names) / sizeof(alg_names[0]); i++)
        if (strcmp(name, alg_names[i].name) == 0)
            return alg_names[i].bit;
    return 0;
}

const char *afb_jws_alg_name(unsigned alg)
{
    size_t i;
    for (i = 0; i < sizeof(alg_names) / sizeof(alg_names[0]); i++)
        if (alg == alg_names[i].bit)
            return alg_names[i].name;
    return "unknown";
}

static kty_t alg_kty(unsigned alg)
{
    return alg == AFB_JWS_ES256 ? KTY_EC : KTY_RSA;
}

/* ---- strict base64url ---- */

static int b64url_clean(const char *s, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

static afb_status_t b64url_dec(apr_pool_t *p, const char *s, size_t len, unsigned char **out,
                               size_t *outlen)
{
    if (len == 0 || !b64url_clean(s, len))
        return AFB_EINVAL;
    return afb_b64url_decode(p, s, len, out, outlen);
}

/* A base64url string member of a JWK, decoded, with a length range. */
static afb_status_t jwk_bytes(apr_pool_t *p, json_t *jwk, const char *name, size_t min,
                              size_t max, unsigned char **out, size_t *len)
{
    json_t *v = json_object_get(jwk, name);
    const char *s;
    size_t slen;
    if (!json_is_string(v))
        return AFB_EINVAL;
    s = json_string_value(v);
    slen = json_string_length(v);
    if (slen > (max * 4) / 3 + 4)
        return AFB_EINVAL;
    if (b64url_dec(p, s, slen, out, len) != AFB_OK)
        return AFB_EINVAL;
    return (*len >= min && *len <= max) ? AFB_OK : AFB_EINVAL;
}

/* ---- building EVP keys ---- */

static EVP_PKEY *pkey_fromdata(const char *type, OSSL_PARAM_BLD *bld)
{
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    EVP_PKEY *pkey = NULL;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return pkey;
}

static EVP_PKEY *rsa_key(apr_pool_t *p, json_t *jwk, const char **why)
{
    unsigned char *n = NULL, *e = NULL;
    size_t nlen = 0, elen = 0;
    BIGNUM *bn_n = NULL, *bn_e = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    EVP_PKEY *pkey = NULL;

    if (jwk_bytes(p, jwk, "n", 1, RSA_MAX_N_BYTES, &n, &nlen) != AFB_OK ||
        jwk_bytes(p, jwk, "e", 1, RSA_MAX_E_BYTES, &e, &elen) != AFB_OK) {
        *why = "RSA key without valid n and e";
        return NULL;
    }
    bn_n = BN_bin2bn(n, (int)nlen, NULL);
    bn_e = BN_bin2bn(e, (int)elen, NULL);
    bld = OSSL_PARAM_BLD_new();
    if (!bn_n || !bn_e || !bld || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e)) {
        *why = "RSA key could not be built";
        goto out;
    }
    if (BN_num_bits(bn_n) < RSA_MIN_BITS || !BN_is_odd(bn_e) || BN_is_one(bn_e)) {
        *why = "RSA key too small or with a bad exponent";
        goto out;
    }
    pkey = pkey_fromdata("RSA", bld);
    if (!pkey)
        *why = "RSA key rejected by OpenSSL";
out:
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    return pkey;
}

static int ec_point_valid(EVP_PKEY *pkey)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    int ok = ctx && EVP_PKEY_public_check(ctx) == 1;
    EVP_PKEY_CTX_free(ctx);
    return ok;
}

static EVP_PKEY *ec_key(apr_pool_t *p, json_t *jwk, const char **why)
{
    json_t *crv = json_object_get(jwk, "crv");
    unsigned char *x = NULL, *y = NULL, pub[1 + 2 * P256_COORD];
    size_t xlen = 0, ylen = 0;
    OSSL_PARAM_BLD *bld = NULL;
    EVP_PKEY *pkey = NULL;

    if (!json_is_string(crv) || strcmp(json_string_value(crv), "P-256") != 0) {
        *why = "EC key on an unsupported curve";
        return NULL;
    }
    if (jwk_bytes(p, jwk, "x", P256_COORD, P256_COORD, &x, &xlen) != AFB_OK ||
        jwk_bytes(p, jwk, "y", P256_COORD, P256_COORD, &y, &ylen) != AFB_OK) {
        *why = "EC key without valid x and y";
        return NULL;
    }
    pub[0] = 0x04;
    memcpy(pub + 1, x, P256_COORD);
    memcpy(pub + 1 + P256_COORD, y, P256_COORD);
    bld = OSSL_PARAM_BLD_new();
    if (bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) &&
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub)))
        pkey = pkey_fromdata("EC", bld);
    OSSL_PARAM_BLD_free(bld);
    if (pkey && !ec_point_valid(pkey)) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    if (!pkey)
        *why = "EC key is not a valid P-256 point";
    return pkey;
}

/* ---- JWKS ---- */

static apr_status_t jwks_cleanup(void *data)
{
    afb_jwks_t *jwks = data;
    int i;
    for (i = 0; i < jwks->n; i++)
        EVP_PKEY_free(jwks->keys[i].pkey);
    jwks->n = 0;
    return APR_SUCCESS;
}

static const char *opt_string(json_t *obj, const char *name, int *bad)
{
    json_t *v = json_object_get(obj, name);
    if (!v)
        return NULL;
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > KID_MAX) {
        *bad = 1;
        return NULL;
    }
    return json_string_value(v);
}

/* One entry of "keys": 1 added, 0 skipped (*why says why). */
static int jwks_add(apr_pool_t *p, afb_jwks_t *jwks, json_t *jwk, const char **why)
{
    int bad = 0;
    const char *kty, *use, *kid, *alg;
    jwk_t *k = &jwks->keys[jwks->n];

    if (!json_is_object(jwk)) {
        *why = "key is not an object";
        return 0;
    }
    kty = opt_string(jwk, "kty", &bad);
    use = opt_string(jwk, "use", &bad);
    kid = opt_string(jwk, "kid", &bad);
    alg = opt_string(jwk, "alg", &bad);
    if (bad || !kty) {
        *why = "key with missing or malformed kty, use, kid or alg";
        return 0;
    }
    if (use && strcmp(use, "sig") != 0) {
        *why = "key not for signatures";
        return 0;
    }
    memset(k, 0, sizeof(*k));
    if (strcmp(kty, "RSA") == 0) {
        k->kty = KTY_RSA;
    }
    else if (strcmp(kty, "EC") == 0) {
        k->kty = KTY_EC;
    }
    else {
        *why = "key of an unsupported kty";
        return 0;
    }
    if (alg) {
        k->alg = afb_jws_alg_from_name(alg);
        if (!k->alg || alg_kty(k->alg) != k->kty) {
            *why = "key with an unsupported alg";
            return 0;
        }
    }
    k->pkey = k->kty == KTY_RSA ? rsa_key(p, jwk, why) : ec_key(p, jwk, why);
    if (!k->pkey)
        return 0;
    k->kid = kid ? apr_pstrdup(p, kid) : NULL;
    jwks->n++;
    return 1;
}

static afb_status_t jwks_fill(apr_pool_t *p, afb_jwks_t *jwks, json_t *root, const char **reason)
{
    json_t *keys = json_is_object(root) ? json_object_get(root, "keys") : NULL;
    const char *why = "no keys";
    size_t i;
    if (!json_is_array(keys)) {
        *reason = "JWKS has no keys array";
        return AFB_EINVAL;
    }
    if (json_array_size(keys) > AFB_JWKS_MAX_KEYS) {
        *reason = "JWKS has too many keys";
        return AFB_ETOOBIG;
    }
    for (i = 0; i < json_array_size(keys); i++)
        jwks_add(p, jwks, json_array_get(keys, i), &why);
    if (jwks->n == 0) {
        *reason = apr_pstrcat(p, "JWKS has no usable signing key (", why, ")", NULL);
        return AFB_EINVAL;
    }
    return AFB_OK;
}

afb_status_t afb_jwks_parse(apr_pool_t *p, const char *json, size_t len, afb_jwks_t **out,
                            const char **reason)
{
    json_t *root = NULL;
    json_error_t err;
    afb_jwks_t *jwks;
    afb_status_t st;
    const char *dummy;

    if (!reason)
        reason = &dummy;
    *out = NULL;
    if (!json || len > AFB_JWKS_MAX_BYTES) {
        *reason = "JWKS document too large";
        return json ? AFB_ETOOBIG : AFB_EINVAL;
    }
    root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
    if (!root) {
        *reason = "JWKS is not JSON";
        return AFB_EINVAL;
    }
    jwks = apr_pcalloc(p, sizeof(*jwks));
    apr_pool_cleanup_register(p, jwks, jwks_cleanup, apr_pool_cleanup_null);
    st = jwks_fill(p, jwks, root, reason);
    json_decref(root);
    if (st == AFB_OK)
        *out = jwks;
    return st;
}

int afb_jwks_count(const afb_jwks_t *jwks)
{
    return jwks ? jwks->n : 0;
}

int afb_jwks_has_kid(const afb_jwks_t *jwks, const char *kid)
{
    int i;
    for (i = 0; jwks && kid && i < jwks->n; i++)
        if (jwks->keys[i].kid && strcmp(jwks->keys[i].kid, kid) == 0)
            return 1;
    return 0;
}

/* ---- JWS ---- */

typedef struct {
    const char *seg[3];
    size_t len[3];
    size_t signed_len;     /* bytes of "header.payload" */
    json_t *header;
    json_t *payload;
    unsigned char *sig;
    size_t siglen;
    unsigned alg;
    const char *kid;
} jws_parts_t;

static apr_status_t json_cleanup(void *data)
{
    json_decref((json_t *)data);
    return APR_SUCCESS;
}

static afb_status_t jws_split(const char *token, size_t len, jws_parts_t *j)
{
    const char *d1 = memchr(token, '.', len), *d2;
    if (!d1)
        return AFB_EINVAL;
    d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token));
    if (!d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)))
        return AFB_EINVAL;
    j->seg[0] = token;
    j->len[0] = (size_t)(d1 - token);
    j->seg[1] = d1 + 1;
    j->len[1] = (size_t)(d2 - d1 - 1);
    j->seg[2] = d2 + 1;
    j->len[2] = len - (size_t)(d2 + 1 - token);
    j->signed_len = (size_t)(d2 - token);
    return AFB_OK;
}

/* Decode a segment holding a JSON object; registered for release in p. */
static json_t *segment_json(apr_pool_t *p, const char *seg, size_t len)
{
    unsigned char *raw = NULL;
    size_t rawlen = 0;
    json_error_t err;
    json_t *v;
    if (b64url_dec(p, seg, len, &raw, &rawlen) != AFB_OK)
        return NULL;
    v = json_loadb((const char *)raw, rawlen, JSON_REJECT_DUPLICATES, &err);
    if (!v)
        return NULL;
    apr_pool_cleanup_register(p, v, json_cleanup, apr_pool_cleanup_null);
    return json_is_object(v) ? v : NULL;
}

static afb_status_t jws_header(jws_parts_t *j, unsigned allowed, const char **reason)
{
    json_t *alg = json_object_get(j->header, "alg");
    json_t *kid = json_object_get(j->header, "kid");
    if (!json_is_string(alg)) {
        *reason = "token header without alg";
        return AFB_EINVAL;
    }
    if (json_object_get(j->header, "crit")) {
        *reason = "token header with crit extensions";
        return AFB_EINVAL;
    }
    j->alg = afb_jws_alg_from_name(json_string_value(alg));
    if (!j->alg) {
        *reason = "token algorithm refused";
        return AFB_EINVAL;
    }
    if (!(j->alg & allowed)) {
        *reason = "token algorithm not allowed for this provider";
        return AFB_EINVAL;
    }
    if (kid && (!json_is_string(kid) || json_string_length(kid) == 0 ||
                json_string_length(kid) > KID_MAX)) {
        *reason = "token header with a malformed kid";
        return AFB_EINVAL;
    }
    j->kid = kid ? json_string_value(kid) : NULL;
    return AFB_OK;
}

static afb_status_t jws_parse(apr_pool_t *p, const char *token, unsigned allowed,
                              jws_parts_t *j, const char **reason)
{
    size_t len = strnlen(token, AFB_JWT_MAX_BYTES + 1);
    afb_status_t st;
    if (len > AFB_JWT_MAX_BYTES) {
        *reason = "token too large";
        return AFB_ETOOBIG;
    }
    if (jws_split(token, len, j) != AFB_OK) {
        *reason = "token is not a compact JWS";
        return AFB_EINVAL;
    }
    j->header = segment_json(p, j->seg[0], j->len[0]);
    if (!j->header) {
        *reason = "token header is not a base64url JSON object";
        return AFB_EINVAL;
    }
    if ((st = jws_header(j, allowed, reason)) != AFB_OK)
        return st;
    j->payload = segment_json(p, j->seg[1], j->len[1]);
    if (!j->payload) {
        *reason = "token payload is not a base64url JSON object";
        return AFB_EINVAL;
    }
    if (b64url_dec(p, j->seg[2], j->len[2], &j->sig, &j->siglen) != AFB_OK) {
        *reason = "token signature is not base64url";
        return AFB_EINVAL;
    }
    return AFB_OK;
}

/* Raw R||S (RFC 7518 3.4) to the DER form OpenSSL verifies. */
static unsigned char *ecdsa_der(apr_pool_t *p, const unsigned char *sig, size_t len,
                                size_t *derlen)
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, P256_COORD, NULL);
    BIGNUM *s = BN_bin2bn(sig + P256_COORD, P256_COORD, NULL);
    unsigned char *der = NULL, *out = NULL;
    int n;
    if (len != 2 * P256_COORD || !es || !r || !s || !ECDSA_SIG_set0(es, r, s)) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(es);
        return NULL;
    }
    n = i2d_ECDSA_SIG(es, &der);
    if (n > 0) {
        out = apr_pmemdup(p, der, (apr_size_t)n);
        *derlen = (size_t)n;
    }
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
    return out;
}

static int verify_with(apr_pool_t *p, const jws_parts_t *j, EVP_PKEY *pkey)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    const unsigned char *sig = j->sig;
    size_t siglen = j->siglen;
    int ok = 0;

    if (j->alg == AFB_JWS_ES256) {
        if (siglen != 2 * P256_COORD || !(sig = ecdsa_der(p, j->sig, j->siglen, &siglen)))
            goto out;
    }
    if (!md || EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, pkey) != 1)
        goto out;
    if (j->alg == AFB_JWS_PS256 &&
        (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) <= 0 ||
         EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) <= 0))
        goto out;
    ok = EVP_DigestVerify(md, sig, siglen, (const unsigned char *)j->seg[0], j->signed_len) == 1;
out:
    EVP_MD_CTX_free(md);
    return ok;
}

static int key_fits(const jwk_t *k, const jws_parts_t *j)
{
    return k->kty == alg_kty(j->alg) && (!k->alg || k->alg == j->alg);
}

static afb_status_t jws_check(apr_pool_t *p, const afb_jwks_t *jwks, const jws_parts_t *j,
                              const char **reason)
{
    int i, kid_seen = 0, tried = 0;
    for (i = 0; i < jwks->n; i++) {
        const jwk_t *k = &jwks->keys[i];
        if (j->kid && (!k->kid || strcmp(k->kid, j->kid) != 0))
            continue;
        kid_seen = 1;
        if (!key_fits(k, j))
            continue;
        tried++;
        if (verify_with(p, j, k->pkey))
            return AFB_OK;
    }
    if (j->kid && !kid_seen) {
        *reason = "token signed with an unknown key (kid)";
        return AFB_ENOENT;
    }
    if (!tried) {
        *reason = "token algorithm inconsistent with the signing key";
        return AFB_EINVAL;
    }
    *reason = "token signature invalid";
    return AFB_EMISMATCH;
}

afb_status_t afb_jws_verify(apr_pool_t *p, const afb_jwks_t *jwks, const char *token,
                            unsigned allowed, afb_jws_t *out, const char **reason)
{
    jws_parts_t j;
    afb_status_t st;
    const char *dummy;

    if (!reason)
        reason = &dummy;
    memset(out, 0, sizeof(*out));
    memset(&j, 0, sizeof(j));
    if (!jwks || !token) {
        *reason = "no token or no keys";
        return AFB_EINVAL;
    }
    if ((st = jws_parse(p, token, allowed, &j, reason)) != AFB_OK)
        return st;
    if ((st = jws_check(p, jwks, &j, reason)) != AFB_OK)
        return st;
    out->alg = afb_jws_alg_name(j.alg);
    out->kid = j.kid ? apr_pstrdup(p, j.kid) : NULL;
    out->payload = j.payload;
    return AFB_OK;
}
