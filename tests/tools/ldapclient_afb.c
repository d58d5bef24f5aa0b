/* A command-line front end to the core directory client, for integration tests against a
 * real slapd:
 *
 *   ldapclient_afb [options] auth USER PASSWORD [REPEAT]
 *   ldapclient_afb [options] probe
 *
 * options: -u URL (repeatable, tried in order), -b BASE, -f FILTER, -D BIND_DN,
 *          -w BIND_PASSWORD_FILE, -a USER_ATTR, -c CA_FILE, -s (StartTLS), -t TIMEOUT_MS
 *
 * USER may hold escapes: "\xHH" is the byte HH (so a NUL can be passed), "\\" a backslash.
 * With REPEAT the sign-in runs that many times on one client (connection reuse), each answer
 * on its own line; before each run after the first it waits for a line on stdin (so that a
 * test can change the directory's state between two sign-ins). A line is "OK user=U", "STATUS-NAME why=REASON detail=TEXT", or for an
 * error at creation "config: reason".
 * Exit codes: 0 ok, 1 the person's failure, 2 infrastructure failure, 3 usage or config. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <apr_general.h>
#include <apr_file_io.h>
#include <apr_strings.h>

#include "authfb/ldap.h"
#include "authfb/util.h"

#define MAX_SECRET 1024

static int usage(void)
{
    fputs("usage: ldapclient_afb -u URL [-u URL] -b BASE [-f FILTER] [-D DN -w FILE] [-a ATTR]"
          " [-c CA] [-s] [-t MS] (auth USER PASSWORD [REPEAT] | probe)\n", stderr);
    return 3;
}

static const char *read_secret(apr_pool_t *p, const char *path)
{
    char buf[MAX_SECRET + 1];
    apr_file_t *f;
    apr_size_t n = MAX_SECRET;

    if (apr_file_open(&f, path, APR_FOPEN_READ, 0, p) != APR_SUCCESS)
        return NULL;
    if (apr_file_read(f, buf, &n) != APR_SUCCESS)
        n = 0;
    apr_file_close(f);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    return apr_pstrmemdup(p, buf, n);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* "\xHH" -> byte, "\\" -> '\'; everything else as is. */
static char *unescape(apr_pool_t *p, const char *in, size_t *len)
{
    char *out = apr_palloc(p, strlen(in) + 1), *o = out;

    while (*in) {
        if (in[0] == '\\' && in[1] == 'x' && hexval(in[2]) >= 0 && hexval(in[3]) >= 0) {
            *o++ = (char)(hexval(in[2]) * 16 + hexval(in[3]));
            in += 4;
        } else if (in[0] == '\\' && in[1] == '\\') {
            *o++ = '\\';
            in += 2;
        } else {
            *o++ = *in++;
        }
    }
    *o = '\0';
    *len = (size_t)(o - out);
    return out;
}

static int report(afb_status_t st, const afb_ldap_result_t *res)
{
    if (st == AFB_OK) {
        if (res->user != NULL)
            printf("OK user=%s\n", res->user);
        else
            printf("OK\n");
        return 0;
    }
    printf("%s why=%s detail=%s\n", afb_status_str(st), afb_ldap_reason_name(res->why),
           res->detail ? res->detail : "");
    if (afb_ldap_is_infra(st))
        return 2;
    return st == AFB_ENOENT || st == AFB_EMISMATCH ? 1 : 3;
}

typedef struct {
    afb_ldap_conf_t conf;
    const char *urls[AFB_LDAP_MAX_URLS + 2];
    int nurls;
    int argi;
} opts_t;

static int parse_opts(apr_pool_t *p, int argc, const char *const *argv, opts_t *o)
{
    long ms = 2000;
    int i;

    for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] != '\0' && argv[i][2] == '\0'; i++) {
        char opt = argv[i][1];
        if (opt == 's') {
            o->conf.starttls = 1;
            continue;
        }
        if (i + 1 >= argc)
            return -1;
        const char *v = argv[++i];
        switch (opt) {
        case 'u': if (o->nurls > AFB_LDAP_MAX_URLS) return -1; o->urls[o->nurls++] = v; break;
        case 'b': o->conf.base = v; break;
        case 'f': o->conf.filter = v; break;
        case 'D': o->conf.bind_dn = v; break;
        case 'w': o->conf.bind_password = read_secret(p, v); break;
        case 'a': o->conf.user_attr = v; break;
        case 'c': o->conf.ca_file = v; break;
        case 't': if (afb_parse_uint(v, 600000, &ms) != AFB_OK) return -1; break;
        default: return -1;
        }
    }
    o->conf.name = "cli";
    o->conf.urls = o->urls;
    o->conf.timeout = apr_time_from_msec(ms);
    o->argi = i;
    return 0;
}

static int run(apr_pool_t *p, int argc, const char *const *argv)
{
    opts_t o;
    afb_ldap_t *l = NULL;
    afb_ldap_result_t res;
    const char *why = NULL;
    long repeat = 1, k;
    int rc = 3;

    memset(&o, 0, sizeof(o));
    if (parse_opts(p, argc, argv, &o) != 0 || o.argi >= argc)
        return usage();
    if (afb_ldap_create(p, &o.conf, &l, &why) != AFB_OK) {
        printf("config: %s\n", why);
        return 3;
    }
    if (strcmp(argv[o.argi], "probe") == 0)
        return report(afb_ldap_probe(l, p, &res), &res);
    if (strcmp(argv[o.argi], "auth") != 0 || o.argi + 2 >= argc
        || (o.argi + 3 < argc && afb_parse_uint(argv[o.argi + 3], 1000, &repeat) != AFB_OK))
        return usage();
    for (k = 0; k < repeat; k++) {
        char line[64];
        size_t ulen;

        if (k > 0 && fgets(line, sizeof(line), stdin) == NULL)
            break;
        char *user = unescape(p, argv[o.argi + 1], &ulen);
        rc = report(afb_ldap_authenticate(l, p, user, ulen, argv[o.argi + 2], &res), &res);
        fflush(stdout);
    }
    return rc;
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p;
    int rc;

    signal(SIGPIPE, SIG_IGN);   /* as in httpd: libldap writes to sockets the peer closed */
    apr_app_initialize(&argc, &argv, NULL);
    apr_pool_create(&p, NULL);
    rc = run(p, argc, argv);
    apr_pool_destroy(p);
    apr_terminate();
    return rc;
}
