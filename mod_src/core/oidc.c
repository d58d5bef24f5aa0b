/* OpenID Connect relying party: discovery, authorization URL, code exchange, ID token
 * checks, and the per-provider cache of discovery + JWKS. */
#include "authfb/oidc.h"
#include "authfb/limits.h"
#include "authfb/log.h"
#include "authfb/util.h"

#include <string.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <apr_uri.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#define MAX_CODE 2048
#define MAX_ERROR_CODE 64
#define REASON_MAX 160

int afb_oidc_is_infra(afb_status_t st)
{
    return st == AFB_EIO || st == AFB_ETIMEOUT || st == AFB_EANSWER;
}

afb_status_t afb_oidc_token_auth_parse(const char *word, afb_oidc_token_auth_t *out)
{
    if (word && strcmp(word, "client_secret_basic") == 0)
        *out = AFB_OIDC_AUTH_BASIC;
    else if (word && strcmp(word, "client_secret_post") == 0)
        *out = AFB_OIDC_AUTH_POST;
    else
        return AFB_EINVAL;
    return AFB_OK;
}

/* ---- small helpers ---- */

static int has_ctl(const char *s, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
            return 1;
    return 0;
}

/* An absolute http(s) URL with a host, no fragment, no whitespace or control characters. */
static int url_ok(apr_pool_t *p, const char *s)
{
    apr_uri_t uri;
    size_t len = s ? strnlen(s, AFB_OIDC_MAX_URL + 1) : 0;
    if (len == 0 || len > AFB_OIDC_MAX_URL || has_ctl(s, len) || strchr(s, ' ') ||
        strchr(s, '#'))
        return 0;
    if (strncasecmp(s, "https://", 8) != 0 && strncasecmp(s, "http://", 7) != 0)
        return 0;
    if (apr_uri_parse(p, s, &uri) != APR_SUCCESS || !uri.hostname || !*uri.hostname)
        return 0;
    return 1;
}

/* ---- secrets ---- */

/* Zero s (in place) when p goes. */
static char *secret_track(apr_pool_t *p, char *s)
{
    afb_cleanse_on_cleanup(p, s, strlen(s));
    return s;
}

static const char *secret_zeroed_dup(apr_pool_t *p, const char *s)
{
    return secret_track(p, apr_pstrdup(p, s));
}



static const char *json_str(json_t *obj, const char *name)
{
    json_t *v = json_object_get(obj, name);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static apr_status_t json_release(void *data)
{
    json_decref((json_t *)data);
    return APR_SUCCESS;
}

/* Parse a capped JSON object whose lifetime is bound to p. */
static json_t *json_object_in(apr_pool_t *p, const char *s, size_t len)
{
    json_error_t err;
    json_t *v = json_loadb(s, len, JSON_REJECT_DUPLICATES, &err);
    if (!v)
        return NULL;
    apr_pool_cleanup_register(p, v, json_release, apr_pool_cleanup_null);
    return json_is_object(v) ? v : NULL;
}

/* ---- discovery ---- */

const char *afb_oidc_expected_issuer(apr_pool_t *p, const char *discovery_url)
{
    size_t len, slen = strlen(AFB_OIDC_DISCOVERY_SUFFIX);
    if (!discovery_url || !url_ok(p, discovery_url))
        return NULL;
    len = strlen(discovery_url);
    if (len <= slen || strcmp(discovery_url + len - slen, AFB_OIDC_DISCOVERY_SUFFIX) != 0)
        return NULL;
    return apr_pstrmemdup(p, discovery_url, len - slen);
}

static unsigned md_algs(json_t *list)
{
    unsigned algs = 0;
    size_t i;
    for (i = 0; json_is_array(list) && i < json_array_size(list); i++)
        algs |= afb_jws_alg_from_name(json_string_value(json_array_get(list, i)));
    return algs;
}

static void md_auth_methods(json_t *list, afb_oidc_metadata_t *md)
{
    size_t i;
    if (!list) {
        md->auth_basic = 1; /* RFC 8414: the default is client_secret_basic */
        return;
    }
    for (i = 0; json_is_array(list) && i < json_array_size(list); i++) {
        const char *m = json_string_value(json_array_get(list, i));
        if (m && strcmp(m, "client_secret_basic") == 0)
            md->auth_basic = 1;
        if (m && strcmp(m, "client_secret_post") == 0)
            md->auth_post = 1;
    }
}

/* An https discovery document names https endpoints only; any other (a loopback test OP)
 * https or loopback ones. The token and JWKS endpoints carry what makes a sign-in; the
 * authorization endpoint is where the browser goes. */
static int md_transport_ok(apr_pool_t *p, const char *issuer, const afb_oidc_metadata_t *md)
{
    if (afb_url_is_https(issuer))
        return afb_url_is_https(md->authorization_endpoint) &&
               afb_url_is_https(md->token_endpoint) && afb_url_is_https(md->jwks_uri);
    return afb_url_transport_ok(p, md->authorization_endpoint) &&
           afb_url_transport_ok(p, md->token_endpoint) && afb_url_transport_ok(p, md->jwks_uri);
}

/* RP-initiated logout is optional: an end_session_endpoint that is not a URL the issuer may
 * name (md_transport_ok's rule) is left out rather than refusing the document. */
static const char *md_end_session(apr_pool_t *p, const char *issuer, const char *url)
{
    if (!url || !url_ok(p, url))
        return NULL;
    if (afb_url_is_https(issuer) ? !afb_url_is_https(url) : !afb_url_transport_ok(p, url))
        return NULL;
    return apr_pstrdup(p, url);
}

static afb_status_t md_fill(apr_pool_t *p, json_t *root, const char *expected,
                            afb_oidc_metadata_t *md, const char **reason)
{
    const char *iss = json_str(root, "issuer");
    if (!iss) {
        *reason = "discovery without issuer";
        return AFB_EINVAL;
    }
    if (!expected || strcmp(iss, expected) != 0) {
        *reason = "discovery issuer does not match the discovery URL";
        return AFB_EINVAL;
    }
    md->issuer = apr_pstrdup(p, iss);
    md->authorization_endpoint = json_str(root, "authorization_endpoint");
    md->token_endpoint = json_str(root, "token_endpoint");
    md->jwks_uri = json_str(root, "jwks_uri");
    if (!url_ok(p, md->authorization_endpoint) || !url_ok(p, md->token_endpoint) ||
        !url_ok(p, md->jwks_uri)) {
        *reason = "discovery endpoints missing or not http(s) URLs";
        return AFB_EINVAL;
    }
    if (!md_transport_ok(p, expected, md)) {
        *reason = "discovery endpoints not https (an https discovery document may name only "
                  "https endpoints; http:// only to a loopback address)";
        return AFB_EINVAL;
    }
    md->authorization_endpoint = apr_pstrdup(p, md->authorization_endpoint);
    md->token_endpoint = apr_pstrdup(p, md->token_endpoint);
    md->jwks_uri = apr_pstrdup(p, md->jwks_uri);
    md->end_session_endpoint = md_end_session(p, expected, json_str(root, "end_session_endpoint"));
    md->algs = md_algs(json_object_get(root, "id_token_signing_alg_values_supported"));
    if (!md->algs) {
        *reason = "discovery lists no supported ID token signing algorithm";
        return AFB_EINVAL;
    }
    md_auth_methods(json_object_get(root, "token_endpoint_auth_methods_supported"), md);
    return AFB_OK;
}

afb_status_t afb_oidc_metadata_parse(apr_pool_t *p, const char *json, size_t len,
                                     const char *expected_issuer, afb_oidc_metadata_t *out,
                                     const char **reason)
{
    json_error_t err;
    json_t *root;
    afb_status_t st;
    const char *dummy;

    if (!reason)
        reason = &dummy;
    memset(out, 0, sizeof(*out));
    if (!json || len > AFB_OIDC_MAX_DOC) {
        *reason = "discovery document too large";
        return json ? AFB_ETOOBIG : AFB_EINVAL;
    }
    root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
    if (!json_is_object(root)) {
        json_decref(root);
        *reason = "discovery document is not a JSON object";
        return AFB_EINVAL;
    }
    st = md_fill(p, root, expected_issuer, out, reason);
    json_decref(root);
    return st;
}

/* ---- authorization request ---- */

const char *afb_oidc_pkce_challenge(apr_pool_t *p, const char *verifier)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (EVP_Digest(verifier, strlen(verifier), md, &mdlen, EVP_sha256(), NULL) != 1)
        return NULL;
    return afb_b64url_encode(p, md, mdlen);
}

