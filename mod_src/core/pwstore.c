/* The synchronized password-hash store: parsing `user:hash` lines and verifying passwords.
 * Crypt-style hashes go through libxcrypt's crypt_rn(), PBKDF2-SHA256 through OpenSSL, the
 * weak APR formats through apr-util's encoders; every final comparison is constant-time. */
#include "authfb/util.h"
#include "authfb/pwstore.h"

#include <crypt.h>
#include <stdlib.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_md5.h>
#include <apr_sha1.h>
#include <apr_strings.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#define PW_MAX_USER 255
#define PBKDF2_PREFIX "$pbkdf2-sha256$"
#define PBKDF2_MIN_ROUNDS 1L
#define PBKDF2_MAX_ROUNDS 10000000L
#define PBKDF2_MAX_SALT_CHARS 256
#define PBKDF2_DK_LEN 32
#define HASH_KINDS (AFB_HASH_NT_PBKDF2 + 1)

/* Verified against when the store has no entries: yescrypt at the default cost, of a
 * random password nobody knows. */
static const char default_dummy_hash[] =
    "$y$j9T$9DWcDGpWnpyat7/ZQLlix/$jnMfQ7fIAY2F.LepU1SC6srfIWCvz7tlycSuff/GHeD";

/* Spent instead of an over-long password, so such a password costs a normal verification. */
static const char overlong_stand_in[] = "over-long password stand-in";

struct afb_pwstore_t {
    apr_hash_t *users;       /* user name -> hash string */
    int count;
    int count_nt;            /* entries in the NT-derived format */
    int refused_nt;          /* raw NT hash lines skipped */
    const char *dummy_hash;  /* representative entry, verified for unknown users */
    afb_skips_t skips;       /* lines left out, with their reasons */
};

/* Hashes of one kind and cost ("$2b$12", "$6$rounds=656000", "$y$j9T", "$pbkdf2-sha256$29000"):
 * how many, and the first of them (verified for unknown users when this class is the store's
 * most common). */
typedef struct {
    int count;
    int order;               /* 0 for the first class met in the file, 1 for the next, ... */
    const char *first;
} cost_class_t;

typedef struct {
    apr_pool_t *p;
    apr_hash_t *classes;     /* cost class -> cost_class_t* */
} kind_tally_t;

/* ---- hash kinds ---------------------------------------------------------------------- */

static int has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

afb_hash_kind_t afb_hash_kind(const char *hash)
{
    if (hash == NULL)
        return AFB_HASH_UNKNOWN;
    if (has_prefix(hash, "$y$"))
        return AFB_HASH_YESCRYPT;
    if (has_prefix(hash, "$2y$") || has_prefix(hash, "$2b$") || has_prefix(hash, "$2a$"))
        return AFB_HASH_BCRYPT;
    if (has_prefix(hash, "$6$"))
        return AFB_HASH_SHA512CRYPT;
    if (has_prefix(hash, "$5$"))
        return AFB_HASH_SHA256CRYPT;
    if (has_prefix(hash, PBKDF2_PREFIX))
        return AFB_HASH_PBKDF2_SHA256;
    if (has_prefix(hash, AFB_NTPBKDF2_PREFIX))
        return AFB_HASH_NT_PBKDF2;
    if (has_prefix(hash, "$apr1$"))
        return AFB_HASH_APR1;
    if (has_prefix(hash, "{SHA}"))
        return AFB_HASH_SHA1;
    return AFB_HASH_UNKNOWN;
}

int afb_hash_is_weak(afb_hash_kind_t k)
{
    return k == AFB_HASH_APR1 || k == AFB_HASH_SHA1;
}

static int is_crypt_kind(afb_hash_kind_t k)
{
    return k == AFB_HASH_YESCRYPT || k == AFB_HASH_BCRYPT || k == AFB_HASH_SHA512CRYPT
           || k == AFB_HASH_SHA256CRYPT;
}

/* ---- passlib's adapted base64 (./0-9A-Za-z order of standard base64, no padding) ----- */

