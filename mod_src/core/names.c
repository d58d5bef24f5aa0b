/* Name rules (names.h, docs/directives.md "Name rules"). Unicode comes from utf8proc: its
 * tables give NFC, full case folding and the general categories, for the Unicode version the
 * system library carries, the same in every process of a server. */
#include "authfb/names.h"

#include <stdlib.h>
#include <string.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <utf8proc.h>

#define AFB_NAME_IN_MAX (4 * AFB_NAME_MAX) /* bytes read before normalizing */
#define AFB_REALMS_MAX 16

struct afb_names_index_t {
    apr_hash_t *byk; /* key -> store name; "" when two names share the key */
};

static const char clash_mark[] = "";

/* ---- code points ---- */

static int is_space(utf8proc_int32_t c)
{
    if (c == ' ' || (c >= 0x09 && c <= 0x0d) || c == 0x85 || c == 0x2028 || c == 0x2029)
        return 1;
    return utf8proc_category(c) == UTF8PROC_CATEGORY_ZS;
}

/* Characters that make a string no name at all (and that a log line must not carry raw). */
static int is_control(utf8proc_int32_t c)
{
    utf8proc_category_t cat = utf8proc_category(c);
    return cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_ZL ||
           cat == UTF8PROC_CATEGORY_ZP || cat == UTF8PROC_CATEGORY_CS;
}

/* The next code point at s[*i..n), or -1 for a byte that does not start a valid one. */
static utf8proc_int32_t next_cp(const char *s, size_t n, size_t *i, size_t *len)
{
    utf8proc_int32_t c = -1;
    utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + *i,
                                          (utf8proc_ssize_t)(n - *i), &c);
    if (k <= 0) {
        *len = 1;
        return -1;
    }
    *len = (size_t)k;
    return c;
}

/* [*from, *to) without the white space at either end; AFB_EINVAL for invalid UTF-8 or
 * nothing left. */
static afb_status_t trim_span(const char *s, size_t n, size_t *from, size_t *to)
{
    size_t i = 0, len = 0;
    int started = 0;

    *from = 0;
    *to = 0;
    for (; i < n; i += len) {
        utf8proc_int32_t c = next_cp(s, n, &i, &len);
        if (c < 0)
            return AFB_EINVAL;
        if (is_space(c))
            continue;
        if (!started)
            *from = i;
        started = 1;
        *to = i + len;
    }
    return started ? AFB_OK : AFB_EINVAL;
}

/* A control character (a tab or a line break included) inside a trimmed span. */
static int has_control(const char *s, size_t from, size_t to)
{
    size_t i = from, len = 0;

    for (; i < to; i += len)
        if (is_control(next_cp(s, to, &i, &len)))
            return 1;
    return 0;
}

/* utf8proc_map with the given options, copied into the pool. */
static afb_status_t map_into(apr_pool_t *p, const char *s, size_t n, utf8proc_option_t opt,
                             const char **out)
{
    utf8proc_uint8_t *m = NULL;
    utf8proc_ssize_t k = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &m,
                                      (utf8proc_option_t)(opt | UTF8PROC_STABLE));
    if (k < 0) {
        free(m);
        return AFB_EINVAL;
    }
    if ((size_t)k > AFB_NAME_MAX) {
        free(m);
        return AFB_EINVAL;
    }
    *out = apr_pstrmemdup(p, (const char *)m, (apr_size_t)k);
    free(m);
    return AFB_OK;
}

/* ---- normalizing ---- */

afb_status_t afb_name_normalize(apr_pool_t *p, const char *in, const char **out)
{
    size_t n, from, to;

    if (in == NULL)
        return AFB_EINVAL;
    n = strnlen(in, AFB_NAME_IN_MAX + 1);
    if (n > AFB_NAME_IN_MAX || trim_span(in, n, &from, &to) != AFB_OK ||
        has_control(in, from, to))
        return AFB_EINVAL;
    return map_into(p, in + from, to - from, UTF8PROC_COMPOSE, out);
}

afb_status_t afb_name_fold(apr_pool_t *p, const char *in, const char **out)
{
    if (in == NULL)
        return AFB_EINVAL;
    return map_into(p, in, strnlen(in, AFB_NAME_MAX + 1),
                    (utf8proc_option_t)(UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD), out);
}

