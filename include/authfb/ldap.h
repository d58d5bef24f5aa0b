/* Directory pass-through (provider type `ldap`, docs/providers.md): find the person's
 * entry, then bind as that entry with the typed password (OpenLDAP's libldap, TLS only).
 *
 * What the adapter calls:
 *
 *   config        afb_ldap_url_check(), afb_ldap_filter_check() on the provider's words
 *   child_init    afb_ldap_create(pchild, &conf, &ld, &why)  per ldap provider (after the fork:
 *                 the object owns a watchdog thread and a small pool of connections)
 *   sign-in       st = afb_ldap_authenticate(ld, r->pool, user, user_len, password, &res)
 *                 -> res.user is REMOTE_USER
 *   health check  st = afb_ldap_probe(ld, probe_pool, &res)
 *
 * Errors: afb_ldap_is_infra(st) is true for AFB_EIO and AFB_ETIMEOUT only: no server
 * reachable, TLS failure (res.why AFB_LDAP_R_UNTRUSTED_CERT names an untrusted certificate),
 * deadline, busy or unavailable, the service account refused, a search the directory would
 * not run. Those may send the person on to the next path and count as passive evidence
 * against the provider. AFB_ENOENT (no such person, or a name refused before the search) and
 * AFB_EMISMATCH (wrong password, or an account the directory refuses: res.why says why) are
 * the person's failures and never count against the provider. AFB_ERR: memory or library.
 * Code switches on the status and on res.why, never on res.detail, which is a short log text
 * (the directory's words, an URL, a result code) that never holds a password.
 *
 * Deadline: every call ends within conf.timeout (plus the scheduling slack of a thread).
 * The URLs are tried in order inside it; each attempt gets an equal share of the time that is
 * left, so a frozen first server leaves time for the next. libldap does not bound a TLS
 * handshake, so a watchdog thread shuts the socket down at the deadline. Host names are
 * resolved by getaddrinfo(), which the deadline does not bound: a broken resolver can make a
 * call late (configure addresses, or a local resolver that answers).
 *
 * Signals: libldap writes to sockets the server (or the watchdog) may have closed; the process
 * must ignore SIGPIPE, as httpd does.
 *
 * Threads: any number of threads may call at once. A connection is used by one thread at a
 * time; idle connections are kept in a pool under a lock and reused; a connection that saw
 * any failure is closed, never returned to the pool. */
#ifndef AUTHFB_LDAP_H
#define AUTHFB_LDAP_H

#include "authfb/common.h"

#define AFB_LDAP_MAX_USER 256        /* bytes of a typed name; longer is unknown */
#define AFB_LDAP_MAX_PASSWORD 1024   /* bytes; longer is a wrong password, no bind */
#define AFB_LDAP_MAX_VALUE 255       /* bytes of the user_attr value used as REMOTE_USER */
#define AFB_LDAP_MAX_URLS 8
#define AFB_LDAP_MAX_MESSAGE (256 * 1024)  /* bytes of one message from the directory */
#define AFB_LDAP_MAX_DIAG 512        /* bytes of a diagnostic message that are looked at */
#define AFB_LDAP_POOL 4              /* idle connections kept per provider and process */
#define AFB_LDAP_MAX_IDLE APR_INT64_C(60000000)  /* microseconds an idle one is kept */
#define AFB_LDAP_SYSTEM_CA "/etc/ssl/certs/ca-certificates.crt"
#define AFB_LDAP_DEFAULT_FILTER "(&(objectCategory=person)(sAMAccountName=%u))"

int afb_ldap_is_infra(afb_status_t st);

/* Why a call failed. The person's reasons come with AFB_ENOENT / AFB_EMISMATCH; the
 * infrastructure reasons with AFB_EIO / AFB_ETIMEOUT. */
