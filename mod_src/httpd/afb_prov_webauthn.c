/* The `webauthn` provider type: passkeys (docs/architecture.md, Passkeys). The checks are the
 * core's (authfb/webauthn.h); here: the relying party of a request, the challenge cookie, the
 * store (read through afb_filestore, written under a lock with storefile.c), and two pages
 * under the endpoint, ENDPOINT/passkey:
 *
 *   - a first factor, "Sign in with a passkey" (discoverable credentials). start() seals the
 *     sign-in into a cookie of its own and sends the person there, so the flow cookie holds
 *     the standby path, offered as "Sign in with a password instead". With user verification
 *     the passkey is the session's second factor too; without, the MFA chain follows.
 *   - a second factor: when it is this provider's turn, the MFA page is "Use my passkey"
 *     (its answer posted to ENDPOINT/passkey?mfa=1), with "Use a code instead" when a later
 *     provider of the chain takes codes. */
#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>

#include "afb_prov_webauthn.h"
#include "afb_cache.h"
#include "afb_cookie.h"
#include "afb_filestore.h"
#include "afb_flow.h"
#include "afb_health.h"
#include "afb_mfa_chain.h"
#include "afb_page.h"
#include "afb_route.h"
#include "afb_session.h"
#include "afb_throttle.h"
#include "authfb/file.h"
#include "authfb/log.h"
#include "authfb/util.h"

APLOG_USE_MODULE(auth_fallback);

#define AFB_BAD_PASSKEY "The passkey was not accepted. Use a passkey set up for this site."

typedef struct {
    afb_filestore_t *fs;
    const char *rp_id;        /* rp_id=, or NULL: the virtual host's ServerName */
    afb_wa_rp_t origins;      /* origins=; n_origins 0: the default of the RP ID */
    afb_wa_uv_t uv;
} afb_wa_rt_t;

int afb_wa_is(const afb_provider_t *prov)
{
    return prov && prov->ops == &afb_prov_webauthn;
}

/* ---- the store ------------------------------------------------------------------------- */

static const char *afb_wa_parse(afb_store_copy_t *copy, void **data)
{
    afb_passkey_store_t *ps = NULL;
    if (afb_passkey_store_parse(copy->p, copy->text, copy->len, &ps) != AFB_OK)
        return "not a passkey store (its first line must be \"" AFB_PASSKEY_HEADER "\")";
    afb_store_facts_set(&copy->facts, afb_passkey_store_count(ps), afb_passkey_store_skips(ps),
                        copy->facts.want_users ? afb_passkey_store_users(ps, copy->p) : NULL);
    *data = ps;
    return NULL;
}

/* The store as the file says now (enrollment lists, and a miss of the loaded copy: another
 * child or server may have enrolled it less than a second ago). NULL when unusable. */
static afb_passkey_store_t *afb_wa_fresh(request_rec *r, const afb_provider_t *prov)
{
    char *text = NULL;
    const char *why = NULL;
    apr_size_t len = 0;
    afb_passkey_store_t *ps = NULL;
    if (afb_file_read(r->pool, prov->conf.arg, AFB_STORE_MAX_BYTES, &text, &len, NULL, &why)
        != AFB_OK || afb_passkey_store_parse(r->pool, text, len, &ps) != AFB_OK)
        return NULL;
    return ps;
}

apr_array_header_t *afb_wa_list(request_rec *r, afb_provider_t *prov, const char *user)
{
    return afb_passkey_store_for_user(afb_wa_fresh(r, prov), r->pool, user);
}

/* The credential with this id, copied into r->pool, or NULL. */
static afb_passkey_t *afb_wa_lookup(request_rec *r, afb_provider_t *prov, const char *id)
{
    afb_wa_rt_t *rt = prov->runtime;
    afb_store_gen_t *gen = afb_filestore_acquire(rt->fs);
    const afb_passkey_t *c = afb_passkey_store_find(afb_store_gen_data(gen), id);
    afb_passkey_t *copy = NULL;
    if (!c)
        c = afb_passkey_store_find(afb_wa_fresh(r, prov), id);
    if (c) {
        copy = apr_pmemdup(r->pool, c, sizeof(*c));
        copy->user = apr_pstrdup(r->pool, c->user);
        copy->id = apr_pstrdup(r->pool, c->id);
        copy->key.key = apr_pmemdup(r->pool, c->key.key, c->key.key_len);
    }
    afb_filestore_release(rt->fs, gen);
    return copy;
}

