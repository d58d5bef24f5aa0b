/* Self-service TOTP enrollment (include/authfb/totp.h): fresh secrets, the otpauth URI that
 * authenticator apps read, and the lines of a module-written store. */
#include "authfb/passkey.h"
#include "authfb/totp.h"
#include "authfb/util.h"

#include <string.h>
#include <apr_strings.h>

char *afb_base32_encode(apr_pool_t *p, const unsigned char *in, size_t len)
{
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    char *out = apr_palloc(p, (len * 8 + 4) / 5 + 1);
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;

    for (size_t i = 0; i < len; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out[o++] = alpha[(acc >> bits) & 31];
        }
        acc &= (1u << bits) - 1;
    }
    if (bits > 0)
        out[o++] = alpha[(acc << (5 - bits)) & 31];
    out[o] = '\0';
    return out;
}

const char *afb_totp_new_secret(apr_pool_t *p)
{
    unsigned char *raw = apr_palloc(p, AFB_TOTP_ENROLL_BYTES);
    char *b32;

    afb_cleanse_on_cleanup(p, raw, AFB_TOTP_ENROLL_BYTES);
    if (afb_random(raw, AFB_TOTP_ENROLL_BYTES) != AFB_OK)
        return NULL;
    b32 = afb_base32_encode(p, raw, AFB_TOTP_ENROLL_BYTES);
    afb_cleanse_on_cleanup(p, b32, strlen(b32));
    return b32;
}

const char *afb_totp_otpauth_uri(apr_pool_t *p, const char *issuer, const char *user,
                                 const char *secret_b32)
{
    const char *iss = afb_pct_encode(p, issuer && *issuer ? issuer : "mod_auth_fallback", 0);

    return apr_pstrcat(p, "otpauth://totp/", iss, ":", afb_pct_encode(p, user, 0),
                       "?secret=", secret_b32, "&issuer=", iss,
                       "&algorithm=SHA1&digits=6&period=30", NULL);
}

static int user_ok(const char *u)
{
    if (u == NULL || *u == '\0' || strlen(u) > 255)
        return 0;
    for (; *u; u++)
        if ((unsigned char)*u < 0x20 || *u == 0x7f || *u == ':')
            return 0;
    return 1;
}

const char *afb_totp_store_line(apr_pool_t *p, const char *user, const char *secret_b32,
                                apr_time_t created, apr_time_t last_used, const char *label)
{
    unsigned char *raw = NULL;
    size_t n = 0;

    if (!user_ok(user) || secret_b32 == NULL || strchr(secret_b32, ':') != NULL
        || afb_base32_decode(p, secret_b32, &raw, &n) != AFB_OK || n < 10)
        return NULL;
    afb_cleanse_on_cleanup(p, raw, n);
    return apr_psprintf(p, "%s:%s:6:30:sha1:%" APR_INT64_T_FMT ":%" APR_INT64_T_FMT ":%s", user,
                        secret_b32, (apr_int64_t)apr_time_sec(created < 0 ? 0 : created),
                        (apr_int64_t)apr_time_sec(last_used < 0 ? 0 : last_used),
                        afb_passkey_label_clean(p, label, "Authenticator app"));
}

/* 1 when line (NUL-terminated) is user's: it starts with "user:". */
static int line_is_users(const char *line, const char *user)
{
    size_t n = strlen(user);

    return strncmp(line, user, n) == 0 && line[n] == ':';
}

afb_status_t afb_totp_store_put(apr_pool_t *p, const char *text, size_t len, const char *user,
                                const char *line, const char **out, size_t *out_len)
{
    apr_array_header_t *parts = apr_array_make(p, 16, sizeof(const char *));
    char *copy = apr_pstrmemdup(p, text ? text : "", text ? len : 0), *cursor = copy;
    char *end = copy + (text ? len : 0);
    int found = 0;

    if (!user_ok(user))
        return AFB_EINVAL;
    afb_cleanse_on_cleanup(p, copy, (size_t)(end - copy));
    while (cursor < end) {
        char *l = NULL;
        if (afb_next_line(&cursor, end, (size_t)(end - copy), &l) != NULL)
            return AFB_EINVAL;  /* a NUL byte: not a store we should rewrite */
        if (line_is_users(l, user)) {
            if (line && !found)
                APR_ARRAY_PUSH(parts, const char *) = apr_pstrcat(p, line, "\n", NULL);
            found = 1;
            continue;
        }
        APR_ARRAY_PUSH(parts, const char *) = apr_pstrcat(p, l, "\n", NULL);
    }
    if (!found && line == NULL)
        return AFB_ENOENT;
    if (!found)
        APR_ARRAY_PUSH(parts, const char *) = apr_pstrcat(p, line, "\n", NULL);
    *out = apr_array_pstrcat(p, parts, 0);
    *out_len = strlen(*out);
    return AFB_OK;
}
