/* The password-hash store: every accepted format, refused formats, store parsing errors,
 * unknown users. The expected hashes were made by real tools (mkpasswd, htpasswd, Python's
 * hashlib.pbkdf2_hmac with passlib's adapted base64), never by the code under test. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "authfb/pwstore.h"

#define PW "Tr0ub4dor&3"
#define PW_LAST_DIFFERS "Tr0ub4dor&4"

/* All of PW. */
#define H_YESCRYPT "$y$j9T$2LO3QMCIdto.PJY.72w7V.$01XCRFJeW/HEqM1fEGQE7ykkiC13PlgojGorRRiOeVD"
#define H_YESCRYPT_DEFAULT "$y$j9T$rQVs.W1PjNhBrzQPT/V0R0$1dKLXgFN96OMFXQISQKGGVY8NxnwrXbG/AB5vf.qZW/"
#define H_SHA512_ROUNDS "$6$rounds=1000$gd27jVS9sOO5NxgP$FUy6Aqkit50VODfzn1VLyY401jLP0FhZhoBAZf1t8Ca/Dz4V9tUxYz1MndX3t/vnXg13u3Jj3r6TRFlAsFJW./"
#define H_SHA512 "$6$5ee7ByjEE36noma5$nKHzdVOfPJeNxutjLcnga6bs1zJY.vGejpFfI2//aAcaDd8xNcywejNnYeDPYUYVNRlhTh1990i1V6odJ/T7I/"
#define H_SHA256_ROUNDS "$5$rounds=1000$WisI75PpmtHyGqlf$gIOJ0Pz.r/H579KPghbacnMlvI89vHb1ErstHPY//G1"
#define H_SHA256 "$5$ljCRhD/TajzwINGZ$riH.vnSfItQ.S526xtz/AO0iM2rTiaBiOOBxeACVbv6"
#define H_BCRYPT_2B "$2b$05$NXo4vTGaXMMIBrlNsg9CsO/e0qKsTxviQM14V3aPvI3vuiI2cKtxi"
#define H_BCRYPT_2A "$2a$05$MUjswBrZ7BZviIxKhaeTJOGqW1kDIXihud6e6RyDUDDfRhzVODn8O"
#define H_BCRYPT_2Y "$2y$05$jqergRplZKHeS9ETJusJger.vSO0Ino3daCDorVUPv10Q9ktwXbxy"
#define H_PBKDF2_1000 "$pbkdf2-sha256$1000$0DKd1FXra2dYInDR8j0CMg$w2HZzCb7NtfeNox78jQh361xPNlOrPvQXocjlXcnlrY"
#define H_PBKDF2_29000 "$pbkdf2-sha256$29000$TMzM9WpF63fc9/y.JnZ5ZA$7xhRw7GV2kUN8Yaod9jW7mAk9mvzTNIvd8zyxQ4T/04"
#define H_APR1 "$apr1$7REOf4u7$4VVawP9DEZ3qUq./28yDE."
#define H_SHA1 "{SHA}h0Vy56WuaklGamrFeLmK26eMaqY="
/* Of other passwords. */
#define PW_UTF8 "p\xc3\xa4ssw\xc3\xb6rd"
#define H_PBKDF2_UTF8 "$pbkdf2-sha256$2000$61vdNe8EaqpcOkAY3AgClg$BoOtSW2Jwub6nW6eIYo54JAIlaS.Q2xEKK3xAkUmmO8"
#define H_PBKDF2_EMPTY "$pbkdf2-sha256$1500$aAzAM8Arjz1ShEM$wH8jXikXi7K2OHitoBbv7db6fh24zh7.cS.FmL5A5B8"
#define H_YESCRYPT_EMPTY "$y$j9T$efFauIm7REd4/Fpo8jIWd.$B88iMqDUIA5E1Pg56vgqoeHbB3s/j9uG7I5xL9BKZl4"
/* 'a' x 1024 and 'a' x 1025 (PBKDF2), 'a' x 511 (SHA-256-crypt: libxcrypt's longest). */
#define H_PBKDF2_A1024 "$pbkdf2-sha256$1000$AsYHOWHaZiLkqgdX$y28Ah.eORDh2qLDPN3CIsmsKuKXu4yHDmMVOeJz1XF4"
#define H_PBKDF2_A1025 "$pbkdf2-sha256$1000$dm0/XVak4W99dsxs$5VaQaXB2qI.x1bSSCd8OcYiNN6NQP2x8ZKjl3o51y8I"
#define H_SHA256_A511 "$5$rounds=1000$3tRnc/zZnJ3mql2k$X4SDfeYXwyVE5Ixbo7g.gP0f2I34W0eDKvlSlvt4X.D"
/* Refused formats. */
#define H_DES "abWL7Sj501Z46"
#define H_MD5CRYPT "$1$gYQ4hvQk$BDP1VnkQbD2bWh2ZX.Kx50"

