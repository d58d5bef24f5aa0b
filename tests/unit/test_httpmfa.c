/* http-mfa against the fake transport: what is sent (form fields, encoding, timeout, cap) and
 * how each kind of answer is classed (accept, reject, or an infrastructure failure). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "authfb/httpmfa.h"
#include "fake_http.h"

#define CHECK_URL "https://mfa.example/validate/check"
#define HEALTH_URL "https://mfa.example/healthz"
#define TIMEOUT apr_time_from_msec(1500)

#define PI_ACCEPT "{\"id\":1,\"jsonrpc\":\"2.0\",\"result\":{\"status\":true,\"value\":true}," \
                  "\"version\":\"privacyIDEA 3.9\",\"detail\":{\"message\":\"matching 1 tokens\"}}"
#define PI_REJECT "{\"id\":1,\"jsonrpc\":\"2.0\",\"result\":{\"status\":true,\"value\":false}," \
                  "\"detail\":{\"message\":\"wrong otp value\"}}"
#define PI_ERROR "{\"id\":1,\"jsonrpc\":\"2.0\",\"result\":{\"status\":false,\"error\":" \
                 "{\"code\":904,\"message\":\"ERR904: The user can not be found\"}}}"

static apr_pool_t *pool;

typedef struct {
    fake_http_t *fake;
    afb_httpmfa_t *mfa;
} fixture_t;

static fixture_t *setup_with(const char *health_url, const char *realm)
{
    fixture_t *f = apr_pcalloc(pool, sizeof(*f));
    afb_httpmfa_conf_t conf = { CHECK_URL, health_url, "/etc/ssl/mfa.pem", realm, 0 };
    const char *why = NULL;

    f->fake = fake_http_create(pool);
    assert_int_equal(afb_httpmfa_create(pool, &conf, fake_http_transport(f->fake), &f->mfa,
                                        &why), AFB_OK);
    return f;
}

static afb_status_t check(fixture_t *f, const char *code, afb_httpmfa_result_t *res,
                          const char **why)
{
    *res = (afb_httpmfa_result_t)-1;
    *why = NULL;
    return afb_httpmfa_check(f->mfa, pool, "alice", code, TIMEOUT, res, why);
}

static void test_accept_and_what_is_sent(void **state)
{
    fixture_t *f = setup_with(NULL, NULL);
    afb_httpmfa_result_t res;
    const afb_http_request_t *last;
    const char *why;
    int has_ct = 0;

    (void)state;
    fake_http_set(f->fake, CHECK_URL, 200, PI_ACCEPT);
    assert_int_equal(check(f, "123456", &res, &why), AFB_OK);
    assert_int_equal(res, AFB_HTTPMFA_ACCEPT);
    last = fake_http_last(f->fake);
    assert_string_equal(last->method, "POST");
    assert_string_equal(last->url, CHECK_URL);
    assert_string_equal(last->body, "user=alice&pass=123456");
    assert_int_equal(last->body_len, strlen("user=alice&pass=123456"));
    assert_int_equal(last->timeout, TIMEOUT);
    assert_int_equal(last->max_response, AFB_HTTPMFA_DEFAULT_MAX_RESPONSE);
    assert_string_equal(last->ca_file, "/etc/ssl/mfa.pem");
    for (int i = 0; last->headers && last->headers[i]; i++)
        has_ct |= strcmp(last->headers[i], "Content-Type: application/x-www-form-urlencoded") == 0;
    assert_true(has_ct);
}

static void test_realm_and_encoding(void **state)
{
    fixture_t *f = setup_with(NULL, "corp realm");
    afb_httpmfa_result_t res;
    const char *why;

    (void)state;
    fake_http_set(f->fake, CHECK_URL, 200, PI_ACCEPT);
    assert_int_equal(afb_httpmfa_check(f->mfa, pool, "bob&pass=000000", "12 34+5/6", TIMEOUT,
                                       &res, &why), AFB_OK);
    /* The user name cannot smuggle a second pass= field. */
    assert_string_equal(fake_http_last(f->fake)->body,
                        "user=bob%26pass%3D000000&pass=12%2034%2B5%2F6&realm=corp%20realm");
}

