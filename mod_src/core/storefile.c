/* Read-modify-write of a store file the module owns (include/authfb/storefile.h). */
#include "authfb/storefile.h"
#include "authfb/file.h"
#include "authfb/util.h"

#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_strings.h>
#include <apr_time.h>

#define LOCK_POLL apr_time_from_msec(10)

/* The threads of one process take turns before the fcntl lock, which is the process's. A
 * static initializer: no creation to race on. */
static pthread_mutex_t storefile_mutex = PTHREAD_MUTEX_INITIALIZER;

static const char *sys_reason(apr_pool_t *p, const char *what, const char *path,
                              apr_status_t rv)
{
    char ebuf[128];

    return apr_psprintf(p, "cannot %s %s: %s", what, path,
                        apr_strerror(rv, ebuf, sizeof(ebuf)));
}

/* The cross-instance lock: fcntl on PATH.lock, polled up to AFB_STORE_LOCK_WAIT. */
static afb_status_t file_lock(apr_pool_t *p, const char *path, apr_file_t **out,
                              const char **reason)
{
    const char *lpath = apr_pstrcat(p, path, ".lock", NULL);
    apr_time_t deadline = apr_time_now() + AFB_STORE_LOCK_WAIT;
    apr_file_t *f = NULL;
    apr_status_t rv = apr_file_open(&f, lpath, APR_FOPEN_WRITE | APR_FOPEN_CREATE,
                                    APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_GREAD
                                    | APR_FPROT_GWRITE, p);

    if (rv != APR_SUCCESS) {
        *reason = sys_reason(p, "open", lpath, rv);
        return AFB_EIO;
    }
    while ((rv = apr_file_lock(f, APR_FLOCK_EXCLUSIVE | APR_FLOCK_NONBLOCK)) != APR_SUCCESS) {
        if (!APR_STATUS_IS_EAGAIN(rv) || apr_time_now() >= deadline) {
            apr_file_close(f);
            *reason = APR_STATUS_IS_EAGAIN(rv) ? apr_psprintf(p, "%s stayed locked", lpath)
                                               : sys_reason(p, "lock", lpath, rv);
            return APR_STATUS_IS_EAGAIN(rv) ? AFB_ETIMEOUT : AFB_EIO;
        }
        apr_sleep(LOCK_POLL);
    }
    *out = f;
    return AFB_OK;
}

static apr_fileperms_t keep_mode(apr_pool_t *p, const char *path)
{
    apr_finfo_t fi;

    if (apr_stat(&fi, path, APR_FINFO_PROT, p) == APR_SUCCESS)
        return fi.protection;
    return APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_GREAD;
}

/* Write text to a unique file beside path, flush it to disk, rename it over path. */
static afb_status_t replace_file(apr_pool_t *p, const char *path, const char *text, size_t len,
                                 const char **reason)
{
    const char *tmp = apr_psprintf(p, "%s.new.%" APR_PID_T_FMT ".%s", path, getpid(),
                                   afb_random_token(p, 6));
    apr_file_t *f = NULL;
    apr_size_t wrote = 0;
    apr_status_t rv = apr_file_open(&f, tmp, APR_FOPEN_WRITE | APR_FOPEN_CREATE | APR_FOPEN_EXCL
                                    | APR_FOPEN_BINARY, keep_mode(p, path), p);

    if (rv == APR_SUCCESS) {
        rv = apr_file_write_full(f, text, len, &wrote);
        if (rv == APR_SUCCESS)
            rv = apr_file_sync(f);
        apr_file_close(f);
        /* an umask may have narrowed the mode asked for */
        if (rv == APR_SUCCESS)
            rv = apr_file_perms_set(tmp, keep_mode(p, path));
        if (rv == APR_INCOMPLETE || APR_STATUS_IS_ENOTIMPL(rv))
            rv = APR_SUCCESS;
        if (rv == APR_SUCCESS)
            rv = apr_file_rename(tmp, path, p);
        if (rv != APR_SUCCESS)
            apr_file_remove(tmp, p);
    }
    if (rv != APR_SUCCESS) {
        *reason = sys_reason(p, "write", path, rv);
        return AFB_EIO;
    }
    return AFB_OK;
}

static afb_status_t rewrite_locked(apr_pool_t *p, const char *path, afb_store_edit_fn edit,
                                   void *baton, const char **reason)
{
    char *text = NULL;
    const char *out = NULL, *why = NULL;
    apr_size_t len = 0;
    size_t out_len = 0;
    afb_status_t st = afb_file_read(p, path, AFB_STORE_MAX_BYTES, &text, &len, NULL, &why);

    if (st == AFB_ENOENT) {
        text = apr_pstrdup(p, "");
        len = 0;
    }
    else if (st == AFB_ETOOBIG) {
        *reason = apr_psprintf(p, "%s is larger than %d bytes", path, AFB_STORE_MAX_BYTES);
        return st;
    }
    else if (st != AFB_OK) {
        *reason = apr_psprintf(p, "cannot read %s: %s", path, why);
        return AFB_EIO;
    }
    st = edit(p, baton, text, len, &out, &out_len);
    if (st != AFB_OK)
        return st;
    if (out_len > AFB_STORE_MAX_BYTES) {
        *reason = apr_psprintf(p, "%s would grow over %d bytes", path, AFB_STORE_MAX_BYTES);
        return AFB_ETOOBIG;
    }
    return replace_file(p, path, out, out_len, reason);
}

afb_status_t afb_storefile_rewrite(apr_pool_t *p, const char *path,
                                   const afb_store_lock_t *lock, afb_store_edit_fn edit,
                                   void *baton, const char **reason)
{
    apr_file_t *lf = NULL;
    afb_status_t st;
    int own = lock && lock->lock && lock->unlock;

    *reason = NULL;
    if (path == NULL || edit == NULL)
        return AFB_EINVAL;
    if (own && (st = lock->lock(lock->baton)) != AFB_OK) {
        *reason = "cannot take the store lock";
        return st;
    }
    pthread_mutex_lock(&storefile_mutex);
    st = file_lock(p, path, &lf, reason);
    if (st == AFB_OK) {
        st = rewrite_locked(p, path, edit, baton, reason);
        apr_file_unlock(lf);
        apr_file_close(lf);
    }
    pthread_mutex_unlock(&storefile_mutex);
    if (own)
        lock->unlock(lock->baton);
    return st;
}
