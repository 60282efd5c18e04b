/* `make bench-c`: the cost of lfq through its C API against the same scenarios through its Rust
 * API, measured in the same run, plus bulk-of-64 calls against single calls.
 *
 * The scenarios mirror benches/common/mod.rs step by step (examples/c_api_baseline.rs runs them
 * on the Rust side): pointer items, 100000 per run; "seq" pushes then pops on one thread (the
 * whole run for the unbounded queue, a ring's capacity at a time for a ring); "spsc", "2P2C" and
 * "4P4C" run producer and consumer threads that try once and, when that fails, spin 16 times and
 * then yield, exactly like the Rust benches. Threaded runs are timed on both sides from the first
 * worker's start to the last worker's end, each worker reading the clock itself (see finish()).
 * The round trips are the latency bench's ping-pong: two threads, pinned to two CPUs, pass a
 * counter back and forth through two fresh queues; a run reports its median round trip.
 *
 * Rounds alternate the Rust process and the C side (order swapped each round); in each round each
 * side reports the best of RUNS runs after a warm-up (the run least disturbed by other processes
 * on a shared machine), and the table shows the median over ROUNDS rounds.
 *
 * Usage: bench_lfq PATH-TO-c_api_baseline
 */
#define _GNU_SOURCE /* CPU affinity, for the round trips */

#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lfq.h>

enum {
    ITEMS = 100000,
    BATCH = 64,
    RING_CAPACITY = 1024,
    LARGE_RING_CAPACITY = 65536,
    ROUND_TRIPS = 20000,
    ROUND_TRIP_WARMUP = 2000, /* round trips run and thrown away first, as in the Rust bench */
    RUNS = 5,
    ROUNDS = 7,
    SPIN_TRIES = 16
};

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void fail(const char *what) {
    fprintf(stderr, "bench_lfq: %s\n", what);
    exit(1);
}

static uint64_t expected_sum(uint64_t n) { return n * (n - 1) / 2; }

/* The benches' waiting policy: a spin hint for the first SPIN_TRIES failures, then yield. */
static inline void backoff_wait(unsigned *failed) {
    if (*failed < SPIN_TRIES) {
        (*failed)++;
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    } else {
        sched_yield();
    }
}

/* ---- scenarios -------------------------------------------------------------------------- */

/* run_seq: push up to `chunk` items, pop them all, until n went through. */
static double seq(lfq_queue *q, uint64_t n, uint64_t chunk) {
    uint64_t sum = 0;
    double start = now_ns();
    for (uint64_t next = 0; next < n;) {
        uint64_t end = next + chunk < n ? next + chunk : n;
        for (uint64_t item = next; item < end; item++) {
            if (lfq_push(q, (void *)(uintptr_t)item, 0) != LFQ_OK) fail("push refused below capacity");
        }
        for (uint64_t i = next; i < end; i++) {
            void *item;
            if (lfq_pop(q, &item, 0) != LFQ_OK) fail("lost an item");
            sum += (uintptr_t)item;
        }
        next = end;
    }
    double elapsed = now_ns() - start;
    if (sum != expected_sum(n)) fail("wrong items");
    return elapsed / (double)n;
}

/* run_seq_batched: the same through lfq_push_bulk / lfq_pop_bulk, `batch` items per call. */
static double seq_bulk(lfq_queue *q, uint64_t n, uint64_t chunk, size_t batch) {
    void *items[BATCH];
    uint64_t sum = 0;
    double start = now_ns();
    for (uint64_t next = 0; next < n;) {
        uint64_t end = next + chunk < n ? next + chunk : n;
        for (uint64_t from = next; from < end;) {
            size_t k = end - from < batch ? (size_t)(end - from) : batch;
            for (size_t i = 0; i < k; i++) items[i] = (void *)(uintptr_t)(from + i);
            if (lfq_push_bulk(q, items, k, NULL, 0) != LFQ_OK) fail("bulk refused below capacity");
            from += k;
        }
        for (uint64_t left = end - next; left > 0;) {
            size_t k = left < batch ? (size_t)left : batch, got = 0;
            if (lfq_pop_bulk(q, items, k, &got, 0) != LFQ_OK) fail("lost items");
            for (size_t i = 0; i < got; i++) sum += (uintptr_t)items[i];
            left -= got;
        }
        next = end;
    }
    double elapsed = now_ns() - start;
    if (sum != expected_sum(n)) fail("wrong items");
    return elapsed / (double)n;
}