typedef enum {
    AFB_WA_EDIT_TOUCH, AFB_WA_EDIT_ADD, AFB_WA_EDIT_REMOVE, AFB_WA_EDIT_LABEL
} afb_wa_edit_kind_t;

typedef struct {
    afb_wa_edit_kind_t kind;
    afb_passkey_t cred;       /* user, id; the whole record for ADD; label for LABEL */
    uint32_t count;           /* TOUCH: the authenticator's new count */
    int counted;              /* TOUCH: the count was judged against the fresh store */
    int too_many;             /* ADD: the user has AFB_PASSKEY_MAX_PER_USER already */
} afb_wa_edit_t;

static afb_status_t afb_wa_apply(afb_passkey_store_t *s, apr_pool_t *p, afb_wa_edit_t *e)
{
    const afb_passkey_t *c;
    afb_status_t st;
    switch (e->kind) {
    case AFB_WA_EDIT_ADD:
        st = afb_passkey_store_add(s, p, &e->cred);
        e->too_many = st == AFB_ETOOBIG;
        return e->too_many ? AFB_EMISMATCH : st;
    case AFB_WA_EDIT_REMOVE:
        return afb_passkey_store_remove(s, e->cred.user, e->cred.id);
    case AFB_WA_EDIT_LABEL:
        return afb_passkey_store_label(s, p, e->cred.user, e->cred.id, e->cred.label);
    case AFB_WA_EDIT_TOUCH:
        c = afb_passkey_store_find(s, e->cred.id);
        if (!c)
            return AFB_ENOENT;
        e->counted = 1;
        if (!afb_wa_sign_count_ok(c->sign_count, e->count))
            return AFB_EREPLAY;
        return afb_passkey_store_touch(s, e->cred.user, e->cred.id, e->count, apr_time_now());
    }
    return AFB_EINVAL;
}

static afb_status_t afb_wa_edit(apr_pool_t *p, void *baton, const char *text, size_t len,
                                const char **out, size_t *out_len)
{
    afb_passkey_store_t *s = NULL;
    afb_status_t st;
    if (afb_passkey_store_parse(p, text, len, &s) != AFB_OK)
        return AFB_EIO; /* not a passkey store: never overwritten */
    if ((st = afb_wa_apply(s, p, baton)) != AFB_OK)
        return st;
    *out = afb_passkey_store_format(s, p, out_len);
    return AFB_OK;
}

/* Rewrite the store with one edit. AFB_EIO (logged) when the file could not be written. */
static afb_status_t afb_wa_store_edit(request_rec *r, afb_provider_t *prov, afb_wa_edit_t *e)
{
    const char *why = NULL;
    afb_status_t st = afb_storefile_rewrite(r->pool, prov->conf.arg, NULL,
                                            afb_wa_edit, e, &why);
    if (st == AFB_EIO || st == AFB_ETIMEOUT || st == AFB_ETOOBIG) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "AFB01381: provider %s: cannot update the "
                      "passkey store: %s", prov->conf.name, why ? why : "not a passkey store");
        return AFB_EIO;
    }
    return st;
}

afb_status_t afb_wa_remove(request_rec *r, afb_provider_t *prov, const char *user,
                           const char *id)
{
    afb_wa_edit_t e;
    memset(&e, 0, sizeof(e));
    e.kind = AFB_WA_EDIT_REMOVE;
    e.cred.user = user;
    e.cred.id = id;
    return afb_wa_store_edit(r, prov, &e);
}

afb_status_t afb_wa_rename(request_rec *r, afb_provider_t *prov, const char *user,
                           const char *id, const char *label)
{
    afb_wa_edit_t e;
    memset(&e, 0, sizeof(e));
    e.kind = AFB_WA_EDIT_LABEL;
    e.cred.user = user;
    e.cred.id = id;
    e.cred.label = afb_passkey_label_clean(r->pool, label, "Passkey");
    return afb_wa_store_edit(r, prov, &e);
}

/* ---- the type's table entries -------------------------------------------------------- */

