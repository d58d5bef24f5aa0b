/* The session cookie as a client sends it: afb_session_open on arbitrary text. */
#include <stdlib.h>
#include "harness.h"
#include "authfb/session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = afb_fuzz_pool();
    afb_session_t s;
    afb_status_t st;

    st = afb_session_open(afb_fuzz_keyring(), p, afb_fuzz_cstr(p, data, size), AFB_FUZZ_NOW, &s);
    if (st != AFB_OK && st != AFB_EEXPIRED && st != AFB_EINVAL)
        abort();
    apr_pool_destroy(p);
    return 0;
}
