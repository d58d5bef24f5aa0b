/* Small pure helpers: encodings, constant-time compare, input sanitizers. */
#include "authfb/util.h"

#include <arpa/inet.h>
#include <limits.h>
#include <string.h>
#include <strings.h>
#include <apr_strings.h>
#include <apr_uri.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#define AFB_RETURN_MAX 2048    /* longest return= path we keep */
#define AFB_RETURN_DECODES 3   /* percent-decoding levels checked */
#define AFB_RESERVED_PREFIX "x-auth-fallback-"

/* ---- constant-time compare ------------------------------------------------------------ */

int afb_ct_equal(const void *a, const void *b, size_t len)
{
    if (len == 0) {
        return 1;
    }
    if (a == NULL || b == NULL) {
        return 0;
    }
    return CRYPTO_memcmp(a, b, len) == 0;
}

int afb_ct_streq(const char *a, const char *b)
{
    size_t la, lb, n, i;
    unsigned int diff;

    if (a == NULL || b == NULL) {
        return 0;
    }
    la = strlen(a);
    lb = strlen(b);
    n = la > lb ? la : lb;
    diff = (unsigned int)(la != lb);
    for (i = 0; i < n; i++) {
        unsigned char ca = i < la ? (unsigned char)a[i] : 0;
        unsigned char cb = i < lb ? (unsigned char)b[i] : 0;
        diff |= (unsigned int)(ca ^ cb);
    }
    return diff == 0;
}

/* ---- randomness ----------------------------------------------------------------------- */

afb_status_t afb_random(unsigned char *buf, size_t len)
{
    if (len == 0) {
        return AFB_OK;
    }
    if (buf == NULL || len > INT_MAX) {
        return AFB_EINVAL;
    }
    return RAND_bytes(buf, (int)len) == 1 ? AFB_OK : AFB_ERR;
}

const char *afb_random_token(apr_pool_t *p, size_t nbytes)
{
    unsigned char *buf;
    char *out;

    if (nbytes == 0 || nbytes > 1024) {
        return NULL;
    }
    buf = apr_palloc(p, nbytes);
    if (afb_random(buf, nbytes) != AFB_OK) {
        return NULL;
    }
    out = afb_b64url_encode(p, buf, nbytes);
    OPENSSL_cleanse(buf, nbytes);
    return out;
}

/* ---- base64url ------------------------------------------------------------------------ */

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *afb_b64url_encode(apr_pool_t *p, const unsigned char *in, size_t len)
{
    size_t i, o = 0;
    char *out = apr_palloc(p, (len / 3) * 4 + 4 + 1);

    for (i = 0; i + 2 < len; i += 3) {
        unsigned long v = ((unsigned long)in[i] << 16) | ((unsigned long)in[i + 1] << 8) | in[i + 2];
        out[o++] = b64url_alphabet[(v >> 18) & 0x3f];
        out[o++] = b64url_alphabet[(v >> 12) & 0x3f];
        out[o++] = b64url_alphabet[(v >> 6) & 0x3f];
        out[o++] = b64url_alphabet[v & 0x3f];
    }
    if (len - i == 1) {
        out[o++] = b64url_alphabet[(in[i] >> 2) & 0x3f];
        out[o++] = b64url_alphabet[(in[i] << 4) & 0x3f];
    }
    else if (len - i == 2) {
        unsigned long v = ((unsigned long)in[i] << 8) | in[i + 1];
        out[o++] = b64url_alphabet[(v >> 10) & 0x3f];
        out[o++] = b64url_alphabet[(v >> 4) & 0x3f];
        out[o++] = b64url_alphabet[(v << 2) & 0x3f];
    }
    out[o] = '\0';
    return out;
}

/* Value of one base64url character, or -1. */
static int b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '-') {
        return 62;
    }
    if (c == '_') {
        return 63;
    }
    return -1;
}

