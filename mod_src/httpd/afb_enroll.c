/* The self-service enrollment page, ENDPOINT/enroll (docs/people.md): a person signed in
 * through a provider of AuthFallbackEnrollRequire, with multi-factor, lists, adds, renames
 * and removes their passkeys (webauthn providers) and their authenticator app (totp providers
 * with enroll=on). Every POST carries a CSRF token derived from the session and is throttled;
 * every change is an enroll.added / enroll.removed event. */
#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>

#include "afb_enroll.h"
#include "afb_conf.h"
#include "afb_cookie.h"
#include "afb_log.h"
#include "afb_page.h"
#include "afb_prov_webauthn.h"
#include "afb_provider.h"
#include "afb_throttle.h"
#include "authfb/file.h"
#include "authfb/log.h"
#include "authfb/passkey.h"
#include "authfb/session.h"
#include "authfb/qr.h"
#include "authfb/storefile.h"
#include "authfb/totp.h"
#include "authfb/util.h"

APLOG_USE_MODULE(auth_fallback);

#define AFB_TOTP_SEAL_PURPOSE "totp-enroll"

typedef struct {
    afb_session_t s;
    const char *csrf;       /* MAC of the session's user and issue time */
    afb_flow_t flow;        /* what throttling and events need of a sign-in */
    int failed;             /* the action was refused: its attempt stays counted */
} afb_enroll_t;

/* ---- who may enroll ---- */

static int afb_enroll_path_ok(request_rec *r, const char *path)
{
    afb_module_t *conf = afb_module(r->server);
    afb_provider_t *prov = afb_provider_find(r->server, path);
    int i;
    if (!prov)
        return 0;
    if (!conf->enroll_require)
        return !strcmp(prov->ops->type, "oidc");
    for (i = 0; i < conf->enroll_require->nelts; i++)
        if (!strcmp(APR_ARRAY_IDX(conf->enroll_require, i, const char *), path))
            return 1;
    return 0;
}

static const char *afb_enroll_csrf(request_rec *r, const afb_session_t *s)
{
    unsigned char mac[32];
    const char *in = apr_psprintf(r->pool, "enroll-csrf\n%s\n%" APR_TIME_T_FMT, s->user,
                                  apr_time_sec(s->issued));
    if (afb_keyring_mac(afb_module(r->server)->keyring, in, strlen(in), mac) != AFB_OK)
        return NULL;
    return afb_b64url_encode(r->pool, mac, 18);
}

/* The session, when it may use this page; otherwise *status holds the page to send. */
static int afb_enroll_session(request_rec *r, afb_enroll_t *e, int *status)
{
    afb_module_t *conf = afb_module(r->server);
    const char *cookie = afb_cookie_get(r, conf->cookie_name);
    memset(e, 0, sizeof(*e));
    if (!cookie || afb_session_open(conf->keyring, r->pool, cookie, apr_time_now(), &e->s)
                   != AFB_OK) {
        *status = afb_page(r, HTTP_FORBIDDEN, "Sign in first",
                           "<p>To set up passkeys and authenticator apps, first sign in to one "
                           "of your organisation's applications, then come back here.</p>");
        return 0;
    }
    if (!afb_enroll_path_ok(r, e->s.path) || !strcmp(e->s.mfa, "none")) {
        *status = afb_page(r, HTTP_FORBIDDEN, "Not available with this sign-in",
                           "<p>Passkeys and authenticator apps can only be set up after signing "
                           "in through the usual sign-in service with multi-factor "
                           "authentication. Sign out, and sign in again when it is "
                           "available.</p>");
        return 0;
    }
    e->csrf = afb_enroll_csrf(r, &e->s);
    e->flow.stage = AFB_FLOW_MFA;
    e->flow.path = e->s.path;
    e->flow.user = e->s.user;
    e->flow.mfa[0] = e->s.mfa;
    e->flow.n_mfa = 1;
    if (!e->csrf) {
        *status = afb_unavailable_page(r);
        return 0;
    }
    return 1;
}

