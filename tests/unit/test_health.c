/* Health records against a fake clock: fall/rise hysteresis from every state, probe
 * scheduling and its jitter, running probes that never report, passive evidence, operator
 * overrides, transition texts, and the shared table across a graceful restart. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <apr_general.h>
#include "authfb/health.h"

#define SEC(n) ((apr_time_t)(n) * APR_USEC_PER_SEC)
#define MS(n) ((apr_time_t)(n) * 1000)
#define T0 SEC(1700000000)

static const afb_health_cfg_t cfg = { SEC(3), SEC(2), 2, 2 };

static afb_health_rec_t fresh(const char *name)
{
    afb_health_rec_t r;

    assert_int_equal(afb_health_init(&r, name, T0), AFB_OK);
    return r;
}

/* One probe result at `now`; returns 1 on a transition. */
static int probe(afb_health_rec_t *r, apr_time_t now, int ok, afb_health_transition_t *tr)
{
    afb_health_begin_probe(r, now, cfg.timeout);
    return afb_health_probe_result(r, now + MS(5), ok, MS(5),
                                   ok ? NULL : "connection refused", &cfg, tr);
}

static afb_health_rec_t in_state(afb_health_state_t s)
{
    afb_health_rec_t r = fresh("adfs");
    apr_time_t t = T0;

    if (s == AFB_HEALTH_UP)
        probe(&r, t, 1, NULL);
    while (s == AFB_HEALTH_DOWN && r.state != AFB_HEALTH_DOWN)
        probe(&r, t += SEC(1), 0, NULL);
    assert_int_equal(afb_health_effective_state(&r), s);
    return r;
}

static void test_new_record_unknown_available_due(void **state)
{
    afb_health_rec_t r = fresh("adfs");

    assert_int_equal(afb_health_effective_state(&r), AFB_HEALTH_UNKNOWN);
    assert_true(afb_health_available(&r));
    assert_true(afb_health_is_due(&r, T0));
    assert_false(afb_health_is_due(&r, T0 - 1));
    assert_true(afb_health_valid(&r));
    assert_string_equal(r.name, "adfs");
}

static void test_init_rejects_long_name(void **state)
{
    afb_health_rec_t r;

    assert_int_equal(afb_health_init(&r, "abcdefghijabcdefghijabcdefghijabc", T0), AFB_EINVAL);
    assert_int_equal(strlen(r.name), 32);
    assert_int_equal(afb_health_init(&r, "", T0), AFB_EINVAL);
    assert_int_equal(afb_health_init(&r, "abcdefghijabcdefghijabcdefghijab", T0), AFB_OK);
}

static void test_unknown_first_pass_is_up(void **state)
{
    afb_health_rec_t r = fresh("adfs");
    afb_health_transition_t tr;

    assert_int_equal(probe(&r, T0, 1, &tr), 1);
    assert_int_equal(tr.from, AFB_HEALTH_UNKNOWN);
    assert_int_equal(tr.to, AFB_HEALTH_UP);
    assert_string_equal(tr.reason, "first probe passed");
    assert_int_equal(r.transitions, 1);
}

static void test_unknown_needs_fall_failures(void **state)
{
    afb_health_rec_t r = fresh("adfs");
    afb_health_transition_t tr;

    assert_int_equal(probe(&r, T0, 0, &tr), 0);
    assert_int_equal(afb_health_effective_state(&r), AFB_HEALTH_UNKNOWN);
    assert_true(afb_health_available(&r));
    assert_int_equal(probe(&r, T0 + SEC(1), 0, &tr), 1);
    assert_int_equal(tr.from, AFB_HEALTH_UNKNOWN);
    assert_int_equal(tr.to, AFB_HEALTH_DOWN);
    assert_string_equal(tr.reason, "2/2 probes failed: connection refused");
    assert_false(afb_health_available(&r));
}

