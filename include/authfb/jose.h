/* JOSE for the OpenID Connect relying party: JWK sets (RFC 7517) and compact JWS
 * verification (RFC 7515) with OpenSSL 3 EVP keys and jansson.
 *
 * Accepted: RSA keys (>= 2048 bits) for RS256 and PS256, EC P-256 keys for ES256.
 * Always refused: "none", every HS* (so a public key can never be used as an HMAC secret),
 * any other algorithm. All input is capped in size; base64url is strict (no padding, no
 * characters outside the url alphabet). */
#ifndef AUTHFB_JOSE_H
#define AUTHFB_JOSE_H

#include "authfb/common.h"
#include <jansson.h>

#define AFB_JWKS_MAX_BYTES (64 * 1024) /* size of a JWKS document */
#define AFB_JWKS_MAX_KEYS 32           /* entries of its "keys" array */
#define AFB_JWT_MAX_BYTES (16 * 1024)  /* size of a compact JWS */

/* Signature algorithms as a bit set (the caller's allow-list). */
typedef enum {
    AFB_JWS_RS256 = 1u << 0,
    AFB_JWS_PS256 = 1u << 1,
    AFB_JWS_ES256 = 1u << 2
} afb_jws_alg_t;
#define AFB_JWS_ALL (AFB_JWS_RS256 | AFB_JWS_PS256 | AFB_JWS_ES256)

/* The bit of an algorithm name, 0 for anything refused or unknown ("none", "HS256", ...). */
unsigned afb_jws_alg_from_name(const char *name);
const char *afb_jws_alg_name(unsigned alg);

/* A parsed key set; lives as long as the pool it was parsed into (OpenSSL keys are freed
 * in a cleanup of that pool). Read-only after parsing: safe to share between threads. */
typedef struct afb_jwks_t afb_jwks_t;

/* Parse a JWKS document. Keys with an unknown kty or crv, use other than "sig", or missing
 * or malformed members are skipped (the reason of the last skip is kept). Returns
 * AFB_ETOOBIG (document or key count over the caps), AFB_EINVAL (not a JWKS, or no usable
 * key), AFB_OK. *reason is set on every failure and says what was wrong. */
afb_status_t afb_jwks_parse(apr_pool_t *p, const char *json, size_t len, afb_jwks_t **out,
                            const char **reason) AFB_MUST_CHECK;
int afb_jwks_count(const afb_jwks_t *jwks);           /* usable keys */
int afb_jwks_has_kid(const afb_jwks_t *jwks, const char *kid);

/* The result of a verified JWS. */
typedef struct {
    const char *alg;
    const char *kid;        /* NULL when the header has none */
    json_t *payload;        /* the claims object; released in a cleanup of the pool */
} afb_jws_t;

/* Verify a compact JWS against the key set. `allowed` is the caller's bit set (from the
 * provider's id_token_signing_alg_values_supported). The algorithm must be allowed, be
 * consistent with the key's kty and with the key's own "alg" when it has one.
 * With a "kid" only keys of that kid are tried; without one, every key of the right kty.
 * Returns:
 *   AFB_OK        signature valid, out filled;
 *   AFB_ENOENT    no key of that kid (the caller may refresh the JWKS once and retry);
 *   AFB_EMISMATCH signature does not verify;
 *   AFB_EINVAL    malformed token, refused or unlisted algorithm, payload not an object;
 *   AFB_ETOOBIG   token over AFB_JWT_MAX_BYTES.
 * *reason is set on every failure; it never contains the token. */
afb_status_t afb_jws_verify(apr_pool_t *p, const afb_jwks_t *jwks, const char *token,
                            unsigned allowed, afb_jws_t *out, const char **reason) AFB_MUST_CHECK;

#endif
