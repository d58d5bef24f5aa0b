/* Failed-attempt throttling (docs/directives.md, "Throttling"): fixed-window counters per user and per client
 * address kept in the shared cache. Pure decisions over a small fixed-size record. */
#ifndef AUTHFB_THROTTLE_H
#define AUTHFB_THROTTLE_H

#include "authfb/common.h"
#include "authfb/cache.h"

typedef struct {
    unsigned max_failures; /* failures allowed within `window` before blocking */
    apr_interval_time_t window;
} afb_throttle_policy_t;

typedef struct {
    uint32_t failures;
    int64_t window_start; /* apr_time_t */
} afb_throttle_rec_t;

/* Pure logic. */
int afb_throttle_blocked(const afb_throttle_rec_t *r, const afb_throttle_policy_t *pol,
                         apr_time_t now);
void afb_throttle_add_failure(afb_throttle_rec_t *r, const afb_throttle_policy_t *pol,
                              apr_time_t now);
/* Seconds until the window that blocks ends (for Retry-After), >= 1. */
long afb_throttle_retry_after(const afb_throttle_rec_t *r, const afb_throttle_policy_t *pol,
                              apr_time_t now);
/* Fixed 12-byte wire form, versioned by length. */
void afb_throttle_encode(const afb_throttle_rec_t *r, unsigned char out[12]);
afb_status_t afb_throttle_decode(const unsigned char *in, size_t len, afb_throttle_rec_t *r) AFB_MUST_CHECK;

/* The network a client address is counted under (docs/directives.md, throttling): an IPv4
 * address (or an IPv4-mapped IPv6 one) cut to v4_prefix bits, an IPv6 address to v6_prefix
 * bits, written as "ADDR/LEN" -- "192.0.2.7/32", "2001:db8:1:2::/64". One IPv6 client owns
 * at least a /64 and can rotate through it. Anything that is not an address is returned
 * unchanged. v4_prefix 0..32, v6_prefix 0..128 (clamped). */
const char *afb_throttle_client_net(apr_pool_t *p, const char *ip, int v4_prefix,
                                    int v6_prefix);

/* Through a cache: key is the full cache key (caller builds "thr:u:<mac>" / "thr:c:<ip>").
 * A cache error (AFB_EIO) is returned as such; callers choose their failure mode. */
afb_status_t afb_throttle_check(afb_cache_t *c, apr_pool_t *p, const char *key,
                                const afb_throttle_policy_t *pol, apr_time_t now,
                                int *blocked, long *retry_after) AFB_MUST_CHECK;
afb_status_t afb_throttle_fail(afb_cache_t *c, apr_pool_t *p, const char *key,
                               const afb_throttle_policy_t *pol, apr_time_t now) AFB_MUST_CHECK;
/* Take back one failure of the current window (an attempt counted in advance that turned
 * out right, or that could not be judged). */
afb_status_t afb_throttle_refund(afb_cache_t *c, apr_pool_t *p, const char *key,
                                 const afb_throttle_policy_t *pol, apr_time_t now) AFB_MUST_CHECK;

#endif
