/* Health records and the shared health table: the probe state machine (fall/rise
 * hysteresis), probe scheduling with a deterministic jitter, passive evidence, operator
 * overrides, and the layout of the table kept in shared memory. See authfb/health.h. */
#include <string.h>
#include <apr_strings.h>

#include "authfb/health.h"

#define SEC ((apr_interval_time_t)APR_USEC_PER_SEC)
#define DEFAULT_INTERVAL (3 * SEC)
#define DEFAULT_TIMEOUT (2 * SEC)
#define DEFAULT_FALL 2
#define DEFAULT_RISE 2
#define FAST_REPROBE SEC

/* The shared layout must not drift silently: a change here means AFB_HEALTH_VERSION++. */
_Static_assert(sizeof(afb_health_rec_t) == 760, "health record layout changed: bump version");
_Static_assert(sizeof(afb_health_table_t) == 192, "health table header changed: bump version");

const char *afb_health_state_name(afb_health_state_t s)
{
    switch (s) {
    case AFB_HEALTH_UP:
        return "UP";
    case AFB_HEALTH_DOWN:
        return "DOWN";
    default:
        return "UNKNOWN";
    }
}

const char *afb_health_override_name(afb_override_t o)
{
    switch (o) {
    case AFB_OVERRIDE_UP:
        return "up";
    case AFB_OVERRIDE_DOWN:
        return "down";
    default:
        return "auto";
    }
}

void afb_health_cfg_default(afb_health_cfg_t *cfg)
{
    cfg->interval = DEFAULT_INTERVAL;
    cfg->timeout = DEFAULT_TIMEOUT;
    cfg->fall = DEFAULT_FALL;
    cfg->rise = DEFAULT_RISE;
}

void afb_health_cfg_from_provider(afb_health_cfg_t *cfg, const afb_provider_conf_t *pc)
{
    afb_health_cfg_default(cfg);
    if (pc->interval > 0)
        cfg->interval = pc->interval;
    if (pc->timeout > 0)
        cfg->timeout = pc->timeout;
    if (pc->fall > 0)
        cfg->fall = pc->fall;
    if (pc->rise > 0)
        cfg->rise = pc->rise;
}

/* A usable copy of cfg: missing or out-of-range values take the defaults. */
static afb_health_cfg_t cfg_sane(const afb_health_cfg_t *cfg)
{
    afb_health_cfg_t c;

    afb_health_cfg_default(&c);
    if (cfg == NULL)
        return c;
    if (cfg->interval > 0)
        c.interval = cfg->interval;
    if (cfg->timeout > 0)
        c.timeout = cfg->timeout;
    if (cfg->fall > 0)
        c.fall = cfg->fall;
    if (cfg->rise > 0)
        c.rise = cfg->rise;
    return c;
}

static apr_interval_time_t fast_delay(const afb_health_cfg_t *c)
{
    return c->interval < FAST_REPROBE ? c->interval : FAST_REPROBE;
}

/* Length of the longest prefix of src, at most max bytes, that does not split a UTF-8
 * sequence. */
static size_t utf8_prefix(const char *src, size_t max)
{
    size_t n = strnlen(src, max + 1);

    if (n <= max)
        return n;
    n = max;
    while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
        n--;
    return n;
}

/* Copies text into a fixed buffer: truncated on a character boundary, control characters
 * replaced by spaces (the text ends up in log lines), always NUL-terminated. */
static void text_copy(char *dst, size_t cap, const char *src)
{
    size_t n, i;

    if (src == NULL)
        src = "";
    n = utf8_prefix(src, cap - 1);
    memcpy(dst, src, n);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)dst[i];
        if (c < 0x20 || c == 0x7F)
            dst[i] = ' ';
    }
    dst[n] = '\0';
}

afb_status_t afb_health_init(afb_health_rec_t *rec, const char *name, apr_time_t now)
{
    memset(rec, 0, sizeof(*rec));
    rec->magic = AFB_HEALTH_REC_MAGIC;
    rec->version = AFB_HEALTH_VERSION;
    rec->state = AFB_HEALTH_UNKNOWN;
    rec->override = AFB_OVERRIDE_AUTO;
    rec->next_due = now;
    text_copy(rec->name, sizeof(rec->name), name);
    if (name == NULL || name[0] == '\0' || strlen(name) >= sizeof(rec->name))
        return AFB_EINVAL;
    return AFB_OK;
}

