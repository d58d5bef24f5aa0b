/* The roster of who signed in where, its file and the shared ring of sightings. See
 * authfb/roster.h. */
#include <stdlib.h>
#include <string.h>
#include <apr_hash.h>
#include <apr_strings.h>

#include "authfb/roster.h"
#include "authfb/provider.h"

struct afb_roster_t {
    apr_pool_t *p;
    apr_hash_t *recs; /* "LOCATION\tUSER" -> afb_roster_rec_t */
};

afb_roster_t *afb_roster_create(apr_pool_t *p)
{
    afb_roster_t *r = apr_pcalloc(p, sizeof(*r));

    r->p = p;
    r->recs = apr_hash_make(p);
    return r;
}

int afb_roster_count(const afb_roster_t *r)
{
    return (int)apr_hash_count(r->recs);
}

/* Printable text of 1..max bytes: no control character (tab and newline included). */
static int field_ok(const char *s, size_t max)
{
    size_t n = 0;

    if (s == NULL || *s == '\0')
        return 0;
    for (; s[n] != '\0'; n++)
        if ((unsigned char)s[n] < 0x20 || (unsigned char)s[n] == 0x7f || n >= max)
            return 0;
    return 1;
}

afb_status_t afb_roster_see(afb_roster_t *r, const char *user, const char *location,
                            const char *path, apr_time_t seen)
{
    const char *key;
    afb_roster_rec_t *rec;

    if (!field_ok(user, AFB_ROSTER_MAX_USER) || !field_ok(location, AFB_ROSTER_MAX_LOCATION)
        || path == NULL || !afb_provider_name_valid(path) || seen < 0)
        return AFB_EINVAL;
    seen = apr_time_from_sec(apr_time_sec(seen));
    key = apr_pstrcat(r->p, location, "\t", user, NULL);
    rec = apr_hash_get(r->recs, key, APR_HASH_KEY_STRING);
    if (rec != NULL && rec->seen > seen)
        return AFB_OK;
    if (rec == NULL) {
        rec = apr_pcalloc(r->p, sizeof(*rec));
        rec->location = apr_pstrdup(r->p, location);
        rec->user = apr_pstrdup(r->p, user);
        apr_hash_set(r->recs, key, APR_HASH_KEY_STRING, rec);
    }
    if (rec->path == NULL || strcmp(rec->path, path) != 0)
        rec->path = apr_pstrdup(r->p, path);
    rec->seen = seen;
    return AFB_OK;
}

/* "SECONDS": decimal, at most 12 digits (year 33658). */
static int parse_seconds(const char *s, size_t n, apr_time_t *out)
{
    apr_time_t v = 0;
    size_t i;

    if (n == 0 || n > 12)
        return 0;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = apr_time_from_sec(v);
    return 1;
}

typedef struct {
    afb_roster_t *r;
    int header_seen;
} parse_ctx_t;

/* One record: LAST-SEEN \t PATH \t LOCATION \t USER. */
static const char *parse_record(void *baton, char *line)
{
    parse_ctx_t *c = baton;
    char *t1 = strchr(line, '\t'), *t2, *t3;
    apr_time_t seen = 0;

    if (t1 == NULL || (t2 = strchr(t1 + 1, '\t')) == NULL || (t3 = strchr(t2 + 1, '\t')) == NULL)
        return "expected LAST-SEEN, PATH, LOCATION and USER separated by tabs";
    if (!parse_seconds(line, (size_t)(t1 - line), &seen))
        return "LAST-SEEN is not Unix seconds";
    *t2 = '\0';
    *t3 = '\0';
    if (afb_roster_see(c->r, t3 + 1, t2 + 1, t1 + 1, seen) != AFB_OK)
        return "empty or over-long field, control character, or a PATH that is not a "
               "provider name";
    return NULL;
}

afb_status_t afb_roster_parse(apr_pool_t *p, const char *text, size_t len, afb_roster_t **out,
                              afb_skips_t *skips)
{
    size_t hlen = strlen(AFB_ROSTER_HEADER);
    parse_ctx_t c;
    const char *err = NULL;
    char *buf;
    afb_skips_t local;

    if (len > AFB_ROSTER_MAX_BYTES)
        return AFB_ETOOBIG;
    c.r = afb_roster_create(p);
    c.header_seen = 0;
    if (len == 0) {
        *out = c.r;
        return AFB_OK;
    }
    if (text == NULL || len < hlen || memcmp(text, AFB_ROSTER_HEADER, hlen) != 0
        || (len > hlen && text[hlen] != '\n' && text[hlen] != '\r'))
        return AFB_EINVAL;
    memset(&local, 0, sizeof(local));
    buf = apr_pstrmemdup(p, text, len);
    if (afb_lines_each(p, buf, buf + len, AFB_ROSTER_MAX_LINE, parse_record, &c,
                       skips != NULL ? skips : &local, &err) != AFB_OK)
        return AFB_EINVAL;
    *out = c.r;
    return AFB_OK;
}

/* Newest first; then by location and user, so the order is total. */
static int by_age(const void *a, const void *b)
{
    const afb_roster_rec_t *x = *(const afb_roster_rec_t *const *)a;
    const afb_roster_rec_t *y = *(const afb_roster_rec_t *const *)b;
    int c;

    if (x->seen != y->seen)
        return x->seen > y->seen ? -1 : 1;
    c = strcmp(x->location, y->location);
    return c != 0 ? c : strcmp(x->user, y->user);
}

static int by_name(const void *a, const void *b)
{
    const afb_roster_rec_t *x = *(const afb_roster_rec_t *const *)a;
    const afb_roster_rec_t *y = *(const afb_roster_rec_t *const *)b;
    int c = strcmp(x->location, y->location);

    return c != 0 ? c : strcmp(x->user, y->user);
}