static void afb_enroll_event(request_rec *r, const char *name, const afb_enroll_t *e,
                             const afb_provider_t *prov, const char *kind)
{
    afb_event_t *ev = afb_event(r, name);
    afb_event_str(ev, "user", e->s.user);
    afb_event_str(ev, "provider", prov->conf.name);
    afb_event_str(ev, "kind", kind);
    afb_event_str(ev, "client", afb_client_ip(r));
    afb_event_emit(r, ev);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "AFB01385: %s: %s %s %s (provider %s)",
                  name, e->s.user, strcmp(name, "enroll.added") ? "removed" : "added",
                  strcmp(kind, "passkey") ? "an authenticator app" : "a passkey",
                  prov->conf.name);
}

/* ---- the page ---- */

static const char *afb_when(request_rec *r, apr_time_t t)
{
    char buf[APR_RFC822_DATE_LEN];
    if (t <= 0)
        return "never";
    apr_rfc822_date(buf, t);
    return apr_pstrdup(r->pool, buf);
}

static const char *afb_hidden(request_rec *r, const afb_enroll_t *e, const char *action,
                              const afb_provider_t *prov, const char *id)
{
    return apr_pstrcat(r->pool,
        "<input type=\"hidden\" name=\"csrf\" value=\"", e->csrf, "\">"
        "<input type=\"hidden\" name=\"action\" value=\"", action, "\">"
        "<input type=\"hidden\" name=\"provider\" value=\"",
        afb_html_escape(r->pool, prov->conf.name), "\">",
        id ? "<input type=\"hidden\" name=\"id\" value=\"" : "",
        id ? afb_html_escape(r->pool, id) : "", id ? "\">" : "", NULL);
}

/* One row: label, created, last used, rename and remove. */
static const char *afb_row(request_rec *r, const afb_enroll_t *e, const afb_provider_t *prov,
                           const char *kind, const char *id, const char *label,
                           apr_time_t created, apr_time_t used)
{
    const char *action = afb_html_escape(r->pool, afb_endpoint_url(r, "enroll", NULL));
    return apr_pstrcat(r->pool, "<tr><td>", afb_html_escape(r->pool, label), "</td><td>",
        afb_when(r, created), "</td><td>", afb_when(r, used), "</td><td>"
        "<form method=\"post\" action=\"", action, "\">",
        afb_hidden(r, e, apr_pstrcat(r->pool, kind, "_rename", NULL), prov, id),
        "<input type=\"text\" name=\"label\" aria-label=\"New name\" maxlength=\"64\" required>"
        "<button type=\"submit\">Rename</button></form>"
        "<form method=\"post\" action=\"", action, "\">",
        afb_hidden(r, e, apr_pstrcat(r->pool, kind, "_remove", NULL), prov, id),
        "<button type=\"submit\">Remove</button></form></td></tr>", NULL);
}

static const char *afb_table(request_rec *r, apr_array_header_t *rows)
{
    if (!rows->nelts)
        return "<p class=\"note\">None set up yet.</p>";
    return apr_pstrcat(r->pool, "<table><tr><th>Name</th><th>Added</th><th>Last used</th>"
                       "<th></th></tr>", apr_array_pstrcat(r->pool, rows, 0), "</table>", NULL);
}

static const char *afb_passkey_section(request_rec *r, const afb_enroll_t *e,
                                       afb_provider_t *prov)
{
    apr_array_header_t *list = afb_wa_list(r, prov, e->s.user);
    apr_array_header_t *rows = apr_array_make(r->pool, list->nelts, sizeof(const char *));
    afb_wa_form_t f = {AFB_WA_CREATE, e->s.user, e->csrf, afb_endpoint_url(r, "enroll", NULL),
                       "Add a passkey", NULL};
    const char *form;
    int i;
    for (i = 0; i < list->nelts; i++) {
        const afb_passkey_t *c = APR_ARRAY_IDX(list, i, const afb_passkey_t *);
        APR_ARRAY_PUSH(rows, const char *) = afb_row(r, e, prov, "passkey", c->id, c->label,
                                                     c->created, c->last_used);
    }
    /* the passkey form carries the csrf field itself */
    f.extra = apr_pstrcat(r->pool, "<input type=\"hidden\" name=\"action\" "
                          "value=\"passkey_add\"><input type=\"hidden\" name=\"provider\" "
                          "value=\"", afb_html_escape(r->pool, prov->conf.name), "\">",
                          "<label for=\"pklabel\">Name of the new passkey</label>"
                          "<input type=\"text\" id=\"pklabel\" name=\"label\" maxlength=\"64\" "
                          "placeholder=\"e.g. Work laptop\">", NULL);
    form = afb_wa_form(r, prov, &f);
    return apr_pstrcat(r->pool, "<h2>Passkeys</h2>", afb_table(r, rows), form ? form : "",
                       NULL);
}

