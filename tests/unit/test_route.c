/* Routing decisions: the first available path of a chain (UNKNOWN counts, DOWN and overridden
 * down do not), moving on mid-flow, the skipped names, and the MFA policy table. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <apr_general.h>
#include "authfb/route.h"

#define SEC(n) ((apr_time_t)(n) * APR_USEC_PER_SEC)
#define T0 SEC(1700000000)

static const afb_health_cfg_t cfg = { SEC(3), SEC(2), 2, 2 };
static const char *const names[] = { "adfs", "azure", "local" };

static afb_health_rec_t rec_in(const char *name, afb_health_state_t s)
{
    afb_health_rec_t r;
    apr_time_t t = T0;

    assert_int_equal(afb_health_init(&r, name, T0), AFB_OK);
    if (s == AFB_HEALTH_UP)
        afb_health_probe_result(&r, t, 1, 0, NULL, &cfg, NULL);
    while (s == AFB_HEALTH_DOWN && afb_health_available(&r))
        afb_health_probe_result(&r, t += SEC(1), 0, 0, "refused", &cfg, NULL);
    assert_int_equal(afb_health_effective_state(&r), s);
    return r;
}

static void test_first_available(void **state)
{
    const int all[] = { 1, 1, 1 }, first_down[] = { 0, 1, 1 }, two_down[] = { 0, 0, 1 };
    const int none[] = { 0, 0, 0 }, middle[] = { 0, 1, 0 };

    assert_int_equal(afb_route_first(all, 3, 0), 0);
    assert_int_equal(afb_route_first(first_down, 3, 0), 1);
    assert_int_equal(afb_route_first(two_down, 3, 0), 2);
    assert_int_equal(afb_route_first(middle, 3, 0), 1);
    assert_int_equal(afb_route_first(none, 3, 0), -1);
    assert_int_equal(afb_route_first(all, 0, 0), -1);
}

static void test_move_on_mid_flow(void **state)
{
    const int all[] = { 1, 1, 1 }, middle_down[] = { 1, 0, 1 };

    /* Path 0 failed during the sign-in: the person goes on to the next available one. */
    assert_int_equal(afb_route_first(all, 3, 1), 1);
    assert_int_equal(afb_route_first(middle_down, 3, 1), 2);
    /* The last path failed: nothing is left, even though path 0 is available again. */
    assert_int_equal(afb_route_first(all, 3, 3), -1);
    assert_int_equal(afb_route_first(middle_down, 3, -5), 0);
}

static void test_records_unknown_counts_down_skipped(void **state)
{
    afb_health_rec_t adfs = rec_in("adfs", AFB_HEALTH_DOWN);
    afb_health_rec_t azure = rec_in("azure", AFB_HEALTH_UNKNOWN);
    afb_health_rec_t local = rec_in("local", AFB_HEALTH_UP);
    const afb_health_rec_t *chain[] = { &adfs, &azure, &local };

    assert_int_equal(afb_route_first_rec(chain, 3, 0), 1);
    azure = rec_in("azure", AFB_HEALTH_DOWN);
    assert_int_equal(afb_route_first_rec(chain, 3, 0), 2);
    local = rec_in("local", AFB_HEALTH_DOWN);
    assert_int_equal(afb_route_first_rec(chain, 3, 0), -1);
}

static void test_records_override(void **state)
{
    afb_health_rec_t adfs = rec_in("adfs", AFB_HEALTH_UP);
    afb_health_rec_t local = rec_in("local", AFB_HEALTH_DOWN);
    const afb_health_rec_t *chain[] = { &adfs, &local };

    afb_health_set_override(&adfs, AFB_OVERRIDE_DOWN, NULL);
    assert_int_equal(afb_route_first_rec(chain, 2, 0), -1);
    afb_health_set_override(&local, AFB_OVERRIDE_UP, NULL);
    assert_int_equal(afb_route_first_rec(chain, 2, 0), 1);
    afb_health_set_override(&adfs, AFB_OVERRIDE_AUTO, NULL);
    assert_int_equal(afb_route_first_rec(chain, 2, 0), 0);
}

static void test_records_missing_counts_available(void **state)
{
    afb_health_rec_t adfs = rec_in("adfs", AFB_HEALTH_DOWN);
    const afb_health_rec_t *chain[] = { &adfs, NULL };

    assert_int_equal(afb_route_first_rec(chain, 2, 0), 1);
}

