/* clientDataJSON as a browser (or an attacker) sends it; then the whole assertion check with
 * the fixed ES256 vector's other parts, which must never accept it unless it equals the
 * original. */
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "authfb/webauthn.h"
#include "webauthn_vectors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = afb_fuzz_pool();
    afb_wa_client_data_t c;
    afb_wa_rp_t rp;
    afb_wa_pubkey_t k = {AFB_WA_ES256, WV_ES256_PUB, sizeof(WV_ES256_PUB)};
    afb_wa_result_t res;
    afb_wa_fail_t fail;
    const char *why = NULL;
    afb_status_t st;

    afb_wa_init();
    if (afb_wa_client_data_parse(p, data, size, &c) == AFB_OK
        && (c.type == NULL || c.challenge == NULL || c.origin == NULL))
        abort();
    memset(&rp, 0, sizeof(rp));
    rp.rp_id = WV_RP_ID;
    rp.n_origins = 1;
    rp.origins[0] = WV_ORIGIN;
    st = afb_wa_verify_assertion(p, &rp, WV_CHALLENGE, data, size, WV_ES256_AD,
                                 sizeof(WV_ES256_AD), WV_ES256_SIG, sizeof(WV_ES256_SIG), &k,
                                 &res, &fail, &why);
    if (st == AFB_OK && (size != sizeof(WV_ES256_GET_CD)
                         || memcmp(data, WV_ES256_GET_CD, size) != 0))
        abort();
    if (st != AFB_OK && (fail == AFB_WA_FAIL_NONE || why == NULL))
        abort();
    apr_pool_destroy(p);
    return 0;
}
