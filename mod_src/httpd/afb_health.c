/* Health checking in httpd: one checker for the whole server (a mod_watchdog singleton, as
 * mod_proxy_hcheck does), probes run in a small thread pool so a hanging provider delays no
 * other, and the health table lives in anonymous shared memory created once in the parent's
 * process pool, so every child sees the same state and a graceful restart keeps it.
 * The state machine itself is the core's (include/authfb/health.h). */
#include <apr_strings.h>
#include <apr_shm.h>
#include <apr_optional.h>
#include <apr_thread_pool.h>
#include <apr_file_info.h>
#include <apr_file_io.h>
#include <http_core.h>
#include <mod_watchdog.h>
#include <util_mutex.h>

#include "afb_health.h"
#include "afb_cache.h"
#include "afb_log.h"
#include "afb_provider.h"
#include "authfb/event.h"
#include "authfb/health.h"
#include "authfb/log.h"
#include "authfb/override.h"
#include "authfb/route.h"

APLOG_USE_MODULE(auth_fallback);

#define AFB_HEALTH_MUTEX "authfb-health"
#define AFB_WATCHDOG_NAME "_authfb_health_"
#define AFB_CACHE_REC_NAME "(cache)"

/* Two segments used in turn: a graceful restart lays the new generation's table out in the
 * segment the old generation is not using, so children still finishing their requests never
 * see their table rewritten under them. */
typedef struct {
    apr_shm_t *shm[2];
    apr_size_t size[2];
    int cur;             /* the segment of the running generation, -1 before the first */
} afb_health_retained_t;

/* The health subsystem's state in the module (afb_module_t.health), made in post_config in
 * a kept block (afb_kept_block: the checker's threads may outlive pconf in an exiting child);
 * children inherit it with the fork. */
struct afb_checker_t {
    afb_module_t *mod;
    server_rec *server;              /* the main server */
    afb_health_table_t *table;       /* in shared memory (afb_table_place) */
    apr_time_t table_placed;
    apr_global_mutex_t *mutex;       /* guards the table; re-attached per child */
    const char *mutex_file;
    apr_thread_pool_t *probe_pool;   /* the checker's, in its process only */
    afb_health_deps_t *deps;         /* depends= as indices, one per record */
    int cache_idx;                   /* the shared cache's own record */
    apr_time_t override_checked;
    afb_status_t override_last_error;
    char override_last_warnings[AFB_OVERRIDE_WARNINGS_MAX];
    apr_time_t stale_warned;         /* AFB01010, per process */
    volatile int stopping;           /* the child is exiting: no new probe */
    /* Orders the checker's tick and its stop (afb_checker_stop): made once per process in a
     * pool never destroyed, as mod_watchdog may call after pconf is gone. */
    apr_thread_mutex_t *stop_lock;
};

int afb_health_pre_config(apr_pool_t *pconf)
{
    return ap_mutex_register(pconf, AFB_HEALTH_MUTEX, NULL, APR_LOCK_DEFAULT, 0);
}

static afb_health_rec_t *afb_rec(const afb_provider_t *prov)
{
    afb_checker_t *h = prov->mod->health;
    if (!h || !h->table || prov->health_idx < 0 || (unsigned)prov->health_idx >= h->table->nrecs)
        return NULL;
    return &h->table->recs[prov->health_idx];
}

static void afb_hlock(afb_checker_t *h)
{
    if (h->mutex)
        apr_global_mutex_lock(h->mutex);
}

static void afb_hunlock(afb_checker_t *h)
{
    if (h->mutex)
        apr_global_mutex_unlock(h->mutex);
}

void afb_health_lock(afb_module_t *mod)
{
    if (mod->health)
        afb_hlock(mod->health);
}

void afb_health_unlock(afb_module_t *mod)
{
    if (mod->health)
        afb_hunlock(mod->health);
}

/* ---- the table in shared memory ---- */

/* The dependencies of every record as indices (depends=, checked by configtest); the
 * cache record, last, has none. */
static void afb_deps_resolve(afb_checker_t *h, apr_pool_t *pconf, apr_array_header_t *all)
{
    int i, k;
    h->deps = apr_pcalloc(pconf, sizeof(afb_health_deps_t) * (apr_size_t)(all->nelts + 1));
    for (i = 0; i < all->nelts; i++) {
        afb_provider_t *prov = APR_ARRAY_IDX(all, i, afb_provider_t *);
        apr_array_header_t *d = prov->conf.depends;
        for (k = 0; d && k < d->nelts && k < AFB_HEALTH_MAX_DEPS; k++) {
            afb_provider_t *dep = afb_provider_find(h->server,
                                                    APR_ARRAY_IDX(d, k, const char *));
            h->deps[i].idx[h->deps[i].n++] = dep ? dep->health_idx : -1;
        }
    }
}