static int ab64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '.')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Decodes exactly `len` characters into out (room for cap bytes); -1 on any bad input. */
static int ab64_decode(const char *in, size_t len, unsigned char *out, size_t cap,
                       size_t *outlen)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;

    if (len % 4 == 1 || (len / 4) * 3 + (len % 4 ? len % 4 - 1 : 0) > cap)
        return -1;
    for (size_t i = 0; i < len; i++) {
        int v = ab64_value((unsigned char)in[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    *outlen = n;
    return 0;
}

static const char ab64_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789./";

static char *ab64_encode(apr_pool_t *p, const unsigned char *in, size_t len)
{
    char *out = apr_palloc(p, (len * 4 + 2) / 3 + 1);
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out[n++] = ab64_chars[(acc >> bits) & 0x3F];
        }
    }
    if (bits > 0)
        out[n++] = ab64_chars[(acc << (6 - bits)) & 0x3F];
    out[n] = '\0';
    return out;
}

/* ---- PBKDF2-SHA256, passlib form --------------------------------------------------- */

typedef struct {
    long rounds;
    unsigned char salt[PBKDF2_MAX_SALT_CHARS];
    size_t salt_len;
    unsigned char dk[PBKDF2_DK_LEN];
} pbkdf2_hash_t;

static int parse_rounds(const char *s, size_t len, long *out)
{
    char buf[16];
    char *end = NULL;

    if (len == 0 || len >= sizeof(buf) || s[0] == '0')
        return -1;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    *out = strtol(buf, &end, 10);
    if (*end != '\0' || *out < PBKDF2_MIN_ROUNDS || *out > PBKDF2_MAX_ROUNDS)
        return -1;
    return 0;
}

/* Either form: the password's PBKDF2 (PBKDF2_PREFIX) or the NT hash's (AFB_NTPBKDF2_PREFIX,
 * with a salt of at least AFB_NTPBKDF2_SALT bytes). */
static int pbkdf2_parse(const char *hash, pbkdf2_hash_t *h)
{
    int nt = has_prefix(hash, AFB_NTPBKDF2_PREFIX);
    const char *r = hash + strlen(nt ? AFB_NTPBKDF2_PREFIX : PBKDF2_PREFIX);
    const char *salt = strchr(r, '$');
    const char *dk = salt ? strchr(salt + 1, '$') : NULL;
    size_t dk_len = 0;

    if (dk == NULL || strchr(dk + 1, '$') != NULL)
        return -1;
    if (parse_rounds(r, (size_t)(salt - r), &h->rounds) != 0)
        return -1;
    salt++;
    if ((size_t)(dk - salt) > PBKDF2_MAX_SALT_CHARS
        || ab64_decode(salt, (size_t)(dk - salt), h->salt, sizeof(h->salt), &h->salt_len) != 0)
        return -1;
    dk++;
    if (ab64_decode(dk, strlen(dk), h->dk, sizeof(h->dk), &dk_len) != 0
        || dk_len != PBKDF2_DK_LEN)
        return -1;
    return nt && h->salt_len < AFB_NTPBKDF2_SALT ? -1 : 0;
}

/* secret: the password, or the NT hash for the NT-derived form. */
static afb_status_t pbkdf2_verify(const char *hash, const void *secret, size_t len)
{
    pbkdf2_hash_t h;
    unsigned char dk[PBKDF2_DK_LEN];
    afb_status_t st = AFB_EINVAL;

    if (pbkdf2_parse(hash, &h) != 0)
        goto out;
    st = AFB_ERR;
    if (PKCS5_PBKDF2_HMAC(secret, (int)len, h.salt, (int)h.salt_len, (int)h.rounds,
                          EVP_sha256(), (int)sizeof(dk), dk) != 1)
        goto out;
    st = CRYPTO_memcmp(dk, h.dk, sizeof(dk)) == 0 ? AFB_OK : AFB_EMISMATCH;
out:
    OPENSSL_cleanse(dk, sizeof(dk));
    OPENSSL_cleanse(&h, sizeof(h));
    return st;
}

