/* TOTP: RFC 6238 appendix B and RFC 4226 appendix D vectors, window edges, code syntax,
 * base32 (RFC 4648 section 10 vectors) and the secrets store. Codes for base32 secrets come
 * from `oathtool --totp -b SECRET --now @SECONDS`, never from the code under test. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "authfb/totp.h"

#define SEED_SHA1 "12345678901234567890"
#define SEED_SHA256 "12345678901234567890123456789012"
#define SEED_SHA512 "1234567890123456789012345678901234567890123456789012345678901234"

/* oathtool vectors at NOW = 1700000000 s, so T = 56666666 for a 30 s period. */
#define NOW_S INT64_C(1700000000)
#define NOW ((apr_time_t)NOW_S * APR_USEC_PER_SEC)
#define T30 INT64_C(56666666)
#define SECRET_A "AQN4ALJAIYPPJV2K6ARDULXV2C7TPD2V"  /* 20 bytes */
#define A_TM3 "568306"
#define A_TM2 "513185"
#define A_TM1 "173760"
#define A_T "613247"
#define A_TP1 "394008"
#define A_TP2 "495762"
#define A_TP3 "067648"
#define A_T_8DIGITS "31613247"
#define A_T_SHA256_60S "643570"
/* 32 bytes, written with padding. */
#define SECRET_B "GYH42NCKMRICBRD7BJ7D6DHGXXZGDGKHFUVTP7SBFAHD7AGNFQIQ===="
#define B_SHA256_60S_7DIGITS "1604106"
#define B_SHA512_45S_8DIGITS "20109879"
#define SECRET_C "CGFOJE26M5JZHLSZ"  /* 10 bytes, the shortest accepted */
#define C_T "136957"

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

static afb_totp_entry_t entry_from_b32(apr_pool_t *p, const char *b32, int digits,
                                       int period, afb_totp_alg_t alg)
{
    afb_totp_entry_t e;

    memset(&e, 0, sizeof(e));
    e.user = "t";
    assert_int_equal(afb_base32_decode(p, b32, &e.secret, &e.secret_len), AFB_OK);
    e.digits = digits;
    e.period = period;
    e.alg = alg;
    return e;
}

/* ---- RFC vectors --------------------------------------------------------------------- */

typedef struct {
    int64_t t;
    const char *sha1, *sha256, *sha512;
} rfc6238_t;

static const rfc6238_t rfc6238[] = {
    {59, "94287082", "46119246", "90693936"},
    {1111111109, "07081804", "68084774", "25091201"},
    {1111111111, "14050471", "67062674", "99943326"},
    {1234567890, "89005924", "91819424", "93441116"},
    {2000000000, "69279037", "90698825", "38618901"},
    {INT64_C(20000000000), "65353130", "77737706", "47863826"},
};

static void check_rfc6238(const char *seed, afb_totp_alg_t alg, int64_t t, const char *code)
{
    afb_totp_entry_t e = {"rfc", (unsigned char *)seed, strlen(seed), 8, 30, alg, 0, 0, NULL};
    int64_t step = -1;
    char wrong[9];

    assert_int_equal(afb_totp_verify(&e, code, (apr_time_t)t * APR_USEC_PER_SEC, 0, &step),
                     AFB_OK);
    assert_int_equal(step, t / 30);
    memcpy(wrong, code, 9);
    wrong[7] = (char)(wrong[7] == '9' ? '0' : wrong[7] + 1);
    assert_int_equal(afb_totp_verify(&e, wrong, (apr_time_t)t * APR_USEC_PER_SEC, 1, &step),
                     AFB_EMISMATCH);
}

static void test_rfc6238_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rfc6238) / sizeof(rfc6238[0]); i++) {
        check_rfc6238(SEED_SHA1, AFB_TOTP_SHA1, rfc6238[i].t, rfc6238[i].sha1);
        check_rfc6238(SEED_SHA256, AFB_TOTP_SHA256, rfc6238[i].t, rfc6238[i].sha256);
        check_rfc6238(SEED_SHA512, AFB_TOTP_SHA512, rfc6238[i].t, rfc6238[i].sha512);
    }
}

