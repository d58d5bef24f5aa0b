/* Event-log records (docs/monitoring.md, "Events"): one JSON object per line, `time` RFC 3339 UTC and `event`
 * first. Built with jansson; the adapter writes the line atomically. */
#ifndef AUTHFB_EVENT_H
#define AUTHFB_EVENT_H

#include "authfb/common.h"

typedef struct afb_event_t afb_event_t;

afb_event_t *afb_event_new(apr_pool_t *p, const char *name, apr_time_t now);
void afb_event_str(afb_event_t *ev, const char *key, const char *val); /* NULL -> null */
void afb_event_int(afb_event_t *ev, const char *key, long long val);
void afb_event_bool(afb_event_t *ev, const char *key, int val);
/* The line, newline-terminated, allocated in the event's pool. Frees the JSON object. */
const char *afb_event_line(afb_event_t *ev);

/* RFC 3339 UTC with millisecond precision: 2026-11-23T16:22:31.123Z */
const char *afb_rfc3339(apr_pool_t *p, apr_time_t t);

#endif