static const char *afb_wa_configure(afb_provider_t *prov, apr_pool_t *pconf, apr_pool_t *ptemp)
{
    afb_wa_rt_t *rt = apr_pcalloc(pconf, sizeof(*rt));
    const char *origins = apr_table_get(prov->conf.params, "origins"), *why = NULL;
    afb_wa_init();
    rt->rp_id = apr_table_get(prov->conf.params, "rp_id");
    if (afb_wa_uv_parse(apr_table_get(prov->conf.params, "user_verification"), &rt->uv)
        != AFB_OK)
        rt->uv = AFB_WA_UV_REQUIRED;
    if (origins && afb_wa_origins_parse(pconf, origins, &rt->origins, &why) != AFB_OK)
        return why;
    prov->conf.arg = ap_server_root_relative(pconf, prov->conf.arg);
    rt->fs = afb_filestore_create(pconf, prov, afb_wa_parse);
    prov->runtime = rt;
    return afb_filestore_load_initial(rt->fs, ptemp);
}

static void afb_wa_child_init(afb_provider_t *prov, apr_pool_t *pchild, afb_http_t *http)
{
    afb_wa_rt_t *rt = prov->runtime;
    (void)http;
    afb_filestore_child_init(rt->fs, pchild);
}

static afb_status_t afb_wa_probe(afb_provider_t *prov, apr_pool_t *p, const char **reason)
{
    afb_wa_rt_t *rt = prov->runtime;
    void *data = NULL;
    apr_finfo_t fi;
    return afb_filestore_probe(p, rt->fs, &data, &fi, reason);
}

static int afb_wa_ready(const afb_provider_t *prov)
{
    return afb_filestore_usable(((afb_wa_rt_t *)prov->runtime)->fs);
}

static int afb_wa_enrolled(const afb_provider_t *prov, apr_pool_t *p, const char *user)
{
    afb_wa_rt_t *rt = prov->runtime;
    afb_store_gen_t *gen = afb_filestore_acquire(rt->fs);
    int n = afb_passkey_store_for_user(afb_store_gen_data(gen), p, user)->nelts;
    afb_filestore_release(rt->fs, gen);
    return n > 0;
}

/* ---- the relying party and the form ----------------------------------------------------- */

/* rp_id= or the virtual host's name; origins= or https:// + the RP ID (+ the port when not
 * 443). */
static afb_wa_rp_t afb_wa_rp(request_rec *r, const afb_provider_t *prov)
{
    const afb_wa_rt_t *rt = prov->runtime;
    afb_wa_rp_t rp = rt->origins;
    rp.rp_id = rt->rp_id ? rt->rp_id : r->server->server_hostname;
    rp.uv = rt->uv;
    if (rp.n_origins == 0) {
        rp.origins[0] = afb_wa_default_origin(r->pool, rp.rp_id, r->server->port);
        rp.n_origins = 1;
    }
    return rp;
}

static const char *afb_wa_cookie_name(request_rec *r, const char *what)
{
    return apr_pstrcat(r->pool, afb_module(r->server)->cookie_name, what, NULL);
}

/* An opaque, stable user handle: 16 bytes of a MAC of the user name. */
static const char *afb_wa_user_handle(request_rec *r, const char *user)
{
    unsigned char mac[32];
    const char *in = apr_pstrcat(r->pool, "webauthn-user:", user, NULL);
    if (afb_keyring_mac(afb_module(r->server)->keyring, in, strlen(in), mac) != AFB_OK)
        return NULL;
    return afb_b64url_encode(r->pool, mac, 16);
}

static const char *afb_wa_ids(request_rec *r, afb_provider_t *prov, const char *user)
{
    apr_array_header_t *list = afb_wa_list(r, prov, user);
    apr_array_header_t *ids = apr_array_make(r->pool, list->nelts, sizeof(const char *));
    int i;
    for (i = 0; i < list->nelts; i++)
        APR_ARRAY_PUSH(ids, const char *) = APR_ARRAY_IDX(list, i, afb_passkey_t *)->id;
    return apr_array_pstrcat(r->pool, ids, ',');
}

static const char *afb_wa_hidden_fields(request_rec *r, const char *csrf, int create)
{
    return apr_pstrcat(r->pool,
        "<input type=\"hidden\" name=\"csrf\" value=\"", afb_html_escape(r->pool, csrf), "\">"
        "<input type=\"hidden\" name=\"passkey\" value=\"1\">"
        "<input type=\"hidden\" name=\"credential\"><input type=\"hidden\" name=\"client_data\">",
        create ? "<input type=\"hidden\" name=\"attestation\">"
               : "<input type=\"hidden\" name=\"authenticator_data\">"
                 "<input type=\"hidden\" name=\"signature\">",
        "<p class=\"err pkerr\" role=\"status\" hidden></p>", NULL);
}