static void test_rfc4226_hotp(void **state)
{
    static const uint32_t expect[] = {755224, 287082, 359152, 969429, 338314,
                                      254676, 287922, 162583, 399871, 520489};
    const unsigned char *key = (const unsigned char *)SEED_SHA1;
    uint32_t code = 0;

    (void)state;
    for (uint64_t c = 0; c < 10; c++) {
        assert_int_equal(afb_hotp(key, 20, AFB_TOTP_SHA1, c, 6, &code), AFB_OK);
        assert_int_equal(code, expect[c]);
    }
    /* RFC 6238's T = 1 with 8 digits, as HOTP. */
    assert_int_equal(afb_hotp(key, 20, AFB_TOTP_SHA1, 1, 8, &code), AFB_OK);
    assert_int_equal(code, 94287082);
    assert_int_equal(afb_hotp(key, 20, AFB_TOTP_SHA1, 0, 5, &code), AFB_EINVAL);
    assert_int_equal(afb_hotp(key, 20, AFB_TOTP_SHA1, 0, 9, &code), AFB_EINVAL);
    assert_int_equal(afb_hotp(key, 0, AFB_TOTP_SHA1, 0, 6, &code), AFB_EINVAL);
    assert_int_equal(afb_hotp(key, 20, (afb_totp_alg_t)7, 0, 6, &code), AFB_EINVAL);
}

/* ---- windows ------------------------------------------------------------------------- */

static void expect_step(const afb_totp_entry_t *e, const char *code, apr_time_t now,
                        int window, int64_t want)
{
    int64_t step = -1;

    assert_int_equal(afb_totp_verify(e, code, now, window, &step), AFB_OK);
    assert_int_equal(step, want);
}

static void expect_refused(const afb_totp_entry_t *e, const char *code, apr_time_t now,
                           int window, afb_status_t want)
{
    int64_t step = -7;

    assert_int_equal(afb_totp_verify(e, code, now, window, &step), want);
    assert_int_equal(step, -7);
}

static void test_window_edges(void **state)
{
    afb_totp_entry_t e = entry_from_b32(*state, SECRET_A, 6, 30, AFB_TOTP_SHA1);

    expect_step(&e, A_T, NOW, 1, T30);
    expect_step(&e, A_TM1, NOW, 1, T30 - 1);
    expect_step(&e, A_TP1, NOW, 1, T30 + 1);
    expect_refused(&e, A_TM2, NOW, 1, AFB_EMISMATCH);
    expect_refused(&e, A_TP2, NOW, 1, AFB_EMISMATCH);

    expect_step(&e, A_T, NOW, 0, T30);
    expect_refused(&e, A_TM1, NOW, 0, AFB_EMISMATCH);
    expect_refused(&e, A_TP1, NOW, 0, AFB_EMISMATCH);

    expect_step(&e, A_TM2, NOW, 2, T30 - 2);
    expect_step(&e, A_TP2, NOW, 2, T30 + 2);
    expect_refused(&e, A_TM3, NOW, 2, AFB_EMISMATCH);
    expect_refused(&e, A_TP3, NOW, 2, AFB_EMISMATCH);
    expect_step(&e, A_TP3, NOW, 3, T30 + 3);  /* a code with a leading zero */
    expect_step(&e, A_TM3, NOW, 3, T30 - 3);
}

static void test_step_boundaries(void **state)
{
    afb_totp_entry_t e = entry_from_b32(*state, SECRET_A, 6, 30, AFB_TOTP_SHA1);
    apr_time_t last_us_of_t = (apr_time_t)((T30 + 1) * 30) * APR_USEC_PER_SEC - 1;
    apr_time_t first_us_of_t1 = (apr_time_t)((T30 + 1) * 30) * APR_USEC_PER_SEC;
    apr_time_t first_us_of_t = (apr_time_t)(T30 * 30) * APR_USEC_PER_SEC;

    expect_step(&e, A_T, last_us_of_t, 0, T30);
    expect_refused(&e, A_TP1, last_us_of_t, 0, AFB_EMISMATCH);
    expect_step(&e, A_TP1, first_us_of_t1, 0, T30 + 1);
    expect_refused(&e, A_T, first_us_of_t1, 0, AFB_EMISMATCH);
    expect_step(&e, A_T, first_us_of_t, 0, T30);
    expect_refused(&e, A_T, first_us_of_t - 1, 0, AFB_EMISMATCH);
}