static void test_up_to_down_after_fall(void **state)
{
    afb_health_rec_t r = in_state(AFB_HEALTH_UP);
    afb_health_transition_t tr;

    assert_int_equal(probe(&r, T0 + SEC(3), 0, &tr), 0);
    assert_int_equal(afb_health_effective_state(&r), AFB_HEALTH_UP);
    assert_int_equal(probe(&r, T0 + SEC(4), 0, &tr), 1);
    assert_int_equal(tr.from, AFB_HEALTH_UP);
    assert_int_equal(tr.to, AFB_HEALTH_DOWN);
    assert_string_equal(tr.reason, "2/2 probes failed: connection refused");
    assert_string_equal(r.last_error, "connection refused");
    assert_int_equal(r.last_transition, T0 + SEC(4) + MS(5));
}

static void test_down_to_up_after_rise(void **state)
{
    afb_health_rec_t r = in_state(AFB_HEALTH_DOWN);
    afb_health_transition_t tr;
    uint64_t before = r.transitions;

    assert_int_equal(probe(&r, T0 + SEC(10), 1, &tr), 0);
    assert_int_equal(afb_health_effective_state(&r), AFB_HEALTH_DOWN);
    assert_false(afb_health_available(&r));
    assert_int_equal(probe(&r, T0 + SEC(13), 1, &tr), 1);
    assert_int_equal(tr.from, AFB_HEALTH_DOWN);
    assert_int_equal(tr.to, AFB_HEALTH_UP);
    assert_string_equal(tr.reason, "2/2 probes passed");
    assert_int_equal(r.transitions, before + 1);
}

static void test_steady_states_no_transition(void **state)
{
    afb_health_rec_t up = in_state(AFB_HEALTH_UP);
    afb_health_rec_t down = in_state(AFB_HEALTH_DOWN);
    int i;

    for (i = 0; i < 5; i++) {
        assert_int_equal(probe(&up, T0 + SEC(10 + i), 1, NULL), 0);
        assert_int_equal(probe(&down, T0 + SEC(10 + i), 0, NULL), 0);
    }
    assert_int_equal(afb_health_effective_state(&up), AFB_HEALTH_UP);
    assert_int_equal(afb_health_effective_state(&down), AFB_HEALTH_DOWN);
    assert_int_equal(down.fails, 5 + 2);
}

static void test_flapping_never_down(void **state)
{
    afb_health_rec_t r = in_state(AFB_HEALTH_UP);
    int i;

    for (i = 0; i < 50; i++)
        assert_int_equal(probe(&r, T0 + SEC(10 + i), i % 2, NULL), 0);
    assert_int_equal(afb_health_effective_state(&r), AFB_HEALTH_UP);
    assert_int_equal(r.transitions, 1);
}

static void test_flapping_while_down_stays_down(void **state)
{
    afb_health_rec_t r = in_state(AFB_HEALTH_DOWN);
    int i;

    for (i = 0; i < 50; i++)
        assert_int_equal(probe(&r, T0 + SEC(10 + i), (i + 1) % 2, NULL), 0);
    assert_false(afb_health_available(&r));
}

static void test_rise_fall_of_one(void **state)
{
    const afb_health_cfg_t quick = { SEC(3), SEC(2), 1, 1 };
    afb_health_rec_t r = fresh("adfs");

    assert_int_equal(afb_health_probe_result(&r, T0, 0, 0, "timeout", &quick, NULL), 1);
    assert_int_equal(r.state, AFB_HEALTH_DOWN);
    assert_int_equal(afb_health_probe_result(&r, T0 + SEC(1), 1, 0, NULL, &quick, NULL), 1);
    assert_int_equal(r.state, AFB_HEALTH_UP);
}

