/* RFC 6238 TOTP (RFC 4226 HOTP underneath) and the local secrets store:
 * `user:BASE32SECRET[:digits:period:sha1|sha256|sha512]` lines. */
#ifndef AUTHFB_TOTP_H
#define AUTHFB_TOTP_H

#include "authfb/common.h"

typedef enum { AFB_TOTP_SHA1 = 0, AFB_TOTP_SHA256, AFB_TOTP_SHA512 } afb_totp_alg_t;

typedef struct {
    const char *user;
    unsigned char *secret;
    size_t secret_len;
    int digits;        /* 6..8, default 6 */
    int period;        /* seconds, default 30 */
    afb_totp_alg_t alg;/* default sha1 */
} afb_totp_entry_t;

typedef struct afb_totp_store_t afb_totp_store_t;

/* RFC 4648 base32 (case-insensitive, optional '=' padding, spaces ignored). */
afb_status_t afb_base32_decode(apr_pool_t *p, const char *in, unsigned char **out,
                               size_t *outlen) AFB_MUST_CHECK;

/* HOTP value for one counter (already reduced to `digits` digits). */
afb_status_t afb_hotp(const unsigned char *key, size_t keylen, afb_totp_alg_t alg,
                      uint64_t counter, int digits, uint32_t *code) AFB_MUST_CHECK;

/* Check `code` (exactly e->digits ASCII digits) against steps now-window..now+window.
 * Every step is computed and compared in constant time (no early exit).
 * AFB_OK with *step = the matching time step; AFB_EMISMATCH; AFB_EINVAL for a code that is
 * not digits of the right length. Replay is the caller's job (it records *step). */
afb_status_t afb_totp_verify(const afb_totp_entry_t *e, const char *code, apr_time_t now,
                             int window, int64_t *step) AFB_MUST_CHECK;

afb_status_t afb_totp_store_parse(apr_pool_t *p, const char *text, size_t len,
                                  afb_totp_store_t **out, const char **err) AFB_MUST_CHECK;
const afb_totp_entry_t *afb_totp_store_find(const afb_totp_store_t *s, const char *user);
int afb_totp_store_count(const afb_totp_store_t *s);

#endif
