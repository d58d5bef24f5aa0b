/* The capped whole-file reader of include/authfb/file.h. */
#include "authfb/file.h"

#include <apr_strings.h>
#include <apr_file_io.h>

#define AFB_FILE_WANTED (APR_FINFO_TYPE | APR_FINFO_SIZE | APR_FINFO_MTIME | APR_FINFO_INODE | \
                         APR_FINFO_PROT)

static afb_status_t afb_file_failed(apr_pool_t *p, apr_status_t rv, const char **why)
{
    char ebuf[128];
    *why = apr_pstrdup(p, apr_strerror(rv, ebuf, sizeof(ebuf)));
    return APR_STATUS_IS_ENOENT(rv) ? AFB_ENOENT : AFB_EIO;
}

/* Opens path for reading if it is a regular file. */
static afb_status_t afb_file_open(apr_pool_t *p, const char *path, apr_file_t **f,
                                  const char **why)
{
    apr_finfo_t st;
    apr_status_t rv = apr_stat(&st, path, APR_FINFO_TYPE, p);
    if (rv == APR_INCOMPLETE)
        rv = APR_SUCCESS;
    if (rv != APR_SUCCESS)
        return afb_file_failed(p, rv, why);
    if (st.filetype != APR_REG) {
        *why = "not a regular file";
        return AFB_EINVAL;
    }
    rv = apr_file_open(f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, 0, p);
    return rv == APR_SUCCESS ? AFB_OK : afb_file_failed(p, rv, why);
}

afb_status_t afb_file_read(apr_pool_t *p, const char *path, apr_size_t max, char **text,
                           apr_size_t *len, apr_finfo_t *fi, const char **why)
{
    apr_finfo_t own;
    apr_file_t *f = NULL;
    char *buf;
    apr_status_t rv;
    afb_status_t st = afb_file_open(p, path, &f, why);
    if (!fi)
        fi = &own;
    if (st != AFB_OK)
        return st;
    rv = apr_file_info_get(fi, AFB_FILE_WANTED, f);
    if (rv == APR_INCOMPLETE)
        rv = APR_SUCCESS; /* a field the platform cannot give; size is always there */
    if (rv != APR_SUCCESS) {
        apr_file_close(f);
        return afb_file_failed(p, rv, why);
    }
    if (fi->size < 0 || (apr_size_t)fi->size > max) {
        apr_file_close(f);
        return AFB_ETOOBIG;
    }
    buf = apr_palloc(p, (apr_size_t)fi->size + 1);
    rv = apr_file_read_full(f, buf, (apr_size_t)fi->size, len);
    apr_file_close(f);
    if (rv != APR_SUCCESS && !APR_STATUS_IS_EOF(rv))
        return afb_file_failed(p, rv, why);
    buf[*len] = '\0';
    *text = buf;
    return AFB_OK;
}
