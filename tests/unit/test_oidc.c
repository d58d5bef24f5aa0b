/* OpenID Connect relying party: discovery, authorization URL, token request and response,
 * the provider's cache (last good copy, unknown-kid refresh), probes and the split between
 * infrastructure and client errors. A fake transport and a fixed clock; the curl transport
 * against local sockets (refused, hanging). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <apr_general.h>
#include <apr_network_io.h>
#include <apr_strings.h>

#include "authfb/oidc.h"
#include "fake_http.h"
#include "jwt_fixtures.h"

#define OP "https://op.example/tenant"
#define DISCO OP "/.well-known/openid-configuration"
#define JWKS_URL OP "/keys"
#define TOKEN_URL OP "/token"
#define CLIENT "app-1"
#define SECRET "s3cret:+/ x"
#define REDIRECT "https://app.example/auth-fallback/callback"
#define NOW_S 1750000000L
#define NOW apr_time_from_sec(NOW_S)

static apr_pool_t *gp, *p;
static EVP_PKEY *rsa1, *rsa2;
static fake_http_t *fake;

static int group_setup(void **state)
{
    (void)state;
    apr_initialize();
    apr_pool_create(&gp, NULL);
    rsa1 = fx_rsa_key(gp, 2048);
    rsa2 = fx_rsa_key(gp, 2048);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    apr_pool_destroy(gp);
    apr_terminate();
    return 0;
}

static const char *discovery_doc(const char *issuer, const char *auth_methods)
{
    return apr_psprintf(p, "{\"issuer\":\"%s\",\"authorization_endpoint\":\"" OP "/authorize\","
                        "\"token_endpoint\":\"" TOKEN_URL "\",\"jwks_uri\":\"" JWKS_URL "\","
                        "\"response_types_supported\":[\"code\"],"
                        "\"id_token_signing_alg_values_supported\":[\"RS256\",\"HS256\",\"none\"]"
                        "%s%s}", issuer, auth_methods ? ",\"token_endpoint_auth_methods_supported\":" : "",
                        auth_methods ? auth_methods : "");
}

static int setup(void **state)
{
    (void)state;
    apr_pool_create(&p, gp);
    fake = fake_http_create(p);
    fake_http_set(fake, DISCO, 200, discovery_doc(OP, NULL));
    fake_http_set(fake, JWKS_URL, 200, fx_jwks(p, fx_jwk(p, rsa1, "r1", NULL, "sig"), NULL));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    apr_pool_destroy(p);
    return 0;
}

static afb_oidc_conf_t conf(void)
{
    afb_oidc_conf_t c;
    static const char *const extra[] = {"email", NULL};
    memset(&c, 0, sizeof(c));
    c.name = "adfs";
    c.discovery_url = DISCO;
    c.client_id = CLIENT;
    c.client_secret = SECRET;
    c.user_claim = "upn";
    c.timeout = apr_time_from_msec(1500);
    c.claims = extra;
    return c;
}

static afb_oidc_provider_t *provider(void)
{
    afb_oidc_conf_t c = conf();
    afb_oidc_provider_t *prov = NULL;
    const char *why = NULL;
    assert_int_equal(afb_oidc_provider_create(p, &c, fake_http_transport(fake), &prov, &why),
                     AFB_OK);
    return prov;
}

static const char *id_token_at(EVP_PKEY *key, const char *kid, const char *nonce, long now_s)
{
    return fx_sign(p, key, "RS256", apr_psprintf(p, "{\"alg\":\"RS256\",\"kid\":\"%s\"}", kid),
                   apr_psprintf(p, "{\"iss\":\"" OP "\",\"sub\":\"s-1\",\"aud\":\"" CLIENT "\","
                                "\"exp\":%ld,\"iat\":%ld,\"nonce\":\"%s\",\"upn\":\"bob@corp\","
                                "\"email\":\"bob@corp.example\"}", now_s + 300, now_s, nonce));
}

static const char *id_token(EVP_PKEY *key, const char *kid, const char *nonce)
{
    return id_token_at(key, kid, nonce, NOW_S);
}

static void token_answer(const char *tok)
{
    fake_http_set(fake, TOKEN_URL, 200,
                  apr_psprintf(p, "{\"access_token\":\"at\",\"token_type\":\"Bearer\","
                               "\"id_token\":\"%s\"}", tok));
}

/* ---- discovery ---- */

