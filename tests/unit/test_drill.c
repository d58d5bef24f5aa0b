/* Drills: the argument of an override-file drill line, the decision for one new sign-in (a
 * share of the server's draws, or the client's network), and routing with a drill. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <apr_general.h>
#include "authfb/drill.h"
#include "authfb/route.h"

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

static afb_drill_t drill(const char *arg)
{
    afb_drill_t d;
    const char *why = NULL;

    assert_int_equal(afb_drill_parse(arg, &d, &why), AFB_OK);
    assert_null(why);
    return d;
}

static void refused(const char *arg, const char *why_part)
{
    afb_drill_t d;
    const char *why = NULL;

    assert_int_equal(afb_drill_parse(arg, &d, &why), AFB_EINVAL);
    assert_non_null(strstr(why, why_part));
    assert_false(afb_drill_active(&d));
}

static void test_parse(void **state)
{
    apr_pool_t *p = *state;
    afb_drill_t d = drill("5%");

    assert_int_equal(d.percent, 5);
    assert_int_equal(d.ncidr, 0);
    assert_string_equal(afb_drill_format(p, &d), "5%");
    assert_int_equal(drill("100%").percent, 100);
    d = drill("10.1.2.3/16,192.0.2.7,2001:db8::1/32");
    assert_int_equal(d.ncidr, 3);
    assert_string_equal(afb_drill_format(p, &d), "10.1.0.0/16,192.0.2.7/32,2001:db8::/32");
    refused("0%", "1..100");
    refused("101%", "1..100");
    refused("5.5%", "1..100");
    refused("-5%", "1..100");
    refused("%", "1..100");
    refused("", "needs");
    refused("10.0.0.0/33", "not a percentage");
    refused("::/129", "not a percentage");
    refused("10.0.0.0/8,", "end with");
    refused("10.0.0.0/8,,10.1.0.0/16", "empty");
    refused("adfs.example", "not a percentage");
    refused("1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4,5.5.5.5,6.6.6.6,7.7.7.7,8.8.8.8,9.9.9.9",
            "more than 8");
}

static void test_networks(void **state)
{
    afb_drill_t d = drill("10.1.0.0/16,2001:db8::/32");
    afb_cidr_t all;

    (void)state;
    assert_true(afb_drill_applies(&d, "10.1.200.3", 0));
    assert_true(afb_drill_applies(&d, "::ffff:10.1.0.9", 0));
    assert_true(afb_drill_applies(&d, "2001:db8:ffff::1", 0));
    assert_false(afb_drill_applies(&d, "10.2.0.1", 0));
    assert_false(afb_drill_applies(&d, "127.0.0.1", 0));
    assert_false(afb_drill_applies(&d, "2001:db9::1", 0));
    /* No share: the draw plays no part; garbage never matches. */
    assert_false(afb_drill_applies(&d, "10.1.0.1/8", 0xffffffffu));
    assert_false(afb_drill_applies(&d, "", 0));
    assert_false(afb_drill_applies(&d, NULL, 0));
    assert_int_equal(afb_cidr_parse("0.0.0.0/0", &all), AFB_OK);
    assert_true(afb_cidr_match(&all, "203.0.113.9"));
    assert_false(afb_cidr_match(&all, "::1"));
}

/* The share is taken over uniform draws: 5% of them, at the low end. */
static void test_share(void **state)
{
    afb_drill_t five = drill("5%"), all = drill("100%");
    uint64_t x = 88172645463325252ull;
    int i, hit = 0;

    (void)state;
    assert_true(afb_drill_applies(&five, "127.0.0.1", 0));
    assert_false(afb_drill_applies(&five, "127.0.0.1", 0xffffffffu));
    assert_true(afb_drill_applies(&all, "127.0.0.1", 0xffffffffu));
    for (i = 0; i < 100000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        hit += afb_drill_applies(&five, "127.0.0.1", (uint32_t)x);
    }
    assert_in_range(hit, 4700, 5300);
}

static afb_health_rec_t rec(const char *name)
{
    afb_health_rec_t r;

    assert_int_equal(afb_health_init(&r, name, T0), AFB_OK);
    return r;
}

/* A drilled path is skipped like a DOWN one for the sign-ins it applies to, and only those;
 * a real outage is not a drill. */
static void test_route(void **state)
{
    afb_health_rec_t op = rec("op"), phs = rec("phs");
    const afb_health_rec_t *chain[] = { &op, &phs };
    int drilled = -1;

    (void)state;
    assert_int_equal(afb_route_first_drill(chain, 2, "127.0.0.1", 0, &drilled), 0);
    assert_false(drilled);
    op.drill = drill("192.0.2.0/24");
    assert_int_equal(afb_route_first_drill(chain, 2, "127.0.0.1", 0, &drilled), 0);
    assert_false(drilled);
    assert_int_equal(afb_route_first_drill(chain, 2, "192.0.2.5", 0, &drilled), 1);
    assert_true(drilled);
    op.drill = drill("100%");
    assert_int_equal(afb_route_first_drill(chain, 2, "127.0.0.1", 12345, &drilled), 1);
    assert_true(drilled);
    /* Both drilled: no path is left for a drill sign-in (the 503 page, as in an outage). */
    phs.drill = drill("100%");
    assert_int_equal(afb_route_first_drill(chain, 2, "127.0.0.1", 1, &drilled), -1);
    assert_true(drilled);
    /* op really DOWN and drilled: the sign-in is an outage's fallback, not a drill. */
    memset(&phs.drill, 0, sizeof(phs.drill));
    op.override = AFB_OVERRIDE_DOWN;
    assert_int_equal(afb_route_first_drill(chain, 2, "127.0.0.1", 1, &drilled), 1);
    assert_false(drilled);
    assert_true(afb_route_drilled(&op, "127.0.0.1", 1));
    assert_false(afb_route_drilled(NULL, "127.0.0.1", 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_parse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_networks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_share, setup, teardown),
        cmocka_unit_test_setup_teardown(test_route, setup, teardown),
    };

    apr_initialize();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
