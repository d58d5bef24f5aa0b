/* The override file: `NAME VERB` lines, parsed line by line (a bad line is a warning and keeps
 * the override its provider had, never a reason to drop the good ones), and applied to the
 * health table. See authfb/override.h. */
#include <string.h>
#include <strings.h>
#include <apr_file_io.h>
#include <apr_strings.h>

#include "authfb/override.h"
#include "authfb/file.h"

#define MAX_TOKENS 3

typedef struct {
    apr_pool_t *p;
    const char *const *known;
    int nknown;
    afb_override_list_t *l;
} parse_ctx_t;

static void warn(parse_ctx_t *c, int line, const char *msg)
{
    APR_ARRAY_PUSH(c->l->warnings, const char *) = apr_psprintf(c->p, "line %d: %s", line, msg);
}

static int has_control_chars(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch < 0x20 && ch != '\t') || ch == 0x7F)
            return 1;
    }
    return 0;
}

/* Splits s[0..n) on blanks; stores up to MAX_TOKENS tokens, returns how many there were. */
static int tokenize(apr_pool_t *p, const char *s, size_t n, const char **tok)
{
    size_t i = 0, start;
    int count = 0;

    while (i < n) {
        while (i < n && (s[i] == ' ' || s[i] == '\t'))
            i++;
        if (i == n)
            break;
        start = i;
        while (i < n && s[i] != ' ' && s[i] != '\t')
            i++;
        if (count < MAX_TOKENS)
            tok[count] = apr_pstrmemdup(p, s + start, i - start);
        count++;
    }
    return count;
}

static int is_known(const parse_ctx_t *c, const char *name)
{
    int i;

    if (c->known == NULL)
        return 1;
    for (i = 0; i < c->nknown; i++)
        if (c->known[i] != NULL && strcmp(c->known[i], name) == 0)
            return 1;
    return 0;
}

static afb_override_entry_t *entry_find(const afb_override_list_t *l, const char *name)
{
    int i;

    for (i = 0; i < l->entries->nelts; i++) {
        afb_override_entry_t *e = &APR_ARRAY_IDX(l->entries, i, afb_override_entry_t);
        if (strcmp(e->name, name) == 0)
            return e;
    }
    return NULL;
}

static afb_override_entry_t *entry_get(parse_ctx_t *c, const char *name)
{
    afb_override_entry_t *e = entry_find(c->l, name);

    if (e == NULL) {
        e = apr_array_push(c->l->entries);
        memset(e, 0, sizeof(*e));
        memcpy(e->name, name, strlen(name) + 1); /* valid names are at most 32 characters */
    }
    return e;
}

static void entry_set(parse_ctx_t *c, int line, const char *name, afb_override_t v)
{
    afb_override_entry_t *e = entry_find(c->l, name);

    if (e != NULL && e->line > 0)
        warn(c, line, apr_psprintf(c->p, "'%s' repeats line %d; the last line wins", name,
                                   e->line));
    e = entry_get(c, name);
    e->value = v;
    e->line = line;
}

/* A line for a known provider that does not parse: that provider keeps the override it has
 * (a typo must not put a provider taken out of use back into automatic use). */
static void entry_keep(parse_ctx_t *c, int line, const char *name, const char *why)
{
    afb_override_entry_t *e = entry_get(c, name);

    e->keep = 1;
    if (e->error == NULL)
        e->error = apr_psprintf(c->p, "line %d: %s", line, why);
}

static void bad_line(parse_ctx_t *c, int line, const char *name, const char *why)
{
    c->l->bad_lines++;
    warn(c, line, why);
    if (name != NULL && afb_provider_name_valid(name) && is_known(c, name))
        entry_keep(c, line, name, why);
}

/* The verbs of a line `NAME VERB [ARG]`: a new verb is one more row (with its own apply
 * function when it does more than set the override). */
typedef struct verb_spec_t verb_spec_t;
typedef void verb_apply_fn(parse_ctx_t *c, int line, const char *name, const verb_spec_t *v,
                           const char *arg);
struct verb_spec_t {
    const char *verb;
    int nargs;             /* words after the verb: 0 or 1 (MAX_TOKENS) */
    afb_override_t value;  /* for apply_state */
    verb_apply_fn *apply;
};

static void apply_state(parse_ctx_t *c, int line, const char *name, const verb_spec_t *v,
                        const char *arg)
{
    (void)arg;
    entry_set(c, line, name, v->value);
}

/* `NAME release`: take the store copy held back by the deletion guard into use; it leaves
 * the provider's override as it is. */
