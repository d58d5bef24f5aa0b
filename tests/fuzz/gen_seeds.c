/* Writes the seed inputs that need the fixed keys of harness.c (sealed cookies and their
 * records, signed tokens, the JWKS) into the corpus directories under the given root:
 *
 *   gen_fuzz_seeds tests/fuzz/corpus
 *
 * The plain-text seeds are kept in the tree as they are; this tool only has to run again
 * when the fixed keys change. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>

#include "harness.h"
#include "jwt_fixtures.h"
#include "authfb/flow.h"
#include "authfb/oidc.h"
#include "authfb/session.h"

static apr_pool_t *pool;
static const char *root;

static void put(const char *target, const char *name, const void *data, size_t len)
{
    const char *path = apr_pstrcat(pool, root, "/", target, "/", name, NULL);
    FILE *f = fopen(path, "wb");

    if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
}

static void put_str(const char *target, const char *name, const char *s)
{
    put(target, name, s, strlen(s));
}

/* The plaintext record of a sealed cookie. */
static void put_record(const char *target, const char *name, const char *purpose,
                       const char *cookie)
{
    unsigned char *pt = NULL;
    size_t len = 0;

    if (afb_unseal(afb_fuzz_keyring(), pool, purpose, cookie, &pt, &len) != AFB_OK)
        exit(1);
    put(target, name, pt, len);
}

static void sessions(void)
{
    afb_session_t s = { .user = "alice", .path = "local", .mfa = "totp",
                        .issued = AFB_FUZZ_NOW - apr_time_from_sec(60),
                        .expires = AFB_FUZZ_NOW + apr_time_from_sec(3600),
                        .n_claims = 1, .claim_name = {"email"},
                        .claim_value = {"alice@example.org"} };
    afb_session_t old = { .user = "bob@example.org", .path = "oidc", .mfa = "none",
                          .issued = AFB_FUZZ_NOW - apr_time_from_sec(7200),
                          .expires = AFB_FUZZ_NOW - apr_time_from_sec(60), .degraded = 1,
                          .extended = 1 };
    const char *c1 = NULL, *c2 = NULL;

    if (afb_session_seal(afb_fuzz_keyring(), pool, &s, &c1) != AFB_OK
        || afb_session_seal(afb_fuzz_keyring(), pool, &old, &c2) != AFB_OK)
        exit(1);
    put_str("session_open", "valid", c1);
    put_str("session_open", "expired", c2);
    put_record("session_record", "valid", "session", c1);
    put_record("session_record", "expired", "session", c2);
}

static void flows(void)
{
    afb_flow_t f = { AFB_FLOW_MFA, "/app/page?x=1", "csrf-token", "/app", "local", 0, "alice",
                     2, { "totp", "radius" }, 1, 3600, 600,
                     AFB_FUZZ_NOW + apr_time_from_sec(300), 1, NULL };
    afb_flow_t g = { AFB_FLOW_PASSWORD, "/", "csrf2", "/private", "ldap", 1, NULL, 0, { NULL },
                     0, 28800, 0, AFB_FUZZ_NOW - apr_time_from_sec(1), 0, NULL };
    afb_flow_t h = g;
    const char *c1 = NULL, *c2 = NULL, *c3 = NULL;

    if (afb_flow_seal(afb_fuzz_keyring(), pool, &f, &c1) != AFB_OK
        || afb_flow_seal(afb_fuzz_keyring(), pool, &g, &c2) != AFB_OK)
        exit(1);
    h.standby = "phs";   /* a directory path's form, with the path it moves to */
    h.expires = AFB_FUZZ_NOW + apr_time_from_sec(300);
    if (afb_flow_seal(afb_fuzz_keyring(), pool, &h, &c3) != AFB_OK)
        exit(1);
    put_str("flow_open", "mfa", c1);
    put_str("flow_open", "password-expired", c2);
    put_record("flow_record", "mfa", "flow", c1);
    put_record("flow_record", "password-expired", "flow", c2);
    put_str("flow_open", "password-standby", c3);
    put_record("flow_record", "password-standby", "flow", c3);
}

