/* Stores written by the module (passkeys, enrolled TOTP secrets): a read-modify-write of one
 * file, atomic for every reader (a new copy is written beside it, flushed, then renamed over
 * it) and serialized for every writer:
 *
 *   - within one process, by a mutex of this file (every store, every thread), and by the
 *     lock the caller may pass (say an APR global mutex of a whole server);
 *   - across processes and httpd instances sharing the file (several nodes on shared
 *     storage), by an exclusive fcntl lock on `PATH.lock`, taken after the mutexes and waited
 *     for at most AFB_STORE_LOCK_WAIT (fcntl locks belong to a process: its threads take
 *     turns on the mutex first).
 *
 * Readers never lock: they see the old file or the new one, never a mix. The directory must
 * be writable by the httpd User (the rename happens there). docs/operations.md (Stores the
 * module writes) says how to share, back up and repair them. */
#ifndef AUTHFB_STOREFILE_H
#define AUTHFB_STOREFILE_H

#include "authfb/common.h"
#include "authfb/limits.h"

/* The caller's lock; both functions NULL (or the struct NULL) for none. */
typedef struct {
    void *baton;
    afb_status_t (*lock)(void *baton);
    void (*unlock)(void *baton);
} afb_store_lock_t;

/* Given the current text (len 0 for a missing or empty file; text NUL-terminated), set *out
 * and *out_len to the new text and return AFB_OK to write it; any other status leaves the file
 * alone and is returned by afb_storefile_rewrite. */
typedef afb_status_t (*afb_store_edit_fn)(apr_pool_t *p, void *baton, const char *text,
                                          size_t len, const char **out, size_t *out_len);

/* AFB_OK; the edit's own status; AFB_ETIMEOUT when the file lock stayed taken; AFB_EIO with
 * *reason (path and system error, never the content) when reading or writing failed;
 * AFB_ETOOBIG over AFB_STORE_MAX_BYTES. A new file gets mode 0640, an existing one keeps
 * its mode. */
afb_status_t afb_storefile_rewrite(apr_pool_t *p, const char *path,
                                   const afb_store_lock_t *lock, afb_store_edit_fn edit,
                                   void *baton, const char **reason) AFB_MUST_CHECK;

#endif