static void verb_release(parse_ctx_t *c, int line, const char *name, const verb_spec_t *v,
                         const char *arg)
{
    (void)line; (void)v; (void)arg;
    APR_ARRAY_PUSH(c->l->releases, const char *) = name;
}

/* `NAME drill PERCENT%|CIDR[,CIDR]`: rehearse an outage of NAME for some new sign-ins; it
 * leaves the provider's override as it is. */
static void verb_drill(parse_ctx_t *c, int line, const char *name, const verb_spec_t *v,
                       const char *arg)
{
    afb_drill_t d;
    const char *why = NULL;
    afb_override_entry_t *e;

    (void)v;
    if (afb_drill_parse(arg, &d, &why) != AFB_OK) {
        c->l->good_lines--;
        bad_line(c, line, name, apr_psprintf(c->p, "drill: %s", why));
        return;
    }
    e = entry_find(c->l, name);
    if (e != NULL && e->drill_line > 0)
        warn(c, line, apr_psprintf(c->p, "'%s drill' repeats line %d; the last line wins",
                                   name, e->drill_line));
    e = entry_get(c, name);
    e->drill = d;
    e->drill_line = line;
}

static const verb_spec_t verbs[] = {
    { "auto", 0, AFB_OVERRIDE_AUTO, apply_state },
    { "up", 0, AFB_OVERRIDE_UP, apply_state },
    { "down", 0, AFB_OVERRIDE_DOWN, apply_state },
    { "release", 0, AFB_OVERRIDE_AUTO, verb_release },
    { "drill", 1, AFB_OVERRIDE_AUTO, verb_drill },
    { NULL, 0, AFB_OVERRIDE_AUTO, NULL }
};

static const verb_spec_t *verb_find(const char *s)
{
    const verb_spec_t *v;

    for (v = verbs; v->verb != NULL; v++)
        if (strcasecmp(s, v->verb) == 0)
            return v;
    return NULL;
}

/* Checks the words of one line and records the entry, or warns. */
static void parse_words(parse_ctx_t *c, int line, const char **tok, int ntok)
{
    const verb_spec_t *v;

    if (ntok < 2) {
        bad_line(c, line, tok[0], "expected NAME auto|up|down|release|drill ARG");
        return;
    }
    if (!afb_provider_name_valid(tok[0])) {
        bad_line(c, line, NULL, "invalid provider name (1-32 of A-Z a-z 0-9 _ . -)");
        return;
    }
    if ((v = verb_find(tok[1])) == NULL) {
        bad_line(c, line, tok[0], apr_psprintf(c->p, "unknown state '%.32s' (expected auto, "
                                               "up, down, release or drill)", tok[1]));
        return;
    }
    if (ntok != 2 + v->nargs) {
        bad_line(c, line, tok[0], v->nargs == 0 || ntok > 2 + v->nargs
                 ? apr_psprintf(c->p, "unexpected text after '%.32s'", tok[1 + v->nargs])
                 : apr_psprintf(c->p, "'%s' needs an argument", v->verb));
        return;
    }
    if (!is_known(c, tok[0])) {
        bad_line(c, line, NULL, apr_psprintf(c->p, "unknown provider '%s'", tok[0]));
        return;
    }
    c->l->good_lines++;
    v->apply(c, line, tok[0], v, v->nargs > 0 ? tok[2] : NULL);
}

static void parse_line(parse_ctx_t *c, int line, const char *s, size_t n)
{
    const char *tok[MAX_TOKENS];
    const char *hash;
    int ntok;

    if (n > 0 && s[n - 1] == '\r')
        n--;
    if (n > AFB_OVERRIDE_MAX_LINE) {
        bad_line(c, line, NULL, apr_psprintf(c->p, "longer than %d characters",
                                             AFB_OVERRIDE_MAX_LINE));
        return;
    }
    if (has_control_chars(s, n)) {
        bad_line(c, line, NULL, "control characters");
        return;
    }
    hash = memchr(s, '#', n);
    if (hash != NULL)
        n = (size_t)(hash - s);
    ntok = tokenize(c->p, s, n, tok);
    if (ntok > 0)
        parse_words(c, line, tok, ntok);
}

afb_override_list_t *afb_override_list_empty(apr_pool_t *p)
{
    afb_override_list_t *l = apr_pcalloc(p, sizeof(*l));

    l->entries = apr_array_make(p, 8, sizeof(afb_override_entry_t));
    l->warnings = apr_array_make(p, 4, sizeof(const char *));
    l->releases = apr_array_make(p, 1, sizeof(const char *));
    return l;
}

