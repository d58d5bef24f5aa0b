/* The provider types: the table that maps each TYPE word of AuthFallbackProvider to the
 * type's ops (afb_registry.h), the directive that declares a provider, and what is done for
 * every provider whatever its type. Adding a type: one afb_prov_TYPE.c and one line in
 * afb_types below (docs/architecture.md, "Adding a provider type"). */
#include <apr_strings.h>
#include <apr_file_info.h>
#include <http_core.h>

#include "afb_registry.h"

APLOG_USE_MODULE(auth_fallback);

extern const afb_provider_ops_t afb_prov_oidc;
extern const afb_provider_ops_t afb_prov_password;
extern const afb_provider_ops_t afb_prov_totp;
extern const afb_provider_ops_t afb_prov_radius;
extern const afb_provider_ops_t afb_prov_httpmfa;
extern const afb_provider_ops_t afb_prov_webauthn;
extern const afb_provider_ops_t afb_prov_ldap;

static const afb_provider_ops_t *const afb_types[] = {
    &afb_prov_oidc,
    &afb_prov_password,
    &afb_prov_totp,
    &afb_prov_radius,
    &afb_prov_httpmfa,
    &afb_prov_webauthn,
    &afb_prov_ldap,
    NULL
};

static const afb_provider_ops_t *afb_registry_lookup(const char *type)
{
    int i;
    for (i = 0; afb_types[i]; i++)
        if (!strcasecmp(afb_types[i]->type, type))
            return afb_types[i];
    return NULL;
}

afb_handler_fn *afb_registry_endpoint(const char *name)
{
    int i;
    for (i = 0; afb_types[i]; i++)
        if (afb_types[i]->endpoint && !strcmp(afb_types[i]->endpoint, name))
            return afb_types[i]->handler;
    return NULL;
}

void afb_registry_child_init(afb_module_t *mod, apr_pool_t *pchild, afb_http_t *http)
{
    int i;
    for (i = 0; i < mod->all->nelts; i++) {
        afb_provider_t *prov = APR_ARRAY_IDX(mod->all, i, afb_provider_t *);
        if (prov->ops->child_init)
            prov->ops->child_init(prov, pchild, http);
    }
}

/* Keys naming a file that holds a secret: refused when others may read it, as the key is. */
static int afb_is_secret_key(const char *key)
{
    apr_size_t n = strlen(key);
    return !strcasecmp(key, "client_secret_file") || !strcasecmp(key, "secret_file") ||
           (n > 14 && !strcasecmp(key + n - 14, "_password_file"));
}

typedef struct {
    apr_pool_t *p;
    const char *name;
    const char *err;
} afb_secret_check_t;

static int afb_secret_key_cb(void *baton, const char *key, const char *val)
{
    afb_secret_check_t *c = baton;
    apr_finfo_t fi;
    const char *path;
    if (!afb_is_secret_key(key))
        return 1;
    path = ap_server_root_relative(c->p, val);
    if (path && apr_stat(&fi, path, APR_FINFO_PROT, c->p) == APR_SUCCESS &&
        (fi.protection & APR_FPROT_WREAD))
        c->err = apr_psprintf(c->p, "provider %s: secret file %s (%s=) is readable by "
                              "others; chmod o-rwx it", c->name, path, key);
    return c->err == NULL;
}

static const char *afb_check_secret_files(apr_pool_t *p, const afb_provider_conf_t *pc)
{
    afb_secret_check_t c = {p, pc->name, NULL};
    apr_table_do(afb_secret_key_cb, &c, pc->params, NULL);
    return c.err;
}

const char *afb_cmd_provider(cmd_parms *cmd, void *dc, const char *args)
{
    apr_array_header_t *words = apr_array_make(cmd->temp_pool, 8, sizeof(const char *));
    afb_module_t *mod = afb_module(cmd->server);
    afb_provider_t *prov;
    int i;
    const char *w, *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);
    (void)dc;
    if (err)
        return err;
    while (*(w = ap_getword_conf(cmd->pool, &args)))
        APR_ARRAY_PUSH(words, const char *) = w;
    if (words->nelts < 3)
        return afb_cmd_err(cmd, "expected NAME TYPE ARG [key=value ...]");
    prov = apr_pcalloc(cmd->pool, sizeof(*prov));
    err = afb_provider_parse(cmd->pool, &prov->conf, APR_ARRAY_IDX(words, 0, const char *),
                             APR_ARRAY_IDX(words, 1, const char *),
                             APR_ARRAY_IDX(words, 2, const char *), words->nelts - 3,
                             (const char *const *)words->elts + 3);
    if (err || (err = afb_check_secret_files(cmd->temp_pool, &prov->conf)))
        return afb_cmd_err(cmd, "%s", err);
    for (i = 0; i < mod->all->nelts; i++)
        if (!strcmp(APR_ARRAY_IDX(mod->all, i, afb_provider_t *)->conf.name,
                    prov->conf.name))
            return afb_cmd_err(cmd, "provider '%s' is already declared (at %s)", prov->conf.name,
                               APR_ARRAY_IDX(mod->all, i, afb_provider_t *)->declared_at);
    prov->health_idx = -1;
    prov->declared_at = apr_psprintf(cmd->pool, "%s:%d", cmd->directive->filename,
                                     cmd->directive->line_num);
    prov->ops = afb_registry_lookup(afb_provider_type_name(prov->conf.type));
    if (!prov->ops)
        return afb_cmd_err(cmd, "provider %s: no adapter for type %s", prov->conf.name,
                           APR_ARRAY_IDX(words, 1, const char *));
    if ((err = prov->ops->configure(prov, cmd->pool, cmd->temp_pool)))
        return afb_cmd_err(cmd, "provider %s: %s", prov->conf.name, err);
    afb_provider_add(cmd, prov, prov->conf.name);
    return NULL;
}