static afb_status_t nt_pbkdf2_verify(const char *hash, const char *password, size_t pwlen)
{
    unsigned char nt[AFB_NTHASH_LEN];
    afb_status_t st = afb_nthash(password, pwlen, nt);

    if (st == AFB_OK)
        st = pbkdf2_verify(hash, nt, sizeof(nt));
    else if (st == AFB_EINVAL)
        st = AFB_EMISMATCH; /* not UTF-8: no AD password is */
    OPENSSL_cleanse(nt, sizeof(nt));
    return st;
}

afb_status_t afb_ntpbkdf2_check(const char *entry, const unsigned char nt[AFB_NTHASH_LEN])
{
    if (afb_hash_kind(entry) != AFB_HASH_NT_PBKDF2)
        return AFB_EINVAL;
    return pbkdf2_verify(entry, nt, AFB_NTHASH_LEN);
}

afb_status_t afb_ntpbkdf2_make_salted(apr_pool_t *p, const unsigned char nt[AFB_NTHASH_LEN],
                                      long rounds, const unsigned char *salt, size_t salt_len,
                                      const char **out)
{
    unsigned char dk[PBKDF2_DK_LEN];

    *out = NULL;
    if (rounds < PBKDF2_MIN_ROUNDS || rounds > PBKDF2_MAX_ROUNDS || salt_len < AFB_NTPBKDF2_SALT
        || salt_len > 64)
        return AFB_EINVAL;
    if (PKCS5_PBKDF2_HMAC((const char *)nt, AFB_NTHASH_LEN, salt, (int)salt_len, (int)rounds,
                          EVP_sha256(), (int)sizeof(dk), dk) != 1)
        return AFB_ERR;
    *out = apr_psprintf(p, AFB_NTPBKDF2_PREFIX "%ld$%s$%s", rounds,
                        ab64_encode(p, salt, salt_len), ab64_encode(p, dk, sizeof(dk)));
    OPENSSL_cleanse(dk, sizeof(dk));
    return AFB_OK;
}

afb_status_t afb_ntpbkdf2_make(apr_pool_t *p, const unsigned char nt[AFB_NTHASH_LEN],
                               long rounds, const char **out)
{
    unsigned char salt[AFB_NTPBKDF2_SALT];

    *out = NULL;
    if (afb_random(salt, sizeof(salt)) != AFB_OK)
        return AFB_ERR;
    return afb_ntpbkdf2_make_salted(p, nt, rounds, salt, sizeof(salt), out);
}

/* ---- crypt-style and APR formats ----------------------------------------------------- */

static afb_status_t ct_compare_str(const char *computed, const char *stored)
{
    size_t len = strlen(stored);

    if (strlen(computed) != len)
        return AFB_EMISMATCH;
    return CRYPTO_memcmp(computed, stored, len) == 0 ? AFB_OK : AFB_EMISMATCH;
}

static afb_status_t crypt_verify(const char *hash, const char *password)
{
    struct crypt_data *cd = calloc(1, sizeof(*cd));
    const char *res;
    afb_status_t st;

    if (cd == NULL)
        return AFB_ERR;
    res = crypt_rn(password, hash, cd, (int)sizeof(*cd));
    if (res == NULL || res[0] == '*')
        st = AFB_EINVAL;
    else
        st = ct_compare_str(res, hash);
    OPENSSL_cleanse(cd, sizeof(*cd));
    free(cd);
    return st;
}

static afb_status_t apr_weak_verify(afb_hash_kind_t kind, const char *hash,
                                    const char *password, size_t pwlen)
{
    char sample[128];
    afb_status_t st = AFB_OK;

    if (kind == AFB_HASH_APR1) {
        if (apr_md5_encode(password, hash, sample, sizeof(sample)) != APR_SUCCESS)
            st = AFB_EINVAL;
    } else {
        apr_sha1_base64(password, (int)pwlen, sample);
    }
    if (st == AFB_OK)
        st = ct_compare_str(sample, hash);
    OPENSSL_cleanse(sample, sizeof(sample));
    return st;
}