static void test_schedule_after_pass_and_failure(void **state)
{
    afb_health_rec_t r = fresh("adfs");
    apr_time_t done;

    probe(&r, T0, 1, NULL);
    done = r.last_probe;
    assert_true(r.next_due <= done + SEC(3));
    assert_true(r.next_due >= done + SEC(3) - MS(300));
    assert_false(afb_health_is_due(&r, done + SEC(2)));
    assert_true(afb_health_is_due(&r, done + SEC(3)));

    probe(&r, done + SEC(3), 0, NULL);
    done = r.last_probe;
    assert_true(r.next_due <= done + SEC(1));
    assert_true(r.next_due >= done + MS(900));
    assert_true(afb_health_is_due(&r, done + SEC(1)));
    assert_false(afb_health_is_due(&r, done + MS(899)));
}

static void test_fast_reprobe_never_later_than_interval(void **state)
{
    const afb_health_cfg_t fast = { MS(500), MS(200), 2, 2 };
    afb_health_rec_t r = fresh("adfs");

    afb_health_probe_result(&r, T0, 0, 0, "refused", &fast, NULL);
    assert_true(r.next_due <= T0 + MS(500));
    assert_true(r.next_due >= T0 + MS(450));
}

static void test_jitter_bounded_deterministic_and_spread(void **state)
{
    apr_interval_time_t first = afb_health_jitter("adfs", 0, SEC(3));
    int differs = 0;
    uint64_t i;

    for (i = 0; i < 200; i++) {
        apr_interval_time_t j = afb_health_jitter("adfs", i, SEC(3));
        assert_true(j >= 0 && j <= MS(300));
        assert_int_equal(j, afb_health_jitter("adfs", i, SEC(3)));
        differs |= j != first;
    }
    assert_true(differs);
    assert_true(afb_health_jitter("adfs", 7, SEC(3)) != afb_health_jitter("ldap", 7, SEC(3))
                || afb_health_jitter("adfs", 8, SEC(3))
                       != afb_health_jitter("ldap", 8, SEC(3)));
    assert_int_equal(afb_health_jitter("adfs", 3, 0), 0);
}

static void test_same_history_same_schedule(void **state)
{
    afb_health_rec_t a = fresh("adfs"), b = fresh("adfs");
    int i;

    for (i = 0; i < 10; i++) {
        probe(&a, T0 + SEC(3 * i), i % 3 != 0, NULL);
        probe(&b, T0 + SEC(3 * i), i % 3 != 0, NULL);
        assert_int_equal(a.next_due, b.next_due);
    }
}

static void test_inflight_blocks_until_deadline(void **state)
{
    afb_health_rec_t r = fresh("adfs");

    assert_true(afb_health_is_due(&r, T0));
    afb_health_begin_probe(&r, T0, SEC(2));
    assert_false(afb_health_is_due(&r, T0));
    assert_false(afb_health_is_due(&r, T0 + SEC(2) - 1));
    /* The probe never reported back: due again at its deadline. */
    assert_true(afb_health_is_due(&r, T0 + SEC(2)));
    assert_true(afb_health_is_due(&r, T0 + SEC(60)));
    afb_health_begin_probe(&r, T0 + SEC(60), SEC(2));
    assert_int_equal(r.expired_probes, 1);
    assert_false(afb_health_is_due(&r, T0 + SEC(61)));
    /* An expired probe is not a failure: the provider stays available. */
    assert_true(afb_health_available(&r));
}

static void test_result_clears_inflight(void **state)
{
    afb_health_rec_t r = fresh("adfs");

    afb_health_begin_probe(&r, T0, SEC(2));
    afb_health_probe_result(&r, T0 + MS(10), 1, MS(10), NULL, &cfg, NULL);
    assert_int_equal(r.inflight_deadline, 0);
    assert_int_equal(r.last_latency, MS(10));
    assert_int_equal(r.probes, 1);
    assert_false(afb_health_is_due(&r, T0 + SEC(2)));
    assert_true(afb_health_is_due(&r, T0 + MS(10) + SEC(3)));
}

