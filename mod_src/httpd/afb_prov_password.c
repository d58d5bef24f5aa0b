/* The `password` provider type: a first factor judged against a synchronized file of
 * password hashes (include/authfb/pwstore.h), given in the module's own form (/login). The
 * location's MFA chain follows it. */
#include <apr_strings.h>

#include "afb_provider.h"
#include "afb_filestore.h"
#include "afb_vgate.h"
#include "authfb/log.h"
#include "authfb/pwstore.h"

APLOG_USE_MODULE(auth_fallback);

/* prov->runtime is the store (afb_filestore_t). */

static const char *afb_password_parse(afb_store_copy_t *copy, void **data)
{
    const char *err = NULL, *name = copy->name, *path = copy->path;
    afb_pwstore_t *ps = NULL;
    int weak = 0;
    if (afb_pwstore_parse(copy->p, copy->text, copy->len, &ps, &weak, &err) != AFB_OK)
        return err ? err : "invalid";
    if (name && afb_pwstore_refused_nt(ps))
        afb_log(AFB_LOG_WARN, 1270, "provider %s: %d lines of %s hold a raw NT hash, which "
                "is a password equivalent: skipped; store NT hashes as $nt-pbkdf2-sha256$ "
                "(afb-phs-sync)", name, afb_pwstore_refused_nt(ps), path);
    if (name && weak)
        afb_log(AFB_LOG_WARN, 2, "provider %s: %d entries of %s use weak APR hashes "
                "($apr1$ or {SHA}); re-sync them as yescrypt, bcrypt or PBKDF2",
                name, weak, path);
    afb_store_facts_set(&copy->facts, afb_pwstore_count(ps), afb_pwstore_skips(ps),
                        copy->facts.want_users ? afb_pwstore_users(ps, copy->p) : NULL);
    *data = ps;
    return NULL;
}

/* The file as it is now: readable, parsable, NT hashes usable, and not older than max_age
 * (the sync job touches it on every run). */
static afb_status_t afb_password_probe(afb_provider_t *prov, apr_pool_t *p,
                                       const char **reason)
{
    afb_pwstore_t *ps = NULL;
    apr_finfo_t fi;
    const char *why = NULL;
    afb_status_t st = afb_filestore_probe(p, prov->runtime, (void **)&ps, &fi, reason);
    if (st != AFB_OK)
        return st;
    if (afb_pwstore_count_nt(ps) > 0 && !afb_nthash_available(&why)) {
        *reason = apr_pstrcat(p, "MD4 unavailable for NT-derived hashes: ", why, NULL);
        return AFB_EIO;
    }
    if (prov->conf.max_age > 0 && apr_time_now() - fi.mtime > prov->conf.max_age) {
        *reason = apr_psprintf(p, "stale: last written %" APR_TIME_T_FMT " s ago (max_age %"
                               APR_TIME_T_FMT ")", apr_time_sec(apr_time_now() - fi.mtime),
                               apr_time_sec(prov->conf.max_age));
        return AFB_EEXPIRED;
    }
    return AFB_OK;
}

typedef struct {
    const afb_pwstore_t *store;
    apr_pool_t *pool;
    const char *user, *password;
} afb_pw_job_t;

static afb_status_t afb_pw_job(void *baton)
{
    afb_pw_job_t *job = baton;
    return afb_pwstore_verify(job->store, job->pool, job->user, job->password);
}

/* A hash for this person in the copy in use (no usable copy: the path is down anyway). */
static int afb_password_enrolled(const afb_provider_t *prov, apr_pool_t *p, const char *user)
{
    afb_filestore_t *fs = prov->runtime;
    afb_store_gen_t *gen = afb_filestore_acquire(fs);
    int enrolled = !afb_store_gen_data(gen) || afb_store_gen_find(fs, gen, p, user) != NULL;
    afb_filestore_release(fs, gen);
    return enrolled;
}

/* Verify against the store entry whose name has this key (docs/directives.md, "Name rules");
 * *who is the store's spelling of the name. An unknown key costs the same work. */
static afb_status_t afb_password_verify(request_rec *r, afb_provider_t *prov, const char *key,
                                        const char *password, const char **who,
                                        const char **why)
{
    afb_filestore_t *fs = prov->runtime;
    afb_store_gen_t *gen = afb_filestore_acquire(fs);
    const char *name;
    afb_pw_job_t job;
    afb_status_t st;
    job.store = afb_store_gen_data(gen);
    name = key && job.store ? afb_store_gen_name(gen, key) : NULL;
    *who = name ? apr_pstrdup(r->pool, name) : NULL;
    *why = NULL;
    job.pool = r->pool;
    job.user = name ? name : ""; /* "" is never a store name: the unknown user's dummy work */
    job.password = password;
    /* a slow hash: one per core at once; no usable copy: the path is down */
    st = job.store ? afb_vgate_verify(r, afb_pw_job, &job) : AFB_ERR;
    afb_filestore_release(fs, gen);
    return st;
}

const afb_provider_ops_t afb_prov_password = {
    .type = "password", .roles = AFB_ROLE_FIRST | AFB_ROLE_WANTS_MFA,
    .store = afb_password_parse, .configure = afb_provider_store_configure,
    .child_init = afb_provider_store_child_init,
    .probe = afb_password_probe, .ready = afb_provider_store_ready,
    .enrolled = afb_password_enrolled, .credential = "a hash",
    .form = "login", .verify = afb_password_verify, .max_secret = AFB_PW_MAX_PASSWORD,
};
