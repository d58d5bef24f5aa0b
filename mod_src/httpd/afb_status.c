/* The `auth-fallback-status` handler: the health of every provider and the sign-in counters,
 * as HTML for people, ?format=json, and ?format=prometheus (text exposition format, metric
 * prefix auth_fallback_). Everything comes from the shared health table, so every child
 * answers with the same totals, and they survive graceful restarts. */
#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>
#include <jansson.h>

#include "afb_status.h"
#include "afb_cache.h"
#include "afb_health.h"
#include "afb_provider.h"
#include "afb_readiness.h"
#include "authfb/event.h"
#include "authfb/health.h"
#include "authfb/util.h"

APLOG_USE_MODULE(auth_fallback);

#define AFB_STATUS_HANDLER "auth-fallback-status"

typedef struct {
    const afb_provider_t *prov;
    afb_health_rec_t rec;     /* a copy, taken under the lock */
} afb_row_t;

typedef struct {
    apr_array_header_t *rows; /* afb_row_t */
    afb_health_rec_t cache;   /* the shared cache's record, a copy */
    int has_cache;
    const char *cache_spec;
    afb_module_t *mod;
    char override_error[AFB_HEALTH_ERROR_MAX];
    apr_time_t heartbeat;
    uint64_t generation;
    apr_time_t now;
} afb_snapshot_t;

static afb_snapshot_t *afb_snapshot(request_rec *r)
{
    afb_module_t *conf = afb_module(r->server);
    afb_health_table_t *t = afb_health_table(conf);
    afb_snapshot_t *snap = apr_pcalloc(r->pool, sizeof(*snap));
    int i;
    snap->rows = apr_array_make(r->pool, conf->all->nelts, sizeof(afb_row_t));
    snap->now = apr_time_now();
    snap->cache_spec = conf->cache_spec;
    snap->mod = conf;
    afb_health_lock(conf);
    for (i = 0; i < conf->all->nelts; i++) {
        afb_provider_t *prov = APR_ARRAY_IDX(conf->all, i, afb_provider_t *);
        afb_row_t *row = apr_array_push(snap->rows);
        row->prov = prov;
        if (t && prov->health_idx >= 0 && (unsigned)prov->health_idx < t->nrecs)
            row->rec = t->recs[prov->health_idx];
        else
            memset(&row->rec, 0, sizeof(row->rec));
    }
    if (t) {
        snap->heartbeat = t->heartbeat;
        snap->generation = t->generation;
        memcpy(snap->override_error, t->override_error, sizeof(snap->override_error));
    }
    if (afb_health_cache_rec(conf)) {
        snap->cache = *afb_health_cache_rec(conf);
        snap->has_cache = 1;
    }
    afb_health_unlock(conf);
    return snap;
}

static double afb_secs(apr_interval_time_t t)
{
    return (double)t / (double)APR_USEC_PER_SEC;
}

static const char *afb_when(apr_pool_t *p, apr_time_t t)
{
    return t ? afb_rfc3339(p, t) : NULL;
}

/* "DOWN: depends on adfs, which is DOWN" while a dependency holds the provider down (the
 * derived state), else NULL. */
static const char *afb_row_cause(apr_pool_t *p, const afb_health_rec_t *h)
{
    if (!h->dep_down || h->override != AFB_OVERRIDE_AUTO || !h->dep_cause[0])
        return NULL;
    return apr_pstrcat(p, "DOWN: ", h->dep_cause, NULL);
}

#define AFB_CACHE_DOWN_NOTE "While the shared cache is down, one-time codes (TOTP and remote " \
    "MFA) are refused and throttling lets attempts through (logged)."

/* ---- JSON ---- */

static json_t *afb_depends_json(const afb_provider_t *prov)
{
    json_t *arr = json_array();
    int i;
    for (i = 0; prov->conf.depends && i < prov->conf.depends->nelts; i++)
        json_array_append_new(arr, json_string(APR_ARRAY_IDX(prov->conf.depends, i,
                                                             const char *)));
    return arr;
}

/* The shared table of throttle and single-use records (docs/operations.md, cache sizing). */
static void afb_cache_table_json(json_t *o, afb_module_t *mod)
{
    afb_cache_stats_t cs;
    afb_cache_stats(mod, &cs);
    json_object_set_new(o, "capacity", json_integer((json_int_t)cs.capacity));
    json_object_set_new(o, "entries", json_integer((json_int_t)cs.live));
    json_object_set_new(o, "refused", json_integer((json_int_t)cs.refused));
}

