/* A POSTed application/x-www-form-urlencoded body. */
#include <stdlib.h>
#include "harness.h"
#include "authfb/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = afb_fuzz_pool();
    apr_table_t *t = NULL;

    if (afb_form_parse(p, (const char *)data, size, 16, &t) == AFB_OK
        && (t == NULL || apr_table_elts(t)->nelts > 16))
        abort();
    apr_pool_destroy(p);
    return 0;
}
