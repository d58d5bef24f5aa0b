/* Configuration records, their create/merge functions and every directive handler.
 * Errors are returned from the handlers, so httpd reports them with the file and line:
 * "Syntax error on line N of FILE: AuthFallbackX: reason". */
#include <apr_strings.h>
#include <apr_file_info.h>
#include <apr_file_io.h>
#include <http_core.h>
#include <apr_lib.h>
#include <stdarg.h>
#include <errno.h>

#include "afb_httpd.h"
#include "authfb/file.h"
#include "authfb/log.h"
#include "authfb/util.h"
#include "afb_endpoints.h"
#include "afb_confcheck.h"
#include "afb_brand.h"

APLOG_USE_MODULE(auth_fallback);

static afb_server_conf_t *afb_main;

afb_server_conf_t *afb_main_conf(void)
{
    return afb_main;
}

void *afb_create_server_conf(apr_pool_t *p, server_rec *s)
{
    afb_server_conf_t *c = apr_pcalloc(p, sizeof(*c));
    c->providers = apr_hash_make(p);
    if (!s->is_virtual) {
        c->all = apr_array_make(p, 8, sizeof(afb_provider_t *));
        c->keyring = afb_keyring_create(p);
        c->endpoint = AFB_DEFAULT_ENDPOINT;
        c->cache_spec = "shmcb";
        c->cookie_name = AFB_DEFAULT_COOKIE;
        c->cookie_samesite = "Lax";
        c->cookie_secure = AFB_SECURE_AUTO;
        c->throttle_user = 5;
        c->throttle_client = 20;
        c->throttle_window = apr_time_from_sec(300);
        c->throttle_v4_prefix = 32;
        c->throttle_v6_prefix = 64;
        c->user_headers = apr_array_make(p, 2, sizeof(const char *));
        afb_main = c;
    }
    return c;
}

void *afb_merge_server_conf(apr_pool_t *p, void *basev, void *addv)
{
    afb_server_conf_t *base = basev, *add = addv;
    afb_server_conf_t *c = apr_pmemdup(p, add, sizeof(*c));
    c->providers = apr_hash_overlay(p, add->providers, base->providers);
    return c;
}

void *afb_create_dir_conf(apr_pool_t *p, char *dir)
{
    afb_dir_conf_t *c = apr_pcalloc(p, sizeof(*c));
    c->lifetime = 28800;
    c->fallback_lifetime = 3600;
    c->location = dir ? apr_pstrdup(p, dir) : "/";
    return c;
}

#define AFB_MERGE(f) c->f = add->f##_set ? add->f : base->f

void *afb_merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    afb_dir_conf_t *base = basev, *add = addv;
    afb_dir_conf_t *c = apr_pcalloc(p, sizeof(*c));
    c->chain = add->chain ? add->chain : base->chain;
    c->location = add->chain ? add->location : base->location;
    c->mfa_set = add->mfa_set || base->mfa_set;
    c->mfa = add->mfa_set ? add->mfa : base->mfa;
    c->mfa_allow_set = add->mfa_allow_set || base->mfa_allow_set;
    AFB_MERGE(mfa_allow);
    c->lifetime_set = add->lifetime_set || base->lifetime_set;
    c->lifetime = add->lifetime_set ? add->lifetime : base->lifetime;
    c->fallback_lifetime = add->lifetime_set ? add->fallback_lifetime : base->fallback_lifetime;
    c->outage_grace_set = add->outage_grace_set || base->outage_grace_set;
    AFB_MERGE(outage_grace);
    c->user_header_set = add->user_header_set || base->user_header_set;
    AFB_MERGE(user_header);
    return c;
}

static afb_server_conf_t *afb_sconf(server_rec *s)
{
    return ap_get_module_config(s->module_config, &auth_fallback_module);
}

afb_provider_t *afb_provider_find(server_rec *s, const char *name)
{
    afb_provider_t *prov = apr_hash_get(afb_sconf(s)->providers, name, APR_HASH_KEY_STRING);
    if (!prov && afb_main)
        prov = apr_hash_get(afb_main->providers, name, APR_HASH_KEY_STRING);
    return prov;
}

