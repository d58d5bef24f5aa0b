/* Unit tests of the keyring: sealing round trips, tampering, truncation, purposes, rotation. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "authfb/crypto.h"
#include "authfb/util.h"

static apr_pool_t *pool;

static const unsigned char key_a[32] = "0123456789abcdef0123456789abcdef";
static const unsigned char key_b[40] = "another key file, forty bytes long......";

static int setup(void **state)
{
    (void)state;
    return apr_pool_create(&pool, NULL) == APR_SUCCESS ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    apr_pool_destroy(pool);
    return 0;
}

/* A keyring holding the given keys, in order (the first seals). */
static afb_keyring_t *ring(const unsigned char *k1, size_t l1, const unsigned char *k2, size_t l2)
{
    afb_keyring_t *kr = afb_keyring_create(pool);

    assert_non_null(kr);
    if (k1) {
        assert_int_equal(afb_keyring_add(kr, k1, l1), AFB_OK);
    }
    if (k2) {
        assert_int_equal(afb_keyring_add(kr, k2, l2), AFB_OK);
    }
    return kr;
}

static const char *seal_str(const afb_keyring_t *kr, const char *purpose, const char *pt)
{
    const char *tok = NULL;

    assert_int_equal(afb_seal(kr, pool, purpose, (const unsigned char *)pt, strlen(pt), &tok),
                     AFB_OK);
    assert_non_null(tok);
    return tok;
}

static afb_status_t unseal_st(const afb_keyring_t *kr, const char *purpose, const char *tok)
{
    unsigned char *pt = NULL;
    size_t len = 0;

    return afb_unseal(kr, pool, purpose, tok, &pt, &len);
}

static void test_roundtrip(void **state)
{
    afb_keyring_t *kr = ring(key_a, sizeof(key_a), NULL, 0);
    unsigned char buf[1000];
    size_t n;

    (void)state;
    for (n = 0; n < sizeof(buf); n++) {
        buf[n] = (unsigned char)(n * 7);
    }
    for (n = 0; n <= sizeof(buf); n += (n < 40 ? 1 : 97)) {
        const char *tok = NULL;
        unsigned char *pt = NULL;
        size_t len = 12345;
        size_t i;
        assert_int_equal(afb_seal(kr, pool, "session", buf, n, &tok), AFB_OK);
        /* Printable and cookie-safe: the base64url alphabet only. */
        for (i = 0; tok[i]; i++) {
            assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                   "0123456789-_", tok[i]));
        }
        assert_int_equal(afb_unseal(kr, pool, "session", tok, &pt, &len), AFB_OK);
        assert_int_equal(len, n);
        assert_memory_equal(pt, buf, n);
    }
}

static void test_token_layout_and_nonce(void **state)
{
    afb_keyring_t *kr = ring(key_a, sizeof(key_a), NULL, 0);
    const char *t1 = seal_str(kr, "session", "hello");
    const char *t2 = seal_str(kr, "session", "hello");
    unsigned char *d1, *d2;
    size_t l1, l2;

    (void)state;
    /* Same plaintext, different tokens: a fresh nonce every time. */
    assert_string_not_equal(t1, t2);
    assert_int_equal(afb_b64url_decode(pool, t1, strlen(t1), &d1, &l1), AFB_OK);
    assert_int_equal(afb_b64url_decode(pool, t2, strlen(t2), &d2, &l2), AFB_OK);
    assert_int_equal(l1, 1 + 12 + 5 + 16);
    assert_int_equal(d1[0], 0x01);
    assert_memory_not_equal(d1 + 1, d2 + 1, 12);
    /* The plaintext does not show through. */
    assert_null(memmem(d1, l1, "hello", 5));
}

static void test_tamper_every_byte(void **state)
{
    afb_keyring_t *kr = ring(key_a, sizeof(key_a), NULL, 0);
    const char *tok = seal_str(kr, "session", "user=alice;path=adfs");
    unsigned char *dec;
    size_t len, i;
    int bit;

    (void)state;
    assert_int_equal(afb_b64url_decode(pool, tok, strlen(tok), &dec, &len), AFB_OK);
    for (i = 0; i < len; i++) {
        for (bit = 0; bit < 8; bit++) {
            unsigned char *copy = apr_pmemdup(pool, dec, len);
            copy[i] ^= (unsigned char)(1u << bit);
            if (unseal_st(kr, "session", afb_b64url_encode(pool, copy, len)) != AFB_EINVAL) {
                fail_msg("flipping bit %d of byte %zu was accepted", bit, i);
            }
        }
    }
    /* Untouched it still opens: the loop above tested tampering, not a broken token. */
    assert_int_equal(unseal_st(kr, "session", tok), AFB_OK);
}

