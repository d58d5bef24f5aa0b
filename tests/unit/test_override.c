/* The override file: good lines apply whatever else is in the file, bad lines are reported
 * by number, a repeated name keeps the last line, caps on size and lines, and applying a
 * list to the health table (a removed line lifts its override). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <apr_general.h>
#include <apr_strings.h>
#include "authfb/override.h"

#define SEC(n) ((apr_time_t)(n) * APR_USEC_PER_SEC)
#define T0 SEC(1700000000)

static const char *const known[] = { "adfs", "azure", "local", "duo" };

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

static afb_override_list_t *parse(apr_pool_t *p, const char *text)
{
    afb_override_list_t *l = NULL;

    assert_int_equal(afb_override_parse(p, text, strlen(text), known, 4, &l), AFB_OK);
    assert_non_null(l);
    return l;
}

static const char *warning(const afb_override_list_t *l, int i)
{
    assert_true(i < l->warnings->nelts);
    return APR_ARRAY_IDX(l->warnings, i, const char *);
}

static void test_good_file(void **state)
{
    afb_override_list_t *l = parse(*state, "# maintenance window\n"
                                           "\n"
                                           "adfs down\n"
                                           "  azure\t up   # back after the fix\r\n"
                                           "local AUTO\n");

    assert_int_equal(l->warnings->nelts, 0);
    assert_int_equal(l->entries->nelts, 3);
    assert_int_equal(afb_override_lookup(l, "adfs"), AFB_OVERRIDE_DOWN);
    assert_int_equal(afb_override_lookup(l, "azure"), AFB_OVERRIDE_UP);
    assert_int_equal(afb_override_lookup(l, "local"), AFB_OVERRIDE_AUTO);
    assert_int_equal(afb_override_lookup(l, "duo"), AFB_OVERRIDE_AUTO);
    assert_int_equal(APR_ARRAY_IDX(l->entries, 1, afb_override_entry_t).line, 4);
}

static void test_empty_and_no_final_newline(void **state)
{
    afb_override_list_t *l = parse(*state, "");

    assert_int_equal(l->entries->nelts, 0);
    assert_int_equal(l->warnings->nelts, 0);
    l = parse(*state, "adfs down");
    assert_int_equal(afb_override_lookup(l, "adfs"), AFB_OVERRIDE_DOWN);
}

static void test_malformed_lines_reported_good_lines_kept(void **state)
{
    afb_override_list_t *l = parse(*state, "adfs\n"
                                           "azure sideways\n"
                                           "local down now\n"
                                           "bad/name down\n"
                                           "ldap down\n"
                                           "duo down\n");

    /* adfs, azure and local are kept as they are; duo is set. */
    assert_int_equal(l->entries->nelts, 4);
    assert_true(APR_ARRAY_IDX(l->entries, 0, afb_override_entry_t).keep);
    assert_string_equal(APR_ARRAY_IDX(l->entries, 1, afb_override_entry_t).error,
                        "line 2: unknown state 'sideways' (expected auto, up, down, release or drill)");
    assert_false(APR_ARRAY_IDX(l->entries, 3, afb_override_entry_t).keep);
    assert_int_equal(afb_override_lookup(l, "duo"), AFB_OVERRIDE_DOWN);
    assert_int_equal(afb_override_lookup(l, "azure"), AFB_OVERRIDE_AUTO);
    assert_int_equal(afb_override_lookup(l, "local"), AFB_OVERRIDE_AUTO);
    assert_int_equal(l->warnings->nelts, 5);
    assert_string_equal(warning(l, 0), "line 1: expected NAME auto|up|down|release|drill ARG");
    assert_string_equal(warning(l, 1),
                        "line 2: unknown state 'sideways' (expected auto, up, down, release or drill)");
    assert_string_equal(warning(l, 2), "line 3: unexpected text after 'down'");
    assert_string_equal(warning(l, 3),
                        "line 4: invalid provider name (1-32 of A-Z a-z 0-9 _ . -)");
    assert_string_equal(warning(l, 4), "line 5: unknown provider 'ldap'");
}

static void test_duplicate_last_wins(void **state)
{
    afb_override_list_t *l = parse(*state, "adfs down\nazure up\nadfs auto\n");

    assert_int_equal(afb_override_lookup(l, "adfs"), AFB_OVERRIDE_AUTO);
    assert_int_equal(l->entries->nelts, 2);
    assert_int_equal(l->warnings->nelts, 1);
    assert_string_equal(warning(l, 0), "line 3: 'adfs' repeats line 1; the last line wins");
}

