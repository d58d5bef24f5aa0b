/* A compact JWS (an ID token) checked against the fixed JWKS. */
#include <stdlib.h>
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = afb_fuzz_pool();
    const char *why = NULL;
    afb_jws_t jws;
    afb_status_t st;

    st = afb_jws_verify(p, afb_fuzz_jwks(), afb_fuzz_cstr(p, data, size), AFB_JWS_ALL, &jws,
                        &why);
    if (st == AFB_OK && (jws.payload == NULL || !json_is_object(jws.payload)))
        abort();
    if (st != AFB_OK && why == NULL)
        abort();
    apr_pool_destroy(p);
    return 0;
}
