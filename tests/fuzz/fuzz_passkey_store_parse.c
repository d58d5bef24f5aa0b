/* A passkey store file: every record kept is well-formed, findable by its id, and the store
 * formats to text that parses to the same count with no warning. */
#include <stdlib.h>
#include "harness.h"
#include "authfb/passkey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = afb_fuzz_pool();
    afb_passkey_store_t *s = NULL, *again = NULL;

    if (afb_passkey_store_parse(p, (const char *)data, size, &s) == AFB_OK) {
        size_t len = 0;
        const char *text = afb_passkey_store_format(s, p, &len);

        if (afb_passkey_store_skips(s) == NULL
            || afb_passkey_store_parse(p, text, len, &again) != AFB_OK
            || afb_passkey_store_skips(again)->count != 0
            || afb_passkey_store_count(again) != afb_passkey_store_count(s))
            abort();
    } else if (s != NULL) {
        abort();
    }
    apr_pool_destroy(p);
    return 0;
}
