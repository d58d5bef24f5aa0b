/* The pure half of the directory path: filter templates and RFC 4515 escaping, the checks on
 * names, values and URLs, and the classification of what a directory answers. No network. */
#include "authfb/ldap.h"
#include "authfb/util.h"

#include <string.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <apr_network_io.h>
#include <arpa/inet.h>
#include <strings.h>

/* LDAP result codes (RFC 4511 4.1.9) and libldap's client codes, as numbers: this file does
 * not need ldap.h. */
enum {
    RC_SUCCESS = 0, RC_TIME_LIMIT = 3, RC_STRONG_AUTH = 8, RC_CONFIDENTIALITY = 13,
    RC_NO_SUCH_OBJECT = 32, RC_INVALID_CREDENTIALS = 49, RC_INSUFFICIENT_ACCESS = 50,
    RC_BUSY = 51, RC_UNAVAILABLE = 52, RC_UNWILLING = 53,
    RC_SERVER_DOWN = -1, RC_TIMEOUT = -5, RC_CONNECT_ERROR = -11
};

int afb_ldap_is_infra(afb_status_t st)
{
    return st == AFB_EIO || st == AFB_ETIMEOUT;
}

const char *afb_ldap_reason_name(afb_ldap_reason_t why)
{
    switch (why) {
    case AFB_LDAP_R_NONE: return "ok";
    case AFB_LDAP_R_UNKNOWN_USER: return "unknown_user";
    case AFB_LDAP_R_AMBIGUOUS: return "ambiguous_user";
    case AFB_LDAP_R_BAD_PASSWORD: return "bad_password";
    case AFB_LDAP_R_TIME_RESTRICTION: return "time_restriction";
    case AFB_LDAP_R_WORKSTATION: return "workstation_restriction";
    case AFB_LDAP_R_PASSWORD_EXPIRED: return "password_expired";
    case AFB_LDAP_R_DISABLED: return "account_disabled";
    case AFB_LDAP_R_ACCOUNT_EXPIRED: return "account_expired";
    case AFB_LDAP_R_MUST_CHANGE: return "must_change_password";
    case AFB_LDAP_R_LOCKED: return "locked";
    case AFB_LDAP_R_BAD_VALUE: return "bad_user_attribute";
    case AFB_LDAP_R_TIMEOUT: return "timeout";
    case AFB_LDAP_R_UNREACHABLE: return "unreachable";
    case AFB_LDAP_R_UNTRUSTED_CERT: return "untrusted_certificate";
    case AFB_LDAP_R_TLS: return "tls_failure";
    case AFB_LDAP_R_BUSY: return "busy";
    case AFB_LDAP_R_UNAVAILABLE: return "unavailable";
    case AFB_LDAP_R_SERVICE_BIND: return "service_bind_refused";
    case AFB_LDAP_R_SEARCH: return "search_failed";
    case AFB_LDAP_R_DIRECTORY: return "directory_error";
    case AFB_LDAP_R_INTERNAL: return "internal_error";
    }
    return "unknown";
}

/* ---- filters --------------------------------------------------------------------------- */

static int needs_escape(unsigned char c)
{
    return c == '*' || c == '(' || c == ')' || c == '\\' || c < 0x20 || c >= 0x7F;
}

const char *afb_ldap_filter_escape(apr_pool_t *p, const char *in, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    char *out = apr_palloc(p, len * 3 + 1), *o = out;
    size_t i;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (needs_escape(c)) {
            *o++ = '\\';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 0x0F];
        } else {
            *o++ = (char)c;
        }
    }
    *o = '\0';
    return out;
}

