/* lfq from C: producer and consumer threads sharing one bounded ring of pointer items, and one
 * unbounded queue of byte messages carrying their reports.
 *
 * Build: cc -std=c11 -pthread producer_consumer.c $(pkg-config --cflags --libs lfq)
 * Run:   ./a.out [items-per-producer]
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lfq.h>

enum { PRODUCERS = 2, CONSUMERS = 2, RING_CAPACITY = 256, BURST = 32 };

/* What producers allocate and consumers free: ownership travels with the pointer. */
typedef struct job {
    int producer;
    long value;
} job;

typedef struct shared {
    lfq_queue *jobs;    /* pointer items: job * */
    lfq_queue *reports; /* byte messages: one text line per consumer */
    long per_producer;
    atomic_long consumed; /* jobs taken by all consumers */
} shared;

typedef struct worker {
    shared *shared;
    int id;
} worker;

static void *produce(void *arg) {
    worker *w = arg;
    for (long i = 0; i < w->shared->per_producer; i++) {
        job *j = malloc(sizeof *j);
        if (j == NULL) abort();
        j->producer = w->id;
        j->value = i;
        /* Blocks while the ring is full; fails only once the ring is closed. */
        lfq_status st = lfq_push(w->shared->jobs, j, -1);
        if (st != LFQ_OK) {
            fprintf(stderr, "push: %s\n", lfq_strerror(st));
            free(j); /* a refused item stays ours */
            break;
        }
    }
    return NULL;
}

static void *consume(void *arg) {
    worker *w = arg;
    void *batch[BURST];
    long count = 0, sum = 0;
    for (;;) {
        size_t n = 0;
        /* Waits for at least one job, takes up to BURST; CLOSED once closed and drained. */
        lfq_status st = lfq_pop_burst(w->shared->jobs, batch, BURST, &n, -1);
        if (st == LFQ_CLOSED) break;
        if (st != LFQ_OK) {
            fprintf(stderr, "pop: %s\n", lfq_strerror(st));
            break;
        }
        for (size_t i = 0; i < n; i++) {
            job *j = batch[i];
            sum += j->value;
            count++;
            free(j);
        }
    }
    atomic_fetch_add(&w->shared->consumed, count);
    char line[128];
    int len = snprintf(line, sizeof line, "consumer %d: %ld jobs, sum %ld", w->id, count, sum);
    lfq_send(w->shared->reports, line, (size_t)len, 0);
    return NULL;
}

/* Frees jobs still queued when the ring is destroyed (none in this program's normal run). */
static void free_job(void *item, void *context) {
    (void)context;
    free(item);
}

int main(int argc, char **argv) {
    shared s = {NULL, NULL, argc > 1 ? atol(argv[1]) : 100000, 0};
    lfq_options jobs_options = {.payload = LFQ_PAYLOAD_POINTER, .item_free = free_job};
    lfq_options report_options = {.payload = LFQ_PAYLOAD_BYTES, .max_message_size = 128};
    lfq_status st = lfq_ring_new(RING_CAPACITY, &jobs_options, &s.jobs);
    if (st == LFQ_OK) st = lfq_queue_new(&report_options, &s.reports);
    if (st != LFQ_OK) {
        fprintf(stderr, "lfq: %s\n", lfq_strerror(st));
        lfq_destroy(s.jobs);
        return 1;
    }

    pthread_t threads[PRODUCERS + CONSUMERS];
    worker workers[PRODUCERS + CONSUMERS];
    for (int i = 0; i < PRODUCERS + CONSUMERS; i++) {
        workers[i] = (worker){&s, i < PRODUCERS ? i : i - PRODUCERS};
        pthread_create(&threads[i], NULL, i < PRODUCERS ? produce : consume, &workers[i]);
    }
    for (int i = 0; i < PRODUCERS; i++) pthread_join(threads[i], NULL);
    /* Every job is queued: closing lets consumers drain the rest and then stop. */
    lfq_close(s.jobs);
    for (int i = PRODUCERS; i < PRODUCERS + CONSUMERS; i++) pthread_join(threads[i], NULL);

    printf("lfq %s: %d producers x %ld jobs through a ring of %zu\n", lfq_version(), PRODUCERS,
           s.per_producer, lfq_capacity(s.jobs));
    char line[128];
    size_t size;
    while (lfq_recv_into(s.reports, line, sizeof line, &size, 0) == LFQ_OK) {
        printf("  %.*s\n", (int)size, line);
    }
    lfq_destroy(s.jobs);
    lfq_destroy(s.reports);
    /* Every job produced was consumed exactly once (a lost or duplicated one changes the count). */
    return atomic_load(&s.consumed) == PRODUCERS * s.per_producer ? 0 : 1;
}
