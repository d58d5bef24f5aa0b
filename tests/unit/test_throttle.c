/* Throttling: fixed windows against a fake clock, the 12-byte record form, and the
 * behaviour through a cache that misses or fails. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <apr_general.h>
#include <apr_strings.h>
#include "authfb/throttle.h"
#include "fake_cache.h"

#define SEC(n) ((apr_time_t)(n) * APR_USEC_PER_SEC)
#define T0 SEC(1700000000)
#define KEY "thr:u:alice"

static const afb_throttle_policy_t pol = { 3, SEC(60) };

typedef struct {
    apr_pool_t *pool;
    afb_cache_t *cache;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));

    apr_pool_create(&f->pool, NULL);
    f->cache = afb_fake_cache_new(f->pool);
    afb_fake_cache_set_now(f->cache, T0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;

    apr_pool_destroy(f->pool);
    free(f);
    return 0;
}

/* Records a failure at `now` (the cache clock follows). */
static void fail_at(fixture_t *f, apr_time_t now)
{
    afb_fake_cache_set_now(f->cache, now);
    assert_int_equal(afb_throttle_fail(f->cache, f->pool, KEY, &pol, now), AFB_OK);
}

static int blocked_at(fixture_t *f, apr_time_t now, long *retry)
{
    int blocked = -1;
    long r = -1;

    afb_fake_cache_set_now(f->cache, now);
    assert_int_equal(afb_throttle_check(f->cache, f->pool, KEY, &pol, now, &blocked, &r),
                     AFB_OK);
    if (retry != NULL)
        *retry = r;
    return blocked;
}

static void test_fresh_key_not_blocked(void **state)
{
    fixture_t *f = *state;
    long retry = -1;

    assert_int_equal(blocked_at(f, T0, &retry), 0);
    assert_int_equal(retry, 0);
}

static void test_blocked_after_max_failures(void **state)
{
    fixture_t *f = *state;

    fail_at(f, T0);
    fail_at(f, T0 + SEC(1));
    assert_int_equal(blocked_at(f, T0 + SEC(2), NULL), 0);
    fail_at(f, T0 + SEC(2));
    assert_int_equal(blocked_at(f, T0 + SEC(2), NULL), 1);
    /* Other keys are not affected. */
    {
        int blocked = -1;
        long retry;
        assert_int_equal(afb_throttle_check(f->cache, f->pool, "thr:u:bob", &pol,
                                            T0 + SEC(2), &blocked, &retry), AFB_OK);
        assert_int_equal(blocked, 0);
    }
}

static void test_retry_after_counts_down(void **state)
{
    fixture_t *f = *state;
    long retry = 0;

    fail_at(f, T0);
    fail_at(f, T0);
    fail_at(f, T0);
    assert_int_equal(blocked_at(f, T0, &retry), 1);
    assert_int_equal(retry, 60);
    assert_int_equal(blocked_at(f, T0 + SEC(59) + 1, &retry), 1);
    assert_int_equal(retry, 1);
    assert_int_equal(blocked_at(f, T0 + SEC(30) + SEC(1) / 2, &retry), 1);
    assert_int_equal(retry, 30); /* 29.5 s left rounds up */
}

static void test_unblocked_after_window(void **state)
{
    fixture_t *f = *state;

    fail_at(f, T0);
    fail_at(f, T0 + SEC(10));
    fail_at(f, T0 + SEC(20));
    assert_int_equal(blocked_at(f, T0 + SEC(60) - 1, NULL), 1);
    assert_int_equal(blocked_at(f, T0 + SEC(60), NULL), 0);
    /* The record expired with its window: nothing left in the cache. */
    assert_int_equal(afb_fake_cache_count(f->cache), 0);
}

