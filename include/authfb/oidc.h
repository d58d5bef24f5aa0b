/* OpenID Connect relying party (provider type `oidc`, docs/providers.md): authorization code flow
 * with PKCE (S256), a confidential client (client_secret_basic or client_secret_post), ID
 * tokens verified with jose.h.
 *
 * What the adapter calls, in order:
 *
 *   child_init      http = afb_http_curl_create(pchild)   (afb_http_global_init() once before)
 *                   afb_oidc_provider_create(pchild, &conf, http, &prov, &why)  per oidc provider
 *   sign-in         afb_oidc_begin(prov, r->pool, now, redirect_uri, &ar, &why)
 *                   -> seal {provider, ar.state, ar.nonce, ar.code_verifier, return, ...} with
 *                      afb_oidc_pending_seal() into a short-lived cookie, redirect to ar.url
 *   callback        read code, state (and error) from the query;
 *                   afb_oidc_pending_open(kr, r->pool, cookie, state, now, &pending)
 *                   afb_oidc_redeem(prov, r->pool, now, code, redirect_uri,
 *                                   pending.code_verifier, pending.nonce, &identity, &why)
 *                   -> identity.user is REMOTE_USER; identity.claims -> AUTH_FALLBACK_CLAIM_*
 *   health check    afb_oidc_probe(prov, probe_pool, now, &why)
 *
 * Errors: afb_oidc_is_infra(st) is true for AFB_EIO, AFB_ETIMEOUT and AFB_EANSWER only:
 * connect/DNS/TLS failure, deadline, 5xx, malformed or oversized metadata, discovery or JWKS
 * unavailable, the token endpoint refusing this client. Those count as passive evidence
 * against the provider. AFB_EANSWER (the token endpoint answered, but with an HTTP error or
 * something that is not a token answer) is the one a made-up code could provoke: it never
 * moves the person to another path at once; AFB_EIO and AFB_ETIMEOUT may. Everything else (AFB_EINVAL, AFB_EMISMATCH, AFB_EEXPIRED, AFB_ENOENT) is the
 * client's or the token's fault and must never count against the provider.
 * Every failure sets *reason: a short, fixed-form text for the logs that never contains a
 * token, code, secret or cookie.
 *
 * Threads: a provider may be used by every thread of its process at once. Create it after
 * the fork (child_init); each process keeps its own cache of discovery and JWKS. */
#ifndef AUTHFB_OIDC_H
#define AUTHFB_OIDC_H

#include "authfb/common.h"
#include "authfb/crypto.h"
#include "authfb/http.h"
#include "authfb/jose.h"
#include <apr_tables.h>

#define AFB_OIDC_MAX_DOC (64 * 1024)      /* discovery document, token response */
#define AFB_OIDC_MAX_URL 2048
#define AFB_OIDC_MAX_USER 255             /* bytes of the user claim */
#define AFB_OIDC_MAX_CLAIM 1024           /* bytes of an exported claim */
#define AFB_OIDC_DISCOVERY_SUFFIX "/.well-known/openid-configuration"

int afb_oidc_is_infra(afb_status_t st);

typedef enum {
    AFB_OIDC_AUTH_DEFAULT = 0,  /* client_secret_basic, unless the OP lists only _post */
    AFB_OIDC_AUTH_BASIC,        /* token_auth=client_secret_basic */
    AFB_OIDC_AUTH_POST          /* token_auth=client_secret_post */
} afb_oidc_token_auth_t;

/* token_auth= words; AFB_EINVAL for anything else. */
afb_status_t afb_oidc_token_auth_parse(const char *word, afb_oidc_token_auth_t *out) AFB_MUST_CHECK;

/* ---- discovery (pure) ---- */

typedef struct {
    const char *issuer;
    const char *authorization_endpoint;
    const char *token_endpoint;
    const char *jwks_uri;
    const char *end_session_endpoint; /* RP-initiated logout, or NULL when the OP names none
                                       * (or one that is not a URL it may name) */
    unsigned algs;              /* afb_jws_alg_t bits we support among the OP's list */
    int auth_basic;             /* client_secret_basic listed (or the list absent) */
    int auth_post;              /* client_secret_post listed */
} afb_oidc_metadata_t;

/* The issuer a discovery URL promises: the URL without AFB_OIDC_DISCOVERY_SUFFIX.
 * NULL when the URL is not http(s) or does not end with the suffix. */
const char *afb_oidc_expected_issuer(apr_pool_t *p, const char *discovery_url);

