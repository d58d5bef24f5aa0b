/* Readiness: per location and per provider assumed DOWN, who of the roster would still
 * complete a sign-in (the path the router takes then, a credential there, the second factor
 * the location asks for), with the people who would not, and the report's JSON. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <apr_general.h>
#include <apr_strings.h>
#include "authfb/readiness.h"

#define SEC(n) ((apr_time_t)(n) * APR_USEC_PER_SEC)
#define T0 SEC(1700000000)

static int setup(void **state)
{
    apr_pool_t *p;

    apr_pool_create(&p, NULL);
    *state = p;
    return 0;
}

static int teardown(void **state)
{
    apr_pool_destroy(*state);
    return 0;
}

/* The stores: "provider:user" entries. */
static const char *const creds[] = {
    "phs:alice", "phs:bob", "phs:carol", "phs:erin",
    "totp:alice", "totp:dave", "totp:erin",
    "keys:erin", "keys:frank",
    NULL
};

static int has(void *baton, const char *provider, const char *user)
{
    int i;
    char key[128];

    (void)baton;
    apr_snprintf(key, sizeof(key), "%s:%s", provider, user);
    for (i = 0; creds[i] != NULL; i++)
        if (strcmp(creds[i], key) == 0)
            return 1;
    return 0;
}

/* entra depends on adfs (a federated domain). */
static int down_with(void *baton, const char *provider, const char *if_down)
{
    (void)baton;
    return strcmp(provider, "entra") == 0 && strcmp(if_down, "adfs") == 0;
}

static const afb_ready_env_t env = { has, down_with, NULL };

static const afb_ready_step_t chain[] = {
    { "adfs", AFB_READY_KIND_UNKNOWN, 0 },
    { "entra", AFB_READY_KIND_UNKNOWN, 0 },
    { "phs", AFB_READY_KIND_STORE, 1 },
};
static const afb_ready_step_t mfa[] = {
    { "radius", AFB_READY_KIND_REMOTE, 0 },
    { "totp", AFB_READY_KIND_STORE, 0 },
};
static const afb_ready_loc_t payroll = { "/payroll", 3, chain, 2, mfa, 0 };

static afb_roster_t *roster(apr_pool_t *p)
{
    afb_roster_t *r = afb_roster_create(p);
    const char *const people[] = { "alice", "bob", "carol", "dave", "erin" };
    int i;

    for (i = 0; i < 5; i++)
        assert_int_equal(afb_roster_see(r, people[i], "/payroll", "adfs", T0), AFB_OK);
    assert_int_equal(afb_roster_see(r, "zed", "/other", "adfs", T0), AFB_OK);
    return r;
}

/* The person lands on the first path left and needs what it asks for there. */
static void test_classify(void **state)
{
    const char *path = "x";

    (void)state;
    /* adfs down takes entra (federated to it) down: phs, then radius (remote: ready). */
    assert_int_equal(afb_ready_classify(&payroll, "adfs", "alice", &env, &path), AFB_READY_OK);
    assert_string_equal(path, "phs");
    assert_int_equal(afb_ready_classify(&payroll, "adfs", "dave", &env, NULL),
                     AFB_READY_NO_CREDENTIAL);
    /* entra down: adfs still takes every sign-in; whether they have an account there is
     * not known. */
    assert_int_equal(afb_ready_classify(&payroll, "entra", "dave", &env, &path),
                     AFB_READY_UNKNOWN);
    assert_string_equal(path, "adfs");
}

static void test_mfa_chain(void **state)
{
    static const afb_ready_step_t only_phs[] = { { "phs", AFB_READY_KIND_STORE, 1 } };
    static const afb_ready_step_t totp_only[] = { { "totp", AFB_READY_KIND_STORE, 0 } };
    afb_ready_loc_t loc = { "/app", 1, only_phs, 2, mfa, 0 };

    (void)state;
    static const afb_ready_step_t totp_first[] = { { "totp", AFB_READY_KIND_STORE, 0 },
                                                   { "radius", AFB_READY_KIND_REMOTE, 0 } };

    /* radius down: totp is asked, bob has no secret. */
    assert_int_equal(afb_ready_classify(&loc, "radius", "bob", &env, NULL),
                     AFB_READY_NO_SECOND);
    assert_int_equal(afb_ready_classify(&loc, "radius", "alice", &env, NULL), AFB_READY_OK);
    assert_int_equal(afb_ready_classify(&loc, "totp", "bob", &env, NULL), AFB_READY_OK);
    /* The MFA step passes over a provider the person is not enrolled with. */
    loc.mfa = totp_first;
    assert_int_equal(afb_ready_classify(&loc, "adfs", "bob", &env, NULL), AFB_READY_OK);
    /* The only MFA provider down: deny -> no second factor; allow -> signs in (mfa=none),
     * but only a person enrolled with it (the step refuses one who is not). */
    loc.nmfa = 1;
    loc.mfa = totp_only;
    assert_int_equal(afb_ready_classify(&loc, "totp", "alice", &env, NULL),
                     AFB_READY_NO_SECOND);
    loc.mfa_allow_none = 1;
    assert_int_equal(afb_ready_classify(&loc, "totp", "alice", &env, NULL), AFB_READY_OK);
    assert_int_equal(afb_ready_classify(&loc, "totp", "bob", &env, NULL), AFB_READY_NO_SECOND);
    assert_int_equal(afb_ready_classify(&loc, "adfs", "bob", &env, NULL), AFB_READY_NO_SECOND);
    /* No MFA chain: the hash is enough; the only path down: no path. */
    loc.nmfa = 0;
    assert_int_equal(afb_ready_classify(&loc, "adfs", "bob", &env, NULL), AFB_READY_OK);
    assert_int_equal(afb_ready_classify(&loc, "phs", "bob", &env, NULL), AFB_READY_NO_PATH);
}

