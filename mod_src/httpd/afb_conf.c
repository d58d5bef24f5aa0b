/* The module-wide state, the configuration records, their create/merge functions and the
 * directives that only set them (afb_conf.h). Directives of a subsystem with state of its
 * own live with it (AuthFallbackCache in afb_cache.c, AuthFallbackProvider in
 * afb_registry.c); the hub lists them all in one command table.
 * Errors are returned from the handlers, so httpd reports them with the file and line:
 * "Syntax error on line N of FILE: AuthFallbackX: reason". */
#include <apr_strings.h>
#include <apr_file_info.h>
#include <apr_file_io.h>
#include <http_core.h>
#include <apr_lib.h>
#include <stdarg.h>
#include <errno.h>

#include "afb_conf.h"
#include "afb_provider.h"
#include "authfb/file.h"
#include "authfb/flow.h"
#include "authfb/log.h"
#include "authfb/provider.h"
#include "authfb/util.h"

APLOG_USE_MODULE(auth_fallback);

#define AFB_MODULE_KEY "auth_fallback_module_state"

static apr_status_t afb_module_gone(void *data)
{
    (void)data;
    /* The bridge's server_rec goes with pconf: nothing logs through it until the next pass
     * installs it again (pre_config). */
    afb_log_set(NULL, NULL);
    return APR_SUCCESS;
}

void *afb_kept_block(const char *key, apr_size_t size)
{
    void **kept = ap_retained_data_get(key);
    if (!kept) {
        kept = ap_retained_data_create(key, sizeof(*kept));
        *kept = ap_calloc(1, size);
    }
    memset(*kept, 0, size);
    return *kept;
}

/* The module's state for this configuration pass: made with the first server record and
 * found again by every later one (httpd creates server records in pconf, which carries the
 * key); the struct itself is a kept block (what it points to lives in pconf). */
static afb_module_t *afb_module_get(apr_pool_t *pconf)
{
    afb_module_t *m = NULL;
    apr_pool_userdata_get((void **)&m, AFB_MODULE_KEY, pconf);
    if (m)
        return m;
    m = afb_kept_block("afb-module", sizeof(*m));
    m->all = apr_array_make(pconf, 8, sizeof(afb_provider_t *));
    m->keyring = afb_keyring_create(pconf);
    m->endpoint = AFB_DEFAULT_ENDPOINT;
    m->cache_spec = "shmcb";
    m->cookie_name = AFB_DEFAULT_COOKIE;
    m->cookie_samesite = "Lax";
    m->cookie_secure = AFB_SECURE_AUTO;
    m->throttle_user = 5;
    m->throttle_client = 20;
    m->throttle_window = apr_time_from_sec(300);
    m->throttle_v4_prefix = 32;
    m->throttle_v6_prefix = 64;
    m->user_headers = apr_array_make(pconf, 2, sizeof(const char *));
    apr_pool_userdata_setn(m, AFB_MODULE_KEY, afb_module_gone, pconf);
    return m;
}

