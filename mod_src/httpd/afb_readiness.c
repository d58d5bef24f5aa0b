/* The roster and readiness in httpd. Children only ever push a sighting into a ring in
 * shared memory (under the health table's mutex, a few hundred bytes copied); the checker
 * drains the ring at every tick into a batch in its own memory, merges the batch into the
 * roster file every AFB_ROSTER_WRITE_EVERY (a new copy renamed over the old, the one
 * mechanism of the stores the module writes: authfb/storefile.h), and recomputes readiness
 * at most every AFB_READINESS_EVERY after that, or soon after a store file changed. The
 * ring belongs to one generation: a sighting queued by an old child after a graceful
 * restart, before its checker drained it, and the batch the checker had not written yet
 * are what a restart can lose. */
#include <apr_strings.h>
#include <apr_shm.h>
#include <apr_file_info.h>
#include <ap_mpm.h>
#include <http_protocol.h>

#include "afb_readiness.h"
#include "afb_health.h"
#include "afb_provider.h"
#include "authfb/event.h"
#include "authfb/file.h"
#include "authfb/log.h"
#include "authfb/readiness.h"
#include "authfb/roster.h"
#include "authfb/storefile.h"
#include "authfb/util.h"

APLOG_USE_MODULE(auth_fallback);

#define AFB_READINESS_SUFFIX ".readiness"

struct afb_readiness_t {
    afb_roster_ring_t *ring;      /* shared memory, this generation's */
    const char *report;           /* FILE.readiness */
    /* the checker's own, in its process */
    apr_pool_t *batch_pool;
    afb_roster_t *batch;          /* sightings drained, not written yet */
    apr_time_t written, expired, computed, store_checked, recompute_at, drop_warned;
    uint64_t store_sig, dropped_told;
    int dirty;                    /* the roster changed since the last computation */
    afb_status_t roster_error;    /* AFB01460 said for this (AFB_OK: usable) */
    int skipped_told;
};

static void afb_readiness_tick(afb_module_t *mod, apr_pool_t *p);

/* ---- configuration ---- */

const char *afb_cmd_roster(cmd_parms *cmd, void *dc, const char *file, const char *days)
{
    const char *err = NULL;
    afb_module_t *mod = afb_cmd_global(cmd, dc, &err);
    char *end = NULL;
    long d = AFB_ROSTER_DEFAULT_DAYS;
    if (!mod)
        return err;
    if (days) {
        d = strtol(days, &end, 10);
        if (!*days || *end || d < 1 || d > 3650)
            return afb_cmd_err(cmd, "DAYS '%s': expected 1..3650", days);
    }
    mod->roster_file = ap_server_root_relative(cmd->pool, file);
    if (!mod->roster_file)
        return afb_cmd_err(cmd, "invalid path '%s'", file);
    mod->roster_days = (int)d;
    return NULL;
}

/* The ring in shared memory made in the process pool, which outlives every restart (worker
 * threads of an exiting child may still push into it after pconf is gone). Two rings used in
 * turn, as the health table's segments: children of the old generation, still finishing
 * their requests under the old mutex, never share a ring with the new ones. */
typedef struct {
    apr_shm_t *shm[2];
    int cur;             /* the ring of the running generation, -1 before the first */
} afb_ring_retained_t;

static afb_roster_ring_t *afb_ring_place(server_rec *s)
{
    afb_ring_retained_t *ret = ap_retained_data_get("afb-roster-ring");
    apr_size_t size = afb_roster_ring_size(AFB_ROSTER_RING_SLOTS);
    int next;
    if (!ret) {
        ret = ap_retained_data_create("afb-roster-ring", sizeof(*ret));
        ret->cur = -1;
    }
    next = ret->cur == 0 ? 1 : 0;
    if (!ret->shm[next] &&
        apr_shm_create(&ret->shm[next], size, NULL, s->process->pool) != APR_SUCCESS) {
        ret->shm[next] = NULL;
        return NULL;
    }
    ret->cur = next;
    return afb_roster_ring_init(apr_shm_baseaddr_get(ret->shm[next]), size,
                                AFB_ROSTER_RING_SLOTS);
}