/* A passkey path, and a passkey store as the second factor. */
static void test_passkeys(void **state)
{
    static const afb_ready_step_t ch[] = { { "adfs", AFB_READY_KIND_UNKNOWN, 0 },
                                           { "keys", AFB_READY_KIND_STORE, 0 } };
    static const afb_ready_step_t m[] = { { "keys", AFB_READY_KIND_STORE, 0 } };
    static const afb_ready_step_t ch2[] = { { "phs", AFB_READY_KIND_STORE, 1 } };
    afb_ready_loc_t loc = { "/app", 2, ch, 0, NULL, 0 };
    afb_ready_loc_t loc2 = { "/app", 1, ch2, 1, m, 0 };

    (void)state;
    assert_int_equal(afb_ready_classify(&loc, "adfs", "frank", &env, NULL), AFB_READY_OK);
    assert_int_equal(afb_ready_classify(&loc, "adfs", "alice", &env, NULL),
                     AFB_READY_NO_CREDENTIAL);
    assert_int_equal(afb_ready_classify(&loc2, "adfs", "erin", &env, NULL), AFB_READY_OK);
    assert_int_equal(afb_ready_classify(&loc2, "adfs", "alice", &env, NULL),
                     AFB_READY_NO_SECOND);
}

static const afb_ready_row_t *row(const apr_array_header_t *rows, const char *loc,
                                  const char *if_down)
{
    int i;

    for (i = 0; i < rows->nelts; i++) {
        const afb_ready_row_t *r = &APR_ARRAY_IDX(rows, i, afb_ready_row_t);
        if (strcmp(r->location, loc) == 0 && strcmp(r->if_down, if_down) == 0)
            return r;
    }
    fail_msg("no row %s %s", loc, if_down);
    return NULL;
}

static const char *names(apr_pool_t *p, const afb_ready_row_t *r)
{
    const char *s = "";
    int i;

    for (i = 0; i < r->not_ready->nelts; i++) {
        const afb_ready_person_t *pp = &APR_ARRAY_IDX(r->not_ready, i, afb_ready_person_t);
        s = apr_pstrcat(p, s, pp->user, "=", afb_ready_class_name(pp->why), ";", NULL);
    }
    return s;
}

static void test_compute(void **state)
{
    apr_pool_t *p = *state;
    static const afb_ready_step_t ch[] = { { "op", AFB_READY_KIND_UNKNOWN, 0 },
                                           { "phs", AFB_READY_KIND_STORE, 1 } };
    static const afb_ready_step_t m[] = { { "totp", AFB_READY_KIND_STORE, 0 } };
    afb_ready_loc_t locs[2] = { payroll, { "/other", 2, ch, 1, m, 0 } };
    apr_array_header_t *rows = afb_ready_compute(p, roster(p), locs, 2, &env);
    const afb_ready_row_t *r;

    /* /payroll: adfs entra phs radius totp; /other: op phs totp. */
    assert_int_equal(rows->nelts, 8);
    r = row(rows, "/payroll", "adfs");
    assert_string_equal(r->path, "phs");
    assert_int_equal(r->seen, 5);
    assert_int_equal(r->ready, 4);      /* radius is remote: every hash is enough */
    assert_int_equal(r->no_credential, 1);
    assert_string_equal(names(p, r), "dave=no credential;");
    assert_true(afb_ready_ratio(r) == 0.8);
    r = row(rows, "/payroll", "phs");
    assert_string_equal(r->path, "adfs");
    assert_int_equal(r->unknown, 5);
    assert_true(afb_ready_ratio(r) < 0);
    r = row(rows, "/other", "op");
    assert_int_equal(r->seen, 1);
    assert_int_equal(r->no_credential, 1);
    assert_string_equal(names(p, r), "zed=no credential;");
}

/* The report is JSON with the names, and reads back (counts only) for the status page. */
static void test_json(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *rows = afb_ready_compute(p, roster(p), &payroll, 1, &env), *back = NULL;
    const char *js = afb_ready_json(p, rows, 6, T0);
    apr_time_t when = 0;
    int n = 0;
    const afb_ready_row_t *r;

    assert_non_null(strstr(js, "\"computed\": \"2023-11-14T22:13:20.000Z\""));
    assert_non_null(strstr(js, "\"user\": \"dave\",\n"));
    assert_non_null(strstr(js, "\"reason\": \"no credential\"\n"));
    assert_non_null(strstr(js, "\"ratio\": null"));
    assert_int_equal(afb_ready_json_parse(p, js, strlen(js), &back, &when, &n), AFB_OK);
    assert_true(when == T0);
    assert_int_equal(n, 6);
    assert_int_equal(back->nelts, rows->nelts);
    r = row(back, "/payroll", "adfs");
    assert_int_equal(r->ready, 4);
    assert_int_equal(r->no_credential, 1);
    assert_string_equal(r->path, "phs");
    assert_null(r->not_ready);
    assert_int_equal(afb_ready_json_parse(p, "[]", 2, &back, &when, &n), AFB_EINVAL);
    assert_int_equal(afb_ready_json_parse(p, "{\"locations\": [], \"computed_unix\": -1, "
                                          "\"roster_records\": 0}", 60, &back, &when, &n),
                     AFB_EINVAL);
    assert_int_equal(afb_ready_json_parse(p, "{\"locations\": [{}], \"computed_unix\": 1, "
                                          "\"roster_records\": 0}", 59, &back, &when, &n),
                     AFB_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_classify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mfa_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_passkeys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compute, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json, setup, teardown),
    };

    apr_initialize();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