static void pending(void)
{
    afb_oidc_pending_t in = { "oidc", AFB_FUZZ_STATE, AFB_FUZZ_NONCE, "verifier-0123456789",
                              "/app", "/app", 0, 3600, AFB_FUZZ_NOW + apr_time_from_sec(300),
                              1 };
    const char *c = NULL;

    if (afb_oidc_pending_seal(afb_fuzz_keyring(), pool, &in, &c) != AFB_OK)
        exit(1);
    put_str("oidc_pending_open", "valid", c);
    put_record("oidc_pending_record", "valid", "oidc", c);
}

static const char *claims_json(long exp_offset, const char *extra)
{
    long now = (long)apr_time_sec(AFB_FUZZ_NOW);

    return apr_psprintf(pool,
                        "{\"iss\":\"" AFB_FUZZ_ISSUER "\",\"sub\":\"alice\",\"aud\":\""
                        AFB_FUZZ_CLIENT "\",\"exp\":%ld,\"iat\":%ld,\"nonce\":\""
                        AFB_FUZZ_NONCE "\"%s}", now + exp_offset, now - 10, extra);
}

static void tokens(void)
{
    const char *ok = claims_json(600, ",\"email\":\"alice@example.org\",\"name\":\"Alice\"");
    const char *hdr_ec = "{\"alg\":\"ES256\",\"kid\":\"" AFB_FUZZ_KID_EC "\"}";
    const char *hdr_rs = "{\"alg\":\"RS256\",\"kid\":\"" AFB_FUZZ_KID_RSA "\",\"typ\":\"JWT\"}";

    put_str("jws_verify", "es256", fx_sign(pool, afb_fuzz_ec_key(), "ES256", hdr_ec, ok));
    put_str("jws_verify", "rs256", fx_sign(pool, afb_fuzz_rsa_key(), "RS256", hdr_rs, ok));
    put_str("jws_verify", "ps256-nokid",
            fx_sign(pool, afb_fuzz_rsa_key(), "PS256", "{\"alg\":\"PS256\"}", "{\"sub\":\"x\"}"));
    put_str("jws_verify", "none", fx_sign(pool, NULL, "none", "{\"alg\":\"none\"}", ok));
    put_str("oidc_id_token", "es256", fx_sign(pool, afb_fuzz_ec_key(), "ES256", hdr_ec, ok));
    put_str("oidc_id_token", "rs256", fx_sign(pool, afb_fuzz_rsa_key(), "RS256", hdr_rs, ok));
    put_str("oidc_claims", "valid", ok);
    put_str("oidc_claims", "azp-aud-list",
            claims_json(600, ",\"azp\":\"" AFB_FUZZ_CLIENT "\",\"aud\":[\"" AFB_FUZZ_CLIENT
                             "\",\"other\"],\"nbf\":1704067000"));
    put_str("oidc_claims", "expired", claims_json(-600, ""));
    put_str("jwks_parse", "fixed", afb_fuzz_jwks_text());
    put_str("jwks_parse", "ec-only",
            fx_jwks(pool, fx_jwk(pool, afb_fuzz_ec_key(), AFB_FUZZ_KID_EC, NULL, NULL), NULL));
    put_str("jwks_parse", "rsa-rs256",
            fx_jwks(pool, fx_jwk(pool, afb_fuzz_rsa_key(), "r1", "RS256", "sig"), NULL));
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_fuzz_seeds CORPUS_DIR\n");
        return 2;
    }
    root = argv[1];
    afb_fuzz_init();
    if (apr_pool_create(&pool, NULL) != APR_SUCCESS)
        return 1;
    sessions();
    flows();
    pending();
    tokens();
    return 0;
}