static void test_every_truncation(void **state)
{
    afb_keyring_t *kr = ring(key_a, sizeof(key_a), NULL, 0);
    const char *tok = seal_str(kr, "session", "user=alice;path=adfs");
    unsigned char *dec;
    size_t len, i;

    (void)state;
    for (i = 0; i < strlen(tok); i++) {
        if (unseal_st(kr, "session", apr_pstrndup(pool, tok, i)) != AFB_EINVAL) {
            fail_msg("text truncated to %zu chars accepted", i);
        }
    }
    assert_int_equal(afb_b64url_decode(pool, tok, strlen(tok), &dec, &len), AFB_OK);
    for (i = 0; i < len; i++) {
        if (unseal_st(kr, "session", afb_b64url_encode(pool, dec, i)) != AFB_EINVAL) {
            fail_msg("token truncated to %zu bytes accepted", i);
        }
    }
    /* Extended by a byte, or by text, is no better. */
    {
        unsigned char *longer = apr_palloc(pool, len + 1);
        memcpy(longer, dec, len);
        longer[len] = 0;
        assert_int_equal(unseal_st(kr, "session", afb_b64url_encode(pool, longer, len + 1)),
                         AFB_EINVAL);
        assert_int_equal(unseal_st(kr, "session", apr_pstrcat(pool, tok, "A", NULL)), AFB_EINVAL);
        assert_int_equal(unseal_st(kr, "session", apr_pstrcat(pool, tok, "=", NULL)), AFB_EINVAL);
        assert_int_equal(unseal_st(kr, "session", apr_pstrcat(pool, " ", tok, NULL)), AFB_EINVAL);
    }
}

static void test_wrong_purpose(void **state)
{
    afb_keyring_t *kr = ring(key_a, sizeof(key_a), NULL, 0);
    const char *tok = seal_str(kr, "flow", "stage=1");

    (void)state;
    assert_int_equal(unseal_st(kr, "flow", tok), AFB_OK);
    assert_int_equal(unseal_st(kr, "session", tok), AFB_EINVAL);
    assert_int_equal(unseal_st(kr, "Flow", tok), AFB_EINVAL);
    assert_int_equal(unseal_st(kr, "flowx", tok), AFB_EINVAL);
    assert_int_equal(unseal_st(kr, "", tok), AFB_EINVAL);
}

static void test_garbage(void **state)
{
    static const char *const bad[] = {
        "", "x", "AAAA", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "!!!!", "deleted", "null", "%00", "AQ", "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    };
    afb_keyring_t *kr = ring(key_a, sizeof(key_a), NULL, 0);
    unsigned char *pt;
    size_t len, i;
    char *huge;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (unseal_st(kr, "session", bad[i]) != AFB_EINVAL) {
            fail_msg("accepted \"%s\"", bad[i]);
        }
    }
    assert_int_equal(afb_unseal(kr, pool, "session", NULL, &pt, &len), AFB_EINVAL);
    /* A huge cookie is refused before any decoding work. */
    huge = apr_palloc(pool, 100001);
    memset(huge, 'A', 100000);
    huge[100000] = '\0';
    assert_int_equal(unseal_st(kr, "session", huge), AFB_EINVAL);
}

static void test_rotation(void **state)
{
    afb_keyring_t *only_a = ring(key_a, sizeof(key_a), NULL, 0);
    afb_keyring_t *b_then_a = ring(key_b, sizeof(key_b), key_a, sizeof(key_a));
    afb_keyring_t *only_b = ring(key_b, sizeof(key_b), NULL, 0);
    const char *by_a = seal_str(only_a, "session", "sealed with A");
    const char *by_ring = seal_str(b_then_a, "session", "sealed with B");
    unsigned char *pt;
    size_t len;

    (void)state;
    assert_int_equal(afb_keyring_count(b_then_a), 2);
    assert_int_equal(afb_unseal(b_then_a, pool, "session", by_a, &pt, &len), AFB_OK);
    assert_memory_equal(pt, "sealed with A", len);
    assert_int_equal(unseal_st(only_b, "session", by_a), AFB_EINVAL);
    /* The first key seals: B alone opens it, A alone does not. */
    assert_int_equal(unseal_st(only_b, "session", by_ring), AFB_OK);
    assert_int_equal(unseal_st(only_a, "session", by_ring), AFB_EINVAL);
}

static void test_same_key_file_on_two_nodes(void **state)
{
    afb_keyring_t *node1 = ring(key_a, sizeof(key_a), NULL, 0);
    afb_keyring_t *node2 = ring(key_a, sizeof(key_a), NULL, 0);

    (void)state;
    assert_int_equal(unseal_st(node2, "session", seal_str(node1, "session", "x")), AFB_OK);
}

static void test_key_length(void **state)
{
    afb_keyring_t *kr = afb_keyring_create(pool);

    (void)state;
    assert_int_equal(afb_keyring_add(kr, key_a, 31), AFB_EINVAL);
    assert_int_equal(afb_keyring_add(kr, key_a, 0), AFB_EINVAL);
    assert_int_equal(afb_keyring_add(kr, NULL, 32), AFB_EINVAL);
    assert_int_equal(afb_keyring_count(kr), 0);
    assert_int_equal(afb_keyring_add(kr, key_a, 32), AFB_OK);
    assert_int_equal(afb_keyring_count(kr), 1);
}

