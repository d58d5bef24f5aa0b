/* Unit tests of the session cookie: round trip, size, expiry edge, tampering, malformed records. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "authfb/session.h"
#include "authfb/util.h"

/* A fixed clock: 2024-01-01T00:00:00Z. */
#define NOW apr_time_from_sec(1704067200)
#define HOURS(n) apr_time_from_sec((apr_int64_t)(n) * 3600)

static apr_pool_t *pool;
static afb_keyring_t *kr;

static const unsigned char key_a[32] = "0123456789abcdef0123456789abcdef";
static const unsigned char key_b[32] = "fedcba9876543210fedcba9876543210";

static int setup(void **state)
{
    (void)state;
    if (apr_pool_create(&pool, NULL) != APR_SUCCESS) {
        return -1;
    }
    kr = afb_keyring_create(pool);
    return afb_keyring_add(kr, key_a, sizeof(key_a)) == AFB_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    apr_pool_destroy(pool);
    return 0;
}

static afb_session_t realistic(void)
{
    afb_session_t s;

    memset(&s, 0, sizeof(s));
    s.user = "alice@corp.example.com";
    s.path = "adfs";
    s.mfa = "totp";
    s.issued = NOW;
    s.expires = NOW + HOURS(8);
    return s;
}

static const char *seal(const afb_session_t *s)
{
    const char *cookie = NULL;

    assert_int_equal(afb_session_seal(kr, pool, s, &cookie), AFB_OK);
    assert_non_null(cookie);
    return cookie;
}

static afb_status_t open_at(const char *cookie, apr_time_t now)
{
    afb_session_t out;

    return afb_session_open(kr, pool, cookie, now, &out);
}

static void test_roundtrip(void **state)
{
    afb_session_t s = realistic(), out;
    const char *cookie;

    (void)state;
    s.degraded = 1;
    cookie = seal(&s);
    memset(&out, 0, sizeof(out));
    assert_int_equal(afb_session_open(kr, pool, cookie, NOW, &out), AFB_OK);
    assert_string_equal(out.user, "alice@corp.example.com");
    assert_string_equal(out.path, "adfs");
    assert_string_equal(out.mfa, "totp");
    assert_true(out.issued == NOW);
    assert_true(out.expires == NOW + HOURS(8));
    assert_int_equal(out.degraded, 1);
    assert_int_equal(out.extended, 0);
    /* The user name does not show through the cookie. */
    assert_null(strstr(cookie, "alice"));
}

static void test_flags(void **state)
{
    int degraded, extended;

    (void)state;
    for (degraded = 0; degraded <= 1; degraded++) {
        for (extended = 0; extended <= 1; extended++) {
            afb_session_t s = realistic(), out;
            s.degraded = degraded ? 7 : 0; /* any true value */
            s.extended = extended;
            assert_int_equal(afb_session_open(kr, pool, seal(&s), NOW, &out), AFB_OK);
            assert_int_equal(out.degraded, degraded);
            assert_int_equal(out.extended, extended);
        }
    }
}

static void test_second_precision(void **state)
{
    afb_session_t s = realistic(), out;

    (void)state;
    s.issued = NOW + 999999;
    s.expires = NOW + HOURS(1) + 500000;
    assert_int_equal(afb_session_open(kr, pool, seal(&s), NOW, &out), AFB_OK);
    assert_true(out.issued == NOW);
    assert_true(out.expires == NOW + HOURS(1));
}

static void test_size(void **state)
{
    afb_session_t s = realistic();
    const char *cookie = seal(&s);

    (void)state;
    assert_true(strlen(cookie) < 300);
    /* Even with every field at its maximum it fits one cookie comfortably. */
    {
        char *big = apr_palloc(pool, AFB_SESSION_MAX_FIELD + 1);
        memset(big, 'u', AFB_SESSION_MAX_FIELD);
        big[AFB_SESSION_MAX_FIELD] = '\0';
        s.user = s.path = s.mfa = big;
        assert_true(strlen(seal(&s)) < 1200);
    }
}

static void test_expiry_edge(void **state)
{
    afb_session_t s = realistic(), out;
    const char *cookie = seal(&s);

    (void)state;
    assert_int_equal(open_at(cookie, s.expires - apr_time_from_sec(1)), AFB_OK);
    memset(&out, 0, sizeof(out));
    assert_int_equal(afb_session_open(kr, pool, cookie, s.expires, &out), AFB_EEXPIRED);
    /* Authentic but expired: the record is there for the outage grace decision. */
    assert_string_equal(out.user, "alice@corp.example.com");
    assert_string_equal(out.path, "adfs");
    assert_true(out.expires == s.expires);
    assert_int_equal(open_at(cookie, s.expires + HOURS(1000)), AFB_EEXPIRED);
}

