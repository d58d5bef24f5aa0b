/* Authenticated encryption of cookie payloads: AES-256-GCM with HKDF-SHA256 derived keys.
 *
 * Token = base64url(0x01 || nonce[12] || ciphertext || tag[16]). The version byte and the
 * purpose string are the GCM associated data. The first key of the ring seals; every key is
 * tried on unseal, and plaintext is handed out only after a tag verified. */
#include "authfb/crypto.h"
#include "authfb/util.h"

#include <string.h>
#include <apr_tables.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#define AFB_TOKEN_VERSION 0x01
#define AFB_KEY_BYTES 32
#define AFB_NONCE_BYTES 12
#define AFB_TAG_BYTES 16
#define AFB_OVERHEAD (1 + AFB_NONCE_BYTES + AFB_TAG_BYTES)
#define AFB_TOKEN_MAX_CHARS 8192                          /* cap before decoding */
#define AFB_TOKEN_MAX_BYTES (AFB_TOKEN_MAX_CHARS / 4 * 3)  /* decoded size at the cap */
#define AFB_PT_MAX (AFB_TOKEN_MAX_BYTES - AFB_OVERHEAD)
#define AFB_HKDF_SALT "mod_auth_fallback v1"

typedef struct {
    unsigned char seal[AFB_KEY_BYTES];
    unsigned char mac[AFB_KEY_BYTES];
} afb_key_t;

struct afb_keyring_t {
    apr_pool_t *pool;
    apr_array_header_t *keys; /* afb_key_t * */
};

static apr_status_t keyring_cleanup(void *data)
{
    afb_keyring_t *kr = data;
    int i;

    for (i = 0; i < kr->keys->nelts; i++) {
        OPENSSL_cleanse(APR_ARRAY_IDX(kr->keys, i, afb_key_t *), sizeof(afb_key_t));
    }
    return APR_SUCCESS;
}

afb_keyring_t *afb_keyring_create(apr_pool_t *p)
{
    afb_keyring_t *kr = apr_pcalloc(p, sizeof(*kr));

    kr->pool = p;
    kr->keys = apr_array_make(p, 2, sizeof(afb_key_t *));
    apr_pool_cleanup_register(p, kr, keyring_cleanup, apr_pool_cleanup_null);
    return kr;
}

/* HKDF-SHA256(salt = AFB_HKDF_SALT, ikm, info) -> out[AFB_KEY_BYTES]. */
static afb_status_t hkdf_derive(const unsigned char *ikm, size_t len, const char *info,
                                unsigned char *out)
{
    afb_status_t st = AFB_ERR;
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    OSSL_PARAM params[5];

    if (ctx == NULL) {
        goto out;
    }
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, len);
    params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)AFB_HKDF_SALT,
                                                  sizeof(AFB_HKDF_SALT) - 1);
    params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info,
                                                  strlen(info));
    params[4] = OSSL_PARAM_construct_end();
    if (EVP_KDF_derive(ctx, out, AFB_KEY_BYTES, params) == 1) {
        st = AFB_OK;
    }
out:
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return st;
}

afb_status_t afb_keyring_add(afb_keyring_t *kr, const unsigned char *ikm, size_t len)
{
    afb_key_t *key;

    if (kr == NULL || ikm == NULL || len < AFB_KEY_MIN_BYTES) {
        return AFB_EINVAL;
    }
    key = apr_pcalloc(kr->pool, sizeof(*key));
    /* Listed before derivation so the cleanup zeroes it whatever happens next. */
    APR_ARRAY_PUSH(kr->keys, afb_key_t *) = key;
    if (hkdf_derive(ikm, len, "seal", key->seal) != AFB_OK
        || hkdf_derive(ikm, len, "mac", key->mac) != AFB_OK) {
        OPENSSL_cleanse(key, sizeof(*key));
        kr->keys->nelts--;
        return AFB_ERR;
    }
    return AFB_OK;
}

int afb_keyring_count(const afb_keyring_t *kr)
{
    return kr ? kr->keys->nelts : 0;
}

static const afb_key_t *keyring_key(const afb_keyring_t *kr, int i)
{
    return APR_ARRAY_IDX(kr->keys, i, const afb_key_t *);
}

/* Feed the associated data (version byte, purpose) into an initialised GCM context. */
static int gcm_aad(EVP_CIPHER_CTX *ctx, int encrypt, const char *purpose)
{
    static const unsigned char version = AFB_TOKEN_VERSION;
    int outl;

    if (encrypt) {
        return EVP_EncryptUpdate(ctx, NULL, &outl, &version, 1) == 1
               && EVP_EncryptUpdate(ctx, NULL, &outl, (const unsigned char *)purpose,
                                    (int)strlen(purpose)) == 1;
    }
    return EVP_DecryptUpdate(ctx, NULL, &outl, &version, 1) == 1
           && EVP_DecryptUpdate(ctx, NULL, &outl, (const unsigned char *)purpose,
                                (int)strlen(purpose)) == 1;
}