static json_t *afb_cache_json(apr_pool_t *p, const afb_snapshot_t *snap)
{
    const afb_health_rec_t *h = &snap->cache;
    int down = afb_health_effective_state(h) == AFB_HEALTH_DOWN;
    json_t *o = json_object();
    json_object_set_new(o, "spec", json_string(snap->cache_spec));
    json_object_set_new(o, "state", json_string(afb_health_state_name(
                                        afb_health_effective_state(h))));
    json_object_set_new(o, "available", json_boolean(!down));
    json_object_set_new(o, "last_probe", afb_when(p, h->last_probe)
                        ? json_string(afb_when(p, h->last_probe)) : json_null());
    json_object_set_new(o, "last_error", h->last_error[0] ? json_string(h->last_error)
                                                          : json_null());
    json_object_set_new(o, "consecutive_failures", json_integer(h->fails));
    json_object_set_new(o, "transitions", json_integer((json_int_t)h->transitions));
    json_object_set_new(o, "probe_latency_seconds", json_real(afb_secs(h->last_latency)));
    json_object_set_new(o, "errors", json_integer((json_int_t)h->passive_events));
    json_object_set_new(o, "while_down", down ? json_string(AFB_CACHE_DOWN_NOTE) : json_null());
    afb_cache_table_json(o, snap->mod);
    return o;
}

static json_t *afb_row_json(apr_pool_t *p, const afb_row_t *row)
{
    const afb_health_rec_t *h = &row->rec;
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(row->prov->conf.name));
    json_object_set_new(o, "type", json_string(row->prov->ops->type));
    json_object_set_new(o, "state", json_string(afb_health_state_name(
                                        afb_health_effective_state(h))));
    json_object_set_new(o, "probed_state", json_string(afb_health_state_name(h->state)));
    json_object_set_new(o, "override", json_string(afb_health_override_name(h->override)));
    json_object_set_new(o, "available", json_boolean(afb_health_available(h)));
    json_object_set_new(o, "depends", afb_depends_json(row->prov));
    json_object_set_new(o, "cause", afb_row_cause(p, h) ? json_string(afb_row_cause(p, h))
                                                        : json_null());
    json_object_set_new(o, "last_probe", afb_when(p, h->last_probe)
                        ? json_string(afb_when(p, h->last_probe)) : json_null());
    json_object_set_new(o, "last_transition", afb_when(p, h->last_transition)
                        ? json_string(afb_when(p, h->last_transition)) : json_null());
    json_object_set_new(o, "last_error", h->last_error[0] ? json_string(h->last_error)
                                                          : json_null());
    json_object_set_new(o, "consecutive_passes", json_integer(h->passes));
    json_object_set_new(o, "consecutive_failures", json_integer(h->fails));
    json_object_set_new(o, "transitions", json_integer((json_int_t)h->transitions));
    json_object_set_new(o, "probes", json_integer((json_int_t)h->probes));
    json_object_set_new(o, "probe_latency_seconds", json_real(afb_secs(h->last_latency)));
    json_object_set_new(o, "passive_events", json_integer((json_int_t)h->passive_events));
    json_object_set_new(o, "signins_success", json_integer((json_int_t)h->auth_successes));
    json_object_set_new(o, "signins_failure", json_integer((json_int_t)h->auth_failures));
    json_object_set_new(o, "fallbacks", json_integer((json_int_t)h->fallbacks));
    json_object_set_new(o, "mfa_bypasses", json_integer((json_int_t)h->mfa_bypasses));
    json_object_set_new(o, "throttled", json_integer((json_int_t)h->throttled));
    json_object_set_new(o, "drill", afb_drill_active(&h->drill)
                        ? json_string(afb_drill_format(p, &h->drill)) : json_null());
    json_object_set_new(o, "drill_signins", json_integer((json_int_t)h->drill_signins));
    if (afb_provider_has_store(row->prov)) {
        json_t *st = json_object();
        json_object_set_new(st, "records", json_integer(h->store_records));
        json_object_set_new(st, "skipped_records", json_integer(h->store_skipped));
        json_object_set_new(st, "held", json_boolean(h->store_held));
        json_object_set_new(st, "held_users", h->store_held ? json_integer(h->store_held_users)
                                                            : json_null());
        json_object_set_new(st, "kept_users", h->store_held ? json_integer(h->store_kept_users)
                                                            : json_null());
        json_object_set_new(o, "store", st);
    }
    return o;
}