static void test_passive_never_changes_state_due_now(void **state)
{
    afb_health_rec_t r = in_state(AFB_HEALTH_UP);
    apr_time_t now = r.last_probe + SEC(2);
    int i;

    assert_false(afb_health_is_due(&r, now));
    for (i = 0; i < 100; i++)
        afb_health_passive_failure(&r, now, &cfg);
    assert_true(afb_health_is_due(&r, now));
    assert_int_equal(afb_health_effective_state(&r), AFB_HEALTH_UP);
    assert_true(afb_health_available(&r));
    assert_int_equal(r.fails, 0);
    assert_int_equal(r.passive, 1);
    assert_int_equal(r.passive_events, 100);

    /* The probe it triggers decides, and clears the evidence flag. */
    probe(&r, now, 1, NULL);
    assert_int_equal(r.passive, 0);
    assert_int_equal(afb_health_effective_state(&r), AFB_HEALTH_UP);
}

static void test_passive_on_down_or_unknown_keeps_state(void **state)
{
    afb_health_rec_t down = in_state(AFB_HEALTH_DOWN);
    afb_health_rec_t unk = fresh("ldap");

    afb_health_passive_failure(&down, T0 + SEC(30), &cfg);
    afb_health_passive_failure(&unk, T0 + SEC(30), &cfg);
    assert_int_equal(afb_health_effective_state(&down), AFB_HEALTH_DOWN);
    assert_int_equal(afb_health_effective_state(&unk), AFB_HEALTH_UNKNOWN);
    assert_true(afb_health_available(&unk));
}

static void test_passive_not_sooner_than_fast_reprobe(void **state)
{
    afb_health_rec_t r = in_state(AFB_HEALTH_UP);
    apr_time_t last = r.last_probe;

    afb_health_passive_failure(&r, last + MS(100), &cfg);
    assert_false(afb_health_is_due(&r, last + MS(100)));
    assert_true(afb_health_is_due(&r, last + SEC(1)));
}

static void test_passive_does_not_delay(void **state)
{
    afb_health_rec_t r = fresh("adfs");

    afb_health_passive_failure(&r, T0 + SEC(5), &cfg);
    assert_int_equal(r.next_due, T0);
}

static void test_override_precedence(void **state)
{
    afb_health_rec_t up = in_state(AFB_HEALTH_UP);
    afb_health_rec_t down = in_state(AFB_HEALTH_DOWN);
    afb_health_rec_t unk = fresh("ldap");
    afb_health_transition_t tr;

    assert_int_equal(afb_health_set_override(&up, AFB_OVERRIDE_DOWN, &tr), 1);
    assert_false(afb_health_available(&up));
    assert_int_equal(tr.from, AFB_HEALTH_UP);
    assert_int_equal(tr.to, AFB_HEALTH_DOWN);
    assert_string_equal(tr.reason, "override down");

    assert_int_equal(afb_health_set_override(&down, AFB_OVERRIDE_UP, &tr), 1);
    assert_true(afb_health_available(&down));
    assert_int_equal(afb_health_effective_state(&down), AFB_HEALTH_UP);

    assert_int_equal(afb_health_set_override(&unk, AFB_OVERRIDE_DOWN, NULL), 1);
    assert_false(afb_health_available(&unk));

    /* Probes keep running under an override but do not move the effective state. */
    probe(&up, T0 + SEC(10), 1, NULL);
    assert_false(afb_health_available(&up));

    assert_int_equal(afb_health_set_override(&up, AFB_OVERRIDE_AUTO, &tr), 1);
    assert_true(afb_health_available(&up));
    assert_string_equal(tr.reason, "override removed");
    assert_int_equal(afb_health_set_override(&down, AFB_OVERRIDE_AUTO, NULL), 1);
    assert_false(afb_health_available(&down));
    assert_int_equal(afb_health_set_override(&down, AFB_OVERRIDE_AUTO, NULL), 0);
}