static size_t max_password_len(afb_hash_kind_t kind)
{
    /* libxcrypt refuses longer phrases (the buffer includes the terminating NUL). */
    if (is_crypt_kind(kind) && CRYPT_MAX_PASSPHRASE_SIZE - 1 < AFB_PW_MAX_PASSWORD)
        return CRYPT_MAX_PASSPHRASE_SIZE - 1;
    return AFB_PW_MAX_PASSWORD;
}

static afb_status_t verify_kind(afb_hash_kind_t kind, const char *hash, const char *password,
                                size_t pwlen)
{
    if (is_crypt_kind(kind))
        return crypt_verify(hash, password);
    if (kind == AFB_HASH_PBKDF2_SHA256)
        return pbkdf2_verify(hash, password, pwlen);
    if (kind == AFB_HASH_NT_PBKDF2)
        return nt_pbkdf2_verify(hash, password, pwlen);
    if (afb_hash_is_weak(kind))
        return apr_weak_verify(kind, hash, password, pwlen);
    return AFB_EINVAL;
}

afb_status_t afb_hash_verify(apr_pool_t *p, const char *hash, const char *password)
{
    afb_hash_kind_t kind = afb_hash_kind(hash);
    size_t max, pwlen;
    afb_status_t st;

    (void)p;
    if (kind == AFB_HASH_UNKNOWN || password == NULL)
        return AFB_EINVAL;
    max = max_password_len(kind);
    pwlen = strnlen(password, max + 1);
    if (pwlen <= max)
        return verify_kind(kind, hash, password, pwlen);
    /* Over-long: spend the cost of a normal verification, then refuse. */
    st = verify_kind(kind, hash, overlong_stand_in, strlen(overlong_stand_in));
    return st == AFB_OK || st == AFB_EMISMATCH ? AFB_EMISMATCH : st;
}

/* ---- store parsing ------------------------------------------------------------------- */

