/* A /validate/check answer body from an http-mfa server. */
#include <stdlib.h>
#include "harness.h"
#include "authfb/httpmfa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    afb_httpmfa_result_t res;
    const char *why = NULL;
    afb_status_t st = afb_httpmfa_parse((const char *)data, size, &res, &why);

    if (st == AFB_OK && res != AFB_HTTPMFA_ACCEPT && res != AFB_HTTPMFA_REJECT)
        abort();
    if (st != AFB_OK && (st != AFB_EIO || why == NULL))
        abort();
    return 0;
}