static const char *afb_err(cmd_parms *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static const char *afb_err(cmd_parms *cmd, const char *fmt, ...)
{
    va_list ap;
    const char *msg;
    va_start(ap, fmt);
    msg = apr_pvsprintf(cmd->pool, fmt, ap);
    va_end(ap);
    return apr_pstrcat(cmd->pool, cmd->cmd->name, ": ", msg, NULL);
}

/* ---- server-wide directives ---- */

static const char *afb_read_key_file(apr_pool_t *p, const char *path, unsigned char **buf,
                                     apr_size_t *len)
{
    apr_finfo_t fi;
    char *text = NULL;
    const char *why = NULL;
    afb_status_t st = afb_file_read(p, path, AFB_KEY_MAX_BYTES, &text, len, &fi, &why);
    if (st == AFB_EINVAL)
        return apr_psprintf(p, "key file %s is not a regular file", path);
    if (st == AFB_ETOOBIG)
        return apr_psprintf(p, "key file %s is too large (over %d bytes)", path,
                            AFB_KEY_MAX_BYTES);
    if (st != AFB_OK)
        return apr_psprintf(p, "cannot read key file %s: %s", path, why);
    *buf = (unsigned char *)text; /* the caller zeroes it, used or refused */
    if (fi.protection & APR_FPROT_WREAD)
        return apr_psprintf(p, "key file %s is world-readable; chmod o-rwx it", path);
    if (*len < AFB_KEY_MIN_BYTES)
        return apr_psprintf(p, "key file %s is too short: %ld bytes, at least %d needed",
                            path, (long)*len, AFB_KEY_MIN_BYTES);
    return NULL;
}

static const char *afb_cmd_key(cmd_parms *cmd, void *dc, const char *arg)
{
    unsigned char *buf = NULL;
    apr_size_t len = 0;
    const char *path, *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    (void)dc;
    if (err)
        return err;
    path = ap_server_root_relative(cmd->temp_pool, arg);
    if (!path)
        return afb_err(cmd, "invalid path %s", arg);
    err = afb_read_key_file(cmd->temp_pool, path, &buf, &len);
    if (!err && afb_keyring_add(afb_main->keyring, buf, len) != AFB_OK)
        err = apr_psprintf(cmd->temp_pool, "key file %s could not be used", path);
    if (buf)
        memset(buf, 0, len);
    return err ? afb_err(cmd, "%s", err) : NULL;
}

static const char *afb_cmd_endpoint(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    apr_size_t n = strlen(arg);
    (void)dc;
    if (err)
        return err;
    if (arg[0] != '/' || n < 2 || strchr(arg, '?') || strchr(arg, '#') || strstr(arg, "//"))
        return afb_err(cmd, "'%s' must be a URL path such as /auth-fallback", arg);
    afb_main->endpoint = arg[n - 1] == '/' ? apr_pstrndup(cmd->pool, arg, n - 1) : arg;
    return NULL;
}

static const char *afb_cmd_cache(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    (void)dc;
    if (err)
        return err;
    err = afb_cache_configure(afb_main, arg, cmd->temp_pool, cmd->pool);
    return err ? afb_err(cmd, "%s", err) : NULL;
}

static const char *afb_cmd_event_log(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    (void)dc;
    if (err)
        return err;
    if (arg[0] == '|')
        afb_main->event_log = arg;
    else if (!(afb_main->event_log = ap_server_root_relative(cmd->pool, arg)))
        return afb_err(cmd, "invalid path %s", arg);
    return NULL;
}

static const char *afb_cmd_override(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    (void)dc;
    if (err)
        return err;
    if (!(afb_main->override_file = ap_server_root_relative(cmd->pool, arg)))
        return afb_err(cmd, "invalid path %s", arg);
    return NULL;
}

static int afb_cookie_name_valid(const char *s)
{
    if (!*s || strlen(s) > 64)
        return 0;
    for (; *s; s++)
        if (!apr_isalnum(*s) && *s != '_' && *s != '-' && *s != '.')
            return 0;
    return 1;
}

static const char *afb_cmd_cookie(cmd_parms *cmd, void *dc, const char *word)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    const char *eq = strchr(word, '=');
    const char *val;
    (void)dc;
    if (err)
        return err;
    if (!eq)
        return afb_err(cmd, "'%s': expected key=value", word);
    val = eq + 1;
    if (!strncmp(word, "name=", 5) && afb_cookie_name_valid(val))
        afb_main->cookie_name = val;
    else if (!strncmp(word, "domain=", 7) && *val && !strpbrk(val, " ;,\t"))
        afb_main->cookie_domain = val;
    else if (!strncmp(word, "samesite=", 9) &&
             (!strcasecmp(val, "Lax") || !strcasecmp(val, "Strict") || !strcasecmp(val, "None")))
        afb_main->cookie_samesite = !strcasecmp(val, "Lax") ? "Lax"
                                    : !strcasecmp(val, "Strict") ? "Strict" : "None";
    else if (!strncmp(word, "secure=", 7) && !strcasecmp(val, "auto"))
        afb_main->cookie_secure = AFB_SECURE_AUTO;
    else if (!strncmp(word, "secure=", 7) && !strcasecmp(val, "on"))
        afb_main->cookie_secure = AFB_SECURE_ON;
    else if (!strncmp(word, "secure=", 7) && !strcasecmp(val, "off"))
        afb_main->cookie_secure = AFB_SECURE_OFF;
    else
        return afb_err(cmd, "invalid '%s' (name=, domain=, samesite=Lax|Strict|None, "
                       "secure=auto|on|off)", word);
    return NULL;
}