static void test_digits_periods_algorithms(void **state)
{
    apr_pool_t *p = *state;
    afb_totp_entry_t a8 = entry_from_b32(p, SECRET_A, 8, 30, AFB_TOTP_SHA1);
    afb_totp_entry_t a256 = entry_from_b32(p, SECRET_A, 6, 60, AFB_TOTP_SHA256);
    afb_totp_entry_t b256 = entry_from_b32(p, SECRET_B, 7, 60, AFB_TOTP_SHA256);
    afb_totp_entry_t b512 = entry_from_b32(p, SECRET_B, 8, 45, AFB_TOTP_SHA512);
    afb_totp_entry_t c = entry_from_b32(p, SECRET_C, 6, 30, AFB_TOTP_SHA1);

    expect_step(&a8, A_T_8DIGITS, NOW, 0, T30);
    expect_step(&a256, A_T_SHA256_60S, NOW, 0, NOW_S / 60);
    expect_step(&b256, B_SHA256_60S_7DIGITS, NOW, 0, NOW_S / 60);
    expect_step(&b512, B_SHA512_45S_8DIGITS, NOW, 0, NOW_S / 45);
    expect_step(&c, C_T, NOW, 1, T30);
    /* The same secret under another algorithm is another code. */
    a256.alg = AFB_TOTP_SHA1;
    expect_refused(&a256, A_T_SHA256_60S, NOW, 1, AFB_EMISMATCH);
}

static void test_code_syntax(void **state)
{
    afb_totp_entry_t e = entry_from_b32(*state, SECRET_A, 6, 30, AFB_TOTP_SHA1);
    afb_totp_entry_t e7 = entry_from_b32(*state, SECRET_A, 7, 30, AFB_TOTP_SHA1);
    static const char *bad[] = {"", "61324", "6132470", "61324a", " 613247", "613247 ",
                                "61 247", "+13247", "-13247", "６１３２４７", "613\x00" "47",
                                "0x1234", A_T_8DIGITS};

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_refused(&e, bad[i], NOW, 1, AFB_EINVAL);
    expect_refused(&e, NULL, NOW, 1, AFB_EINVAL);
    expect_refused(&e7, A_T, NOW, 1, AFB_EINVAL);       /* 6 digits for a 7-digit entry */
    expect_refused(&e7, A_T_8DIGITS, NOW, 1, AFB_EINVAL);
    /* Nonsense parameters are refused, not guessed. */
    expect_refused(&e, A_T, NOW, -1, AFB_EINVAL);
    expect_refused(&e, A_T, NOW, 1000, AFB_EINVAL);
    e.period = 0;
    expect_refused(&e, A_T, NOW, 1, AFB_EINVAL);
    e.period = 301;
    expect_refused(&e, A_T, NOW, 1, AFB_EINVAL);
}

/* ---- base32 -------------------------------------------------------------------------- */

static void expect_b32(apr_pool_t *p, const char *in, const char *want)
{
    unsigned char *out = NULL;
    size_t len = 99;

    assert_int_equal(afb_base32_decode(p, in, &out, &len), AFB_OK);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(out, want, len);
}

static void test_base32_good(void **state)
{
    apr_pool_t *p = *state;

    expect_b32(p, "", "");
    expect_b32(p, "MY======", "f");
    expect_b32(p, "MZXQ====", "fo");
    expect_b32(p, "MZXW6===", "foo");
    expect_b32(p, "MZXW6YQ=", "foob");
    expect_b32(p, "MZXW6YTB", "fooba");
    expect_b32(p, "MZXW6YTBOI======", "foobar");
    expect_b32(p, "MZXW6YTBOI", "foobar");
    expect_b32(p, "mzxw6ytboi", "foobar");
    expect_b32(p, "mzxw 6ytb oi", "foobar");
    expect_b32(p, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", SEED_SHA1);
}

static void test_base32_bad(void **state)
{
    apr_pool_t *p = *state;
    static const char *bad[] = {"M", "MZX", "MZXW6Y", "MZXW6YTBO", "MY=", "MY=======",
                                "MY======MY", "MZ=XW6YTB", "MZXW1YTB", "MZXW8YTB",
                                "MZXW-YTB", "MZXW\tYTB", "MZXW\nYTB", "MZXW6YT\xc3\xa9"};

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        unsigned char *out = NULL;
        size_t len = 0;
        print_message("%s\n", bad[i]);
        assert_int_equal(afb_base32_decode(p, bad[i], &out, &len), AFB_EINVAL);
    }
}

/* ---- the store ----------------------------------------------------------------------- */

