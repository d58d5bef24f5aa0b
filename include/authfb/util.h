/* Small pure helpers: encodings, constant-time compare, input sanitizers. */
#ifndef AUTHFB_UTIL_H
#define AUTHFB_UTIL_H

#include "authfb/common.h"
#include <apr_tables.h>

/* Constant-time equality of two equal-length buffers: 1 when equal. */
int afb_ct_equal(const void *a, const void *b, size_t len);
/* Constant-time equality of two strings (time depends only on the lengths). */
int afb_ct_streq(const char *a, const char *b);

/* Cryptographically secure random bytes (OpenSSL RAND_bytes). */
afb_status_t afb_random(unsigned char *buf, size_t len) AFB_MUST_CHECK;
/* nbytes random bytes as unpadded base64url text, or NULL on RNG failure. */
const char *afb_random_token(apr_pool_t *p, size_t nbytes);

/* RFC 4648 base64url without padding. Decoding is strict: any character outside the
 * alphabet, padding, or a impossible length gives AFB_EINVAL. */
char *afb_b64url_encode(apr_pool_t *p, const unsigned char *in, size_t len);
afb_status_t afb_b64url_decode(apr_pool_t *p, const char *in, size_t inlen,
                               unsigned char **out, size_t *outlen) AFB_MUST_CHECK;

/* The `return=` rule (docs/directives.md, "URLs the module serves"): a local absolute path
 * on the same host (starts with one '/', no scheme, no "//", no backslash, no control
 * characters, after percent-decoding too). Anything else becomes "/". Never returns NULL. */
const char *afb_return_sanitize(apr_pool_t *p, const char *in);

/* The transport rule for the module's outbound URLs (OpenID Provider, http-mfa): 1 for an
 * https:// URL, or an http:// URL whose host is a loopback address (127.0.0.0/8, ::1,
 * "localhost"); 0 for any other http:// URL (cleartext: anyone on the path could forge ID
 * tokens or answer "accepted") and anything that is not an http(s) URL. */
int afb_url_transport_ok(apr_pool_t *p, const char *url);
/* 1 for an https:// URL. */
int afb_url_is_https(const char *url);

/* Header names compared case-insensitively with '-' and '_' alike: 1 when equal. */
int afb_header_name_eq(const char *a, const char *b);
/* 1 when an incoming header must be removed before the request goes on: it equals
 * user_header (may be NULL) or starts with "X-Auth-Fallback-" (same folding rules). */
int afb_header_is_reserved(const char *name, const char *user_header);

/* application/x-www-form-urlencoded body into a table. Malformed escapes, NUL bytes,
 * more than max_fields fields or a repeated name give AFB_EINVAL. */
afb_status_t afb_form_parse(apr_pool_t *p, const char *body, size_t len, int max_fields,
                            apr_table_t **out) AFB_MUST_CHECK;

/* Cuts the next line (without its \n or \r\n) out of a writable buffer ending at `end`,
 * NUL-terminating it in place: NULL, or why the line is refused ("line too long" over max
 * bytes, "NUL byte in line"). *cursor moves past the line either way. */
const char *afb_next_line(char **cursor, char *end, size_t max, char **line);

/* The records a store parser left out: how many, and the first AFB_SKIPS_NOTES_MAX reasons
 * as "line N: reason" (a line number and a reason, never the content of the line). */
#define AFB_SKIPS_NOTES_MAX 20
typedef struct {
    int count;
    apr_array_header_t *notes; /* const char *; NULL until the first skip */
} afb_skips_t;
void afb_skips_add(apr_pool_t *p, afb_skips_t *sk, int lineno, const char *why);
/* "no usable record (N skipped; first: line L: reason)" for a store that has none left. */
const char *afb_skips_none_usable(apr_pool_t *p, const afb_skips_t *sk);

/* The line loop of the line-oriented stores: every line of buf..end (writable; cut in place)
 * that is neither blank nor a '#' comment goes to fn, which returns NULL or why the line is
 * refused (a refusal is also a line over max bytes or with a NUL byte). With skips, a refused
 * line is recorded there ("line N: WHY", by number, never the line's content) and the loop
 * goes on: one bad record never spoils the others. Without (NULL), the first refusal ends
 * the loop: AFB_EINVAL with *err "line N: WHY". */
typedef const char *afb_line_fn(void *baton, char *line);
afb_status_t afb_lines_each(apr_pool_t *p, char *buf, char *end, size_t max, afb_line_fn *fn,
                            void *baton, afb_skips_t *skips, const char **err) AFB_MUST_CHECK;

/* Big-endian 64-bit integers in the fixed binary records (cookies, cache entries). */
void afb_be64_put(unsigned char out[8], uint64_t v);
uint64_t afb_be64_get(const unsigned char in[8]);

/* Zero len bytes at buf when the pool is cleared or destroyed: secrets kept in pool memory. */
void afb_cleanse_on_cleanup(apr_pool_t *p, void *buf, size_t len);

/* Length of the valid UTF-8 sequence at s[0..n) (n >= 1), or 0 when it is invalid (overlong,
 * surrogate, above U+10FFFF, truncated or a stray continuation byte). */
size_t afb_utf8_seq_len(const unsigned char *s, size_t n);

/* RFC 3986 percent-encoding: unreserved characters stay, everything else is %XX; form=1
 * writes ' ' as '+' (application/x-www-form-urlencoded). */
char *afb_pct_encode(apr_pool_t *p, const char *in, int form);
/* The same for a local path in a query value (return=): '/' stays as it is. */
char *afb_pct_encode_path(apr_pool_t *p, const char *in);

/* At most max bytes of s[0..n) for a message (configtest, the error log): every byte that is
 * not printable ASCII becomes '?'. */
char *afb_shown(apr_pool_t *p, const char *s, size_t n, size_t max);

/* HTML-escape & < > " ' for safe inclusion in pages. */
char *afb_html_escape(apr_pool_t *p, const char *in);

/* A duration as in httpd's timeout= parameters: "3" (seconds), "1500ms". Rejects negative,
 * empty, trailing garbage and overflow. */
afb_status_t afb_parse_duration(const char *s, apr_interval_time_t *out) AFB_MUST_CHECK;
/* A non-negative decimal integer with an upper bound; no sign, no garbage. */
afb_status_t afb_parse_uint(const char *s, long max, long *out) AFB_MUST_CHECK;

/* A deletion guard, as both the module's max_delete= and afb-phs-sync's --max-delete take it:
 * "500" (at most 500 entries may go in one change) or "10%" (at most that share of the
 * entries there were before; 0-100). "0" and "0%" turn the guard off. */
#define AFB_MAX_DELETE_DEFAULT "500"
typedef struct {
    long count;      /* the bound: an absolute number, or a percentage when percent is set */
    int percent;
} afb_delete_limit_t;
afb_status_t afb_parse_delete_limit(const char *s, afb_delete_limit_t *out) AFB_MUST_CHECK;
/* 1 when removing `removed` of `before` entries goes over the limit. */
int afb_delete_limit_exceeded(const afb_delete_limit_t *l, long removed, long before);

#endif