static apr_status_t afb_table_place(afb_checker_t *h, server_rec *s, apr_array_header_t *all,
                                    apr_pool_t *ptemp)
{
    afb_health_retained_t *ret = ap_retained_data_get("afb-health");
    const char **names = apr_pcalloc(ptemp, sizeof(char *) * (apr_size_t)(all->nelts + 2));
    apr_size_t need = afb_health_table_size((unsigned)all->nelts + 1);
    afb_health_table_t *old = NULL, *fresh = NULL;
    apr_status_t rv;
    int i, next;
    for (i = 0; i < all->nelts; i++) {
        afb_provider_t *prov = APR_ARRAY_IDX(all, i, afb_provider_t *);
        names[i] = prov->conf.name;
        prov->health_idx = i;
    }
    names[all->nelts] = AFB_CACHE_REC_NAME; /* not a valid provider name: no clash */
    h->cache_idx = all->nelts;
    if (!ret) {
        ret = ap_retained_data_create("afb-health", sizeof(*ret));
        ret->cur = -1;
    }
    if (ret->cur >= 0 && ret->shm[ret->cur])
        old = afb_health_table_attach(apr_shm_baseaddr_get(ret->shm[ret->cur]),
                                      ret->size[ret->cur]);
    next = ret->cur == 0 ? 1 : 0;
    if (!ret->shm[next] || ret->size[next] < need) {
        /* The parent's process pool outlives every restart, so children of every generation
         * can keep using their segment; one too small for a grown configuration is replaced
         * (and left to the process, as a detached old generation may still use it). */
        rv = apr_shm_create(&ret->shm[next], need, NULL, s->process->pool);
        if (rv != APR_SUCCESS)
            return rv;
        ret->size[next] = need;
    }
    if (afb_health_table_init(apr_shm_baseaddr_get(ret->shm[next]), ret->size[next],
                              (unsigned)all->nelts + 1, names, apr_time_now(), &fresh) != AFB_OK)
        return APR_EGENERAL;
    if (old)
        afb_health_table_adopt(fresh, old, apr_time_now());
    ret->cur = next;
    h->table = fresh;
    h->table_placed = apr_time_now();
    return APR_SUCCESS;
}

/* ---- probes ---- */

static void afb_transition_report(afb_checker_t *h, const char *name,
                                  const afb_health_transition_t *tr, apr_pool_t *p)
{
    afb_event_t *ev;
    afb_log(tr->to == AFB_HEALTH_DOWN ? AFB_LOG_ERR : AFB_LOG_NOTICE, 1001,
            "provider %s %s -> %s (%s)", name, afb_health_state_name(tr->from),
            afb_health_state_name(tr->to), tr->reason);
    ev = afb_event_new(p, "health.transition", apr_time_now());
    afb_event_str(ev, "provider", name);
    afb_event_str(ev, "from", afb_health_state_name(tr->from));
    afb_event_str(ev, "to", afb_health_state_name(tr->to));
    afb_event_str(ev, "reason", tr->reason);
    afb_event_write(h->mod, afb_event_line(ev));
}

static void *APR_THREAD_FUNC afb_probe_task(apr_thread_t *thd, void *data)
{
    afb_provider_t *prov = data;
    afb_checker_t *h = prov->mod->health;
    afb_health_rec_t *rec = afb_rec(prov);
    afb_health_cfg_t cfg;
    afb_health_transition_t tr;
    apr_pool_t *p;
    const char *reason = NULL;
    apr_time_t start = apr_time_now();
    afb_status_t st;
    int changed;
    (void)thd;
    if (!rec)
        return NULL;
    apr_pool_create(&p, NULL);
    st = prov->ops->probe(prov, p, &reason);
    afb_health_cfg_from_provider(&cfg, &prov->conf);
    afb_hlock(h);
    changed = afb_health_probe_result(rec, apr_time_now(), st == AFB_OK,
                                      apr_time_now() - start,
                                      st == AFB_OK ? NULL : (reason ? reason : afb_status_str(st)),
                                      &cfg, &tr);
    afb_hunlock(h);
    if (changed)
        afb_transition_report(h, prov->conf.name, &tr, p);
    apr_pool_destroy(p);
    return NULL;
}

