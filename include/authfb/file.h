/* The one reader of whole files the module takes from the disk (key files, secret files, the
 * password and TOTP stores, the override file): capped, NUL-terminated, and with the facts
 * of the file that was read (from the open file, so a rename in between cannot mix two). */
#ifndef AUTHFB_FILE_H
#define AUTHFB_FILE_H

#include "authfb/common.h"
#include <apr_file_info.h>

/* Reads the regular file at path (links followed), of at most max bytes, into *text
 * (NUL-terminated, allocated in p), its length in *len. fi, when not NULL, receives the open
 * file's type, size, mtime, inode and permissions. AFB_OK; AFB_ENOENT when there is no such
 * file; AFB_EINVAL when it is not a regular file (never opened: a FIFO would block);
 * AFB_ETOOBIG over max (fi filled); AFB_EIO when it cannot be opened or read. Unless AFB_OK
 * or AFB_ETOOBIG, *why is the reason ("not a regular file", or the system's text). Callers
 * zero *text when it held a secret. */
afb_status_t afb_file_read(apr_pool_t *p, const char *path, apr_size_t max, char **text,
                           apr_size_t *len, apr_finfo_t *fi, const char **why) AFB_MUST_CHECK;

#endif
