/* File-backed stores (password hashes, TOTP secrets): loaded at configuration time, then
 * reloaded in each child when the sync job replaces the file. A store is data, not
 * configuration: a file that is missing, unreadable, too large or unusable as a whole never
 * stops httpd; the provider has no copy (it counts as DOWN, docs/operations.md) until the file
 * becomes good. A copy that fails to parse never replaces the last good one; a record that
 * cannot be used is left out with a warning. Generations are reference-counted so a reload
 * never frees a copy another thread is verifying against. */
#include <apr_strings.h>
#include <apr_file_io.h>
#include <apr_file_info.h>
#include <apr_thread_mutex.h>
#include <http_core.h>
#include <unixd.h>

#include "afb_filestore.h"
#include "afb_health.h"
#include "afb_log.h"
#include "afb_provider.h"
#include "authfb/file.h"
#include "authfb/event.h"
#include "authfb/log.h"
#include "authfb/names.h"

APLOG_USE_MODULE(auth_fallback);


struct afb_store_gen_t {
    apr_pool_t *pool;     /* NULL for the configuration-time copy (lives in pconf) */
    void *data;           /* NULL: no usable copy */
    afb_store_facts_t facts;
    afb_names_index_t *names; /* the store's names by key under the provider's rules */
    int refs;
};

struct afb_filestore_t {
    afb_provider_t *prov;
    afb_store_parse_fn *parse;  /* the owning type's format */
    apr_pool_t *parent;   /* pool new generations are made in */
    apr_thread_mutex_t *lock;
    afb_store_gen_t *current;
    apr_time_t checked;   /* last stat */
    apr_time_t mtime;     /* of the file the current copy (or the last failure) came from */
    apr_off_t size;
    apr_ino_t inode;
    const char *last_error; /* NULL when the file parsed */
    uint64_t held_sig;    /* the copy held back by the deletion guard, 0 = none */
    uint64_t copy_sig;    /* the copy in use here, 0 = none */
    const char *kept;     /* where the copy taken into use is kept for every child, or NULL
                           * (see afb_kept_write) */
};

/* The kept copy's first line: AFB_KEPT_MAGIC, the copy's identity in 16 hex digits, newline. */
#define AFB_KEPT_MAGIC "afb-store "
#define AFB_KEPT_HEAD (sizeof(AFB_KEPT_MAGIC) - 1 + 16 + 1)

static uint64_t afb_store_sig(apr_time_t mtime, apr_off_t size, apr_ino_t inode);

void afb_store_facts_set(afb_store_facts_t *facts, int records, const afb_skips_t *skips,
                         apr_array_header_t *users)
{
    facts->records = records;
    facts->skips = skips;
    facts->users = users;
}

afb_filestore_t *afb_filestore_create(apr_pool_t *p, afb_provider_t *prov,
                                      afb_store_parse_fn *parse)
{
    afb_filestore_t *fs = apr_pcalloc(p, sizeof(*fs));
    fs->prov = prov;
    fs->parse = parse;
    fs->parent = p;
    prov->filestore = fs;
    return fs;
}

static const char *afb_store_read(apr_pool_t *p, const char *path, const char **text,
                                  apr_size_t *len, apr_finfo_t *fi)
{
    char *buf = NULL;
    const char *why = NULL;
    afb_status_t st = afb_file_read(p, path, AFB_STORE_MAX_BYTES, &buf, len, fi, &why);
    if (st == AFB_ETOOBIG)
        return apr_psprintf(p, "%s is larger than %d bytes", path, AFB_STORE_MAX_BYTES);
    if (st != AFB_OK)
        return apr_psprintf(p, "cannot read %s: %s", path, why);
    *text = buf;
    return NULL;
}

