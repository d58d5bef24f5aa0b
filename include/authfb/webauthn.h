/* WebAuthn relying party (provider type `webauthn`, docs/providers.md): registration of passkeys
 * (attestation format "none"; attestation statements are not checked, there is no trust
 * store) and verification of assertions, with libfido2 for the signatures (ES256, RS256,
 * EdDSA) and the credential's authenticator data, libcbor for the attestation object and
 * jansson for clientDataJSON. docs/architecture.md (Passkeys) has the whole flow.
 *
 * What the adapter calls, in order:
 *
 *   page            afb_wa_challenge_new(kr, p, &pending, kind, user, bind, now + ttl)
 *                   -> pending.challenge (base64url) goes into the page's script, the
 *                      sealed text into a cookie
 *   POST            afb_wa_pending_open(kr, p, cookie, bind, now, &pending)
 *                   afb_wa_verify_assertion(...) or afb_wa_verify_registration(...)
 *                   -> then mark afb_wa_challenge_key(pending) used in the shared cache
 *                      (single use), and update the credential in the passkey store
 *                      (passkey.h) under its lock, with afb_wa_sign_count_ok().
 *
 * Errors: every refusal is the client's or the authenticator's fault (nothing here talks to
 * the network); `afb_wa_fail_t` says which check refused, for the `auth.failure` reason,
 * and *reason is a short fixed-form text with no key, signature or challenge in it.
 *
 * Threads: every function is reentrant; afb_wa_init() once per process before the first use. */
#ifndef AUTHFB_WEBAUTHN_H
#define AUTHFB_WEBAUTHN_H

#include "authfb/common.h"
#include "authfb/crypto.h"

#define AFB_WA_CHALLENGE_BYTES 32
#define AFB_WA_MAX_CLIENT_DATA 4096      /* bytes of clientDataJSON */
#define AFB_WA_MAX_AUTHDATA 4096         /* bytes of authenticator data */
#define AFB_WA_MAX_ATTESTATION 16384     /* bytes of an attestation object */
#define AFB_WA_MAX_SIG 1024              /* bytes of a signature */
#define AFB_WA_MAX_CRED_ID 1023          /* bytes of a credential id (WebAuthn L2) */
#define AFB_WA_MAX_PUBKEY 512            /* bytes of a public key in libfido2's raw form */
#define AFB_WA_MAX_ORIGINS 8

/* Which check refused (for events and tests; code decides on these, never on text). */
typedef enum {
    AFB_WA_FAIL_NONE = 0,
    AFB_WA_FAIL_MALFORMED,     /* unparsable or oversized input */
    AFB_WA_FAIL_TYPE,          /* clientData type is not webauthn.get / webauthn.create */
    AFB_WA_FAIL_CHALLENGE,     /* clientData challenge differs from the sealed one */
    AFB_WA_FAIL_ORIGIN,        /* origin not allowed, or crossOrigin true */
    AFB_WA_FAIL_RP_ID,         /* rpIdHash is not SHA-256 of the RP ID */
    AFB_WA_FAIL_UP,            /* user presence flag missing */
    AFB_WA_FAIL_UV,            /* user verification required and missing */
    AFB_WA_FAIL_SIGNATURE,     /* signature does not verify with the stored key */
    AFB_WA_FAIL_ALG,           /* key algorithm not ES256, RS256 or EdDSA */
    AFB_WA_FAIL_CLONED         /* sign count did not increase (cloned authenticator) */
} afb_wa_fail_t;

/* The `auth.failure` reason word of a refusal ("wrong_origin", "cloned_authenticator", ...). */
const char *afb_wa_fail_reason(afb_wa_fail_t f);

typedef enum {
    AFB_WA_UV_REQUIRED = 0,
    AFB_WA_UV_PREFERRED,
    AFB_WA_UV_DISCOURAGED
} afb_wa_uv_t;

