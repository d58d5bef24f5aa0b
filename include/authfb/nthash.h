/* NT hashes (MD4 of the UTF-16LE password, what Active Directory keeps) and the store format
 * derived from them, `$nt-pbkdf2-sha256$ROUNDS$SALT$HASH`: PBKDF2-HMAC-SHA256 of the 16-byte
 * NT hash, passlib's adapted base64 for salt and hash (docs/providers.md, "Active Directory
 * password hash sync"). The store format itself is in pwstore.h.
 *
 * MD4 lives in OpenSSL's `legacy` provider. It is loaded once per process into a library
 * context of our own (OSSL_LIB_CTX), never into the default one, so the providers the rest of
 * the server uses (mod_ssl) are untouched. When it cannot be loaded, afb_nthash() returns
 * AFB_EIO and afb_nthash_available() says why; nothing else fails. Thread-safe. */
#ifndef AUTHFB_NTHASH_H
#define AUTHFB_NTHASH_H

#include "authfb/common.h"

#define AFB_NTHASH_LEN 16

/* 1 when MD4 can be used in this process; else 0 and *reason (static text) says why. */
int afb_nthash_available(const char **reason);

/* The NT hash of a UTF-8 password: AFB_OK; AFB_EINVAL for text that is not UTF-8; AFB_EIO when
 * MD4 is unavailable; AFB_ERR when OpenSSL fails. */
afb_status_t afb_nthash(const char *password, size_t len,
                        unsigned char out[AFB_NTHASH_LEN]) AFB_MUST_CHECK;

/* 32 hex digits (either case) into 16 bytes: AFB_OK or AFB_EINVAL. */
afb_status_t afb_nthash_from_hex(const char *hex, size_t len,
                                 unsigned char out[AFB_NTHASH_LEN]) AFB_MUST_CHECK;

/* 1 when text is a raw NT hash as a store line might carry one by mistake (32 hex digits,
 * or `$NT$` followed by them): a password equivalent, refused by the store. */
int afb_nthash_is_raw(const char *text);

#endif
