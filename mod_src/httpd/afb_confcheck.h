/* Checks of the whole configuration tree at configtest and start (afb_confcheck.c). */
#ifndef AFB_CONFCHECK_H
#define AFB_CONFCHECK_H

#include "afb_conf.h"

/* Logs every problem found; !OK when httpd must refuse the configuration. */
int afb_confcheck_tree(apr_pool_t *ptemp, server_rec *s);

#endif
