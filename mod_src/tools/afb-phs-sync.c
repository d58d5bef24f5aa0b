/* afb-phs-sync: turns an Active Directory export of NT hashes (smbpasswd or pwdump lines) into
 * the module's password store, atomically. Reference: docs/afb-phs-sync.md.
 * It never prints a hash or a password: errors name line numbers, the summary counts. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "authfb/phsync.h"
#include "authfb/pwstore.h"
#include "authfb/util.h"

#include <openssl/crypto.h>

/* Exit statuses (docs/afb-phs-sync.md). */
enum {
    EXIT_DONE = 0,      /* the store is current (written now, or already) */
    EXIT_USAGE = 1,     /* bad options */
    EXIT_INPUT = 2,     /* empty or unparsable export: store untouched */
    EXIT_GUARD = 3,     /* more deletions than --max-delete: store untouched */
    EXIT_IO = 4         /* cannot read or write a file (or a library failed) */
};

#define MAX_INPUT_BYTES (256L * 1024 * 1024)
#define ROUNDS_MAX 10000000L

typedef struct {
    const char *input;      /* NULL: standard input */
    const char *output;
    const char *group;
    long rounds;
    afb_delete_limit_t max_delete;
    const char *max_delete_text;
    afb_phs_opts_t opts;
    apr_array_header_t *exclude;
    int dry_run;
} sync_args_t;

static const char usage_text[] =
    "usage: afb-phs-sync --output STORE [options] [< EXPORT]\n"
    "Writes the password store STORE from a directory export of NT hashes (smbpasswd lines\n"
    "as `pdbedit -L -w` prints them, or pwdump lines), keeping unchanged users' lines.\n"
    "\n"
    "  -i, --input FILE        read the export from FILE (default: standard input)\n"
    "  -o, --output STORE      the store to write (required)\n"
    "  -g, --group GROUP       group of the written store (mode 0640), e.g. www-data\n"
    "  -r, --rounds N          PBKDF2 rounds of new entries (default %ld, at least %ld)\n"
    "  -m, --max-delete N|P%%   refuse to remove more than N users, or P%% of them\n"
    "                          (default %s; 0 turns the guard off)\n"
    "  -x, --exclude NAME      leave this account out (repeatable; case-insensitive)\n"
    "  -k, --keep-domain       keep a DOMAIN\\ prefix in user names\n"
    "  -l, --lowercase         fold user names to lower case (ASCII letters)\n"
    "  -n, --dry-run           count and check, write nothing\n"
    "  -h, --help              this text\n"
    "\n"
    "Exit status: 0 store current, 1 usage, 2 empty or unparsable export, 3 too many\n"
    "deletions, 4 file or library error. In every non-zero case the store is untouched.\n";

static void usage(FILE *out)
{
    fprintf(out, usage_text, AFB_NTPBKDF2_DEFAULT_ROUNDS, AFB_NTPBKDF2_MIN_ROUNDS,
            AFB_MAX_DELETE_DEFAULT);
}

static int fail(int code, const char *what)
{
    fprintf(stderr, "afb-phs-sync: %s\n", what);
    return code;
}

static int parse_option(sync_args_t *a, int c, const char *arg)
{
    switch (c) {
    case 'i': a->input = arg; return 0;
    case 'o': a->output = arg; return 0;
    case 'g': a->group = arg; return 0;
    case 'k': a->opts.keep_domain = 1; return 0;
    case 'l': a->opts.lowercase = 1; return 0;
    case 'n': a->dry_run = 1; return 0;
    case 'x': APR_ARRAY_PUSH(a->exclude, const char *) = arg; return 0;
    case 'r':
        return afb_parse_uint(arg, ROUNDS_MAX, &a->rounds) == AFB_OK
               && a->rounds >= AFB_NTPBKDF2_MIN_ROUNDS ? 0 : -1;
    case 'm':
        a->max_delete_text = arg;
        return afb_parse_delete_limit(arg, &a->max_delete) == AFB_OK ? 0 : -1;
    default:
        return -1;
    }
}

