/* The frame of the pages people see: template parsing and rendering (include/authfb/page.h,
 * docs/branding.md). */
#include <string.h>
#include <apr_strings.h>

#include "authfb/page.h"
#include "authfb/util.h"

static const struct {
    const char *name;
    afb_tpl_kind_t kind;
} afb_placeholders[] = {
    {"lang", AFB_TPL_LANG},
    {"title", AFB_TPL_TITLE},
    {"content", AFB_TPL_CONTENT},
    {"organisation", AFB_TPL_ORGANISATION},
    {"logo", AFB_TPL_LOGO},
    {"helpdesk", AFB_TPL_HELPDESK},
};

static int afb_tpl_line(const char *text, const char *at)
{
    int line = 1;
    for (; text < at; text++)
        line += *text == '\n';
    return line;
}

/* The placeholder named by s[0..n), or AFB_TPL_TEXT when it is none of ours. */
static afb_tpl_kind_t afb_tpl_lookup(const char *s, apr_size_t n)
{
    size_t i;
    for (i = 0; i < sizeof(afb_placeholders) / sizeof(afb_placeholders[0]); i++)
        if (strlen(afb_placeholders[i].name) == n && !memcmp(afb_placeholders[i].name, s, n))
            return afb_placeholders[i].kind;
    return AFB_TPL_TEXT;
}

static afb_status_t afb_tpl_push(afb_tpl_t *t, afb_tpl_kind_t kind, const char *s,
                                 apr_size_t n)
{
    afb_tpl_part_t *part;
    if (kind == AFB_TPL_TEXT && n == 0)
        return AFB_OK;
    if (t->n_parts >= AFB_TPL_MAX_PARTS)
        return AFB_ETOOBIG;
    part = &t->parts[t->n_parts++];
    part->kind = kind;
    part->text = s;
    part->len = n;
    t->has_helpdesk |= kind == AFB_TPL_HELPDESK;
    return AFB_OK;
}

/* One "{{name}}" at text[i]; *next is the index after it. */
static afb_status_t afb_tpl_placeholder(apr_pool_t *p, const char *text, apr_size_t len,
                                        apr_size_t i, afb_tpl_t *t, apr_size_t *next,
                                        const char **why)
{
    const char *end = NULL;
    afb_tpl_kind_t kind;
    apr_size_t j;
    for (j = i + 2; j + 1 < len && j < i + 2 + 64; j++)
        if (text[j] == '}' && text[j + 1] == '}') {
            end = text + j;
            break;
        }
    if (!end) {
        *why = apr_psprintf(p, "line %d: '{{' without a closing '}}'", afb_tpl_line(text, text + i));
        return AFB_EINVAL;
    }
    kind = afb_tpl_lookup(text + i + 2, (apr_size_t)(end - text) - i - 2);
    if (kind == AFB_TPL_TEXT) {
        *why = apr_psprintf(p, "line %d: unknown placeholder {{%s}} (known: lang, title, "
                            "content, organisation, logo, helpdesk)", afb_tpl_line(text, text + i),
                            afb_shown(p, text + i + 2, (apr_size_t)(end - text) - i - 2, 40));
        return AFB_EINVAL;
    }
    *next = (apr_size_t)(end - text) + 2;
    return afb_tpl_push(t, kind, NULL, 0);
}

static int afb_tpl_count(const afb_tpl_t *t, afb_tpl_kind_t kind)
{
    int i, n = 0;
    for (i = 0; i < t->n_parts; i++)
        n += t->parts[i].kind == kind;
    return n;
}

afb_status_t afb_tpl_parse(apr_pool_t *p, const char *text, apr_size_t len, afb_tpl_t **out,
                           const char **why)
{
    afb_tpl_t *t;
    apr_size_t i = 0, run = 0;
    afb_status_t st;
    *why = NULL;
    if (len > AFB_TPL_MAX_BYTES || memchr(text, '\0', len)) {
        *why = len > AFB_TPL_MAX_BYTES ? "larger than 256 KiB" : "holds a NUL byte";
        return len > AFB_TPL_MAX_BYTES ? AFB_ETOOBIG : AFB_EINVAL;
    }
    t = apr_pcalloc(p, sizeof(*t));
    t->parts = apr_pcalloc(p, sizeof(afb_tpl_part_t) * AFB_TPL_MAX_PARTS);
    text = apr_pstrmemdup(p, text, len);
    while (i < len) {
        if (text[i] != '{' || i + 1 >= len || text[i + 1] != '{') {
            i++;
            continue;
        }
        if ((st = afb_tpl_push(t, AFB_TPL_TEXT, text + run, i - run)) != AFB_OK ||
            (st = afb_tpl_placeholder(p, text, len, i, t, &i, why)) != AFB_OK)
            goto fail;
        run = i;
    }
    if ((st = afb_tpl_push(t, AFB_TPL_TEXT, text + run, len - run)) != AFB_OK)
        goto fail;
    if (afb_tpl_count(t, AFB_TPL_CONTENT) != 1) {
        *why = "{{content}} must appear exactly once (it holds the page's message and form)";
        return AFB_EINVAL;
    }
    *out = t;
    return AFB_OK;
fail:
    if (st == AFB_ETOOBIG)
        *why = "more than 512 placeholders and text runs";
    return st;
}

