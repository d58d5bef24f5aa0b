/* A throttle record as read back from the shared cache. */
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "authfb/throttle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    afb_throttle_rec_t r;
    afb_throttle_policy_t pol = { 5, apr_time_from_sec(300) };

    if (afb_throttle_decode(data, size, &r) == AFB_OK) {
        unsigned char again[12];

        afb_throttle_encode(&r, again);
        if (size != sizeof(again) || memcmp(again, data, size) != 0)
            abort();
        (void)afb_throttle_blocked(&r, &pol, AFB_FUZZ_NOW);
        if (afb_throttle_retry_after(&r, &pol, AFB_FUZZ_NOW) < 1)
            abort();
        afb_throttle_add_failure(&r, &pol, AFB_FUZZ_NOW);
    }
    return 0;
}