const char *afb_oidc_auth_url(apr_pool_t *p, const char *authorization_endpoint,
                              const char *client_id, const char *redirect_uri,
                              const char *scope, const char *state, const char *nonce,
                              const char *code_verifier)
{
    const char *challenge = afb_oidc_pkce_challenge(p, code_verifier);
    if (!challenge)
        return NULL;
    return apr_pstrcat(p, authorization_endpoint,
                       strchr(authorization_endpoint, '?') ? "&" : "?",
                       "response_type=code&client_id=", afb_pct_encode(p, client_id, 0),
                       "&redirect_uri=", afb_pct_encode(p, redirect_uri, 0),
                       "&scope=", afb_pct_encode(p, scope, 0),
                       "&state=", afb_pct_encode(p, state, 0),
                       "&nonce=", afb_pct_encode(p, nonce, 0),
                       "&code_challenge=", challenge,
                       "&code_challenge_method=S256", NULL);
}

/* ---- token request and response ---- */

static int use_post(const afb_oidc_client_t *c, const afb_oidc_metadata_t *md)
{
    if (c->token_auth == AFB_OIDC_AUTH_POST)
        return 1;
    if (c->token_auth == AFB_OIDC_AUTH_BASIC)
        return 0;
    return md->auth_post && !md->auth_basic;
}

afb_status_t afb_oidc_token_request(apr_pool_t *p, const afb_oidc_client_t *client,
                                    const afb_oidc_metadata_t *md, const char *code,
                                    const char *redirect_uri, const char *code_verifier,
                                    afb_http_request_t *req)
{
    static const char *const headers[] = {
        "Content-Type: application/x-www-form-urlencoded", "Accept: application/json", NULL};
    const char *body, *secret;

    if (!code || !redirect_uri || !code_verifier || !md->token_endpoint)
        return AFB_EINVAL;
    afb_http_request_init(req, "POST", md->token_endpoint, client->timeout);
    body = apr_pstrcat(p, "grant_type=authorization_code&code=", afb_pct_encode(p, code, 1),
                       "&redirect_uri=", afb_pct_encode(p, redirect_uri, 1),
                       "&code_verifier=", afb_pct_encode(p, code_verifier, 1), NULL);
    secret = secret_track(p, afb_pct_encode(p, client->client_secret, 1));
    if (use_post(client, md)) {
        body = secret_track(p, apr_pstrcat(p, body, "&client_id=",
                                           afb_pct_encode(p, client->client_id, 1),
                                           "&client_secret=", secret, NULL));
    }
    else {
        req->basic_user = afb_pct_encode(p, client->client_id, 1);
        req->basic_password = secret;
    }
    req->headers = headers;
    req->body = body;
    req->body_len = strlen(body);
    req->ca_file = client->ca_file;
    req->max_response = AFB_OIDC_MAX_DOC;
    return AFB_OK;
}