afb_status_t afb_override_parse(apr_pool_t *p, const char *text, apr_size_t len,
                                const char *const *known, int nknown,
                                afb_override_list_t **out)
{
    parse_ctx_t c = { p, known, nknown, NULL };
    apr_size_t pos = 0;
    int line = 0;

    if (len > AFB_OVERRIDE_MAX_BYTES)
        return AFB_ETOOBIG;
    c.l = afb_override_list_empty(p);
    while (text != NULL && pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        apr_size_t end = nl != NULL ? (apr_size_t)(nl - text) : len;
        if (++line > AFB_OVERRIDE_MAX_LINES) {
            warn(&c, line, apr_psprintf(p, "more than %d lines; the rest is ignored",
                                        AFB_OVERRIDE_MAX_LINES));
            break;
        }
        parse_line(&c, line, text + pos, end - pos);
        pos = end + 1;
    }
    *out = c.l;
    return c.l->bad_lines > 0 && c.l->good_lines == 0 ? AFB_EINVAL : AFB_OK;
}

afb_status_t afb_override_load(apr_pool_t *p, const char *path, const char *const *known,
                               int nknown, afb_override_list_t **out)
{
    char *buf = NULL;
    apr_size_t len = 0;
    const char *why = NULL;
    afb_status_t st = afb_file_read(p, path, AFB_OVERRIDE_MAX_BYTES, &buf, &len, NULL, &why);
    if (st != AFB_OK)
        return st;
    return afb_override_parse(p, buf, len, known, nknown, out);
}

afb_override_t afb_override_lookup(const afb_override_list_t *l, const char *name)
{
    const afb_override_entry_t *e = l != NULL ? entry_find(l, name) : NULL;

    return e != NULL && !e->keep ? e->value : AFB_OVERRIDE_AUTO;
}

/* Sets the record's drill from the entry (none when the entry is NULL or has no drill line);
 * fills the change's drill fields when it changed. */
static int apply_drill(apr_pool_t *p, afb_health_rec_t *rec, const afb_override_entry_t *e,
                       afb_override_change_t *ch)
{
    afb_drill_t none;
    const afb_drill_t *to = &none;

    memset(&none, 0, sizeof(none));
    if (e != NULL && e->drill_line > 0)
        to = &e->drill;
    if (afb_drill_equal(&rec->drill, to))
        return 0;
    ch->drill_changed = 1;
    ch->drill_from = afb_drill_format(p, &rec->drill);
    ch->drill_to = afb_drill_format(p, to);
    rec->drill = *to;
    return 1;
}

static int has_release(const afb_override_list_t *l, const char *name)
{
    int i;

    for (i = 0; l->releases != NULL && i < l->releases->nelts; i++)
        if (strcmp(APR_ARRAY_IDX(l->releases, i, const char *), name) == 0)
            return 1;
    return 0;
}

/* A release line new since the last call releases the copy held at this moment, once. */
static void apply_release(apr_pool_t *p, afb_health_rec_t *rec, int line,
                          apr_array_header_t *changes)
{
    afb_override_change_t ch;

    if (line && !rec->store_release_line && rec->store_held && rec->store_held_sig) {
        rec->store_released_sig = rec->store_held_sig;
        memset(&ch, 0, sizeof(ch));
        ch.name = apr_pstrdup(p, rec->name);
        ch.from = ch.to = (afb_override_t)rec->override;
        ch.released = 1;
        ch.held_users = rec->store_held_users;
        APR_ARRAY_PUSH(changes, afb_override_change_t) = ch;
    }
    rec->store_release_line = line;
}

apr_array_header_t *afb_override_apply(apr_pool_t *p, afb_health_table_t *t,
                                       const afb_override_list_t *l)
{
    apr_array_header_t *changes = apr_array_make(p, 2, sizeof(afb_override_change_t));
    uint32_t i;

    for (i = 0; i < t->nrecs; i++) {
        afb_health_rec_t *rec = &t->recs[i];
        const afb_override_entry_t *e = entry_find(l, rec->name);
        afb_override_change_t ch;
        int ov_changed;
        apply_release(p, rec, has_release(l, rec->name), changes);
        if (e != NULL && e->keep)
            continue;
        memset(&ch, 0, sizeof(ch));
        ch.from = (afb_override_t)rec->override;
        ch.to = afb_override_lookup(l, rec->name);
        ov_changed = afb_health_set_override(rec, ch.to, &ch.effective);
        if (!apply_drill(p, rec, e, &ch) && !ov_changed)
            continue;
        if (!ov_changed)
            ch.effective.from = ch.effective.to = afb_health_effective_state(rec);
        ch.name = apr_pstrdup(p, rec->name);
        APR_ARRAY_PUSH(changes, afb_override_change_t) = ch;
    }
    return changes;
}
