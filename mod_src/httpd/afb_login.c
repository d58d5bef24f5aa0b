/* The password form, the second-factor form and logout (docs/directives.md, "URLs the module
 * serves"). Both forms act only on what
 * the sealed flow cookie says; they carry a CSRF token, are never cached, and say the same
 * thing for an unknown user as for a wrong password. */
#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>

#include "afb_httpd.h"
#include "afb_endpoints.h"
#include "authfb/crypto.h"
#include "authfb/event.h"
#include "authfb/log.h"
#include "authfb/names.h"
#include "authfb/pwstore.h"
#include "authfb/throttle.h"
#include "authfb/totp.h"
#include "authfb/util.h"

APLOG_USE_MODULE(auth_fallback);

static afb_throttle_policy_t afb_policy(int per_user)
{
    afb_server_conf_t *conf = afb_main_conf();
    afb_throttle_policy_t pol;
    pol.max_failures = per_user ? conf->throttle_user : conf->throttle_client;
    pol.window = conf->throttle_window;
    return pol;
}

#define AFB_BAD_CREDENTIALS "The user name or password is incorrect."
#define AFB_BAD_CODE "The code is incorrect or has already been used."

/* ---- shared pieces ---- */

/* The keys of the shared records: every throttle and single-use key is built here. A user is
 * keyed by a MAC of their name under the cookie key (no name in the cache); a client by the
 * network its address is counted under (AuthFallbackThrottle ipv4_prefix= / ipv6_prefix=). */
static const char *afb_client_key(request_rec *r)
{
    afb_server_conf_t *conf = afb_main_conf();
    return apr_pstrcat(r->pool, "thr:c:",
                       afb_throttle_client_net(r->pool, afb_client_ip(r),
                                               conf->throttle_v4_prefix,
                                               conf->throttle_v6_prefix), NULL);
}

static const char *afb_user_key(request_rec *r, const char *prefix, const char *user)
{
    unsigned char mac[32];
    if (afb_keyring_mac(afb_main_conf()->keyring, user, strlen(user), mac) != AFB_OK)
        return NULL;
    return apr_pstrcat(r->pool, prefix, afb_b64url_encode(r->pool, mac, 16), NULL);
}

/* The last TOTP step a person used at this local store. */
static const char *afb_totp_step_key(request_rec *r, const afb_provider_t *prov,
                                     const char *user)
{
    return afb_user_key(r, apr_pstrcat(r->pool, "totp:", prov->conf.name, ":", NULL), user);
}

/* One single-use record per person and code across every MFA provider of the chain: a code
 * RADIUS or privacyIDEA accepted is not accepted again by a local store holding the same
 * secret (when the remote service fails while the code is still valid), nor the reverse. */
static const char *afb_code_key(request_rec *r, const char *user, const char *code)
{
    return afb_user_key(r, "code:", apr_pstrcat(r->pool, user, "\n", code, NULL));
}

/* Mark the person's code as used (AFB_REMOTE_CODE_TTL outlives any code's validity):
 * AFB_EREPLAY when it already was, AFB_ERR when single use cannot be promised (refused). */
static afb_status_t afb_code_once(request_rec *r, const char *user, const char *code)
{
    const char *key = afb_code_key(r, user, code);
    int used = 0;
    if (!key || afb_cache_once(r, key, apr_time_from_sec(AFB_REMOTE_CODE_TTL), &used) != AFB_OK)
        return AFB_ERR;
    return used ? AFB_EREPLAY : AFB_OK;
}

static void afb_failure_event(request_rec *r, const afb_flow_t *flow, const char *user,
                              const char *reason)
{
    afb_event_t *ev = afb_event(r, "auth.failure");
    afb_health_counter(afb_provider_find(r->server, flow->path), AFB_HEALTH_COUNT_FAILURE);
    afb_event_str(ev, "user", user);
    afb_event_str(ev, "path", flow->path);
    if (flow->stage == AFB_FLOW_MFA)
        afb_event_str(ev, "mfa", flow->mfa[0]);
    afb_event_str(ev, "reason", reason);
    afb_event_str(ev, "client", afb_client_ip(r));
    afb_event_emit(ev);
}