typedef enum {
    AFB_LDAP_R_NONE = 0,
    /* the person's */
    AFB_LDAP_R_UNKNOWN_USER,        /* no entry, AD data 525, or a name refused unsent */
    AFB_LDAP_R_AMBIGUOUS,           /* the filter matches several entries (AFB_ENOENT) */
    AFB_LDAP_R_BAD_PASSWORD,        /* invalidCredentials, AD 52e, an empty password */
    AFB_LDAP_R_TIME_RESTRICTION,    /* AD 530 */
    AFB_LDAP_R_WORKSTATION,         /* AD 531 */
    AFB_LDAP_R_PASSWORD_EXPIRED,    /* AD 532, ppolicy passwordExpired */
    AFB_LDAP_R_DISABLED,            /* AD 533 */
    AFB_LDAP_R_ACCOUNT_EXPIRED,     /* AD 701 */
    AFB_LDAP_R_MUST_CHANGE,         /* AD 773, ppolicy changeAfterReset */
    AFB_LDAP_R_LOCKED,              /* AD 775, ppolicy accountLocked */
    AFB_LDAP_R_BAD_VALUE,           /* user_attr missing or unusable as REMOTE_USER */
    /* the infrastructure's */
    AFB_LDAP_R_TIMEOUT,
    AFB_LDAP_R_UNREACHABLE,         /* connection refused, server down, connection lost */
    AFB_LDAP_R_UNTRUSTED_CERT,      /* the server's certificate is not trusted */
    AFB_LDAP_R_TLS,                 /* another TLS failure (StartTLS refused, handshake) */
    AFB_LDAP_R_BUSY,                /* LDAP busy (51) */
    AFB_LDAP_R_UNAVAILABLE,         /* LDAP unavailable (52), unwillingToPerform (53) */
    AFB_LDAP_R_SERVICE_BIND,        /* the service account's bind refused */
    AFB_LDAP_R_SEARCH,              /* the search failed (base missing, access, ...) */
    AFB_LDAP_R_DIRECTORY,           /* any other answer of the directory */
    AFB_LDAP_R_INTERNAL             /* memory or library failure (AFB_ERR) */
} afb_ldap_reason_t;

/* A fixed token for the event log ("locked", "password_expired", "untrusted_certificate"...). */
const char *afb_ldap_reason_name(afb_ldap_reason_t why);

/* ---- pure helpers: tested alone, fuzzed where they read the directory's words ---- */

/* RFC 4515 3: an assertion value with '*', '(', ')', '\' and NUL (and every byte that is a
 * control character or not ASCII) written as \XX. */
const char *afb_ldap_filter_escape(apr_pool_t *p, const char *in, size_t len);

/* A filter template: starts with '(', parentheses balance, contains %u, no '%' but in "%u"
 * or "%%". AFB_EINVAL with *reason otherwise. */
afb_status_t afb_ldap_filter_check(const char *tmpl, const char **reason) AFB_MUST_CHECK;

/* The template with every %u replaced by the escaped name and %% by %. */
const char *afb_ldap_filter_build(apr_pool_t *p, const char *tmpl, const char *user,
                                  size_t len);

/* A typed name that may be searched for: 1..AFB_LDAP_MAX_USER bytes of valid UTF-8 without
 * control characters. Anything else is AFB_ENOENT (an unknown person), decided unsent. */
afb_status_t afb_ldap_name_check(const char *user, size_t len) AFB_MUST_CHECK;

/* A value of user_attr usable as REMOTE_USER: 1..AFB_LDAP_MAX_VALUE bytes, valid UTF-8, no
 * control characters, no NUL. AFB_EINVAL otherwise. */
afb_status_t afb_ldap_value_check(const char *v, size_t len) AFB_MUST_CHECK;

/* ldaps://HOST[:PORT], or ldap://HOST[:PORT] with StartTLS; plain ldap:// only to a loopback
 * address (127.0.0.0/8, ::1, localhost). No DN, attributes, filter or extensions. */
afb_status_t afb_ldap_url_check(apr_pool_t *p, const char *url, int starttls,
                                const char **reason) AFB_MUST_CHECK;