int afb_health_valid(const afb_health_rec_t *rec)
{
    return rec->magic == AFB_HEALTH_REC_MAGIC && rec->version == AFB_HEALTH_VERSION
           && memchr(rec->name, '\0', sizeof(rec->name)) != NULL
           && memchr(rec->last_error, '\0', sizeof(rec->last_error)) != NULL
           && rec->state >= AFB_HEALTH_UNKNOWN && rec->state <= AFB_HEALTH_DOWN
           && rec->override >= AFB_OVERRIDE_AUTO && rec->override <= AFB_OVERRIDE_DOWN;
}

int afb_health_is_due(const afb_health_rec_t *rec, apr_time_t now)
{
    if (rec->inflight_deadline != 0)
        return now >= rec->inflight_deadline;
    return now >= rec->next_due;
}

void afb_health_begin_probe(afb_health_rec_t *rec, apr_time_t now, apr_interval_time_t timeout)
{
    if (rec->inflight_deadline != 0 && now >= rec->inflight_deadline)
        rec->expired_probes++;
    rec->inflight_deadline = now + (timeout > 0 ? timeout : DEFAULT_TIMEOUT);
}

/* FNV-1a over the name, mixed with the probe count by splitmix64's finalizer. */
apr_interval_time_t afb_health_jitter(const char *name, uint64_t probes,
                                      apr_interval_time_t delay)
{
    uint64_t x = 0xcbf29ce484222325ULL;

    if (delay < 10)
        return 0;
    for (; name != NULL && *name != '\0'; name++)
        x = (x ^ (unsigned char)*name) * 0x100000001b3ULL;
    x ^= probes * 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return (apr_interval_time_t)(x % ((uint64_t)delay / 10 + 1));
}

static void schedule_next(afb_health_rec_t *rec, apr_time_t now, int ok,
                          const afb_health_cfg_t *c)
{
    apr_interval_time_t delay = ok ? c->interval : fast_delay(c);

    rec->next_due = now + delay - afb_health_jitter(rec->name, rec->probes, delay);
}

static void record_pass(afb_health_rec_t *rec, const afb_health_cfg_t *c)
{
    uint32_t need = rec->state == AFB_HEALTH_UNKNOWN ? 1u : (uint32_t)c->rise;

    if (rec->passes < UINT32_MAX)
        rec->passes++;
    rec->fails = 0;
    if (rec->state != AFB_HEALTH_UP && rec->passes >= need)
        rec->state = AFB_HEALTH_UP;
}

static void record_fail(afb_health_rec_t *rec, apr_time_t now, const char *reason,
                        const afb_health_cfg_t *c)
{
    if (rec->fails < UINT32_MAX)
        rec->fails++;
    rec->passes = 0;
    rec->last_failure = now;
    text_copy(rec->last_error, sizeof(rec->last_error),
              reason != NULL && reason[0] != '\0' ? reason : "probe failed");
    if (rec->state != AFB_HEALTH_DOWN && rec->fails >= (uint32_t)c->fall)
        rec->state = AFB_HEALTH_DOWN;
}

static void transition_fill(const afb_health_rec_t *rec, afb_health_state_t from,
                            const afb_health_cfg_t *c, afb_health_transition_t *tr)
{
    char buf[AFB_HEALTH_REASON_MAX];

    tr->from = from;
    tr->to = (afb_health_state_t)rec->state;
    if (rec->state == AFB_HEALTH_DOWN)
        apr_snprintf(buf, sizeof(buf), "%u/%d probes failed: %s", (unsigned)rec->fails,
                     c->fall, rec->last_error);
    else if (from == AFB_HEALTH_UNKNOWN)
        apr_snprintf(buf, sizeof(buf), "first probe passed");
    else
        apr_snprintf(buf, sizeof(buf), "%u/%d probes passed", (unsigned)rec->passes, c->rise);
    text_copy(tr->reason, sizeof(tr->reason), buf);
}

int afb_health_probe_result(afb_health_rec_t *rec, apr_time_t now, int ok,
                            apr_interval_time_t latency, const char *reason,
                            const afb_health_cfg_t *cfg, afb_health_transition_t *tr)
{
    afb_health_cfg_t c = cfg_sane(cfg);
    afb_health_state_t before = (afb_health_state_t)rec->state;

    rec->inflight_deadline = 0;
    rec->last_probe = now;
    rec->last_latency = latency > 0 ? latency : 0;
    rec->passive = 0;
    rec->probes++;
    if (ok)
        record_pass(rec, &c);
    else
        record_fail(rec, now, reason, &c);
    schedule_next(rec, now, ok, &c);
    if (rec->state == (int32_t)before)
        return 0;
    rec->last_transition = now;
    rec->transitions++;
    if (tr != NULL)
        transition_fill(rec, before, &c, tr);
    return 1;
}

