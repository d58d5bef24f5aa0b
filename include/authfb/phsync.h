/* Password hash sync from Active Directory: reading a directory export (NT hashes) and
 * building the password store from it (docs/afb-phs-sync.md, docs/providers.md).
 *
 * Two export formats, recognised per line:
 *   smbpasswd, as `pdbedit -L -w` prints it on a Samba AD DC:
 *       user:uid:LMHASH:NTHASH:[FLAGS]:LCT-XXXXXXXX:
 *   pwdump, as replication tools print it (optionally followed by " (status=Disabled)" or
 *   other parenthesised notes):
 *       DOMAIN\user:rid:LMHASH:NTHASH:::
 * Error texts name the line number and what is wrong, never the line's content. */
#ifndef AUTHFB_PHSYNC_H
#define AUTHFB_PHSYNC_H

#include "authfb/common.h"
#include "authfb/nthash.h"
#include "authfb/pwstore.h"
#include <apr_tables.h>

#define AFB_PHS_MAX_USER 255
#define AFB_PHS_MAX_LINE 4096

/* What one line of an export is. The skip reasons are listed in the order they are tested. */
typedef enum {
    AFB_PHS_ENTRY = 0,     /* an account to put in the store */
    AFB_PHS_BLANK,         /* blank line or '#' comment */
    AFB_PHS_MACHINE,       /* name ends in '$': computer or trust account (or W/S/I flag) */
    AFB_PHS_KRBTGT,        /* krbtgt, krbtgt_NNNN */
    AFB_PHS_EXCLUDED,      /* named by --exclude */
    AFB_PHS_DISABLED,      /* flag D, or (status=Disabled) */
    AFB_PHS_NO_PASSWORD,   /* flag N, no NT hash (XXXX..., NO PASSWORD...), empty password */
    AFB_PHS_BAD            /* not a line of either format */
} afb_phs_kind_t;
#define AFB_PHS_KINDS (AFB_PHS_BAD + 1)

typedef struct {
    int keep_domain;       /* keep "DOMAIN\" in front of the name */
    int lowercase;         /* fold ASCII letters of the name to lower case */
    const apr_array_header_t *exclude; /* const char * names, compared ignoring ASCII case */
} afb_phs_opts_t;

typedef struct {
    char user[AFB_PHS_MAX_USER + 1];
    unsigned char nt[AFB_NTHASH_LEN];
} afb_phs_entry_t;

/* One NUL-terminated line (no newline). On AFB_PHS_ENTRY, *e is filled; on anything else
 * *e holds no hash. *why (may be NULL) gets a static reason for AFB_PHS_BAD. */
afb_phs_kind_t afb_phs_parse_line(const char *line, const afb_phs_opts_t *o,
                                  afb_phs_entry_t *e, const char **why);

typedef struct {
    int kept, changed, added, removed;   /* store entries, against the previous store */
    int before;                          /* entries in the previous store */
    int skipped[AFB_PHS_KINDS];          /* export lines by kind (BLANK and BAD not counted) */
} afb_phs_stats_t;

/* A whole export into entries (afb_phs_entry_t *, zeroed on pool cleanup). AFB_EINVAL with
 * *err "line N: reason" for a line of neither format, a duplicate user (after the name
 * mapping) or an over-long line; AFB_ENOENT when no line is an account at all (empty). */
afb_status_t afb_phs_read_export(apr_pool_t *p, const char *text, size_t len,
                                 const afb_phs_opts_t *o, apr_array_header_t **entries,
                                 afb_phs_stats_t *stats, const char **err) AFB_MUST_CHECK;

/* The new store text from the entries and the previous store (may be NULL): a user whose NT
 * hash still matches the previous entry (with `rounds` rounds) keeps that line byte for byte;
 * others get a new entry with a fresh salt. Lines are sorted by user name. Fills the
 * kept/changed/added/removed/before counts. */
afb_status_t afb_phs_build(apr_pool_t *p, const apr_array_header_t *entries,
                           const afb_pwstore_t *previous, long rounds, const char **text,
                           afb_phs_stats_t *stats) AFB_MUST_CHECK;

#endif
