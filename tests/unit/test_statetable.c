/* The fixed table of short-lived records: a flood of new keys is refused and counted, and
 * never pushes out a live record; expired records make room again. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "authfb/statetable.h"

#define SEC(n) ((apr_time_t)(n) * APR_USEC_PER_SEC)
#define T0 SEC(1700000000)

static void key_of(unsigned n, unsigned char key[AFB_STATETABLE_KEY])
{
    unsigned i;
    /* spread like a MAC would: a simple mix of n */
    uint64_t x = n * 0x9E3779B97F4A7C15ull + 1;
    for (i = 0; i < AFB_STATETABLE_KEY; i++) {
        x ^= x >> 29;
        x *= 0xBF58476D1CE4E5B9ull;
        key[i] = (unsigned char)(x >> 56);
    }
}

static afb_statetable_t *table(uint32_t slots)
{
    void *mem = calloc(1, afb_statetable_size(slots));
    return afb_statetable_init(mem, slots);
}

static void test_get_set_expire(void **state)
{
    afb_statetable_t *t = table(64);
    unsigned char k[AFB_STATETABLE_KEY], v[8];
    size_t len = sizeof(v);
    (void)state;
    key_of(1, k);
    assert_int_equal(afb_statetable_get(t, k, T0, v, &len), AFB_ENOENT);
    assert_int_equal(afb_statetable_set(t, k, (const unsigned char *)"ab", 2, T0 + SEC(5), T0),
                     AFB_OK);
    assert_int_equal(afb_statetable_get(t, k, T0 + SEC(4), v, &len), AFB_OK);
    assert_int_equal(len, 2);
    assert_memory_equal(v, "ab", 2);
    len = sizeof(v);
    assert_int_equal(afb_statetable_get(t, k, T0 + SEC(5), v, &len), AFB_ENOENT);
    free(t);
}

static void test_flood_is_refused_and_live_records_stay(void **state)
{
    afb_statetable_t *t = table(256);
    unsigned char k[AFB_STATETABLE_KEY], v[8];
    afb_statetable_stats_t st;
    size_t len;
    unsigned i, refused = 0;
    (void)state;
    key_of(0, k);
    assert_int_equal(afb_statetable_set(t, k, (const unsigned char *)"U", 1, T0 + SEC(3600), T0),
                     AFB_OK);
    for (i = 1; i < 5000; i++) {
        key_of(i, k);
        if (afb_statetable_set(t, k, (const unsigned char *)"x", 1, T0 + SEC(300), T0) != AFB_OK)
            refused++;
    }
    assert_true(refused >= 5000 - 256);
    afb_statetable_stats(t, T0, &st);
    assert_int_equal(st.refused, refused);
    assert_true(st.live <= 256 && st.live > 200);
    key_of(0, k);
    len = sizeof(v);
    assert_int_equal(afb_statetable_get(t, k, T0 + SEC(10), v, &len), AFB_OK);
    assert_memory_equal(v, "U", 1);
    /* updating a live record always works, full or not */
    assert_int_equal(afb_statetable_set(t, k, (const unsigned char *)"V", 1, T0 + SEC(3600),
                                        T0 + SEC(10)), AFB_OK);
    /* once the flood's records expire, new keys find room again */
    key_of(9999, k);
    assert_int_equal(afb_statetable_set(t, k, (const unsigned char *)"n", 1, T0 + SEC(900),
                                        T0 + SEC(301)), AFB_OK);
    free(t);
}

static void test_value_cap(void **state)
{
    afb_statetable_t *t = table(8);
    unsigned char k[AFB_STATETABLE_KEY], big[AFB_STATETABLE_VALUE + 1] = {0};
    (void)state;
    key_of(3, k);
    assert_int_equal(afb_statetable_set(t, k, big, sizeof(big), T0 + 1, T0), AFB_ETOOBIG);
    assert_int_equal(afb_statetable_set(t, k, big, sizeof(big) - 1, T0 + 1, T0), AFB_OK);
    assert_null(afb_statetable_init(NULL, 8));
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_set_expire),
        cmocka_unit_test(test_flood_is_refused_and_live_records_stay),
        cmocka_unit_test(test_value_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