static const char good_store[] =
    "# user:secret[:digits:period:alg]\n"
    "\n"
    "alice:" SECRET_A "\n"
    "bob:" SECRET_B ":7:60:sha256\r\n"
    "carol:" SECRET_B ":8:45:sha512\n"
    "dave:cgfo je26 m5jz hlsz\n"
    "erin:" SECRET_A ":8\n"
    "frank:" SECRET_A "::60:SHA256\n"
    "grace:" SECRET_A ":6:30:sha1";

static const afb_totp_entry_t *find(const afb_totp_store_t *s, const char *user)
{
    const afb_totp_entry_t *e = afb_totp_store_find(s, user);

    assert_non_null(e);
    assert_string_equal(e->user, user);
    return e;
}

static void test_store_good(void **state)
{
    apr_pool_t *p = *state;
    afb_totp_store_t *s = NULL;
    const char *err = NULL;
    const afb_totp_entry_t *e;

    assert_int_equal(afb_totp_store_parse(p, good_store, strlen(good_store), &s, &err),
                     AFB_OK);
    assert_int_equal(afb_totp_store_count(s), 7);
    e = find(s, "alice");
    assert_int_equal(e->digits, 6);
    assert_int_equal(e->period, 30);
    assert_int_equal(e->alg, AFB_TOTP_SHA1);
    assert_int_equal(e->secret_len, 20);
    expect_step(e, A_TM1, NOW, 1, T30 - 1);
    e = find(s, "bob");
    assert_int_equal(e->secret_len, 32);
    expect_step(e, B_SHA256_60S_7DIGITS, NOW, 0, NOW_S / 60);
    expect_step(find(s, "carol"), B_SHA512_45S_8DIGITS, NOW, 0, NOW_S / 45);
    expect_step(find(s, "dave"), C_T, NOW, 0, T30);
    expect_step(find(s, "erin"), A_T_8DIGITS, NOW, 0, T30);
    expect_step(find(s, "frank"), A_T_SHA256_60S, NOW, 0, NOW_S / 60);
    expect_step(find(s, "grace"), A_T, NOW, 0, T30);
    assert_null(afb_totp_store_find(s, "mallory"));
    assert_null(afb_totp_store_find(s, "Alice"));
    assert_null(afb_totp_store_find(s, NULL));
}

static void test_store_empty(void **state)
{
    afb_totp_store_t *s = NULL;
    const char *err = NULL;

    assert_int_equal(afb_totp_store_parse(*state, "", 0, &s, &err), AFB_OK);
    assert_int_equal(afb_totp_store_count(s), 0);
    assert_null(afb_totp_store_find(s, "alice"));
}

/* The line is left out with its number and a reason, never the secret; the other users still
 * load. A store with no usable line left fails as a whole. */
static void expect_store_refused(apr_pool_t *p, const char *text, size_t len, int line,
                                 const char *secret)
{
    afb_totp_store_t *s = (afb_totp_store_t *)p;  /* must be reset to NULL on failure */
    const char *err = NULL, *note;
    const char *prefix = apr_psprintf(p, "line %d: ", line);
    afb_status_t st = afb_totp_store_parse(p, text, len, &s, &err);

    if (st == AFB_EINVAL) {
        assert_null(s);
        assert_non_null(err);
        print_message("%s\n", err);
        assert_non_null(strstr(err, "no usable record"));
        assert_non_null(strstr(err, prefix));
        if (secret)
            assert_null(strstr(err, secret));
        return;
    }
    assert_int_equal(st, AFB_OK);
    assert_int_equal(afb_totp_store_skips(s)->count, 1);
    assert_non_null(afb_totp_store_find(s, "alice"));
    note = APR_ARRAY_IDX(afb_totp_store_skips(s)->notes, 0, const char *);
    print_message("%s\n", note);
    assert_memory_equal(note, prefix, strlen(prefix));
    assert_true(strlen(note) > strlen(prefix));
    if (secret)
        assert_null(strstr(note, secret));
}

static void refused_third_line(apr_pool_t *p, const char *line, const char *secret)
{
    const char *text = apr_pstrcat(p, "# secrets\nalice:" SECRET_A "\n", line, "\n", NULL);

    expect_store_refused(p, text, strlen(text), 3, secret);
}