static int afb_status_json(request_rec *r, const afb_snapshot_t *snap)
{
    json_t *root = json_object(), *arr = json_array();
    char *text;
    int i;
    json_object_set_new(root, "version", json_string(AFB_VERSION));
    json_object_set_new(root, "time", json_string(afb_rfc3339(r->pool, snap->now)));
    json_object_set_new(root, "checker_heartbeat", snap->heartbeat
                        ? json_string(afb_rfc3339(r->pool, snap->heartbeat)) : json_null());
    json_object_set_new(root, "checker_stale", json_boolean(
                            !snap->heartbeat || snap->now - snap->heartbeat > AFB_CHECKER_STALE));
    json_object_set_new(root, "generation", json_integer((json_int_t)snap->generation));
    for (i = 0; i < snap->rows->nelts; i++)
        json_array_append_new(arr, afb_row_json(r->pool, &APR_ARRAY_IDX(snap->rows, i, afb_row_t)));
    json_object_set_new(root, "providers", arr);
    if (snap->has_cache)
        json_object_set_new(root, "cache", afb_cache_json(r->pool, snap));
    json_object_set_new(root, "override_error", snap->override_error[0]
                        ? json_string(snap->override_error) : json_null());
    text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!text)
        return HTTP_SERVICE_UNAVAILABLE;
    ap_set_content_type(r, "application/json");
    ap_rputs(text, r);
    ap_rputs("\n", r);
    free(text);
    return OK;
}

/* ---- Prometheus text exposition ---- */

static void afb_metric_head(request_rec *r, const char *name, const char *type, const char *help)
{
    ap_rprintf(r, "# HELP auth_fallback_%s %s\n# TYPE auth_fallback_%s %s\n", name, help, name,
               type);
}

typedef enum { AFB_M_AVAILABLE, AFB_M_PROBES, AFB_M_TRANSITIONS, AFB_M_LATENCY,
               AFB_M_FAILS, AFB_M_LASTPROBE, AFB_M_FALLBACKS, AFB_M_BYPASS,
               AFB_M_THROTTLED, AFB_M_SKIPPED, AFB_M_HELD } afb_metric_t;

/* The value of a metric for one row, or NULL when the row has none (path counters only for
 * first factors, store figures only for stores). */
static const char *afb_metric_value(apr_pool_t *p, const afb_row_t *row, afb_metric_t which)
{
    const afb_health_rec_t *h = &row->rec;
    int path = afb_provider_has(row->prov, AFB_ROLE_FIRST);
    int store = afb_provider_has_store(row->prov);
    switch (which) {
    case AFB_M_AVAILABLE: return apr_itoa(p, afb_health_available(h));
    case AFB_M_PROBES: return apr_psprintf(p, "%" APR_UINT64_T_FMT, h->probes);
    case AFB_M_TRANSITIONS: return apr_psprintf(p, "%" APR_UINT64_T_FMT, h->transitions);
    case AFB_M_LATENCY: return apr_psprintf(p, "%.6f", afb_secs(h->last_latency));
    case AFB_M_FAILS: return apr_psprintf(p, "%u", h->fails);
    case AFB_M_LASTPROBE: return apr_psprintf(p, "%.3f", afb_secs(h->last_probe));
    case AFB_M_FALLBACKS:
        return path ? apr_psprintf(p, "%" APR_UINT64_T_FMT, h->fallbacks) : NULL;
    case AFB_M_BYPASS:
        return path ? apr_psprintf(p, "%" APR_UINT64_T_FMT, h->mfa_bypasses) : NULL;
    case AFB_M_THROTTLED:
        return path ? apr_psprintf(p, "%" APR_UINT64_T_FMT, h->throttled) : NULL;
    case AFB_M_SKIPPED: return store ? apr_itoa(p, h->store_skipped) : NULL;
    case AFB_M_HELD: return store ? apr_itoa(p, h->store_held) : NULL;
    }
    return NULL;
}

