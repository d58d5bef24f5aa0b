/* The roster file (AuthFallbackRoster): what a parse keeps formats to a file that parses
 * again, with no skipped record and the same records; expiry and the cap keep it a roster. */
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "authfb/roster.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = afb_fuzz_pool();
    afb_roster_t *r = NULL, *again = NULL;
    afb_skips_t sk, sk2;
    const char *text, *text2;
    size_t len = 0;

    memset(&sk, 0, sizeof(sk));
    memset(&sk2, 0, sizeof(sk2));
    if (afb_roster_parse(p, (const char *)data, size, &r, &sk) == AFB_OK) {
        if (r == NULL || sk.count < 0)
            abort();
        text = afb_roster_format(r, p, &len);
        if (afb_roster_parse(p, text, len, &again, &sk2) != AFB_OK || sk2.count != 0
            || afb_roster_count(again) != afb_roster_count(r))
            abort();
        text2 = afb_roster_format(again, p, NULL);
        if (strcmp(text, text2) != 0)
            abort();
        (void)afb_roster_expire(again, AFB_FUZZ_NOW, 90);
        (void)afb_roster_trim(again, 2);
        if (afb_roster_count(again) > 2)
            abort();
    }
    apr_pool_destroy(p);
    return 0;
}
