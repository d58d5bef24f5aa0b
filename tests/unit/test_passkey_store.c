/* Unit tests of the stores the module writes: the passkey store (parse with skipped records,
 * edits, format), the locked atomic rewrite, and TOTP enrollment (secrets, otpauth URI, store
 * lines, QR code). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "authfb/file.h"
#include "authfb/passkey.h"
#include "authfb/qr.h"
#include "authfb/storefile.h"
#include "authfb/totp.h"
#include "authfb/util.h"
#include "webauthn_vectors.h"

static apr_pool_t *pool;
static char tmpdir[] = "/tmp/afb-passkey-XXXXXX";

static int setup(void **state)
{
    (void)state;
    if (apr_pool_create(&pool, NULL) != APR_SUCCESS || mkdtemp(tmpdir) == NULL)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    const char *files[] = {"/passkeys", "/passkeys.lock"};

    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        apr_file_remove(apr_pstrcat(pool, tmpdir, files[i], NULL), pool);
    apr_dir_remove(tmpdir, pool);
    apr_pool_destroy(pool);
    return 0;
}

static const char *es_line(const char *user, const char *id, unsigned count, const char *label)
{
    return apr_psprintf(pool, "%s:%s:es256:%s:%u:1704067200:0:%s\n", user, id,
                        afb_b64url_encode(pool, WV_ES256_PUB, sizeof(WV_ES256_PUB)), count,
                        label);
}

static void test_parse_skips_bad_records(void **state)
{
    const char *text = apr_pstrcat(
        pool, AFB_PASSKEY_HEADER "\n# a comment\n\n", es_line("alice", "AAAA", 7, "Lap:top"),
        "bob:AAAB:es256:AAAA:1:2:3:short key\n",            /* line 5: key length */
        es_line("carol", "AAAA", 1, "dup"),                 /* line 6: duplicate id */
        es_line("dave", "AAA*", 1, "x"),                    /* line 7: id not base64url */
        "erin:AAAC:es256\n",                                /* line 8: fields */
        es_line("frank", "AAAD", 4294967295u, "max"), NULL);
    afb_passkey_store_t *s;
    const apr_array_header_t *warn;
    const afb_passkey_t *c;

    (void)state;
    assert_int_equal(afb_passkey_store_parse(pool, text, strlen(text), &s), AFB_OK);
    assert_int_equal(afb_passkey_store_skips(s)->count, 4);
    warn = afb_passkey_store_skips(s)->notes;
    assert_int_equal(afb_passkey_store_count(s), 2);
    assert_int_equal(warn->nelts, 4);
    assert_non_null(strstr(APR_ARRAY_IDX(warn, 0, const char *), "line 5:"));
    assert_non_null(strstr(APR_ARRAY_IDX(warn, 1, const char *), "line 6:"));
    assert_non_null(strstr(APR_ARRAY_IDX(warn, 2, const char *), "line 7:"));
    assert_non_null(strstr(APR_ARRAY_IDX(warn, 3, const char *), "line 8:"));
    c = afb_passkey_store_find(s, "AAAA");
    assert_non_null(c);
    assert_string_equal(c->user, "alice");
    assert_string_equal(c->label, "Lap:top");
    assert_int_equal(c->sign_count, 7);
    assert_int_equal(c->key.alg, AFB_WA_ES256);
    assert_memory_equal(c->key.key, WV_ES256_PUB, 64);
    assert_int_equal(afb_passkey_store_find(s, "AAAD")->sign_count, 4294967295u);
    assert_int_equal(afb_passkey_store_for_user(s, pool, "alice")->nelts, 1);
    assert_int_equal(afb_passkey_store_for_user(s, pool, "carol")->nelts, 0);
}

static void test_parse_header_and_empty(void **state)
{
    afb_passkey_store_t *s;
    static const char junk[] = "alice:$2y$05$abc\n";

    (void)state;
    assert_int_equal(afb_passkey_store_parse(pool, "", 0, &s), AFB_OK);
    assert_int_equal(afb_passkey_store_count(s), 0);
    assert_int_equal(afb_passkey_store_parse(pool, junk, strlen(junk), &s), AFB_EINVAL);
    assert_null(s);
}