/* One warning per record left out: file, line and reason, never the content. */
static void afb_store_warn_skips(afb_filestore_t *fs, const afb_skips_t *sk)
{
    int i;
    if (!sk || !sk->count)
        return;
    for (i = 0; sk->notes && i < sk->notes->nelts; i++)
        afb_log(AFB_LOG_WARN, 1101, "provider %s: %s %s: record left out",
                fs->prov->conf.name, fs->prov->conf.arg,
                APR_ARRAY_IDX(sk->notes, i, const char *));
    if (sk->count > AFB_SKIPS_NOTES_MAX)
        afb_log(AFB_LOG_WARN, 1102, "provider %s: %s: %d more records left out",
                fs->prov->conf.name, fs->prov->conf.arg, sk->count - AFB_SKIPS_NOTES_MAX);
}

/* A caseless or realm-stripping lookup finds a store name by its key (docs/directives.md,
 * "Name rules"); two names with one key are nobody's. */
static afb_names_index_t *afb_store_names(afb_filestore_t *fs, apr_pool_t *p,
                                          apr_array_header_t *users)
{
    const afb_provider_conf_t *pc = &fs->prov->conf;
    int clashes = 0;
    afb_names_index_t *ix = afb_names_index(p, &pc->names, users, &clashes);
    if (clashes)
        afb_log(AFB_LOG_WARN, 1300, "provider %s: %d names of %s are the same name under its "
                "name rules (names=, realms=): nobody signs in with them until they differ",
                pc->name, clashes, pc->arg);
    return ix;
}

static const char *afb_store_parse(afb_filestore_t *fs, apr_pool_t *p, const char *text,
                                   apr_size_t len, void **data, afb_store_facts_t *facts)
{
    afb_store_copy_t copy = {p, fs->prov->conf.name, fs->prov->conf.arg, text, len,
                             {1, 0, NULL, NULL}};
    const char *err = fs->parse(&copy, data);
    *facts = copy.facts;
    if (!err)
        afb_store_warn_skips(fs, facts->skips);
    return err;
}

static void afb_store_gen_fill(afb_filestore_t *fs, afb_store_gen_t *gen, apr_pool_t *p,
                               void *data, const afb_store_facts_t *facts)
{
    gen->data = data;
    gen->facts = *facts;
    gen->names = afb_store_names(fs, p, facts->users);
}

const char *afb_filestore_load_initial(afb_filestore_t *fs, apr_pool_t *ptemp)
{
    const char *text = NULL, *err;
    apr_size_t len = 0;
    apr_finfo_t fi;
    void *data = NULL;
    memset(&fi, 0, sizeof(fi));
    fs->current = apr_pcalloc(fs->parent, sizeof(*fs->current));
    fs->current->refs = 1;
    err = afb_store_read(ptemp, fs->prov->conf.arg, &text, &len, &fi);
    if (!err)
        err = afb_store_parse(fs, fs->parent, text, len, &data, &fs->current->facts);
    fs->mtime = fi.mtime;
    fs->size = fi.size;
    fs->inode = fi.inode;
    if (err) {
        /* Data, not configuration: httpd starts, this provider is DOWN until the file is good. */
        fs->last_error = apr_pstrdup(fs->parent, err);
        afb_log(AFB_LOG_ERR, 1100, "provider %s: store %s cannot be used, the provider is "
                "DOWN until it is fixed (no restart needed): %s", fs->prov->conf.name,
                fs->prov->conf.arg, err);
        return NULL;
    }
    afb_store_gen_fill(fs, fs->current, fs->parent, data, &fs->current->facts);
    fs->copy_sig = afb_store_sig(fs->mtime, fs->size, fs->inode);
    if (apr_stat(&fi, fs->prov->conf.arg, APR_FINFO_PROT | APR_FINFO_OWNER, ptemp) == APR_SUCCESS
        && !(fi.protection & (APR_FPROT_GREAD | APR_FPROT_WREAD)))
        afb_log(AFB_LOG_WARN, 1017, "provider %s: %s is readable by its owner only; reloads "
                "and health checks run as the httpd User, so give its group read access "
                "(e.g. chgrp www-data, chmod 0640)", fs->prov->conf.name, fs->prov->conf.arg);
    return NULL;
}

static apr_status_t afb_filestore_pool_cleanup(void *data)
{
    apr_pool_destroy(data);
    return APR_SUCCESS;
}

