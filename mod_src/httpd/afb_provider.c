/* The rules every provider type shares (afb_provider.h). */
#include "afb_provider.h"
#include "afb_filestore.h"
#include "afb_health.h"

APLOG_USE_MODULE(auth_fallback);

int afb_provider_has(const afb_provider_t *prov, unsigned role)
{
    return prov && (prov->ops->roles & role) != 0;
}

int afb_provider_has_store(const afb_provider_t *prov)
{
    return prov->ops->store != NULL;
}

int afb_provider_enrolled(const afb_provider_t *prov, apr_pool_t *p, const char *user)
{
    return !prov->ops->enrolled || prov->ops->enrolled(prov, p, user);
}

int afb_provider_usable(const afb_provider_t *prov, apr_pool_t *p, const char *user)
{
    return !afb_health_is_down(prov) && afb_provider_enrolled(prov, p, user);
}

afb_status_t afb_provider_verdict(afb_status_t st, int accepted)
{
    if (st == AFB_OK)
        return accepted ? AFB_OK : AFB_EMISMATCH;
    return st == AFB_ERR ? AFB_EIO : st;
}

const char *afb_provider_store_configure(afb_provider_t *prov, apr_pool_t *pconf,
                                         apr_pool_t *ptemp)
{
    afb_filestore_t *fs;
    prov->conf.arg = ap_server_root_relative(pconf, prov->conf.arg);
    fs = afb_filestore_create(pconf, prov, prov->ops->store);
    prov->runtime = fs;
    return afb_filestore_load_initial(fs, ptemp);
}

void afb_provider_store_child_init(afb_provider_t *prov, apr_pool_t *pchild, afb_http_t *http)
{
    (void)http;
    afb_filestore_child_init(prov->filestore, pchild);
}

void afb_provider_stores_post_config(afb_module_t *mod, apr_pool_t *pconf, server_rec *s)
{
    const char *dir = afb_filestore_keep_dir(pconf, s);
    int i;
    for (i = 0; i < mod->all->nelts; i++) {
        afb_provider_t *prov = APR_ARRAY_IDX(mod->all, i, afb_provider_t *);
        if (afb_provider_has_store(prov) && prov->filestore)
            afb_filestore_post_config(prov->filestore, dir, pconf);
    }
}

int afb_provider_store_ready(const afb_provider_t *prov)
{
    return afb_filestore_usable(prov->filestore);
}