int afb_logo_url_ok(const char *url)
{
    const char *s, *host;
    if (!url || !*url)
        return 0;
    for (s = url; *s; s++)
        if ((unsigned char)*s <= 0x20 || *s == 0x7f || strchr("\"'<>\\`", *s))
            return 0;
    if (url[0] == '/')
        return url[1] != '/';
    if (!strncasecmp(url, "https://", 8))
        host = url + 8;
    else if (!strncasecmp(url, "http://", 7))
        host = url + 7;
    else
        return 0;
    return *host && *host != '/' && *host != '?' && *host != '#';
}

static const char *afb_val(apr_pool_t *p, const char *s)
{
    return afb_html_escape(p, s ? s : "");
}

/* The helpdesk line a journey's end carries when the frame has none of its own. */
static const char *afb_help_line(apr_pool_t *p, const afb_page_vals_t *v, int frame_has_it)
{
    if (!v->journey_end || frame_has_it || !v->helpdesk || !*v->helpdesk)
        return "";
    return apr_pstrcat(p, "\n<p class=\"afb-help\">",
                       afb_val(p, v->help_label ? v->help_label : v->helpdesk), "</p>", NULL);
}

static const char *afb_builtin_brand(apr_pool_t *p, const afb_page_vals_t *v)
{
    const char *logo = "", *org = "";
    if ((!v->logo || !*v->logo) && (!v->organisation || !*v->organisation))
        return "";
    if (v->logo && *v->logo)
        logo = apr_pstrcat(p, "<img class=\"afb-logo\" src=\"", afb_val(p, v->logo),
                           "\" alt=\"", afb_val(p, v->organisation), "\">", NULL);
    if (v->organisation && *v->organisation)
        org = apr_pstrcat(p, "<span class=\"afb-org\">", afb_val(p, v->organisation),
                          "</span>", NULL);
    return apr_pstrcat(p, "<header class=\"afb-brand\">", logo, org, "</header>", NULL);
}

static char *afb_page_builtin(apr_pool_t *p, const afb_page_vals_t *v)
{
    return apr_pstrcat(p, "<!DOCTYPE html>\n<html lang=\"", afb_val(p, v->lang ? v->lang : "en"),
        "\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
        "<title>", afb_val(p, v->title), "</title><style>", v->style ? v->style : "",
        "</style></head><body><main>", afb_builtin_brand(p, v), "<h1>", afb_val(p, v->title),
        "</h1>\n", v->content, afb_help_line(p, v, 0), "\n</main></body></html>\n", NULL);
}

static const char *afb_part_value(apr_pool_t *p, const afb_tpl_t *t, const afb_tpl_part_t *part,
                                  const afb_page_vals_t *v)
{
    switch (part->kind) {
    case AFB_TPL_TEXT:
        return apr_pstrmemdup(p, part->text, part->len);
    case AFB_TPL_LANG:
        return afb_val(p, v->lang ? v->lang : "en");
    case AFB_TPL_TITLE:
        return afb_val(p, v->title);
    case AFB_TPL_CONTENT:
        return apr_pstrcat(p, v->content, afb_help_line(p, v, t->has_helpdesk), NULL);
    case AFB_TPL_ORGANISATION:
        return afb_val(p, v->organisation);
    case AFB_TPL_LOGO:
        return afb_val(p, v->logo);
    case AFB_TPL_HELPDESK:
        return afb_val(p, v->helpdesk);
    }
    return "";
}

char *afb_page_render(apr_pool_t *p, const afb_tpl_t *tpl, const afb_page_vals_t *v)
{
    struct iovec *vec;
    int i;
    apr_size_t n;
    if (!tpl)
        return afb_page_builtin(p, v);
    vec = apr_palloc(p, sizeof(*vec) * (apr_size_t)(tpl->n_parts + 1));
    for (i = 0; i < tpl->n_parts; i++) {
        const char *s = afb_part_value(p, tpl, &tpl->parts[i], v);
        vec[i].iov_base = (void *)s;
        vec[i].iov_len = strlen(s);
    }
    return apr_pstrcatv(p, vec, (apr_size_t)tpl->n_parts, &n);
}