void afb_filestore_child_init(afb_filestore_t *fs, apr_pool_t *pchild)
{
    /* Worker threads make their own pools from pchild, which is not thread-safe to share:
     * reloaded copies live in a pool of this store's own, touched only under fs->lock. */
    apr_pool_t *own = NULL;
    if (apr_pool_create_unmanaged_ex(&own, NULL, NULL) == APR_SUCCESS) {
        fs->parent = own;
        apr_pool_cleanup_register(pchild, own, afb_filestore_pool_cleanup,
                                  apr_pool_cleanup_null);
    }
    apr_thread_mutex_create(&fs->lock, APR_THREAD_MUTEX_DEFAULT, pchild);
    /* A restart loads the file as it is: a copy held before it is in use now. */
    afb_health_store_accepted(fs->prov, afb_store_sig(fs->mtime, fs->size, fs->inode));
}

static void afb_gen_unref(afb_store_gen_t *gen)
{
    if (--gen->refs == 0 && gen->pool)
        apr_pool_destroy(gen->pool);
}

/* The identity of one version of the file, as the children and the override file's release
 * refer to it: never 0. */
static uint64_t afb_store_sig(apr_time_t mtime, apr_off_t size, apr_ino_t inode)
{
    uint64_t h = (uint64_t)mtime * 0x9E3779B97F4A7C15ull;
    h ^= ((uint64_t)size + 0x632BE59BD9B4E019ull) * 0xBF58476D1CE4E5B9ull;
    h ^= ((uint64_t)inode + 0x85EBCA77C2B2AE63ull) * 0x94D049BB133111EBull;
    return h ? h : 1;
}

static void afb_store_held_report(afb_filestore_t *fs, apr_pool_t *p, int before, int after,
                                  int removed)
{
    afb_event_t *ev = afb_event_new(p, "store.held", apr_time_now());
    const afb_provider_conf_t *pc = &fs->prov->conf;
    const char *limit = apr_psprintf(p, "%ld%s", pc->max_delete, pc->max_delete_pct ? "%" : "");
    afb_log(AFB_LOG_WARN, 1103, "provider %s: new copy of %s held back, the last good copy "
            "stays in use: it would remove %d of %d users (%d after; max_delete=%s). If that "
            "is intended, add the line '%s release' to the AuthFallbackOverrideFile",
            pc->name, pc->arg, removed, before, after, limit, pc->name);
    afb_event_str(ev, "provider", pc->name);
    afb_event_str(ev, "file", pc->arg);
    afb_event_int(ev, "users_before", before);
    afb_event_int(ev, "users_after", after);
    afb_event_int(ev, "removed", removed);
    afb_event_str(ev, "max_delete", limit);
    afb_event_write(fs->prov->mod, afb_event_line(ev));
}

/* Users of the copy in memory that the new copy no longer has. */
static int afb_store_removed(apr_pool_t *p, const apr_array_header_t *old,
                             const apr_array_header_t *fresh)
{
    apr_hash_t *now = apr_hash_make(p);
    int i, removed = 0;
    for (i = 0; fresh && i < fresh->nelts; i++)
        apr_hash_set(now, APR_ARRAY_IDX(fresh, i, const char *), APR_HASH_KEY_STRING, "");
    for (i = 0; old && i < old->nelts; i++)
        removed += !apr_hash_get(now, APR_ARRAY_IDX(old, i, const char *), APR_HASH_KEY_STRING);
    return removed;
}

/* ---- the copy taken into use, kept for every child ----
 * A child reads the file when a sign-in reaches it, so it may never have seen the last copy
 * taken into use before the file changed again. When the next copy is held back, "the last
 * good copy" must be the same in every child: the child that takes a copy into use keeps its
 * bytes under DefaultRuntimeDir (auth_fallback/NAME.store, 0600, the httpd User's), and a
 * child whose copy is not that one loads it from there (docs/operations.md, "The deletion
 * guard"). */

static void afb_kept_head(char *head, apr_size_t size, uint64_t sig)
{
    apr_snprintf(head, size, AFB_KEPT_MAGIC "%016" APR_UINT64_T_HEX_FMT "\n", sig);
}

