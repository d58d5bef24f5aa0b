/* The flow record parser behind the authentication: the input is sealed with the fixed
 * keyring (purpose "flow") and then opened, so every byte reaches the parser. */
#include <stdlib.h>
#include "harness.h"
#include "authfb/flow.h"

static void check(const afb_flow_t *f)
{
    int i;

    /* What the handlers rely on after a successful open. */
    if (f->n_mfa < 0 || f->n_mfa > AFB_FLOW_MAX_MFA)
        abort();
    for (i = 0; i < f->n_mfa; i++)
        if (f->mfa[i] == NULL)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = afb_fuzz_pool();
    const char *cookie = NULL;
    afb_flow_t f;

    if (afb_seal(afb_fuzz_keyring(), p, "flow", data, size, &cookie) == AFB_OK) {
        afb_status_t st = afb_flow_open(afb_fuzz_keyring(), p, cookie, AFB_FUZZ_NOW, &f);

        if (st == AFB_OK || st == AFB_EEXPIRED)
            check(&f);
    }
    apr_pool_destroy(p);
    return 0;
}
