/* NT hashes and the store format derived from them. Expected values come from outside the
 * code under test: `iconv -t utf-16le | openssl dgst -md4 -provider legacy` for NT hashes
 * (one of them also printed by Samba's pdbedit), Python's hashlib.pbkdf2_hmac with passlib's
 * adapted base64 for the store entries. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "authfb/nthash.h"
#include "authfb/pwstore.h"

/* NT("password"); PBKDF2-SHA256 over it, salt 00 01 .. 0f. */
#define NT_PASSWORD "8846f7eaee8fb117ad06bdd830b7586c"
#define E_1000 "$nt-pbkdf2-sha256$1000$AAECAwQFBgcICQoLDA0ODw$YDs1FvqULbYbI9BMOXdSKUBq5IvN3AwIHMVo3hyvGhk"
#define E_100000 "$nt-pbkdf2-sha256$100000$AAECAwQFBgcICQoLDA0ODw$jmbvJ65bQXWvM0NM4X4JADTaZfiW37IaoPsgmPSOl8g"

static int setup(void **state)
{
    apr_pool_t *p = NULL;

    if (apr_pool_create(&p, NULL) != APR_SUCCESS)
        return -1;
    *state = p;
    return 0;
}

static int teardown(void **state)
{
    apr_pool_destroy(*state);
    return 0;
}

static void assert_nt(const char *password, const char *hex)
{
    unsigned char got[AFB_NTHASH_LEN], want[AFB_NTHASH_LEN];

    assert_int_equal(afb_nthash_from_hex(hex, strlen(hex), want), AFB_OK);
    assert_int_equal(afb_nthash(password, strlen(password), got), AFB_OK);
    assert_memory_equal(got, want, sizeof(want));
}

static void test_nt_known_vectors(void **state)
{
    (void)state;
    assert_true(afb_nthash_available(NULL));
    assert_nt("password", NT_PASSWORD);
    assert_nt("", "31d6cfe0d16ae931b73c59d7e0c089c0");
    assert_nt("Al1ce-Passw0rd!", "B892A46A95A90E21AD1D011D4667D1BE"); /* pdbedit -L -w */
    assert_nt("P\xc3\xa4ssw\xc3\xb6rd-\xe2\x82\xac" "1", "1eae03848f629b857856dbd300fc9cf5");
    /* outside the BMP: a surrogate pair in UTF-16 */
    assert_nt("\xf0\x9d\x84\x9e" "clef", "a5af1bf0f057963ffa0e834d60c6927d");
}

static void test_nt_refuses_bad_utf8(void **state)
{
    static const char *const bad[] = {
        "\xff", "a\xc3", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
        "\x80", "\xf8\x88\x80\x80\x80",
    };
    unsigned char nt[AFB_NTHASH_LEN];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (afb_nthash(bad[i], strlen(bad[i]), nt) != AFB_EINVAL)
            fail_msg("accepted bad UTF-8 #%zu", i);
    assert_int_equal(afb_nthash(NULL, 0, nt), AFB_EINVAL);
}

static void test_hex_and_raw(void **state)
{
    unsigned char nt[AFB_NTHASH_LEN];

    (void)state;
    assert_int_equal(afb_nthash_from_hex(NT_PASSWORD, 32, nt), AFB_OK);
    assert_int_equal(nt[0], 0x88);
    assert_int_equal(nt[15], 0x6c);
    assert_int_equal(afb_nthash_from_hex(NT_PASSWORD, 31, nt), AFB_EINVAL);
    assert_int_equal(afb_nthash_from_hex("g846f7eaee8fb117ad06bdd830b7586c", 32, nt), AFB_EINVAL);
    assert_true(afb_nthash_is_raw(NT_PASSWORD));
    assert_true(afb_nthash_is_raw("8846F7EAEE8FB117AD06BDD830B7586C"));
    assert_true(afb_nthash_is_raw("$NT$" NT_PASSWORD));
    assert_false(afb_nthash_is_raw(E_1000));
    assert_false(afb_nthash_is_raw(NT_PASSWORD "0"));
}

