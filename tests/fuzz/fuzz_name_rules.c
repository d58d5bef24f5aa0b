/* The name rules (authfb/names.h). Byte 0 picks the rules: bit 0 names=caseless, bit 1
 * realms=corp.example,CORP, bits 2-3 user_form= (as-is, short, @corp.example); the rest is a
 * name as typed or returned. An accepted name is valid UTF-8 with no white space at either
 * end and no control character, no longer than AFB_NAME_MAX; normalizing it again changes
 * nothing; its key is its own key (folding is idempotent), and under realms= the short name
 * holds no '@' or '\'. A name for a log is printable UTF-8 of at most AFB_NAME_LOG_MAX
 * characters. */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#include "harness.h"
#include "authfb/names.h"

static afb_names_t rules_for(apr_pool_t *p, uint8_t pick)
{
    static const char *const forms[] = {"as-is", "short", "@corp.example", "as-is"};
    afb_names_t r;

    memset(&r, 0, sizeof(r));
    if (afb_names_parse_key(p, &r, "names=", "names", pick & 1 ? "caseless" : "exact") ||
        ((pick & 2) && afb_names_parse_key(p, &r, "realms=", "realms", "corp.example,CORP")) ||
        afb_names_parse_key(p, &r, "user_form=", "user_form", forms[(pick >> 2) & 3]))
        abort();
    return r;
}

/* Valid UTF-8; at most max code points; *controls set when one is a control or a space at
 * either end. */
static size_t check_utf8(const char *s, size_t max, int *edge_space, int *controls)
{
    size_t n = strlen(s), i = 0, cps = 0;
    utf8proc_int32_t c = 0;

    *edge_space = 0;
    *controls = 0;
    while (i < n) {
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
                                              (utf8proc_ssize_t)(n - i), &c);
        if (k <= 0 || ++cps > max)
            abort();
        if (utf8proc_category(c) == UTF8PROC_CATEGORY_CC)
            *controls = 1;
        if ((i == 0 || i + (size_t)k == n) &&
            (utf8proc_category(c) == UTF8PROC_CATEGORY_ZS || c == ' '))
            *edge_space = 1;
        i += (size_t)k;
    }
    return cps;
}

static void check_accepted(apr_pool_t *p, const afb_names_t *r, const afb_name_t *n)
{
    const char *again = NULL;
    afb_name_t m;
    int edge, ctl;

    if (strlen(n->normal) > AFB_NAME_MAX || strlen(n->key) > AFB_NAME_MAX)
        abort();
    check_utf8(n->normal, AFB_NAME_MAX, &edge, &ctl);
    if (edge || ctl)
        abort();
    if (afb_name_normalize(p, n->normal, &again) != AFB_OK || strcmp(again, n->normal) != 0)
        abort();
    if (afb_names_apply(p, r, n->normal, &m) != AFB_OK || strcmp(m.key, n->key) != 0)
        abort();
    if (r->mode == AFB_NAMES_CASELESS &&
        (afb_name_fold(p, n->key, &again) != AFB_OK || strcmp(again, n->key) != 0))
        abort();
    if (r->realms && (strchr(n->shortn, '@') || strchr(n->shortn, '\\')))
        abort();
    if (afb_names_user(p, r, n->normal) == NULL)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    afb_names_t r;
    afb_name_t n;
    const char *in, *logged;
    int edge, ctl;

    if (size < 1)
        return 0;
    p = afb_fuzz_pool();
    r = rules_for(p, data[0]);
    in = afb_fuzz_cstr(p, data + 1, size - 1);
    if (afb_names_apply(p, &r, in, &n) == AFB_OK)
        check_accepted(p, &r, &n);
    logged = afb_name_for_log(p, in);
    check_utf8(logged, AFB_NAME_LOG_MAX * 8, &edge, &ctl);
    if (ctl || strlen(logged) > AFB_NAME_LOG_MAX * 8)
        abort();
    apr_pool_destroy(p);
    return 0;
}
