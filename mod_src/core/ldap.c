/* The directory client (include/authfb/ldap.h): OpenLDAP's libldap, one LDAP handle per
 * connection, a small pool of idle connections per provider, and a watchdog thread that
 * shuts a connection's socket down at its deadline (libldap bounds neither the TLS handshake
 * nor a read once connected; shutting down our duplicate of the socket ends both). */
#include "authfb/ldap.h"
#include "authfb/util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <apr_strings.h>
#include <ldap.h>

typedef struct conn_t conn_t;

struct conn_t {
    afb_ldap_t *owner;
    LDAP *ld;
    int url;                    /* index into owner->urls */
    int bound_service;          /* bound as the service account (or anonymous) now */
    int verify;                 /* 0 only for the certificate diagnosis */
    int tcp_up;                 /* a TCP connection was made */
    apr_int64_t idle_since;     /* when it went back to the pool */
    ldap_conncb cb;             /* must outlive ld */
    /* the watchdog's, under owner->wd_lock */
    int wfd;                    /* our duplicate of the socket, or -1 */
    apr_int64_t deadline;       /* monotonic microseconds; 0 when not armed */
    int fired;
    conn_t *wd_next;
};

struct afb_ldap_t {
    afb_ldap_conf_t conf;
    int nurls;
    const char *filter;
    struct berval service_pw;   /* zeroed when the pool goes */
    pthread_mutex_t pool_lock;
    conn_t *idle[AFB_LDAP_POOL];
    int nidle;
    pthread_mutex_t wd_lock;
    pthread_cond_t wd_cond;
    pthread_t wd_thread;
    int wd_started, wd_stop;
    conn_t *armed;
};

typedef afb_status_t op_fn(afb_ldap_t *l, conn_t *c, apr_pool_t *p, apr_int64_t deadline,
                           const void *arg, afb_ldap_result_t *res);