static void test_control_chars_and_nul(void **state)
{
    static const char text[] = "adfs\0down\nazure\x1b[2Jup\nduo down\n";
    afb_override_list_t *l = NULL;

    assert_int_equal(afb_override_parse(*state, text, sizeof(text) - 1, known, 4, &l), AFB_OK);
    assert_int_equal(l->entries->nelts, 1);
    assert_int_equal(afb_override_lookup(l, "duo"), AFB_OVERRIDE_DOWN);
    assert_int_equal(afb_override_lookup(l, "adfs"), AFB_OVERRIDE_AUTO);
    assert_string_equal(warning(l, 0), "line 1: control characters");
    assert_string_equal(warning(l, 1), "line 2: control characters");
}

static void test_long_line(void **state)
{
    apr_pool_t *p = *state;
    char *pad = apr_palloc(p, 300);
    afb_override_list_t *l;

    memset(pad, ' ', 299);
    pad[299] = '\0';
    l = parse(p, apr_pstrcat(p, "adfs down", pad, "\nduo down\n", NULL));
    assert_int_equal(afb_override_lookup(l, "adfs"), AFB_OVERRIDE_AUTO);
    assert_int_equal(afb_override_lookup(l, "duo"), AFB_OVERRIDE_DOWN);
    assert_string_equal(warning(l, 0), "line 1: longer than 256 characters");
}

static void test_size_cap(void **state)
{
    apr_pool_t *p = *state;
    apr_size_t len = AFB_OVERRIDE_MAX_BYTES + 1;
    char *big = apr_palloc(p, len);
    afb_override_list_t *l = NULL;

    memset(big, '\n', len);
    memcpy(big, "adfs down", 9);
    assert_int_equal(afb_override_parse(p, big, len, known, 4, &l), AFB_ETOOBIG);
    assert_null(l);
    assert_int_equal(afb_override_parse(p, big, len - 1, known, 4, &l), AFB_OK);
}

static void test_line_cap(void **state)
{
    apr_pool_t *p = *state;
    apr_size_t n = AFB_OVERRIDE_MAX_LINES;
    char *text = apr_palloc(p, n + 64);
    afb_override_list_t *l;

    memset(text, '\n', n);
    apr_cpystrn(text + n, "adfs down\nazure down\n", 64);
    l = parse(p, text);
    assert_int_equal(l->warnings->nelts, 1);
    assert_string_equal(warning(l, 0), "line 1025: more than 1024 lines; the rest is ignored");
    assert_int_equal(afb_override_lookup(l, "adfs"), AFB_OVERRIDE_AUTO);

    memcpy(text + n - 1, "duo down\n", 10); /* line 1024 itself still counts */
    l = parse(p, text);
    assert_int_equal(afb_override_lookup(l, "duo"), AFB_OVERRIDE_DOWN);
}

static void test_any_name_without_known_list(void **state)
{
    afb_override_list_t *l = NULL;
    const char *text = "ldap down\n";

    assert_int_equal(afb_override_parse(*state, text, strlen(text), NULL, 0, &l), AFB_OK);
    assert_int_equal(afb_override_lookup(l, "ldap"), AFB_OVERRIDE_DOWN);
}

static void test_apply_to_table(void **state)
{
    apr_pool_t *p = *state;
    const char *names[] = { "adfs", "azure", "local" };
    apr_size_t size = afb_health_table_size(3);
    afb_health_table_t *t;
    apr_array_header_t *ch;
    afb_override_change_t *c;

    assert_int_equal(afb_health_table_init(apr_pcalloc(p, size), size, 3, names, T0, &t),
                     AFB_OK);
    ch = afb_override_apply(p, t, parse(p, "adfs down\nazure auto\n"));
    assert_int_equal(ch->nelts, 1);
    c = &APR_ARRAY_IDX(ch, 0, afb_override_change_t);
    assert_string_equal(c->name, "adfs");
    assert_int_equal(c->from, AFB_OVERRIDE_AUTO);
    assert_int_equal(c->to, AFB_OVERRIDE_DOWN);
    assert_int_equal(c->effective.from, AFB_HEALTH_UNKNOWN);
    assert_int_equal(c->effective.to, AFB_HEALTH_DOWN);
    assert_false(afb_health_available(afb_health_table_find(t, "adfs")));
    assert_true(afb_health_available(afb_health_table_find(t, "azure")));

    /* The same file again changes nothing. */
    assert_int_equal(afb_override_apply(p, t, parse(p, "adfs down\n"))->nelts, 0);
    /* The line was deleted (or the file removed): the override is lifted. */
    ch = afb_override_apply(p, t, afb_override_list_empty(p));
    assert_int_equal(ch->nelts, 1);
    assert_true(afb_health_available(afb_health_table_find(t, "adfs")));
}

