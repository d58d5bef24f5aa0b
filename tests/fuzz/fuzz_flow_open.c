/* The flow cookie as a client sends it: afb_flow_open on arbitrary text. */
#include <stdlib.h>
#include "harness.h"
#include "authfb/flow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = afb_fuzz_pool();
    afb_flow_t f;
    afb_status_t st;

    st = afb_flow_open(afb_fuzz_keyring(), p, afb_fuzz_cstr(p, data, size), AFB_FUZZ_NOW, &f);
    if (st != AFB_OK && st != AFB_EEXPIRED && st != AFB_EINVAL)
        abort();
    apr_pool_destroy(p);
    return 0;
}
