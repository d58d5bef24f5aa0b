/* RFC 4226 HOTP / RFC 6238 TOTP with OpenSSL HMAC, and the local secrets store. */
#include "authfb/util.h"
#include "authfb/totp.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define TOTP_MAX_LINE 4096
#define TOTP_MAX_USER 255
#define TOTP_MIN_SECRET 10   /* bytes: RFC 4226's 128-bit recommendation, 80-bit floor */
#define TOTP_MAX_WINDOW 10
#define TOTP_MAX_FIELDS 8   /* the last one, the label, keeps any further ':' */

struct afb_totp_store_t {
    apr_hash_t *users;             /* user -> afb_totp_entry_t * */
    apr_array_header_t *entries;   /* afb_totp_entry_t *, for zeroing */
    char *text;                    /* in-place parsed copy of the file */
    size_t text_len;
    afb_skips_t skips;             /* lines left out, with their reasons */
};

/* ---- base32 ------------------------------------------------------------------------ */

static int b32_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a';
    if (c >= '2' && c <= '7')
        return c - '2' + 26;
    return -1;
}

/* Valid numbers of data characters in a final base32 group. */
static int b32_tail_ok(size_t nchars)
{
    size_t r = nchars % 8;

    return r == 0 || r == 2 || r == 4 || r == 5 || r == 7;
}

/* Counts data characters and checks that '=' only pads the end to a multiple of 8. */
static afb_status_t b32_scan(const char *in, size_t *nchars)
{
    size_t data = 0, pad = 0;

    for (const char *c = in; *c; c++) {
        if (*c == ' ')
            continue;
        if (*c == '=')
            pad++;
        else if (pad > 0 || b32_value((unsigned char)*c) < 0)
            return AFB_EINVAL;
        else
            data++;
    }
    if (!b32_tail_ok(data) || (pad > 0 && ((data + pad) % 8 != 0 || pad >= 8)))
        return AFB_EINVAL;
    *nchars = data;
    return AFB_OK;
}

