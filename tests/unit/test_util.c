/* Unit tests of the small helpers: base64url, constant-time compare, return= sanitizer,
 * header folding, form parsing, durations and integers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "authfb/util.h"

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

/* ---- base64url ---- */

static void test_b64url_known_vectors(void **state)
{
    (void)state;
    /* RFC 4648 section 10 vectors, without padding. */
    assert_string_equal(afb_b64url_encode(pool, (const unsigned char *)"", 0), "");
    assert_string_equal(afb_b64url_encode(pool, (const unsigned char *)"f", 1), "Zg");
    assert_string_equal(afb_b64url_encode(pool, (const unsigned char *)"fo", 2), "Zm8");
    assert_string_equal(afb_b64url_encode(pool, (const unsigned char *)"foo", 3), "Zm9v");
    assert_string_equal(afb_b64url_encode(pool, (const unsigned char *)"foob", 4), "Zm9vYg");
    assert_string_equal(afb_b64url_encode(pool, (const unsigned char *)"fooba", 5), "Zm9vYmE");
    assert_string_equal(afb_b64url_encode(pool, (const unsigned char *)"foobar", 6), "Zm9vYmFy");
    /* The URL alphabet: 0xfb 0xff -> "-_8" (standard base64 would be "+/8="). */
    assert_string_equal(afb_b64url_encode(pool, (const unsigned char *)"\xfb\xff", 2), "-_8");
}

static void test_b64url_roundtrip_all_lengths(void **state)
{
    unsigned char in[300];
    size_t n, i;

    (void)state;
    for (i = 0; i < sizeof(in); i++) {
        in[i] = (unsigned char)(i * 37 + 11);
    }
    for (n = 0; n <= sizeof(in); n++) {
        const char *enc = afb_b64url_encode(pool, in, n);
        unsigned char *dec = NULL;
        size_t declen = 0;
        assert_int_equal(strlen(enc), (n * 4 + 2) / 3);
        assert_int_equal(afb_b64url_decode(pool, enc, strlen(enc), &dec, &declen), AFB_OK);
        assert_int_equal(declen, n);
        assert_memory_equal(dec, in, n);
    }
}

static void test_b64url_strict_rejects(void **state)
{
    static const char *const bad[] = {
        "Zg==",      /* padding */
        "Zm8=",      /* padding */
        "Zm9v+A",    /* '+' of standard base64 */
        "Zm9v/A",    /* '/' of standard base64 */
        "Zm9 v",     /* space */
        "Zm9v\nYg",  /* newline */
        "Z",         /* length % 4 == 1 */
        "Zm9vY",     /* length % 4 == 1 */
        "Zh",        /* non-zero trailing bits ("Zg" is canonical) */
        "Zm9",       /* non-zero trailing bits ("Zm8" is canonical) */
        "Zm9v.g",    /* '.' */
        "Zm9v\xc3\xa9", /* non-ASCII */
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        unsigned char *dec = NULL;
        size_t declen = 0;
        if (afb_b64url_decode(pool, bad[i], strlen(bad[i]), &dec, &declen) != AFB_EINVAL) {
            fail_msg("accepted \"%s\"", bad[i]);
        }
    }
}

static void test_b64url_decode_stops_at_inlen(void **state)
{
    unsigned char *dec = NULL;
    size_t declen = 0;

    (void)state;
    /* Only the first 4 characters count; the rest is someone else's buffer. */
    assert_int_equal(afb_b64url_decode(pool, "Zm9v!!!!", 4, &dec, &declen), AFB_OK);
    assert_int_equal(declen, 3);
    assert_memory_equal(dec, "foo", 3);
    /* An embedded NUL is outside the alphabet. */
    assert_int_equal(afb_b64url_decode(pool, "Zm\0v", 4, &dec, &declen), AFB_EINVAL);
}

/* ---- constant-time compare ---- */

static void test_ct_equal(void **state)
{
    (void)state;
    assert_int_equal(afb_ct_equal("abcdef", "abcdef", 6), 1);
    assert_int_equal(afb_ct_equal("abcdef", "abcdeg", 6), 0);
    assert_int_equal(afb_ct_equal("xbcdef", "abcdef", 6), 0);
    assert_int_equal(afb_ct_equal("abcdef", "abcXYZ", 3), 1);
    assert_int_equal(afb_ct_equal("a", "b", 0), 1);
    assert_int_equal(afb_ct_equal("\x00\x80", "\x00\x00", 2), 0);
}