/* Parse and check a discovery document: issuer equals expected_issuer, the three endpoints
 * are http(s) URLs, at least one supported signing algorithm. AFB_EINVAL / AFB_ETOOBIG. */
afb_status_t afb_oidc_metadata_parse(apr_pool_t *p, const char *json, size_t len,
                                     const char *expected_issuer, afb_oidc_metadata_t *out,
                                     const char **reason) AFB_MUST_CHECK;

/* ---- the authorization request (pure) ---- */

/* RFC 7636 S256: base64url(SHA-256(verifier)). */
const char *afb_oidc_pkce_challenge(apr_pool_t *p, const char *verifier);

/* authorization_endpoint plus response_type=code, client_id, redirect_uri, scope, state,
 * nonce, code_challenge, code_challenge_method=S256, every value percent-encoded. */
const char *afb_oidc_auth_url(apr_pool_t *p, const char *authorization_endpoint,
                              const char *client_id, const char *redirect_uri,
                              const char *scope, const char *state, const char *nonce,
                              const char *code_verifier);

/* ---- the token request and response (pure) ---- */

typedef struct {
    const char *client_id;
    const char *client_secret;
    afb_oidc_token_auth_t token_auth;
    const char *ca_file;
    apr_interval_time_t timeout;
} afb_oidc_client_t;

/* Fill req (allocated in p) for the code exchange at md->token_endpoint. With
 * client_secret_basic the id and secret are form-urlencoded and sent as HTTP Basic
 * credentials (RFC 6749 2.3.1); with client_secret_post they go in the body. */
afb_status_t afb_oidc_token_request(apr_pool_t *p, const afb_oidc_client_t *client,
                                    const afb_oidc_metadata_t *md, const char *code,
                                    const char *redirect_uri, const char *code_verifier,
                                    afb_http_request_t *req) AFB_MUST_CHECK;

/* The id_token of a token endpoint answer. 2xx without a usable id_token, non-JSON, 5xx or
 * another status: AFB_EANSWER. 4xx: AFB_EINVAL with the OP's `error` code in *reason, except
 * invalid_client and unauthorized_client (this client's credentials refused): AFB_EIO. */
afb_status_t afb_oidc_token_response(apr_pool_t *p, const afb_http_response_t *resp,
                                     const char **id_token, const char **reason) AFB_MUST_CHECK;

/* ---- the ID token (pure) ---- */

typedef struct {
    const char *issuer;         /* the metadata's issuer */
    const char *client_id;
    unsigned algs;              /* allowed algorithms (metadata) */
    const char *nonce;          /* expected nonce (from the sealed pending state) */
    const char *user_claim;     /* default "sub" */
    const char *const *claims;  /* extra string claims to return, NULL-terminated, or NULL */
    apr_time_t now;
    apr_interval_time_t skew;   /* allowed clock difference */
} afb_oidc_expect_t;

typedef struct {
    const char *user;           /* the user claim's value */
    const char *sub;
    apr_table_t *claims;        /* requested extra claims present as valid strings */
    apr_time_t expires;         /* the token's exp */
    int mfa;                    /* the OP says it used several factors: `amr` holds "mfa"
                                 * (RFC 8176) or AD FS's ".../claims/multipleauthn" */
    const char *id_token;       /* the token itself (afb_oidc_redeem), kept for the
                                 * id_token_hint of a logout; a secret: never logged */
} afb_oidc_identity_t;

/* Signature (jose), iss, aud (+azp), exp, iat, nbf, nonce (constant time), user claim.
 * AFB_ENOENT: unknown kid. AFB_EEXPIRED: exp passed. AFB_EMISMATCH: signature, iss, aud,
 * azp or nonce wrong. AFB_EINVAL: malformed, refused algorithm, missing or bad claims. */
afb_status_t afb_oidc_id_token_check(apr_pool_t *p, const afb_jwks_t *jwks,
                                     const afb_oidc_expect_t *ex, const char *id_token,
                                     afb_oidc_identity_t *out, const char **reason) AFB_MUST_CHECK;

/* ---- the per-provider runtime object ---- */