static void afb_metric_rows(request_rec *r, const afb_snapshot_t *snap, const char *name,
                            afb_metric_t which)
{
    const char *key = which == AFB_M_FALLBACKS || which == AFB_M_BYPASS ||
                      which == AFB_M_THROTTLED ? "path" : "provider";
    int i;
    for (i = 0; i < snap->rows->nelts; i++) {
        const afb_row_t *row = &APR_ARRAY_IDX(snap->rows, i, afb_row_t);
        const char *v = afb_metric_value(r->pool, row, which);
        if (v)
            ap_rprintf(r, "auth_fallback_%s{%s=\"%s\"} %s\n", name, key, row->prov->conf.name, v);
    }
}

static void afb_prom_states(request_rec *r, const afb_snapshot_t *snap)
{
    static const afb_health_state_t states[] = {AFB_HEALTH_UNKNOWN, AFB_HEALTH_UP,
                                                AFB_HEALTH_DOWN};
    static const afb_override_t ovs[] = {AFB_OVERRIDE_AUTO, AFB_OVERRIDE_UP, AFB_OVERRIDE_DOWN};
    int i, k;
    afb_metric_head(r, "provider_state", "gauge",
                    "Effective provider state (override applied): 1 for the current state.");
    for (i = 0; i < snap->rows->nelts; i++) {
        const afb_row_t *row = &APR_ARRAY_IDX(snap->rows, i, afb_row_t);
        for (k = 0; k < 3; k++)
            ap_rprintf(r, "auth_fallback_provider_state{provider=\"%s\",type=\"%s\",state=\"%s\"} "
                       "%d\n", row->prov->conf.name, row->prov->ops->type,
                       afb_health_state_name(states[k]),
                       afb_health_effective_state(&row->rec) == states[k]);
    }
    afb_metric_head(r, "provider_override", "gauge",
                    "Operator override (AuthFallbackOverrideFile): 1 for the current value.");
    for (i = 0; i < snap->rows->nelts; i++) {
        const afb_row_t *row = &APR_ARRAY_IDX(snap->rows, i, afb_row_t);
        for (k = 0; k < 3; k++)
            ap_rprintf(r, "auth_fallback_provider_override{provider=\"%s\",override=\"%s\"} %d\n",
                       row->prov->conf.name, afb_health_override_name(ovs[k]),
                       row->rec.override == (int32_t)ovs[k]);
    }
}

static void afb_prom_signins(request_rec *r, const afb_snapshot_t *snap)
{
    int i;
    afb_metric_head(r, "signins_total", "counter",
                    "Sign-ins completed or refused, by first-factor path and result.");
    for (i = 0; i < snap->rows->nelts; i++) {
        const afb_row_t *row = &APR_ARRAY_IDX(snap->rows, i, afb_row_t);
        if (!afb_provider_has(row->prov, AFB_ROLE_FIRST))
            continue;
        ap_rprintf(r, "auth_fallback_signins_total{path=\"%s\",result=\"success\"} %"
                   APR_UINT64_T_FMT "\n", row->prov->conf.name, row->rec.auth_successes);
        ap_rprintf(r, "auth_fallback_signins_total{path=\"%s\",result=\"failure\"} %"
                   APR_UINT64_T_FMT "\n", row->prov->conf.name, row->rec.auth_failures);
    }
}

/* The shared table of throttle and single-use records (docs/operations.md, cache sizing):
 * refusals are counted, never evictions (the table has none; Redis and memcached are run
 * without). */
static void afb_prom_cache_table(request_rec *r)
{
    afb_cache_stats_t cs;
    afb_cache_stats(afb_module(r->server), &cs);
    afb_metric_head(r, "cache_capacity", "gauge",
                    "Entries of the shared table (0: a socache backend such as Redis).");
    ap_rprintf(r, "auth_fallback_cache_capacity %u\n", cs.capacity);
    afb_metric_head(r, "cache_entries", "gauge", "Live records in the shared table.");
    ap_rprintf(r, "auth_fallback_cache_entries %u\n", cs.live);
    afb_metric_head(r, "cache_refused_total", "counter",
                    "New throttle or single-use records refused (table full) or not stored.");
    ap_rprintf(r, "auth_fallback_cache_refused_total %lu\n", cs.refused);
}

