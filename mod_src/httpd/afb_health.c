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

#include "afb_httpd.h"
#include "afb_endpoints.h"
#include "authfb/event.h"
#include "authfb/file.h"
#include "authfb/health.h"
#include "authfb/log.h"
#include "authfb/override.h"
#include "authfb/pwstore.h"
#include "authfb/route.h"
#include "authfb/totp.h"

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

static afb_health_table_t *afb_table;
static apr_global_mutex_t *afb_hmutex;
static const char *afb_hmutex_file;
static apr_thread_pool_t *afb_probe_pool;
static apr_time_t afb_override_checked;
static server_rec *afb_health_server;
static apr_time_t afb_table_placed;

static afb_health_deps_t *afb_deps;
static int afb_cache_idx = -1;

static APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) *afb_wd_get_instance;
static APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) *afb_wd_register_callback;

int afb_health_pre_config(apr_pool_t *pconf)
{
    return ap_mutex_register(pconf, AFB_HEALTH_MUTEX, NULL, APR_LOCK_DEFAULT, 0);
}

static afb_health_rec_t *afb_rec(const afb_provider_t *prov)
{
    if (!afb_table || prov->health_idx < 0 || (unsigned)prov->health_idx >= afb_table->nrecs)
        return NULL;
    return &afb_table->recs[prov->health_idx];
}

void afb_health_lock(void)
{
    if (afb_hmutex)
        apr_global_mutex_lock(afb_hmutex);
}

void afb_health_unlock(void)
{
    if (afb_hmutex)
        apr_global_mutex_unlock(afb_hmutex);
}

#define afb_hlock afb_health_lock
#define afb_hunlock afb_health_unlock

/* ---- the table in shared memory ---- */

/* The dependencies of every record as indices (depends=, checked by configtest); the
 * cache record, last, has none. */
static void afb_deps_resolve(apr_pool_t *pconf, apr_array_header_t *all)
{
    int i, k;
    afb_deps = apr_pcalloc(pconf, sizeof(afb_health_deps_t) * (apr_size_t)(all->nelts + 1));
    for (i = 0; i < all->nelts; i++) {
        afb_provider_t *prov = APR_ARRAY_IDX(all, i, afb_provider_t *);
        apr_array_header_t *d = prov->conf.depends;
        for (k = 0; d && k < d->nelts && k < AFB_HEALTH_MAX_DEPS; k++) {
            afb_provider_t *dep = afb_provider_find(afb_health_server,
                                                    APR_ARRAY_IDX(d, k, const char *));
            afb_deps[i].idx[afb_deps[i].n++] = dep ? dep->health_idx : -1;
        }
    }
}

static apr_status_t afb_table_place(server_rec *s, apr_array_header_t *all, apr_pool_t *ptemp)
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
    afb_cache_idx = all->nelts;
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
    afb_table = fresh;
    afb_table_placed = apr_time_now();
    return APR_SUCCESS;
}

/* ---- probes ---- */

/* What the probe saw of a store, for the status page (afb_probe_task stores it). */
typedef struct {
    int records;
    int skipped;
} afb_store_seen_t;

static void afb_store_seen(afb_provider_t *prov, afb_pwstore_t *ps, afb_totp_store_t *ts,
                           afb_store_seen_t *seen)
{
    const afb_skips_t *sk = prov->conf.type == AFB_PROV_PASSWORD ? afb_pwstore_skips(ps)
                                                                 : afb_totp_store_skips(ts);
    seen->records = prov->conf.type == AFB_PROV_PASSWORD ? afb_pwstore_count(ps)
                                                         : afb_totp_store_count(ts);
    seen->skipped = sk ? sk->count : 0;
}

