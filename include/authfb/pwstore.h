/* The synchronized password-hash store: `user:hash` lines (htpasswd-compatible).
 * Hash formats: yescrypt $y$, bcrypt $2y$/$2b$/$2a$, SHA-512/256-crypt $6$/$5$ (libxcrypt),
 * PBKDF2-SHA256 $pbkdf2-sha256$ROUNDS$SALT$HASH (passlib's adapted base64, OpenSSL),
 * the same over an NT hash $nt-pbkdf2-sha256$ (below), and the weak APR formats $apr1$ and
 * {SHA} (accepted, counted as weak). */
#ifndef AUTHFB_PWSTORE_H
#define AUTHFB_PWSTORE_H

#include "authfb/common.h"
#include "authfb/nthash.h"
#include "authfb/util.h"
#include <apr_tables.h>

#define AFB_PW_MAX_LINE 4096
#define AFB_PW_MAX_PASSWORD 1024

typedef struct afb_pwstore_t afb_pwstore_t;

typedef enum {
    AFB_HASH_UNKNOWN = 0,
    AFB_HASH_YESCRYPT,
    AFB_HASH_BCRYPT,
    AFB_HASH_SHA512CRYPT,
    AFB_HASH_SHA256CRYPT,
    AFB_HASH_PBKDF2_SHA256,
    AFB_HASH_APR1,   /* weak */
    AFB_HASH_SHA1,   /* {SHA}, weak */
    AFB_HASH_NT_PBKDF2 /* $nt-pbkdf2-sha256$: PBKDF2 of the NT hash (nthash.h) */
} afb_hash_kind_t;

/* ---- the format derived from Active Directory's NT hashes ---- */
#define AFB_NTPBKDF2_PREFIX "$nt-pbkdf2-sha256$"
#define AFB_NTPBKDF2_SALT 16            /* bytes of salt in new entries, the least accepted */
#define AFB_NTPBKDF2_MIN_ROUNDS 100000L /* the least afb-phs-sync writes */
/* One verification about as costly as a yescrypt verification at libxcrypt's default cost
 * (measured: docs/benchmarks.md, "Cost of one password verification"). */
#define AFB_NTPBKDF2_DEFAULT_ROUNDS 100000L

/* A store entry for an NT hash: a fresh random salt of AFB_NTPBKDF2_SALT bytes. */
afb_status_t afb_ntpbkdf2_make(apr_pool_t *p, const unsigned char nt[AFB_NTHASH_LEN],
                               long rounds, const char **out) AFB_MUST_CHECK;
/* The same with a given salt (tests, and re-deriving an existing entry). */
afb_status_t afb_ntpbkdf2_make_salted(apr_pool_t *p, const unsigned char nt[AFB_NTHASH_LEN],
                                      long rounds, const unsigned char *salt, size_t salt_len,
                                      const char **out) AFB_MUST_CHECK;

/* Compare an NT hash with a stored entry: AFB_OK when it matches, AFB_EMISMATCH when not,
 * AFB_EINVAL for a malformed entry, AFB_ERR on library failure. Constant-time compare. */
afb_status_t afb_ntpbkdf2_check(const char *entry, const unsigned char nt[AFB_NTHASH_LEN])
    AFB_MUST_CHECK;

afb_hash_kind_t afb_hash_kind(const char *hash);
int afb_hash_is_weak(afb_hash_kind_t k);

/* Verify one password against one hash: AFB_OK, AFB_EMISMATCH, AFB_EINVAL for an
 * unusable hash, AFB_EIO for an NT-derived hash when MD4 is unavailable (nthash.h). Comparison of the computed and stored hash is constant-time. */
afb_status_t afb_hash_verify(apr_pool_t *p, const char *hash, const char *password) AFB_MUST_CHECK;

/* Parse a whole store. Blank lines and lines starting with '#' are skipped. A raw NT hash
 * (afb_nthash_is_raw: a password equivalent) is never loaded: its line is skipped and counted
 * by afb_pwstore_refused_nt(), whoever loads the store warns. A line that cannot be used (no
 * ':', empty or over-long user name, unknown or refused hash scheme, malformed hash, a user
 * already given on an earlier line, over-long line, NUL byte) is left out and recorded in
 * afb_pwstore_skips() as "line N: reason" (never the hash itself); the other users still
 * load. A store with records but none usable fails as a whole (AFB_EINVAL, *err says so).
 * *weak counts APR-format entries. */
afb_status_t afb_pwstore_parse(apr_pool_t *p, const char *text, size_t len,
                               afb_pwstore_t **out, int *weak, const char **err) AFB_MUST_CHECK;
/* The hash verified for an unknown user: the first entry of the store's most common kind
 * and cost (a tie: the class met first in the file); a fixed yescrypt hash for an empty
 * store. */
const char *afb_pwstore_dummy_hash(const afb_pwstore_t *s);
int afb_pwstore_count(const afb_pwstore_t *s);
/* The stored hash of a user, or NULL. */
const char *afb_pwstore_lookup(const afb_pwstore_t *s, const char *user);
/* Every user name of the store (const char *, in no particular order). */
apr_array_header_t *afb_pwstore_users(const afb_pwstore_t *s, apr_pool_t *p);
/* The rounds of an NT-derived entry, or 0 when it is not one. */
long afb_ntpbkdf2_rounds(const char *entry);
/* The lines the parse left out as unusable (never NULL for a parsed store). */
const afb_skips_t *afb_pwstore_skips(const afb_pwstore_t *s);
/* Lines skipped because they carried a raw NT hash. */
int afb_pwstore_refused_nt(const afb_pwstore_t *s);
/* Entries in the NT-derived format (they need MD4: afb_nthash_available()). */
int afb_pwstore_count_nt(const afb_pwstore_t *s);

/* AFB_OK when user exists and password matches, AFB_EMISMATCH for a wrong password,
 * AFB_ENOENT for an unknown user -- after spending the same verification work as for a
 * known one (a dummy verification against a hash of the store's usual kind and cost).
 * Passwords over AFB_PW_MAX_PASSWORD bytes (511 for the crypt(3) formats, libxcrypt's limit)
 * are a mismatch after the same work. AFB_EINVAL when a stored hash proves unusable at
 * verification time, AFB_EIO when an NT-derived entry meets a process without MD4, AFB_ERR
 * when memory or a library fails. */
afb_status_t afb_pwstore_verify(const afb_pwstore_t *s, apr_pool_t *p, const char *user,
                                const char *password) AFB_MUST_CHECK;

#endif
