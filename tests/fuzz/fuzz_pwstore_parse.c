/* A password store file (AuthFallbackPasswordFile), as synchronized from elsewhere. */
#include <stdlib.h>
#include "harness.h"
#include "authfb/pwstore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = afb_fuzz_pool();
    afb_pwstore_t *s = NULL;
    const char *err = NULL;
    int weak = 0;

    if (afb_pwstore_parse(p, (const char *)data, size, &s, &weak, &err) == AFB_OK) {
        if (s == NULL || weak < 0 || weak > afb_pwstore_count(s))
            abort();
    } else if (err == NULL) {
        abort();
    }
    apr_pool_destroy(p);
    return 0;
}