/* 1 for a totp store the module writes (enroll=on). */
static int afb_totp_enrolled_store(const afb_provider_t *prov)
{
    const char *enroll = !strcmp(prov->ops->type, "totp")
                         ? apr_table_get(prov->conf.params, "enroll") : NULL;
    return enroll && !strcmp(enroll, "on");
}

/* The person's line in an enrolled TOTP store as the file says now, or NULL. */
static const afb_totp_entry_t *afb_totp_entry(request_rec *r, afb_provider_t *prov,
                                              const char *user)
{
    char *text = NULL;
    const char *why = NULL;
    apr_size_t len = 0;
    afb_totp_store_t *ts = NULL;
    if (afb_file_read(r->pool, prov->conf.arg, AFB_STORE_MAX_BYTES, &text, &len, NULL, &why)
        != AFB_OK)
        return NULL;
    afb_cleanse_on_cleanup(r->pool, text, len);
    if (afb_totp_store_parse(r->pool, text, len, &ts, &why) != AFB_OK)
        return NULL;
    return afb_totp_store_find(ts, user);
}

static const char *afb_totp_section(request_rec *r, const afb_enroll_t *e, afb_provider_t *prov)
{
    const afb_totp_entry_t *t = afb_totp_entry(r, prov, e->s.user);
    apr_array_header_t *rows = apr_array_make(r->pool, 1, sizeof(const char *));
    const char *action = afb_html_escape(r->pool, afb_endpoint_url(r, "enroll", NULL));
    if (t)
        APR_ARRAY_PUSH(rows, const char *) = afb_row(r, e, prov, "totp", "app",
                                                     t->label ? t->label : "Authenticator app",
                                                     t->created, t->last_used);
    return apr_pstrcat(r->pool, "<h2>Authenticator app</h2>", afb_table(r, rows),
        "<form method=\"post\" action=\"", action, "\">",
        afb_hidden(r, e, "totp_start", prov, NULL), "<button type=\"submit\">",
        t ? "Replace the authenticator app" : "Add an authenticator app", "</button></form>",
        NULL);
}

static int afb_enroll_page(request_rec *r, const afb_enroll_t *e, int status,
                           const char *message, int is_error)
{
    afb_module_t *conf = afb_module(r->server);
    apr_array_header_t *parts = apr_array_make(r->pool, 4, sizeof(const char *));
    int i;
    for (i = 0; i < conf->all->nelts; i++) {
        afb_provider_t *prov = APR_ARRAY_IDX(conf->all, i, afb_provider_t *);
        if (afb_wa_is(prov))
            APR_ARRAY_PUSH(parts, const char *) = afb_passkey_section(r, e, prov);
        else if (afb_totp_enrolled_store(prov))
            APR_ARRAY_PUSH(parts, const char *) = afb_totp_section(r, e, prov);
    }
    return afb_page(r, status, "Your sign-in methods", apr_pstrcat(r->pool,
        message ? (is_error ? "<p class=\"err\" role=\"alert\">" : "<p role=\"status\">") : "",
        message ? afb_html_escape(r->pool, message) : "", message ? "</p>" : "",
        "<p>Signed in as <strong>", afb_html_escape(r->pool, e->s.user), "</strong>. These let "
        "you sign in when the usual sign-in service is unavailable.</p>",
        parts->nelts ? apr_array_pstrcat(r->pool, parts, 0)
                     : "<p>Nothing can be set up here.</p>", NULL));
}

/* ---- TOTP enrollment: the secret travels sealed between the two steps ---- */

static const char *afb_totp_seal(request_rec *r, const afb_enroll_t *e, const char *provider,
                                 const char *secret)
{
    const char *pt = apr_psprintf(r->pool, "%s\n%s\n%s\n%s\n%" APR_TIME_T_FMT, e->csrf,
                                  e->s.user, provider, secret,
                                  apr_time_sec(apr_time_now()) + AFB_FLOW_LIFETIME);
    const char *out = NULL;
    afb_cleanse_on_cleanup(r->pool, (void *)pt, strlen(pt));
    if (afb_seal(afb_module(r->server)->keyring, r->pool, AFB_TOTP_SEAL_PURPOSE,
                 (const unsigned char *)pt, strlen(pt), &out) != AFB_OK)
        return NULL;
    return out;
}

