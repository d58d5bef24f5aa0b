/* Injected logging: what the adapter's callback receives. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "authfb/log.h"
#include "authfb/common.h"

typedef struct {
    int calls;
    void *baton;
    afb_log_level_t level;
    int tag;
    char msg[4096];
    size_t len;
} record_t;

static void record_cb(void *baton, afb_log_level_t level, int tag, const char *msg)
{
    record_t *r = baton;

    r->calls++;
    r->baton = baton;
    r->level = level;
    r->tag = tag;
    r->len = strlen(msg);
    if (r->len < sizeof(r->msg))
        memcpy(r->msg, msg, r->len + 1);
}

static int reset(void **state)
{
    (void)state;
    afb_log_set(NULL, NULL);
    return 0;
}

static void test_default_is_silent(void **state)
{
    (void)state;
    afb_log(AFB_LOG_ERR, 1001, "nobody listens: %s", "ok"); /* must not crash */
}

static void test_callback_receives_fields(void **state)
{
    record_t r = { 0 };

    (void)state;
    afb_log_set(record_cb, &r);
    afb_log(AFB_LOG_WARN, 1001, "provider %s %s -> %s (%d/%d)", "adfs", "UP", "DOWN", 2, 2);
    assert_int_equal(r.calls, 1);
    assert_ptr_equal(r.baton, &r);
    assert_int_equal(r.level, AFB_LOG_WARN);
    assert_int_equal(r.tag, 1001);
    assert_string_equal(r.msg, "provider adfs UP -> DOWN (2/2)");
}

static void test_long_message_truncated(void **state)
{
    record_t r = { 0 };
    char big[5000];

    (void)state;
    memset(big, 'A', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    afb_log_set(record_cb, &r);
    afb_log(AFB_LOG_INFO, 2002, "start %s end", big);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.level, AFB_LOG_INFO);
    assert_int_equal(r.tag, 2002);
    assert_int_equal(r.len, 2047); /* 2 KiB buffer, NUL-terminated */
    assert_memory_equal(r.msg, "start AAAA", 10);
    assert_null(strstr(r.msg, "end"));
}

static void test_unset_stops_delivery(void **state)
{
    record_t r = { 0 };

    (void)state;
    afb_log_set(record_cb, &r);
    afb_log(AFB_LOG_DEBUG, 0, "one");
    afb_log_set(NULL, NULL);
    afb_log(AFB_LOG_DEBUG, 0, "two");
    assert_int_equal(r.calls, 1);
    assert_string_equal(r.msg, "one");
    assert_int_equal(r.level, AFB_LOG_DEBUG);
}

static void test_status_names(void **state)
{
    (void)state;
    assert_string_equal(afb_status_str(AFB_OK), "ok");
    assert_string_equal(afb_status_str(AFB_EIO), "backend error");
    assert_string_equal(afb_status_str(AFB_EREPLAY), "replayed");
    assert_string_equal(afb_status_str(AFB_EANSWER), "unusable answer");
    assert_string_equal(afb_status_str((afb_status_t)99), "unknown status");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_default_is_silent, reset),
        cmocka_unit_test_teardown(test_callback_receives_fields, reset),
        cmocka_unit_test_teardown(test_long_message_truncated, reset),
        cmocka_unit_test_teardown(test_unset_stops_delivery, reset),
        cmocka_unit_test(test_status_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
