/* A message catalogue file (AuthFallbackMessages), and Accept-Language: byte 0 picks the
 * language tag the file is loaded as; the rest is the file, and also the header. A loaded
 * message, filled with markup, never carries markup into a page. */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include "harness.h"
#include "authfb/i18n.h"

static const char *const tags[] = {"en", "de", "fr", "es", "pt-BR", "x", "nl"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = afb_fuzz_pool();
    afb_catalogue_t *c = afb_catalogue_new(p);
    const char *why = NULL, *text = size ? (const char *)data + 1 : "";
    size_t len = size ? size - 1 : 0;
    const char *tag = tags[size ? data[0] % 7 : 0];
    afb_status_t st = afb_catalogue_load(c, tag, text, len, &why);
    const afb_lang_t *l;
    int k;

    if (st != AFB_OK && (why == NULL || strchr(why, '\n')))
        abort();
    l = afb_catalogue_pick(c, apr_pstrmemdup(p, text, len));
    if (l == NULL || !afb_lang_tag_ok(afb_lang_tag(l)))
        abort();
    for (k = 0; k < AFB_MSG_COUNT; k++) {
        const char *html = afb_msg_html(p, l, k, "user", "<u>", "path", "\"p", "paths", "'s",
                                        "seconds", "<9>", "helpdesk", "<h>", NULL);
        if (strpbrk(html, "<>\"'"))
            abort();
    }
    apr_pool_destroy(p);
    return 0;
}