static void test_failure_after_window_starts_new_window(void **state)
{
    fixture_t *f = *state;

    fail_at(f, T0);
    fail_at(f, T0 + SEC(1));
    /* Window ended: this failure counts as the first of a new window. */
    fail_at(f, T0 + SEC(61));
    fail_at(f, T0 + SEC(62));
    assert_int_equal(blocked_at(f, T0 + SEC(62), NULL), 0);
    fail_at(f, T0 + SEC(63));
    assert_int_equal(blocked_at(f, T0 + SEC(63), NULL), 1);
    assert_int_equal(blocked_at(f, T0 + SEC(121) - 1, NULL), 1);
    assert_int_equal(blocked_at(f, T0 + SEC(121), NULL), 0);
}

static void test_pure_logic_window_edges(void **state)
{
    afb_throttle_rec_t r = { 0, 0 };
    int i;

    (void)state;
    for (i = 0; i < 3; i++)
        afb_throttle_add_failure(&r, &pol, T0 + SEC(i));
    assert_int_equal(r.failures, 3);
    assert_true(r.window_start == T0);
    assert_int_equal(afb_throttle_blocked(&r, &pol, T0 + SEC(59)), 1);
    assert_int_equal(afb_throttle_blocked(&r, &pol, T0 + SEC(60)), 0);
    assert_int_equal(afb_throttle_retry_after(&r, &pol, T0 + SEC(60)), 1);
    afb_throttle_add_failure(&r, &pol, T0 + SEC(60));
    assert_int_equal(r.failures, 1);
    assert_true(r.window_start == T0 + SEC(60));
}

static void test_failures_saturate(void **state)
{
    afb_throttle_rec_t r = { UINT32_MAX, T0 };

    (void)state;
    afb_throttle_add_failure(&r, &pol, T0 + 1);
    assert_true(r.failures == UINT32_MAX);
    assert_int_equal(afb_throttle_blocked(&r, &pol, T0 + 1), 1);
}

static void test_encode_decode_round_trip(void **state)
{
    static const unsigned char expect[12] = { 0x01, 0x02, 0x03, 0x04, 0x00, 0x06, 0x0a,
                                              0x0b, 0x0c, 0x0d, 0x0e, 0x0f };
    afb_throttle_rec_t in = { 0x01020304u, 0x00060a0b0c0d0e0fLL }, out = { 0, 0 };
    unsigned char wire[12];

    (void)state;
    afb_throttle_encode(&in, wire);
    assert_memory_equal(wire, expect, sizeof(wire)); /* big-endian */
    assert_int_equal(afb_throttle_decode(wire, sizeof(wire), &out), AFB_OK);
    assert_true(out.failures == in.failures);
    assert_true(out.window_start == in.window_start);
    in.failures = UINT32_MAX;
    afb_throttle_encode(&in, wire);
    assert_int_equal(afb_throttle_decode(wire, sizeof(wire), &out), AFB_OK);
    assert_true(out.failures == UINT32_MAX);
    /* A start no clock of ours can produce (a damaged or hostile cache entry) is refused,
     * so the window arithmetic cannot overflow. */
    in.window_start = -5;
    afb_throttle_encode(&in, wire);
    assert_int_equal(afb_throttle_decode(wire, sizeof(wire), &out), AFB_EINVAL);
    in.window_start = INT64_MAX - 1;
    afb_throttle_encode(&in, wire);
    assert_int_equal(afb_throttle_decode(wire, sizeof(wire), &out), AFB_EINVAL);
}

static void test_decode_refuses_other_lengths(void **state)
{
    unsigned char buf[16] = { 0 };
    afb_throttle_rec_t r = { 7, 7 };
    size_t len;

    (void)state;
    for (len = 0; len < sizeof(buf); len++) {
        if (len == 12)
            continue;
        assert_int_equal(afb_throttle_decode(buf, len, &r), AFB_EINVAL);
    }
    assert_int_equal(afb_throttle_decode(NULL, 12, &r), AFB_EINVAL);
}

