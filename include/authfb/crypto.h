/* Authenticated encryption of cookie payloads (AES-256-GCM, OpenSSL 3 EVP).
 * An opaque keyring: the first key seals, every key opens (rotation). Keys are derived with
 * HKDF-SHA256 from the bytes of each AuthFallbackCryptoKey file and zeroed in a pool cleanup. */
#ifndef AUTHFB_CRYPTO_H
#define AUTHFB_CRYPTO_H

#include "authfb/common.h"

#define AFB_KEY_MIN_BYTES 32

typedef struct afb_keyring_t afb_keyring_t;

afb_keyring_t *afb_keyring_create(apr_pool_t *p);
/* ikm: the key file's bytes (>= AFB_KEY_MIN_BYTES, else AFB_EINVAL). */
afb_status_t afb_keyring_add(afb_keyring_t *kr, const unsigned char *ikm, size_t len) AFB_MUST_CHECK;
int afb_keyring_count(const afb_keyring_t *kr);

/* Seal pt into printable base64url text (cookie-safe). `purpose` (e.g. "session", "flow")
 * is bound as associated data so one kind of token can never be replayed as another. */
afb_status_t afb_seal(const afb_keyring_t *kr, apr_pool_t *p, const char *purpose,
                      const unsigned char *pt, size_t len, const char **out) AFB_MUST_CHECK;
/* Open a sealed text: AFB_EINVAL for anything not sealed by one of our keys with this
 * purpose (tampered, truncated, garbage, wrong purpose). */
afb_status_t afb_unseal(const afb_keyring_t *kr, apr_pool_t *p, const char *purpose,
                        const char *in, unsigned char **pt, size_t *len) AFB_MUST_CHECK;

/* HMAC-SHA256 keyed by the first key (derived separately from the sealing key); used for
 * cache keys that must not reveal user names. out: 32 bytes. */
afb_status_t afb_keyring_mac(const afb_keyring_t *kr, const void *data, size_t len,
                             unsigned char out[32]) AFB_MUST_CHECK;

#endif