/* The secret of a pending TOTP enrollment of this session and provider, or NULL. */
static const char *afb_totp_unseal(request_rec *r, const afb_enroll_t *e, const char *provider,
                                   const char *sealed)
{
    unsigned char *pt = NULL;
    size_t len = 0;
    char *f[5], *cursor, *end;
    long exp = 0;
    int i;
    if (!sealed || afb_unseal(afb_module(r->server)->keyring, r->pool, AFB_TOTP_SEAL_PURPOSE, sealed,
                              &pt, &len) != AFB_OK || memchr(pt, '\0', len))
        return NULL;
    afb_cleanse_on_cleanup(r->pool, pt, len);
    cursor = apr_pstrmemdup(r->pool, (const char *)pt, len);
    afb_cleanse_on_cleanup(r->pool, cursor, len);
    end = cursor + len;
    for (i = 0; i < 5; i++)
        if (afb_next_line(&cursor, end, 512, &f[i]) != NULL)
            return NULL;
    if (!afb_ct_streq(f[0], e->csrf) || strcmp(f[1], e->s.user) || strcmp(f[2], provider) ||
        afb_parse_uint(f[4], 253402300799L, &exp) != AFB_OK ||
        apr_time_now() >= apr_time_from_sec(exp))
        return NULL;
    return f[3];
}

static int afb_totp_start(request_rec *r, const afb_enroll_t *e, afb_provider_t *prov,
                          const char *error)
{
    const char *secret = afb_totp_new_secret(r->pool), *uri, *svg = NULL, *sealed;
    const char *action = afb_html_escape(r->pool, afb_endpoint_url(r, "enroll", NULL));
    if (!secret || !(sealed = afb_totp_seal(r, e, prov->conf.name, secret)))
        return afb_unavailable_page(r);
    uri = afb_totp_otpauth_uri(r->pool, r->server->server_hostname, e->s.user, secret);
    if (afb_qr_svg(r->pool, uri, 4, &svg) != AFB_OK)
        svg = "";
    return afb_page(r, HTTP_OK, "Add an authenticator app", apr_pstrcat(r->pool,
        error ? "<p class=\"err\" role=\"alert\">" : "", error ? error : "", error ? "</p>" : "",
        "<p>Scan this code with your authenticator app, or enter the key by hand.</p>", svg,
        "<p>Key: <code class=\"secret\">", secret, "</code></p>"
        "<p class=\"note\"><a class=\"otpauth\" href=\"", afb_html_escape(r->pool, uri),
        "\">Open in an authenticator app on this device</a></p>"
        "<form method=\"post\" action=\"", action, "\" autocomplete=\"off\">",
        afb_hidden(r, e, "totp_confirm", prov, NULL),
        "<input type=\"hidden\" name=\"pending\" value=\"", sealed, "\">"
        "<label for=\"code\">Code shown by the app</label>"
        "<input type=\"text\" id=\"code\" name=\"code\" inputmode=\"numeric\" maxlength=\"8\" "
        "autocomplete=\"one-time-code\" required autofocus>"
        "<label for=\"label\">Name (optional)</label>"
        "<input type=\"text\" id=\"label\" name=\"label\" maxlength=\"64\" "
        "placeholder=\"e.g. Phone\"><button type=\"submit\">Confirm</button></form>", NULL));
}

typedef struct {
    const char *user;
    const char *line;       /* NULL: remove */
    const char *label;      /* rename only: keep the rest of the line */
} afb_totp_put_t;

static afb_status_t afb_totp_edit(apr_pool_t *p, void *baton, const char *text, size_t len,
                                  const char **out, size_t *out_len)
{
    afb_totp_put_t *put = baton;
    afb_totp_store_t *ts = NULL;
    const char *err = NULL;
    if (len && afb_totp_store_parse(p, text, len, &ts, &err) != AFB_OK)
        return AFB_EIO; /* never overwrite a store we cannot read */
    if (put->label) {
        const afb_totp_entry_t *t = afb_totp_store_find(ts, put->user);
        if (!t)
            return AFB_ENOENT;
        put->line = afb_totp_store_line(p, put->user, afb_base32_encode(p, t->secret,
                                        t->secret_len), t->created, t->last_used, put->label);
        if (!put->line)
            return AFB_EINVAL;
    }
    return afb_totp_store_put(p, text, len, put->user, put->line, out, out_len);
}

