/* A bound on how many password verifications run at once, across every process that maps the
 * same memory (all httpd children share one gate, made before they fork).
 *
 * A deliberately slow hash at full speed on every worker thread at once leaves no CPU for
 * anything else: requests that carry a session wait behind the hashing. With the gate, at
 * most `slots` verifications run (slots = the cores, docs/operations.md "Sizing"); the others
 * sleep in a queue, first come first served (a ticket each), holding no CPU, and take their
 * turn as verifications end. Throughput stays at the cores' limit while the remaining CPU
 * time goes to the other requests.
 *
 * Each turn records the process holding it. A process that dies inside a verification never
 * gives its turn back: waiters look every second for turns held by processes that no longer
 * exist and hand them on, so a lost turn never shrinks the gate for good. A waiter that has
 * waited past its deadline goes ahead anyway (AFB_ETIMEOUT), so a request is never stuck.
 * Thread- and process-safe; no allocation after init. */
#ifndef AUTHFB_VGATE_H
#define AUTHFB_VGATE_H

#include "authfb/common.h"

#define AFB_VGATE_MAX_SLOTS 256

typedef struct afb_vgate_t afb_vgate_t;

/* Bytes of shared memory a gate needs. */
size_t afb_vgate_size(void);
/* Sets up a gate in mem (afb_vgate_size() bytes, shared, suitably aligned) with slots turns
 * (1..AFB_VGATE_MAX_SLOTS): AFB_OK or AFB_ERR. */
afb_status_t afb_vgate_init(void *mem, int slots, afb_vgate_t **out) AFB_MUST_CHECK;
int afb_vgate_slots(const afb_vgate_t *g);

/* Wait for a turn: AFB_OK, or AFB_ETIMEOUT after max_wait (the caller goes ahead anyway);
 * either way the caller calls afb_vgate_leave(g, *turn) when done. AFB_ERR when the lock
 * fails: the caller goes ahead without the gate and does not leave. *waited gets the time
 * spent waiting (may be NULL). */
afb_status_t afb_vgate_enter(afb_vgate_t *g, apr_interval_time_t max_wait,
                             apr_interval_time_t *waited, int *turn);
void afb_vgate_leave(afb_vgate_t *g, int turn);

/* Verifications running and waiting now (for the status page and tests). */
void afb_vgate_counts(afb_vgate_t *g, int *running, int *waiting);

#endif
