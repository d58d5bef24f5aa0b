/* The claim checks behind the signature: the input is the payload of an ID token signed
 * with the fixed EC key, so every byte reaches the iss/aud/azp/exp/iat/nbf/nonce and user
 * claim checks. */
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "jwt_fixtures.h"
#include "authfb/oidc.h"

static const char *const claims[] = { "email", "name", NULL };

static void check(const afb_oidc_identity_t *id)
{
    if (id->user == NULL || id->user[0] == '\0' || strlen(id->user) > AFB_OIDC_MAX_USER)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = afb_fuzz_pool();
    afb_oidc_expect_t ex = { AFB_FUZZ_ISSUER, AFB_FUZZ_CLIENT, AFB_JWS_ALL, AFB_FUZZ_NONCE,
                             "sub", claims, AFB_FUZZ_NOW, apr_time_from_sec(60) };
    afb_oidc_identity_t id;
    const char *why = NULL, *token;

    token = fx_sign(p, afb_fuzz_ec_key(), "ES256",
                    "{\"alg\":\"ES256\",\"kid\":\"" AFB_FUZZ_KID_EC "\",\"typ\":\"JWT\"}",
                    afb_fuzz_cstr(p, data, size));
    if (afb_oidc_id_token_check(p, afb_fuzz_jwks(), &ex, token, &id, &why) == AFB_OK)
        check(&id);
    apr_pool_destroy(p);
    return 0;
}
