/* Message catalogues: the built-in languages are complete and well-formed, a file adds or
 * overrides a language and is refused with its line for anything unknown, nothing in a
 * catalogue or a parameter becomes markup, and Accept-Language picks the language. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <apr_general.h>
#include <apr_strings.h>
#include "authfb/i18n.h"

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

static const char *load_bad(apr_pool_t *p, const char *tag, const char *text)
{
    afb_catalogue_t *c = afb_catalogue_new(p);
    const char *why = NULL;
    assert_int_equal(afb_catalogue_load(c, tag, text, strlen(text), &why), AFB_EINVAL);
    assert_non_null(why);
    return why;
}

static const char *pick(apr_pool_t *p, const afb_catalogue_t *c, const char *al)
{
    (void)p;
    return afb_lang_tag(afb_catalogue_pick(c, al));
}

/* Every built-in text, written out as a catalogue file, loads again: its parameters are the
 * ones its message allows, its braces match, no control characters, valid UTF-8. */
static void test_builtins_are_valid_files(void **state)
{
    const char *tags[] = {"en", "de", "fr", "es"};
    afb_catalogue_t *c = afb_catalogue_new(*state);
    size_t i;
    int k;
    for (i = 0; i < 4; i++) {
        const afb_lang_t *l = afb_catalogue_pick(c, tags[i]);
        afb_catalogue_t *fresh = afb_catalogue_new(*state);
        const char *file = "", *why = NULL;
        assert_string_equal(afb_lang_tag(l), tags[i]);
        for (k = 0; k < AFB_MSG_COUNT; k++) {
            assert_non_null(afb_msg_key(k));
            file = apr_pstrcat(*state, file, afb_msg_key(k), " = ",
                               afb_msg_text(*state, l, k, "user", "{user}", "path", "{path}",
                                            "paths", "{paths}", "seconds", "{seconds}",
                                            "helpdesk", "{helpdesk}", NULL),
                               "\n", NULL);
        }
        assert_int_equal(afb_catalogue_load(fresh, tags[i],
                                            file, strlen(file), &why), AFB_OK);
        assert_null(why);
        assert_non_null(strstr(file, "{seconds}")); /* the raw texts, parameters unfilled */
    }
}

/* German, French and Spanish translate every message (none falls back to English), except
 * where the word is the same. */
static void test_builtins_translated(void **state)
{
    const char *tags[] = {"de", "fr", "es"};
    afb_catalogue_t *c = afb_catalogue_new(*state);
    const afb_lang_t *en = afb_catalogue_english(c);
    size_t i;
    int k, same;
    for (i = 0; i < 3; i++) {
        const afb_lang_t *l = afb_catalogue_pick(c, tags[i]);
        for (same = 0, k = 0; k < AFB_MSG_COUNT; k++)
            same += !strcmp(afb_msg_text(*state, l, k, NULL), afb_msg_text(*state, en, k, NULL));
        assert_true(same <= 1); /* "Code" is "Code" in German and French */
    }
    assert_string_equal(afb_msg_text(*state, afb_catalogue_pick(c, "de"), AFB_MSG_LOGIN_TITLE,
                                     NULL), "Anmelden");
}

static void test_parameters_and_escaping(void **state)
{
    afb_catalogue_t *c = afb_catalogue_new(*state);
    const afb_lang_t *en = afb_catalogue_english(c);
    const char *why = NULL;
    const char *file = "mfa.intro = <b>Code</b> for {user} & \"more\"\n";
    assert_string_equal(afb_msg_text(*state, en, AFB_MSG_THROTTLED_WAIT, "seconds", "42", NULL),
                        "Please wait 42 seconds before trying again.");
    assert_string_equal(afb_msg_html(*state, en, AFB_MSG_MFA_INTRO, "user", "<img src=x>", NULL),
                        "Enter the code from your authenticator app for &lt;img src=x&gt;.");
    /* a parameter value that looks like a parameter is not filled in again */
    assert_string_equal(afb_msg_text(*state, en, AFB_MSG_MFA_INTRO, "user", "{user}", NULL),
                        "Enter the code from your authenticator app for {user}.");
    assert_int_equal(afb_catalogue_load(c, "en", file, strlen(file), &why), AFB_OK);
    assert_string_equal(afb_msg_html(*state, afb_catalogue_english(c), AFB_MSG_MFA_INTRO,
                                     "user", "a'b", NULL),
                        "&lt;b&gt;Code&lt;/b&gt; for a&#39;b &amp; &quot;more&quot;");
}