/* ---- realms ---- */

static int realm_listed(apr_pool_t *p, const afb_names_t *rules, const char *realm, size_t n)
{
    const char *folded;
    int i;

    if (afb_name_fold(p, apr_pstrmemdup(p, realm, n), &folded) != AFB_OK)
        return 0;
    for (i = 0; i < rules->realms->nelts; i++)
        if (strcmp(APR_ARRAY_IDX(rules->realms, i, const char *), folded) == 0)
            return 1;
    return 0;
}

/* The short name of a normalized name: AFB_OK with *shortn (the name itself when it names no
 * realm or no realms= is set), AFB_ENOENT for a realm not listed, or more than one realm. */
static afb_status_t split_realm(apr_pool_t *p, const afb_names_t *rules, const char *name,
                                const char **shortn)
{
    const char *bs = strchr(name, '\\'), *at = strrchr(name, '@');
    const char *realm, *user;
    size_t rn, un;

    *shortn = name;
    if (rules->realms == NULL || (bs == NULL && at == NULL))
        return AFB_OK;
    if (bs != NULL && at != NULL)
        return AFB_ENOENT;
    if (bs != NULL) {
        realm = name;
        rn = (size_t)(bs - name);
        user = bs + 1;
        un = strlen(user);
    } else {
        realm = at + 1;
        rn = strlen(realm);
        user = name;
        un = (size_t)(at - name);
    }
    /* one realm, in one place: "a@b@corp.example" and "CORP\\a\\b" are nobody's names */
    if (rn == 0 || un == 0 || memchr(user, '@', un) != NULL ||
        memchr(user, '\\', un) != NULL || !realm_listed(p, rules, realm, rn))
        return AFB_ENOENT;
    *shortn = apr_pstrmemdup(p, user, un);
    return AFB_OK;
}

afb_status_t afb_names_apply(apr_pool_t *p, const afb_names_t *rules, const char *in,
                             afb_name_t *out)
{
    afb_status_t st;

    memset(out, 0, sizeof(*out));
    if ((st = afb_name_normalize(p, in, &out->normal)) != AFB_OK)
        return st;
    if ((st = split_realm(p, rules, out->normal, &out->shortn)) != AFB_OK)
        return st;
    if (rules->mode == AFB_NAMES_CASELESS)
        return afb_name_fold(p, out->shortn, &out->key);
    out->key = out->shortn;
    return AFB_OK;
}

const char *afb_names_user(apr_pool_t *p, const afb_names_t *rules, const char *provider_form)
{
    const char *shortn = provider_form;

    if (rules->form == AFB_FORM_AS_IS)
        return provider_form;
    if (split_realm(p, rules, provider_form, &shortn) != AFB_OK)
        shortn = provider_form;
    if (rules->form == AFB_FORM_SHORT)
        return shortn;
    return apr_pstrcat(p, shortn, "@", rules->form_realm, NULL);
}

/* ---- for logs ---- */

const char *afb_name_for_log(apr_pool_t *p, const char *typed)
{
    const char *s = NULL, *out = "";
    size_t n, i = 0, len = 0;
    int chars = 0;

    if (typed == NULL)
        return NULL;
    if (afb_name_normalize(p, typed, &s) != AFB_OK)
        s = typed;
    n = strnlen(s, AFB_NAME_IN_MAX);
    for (; i < n && chars < AFB_NAME_LOG_MAX; i += len, chars++) {
        utf8proc_int32_t c = next_cp(s, n, &i, &len);
        const char *piece;
        if (c < 0)
            piece = apr_psprintf(p, "\\x%02x", (unsigned)(unsigned char)s[i]);
        else if (c == '\\' || is_control(c) ||
                 utf8proc_category(c) == UTF8PROC_CATEGORY_CF)
            piece = apr_psprintf(p, c < 0x100 ? "\\x%02x" : "\\u%04x", (unsigned)c);
        else
            piece = apr_pstrmemdup(p, s + i, len);
        out = apr_pstrcat(p, out, piece, NULL);
    }
    return out;
}

/* ---- configuration ---- */