static void afb_prom_cache(request_rec *r, const afb_snapshot_t *snap)
{
    afb_prom_cache_table(r);
    if (!snap->has_cache)
        return;
    afb_metric_head(r, "cache_up", "gauge",
                    "1 while the shared cache (AuthFallbackCache) answers its probes.");
    ap_rprintf(r, "auth_fallback_cache_up %d\n", afb_health_available(&snap->cache));
    afb_metric_head(r, "cache_errors_total", "counter",
                    "Shared cache reads and writes that failed while serving requests.");
    ap_rprintf(r, "auth_fallback_cache_errors_total %" APR_UINT64_T_FMT "\n",
               snap->cache.passive_events);
    afb_metric_head(r, "cache_probe_latency_seconds", "gauge",
                    "Duration of the last set/get/delete probe of the shared cache.");
    ap_rprintf(r, "auth_fallback_cache_probe_latency_seconds %.6f\n",
               afb_secs(snap->cache.last_latency));
}

/* Drills in force and the sign-ins they moved (docs/operations.md, "Before the outage"). */
static void afb_prom_drills(request_rec *r, const afb_snapshot_t *snap)
{
    int i;
    afb_metric_head(r, "drill_active", "gauge",
                    "1 for each provider with a drill line in the override file.");
    for (i = 0; i < snap->rows->nelts; i++) {
        const afb_row_t *row = &APR_ARRAY_IDX(snap->rows, i, afb_row_t);
        if (afb_drill_active(&row->rec.drill))
            ap_rprintf(r, "auth_fallback_drill_active{provider=\"%s\",drill=\"%s\"} 1\n",
                       row->prov->conf.name, afb_drill_format(r->pool, &row->rec.drill));
    }
    afb_metric_head(r, "drill_signins_total", "counter",
                    "New sign-ins a drill routed past this provider.");
    for (i = 0; i < snap->rows->nelts; i++) {
        const afb_row_t *row = &APR_ARRAY_IDX(snap->rows, i, afb_row_t);
        ap_rprintf(r, "auth_fallback_drill_signins_total{provider=\"%s\"} %" APR_UINT64_T_FMT
                   "\n", row->prov->conf.name, row->rec.drill_signins);
    }
}

static int afb_status_prometheus(request_rec *r, const afb_snapshot_t *snap)
{
    ap_set_content_type(r, "text/plain; version=0.0.4; charset=utf-8");
    afb_metric_head(r, "build_info", "gauge", "Always 1; the version label is the module's.");
    ap_rputs("auth_fallback_build_info{version=\"" AFB_VERSION "\"} 1\n", r);
    afb_prom_states(r, snap);
    afb_metric_head(r, "provider_available", "gauge",
                    "1 when new sign-ins may use the provider (not DOWN).");
    afb_metric_rows(r, snap, "provider_available", AFB_M_AVAILABLE);
    afb_metric_head(r, "probes_total", "counter", "Health probes completed.");
    afb_metric_rows(r, snap, "probes_total", AFB_M_PROBES);
    afb_metric_head(r, "transitions_total", "counter", "Health state changes.");
    afb_metric_rows(r, snap, "transitions_total", AFB_M_TRANSITIONS);
    afb_metric_head(r, "probe_latency_seconds", "gauge", "Duration of the last probe.");
    afb_metric_rows(r, snap, "probe_latency_seconds", AFB_M_LATENCY);
    afb_metric_head(r, "probe_consecutive_failures", "gauge", "Failed probes in a row.");
    afb_metric_rows(r, snap, "probe_consecutive_failures", AFB_M_FAILS);
    afb_metric_head(r, "last_probe_timestamp_seconds", "gauge",
                    "Unix time of the last probe result (0: never).");
    afb_metric_rows(r, snap, "last_probe_timestamp_seconds", AFB_M_LASTPROBE);
    afb_prom_signins(r, snap);
    afb_metric_head(r, "fallbacks_total", "counter",
                    "New sign-ins routed past this path because it was down.");
    afb_metric_rows(r, snap, "fallbacks_total", AFB_M_FALLBACKS);
    afb_metric_head(r, "mfa_bypasses_total", "counter",
                    "Sessions issued without a second factor (AuthFallbackMFAUnavailable allow).");
    afb_metric_rows(r, snap, "mfa_bypasses_total", AFB_M_BYPASS);
    afb_metric_head(r, "throttled_total", "counter", "Attempts refused by throttling.");
    afb_metric_rows(r, snap, "throttled_total", AFB_M_THROTTLED);
    afb_prom_cache(r, snap);
    afb_metric_head(r, "store_skipped_records", "gauge",
                    "Records of a password or TOTP store left out as unusable.");
    afb_metric_rows(r, snap, "store_skipped_records", AFB_M_SKIPPED);
    afb_metric_head(r, "store_held", "gauge",
                    "1 while a new copy of the store is held back by the deletion guard.");
    afb_metric_rows(r, snap, "store_held", AFB_M_HELD);
    afb_metric_head(r, "checker_heartbeat_age_seconds", "gauge",
                    "Seconds since the health checker last ran (-1: never).");
    ap_rprintf(r, "auth_fallback_checker_heartbeat_age_seconds %.3f\n",
               snap->heartbeat ? afb_secs(snap->now - snap->heartbeat) : -1.0);
    afb_prom_drills(r, snap);
    afb_readiness_prometheus(r);
    return OK;
}

