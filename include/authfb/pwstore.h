/* The synchronized password-hash store: `user:hash` lines (htpasswd-compatible).
 * Hash formats: yescrypt $y$, bcrypt $2y$/$2b$/$2a$, SHA-512/256-crypt $6$/$5$ (libxcrypt),
 * PBKDF2-SHA256 $pbkdf2-sha256$ROUNDS$SALT$HASH (passlib's adapted base64, OpenSSL),
 * and the weak APR formats $apr1$ and {SHA} (accepted, counted as weak). */
#ifndef AUTHFB_PWSTORE_H
#define AUTHFB_PWSTORE_H

#include "authfb/common.h"

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
    AFB_HASH_SHA1    /* {SHA}, weak */
} afb_hash_kind_t;

afb_hash_kind_t afb_hash_kind(const char *hash);
int afb_hash_is_weak(afb_hash_kind_t k);

/* Verify one password against one hash: AFB_OK, AFB_EMISMATCH, or AFB_EINVAL for an
 * unusable hash. Comparison of the computed and stored hash is constant-time. */
afb_status_t afb_hash_verify(apr_pool_t *p, const char *hash, const char *password) AFB_MUST_CHECK;

/* Parse a whole store. Blank lines and lines starting with '#' are skipped. Any malformed
 * line (no ':', empty user, unknown hash format, duplicate user, over-long line) fails the
 * whole parse with *err = "line N: reason" (never the hash itself). *weak counts APR-format
 * entries. */
afb_status_t afb_pwstore_parse(apr_pool_t *p, const char *text, size_t len,
                               afb_pwstore_t **out, int *weak, const char **err) AFB_MUST_CHECK;
int afb_pwstore_count(const afb_pwstore_t *s);

/* AFB_OK when user exists and password matches, AFB_EMISMATCH for a wrong password,
 * AFB_ENOENT for an unknown user -- after spending the same verification work as for a
 * known one (a dummy verification against a hash of the store's usual kind and cost).
 * Passwords over AFB_PW_MAX_PASSWORD bytes (511 for the crypt(3) formats, libxcrypt's limit)
 * are a mismatch after the same work. AFB_EINVAL when a stored hash proves unusable at
 * verification time, AFB_ERR when memory or a library fails. */
afb_status_t afb_pwstore_verify(const afb_pwstore_t *s, apr_pool_t *p, const char *user,
                                const char *password) AFB_MUST_CHECK;

#endif
