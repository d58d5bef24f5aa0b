/* Shared pieces of the fuzz targets (see harness.h). */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <openssl/pem.h>

#include "jwt_fixtures.h"

/* The fixed material lives for the whole process in pool memory, which APR may take from
 * mmap() where LeakSanitizer does not look for pointers: its allocations are made with leak
 * detection off, so only what one input leaks is reported. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AFB_FUZZ_LSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define AFB_FUZZ_LSAN 1
#endif
#ifdef AFB_FUZZ_LSAN
#include <sanitizer/lsan_interface.h>
#define LSAN_OFF() __lsan_disable()
#define LSAN_ON() __lsan_enable()
#else
#define LSAN_OFF() ((void)0)
#define LSAN_ON() ((void)0)
#endif

/* Test-only keys, generated for the fuzz targets and used nowhere else. */
static const char ec_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgzCaFWz3tQh4Hcmi/\n"
    "N0apm9paF5deWyb6rtrRFFkDFPehRANCAARl3NZ5GC8EH98ZE35NFEkDCoEHECSb\n"
    "yuHxgl7sI6fsPdxmjRJfsSG/LIHVa+qBh5aMFzrkn1A7cX5liijGSo3v\n"
    "-----END PRIVATE KEY-----\n";

static const char rsa_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDPYNlKGpqBTscP\n"
    "fqYTVBcOIAzpFd9T/UEcaFZWkD1UkHtrTTQTia/oIKJd2DeP9BGBTuAp90UGq2NA\n"
    "0clR3hfBxZs9mCK2jyr0OUEz1Ol3wda5W3gcjdpoDFwzmJwN+jOklCvjH2L1N44M\n"
    "4Fd7zvW0ZlkmezuAqDzI69WGcovBgqTmQF6gE20LEZ89JYMxN9H1Up5R0hFebH+H\n"
    "q1nLBOxKJp2AF39H35Ldgyil3WzW703HA28wMW2eWQ046syT40JiVb6BRRrnqwwW\n"
    "NYd4YTmL0n1tYWXOc9jlcBbuwr7KrqRpfScjomQ4kslNz2ymNSqabHch4sRtYCWL\n"
    "2BzEG6RtAgMBAAECggEAB2N8+m3uOVM0NnIduqyRUbiEnT1hQp3QVxHEmbrz5HJt\n"
    "Y0pR46xRLyUSg+NzP1bD1OaZiAU+WVl75NBUqu0NzaKbwFsOSZDaR+9OSml4lAK9\n"
    "AsemhOXs9S4TjucOEFVsx51b3vC8Vt5O2liX5VpfWLkYzg0v9oqH9+SnK+4i2pcb\n"
    "lvcr/edSBvbUFIWj6EnTptSrnPudCzyXWVfn4OXVszpKpu0hUJmgoUhE93h7Mtis\n"
    "g9Qh83hSeTS4CzA6JdLE7RtkIjw8B6JEOnmHftzxQHnXKcM7gw17kHY3uGmoAHIZ\n"
    "eq72KWf7/4E2H0dfY57RLf+JMnsCVY1i5baAWsUKgQKBgQDxsWfAryaF7yYwv0ic\n"
    "VLHPXMeBaJRqtLV1lAqdZ6nacvISiTy991Ti1183i0/4kFLZZFUFLaFMfNy/cZ2I\n"
    "pttbIMTN1ZzYPTHO4IW++qLWRvWup8hlqeNq5o/GteVYN6ux0YnbYkTFoUs/iNk1\n"
    "r7Fy1oHVgmi604rYKCYu/PX5IQKBgQDbp3EgEhxh+tNOjJWzczFEomAWQuXwduJH\n"
    "5zYJJ6K0wLsUUHNznL69TMHKUjLSTrz6FhWbD5RpUrDm1ytZ2PoBzTUl/pyAE5T9\n"
    "+mZwoTe+AHCG5OkBNTq8gEVEpCg8ko/WjPA+OtOLIboJ/V6788BCQXscMbVe8h7t\n"
    "qpX22RWFzQKBgQDDY0ziC3aULgpsvCbCIwIABhxO9LGPNfnATObr6yL4M5aY/5M4\n"
    "a5uXKs+SArCq3Fnt3tuQrRvJzuNSbVISZ/nLSMlxMXBzq7z5Zq8Y/lvn6EOzZ3Zt\n"
    "IZN1F2FCHkiDMbY+sYvF7EJ2lndTrJkUeq10jg82ARATgPKs3oBH2j4roQKBgQCO\n"
    "R2ikgHa4FLPZFoFFiuEn9xHMeard1vP95UuAJJdlA85qey49fhOjJNwGRLY8udn5\n"
    "GGMIXNAiZPjHniqreTt//T9nDASthYGl/hNq81LbFQfOqOow6RzRyziTHM4fZkQb\n"
    "kpFvjcVHQyJxpBhAIMSxZh7rhVtZU/YqtquLCNTDJQKBgDHFO1ubav3PnVBmDtvF\n"
    "e2B2Zl1xoja3pTrMPqbe2b5lB+01MSS3+nPpIaPbksDjpXJJwqzi6HfapFEe0gSL\n"
    "1TFJrig09taaM8ULEx9tO2w3wesCOEQfVAtkm+XZqTrLast8IZnnyDgtG+nNyw+Z\n"
    "pvHv1b6gpo/8MKsEHocQbMNN\n"
    "-----END PRIVATE KEY-----\n";