/* ---- HTML ---- */

static void afb_html_cache(request_rec *r, const afb_snapshot_t *snap)
{
    const afb_health_rec_t *h = &snap->cache;
    const char *state;
    if (!snap->has_cache)
        return;
    state = afb_health_state_name(afb_health_effective_state(h));
    ap_rprintf(r, "<p>Shared cache %s: <span class=\"%s\">%s</span>%s%s</p>\n",
               afb_html_escape(r->pool, snap->cache_spec), state, state,
               h->last_error[0] ? " &mdash; " : "", afb_html_escape(r->pool, h->last_error));
    if (afb_health_effective_state(h) == AFB_HEALTH_DOWN)
        ap_rprintf(r, "<p class=\"DOWN\">%s</p>\n", AFB_CACHE_DOWN_NOTE);
}

static const char *afb_store_cell(apr_pool_t *p, const afb_row_t *row)
{
    const afb_health_rec_t *h = &row->rec;
    if (!afb_provider_has_store(row->prov))
        return NULL;
    return apr_psprintf(p, "%d records, %d skipped%s", h->store_records, h->store_skipped,
                        h->store_held ? apr_psprintf(p, "; <strong>new copy HELD</strong> "
                                                     "(%d users, %d in use)",
                                                     h->store_held_users, h->store_kept_users)
                                      : "");
}

static void afb_html_drills(request_rec *r, const afb_snapshot_t *snap)
{
    int i;
    for (i = 0; i < snap->rows->nelts; i++) {
        const afb_row_t *row = &APR_ARRAY_IDX(snap->rows, i, afb_row_t);
        const afb_drill_t *d = &row->rec.drill;
        if (!afb_drill_active(d))
            continue;
        ap_rprintf(r, "<p class=\"drill\">Drill: %s route as if %s were DOWN (%"
                   APR_UINT64_T_FMT " so far)</p>\n", d->percent > 0
                   ? apr_psprintf(r->pool, "%d%% of new sign-ins", (int)d->percent)
                   : apr_pstrcat(r->pool, "new sign-ins from ",
                                 afb_drill_format(r->pool, d), NULL),
                   afb_html_escape(r->pool, row->prov->conf.name), row->rec.drill_signins);
    }
}

/* "5 min 3 s" from t to now. */
static const char *afb_ago(apr_pool_t *p, apr_time_t now, apr_time_t t)
{
    apr_int64_t s = now > t ? (apr_int64_t)apr_time_sec(now - t) : 0;
    if (s < 60)
        return apr_psprintf(p, "%d s", (int)s);
    if (s < 3600)
        return apr_psprintf(p, "%d min %d s", (int)(s / 60), (int)(s % 60));
    if (s < 86400)
        return apr_psprintf(p, "%d h %d min", (int)(s / 3600), (int)(s % 3600 / 60));
    return apr_psprintf(p, "%d d %d h", (int)(s / 86400), (int)(s % 86400 / 3600));
}

/* "2026-12-01T01:02:03Z (5 min 3 s ago)", or "never". */
static const char *afb_when_ago(apr_pool_t *p, apr_time_t now, apr_time_t t)
{
    if (!t)
        return "never";
    return apr_pstrcat(p, afb_rfc3339(p, t), " (", afb_ago(p, now, t), " ago)", NULL);
}