const char *afb_wa_form(request_rec *r, afb_provider_t *prov, const afb_wa_form_t *f)
{
    afb_module_t *mod = afb_module(r->server);
    afb_wa_rp_t rp = afb_wa_rp(r, prov);
    afb_wa_pending_t pending;
    const char *cookie = NULL, *user_attrs = "";
    int create = f->kind == AFB_WA_CREATE;
    if (afb_wa_challenge_new(mod->keyring, r->pool, f->kind, f->user, f->csrf,
                             apr_time_now() + apr_time_from_sec(AFB_WEBAUTHN_CHALLENGE_LIFETIME),
                             &pending, &cookie) != AFB_OK)
        return NULL;
    afb_cookie_set(r, afb_wa_cookie_name(r, "_wa"), cookie, AFB_WEBAUTHN_CHALLENGE_LIFETIME,
                   mod->endpoint);
    if (create)
        user_attrs = apr_pstrcat(r->pool, " data-user=\"", afb_html_escape(r->pool, f->user),
                                 "\" data-userid=\"", afb_wa_user_handle(r, f->user),
                                 "\" data-exclude=\"", afb_wa_ids(r, prov, f->user), "\"", NULL);
    else if (f->user)
        user_attrs = apr_pstrcat(r->pool, " data-allow=\"", afb_wa_ids(r, prov, f->user), "\"",
                                 NULL);
    return apr_pstrcat(r->pool,
        "<form method=\"post\" action=\"", afb_html_escape(r->pool, f->action), "\" "
        "data-passkey=\"", create ? "create" : "get", "\" data-challenge=\"", pending.challenge,
        "\" data-rp=\"", afb_html_escape(r->pool, rp.rp_id), "\" data-uv=\"",
        afb_wa_uv_name(rp.uv), "\"", user_attrs, ">", afb_wa_hidden_fields(r, f->csrf, create),
        f->extra ? f->extra : "", "<button type=\"submit\" class=\"passkey\">",
        afb_html_escape(r->pool, f->button), "</button></form>"
        "<script>", afb_wa_browser_script(), "</script>", NULL);
}

/* ---- checking an answer ---------------------------------------------------------------- */

static int afb_wa_field(request_rec *r, apr_table_t *form, const char *name, size_t max,
                        unsigned char **out, size_t *len)
{
    const char *v = apr_table_get(form, name);
    return v && *v && strlen(v) <= (max * 4 + 2) / 3
           && afb_b64url_decode(r->pool, v, strlen(v), out, len) == AFB_OK && *len <= max;
}

static afb_status_t afb_wa_refuse(afb_wa_outcome_t *out, const char *reason, afb_status_t st)
{
    out->reason = reason;
    return st;
}

/* The sealed challenge of this form, opened under `bind`, of the wanted kind. */
static afb_status_t afb_wa_pending(request_rec *r, const char *bind, afb_wa_kind_t kind,
                                   afb_wa_pending_t *pending, afb_wa_outcome_t *out)
{
    afb_module_t *mod = afb_module(r->server);
    const char *c = afb_cookie_get(r, afb_wa_cookie_name(r, "_wa"));
    afb_status_t st = c ? afb_wa_pending_open(mod->keyring, r->pool, c, bind, apr_time_now(),
                                              pending)
                        : AFB_ENOENT;
    afb_cookie_clear(r, afb_wa_cookie_name(r, "_wa"), mod->endpoint);
    if (st == AFB_OK && pending->kind != kind)
        st = AFB_EMISMATCH;
    if (st == AFB_EEXPIRED)
        return afb_wa_refuse(out, "challenge_expired", AFB_EEXPIRED);
    if (st != AFB_OK)
        return afb_wa_refuse(out, "challenge_not_from_this_sign_in", AFB_EMISMATCH);
    return AFB_OK;
}

/* Single use: the challenge's MAC marked in the shared cache. */
static afb_status_t afb_wa_once(request_rec *r, const afb_wa_pending_t *pending,
                                afb_wa_outcome_t *out)
{
    const char *key = afb_wa_challenge_key(afb_module(r->server)->keyring, r->pool, pending);
    int used = 0;
    if (!key || afb_cache_once(r, key, apr_time_from_sec(AFB_WEBAUTHN_CHALLENGE_LIFETIME),
                               &used) != AFB_OK)
        return afb_wa_refuse(out, "single_use_unavailable", AFB_EIO);
    return used ? afb_wa_refuse(out, "challenge_replayed", AFB_EREPLAY) : AFB_OK;
}