static void test_seal_rejects_bad_fields(void **state)
{
    char *longest = apr_palloc(pool, 300);
    afb_session_t s;
    const char *cookie;

    (void)state;
    memset(longest, 'x', 256);
    longest[256] = '\0';
    s = realistic();
    s.user = longest;
    assert_int_equal(afb_session_seal(kr, pool, &s, &cookie), AFB_EINVAL);
    longest[255] = '\0';
    assert_int_equal(afb_session_seal(kr, pool, &s, &cookie), AFB_OK);
    s = realistic();
    s.user = "";
    assert_int_equal(afb_session_seal(kr, pool, &s, &cookie), AFB_EINVAL);
    s = realistic();
    s.user = NULL;
    assert_int_equal(afb_session_seal(kr, pool, &s, &cookie), AFB_EINVAL);
    s = realistic();
    s.path = NULL;
    assert_int_equal(afb_session_seal(kr, pool, &s, &cookie), AFB_EINVAL);
    s = realistic();
    longest[255] = 'x'; /* 256 bytes again */
    s.mfa = longest;
    assert_int_equal(afb_session_seal(kr, pool, &s, &cookie), AFB_EINVAL);
}

static void test_claims(void **state)
{
    afb_session_t s = realistic(), out;
    char big[300];
    const char *cookie;

    (void)state;
    s.n_claims = 2;
    s.claim_name[0] = "email";
    s.claim_value[0] = "alice@corp.example.com";
    s.claim_name[1] = "groups";
    s.claim_value[1] = "payroll-readers,staff";
    cookie = seal(&s);
    assert_true(strlen(cookie) < 300);
    assert_int_equal(afb_session_open(kr, pool, cookie, NOW, &out), AFB_OK);
    assert_int_equal(out.n_claims, 2);
    assert_string_equal(out.claim_name[1], "groups");
    assert_string_equal(out.claim_value[1], "payroll-readers,staff");
    /* Names are plain identifiers; values carry no control characters (header splitting). */
    s.claim_name[1] = "x-y";
    assert_int_equal(afb_session_seal(kr, pool, &s, &cookie), AFB_EINVAL);
    s.claim_name[1] = "groups";
    s.claim_value[1] = "a\r\nSet-Cookie: x=1";
    assert_int_equal(afb_session_seal(kr, pool, &s, &cookie), AFB_EINVAL);
    /* A cap keeps the cookie small. */
    memset(big, 'v', 255);
    big[255] = '\0';
    s.claim_value[0] = big;
    s.claim_value[1] = big;
    s.claim_name[2] = "more";
    s.claim_value[2] = big;
    s.n_claims = 3;
    assert_int_equal(afb_session_seal(kr, pool, &s, &cookie), AFB_EINVAL);
    s.n_claims = AFB_SESSION_MAX_CLAIMS + 1;
    assert_int_equal(afb_session_seal(kr, pool, &s, &cookie), AFB_EINVAL);
}

static void test_tamper_every_byte(void **state)
{
    afb_session_t s = realistic();
    const char *cookie = seal(&s);
    unsigned char *dec;
    size_t len, i;

    (void)state;
    assert_int_equal(afb_b64url_decode(pool, cookie, strlen(cookie), &dec, &len), AFB_OK);
    for (i = 0; i < len; i++) {
        unsigned char *copy = apr_pmemdup(pool, dec, len);
        copy[i] ^= (unsigned char)(1u << (i % 8));
        if (open_at(afb_b64url_encode(pool, copy, len), NOW) != AFB_EINVAL) {
            fail_msg("tampered byte %zu accepted", i);
        }
    }
    for (i = 0; i < strlen(cookie); i++) {
        if (open_at(apr_pstrndup(pool, cookie, i), NOW) != AFB_EINVAL) {
            fail_msg("cookie truncated to %zu chars accepted", i);
        }
    }
    assert_int_equal(open_at(cookie, NOW), AFB_OK);
}

static void test_garbage_and_other_purposes(void **state)
{
    static const char *const bad[] = { "", "x", "deleted", "AAAA", "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" };
    const char *flow_tok = NULL;
    afb_session_t s = realistic();
    unsigned char *pt;
    size_t len, i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(open_at(bad[i], NOW), AFB_EINVAL);
    }
    assert_int_equal(open_at(NULL, NOW), AFB_EINVAL);
    /* The same bytes sealed for another purpose are not a session. */
    assert_int_equal(afb_unseal(kr, pool, "session", seal(&s), &pt, &len), AFB_OK);
    assert_int_equal(afb_seal(kr, pool, "flow", pt, len, &flow_tok), AFB_OK);
    assert_int_equal(open_at(flow_tok, NOW), AFB_EINVAL);
}

