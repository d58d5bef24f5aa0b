/* Unit tests of the WebAuthn checks with fixed vectors from software keys (ES256, RS256,
 * EdDSA; tests/tools/gen_webauthn_vectors.py), the sealed challenge, and the attestation and
 * clientDataJSON parsers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "authfb/util.h"
#include "authfb/webauthn.h"
#include "webauthn_vectors.h"

#define NOW apr_time_from_sec(1704067200)
#define LEN(a) sizeof(a)

static apr_pool_t *pool;
static afb_keyring_t *kr;
static const unsigned char key_a[32] = "0123456789abcdef0123456789abcdef";

static int setup(void **state)
{
    (void)state;
    if (apr_pool_create(&pool, NULL) != APR_SUCCESS)
        return -1;
    afb_wa_init();
    kr = afb_keyring_create(pool);
    return afb_keyring_add(kr, key_a, sizeof(key_a)) == AFB_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    apr_pool_destroy(pool);
    return 0;
}

static afb_wa_rp_t rp(afb_wa_uv_t uv)
{
    afb_wa_rp_t r;

    memset(&r, 0, sizeof(r));
    r.rp_id = WV_RP_ID;
    r.n_origins = 1;
    r.origins[0] = WV_ORIGIN;
    r.uv = uv;
    return r;
}

typedef struct {
    afb_wa_alg_t alg;
    const unsigned char *pub, *id, *reg_cd, *att, *get_cd, *ad, *sig;
    size_t pub_len, id_len, reg_cd_len, att_len, get_cd_len, ad_len, sig_len;
} vec_t;

#define VEC(A, P) {A, P##_PUB, P##_ID, P##_REG_CD, P##_ATT, P##_GET_CD, P##_AD, P##_SIG, \
    LEN(P##_PUB), LEN(P##_ID), LEN(P##_REG_CD), LEN(P##_ATT), LEN(P##_GET_CD), LEN(P##_AD), \
    LEN(P##_SIG)}

static const vec_t vecs[] = {
    VEC(AFB_WA_ES256, WV_ES256), VEC(AFB_WA_RS256, WV_RS256), VEC(AFB_WA_EDDSA, WV_EDDSA),
};

static afb_status_t assert_vec(const vec_t *v, const afb_wa_rp_t *r, const char *challenge,
                               const unsigned char *cd, size_t cd_len, const unsigned char *ad,
                               size_t ad_len, const unsigned char *sig, size_t sig_len,
                               afb_wa_result_t *res, afb_wa_fail_t *fail)
{
    afb_wa_pubkey_t k = {v->alg, v->pub, v->pub_len};
    const char *why = NULL;

    return afb_wa_verify_assertion(pool, r, challenge, cd, cd_len, ad, ad_len, sig, sig_len,
                                   &k, res, fail, &why);
}

static void test_registration_each_alg(void **state)
{
    afb_wa_rp_t r = rp(AFB_WA_UV_REQUIRED);

    (void)state;
    for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
        const vec_t *v = &vecs[i];
        afb_wa_credential_t c;
        afb_wa_fail_t fail;
        const char *why;

        assert_int_equal(afb_wa_verify_registration(pool, &r, WV_CHALLENGE, v->reg_cd,
                                                    v->reg_cd_len, v->att, v->att_len, &c,
                                                    &fail, &why), AFB_OK);
        assert_int_equal(c.key.alg, v->alg);
        assert_int_equal(c.key.key_len, v->pub_len);
        assert_memory_equal(c.key.key, v->pub, v->pub_len);
        assert_int_equal(c.id_len, v->id_len);
        assert_memory_equal(c.id, v->id, v->id_len);
        assert_int_equal(c.uv, 1);
        assert_int_equal(c.sign_count, 0);
        assert_string_equal(c.fmt, "none");
    }
}

static void test_registration_refusals(void **state)
{
    afb_wa_rp_t r = rp(AFB_WA_UV_REQUIRED), other = rp(AFB_WA_UV_REQUIRED);
    afb_wa_credential_t c;
    afb_wa_fail_t fail;
    const char *why;
    unsigned char att[sizeof(WV_ES256_ATT)];

    (void)state;
    /* an assertion's clientData is not a registration's */
    assert_int_equal(afb_wa_verify_registration(pool, &r, WV_CHALLENGE, WV_ES256_GET_CD,
                                                LEN(WV_ES256_GET_CD), WV_ES256_ATT,
                                                LEN(WV_ES256_ATT), &c, &fail, &why),
                     AFB_EMISMATCH);
    assert_int_equal(fail, AFB_WA_FAIL_TYPE);
    assert_int_equal(afb_wa_verify_registration(pool, &r, "AAAA", WV_ES256_REG_CD,
                                                LEN(WV_ES256_REG_CD), WV_ES256_ATT,
                                                LEN(WV_ES256_ATT), &c, &fail, &why),
                     AFB_EMISMATCH);
    assert_int_equal(fail, AFB_WA_FAIL_CHALLENGE);
    other.rp_id = "example.com";
    assert_int_equal(afb_wa_verify_registration(pool, &other, WV_CHALLENGE, WV_ES256_REG_CD,
                                                LEN(WV_ES256_REG_CD), WV_ES256_ATT,
                                                LEN(WV_ES256_ATT), &c, &fail, &why),
                     AFB_EMISMATCH);
    assert_int_equal(fail, AFB_WA_FAIL_RP_ID);
    /* cut the attestation object short */
    assert_int_equal(afb_wa_verify_registration(pool, &r, WV_CHALLENGE, WV_ES256_REG_CD,
                                                LEN(WV_ES256_REG_CD), WV_ES256_ATT,
                                                LEN(WV_ES256_ATT) - 3, &c, &fail, &why),
                     AFB_EINVAL);
    assert_int_equal(fail, AFB_WA_FAIL_MALFORMED);
    assert_string_equal(why, "malformed_passkey_answer");
    /* the COSE key's alg label (-7, CBOR 0x26) turned into -9 (0x28): unsupported */
    memcpy(att, WV_ES256_ATT, sizeof(att));
    for (size_t i = sizeof(att) - 77; i < sizeof(att) - 60; i++) {
        if (att[i] == 0x03 && att[i + 1] == 0x26) {
            att[i + 1] = 0x28;
            break;
        }
    }
    assert_int_equal(afb_wa_verify_registration(pool, &r, WV_CHALLENGE, WV_ES256_REG_CD,
                                                LEN(WV_ES256_REG_CD), att, sizeof(att), &c,
                                                &fail, &why), AFB_EMISMATCH);
    assert_int_equal(fail, AFB_WA_FAIL_ALG);
}