static void test_foreign_record_is_fresh(void **state)
{
    fixture_t *f = *state;
    unsigned char junk[5] = { 0xff, 0xff, 0xff, 0xff, 0xff };

    assert_int_equal(f->cache->set(f->cache, KEY, junk, sizeof(junk), T0 + SEC(60), f->pool),
                     AFB_OK);
    assert_int_equal(blocked_at(f, T0, NULL), 0);
    fail_at(f, T0);
    fail_at(f, T0);
    assert_int_equal(blocked_at(f, T0, NULL), 0); /* counted from 0: 2 of 3 */
}

static void test_cache_read_failure_is_eio(void **state)
{
    fixture_t *f = *state;
    int blocked = -1;
    long retry = -1;

    afb_fake_cache_set_failing(f->cache, 1);
    assert_int_equal(afb_throttle_check(f->cache, f->pool, KEY, &pol, T0, &blocked, &retry),
                     AFB_EIO);
    assert_int_equal(afb_throttle_fail(f->cache, f->pool, KEY, &pol, T0), AFB_EIO);
}

static void test_cache_write_failure_is_eio(void **state)
{
    fixture_t *f = *state;

    afb_fake_cache_set_failing_ops(f->cache, 0, 1);
    assert_int_equal(afb_throttle_fail(f->cache, f->pool, KEY, &pol, T0), AFB_EIO);
    afb_fake_cache_set_failing_ops(f->cache, 0, 0);
    assert_int_equal(afb_fake_cache_count(f->cache), 0);
}

static void test_failing_cache_recovers_with_records(void **state)
{
    fixture_t *f = *state;

    fail_at(f, T0);
    fail_at(f, T0);
    fail_at(f, T0);
    afb_fake_cache_set_failing(f->cache, 1);
    afb_fake_cache_set_failing(f->cache, 0);
    assert_int_equal(blocked_at(f, T0 + SEC(1), NULL), 1);
}

static void test_zero_max_failures_disables(void **state)
{
    afb_throttle_policy_t off = { 0, SEC(60) };
    afb_throttle_rec_t r = { 0, 0 };

    (void)state;
    assert_int_equal(afb_throttle_blocked(&r, &off, T0), 0);
    afb_throttle_add_failure(&r, &off, T0);
    assert_int_equal(afb_throttle_blocked(&r, &off, T0), 0);
}

/* The fake cache itself: other tests rely on its miss, expiry and failure behaviour. */
static void test_fake_cache_contract(void **state)
{
    fixture_t *f = *state;
    unsigned char out[4];
    size_t len = sizeof(out);
    char longkey[AFB_CACHE_MAX_KEY + 2];

    assert_int_equal(f->cache->get(f->cache, "k", out, &len, f->pool), AFB_ENOENT);
    assert_int_equal(f->cache->set(f->cache, "k", (const unsigned char *)"abc", 3, T0 + 10,
                                   f->pool), AFB_OK);
    len = sizeof(out);
    assert_int_equal(f->cache->get(f->cache, "k", out, &len, f->pool), AFB_OK);
    assert_int_equal(len, 3);
    assert_memory_equal(out, "abc", 3);
    len = 2;
    assert_int_equal(f->cache->get(f->cache, "k", out, &len, f->pool), AFB_ETOOBIG);
    afb_fake_cache_set_failing(f->cache, 1);
    len = sizeof(out);
    assert_int_equal(f->cache->get(f->cache, "k", out, &len, f->pool), AFB_EIO);
    afb_fake_cache_set_failing(f->cache, 0);
    afb_fake_cache_set_now(f->cache, T0 + 10);
    assert_int_equal(f->cache->get(f->cache, "k", out, &len, f->pool), AFB_ENOENT);
    memset(longkey, 'a', sizeof(longkey) - 1);
    longkey[sizeof(longkey) - 1] = '\0';
    assert_int_equal(f->cache->set(f->cache, longkey, out, 1, T0 + 20, f->pool), AFB_EINVAL);
}

