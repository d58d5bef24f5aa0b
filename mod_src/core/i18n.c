/* Message catalogues: the built-in languages, an administrator's files, the choice by
 * Accept-Language, and messages with their parameters (include/authfb/i18n.h). */
#include <stdarg.h>
#include <string.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "i18n_builtin.h"
#include "authfb/util.h"

struct afb_lang_t {
    char tag[AFB_LANG_TAG_MAX + 1];
    const char *msgs[AFB_MSG_COUNT]; /* NULL: from English */
};

struct afb_catalogue_t {
    apr_pool_t *pool;
    int n;
    afb_lang_t *langs[AFB_LANG_MAX]; /* [0] is English */
};

static afb_lang_t *afb_lang_new(apr_pool_t *p, const char *tag)
{
    afb_lang_t *l = apr_pcalloc(p, sizeof(*l));
    size_t i;
    for (i = 0; tag[i] && i < AFB_LANG_TAG_MAX; i++)
        l->tag[i] = (char)apr_tolower(tag[i]);
    return l;
}

afb_catalogue_t *afb_catalogue_new(apr_pool_t *p)
{
    afb_catalogue_t *c = apr_pcalloc(p, sizeof(*c));
    int i, k;
    c->pool = p;
    c->langs[c->n] = afb_lang_new(p, "en");
    for (k = 0; k < AFB_MSG_COUNT; k++)
        c->langs[c->n]->msgs[k] = afb_msg_defs[k].en;
    c->n++;
    for (i = 0; afb_builtin_langs[i].tag; i++) {
        c->langs[c->n] = afb_lang_new(p, afb_builtin_langs[i].tag);
        for (k = 0; k < AFB_MSG_COUNT; k++)
            c->langs[c->n]->msgs[k] = afb_builtin_langs[i].msgs[k];
        c->n++;
    }
    return c;
}

int afb_lang_tag_ok(const char *tag)
{
    size_t i, run = 0, n = tag ? strlen(tag) : 0;
    int first = 1;
    if (n == 0 || n > AFB_LANG_TAG_MAX)
        return 0;
    for (i = 0; i <= n; i++) {
        if (i < n && tag[i] != '-') {
            if (!apr_isalnum(tag[i]) || (first && !apr_isalpha(tag[i])))
                return 0;
            run++;
            continue;
        }
        if (run == 0 || run > 8 || (first && run < 2))
            return 0;
        first = 0;
        run = 0;
    }
    return 1;
}

static afb_lang_t *afb_catalogue_find(const afb_catalogue_t *c, const char *tag, size_t n)
{
    int i;
    for (i = 0; i < c->n; i++)
        if (strlen(c->langs[i]->tag) == n && !strncasecmp(c->langs[i]->tag, tag, n))
            return c->langs[i];
    return NULL;
}

const afb_lang_t *afb_catalogue_english(const afb_catalogue_t *c)
{
    return c->langs[0];
}

const char *afb_lang_tag(const afb_lang_t *l)
{
    return l->tag;
}

const char *afb_msg_key(afb_msg_id_t id)
{
    return (int)id >= 0 && id < AFB_MSG_COUNT ? afb_msg_defs[id].key : NULL;
}

/* ---- catalogue files ---- */

static int afb_msg_lookup(const char *key, size_t n)
{
    int k;
    for (k = 0; k < AFB_MSG_COUNT; k++)
        if (strlen(afb_msg_defs[k].key) == n && !memcmp(afb_msg_defs[k].key, key, n))
            return k;
    return -1;
}

/* Is s[0..n) one of the space-separated names in list? */
static int afb_param_allowed(const char *list, const char *s, size_t n)
{
    const char *w = list;
    while (*w) {
        size_t len = strcspn(w, " ");
        if (len == n && !memcmp(w, s, n))
            return 1;
        w += len;
        while (*w == ' ')
            w++;
    }
    return 0;
}

