/* The export reader of afb-phs-sync (both formats, every skip reason, hostile lines) and the
 * store builder (kept lines byte for byte, changes, removals). The smbpasswd lines are as a
 * Samba AD DC's `pdbedit -L -w` printed them; NT hashes from `openssl dgst -md4`. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "authfb/phsync.h"

#define NT_ALICE "B892A46A95A90E21AD1D011D4667D1BE" /* Al1ce-Passw0rd! */
#define NT_PW "8846f7eaee8fb117ad06bdd830b7586c"    /* password */
#define NOHASH "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
#define LM_EMPTY "aad3b435b51404eeaad3b435b51404ee"
#define SMB(user, nt, flags) user ":4294967295:" NOHASH ":" nt ":[" flags "]:LCT-6B0E04AB:"
#define DUMP(user, nt, tail) user ":1104:" LM_EMPTY ":" nt ":::" tail

static int setup(void **state)
{
    apr_pool_t *p = NULL;

    if (apr_pool_create(&p, NULL) != APR_SUCCESS)
        return -1;
    *state = p;
    return 0;
}

static int teardown(void **state)
{
    apr_pool_destroy(*state);
    return 0;
}

static afb_phs_kind_t kind_of(const char *line, const afb_phs_opts_t *o, afb_phs_entry_t *e)
{
    return afb_phs_parse_line(line, o, e, NULL);
}

static void test_formats_and_skips(void **state)
{
    afb_phs_opts_t o = { 0, 0, NULL };
    afb_phs_entry_t e;
    unsigned char want[AFB_NTHASH_LEN];
    apr_array_header_t *ex = apr_array_make(*state, 1, sizeof(const char *));

    assert_int_equal(afb_nthash_from_hex(NT_ALICE, 32, want), AFB_OK);
    assert_int_equal(kind_of(SMB("alice", NT_ALICE, "U          "), &o, &e), AFB_PHS_ENTRY);
    assert_string_equal(e.user, "alice");
    assert_memory_equal(e.nt, want, sizeof(want));
    assert_int_equal(kind_of(DUMP("CORP\\alice", NT_ALICE, ""), &o, &e), AFB_PHS_ENTRY);
    assert_string_equal(e.user, "alice");
    assert_memory_equal(e.nt, want, sizeof(want));
    assert_int_equal(kind_of(DUMP("corp.example\\Alice", NT_ALICE, " (status=Enabled)"), &o, &e),
                     AFB_PHS_ENTRY);
    assert_string_equal(e.user, "Alice");
    o.lowercase = 1;
    o.keep_domain = 1;
    assert_int_equal(kind_of(DUMP("CORP\\Alice", NT_ALICE, ""), &o, &e), AFB_PHS_ENTRY);
    assert_string_equal(e.user, "corp\\alice");
    o.lowercase = o.keep_domain = 0;

    assert_int_equal(kind_of(SMB("bob", NT_PW, "DU         "), &o, &e), AFB_PHS_DISABLED);
    assert_int_equal(kind_of(DUMP("CORP\\bob", NT_PW, " (status=Disabled)"), &o, &e),
                     AFB_PHS_DISABLED);
    assert_int_equal(kind_of(SMB("carol", NT_PW, "NU         "), &o, &e), AFB_PHS_NO_PASSWORD);
    assert_int_equal(kind_of(SMB("nobody", NOHASH, "U          "), &o, &e), AFB_PHS_NO_PASSWORD);
    assert_int_equal(kind_of(SMB("x", "NO PASSWORD*********************", "U"), &o, &e),
                     AFB_PHS_NO_PASSWORD);
    assert_int_equal(kind_of(DUMP("CORP\\empty", "31d6cfe0d16ae931b73c59d7e0c089c0", ""), &o, &e),
                     AFB_PHS_NO_PASSWORD);
    assert_int_equal(kind_of(SMB("DC1$", NT_PW, "S          "), &o, &e), AFB_PHS_MACHINE);
    assert_int_equal(kind_of(DUMP("CORP\\WS7$", NT_PW, ""), &o, &e), AFB_PHS_MACHINE);
    assert_int_equal(kind_of(SMB("OTHERDOM", NT_PW, "I          "), &o, &e), AFB_PHS_MACHINE);
    assert_int_equal(kind_of(SMB("krbtgt", NT_PW, "DU         "), &o, &e), AFB_PHS_KRBTGT);
    assert_int_equal(kind_of(DUMP("CORP\\KRBTGT", NT_PW, ""), &o, &e), AFB_PHS_KRBTGT);
    assert_int_equal(kind_of(DUMP("krbtgt_21345", NT_PW, ""), &o, &e), AFB_PHS_KRBTGT);
    assert_int_equal(kind_of(DUMP("krbtgtx", NT_PW, ""), &o, &e), AFB_PHS_ENTRY);
    APR_ARRAY_PUSH(ex, const char *) = "administrator";
    o.exclude = ex;
    assert_int_equal(kind_of(SMB("Administrator", NT_PW, "U          "), &o, &e),
                     AFB_PHS_EXCLUDED);
    assert_int_equal(kind_of("", &o, &e), AFB_PHS_BLANK);
    assert_int_equal(kind_of("# comment", &o, &e), AFB_PHS_BLANK);
}

