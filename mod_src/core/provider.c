/* Provider declarations: `AuthFallbackProvider NAME TYPE ARG key=value ...`.
 * Each type has an ARG check and a list of keys; every type also takes the health-check
 * keys interval=, timeout=, fall=, rise= and depends=, and the name rules names=, realms=
 * and user_form= (authfb/names.h): a new type gets them by being in the table. Keys are matched case-insensitively (as
 * httpd's own key=value parameters); a word naming an unknown key, a repeated key or a
 * value out of range is refused with a message naming the word. */
#include "authfb/provider.h"
#include "authfb/util.h"
#include "authfb/webauthn.h"
#include "authfb/ldap.h"

#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>

#define AFB_PROV_NAME_MAX 32
#define AFB_DURATION_MAX (apr_time_from_sec(3600))

/* Checks one value; may replace *val with its canonical form. NULL when fine. */
typedef const char *afb_key_check_fn(apr_pool_t *p, afb_provider_conf_t *out,
                                     const char *word, const char **val);

typedef struct {
    const char *key;
    const char *dflt;        /* stored in params when the key is absent; NULL: none */
    int required;
    afb_key_check_fn *check; /* NULL: any non-empty value */
} key_spec_t;

typedef struct {
    const char *name;
    afb_provider_type_t type;
    const char *(*check_arg)(apr_pool_t *p, const char *arg);
    const key_spec_t *keys;
    afb_names_mode_t names; /* names= when not given: exact for stores, caseless for
                             * directories (which compare names so themselves) */
} type_spec_t;

/* ---- small parsers -------------------------------------------------------------- */

/* Decimal digits only (no sign, no space), at most max. */
static int parse_bounded(const char *s, apr_int64_t max, apr_int64_t *out)
{
    apr_int64_t v = 0;

    if (*s == '\0')
        return 0;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return 0;
        if (v > (max - (*s - '0')) / 10)
            return 0;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return 1;
}

/* "3" (seconds) or "1500ms"; up to max microseconds. */
static int parse_duration(const char *s, apr_interval_time_t max, apr_interval_time_t *out)
{
    size_t n = strlen(s);
    apr_int64_t v;
    char digits[24];

    if (n > 2 && strcmp(s + n - 2, "ms") == 0) {
        if (n - 2 >= sizeof(digits))
            return 0;
        memcpy(digits, s, n - 2);
        digits[n - 2] = '\0';
        if (!parse_bounded(digits, max / 1000, &v))
            return 0;
        *out = v * 1000;
        return 1;
    }
    if (!parse_bounded(s, max / APR_USEC_PER_SEC, &v))
        return 0;
    *out = apr_time_from_sec(v);
    return 1;
}

/* ---- key checks ----------------------------------------------------------------- */

static const char *check_health_duration(apr_pool_t *p, const char *word, const char *val,
                                         apr_interval_time_t *field)
{
    apr_interval_time_t d;

    if (!parse_duration(val, AFB_DURATION_MAX, &d) || d <= 0)
        return apr_psprintf(p, "%s: must be a duration above 0 and up to 1 hour "
                               "(seconds, or milliseconds with ms: 3, 1500ms)", word);
    *field = d;
    return NULL;
}

static const char *check_count(apr_pool_t *p, const char *word, const char *val, int lo,
                               int hi, int *field)
{
    apr_int64_t v;

    if (!parse_bounded(val, hi, &v) || v < lo)
        return apr_psprintf(p, "%s: must be an integer from %d to %d", word, lo, hi);
    *field = (int)v;
    return NULL;
}

static const char *check_interval(apr_pool_t *p, afb_provider_conf_t *out, const char *word,
                                  const char **val)
{
    return check_health_duration(p, word, *val, &out->interval);
}

static const char *check_timeout(apr_pool_t *p, afb_provider_conf_t *out, const char *word,
                                 const char **val)
{
    return check_health_duration(p, word, *val, &out->timeout);
}

