/* Health of the providers (docs/operations.md, "What the module does by itself"): one
 * fixed-size record per provider and a table of them, both free of pointers so they can live in a shared-memory segment that the
 * checker (a mod_watchdog singleton) writes and every child reads.
 *
 * The state machine is HAProxy's: `fall` consecutive failed probes mark a provider DOWN,
 * `rise` consecutive passes mark it UP. A provider starts UNKNOWN, which counts as available
 * so that a server is usable as soon as it starts; from UNKNOWN the first passing probe
 * marks it UP and `fall` consecutive failures mark it DOWN.
 *
 * Scheduling: after a pass the next probe is due `interval` later, after a failure 1 s later
 * (or `interval` if that is shorter). Each delay is shortened by a jitter of up to 10 %, a
 * deterministic function of the provider name and the probe count, so probes of several
 * providers spread out and tests stay reproducible; a probe is never due later than its
 * configured delay. All times are absolute apr_time_t values supplied by the caller.
 *
 * Concurrency is the caller's job: these functions do no locking. The adapter holds its
 * global mutex around every update of a record or of the table (and around reads that need
 * a consistent view of several fields). */
#ifndef AUTHFB_HEALTH_H
#define AUTHFB_HEALTH_H

#include "authfb/common.h"
#include "authfb/drill.h"
#include "authfb/provider.h"

#define AFB_HEALTH_REC_MAGIC   0x41464252u /* "AFBR" */
#define AFB_HEALTH_TABLE_MAGIC 0x41464254u /* "AFBT" */
#define AFB_HEALTH_VERSION     5u          /* bump on any change of the layouts below */
#define AFB_HEALTH_NAME_MAX    33          /* provider names are 1..32 characters */
#define AFB_HEALTH_ERROR_MAX   160         /* last error text, truncated */
#define AFB_HEALTH_REASON_MAX  200         /* transition reason text, truncated */

typedef enum {
    AFB_HEALTH_UNKNOWN = 0,
    AFB_HEALTH_UP = 1,
    AFB_HEALTH_DOWN = 2
} afb_health_state_t;

/* Operator override (AuthFallbackOverrideFile): UP/DOWN win over the probed state. */
typedef enum {
    AFB_OVERRIDE_AUTO = 0,
    AFB_OVERRIDE_UP = 1,
    AFB_OVERRIDE_DOWN = 2
} afb_override_t;

typedef struct {
    apr_interval_time_t interval; /* between probes after a pass; > 0 */
    apr_interval_time_t timeout;  /* deadline of one probe; > 0 */
    int fall;                     /* consecutive failures that mark DOWN; >= 1 */
    int rise;                     /* consecutive passes that mark UP; >= 1 */
} afb_health_cfg_t;

/* One provider. Fixed size, no pointers; enum values are stored as int32_t. */
typedef struct {
    uint32_t magic;                   /* AFB_HEALTH_REC_MAGIC */
    uint32_t version;                 /* AFB_HEALTH_VERSION */
    char name[AFB_HEALTH_NAME_MAX];   /* NUL-terminated */
    char last_error[AFB_HEALTH_ERROR_MAX]; /* reason of the last failed probe, "" if none */
    int32_t state;                    /* afb_health_state_t, the probed state */
    int32_t override;                 /* afb_override_t */
    int32_t passive;                  /* 1: passive evidence seen since the last result */
    uint32_t passes;                  /* consecutive passing probes */
    uint32_t fails;                   /* consecutive failed probes */
    apr_time_t last_probe;            /* time of the last result, 0 = never */
    apr_time_t last_failure;          /* time of the last failed probe, 0 = never */
    apr_time_t last_transition;       /* time of the last state change, 0 = never */
    apr_time_t last_passive;          /* time of the last passive evidence, 0 = never */
    apr_time_t next_due;              /* the next probe is due at this time */
    apr_time_t inflight_deadline;     /* a probe runs until this time; 0 = none running */
    apr_interval_time_t last_latency; /* duration of the last probe */
    uint64_t probes;                  /* probe results received */
    uint64_t transitions;             /* state changes */
    uint64_t passive_events;          /* passive evidence reports */
    uint64_t expired_probes;          /* probes that passed their deadline unreported */
    /* Per-path counters for the status handler (docs/monitoring.md). */
    uint64_t auth_successes;
    uint64_t auth_failures;
    uint64_t fallbacks;               /* sign-ins routed past this path */
    uint64_t mfa_bypasses;            /* sessions this path issued without a second factor
                                       * because every MFA provider was down */
    uint64_t throttled;               /* attempts on this path refused by throttling */
    /* Derived state (depends=): DOWN while a dependency is not available. */
    int32_t dep_down;                 /* 1: a dependency is DOWN */
    char dep_cause[AFB_HEALTH_REASON_MAX]; /* "depends on adfs, which is DOWN", "" if none */
    /* File-backed stores (password, totp), as the last probe read the file. */
    int32_t store_records;            /* usable records in the file */
    int32_t store_skipped;            /* records left out as unusable */
    int32_t store_held;               /* 1: the file's copy is held back (deletion guard) */
    int32_t store_held_users;         /* users in the held copy */
    int32_t store_kept_users;         /* users in the copy kept in use while one is held */
    int32_t store_release_line;        /* 1: the override file has a NAME release line */
    uint64_t store_held_sig;          /* identity (mtime, size, inode) of the held copy */
    uint64_t store_released_sig;      /* the copy taken into use: within max_delete, or the held
                                       * copy the operator released; 0 = none */
    /* Drill (override file `NAME drill ...`, authfb/drill.h): the new sign-ins it applies to
     * route as if this provider were DOWN; its effective state does not change. */
    afb_drill_t drill;
    uint64_t drill_signins;           /* new sign-ins routed past this provider by a drill */
} afb_health_rec_t;