static void test_hostile_lines(void **state)
{
    static const char *const bad[] = {
        "alice",
        "alice:1:2:3",
        ":4294967295:" NOHASH ":" NT_PW ":[U]:LCT-6B0E04AB:",
        "CORP\\:1104:" LM_EMPTY ":" NT_PW ":::",
        "alice:x:" NOHASH ":" NT_PW ":[U]:LCT-6B0E04AB:",
        "alice:1:" NOHASH ":" NT_PW "0:[U]:LCT-6B0E04AB:",
        "alice:1:" NOHASH ":" "8846f7eaee8fb117ad06bdd830b7586g" ":[U]:LCT-6B0E04AB:",
        "alice:1:" NOHASH ":" NT_PW ":[U:LCT-6B0E04AB:",
        "alice:1:" NOHASH ":" NT_PW ":[Q]:LCT-6B0E04AB:",
        "alice:1:" NOHASH ":" NT_PW ":[U]:LCT-6B0E04A:",
        "alice:1:" NOHASH ":" NT_PW ":[U]:LCT-6B0E04AB",
        "alice:1:" NOHASH ":" NT_PW ":[UUUUUUUUUUUUUUUUUUUUUUU]:LCT-6B0E04AB:",
        "alice:1:" LM_EMPTY ":" NT_PW "::",
        "alice:1:" LM_EMPTY ":" NT_PW ":::trailing",
        "al\x01ice:1:" LM_EMPTY ":" NT_PW ":::",
        "alice:12345678901:" LM_EMPTY ":" NT_PW ":::",
        "alice:1:short:" NT_PW ":::",
    };
    afb_phs_opts_t o = { 0, 0, NULL };
    afb_phs_entry_t e;
    const char *why;
    char *longname = apr_pcalloc(*state, 300 + 80);

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why = NULL;
        if (afb_phs_parse_line(bad[i], &o, &e, &why) != AFB_PHS_BAD)
            fail_msg("accepted hostile line #%zu", i);
        assert_non_null(why);
        assert_null(strstr(why, "8846"));
    }
    memset(longname, 'a', 300);
    strcat(longname, ":1:" LM_EMPTY ":" NT_PW ":::");
    assert_int_equal(afb_phs_parse_line(longname, &o, &e, &why), AFB_PHS_BAD);
}