static apr_int64_t mono_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (apr_int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static struct timeval left_tv(apr_int64_t deadline)
{
    apr_int64_t left = deadline - mono_now();
    struct timeval tv;

    if (left < 1000)
        left = 1000;
    tv.tv_sec = (time_t)(left / 1000000);
    tv.tv_usec = (suseconds_t)(left % 1000000);
    return tv;
}

/* ---- the watchdog -------------------------------------------------------------------- */

/* Fires every armed connection whose deadline passed; returns the next deadline (0: none). */
static apr_int64_t wd_sweep(afb_ldap_t *l, apr_int64_t now)
{
    apr_int64_t next = 0;
    conn_t *c;

    for (c = l->armed; c != NULL; c = c->wd_next) {
        if (c->fired)
            continue;
        if (c->deadline <= now) {
            c->fired = 1;
            if (c->wfd >= 0)
                shutdown(c->wfd, SHUT_RDWR);
        } else if (next == 0 || c->deadline < next) {
            next = c->deadline;
        }
    }
    return next;
}

static void *wd_main(void *arg)
{
    afb_ldap_t *l = arg;
    struct timespec ts;
    apr_int64_t next;

    pthread_mutex_lock(&l->wd_lock);
    while (!l->wd_stop) {
        next = wd_sweep(l, mono_now());
        if (next == 0) {
            pthread_cond_wait(&l->wd_cond, &l->wd_lock);
            continue;
        }
        ts.tv_sec = (time_t)(next / 1000000);
        ts.tv_nsec = (long)(next % 1000000) * 1000;
        pthread_cond_timedwait(&l->wd_cond, &l->wd_lock, &ts);
    }
    pthread_mutex_unlock(&l->wd_lock);
    return NULL;
}

/* The thread starts with the first armed deadline, in the process that uses the object. */
static void wd_arm(conn_t *c, apr_int64_t deadline)
{
    afb_ldap_t *l = c->owner;

    pthread_mutex_lock(&l->wd_lock);
    if (!l->wd_started && pthread_create(&l->wd_thread, NULL, wd_main, l) == 0)
        l->wd_started = 1;
    if (c->deadline == 0) {
        c->wd_next = l->armed;
        l->armed = c;
    }
    c->deadline = deadline;
    c->fired = 0;
    pthread_cond_signal(&l->wd_cond);
    pthread_mutex_unlock(&l->wd_lock);
}

/* 1 when the deadline fired while armed. */
static int wd_disarm(conn_t *c)
{
    afb_ldap_t *l = c->owner;
    conn_t **pp;
    int fired;

    pthread_mutex_lock(&l->wd_lock);
    for (pp = &l->armed; *pp != NULL; pp = &(*pp)->wd_next) {
        if (*pp == c) {
            *pp = c->wd_next;
            break;
        }
    }
    fired = c->fired;
    c->deadline = 0;
    c->fired = 0;
    pthread_mutex_unlock(&l->wd_lock);
    return fired;
}

static void wd_set_fd(conn_t *c, int fd)
{
    afb_ldap_t *l = c->owner;

    pthread_mutex_lock(&l->wd_lock);
    if (c->wfd >= 0)
        close(c->wfd);
    c->wfd = fd;
    if (fd >= 0 && c->fired)
        shutdown(fd, SHUT_RDWR);
    pthread_mutex_unlock(&l->wd_lock);
}

/* libldap's connection callbacks: keep a duplicate of the socket (shutting a duplicate down
 * acts on the socket, and the duplicate is never reused for another connection while we
 * hold it) and cap what one message may grow to. */
static int conn_added(LDAP *ld, Sockbuf *sb, LDAPURLDesc *srv, struct sockaddr *addr,
                      struct ldap_conncb *ctx)
{
    conn_t *c = ctx->lc_arg;
    ber_socket_t fd = -1;
    ber_len_t max = AFB_LDAP_MAX_MESSAGE;

    (void)ld, (void)srv, (void)addr;
    ber_sockbuf_ctrl(sb, LBER_SB_OPT_SET_MAX_INCOMING, &max);
    if (ber_sockbuf_ctrl(sb, LBER_SB_OPT_GET_FD, &fd) == 1 && fd >= 0) {
        c->tcp_up = 1;
        wd_set_fd(c, fcntl(fd, F_DUPFD_CLOEXEC, 0));
    }
    return 0;
}

static void conn_deleted(LDAP *ld, Sockbuf *sb, struct ldap_conncb *ctx)
{
    (void)ld, (void)sb;
    wd_set_fd(ctx->lc_arg, -1);
}

/* ---- connections --------------------------------------------------------------------- */

static void conn_free(conn_t *c)
{
    if (c == NULL)
        return;
    wd_disarm(c);
    if (c->ld != NULL)
        ldap_unbind_ext(c->ld, NULL, NULL);
    wd_set_fd(c, -1);
    free(c);
}

/* The most recently used idle connection. One idle for longer than AFB_LDAP_MAX_IDLE is
 * closed instead: directories drop idle connections (Active Directory after 900 s), and a
 * server that vanished without a word would cost the person a share of the deadline. */
static conn_t *pool_take(afb_ldap_t *l)
{
    conn_t *c = NULL, *stale[AFB_LDAP_POOL];
    apr_int64_t now = mono_now();
    int i, nstale = 0;

    pthread_mutex_lock(&l->pool_lock);
    while (l->nidle > 0 && c == NULL) {
        c = l->idle[--l->nidle];
        if (now - c->idle_since > AFB_LDAP_MAX_IDLE) {
            stale[nstale++] = c;
            c = NULL;
        }
    }
    pthread_mutex_unlock(&l->pool_lock);
    for (i = 0; i < nstale; i++)
        conn_free(stale[i]);
    return c;
}

static void pool_put(afb_ldap_t *l, conn_t *c)
{
    c->idle_since = mono_now();
    pthread_mutex_lock(&l->pool_lock);
    if (l->nidle < AFB_LDAP_POOL) {
        l->idle[l->nidle++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&l->pool_lock);
    conn_free(c);
}

static int set_tls_options(afb_ldap_t *l, LDAP *ld, int verify)
{
    int demand = verify ? LDAP_OPT_X_TLS_DEMAND : LDAP_OPT_X_TLS_NEVER, min = LDAP_OPT_X_TLS_PROTOCOL_TLS1_2, zero = 0;
    const char *ca = l->conf.ca_file ? l->conf.ca_file : AFB_LDAP_SYSTEM_CA;

    /* Set on the handle so that neither ldap.conf, ~/.ldaprc nor LDAPTLS_* weaken it. */
    if (ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand) != LDAP_OPT_SUCCESS
        || ldap_set_option(ld, LDAP_OPT_X_TLS_PROTOCOL_MIN, &min) != LDAP_OPT_SUCCESS
        || ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, ca) != LDAP_OPT_SUCCESS
        || ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTDIR, NULL) != LDAP_OPT_SUCCESS
        || ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero) != LDAP_OPT_SUCCESS)
        return -1;
    return 0;
}