/* The OP's `error` code if it is one printable token (RFC 6749 5.2 charset), else a
 * placeholder: nothing else of the body reaches the logs. */
static const char *op_error_code(apr_pool_t *p, const afb_http_response_t *resp)
{
    json_t *root = resp->body ? json_object_in(p, resp->body, resp->len) : NULL;
    const char *e = root ? json_str(root, "error") : NULL;
    size_t i, len = e ? strlen(e) : 0;
    if (len == 0 || len > MAX_ERROR_CODE)
        return "unspecified";
    for (i = 0; i < len; i++)
        if (e[i] < 0x20 || e[i] > 0x7e || e[i] == '"' || e[i] == '\\')
            return "unspecified";
    return e;
}

afb_status_t afb_oidc_token_response(apr_pool_t *p, const afb_http_response_t *resp,
                                     const char **id_token, const char **reason)
{
    json_t *root;
    const char *tok;

    *id_token = NULL;
    if (resp->status >= 400 && resp->status < 500) {
        const char *code = op_error_code(p, resp);
        /* The client's own credentials refused (an expired or wrong client secret): a
         * configuration failure of this relying party, never the person's fault. */
        if (!strcmp(code, "invalid_client") || !strcmp(code, "unauthorized_client")) {
            *reason = apr_pstrcat(p, "token endpoint refused this client (", code,
                                  "): check client_id and client_secret_file", NULL);
            return AFB_EIO;
        }
        *reason = apr_pstrcat(p, "token endpoint refused the code: ", code, NULL);
        return AFB_EINVAL;
    }
    if (resp->status < 200 || resp->status > 299) {
        *reason = apr_psprintf(p, "token endpoint answered HTTP %d", resp->status);
        return AFB_EANSWER;
    }
    root = (resp->body && resp->len <= AFB_OIDC_MAX_DOC)
               ? json_object_in(p, resp->body, resp->len) : NULL;
    if (!root) {
        *reason = "token endpoint answer is not a JSON object";
        return AFB_EANSWER;
    }
    tok = json_str(root, "id_token");
    if (!tok || !*tok) {
        *reason = "token endpoint answer without id_token";
        return AFB_EANSWER;
    }
    *id_token = tok;
    return AFB_OK;
}

/* ---- ID token ---- */

/* A NumericDate claim in microseconds; 0 when absent, -1 when malformed. */
static int numeric_date(json_t *claims, const char *name, apr_time_t *out)
{
    json_t *v = json_object_get(claims, name);
    double d;
    if (!v)
        return 0;
    if (!json_is_number(v))
        return -1;
    d = json_number_value(v);
    if (!(d >= 0 && d < 1e11))
        return -1;
    *out = (apr_time_t)(d * APR_USEC_PER_SEC);
    return 1;
}

static afb_status_t check_times(json_t *c, const afb_oidc_expect_t *ex, apr_time_t *exp,
                                const char **reason)
{
    apr_time_t iat = 0, nbf = 0;
    int has_nbf;
    if (numeric_date(c, "exp", exp) != 1 || numeric_date(c, "iat", &iat) != 1 ||
        (has_nbf = numeric_date(c, "nbf", &nbf)) < 0) {
        *reason = "ID token without valid exp and iat";
        return AFB_EINVAL;
    }
    if (*exp <= ex->now - ex->skew) {
        *reason = "ID token expired";
        return AFB_EEXPIRED;
    }
    if (iat > ex->now + ex->skew) {
        *reason = "ID token issued in the future";
        return AFB_EINVAL;
    }
    if (has_nbf && nbf > ex->now + ex->skew) {
        *reason = "ID token not yet valid";
        return AFB_EINVAL;
    }
    return AFB_OK;
}

static afb_status_t check_audience(json_t *c, const char *client_id, const char **reason)
{
    json_t *aud = json_object_get(c, "aud"), *azp = json_object_get(c, "azp");
    size_t i, n = 0;
    int found = 0;
    if (json_is_string(aud)) {
        n = 1;
        found = strcmp(json_string_value(aud), client_id) == 0;
    }
    else if (json_is_array(aud)) {
        n = json_array_size(aud);
        for (i = 0; i < n; i++) {
            const char *a = json_string_value(json_array_get(aud, i));
            if (!a) {
                *reason = "ID token aud malformed";
                return AFB_EINVAL;
            }
            found |= strcmp(a, client_id) == 0;
        }
    }
    if (!found) {
        *reason = "ID token not issued for this client (aud)";
        return AFB_EMISMATCH;
    }
    if ((n > 1 || azp) && !(json_is_string(azp) && strcmp(json_string_value(azp), client_id) == 0)) {
        *reason = "ID token azp missing or not this client";
        return AFB_EMISMATCH;
    }
    return AFB_OK;
}

static const char *claim_string(json_t *c, const char *name, size_t max)
{
    json_t *v = json_object_get(c, name);
    size_t len;
    if (!json_is_string(v))
        return NULL;
    len = json_string_length(v);
    if (len == 0 || len > max || strlen(json_string_value(v)) != len ||
        has_ctl(json_string_value(v), len))
        return NULL;
    return json_string_value(v);
}

static afb_status_t check_nonce_iss(json_t *c, const afb_oidc_expect_t *ex, const char **reason)
{
    const char *iss = json_str(c, "iss"), *nonce = json_str(c, "nonce");
    if (!iss || strcmp(iss, ex->issuer) != 0) {
        *reason = "ID token issuer mismatch";
        return AFB_EMISMATCH;
    }
    if (!nonce || !ex->nonce || !afb_ct_streq(nonce, ex->nonce)) {
        *reason = "ID token nonce mismatch";
        return AFB_EMISMATCH;
    }
    return AFB_OK;
}

