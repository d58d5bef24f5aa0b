/* An Active Directory export as afb-phs-sync reads it (smbpasswd or pwdump lines). Byte 0
 * picks the name options (bit 0 keep the domain, bit 1 lower case); the rest is the export.
 * Every entry must come out with a usable store name; building the store from them must give
 * a store that parses with one entry per account. */
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "authfb/phsync.h"

static void check_entries(apr_pool_t *p, const apr_array_header_t *entries)
{
    afb_phs_stats_t st;
    afb_pwstore_t *s = NULL;
    const char *text = NULL, *err = NULL;

    for (int i = 0; i < entries->nelts; i++) {
        const afb_phs_entry_t *e = APR_ARRAY_IDX(entries, i, const afb_phs_entry_t *);
        size_t n = strlen(e->user);
        if (n == 0 || n > AFB_PHS_MAX_USER || strchr(e->user, ':') || e->user[n - 1] == '$')
            abort();
    }
    if (entries->nelts > 4)
        return; /* each entry costs a PBKDF2: build small exports only */
    memset(&st, 0, sizeof(st));
    if (afb_phs_build(p, entries, NULL, 1000, &text, &st) != AFB_OK)
        abort();
    if (afb_pwstore_parse(p, text, strlen(text), &s, NULL, &err) != AFB_OK
        || afb_pwstore_count(s) != entries->nelts || st.added != entries->nelts)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = afb_fuzz_pool();
    afb_phs_opts_t o = { 0, 0, NULL };
    apr_array_header_t *entries = NULL;
    afb_phs_stats_t st;
    const char *err = NULL;
    afb_status_t rc;

    if (size > 0) {
        o.keep_domain = data[0] & 1;
        o.lowercase = (data[0] >> 1) & 1;
        data++;
        size--;
    }
    memset(&st, 0, sizeof(st));
    rc = afb_phs_read_export(p, (const char *)data, size, &o, &entries, &st, &err);
    if (rc == AFB_OK)
        check_entries(p, entries);
    else if (rc == AFB_EINVAL && (err == NULL || strncmp(err, "line ", 5) != 0))
        abort();
    else if (rc != AFB_EINVAL && rc != AFB_ENOENT)
        abort();
    apr_pool_destroy(p);
    return 0;
}
