/* Provider declarations (`AuthFallbackProvider NAME TYPE ARG key=value ...`,
 * docs/directives.md): parsing and validation of the words, independent of httpd. */
#ifndef AUTHFB_PROVIDER_H
#define AUTHFB_PROVIDER_H

#include "authfb/common.h"
#include "authfb/names.h"
#include <apr_tables.h>

typedef enum {
    AFB_PROV_OIDC = 0,
    AFB_PROV_PASSWORD,
    AFB_PROV_TOTP,
    AFB_PROV_RADIUS,
    AFB_PROV_HTTP_MFA,
    AFB_PROV_WEBAUTHN,
    AFB_PROV_LDAP
} afb_provider_type_t;

typedef struct {
    const char *name;
    afb_provider_type_t type;
    const char *arg;               /* discovery URL, file path, HOST:PORT, URL or URL list */
    /* health-check keys, every type */
    apr_interval_time_t interval;  /* default 3 s */
    apr_interval_time_t timeout;   /* default 2 s */
    int fall;                      /* default 2 */
    int rise;                      /* default 2 */
    apr_array_header_t *depends;   /* depends=NAME[,NAME]: const char *; NULL when absent */
    /* name rules, every type (names=, realms=, user_form=; authfb/names.h) */
    afb_names_t names;
    /* type-specific keys, validated against the type's list; values as given */
    apr_table_t *params;
    /* parsed forms of common type-specific keys */
    apr_interval_time_t max_age;   /* password: 0 = no limit */
    int window;                    /* totp: default 1 */
    long max_delete;               /* password, totp: deletion guard, default 500, 0 = off */
    int max_delete_pct;            /* 1: max_delete is a percentage of the users in memory */
} afb_provider_conf_t;

/* The deletion guard (max_delete=): 1 when a new copy of a store that removes `removed` of the
 * `before` users of the copy in memory must be held back. Off when max_delete is 0. */
int afb_store_guard_holds(const afb_provider_conf_t *pc, int before, int removed);

const char *afb_provider_type_name(afb_provider_type_t t);
int afb_provider_is_first_factor(afb_provider_type_t t); /* oidc, password, webauthn, ldap */
int afb_provider_is_mfa(afb_provider_type_t t);  /* radius, http-mfa, totp, webauthn */

/* Names: 1..32 of [A-Za-z0-9_.-]. */
int afb_provider_name_valid(const char *name);

/* Parse the words after the directive name. On error returns a message naming the word
 * and the reason (e.g. "unknown key 'foo' for type password", "fall=0: must be 1..100");
 * NULL on success. Files named by keys are not opened here. */
const char *afb_provider_parse(apr_pool_t *p, afb_provider_conf_t *out, const char *name,
                               const char *type, const char *arg, int nkv,
                               const char *const *kv);

/* depends= across every declaration: each name is declared and there is no cycle (a
 * provider depending on itself included). NULL when fine, else a message naming the
 * provider and the cycle ("provider a: depends= forms a cycle: a -> b -> a"). */
#define AFB_PROV_MAX_DEPENDS 8
const char *afb_provider_depends_check(apr_pool_t *p, const afb_provider_conf_t *const *all,
                                       int n);

#endif
