/* Signing out everywhere: the logout hint and the pending logout round-trip, are bound to their
 * purpose, refuse tampering, a wrong state and expiry; an ID token too long for a cookie is
 * not kept; the logout URL encodes every parameter. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <apr_general.h>
#include <apr_strings.h>
#include "authfb/logout.h"

#define NOW ((apr_time_t)1700000000 * APR_USEC_PER_SEC)

static apr_pool_t *p;
static afb_keyring_t *kr;
static const unsigned char key[32] = "0123456789abcdef0123456789abcdef";

static int setup(void **state)
{
    (void)state;
    apr_pool_create(&p, NULL);
    kr = afb_keyring_create(p);
    return afb_keyring_add(kr, key, sizeof(key)) == AFB_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    apr_pool_destroy(p);
    return 0;
}

static const char *token(size_t n)
{
    char *t = apr_palloc(p, n + 1);
    memset(t, 'e', n);
    t[n] = '\0';
    return t;
}

static void test_hint_round_trip(void **state)
{
    afb_logout_hint_t in = {"op", "alice", NOW, NULL}, out;
    const char *cookie = NULL;
    (void)state;
    in.id_token = token(1200);
    assert_int_equal(afb_logout_hint_seal(kr, p, &in, &cookie), AFB_OK);
    assert_int_equal(afb_logout_hint_open(kr, p, cookie, &out), AFB_OK);
    assert_string_equal(out.provider, "op");
    assert_string_equal(out.user, "alice");
    assert_true(out.issued == NOW);
    assert_string_equal(out.id_token, in.id_token);
    /* a 2600-byte token, the largest kept, still fits one cookie */
    in.id_token = token(AFB_LOGOUT_ID_TOKEN_MAX);
    assert_int_equal(afb_logout_hint_seal(kr, p, &in, &cookie), AFB_OK);
    assert_true(strlen(cookie) + strlen("authfb_session_idt=") < 3900);
    in.id_token = token(AFB_LOGOUT_ID_TOKEN_MAX + 1);
    assert_int_equal(afb_logout_hint_seal(kr, p, &in, &cookie), AFB_ETOOBIG);
    in.id_token = "";
    assert_int_equal(afb_logout_hint_seal(kr, p, &in, &cookie), AFB_EINVAL);
}

static void test_hint_refused(void **state)
{
    afb_logout_hint_t in = {"op", "alice", NOW, "a.b.c"}, out;
    afb_logout_pending_t pin = {"op", "st", "/app/", NOW + 1}, pout;
    const char *cookie = NULL, *pending = NULL;
    char *bad;
    (void)state;
    assert_int_equal(afb_logout_hint_seal(kr, p, &in, &cookie), AFB_OK);
    bad = apr_pstrdup(p, cookie);
    bad[10] = bad[10] == 'A' ? 'B' : 'A';
    assert_int_equal(afb_logout_hint_open(kr, p, bad, &out), AFB_EINVAL);
    assert_null(out.id_token);
    assert_int_equal(afb_logout_hint_open(kr, p, "garbage", &out), AFB_EINVAL);
    assert_int_equal(afb_logout_hint_open(kr, p, NULL, &out), AFB_EINVAL);
    /* one record cannot stand for the other */
    assert_int_equal(afb_logout_pending_seal(kr, p, &pin, &pending), AFB_OK);
    assert_int_equal(afb_logout_hint_open(kr, p, pending, &out), AFB_EINVAL);
    assert_int_equal(afb_logout_pending_open(kr, p, cookie, "st", NOW, &pout), AFB_EINVAL);
}

static void test_pending_state_and_expiry(void **state)
{
    afb_logout_pending_t in = {"op", "state-123", "/app/page?x=1", NOW + apr_time_from_sec(600)};
    afb_logout_pending_t out;
    const char *cookie = NULL;
    (void)state;
    assert_int_equal(afb_logout_pending_seal(kr, p, &in, &cookie), AFB_OK);
    assert_int_equal(afb_logout_pending_open(kr, p, cookie, "state-123", NOW, &out), AFB_OK);
    assert_string_equal(out.return_to, "/app/page?x=1");
    assert_string_equal(out.provider, "op");
    assert_int_equal(afb_logout_pending_open(kr, p, cookie, "state-124", NOW, &out),
                     AFB_EMISMATCH);
    assert_int_equal(afb_logout_pending_open(kr, p, cookie, NULL, NOW, &out), AFB_EMISMATCH);
    assert_int_equal(afb_logout_pending_open(kr, p, cookie, "state-123",
                                             NOW + apr_time_from_sec(600), &out), AFB_EEXPIRED);
    /* a return path that is not local is never offered */
    in.return_to = "//evil.example/";
    assert_int_equal(afb_logout_pending_seal(kr, p, &in, &cookie), AFB_OK);
    assert_int_equal(afb_logout_pending_open(kr, p, cookie, "state-123", NOW, &out), AFB_OK);
    assert_string_equal(out.return_to, "/");
}

static void test_logout_url(void **state)
{
    (void)state;
    assert_string_equal(afb_logout_url(p, "https://op.example/session/end", "app 1", "h.e.t",
                                       "https://rp.example/auth-fallback/logout", "s&t"),
                        "https://op.example/session/end?client_id=app%201&id_token_hint=h.e.t"
                        "&post_logout_redirect_uri=https%3A%2F%2Frp.example%2Fauth-fallback"
                        "%2Flogout&state=s%26t");
    assert_string_equal(afb_logout_url(p, "https://op.example/logout?p=1", "c", NULL,
                                       "https://rp/", "s"),
                        "https://op.example/logout?p=1&client_id=c"
                        "&post_logout_redirect_uri=https%3A%2F%2Frp%2F&state=s");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hint_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hint_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pending_state_and_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logout_url, setup, teardown),
    };
    apr_initialize();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