typedef struct {
    const char *hash;
    afb_hash_kind_t kind;
} vector_t;

static const vector_t vectors[] = {
    {H_YESCRYPT, AFB_HASH_YESCRYPT},       {H_YESCRYPT_DEFAULT, AFB_HASH_YESCRYPT},
    {H_SHA512_ROUNDS, AFB_HASH_SHA512CRYPT}, {H_SHA512, AFB_HASH_SHA512CRYPT},
    {H_SHA256_ROUNDS, AFB_HASH_SHA256CRYPT}, {H_SHA256, AFB_HASH_SHA256CRYPT},
    {H_BCRYPT_2B, AFB_HASH_BCRYPT},        {H_BCRYPT_2A, AFB_HASH_BCRYPT},
    {H_BCRYPT_2Y, AFB_HASH_BCRYPT},        {H_PBKDF2_1000, AFB_HASH_PBKDF2_SHA256},
    {H_PBKDF2_29000, AFB_HASH_PBKDF2_SHA256}, {H_APR1, AFB_HASH_APR1},
    {H_SHA1, AFB_HASH_SHA1},
};
#define N_VECTORS (sizeof(vectors) / sizeof(vectors[0]))

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

static char *repeat(apr_pool_t *p, char c, size_t n)
{
    char *s = apr_palloc(p, n + 1);

    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* ---- single hashes ------------------------------------------------------------------- */

static void test_kinds(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_VECTORS; i++)
        assert_int_equal(afb_hash_kind(vectors[i].hash), vectors[i].kind);
    assert_int_equal(afb_hash_kind(H_DES), AFB_HASH_UNKNOWN);
    assert_int_equal(afb_hash_kind(H_MD5CRYPT), AFB_HASH_UNKNOWN);
    assert_int_equal(afb_hash_kind(PW), AFB_HASH_UNKNOWN);
    assert_int_equal(afb_hash_kind(""), AFB_HASH_UNKNOWN);
    assert_int_equal(afb_hash_kind(NULL), AFB_HASH_UNKNOWN);
    assert_true(afb_hash_is_weak(AFB_HASH_APR1));
    assert_true(afb_hash_is_weak(AFB_HASH_SHA1));
    assert_false(afb_hash_is_weak(AFB_HASH_YESCRYPT));
    assert_false(afb_hash_is_weak(AFB_HASH_BCRYPT));
    assert_false(afb_hash_is_weak(AFB_HASH_PBKDF2_SHA256));
}

static void test_every_format_right_and_wrong(void **state)
{
    apr_pool_t *p = *state;

    for (size_t i = 0; i < N_VECTORS; i++) {
        const char *h = vectors[i].hash;
        print_message("%s\n", h);
        assert_int_equal(afb_hash_verify(p, h, PW), AFB_OK);
        assert_int_equal(afb_hash_verify(p, h, PW_LAST_DIFFERS), AFB_EMISMATCH);
        assert_int_equal(afb_hash_verify(p, h, ""), AFB_EMISMATCH);
        assert_int_equal(afb_hash_verify(p, h, "Tr0ub4dor&"), AFB_EMISMATCH);
        assert_int_equal(afb_hash_verify(p, h, PW "3"), AFB_EMISMATCH);
        assert_int_equal(afb_hash_verify(p, h, "tr0ub4dor&3"), AFB_EMISMATCH);
    }
}

static void test_other_passwords(void **state)
{
    apr_pool_t *p = *state;

    assert_int_equal(afb_hash_verify(p, H_PBKDF2_UTF8, PW_UTF8), AFB_OK);
    assert_int_equal(afb_hash_verify(p, H_PBKDF2_UTF8, "passwort"), AFB_EMISMATCH);
    assert_int_equal(afb_hash_verify(p, H_PBKDF2_EMPTY, ""), AFB_OK);
    assert_int_equal(afb_hash_verify(p, H_PBKDF2_EMPTY, " "), AFB_EMISMATCH);
    assert_int_equal(afb_hash_verify(p, H_YESCRYPT_EMPTY, ""), AFB_OK);
    assert_int_equal(afb_hash_verify(p, H_YESCRYPT_EMPTY, "x"), AFB_EMISMATCH);
}

