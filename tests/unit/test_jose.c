/* JWT validation matrix: JWKS parsing, JWS verification and the ID token checks, with keys
 * generated here and tokens signed by an independent helper (support/jwt_fixtures.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "authfb/jose.h"
#include "authfb/oidc.h"
#include "jwt_fixtures.h"

#define ISS "https://op.example/tenant"
#define CLIENT "app-1"
#define NONCE "n-0S6_WzA2Mj"
#define NOW_S 1750000000L

static apr_pool_t *gp;      /* keys, for the whole run */
static EVP_PKEY *rsa1, *rsa2, *ec1;
static const char *jwks_txt; /* rsa1 (kid r1), ec1 (kid e1) */
static apr_pool_t *p;       /* per test */

static int group_setup(void **state)
{
    (void)state;
    apr_initialize();
    apr_pool_create(&gp, NULL);
    rsa1 = fx_rsa_key(gp, 2048);
    rsa2 = fx_rsa_key(gp, 2048);
    ec1 = fx_ec_key(gp);
    jwks_txt = fx_jwks(gp, fx_jwk(gp, rsa1, "r1", NULL, "sig"), fx_jwk(gp, ec1, "e1", NULL, NULL),
                       NULL);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    apr_pool_destroy(gp);
    apr_terminate();
    return 0;
}

static int setup(void **state)
{
    (void)state;
    apr_pool_create(&p, gp);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    apr_pool_destroy(p);
    return 0;
}

static afb_jwks_t *jwks_of(const char *txt)
{
    afb_jwks_t *j = NULL;
    const char *why = NULL;
    assert_int_equal(afb_jwks_parse(p, txt, strlen(txt), &j, &why), AFB_OK);
    return j;
}

static const char *header(const char *alg, const char *kid)
{
    return kid ? apr_psprintf(p, "{\"alg\":\"%s\",\"kid\":\"%s\",\"typ\":\"JWT\"}", alg, kid)
               : apr_psprintf(p, "{\"alg\":\"%s\"}", alg);
}

/* A payload with good claims; `extra` replaces / adds members (JSON text without braces). */
static const char *claims(const char *extra)
{
    return apr_psprintf(p,
                        "{%s%s\"iss\":\"" ISS "\",\"sub\":\"u-123\",\"aud\":\"" CLIENT "\","
                        "\"exp\":%ld,\"iat\":%ld,\"nonce\":\"" NONCE "\","
                        "\"preferred_username\":\"alice\",\"email\":\"alice@example.org\"}",
                        extra ? extra : "", extra ? "," : "", NOW_S + 300, NOW_S - 5);
}

static afb_oidc_expect_t expect(void)
{
    afb_oidc_expect_t ex;
    memset(&ex, 0, sizeof(ex));
    ex.issuer = ISS;
    ex.client_id = CLIENT;
    ex.algs = AFB_JWS_ALL;
    ex.nonce = NONCE;
    ex.user_claim = "preferred_username";
    ex.now = apr_time_from_sec(NOW_S);
    ex.skew = apr_time_from_sec(60);
    return ex;
}

static afb_status_t check(const char *token, const char **why)
{
    afb_oidc_expect_t ex = expect();
    afb_oidc_identity_t id;
    const char *dummy;
    return afb_oidc_id_token_check(p, jwks_of(jwks_txt), &ex, token, &id, why ? why : &dummy);
}

/* ---- good tokens ---- */