static int set_options(afb_ldap_t *l, conn_t *c, apr_int64_t deadline)
{
    int v3 = LDAP_VERSION3;
    struct timeval tv = left_tv(deadline);

    if (ldap_set_option(c->ld, LDAP_OPT_PROTOCOL_VERSION, &v3) != LDAP_OPT_SUCCESS
        || ldap_set_option(c->ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) != LDAP_OPT_SUCCESS
        || ldap_set_option(c->ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) != LDAP_OPT_SUCCESS
        || ldap_set_option(c->ld, LDAP_OPT_TIMEOUT, &tv) != LDAP_OPT_SUCCESS
        || ldap_set_option(c->ld, LDAP_OPT_CONNECT_CB, &c->cb) != LDAP_OPT_SUCCESS)
        return -1;
    return set_tls_options(l, c->ld, c->verify);
}

static afb_status_t conn_open(afb_ldap_t *l, apr_pool_t *p, int i, int verify,
                              apr_int64_t deadline, conn_t **out, afb_ldap_result_t *res);

/* libldap reports a certificate it does not trust only as "Can't contact LDAP server". When
 * TCP was up, the same handshake is tried once more without verification (within the same
 * deadline; nothing but the unbind is sent on it): if that passes, the certificate was the
 * reason. */
static int cert_refused(afb_ldap_t *l, apr_pool_t *p, int i, apr_int64_t deadline)
{
    afb_ldap_result_t probe;
    conn_t *c = NULL;

    memset(&probe, 0, sizeof(probe));
    if (conn_open(l, p, i, 0, deadline, &c, &probe) != AFB_OK)
        return 0;
    wd_disarm(c);
    conn_free(c);
    return 1;
}