/* ---- the shared cache: a dependency with a record of its own ---- */

/* No new probe; queued ones are dropped and running ones finish (each within its timeout).
 * Called with h->stop_lock held. */
static void afb_probes_end(afb_checker_t *h)
{
    apr_thread_pool_t *probes = h->probe_pool;
    h->stopping = 1;
    h->probe_pool = NULL;
    if (!probes)
        return;
    apr_thread_pool_destroy(probes);
    afb_log(AFB_LOG_INFO, 1494, "health checker stopped in process %ld, its probes ended",
            (long)getpid());
}

/* An exiting child destroys pchild first and pconf later (at exit), while the checker's
 * threads could still run: the probes stop here, before anything of pchild goes (a
 * pre-cleanup: the HTTP transport and the OIDC clients the probes use live in pchild too),
 * and under the lock the tick holds, so no tick pushes onto a pool being destroyed. */
static apr_status_t afb_checker_stop(void *data)
{
    afb_checker_t *h = data;
    apr_thread_mutex_lock(h->stop_lock);
    afb_probes_end(h);
    apr_thread_mutex_unlock(h->stop_lock);
    return APR_SUCCESS;
}

/* A probe for the pool of this process, unless the child is exiting. */
static apr_status_t afb_probe_push(afb_checker_t *h, apr_thread_start_t task, void *data,
                                   apr_byte_t priority, void *owner)
{
    apr_thread_pool_t *probes = h->probe_pool;
    if (!probes || h->stopping)
        return APR_SUCCESS;
    return apr_thread_pool_push(probes, task, data, priority, owner);
}

static void afb_cache_transition_report(afb_checker_t *h, const afb_health_transition_t *tr,
                                        apr_pool_t *p)
{
    afb_event_t *ev;
    afb_log(tr->to == AFB_HEALTH_DOWN ? AFB_LOG_ERR : AFB_LOG_NOTICE, 1207,
            "shared cache %s %s -> %s (%s)%s", h->mod->cache_spec,
            afb_health_state_name(tr->from), afb_health_state_name(tr->to), tr->reason,
            tr->to == AFB_HEALTH_DOWN ? ": one-time codes are refused, throttling lets "
            "attempts through" : "");
    ev = afb_event_new(p, "health.transition", apr_time_now());
    afb_event_str(ev, "provider", AFB_CACHE_REC_NAME);
    afb_event_str(ev, "from", afb_health_state_name(tr->from));
    afb_event_str(ev, "to", afb_health_state_name(tr->to));
    afb_event_str(ev, "reason", tr->reason);
    afb_event_str(ev, "cache", h->mod->cache_spec);
    afb_event_write(h->mod, afb_event_line(ev));
}

static void *APR_THREAD_FUNC afb_cache_probe_task(apr_thread_t *thd, void *data)
{
    afb_checker_t *h = data;
    afb_health_rec_t *rec = afb_health_cache_rec(h->mod);
    afb_health_cfg_t cfg;
    afb_health_transition_t tr;
    apr_pool_t *p;
    const char *reason = NULL;
    apr_time_t start = apr_time_now();
    afb_status_t st;
    int changed;
    (void)thd;
    afb_health_cfg_default(&cfg);
    apr_pool_create(&p, NULL);
    st = afb_cache_probe(p, h->server, cfg.timeout, &reason);
    afb_hlock(h);
    changed = afb_health_probe_result(rec, apr_time_now(), st == AFB_OK, apr_time_now() - start,
                                      st == AFB_OK ? NULL : reason, &cfg, &tr);
    afb_hunlock(h);
    if (changed)
        afb_cache_transition_report(h, &tr, p);
    apr_pool_destroy(p);
    return NULL;
}

static void afb_cache_tick(afb_checker_t *h, apr_time_t now)
{
    afb_health_rec_t *rec = afb_health_cache_rec(h->mod);
    afb_health_cfg_t cfg;
    int due;
    if (!rec)
        return;
    afb_health_cfg_default(&cfg);
    afb_hlock(h);
    due = afb_health_is_due(rec, now);
    if (due)
        afb_health_begin_probe(rec, now, cfg.timeout);
    afb_hunlock(h);
    if (due && afb_probe_push(h, afb_cache_probe_task, h,
                                    APR_THREAD_TASK_PRIORITY_NORMAL, NULL) != APR_SUCCESS)
        afb_log(AFB_LOG_ERR, 1208, "cannot start a probe of the shared cache");
}