int afb_readiness_post_config(apr_pool_t *pconf, server_rec *s)
{
    afb_module_t *mod = afb_module(s);
    afb_readiness_t *rd;
    if (!mod->roster_file)
        return OK;
    /* a kept block, like the checker's: the checker thread may run on while pconf goes */
    rd = afb_kept_block("afb-readiness", sizeof(*rd));
    rd->report = apr_pstrcat(pconf, mod->roster_file, AFB_READINESS_SUFFIX, NULL);
    if (!(rd->ring = afb_ring_place(s))) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     "AFB01468: AuthFallbackRoster: cannot set up the shared ring of sign-ins");
        return !OK;
    }
    mod->readiness = rd;
    mod->checker_also = afb_readiness_tick;
    return OK;
}

/* ---- children ---- */

void afb_readiness_signed_in(request_rec *r, const char *user, const char *location,
                             const char *path)
{
    afb_module_t *mod = afb_module(r->server);
    afb_readiness_t *rd = mod->readiness;
    if (!rd || !user || !location || !path)
        return;
    afb_health_lock(mod);
    afb_roster_ring_push(rd->ring, user, location, path, apr_time_now());
    afb_health_unlock(mod);
}

/* ---- the checker: the roster file ---- */

static void afb_batch_take(afb_module_t *mod, afb_readiness_t *rd, apr_time_t now)
{
    uint64_t dropped;
    if (!rd->batch_pool) {
        apr_pool_create(&rd->batch_pool, NULL);
        rd->batch = afb_roster_create(rd->batch_pool);
    }
    afb_health_lock(mod);
    if (rd->ring->count)
        afb_roster_ring_drain(rd->ring, rd->batch);
    dropped = rd->ring->dropped;
    afb_health_unlock(mod);
    if (dropped > rd->dropped_told && now - rd->drop_warned >= AFB_ROSTER_DROP_WARN_EVERY) {
        afb_log(AFB_LOG_WARN, 1464, "AuthFallbackRoster: %" APR_UINT64_T_FMT " sign-ins were "
                "not recorded (the shared ring was full, or a field too long)",
                dropped - rd->dropped_told);
        rd->dropped_told = dropped;
        rd->drop_warned = now;
    }
}

static void afb_batch_clear(afb_readiness_t *rd)
{
    apr_pool_clear(rd->batch_pool);
    rd->batch = afb_roster_create(rd->batch_pool);
}

typedef struct {
    afb_module_t *mod;
    afb_readiness_t *rd;
    apr_time_t now;
    afb_status_t parse;           /* the current file's parse */
    afb_skips_t skips;
} afb_merge_t;

static void afb_merge_skips(afb_merge_t *m)
{
    if (m->skips.count == m->rd->skipped_told)
        return;
    m->rd->skipped_told = m->skips.count;
    if (m->skips.count > 0)
        afb_log(AFB_LOG_WARN, 1465, "AuthFallbackRoster %s: %d records skipped (first: %s)",
                m->mod->roster_file, m->skips.count,
                m->skips.notes ? APR_ARRAY_IDX(m->skips.notes, 0, const char *) : "?");
}

/* storefile edit: the file as it is, the batch merged in, the unseen dropped. */
static afb_status_t afb_merge_edit(apr_pool_t *p, void *baton, const char *text, size_t len,
                                   const char **out, size_t *out_len)
{
    afb_merge_t *m = baton;
    afb_roster_t *r = NULL;
    apr_array_header_t *seen;
    int i;
    memset(&m->skips, 0, sizeof(m->skips));
    m->parse = afb_roster_parse(p, text, len, &r, &m->skips);
    if (m->parse != AFB_OK)
        return m->parse;
    afb_merge_skips(m);
    seen = afb_roster_sorted(m->rd->batch, p);
    for (i = 0; i < seen->nelts; i++) {
        const afb_roster_rec_t *s = APR_ARRAY_IDX(seen, i, const afb_roster_rec_t *);
        if (afb_roster_see(r, s->user, s->location, s->path, s->seen) != AFB_OK)
            continue;
    }
    afb_roster_expire(r, m->now, m->mod->roster_days);
    afb_roster_trim(r, AFB_ROSTER_MAX_RECORDS);
    *out = afb_roster_format(r, p, out_len);
    return AFB_OK;
}

