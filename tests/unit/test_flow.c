/* Unit tests of the flow cookie: round trips, validation, expiry, tampering, forged records. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "authfb/flow.h"
#include "authfb/session.h"
#include "authfb/util.h"

/* A fixed clock: 2024-01-01T00:00:00Z. */
#define NOW_SEC 1704067200
#define NOW apr_time_from_sec(NOW_SEC)

static apr_pool_t *pool;
static afb_keyring_t *kr;

static const unsigned char key_a[32] = "0123456789abcdef0123456789abcdef";

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

static afb_flow_t password_flow(void)
{
    afb_flow_t f;

    memset(&f, 0, sizeof(f));
    f.stage = AFB_FLOW_PASSWORD;
    f.return_to = "/payroll/report?id=7";
    f.csrf = "Zm9vYmFyYmF6cXV4";
    f.location = "/payroll";
    f.path = "phs";
    f.degraded = 1;
    f.n_mfa = 2;
    f.mfa[0] = "mfa";
    f.mfa[1] = "totp";
    f.lifetime = 3600;
    f.expires = NOW + apr_time_from_sec(600);
    return f;
}

static afb_flow_t mfa_flow_with_8(void)
{
    static const char *const names[AFB_FLOW_MAX_MFA] = {
        "radius1", "radius2", "privacyidea", "duo", "nps", "totp-a", "totp-b", "totp-c",
    };
    afb_flow_t f = password_flow();
    int i;

    f.stage = AFB_FLOW_MFA;
    f.user = "alice@corp.example.com";
    f.degraded = 0;
    f.mfa_allow_none = 1;
    f.drill = 1; /* sealed with the flow: the drill decision of its start */
    f.n_mfa = AFB_FLOW_MAX_MFA;
    for (i = 0; i < AFB_FLOW_MAX_MFA; i++) {
        f.mfa[i] = names[i];
    }
    return f;
}

static const char *seal(const afb_flow_t *f)
{
    const char *cookie = NULL;

    assert_int_equal(afb_flow_seal(kr, pool, f, &cookie), AFB_OK);
    assert_non_null(cookie);
    return cookie;
}

static afb_status_t open_at(const char *cookie, apr_time_t now)
{
    afb_flow_t out;

    return afb_flow_open(kr, pool, cookie, now, &out);
}

static afb_status_t seal_st(const afb_flow_t *f)
{
    const char *cookie = NULL;

    return afb_flow_seal(kr, pool, f, &cookie);
}

static void assert_flow_equal(const afb_flow_t *a, const afb_flow_t *b)
{
    int i;

    assert_int_equal(a->stage, b->stage);
    assert_string_equal(a->return_to, b->return_to);
    assert_string_equal(a->csrf, b->csrf);
    if (a->location || b->location) {
        assert_string_equal(a->location, b->location);
    }
    assert_string_equal(a->path, b->path);
    assert_int_equal(a->degraded, b->degraded);
    if (a->user || b->user) {
        assert_string_equal(a->user, b->user);
    }
    assert_int_equal(a->n_mfa, b->n_mfa);
    for (i = 0; i < a->n_mfa; i++) {
        assert_string_equal(a->mfa[i], b->mfa[i]);
    }
    if (a->standby || b->standby) {
        assert_string_equal(a->standby, b->standby);
    }
    assert_int_equal(a->mfa_allow_none, b->mfa_allow_none);
    assert_int_equal(a->drill, b->drill);
    assert_int_equal(a->lifetime, b->lifetime);
    assert_true(a->expires == b->expires);
}

static void test_roundtrip_password_stage(void **state)
{
    afb_flow_t f = password_flow(), out;

    (void)state;
    memset(&out, 0xa5, sizeof(out));
    assert_int_equal(afb_flow_open(kr, pool, seal(&f), NOW, &out), AFB_OK);
    assert_flow_equal(&out, &f);
    assert_null(out.user);
}

static void test_roundtrip_mfa_stage_with_8_names(void **state)
{
    afb_flow_t f = mfa_flow_with_8(), out;
    const char *cookie = seal(&f);

    (void)state;
    assert_int_equal(afb_flow_open(kr, pool, cookie, NOW, &out), AFB_OK);
    assert_flow_equal(&out, &f);
    assert_null(strstr(cookie, "alice"));
    /* Small enough for a cookie next to the session cookie. */
    assert_true(strlen(cookie) < 1024);
}