/* The new sign count into the store, judged against the store as it is now. A store that
 * cannot be written does not stop sign-ins: the count is then judged against the last copy. */
static afb_status_t afb_wa_count(request_rec *r, afb_provider_t *prov, const afb_passkey_t *c,
                                 uint32_t count, afb_wa_outcome_t *out)
{
    afb_wa_edit_t e;
    afb_status_t st;
    memset(&e, 0, sizeof(e));
    e.kind = AFB_WA_EDIT_TOUCH;
    e.cred.user = c->user;
    e.cred.id = c->id;
    e.count = count;
    st = afb_wa_store_edit(r, prov, &e);
    if (st == AFB_EREPLAY || (st == AFB_EIO && !e.counted
                              && !afb_wa_sign_count_ok(c->sign_count, count)))
        return afb_wa_refuse(out, afb_wa_fail_reason(AFB_WA_FAIL_CLONED), AFB_EMISMATCH);
    if (st == AFB_ENOENT) /* removed meanwhile */
        return afb_wa_refuse(out, "unknown_credential", AFB_EMISMATCH);
    return AFB_OK;
}

/* A posted sign-in answer: AFB_OK; a refusal with out->reason; AFB_EIO the single-use
 * record could not be kept (refused too); AFB_ERR a library failure. expect_user: the
 * second factor's person. */
static afb_status_t afb_wa_check_assertion(request_rec *r, afb_provider_t *prov,
                                           apr_table_t *form, const char *bind,
                                           const char *expect_user, afb_wa_outcome_t *out)
{
    afb_wa_rp_t rp = afb_wa_rp(r, prov);
    unsigned char *cd, *ad, *sig, *id;
    size_t cd_len, ad_len, sig_len, id_len;
    afb_wa_pending_t pending;
    afb_passkey_t *c;
    afb_wa_result_t res;
    afb_wa_fail_t fail;
    const char *why;
    afb_status_t st;
    memset(out, 0, sizeof(*out));
    if ((st = afb_wa_pending(r, bind, AFB_WA_GET, &pending, out)) != AFB_OK)
        return st;
    if (!afb_wa_field(r, form, "credential", AFB_WA_MAX_CRED_ID, &id, &id_len)
        || !afb_wa_field(r, form, "client_data", AFB_WA_MAX_CLIENT_DATA, &cd, &cd_len)
        || !afb_wa_field(r, form, "authenticator_data", AFB_WA_MAX_AUTHDATA, &ad, &ad_len)
        || !afb_wa_field(r, form, "signature", AFB_WA_MAX_SIG, &sig, &sig_len))
        return afb_wa_refuse(out, afb_wa_fail_reason(AFB_WA_FAIL_MALFORMED), AFB_EINVAL);
    c = afb_wa_lookup(r, prov, afb_b64url_encode(r->pool, id, id_len));
    if (!c)
        return afb_wa_refuse(out, "unknown_credential", AFB_EMISMATCH);
    out->user = c->user;
    if ((expect_user && strcmp(expect_user, c->user))
        || (pending.user && strcmp(pending.user, c->user)))
        return afb_wa_refuse(out, "credential_of_another_user", AFB_EMISMATCH);
    st = afb_wa_verify_assertion(r->pool, &rp, pending.challenge, cd, cd_len, ad, ad_len, sig,
                                 sig_len, &c->key, &res, &fail, &why);
    if (st != AFB_OK)
        return afb_wa_refuse(out, afb_wa_fail_reason(fail), st);
    if ((st = afb_wa_once(r, &pending, out)) != AFB_OK)
        return st;
    out->uv = res.uv;
    out->credential = c->id;
    return afb_wa_count(r, prov, c, res.sign_count, out);
}

