/* The core's afb_cache_t (AuthFallbackCache): on one server (`shmcb`, the default) the
 * module's own fixed table in shared memory, which refuses new records when full instead of
 * dropping live ones (authfb/statetable.h); across nodes httpd's redis or memcache socache
 * providers, which must be run without eviction (docs/operations.md). In the shape of
 * mod_authn_socache: mutex registered in pre_config, created in post_config, re-attached in
 * child_init. A miss is AFB_ENOENT; a full table AFB_ETOOBIG; any other failure AFB_EIO.
 * Every refused or failed store is counted for the status page. */
#include <apr_atomic.h>
#include <apr_shm.h>
#include <apr_strings.h>
#include <ap_provider.h>
#include <http_core.h>
#include <util_mutex.h>

#include "afb_cache.h"
#include "authfb/statetable.h"
#include "authfb/util.h"

APLOG_USE_MODULE(auth_fallback);

#define AFB_MUTEX_TYPE "authfb-cache"

/* Shared memory: the refusal counter, then (for the own table) the table. */
typedef struct afb_cache_shm_t {
    volatile apr_uint32_t refused;   /* stores refused or failed (socache backends) */
    apr_uint32_t pad;
} afb_cache_shm_t;


/* `shmcb` or `shmcb:ENTRIES`: the module's own table (it keeps httpd's provider name so
 * existing configurations keep working, but never evicts). */
static const char *afb_table_configure(afb_module_t *conf, const char *arg,
                                       apr_pool_t *ptemp)
{
    long n = AFB_TABLE_DEFAULT_SLOTS;
    if (arg && afb_parse_uint(arg, AFB_TABLE_MAX_SLOTS, &n) != AFB_OK)
        return apr_psprintf(ptemp, "shmcb:%s: give the number of entries (1024 to %u), e.g. "
                            "shmcb:65536", arg, AFB_TABLE_MAX_SLOTS);
    if (n < (long)AFB_TABLE_MIN_SLOTS)
        return "shmcb: at least 1024 entries";
    conf->cache_prov = NULL;
    conf->cache_slots = (unsigned)n;
    return NULL;
}

typedef struct {
    afb_cache_t base;
    request_rec *r;
    int locked;            /* the caller holds the mutex already */
} afb_req_cache_t;

static const char *afb_cache_missing(apr_pool_t *ptemp, const char *name)
{
    return apr_psprintf(ptemp, "unknown socache provider '%s' (is mod_socache_%s loaded?)",
                        name, name);
}

/* The one message for a cache that cannot be set up, at configtest and at a start. */
static int afb_cache_refuse(server_rec *s, const char *err)
{
    ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, s, "AFB00005: AuthFallbackCache: %s",
                 err);
    return !OK;
}

int afb_cache_check(const afb_module_t *conf, apr_pool_t *ptemp, server_rec *s)
{
    const char *spec = conf->cache_spec, *colon;
    const char *name;
    if (conf->cache_prov || conf->cache_slots || !spec)
        return OK;
    colon = strchr(spec, ':');
    name = colon ? apr_pstrndup(ptemp, spec, (apr_size_t)(colon - spec)) : spec;
    if (strcmp(name, "shmcb") && !ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, name, AP_SOCACHE_PROVIDER_VERSION))
        return afb_cache_refuse(s, afb_cache_missing(ptemp, name));
    return OK;
}

static const char *afb_cache_configure(afb_module_t *conf, const char *spec,
                                       apr_pool_t *ptemp, apr_pool_t *pconf)
{
    const char *colon = strchr(spec, ':');
    const char *name = colon ? apr_pstrndup(ptemp, spec, (apr_size_t)(colon - spec)) : spec;
    const char *arg = colon ? colon + 1 : NULL;
    const char *err;
    conf->cache_spec = spec;
    if (!strcmp(name, "shmcb"))
        return afb_table_configure(conf, arg, ptemp);
    conf->cache_slots = 0;
    conf->cache_prov = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, name,
                                          AP_SOCACHE_PROVIDER_VERSION);
    if (!conf->cache_prov)
        return afb_cache_missing(ptemp, name);
    err = conf->cache_prov->create(&conf->cache_inst, arg, ptemp, pconf);
    if (err)
        return apr_psprintf(ptemp, "socache %s: %s", name, err);
    conf->cache_spec = spec;
    return NULL;
}

const char *afb_cmd_cache(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err;
    afb_module_t *mod = afb_cmd_global(cmd, dc, &err);
    if (mod && (err = afb_cache_configure(mod, arg, cmd->temp_pool, cmd->pool)))
        return afb_cmd_err(cmd, "%s", err);
    return mod ? NULL : err;
}

