/* The bridge from the core's logging to ap_log_error, and the JSON-lines event log with its
 * builders and its rate limit (afb_log.h).
 * Every message at info level and above carries its "AFBnnnnn: " tag. Event lines are written
 * with one write() on an O_APPEND file or a pipe, so lines from several children never mix
 * (lines are kept under PIPE_BUF). */
#include <apr_strings.h>
#include <http_core.h>
#include <http_log.h>

#include <apr_thread_mutex.h>

#include "afb_log.h"
#include "afb_page.h"
#include "authfb/log.h"

APLOG_USE_MODULE(auth_fallback);

/* High-rate events (route.fallback, auth.throttled) are written at most once per
 * AFB_EVENT_RATE_EVERY per key and process, with the number of occurrences they stand for,
 * so a login storm cannot flood the event log. */
typedef struct {
    apr_time_t last;
    long pending;
} afb_rate_t;

struct afb_events_t {
    apr_file_t *fd;                  /* the event log (pconf), or NULL */
    apr_thread_mutex_t *rate_lock;   /* the rate table, per child */
    apr_hash_t *rates;               /* key -> afb_rate_t */
    apr_pool_t *rate_pool;           /* its own: pchild's allocator is shared with workers */
};

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
    afb_log_set(afb_log_to_httpd, s);
}

/* The one message for an event log file that cannot be opened, at configtest and at a start. */
static int afb_event_log_refuse(server_rec *s, apr_status_t rv, const char *file)
{
    ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, rv, s,
                 "AFB00011: AuthFallbackEventLog: cannot open %s", file);
    return !OK;
}

static afb_events_t *afb_events(afb_module_t *mod, apr_pool_t *pconf)
{
    if (!mod->events)
        mod->events = apr_pcalloc(pconf, sizeof(*mod->events));
    return mod->events;
}

int afb_event_log_open(apr_pool_t *pconf, server_rec *s)
{
    afb_module_t *mod = afb_module(s);
    afb_events_t *ev = afb_events(mod, pconf);
    apr_status_t rv;
    ev->fd = NULL;
    if (!mod->event_log)
        return OK;
    if (mod->event_log[0] == '|') {
        piped_log *pl = ap_open_piped_log(pconf, mod->event_log + 1);
        if (!pl) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                         "AFB00010: AuthFallbackEventLog: cannot start %s", mod->event_log + 1);
            return !OK;
        }
        ev->fd = ap_piped_log_write_fd(pl);
        return OK;
    }
    rv = apr_file_open(&ev->fd, mod->event_log,
                       APR_FOPEN_WRITE | APR_FOPEN_CREATE | APR_FOPEN_APPEND,
                       APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_GREAD, pconf);
    return rv == APR_SUCCESS ? OK : afb_event_log_refuse(s, rv, mod->event_log);
}

/* What can be known before the start: the folder of a file event log exists. Same message as
 * the failure at the start (AFB00011). A pipe logger that exits, or a full disk, cannot be
 * known here; they are logged when they happen and do not stop httpd. */
int afb_event_log_check(apr_pool_t *ptemp, server_rec *s)
{
    afb_module_t *conf = afb_module(s);
    const char *dir;
    apr_finfo_t fi;
    apr_status_t rv;
    if (!conf->event_log || conf->event_log[0] == '|')
        return OK;
    dir = ap_make_dirstr_parent(ptemp, conf->event_log);
    rv = apr_stat(&fi, dir, APR_FINFO_TYPE, ptemp);
    if (rv == APR_SUCCESS && fi.filetype != APR_DIR)
        rv = APR_ENOTDIR;
    return rv == APR_SUCCESS ? OK : afb_event_log_refuse(s, rv, conf->event_log);
}

void afb_event_write(afb_module_t *mod, const char *line)
{
    apr_size_t len;
    if (!mod->events || !mod->events->fd || !line)
        return;
    len = strlen(line);
    if (len > AFB_EVENT_MAX_LINE) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, mod->main_server,
                     "AFB00012: event of %lu bytes not written (over %d)", (unsigned long)len,
                     AFB_EVENT_MAX_LINE);
        return;
    }
    apr_file_write(mod->events->fd, line, &len);
}

afb_event_t *afb_event(request_rec *r, const char *name)
{
    return afb_event_new(r->pool, name, apr_time_now());
}

void afb_event_emit(request_rec *r, afb_event_t *ev)
{
    afb_event_write(afb_module(r->server), afb_event_line(ev));
}

afb_event_t *afb_person_event(request_rec *r, const char *name, const char *user,
                              const char *path)
{
    afb_event_t *ev = afb_event(r, name);
    afb_event_str(ev, "user", user);
    afb_event_str(ev, "path", path);
    return ev;
}

void afb_person_event_emit(request_rec *r, afb_event_t *ev)
{
    afb_event_str(ev, "client", afb_client_ip(r));
    afb_event_emit(r, ev);
}

/* ---- the rate limit of high-rate events ---- */

static apr_status_t afb_pool_destroy_cleanup(void *data)
{
    apr_pool_destroy(data);
    return APR_SUCCESS;
}

void afb_events_child_init(afb_module_t *mod, apr_pool_t *pchild)
{
    afb_events_t *ev = afb_events(mod, pchild);
    /* Its own pool: pchild's allocator is shared with the worker threads. */
    apr_pool_create_unmanaged_ex(&ev->rate_pool, NULL, NULL);
    apr_pool_cleanup_register(pchild, ev->rate_pool, afb_pool_destroy_cleanup,
                              apr_pool_cleanup_null);
    ev->rates = apr_hash_make(ev->rate_pool);
    apr_thread_mutex_create(&ev->rate_lock, APR_THREAD_MUTEX_DEFAULT, pchild);
}

/* How many fallbacks the event to emit now stands for; 0 = stay quiet for now. */
long afb_event_rate_take(request_rec *r, const char *key)
{
    afb_events_t *ev = afb_module(r->server)->events;
    afb_rate_t *rt;
    apr_time_t now = apr_time_now();
    long n = 0;
    if (!ev || !ev->rate_lock)
        return 1;
    apr_thread_mutex_lock(ev->rate_lock);
    rt = apr_hash_get(ev->rates, key, APR_HASH_KEY_STRING);
    if (!rt && apr_hash_count(ev->rates) < AFB_EVENT_RATE_KEYS) {
        rt = apr_pcalloc(ev->rate_pool, sizeof(*rt));
        apr_hash_set(ev->rates, apr_pstrdup(ev->rate_pool, key), APR_HASH_KEY_STRING, rt);
    }
    if (rt) {
        rt->pending++;
        if (now - rt->last >= AFB_EVENT_RATE_EVERY) {
            n = rt->pending;
            rt->pending = 0;
            rt->last = now;
        }
    }
    else
        n = 1;
    apr_thread_mutex_unlock(ev->rate_lock);
    return n;
}