/* The provider argument, "URL URL ...", as a NULL-terminated list (empty words skipped);
 * *n is its length, which may exceed AFB_LDAP_MAX_URLS (the caller refuses that). */
const char *const *afb_ldap_url_split(apr_pool_t *p, const char *arg, int *n);

/* Active Directory's sub-code in a bind error's diagnostic message ("... data 775, v4563"):
 * the reason it names, or AFB_LDAP_R_NONE when there is none or it is not one we know. Looks
 * at the first AFB_LDAP_MAX_DIAG bytes only. */
afb_ldap_reason_t afb_ldap_ad_subcode(const char *diag, size_t len);

/* ppolicy response control errors (draft-behera-ldap-password-policy), -1 for none. */
#define AFB_LDAP_PP_NONE (-1)
#define AFB_LDAP_PP_PASSWORD_EXPIRED 0
#define AFB_LDAP_PP_ACCOUNT_LOCKED 1
#define AFB_LDAP_PP_CHANGE_AFTER_RESET 2

/* The answer to the person's bind: rc is the LDAP result code (or libldap's negative client
 * code), diag the diagnostic message (may be NULL), pp the ppolicy error. AFB_OK with
 * AFB_LDAP_R_NONE only for a clean success. */
afb_status_t afb_ldap_classify_bind(int rc, const char *diag, size_t diag_len, int pp,
                                    afb_ldap_reason_t *why);

/* A result code that is not the person's (a failed service bind, search, probe, or a client
 * error): AFB_EIO or AFB_ETIMEOUT with the reason. */
afb_status_t afb_ldap_classify_infra(int rc, afb_ldap_reason_t *why);

/* ---- the per-provider runtime object ---- */

typedef struct {
    const char *name;                  /* provider name (log text) */
    const char *const *urls;           /* NULL-terminated, 1..AFB_LDAP_MAX_URLS */
    const char *base;                  /* search base, required */
    const char *filter;                /* NULL: AFB_LDAP_DEFAULT_FILTER */
    const char *bind_dn;               /* NULL: anonymous search */
    const char *bind_password;         /* copied and zeroed when the pool goes */
    const char *user_attr;             /* NULL: REMOTE_USER is the typed name */
    const char *ca_file;               /* NULL: AFB_LDAP_SYSTEM_CA */
    int starttls;                      /* StartTLS on ldap:// URLs */
    apr_interval_time_t timeout;       /* every call; default 2 s */
} afb_ldap_conf_t;

typedef struct afb_ldap_t afb_ldap_t;

typedef struct {
    afb_ldap_reason_t why;
    const char *user;                  /* REMOTE_USER on success */
    const char *dn;                    /* the entry found, when one was */
    const char *server;                /* the URL that answered or failed last */
    const char *detail;                /* log text; never a password */
} afb_ldap_result_t;

/* Checks the configuration (no network): URLs, filter, a bind_dn needs a non-empty password.
 * AFB_EINVAL with *reason. The object's resources go with p. */
afb_status_t afb_ldap_create(apr_pool_t *p, const afb_ldap_conf_t *conf, afb_ldap_t **out,
                             const char **reason) AFB_MUST_CHECK;

/* Sign-in: refuse an empty or over-long password and an unusable name without any network;
 * bind as the service account (or none), search base for the filter (size limit 2), bind as
 * the one entry found with the password (ppolicy request control sent), and read user_attr. */
afb_status_t afb_ldap_authenticate(afb_ldap_t *l, apr_pool_t *p, const char *user,
                                   size_t user_len, const char *password,
                                   afb_ldap_result_t *res) AFB_MUST_CHECK;

/* Health probe on a fresh connection: bind as the service account (or stay anonymous), then
 * read the rootDSE. AFB_OK when one of the URLs passes. */
afb_status_t afb_ldap_probe(afb_ldap_t *l, apr_pool_t *p, afb_ldap_result_t *res) AFB_MUST_CHECK;

#endif