/* `NAME release` releases the store copy held at that moment, once; it is not an override. */
static void test_release_line(void **state)
{
    apr_pool_t *p = *state;
    const char *names[] = { "adfs", "local" };
    apr_size_t size = afb_health_table_size(2);
    afb_health_table_t *t;
    afb_health_rec_t *local;
    apr_array_header_t *ch;
    afb_override_change_t *c;
    afb_override_list_t *l = parse(p, "local release\nadfs down\n");

    assert_int_equal(l->good_lines, 2);
    assert_int_equal(l->releases->nelts, 1);
    assert_int_equal(afb_override_lookup(l, "local"), AFB_OVERRIDE_AUTO);
    assert_int_equal(parse(p, "nobody release\nlocal up\n")->releases->nelts, 0);
    assert_int_equal(afb_health_table_init(apr_pcalloc(p, size), size, 2, names, T0, &t),
                     AFB_OK);
    local = afb_health_table_find(t, "local");
    /* Nothing held: the line is taken note of and does nothing. */
    ch = afb_override_apply(p, t, parse(p, "local release\n"));
    assert_int_equal(ch->nelts, 0);
    local->store_held = 1;
    local->store_held_sig = 77;
    local->store_held_users = 3;
    /* The line was already there: a copy held later is not released by it. */
    assert_int_equal(afb_override_apply(p, t, parse(p, "local release\n"))->nelts, 0);
    assert_true(local->store_released_sig == 0);
    /* Removed, then written again: releases the copy held now, once. */
    assert_int_equal(afb_override_apply(p, t, afb_override_list_empty(p))->nelts, 0);
    ch = afb_override_apply(p, t, parse(p, "local release\n"));
    assert_int_equal(ch->nelts, 1);
    c = &APR_ARRAY_IDX(ch, 0, afb_override_change_t);
    assert_string_equal(c->name, "local");
    assert_true(c->released);
    assert_int_equal(c->held_users, 3);
    assert_true(local->store_released_sig == 77);
    assert_int_equal(local->override, AFB_OVERRIDE_AUTO);
    assert_int_equal(afb_override_apply(p, t, parse(p, "local release\n"))->nelts, 0);
}

/* `NAME drill ARG` is a row of the verb table: it sets the provider's drill beside its
 * override, a removed line ends it, and a bad argument is a warning that keeps the drill. */
static void test_drill_line(void **state)
{
    apr_pool_t *p = *state;
    const char *names[] = { "adfs", "local" };
    apr_size_t size = afb_health_table_size(2);
    afb_health_table_t *t;
    afb_health_rec_t *adfs;
    apr_array_header_t *ch;
    afb_override_change_t *c;
    afb_override_list_t *l = parse(p, "adfs drill 5%\nlocal drill 10.1.0.0/16,::1\n");

    assert_int_equal(l->good_lines, 2);
    assert_int_equal(l->warnings->nelts, 0);
    assert_int_equal(afb_override_lookup(l, "adfs"), AFB_OVERRIDE_AUTO);
    assert_int_equal(afb_health_table_init(apr_pcalloc(p, size), size, 2, names, T0, &t),
                     AFB_OK);
    adfs = afb_health_table_find(t, "adfs");
    ch = afb_override_apply(p, t, l);
    assert_int_equal(ch->nelts, 2);
    c = &APR_ARRAY_IDX(ch, 0, afb_override_change_t);
    assert_string_equal(c->name, "adfs");
    assert_true(c->drill_changed);
    assert_string_equal(c->drill_from, "");
    assert_string_equal(c->drill_to, "5%");
    assert_int_equal(c->from, c->to);
    assert_int_equal(c->effective.from, c->effective.to);
    assert_int_equal(adfs->drill.percent, 5);
    /* A drill never changes the state: the provider stays available to everyone else. */
    assert_true(afb_health_available(adfs));
    assert_string_equal(APR_ARRAY_IDX(ch, 1, afb_override_change_t).drill_to,
                        "10.1.0.0/16,::1/128");
    /* The same file again: nothing. A drill and a down line for one name: both hold. */
    assert_int_equal(afb_override_apply(p, t, l)->nelts, 0);
    ch = afb_override_apply(p, t, parse(p, "adfs drill 5%\nadfs down\n"));
    assert_int_equal(ch->nelts, 2); /* adfs down; local's drill ended */
    assert_int_equal(adfs->drill.percent, 5);
    assert_false(afb_health_available(adfs));
    /* A bad argument: a warning; the drill (and override) it had stay. */
    l = parse(p, "adfs drill 150%\nlocal up\n");
    assert_int_equal(l->bad_lines, 1);
    assert_non_null(strstr(warning(l, 0), "line 1: drill: percent must be 1..100"));
    afb_override_apply(p, t, l);
    assert_int_equal(adfs->drill.percent, 5);
    /* The line removed: the drill ends. */
    ch = afb_override_apply(p, t, afb_override_list_empty(p));
    assert_int_equal(adfs->drill.percent, 0);
    assert_false(afb_drill_active(&adfs->drill));
    /* Without an argument, or with two. */
    assert_int_equal(afb_override_parse(p, "adfs drill\n", 11, known, 4, &l), AFB_EINVAL);
    assert_non_null(strstr(warning(l, 0), "'drill' needs an argument"));
    assert_int_equal(afb_override_parse(p, "adfs drill 5% x\n", 16, known, 4, &l), AFB_EINVAL);
    /* Repeated: the last line wins, with a warning. */
    l = parse(p, "adfs drill 5%\nadfs drill 100%\n");
    assert_int_equal(l->warnings->nelts, 1);
    afb_override_apply(p, t, l);
    assert_int_equal(adfs->drill.percent, 100);
}