/* The last probe's result: "passed" or "failed: reason". */
static const char *afb_probe_result(apr_pool_t *p, const afb_health_rec_t *h)
{
    if (!h->last_probe)
        return "no probe yet";
    if (h->last_failure == h->last_probe)
        return apr_pstrcat(p, "failed: ", afb_html_escape(p, h->last_error), NULL);
    return "passed";
}

static void afb_html_item(request_rec *r, const char *cls, const char *label, const char *html)
{
    if (html)
        ap_rprintf(r, "<dt>%s</dt><dd class=\"%s\">%s</dd>\n", label, cls, html);
}

/* The State line: the state and since when. last_transition dates the probed state; when an
 * override or a dependency decides the effective state, the line says so and dates the
 * probed state, which is what the probes have seen. */
static const char *afb_state_line(apr_pool_t *p, apr_time_t now, const afb_health_rec_t *h,
                                  const char *state, const char *cause)
{
    const char *probed = afb_health_state_name(h->state);
    const char *since = !h->last_transition ? "since the server started (no change yet)"
                        : apr_pstrcat(p, "since ", afb_when_ago(p, now, h->last_transition), NULL);
    const char *head = apr_pstrcat(p, "<span class=\"", state, "\">",
                                   cause ? afb_html_escape(p, cause) : state, "</span>", NULL);
    if (h->override == AFB_OVERRIDE_AUTO && !cause)
        return apr_pstrcat(p, head, " ", since, NULL);
    return apr_pstrcat(p, head, h->override != AFB_OVERRIDE_AUTO ? " by override" : "",
                       "; probed <span class=\"", probed, "\">", probed, "</span> ", since, NULL);
}

/* Under an override, what the probes say: what to check before lifting it
 * (docs/operations.md, "Lifting an override"). */
static const char *afb_override_cell(apr_pool_t *p, const afb_health_rec_t *h)
{
    const char *probed = afb_health_state_name(h->state);
    if (h->override == AFB_OVERRIDE_AUTO)
        return "auto";
    return apr_psprintf(p, "<strong>%s</strong>: the probes say <span class=\"%s\">%s</span> "
                        "(%u passes / %u failures in a row; last probe %s)",
                        afb_health_override_name(h->override), probed, probed, h->passes,
                        h->fails, afb_probe_result(p, h));
}

static void afb_html_row(request_rec *r, const afb_snapshot_t *snap, const afb_row_t *row)
{
    const afb_health_rec_t *h = &row->rec;
    const char *state = afb_health_state_name(afb_health_effective_state(h));
    const char *cause = afb_row_cause(r->pool, h);
    apr_pool_t *p = r->pool;
    ap_rprintf(r, "<section class=\"prov\" id=\"prov-%s\"><h2>%s <span class=\"%s state\">%s"
               "</span> <small>%s</small></h2><dl>\n", afb_html_escape(p, row->prov->conf.name),
               afb_html_escape(p, row->prov->conf.name), state, state,
               row->prov->ops->type);
    afb_html_item(r, "since", "State", afb_state_line(p, snap->now, h, state, cause));
    afb_html_item(r, "cause", "Cause", cause ? afb_html_escape(p, h->dep_cause) : NULL);
    afb_html_item(r, "override", "Override", afb_override_cell(p, h));
    afb_html_item(r, "probe", "Last probe", apr_pstrcat(p, afb_when_ago(p, snap->now,
                  h->last_probe), h->last_probe ? ": " : "", h->last_probe
                  ? afb_probe_result(p, h) : "", NULL));
    afb_html_item(r, "error", "Last error", h->last_error[0]
                  ? afb_html_escape(p, h->last_error) : NULL);
    afb_html_item(r, "counts", "Probes", apr_psprintf(p, "%u passes / %u failures in a row; %"
                  APR_UINT64_T_FMT " transitions", h->passes, h->fails, h->transitions));
    afb_html_item(r, "signins", "Sign-ins", apr_psprintf(p, "%" APR_UINT64_T_FMT " ok / %"
                  APR_UINT64_T_FMT " failed; %" APR_UINT64_T_FMT " fallbacks",
                  h->auth_successes, h->auth_failures, h->fallbacks));
    afb_html_item(r, "store", "Store", afb_store_cell(p, row));
    ap_rputs("</dl></section>\n", r);
}