/* Throttling counts an attempt before it is judged, under the cache lock, so parallel
 * requests cannot all slip under the limit while a slow hash runs; a right answer (or one
 * that could not be judged) gives its count back. */
typedef struct {
    request_rec *r;
    const char *ukey, *ckey;
    afb_throttle_policy_t upol, cpol;
    int ublocked, cblocked;
    long uwait, cwait;
    int reserved;
    int unkept;      /* the store could not keep a count it could read: refused, fail closed */
} afb_attempt_t;

static afb_status_t afb_attempt_reserve(afb_cache_t *c, void *baton)
{
    afb_attempt_t *a = baton;
    apr_pool_t *p = a->r->pool;
    apr_time_t now = apr_time_now();
    int uread = 0, cread;
    afb_status_t ust = AFB_OK, cst;
    /* A cache outage (nothing can be read) does not lock everyone out; logged by the cache. */
    if (a->ukey)
        uread = afb_throttle_check(c, p, a->ukey, &a->upol, now, &a->ublocked,
                                   &a->uwait) == AFB_OK;
    cread = afb_throttle_check(c, p, a->ckey, &a->cpol, now, &a->cblocked, &a->cwait) == AFB_OK;
    a->ublocked &= uread;
    a->cblocked &= cread;
    if (a->ublocked || a->cblocked)
        return AFB_OK;
    if (a->ukey)
        ust = afb_throttle_fail(c, p, a->ukey, &a->upol, now);
    cst = afb_throttle_fail(c, p, a->ckey, &a->cpol, now);
    a->reserved = 1;
    /* A store that answers but cannot keep a new count (the table is full) would let every
     * guess through uncounted: this attempt is refused instead (docs/operations.md). */
    if ((uread && ust != AFB_OK) || (cread && cst != AFB_OK)) {
        if (a->ukey && ust == AFB_OK) /* give back only the counts that were kept */
            (void)!afb_throttle_refund(c, p, a->ukey, &a->upol, now);
        if (cst == AFB_OK)
            (void)!afb_throttle_refund(c, p, a->ckey, &a->cpol, now);
        a->reserved = 0;
        a->unkept = 1;
    }
    return AFB_OK;
}

static afb_status_t afb_attempt_refund(afb_cache_t *c, void *baton)
{
    afb_attempt_t *a = baton;
    apr_time_t now = apr_time_now();
    if (a->ukey)
        (void)!afb_throttle_refund(c, a->r->pool, a->ukey, &a->upol, now);
    (void)!afb_throttle_refund(c, a->r->pool, a->ckey, &a->cpol, now);
    return AFB_OK;
}

/* Give back the attempt counted in advance. */
static void afb_attempt_done(afb_attempt_t *a)
{
    if (a->reserved)
        (void)!afb_cache_locked(a->r, afb_attempt_refund, a);
    a->reserved = 0;
}

static void afb_throttled_event(request_rec *r, const afb_flow_t *flow, const char *user,
                                const afb_attempt_t *a)
{
    const char *scope = a->ublocked ? "user" : "client";
    long count = afb_event_rate_take(apr_pstrcat(r->pool, "throttled|", scope, NULL));
    afb_event_t *ev;
    afb_health_counter(afb_provider_find(r->server, flow->path), AFB_HEALTH_COUNT_THROTTLED);
    if (!count)
        return;
    ev = afb_event(r, "auth.throttled");
    afb_event_str(ev, "user", user);
    afb_event_str(ev, "path", flow->path);
    afb_event_str(ev, "scope", scope);
    afb_event_str(ev, "client", afb_client_ip(r));
    afb_event_int(ev, "count", count);
    afb_event_emit(ev);
}