static void test_reason_truncated_and_sanitized(void **state)
{
    afb_health_rec_t r = fresh("adfs");
    afb_health_transition_t tr;
    char longr[1000];

    memset(longr, 'x', sizeof(longr) - 1);
    longr[sizeof(longr) - 1] = '\0';
    afb_health_probe_result(&r, T0, 0, 0, longr, &cfg, NULL);
    assert_int_equal(strlen(r.last_error), AFB_HEALTH_ERROR_MAX - 1);
    assert_int_equal(afb_health_probe_result(&r, T0 + SEC(1), 0, 0, longr, &cfg, &tr), 1);
    assert_true(strlen(tr.reason) < AFB_HEALTH_REASON_MAX);
    assert_memory_equal(tr.reason, "2/2 probes failed: xxx", 22);

    afb_health_probe_result(&r, T0 + SEC(2), 0, 0, "bad\r\nAFB01001: forged", &cfg, NULL);
    assert_null(strchr(r.last_error, '\n'));
    assert_null(strchr(r.last_error, '\r'));
    afb_health_probe_result(&r, T0 + SEC(3), 0, 0, NULL, &cfg, NULL);
    assert_string_equal(r.last_error, "probe failed");
}

static void test_reason_utf8_boundary(void **state)
{
    afb_health_rec_t r = fresh("adfs");
    char msg[AFB_HEALTH_ERROR_MAX + 8];
    size_t i;

    /* "ab" then two-byte characters: the 159-byte cap falls in the middle of one. */
    msg[0] = 'a';
    msg[1] = 'b';
    for (i = 2; i + 1 < sizeof(msg) - 1; i += 2) {
        msg[i] = (char)0xC3;
        msg[i + 1] = (char)0xA9;
    }
    msg[i] = '\0';
    afb_health_probe_result(&r, T0, 0, 0, msg, &cfg, NULL);
    i = strlen(r.last_error);
    assert_int_equal(i, AFB_HEALTH_ERROR_MAX - 2);
    assert_int_equal((unsigned char)r.last_error[i - 1], 0xA9);
}

static void test_counters(void **state)
{
    afb_health_rec_t r = fresh("adfs");

    afb_health_count(&r, AFB_HEALTH_COUNT_SUCCESS);
    afb_health_count(&r, AFB_HEALTH_COUNT_SUCCESS);
    afb_health_count(&r, AFB_HEALTH_COUNT_FAILURE);
    afb_health_count(&r, AFB_HEALTH_COUNT_FALLBACK);
    assert_int_equal(r.auth_successes, 2);
    assert_int_equal(r.auth_failures, 1);
    assert_int_equal(r.fallbacks, 1);
}

static void test_names(void **state)
{
    assert_string_equal(afb_health_state_name(AFB_HEALTH_UP), "UP");
    assert_string_equal(afb_health_state_name(AFB_HEALTH_DOWN), "DOWN");
    assert_string_equal(afb_health_state_name(AFB_HEALTH_UNKNOWN), "UNKNOWN");
    assert_string_equal(afb_health_override_name(AFB_OVERRIDE_AUTO), "auto");
    assert_string_equal(afb_health_override_name(AFB_OVERRIDE_DOWN), "down");
}

static void test_cfg_from_provider(void **state)
{
    afb_provider_conf_t pc;
    afb_health_cfg_t c;

    memset(&pc, 0, sizeof(pc));
    pc.interval = SEC(10);
    pc.fall = 5;
    afb_health_cfg_from_provider(&c, &pc);
    assert_int_equal(c.interval, SEC(10));
    assert_int_equal(c.timeout, SEC(2));
    assert_int_equal(c.fall, 5);
    assert_int_equal(c.rise, 2);
}

/* ---- The table ---- */

static void *table_mem(unsigned n, apr_size_t *size)
{
    *size = afb_health_table_size(n);
    return aligned_alloc(8, (*size + 7) & ~(apr_size_t)7);
}