afb_status_t afb_b64url_decode(apr_pool_t *p, const char *in, size_t inlen,
                               unsigned char **out, size_t *outlen)
{
    unsigned long acc = 0;
    size_t i, o = 0;
    int bits = 0;
    unsigned char *buf;

    if (in == NULL || out == NULL || outlen == NULL || inlen % 4 == 1) {
        return AFB_EINVAL;
    }
    buf = apr_palloc(p, (inlen / 4) * 3 + 3);
    for (i = 0; i < inlen; i++) {
        int v = b64url_value((unsigned char)in[i]);
        if (v < 0) {
            return AFB_EINVAL;
        }
        acc = ((acc << 6) | (unsigned long)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (unsigned char)((acc >> bits) & 0xff);
        }
    }
    /* Leftover bits must be zero: one encoding per byte string. */
    if (bits > 0 && (acc & ((1UL << bits) - 1)) != 0) {
        return AFB_EINVAL;
    }
    *out = buf;
    *outlen = o;
    return AFB_OK;
}

/* ---- return= sanitizer ---------------------------------------------------------------- */

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* 1 when s[0..2] is a valid %XX escape. */
static int is_escape(const char *s)
{
    return s[0] == '%' && hex_value((unsigned char)s[1]) >= 0
           && hex_value((unsigned char)s[2]) >= 0;
}

/* The shape every level must have: "/" alone or "/" + a char that is neither '/' nor '\\'. */
static int starts_local(const char *s)
{
    return s[0] == '/' && s[1] != '/' && s[1] != '\\';
}

/* Raw form: printable ASCII without space or backslash, every '%' a valid escape. */
static int raw_ok(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= 0x20 || c >= 0x7f || c == '\\') {
            return 0;
        }
        if (c == '%' && !is_escape(s)) {
            return 0;
        }
    }
    return 1;
}

/* Decoded form: no control characters, no backslash (non-ASCII bytes are fine here). */
static int decoded_ok(const char *s)
{
    if (!starts_local(s)) {
        return 0;
    }
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f || c == '\\') {
            return 0;
        }
    }
    return 1;
}

/* Decode the valid %XX escapes of s (others stay literal); %00 gives 0 (not decodable). */
static char *percent_decode_lenient(apr_pool_t *p, const char *s)
{
    char *out = apr_palloc(p, strlen(s) + 1);
    size_t o = 0;

    while (*s) {
        if (is_escape(s)) {
            int v = hex_value((unsigned char)s[1]) * 16 + hex_value((unsigned char)s[2]);
            if (v == 0) {
                return NULL;
            }
            out[o++] = (char)v;
            s += 3;
        }
        else {
            out[o++] = *s++;
        }
    }
    out[o] = '\0';
    return out;
}

const char *afb_return_sanitize(apr_pool_t *p, const char *in)
{
    const char *cur;
    int level;

    if (in == NULL || strlen(in) > AFB_RETURN_MAX || !starts_local(in) || !raw_ok(in)) {
        return "/";
    }
    cur = in;
    for (level = 0; level < AFB_RETURN_DECODES && strchr(cur, '%') != NULL; level++) {
        cur = percent_decode_lenient(p, cur);
        if (cur == NULL || !decoded_ok(cur)) {
            return "/";
        }
    }
    return apr_pstrdup(p, in);
}

/* ---- header names --------------------------------------------------------------------- */

static unsigned char header_fold(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return (unsigned char)(c - 'A' + 'a');
    }
    return c == '_' ? '-' : c;
}

/* Folded equality of the first n bytes; both strings must have at least n bytes. */
static int header_prefix_eq(const char *a, const char *b, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (header_fold((unsigned char)a[i]) != header_fold((unsigned char)b[i])) {
            return 0;
        }
    }
    return 1;
}

int afb_header_name_eq(const char *a, const char *b)
{
    size_t la;

    if (a == NULL || b == NULL) {
        return 0;
    }
    la = strlen(a);
    return la == strlen(b) && header_prefix_eq(a, b, la);
}

int afb_header_is_reserved(const char *name, const char *user_header)
{
    size_t plen = sizeof(AFB_RESERVED_PREFIX) - 1;

    if (name == NULL) {
        return 0;
    }
    if (user_header != NULL && *user_header && afb_header_name_eq(name, user_header)) {
        return 1;
    }
    return strlen(name) >= plen && header_prefix_eq(name, AFB_RESERVED_PREFIX, plen);
}