/* 32 fixed bytes of keyring input. */
static const unsigned char keyring_ikm[] = "fuzz-keyring-fixed-material-0123456789";

static apr_pool_t *global_pool;
static afb_keyring_t *keyring;
static EVP_PKEY *ec_key;
static EVP_PKEY *rsa_key;
static const char *jwks_text;
static afb_jwks_t *jwks;

static void fail(const char *what)
{
    fprintf(stderr, "fuzz harness: %s\n", what);
    abort();
}

static apr_status_t key_free(void *k)
{
    EVP_PKEY_free(k);
    return APR_SUCCESS;
}

static EVP_PKEY *load_key(const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *k = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;

    BIO_free(bio);
    if (k == NULL)
        fail("cannot load a test key");
    apr_pool_cleanup_register(global_pool, k, key_free, apr_pool_cleanup_null);
    return k;
}

static void setup_keyring(void)
{
    keyring = afb_keyring_create(global_pool);
    if (keyring == NULL
        || afb_keyring_add(keyring, keyring_ikm, sizeof(keyring_ikm) - 1) != AFB_OK)
        fail("cannot build the keyring");
}

static void setup_jwks(void)
{
    const char *why = NULL;

    ec_key = load_key(ec_pem);
    rsa_key = load_key(rsa_pem);
    jwks_text = fx_jwks(global_pool, fx_jwk(global_pool, ec_key, AFB_FUZZ_KID_EC, "ES256", "sig"),
                        fx_jwk(global_pool, rsa_key, AFB_FUZZ_KID_RSA, NULL, "sig"), NULL);
    if (afb_jwks_parse(global_pool, jwks_text, strlen(jwks_text), &jwks, &why) != AFB_OK
        || afb_jwks_count(jwks) != 2)
        fail("cannot parse the fixed JWKS");
}

static void teardown(void)
{
    apr_terminate();
}

void afb_fuzz_lasting_begin(void)
{
    LSAN_OFF();
}

void afb_fuzz_lasting_end(void)
{
    LSAN_ON();
}

void afb_fuzz_init(void)
{
    if (global_pool != NULL)
        return;
    if (apr_initialize() != APR_SUCCESS || apr_pool_create(&global_pool, NULL) != APR_SUCCESS)
        fail("cannot initialise APR");
    atexit(teardown);
    LSAN_OFF();
    setup_keyring();
    setup_jwks();
    LSAN_ON();
}

apr_pool_t *afb_fuzz_pool(void)
{
    apr_pool_t *p = NULL;

    afb_fuzz_init();
    if (apr_pool_create(&p, NULL) != APR_SUCCESS)
        fail("cannot create a pool");
    return p;
}

char *afb_fuzz_cstr(apr_pool_t *p, const uint8_t *data, size_t size)
{
    char *s = apr_palloc(p, size + 1);

    if (size > 0)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

const afb_keyring_t *afb_fuzz_keyring(void)
{
    afb_fuzz_init();
    return keyring;
}

EVP_PKEY *afb_fuzz_ec_key(void)
{
    afb_fuzz_init();
    return ec_key;
}

EVP_PKEY *afb_fuzz_rsa_key(void)
{
    afb_fuzz_init();
    return rsa_key;
}

const char *afb_fuzz_jwks_text(void)
{
    afb_fuzz_init();
    return jwks_text;
}

const afb_jwks_t *afb_fuzz_jwks(void)
{
    afb_fuzz_init();
    return jwks;
}
