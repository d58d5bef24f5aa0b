/* Test keys and token signing for the JOSE and OIDC unit tests: an independent encoder
 * (not the one under test) so a bug in the core cannot hide itself. */
#ifndef AFB_TEST_JWT_FIXTURES_H
#define AFB_TEST_JWT_FIXTURES_H

#include <apr_pools.h>
#include <openssl/evp.h>

/* Keys live until the pool goes. */
EVP_PKEY *fx_rsa_key(apr_pool_t *p, int bits);
EVP_PKEY *fx_ec_key(apr_pool_t *p);

/* Unpadded base64url. */
char *fx_b64url(apr_pool_t *p, const unsigned char *in, size_t len);
char *fx_b64url_str(apr_pool_t *p, const char *s);

/* The public JWK of a key as a JSON object text; kid/alg/use may be NULL (left out). */
const char *fx_jwk(apr_pool_t *p, EVP_PKEY *key, const char *kid, const char *alg,
                   const char *use);
/* {"keys":[jwk1, jwk2, ...]} from NULL-terminated JWK texts. */
const char *fx_jwks(apr_pool_t *p, const char *jwk1, ...);

/* Sign header_json.payload_json with alg (RS256, PS256, ES256) into a compact JWS.
 * HS256 signs with the given secret bytes (for "public key as HMAC secret" attacks).
 * alg "none" gives an empty signature. */
const char *fx_sign(apr_pool_t *p, EVP_PKEY *key, const char *alg, const char *header_json,
                    const char *payload_json);
const char *fx_sign_hs256(apr_pool_t *p, const unsigned char *secret, size_t len,
                          const char *header_json, const char *payload_json);

/* The DER SubjectPublicKeyInfo bytes of key (what an attacker would use as HMAC secret). */
unsigned char *fx_pubkey_der(apr_pool_t *p, EVP_PKEY *key, size_t *len);

#endif