/* The shared table is full: the attempt cannot be counted, so it is not judged. */
static int afb_attempt_unkept(request_rec *r, int *status)
{
    long count = afb_event_rate_take("cache.refused");
    if (count)
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "AFB01151: AuthFallbackCache is full: %ld "
                      "sign-in attempt(s) refused because their count could not be kept; "
                      "raise the number of entries (docs/operations.md)", count);
    apr_table_setn(r->err_headers_out, "Retry-After", apr_ltoa(r->pool, AFB_RETRY_AFTER));
    *status = afb_page_end(r, HTTP_SERVICE_UNAVAILABLE, "Try again later",
                       "<p>Sign-in is busy right now. Please try again in a minute.</p>");
    return 1;
}

/* While the cache is DOWN (its probes fail), a store that looks empty is an outage, not a
 * full table: attempts go through uncounted, as documented (docs/directives.md,
 * AuthFallbackCache), and that is logged. */
static int afb_attempt_uncounted(request_rec *r)
{
    long count = afb_event_rate_take("cache.down.throttle");
    if (count)
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "AFB01209: AuthFallbackCache is DOWN: "
                      "%ld sign-in attempt(s) not counted by throttling", count);
    return 0;
}

/* Count this attempt, or 1 (and the 429 page in *status) when the user or client is
 * throttled, or the 503 page when the count cannot be kept. `key` is the person's canonical
 * name (docs/directives.md, "Name rules"; NULL: counted per client only), `shown` the name
 * for the event. */
static int afb_throttled(request_rec *r, const afb_flow_t *flow, const char *key,
                         const char *shown, afb_attempt_t *a, int *status)
{
    memset(a, 0, sizeof(*a));
    a->r = r;
    a->ukey = key ? afb_user_key(r, "thr:u:", key) : NULL;
    a->ckey = afb_client_key(r);
    a->upol = afb_policy(1);
    a->cpol = afb_policy(0);
    if (afb_health_cache_down())
        return afb_attempt_uncounted(r);
    if (afb_cache_locked(r, afb_attempt_reserve, a) != AFB_OK)
        return 0;
    if (a->unkept)
        return afb_attempt_unkept(r, status);
    if (!a->ublocked && !a->cblocked)
        return 0;
    afb_throttled_event(r, flow, afb_name_for_log(r->pool, shown), a);
    apr_table_setn(r->err_headers_out, "Retry-After",
                   apr_ltoa(r->pool, a->uwait > a->cwait ? a->uwait : a->cwait));
    *status = afb_page_end(r, HTTP_TOO_MANY_REQUESTS, "Too many attempts",
                       "<p>There have been too many failed attempts. Please wait a few "
                       "minutes before trying again.</p>");
    return 1;
}

/* Every provider the flow names still exists with a type that fits its place (a graceful
 * restart may have renamed, removed or retyped one): checked once here, at the entry of each
 * form handler, so nothing further on meets a provider name that resolves to nothing. */
static int afb_flow_providers_valid(request_rec *r, const afb_flow_t *flow)
{
    afb_provider_t *path = afb_provider_find(r->server, flow->path);
    int i;
    if (!path || !afb_provider_is_first_factor(path->conf.type))
        return 0;
    if (flow->stage == AFB_FLOW_PASSWORD && path->conf.type != AFB_PROV_PASSWORD)
        return 0;
    for (i = 0; i < flow->n_mfa; i++) {
        afb_provider_t *m = afb_provider_find(r->server, flow->mfa[i]);
        if (!m || !afb_provider_is_mfa(m->conf.type))
            return 0;
    }
    return 1;
}