static void test_optional_location(void **state)
{
    afb_flow_t f = password_flow(), out;

    (void)state;
    f.location = NULL;
    f.n_mfa = 0;
    assert_int_equal(afb_flow_open(kr, pool, seal(&f), NOW, &out), AFB_OK);
    assert_null(out.location);
    assert_int_equal(out.n_mfa, 0);
}

static void test_standby_path_roundtrip(void **state)
{
    afb_flow_t f = password_flow(), out;

    (void)state;
    assert_int_equal(afb_flow_open(kr, pool, seal(&f), NOW, &out), AFB_OK);
    assert_null(out.standby);                    /* absent unless set */
    f.standby = "phs";
    assert_int_equal(afb_flow_open(kr, pool, seal(&f), NOW, &out), AFB_OK);
    assert_flow_equal(&out, &f);
    assert_string_equal(out.standby, "phs");
    f.standby = "";
    assert_int_equal(afb_flow_seal(kr, pool, &f, &(const char *){NULL}), AFB_EINVAL);
}

static void test_return_to_sanitized_when_sealed(void **state)
{
    afb_flow_t f = password_flow(), out;

    (void)state;
    f.return_to = "//evil.example/";
    assert_int_equal(afb_flow_open(kr, pool, seal(&f), NOW, &out), AFB_OK);
    assert_string_equal(out.return_to, "/");
    f.return_to = NULL;
    assert_int_equal(afb_flow_open(kr, pool, seal(&f), NOW, &out), AFB_OK);
    assert_string_equal(out.return_to, "/");
}

static void test_seal_validation(void **state)
{
    afb_flow_t f;

    (void)state;
    f = password_flow();
    f.stage = (afb_flow_stage_t)0;
    assert_int_equal(seal_st(&f), AFB_EINVAL);
    f.stage = (afb_flow_stage_t)4;
    assert_int_equal(seal_st(&f), AFB_EINVAL);
    f = mfa_flow_with_8();
    f.n_mfa = AFB_FLOW_MAX_MFA + 1;
    assert_int_equal(seal_st(&f), AFB_EINVAL);
    f.n_mfa = -1;
    assert_int_equal(seal_st(&f), AFB_EINVAL);
    f = mfa_flow_with_8();
    f.user = NULL; /* the second factor needs to know whose it is */
    assert_int_equal(seal_st(&f), AFB_EINVAL);
    f.user = "";
    assert_int_equal(seal_st(&f), AFB_EINVAL);
    f = mfa_flow_with_8();
    f.mfa[3] = NULL;
    assert_int_equal(seal_st(&f), AFB_EINVAL);
    f = password_flow();
    f.csrf = NULL;
    assert_int_equal(seal_st(&f), AFB_EINVAL);
    f = password_flow();
    f.csrf = "";
    assert_int_equal(seal_st(&f), AFB_EINVAL);
    f = password_flow();
    f.path = NULL;
    assert_int_equal(seal_st(&f), AFB_EINVAL);
    f = password_flow();
    f.lifetime = -1;
    assert_int_equal(seal_st(&f), AFB_EINVAL);
    f = password_flow();
    f.path = apr_pstrcat(pool, "p", afb_random_token(pool, 200), NULL); /* 268 bytes */
    assert_int_equal(seal_st(&f), AFB_EINVAL);
    assert_int_equal(seal_st(NULL), AFB_EINVAL);
}

static void test_expiry_edge(void **state)
{
    afb_flow_t f = password_flow(), out;
    const char *cookie = seal(&f);

    (void)state;
    assert_int_equal(open_at(cookie, f.expires - apr_time_from_sec(1)), AFB_OK);
    memset(&out, 0, sizeof(out));
    assert_int_equal(afb_flow_open(kr, pool, cookie, f.expires, &out), AFB_EEXPIRED);
    assert_string_equal(out.path, "phs");
}