static const char *check_fall(apr_pool_t *p, afb_provider_conf_t *out, const char *word,
                              const char **val)
{
    return check_count(p, word, *val, 1, 100, &out->fall);
}

static const char *check_rise(apr_pool_t *p, afb_provider_conf_t *out, const char *word,
                              const char **val)
{
    return check_count(p, word, *val, 1, 100, &out->rise);
}

static const char *check_window(apr_pool_t *p, afb_provider_conf_t *out, const char *word,
                                const char **val)
{
    return check_count(p, word, *val, 0, 10, &out->window);
}

static const char *check_max_age(apr_pool_t *p, afb_provider_conf_t *out, const char *word,
                                 const char **val)
{
    apr_int64_t v;

    /* Seconds; 0 means no limit. Capped at ten years to stay far from overflow. */
    if (!parse_bounded(*val, 10LL * 366 * 86400, &v))
        return apr_psprintf(p, "%s: must be a number of seconds (0 = no limit)", word);
    out->max_age = apr_time_from_sec(v);
    return NULL;
}

/* max_delete=N or N%: users a new copy of a store may remove; 0 turns the guard off. */
static const char *check_max_delete(apr_pool_t *p, afb_provider_conf_t *out, const char *word,
                                    const char **val)
{
    const char *v = *val;
    size_t len = strlen(v);
    char digits[16];
    apr_int64_t n;
    int pct = len > 0 && v[len - 1] == '%';

    if (pct)
        len--;
    if (len == 0 || len >= sizeof(digits))
        return apr_psprintf(p, "%s: must be a number of users, or a percentage such as 10%% "
                            "(0 = off)", word);
    memcpy(digits, v, len);
    digits[len] = '\0';
    if (!parse_bounded(digits, pct ? 100 : 100000000, &n))
        return apr_psprintf(p, "%s: must be a number of users, or a percentage such as 10%% "
                            "(0 = off)", word);
    out->max_delete = (long)n;
    out->max_delete_pct = pct;
    return NULL;
}

int afb_store_guard_holds(const afb_provider_conf_t *pc, int before, int removed)
{
    long limit;

    if (pc->max_delete <= 0 || removed <= 0)
        return 0;
    limit = pc->max_delete_pct ? (long)((apr_int64_t)before * pc->max_delete / 100)
                               : pc->max_delete;
    return removed > limit;
}

static const char *check_token_auth(apr_pool_t *p, afb_provider_conf_t *out,
                                    const char *word, const char **val)
{
    (void)out;
    if (strcasecmp(*val, "client_secret_basic") == 0)
        *val = "client_secret_basic";
    else if (strcasecmp(*val, "client_secret_post") == 0)
        *val = "client_secret_post";
    else
        return apr_psprintf(p, "%s: must be client_secret_basic or client_secret_post",
                            word);
    return NULL;
}

static const char *check_on_off(apr_pool_t *p, afb_provider_conf_t *out, const char *word,
                                const char **val)
{
    (void)out;
    if (strcasecmp(*val, "on") == 0)
        *val = "on";
    else if (strcasecmp(*val, "off") == 0)
        *val = "off";
    else
        return apr_psprintf(p, "%s: must be on or off", word);
    return NULL;
}

static const char *check_claim_list(apr_pool_t *p, afb_provider_conf_t *out,
                                    const char *word, const char **val)
{
    const char *s = *val;
    int empty = 1;

    (void)out;
    for (; *s != '\0'; s++) {
        if (*s == ',') {
            if (empty)
                break;
            empty = 1;
        } else if (apr_isspace(*s)) {
            break;
        } else {
            empty = 0;
        }
    }
    if (*s != '\0' || empty)
        return apr_psprintf(p, "%s: must be claim names separated by commas", word);
    return NULL;
}