/* A secret file (client secret, RADIUS shared secret): trailing newlines and spaces are
 * dropped; empty or over AFB_SECRET_MAX_BYTES bytes is refused. */
const char *afb_read_secret_file(apr_pool_t *p, const char *path, const char **out,
                                 apr_size_t *outlen)
{
    char *buf = NULL;
    apr_size_t n = 0;
    const char *why = NULL;
    afb_status_t st = afb_file_read(p, path, AFB_SECRET_MAX_BYTES, &buf, &n, NULL, &why);
    if (st == AFB_ETOOBIG)
        return apr_psprintf(p, "%s is empty or too large", path);
    if (st != AFB_OK)
        return apr_psprintf(p, "cannot read %s: %s", path, why);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    if (n == 0 || n >= AFB_SECRET_MAX_BYTES)
        return apr_psprintf(p, "%s is empty or too large", path);
    *out = buf;
    if (outlen)
        *outlen = n;
    return NULL;
}

static const char *afb_cmd_throttle(cmd_parms *cmd, void *dc, const char *word)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    const char *eq = strchr(word, '=');
    long v = 0;
    (void)dc;
    if (err)
        return err;
    if (!eq || afb_parse_uint(eq + 1, 1000000, &v) != AFB_OK)
        return afb_err(cmd, "'%s': expected user=N, client=N, window=SECONDS, "
                       "ipv4_prefix=BITS or ipv6_prefix=BITS", word);
    if (!strncmp(word, "ipv4_prefix=", 12) && v >= 8 && v <= 32)
        afb_main->throttle_v4_prefix = (int)v;
    else if (!strncmp(word, "ipv6_prefix=", 12) && v >= 16 && v <= 128)
        afb_main->throttle_v6_prefix = (int)v;
    else if (!strncmp(word, "user=", 5))
        afb_main->throttle_user = (unsigned)v;
    else if (!strncmp(word, "client=", 7))
        afb_main->throttle_client = (unsigned)v;
    else if (!strncmp(word, "window=", 7) && v > 0)
        afb_main->throttle_window = apr_time_from_sec(v);
    else
        return afb_err(cmd, "'%s': expected user=N, client=N, window=SECONDS, "
                       "ipv4_prefix=8..32 or ipv6_prefix=16..128", word);
    return NULL;
}

/* ---- AuthFallbackProvider ---- */

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

