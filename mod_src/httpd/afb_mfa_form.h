/* The second-factor form under the endpoint (afb_mfa_form.c). */
#ifndef AFB_MFA_FORM_H
#define AFB_MFA_FORM_H

#include "afb_conf.h"

/* ENDPOINT/mfa: GET shows the page of the provider whose turn it is, POST checks the code. */
int afb_mfa_handler(request_rec *r);

#endif