/* One IPv6 client owns a /64: every address of it counts as the same client. */
static void test_client_net_keys_ipv6_by_64(void **state)
{
    fixture_t *f = *state;
    const char *a = afb_throttle_client_net(f->pool, "2001:db8:1:2:aaaa::1", 32, 64);
    const char *b = afb_throttle_client_net(f->pool, "2001:db8:1:2:ffff:1:2:3", 32, 64);
    const char *other = afb_throttle_client_net(f->pool, "2001:db8:1:3::1", 32, 64);
    assert_string_equal(a, "2001:db8:1:2::/64");
    assert_string_equal(a, b);
    assert_string_not_equal(a, other);
    assert_string_equal(afb_throttle_client_net(f->pool, "2001:db8:1:2:aaaa::1", 32, 56),
                        "2001:db8:1::/56");
    assert_string_equal(afb_throttle_client_net(f->pool, "2001:db8::1", 32, 128),
                        "2001:db8::1/128");
    assert_string_equal(afb_throttle_client_net(f->pool, "2001:db8:1:2:aaaa::1", 32, 61),
                        "2001:db8:1::/61");
}

static void test_client_net_keys_ipv4_by_address(void **state)
{
    fixture_t *f = *state;
    assert_string_equal(afb_throttle_client_net(f->pool, "192.0.2.7", 32, 64), "192.0.2.7/32");
    assert_string_not_equal(afb_throttle_client_net(f->pool, "192.0.2.8", 32, 64),
                            afb_throttle_client_net(f->pool, "192.0.2.7", 32, 64));
    assert_string_equal(afb_throttle_client_net(f->pool, "192.0.2.7", 24, 64), "192.0.2.0/24");
    assert_string_equal(afb_throttle_client_net(f->pool, "::ffff:192.0.2.7", 32, 64),
                        "192.0.2.7/32");
    assert_string_equal(afb_throttle_client_net(f->pool, "192.0.2.7", 99, 64), "192.0.2.7/32");
    assert_string_equal(afb_throttle_client_net(f->pool, "not-an-ip", 32, 64), "not-an-ip");
}

/* Two rotating addresses of one /64 share one throttle record. */
static void test_rotating_ipv6_client_is_blocked(void **state)
{
    fixture_t *f = *state;
    char addr[64];
    int blocked = 1, i;
    long wait = 0;
    for (i = 0; i < 3; i++) {
        const char *key;
        snprintf(addr, sizeof(addr), "2001:db8:5:6:%x::%x", 0x100 + i, i + 1);
        key = apr_pstrcat(f->pool, "thr:c:", afb_throttle_client_net(f->pool, addr, 32, 64),
                          NULL);
        assert_int_equal(afb_throttle_fail(f->cache, f->pool, key, &pol, T0), AFB_OK);
    }
    assert_int_equal(afb_throttle_check(f->cache, f->pool, "thr:c:2001:db8:5:6::/64", &pol, T0,
                                        &blocked, &wait), AFB_OK);
    assert_true(blocked);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fresh_key_not_blocked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blocked_after_max_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_after_counts_down, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unblocked_after_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failure_after_window_starts_new_window, setup,
                                        teardown),
        cmocka_unit_test(test_pure_logic_window_edges),
        cmocka_unit_test(test_failures_saturate),
        cmocka_unit_test(test_encode_decode_round_trip),
        cmocka_unit_test(test_decode_refuses_other_lengths),
        cmocka_unit_test_setup_teardown(test_foreign_record_is_fresh, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_read_failure_is_eio, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_write_failure_is_eio, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failing_cache_recovers_with_records, setup,
                                        teardown),
        cmocka_unit_test(test_zero_max_failures_disables),
        cmocka_unit_test_setup_teardown(test_fake_cache_contract, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_net_keys_ipv6_by_64, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_net_keys_ipv4_by_address, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotating_ipv6_client_is_blocked, setup, teardown),
    };
    int rc;

    apr_initialize();
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_terminate();
    return rc;
}