static void good_rs256_ps256_es256(void **state)
{
    afb_oidc_expect_t ex = expect();
    afb_oidc_identity_t id;
    const char *why = NULL;
    static const char *const extra[] = {"email", "missing", NULL};
    const char *tok = fx_sign(p, rsa1, "RS256", header("RS256", "r1"), claims(NULL));
    (void)state;
    ex.claims = extra;
    assert_int_equal(afb_oidc_id_token_check(p, jwks_of(jwks_txt), &ex, tok, &id, &why), AFB_OK);
    assert_string_equal(id.user, "alice");
    assert_string_equal(id.sub, "u-123");
    assert_string_equal(apr_table_get(id.claims, "email"), "alice@example.org");
    assert_null(apr_table_get(id.claims, "missing"));
    assert_int_equal(check(fx_sign(p, rsa1, "PS256", header("PS256", "r1"), claims(NULL)), NULL),
                     AFB_OK);
    assert_int_equal(check(fx_sign(p, ec1, "ES256", header("ES256", "e1"), claims(NULL)), NULL),
                     AFB_OK);
    /* without kid: every key of the right type is tried */
    assert_int_equal(check(fx_sign(p, ec1, "ES256", header("ES256", NULL), claims(NULL)), NULL),
                     AFB_OK);
}

static void user_claim_default_sub(void **state)
{
    afb_oidc_expect_t ex = expect();
    afb_oidc_identity_t id;
    const char *why = NULL;
    (void)state;
    ex.user_claim = NULL;
    assert_int_equal(afb_oidc_id_token_check(p, jwks_of(jwks_txt), &ex,
                                             fx_sign(p, rsa1, "RS256", header("RS256", "r1"),
                                                     claims(NULL)), &id, &why), AFB_OK);
    assert_string_equal(id.user, "u-123");
}

/* ---- signatures and algorithms ---- */

static void bad_signature(void **state)
{
    const char *why = NULL;
    char *tok = apr_pstrdup(p, fx_sign(p, rsa1, "RS256", header("RS256", "r1"), claims(NULL)));
    size_t n = strlen(tok);
    (void)state;
    tok[n - 5] = tok[n - 5] == 'A' ? 'B' : 'A';
    assert_int_equal(check(tok, &why), AFB_EMISMATCH);
    /* signed by a key that is not in the set, under a known kid */
    assert_int_equal(check(fx_sign(p, rsa2, "RS256", header("RS256", "r1"), claims(NULL)), &why),
                     AFB_EMISMATCH);
    /* the payload swapped under a valid signature */
    {
        const char *good = fx_sign(p, rsa1, "RS256", header("RS256", "r1"), claims(NULL));
        const char *evil = fx_sign(p, rsa2, "RS256", header("RS256", "r1"),
                                   claims("\"role\":\"admin\""));
        const char *d1 = strchr(good, '.'), *d2 = strrchr(good, '.');
        const char *e1 = strchr(evil, '.'), *e2 = strrchr(evil, '.');
        const char *mix = apr_pstrcat(p, apr_pstrmemdup(p, good, (size_t)(d1 - good)), ".",
                                      apr_pstrmemdup(p, e1 + 1, (size_t)(e2 - e1 - 1)), d2, NULL);
        assert_int_equal(check(mix, &why), AFB_EMISMATCH);
    }
}

static void alg_none_refused(void **state)
{
    const char *why = NULL;
    (void)state;
    assert_int_equal(check(fx_sign(p, NULL, "none", header("none", "r1"), claims(NULL)), &why),
                     AFB_EINVAL);
    /* "none" with some signature bytes */
    assert_int_equal(check(apr_pstrcat(p, fx_sign(p, NULL, "none", header("none", NULL),
                                                  claims(NULL)), "AAAA", NULL), &why),
                     AFB_EINVAL);
    assert_int_equal(afb_jws_alg_from_name("none"), 0);
    assert_int_equal(afb_jws_alg_from_name("HS256"), 0);
}

static void hs256_with_public_key_refused(void **state)
{
    const char *why = NULL;
    size_t len = 0;
    unsigned char *der = fx_pubkey_der(p, rsa1, &len);
    const char *jwk = fx_jwk(p, rsa1, "r1", NULL, NULL);
    (void)state;
    assert_int_equal(check(fx_sign_hs256(p, der, len, header("HS256", "r1"), claims(NULL)), &why),
                     AFB_EINVAL);
    /* the JWK text itself as the secret */
    assert_int_equal(check(fx_sign_hs256(p, (const unsigned char *)jwk, strlen(jwk),
                                         header("HS256", "r1"), claims(NULL)), &why),
                     AFB_EINVAL);
}

