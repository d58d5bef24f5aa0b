/* A RADIUS answer datagram. The first byte holds flags: bit 0 require_ma, bit 1 "sign it":
 * the harness then writes the identifier, a valid Message-Authenticator (when the packet has
 * one) and a valid Response Authenticator with the fixed secret, so the checks behind the
 * authenticators are reached too. The rest is the datagram. */
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "harness.h"
#include "authfb/radius.h"

#define ID 0x2a
#define HDR 20

static const unsigned char secret[] = "fuzz-radius-secret";
static const unsigned char req_auth[AFB_RADIUS_AUTH_LEN] = {
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16
};

/* Offset of the value of the first well-formed Message-Authenticator, or 0. */
static size_t find_ma(const unsigned char *pkt, size_t len)
{
    size_t off = HDR;

    while (off + 2 <= len && pkt[off + 1] >= 2 && pkt[off + 1] <= len - off) {
        if (pkt[off] == AFB_RADIUS_ATTR_MESSAGE_AUTHENTICATOR && pkt[off + 1] == 18)
            return off + 2;
        off += pkt[off + 1];
    }
    return 0;
}

static void sign(unsigned char *pkt, size_t len)
{
    size_t plen = ((size_t)pkt[2] << 8) | pkt[3], ma;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    EVP_MD_CTX *ctx;

    pkt[1] = ID;
    if (plen < HDR || plen > len || plen > AFB_RADIUS_MAX_PACKET)
        return;
    memcpy(pkt + 4, req_auth, AFB_RADIUS_AUTH_LEN);
    if ((ma = find_ma(pkt, plen)) != 0) {
        memset(pkt + ma, 0, 16);
        if (HMAC(EVP_md5(), secret, sizeof(secret) - 1, pkt, plen, mac, &maclen) == NULL)
            abort();
        memcpy(pkt + ma, mac, 16);
    }
    ctx = EVP_MD_CTX_new();
    if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_md5(), NULL) != 1
        || EVP_DigestUpdate(ctx, pkt, plen) != 1
        || EVP_DigestUpdate(ctx, secret, sizeof(secret) - 1) != 1
        || EVP_DigestFinal_ex(ctx, mac, &maclen) != 1)
        abort();
    EVP_MD_CTX_free(ctx);
    memcpy(pkt + 4, mac, 16);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *pkt;
    const char *why = NULL;
    int code = -1;
    afb_status_t st;

    if (size == 0)
        return 0;
    pkt = malloc(size - 1 > 0 ? size - 1 : 1);
    if (pkt == NULL)
        abort();
    memcpy(pkt, data + 1, size - 1);
    if ((data[0] & 2) != 0 && size - 1 >= HDR)
        sign(pkt, size - 1);
    st = afb_radius_verify_response(pkt, size - 1, ID, req_auth, secret, sizeof(secret) - 1,
                                    data[0] & 1, &code, &why);
    if (st == AFB_OK && code != pkt[0])
        abort();
    if (st != AFB_OK && why == NULL)
        abort();
    free(pkt);
    return 0;
}