static void expected_issuer(void **state)
{
    (void)state;
    assert_string_equal(afb_oidc_expected_issuer(p, DISCO), OP);
    assert_string_equal(afb_oidc_expected_issuer(p, "http://127.0.0.1:9/.well-known/openid-configuration"),
                        "http://127.0.0.1:9");
    assert_null(afb_oidc_expected_issuer(p, OP "/.well-known/openid-configuration/x"));
    assert_null(afb_oidc_expected_issuer(p, "ftp://op.example/.well-known/openid-configuration"));
    assert_null(afb_oidc_expected_issuer(p, "/.well-known/openid-configuration"));
}

static afb_status_t md_parse(const char *doc, afb_oidc_metadata_t *md, const char **why)
{
    return afb_oidc_metadata_parse(p, doc, strlen(doc), OP, md, why);
}

static void discovery_parsing(void **state)
{
    afb_oidc_metadata_t md;
    const char *why = NULL;
    char *big;
    (void)state;
    assert_int_equal(md_parse(discovery_doc(OP, NULL), &md, &why), AFB_OK);
    assert_string_equal(md.token_endpoint, TOKEN_URL);
    assert_int_equal(md.algs, AFB_JWS_RS256); /* HS256 and none are dropped */
    assert_true(md.auth_basic);
    assert_false(md.auth_post);
    assert_int_equal(md_parse(discovery_doc(OP, "[\"client_secret_post\"]"), &md, &why), AFB_OK);
    assert_false(md.auth_basic);
    assert_true(md.auth_post);
    /* issuer must be exactly the one the discovery URL promises */
    assert_int_equal(md_parse(discovery_doc("https://evil.example/tenant", NULL), &md, &why),
                     AFB_EINVAL);
    assert_string_equal(why, "discovery issuer does not match the discovery URL");
    assert_int_equal(md_parse(discovery_doc(OP "/", NULL), &md, &why), AFB_EINVAL);
    /* missing fields, bad endpoints, no usable algorithm */
    assert_int_equal(md_parse("{\"issuer\":\"" OP "\",\"authorization_endpoint\":\"" OP "/a\","
                              "\"jwks_uri\":\"" OP "/k\",\"id_token_signing_alg_values_supported\":"
                              "[\"RS256\"]}", &md, &why), AFB_EINVAL);
    assert_int_equal(md_parse("{\"issuer\":\"" OP "\",\"authorization_endpoint\":\"javascript:alert(1)\","
                              "\"token_endpoint\":\"" OP "/t\",\"jwks_uri\":\"" OP "/k\","
                              "\"id_token_signing_alg_values_supported\":[\"RS256\"]}", &md, &why),
                     AFB_EINVAL);
    assert_int_equal(md_parse("{\"issuer\":\"" OP "\",\"authorization_endpoint\":\"" OP "/a\","
                              "\"token_endpoint\":\"file:///etc/passwd\",\"jwks_uri\":\"" OP "/k\","
                              "\"id_token_signing_alg_values_supported\":[\"RS256\"]}", &md, &why),
                     AFB_EINVAL);
    assert_int_equal(md_parse("{\"issuer\":\"" OP "\",\"authorization_endpoint\":\"" OP "/a\","
                              "\"token_endpoint\":\"" OP "/t\",\"jwks_uri\":\"" OP "/k\","
                              "\"id_token_signing_alg_values_supported\":[\"HS256\",\"none\"]}",
                              &md, &why), AFB_EINVAL);
    assert_int_equal(md_parse("{\"issuer\":\"" OP "\",\"authorization_endpoint\":\"" OP "/a\","
                              "\"token_endpoint\":\"" OP "/t\",\"jwks_uri\":\"" OP "/k\"}", &md, &why),
                     AFB_EINVAL);
    assert_int_equal(md_parse("<html>", &md, &why), AFB_EINVAL);
    assert_int_equal(md_parse("[1]", &md, &why), AFB_EINVAL);
    big = apr_pcalloc(p, AFB_OIDC_MAX_DOC + 2);
    memset(big, ' ', AFB_OIDC_MAX_DOC + 1);
    assert_int_equal(md_parse(big, &md, &why), AFB_ETOOBIG);
}

/* ---- authorization URL ---- */

