/* The provider types (afb_registry.c): the one place that names them all. A new type is
 * one afb_prov_TYPE.c defining its afb_provider_ops_t, and one line in the table there
 * (docs/architecture.md, "Adding a provider type"). */
#ifndef AFB_REGISTRY_H
#define AFB_REGISTRY_H

#include "afb_provider.h"

/* AuthFallbackProvider NAME TYPE ARG [key=value ...] (the hub's command table). */
const char *afb_cmd_provider(cmd_parms *cmd, void *dc, const char *args);

/* Every provider's per-process set-up, after the fork. */
void afb_registry_child_init(afb_module_t *mod, apr_pool_t *pchild, afb_http_t *http);

/* The handler of a type's own URL under the endpoint ("callback"), or NULL. */
typedef int afb_handler_fn(request_rec *r);
afb_handler_fn *afb_registry_endpoint(const char *name);

#endif
