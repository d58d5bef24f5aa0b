/* The password form under the endpoint (afb_login_form.c). */
#ifndef AFB_LOGIN_FORM_H
#define AFB_LOGIN_FORM_H

#include "afb_conf.h"

/* ENDPOINT/login: GET shows the form of the flow's path, POST judges user and password. */
int afb_login_handler(request_rec *r);

#endif