/* RP-initiated logout: the OP's end_session_endpoint when it names one it may name. */
static void discovery_end_session(void **state)
{
    afb_oidc_metadata_t md;
    const char *why = NULL;
    const char *base = "{\"issuer\":\"" OP "\",\"authorization_endpoint\":\"" OP "/a\","
                       "\"token_endpoint\":\"" OP "/t\",\"jwks_uri\":\"" OP "/k\","
                       "\"id_token_signing_alg_values_supported\":[\"RS256\"]";
    (void)state;
    assert_int_equal(md_parse(apr_pstrcat(p, base, "}", NULL), &md, &why), AFB_OK);
    assert_null(md.end_session_endpoint);
    assert_int_equal(md_parse(apr_pstrcat(p, base, ",\"end_session_endpoint\":\"" OP
                                          "/logout\"}", NULL), &md, &why), AFB_OK);
    assert_string_equal(md.end_session_endpoint, OP "/logout");
    /* an https OP never sends people to a cleartext or scripted logout: left out, not fatal */
    assert_int_equal(md_parse(apr_pstrcat(p, base, ",\"end_session_endpoint\":"
                                          "\"http://op.example/logout\"}", NULL), &md, &why), AFB_OK);
    assert_null(md.end_session_endpoint);
    assert_int_equal(md_parse(apr_pstrcat(p, base, ",\"end_session_endpoint\":"
                                          "\"javascript:alert(1)\"}", NULL), &md, &why), AFB_OK);
    assert_null(md.end_session_endpoint);
    assert_int_equal(md_parse(apr_pstrcat(p, base, ",\"end_session_endpoint\":42}", NULL), &md,
                              &why), AFB_OK);
    assert_null(md.end_session_endpoint);
}

