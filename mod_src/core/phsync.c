/* Password hash sync: the export reader and the store builder (include/authfb/phsync.h). */
#include "authfb/phsync.h"
#include "authfb/util.h"

#include <stdlib.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <openssl/crypto.h>

#define FIELD_HASH 32
#define SMB_FLAGS_MAX 16

typedef struct {
    const char *f[4];     /* user, id, LM hash, NT hash */
    size_t len[4];
    const char *rest;     /* after the NT hash's ':' */
} fields_t;

static int ascii_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int name_eq_nocase(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (ascii_lower((unsigned char)*a) != ascii_lower((unsigned char)*b))
            return 0;
    return *a == *b;
}

static int split_fields(const char *line, fields_t *fl)
{
    const char *c = line;

    for (int i = 0; i < 4; i++) {
        const char *colon = strchr(c, ':');
        if (colon == NULL)
            return -1;
        fl->f[i] = c;
        fl->len[i] = (size_t)(colon - c);
        c = colon + 1;
    }
    fl->rest = c;
    return 0;
}

static int all_digits(const char *s, size_t len)
{
    if (len == 0 || len > 10)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

/* 32 characters of hex, or a "no hash" spelling (32 X, or NO PASSWORD and 21 '*'). */
static int hash_field_ok(const char *s, size_t len, int *absent)
{
    unsigned char tmp[AFB_NTHASH_LEN];
    int ok;

    if (len != FIELD_HASH)
        return 0;
    *absent = strspn(s, "X") == FIELD_HASH
              || (strncmp(s, "NO PASSWORD", 11) == 0 && strspn(s + 11, "*") == FIELD_HASH - 11);
    if (*absent)
        return 1;
    ok = afb_nthash_from_hex(s, len, tmp) == AFB_OK;
    OPENSSL_cleanse(tmp, sizeof(tmp));
    return ok;
}

/* smbpasswd tail: "[FLAGS]:LCT-XXXXXXXX:" */
static const char *smb_tail(const char *rest, int *disabled, int *nopw, int *machine)
{
    const char *close = strchr(rest, ']');
    const char *lct;

    if (close == NULL || close - rest - 1 > SMB_FLAGS_MAX || close[1] != ':')
        return "smbpasswd flags are not [..]:";
    for (const char *c = rest + 1; c < close; c++) {
        if (strchr("UDNWSILXHTM ", *c) == NULL)
            return "unknown smbpasswd flag";
        *disabled |= *c == 'D';
        *nopw |= *c == 'N';
        *machine |= *c == 'W' || *c == 'S' || *c == 'I';
    }
    lct = close + 2;
    if (strncmp(lct, "LCT-", 4) != 0 || strspn(lct + 4, "0123456789abcdefABCDEF") != 8
        || strcmp(lct + 12, ":") != 0)
        return "smbpasswd LCT field is not LCT-XXXXXXXX:";
    return NULL;
}

/* pwdump tail: "::" then nothing or " (note)" groups, status=Disabled among them. */
static const char *pwdump_tail(const char *rest, int *disabled)
{
    if (strncmp(rest, "::", 2) != 0)
        return "neither a smbpasswd nor a pwdump line";
    rest += 2;
    if (*rest != '\0' && strncmp(rest, " (", 2) != 0)
        return "unexpected text after the pwdump fields";
    *disabled = strstr(rest, "(status=Disabled)") != NULL;
    return NULL;
}

static const char *map_name(const fields_t *fl, const afb_phs_opts_t *o, afb_phs_entry_t *e)
{
    const char *name = fl->f[0];
    size_t len = fl->len[0];
    const char *bs = memchr(name, '\\', len);

    if (bs && !o->keep_domain) {
        const char *last = bs;
        while ((bs = memchr(last + 1, '\\', len - (size_t)(last + 1 - name))) != NULL)
            last = bs;
        len -= (size_t)(last + 1 - name);
        name = last + 1;
    }
    if (len == 0 || len > AFB_PHS_MAX_USER)
        return len ? "user name too long" : "empty user name";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f)
            return "control character in user name";
        e->user[i] = (char)(o->lowercase ? ascii_lower(c) : c);
    }
    e->user[len] = '\0';
    return NULL;
}