static int hash_charset_ok(const char *hash)
{
    static const char extra[] = "./$=,+-";

    for (const char *c = hash; *c; c++) {
        int alnum = (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z')
                    || (*c >= '0' && *c <= '9');
        if (!alnum && strchr(extra, *c) == NULL)
            return 0;
    }
    return 1;
}

static int count_char(const char *s, char ch)
{
    int n = 0;

    for (; *s; s++)
        n += *s == ch;
    return n;
}

/* A structural check only; a hash passing it may still be refused by crypt at verify time. */
static int hash_wellformed(afb_hash_kind_t kind, const char *hash)
{
    pbkdf2_hash_t h;
    int ok;

    if (kind == AFB_HASH_SHA1)
        hash += strlen("{SHA}");
    if (!hash_charset_ok(hash) || hash[0] == '\0' || hash[strlen(hash) - 1] == '$')
        return 0;
    switch (kind) {
    case AFB_HASH_BCRYPT:
        return strlen(hash) == 60 && count_char(hash, '$') == 3;
    case AFB_HASH_YESCRYPT:
        return count_char(hash, '$') == 4;
    case AFB_HASH_SHA512CRYPT:
    case AFB_HASH_SHA256CRYPT:
        return count_char(hash, '$') == 3 || count_char(hash, '$') == 4;
    case AFB_HASH_APR1:
        return count_char(hash, '$') == 3;
    case AFB_HASH_SHA1:
        return strlen(hash) == 28 && count_char(hash, '$') == 0;
    case AFB_HASH_PBKDF2_SHA256:
    case AFB_HASH_NT_PBKDF2:
        ok = pbkdf2_parse(hash, &h) == 0;
        OPENSSL_cleanse(&h, sizeof(h));
        return ok;
    default:
        return 0;
    }
}

/* The kind-and-cost part of a hash: everything before the salt. Two hashes of one class
 * cost the same to verify. */
static const char *cost_class(apr_pool_t *p, afb_hash_kind_t kind, const char *hash)
{
    const char *end = hash;
    int fields;
    switch (kind) {
    case AFB_HASH_BCRYPT:         /* $2a$ / $2b$ / $2y$COST$salthash: one cost per COST */
        return apr_pstrndup(p, hash + 3, 3);
    case AFB_HASH_YESCRYPT:       /* $y$PARAMS$salt$hash */
    case AFB_HASH_PBKDF2_SHA256:  /* $pbkdf2-sha256$ROUNDS$salt$hash */
    case AFB_HASH_NT_PBKDF2:      /* $nt-pbkdf2-sha256$ROUNDS$salt$hash */
        fields = 2;
        break;
    case AFB_HASH_SHA512CRYPT:    /* $6$[rounds=N$]salt$hash */
    case AFB_HASH_SHA256CRYPT:
        fields = has_prefix(hash + 3, "rounds=") ? 2 : 1;
        break;
    default:                      /* fixed cost: the kind is the class */
        return apr_itoa(p, (int)kind);
    }
    while (*end && fields > 0)
        if (*++end == '$')
            fields--;
    return apr_pstrndup(p, hash, (apr_size_t)(end - hash));
}

static void tally_add(kind_tally_t *tally, afb_hash_kind_t kind, const char *hash)
{
    const char *cls = cost_class(tally->p, kind, hash);
    cost_class_t *c = apr_hash_get(tally->classes, cls, APR_HASH_KEY_STRING);
    if (c == NULL) {
        c = apr_pcalloc(tally->p, sizeof(*c));
        c->order = (int)apr_hash_count(tally->classes);
        c->first = hash;
        apr_hash_set(tally->classes, cls, APR_HASH_KEY_STRING, c);
    }
    c->count++;
}

/* Parses one non-blank, non-comment line in place; returns NULL or the reason. */
static const char *parse_entry(afb_pwstore_t *s, char *line, kind_tally_t *tally, int *weak)
{
    char *colon = strchr(line, ':');
    const char *hash;
    afb_hash_kind_t kind;

    if (colon == NULL)
        return "missing ':' between user and hash";
    if (colon == line)
        return "empty user name";
    if (colon - line > PW_MAX_USER)
        return "user name too long";
    *colon = '\0';
    hash = colon + 1;
    if (afb_nthash_is_raw(hash)) {
        s->refused_nt++; /* a password equivalent: never loaded (the loader warns) */
        return NULL;
    }
    kind = afb_hash_kind(hash);
    if (kind == AFB_HASH_UNKNOWN)
        return "unsupported hash format (plaintext, DES-crypt and unknown schemes are refused)";
    if (!hash_wellformed(kind, hash))
        return "malformed hash";
    if (apr_hash_get(s->users, line, APR_HASH_KEY_STRING) != NULL)
        return "duplicate user";
    apr_hash_set(s->users, line, APR_HASH_KEY_STRING, hash);
    s->count++;
    s->count_nt += kind == AFB_HASH_NT_PBKDF2;
    *weak += afb_hash_is_weak(kind);
    tally_add(tally, kind, hash);
    return NULL;
}

/* The hash verified for unknown users: the first entry of the most common kind and cost
 * (a tie goes to the class met first in the file), so an unknown user costs what most users
 * cost. */
static const char *representative_hash(const kind_tally_t *tally)
{
    const cost_class_t *best = NULL;
    apr_hash_index_t *hi;
    for (hi = apr_hash_first(tally->p, tally->classes); hi; hi = apr_hash_next(hi)) {
        const cost_class_t *c = apr_hash_this_val(hi);
        if (!best || c->count > best->count ||
            (c->count == best->count && c->order < best->order))
            best = c;
    }
    return best ? best->first : default_dummy_hash;
}

typedef struct {
    afb_pwstore_t *s;
    kind_tally_t tally;
    int *weak;
} entry_ctx_t;

static const char *entry_line(void *baton, char *line)
{
    entry_ctx_t *c = baton;
    return parse_entry(c->s, line, &c->tally, c->weak);
}

static afb_status_t parse_lines(afb_pwstore_t *s, apr_pool_t *p, char *buf, size_t len,
                                int *weak, const char **err)
{
    entry_ctx_t c;
    afb_status_t st;

    c.s = s;
    c.weak = weak;
    c.tally.p = p;
    c.tally.classes = apr_hash_make(p);
    /* A line that cannot be used is left out with its reason; the others still load. */
    st = afb_lines_each(p, buf, buf + len, AFB_PW_MAX_LINE, entry_line, &c, &s->skips, err);
    if (st == AFB_OK && s->count == 0 && s->skips.count > 0) {
        *err = afb_skips_none_usable(p, &s->skips);
        return AFB_EINVAL;
    }
    if (st == AFB_OK)
        s->dummy_hash = representative_hash(&c.tally);
    return st;
}

afb_status_t afb_pwstore_parse(apr_pool_t *p, const char *text, size_t len,
                               afb_pwstore_t **out, int *weak, const char **err)
{
    afb_pwstore_t *s;
    char *buf;
    int nweak = 0;
    afb_status_t st;

    *out = NULL;
    *err = NULL;
    if (weak)
        *weak = 0;
    if (text == NULL && len > 0)
        return AFB_EINVAL;
    s = apr_pcalloc(p, sizeof(*s));
    s->users = apr_hash_make(p);
    /* The text is parsed in place: user names and hashes point into this copy. */
    buf = apr_pcalloc(p, len + 1);
    if (len > 0)
        memcpy(buf, text, len);
    afb_cleanse_on_cleanup(p, buf, len + 1);
    st = parse_lines(s, p, buf, len, &nweak, err);
    if (st != AFB_OK)
        return st;
    if (weak)
        *weak = nweak;
    *out = s;
    return AFB_OK;
}

const char *afb_pwstore_dummy_hash(const afb_pwstore_t *s)
{
    return s ? s->dummy_hash : default_dummy_hash;
}

int afb_pwstore_count(const afb_pwstore_t *s)
{
    return s ? s->count : 0;
}

const char *afb_pwstore_lookup(const afb_pwstore_t *s, const char *user)
{
    if (s == NULL || user == NULL)
        return NULL;
    return apr_hash_get(s->users, user, APR_HASH_KEY_STRING);
}

apr_array_header_t *afb_pwstore_users(const afb_pwstore_t *s, apr_pool_t *p)
{
    apr_array_header_t *out = apr_array_make(p, s ? s->count : 0, sizeof(const char *));

    for (apr_hash_index_t *hi = s ? apr_hash_first(p, s->users) : NULL; hi;
         hi = apr_hash_next(hi))
        APR_ARRAY_PUSH(out, const char *) = apr_hash_this_key(hi);
    return out;
}

long afb_ntpbkdf2_rounds(const char *entry)
{
    pbkdf2_hash_t h;
    long rounds = 0;

    if (afb_hash_kind(entry) == AFB_HASH_NT_PBKDF2 && pbkdf2_parse(entry, &h) == 0)
        rounds = h.rounds;
    OPENSSL_cleanse(&h, sizeof(h));
    return rounds;
}

const afb_skips_t *afb_pwstore_skips(const afb_pwstore_t *s)
{
    return s ? &s->skips : NULL;
}

int afb_pwstore_refused_nt(const afb_pwstore_t *s)
{
    return s ? s->refused_nt : 0;
}

int afb_pwstore_count_nt(const afb_pwstore_t *s)
{
    return s ? s->count_nt : 0;
}

afb_status_t afb_pwstore_verify(const afb_pwstore_t *s, apr_pool_t *p, const char *user,
                                const char *password)
{
    const char *hash = NULL;
    afb_status_t st;

    if (s == NULL || user == NULL || password == NULL)
        return AFB_EINVAL;
    if (strnlen(user, PW_MAX_USER + 1) <= PW_MAX_USER)
        hash = apr_hash_get(s->users, user, APR_HASH_KEY_STRING);
    if (hash != NULL)
        return afb_hash_verify(p, hash, password);
    /* Unknown user: the same work as for a known one, result discarded. */
    st = afb_hash_verify(p, s->dummy_hash, password);
    (void)st;
    return AFB_ENOENT;
}