static afb_status_t afb_probe_file(afb_provider_t *prov, apr_pool_t *p, const char **reason,
                                   afb_store_seen_t *seen)
{
    char *text = NULL;
    const char *err = NULL, *why = NULL;
    apr_size_t len = 0;
    apr_finfo_t fi;
    int weak = 0;
    afb_pwstore_t *ps = NULL;
    afb_totp_store_t *ts = NULL;
    afb_status_t st = afb_file_read(p, prov->conf.arg, AFB_STORE_MAX_BYTES, &text, &len, &fi,
                                    reason);
    if (st == AFB_ETOOBIG)
        *reason = "file too large";
    else if (st != AFB_OK)
        *reason = apr_psprintf(p, "cannot read %s: %s", prov->conf.arg, *reason);
    if (st != AFB_OK)
        return st == AFB_ETOOBIG ? st : AFB_EIO;
    st = prov->conf.type == AFB_PROV_PASSWORD ? afb_pwstore_parse(p, text, len, &ps, &weak, &err)
                                              : afb_totp_store_parse(p, text, len, &ts, &err);
    memset((char *)text, 0, len);
    if (st != AFB_OK) {
        *reason = apr_pstrcat(p, "does not parse: ", err ? err : "invalid", NULL);
        return AFB_EINVAL;
    }
    if (prov->conf.type == AFB_PROV_PASSWORD && afb_pwstore_count_nt(ps) > 0 &&
        !afb_nthash_available(&why)) {
        *reason = apr_pstrcat(p, "MD4 unavailable for NT-derived hashes: ",
                              why, NULL);
        return AFB_EIO;
    }
    afb_store_seen(prov, ps, ts, seen);
    if (prov->conf.type == AFB_PROV_PASSWORD && prov->conf.max_age > 0 &&
        apr_time_now() - fi.mtime > prov->conf.max_age) {
        *reason = apr_psprintf(p, "stale: last written %" APR_TIME_T_FMT " s ago (max_age %"
                               APR_TIME_T_FMT ")", apr_time_sec(apr_time_now() - fi.mtime),
                               apr_time_sec(prov->conf.max_age));
        return AFB_EEXPIRED;
    }
    return AFB_OK;
}

static afb_status_t afb_probe(afb_provider_t *prov, apr_pool_t *p, const char **reason,
                              afb_store_seen_t *seen)
{
    switch (prov->conf.type) {
    case AFB_PROV_PASSWORD:
    case AFB_PROV_TOTP:
        return afb_probe_file(prov, p, reason, seen);
    case AFB_PROV_OIDC:
        return afb_oidc_health_probe(prov, p, reason);
    default:
        return afb_mfa_health_probe(prov, p, reason);
    }
}

static void afb_transition_report(const char *name, const afb_health_transition_t *tr,
                                  apr_pool_t *p)
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
    afb_event_write(afb_event_line(ev));
}

static void *APR_THREAD_FUNC afb_probe_task(apr_thread_t *thd, void *data)
{
    afb_provider_t *prov = data;
    afb_health_rec_t *rec = afb_rec(prov);
    afb_health_cfg_t cfg;
    afb_health_transition_t tr;
    apr_pool_t *p;
    const char *reason = NULL;
    apr_time_t start = apr_time_now();
    afb_store_seen_t seen = {0, 0};
    afb_status_t st;
    int changed;
    (void)thd;
    if (!rec)
        return NULL;
    apr_pool_create(&p, NULL);
    st = afb_probe(prov, p, &reason, &seen);
    afb_health_cfg_from_provider(&cfg, &prov->conf);
    afb_hlock();
    if (prov->store) {
        rec->store_records = seen.records;
        rec->store_skipped = seen.skipped;
    }
    changed = afb_health_probe_result(rec, apr_time_now(), st == AFB_OK,
                                      apr_time_now() - start,
                                      st == AFB_OK ? NULL : (reason ? reason : afb_status_str(st)),
                                      &cfg, &tr);
    afb_hunlock();
    if (changed)
        afb_transition_report(prov->conf.name, &tr, p);
    apr_pool_destroy(p);
    return NULL;
}

/* ---- the shared cache: a dependency with a record of its own ---- */

static void afb_cache_transition_report(const afb_health_transition_t *tr, apr_pool_t *p)
{
    afb_event_t *ev;
    afb_log(tr->to == AFB_HEALTH_DOWN ? AFB_LOG_ERR : AFB_LOG_NOTICE, 1207,
            "shared cache %s %s -> %s (%s)%s", afb_main_conf()->cache_spec,
            afb_health_state_name(tr->from), afb_health_state_name(tr->to), tr->reason,
            tr->to == AFB_HEALTH_DOWN ? ": one-time codes are refused, throttling lets "
            "attempts through" : "");
    ev = afb_event_new(p, "health.transition", apr_time_now());
    afb_event_str(ev, "provider", AFB_CACHE_REC_NAME);
    afb_event_str(ev, "from", afb_health_state_name(tr->from));
    afb_event_str(ev, "to", afb_health_state_name(tr->to));
    afb_event_str(ev, "reason", tr->reason);
    afb_event_str(ev, "cache", afb_main_conf()->cache_spec);
    afb_event_write(afb_event_line(ev));
}