void *afb_create_server_conf(apr_pool_t *p, server_rec *s)
{
    afb_server_conf_t *c = apr_pcalloc(p, sizeof(*c));
    c->providers = apr_hash_make(p);
    c->mod = afb_module_get(p);
    if (!s->is_virtual)
        c->mod->main_providers = c->providers;
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

static afb_server_conf_t *afb_server_conf(const server_rec *s)
{
    return ap_get_module_config(s->module_config, &auth_fallback_module);
}

afb_module_t *afb_module(const server_rec *s)
{
    return afb_server_conf(s)->mod;
}

afb_dir_conf_t *afb_dir_conf(const request_rec *r)
{
    return ap_get_module_config(r->per_dir_config, &auth_fallback_module);
}

int afb_module_active(const afb_module_t *mod)
{
    return mod && mod->all && mod->all->nelts > 0;
}

afb_provider_t *afb_provider_find(const server_rec *s, const char *name)
{
    afb_server_conf_t *sc = afb_server_conf(s);
    afb_provider_t *prov = apr_hash_get(sc->providers, name, APR_HASH_KEY_STRING);
    if (!prov && sc->mod->main_providers)
        prov = apr_hash_get(sc->mod->main_providers, name, APR_HASH_KEY_STRING);
    return prov;
}

void afb_provider_add(cmd_parms *cmd, afb_provider_t *prov, const char *name)
{
    afb_server_conf_t *sc = afb_server_conf(cmd->server);
    prov->mod = sc->mod;
    apr_hash_set(sc->providers, name, APR_HASH_KEY_STRING, prov);
    APR_ARRAY_PUSH(sc->mod->all, afb_provider_t *) = prov;
}

afb_module_t *afb_cmd_global(cmd_parms *cmd, void *dc, const char **err)
{
    (void)dc;
    *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    return *err ? NULL : afb_module(cmd->server);
}

const char *afb_cmd_err(cmd_parms *cmd, const char *fmt, ...)
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

const char *afb_cmd_key(cmd_parms *cmd, void *dc, const char *arg)
{
    unsigned char *buf = NULL;
    apr_size_t len = 0;
    const char *path, *err;
    afb_module_t *mod = afb_cmd_global(cmd, dc, &err);
    if (!mod)
        return err;
    path = ap_server_root_relative(cmd->temp_pool, arg);
    if (!path)
        return afb_cmd_err(cmd, "invalid path %s", arg);
    err = afb_read_key_file(cmd->temp_pool, path, &buf, &len);
    if (!err && afb_keyring_add(mod->keyring, buf, len) != AFB_OK)
        err = apr_psprintf(cmd->temp_pool, "key file %s could not be used", path);
    if (buf)
        memset(buf, 0, len);
    return err ? afb_cmd_err(cmd, "%s", err) : NULL;
}

const char *afb_cmd_endpoint(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err;
    afb_module_t *mod = afb_cmd_global(cmd, dc, &err);
    apr_size_t n = strlen(arg);
    if (!mod)
        return err;
    if (arg[0] != '/' || n < 2 || strchr(arg, '?') || strchr(arg, '#') || strstr(arg, "//"))
        return afb_cmd_err(cmd, "'%s' must be a URL path such as /auth-fallback", arg);
    mod->endpoint = arg[n - 1] == '/' ? apr_pstrndup(cmd->pool, arg, n - 1) : arg;
    return NULL;
}

const char *afb_cmd_path(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err, **field;
    afb_module_t *mod = afb_cmd_global(cmd, dc, &err);
    if (!mod)
        return err;
    field = (const char **)(void *)((char *)mod + (apr_size_t)cmd->info);
    if (arg[0] == '|' && field == &mod->event_log) /* a program, as CustomLog takes */
        *field = arg;
    else if (!(*field = ap_server_root_relative(cmd->pool, arg)))
        return afb_cmd_err(cmd, "invalid path %s", arg);
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

const char *afb_cmd_cookie(cmd_parms *cmd, void *dc, const char *word)
{
    const char *err, *val, *eq = strchr(word, '=');
    afb_module_t *mod = afb_cmd_global(cmd, dc, &err);
    if (!mod)
        return err;
    if (!eq)
        return afb_cmd_err(cmd, "'%s': expected key=value", word);
    val = eq + 1;
    if (!strncmp(word, "name=", 5) && afb_cookie_name_valid(val))
        mod->cookie_name = val;
    else if (!strncmp(word, "domain=", 7) && *val && !strpbrk(val, " ;,\t"))
        mod->cookie_domain = val;
    else if (!strncmp(word, "samesite=", 9) &&
             (!strcasecmp(val, "Lax") || !strcasecmp(val, "Strict") || !strcasecmp(val, "None")))
        mod->cookie_samesite = !strcasecmp(val, "Lax") ? "Lax"
                                    : !strcasecmp(val, "Strict") ? "Strict" : "None";
    else if (!strncmp(word, "secure=", 7) && !strcasecmp(val, "auto"))
        mod->cookie_secure = AFB_SECURE_AUTO;
    else if (!strncmp(word, "secure=", 7) && !strcasecmp(val, "on"))
        mod->cookie_secure = AFB_SECURE_ON;
    else if (!strncmp(word, "secure=", 7) && !strcasecmp(val, "off"))
        mod->cookie_secure = AFB_SECURE_OFF;
    else
        return afb_cmd_err(cmd, "invalid '%s' (name=, domain=, samesite=Lax|Strict|None, "
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

const char *afb_cmd_throttle(cmd_parms *cmd, void *dc, const char *word)
{
    const char *err, *eq = strchr(word, '=');
    afb_module_t *mod = afb_cmd_global(cmd, dc, &err);
    long v = 0;
    if (!mod)
        return err;
    if (!eq || afb_parse_uint(eq + 1, 1000000, &v) != AFB_OK)
        return afb_cmd_err(cmd, "'%s': expected user=N, client=N, window=SECONDS, "
                           "ipv4_prefix=BITS or ipv6_prefix=BITS", word);
    if (!strncmp(word, "ipv4_prefix=", 12) && v >= 8 && v <= 32)
        mod->throttle_v4_prefix = (int)v;
    else if (!strncmp(word, "ipv6_prefix=", 12) && v >= 16 && v <= 128)
        mod->throttle_v6_prefix = (int)v;
    else if (!strncmp(word, "user=", 5))
        mod->throttle_user = (unsigned)v;
    else if (!strncmp(word, "client=", 7))
        mod->throttle_client = (unsigned)v;
    else if (!strncmp(word, "window=", 7) && v > 0)
        mod->throttle_window = apr_time_from_sec(v);
    else
        return afb_cmd_err(cmd, "'%s': expected user=N, client=N, window=SECONDS, "
                           "ipv4_prefix=8..32 or ipv6_prefix=16..128", word);
    return NULL;
}

/* ---- per-directory directives ---- */

static const char *afb_add_named(cmd_parms *cmd, apr_array_header_t **list, const char *name,
                                 int want_mfa)
{
    afb_provider_t *prov = afb_provider_find(cmd->server, name);
    int i;
    if (!prov)
        return afb_cmd_err(cmd, "unknown provider '%s' (declare it with AuthFallbackProvider "
                           "before this line)", name);
    if (!(prov->ops->roles & (want_mfa ? AFB_ROLE_SECOND : AFB_ROLE_FIRST)))
        return afb_cmd_err(cmd, "provider '%s' is of type %s, which cannot be used here",
                           name, prov->ops->type);
    if (!*list)
        *list = apr_array_make(cmd->pool, 4, sizeof(afb_provider_t *));
    for (i = 0; i < (*list)->nelts; i++)
        if (APR_ARRAY_IDX(*list, i, afb_provider_t *) == prov)
            return afb_cmd_err(cmd, "provider '%s' is listed twice", name);
    if ((*list)->nelts >= AFB_FLOW_MAX_MFA)
        return afb_cmd_err(cmd, "at most %d providers", AFB_FLOW_MAX_MFA);
    APR_ARRAY_PUSH(*list, afb_provider_t *) = prov;
    return NULL;
}

/* The section is remembered for readiness (afb_readiness.c): its chain and MFA chain are
 * read when the checker computes, after every directive of the section was applied. */
const char *afb_cmd_chain(cmd_parms *cmd, void *dcv, const char *name)
{
    afb_dir_conf_t *dc = dcv;
    afb_module_t *mod = afb_module(cmd->server);
    if (!dc->chain && cmd->path) {
        if (!mod->sections)
            mod->sections = apr_array_make(cmd->pool, 4, sizeof(afb_dir_conf_t *));
        APR_ARRAY_PUSH(mod->sections, afb_dir_conf_t *) = dc;
    }
    return afb_add_named(cmd, &dc->chain, name, 0);
}

const char *afb_cmd_mfa(cmd_parms *cmd, void *dcv, const char *name)
{
    afb_dir_conf_t *dc = dcv;
    dc->mfa_set = 1;
    if (!strcasecmp(name, "none")) {
        if (dc->mfa && dc->mfa->nelts)
            return afb_cmd_err(cmd, "'none' cannot be combined with providers");
        dc->mfa = apr_array_make(cmd->pool, 1, sizeof(afb_provider_t *));
        dc->mfa_none = 1;
        return NULL;
    }
    if (dc->mfa_none)
        return afb_cmd_err(cmd, "'%s': 'none' cannot be combined with providers", name);
    return afb_add_named(cmd, &dc->mfa, name, 1);
}

const char *afb_cmd_mfa_unavail(cmd_parms *cmd, void *dcv, const char *arg)
{
    afb_dir_conf_t *dc = dcv;
    if (strcasecmp(arg, "deny") && strcasecmp(arg, "allow"))
        return afb_cmd_err(cmd, "'%s': expected deny or allow", arg);
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
        return afb_cmd_err(cmd, "'%s': expected a number of seconds (%s..31536000)", arg,
                           min ? "1" : "0");
    *out = v;
    return NULL;
}

const char *afb_cmd_lifetime(cmd_parms *cmd, void *dcv, const char *a, const char *b)
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

const char *afb_cmd_grace(cmd_parms *cmd, void *dcv, const char *arg)
{
    afb_dir_conf_t *dc = dcv;
    dc->outage_grace_set = 1;
    return afb_seconds(cmd, arg, 0, &dc->outage_grace);
}

const char *afb_cmd_user_header(cmd_parms *cmd, void *dcv, const char *arg)
{
    afb_dir_conf_t *dc = dcv;
    const char *s;
    /* Every request of the server loses every configured user header (a spoofed one must not
     * reach a backend through another location), so the names must be known at startup. */
    if (ap_check_cmd_context(cmd, NOT_IN_HTACCESS))
        return afb_cmd_err(cmd, "not allowed in .htaccess: the header must be known at startup so "
                           "that it is removed from every request; set it in the server "
                           "configuration");
    for (s = arg; *s; s++)
        if (!apr_isalnum(*s) && *s != '-' && *s != '_')
            return afb_cmd_err(cmd, "'%s' is not a valid header name", arg);
    if (!*arg)
        return afb_cmd_err(cmd, "empty header name");
    dc->user_header = arg;
    dc->user_header_set = 1;
    APR_ARRAY_PUSH(afb_module(cmd->server)->user_headers, const char *) = arg;
    return NULL;
}

/* depends= names declared providers and forms no cycle. */
static int afb_check_depends(apr_pool_t *ptemp, server_rec *s)
{
    const afb_provider_conf_t **confs;
    const char *err;
    int i;
    afb_module_t *mod = afb_module(s);
    if (!afb_module_active(mod))
        return OK;
    confs = apr_pcalloc(ptemp, sizeof(*confs) * (apr_size_t)mod->all->nelts);
    for (i = 0; i < mod->all->nelts; i++)
        confs[i] = &APR_ARRAY_IDX(mod->all, i, afb_provider_t *)->conf;
    err = afb_provider_depends_check(ptemp, confs, mod->all->nelts);
    if (!err)
        return OK;
    ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, s,
                 "AFB01203: AuthFallbackProvider: %s", err);
    return !OK;
}

/* Checks that need the whole configuration. Runs at configtest as at every start and graceful
 * restart: whatever would stop httpd later for a configuration reason is refused here, with
 * the same message. */
int afb_conf_check(apr_pool_t *ptemp, server_rec *s)
{
    afb_module_t *mod = afb_module(s);
    if (afb_check_depends(ptemp, s) != OK)
        return !OK;
    if (afb_module_active(mod) && afb_keyring_count(mod->keyring) == 0) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, s,
                     "AFB00001: AuthFallbackCryptoKey: required when AuthFallbackProvider is "
                     "used (in %s); create one with: head -c 32 /dev/urandom > FILE",
                     APR_ARRAY_IDX(mod->all, 0, afb_provider_t *)->declared_at);
        return !OK;
    }
    return OK;
}
