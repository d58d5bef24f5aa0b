/* The readiness report the checker writes and the status page reads back: whatever the file
 * holds, the rows read are within the caps and their counts are not negative. */
#include <stdlib.h>
#include "harness.h"
#include "authfb/readiness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = afb_fuzz_pool();
    apr_array_header_t *rows = NULL;
    apr_time_t when = 0;
    int n = 0, i;

    if (afb_ready_json_parse(p, (const char *)data, size, &rows, &when, &n) == AFB_OK) {
        if (rows == NULL || rows->nelts > AFB_READY_MAX_ROWS || n < 0 || when < 0)
            abort();
        for (i = 0; i < rows->nelts; i++) {
            const afb_ready_row_t *r = &APR_ARRAY_IDX(rows, i, afb_ready_row_t);
            if (r->location == NULL || r->if_down == NULL || r->seen < 0 || r->ready < 0
                || r->unknown < 0 || r->not_ready != NULL)
                abort();
            (void)afb_ready_ratio(r);
        }
    }
    apr_pool_destroy(p);
    return 0;
}