static void test_password_length_cap(void **state)
{
    apr_pool_t *p = *state;
    const char *a511 = repeat(p, 'a', 511);
    const char *a512 = repeat(p, 'a', 512);
    const char *a1024 = repeat(p, 'a', AFB_PW_MAX_PASSWORD);
    const char *a1025 = repeat(p, 'a', AFB_PW_MAX_PASSWORD + 1);
    const char *huge = repeat(p, 'a', 1 << 20);

    assert_int_equal(afb_hash_verify(p, H_PBKDF2_A1024, a1024), AFB_OK);
    /* The right password, but over the cap: refused. */
    assert_int_equal(afb_hash_verify(p, H_PBKDF2_A1025, a1025), AFB_EMISMATCH);
    assert_int_equal(afb_hash_verify(p, H_PBKDF2_1000, huge), AFB_EMISMATCH);
    /* crypt kinds: the longest libxcrypt takes verifies; longer is a mismatch, not an error. */
    assert_int_equal(afb_hash_verify(p, H_SHA256_A511, a511), AFB_OK);
    assert_int_equal(afb_hash_verify(p, H_SHA256_A511, a512), AFB_EMISMATCH);
    assert_int_equal(afb_hash_verify(p, H_YESCRYPT, a1025), AFB_EMISMATCH);
    assert_int_equal(afb_hash_verify(p, H_BCRYPT_2Y, huge), AFB_EMISMATCH);
    assert_int_equal(afb_hash_verify(p, H_APR1, huge), AFB_EMISMATCH);
}

static void test_unusable_hashes(void **state)
{
    apr_pool_t *p = *state;

    assert_int_equal(afb_hash_verify(p, H_DES, PW), AFB_EINVAL);
    assert_int_equal(afb_hash_verify(p, H_MD5CRYPT, PW), AFB_EINVAL);
    assert_int_equal(afb_hash_verify(p, PW, PW), AFB_EINVAL);
    assert_int_equal(afb_hash_verify(p, "", ""), AFB_EINVAL);
    assert_int_equal(afb_hash_verify(p, "$2b$05$short", PW), AFB_EINVAL);
    assert_int_equal(afb_hash_verify(p, "$pbkdf2-sha256$0$0DKd1FXra2dYInDR8j0CMg$"
                                        "w2HZzCb7NtfeNox78jQh361xPNlOrPvQXocjlXcnlrY", PW),
                     AFB_EINVAL);
    assert_int_equal(afb_hash_verify(p, "$pbkdf2-sha256$1000$0DKd1FXra2dYInDR8j0CMg$w2HZzC",
                                     PW), AFB_EINVAL);
    assert_int_equal(afb_hash_verify(p, H_SHA1, NULL), AFB_EINVAL);
}

/* ---- stores -------------------------------------------------------------------------- */

static afb_pwstore_t *parse_ok(apr_pool_t *p, const char *text, int *weak)
{
    afb_pwstore_t *s = NULL;
    const char *err = NULL;
    afb_status_t st = afb_pwstore_parse(p, text, strlen(text), &s, weak, &err);

    if (st != AFB_OK)
        print_error("unexpected parse error: %s\n", err ? err : "(none)");
    assert_int_equal(st, AFB_OK);
    assert_non_null(s);
    return s;
}

static const char good_store[] =
    "# synchronized 2024-01-01\n"
    "\n"
    "alice:" H_YESCRYPT "\n"
    "bob:" H_BCRYPT_2Y "\r\n"
    "   \n"
    "carol:" H_SHA512 "\n"
    "dave:" H_SHA256_ROUNDS "\n"
    "erin:" H_PBKDF2_1000 "\n"
    "frank:" H_APR1 "\n"
    "grace:" H_SHA1 "\r\n"
    "heidi@example.org:" H_BCRYPT_2B;

static void test_store_good(void **state)
{
    apr_pool_t *p = *state;
    int weak = -1;
    afb_pwstore_t *s = parse_ok(p, good_store, &weak);
    static const char *users[] = {"alice", "bob", "carol", "dave", "erin", "frank", "grace",
                                  "heidi@example.org"};

    assert_int_equal(afb_pwstore_count(s), 8);
    assert_int_equal(weak, 2);
    for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
        assert_int_equal(afb_pwstore_verify(s, p, users[i], PW), AFB_OK);
        assert_int_equal(afb_pwstore_verify(s, p, users[i], PW_LAST_DIFFERS), AFB_EMISMATCH);
        assert_int_equal(afb_pwstore_verify(s, p, users[i], ""), AFB_EMISMATCH);
    }
    /* User names are exact. */
    assert_int_equal(afb_pwstore_verify(s, p, "Alice", PW), AFB_ENOENT);
    assert_int_equal(afb_pwstore_verify(s, p, "alice ", PW), AFB_ENOENT);
}