/* Load the flow for a form; on failure *status holds the page to send. */
static int afb_form_flow(request_rec *r, afb_flow_stage_t stage, afb_flow_t *flow, int *status)
{
    afb_status_t st = afb_flow_load(r, flow);
    const char *ret = NULL;
    if (st == AFB_OK && flow->stage == stage && !afb_flow_providers_valid(r, flow)) {
        afb_flow_forget(r);
        *status = afb_flow_lost_page(r, AFB_EEXPIRED, flow->return_to);
        return 0;
    }
    if (st == AFB_OK && flow->stage == stage)
        return 1;
    if (st == AFB_OK && flow->stage == AFB_FLOW_MFA && stage == AFB_FLOW_PASSWORD &&
        r->method_number == M_GET) {
        *status = afb_redirect(r, HTTP_SEE_OTHER, afb_endpoint_url(r, "mfa", NULL));
        return 0;
    }
    if (r->args) {
        apr_table_t *q = NULL;
        if (afb_form_parse(r->pool, r->args, strlen(r->args), 8, &q) == AFB_OK)
            ret = apr_table_get(q, "return");
    }
    *status = afb_flow_lost_page(r, st == AFB_OK ? AFB_ENOENT : st,
                                 st == AFB_OK ? flow->return_to : ret);
    return 0;
}

/* Read the form of a POST and check its CSRF token; on failure *status holds the answer. */
static apr_table_t *afb_checked_form(request_rec *r, const afb_flow_t *flow, int *status)
{
    apr_table_t *form = NULL;
    const char *csrf;
    int st = afb_read_form(r, &form);
    if (st == HTTP_REQUEST_ENTITY_TOO_LARGE) {
        *status = afb_page(r, st, "Request too large", "<p>The form was too large.</p>");
        return NULL;
    }
    if (st != OK) {
        *status = afb_bad_request(r, "The form could not be read.");
        return NULL;
    }
    csrf = apr_table_get(form, "csrf");
    if (!csrf || !afb_ct_streq(csrf, flow->csrf)) {
        *status = afb_page(r, HTTP_FORBIDDEN, "Sign-in form expired",
                           "<p>This form is no longer valid. Please go back and sign in "
                           "again.</p>");
        return NULL;
    }
    return form;
}

/* ---- the password form ---- */

static int afb_login_form(request_rec *r, const afb_flow_t *flow, const char *error,
                          const char *user)
{
    const char *action = afb_html_escape(r->pool, afb_endpoint_url(r, "login", NULL));
    return afb_page(r, HTTP_OK, "Sign in", apr_pstrcat(r->pool,
        error ? "<p class=\"err\" role=\"alert\">" : "", error ? error : "",
        error ? "</p>" : "",
        flow->degraded ? "<p class=\"note\">The usual sign-in service is unavailable; "
                         "you are signing in through a fallback path.</p>" : "",
        "<form method=\"post\" action=\"", action, "\" autocomplete=\"off\">"
        "<input type=\"hidden\" name=\"csrf\" value=\"", afb_html_escape(r->pool, flow->csrf),
        "\"><label for=\"user\">User name</label>"
        "<input type=\"text\" id=\"user\" name=\"user\" autocomplete=\"username\" "
        "autocapitalize=\"none\" autocorrect=\"off\" spellcheck=\"false\" required",
        user ? "" : " autofocus", " value=\"", afb_html_escape(r->pool, user ? user : ""), "\">"
        "<label for=\"password\">Password</label>"
        "<input type=\"password\" id=\"password\" name=\"password\" "
        "autocomplete=\"current-password\" required", user ? " autofocus" : "", ">"
        "<button type=\"submit\">Sign in</button></form>", NULL));
}

typedef struct {
    const afb_pwstore_t *store;
    apr_pool_t *pool;
    const char *user, *password;
} afb_pw_job_t;

static afb_status_t afb_pw_job(void *baton)
{
    afb_pw_job_t *job = baton;
    return afb_pwstore_verify(job->store, job->pool, job->user, job->password);
}

/* Verify against the store entry whose name has this key (docs/directives.md, "Name rules");
 * *stored is the store's spelling of the name. An unknown key costs the same work. */