/* ---- forms ---------------------------------------------------------------------------- */

/* Decode one form component ('+' = space, %XX). NULL on a bad escape or a NUL byte. */
static char *form_decode(apr_pool_t *p, const char *s, size_t len)
{
    char *out = apr_palloc(p, len + 1);
    size_t i, o = 0;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            int hi, lo;
            if (i + 2 >= len) {
                return NULL;
            }
            hi = hex_value((unsigned char)s[i + 1]);
            lo = hex_value((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                return NULL;
            }
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        }
        else if (c == '\0') {
            return NULL;
        }
        else {
            out[o++] = c == '+' ? ' ' : (char)c;
        }
    }
    out[o] = '\0';
    return out;
}

/* Add one "name=value" pair (no '&' inside) to t. */
static afb_status_t form_add_pair(apr_pool_t *p, apr_table_t *t, const char *s, size_t len)
{
    const char *eq = memchr(s, '=', len);
    size_t nlen = eq ? (size_t)(eq - s) : len;
    char *name, *value;

    if (nlen == 0) {
        return AFB_EINVAL;
    }
    name = form_decode(p, s, nlen);
    value = eq ? form_decode(p, eq + 1, len - nlen - 1) : apr_pstrdup(p, "");
    if (name == NULL || value == NULL || *name == '\0') {
        return AFB_EINVAL;
    }
    if (apr_table_get(t, name) != NULL) {
        return AFB_EINVAL;
    }
    apr_table_setn(t, name, value);
    return AFB_OK;
}

afb_status_t afb_form_parse(apr_pool_t *p, const char *body, size_t len, int max_fields,
                            apr_table_t **out)
{
    apr_table_t *t;
    size_t pos = 0;
    int n = 0;

    if (out == NULL || max_fields < 0 || (body == NULL && len > 0)) {
        return AFB_EINVAL;
    }
    t = apr_table_make(p, max_fields > 16 ? 16 : max_fields + 1);
    while (pos < len) {
        const char *amp = memchr(body + pos, '&', len - pos);
        size_t seg = amp ? (size_t)(amp - (body + pos)) : len - pos;
        if (seg > 0) {
            if (++n > max_fields || form_add_pair(p, t, body + pos, seg) != AFB_OK) {
                return AFB_EINVAL;
            }
        }
        pos += seg + 1;
    }
    *out = t;
    return AFB_OK;
}

/* ---- HTML ----------------------------------------------------------------------------- */

static const char *html_entity(char c)
{
    switch (c) {
    case '&': return "&amp;";
    case '<': return "&lt;";
    case '>': return "&gt;";
    case '"': return "&quot;";
    case '\'': return "&#39;";
    default: return NULL;
    }
}

char *afb_shown(apr_pool_t *p, const char *s, size_t n, size_t max)
{
    size_t i, k = n > max ? max : n;
    char *out = apr_pstrmemdup(p, s, k);
    for (i = 0; i < k; i++)
        if ((unsigned char)out[i] < 0x20 || (unsigned char)out[i] >= 0x7f)
            out[i] = '?';
    return out;
}

char *afb_html_escape(apr_pool_t *p, const char *in)
{
    size_t need = 1, o = 0;
    const char *s;
    char *out;

    if (in == NULL) {
        return apr_pstrdup(p, "");
    }
    for (s = in; *s; s++) {
        const char *e = html_entity(*s);
        need += e ? strlen(e) : 1;
    }
    out = apr_palloc(p, need);
    for (s = in; *s; s++) {
        const char *e = html_entity(*s);
        if (e) {
            memcpy(out + o, e, strlen(e));
            o += strlen(e);
        }
        else {
            out[o++] = *s;
        }
    }
    out[o] = '\0';
    return out;
}

/* ---- numbers -------------------------------------------------------------------------- */

