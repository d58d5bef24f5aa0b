/* The branding and language of the pages people see: AuthFallbackPageTemplate,
 * AuthFallbackOrganisation, AuthFallbackLogo, AuthFallbackHelpdesk, AuthFallbackMessages
 * (docs/directives.md, docs/branding.md). Everything is read while the configuration is read,
 * so configtest refuses a bad template or catalogue with its file and line; afterwards it is
 * immutable and shared by every thread. */
#include <apr_strings.h>
#include <http_core.h>
#include <http_log.h>

#include "afb_brand.h"
#include "authfb/file.h"
#include "authfb/util.h"

APLOG_USE_MODULE(auth_fallback);

/* The branding of this configuration, in afb_module_t.brand (pconf). */
struct afb_brand_t {
    afb_tpl_t *tpl;
    const char *organisation;
    const char *logo;
    const char *helpdesk;
    const char *img_src;
    afb_catalogue_t *catalogue;
};

/* The module's branding, made with the first brand directive or at post_config (both in
 * pconf, before any request thread). */
static afb_brand_t *afb_brand_of(const server_rec *s, apr_pool_t *pconf)
{
    afb_module_t *mod = afb_module(s);
    if (!mod->brand && pconf) {
        mod->brand = apr_pcalloc(pconf, sizeof(*mod->brand));
        mod->brand->img_src = "'self'";
        mod->brand->catalogue = afb_catalogue_new(pconf);
    }
    return mod->brand;
}

void afb_brand_post_config(server_rec *s, apr_pool_t *pconf)
{
    (void)afb_brand_of(s, pconf);
}

static const char *afb_brand_err(cmd_parms *cmd, const char *msg)
{
    return afb_cmd_err(cmd, "%s", msg);
}

/* A configuration file of at most max bytes; NULL and the text, or the message. */
static const char *afb_brand_file(cmd_parms *cmd, const char *arg, apr_size_t max, char **text,
                                  apr_size_t *len)
{
    const char *path = ap_server_root_relative(cmd->temp_pool, arg), *why = NULL;
    afb_status_t st;
    if (!path)
        return afb_brand_err(cmd, apr_psprintf(cmd->pool, "invalid path %s", arg));
    st = afb_file_read(cmd->pool, path, max, text, len, NULL, &why);
    if (st == AFB_ETOOBIG)
        return afb_brand_err(cmd, apr_psprintf(cmd->pool, "%s is larger than %lu bytes", path,
                                               (unsigned long)max));
    if (st != AFB_OK)
        return afb_brand_err(cmd, apr_psprintf(cmd->pool, "cannot read %s: %s", path,
                                               why ? why : afb_status_str(st)));
    return NULL;
}

/* Every handler checks GLOBAL_ONLY itself (the directive reference's check reads it there). */
static const char *afb_brand_server_only(cmd_parms *cmd, const char *err)
{
    return err ? afb_brand_err(cmd, "only in the main server configuration") : NULL;
}

const char *afb_cmd_page_template(cmd_parms *cmd, void *dc, const char *arg)
{
    char *text = NULL;
    apr_size_t len = 0;
    const char *err, *why = NULL;
    afb_brand_t *b = afb_brand_of(cmd->server, cmd->pool);
    (void)dc;
    if ((err = afb_brand_server_only(cmd, ap_check_cmd_context(cmd, GLOBAL_ONLY))) ||
        (err = afb_brand_file(cmd, arg, AFB_TPL_MAX_BYTES, &text, &len)))
        return err;
    if (afb_tpl_parse(cmd->pool, text, len, &b->tpl, &why) != AFB_OK)
        return afb_brand_err(cmd, apr_psprintf(cmd->pool, "%s: %s", arg, why));
    return NULL;
}

