/* Page templates: the placeholders, what is refused (and where), escaping of every value but
 * the module's own content, the helpdesk line on the pages that end a journey, logo URLs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <apr_general.h>
#include "authfb/page.h"

static int setup(void **state)
{
    apr_pool_t *p;
    apr_pool_create(&p, NULL);
    *state = p;
    return 0;
}

static int teardown(void **state)
{
    apr_pool_destroy(*state);
    return 0;
}

static afb_tpl_t *parse_ok(apr_pool_t *p, const char *text)
{
    afb_tpl_t *t = NULL;
    const char *why = NULL;
    assert_int_equal(afb_tpl_parse(p, text, strlen(text), &t, &why), AFB_OK);
    assert_non_null(t);
    return t;
}

static const char *parse_bad(apr_pool_t *p, const char *text)
{
    afb_tpl_t *t = NULL;
    const char *why = NULL;
    assert_int_equal(afb_tpl_parse(p, text, strlen(text), &t, &why), AFB_EINVAL);
    assert_non_null(why);
    return why;
}

static const char full[] =
    "<html lang=\"{{lang}}\"><title>{{title}} - {{organisation}}</title>\n"
    "<img src=\"{{logo}}\" alt=\"{{organisation}}\"><main>{{content}}</main>\n"
    "<footer>{{helpdesk}}</footer></html>";

static void test_every_placeholder(void **state)
{
    afb_tpl_t *t = parse_ok(*state, full);
    afb_page_vals_t v = {.lang = "de", .title = "Anmelden", .content = "<form></form>",
                         .organisation = "ACME", .logo = "https://cdn.example/logo.png",
                         .helpdesk = "Call 0800 123"};
    const char *html = afb_page_render(*state, t, &v);
    assert_string_equal(html,
        "<html lang=\"de\"><title>Anmelden - ACME</title>\n"
        "<img src=\"https://cdn.example/logo.png\" alt=\"ACME\"><main><form></form></main>\n"
        "<footer>Call 0800 123</footer></html>");
    assert_true(t->has_helpdesk);
}

static void test_values_escaped_content_not(void **state)
{
    afb_tpl_t *t = parse_ok(*state, full);
    afb_page_vals_t v = {.lang = "\"><script>", .title = "<b>t</b>",
                         .content = "<p class=\"x\">ok</p>", .organisation = "A&B \"Co\" 'x'",
                         .logo = "/l.png?a=1&b=2", .helpdesk = "<a href=x>help</a>"};
    const char *html = afb_page_render(*state, t, &v);
    assert_non_null(strstr(html, "lang=\"&quot;&gt;&lt;script&gt;\""));
    assert_non_null(strstr(html, "<title>&lt;b&gt;t&lt;/b&gt; - A&amp;B &quot;Co&quot; &#39;x&#39;"));
    assert_non_null(strstr(html, "src=\"/l.png?a=1&amp;b=2\""));
    assert_non_null(strstr(html, "<main><p class=\"x\">ok</p></main>"));
    assert_non_null(strstr(html, "<footer>&lt;a href=x&gt;help&lt;/a&gt;</footer>"));
    assert_null(strstr(html, "<script>"));
    assert_null(strstr(html, "<b>"));
}

static void test_refused_with_line(void **state)
{
    const char *why = parse_bad(*state, "<p>\n\n{{content}} {{colour}}</p>");
    assert_non_null(strstr(why, "line 3"));
    assert_non_null(strstr(why, "{{colour}}"));
    why = parse_bad(*state, "{{content}}\n{{ title }}");
    assert_non_null(strstr(why, "line 2"));
    why = parse_bad(*state, "{{content}}\n{{title");
    assert_non_null(strstr(why, "closing"));
    why = parse_bad(*state, "{{TITLE}}{{content}}");
    assert_non_null(strstr(why, "unknown placeholder"));
    assert_non_null(strstr(parse_bad(*state, "<p>{{title}}</p>"), "{{content}}"));
    assert_non_null(strstr(parse_bad(*state, "{{content}}{{content}}"), "exactly once"));
    /* The reason never carries the raw bytes of the file. */
    why = parse_bad(*state, "{{content}}{{\x1b[31m}}");
    assert_null(strchr(why, '\x1b'));
}

