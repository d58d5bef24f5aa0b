/* Name rules: what each typed or returned name becomes under names=, realms= and user_form=,
 * with Unicode case folding and NFC, and what a log line keeps of an unknown name. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <apr_general.h>
#include <apr_strings.h>
#include "authfb/names.h"
#include "authfb/provider.h"

#define OIDC_URL "https://adfs.corp.example/adfs/.well-known/openid-configuration"

static apr_pool_t *pool;

static afb_names_t rules_of(const char *names, const char *realms, const char *form)
{
    afb_names_t r;

    memset(&r, 0, sizeof(r));
    if (names)
        assert_null(afb_names_parse_key(pool, &r, "names=", "names", names));
    if (realms)
        assert_null(afb_names_parse_key(pool, &r, "realms=", "realms", realms));
    if (form)
        assert_null(afb_names_parse_key(pool, &r, "user_form=", "user_form", form));
    return r;
}

/* The key of `in` under the rules, or NULL when refused (status in *st). */
static const char *key_of(const afb_names_t *r, const char *in, afb_status_t *st)
{
    afb_name_t n;
    *st = afb_names_apply(pool, r, in, &n);
    return *st == AFB_OK ? n.key : NULL;
}

static void expect_key(const afb_names_t *r, const char *in, const char *key)
{
    afb_status_t st;
    const char *got = key_of(r, in, &st);
    if (got == NULL || strcmp(got, key) != 0)
        fail_msg("'%s': expected key '%s', got '%s' (%s)", in, key, got ? got : "(refused)",
                 afb_status_str(st));
}

static void expect_refused(const afb_names_t *r, const char *in, afb_status_t want)
{
    afb_status_t st;
    const char *got = key_of(r, in, &st);
    if (got != NULL || st != want)
        fail_msg("'%s': expected %s, got key '%s' (%s)", in, afb_status_str(want),
                 got ? got : "", afb_status_str(st));
}

static void test_trim_and_nfc(void **state)
{
    afb_names_t exact = rules_of(NULL, NULL, NULL);
    (void)state;
    expect_key(&exact, " alice ", "alice");
    expect_key(&exact, "\talice\r\n", "alice");
    expect_key(&exact, "\xc2\xa0" "alice" "\xe3\x80\x80", "alice"); /* NBSP, ideographic space */
    /* e + COMBINING ACUTE becomes U+00E9; the precomposed form stays */
    expect_key(&exact, "rene\xcc\x81", "ren\xc3\xa9");
    expect_key(&exact, "ren\xc3\xa9", "ren\xc3\xa9");
    /* Angstrom sign U+212B is canonically A-ring U+00C5 */
    expect_key(&exact, "\xe2\x84\xab" "ke", "\xc3\x85" "ke");
    /* exact keeps case */
    expect_key(&exact, "Alice", "Alice");
}

static void test_not_names(void **state)
{
    afb_names_t exact = rules_of(NULL, NULL, NULL);
    char big[AFB_NAME_MAX + 2];
    (void)state;
    expect_refused(&exact, "", AFB_EINVAL);
    expect_refused(&exact, "   ", AFB_EINVAL);
    expect_refused(&exact, "al\x01ice", AFB_EINVAL);
    expect_refused(&exact, "al\nice", AFB_EINVAL);
    expect_refused(&exact, "al\xe2\x80\xa8ice", AFB_EINVAL); /* LINE SEPARATOR inside */
    expect_refused(&exact, "al\xffice", AFB_EINVAL);         /* not UTF-8 */
    expect_refused(&exact, "\xc0\xaf", AFB_EINVAL);          /* overlong '/' */
    expect_refused(&exact, "\xed\xa0\x80", AFB_EINVAL);      /* a surrogate */
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    expect_refused(&exact, big, AFB_EINVAL);
    big[AFB_NAME_MAX] = '\0';
    expect_key(&exact, big, big);
}

static void test_caseless_folding(void **state)
{
    afb_names_t cl = rules_of("caseless", NULL, NULL);
    (void)state;
    expect_key(&cl, "Alice", "alice");
    expect_key(&cl, " ALICE ", "alice");
    /* full folding: sharp s is ss, final sigma is sigma, Kelvin sign is k */
    expect_key(&cl, "Stra\xc3\x9f" "e", "strasse");
    expect_key(&cl, "STRASSE", "strasse");
    expect_key(&cl, "\xce\xa3\xce\x91\xce\xa3", "\xcf\x83\xce\xb1\xcf\x83");       /* ΣΑΣ */
    expect_key(&cl, "\xcf\x83\xce\xb1\xcf\x82", "\xcf\x83\xce\xb1\xcf\x83");       /* σας */
    expect_key(&cl, "\xe2\x84\xaa" "im", "kim");                                  /* Kelvin */
    /* folding and composition together: E + COMBINING ACUTE and é meet */
    expect_key(&cl, "RE\xcc\x81MI", "r\xc3\xa9mi");
    expect_key(&cl, "r\xc3\xa9mi", "r\xc3\xa9mi");
    expect_key(&cl, "\xc3\x89MILE", "\xc3\xa9mile");
}