/* Encrypt pt into buf (laid out as the token: version, nonce, ciphertext, tag). */
static afb_status_t gcm_encrypt(const afb_key_t *key, const char *purpose,
                                const unsigned char *pt, size_t len, unsigned char *buf)
{
    afb_status_t st = AFB_ERR;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    unsigned char *nonce = buf + 1, *ct = buf + 1 + AFB_NONCE_BYTES;
    int outl = 0, finl = 0;

    buf[0] = AFB_TOKEN_VERSION;
    if (ctx == NULL || afb_random(nonce, AFB_NONCE_BYTES) != AFB_OK
        || EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key->seal, nonce) != 1
        || !gcm_aad(ctx, 1, purpose)
        || EVP_EncryptUpdate(ctx, ct, &outl, pt, (int)len) != 1
        || EVP_EncryptFinal_ex(ctx, ct + outl, &finl) != 1
        || (size_t)(outl + finl) != len
        || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, AFB_TAG_BYTES, ct + len) != 1) {
        goto out;
    }
    st = AFB_OK;
out:
    EVP_CIPHER_CTX_free(ctx);
    return st;
}

afb_status_t afb_seal(const afb_keyring_t *kr, apr_pool_t *p, const char *purpose,
                      const unsigned char *pt, size_t len, const char **out)
{
    unsigned char *buf;
    size_t total = AFB_OVERHEAD + len;

    if (kr == NULL || purpose == NULL || out == NULL || (pt == NULL && len > 0)) {
        return AFB_EINVAL;
    }
    if (len > AFB_PT_MAX) {
        return AFB_ETOOBIG;
    }
    if (kr->keys->nelts == 0) {
        return AFB_ERR;
    }
    buf = apr_palloc(p, total);
    if (gcm_encrypt(keyring_key(kr, 0), purpose, pt ? pt : (const unsigned char *)"", len, buf)
        != AFB_OK) {
        return AFB_ERR;
    }
    *out = afb_b64url_encode(p, buf, total);
    return AFB_OK;
}

/* Decrypt and authenticate with one key. On failure out is zeroed. */
static afb_status_t gcm_decrypt(const afb_key_t *key, const char *purpose,
                                const unsigned char *buf, size_t total, unsigned char *out)
{
    afb_status_t st = AFB_EINVAL;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    const unsigned char *nonce = buf + 1, *ct = buf + 1 + AFB_NONCE_BYTES;
    size_t len = total - AFB_OVERHEAD;
    unsigned char tag[AFB_TAG_BYTES];
    int outl = 0, finl = 0;

    memcpy(tag, ct + len, AFB_TAG_BYTES);
    if (ctx == NULL
        || EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key->seal, nonce) != 1
        || !gcm_aad(ctx, 0, purpose)
        || EVP_DecryptUpdate(ctx, out, &outl, ct, (int)len) != 1
        || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, AFB_TAG_BYTES, tag) != 1
        || EVP_DecryptFinal_ex(ctx, out + outl, &finl) != 1
        || (size_t)(outl + finl) != len) {
        OPENSSL_cleanse(out, len);
        goto out;
    }
    st = AFB_OK;
out:
    EVP_CIPHER_CTX_free(ctx);
    return st;
}

afb_status_t afb_unseal(const afb_keyring_t *kr, apr_pool_t *p, const char *purpose,
                        const char *in, unsigned char **pt, size_t *len)
{
    unsigned char *buf, *out;
    size_t inlen, total;
    int i;

    if (kr == NULL || purpose == NULL || in == NULL || pt == NULL || len == NULL) {
        return AFB_EINVAL;
    }
    inlen = strnlen(in, AFB_TOKEN_MAX_CHARS + 1);
    if (inlen > AFB_TOKEN_MAX_CHARS || afb_b64url_decode(p, in, inlen, &buf, &total) != AFB_OK
        || total < AFB_OVERHEAD || buf[0] != AFB_TOKEN_VERSION) {
        return AFB_EINVAL;
    }
    out = apr_palloc(p, total - AFB_OVERHEAD + 1);
    for (i = 0; i < kr->keys->nelts; i++) {
        if (gcm_decrypt(keyring_key(kr, i), purpose, buf, total, out) == AFB_OK) {
            out[total - AFB_OVERHEAD] = '\0';
            *pt = out;
            *len = total - AFB_OVERHEAD;
            return AFB_OK;
        }
    }
    return AFB_EINVAL;
}

afb_status_t afb_keyring_mac(const afb_keyring_t *kr, const void *data, size_t len,
                             unsigned char out[32])
{
    unsigned int outl = 0;

    if (kr == NULL || out == NULL || (data == NULL && len > 0)) {
        return AFB_EINVAL;
    }
    if (kr->keys->nelts == 0) {
        return AFB_ERR;
    }
    if (HMAC(EVP_sha256(), keyring_key(kr, 0)->mac, AFB_KEY_BYTES,
             data ? data : (const void *)"", len, out, &outl) == NULL || outl != 32) {
        return AFB_ERR;
    }
    return AFB_OK;
}
