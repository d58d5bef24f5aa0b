/* An in-memory afb_cache_t for unit tests: entries expire against a fake clock set by the
 * test (an entry is gone once now >= its expiry), and the cache can be switched into a
 * failing mode in which it answers AFB_EIO, as a real backend outage would. */
#ifndef AFB_TEST_FAKE_CACHE_H
#define AFB_TEST_FAKE_CACHE_H

#include "authfb/cache.h"

/* A new, empty cache; its entries live in p. The clock starts at 0. */
afb_cache_t *afb_fake_cache_new(apr_pool_t *p);
void afb_fake_cache_set_now(afb_cache_t *c, apr_time_t now);
/* on != 0: every get and set answers AFB_EIO; 0: back to normal (entries are kept). */
void afb_fake_cache_set_failing(afb_cache_t *c, int on);
/* Finer control: fail only reads, only writes, or both. */
void afb_fake_cache_set_failing_ops(afb_cache_t *c, int fail_get, int fail_set);
/* Number of entries not yet expired at the fake clock's time. */
unsigned afb_fake_cache_count(afb_cache_t *c);
/* Number of set calls that were answered AFB_OK. */
unsigned afb_fake_cache_sets(afb_cache_t *c);

#endif