void afb_health_passive_failure(afb_health_rec_t *rec, apr_time_t now,
                                const afb_health_cfg_t *cfg)
{
    afb_health_cfg_t c = cfg_sane(cfg);
    apr_time_t due = now;

    rec->passive = 1;
    rec->last_passive = now;
    rec->passive_events++;
    if (rec->last_probe != 0 && rec->last_probe + fast_delay(&c) > due)
        due = rec->last_probe + fast_delay(&c);
    if (due < rec->next_due)
        rec->next_due = due;
}

static afb_health_state_t state_of(int32_t probed, int32_t ov, int32_t dep_down)
{
    if (ov == AFB_OVERRIDE_UP)
        return AFB_HEALTH_UP;
    if (ov == AFB_OVERRIDE_DOWN || dep_down)
        return AFB_HEALTH_DOWN;
    if (probed == AFB_HEALTH_UP || probed == AFB_HEALTH_DOWN)
        return (afb_health_state_t)probed;
    return AFB_HEALTH_UNKNOWN;
}

int afb_health_set_override(afb_health_rec_t *rec, afb_override_t ov,
                            afb_health_transition_t *tr)
{
    int32_t v = ov == AFB_OVERRIDE_UP || ov == AFB_OVERRIDE_DOWN ? (int32_t)ov
                                                                 : AFB_OVERRIDE_AUTO;
    afb_health_state_t before = state_of(rec->state, rec->override, rec->dep_down);

    if (v == rec->override)
        return 0;
    rec->override = v;
    if (tr != NULL) {
        tr->from = before;
        tr->to = state_of(rec->state, v, rec->dep_down);
        text_copy(tr->reason, sizeof(tr->reason),
                  v == AFB_OVERRIDE_AUTO ? "override removed"
                                         : v == AFB_OVERRIDE_UP ? "override up"
                                                                : "override down");
    }
    return 1;
}

afb_health_state_t afb_health_effective_state(const afb_health_rec_t *rec)
{
    return state_of(rec->state, rec->override, rec->dep_down);
}

int afb_health_set_dependency(afb_health_rec_t *rec, const afb_health_rec_t *blocking,
                              afb_health_transition_t *tr)
{
    afb_health_state_t before = afb_health_effective_state(rec);
    int32_t down = blocking != NULL;
    char cause[AFB_HEALTH_REASON_MAX] = "";

    if (blocking != NULL)
        apr_snprintf(cause, sizeof(cause), "depends on %s, which is %s", blocking->name,
                     afb_health_state_name(afb_health_effective_state(blocking)));
    if (down == rec->dep_down && strcmp(cause, rec->dep_cause) == 0)
        return 0;
    rec->dep_down = down;
    text_copy(rec->dep_cause, sizeof(rec->dep_cause), cause);
    if (afb_health_effective_state(rec) == before)
        return 0;
    if (tr != NULL) {
        tr->from = before;
        tr->to = afb_health_effective_state(rec);
        text_copy(tr->reason, sizeof(tr->reason), down ? cause : "its dependencies are available");
    }
    return 1;
}

/* The first dependency of record i that is not available, or NULL. */
static const afb_health_rec_t *first_blocking(const afb_health_table_t *t,
                                              const afb_health_deps_t *d)
{
    int k;

    for (k = 0; k < d->n && k < AFB_HEALTH_MAX_DEPS; k++)
        if (d->idx[k] >= 0 && (uint32_t)d->idx[k] < t->nrecs &&
            !afb_health_available(&t->recs[d->idx[k]]))
            return &t->recs[d->idx[k]];
    return NULL;
}

apr_array_header_t *afb_health_table_derive(apr_pool_t *p, afb_health_table_t *t,
                                            const afb_health_deps_t *deps)
{
    apr_array_header_t *changes = apr_array_make(p, 2, sizeof(afb_health_dep_change_t));
    uint32_t pass, i;
    int changed = 1;

    /* Without cycles, nrecs passes reach the fixed point (a chain of length n settles in n). */
    for (pass = 0; changed && pass <= t->nrecs; pass++) {
        changed = 0;
        for (i = 0; i < t->nrecs; i++) {
            afb_health_dep_change_t ch;
            if (deps[i].n == 0)
                continue;
            ch.index = (int)i;
            if (afb_health_set_dependency(&t->recs[i], first_blocking(t, &deps[i]), &ch.tr)) {
                APR_ARRAY_PUSH(changes, afb_health_dep_change_t) = ch;
                changed = 1;
            }
        }
    }
    return changes;
}

int afb_health_available(const afb_health_rec_t *rec)
{
    return afb_health_effective_state(rec) != AFB_HEALTH_DOWN;
}

