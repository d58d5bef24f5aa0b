/* The self-service enrollment page, ENDPOINT/enroll (afb_enroll.c; docs/people.md). */
#ifndef AFB_ENROLL_H
#define AFB_ENROLL_H

#include <httpd.h>
#include <http_config.h>

/* AuthFallbackEnrollRequire NAME ...: first-factor providers whose sessions may enroll. */
const char *afb_cmd_enroll_require(cmd_parms *cmd, void *dc, const char *name);
int afb_enroll_handler(request_rec *r);

#endif