static afb_status_t afb_totp_write(request_rec *r, afb_provider_t *prov, afb_totp_put_t *put)
{
    const char *why = NULL;
    afb_status_t st = afb_storefile_rewrite(r->pool, prov->conf.arg, NULL,
                                            afb_totp_edit, put, &why);
    if (st == AFB_EIO || st == AFB_ETIMEOUT || st == AFB_ETOOBIG)
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "AFB01386: provider %s: cannot update the "
                      "TOTP store: %s", prov->conf.name, why ? why : "it does not parse");
    return st;
}

static int afb_totp_confirm(request_rec *r, afb_enroll_t *e, afb_provider_t *prov,
                            apr_table_t *form)
{
    const char *secret = afb_totp_unseal(r, e, prov->conf.name, apr_table_get(form, "pending"));
    const char *code = apr_table_get(form, "code");
    afb_totp_entry_t t;
    afb_totp_put_t put = {e->s.user, NULL, NULL};
    int64_t step = 0;
    e->failed = 1;
    if (!secret)
        return afb_enroll_page(r, e, HTTP_OK, "That setup expired. Please start again.", 1);
    memset(&t, 0, sizeof(t));
    t.digits = 6;
    t.period = 30;
    t.alg = AFB_TOTP_SHA1;
    if (afb_base32_decode(r->pool, secret, &t.secret, &t.secret_len) != AFB_OK)
        return afb_unavailable_page(r);
    afb_cleanse_on_cleanup(r->pool, t.secret, t.secret_len);
    if (!code || afb_totp_verify(&t, code, apr_time_now(), prov->conf.window, &step) != AFB_OK)
        return afb_totp_start(r, e, prov, "The code did not match. Scan the new code below "
                                          "and try again.");
    e->failed = 0;
    put.line = afb_totp_store_line(r->pool, e->s.user, secret, apr_time_now(), 0,
                                   apr_table_get(form, "label"));
    if (!put.line || afb_totp_write(r, prov, &put) != AFB_OK)
        return afb_enroll_page(r, e, HTTP_OK, "The authenticator app could not be saved right "
                               "now. Please try again later.", 1);
    afb_enroll_event(r, "enroll.added", e, prov, "totp");
    return afb_enroll_page(r, e, HTTP_OK, "Your authenticator app is set up.", 0);
}

/* ---- the POST actions ---- */

static int afb_passkey_action(request_rec *r, afb_enroll_t *e, afb_provider_t *prov,
                              const char *action, apr_table_t *form)
{
    const char *id = apr_table_get(form, "id");
    afb_wa_outcome_t out;
    afb_status_t st;
    if (!strcmp(action, "passkey_add")) {
        st = afb_wa_check_registration(r, prov, form, e->csrf, e->s.user,
                                       apr_table_get(form, "label"), &out);
        if (st != AFB_OK) {
            e->failed = 1;
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "AFB01387: provider %s: passkey of %s "
                          "not added: %s", prov->conf.name, e->s.user, out.reason);
            return afb_enroll_page(r, e, HTTP_OK, "The passkey was not added. Please try "
                                   "again.", 1);
        }
        afb_enroll_event(r, "enroll.added", e, prov, "passkey");
        return afb_enroll_page(r, e, HTTP_OK, "Your passkey is set up.", 0);
    }
    if (!id)
        return afb_bad_request(r, AFB_MSG_BADREQ_INCOMPLETE);
    if (!strcmp(action, "passkey_remove")) {
        if (afb_wa_remove(r, prov, e->s.user, id) != AFB_OK)
            return afb_enroll_page(r, e, HTTP_OK, "That passkey could not be removed.", 1);
        afb_enroll_event(r, "enroll.removed", e, prov, "passkey");
        return afb_enroll_page(r, e, HTTP_OK, "The passkey was removed.", 0);
    }
    if (afb_wa_rename(r, prov, e->s.user, id, apr_table_get(form, "label")) != AFB_OK)
        return afb_enroll_page(r, e, HTTP_OK, "That passkey could not be renamed.", 1);
    return afb_enroll_page(r, e, HTTP_OK, "The passkey was renamed.", 0);
}