static void alg_inconsistent_with_key(void **state)
{
    const char *why = NULL;
    afb_oidc_expect_t ex = expect();
    afb_oidc_identity_t id;
    const char *pinned;
    (void)state;
    /* ES256 header pointing at the RSA key */
    assert_int_equal(check(fx_sign(p, ec1, "ES256", header("ES256", "r1"), claims(NULL)), &why),
                     AFB_EINVAL);
    /* RS256 header pointing at the EC key */
    assert_int_equal(check(fx_sign(p, rsa1, "RS256", header("RS256", "e1"), claims(NULL)), &why),
                     AFB_EINVAL);
    /* the key pins RS256; a PS256 token under it is refused */
    pinned = fx_jwks(p, fx_jwk(p, rsa1, "r1", "RS256", "sig"), NULL);
    assert_int_equal(afb_oidc_id_token_check(p, jwks_of(pinned), &ex,
                                             fx_sign(p, rsa1, "PS256", header("PS256", "r1"),
                                                     claims(NULL)), &id, &why), AFB_EINVAL);
    /* algorithm valid for the key but not listed by the provider */
    ex.algs = AFB_JWS_RS256;
    assert_int_equal(afb_oidc_id_token_check(p, jwks_of(jwks_txt), &ex,
                                             fx_sign(p, ec1, "ES256", header("ES256", "e1"),
                                                     claims(NULL)), &id, &why), AFB_EINVAL);
    assert_string_equal(why, "token algorithm not allowed for this provider");
}

/* ---- claims ---- */

static void wrong_iss_aud_azp(void **state)
{
    const char *why = NULL;
    (void)state;
#define SIGNED(extra) fx_sign(p, rsa1, "RS256", header("RS256", "r1"), claims(extra))
    /* a second "iss" member: duplicate members are refused outright */
    assert_int_equal(check(SIGNED("\"iss\":\"https://evil.example\""), &why), AFB_EINVAL);
    {
        const char *payload = apr_psprintf(p, "{\"iss\":\"https://evil.example\",\"sub\":\"u\","
                                           "\"aud\":\"" CLIENT "\",\"exp\":%ld,\"iat\":%ld,"
                                           "\"nonce\":\"" NONCE "\",\"preferred_username\":\"a\"}",
                                           NOW_S + 60, NOW_S);
        assert_int_equal(check(fx_sign(p, rsa1, "RS256", header("RS256", "r1"), payload), &why),
                         AFB_EMISMATCH);
        assert_string_equal(why, "ID token issuer mismatch");
    }
}

static const char *payload_with(const char *aud_json, const char *more)
{
    return apr_psprintf(p, "{\"iss\":\"" ISS "\",\"sub\":\"u\",\"aud\":%s,\"exp\":%ld,"
                        "\"iat\":%ld,\"nonce\":\"" NONCE "\",\"preferred_username\":\"a\"%s}",
                        aud_json, NOW_S + 60, NOW_S, more ? more : "");
}

static void audience_rules(void **state)
{
    const char *why = NULL;
    (void)state;
#define AUD(aud, more) check(fx_sign(p, rsa1, "RS256", header("RS256", "r1"), \
                                     payload_with(aud, more)), &why)
    assert_int_equal(AUD("\"other\"", NULL), AFB_EMISMATCH);
    assert_int_equal(AUD("[\"other\",\"third\"]", NULL), AFB_EMISMATCH);
    assert_int_equal(AUD("[\"" CLIENT "\"]", NULL), AFB_OK);
    /* several audiences without azp */
    assert_int_equal(AUD("[\"" CLIENT "\",\"other\"]", NULL), AFB_EMISMATCH);
    assert_int_equal(AUD("[\"" CLIENT "\",\"other\"]", ",\"azp\":\"" CLIENT "\""), AFB_OK);
    assert_int_equal(AUD("[\"" CLIENT "\",\"other\"]", ",\"azp\":\"other\""), AFB_EMISMATCH);
    /* azp present with a single audience must still be us */
    assert_int_equal(AUD("\"" CLIENT "\"", ",\"azp\":\"other\""), AFB_EMISMATCH);
    assert_int_equal(AUD("42", NULL), AFB_EMISMATCH);
    assert_int_equal(AUD("[\"" CLIENT "\",7]", NULL), AFB_EINVAL);
}