static int is_excluded(const afb_phs_opts_t *o, const char *user)
{
    for (int i = 0; o->exclude && i < o->exclude->nelts; i++)
        if (name_eq_nocase(APR_ARRAY_IDX(o->exclude, i, const char *), user))
            return 1;
    return 0;
}

static int is_krbtgt(const char *user)
{
    static const char prefix[] = "krbtgt_";
    size_t i;

    if (name_eq_nocase(user, "krbtgt"))
        return 1;
    for (i = 0; prefix[i]; i++)
        if (ascii_lower((unsigned char)user[i]) != prefix[i])
            return 0;
    return user[i] != '\0';
}

static afb_phs_kind_t classify(const fields_t *fl, const afb_phs_opts_t *o,
                               afb_phs_entry_t *e, const char **why)
{
    int disabled = 0, nopw = 0, machine = 0, lm_absent, nt_absent;
    size_t n;

    *why = fl->rest[0] == '[' ? smb_tail(fl->rest, &disabled, &nopw, &machine)
                              : pwdump_tail(fl->rest, &disabled);
    if (*why == NULL && !all_digits(fl->f[1], fl->len[1]))
        *why = "the second field is not a number";
    if (*why == NULL && (!hash_field_ok(fl->f[2], fl->len[2], &lm_absent)
                         || !hash_field_ok(fl->f[3], fl->len[3], &nt_absent)))
        *why = "a hash field is not 32 hex digits";
    if (*why == NULL)
        *why = map_name(fl, o, e);
    if (*why != NULL)
        return AFB_PHS_BAD;
    n = strlen(e->user);
    if (machine || e->user[n - 1] == '$')
        return AFB_PHS_MACHINE;
    if (is_krbtgt(e->user))
        return AFB_PHS_KRBTGT;
    if (is_excluded(o, e->user))
        return AFB_PHS_EXCLUDED;
    if (disabled)
        return AFB_PHS_DISABLED;
    if (nopw || nt_absent)
        return AFB_PHS_NO_PASSWORD;
    if (afb_nthash_from_hex(fl->f[3], fl->len[3], e->nt) != AFB_OK)
        return AFB_PHS_BAD;
    /* the NT hash of the empty password: nobody can sign in with it */
    if (strncasecmp(fl->f[3], "31d6cfe0d16ae931b73c59d7e0c089c0", FIELD_HASH) == 0)
        return AFB_PHS_NO_PASSWORD;
    return AFB_PHS_ENTRY;
}

afb_phs_kind_t afb_phs_parse_line(const char *line, const afb_phs_opts_t *o,
                                  afb_phs_entry_t *e, const char **why)
{
    fields_t fl;
    const char *reason = NULL;
    afb_phs_kind_t kind;

    memset(e, 0, sizeof(*e));
    if (line[strspn(line, " \t")] == '\0' || line[0] == '#')
        return AFB_PHS_BLANK;
    if (split_fields(line, &fl) != 0)
        reason = "fewer than four ':'-separated fields";
    kind = reason ? AFB_PHS_BAD : classify(&fl, o, e, &reason);
    if (kind != AFB_PHS_ENTRY)
        OPENSSL_cleanse(e->nt, sizeof(e->nt));
    if (why)
        *why = reason;
    return kind;
}

/* ---- whole exports ---- */

static const char *add_entry(apr_pool_t *p, apr_array_header_t *entries, apr_hash_t *seen,
                             const afb_phs_entry_t *e)
{
    afb_phs_entry_t *copy;

    if (apr_hash_get(seen, e->user, APR_HASH_KEY_STRING) != NULL)
        return "duplicate user (after the name mapping)";
    copy = apr_pmemdup(p, e, sizeof(*e));
    afb_cleanse_on_cleanup(p, copy, sizeof(*copy));
    APR_ARRAY_PUSH(entries, afb_phs_entry_t *) = copy;
    apr_hash_set(seen, copy->user, APR_HASH_KEY_STRING, copy);
    return NULL;
}

static const char *read_one(apr_pool_t *p, char *line, const afb_phs_opts_t *o,
                            apr_array_header_t *entries, apr_hash_t *seen,
                            afb_phs_stats_t *stats)
{
    afb_phs_entry_t e;
    const char *why = NULL;
    afb_phs_kind_t kind = afb_phs_parse_line(line, o, &e, &why);

    if (kind == AFB_PHS_ENTRY)
        why = add_entry(p, entries, seen, &e);
    else if (kind != AFB_PHS_BLANK && kind != AFB_PHS_BAD)
        stats->skipped[kind]++;
    OPENSSL_cleanse(&e, sizeof(e));
    return kind == AFB_PHS_BAD && why == NULL ? "unparsable" : why;
}