static afb_status_t afb_verify_password(request_rec *r, afb_provider_t *prov, const char *key,
                                        const char *password, const char **stored)
{
    afb_store_gen_t *gen;
    afb_pw_job_t job;
    afb_status_t st;
    const char *name;
    if (prov->conf.type != AFB_PROV_PASSWORD)
        return AFB_ERR;
    gen = afb_filestore_acquire(prov->store);
    job.store = afb_store_gen_data(gen);
    name = key && job.store ? afb_store_gen_name(gen, key) : NULL;
    *stored = name ? apr_pstrdup(r->pool, name) : NULL;
    job.pool = r->pool;
    job.user = name ? name : ""; /* "" is never a store name: the unknown user's dummy work */
    job.password = password;
    /* a slow hash: one per core at once; no usable copy: the path is down */
    st = job.store ? afb_vgate_verify(r, afb_pw_job, &job) : AFB_ERR;
    afb_filestore_release(prov->store, gen);
    return st;
}

/* The failure of a typed name: an unknown one is recorded as typed (normalized, cut and
 * escaped: an operator tells a typo from an attack), a known one by its canonical name. */
static int afb_login_refused(request_rec *r, afb_flow_t *flow, const afb_provider_t *prov,
                             afb_status_t st, const char *typed, const char *stored)
{
    if (st == AFB_ENOENT)
        afb_failure_event(r, flow, afb_name_for_log(r->pool, typed), "unknown_user");
    else
        afb_failure_event(r, flow, afb_names_user(r->pool, &prov->conf.names, stored),
                          "bad_password");
    return afb_login_form(r, flow, AFB_BAD_CREDENTIALS, typed);
}

static int afb_login_post(request_rec *r, afb_flow_t *flow)
{
    int status = OK;
    apr_table_t *form = afb_checked_form(r, flow, &status);
    afb_provider_t *prov = afb_provider_find(r->server, flow->path);
    const char *user, *password, *stored = NULL;
    afb_name_t name;
    afb_attempt_t att;
    afb_status_t st;
    if (!form)
        return status;
    user = apr_table_get(form, "user");
    password = apr_table_get(form, "password");
    if (!user || !password || !*user || strlen(user) > AFB_SESSION_MAX_FIELD ||
        strlen(password) > AFB_PW_MAX_PASSWORD)
        return afb_bad_request(r, "The form is incomplete.");
    if (!prov)
        return afb_unavailable_page(r, flow->location);
    if (afb_health_is_down(prov)) {
        /* The path went down (e.g. a stale store) since the form was shown: route again. */
        afb_flow_forget(r);
        return afb_redirect(r, HTTP_SEE_OTHER, flow->return_to);
    }
    /* The path's name rules come first: throttling, lookup and logging see one name per
     * person. A name the rules refuse is nobody here (counted per client only). */
    if (afb_names_apply(r->pool, &prov->conf.names, user, &name) != AFB_OK)
        name.key = NULL;
    if (afb_throttled(r, flow, name.key, user, &att, &status))
        return status;
    st = afb_verify_password(r, prov, name.key, password, &stored);
    if (st == AFB_EIO) /* NT-derived entry without MD4: the provider is DOWN for it too */
        st = AFB_ERR;
    if (st == AFB_OK || st == AFB_ERR)
        afb_attempt_done(&att);
    if (st == AFB_OK) {
        flow->user = afb_names_user(r->pool, &prov->conf.names, stored);
        return afb_after_first_factor(r, flow);
    }
    if (st == AFB_ERR)
        return afb_unavailable_page(r, flow->location);
    return afb_login_refused(r, flow, prov, st, user, stored);
}

int afb_login_handler(request_rec *r)
{
    afb_flow_t flow;
    int status = OK;
    if (!afb_form_flow(r, AFB_FLOW_PASSWORD, &flow, &status))
        return status;
    if (r->method_number == M_POST)
        return afb_login_post(r, &flow);
    return afb_login_form(r, &flow, NULL, NULL);
}

/* ---- the second-factor form ---- */

/* The person's throttle key at the second factor: the same as at the password form, the
 * canonical name under the first path's name rules. */