static void test_skipped_names(void **state)
{
    apr_pool_t *p;

    apr_pool_create(&p, NULL);
    assert_string_equal(afb_route_skipped(p, names, 3, 0, 0), "");
    assert_string_equal(afb_route_skipped(p, names, 3, 0, 1), "adfs");
    assert_string_equal(afb_route_skipped(p, names, 3, 0, 2), "adfs,azure");
    assert_string_equal(afb_route_skipped(p, names, 3, 0, -1), "adfs,azure,local");
    assert_string_equal(afb_route_skipped(p, names, 3, 1, 2), "azure");
    apr_pool_destroy(p);
}

static void test_mfa_policy_table(void **state)
{
    const int all[] = { 1, 1 }, first_down[] = { 0, 1 }, none[] = { 0, 0 };
    afb_mfa_decision_t d;

    d = afb_route_mfa(all, 2, 0, AFB_MFA_UNAVAILABLE_DENY);
    assert_int_equal(d.action, AFB_MFA_USE);
    assert_int_equal(d.index, 0);
    d = afb_route_mfa(first_down, 2, 0, AFB_MFA_UNAVAILABLE_DENY);
    assert_int_equal(d.action, AFB_MFA_USE);
    assert_int_equal(d.index, 1);
    d = afb_route_mfa(none, 2, 0, AFB_MFA_UNAVAILABLE_DENY);
    assert_int_equal(d.action, AFB_MFA_DENY);
    assert_int_equal(d.index, -1);
    d = afb_route_mfa(none, 2, 0, AFB_MFA_UNAVAILABLE_ALLOW);
    assert_int_equal(d.action, AFB_MFA_BYPASS);
    assert_int_equal(d.index, -1);
    /* An available provider is always used, whatever the policy. */
    d = afb_route_mfa(first_down, 2, 0, AFB_MFA_UNAVAILABLE_ALLOW);
    assert_int_equal(d.action, AFB_MFA_USE);
    assert_int_equal(d.index, 1);
}

static void test_mfa_mid_flow_and_none(void **state)
{
    const int all[] = { 1, 1 };
    afb_mfa_decision_t d;

    /* The second provider timed out during the flow: nothing left, policy decides. */
    d = afb_route_mfa(all, 2, 2, AFB_MFA_UNAVAILABLE_DENY);
    assert_int_equal(d.action, AFB_MFA_DENY);
    d = afb_route_mfa(all, 2, 1, AFB_MFA_UNAVAILABLE_DENY);
    assert_int_equal(d.action, AFB_MFA_USE);
    assert_int_equal(d.index, 1);
    /* No MFA chain configured: not a bypass, whatever the policy. */
    d = afb_route_mfa(NULL, 0, 0, AFB_MFA_UNAVAILABLE_ALLOW);
    assert_int_equal(d.action, AFB_MFA_NOT_REQUIRED);
    d = afb_route_mfa(NULL, 0, 0, AFB_MFA_UNAVAILABLE_DENY);
    assert_int_equal(d.action, AFB_MFA_NOT_REQUIRED);
}

static void test_mfa_unknown_policy_fails_closed(void **state)
{
    const int none[] = { 0 };
    afb_mfa_decision_t d = afb_route_mfa(none, 1, 0, (afb_mfa_policy_t)7);

    assert_int_equal(d.action, AFB_MFA_DENY);
}

static void test_mfa_records(void **state)
{
    afb_health_rec_t radius = rec_in("radius", AFB_HEALTH_DOWN);
    afb_health_rec_t totp = rec_in("totp", AFB_HEALTH_UNKNOWN);
    const afb_health_rec_t *chain[] = { &radius, &totp };
    afb_mfa_decision_t d;

    d = afb_route_mfa_rec(chain, 2, 0, AFB_MFA_UNAVAILABLE_DENY);
    assert_int_equal(d.action, AFB_MFA_USE);
    assert_int_equal(d.index, 1);
    afb_health_set_override(&totp, AFB_OVERRIDE_DOWN, NULL);
    d = afb_route_mfa_rec(chain, 2, 0, AFB_MFA_UNAVAILABLE_ALLOW);
    assert_int_equal(d.action, AFB_MFA_BYPASS);
    assert_string_equal(afb_route_mfa_action_name(d.action), "bypass");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_available),
        cmocka_unit_test(test_move_on_mid_flow),
        cmocka_unit_test(test_records_unknown_counts_down_skipped),
        cmocka_unit_test(test_records_override),
        cmocka_unit_test(test_records_missing_counts_available),
        cmocka_unit_test(test_skipped_names),
        cmocka_unit_test(test_mfa_policy_table),
        cmocka_unit_test(test_mfa_mid_flow_and_none),
        cmocka_unit_test(test_mfa_unknown_policy_fails_closed),
        cmocka_unit_test(test_mfa_records),
    };

    apr_initialize();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
