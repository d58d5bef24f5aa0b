/* A command-line front end to the core RADIUS client, for integration tests against real and
 * hostile servers:
 *
 *   radclient_afb HOST PORT SECRET_FILE auth USER CODE [TIMEOUT_MS] [relaxed]
 *   radclient_afb HOST PORT SECRET_FILE status [TIMEOUT_MS] [relaxed]
 *
 * Prints ACCEPT, REJECT or CHALLENGE (auth), OK (status), or "STATUS-NAME: reason".
 * Exit codes: 0 accept / probe ok, 1 reject or challenge, 2 infrastructure failure, 3 usage.
 * The secret file's trailing newlines are not part of the secret. */
#include <stdio.h>
#include <string.h>

#include <apr_general.h>
#include <apr_file_io.h>

#include "authfb/radius.h"
#include "authfb/util.h"

static int usage(void)
{
    fputs("usage: radclient_afb HOST PORT SECRET_FILE auth USER CODE [TIMEOUT_MS] [relaxed]\n"
          "       radclient_afb HOST PORT SECRET_FILE status [TIMEOUT_MS] [relaxed]\n", stderr);
    return 3;
}

static int read_secret(apr_pool_t *p, const char *path, unsigned char *buf, size_t *len)
{
    apr_file_t *f;
    apr_size_t n = AFB_RADIUS_MAX_SECRET;

    if (apr_file_open(&f, path, APR_FOPEN_READ, 0, p) != APR_SUCCESS)
        return -1;
    if (apr_file_read(f, buf, &n) != APR_SUCCESS)
        n = 0;
    apr_file_close(f);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    *len = n;
    return n > 0 ? 0 : -1;
}

static int report(afb_status_t st, const char *what, const char *reason, int code)
{
    if (st != AFB_OK) {
        printf("%s: %s\n", afb_status_str(st), reason ? reason : "");
        return st == AFB_ETIMEOUT || st == AFB_EIO ? 2 : 3;
    }
    printf("%s\n", what);
    return code;
}

static int run(apr_pool_t *p, int argc, const char *const *argv)
{
    unsigned char secret[AFB_RADIUS_MAX_SECRET];
    size_t secret_len = 0;
    int is_auth = argc >= 7 && strcmp(argv[4], "auth") == 0;
    int rest = is_auth ? 7 : 5, relaxed = argc > rest + 1 && strcmp(argv[rest + 1], "relaxed") == 0;
    long port = 0, ms = 1000;
    afb_radius_result_t res = AFB_RADIUS_REJECT;
    const char *reason = NULL;
    afb_radius_t *rad;
    afb_status_t st;

    if (!is_auth && (argc < 5 || strcmp(argv[4], "status") != 0))
        return usage();
    if (afb_parse_uint(argv[2], 65535, &port) != AFB_OK
        || (argc > rest && afb_parse_uint(argv[rest], 600000, &ms) != AFB_OK))
        return usage();
    if (read_secret(p, argv[3], secret, &secret_len) != 0) {
        fputs("cannot read the secret file\n", stderr);
        return 3;
    }
    rad = afb_radius_create(p, argv[1], (int)port, secret, secret_len, NULL, !relaxed);
    if (rad == NULL)
        return usage();
    if (!is_auth) {
        st = afb_radius_status_server(rad, p, apr_time_from_msec(ms), &reason);
        return report(st, "OK", reason, 0);
    }
    st = afb_radius_authenticate(rad, p, argv[5], argv[6], apr_time_from_msec(ms), &res, &reason);
    return report(st, res == AFB_RADIUS_ACCEPT ? "ACCEPT"
                      : res == AFB_RADIUS_CHALLENGE ? "CHALLENGE" : "REJECT",
                  reason, res == AFB_RADIUS_ACCEPT ? 0 : 1);
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p;
    int rc;

    apr_app_initialize(&argc, &argv, NULL);
    apr_pool_create(&p, NULL);
    rc = run(p, argc, argv);
    apr_pool_destroy(p);
    apr_terminate();
    return rc;
}