/* user_verification= words; AFB_EINVAL for anything else. */
afb_status_t afb_wa_uv_parse(const char *word, afb_wa_uv_t *out) AFB_MUST_CHECK;
const char *afb_wa_uv_name(afb_wa_uv_t uv);

/* COSE algorithm identifiers of the keys we accept. */
typedef enum {
    AFB_WA_ES256 = -7,
    AFB_WA_EDDSA = -8,
    AFB_WA_RS256 = -257
} afb_wa_alg_t;

/* "es256" / "rs256" / "eddsa" (the store's words). */
const char *afb_wa_alg_name(afb_wa_alg_t alg);
afb_status_t afb_wa_alg_parse(const char *word, afb_wa_alg_t *out) AFB_MUST_CHECK;

/* The relying party as configured: rp_id= and origins= (exact "scheme://host[:port]"). */
typedef struct {
    const char *rp_id;
    int n_origins;
    const char *origins[AFB_WA_MAX_ORIGINS];
    afb_wa_uv_t uv;
} afb_wa_rp_t;

/* The default origin of an RP ID: "https://" + rp_id, plus ":port" when port is not 443
 * (port 0: none). */
const char *afb_wa_default_origin(apr_pool_t *p, const char *rp_id, int port);
/* Parse origins= ("https://a,https://b:8443"): each one scheme://host[:port] with no path.
 * AFB_EINVAL with *reason. */
afb_status_t afb_wa_origins_parse(apr_pool_t *p, const char *list, afb_wa_rp_t *rp,
                                  const char **reason) AFB_MUST_CHECK;

/* A public key as libfido2 takes it: ES256 x||y (64 bytes), RS256 modulus||exponent
 * (259 bytes), EdDSA the 32-byte point. */
typedef struct {
    afb_wa_alg_t alg;
    const unsigned char *key;
    size_t key_len;
} afb_wa_pubkey_t;

/* ---- challenges: random, sealed (purpose "webauthn"), single use ---- */

typedef enum {
    AFB_WA_GET = 1,     /* sign-in (first or second factor): navigator.credentials.get */
    AFB_WA_CREATE = 2   /* enrollment: navigator.credentials.create */
} afb_wa_kind_t;

typedef struct {
    afb_wa_kind_t kind;
    const char *challenge;    /* base64url of AFB_WA_CHALLENGE_BYTES random bytes */
    const char *user;         /* whose credential must answer, or NULL (discoverable) */
    const char *bind;         /* the flow or session this challenge belongs to (its CSRF
                                 token): a challenge opened under another one is refused */
    apr_time_t expires;
} afb_wa_pending_t;

/* A fresh challenge for kind/user/bind, sealed into *cookie. */
afb_status_t afb_wa_challenge_new(const afb_keyring_t *kr, apr_pool_t *p, afb_wa_kind_t kind,
                                  const char *user, const char *bind, apr_time_t expires,
                                  afb_wa_pending_t *out, const char **cookie) AFB_MUST_CHECK;
/* AFB_OK; AFB_EEXPIRED; AFB_EMISMATCH when bind differs from the sealed one (constant
 * time); AFB_EINVAL for anything not sealed by us. */
afb_status_t afb_wa_pending_open(const afb_keyring_t *kr, apr_pool_t *p, const char *cookie,
                                 const char *bind, apr_time_t now,
                                 afb_wa_pending_t *out) AFB_MUST_CHECK;
/* The shared-cache key that marks this challenge used: not the challenge itself, a MAC of
 * it (the cache may be another machine's). NULL on a library failure. */
const char *afb_wa_challenge_key(const afb_keyring_t *kr, apr_pool_t *p,
                                 const afb_wa_pending_t *pending);

/* ---- clientDataJSON ---- */

typedef struct {
    const char *type;         /* "webauthn.get" or "webauthn.create" */
    const char *challenge;    /* base64url as sent */
    const char *origin;
    int cross_origin;
} afb_wa_client_data_t;

