/* Event-log records: one compact JSON object per line, "time" and "event" first, then the
 * event's fields in the order they were added. Strings that are not valid UTF-8 are
 * repaired (each invalid byte becomes U+FFFD) so that an event is never lost to its
 * content; every string is capped so that a line stays small enough to write at once. */
#include "authfb/event.h"

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

/* Length of the valid UTF-8 sequence at s[0..n), or 0 when it is invalid (overlong,
 * surrogate, above U+10FFFF, truncated or a stray continuation byte). */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    size_t len, i;
    unsigned long cp;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        len = 2;
        cp = s[0] & 0x1F;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        len = 3;
        cp = s[0] & 0x0F;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        len = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF
        || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
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
        sl = utf8_seq_len(in + i, n - i);
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
