/* The verification gate: a ticket queue under a process-shared, robust mutex and condition
 * variable (include/authfb/vgate.h says what it is for). */
#include "authfb/vgate.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>
#include <string.h>
#include <time.h>

struct afb_vgate_t {
    pthread_mutex_t lock;
    pthread_cond_t turn;
    uint64_t next;     /* the next ticket handed out */
    uint64_t served;   /* turns given back (verifications that left, turns of dead holders) */
    int slots;
    pid_t holder[AFB_VGATE_MAX_SLOTS]; /* process holding each turn, 0 when free */
};

#define REAP_EVERY APR_USEC_PER_SEC

size_t afb_vgate_size(void)
{
    return sizeof(afb_vgate_t);
}

afb_status_t afb_vgate_init(void *mem, int slots, afb_vgate_t **out)
{
    afb_vgate_t *g = mem;
    pthread_mutexattr_t ma;
    pthread_condattr_t ca;
    int ok;

    *out = NULL;
    if (mem == NULL || slots < 1 || slots > AFB_VGATE_MAX_SLOTS)
        return AFB_ERR;
    memset(g, 0, sizeof(*g));
    g->slots = slots;
    ok = pthread_mutexattr_init(&ma) == 0;
    ok = ok && pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED) == 0
         && pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST) == 0
         && pthread_mutex_init(&g->lock, &ma) == 0;
    pthread_mutexattr_destroy(&ma);
    ok = ok && pthread_condattr_init(&ca) == 0;
    ok = ok && pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED) == 0
         && pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0
         && pthread_cond_init(&g->turn, &ca) == 0;
    pthread_condattr_destroy(&ca);
    if (!ok)
        return AFB_ERR;
    *out = g;
    return AFB_OK;
}

int afb_vgate_slots(const afb_vgate_t *g)
{
    return g ? g->slots : 0;
}

/* A holder that died left the lock to us: the counters are consistent (every change to them
 * is a single store), so mark the mutex usable again. */
static int gate_lock(afb_vgate_t *g)
{
    int rc = pthread_mutex_lock(&g->lock);

    if (rc == EOWNERDEAD)
        rc = pthread_mutex_consistent(&g->lock);
    return rc;
}

static apr_interval_time_t mono_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (apr_interval_time_t)ts.tv_sec * APR_USEC_PER_SEC + ts.tv_nsec / 1000;
}

static struct timespec to_timespec(apr_interval_time_t usec)
{
    struct timespec ts;

    ts.tv_sec = (time_t)(usec / APR_USEC_PER_SEC);
    ts.tv_nsec = (long)(usec % APR_USEC_PER_SEC) * 1000;
    return ts;
}

/* Called with the lock held: hand on the turns of processes that no longer exist. */
static void reap_lost_turns(afb_vgate_t *g)
{
    for (int i = 0; i < g->slots; i++) {
        if (g->holder[i] != 0 && kill(g->holder[i], 0) != 0 && errno == ESRCH) {
            g->holder[i] = 0;
            g->served++;
            pthread_cond_broadcast(&g->turn);
        }
    }
}

/* Called with the lock held, once admitted: record this process on a free turn. */
static int take_turn(afb_vgate_t *g)
{
    for (int i = 0; i < g->slots; i++) {
        if (g->holder[i] == 0) {
            g->holder[i] = getpid();
            return i;
        }
    }
    return -1;
}

afb_status_t afb_vgate_enter(afb_vgate_t *g, apr_interval_time_t max_wait,
                             apr_interval_time_t *waited, int *turn)
{
    apr_interval_time_t start = mono_now(), deadline = start + max_wait, now = start;
    afb_status_t st = AFB_OK;
    uint64_t ticket;

    *turn = -1;
    if (waited)
        *waited = 0;
    if (g == NULL || gate_lock(g) != 0)
        return AFB_ERR;
    ticket = g->next++;
    while (ticket >= g->served + (uint64_t)g->slots) {
        apr_interval_time_t tick = now + REAP_EVERY < deadline ? now + REAP_EVERY : deadline;
        struct timespec ts = to_timespec(tick);
        if (pthread_cond_timedwait(&g->turn, &g->lock, &ts) == EOWNERDEAD)
            pthread_mutex_consistent(&g->lock);
        now = mono_now();
        if (now >= tick)
            reap_lost_turns(g);
        if (now >= deadline && ticket >= g->served + (uint64_t)g->slots) {
            st = AFB_ETIMEOUT; /* go ahead; leaving still gives this ticket's turn back */
            break;
        }
    }
    if (st == AFB_OK)
        *turn = take_turn(g);
    pthread_mutex_unlock(&g->lock);
    if (waited)
        *waited = mono_now() - start;
    return st;
}

void afb_vgate_leave(afb_vgate_t *g, int turn)
{
    if (g == NULL || gate_lock(g) != 0)
        return;
    if (turn >= 0 && turn < g->slots)
        g->holder[turn] = 0;
    g->served++;
    pthread_cond_broadcast(&g->turn);
    pthread_mutex_unlock(&g->lock);
}

void afb_vgate_counts(afb_vgate_t *g, int *running, int *waiting)
{
    uint64_t admitted;

    *running = *waiting = 0;
    if (g == NULL || gate_lock(g) != 0)
        return;
    admitted = g->next < g->served + (uint64_t)g->slots ? g->next
                                                         : g->served + (uint64_t)g->slots;
    *running = (int)(admitted - g->served);
    *waiting = (int)(g->next - admitted);
    pthread_mutex_unlock(&g->lock);
}