typedef struct {
    const char *name;              /* provider name (log text) */
    const char *discovery_url;
    const char *client_id;
    const char *client_secret;     /* copied and zeroed when the provider's pool goes */
    const char *scope;             /* default "openid" */
    const char *user_claim;        /* default "sub" */
    afb_oidc_token_auth_t token_auth;
    const char *ca_file;           /* or NULL */
    apr_interval_time_t timeout;   /* every outbound call; default 2 s */
    const char *const *claims;     /* extra claims to export, NULL-terminated, or NULL */
    apr_interval_time_t skew;      /* default 60 s */
    apr_interval_time_t refresh;   /* discovery + JWKS cache lifetime; default 1 h */
    apr_interval_time_t max_stale; /* serve the last good copy this long; default 24 h */
} afb_oidc_conf_t;

typedef struct afb_oidc_provider_t afb_oidc_provider_t;

/* Checks the configuration only (no network). AFB_EINVAL with *reason on a bad conf. */
afb_status_t afb_oidc_provider_create(apr_pool_t *p, const afb_oidc_conf_t *conf,
                                      afb_http_t *http, afb_oidc_provider_t **out,
                                      const char **reason) AFB_MUST_CHECK;

typedef struct {
    const char *url;            /* where to redirect the browser */
    const char *state;
    const char *nonce;
    const char *code_verifier;
} afb_oidc_authreq_t;

/* Start a sign-in: fresh state, nonce and PKCE verifier, and the authorization URL.
 * Needs the discovery document (cached; fetched when missing or stale): may fail with
 * AFB_EIO / AFB_ETIMEOUT. */
afb_status_t afb_oidc_begin(afb_oidc_provider_t *prov, apr_pool_t *p, apr_time_t now,
                            const char *redirect_uri, afb_oidc_authreq_t *out,
                            const char **reason) AFB_MUST_CHECK;

/* Finish a sign-in: exchange the code at the token endpoint and check the ID token. On an
 * unknown kid the JWKS is fetched again (at most once per 60 s) and the check retried. */
afb_status_t afb_oidc_redeem(afb_oidc_provider_t *prov, apr_pool_t *p, apr_time_t now,
                             const char *code, const char *redirect_uri,
                             const char *code_verifier, const char *nonce,
                             afb_oidc_identity_t *out, const char **reason) AFB_MUST_CHECK;

/* The OP's end_session_endpoint (RP-initiated logout) into *url, from the cached discovery
 * document (fetched when missing or stale, so it may fail like afb_oidc_begin). AFB_ENOENT:
 * the OP offers none. */
afb_status_t afb_oidc_end_session_endpoint(afb_oidc_provider_t *prov, apr_pool_t *p,
                                           apr_time_t now, const char **url,
                                           const char **reason) AFB_MUST_CHECK;

/* A failed fetch is remembered for AFB_OIDC_REFETCH_AFTER_FAILURE (requests answer with it
 * at once instead of each waiting on the OP). A passing health probe seen elsewhere (the
 * shared health table) at passed_at, later than that failure, ends the wait: the next
 * request fetches. afb_oidc_redeem tries one fetch whatever was remembered. */
void afb_oidc_passed_since(afb_oidc_provider_t *prov, apr_time_t passed_at);

/* Health probe: fetch discovery and JWKS now (never from the cache) and validate them.
 * A success also refreshes this process's cache. */
afb_status_t afb_oidc_probe(afb_oidc_provider_t *prov, apr_pool_t *p, apr_time_t now,
                            const char **reason) AFB_MUST_CHECK;

/* ---- the pending sign-in, carried in a sealed cookie (purpose "oidc") ---- */

typedef struct {
    const char *provider;       /* provider name the sign-in started with */
    const char *state;
    const char *nonce;
    const char *code_verifier;
    const char *return_to;      /* sanitized local path */
    const char *location;       /* protected location (for events) */
    int degraded;               /* path was not the first of the chain */
    long lifetime;              /* seconds the session will get */
    apr_time_t expires;         /* of this pending sign-in */
    int drill;                  /* a drill chose this path (authfb/drill.h), for the events */
} afb_oidc_pending_t;

afb_status_t afb_oidc_pending_seal(const afb_keyring_t *kr, apr_pool_t *p,
                                   const afb_oidc_pending_t *in, const char **cookie) AFB_MUST_CHECK;
/* AFB_OK; AFB_EEXPIRED; AFB_EMISMATCH when `state` (the callback's) differs from the
 * sealed one (constant time); AFB_EINVAL for anything not sealed by us. */
afb_status_t afb_oidc_pending_open(const afb_keyring_t *kr, apr_pool_t *p, const char *cookie,
                                   const char *state, apr_time_t now,
                                   afb_oidc_pending_t *out) AFB_MUST_CHECK;

#endif