/* NAME[,NAME]: provider names, at most AFB_PROV_MAX_DEPENDS, each once. Whether they are
 * declared, and that they form no cycle, is checked once every provider is known
 * (afb_provider_depends_check). */
static const char *check_depends(apr_pool_t *p, afb_provider_conf_t *out, const char *word,
                                 const char **val)
{
    char *list = apr_pstrdup(p, *val), *last = NULL, *name;
    int i;

    out->depends = apr_array_make(p, 2, sizeof(const char *));
    for (name = apr_strtok(list, ",", &last); name; name = apr_strtok(NULL, ",", &last)) {
        if (!afb_provider_name_valid(name))
            return apr_psprintf(p, "%s: '%s' is not a provider name", word, name);
        for (i = 0; i < out->depends->nelts; i++)
            if (strcmp(APR_ARRAY_IDX(out->depends, i, const char *), name) == 0)
                return apr_psprintf(p, "%s: '%s' is named twice", word, name);
        if (out->depends->nelts >= AFB_PROV_MAX_DEPENDS)
            return apr_psprintf(p, "%s: at most %d providers", word, AFB_PROV_MAX_DEPENDS);
        APR_ARRAY_PUSH(out->depends, const char *) = name;
    }
    if (out->depends->nelts == 0 || (*val)[strlen(*val) - 1] == ',' || **val == ',' ||
        strstr(*val, ",,") != NULL)
        return apr_psprintf(p, "%s: expected NAME[,NAME]", word);
    return NULL;
}

/* names=, realms=, user_form=: one parser for every type (authfb/names.h). */
static const char *check_name_rule(apr_pool_t *p, afb_provider_conf_t *out, const char *word,
                                   const char **val)
{
    const char *eq = strchr(word, '=');

    return afb_names_parse_key(p, &out->names, word,
                               apr_pstrmemdup(p, word, (size_t)(eq - word)), *val);
}

/* ---- ARG checks ----------------------------------------------------------------- */

static int is_http_url(const char *s)
{
    size_t skip;

    if (strncasecmp(s, "https://", 8) == 0)
        skip = 8;
    else if (strncasecmp(s, "http://", 7) == 0)
        skip = 7;
    else
        return 0;
    s += skip;
    return *s != '\0' && *s != '/' && *s != '?' && *s != '#';
}

#define AFB_CLEARTEXT_REFUSED "http:// is cleartext: anyone on the path could forge the " \
    "answers; use https:// (http:// is accepted only to a loopback address)"

static const char *check_url_arg(apr_pool_t *p, const char *arg)
{
    if (!is_http_url(arg))
        return apr_psprintf(p, "'%s': must be an http:// or https:// URL", arg);
    if (!afb_url_transport_ok(p, arg))
        return apr_psprintf(p, "'%s': %s", arg, AFB_CLEARTEXT_REFUSED);
    return NULL;
}

/* "ldaps://dc1 ldaps://dc2": 1..AFB_LDAP_MAX_URLS directory URLs. Whether a plain ldap://
 * URL is allowed depends on starttls=, checked when the client is created. */
static const char *check_ldap_arg(apr_pool_t *p, const char *arg)
{
    int n = 0, i;
    const char *const *urls = afb_ldap_url_split(p, arg, &n);
    const char *why = NULL;

    if (n == 0 || n > AFB_LDAP_MAX_URLS)
        return apr_psprintf(p, "'%s': expected 1 to %d ldaps:// or ldap:// URLs, separated by "
                               "spaces (quote the list)", arg, AFB_LDAP_MAX_URLS);
    for (i = 0; i < n; i++)   /* the form of each URL here; plain ldap:// later */
        if (afb_ldap_url_check(p, urls[i], strncasecmp(urls[i], "ldap://", 7) == 0, &why)
            != AFB_OK)
            return why;
    return NULL;
}

