/* Event-log records: one compact JSON object per line, "time" and "event" first, then the
 * event's fields in the order they were added. Strings that are not valid UTF-8 are
 * repaired (each invalid byte becomes U+FFFD) so that an event is never lost to its
 * content; every string is capped so that a line stays small enough to write at once. */
#include "authfb/event.h"
#include "authfb/util.h"

#include <string.h>
#include <stdlib.h>
#include <apr_strings.h>
#include <jansson.h>

#define AFB_EVENT_MAX_STR 1024 /* bytes of input kept per string */

struct afb_event_t {
    apr_pool_t *pool;
    json_t *obj;      /* NULL once the line was made */
    const char *line; /* the line, once made */
};

static apr_status_t event_cleanup(void *data)
{
    afb_event_t *ev = data;

    if (ev->obj != NULL) {
        json_decref(ev->obj);
        ev->obj = NULL;
    }
    return APR_SUCCESS;
}

/* A cut at max bytes moved back to the start of a character, so that the cut itself
 * never creates an invalid sequence (at most 3 continuation bytes are dropped). */
static size_t utf8_cut(const unsigned char *s, size_t max)
{
    size_t n = max;

    while (n > max - 3 && (s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

/* A copy of s that is valid UTF-8 and at most AFB_EVENT_MAX_STR bytes of the input long:
 * invalid bytes become U+FFFD (EF BF BD), a cut never splits a character. */
static const char *event_clean(apr_pool_t *p, const char *s)
{
    const unsigned char *in = (const unsigned char *)s;
    size_t n = strlen(s), i = 0, o = 0, sl;
    char *out;

    if (n > AFB_EVENT_MAX_STR)
        n = utf8_cut(in, AFB_EVENT_MAX_STR);
    out = apr_palloc(p, n * 3 + 1);
    while (i < n) {
        sl = afb_utf8_seq_len(in + i, n - i);
        if (sl == 0) {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        } else {
            memcpy(out + o, in + i, sl);
            o += sl;
            i += sl;
        }
    }
    out[o] = '\0';
    return out;
}

static void event_set(afb_event_t *ev, const char *key, json_t *val)
{
    if (ev == NULL || ev->obj == NULL || key == NULL || val == NULL) {
        json_decref(val);
        return;
    }
    /* json_object_set_new always takes the reference, also on failure. */
    json_object_set_new(ev->obj, event_clean(ev->pool, key), val);
}

afb_event_t *afb_event_new(apr_pool_t *p, const char *name, apr_time_t now)
{
    afb_event_t *ev = apr_pcalloc(p, sizeof(*ev));

    ev->pool = p;
    ev->obj = json_object();
    if (ev->obj == NULL)
        return ev;
    apr_pool_cleanup_register(p, ev, event_cleanup, apr_pool_cleanup_null);
    afb_event_str(ev, "time", afb_rfc3339(p, now));
    afb_event_str(ev, "event", name != NULL ? name : "unknown");
    return ev;
}

void afb_event_str(afb_event_t *ev, const char *key, const char *val)
{
    if (ev == NULL)
        return;
    event_set(ev, key, val == NULL ? json_null() : json_string(event_clean(ev->pool, val)));
}

void afb_event_int(afb_event_t *ev, const char *key, long long val)
{
    event_set(ev, key, json_integer((json_int_t)val));
}

void afb_event_bool(afb_event_t *ev, const char *key, int val)
{
    event_set(ev, key, json_boolean(val));
}

const char *afb_event_line(afb_event_t *ev)
{
    char *dump;

    if (ev == NULL)
        return NULL;
    if (ev->line != NULL || ev->obj == NULL)
        return ev->line;
    dump = json_dumps(ev->obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(ev->obj);
    ev->obj = NULL;
    if (dump == NULL)
        return NULL;
    ev->line = apr_pstrcat(ev->pool, dump, "\n", NULL);
    free(dump);
    return ev->line;
}

const char *afb_rfc3339(apr_pool_t *p, apr_time_t t)
{
    apr_time_exp_t tm;

    /* Events never predate 1970; clamping keeps the fields non-negative. */
    if (t < 0 || apr_time_exp_gmt(&tm, t) != APR_SUCCESS)
        return "1970-01-01T00:00:00.000Z";
    return apr_psprintf(p, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                        tm.tm_usec / 1000);
}
