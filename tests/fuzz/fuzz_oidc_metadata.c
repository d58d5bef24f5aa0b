/* A discovery document (/.well-known/openid-configuration) as an OpenID Provider serves it. */
#include <stdlib.h>
#include "harness.h"
#include "authfb/oidc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = afb_fuzz_pool();
    afb_oidc_metadata_t md;
    const char *why = NULL;

    if (afb_oidc_metadata_parse(p, (const char *)data, size, AFB_FUZZ_ISSUER, &md, &why)
        == AFB_OK) {
        if (md.issuer == NULL || md.authorization_endpoint == NULL || md.token_endpoint == NULL
            || md.jwks_uri == NULL || (md.algs & AFB_JWS_ALL) == 0)
            abort();
    }
    apr_pool_destroy(p);
    return 0;
}
