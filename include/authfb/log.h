/* Logging is injected (mod_md's md_log.h shape): the core calls afb_log(), the adapter
 * installs a callback that forwards to ap_log_error with the "AFBnnnnn: " tag. */
#ifndef AUTHFB_LOG_H
#define AUTHFB_LOG_H

typedef enum {
    AFB_LOG_ERR = 0,
    AFB_LOG_WARN,
    AFB_LOG_NOTICE,
    AFB_LOG_INFO,
    AFB_LOG_DEBUG
} afb_log_level_t;

/* tag: the AFBnnnnn number of the message (0 only for debug messages). */
typedef void afb_log_cb(void *baton, afb_log_level_t level, int tag, const char *msg);

void afb_log_set(afb_log_cb *cb, void *baton);
void afb_log(afb_log_level_t level, int tag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