void afb_health_count(afb_health_rec_t *rec, afb_health_counter_t which)
{
    switch (which) {
    case AFB_HEALTH_COUNT_SUCCESS:
        rec->auth_successes++;
        break;
    case AFB_HEALTH_COUNT_FAILURE:
        rec->auth_failures++;
        break;
    case AFB_HEALTH_COUNT_FALLBACK:
        rec->fallbacks++;
        break;
    case AFB_HEALTH_COUNT_BYPASS:
        rec->mfa_bypasses++;
        break;
    case AFB_HEALTH_COUNT_THROTTLED:
        rec->throttled++;
        break;
    case AFB_HEALTH_COUNT_DRILL:
        rec->drill_signins++;
        break;
    }
}

/* ---- The table ---- */

apr_size_t afb_health_table_size(unsigned n)
{
    return sizeof(afb_health_table_t) + (apr_size_t)n * sizeof(afb_health_rec_t);
}

static int names_ok(unsigned n, const char *const *names)
{
    unsigned i, j;

    for (i = 0; i < n; i++) {
        if (names[i] == NULL || names[i][0] == '\0'
            || strlen(names[i]) >= AFB_HEALTH_NAME_MAX)
            return 0;
        for (j = 0; j < i; j++)
            if (strcmp(names[i], names[j]) == 0)
                return 0;
    }
    return 1;
}

afb_status_t afb_health_table_init(void *mem, apr_size_t size, unsigned n,
                                   const char *const *names, apr_time_t now,
                                   afb_health_table_t **out)
{
    afb_health_table_t *t = mem;
    unsigned i;

    if (mem == NULL || (n > 0 && names == NULL))
        return AFB_EINVAL;
    if (size < afb_health_table_size(n))
        return AFB_ETOOBIG;
    if (!names_ok(n, names))
        return AFB_EINVAL;
    memset(mem, 0, afb_health_table_size(n));
    t->magic = AFB_HEALTH_TABLE_MAGIC;
    t->version = AFB_HEALTH_VERSION;
    t->nrecs = n;
    t->rec_size = (uint32_t)sizeof(afb_health_rec_t);
    t->generation = 1;
    for (i = 0; i < n; i++)
        if (afb_health_init(&t->recs[i], names[i], now) != AFB_OK)
            return AFB_EINVAL;
    *out = t;
    return AFB_OK;
}

static int header_ok(const afb_health_table_t *t)
{
    return t->magic == AFB_HEALTH_TABLE_MAGIC && t->version == AFB_HEALTH_VERSION
           && t->rec_size == sizeof(afb_health_rec_t);
}

afb_health_table_t *afb_health_table_attach(void *mem, apr_size_t size)
{
    afb_health_table_t *t = mem;
    uint32_t i;

    if (mem == NULL || size < sizeof(afb_health_table_t) || !header_ok(t))
        return NULL;
    if (t->nrecs > (size - sizeof(afb_health_table_t)) / sizeof(afb_health_rec_t))
        return NULL;
    for (i = 0; i < t->nrecs; i++)
        if (!afb_health_valid(&t->recs[i]))
            return NULL;
    return t;
}

static const afb_health_rec_t *find_const(const afb_health_table_t *t, const char *name)
{
    uint32_t i;

    if (t == NULL || name == NULL)
        return NULL;
    for (i = 0; i < t->nrecs; i++)
        if (strncmp(t->recs[i].name, name, sizeof(t->recs[i].name)) == 0)
            return &t->recs[i];
    return NULL;
}

afb_health_rec_t *afb_health_table_find(afb_health_table_t *t, const char *name)
{
    return (afb_health_rec_t *)find_const(t, name);
}

unsigned afb_health_table_adopt(afb_health_table_t *dst, const afb_health_table_t *src,
                                apr_time_t now)
{
    unsigned adopted = 0;
    uint32_t i;

    if (dst == NULL || src == NULL || !header_ok(src))
        return 0;
    dst->generation = src->generation + 1;
    for (i = 0; i < dst->nrecs; i++) {
        afb_health_rec_t *d = &dst->recs[i];
        const afb_health_rec_t *s = find_const(src, d->name);
        if (s == NULL || !afb_health_valid(s))
            continue;
        memcpy(d, s, sizeof(*d));
        d->inflight_deadline = 0;
        d->next_due = now;
        adopted++;
    }
    return adopted;
}

void afb_health_table_heartbeat(afb_health_table_t *t, apr_time_t now)
{
    t->heartbeat = now;
}

int afb_health_table_checker_stale(const afb_health_table_t *t, apr_time_t now,
                                   apr_interval_time_t max_silence)
{
    return t->heartbeat == 0 || now - t->heartbeat > max_silence;
}