/* A roster that cannot be used: said once; the batch is dropped (nothing to merge it into
 * while the file is not ours). */
static void afb_roster_unusable(afb_module_t *mod, afb_readiness_t *rd, afb_status_t st,
                                const char *why)
{
    if (rd->roster_error != st)
        afb_log(AFB_LOG_ERR, 1460, "AuthFallbackRoster %s cannot be used (%s); the roster is "
                "off until it is fixed", mod->roster_file, why);
    rd->roster_error = st;
    afb_batch_clear(rd);
}

static void afb_roster_write(afb_module_t *mod, afb_readiness_t *rd, apr_pool_t *p,
                             apr_time_t now)
{
    afb_merge_t m = { mod, rd, now, AFB_OK, { 0, NULL } };
    const char *reason = NULL;
    afb_status_t st = afb_storefile_rewrite(p, mod->roster_file, NULL, afb_merge_edit, &m,
                                            &reason);
    rd->written = now;
    if (st == AFB_OK) {
        if (rd->roster_error != AFB_OK)
            afb_log(AFB_LOG_NOTICE, 1466, "AuthFallbackRoster %s is usable again",
                    mod->roster_file);
        rd->roster_error = AFB_OK;
        rd->expired = now;
        rd->dirty = 1;
        afb_batch_clear(rd);
    }
    else if (m.parse != AFB_OK || st == AFB_ETOOBIG)
        afb_roster_unusable(mod, rd, st, st == AFB_ETOOBIG ? "larger than the cap"
                            : "not a roster: no '" AFB_ROSTER_HEADER "' first line");
    else
        afb_log(AFB_LOG_ERR, 1461, "AuthFallbackRoster %s: cannot write it (%s)",
                mod->roster_file, reason ? reason : afb_status_str(st));
}

/* ---- the checker: readiness ---- */

typedef struct {
    afb_module_t *mod;
    apr_pool_t *p;
} afb_env_baton_t;

static int afb_env_has(void *baton, const char *provider, const char *user)
{
    afb_env_baton_t *b = baton;
    afb_provider_t *prov = afb_provider_find(b->mod->main_server, provider);
    return prov && afb_provider_enrolled(prov, b->p, user);
}

/* `provider` is unavailable while `if_down` is: it depends on it (depends=, transitively;
 * configtest refused cycles, the depth cap is only a guard). */
static int afb_env_depends(afb_module_t *mod, const char *provider, const char *if_down,
                           int depth)
{
    afb_provider_t *prov = afb_provider_find(mod->main_server, provider);
    int i;
    if (!prov || !prov->conf.depends || depth > AFB_HEALTH_MAX_DEPS)
        return 0;
    for (i = 0; i < prov->conf.depends->nelts; i++) {
        const char *d = APR_ARRAY_IDX(prov->conf.depends, i, const char *);
        if (!strcmp(d, if_down) || afb_env_depends(mod, d, if_down, depth + 1))
            return 1;
    }
    return 0;
}

static int afb_env_down_with(void *baton, const char *provider, const char *if_down)
{
    afb_env_baton_t *b = baton;
    return afb_env_depends(b->mod, provider, if_down, 0);
}

static afb_ready_step_t *afb_steps(apr_pool_t *p, apr_array_header_t *list, int mfa, int *n)
{
    afb_ready_step_t *steps;
    int i;
    *n = list ? list->nelts : 0;
    steps = apr_pcalloc(p, sizeof(*steps) * (apr_size_t)(*n + 1));
    for (i = 0; i < *n; i++) {
        afb_provider_t *prov = APR_ARRAY_IDX(list, i, afb_provider_t *);
        steps[i].name = prov->conf.name;
        steps[i].kind = prov->ops->enrolled ? AFB_READY_KIND_STORE
                        : mfa ? AFB_READY_KIND_REMOTE : AFB_READY_KIND_UNKNOWN;
        steps[i].mfa_after = !mfa && afb_provider_has(prov, AFB_ROLE_WANTS_MFA);
    }
    return steps;
}