int afb_cache_pre_config(apr_pool_t *pconf)
{
    return ap_mutex_register(pconf, AFB_MUTEX_TYPE, NULL, APR_LOCK_DEFAULT, 0);
}

static apr_status_t afb_cache_destroy(void *data)
{
    afb_module_t *conf = data;
    conf->cache_shm = NULL;
    conf->cache_table = NULL;
    if (conf->cache_prov && conf->cache_inst)
        conf->cache_prov->destroy(conf->cache_inst, conf->main_server);
    conf->cache_inst = NULL;
    return APR_SUCCESS;
}

/* The counter, and the own table when there is no socache backend: anonymous shared memory
 * made before the children fork, so each of them sees the same. A restart starts empty. */
static int afb_cache_shm_create(afb_module_t *conf, apr_pool_t *pconf, server_rec *s)
{
    apr_size_t head = APR_ALIGN_DEFAULT(sizeof(afb_cache_shm_t));
    apr_size_t size = head + (conf->cache_slots ? afb_statetable_size(conf->cache_slots) : 0);
    apr_shm_t *shm;
    apr_status_t rv = apr_shm_create(&shm, size, NULL, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, "AFB01150: AuthFallbackCache: cannot "
                     "create %" APR_SIZE_T_FMT " bytes of shared memory", size);
        return !OK;
    }
    conf->cache_shm = apr_shm_baseaddr_get(shm);
    memset(conf->cache_shm, 0, head);
    conf->cache_table = conf->cache_slots
        ? afb_statetable_init((char *)conf->cache_shm + head, conf->cache_slots) : NULL;
    return OK;
}

int afb_cache_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s)
{
    afb_module_t *conf = afb_module(s);
    struct ap_socache_hints hints = {64, 32, apr_time_from_sec(60)};
    apr_status_t rv;
    const char *err;
    if (!afb_module_active(conf))
        return OK;
    if (!conf->cache_prov && !conf->cache_slots &&
        (err = afb_cache_configure(conf, conf->cache_spec, ptemp, pconf)))
        return afb_cache_refuse(s, err);
    rv = ap_global_mutex_create(&conf->cache_mutex, &conf->cache_lockfile, AFB_MUTEX_TYPE,
                                NULL, s, pconf, 0);
    if (rv != APR_SUCCESS)
        return !OK;
    if (afb_cache_shm_create(conf, pconf, s) != OK)
        return !OK;
    conf->main_server = s;
    apr_pool_cleanup_register(pconf, conf, afb_cache_destroy, apr_pool_cleanup_null);
    if (!conf->cache_prov)
        return OK;
    rv = conf->cache_prov->init(conf->cache_inst, "auth_fallback", &hints, s, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s,
                     "AFB00006: AuthFallbackCache: cannot initialise %s", conf->cache_spec);
        return !OK;
    }
    return OK;
}

void afb_cache_child_init(apr_pool_t *pchild, server_rec *s)
{
    afb_module_t *conf = afb_module(s);
    if (conf->cache_mutex &&
        apr_global_mutex_child_init(&conf->cache_mutex, conf->cache_lockfile,
                                    pchild) != APR_SUCCESS)
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                     "AFB00007: cannot re-attach the cache mutex in this child");
}

static int afb_cache_needs_lock(const afb_module_t *conf)
{
    return !conf->cache_prov || (conf->cache_prov->flags & AP_SOCACHE_FLAG_NOTMPSAFE);
}

/* Keys reach the table as a MAC under the cookie key: fixed-size, and nobody outside can
 * choose where in the table they land. */
static afb_status_t afb_table_key(const afb_module_t *conf, const char *key,
                                  unsigned char digest[AFB_STATETABLE_KEY])
{
    unsigned char mac[32];
    if (afb_keyring_mac(conf->keyring, key, strlen(key), mac) != AFB_OK)
        return AFB_ERR;
    memcpy(digest, mac, AFB_STATETABLE_KEY);
    return AFB_OK;
}

static void afb_cache_count_refusal(afb_module_t *conf)
{
    if (conf->cache_shm)
        apr_atomic_inc32(&conf->cache_shm->refused);
}

void afb_cache_stats(afb_module_t *conf, afb_cache_stats_t *out)
{
    afb_statetable_stats_t st;
    memset(out, 0, sizeof(*out));
    if (conf->cache_shm)
        out->refused = apr_atomic_read32(&conf->cache_shm->refused);
    if (!conf->cache_table || apr_global_mutex_lock(conf->cache_mutex) != APR_SUCCESS)
        return;
    afb_statetable_stats(conf->cache_table, apr_time_now(), &st);
    apr_global_mutex_unlock(conf->cache_mutex);
    out->capacity = st.capacity;
    out->live = st.live;
}