static void test_assertion_each_alg(void **state)
{
    afb_wa_rp_t r = rp(AFB_WA_UV_REQUIRED);

    (void)state;
    for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
        const vec_t *v = &vecs[i];
        afb_wa_result_t res;
        afb_wa_fail_t fail;

        assert_int_equal(assert_vec(v, &r, WV_CHALLENGE, v->get_cd, v->get_cd_len, v->ad,
                                    v->ad_len, v->sig, v->sig_len, &res, &fail), AFB_OK);
        assert_int_equal(res.uv, 1);
        assert_int_equal(res.sign_count, 7);
    }
}

static void expect_fail(afb_status_t st, const afb_wa_fail_t *fail, afb_wa_fail_t want)
{
    assert_int_not_equal(st, AFB_OK);
    assert_int_equal(*fail, want);
}

static void test_assertion_refusals(void **state)
{
    const vec_t *es = &vecs[0], *ed = &vecs[2];
    afb_wa_rp_t r = rp(AFB_WA_UV_REQUIRED), pref = rp(AFB_WA_UV_PREFERRED);
    afb_wa_rp_t elsewhere = rp(AFB_WA_UV_REQUIRED);
    afb_wa_result_t res;
    afb_wa_fail_t fail;
    unsigned char sig[sizeof(WV_ES256_SIG)], ad[sizeof(WV_ES256_AD)];

    (void)state;
    expect_fail(assert_vec(es, &r, "b3RoZXI", es->get_cd, es->get_cd_len, es->ad, es->ad_len,
                           es->sig, es->sig_len, &res, &fail), &fail, AFB_WA_FAIL_CHALLENGE);
    elsewhere.origins[0] = "https://localhost";
    expect_fail(assert_vec(es, &elsewhere, WV_CHALLENGE, es->get_cd, es->get_cd_len, es->ad,
                           es->ad_len, es->sig, es->sig_len, &res, &fail), &fail,
                AFB_WA_FAIL_ORIGIN);
    expect_fail(assert_vec(es, &r, WV_CHALLENGE, es->reg_cd, es->reg_cd_len, es->ad, es->ad_len,
                           es->sig, es->sig_len, &res, &fail), &fail, AFB_WA_FAIL_TYPE);
    expect_fail(assert_vec(es, &r, WV_CHALLENGE, WV_ES256_XRP_CD, LEN(WV_ES256_XRP_CD),
                           WV_ES256_XRP_AD, LEN(WV_ES256_XRP_AD), WV_ES256_XRP_SIG,
                           LEN(WV_ES256_XRP_SIG), &res, &fail), &fail, AFB_WA_FAIL_RP_ID);
    expect_fail(assert_vec(es, &r, WV_CHALLENGE, WV_ES256_NOUV_CD, LEN(WV_ES256_NOUV_CD),
                           WV_ES256_NOUV_AD, LEN(WV_ES256_NOUV_AD), WV_ES256_NOUV_SIG,
                           LEN(WV_ES256_NOUV_SIG), &res, &fail), &fail, AFB_WA_FAIL_UV);
    /* the same answer where UV is only preferred: accepted, and says no UV */
    assert_int_equal(assert_vec(es, &pref, WV_CHALLENGE, WV_ES256_NOUV_CD, LEN(WV_ES256_NOUV_CD),
                                WV_ES256_NOUV_AD, LEN(WV_ES256_NOUV_AD), WV_ES256_NOUV_SIG,
                                LEN(WV_ES256_NOUV_SIG), &res, &fail), AFB_OK);
    assert_int_equal(res.uv, 0);
    /* a flipped signature bit, a changed count, another key */
    memcpy(sig, WV_ES256_SIG, sizeof(sig));
    sig[sizeof(sig) - 2] ^= 1;
    expect_fail(assert_vec(es, &r, WV_CHALLENGE, es->get_cd, es->get_cd_len, es->ad, es->ad_len,
                           sig, sizeof(sig), &res, &fail), &fail, AFB_WA_FAIL_SIGNATURE);
    memcpy(ad, WV_ES256_AD, sizeof(ad));
    ad[36] = 99;
    expect_fail(assert_vec(es, &r, WV_CHALLENGE, es->get_cd, es->get_cd_len, ad, sizeof(ad),
                           es->sig, es->sig_len, &res, &fail), &fail, AFB_WA_FAIL_SIGNATURE);
    expect_fail(assert_vec(ed, &r, WV_CHALLENGE, es->get_cd, es->get_cd_len, es->ad, es->ad_len,
                           es->sig, es->sig_len, &res, &fail), &fail, AFB_WA_FAIL_SIGNATURE);
    /* user presence missing (flags cleared; the check comes before the signature) */
    ad[32] = 0;
    expect_fail(assert_vec(es, &r, WV_CHALLENGE, es->get_cd, es->get_cd_len, ad, sizeof(ad),
                           es->sig, es->sig_len, &res, &fail), &fail, AFB_WA_FAIL_UP);
    expect_fail(assert_vec(es, &r, WV_CHALLENGE, es->get_cd, es->get_cd_len, ad, 20, es->sig,
                           es->sig_len, &res, &fail), &fail, AFB_WA_FAIL_MALFORMED);
    {
        /* extensions announcing an array of 2^32-1 items: refused before any library
         * allocates for it */
        unsigned char big[sizeof(WV_ES256_AD) + 5];
        memcpy(big, WV_ES256_AD, sizeof(WV_ES256_AD));
        big[32] |= AFB_WA_FLAG_ED;
        memcpy(big + sizeof(WV_ES256_AD), "\x9a\xff\xff\xff\xff", 5);
        expect_fail(assert_vec(es, &r, WV_CHALLENGE, es->get_cd, es->get_cd_len, big,
                               sizeof(big), es->sig, es->sig_len, &res, &fail), &fail,
                    AFB_WA_FAIL_MALFORMED);
    }
}

