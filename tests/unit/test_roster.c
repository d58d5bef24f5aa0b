/* The roster: its file format (header, records, skipped lines), merging sightings, dropping
 * people not seen for DAYS, the record cap, and the shared ring the children fill. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <apr_general.h>
#include <apr_strings.h>
#include "authfb/roster.h"

#define SEC(n) ((apr_time_t)(n) * APR_USEC_PER_SEC)
#define T0 SEC(1700000000)
#define DAY SEC(86400)

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

static const afb_roster_rec_t *rec_at(apr_pool_t *p, const afb_roster_t *r, int i)
{
    apr_array_header_t *a = afb_roster_sorted(r, p);

    assert_true(i < a->nelts);
    return APR_ARRAY_IDX(a, i, const afb_roster_rec_t *);
}

static void test_round_trip(void **state)
{
    apr_pool_t *p = *state;
    afb_roster_t *r = afb_roster_create(p), *back = NULL;
    const char *text;
    size_t len = 0;
    afb_skips_t sk;

    assert_int_equal(afb_roster_see(r, "bob@corp.example", "/payroll", "adfs", T0), AFB_OK);
    assert_int_equal(afb_roster_see(r, "alice", "/payroll", "phs", T0 + SEC(5)), AFB_OK);
    assert_int_equal(afb_roster_see(r, "alice", "/my app", "adfs", T0 + 777), AFB_OK);
    text = afb_roster_format(r, p, &len);
    assert_string_equal(text, AFB_ROSTER_HEADER "\n"
                        "1700000000\tadfs\t/my app\talice\n"
                        "1700000005\tphs\t/payroll\talice\n"
                        "1700000000\tadfs\t/payroll\tbob@corp.example\n");
    memset(&sk, 0, sizeof(sk));
    assert_int_equal(afb_roster_parse(p, text, len, &back, &sk), AFB_OK);
    assert_int_equal(sk.count, 0);
    assert_int_equal(afb_roster_count(back), 3);
    assert_string_equal(afb_roster_format(back, p, NULL), text);
    assert_string_equal(rec_at(p, back, 1)->path, "phs");
}

/* A later sighting wins (and its path); an earlier one arriving late changes nothing. */
static void test_latest_sighting_wins(void **state)
{
    apr_pool_t *p = *state;
    afb_roster_t *r = afb_roster_create(p);

    assert_int_equal(afb_roster_see(r, "alice", "/app", "adfs", T0), AFB_OK);
    assert_int_equal(afb_roster_see(r, "alice", "/app", "phs", T0 + SEC(60)), AFB_OK);
    assert_int_equal(afb_roster_see(r, "alice", "/app", "adfs", T0 + SEC(30)), AFB_OK);
    assert_int_equal(afb_roster_count(r), 1);
    assert_string_equal(rec_at(p, r, 0)->path, "phs");
    assert_true(rec_at(p, r, 0)->seen == T0 + SEC(60));
}

static void test_fields_refused(void **state)
{
    apr_pool_t *p = *state;
    afb_roster_t *r = afb_roster_create(p);
    char longname[300];

    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_int_equal(afb_roster_see(r, "", "/app", "adfs", T0), AFB_EINVAL);
    assert_int_equal(afb_roster_see(r, "a\tb", "/app", "adfs", T0), AFB_EINVAL);
    assert_int_equal(afb_roster_see(r, "a\nb", "/app", "adfs", T0), AFB_EINVAL);
    assert_int_equal(afb_roster_see(r, "alice", "/app", "ad fs", T0), AFB_EINVAL);
    assert_int_equal(afb_roster_see(r, "alice", NULL, "adfs", T0), AFB_EINVAL);
    assert_int_equal(afb_roster_see(r, longname, "/app", "adfs", T0), AFB_EINVAL);
    assert_int_equal(afb_roster_see(r, "alice", "/app", "adfs", -1), AFB_EINVAL);
    assert_int_equal(afb_roster_count(r), 0);
}

