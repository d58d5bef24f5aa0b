/* Unit tests of the directory path's pure half: RFC 4515 escaping and filter templates, the
 * checks on names, values and URLs, and the classification of bind answers, with diagnostic
 * messages as Active Directory and Samba AD send them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "authfb/ldap.h"

static apr_pool_t *pool;

static int setup(void **state)
{
    (void)state;
    return apr_pool_create(&pool, NULL) == APR_SUCCESS ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    apr_pool_destroy(pool);
    return 0;
}

/* ---- RFC 4515 escaping ---- */

static void test_escape_specials(void **state)
{
    (void)state;
    assert_string_equal(afb_ldap_filter_escape(pool, "alice", 5), "alice");
    assert_string_equal(afb_ldap_filter_escape(pool, "*", 1), "\\2a");
    assert_string_equal(afb_ldap_filter_escape(pool, ")(uid=*", 7), "\\29\\28uid=\\2a");
    assert_string_equal(afb_ldap_filter_escape(pool, "\\", 1), "\\5c");
    assert_string_equal(afb_ldap_filter_escape(pool, "a\0b", 3), "a\\00b");
    /* RFC 4515's own examples */
    assert_string_equal(afb_ldap_filter_escape(pool, "Parens R Us (for all your parenthetical "
                                               "needs)", 46),
                        "Parens R Us \\28for all your parenthetical needs\\29");
    assert_string_equal(afb_ldap_filter_escape(pool, "\xc3\xa9", 2), "\\c3\\a9");
    assert_string_equal(afb_ldap_filter_escape(pool, "", 0), "");
}

static void test_filter_build(void **state)
{
    (void)state;
    assert_string_equal(afb_ldap_filter_build(pool, AFB_LDAP_DEFAULT_FILTER, "*)(cn=*", 7),
                        "(&(objectCategory=person)(sAMAccountName=\\2a\\29\\28cn=\\2a))");
    assert_string_equal(afb_ldap_filter_build(pool, "(|(uid=%u)(mail=%u))", "bob", 3),
                        "(|(uid=bob)(mail=bob))");
    assert_string_equal(afb_ldap_filter_build(pool, "(&(uid=%u)(note=100%%))", "x", 1),
                        "(&(uid=x)(note=100%))");
}

static void test_filter_check(void **state)
{
    const char *why = NULL;

    (void)state;
    assert_int_equal(afb_ldap_filter_check(AFB_LDAP_DEFAULT_FILTER, &why), AFB_OK);
    assert_int_equal(afb_ldap_filter_check("(uid=%u)", &why), AFB_OK);
    assert_int_equal(afb_ldap_filter_check("(uid=alice)", &why), AFB_EINVAL);
    assert_non_null(strstr(why, "%u"));
    assert_int_equal(afb_ldap_filter_check("uid=%u", &why), AFB_EINVAL);
    assert_int_equal(afb_ldap_filter_check("(&(uid=%u)", &why), AFB_EINVAL);
    assert_int_equal(afb_ldap_filter_check("(uid=%u))", &why), AFB_EINVAL);
    assert_int_equal(afb_ldap_filter_check("(uid=%u)(cn=x)", &why), AFB_EINVAL);
    assert_int_equal(afb_ldap_filter_check("(uid=%s)", &why), AFB_EINVAL);
    assert_int_equal(afb_ldap_filter_check(NULL, &why), AFB_EINVAL);
}

/* ---- names, values, URLs ---- */