static void *APR_THREAD_FUNC afb_cache_probe_task(apr_thread_t *thd, void *data)
{
    afb_health_rec_t *rec = data;
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
    st = afb_cache_probe(p, afb_health_server, cfg.timeout, &reason);
    afb_hlock();
    changed = afb_health_probe_result(rec, apr_time_now(), st == AFB_OK, apr_time_now() - start,
                                      st == AFB_OK ? NULL : reason, &cfg, &tr);
    afb_hunlock();
    if (changed)
        afb_cache_transition_report(&tr, p);
    apr_pool_destroy(p);
    return NULL;
}

static void afb_cache_tick(apr_time_t now)
{
    afb_health_rec_t *rec = afb_health_cache_rec();
    afb_health_cfg_t cfg;
    int due;
    if (!rec)
        return;
    afb_health_cfg_default(&cfg);
    afb_hlock();
    due = afb_health_is_due(rec, now);
    if (due)
        afb_health_begin_probe(rec, now, cfg.timeout);
    afb_hunlock();
    if (due && apr_thread_pool_push(afb_probe_pool, afb_cache_probe_task, rec,
                                    APR_THREAD_TASK_PRIORITY_NORMAL, NULL) != APR_SUCCESS)
        afb_log(AFB_LOG_ERR, 1208, "cannot start a probe of the shared cache");
}

afb_health_rec_t *afb_health_cache_rec(void)
{
    if (!afb_table || afb_cache_idx < 0 || (unsigned)afb_cache_idx >= afb_table->nrecs)
        return NULL;
    return &afb_table->recs[afb_cache_idx];
}

int afb_health_cache_down(void)
{
    afb_health_rec_t *rec = afb_health_cache_rec();
    return rec && !afb_health_available(rec);
}

void afb_health_cache_error(const char *what)
{
    afb_health_rec_t *rec = afb_health_cache_rec();
    afb_health_cfg_t cfg;
    (void)what;
    if (!rec)
        return;
    afb_health_cfg_default(&cfg);
    afb_hlock();
    afb_health_passive_failure(rec, apr_time_now(), &cfg);
    afb_hunlock();
}

const afb_health_deps_t *afb_health_deps(void)
{
    return afb_deps;
}

/* ---- the checker ---- */

static const char *const *afb_known_names(apr_pool_t *p, int *n)
{
    afb_server_conf_t *conf = afb_main_conf();
    const char **names = apr_pcalloc(p, sizeof(char *) * (apr_size_t)(conf->all->nelts + 1));
    int i;
    for (i = 0; i < conf->all->nelts; i++)
        names[i] = APR_ARRAY_IDX(conf->all, i, afb_provider_t *)->conf.name;
    *n = conf->all->nelts;
    return names;
}

static afb_status_t afb_override_last_error = AFB_OK;
static char afb_override_last_warnings[AFB_OVERRIDE_WARNINGS_MAX];

/* What is wrong with the override file, for the status page ("" when nothing is). */
static void afb_override_error_set(const char *file, const char *text)
{
    int was;
    afb_hlock();
    was = afb_table->override_error[0] != '\0';
    apr_cpystrn(afb_table->override_error, text, sizeof(afb_table->override_error));
    afb_hunlock();
    if (was && !*text)
        afb_log(AFB_LOG_NOTICE, 1206, "AuthFallbackOverrideFile %s: every line parses again",
                file);
}

static void afb_override_error_event(apr_pool_t *p, const char *name, afb_override_t kept,
                                     const char *error)
{
    afb_event_t *ev = afb_event_new(p, "override.changed", apr_time_now());
    afb_event_str(ev, "provider", name);
    afb_event_str(ev, "from", name ? afb_health_override_name(kept) : NULL);
    afb_event_str(ev, "to", name ? afb_health_override_name(kept) : NULL);
    afb_event_str(ev, "error", error);
    afb_event_write(afb_event_line(ev));
}

static afb_override_t afb_override_now(const char *name)
{
    afb_health_rec_t *rec;
    afb_override_t ov = AFB_OVERRIDE_AUTO;
    afb_hlock();
    rec = afb_health_table_find(afb_table, name);
    if (rec)
        ov = (afb_override_t)rec->override;
    afb_hunlock();
    return ov;
}

/* Lines that name a provider but do not parse keep its override: one warning and one
 * override.changed event with `error` each. */