afb_health_rec_t *afb_health_cache_rec(afb_module_t *mod)
{
    afb_checker_t *h = mod->health;
    if (!h || !h->table || h->cache_idx < 0 || (unsigned)h->cache_idx >= h->table->nrecs)
        return NULL;
    return &h->table->recs[h->cache_idx];
}

int afb_health_cache_down(afb_module_t *mod)
{
    afb_health_rec_t *rec = afb_health_cache_rec(mod);
    return rec && !afb_health_available(rec);
}

/* A request saw the cache fail (afb_module_t.cache_failed): counted, and the next cache
 * probe comes early. */
static void afb_health_cache_error(afb_module_t *mod, const char *what)
{
    afb_checker_t *h = mod->health;
    afb_health_rec_t *rec = afb_health_cache_rec(mod);
    afb_health_cfg_t cfg;
    (void)what;
    if (!rec)
        return;
    afb_health_cfg_default(&cfg);
    afb_hlock(h);
    afb_health_passive_failure(rec, apr_time_now(), &cfg);
    afb_hunlock(h);
}

/* ---- the checker ---- */

static const char *const *afb_known_names(afb_checker_t *h, apr_pool_t *p, int *n)
{
    afb_module_t *conf = h->mod;
    const char **names = apr_pcalloc(p, sizeof(char *) * (apr_size_t)(conf->all->nelts + 1));
    int i;
    for (i = 0; i < conf->all->nelts; i++)
        names[i] = APR_ARRAY_IDX(conf->all, i, afb_provider_t *)->conf.name;
    *n = conf->all->nelts;
    return names;
}


/* What is wrong with the override file, for the status page ("" when nothing is). */
static void afb_override_error_set(afb_checker_t *h, const char *file, const char *text)
{
    int was;
    afb_hlock(h);
    was = h->table->override_error[0] != '\0';
    apr_cpystrn(h->table->override_error, text, sizeof(h->table->override_error));
    afb_hunlock(h);
    if (was && !*text)
        afb_log(AFB_LOG_NOTICE, 1206, "AuthFallbackOverrideFile %s: every line parses again",
                file);
}

static void afb_override_error_event(afb_checker_t *h, apr_pool_t *p, const char *name,
                                     afb_override_t kept, const char *error)
{
    afb_event_t *ev = afb_event_new(p, "override.changed", apr_time_now());
    afb_event_str(ev, "provider", name);
    afb_event_str(ev, "from", name ? afb_health_override_name(kept) : NULL);
    afb_event_str(ev, "to", name ? afb_health_override_name(kept) : NULL);
    afb_event_str(ev, "error", error);
    afb_event_write(h->mod, afb_event_line(ev));
}

static afb_override_t afb_override_now(afb_checker_t *h, const char *name)
{
    afb_health_rec_t *rec;
    afb_override_t ov = AFB_OVERRIDE_AUTO;
    afb_hlock(h);
    rec = afb_health_table_find(h->table, name);
    if (rec)
        ov = (afb_override_t)rec->override;
    afb_hunlock(h);
    return ov;
}

/* Lines that name a provider but do not parse keep its override: one warning and one
 * override.changed event with `error` each. */
static void afb_override_report_kept(afb_checker_t *h, apr_pool_t *p, const char *file,
                                     const afb_override_list_t *list)
{
    int i;
    for (i = 0; i < list->entries->nelts; i++) {
        const afb_override_entry_t *e = &APR_ARRAY_IDX(list->entries, i, afb_override_entry_t);
        afb_override_t kept;
        if (!e->keep)
            continue;
        kept = afb_override_now(h, e->name);
        afb_log(AFB_LOG_WARN, 1204, "AuthFallbackOverrideFile %s: %s; provider %s keeps its "
                "override %s", file, e->error, e->name, afb_health_override_name(kept));
        afb_override_error_event(h, p, e->name, kept, e->error);
    }
}