/* 0, or an exit status (with --help: -1, print help and exit 0). */
static int parse_args(sync_args_t *a, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "input", required_argument, NULL, 'i' },   { "output", required_argument, NULL, 'o' },
        { "group", required_argument, NULL, 'g' },   { "rounds", required_argument, NULL, 'r' },
        { "max-delete", required_argument, NULL, 'm' },
        { "exclude", required_argument, NULL, 'x' }, { "keep-domain", no_argument, NULL, 'k' },
        { "lowercase", no_argument, NULL, 'l' },     { "dry-run", no_argument, NULL, 'n' },
        { "help", no_argument, NULL, 'h' },          { NULL, 0, NULL, 0 },
    };
    int c;

    while ((c = getopt_long(argc, argv, "i:o:g:r:m:x:klnh", longopts, NULL)) != -1) {
        if (c == 'h')
            return -1;
        if (parse_option(a, c, optarg) != 0) {
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind != argc || a->output == NULL) {
        usage(stderr);
        return EXIT_USAGE;
    }
    return 0;
}

/* ---- files ---- */

/* The whole of fd into pool memory (zeroed on cleanup); -1 on error or over the cap. */
static int read_fd(apr_pool_t *p, int fd, char **text, size_t *len)
{
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    ssize_t got;

    while (buf != NULL && (got = read(fd, buf + n, cap - n - 1)) != 0) {
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0 || n + (size_t)got >= (size_t)MAX_INPUT_BYTES)
            break;
        n += (size_t)got;
        if (cap - n - 1 == 0) {
            char *bigger = realloc(buf, cap * 2);
            if (bigger == NULL)
                break;
            buf = bigger;
            cap *= 2;
        }
    }
    if (buf == NULL || got != 0) {
        if (buf)
            OPENSSL_cleanse(buf, cap);
        free(buf);
        return -1;
    }
    *text = apr_pmemdup(p, buf, n + 1);
    (*text)[n] = '\0';
    afb_cleanse_on_cleanup(p, *text, n + 1);
    OPENSSL_cleanse(buf, cap);
    free(buf);
    *len = n;
    return 0;
}

static int read_path(apr_pool_t *p, const char *path, char **text, size_t *len)
{
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
    int rc;

    if (fd < 0)
        return -1;
    rc = read_fd(p, fd, text, len);
    if (path)
        close(fd);
    return rc;
}

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc;

    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

/* A temporary file beside the store, fsync, rename over it, fsync the folder. */
static const char *write_store(apr_pool_t *p, const sync_args_t *a, const char *text, gid_t gid)
{
    char *dir = dirname(apr_pstrdup(p, a->output));
    char *tmp = apr_pstrcat(p, dir, "/.afb-phs-sync.XXXXXX", NULL);
    int fd = mkstemp(tmp);
    const char *err = NULL;

    if (fd < 0)
        return apr_psprintf(p, "cannot create a file in %s: %s", dir, strerror(errno));
    if (fchmod(fd, 0640) != 0 || (gid != (gid_t)-1 && fchown(fd, (uid_t)-1, gid) != 0))
        err = apr_psprintf(p, "cannot set mode or group: %s", strerror(errno));
    if (!err && (write_all(fd, text, strlen(text)) != 0 || fsync(fd) != 0))
        err = apr_psprintf(p, "cannot write %s: %s", tmp, strerror(errno));
    if (close(fd) != 0 && !err)
        err = apr_psprintf(p, "cannot write %s: %s", tmp, strerror(errno));
    if (!err && rename(tmp, a->output) != 0)
        err = apr_psprintf(p, "cannot rename over %s: %s", a->output, strerror(errno));
    if (err) {
        unlink(tmp);
        return err;
    }
    fsync_dir(dir);
    return NULL;
}

