/* Failed-attempt throttling: a fixed-window counter per key. A window starts with the
 * first failure after the previous window ended; while failures >= max_failures and the
 * window has not ended, the key is blocked. Records live in the shared cache and expire
 * with their window. */
#include <arpa/inet.h>
#include <string.h>

#include <apr_strings.h>

#include "authfb/throttle.h"
#include "authfb/util.h"

#define AFB_THROTTLE_WIRE_LEN 12
/* Window starts beyond this (year ~2262 is INT64_MAX µs) come from a damaged or hostile
 * cache entry; they are refused so the window arithmetic cannot overflow. */
#define AFB_THROTTLE_MAX_START (INT64_MAX / 4)

static int window_open(const afb_throttle_rec_t *r, const afb_throttle_policy_t *pol,
                       apr_time_t now)
{
    if (r->failures == 0 || now < r->window_start || r->window_start < 0 ||
        r->window_start > AFB_THROTTLE_MAX_START)
        return 0;
    return now - r->window_start < pol->window;
}

int afb_throttle_blocked(const afb_throttle_rec_t *r, const afb_throttle_policy_t *pol,
                         apr_time_t now)
{
    /* max_failures == 0 disables throttling rather than blocking everyone. */
    if (pol->max_failures == 0)
        return 0;
    return window_open(r, pol, now) && r->failures >= pol->max_failures;
}

void afb_throttle_add_failure(afb_throttle_rec_t *r, const afb_throttle_policy_t *pol,
                              apr_time_t now)
{
    if (!window_open(r, pol, now)) {
        r->failures = 1;
        r->window_start = now;
        return;
    }
    if (r->failures < UINT32_MAX)
        r->failures++;
}

long afb_throttle_retry_after(const afb_throttle_rec_t *r, const afb_throttle_policy_t *pol,
                              apr_time_t now)
{
    apr_interval_time_t left;
    long secs;

    if (r->window_start < 0 || r->window_start > AFB_THROTTLE_MAX_START || pol->window < 0 ||
        pol->window > AFB_THROTTLE_MAX_START || now < 0)
        return 1;
    left = r->window_start + pol->window - now;
    if (left <= 0)
        return 1;
    secs = (long)((left + APR_USEC_PER_SEC - 1) / APR_USEC_PER_SEC);
    return secs < 1 ? 1 : secs;
}

void afb_throttle_encode(const afb_throttle_rec_t *r, unsigned char out[12])
{
    uint64_t ws = (uint64_t)r->window_start;
    int i;

    for (i = 0; i < 4; i++)
        out[i] = (unsigned char)(r->failures >> (24 - 8 * i));
    afb_be64_put(out + 4, ws);
}

afb_status_t afb_throttle_decode(const unsigned char *in, size_t len, afb_throttle_rec_t *r)
{
    uint32_t failures = 0;
    uint64_t ws = 0;
    int i;

    if (in == NULL || len != AFB_THROTTLE_WIRE_LEN)
        return AFB_EINVAL;
    for (i = 0; i < 4; i++)
        failures = (failures << 8) | in[i];
    ws = afb_be64_get(in + 4);
    if (ws > (uint64_t)AFB_THROTTLE_MAX_START)
        return AFB_EINVAL;
    r->failures = failures;
    r->window_start = (int64_t)ws;
    return AFB_OK;
}

/* Reads the record for key. A miss, or a record in a form this version does not know
 * (the form is versioned by its length), is a fresh record; a backend failure is AFB_EIO. */
static afb_status_t throttle_load(afb_cache_t *c, apr_pool_t *p, const char *key,
                                  afb_throttle_rec_t *r)
{
    unsigned char buf[AFB_CACHE_MAX_VALUE];
    size_t len = sizeof(buf);
    afb_status_t st;

    r->failures = 0;
    r->window_start = 0;
    st = c->get(c, key, buf, &len, p);
    if (st == AFB_ENOENT)
        return AFB_OK;
    if (st != AFB_OK)
        return AFB_EIO;
    if (afb_throttle_decode(buf, len, r) != AFB_OK) {
        r->failures = 0;
        r->window_start = 0;
    }
    return AFB_OK;
}

afb_status_t afb_throttle_check(afb_cache_t *c, apr_pool_t *p, const char *key,
                                const afb_throttle_policy_t *pol, apr_time_t now,
                                int *blocked, long *retry_after)
{
    afb_throttle_rec_t r;
    afb_status_t st;

    *blocked = 0;
    *retry_after = 0;
    st = throttle_load(c, p, key, &r);
    if (st != AFB_OK)
        return st;
    if (afb_throttle_blocked(&r, pol, now)) {
        *blocked = 1;
        *retry_after = afb_throttle_retry_after(&r, pol, now);
    }
    return AFB_OK;
}

afb_status_t afb_throttle_fail(afb_cache_t *c, apr_pool_t *p, const char *key,
                               const afb_throttle_policy_t *pol, apr_time_t now)
{
    unsigned char wire[AFB_THROTTLE_WIRE_LEN];
    afb_throttle_rec_t r;
    afb_status_t st;

    st = throttle_load(c, p, key, &r);
    if (st != AFB_OK)
        return st;
    afb_throttle_add_failure(&r, pol, now);
    afb_throttle_encode(&r, wire);
    st = c->set(c, key, wire, sizeof(wire), r.window_start + pol->window, p);
    return st == AFB_OK ? AFB_OK : AFB_EIO;
}

afb_status_t afb_throttle_refund(afb_cache_t *c, apr_pool_t *p, const char *key,
                                 const afb_throttle_policy_t *pol, apr_time_t now)
{
    unsigned char wire[AFB_THROTTLE_WIRE_LEN];
    afb_throttle_rec_t r;
    afb_status_t st = throttle_load(c, p, key, &r);

    if (st != AFB_OK)
        return st;
    if (!window_open(&r, pol, now) || r.failures == 0)
        return AFB_OK;
    r.failures--;
    afb_throttle_encode(&r, wire);
    st = c->set(c, key, wire, sizeof(wire), r.window_start + pol->window, p);
    return st == AFB_OK ? AFB_OK : AFB_EIO;
}

/* Clear every bit of addr[0..len) after the first `bits`. */
static void mask_bits(unsigned char *addr, size_t len, int bits)
{
    size_t i;
    for (i = 0; i < len; i++) {
        int keep = bits - (int)(i * 8);
        if (keep >= 8)
            continue;
        addr[i] &= keep <= 0 ? 0 : (unsigned char)(0xFFu << (8 - keep));
    }
}

static int clamp(int v, int max)
{
    return v < 0 ? 0 : v > max ? max : v;
}

const char *afb_throttle_client_net(apr_pool_t *p, const char *ip, int v4_prefix,
                                    int v6_prefix)
{
    static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    unsigned char a[16];
    char out[INET6_ADDRSTRLEN];
    int family = AF_INET6, bits;
    if (ip == NULL)
        return "";
    if (inet_pton(AF_INET, ip, a) == 1)
        family = AF_INET;
    else if (inet_pton(AF_INET6, ip, a) != 1)
        return ip;
    else if (memcmp(a, v4mapped, sizeof(v4mapped)) == 0) {
        memmove(a, a + 12, 4);
        family = AF_INET;
    }
    bits = family == AF_INET ? clamp(v4_prefix, 32) : clamp(v6_prefix, 128);
    mask_bits(a, family == AF_INET ? 4 : 16, bits);
    if (inet_ntop(family, a, out, sizeof(out)) == NULL)
        return ip;
    return apr_psprintf(p, "%s/%d", out, bits);
}