static void test_name_check(void **state)
{
    char longname[AFB_LDAP_MAX_USER + 2];

    (void)state;
    memset(longname, 'a', sizeof(longname));
    assert_int_equal(afb_ldap_name_check("alice", 5), AFB_OK);
    assert_int_equal(afb_ldap_name_check("*)(uid=*", 8), AFB_OK);      /* escaped, searched */
    assert_int_equal(afb_ldap_name_check("j\xc3\xa9r\xc3\xb4me", 8), AFB_OK);
    assert_int_equal(afb_ldap_name_check("", 0), AFB_ENOENT);
    assert_int_equal(afb_ldap_name_check("al\0ice", 6), AFB_ENOENT);
    assert_int_equal(afb_ldap_name_check("al\nice", 6), AFB_ENOENT);
    assert_int_equal(afb_ldap_name_check("\xff\xfe", 2), AFB_ENOENT);
    assert_int_equal(afb_ldap_name_check("\xc0\xaf", 2), AFB_ENOENT);  /* overlong '/' */
    assert_int_equal(afb_ldap_name_check(longname, AFB_LDAP_MAX_USER), AFB_OK);
    assert_int_equal(afb_ldap_name_check(longname, AFB_LDAP_MAX_USER + 1), AFB_ENOENT);
}

static void test_value_check(void **state)
{
    char big[AFB_LDAP_MAX_VALUE + 1];

    (void)state;
    memset(big, 'v', sizeof(big));
    assert_int_equal(afb_ldap_value_check("alice@corp.example", 18), AFB_OK);
    assert_int_equal(afb_ldap_value_check("", 0), AFB_EINVAL);
    assert_int_equal(afb_ldap_value_check("a\0b", 3), AFB_EINVAL);
    assert_int_equal(afb_ldap_value_check("a\r\nb", 4), AFB_EINVAL);
    assert_int_equal(afb_ldap_value_check(big, AFB_LDAP_MAX_VALUE), AFB_OK);
    assert_int_equal(afb_ldap_value_check(big, AFB_LDAP_MAX_VALUE + 1), AFB_EINVAL);
}

static void test_url_check(void **state)
{
    const char *why = NULL;

    (void)state;
    assert_int_equal(afb_ldap_url_check(pool, "ldaps://dc1.corp.example", 0, &why), AFB_OK);
    assert_int_equal(afb_ldap_url_check(pool, "ldaps://dc1.corp.example:636/", 0, &why), AFB_OK);
    assert_int_equal(afb_ldap_url_check(pool, "ldap://dc1.corp.example", 1, &why), AFB_OK);
    assert_int_equal(afb_ldap_url_check(pool, "ldap://127.0.0.1:3890", 0, &why), AFB_OK);
    assert_int_equal(afb_ldap_url_check(pool, "ldap://[::1]:3890", 0, &why), AFB_OK);
    assert_int_equal(afb_ldap_url_check(pool, "ldap://localhost", 0, &why), AFB_OK);
    assert_int_equal(afb_ldap_url_check(pool, "ldap://dc1.corp.example", 0, &why), AFB_EINVAL);
    assert_non_null(strstr(why, "starttls=on"));
    assert_int_equal(afb_ldap_url_check(pool, "ldap://127.example.com", 0, &why), AFB_EINVAL);
    assert_int_equal(afb_ldap_url_check(pool, "ldap://10.0.0.1", 0, &why), AFB_EINVAL);
    assert_int_equal(afb_ldap_url_check(pool, "ldaps://dc1", 1, &why), AFB_EINVAL);
    assert_int_equal(afb_ldap_url_check(pool, "ldapi:///run/slapd", 0, &why), AFB_EINVAL);
    assert_int_equal(afb_ldap_url_check(pool, "https://dc1", 0, &why), AFB_EINVAL);
    assert_int_equal(afb_ldap_url_check(pool, "ldaps://dc1/dc=corp??sub", 0, &why), AFB_EINVAL);
    assert_int_equal(afb_ldap_url_check(pool, "ldaps://user@dc1", 0, &why), AFB_EINVAL);
    assert_int_equal(afb_ldap_url_check(pool, "ldaps://", 0, &why), AFB_EINVAL);
}

/* ---- classification of bind answers ---- */