static void test_table_layout_and_find(void **state)
{
    const char *names[] = { "adfs", "ldap", "duo" };
    apr_size_t size;
    void *mem = table_mem(3, &size);
    afb_health_table_t *t = NULL;

    assert_int_equal(size, afb_health_table_size(0) + 3 * sizeof(afb_health_rec_t));
    assert_true(afb_health_table_size(4) > size);
    assert_int_equal(afb_health_table_init(mem, size - 1, 3, names, T0, &t), AFB_ETOOBIG);
    assert_null(t);
    assert_int_equal(afb_health_table_init(mem, size, 3, names, T0, &t), AFB_OK);
    assert_ptr_equal(t, mem);
    assert_int_equal(t->nrecs, 3);
    assert_int_equal(t->generation, 1);
    assert_string_equal(afb_health_table_find(t, "duo")->name, "duo");
    assert_ptr_equal(afb_health_table_find(t, "ldap"), &t->recs[1]);
    assert_null(afb_health_table_find(t, "radius"));
    assert_null(afb_health_table_find(t, "ad"));
    assert_ptr_equal(afb_health_table_attach(mem, size), t);
    assert_true(afb_health_available(&t->recs[0]));
    free(mem);
}

static void test_table_rejects_bad_names(void **state)
{
    const char *dup[] = { "adfs", "adfs" };
    const char *longn[] = { "abcdefghijabcdefghijabcdefghijabc" };
    apr_size_t size;
    void *mem = table_mem(2, &size);
    afb_health_table_t *t = NULL;

    assert_int_equal(afb_health_table_init(mem, size, 2, dup, T0, &t), AFB_EINVAL);
    assert_int_equal(afb_health_table_init(mem, size, 1, longn, T0, &t), AFB_EINVAL);
    assert_null(t);
    free(mem);
}

static void test_table_attach_rejects_foreign(void **state)
{
    const char *names[] = { "adfs" };
    apr_size_t size;
    void *mem = table_mem(1, &size);
    afb_health_table_t *t;

    memset(mem, 0, size);
    assert_null(afb_health_table_attach(mem, size));
    assert_int_equal(afb_health_table_init(mem, size, 1, names, T0, &t), AFB_OK);
    assert_null(afb_health_table_attach(mem, size - 1));
    t->version = AFB_HEALTH_VERSION + 1;
    assert_null(afb_health_table_attach(mem, size));
    t->version = AFB_HEALTH_VERSION;
    t->recs[0].state = 77;
    assert_null(afb_health_table_attach(mem, size));
    t->recs[0].state = AFB_HEALTH_UP;
    memset(t->recs[0].name, 'a', sizeof(t->recs[0].name));
    assert_null(afb_health_table_attach(mem, size));
    free(mem);
}