typedef struct threads_run {
    lfq_queue *q;
    uint64_t per_producer, per_consumer;
    pthread_barrier_t ready;
    pthread_mutex_t lock;
    uint64_t sum;
    double first_start, last_end; /* under `lock` */
} threads_run;

typedef struct thread_arg {
    threads_run *run;
    uint64_t id;
} thread_arg;

/* Widens the run's time span to cover [start, end] and adds `sum`. Each thread reads the clock
 * itself: on an oversubscribed machine the main thread may be descheduled right after the
 * barrier and would otherwise start the clock after most of the work. */
static void finish(threads_run *r, double start, double end, uint64_t sum) {
    pthread_mutex_lock(&r->lock);
    if (start < r->first_start) r->first_start = start;
    if (end > r->last_end) r->last_end = end;
    r->sum += sum;
    pthread_mutex_unlock(&r->lock);
}

/* The workers copy what they need out of the shared threads_run before they start: it lives on
 * the main thread's stack, and finish() writes it while other workers still run. */
static void *producer(void *p) {
    thread_arg *a = p;
    threads_run *r = a->run;
    lfq_queue *q = r->q;
    uint64_t first = a->id * r->per_producer, end = first + r->per_producer;
    unsigned failed = 0;
    pthread_barrier_wait(&r->ready);
    double start = now_ns();
    for (uint64_t item = first; item < end; item++) {
        while (lfq_push(q, (void *)(uintptr_t)item, 0) != LFQ_OK) backoff_wait(&failed);
        failed = 0;
    }
    finish(r, start, now_ns(), 0);
    return NULL;
}

static void *consumer(void *p) {
    thread_arg *a = p;
    threads_run *r = a->run;
    lfq_queue *q = r->q;
    uint64_t count = r->per_consumer, sum = 0;
    unsigned failed = 0;
    pthread_barrier_wait(&r->ready);
    double start = now_ns();
    for (uint64_t i = 0; i < count; i++) {
        void *item;
        while (lfq_pop(q, &item, 0) != LFQ_OK) backoff_wait(&failed);
        failed = 0;
        sum += (uintptr_t)item;
    }
    finish(r, start, now_ns(), sum);
    return NULL;
}

/* run_threads: `producers` threads push n items in all while `consumers` threads pop them. */
static double threads(lfq_queue *q, unsigned producers, unsigned consumers, uint64_t n) {
    threads_run r = {.q = q, .per_producer = n / producers, .per_consumer = n / consumers,
                     .first_start = 1e300, .last_end = 0};
    pthread_barrier_init(&r.ready, NULL, producers + consumers + 1);
    pthread_mutex_init(&r.lock, NULL);
    pthread_t t[8];
    thread_arg args[8];
    for (unsigned i = 0; i < producers + consumers; i++) {
        args[i] = (thread_arg){&r, i < producers ? i : i - producers};
        if (pthread_create(&t[i], NULL, i < producers ? producer : consumer, &args[i]) != 0)
            fail("pthread_create");
    }
    pthread_barrier_wait(&r.ready);
    for (unsigned i = 0; i < producers + consumers; i++) pthread_join(t[i], NULL);
    double elapsed = r.last_end - r.first_start;
    pthread_barrier_destroy(&r.ready);
    pthread_mutex_destroy(&r.lock);
    if (r.sum != expected_sum(n)) fail("wrong items");
    return elapsed / (double)n;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n) {
    qsort(v, n, sizeof v[0], by_value);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- round trips ----------------------------------------------------------------------- */

/* Pins the calling thread to the k-th CPU this process may use (round robin), as the Rust benches
 * do, unless LFQ_BENCH_PIN=0. */
static void pin_nth(int k) {
    const char *pin = getenv("LFQ_BENCH_PIN");
    cpu_set_t allowed, one;
    if (pin != NULL && strcmp(pin, "0") == 0) return;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return;
    int count = CPU_COUNT(&allowed), seen = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (CPU_ISSET(cpu, &allowed) && seen++ == k % count) {
            CPU_ZERO(&one);
            CPU_SET(cpu, &one);
            pthread_setaffinity_np(pthread_self(), sizeof one, &one);
            return;
        }
    }
}

typedef struct echo_arg {
    lfq_queue *there, *back;
} echo_arg;

