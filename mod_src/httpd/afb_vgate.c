/* The bound on password verifications running at once, shared by every child
 * (include/authfb/vgate.h; the bound and why: docs/operations.md, "Sizing"). The gate lives in
 * an anonymous shared segment made once, at the first configuration pass that needs it, in
 * the process pool: children of every generation fork with it mapped, so a graceful restart
 * keeps one queue for old and new children alike. */
#include <apr_shm.h>
#include <unistd.h>

#include "afb_vgate.h"
#include "authfb/limits.h"
#include "authfb/log.h"
#include "authfb/vgate.h"

APLOG_USE_MODULE(auth_fallback);

/* The gate outlives configuration passes: its pointer is kept in httpd's retained data. */
typedef struct {
    afb_vgate_t *gate;
} afb_vgate_retained_t;

static int afb_vgate_cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > AFB_VGATE_MAX_SLOTS ? AFB_VGATE_MAX_SLOTS : (int)n;
}

int afb_vgate_post_config(server_rec *s)
{
    afb_vgate_retained_t *ret = ap_retained_data_get("afb-vgate");
    apr_shm_t *shm = NULL;
    apr_status_t rv;
    if (!ret)
        ret = ap_retained_data_create("afb-vgate", sizeof(*ret));
    afb_module(s)->vgate = ret->gate;
    if (ret->gate)
        return OK;
    rv = apr_shm_create(&shm, afb_vgate_size(), NULL, s->process->pool);
    if (rv != APR_SUCCESS ||
        afb_vgate_init(apr_shm_baseaddr_get(shm), afb_vgate_cores(), &ret->gate) != AFB_OK) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s,
                     "AFB01271: cannot set up the shared password verification queue");
        return !OK;
    }
    afb_module(s)->vgate = ret->gate;
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "AFB01272: at most %d password verifications "
                 "run at once (one per core); the others queue", afb_vgate_slots(ret->gate));
    return OK;
}

afb_status_t afb_vgate_verify(request_rec *r, afb_vgate_work_fn fn, void *baton)
{
    afb_vgate_t *gate = afb_module(r->server)->vgate;
    apr_interval_time_t waited = 0;
    int turn = -1;
    afb_status_t st = afb_vgate_enter(gate, AFB_VGATE_MAX_WAIT, &waited, &turn);
    afb_status_t res;
    if (st == AFB_ETIMEOUT)
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "AFB01273: a password verification "
                      "waited %" APR_TIME_T_FMT " s for its turn and goes ahead; sign-ins "
                      "arrive faster than the cores can verify them (docs/operations.md, "
                      "Sizing)", apr_time_sec(waited));
    res = fn(baton);
    if (st != AFB_ERR)
        afb_vgate_leave(gate, turn);
    return res;
}