static void test_edits_and_format(void **state)
{
    afb_passkey_store_t *s, *again;
    afb_passkey_t c;
    const char *text;
    size_t len;

    (void)state;
    assert_int_equal(afb_passkey_store_parse(pool, "", 0, &s), AFB_OK);
    memset(&c, 0, sizeof(c));
    c.user = "alice";
    c.id = "AAAA";
    c.key.alg = AFB_WA_ES256;
    c.key.key = WV_ES256_PUB;
    c.key.key_len = sizeof(WV_ES256_PUB);
    c.created = apr_time_from_sec(1704067200);
    c.label = "Phone";
    assert_int_equal(afb_passkey_store_add(s, pool, &c), AFB_OK);
    assert_int_equal(afb_passkey_store_add(s, pool, &c), AFB_EMISMATCH);  /* same id */
    c.id = "AAAB";
    c.user = "bob";
    assert_int_equal(afb_passkey_store_add(s, pool, &c), AFB_OK);
    c.user = "bo:b";
    c.id = "AAAC";
    assert_int_equal(afb_passkey_store_add(s, pool, &c), AFB_EINVAL);
    /* another user's credential is not found for alice */
    assert_int_equal(afb_passkey_store_remove(s, "alice", "AAAB"), AFB_ENOENT);
    assert_int_equal(afb_passkey_store_label(s, pool, "bob", "AAAB", "Key 2"), AFB_OK);
    assert_int_equal(afb_passkey_store_touch(s, "alice", "AAAA", 12, apr_time_from_sec(1704070000)),
                     AFB_OK);
    assert_int_equal(afb_passkey_store_remove(s, "bob", "AAAB"), AFB_OK);
    assert_int_equal(afb_passkey_store_count(s), 1);
    text = afb_passkey_store_format(s, pool, &len);
    assert_int_equal(afb_passkey_store_parse(pool, text, len, &again), AFB_OK);
    assert_int_equal(afb_passkey_store_count(again), 1);
    assert_int_equal(afb_passkey_store_find(again, "AAAA")->sign_count, 12);
    assert_int_equal(apr_time_sec(afb_passkey_store_find(again, "AAAA")->last_used), 1704070000);
    assert_null(afb_passkey_store_find(again, "AAAB"));
    assert_string_equal(afb_passkey_label_clean(pool, "  My\tkey\n ", "d"), "Mykey");
    assert_string_equal(afb_passkey_label_clean(pool, "\x01", "dflt"), "dflt");
    assert_int_equal(strlen(afb_passkey_label_clean(pool, apr_psprintf(pool, "%100s", "x"), "d")),
                     1);  /* leading spaces trimmed after the cut */
}

static afb_status_t append_line(apr_pool_t *p, void *baton, const char *text, size_t len,
                                const char **out, size_t *out_len)
{
    *out = apr_pstrcat(p, apr_pstrmemdup(p, text, len), (const char *)baton, NULL);
    *out_len = strlen(*out);
    return AFB_OK;
}

static afb_status_t refuse_edit(apr_pool_t *p, void *baton, const char *text, size_t len,
                                const char **out, size_t *out_len)
{
    (void)p, (void)baton, (void)text, (void)len, (void)out, (void)out_len;
    return AFB_EMISMATCH;
}

static int locks, unlocks;
static afb_status_t count_lock(void *b)
{
    (void)b;
    locks++;
    return AFB_OK;
}
static void count_unlock(void *b)
{
    (void)b;
    unlocks++;
}

static void test_storefile_rewrite(void **state)
{
    const char *path = apr_pstrcat(pool, tmpdir, "/passkeys", NULL), *why;
    char *text;
    afb_store_lock_t lock = {NULL, count_lock, count_unlock};
    size_t len;
    pid_t child;
    int status;

    (void)state;
    assert_int_equal(afb_file_read(pool, path, 1 << 20, &text, &len, NULL, &why), AFB_ENOENT);
    assert_int_equal(afb_storefile_rewrite(pool, path, &lock, append_line, "one\n", &why), AFB_OK);
    assert_int_equal(afb_storefile_rewrite(pool, path, &lock, append_line, "two\n", &why), AFB_OK);
    assert_int_equal(afb_storefile_rewrite(pool, path, &lock, refuse_edit, NULL, &why),
                     AFB_EMISMATCH);
    assert_int_equal(locks, 3);
    assert_int_equal(unlocks, 3);
    assert_int_equal(afb_file_read(pool, path, 1 << 20, &text, &len, NULL, &why), AFB_OK);
    assert_string_equal(text, "one\ntwo\n");
    /* another process (another httpd) holds the file lock past the wait: nothing written */
    child = fork();
    if (child == 0) {
        apr_pool_t *cp;
        apr_file_t *f;
        apr_pool_create(&cp, NULL);
        if (apr_file_open(&f, apr_pstrcat(cp, path, ".lock", NULL), APR_FOPEN_WRITE, 0, cp)
                != APR_SUCCESS || apr_file_lock(f, APR_FLOCK_EXCLUSIVE) != APR_SUCCESS)
            _exit(1);
        sleep(3);
        _exit(0);
    }
    usleep(300000);
    assert_int_equal(afb_storefile_rewrite(pool, path, NULL, append_line, "three\n", &why),
                     AFB_ETIMEOUT);
    waitpid(child, &status, 0);
    assert_int_equal(afb_storefile_rewrite(pool, path, NULL, append_line, "three\n", &why),
                     AFB_OK);
    assert_int_equal(afb_file_read(pool, path, 1 << 20, &text, &len, NULL, &why), AFB_OK);
    assert_string_equal(text, "one\ntwo\nthree\n");
}