static const char *afb_flow_user_key(request_rec *r, const afb_flow_t *flow)
{
    afb_provider_t *path = afb_provider_find(r->server, flow->path);
    afb_name_t name;
    if (path && afb_names_apply(r->pool, &path->conf.names, flow->user, &name) == AFB_OK)
        return name.key;
    return flow->user;
}

static int afb_mfa_form(request_rec *r, const afb_flow_t *flow, const char *error)
{
    const char *action = afb_html_escape(r->pool, afb_endpoint_url(r, "mfa", NULL));
    return afb_page(r, HTTP_OK, "Verification code", apr_pstrcat(r->pool,
        error ? "<p class=\"err\" role=\"alert\">" : "", error ? error : "",
        error ? "</p>" : "",
        "<p>Enter the code from your authenticator app for <strong>",
        afb_html_escape(r->pool, flow->user), "</strong>.</p>"
        "<form method=\"post\" action=\"", action, "\" autocomplete=\"off\">"
        "<input type=\"hidden\" name=\"csrf\" value=\"", afb_html_escape(r->pool, flow->csrf),
        "\"><label for=\"code\">Code</label>"
        "<input type=\"text\" id=\"code\" name=\"code\" inputmode=\"numeric\" "
        "autocomplete=\"one-time-code\" pattern=\"[0-9]*\" maxlength=\"8\" required autofocus>"
        "<button type=\"submit\">Verify</button></form>", NULL));
}

typedef struct {
    const char *key;
    int64_t step;
    int replay;
} afb_replay_t;

static afb_status_t afb_replay_check_and_set(afb_cache_t *c, void *baton)
{
    afb_replay_t *rp = baton;
    unsigned char buf[8];
    size_t len = sizeof(buf);
    int64_t last = INT64_MIN;
    afb_status_t st = c->get(c, rp->key, buf, &len, NULL);
    if (st == AFB_OK && len == 8)
        last = (int64_t)afb_be64_get(buf);
    else if (st != AFB_ENOENT && st != AFB_OK)
        return st;
    if (rp->step <= last) {
        rp->replay = 1;
        return AFB_OK;
    }
    afb_be64_put(buf, (uint64_t)rp->step);
    return c->set(c, rp->key, buf, 8, apr_time_now() + apr_time_from_sec(AFB_TOTP_REPLAY_TTL), NULL);
}

static afb_status_t afb_verify_totp(request_rec *r, afb_provider_t *prov, const char *user,
                                    const char *code)
{
    afb_store_gen_t *gen = afb_filestore_acquire(prov->store);
    const char *stored = afb_store_gen_find(prov->store, gen, r->pool, user);
    const afb_totp_entry_t *e = afb_totp_store_find(afb_store_gen_data(gen), stored);
    afb_replay_t rp = {NULL, 0, 0};
    afb_status_t st = e ? afb_totp_verify(e, code, apr_time_now(), prov->conf.window, &rp.step)
                        : AFB_EMISMATCH;
    afb_filestore_release(prov->store, gen);
    if (st != AFB_OK)
        return st;
    rp.key = afb_totp_step_key(r, prov, user);
    if (!rp.key)
        return AFB_ERR;
    st = afb_cache_locked(r, afb_replay_check_and_set, &rp);
    if (st != AFB_OK)
        return AFB_EIO;
    if (rp.replay)
        return AFB_EREPLAY;
    return afb_code_once(r, user, code);
}

/* A code a remote service accepted is accepted once (for AFB_REMOTE_CODE_TTL): many
 * services (rlm_totp among them) take the same code again within its time step. */
static afb_status_t afb_verify_remote(request_rec *r, afb_provider_t *prov, const char *user,
                                      const char *code, const char **why)
{
    const char *key = afb_code_key(r, user, code);
    afb_cache_t *c = afb_cache_for(r);
    unsigned char v[1];
    size_t len = sizeof(v);
    afb_status_t st;
    if (!key)
        return AFB_ERR;
    if (c->get(c, key, v, &len, NULL) == AFB_OK)
        return AFB_EREPLAY; /* not even asked again */
    /* The service is asked with the name in its provider's user_form= */
    st = afb_mfa_remote_check(r, prov, afb_names_user(r->pool, &prov->conf.names, user), code,
                              why);
    if (st != AFB_OK)
        return st;
    return afb_code_once(r, user, code);
}