static void test_reject(void **state)
{
    fixture_t *f = setup_with(NULL, NULL);
    afb_httpmfa_result_t res;
    const char *why;

    (void)state;
    fake_http_set(f->fake, CHECK_URL, 200, PI_REJECT);
    assert_int_equal(check(f, "000000", &res, &why), AFB_OK);
    assert_int_equal(res, AFB_HTTPMFA_REJECT);
}

/* A refusal the server reports about the request (result.status false, with 200 or 4xx):
 * the person's failure, never a reason to move to another factor. */
static void test_request_refusals(void **state)
{
    static const int statuses[] = { 200, 400, 403 };
    afb_httpmfa_result_t res;
    const char *why;

    (void)state;
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        fixture_t *f = setup_with(NULL, NULL);

        fake_http_set(f->fake, CHECK_URL, statuses[i], PI_ERROR);
        assert_int_equal(check(f, "123456", &res, &why), AFB_OK);
        assert_int_equal(res, AFB_HTTPMFA_REJECT);
    }
}

/* Every answer below is the server's failure, never a decision about the person. */
static void test_infrastructure_failures(void **state)
{
    static const struct {
        int status;
        const char *body;
    } cases[] = {
        { 500, PI_ACCEPT },                          /* 5xx, even with an accepting body */
        { 503, "<html>Service Unavailable</html>" },
        { 404, PI_ACCEPT },
        { 302, "" },
        { 200, "<html>not json</html>" },
        { 200, "" },
        { 200, "{\"result\":{\"status\":true,\"value\":true}" },    /* truncated */
        { 200, "{\"result\":{\"status\":true}}" },   /* no value */
        { 200, "{\"result\":{\"value\":true}}" },    /* no status */
        { 200, "{\"result\":{\"status\":\"true\",\"value\":\"true\"}}" },  /* strings */
        { 200, "{\"result\":{\"status\":true,\"value\":1}}" },
        { 200, "{\"result\":true}" },
        { 200, "[true]" },
        { 200, "{\"status\":true,\"value\":true}" }, /* not under result */
        { 200, "{\"result\":{\"status\":true,\"value\":false,\"value\":true}}" }, /* duplicate */
    };
    afb_httpmfa_result_t res;
    const char *why;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fixture_t *f = setup_with(NULL, NULL);

        fake_http_set(f->fake, CHECK_URL, cases[i].status, cases[i].body);
        assert_int_equal(check(f, "123456", &res, &why), AFB_EIO);
        assert_non_null(why);
        assert_int_equal((int)res, -1);
    }
}

static void test_transport_failures(void **state)
{
    fixture_t *f = setup_with(NULL, NULL);
    afb_httpmfa_result_t res;
    const char *why;

    (void)state;
    fake_http_fail(f->fake, CHECK_URL, AFB_ETIMEOUT);
    assert_int_equal(check(f, "123456", &res, &why), AFB_ETIMEOUT);
    assert_non_null(why);
    /* worded as for every HTTP peer (afb_http_failure) */
    assert_string_equal(why, "MFA service: timeout");
    fake_http_fail(f->fake, CHECK_URL, AFB_EIO);
    assert_int_equal(check(f, "123456", &res, &why), AFB_EIO);
    assert_string_equal(why, "MFA service: connection failed");
    fake_http_fail(f->fake, CHECK_URL, AFB_ETOOBIG);
    assert_int_equal(check(f, "123456", &res, &why), AFB_EIO);
    assert_string_equal(why, "MFA service: response too large");
    fake_http_fail(f->fake, CHECK_URL, AFB_EIO);
    fake_http_clear(f->fake, CHECK_URL);
    assert_int_equal(check(f, "123456", &res, &why), AFB_EIO);
    assert_int_equal((int)res, -1);
}

