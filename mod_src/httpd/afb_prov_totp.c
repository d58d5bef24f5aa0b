/* The `totp` provider type: a second factor judged locally against a file of TOTP secrets
 * (include/authfb/totp.h), each code accepted once per user (the last accepted time step
 * is kept in AuthFallbackCache). Only people with a secret in the file can use it. */
#include <apr_strings.h>

#include "afb_provider.h"
#include "afb_cache.h"
#include "afb_filestore.h"
#include "authfb/totp.h"
#include "authfb/util.h"

APLOG_USE_MODULE(auth_fallback);

/* prov->runtime is the store (afb_filestore_t). */

static const char *afb_totp_parse(afb_store_copy_t *copy, void **data)
{
    afb_totp_store_t *ts = NULL;
    const char *err = NULL;
    if (afb_totp_store_parse(copy->p, copy->text, copy->len, &ts, &err) != AFB_OK)
        return err ? err : "invalid";
    afb_store_facts_set(&copy->facts, afb_totp_store_count(ts), afb_totp_store_skips(ts),
                        copy->facts.want_users ? afb_totp_store_users(ts, copy->p) : NULL);
    *data = ts;
    return NULL;
}

static afb_status_t afb_totp_probe_store(afb_provider_t *prov, apr_pool_t *p, const char **reason)
{
    void *ts = NULL;
    apr_finfo_t fi;
    return afb_filestore_probe(p, prov->runtime, &ts, &fi, reason);
}

static int afb_totp_enrolled(const afb_provider_t *prov, apr_pool_t *p, const char *user)
{
    afb_filestore_t *fs = prov->runtime;
    afb_store_gen_t *gen = afb_filestore_acquire(fs);
    const afb_totp_store_t *ts = afb_store_gen_data(gen);
    /* A store without a usable copy could take anyone: the person is not "not enrolled",
     * the provider is down. */
    int enrolled = !ts || afb_store_gen_find(fs, gen, p, user) != NULL;
    afb_filestore_release(fs, gen);
    return enrolled;
}

/* The replay record of one user: the last time step accepted. */
typedef struct {
    int64_t step;              /* the step of the code being accepted */
    const char *key;
    int replay;                /* out: this step or a later one was accepted before */
} afb_replay_t;

static afb_status_t afb_replay_check_and_set(afb_cache_t *c, void *baton)
{
    afb_replay_t *rp = baton;
    unsigned char buf[8];
    size_t len = sizeof(buf);
    afb_status_t st = c->get(c, rp->key, buf, &len, NULL);
    if (st != AFB_OK && st != AFB_ENOENT)
        return st;
    /* the last step accepted for this user, if the record is one */
    rp->replay = st == AFB_OK && len == 8 && rp->step <= (int64_t)afb_be64_get(buf);
    if (rp->replay)
        return AFB_OK;
    afb_be64_put(buf, (uint64_t)rp->step);
    return c->set(c, rp->key, buf, 8, apr_time_now() + apr_time_from_sec(AFB_TOTP_REPLAY_TTL),
                  NULL);
}

/* The code, then its time step against the last one accepted for this user. Without the
 * replay record the code is refused (AFB_ERR): the person may try again. */
static afb_status_t afb_totp_check(request_rec *r, afb_provider_t *prov, const char *user,
                                    const char *code, const char **who, const char **why)
{
    afb_filestore_t *fs = prov->runtime;
    afb_store_gen_t *gen = afb_filestore_acquire(fs);
    const afb_totp_store_t *ts = afb_store_gen_data(gen);
    const char *stored = ts ? afb_store_gen_find(fs, gen, r->pool, user) : NULL;
    const afb_totp_entry_t *e = stored ? afb_totp_store_find(ts, stored) : NULL;
    afb_replay_t rp = {0, NULL, 0};
    afb_status_t st = e ? afb_totp_verify(e, code, apr_time_now(), prov->conf.window, &rp.step)
                        : AFB_EMISMATCH;
    afb_filestore_release(fs, gen);
    *who = NULL;
    *why = NULL;
    if (st != AFB_OK)
        return st;
    rp.key = afb_cache_user_key(r, apr_pstrcat(r->pool, "totp:", prov->conf.name, ":", NULL),
                                user);
    if (!rp.key || afb_cache_locked(r, afb_replay_check_and_set, &rp) != AFB_OK)
        return AFB_ERR;
    return rp.replay ? AFB_EREPLAY : AFB_OK;
}

const afb_provider_ops_t afb_prov_totp = {
    .type = "totp", .roles = AFB_ROLE_SECOND,
    .store = afb_totp_parse, .configure = afb_provider_store_configure,
    .child_init = afb_provider_store_child_init,
    .probe = afb_totp_probe_store, .ready = afb_provider_store_ready,
    .enrolled = afb_totp_enrolled, .credential = "a TOTP secret", .verify = afb_totp_check,
};