static void authorization_url(void **state)
{
    const char *url;
    (void)state;
    /* RFC 7636 appendix B */
    assert_string_equal(afb_oidc_pkce_challenge(p, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
                        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    url = afb_oidc_auth_url(p, OP "/authorize", "my app&x=1", "https://app.example/cb?a=b c",
                            "openid email", "st", "no", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
    assert_string_equal(url, OP "/authorize?response_type=code&client_id=my%20app%26x%3D1"
                             "&redirect_uri=https%3A%2F%2Fapp.example%2Fcb%3Fa%3Db%20c"
                             "&scope=openid%20email&state=st&nonce=no"
                             "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
                             "&code_challenge_method=S256");
    url = afb_oidc_auth_url(p, OP "/authorize?tenant=x", "c", "r", "openid", "s", "n", "v");
    assert_true(strncmp(url, OP "/authorize?tenant=x&response_type=code&", 49) == 0);
}

static void begin_gives_fresh_values(void **state)
{
    afb_oidc_provider_t *prov = provider();
    afb_oidc_authreq_t a, b;
    const char *why = NULL;
    (void)state;
    assert_int_equal(afb_oidc_begin(prov, p, NOW, REDIRECT, &a, &why), AFB_OK);
    assert_int_equal(afb_oidc_begin(prov, p, NOW, REDIRECT, &b, &why), AFB_OK);
    assert_string_not_equal(a.state, b.state);
    assert_string_not_equal(a.nonce, b.nonce);
    assert_true(strlen(a.code_verifier) >= 43);
    assert_non_null(strstr(a.url, apr_pstrcat(p, "&state=", a.state, NULL)));
    assert_non_null(strstr(a.url, apr_pstrcat(p, "&code_challenge=",
                                              afb_oidc_pkce_challenge(p, a.code_verifier), NULL)));
    assert_null(strstr(a.url, a.code_verifier));
    assert_int_equal(fake_http_calls(fake, DISCO), 1); /* cached for the second */
}

/* ---- token request and response ---- */

static void token_request_styles(void **state)
{
    afb_oidc_client_t c = {CLIENT " x", SECRET, AFB_OIDC_AUTH_DEFAULT, "/ca.pem",
                           apr_time_from_sec(2)};
    afb_oidc_metadata_t md;
    afb_http_request_t req;
    const char *why = NULL;
    (void)state;
    assert_int_equal(md_parse(discovery_doc(OP, NULL), &md, &why), AFB_OK);
    assert_int_equal(afb_oidc_token_request(p, &c, &md, "c/d+e", REDIRECT, "ver", &req), AFB_OK);
    assert_string_equal(req.method, "POST");
    assert_string_equal(req.url, TOKEN_URL);
    assert_string_equal(req.basic_user, "app-1+x");
    assert_string_equal(req.basic_password, "s3cret%3A%2B%2F+x"); /* RFC 6749 2.3.1 */
    assert_string_equal(req.body, "grant_type=authorization_code&code=c%2Fd%2Be"
                                  "&redirect_uri=https%3A%2F%2Fapp.example%2Fauth-fallback%2Fcallback"
                                  "&code_verifier=ver");
    assert_string_equal(req.ca_file, "/ca.pem");
    assert_int_equal(req.timeout, apr_time_from_sec(2));
    c.token_auth = AFB_OIDC_AUTH_POST;
    assert_int_equal(afb_oidc_token_request(p, &c, &md, "c", REDIRECT, "ver", &req), AFB_OK);
    assert_null(req.basic_user);
    assert_non_null(strstr(req.body, "&client_id=app-1+x&client_secret=s3cret%3A%2B%2F+x"));
    /* default follows an OP that only takes client_secret_post */
    c.token_auth = AFB_OIDC_AUTH_DEFAULT;
    assert_int_equal(md_parse(discovery_doc(OP, "[\"client_secret_post\"]"), &md, &why), AFB_OK);
    assert_int_equal(afb_oidc_token_request(p, &c, &md, "c", REDIRECT, "ver", &req), AFB_OK);
    assert_null(req.basic_user);
    assert_non_null(strstr(req.body, "client_secret="));
}

static afb_status_t token_resp(int status, const char *body, const char **tok, const char **why)
{
    afb_http_response_t r = {status, body, strlen(body), "application/json", NULL};
    return afb_oidc_token_response(p, &r, tok, why);
}

static void token_response_errors(void **state)
{
    const char *tok = NULL, *why = NULL;
    (void)state;
    assert_int_equal(token_resp(200, "{\"id_token\":\"a.b.c\"}", &tok, &why), AFB_OK);
    assert_string_equal(tok, "a.b.c");
    assert_int_equal(token_resp(400, "{\"error\":\"invalid_grant\",\"error_description\":"
                                     "\"code eyJhbGciOi expired\"}", &tok, &why), AFB_EINVAL);
    assert_string_equal(why, "token endpoint refused the code: invalid_grant");
    assert_int_equal(token_resp(401, "{\"error\":\"bad\\\"\\ncode\"}", &tok, &why), AFB_EINVAL);
    assert_null(strstr(why, "bad"));
    assert_int_equal(token_resp(400, "<html>secret page</html>", &tok, &why), AFB_EINVAL);
    assert_null(strstr(why, "secret"));
    /* the client's own credentials refused: configuration, not the person */
    assert_int_equal(token_resp(401, "{\"error\":\"invalid_client\"}", &tok, &why), AFB_EIO);
    assert_non_null(strstr(why, "client_secret_file"));
    assert_int_equal(token_resp(400, "{\"error\":\"unauthorized_client\"}", &tok, &why), AFB_EIO);
    assert_int_equal(token_resp(500, "{\"error\":\"server_error\"}", &tok, &why), AFB_EANSWER);
    assert_int_equal(token_resp(503, "", &tok, &why), AFB_EANSWER);
    assert_int_equal(token_resp(302, "", &tok, &why), AFB_EANSWER);
    assert_int_equal(token_resp(200, "not json", &tok, &why), AFB_EANSWER);
    assert_int_equal(token_resp(200, "{\"access_token\":\"x\"}", &tok, &why), AFB_EANSWER);
    assert_int_equal(token_resp(200, "{\"id_token\":7}", &tok, &why), AFB_EANSWER);
}

/* ---- redeem: the whole callback, and error classes ---- */

static void redeem_good_and_classified(void **state)
{
    afb_oidc_provider_t *prov = provider();
    afb_oidc_identity_t id;
    const char *why = NULL;
    afb_status_t st;
    (void)state;
    const char *tok = id_token(rsa1, "r1", "N1");
    token_answer(tok);
    assert_int_equal(afb_oidc_redeem(prov, p, NOW, "code1", REDIRECT, "ver", "N1", &id, &why),
                     AFB_OK);
    assert_string_equal(id.user, "bob@corp");
    assert_string_equal(id.id_token, tok); /* kept for the logout's id_token_hint */
    assert_string_equal(apr_table_get(id.claims, "email"), "bob@corp.example");
    assert_string_equal(fake_http_last(fake)->basic_user, CLIENT);
    assert_int_equal(fake_http_last(fake)->timeout, apr_time_from_msec(1500));
    /* client's fault: never infrastructure */
    st = afb_oidc_redeem(prov, p, NOW, "code1", REDIRECT, "ver", "N2", &id, &why);
    assert_int_equal(st, AFB_EMISMATCH);
    assert_false(afb_oidc_is_infra(st));
    assert_null(strstr(why, "N1"));
    st = afb_oidc_redeem(prov, p, NOW, "", REDIRECT, "ver", "N1", &id, &why);
    assert_int_equal(st, AFB_EINVAL);
    st = afb_oidc_redeem(prov, p, NOW, "a\nb", REDIRECT, "ver", "N1", &id, &why);
    assert_int_equal(st, AFB_EINVAL);
    fake_http_set(fake, TOKEN_URL, 400, "{\"error\":\"invalid_grant\"}");
    st = afb_oidc_redeem(prov, p, NOW, "reused", REDIRECT, "ver", "N1", &id, &why);
    assert_int_equal(st, AFB_EINVAL);
    assert_false(afb_oidc_is_infra(st));
    assert_string_equal(why, "token endpoint refused the code: invalid_grant");
    token_answer(fx_sign(p, rsa2, "RS256", "{\"alg\":\"RS256\",\"kid\":\"r1\"}", "{}"));
    assert_false(afb_oidc_is_infra(afb_oidc_redeem(prov, p, NOW, "c", REDIRECT, "v", "N1", &id,
                                                   &why)));
    /* infrastructure */
    fake_http_fail(fake, TOKEN_URL, AFB_ETIMEOUT);
    st = afb_oidc_redeem(prov, p, NOW, "c", REDIRECT, "ver", "N1", &id, &why);
    assert_int_equal(st, AFB_ETIMEOUT);
    assert_true(afb_oidc_is_infra(st));
    assert_string_equal(why, "token endpoint: timeout");
    fake_http_set(fake, TOKEN_URL, 503, "busy");
    st = afb_oidc_redeem(prov, p, NOW, "c", REDIRECT, "ver", "N1", &id, &why);
    assert_int_equal(st, AFB_EANSWER); /* answered: a made-up code could provoke it */
    assert_true(afb_oidc_is_infra(st));
    fake_http_fail(fake, TOKEN_URL, AFB_EIO);
    assert_true(afb_oidc_is_infra(afb_oidc_redeem(prov, p, NOW, "c", REDIRECT, "v", "N1", &id,
                                                  &why)));
    fake_http_set(fake, TOKEN_URL, 200, apr_psprintf(p, "{\"id_token\":\"%0*d\"}", 70000, 0));
    assert_int_equal(afb_oidc_redeem(prov, p, NOW, "c", REDIRECT, "v", "N1", &id, &why), AFB_EIO);
}

static void redeem_when_metadata_unavailable(void **state)
{
    afb_oidc_provider_t *prov = provider();
    afb_oidc_identity_t id;
    afb_oidc_authreq_t ar;
    const char *why = NULL;
    (void)state;
    fake_http_fail(fake, DISCO, AFB_ETIMEOUT);
    assert_int_equal(afb_oidc_begin(prov, p, NOW, REDIRECT, &ar, &why), AFB_ETIMEOUT);
    assert_string_equal(why, "discovery: timeout");
    /* new sign-ins of the next few seconds answer at once, without waiting on the OP again */
    assert_int_equal(afb_oidc_begin(prov, p, NOW + apr_time_from_sec(2), REDIRECT, &ar, &why),
                     AFB_ETIMEOUT);
    assert_int_equal(fake_http_calls(fake, DISCO), 1);
    /* a callback (the person has just signed in at the OP) tries one fetch anyway */
    assert_int_equal(afb_oidc_redeem(prov, p, NOW + apr_time_from_sec(2), "c", REDIRECT, "v",
                                     "n", &id, &why), AFB_ETIMEOUT);
    assert_int_equal(fake_http_calls(fake, DISCO), 2);
    /* a passing probe older than the failure changes nothing ... */
    afb_oidc_passed_since(prov, NOW + apr_time_from_sec(1));
    assert_int_equal(afb_oidc_begin(prov, p, NOW + apr_time_from_sec(3), REDIRECT, &ar, &why),
                     AFB_ETIMEOUT);
    assert_int_equal(fake_http_calls(fake, DISCO), 2);
    /* ... a newer one lets the next sign-in fetch at once */
    fake_http_set(fake, DISCO, 200, discovery_doc(OP, NULL));
    afb_oidc_passed_since(prov, NOW + apr_time_from_sec(3));
    assert_int_equal(afb_oidc_begin(prov, p, NOW + apr_time_from_sec(4), REDIRECT, &ar, &why),
                     AFB_OK);
}

/* ---- cache ---- */

static void last_good_copy(void **state)
{
    afb_oidc_provider_t *prov = provider();
    afb_oidc_authreq_t ar;
    afb_oidc_identity_t id;
    const char *why = NULL;
    apr_time_t t;
    (void)state;
    assert_int_equal(afb_oidc_begin(prov, p, NOW, REDIRECT, &ar, &why), AFB_OK);
    /* the OP goes away; an hour later the cache is due but the copy is served */
    fake_http_set(fake, DISCO, 503, "down");
    fake_http_fail(fake, JWKS_URL, AFB_EIO);
    t = NOW + apr_time_from_sec(3700);
    assert_int_equal(afb_oidc_begin(prov, p, t, REDIRECT, &ar, &why), AFB_OK);
    assert_int_equal(fake_http_calls(fake, DISCO), 2);
    /* tokens still verify with the cached JWKS */
    token_answer(id_token_at(rsa1, "r1", "N1", NOW_S + 3700));
    assert_int_equal(afb_oidc_redeem(prov, p, t, "c", REDIRECT, "v", "N1", &id, &why), AFB_OK);
    /* no new attempt within the retry pause */
    assert_int_equal(fake_http_calls(fake, DISCO), 2);
    /* past the staleness bound the copy is not used any more */
    t = NOW + apr_time_from_sec(24 * 3600 + 5);
    assert_int_equal(afb_oidc_begin(prov, p, t, REDIRECT, &ar, &why), AFB_EIO);
    assert_string_equal(why, "discovery: HTTP 503");
    /* a bad document in place of the good one also keeps the good copy */
    fake_http_set(fake, DISCO, 200, discovery_doc(OP, NULL));
    t += apr_time_from_sec(20);
    assert_int_equal(afb_oidc_begin(prov, p, t, REDIRECT, &ar, &why), AFB_EIO); /* jwks down */
    fake_http_set(fake, JWKS_URL, 200, fx_jwks(p, fx_jwk(p, rsa1, "r1", NULL, NULL), NULL));
    t += apr_time_from_sec(20);
    assert_int_equal(afb_oidc_begin(prov, p, t, REDIRECT, &ar, &why), AFB_OK);
    fake_http_set(fake, DISCO, 200, discovery_doc("https://evil.example", NULL));
    t += apr_time_from_sec(3700);
    assert_int_equal(afb_oidc_begin(prov, p, t, REDIRECT, &ar, &why), AFB_OK);
    assert_non_null(strstr(ar.url, OP "/authorize?"));
}

static void unknown_kid_refresh_rate_limit(void **state)
{
    afb_oidc_provider_t *prov = provider();
    afb_oidc_identity_t id;
    const char *why = NULL;
    (void)state;
    token_answer(id_token(rsa1, "r1", "N"));
    assert_int_equal(afb_oidc_redeem(prov, p, NOW, "c", REDIRECT, "v", "N", &id, &why), AFB_OK);
    assert_int_equal(fake_http_calls(fake, JWKS_URL), 1);
    /* the OP rotates: the new kid triggers one JWKS fetch and then verifies */
    fake_http_set(fake, JWKS_URL, 200, fx_jwks(p, fx_jwk(p, rsa2, "r2", NULL, NULL),
                                               fx_jwk(p, rsa1, "r1", NULL, NULL), NULL));
    token_answer(id_token(rsa2, "r2", "N"));
    assert_int_equal(afb_oidc_redeem(prov, p, NOW + 1, "c", REDIRECT, "v", "N", &id, &why),
                     AFB_OK);
    assert_int_equal(fake_http_calls(fake, JWKS_URL), 2);
    /* a kid nobody publishes: at most one fetch per 60 s */
    token_answer(id_token(rsa2, "r3", "N"));
    assert_int_equal(afb_oidc_redeem(prov, p, NOW + apr_time_from_sec(61), "c", REDIRECT, "v",
                                     "N", &id, &why), AFB_ENOENT);
    assert_int_equal(fake_http_calls(fake, JWKS_URL), 3);
    assert_false(afb_oidc_is_infra(AFB_ENOENT));
    assert_int_equal(afb_oidc_redeem(prov, p, NOW + apr_time_from_sec(70), "c", REDIRECT, "v",
                                     "N", &id, &why), AFB_ENOENT);
    assert_int_equal(afb_oidc_redeem(prov, p, NOW + apr_time_from_sec(100), "c", REDIRECT, "v",
                                     "N", &id, &why), AFB_ENOENT);
    assert_int_equal(fake_http_calls(fake, JWKS_URL), 3);
    assert_string_equal(why, "token signed with an unknown key (kid)");
    assert_int_equal(afb_oidc_redeem(prov, p, NOW + apr_time_from_sec(122), "c", REDIRECT, "v",
                                     "N", &id, &why), AFB_ENOENT);
    assert_int_equal(fake_http_calls(fake, JWKS_URL), 4);
    /* the kid refresh failing is an infrastructure error */
    fake_http_fail(fake, JWKS_URL, AFB_ETIMEOUT);
    assert_int_equal(afb_oidc_redeem(prov, p, NOW + apr_time_from_sec(200), "c", REDIRECT, "v",
                                     "N", &id, &why), AFB_ETIMEOUT);
    assert_string_equal(why, "jwks: timeout");
}

/* ---- probe ---- */

static void probe_reasons(void **state)
{
    afb_oidc_provider_t *prov = provider();
    const char *why = NULL;
    (void)state;
    assert_int_equal(afb_oidc_probe(prov, p, NOW, &why), AFB_OK);
    assert_int_equal(fake_http_last(fake)->timeout, apr_time_from_msec(1500));
    /* every probe goes to the network */
    assert_int_equal(afb_oidc_probe(prov, p, NOW + 1, &why), AFB_OK);
    assert_int_equal(fake_http_calls(fake, DISCO), 2);
#define PROBE(st, text) do { assert_int_equal(afb_oidc_probe(prov, p, NOW, &why), st); \
                             assert_string_equal(why, text); } while (0)
    fake_http_fail(fake, DISCO, AFB_ETIMEOUT);
    PROBE(AFB_ETIMEOUT, "discovery: timeout");
    fake_http_fail(fake, DISCO, AFB_EIO);
    PROBE(AFB_EIO, "discovery: connection failed");
    fake_http_set(fake, DISCO, 500, "oops");
    PROBE(AFB_EIO, "discovery: HTTP 500");
    fake_http_set(fake, DISCO, 200, "<html>");
    PROBE(AFB_EIO, "discovery: discovery document is not a JSON object");
    fake_http_set(fake, DISCO, 200, discovery_doc("https://other.example", NULL));
    PROBE(AFB_EIO, "discovery: discovery issuer does not match the discovery URL");
    fake_http_set(fake, DISCO, 200, apr_psprintf(p, "{\"x\":\"%0*d\"}", 300000, 0));
    PROBE(AFB_EIO, "discovery: response too large");
    fake_http_set(fake, DISCO, 200, discovery_doc(OP, NULL));
    fake_http_set(fake, JWKS_URL, 200, "{\"keys\":[]}");
    PROBE(AFB_EIO, "jwks: JWKS has no usable signing key (no keys)");
    fake_http_set(fake, JWKS_URL, 404, "");
    PROBE(AFB_EIO, "jwks: HTTP 404");
    fake_http_set(fake, JWKS_URL, 200, fx_jwks(p, fx_jwk(p, rsa2, "r2", NULL, NULL), NULL));
    assert_int_equal(afb_oidc_probe(prov, p, NOW, &why), AFB_OK);
}

static void provider_conf_checks(void **state)
{
    afb_oidc_conf_t c = conf();
    afb_oidc_provider_t *prov;
    const char *why = NULL;
    afb_oidc_token_auth_t ta;
    (void)state;
    c.discovery_url = OP "/metadata";
    assert_int_equal(afb_oidc_provider_create(p, &c, fake_http_transport(fake), &prov, &why),
                     AFB_EINVAL);
    c = conf();
    c.client_secret = "";
    assert_int_equal(afb_oidc_provider_create(p, &c, fake_http_transport(fake), &prov, &why),
                     AFB_EINVAL);
    c = conf();
    c.scope = "email";
    assert_int_equal(afb_oidc_provider_create(p, &c, fake_http_transport(fake), &prov, &why),
                     AFB_EINVAL);
    assert_int_equal(afb_oidc_token_auth_parse("client_secret_post", &ta), AFB_OK);
    assert_int_equal(ta, AFB_OIDC_AUTH_POST);
    assert_int_equal(afb_oidc_token_auth_parse("private_key_jwt", &ta), AFB_EINVAL);
    assert_int_equal(fake_http_total_calls(fake), 0);
}

/* ---- pending sign-in cookie ---- */

static void pending_cookie(void **state)
{
    afb_keyring_t *kr = afb_keyring_create(p);
    unsigned char ikm[32] = {1, 2, 3};
    afb_oidc_pending_t in, out;
    const char *cookie = NULL;
    char *bad;
    (void)state;
    assert_int_equal(afb_keyring_add(kr, ikm, sizeof(ikm)), AFB_OK);
    memset(&in, 0, sizeof(in));
    in.provider = "adfs";
    in.state = "STATE";
    in.nonce = "NONCE";
    in.code_verifier = "VERIFIER";
    in.return_to = "/payroll/";
    in.degraded = 1;
    in.lifetime = 3600;
    in.expires = NOW + apr_time_from_sec(300);
    assert_int_equal(afb_oidc_pending_seal(kr, p, &in, &cookie), AFB_OK);
    assert_null(strstr(cookie, "VERIFIER"));
    assert_int_equal(afb_oidc_pending_open(kr, p, cookie, "STATE", NOW, &out), AFB_OK);
    assert_string_equal(out.nonce, "NONCE");
    assert_string_equal(out.code_verifier, "VERIFIER");
    assert_string_equal(out.return_to, "/payroll/");
    assert_int_equal(out.degraded, 1);
    assert_int_equal(out.drill, 0);
    assert_int_equal(out.lifetime, 3600);
    in.drill = 1;
    assert_int_equal(afb_oidc_pending_seal(kr, p, &in, &cookie), AFB_OK);
    assert_int_equal(afb_oidc_pending_open(kr, p, cookie, "STATE", NOW, &out), AFB_OK);
    assert_int_equal(out.drill, 1);
    assert_int_equal(out.degraded, 1);
    assert_int_equal(afb_oidc_pending_open(kr, p, cookie, "STATF", NOW, &out), AFB_EMISMATCH);
    assert_int_equal(afb_oidc_pending_open(kr, p, cookie, NULL, NOW, &out), AFB_EMISMATCH);
    assert_int_equal(afb_oidc_pending_open(kr, p, cookie, "STATE", NOW + apr_time_from_sec(301),
                                           &out), AFB_EEXPIRED);
    bad = apr_pstrdup(p, cookie);
    bad[strlen(bad) / 2] ^= 1;
    assert_int_equal(afb_oidc_pending_open(kr, p, bad, "STATE", NOW, &out), AFB_EINVAL);
    assert_int_equal(afb_oidc_pending_open(kr, p, "garbage", "STATE", NOW, &out), AFB_EINVAL);
}

/* ---- the curl transport against local sockets ---- */

static void curl_refused_and_hanging(void **state)
{
    afb_http_t *http = afb_http_curl_create(p);
    afb_http_request_t req;
    afb_http_response_t resp;
    apr_socket_t *s = NULL, *s2 = NULL;
    apr_sockaddr_t *sa = NULL;
    apr_port_t port = 0;
    apr_time_t t0;
    const char *url;
    (void)state;
    assert_int_equal(afb_http_global_init(), AFB_OK);
    assert_non_null(http);
    /* a port nobody listens on: bind one and close it */
    assert_int_equal(apr_sockaddr_info_get(&sa, "127.0.0.1", APR_INET, 0, 0, p), APR_SUCCESS);
    assert_int_equal(apr_socket_create(&s, APR_INET, SOCK_STREAM, APR_PROTO_TCP, p), APR_SUCCESS);
    assert_int_equal(apr_socket_bind(s, sa), APR_SUCCESS);
    assert_int_equal(apr_socket_addr_get(&sa, APR_LOCAL, s), APR_SUCCESS);
    port = sa->port;
    apr_socket_close(s);
    url = apr_psprintf(p, "http://127.0.0.1:%u/x", port);
    afb_http_request_init(&req, "GET", url, apr_time_from_sec(2));
    assert_int_equal(afb_http_perform(http, p, &req, &resp), AFB_EIO);
    /* a listener that accepts nothing and never answers */
    assert_int_equal(apr_sockaddr_info_get(&sa, "127.0.0.1", APR_INET, 0, 0, p), APR_SUCCESS);
    assert_int_equal(apr_socket_create(&s2, APR_INET, SOCK_STREAM, APR_PROTO_TCP, p), APR_SUCCESS);
    assert_int_equal(apr_socket_bind(s2, sa), APR_SUCCESS);
    assert_int_equal(apr_socket_listen(s2, 8), APR_SUCCESS);
    assert_int_equal(apr_socket_addr_get(&sa, APR_LOCAL, s2), APR_SUCCESS);
    port = sa->port;
    afb_http_request_init(&req, "GET", apr_psprintf(p, "http://127.0.0.1:%u/x", port),
                          apr_time_from_msec(300));
    t0 = apr_time_now();
    assert_int_equal(afb_http_perform(http, p, &req, &resp), AFB_ETIMEOUT);
    assert_true(apr_time_now() - t0 < apr_time_from_msec(1500));
    apr_socket_close(s2);
    /* other schemes are refused before any connection */
    afb_http_request_init(&req, "GET", "file:///etc/passwd", apr_time_from_sec(1));
    assert_int_equal(afb_http_perform(http, p, &req, &resp), AFB_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(expected_issuer, setup, teardown),
        cmocka_unit_test_setup_teardown(discovery_parsing, setup, teardown),
        cmocka_unit_test_setup_teardown(discovery_end_session, setup, teardown),
        cmocka_unit_test_setup_teardown(authorization_url, setup, teardown),
        cmocka_unit_test_setup_teardown(begin_gives_fresh_values, setup, teardown),
        cmocka_unit_test_setup_teardown(token_request_styles, setup, teardown),
        cmocka_unit_test_setup_teardown(token_response_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(redeem_good_and_classified, setup, teardown),
        cmocka_unit_test_setup_teardown(redeem_when_metadata_unavailable, setup, teardown),
        cmocka_unit_test_setup_teardown(last_good_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_kid_refresh_rate_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(probe_reasons, setup, teardown),
        cmocka_unit_test_setup_teardown(provider_conf_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(pending_cookie, setup, teardown),
        cmocka_unit_test_setup_teardown(curl_refused_and_hanging, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
