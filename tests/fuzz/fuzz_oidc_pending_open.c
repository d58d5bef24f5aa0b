/* The pending OpenID Connect sign-in cookie as a client sends it. */
#include <stdlib.h>
#include "harness.h"
#include "authfb/oidc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = afb_fuzz_pool();
    afb_oidc_pending_t pend;
    afb_status_t st;

    st = afb_oidc_pending_open(afb_fuzz_keyring(), p, afb_fuzz_cstr(p, data, size),
                               AFB_FUZZ_STATE, AFB_FUZZ_NOW, &pend);
    if (st != AFB_OK && st != AFB_EEXPIRED && st != AFB_EMISMATCH && st != AFB_EINVAL)
        abort();
    apr_pool_destroy(p);
    return 0;
}