afb_status_t afb_ldap_filter_check(const char *tmpl, const char **reason)
{
    int depth = 0, has_user = 0;
    const char *s;

    if (tmpl == NULL || tmpl[0] != '(') {
        *reason = "a filter starts with '('";
        return AFB_EINVAL;
    }
    for (s = tmpl; *s; s++) {
        if (*s == '%') {
            if (s[1] != 'u' && s[1] != '%') {
                *reason = "only %u (the typed name) and %% may follow '%' in a filter";
                return AFB_EINVAL;
            }
            has_user |= s[1] == 'u';
            s++;
        } else if (*s == '(' || *s == ')') {
            depth += *s == '(' ? 1 : -1;
            if (depth < 0 || (depth == 0 && s[1] != '\0'))
                break;
        } else if ((unsigned char)*s < 0x20) {
            *reason = "control character in the filter";
            return AFB_EINVAL;
        }
    }
    if (depth != 0 || *s != '\0') {
        *reason = "unbalanced parentheses in the filter";
        return AFB_EINVAL;
    }
    if (!has_user) {
        *reason = "the filter does not use %u";
        return AFB_EINVAL;
    }
    return AFB_OK;
}

const char *afb_ldap_filter_build(apr_pool_t *p, const char *tmpl, const char *user,
                                  size_t len)
{
    const char *esc = afb_ldap_filter_escape(p, user, len);
    size_t n = 0, elen = strlen(esc);
    const char *s;
    char *out, *o;

    for (s = tmpl; *s; s++, n++) {
        if (*s == '%' && (s[1] == 'u' || s[1] == '%'))
            n += s[1] == 'u' ? elen : 0, s++;
    }
    out = o = apr_palloc(p, n + 1);
    for (s = tmpl; *s; s++) {
        if (*s == '%' && s[1] == 'u') {
            memcpy(o, esc, elen);
            o += elen;
            s++;
        } else {
            *o++ = *s;
            s += *s == '%' && s[1] == '%';
        }
    }
    *o = '\0';
    return out;
}

/* ---- names and values ------------------------------------------------------------------ */

/* 1 when s[0..len) is valid UTF-8 without control characters (C0, DEL). */
static int clean_utf8(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, n;

    while (i < len) {
        if (u[i] < 0x20 || u[i] == 0x7F)
            return 0;
        n = afb_utf8_seq_len(u + i, len - i);
        if (n == 0)
            return 0;
        i += n;
    }
    return 1;
}

afb_status_t afb_ldap_name_check(const char *user, size_t len)
{
    if (user == NULL || len == 0 || len > AFB_LDAP_MAX_USER || !clean_utf8(user, len))
        return AFB_ENOENT;
    return AFB_OK;
}

afb_status_t afb_ldap_value_check(const char *v, size_t len)
{
    if (v == NULL || len == 0 || len > AFB_LDAP_MAX_VALUE || !clean_utf8(v, len))
        return AFB_EINVAL;
    return AFB_OK;
}

/* ---- URLs ------------------------------------------------------------------------------ */

static int host_is_loopback(const char *host)
{
    unsigned char a[16];
    static const unsigned char v6_loopback[16] = {[15] = 1};

    if (strcasecmp(host, "localhost") == 0)
        return 1;
    if (inet_pton(AF_INET, host, a) == 1)
        return a[0] == 127;
    return inet_pton(AF_INET6, host, a) == 1 && memcmp(a, v6_loopback, 16) == 0;
}

/* host[:port] with nothing after it; *host is the name without brackets. */
static afb_status_t split_hostport(apr_pool_t *p, const char *hp, const char **host)
{
    char *h = NULL, *scope = NULL;
    apr_port_t port = 0;

    if (*hp == '\0' || strpbrk(hp, "/?#@ ") != NULL)
        return AFB_EINVAL;
    if (apr_parse_addr_port(&h, &scope, &port, hp, p) != APR_SUCCESS || h == NULL
        || scope != NULL)
        return AFB_EINVAL;
    *host = h;
    return AFB_OK;
}