/* What a state change looked like, for the error log and the health.transition event. */
typedef struct {
    afb_health_state_t from;
    afb_health_state_t to;
    char reason[AFB_HEALTH_REASON_MAX]; /* e.g. "2/2 probes failed: connection refused" */
} afb_health_transition_t;

typedef enum {
    AFB_HEALTH_COUNT_SUCCESS = 0,
    AFB_HEALTH_COUNT_FAILURE,
    AFB_HEALTH_COUNT_FALLBACK,
    AFB_HEALTH_COUNT_BYPASS,
    AFB_HEALTH_COUNT_THROTTLED,
    AFB_HEALTH_COUNT_DRILL
} afb_health_counter_t;

/* "UP", "DOWN", "UNKNOWN" / "auto", "up", "down" (never NULL). */
const char *afb_health_state_name(afb_health_state_t s);
const char *afb_health_override_name(afb_override_t o);

/* Defaults of AuthFallbackProvider (docs/directives.md): interval 3 s, timeout 2 s, fall 2, rise 2. */
void afb_health_cfg_default(afb_health_cfg_t *cfg);
/* The health keys of a provider declaration; zero or negative values take the defaults. */
void afb_health_cfg_from_provider(afb_health_cfg_t *cfg, const afb_provider_conf_t *pc);

/* A fresh record: UNKNOWN, override auto, due at `now`. A name longer than 32 characters is
 * AFB_EINVAL (the record is still initialised, with the name truncated). */
afb_status_t afb_health_init(afb_health_rec_t *rec, const char *name, apr_time_t now);
/* 1 when the record holds the magic and version of this build. */
int afb_health_valid(const afb_health_rec_t *rec);

/* Whether a probe should start now: no probe running and next_due reached, or a running
 * probe is past its deadline (it will never report; a fresh probe replaces it). */
int afb_health_is_due(const afb_health_rec_t *rec, apr_time_t now);
/* Marks a probe as running until now + timeout. If an earlier probe was still marked and past
 * its deadline it is counted in expired_probes. */
void afb_health_begin_probe(afb_health_rec_t *rec, apr_time_t now, apr_interval_time_t timeout);
/* Applies one probe result (clears the running marker, schedules the next probe). `reason`
 * (may be NULL) says why a probe failed; it is kept, truncated, in last_error. Returns 1 and
 * fills *tr (may be NULL) when the probed state changed, else 0. */
int afb_health_probe_result(afb_health_rec_t *rec, apr_time_t now, int ok,
                            apr_interval_time_t latency, const char *reason,
                            const afb_health_cfg_t *cfg, afb_health_transition_t *tr);
/* Evidence seen while serving a request (docs/architecture.md, "Security properties"): an infrastructure error talking to the
 * provider. It never changes the state; it only makes the next probe due at once, though
 * not sooner than the fast re-probe delay after the last probe (so a burst of failing
 * requests cannot turn into a burst of probes). */
void afb_health_passive_failure(afb_health_rec_t *rec, apr_time_t now,
                                const afb_health_cfg_t *cfg);

/* Sets the operator override. Returns 1 when the override value changed, and fills *tr
 * (may be NULL) with the effective states before and after and a reason such as
 * "override down" (from == to when only the override changed, not the effective state). */