static void afb_kept_write(afb_filestore_t *fs, apr_pool_t *p, const char *text,
                           apr_size_t len, uint64_t sig)
{
    const char *tmp;
    char head[AFB_KEPT_HEAD + 1];
    apr_file_t *f = NULL;
    apr_status_t rv;
    if (!fs->kept)
        return;
    tmp = apr_psprintf(p, "%s.%ld.tmp", fs->kept, (long)getpid());
    afb_kept_head(head, sizeof(head), sig);
    rv = apr_file_open(&f, tmp, APR_FOPEN_WRITE | APR_FOPEN_CREATE | APR_FOPEN_TRUNCATE,
                       APR_FPROT_UREAD | APR_FPROT_UWRITE, p);
    if (rv == APR_SUCCESS)
        rv = apr_file_write_full(f, head, AFB_KEPT_HEAD, NULL);
    if (rv == APR_SUCCESS && len)
        rv = apr_file_write_full(f, text, len, NULL);
    if (f && apr_file_close(f) != APR_SUCCESS && rv == APR_SUCCESS)
        rv = APR_EGENERAL;
    if (rv == APR_SUCCESS)
        rv = apr_file_rename(tmp, fs->kept, p);
    if (rv != APR_SUCCESS) {
        apr_file_remove(tmp, p);
        afb_log(AFB_LOG_WARN, 1490, "provider %s: cannot keep the copy of %s taken into use "
                "in %s (%d): a child that missed it keeps its own copy while a later one is "
                "held back", fs->prov->conf.name, fs->prov->conf.arg, fs->kept, (int)rv);
    }
}

/* 1 when the copy kept is sig. */
static int afb_kept_is(const afb_filestore_t *fs, apr_pool_t *p, uint64_t sig)
{
    char head[AFB_KEPT_HEAD + 1], got[AFB_KEPT_HEAD];
    apr_file_t *f = NULL;
    apr_size_t n = 0;
    int same;
    if (!fs->kept || apr_file_open(&f, fs->kept, APR_FOPEN_READ, 0, p) != APR_SUCCESS)
        return 0;
    same = apr_file_read_full(f, got, sizeof(got), &n) == APR_SUCCESS && n == sizeof(got);
    apr_file_close(f);
    afb_kept_head(head, sizeof(head), sig);
    return same && !memcmp(got, head, AFB_KEPT_HEAD);
}

/* Puts a parsed copy (made in p, which the new generation owns) into use here. */
static void afb_store_use(afb_filestore_t *fs, apr_pool_t *p, void *data,
                          const afb_store_facts_t *facts, uint64_t sig)
{
    afb_store_gen_t *gen = apr_pcalloc(p, sizeof(*gen));
    gen->pool = p;
    afb_store_gen_fill(fs, gen, p, data, facts);
    gen->refs = 1;
    afb_gen_unref(fs->current);
    fs->current = gen;
    fs->copy_sig = sig;
    fs->last_error = NULL;
}

/* This child's copy is not the one taken into use last (it never read that one): it loads
 * the kept copy, so every child keeps, and compares with, the same last good copy. */
static void afb_store_catch_up(afb_filestore_t *fs)
{
    uint64_t taken = afb_health_store_taken(fs->prov);
    char head[AFB_KEPT_HEAD + 1], *text = NULL;
    const char *why = NULL;
    apr_size_t len = 0;
    afb_store_facts_t facts;
    void *data = NULL;
    apr_pool_t *p;
    if (!taken || taken == fs->copy_sig || !fs->kept)
        return;
    apr_pool_create(&p, fs->parent);
    afb_kept_head(head, sizeof(head), taken);
    if (afb_file_read(p, fs->kept, AFB_STORE_MAX_BYTES + AFB_KEPT_HEAD, &text, &len, NULL,
                      &why) != AFB_OK || len < AFB_KEPT_HEAD ||
        memcmp(text, head, AFB_KEPT_HEAD) ||
        afb_store_parse(fs, p, text + AFB_KEPT_HEAD, len - AFB_KEPT_HEAD, &data, &facts)) {
        apr_pool_destroy(p); /* another copy was taken since, or none was kept */
        return;
    }
    afb_store_use(fs, p, data, &facts, taken);
    afb_log(AFB_LOG_INFO, 1491, "provider %s: loaded the copy of %s taken into use while "
            "this process had not read it", fs->prov->conf.name, fs->prov->conf.arg);
}