/* Malformed lines are reported when what the file says changes, not at every read. */
static int afb_override_warn(afb_checker_t *h, apr_pool_t *p, const char *file,
                             const afb_override_list_t *list, const char **all)
{
    int w;
    *all = list->warnings && list->warnings->nelts ? apr_array_pstrcat(p, list->warnings, ';')
                                                   : "";
    if (!strncmp(*all, h->override_last_warnings, sizeof(h->override_last_warnings) - 1))
        return 0;
    apr_cpystrn(h->override_last_warnings, *all, sizeof(h->override_last_warnings));
    for (w = 0; list->warnings && w < list->warnings->nelts; w++)
        afb_log(AFB_LOG_WARN, 1002, "AuthFallbackOverrideFile %s: %s", file,
                APR_ARRAY_IDX(list->warnings, w, const char *));
    return 1;
}

/* No line of the file parses (a garbled copy, a binary file): the overrides in force stay. */
static void afb_override_unparsable(afb_checker_t *h, apr_pool_t *p, const char *file,
                                    const afb_override_list_t *list)
{
    const char *all, *first;
    if (!afb_override_warn(h, p, file, list, &all))
        return;
    first = APR_ARRAY_IDX(list->warnings, 0, const char *);
    afb_log(AFB_LOG_ERR, 1205, "AuthFallbackOverrideFile %s does not parse (%s); the "
            "overrides in force are kept", file, first);
    afb_override_error_event(h, p, NULL, AFB_OVERRIDE_AUTO,
                             apr_pstrcat(p, "does not parse: ", all, NULL));
    afb_override_error_set(h, file, apr_pstrcat(p, "does not parse, overrides in force kept: ",
                                              all, NULL));
}

static void afb_override_unusable(afb_checker_t *h, const char *file, afb_status_t st)
{
    if (st != h->override_last_error)
        afb_log(AFB_LOG_ERR, 1016, "AuthFallbackOverrideFile %s cannot be used (%s); the "
                "overrides in force are kept", file, afb_status_str(st));
    h->override_last_error = st;
    h->override_last_warnings[0] = '\0';
    afb_override_error_set(h, file, st == AFB_ETOOBIG ? "too big (over 64 KiB), overrides in "
                           "force kept" : "cannot be read, overrides in force kept");
}

/* A drill started, changed or ended (`NAME drill ...`). */
static void afb_drill_report(const afb_override_change_t *c, afb_event_t *ev)
{
    afb_log(AFB_LOG_WARN, 1463, "provider %s: drill %s -> %s", c->name,
            *c->drill_from ? c->drill_from : "none", *c->drill_to ? c->drill_to : "none");
    afb_event_str(ev, "drill", c->drill_to);
}

static void afb_override_changes(afb_checker_t *h, apr_pool_t *p, apr_array_header_t *changes,
                                 apr_time_t now)
{
    int i;
    for (i = 0; changes && i < changes->nelts; i++) {
        afb_override_change_t *c = &APR_ARRAY_IDX(changes, i, afb_override_change_t);
        afb_event_t *ev = afb_event_new(p, "override.changed", now);
        if (c->released) {
            afb_log(AFB_LOG_WARN, 1104, "provider %s: the operator released the held copy of "
                    "its store (%d users); every child loads it", c->name, c->held_users);
            afb_event_str(ev, "provider", c->name);
            afb_event_str(ev, "from", "held");
            afb_event_str(ev, "to", "release");
            afb_event_int(ev, "users", c->held_users);
            afb_event_write(h->mod, afb_event_line(ev));
            continue;
        }
        if (c->from != c->to)
            afb_log(AFB_LOG_WARN, 1003, "provider %s: operator override %s -> %s", c->name,
                    afb_health_override_name(c->from), afb_health_override_name(c->to));
        afb_event_str(ev, "provider", c->name);
        afb_event_str(ev, "from", afb_health_override_name(c->from));
        afb_event_str(ev, "to", afb_health_override_name(c->to));
        if (c->drill_changed)
            afb_drill_report(c, ev);
        afb_event_write(h->mod, afb_event_line(ev));
        if (c->effective.from != c->effective.to)
            afb_transition_report(h, c->name, &c->effective, p);
    }
}

