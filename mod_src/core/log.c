/* Injected logging: the core formats a message and hands it to whatever callback the
 * adapter installed (ap_log_error there, a recorder in tests). Without a callback the
 * messages go nowhere. */
#include "authfb/log.h"

#include <stdarg.h>
#include <apr_strings.h>

#define AFB_LOG_MAX 2048

static afb_log_cb *log_cb;
static void *log_baton;

void afb_log_set(afb_log_cb *cb, void *baton)
{
    log_cb = cb;
    log_baton = baton;
}

void afb_log(afb_log_level_t level, int tag, const char *fmt, ...)
{
    char msg[AFB_LOG_MAX];
    afb_log_cb *cb = log_cb;
    va_list ap;

    if (cb == NULL || fmt == NULL)
        return;
    va_start(ap, fmt);
    /* apr_vsnprintf always NUL-terminates and truncates at the buffer size. */
    apr_vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cb(log_baton, level, tag, msg);
}
