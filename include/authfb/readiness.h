/* Readiness (docs/operations.md, "Before the outage: readiness and drills"): for every
 * protected location and every provider its chain or MFA chain uses, how many of the people
 * the roster saw at that location would still complete a sign-in if that provider were DOWN.
 *
 * The rule, per person, for "if X were down": X and every provider that depends on it
 * (depends=, as the caller's down_with says) are DOWN, everything else is up. A new sign-in
 * goes to the first path of the chain that is left (the router's choice: a person cannot
 * pick another one), and there:
 *   - an `oidc` or `ldap` path: whether the person has an account there is not known here:
 *     "unknown", counted apart and left out of the ratio;
 *   - a `password` path: no hash in its store: "no credential"; a `webauthn` path: no passkey
 *     in its store: "no credential";
 *   - then the second factor the location asks for on that path (paths with mfa_after), as
 *     the MFA step chooses it: a provider of the MFA chain that is left and where the person
 *     is enrolled (a remote one, radius or http-mfa, takes anyone; a `totp` store needs the
 *     person's secret, a `webauthn` store a passkey). None: "no second factor", unless the
 *     person is enrolled with a provider that is down and the location has
 *     AuthFallbackMFAUnavailable allow (a sign-in with mfa=none: ready);
 *   - no path left at all: "no path".
 * ratio = ready / (seen - unknown); no ratio when every person is unknown.
 *
 * Computed by the health checker, never per request; the adapter supplies the store lookups. */
#ifndef AUTHFB_READINESS_H
#define AUTHFB_READINESS_H

#include "authfb/common.h"
#include "authfb/roster.h"
#include <apr_tables.h>

typedef enum {
    AFB_READY_KIND_UNKNOWN = 0, /* oidc, ldap: the account is not known here */
    AFB_READY_KIND_STORE,       /* password, totp, webauthn: has() tells */
    AFB_READY_KIND_REMOTE       /* radius, http-mfa: a second factor anyone can use */
} afb_ready_kind_t;

typedef struct {
    const char *name;       /* provider name */
    afb_ready_kind_t kind;
    int mfa_after;          /* first-factor paths: the location's MFA chain follows it */
} afb_ready_step_t;

typedef struct {
    const char *location;   /* as the roster records it */
    int nchain;
    const afb_ready_step_t *chain;
    int nmfa;
    const afb_ready_step_t *mfa;
    int mfa_allow_none;     /* AuthFallbackMFAUnavailable allow */
} afb_ready_loc_t;

typedef struct {
    /* 1 when the store of `provider` holds a credential of `user` (a hash, a secret, a
     * passkey). */
    int (*has)(void *baton, const char *provider, const char *user);
    /* 1 when `provider` is unavailable while `if_down` is DOWN: the same name, or it depends
     * on it (directly or not). NULL: the same name only. */
    int (*down_with)(void *baton, const char *provider, const char *if_down);
    void *baton;
} afb_ready_env_t;

typedef enum {
    AFB_READY_OK = 0,
    AFB_READY_NO_SECOND,     /* has the first factor, lacks the second */
    AFB_READY_NO_CREDENTIAL, /* no hash / passkey on the path left */
    AFB_READY_UNKNOWN,       /* the path left asks an oidc or ldap provider */
    AFB_READY_NO_PATH        /* every path of the chain is down with it */
} afb_ready_class_t;

typedef struct {
    const char *user;
    afb_ready_class_t why;   /* never AFB_READY_OK */
} afb_ready_person_t;

typedef struct {
    const char *location;
    const char *if_down;     /* the provider assumed DOWN */
    const char *path;        /* the path a new sign-in takes then; NULL: none */
    int seen;                /* roster users at the location */
    int ready, no_second_factor, no_credential, unknown, no_path;
    apr_array_header_t *not_ready; /* afb_ready_person_t, by user; unknown ones included */
} afb_ready_row_t;

/* Class of one person at one location for one provider assumed DOWN; *path (may be NULL)
 * gets the path taken, NULL when none is left. */
afb_ready_class_t afb_ready_classify(const afb_ready_loc_t *loc, const char *if_down,
                                     const char *user, const afb_ready_env_t *env,
                                     const char **path);
/* Every row (afb_ready_row_t): locations in order, then the providers of the chain and of
 * the MFA chain in order, each once. */
apr_array_header_t *afb_ready_compute(apr_pool_t *p, const afb_roster_t *roster,
                                      const afb_ready_loc_t *locs, int nlocs,
                                      const afb_ready_env_t *env);
/* ready / (seen - unknown); -1 when there is no one to count. */
double afb_ready_ratio(const afb_ready_row_t *row);
/* "no second factor", "no credential", "unknown", "no path", "ready". */
const char *afb_ready_class_name(afb_ready_class_t c);

/* The report as JSON (the status page's ?format=readiness, docs/monitoring.md):
 * {"computed": RFC 3339, "roster_records": N, "locations": [{"location", "if_down", "path",
 *  "seen", "ready", "no_second_factor", "no_credential", "unknown", "no_path", "ratio"
 *  (null when none), "not_ready": [{"user", "reason"}]}]} */
const char *afb_ready_json(apr_pool_t *p, const apr_array_header_t *rows, int roster_records,
                           apr_time_t computed);
/* Reads the counts back from such a report (the status page: names are not kept); rows
 * (afb_ready_row_t with not_ready NULL) and the time it was computed. AFB_EINVAL for text
 * that is not such a report, AFB_ETOOBIG over AFB_READY_MAX_REPORT. */
#define AFB_READY_MAX_REPORT (2 * AFB_ROSTER_MAX_BYTES) /* names, counts, JSON around them */
#define AFB_READY_MAX_ROWS 4096
afb_status_t afb_ready_json_parse(apr_pool_t *p, const char *text, size_t len,
                                  apr_array_header_t **rows, apr_time_t *computed,
                                  int *roster_records) AFB_MUST_CHECK;

#endif
