/* A page template (AuthFallbackPageTemplate): afb_tpl_parse, then afb_page_render with hostile
 * values. A parsed template holds {{content}} once; the page shows the content marker once and
 * none of the values' markup. */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include "harness.h"
#include "authfb/page.h"

#define MARK "\x01" "CONTENT" "\x01"

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    const char *s = hay;
    while ((s = strstr(s, needle)) != NULL) {
        n++;
        s += strlen(needle);
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = afb_fuzz_pool();
    afb_tpl_t *t = NULL;
    const char *why = NULL;
    afb_page_vals_t v = {.lang = "<x\"", .title = "<x\"", .content = MARK,
                         .organisation = "<x\"", .logo = "<x\"", .helpdesk = "<x\"",
                         .help_label = "<x\"", .journey_end = (int)(size & 1)};
    afb_status_t st = afb_tpl_parse(p, (const char *)data, size, &t, &why);

    if (st == AFB_OK) {
        const char *html = afb_page_render(p, t, &v);
        if (!t || why || html == NULL || count(html, MARK) != 1 ||
            count(html, "<x\"") != count(apr_pstrmemdup(p, (const char *)data, size), "<x\""))
            abort();
    }
    else if (why == NULL || (st != AFB_EINVAL && st != AFB_ETOOBIG) || strchr(why, '\n'))
        abort();
    apr_pool_destroy(p);
    return 0;
}
