/* Event lines: what a log shipper reads. Every line must parse back as one JSON object
 * with "time" and "event" first, whatever bytes the fields carried. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <apr_general.h>
#include <jansson.h>
#include "authfb/event.h"

#define T_FIXED ((apr_time_t)1795450951LL * APR_USEC_PER_SEC + 123456)

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

/* Checks the line shape (one trailing newline, no other) and parses it. */
static json_t *parse_line(const char *line)
{
    json_error_t err;
    size_t n;
    json_t *obj;

    assert_non_null(line);
    n = strlen(line);
    assert_true(n > 1);
    assert_int_equal(line[n - 1], '\n');
    assert_null(memchr(line, '\n', n - 1));
    obj = json_loads(line, 0, &err);
    if (obj == NULL)
        fail_msg("line does not parse: %s (%s)", line, err.text);
    assert_true(json_is_object(obj));
    return obj;
}

static const char *str_field(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    assert_non_null(v);
    assert_true(json_is_string(v));
    return json_string_value(v);
}

static void test_time_and_event_first(void **state)
{
    afb_event_t *ev = afb_event_new(*state, "auth.success", T_FIXED);
    const char *line;
    json_t *obj;

    afb_event_str(ev, "user", "alice");
    afb_event_str(ev, "path", "adfs");
    afb_event_bool(ev, "degraded", 0);
    line = afb_event_line(ev);
    assert_string_equal(line, "{\"time\":\"2026-11-23T16:22:31.123Z\",\"event\":\"auth.success\","
                              "\"user\":\"alice\",\"path\":\"adfs\",\"degraded\":false}\n");
    obj = parse_line(line);
    assert_string_equal(str_field(obj, "event"), "auth.success");
    json_decref(obj);
}

static void test_types(void **state)
{
    afb_event_t *ev = afb_event_new(*state, "x", 0);
    json_t *obj, *v;

    afb_event_int(ev, "n", -9007199254740993LL);
    afb_event_bool(ev, "b", 7);
    afb_event_str(ev, "none", NULL);
    obj = parse_line(afb_event_line(ev));
    v = json_object_get(obj, "n");
    assert_true(json_is_integer(v));
    assert_true(json_integer_value(v) == -9007199254740993LL);
    assert_true(json_is_true(json_object_get(obj, "b")));
    assert_true(json_is_null(json_object_get(obj, "none")));
    json_decref(obj);
}

static void test_quotes_and_newlines_escaped(void **state)
{
    static const char *nasty = "a\"b\\c\nd\re\tf\x01g</script>";
    afb_event_t *ev = afb_event_new(*state, "auth.failure", 0);
    const char *line;
    json_t *obj;

    afb_event_str(ev, "user", nasty);
    line = afb_event_line(ev);
    assert_null(strchr(line, '\r'));
    assert_null(strchr(line, '\t'));
    obj = parse_line(line);
    assert_string_equal(str_field(obj, "user"), nasty);
    /* A user name cannot forge a second field. */
    assert_int_equal(json_object_size(obj), 3);
    json_decref(obj);
}

static void check_repaired(apr_pool_t *p, const char *in, const char *expect)
{
    afb_event_t *ev = afb_event_new(p, "auth.failure", 0);
    json_t *obj;

    afb_event_str(ev, "user", in);
    afb_event_str(ev, "after", "still here");
    obj = parse_line(afb_event_line(ev));
    assert_string_equal(str_field(obj, "user"), expect);
    assert_string_equal(str_field(obj, "after"), "still here");
    json_decref(obj);
}

#define FFFD "\xEF\xBF\xBD"

static void test_invalid_utf8_replaced(void **state)
{
    apr_pool_t *p = *state;

    check_repaired(p, "a\xff" "b", "a" FFFD "b");
    check_repaired(p, "\xC0\xAF", FFFD FFFD);         /* overlong '/' */
    check_repaired(p, "\xED\xA0\x80", FFFD FFFD FFFD); /* surrogate */
    check_repaired(p, "x\xE2\x82", "x" FFFD FFFD);     /* truncated */
    check_repaired(p, "\xF4\x90\x80\x80", FFFD FFFD FFFD FFFD); /* above U+10FFFF */
    check_repaired(p, "\x80", FFFD);                  /* stray continuation */
    /* Valid multi-byte text passes unchanged. */
    {
        static const char *ok = "J\xC3\xBCrgen \xE2\x82\xAC \xF0\x9F\x94\x91";
        check_repaired(p, ok, ok);
    }
}

static void test_long_value_capped_on_character(void **state)
{
    apr_pool_t *p = *state;
    size_t n = 5000, i;
    char *big = apr_palloc(p, n + 1);
    afb_event_t *ev = afb_event_new(p, "auth.failure", 0);
    const char *v;
    json_t *obj;

    /* "x" then 'é' (2 bytes) repeated: the 1024-byte cap falls inside a character. */
    big[0] = 'x';
    for (i = 1; i + 2 <= n; i += 2)
        memcpy(big + i, "\xC3\xA9", 2);
    big[i] = '\0';
    afb_event_str(ev, "user", big);
    obj = parse_line(afb_event_line(ev));
    v = str_field(obj, "user");
    assert_true(strlen(v) <= 1024);
    assert_true(strlen(v) >= 1000);
    assert_int_equal(strlen(v) % 2, 1); /* "x" plus whole characters */
    assert_null(strstr(v, FFFD));
    json_decref(obj);
}

static void test_invalid_event_name_and_key(void **state)
{
    afb_event_t *ev = afb_event_new(*state, "bad\xff", 0);
    json_t *obj;

    afb_event_str(ev, "k\xfe", "v");
    obj = parse_line(afb_event_line(ev));
    assert_string_equal(str_field(obj, "event"), "bad" FFFD);
    assert_string_equal(str_field(obj, "k" FFFD), "v");
    json_decref(obj);
}

static void test_line_twice_and_after(void **state)
{
    afb_event_t *ev = afb_event_new(*state, "health.transition", 0);
    const char *a, *b;

    afb_event_str(ev, "provider", "adfs");
    a = afb_event_line(ev);
    afb_event_str(ev, "late", "ignored");
    b = afb_event_line(ev);
    assert_non_null(a);
    assert_string_equal(a, b);
    assert_null(strstr(b, "late"));
}

static void test_unfinished_event_released(void **state)
{
    apr_pool_t *sub;

    /* The pool cleanup releases the JSON object; under ASan a leak would show. */
    apr_pool_create(&sub, *state);
    afb_event_str(afb_event_new(sub, "x", 0), "k", "v");
    apr_pool_destroy(sub);
}

static void test_rfc3339(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(afb_rfc3339(p, 0), "1970-01-01T00:00:00.000Z");
    assert_string_equal(afb_rfc3339(p, T_FIXED), "2026-11-23T16:22:31.123Z");
    assert_string_equal(afb_rfc3339(p, (apr_time_t)951782400LL * APR_USEC_PER_SEC + 999999),
                        "2000-02-29T00:00:00.999Z");
    assert_string_equal(afb_rfc3339(p, (apr_time_t)4102444799LL * APR_USEC_PER_SEC),
                        "2099-12-31T23:59:59.000Z");
    assert_string_equal(afb_rfc3339(p, -1), "1970-01-01T00:00:00.000Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_time_and_event_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quotes_and_newlines_escaped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_utf8_replaced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_value_capped_on_character, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_event_name_and_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_line_twice_and_after, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unfinished_event_released, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rfc3339, setup, teardown),
    };
    int rc;

    apr_initialize();
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_terminate();
    return rc;
}