/* The far side of a round trip: pops each item from `there` and pushes it to `back`. The handles
 * are copied out first: `*p` sits on the other thread's stack, next to variables it writes every
 * round trip, and reading it on every call would pull that cache line over (40 ns per round trip
 * here, measured). */
static void *echo(void *p) {
    lfq_queue *there = ((echo_arg *)p)->there, *back = ((echo_arg *)p)->back;
    unsigned failed = 0;
    pin_nth(1);
    for (int i = 0; i < ROUND_TRIP_WARMUP + ROUND_TRIPS; i++) {
        void *item;
        while (lfq_pop(there, &item, 0) != LFQ_OK) backoff_wait(&failed);
        failed = 0;
        while (lfq_push(back, item, 0) != LFQ_OK) backoff_wait(&failed);
        failed = 0;
    }
    return NULL;
}

/* ping_pong: the median round trip in ns through two fresh rings (or unbounded queues). */
static double round_trip(int ring) {
    static double samples[ROUND_TRIPS];
    echo_arg a;
    int made = ring ? lfq_ring_new(RING_CAPACITY, NULL, &a.there) == LFQ_OK &&
                          lfq_ring_new(RING_CAPACITY, NULL, &a.back) == LFQ_OK
                    : lfq_queue_new(NULL, &a.there) == LFQ_OK &&
                          lfq_queue_new(NULL, &a.back) == LFQ_OK;
    if (!made) fail("cannot create queues");
    cpu_set_t saved;
    if (pthread_getaffinity_np(pthread_self(), sizeof saved, &saved) != 0) fail("affinity");
    pthread_t t;
    if (pthread_create(&t, NULL, echo, &a) != 0) fail("pthread_create");
    pin_nth(0);
    unsigned failed = 0;
    double before = now_ns();
    for (int i = 0; i < ROUND_TRIP_WARMUP + ROUND_TRIPS; i++) {
        void *echoed;
        while (lfq_push(a.there, (void *)(uintptr_t)i, 0) != LFQ_OK) backoff_wait(&failed);
        failed = 0;
        while (lfq_pop(a.back, &echoed, 0) != LFQ_OK) backoff_wait(&failed);
        failed = 0;
        if ((uintptr_t)echoed != (uintptr_t)i) fail("echoed the wrong item");
        double after = now_ns();
        if (i >= ROUND_TRIP_WARMUP) samples[i - ROUND_TRIP_WARMUP] = after - before;
        before = after;
    }
    pthread_join(t, NULL);
    pthread_setaffinity_np(pthread_self(), sizeof saved, &saved);
    lfq_destroy(a.there);
    lfq_destroy(a.back);
    qsort(samples, ROUND_TRIPS, sizeof samples[0], by_value);
    /* percentile(0.5) in benches/common: rank round((n - 1) / 2), which is n / 2 */
    return samples[ROUND_TRIPS / 2];
}

/* ---- the table -------------------------------------------------------------------------- */

enum {
    QUEUE_SEQ,
    QUEUE_SEQ_BULK,
    RING_SEQ,
    RING_SEQ_BULK,
    LARGE_RING_SEQ,
    QUEUE_SPSC,
    QUEUE_2P2C,
    QUEUE_4P4C,
    RING_SPSC,
    RING_2P2C,
    LARGE_RING_SPSC,
    LARGE_RING_2P2C,
    QUEUE_ROUND_TRIP,
    RING_ROUND_TRIP,
    SCENARIOS
};

static const char *const names[SCENARIOS] = {
    "Queue seq",        "Queue seq bulk-64",    "Ring(1024) seq",       "Ring(1024) seq bulk-64",
    "Ring(65536) seq",  "Queue spsc",           "Queue 2P2C",           "Queue 4P4C",
    "Ring(1024) spsc",  "Ring(1024) 2P2C",      "Ring(65536) spsc",     "Ring(65536) 2P2C",
    "Queue round trip p50", "Ring(1024) round trip p50",
};

typedef struct handles {
    lfq_queue *queue, *ring, *large_ring;
} handles;

