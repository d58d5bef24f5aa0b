/* Caps and intervals of the module, in one list (as curl keeps its DYN_* caps together in
 * dynbuf.h): every size the module accepts from a file or the network, and every period it
 * keeps, is defined here once and used by name. Caps of a core parser's own format stay in
 * that parser's header, beside the contract they belong to (AFB_OIDC_MAX_DOC in oidc.h,
 * AFB_HTTP_DEFAULT_MAX_RESPONSE in http.h, AFB_RADIUS_MAX_PACKET in radius.h, ...).
 * What an administrator sees of them is in docs/directives.md and docs/operations.md. */
#ifndef AUTHFB_LIMITS_H
#define AUTHFB_LIMITS_H

#include <apr_time.h>

/* ---- sizes (bytes) ---- */
#define AFB_STORE_MAX_BYTES (64 * 1024 * 1024) /* a password or TOTP store file */
#define AFB_KEY_MAX_BYTES 65536                 /* an AuthFallbackCryptoKey file */
#define AFB_SECRET_MAX_BYTES 4096               /* a client secret or RADIUS secret file */
#define AFB_FORM_MAX_BYTES 8192                 /* a POSTed form */
#define AFB_CODE_MAX_BYTES 16                   /* a second-factor code in the MFA form */
#define AFB_COOKIE_HEADER_MAX_BYTES 16384       /* a Cookie header we look into */
#define AFB_EVENT_MAX_LINE 4000                 /* an event-log line (under PIPE_BUF) */
#define AFB_OVERRIDE_WARNINGS_MAX 1024          /* override-file warnings remembered */

/* ---- counts ---- */
#define AFB_EVENT_RATE_KEYS 1024   /* rate-limited event keys kept per process */
#define AFB_OIDC_MAX_PENDING 4     /* OIDC sign-ins (tabs) kept per browser */

/* ---- the shared table of throttle and single-use records (AuthFallbackCache shmcb) ---- */
#define AFB_TABLE_DEFAULT_SLOTS 65536u /* about 48 bytes each: 3 MiB (docs/operations.md) */
#define AFB_TABLE_MIN_SLOTS 1024u
#define AFB_TABLE_MAX_SLOTS 16777216u

/* ---- lifetimes (seconds) ---- */
#define AFB_FLOW_LIFETIME 600          /* a sign-in form stays usable */
#define AFB_OIDC_PENDING_LIFETIME 600  /* to finish at the OpenID Provider; a state's single use */
#define AFB_TOTP_REPLAY_TTL 3600       /* the last accepted TOTP step of a user */
#define AFB_REMOTE_CODE_TTL 300        /* a code any MFA provider accepted, used once */
#define AFB_RETRY_AFTER 30             /* Retry-After of the 503 page */
#define AFB_STATUS_REFRESH 10          /* the status page reloads itself (unless turned off) */
#define AFB_WEBAUTHN_CHALLENGE_LIFETIME 300 /* a passkey challenge; its single use as long */

/* ---- intervals ---- */
#define AFB_CHECKER_TICK apr_time_from_msec(100)     /* the health checker's watchdog tick */
#define AFB_OVERRIDE_EVERY apr_time_from_msec(500)   /* override file read at most this often */
#define AFB_STORE_CHECK_EVERY apr_time_from_sec(1)   /* a store file's stat, per child */
#define AFB_STORE_LOCK_WAIT apr_time_from_sec(2)     /* a module-written store's file lock */
/* A password verification waiting for its turn goes ahead after this (under httpd's Timeout). */
#define AFB_VGATE_MAX_WAIT apr_time_from_sec(30)
#define AFB_ROSTER_WRITE_EVERY apr_time_from_sec(2)   /* the checker writes sightings */
#define AFB_ROSTER_EXPIRE_EVERY apr_time_from_sec(3600) /* ... and drops the unseen */
#define AFB_READINESS_EVERY apr_time_from_sec(60)    /* recomputed after sign-ins at most */
#define AFB_READINESS_STORE_CHECK apr_time_from_sec(1) /* store files stat()ed for changes */
#define AFB_ROSTER_DROP_WARN_EVERY apr_time_from_sec(60) /* AFB01464 at most this often */
#define AFB_CHECKER_STALE apr_time_from_sec(10)      /* checker silent this long: health stale */
#define AFB_CHECKER_STALE_WARN_EVERY apr_time_from_sec(60) /* AFB01010 at most this often */
#define AFB_EVENT_RATE_EVERY apr_time_from_sec(10)   /* high-rate events, per key and process */
#define AFB_OIDC_KID_REFRESH_EVERY apr_time_from_sec(60) /* JWKS refetch for an unknown kid */
#define AFB_OIDC_REFETCH_AFTER_FAILURE apr_time_from_sec(10) /* waiters behind a failed fetch */

#endif
