/* Throttling of failed attempts (afb_throttle.c): AuthFallbackThrottle's limits per user
 * and per client address, kept in the shared cache (authfb/throttle.h). */
#ifndef AFB_THROTTLE_H
#define AFB_THROTTLE_H

#include "afb_conf.h"
#include "authfb/flow.h"
#include "authfb/throttle.h"

/* Throttling counts an attempt before it is judged, under the cache lock, so parallel
 * requests cannot all slip under the limit while a slow hash runs; a right answer (or one
 * that could not be judged) gives its count back. */
typedef struct {
    request_rec *r;
    const char *ukey, *ckey;
    afb_throttle_policy_t upol, cpol;
    int ublocked, cblocked;
    long uwait, cwait;
    int reserved;
    int unkept;      /* the store could not keep a count it could read: refused, fail closed */
} afb_attempt_t;

/* Count this attempt before it is judged; 1 (with the 429 page in *status) when the user or
 * the client is throttled, or the 503 page when the count cannot be kept (a full table).
 * key is the person's canonical name (docs/directives.md, "Name rules"; NULL: counted per
 * client only), shown the name for the event. */
int afb_throttled(request_rec *r, const afb_flow_t *flow, const char *key, const char *shown,
                  afb_attempt_t *a, int *status);
/* Give back the attempt counted in advance (a right answer, or one that was not judged). */
void afb_attempt_done(afb_attempt_t *a);

#endif