static void test_caps(void **state)
{
    afb_tpl_t *t = NULL;
    const char *why = NULL;
    char *big = apr_palloc(*state, AFB_TPL_MAX_BYTES + 2);
    char *many = apr_palloc(*state, 600 * 10 + 20);
    size_t o = 0;
    int i;
    memset(big, 'x', AFB_TPL_MAX_BYTES + 1);
    big[AFB_TPL_MAX_BYTES + 1] = '\0';
    assert_int_equal(afb_tpl_parse(*state, big, AFB_TPL_MAX_BYTES + 1, &t, &why), AFB_ETOOBIG);
    memcpy(many, "{{content}}", 11);
    o = 11;
    for (i = 0; i < 600; i++) {
        memcpy(many + o, "x{{lang}}", 9);
        o += 9;
    }
    assert_int_equal(afb_tpl_parse(*state, many, o, &t, &why), AFB_ETOOBIG);
    assert_int_equal(afb_tpl_parse(*state, "a\0{{content}}", 13, &t, &why), AFB_EINVAL);
}

static void test_single_braces_are_text(void **state)
{
    afb_tpl_t *t = parse_ok(*state, "<style>p{color:red}</style>{{content}}{");
    afb_page_vals_t v = {.content = "C"};
    assert_string_equal(afb_page_render(*state, t, &v), "<style>p{color:red}</style>C{");
}

static void test_helpdesk_on_journey_end(void **state)
{
    afb_tpl_t *without = parse_ok(*state, "<main>{{content}}</main>");
    afb_tpl_t *with = parse_ok(*state, full);
    afb_page_vals_t v = {.title = "Access denied", .content = "<p>no</p>",
                         .helpdesk = "Call <x>", .help_label = "Need help? Call <x>",
                         .journey_end = 1};
    const char *html = afb_page_render(*state, without, &v);
    assert_string_equal(html, "<main><p>no</p>\n<p class=\"afb-help\">Need help? Call &lt;x&gt;"
                              "</p></main>");
    html = afb_page_render(*state, with, &v);
    assert_null(strstr(html, "afb-help"));
    assert_non_null(strstr(html, "<footer>Call &lt;x&gt;</footer>"));
    /* the built-in frame */
    html = afb_page_render(*state, NULL, &v);
    assert_non_null(strstr(html, "<p class=\"afb-help\">Need help? Call &lt;x&gt;</p>"));
    v.journey_end = 0;
    assert_null(strstr(afb_page_render(*state, NULL, &v), "afb-help"));
    assert_null(strstr(afb_page_render(*state, without, &v), "afb-help"));
}

static void test_builtin_frame(void **state)
{
    afb_page_vals_t v = {.title = "Sign in", .content = "<form></form>"};
    const char *html = afb_page_render(*state, NULL, &v);
    assert_non_null(strstr(html, "<html lang=\"en\">"));
    assert_non_null(strstr(html, "name=\"viewport\""));
    assert_null(strstr(html, "afb-brand")); /* nothing set: the page as it always was */
    v.lang = "fr";
    v.logo = "https://x.example/l.svg";
    v.organisation = "Ville & Co";
    html = afb_page_render(*state, NULL, &v);
    assert_non_null(strstr(html, "<html lang=\"fr\">"));
    assert_non_null(strstr(html, "<img class=\"afb-logo\" src=\"https://x.example/l.svg\" "
                                 "alt=\"Ville &amp; Co\">"));
    assert_non_null(strstr(html, "<span class=\"afb-org\">Ville &amp; Co</span>"));
}

static void test_logo_urls(void **state)
{
    (void)state;
    assert_true(afb_logo_url_ok("https://cdn.example/logo.png"));
    assert_true(afb_logo_url_ok("http://127.0.0.1:8080/l.png"));
    assert_true(afb_logo_url_ok("/static/logo.svg"));
    assert_false(afb_logo_url_ok("javascript:alert(1)"));
    assert_false(afb_logo_url_ok("data:image/png;base64,AAAA"));
    assert_false(afb_logo_url_ok("//evil.example/x.png"));
    assert_false(afb_logo_url_ok("https://"));
    assert_false(afb_logo_url_ok("/a\"onerror=\"x"));
    assert_false(afb_logo_url_ok("/a b"));
    assert_false(afb_logo_url_ok("logo.png"));
    assert_false(afb_logo_url_ok(""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_placeholder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_values_escaped_content_not, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_with_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_caps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_single_braces_are_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_helpdesk_on_journey_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_builtin_frame, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logo_urls, setup, teardown),
    };
    apr_initialize();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
