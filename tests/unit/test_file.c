/* The one capped reader of whole files (authfb/file.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>
#include <cmocka.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "authfb/file.h"

static apr_pool_t *pool;
static char dir[] = "/tmp/afb_test_file_XXXXXX";

static int setup(void **state)
{
    (void)state;
    apr_initialize();
    if (!mkdtemp(dir))
        return -1;
    return apr_pool_create(&pool, NULL) == APR_SUCCESS ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    apr_pool_destroy(pool);
    apr_terminate();
    return 0;
}

static const char *write_file(const char *name, const char *text)
{
    const char *path = apr_pstrcat(pool, dir, "/", name, NULL);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_reads_whole_file(void **state)
{
    char *text = NULL;
    apr_size_t len = 0;
    apr_finfo_t fi;
    const char *why = NULL;
    (void)state;
    assert_int_equal(afb_file_read(pool, write_file("a", "alice:x\n"), 64, &text, &len, &fi,
                                   &why), AFB_OK);
    assert_int_equal(len, 8);
    assert_string_equal(text, "alice:x\n");
    assert_int_equal(fi.size, 8);
    assert_int_equal(fi.filetype, APR_REG);
}

static void test_refusals(void **state)
{
    char *text = NULL;
    apr_size_t len = 0;
    const char *why = NULL;
    (void)state;
    assert_int_equal(afb_file_read(pool, write_file("b", "0123456789"), 9, &text, &len, NULL,
                                   &why), AFB_ETOOBIG);
    assert_int_equal(afb_file_read(pool, write_file("c", "0123456789"), 10, &text, &len, NULL,
                                   &why), AFB_OK);
    assert_int_equal(afb_file_read(pool, apr_pstrcat(pool, dir, "/none", NULL), 10, &text,
                                   &len, NULL, &why), AFB_ENOENT);
    assert_non_null(why);
    assert_int_equal(afb_file_read(pool, dir, 10, &text, &len, NULL, &why), AFB_EINVAL);
    assert_string_equal(why, "not a regular file");
    unlink(apr_pstrcat(pool, dir, "/a", NULL));
    unlink(apr_pstrcat(pool, dir, "/b", NULL));
    unlink(apr_pstrcat(pool, dir, "/c", NULL));
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_whole_file),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
