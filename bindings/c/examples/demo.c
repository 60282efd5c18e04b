/* The C rows of `make demo`: lfq driven through its C API against a classic bounded buffer
 * written in C (pthread mutex + two condition variables), on the same scenarios, in the same run.
 *
 * Producers and consumers use blocking calls on both sides (timeout -1 for lfq, condition waits
 * for the mutex ring), which is how a C program would use either. Each figure is the median of
 * RUNS runs, lfq and the peer taking turns. Prints only table rows, in the shared format.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lfq.h>

enum { ITEMS = 200000, RUNS = 7, CAPACITY = 1024, BATCH = 64 };

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void die(const char *what, lfq_status st) {
    fprintf(stderr, "demo: %s: %s\n", what, lfq_strerror(st));
    exit(1);
}

/* ---- the peer: a mutex + condition variable bounded ring ------------------------------- */

typedef struct mutex_ring {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    void **slots;
    size_t capacity, head, len;
} mutex_ring;

static void mutex_ring_init(mutex_ring *r, size_t capacity) {
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->not_empty, NULL);
    pthread_cond_init(&r->not_full, NULL);
    r->slots = malloc(capacity * sizeof *r->slots);
    if (r->slots == NULL) abort();
    r->capacity = capacity;
    r->head = r->len = 0;
}

static void mutex_ring_destroy(mutex_ring *r) {
    free(r->slots);
    pthread_cond_destroy(&r->not_full);
    pthread_cond_destroy(&r->not_empty);
    pthread_mutex_destroy(&r->lock);
}

/* Pushes all n items at once, waiting for room for all of them (like lfq_push_bulk). */
static void mutex_ring_push(mutex_ring *r, void *const *items, size_t n) {
    pthread_mutex_lock(&r->lock);
    while (r->capacity - r->len < n) pthread_cond_wait(&r->not_full, &r->lock);
    for (size_t i = 0; i < n; i++) r->slots[(r->head + r->len + i) % r->capacity] = items[i];
    r->len += n;
    pthread_cond_broadcast(&r->not_empty);
    pthread_mutex_unlock(&r->lock);
}

/* Pops exactly n items, waiting until there are n (like lfq_pop_bulk). */
static void mutex_ring_pop(mutex_ring *r, void **items, size_t n) {
    pthread_mutex_lock(&r->lock);
    while (r->len < n) pthread_cond_wait(&r->not_empty, &r->lock);
    for (size_t i = 0; i < n; i++) items[i] = r->slots[(r->head + i) % r->capacity];
    r->head = (r->head + n) % r->capacity;
    r->len -= n;
    pthread_cond_broadcast(&r->not_full);
    pthread_mutex_unlock(&r->lock);
}

/* ---- one scenario, generic over the two queues ------------------------------------------ */

typedef struct run {
    int use_lfq;
    lfq_queue *q;
    mutex_ring *m;
    size_t per_thread; /* items each producer pushes and each consumer pops */
    size_t batch;      /* items per call: 1 = single operations */
    uint64_t sum;      /* what consumers popped, checked against what was pushed */
    pthread_mutex_t sum_lock;
} run;

static void *producer(void *arg) {
    run *r = arg;
    void *items[BATCH];
    for (size_t i = 0; i < r->per_thread; i += r->batch) {
        for (size_t k = 0; k < r->batch; k++) items[k] = (void *)(uintptr_t)(i + k + 1);
        if (!r->use_lfq) {
            mutex_ring_push(r->m, items, r->batch);
        } else if (r->batch == 1) {
            lfq_status st = lfq_push(r->q, items[0], -1);
            if (st != LFQ_OK) die("lfq_push", st);
        } else {
            lfq_status st = lfq_push_bulk(r->q, items, r->batch, NULL, -1);
            if (st != LFQ_OK) die("lfq_push_bulk", st);
        }
    }
    return NULL;
}

static void *consumer(void *arg) {
    run *r = arg;
    void *items[BATCH];
    uint64_t sum = 0;
    for (size_t i = 0; i < r->per_thread; i += r->batch) {
        if (!r->use_lfq) {
            mutex_ring_pop(r->m, items, r->batch);
        } else if (r->batch == 1) {
            lfq_status st = lfq_pop(r->q, &items[0], -1);
            if (st != LFQ_OK) die("lfq_pop", st);
        } else {
            lfq_status st = lfq_pop_bulk(r->q, items, r->batch, NULL, -1);
            if (st != LFQ_OK) die("lfq_pop_bulk", st);
        }
        for (size_t k = 0; k < r->batch; k++) sum += (uintptr_t)items[k];
    }
    pthread_mutex_lock(&r->sum_lock);
    r->sum += sum;
    pthread_mutex_unlock(&r->sum_lock);
    return NULL;
}

/* ns per item of one run with `pairs` producers and as many consumers. */
static double time_run(int use_lfq, int pairs, size_t batch) {
    run r;
    memset(&r, 0, sizeof r);
    mutex_ring m;
    r.use_lfq = use_lfq;
    r.batch = batch;
    r.per_thread = ITEMS / (size_t)pairs;
    pthread_mutex_init(&r.sum_lock, NULL);
    if (use_lfq) {
        lfq_status st = lfq_ring_new(CAPACITY, NULL, &r.q);
        if (st != LFQ_OK) die("lfq_ring_new", st);
    } else {
        mutex_ring_init(&m, CAPACITY);
        r.m = &m;
    }
    pthread_t threads[8];
    double start = now_ns();
    for (int i = 0; i < 2 * pairs; i++) {
        pthread_create(&threads[i], NULL, i < pairs ? producer : consumer, &r);
    }
    for (int i = 0; i < 2 * pairs; i++) pthread_join(threads[i], NULL);
    double elapsed = now_ns() - start;
    uint64_t n = r.per_thread, expected = (uint64_t)pairs * (n * (n + 1) / 2);
    if (r.sum != expected) {
        fprintf(stderr, "demo: %s returned wrong items\n", use_lfq ? "lfq" : "mutex ring");
        exit(1);
    }
    if (use_lfq) {
        lfq_destroy(r.q);
    } else {
        mutex_ring_destroy(&m);
    }
    pthread_mutex_destroy(&r.sum_lock);
    return elapsed / (double)(r.per_thread * (size_t)pairs);
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void row(const char *scenario, int pairs, size_t batch) {
    double lfq[RUNS], peer[RUNS];
    time_run(1, pairs, batch); /* warm-up */
    time_run(0, pairs, batch);
    for (int i = 0; i < RUNS; i++) {
        lfq[i] = time_run(1, pairs, batch);
        peer[i] = time_run(0, pairs, batch);
    }
    qsort(lfq, RUNS, sizeof lfq[0], by_value);
    qsort(peer, RUNS, sizeof peer[0], by_value);
    double l = lfq[RUNS / 2], p = peer[RUNS / 2];
    printf("%-7s %-30s %12.1f  %-26s %12.1f  %6.2fx\n", "c", scenario, l, "pthread mutex+cond ring",
           p, p / l);
}

int main(void) {
    row("Ring(1024) spsc", 1, 1);
    row("Ring(1024) 2P2C", 2, 1);
    row("Ring(1024) spsc bulk-64", 1, BATCH);
    return 0;
}