static void test_sign_count_rule(void **state)
{
    (void)state;
    assert_true(afb_wa_sign_count_ok(0, 0));     /* no counter kept */
    assert_true(afb_wa_sign_count_ok(0, 1));
    assert_true(afb_wa_sign_count_ok(7, 8));
    assert_false(afb_wa_sign_count_ok(7, 7));    /* did not increase */
    assert_false(afb_wa_sign_count_ok(7, 3));    /* went backwards */
    assert_false(afb_wa_sign_count_ok(7, 0));    /* stopped counting */
    assert_string_equal(afb_wa_fail_reason(AFB_WA_FAIL_CLONED), "cloned_authenticator");
}

static void test_challenge_seal(void **state)
{
    afb_wa_pending_t w, got;
    const char *cookie, *k1, *k2;

    (void)state;
    assert_int_equal(afb_wa_challenge_new(kr, pool, AFB_WA_GET, NULL, "csrf-one",
                                          NOW + apr_time_from_sec(300), &w, &cookie), AFB_OK);
    assert_int_equal(strlen(w.challenge), 43);  /* 32 bytes */
    assert_int_equal(afb_wa_pending_open(kr, pool, cookie, "csrf-one", NOW, &got), AFB_OK);
    assert_string_equal(got.challenge, w.challenge);
    assert_null(got.user);
    assert_int_equal(got.kind, AFB_WA_GET);
    /* another flow's token, expired, tampered, another purpose */
    assert_int_equal(afb_wa_pending_open(kr, pool, cookie, "csrf-two", NOW, &got), AFB_EMISMATCH);
    assert_int_equal(afb_wa_pending_open(kr, pool, cookie, "csrf-one",
                                         NOW + apr_time_from_sec(300), &got), AFB_EEXPIRED);
    assert_int_equal(afb_wa_pending_open(kr, pool, apr_pstrcat(pool, cookie, "A", NULL),
                                         "csrf-one", NOW, &got), AFB_EINVAL);
    /* a create challenge carries its user; two challenges never share a key */
    assert_int_equal(afb_wa_challenge_new(kr, pool, AFB_WA_CREATE, "alice", "csrf-one",
                                          NOW + apr_time_from_sec(60), &got, &cookie), AFB_OK);
    assert_int_equal(afb_wa_pending_open(kr, pool, cookie, "csrf-one", NOW, &got), AFB_OK);
    assert_string_equal(got.user, "alice");
    k1 = afb_wa_challenge_key(kr, pool, &w);
    k2 = afb_wa_challenge_key(kr, pool, &got);
    assert_non_null(k1);
    assert_string_not_equal(k1, k2);
    assert_string_equal(k1, afb_wa_challenge_key(kr, pool, &w));
    assert_null(strstr(k1, w.challenge));
    assert_int_not_equal(afb_wa_challenge_new(kr, pool, AFB_WA_CREATE, NULL, "csrf", NOW, &got,
                                              &cookie), AFB_OK);  /* create needs a user */
    assert_int_not_equal(afb_wa_challenge_new(kr, pool, AFB_WA_GET, "a\nb", "csrf", NOW, &got,
                                              &cookie), AFB_OK);
}