static void extract_claims(apr_pool_t *p, json_t *c, const afb_oidc_expect_t *ex,
                           afb_oidc_identity_t *out)
{
    const char *const *name;
    out->claims = apr_table_make(p, 4);
    for (name = ex->claims; name && *name; name++) {
        const char *v = claim_string(c, *name, AFB_OIDC_MAX_CLAIM);
        if (v)
            apr_table_set(out->claims, *name, v);
    }
}

/* RFC 8176 authentication method references: "mfa" means several factors were used. */
static int amr_says_mfa(json_t *payload)
{
    json_t *amr = json_object_get(payload, "amr");
    size_t i;
    if (!json_is_array(amr) || json_array_size(amr) > 32)
        return 0;
    for (i = 0; i < json_array_size(amr); i++) {
        const char *m = json_string_value(json_array_get(amr, i));
        if (m && (!strcmp(m, "mfa") ||
                  !strcmp(m, "http://schemas.microsoft.com/claims/multipleauthn")))
            return 1;
    }
    return 0;
}

afb_status_t afb_oidc_id_token_check(apr_pool_t *p, const afb_jwks_t *jwks,
                                     const afb_oidc_expect_t *ex, const char *id_token,
                                     afb_oidc_identity_t *out, const char **reason)
{
    afb_jws_t jws;
    afb_status_t st;
    const char *user_claim = ex->user_claim ? ex->user_claim : "sub";
    const char *dummy;

    if (!reason)
        reason = &dummy;
    memset(out, 0, sizeof(*out));
    if ((st = afb_jws_verify(p, jwks, id_token, ex->algs, &jws, reason)) != AFB_OK)
        return st;
    if ((st = check_nonce_iss(jws.payload, ex, reason)) != AFB_OK ||
        (st = check_audience(jws.payload, ex->client_id, reason)) != AFB_OK ||
        (st = check_times(jws.payload, ex, &out->expires, reason)) != AFB_OK)
        return st;
    out->sub = claim_string(jws.payload, "sub", AFB_OIDC_MAX_USER);
    if (!out->sub) {
        *reason = "ID token without a valid sub";
        return AFB_EINVAL;
    }
    out->user = claim_string(jws.payload, user_claim, AFB_OIDC_MAX_USER);
    if (!out->user) {
        *reason = "ID token user claim missing, empty, too long or not plain text";
        return AFB_EINVAL;
    }
    extract_claims(p, jws.payload, ex, out);
    out->mfa = amr_says_mfa(jws.payload);
    return AFB_OK;
}

/* ---- the provider and its cache ---- */

/* Discovery + JWKS fetched together, in their own unmanaged pool (created and destroyed
 * from any thread without touching a shared parent pool). Reference counted: a request
 * keeps its snapshot while a refresh installs a newer one. */
typedef struct {
    apr_pool_t *pool;
    afb_oidc_metadata_t md;
    afb_jwks_t *jwks;
    apr_time_t fetched;
    int refs;
} snap_t;

struct afb_oidc_provider_t {
    afb_oidc_conf_t conf;
    afb_oidc_client_t client;
    const char *expected_issuer;
    afb_http_t *http;
    apr_thread_mutex_t *mu;       /* snap, refs, retry_after, kid_refresh_at, last_error */
    apr_thread_mutex_t *fetch_mu; /* one refresh at a time */
    snap_t *snap;
    apr_time_t retry_after;
    apr_time_t failed_at;         /* when the failure behind retry_after was seen */
    apr_time_t kid_refresh_at;
    afb_status_t last_status;
    char last_error[REASON_MAX];
};

static void snap_destroy(snap_t *s)
{
    apr_pool_destroy(s->pool);
}

static snap_t *snap_get(afb_oidc_provider_t *prov)
{
    snap_t *s;
    apr_thread_mutex_lock(prov->mu);
    s = prov->snap;
    if (s)
        s->refs++;
    apr_thread_mutex_unlock(prov->mu);
    return s;
}

static void snap_put(afb_oidc_provider_t *prov, snap_t *s)
{
    if (!s)
        return;
    apr_thread_mutex_lock(prov->mu);
    if (--s->refs == 0 && s != prov->snap)
        snap_destroy(s);
    apr_thread_mutex_unlock(prov->mu);
}

/* Make s current; the caller keeps its own reference. */
static void snap_install(afb_oidc_provider_t *prov, snap_t *s)
{
    snap_t *old;
    apr_thread_mutex_lock(prov->mu);
    old = prov->snap;
    prov->snap = s;
    prov->retry_after = 0;
    if (old && old->refs == 0)
        snap_destroy(old);
    apr_thread_mutex_unlock(prov->mu);
}

static apr_status_t provider_cleanup(void *data)
{
    afb_oidc_provider_t *prov = data;
    if (prov->snap && prov->snap->refs == 0)
        snap_destroy(prov->snap);
    prov->snap = NULL;
    return APR_SUCCESS;
}

/* GET a document of the provider; AFB_EIO/AFB_ETIMEOUT with *reason unless 200. */
static afb_status_t fetch_doc(afb_oidc_provider_t *prov, apr_pool_t *p, const char *url,
                              const char *what, size_t max, afb_http_response_t *resp,
                              const char **reason)
{
    static const char *const headers[] = {"Accept: application/json", NULL};
    afb_http_request_t req;
    afb_status_t st;
    afb_http_request_init(&req, "GET", url, prov->conf.timeout);
    req.headers = headers;
    req.ca_file = prov->conf.ca_file;
    req.max_response = max;
    st = afb_http_perform(prov->http, p, &req, resp);
    if (st != AFB_OK)
        return afb_http_failure(p, st, what, resp, reason);
    if (resp->status != 200) {
        *reason = apr_psprintf(p, "%s: HTTP %d", what, resp->status);
        return AFB_EIO;
    }
    return AFB_OK;
}