static const char *timed(long exp, long iat, const char *nbf)
{
    return apr_psprintf(p, "{\"iss\":\"" ISS "\",\"sub\":\"u\",\"aud\":\"" CLIENT "\",\"exp\":%ld,"
                        "\"iat\":%ld,\"nonce\":\"" NONCE "\",\"preferred_username\":\"a\"%s}",
                        exp, iat, nbf ? nbf : "");
}

static void times(void **state)
{
    const char *why = NULL;
    (void)state;
#define TIMED(e, i, n) check(fx_sign(p, rsa1, "RS256", header("RS256", "r1"), timed(e, i, n)), &why)
    assert_int_equal(TIMED(NOW_S - 61, NOW_S - 600, NULL), AFB_EEXPIRED);
    assert_int_equal(TIMED(NOW_S - 30, NOW_S - 600, NULL), AFB_OK); /* within skew */
    assert_int_equal(TIMED(NOW_S + 600, NOW_S + 120, NULL), AFB_EINVAL); /* future iat */
    assert_string_equal(why, "ID token issued in the future");
    assert_int_equal(TIMED(NOW_S + 600, NOW_S + 30, NULL), AFB_OK);
    assert_int_equal(TIMED(NOW_S + 600, NOW_S, ",\"nbf\":1750000500"), AFB_EINVAL);
    assert_int_equal(TIMED(NOW_S + 600, NOW_S, ",\"nbf\":1749999000"), AFB_OK);
    assert_int_equal(TIMED(NOW_S + 600, NOW_S, ",\"nbf\":\"soon\""), AFB_EINVAL);
    /* exp missing or a string */
    assert_int_equal(check(fx_sign(p, rsa1, "RS256", header("RS256", "r1"),
                                   "{\"iss\":\"" ISS "\",\"sub\":\"u\",\"aud\":\"" CLIENT "\","
                                   "\"iat\":1750000000,\"nonce\":\"" NONCE "\"}"), &why),
                     AFB_EINVAL);
    assert_int_equal(check(fx_sign(p, rsa1, "RS256", header("RS256", "r1"),
                                   "{\"iss\":\"" ISS "\",\"sub\":\"u\",\"aud\":\"" CLIENT "\","
                                   "\"exp\":\"2099\",\"iat\":1750000000,\"nonce\":\"" NONCE "\"}"),
                           &why), AFB_EINVAL);
}

static void nonce_mismatch(void **state)
{
    afb_oidc_expect_t ex = expect();
    afb_oidc_identity_t id;
    const char *why = NULL;
    const char *tok = fx_sign(p, rsa1, "RS256", header("RS256", "r1"), claims(NULL));
    (void)state;
    ex.nonce = "n-0S6_WzA2Mk";
    assert_int_equal(afb_oidc_id_token_check(p, jwks_of(jwks_txt), &ex, tok, &id, &why),
                     AFB_EMISMATCH);
    assert_string_equal(why, "ID token nonce mismatch");
    ex.nonce = "n-0S6_WzA2M"; /* prefix */
    assert_int_equal(afb_oidc_id_token_check(p, jwks_of(jwks_txt), &ex, tok, &id, &why),
                     AFB_EMISMATCH);
    /* token without a nonce */
    ex = expect();
    tok = fx_sign(p, rsa1, "RS256", header("RS256", "r1"),
                  apr_psprintf(p, "{\"iss\":\"" ISS "\",\"sub\":\"u\",\"aud\":\"" CLIENT "\","
                               "\"exp\":%ld,\"iat\":%ld,\"preferred_username\":\"a\"}",
                               NOW_S + 60, NOW_S));
    assert_int_equal(afb_oidc_id_token_check(p, jwks_of(jwks_txt), &ex, tok, &id, &why),
                     AFB_EMISMATCH);
}