static void afb_override_tick(afb_checker_t *h, apr_pool_t *p, apr_time_t now)
{
    afb_module_t *conf = h->mod;
    afb_override_list_t *list = NULL;
    apr_array_header_t *changes;
    const char *const *known;
    const char *all;
    afb_status_t st;
    int n;
    if (!conf->override_file || now - h->override_checked < AFB_OVERRIDE_EVERY)
        return;
    h->override_checked = now;
    known = afb_known_names(h, p, &n);
    st = afb_override_load(p, conf->override_file, known, n, &list);
    if (st == AFB_ENOENT)
        list = afb_override_list_empty(p);
    else if (st == AFB_EINVAL) {
        afb_override_unparsable(h, p, conf->override_file, list);
        return;
    } else if (st != AFB_OK) {
        afb_override_unusable(h, conf->override_file, st);
        return;
    }
    h->override_last_error = AFB_OK;
    if (afb_override_warn(h, p, conf->override_file, list, &all)) {
        afb_override_report_kept(h, p, conf->override_file, list);
        afb_override_error_set(h, conf->override_file, all);
    }
    afb_hlock(h);
    changes = afb_override_apply(p, h->table, list);
    afb_hunlock(h);
    afb_override_changes(h, p, changes, now);
}

/* depends=: a provider is DOWN while one of its dependencies is (health.transition and
 * AFB01001 with the cause as reason). */
static void afb_derive_tick(afb_checker_t *h, apr_pool_t *p)
{
    apr_array_header_t *changes;
    int i;
    if (!h->deps)
        return;
    afb_hlock(h);
    changes = afb_health_table_derive(p, h->table, h->deps);
    afb_hunlock(h);
    for (i = 0; i < changes->nelts; i++) {
        afb_health_dep_change_t *c = &APR_ARRAY_IDX(changes, i, afb_health_dep_change_t);
        afb_transition_report(h, h->table->recs[c->index].name, &c->tr, p);
    }
}

static void afb_checker_tick(afb_checker_t *h, apr_pool_t *p)
{
    afb_module_t *conf = h->mod;
    apr_time_t now = apr_time_now();
    int i;
    afb_hlock(h);
    afb_health_table_heartbeat(h->table, now);
    afb_hunlock(h);
    afb_override_tick(h, p, now);
    afb_derive_tick(h, p);
    afb_cache_tick(h, now);
    for (i = 0; i < conf->all->nelts; i++) {
        afb_provider_t *prov = APR_ARRAY_IDX(conf->all, i, afb_provider_t *);
        afb_health_rec_t *rec = afb_rec(prov);
        afb_health_cfg_t cfg;
        int due;
        if (!rec)
            continue;
        afb_health_cfg_from_provider(&cfg, &prov->conf);
        afb_hlock(h);
        due = afb_health_is_due(rec, now);
        if (due)
            afb_health_begin_probe(rec, now, cfg.timeout);
        afb_hunlock(h);
        if (due && afb_probe_push(h, afb_probe_task, prov,
                                        APR_THREAD_TASK_PRIORITY_NORMAL, NULL) != APR_SUCCESS)
            afb_log(AFB_LOG_ERR, 1004, "cannot start a probe of %s", prov->conf.name);
    }
}

/* data is the checker itself, not a server record: mod_watchdog may call STOPPING from a
 * cleanup that runs after pconf (and the configuration in it) is gone. */
static apr_status_t afb_watchdog_state(afb_checker_t *h, int state, apr_pool_t *pool)
{
    server_rec *s = h->server;
    int n = state == AP_WATCHDOG_STATE_STARTING ? h->mod->all->nelts : 0;
    if (h->stopping)
        return APR_SUCCESS;
    switch (state) {
    case AP_WATCHDOG_STATE_STARTING:
        if (apr_thread_pool_create(&h->probe_pool, 1, (apr_size_t)(n < 4 ? 4 : n * 2),
                                   s->process->pool) != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "AFB01005: cannot create probe threads");
            return APR_EGENERAL;
        }
        afb_log(AFB_LOG_INFO, 1006, "health checker started in process %ld, %d providers",
                (long)getpid(), n);
        break;
    case AP_WATCHDOG_STATE_RUNNING:
        if (h->probe_pool)
            afb_checker_tick(h, pool);
        if (h->mod->checker_also)
            h->mod->checker_also(h->mod, pool);
        break;
    case AP_WATCHDOG_STATE_STOPPING:
        afb_probes_end(h);
        break;
    }
    return APR_SUCCESS;
}

static apr_status_t afb_watchdog_cb(int state, void *data, apr_pool_t *pool)
{
    afb_checker_t *h = data;
    apr_status_t rv;
    apr_thread_mutex_lock(h->stop_lock);
    rv = afb_watchdog_state(h, state, pool);
    apr_thread_mutex_unlock(h->stop_lock);
    return rv;
}