static afb_status_t connect_failed(afb_ldap_t *l, conn_t *c, apr_pool_t *p, int rc, int tls,
                                   apr_int64_t deadline, afb_ldap_result_t *res)
{
    char *diag = NULL;
    afb_status_t st = afb_ldap_classify_infra(rc, &res->why);

    ldap_get_option(c->ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
    res->detail = apr_psprintf(p, "%s%s%s", ldap_err2string(rc), diag ? ": " : "",
                               diag ? apr_pstrndup(p, diag, AFB_LDAP_MAX_DIAG) : "");
    ldap_memfree(diag);
    if (st != AFB_EIO || !tls || !c->tcp_up || !c->verify)
        return st;
    if (cert_refused(l, p, c->url, deadline)) {
        res->why = AFB_LDAP_R_UNTRUSTED_CERT;
        res->detail = apr_psprintf(p, "the server's certificate is not trusted (issuer or "
                                   "name; ca_file=%s)", l->conf.ca_file ? l->conf.ca_file
                                                                         : AFB_LDAP_SYSTEM_CA);
    } else {
        res->why = AFB_LDAP_R_TLS;
    }
    return st;
}

/* A new connection to urls[i], TLS established, armed with the deadline. */
static afb_status_t conn_open(afb_ldap_t *l, apr_pool_t *p, int i, int verify,
                              apr_int64_t deadline, conn_t **out, afb_ldap_result_t *res)
{
    conn_t *c = calloc(1, sizeof(*c));
    int rc, tls = strncasecmp(l->conf.urls[i], "ldaps:", 6) == 0;
    afb_status_t st = AFB_OK;

    if (c == NULL)
        return AFB_ERR;
    c->owner = l;
    c->url = i;
    c->verify = verify;
    c->wfd = -1;
    c->bound_service = l->conf.bind_dn == NULL;
    c->cb.lc_add = conn_added;
    c->cb.lc_del = conn_deleted;
    c->cb.lc_arg = c;
    if (ldap_initialize(&c->ld, l->conf.urls[i]) != LDAP_SUCCESS || c->ld == NULL
        || set_options(l, c, deadline) != 0) {
        res->why = AFB_LDAP_R_INTERNAL;
        res->detail = "cannot set up a libldap handle";
        conn_free(c);
        return AFB_ERR;
    }
    wd_arm(c, deadline);
    rc = ldap_connect(c->ld);
    if (rc == LDAP_SUCCESS && l->conf.starttls) {
        rc = ldap_start_tls_s(c->ld, NULL, NULL);
        tls = 1;
    }
    if (rc != LDAP_SUCCESS) {
        if (wd_disarm(c)) {
            st = AFB_ETIMEOUT;
            res->why = AFB_LDAP_R_TIMEOUT;
            res->detail = "no answer before the deadline (connect or TLS handshake)";
        } else {
            st = connect_failed(l, c, p, rc, tls, deadline, res);
        }
        conn_free(c);
        return st;
    }
    *out = c;
    return AFB_OK;
}

/* ---- operations ---------------------------------------------------------------------- */

/* The result of msgid, or an LDAP code (LDAP_TIMEOUT at the deadline). */
static int wait_result(conn_t *c, int msgid, apr_int64_t deadline, LDAPMessage **msg)
{
    struct timeval tv = left_tv(deadline);
    int rc, err = LDAP_SERVER_DOWN;

    *msg = NULL;
    rc = ldap_result(c->ld, msgid, LDAP_MSG_ALL, &tv, msg);
    if (rc == 0)
        return LDAP_TIMEOUT;
    if (rc < 0 || *msg == NULL) {
        ldap_get_option(c->ld, LDAP_OPT_RESULT_CODE, &err);
        return err == LDAP_SUCCESS ? LDAP_SERVER_DOWN : err;
    }
    return LDAP_SUCCESS;
}

static int ppolicy_error(LDAP *ld, LDAPControl **ctrls, const char **text)
{
    LDAPControl *ctrl = ldap_control_find(LDAP_CONTROL_PASSWORDPOLICYRESPONSE, ctrls, NULL);
    ber_int_t expire = -1, grace = -1;
    LDAPPasswordPolicyError err = PP_noError;

    if (ctrl == NULL
        || ldap_parse_passwordpolicy_control(ld, ctrl, &expire, &grace, &err) != LDAP_SUCCESS)
        return AFB_LDAP_PP_NONE;
    if (err != PP_noError)
        *text = ldap_passwordpolicy_err2txt(err);
    switch (err) {
    case PP_passwordExpired: return AFB_LDAP_PP_PASSWORD_EXPIRED;
    case PP_accountLocked: return AFB_LDAP_PP_ACCOUNT_LOCKED;
    case PP_changeAfterReset: return AFB_LDAP_PP_CHANGE_AFTER_RESET;
    default: return AFB_LDAP_PP_NONE;
    }
}

typedef struct {
    const char *diag;           /* capped copy, or NULL */
    int pp;
    const char *pp_text;        /* libldap's words for the ppolicy error, or NULL */
} bind_answer_t;

/* A simple bind with the ppolicy request control; the LDAP result code. */
static int do_bind(conn_t *c, apr_pool_t *p, const char *dn, const struct berval *pw,
                   apr_int64_t deadline, bind_answer_t *ans)
{
    LDAPControl req = {(char *)LDAP_CONTROL_PASSWORDPOLICYREQUEST, {0, NULL}, 0};
    LDAPControl *sctrls[2] = {&req, NULL}, **rctrls = NULL;
    struct berval cred = *pw;
    LDAPMessage *msg;
    char *diag = NULL;
    int msgid = -1, err = LDAP_OTHER, rc;

    ans->diag = NULL;
    ans->pp = AFB_LDAP_PP_NONE;
    ans->pp_text = NULL;
    rc = ldap_sasl_bind(c->ld, dn, LDAP_SASL_SIMPLE, &cred, sctrls, NULL, &msgid);
    if (rc != LDAP_SUCCESS)
        return rc;
    rc = wait_result(c, msgid, deadline, &msg);
    if (rc != LDAP_SUCCESS)
        return rc;
    rc = ldap_parse_result(c->ld, msg, &err, NULL, &diag, NULL, &rctrls, 1);
    if (rc != LDAP_SUCCESS)
        return rc;
    ans->pp = ppolicy_error(c->ld, rctrls, &ans->pp_text);
    if (diag != NULL && diag[0] != '\0')
        ans->diag = apr_pstrndup(p, diag, AFB_LDAP_MAX_DIAG);
    ldap_memfree(diag);
    ldap_controls_free(rctrls);
    return err;
}

static afb_status_t infra(apr_pool_t *p, int rc, afb_ldap_reason_t why, const char *what,
                          const char *diag, afb_ldap_result_t *res)
{
    afb_status_t st = afb_ldap_classify_infra(rc, &res->why);

    if (why != AFB_LDAP_R_NONE && st == AFB_EIO && res->why == AFB_LDAP_R_DIRECTORY)
        res->why = why;
    res->detail = apr_psprintf(p, "%s: %s%s%s", what, ldap_err2string(rc), diag ? ": " : "",
                               diag ? diag : "");
    return st;
}

static afb_status_t service_bind(afb_ldap_t *l, conn_t *c, apr_pool_t *p,
                                 apr_int64_t deadline, afb_ldap_result_t *res)
{
    static const struct berval empty = {0, NULL};
    bind_answer_t ans;
    int rc;

    if (c->bound_service)
        return AFB_OK;
    rc = do_bind(c, p, l->conf.bind_dn, l->conf.bind_dn ? &l->service_pw : &empty, deadline,
                 &ans);
    if (rc == LDAP_INVALID_CREDENTIALS) {
        res->why = AFB_LDAP_R_SERVICE_BIND;
        res->detail = apr_psprintf(p, "service account bind refused%s%s",
                                   ans.diag ? ": " : "", ans.diag ? ans.diag : "");
        return AFB_EIO;
    }
    if (rc != LDAP_SUCCESS)
        return infra(p, rc, AFB_LDAP_R_SERVICE_BIND, "service account bind", ans.diag, res);
    c->bound_service = 1;
    return AFB_OK;
}

typedef struct {
    const char *dn;
    const char *value;          /* of user_attr, or NULL */
} found_t;

static afb_status_t read_entry(afb_ldap_t *l, conn_t *c, apr_pool_t *p, LDAPMessage *e,
                               found_t *out, afb_ldap_result_t *res)
{
    char *dn = ldap_get_dn(c->ld, e);
    struct berval **vals = NULL;
    afb_status_t st = AFB_OK;

    if (dn == NULL)
        return infra(p, LDAP_DECODING_ERROR, AFB_LDAP_R_SEARCH, "search", NULL, res);
    out->dn = res->dn = apr_pstrdup(p, dn);
    ldap_memfree(dn);
    if (l->conf.user_attr == NULL)
        return AFB_OK;
    vals = ldap_get_values_len(c->ld, e, l->conf.user_attr);
    if (vals == NULL || vals[0] == NULL
        || afb_ldap_value_check(vals[0]->bv_val, vals[0]->bv_len) != AFB_OK) {
        res->why = AFB_LDAP_R_BAD_VALUE;
        res->detail = apr_psprintf(p, "%s missing or not usable as a user name",
                                   l->conf.user_attr);
        st = AFB_ENOENT;
    } else {
        out->value = apr_pstrmemdup(p, vals[0]->bv_val, vals[0]->bv_len);
    }
    ldap_value_free_len(vals);
    return st;
}

/* The one entry the filter matches under base. */
static afb_status_t find_entry(afb_ldap_t *l, conn_t *c, apr_pool_t *p, apr_int64_t deadline,
                               const char *filter, found_t *out, afb_ldap_result_t *res)
{
    char *attrs[2] = {(char *)(l->conf.user_attr ? l->conf.user_attr : LDAP_NO_ATTRS), NULL};
    struct timeval tv = left_tv(deadline);
    LDAPMessage *msg = NULL;
    char *diag = NULL;
    int msgid = -1, err = LDAP_OTHER, n, rc;
    afb_status_t st;

    rc = ldap_search_ext(c->ld, l->conf.base, LDAP_SCOPE_SUBTREE, filter, attrs, 0, NULL,
                         NULL, &tv, 2, &msgid);
    if (rc == LDAP_SUCCESS)
        rc = wait_result(c, msgid, deadline, &msg);
    if (rc == LDAP_SUCCESS)
        rc = ldap_parse_result(c->ld, msg, &err, NULL, &diag, NULL, NULL, 0);
    if (rc != LDAP_SUCCESS || (err != LDAP_SUCCESS && err != LDAP_SIZELIMIT_EXCEEDED)) {
        st = infra(p, rc != LDAP_SUCCESS ? rc : err, AFB_LDAP_R_SEARCH, "search",
                   diag ? apr_pstrndup(p, diag, AFB_LDAP_MAX_DIAG) : NULL, res);
        goto out;
    }
    n = ldap_count_entries(c->ld, msg);
    if (n == 1 && err == LDAP_SUCCESS) {
        st = read_entry(l, c, p, ldap_first_entry(c->ld, msg), out, res);
        goto out;
    }
    st = AFB_ENOENT;
    res->why = n == 0 ? AFB_LDAP_R_UNKNOWN_USER : AFB_LDAP_R_AMBIGUOUS;
    res->detail = n == 0 ? "no entry matches" : "several entries match the filter";
out:
    ldap_memfree(diag);
    ldap_msgfree(msg);
    return st;
}

typedef struct {
    const char *filter;
    const char *user;           /* the typed name */
    struct berval password;
} signin_t;

static afb_status_t op_signin(afb_ldap_t *l, conn_t *c, apr_pool_t *p, apr_int64_t deadline,
                              const void *arg, afb_ldap_result_t *res)
{
    const signin_t *in = arg;
    found_t found = {NULL, NULL};
    bind_answer_t ans;
    afb_status_t st;
    int rc;

    if ((st = service_bind(l, c, p, deadline, res)) != AFB_OK
        || (st = find_entry(l, c, p, deadline, in->filter, &found, res)) != AFB_OK)
        return st;
    rc = do_bind(c, p, found.dn, &in->password, deadline, &ans);
    c->bound_service = 0;
    st = afb_ldap_classify_bind(rc, ans.diag, ans.diag ? strlen(ans.diag) : 0, ans.pp,
                                &res->why);
    if (st == AFB_OK) {
        res->user = found.value ? found.value : in->user;
        return AFB_OK;
    }
    if (afb_ldap_is_infra(st))
        return infra(p, rc, AFB_LDAP_R_NONE, "bind", ans.diag, res);
    res->detail = apr_psprintf(p, "%s%s%s%s%s", ldap_err2string(rc), ans.diag ? ": " : "",
                               ans.diag ? ans.diag : "", ans.pp_text ? "; password policy: " : "",
                               ans.pp_text ? ans.pp_text : "");
    return st;
}

static afb_status_t op_probe(afb_ldap_t *l, conn_t *c, apr_pool_t *p, apr_int64_t deadline,
                             const void *arg, afb_ldap_result_t *res)
{
    char *attrs[2] = {(char *)"supportedLDAPVersion", NULL};
    struct timeval tv = left_tv(deadline);
    LDAPMessage *msg = NULL;
    int msgid = -1, err = LDAP_OTHER, rc;
    afb_status_t st;

    (void)arg;
    if ((st = service_bind(l, c, p, deadline, res)) != AFB_OK)
        return st;
    rc = ldap_search_ext(c->ld, "", LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, NULL, NULL,
                         &tv, 1, &msgid);
    if (rc == LDAP_SUCCESS)
        rc = wait_result(c, msgid, deadline, &msg);
    if (rc == LDAP_SUCCESS)
        rc = ldap_parse_result(c->ld, msg, &err, NULL, NULL, NULL, NULL, 0);
    if (rc == LDAP_SUCCESS && err == LDAP_SUCCESS && ldap_count_entries(c->ld, msg) != 1)
        err = LDAP_NO_SUCH_OBJECT;
    ldap_msgfree(msg);
    if (rc != LDAP_SUCCESS || err != LDAP_SUCCESS)
        return infra(p, rc != LDAP_SUCCESS ? rc : err, AFB_LDAP_R_SEARCH, "rootDSE read",
                     NULL, res);
    res->detail = "rootDSE read";
    return AFB_OK;
}

/* ---- attempts within the deadline -------------------------------------------------- */

/* One operation on one connection (c, or a new one to urls[i]) until deadline. A connection
 * goes back to the pool only when nothing failed on it but the person. */
static afb_status_t attempt(afb_ldap_t *l, apr_pool_t *p, conn_t *c, int i,
                            apr_int64_t deadline, op_fn *op, const void *arg,
                            afb_ldap_result_t *res)
{
    afb_status_t st;

    res->server = l->conf.urls[i];
    if (c == NULL) {
        st = conn_open(l, p, i, 1, deadline, &c, res);
        if (st != AFB_OK)
            return st;
    } else {
        wd_arm(c, deadline);
    }
    st = op(l, c, p, deadline, arg, res);
    if (wd_disarm(c) && st != AFB_OK && st != AFB_ENOENT && st != AFB_EMISMATCH) {
        st = AFB_ETIMEOUT;
        res->why = AFB_LDAP_R_TIMEOUT;
        res->detail = "no answer before the deadline";
    }
    if (st == AFB_OK || st == AFB_ENOENT || st == AFB_EMISMATCH)
        pool_put(l, c);
    else
        conn_free(c);
    return st;
}

/* A pooled connection first (a stale one fails at once and costs nothing), then each URL in
 * order with an equal share of the time left; a URL that just timed out is not tried again. */
static afb_status_t run(afb_ldap_t *l, apr_pool_t *p, int pooled, op_fn *op, const void *arg,
                        afb_ldap_result_t *res)
{
    apr_int64_t deadline = mono_now() + l->conf.timeout, now, share;
    conn_t *c = pooled ? pool_take(l) : NULL;
    const char *trail = NULL;
    afb_status_t st = AFB_ETIMEOUT;
    int i, skip = -1;

    if (c != NULL) {
        i = c->url;
        share = (deadline - mono_now()) / l->nurls;
        st = attempt(l, p, c, i, mono_now() + share, op, arg, res);
        if (!afb_ldap_is_infra(st))
            return st;
        skip = st == AFB_ETIMEOUT ? i : -1;
        trail = apr_psprintf(p, "%s (kept connection): %s", res->server, res->detail);
    }
    for (i = 0; i < l->nurls; i++) {
        now = mono_now();
        if (i == skip)
            continue;
        if (now >= deadline)
            break;
        share = (deadline - now) / (l->nurls - i);
        st = attempt(l, p, NULL, i, i == l->nurls - 1 ? deadline : now + share, op, arg, res);
        if (!afb_ldap_is_infra(st) && st != AFB_ERR)
            return st;
        trail = apr_psprintf(p, "%s%s%s: %s", trail ? trail : "", trail ? "; " : "",
                             l->conf.urls[i], res->detail ? res->detail : "");
    }
    if (st == AFB_ETIMEOUT || mono_now() >= deadline) {
        res->why = AFB_LDAP_R_TIMEOUT;
        st = AFB_ETIMEOUT;
    }
    res->detail = trail ? trail : "no server tried before the deadline";
    return st;
}

afb_status_t afb_ldap_authenticate(afb_ldap_t *l, apr_pool_t *p, const char *user,
                                   size_t user_len, const char *password,
                                   afb_ldap_result_t *res)
{
    signin_t in;
    size_t pwlen = password ? strlen(password) : 0;

    memset(res, 0, sizeof(*res));
    if (afb_ldap_name_check(user, user_len) != AFB_OK) {
        res->why = AFB_LDAP_R_UNKNOWN_USER;
        res->detail = "name refused before the search";
        return AFB_ENOENT;
    }
    if (pwlen == 0 || pwlen > AFB_LDAP_MAX_PASSWORD) {
        /* An empty simple-bind password is an unauthenticated bind that "succeeds". */
        res->why = AFB_LDAP_R_BAD_PASSWORD;
        res->detail = pwlen == 0 ? "empty password (not sent)" : "password too long (not sent)";
        return AFB_EMISMATCH;
    }
    in.user = apr_pstrmemdup(p, user, user_len);
    in.filter = afb_ldap_filter_build(p, l->filter, user, user_len);
    in.password.bv_val = (char *)password;
    in.password.bv_len = pwlen;
    return run(l, p, 1, op_signin, &in, res);
}

afb_status_t afb_ldap_probe(afb_ldap_t *l, apr_pool_t *p, afb_ldap_result_t *res)
{
    memset(res, 0, sizeof(*res));
    return run(l, p, 0, op_probe, NULL, res);
}

/* ---- creation and teardown ----------------------------------------------------------- */

static apr_status_t ldap_cleanup(void *data)
{
    afb_ldap_t *l = data;
    int started;

    pthread_mutex_lock(&l->wd_lock);
    l->wd_stop = 1;
    started = l->wd_started;
    pthread_cond_signal(&l->wd_cond);
    pthread_mutex_unlock(&l->wd_lock);
    if (started)
        pthread_join(l->wd_thread, NULL);
    while (l->nidle > 0)
        conn_free(l->idle[--l->nidle]);
    pthread_cond_destroy(&l->wd_cond);
    pthread_mutex_destroy(&l->wd_lock);
    pthread_mutex_destroy(&l->pool_lock);
    return APR_SUCCESS;
}

static afb_status_t check_conf(apr_pool_t *p, const afb_ldap_conf_t *conf, int *nurls,
                               const char **reason)
{
    int n = 0;

    for (n = 0; conf->urls != NULL && conf->urls[n] != NULL; n++) {
        if (n == AFB_LDAP_MAX_URLS) {
            *reason = apr_psprintf(p, "more than %d URLs", AFB_LDAP_MAX_URLS);
            return AFB_EINVAL;
        }
        if (afb_ldap_url_check(p, conf->urls[n], conf->starttls, reason) != AFB_OK)
            return AFB_EINVAL;
    }
    *nurls = n;
    if (n == 0)
        *reason = "no directory URL";
    else if (conf->base == NULL || conf->base[0] == '\0')
        *reason = "base= (the search base) is required";
    else if (conf->bind_dn != NULL
             && (conf->bind_password == NULL || conf->bind_password[0] == '\0'))
        *reason = "bind_dn= needs a non-empty password (bind_password_file=)";
    else if (conf->filter != NULL && afb_ldap_filter_check(conf->filter, reason) != AFB_OK)
        return AFB_EINVAL;
    else
        return AFB_OK;
    return AFB_EINVAL;
}

static const char *const *copy_urls(apr_pool_t *p, const char *const *urls, int n)
{
    const char **out = apr_pcalloc(p, sizeof(*out) * (size_t)(n + 1));
    int i;

    for (i = 0; i < n; i++)
        out[i] = apr_pstrdup(p, urls[i]);
    return out;
}

static int init_locks(afb_ldap_t *l)
{
    pthread_condattr_t ca;
    int rc;

    if (pthread_condattr_init(&ca) != 0)
        return -1;
    rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0
         && pthread_cond_init(&l->wd_cond, &ca) == 0 ? 0 : -1;
    pthread_condattr_destroy(&ca);
    if (rc == 0 && pthread_mutex_init(&l->wd_lock, NULL) == 0
        && pthread_mutex_init(&l->pool_lock, NULL) == 0)
        return 0;
    return -1;
}

afb_status_t afb_ldap_create(apr_pool_t *p, const afb_ldap_conf_t *conf, afb_ldap_t **out,
                             const char **reason)
{
    afb_ldap_t *l = apr_pcalloc(p, sizeof(*l));
    int v;

    if (check_conf(p, conf, &l->nurls, reason) != AFB_OK)
        return AFB_EINVAL;
    l->conf = *conf;
    l->conf.urls = copy_urls(p, conf->urls, l->nurls);
    l->conf.bind_password = NULL;
    l->filter = conf->filter ? conf->filter : AFB_LDAP_DEFAULT_FILTER;
    if (l->conf.timeout <= 0)
        l->conf.timeout = apr_time_from_sec(2);
    if (conf->bind_dn != NULL) {
        l->service_pw.bv_len = strlen(conf->bind_password);
        l->service_pw.bv_val = apr_pstrmemdup(p, conf->bind_password, l->service_pw.bv_len);
        afb_cleanse_on_cleanup(p, l->service_pw.bv_val, l->service_pw.bv_len);
    }
    if (init_locks(l) != 0) {
        *reason = "cannot create locks";
        return AFB_ERR;
    }
    /* libldap's global options are set up once, here, rather than by racing threads. */
    ldap_get_option(NULL, LDAP_OPT_PROTOCOL_VERSION, &v);
    apr_pool_cleanup_register(p, l, ldap_cleanup, apr_pool_cleanup_null);
    *out = l;
    return AFB_OK;
}