static void afb_html_head(request_rec *r, int refresh)
{
    ap_rputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
             "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">", r);
    if (refresh)
        ap_rprintf(r, "<meta http-equiv=\"refresh\" content=\"%d\">", AFB_STATUS_REFRESH);
    ap_rputs("<title>mod_auth_fallback status</title><style>"
             "body{font-family:system-ui,sans-serif;margin:0 auto;padding:.8rem;max-width:60rem;"
             "overflow-wrap:anywhere}h1{font-size:1.3rem}h2{font-size:1.1rem;margin:.2rem 0}"
             ".prov{border:1px solid #ccc;border-radius:6px;padding:.6rem .8rem;margin:.8rem 0}"
             "dl{display:grid;grid-template-columns:minmax(6rem,max-content) 1fr;gap:.2rem .8rem;"
             "margin:.4rem 0}dt{color:#555}dd{margin:0;min-width:0}small{color:#555;"
             "font-weight:normal}.UP{color:#070}.DOWN{color:#b00020;font-weight:bold}"
             ".UNKNOWN{color:#777}.state{white-space:nowrap}"
             "@media(max-width:30rem){dl{grid-template-columns:1fr}dd{margin-bottom:.4rem}}"
             "</style></head><body><h1>mod_auth_fallback status</h1>\n", r);
    ap_rprintf(r, "<p class=\"refresh\">%s <a id=\"refresh-toggle\" href=\"?refresh=%s\">%s</a>"
               "</p>\n", refresh ? apr_psprintf(r->pool, "This page reloads every %d s.",
                                                AFB_STATUS_REFRESH)
                                 : "Automatic reload is off.",
               refresh ? "off" : "on", refresh ? "Turn automatic reload off" : "Turn it on");
}

static int afb_status_html(request_rec *r, const afb_snapshot_t *snap, int refresh)
{
    afb_cache_stats_t cs;
    int i;
    ap_set_content_type(r, "text/html; charset=utf-8");
    afb_html_head(r, refresh);
    ap_rputs("<p>Version: <span class=\"version\">" AFB_VERSION "</span></p>\n", r);
    ap_rprintf(r, "<p>Checker: %s; now %s</p>\n", !snap->heartbeat ? "has not run yet"
               : snap->now - snap->heartbeat > AFB_CHECKER_STALE ? "<strong>STALE</strong>"
               : "running", afb_rfc3339(r->pool, snap->now));
    afb_html_cache(r, snap);
    if (snap->override_error[0])
        ap_rprintf(r, "<p class=\"DOWN\">Override file: %s</p>\n",
                   afb_html_escape(r->pool, snap->override_error));
    for (i = 0; i < snap->rows->nelts; i++)
        afb_html_row(r, snap, &APR_ARRAY_IDX(snap->rows, i, afb_row_t));
    afb_html_drills(r, snap);
    afb_cache_stats(afb_module(r->server), &cs);
    ap_rprintf(r, "<p>Shared records: <span class=\"cache-entries\">%u</span> of %u entries; "
               "refused (full or not stored): <span class=\"cache-refused\">%lu</span></p>\n",
               cs.live, cs.capacity, cs.refused);
    afb_readiness_html(r);
    ap_rputs("</body></html>\n", r);
    return OK;
}

int afb_status_handler(request_rec *r)
{
    apr_table_t *q = NULL;
    const char *format = NULL;
    afb_snapshot_t *snap;
    if (!r->handler || strcmp(r->handler, AFB_STATUS_HANDLER))
        return DECLINED;
    if (r->method_number != M_GET)
        return HTTP_METHOD_NOT_ALLOWED;
    if (!afb_module(r->server)->all)
        return HTTP_NOT_FOUND;
    if (r->args && afb_form_parse(r->pool, r->args, strlen(r->args), 8, &q) == AFB_OK)
        format = apr_table_get(q, "format");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (format && !strcmp(format, "readiness"))
        return r->header_only ? OK : afb_readiness_serve(r);
    snap = afb_snapshot(r);
    if (r->header_only)
        return OK;
    if (format && !strcmp(format, "json"))
        return afb_status_json(r, snap);
    if (format && !strcmp(format, "prometheus"))
        return afb_status_prometheus(r, snap);
    if (format && strcmp(format, "html"))
        return HTTP_BAD_REQUEST;
    return afb_status_html(r, snap, !(q && apr_table_get(q, "refresh") &&
                                      !strcmp(apr_table_get(q, "refresh"), "off")));
}
