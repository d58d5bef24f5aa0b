/* The branding and language of the pages people see (afb_brand.c; docs/branding.md). */
#ifndef AFB_BRAND_H
#define AFB_BRAND_H

#include "afb_conf.h"

#include "authfb/i18n.h"
#include "authfb/page.h"

/* Directive handlers (server config only). */
const char *afb_cmd_page_template(cmd_parms *cmd, void *dc, const char *arg);
const char *afb_cmd_organisation(cmd_parms *cmd, void *dc, const char *arg);
const char *afb_cmd_logo(cmd_parms *cmd, void *dc, const char *arg);
const char *afb_cmd_helpdesk(cmd_parms *cmd, void *dc, const char *arg);
const char *afb_cmd_messages(cmd_parms *cmd, void *dc, const char *lang, const char *file);

/* post_config: the defaults when no brand directive was used. */
void afb_brand_post_config(server_rec *s, apr_pool_t *pconf);

/* The language of this request's pages (Accept-Language; English by default). */
const afb_lang_t *afb_lang(request_rec *r);

/* A message of the request's language without parameters: _h escaped for HTML, _t plain text
 * (a title: the frame escapes it). */
const char *afb_h(request_rec *r, afb_msg_id_t id);
const char *afb_t(request_rec *r, afb_msg_id_t id);

/* The whole page: the frame (template or built-in) around content, in the request's
 * language, with the branding; journey_end adds the helpdesk line where the frame has none. */
const char *afb_brand_render(request_rec *r, const char *title, const char *content,
                             int journey_end, const char *style);

/* The img-src part of the pages' Content-Security-Policy (the logo's origin). */
const char *afb_brand_img_src(request_rec *r);

#endif
