/* Checks of the configuration tree that no single directive handler can make, run by
 * `apachectl configtest` and at every start (docs/directives.md, "What configtest refuses"):
 * an `AuthType fallback` section with no chain, a chain or MFA list in a section that is not
 * `AuthType fallback`, and a status handler open to everyone.
 *
 * The tree is read as written (ap_conftree): a per-directory section inherits from the
 * sections that enclose it (<If> inside <Location>) and from sections of the same kind whose
 * path is a prefix of its own (<Location /> for <Location /app>), and from the server level,
 * which is how httpd merges them for a request. Regex sections only inherit from enclosing
 * ones. .htaccess files are not seen here. */
#include <apr_strings.h>
#include <http_core.h>
#include <util_cfgtree.h>

#include "afb_conf.h"
#include "afb_confcheck.h"

APLOG_USE_MODULE(auth_fallback);

typedef struct afb_sec_t afb_sec_t;
struct afb_sec_t {
    const afb_sec_t *parent;         /* the enclosing section, or the server level */
    const ap_directive_t *at;        /* the section directive; NULL at server level */
    const char *kind;                /* "<Location", "<Directory", ... ; NULL at server level */
    const char *path;                /* the section's path, for prefix inheritance */
    int server;                      /* 0 main server, n for the n-th <VirtualHost> */
    const char *auth_type;
    const ap_directive_t *chain, *mfa, *status;
    int access;                      /* Require, Allow, Deny or a <Require...> block */
};

typedef struct {
    apr_pool_t *p;
    apr_array_header_t *secs;        /* afb_sec_t* */
    int servers;
} afb_walk_t;

static const char *const afb_dir_sections[] = {
    "<Location", "<LocationMatch", "<Directory", "<DirectoryMatch", "<Files", "<FilesMatch",
    "<If", "<ElseIf", "<Else", "<Proxy", "<ProxyMatch", NULL
};

static const char *const afb_access_directives[] = {
    "Require", "Allow", "Deny", "<RequireAll", "<RequireAny", "<RequireNone", NULL
};

static int afb_in_list(const char *const *list, const char *word)
{
    for (; *list; list++)
        if (!strcasecmp(*list, word))
            return 1;
    return 0;
}

/* The first word of a section's arguments, without the closing '>' and quotes. */
static const char *afb_section_path(apr_pool_t *p, const char *args)
{
    const char *rest = args ? args : "";
    char *w = ap_getword_conf(p, &rest);
    apr_size_t n = strlen(w);
    if (n && w[n - 1] == '>')
        w[--n] = '\0';
    return w;
}

static void afb_walk(afb_walk_t *w, const ap_directive_t *d, afb_sec_t *sec);

static void afb_walk_section(afb_walk_t *w, const ap_directive_t *d, afb_sec_t *parent)
{
    afb_sec_t *sec = apr_pcalloc(w->p, sizeof(*sec));
    sec->parent = parent;
    sec->at = d;
    sec->kind = d->directive;
    sec->path = afb_section_path(w->p, d->args);
    sec->server = parent->server;
    APR_ARRAY_PUSH(w->secs, afb_sec_t *) = sec;
    afb_walk(w, d->first_child, sec);
}

static void afb_walk_vhost(afb_walk_t *w, const ap_directive_t *d)
{
    afb_sec_t *sec = apr_pcalloc(w->p, sizeof(*sec));
    sec->server = ++w->servers;
    APR_ARRAY_PUSH(w->secs, afb_sec_t *) = sec;
    afb_walk(w, d->first_child, sec);
}

static void afb_walk_leaf(const ap_directive_t *d, afb_sec_t *sec)
{
    if (!strcasecmp(d->directive, "AuthType"))
        sec->auth_type = d->args;
    else if (!strcasecmp(d->directive, "AuthFallbackChain"))
        sec->chain = d;
    else if (!strcasecmp(d->directive, "AuthFallbackMFA"))
        sec->mfa = d;
    else if (!strcasecmp(d->directive, "SetHandler") && d->args &&
             !strcasecmp(d->args, "auth-fallback-status"))
        sec->status = d;
    if (afb_in_list(afb_access_directives, d->directive))
        sec->access = 1;
}

static void afb_walk(afb_walk_t *w, const ap_directive_t *d, afb_sec_t *sec)
{
    for (; d; d = d->next) {
        if (d->first_child && afb_in_list(afb_dir_sections, d->directive))
            afb_walk_section(w, d, sec);
        else if (d->first_child && !strcasecmp(d->directive, "<VirtualHost"))
            afb_walk_vhost(w, d);
        else {
            afb_walk_leaf(d, sec);
            if (d->first_child) /* <IfModule>, <Limit>, <RequireAll>: transparent */
                afb_walk(w, d->first_child, sec);
        }
    }
}

