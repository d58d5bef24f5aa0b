/* Shared basics of the core: status codes and attributes. No httpd headers here. */
#ifndef AUTHFB_COMMON_H
#define AUTHFB_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <apr_pools.h>
#include <apr_time.h>

#define AFB_MUST_CHECK __attribute__((warn_unused_result))

typedef enum {
    AFB_OK = 0,
    AFB_ERR = 1,       /* internal error (allocation, library failure) */
    AFB_EINVAL = 2,    /* malformed / tampered / unparsable input */
    AFB_ENOENT = 3,    /* not found (cache miss, unknown user) */
    AFB_EEXPIRED = 4,  /* well-formed but past its lifetime */
    AFB_EMISMATCH = 5, /* well-formed but wrong (password, code, signature) */
    AFB_ETOOBIG = 6,   /* over a size cap */
    AFB_ETIMEOUT = 7,  /* deadline reached */
    AFB_EIO = 8,       /* backend / infrastructure error */
    AFB_EREPLAY = 9,   /* already used (TOTP step, nonce, code) */
    AFB_EANSWER = 10   /* the peer answered, but not usably (an HTTP error status, a body that
                        * is not the answer asked for): infrastructure, yet a client may be
                        * able to provoke it, unlike AFB_EIO (the peer could not be reached,
                        * or refused our own credentials) */
} afb_status_t;

const char *afb_status_str(afb_status_t st);

#endif