static const char *afb_cmd_provider(cmd_parms *cmd, void *dc, const char *args)
{
    apr_array_header_t *words = apr_array_make(cmd->temp_pool, 8, sizeof(const char *));
    afb_server_conf_t *sc = afb_sconf(cmd->server);
    afb_provider_t *prov;
    int i;
    const char *w, *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);
    (void)dc;
    if (err)
        return err;
    while (*(w = ap_getword_conf(cmd->pool, &args)))
        APR_ARRAY_PUSH(words, const char *) = w;
    if (words->nelts < 3)
        return afb_err(cmd, "expected NAME TYPE ARG [key=value ...]");
    prov = apr_pcalloc(cmd->pool, sizeof(*prov));
    err = afb_provider_parse(cmd->pool, &prov->conf, APR_ARRAY_IDX(words, 0, const char *),
                             APR_ARRAY_IDX(words, 1, const char *),
                             APR_ARRAY_IDX(words, 2, const char *), words->nelts - 3,
                             (const char *const *)words->elts + 3);
    if (err || (err = afb_check_secret_files(cmd->temp_pool, &prov->conf)))
        return afb_err(cmd, "%s", err);
    for (i = 0; i < afb_main->all->nelts; i++)
        if (!strcmp(APR_ARRAY_IDX(afb_main->all, i, afb_provider_t *)->conf.name,
                    prov->conf.name))
            return afb_err(cmd, "provider '%s' is already declared (at %s)", prov->conf.name,
                           APR_ARRAY_IDX(afb_main->all, i, afb_provider_t *)->declared_at);
    prov->health_idx = -1;
    prov->declared_at = apr_psprintf(cmd->pool, "%s:%d", cmd->directive->filename,
                                     cmd->directive->line_num);
    if (prov->conf.type == AFB_PROV_PASSWORD || prov->conf.type == AFB_PROV_TOTP) {
        prov->conf.arg = ap_server_root_relative(cmd->pool, prov->conf.arg);
        prov->store = afb_filestore_create(cmd->pool, prov);
        if ((err = afb_filestore_load_initial(prov->store, cmd->temp_pool)))
            return afb_err(cmd, "provider %s: %s", prov->conf.name, err);
    }
    if (prov->conf.type == AFB_PROV_OIDC && (err = afb_oidc_configure(prov, cmd->pool,
                                                                      cmd->temp_pool)))
        return afb_err(cmd, "provider %s: %s", prov->conf.name, err);
    if ((prov->conf.type == AFB_PROV_RADIUS || prov->conf.type == AFB_PROV_HTTP_MFA) &&
        (err = afb_mfa_configure(prov, cmd->pool, cmd->temp_pool)))
        return afb_err(cmd, "provider %s: %s", prov->conf.name, err);
    apr_hash_set(sc->providers, prov->conf.name, APR_HASH_KEY_STRING, prov);
    APR_ARRAY_PUSH(afb_main->all, afb_provider_t *) = prov;
    return NULL;
}

/* ---- per-directory directives ---- */

static const char *afb_add_named(cmd_parms *cmd, apr_array_header_t **list, const char *name,
                                 int want_mfa)
{
    afb_provider_t *prov = afb_provider_find(cmd->server, name);
    int i;
    if (!prov)
        return afb_err(cmd, "unknown provider '%s' (declare it with AuthFallbackProvider "
                       "before this line)", name);
    if (want_mfa ? !afb_provider_is_mfa(prov->conf.type)
                 : !afb_provider_is_first_factor(prov->conf.type))
        return afb_err(cmd, "provider '%s' is of type %s, which cannot be used here",
                       name, afb_provider_type_name(prov->conf.type));
    if (!*list)
        *list = apr_array_make(cmd->pool, 4, sizeof(afb_provider_t *));
    for (i = 0; i < (*list)->nelts; i++)
        if (APR_ARRAY_IDX(*list, i, afb_provider_t *) == prov)
            return afb_err(cmd, "provider '%s' is listed twice", name);
    if ((*list)->nelts >= AFB_FLOW_MAX_MFA)
        return afb_err(cmd, "at most %d providers", AFB_FLOW_MAX_MFA);
    APR_ARRAY_PUSH(*list, afb_provider_t *) = prov;
    return NULL;
}

static const char *afb_cmd_chain(cmd_parms *cmd, void *dcv, const char *name)
{
    afb_dir_conf_t *dc = dcv;
    return afb_add_named(cmd, &dc->chain, name, 0);
}

static const char *afb_cmd_mfa(cmd_parms *cmd, void *dcv, const char *name)
{
    afb_dir_conf_t *dc = dcv;
    dc->mfa_set = 1;
    if (!strcasecmp(name, "none")) {
        if (dc->mfa && dc->mfa->nelts)
            return afb_err(cmd, "'none' cannot be combined with providers");
        dc->mfa = apr_array_make(cmd->pool, 1, sizeof(afb_provider_t *));
        dc->mfa_none = 1;
        return NULL;
    }
    if (dc->mfa_none)
        return afb_err(cmd, "'%s': 'none' cannot be combined with providers", name);
    return afb_add_named(cmd, &dc->mfa, name, 1);
}

