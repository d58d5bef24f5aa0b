/* File-backed stores (afb_filestore.c): a file loaded at configuration time and reloaded in
 * each child when it changes, the last good copy kept; a store is data, not configuration
 * (a file that cannot be used leaves its provider DOWN, never stops httpd), and the deletion
 * guard (max_delete=) holds back a copy that would remove too many users. The type that owns
 * the store (the password and TOTP types) gives its format; the store knows nothing of it. */
#ifndef AFB_FILESTORE_H
#define AFB_FILESTORE_H

#include <httpd.h>
#include <apr_file_info.h>

#include "afb_conf.h"
#include "authfb/common.h"
#include "authfb/limits.h"
#include "authfb/util.h"

/* One generation of a loaded store. Generations are reference-counted so a reload never
 * frees a copy another thread uses. */
typedef struct afb_store_gen_t afb_store_gen_t;
typedef struct afb_filestore_t afb_filestore_t;

/* What the store needs to know of a parsed copy (set with afb_store_facts_set). */
typedef struct {
    int want_users;               /* in: fill users (a reload, for the deletion guard) */
    int records;                  /* users in the copy */
    const afb_skips_t *skips;     /* records left out, or NULL */
    apr_array_header_t *users;    /* const char*, when wanted */
} afb_store_facts_t;

/* One copy of the file, as read, for the owning type's parser. */
typedef struct {
    apr_pool_t *p;                /* where the parsed copy lives */
    const char *name;             /* the provider's, for warnings about the content; NULL:
                                   * a health probe, quiet */
    const char *path;
    const char *text;
    apr_size_t len;
    afb_store_facts_t facts;      /* out, with afb_store_facts_set */
} afb_store_copy_t;

/* Parse a copy into *data (allocated in copy->p) and tell its facts: NULL, or why it cannot
 * be used. */
typedef const char *afb_store_parse_fn(afb_store_copy_t *copy, void **data);
void afb_store_facts_set(afb_store_facts_t *facts, int records, const afb_skips_t *skips,
                         apr_array_header_t *users);

/* The store of prov (conf.arg is its file), in the owning type's format. */
afb_filestore_t *afb_filestore_create(apr_pool_t *p, afb_provider_t *prov,
                                      afb_store_parse_fn *parse);
/* Loads the file now. Returns NULL: a store that cannot be used is logged and leaves the
 * provider without a copy (DOWN) until the file is good; it never fails the configuration. */
const char *afb_filestore_load_initial(afb_filestore_t *fs, apr_pool_t *ptemp);
void afb_filestore_child_init(afb_filestore_t *fs, apr_pool_t *pchild);
/* In the parent after afb_health_post_config, the deletion guard's copy taken into use, kept
 * for every child (docs/operations.md, "The deletion guard"): the directory, made for the
 * httpd User under DefaultRuntimeDir (NULL when it cannot be made), then each store's file
 * in it; the copy loaded now is the one taken last. */
const char *afb_filestore_keep_dir(apr_pool_t *pconf, server_rec *s);
void afb_filestore_post_config(afb_filestore_t *fs, const char *dir, apr_pool_t *pconf);
/* The current generation, reloading when the file changed (checked at most once per
 * AFB_STORE_CHECK_EVERY). Release with afb_filestore_release. Never NULL once loaded
 * initially (its data may be: no usable copy). */
afb_store_gen_t *afb_filestore_acquire(afb_filestore_t *fs);
void afb_filestore_release(afb_filestore_t *fs, afb_store_gen_t *gen);
void *afb_store_gen_data(afb_store_gen_t *gen);
/* The store's own spelling of the name with this key (authfb/names.h), or NULL. */
const char *afb_store_gen_name(afb_store_gen_t *gen, const char *key);
/* The same for a name as given (the rules of the store's provider applied first). */
const char *afb_store_gen_find(const afb_filestore_t *fs, afb_store_gen_t *gen, apr_pool_t *p,
                               const char *name);
/* 1 when the store has a usable copy (checks the file for a new one, at most once per
 * AFB_STORE_CHECK_EVERY). */
int afb_filestore_usable(afb_filestore_t *fs);

/* The health probe of a store: read the file as it is now (capped), parse it, zero the
 * copy, tell the health table how many records it has and left out. AFB_OK with *data and
 * *fi; AFB_EIO, AFB_ETOOBIG or AFB_EINVAL with *reason. */
afb_status_t afb_filestore_probe(apr_pool_t *p, const afb_filestore_t *fs, void **data,
                                 apr_finfo_t *fi, const char **reason);

#endif