static afb_status_t afb_table_get(afb_module_t *conf, const char *key, unsigned char *val,
                                  size_t *len)
{
    unsigned char digest[AFB_STATETABLE_KEY];
    if (afb_table_key(conf, key, digest) != AFB_OK)
        return AFB_EIO;
    return afb_statetable_get(conf->cache_table, digest, apr_time_now(), val, len);
}

static afb_status_t afb_table_set(afb_module_t *conf, const char *key,
                                  const unsigned char *val, size_t len, apr_time_t expiry)
{
    unsigned char digest[AFB_STATETABLE_KEY];
    if (afb_table_key(conf, key, digest) != AFB_OK)
        return AFB_EIO;
    return afb_statetable_set(conf->cache_table, digest, val, len, expiry, apr_time_now());
}

static afb_status_t afb_cache_get(afb_cache_t *c, const char *key, unsigned char *val,
                                  size_t *len, apr_pool_t *p)
{
    afb_req_cache_t *rc = (afb_req_cache_t *)c;
    afb_module_t *conf = afb_module(rc->r->server);
    unsigned int n = (unsigned int)*len;
    int lock = !rc->locked && afb_cache_needs_lock(conf);
    apr_status_t rv;
    if (!p)
        p = rc->r->pool; /* providers such as redis allocate from it */
    if (lock && apr_global_mutex_lock(conf->cache_mutex) != APR_SUCCESS)
        return AFB_EIO;
    if (!conf->cache_prov) {
        afb_status_t st = afb_table_get(conf, key, val, len);
        if (lock)
            apr_global_mutex_unlock(conf->cache_mutex);
        return st;
    }
    rv = conf->cache_prov->retrieve(conf->cache_inst, rc->r->server, (const unsigned char *)key,
                                    (unsigned int)strlen(key), val, &n, p);
    if (lock)
        apr_global_mutex_unlock(conf->cache_mutex);
    if (rv == APR_NOTFOUND)
        return AFB_ENOENT;
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, rc->r,
                      "AFB00008: AuthFallbackCache %s: lookup failed", conf->cache_spec);
        if (conf->cache_failed)
            conf->cache_failed(conf, "lookup");
        return AFB_EIO;
    }
    *len = n;
    return AFB_OK;
}

static afb_status_t afb_cache_set(afb_cache_t *c, const char *key, const unsigned char *val,
                                  size_t len, apr_time_t expiry, apr_pool_t *p)
{
    afb_req_cache_t *rc = (afb_req_cache_t *)c;
    afb_module_t *conf = afb_module(rc->r->server);
    int lock = !rc->locked && afb_cache_needs_lock(conf);
    apr_status_t rv;
    if (!p)
        p = rc->r->pool;
    if (lock && apr_global_mutex_lock(conf->cache_mutex) != APR_SUCCESS)
        return AFB_EIO;
    if (!conf->cache_prov) {
        afb_status_t st = afb_table_set(conf, key, val, len, expiry);
        if (lock)
            apr_global_mutex_unlock(conf->cache_mutex);
        if (st == AFB_ETOOBIG)
            afb_cache_count_refusal(conf);
        return st;
    }
    rv = conf->cache_prov->store(conf->cache_inst, rc->r->server, (const unsigned char *)key,
                                 (unsigned int)strlen(key), expiry, (unsigned char *)val,
                                 (unsigned int)len, p);
    if (lock)
        apr_global_mutex_unlock(conf->cache_mutex);
    if (rv != APR_SUCCESS) {
        afb_cache_count_refusal(conf);
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, rc->r,
                      "AFB00009: AuthFallbackCache %s: store failed", conf->cache_spec);
        if (conf->cache_failed)
            conf->cache_failed(conf, "store");
        return AFB_EIO;
    }
    return AFB_OK;
}

/* One step of the probe under the cache lock when the provider needs it. */
static apr_status_t afb_probe_step(afb_module_t *conf, server_rec *s, int step,
                                   const char *key, unsigned char *val, unsigned int *len,
                                   apr_pool_t *p)
{
    int lock = afb_cache_needs_lock(conf) && conf->cache_mutex;
    const unsigned char *k = (const unsigned char *)key;
    unsigned int klen = (unsigned int)strlen(key);
    apr_status_t rv;
    if (lock && apr_global_mutex_lock(conf->cache_mutex) != APR_SUCCESS)
        return APR_EGENERAL;
    if (step == 0)
        rv = conf->cache_prov->store(conf->cache_inst, s, k, klen,
                                     apr_time_now() + apr_time_from_sec(30), val, *len, p);
    else if (step == 1)
        rv = conf->cache_prov->retrieve(conf->cache_inst, s, k, klen, val, len, p);
    else
        rv = conf->cache_prov->remove(conf->cache_inst, s, k, klen, p);
    if (lock)
        apr_global_mutex_unlock(conf->cache_mutex);
    return rv;
}