afb_status_t afb_wa_check_registration(request_rec *r, afb_provider_t *prov, apr_table_t *form,
                                       const char *bind, const char *user, const char *label,
                                       afb_wa_outcome_t *out)
{
    afb_wa_rp_t rp = afb_wa_rp(r, prov);
    unsigned char *cd, *att;
    size_t cd_len, att_len;
    afb_wa_pending_t pending;
    afb_wa_credential_t cred;
    afb_wa_fail_t fail;
    afb_wa_edit_t e;
    const char *why;
    afb_status_t st;
    memset(out, 0, sizeof(*out));
    out->user = user;
    if ((st = afb_wa_pending(r, bind, AFB_WA_CREATE, &pending, out)) != AFB_OK)
        return st;
    if (!pending.user || strcmp(pending.user, user))
        return afb_wa_refuse(out, "challenge_not_from_this_sign_in", AFB_EMISMATCH);
    if (!afb_wa_field(r, form, "client_data", AFB_WA_MAX_CLIENT_DATA, &cd, &cd_len)
        || !afb_wa_field(r, form, "attestation", AFB_WA_MAX_ATTESTATION, &att, &att_len))
        return afb_wa_refuse(out, afb_wa_fail_reason(AFB_WA_FAIL_MALFORMED), AFB_EINVAL);
    st = afb_wa_verify_registration(r->pool, &rp, pending.challenge, cd, cd_len, att, att_len,
                                    &cred, &fail, &why);
    if (st != AFB_OK)
        return afb_wa_refuse(out, afb_wa_fail_reason(fail), st);
    if ((st = afb_wa_once(r, &pending, out)) != AFB_OK)
        return st;
    memset(&e, 0, sizeof(e));
    e.kind = AFB_WA_EDIT_ADD;
    e.cred.user = user;
    e.cred.id = afb_b64url_encode(r->pool, cred.id, cred.id_len);
    e.cred.key = cred.key;
    e.cred.sign_count = cred.sign_count;
    e.cred.created = apr_time_now();
    e.cred.label = afb_passkey_label_clean(r->pool, label, "Passkey");
    out->credential = e.cred.id;
    st = afb_wa_store_edit(r, prov, &e);
    if (st == AFB_EMISMATCH)
        return afb_wa_refuse(out, e.too_many ? "too_many_passkeys" : "already_enrolled",
                             AFB_EMISMATCH);
    return st == AFB_OK ? AFB_OK : afb_wa_refuse(out, "store_unwritable", AFB_EIO);
}

/* ---- the first factor ------------------------------------------------------------------ */

/* The sign-in held for this page, in its own cookie (the flow cookie holds the standby). */
static afb_status_t afb_wa_flow_load(request_rec *r, afb_flow_t *flow)
{
    const char *c = afb_cookie_get(r, afb_wa_cookie_name(r, "_wa_flow"));
    afb_status_t st = c ? afb_flow_open(afb_module(r->server)->keyring, r->pool, c,
                                        apr_time_now(), flow)
                        : AFB_ENOENT;
    afb_provider_t *prov = st == AFB_OK ? afb_provider_find(r->server, flow->path) : NULL;
    if (st == AFB_OK && (!afb_wa_is(prov) || flow->stage != AFB_FLOW_PASSWORD))
        st = AFB_EINVAL;
    return st;
}

static void afb_wa_flow_forget(request_rec *r)
{
    afb_cookie_clear(r, afb_wa_cookie_name(r, "_wa_flow"), afb_module(r->server)->endpoint);
}

static int afb_wa_start(request_rec *r, afb_provider_t *prov, const afb_flow_t *flow,
                        int *unreachable)
{
    afb_module_t *mod = afb_module(r->server);
    const char *sealed = NULL;
    if (!afb_wa_ready(prov)) {
        if (unreachable) {
            *unreachable = 1;
            return DECLINED;
        }
        return afb_unavailable_page(r);
    }
    if (afb_flow_seal(mod->keyring, r->pool, flow, &sealed) != AFB_OK)
        return afb_unavailable_page(r);
    afb_cookie_set(r, afb_wa_cookie_name(r, "_wa_flow"), sealed, AFB_FLOW_LIFETIME,
                   mod->endpoint);
    return afb_redirect(r, HTTP_MOVED_TEMPORARILY,
                        afb_endpoint_url(r, "passkey", flow->return_to));
}

/* The standby path the route held in the flow cookie, when there is one. */
static int afb_wa_standby(request_rec *r, afb_flow_t *standby)
{
    return afb_flow_load(r, standby) == AFB_OK && standby->stage == AFB_FLOW_STANDBY;
}

