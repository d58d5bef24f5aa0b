/* RFC 6238 TOTP (RFC 4226 HOTP underneath) and the local secrets store:
 * `user:BASE32SECRET[:digits:period:sha1|sha256|sha512[:created:last-used:label]]` lines.
 * The last three fields are written by the module in stores with `enroll=on` (self-service
 * enrollment): Unix seconds of enrollment and of the last accepted code (0: never), and the
 * person's label (the rest of the line, may hold ':'). */
#ifndef AUTHFB_TOTP_H
#define AUTHFB_TOTP_H

#include "authfb/common.h"
#include "authfb/util.h"

typedef enum { AFB_TOTP_SHA1 = 0, AFB_TOTP_SHA256, AFB_TOTP_SHA512 } afb_totp_alg_t;

typedef struct {
    const char *user;
    unsigned char *secret;
    size_t secret_len;
    int digits;        /* 6..8, default 6 */
    int period;        /* seconds, default 30 */
    afb_totp_alg_t alg;/* default sha1 */
    apr_time_t created;   /* enrolled stores: 0 when not given */
    apr_time_t last_used; /* enrolled stores: 0 when never or not given */
    const char *label;    /* enrolled stores: NULL when not given */
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

/* Parses the secrets store. A line that cannot be used (secret not base32 or shorter than 80
 * bits, bad digits, period or algorithm, empty, over-long or repeated user name, too many
 * fields, over-long line) is left out and recorded in afb_totp_store_skips() as
 * "line N: reason" (never the secret); the others still load. A store with records but none
 * usable fails as a whole (AFB_EINVAL, *err says so). */
afb_status_t afb_totp_store_parse(apr_pool_t *p, const char *text, size_t len,
                                  afb_totp_store_t **out, const char **err) AFB_MUST_CHECK;
const afb_totp_entry_t *afb_totp_store_find(const afb_totp_store_t *s, const char *user);
int afb_totp_store_count(const afb_totp_store_t *s);
const afb_skips_t *afb_totp_store_skips(const afb_totp_store_t *s);
/* Every user name of the store (const char *, in no particular order). */
apr_array_header_t *afb_totp_store_users(const afb_totp_store_t *s, apr_pool_t *p);

/* ---- self-service enrollment (stores with enroll=on) ---- */

#define AFB_TOTP_ENROLL_BYTES 20      /* 160-bit secrets (RFC 4226 section 4) */
#define AFB_TOTP_MAX_LABEL 64

/* RFC 4648 base32, upper case, without padding. */
char *afb_base32_encode(apr_pool_t *p, const unsigned char *in, size_t len);
/* A fresh AFB_TOTP_ENROLL_BYTES random secret in base32 (NULL on RNG failure); the
 * secret's bytes are zeroed when p goes. */
const char *afb_totp_new_secret(apr_pool_t *p);
/* otpauth://totp/ISSUER:USER?secret=...&issuer=...&algorithm=SHA1&digits=6&period=30 (the
 * Key Uri Format of authenticator apps), every part percent-encoded. */
const char *afb_totp_otpauth_uri(apr_pool_t *p, const char *issuer, const char *user,
                                 const char *secret_b32);
/* One store line for a 6-digit, 30-second SHA-1 secret (label cleaned as a passkey's). NULL
 * when user is empty, holds ':' or control characters, or the secret is not base32. */
const char *afb_totp_store_line(apr_pool_t *p, const char *user, const char *secret_b32,
                                apr_time_t created, apr_time_t last_used, const char *label);
/* The store text with user's line replaced by `line` (appended when the user had none;
 * removed when line is NULL). Comments, blank lines and other users' lines stay as they are.
 * AFB_ENOENT when removing a user who has no line. */
afb_status_t afb_totp_store_put(apr_pool_t *p, const char *text, size_t len, const char *user,
                                const char *line, const char **out, size_t *out_len) AFB_MUST_CHECK;

#endif