afb_status_t afb_cache_probe(apr_pool_t *p, server_rec *s, apr_interval_time_t deadline,
                             const char **reason)
{
    static const char *const steps[] = {"set", "get", "delete"};
    afb_module_t *conf = afb_module(s);
    apr_time_t start = apr_time_now();
    unsigned char want[16], got[16];
    const char *key;
    unsigned int len = sizeof(want);
    apr_status_t rv = APR_SUCCESS;
    int step;
    char ebuf[96];
    if (conf && !conf->cache_prov && conf->cache_slots) { /* the own table: memory, no I/O */
        *reason = conf->cache_table ? NULL : "not initialised";
        return conf->cache_table ? AFB_OK : AFB_EIO;
    }
    if (!conf || !conf->cache_inst) {
        *reason = "not initialised";
        return AFB_EIO;
    }
    apr_generate_random_bytes(want, sizeof(want));
    /* A key of its own on every node and at every probe: nodes share a Redis. */
    key = apr_psprintf(p, "afb:probe:%02x%02x%02x%02x%02x%02x%02x%02x", want[0], want[1],
                       want[2], want[3], want[4], want[5], want[6], want[7]);
    memcpy(got, want, sizeof(got));
    for (step = 0; step < 3 && rv == APR_SUCCESS; step++) {
        if (step == 1)
            memset(got, 0, sizeof(got));
        rv = afb_probe_step(conf, s, step, key, step == 1 ? got : want, &len, p);
        if (rv == APR_SUCCESS && step == 1 && (len != sizeof(want) ||
                                               memcmp(got, want, sizeof(want)))) {
            *reason = "get returned another value than was set";
            return AFB_EINVAL;
        }
        if (rv != APR_SUCCESS)
            *reason = apr_psprintf(p, "%s failed: %s", steps[step],
                                   apr_strerror(rv, ebuf, sizeof(ebuf)));
    }
    if (rv != APR_SUCCESS)
        return AFB_EIO;
    if (apr_time_now() - start > deadline) {
        *reason = apr_psprintf(p, "set/get/delete took %ld ms, over the %ld ms deadline",
                               (long)apr_time_msec(apr_time_now() - start),
                               (long)apr_time_msec(deadline));
        return AFB_ETIMEOUT;
    }
    return AFB_OK;
}

afb_cache_t *afb_cache_for(request_rec *r)
{
    afb_req_cache_t *rc = apr_pcalloc(r->pool, sizeof(*rc));
    rc->base.get = afb_cache_get;
    rc->base.set = afb_cache_set;
    rc->base.baton = rc;
    rc->r = r;
    return &rc->base;
}

afb_status_t afb_cache_locked(request_rec *r, afb_status_t (*fn)(afb_cache_t *c, void *baton),
                              void *baton)
{
    afb_req_cache_t *rc = (afb_req_cache_t *)afb_cache_for(r);
    afb_module_t *conf = afb_module(r->server);
    afb_status_t st;
    if (apr_global_mutex_lock(conf->cache_mutex) != APR_SUCCESS)
        return AFB_EIO;
    rc->locked = 1;
    st = fn(&rc->base, baton);
    apr_global_mutex_unlock(conf->cache_mutex);
    return st;
}

typedef struct {
    const char *key;
    apr_interval_time_t ttl;
    int used;
} afb_once_t;

static afb_status_t afb_once_check(afb_cache_t *c, void *baton)
{
    afb_once_t *o = baton;
    unsigned char v[1] = {1};
    size_t len = sizeof(v);
    afb_status_t st = c->get(c, o->key, v, &len, NULL);
    if (st == AFB_OK) {
        o->used = 1;
        return AFB_OK;
    }
    if (st != AFB_ENOENT)
        return st;
    return c->set(c, o->key, v, 1, apr_time_now() + o->ttl, NULL);
}

afb_status_t afb_cache_once(request_rec *r, const char *key, apr_interval_time_t ttl, int *used)
{
    afb_once_t o = {key, ttl, 0};
    afb_status_t st = afb_cache_locked(r, afb_once_check, &o);
    *used = o.used;
    return st;
}

/* Cache keys that hold a user name hold its MAC under the first crypto key instead. */
const char *afb_cache_user_key(request_rec *r, const char *prefix, const char *user)
{
    unsigned char mac[32];
    if (afb_keyring_mac(afb_module(r->server)->keyring, user, strlen(user), mac) != AFB_OK)
        return NULL;
    return apr_pstrcat(r->pool, prefix, afb_b64url_encode(r->pool, mac, 16), NULL);
}