/* The deletion guard (max_delete=): 1 when the new copy must be held back. The first child
 * to read a copy decides for all; every child compares with the copy taken into use last. */
static int afb_store_guard(afb_filestore_t *fs, apr_pool_t *p, const afb_store_facts_t *fresh,
                           uint64_t sig)
{
    const afb_store_facts_t *old;
    int before, after, removed, decided = afb_health_store_decided(fs->prov, sig);
    if (decided > 0)
        return 0;
    afb_store_catch_up(fs);
    old = &fs->current->facts;
    if (!fs->current->data)
        return 0;
    if (decided < 0) { /* another child held this copy back: so does this one */
        fs->held_sig = sig;
        return 1;
    }
    before = old->records;
    after = fresh->records;
    removed = afb_store_removed(p, old->users, fresh->users);
    if (!afb_store_guard_holds(&fs->prov->conf, before, removed))
        return 0;
    if (fs->held_sig != sig && afb_health_store_hold(fs->prov, sig, after, before))
        afb_store_held_report(fs, p, before, after, removed);
    fs->held_sig = sig;
    return 1;
}

/* Called with the lock held. */
static void afb_filestore_refresh(afb_filestore_t *fs, apr_time_t now)
{
    apr_finfo_t fi;
    apr_pool_t *p;
    const char *text = NULL, *err;
    apr_size_t len = 0;
    void *data = NULL;
    afb_store_facts_t facts;
    uint64_t sig;

    fs->checked = now;
    if (apr_stat(&fi, fs->prov->conf.arg, APR_FINFO_MTIME | APR_FINFO_SIZE | APR_FINFO_INODE,
                 fs->parent) != APR_SUCCESS)
        return; /* a missing file keeps the last good copy; the health check reports it */
    if (fi.mtime == fs->mtime && fi.size == fs->size && fi.inode == fs->inode &&
        !(fs->held_sig && afb_health_store_released(fs->prov, fs->held_sig)))
        return;
    apr_pool_create(&p, fs->parent);
    err = afb_store_read(p, fs->prov->conf.arg, &text, &len, &fi);
    if (!err)
        err = afb_store_parse(fs, p, text, len, &data, &facts);
    fs->mtime = fi.mtime;
    fs->size = fi.size;
    fs->inode = fi.inode;
    if (err) {
        afb_log(AFB_LOG_ERR, 3, "provider %s: %s changed but cannot be used, keeping the "
                "last good copy: %s", fs->prov->conf.name, fs->prov->conf.arg, err);
        fs->last_error = apr_pstrdup(fs->parent, err);
        apr_pool_destroy(p);
        return;
    }
    sig = afb_store_sig(fi.mtime, fi.size, fi.inode);
    if (afb_store_guard(fs, p, &facts, sig)) {
        apr_pool_destroy(p);
        return;
    }
    /* Kept before it is announced, so a child told of it finds it; a copy the operator
     * released is kept by the first child that takes it. */
    if (!afb_kept_is(fs, p, sig))
        afb_kept_write(fs, p, text, len, sig);
    if (afb_health_store_taken(fs->prov) != sig)
        afb_health_store_take(fs->prov, sig);
    fs->held_sig = 0;
    afb_health_store_accepted(fs->prov, 0);
    afb_store_use(fs, p, data, &facts, sig);
    afb_log(AFB_LOG_INFO, 4, "provider %s: reloaded %s", fs->prov->conf.name,
            fs->prov->conf.arg);
}