static void afb_override_report_kept(apr_pool_t *p, const char *file,
                                     const afb_override_list_t *list)
{
    int i;
    for (i = 0; i < list->entries->nelts; i++) {
        const afb_override_entry_t *e = &APR_ARRAY_IDX(list->entries, i, afb_override_entry_t);
        afb_override_t kept;
        if (!e->keep)
            continue;
        kept = afb_override_now(e->name);
        afb_log(AFB_LOG_WARN, 1204, "AuthFallbackOverrideFile %s: %s; provider %s keeps its "
                "override %s", file, e->error, e->name, afb_health_override_name(kept));
        afb_override_error_event(p, e->name, kept, e->error);
    }
}

/* Malformed lines are reported when what the file says changes, not at every read. */
static int afb_override_warn(apr_pool_t *p, const char *file, const afb_override_list_t *list,
                             const char **all)
{
    int w;
    *all = list->warnings && list->warnings->nelts ? apr_array_pstrcat(p, list->warnings, ';')
                                                   : "";
    if (!strncmp(*all, afb_override_last_warnings, sizeof(afb_override_last_warnings) - 1))
        return 0;
    apr_cpystrn(afb_override_last_warnings, *all, sizeof(afb_override_last_warnings));
    for (w = 0; list->warnings && w < list->warnings->nelts; w++)
        afb_log(AFB_LOG_WARN, 1002, "AuthFallbackOverrideFile %s: %s", file,
                APR_ARRAY_IDX(list->warnings, w, const char *));
    return 1;
}

/* No line of the file parses (a garbled copy, a binary file): the overrides in force stay. */
static void afb_override_unparsable(apr_pool_t *p, const char *file,
                                    const afb_override_list_t *list)
{
    const char *all, *first;
    if (!afb_override_warn(p, file, list, &all))
        return;
    first = APR_ARRAY_IDX(list->warnings, 0, const char *);
    afb_log(AFB_LOG_ERR, 1205, "AuthFallbackOverrideFile %s does not parse (%s); the "
            "overrides in force are kept", file, first);
    afb_override_error_event(p, NULL, AFB_OVERRIDE_AUTO,
                             apr_pstrcat(p, "does not parse: ", all, NULL));
    afb_override_error_set(file, apr_pstrcat(p, "does not parse, overrides in force kept: ",
                                              all, NULL));
}

static void afb_override_unusable(const char *file, afb_status_t st)
{
    if (st != afb_override_last_error)
        afb_log(AFB_LOG_ERR, 1016, "AuthFallbackOverrideFile %s cannot be used (%s); the "
                "overrides in force are kept", file, afb_status_str(st));
    afb_override_last_error = st;
    afb_override_last_warnings[0] = '\0';
    afb_override_error_set(file, st == AFB_ETOOBIG ? "too big (over 64 KiB), overrides in "
                           "force kept" : "cannot be read, overrides in force kept");
}

static void afb_override_changes(apr_pool_t *p, apr_array_header_t *changes, apr_time_t now)
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
            afb_event_write(afb_event_line(ev));
            continue;
        }
        afb_log(AFB_LOG_WARN, 1003, "provider %s: operator override %s -> %s", c->name,
                afb_health_override_name(c->from), afb_health_override_name(c->to));
        afb_event_str(ev, "provider", c->name);
        afb_event_str(ev, "from", afb_health_override_name(c->from));
        afb_event_str(ev, "to", afb_health_override_name(c->to));
        afb_event_write(afb_event_line(ev));
        if (c->effective.from != c->effective.to)
            afb_transition_report(c->name, &c->effective, p);
    }
}

static void afb_override_tick(apr_pool_t *p, apr_time_t now)
{
    afb_server_conf_t *conf = afb_main_conf();
    afb_override_list_t *list = NULL;
    apr_array_header_t *changes;
    const char *const *known;
    const char *all;
    afb_status_t st;
    int n;
    if (!conf->override_file || now - afb_override_checked < AFB_OVERRIDE_EVERY)
        return;
    afb_override_checked = now;
    known = afb_known_names(p, &n);
    st = afb_override_load(p, conf->override_file, known, n, &list);
    if (st == AFB_ENOENT)
        list = afb_override_list_empty(p);
    else if (st == AFB_EINVAL) {
        afb_override_unparsable(p, conf->override_file, list);
        return;
    } else if (st != AFB_OK) {
        afb_override_unusable(conf->override_file, st);
        return;
    }
    afb_override_last_error = AFB_OK;
    if (afb_override_warn(p, conf->override_file, list, &all)) {
        afb_override_report_kept(p, conf->override_file, list);
        afb_override_error_set(conf->override_file, all);
    }
    afb_hlock();
    changes = afb_override_apply(p, afb_table, list);
    afb_hunlock();
    afb_override_changes(p, changes, now);
}

