/* An ID token from the token endpoint, checked against the fixed JWKS and expectations. */
#include <stdlib.h>
#include "harness.h"
#include "authfb/oidc.h"

static const char *const claims[] = { "email", "name", NULL };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = afb_fuzz_pool();
    afb_oidc_expect_t ex = { AFB_FUZZ_ISSUER, AFB_FUZZ_CLIENT, AFB_JWS_ALL, AFB_FUZZ_NONCE,
                             "sub", claims, AFB_FUZZ_NOW, apr_time_from_sec(60) };
    afb_oidc_identity_t id;
    const char *why = NULL;

    if (afb_oidc_id_token_check(p, afb_fuzz_jwks(), &ex, afb_fuzz_cstr(p, data, size), &id, &why)
        == AFB_OK && id.user == NULL)
        abort();
    apr_pool_destroy(p);
    return 0;
}