/* afb_checker_t.stop_lock: one per process, kept across restarts. */
static apr_thread_mutex_t *afb_checker_stop_lock(void)
{
    apr_thread_mutex_t **lock = ap_retained_data_get("afb-checker-lock");
    apr_pool_t *own = NULL;
    if (lock)
        return *lock;
    lock = ap_retained_data_create("afb-checker-lock", sizeof(*lock));
    if (apr_pool_create_unmanaged_ex(&own, NULL, NULL) != APR_SUCCESS ||
        apr_thread_mutex_create(lock, APR_THREAD_MUTEX_DEFAULT, own) != APR_SUCCESS)
        *lock = NULL;
    return *lock;
}

static afb_checker_t *afb_checker_new(afb_module_t *mod, apr_pool_t *pconf,
                                            server_rec *s)
{
    afb_checker_t *h = afb_kept_block("afb-checker", sizeof(*h));
    (void)pconf;
    h->mod = mod;
    h->server = s;
    h->cache_idx = -1;
    h->override_last_error = AFB_OK;
    h->stop_lock = afb_checker_stop_lock();
    mod->health = h;
    mod->cache_failed = afb_health_cache_error;
    return h;
}

int afb_health_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s)
{
    afb_module_t *conf = afb_module(s);
    afb_checker_t *h = afb_checker_new(conf, pconf, s);
    APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) *wd_get;
    APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) *wd_register;
    ap_watchdog_t *wd;
    apr_status_t rv;
    rv = afb_table_place(h, s, conf->all, ptemp);
    afb_deps_resolve(h, pconf, conf->all);
    if (rv == APR_SUCCESS)
        rv = ap_global_mutex_create(&h->mutex, &h->mutex_file, AFB_HEALTH_MUTEX, NULL, s,
                                    pconf, 0);
    if (rv == APR_SUCCESS && !h->stop_lock)
        rv = APR_ENOMEM;
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s,
                     "AFB01007: cannot set up the shared health table");
        return !OK;
    }
    wd_get = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
    wd_register = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
    if (!wd_get || !wd_register || wd_get(&wd, AFB_WATCHDOG_NAME, 0, 1, pconf) != APR_SUCCESS ||
        wd_register(wd, AFB_CHECKER_TICK, h, afb_watchdog_cb) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     "AFB01008: mod_watchdog is needed for health checks");
        return !OK;
    }
    return OK;
}


void afb_health_child_init(apr_pool_t *pchild, server_rec *s)
{
    afb_checker_t *h = afb_module(s)->health;
    if (h)
        apr_pool_pre_cleanup_register(pchild, h, afb_checker_stop);
    if (h && h->mutex &&
        apr_global_mutex_child_init(&h->mutex, h->mutex_file, pchild) != APR_SUCCESS)
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                     "AFB01009: cannot re-attach the health mutex in this child");
}

/* ---- what requests ask ---- */

static void afb_checker_watch(afb_checker_t *h)
{
    apr_time_t now = apr_time_now();
    if (!h->table || now - h->table_placed < AFB_CHECKER_STALE ||
        !afb_health_table_checker_stale(h->table, now, AFB_CHECKER_STALE))
        return;
    if (now - h->stale_warned < AFB_CHECKER_STALE_WARN_EVERY)
        return;
    h->stale_warned = now;
    afb_log(AFB_LOG_ERR, 1010, "the health checker has not run for more than %d s: provider "
            "health is stale", (int)apr_time_sec(AFB_CHECKER_STALE));
}

int afb_health_drilled(const afb_provider_t *prov, const char *client_ip, uint32_t draw)
{
    afb_health_rec_t *rec = prov ? afb_rec(prov) : NULL;
    afb_drill_t d;
    if (!rec)
        return 0;
    afb_hlock(prov->mod->health);
    d = rec->drill;
    afb_hunlock(prov->mod->health);
    return afb_drill_applies(&d, client_ip, draw);
}

int afb_health_is_down(const afb_provider_t *prov)
{
    afb_health_rec_t *rec = afb_rec(prov);
    if (prov->mod->health)
        afb_checker_watch(prov->mod->health);
    /* A provider that cannot serve in this child (a store without a usable copy) is down
     * here at once, whatever the probe has said so far, and up again as soon as it can. */
    if (prov->ops->ready && !prov->ops->ready(prov))
        return 1;
    return rec && !afb_health_available(rec);
}