static void user_claim_rules(void **state)
{
    const char *why = NULL;
    char long_name[300];
    (void)state;
    memset(long_name, 'a', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    {
        const char *base = "{\"iss\":\"" ISS "\",\"sub\":\"u\",\"aud\":\"" CLIENT "\","
                           "\"exp\":1750000300,\"iat\":1750000000,\"nonce\":\"" NONCE "\"";
#define USERTOK(v) check(fx_sign(p, rsa1, "RS256", header("RS256", "r1"), \
                                 apr_pstrcat(p, base, v, "}", NULL)), &why)
        assert_int_equal(USERTOK(""), AFB_EINVAL); /* missing */
        assert_int_equal(USERTOK(",\"preferred_username\":\"\""), AFB_EINVAL);
        assert_int_equal(USERTOK(",\"preferred_username\":42"), AFB_EINVAL);
        assert_int_equal(USERTOK(",\"preferred_username\":\"a\\nb\""), AFB_EINVAL);
        assert_int_equal(USERTOK(",\"preferred_username\":\"a\\u0000b\""), AFB_EINVAL);
        assert_int_equal(USERTOK(apr_pstrcat(p, ",\"preferred_username\":\"", long_name, "\"",
                                             NULL)), AFB_EINVAL);
        assert_int_equal(USERTOK(",\"preferred_username\":\"J\\u00f6rg\""), AFB_OK);
    }
}

/* ---- keys ---- */

static void unknown_and_rotated_kid(void **state)
{
    afb_oidc_expect_t ex = expect();
    afb_oidc_identity_t id;
    const char *why = NULL;
    const char *tok = fx_sign(p, rsa2, "RS256", header("RS256", "r2"), claims(NULL));
    const char *rotated = fx_jwks(p, fx_jwk(p, rsa2, "r2", "RS256", "sig"),
                                  fx_jwk(p, rsa1, "r1", NULL, "sig"), NULL);
    (void)state;
    assert_int_equal(afb_oidc_id_token_check(p, jwks_of(jwks_txt), &ex, tok, &id, &why),
                     AFB_ENOENT);
    assert_false(afb_jwks_has_kid(jwks_of(jwks_txt), "r2"));
    assert_int_equal(afb_oidc_id_token_check(p, jwks_of(rotated), &ex, tok, &id, &why), AFB_OK);
    /* the old key keeps working in the rotated set */
    assert_int_equal(afb_oidc_id_token_check(p, jwks_of(rotated), &ex,
                                             fx_sign(p, rsa1, "RS256", header("RS256", "r1"),
                                                     claims(NULL)), &id, &why), AFB_OK);
}

static int mfa_of(const char *extra)
{
    afb_oidc_expect_t ex = expect();
    afb_oidc_identity_t id;
    const char *why = NULL;
    const char *tok = fx_sign(p, rsa1, "RS256", header("RS256", "r1"), claims(extra));
    assert_int_equal(afb_oidc_id_token_check(p, jwks_of(jwks_txt), &ex, tok, &id, &why), AFB_OK);
    return id.mfa;
}

static void amr_tells_whether_the_op_used_several_factors(void **state)
{
    (void)state;
    assert_int_equal(mfa_of("\"amr\":[\"pwd\",\"mfa\"]"), 1);
    assert_int_equal(mfa_of("\"amr\":[\"http://schemas.microsoft.com/claims/multipleauthn\"]"), 1);
    assert_int_equal(mfa_of("\"amr\":[\"pwd\"]"), 0);
    assert_int_equal(mfa_of("\"amr\":\"mfa\""), 0); /* not an array: no claim */
    assert_int_equal(mfa_of(NULL), 0);
}