static void test_totp_enroll(void **state)
{
    const char *secret = afb_totp_new_secret(pool), *line, *out, *uri, *err;
    unsigned char *raw;
    size_t n, out_len;
    afb_totp_store_t *ts;
    const afb_totp_entry_t *e;
    static const unsigned char rfc[] = "foobar";

    (void)state;
    assert_string_equal(afb_base32_encode(pool, rfc, 6), "MZXW6YTBOI");  /* RFC 4648 */
    assert_non_null(secret);
    assert_int_equal(strlen(secret), 32);
    assert_int_equal(afb_base32_decode(pool, secret, &raw, &n), AFB_OK);
    assert_int_equal(n, 20);
    assert_string_not_equal(secret, afb_totp_new_secret(pool));
    uri = afb_totp_otpauth_uri(pool, "Corp SSO", "alice@corp", "MZXW6YTBOI");
    assert_string_equal(uri, "otpauth://totp/Corp%20SSO:alice%40corp?secret=MZXW6YTBOI"
                             "&issuer=Corp%20SSO&algorithm=SHA1&digits=6&period=30");
    line = afb_totp_store_line(pool, "alice", secret, apr_time_from_sec(1704067200), 0,
                               "Phone: work");
    assert_non_null(line);
    assert_null(afb_totp_store_line(pool, "al:ice", secret, 0, 0, "x"));
    assert_null(afb_totp_store_line(pool, "alice", "not base32!", 0, 0, "x"));
    /* replace, append, remove, keeping comments and other users */
    assert_int_equal(afb_totp_store_put(pool, "# keep\nbob:GEZDGNBVGY3TQOJQ\nalice:GEZDGNBV\n",
                                        43, "alice", line, &out, &out_len), AFB_OK);
    assert_string_equal(out, apr_pstrcat(pool, "# keep\nbob:GEZDGNBVGY3TQOJQ\n", line, "\n",
                                         NULL));
    assert_int_equal(afb_totp_store_parse(pool, out, out_len, &ts, &err), AFB_OK);
    e = afb_totp_store_find(ts, "alice");
    assert_non_null(e);
    assert_int_equal(apr_time_sec(e->created), 1704067200);
    assert_string_equal(e->label, "Phone: work");
    assert_int_equal(e->secret_len, 20);
    assert_int_equal(afb_totp_store_put(pool, "", 0, "carol", line, &out, &out_len), AFB_OK);
    assert_string_equal(out, apr_pstrcat(pool, line, "\n", NULL));
    assert_int_equal(afb_totp_store_put(pool, "bob:X\nalice:Y\n", 14, "alice", NULL, &out,
                                        &out_len), AFB_OK);
    assert_string_equal(out, "bob:X\n");
    assert_int_equal(afb_totp_store_put(pool, "bob:X\n", 6, "alice", NULL, &out, &out_len),
                     AFB_ENOENT);
    /* "ali" is not "alice" */
    assert_int_equal(afb_totp_store_put(pool, "alice:X\n", 8, "ali", NULL, &out, &out_len),
                     AFB_ENOENT);
}

static void test_qr_svg(void **state)
{
    const char *svg;
    char *big = apr_palloc(pool, AFB_QR_MAX_TEXT + 2);

    (void)state;
    assert_int_equal(afb_qr_svg(pool, "otpauth://totp/x:y?secret=MZXW6YTBOI", 4, &svg), AFB_OK);
    assert_int_equal(strncmp(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\"", 39), 0);
    assert_non_null(strstr(svg, "<path fill=\"#000\" d=\"M4 4h1v1h-1z"));  /* finder corner */
    assert_null(strstr(svg, "MZXW6YTBOI"));
    memset(big, 'a', AFB_QR_MAX_TEXT + 1);
    big[AFB_QR_MAX_TEXT + 1] = '\0';
    assert_int_equal(afb_qr_svg(pool, big, 4, &svg), AFB_ETOOBIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_skips_bad_records),
        cmocka_unit_test(test_parse_header_and_empty),
        cmocka_unit_test(test_edits_and_format),
        cmocka_unit_test(test_storefile_rewrite),
        cmocka_unit_test(test_totp_enroll),
        cmocka_unit_test(test_qr_svg),
    };
    int rc;

    apr_initialize();
    rc = cmocka_run_group_tests(tests, setup, teardown);
    apr_terminate();
    return rc;
}