static void test_table_adopt_across_restart(void **state)
{
    const char *before[] = { "adfs", "ldap", "duo" };
    const char *after[] = { "duo", "adfs", "radius" }; /* ldap removed, radius added */
    apr_size_t osize, nsize;
    void *omem = table_mem(3, &osize), *nmem = table_mem(3, &nsize);
    afb_health_table_t *old, *nt;
    afb_health_rec_t *adfs;
    apr_time_t restart = T0 + SEC(1) + MS(100); /* before adfs's next probe was due */

    assert_int_equal(afb_health_table_init(omem, osize, 3, before, T0, &old), AFB_OK);
    adfs = afb_health_table_find(old, "adfs");
    probe(adfs, T0, 0, NULL);
    probe(adfs, T0 + SEC(1), 0, NULL);
    afb_health_set_override(afb_health_table_find(old, "duo"), AFB_OVERRIDE_DOWN, NULL);
    afb_health_count(afb_health_table_find(old, "duo"), AFB_HEALTH_COUNT_SUCCESS);
    afb_health_begin_probe(afb_health_table_find(old, "duo"), T0 + SEC(1), SEC(2));

    assert_false(afb_health_is_due(afb_health_table_find(old, "adfs"), restart));
    assert_false(afb_health_is_due(afb_health_table_find(old, "duo"), restart));

    assert_int_equal(afb_health_table_init(nmem, nsize, 3, after, restart, &nt), AFB_OK);
    assert_int_equal(afb_health_table_adopt(nt, afb_health_table_attach(omem, osize), restart),
                     2);
    assert_int_equal(nt->generation, 2);

    adfs = afb_health_table_find(nt, "adfs");
    assert_false(afb_health_available(adfs));
    assert_int_equal(adfs->transitions, 1);
    assert_string_equal(adfs->last_error, "connection refused");
    assert_true(afb_health_is_due(adfs, restart));

    assert_false(afb_health_available(afb_health_table_find(nt, "duo")));
    assert_int_equal(afb_health_table_find(nt, "duo")->auth_successes, 1);
    assert_true(afb_health_is_due(afb_health_table_find(nt, "duo"), restart));

    assert_int_equal(afb_health_effective_state(afb_health_table_find(nt, "radius")),
                     AFB_HEALTH_UNKNOWN);
    assert_null(afb_health_table_find(nt, "ldap"));
    assert_non_null(afb_health_table_attach(nmem, nsize));
    free(omem);
    free(nmem);
}

static void test_table_adopt_ignores_foreign(void **state)
{
    const char *names[] = { "adfs" };
    apr_size_t size;
    void *mem = table_mem(1, &size), *junk = calloc(1, size);
    afb_health_table_t *t;

    assert_int_equal(afb_health_table_init(mem, size, 1, names, T0, &t), AFB_OK);
    assert_int_equal(afb_health_table_adopt(t, junk, T0), 0);
    assert_int_equal(afb_health_table_adopt(t, NULL, T0), 0);
    assert_int_equal(t->generation, 1);
    free(mem);
    free(junk);
}

static void test_table_heartbeat(void **state)
{
    const char *names[] = { "adfs" };
    apr_size_t size;
    void *mem = table_mem(1, &size);
    afb_health_table_t *t;

    assert_int_equal(afb_health_table_init(mem, size, 1, names, T0, &t), AFB_OK);
    assert_true(afb_health_table_checker_stale(t, T0, SEC(10)));
    afb_health_table_heartbeat(t, T0);
    assert_false(afb_health_table_checker_stale(t, T0 + SEC(10), SEC(10)));
    assert_true(afb_health_table_checker_stale(t, T0 + SEC(11), SEC(10)));
    free(mem);
}

/* depends=: entra depends on adfs, portal on entra. adfs DOWN takes both down, with the
 * first unavailable dependency as the cause; an override UP wins over the derived state. */