/* depends=: a provider is DOWN while one of its dependencies is (health.transition and
 * AFB01001 with the cause as reason). */
static void afb_derive_tick(apr_pool_t *p)
{
    apr_array_header_t *changes;
    int i;
    if (!afb_deps)
        return;
    afb_hlock();
    changes = afb_health_table_derive(p, afb_table, afb_deps);
    afb_hunlock();
    for (i = 0; i < changes->nelts; i++) {
        afb_health_dep_change_t *c = &APR_ARRAY_IDX(changes, i, afb_health_dep_change_t);
        afb_transition_report(afb_table->recs[c->index].name, &c->tr, p);
    }
}

static void afb_checker_tick(apr_pool_t *p)
{
    afb_server_conf_t *conf = afb_main_conf();
    apr_time_t now = apr_time_now();
    int i;
    afb_hlock();
    afb_health_table_heartbeat(afb_table, now);
    afb_hunlock();
    afb_override_tick(p, now);
    afb_derive_tick(p);
    afb_cache_tick(now);
    for (i = 0; i < conf->all->nelts; i++) {
        afb_provider_t *prov = APR_ARRAY_IDX(conf->all, i, afb_provider_t *);
        afb_health_rec_t *rec = afb_rec(prov);
        afb_health_cfg_t cfg;
        int due;
        if (!rec)
            continue;
        afb_health_cfg_from_provider(&cfg, &prov->conf);
        afb_hlock();
        due = afb_health_is_due(rec, now);
        if (due)
            afb_health_begin_probe(rec, now, cfg.timeout);
        afb_hunlock();
        if (due && apr_thread_pool_push(afb_probe_pool, afb_probe_task, prov,
                                        APR_THREAD_TASK_PRIORITY_NORMAL, NULL) != APR_SUCCESS)
            afb_log(AFB_LOG_ERR, 1004, "cannot start a probe of %s", prov->conf.name);
    }
}

static apr_status_t afb_watchdog_cb(int state, void *data, apr_pool_t *pool)
{
    server_rec *s = data;
    int n = afb_main_conf()->all->nelts;
    switch (state) {
    case AP_WATCHDOG_STATE_STARTING:
        if (apr_thread_pool_create(&afb_probe_pool, 1, (apr_size_t)(n < 4 ? 4 : n * 2),
                                   s->process->pool) != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "AFB01005: cannot create probe threads");
            return APR_EGENERAL;
        }
        afb_log(AFB_LOG_INFO, 1006, "health checker started in process %ld, %d providers",
                (long)getpid(), n);
        break;
    case AP_WATCHDOG_STATE_RUNNING:
        if (afb_probe_pool)
            afb_checker_tick(pool);
        break;
    case AP_WATCHDOG_STATE_STOPPING:
        if (afb_probe_pool)
            apr_thread_pool_destroy(afb_probe_pool);
        afb_probe_pool = NULL;
        break;
    }
    return APR_SUCCESS;
}

int afb_health_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s)
{
    afb_server_conf_t *conf = afb_main_conf();
    ap_watchdog_t *wd;
    apr_status_t rv;
    afb_health_server = s;
    rv = afb_table_place(s, conf->all, ptemp);
    afb_deps_resolve(pconf, conf->all);
    if (rv == APR_SUCCESS)
        rv = ap_global_mutex_create(&afb_hmutex, &afb_hmutex_file, AFB_HEALTH_MUTEX, NULL, s,
                                    pconf, 0);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s,
                     "AFB01007: cannot set up the shared health table");
        return !OK;
    }
    afb_wd_get_instance = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
    afb_wd_register_callback = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
    if (!afb_wd_get_instance || !afb_wd_register_callback ||
        afb_wd_get_instance(&wd, AFB_WATCHDOG_NAME, 0, 1, pconf) != APR_SUCCESS ||
        afb_wd_register_callback(wd, AFB_CHECKER_TICK, s, afb_watchdog_cb) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     "AFB01008: mod_watchdog is needed for health checks");
        return !OK;
    }
    return OK;
}

void afb_health_child_init(apr_pool_t *pchild, server_rec *s)
{
    if (afb_hmutex &&
        apr_global_mutex_child_init(&afb_hmutex, afb_hmutex_file, pchild) != APR_SUCCESS)
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                     "AFB01009: cannot re-attach the health mutex in this child");
}