/* Every section of the server configuration with AuthFallbackChain. */
static afb_ready_loc_t *afb_locations(apr_pool_t *p, afb_module_t *mod, int *n)
{
    afb_ready_loc_t *locs;
    int i;
    *n = mod->sections ? mod->sections->nelts : 0;
    locs = apr_pcalloc(p, sizeof(*locs) * (apr_size_t)(*n + 1));
    for (i = 0; i < *n; i++) {
        afb_dir_conf_t *dc = APR_ARRAY_IDX(mod->sections, i, afb_dir_conf_t *);
        locs[i].location = dc->location;
        locs[i].chain = afb_steps(p, dc->chain, 0, &locs[i].nchain);
        locs[i].mfa = afb_steps(p, dc->mfa, 1, &locs[i].nmfa);
        locs[i].mfa_allow_none = dc->mfa_allow;
    }
    return locs;
}

static afb_status_t afb_replace_edit(apr_pool_t *p, void *baton, const char *text, size_t len,
                                     const char **out, size_t *out_len)
{
    (void)p; (void)text; (void)len;
    *out = baton;
    *out_len = strlen(baton);
    return AFB_OK;
}

static void afb_readiness_compute(afb_module_t *mod, afb_readiness_t *rd, apr_pool_t *p,
                                  apr_time_t now)
{
    afb_env_baton_t b = { mod, p };
    afb_ready_env_t env = { afb_env_has, afb_env_down_with, &b };
    afb_roster_t *roster = NULL;
    char *text = NULL;
    const char *report, *reason = NULL;
    apr_size_t len = 0;
    afb_ready_loc_t *locs;
    int nlocs;
    afb_status_t st = afb_file_read(p, mod->roster_file, AFB_ROSTER_MAX_BYTES, &text, &len,
                                    NULL, &reason);
    rd->computed = now;
    rd->recompute_at = 0;
    if (st == AFB_ENOENT)
        len = 0;
    else if (st != AFB_OK || afb_roster_parse(p, text, len, &roster, NULL) != AFB_OK)
        return; /* AFB01460 at the next write, or AFB01461 */
    if (!roster)
        roster = afb_roster_create(p);
    locs = afb_locations(p, mod, &nlocs);
    report = afb_ready_json(p, afb_ready_compute(p, roster, locs, nlocs, &env),
                            afb_roster_count(roster), now);
    rd->dirty = 0;
    if (!report || (st = afb_storefile_rewrite(p, rd->report, NULL, afb_replace_edit,
                                               (void *)report, &reason)) != AFB_OK) {
        afb_log(AFB_LOG_ERR, 1462, "AuthFallbackRoster %s: cannot write the readiness report "
                "%s (%s)", mod->roster_file, rd->report, reason ? reason : "no report");
        return;
    }
    afb_log(AFB_LOG_INFO, 1467, "readiness computed: %d locations, %d records, in %ld ms",
            nlocs, afb_roster_count(roster), (long)apr_time_as_msec(apr_time_now() - now));
}

/* What the store files look like now: a change (a person enrolled, the sync job ran) asks
 * for a new computation once every child's copy, the checker's included, has caught up. */
static uint64_t afb_stores_sig(afb_module_t *mod, apr_pool_t *p)
{
    uint64_t sig = 1469598103934665603ull;
    apr_finfo_t fi;
    int i;
    for (i = 0; i < mod->all->nelts; i++) {
        afb_provider_t *prov = APR_ARRAY_IDX(mod->all, i, afb_provider_t *);
        const char *path;
        if (!afb_provider_has_store(prov))
            continue;
        path = ap_server_root_relative(p, prov->conf.arg);
        if (!path || apr_stat(&fi, path, APR_FINFO_MTIME | APR_FINFO_SIZE | APR_FINFO_INODE,
                              p) != APR_SUCCESS)
            memset(&fi, 0, sizeof(fi));
        sig = (sig ^ (uint64_t)fi.mtime) * 1099511628211ull;
        sig = (sig ^ (uint64_t)fi.size ^ ((uint64_t)fi.inode << 20)) * 1099511628211ull;
    }
    return sig;
}