static void test_store_no_weak(void **state)
{
    apr_pool_t *p = *state;
    int weak = -1;
    afb_pwstore_t *s = parse_ok(p, "a:" H_SHA256 "\nb:" H_PBKDF2_29000 "\n", &weak);

    assert_int_equal(afb_pwstore_count(s), 2);
    assert_int_equal(weak, 0);
    assert_int_equal(afb_pwstore_verify(s, p, "b", PW), AFB_OK);
}

static void test_store_unknown_user(void **state)
{
    apr_pool_t *p = *state;
    afb_pwstore_t *s = parse_ok(p, good_store, NULL);
    afb_pwstore_t *empty = parse_ok(p, "# nobody yet\n", NULL);
    afb_pwstore_t *weak_only = parse_ok(p, "x:" H_APR1 "\n", NULL);

    assert_int_equal(afb_pwstore_verify(s, p, "mallory", PW), AFB_ENOENT);
    assert_int_equal(afb_pwstore_verify(s, p, "mallory", ""), AFB_ENOENT);
    assert_int_equal(afb_pwstore_verify(s, p, repeat(p, 'm', 300), PW), AFB_ENOENT);
    assert_int_equal(afb_pwstore_verify(s, p, "mallory", repeat(p, 'a', 5000)), AFB_ENOENT);
    assert_int_equal(afb_pwstore_verify(s, p, "", PW), AFB_ENOENT);
    assert_int_equal(afb_pwstore_count(empty), 0);
    assert_int_equal(afb_pwstore_verify(empty, p, "alice", PW), AFB_ENOENT);
    assert_int_equal(afb_pwstore_verify(weak_only, p, "y", PW), AFB_ENOENT);
}

static void test_store_empty_text(void **state)
{
    apr_pool_t *p = *state;
    afb_pwstore_t *s = NULL;
    const char *err = NULL;
    int weak = -1;

    assert_int_equal(afb_pwstore_parse(p, "", 0, &s, &weak, &err), AFB_OK);
    assert_int_equal(afb_pwstore_count(s), 0);
    assert_int_equal(weak, 0);
}

/* The line is left out with its number and a reason, never the hash field; the other users
 * of the store still load. A store with no usable line left fails as a whole. */
static void expect_refused(apr_pool_t *p, const char *text, size_t len, int line,
                           const char *secret_part)
{
    afb_pwstore_t *s = (afb_pwstore_t *)p; /* must be reset to NULL on failure */
    const char *err = NULL, *note;
    int weak = -1;
    const char *prefix = apr_psprintf(p, "line %d: ", line);
    afb_status_t st = afb_pwstore_parse(p, text, len, &s, &weak, &err);

    if (st == AFB_EINVAL) {
        assert_null(s);
        assert_non_null(err);
        print_message("%s\n", err);
        assert_non_null(strstr(err, "no usable record"));
        assert_non_null(strstr(err, prefix));
        if (secret_part)
            assert_null(strstr(err, secret_part));
        return;
    }
    assert_int_equal(st, AFB_OK);
    assert_true(afb_pwstore_count(s) > 0);
    assert_int_equal(afb_pwstore_skips(s)->count, 1);
    note = APR_ARRAY_IDX(afb_pwstore_skips(s)->notes, 0, const char *);
    print_message("%s\n", note);
    assert_memory_equal(note, prefix, strlen(prefix));
    assert_true(strlen(note) > strlen(prefix));
    if (secret_part)
        assert_null(strstr(note, secret_part));
}

static void expect_refused_str(apr_pool_t *p, const char *text, int line, const char *secret)
{
    expect_refused(p, text, strlen(text), line, secret);
}