/* The sections whose settings reach `sec` besides its own: enclosing ones, then the
 * sections of the same kind and server whose path is a prefix of its path. */
static int afb_prefix_of(const afb_sec_t *outer, const afb_sec_t *sec)
{
    apr_size_t n;
    if (outer == sec || !outer->kind || !sec->kind || strcasecmp(outer->kind, sec->kind) ||
        outer->server != sec->server)
        return 0;
    if (strcasecmp(sec->kind, "<Location") && strcasecmp(sec->kind, "<Directory"))
        return 0;
    n = strlen(outer->path);
    if (strncmp(outer->path, sec->path, n))
        return 0;
    return n == 0 || outer->path[n - 1] == '/' || sec->path[n] == '/' || sec->path[n] == '\0';
}

typedef const void *(*afb_sec_field_t)(const afb_sec_t *sec);

static const afb_sec_t *afb_find(const afb_walk_t *w, const afb_sec_t *sec,
                                 afb_sec_field_t field)
{
    const afb_sec_t *s;
    int i;
    for (s = sec; s; s = s->parent)
        if (field(s))
            return s;
    for (i = 0; i < w->secs->nelts; i++) {
        const afb_sec_t *o = APR_ARRAY_IDX(w->secs, i, afb_sec_t *);
        if (afb_prefix_of(o, sec) && field(o))
            return o;
    }
    return NULL;
}

static const void *afb_f_auth_type(const afb_sec_t *s) { return s->auth_type; }
static const void *afb_f_chain(const afb_sec_t *s) { return s->chain; }
static const void *afb_f_access(const afb_sec_t *s) { return s->access ? s : NULL; }

static const char *afb_sec_name(apr_pool_t *p, const afb_sec_t *sec)
{
    if (!sec->at)
        return "the server configuration";
    return apr_psprintf(p, "%s %s> (%s:%d)", sec->kind, sec->path, sec->at->filename,
                        sec->at->line_num);
}

static int afb_is_fallback(const char *auth_type)
{
    return auth_type && !strcasecmp(auth_type, AFB_AUTH_TYPE);
}

/* A chain or MFA list where httpd will not call the module, or AuthType fallback with no
 * chain: both pass httpd's own checks and fail every request. */
static int afb_check_sec(const afb_walk_t *w, const afb_sec_t *sec, server_rec *s)
{
    const afb_sec_t *at = afb_find(w, sec, afb_f_auth_type);
    const ap_directive_t *d = sec->chain ? sec->chain : sec->mfa;
    if (sec->auth_type && afb_is_fallback(sec->auth_type) && !afb_find(w, sec, afb_f_chain)) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, s,
                     "AFB01200: AuthType fallback in %s has no AuthFallbackChain: every "
                     "sign-in there would fail; name its paths with AuthFallbackChain NAME ...",
                     afb_sec_name(w->p, sec));
        return 0;
    }
    if (d && sec->at && !afb_is_fallback(at ? at->auth_type : NULL)) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, s,
                     "AFB01201: %s on line %d of %s: the section %s %s; the module only "
                     "handles sections with AuthType fallback", d->directive, d->line_num,
                     d->filename, afb_sec_name(w->p, sec),
                     at ? apr_psprintf(w->p, "has AuthType %s", at->auth_type)
                        : "has no AuthType");
        return 0;
    }
    return 1;
}

static void afb_check_status(const afb_walk_t *w, const afb_sec_t *sec, server_rec *s)
{
    if (!sec->status || afb_find(w, sec, afb_f_access))
        return;
    ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_WARNING, 0, s,
                 "AFB01202: SetHandler auth-fallback-status in %s has no Require or other "
                 "access control: anyone may read provider names, errors and counters; add "
                 "e.g. Require ip 127.0.0.1", afb_sec_name(w->p, sec));
}

int afb_confcheck_tree(apr_pool_t *ptemp, server_rec *s)
{
    afb_walk_t w = {ptemp, apr_array_make(ptemp, 16, sizeof(afb_sec_t *)), 0};
    afb_sec_t *top = apr_pcalloc(ptemp, sizeof(*top));
    int i, ok = 1;
    APR_ARRAY_PUSH(w.secs, afb_sec_t *) = top;
    afb_walk(&w, ap_conftree, top);
    for (i = 0; i < w.secs->nelts; i++) {
        const afb_sec_t *sec = APR_ARRAY_IDX(w.secs, i, afb_sec_t *);
        if (ok && !afb_check_sec(&w, sec, s))
            ok = 0;
        afb_check_status(&w, sec, s);
    }
    return ok ? OK : !OK;
}