afb_status_t afb_ldap_url_check(apr_pool_t *p, const char *url, int starttls,
                                const char **reason)
{
    const char *rest, *host;
    size_t n = strlen(url);
    int tls = strncasecmp(url, "ldaps://", 8) == 0;

    if (!tls && strncasecmp(url, "ldap://", 7) != 0) {
        *reason = apr_psprintf(p, "%s: only ldaps:// and ldap:// URLs", url);
        return AFB_EINVAL;
    }
    rest = apr_pstrndup(p, url + (tls ? 8 : 7), n - (tls ? 8 : 7));
    if (n > 0 && url[n - 1] == '/')
        rest = apr_pstrndup(p, rest, strlen(rest) - 1);
    if (split_hostport(p, rest, &host) != AFB_OK) {
        *reason = apr_psprintf(p, "%s: expected ldaps://HOST[:PORT] (no DN, filter or "
                               "credentials in the URL)", url);
        return AFB_EINVAL;
    }
    if (!tls && !starttls && !host_is_loopback(host)) {
        *reason = apr_psprintf(p, "%s: plain ldap:// sends passwords in clear; use ldaps:// "
                               "or starttls=on (plain is allowed to loopback only)", url);
        return AFB_EINVAL;
    }
    if (tls && starttls) {
        *reason = apr_psprintf(p, "%s: starttls=on is for ldap:// URLs", url);
        return AFB_EINVAL;
    }
    return AFB_OK;
}

const char *const *afb_ldap_url_split(apr_pool_t *p, const char *arg, int *n)
{
    apr_array_header_t *urls = apr_array_make(p, 2, sizeof(const char *));
    char *copy = apr_pstrdup(p, arg), *last = NULL, *w;

    for (w = apr_strtok(copy, " \t", &last); w != NULL; w = apr_strtok(NULL, " \t", &last))
        APR_ARRAY_PUSH(urls, const char *) = w;
    *n = urls->nelts;
    APR_ARRAY_PUSH(urls, const char *) = NULL;
    return (const char *const *)urls->elts;
}

/* ---- what the directory answers ---------------------------------------------------------- */

static const struct {
    const char *code;
    afb_ldap_reason_t why;
} ad_codes[] = {
    {"525", AFB_LDAP_R_UNKNOWN_USER},     {"52e", AFB_LDAP_R_BAD_PASSWORD},
    {"530", AFB_LDAP_R_TIME_RESTRICTION}, {"531", AFB_LDAP_R_WORKSTATION},
    {"532", AFB_LDAP_R_PASSWORD_EXPIRED}, {"533", AFB_LDAP_R_DISABLED},
    {"701", AFB_LDAP_R_ACCOUNT_EXPIRED},  {"773", AFB_LDAP_R_MUST_CHANGE},
    {"775", AFB_LDAP_R_LOCKED},
};

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* The hex word after "data " at s: up to 8 digits, lower-cased into out[9]. */
static int ad_word(const char *s, size_t left, char out[9])
{
    size_t i = 0;

    while (i < left && i < 8 && is_hex(s[i])) {
        out[i] = (char)(s[i] >= 'A' && s[i] <= 'F' ? s[i] - 'A' + 'a' : s[i]);
        i++;
    }
    out[i] = '\0';
    return i > 0 && (i == left || !is_hex(s[i]));
}

afb_ldap_reason_t afb_ldap_ad_subcode(const char *diag, size_t len)
{
    char word[9];
    size_t i, k;

    if (diag == NULL)
        return AFB_LDAP_R_NONE;
    if (len > AFB_LDAP_MAX_DIAG)
        len = AFB_LDAP_MAX_DIAG;
    for (i = 0; i + 5 <= len; i++) {
        if (memcmp(diag + i, "data ", 5) != 0 || (i > 0 && diag[i - 1] != ' '
                                                   && diag[i - 1] != ','))
            continue;
        if (!ad_word(diag + i + 5, len - i - 5, word))
            return AFB_LDAP_R_NONE;
        for (k = 0; k < sizeof(ad_codes) / sizeof(ad_codes[0]); k++)
            if (strcmp(word, ad_codes[k].code) == 0)
                return ad_codes[k].why;
        return AFB_LDAP_R_NONE;
    }
    return AFB_LDAP_R_NONE;
}