afb_status_t afb_base32_decode(apr_pool_t *p, const char *in, unsigned char **out,
                               size_t *outlen)
{
    size_t nchars = 0, n = 0;
    unsigned char *buf;
    uint32_t acc = 0;
    int bits = 0;

    if (in == NULL || b32_scan(in, &nchars) != AFB_OK)
        return AFB_EINVAL;
    buf = apr_palloc(p, nchars * 5 / 8 + 1);
    for (const char *c = in; *c && *c != '='; c++) {
        if (*c == ' ')
            continue;
        acc = (acc << 5) | (uint32_t)b32_value((unsigned char)*c);
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            buf[n++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    *out = buf;
    *outlen = n;
    return AFB_OK;
}

/* ---- HOTP / TOTP --------------------------------------------------------------------- */

static const EVP_MD *alg_md(afb_totp_alg_t alg)
{
    switch (alg) {
    case AFB_TOTP_SHA1:
        return EVP_sha1();
    case AFB_TOTP_SHA256:
        return EVP_sha256();
    case AFB_TOTP_SHA512:
        return EVP_sha512();
    default:
        return NULL;
    }
}

static uint32_t pow10_u32(int digits)
{
    uint32_t m = 1;

    while (digits-- > 0)
        m *= 10;
    return m;
}

afb_status_t afb_hotp(const unsigned char *key, size_t keylen, afb_totp_alg_t alg,
                      uint64_t counter, int digits, uint32_t *code)
{
    const EVP_MD *md = alg_md(alg);
    unsigned char msg[8], mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    uint32_t bin;
    int off;

    if (md == NULL || key == NULL || keylen == 0 || keylen > INT32_MAX || digits < 6
        || digits > 8)
        return AFB_EINVAL;
    for (int i = 7; i >= 0; i--, counter >>= 8)
        msg[i] = (unsigned char)(counter & 0xff);
    if (HMAC(md, key, (int)keylen, msg, sizeof(msg), mac, &maclen) == NULL || maclen < 20)
        return AFB_ERR;
    off = mac[maclen - 1] & 0x0f;
    bin = ((uint32_t)(mac[off] & 0x7f) << 24) | ((uint32_t)mac[off + 1] << 16)
          | ((uint32_t)mac[off + 2] << 8) | (uint32_t)mac[off + 3];
    *code = bin % pow10_u32(digits);
    OPENSSL_cleanse(mac, sizeof(mac));
    return AFB_OK;
}

static int code_wellformed(const char *code, int digits)
{
    if (code == NULL || strnlen(code, (size_t)digits + 1) != (size_t)digits)
        return 0;
    for (int i = 0; i < digits; i++)
        if (code[i] < '0' || code[i] > '9')
            return 0;
    return 1;
}

static int entry_usable(const afb_totp_entry_t *e)
{
    return e != NULL && e->secret != NULL && e->secret_len > 0 && e->digits >= 6
           && e->digits <= 8 && e->period >= 1 && e->period <= 300 && alg_md(e->alg) != NULL;
}

/* The code of one step, written as exactly `digits` characters into buf[9]. */
static afb_status_t step_code(const afb_totp_entry_t *e, int64_t step, char buf[9])
{
    uint32_t v = 0;
    afb_status_t st = afb_hotp(e->secret, e->secret_len, e->alg, (uint64_t)step, e->digits, &v);

    if (st != AFB_OK)
        return st;
    for (int i = e->digits - 1; i >= 0; i--, v /= 10)
        buf[i] = (char)('0' + v % 10);
    buf[e->digits] = '\0';
    return AFB_OK;
}

afb_status_t afb_totp_verify(const afb_totp_entry_t *e, const char *code, apr_time_t now,
                             int window, int64_t *step)
{
    char expect[9];
    int64_t t, found_step = 0;
    uint64_t found = 0;
    afb_status_t failure = AFB_OK;

    if (!entry_usable(e) || window < 0 || window > TOTP_MAX_WINDOW || now < 0)
        return AFB_EINVAL;
    if (!code_wellformed(code, e->digits))
        return AFB_EINVAL;
    t = (int64_t)(now / APR_USEC_PER_SEC) / e->period;
    for (int64_t s = t - window; s <= t + window; s++) {
        uint64_t match, take;
        if (s < 0)
            continue;  /* depends on the clock only, not on the code */
        if (step_code(e, s, expect) != AFB_OK) {
            failure = AFB_ERR;
            continue;
        }
        /* No branch on the comparison: the first matching step is kept by masking. */
        match = (uint64_t)(CRYPTO_memcmp(expect, code, (size_t)e->digits) == 0);
        take = (uint64_t)0 - (match & ~found & 1u);
        found_step = (int64_t)(((uint64_t)s & take) | ((uint64_t)found_step & ~take));
        found |= match;
    }
    OPENSSL_cleanse(expect, sizeof(expect));
    if (failure != AFB_OK)
        return failure;
    if (!found)
        return AFB_EMISMATCH;
    if (step)
        *step = found_step;
    return AFB_OK;
}

/* ---- the secrets store --------------------------------------------------------------- */

static apr_status_t store_cleanse(void *data)
{
    afb_totp_store_t *s = data;

    for (int i = 0; i < s->entries->nelts; i++) {
        afb_totp_entry_t *e = APR_ARRAY_IDX(s->entries, i, afb_totp_entry_t *);
        OPENSSL_cleanse(e->secret, e->secret_len);
    }
    OPENSSL_cleanse(s->text, s->text_len);
    return APR_SUCCESS;
}

/* Splits line at ':' into at most TOTP_MAX_FIELDS fields (the last keeps the rest of the
 * line); returns the count. */
static int split_fields(char *line, char *fields[TOTP_MAX_FIELDS])
{
    int n = 0;

    fields[n++] = line;
    for (char *c = line; *c && n < TOTP_MAX_FIELDS; c++) {
        if (*c != ':')
            continue;
        *c = '\0';
        fields[n++] = c + 1;
    }
    return n;
}

static const char *parse_small_int(const char *s, int lo, int hi, int dflt, int *out)
{
    char *end = NULL;
    long v;

    if (s == NULL || *s == '\0') {
        *out = dflt;
        return NULL;
    }
    if (*s < '0' || *s > '9' || strlen(s) > 3)
        return "not a number";
    v = strtol(s, &end, 10);
    if (*end != '\0' || v < lo || v > hi)
        return "out of range";
    *out = (int)v;
    return NULL;
}

static const char *parse_alg(const char *s, afb_totp_alg_t *alg)
{
    if (s == NULL || *s == '\0' || strcasecmp(s, "sha1") == 0)
        *alg = AFB_TOTP_SHA1;
    else if (strcasecmp(s, "sha256") == 0)
        *alg = AFB_TOTP_SHA256;
    else if (strcasecmp(s, "sha512") == 0)
        *alg = AFB_TOTP_SHA512;
    else
        return "unknown algorithm (sha1, sha256 or sha512)";
    return NULL;
}

static int label_ok(const char *l)
{
    if (strlen(l) > AFB_TOTP_MAX_LABEL)
        return 0;
    for (; *l; l++)
        if ((unsigned char)*l < 0x20 || *l == 0x7f)
            return 0;
    return 1;
}

/* created:last-used:label, written by the module in enrolled stores. */
static const char *parse_enrolled(char *fields[], int n, afb_totp_entry_t *e)
{
    long created = 0, used = 0;

    if (n > 5 && (afb_parse_uint(fields[5], 253402300799L, &created) != AFB_OK
                  || (n > 6 && afb_parse_uint(fields[6], 253402300799L, &used) != AFB_OK)))
        return "created or last use is not a Unix time";
    if (n > 7 && !label_ok(fields[7]))
        return "label too long or with control characters";
    e->created = apr_time_from_sec(created);
    e->last_used = apr_time_from_sec(used);
    e->label = n > 7 ? fields[7] : NULL;
    return NULL;
}

static const char *parse_options(char *fields[], int n, afb_totp_entry_t *e)
{
    const char *why;

    if (parse_small_int(n > 2 ? fields[2] : NULL, 6, 8, 6, &e->digits) != NULL)
        return "digits must be 6, 7 or 8";
    if (parse_small_int(n > 3 ? fields[3] : NULL, 1, 300, 30, &e->period) != NULL)
        return "period must be 1..300 seconds";
    if ((why = parse_alg(n > 4 ? fields[4] : NULL, &e->alg)) != NULL)
        return why;
    return parse_enrolled(fields, n, e);
}

static const char *parse_secret(apr_pool_t *p, afb_totp_store_t *s, const char *b32,
                                afb_totp_entry_t *e)
{
    unsigned char *secret = NULL;
    size_t len = 0;

    if (afb_base32_decode(p, b32, &secret, &len) != AFB_OK)
        return "secret is not valid base32";
    e->secret = secret;
    e->secret_len = len;
    APR_ARRAY_PUSH(s->entries, afb_totp_entry_t *) = e;  /* zeroed by the cleanup */
    if (len < TOTP_MIN_SECRET)
        return "secret shorter than 80 bits";
    return NULL;
}

static const char *parse_entry(apr_pool_t *p, afb_totp_store_t *s, char *line)
{
    char *fields[TOTP_MAX_FIELDS];
    int n = split_fields(line, fields);
    afb_totp_entry_t *e;
    const char *why;

    if (n < 2)
        return "missing ':' between user and secret";
    if (fields[0][0] == '\0')
        return "empty user name";
    if (strlen(fields[0]) > TOTP_MAX_USER)
        return "user name too long";
    if (apr_hash_get(s->users, fields[0], APR_HASH_KEY_STRING) != NULL)
        return "duplicate user";
    e = apr_pcalloc(p, sizeof(*e));
    e->user = fields[0];
    if ((why = parse_secret(p, s, fields[1], e)) != NULL
        || (why = parse_options(fields, n, e)) != NULL)
        return why;
    apr_hash_set(s->users, e->user, APR_HASH_KEY_STRING, e);
    return NULL;
}


typedef struct {
    apr_pool_t *p;
    afb_totp_store_t *s;
} entry_ctx_t;

static const char *entry_line(void *baton, char *line)
{
    entry_ctx_t *c = baton;
    return parse_entry(c->p, c->s, line);
}

static afb_status_t parse_lines(apr_pool_t *p, afb_totp_store_t *s, const char **err)
{
    entry_ctx_t c = {p, s};
    /* A line that cannot be used is left out with its reason; the others still load. */
    afb_status_t st = afb_lines_each(p, s->text, s->text + s->text_len - 1, TOTP_MAX_LINE,
                                     entry_line, &c, &s->skips, err);
    if (st == AFB_OK && apr_hash_count(s->users) == 0 && s->skips.count > 0) {
        *err = afb_skips_none_usable(p, &s->skips);
        return AFB_EINVAL;
    }
    return st;
}

afb_status_t afb_totp_store_parse(apr_pool_t *p, const char *text, size_t len,
                                  afb_totp_store_t **out, const char **err)
{
    afb_totp_store_t *s;

    *out = NULL;
    *err = NULL;
    if (text == NULL && len > 0)
        return AFB_EINVAL;
    s = apr_pcalloc(p, sizeof(*s));
    s->users = apr_hash_make(p);
    s->entries = apr_array_make(p, 16, sizeof(afb_totp_entry_t *));
    s->text_len = len + 1;
    s->text = apr_pcalloc(p, s->text_len);
    if (len > 0)
        memcpy(s->text, text, len);
    apr_pool_cleanup_register(p, s, store_cleanse, apr_pool_cleanup_null);
    if (parse_lines(p, s, err) != AFB_OK) {
        apr_pool_cleanup_run(p, s, store_cleanse);  /* zero secrets now, not at pool end */
        return AFB_EINVAL;
    }
    *out = s;
    return AFB_OK;
}

const afb_totp_entry_t *afb_totp_store_find(const afb_totp_store_t *s, const char *user)
{
    if (s == NULL || user == NULL)
        return NULL;
    return apr_hash_get(s->users, user, APR_HASH_KEY_STRING);
}

int afb_totp_store_count(const afb_totp_store_t *s)
{
    return s ? (int)apr_hash_count(s->users) : 0;
}

apr_array_header_t *afb_totp_store_users(const afb_totp_store_t *s, apr_pool_t *p)
{
    apr_array_header_t *out = apr_array_make(p, afb_totp_store_count(s), sizeof(const char *));

    for (apr_hash_index_t *hi = s ? apr_hash_first(p, s->users) : NULL; hi;
         hi = apr_hash_next(hi))
        APR_ARRAY_PUSH(out, const char *) = apr_hash_this_key(hi);
    return out;
}

const afb_skips_t *afb_totp_store_skips(const afb_totp_store_t *s)
{
    return s ? &s->skips : NULL;
}