/* Parse clientDataJSON (at most AFB_WA_MAX_CLIENT_DATA bytes): AFB_EINVAL / AFB_ETOOBIG. */
afb_status_t afb_wa_client_data_parse(apr_pool_t *p, const unsigned char *json, size_t len,
                                      afb_wa_client_data_t *out) AFB_MUST_CHECK;

/* ---- authenticator data ---- */

#define AFB_WA_FLAG_UP 0x01
#define AFB_WA_FLAG_UV 0x04
#define AFB_WA_FLAG_AT 0x40
#define AFB_WA_FLAG_ED 0x80

typedef struct {
    unsigned char rp_id_hash[32];
    unsigned flags;
    uint32_t sign_count;
} afb_wa_authdata_t;

/* The fixed 37-byte head of authenticator data. AFB_EINVAL when shorter or over the cap. */
afb_status_t afb_wa_authdata_parse(const unsigned char *ad, size_t len,
                                   afb_wa_authdata_t *out) AFB_MUST_CHECK;

/* WebAuthn's rule: when either count is non-zero, the new one must be greater than the
 * stored one. 1 when acceptable. */
int afb_wa_sign_count_ok(uint32_t stored, uint32_t received);

/* ---- verification ---- */

typedef struct {
    int uv;                   /* the authenticator verified the person (UV flag) */
    uint32_t sign_count;      /* the authenticator's new count */
} afb_wa_result_t;

/* An assertion (navigator.credentials.get): clientData type, challenge (against
 * expect_challenge, constant time), origin, rpIdHash, UP, UV per rp->uv, and the signature
 * over authenticatorData || SHA-256(clientDataJSON) with key. The sign count is NOT judged
 * here (the caller compares it with the stored count under the store's lock).
 * AFB_OK; AFB_EMISMATCH or AFB_EINVAL with *fail set; AFB_ERR on a library failure. */
afb_status_t afb_wa_verify_assertion(apr_pool_t *p, const afb_wa_rp_t *rp,
                                     const char *expect_challenge,
                                     const unsigned char *client_data, size_t cd_len,
                                     const unsigned char *auth_data, size_t ad_len,
                                     const unsigned char *sig, size_t sig_len,
                                     const afb_wa_pubkey_t *key, afb_wa_result_t *out,
                                     afb_wa_fail_t *fail, const char **reason) AFB_MUST_CHECK;

/* A new credential from an attestation object (CBOR map fmt, attStmt, authData). */
typedef struct {
    unsigned char *id;
    size_t id_len;
    afb_wa_pubkey_t key;
    uint32_t sign_count;
    int uv;
    const char *fmt;          /* attestation format as sent */
} afb_wa_credential_t;

/* Parse an attestation object: AFB_EINVAL / AFB_ETOOBIG; *auth_data points into p. */
afb_status_t afb_wa_attestation_parse(apr_pool_t *p, const unsigned char *att, size_t len,
                                      const char **fmt, const unsigned char **auth_data,
                                      size_t *ad_len) AFB_MUST_CHECK;

/* A registration (navigator.credentials.create): clientData type, challenge, origin,
 * attestation object, rpIdHash, UP, UV per rp->uv, attested credential data present, and the
 * credential public key one of ES256, RS256, EdDSA. Statements of formats other than "none"
 * are ignored (no attestation trust store). Same return convention as above. */
afb_status_t afb_wa_verify_registration(apr_pool_t *p, const afb_wa_rp_t *rp,
                                        const char *expect_challenge,
                                        const unsigned char *client_data, size_t cd_len,
                                        const unsigned char *att, size_t att_len,
                                        afb_wa_credential_t *out, afb_wa_fail_t *fail,
                                        const char **reason) AFB_MUST_CHECK;

/* The script of every passkey form (fixed text; see webauthn.c for the form's data-*
 * attributes and hidden fields), and its CSP source expression 'sha256-...'. */
const char *afb_wa_browser_script(void);
const char *afb_wa_browser_script_csp(apr_pool_t *p);

/* libfido2's one-time initialisation (no device access). Safe to call more than once. */
void afb_wa_init(void);

#endif
