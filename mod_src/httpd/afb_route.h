/* Starting a sign-in (afb_route.c). */
#ifndef AFB_ROUTE_H
#define AFB_ROUTE_H

#include "afb_conf.h"
#include "authfb/flow.h"

/* A protected request without a usable session: the first available path of the
 * location's chain, a 401 for a non-browser, or the 503 page when none is available. */
int afb_start_signin(request_rec *r, afb_dir_conf_t *dc);
/* The path the module chose failed during the sign-in: continue on the standby path
 * sealed at the start. */
int afb_activate_standby(request_rec *r, afb_flow_t *standby);

#endif
