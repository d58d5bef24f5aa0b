/* Shared short-lived state (TOTP replay, throttling, nonce replay) behind a small vtable;
 * the adapter implements it over httpd's socache providers. A miss (AFB_ENOENT) is always
 * told apart from a backend failure (AFB_EIO). */
#ifndef AUTHFB_CACHE_H
#define AUTHFB_CACHE_H

#include "authfb/common.h"

#define AFB_CACHE_MAX_KEY 128
#define AFB_CACHE_MAX_VALUE 256

typedef struct afb_cache_t afb_cache_t;
struct afb_cache_t {
    void *baton;
    /* *len: in = capacity of val, out = bytes stored. */
    afb_status_t (*get)(afb_cache_t *c, const char *key, unsigned char *val, size_t *len,
                        apr_pool_t *p);
    afb_status_t (*set)(afb_cache_t *c, const char *key, const unsigned char *val, size_t len,
                        apr_time_t expiry, apr_pool_t *p);
};

#endif