static const char *check_ldap_filter(apr_pool_t *p, afb_provider_conf_t *out, const char *word,
                                     const char **val)
{
    const char *why = NULL;

    (void)out;
    if (afb_ldap_filter_check(*val, &why) != AFB_OK)
        return apr_psprintf(p, "%s: %s", word, why);
    return NULL;
}

static const char *check_path_arg(apr_pool_t *p, const char *arg)
{
    (void)p;
    if (*arg == '\0')
        return "the file path (ARG) must not be empty";
    return NULL;
}

static int host_chars_ok(const char *s, size_t n, const char *allowed)
{
    size_t i;

    if (n == 0)
        return 0;
    for (i = 0; i < n; i++)
        if (!apr_isalnum(s[i]) && strchr(allowed, s[i]) == NULL)
            return 0;
    return 1;
}

/* The inside of [...]: hex digits, ':' and '.' (IPv4-mapped), with at least one ':'. */
static int ipv6_chars_ok(const char *s, size_t n)
{
    size_t i;
    int colons = 0;

    for (i = 0; i < n; i++) {
        if (s[i] == ':')
            colons++;
        else if (!apr_isxdigit(s[i]) && s[i] != '.')
            return 0;
    }
    return colons > 0;
}

/* HOST:PORT, IPv6 as [addr]:PORT, port 1..65535. */
static int host_port_ok(const char *s)
{
    const char *colon;
    apr_int64_t port;

    if (*s == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || close[1] != ':' || !ipv6_chars_ok(s + 1, (size_t)(close - s - 1)))
            return 0;
        colon = close + 1;
    } else {
        colon = strchr(s, ':');
        if (colon == NULL || !host_chars_ok(s, (size_t)(colon - s), ".-_"))
            return 0;
    }
    return parse_bounded(colon + 1, 65535, &port) && port >= 1;
}

static const char *check_hostport_arg(apr_pool_t *p, const char *arg)
{
    if (!host_port_ok(arg))
        return apr_psprintf(p, "'%s': expected HOST:PORT with a port from 1 to 65535 "
                               "(IPv6 as [addr]:port)", arg);
    return NULL;
}

static const char *check_url_key(apr_pool_t *p, afb_provider_conf_t *out, const char *word,
                                 const char **val)
{
    (void)out;
    if (!is_http_url(*val))
        return apr_psprintf(p, "%s: must be an http:// or https:// URL", word);
    if (!afb_url_transport_ok(p, *val))
        return apr_psprintf(p, "%s: %s", word, AFB_CLEARTEXT_REFUSED);
    return NULL;
}

/* ---- the tables ----------------------------------------------------------------- */

/* Keys every type takes (parsed into the conf, not kept in params). */
static const key_spec_t health_keys[] = {
    { "interval", NULL, 0, check_interval },
    { "timeout", NULL, 0, check_timeout },
    { "fall", NULL, 0, check_fall },
    { "rise", NULL, 0, check_rise },
    { "depends", NULL, 0, check_depends },
    { "names", NULL, 0, check_name_rule },
    { "realms", NULL, 0, check_name_rule },
    { "user_form", NULL, 0, check_name_rule },
    { NULL, NULL, 0, NULL }
};

static const key_spec_t oidc_keys[] = {
    { "client_id", NULL, 1, NULL },
    { "client_secret_file", NULL, 0, NULL },
    { "scope", "openid", 0, NULL },
    { "user_claim", "sub", 0, NULL },
    { "token_auth", "client_secret_basic", 0, check_token_auth },
    { "ca_file", NULL, 0, NULL },
    { "claims_env", NULL, 0, check_claim_list },
    { "redirect_uri", NULL, 0, check_url_key },
    { "logout", "on", 0, check_on_off },
    { NULL, NULL, 0, NULL }
};

static const key_spec_t password_keys[] = {
    { "max_age", "0", 0, check_max_age },
    { "max_delete", "500", 0, check_max_delete },
    { NULL, NULL, 0, NULL }
};