static int afb_wa_signin_page(request_rec *r, afb_provider_t *prov, const afb_flow_t *flow,
                              const char *error)
{
    afb_flow_t standby;
    afb_wa_form_t f = {AFB_WA_GET, NULL, flow->csrf, afb_endpoint_url(r, "passkey", NULL),
                       "Sign in with a passkey", NULL};
    const char *form = afb_wa_form(r, prov, &f);
    if (!form)
        return afb_unavailable_page(r);
    return afb_page(r, HTTP_OK, "Sign in", apr_pstrcat(r->pool,
        error ? "<p class=\"err\" role=\"alert\">" : "", error ? error : "",
        error ? "</p>" : "",
        flow->degraded ? "<p class=\"note\">The usual sign-in service is unavailable; "
                         "you can sign in with a passkey you set up before.</p>" : "",
        form, afb_wa_standby(r, &standby)
            ? apr_pstrcat(r->pool, "<p><a href=\"", afb_html_escape(r->pool,
                          apr_pstrcat(r->pool, afb_endpoint_url(r, "passkey", NULL),
                                      "?other=1", NULL)),
                          "\">Sign in with a password instead</a></p>", NULL)
            : "", NULL));
}

static int afb_wa_signin_post(request_rec *r, afb_provider_t *prov, afb_flow_t *flow)
{
    int status = OK;
    apr_table_t *form = afb_checked_form(r, flow, &status);
    afb_wa_outcome_t out;
    afb_attempt_t att;
    afb_status_t st;
    if (!form)
        return status;
    if (afb_throttled(r, flow, NULL, NULL, &att, &status)) /* no name typed: per client */
        return status;
    st = afb_wa_check_assertion(r, prov, form, flow->csrf, NULL, &out);
    if (st == AFB_OK || st == AFB_EIO || st == AFB_ERR)
        afb_attempt_done(&att);
    if (st == AFB_EIO || st == AFB_ERR) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "AFB01384: provider %s: passkey of %s not "
                      "accepted: %s", prov->conf.name, out.user ? out.user : "(unknown)",
                      out.reason ? out.reason : "library failure");
        return afb_wa_signin_page(r, prov, flow, "The passkey could not be checked right now. "
                                                 "Please try again.");
    }
    if (st != AFB_OK) {
        afb_auth_failure(r, flow->path, NULL, out.user, out.reason);
        return afb_wa_signin_page(r, prov, flow, AFB_BAD_PASSKEY);
    }
    afb_wa_flow_forget(r);
    afb_flow_forget(r); /* the standby is not needed any more */
    flow->user = out.user;
    /* With user verification the passkey is two factors (possession, and the PIN or
     * biometric that unlocked it): the session carries it as its second factor too. */
    if (out.uv)
        return afb_issue_session(r, flow, prov->conf.name, NULL);
    return afb_after_first_factor(r, flow);
}

/* ---- the second factor ---------------------------------------------------------------- */

/* Index of the first provider after this one in the chain that takes typed codes, or 0. */
static int afb_wa_code_after(request_rec *r, const afb_flow_t *flow)
{
    int i;
    for (i = 1; i < flow->n_mfa; i++) {
        afb_provider_t *prov = afb_provider_find(r->server, flow->mfa[i]);
        if (prov && !afb_wa_is(prov) && afb_provider_usable(prov, r->pool, flow->user))
            return i;
    }
    return 0;
}

static int afb_wa_mfa_page(request_rec *r, afb_provider_t *prov, const afb_flow_t *flow,
                           const char *error)
{
    afb_wa_form_t f = {AFB_WA_GET, flow->user, flow->csrf,
                       apr_pstrcat(r->pool, afb_endpoint_url(r, "passkey", NULL), "?mfa=1",
                                   NULL), "Use my passkey", NULL};
    const char *form = afb_wa_form(r, prov, &f);
    if (!form)
        return afb_unavailable_page(r);
    return afb_page(r, HTTP_OK, "Confirm it is you", apr_pstrcat(r->pool,
        error ? "<p class=\"err\" role=\"alert\">" : "", error ? error : "",
        error ? "</p>" : "",
        "<p>Confirm with a passkey you set up before, <strong>",
        afb_html_escape(r->pool, flow->user), "</strong>.</p>", form,
        afb_wa_code_after(r, flow)
            ? apr_pstrcat(r->pool, "<p><a href=\"", afb_html_escape(r->pool,
                          apr_pstrcat(r->pool, afb_endpoint_url(r, "passkey", NULL),
                                      "?code=1", NULL)),
                          "\">Use a code from your authenticator app instead</a></p>", NULL)
            : "", NULL));
}