static void test_ct_streq(void **state)
{
    (void)state;
    assert_int_equal(afb_ct_streq("secret", "secret"), 1);
    assert_int_equal(afb_ct_streq("", ""), 1);
    assert_int_equal(afb_ct_streq("secret", "secreT"), 0);
    assert_int_equal(afb_ct_streq("secret", "secret2"), 0);
    assert_int_equal(afb_ct_streq("secret2", "secret"), 0);
    assert_int_equal(afb_ct_streq("secret", ""), 0);
    assert_int_equal(afb_ct_streq("", "secret"), 0);
    assert_int_equal(afb_ct_streq(NULL, "secret"), 0);
    assert_int_equal(afb_ct_streq("secret", NULL), 0);
    assert_int_equal(afb_ct_streq(NULL, NULL), 0);
}

/* ---- random ---- */

static void test_random_token(void **state)
{
    const char *a = afb_random_token(pool, 32);
    const char *b = afb_random_token(pool, 32);
    unsigned char *dec;
    size_t declen;

    (void)state;
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(strlen(a), 43);
    assert_string_not_equal(a, b);
    assert_int_equal(afb_b64url_decode(pool, a, strlen(a), &dec, &declen), AFB_OK);
    assert_int_equal(declen, 32);
    assert_null(afb_random_token(pool, 0));
}

/* ---- return= sanitizer ---- */

static void test_return_sanitize_rejects_open_redirects(void **state)
{
    static const char *const bad[] = {
        "https://evil.example/",
        "http://evil.example",
        "//evil.example",
        "///evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "\\/evil.example",
        "/\\/evil.example",
        "/%2F%2Fevil.example",
        "/%2f/evil.example",
        "/%5cevil.example",
        "/%5Cevil.example",
        "/x/%5c/evil",
        "/%09/evil.example",
        "/\t/evil.example",
        "%2F%2Fevil",
        "%2f",
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        " /x",
        "/x\r\nSet-Cookie: a=b",
        "/x%0d%0aSet-Cookie:%20a=b",
        "/x%00",
        "/x\x7f",
        "/x%7f",
        "/caf\xc3\xa9",
        "",
        "x",
        "evil.example/x",
        "/x%",
        "/x%2",
        "/x%zz",
        "/%252F%252Fevil.example", /* decodes twice into //evil.example */
        "/%25%32%46%25%32%46evil",  /* same, spelled differently */
        "/x y",
        "/x\\y",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *got = afb_return_sanitize(pool, bad[i]);
        assert_non_null(got);
        if (strcmp(got, "/") != 0) {
            fail_msg("\"%s\" became \"%s\"", bad[i], got);
        }
    }
    assert_string_equal(afb_return_sanitize(pool, NULL), "/");
}

static void test_return_sanitize_length_cap(void **state)
{
    char *longpath = apr_palloc(pool, 4096);

    (void)state;
    longpath[0] = '/';
    memset(longpath + 1, 'a', 2047);
    longpath[2048] = '\0';
    assert_string_equal(afb_return_sanitize(pool, longpath), longpath); /* 2048: kept */
    memset(longpath + 1, 'a', 4000);
    longpath[4001] = '\0';
    assert_string_equal(afb_return_sanitize(pool, longpath), "/");
    longpath[2049] = '\0';
    assert_string_equal(afb_return_sanitize(pool, longpath), "/");     /* 2049: cut */
}

static void test_return_sanitize_keeps_good_paths(void **state)
{
    static const char *const good[] = {
        "/",
        "/payroll/",
        "/payroll/report.pdf",
        "/a?b=c&d=%2F",
        "/x#frag",
        "/a/b/../c",
        "/search?q=a%20b+c",
        "/caf%C3%A9",
        "/x?next=https://elsewhere", /* the query is the application's business */
        "/%7Euser/",
        "/a:b",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        const char *got = afb_return_sanitize(pool, good[i]);
        if (strcmp(got, good[i]) != 0) {
            fail_msg("\"%s\" became \"%s\"", good[i], got);
        }
    }
}