/* ---- what requests ask ---- */

static void afb_checker_watch(void)
{
    static apr_time_t warned;
    apr_time_t now = apr_time_now();
    if (!afb_table || now - afb_table_placed < AFB_CHECKER_STALE ||
        !afb_health_table_checker_stale(afb_table, now, AFB_CHECKER_STALE))
        return;
    if (now - warned < AFB_CHECKER_STALE_WARN_EVERY)
        return;
    warned = now;
    afb_log(AFB_LOG_ERR, 1010, "the health checker has not run for more than %d s: provider "
            "health is stale", (int)apr_time_sec(AFB_CHECKER_STALE));
}

int afb_health_is_down(const afb_provider_t *prov)
{
    afb_health_rec_t *rec = afb_rec(prov);
    afb_checker_watch();
    /* A store without a usable copy in this child is down here at once, whatever the probe
     * has said so far (and up again as soon as this child loads a good copy). */
    if (prov->store && !afb_filestore_usable(prov->store))
        return 1;
    return rec && !afb_health_available(rec);
}

void afb_health_passive(const afb_provider_t *prov, const char *reason)
{
    afb_health_rec_t *rec = afb_rec(prov);
    afb_health_cfg_t cfg;
    if (!rec)
        return;
    afb_health_cfg_from_provider(&cfg, &prov->conf);
    afb_hlock();
    afb_health_passive_failure(rec, apr_time_now(), &cfg);
    afb_hunlock();
    afb_log(AFB_LOG_INFO, 1011, "provider %s: failure seen while serving a request (%s); "
            "probing now", prov->conf.name, reason ? reason : "unknown");
}

apr_time_t afb_health_last_pass(const afb_provider_t *prov)
{
    afb_health_rec_t *rec = afb_rec(prov);
    apr_time_t t = 0;
    if (!rec)
        return 0;
    afb_hlock();
    if (rec->passes > 0)
        t = rec->last_probe;
    afb_hunlock();
    return t;
}

int afb_health_store_hold(const afb_provider_t *prov, uint64_t sig, int held_users,
                          int kept_users)
{
    afb_health_rec_t *rec = afb_rec(prov);
    int first;
    if (!rec)
        return 1;
    afb_hlock();
    first = !rec->store_held || rec->store_held_sig != sig;
    rec->store_held = 1;
    rec->store_held_sig = sig;
    rec->store_held_users = held_users;
    rec->store_kept_users = kept_users;
    afb_hunlock();
    return first;
}

int afb_health_store_decided(const afb_provider_t *prov, uint64_t sig)
{
    afb_health_rec_t *rec = afb_rec(prov);
    int d = 0;
    if (!rec || !sig)
        return 0;
    afb_hlock();
    if (rec->store_released_sig == sig)
        d = 1;
    else if (rec->store_held && rec->store_held_sig == sig)
        d = -1;
    afb_hunlock();
    return d;
}

void afb_health_store_take(const afb_provider_t *prov, uint64_t sig)
{
    afb_health_rec_t *rec = afb_rec(prov);
    if (!rec || !sig)
        return;
    afb_hlock();
    rec->store_released_sig = sig;
    afb_hunlock();
}

int afb_health_store_released(const afb_provider_t *prov, uint64_t sig)
{
    afb_health_rec_t *rec = afb_rec(prov);
    int released;
    if (!rec || !sig)
        return 0;
    afb_hlock();
    released = rec->store_released_sig == sig;
    afb_hunlock();
    return released;
}

void afb_health_store_accepted(const afb_provider_t *prov, uint64_t sig)
{
    afb_health_rec_t *rec = afb_rec(prov);
    if (!rec)
        return;
    afb_hlock();
    if (!rec->store_held || (sig && rec->store_held_sig != sig)) {
        afb_hunlock();
        return;
    }
    rec->store_held = 0;
    rec->store_held_users = 0;
    rec->store_kept_users = 0;
    afb_hunlock();
}

void afb_health_counter(const afb_provider_t *prov, int which)
{
    afb_health_rec_t *rec = prov ? afb_rec(prov) : NULL;
    if (!rec)
        return;
    afb_hlock();
    afb_health_count(rec, (afb_health_counter_t)which);
    afb_hunlock();
}

afb_health_table_t *afb_health_table(void)
{
    return afb_table;
}