static const char *afb_cmd_mfa_unavail(cmd_parms *cmd, void *dcv, const char *arg)
{
    afb_dir_conf_t *dc = dcv;
    if (strcasecmp(arg, "deny") && strcasecmp(arg, "allow"))
        return afb_err(cmd, "'%s': expected deny or allow", arg);
    dc->mfa_allow = !strcasecmp(arg, "allow");
    dc->mfa_allow_set = 1;
    return NULL;
}

static const char *afb_seconds(cmd_parms *cmd, const char *arg, long min, long *out)
{
    char *end;
    long v;
    errno = 0;
    v = strtol(arg, &end, 10);
    if (!apr_isdigit(*arg) || *end || errno || v < min || v > 31536000)
        return afb_err(cmd, "'%s': expected a number of seconds (%s..31536000)", arg,
                       min ? "1" : "0");
    *out = v;
    return NULL;
}

static const char *afb_cmd_lifetime(cmd_parms *cmd, void *dcv, const char *a, const char *b)
{
    afb_dir_conf_t *dc = dcv;
    const char *err = afb_seconds(cmd, a, 1, &dc->lifetime);
    if (!err && b)
        err = afb_seconds(cmd, b, 1, &dc->fallback_lifetime);
    else if (!err && dc->fallback_lifetime > dc->lifetime)
        dc->fallback_lifetime = dc->lifetime;
    dc->lifetime_set = 1;
    return err;
}

static const char *afb_cmd_grace(cmd_parms *cmd, void *dcv, const char *arg)
{
    afb_dir_conf_t *dc = dcv;
    dc->outage_grace_set = 1;
    return afb_seconds(cmd, arg, 0, &dc->outage_grace);
}

static const char *afb_cmd_user_header(cmd_parms *cmd, void *dcv, const char *arg)
{
    afb_dir_conf_t *dc = dcv;
    const char *s;
    /* Every request of the server loses every configured user header (a spoofed one must not
     * reach a backend through another location), so the names must be known at startup. */
    if (ap_check_cmd_context(cmd, NOT_IN_HTACCESS))
        return afb_err(cmd, "not allowed in .htaccess: the header must be known at startup so "
                       "that it is removed from every request; set it in the server "
                       "configuration");
    for (s = arg; *s; s++)
        if (!apr_isalnum(*s) && *s != '-' && *s != '_')
            return afb_err(cmd, "'%s' is not a valid header name", arg);
    if (!*arg)
        return afb_err(cmd, "empty header name");
    dc->user_header = arg;
    dc->user_header_set = 1;
    if (afb_main)
        APR_ARRAY_PUSH(afb_main->user_headers, const char *) = arg;
    return NULL;
}

