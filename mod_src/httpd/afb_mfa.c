/* Remote second factors (radius, http-mfa) in httpd. */
#include <apr_strings.h>

#include "afb_httpd.h"
#include "afb_endpoints.h"

APLOG_USE_MODULE(auth_fallback);

afb_status_t afb_mfa_health_probe(afb_provider_t *prov, apr_pool_t *p, const char **reason)
{
    (void)prov;
    (void)p;
    *reason = "remote MFA providers are not probed yet";
    return AFB_ERR;
}