/* Leading decimal digits of s into *out (at least one, no overflow past max); *end after. */
static afb_status_t parse_digits(const char *s, long long max, long long *out, const char **end)
{
    long long v = 0;

    if (s == NULL || *s < '0' || *s > '9') {
        return AFB_EINVAL;
    }
    for (; *s >= '0' && *s <= '9'; s++) {
        int d = *s - '0';
        if (d > max || v > (max - d) / 10) {
            return AFB_EINVAL;
        }
        v = v * 10 + d;
    }
    *out = v;
    *end = s;
    return AFB_OK;
}

afb_status_t afb_parse_duration(const char *s, apr_interval_time_t *out)
{
    const char *end;
    long long v;

    if (out == NULL || parse_digits(s, LLONG_MAX, &v, &end) != AFB_OK) {
        return AFB_EINVAL;
    }
    if (*end == '\0') {
        if (v > LLONG_MAX / APR_USEC_PER_SEC) {
            return AFB_EINVAL;
        }
        *out = (apr_interval_time_t)(v * APR_USEC_PER_SEC);
        return AFB_OK;
    }
    if (strcmp(end, "ms") == 0) {
        if (v > LLONG_MAX / 1000) {
            return AFB_EINVAL;
        }
        *out = (apr_interval_time_t)(v * 1000);
        return AFB_OK;
    }
    return AFB_EINVAL;
}

afb_status_t afb_parse_uint(const char *s, long max, long *out)
{
    const char *end;
    long long v;

    if (out == NULL || max < 0 || parse_digits(s, max, &v, &end) != AFB_OK || *end != '\0') {
        return AFB_EINVAL;
    }
    *out = (long)v;
    return AFB_OK;
}

afb_status_t afb_parse_delete_limit(const char *s, afb_delete_limit_t *out)
{
    size_t len = s ? strlen(s) : 0;
    char digits[24];

    if (out == NULL || len == 0 || len >= sizeof(digits)) {
        return AFB_EINVAL;
    }
    out->percent = s[len - 1] == '%';
    memcpy(digits, s, len - (size_t)out->percent);
    digits[len - (size_t)out->percent] = '\0';
    return afb_parse_uint(digits, out->percent ? 100 : LONG_MAX, &out->count);
}

int afb_delete_limit_exceeded(const afb_delete_limit_t *l, long removed, long before)
{
    if (removed <= 0 || l->count == 0) {
        return 0; /* nothing removed, or the guard is off */
    }
    if (!l->percent) {
        return removed > l->count;
    }
    /* removed / before > count / 100, without division */
    return (long long)removed * 100 > (long long)l->count * (before > 0 ? before : 0);
}

const char *afb_next_line(char **cursor, char *end, size_t max, char **line)
{
    char *start = *cursor;
    char *nl = memchr(start, '\n', (size_t)(end - start));
    char *stop = nl ? nl : end;

    *cursor = nl ? nl + 1 : end;
    if (stop > start && stop[-1] == '\r')
        stop--;
    if ((size_t)(stop - start) > max)
        return "line too long";
    if (memchr(start, '\0', (size_t)(stop - start)) != NULL)
        return "NUL byte in line";
    *stop = '\0';
    *line = start;
    return NULL;
}

static int afb_line_is_blank(const char *line)
{
    for (; *line; line++)
        if (*line != ' ' && *line != '\t')
            return 0;
    return 1;
}

void afb_skips_add(apr_pool_t *p, afb_skips_t *sk, int lineno, const char *why)
{
    sk->count++;
    if (sk->notes == NULL)
        sk->notes = apr_array_make(p, 4, sizeof(const char *));
    if (sk->notes->nelts < AFB_SKIPS_NOTES_MAX)
        APR_ARRAY_PUSH(sk->notes, const char *) = apr_psprintf(p, "line %d: %s", lineno, why);
}

const char *afb_skips_none_usable(apr_pool_t *p, const afb_skips_t *sk)
{
    return apr_psprintf(p, "no usable record (%d skipped; first: %s)", sk->count,
                        sk->notes && sk->notes->nelts
                            ? APR_ARRAY_IDX(sk->notes, 0, const char *) : "none");
}

