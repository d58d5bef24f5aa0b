/* What the directory sends back and the module reads: a bind answer (result code, diagnostic
 * message, ppolicy error) and an attribute value used as REMOTE_USER; and what goes out: a
 * typed name placed in the filter. Byte 0 picks the result code, byte 1 the ppolicy error,
 * the rest is the diagnostic message, the value and the name.
 * Contract (ldap.h): AFB_OK only with AFB_LDAP_R_NONE; AFB_ENOENT / AFB_EMISMATCH only with
 * the person's reasons; AFB_EIO / AFB_ETIMEOUT only with the infrastructure's; an escaped
 * name holds none of * ( ) NUL and no backslash that does not start a \XX escape. */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include "harness.h"
#include "authfb/ldap.h"

static const int codes[] = {0, 1, 2, 3, 8, 13, 32, 49, 50, 51, 52, 53, 80, -1, -5, -7, -11};

static int person_reason(afb_ldap_reason_t w)
{
    return w >= AFB_LDAP_R_UNKNOWN_USER && w <= AFB_LDAP_R_BAD_VALUE;
}

static void check_classification(afb_status_t st, afb_ldap_reason_t why)
{
    if (st == AFB_OK && why != AFB_LDAP_R_NONE)
        abort();
    if ((st == AFB_ENOENT || st == AFB_EMISMATCH) && !person_reason(why))
        abort();
    if (afb_ldap_is_infra(st) && (why < AFB_LDAP_R_TIMEOUT || why > AFB_LDAP_R_DIRECTORY))
        abort();
    if (st != AFB_OK && st != AFB_ENOENT && st != AFB_EMISMATCH && !afb_ldap_is_infra(st))
        abort();
    if ((st == AFB_ETIMEOUT) != (why == AFB_LDAP_R_TIMEOUT))
        abort();
}

static void check_escaped(const char *e)
{
    size_t i;

    for (i = 0; e[i]; i++) {
        if (e[i] == '*' || e[i] == '(' || e[i] == ')')
            abort();
        if (e[i] == '\\' && (!strchr("0123456789abcdef", e[i + 1]) || e[i + 1] == '\0'
                             || !strchr("0123456789abcdef", e[i + 2]) || e[i + 2] == '\0'))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *text, *esc;
    afb_ldap_reason_t why = AFB_LDAP_R_INTERNAL, sub;
    afb_status_t st;
    size_t len;
    int rc, pp;

    if (size < 2)
        return 0;
    p = afb_fuzz_pool();
    rc = codes[data[0] % (sizeof(codes) / sizeof(codes[0]))];
    pp = (int)(data[1] % 5) - 1;        /* none, expired, locked, reset, and one unknown */
    text = (const char *)data + 2;
    len = size - 2;
    st = afb_ldap_classify_bind(rc, text, len, pp, &why);
    check_classification(st, why);
    sub = afb_ldap_ad_subcode(text, len);
    if (sub != AFB_LDAP_R_NONE && !person_reason(sub))
        abort();
    if (afb_ldap_value_check(text, len) == AFB_OK && (len == 0 || memchr(text, 0, len)))
        abort();
    esc = afb_ldap_filter_escape(p, text, len);
    check_escaped(esc);
    if (strcmp(afb_ldap_filter_build(p, "(uid=%u)", text, len),
               apr_pstrcat(p, "(uid=", esc, ")", NULL)) != 0)
        abort();
    if (afb_ldap_name_check(text, len) == AFB_OK
        && (len == 0 || len > AFB_LDAP_MAX_USER || memchr(text, 0, len)))
        abort();
    apr_pool_destroy(p);
    return 0;
}
