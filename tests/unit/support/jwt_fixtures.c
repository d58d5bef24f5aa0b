/* Test keys and token signing (see jwt_fixtures.h). */
#include "jwt_fixtures.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

static apr_status_t key_free(void *k)
{
    EVP_PKEY_free(k);
    return APR_SUCCESS;
}

static EVP_PKEY *keep(apr_pool_t *p, EVP_PKEY *k)
{
    if (!k)
        abort();
    apr_pool_cleanup_register(p, k, key_free, apr_pool_cleanup_null);
    return k;
}

EVP_PKEY *fx_rsa_key(apr_pool_t *p, int bits)
{
    return keep(p, EVP_RSA_gen((unsigned)bits));
}

EVP_PKEY *fx_ec_key(apr_pool_t *p)
{
    return keep(p, EVP_EC_gen("P-256"));
}

char *fx_b64url(apr_pool_t *p, const unsigned char *in, size_t len)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *out = apr_palloc(p, len * 4 / 3 + 4);
    size_t i, o = 0;
    for (i = 0; i + 2 < len; i += 3) {
        unsigned long v = ((unsigned long)in[i] << 16) | (in[i + 1] << 8) | in[i + 2];
        out[o++] = a[v >> 18];
        out[o++] = a[(v >> 12) & 63];
        out[o++] = a[(v >> 6) & 63];
        out[o++] = a[v & 63];
    }
    if (len - i == 1) {
        out[o++] = a[in[i] >> 2];
        out[o++] = a[(in[i] & 3) << 4];
    }
    else if (len - i == 2) {
        out[o++] = a[in[i] >> 2];
        out[o++] = a[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
        out[o++] = a[(in[i + 1] & 15) << 2];
    }
    out[o] = '\0';
    return out;
}

char *fx_b64url_str(apr_pool_t *p, const char *s)
{
    return fx_b64url(p, (const unsigned char *)s, strlen(s));
}

static char *bn_param_b64(apr_pool_t *p, EVP_PKEY *key, const char *name)
{
    BIGNUM *bn = NULL;
    unsigned char buf[1024];
    int n;
    if (!EVP_PKEY_get_bn_param(key, name, &bn))
        abort();
    n = BN_bn2bin(bn, buf);
    BN_free(bn);
    return fx_b64url(p, buf, (size_t)n);
}

static const char *opt_member(apr_pool_t *p, const char *name, const char *v)
{
    return v ? apr_psprintf(p, ",\"%s\":\"%s\"", name, v) : "";
}

const char *fx_jwk(apr_pool_t *p, EVP_PKEY *key, const char *kid, const char *alg,
                   const char *use)
{
    const char *extra = apr_pstrcat(p, opt_member(p, "kid", kid), opt_member(p, "alg", alg),
                                    opt_member(p, "use", use), NULL);
    if (EVP_PKEY_is_a(key, "RSA"))
        return apr_psprintf(p, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"%s}",
                            bn_param_b64(p, key, OSSL_PKEY_PARAM_RSA_N),
                            bn_param_b64(p, key, OSSL_PKEY_PARAM_RSA_E), extra);
    {
        unsigned char pub[65];
        size_t len = 0;
        if (!EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub),
                                             &len) || len != 65)
            abort();
        return apr_psprintf(p, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"%s}",
                            fx_b64url(p, pub + 1, 32), fx_b64url(p, pub + 33, 32), extra);
    }
}

const char *fx_jwks(apr_pool_t *p, const char *jwk1, ...)
{
    va_list ap;
    const char *out = apr_pstrcat(p, "{\"keys\":[", jwk1 ? jwk1 : "", NULL), *k;
    va_start(ap, jwk1);
    while (jwk1 && (k = va_arg(ap, const char *)) != NULL)
        out = apr_pstrcat(p, out, ",", k, NULL);
    va_end(ap);
    return apr_pstrcat(p, out, "]}", NULL);
}

static unsigned char *raw_ecdsa(apr_pool_t *p, const unsigned char *der, size_t derlen)
{
    const unsigned char *q = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &q, (long)derlen);
    unsigned char *raw = apr_pcalloc(p, 64);
    if (!sig)
        abort();
    BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw, 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw + 32, 32);
    ECDSA_SIG_free(sig);
    return raw;
}

const char *fx_sign(apr_pool_t *p, EVP_PKEY *key, const char *alg, const char *header_json,
                    const char *payload_json)
{
    const char *input = apr_pstrcat(p, fx_b64url_str(p, header_json), ".",
                                    fx_b64url_str(p, payload_json), NULL);
    EVP_MD_CTX *md;
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char sig[1024], *out = sig;
    size_t siglen = sizeof(sig);
    if (strcmp(alg, "none") == 0)
        return apr_pstrcat(p, input, ".", NULL);
    md = EVP_MD_CTX_new();
    if (!md || EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, key) != 1)
        abort();
    if (strcmp(alg, "PS256") == 0 &&
        (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) <= 0))
        abort();
    if (EVP_DigestSign(md, sig, &siglen, (const unsigned char *)input, strlen(input)) != 1)
        abort();
    EVP_MD_CTX_free(md);
    if (strcmp(alg, "ES256") == 0) {
        out = raw_ecdsa(p, sig, siglen);
        siglen = 64;
    }
    return apr_pstrcat(p, input, ".", fx_b64url(p, out, siglen), NULL);
}

const char *fx_sign_hs256(apr_pool_t *p, const unsigned char *secret, size_t len,
                          const char *header_json, const char *payload_json)
{
    const char *input = apr_pstrcat(p, fx_b64url_str(p, header_json), ".",
                                    fx_b64url_str(p, payload_json), NULL);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    if (!HMAC(EVP_sha256(), secret, (int)len, (const unsigned char *)input, strlen(input), mac,
              &maclen))
        abort();
    return apr_pstrcat(p, input, ".", fx_b64url(p, mac, maclen), NULL);
}

unsigned char *fx_pubkey_der(apr_pool_t *p, EVP_PKEY *key, size_t *len)
{
    unsigned char *der = NULL, *out;
    int n = i2d_PUBKEY(key, &der);
    if (n <= 0)
        abort();
    out = apr_pmemdup(p, der, (apr_size_t)n);
    OPENSSL_free(der);
    *len = (size_t)n;
    return out;
}