/* ---- header names ---- */

static void test_header_name_eq(void **state)
{
    (void)state;
    assert_int_equal(afb_header_name_eq("X-Remote-User", "x_remote_user"), 1);
    assert_int_equal(afb_header_name_eq("X-REMOTE-USER", "x-remote-user"), 1);
    assert_int_equal(afb_header_name_eq("X-Remote-User", "X-Remote-Users"), 0);
    assert_int_equal(afb_header_name_eq("X-Remote-User", "X-Remote.User"), 0);
    assert_int_equal(afb_header_name_eq("", ""), 1);
    assert_int_equal(afb_header_name_eq(NULL, "a"), 0);
}

static void test_header_is_reserved(void **state)
{
    (void)state;
    assert_int_equal(afb_header_is_reserved("x_auth_fallback_user", NULL), 1);
    assert_int_equal(afb_header_is_reserved("X-Auth-Fallback-User", NULL), 1);
    assert_int_equal(afb_header_is_reserved("X-AUTH-FALLBACK-MFA", NULL), 1);
    assert_int_equal(afb_header_is_reserved("x-Auth_Fallback-Anything", NULL), 1);
    assert_int_equal(afb_header_is_reserved("X-Auth-Fallback", NULL), 0);
    assert_int_equal(afb_header_is_reserved("X-Auth-Fallbacks-User", NULL), 0);
    assert_int_equal(afb_header_is_reserved("Accept", NULL), 0);
    assert_int_equal(afb_header_is_reserved("X-Remote-User", "X-Remote-User"), 1);
    assert_int_equal(afb_header_is_reserved("x_remote_user", "X-Remote-User"), 1);
    assert_int_equal(afb_header_is_reserved("X-Remote-User", NULL), 0);
    assert_int_equal(afb_header_is_reserved("X-Remote-User", "X-Other"), 0);
    assert_int_equal(afb_header_is_reserved(NULL, "X-Other"), 0);
}

/* ---- forms ---- */

static void test_form_parse_good(void **state)
{
    static const char body[] = "user=alice%40corp.example&password=a+b%2Bc%26d%3D&csrf=xyz&empty=&flag";
    apr_table_t *t = NULL;

    (void)state;
    assert_int_equal(afb_form_parse(pool, body, strlen(body), 10, &t), AFB_OK);
    assert_string_equal(apr_table_get(t, "user"), "alice@corp.example");
    assert_string_equal(apr_table_get(t, "password"), "a b+c&d=");
    assert_string_equal(apr_table_get(t, "csrf"), "xyz");
    assert_string_equal(apr_table_get(t, "empty"), "");
    assert_string_equal(apr_table_get(t, "flag"), "");
    assert_int_equal(apr_table_elts(t)->nelts, 5);
}

static void test_form_parse_empty_and_len(void **state)
{
    apr_table_t *t = NULL;

    (void)state;
    assert_int_equal(afb_form_parse(pool, "", 0, 10, &t), AFB_OK);
    assert_non_null(t);
    assert_int_equal(apr_table_elts(t)->nelts, 0);
    /* Only len bytes count: "a=1&b=2" cut after "a=1". */
    assert_int_equal(afb_form_parse(pool, "a=1&b=2", 3, 10, &t), AFB_OK);
    assert_string_equal(apr_table_get(t, "a"), "1");
    assert_null(apr_table_get(t, "b"));
    /* An escape cut by len is malformed. */
    assert_int_equal(afb_form_parse(pool, "a=%41", 4, 10, &t), AFB_EINVAL);
}

static void test_form_parse_malformed(void **state)
{
    static const char *const bad[] = {
        "a=%",
        "a=%4",
        "a=%zz",
        "a=%4g",
        "a=%00",
        "a%00=1",
        "=value",
        "a=1&a=2",
        "a=1&A=2",
        "a=1&%61=2",
        "a=1&b=2&c=3&d=4", /* over max_fields = 3 */
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        apr_table_t *t = NULL;
        if (afb_form_parse(pool, bad[i], strlen(bad[i]), 3, &t) != AFB_EINVAL) {
            fail_msg("accepted \"%s\"", bad[i]);
        }
    }
    {
        apr_table_t *t = NULL;
        static const char nul[] = "a=1\0b=2";
        assert_int_equal(afb_form_parse(pool, nul, sizeof(nul) - 1, 3, &t), AFB_EINVAL);
        assert_int_equal(afb_form_parse(pool, "a=1&b=2&c=3", 11, 3, &t), AFB_OK);
    }
}