/* A typo for a provider taken out of use keeps it out of use; other lines still apply. */
static void test_bad_line_keeps_previous_override(void **state)
{
    apr_pool_t *p = *state;
    const char *names[] = { "adfs", "azure", "local" };
    apr_size_t size = afb_health_table_size(3);
    afb_health_table_t *t;
    apr_array_header_t *ch;

    assert_int_equal(afb_health_table_init(apr_pcalloc(p, size), size, 3, names, T0, &t),
                     AFB_OK);
    assert_int_equal(afb_override_apply(p, t, parse(p, "adfs down\nazure up\n"))->nelts, 2);
    ch = afb_override_apply(p, t, parse(p, "adfs dwon\nlocal down\n"));
    assert_int_equal(ch->nelts, 2); /* azure back to auto, local down; adfs untouched */
    assert_int_equal(afb_health_table_find(t, "adfs")->override, AFB_OVERRIDE_DOWN);
    assert_int_equal(afb_health_table_find(t, "azure")->override, AFB_OVERRIDE_AUTO);
    assert_int_equal(afb_health_table_find(t, "local")->override, AFB_OVERRIDE_DOWN);
    /* A good line for the same name does not lift the keep: the file is still wrong. */
    ch = afb_override_apply(p, t, parse(p, "adfs up\nadfs dwon\nlocal down\n"));
    assert_int_equal(ch->nelts, 0);
    assert_int_equal(afb_health_table_find(t, "adfs")->override, AFB_OVERRIDE_DOWN);
}

/* A file with no good line does not parse at all: the caller keeps the last good state. */
static void test_file_that_does_not_parse_at_all(void **state)
{
    afb_override_list_t *l = NULL;
    const char *junk = "\x7f\x45LF\x01binary\nadfs dwon\n";

    assert_int_equal(afb_override_parse(*state, junk, strlen(junk), known, 4, &l),
                     AFB_EINVAL);
    assert_non_null(l);
    assert_int_equal(l->warnings->nelts, 2);
    assert_int_equal(afb_override_parse(*state, "# only comments\n\n", 17, known, 4, &l),
                     AFB_OK);
}

static void test_load_file(void **state)
{
    apr_pool_t *p = *state;
    char path[] = "/tmp/afb-override-XXXXXX";
    int fd = mkstemp(path);
    afb_override_list_t *l = NULL;
    FILE *f;

    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    fputs("adfs down\nnope\n", f);
    fclose(f);
    assert_int_equal(afb_override_load(p, path, known, 4, &l), AFB_OK);
    assert_int_equal(afb_override_lookup(l, "adfs"), AFB_OVERRIDE_DOWN);
    assert_string_equal(warning(l, 0), "line 2: expected NAME auto|up|down|release|drill ARG");

    f = fopen(path, "w");
    for (int i = 0; i < AFB_OVERRIDE_MAX_BYTES / 8 + 1; i++)
        fputs("# pad  \n", f);
    fclose(f);
    assert_int_equal(afb_override_load(p, path, known, 4, &l), AFB_ETOOBIG);
    unlink(path);
    assert_int_equal(afb_override_load(p, path, known, 4, &l), AFB_ENOENT);
    assert_int_equal(afb_override_load(p, "/proc/self/mem/x", known, 4, &l), AFB_EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_good_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_and_no_final_newline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_lines_reported_good_lines_kept, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_last_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_control_chars_and_nul, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_size_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_line_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_any_name_without_known_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_to_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_release_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drill_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_line_keeps_previous_override, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_file_that_does_not_parse_at_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_file, setup, teardown),
    };

    apr_initialize();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
