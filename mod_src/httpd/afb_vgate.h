/* The bound on password verifications running at once, shared by every child (afb_vgate.c;
 * the queue itself: include/authfb/vgate.h). */
#ifndef AFB_VGATE_H
#define AFB_VGATE_H

#include "afb_conf.h"
#include "authfb/vgate.h"

/* post_config: the queue, made once for the life of the server (kept across restarts). */
int afb_vgate_post_config(server_rec *s);
/* Waits for a turn (in order, without CPU), then runs fn(baton); returns what fn returned. */
typedef afb_status_t (*afb_vgate_work_fn)(void *baton);
afb_status_t afb_vgate_verify(request_rec *r, afb_vgate_work_fn fn, void *baton);

#endif
