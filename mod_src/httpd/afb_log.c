/* The bridge from the core's logging to ap_log_error, and the JSON-lines event log.
 * Every message at info level and above carries its "AFBnnnnn: " tag. Event lines are written
 * with one write() on an O_APPEND file or a pipe, so lines from several children never mix
 * (lines are kept under PIPE_BUF). */
#include <apr_strings.h>
#include <http_core.h>
#include <http_log.h>

#include "afb_httpd.h"
#include "authfb/log.h"

APLOG_USE_MODULE(auth_fallback);

static server_rec *afb_log_server;
static apr_file_t *afb_event_fd;

static int afb_ap_level(afb_log_level_t level)
{
    switch (level) {
    case AFB_LOG_ERR: return APLOG_ERR;
    case AFB_LOG_WARN: return APLOG_WARNING;
    case AFB_LOG_NOTICE: return APLOG_NOTICE;
    case AFB_LOG_INFO: return APLOG_INFO;
    default: return APLOG_DEBUG;
    }
}

static void afb_log_to_httpd(void *baton, afb_log_level_t level, int tag, const char *msg)
{
    server_rec *s = baton;
    if (tag > 0)
        ap_log_error(APLOG_MARK, afb_ap_level(level), 0, s, "AFB%05d: %s", tag, msg);
    else /* untagged messages are debug output, whatever level they asked for */
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, "%s", msg);
}

void afb_log_bridge_install(server_rec *s)
{
    afb_log_server = s;
    afb_log_set(afb_log_to_httpd, s);
}

/* The one message for an event log file that cannot be opened, at configtest and at a start. */
static int afb_event_log_refuse(server_rec *s, apr_status_t rv, const char *file)
{
    ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, rv, s,
                 "AFB00011: AuthFallbackEventLog: cannot open %s", file);
    return !OK;
}

int afb_event_log_open(apr_pool_t *pconf, server_rec *s)
{
    afb_server_conf_t *conf = afb_main_conf();
    apr_status_t rv;
    afb_event_fd = NULL;
    if (!conf || !conf->event_log)
        return OK;
    if (conf->event_log[0] == '|') {
        piped_log *pl = ap_open_piped_log(pconf, conf->event_log + 1);
        if (!pl) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                         "AFB00010: AuthFallbackEventLog: cannot start %s", conf->event_log + 1);
            return !OK;
        }
        afb_event_fd = ap_piped_log_write_fd(pl);
        return OK;
    }
    rv = apr_file_open(&afb_event_fd, conf->event_log,
                       APR_FOPEN_WRITE | APR_FOPEN_CREATE | APR_FOPEN_APPEND,
                       APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_GREAD, pconf);
    return rv == APR_SUCCESS ? OK : afb_event_log_refuse(s, rv, conf->event_log);
}

/* What can be known before the start: the folder of a file event log exists. Same message as
 * the failure at the start (AFB00011). A pipe logger that exits, or a full disk, cannot be
 * known here; they are logged when they happen and do not stop httpd. */
int afb_event_log_check(apr_pool_t *ptemp, server_rec *s)
{
    afb_server_conf_t *conf = afb_main_conf();
    const char *dir;
    apr_finfo_t fi;
    apr_status_t rv;
    if (!conf || !conf->event_log || conf->event_log[0] == '|')
        return OK;
    dir = ap_make_dirstr_parent(ptemp, conf->event_log);
    rv = apr_stat(&fi, dir, APR_FINFO_TYPE, ptemp);
    if (rv == APR_SUCCESS && fi.filetype != APR_DIR)
        rv = APR_ENOTDIR;
    return rv == APR_SUCCESS ? OK : afb_event_log_refuse(s, rv, conf->event_log);
}

void afb_event_write(const char *line)
{
    apr_size_t len;
    if (!afb_event_fd || !line)
        return;
    len = strlen(line);
    if (len > AFB_EVENT_MAX_LINE) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, afb_log_server,
                     "AFB00012: event of %lu bytes not written (over %d)", (unsigned long)len,
                     AFB_EVENT_MAX_LINE);
        return;
    }
    apr_file_write(afb_event_fd, line, &len);
}
