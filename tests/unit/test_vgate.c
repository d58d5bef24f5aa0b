/* The verification gate: the bound holds across threads and processes, waiters go in
 * arrival order, a turn lost by a dead process is handed on, a waiter past its deadline
 * goes ahead. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "authfb/vgate.h"

static afb_vgate_t *make_gate(int slots)
{
    void *mem = mmap(NULL, afb_vgate_size(), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                     -1, 0);
    afb_vgate_t *g = NULL;

    assert_true(mem != MAP_FAILED);
    assert_int_equal(afb_vgate_init(mem, slots, &g), AFB_OK);
    return g;
}

static void drop_gate(afb_vgate_t *g)
{
    munmap(g, afb_vgate_size());
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static afb_vgate_t *shared;
static atomic_int inside, most, order_next;
static int order[8];

static void *busy(void *arg)
{
    int now, turn;

    (void)arg;
    assert_int_equal(afb_vgate_enter(shared, apr_time_from_sec(10), NULL, &turn), AFB_OK);
    assert_true(turn >= 0 && turn < 2);
    now = atomic_fetch_add(&inside, 1) + 1;
    for (int m = atomic_load(&most); now > m && !atomic_compare_exchange_weak(&most, &m, now);)
        ;
    sleep_ms(20);
    atomic_fetch_sub(&inside, 1);
    afb_vgate_leave(shared, turn);
    return NULL;
}

static void test_bound_across_threads(void **state)
{
    pthread_t t[12];
    int running, waiting;

    (void)state;
    shared = make_gate(2);
    atomic_store(&inside, 0);
    atomic_store(&most, 0);
    for (int i = 0; i < 12; i++)
        pthread_create(&t[i], NULL, busy, NULL);
    for (int i = 0; i < 12; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(atomic_load(&most), 2);
    afb_vgate_counts(shared, &running, &waiting);
    assert_int_equal(running + waiting, 0);
    drop_gate(shared);
}

static void *queued(void *arg)
{
    int id = (int)(intptr_t)arg, turn;

    assert_int_equal(afb_vgate_enter(shared, apr_time_from_sec(10), NULL, &turn), AFB_OK);
    order[atomic_fetch_add(&order_next, 1)] = id;
    afb_vgate_leave(shared, turn);
    return NULL;
}

static void wait_for_waiters(int n)
{
    int running = 0, waiting = 0;

    for (int i = 0; i < 500 && waiting < n; i++) {
        sleep_ms(2);
        afb_vgate_counts(shared, &running, &waiting);
    }
    assert_int_equal(waiting, n);
}

static void test_waiters_in_arrival_order(void **state)
{
    pthread_t t[5];
    int turn;

    (void)state;
    shared = make_gate(1);
    atomic_store(&order_next, 0);
    assert_int_equal(afb_vgate_enter(shared, apr_time_from_sec(1), NULL, &turn), AFB_OK);
    for (int i = 0; i < 5; i++) {
        pthread_create(&t[i], NULL, queued, (void *)(intptr_t)i);
        wait_for_waiters(i + 1); /* each one arrives after the previous one queued */
    }
    afb_vgate_leave(shared, turn);
    for (int i = 0; i < 5; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 5; i++)
        assert_int_equal(order[i], i);
    drop_gate(shared);
}

static void test_lost_turn_and_deadline_across_processes(void **state)
{
    afb_vgate_t *g = make_gate(1);
    apr_interval_time_t waited = 0;
    int status = 0, turn = -1, turn2 = -1;
    pid_t pid = fork();

    (void)state;
    if (pid == 0) {  /* a child takes the only turn and dies holding it */
        _exit(afb_vgate_enter(g, apr_time_from_sec(1), NULL, &turn) == AFB_OK ? 0 : 1);
    }
    assert_true(waitpid(pid, &status, 0) == pid && WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    /* its turn is handed on within about a second */
    assert_int_equal(afb_vgate_enter(g, apr_time_from_sec(5), &waited, &turn), AFB_OK);
    assert_true(waited >= 900000 && waited < 3000000);
    /* a live holder keeps its turn: a waiter goes ahead only at its deadline */
    assert_int_equal(afb_vgate_enter(g, 300000, &waited, &turn2), AFB_ETIMEOUT);
    assert_true(waited >= 300000);
    assert_int_equal(turn2, -1);
    afb_vgate_leave(g, turn2);
    afb_vgate_leave(g, turn);

    assert_int_equal(afb_vgate_enter(g, 100000, &waited, &turn), AFB_OK);
    assert_true(waited < 50000);
    pid = fork();  /* a second process waits behind the turn we hold */
    if (pid == 0) {
        apr_interval_time_t w = 0;
        int t = -1;
        afb_status_t st = afb_vgate_enter(g, apr_time_from_sec(5), &w, &t);
        afb_vgate_leave(g, t);
        _exit(st == AFB_OK && w >= 150000 ? 0 : 1);
    }
    sleep_ms(200);
    afb_vgate_leave(g, turn);
    assert_true(waitpid(pid, &status, 0) == pid && WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    drop_gate(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bound_across_threads),
        cmocka_unit_test(test_waiters_in_arrival_order),
        cmocka_unit_test(test_lost_turn_and_deadline_across_processes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