static afb_status_t fetch_jwks(afb_oidc_provider_t *prov, snap_t *s, const char **reason)
{
    afb_http_response_t resp;
    const char *why = NULL;
    afb_status_t st = fetch_doc(prov, s->pool, s->md.jwks_uri, "jwks", AFB_JWKS_MAX_BYTES,
                                &resp, reason);
    if (st != AFB_OK)
        return st;
    if (afb_jwks_parse(s->pool, resp.body, resp.len, &s->jwks, &why) != AFB_OK) {
        *reason = apr_pstrcat(s->pool, "jwks: ", why, NULL);
        return AFB_EIO;
    }
    return AFB_OK;
}

static afb_status_t fetch_discovery(afb_oidc_provider_t *prov, snap_t *s, const char **reason)
{
    afb_http_response_t resp;
    const char *why = NULL;
    afb_status_t st = fetch_doc(prov, s->pool, prov->conf.discovery_url, "discovery",
                                AFB_OIDC_MAX_DOC, &resp, reason);
    if (st != AFB_OK)
        return st;
    if (afb_oidc_metadata_parse(s->pool, resp.body, resp.len, prov->expected_issuer, &s->md,
                                &why) != AFB_OK) {
        *reason = apr_pstrcat(s->pool, "discovery: ", why, NULL);
        return AFB_EIO;
    }
    return AFB_OK;
}

static snap_t *snap_new(apr_time_t now)
{
    apr_pool_t *pool = NULL;
    snap_t *s;
    if (apr_pool_create_unmanaged_ex(&pool, NULL, NULL) != APR_SUCCESS)
        return NULL;
    s = apr_pcalloc(pool, sizeof(*s));
    s->pool = pool;
    s->fetched = now;
    s->refs = 1;
    return s;
}

static void remember_failure(afb_oidc_provider_t *prov, apr_time_t now, afb_status_t st,
                             const char *reason)
{
    apr_thread_mutex_lock(prov->mu);
    prov->retry_after = now + AFB_OIDC_REFETCH_AFTER_FAILURE;
    prov->failed_at = now;
    prov->last_status = st;
    apr_cpystrn(prov->last_error, reason ? reason : "unknown", sizeof(prov->last_error));
    apr_thread_mutex_unlock(prov->mu);
}

/* Fetch discovery (or reuse `from`'s metadata when only the JWKS is wanted) and JWKS into
 * a new snapshot holding one reference for the caller. */
static afb_status_t fetch_snapshot(afb_oidc_provider_t *prov, apr_pool_t *p, apr_time_t now,
                                   const snap_t *from, snap_t **out, const char **reason)
{
    snap_t *s = snap_new(now);
    afb_status_t st;
    *out = NULL;
    if (!s) {
        *reason = "out of memory";
        return AFB_ERR;
    }
    if (from) {
        s->md = from->md; /* strings copied below: `from` may go away */
        s->md.issuer = apr_pstrdup(s->pool, from->md.issuer);
        s->md.authorization_endpoint = apr_pstrdup(s->pool, from->md.authorization_endpoint);
        s->md.token_endpoint = apr_pstrdup(s->pool, from->md.token_endpoint);
        s->md.jwks_uri = apr_pstrdup(s->pool, from->md.jwks_uri);
        s->md.end_session_endpoint = from->md.end_session_endpoint
                                         ? apr_pstrdup(s->pool, from->md.end_session_endpoint)
                                         : NULL;
        s->fetched = from->fetched;
        st = AFB_OK;
    }
    else {
        st = fetch_discovery(prov, s, reason);
    }
    if (st == AFB_OK)
        st = fetch_jwks(prov, s, reason);
    if (st != AFB_OK) {
        *reason = apr_pstrdup(p, *reason); /* it lives in s->pool */
        snap_destroy(s);
        return st;
    }
    *out = s;
    return AFB_OK;
}

static int snap_fresh(const afb_oidc_provider_t *prov, const snap_t *s, apr_time_t now)
{
    return s && now >= s->fetched && now - s->fetched < prov->conf.refresh;
}

static int snap_usable(const afb_oidc_provider_t *prov, const snap_t *s, apr_time_t now)
{
    return s && now - s->fetched < prov->conf.max_stale;
}

static void forget_failure(afb_oidc_provider_t *prov)
{
    apr_thread_mutex_lock(prov->mu);
    prov->retry_after = 0;
    apr_thread_mutex_unlock(prov->mu);
}

void afb_oidc_passed_since(afb_oidc_provider_t *prov, apr_time_t passed_at)
{
    apr_thread_mutex_lock(prov->mu);
    if (prov->retry_after && passed_at > prov->failed_at)
        prov->retry_after = 0;
    apr_thread_mutex_unlock(prov->mu);
}

/* No usable copy, and a refresh failed a moment ago: answer at once with that failure. */
static afb_status_t recent_failure(afb_oidc_provider_t *prov, apr_pool_t *p, apr_time_t now,
                                   const char **reason)
{
    afb_status_t st = AFB_OK;
    apr_thread_mutex_lock(prov->mu);
    if (prov->retry_after && now < prov->retry_after) {
        st = prov->last_status;
        *reason = apr_pstrdup(p, prov->last_error);
    }
    apr_thread_mutex_unlock(prov->mu);
    return st;
}

