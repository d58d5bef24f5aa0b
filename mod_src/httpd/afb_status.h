/* The `auth-fallback-status` handler (afb_status.c): the shared health table and counters
 * as HTML, JSON and Prometheus text. */
#ifndef AFB_STATUS_H
#define AFB_STATUS_H

#include "afb_conf.h"

int afb_status_handler(request_rec *r);

#endif