afb_status_t afb_phs_read_export(apr_pool_t *p, const char *text, size_t len,
                                 const afb_phs_opts_t *o, apr_array_header_t **entries,
                                 afb_phs_stats_t *stats, const char **err)
{
    apr_hash_t *seen = apr_hash_make(p);
    size_t n = text != NULL ? len : 0;
    char *buf = apr_pstrmemdup(p, text != NULL ? text : "", n);
    char *cursor = buf, *end = buf + n;
    int lineno = 0, accounts = 0;

    afb_cleanse_on_cleanup(p, buf, n + 1);
    memset(stats->skipped, 0, sizeof(stats->skipped));
    *err = NULL;
    *entries = apr_array_make(p, 64, sizeof(afb_phs_entry_t *));
    while (cursor < end) {
        char *line = NULL;
        const char *why = afb_next_line(&cursor, end, AFB_PHS_MAX_LINE, &line);
        lineno++;
        if (why == NULL)
            why = read_one(p, line, o, *entries, seen, stats);
        if (why != NULL) {
            *err = apr_psprintf(p, "line %d: %s", lineno, why);
            return AFB_EINVAL;
        }
    }
    for (int k = AFB_PHS_MACHINE; k < AFB_PHS_BAD; k++)
        accounts += stats->skipped[k];
    return accounts + (*entries)->nelts > 0 ? AFB_OK : AFB_ENOENT;
}

/* ---- the new store ---- */

static int cmp_entry(const void *a, const void *b)
{
    const afb_phs_entry_t *x = *(const afb_phs_entry_t *const *)a;
    const afb_phs_entry_t *y = *(const afb_phs_entry_t *const *)b;

    return strcmp(x->user, y->user);
}

/* The line for one user: the previous one when its NT hash still matches. */
static afb_status_t entry_line(apr_pool_t *p, const afb_phs_entry_t *e, const char *old,
                               long rounds, const char **hash, afb_phs_stats_t *stats)
{
    afb_status_t st = AFB_EMISMATCH;

    if (old && afb_ntpbkdf2_rounds(old) == rounds)
        st = afb_ntpbkdf2_check(old, e->nt);
    if (st == AFB_OK) {
        *hash = old;
        stats->kept++;
        return AFB_OK;
    }
    if (st == AFB_ERR)
        return st;
    if (old)
        stats->changed++;
    else
        stats->added++;
    return afb_ntpbkdf2_make(p, e->nt, rounds, hash);
}

afb_status_t afb_phs_build(apr_pool_t *p, const apr_array_header_t *entries,
                           const afb_pwstore_t *previous, long rounds, const char **text,
                           afb_phs_stats_t *stats)
{
    apr_array_header_t *sorted = apr_array_copy(p, entries);
    apr_array_header_t *lines = apr_array_make(p, entries->nelts + 1, sizeof(const char *));
    apr_hash_t *present = apr_hash_make(p);

    qsort(sorted->elts, (size_t)sorted->nelts, sizeof(afb_phs_entry_t *), cmp_entry);
    for (int i = 0; i < sorted->nelts; i++) {
        const afb_phs_entry_t *e = APR_ARRAY_IDX(sorted, i, const afb_phs_entry_t *);
        const char *hash = NULL;
        afb_status_t st = entry_line(p, e, afb_pwstore_lookup(previous, e->user), rounds,
                                     &hash, stats);
        if (st != AFB_OK)
            return st;
        APR_ARRAY_PUSH(lines, const char *) = apr_pstrcat(p, e->user, ":", hash, "\n", NULL);
        apr_hash_set(present, e->user, APR_HASH_KEY_STRING, e);
    }
    stats->before = afb_pwstore_count(previous);
    stats->removed = 0;
    if (previous) {
        apr_array_header_t *old = afb_pwstore_users(previous, p);
        for (int i = 0; i < old->nelts; i++)
            stats->removed += apr_hash_get(present, APR_ARRAY_IDX(old, i, const char *),
                                           APR_HASH_KEY_STRING) == NULL;
    }
    *text = apr_array_pstrcat(p, lines, '\0');
    return AFB_OK;
}