/* Stores' rules: no header, not a roster; bad records skipped by line, the others kept. */
static void test_parse_bad(void **state)
{
    apr_pool_t *p = *state;
    afb_roster_t *r = NULL;
    afb_skips_t sk;
    const char *text = AFB_ROSTER_HEADER "\r\n"
                       "1700000000\tadfs\t/app\talice\r\n"
                       "x1700000000\tadfs\t/app\tbob\n"
                       "1700000000 adfs /app carol\n"
                       "\n# a comment\n"
                       "1700000000\tad fs\t/app\tdave\n"
                       "1700000000\tadfs\t/app\t\n"
                       "1700000001\tphs\t/app\talice\n"
                       "1700000002\tphs\t/app\ter\tin\n";

    memset(&sk, 0, sizeof(sk));
    assert_int_equal(afb_roster_parse(p, text, strlen(text), &r, &sk), AFB_OK);
    assert_int_equal(afb_roster_count(r), 1); /* alice; a tab in a name is refused too */
    assert_int_equal(sk.count, 5);
    assert_string_equal(APR_ARRAY_IDX(sk.notes, 0, const char *),
                        "line 3: LAST-SEEN is not Unix seconds");
    assert_string_equal(rec_at(p, r, 0)->path, "phs");
    r = NULL;
    assert_int_equal(afb_roster_parse(p, "alice:$y$j9T$x\n", 15, &r, NULL), AFB_EINVAL);
    assert_null(r);
    assert_int_equal(afb_roster_parse(p, AFB_ROSTER_HEADER "x\n", 31, &r, NULL), AFB_EINVAL);
    assert_int_equal(afb_roster_parse(p, "", 0, &r, NULL), AFB_OK);
    assert_int_equal(afb_roster_count(r), 0);
    assert_int_equal(afb_roster_parse(p, AFB_ROSTER_HEADER, strlen(AFB_ROSTER_HEADER), &r,
                                      NULL), AFB_OK);
    assert_int_equal(afb_roster_parse(p, "x", (size_t)AFB_ROSTER_MAX_BYTES + 1, &r, NULL),
                     AFB_ETOOBIG);
}

static void test_expire_and_trim(void **state)
{
    apr_pool_t *p = *state;
    afb_roster_t *r = afb_roster_create(p);
    int i;

    assert_int_equal(afb_roster_see(r, "old", "/app", "adfs", T0 - 91 * DAY), AFB_OK);
    assert_int_equal(afb_roster_see(r, "edge", "/app", "adfs", T0 - 90 * DAY), AFB_OK);
    assert_int_equal(afb_roster_see(r, "new", "/app", "adfs", T0 - DAY), AFB_OK);
    assert_int_equal(afb_roster_expire(r, T0, 90), 1);
    assert_int_equal(afb_roster_count(r), 2);
    assert_int_equal(afb_roster_expire(r, T0, 30), 1);
    assert_string_equal(rec_at(p, r, 0)->user, "new");
    for (i = 0; i < 10; i++)
        assert_int_equal(afb_roster_see(r, apr_psprintf(p, "u%d", i), "/app", "phs",
                                        T0 + SEC(i)), AFB_OK);
    assert_int_equal(afb_roster_trim(r, 4), 7);
    assert_int_equal(afb_roster_count(r), 4);
    assert_string_equal(rec_at(p, r, 0)->user, "u6");
    assert_string_equal(rec_at(p, r, 3)->user, "u9");
    assert_int_equal(afb_roster_trim(r, 4), 0);
}

static void test_ring(void **state)
{
    apr_pool_t *p = *state;
    apr_size_t size = afb_roster_ring_size(3);
    afb_roster_ring_t *ring = afb_roster_ring_init(apr_pcalloc(p, size), size, 3);
    afb_roster_t *r = afb_roster_create(p);
    char longname[300];

    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_non_null(ring);
    assert_null(afb_roster_ring_init(apr_pcalloc(p, size), size - 1, 3));
    assert_true(afb_roster_ring_push(ring, "alice", "/app", "adfs", T0));
    assert_true(afb_roster_ring_push(ring, "bob", "/app", "phs", T0));
    assert_false(afb_roster_ring_push(ring, longname, "/app", "phs", T0));
    assert_true(afb_roster_ring_push(ring, "carol", "/app", "phs", T0));
    assert_false(afb_roster_ring_push(ring, "dave", "/app", "phs", T0)); /* full */
    assert_true(ring->dropped == 2);
    assert_int_equal(afb_roster_ring_drain(ring, r), 3);
    assert_int_equal(afb_roster_count(r), 3);
    /* Wraps around. */
    assert_true(afb_roster_ring_push(ring, "dave", "/app", "phs", T0));
    assert_true(afb_roster_ring_push(ring, "erin", "/app", "phs", T0));
    assert_int_equal(afb_roster_ring_drain(ring, r), 2);
    assert_int_equal(afb_roster_count(r), 5);
    assert_int_equal(afb_roster_ring_drain(ring, r), 0);
    /* A damaged header never makes the drain loop or read past the slots. */
    ring->next = 77;
    ring->count = 2;
    assert_int_equal(afb_roster_ring_drain(ring, r), 0);
    assert_int_equal(ring->count, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_latest_sighting_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fields_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_bad, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expire_and_trim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ring, setup, teardown),
    };

    apr_initialize();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