/* ---- HTML ---- */

static void test_html_escape(void **state)
{
    (void)state;
    assert_string_equal(afb_html_escape(pool, "<script>alert('x')</script> & \"q\""),
                        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;");
    assert_string_equal(afb_html_escape(pool, "plain"), "plain");
    assert_string_equal(afb_html_escape(pool, ""), "");
    assert_string_equal(afb_html_escape(pool, NULL), "");
}

/* The one percent-encoder: the OIDC request, the http-mfa form and return= links share it. */
static void test_pct_encode(void **state)
{
    (void)state;
    assert_string_equal(afb_pct_encode(pool, "a-b.c_d~e", 0), "a-b.c_d~e");
    assert_string_equal(afb_pct_encode(pool, "a b&c=d/\xc3\xa9", 0),
                        "a%20b%26c%3Dd%2F%C3%A9");
    assert_string_equal(afb_pct_encode(pool, "a b", 1), "a+b");
    assert_string_equal(afb_pct_encode_path(pool, "/app/x y?z"), "/app/x%20y%3Fz");
    assert_string_equal(afb_pct_encode(pool, "", 0), "");
}

static const char *collect_line(void *baton, char *line)
{
    apr_array_header_t *seen = baton;
    if (!strcmp(line, "bad"))
        return "refused";
    APR_ARRAY_PUSH(seen, const char *) = apr_pstrdup(pool, line);
    return NULL;
}

/* The one line loop of the stores: comments and blank lines skipped, refusals by number. */
static void test_lines_each(void **state)
{
    apr_array_header_t *seen = apr_array_make(pool, 4, sizeof(const char *));
    char text[] = "# comment\none\r\n  \t\ntwo\nbad\nthree\n";
    char longline[] = "0123456789\n";
    const char *err = NULL;
    (void)state;
    assert_int_equal(afb_lines_each(pool, text, text + strlen(text), 64, collect_line, seen, NULL,
                                    &err), AFB_EINVAL);
    assert_string_equal(err, "line 5: refused");
    assert_int_equal(seen->nelts, 2);
    assert_string_equal(APR_ARRAY_IDX(seen, 0, const char *), "one");
    assert_string_equal(APR_ARRAY_IDX(seen, 1, const char *), "two");
    assert_int_equal(afb_lines_each(pool, longline, longline + strlen(longline), 4,
                                    collect_line, seen, NULL, &err), AFB_EINVAL);
    assert_string_equal(err, "line 1: line too long");
}

/* ---- numbers ---- */

static void test_parse_duration(void **state)
{
    static const char *const bad[] = {
        "", "-1", "+1", "3s", "3 ", " 3", "ms", "3ms ", "3MS", "1.5", "0x10", "3m",
        "9223372036854775807", "9223372036854775807ms", "99999999999999999999",
        "9223372036855", /* seconds that overflow in microseconds */
    };
    apr_interval_time_t t = -1;
    size_t i;

    (void)state;
    assert_int_equal(afb_parse_duration("3", &t), AFB_OK);
    assert_int_equal(t, 3 * APR_USEC_PER_SEC);
    assert_int_equal(afb_parse_duration("1500ms", &t), AFB_OK);
    assert_int_equal(t, 1500000);
    assert_int_equal(afb_parse_duration("0", &t), AFB_OK);
    assert_int_equal(t, 0);
    assert_int_equal(afb_parse_duration("250ms", &t), AFB_OK);
    assert_int_equal(t, 250000);
    assert_int_equal(afb_parse_duration("9223372036854", &t), AFB_OK);
    assert_int_equal(t, INT64_C(9223372036854) * APR_USEC_PER_SEC);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (afb_parse_duration(bad[i], &t) != AFB_EINVAL) {
            fail_msg("accepted \"%s\"", bad[i]);
        }
    }
    assert_int_equal(afb_parse_duration(NULL, &t), AFB_EINVAL);
}