static void test_tampered_flow_cookies(void **state)
{
    afb_flow_t f = mfa_flow_with_8();
    const char *cookie = seal(&f);
    unsigned char *dec;
    size_t len, i;

    (void)state;
    assert_int_equal(afb_b64url_decode(pool, cookie, strlen(cookie), &dec, &len), AFB_OK);
    for (i = 0; i < len; i++) {
        unsigned char *copy = apr_pmemdup(pool, dec, len);
        copy[i] ^= (unsigned char)(0x80u >> (i % 8));
        if (open_at(afb_b64url_encode(pool, copy, len), NOW) != AFB_EINVAL) {
            fail_msg("tampered byte %zu accepted", i);
        }
    }
    for (i = 0; i < strlen(cookie); i++) {
        if (open_at(apr_pstrndup(pool, cookie, i), NOW) != AFB_EINVAL) {
            fail_msg("cookie truncated to %zu chars accepted", i);
        }
    }
    assert_int_equal(open_at("", NOW), AFB_EINVAL);
    assert_int_equal(open_at("garbage", NOW), AFB_EINVAL);
    assert_int_equal(open_at(NULL, NOW), AFB_EINVAL);
    assert_int_equal(open_at(cookie, NOW), AFB_OK);
}

static void test_session_and_flow_not_interchangeable(void **state)
{
    afb_flow_t f = password_flow();
    afb_session_t s, sout;
    const char *scookie = NULL;

    (void)state;
    memset(&s, 0, sizeof(s));
    s.user = "alice";
    s.path = "phs";
    s.mfa = "totp";
    s.expires = NOW + apr_time_from_sec(3600);
    assert_int_equal(afb_session_seal(kr, pool, &s, &scookie), AFB_OK);
    assert_int_equal(open_at(scookie, NOW), AFB_EINVAL);
    assert_int_equal(afb_session_open(kr, pool, seal(&f), NOW, &sout), AFB_EINVAL);
}

/* ---- authentic but invalid records (sealed with our key, purpose "flow") ---- */

typedef struct {
    unsigned char b[1024];
    size_t len;
} rec_t;

static void rec_u8(rec_t *r, unsigned int v)
{
    r->b[r->len++] = (unsigned char)v;
}

static void rec_i64(rec_t *r, int64_t sv)
{
    uint64_t v = (uint64_t)sv;
    int i;

    for (i = 56; i >= 0; i -= 8) {
        rec_u8(r, (unsigned int)((v >> i) & 0xff));
    }
}

static void rec_str(rec_t *r, const char *s)
{
    size_t n = s ? strlen(s) : 0;

    rec_u8(r, (unsigned int)(n >> 8));
    rec_u8(r, (unsigned int)(n & 0xff));
    memcpy(r->b + r->len, s ? s : "", n);
    r->len += n;
}

/* Version 1 record: stage, flags, n_mfa, fields; mfa names "m0", "m1", ... */
static void rec_build(rec_t *r, unsigned int stage, unsigned int flags, unsigned int n_mfa,
                      const char *return_to, const char *user)
{
    static const char *const names[] = { "m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8" };
    unsigned int i;

    r->len = 0;
    rec_u8(r, 1);
    rec_u8(r, stage);
    rec_u8(r, flags);
    rec_u8(r, n_mfa);
    rec_i64(r, 3600);
    rec_i64(r, 1800);
    rec_i64(r, NOW_SEC + 600);
    rec_str(r, return_to);
    rec_str(r, "csrf-token");
    rec_str(r, "/payroll");
    rec_str(r, "phs");
    rec_str(r, user);
    for (i = 0; i < n_mfa && i < 9; i++) {
        rec_str(r, names[i]);
    }
}

static afb_status_t rec_open(const rec_t *r, afb_flow_t *out)
{
    const char *cookie = NULL;

    assert_int_equal(afb_seal(kr, pool, "flow", r->b, r->len, &cookie), AFB_OK);
    return afb_flow_open(kr, pool, cookie, NOW, out);
}

static void test_handwritten_record(void **state)
{
    rec_t r;
    afb_flow_t out;

    (void)state;
    rec_build(&r, AFB_FLOW_MFA, 0x03, 2, "/payroll/", "bob");
    assert_int_equal(rec_open(&r, &out), AFB_OK);
    assert_int_equal(out.stage, AFB_FLOW_MFA);
    assert_string_equal(out.user, "bob");
    assert_int_equal(out.degraded, 1);
    assert_int_equal(out.mfa_allow_none, 1);
    assert_string_equal(out.mfa[1], "m1");
    assert_int_equal(out.fallback_lifetime, 1800);
    rec_build(&r, AFB_FLOW_STANDBY, 0x01, 0, "/payroll/", NULL); /* the held next path */
    assert_int_equal(rec_open(&r, &out), AFB_OK);
    assert_int_equal(out.stage, AFB_FLOW_STANDBY);
}