static double run_c(int scenario, const handles *h) {
    switch (scenario) {
    case QUEUE_SEQ: return seq(h->queue, ITEMS, ITEMS);
    case QUEUE_SEQ_BULK: return seq_bulk(h->queue, ITEMS, ITEMS, BATCH);
    case RING_SEQ: return seq(h->ring, ITEMS, RING_CAPACITY);
    case RING_SEQ_BULK: return seq_bulk(h->ring, ITEMS, RING_CAPACITY, BATCH);
    case LARGE_RING_SEQ: return seq(h->large_ring, ITEMS, LARGE_RING_CAPACITY);
    case QUEUE_SPSC: return threads(h->queue, 1, 1, ITEMS);
    case QUEUE_2P2C: return threads(h->queue, 2, 2, ITEMS);
    case QUEUE_4P4C: return threads(h->queue, 4, 4, ITEMS);
    case RING_SPSC: return threads(h->ring, 1, 1, ITEMS);
    case RING_2P2C: return threads(h->ring, 2, 2, ITEMS);
    case LARGE_RING_SPSC: return threads(h->large_ring, 1, 1, ITEMS);
    case LARGE_RING_2P2C: return threads(h->large_ring, 2, 2, ITEMS);
    case QUEUE_ROUND_TRIP: return round_trip(0);
    default: return round_trip(1);
    }
}

/* One round of the C side: the best of RUNS runs of each scenario after a warm-up, on queues
 * reused across runs as the Rust benches do. */
static void c_round(double out[SCENARIOS]) {
    handles h;
    if (lfq_queue_new(NULL, &h.queue) != LFQ_OK ||
        lfq_ring_new(RING_CAPACITY, NULL, &h.ring) != LFQ_OK ||
        lfq_ring_new(LARGE_RING_CAPACITY, NULL, &h.large_ring) != LFQ_OK)
        fail("cannot create queues");
    for (int s = 0; s < SCENARIOS; s++) {
        run_c(s, &h);
        out[s] = run_c(s, &h);
        for (int i = 1; i < RUNS; i++) {
            double v = run_c(s, &h);
            if (v < out[s]) out[s] = v;
        }
    }
    lfq_destroy(h.queue);
    lfq_destroy(h.ring);
    lfq_destroy(h.large_ring);
}

/* One round of the Rust side: runs the baseline program and reads its lines. */
static void rust_round(const char *baseline, double out[SCENARIOS]) {
    char cmd[4096], line[256];
    snprintf(cmd, sizeof cmd, "'%s' %d", baseline, RUNS);
    FILE *p = popen(cmd, "r");
    if (p == NULL) fail("cannot run the Rust baseline");
    int seen = 0;
    while (fgets(line, sizeof line, p) != NULL) {
        char *tab = strchr(line, '\t');
        if (tab == NULL) continue;
        *tab = '\0';
        for (int s = 0; s < SCENARIOS; s++) {
            if (strcmp(line, names[s]) == 0) {
                out[s] = strtod(tab + 1, NULL);
                seen |= 1 << s;
            }
        }
    }
    if (pclose(p) != 0 || seen != (1 << SCENARIOS) - 1) fail("the Rust baseline failed");
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s PATH-TO-c_api_baseline\n", argv[0]);
        return 2;
    }
    static double c[SCENARIOS][ROUNDS], rust[SCENARIOS][ROUNDS];
    for (int round = 0; round < ROUNDS; round++) {
        double cr[SCENARIOS], rr[SCENARIOS];
        if (round % 2 == 0) {
            rust_round(argv[1], rr);
            c_round(cr);
        } else {
            c_round(cr);
            rust_round(argv[1], rr);
        }
        for (int s = 0; s < SCENARIOS; s++) {
            c[s][round] = cr[s];
            rust[s][round] = rr[s];
        }
    }

    printf("lfq %s, pointer items, %d items per run; median of %d rounds of the best of %d runs\n\n",
           lfq_version(), ITEMS, ROUNDS, RUNS);
    printf("%-26s %14s %14s %9s\n", "scenario", "C API ns/item", "Rust ns/item", "C / Rust");
    double med_c[SCENARIOS];
    for (int s = 0; s < SCENARIOS; s++) {
        med_c[s] = median(c[s], ROUNDS);
        double r = median(rust[s], ROUNDS);
        printf("%-26s %14.2f %14.2f %8.2fx\n", names[s], med_c[s], r, med_c[s] / r);
    }
    printf("(round trip rows: ns per round trip, not per item)\n");
    printf("\nbulk-64 vs single calls through the C API (throughput ratio, > 1 = bulk faster):\n");
    printf("%-24s %8.2fx\n", "Queue seq", med_c[QUEUE_SEQ] / med_c[QUEUE_SEQ_BULK]);
    printf("%-24s %8.2fx\n", "Ring(1024) seq", med_c[RING_SEQ] / med_c[RING_SEQ_BULK]);
    return 0;
}
