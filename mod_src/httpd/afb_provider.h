/* A declared provider and what every provider type offers the rest of the adapter: its ops
 * table (afb_provider_ops_t), in the shape of mod_md's md_proto_t and httpd's own
 * ap_socache_provider_t. Each type's adapter code lives in one afb_prov_TYPE.c that defines
 * its table; afb_registry.c maps type names to tables. Nothing outside those files asks
 * which type a provider is: it calls through prov->ops (docs/architecture.md, "Adding a
 * provider type"). afb_provider.c holds the few rules every type shares. */
#ifndef AFB_PROVIDER_H
#define AFB_PROVIDER_H

#include "afb_conf.h"
#include "afb_filestore.h"
#include "authfb/flow.h"
#include "authfb/http.h"
#include "authfb/provider.h"

/* What a type can be used for (afb_provider_ops_t.roles, bits). */
enum {
    AFB_ROLE_FIRST = 1 << 0,      /* a path of AuthFallbackChain (a first factor) */
    AFB_ROLE_SECOND = 1 << 1,     /* a provider of AuthFallbackMFA (a second factor) */
    AFB_ROLE_WANTS_MFA = 1 << 2,  /* as a first factor, the location's MFA chain follows it
                                   * (a password); without it the type vouches for itself */
    AFB_ROLE_CODES_ONCE = 1 << 3  /* as a second factor, a code already used is refused
                                   * without asking it (a remote service that would take it
                                   * again within its time step); every code accepted is
                                   * marked used, whatever the type */
};

typedef struct afb_provider_ops_t afb_provider_ops_t;

/* What a form first factor's verify_form() says besides its status (every field may stay
 * NULL): who and why as for verify(), and for the person's failure what the person and the
 * event log are told. */
typedef struct {
    const char *who;                 /* the provider's own spelling of the name */
    const char *why;                 /* log text: how the provider failed or what it refused */
    const char *reason;              /* the person's failure: the auth.failure reason;
                                      * NULL: unknown_user or bad_password */
    const char *notice;              /* the person's failure: one sentence they may read
                                      * beside the usual refusal (a locked account) */
} afb_verdict_t;

/* One declared provider: its parsed words, its type's table, and its state. */
struct afb_provider_t {
    afb_provider_conf_t conf;
    const afb_provider_ops_t *ops;
    void *runtime;                   /* the type's own state; only its afb_prov_TYPE.c
                                      * looks inside */
    afb_module_t *mod;
    afb_filestore_t *filestore;      /* the file-backed store of a type with ops->store,
                                      * set by afb_filestore_create; else NULL */
    int health_idx;                  /* its record in the shared health table */
    const char *declared_at;         /* "FILE:LINE" for messages */
};

struct afb_provider_ops_t {
    const char *type;                /* the TYPE word of AuthFallbackProvider */
    unsigned roles;                  /* AFB_ROLE_* */
    /* Types whose state is a file-backed store (afb_filestore.h): the format's parser. They
     * take afb_provider_store_configure, _child_init and _ready below; the status page
     * shows their records, skipped records and held copies. */
    afb_store_parse_fn *store;

    /* AuthFallbackProvider read (pconf): open files, check settings, set prov->runtime.
     * An error message refuses the line; nothing is fetched over the network here. */
    const char *(*configure)(afb_provider_t *prov, apr_pool_t *pconf, apr_pool_t *ptemp);
    /* Each child after the fork (optional): per-process objects, such as clients over the
     * shared outbound HTTP transport. */
    void (*child_init)(afb_provider_t *prov, apr_pool_t *pchild, afb_http_t *http);
    /* The health probe, run by the checker's threads with a deadline of conf.timeout:
     * AFB_OK when the provider can serve; otherwise a status and *reason (log text). */
    afb_status_t (*probe)(afb_provider_t *prov, apr_pool_t *p, const char **reason);
    /* Whether it could ever take this person (optional; absent: it could), such as a
     * secret enrolled in a local store. DOWN is checked apart (afb_provider_usable).
     * Readiness (afb_readiness.c) counts a type with it as a store it can look into, one
     * without as a provider it cannot know about (a first factor) or that takes anyone (a
     * second factor). */
    int (*enrolled)(const afb_provider_t *prov, apr_pool_t *p, const char *user);
    /* What enrolled() looks for, in words for people: "a hash", "a TOTP secret". */
    const char *credential;
    /* Whether it can serve in this process now (optional; absent: it can), such as a store
     * with a usable copy: when it cannot, it counts as DOWN here at once, whatever the
     * probes have said so far. */
    int (*ready)(const afb_provider_t *prov);