static afb_ldap_reason_t pp_reason(int pp)
{
    switch (pp) {
    case AFB_LDAP_PP_PASSWORD_EXPIRED: return AFB_LDAP_R_PASSWORD_EXPIRED;
    case AFB_LDAP_PP_ACCOUNT_LOCKED: return AFB_LDAP_R_LOCKED;
    case AFB_LDAP_PP_CHANGE_AFTER_RESET: return AFB_LDAP_R_MUST_CHANGE;
    default: return AFB_LDAP_R_NONE;
    }
}

afb_status_t afb_ldap_classify_infra(int rc, afb_ldap_reason_t *why)
{
    switch (rc) {
    case RC_TIMEOUT:
    case RC_TIME_LIMIT:
        *why = AFB_LDAP_R_TIMEOUT;
        return AFB_ETIMEOUT;
    case RC_SERVER_DOWN:
    case RC_CONNECT_ERROR:
        *why = AFB_LDAP_R_UNREACHABLE;
        break;
    case RC_BUSY:
        *why = AFB_LDAP_R_BUSY;
        break;
    case RC_UNAVAILABLE:
    case RC_UNWILLING:
        *why = AFB_LDAP_R_UNAVAILABLE;
        break;
    case RC_STRONG_AUTH:
    case RC_CONFIDENTIALITY:
        *why = AFB_LDAP_R_TLS;
        break;
    default:
        *why = AFB_LDAP_R_DIRECTORY;
        break;
    }
    return AFB_EIO;
}

/* invalidCredentials: what the ppolicy control or the AD sub-code says, else a wrong
 * password. An AD "unknown user" (525) is a person's failure too. */
static afb_status_t classify_refusal(const char *diag, size_t diag_len, int pp,
                                     afb_ldap_reason_t *why)
{
    afb_ldap_reason_t r = pp_reason(pp);

    if (r == AFB_LDAP_R_NONE)
        r = afb_ldap_ad_subcode(diag, diag_len);
    *why = r == AFB_LDAP_R_NONE ? AFB_LDAP_R_BAD_PASSWORD : r;
    return *why == AFB_LDAP_R_UNKNOWN_USER ? AFB_ENOENT : AFB_EMISMATCH;
}

afb_status_t afb_ldap_classify_bind(int rc, const char *diag, size_t diag_len, int pp,
                                    afb_ldap_reason_t *why)
{
    switch (rc) {
    case RC_SUCCESS:
        /* ppolicy: a bind that succeeds after a reset only allows a password change. */
        *why = pp == AFB_LDAP_PP_CHANGE_AFTER_RESET ? AFB_LDAP_R_MUST_CHANGE : AFB_LDAP_R_NONE;
        return *why == AFB_LDAP_R_NONE ? AFB_OK : AFB_EMISMATCH;
    case RC_INVALID_CREDENTIALS:
        return classify_refusal(diag, diag_len, pp, why);
    case RC_INSUFFICIENT_ACCESS:
    case RC_UNWILLING:
        /* ppolicy and AD may refuse a locked or expired account with these codes */
        if (pp_reason(pp) != AFB_LDAP_R_NONE
            || afb_ldap_ad_subcode(diag, diag_len) != AFB_LDAP_R_NONE)
            return classify_refusal(diag, diag_len, pp, why);
        return afb_ldap_classify_infra(rc, why);
    case RC_NO_SUCH_OBJECT:
        /* the entry went between the search and the bind */
        *why = AFB_LDAP_R_UNKNOWN_USER;
        return AFB_ENOENT;
    default:
        return afb_ldap_classify_infra(rc, why);
    }
}
