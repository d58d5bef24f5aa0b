/* The frame of the pages people see: the built-in one, or an administrator's template
 * (AuthFallbackPageTemplate, docs/directives.md and docs/branding.md). No httpd headers.
 *
 * Contract:
 * - A template is HTML with the placeholders {{lang}} {{title}} {{content}} {{organisation}}
 *   {{logo}} {{helpdesk}} (nothing else: no spaces inside the braces, lower case). Any other
 *   name between "{{" and "}}", a "{{" never closed, or a {{content}} missing or repeated is
 *   refused by afb_tpl_parse with a reason that names the line; it is configuration, read once.
 * - afb_page_render escapes every value (title, organisation, logo URL, helpdesk, lang) for
 *   HTML text and quoted attributes; only content is inserted as it is: it is markup the module
 *   built itself, with every piece of text in it escaped (afb_msg_html).
 * - The helpdesk line: a template shows {{helpdesk}} wherever it places it, on every page; a
 *   page that ends a journey (journey_end) also carries it in its content when the frame has no
 *   {{helpdesk}} of its own (the built-in frame, or a template without one), so it is never
 *   missing where a person is stuck.
 * - Pure functions, no shared state: safe from any thread. */
#ifndef AUTHFB_PAGE_H
#define AUTHFB_PAGE_H

#include "authfb/common.h"

#define AFB_TPL_MAX_BYTES (256 * 1024) /* an AuthFallbackPageTemplate file */
#define AFB_TPL_MAX_PARTS 512          /* text runs and placeholders of one template */

typedef enum {
    AFB_TPL_TEXT = 0,
    AFB_TPL_LANG,
    AFB_TPL_TITLE,
    AFB_TPL_CONTENT,
    AFB_TPL_ORGANISATION,
    AFB_TPL_LOGO,
    AFB_TPL_HELPDESK
} afb_tpl_kind_t;

typedef struct {
    afb_tpl_kind_t kind;
    const char *text; /* AFB_TPL_TEXT: the run (not NUL-terminated) */
    apr_size_t len;
} afb_tpl_part_t;

typedef struct {
    int n_parts;
    afb_tpl_part_t *parts;
    int has_helpdesk;
} afb_tpl_t;

/* Parses text[0..len) into *out (allocated in p). AFB_OK; AFB_EINVAL with *why (line and
 * placeholder); AFB_ETOOBIG over the caps above. */
afb_status_t afb_tpl_parse(apr_pool_t *p, const char *text, apr_size_t len, afb_tpl_t **out,
                           const char **why) AFB_MUST_CHECK;

/* The values of one page. Any of them may be NULL (treated as empty), except content. */
typedef struct {
    const char *lang;         /* a language tag, e.g. "de" */
    const char *title;        /* plain text */
    const char *content;      /* markup built by the module */
    const char *organisation; /* plain text */
    const char *logo;         /* a URL checked by afb_logo_url_ok */
    const char *helpdesk;     /* plain text */
    const char *help_label;   /* the catalogue's "Need help?" line, plain text, with the
                               * helpdesk text in it: used when the frame has no {{helpdesk}} */
    const char *style;        /* CSS of the built-in frame (not used by a template) */
    int journey_end;          /* this page ends the journey: the helpdesk line is due */
} afb_page_vals_t;

/* The whole page. tpl NULL: the built-in frame (logo and organisation shown when set). */
char *afb_page_render(apr_pool_t *p, const afb_tpl_t *tpl, const afb_page_vals_t *v);

/* A logo URL an administrator may give: https:// or http:// with a host, or a local path
 * starting with one '/'; no quotes, angle brackets, backslashes, spaces or controls. */
int afb_logo_url_ok(const char *url);

#endif