static void test_derived_state_follows_dependencies(void **state)
{
    const char *names[] = { "adfs", "entra", "portal" };
    static char mem[4096] __attribute__((aligned(16)));
    afb_health_deps_t deps[3] = { { 0, {0} }, { 1, {0} }, { 1, {1} } };
    afb_health_table_t *t;
    apr_array_header_t *ch;
    apr_pool_t *p;
    afb_health_dep_change_t *c;
    (void)state;

    apr_pool_create(&p, NULL);
    assert_true(afb_health_table_size(3) <= sizeof(mem));
    assert_int_equal(afb_health_table_init(mem, sizeof(mem), 3, names, T0, &t), AFB_OK);
    for (int i = 0; i < 3; i++)
        probe(&t->recs[i], T0, 1, NULL);
    assert_int_equal(afb_health_table_derive(p, t, deps)->nelts, 0);
    while (t->recs[0].state != AFB_HEALTH_DOWN)
        probe(&t->recs[0], T0 + SEC(1), 0, NULL);
    ch = afb_health_table_derive(p, t, deps);
    assert_int_equal(ch->nelts, 2);
    c = &APR_ARRAY_IDX(ch, 0, afb_health_dep_change_t);
    assert_int_equal(c->index, 1);
    assert_int_equal(c->tr.from, AFB_HEALTH_UP);
    assert_int_equal(c->tr.to, AFB_HEALTH_DOWN);
    assert_string_equal(c->tr.reason, "depends on adfs, which is DOWN");
    assert_string_equal(t->recs[2].dep_cause, "depends on entra, which is DOWN");
    assert_false(afb_health_available(&t->recs[2]));
    assert_int_equal(t->recs[1].state, AFB_HEALTH_UP); /* the probed state is its own */
    /* Stable: nothing changes on the next pass. */
    assert_int_equal(afb_health_table_derive(p, t, deps)->nelts, 0);
    /* The operator forces entra up: it and portal are available again. */
    afb_health_set_override(&t->recs[1], AFB_OVERRIDE_UP, NULL);
    assert_true(afb_health_available(&t->recs[1]));
    assert_int_equal(afb_health_table_derive(p, t, deps)->nelts, 1);
    assert_true(afb_health_available(&t->recs[2]));
    afb_health_set_override(&t->recs[1], AFB_OVERRIDE_AUTO, NULL);
    afb_health_table_derive(p, t, deps);
    /* adfs back UP: both follow. */
    while (t->recs[0].state != AFB_HEALTH_UP)
        probe(&t->recs[0], T0 + SEC(10), 1, NULL);
    ch = afb_health_table_derive(p, t, deps);
    assert_int_equal(ch->nelts, 2);
    assert_string_equal(APR_ARRAY_IDX(ch, 0, afb_health_dep_change_t).tr.reason,
                        "its dependencies are available");
    assert_true(afb_health_available(&t->recs[2]));
    assert_string_equal(t->recs[2].dep_cause, "");
    apr_pool_destroy(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_record_unknown_available_due),
        cmocka_unit_test(test_init_rejects_long_name),
        cmocka_unit_test(test_unknown_first_pass_is_up),
        cmocka_unit_test(test_unknown_needs_fall_failures),
        cmocka_unit_test(test_up_to_down_after_fall),
        cmocka_unit_test(test_down_to_up_after_rise),
        cmocka_unit_test(test_steady_states_no_transition),
        cmocka_unit_test(test_flapping_never_down),
        cmocka_unit_test(test_flapping_while_down_stays_down),
        cmocka_unit_test(test_rise_fall_of_one),
        cmocka_unit_test(test_schedule_after_pass_and_failure),
        cmocka_unit_test(test_fast_reprobe_never_later_than_interval),
        cmocka_unit_test(test_jitter_bounded_deterministic_and_spread),
        cmocka_unit_test(test_same_history_same_schedule),
        cmocka_unit_test(test_inflight_blocks_until_deadline),
        cmocka_unit_test(test_result_clears_inflight),
        cmocka_unit_test(test_passive_never_changes_state_due_now),
        cmocka_unit_test(test_passive_on_down_or_unknown_keeps_state),
        cmocka_unit_test(test_passive_not_sooner_than_fast_reprobe),
        cmocka_unit_test(test_passive_does_not_delay),
        cmocka_unit_test(test_override_precedence),
        cmocka_unit_test(test_reason_truncated_and_sanitized),
        cmocka_unit_test(test_reason_utf8_boundary),
        cmocka_unit_test(test_counters),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_cfg_from_provider),
        cmocka_unit_test(test_table_layout_and_find),
        cmocka_unit_test(test_table_rejects_bad_names),
        cmocka_unit_test(test_table_attach_rejects_foreign),
        cmocka_unit_test(test_table_adopt_across_restart),
        cmocka_unit_test(test_table_adopt_ignores_foreign),
        cmocka_unit_test(test_table_heartbeat),
        cmocka_unit_test(test_derived_state_follows_dependencies),
    };

    apr_initialize();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