static void test_rotation(void **state)
{
    afb_keyring_t *rotated = afb_keyring_create(pool);
    afb_keyring_t *new_only = afb_keyring_create(pool);
    afb_session_t s = realistic(), out;
    const char *old_cookie = seal(&s);

    (void)state;
    assert_int_equal(afb_keyring_add(rotated, key_b, sizeof(key_b)), AFB_OK);
    assert_int_equal(afb_keyring_add(rotated, key_a, sizeof(key_a)), AFB_OK);
    assert_int_equal(afb_keyring_add(new_only, key_b, sizeof(key_b)), AFB_OK);
    assert_int_equal(afb_session_open(rotated, pool, old_cookie, NOW, &out), AFB_OK);
    assert_string_equal(out.user, "alice@corp.example.com");
    assert_int_equal(afb_session_open(new_only, pool, old_cookie, NOW, &out), AFB_EINVAL);
}

/* ---- authentic but malformed records (sealed with our key, purpose "session") ---- */

/* The record of realistic() with degraded=0, extended=0, written out by hand. */
static size_t record(unsigned char *b)
{
    static const unsigned char head[18] = {
        1, 0, 0, 0, 0, 0, 0x65, 0x92, 0x00, 0x80,  /* version, flags, issued 1704067200 */
        0, 0, 0, 0, 0x65, 0x92, 0x71, 0x00,        /* expires 1704096000 (+8 h) */
    };
    size_t o = sizeof(head);

    memcpy(b, head, o);
    b[o++] = 22;
    memcpy(b + o, "alice@corp.example.com", 22);
    o += 22;
    b[o++] = 4;
    memcpy(b + o, "adfs", 4);
    o += 4;
    b[o++] = 4;
    memcpy(b + o, "totp", 4);
    return o + 4;
}

static afb_status_t open_record(const unsigned char *b, size_t len, afb_session_t *out)
{
    const char *cookie = NULL;

    assert_int_equal(afb_seal(kr, pool, "session", b, len, &cookie), AFB_OK);
    return afb_session_open(kr, pool, cookie, NOW, out);
}

static void test_handwritten_record_opens(void **state)
{
    unsigned char b[128];
    size_t len = record(b);
    afb_session_t out;

    (void)state;
    assert_int_equal(open_record(b, len, &out), AFB_OK);
    assert_string_equal(out.user, "alice@corp.example.com");
    assert_true(out.expires == NOW + HOURS(8));
}

static void test_malformed_records(void **state)
{
    unsigned char b[128];
    afb_session_t out;
    size_t len, i;

    (void)state;
    len = record(b);
    for (i = 0; i < len; i++) { /* every truncation */
        if (open_record(b, i, &out) != AFB_EINVAL) {
            fail_msg("record cut to %zu bytes accepted", i);
        }
    }
    b[len] = 0; /* trailing byte */
    assert_int_equal(open_record(b, len + 1, &out), AFB_EINVAL);
    len = record(b);
    b[0] = 2; /* unknown version */
    assert_int_equal(open_record(b, len, &out), AFB_EINVAL);
    len = record(b);
    b[1] = 0x04; /* unknown flag */
    assert_int_equal(open_record(b, len, &out), AFB_EINVAL);
    len = record(b);
    b[len - 5] = 5; /* mfa length overruns the record */
    assert_int_equal(open_record(b, len, &out), AFB_EINVAL);
    len = record(b);
    b[len - 5] = 255;
    assert_int_equal(open_record(b, len, &out), AFB_EINVAL);
    len = record(b);
    b[len - 5] = 3; /* mfa shorter: one trailing byte left */
    assert_int_equal(open_record(b, len, &out), AFB_EINVAL);
    len = record(b);
    b[len - 2] = '\0'; /* NUL inside mfa */
    assert_int_equal(open_record(b, len, &out), AFB_EINVAL);
    len = record(b);
    b[len - 5] = 0; /* empty mfa, then 4 stray bytes */
    assert_int_equal(open_record(b, len - 4, &out), AFB_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_second_precision),
        cmocka_unit_test(test_size),
        cmocka_unit_test(test_expiry_edge),
        cmocka_unit_test(test_seal_rejects_bad_fields),
        cmocka_unit_test(test_tamper_every_byte),
        cmocka_unit_test(test_garbage_and_other_purposes),
        cmocka_unit_test(test_rotation),
        cmocka_unit_test(test_claims),
        cmocka_unit_test(test_handwritten_record_opens),
        cmocka_unit_test(test_malformed_records),
    };
    int rc;

    apr_initialize();
    rc = cmocka_run_group_tests(tests, setup, teardown);
    apr_terminate();
    return rc;
}