static void test_read_export(void **state)
{
    apr_pool_t *p = *state;
    afb_phs_opts_t o = { 0, 1, NULL };
    apr_array_header_t *entries = NULL;
    afb_phs_stats_t st;
    const char *err = NULL;
    const char *text = SMB("alice", NT_ALICE, "U          ") "\r\n"
                       SMB("bob", NT_PW, "DU         ") "\n"
                       SMB("VM$", NT_PW, "S          ") "\n\n"
                       SMB("krbtgt", NT_PW, "DU         ") "\n"
                       DUMP("CORP\\dave", NT_PW, "");
    const char *dup = SMB("alice", NT_ALICE, "U") "\n" DUMP("CORP\\ALICE", NT_PW, "") "\n";
    const char *broken = SMB("alice", NT_ALICE, "U") "\n" "alice:truncat";

    memset(&st, 0, sizeof(st));
    assert_int_equal(afb_phs_read_export(p, text, strlen(text), &o, &entries, &st, &err), AFB_OK);
    assert_int_equal(entries->nelts, 2);
    assert_int_equal(st.skipped[AFB_PHS_DISABLED], 1);
    assert_int_equal(st.skipped[AFB_PHS_MACHINE], 1);
    assert_int_equal(st.skipped[AFB_PHS_KRBTGT], 1);
    assert_int_equal(afb_phs_read_export(p, dup, strlen(dup), &o, &entries, &st, &err),
                     AFB_EINVAL);
    assert_string_equal(err, "line 2: duplicate user (after the name mapping)");
    assert_int_equal(afb_phs_read_export(p, broken, strlen(broken), &o, &entries, &st, &err),
                     AFB_EINVAL);
    assert_string_equal(err, "line 2: fewer than four ':'-separated fields");
    assert_int_equal(afb_phs_read_export(p, "", 0, &o, &entries, &st, &err), AFB_ENOENT);
    assert_int_equal(afb_phs_read_export(p, "\n# x\n", 5, &o, &entries, &st, &err), AFB_ENOENT);
    assert_int_equal(afb_phs_read_export(p, "a\0b", 3, &o, &entries, &st, &err), AFB_EINVAL);
}

static const char *build(apr_pool_t *p, const char *export, const char *previous,
                         afb_phs_stats_t *st)
{
    afb_phs_opts_t o = { 0, 0, NULL };
    apr_array_header_t *entries = NULL;
    afb_pwstore_t *prev = NULL;
    const char *err = NULL, *text = NULL;

    memset(st, 0, sizeof(*st));
    assert_int_equal(afb_phs_read_export(p, export, strlen(export), &o, &entries, st, &err),
                     AFB_OK);
    if (previous)
        assert_int_equal(afb_pwstore_parse(p, previous, strlen(previous), &prev, NULL, &err),
                         AFB_OK);
    assert_int_equal(afb_phs_build(p, entries, prev, 100000, &text, st), AFB_OK);
    return text;
}

static void test_build_store(void **state)
{
    apr_pool_t *p = *state;
    afb_phs_stats_t st;
    afb_pwstore_t *s = NULL;
    const char *err = NULL, *first, *second, *third;
    const char *exp1 = DUMP("CORP\\zed", NT_PW, "") "\n" DUMP("CORP\\alice", NT_ALICE, "") "\n";
    const char *exp2 = DUMP("CORP\\zed", NT_ALICE, "") "\n" DUMP("CORP\\alice", NT_ALICE, "")
                       "\n" DUMP("CORP\\bea", NT_PW, "") "\n";

    first = build(p, exp1, NULL, &st);
    assert_int_equal(st.added, 2);
    assert_int_equal(strncmp(first, "alice:$nt-pbkdf2-sha256$100000$", 31), 0);
    assert_non_null(strstr(first, "\nzed:$nt-pbkdf2-sha256$100000$"));
    assert_int_equal(afb_pwstore_parse(p, first, strlen(first), &s, NULL, &err), AFB_OK);
    assert_int_equal(afb_pwstore_verify(s, p, "alice", "Al1ce-Passw0rd!"), AFB_OK);
    assert_int_equal(afb_pwstore_verify(s, p, "zed", "password"), AFB_OK);

    second = build(p, exp1, first, &st);
    assert_string_equal(second, first); /* nothing changed: byte-identical */
    assert_int_equal(st.kept, 2);
    assert_int_equal(st.added + st.changed + st.removed, 0);

    third = build(p, exp2, first, &st);
    assert_int_equal(st.kept, 1);
    assert_int_equal(st.changed, 1);
    assert_int_equal(st.added, 1);
    assert_int_equal(strncmp(third, first, strchr(first, '\n') - first + 1), 0); /* alice kept */
    assert_int_equal(afb_pwstore_parse(p, third, strlen(third), &s, NULL, &err), AFB_OK);
    assert_int_equal(afb_pwstore_verify(s, p, "zed", "password"), AFB_EMISMATCH);
    assert_int_equal(afb_pwstore_verify(s, p, "zed", "Al1ce-Passw0rd!"), AFB_OK);

    build(p, DUMP("CORP\\bea", NT_PW, ""), third, &st);
    assert_int_equal(st.removed, 2);
    assert_int_equal(st.before, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_formats_and_skips, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_export, setup, teardown),
        cmocka_unit_test_setup_teardown(test_build_store, setup, teardown),
    };

    apr_initialize();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