static int afb_wa_mfa_post(request_rec *r, afb_provider_t *prov, afb_flow_t *flow)
{
    int status = OK;
    apr_table_t *form = afb_checked_form(r, flow, &status);
    afb_wa_outcome_t out;
    afb_attempt_t att;
    afb_status_t st;
    if (!form)
        return status;
    if (afb_throttled(r, flow, flow->user, flow->user, &att, &status))
        return status;
    st = afb_wa_check_assertion(r, prov, form, flow->csrf, flow->user, &out);
    if (st == AFB_OK || st == AFB_EIO || st == AFB_ERR)
        afb_attempt_done(&att);
    if (st == AFB_OK)
        return afb_issue_session(r, flow, prov->conf.name, NULL);
    if (st == AFB_EIO || st == AFB_ERR) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "AFB01388: provider %s: passkey of %s not "
                      "accepted: %s", prov->conf.name, flow->user,
                      out.reason ? out.reason : "library failure");
        return afb_wa_mfa_page(r, prov, flow, "The passkey could not be checked right now. "
                                              "Please try again.");
    }
    afb_auth_failure(r, flow->path, prov->conf.name, flow->user, out.reason);
    return afb_wa_mfa_page(r, prov, flow, AFB_BAD_PASSKEY);
}

/* The second-factor sign-in whose turn is this provider's, or 0 with *status set. */
static int afb_wa_mfa_flow(request_rec *r, afb_flow_t *flow, afb_provider_t **prov,
                           int *status)
{
    afb_status_t st = afb_flow_load(r, flow);
    if (st != AFB_OK || flow->stage != AFB_FLOW_MFA || flow->n_mfa < 1
        || !afb_wa_is(*prov = afb_provider_find(r->server, flow->mfa[0]))) {
        *status = afb_flow_lost_page(r, st == AFB_OK ? AFB_ENOENT : st,
                                     st == AFB_OK ? flow->return_to : "/");
        return 0;
    }
    return 1;
}

/* "Use a code instead": the next provider of the chain that takes codes asks. */
static int afb_wa_to_code(request_rec *r, afb_flow_t *flow)
{
    int from = afb_wa_code_after(r, flow);
    if (!from || !afb_mfa_next(r, flow, from) || afb_flow_save(r, flow) != AFB_OK)
        return afb_bad_request_text(r, "There is no other way to confirm here.");
    return afb_redirect(r, HTTP_SEE_OTHER, afb_endpoint_url(r, "mfa", NULL));
}

/* ---- ENDPOINT/passkey ----------------------------------------------------------------- */

static int afb_wa_query(request_rec *r, const char *word)
{
    return r->args && !strcmp(r->args, word);
}

static int afb_wa_handler(request_rec *r)
{
    afb_flow_t flow;
    afb_provider_t *prov = NULL;
    int status = OK;
    afb_status_t st;
    if (afb_wa_query(r, "mfa=1") || afb_wa_query(r, "code=1")) {
        if (!afb_wa_mfa_flow(r, &flow, &prov, &status))
            return status;
        if (afb_wa_query(r, "code=1"))
            return afb_wa_to_code(r, &flow);
        return r->method_number == M_POST ? afb_wa_mfa_post(r, prov, &flow)
                                          : afb_wa_mfa_page(r, prov, &flow, NULL);
    }
    if (afb_wa_query(r, "other=1")) {
        if (!afb_wa_standby(r, &flow))
            return afb_flow_lost_page(r, AFB_ENOENT, "/");
        afb_wa_flow_forget(r);
        return afb_activate_standby(r, &flow);
    }
    st = afb_wa_flow_load(r, &flow);
    if (st != AFB_OK)
        return afb_flow_lost_page(r, st == AFB_EEXPIRED ? st : AFB_ENOENT, "/");
    prov = afb_provider_find(r->server, flow.path);
    return r->method_number == M_POST ? afb_wa_signin_post(r, prov, &flow)
                                      : afb_wa_signin_page(r, prov, &flow, NULL);
}

const afb_provider_ops_t afb_prov_webauthn = {
    .type = "webauthn", .roles = AFB_ROLE_FIRST | AFB_ROLE_SECOND,
    .store = afb_wa_parse, .configure = afb_wa_configure, .child_init = afb_wa_child_init,
    .probe = afb_wa_probe, .enrolled = afb_wa_enrolled, .credential = "a passkey", .ready = afb_wa_ready,
    .start = afb_wa_start, .mfa_page = afb_wa_mfa_page,
    .endpoint = "passkey", .handler = afb_wa_handler,
};