static apr_array_header_t *all_recs(const afb_roster_t *r, apr_pool_t *p,
                                    int (*cmp)(const void *, const void *))
{
    apr_array_header_t *a = apr_array_make(p, (int)apr_hash_count(r->recs) + 1,
                                           sizeof(const afb_roster_rec_t *));
    apr_hash_index_t *hi;

    for (hi = apr_hash_first(p, r->recs); hi != NULL; hi = apr_hash_next(hi))
        APR_ARRAY_PUSH(a, const afb_roster_rec_t *) = apr_hash_this_val(hi);
    if (a->nelts > 1)
        qsort(a->elts, (size_t)a->nelts, sizeof(const afb_roster_rec_t *), cmp);
    return a;
}

apr_array_header_t *afb_roster_sorted(const afb_roster_t *r, apr_pool_t *p)
{
    return all_recs(r, p, by_name);
}

static void drop(afb_roster_t *r, const afb_roster_rec_t *rec)
{
    const char *key = apr_pstrcat(r->p, rec->location, "\t", rec->user, NULL);

    apr_hash_set(r->recs, key, APR_HASH_KEY_STRING, NULL);
}

int afb_roster_expire(afb_roster_t *r, apr_time_t now, int days)
{
    apr_time_t oldest = now - apr_time_from_sec((apr_time_t)days * 86400);
    apr_array_header_t *a = all_recs(r, r->p, by_age);
    int i, n = 0;

    for (i = a->nelts - 1; i >= 0; i--) {
        const afb_roster_rec_t *rec = APR_ARRAY_IDX(a, i, const afb_roster_rec_t *);
        if (rec->seen >= oldest)
            break;
        drop(r, rec);
        n++;
    }
    return n;
}

int afb_roster_trim(afb_roster_t *r, int max)
{
    apr_array_header_t *a;
    int i, n = 0;

    if (max < 0 || afb_roster_count(r) <= max)
        return 0;
    a = all_recs(r, r->p, by_age);
    for (i = max; i < a->nelts; i++, n++)
        drop(r, APR_ARRAY_IDX(a, i, const afb_roster_rec_t *));
    return n;
}

const char *afb_roster_format(const afb_roster_t *r, apr_pool_t *p, size_t *len)
{
    apr_array_header_t *a = afb_roster_sorted(r, p);
    struct iovec *v = apr_palloc(p, sizeof(*v) * (size_t)(a->nelts + 1));
    const char *head = AFB_ROSTER_HEADER "\n";
    apr_size_t n = 0;
    char *out;
    int i;

    v[0].iov_base = (void *)head;
    v[0].iov_len = strlen(head);
    for (i = 0; i < a->nelts; i++) {
        const afb_roster_rec_t *rec = APR_ARRAY_IDX(a, i, const afb_roster_rec_t *);
        char *line = apr_psprintf(p, "%" APR_INT64_T_FMT "\t%s\t%s\t%s\n",
                                  (apr_int64_t)apr_time_sec(rec->seen), rec->path,
                                  rec->location, rec->user);
        v[i + 1].iov_base = line;
        v[i + 1].iov_len = strlen(line);
    }
    out = apr_pstrcatv(p, v, (apr_size_t)a->nelts + 1, &n);
    if (len != NULL)
        *len = n;
    return out;
}

/* ---- the ring ---- */

apr_size_t afb_roster_ring_size(unsigned slots)
{
    return sizeof(afb_roster_ring_t) + (apr_size_t)slots * sizeof(afb_roster_sighting_t);
}

afb_roster_ring_t *afb_roster_ring_init(void *mem, apr_size_t size, unsigned slots)
{
    afb_roster_ring_t *ring = mem;

    if (mem == NULL || slots == 0 || size < afb_roster_ring_size(slots))
        return NULL;
    memset(ring, 0, sizeof(*ring));
    ring->magic = AFB_ROSTER_RING_MAGIC;
    ring->version = AFB_ROSTER_RING_VERSION;
    ring->slots = slots;
    return ring;
}

static int copy_field(char *dst, size_t cap, const char *src)
{
    size_t n = src != NULL ? strlen(src) : 0;

    if (n == 0 || n >= cap)
        return 0;
    memcpy(dst, src, n + 1);
    return 1;
}

int afb_roster_ring_push(afb_roster_ring_t *ring, const char *user, const char *location,
                         const char *path, apr_time_t seen)
{
    afb_roster_sighting_t *s;

    if (ring->count >= ring->slots) {
        ring->dropped++;
        return 0;
    }
    s = &ring->s[(ring->next + ring->count) % ring->slots];
    if (!copy_field(s->user, sizeof(s->user), user)
        || !copy_field(s->location, sizeof(s->location), location)
        || !copy_field(s->path, sizeof(s->path), path)) {
        ring->dropped++;
        return 0;
    }
    s->seen = seen;
    ring->count++;
    return 1;
}

int afb_roster_ring_drain(afb_roster_ring_t *ring, afb_roster_t *r)
{
    int n = 0;

    while (ring->count > 0 && ring->count <= ring->slots && ring->next < ring->slots) {
        afb_roster_sighting_t *s = &ring->s[ring->next];
        s->user[sizeof(s->user) - 1] = '\0';
        s->location[sizeof(s->location) - 1] = '\0';
        s->path[sizeof(s->path) - 1] = '\0';
        if (afb_roster_see(r, s->user, s->location, s->path, s->seen) != AFB_OK)
            ring->dropped++;
        ring->next = (ring->next + 1) % ring->slots;
        ring->count--;
        n++;
    }
    if (ring->count > ring->slots || ring->next >= ring->slots)
        ring->count = ring->next = 0; /* a damaged header: start over, never loop */
    return n;
}