void afb_health_passive(const afb_provider_t *prov, const char *reason)
{
    afb_checker_t *h = prov->mod->health;
    afb_health_rec_t *rec = afb_rec(prov);
    afb_health_cfg_t cfg;
    if (!rec)
        return;
    afb_health_cfg_from_provider(&cfg, &prov->conf);
    afb_hlock(h);
    afb_health_passive_failure(rec, apr_time_now(), &cfg);
    afb_hunlock(h);
    afb_log(AFB_LOG_INFO, 1011, "provider %s: failure seen while serving a request (%s); "
            "probing now", prov->conf.name, reason ? reason : "unknown");
}

apr_time_t afb_health_last_pass(const afb_provider_t *prov)
{
    afb_health_rec_t *rec = afb_rec(prov);
    apr_time_t t = 0;
    if (!rec)
        return 0;
    afb_hlock(prov->mod->health);
    if (rec->passes > 0)
        t = rec->last_probe;
    afb_hunlock(prov->mod->health);
    return t;
}

int afb_health_store_hold(const afb_provider_t *prov, uint64_t sig, int held_users,
                          int kept_users)
{
    afb_health_rec_t *rec = afb_rec(prov);
    int first;
    if (!rec)
        return 1;
    afb_hlock(prov->mod->health);
    first = !rec->store_held || rec->store_held_sig != sig;
    rec->store_held = 1;
    rec->store_held_sig = sig;
    rec->store_held_users = held_users;
    rec->store_kept_users = kept_users;
    afb_hunlock(prov->mod->health);
    return first;
}

int afb_health_store_decided(const afb_provider_t *prov, uint64_t sig)
{
    afb_health_rec_t *rec = afb_rec(prov);
    int d = 0;
    if (!rec || !sig)
        return 0;
    afb_hlock(prov->mod->health);
    if (rec->store_released_sig == sig)
        d = 1;
    else if (rec->store_held && rec->store_held_sig == sig)
        d = -1;
    afb_hunlock(prov->mod->health);
    return d;
}

void afb_health_store_take(const afb_provider_t *prov, uint64_t sig)
{
    afb_health_rec_t *rec = afb_rec(prov);
    if (!rec)
        return;
    afb_hlock(prov->mod->health);
    rec->store_released_sig = sig;
    afb_hunlock(prov->mod->health);
}

uint64_t afb_health_store_taken(const afb_provider_t *prov)
{
    afb_health_rec_t *rec = afb_rec(prov);
    uint64_t sig;
    if (!rec)
        return 0;
    afb_hlock(prov->mod->health);
    sig = rec->store_released_sig;
    afb_hunlock(prov->mod->health);
    return sig;
}

int afb_health_store_released(const afb_provider_t *prov, uint64_t sig)
{
    afb_health_rec_t *rec = afb_rec(prov);
    int released;
    if (!rec || !sig)
        return 0;
    afb_hlock(prov->mod->health);
    released = rec->store_released_sig == sig;
    afb_hunlock(prov->mod->health);
    return released;
}

void afb_health_store_accepted(const afb_provider_t *prov, uint64_t sig)
{
    afb_health_rec_t *rec = afb_rec(prov);
    if (!rec)
        return;
    afb_hlock(prov->mod->health);
    if (!rec->store_held || (sig && rec->store_held_sig != sig)) {
        afb_hunlock(prov->mod->health);
        return;
    }
    rec->store_held = 0;
    rec->store_held_users = 0;
    rec->store_kept_users = 0;
    afb_hunlock(prov->mod->health);
}

void afb_health_store_seen(const afb_provider_t *prov, int records, int skipped)
{
    afb_health_rec_t *rec = afb_rec(prov);
    if (!rec)
        return;
    afb_hlock(prov->mod->health);
    rec->store_records = records;
    rec->store_skipped = skipped;
    afb_hunlock(prov->mod->health);
}

void afb_health_counter(const afb_provider_t *prov, int which)
{
    afb_health_rec_t *rec = prov ? afb_rec(prov) : NULL;
    afb_checker_t *h = rec ? prov->mod->health : NULL;
    if (!rec)
        return;
    afb_hlock(h);
    afb_health_count(rec, (afb_health_counter_t)which);
    afb_hunlock(h);
}

afb_health_table_t *afb_health_table(afb_module_t *mod)
{
    return mod->health ? mod->health->table : NULL;
}
