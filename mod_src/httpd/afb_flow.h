/* The sign-in in progress (afb_flow.c): the sealed flow cookie (authfb/flow.h) and the
 * checks every form of the module makes before it acts. */
#ifndef AFB_FLOW_H
#define AFB_FLOW_H

#include "afb_conf.h"
#include "authfb/flow.h"

afb_status_t afb_flow_save(request_rec *r, const afb_flow_t *flow);
/* Open the flow cookie: AFB_OK, AFB_EEXPIRED or AFB_EINVAL / AFB_ENOENT when absent. */
afb_status_t afb_flow_load(request_rec *r, afb_flow_t *flow);
void afb_flow_forget(request_rec *r);
/* The form page shown when a flow cookie is missing or expired (or names a provider that is
 * gone since it was sealed). */
int afb_flow_lost_page(request_rec *r, afb_status_t st, const char *return_to);

/* The form of a POST with a valid CSRF token, or NULL with the answer in *status. */
apr_table_t *afb_checked_form(request_rec *r, const afb_flow_t *flow, int *status);

/* A form endpoint: the flow at this stage (or the page saying it is lost), then post() for a
 * POST and show() for a GET. */
typedef int afb_form_step_fn(request_rec *r, afb_flow_t *flow);
int afb_form_serve(request_rec *r, afb_flow_stage_t stage, afb_form_step_fn *post,
                   afb_form_step_fn *show);

#endif