int afb_health_set_override(afb_health_rec_t *rec, afb_override_t ov,
                            afb_health_transition_t *tr);
/* The override when set, else DOWN while a dependency is unavailable (dep_down, with the
 * cause in dep_cause), else the probed state. */
afb_health_state_t afb_health_effective_state(const afb_health_rec_t *rec);
/* The derived state of a provider declared with depends=: `blocking` is the first of its
 * dependencies that is not available, or NULL when all are. Returns 1 and fills *tr (may be
 * NULL; reason "depends on adfs, which is DOWN") when the effective state changed. */
int afb_health_set_dependency(afb_health_rec_t *rec, const afb_health_rec_t *blocking,
                              afb_health_transition_t *tr);
/* 1 unless the effective state is DOWN (UNKNOWN is available). */
int afb_health_available(const afb_health_rec_t *rec);
/* Bumps one of the per-path counters. */
void afb_health_count(afb_health_rec_t *rec, afb_health_counter_t which);

/* The jitter subtracted from a delay: deterministic in (name, probes), 0 <= j <= delay/10. */
apr_interval_time_t afb_health_jitter(const char *name, uint64_t probes,
                                      apr_interval_time_t delay);

/* ---- The shared table: a header followed by N records, for one apr_shm segment. ---- */

typedef struct {
    uint32_t magic;       /* AFB_HEALTH_TABLE_MAGIC */
    uint32_t version;     /* AFB_HEALTH_VERSION */
    uint32_t nrecs;       /* number of records that follow */
    uint32_t rec_size;    /* sizeof(afb_health_rec_t) of the writer */
    apr_time_t heartbeat; /* last checker tick, 0 = never */
    uint64_t generation;  /* 1 at first start, +1 at each adopt (graceful restart) */
    char override_error[AFB_HEALTH_ERROR_MAX]; /* what is wrong with the override file, "" */
    afb_health_rec_t recs[];
} afb_health_table_t;

/* Bytes needed for n records. */
apr_size_t afb_health_table_size(unsigned n);
/* Lays out a table of n records named names[0..n-1] in mem (size bytes, suitably aligned, as
 * apr_shm_baseaddr_get gives). AFB_ETOOBIG when size is too small, AFB_EINVAL for a name
 * that is too long or repeated; *out is set only on success. */
afb_status_t afb_health_table_init(void *mem, apr_size_t size, unsigned n,
                                   const char *const *names, apr_time_t now,
                                   afb_health_table_t **out) AFB_MUST_CHECK;
/* The table in mem if it was laid out by this build (magic, version, record size, a count
 * that fits in size, every record valid), else NULL. For reattaching after a restart. */
afb_health_table_t *afb_health_table_attach(void *mem, apr_size_t size);
/* The record of a provider, or NULL. */
afb_health_rec_t *afb_health_table_find(afb_health_table_t *t, const char *name);
/* Graceful restart: copies into dst the state and counters of every provider of src that
 * still exists in dst (by name). Adopted records keep state, override and counters, lose
 * any running-probe marker (that checker is gone) and are due at `now` (their probe
 * settings may have changed). dst->generation becomes src->generation + 1. Returns the
 * number of records adopted. */
unsigned afb_health_table_adopt(afb_health_table_t *dst, const afb_health_table_t *src,
                                apr_time_t now);
/* Dependencies (depends=) of one record, as indices of records of the same table. */
#define AFB_HEALTH_MAX_DEPS 8
typedef struct {
    int n;
    int idx[AFB_HEALTH_MAX_DEPS];
} afb_health_deps_t;

typedef struct {
    int index;                  /* the record whose effective state changed */
    afb_health_transition_t tr; /* from, to, reason */
} afb_health_dep_change_t;

/* Recomputes the derived state of every record from deps[0..nrecs-1] (the graph has no cycle:
 * configtest refuses them), transitively: a provider whose dependency is derived DOWN is
 * DOWN too. Returns the changes of effective state, afb_health_dep_change_t. */
apr_array_header_t *afb_health_table_derive(apr_pool_t *p, afb_health_table_t *t,
                                            const afb_health_deps_t *deps);

/* The checker calls this at every tick. */
void afb_health_table_heartbeat(afb_health_table_t *t, apr_time_t now);
/* 1 when the checker has not ticked for longer than max_silence (or never). */
int afb_health_table_checker_stale(const afb_health_table_t *t, apr_time_t now,
                                   apr_interval_time_t max_silence);

#endif