/* NULL when the text may stand for message k, else the reason. */
static const char *afb_msg_text_check(apr_pool_t *p, int k, const char *v, size_t n)
{
    size_t i = 0, q;
    if (n > AFB_MSG_MAX_TEXT)
        return "text longer than 1024 bytes";
    while (i < n) {
        const unsigned char c = (unsigned char)v[i];
        size_t seq = afb_utf8_seq_len((const unsigned char *)v + i, n - i);
        if (c < 0x20 || c == 0x7f || seq == 0)
            return c < 0x80 && seq ? "a control character" : "invalid UTF-8";
        if (c == '}')
            return "a '}' that closes no {parameter}";
        if (c == '{') {
            for (q = i + 1; q < n && v[q] != '}' && v[q] != '{'; q++)
                ;
            if (q >= n || v[q] != '}' || !afb_param_allowed(afb_msg_defs[k].params, v + i + 1,
                                                            q - i - 1))
                return apr_psprintf(p, "unknown parameter (allowed here: %s)",
                                    *afb_msg_defs[k].params ? afb_msg_defs[k].params : "none");
            i = q + 1;
            continue;
        }
        i += seq;
    }
    return NULL;
}

static void afb_trim(const char **s, const char **e)
{
    while (*s < *e && (**s == ' ' || **s == '\t'))
        (*s)++;
    while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r'))
        (*e)--;
}

/* One line of a catalogue file into msgs; NULL or the reason. */
static const char *afb_catalogue_line(apr_pool_t *p, const char *s, const char *e,
                                      const char **msgs)
{
    const char *eq, *ks, *ke, *vs;
    const char *why;
    int k;
    afb_trim(&s, &e);
    if (s == e || *s == '#')
        return NULL;
    if (!(eq = memchr(s, '=', (size_t)(e - s))))
        return "not \"key = text\"";
    ks = s;
    ke = eq;
    vs = eq + 1;
    afb_trim(&ks, &ke);
    afb_trim(&vs, &e);
    if ((k = afb_msg_lookup(ks, (size_t)(ke - ks))) < 0)
        return apr_psprintf(p, "unknown key '%s'", afb_shown(p, ks, (size_t)(ke - ks), 40));
    if (vs == e)
        return "empty text";
    if ((why = afb_msg_text_check(p, k, vs, (size_t)(e - vs))))
        return apr_psprintf(p, "%s: %s", afb_msg_defs[k].key, why);
    msgs[k] = apr_pstrmemdup(p, vs, (size_t)(e - vs));
    return NULL;
}

afb_status_t afb_catalogue_load(afb_catalogue_t *c, const char *tag, const char *text,
                                apr_size_t len, const char **why)
{
    const char *msgs[AFB_MSG_COUNT] = {0};
    const char *s = text, *end = text + len, *bad;
    afb_lang_t *l;
    int line = 0, k;
    if (!afb_lang_tag_ok(tag)) {
        *why = "not a language tag (e.g. de, pt-BR)";
        return AFB_EINVAL;
    }
    if (len > AFB_MSG_FILE_MAX_BYTES) {
        *why = "larger than 64 KiB";
        return AFB_ETOOBIG;
    }
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *e = nl ? nl : end;
        line++;
        if ((bad = afb_catalogue_line(c->pool, s, e, msgs))) {
            *why = apr_psprintf(c->pool, "line %d: %s", line, bad);
            return AFB_EINVAL;
        }
        s = nl ? nl + 1 : end;
    }
    l = afb_catalogue_find(c, tag, strlen(tag));
    if (!l && c->n >= AFB_LANG_MAX) {
        *why = "too many languages";
        return AFB_ETOOBIG;
    }
    if (!l)
        l = c->langs[c->n++] = afb_lang_new(c->pool, tag);
    for (k = 0; k < AFB_MSG_COUNT; k++)
        if (msgs[k])
            l->msgs[k] = msgs[k];
    return AFB_OK;
}

/* ---- Accept-Language ---- */

/* q of ";q=0.8" (0..1000), or -1 when malformed. */
static int afb_qvalue(const char *s, size_t n)
{
    int q = 0, digits = 0;
    size_t i = 2;
    if (n < 3 || (s[0] != 'q' && s[0] != 'Q') || s[1] != '=' || (s[2] != '0' && s[2] != '1'))
        return -1;
    q = (s[2] - '0') * 1000;
    if (n == 3)
        return q;
    if (s[3] != '.')
        return -1;
    for (i = 4; i < n && digits < 3; i++, digits++) {
        if (!apr_isdigit(s[i]))
            return -1;
        q += (s[i] - '0') * (digits == 0 ? 100 : digits == 1 ? 10 : 1);
    }
    return i == n && q <= 1000 ? q : -1;
}

/* The language for one range s[0..n), or NULL. */
static const afb_lang_t *afb_range_match(const afb_catalogue_t *c, const char *s, size_t n)
{
    while (n > 0) {
        const afb_lang_t *l = afb_catalogue_find(c, s, n);
        if (l)
            return l;
        while (n > 0 && s[n - 1] != '-')
            n--;
        if (n > 0)
            n--; /* drop the '-' as well */
    }
    return NULL;
}