static int afb_mfa_post(request_rec *r, afb_flow_t *flow)
{
    int status = OK;
    apr_table_t *form = afb_checked_form(r, flow, &status);
    afb_provider_t *prov;
    const char *code;
    afb_attempt_t att;
    afb_status_t st;
    int moved = 0;
    if (!form)
        return status;
    code = apr_table_get(form, "code");
    if (!code || !*code || strlen(code) > 16)
        return afb_bad_request(r, "The form is incomplete.");
    if (afb_throttled(r, flow, afb_flow_user_key(r, flow), flow->user, &att, &status))
        return status;
    for (;;) {
        const char *why = NULL;
        prov = afb_provider_find(r->server, flow->mfa[0]);
        if (prov && afb_health_is_down(prov)) {
            /* Down since the form was shown: nobody waits on it, the next one checks. */
            if (!afb_mfa_next(r, flow, 0)) {
                afb_attempt_done(&att);
                return afb_mfa_none_left(r, flow);
            }
            moved = 1;
            continue;
        }
        if (!prov) {
            afb_attempt_done(&att);
            return afb_unavailable_page(r, flow->location);
        }
        if (prov->conf.type == AFB_PROV_TOTP) {
            st = afb_verify_totp(r, prov, flow->user, code);
            break;
        }
        st = afb_verify_remote(r, prov, flow->user, code, &why);
        if (st != AFB_EIO && st != AFB_ETIMEOUT)
            break;
        /* The service failed, not the person: the next MFA provider checks the same code. */
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "AFB01015: provider %s could not check "
                      "the code of %s (%s); trying the next MFA provider", prov->conf.name,
                      flow->user, why ? why : afb_status_str(st));
        afb_health_passive(prov, why);
        if (!afb_mfa_next(r, flow, 1)) {
            afb_attempt_done(&att);
            return afb_mfa_none_left(r, flow);
        }
        moved = 1;
    }
    if (st == AFB_OK || st == AFB_EIO || st == AFB_ERR)
        afb_attempt_done(&att);
    if (st == AFB_OK)
        return afb_issue_session(r, flow, prov->conf.name, NULL);
    if (moved) /* the next attempt starts with the provider that answered */
        (void)!afb_flow_save(r, flow);
    if (st == AFB_EIO || st == AFB_ERR) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "AFB00023: single-use state of codes unavailable; code for %s not "
                      "accepted",
                      flow->user);
        return afb_mfa_form(r, flow, "The code could not be checked right now. "
                                     "Please try again.");
    }
    afb_failure_event(r, flow, flow->user, st == AFB_EREPLAY ? "code_replayed" : "bad_code");
    return afb_mfa_form(r, flow, AFB_BAD_CODE);
}

int afb_mfa_handler(request_rec *r)
{
    afb_flow_t flow;
    int status = OK;
    if (!afb_form_flow(r, AFB_FLOW_MFA, &flow, &status))
        return status;
    if (r->method_number == M_POST)
        return afb_mfa_post(r, &flow);
    return afb_mfa_form(r, &flow, NULL);
}

/* ---- logout ---- */

int afb_logout_handler(request_rec *r)
{
    const char *ret = NULL;
    apr_table_t *q = NULL;
    if (r->args && afb_form_parse(r->pool, r->args, strlen(r->args), 8, &q) == AFB_OK &&
        apr_table_get(q, "return"))
        ret = afb_return_sanitize(r->pool, apr_table_get(q, "return"));
    afb_cookie_clear(r, afb_main_conf()->cookie_name, "/");
    afb_flow_forget(r);
    if (ret)
        return afb_redirect(r, HTTP_MOVED_TEMPORARILY, ret);
    return afb_page(r, HTTP_OK, "Signed out", "<p>You have been signed out.</p>");
}