static void test_store_malformed(void **state)
{
    apr_pool_t *p = *state;
    const char *head = "# header\nalice:" H_YESCRYPT "\n";

    expect_refused_str(p, apr_pstrcat(p, head, "bob" H_BCRYPT_2Y "\n", NULL), 3, "jqergRpl");
    expect_refused_str(p, apr_pstrcat(p, head, ":" H_BCRYPT_2Y "\n", NULL), 3, "jqergRpl");
    expect_refused_str(p, apr_pstrcat(p, head, "bob:" H_DES "\n", NULL), 3, H_DES);
    expect_refused_str(p, apr_pstrcat(p, head, "bob:" PW "\n", NULL), 3, PW);
    expect_refused_str(p, apr_pstrcat(p, head, "bob:hunter2\n", NULL), 3, "hunter2");
    expect_refused_str(p, apr_pstrcat(p, head, "bob:" H_MD5CRYPT "\n", NULL), 3, "gYQ4hvQk");
    expect_refused_str(p, apr_pstrcat(p, head, "bob:\n", NULL), 3, NULL);
    expect_refused_str(p, apr_pstrcat(p, head, "\nalice:" H_SHA512 "\n", NULL), 4,
                       "5ee7ByjE");
    expect_refused_str(p, apr_pstrcat(p, head, "bob:" H_SHA1 " trailing\n", NULL), 3,
                       "h0Vy56Wu");
    expect_refused_str(p, apr_pstrcat(p, head, "bob:$2y$05$tooShort\n", NULL), 3,
                       "tooShort");
    expect_refused_str(p, apr_pstrcat(p, head, "bob:$pbkdf2-sha256$99999999$"
                                      "0DKd1FXra2dYInDR8j0CMg$"
                                      "w2HZzCb7NtfeNox78jQh361xPNlOrPvQXocjlXcnlrY\n", NULL),
                       3, "0DKd1FXra2dY");
    expect_refused_str(p, "bob:{SSHA}abcdefgh\n", 1, "abcdefgh");
    /* An error on the first line, and one on the last line without a newline. */
    expect_refused_str(p, "nocolon", 1, NULL);
    expect_refused_str(p, apr_pstrcat(p, head, "carol:" H_DES, NULL), 3, H_DES);
}

/* One bad record never locks out everyone: the good users sign in, the bad one is unknown. */
static void test_store_skips_bad_records(void **state)
{
    apr_pool_t *p = *state;
    afb_pwstore_t *s = NULL;
    const char *err = NULL;
    const char *text = "alice:" H_YESCRYPT "\nbob:" H_DES "\ncarol:" H_SHA512 "\n"
                       "alice:" H_SHA1 "\ndave:$2y$05$tooShort\n";

    assert_int_equal(afb_pwstore_parse(p, text, strlen(text), &s, NULL, &err), AFB_OK);
    assert_int_equal(afb_pwstore_count(s), 2);
    assert_int_equal(afb_pwstore_skips(s)->count, 3);
    assert_string_equal(APR_ARRAY_IDX(afb_pwstore_skips(s)->notes, 0, const char *),
                        "line 2: unsupported hash format (plaintext, DES-crypt and unknown "
                        "schemes are refused)");
    assert_string_equal(APR_ARRAY_IDX(afb_pwstore_skips(s)->notes, 1, const char *),
                        "line 4: duplicate user");
    assert_string_equal(APR_ARRAY_IDX(afb_pwstore_skips(s)->notes, 2, const char *),
                        "line 5: malformed hash");
    assert_int_equal(afb_pwstore_verify(s, p, "alice", PW), AFB_OK);  /* the first line wins */
    assert_int_equal(afb_pwstore_verify(s, p, "carol", PW), AFB_OK);
    assert_int_equal(afb_pwstore_verify(s, p, "bob", PW), AFB_ENOENT);
    assert_int_equal(afb_pwstore_verify(s, p, "dave", PW), AFB_ENOENT);
    assert_int_equal(afb_pwstore_skips(parse_ok(p, good_store, NULL))->count, 0);
}

/* Records but none usable: the store fails as a whole; an empty store is still fine. */
static void test_store_none_usable(void **state)
{
    apr_pool_t *p = *state;
    afb_pwstore_t *s = NULL;
    const char *err = NULL;
    const char *text = "# all bad\nbob:" H_DES "\ncarol:hunter2\n";
    apr_array_header_t *many = apr_array_make(p, 30, sizeof(const char *));

    assert_int_equal(afb_pwstore_parse(p, text, strlen(text), &s, NULL, &err), AFB_EINVAL);
    assert_null(s);
    assert_string_equal(err, "no usable record (2 skipped; first: line 2: unsupported hash "
                             "format (plaintext, DES-crypt and unknown schemes are refused))");
    assert_null(strstr(err, "hunter2"));
    /* Notes are capped, the count is not. */
    for (int i = 0; i < 30; i++)
        APR_ARRAY_PUSH(many, const char *) = apr_psprintf(p, "u%d:x\n", i);
    text = apr_pstrcat(p, apr_array_pstrcat(p, many, 0), "ok:" H_SHA1 "\n", NULL);
    assert_int_equal(afb_pwstore_parse(p, text, strlen(text), &s, NULL, &err), AFB_OK);
    assert_int_equal(afb_pwstore_skips(s)->count, 30);
    assert_int_equal(afb_pwstore_skips(s)->notes->nelts, AFB_SKIPS_NOTES_MAX);
}