/* Diagnostic messages of invalidCredentials (49) as Windows Server and Samba AD send them. */
static const struct {
    const char *diag;
    afb_status_t st;
    afb_ldap_reason_t why;
} ad_answers[] = {
    {"80090308: LdapErr: DSID-0C090447, comment: AcceptSecurityContext error, data 525, v3839",
     AFB_ENOENT, AFB_LDAP_R_UNKNOWN_USER},
    {"80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 52e, v4563",
     AFB_EMISMATCH, AFB_LDAP_R_BAD_PASSWORD},
    {"80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 530, v4563",
     AFB_EMISMATCH, AFB_LDAP_R_TIME_RESTRICTION},
    {"80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 531, v4563",
     AFB_EMISMATCH, AFB_LDAP_R_WORKSTATION},
    {"80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 532, v4563",
     AFB_EMISMATCH, AFB_LDAP_R_PASSWORD_EXPIRED},
    {"80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 533, v4563",
     AFB_EMISMATCH, AFB_LDAP_R_DISABLED},
    {"80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 701, v4563",
     AFB_EMISMATCH, AFB_LDAP_R_ACCOUNT_EXPIRED},
    {"80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 773, v4563",
     AFB_EMISMATCH, AFB_LDAP_R_MUST_CHANGE},
    {"80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 775, v4563",
     AFB_EMISMATCH, AFB_LDAP_R_LOCKED},
    /* Samba AD DC 4.17 */
    {"80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data 52e, v1db1",
     AFB_EMISMATCH, AFB_LDAP_R_BAD_PASSWORD},
    {"80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data 533, v1db1",
     AFB_EMISMATCH, AFB_LDAP_R_DISABLED},
    /* upper-case hex, an unknown code, no code, OpenLDAP's empty message */
    {"80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 52E, v4563",
     AFB_EMISMATCH, AFB_LDAP_R_BAD_PASSWORD},
    {"80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 568, v4563",
     AFB_EMISMATCH, AFB_LDAP_R_BAD_PASSWORD},
    {"AcceptSecurityContext error", AFB_EMISMATCH, AFB_LDAP_R_BAD_PASSWORD},
    {"", AFB_EMISMATCH, AFB_LDAP_R_BAD_PASSWORD},
    /* "data" inside another word, and a code glued to more hex, are not sub-codes */
    {"metadata 775", AFB_EMISMATCH, AFB_LDAP_R_BAD_PASSWORD},
    {"comment: x, data 7755, v1", AFB_EMISMATCH, AFB_LDAP_R_BAD_PASSWORD},
};

static void test_ad_bind_answers(void **state)
{
    afb_ldap_reason_t why;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(ad_answers) / sizeof(ad_answers[0]); i++) {
        const char *d = ad_answers[i].diag;
        afb_status_t st = afb_ldap_classify_bind(49, d, strlen(d), AFB_LDAP_PP_NONE, &why);
        if (st != ad_answers[i].st || why != ad_answers[i].why)
            fail_msg("'%s': got %d/%s", d, st, afb_ldap_reason_name(why));
    }
    assert_int_equal(afb_ldap_classify_bind(49, NULL, 0, AFB_LDAP_PP_NONE, &why), AFB_EMISMATCH);
    assert_int_equal(why, AFB_LDAP_R_BAD_PASSWORD);
}

static void test_ad_subcode_only_in_the_first_bytes(void **state)
{
    char diag[AFB_LDAP_MAX_DIAG + 64];

    (void)state;
    memset(diag, 'x', sizeof(diag));
    memcpy(diag + AFB_LDAP_MAX_DIAG + 10, " data 775", 9);
    assert_int_equal(afb_ldap_ad_subcode(diag, sizeof(diag)), AFB_LDAP_R_NONE);
    memcpy(diag + 10, " data 775", 9);
    assert_int_equal(afb_ldap_ad_subcode(diag, sizeof(diag)), AFB_LDAP_R_LOCKED);
    assert_int_equal(afb_ldap_ad_subcode("data 775", 7), AFB_LDAP_R_NONE);  /* cut: "data 77" */
}

