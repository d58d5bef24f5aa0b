/* In-memory afb_cache_t over an apr_hash_t, with a fake clock and a failing mode. */
#include "fake_cache.h"

#include <string.h>
#include <apr_hash.h>
#include <apr_strings.h>

typedef struct {
    unsigned char val[AFB_CACHE_MAX_VALUE];
    size_t len;
    apr_time_t expiry;
} fake_entry_t;

typedef struct {
    afb_cache_t base;
    apr_pool_t *pool;
    apr_hash_t *entries;
    apr_time_t now;
    int fail_get;
    int fail_set;
    unsigned sets;
} fake_cache_t;

static fake_cache_t *fake_of(afb_cache_t *c)
{
    return c->baton;
}

static int key_ok(const char *key)
{
    return key != NULL && *key != '\0' && strlen(key) <= AFB_CACHE_MAX_KEY;
}

static afb_status_t fake_get(afb_cache_t *c, const char *key, unsigned char *val,
                             size_t *len, apr_pool_t *p)
{
    fake_cache_t *f = fake_of(c);
    fake_entry_t *e;

    (void)p;
    if (f->fail_get)
        return AFB_EIO;
    if (!key_ok(key))
        return AFB_EINVAL;
    e = apr_hash_get(f->entries, key, APR_HASH_KEY_STRING);
    if (e == NULL || f->now >= e->expiry)
        return AFB_ENOENT;
    if (e->len > *len)
        return AFB_ETOOBIG;
    memcpy(val, e->val, e->len);
    *len = e->len;
    return AFB_OK;
}

static afb_status_t fake_set(afb_cache_t *c, const char *key, const unsigned char *val,
                             size_t len, apr_time_t expiry, apr_pool_t *p)
{
    fake_cache_t *f = fake_of(c);
    fake_entry_t *e;

    (void)p;
    if (f->fail_set)
        return AFB_EIO;
    if (!key_ok(key))
        return AFB_EINVAL;
    if (len > AFB_CACHE_MAX_VALUE)
        return AFB_ETOOBIG;
    e = apr_hash_get(f->entries, key, APR_HASH_KEY_STRING);
    if (e == NULL) {
        e = apr_pcalloc(f->pool, sizeof(*e));
        apr_hash_set(f->entries, apr_pstrdup(f->pool, key), APR_HASH_KEY_STRING, e);
    }
    memcpy(e->val, val, len);
    e->len = len;
    e->expiry = expiry;
    f->sets++;
    return AFB_OK;
}

afb_cache_t *afb_fake_cache_new(apr_pool_t *p)
{
    fake_cache_t *f = apr_pcalloc(p, sizeof(*f));

    f->pool = p;
    f->entries = apr_hash_make(p);
    f->base.baton = f;
    f->base.get = fake_get;
    f->base.set = fake_set;
    return &f->base;
}

void afb_fake_cache_set_now(afb_cache_t *c, apr_time_t now)
{
    fake_of(c)->now = now;
}

void afb_fake_cache_set_failing(afb_cache_t *c, int on)
{
    afb_fake_cache_set_failing_ops(c, on, on);
}

void afb_fake_cache_set_failing_ops(afb_cache_t *c, int fail_get, int fail_set)
{
    fake_of(c)->fail_get = fail_get != 0;
    fake_of(c)->fail_set = fail_set != 0;
}

unsigned afb_fake_cache_count(afb_cache_t *c)
{
    fake_cache_t *f = fake_of(c);
    apr_hash_index_t *hi;
    unsigned n = 0;

    for (hi = apr_hash_first(NULL, f->entries); hi != NULL; hi = apr_hash_next(hi)) {
        const fake_entry_t *e = apr_hash_this_val(hi);
        if (f->now < e->expiry)
            n++;
    }
    return n;
}

unsigned afb_fake_cache_sets(afb_cache_t *c)
{
    return fake_of(c)->sets;
}
