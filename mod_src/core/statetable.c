/* The fixed table of short-lived records: linear probing over a window of
 * AFB_STATETABLE_PROBE slots from the key's place, no eviction of live records. A slot that
 * was never used ends a search; an expired one is free for a new record but does not end a
 * search (a record of the same key may lie beyond it). See authfb/statetable.h. */
#include <string.h>

#include "authfb/statetable.h"
#include "authfb/util.h"

typedef struct {
    unsigned char key[AFB_STATETABLE_KEY];
    int64_t expiry;               /* 0: never used */
    uint8_t len;
    unsigned char val[AFB_STATETABLE_VALUE + 1];
} afb_slot_t;

struct afb_statetable_t {
    uint32_t magic;
    uint32_t slots;
    uint64_t refused;
    afb_slot_t slot[];
};

#define AFB_STATETABLE_MAGIC 0x41464254u /* "AFBT", version 1 of the layout */

size_t afb_statetable_size(uint32_t slots)
{
    return sizeof(afb_statetable_t) + (size_t)slots * sizeof(afb_slot_t);
}

afb_statetable_t *afb_statetable_init(void *mem, uint32_t slots)
{
    afb_statetable_t *t = mem;
    if (!mem || !slots)
        return NULL;
    memset(mem, 0, afb_statetable_size(slots));
    t->magic = AFB_STATETABLE_MAGIC;
    t->slots = slots;
    return t;
}

static uint32_t home_slot(const afb_statetable_t *t, const unsigned char *key)
{
    uint32_t h = (uint32_t)afb_be64_get(key) ^ (uint32_t)(afb_be64_get(key) >> 32);
    return h % t->slots;
}

/* The slot holding `key` (live or expired), or NULL. */
static afb_slot_t *find(afb_statetable_t *t, const unsigned char *key)
{
    uint32_t i, at = home_slot(t, key);
    for (i = 0; i < AFB_STATETABLE_PROBE && i < t->slots; i++) {
        afb_slot_t *s = &t->slot[(at + i) % t->slots];
        if (s->expiry == 0)
            return NULL;
        if (!memcmp(s->key, key, AFB_STATETABLE_KEY))
            return s;
    }
    return NULL;
}

/* The first slot free for a new record (never used, or expired), or NULL. */
static afb_slot_t *find_free(afb_statetable_t *t, const unsigned char *key, apr_time_t now)
{
    uint32_t i, at = home_slot(t, key);
    for (i = 0; i < AFB_STATETABLE_PROBE && i < t->slots; i++) {
        afb_slot_t *s = &t->slot[(at + i) % t->slots];
        if (s->expiry == 0 || s->expiry <= now)
            return s;
    }
    return NULL;
}

afb_status_t afb_statetable_get(afb_statetable_t *t, const unsigned char key[AFB_STATETABLE_KEY],
                                apr_time_t now, unsigned char *val, size_t *len)
{
    afb_slot_t *s = t ? find(t, key) : NULL;
    if (!t)
        return AFB_EIO;
    if (!s || s->expiry <= now)
        return AFB_ENOENT;
    if (s->len > *len)
        return AFB_ETOOBIG;
    memcpy(val, s->val, s->len);
    *len = s->len;
    return AFB_OK;
}

afb_status_t afb_statetable_set(afb_statetable_t *t, const unsigned char key[AFB_STATETABLE_KEY],
                                const unsigned char *val, size_t len, apr_time_t expiry,
                                apr_time_t now)
{
    afb_slot_t *s;
    if (!t)
        return AFB_EIO;
    if (len > AFB_STATETABLE_VALUE)
        return AFB_ETOOBIG;
    s = find(t, key);
    if (!s)
        s = find_free(t, key, now);
    if (!s) {
        t->refused++;
        return AFB_ETOOBIG;
    }
    memcpy(s->key, key, AFB_STATETABLE_KEY);
    s->expiry = expiry > 0 ? expiry : 1; /* 0 means "never used" */
    s->len = (uint8_t)len;
    memcpy(s->val, val, len);
    return AFB_OK;
}

void afb_statetable_stats(const afb_statetable_t *t, apr_time_t now,
                          afb_statetable_stats_t *out)
{
    uint32_t i;
    memset(out, 0, sizeof(*out));
    if (!t)
        return;
    out->capacity = t->slots;
    out->refused = t->refused;
    for (i = 0; i < t->slots; i++)
        if (t->slot[i].expiry > now)
            out->live++;
}