static void test_store_caps(void **state)
{
    apr_pool_t *p = *state;
    const char *user255 = repeat(p, 'u', 255);
    const char *user256 = repeat(p, 'u', 256);
    const char *filler = repeat(p, 'x', AFB_PW_MAX_LINE);
    afb_pwstore_t *s = parse_ok(p, apr_pstrcat(p, user255, ":" H_SHA1 "\n", NULL), NULL);
    static const char with_nul[] = "alice:" H_SHA1 "\nbob\0:" H_APR1 "\n";

    assert_int_equal(afb_pwstore_verify(s, p, user255, PW), AFB_OK);
    expect_refused_str(p, apr_pstrcat(p, user256, ":" H_SHA1 "\n", NULL), 1, "h0Vy56Wu");
    /* An over-long line, even a comment, is left out. */
    expect_refused_str(p, apr_pstrcat(p, "alice:" H_SHA1 "\nbob:", filler, "\n", NULL), 2,
                       "xxxxxxxx");
    expect_refused_str(p, apr_pstrcat(p, "#", filler, "\nalice:" H_SHA1 "\n", NULL), 1,
                       NULL);
    expect_refused(p, with_nul, sizeof(with_nul) - 1, 2, "7REOf4u7");
}

static const char *dummy_of(apr_pool_t *p, const char *text)
{
    afb_pwstore_t *s = NULL;
    const char *err = NULL;
    assert_int_equal(afb_pwstore_parse(p, text, strlen(text), &s, NULL, &err), AFB_OK);
    return afb_pwstore_dummy_hash(s);
}

/* An unknown user costs what most users cost: the most common kind AND cost, not the first
 * kind met (a yescrypt dummy in a store of cheap bcrypt users told who exists). */
static void test_dummy_hash_is_most_common_kind_and_cost(void **state)
{
    apr_pool_t *p = *state;
    assert_string_equal(dummy_of(p, "a:" H_YESCRYPT "\nb:" H_BCRYPT_2B "\nc:" H_BCRYPT_2Y
                                    "\nd:" H_SHA512 "\n"), H_BCRYPT_2B);
    /* same kind, two costs: the more common cost wins */
    assert_string_equal(dummy_of(p, "a:" H_PBKDF2_29000 "\nb:" H_PBKDF2_1000 "\nc:"
                                    H_PBKDF2_UTF8 "\nd:" H_PBKDF2_A1024 "\n"), H_PBKDF2_1000);
    assert_string_equal(dummy_of(p, "a:" H_SHA512 "\nb:" H_SHA512_ROUNDS "\nc:"
                                    H_SHA512_ROUNDS "\n"), H_SHA512_ROUNDS);
    assert_string_equal(dummy_of(p, "a:" H_SHA256 "\nb:" H_SHA256_ROUNDS "\nc:"
                                    H_SHA256_A511 "\n"), H_SHA256_ROUNDS);
    /* a tie goes to the class met first in the file */
    assert_string_equal(dummy_of(p, "a:" H_BCRYPT_2B "\nb:" H_YESCRYPT "\n"), H_BCRYPT_2B);
    assert_string_equal(dummy_of(p, "b:" H_YESCRYPT "\na:" H_BCRYPT_2B "\n"), H_YESCRYPT);
    /* an empty store: a fixed yescrypt hash */
    assert_true(strncmp(dummy_of(p, "# nobody\n"), "$y$", 3) == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds),
        cmocka_unit_test_setup_teardown(test_dummy_hash_is_most_common_kind_and_cost, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_every_format_right_and_wrong, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_passwords, setup, teardown),
        cmocka_unit_test_setup_teardown(test_password_length_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unusable_hashes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_good, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_no_weak, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_skips_bad_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_none_usable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_unknown_user, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_empty_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_caps, setup, teardown),
    };
    int rc;

    apr_initialize();
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_terminate();
    return rc;
}