    /* First factors, one of the two ways:
     * - form: the page under AuthFallbackEndpoint where the person gives it ("login"); the
     *   sealed flow cookie carries the sign-in there, and verify() judges the secret;
     * - start: the person leaves for another site (an OpenID Provider). It sends the
     *   redirect with state of its own; the flow cookie then holds the standby path. With
     *   `unreachable` non-NULL, a provider this process cannot reach now sets it and
     *   returns DECLINED without a page, so the person is moved on. */
    const char *form;
    int (*start)(request_rec *r, afb_provider_t *prov, const afb_flow_t *flow,
                 int *unreachable);

    /* Judge a secret: the password of a form first factor, or the code of a second factor.
     * For a first factor, user is the typed name's key under the provider's name rules
     * (conf.names; NULL when the rules refuse it: do the same work and fail), and *who is
     * set to the provider's own spelling of the name, which the session carries; for a
     * second factor, user is the session's name. AFB_OK; AFB_ENOENT an unknown user (first
     * factors), AFB_EMISMATCH wrong, AFB_EREPLAY used before: the person's failure;
     * AFB_EIO / AFB_ETIMEOUT the provider failed (*why says how), so the next one of the
     * chain may take the person; AFB_ERR: refuse, nothing to blame. */
    afb_status_t (*verify)(request_rec *r, afb_provider_t *prov, const char *user,
                           const char *secret, const char **who, const char **why);
    /* A form first factor with more to say than verify() (optional; when set, the form
     * calls it instead of verify()): the same arguments and statuses, and for the person's
     * failure the auth.failure reason and a sentence for them (a directory knows an
     * account is locked; a hash store does not). An AFB_EIO / AFB_ETIMEOUT of either moves
     * the sign-in to the standby path the flow names. */
    afb_status_t (*verify_form)(request_rec *r, afb_provider_t *prov, const char *user,
                                const char *password, afb_verdict_t *v);
    /* Longest secret verify() takes (0: AFB_CODE_MAX_BYTES, for second factors). */
    apr_size_t max_secret;
    /* The second-factor page (optional; absent: the code form of afb_mfa_form.c). It posts
     * the secret as field "code" to the mfa endpoint with the flow's CSRF token. */
    int (*mfa_page)(request_rec *r, afb_provider_t *prov, const afb_flow_t *flow,
                    const char *error);

    /* Signing out of a session it issued (optional): end the session at the provider too,
     * with the redirect there (the person comes back to the logout URL with the state of a
     * pending logout, afb_session.h); DECLINED when there is none to make. */
    int (*logout)(request_rec *r, afb_provider_t *prov, const char *user,
                  const char *return_to);

    /* A URL of its own under AuthFallbackEndpoint (optional), such as "callback", served
     * by handler before any access control, like the module's other pages. */
    const char *endpoint;
    int (*handler)(request_rec *r);
};

/* 1 when the provider can take this person now: not DOWN, and enrolled. */
int afb_provider_usable(const afb_provider_t *prov, apr_pool_t *p, const char *user);
/* 1 when it could ever take them (enrolled), DOWN or not. */
int afb_provider_enrolled(const afb_provider_t *prov, apr_pool_t *p, const char *user);
/* 1 when the provider's type has this role (AFB_ROLE_*). */
int afb_provider_has(const afb_provider_t *prov, unsigned role);

/* What verify() reports for a remote service's answer on a code: AFB_OK when it accepted
 * it, AFB_EMISMATCH when it refused it (the person's failure); a failure of the service
 * stays AFB_EIO / AFB_ETIMEOUT (never AFB_ERR, so the next provider takes the person). */
afb_status_t afb_provider_verdict(afb_status_t st, int accepted);

/* For types whose state is a file-backed store (ops->store): the store as prov->runtime,
 * loaded now from conf.arg (relative to ServerRoot), and its per-child reloading. */
int afb_provider_has_store(const afb_provider_t *prov);
const char *afb_provider_store_configure(afb_provider_t *prov, apr_pool_t *pconf,
                                         apr_pool_t *ptemp);
void afb_provider_store_child_init(afb_provider_t *prov, apr_pool_t *pchild,
                                   afb_http_t *http);
/* In the parent after the health table is in place: every store's kept copy
 * (afb_filestore_post_config). */
void afb_provider_stores_post_config(afb_module_t *mod, apr_pool_t *pconf, server_rec *s);
/* ops->ready of such types: the store has a usable copy in this process. */
int afb_provider_store_ready(const afb_provider_t *prov);

#endif
