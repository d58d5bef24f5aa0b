/* An attestation object (CBOR) as a browser sends it at enrollment: parsed, then the whole
 * registration check with the fixed ES256 vector's clientDataJSON. A credential accepted
 * must carry an id and a key of its algorithm's length. */
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "authfb/webauthn.h"
#include "webauthn_vectors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = afb_fuzz_pool();
    const char *fmt = NULL, *why = NULL;
    const unsigned char *ad = NULL;
    size_t ad_len = 0;
    afb_wa_rp_t rp;
    afb_wa_credential_t c;
    afb_wa_fail_t fail;

    afb_wa_init();
    if (afb_wa_attestation_parse(p, data, size, &fmt, &ad, &ad_len) == AFB_OK
        && (fmt == NULL || ad == NULL || ad_len > AFB_WA_MAX_AUTHDATA))
        abort();
    memset(&rp, 0, sizeof(rp));
    rp.rp_id = WV_RP_ID;
    rp.n_origins = 1;
    rp.origins[0] = WV_ORIGIN;
    rp.uv = AFB_WA_UV_DISCOURAGED;
    if (afb_wa_verify_registration(p, &rp, WV_CHALLENGE, WV_ES256_REG_CD,
                                   sizeof(WV_ES256_REG_CD), data, size, &c, &fail, &why)
        == AFB_OK) {
        size_t want = c.key.alg == AFB_WA_ES256 ? 64 : c.key.alg == AFB_WA_RS256 ? 259 : 32;
        if (c.id == NULL || c.id_len == 0 || c.id_len > AFB_WA_MAX_CRED_ID
            || c.key.key_len != want)
            abort();
    }
    apr_pool_destroy(p);
    return 0;
}
