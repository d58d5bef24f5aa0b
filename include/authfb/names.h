/* Name rules (docs/directives.md, "Name rules: names=, realms=, user_form="): one person, one
 * name on every path. Every provider type takes the same three keys; the rules are applied to
 * what a person types and to the name a provider returns, before throttling, lookup and
 * logging.
 *
 * - Every name is trimmed (Unicode white space) and NFC-normalized; a name that is not valid
 *   UTF-8, holds a control character, is empty or longer than AFB_NAME_MAX bytes is refused.
 * - names=caseless compares names under Unicode full case folding (utf8proc).
 * - realms=corp.example,CORP: `name@realm` and `REALM\name` with one of these realms (compared
 *   caselessly) lose the realm before lookup; any other realm makes the name unknown. Without
 *   realms= a name is taken as it is, '@' and '\' included.
 * - user_form=as-is|short|@REALM: the form the application sees.
 *
 * Pure functions over strings; results live in the pool given. Thread-safe. */
#ifndef AUTHFB_NAMES_H
#define AUTHFB_NAMES_H

#include "authfb/common.h"
#include <apr_tables.h>

#define AFB_NAME_MAX 256     /* bytes of a normalized name */
#define AFB_NAME_LOG_MAX 64  /* characters of an unknown name kept in an event */

typedef enum { AFB_NAMES_EXACT = 0, AFB_NAMES_CASELESS } afb_names_mode_t;
typedef enum { AFB_FORM_AS_IS = 0, AFB_FORM_SHORT, AFB_FORM_REALM } afb_user_form_t;

typedef struct {
    afb_names_mode_t mode;
    apr_array_header_t *realms; /* const char *, case-folded; NULL: no realms= */
    afb_user_form_t form;
    const char *form_realm;     /* user_form=@REALM: REALM as written */
} afb_names_t;

/* One name under a provider's rules. */
typedef struct {
    const char *normal;   /* trimmed and NFC: the name as given, realm included */
    const char *shortn;   /* realm removed when realms= lists it, else = normal */
    const char *key;      /* what lookups, throttle counters and single-use records use:
                           * shortn, case-folded under names=caseless */
} afb_name_t;

/* Trim and NFC. AFB_EINVAL for a name that cannot be one (see above). */
afb_status_t afb_name_normalize(apr_pool_t *p, const char *in, const char **out) AFB_MUST_CHECK;
/* Full case folding, then NFC, of a normalized name. */
afb_status_t afb_name_fold(apr_pool_t *p, const char *in, const char **out) AFB_MUST_CHECK;

/* Apply the rules: AFB_OK, AFB_EINVAL for a name that cannot be one, AFB_ENOENT for a name
 * whose realm realms= does not list (an unknown user). */
afb_status_t afb_names_apply(apr_pool_t *p, const afb_names_t *rules, const char *in,
                             afb_name_t *out) AFB_MUST_CHECK;

/* What the application sees for a person whose provider knows them as `provider_form` (the
 * store's spelling, the claim's value): that form, the short name, or the short name with
 * @REALM. provider_form is normalized already. */
const char *afb_names_user(apr_pool_t *p, const afb_names_t *rules, const char *provider_form);

/* A typed name fit for an event or a log line: normalized when it can be, cut to
 * AFB_NAME_LOG_MAX characters, bytes that are not printable UTF-8 (and '\') as \xNN. */
const char *afb_name_for_log(apr_pool_t *p, const char *typed);

/* One key of the rules (names, realms, user_form) for the provider parser: NULL when fine,
 * else a message naming the word. */
const char *afb_names_parse_key(apr_pool_t *p, afb_names_t *rules, const char *word,
                                const char *key, const char *val);

/* Caseless lookup in a store: its names indexed by key. Two names with one key make that
 * key ambiguous: nobody signs in with it (counted in *clashes, for a warning). */
typedef struct afb_names_index_t afb_names_index_t;
afb_names_index_t *afb_names_index(apr_pool_t *p, const afb_names_t *rules,
                                   const apr_array_header_t *names, int *clashes);
/* The store's name for a key, or NULL. */
const char *afb_names_index_find(const afb_names_index_t *ix, const char *key);

#endif
