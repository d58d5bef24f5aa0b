/* A fixed table of short-lived records (throttle counters, single-use marks) in memory the
 * caller provides, typically shared memory under a lock the caller holds. It never drops a
 * live record to make room: when no free slot is near a key's place, a new record is refused
 * (AFB_ETOOBIG) and counted, so a flood of new keys fails closed for the newcomers and never
 * open for the records already held. Expired records are reused. Keys are fixed-size digests
 * (the caller MACs its key strings, so nobody can aim keys at one place of the table).
 * See docs/operations.md (cache sizing). */
#ifndef AUTHFB_STATETABLE_H
#define AUTHFB_STATETABLE_H

#include "authfb/common.h"

#define AFB_STATETABLE_KEY 16     /* bytes of a key digest */
#define AFB_STATETABLE_VALUE 22   /* bytes of a value, at most */
#define AFB_STATETABLE_PROBE 64   /* slots searched from a key's place */

typedef struct afb_statetable_t afb_statetable_t;

typedef struct {
    uint32_t capacity;            /* slots */
    uint32_t live;                /* records not expired at `now` */
    uint64_t refused;             /* new records refused because no slot was free */
} afb_statetable_stats_t;

/* Bytes of memory a table of `slots` slots needs. */
size_t afb_statetable_size(uint32_t slots);
/* Lay out an empty table in `mem` (afb_statetable_size(slots) bytes, 8-byte aligned).
 * Returns NULL when slots is 0 or mem is NULL. */
afb_statetable_t *afb_statetable_init(void *mem, uint32_t slots);

/* *len: in = capacity of val, out = bytes stored. AFB_ENOENT when no live record. */
afb_status_t afb_statetable_get(afb_statetable_t *t, const unsigned char key[AFB_STATETABLE_KEY],
                                apr_time_t now, unsigned char *val, size_t *len) AFB_MUST_CHECK;
/* Replace the record of `key`, or add one. AFB_ETOOBIG when the value is over
 * AFB_STATETABLE_VALUE or when no slot is free (counted in `refused`). */
afb_status_t afb_statetable_set(afb_statetable_t *t, const unsigned char key[AFB_STATETABLE_KEY],
                                const unsigned char *val, size_t len, apr_time_t expiry,
                                apr_time_t now) AFB_MUST_CHECK;
void afb_statetable_stats(const afb_statetable_t *t, apr_time_t now,
                          afb_statetable_stats_t *out);

#endif