static void afb_stores_watch(afb_module_t *mod, afb_readiness_t *rd, apr_pool_t *p,
                             apr_time_t now)
{
    uint64_t sig;
    if (now - rd->store_checked < AFB_READINESS_STORE_CHECK)
        return;
    rd->store_checked = now;
    sig = afb_stores_sig(mod, p);
    if (sig != rd->store_sig && rd->store_sig)
        rd->recompute_at = now + 2 * AFB_STORE_CHECK_EVERY;
    rd->store_sig = sig;
}

/* The checker's share at every tick (afb_module_t.checker_also). Nothing is done when it
 * stops: mod_watchdog may say so after pconf is gone; the sightings of the batch not yet
 * written (at most AFB_ROSTER_WRITE_EVERY of them) are lost then. */
static void afb_readiness_tick(afb_module_t *mod, apr_pool_t *p)
{
    afb_readiness_t *rd = mod->readiness;
    apr_time_t now = apr_time_now();
    if (!rd)
        return;
    afb_batch_take(mod, rd, now);
    if ((afb_roster_count(rd->batch) > 0 && now - rd->written >= AFB_ROSTER_WRITE_EVERY) ||
        now - rd->expired >= AFB_ROSTER_EXPIRE_EVERY)
        afb_roster_write(mod, rd, p, now);
    afb_stores_watch(mod, rd, p, now);
    if (!rd->computed || (rd->recompute_at && now >= rd->recompute_at) ||
        (rd->dirty && now - rd->computed >= AFB_READINESS_EVERY))
        afb_readiness_compute(mod, rd, p, now);
}

/* ---- the status handler ---- */

static const char *afb_report_text(request_rec *r, apr_size_t *len)
{
    afb_readiness_t *rd = afb_module(r->server)->readiness;
    char *text = NULL;
    const char *why = NULL;
    if (!rd || afb_file_read(r->pool, rd->report, AFB_READY_MAX_REPORT, &text, len, NULL,
                             &why) != AFB_OK)
        return NULL;
    return text;
}

int afb_readiness_serve(request_rec *r)
{
    apr_size_t len = 0;
    const char *text;
    if (!afb_module(r->server)->readiness)
        return HTTP_NOT_FOUND;
    if (!(text = afb_report_text(r, &len)))
        return HTTP_SERVICE_UNAVAILABLE;
    ap_set_content_type(r, "application/json");
    ap_rwrite(text, (int)len, r);
    return OK;
}

static apr_array_header_t *afb_report_rows(request_rec *r, apr_time_t *when, int *records)
{
    apr_size_t len = 0;
    const char *text = afb_report_text(r, &len);
    apr_array_header_t *rows = NULL;
    if (!text || afb_ready_json_parse(r->pool, text, len, &rows, when, records) != AFB_OK)
        return NULL;
    return rows;
}

/* "a hash", "a TOTP secret", "a passkey": what the path's store holds (ops->credential). */
static const char *afb_credential_word(request_rec *r, const char *path)
{
    afb_provider_t *prov = path ? afb_provider_find(r->server, path) : NULL;
    return prov && prov->ops->credential ? prov->ops->credential : "a credential";
}

static const char *afb_row_text(request_rec *r, const afb_ready_row_t *x)
{
    const char *s;
    if (x->seen == 0)
        return "no one seen yet";
    if (x->seen == x->unknown)
        return apr_psprintf(r->pool, "%d unknown (%s decides)", x->unknown, x->path);
    s = apr_psprintf(r->pool, "%d of %d ready", x->ready, x->seen);
    if (x->no_second_factor)
        s = apr_psprintf(r->pool, "%s, %d without a second factor", s, x->no_second_factor);
    if (x->no_credential)
        s = apr_psprintf(r->pool, "%s, %d without %s", s, x->no_credential,
                         afb_credential_word(r, x->path));
    if (x->unknown)
        s = apr_psprintf(r->pool, "%s, %d unknown", s, x->unknown);
    if (x->no_path)
        s = apr_psprintf(r->pool, "%s, %d with no path left", s, x->no_path);
    return s;
}

