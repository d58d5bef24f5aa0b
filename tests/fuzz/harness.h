/* Shared pieces of the fuzz targets: one APR initialisation per process, a fixed keyring,
 * fixed signing keys and the fixed JWKS of their public halves, and the input helpers.
 * Every target defines LLVMFuzzerTestOneInput; it is driven either by libFuzzer or by
 * standalone.c (seed corpus plus deterministic mutations, run by the unit suite). */
#ifndef AFB_FUZZ_HARNESS_H
#define AFB_FUZZ_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <apr_pools.h>
#include <openssl/evp.h>

#include "authfb/crypto.h"
#include "authfb/jose.h"

/* The clock of every target: 2024-01-01T00:00:00Z. */
#define AFB_FUZZ_NOW ((apr_time_t)1704067200 * APR_USEC_PER_SEC)
/* The fixed kids of the JWKS and the client the ID tokens are for. */
#define AFB_FUZZ_KID_EC "fuzz-ec"
#define AFB_FUZZ_KID_RSA "fuzz-rsa"
#define AFB_FUZZ_ISSUER "https://op.example"
#define AFB_FUZZ_CLIENT "fuzz-client"
#define AFB_FUZZ_NONCE "fuzz-nonce"
#define AFB_FUZZ_STATE "fuzz-state"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* apr_initialize() and the fixed material, once per process; aborts on failure. */
void afb_fuzz_init(void);
/* Around the creation of anything a target keeps for the whole process: not reported as
 * a leak by LeakSanitizer (pool memory may be invisible to it). */
void afb_fuzz_lasting_begin(void);
void afb_fuzz_lasting_end(void);
/* A fresh pool for one input; the caller destroys it. */
apr_pool_t *afb_fuzz_pool(void);
/* The input as a NUL-terminated copy (an embedded NUL ends the string early). */
char *afb_fuzz_cstr(apr_pool_t *p, const uint8_t *data, size_t size);

/* The keyring every cookie target seals and opens with. */
const afb_keyring_t *afb_fuzz_keyring(void);
/* The test-only signing keys (never used outside the fuzz targets). */
EVP_PKEY *afb_fuzz_ec_key(void);
EVP_PKEY *afb_fuzz_rsa_key(void);
/* The JWKS text of the two public keys, and its parsed form. */
const char *afb_fuzz_jwks_text(void);
const afb_jwks_t *afb_fuzz_jwks(void);

#endif