static void test_parse_uint(void **state)
{
    static const char *const bad[] = { "", "-1", "+1", "1a", " 1", "1 ", "101", "0x1" };
    long v = -1;
    size_t i;

    (void)state;
    assert_int_equal(afb_parse_uint("0", 100, &v), AFB_OK);
    assert_int_equal(v, 0);
    assert_int_equal(afb_parse_uint("100", 100, &v), AFB_OK);
    assert_int_equal(v, 100);
    assert_int_equal(afb_parse_uint("007", 100, &v), AFB_OK);
    assert_int_equal(v, 7);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (afb_parse_uint(bad[i], 100, &v) != AFB_EINVAL) {
            fail_msg("accepted \"%s\"", bad[i]);
        }
    }
    assert_int_equal(afb_parse_uint("5", 0, &v), AFB_EINVAL);
    assert_int_equal(afb_parse_uint("0", 0, &v), AFB_OK);
    assert_int_equal(afb_parse_uint("99999999999999999999", 2147483647L, &v), AFB_EINVAL);
}

static void test_delete_limit(void **state)
{
    static const char *const bad[] = { "", "%", "-1", "101%", "1.5%", "5 %", "x", "10%%", "%5" };
    afb_delete_limit_t l;
    size_t i;

    (void)state;
    assert_int_equal(afb_parse_delete_limit(AFB_MAX_DELETE_DEFAULT, &l), AFB_OK);
    assert_int_equal(l.count, 500);
    assert_false(l.percent);
    assert_false(afb_delete_limit_exceeded(&l, 500, 600));
    assert_true(afb_delete_limit_exceeded(&l, 501, 100000));
    assert_int_equal(afb_parse_delete_limit("10%", &l), AFB_OK);
    assert_int_equal(l.count, 10);
    assert_true(l.percent);
    assert_false(afb_delete_limit_exceeded(&l, 10, 100));
    assert_true(afb_delete_limit_exceeded(&l, 11, 100));
    assert_true(afb_delete_limit_exceeded(&l, 1, 0));
    assert_false(afb_delete_limit_exceeded(&l, 0, 0));
    assert_int_equal(afb_parse_delete_limit("0", &l), AFB_OK); /* off */
    assert_false(afb_delete_limit_exceeded(&l, 1000, 1000));
    assert_int_equal(afb_parse_delete_limit("0%", &l), AFB_OK);
    assert_false(afb_delete_limit_exceeded(&l, 1000, 1000));
    assert_int_equal(afb_parse_delete_limit("100%", &l), AFB_OK);
    assert_false(afb_delete_limit_exceeded(&l, 1000, 1000));
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (afb_parse_delete_limit(bad[i], &l) != AFB_EINVAL) {
            fail_msg("accepted \"%s\"", bad[i]);
        }
    }
    assert_int_equal(afb_parse_delete_limit(NULL, &l), AFB_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64url_known_vectors),
        cmocka_unit_test(test_b64url_roundtrip_all_lengths),
        cmocka_unit_test(test_b64url_strict_rejects),
        cmocka_unit_test(test_b64url_decode_stops_at_inlen),
        cmocka_unit_test(test_ct_equal),
        cmocka_unit_test(test_ct_streq),
        cmocka_unit_test(test_random_token),
        cmocka_unit_test(test_return_sanitize_rejects_open_redirects),
        cmocka_unit_test(test_return_sanitize_length_cap),
        cmocka_unit_test(test_return_sanitize_keeps_good_paths),
        cmocka_unit_test(test_header_name_eq),
        cmocka_unit_test(test_header_is_reserved),
        cmocka_unit_test(test_form_parse_good),
        cmocka_unit_test(test_form_parse_empty_and_len),
        cmocka_unit_test(test_form_parse_malformed),
        cmocka_unit_test(test_html_escape),
        cmocka_unit_test(test_pct_encode),
        cmocka_unit_test(test_lines_each),
        cmocka_unit_test(test_parse_duration),
        cmocka_unit_test(test_parse_uint),
        cmocka_unit_test(test_delete_limit),
    };
    int rc;

    apr_initialize();
    rc = cmocka_run_group_tests(tests, setup, teardown);
    apr_terminate();
    return rc;
}