static void test_file_refusals(void **state)
{
    const char *why = load_bad(*state, "de", "# ok\nlogin.title = Hallo\n\nlogin.titel = x\n");
    assert_non_null(strstr(why, "line 4"));
    assert_non_null(strstr(why, "unknown key 'login.titel'"));
    why = load_bad(*state, "de", "mfa.intro = Code für {benutzer}\n");
    assert_non_null(strstr(why, "line 1"));
    assert_non_null(strstr(why, "allowed here: user"));
    assert_non_null(strstr(load_bad(*state, "de", "login.title = a } b"), "'}'"));
    assert_non_null(strstr(load_bad(*state, "de", "login.title = a { b"), "parameter"));
    assert_non_null(strstr(load_bad(*state, "de", "login.title = a\x01"), "control"));
    assert_non_null(strstr(load_bad(*state, "de", "login.title = a\xc3("), "UTF-8"));
    assert_non_null(strstr(load_bad(*state, "de", "login.title"), "key = text"));
    assert_non_null(strstr(load_bad(*state, "de", "login.title = "), "empty"));
    assert_non_null(strstr(load_bad(*state, "d", "login.title = x"), "language tag"));
    assert_non_null(strstr(load_bad(*state, "de_DE", "login.title = x"), "language tag"));
    assert_null(strchr(load_bad(*state, "de", "\x1b[31m = x"), '\x1b'));
}

static void test_file_refused_leaves_set_unchanged(void **state)
{
    afb_catalogue_t *c = afb_catalogue_new(*state);
    const char *why = NULL, *bad = "login.title = Neu\nnope = x\n";
    assert_int_equal(afb_catalogue_load(c, "de", bad, strlen(bad), &why), AFB_EINVAL);
    assert_string_equal(afb_msg_text(*state, afb_catalogue_pick(c, "de"), AFB_MSG_LOGIN_TITLE,
                                     NULL), "Anmelden");
}

static void test_add_and_override(void **state)
{
    afb_catalogue_t *c = afb_catalogue_new(*state);
    const char *why = NULL;
    const char *pt = "login.title = Entrar\r\n  login.user\t=  Utilizador  \n";
    const char *de = "login.title = Willkommen\n";
    assert_int_equal(afb_catalogue_load(c, "pt-BR", pt, strlen(pt), &why), AFB_OK);
    assert_int_equal(afb_catalogue_load(c, "DE", de, strlen(de), &why), AFB_OK);
    assert_string_equal(pick(*state, c, "pt-br,en;q=0.5"), "pt-br");
    assert_string_equal(afb_msg_text(*state, afb_catalogue_pick(c, "pt-BR"), AFB_MSG_LOGIN_USER,
                                     NULL), "Utilizador");
    /* missing from the new language: English */
    assert_string_equal(afb_msg_text(*state, afb_catalogue_pick(c, "pt-BR"),
                                     AFB_MSG_LOGIN_PASSWORD, NULL), "Password");
    /* an override keeps the other built-in messages of the language */
    assert_string_equal(afb_msg_text(*state, afb_catalogue_pick(c, "de"), AFB_MSG_LOGIN_TITLE,
                                     NULL), "Willkommen");
    assert_string_equal(afb_msg_text(*state, afb_catalogue_pick(c, "de"),
                                     AFB_MSG_LOGIN_PASSWORD, NULL), "Passwort");
}

static void test_accept_language(void **state)
{
    afb_catalogue_t *c = afb_catalogue_new(*state);
    assert_string_equal(pick(*state, c, NULL), "en");
    assert_string_equal(pick(*state, c, ""), "en");
    assert_string_equal(pick(*state, c, "de"), "de");
    assert_string_equal(pick(*state, c, "de-CH,de;q=0.9,en;q=0.8"), "de");
    assert_string_equal(pick(*state, c, "xx-YY, zz"), "en");
    assert_string_equal(pick(*state, c, "*"), "en");
    assert_string_equal(pick(*state, c, "fr;q=0.5, es;q=0.8"), "es");
    assert_string_equal(pick(*state, c, "fr;q=0.8, es;q=0.8"), "fr");
    assert_string_equal(pick(*state, c, "de;q=0, fr;q=0.1"), "fr");
    assert_string_equal(pick(*state, c, "de;q=0"), "en");
    assert_string_equal(pick(*state, c, "es;q=2, fr"), "fr");
    assert_string_equal(pick(*state, c, "es;q=0.1234, fr;q=0.1"), "fr");
    assert_string_equal(pick(*state, c, "  FR-ca ; q=0.7 "), "fr");
    assert_string_equal(pick(*state, c, "ja,de-AT-x-private;q=0.2"), "de");
    assert_string_equal(pick(*state, c, ",,,;;;=,q=,;q"), "en");
}

static void test_accept_language_caps(void **state)
{
    afb_catalogue_t *c = afb_catalogue_new(*state);
    char *h = apr_palloc(*state, 4000);
    int i;
    size_t o = 0;
    for (i = 0; i < 40; i++) {
        memcpy(h + o, "xx,", 3);
        o += 3;
    }
    memcpy(h + o, "de", 3); /* item 41: not looked at */
    assert_string_equal(pick(*state, c, h), "en");
    memset(h, ' ', 3000);
    memcpy(h + 2000, "de", 3);
    assert_string_equal(pick(*state, c, h), "en");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_builtins_are_valid_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_builtins_translated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parameters_and_escaping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_refused_leaves_set_unchanged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_and_override, setup, teardown),
        cmocka_unit_test_setup_teardown(test_accept_language, setup, teardown),
        cmocka_unit_test_setup_teardown(test_accept_language_caps, setup, teardown),
    };
    apr_initialize();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