static const afb_pwstore_t *load_previous(apr_pool_t *p, const char *path, const char **text,
                                          const char **err)
{
    char *buf = NULL;
    size_t len = 0;
    afb_pwstore_t *s = NULL;
    const char *why = NULL;

    *text = NULL;
    if (read_path(p, path, &buf, &len) != 0) {
        if (errno != ENOENT)
            *err = apr_psprintf(p, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    if (afb_pwstore_parse(p, buf, len, &s, NULL, &why) != AFB_OK) {
        *err = apr_psprintf(p, "%s does not parse (%s); move it away to start afresh", path,
                            why ? why : "invalid");
        return NULL;
    }
    *text = buf;
    return s;
}

/* ---- the run ---- */

static void summary(const sync_args_t *a, const afb_phs_stats_t *s, const char *verdict)
{
    printf("afb-phs-sync: %s %s: %d kept, %d changed, %d added, %d removed; skipped "
           "%d disabled, %d without password, %d machine or trust, %d krbtgt, %d excluded\n",
           a->output, verdict, s->kept, s->changed, s->added, s->removed,
           s->skipped[AFB_PHS_DISABLED], s->skipped[AFB_PHS_NO_PASSWORD],
           s->skipped[AFB_PHS_MACHINE], s->skipped[AFB_PHS_KRBTGT],
           s->skipped[AFB_PHS_EXCLUDED]);
}

static int resolve_group(const char *name, gid_t *gid)
{
    struct group *g;
    long n;

    *gid = (gid_t)-1;
    if (name == NULL)
        return 0;
    g = getgrnam(name);
    if (g) {
        *gid = g->gr_gid;
        return 0;
    }
    if (afb_parse_uint(name, 2147483647L, &n) != AFB_OK)
        return -1;
    *gid = (gid_t)n;
    return 0;
}

static int run(apr_pool_t *p, sync_args_t *a)
{
    char *input = NULL;
    size_t len = 0;
    const char *err = NULL, *old_text = NULL, *text = NULL;
    const afb_pwstore_t *previous;
    apr_array_header_t *entries = NULL;
    afb_phs_stats_t stats;
    afb_status_t st;
    gid_t gid;

    memset(&stats, 0, sizeof(stats));
    if (resolve_group(a->group, &gid) != 0)
        return fail(EXIT_USAGE, apr_psprintf(p, "unknown group %s", a->group));
    if (!afb_nthash_available(&err))
        return fail(EXIT_IO, err);
    if (read_path(p, a->input, &input, &len) != 0)
        return fail(EXIT_IO, apr_psprintf(p, "cannot read the export: %s",
                                          errno ? strerror(errno) : "too large"));
    st = afb_phs_read_export(p, input, len, &a->opts, &entries, &stats, &err);
    if (st == AFB_ENOENT)
        return fail(EXIT_INPUT, "the export lists no account; store left as it is");
    if (st != AFB_OK)
        return fail(EXIT_INPUT, apr_pstrcat(p, "export refused, store left as it is: ", err,
                                            NULL));
    err = NULL;
    previous = load_previous(p, a->output, &old_text, &err);
    if (err)
        return fail(EXIT_IO, err);
    if (afb_phs_build(p, entries, previous, a->rounds, &text, &stats) != AFB_OK)
        return fail(EXIT_IO, "cannot compute the store entries (OpenSSL)");
    if (afb_delete_limit_exceeded(&a->max_delete, stats.removed, stats.before)) {
        summary(a, &stats, "refused");
        return fail(EXIT_GUARD, apr_psprintf(p, "%d of %d users would be removed, more than "
                    "--max-delete %s allows; store left as it is", stats.removed,
                    stats.before, a->max_delete_text));
    }
    if (old_text && strcmp(old_text, text) == 0) {
        /* Same bytes; a new modification time tells max_age= that the sync job is alive. */
        if (!a->dry_run && utimensat(AT_FDCWD, a->output, NULL, 0) != 0)
            return fail(EXIT_IO, apr_psprintf(p, "cannot touch %s: %s", a->output,
                                              strerror(errno)));
        summary(a, &stats, "current");
        return EXIT_DONE;
    }
    if (!a->dry_run && (err = write_store(p, a, text, gid)) != NULL)
        return fail(EXIT_IO, err);
    summary(a, &stats, a->dry_run ? "would be written" : "written");
    return EXIT_DONE;
}

int main(int argc, char **argv)
{
    apr_pool_t *p = NULL;
    sync_args_t a;
    int rc;

    if (apr_initialize() != APR_SUCCESS || apr_pool_create(&p, NULL) != APR_SUCCESS)
        return EXIT_IO;
    memset(&a, 0, sizeof(a));
    a.rounds = AFB_NTPBKDF2_DEFAULT_ROUNDS;
    a.max_delete_text = AFB_MAX_DELETE_DEFAULT;
    a.exclude = apr_array_make(p, 4, sizeof(const char *));
    a.opts.exclude = a.exclude;
    if (afb_parse_delete_limit(a.max_delete_text, &a.max_delete) != AFB_OK)
        return EXIT_IO;
    umask(077);
    rc = parse_args(&a, argc, argv);
    if (rc == -1) {
        usage(stdout);
        rc = EXIT_DONE;
    } else if (rc == 0) {
        rc = run(p, &a);
    }
    apr_pool_destroy(p);
    apr_terminate();
    return rc;
}