static afb_status_t cd_parse(const char *json)
{
    afb_wa_client_data_t c;

    return afb_wa_client_data_parse(pool, (const unsigned char *)json, strlen(json), &c);
}

static void test_client_data_parse(void **state)
{
    afb_wa_client_data_t c;
    char big[AFB_WA_MAX_CLIENT_DATA + 2];

    (void)state;
    assert_int_equal(afb_wa_client_data_parse(pool, WV_ES256_GET_CD, LEN(WV_ES256_GET_CD), &c),
                     AFB_OK);
    assert_string_equal(c.type, "webauthn.get");
    assert_string_equal(c.origin, WV_ORIGIN);
    assert_string_equal(c.challenge, WV_CHALLENGE);
    assert_int_equal(c.cross_origin, 0);
    assert_int_equal(cd_parse("{\"type\":\"a\",\"type\":\"b\",\"challenge\":\"x\",\"origin\":\"o\"}"),
                     AFB_EINVAL);  /* duplicate key */
    assert_int_equal(cd_parse("{\"type\":\"a\",\"challenge\":\"x\"}"), AFB_EINVAL);
    assert_int_equal(cd_parse("{\"type\":\"a\\u0000b\",\"challenge\":\"x\",\"origin\":\"o\"}"),
                     AFB_EINVAL);
    assert_int_equal(cd_parse("{\"type\":\"a\",\"challenge\":\"x\",\"origin\":\"o\","
                              "\"crossOrigin\":\"yes\"}"), AFB_EINVAL);
    assert_int_equal(cd_parse("[1]"), AFB_EINVAL);
    memset(big, ' ', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(cd_parse(big), AFB_ETOOBIG);
}

static void test_cross_origin_refused(void **state)
{
    afb_wa_rp_t r = rp(AFB_WA_UV_REQUIRED);
    const char *json = apr_psprintf(pool, "{\"type\":\"webauthn.get\",\"challenge\":\"%s\","
                                    "\"origin\":\"%s\",\"crossOrigin\":true}",
                                    WV_CHALLENGE, WV_ORIGIN);
    afb_wa_pubkey_t k = {AFB_WA_ES256, WV_ES256_PUB, LEN(WV_ES256_PUB)};
    afb_wa_result_t res;
    afb_wa_fail_t fail;
    const char *why;

    (void)state;
    assert_int_equal(afb_wa_verify_assertion(pool, &r, WV_CHALLENGE, (const unsigned char *)json,
                                             strlen(json), WV_ES256_AD, LEN(WV_ES256_AD),
                                             WV_ES256_SIG, LEN(WV_ES256_SIG), &k, &res, &fail,
                                             &why), AFB_EMISMATCH);
    assert_int_equal(fail, AFB_WA_FAIL_ORIGIN);
}

static void test_attestation_parse(void **state)
{
    const char *fmt;
    const unsigned char *ad;
    size_t ad_len;
    /* {"fmt":"none","attStmt":{}} without authData; a bare array; trailing garbage */
    static const unsigned char no_ad[] = {0xa2, 0x63, 'f', 'm', 't', 0x64, 'n', 'o', 'n', 'e',
                                          0x67, 'a', 't', 't', 'S', 't', 'm', 't', 0xa0};
    static const unsigned char array[] = {0x81, 0x01};
    unsigned char trailing[sizeof(WV_ES256_ATT) + 1];

    (void)state;
    assert_int_equal(afb_wa_attestation_parse(pool, WV_ES256_ATT, LEN(WV_ES256_ATT), &fmt, &ad,
                                              &ad_len), AFB_OK);
    assert_string_equal(fmt, "none");
    assert_true(ad_len > 37);
    assert_int_equal(afb_wa_attestation_parse(pool, no_ad, sizeof(no_ad), &fmt, &ad, &ad_len),
                     AFB_EINVAL);
    assert_int_equal(afb_wa_attestation_parse(pool, array, sizeof(array), &fmt, &ad, &ad_len),
                     AFB_EINVAL);
    memcpy(trailing, WV_ES256_ATT, sizeof(WV_ES256_ATT));
    trailing[sizeof(WV_ES256_ATT)] = 0;
    assert_int_equal(afb_wa_attestation_parse(pool, trailing, sizeof(trailing), &fmt, &ad,
                                              &ad_len), AFB_EINVAL);
}

static void test_config_words(void **state)
{
    afb_wa_rp_t r;
    afb_wa_uv_t uv;
    afb_wa_alg_t alg;
    const char *why;

    (void)state;
    assert_int_equal(afb_wa_uv_parse("preferred", &uv), AFB_OK);
    assert_int_equal(uv, AFB_WA_UV_PREFERRED);
    assert_int_equal(afb_wa_uv_parse("always", &uv), AFB_EINVAL);
    assert_int_equal(afb_wa_alg_parse("eddsa", &alg), AFB_OK);
    assert_int_equal(alg, AFB_WA_EDDSA);
    assert_string_equal(afb_wa_default_origin(pool, "sso.example", 443), "https://sso.example");
    assert_string_equal(afb_wa_default_origin(pool, "sso.example", 8443),
                        "https://sso.example:8443");
    assert_int_equal(afb_wa_origins_parse(pool, "https://a.example,http://localhost:8080", &r,
                                          &why), AFB_OK);
    assert_int_equal(r.n_origins, 2);
    assert_string_equal(r.origins[1], "http://localhost:8080");
    assert_int_equal(afb_wa_origins_parse(pool, "https://a.example/path", &r, &why), AFB_EINVAL);
    assert_int_equal(afb_wa_origins_parse(pool, "ftp://a.example", &r, &why), AFB_EINVAL);
    assert_int_equal(afb_wa_origins_parse(pool, "", &r, &why), AFB_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registration_each_alg),
        cmocka_unit_test(test_registration_refusals),
        cmocka_unit_test(test_assertion_each_alg),
        cmocka_unit_test(test_assertion_refusals),
        cmocka_unit_test(test_sign_count_rule),
        cmocka_unit_test(test_challenge_seal),
        cmocka_unit_test(test_client_data_parse),
        cmocka_unit_test(test_cross_origin_refused),
        cmocka_unit_test(test_attestation_parse),
        cmocka_unit_test(test_config_words),
    };
    int rc;

    apr_initialize();
    rc = cmocka_run_group_tests(tests, setup, teardown);
    apr_terminate();
    return rc;
}
