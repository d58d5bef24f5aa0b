/* Drills: the override file's `NAME drill ARG`, and the decision for one new sign-in.
 * See authfb/drill.h. */
#include <string.h>
#include <arpa/inet.h>
#include <apr_strings.h>

#include "authfb/drill.h"

static int parse_uint(const char *s, size_t n, unsigned max, unsigned *out)
{
    unsigned v = 0;
    size_t i;

    if (n == 0 || n > 3)
        return 0;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > max)
        return 0;
    *out = v;
    return 1;
}

/* The address text as 16 bytes; IPv4 (and IPv4-mapped IPv6) as family 4. */
static int addr_parse(const char *s, uint8_t *family, uint8_t addr[16])
{
    static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    uint8_t a[16];

    memset(addr, 0, 16);
    if (inet_pton(AF_INET, s, a) == 1) {
        memcpy(addr, a, 4);
        *family = 4;
        return 1;
    }
    if (inet_pton(AF_INET6, s, a) != 1)
        return 0;
    if (memcmp(a, mapped, sizeof(mapped)) == 0) {
        memcpy(addr, a + 12, 4);
        *family = 4;
        return 1;
    }
    memcpy(addr, a, 16);
    *family = 6;
    return 1;
}

static void mask_host_bits(uint8_t addr[16], unsigned bits)
{
    unsigned i;

    for (i = 0; i < 16; i++) {
        unsigned keep = bits >= 8 * (i + 1) ? 8 : bits > 8 * i ? bits - 8 * i : 0;
        addr[i] &= (uint8_t)(0xff00u >> keep);
    }
}

afb_status_t afb_cidr_parse(const char *text, afb_cidr_t *out)
{
    char host[64];
    const char *slash = strchr(text, '/');
    size_t hlen = slash ? (size_t)(slash - text) : strlen(text);
    unsigned bits = 0, max;

    memset(out, 0, sizeof(*out));
    if (hlen == 0 || hlen >= sizeof(host))
        return AFB_EINVAL;
    memcpy(host, text, hlen);
    host[hlen] = '\0';
    if (!addr_parse(host, &out->family, out->addr))
        return AFB_EINVAL;
    max = out->family == 4 ? 32 : 128;
    if (slash == NULL)
        bits = max;
    else if (!parse_uint(slash + 1, strlen(slash + 1), max, &bits))
        return AFB_EINVAL;
    out->bits = (uint8_t)bits;
    mask_host_bits(out->addr, bits);
    return AFB_OK;
}

int afb_cidr_match(const afb_cidr_t *net, const char *ip)
{
    uint8_t family, addr[16];

    if (ip == NULL || strlen(ip) >= 64 || !addr_parse(ip, &family, addr)
        || family != net->family)
        return 0;
    mask_host_bits(addr, net->bits);
    return memcmp(addr, net->addr, 16) == 0;
}

static afb_status_t parse_percent(const char *arg, size_t n, afb_drill_t *out,
                                  const char **why)
{
    unsigned v = 0;

    if (!parse_uint(arg, n - 1, 100, &v) || v == 0) {
        *why = "percent must be 1..100 (an integer followed by %)";
        return AFB_EINVAL;
    }
    out->percent = (int32_t)v;
    return AFB_OK;
}

static afb_status_t parse_networks(const char *arg, afb_drill_t *out, const char **why)
{
    const char *s = arg;

    while (*s != '\0') {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        char one[64];
        if (out->ncidr == AFB_DRILL_MAX_CIDRS) {
            *why = "more than 8 networks";
            return AFB_EINVAL;
        }
        if (n == 0 || n >= sizeof(one)) {
            *why = "an empty or over-long network in the list";
            return AFB_EINVAL;
        }
        memcpy(one, s, n);
        one[n] = '\0';
        if (afb_cidr_parse(one, &out->cidr[out->ncidr]) != AFB_OK) {
            *why = "not a percentage (5%) or a list of addresses or networks (10.0.0.0/8)";
            return AFB_EINVAL;
        }
        out->ncidr++;
        s += n + (comma ? 1 : 0);
        if (comma && *s == '\0') {
            *why = "a list must not end with ','";
            return AFB_EINVAL;
        }
    }
    return AFB_OK;
}

afb_status_t afb_drill_parse(const char *arg, afb_drill_t *out, const char **why)
{
    size_t n = arg ? strlen(arg) : 0;
    afb_status_t st;

    memset(out, 0, sizeof(*out));
    *why = NULL;
    if (n == 0 || n > AFB_DRILL_ARG_MAX) {
        *why = n == 0 ? "needs PERCENT% or CIDR[,CIDR]" : "argument too long";
        return AFB_EINVAL;
    }
    st = arg[n - 1] == '%' ? parse_percent(arg, n, out, why) : parse_networks(arg, out, why);
    if (st != AFB_OK)
        memset(out, 0, sizeof(*out));
    return st;
}

int afb_drill_active(const afb_drill_t *d)
{
    return d != NULL && (d->percent > 0 || d->ncidr > 0);
}

int afb_drill_equal(const afb_drill_t *a, const afb_drill_t *b)
{
    return memcmp(a, b, sizeof(*a)) == 0;
}

static const char *cidr_format(apr_pool_t *p, const afb_cidr_t *c)
{
    char buf[INET6_ADDRSTRLEN];

    if (inet_ntop(c->family == 4 ? AF_INET : AF_INET6, c->addr, buf, sizeof(buf)) == NULL)
        return "?";
    return apr_psprintf(p, "%s/%u", buf, (unsigned)c->bits);
}

const char *afb_drill_format(apr_pool_t *p, const afb_drill_t *d)
{
    const char *s = "";
    uint32_t i;

    if (d->percent > 0)
        return apr_psprintf(p, "%d%%", (int)d->percent);
    for (i = 0; i < d->ncidr && i < AFB_DRILL_MAX_CIDRS; i++)
        s = apr_pstrcat(p, s, i ? "," : "", cidr_format(p, &d->cidr[i]), NULL);
    return s;
}

int afb_drill_applies(const afb_drill_t *d, const char *client_ip, uint32_t draw)
{
    uint32_t i;

    if (d == NULL)
        return 0;
    /* draw * 100 / 2^32 is uniform over 0..99 up to 1 part in 2^25. */
    if (d->percent > 0 && (((uint64_t)draw * 100u) >> 32) < (uint64_t)d->percent)
        return 1;
    for (i = 0; i < d->ncidr && i < AFB_DRILL_MAX_CIDRS; i++)
        if (afb_cidr_match(&d->cidr[i], client_ip))
            return 1;
    return 0;
}