static void test_realms(void **state)
{
    afb_names_t r = rules_of("caseless", "corp.example,CORP", NULL);
    afb_names_t none = rules_of(NULL, NULL, NULL);
    afb_name_t n;
    (void)state;
    expect_key(&r, "alice", "alice");
    expect_key(&r, "alice@corp.example", "alice");
    expect_key(&r, "Alice@CORP.EXAMPLE", "alice");
    expect_key(&r, "CORP\\alice", "alice");
    expect_key(&r, "corp\\Alice", "alice");
    expect_key(&r, "corp.example\\alice", "alice");
    expect_refused(&r, "alice@other.example", AFB_ENOENT);
    expect_refused(&r, "OTHER\\alice", AFB_ENOENT);
    expect_refused(&r, "alice@", AFB_ENOENT);
    expect_refused(&r, "\\alice", AFB_ENOENT);
    expect_refused(&r, "CORP\\alice@corp.example", AFB_ENOENT);
    /* the last '@' names the realm */
    expect_refused(&r, "alice@corp.example@evil.example", AFB_ENOENT);
    expect_refused(&r, "a@b@corp.example", AFB_ENOENT);
    expect_refused(&r, "CORP\\a\\b", AFB_ENOENT);
    /* without realms= a name is taken whole */
    expect_key(&none, "alice@corp.example", "alice@corp.example");
    expect_key(&none, "CORP\\alice", "CORP\\alice");
    /* exact names keep the short name's case, realm or not */
    r = rules_of(NULL, "corp.example", NULL);
    assert_int_equal(afb_names_apply(pool, &r, " Alice@Corp.Example ", &n), AFB_OK);
    assert_string_equal(n.normal, "Alice@Corp.Example");
    assert_string_equal(n.shortn, "Alice");
    assert_string_equal(n.key, "Alice");
}

static void test_user_form(void **state)
{
    afb_names_t as_is = rules_of(NULL, "corp.example,CORP", NULL);
    afb_names_t shortf = rules_of(NULL, "corp.example,CORP", "short");
    afb_names_t realm = rules_of(NULL, "corp.example,CORP", "@corp.example");
    afb_names_t norealms = rules_of(NULL, NULL, "short");
    (void)state;
    assert_string_equal(afb_names_user(pool, &as_is, "alice@corp.example"), "alice@corp.example");
    assert_string_equal(afb_names_user(pool, &shortf, "alice@corp.example"), "alice");
    assert_string_equal(afb_names_user(pool, &shortf, "CORP\\alice"), "alice");
    assert_string_equal(afb_names_user(pool, &shortf, "alice"), "alice");
    assert_string_equal(afb_names_user(pool, &realm, "alice"), "alice@corp.example");
    assert_string_equal(afb_names_user(pool, &realm, "CORP\\alice"), "alice@corp.example");
    /* short without realms= has no realm to remove */
    assert_string_equal(afb_names_user(pool, &norealms, "alice@corp.example"),
                        "alice@corp.example");
}

static void test_parse_errors(void **state)
{
    afb_names_t r;
    (void)state;
    memset(&r, 0, sizeof(r));
    assert_non_null(afb_names_parse_key(pool, &r, "names=nocase", "names", "nocase"));
    assert_non_null(afb_names_parse_key(pool, &r, "realms=a,,b", "realms", "a,,b"));
    assert_non_null(afb_names_parse_key(pool, &r, "realms=a,", "realms", "a,"));
    assert_non_null(afb_names_parse_key(pool, &r, "realms=a@b", "realms", "a@b"));
    assert_non_null(afb_names_parse_key(pool, &r, "realms=A\\B", "realms", "A\\B"));
    assert_non_null(afb_names_parse_key(pool, &r, "user_form=long", "user_form", "long"));
    assert_non_null(afb_names_parse_key(pool, &r, "user_form=@", "user_form", "@"));
    assert_non_null(afb_names_parse_key(pool, &r, "user_form=@a@b", "user_form", "@a@b"));
    assert_null(afb_names_parse_key(pool, &r, "names=CASELESS", "names", "CASELESS"));
    assert_int_equal(r.mode, AFB_NAMES_CASELESS);
    assert_null(afb_names_parse_key(pool, &r, "user_form=@Corp.Example", "user_form",
                                    "@Corp.Example"));
    assert_int_equal(r.form, AFB_FORM_REALM);
    assert_string_equal(r.form_realm, "Corp.Example");
}