static const key_spec_t totp_keys[] = {
    { "window", "1", 0, check_window },
    { "max_delete", "500", 0, check_max_delete },
    { "enroll", "off", 0, check_on_off },
    { NULL, NULL, 0, NULL }
};

/* A host name (no scheme, port or path): letters, digits, '.', '-'. */
static const char *check_rp_id(apr_pool_t *p, afb_provider_conf_t *out, const char *word,
                               const char **val)
{
    (void)out;
    if (!host_chars_ok(*val, strlen(*val), ".-") || strlen(*val) > 253)
        return apr_psprintf(p, "%s: must be a host name (e.g. sso.example.com)", word);
    return NULL;
}

static const char *check_origins(apr_pool_t *p, afb_provider_conf_t *out, const char *word,
                                 const char **val)
{
    afb_wa_rp_t rp;
    const char *why = NULL;

    (void)out;
    if (afb_wa_origins_parse(p, *val, &rp, &why) != AFB_OK)
        return apr_psprintf(p, "%s: %s", word, why);
    return NULL;
}

static const char *check_uv(apr_pool_t *p, afb_provider_conf_t *out, const char *word,
                            const char **val)
{
    afb_wa_uv_t uv;

    (void)out;
    if (afb_wa_uv_parse(*val, &uv) != AFB_OK)
        return apr_psprintf(p, "%s: must be required, preferred or discouraged", word);
    return NULL;
}

static const key_spec_t webauthn_keys[] = {
    { "rp_id", NULL, 0, check_rp_id },
    { "origins", NULL, 0, check_origins },
    { "user_verification", "required", 0, check_uv },
    { NULL, NULL, 0, NULL }
};

static const key_spec_t radius_keys[] = {
    { "secret_file", NULL, 1, NULL },
    { "nas_identifier", NULL, 0, NULL },
    { "require_message_authenticator", "on", 0, check_on_off },
    { NULL, NULL, 0, NULL }
};

static const key_spec_t http_mfa_keys[] = {
    { "health_url", NULL, 0, check_url_key },
    { "ca_file", NULL, 0, NULL },
    { "realm", NULL, 0, NULL },
    { NULL, NULL, 0, NULL }
};

static const key_spec_t ldap_keys[] = {
    { "base", NULL, 1, NULL },
    { "filter", AFB_LDAP_DEFAULT_FILTER, 0, check_ldap_filter },
    { "bind_dn", NULL, 0, NULL },
    { "bind_password_file", NULL, 0, NULL },
    { "user_attr", NULL, 0, NULL },
    { "ca_file", NULL, 0, NULL },
    { "starttls", "off", 0, check_on_off },
    { NULL, NULL, 0, NULL }
};

static const type_spec_t types[] = {
    { "oidc", AFB_PROV_OIDC, check_url_arg, oidc_keys, AFB_NAMES_EXACT },
    { "password", AFB_PROV_PASSWORD, check_path_arg, password_keys, AFB_NAMES_EXACT },
    { "totp", AFB_PROV_TOTP, check_path_arg, totp_keys, AFB_NAMES_EXACT },
    { "radius", AFB_PROV_RADIUS, check_hostport_arg, radius_keys, AFB_NAMES_EXACT },
    { "http-mfa", AFB_PROV_HTTP_MFA, check_url_arg, http_mfa_keys, AFB_NAMES_EXACT },
    { "webauthn", AFB_PROV_WEBAUTHN, check_path_arg, webauthn_keys, AFB_NAMES_EXACT },
    /* a directory matches names without case: so do its throttle counters */
    { "ldap", AFB_PROV_LDAP, check_ldap_arg, ldap_keys, AFB_NAMES_CASELESS },
    { NULL, AFB_PROV_OIDC, NULL, NULL, AFB_NAMES_EXACT }
};

static const type_spec_t *type_by_name(const char *name)
{
    const type_spec_t *t;

    for (t = types; t->name != NULL; t++)
        if (strcasecmp(t->name, name) == 0)
            return t;
    return NULL;
}