static afb_status_t refresh_locked(afb_oidc_provider_t *prov, apr_pool_t *p, apr_time_t now,
                                   snap_t *old, snap_t **out, const char **reason)
{
    snap_t *cur = snap_get(prov), *s = NULL;
    afb_status_t st;
    if (snap_fresh(prov, cur, now)) { /* another thread refreshed meanwhile */
        snap_put(prov, old);
        *out = cur;
        return AFB_OK;
    }
    snap_put(prov, cur);
    /* A thread that waited for the lock while another's fetch failed does not fetch again:
     * waits must not queue up behind a hanging OP. */
    if (!snap_usable(prov, old, now) && (st = recent_failure(prov, p, now, reason)) != AFB_OK) {
        snap_put(prov, old);
        return st;
    }
    st = fetch_snapshot(prov, p, now, NULL, &s, reason);
    if (st == AFB_OK) {
        snap_install(prov, s);
        snap_put(prov, old);
        *out = s;
        return AFB_OK;
    }
    remember_failure(prov, now, st, *reason);
    if (snap_usable(prov, old, now)) {
        afb_log(AFB_LOG_DEBUG, 0, "oidc %s: refresh failed (%s), serving the last good copy",
                prov->conf.name, *reason);
        *out = old;
        return AFB_OK;
    }
    snap_put(prov, old);
    return st;
}

/* The current snapshot (one reference for the caller), refreshing it when due. With
 * `retry`, a failure remembered a moment ago does not stop one fetch of this caller's. */
static afb_status_t snap_current(afb_oidc_provider_t *prov, apr_pool_t *p, apr_time_t now,
                                 int retry, snap_t **out, const char **reason)
{
    snap_t *s = snap_get(prov);
    afb_status_t st;
    *out = NULL;
    if (snap_fresh(prov, s, now)) {
        *out = s;
        return AFB_OK;
    }
    if (snap_usable(prov, s, now)) {
        if (recent_failure(prov, p, now, reason) != AFB_OK ||
            apr_thread_mutex_trylock(prov->fetch_mu) != APR_SUCCESS) {
            *out = s; /* stale but good: somebody else refreshes, or retry later */
            return AFB_OK;
        }
    }
    else {
        snap_put(prov, s);
        s = NULL;
        if (!retry && (st = recent_failure(prov, p, now, reason)) != AFB_OK)
            return st;
        apr_thread_mutex_lock(prov->fetch_mu);
        if (retry)
            forget_failure(prov);
    }
    st = refresh_locked(prov, p, now, s, out, reason);
    apr_thread_mutex_unlock(prov->fetch_mu);
    return st;
}

static const char *const *dup_claims(apr_pool_t *p, const char *const *in)
{
    int n = 0, i;
    const char **out;
    while (in && in[n])
        n++;
    out = apr_pcalloc(p, sizeof(*out) * (size_t)(n + 1));
    for (i = 0; i < n; i++)
        out[i] = apr_pstrdup(p, in[i]);
    return out;
}

static void conf_defaults(apr_pool_t *p, afb_oidc_conf_t *c)
{
    c->name = apr_pstrdup(p, c->name ? c->name : "oidc");
    c->scope = apr_pstrdup(p, c->scope ? c->scope : "openid");
    c->user_claim = apr_pstrdup(p, c->user_claim ? c->user_claim : "sub");
    c->discovery_url = apr_pstrdup(p, c->discovery_url);
    c->client_id = apr_pstrdup(p, c->client_id);
    c->client_secret = secret_zeroed_dup(p, c->client_secret);
    c->ca_file = c->ca_file ? apr_pstrdup(p, c->ca_file) : NULL;
    c->claims = dup_claims(p, c->claims);
    if (c->timeout <= 0)
        c->timeout = apr_time_from_sec(2);
    if (c->skew <= 0)
        c->skew = apr_time_from_sec(60);
    if (c->refresh <= 0)
        c->refresh = apr_time_from_sec(3600);
    if (c->max_stale <= 0)
        c->max_stale = apr_time_from_sec(24 * 3600);
}

static const char *conf_check(apr_pool_t *p, const afb_oidc_conf_t *c, const char **issuer)
{
    if (!c->discovery_url || !(*issuer = afb_oidc_expected_issuer(p, c->discovery_url)))
        return "discovery URL must be an http(s) URL ending in " AFB_OIDC_DISCOVERY_SUFFIX;
    if (!c->client_id || !*c->client_id)
        return "client_id= is required";
    if (!c->client_secret || !*c->client_secret)
        return "a client secret (client_secret_file=) is required";
    if (c->scope && !strstr(c->scope, "openid"))
        return "scope= must include openid";
    return NULL;
}