static void test_oversized_answer(void **state)
{
    fixture_t *f = setup_with(NULL, NULL);
    size_t big = AFB_HTTPMFA_DEFAULT_MAX_RESPONSE + 1;
    char *body = apr_palloc(pool, big + 1);
    afb_httpmfa_result_t res;
    const char *why;

    (void)state;
    /* An accepting answer padded past the cap: refused, not believed. */
    memset(body, ' ', big);
    memcpy(body + big - strlen(PI_ACCEPT), PI_ACCEPT, strlen(PI_ACCEPT));
    body[big] = '\0';
    fake_http_set(f->fake, CHECK_URL, 200, body);
    assert_int_equal(check(f, "123456", &res, &why), AFB_EIO);
    assert_int_equal((int)res, -1);
    body[0] = '\0';                             /* the same answer under the cap is fine */
    fake_http_set(f->fake, CHECK_URL, 200, body + 1);
    assert_int_equal(check(f, "123456", &res, &why), AFB_OK);
    assert_int_equal(res, AFB_HTTPMFA_ACCEPT);
}

static void test_bad_arguments_and_conf(void **state)
{
    fixture_t *f = setup_with(NULL, NULL);
    afb_httpmfa_conf_t conf = { "ftp://mfa.example/validate/check", NULL, NULL, NULL, 0 };
    afb_httpmfa_t *m = NULL;
    afb_httpmfa_result_t res;
    const char *why = NULL;

    (void)state;
    assert_int_equal(afb_httpmfa_check(f->mfa, pool, "", "123456", TIMEOUT, &res, &why),
                     AFB_EINVAL);
    assert_int_equal(fake_http_total_calls(f->fake), 0);
    assert_int_equal(afb_httpmfa_create(pool, &conf, fake_http_transport(f->fake), &m, &why),
                     AFB_EINVAL);
    assert_null(m);
    conf.url = CHECK_URL;
    conf.health_url = "/healthz";
    assert_int_equal(afb_httpmfa_create(pool, &conf, fake_http_transport(f->fake), &m, &why),
                     AFB_EINVAL);
}

static void test_probe_health_url(void **state)
{
    fixture_t *f = setup_with(HEALTH_URL, NULL);
    const char *why = NULL;

    (void)state;
    fake_http_set(f->fake, HEALTH_URL, 200, "OK");
    assert_int_equal(afb_httpmfa_probe(f->mfa, pool, TIMEOUT, &why), AFB_OK);
    assert_string_equal(fake_http_last(f->fake)->method, "GET");
    assert_int_equal(fake_http_calls(f->fake, CHECK_URL), 0);
    fake_http_set(f->fake, HEALTH_URL, 404, "no");
    assert_int_equal(afb_httpmfa_probe(f->mfa, pool, TIMEOUT, &why), AFB_EIO);
    fake_http_set(f->fake, HEALTH_URL, 503, "down");
    assert_int_equal(afb_httpmfa_probe(f->mfa, pool, TIMEOUT, &why), AFB_EIO);
    assert_non_null(why);
    fake_http_fail(f->fake, HEALTH_URL, AFB_ETIMEOUT);
    assert_int_equal(afb_httpmfa_probe(f->mfa, pool, TIMEOUT, &why), AFB_ETIMEOUT);
}

static void test_probe_without_health_url(void **state)
{
    fixture_t *f = setup_with(NULL, NULL);
    const char *why = NULL;

    (void)state;
    fake_http_set(f->fake, CHECK_URL, 400, PI_ERROR);
    assert_int_equal(afb_httpmfa_probe(f->mfa, pool, TIMEOUT, &why), AFB_OK);
    fake_http_set(f->fake, CHECK_URL, 502, "bad gateway");
    assert_int_equal(afb_httpmfa_probe(f->mfa, pool, TIMEOUT, &why), AFB_EIO);
    fake_http_clear(f->fake, CHECK_URL);
    assert_int_equal(afb_httpmfa_probe(f->mfa, pool, TIMEOUT, &why), AFB_EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept_and_what_is_sent),
        cmocka_unit_test(test_realm_and_encoding),
        cmocka_unit_test(test_reject),
        cmocka_unit_test(test_infrastructure_failures),
        cmocka_unit_test(test_request_refusals),
        cmocka_unit_test(test_transport_failures),
        cmocka_unit_test(test_oversized_answer),
        cmocka_unit_test(test_bad_arguments_and_conf),
        cmocka_unit_test(test_probe_health_url),
        cmocka_unit_test(test_probe_without_health_url),
    };
    int rc;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}
