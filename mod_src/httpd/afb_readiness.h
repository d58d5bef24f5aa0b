/* Who signed in where, and who could still sign in if a provider failed (afb_readiness.c):
 * AuthFallbackRoster, the ring of sightings in shared memory that children fill, the
 * checker's part (the roster file in batches, readiness into FILE.readiness) and what the
 * status handler shows of it. The file formats and the computation are the core's
 * (authfb/roster.h, authfb/readiness.h); docs/operations.md, "Before the outage". */
#ifndef AFB_READINESS_H
#define AFB_READINESS_H

#include "afb_conf.h"

/* AuthFallbackRoster FILE [DAYS] (the hub's command table). */
const char *afb_cmd_roster(cmd_parms *cmd, void *dc, const char *file, const char *days);
/* The ring of this generation, in shared memory (!OK refuses the start), and the checker's
 * share of the work (afb_module_t.checker_also): the roster file, readiness. */
int afb_readiness_post_config(apr_pool_t *pconf, server_rec *s);

/* A session was issued at `location` through `path`: one sighting queued (never waits on a
 * file; a full ring drops it and counts it). */
void afb_readiness_signed_in(request_rec *r, const char *user, const char *location,
                             const char *path);


/* The status handler's share: ?format=readiness (the report with names), the HTML section
 * and the Prometheus gauges (counts only). */
int afb_readiness_serve(request_rec *r);
void afb_readiness_html(request_rec *r);
void afb_readiness_prometheus(request_rec *r);

#endif