/* Every provider type takes the rules through the one provider parser. */
static void test_every_type_takes_the_keys(void **state)
{
    static const struct { const char *type, *arg, *required; } types[] = {
        {"oidc", OIDC_URL, "client_id=x"},
        {"password", "/x", NULL},
        {"totp", "/x", NULL},
        {"radius", "127.0.0.1:1812", "secret_file=/s"},
        {"http-mfa", "https://mfa.example/validate/check", NULL}};
    afb_provider_conf_t c;
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        const char *kv[] = {"names=caseless", "realms=corp.example,CORP", "user_form=short",
                            types[i].required};
        const char *err = afb_provider_parse(pool, &c, "p", types[i].type, types[i].arg,
                                             types[i].required ? 4 : 3, kv);
        if (err)
            fail_msg("%s: %s", types[i].type, err);
        assert_int_equal(c.names.mode, AFB_NAMES_CASELESS);
        assert_int_equal(c.names.realms->nelts, 2);
        assert_int_equal(c.names.form, AFB_FORM_SHORT);
        assert_null(apr_table_get(c.params, "names"));
    }
    {
        const char *kv[] = {"names=sometimes"};
        const char *err = afb_provider_parse(pool, &c, "p", "password", "/x", 1, kv);
        assert_non_null(err);
        assert_non_null(strstr(err, "names=sometimes"));
        assert_null(afb_provider_parse(pool, &c, "p", "password", "/x", 0, kv));
        assert_int_equal(c.names.mode, AFB_NAMES_EXACT);
        assert_null(c.names.realms);
        assert_int_equal(c.names.form, AFB_FORM_AS_IS);
    }
}

static void test_index(void **state)
{
    afb_names_t cl = rules_of("caseless", "corp.example,CORP", NULL);
    afb_names_t exact = rules_of(NULL, NULL, NULL);
    apr_array_header_t *names = apr_array_make(pool, 4, sizeof(const char *));
    afb_names_index_t *ix;
    int clashes = -1;
    (void)state;
    APR_ARRAY_PUSH(names, const char *) = "alice";
    APR_ARRAY_PUSH(names, const char *) = "Bob@corp.example";
    APR_ARRAY_PUSH(names, const char *) = "carol";
    APR_ARRAY_PUSH(names, const char *) = "CAROL";
    APR_ARRAY_PUSH(names, const char *) = "ren\xc3\xa9";
    ix = afb_names_index(pool, &cl, names, &clashes);
    assert_int_equal(clashes, 1);
    assert_string_equal(afb_names_index_find(ix, "alice"), "alice");
    assert_string_equal(afb_names_index_find(ix, "bob"), "Bob@corp.example");
    assert_null(afb_names_index_find(ix, "carol")); /* two store names: nobody */
    assert_string_equal(afb_names_index_find(ix, "ren\xc3\xa9"), "ren\xc3\xa9");
    assert_null(afb_names_index_find(ix, "Alice"));  /* finds take keys */
    ix = afb_names_index(pool, &exact, names, &clashes);
    assert_int_equal(clashes, 0);
    assert_string_equal(afb_names_index_find(ix, "CAROL"), "CAROL");
    assert_null(afb_names_index_find(ix, "Carol"));
}

static void test_for_log(void **state)
{
    char big[200];
    const char *got;
    (void)state;
    assert_null(afb_name_for_log(pool, NULL));
    assert_string_equal(afb_name_for_log(pool, " Alice "), "Alice");
    assert_string_equal(afb_name_for_log(pool, "rene\xcc\x81"), "ren\xc3\xa9");
    assert_string_equal(afb_name_for_log(pool, "CORP\\alice"), "CORP\\x5calice");
    assert_string_equal(afb_name_for_log(pool, "a\nb\x01" "c"), "a\\x0ab\\x01c");
    assert_string_equal(afb_name_for_log(pool, "a\xff" "b"), "a\\xffb");
    assert_string_equal(afb_name_for_log(pool, "a\xe2\x80\xae" "b"), "a\\u202eb"); /* RLO */
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(strlen(afb_name_for_log(pool, big)), AFB_NAME_LOG_MAX);
    /* 64 characters, not bytes: a two-byte letter is kept whole */
    got = afb_name_for_log(pool, apr_pstrcat(pool, "\xc3\xa9\xc3\xa9", big, NULL));
    assert_int_equal(strlen(got), AFB_NAME_LOG_MAX + 2);
    assert_memory_equal(got, "\xc3\xa9\xc3\xa9x", 5);
}

static int setup(void **state)
{
    (void)state;
    apr_initialize();
    return apr_pool_create(&pool, NULL);
}

static int teardown(void **state)
{
    (void)state;
    apr_pool_destroy(pool);
    apr_terminate();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trim_and_nfc),
        cmocka_unit_test(test_not_names),
        cmocka_unit_test(test_caseless_folding),
        cmocka_unit_test(test_realms),
        cmocka_unit_test(test_user_form),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_every_type_takes_the_keys),
        cmocka_unit_test(test_index),
        cmocka_unit_test(test_for_log),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
