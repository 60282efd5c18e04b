/* Tests of the lfq C API: every function, every bad input, close waking blocked threads, and
 * 4x4-thread stress on both queue kinds and both payload kinds.
 *
 * Usage: test_lfq [name-filter]
 * LFQ_TEST_STRESS_ITEMS sets the items per stress run (default 1000000; `make test-c` sets it,
 * to far fewer under valgrind). */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lfq.h"
#include "runner.h"

#define MS 1000000LL /* nanoseconds per millisecond, for timeouts */

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A distinct fake pointer for item i; pointer queues never dereference items. */
static void *item(uintptr_t i) { return (void *)(i + 1); }

static lfq_options bytes_options(size_t max) {
    lfq_options o;
    memset(&o, 0, sizeof o);
    o.payload = LFQ_PAYLOAD_BYTES;
    o.max_message_size = max;
    return o;
}

/* Fills `buf` with a pattern that depends on `seed`, so corrupted copies are detected. */
static void fill(uint8_t *buf, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)(seed * 31u + i);
}

static int matches(const uint8_t *buf, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++) {
        if (buf[i] != (uint8_t)(seed * 31u + i)) return 0;
    }
    return 1;
}

/* ------------------------------------------------------------------------------------------ */
/* Library metadata                                                                           */

static void test_version(void) {
    char expected[32];
    snprintf(expected, sizeof expected, "%d.%d.%d", LFQ_VERSION_MAJOR, LFQ_VERSION_MINOR,
             LFQ_VERSION_PATCH);
    CHECK(lfq_version() != NULL);
    CHECK(strcmp(lfq_version(), expected) == 0);
    CHECK(strcmp(lfq_version(), "0.1.0") == 0);
    CHECK(LFQ_INLINE_MESSAGE_SIZE == 64);
    CHECK(LFQ_DEFAULT_MAX_MESSAGE_SIZE == 65536);
}