static const type_spec_t *type_by_id(afb_provider_type_t id)
{
    const type_spec_t *t;

    for (t = types; t->name != NULL; t++)
        if (t->type == id)
            return t;
    return NULL;
}

static const key_spec_t *key_find(const key_spec_t *keys, const char *key)
{
    for (; keys->key != NULL; keys++)
        if (strcasecmp(keys->key, key) == 0)
            return keys;
    return NULL;
}

/* ---- public --------------------------------------------------------------------- */

const char *afb_provider_type_name(afb_provider_type_t t)
{
    const type_spec_t *spec = type_by_id(t);

    return spec != NULL ? spec->name : "unknown";
}

int afb_provider_is_first_factor(afb_provider_type_t t)
{
    return t == AFB_PROV_OIDC || t == AFB_PROV_PASSWORD || t == AFB_PROV_WEBAUTHN
           || t == AFB_PROV_LDAP;
}

int afb_provider_is_mfa(afb_provider_type_t t)
{
    return t == AFB_PROV_RADIUS || t == AFB_PROV_HTTP_MFA || t == AFB_PROV_TOTP
           || t == AFB_PROV_WEBAUTHN;
}

int afb_provider_name_valid(const char *name)
{
    size_t n;

    if (name == NULL)
        return 0;
    n = strlen(name);
    return n <= AFB_PROV_NAME_MAX && host_chars_ok(name, n, "_.-");
}

static int has_control_chars(const char *s)
{
    for (; *s != '\0'; s++)
        if (apr_iscntrl(*s))
            return 1;
    return 0;
}

/* One key=value word: split, look up, check for repeats, validate and store. */
static const char *parse_word(apr_pool_t *p, afb_provider_conf_t *out,
                              const type_spec_t *type, apr_table_t *seen, const char *word)
{
    const char *eq = strchr(word, '=');
    const key_spec_t *spec;
    const char *key, *val, *err;
    int health = 1;

    if (eq == NULL || eq == word)
        return apr_psprintf(p, "'%s': expected key=value", word);
    key = apr_pstrmemdup(p, word, (size_t)(eq - word));
    val = eq + 1;
    spec = key_find(health_keys, key);
    if (spec == NULL) {
        health = 0;
        spec = key_find(type->keys, key);
    }
    if (spec == NULL)
        return apr_psprintf(p, "unknown key '%s' for type %s", key, type->name);
    if (apr_table_get(seen, spec->key) != NULL)
        return apr_psprintf(p, "%s: key '%s' given more than once", word, spec->key);
    apr_table_setn(seen, spec->key, "1");
    if (*val == '\0' || has_control_chars(val))
        return apr_psprintf(p, "%s: the value must be non-empty and printable", word);
    if (spec->check != NULL && (err = spec->check(p, out, word, &val)) != NULL)
        return err;
    if (!health)
        apr_table_setn(out->params, spec->key, val);
    return NULL;
}

/* Defaults for the keys not given, and the keys a type cannot do without. */
static const char *parse_finish(apr_pool_t *p, afb_provider_conf_t *out,
                                const type_spec_t *type)
{
    const key_spec_t *k;

    for (k = type->keys; k->key != NULL; k++) {
        if (apr_table_get(out->params, k->key) != NULL)
            continue;
        if (k->required)
            return apr_psprintf(p, "type %s requires %s=", type->name, k->key);
        if (k->dflt != NULL)
            apr_table_setn(out->params, k->key, k->dflt);
    }
    return NULL;
}

static void conf_init(apr_pool_t *p, afb_provider_conf_t *out, const char *name,
                      const type_spec_t *type, const char *arg)
{
    memset(out, 0, sizeof(*out));
    out->name = apr_pstrdup(p, name);
    out->type = type->type;
    out->arg = apr_pstrdup(p, arg);
    out->interval = apr_time_from_sec(3);
    out->timeout = apr_time_from_sec(2);
    out->fall = 2;
    out->rise = 2;
    out->params = apr_table_make(p, 8);
    out->max_age = 0;
    out->window = 1;
    out->max_delete = 500;
    out->names.mode = type->names;
}