const char *afb_filestore_keep_dir(apr_pool_t *pconf, server_rec *s)
{
    const char *dir = ap_runtime_dir_relative(pconf, "auth_fallback");
    apr_status_t rv = dir ? apr_dir_make(dir, APR_FPROT_UREAD | APR_FPROT_UWRITE |
                                         APR_FPROT_UEXECUTE, pconf) : APR_EGENERAL;
    if (rv != APR_SUCCESS && !APR_STATUS_IS_EEXIST(rv)) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, "AFB01492: cannot make %s: a child that "
                     "missed the copy of a store taken into use keeps its own copy while a "
                     "later one is held back", dir ? dir : "DefaultRuntimeDir/auth_fallback");
        return NULL;
    }
    if (!geteuid() && chown(dir, ap_unixd_config.user_id, ap_unixd_config.group_id))
        ap_log_error(APLOG_MARK, APLOG_WARNING, APR_FROM_OS_ERROR(errno), s, "AFB01493: "
                     "cannot give %s to the httpd User", dir);
    return dir;
}

void afb_filestore_post_config(afb_filestore_t *fs, const char *dir, apr_pool_t *pconf)
{
    fs->kept = dir ? apr_pstrcat(pconf, dir, "/", fs->prov->conf.name, ".store", NULL) : NULL;
    afb_health_store_take(fs->prov, fs->copy_sig);
}

int afb_filestore_usable(afb_filestore_t *fs)
{
    afb_store_gen_t *gen = afb_filestore_acquire(fs);
    int usable = gen->data != NULL;
    afb_filestore_release(fs, gen);
    return usable;
}

afb_store_gen_t *afb_filestore_acquire(afb_filestore_t *fs)
{
    afb_store_gen_t *gen;
    apr_time_t now = apr_time_now();
    if (fs->lock)
        apr_thread_mutex_lock(fs->lock);
    if (fs->lock && now - fs->checked >= AFB_STORE_CHECK_EVERY)
        afb_filestore_refresh(fs, now);
    gen = fs->current;
    gen->refs++;
    if (fs->lock)
        apr_thread_mutex_unlock(fs->lock);
    return gen;
}

void afb_filestore_release(afb_filestore_t *fs, afb_store_gen_t *gen)
{
    if (fs->lock)
        apr_thread_mutex_lock(fs->lock);
    afb_gen_unref(gen);
    if (fs->lock)
        apr_thread_mutex_unlock(fs->lock);
}

void *afb_store_gen_data(afb_store_gen_t *gen)
{
    return gen->data;
}

afb_status_t afb_filestore_probe(apr_pool_t *p, const afb_filestore_t *fs, void **data,
                                 apr_finfo_t *fi, const char **reason)
{
    char *text = NULL;
    apr_size_t len = 0;
    const char *err = NULL;
    afb_store_copy_t copy;
    afb_status_t st = afb_file_read(p, fs->prov->conf.arg, AFB_STORE_MAX_BYTES, &text, &len, fi,
                                    reason);
    if (st == AFB_ETOOBIG)
        *reason = "file too large";
    else if (st != AFB_OK)
        *reason = apr_psprintf(p, "cannot read %s: %s", fs->prov->conf.arg, *reason);
    if (st != AFB_OK)
        return st == AFB_ETOOBIG ? st : AFB_EIO;
    memset(&copy, 0, sizeof(copy));
    copy.p = p;
    copy.path = fs->prov->conf.arg;
    copy.text = text;
    copy.len = len;
    err = fs->parse(&copy, data);
    memset(text, 0, len);
    if (err) {
        *reason = apr_pstrcat(p, "does not parse: ", err, NULL);
        return AFB_EINVAL;
    }
    afb_health_store_seen(fs->prov, copy.facts.records,
                          copy.facts.skips ? copy.facts.skips->count : 0);
    return AFB_OK;
}

const char *afb_store_gen_name(afb_store_gen_t *gen, const char *key)
{
    return afb_names_index_find(gen->names, key);
}

const char *afb_store_gen_find(const afb_filestore_t *fs, afb_store_gen_t *gen, apr_pool_t *p,
                               const char *name)
{
    afb_name_t n;
    if (afb_names_apply(p, &fs->prov->conf.names, name, &n) != AFB_OK)
        return NULL;
    return afb_names_index_find(gen->names, n.key);
}