static const char *afb_brand_text(cmd_parms *cmd, const char *arg, const char **out)
{
    const char *s;
    for (s = arg; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return afb_brand_err(cmd, "control characters are not allowed");
    if (strlen(arg) > 512)
        return afb_brand_err(cmd, "longer than 512 bytes");
    *out = arg;
    return NULL;
}

const char *afb_cmd_organisation(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = afb_brand_server_only(cmd, ap_check_cmd_context(cmd, GLOBAL_ONLY));
    (void)dc;
    return err ? err : afb_brand_text(cmd, arg,
                                      &afb_brand_of(cmd->server, cmd->pool)->organisation);
}

const char *afb_cmd_helpdesk(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = afb_brand_server_only(cmd, ap_check_cmd_context(cmd, GLOBAL_ONLY));
    (void)dc;
    return err ? err : afb_brand_text(cmd, arg,
                                      &afb_brand_of(cmd->server, cmd->pool)->helpdesk);
}

/* The origin of an absolute logo URL ("https://cdn.example:8443"), for img-src. */
static const char *afb_logo_origin(apr_pool_t *p, const char *url)
{
    const char *host = strstr(url, "://") + 3;
    apr_size_t n = strcspn(host, "/?#");
    return apr_pstrcat(p, apr_pstrmemdup(p, url, (apr_size_t)(host - url)),
                       apr_pstrmemdup(p, host, n), NULL);
}

const char *afb_cmd_logo(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = afb_brand_server_only(cmd, ap_check_cmd_context(cmd, GLOBAL_ONLY));
    afb_brand_t *b = afb_brand_of(cmd->server, cmd->pool);
    (void)dc;
    if (err || (err = afb_brand_text(cmd, arg, &b->logo)))
        return err;
    if (!afb_logo_url_ok(arg)) {
        b->logo = NULL;
        return afb_brand_err(cmd, apr_psprintf(cmd->pool, "'%s' is not an http(s) URL or a "
                             "local path starting with /", arg));
    }
    b->img_src = arg[0] == '/' ? "'self'"
                        : apr_pstrcat(cmd->pool, "'self' ", afb_logo_origin(cmd->pool, arg), NULL);
    return NULL;
}

const char *afb_cmd_messages(cmd_parms *cmd, void *dc, const char *lang, const char *file)
{
    char *text = NULL;
    apr_size_t len = 0;
    const char *err, *why = NULL;
    (void)dc;
    if ((err = afb_brand_server_only(cmd, ap_check_cmd_context(cmd, GLOBAL_ONLY))) ||
        (err = afb_brand_file(cmd, file, AFB_MSG_FILE_MAX_BYTES, &text, &len)))
        return err;
    if (afb_catalogue_load(afb_brand_of(cmd->server, cmd->pool)->catalogue, lang, text, len,
                           &why) != AFB_OK)
        return afb_brand_err(cmd, apr_psprintf(cmd->pool, "%s: %s", file, why));
    return NULL;
}

const afb_lang_t *afb_lang(request_rec *r)
{
    const afb_lang_t *l = NULL;
    void *v = NULL;
    apr_pool_userdata_get(&v, "afb-lang", r->pool);
    if (v)
        return v;
    l = afb_catalogue_pick(afb_brand_of(r->server, NULL)->catalogue,
                           apr_table_get(r->headers_in, "Accept-Language"));
    apr_pool_userdata_setn(l, "afb-lang", NULL, r->pool);
    return l;
}

const char *afb_h(request_rec *r, afb_msg_id_t id)
{
    return afb_msg_html(r->pool, afb_lang(r), id, NULL);
}

const char *afb_t(request_rec *r, afb_msg_id_t id)
{
    return afb_msg_text(r->pool, afb_lang(r), id, NULL);
}

const char *afb_brand_img_src(request_rec *r)
{
    afb_brand_t *b = afb_brand_of(r->server, NULL);
    return b && b->img_src ? b->img_src : "'self'";
}

const char *afb_brand_render(request_rec *r, const char *title, const char *content,
                             int journey_end, const char *style)
{
    const afb_lang_t *l = afb_lang(r);
    afb_brand_t *b = afb_brand_of(r->server, NULL);
    afb_page_vals_t v;
    memset(&v, 0, sizeof(v));
    v.lang = afb_lang_tag(l);
    v.title = title;
    v.content = content;
    v.organisation = b->organisation;
    v.logo = b->logo;
    v.helpdesk = b->helpdesk;
    if (b->helpdesk)
        v.help_label = afb_msg_text(r->pool, l, AFB_MSG_HELP, "helpdesk", b->helpdesk,
                                    NULL);
    v.style = style;
    v.journey_end = journey_end;
    apr_table_mergen(r->err_headers_out, "Vary", "Accept-Language");
    apr_table_setn(r->err_headers_out, "Content-Language", v.lang);
    return afb_page_render(r->pool, b->tpl, &v);
}
