/* A JWKS document as an OpenID Provider serves it; a set that parses is then used to
 * verify a fixed token, so the keys built from it are exercised too. */
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "jwt_fixtures.h"

static const char *token;

static const char *fixed_token(void)
{
    static apr_pool_t *tp;

    if (token == NULL) {
        afb_fuzz_init();
        afb_fuzz_lasting_begin();
        if (apr_pool_create(&tp, NULL) != APR_SUCCESS)
            abort();
        token = fx_sign(tp, afb_fuzz_ec_key(), "ES256",
                        "{\"alg\":\"ES256\",\"kid\":\"" AFB_FUZZ_KID_EC "\"}", "{\"sub\":\"alice\"}");
        afb_fuzz_lasting_end();
    }
    return token;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *tok = fixed_token();
    apr_pool_t *p = afb_fuzz_pool();
    afb_jwks_t *jwks = NULL;
    const char *why = NULL;
    afb_jws_t jws;

    if (afb_jwks_parse(p, (const char *)data, size, &jwks, &why) == AFB_OK) {
        if (jwks == NULL || afb_jwks_count(jwks) < 1)
            abort();
        (void)afb_jwks_has_kid(jwks, AFB_FUZZ_KID_EC);
        if (afb_jws_verify(p, jwks, tok, AFB_JWS_ALL, &jws, &why) == AFB_OK
            && jws.payload == NULL)
            abort();
    } else if (why == NULL) {
        abort();
    }
    apr_pool_destroy(p);
    return 0;
}
