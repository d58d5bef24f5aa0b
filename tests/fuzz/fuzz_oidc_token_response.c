/* A token endpoint answer. The first byte picks the HTTP status, the rest is the body. */
#include <stdlib.h>
#include "harness.h"
#include "authfb/oidc.h"

static const int statuses[] = { 200, 201, 204, 302, 400, 401, 403, 404, 500, 502, 503 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = afb_fuzz_pool();
    afb_http_response_t resp;
    const char *id_token = NULL, *why = NULL;
    afb_status_t st;

    if (size == 0) {
        apr_pool_destroy(p);
        return 0;
    }
    resp.status = statuses[data[0] % (sizeof(statuses) / sizeof(statuses[0]))];
    resp.body = afb_fuzz_cstr(p, data + 1, size - 1);
    resp.len = size - 1;
    resp.content_type = (data[0] & 0x80) ? "text/html" : "application/json";
    st = afb_oidc_token_response(p, &resp, &id_token, &why);
    if (st == AFB_OK && id_token == NULL)
        abort();
    apr_pool_destroy(p);
    return 0;
}