void afb_readiness_html(request_rec *r)
{
    apr_time_t when = 0;
    int records = 0, i;
    apr_array_header_t *rows;
    if (!afb_module(r->server)->readiness)
        return;
    ap_rputs("<h2>Readiness</h2>\n", r);
    if (!(rows = afb_report_rows(r, &when, &records))) {
        ap_rputs("<p>Not computed yet.</p>\n", r);
        return;
    }
    ap_rprintf(r, "<p>Computed %s from %d roster records; the names are in "
               "<a href=\"?format=readiness\">?format=readiness</a>.</p>\n<ul>\n",
               afb_rfc3339(r->pool, when), records);
    for (i = 0; i < rows->nelts; i++) {
        const afb_ready_row_t *x = &APR_ARRAY_IDX(rows, i, afb_ready_row_t);
        ap_rprintf(r, "<li>%s &mdash; if %s were down (path %s): %s</li>\n",
                   afb_html_escape(r->pool, x->location), afb_html_escape(r->pool, x->if_down),
                   x->path ? afb_html_escape(r->pool, x->path) : "none",
                   afb_html_escape(r->pool, afb_row_text(r, x)));
    }
    ap_rputs("</ul>\n", r);
}

/* A label value in the exposition format: backslash, quote and newline escaped. */
static const char *afb_prom_label(apr_pool_t *p, const char *v)
{
    const char *s = "";
    for (; *v; v++)
        s = apr_pstrcat(p, s, *v == '\\' ? "\\\\" : *v == '"' ? "\\\"" : *v == '\n' ? "\\n"
                        : apr_pstrmemdup(p, v, 1), NULL);
    return s;
}

static void afb_prom_row(request_rec *r, const afb_ready_row_t *x)
{
    const char *labels = apr_psprintf(r->pool, "location=\"%s\",if_down=\"%s\"",
                                      afb_prom_label(r->pool, x->location),
                                      afb_prom_label(r->pool, x->if_down));
    double ratio = afb_ready_ratio(x);
    if (ratio >= 0)
        ap_rprintf(r, "auth_fallback_readiness_ratio{%s} %.4f\n", labels, ratio);
}

static void afb_prom_people(request_rec *r, const afb_ready_row_t *x)
{
    const char *labels = apr_psprintf(r->pool, "location=\"%s\",if_down=\"%s\"",
                                      afb_prom_label(r->pool, x->location),
                                      afb_prom_label(r->pool, x->if_down));
    ap_rprintf(r, "auth_fallback_readiness_people{%s,class=\"ready\"} %d\n"
               "auth_fallback_readiness_people{%s,class=\"no_second_factor\"} %d\n"
               "auth_fallback_readiness_people{%s,class=\"no_credential\"} %d\n"
               "auth_fallback_readiness_people{%s,class=\"unknown\"} %d\n"
               "auth_fallback_readiness_people{%s,class=\"no_path\"} %d\n",
               labels, x->ready, labels, x->no_second_factor, labels, x->no_credential,
               labels, x->unknown, labels, x->no_path);
}

void afb_readiness_prometheus(request_rec *r)
{
    apr_time_t when = 0;
    int records = 0, i;
    apr_array_header_t *rows;
    if (!afb_module(r->server)->readiness || !(rows = afb_report_rows(r, &when, &records)))
        return;
    ap_rputs("# HELP auth_fallback_readiness_ratio Share of the people seen at a location who "
             "could still sign in if the provider were DOWN (unknown ones left out).\n"
             "# TYPE auth_fallback_readiness_ratio gauge\n", r);
    for (i = 0; i < rows->nelts; i++)
        afb_prom_row(r, &APR_ARRAY_IDX(rows, i, afb_ready_row_t));
    ap_rputs("# HELP auth_fallback_readiness_people People seen at a location, by what they "
             "would lack if the provider were DOWN.\n"
             "# TYPE auth_fallback_readiness_people gauge\n", r);
    for (i = 0; i < rows->nelts; i++)
        afb_prom_people(r, &APR_ARRAY_IDX(rows, i, afb_ready_row_t));
    ap_rprintf(r, "# HELP auth_fallback_readiness_age_seconds Seconds since readiness was "
               "computed.\n# TYPE auth_fallback_readiness_age_seconds gauge\n"
               "auth_fallback_readiness_age_seconds %.0f\n"
               "# HELP auth_fallback_roster_records People x locations in the roster.\n"
               "# TYPE auth_fallback_roster_records gauge\nauth_fallback_roster_records %d\n",
               (double)apr_time_sec(apr_time_now() - when), records);
}