static void test_strerror(void) {
    const lfq_status all[] = {LFQ_OK,         LFQ_EMPTY,          LFQ_FULL,
                              LFQ_CLOSED,     LFQ_TIMEOUT,        LFQ_ERR_INVALID_ARGUMENT,
                              LFQ_ERR_WRONG_KIND, LFQ_ERR_TOO_LARGE, LFQ_ERR_NO_MEMORY,
                              LFQ_ERR_INTERNAL};
    const size_t n = sizeof all / sizeof all[0];
    const char *unknown = lfq_strerror(12345);
    CHECK(unknown != NULL && unknown[0] != '\0');
    CHECK(strcmp(lfq_strerror(-99), unknown) == 0);
    for (size_t i = 0; i < n; i++) {
        const char *s = lfq_strerror(all[i]);
        CHECK(s != NULL && s[0] != '\0');
        CHECK(strcmp(s, unknown) != 0);
        for (size_t j = 0; j < i; j++) CHECK(strcmp(s, lfq_strerror(all[j])) != 0);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Creation and queries                                                                       */

static void test_create_and_query(void) {
    lfq_queue *q = NULL;
    CHECK_OK(lfq_queue_new(NULL, &q));
    CHECK(q != NULL);
    CHECK_SIZE(lfq_capacity(q), 0);
    CHECK_SIZE(lfq_len(q), 0);
    CHECK_SIZE(lfq_max_message_size(q), 0);
    CHECK(lfq_payload_of(q) == LFQ_PAYLOAD_POINTER);
    CHECK(lfq_is_closed(q) == 0);
    lfq_destroy(q);

    lfq_queue *r = NULL;
    CHECK_OK(lfq_ring_new(8, NULL, &r));
    CHECK_SIZE(lfq_capacity(r), 8);
    CHECK(lfq_payload_of(r) == LFQ_PAYLOAD_POINTER);
    lfq_destroy(r);

    lfq_options o = bytes_options(0);
    lfq_queue *b = NULL;
    CHECK_OK(lfq_queue_new(&o, &b));
    CHECK(lfq_payload_of(b) == LFQ_PAYLOAD_BYTES);
    CHECK_SIZE(lfq_max_message_size(b), LFQ_DEFAULT_MAX_MESSAGE_SIZE);
    CHECK_SIZE(lfq_capacity(b), 0);
    lfq_destroy(b);

    o = bytes_options(100);
    CHECK_OK(lfq_ring_new(3, &o, &b));
    CHECK_SIZE(lfq_max_message_size(b), 100);
    CHECK_SIZE(lfq_capacity(b), 3);
    lfq_destroy(b);

    o = bytes_options(LFQ_MAX_MESSAGE_SIZE_LIMIT);
    CHECK_OK(lfq_queue_new(&o, &b));
    CHECK_SIZE(lfq_max_message_size(b), LFQ_MAX_MESSAGE_SIZE_LIMIT);
    lfq_destroy(b);
}

/* ------------------------------------------------------------------------------------------ */
/* Pointer payload                                                                            */

static void test_pointer_fifo_queue(void) {
    lfq_queue *q = NULL;
    CHECK_OK(lfq_queue_new(NULL, &q));
    for (uintptr_t i = 0; i < 1000; i++) CHECK_OK(lfq_push(q, item(i), 0));
    CHECK_SIZE(lfq_len(q), 1000);
    for (uintptr_t i = 0; i < 1000; i++) {
        void *got = NULL;
        CHECK_OK(lfq_pop(q, &got, 0));
        CHECK(got == item(i));
    }
    void *untouched = item(77);
    CHECK_STATUS(lfq_pop(q, &untouched, 0), LFQ_EMPTY);
    CHECK(untouched == item(77));
    /* NULL is a valid item. */
    CHECK_OK(lfq_push(q, NULL, 0));
    CHECK_OK(lfq_pop(q, &untouched, 0));
    CHECK(untouched == NULL);
    lfq_destroy(q);
}

static void test_pointer_ring_capacity(void) {
    lfq_queue *r = NULL;
    CHECK_OK(lfq_ring_new(4, NULL, &r));
    for (uintptr_t i = 0; i < 4; i++) CHECK_OK(lfq_push(r, item(i), 0));
    CHECK_STATUS(lfq_push(r, item(4), 0), LFQ_FULL);
    CHECK_SIZE(lfq_len(r), 4);
    void *got = NULL;
    CHECK_OK(lfq_pop(r, &got, 0));
    CHECK(got == item(0));
    CHECK_OK(lfq_push(r, item(4), 0));
    for (uintptr_t i = 1; i <= 4; i++) {
        CHECK_OK(lfq_pop(r, &got, -1));
        CHECK(got == item(i));
    }
    CHECK_STATUS(lfq_pop(r, &got, 0), LFQ_EMPTY);
    lfq_destroy(r);
}

static void test_pointer_bulk_and_burst(void) {
    lfq_queue *r = NULL;
    CHECK_OK(lfq_ring_new(8, NULL, &r));
    void *in[16], *out[16];
    for (uintptr_t i = 0; i < 16; i++) in[i] = item(i);
    size_t count = 99;

    CHECK_OK(lfq_push_bulk(r, in, 5, &count, 0));
    CHECK_SIZE(count, 5);
    count = 99;
    CHECK_STATUS(lfq_push_bulk(r, in + 5, 4, &count, 0), LFQ_FULL); /* only 3 free: none */
    CHECK_SIZE(count, 0);
    CHECK_SIZE(lfq_len(r), 5);
    CHECK_OK(lfq_push_burst(r, in + 5, 4, &count, 0)); /* 3 of 4 fit */
    CHECK_SIZE(count, 3);
    CHECK_SIZE(lfq_len(r), 8);
    CHECK_STATUS(lfq_push_burst(r, in + 8, 4, &count, 0), LFQ_FULL);
    CHECK_SIZE(count, 0);
    /* A bulk larger than the ring could never succeed. */
    CHECK_STATUS(lfq_push_bulk(r, in, 9, &count, -1), LFQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(lfq_pop_bulk(r, out, 9, &count, -1), LFQ_ERR_INVALID_ARGUMENT);
    CHECK_SIZE(lfq_len(r), 8);

    CHECK_OK(lfq_pop_bulk(r, out, 3, &count, 0));
    CHECK_SIZE(count, 3);
    for (uintptr_t i = 0; i < 3; i++) CHECK(out[i] == item(i));
    CHECK_OK(lfq_pop_burst(r, out, 16, &count, 0));
    CHECK_SIZE(count, 5);
    for (uintptr_t i = 0; i < 5; i++) CHECK(out[i] == item(3 + i));
    CHECK_STATUS(lfq_pop_burst(r, out, 16, &count, 0), LFQ_EMPTY);
    CHECK_SIZE(count, 0);

    /* pop_bulk wanting more than is queued takes nothing. */
    CHECK_OK(lfq_push_bulk(r, in, 2, NULL, 0));
    out[0] = NULL;
    CHECK_STATUS(lfq_pop_bulk(r, out, 3, &count, 0), LFQ_EMPTY);
    CHECK_SIZE(count, 0);
    CHECK(out[0] == NULL);
    CHECK_SIZE(lfq_len(r), 2);
    CHECK_OK(lfq_pop_bulk(r, out, 2, NULL, 0));
    CHECK(out[0] == item(0) && out[1] == item(1));

    /* n == 0 succeeds and reports 0, even with NULL arrays. */
    count = 99;
    CHECK_OK(lfq_push_bulk(r, NULL, 0, &count, 0));
    CHECK_SIZE(count, 0);
    count = 99;
    CHECK_OK(lfq_pop_burst(r, NULL, 0, &count, 0));
    CHECK_SIZE(count, 0);
    lfq_destroy(r);
}

static void test_pointer_bulk_on_unbounded_queue(void) {
    enum { N = 1000 };
    lfq_queue *q = NULL;
    CHECK_OK(lfq_queue_new(NULL, &q));
    void **in = malloc(N * sizeof *in), **out = malloc(N * sizeof *out);
    CHECK(in != NULL && out != NULL);
    for (uintptr_t i = 0; i < N; i++) in[i] = item(i);
    size_t count = 0;
    CHECK_OK(lfq_push_bulk(q, in, N, &count, 0));
    CHECK_SIZE(count, N);
    CHECK_OK(lfq_push_burst(q, in, 10, &count, 0));
    CHECK_SIZE(count, 10);
    CHECK_OK(lfq_pop_bulk(q, out, N, &count, 0));
    CHECK_SIZE(count, N);
    for (uintptr_t i = 0; i < N; i++) CHECK(out[i] == item(i));
    CHECK_OK(lfq_pop_burst(q, out, N, &count, 0));
    CHECK_SIZE(count, 10);
    free(in);
    free(out);
    lfq_destroy(q);
}

/* Bulk pushes from three threads at once: each bulk's items stay adjacent in the queue, also on
 * an unbounded queue when a bulk spans several of its segments. Items are (thread, bulk, index
 * in bulk); the main thread drains after the joins and checks every item's predecessor. */
enum { TOGETHER_THREADS = 3, TOGETHER_BULKS = 300 };
static const size_t together_sizes[] = {2, 3, 64, 126, 300};
#define TOGETHER_SIZES (sizeof together_sizes / sizeof together_sizes[0])

typedef struct together_run {
    lfq_queue *q;
    int bytes;
    uintptr_t id;
    size_t short_bulks; /* bulks that did not push all their items (CHECK cannot run here) */
} together_run;

static uintptr_t together_tag(uintptr_t thread, uintptr_t bulk, uintptr_t index) {
    return thread << 40 | bulk << 16 | index;
}

static void *together_producer(void *arg) {
    together_run *run = arg;
    static _Thread_local uintptr_t tags[300];
    static _Thread_local void *items[300];
    static _Thread_local size_t sizes[300];
    for (uintptr_t bulk = 0; bulk < TOGETHER_BULKS; bulk++) {
        size_t n = together_sizes[bulk % TOGETHER_SIZES], done = 0;
        for (size_t i = 0; i < n; i++) {
            tags[i] = together_tag(run->id, bulk, i);
            items[i] = (void *)tags[i];
            sizes[i] = sizeof tags[i];
        }
        lfq_status st = run->bytes ? lfq_send_bulk(run->q, tags, sizes, n, &done, -1)
                                   : lfq_push_bulk(run->q, items, n, &done, -1);
        if (st != LFQ_OK || done != n) run->short_bulks++;
    }
    return NULL;
}

static void bulks_stay_together(int ring, int bytes) {
    lfq_options bytes_opts = bytes_options(sizeof(uintptr_t));
    const lfq_options *opts = bytes ? &bytes_opts : NULL;
    lfq_queue *q = NULL;
    size_t total = 0;
    for (size_t i = 0; i < TOGETHER_BULKS; i++) total += together_sizes[i % TOGETHER_SIZES];
    total *= TOGETHER_THREADS;
    /* A ring holds everything, so the producers never wait and the drain comes after the joins. */
    CHECK_OK(ring ? lfq_ring_new(total, opts, &q) : lfq_queue_new(opts, &q));
    pthread_t threads[TOGETHER_THREADS];
    together_run runs[TOGETHER_THREADS];
    for (uintptr_t t = 0; t < TOGETHER_THREADS; t++) {
        runs[t] = (together_run){q, bytes, t + 1, 0};
        CHECK(pthread_create(&threads[t], NULL, together_producer, &runs[t]) == 0);
    }
    for (int t = 0; t < TOGETHER_THREADS; t++) {
        pthread_join(threads[t], NULL);
        CHECK_SIZE(runs[t].short_bulks, 0);
    }
    uintptr_t previous = 0, tag = 0;
    size_t drained = 0, apart = 0;
    for (;;) {
        size_t got = 0;
        lfq_status st = bytes ? lfq_recv_into(q, &tag, sizeof tag, &got, 0) : lfq_pop(q, (void **)&tag, 0);
        if (st == LFQ_EMPTY) break;
        CHECK_OK(st);
        if ((tag & 0xffff) != 0 && tag != previous + 1) apart++;
        previous = tag;
        drained++;
    }
    CHECK_SIZE(drained, total);
    CHECK_SIZE(apart, 0);
    lfq_destroy(q);
}

static void test_bulk_pushes_stay_together(void) {
    for (int ring = 0; ring < 2; ring++) {
        for (int bytes = 0; bytes < 2; bytes++) bulks_stay_together(ring, bytes);
    }
}

/* A thread that pushed and then pops always gets an item, even while another thread's push into
 * the oldest slot is half done (position claimed, item not yet written): crossbeam's linearizable
 * test, with one ring slot per thread. */
enum { OWN_PUSH_THREADS = 4, OWN_PUSH_ROUNDS = 20000 };

typedef struct own_push_run {
    lfq_queue *q;
    int bytes;
    size_t empty_pops; /* pops after the thread's own push that reported LFQ_EMPTY */
} own_push_run;

static void *push_then_pop(void *p) {
    own_push_run *run = p;
    uintptr_t item = 1;
    for (int round = 0; round < OWN_PUSH_ROUNDS; round++) {
        lfq_status st;
        do {
            st = run->bytes ? lfq_send(run->q, &item, sizeof item, 0) : lfq_push(run->q, (void *)item, 0);
        } while (st == LFQ_FULL);
        if (st != LFQ_OK) return NULL;
        size_t size = 0;
        st = run->bytes ? lfq_recv_into(run->q, &item, sizeof item, &size, 0)
                        : lfq_pop(run->q, (void **)&item, 0);
        if (st == LFQ_EMPTY) run->empty_pops++;
    }
    return NULL;
}

static void test_pop_after_own_push_finds_an_item(void) {
    for (int bytes = 0; bytes < 2; bytes++) {
        lfq_options bytes_opts = bytes_options(sizeof(uintptr_t));
        lfq_queue *q = NULL;
        CHECK_OK(lfq_ring_new(OWN_PUSH_THREADS, bytes ? &bytes_opts : NULL, &q));
        pthread_t threads[OWN_PUSH_THREADS];
        own_push_run runs[OWN_PUSH_THREADS];
        for (int t = 0; t < OWN_PUSH_THREADS; t++) {
            runs[t] = (own_push_run){q, bytes, 0};
            CHECK(pthread_create(&threads[t], NULL, push_then_pop, &runs[t]) == 0);
        }
        size_t empty_pops = 0;
        for (int t = 0; t < OWN_PUSH_THREADS; t++) {
            pthread_join(threads[t], NULL);
            empty_pops += runs[t].empty_pops;
        }
        CHECK_SIZE(empty_pops, 0);
        CHECK_SIZE(lfq_len(q), 0);
        lfq_destroy(q);
    }
}

static void test_unbounded_never_full(void) {
    enum { N = 100000 };
    lfq_queue *q = NULL;
    CHECK_OK(lfq_queue_new(NULL, &q));
    for (uintptr_t i = 0; i < N; i++) CHECK_OK(lfq_push(q, item(i), 0));
    CHECK_SIZE(lfq_len(q), N);
    CHECK_OK(lfq_wait_writable(q, 0));
    CHECK_OK(lfq_wait_readable(q, 0));
    lfq_destroy(q); /* leftover items without item_free are simply dropped */
}

/* ------------------------------------------------------------------------------------------ */
/* Close and timeouts                                                                         */

static void test_close_semantics(void) {
    lfq_queue *r = NULL;
    CHECK_OK(lfq_ring_new(4, NULL, &r));
    CHECK_OK(lfq_push(r, item(1), 0));
    CHECK_OK(lfq_push(r, item(2), 0));
    CHECK_OK(lfq_close(r));
    CHECK_STATUS(lfq_close(r), LFQ_CLOSED);
    CHECK(lfq_is_closed(r) == 1);
    CHECK_STATUS(lfq_push(r, item(3), -1), LFQ_CLOSED);
    size_t count = 99;
    void *in[2] = {item(8), item(9)};
    CHECK_STATUS(lfq_push_burst(r, in, 2, &count, -1), LFQ_CLOSED);
    CHECK_SIZE(count, 0);
    CHECK_STATUS(lfq_wait_writable(r, -1), LFQ_CLOSED);
    CHECK_OK(lfq_wait_readable(r, -1)); /* items are still there */
    /* Popping continues until drained; then every form reports CLOSED without waiting. */
    void *got = NULL;
    CHECK_OK(lfq_pop(r, &got, -1));
    CHECK(got == item(1));
    CHECK_OK(lfq_pop(r, &got, -1));
    CHECK(got == item(2));
    CHECK_STATUS(lfq_pop(r, &got, -1), LFQ_CLOSED);
    CHECK_STATUS(lfq_pop(r, &got, 0), LFQ_CLOSED);
    CHECK_STATUS(lfq_pop_burst(r, in, 2, &count, -1), LFQ_CLOSED);
    CHECK_STATUS(lfq_wait_readable(r, -1), LFQ_CLOSED);
    lfq_destroy(r);

    lfq_options o = bytes_options(0);
    lfq_queue *b = NULL;
    CHECK_OK(lfq_queue_new(&o, &b));
    CHECK_OK(lfq_send(b, "hi", 2, 0));
    CHECK_OK(lfq_close(b));
    CHECK_STATUS(lfq_send(b, "no", 2, -1), LFQ_CLOSED);
    size_t sizes[1] = {2};
    CHECK_STATUS(lfq_send_bulk(b, "no", sizes, 1, &count, -1), LFQ_CLOSED);
    CHECK_SIZE(lfq_len(b), 1);
    lfq_message m;
    CHECK_OK(lfq_recv(b, &m, -1));
    CHECK(m.size == 2 && memcmp(lfq_message_data(&m), "hi", 2) == 0);
    lfq_message_release(&m, 1);
    CHECK_STATUS(lfq_recv(b, &m, -1), LFQ_CLOSED);
    char buf[LFQ_DEFAULT_MAX_MESSAGE_SIZE];
    size_t size = 0;
    CHECK_STATUS(lfq_recv_into(b, buf, sizeof buf, &size, -1), LFQ_CLOSED);
    lfq_destroy(b);
}

static void test_bulk_on_closed_short_queue(void) {
    lfq_queue *r = NULL;
    CHECK_OK(lfq_ring_new(8, NULL, &r));
    void *in[3] = {item(0), item(1), item(2)}, *out[8];
    CHECK_OK(lfq_push_bulk(r, in, 3, NULL, 0));
    CHECK_OK(lfq_close(r));
    size_t count = 99;
    /* Fewer than n left and none can arrive: CLOSED at once, items kept for a burst. */
    CHECK_STATUS(lfq_pop_bulk(r, out, 5, &count, -1), LFQ_CLOSED);
    CHECK_SIZE(count, 0);
    CHECK_SIZE(lfq_len(r), 3);
    CHECK_OK(lfq_pop_burst(r, out, 8, &count, -1));
    CHECK_SIZE(count, 3);
    for (uintptr_t i = 0; i < 3; i++) CHECK(out[i] == item(i));
    CHECK_STATUS(lfq_pop_burst(r, out, 8, &count, -1), LFQ_CLOSED);
    lfq_destroy(r);
}

static void test_timeouts(void) {
    const int64_t t = 20 * MS;
    lfq_queue *r = NULL;
    CHECK_OK(lfq_ring_new(2, NULL, &r));
    void *got = NULL, *in[2] = {item(5), item(6)}, *out[2];
    size_t count = 99;

    int64_t start = now_ns();
    CHECK_STATUS(lfq_pop(r, &got, t), LFQ_TIMEOUT);
    CHECK(now_ns() - start >= t);
    start = now_ns();
    CHECK_STATUS(lfq_wait_readable(r, t), LFQ_TIMEOUT);
    CHECK(now_ns() - start >= t);
    CHECK_STATUS(lfq_wait_readable(r, 0), LFQ_EMPTY);
    CHECK_OK(lfq_wait_writable(r, 0));

    CHECK_OK(lfq_push(r, item(1), 0));
    start = now_ns();
    CHECK_STATUS(lfq_pop_bulk(r, out, 2, &count, t), LFQ_TIMEOUT);
    CHECK(now_ns() - start >= t);
    CHECK_SIZE(count, 0);
    CHECK_SIZE(lfq_len(r), 1);
    start = now_ns();
    CHECK_STATUS(lfq_push_bulk(r, in, 2, &count, t), LFQ_TIMEOUT);
    CHECK(now_ns() - start >= t);
    CHECK_SIZE(count, 0);
    CHECK_SIZE(lfq_len(r), 1);
    CHECK_OK(lfq_wait_readable(r, 0));

    CHECK_OK(lfq_push(r, item(2), t));
    start = now_ns();
    CHECK_STATUS(lfq_push(r, item(3), t), LFQ_TIMEOUT);
    CHECK(now_ns() - start >= t);
    start = now_ns();
    CHECK_STATUS(lfq_wait_writable(r, t), LFQ_TIMEOUT);
    CHECK(now_ns() - start >= t);
    CHECK_STATUS(lfq_wait_writable(r, 0), LFQ_FULL);
    start = now_ns();
    CHECK_STATUS(lfq_push_burst(r, in, 2, &count, t), LFQ_TIMEOUT);
    CHECK(now_ns() - start >= t);
    CHECK_OK(lfq_pop(r, &got, t));
    CHECK(got == item(1));
    lfq_destroy(r);

    lfq_options o = bytes_options(0);
    lfq_queue *b = NULL;
    CHECK_OK(lfq_ring_new(1, &o, &b));
    lfq_message m;
    start = now_ns();
    CHECK_STATUS(lfq_recv(b, &m, t), LFQ_TIMEOUT);
    CHECK(now_ns() - start >= t);
    CHECK_OK(lfq_send(b, "x", 1, t));
    start = now_ns();
    CHECK_STATUS(lfq_send(b, "y", 1, t), LFQ_TIMEOUT);
    CHECK(now_ns() - start >= t);
    lfq_destroy(b);
}

/* A call made on another thread, to check that it blocks and what wakes it. */
enum op {
    OP_PUSH,
    OP_POP,
    OP_PUSH_BULK,
    OP_POP_BULK,
    OP_SEND,
    OP_SEND_BULK,
    OP_RECV,
    OP_RECV_INTO,
    OP_RECV_BULK,
    OP_WAIT_READABLE,
    OP_WAIT_WRITABLE,
};

typedef struct blocked_call {
    lfq_queue *q;
    enum op op;
    atomic_int done;
    lfq_status result;
    size_t count;
    void *items[4];
    lfq_message msgs[4];
} blocked_call;

static void *blocked_call_main(void *arg) {
    blocked_call *c = arg;
    static const size_t sizes[2] = {1, 1};
    static char buf[LFQ_DEFAULT_MAX_MESSAGE_SIZE];
    switch (c->op) {
    case OP_PUSH: c->result = lfq_push(c->q, item(100), -1); break;
    case OP_POP: c->result = lfq_pop(c->q, &c->items[0], -1); break;
    case OP_PUSH_BULK: {
        void *in[2] = {item(100), item(101)};
        c->result = lfq_push_bulk(c->q, in, 2, &c->count, -1);
        break;
    }
    case OP_POP_BULK: c->result = lfq_pop_bulk(c->q, c->items, 4, &c->count, -1); break;
    case OP_SEND: c->result = lfq_send(c->q, "z", 1, -1); break;
    case OP_SEND_BULK: c->result = lfq_send_bulk(c->q, "ab", sizes, 2, &c->count, -1); break;
    case OP_RECV: c->result = lfq_recv(c->q, &c->msgs[0], -1); break;
    case OP_RECV_INTO: c->result = lfq_recv_into(c->q, buf, sizeof buf, &c->count, -1); break;
    case OP_RECV_BULK: c->result = lfq_recv_bulk(c->q, c->msgs, 2, &c->count, -1); break;
    case OP_WAIT_READABLE: c->result = lfq_wait_readable(c->q, -1); break;
    case OP_WAIT_WRITABLE: c->result = lfq_wait_writable(c->q, -1); break;
    }
    atomic_store(&c->done, 1);
    return NULL;
}

/* Builds the queue on which `op` must block. */
static lfq_queue *blocking_setup(enum op op) {
    lfq_queue *q = NULL;
    lfq_options bytes = bytes_options(0);
    switch (op) {
    case OP_PUSH: /* full ring */
    case OP_WAIT_WRITABLE:
        lfq_ring_new(1, NULL, &q);
        lfq_push(q, item(0), 0);
        break;
    case OP_PUSH_BULK: /* room for one of two */
        lfq_ring_new(2, NULL, &q);
        lfq_push(q, item(0), 0);
        break;
    case OP_POP: /* empty */
    case OP_WAIT_READABLE: lfq_queue_new(NULL, &q); break;
    case OP_POP_BULK: /* one of four */
        lfq_ring_new(8, NULL, &q);
        lfq_push(q, item(0), 0);
        break;
    case OP_SEND: /* full */
        lfq_ring_new(1, &bytes, &q);
        lfq_send(q, "a", 1, 0);
        break;
    case OP_SEND_BULK: /* room for one of two */
        lfq_ring_new(2, &bytes, &q);
        lfq_send(q, "a", 1, 0);
        break;
    case OP_RECV:
    case OP_RECV_INTO: lfq_queue_new(&bytes, &q); break;
    case OP_RECV_BULK: /* one of two */
        lfq_queue_new(&bytes, &q);
        lfq_send(q, "a", 1, 0);
        break;
    }
    return q;
}

static void test_close_wakes_blocked_threads(void) {
    enum { OPS = OP_WAIT_WRITABLE + 1 };
    static blocked_call calls[OPS];
    pthread_t threads[OPS];
    for (int op = 0; op < OPS; op++) {
        memset(&calls[op], 0, sizeof calls[op]);
        calls[op].q = blocking_setup((enum op)op);
        CHECK(calls[op].q != NULL);
        calls[op].op = (enum op)op;
        calls[op].result = LFQ_ERR_INTERNAL;
        CHECK(pthread_create(&threads[op], NULL, blocked_call_main, &calls[op]) == 0);
    }
    sleep_ms(100);
    for (int op = 0; op < OPS; op++) {
        if (atomic_load(&calls[op].done)) fprintf(stderr, "  op %d did not block\n", op);
        CHECK(!atomic_load(&calls[op].done));
    }
    for (int op = 0; op < OPS; op++) CHECK_OK(lfq_close(calls[op].q));
    for (int op = 0; op < OPS; op++) {
        CHECK(pthread_join(threads[op], NULL) == 0);
        if (calls[op].result != LFQ_CLOSED) fprintf(stderr, "  op %d\n", op);
        CHECK_STATUS(calls[op].result, LFQ_CLOSED);
        CHECK_SIZE(calls[op].count, 0);
        lfq_destroy(calls[op].q);
    }
}

/* A blocked call that more items or more room complete, rather than close. */
static void test_blocked_calls_complete(void) {
    /* pop_bulk of 4 on a ring holding 1: completes once 3 more arrive one by one. */
    blocked_call c;
    memset(&c, 0, sizeof c);
    c.op = OP_POP_BULK;
    c.q = blocking_setup(OP_POP_BULK);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, blocked_call_main, &c) == 0);
    for (uintptr_t i = 1; i < 4; i++) {
        sleep_ms(10);
        CHECK(!atomic_load(&c.done));
        CHECK_OK(lfq_push(c.q, item(i), 0));
    }
    CHECK(pthread_join(t, NULL) == 0);
    CHECK_OK(c.result);
    CHECK_SIZE(c.count, 4);
    for (uintptr_t i = 0; i < 4; i++) CHECK(c.items[i] == item(i));
    lfq_destroy(c.q);

    /* push_bulk of 2 into a ring of 2 holding 1: completes when the item is popped. */
    memset(&c, 0, sizeof c);
    c.op = OP_PUSH_BULK;
    c.q = blocking_setup(OP_PUSH_BULK);
    CHECK(pthread_create(&t, NULL, blocked_call_main, &c) == 0);
    sleep_ms(20);
    CHECK(!atomic_load(&c.done));
    void *got = NULL;
    CHECK_OK(lfq_pop(c.q, &got, 0));
    CHECK(got == item(0));
    CHECK(pthread_join(t, NULL) == 0);
    CHECK_OK(c.result);
    CHECK_SIZE(c.count, 2);
    CHECK_OK(lfq_pop(c.q, &got, 0));
    CHECK(got == item(100));
    CHECK_OK(lfq_pop(c.q, &got, 0));
    CHECK(got == item(101));
    lfq_destroy(c.q);

    /* A blocked recv gets a message sent later. */
    memset(&c, 0, sizeof c);
    c.op = OP_RECV;
    c.q = blocking_setup(OP_RECV);
    CHECK(pthread_create(&t, NULL, blocked_call_main, &c) == 0);
    sleep_ms(20);
    CHECK(!atomic_load(&c.done));
    CHECK_OK(lfq_send(c.q, "wake", 4, 0));
    CHECK(pthread_join(t, NULL) == 0);
    CHECK_OK(c.result);
    CHECK(c.msgs[0].size == 4 && memcmp(lfq_message_data(&c.msgs[0]), "wake", 4) == 0);
    lfq_message_release(c.msgs, 1);
    lfq_destroy(c.q);
}

/* ------------------------------------------------------------------------------------------ */
/* Bytes payload                                                                              */

static void test_bytes_round_trip(void) {
    const size_t max = 4096;
    const size_t sizes[] = {0, 1, 63, 64, 65, 1000, 4096};
    const size_t n = sizeof sizes / sizeof sizes[0];
    lfq_options o = bytes_options(max);
    lfq_queue *q = NULL;
    CHECK_OK(lfq_queue_new(&o, &q));
    uint8_t *buf = malloc(max);
    CHECK(buf != NULL);
    for (size_t i = 0; i < n; i++) {
        fill(buf, sizes[i], (unsigned)i);
        CHECK_OK(lfq_send(q, buf, sizes[i], 0));
    }
    CHECK_SIZE(lfq_len(q), n);
    for (size_t i = 0; i < n; i++) {
        lfq_message m;
        CHECK_OK(lfq_recv(q, &m, 0));
        CHECK_SIZE(m.size, sizes[i]);
        CHECK((m.heap == NULL) == (sizes[i] <= LFQ_INLINE_MESSAGE_SIZE));
        CHECK(lfq_message_data(&m) == (m.heap ? m.heap : m.inline_bytes));
        CHECK(matches(lfq_message_data(&m), m.size, (unsigned)i));
        lfq_message_release(&m, 1);
        CHECK(m.heap == NULL && m.size == 0);
        lfq_message_release(&m, 1); /* twice is harmless */
    }
    lfq_message m;
    CHECK_STATUS(lfq_recv(q, &m, 0), LFQ_EMPTY);
    CHECK(lfq_message_data(NULL) == NULL);
    lfq_message_release(NULL, 5);
    /* NULL data is fine for an empty message. */
    CHECK_OK(lfq_send(q, NULL, 0, 0));
    CHECK_OK(lfq_recv(q, &m, 0));
    CHECK_SIZE(m.size, 0);
    lfq_message_release(&m, 1);
    free(buf);
    lfq_destroy(q);
}

static void test_bytes_recv_into(void) {
    lfq_options o = bytes_options(200);
    lfq_queue *q = NULL;
    CHECK_OK(lfq_ring_new(4, &o, &q));
    uint8_t msg[150], buf[200];
    fill(msg, sizeof msg, 7);
    CHECK_OK(lfq_send(q, msg, sizeof msg, 0));
    CHECK_OK(lfq_send(q, msg, 10, 0));
    size_t size = 0;
    /* Too small for the maximum, even though the message would fit: refused, nothing lost. */
    CHECK_STATUS(lfq_recv_into(q, buf, 199, &size, 0), LFQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(lfq_recv_into(q, buf, 150, &size, -1), LFQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(lfq_recv_into(q, NULL, 200, &size, 0), LFQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(lfq_recv_into(q, buf, sizeof buf, NULL, 0), LFQ_ERR_INVALID_ARGUMENT);
    CHECK_SIZE(lfq_len(q), 2);
    CHECK_OK(lfq_recv_into(q, buf, sizeof buf, &size, 0));
    CHECK_SIZE(size, 150);
    CHECK(matches(buf, size, 7));
    CHECK_OK(lfq_recv_into(q, buf, sizeof buf, &size, 0));
    CHECK_SIZE(size, 10);
    CHECK(matches(buf, size, 7));
    size = 77;
    CHECK_STATUS(lfq_recv_into(q, buf, sizeof buf, &size, 0), LFQ_EMPTY);
    CHECK_SIZE(size, 77);
    lfq_destroy(q);
}

static void test_bytes_too_large(void) {
    lfq_options o = bytes_options(100);
    lfq_queue *q = NULL;
    CHECK_OK(lfq_queue_new(&o, &q));
    uint8_t buf[200] = {0};
    CHECK_OK(lfq_send(q, buf, 100, 0));
    CHECK_STATUS(lfq_send(q, buf, 101, 0), LFQ_ERR_TOO_LARGE);
    CHECK_STATUS(lfq_send(q, buf, 101, -1), LFQ_ERR_TOO_LARGE);
    /* A batch with one oversized message sends nothing. */
    size_t sizes[3] = {10, 101, 10}, count = 99;
    CHECK_STATUS(lfq_send_bulk(q, buf, sizes, 3, &count, 0), LFQ_ERR_TOO_LARGE);
    CHECK_SIZE(count, 0);
    CHECK_STATUS(lfq_send_burst(q, buf, sizes, 3, &count, 0), LFQ_ERR_TOO_LARGE);
    CHECK_SIZE(count, 0);
    CHECK_SIZE(lfq_len(q), 1);
    lfq_destroy(q);

    /* The default limit, then the option bounds. */
    o = bytes_options(0);
    CHECK_OK(lfq_queue_new(&o, &q));
    uint8_t *big = calloc(1, LFQ_DEFAULT_MAX_MESSAGE_SIZE + 1);
    CHECK(big != NULL);
    CHECK_OK(lfq_send(q, big, LFQ_DEFAULT_MAX_MESSAGE_SIZE, 0));
    CHECK_STATUS(lfq_send(q, big, LFQ_DEFAULT_MAX_MESSAGE_SIZE + 1, 0), LFQ_ERR_TOO_LARGE);
    CHECK_SIZE(lfq_len(q), 1);
    free(big);
    lfq_destroy(q); /* frees the queued 64 KiB message */
}

static void test_bytes_bulk_and_burst(void) {
    lfq_options o = bytes_options(1000);
    lfq_queue *r = NULL;
    CHECK_OK(lfq_ring_new(4, &o, &r));
    /* Three messages packed back to back: inline, heap, empty. */
    const size_t sizes[4] = {5, 300, 0, 64};
    uint8_t data[5 + 300 + 0 + 64];
    fill(data, 5, 0);
    fill(data + 5, 300, 1);
    fill(data + 305, 64, 3);
    size_t count = 99;
    CHECK_OK(lfq_send_bulk(r, data, sizes, 3, &count, 0));
    CHECK_SIZE(count, 3);
    CHECK_STATUS(lfq_send_bulk(r, data, sizes, 2, &count, 0), LFQ_FULL);
    CHECK_SIZE(count, 0);
    const size_t five[5] = {1, 1, 1, 1, 1}; /* more than the ring holds: can never succeed */
    CHECK_STATUS(lfq_send_bulk(r, data, five, 5, &count, -1), LFQ_ERR_INVALID_ARGUMENT);
    CHECK_OK(lfq_send_burst(r, data + 305, sizes + 3, 1, &count, 0));
    CHECK_SIZE(count, 1);
    CHECK_STATUS(lfq_send_burst(r, data, sizes, 2, &count, 0), LFQ_FULL);
    CHECK_SIZE(lfq_len(r), 4);

    lfq_message msgs[5];
    CHECK_STATUS(lfq_recv_bulk(r, msgs, 5, &count, 0), LFQ_ERR_INVALID_ARGUMENT);
    CHECK_OK(lfq_recv_bulk(r, msgs, 2, &count, 0));
    CHECK_SIZE(count, 2);
    CHECK(msgs[0].size == 5 && matches(lfq_message_data(&msgs[0]), 5, 0));
    CHECK(msgs[1].size == 300 && msgs[1].heap != NULL);
    CHECK(matches(lfq_message_data(&msgs[1]), 300, 1));
    lfq_message_release(msgs, 2);
    CHECK_STATUS(lfq_recv_bulk(r, msgs, 3, &count, 0), LFQ_EMPTY);
    CHECK_SIZE(count, 0);
    CHECK_OK(lfq_recv_burst(r, msgs, 5, &count, 0));
    CHECK_SIZE(count, 2);
    CHECK(msgs[0].size == 0);
    CHECK(msgs[1].size == 64 && msgs[1].heap == NULL);
    CHECK(matches(lfq_message_data(&msgs[1]), 64, 3));
    lfq_message_release(msgs, count);
    CHECK_STATUS(lfq_recv_burst(r, msgs, 5, &count, 0), LFQ_EMPTY);

    /* Burst fills what it can, from the front; inline-only batches take the no-copy path. */
    const size_t small[6] = {1, 2, 3, 4, 5, 6};
    uint8_t small_data[21];
    fill(small_data, sizeof small_data, 9);
    CHECK_OK(lfq_send_burst(r, small_data, small, 6, &count, 0));
    CHECK_SIZE(count, 4);
    CHECK_OK(lfq_recv_bulk(r, msgs, 4, &count, 0));
    size_t offset = 0;
    for (size_t i = 0; i < 4; i++) {
        CHECK_SIZE(msgs[i].size, small[i]);
        CHECK(memcmp(lfq_message_data(&msgs[i]), small_data + offset, small[i]) == 0);
        offset += small[i];
    }
    lfq_message_release(msgs, 4);

    /* All-empty messages need no data pointer. */
    const size_t zeros[2] = {0, 0};
    CHECK_OK(lfq_send_bulk(r, NULL, zeros, 2, &count, 0));
    CHECK_SIZE(count, 2);
    CHECK_STATUS(lfq_send_bulk(r, NULL, sizes, 1, &count, 0), LFQ_ERR_INVALID_ARGUMENT);
    /* Closed with fewer than n messages left: CLOSED, drain with burst. */
    CHECK_OK(lfq_close(r));
    CHECK_STATUS(lfq_recv_bulk(r, msgs, 3, &count, -1), LFQ_CLOSED);
    CHECK_OK(lfq_recv_burst(r, msgs, 3, &count, -1));
    CHECK_SIZE(count, 2);
    lfq_message_release(msgs, count);
    CHECK_STATUS(lfq_recv_burst(r, msgs, 3, &count, -1), LFQ_CLOSED);
    lfq_destroy(r);

    /* n == 0 succeeds with NULL arrays. */
    CHECK_OK(lfq_queue_new(&o, &r));
    count = 99;
    CHECK_OK(lfq_send_bulk(r, NULL, NULL, 0, &count, 0));
    CHECK_SIZE(count, 0);
    count = 99;
    CHECK_OK(lfq_recv_burst(r, NULL, 0, &count, 0));
    CHECK_SIZE(count, 0);
    lfq_destroy(r);
}

static void test_destroy_frees_messages(void) {
    /* valgrind's leak check is what proves the frees; the counts show what was left. */
    lfq_options o = bytes_options(0);
    lfq_queue *q = NULL, *r = NULL;
    CHECK_OK(lfq_queue_new(&o, &q));
    CHECK_OK(lfq_ring_new(16, &o, &r));
    uint8_t buf[500];
    fill(buf, sizeof buf, 4);
    for (size_t i = 0; i < 10; i++) {
        CHECK_OK(lfq_send(q, buf, i * 50, 0));
        CHECK_OK(lfq_send(r, buf, i * 50, 0));
    }
    lfq_message m;
    CHECK_OK(lfq_recv(q, &m, 0));
    lfq_message_release(&m, 1);
    CHECK_SIZE(lfq_len(q), 9);
    CHECK_SIZE(lfq_len(r), 10);
    lfq_destroy(q);
    lfq_destroy(r);
}

/* ------------------------------------------------------------------------------------------ */
/* item_free                                                                                  */

typedef struct free_log {
    int calls;
    int wrong_context;
    int freed[16]; /* times each payload value was freed */
} free_log;

static void count_and_free(void *it, void *context) {
    free_log *log = context;
    int *value = it;
    log->calls++;
    if (*value >= 0 && *value < 16) log->freed[*value]++;
    free(value);
}

static void test_item_free_on_destroy(void) {
    for (int ring = 0; ring < 2; ring++) {
        free_log log;
        memset(&log, 0, sizeof log);
        lfq_options o;
        memset(&o, 0, sizeof o);
        o.payload = LFQ_PAYLOAD_POINTER;
        o.item_free = count_and_free;
        o.item_free_context = &log;
        lfq_queue *q = NULL;
        CHECK_OK(ring ? lfq_ring_new(16, &o, &q) : lfq_queue_new(&o, &q));
        for (int i = 0; i < 10; i++) {
            int *v = malloc(sizeof *v);
            CHECK(v != NULL);
            *v = i;
            CHECK_OK(lfq_push(q, v, 0));
        }
        /* The three popped items are the caller's again and must not reach item_free. */
        for (int i = 0; i < 3; i++) {
            void *got = NULL;
            CHECK_OK(lfq_pop(q, &got, 0));
            CHECK(*(int *)got == i);
            free(got);
        }
        /* A refused push leaves the item with the caller too. */
        CHECK_OK(lfq_close(q));
        int keep = 15;
        CHECK_STATUS(lfq_push(q, &keep, 0), LFQ_CLOSED);
        lfq_destroy(q);
        CHECK(log.calls == 7);
        for (int i = 0; i < 16; i++) CHECK(log.freed[i] == (i >= 3 && i < 10 ? 1 : 0));
    }
}

/* An item_free callback that calls back into lfq with the queue being destroyed. */
typedef struct reentry_log {
    lfq_queue *q;
    int calls;
    int refused; /* calls on q that failed cleanly */
} reentry_log;

static void free_and_reenter(void *it, void *context) {
    reentry_log *log = context;
    log->calls++;
    free(it);
    void *got = NULL;
    int extra = 0;
    log->refused += lfq_push(log->q, &extra, 0) == LFQ_ERR_INVALID_ARGUMENT;
    log->refused += lfq_pop(log->q, &got, 0) == LFQ_ERR_INVALID_ARGUMENT;
    log->refused += lfq_len(log->q) == 0;
    lfq_destroy(log->q); /* must do nothing */
}

static void test_item_free_reentering_destroy_is_refused(void) {
    for (int ring = 0; ring < 2; ring++) {
        reentry_log log;
        memset(&log, 0, sizeof log);
        lfq_options o;
        memset(&o, 0, sizeof o);
        o.payload = LFQ_PAYLOAD_POINTER;
        o.item_free = free_and_reenter;
        o.item_free_context = &log;
        CHECK_OK(ring ? lfq_ring_new(8, &o, &log.q) : lfq_queue_new(&o, &log.q));
        for (int i = 0; i < 3; i++) {
            int *v = malloc(sizeof *v);
            CHECK(v != NULL);
            *v = i;
            CHECK_OK(lfq_push(log.q, v, 0));
        }
        lfq_destroy(log.q);
        /* Every item freed once, and no call from the callback reached the dying queue. */
        CHECK(log.calls == 3);
        CHECK(log.refused == 3 * 3);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Bad input                                                                                  */

static void test_null_handle(void) {
    void *p = NULL, *arr[2] = {0};
    size_t count = 99, sizes[1] = {1};
    lfq_message m;
    char buf[8];
    CHECK_STATUS(lfq_push(NULL, p, 0), LFQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(lfq_pop(NULL, &p, -1), LFQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(lfq_push_bulk(NULL, arr, 2, &count, 0), LFQ_ERR_INVALID_ARGUMENT);
    CHECK_SIZE(count, 0);
    count = 99;
    CHECK_STATUS(lfq_push_burst(NULL, arr, 2, &count, 0), LFQ_ERR_INVALID_ARGUMENT);
    CHECK_SIZE(count, 0);
    CHECK_STATUS(lfq_pop_bulk(NULL, arr, 2, &count, -1), LFQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(lfq_pop_burst(NULL, arr, 2, &count, -1), LFQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(lfq_send(NULL, "a", 1, 0), LFQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(lfq_recv(NULL, &m, -1), LFQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(lfq_recv_into(NULL, buf, sizeof buf, &count, -1), LFQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(lfq_send_bulk(NULL, "a", sizes, 1, &count, 0), LFQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(lfq_send_burst(NULL, "a", sizes, 1, &count, 0), LFQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(lfq_recv_bulk(NULL, &m, 1, &count, -1), LFQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(lfq_recv_burst(NULL, &m, 1, &count, -1), LFQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(lfq_wait_readable(NULL, -1), LFQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(lfq_wait_writable(NULL, -1), LFQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(lfq_close(NULL), LFQ_ERR_INVALID_ARGUMENT);
    CHECK(lfq_is_closed(NULL) == LFQ_ERR_INVALID_ARGUMENT);
    CHECK_SIZE(lfq_len(NULL), 0);
    CHECK_SIZE(lfq_capacity(NULL), 0);
    CHECK_SIZE(lfq_max_message_size(NULL), 0);
    CHECK(lfq_payload_of(NULL) == LFQ_PAYLOAD_NONE);
    lfq_destroy(NULL);
}

static void test_null_out_pointers(void) {
    CHECK_STATUS(lfq_queue_new(NULL, NULL), LFQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(lfq_ring_new(4, NULL, NULL), LFQ_ERR_INVALID_ARGUMENT);

    lfq_queue *q = NULL;
    size_t count = 99;
    for (int ring = 0; ring <= 1; ring++) {
        CHECK_OK(ring ? lfq_ring_new(4, NULL, &q) : lfq_queue_new(NULL, &q));
        CHECK_OK(lfq_push(q, item(1), 0));
        CHECK_STATUS(lfq_pop(q, NULL, -1), LFQ_ERR_INVALID_ARGUMENT);
        CHECK_STATUS(lfq_pop_bulk(q, NULL, 1, &count, -1), LFQ_ERR_INVALID_ARGUMENT);
        CHECK_SIZE(count, 0);
        CHECK_STATUS(lfq_pop_burst(q, NULL, 1, &count, -1), LFQ_ERR_INVALID_ARGUMENT);
        CHECK_STATUS(lfq_push_bulk(q, NULL, 1, &count, 0), LFQ_ERR_INVALID_ARGUMENT);
        CHECK_STATUS(lfq_push_burst(q, NULL, 1, &count, 0), LFQ_ERR_INVALID_ARGUMENT);
        CHECK_SIZE(lfq_len(q), 1); /* the item survived every refused call */
        void *got = NULL;
        CHECK_OK(lfq_pop(q, &got, 0));
        CHECK(got == item(1));
        lfq_destroy(q);
    }

    lfq_options o = bytes_options(0);
    CHECK_OK(lfq_queue_new(&o, &q));
    CHECK_OK(lfq_send(q, "keep", 4, 0));
    CHECK_STATUS(lfq_send(q, NULL, 3, 0), LFQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(lfq_recv(q, NULL, -1), LFQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(lfq_recv_bulk(q, NULL, 1, &count, -1), LFQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(lfq_recv_burst(q, NULL, 1, &count, -1), LFQ_ERR_INVALID_ARGUMENT);
    size_t sizes[1] = {4};
    CHECK_STATUS(lfq_send_bulk(q, "abcd", NULL, 1, &count, 0), LFQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(lfq_send_burst(q, NULL, sizes, 1, &count, 0), LFQ_ERR_INVALID_ARGUMENT);
    CHECK_SIZE(lfq_len(q), 1);
    lfq_message m;
    CHECK_OK(lfq_recv(q, &m, 0));
    CHECK(m.size == 4 && memcmp(lfq_message_data(&m), "keep", 4) == 0);
    lfq_message_release(&m, 1);
    lfq_destroy(q);
}

static void test_bad_capacity(void) {
    lfq_queue *q = NULL;
    lfq_options o = bytes_options(0);
    CHECK_STATUS(lfq_ring_new(0, NULL, &q), LFQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(lfq_ring_new(SIZE_MAX, NULL, &q), LFQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(lfq_ring_new(SIZE_MAX / 2, NULL, &q), LFQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(lfq_ring_new((size_t)LFQ_MAX_CAPACITY + 1, NULL, &q), LFQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(lfq_ring_new(0, &o, &q), LFQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(lfq_ring_new(SIZE_MAX, &o, &q), LFQ_ERR_INVALID_ARGUMENT);
    /* Allowed in principle, but 2^40 slots need terabytes: refused before allocating. */
    CHECK_STATUS(lfq_ring_new((size_t)LFQ_MAX_CAPACITY, NULL, &q), LFQ_ERR_NO_MEMORY);
    CHECK_STATUS(lfq_ring_new((size_t)LFQ_MAX_CAPACITY, &o, &q), LFQ_ERR_NO_MEMORY);
    CHECK(q == NULL); /* never written on failure */
    CHECK_OK(lfq_ring_new(1, NULL, &q));
    CHECK_SIZE(lfq_capacity(q), 1);
    lfq_destroy(q);
}

static void test_bad_options(void) {
    lfq_queue *q = NULL;
    lfq_options o;
    memset(&o, 0, sizeof o);
    o.payload = 7;
    CHECK_STATUS(lfq_queue_new(&o, &q), LFQ_ERR_INVALID_ARGUMENT);
    o.payload = LFQ_PAYLOAD_NONE;
    CHECK_STATUS(lfq_ring_new(4, &o, &q), LFQ_ERR_INVALID_ARGUMENT);
    o.payload = LFQ_PAYLOAD_POINTER;
    o.max_message_size = 100; /* meaningless for pointer items */
    CHECK_STATUS(lfq_queue_new(&o, &q), LFQ_ERR_INVALID_ARGUMENT);
    o = bytes_options(LFQ_MAX_MESSAGE_SIZE_LIMIT + 1);
    CHECK_STATUS(lfq_queue_new(&o, &q), LFQ_ERR_INVALID_ARGUMENT);
    o = bytes_options(SIZE_MAX);
    CHECK_STATUS(lfq_ring_new(4, &o, &q), LFQ_ERR_INVALID_ARGUMENT);
    o = bytes_options(0);
    o.item_free = count_and_free; /* bytes queues free their own messages */
    CHECK_STATUS(lfq_queue_new(&o, &q), LFQ_ERR_INVALID_ARGUMENT);
    CHECK(q == NULL);
}

static void test_absurd_counts(void) {
    lfq_queue *q = NULL;
    CHECK_OK(lfq_queue_new(NULL, &q));
    void *arr[1] = {item(0)};
    size_t count = 99;
    /* An n no array can have is refused before anything is read or written. */
    CHECK_STATUS(lfq_push_bulk(q, arr, SIZE_MAX, &count, 0), LFQ_ERR_INVALID_ARGUMENT);
    CHECK_SIZE(count, 0);
    CHECK_STATUS(lfq_push_burst(q, arr, SIZE_MAX / 2, &count, 0), LFQ_ERR_INVALID_ARGUMENT);
    CHECK_OK(lfq_push(q, item(0), 0));
    CHECK_STATUS(lfq_pop_burst(q, arr, SIZE_MAX, &count, 0), LFQ_ERR_INVALID_ARGUMENT);
    CHECK_SIZE(lfq_len(q), 1);
    lfq_destroy(q);

    lfq_options o = bytes_options(0);
    CHECK_OK(lfq_queue_new(&o, &q));
    /* A size no buffer can have is still a message over the maximum. */
    size_t overflow[2] = {SIZE_MAX, 2};
    CHECK_STATUS(lfq_send_bulk(q, "ab", overflow, 2, &count, 0), LFQ_ERR_TOO_LARGE);
    CHECK_STATUS(lfq_send_burst(q, "ab", overflow, 2, &count, 0), LFQ_ERR_TOO_LARGE);
    CHECK_STATUS(lfq_send(q, "ab", SIZE_MAX, 0), LFQ_ERR_TOO_LARGE);
    lfq_message m;
    CHECK_STATUS(lfq_recv_burst(q, &m, SIZE_MAX, &count, 0), LFQ_ERR_INVALID_ARGUMENT);
    CHECK_SIZE(lfq_len(q), 0);
    lfq_destroy(q);
}

typedef struct seen_items {
    void *items[400];
    size_t count;
    size_t stop_after; /* 0: never stop */
} seen_items;

static int record_item(void *item, void *context) {
    seen_items *seen = context;
    seen->items[seen->count++] = item;
    return seen->stop_after != 0 && seen->count == seen->stop_after;
}

/* Checks that visiting q shows items first, first + 1, ... in order, `count` of them. */
static int visits_in_order(lfq_queue *q, uintptr_t first, size_t count) {
    seen_items seen = {.count = 0};
    if (lfq_visit(q, record_item, &seen) != LFQ_OK || seen.count != count) return 0;
    for (size_t i = 0; i < count; i++)
        if (seen.items[i] != item(first + i)) return 0;
    return 1;
}

/* lfq_visit shows what is queued, oldest first, and takes nothing. */
static void test_visit(void) {
    lfq_queue *q = NULL;
    CHECK_OK(lfq_queue_new(NULL, &q));
    CHECK(visits_in_order(q, 0, 0));
    for (uintptr_t i = 0; i < 300; i++) CHECK_OK(lfq_push(q, item(i), 0)); /* three segments */
    CHECK(visits_in_order(q, 0, 300));
    void *got = NULL;
    for (int i = 0; i < 130; i++) CHECK_OK(lfq_pop(q, &got, 0)); /* into the second segment */
    CHECK(visits_in_order(q, 130, 170));
    CHECK_SIZE(lfq_len(q), 170);
    seen_items seen = {.count = 0, .stop_after = 5};
    CHECK_OK(lfq_visit(q, record_item, &seen));
    CHECK_SIZE(seen.count, 5);
    CHECK_OK(lfq_pop(q, &got, 0));
    CHECK(got == item(130));
    lfq_destroy(q);

    /* A ring whose items wrap past its last slot. */
    CHECK_OK(lfq_ring_new(3, NULL, &q));
    for (uintptr_t i = 0; i < 3; i++) CHECK_OK(lfq_push(q, item(i), 0));
    CHECK(visits_in_order(q, 0, 3));
    CHECK_OK(lfq_pop(q, &got, 0));
    CHECK_OK(lfq_pop(q, &got, 0));
    CHECK_OK(lfq_push(q, item(3), 0));
    CHECK_OK(lfq_push(q, item(4), 0));
    CHECK(visits_in_order(q, 2, 3));
    CHECK_OK(lfq_close(q));
    CHECK(visits_in_order(q, 2, 3));
    CHECK_STATUS(lfq_visit(q, NULL, NULL), LFQ_ERR_INVALID_ARGUMENT);
    lfq_destroy(q);

    CHECK_STATUS(lfq_visit(NULL, record_item, &seen), LFQ_ERR_INVALID_ARGUMENT);
    lfq_options o = bytes_options(0);
    CHECK_OK(lfq_queue_new(&o, &q));
    CHECK_OK(lfq_send(q, "x", 1, 0));
    CHECK_STATUS(lfq_visit(q, record_item, &seen), LFQ_ERR_WRONG_KIND);
    lfq_destroy(q);
}

static void test_wrong_kind(void) {
    lfq_queue *pq = NULL, *bq = NULL;
    lfq_options o = bytes_options(0);
    CHECK_OK(lfq_ring_new(4, NULL, &pq));
    CHECK_OK(lfq_ring_new(4, &o, &bq));
    CHECK_OK(lfq_push(pq, item(3), 0));
    CHECK_OK(lfq_send(bq, "msg", 3, 0));

    size_t count = 99, sizes[1] = {1};
    lfq_message m;
    char buf[LFQ_DEFAULT_MAX_MESSAGE_SIZE];
    void *p = NULL, *arr[1] = {item(9)};
    /* Bytes calls on a pointer queue. */
    CHECK_STATUS(lfq_send(pq, "a", 1, 0), LFQ_ERR_WRONG_KIND);
    CHECK_STATUS(lfq_recv(pq, &m, -1), LFQ_ERR_WRONG_KIND);
    CHECK_STATUS(lfq_recv_into(pq, buf, sizeof buf, &count, -1), LFQ_ERR_WRONG_KIND);
    CHECK_STATUS(lfq_send_bulk(pq, "a", sizes, 1, &count, 0), LFQ_ERR_WRONG_KIND);
    CHECK_SIZE(count, 0);
    CHECK_STATUS(lfq_send_burst(pq, "a", sizes, 1, &count, 0), LFQ_ERR_WRONG_KIND);
    CHECK_STATUS(lfq_recv_bulk(pq, &m, 1, &count, -1), LFQ_ERR_WRONG_KIND);
    CHECK_STATUS(lfq_recv_burst(pq, &m, 1, &count, -1), LFQ_ERR_WRONG_KIND);
    /* Pointer calls on a bytes queue. */
    CHECK_STATUS(lfq_push(bq, item(1), 0), LFQ_ERR_WRONG_KIND);
    CHECK_STATUS(lfq_pop(bq, &p, -1), LFQ_ERR_WRONG_KIND);
    CHECK(p == NULL);
    CHECK_STATUS(lfq_push_bulk(bq, arr, 1, &count, 0), LFQ_ERR_WRONG_KIND);
    CHECK_STATUS(lfq_push_burst(bq, arr, 1, &count, 0), LFQ_ERR_WRONG_KIND);
    CHECK_STATUS(lfq_pop_bulk(bq, arr, 1, &count, -1), LFQ_ERR_WRONG_KIND);
    CHECK_STATUS(lfq_pop_burst(bq, arr, 1, &count, -1), LFQ_ERR_WRONG_KIND);
    CHECK(arr[0] == item(9));
    /* Even with empty batches, the kind is checked first. */
    CHECK_STATUS(lfq_push_bulk(bq, NULL, 0, &count, 0), LFQ_ERR_WRONG_KIND);
    CHECK_STATUS(lfq_send_bulk(pq, NULL, NULL, 0, &count, 0), LFQ_ERR_WRONG_KIND);

    /* Nothing changed. */
    CHECK_SIZE(lfq_len(pq), 1);
    CHECK_SIZE(lfq_len(bq), 1);
    CHECK_OK(lfq_pop(pq, &p, 0));
    CHECK(p == item(3));
    CHECK_OK(lfq_recv(bq, &m, 0));
    CHECK(m.size == 3 && memcmp(lfq_message_data(&m), "msg", 3) == 0);
    lfq_message_release(&m, 1);
    lfq_destroy(pq);
    lfq_destroy(bq);
}

/* ------------------------------------------------------------------------------------------ */
/* Direct ring access (lfq_map_ring), driven exactly as lfq.h specifies it                      */

static uint8_t *map_slot(const lfq_ring_map *m, size_t p) {
    return m->slots + (p & (m->one_lap - 1)) * m->slot_size;
}

static size_t *map_stamp(const lfq_ring_map *m, size_t p) {
    return (size_t *)(void *)(map_slot(m, p) + m->stamp_offset);
}

static lfq_message *map_message(const lfq_ring_map *m, size_t p) {
    return (lfq_message *)(void *)(map_slot(m, p) + m->message_offset);
}

static size_t map_next(const lfq_ring_map *m, size_t p) {
    return (p & (m->one_lap - 1)) + 1 < m->capacity ? p + 1 : (p & ~(m->one_lap - 1)) + m->one_lap;
}

/* Sends through the map: 1 when sent, 0 where the spec says to use lfq_send instead, -1 if the
 * wakeup call failed. */
static int map_send(lfq_queue *q, const lfq_ring_map *m, const void *data, size_t n) {
    for (;;) {
        size_t t = __atomic_load_n(m->tail, __ATOMIC_SEQ_CST);
        if (t & LFQ_RING_MAP_CLOSED) return 0;
        size_t p = t >> LFQ_RING_MAP_SHIFT;
        if (__atomic_load_n(map_stamp(m, p), __ATOMIC_SEQ_CST) != p) return 0;
        size_t next = map_next(m, p) << LFQ_RING_MAP_SHIFT;
        if (!__atomic_compare_exchange_n(m->tail, &t, next, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
            continue;
        lfq_message *msg = map_message(m, p);
        msg->size = n;
        msg->heap = NULL;
        memset(msg->inline_bytes, 0, sizeof msg->inline_bytes);
        memcpy(msg->inline_bytes, data, n);
        __atomic_store_n(map_stamp(m, p), p + 1, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(m->readers_waiting, __ATOMIC_SEQ_CST) != 0)
            return lfq_notify_readable(q, 1) == LFQ_OK ? 1 : -1;
        return 1;
    }
}

/* Receives through the map into *out (release it after): 1 when received, 0 when lfq_recv must
 * decide, -1 if the wakeup call failed. */
static int map_recv(lfq_queue *q, const lfq_ring_map *m, lfq_message *out) {
    for (;;) {
        size_t h = __atomic_load_n(m->head, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(map_stamp(m, h), __ATOMIC_SEQ_CST) != h + 1) return 0;
        if (!__atomic_compare_exchange_n(m->head, &h, map_next(m, h), 0, __ATOMIC_SEQ_CST,
                                         __ATOMIC_SEQ_CST))
            continue;
        *out = *map_message(m, h);
        __atomic_store_n(map_stamp(m, h), h + m->one_lap, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(m->writers_waiting, __ATOMIC_SEQ_CST) != 0)
            return lfq_notify_writable(q, 1) == LFQ_OK ? 1 : -1;
        return 1;
    }
}

static void test_ring_map_arguments(void) {
    lfq_options o = bytes_options(0);
    lfq_queue *ring = NULL, *queue = NULL, *pointers = NULL;
    CHECK_OK(lfq_ring_new(3, &o, &ring));
    CHECK_OK(lfq_queue_new(&o, &queue));
    CHECK_OK(lfq_ring_new(3, NULL, &pointers));
    lfq_ring_map m;
    CHECK_OK(lfq_map_ring(ring, &m));
    CHECK(m.version == LFQ_RING_MAP_VERSION);
    CHECK_SIZE(m.capacity, 3);
    CHECK(m.one_lap >= m.capacity && (m.one_lap & (m.one_lap - 1)) == 0);
    CHECK(m.slot_size >= sizeof(size_t) + sizeof(lfq_message));
    CHECK_STATUS(lfq_map_ring(queue, &m), LFQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(lfq_map_ring(pointers, &m), LFQ_ERR_WRONG_KIND);
    CHECK_STATUS(lfq_map_ring(NULL, &m), LFQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(lfq_map_ring(ring, NULL), LFQ_ERR_INVALID_ARGUMENT);
    CHECK_OK(lfq_notify_readable(ring, 1));
    CHECK_OK(lfq_notify_writable(ring, SIZE_MAX));
    CHECK_STATUS(lfq_notify_readable(queue, 1), LFQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(lfq_notify_writable(queue, 1), LFQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(lfq_notify_readable(pointers, 1), LFQ_ERR_WRONG_KIND);
    CHECK_STATUS(lfq_notify_writable(pointers, 1), LFQ_ERR_WRONG_KIND);
    CHECK_STATUS(lfq_notify_readable(NULL, 1), LFQ_ERR_INVALID_ARGUMENT);
    lfq_destroy(ring);
    lfq_destroy(queue);
    lfq_destroy(pointers);
}

/* Mapped and library calls share one ring over many laps (capacity 3 has a gap between laps):
 * each side sees the other's messages, in order, and a heap message crosses over intact. */
static void test_ring_map_interoperates(void) {
    lfq_options o = bytes_options(0);
    lfq_queue *q = NULL;
    CHECK_OK(lfq_ring_new(3, &o, &q));
    lfq_ring_map m;
    CHECK_OK(lfq_map_ring(q, &m));
    uint8_t buf[200];
    lfq_message got;
    for (unsigned i = 0; i < 30; i++) {
        size_t n = i % (LFQ_INLINE_MESSAGE_SIZE + 1);
        fill(buf, n, i);
        CHECK(map_send(q, &m, buf, n) == 1);
        CHECK_SIZE(lfq_len(q), 1);
        CHECK_OK(lfq_recv(q, &got, 0));
        CHECK(got.size == n && matches(lfq_message_data(&got), n, i));
        lfq_message_release(&got, 1);

        size_t big = i % 2 ? sizeof buf : n; /* odd rounds need the heap */
        fill(buf, big, i + 1000);
        CHECK_OK(lfq_send(q, buf, big, 0));
        CHECK(map_recv(q, &m, &got) == 1);
        CHECK(got.size == big && matches(lfq_message_data(&got), big, i + 1000));
        CHECK((got.heap != NULL) == (big > LFQ_INLINE_MESSAGE_SIZE));
        lfq_message_release(&got, 1);
    }
    /* Full and empty send the mapped side to the library, which reports them. */
    for (unsigned i = 0; i < 3; i++) CHECK(map_send(q, &m, "x", 1) == 1);
    CHECK(map_send(q, &m, "x", 1) == 0);
    CHECK_STATUS(lfq_send(q, "x", 1, 0), LFQ_FULL);
    for (unsigned i = 0; i < 3; i++) {
        CHECK(map_recv(q, &m, &got) == 1);
        lfq_message_release(&got, 1);
    }
    CHECK(map_recv(q, &m, &got) == 0);
    CHECK_STATUS(lfq_recv(q, &got, 0), LFQ_EMPTY);
    /* Close shows in the tail word. */
    CHECK_OK(lfq_close(q));
    CHECK(map_send(q, &m, "x", 1) == 0);
    lfq_destroy(q);
}

typedef struct later_recv {
    lfq_queue *q;
    lfq_status result;
    int in_order; /* the four messages are those sent first, in order */
} later_recv;

static void *recv_four_later(void *arg) {
    later_recv *l = arg;
    lfq_message msgs[4];
    size_t count = 0;
    sleep_ms(20); /* let the sender find the ring full and wait */
    l->result = lfq_recv_bulk(l->q, msgs, 4, &count, -1);
    l->in_order = count == 4;
    for (size_t i = 0; i < count; i++)
        l->in_order &= matches(lfq_message_data(&msgs[i]), 300, (unsigned)i);
    lfq_message_release(msgs, count);
    return NULL;
}

/* Bursts of messages too long to sit inline: the library copies them before it pushes, and only
 * as many as can go in; the rest of the caller's list is neither sent nor leaked. */
static void test_bytes_burst_of_heap_messages(void) {
    lfq_options o = bytes_options(1000);
    lfq_queue *r = NULL;
    CHECK_OK(lfq_ring_new(4, &o, &r));
    enum { N = 10, SIZE = 300 };
    size_t sizes[N];
    uint8_t data[N * SIZE];
    for (size_t i = 0; i < N; i++) {
        sizes[i] = SIZE;
        fill(data + i * SIZE, SIZE, (unsigned)i);
    }
    size_t count = 99;
    CHECK_OK(lfq_send_burst(r, data, sizes, 2, &count, 0)); /* room for 2 more */
    CHECK_SIZE(count, 2);
    CHECK_OK(lfq_send_burst(r, data + 2 * SIZE, sizes, N - 2, &count, 0));
    CHECK_SIZE(count, 2);
    CHECK_STATUS(lfq_send_burst(r, data, sizes, N, &count, 0), LFQ_FULL);
    CHECK_STATUS(lfq_send_burst(r, data, sizes, N, &count, 1 * MS), LFQ_TIMEOUT);
    CHECK_SIZE(count, 0);

    /* A burst that waits on a full ring sends what the wait frees, in order. */
    pthread_t t;
    later_recv later = {.q = r};
    CHECK(pthread_create(&t, NULL, recv_four_later, &later) == 0);
    CHECK_OK(lfq_send_burst(r, data, sizes, N, &count, -1));
    CHECK(count >= 1 && count <= 4);
    CHECK(pthread_join(t, NULL) == 0);
    CHECK_OK(later.result);
    CHECK(later.in_order);
    lfq_message msgs[4];
    size_t got = 0;
    CHECK_OK(lfq_recv_burst(r, msgs, 4, &got, 0));
    CHECK_SIZE(got, count);
    for (size_t i = 0; i < got; i++) CHECK(matches(lfq_message_data(&msgs[i]), SIZE, (unsigned)i));
    lfq_message_release(msgs, got);
    lfq_destroy(r);
}

typedef struct sleeping_recv {
    lfq_queue *q;
    lfq_message msg;
    lfq_status result;
    atomic_int done;
} sleeping_recv;

static void *sleeping_recv_main(void *arg) {
    sleeping_recv *r = arg;
    r->result = lfq_recv(r->q, &r->msg, 10000 * MS);
    atomic_store(&r->done, 1);
    return NULL;
}

/* A thread asleep in lfq_recv shows in readers_waiting, and a mapped send's
 * lfq_notify_readable wakes it long before its 10 s timeout. */
static void test_ring_map_wakes_sleepers(void) {
    lfq_options o = bytes_options(0);
    sleeping_recv r;
    memset(&r, 0, sizeof r);
    CHECK_OK(lfq_ring_new(4, &o, &r.q));
    lfq_ring_map m;
    CHECK_OK(lfq_map_ring(r.q, &m));
    pthread_t t;
    CHECK(pthread_create(&t, NULL, sleeping_recv_main, &r) == 0);
    int64_t deadline = now_ns() + 5000 * MS;
    while (__atomic_load_n(m.readers_waiting, __ATOMIC_SEQ_CST) == 0 && now_ns() < deadline)
        sleep_ms(1);
    CHECK(__atomic_load_n(m.readers_waiting, __ATOMIC_SEQ_CST) != 0);
    sleep_ms(20); /* past the library's spin, into the futex wait */
    CHECK(!atomic_load(&r.done));
    int64_t sent = now_ns();
    CHECK(map_send(r.q, &m, "wake", 4) == 1);
    CHECK(pthread_join(t, NULL) == 0);
    CHECK(now_ns() - sent < 2000 * MS);
    CHECK_OK(r.result);
    CHECK(r.msg.size == 4 && memcmp(lfq_message_data(&r.msg), "wake", 4) == 0);
    lfq_message_release(&r.msg, 1);
    lfq_destroy(r.q);
}

/* ------------------------------------------------------------------------------------------ */
/* Stress: 4 producers x 4 consumers, exactly once and per-producer order                      */

enum { PRODUCERS = 4, CONSUMERS = 4, STRESS_RING = 1024, BATCH = 16 };

typedef struct stress {
    lfq_queue *q;
    int bytes;
    int close_midway; /* lfq_close lands while producers are still pushing */
    size_t per_producer;
    _Atomic unsigned char *seen; /* times each item was received */
    atomic_int errors;
    atomic_size_t received;
} stress;

typedef struct stress_thread {
    stress *s;
    int id;
    size_t pushed; /* producers: how many of their items went in */
} stress_thread;

/* Message for global index `idx`: the index, then `len - 8` pattern bytes; 8..135 bytes, so
 * both inline and heap messages occur. */
static size_t message_len(size_t idx) { return 8 + (idx * 7919u) % 128u; }

static void make_message(uint8_t *out, size_t idx) {
    uint64_t v = idx;
    memcpy(out, &v, 8);
    fill(out + 8, message_len(idx) - 8, (unsigned)idx);
}

static void record(stress *s, size_t *last, size_t idx) {
    size_t total = s->per_producer * PRODUCERS;
    if (idx >= total) {
        atomic_fetch_add(&s->errors, 1);
        return;
    }
    size_t producer = idx / s->per_producer, seq = idx % s->per_producer;
    /* last[p] holds the next sequence number this consumer may see from producer p, at least. */
    if (seq < last[producer]) atomic_fetch_add(&s->errors, 1);
    last[producer] = seq + 1;
    atomic_fetch_add(&s->seen[idx], 1);
    atomic_fetch_add(&s->received, 1);
}

static void record_message(stress *s, size_t *last, const uint8_t *data, size_t size) {
    uint64_t idx;
    if (size < 8) {
        atomic_fetch_add(&s->errors, 1);
        return;
    }
    memcpy(&idx, data, 8);
    if (size != message_len(idx) || !matches(data + 8, size - 8, (unsigned)idx)) {
        atomic_fetch_add(&s->errors, 1);
        return;
    }
    record(s, last, idx);
}

static void *stress_producer(void *arg) {
    stress_thread *t = arg;
    stress *s = t->s;
    size_t first = (size_t)t->id * s->per_producer, end = first + s->per_producer;
    uint8_t data[BATCH * 136];
    size_t sizes[BATCH];
    void *items[BATCH];
    /* Producer 0 and 2 push one by one; 1 uses bulk, 3 burst. */
    size_t i = first;
    while (i < end) {
        size_t n = t->id % 2 == 0 ? 1 : (end - i < BATCH ? end - i : BATCH);
        size_t done = 0;
        lfq_status st;
        if (!s->bytes) {
            for (size_t k = 0; k < n; k++) items[k] = item(i + k);
            if (n == 1) {
                st = lfq_push(s->q, items[0], -1);
                done = st == LFQ_OK;
            } else if (t->id == 1) {
                st = lfq_push_bulk(s->q, items, n, &done, -1);
            } else {
                st = lfq_push_burst(s->q, items, n, &done, -1);
            }
        } else {
            size_t off = 0;
            for (size_t k = 0; k < n; k++) {
                make_message(data + off, i + k);
                sizes[k] = message_len(i + k);
                off += sizes[k];
            }
            if (n == 1) {
                st = lfq_send(s->q, data, sizes[0], -1);
                done = st == LFQ_OK;
            } else if (t->id == 1) {
                st = lfq_send_bulk(s->q, data, sizes, n, &done, -1);
            } else {
                st = lfq_send_burst(s->q, data, sizes, n, &done, -1);
            }
        }
        /* A bulk cut short by the close reports what it queued (an unbounded queue's bulk can be
         * cut where it spans segments); every other refused call queued nothing. */
        if (st == LFQ_CLOSED && s->close_midway) {
            t->pushed = i + done - first;
            return NULL;
        }
        if (st != LFQ_OK || done == 0) {
            atomic_fetch_add(&s->errors, 1);
            return NULL;
        }
        i += done;
    }
    t->pushed = i - first;
    return NULL;
}

static void *stress_consumer(void *arg) {
    stress_thread *t = arg;
    stress *s = t->s;
    size_t last[PRODUCERS] = {0};
    void *items[32];
    lfq_message msgs[32];
    static _Thread_local uint8_t buf[LFQ_DEFAULT_MAX_MESSAGE_SIZE];
    /* Consumer 0 pops one by one (blocking), 1 in bursts, 2 polls after wait_readable, 3 in
     * bulks of 8 and drains the last few with a burst once the queue is closed. */
    int bulk_closed = 0;
    for (;;) {
        lfq_status st;
        size_t n = 0;
        if (t->id == 2) {
            st = lfq_wait_readable(s->q, -1);
            if (st != LFQ_OK) goto done;
        }
        if (!s->bytes) {
            switch (t->id) {
            case 0: st = lfq_pop(s->q, &items[0], -1), n = st == LFQ_OK; break;
            case 1: st = lfq_pop_burst(s->q, items, 32, &n, -1); break;
            case 2: st = lfq_pop(s->q, &items[0], 0), n = st == LFQ_OK; break;
            default:
                st = bulk_closed ? lfq_pop_burst(s->q, items, 8, &n, -1)
                                 : lfq_pop_bulk(s->q, items, 8, &n, -1);
                break;
            }
            for (size_t k = 0; k < n; k++) record(s, last, (uintptr_t)items[k] - 1);
        } else {
            switch (t->id) {
            case 0: st = lfq_recv(s->q, &msgs[0], -1), n = st == LFQ_OK; break;
            case 1: st = lfq_recv_burst(s->q, msgs, 32, &n, -1); break;
            case 2: {
                size_t size = 0;
                st = lfq_recv_into(s->q, buf, sizeof buf, &size, 0);
                if (st == LFQ_OK) record_message(s, last, buf, size);
                break;
            }
            default:
                st = bulk_closed ? lfq_recv_burst(s->q, msgs, 8, &n, -1)
                                 : lfq_recv_bulk(s->q, msgs, 8, &n, -1);
                break;
            }
            for (size_t k = 0; k < n; k++)
                record_message(s, last, lfq_message_data(&msgs[k]), msgs[k].size);
            lfq_message_release(msgs, n);
        }
        if (st == LFQ_CLOSED && t->id == 3 && !bulk_closed) {
            bulk_closed = 1;
            continue;
        }
        if (st == LFQ_CLOSED) goto done;
        /* Another consumer may take the item between wait_readable and the poll. */
        if (st == LFQ_EMPTY && t->id == 2) continue;
        if (st != LFQ_OK) {
            fprintf(stderr, "  consumer %d: %s\n", t->id, lfq_strerror(st));
            atomic_fetch_add(&s->errors, 1);
            goto done;
        }
    }
done:
    return NULL;
}

static size_t stress_items(void) {
    const char *env = getenv("LFQ_TEST_STRESS_ITEMS");
    size_t n = env ? (size_t)strtoull(env, NULL, 10) : 1000000;
    n -= n % PRODUCERS;
    return n < PRODUCERS ? PRODUCERS : n;
}

static void run_stress(int ring, int bytes, int close_midway) {
    stress s;
    memset(&s, 0, sizeof s);
    size_t total = stress_items();
    s.per_producer = total / PRODUCERS;
    s.bytes = bytes;
    s.close_midway = close_midway;
    s.seen = calloc(total, 1);
    CHECK(s.seen != NULL);
    lfq_options o = bytes_options(0);
    lfq_options *opts = bytes ? &o : NULL;
    CHECK_OK(ring ? lfq_ring_new(STRESS_RING, opts, &s.q) : lfq_queue_new(opts, &s.q));

    pthread_t producers[PRODUCERS], consumers[CONSUMERS];
    stress_thread pt[PRODUCERS], ct[CONSUMERS];
    for (int i = 0; i < CONSUMERS; i++) {
        ct[i] = (stress_thread){&s, i, 0};
        CHECK(pthread_create(&consumers[i], NULL, stress_consumer, &ct[i]) == 0);
    }
    for (int i = 0; i < PRODUCERS; i++) {
        pt[i] = (stress_thread){&s, i, 0};
        CHECK(pthread_create(&producers[i], NULL, stress_producer, &pt[i]) == 0);
    }
    if (close_midway) {
        while (atomic_load(&s.received) < total / 4) sleep_ms(1);
        CHECK_OK(lfq_close(s.q));
    }
    for (int i = 0; i < PRODUCERS; i++) CHECK(pthread_join(producers[i], NULL) == 0);
    if (!close_midway) CHECK_OK(lfq_close(s.q));
    for (int i = 0; i < CONSUMERS; i++) CHECK(pthread_join(consumers[i], NULL) == 0);

    /* Exactly the items that went in came out, once each. */
    CHECK(atomic_load(&s.errors) == 0);
    size_t pushed = 0;
    for (int p = 0; p < PRODUCERS; p++) pushed += pt[p].pushed;
    CHECK_SIZE(atomic_load(&s.received), pushed);
    for (size_t i = 0; i < total; i++) {
        unsigned want = i % s.per_producer < pt[i / s.per_producer].pushed;
        if (atomic_load(&s.seen[i]) != want) fprintf(stderr, "  item %zu seen %d times\n", i, (int)s.seen[i]);
        CHECK(atomic_load(&s.seen[i]) == want);
    }
    CHECK_SIZE(lfq_len(s.q), 0);
    lfq_destroy(s.q);
    free((void *)s.seen);
}

static void test_stress_queue_pointer(void) { run_stress(0, 0, 0); }
static void test_stress_ring_pointer(void) { run_stress(1, 0, 0); }
static void test_stress_queue_bytes(void) { run_stress(0, 1, 0); }
static void test_stress_ring_bytes(void) { run_stress(1, 1, 0); }
/* lfq_close while every producer is still pushing (singly, in bulk and in bursts). */
static void test_close_amid_traffic_queue_pointer(void) { run_stress(0, 0, 1); }
static void test_close_amid_traffic_ring_pointer(void) { run_stress(1, 0, 1); }
static void test_close_amid_traffic_queue_bytes(void) { run_stress(0, 1, 1); }
static void test_close_amid_traffic_ring_bytes(void) { run_stress(1, 1, 1); }

int main(int argc, char **argv) {
    static const test_case tests[] = {
        TEST(test_version),
        TEST(test_strerror),
        TEST(test_create_and_query),
        TEST(test_pointer_fifo_queue),
        TEST(test_pointer_ring_capacity),
        TEST(test_pointer_bulk_and_burst),
        TEST(test_pointer_bulk_on_unbounded_queue),
        TEST(test_bulk_pushes_stay_together),
        TEST(test_pop_after_own_push_finds_an_item),
        TEST(test_unbounded_never_full),
        TEST(test_close_semantics),
        TEST(test_bulk_on_closed_short_queue),
        TEST(test_timeouts),
        TEST(test_close_wakes_blocked_threads),
        TEST(test_blocked_calls_complete),
        TEST(test_bytes_round_trip),
        TEST(test_bytes_recv_into),
        TEST(test_bytes_too_large),
        TEST(test_bytes_bulk_and_burst),
        TEST(test_bytes_burst_of_heap_messages),
        TEST(test_destroy_frees_messages),
        TEST(test_item_free_on_destroy),
        TEST(test_item_free_reentering_destroy_is_refused),
        TEST(test_null_handle),
        TEST(test_null_out_pointers),
        TEST(test_bad_capacity),
        TEST(test_bad_options),
        TEST(test_absurd_counts),
        TEST(test_visit),
        TEST(test_wrong_kind),
        TEST(test_ring_map_arguments),
        TEST(test_ring_map_interoperates),
        TEST(test_ring_map_wakes_sleepers),
        TEST(test_stress_queue_pointer),
        TEST(test_stress_ring_pointer),
        TEST(test_stress_queue_bytes),
        TEST(test_stress_ring_bytes),
        TEST(test_close_amid_traffic_queue_pointer),
        TEST(test_close_amid_traffic_ring_pointer),
        TEST(test_close_amid_traffic_queue_bytes),
        TEST(test_close_amid_traffic_ring_bytes),
    };
    return run_tests(tests, sizeof tests / sizeof tests[0], argc > 1 ? argv[1] : NULL);
}
