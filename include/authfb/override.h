/* The operator's kill switch (AuthFallbackOverrideFile, docs/operations.md,
 * "Forcing a path down or up"): lines `NAME VERB` (verbs auto, up, down), '#' comments and
 * blank lines, whitespace tolerant. The checker reads the file at every tick and applies it
 * to the health table, so a change takes effect without a restart. `NAME release` accepts a
 * store copy held back by the deletion guard (max_delete=), once. `NAME drill PERCENT%` or
 * `NAME drill CIDR[,CIDR]` sets a drill (authfb/drill.h) on the provider, beside its override;
 * deleting the line ends the drill.
 *
 * Strict, line by line: a malformed line, an unknown provider name or a line past the caps
 * becomes a warning "line N: reason" and the rest of the file still applies. A line that
 * names a declared provider but does not parse (`adfs dwon`) keeps that provider's current
 * override (entry `keep`), whatever other lines say about it. A file with bad lines and no
 * good one does not parse at all: AFB_EINVAL, and the caller keeps the last good state.
 * A name given twice: the last good line wins, with a warning. */
#ifndef AUTHFB_OVERRIDE_H
#define AUTHFB_OVERRIDE_H

#include "authfb/common.h"
#include "authfb/drill.h"
#include "authfb/health.h"
#include <apr_tables.h>

#define AFB_OVERRIDE_MAX_BYTES (64 * 1024) /* a bigger file is refused as a whole */
#define AFB_OVERRIDE_MAX_LINES 1024        /* lines after this one are ignored, warned once */
#define AFB_OVERRIDE_MAX_LINE  256         /* longer lines are skipped with a warning */

typedef struct {
    char name[AFB_HEALTH_NAME_MAX];
    afb_override_t value;
    int line;          /* the good line that set it (the last one); 0 if none */
    int keep;          /* a line for it did not parse: keep its current override */
    const char *error; /* with keep: "line N: reason" of the first such line */
    afb_drill_t drill; /* a `NAME drill ...` line (the last one); none when drill_line is 0 */
    int drill_line;
} afb_override_entry_t;

typedef struct {
    apr_array_header_t *entries;  /* afb_override_entry_t, one per name, first-seen order */
    apr_array_header_t *warnings; /* const char *, "line N: reason" */
    apr_array_header_t *releases; /* const char *, names with a `NAME release` line */
    int good_lines;               /* lines that parsed */
    int bad_lines;                /* lines that did not */
} afb_override_list_t;

/* One change made by afb_override_apply, for the override.changed event and the log. */
typedef struct {
    const char *name;
    afb_override_t from;
    afb_override_t to;
    afb_health_transition_t effective; /* effective state before/after, reason "override down" */
    int released;      /* 1: a `NAME release` line released the store copy held back by the
                        * deletion guard (from == to: the override did not change) */
    int held_users;    /* with released: users in the released copy */
    int drill_changed; /* 1: the drill changed (from == to unless the override changed too) */
    const char *drill_from; /* with drill_changed: afb_drill_format before, "" for none */
    const char *drill_to;   /* ... and after */
} afb_override_change_t;

/* Parses len bytes of text. known[0..nknown-1] are the declared provider names (known NULL:
 * accept any valid name). AFB_ETOOBIG when len > AFB_OVERRIDE_MAX_BYTES (nothing parsed,
 * *out untouched); AFB_EINVAL when no line parses and at least one is bad (*out holds the
 * warnings; do not apply it); otherwise AFB_OK, with the warnings in the list. */
afb_status_t afb_override_parse(apr_pool_t *p, const char *text, apr_size_t len,
                                const char *const *known, int nknown,
                                afb_override_list_t **out) AFB_MUST_CHECK;

/* Reads and parses the file. AFB_ENOENT when it does not exist (no overrides: apply an
 * empty list), AFB_EIO when it cannot be read, AFB_ETOOBIG over the size cap. On any error
 * the caller keeps the overrides it has. */
afb_status_t afb_override_load(apr_pool_t *p, const char *path, const char *const *known,
                               int nknown, afb_override_list_t **out) AFB_MUST_CHECK;

/* An empty list (no file: every provider on auto). */
afb_override_list_t *afb_override_list_empty(apr_pool_t *p);

/* The override the list gives a provider: AFB_OVERRIDE_AUTO when it is not listed (or only
 * kept; see the entry's `keep`). */
afb_override_t afb_override_lookup(const afb_override_list_t *l, const char *name);

/* Sets the override of every record of the table from the list: listed providers get their
 * value, kept ones stay as they are, the others go back to auto (deleting a line lifts the
 * override). A `NAME release` line that was not in the file at the previous call releases
 * the store copy held back at this moment (store_released_sig = store_held_sig), once: the
 * line must go and come back to release a later copy. Returns the
 * changes, an array of afb_override_change_t (empty when nothing changed). */
apr_array_header_t *afb_override_apply(apr_pool_t *p, afb_health_table_t *t,
                                       const afb_override_list_t *l);

#endif
