/* NT hashes: MD4 over the UTF-16LE form of a password, MD4 taken from OpenSSL's legacy
 * provider in a library context of our own (include/authfb/nthash.h says why). */
#include "authfb/nthash.h"

#include <pthread.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/provider.h>

/* UTF-16 code units of the longest password we hash (AFB_PW_MAX_PASSWORD bytes of UTF-8). */
#define NT_MAX_UNITS 2048

static pthread_once_t md4_once = PTHREAD_ONCE_INIT;
static OSSL_LIB_CTX *md4_libctx;
static EVP_MD *md4;
static const char *md4_reason = "not initialised";

static void md4_init(void)
{
    md4_libctx = OSSL_LIB_CTX_new();
    if (md4_libctx == NULL) {
        md4_reason = "OpenSSL cannot create a library context";
        return;
    }
    if (OSSL_PROVIDER_load(md4_libctx, "legacy") == NULL) {
        md4_reason = "OpenSSL's legacy provider cannot be loaded (see OPENSSL_MODULES)";
        return;
    }
    md4 = EVP_MD_fetch(md4_libctx, "MD4", NULL);
    md4_reason = md4 ? NULL : "OpenSSL's legacy provider offers no MD4";
}

int afb_nthash_available(const char **reason)
{
    pthread_once(&md4_once, md4_init);
    if (reason)
        *reason = md4_reason;
    return md4 != NULL;
}

/* One code point from UTF-8 (shortest form, no surrogates, at most U+10FFFF); bytes used or
 * 0 for invalid input. */
static size_t utf8_next(const unsigned char *s, size_t len, uint32_t *cp)
{
    static const uint32_t min[4] = { 0, 0x80, 0x800, 0x10000 };
    size_t n = s[0] < 0x80 ? 1 : (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3
             : (s[0] & 0xF8) == 0xF0 ? 4 : 0;
    uint32_t v;

    if (n == 0 || n > len)
        return 0;
    v = n == 1 ? s[0] : (uint32_t)(s[0] & (0x7F >> n));
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min[n - 1] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return n;
}

static void put_unit(unsigned char *out, size_t *n, uint32_t unit)
{
    out[(*n)++] = (unsigned char)(unit & 0xFF);
    out[(*n)++] = (unsigned char)(unit >> 8);
}

/* UTF-8 into UTF-16LE; -1 for invalid or over-long input. */
static int utf16le(const char *pw, size_t len, unsigned char *out, size_t cap, size_t *outlen)
{
    const unsigned char *s = (const unsigned char *)pw;
    size_t n = 0, used;
    uint32_t cp = 0;

    for (size_t i = 0; i < len; i += used) {
        used = utf8_next(s + i, len - i, &cp);
        if (used == 0 || n + 4 > cap)
            return -1;
        if (cp < 0x10000) {
            put_unit(out, &n, cp);
        } else {
            put_unit(out, &n, 0xD800 + ((cp - 0x10000) >> 10));
            put_unit(out, &n, 0xDC00 + ((cp - 0x10000) & 0x3FF));
        }
    }
    *outlen = n;
    return 0;
}

afb_status_t afb_nthash(const char *password, size_t len, unsigned char out[AFB_NTHASH_LEN])
{
    unsigned char u16[NT_MAX_UNITS * 2];
    size_t u16len = 0;
    unsigned int mdlen = 0;
    afb_status_t st = AFB_EINVAL;

    if (!afb_nthash_available(NULL))
        return AFB_EIO;
    if (password == NULL || utf16le(password, len, u16, sizeof(u16), &u16len) != 0)
        goto out;
    st = EVP_Digest(u16, u16len, out, &mdlen, md4, NULL) == 1 && mdlen == AFB_NTHASH_LEN
             ? AFB_OK : AFB_ERR;
out:
    OPENSSL_cleanse(u16, sizeof(u16));
    return st;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

afb_status_t afb_nthash_from_hex(const char *hex, size_t len, unsigned char out[AFB_NTHASH_LEN])
{
    if (hex == NULL || len != AFB_NTHASH_LEN * 2)
        return AFB_EINVAL;
    for (size_t i = 0; i < AFB_NTHASH_LEN; i++) {
        int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return AFB_EINVAL;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return AFB_OK;
}

int afb_nthash_is_raw(const char *text)
{
    unsigned char nt[AFB_NTHASH_LEN];
    int raw;

    if (text == NULL)
        return 0;
    if (strncmp(text, "$NT$", 4) == 0)
        return 1;
    raw = afb_nthash_from_hex(text, strlen(text), nt) == AFB_OK;
    OPENSSL_cleanse(nt, sizeof(nt));
    return raw;
}