static void test_store_entry_format(void **state)
{
    static const unsigned char salt[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
    unsigned char nt[AFB_NTHASH_LEN];
    const char *e = NULL, *e2 = NULL;

    assert_int_equal(afb_nthash_from_hex(NT_PASSWORD, 32, nt), AFB_OK);
    assert_int_equal(afb_ntpbkdf2_make_salted(*state, nt, 1000, salt, 16, &e), AFB_OK);
    assert_string_equal(e, E_1000);
    assert_int_equal(afb_ntpbkdf2_make_salted(*state, nt, 100000, salt, 16, &e), AFB_OK);
    assert_string_equal(e, E_100000);
    assert_int_equal(afb_ntpbkdf2_make_salted(*state, nt, 1000, salt, 15, &e), AFB_EINVAL);
    /* a fresh random salt each time; both check */
    assert_int_equal(afb_ntpbkdf2_make(*state, nt, 1000, &e), AFB_OK);
    assert_int_equal(afb_ntpbkdf2_make(*state, nt, 1000, &e2), AFB_OK);
    assert_string_not_equal(e, e2);
    assert_int_equal(afb_hash_kind(e), AFB_HASH_NT_PBKDF2);
    assert_int_equal(afb_ntpbkdf2_check(e, nt), AFB_OK);
    assert_int_equal(afb_ntpbkdf2_check(E_1000, nt), AFB_OK);
    nt[0] ^= 1;
    assert_int_equal(afb_ntpbkdf2_check(E_1000, nt), AFB_EMISMATCH);
    assert_int_equal(afb_ntpbkdf2_check("$pbkdf2-sha256$1000$AAECAwQFBgcICQoLDA0ODw$"
                                        "YDs1FvqULbYbI9BMOXdSKUBq5IvN3AwIHMVo3hyvGhk", nt),
                     AFB_EINVAL);
}

static void test_verify_typed_passwords(void **state)
{
    apr_pool_t *p = *state;

    assert_int_equal(afb_hash_verify(p, E_1000, "password"), AFB_OK);
    assert_int_equal(afb_hash_verify(p, E_100000, "password"), AFB_OK);
    assert_int_equal(afb_hash_verify(p, E_1000, "Password"), AFB_EMISMATCH);
    assert_int_equal(afb_hash_verify(p, E_1000, "\xff"), AFB_EMISMATCH);
}

static void test_store_lines(void **state)
{
    apr_pool_t *p = *state;
    afb_pwstore_t *s = NULL;
    const char *err = NULL;
    int weak = -1;
    const char *text = apr_pstrcat(p, "alice:" E_1000 "\n",
                                   "raw:" NT_PASSWORD "\n",
                                   "rawnt:$NT$" NT_PASSWORD "\n",
                                   "bob:" E_100000 "\n", NULL);
    static const char *const malformed[] = {
        "u:$nt-pbkdf2-sha256$1000$AAECAwQFBgcICQoLDA0O$YDs1FvqULbYbI9BMOXdSKUBq5IvN3AwIHMVo3hyvGhk\n",
        "u:$nt-pbkdf2-sha256$0$AAECAwQFBgcICQoLDA0ODw$YDs1FvqULbYbI9BMOXdSKUBq5IvN3AwIHMVo3hyvGhk\n",
        "u:$nt-pbkdf2-sha256$1000$AAECAwQFBgcICQoLDA0ODw$YDs1FvqULbYbI9BMOXdSKUBq5IvN3AwIHMVo3hyvGh\n",
        "u:$nt-pbkdf2-sha256$1000$AAECAwQFBgcICQoLDA0ODw\n",
    };

    assert_int_equal(afb_pwstore_parse(p, text, strlen(text), &s, &weak, &err), AFB_OK);
    assert_int_equal(afb_pwstore_count(s), 2);
    assert_int_equal(afb_pwstore_count_nt(s), 2);
    assert_int_equal(afb_pwstore_refused_nt(s), 2);
    assert_int_equal(weak, 0);
    assert_int_equal(afb_pwstore_verify(s, p, "alice", "password"), AFB_OK);
    assert_int_equal(afb_pwstore_verify(s, p, "bob", "wrong"), AFB_EMISMATCH);
    /* the raw NT hash is not a way in, neither as typed password nor as its hash */
    assert_int_equal(afb_pwstore_verify(s, p, "raw", "password"), AFB_ENOENT);
    assert_int_equal(afb_pwstore_verify(s, p, "raw", NT_PASSWORD), AFB_ENOENT);
    for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
        s = NULL;
        if (afb_pwstore_parse(p, malformed[i], strlen(malformed[i]), &s, &weak, &err) == AFB_OK)
            fail_msg("accepted malformed #%zu", i);
        assert_non_null(err);
        assert_null(strstr(err, "YDs1"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nt_known_vectors),
        cmocka_unit_test(test_nt_refuses_bad_utf8),
        cmocka_unit_test(test_hex_and_raw),
        cmocka_unit_test_setup_teardown(test_store_entry_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_typed_passwords, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_lines, setup, teardown),
    };

    apr_initialize();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