static void test_store_malformed(void **state)
{
    apr_pool_t *p = *state;
    static const char with_nul[] = "alice:" SECRET_A "\nbob:\0" SECRET_B "\n";

    refused_third_line(p, "bob" SECRET_B, "GYH42NCK");
    refused_third_line(p, "bob", NULL);
    refused_third_line(p, ":" SECRET_B, "GYH42NCK");
    refused_third_line(p, "bob:", NULL);
    refused_third_line(p, "bob:GYH42NCKMRICBRD1", "GYH42NCK");        /* '1' */
    refused_third_line(p, "bob:GYH42NCK-RICBRD7", "GYH42NCK");        /* '-' */
    refused_third_line(p, "bob:GYH42NCKMRICBRD7B", "GYH42NCK");       /* 17 chars */
    refused_third_line(p, "bob:MZXW6YTBOI", "MZXW6YTB");              /* 6 bytes */
    refused_third_line(p, "bob:GEZDGNBVGY3TQOI=", "GEZDGNBV");        /* 9 bytes */
    refused_third_line(p, "bob:" SECRET_B ":5", "GYH42NCK");
    refused_third_line(p, "bob:" SECRET_B ":9", "GYH42NCK");
    refused_third_line(p, "bob:" SECRET_B ":six", "GYH42NCK");
    refused_third_line(p, "bob:" SECRET_B ":6:0", "GYH42NCK");
    refused_third_line(p, "bob:" SECRET_B ":6:301", "GYH42NCK");
    refused_third_line(p, "bob:" SECRET_B ":6:-30", "GYH42NCK");
    refused_third_line(p, "bob:" SECRET_B ":6:30s", "GYH42NCK");
    refused_third_line(p, "bob:" SECRET_B ":6:30:md5", "GYH42NCK");
    refused_third_line(p, "bob:" SECRET_B ":6:30:sha1:extra", "GYH42NCK");
    refused_third_line(p, "alice:" SECRET_B, "GYH42NCK");             /* duplicate */
    refused_third_line(p, apr_pstrcat(p, apr_psprintf(p, "%0256d", 0), ":" SECRET_B, NULL),
                       "GYH42NCK");
    refused_third_line(p, apr_pstrcat(p, "bob:", SECRET_B, apr_psprintf(p, "%4100s", ""),
                                      NULL), "GYH42NCK");            /* over-long line */
    expect_store_refused(p, with_nul, sizeof(with_nul) - 1, 2, "GYH42NCK");
    expect_store_refused(p, "nocolon", 7, 1, NULL);
}

/* A short secret leaves that user out, not everyone; bob is not enrolled, alice still is. */
static void test_store_skips_bad_records(void **state)
{
    apr_pool_t *p = *state;
    afb_totp_store_t *s = NULL;
    const char *err = NULL;
    const char *text = "alice:" SECRET_A "\nbob:MZXW6YTBOI\ncarol:" SECRET_B ":9\n";

    assert_int_equal(afb_totp_store_parse(p, text, strlen(text), &s, &err), AFB_OK);
    assert_int_equal(afb_totp_store_count(s), 1);
    assert_non_null(afb_totp_store_find(s, "alice"));
    assert_null(afb_totp_store_find(s, "bob"));
    assert_null(afb_totp_store_find(s, "carol"));
    assert_int_equal(afb_totp_store_skips(s)->count, 2);
    assert_string_equal(APR_ARRAY_IDX(afb_totp_store_skips(s)->notes, 0, const char *),
                        "line 2: secret shorter than 80 bits");
    assert_string_equal(APR_ARRAY_IDX(afb_totp_store_skips(s)->notes, 1, const char *),
                        "line 3: digits must be 6, 7 or 8");
    text = "bob:MZXW6YTBOI\n";
    assert_int_equal(afb_totp_store_parse(p, text, strlen(text), &s, &err), AFB_EINVAL);
    assert_null(s);
    assert_string_equal(err, "no usable record (1 skipped; first: line 1: secret shorter "
                             "than 80 bits)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc6238_vectors),
        cmocka_unit_test(test_rfc4226_hotp),
        cmocka_unit_test_setup_teardown(test_window_edges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_step_boundaries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_digits_periods_algorithms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_code_syntax, setup, teardown),
        cmocka_unit_test_setup_teardown(test_base32_good, setup, teardown),
        cmocka_unit_test_setup_teardown(test_base32_bad, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_good, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_skips_bad_records, setup, teardown),
    };
    int rc;

    apr_initialize();
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_terminate();
    return rc;
}