static void test_ppolicy_answers(void **state)
{
    afb_ldap_reason_t why;

    (void)state;
    assert_int_equal(afb_ldap_classify_bind(49, NULL, 0, AFB_LDAP_PP_ACCOUNT_LOCKED, &why),
                     AFB_EMISMATCH);
    assert_int_equal(why, AFB_LDAP_R_LOCKED);
    assert_int_equal(afb_ldap_classify_bind(49, NULL, 0, AFB_LDAP_PP_PASSWORD_EXPIRED, &why),
                     AFB_EMISMATCH);
    assert_int_equal(why, AFB_LDAP_R_PASSWORD_EXPIRED);
    /* after an administrator's reset the bind succeeds but only allows a password change */
    assert_int_equal(afb_ldap_classify_bind(0, NULL, 0, AFB_LDAP_PP_CHANGE_AFTER_RESET, &why),
                     AFB_EMISMATCH);
    assert_int_equal(why, AFB_LDAP_R_MUST_CHANGE);
    assert_int_equal(afb_ldap_classify_bind(0, NULL, 0, AFB_LDAP_PP_NONE, &why), AFB_OK);
    assert_int_equal(why, AFB_LDAP_R_NONE);
    /* a ppolicy refusal under another code is still the person's */
    assert_int_equal(afb_ldap_classify_bind(53, NULL, 0, AFB_LDAP_PP_ACCOUNT_LOCKED, &why),
                     AFB_EMISMATCH);
    assert_int_equal(why, AFB_LDAP_R_LOCKED);
}

static void test_infrastructure_answers(void **state)
{
    static const struct {
        int rc;
        afb_status_t st;
        afb_ldap_reason_t why;
    } cases[] = {
        {-1, AFB_EIO, AFB_LDAP_R_UNREACHABLE},      /* LDAP_SERVER_DOWN */
        {-11, AFB_EIO, AFB_LDAP_R_UNREACHABLE},     /* LDAP_CONNECT_ERROR */
        {-5, AFB_ETIMEOUT, AFB_LDAP_R_TIMEOUT},     /* LDAP_TIMEOUT */
        {3, AFB_ETIMEOUT, AFB_LDAP_R_TIMEOUT},      /* timeLimitExceeded */
        {51, AFB_EIO, AFB_LDAP_R_BUSY},
        {52, AFB_EIO, AFB_LDAP_R_UNAVAILABLE},
        {53, AFB_EIO, AFB_LDAP_R_UNAVAILABLE},      /* unwillingToPerform, no policy said */
        {13, AFB_EIO, AFB_LDAP_R_TLS},              /* confidentialityRequired */
        {80, AFB_EIO, AFB_LDAP_R_DIRECTORY},        /* other */
        {1, AFB_EIO, AFB_LDAP_R_DIRECTORY},         /* operationsError */
    };
    afb_ldap_reason_t why;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        afb_status_t st = afb_ldap_classify_bind(cases[i].rc, "busy", 4, AFB_LDAP_PP_NONE, &why);
        if (st != cases[i].st || why != cases[i].why)
            fail_msg("rc %d: got %d/%s", cases[i].rc, st, afb_ldap_reason_name(why));
        assert_true(afb_ldap_is_infra(st));
    }
    /* the entry went away between search and bind: the person's */
    assert_int_equal(afb_ldap_classify_bind(32, NULL, 0, AFB_LDAP_PP_NONE, &why), AFB_ENOENT);
    assert_false(afb_ldap_is_infra(AFB_ENOENT));
    assert_false(afb_ldap_is_infra(AFB_EMISMATCH));
}

static void test_reason_names_are_distinct(void **state)
{
    int a, b;

    (void)state;
    for (a = AFB_LDAP_R_NONE; a <= AFB_LDAP_R_INTERNAL; a++)
        for (b = a + 1; b <= AFB_LDAP_R_INTERNAL; b++)
            assert_string_not_equal(afb_ldap_reason_name(a), afb_ldap_reason_name(b));
    assert_string_equal(afb_ldap_reason_name(AFB_LDAP_R_UNTRUSTED_CERT), "untrusted_certificate");
    assert_string_equal(afb_ldap_reason_name(AFB_LDAP_R_LOCKED), "locked");
}