static int afb_totp_action(request_rec *r, afb_enroll_t *e, afb_provider_t *prov,
                           const char *action, apr_table_t *form)
{
    afb_totp_put_t put = {e->s.user, NULL, NULL};
    if (!strcmp(action, "totp_start"))
        return afb_totp_start(r, e, prov, NULL);
    if (!strcmp(action, "totp_confirm"))
        return afb_totp_confirm(r, e, prov, form);
    if (!strcmp(action, "totp_remove")) {
        if (afb_totp_write(r, prov, &put) != AFB_OK)
            return afb_enroll_page(r, e, HTTP_OK, "The app could not be removed.", 1);
        afb_enroll_event(r, "enroll.removed", e, prov, "totp");
        return afb_enroll_page(r, e, HTTP_OK, "The authenticator app was removed.", 0);
    }
    put.label = afb_passkey_label_clean(r->pool, apr_table_get(form, "label"),
                                        "Authenticator app");
    if (afb_totp_write(r, prov, &put) != AFB_OK)
        return afb_enroll_page(r, e, HTTP_OK, "The app could not be renamed.", 1);
    return afb_enroll_page(r, e, HTTP_OK, "The authenticator app was renamed.", 0);
}

static int afb_enroll_post(request_rec *r, afb_enroll_t *e)
{
    apr_table_t *form = NULL;
    const char *csrf, *action, *name;
    afb_provider_t *prov;
    afb_attempt_t att;
    int status = OK, st = afb_read_form(r, &form);
    if (st == HTTP_REQUEST_ENTITY_TOO_LARGE)
        return afb_page(r, st, "Request too large", "<p>The form was too large.</p>");
    if (st != OK)
        return afb_bad_request(r, AFB_MSG_BADREQ_FORM);
    csrf = apr_table_get(form, "csrf");
    if (!csrf || !afb_ct_streq(csrf, e->csrf))
        return afb_page(r, HTTP_FORBIDDEN, "Form expired", "<p>This form is no longer valid. "
                        "Please reload the page.</p>");
    action = apr_table_get(form, "action");
    name = apr_table_get(form, "provider");
    prov = name ? afb_provider_find(r->server, name) : NULL;
    if (!action || !prov || !(afb_wa_is(prov) || afb_totp_enrolled_store(prov)))
        return afb_bad_request(r, AFB_MSG_BADREQ_INCOMPLETE);
    /* counted before it runs; given back unless it was refused (a wrong code, a refused
     * passkey), so guessing codes here is throttled as on the sign-in forms */
    if (afb_throttled(r, &e->flow, e->s.user, e->s.user, &att, &status))
        return status;
    if (afb_wa_is(prov) &&
        (!strcmp(action, "passkey_add") || !strcmp(action, "passkey_remove") ||
         !strcmp(action, "passkey_rename")))
        status = afb_passkey_action(r, e, prov, action, form);
    else if (afb_totp_enrolled_store(prov) &&
             (!strcmp(action, "totp_start") || !strcmp(action, "totp_confirm") ||
              !strcmp(action, "totp_remove") || !strcmp(action, "totp_rename")))
        status = afb_totp_action(r, e, prov, action, form);
    else
        status = afb_bad_request_text(r, "Unknown action.");
    if (!e->failed)
        afb_attempt_done(&att);
    return status;
}

const char *afb_cmd_enroll_require(cmd_parms *cmd, void *dc, const char *name)
{
    const char *err = NULL;
    afb_module_t *mod = afb_cmd_global(cmd, dc, &err);
    afb_provider_t *prov = afb_provider_find(cmd->server, name);
    if (!mod)
        return err;
    if (!prov || !afb_provider_has(prov, AFB_ROLE_FIRST))
        return afb_cmd_err(cmd, "'%s' is not a declared first-factor provider (declare it with "
                           "AuthFallbackProvider before this line)", name);
    if (!mod->enroll_require)
        mod->enroll_require = apr_array_make(cmd->pool, 4, sizeof(const char *));
    APR_ARRAY_PUSH(mod->enroll_require, const char *) = name;
    return NULL;
}

int afb_enroll_handler(request_rec *r)
{
    afb_enroll_t e;
    int status = OK;
    if (!afb_enroll_session(r, &e, &status))
        return status;
    if (r->method_number == M_POST)
        return afb_enroll_post(r, &e);
    return afb_enroll_page(r, &e, HTTP_OK, NULL, 0);
}
