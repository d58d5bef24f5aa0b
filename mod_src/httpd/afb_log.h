/* Logging (afb_log.c): the bridge from the core's logging to the error log, and the
 * JSON-lines event log (AuthFallbackEventLog) with its builders and rate limit. */
#ifndef AFB_LOG_H
#define AFB_LOG_H

#include "afb_conf.h"
#include "authfb/event.h"

/* Core messages go to the error log of s (NULL: stderr, while reading the configuration). */
void afb_log_bridge_install(server_rec *s);

/* post_config: open the file or start the program; !OK when it cannot be. */
int afb_event_log_open(apr_pool_t *pconf, server_rec *s);
/* At configtest and every start: the folder of a file event log exists (AFB00011). */
int afb_event_log_check(apr_pool_t *ptemp, server_rec *s);
/* child_init: the per-process rate table. */
void afb_events_child_init(afb_module_t *mod, apr_pool_t *pchild);

/* One event line (from any thread); lines over AFB_EVENT_MAX_LINE are dropped with a
 * warning. */
void afb_event_write(afb_module_t *mod, const char *line);
/* An event of this request, then written. */
afb_event_t *afb_event(request_rec *r, const char *name);
void afb_event_emit(request_rec *r, afb_event_t *ev);

/* An event about a person's sign-in: user and path first (either may be NULL), then the
 * caller's fields, then afb_person_event_emit adds the client address and writes it. */
afb_event_t *afb_person_event(request_rec *r, const char *name, const char *user,
                              const char *path);
void afb_person_event_emit(request_rec *r, afb_event_t *ev);

/* Rate limit for high-rate events: how many occurrences the event to write now stands for,
 * or 0 to stay quiet (one event per key every AFB_EVENT_RATE_EVERY per process). */
long afb_event_rate_take(request_rec *r, const char *key);

#endif