const command_rec afb_cmds[] = {
    AP_INIT_TAKE1("AuthFallbackCryptoKey", afb_cmd_key, NULL, RSRC_CONF,
                  "A file of >= 32 random bytes keying the cookies; repeat to rotate"),
    AP_INIT_TAKE1("AuthFallbackEndpoint", afb_cmd_endpoint, NULL, RSRC_CONF,
                  "URL path prefix of the module's own pages (default /auth-fallback)"),
    AP_INIT_RAW_ARGS("AuthFallbackProvider", afb_cmd_provider, NULL, RSRC_CONF,
                     "NAME TYPE ARG [key=value ...]: declare one dependency"),
    AP_INIT_TAKE1("AuthFallbackCache", afb_cmd_cache, NULL, RSRC_CONF,
                  "socache provider for shared state, e.g. shmcb or redis:HOST:PORT"),
    AP_INIT_TAKE1("AuthFallbackEventLog", afb_cmd_event_log, NULL, RSRC_CONF,
                  "JSON-lines event log: a file or \"|program\""),
    AP_INIT_TAKE1("AuthFallbackOverrideFile", afb_cmd_override, NULL, RSRC_CONF,
                  "Operator override file: lines NAME auto|up|down"),
    AP_INIT_ITERATE("AuthFallbackCookie", afb_cmd_cookie, NULL, RSRC_CONF,
                    "name= domain= samesite=Lax|Strict|None secure=auto|on|off"),
    AP_INIT_ITERATE("AuthFallbackThrottle", afb_cmd_throttle, NULL, RSRC_CONF,
                    "user=N client=N window=SECONDS: failed attempts allowed per window "
                    "(0 turns that limit off)"),
    AP_INIT_TAKE1("AuthFallbackPageTemplate", afb_cmd_page_template, NULL, RSRC_CONF,
                  "HTML file framing the pages people see ({{content}} and other placeholders)"),
    AP_INIT_TAKE1("AuthFallbackOrganisation", afb_cmd_organisation, NULL, RSRC_CONF,
                  "Organisation name shown on the pages people see"),
    AP_INIT_TAKE1("AuthFallbackLogo", afb_cmd_logo, NULL, RSRC_CONF,
                  "URL of the logo shown on the pages people see"),
    AP_INIT_TAKE1("AuthFallbackHelpdesk", afb_cmd_helpdesk, NULL, RSRC_CONF,
                  "How to reach the helpdesk, shown where a sign-in cannot go on"),
    AP_INIT_TAKE2("AuthFallbackMessages", afb_cmd_messages, NULL, RSRC_CONF,
                  "LANG FILE: messages of a language, added or overriding the built-in ones"),
    AP_INIT_ITERATE("AuthFallbackChain", afb_cmd_chain, NULL, OR_AUTHCFG,
                    "First-factor providers in order of preference"),
    AP_INIT_ITERATE("AuthFallbackMFA", afb_cmd_mfa, NULL, OR_AUTHCFG,
                    "Second-factor providers in order, or none"),
    AP_INIT_TAKE1("AuthFallbackMFAUnavailable", afb_cmd_mfa_unavail, NULL, OR_AUTHCFG,
                  "deny (default) or allow when every MFA provider is down"),
    AP_INIT_TAKE12("AuthFallbackSessionLifetime", afb_cmd_lifetime, NULL, OR_AUTHCFG,
                   "Seconds for sessions of the first path [and of later paths]"),
    AP_INIT_TAKE1("AuthFallbackOutageGrace", afb_cmd_grace, NULL, OR_AUTHCFG,
                  "Seconds an expiring session may be extended once during an outage"),
    AP_INIT_TAKE1("AuthFallbackUserHeader", afb_cmd_user_header, NULL, OR_AUTHCFG,
                  "Request header that carries the user name to the backend"),
    {NULL}
};

/* depends= names declared providers and forms no cycle. */
static int afb_check_depends(apr_pool_t *ptemp, server_rec *s)
{
    const afb_provider_conf_t **confs;
    const char *err;
    int i;
    if (!afb_main || !afb_main->all->nelts)
        return OK;
    confs = apr_pcalloc(ptemp, sizeof(*confs) * (apr_size_t)afb_main->all->nelts);
    for (i = 0; i < afb_main->all->nelts; i++)
        confs[i] = &APR_ARRAY_IDX(afb_main->all, i, afb_provider_t *)->conf;
    err = afb_provider_depends_check(ptemp, confs, afb_main->all->nelts);
    if (!err)
        return OK;
    ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, s,
                 "AFB01203: AuthFallbackProvider: %s", err);
    return !OK;
}

/* Cross-directive checks that need the whole configuration. Runs at configtest as at every
 * start and graceful restart: whatever would stop httpd later for a configuration reason is
 * refused here, with the same message. */
int afb_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    (void)pconf; (void)plog;
    if (afb_confcheck_tree(ptemp, s) != OK || afb_check_depends(ptemp, s) != OK)
        return !OK;
    if (!afb_main || !afb_main->all->nelts)
        return OK;
    if (afb_keyring_count(afb_main->keyring) == 0) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, s,
                     "AFB00001: AuthFallbackCryptoKey: required when AuthFallbackProvider is "
                     "used (in %s); create one with: head -c 32 /dev/urandom > FILE",
                     APR_ARRAY_IDX(afb_main->all, 0, afb_provider_t *)->declared_at);
        return !OK;
    }
    if (afb_cache_check(afb_main, ptemp, s) != OK)
        return !OK;
    return afb_event_log_check(ptemp, s);
}