static void test_empty_keyring(void **state)
{
    afb_keyring_t *kr = afb_keyring_create(pool);
    afb_keyring_t *good = ring(key_a, sizeof(key_a), NULL, 0);
    const char *tok = NULL;
    unsigned char mac[32];

    (void)state;
    assert_int_not_equal(afb_seal(kr, pool, "session", (const unsigned char *)"x", 1, &tok), AFB_OK);
    assert_int_equal(unseal_st(kr, "session", seal_str(good, "session", "x")), AFB_EINVAL);
    assert_int_not_equal(afb_keyring_mac(kr, "x", 1, mac), AFB_OK);
}

static void test_size_cap(void **state)
{
    afb_keyring_t *kr = ring(key_a, sizeof(key_a), NULL, 0);
    size_t big = 64 * 1024;
    unsigned char *buf = apr_pcalloc(pool, big);
    const char *tok = NULL;

    (void)state;
    assert_int_equal(afb_seal(kr, pool, "session", buf, big, &tok), AFB_ETOOBIG);
    /* 4 KiB (more than any cookie needs) still works. */
    assert_int_equal(afb_seal(kr, pool, "session", buf, 4096, &tok), AFB_OK);
    assert_int_equal(unseal_st(kr, "session", tok), AFB_OK);
}

static void test_mac(void **state)
{
    afb_keyring_t *a1 = ring(key_a, sizeof(key_a), NULL, 0);
    afb_keyring_t *a2 = ring(key_a, sizeof(key_a), key_b, sizeof(key_b));
    afb_keyring_t *b = ring(key_b, sizeof(key_b), key_a, sizeof(key_a));
    unsigned char m1[32], m2[32], m3[32], m4[32];

    (void)state;
    assert_int_equal(afb_keyring_mac(a1, "alice", 5, m1), AFB_OK);
    assert_int_equal(afb_keyring_mac(a2, "alice", 5, m2), AFB_OK);
    assert_int_equal(afb_keyring_mac(b, "alice", 5, m3), AFB_OK);
    assert_int_equal(afb_keyring_mac(a1, "alicf", 5, m4), AFB_OK);
    assert_memory_equal(m1, m2, 32);     /* keyed by the first key only */
    assert_memory_not_equal(m1, m3, 32); /* another first key, another MAC */
    assert_memory_not_equal(m1, m4, 32);
    assert_null(memmem(m1, 32, "alice", 5));
}

/* Known answers computed independently (Python "cryptography": HKDF-SHA256 with salt
 * "mod_auth_fallback v1", info "seal"/"mac"; AES-256-GCM, nonce 01..0c, AAD 0x01 "session").
 * They pin the format: cookies sealed by one build must open in the next. */
static void test_known_token(void **state)
{
    static const char tok[] = "AQECAwQFBgcICQoLDFbUeJqoSAi7oddTk5joGjIn5Pt9nMnStPZxbB9M5HWp";
    afb_keyring_t *kr = ring(key_a, sizeof(key_a), NULL, 0);
    unsigned char *pt = NULL;
    size_t len = 0;

    (void)state;
    assert_int_equal(afb_unseal(kr, pool, "session", tok, &pt, &len), AFB_OK);
    assert_int_equal(len, 16);
    assert_memory_equal(pt, "known plaintext!", 16);
}

static void test_known_mac(void **state)
{
    static const unsigned char expect[32] = {
        0x15, 0x04, 0x83, 0x7c, 0x52, 0xd3, 0x9f, 0x29, 0xe6, 0xe0, 0xdc, 0xf0, 0xb5, 0xd4, 0x6c, 0x29,
        0xb2, 0xce, 0x01, 0x2a, 0x0e, 0xe7, 0x33, 0x4e, 0xf0, 0x2a, 0x1a, 0x11, 0x91, 0xbc, 0x58, 0x66,
    };
    afb_keyring_t *kr = ring(key_a, sizeof(key_a), NULL, 0);
    unsigned char mac[32];

    (void)state;
    assert_int_equal(afb_keyring_mac(kr, "alice", 5, mac), AFB_OK);
    assert_memory_equal(mac, expect, 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_token_layout_and_nonce),
        cmocka_unit_test(test_tamper_every_byte),
        cmocka_unit_test(test_every_truncation),
        cmocka_unit_test(test_wrong_purpose),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_rotation),
        cmocka_unit_test(test_same_key_file_on_two_nodes),
        cmocka_unit_test(test_key_length),
        cmocka_unit_test(test_empty_keyring),
        cmocka_unit_test(test_size_cap),
        cmocka_unit_test(test_mac),
        cmocka_unit_test(test_known_token),
        cmocka_unit_test(test_known_mac),
    };
    int rc;

    apr_initialize();
    rc = cmocka_run_group_tests(tests, setup, teardown);
    apr_terminate();
    return rc;
}