static void malformed_tokens(void **state)
{
    const char *why = NULL;
    const char *good = fx_sign(p, rsa1, "RS256", header("RS256", "r1"), claims(NULL));
    const char *h = fx_b64url_str(p, header("RS256", "r1"));
    const char *c = fx_b64url_str(p, claims(NULL));
    const char *sig = strrchr(good, '.') + 1;
    char *big;
    (void)state;
    /* cut inside the header: never a well-formed token */
    assert_int_equal(check(apr_pstrmemdup(p, good, strlen(h) / 2), &why), AFB_EINVAL);
    /* cut inside the signature: well-formed or not, never accepted */
    assert_int_not_equal(check(apr_pstrmemdup(p, good, strlen(good) - 5), &why), AFB_OK);
    assert_int_equal(check(apr_pstrmemdup(p, good, (size_t)(strrchr(good, '.') - good)), &why),
                     AFB_EINVAL); /* no signature part */
    assert_int_equal(check(apr_pstrcat(p, good, ".", NULL), &why), AFB_EINVAL);
    assert_int_equal(check(apr_pstrcat(p, good, ".xyz", NULL), &why), AFB_EINVAL);
    assert_int_equal(check(apr_pstrcat(p, h, "..", c, ".", sig, NULL), &why), AFB_EINVAL);
    assert_int_equal(check("", &why), AFB_EINVAL);
    assert_int_equal(check("...", &why), AFB_EINVAL);
    /* header / payload that are not JSON objects */
    assert_int_equal(check(apr_pstrcat(p, fx_b64url_str(p, "not json"), ".", c, ".", sig, NULL),
                           &why), AFB_EINVAL);
    assert_int_equal(check(apr_pstrcat(p, fx_b64url_str(p, "[\"RS256\"]"), ".", c, ".", sig, NULL),
                           &why), AFB_EINVAL);
    assert_int_equal(check(fx_sign(p, rsa1, "RS256", header("RS256", "r1"), "not json"), &why),
                     AFB_EINVAL);
    assert_int_equal(check(fx_sign(p, rsa1, "RS256", header("RS256", "r1"), "\"str\""), &why),
                     AFB_EINVAL);
    /* padding and the non-url alphabet, on a token whose signature is otherwise valid */
    assert_int_equal(check(apr_pstrcat(p, good, "=", NULL), &why), AFB_EINVAL);
    assert_int_equal(check(apr_pstrcat(p, h, "==.", c, ".", sig, NULL), &why), AFB_EINVAL);
    {
        char *plus = apr_pstrdup(p, good);
        char *q = strchr(plus, '-') ? strchr(plus, '-') : strchr(plus, '_');
        if (q) {
            *q = *q == '-' ? '+' : '/';
            assert_int_equal(check(plus, &why), AFB_EINVAL);
        }
    }
    assert_int_equal(check(apr_pstrcat(p, h, ".", c, ".", sig, " ", NULL), &why), AFB_EINVAL);
    /* crit header */
    assert_int_equal(check(fx_sign(p, rsa1, "RS256",
                                   "{\"alg\":\"RS256\",\"kid\":\"r1\",\"crit\":[\"exp\"],\"exp\":1}",
                                   claims(NULL)), &why), AFB_EINVAL);
    /* over the size cap */
    big = apr_palloc(p, AFB_JWT_MAX_BYTES + 2);
    memset(big, 'A', AFB_JWT_MAX_BYTES + 1);
    big[AFB_JWT_MAX_BYTES + 1] = '\0';
    assert_int_equal(check(big, &why), AFB_ETOOBIG);
}

/* ---- hostile JWKS ---- */

static afb_status_t parse_jwks(const char *txt, size_t len, const char **why)
{
    afb_jwks_t *j = NULL;
    return afb_jwks_parse(p, txt, len, &j, why);
}