const char *afb_provider_parse(apr_pool_t *p, afb_provider_conf_t *out, const char *name,
                               const char *type, const char *arg, int nkv,
                               const char *const *kv)
{
    const type_spec_t *spec;
    apr_table_t *seen;
    const char *err;
    int i;

    if (!afb_provider_name_valid(name))
        return apr_psprintf(p, "invalid provider name '%s' (1-32 of A-Z a-z 0-9 _ . -)",
                            name != NULL ? name : "");
    spec = type != NULL ? type_by_name(type) : NULL;
    if (spec == NULL)
        return apr_psprintf(p, "unknown provider type '%s' (expected oidc, password, ldap, "
                               "totp, radius or http-mfa)", type != NULL ? type : "");
    if (arg == NULL)
        return apr_psprintf(p, "provider %s: missing the %s argument", name, spec->name);
    if ((err = spec->check_arg(p, arg)) != NULL)
        return err;
    conf_init(p, out, name, spec, arg);
    seen = apr_table_make(p, 8);
    for (i = 0; i < nkv && kv != NULL; i++) {
        if (kv[i] == NULL)
            return "missing key=value word";
        if ((err = parse_word(p, out, spec, seen, kv[i])) != NULL)
            return err;
    }
    return parse_finish(p, out, spec);
}

static const afb_provider_conf_t *conf_find(const afb_provider_conf_t *const *all, int n,
                                            const char *name)
{
    int i;

    for (i = 0; i < n; i++)
        if (strcmp(all[i]->name, name) == 0)
            return all[i];
    return NULL;
}

/* Depth-first search from `at`; path[0..depth) is the way here. A cycle is a name met again
 * on the current way. */
static const char *cycle_from(apr_pool_t *p, const afb_provider_conf_t *const *all, int n,
                              const afb_provider_conf_t *at, const char **path, int depth)
{
    const char *err;
    int i, k;

    for (k = 0; k < depth; k++) {
        if (strcmp(path[k], at->name) == 0) {
            const char *way = path[k];
            for (i = k + 1; i < depth; i++)
                way = apr_pstrcat(p, way, " -> ", path[i], NULL);
            return apr_psprintf(p, "depends= forms a cycle: %s -> %s", way, at->name);
        }
    }
    if (depth > n || at->depends == NULL)
        return NULL;
    path[depth] = at->name;
    for (i = 0; i < at->depends->nelts; i++) {
        const afb_provider_conf_t *next = conf_find(all, n, APR_ARRAY_IDX(at->depends, i,
                                                                          const char *));
        if (next != NULL && (err = cycle_from(p, all, n, next, path, depth + 1)) != NULL)
            return err;
    }
    return NULL;
}

const char *afb_provider_depends_check(apr_pool_t *p, const afb_provider_conf_t *const *all,
                                       int n)
{
    const char **path = apr_pcalloc(p, sizeof(char *) * (apr_size_t)(n + 2));
    const char *err;
    int i, k;

    for (i = 0; i < n; i++) {
        for (k = 0; all[i]->depends != NULL && k < all[i]->depends->nelts; k++) {
            const char *name = APR_ARRAY_IDX(all[i]->depends, k, const char *);
            if (conf_find(all, n, name) == NULL)
                return apr_psprintf(p, "provider %s: depends=%s: no provider of that name is "
                                       "declared", all[i]->name, name);
        }
    }
    for (i = 0; i < n; i++)
        if ((err = cycle_from(p, all, n, all[i], path, 0)) != NULL)
            return apr_psprintf(p, "provider %s: %s", all[i]->name, err);
    return NULL;
}