afb_status_t afb_lines_each(apr_pool_t *p, char *buf, char *end, size_t max, afb_line_fn *fn,
                            void *baton, afb_skips_t *skips, const char **err)
{
    char *cursor = buf;
    int lineno = 0;
    while (cursor < end) {
        char *line = NULL;
        const char *why = afb_next_line(&cursor, end, max, &line);
        lineno++;
        if (why == NULL && (line[0] == '#' || afb_line_is_blank(line)))
            continue;
        if (why == NULL)
            why = fn(baton, line);
        if (why != NULL && skips != NULL) {
            afb_skips_add(p, skips, lineno, why);
        }
        else if (why != NULL) {
            *err = apr_psprintf(p, "line %d: %s", lineno, why);
            return AFB_EINVAL;
        }
    }
    return AFB_OK;
}

void afb_be64_put(unsigned char out[8], uint64_t v)
{
    int i;
    for (i = 7; i >= 0; i--) {
        out[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
}

uint64_t afb_be64_get(const unsigned char in[8])
{
    uint64_t v = 0;
    int i;
    for (i = 0; i < 8; i++)
        v = (v << 8) | in[i];
    return v;
}

typedef struct {
    void *buf;
    size_t len;
} afb_cleanse_t;

static apr_status_t afb_cleanse_run(void *data)
{
    afb_cleanse_t *c = data;
    OPENSSL_cleanse(c->buf, c->len);
    return APR_SUCCESS;
}

void afb_cleanse_on_cleanup(apr_pool_t *p, void *buf, size_t len)
{
    afb_cleanse_t *c = apr_palloc(p, sizeof(*c));
    c->buf = buf;
    c->len = len;
    apr_pool_cleanup_register(p, c, afb_cleanse_run, apr_pool_cleanup_null);
}

/* Length of the valid UTF-8 sequence at s[0..n) (n >= 1), or 0 when it is invalid (overlong,
 * surrogate, above U+10FFFF, truncated or a stray continuation byte). */
size_t afb_utf8_seq_len(const unsigned char *s, size_t n)
{
    size_t len, i;
    unsigned long cp;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        len = 2;
        cp = s[0] & 0x1F;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        len = 3;
        cp = s[0] & 0x0F;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        len = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF
        || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

/* RFC 3986 unreserved characters stay, everything else is %XX; form=1 writes ' ' as '+'
 * (application/x-www-form-urlencoded). */
static char *pct_encode(apr_pool_t *p, const char *in, const char *keep, int form)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = apr_palloc(p, strlen(in) * 3 + 1), *o = out;
    for (; *in; in++) {
        unsigned char c = (unsigned char)*in;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~' || (keep && strchr(keep, c)))
            *o++ = (char)c;
        else if (c == ' ' && form)
            *o++ = '+';
        else {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    *o = '\0';
    return out;
}

char *afb_pct_encode(apr_pool_t *p, const char *in, int form)
{
    return pct_encode(p, in, NULL, form);
}

char *afb_pct_encode_path(apr_pool_t *p, const char *in)
{
    return pct_encode(p, in, "/", 0);
}

/* ---- outbound transports --------------------------------------------------------------- */

int afb_url_is_https(const char *url)
{
    return url != NULL && strncasecmp(url, "https://", 8) == 0;
}

static int host_is_loopback(const char *host)
{
    unsigned char a[16];
    static const unsigned char v6_loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0,
                                                  0, 0, 0, 0, 0, 0, 0, 1};
    if (strcasecmp(host, "localhost") == 0)
        return 1;
    if (inet_pton(AF_INET, host, a) == 1)
        return a[0] == 127;
    return inet_pton(AF_INET6, host, a) == 1 && memcmp(a, v6_loopback, 16) == 0;
}

int afb_url_transport_ok(apr_pool_t *p, const char *url)
{
    apr_uri_t uri;
    if (afb_url_is_https(url))
        return 1;
    if (url == NULL || strncasecmp(url, "http://", 7) != 0)
        return 0;
    if (apr_uri_parse(p, url, &uri) != APR_SUCCESS || uri.hostname == NULL)
        return 0;
    return host_is_loopback(uri.hostname);
}
