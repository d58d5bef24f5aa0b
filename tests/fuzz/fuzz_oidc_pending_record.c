/* The pending sign-in record parser behind the authentication: the input is sealed with
 * the fixed keyring (purpose "oidc") and then opened. */
#include <stdlib.h>
#include "harness.h"
#include "authfb/oidc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = afb_fuzz_pool();
    const char *cookie = NULL;
    afb_oidc_pending_t pend;

    if (afb_seal(afb_fuzz_keyring(), p, "oidc", data, size, &cookie) == AFB_OK) {
        afb_status_t st = afb_oidc_pending_open(afb_fuzz_keyring(), p, cookie, AFB_FUZZ_STATE,
                                                AFB_FUZZ_NOW, &pend);

        if (st == AFB_OK && (pend.provider == NULL || pend.nonce == NULL
                             || pend.code_verifier == NULL || pend.return_to == NULL))
            abort();
    }
    apr_pool_destroy(p);
    return 0;
}