/* ---- configuration (no network) ---- */

static void test_create_refuses_bad_configuration(void **state)
{
    const char *plain[] = {"ldap://dc1.corp.example", NULL};
    const char *good[] = {"ldaps://dc1.corp.example", "ldaps://dc2.corp.example", NULL};
    const char *none[] = {NULL};
    afb_ldap_conf_t c;
    afb_ldap_t *l = NULL;
    const char *why = NULL;

    (void)state;
    memset(&c, 0, sizeof(c));
    c.name = "ad";
    c.base = "dc=corp,dc=example";
    c.urls = plain;
    assert_int_equal(afb_ldap_create(pool, &c, &l, &why), AFB_EINVAL);
    assert_non_null(strstr(why, "plain ldap://"));
    c.starttls = 1;
    assert_int_equal(afb_ldap_create(pool, &c, &l, &why), AFB_OK);
    c.starttls = 0;
    c.urls = none;
    assert_int_equal(afb_ldap_create(pool, &c, &l, &why), AFB_EINVAL);
    c.urls = good;
    c.base = NULL;
    assert_int_equal(afb_ldap_create(pool, &c, &l, &why), AFB_EINVAL);
    assert_non_null(strstr(why, "base="));
    c.base = "dc=corp,dc=example";
    c.bind_dn = "cn=svc,dc=corp,dc=example";
    c.bind_password = "";
    assert_int_equal(afb_ldap_create(pool, &c, &l, &why), AFB_EINVAL);
    c.bind_password = "s3cret";
    c.filter = "(uid=alice)";
    assert_int_equal(afb_ldap_create(pool, &c, &l, &why), AFB_EINVAL);
    c.filter = NULL;
    assert_int_equal(afb_ldap_create(pool, &c, &l, &why), AFB_OK);
}

static void test_refused_before_the_network(void **state)
{
    /* Port 9 on a TEST-NET-1 address: were anything sent, the call would take its timeout
     * and fail as an outage; these answers come at once and are the person's. */
    const char *urls[] = {"ldaps://192.0.2.1:9", NULL};
    afb_ldap_conf_t c;
    afb_ldap_t *l = NULL;
    afb_ldap_result_t res;
    const char *why = NULL;
    apr_time_t t0;

    (void)state;
    memset(&c, 0, sizeof(c));
    c.urls = urls;
    c.base = "dc=corp,dc=example";
    c.timeout = apr_time_from_sec(5);
    assert_int_equal(afb_ldap_create(pool, &c, &l, &why), AFB_OK);
    t0 = apr_time_now();
    assert_int_equal(afb_ldap_authenticate(l, pool, "alice", 5, "", &res), AFB_EMISMATCH);
    assert_int_equal(res.why, AFB_LDAP_R_BAD_PASSWORD);
    assert_int_equal(afb_ldap_authenticate(l, pool, "al\0ice", 6, "pw", &res), AFB_ENOENT);
    assert_int_equal(res.why, AFB_LDAP_R_UNKNOWN_USER);
    assert_int_equal(afb_ldap_authenticate(l, pool, "", 0, "pw", &res), AFB_ENOENT);
    assert_true(apr_time_now() - t0 < apr_time_from_msec(500));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_specials),
        cmocka_unit_test(test_filter_build),
        cmocka_unit_test(test_filter_check),
        cmocka_unit_test(test_name_check),
        cmocka_unit_test(test_value_check),
        cmocka_unit_test(test_url_check),
        cmocka_unit_test(test_ad_bind_answers),
        cmocka_unit_test(test_ad_subcode_only_in_the_first_bytes),
        cmocka_unit_test(test_ppolicy_answers),
        cmocka_unit_test(test_infrastructure_answers),
        cmocka_unit_test(test_reason_names_are_distinct),
        cmocka_unit_test(test_create_refuses_bad_configuration),
        cmocka_unit_test(test_refused_before_the_network),
    };

    apr_initialize();
    return cmocka_run_group_tests(tests, setup, teardown);
}