static const char *parse_mode(apr_pool_t *p, afb_names_t *rules, const char *word,
                              const char *val)
{
    if (strcasecmp(val, "exact") == 0)
        rules->mode = AFB_NAMES_EXACT;
    else if (strcasecmp(val, "caseless") == 0)
        rules->mode = AFB_NAMES_CASELESS;
    else
        return apr_psprintf(p, "%s: must be exact or caseless", word);
    return NULL;
}

/* A realm as written in the configuration: a name without '@', '\' or ',' and no space. */
static const char *realm_word(apr_pool_t *p, const char *in, const char **out)
{
    const char *norm;

    if (afb_name_normalize(p, in, &norm) != AFB_OK || strcmp(norm, in) != 0 ||
        strpbrk(norm, "@\\, \t") != NULL)
        return "not a realm";
    *out = norm;
    return NULL;
}

static const char *parse_realms(apr_pool_t *p, afb_names_t *rules, const char *word,
                                const char *val)
{
    char *list = apr_pstrdup(p, val), *last = NULL, *one;
    const char *norm, *folded;
    size_t n = strlen(val);

    if (n == 0 || val[0] == ',' || val[n - 1] == ',' || strstr(val, ",,") != NULL)
        return apr_psprintf(p, "%s: expected REALM[,REALM]", word);
    rules->realms = apr_array_make(p, 4, sizeof(const char *));
    for (one = apr_strtok(list, ",", &last); one; one = apr_strtok(NULL, ",", &last)) {
        if (realm_word(p, one, &norm) != NULL || afb_name_fold(p, norm, &folded) != AFB_OK)
            return apr_psprintf(p, "%s: '%s' is not a realm (no '@', '\\' or space)", word,
                                one);
        if (rules->realms->nelts >= AFB_REALMS_MAX)
            return apr_psprintf(p, "%s: at most %d realms", word, AFB_REALMS_MAX);
        APR_ARRAY_PUSH(rules->realms, const char *) = folded;
    }
    return NULL;
}

static const char *parse_form(apr_pool_t *p, afb_names_t *rules, const char *word,
                              const char *val)
{
    if (strcasecmp(val, "as-is") == 0) {
        rules->form = AFB_FORM_AS_IS;
    } else if (strcasecmp(val, "short") == 0) {
        rules->form = AFB_FORM_SHORT;
    } else if (val[0] == '@' && realm_word(p, val + 1, &rules->form_realm) == NULL) {
        rules->form = AFB_FORM_REALM;
    } else {
        return apr_psprintf(p, "%s: must be as-is, short or @REALM", word);
    }
    return NULL;
}

const char *afb_names_parse_key(apr_pool_t *p, afb_names_t *rules, const char *word,
                                const char *key, const char *val)
{
    if (strcasecmp(key, "names") == 0)
        return parse_mode(p, rules, word, val);
    if (strcasecmp(key, "realms") == 0)
        return parse_realms(p, rules, word, val);
    if (strcasecmp(key, "user_form") == 0)
        return parse_form(p, rules, word, val);
    return apr_psprintf(p, "%s: not a name rule", word);
}

/* ---- store index ---- */

afb_names_index_t *afb_names_index(apr_pool_t *p, const afb_names_t *rules,
                                   const apr_array_header_t *names, int *clashes)
{
    afb_names_index_t *ix = apr_pcalloc(p, sizeof(*ix));
    int i;

    ix->byk = apr_hash_make(p);
    if (clashes)
        *clashes = 0;
    for (i = 0; names != NULL && i < names->nelts; i++) {
        const char *stored = APR_ARRAY_IDX(names, i, const char *);
        afb_name_t n;
        if (afb_names_apply(p, rules, stored, &n) != AFB_OK)
            continue; /* a name nobody can type under these rules */
        if (apr_hash_get(ix->byk, n.key, APR_HASH_KEY_STRING) != NULL) {
            apr_hash_set(ix->byk, n.key, APR_HASH_KEY_STRING, clash_mark);
            if (clashes)
                (*clashes)++;
            continue;
        }
        apr_hash_set(ix->byk, n.key, APR_HASH_KEY_STRING, stored);
    }
    return ix;
}

const char *afb_names_index_find(const afb_names_index_t *ix, const char *key)
{
    const char *stored;

    if (ix == NULL || key == NULL)
        return NULL;
    stored = apr_hash_get(ix->byk, key, APR_HASH_KEY_STRING);
    return stored == clash_mark ? NULL : stored;
}
