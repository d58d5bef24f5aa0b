/* A TOTP secrets store file; every entry that parses is usable by afb_totp_verify. */
#include <stdlib.h>
#include "harness.h"
#include "authfb/totp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = afb_fuzz_pool();
    afb_totp_store_t *s = NULL;
    const char *err = NULL;

    if (afb_totp_store_parse(p, (const char *)data, size, &s, &err) == AFB_OK) {
        const afb_totp_entry_t *e = afb_totp_store_find(s, "alice");
        int64_t step = 0;

        if (afb_totp_store_count(s) < 0)
            abort();
        if (e != NULL) {
            if (e->digits < 6 || e->digits > 8 || e->period <= 0)
                abort();
            static const char digits[] = "12345678";

            if (afb_totp_verify(e, &digits[8 - e->digits], AFB_FUZZ_NOW, 1, &step)
                == AFB_EINVAL)
                abort();
        }
    } else if (err == NULL) {
        abort();
    }
    apr_pool_destroy(p);
    return 0;
}
