/* Strict base64url decoding: a successful decode has the length the text implies, and
 * encoding the bytes again decodes to the same bytes. */
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "authfb/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = afb_fuzz_pool();
    unsigned char *out = NULL;
    size_t outlen = 0;

    if (afb_b64url_decode(p, (const char *)data, size, &out, &outlen) == AFB_OK) {
        const char *again = afb_b64url_encode(p, out, outlen);
        unsigned char *back = NULL;
        size_t backlen = 0;

        if (outlen != size * 3 / 4 || again == NULL
            || afb_b64url_decode(p, again, strlen(again), &back, &backlen) != AFB_OK
            || backlen != outlen || (outlen > 0 && memcmp(back, out, outlen) != 0))
            abort();
    }
    apr_pool_destroy(p);
    return 0;
}
