/* The operator's override file (AuthFallbackOverrideFile). */
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "authfb/override.h"

static const char *const known[] = { "ldap", "local", "oidc", "radius" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = afb_fuzz_pool();
    afb_override_list_t *l = NULL;
    afb_status_t st;
    int i;

    st = afb_override_parse(p, (const char *)data, size, (size & 1) ? known : NULL,
                            (size & 1) ? 4 : 0, &l);

    if (st == AFB_OK || st == AFB_EINVAL) {
        if (l == NULL || l->entries == NULL || l->warnings == NULL)
            abort();
        for (i = 0; i < l->entries->nelts; i++) {
            const afb_override_entry_t *e = &APR_ARRAY_IDX(l->entries, i, afb_override_entry_t);

            if (memchr(e->name, '\0', sizeof(e->name)) == NULL || e->name[0] == '\0')
                abort();
        }
        (void)afb_override_lookup(l, "ldap");
    }
    apr_pool_destroy(p);
    return 0;
}