static void test_forged_records_rejected(void **state)
{
    rec_t r;
    afb_flow_t out;
    size_t full, i;

    (void)state;
    rec_build(&r, 4, 0, 1, "/x", "bob");                    /* unknown stage */
    assert_int_equal(rec_open(&r, &out), AFB_EINVAL);
    rec_build(&r, 0, 0, 1, "/x", "bob");
    assert_int_equal(rec_open(&r, &out), AFB_EINVAL);
    rec_build(&r, AFB_FLOW_MFA, 0, 9, "/x", "bob");         /* too many MFA names */
    assert_int_equal(rec_open(&r, &out), AFB_EINVAL);
    rec_build(&r, AFB_FLOW_MFA, 0, 1, "/x", NULL);          /* MFA stage, no user */
    assert_int_equal(rec_open(&r, &out), AFB_EINVAL);
    rec_build(&r, AFB_FLOW_PASSWORD, 0, 1, "//evil.example", NULL); /* unsafe return */
    assert_int_equal(rec_open(&r, &out), AFB_EINVAL);
    rec_build(&r, AFB_FLOW_PASSWORD, 0, 1, NULL, NULL);     /* no return */
    assert_int_equal(rec_open(&r, &out), AFB_EINVAL);
    rec_build(&r, AFB_FLOW_PASSWORD, 0x10, 1, "/x", NULL);  /* unknown flag */
    assert_int_equal(rec_open(&r, &out), AFB_EINVAL);
    rec_build(&r, AFB_FLOW_PASSWORD, 0x08, 1, "/x", NULL);  /* standby flag, no name */
    assert_int_equal(rec_open(&r, &out), AFB_EINVAL);
    rec_str(&r, "phs");
    assert_int_equal(rec_open(&r, &out), AFB_OK);
    assert_string_equal(out.standby, "phs");
    rec_build(&r, AFB_FLOW_PASSWORD, 0, 1, "/x", NULL);
    r.b[0] = 2;                                             /* unknown version */
    assert_int_equal(rec_open(&r, &out), AFB_EINVAL);
    rec_build(&r, AFB_FLOW_PASSWORD, 0, 1, "/x", NULL);
    rec_u8(&r, 0);                                          /* trailing byte */
    assert_int_equal(rec_open(&r, &out), AFB_EINVAL);
    rec_build(&r, AFB_FLOW_PASSWORD, 0, 1, "/x", NULL);
    r.b[r.len - 3] = 0x40;                                  /* last name overruns */
    assert_int_equal(rec_open(&r, &out), AFB_EINVAL);
    rec_build(&r, AFB_FLOW_PASSWORD, 0, 1, "/x", NULL);
    r.b[r.len - 1] = '\0';                                  /* NUL in a name */
    assert_int_equal(rec_open(&r, &out), AFB_EINVAL);
    rec_build(&r, AFB_FLOW_PASSWORD, 0, 2, "/x", NULL);
    full = r.len;
    for (i = 0; i < full; i++) {                            /* every truncation */
        r.len = i;
        if (rec_open(&r, &out) != AFB_EINVAL) {
            fail_msg("record cut to %zu bytes accepted", i);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_password_stage),
        cmocka_unit_test(test_roundtrip_mfa_stage_with_8_names),
        cmocka_unit_test(test_optional_location),
        cmocka_unit_test(test_standby_path_roundtrip),
        cmocka_unit_test(test_return_to_sanitized_when_sealed),
        cmocka_unit_test(test_seal_validation),
        cmocka_unit_test(test_expiry_edge),
        cmocka_unit_test(test_tampered_flow_cookies),
        cmocka_unit_test(test_session_and_flow_not_interchangeable),
        cmocka_unit_test(test_handwritten_record),
        cmocka_unit_test(test_forged_records_rejected),
    };
    int rc;

    apr_initialize();
    rc = cmocka_run_group_tests(tests, setup, teardown);
    apr_terminate();
    return rc;
}