afb_status_t afb_oidc_provider_create(apr_pool_t *p, const afb_oidc_conf_t *conf,
                                      afb_http_t *http, afb_oidc_provider_t **out,
                                      const char **reason)
{
    afb_oidc_provider_t *prov;
    const char *issuer = NULL, *why;

    *out = NULL;
    if (!http || (why = conf_check(p, conf, &issuer)) != NULL) {
        *reason = http ? why : "no HTTP transport";
        return AFB_EINVAL;
    }
    prov = apr_pcalloc(p, sizeof(*prov));
    prov->conf = *conf;
    conf_defaults(p, &prov->conf);
    prov->expected_issuer = issuer;
    prov->http = http;
    prov->client.client_id = prov->conf.client_id;
    prov->client.client_secret = prov->conf.client_secret;
    prov->client.token_auth = prov->conf.token_auth;
    prov->client.ca_file = prov->conf.ca_file;
    prov->client.timeout = prov->conf.timeout;
    if (apr_thread_mutex_create(&prov->mu, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS ||
        apr_thread_mutex_create(&prov->fetch_mu, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS) {
        *reason = "cannot create mutex";
        return AFB_ERR;
    }
    apr_pool_cleanup_register(p, prov, provider_cleanup, apr_pool_cleanup_null);
    *out = prov;
    return AFB_OK;
}

afb_status_t afb_oidc_begin(afb_oidc_provider_t *prov, apr_pool_t *p, apr_time_t now,
                            const char *redirect_uri, afb_oidc_authreq_t *out,
                            const char **reason)
{
    snap_t *s = NULL;
    afb_status_t st;
    memset(out, 0, sizeof(*out));
    if ((st = snap_current(prov, p, now, 0, &s, reason)) != AFB_OK)
        return st;
    out->state = afb_random_token(p, 32);
    out->nonce = afb_random_token(p, 32);
    out->code_verifier = afb_random_token(p, 32);
    if (out->state && out->nonce && out->code_verifier)
        out->url = afb_oidc_auth_url(p, s->md.authorization_endpoint, prov->conf.client_id,
                                     redirect_uri, prov->conf.scope, out->state, out->nonce,
                                     out->code_verifier);
    snap_put(prov, s);
    if (!out->url) {
        *reason = "random generator failure";
        return AFB_ERR;
    }
    return AFB_OK;
}

afb_status_t afb_oidc_end_session_endpoint(afb_oidc_provider_t *prov, apr_pool_t *p,
                                           apr_time_t now, const char **url,
                                           const char **reason)
{
    snap_t *s = NULL;
    afb_status_t st;
    *url = NULL;
    if ((st = snap_current(prov, p, now, 0, &s, reason)) != AFB_OK)
        return st;
    if (s->md.end_session_endpoint)
        *url = apr_pstrdup(p, s->md.end_session_endpoint);
    snap_put(prov, s);
    if (!*url) {
        *reason = "the provider's discovery document names no end_session_endpoint";
        return AFB_ENOENT;
    }
    return AFB_OK;
}

/* One JWKS refresh for an unknown kid, at most once per AFB_OIDC_KID_REFRESH_EVERY. */
static afb_status_t kid_refresh(afb_oidc_provider_t *prov, apr_pool_t *p, apr_time_t now,
                                snap_t **s, const char **reason)
{
    snap_t *n = NULL;
    afb_status_t st;
    int allowed;
    apr_thread_mutex_lock(prov->mu);
    allowed = !prov->kid_refresh_at || now - prov->kid_refresh_at >= AFB_OIDC_KID_REFRESH_EVERY ||
              now < prov->kid_refresh_at;
    if (allowed)
        prov->kid_refresh_at = now;
    apr_thread_mutex_unlock(prov->mu);
    if (!allowed)
        return AFB_ENOENT;
    apr_thread_mutex_lock(prov->fetch_mu);
    st = fetch_snapshot(prov, p, now, *s, &n, reason);
    if (st == AFB_OK)
        snap_install(prov, n);
    apr_thread_mutex_unlock(prov->fetch_mu);
    if (st != AFB_OK)
        return st;
    snap_put(prov, *s);
    *s = n;
    return AFB_OK;
}

static afb_status_t exchange_code(afb_oidc_provider_t *prov, apr_pool_t *p, const snap_t *s,
                                  const char *code, const char *redirect_uri,
                                  const char *verifier, const char **id_token,
                                  const char **reason)
{
    afb_http_request_t req;
    afb_http_response_t resp;
    afb_status_t st = afb_oidc_token_request(p, &prov->client, &s->md, code, redirect_uri,
                                             verifier, &req);
    if (st != AFB_OK) {
        *reason = "incomplete token request";
        return AFB_EINVAL;
    }
    st = afb_http_perform(prov->http, p, &req, &resp);
    if (st != AFB_OK)
        return afb_http_failure(p, st, "token endpoint", &resp, reason);
    return afb_oidc_token_response(p, &resp, id_token, reason);
}

static afb_status_t check_token(afb_oidc_provider_t *prov, apr_pool_t *p, apr_time_t now,
                                snap_t **s, const char *id_token, const char *nonce,
                                afb_oidc_identity_t *out, const char **reason)
{
    afb_oidc_expect_t ex;
    afb_status_t st, rst;
    const char *why = NULL;
    memset(&ex, 0, sizeof(ex));
    ex.client_id = prov->conf.client_id;
    ex.nonce = nonce;
    ex.user_claim = prov->conf.user_claim;
    ex.claims = prov->conf.claims;
    ex.now = now;
    ex.skew = prov->conf.skew;
    ex.issuer = (*s)->md.issuer;
    ex.algs = (*s)->md.algs;
    st = afb_oidc_id_token_check(p, (*s)->jwks, &ex, id_token, out, reason);
    if (st != AFB_ENOENT)
        return st;
    rst = kid_refresh(prov, p, now, s, &why);
    if (afb_oidc_is_infra(rst)) {
        *reason = why;
        return rst;
    }
    if (rst != AFB_OK)
        return AFB_ENOENT; /* rate limited: keep the unknown-kid reason */
    ex.issuer = (*s)->md.issuer;
    ex.algs = (*s)->md.algs;
    return afb_oidc_id_token_check(p, (*s)->jwks, &ex, id_token, out, reason);
}

static int code_ok(const char *code)
{
    size_t len = code ? strnlen(code, MAX_CODE + 1) : 0;
    return len > 0 && len <= MAX_CODE && !has_ctl(code, len);
}

afb_status_t afb_oidc_redeem(afb_oidc_provider_t *prov, apr_pool_t *p, apr_time_t now,
                             const char *code, const char *redirect_uri,
                             const char *code_verifier, const char *nonce,
                             afb_oidc_identity_t *out, const char **reason)
{
    snap_t *s = NULL;
    const char *id_token = NULL;
    afb_status_t st;
    memset(out, 0, sizeof(*out));
    if (!code_ok(code) || !code_verifier || !nonce || !redirect_uri) {
        *reason = "callback without a usable code";
        return AFB_EINVAL;
    }
    /* The person has just signed in at the OP: a failure this process remembers is worth
     * one more fetch before the sign-in is given up. */
    if ((st = snap_current(prov, p, now, 1, &s, reason)) != AFB_OK)
        return st;
    st = exchange_code(prov, p, s, code, redirect_uri, code_verifier, &id_token, reason);
    if (st == AFB_OK)
        st = check_token(prov, p, now, &s, id_token, nonce, out, reason);
    if (st == AFB_OK) {
        out->user = apr_pstrdup(p, out->user);
        out->sub = apr_pstrdup(p, out->sub);
        out->id_token = apr_pstrdup(p, id_token);
    }
    snap_put(prov, s);
    return st;
}

afb_status_t afb_oidc_probe(afb_oidc_provider_t *prov, apr_pool_t *p, apr_time_t now,
                            const char **reason)
{
    snap_t *s = NULL;
    afb_status_t st;
    apr_thread_mutex_lock(prov->fetch_mu);
    st = fetch_snapshot(prov, p, now, NULL, &s, reason);
    if (st == AFB_OK)
        snap_install(prov, s);
    else
        remember_failure(prov, now, st, *reason); /* requests do not repeat it at once */
    apr_thread_mutex_unlock(prov->fetch_mu);
    if (st != AFB_OK)
        return st;
    snap_put(prov, s);
    return AFB_OK;
}

/* ---- pending sign-in cookie ---- */

#define PENDING_PURPOSE "oidc"
#define PENDING_VERSION 1

static json_t *pending_json(const afb_oidc_pending_t *in)
{
    return json_pack("{si s:s s:s s:s s:s s:s s:s si sI sI}", "v", PENDING_VERSION,
                     "p", in->provider ? in->provider : "",
                     "s", in->state ? in->state : "",
                     "n", in->nonce ? in->nonce : "",
                     "c", in->code_verifier ? in->code_verifier : "",
                     "r", in->return_to ? in->return_to : "/",
                     "l", in->location ? in->location : "",
                     "d", (in->degraded ? 1 : 0) | (in->drill ? 2 : 0), /* bit 1: drill */
                     "t", (json_int_t)in->lifetime,
                     "e", (json_int_t)(in->expires / APR_USEC_PER_SEC));
}

afb_status_t afb_oidc_pending_seal(const afb_keyring_t *kr, apr_pool_t *p,
                                   const afb_oidc_pending_t *in, const char **cookie)
{
    json_t *obj = pending_json(in);
    char *txt = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    afb_status_t st = AFB_ERR;
    *cookie = NULL;
    if (txt) {
        st = afb_seal(kr, p, PENDING_PURPOSE, (const unsigned char *)txt, strlen(txt), cookie);
        OPENSSL_cleanse(txt, strlen(txt));
        free(txt);
    }
    json_decref(obj);
    return st;
}

static afb_status_t pending_fill(apr_pool_t *p, json_t *o, afb_oidc_pending_t *out)
{
    json_int_t v = 0, d = 0, t = 0, e = 0;
    const char *pr, *s, *n, *c, *r, *l;
    json_error_t err;
    if (json_unpack_ex(o, &err, JSON_STRICT, "{s:I s:s s:s s:s s:s s:s s:s s:I s:I s:I}",
                       "v", &v, "p", &pr, "s", &s, "n", &n, "c", &c, "r", &r, "l", &l,
                       "d", &d, "t", &t, "e", &e) != 0 || v != PENDING_VERSION ||
        !*s || !*n || !*c)
        return AFB_EINVAL;
    out->provider = apr_pstrdup(p, pr);
    out->state = apr_pstrdup(p, s);
    out->nonce = apr_pstrdup(p, n);
    out->code_verifier = apr_pstrdup(p, c);
    out->return_to = apr_pstrdup(p, r);
    out->location = apr_pstrdup(p, l);
    out->degraded = (d & 1) != 0;
    out->drill = (d & 2) != 0;
    if (e < 0 || e > (json_int_t)(INT64_MAX / APR_USEC_PER_SEC) || t < 0 || t > 315360000)
        return AFB_EINVAL; /* cannot be a time this module sealed */
    out->lifetime = (long)t;
    out->expires = apr_time_from_sec((apr_time_t)e);
    return AFB_OK;
}

afb_status_t afb_oidc_pending_open(const afb_keyring_t *kr, apr_pool_t *p, const char *cookie,
                                   const char *state, apr_time_t now,
                                   afb_oidc_pending_t *out)
{
    unsigned char *pt = NULL;
    size_t len = 0;
    json_t *o;
    afb_status_t st;
    memset(out, 0, sizeof(*out));
    if (!cookie || afb_unseal(kr, p, PENDING_PURPOSE, cookie, &pt, &len) != AFB_OK)
        return AFB_EINVAL;
    o = json_object_in(p, (const char *)pt, len);
    if (!o || (st = pending_fill(p, o, out)) != AFB_OK)
        return AFB_EINVAL;
    if (now >= out->expires)
        return AFB_EEXPIRED;
    if (!state || !afb_ct_streq(state, out->state))
        return AFB_EMISMATCH;
    return AFB_OK;
}
