/* The roster (AuthFallbackRoster FILE [DAYS], docs/operations.md "Before the outage:
 * readiness and drills"): per user and protected location, the last successful sign-in and
 * the path it took. The base of the readiness report.
 *
 * Who writes what: a child that completes a sign-in appends a sighting to a bounded ring in
 * shared memory (afb_roster_ring_*, under the caller's lock; a full ring drops the sighting
 * and counts it, the request never waits on a file). The health checker drains the ring in
 * batches into the file: read, merge, drop users not seen for DAYS, keep at most
 * AFB_ROSTER_MAX_RECORDS (the oldest go first), write a new copy and rename it over the old.
 *
 * The file, written by the module only:
 *
 *   # mod_auth_fallback roster v1
 *   LAST-SEEN<TAB>PATH<TAB>LOCATION<TAB>USER
 *
 * LAST-SEEN is Unix seconds, PATH a provider name, LOCATION the protected location as the
 * configuration names it, USER the signed-in name (the rest of the line). No field holds a
 * control character. Like the stores, it is data: a file without the header does not parse
 * (AFB_EINVAL: the caller starts a new roster and says so); a record that cannot be used is
 * skipped as "line N: reason"; the others stay. */
#ifndef AUTHFB_ROSTER_H
#define AUTHFB_ROSTER_H

#include "authfb/common.h"
#include "authfb/util.h"
#include <apr_tables.h>

#define AFB_ROSTER_HEADER "# mod_auth_fallback roster v1"
#define AFB_ROSTER_MAX_RECORDS 200000          /* users x locations kept in the file */
#define AFB_ROSTER_MAX_LINE 600                /* a record, within the field caps below */
#define AFB_ROSTER_MAX_BYTES (AFB_ROSTER_MAX_RECORDS * 160) /* 32 MB: a larger file is refused */
#define AFB_ROSTER_MAX_USER 255
#define AFB_ROSTER_MAX_LOCATION 255
#define AFB_ROSTER_MAX_PATH 32
#define AFB_ROSTER_DEFAULT_DAYS 90

typedef struct {
    const char *user;
    const char *location;
    const char *path;     /* the provider that authenticated the first factor */
    apr_time_t seen;      /* last successful sign-in, whole seconds */
} afb_roster_rec_t;

typedef struct afb_roster_t afb_roster_t;

afb_roster_t *afb_roster_create(apr_pool_t *p);
/* Parses a roster file (len 0: an empty roster). AFB_ETOOBIG over AFB_ROSTER_MAX_BYTES,
 * AFB_EINVAL without the header line; skipped records go to *skips (may be NULL). A user
 * given twice for one location keeps the later sighting. */
afb_status_t afb_roster_parse(apr_pool_t *p, const char *text, size_t len, afb_roster_t **out,
                              afb_skips_t *skips) AFB_MUST_CHECK;
/* Records one sign-in; keeps the later of two sightings of a user at a location. AFB_EINVAL
 * for a field that could not be written back (empty, too long, control characters, a path
 * that is not a provider name, a time before 1970). */
afb_status_t afb_roster_see(afb_roster_t *r, const char *user, const char *location,
                            const char *path, apr_time_t seen) AFB_MUST_CHECK;
int afb_roster_count(const afb_roster_t *r);
/* Drops every record last seen more than `days` days before now; returns how many. */
int afb_roster_expire(afb_roster_t *r, apr_time_t now, int days);
/* Keeps the `max` most recent records; returns how many were dropped. */
int afb_roster_trim(afb_roster_t *r, int max);
/* The records (const afb_roster_rec_t *), by location, then user (bytewise). */
apr_array_header_t *afb_roster_sorted(const afb_roster_t *r, apr_pool_t *p);
/* The file text, header first, records in afb_roster_sorted order. */
const char *afb_roster_format(const afb_roster_t *r, apr_pool_t *p, size_t *len);

/* ---- the ring of sightings in shared memory: fixed-size, no pointers ---- */

#define AFB_ROSTER_RING_MAGIC 0x41464253u /* "AFBS" */
#define AFB_ROSTER_RING_VERSION 1u
#define AFB_ROSTER_RING_SLOTS 1024u       /* sign-ins between two drains (one checker tick) */

typedef struct {
    int64_t seen;                               /* apr_time_t */
    char path[AFB_ROSTER_MAX_PATH + 1];
    char location[AFB_ROSTER_MAX_LOCATION + 1];
    char user[AFB_ROSTER_MAX_USER + 1];
} afb_roster_sighting_t;

typedef struct {
    uint32_t magic;
    uint32_t version;
    uint32_t slots;
    uint32_t count;     /* sightings waiting */
    uint32_t next;      /* slot of the oldest waiting sighting */
    uint32_t pad;
    uint64_t dropped;   /* sightings lost to a full ring or unusable fields */
    afb_roster_sighting_t s[];
} afb_roster_ring_t;

apr_size_t afb_roster_ring_size(unsigned slots);
/* Lays out an empty ring in mem; NULL when size is too small or slots is 0. */
afb_roster_ring_t *afb_roster_ring_init(void *mem, apr_size_t size, unsigned slots);
/* 1 and the sighting queued; 0 when the ring is full or a field does not fit (counted in
 * dropped). The caller holds its lock. */
int afb_roster_ring_push(afb_roster_ring_t *ring, const char *user, const char *location,
                         const char *path, apr_time_t seen);
/* Moves every waiting sighting into r (unusable ones are dropped); returns how many were
 * taken from the ring. The caller holds its lock. */
int afb_roster_ring_drain(afb_roster_ring_t *ring, afb_roster_t *r);

#endif