static void hostile_jwks(void **state)
{
    const char *why = NULL;
    const char *rsa = fx_jwk(p, rsa1, "r1", NULL, NULL);
    char *huge;
    const char *many;
    int i;
    afb_jwks_t *j = NULL;
    (void)state;
#define JW(s) parse_jwks(s, strlen(s), &why)
    assert_int_equal(JW("not json"), AFB_EINVAL);
    assert_int_equal(JW("[]"), AFB_EINVAL);
    assert_int_equal(JW("{\"keys\":{}}"), AFB_EINVAL);
    assert_int_equal(JW("{\"keys\":[]}"), AFB_EINVAL);
    assert_int_equal(JW("{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"x\"}]}"), AFB_EINVAL);
    assert_int_equal(JW("{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\"}]}"), AFB_EINVAL);
    assert_int_equal(JW("{\"keys\":[{\"kty\":\"RSA\",\"n\":42,\"e\":\"AQAB\"}]}"), AFB_EINVAL);
    assert_int_equal(JW("{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AA\",\"y\":\"AA\"}]}"),
                     AFB_EINVAL);
    assert_int_equal(JW("{\"keys\":[{\"kty\":7}]}"), AFB_EINVAL);
    assert_int_equal(JW("{\"keys\":[\"RSA\"]}"), AFB_EINVAL);
    assert_int_equal(JW("{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}"), AFB_EINVAL);
    /* an EC point that is not on the curve */
    assert_int_equal(JW("{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\","
                        "\"x\":\"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE\","
                        "\"y\":\"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE\"}]}"), AFB_EINVAL);
    /* a 1024-bit RSA key is too small */
    {
        EVP_PKEY *small = fx_rsa_key(p, 1024);
        assert_int_equal(JW(fx_jwks(p, fx_jwk(p, small, "s", NULL, NULL), NULL)), AFB_EINVAL);
    }
    /* use=enc keys and unknown kty are skipped, good ones kept */
    assert_int_equal(afb_jwks_parse(p, fx_jwks(p, "{\"kty\":\"oct\",\"k\":\"AA\"}",
                                                 fx_jwk(p, rsa1, "enc1", NULL, "enc"), rsa, NULL),
                                    strlen(fx_jwks(p, "{\"kty\":\"oct\",\"k\":\"AA\"}",
                                                   fx_jwk(p, rsa1, "enc1", NULL, "enc"), rsa,
                                                   NULL)), &j, &why), AFB_OK);
    assert_int_equal(afb_jwks_count(j), 1);
    assert_false(afb_jwks_has_kid(j, "enc1"));
    /* padded base64 in n */
    assert_int_equal(JW("{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB==\",\"e\":\"AQAB\"}]}"), AFB_EINVAL);
    /* duplicate members */
    assert_int_equal(JW("{\"keys\":[],\"keys\":[]}"), AFB_EINVAL);
    /* huge */
    huge = apr_palloc(p, AFB_JWKS_MAX_BYTES + 64);
    memset(huge, ' ', AFB_JWKS_MAX_BYTES + 63);
    memcpy(huge, "{\"keys\":[", 9);
    memcpy(huge + AFB_JWKS_MAX_BYTES + 60, "]}", 2);
    huge[AFB_JWKS_MAX_BYTES + 63] = '\0';
    assert_int_equal(parse_jwks(huge, strlen(huge), &why), AFB_ETOOBIG);
    /* 1000 keys */
    many = "{\"keys\":[";
    for (i = 0; i < 1000; i++)
        many = apr_pstrcat(p, many, i ? "," : "", "{\"kty\":\"EC\"}", NULL);
    many = apr_pstrcat(p, many, "]}", NULL);
    assert_int_equal(JW(many), AFB_ETOOBIG);
    assert_non_null(why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(good_rs256_ps256_es256, setup, teardown),
        cmocka_unit_test_setup_teardown(user_claim_default_sub, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_signature, setup, teardown),
        cmocka_unit_test_setup_teardown(alg_none_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(hs256_with_public_key_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(alg_inconsistent_with_key, setup, teardown),
        cmocka_unit_test_setup_teardown(wrong_iss_aud_azp, setup, teardown),
        cmocka_unit_test_setup_teardown(audience_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(times, setup, teardown),
        cmocka_unit_test_setup_teardown(nonce_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown(user_claim_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_and_rotated_kid, setup, teardown),
        cmocka_unit_test_setup_teardown(malformed_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(amr_tells_whether_the_op_used_several_factors, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(hostile_jwks, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