/* One comma-separated item: its language (or NULL) and its q. */
static const afb_lang_t *afb_accept_item(const afb_catalogue_t *c, const char *s, const char *e,
                                         int *q)
{
    const char *semi = memchr(s, ';', (size_t)(e - s));
    const char *te = semi ? semi : e, *ps;
    *q = 1000;
    afb_trim(&s, &te);
    if (semi) {
        ps = semi + 1;
        afb_trim(&ps, &e);
        if ((*q = afb_qvalue(ps, (size_t)(e - ps))) < 0)
            return NULL;
    }
    if (te - s > AFB_LANG_TAG_MAX)
        return NULL;
    return afb_range_match(c, s, (size_t)(te - s));
}

const afb_lang_t *afb_catalogue_pick(const afb_catalogue_t *c, const char *accept_language)
{
    const afb_lang_t *best = c->langs[0];
    const char *s = accept_language, *end;
    int best_q = 0, items = 0;
    if (!s)
        return best;
    end = s + strnlen(s, AFB_ACCEPT_LANG_MAX_BYTES);
    while (s < end && items++ < AFB_ACCEPT_LANG_MAX_ITEMS) {
        const char *comma = memchr(s, ',', (size_t)(end - s));
        const char *e = comma ? comma : end;
        int q = 0;
        const afb_lang_t *l = afb_accept_item(c, s, e, &q);
        if (l && q > best_q) {
            best = l;
            best_q = q;
        }
        s = comma ? comma + 1 : end;
    }
    return best;
}

/* ---- messages ---- */

static const char *afb_param_value(const char *const *names, const char *const *values, int n,
                                   const char *s, size_t len)
{
    int i;
    for (i = 0; i < n; i++)
        if (strlen(names[i]) == len && !memcmp(names[i], s, len))
            return values[i] ? values[i] : "";
    return "";
}

#define AFB_MSG_MAX_PARAMS 8

static char *afb_msg_fill(apr_pool_t *p, const char *t, const char *const *names,
                          const char *const *values, int n)
{
    struct iovec vec[2 * AFB_MSG_MAX_TEXT / 2 + 1];
    apr_size_t nvec = 0, total;
    while (*t && nvec + 2 < sizeof(vec) / sizeof(vec[0])) {
        const char *open = strchr(t, '{');
        const char *close = open ? strchr(open, '}') : NULL;
        if (!open || !close) {
            vec[nvec].iov_base = (void *)t;
            vec[nvec++].iov_len = strlen(t);
            break;
        }
        vec[nvec].iov_base = (void *)t;
        vec[nvec++].iov_len = (size_t)(open - t);
        vec[nvec].iov_base = (void *)afb_param_value(names, values, n, open + 1,
                                                     (size_t)(close - open - 1));
        vec[nvec].iov_len = strlen(vec[nvec].iov_base);
        nvec++;
        t = close + 1;
    }
    return apr_pstrcatv(p, vec, nvec, &total);
}

static char *afb_msg_vtext(apr_pool_t *p, const afb_lang_t *l, afb_msg_id_t id, va_list ap)
{
    const char *names[AFB_MSG_MAX_PARAMS], *values[AFB_MSG_MAX_PARAMS];
    const char *t, *name;
    int n = 0;
    if ((int)id < 0 || id >= AFB_MSG_COUNT)
        return apr_pstrdup(p, "");
    t = l && l->msgs[id] ? l->msgs[id] : afb_msg_defs[id].en;
    while (n < AFB_MSG_MAX_PARAMS && (name = va_arg(ap, const char *))) {
        names[n] = name;
        values[n++] = va_arg(ap, const char *);
    }
    return afb_msg_fill(p, t, names, values, n);
}

char *afb_msg_text(apr_pool_t *p, const afb_lang_t *l, afb_msg_id_t id, ...)
{
    va_list ap;
    char *s;
    va_start(ap, id);
    s = afb_msg_vtext(p, l, id, ap);
    va_end(ap);
    return s;
}

char *afb_msg_html(apr_pool_t *p, const afb_lang_t *l, afb_msg_id_t id, ...)
{
    va_list ap;
    char *s;
    va_start(ap, id);
    s = afb_msg_vtext(p, l, id, ap);
    va_end(ap);
    return afb_html_escape(p, s);
}
