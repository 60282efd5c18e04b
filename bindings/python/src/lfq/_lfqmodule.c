/*
 * lfq._lfq: the CPython front end of liblfq.
 *
 * Every declaration of the engine comes from the generated include/lfq.h; this file only adapts it to
 * Python's object model. Design points, each explained where it matters below:
 *
 *  - Hot paths (put/get with no keyword arguments) make exactly one non-blocking C call while holding
 *    the GIL, so a put+get pair costs two method calls plus two queue operations.
 *  - Anything that has to wait releases the GIL and waits in slices of at most SLICE_NS, re-taking the
 *    GIL between slices to run signal handlers, so Ctrl-C interrupts a blocked call promptly.
 *  - Pointer queues hold a strong reference to every queued object; the reference travels with the
 *    item and is handed to whoever takes it. Leftovers are released when the queue is deallocated.
 *  - No lock of our own is held across an engine call, which makes SimpleQueue.put re-entrant (a put
 *    from __del__ or a signal handler during another put) without deadlock or reordering.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "lfq.h"

/* Longest stretch spent waiting without the GIL before checking for signals (50 ms). */
#define SLICE_NS INT64_C(50000000)
/*
 * How long a put held back by a lowered maxsize (PtrQueueObject.limited) naps before it checks again:
 * the engine has no event for "fewer than maxsize items", only for "the ring has room".
 */
#define LIMIT_NAP_NS INT64_C(1000000)
/* Status used internally when a signal handler raised while we were waiting. */
#define WAIT_INTERRUPTED (-1000)
/* How many items one engine call moves in the batch methods: bounded so stack buffers suffice. */
#define PTR_CHUNK 256
#define MSG_CHUNK 64
#define PACK_CHUNK_BYTES (256 * 1024)
#define PACK_STACK_BYTES (16 * 1024)

static PyObject *Empty;           /* queue.Empty itself */
static PyObject *Full;            /* queue.Full itself */
static PyObject *ShutDown;        /* lfq.ShutDown (subclass of queue.ShutDown where that exists) */
static PyObject *MessageTooLarge; /* lfq.MessageTooLarge(ValueError) */
static PyObject *put_name;        /* "put", interned */
static PyObject *get_name;        /* "get", interned */
static PyObject *block_kwname;    /* ("block",): the keyword of put_nowait's call of put */

/* ------------------------------------------------------------------------------------------------ */
/* Small helpers                                                                                    */

/* Forces inlining of shared helpers on put/get fast paths, so constant arguments fold away. */
#if defined(__GNUC__)
#define HOT_INLINE static inline __attribute__((always_inline))
#else
#define HOT_INLINE static inline
#endif

static int64_t
mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * INT64_C(1000000000) + ts.tv_nsec;
}

/*
 * Minimal vectorcall argument parser for the slow paths (keywords or optional arguments given).
 * Fills out[0..nnames) with borrowed references, NULL where an optional argument was not given.
 */
static int
parse_args(const char *fname, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
           const char *const *names, Py_ssize_t nnames, Py_ssize_t nrequired, PyObject **out)
{
    if (nargs > nnames) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most %zd positional arguments (%zd given)",
                     fname, nnames, nargs);
        return -1;
    }
    for (Py_ssize_t i = 0; i < nnames; i++) {
        out[i] = i < nargs ? args[i] : NULL;
    }
    Py_ssize_t nkw = kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames);
    for (Py_ssize_t k = 0; k < nkw; k++) {
        PyObject *key = PyTuple_GET_ITEM(kwnames, k);
        Py_ssize_t j = 0;
        while (j < nnames && PyUnicode_CompareWithASCIIString(key, names[j]) != 0) {
            j++;
        }
        if (j == nnames) {
            PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%U'", fname,
                         key);
            return -1;
        }
        if (out[j] != NULL) {
            PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%s'", fname,
                         names[j]);
            return -1;
        }
        out[j] = args[nargs + k];
    }
    for (Py_ssize_t i = 0; i < nrequired; i++) {
        if (out[i] == NULL) {
            PyErr_Format(PyExc_TypeError, "%s() missing required argument '%s'", fname, names[i]);
            return -1;
        }
    }
    return 0;
}

/*
 * Turns the (block, timeout) pair of the queue module into a wait budget: 0 = try once, -1 = wait
 * forever, > 0 = nanoseconds. NULL means "not given". Mirrors queue.Queue: a negative timeout is a
 * ValueError, but only when blocking (with block false the timeout is ignored, as in the stdlib).
 */
static int
parse_wait(PyObject *block, PyObject *timeout, int64_t *budget)
{
    if (block != NULL) {
        int truth = PyObject_IsTrue(block);
        if (truth < 0) {
            return -1;
        }
        if (!truth) {
            *budget = 0;
            return 0;
        }
    }
    if (timeout == NULL || timeout == Py_None) {
        *budget = -1;
        return 0;
    }
    double secs = PyFloat_AsDouble(timeout);
    if (secs == -1.0 && PyErr_Occurred()) {
        return -1;
    }
    if (isnan(secs) || secs < 0.0) {
        PyErr_SetString(PyExc_ValueError, "'timeout' must be a non-negative number");
        return -1;
    }
    /* Beyond ~285 years the nanosecond count would overflow int64: that is "forever" in practice. */
    if (secs > 9.0e9) {
        *budget = -1;
        return 0;
    }
    /* Round up so a tiny positive timeout still waits (0 would mean "don't wait at all"). */
    *budget = (int64_t)ceil(secs * 1e9);
    return 0;
}

/* Parses a max_items / max_messages argument: a positive int. */
static int
parse_max(PyObject *obj, const char *name, Py_ssize_t *out)
{
    Py_ssize_t v = PyNumber_AsSsize_t(obj, PyExc_OverflowError);
    if (v == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (v < 1) {
        PyErr_Format(PyExc_ValueError, "'%s' must be at least 1", name);
        return -1;
    }
    *out = v;
    return 0;
}

/* Absolute deadline for a budget; only meaningful for budget > 0. */
static int64_t
deadline_of(int64_t budget)
{
    return budget > 0 ? mono_ns() + budget : 0;
}

/* What is left of a budget at this moment: -1 forever, 0 spent, > 0 nanoseconds. */
static int64_t
remaining(int64_t budget, int64_t deadline)
{
    if (budget < 0) {
        return -1;
    }
    if (budget == 0) {
        return 0;
    }
    int64_t left = deadline - mono_ns();
    return left > 0 ? left : 0;
}

/*
 * Sets the Python exception for a failed engine call. `would_block` is the exception for "no item"
 * or "no room" (Empty or Full), which also covers an expired timeout.
 */
static void
set_status_error(int status, PyObject *would_block)
{
    switch (status) {
    case WAIT_INTERRUPTED:
        /* the signal handler's exception is already set */
        break;
    case LFQ_EMPTY:
    case LFQ_FULL:
    case LFQ_TIMEOUT:
        PyErr_SetNone(would_block);
        break;
    case LFQ_CLOSED:
        PyErr_SetString(ShutDown, "queue is shut down");
        break;
    case LFQ_ERR_TOO_LARGE:
        PyErr_SetString(MessageTooLarge, "message is larger than the queue's max_message_size");
        break;
    case LFQ_ERR_NO_MEMORY:
        PyErr_NoMemory();
        break;
    case LFQ_ERR_WRONG_KIND:
        PyErr_SetString(PyExc_TypeError, lfq_strerror((lfq_status)status));
        break;
    case LFQ_ERR_INVALID_ARGUMENT:
        PyErr_Format(PyExc_ValueError, "lfq: %s", lfq_strerror((lfq_status)status));
        break;
    default:
        PyErr_Format(PyExc_SystemError, "lfq: unexpected status %d (%s)", status,
                     lfq_strerror((lfq_status)status));
        break;
    }
}

/*
 * Repeats a blocking engine call with the GIL released, in slices of at most SLICE_NS, until it stops
 * reporting "not yet" or the budget (-1 = forever, > 0 = ns) is spent. Between slices the GIL is
 * re-taken to run signal handlers. Returns the final status, LFQ_TIMEOUT when the budget ran out, or
 * WAIT_INTERRUPTED with an exception set.
 */
typedef int (*attempt_fn)(void *ctx, int64_t timeout_ns);

static int
wait_released(attempt_fn attempt, void *ctx, int64_t budget)
{
    int64_t deadline = deadline_of(budget);
    for (;;) {
        int64_t slice = SLICE_NS;
        if (budget >= 0) {
            int64_t left = remaining(budget, deadline);
            if (left == 0) {
                return LFQ_TIMEOUT;
            }
            if (left < slice) {
                slice = left;
            }
        }
        int status;
        Py_BEGIN_ALLOW_THREADS
        status = attempt(ctx, slice);
        Py_END_ALLOW_THREADS
        if (status != LFQ_TIMEOUT && status != LFQ_EMPTY && status != LFQ_FULL) {
            return status;
        }
        if (PyErr_CheckSignals() < 0) {
            return WAIT_INTERRUPTED;
        }
    }
}

static int attempt_wait_readable(void *ctx, int64_t timeout_ns);

/*
 * A pointer queue's blocking take: waits without the GIL until `q` has an item, then makes the
 * attempt with the GIL held, until it takes something or the budget is spent. So objects leave a
 * pointer queue only while the GIL is held, which lets the cycle collector look inside queues
 * (ptrqueue_traverse) without a pop racing it.
 */
static int
wait_and_take(lfq_queue *q, attempt_fn attempt, void *ctx, int64_t budget)
{
    int64_t deadline = deadline_of(budget);
    for (;;) {
        int64_t left = remaining(budget, deadline);
        if (left == 0) {
            return LFQ_TIMEOUT;
        }
        int status = wait_released(attempt_wait_readable, q, left);
        if (status != LFQ_OK) {
            return status;
        }
        /* LFQ_EMPTY: another consumer was first; wait again */
        status = attempt(ctx, 0);
        if (status != LFQ_EMPTY) {
            return status;
        }
    }
}

/*
 * The first step of every get-style call: one attempt without waiting, then, if the queue was empty
 * and the budget allows, the wait: for a pointer queue (`ptr_q` set) wait_and_take, for a bytes
 * queue the attempt itself without the GIL. Any final status but LFQ_OK becomes the exception.
 */
HOT_INLINE int
take_or_wait(attempt_fn attempt, void *ctx, int64_t budget, lfq_queue *ptr_q)
{
    int status = attempt(ctx, 0);
    if (status == LFQ_EMPTY && budget != 0) {
        status = ptr_q != NULL ? wait_and_take(ptr_q, attempt, ctx, budget)
                               : wait_released(attempt, ctx, budget);
    }
    if (status != LFQ_OK) {
        set_status_error(status, Empty);
    }
    return status;
}

/* ------------------------------------------------------------------------------------------------ */
/* Engine calls packaged for wait_released and wait_and_take. None of them touches Python objects, */
/* so they may run without the GIL.                                                                  */

typedef struct {
    lfq_queue *q;
    void **item;
} pop_ctx;

static int
attempt_pop(void *ctx, int64_t timeout_ns)
{
    pop_ctx *c = ctx;
    return lfq_pop(c->q, c->item, timeout_ns);
}

static int
attempt_wait_readable(void *ctx, int64_t timeout_ns)
{
    return lfq_wait_readable((lfq_queue *)ctx, timeout_ns);
}

static int
attempt_wait_writable(void *ctx, int64_t timeout_ns)
{
    return lfq_wait_writable((lfq_queue *)ctx, timeout_ns);
}

typedef struct {
    lfq_queue *q;
    void **items;
    size_t n;
    size_t *done;
} ptr_batch_ctx;

static int
attempt_pop_burst(void *ctx, int64_t timeout_ns)
{
    ptr_batch_ctx *c = ctx;
    return lfq_pop_burst(c->q, c->items, c->n, c->done, timeout_ns);
}

typedef struct {
    lfq_queue *q;
    const void *data;
    size_t size;
} send_ctx;

static int
attempt_send(void *ctx, int64_t timeout_ns)
{
    send_ctx *c = ctx;
    return lfq_send(c->q, c->data, c->size, timeout_ns);
}

typedef struct {
    lfq_queue *q;
    lfq_message *msg;
} recv_ctx;

static int
attempt_recv(void *ctx, int64_t timeout_ns)
{
    recv_ctx *c = ctx;
    return lfq_recv(c->q, c->msg, timeout_ns);
}

typedef struct {
    lfq_queue *q;
    const void *data;
    const size_t *sizes;
    size_t n;
    size_t *sent;
} send_burst_ctx;

static int
attempt_send_burst(void *ctx, int64_t timeout_ns)
{
    send_burst_ctx *c = ctx;
    return lfq_send_burst(c->q, c->data, c->sizes, c->n, c->sent, timeout_ns);
}

typedef struct {
    lfq_queue *q;
    lfq_message *msgs;
    size_t n;
    size_t *received;
} recv_burst_ctx;

static int
attempt_recv_burst(void *ctx, int64_t timeout_ns)
{
    recv_burst_ctx *c = ctx;
    return lfq_recv_burst(c->q, c->msgs, c->n, c->received, timeout_ns);
}

/* ------------------------------------------------------------------------------------------------ */
/* What every queue type shares: a common leading struct, and the code that needs nothing more.    */

typedef struct {
    PyObject_HEAD
    lfq_queue *q;
    Py_ssize_t maxsize;     /* <= 0: unbounded */
    PyObject *weakreflist;
} QueueHead;

/*
 * Creates the engine queue behind `head`: a ring of `maxsize` slots when maxsize > 0, else an
 * unbounded queue. Shared by every __init__.
 */
static int
queue_create(QueueHead *head, Py_ssize_t maxsize, const lfq_options *options)
{
    lfq_queue *q = NULL;
    int status = maxsize > 0 ? lfq_ring_new((size_t)maxsize, options, &q)
                             : lfq_queue_new(options, &q);
    if (status != LFQ_OK) {
        if (status == LFQ_ERR_INVALID_ARGUMENT) {
            PyErr_Format(PyExc_ValueError, "maxsize %zd is too large for a bounded queue", maxsize);
        }
        else {
            set_status_error(status, Full);
        }
        return -1;
    }
    head->q = q;
    head->maxsize = maxsize;
    return 0;
}

/* `type_name` is how the error message names the type. */
static int
queue_ready(QueueHead *head, const char *type_name)
{
    if (head->q == NULL) {
        PyErr_Format(PyExc_RuntimeError, "%s object is not initialized (__init__ was not called)",
                     type_name);
        return 0;
    }
    return 1;
}

/* tp_dealloc's bookends: weak references go first, the memory last. */
static void
queue_clear_weakrefs(QueueHead *head)
{
    if (head->weakreflist != NULL) {
        PyObject_ClearWeakRefs((PyObject *)head);
    }
}

static void
queue_free(QueueHead *head)
{
    Py_TYPE(head)->tp_free((PyObject *)head);
}

static PyObject *
queue_qsize(QueueHead *self, PyObject *Py_UNUSED(ignored))
{
    return PyLong_FromSize_t(lfq_len(self->q));
}

static PyObject *
queue_empty(QueueHead *self, PyObject *Py_UNUSED(ignored))
{
    return PyBool_FromLong(lfq_len(self->q) == 0);
}

static PyObject *
queue_full(QueueHead *self, PyObject *Py_UNUSED(ignored))
{
    return PyBool_FromLong(self->maxsize > 0 && lfq_len(self->q) >= (size_t)self->maxsize);
}

/*
 * Arguments of put-style methods (the value, block, timeout): the common one-positional call takes
 * no parsing at all. block and timeout stay NULL when not given.
 */
HOT_INLINE int
parse_put_args(const char *fname, const char *const *names, PyObject *const *args,
               Py_ssize_t nargs, PyObject *kwnames, PyObject **value, PyObject **block,
               PyObject **timeout)
{
    if (nargs == 1 && kwnames == NULL) {
        *value = args[0];
        return 0;
    }
    PyObject *a[3];
    if (parse_args(fname, args, nargs, kwnames, names, 3, 1, a) < 0) {
        return -1;
    }
    *value = a[0];
    *block = a[1];
    *timeout = a[2];
    return 0;
}

static const char *const get_names[] = {"block", "timeout"};

/*
 * Arguments of get-style methods (block, timeout) as a wait budget; none given means "forever".
 * Returns -1 for bad arguments and -2 for a bad block/timeout value, with an exception set.
 */
HOT_INLINE int
parse_get_args(const char *fname, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
               int64_t *budget)
{
    *budget = -1;
    if (nargs == 0 && kwnames == NULL) {
        return 0;
    }
    PyObject *a[2];
    if (parse_args(fname, args, nargs, kwnames, get_names, 2, 0, a) < 0) {
        return -1;
    }
    return parse_wait(a[0], a[1], budget) < 0 ? -2 : 0;
}

/*
 * Arguments of the batch methods (first, block, timeout). With `max_name` set, the first argument
 * is a count checked by parse_max into *max_out (before block/timeout, so its error wins).
 */
static int
parse_batch_args(const char *fname, const char *const *names, PyObject *const *args,
                 Py_ssize_t nargs, PyObject *kwnames, const char *max_name, PyObject **first,
                 Py_ssize_t *max_out, int64_t *budget)
{
    PyObject *a[3];
    if (parse_args(fname, args, nargs, kwnames, names, 3, 1, a) < 0 ||
        (max_name != NULL && parse_max(a[0], max_name, max_out) < 0) ||
        parse_wait(a[1], a[2], budget) < 0) {
        return -1;
    }
    *first = a[0];
    return 0;
}

/* ------------------------------------------------------------------------------------------------ */
/* Pointer queues: lfq.Queue and lfq.SimpleQueue share one layout and most of their code.           */

typedef struct {
    QueueHead head;
    /* task_done()/join() bookkeeping; read and written only with the GIL held */
    Py_ssize_t unfinished;
    int shutdown;
    /*
     * Set while maxsize is a bound that the engine does not enforce: maxsize was assigned a value
     * below the ring's capacity, or a positive one on an unbounded queue. Puts then compare qsize()
     * with maxsize first. That check is exact: items enter and leave a pointer queue only with the
     * GIL held, so no put or get runs between the check and the push.
     */
    int limited;
    /*
     * join() sleeps on join_cv without the GIL. join_gen changes (under join_mu, with the GIL held)
     * whenever unfinished drops to zero, so a joiner that read it before releasing the GIL cannot
     * miss the wake-up.
     */
    uint64_t join_gen;
    pthread_mutex_t join_mu;
    pthread_cond_t join_cv;
    int sync_ready;
    PyObject *dict; /* instance attributes: lfq.Queue's only, as queue.Queue instances have them */
} PtrQueueObject;

static PyTypeObject QueueType;
static PyTypeObject SimpleQueueType;

/*
 * Releases a queued object left behind in a queue being destroyed. Only lfq_destroy calls it, and we
 * only call lfq_destroy from tp_dealloc, where the GIL is held.
 */
static void
release_item(void *item, void *context)
{
    (void)context;
    Py_DECREF((PyObject *)item);
}

/*
 * Objects left in queues being freed, waiting for their reference to be dropped.
 * An object dropped there may hold the last reference to another queue, whose own leftovers
 * would then be dropped one C frame deeper: a long chain of nested queues would overflow the C
 * stack. So the outermost dealloc drops them in a loop, and the deallocs it sets off only add
 * theirs to this list, as CPython's trashcan does for the containers of the cycle collector.
 * One list per thread: a __del__ run from the loop may release the GIL, and a queue freed by
 * another thread meanwhile must drop its items there and then, not hand them to this loop.
 */
static _Thread_local struct {
    PyObject **items;
    size_t len;
    size_t cap;
    int dropping;
} leftovers;

/* Makes room for n more leftovers; 0 if memory ran out. */
static int
leftovers_reserve(size_t n)
{
    if (leftovers.cap - leftovers.len >= n) {
        return 1;
    }
    size_t cap = leftovers.cap * 2 > leftovers.len + n ? leftovers.cap * 2 : leftovers.len + n;
    PyObject **items = PyMem_RawRealloc(leftovers.items, cap * sizeof *items);
    if (items == NULL) {
        return 0;
    }
    leftovers.items = items;
    leftovers.cap = cap;
    return 1;
}

/* Drops the deferred leftovers in the order they came, including those that dropping them
 * defers in turn (appended as it goes, so the list is read afresh on every step). */
static void
drop_deferred(void)
{
    for (size_t i = 0; i < leftovers.len; i++) {
        Py_DECREF(leftovers.items[i]);
    }
    leftovers.len = 0;
}

/* Empties q, dropping each queued object's reference, in queue order; see `leftovers`. */
static void
drop_leftovers(lfq_queue *q)
{
    int outermost = !leftovers.dropping;
    leftovers.dropping = 1;
    void *items[PTR_CHUNK];
    size_t n = 0;
    while (lfq_pop_burst(q, items, PTR_CHUNK, &n, 0) == LFQ_OK && n > 0) {
        if (!outermost && leftovers_reserve(n)) {
            memcpy(leftovers.items + leftovers.len, items, n * sizeof items[0]);
            leftovers.len += n;
            continue;
        }
        /* Outermost, or no memory to defer with: drop them here. */
        for (size_t i = 0; i < n; i++) {
            Py_DECREF((PyObject *)items[i]);
            if (outermost) {
                drop_deferred();
            }
        }
    }
    if (outermost) {
        leftovers.dropping = 0;
        PyMem_RawFree(leftovers.items);
        leftovers.items = NULL;
        leftovers.cap = 0;
    }
}

static PyObject *
ptrqueue_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    (void)args;
    (void)kwds;
    PtrQueueObject *self = (PtrQueueObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
#if !defined(__APPLE__)
    /* Timed waits measured on the monotonic clock are immune to wall-clock jumps. */
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
#endif
    int failed = pthread_cond_init(&self->join_cv, &attr);
    pthread_condattr_destroy(&attr);
    if (failed) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    if (pthread_mutex_init(&self->join_mu, NULL) != 0) {
        pthread_cond_destroy(&self->join_cv);
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    self->sync_ready = 1;
    return (PyObject *)self;
}

/* Creates the engine queue; shared by both __init__ methods. */
static int
ptrqueue_create(PtrQueueObject *self, Py_ssize_t maxsize)
{
    if (self->head.q != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "queue is already initialized");
        return -1;
    }
    lfq_options options;
    memset(&options, 0, sizeof options);
    options.payload = LFQ_PAYLOAD_POINTER;
    options.item_free = release_item;
    options.item_free_context = NULL;
    return queue_create(&self->head, maxsize, &options);
}

/* The cycle collector's view of a pointer queue: it references every object queued in it. */
typedef struct {
    visitproc visit;
    void *arg;
    int result;
} traverse_ctx;

static int
traverse_item(void *item, void *context)
{
    traverse_ctx *t = context;
    t->result = t->visit((PyObject *)item, t->arg);
    return t->result;
}

/*
 * lfq_visit needs no push or pop on the queue while it runs. The collector runs with the GIL held,
 * and objects enter and leave pointer queues only with the GIL held (puts, and wait_and_take for
 * blocking gets), so none does.
 */
static int
ptrqueue_traverse(PtrQueueObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->dict);
    traverse_ctx t = {visit, arg, 0};
    if (self->head.q != NULL) {
        lfq_visit(self->head.q, traverse_item, &t);
    }
    return t.result;
}

/* Breaks a reference cycle through the queue by dropping what it holds, as the stdlib's would. */
static int
ptrqueue_clear(PtrQueueObject *self)
{
    Py_CLEAR(self->dict);
    if (self->head.q != NULL) {
        drop_leftovers(self->head.q);
    }
    return 0;
}

static void
ptrqueue_dealloc(PtrQueueObject *self)
{
    PyObject_GC_UnTrack(self);
    queue_clear_weakrefs(&self->head);
    if (self->head.q != NULL) {
        /*
         * Drop leftovers ourselves first, outside any engine call, so that arbitrary __del__ code
         * they trigger never runs inside the engine; lfq_destroy's item_free is only the fallback.
         */
        drop_leftovers(self->head.q);
        lfq_destroy(self->head.q);
        self->head.q = NULL;
    }
    Py_CLEAR(self->dict);
    if (self->sync_ready) {
        pthread_mutex_destroy(&self->join_mu);
        pthread_cond_destroy(&self->join_cv);
    }
    queue_free(&self->head);
}

static int
ptrqueue_ready(PtrQueueObject *self)
{
    return queue_ready(&self->head, Py_TYPE(self)->tp_name);
}

/* Wakes every join() waiter; called with the GIL held whenever unfinished reaches zero. */
static void
notify_joiners(PtrQueueObject *self)
{
    pthread_mutex_lock(&self->join_mu);
    self->join_gen++;
    pthread_cond_broadcast(&self->join_cv);
    pthread_mutex_unlock(&self->join_mu);
}

/* Bookkeeping after `n` successful puts (GIL held, so it is atomic with the push itself). */
static inline void
count_puts(PtrQueueObject *self, Py_ssize_t n)
{
    self->unfinished += n;
}

/*
 * Waits (GIL released) until a full queue may have room, for what is left of the budget. Returns
 * LFQ_OK to try again, LFQ_FULL once the budget is spent, or the status that ended the wait.
 */
static int
wait_room(lfq_queue *q, int64_t budget, int64_t deadline)
{
    int64_t left = remaining(budget, deadline);
    if (left == 0) {
        return LFQ_FULL;
    }
    return wait_released(attempt_wait_writable, q, left);
}

/* How many more items fit before the queue holds maxsize; for a `limited` queue. */
static Py_ssize_t
room_below_limit(PtrQueueObject *self)
{
    size_t queued = lfq_len(self->head.q);
    size_t limit = (size_t)self->head.maxsize;
    return queued >= limit ? 0 : (Py_ssize_t)(limit - queued);
}

/*
 * wait_room for a put held back by a lowered maxsize: one nap (GIL released) of at most
 * LIMIT_NAP_NS. Returns LFQ_OK to try again, LFQ_FULL once the budget is spent, or
 * WAIT_INTERRUPTED with a signal handler's exception set.
 */
static int
wait_below_limit(int64_t budget, int64_t deadline)
{
    int64_t left = remaining(budget, deadline);
    if (left == 0) {
        return LFQ_FULL;
    }
    struct timespec nap = {0, (long)(left < 0 || left > LIMIT_NAP_NS ? LIMIT_NAP_NS : left)};
    Py_BEGIN_ALLOW_THREADS
    nanosleep(&nap, NULL);
    Py_END_ALLOW_THREADS
    return PyErr_CheckSignals() < 0 ? WAIT_INTERRUPTED : LFQ_OK;
}

/* Waits until a full pointer queue may have room; see wait_room. */
static int
ptrqueue_wait_room(PtrQueueObject *self, int64_t budget, int64_t deadline)
{
    return self->limited ? wait_below_limit(budget, deadline)
                         : wait_room(self->head.q, budget, deadline);
}

/* One push that does not wait, held to maxsize when the engine does not enforce it. */
HOT_INLINE int
ptrqueue_try_push(PtrQueueObject *self, PyObject *item)
{
    if (self->limited && room_below_limit(self) == 0) {
        return LFQ_FULL;
    }
    return lfq_push(self->head.q, item, 0);
}

/*
 * Put, after the fast attempt failed with FULL. Waiting happens without the GIL on "room available";
 * the push itself is retried with the GIL held so it stays atomic with the unfinished-task count (a
 * consumer's task_done() can then never run before the matching count_puts()).
 */
static PyObject *
ptrqueue_put_slow(PtrQueueObject *self, PyObject *item, PyObject *block, PyObject *timeout)
{
    int64_t budget;
    if (parse_wait(block, timeout, &budget) < 0) {
        return NULL;
    }
    int64_t deadline = deadline_of(budget);
    int status;
    Py_INCREF(item);
    for (;;) {
        if (self->shutdown) {
            status = LFQ_CLOSED;
            break;
        }
        status = ptrqueue_try_push(self, item);
        if (status == LFQ_OK) {
            count_puts(self, 1);
            Py_RETURN_NONE;
        }
        if (status != LFQ_FULL) {
            break;
        }
        status = ptrqueue_wait_room(self, budget, deadline);
        if (status != LFQ_OK) {
            break;
        }
    }
    Py_DECREF(item);
    set_status_error(status, Full);
    return NULL;
}

static const char *const put_names[] = {"item", "block", "timeout"};

PyDoc_STRVAR(Queue_put_doc,
"put(item, block=True, timeout=None)\n--\n\n"
"Put an item into the queue.\n\n"
"If the queue is bounded and full: with block true and timeout None, wait until a slot is free;\n"
"with a non-negative timeout, wait at most that many seconds and then raise Full; with block\n"
"false, raise Full at once. Raises ShutDown once shutdown() was called.");

/*
 * One put into a pointer queue, shared by both types' put() and put_nowait(). `counted`: the
 * item counts as an unfinished task (Queue). `may_wait`: a full queue waits per block/timeout
 * (Queue.put).
 * SimpleQueue never sets `shutdown`, so reporting it is Queue-only in effect.
 */
HOT_INLINE PyObject *
ptrqueue_push(PtrQueueObject *self, PyObject *item, int counted, int may_wait, PyObject *block,
              PyObject *timeout)
{
    Py_INCREF(item);
    int status = ptrqueue_try_push(self, item);
    if (status == LFQ_OK) {
        if (counted) {
            count_puts(self, 1);
        }
        Py_RETURN_NONE;
    }
    Py_DECREF(item);
    if (may_wait && status == LFQ_FULL && !self->shutdown) {
        return ptrqueue_put_slow(self, item, block, timeout);
    }
    if (ptrqueue_ready(self)) {
        set_status_error(self->shutdown ? LFQ_CLOSED : status, Full);
    }
    return NULL;
}

static PyObject *
Queue_put(PtrQueueObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *item, *block = NULL, *timeout = NULL;
    if (parse_put_args("put", put_names, args, nargs, kwnames, &item, &block, &timeout) < 0) {
        return NULL;
    }
    /* As in queue.Queue, block/timeout matter (and are validated) only for a bounded queue. */
    if ((block != NULL || timeout != NULL) && self->head.maxsize > 0 && !self->shutdown) {
        int64_t ignored;
        if (parse_wait(block, timeout, &ignored) < 0) {
            return NULL;
        }
    }
    return ptrqueue_push(self, item, 1, 1, block, timeout);
}

PyDoc_STRVAR(Queue_put_nowait_doc,
"put_nowait(item)\n--\n\n"
"Put an item without blocking; raise Full if there is no free slot. Same as put(item, False).");

static const char *const item_names[] = {"item"};

/* The item argument of put_nowait(item), also accepted by keyword as queue.Queue's is. */
HOT_INLINE int
parse_item_arg(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, PyObject **item)
{
    if (nargs == 1 && kwnames == NULL) {
        *item = args[0];
        return 0;
    }
    return parse_args("put_nowait", args, nargs, kwnames, item_names, 1, 1, item);
}

/*
 * queue.Queue's put_nowait and get_nowait call self.put(item, block=False) and
 * self.get(block=False), so a subclass or an instance attribute (say, a mock) that overrides put
 * or get sees every item there. Finds such an override: 1 with *method set (a new reference), 0
 * if `name` is still Queue's own `ours` (or self is a SimpleQueue), -1 with an exception set.
 */
static int
find_override(PtrQueueObject *self, PyObject *name, PyCFunction ours, PyObject **method)
{
    if (!PyObject_TypeCheck(self, &QueueType)) {
        return 0;
    }
    *method = PyObject_GetAttr((PyObject *)self, name);
    if (*method == NULL) {
        return -1;
    }
    if (PyCFunction_Check(*method) && PyCFunction_GET_FUNCTION(*method) == ours) {
        Py_CLEAR(*method);
        return 0;
    }
    return 1;
}

/* find_override, deciding at once for the plain types, which override nothing. */
HOT_INLINE int
overriding_method(PtrQueueObject *self, PyObject *name, PyCFunction ours, PyObject **method)
{
    if (Py_IS_TYPE((PyObject *)self, &QueueType) ? self->dict == NULL
                                                  : Py_IS_TYPE((PyObject *)self, &SimpleQueueType)) {
        return 0;
    }
    return find_override(self, name, ours, method);
}

/* Calls a subclass's put(item, block=False) or get(block=False): `args` ends with Py_False. */
static PyObject *
call_nonblocking(PyObject *method, PyObject *const *args, size_t nargs)
{
    PyObject *result = PyObject_Vectorcall(method, args, nargs, block_kwname);
    Py_DECREF(method);
    return result;
}

static PyObject *
Queue_put_nowait(PtrQueueObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *item, *put;
    if (parse_item_arg(args, nargs, kwnames, &item) < 0) {
        return NULL;
    }
    switch (overriding_method(self, put_name, (PyCFunction)(void (*)(void))Queue_put, &put)) {
    case 1: {
        PyObject *call_args[] = {item, Py_False};
        return call_nonblocking(put, call_args, 1);
    }
    case 0:
        return ptrqueue_push(self, item, 1, 0, NULL, NULL);
    default:
        return NULL;
    }
}

/* Get, after the fast attempt found the queue empty: waits without the GIL, takes with it. */
static PyObject *
ptrqueue_get_wait(PtrQueueObject *self, int64_t budget)
{
    void *item = NULL;
    pop_ctx ctx = {self->head.q, &item};
    int status = wait_and_take(self->head.q, attempt_pop, &ctx, budget);
    if (status == LFQ_OK) {
        /* the queue's reference becomes the caller's */
        return (PyObject *)item;
    }
    set_status_error(status, Empty);
    return NULL;
}

/* One get from a pointer queue, shared by both types' get() and get_nowait(); budget 0: no wait. */
HOT_INLINE PyObject *
ptrqueue_pop(PtrQueueObject *self, int64_t budget)
{
    void *item = NULL;
    int status = lfq_pop(self->head.q, &item, 0);
    if (status == LFQ_OK) {
        return (PyObject *)item;
    }
    if (status == LFQ_EMPTY && budget != 0) {
        return ptrqueue_get_wait(self, budget);
    }
    if (ptrqueue_ready(self)) {
        set_status_error(status, Empty);
    }
    return NULL;
}

PyDoc_STRVAR(Queue_get_doc,
"get(block=True, timeout=None)\n--\n\n"
"Remove and return an item from the queue.\n\n"
"With block true and timeout None, wait until an item is available; with a non-negative timeout,\n"
"wait at most that many seconds and then raise Empty; with block false, raise Empty at once.\n"
"After shutdown(), remaining items are still returned; then ShutDown is raised. The GIL is released\n"
"while waiting, and Ctrl-C interrupts the wait.");

static PyObject *
Queue_get(PtrQueueObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    int64_t budget;
    int parsed = parse_get_args("get", args, nargs, kwnames, &budget);
    if (parsed < 0) {
        /* queue.Queue reports a shut-down, drained queue before judging the timeout */
        if (parsed == -2 && self->shutdown && self->head.q != NULL && lfq_len(self->head.q) == 0) {
            PyErr_SetString(ShutDown, "queue is shut down");
        }
        return NULL;
    }
    return ptrqueue_pop(self, budget);
}

PyDoc_STRVAR(Queue_get_nowait_doc,
"get_nowait()\n--\n\n"
"Remove and return an item if one is immediately available, else raise Empty. Same as get(False).");

static PyObject *
Queue_get_nowait(PtrQueueObject *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *get;
    switch (overriding_method(self, get_name, (PyCFunction)(void (*)(void))Queue_get, &get)) {
    case 1: {
        PyObject *call_args[] = {Py_False};
        return call_nonblocking(get, call_args, 0);
    }
    case 0:
        return ptrqueue_pop(self, 0);
    default:
        return NULL;
    }
}

static const char *const put_many_names[] = {"items", "block", "timeout"};

PyDoc_STRVAR(Queue_put_many_doc,
"put_many(items, block=True, timeout=None)\n--\n\n"
"Put every item of an iterable, in order, moving up to 256 items per engine call.\n\n"
"Returns how many leading items were put. That is fewer than given only when block is false or the\n"
"timeout expired with the queue full, or the queue was shut down part-way; if it was shut down\n"
"before any item went in, ShutDown is raised. Each item put counts as an unfinished task.\n"
"The iterable is read whole before the first put, so after a short count only a sequence still\n"
"holds the items that were not put.");

static PyObject *
Queue_put_many(PtrQueueObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *items_arg;
    int64_t budget;
    if (parse_batch_args("put_many", put_many_names, args, nargs, kwnames, NULL, &items_arg, NULL,
                         &budget) < 0 ||
        !ptrqueue_ready(self)) {
        return NULL;
    }
    PyObject *seq = PySequence_Fast(items_arg, "put_many() expects an iterable");
    if (seq == NULL) {
        return NULL;
    }
    Py_ssize_t total = PySequence_Fast_GET_SIZE(seq);
    int64_t deadline = deadline_of(budget);
    Py_ssize_t done = 0;
    int status = LFQ_OK;
    while (done < total) {
        if (self->shutdown) {
            status = LFQ_CLOSED;
            break;
        }
        /* Re-read the item array each round: __del__ code run by a DECREF could mutate a list. */
        Py_ssize_t n = PySequence_Fast_GET_SIZE(seq) - done;
        if (n <= 0) {
            break;
        }
        if (n > PTR_CHUNK) {
            n = PTR_CHUNK;
        }
        if (self->limited) {
            Py_ssize_t room = room_below_limit(self);
            n = n < room ? n : room;
        }
        status = LFQ_FULL;
        if (n > 0) {
            PyObject **src = PySequence_Fast_ITEMS(seq) + done;
            void *items[PTR_CHUNK];
            for (Py_ssize_t i = 0; i < n; i++) {
                Py_INCREF(src[i]);
                items[i] = src[i];
            }
            size_t pushed = 0;
            status = lfq_push_burst(self->head.q, items, (size_t)n, &pushed, 0);
            count_puts(self, (Py_ssize_t)pushed);
            done += (Py_ssize_t)pushed;
            for (Py_ssize_t i = (Py_ssize_t)pushed; i < n; i++) {
                Py_DECREF((PyObject *)items[i]);
            }
        }
        if (status == LFQ_OK) {
            continue;
        }
        if (status != LFQ_FULL) {
            break;
        }
        status = ptrqueue_wait_room(self, budget, deadline);
        if (status != LFQ_OK) {
            break;
        }
    }
    Py_DECREF(seq);
    /* A short count answers "full" and "closed part-way"; errors and "closed, none put" raise. */
    if (status < 0 || (status == LFQ_CLOSED && done == 0)) {
        set_status_error(status, Full);
        return NULL;
    }
    return PyLong_FromSsize_t(done);
}

/* Moves popped references into `list`; on failure releases the ones it could not move. */
static int
append_items(PyObject *list, void **items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        PyObject *obj = items[i];
        int failed = PyList_Append(list, obj);
        Py_DECREF(obj);
        if (failed) {
            for (size_t j = i + 1; j < n; j++) {
                Py_DECREF((PyObject *)items[j]);
            }
            return -1;
        }
    }
    return 0;
}

static const char *const get_many_names[] = {"max_items", "block", "timeout"};

PyDoc_STRVAR(Queue_get_many_doc,
"get_many(max_items, block=True, timeout=None)\n--\n\n"
"Remove and return up to max_items items as a list, oldest first.\n\n"
"Waits like get() for the first item (raising Empty or ShutDown as get() would), then takes\n"
"whatever else is already queued, up to max_items, without waiting further.");

static PyObject *
Queue_get_many(PtrQueueObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *ignored;
    int64_t budget;
    Py_ssize_t max_items;
    if (parse_batch_args("get_many", get_many_names, args, nargs, kwnames, "max_items", &ignored,
                         &max_items, &budget) < 0 ||
        !ptrqueue_ready(self)) {
        return NULL;
    }
    void *items[PTR_CHUNK];
    size_t chunk = max_items < PTR_CHUNK ? (size_t)max_items : PTR_CHUNK;
    size_t got = 0;
    ptr_batch_ctx ctx = {self->head.q, items, chunk, &got};
    if (take_or_wait(attempt_pop_burst, &ctx, budget, self->head.q) != LFQ_OK) {
        return NULL;
    }
    /* The first batch fills a list of exactly its size; later ones (rare) are appended. */
    PyObject *list = PyList_New((Py_ssize_t)got);
    if (list == NULL) {
        for (size_t i = 0; i < got; i++) {
            Py_DECREF((PyObject *)items[i]);
        }
        return NULL;
    }
    for (size_t i = 0; i < got; i++) {
        PyList_SET_ITEM(list, (Py_ssize_t)i, (PyObject *)items[i]);
    }
    for (;;) {
        Py_ssize_t left = max_items - PyList_GET_SIZE(list);
        if (got < chunk || left <= 0) {
            break;
        }
        chunk = left < PTR_CHUNK ? (size_t)left : PTR_CHUNK;
        if (lfq_pop_burst(self->head.q, items, chunk, &got, 0) != LFQ_OK || got == 0) {
            break;
        }
        if (append_items(list, items, got) < 0) {
            Py_DECREF(list);
            return NULL;
        }
    }
    return list;
}

PyDoc_STRVAR(Queue_qsize_doc,
"qsize()\n--\n\n"
"Return the approximate number of queued items (exact when no other thread is using the queue).");

PyDoc_STRVAR(Queue_empty_doc,
"empty()\n--\n\n"
"Return True if the queue is empty (approximate, like qsize()).");

PyDoc_STRVAR(Queue_full_doc,
"full()\n--\n\n"
"Return True if the queue is bounded and holds maxsize items (approximate, like qsize()).");

PyDoc_STRVAR(Queue_task_done_doc,
"task_done()\n--\n\n"
"Mark one formerly queued item as processed, for join().\n\n"
"Raises ValueError if called more times than there were items put.");

static PyObject *
Queue_task_done(PtrQueueObject *self, PyObject *Py_UNUSED(ignored))
{
    if (self->unfinished <= 0) {
        PyErr_SetString(PyExc_ValueError, "task_done() called too many times");
        return NULL;
    }
    if (--self->unfinished == 0) {
        notify_joiners(self);
    }
    Py_RETURN_NONE;
}

PyDoc_STRVAR(Queue_join_doc,
"join()\n--\n\n"
"Block until every item ever put has been matched by a task_done() call (or discarded by\n"
"shutdown(immediate=True)). The GIL is released while waiting, and Ctrl-C interrupts the wait.");

static PyObject *
Queue_join(PtrQueueObject *self, PyObject *Py_UNUSED(ignored))
{
    while (self->unfinished > 0) {
        uint64_t seen = self->join_gen;
        Py_BEGIN_ALLOW_THREADS
        pthread_mutex_lock(&self->join_mu);
        if (self->join_gen == seen) {
            struct timespec until;
#if defined(__APPLE__)
            clock_gettime(CLOCK_REALTIME, &until);
#else
            clock_gettime(CLOCK_MONOTONIC, &until);
#endif
            until.tv_nsec += (long)SLICE_NS;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec += 1;
                until.tv_nsec -= 1000000000L;
            }
            /* one slice at most: spurious wake-ups and timeouts both just re-check the count */
            pthread_cond_timedwait(&self->join_cv, &self->join_mu, &until);
        }
        pthread_mutex_unlock(&self->join_mu);
        Py_END_ALLOW_THREADS
        if (PyErr_CheckSignals() < 0) {
            return NULL;
        }
    }
    Py_RETURN_NONE;
}

static const char *const shutdown_names[] = {"immediate"};

PyDoc_STRVAR(Queue_shutdown_doc,
"shutdown(immediate=False)\n--\n\n"
"Shut the queue down, as queue.Queue.shutdown() does in Python 3.13.\n\n"
"Afterwards put() raises ShutDown, and get() raises ShutDown once the queue is empty; blocked\n"
"callers wake up. With immediate true the queued items are discarded at once (each counting as a\n"
"finished task), so blocked get() and join() calls return promptly.");

static PyObject *
Queue_shutdown(PtrQueueObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *a[1];
    if (parse_args("shutdown", args, nargs, kwnames, shutdown_names, 1, 0, a) < 0 ||
        !ptrqueue_ready(self)) {
        return NULL;
    }
    int immediate = 0;
    if (a[0] != NULL && (immediate = PyObject_IsTrue(a[0])) < 0) {
        return NULL;
    }
    self->shutdown = 1;
    /* Closing wakes getters and putters blocked in the engine; getters still drain what is left. */
    lfq_close(self->head.q);
    if (immediate) {
        void *items[PTR_CHUNK];
        size_t n = 0;
        while (lfq_pop_burst(self->head.q, items, PTR_CHUNK, &n, 0) == LFQ_OK && n > 0) {
            for (size_t i = 0; i < n; i++) {
                if (self->unfinished > 0) {
                    self->unfinished--;
                }
                Py_DECREF((PyObject *)items[i]);
            }
        }
        notify_joiners(self);
    }
    Py_RETURN_NONE;
}

static PyObject *
Queue_get_unfinished(PtrQueueObject *self, void *Py_UNUSED(closure))
{
    return PyLong_FromSsize_t(self->unfinished);
}

static PyObject *
Queue_get_is_shutdown(PtrQueueObject *self, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(self->shutdown);
}

static PyObject *
Queue_get_maxsize(PtrQueueObject *self, void *Py_UNUSED(closure))
{
    return PyLong_FromSsize_t(self->head.maxsize);
}

/*
 * As in queue.Queue, maxsize may be changed at any time; it applies to the puts that follow. A ring
 * cannot grow, so a bounded queue takes values from 1 up to the capacity it was created with.
 */
static int
Queue_set_maxsize(PtrQueueObject *self, PyObject *value, void *Py_UNUSED(closure))
{
    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "cannot delete maxsize");
        return -1;
    }
    /* NULL: a huge int clips to PY_SSIZE_T_MAX, which bounds nothing, like the stdlib's. */
    Py_ssize_t maxsize = PyNumber_AsSsize_t(value, NULL);
    if ((maxsize == -1 && PyErr_Occurred()) || !ptrqueue_ready(self)) {
        return -1;
    }
    size_t capacity = lfq_capacity(self->head.q);
    if (capacity > 0 && (maxsize <= 0 || (size_t)maxsize > capacity)) {
        PyErr_Format(PyExc_ValueError,
                     "maxsize of a bounded lfq.Queue must be between 1 and the %zu it was created "
                     "with (its ring cannot grow), got %zd",
                     capacity, maxsize);
        return -1;
    }
    self->head.maxsize = maxsize;
    self->limited = maxsize > 0 && (capacity == 0 || (size_t)maxsize < capacity);
    return 0;
}

static int
Queue_init(PtrQueueObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"maxsize", NULL};
    Py_ssize_t maxsize = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|n:Queue", kwlist, &maxsize)) {
        return -1;
    }
    return ptrqueue_create(self, maxsize);
}

/*
 * queue.Queue subclasses customise storage through the hooks _init, _qsize, _put and _get. lfq.Queue
 * stores items in the engine and never calls them, so a subclass that defines one is refused when
 * it is created, instead of losing its behaviour without a word.
 */
static PyObject *
Queue_init_subclass(PyObject *cls, PyObject *args, PyObject *kwargs)
{
    static const char *const hooks[] = {"_init", "_qsize", "_put", "_get"};
    /* Every class of the MRO: a mixin listed before lfq.Queue could bring a hook too. */
    PyObject *mro = ((PyTypeObject *)cls)->tp_mro;
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(mro); k++) {
        PyTypeObject *base = (PyTypeObject *)PyTuple_GET_ITEM(mro, k);
        /* NULL for CPython's own static types (object) since 3.12; they define no hooks. */
        if (base->tp_dict == NULL) {
            continue;
        }
        for (size_t i = 0; i < sizeof hooks / sizeof hooks[0]; i++) {
            if (PyDict_GetItemString(base->tp_dict, hooks[i]) != NULL) {
                PyErr_Format(PyExc_TypeError,
                             "%s defines %s, which lfq.Queue never calls (its items live in the "
                             "lock-free engine); subclass queue.Queue to customise storage",
                             base->tp_name, hooks[i]);
                return NULL;
            }
        }
    }
    /* Hand on to the next class in the MRO, as a Python __init_subclass__ calling super() does. */
    PyObject *next = PyObject_CallFunctionObjArgs((PyObject *)&PySuper_Type, (PyObject *)&QueueType,
                                                  cls, NULL);
    if (next == NULL) {
        return NULL;
    }
    PyObject *method = PyObject_GetAttrString(next, "__init_subclass__");
    Py_DECREF(next);
    if (method == NULL) {
        return NULL;
    }
    PyObject *result = PyObject_Call(method, args, kwargs);
    Py_DECREF(method);
    return result;
}

static PyMethodDef Queue_methods[] = {
    {"__init_subclass__", (PyCFunction)(void (*)(void))Queue_init_subclass,
     METH_VARARGS | METH_KEYWORDS | METH_CLASS,
     PyDoc_STR("Refuse subclasses that define the storage hooks lfq.Queue does not call.")},
    {"put", (PyCFunction)(void (*)(void))Queue_put, METH_FASTCALL | METH_KEYWORDS, Queue_put_doc},
    {"get", (PyCFunction)(void (*)(void))Queue_get, METH_FASTCALL | METH_KEYWORDS, Queue_get_doc},
    {"put_nowait", (PyCFunction)(void (*)(void))Queue_put_nowait, METH_FASTCALL | METH_KEYWORDS,
     Queue_put_nowait_doc},
    {"get_nowait", (PyCFunction)Queue_get_nowait, METH_NOARGS, Queue_get_nowait_doc},
    {"put_many", (PyCFunction)(void (*)(void))Queue_put_many, METH_FASTCALL | METH_KEYWORDS,
     Queue_put_many_doc},
    {"get_many", (PyCFunction)(void (*)(void))Queue_get_many, METH_FASTCALL | METH_KEYWORDS,
     Queue_get_many_doc},
    {"qsize", (PyCFunction)queue_qsize, METH_NOARGS, Queue_qsize_doc},
    {"empty", (PyCFunction)queue_empty, METH_NOARGS, Queue_empty_doc},
    {"full", (PyCFunction)queue_full, METH_NOARGS, Queue_full_doc},
    {"task_done", (PyCFunction)Queue_task_done, METH_NOARGS, Queue_task_done_doc},
    {"join", (PyCFunction)Queue_join, METH_NOARGS, Queue_join_doc},
    {"shutdown", (PyCFunction)(void (*)(void))Queue_shutdown, METH_FASTCALL | METH_KEYWORDS,
     Queue_shutdown_doc},
    {"__class_getitem__", Py_GenericAlias, METH_O | METH_CLASS,
     PyDoc_STR("Return a generic alias, so Queue[int] works in annotations.")},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Queue_getset[] = {
    {"maxsize", (getter)Queue_get_maxsize, (setter)Queue_set_maxsize,
     PyDoc_STR("Upper bound on the queue size; <= 0 means unbounded. Assignable, as in queue.Queue:\n"
               "a bounded queue takes 1 up to the maxsize it was created with."),
     NULL},
    {"unfinished_tasks", (getter)Queue_get_unfinished, NULL,
     PyDoc_STR("Number of items put and not yet matched by task_done()."), NULL},
    {"is_shutdown", (getter)Queue_get_is_shutdown, NULL,
     PyDoc_STR("True once shutdown() has been called."), NULL},
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyDoc_STRVAR(Queue_doc,
"Queue(maxsize=0)\n--\n\n"
"A FIFO queue of Python objects with the API of queue.Queue, backed by liblfq.\n\n"
"maxsize <= 0 gives an unbounded queue; maxsize > 0 a bounded ring of exactly that many slots\n"
"(allocated up front). Blocking calls release the GIL while they wait.");

static PyTypeObject QueueType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "lfq.Queue",
    .tp_basicsize = sizeof(PtrQueueObject),
    .tp_dealloc = (destructor)ptrqueue_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = Queue_doc,
    .tp_traverse = (traverseproc)ptrqueue_traverse,
    .tp_clear = (inquiry)ptrqueue_clear,
    .tp_weaklistoffset = offsetof(PtrQueueObject, head.weakreflist),
    .tp_dictoffset = offsetof(PtrQueueObject, dict),
    .tp_methods = Queue_methods,
    .tp_getset = Queue_getset,
    .tp_init = (initproc)Queue_init,
    .tp_new = ptrqueue_new,
};

/* ---- SimpleQueue ---- */

PyDoc_STRVAR(SimpleQueue_put_doc,
"put(item, block=True, timeout=None)\n--\n\n"
"Put an item into the queue. Never blocks; block and timeout exist for compatibility with\n"
"queue.SimpleQueue and are ignored. Safe to call re-entrantly (from __del__ or a signal handler).");

static PyObject *
SimpleQueue_put(PtrQueueObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *item, *block = NULL, *timeout = NULL;
    if (parse_put_args("put", put_names, args, nargs, kwnames, &item, &block, &timeout) < 0) {
        return NULL;
    }
    /* block and timeout are accepted for compatibility and ignored: put never waits */
    return ptrqueue_push(self, item, 0, 0, NULL, NULL);
}

PyDoc_STRVAR(SimpleQueue_put_nowait_doc,
"put_nowait(item)\n--\n\n"
"Put an item into the queue; same as put(item).");

static PyObject *
SimpleQueue_put_nowait(PtrQueueObject *self, PyObject *const *args, Py_ssize_t nargs,
                       PyObject *kwnames)
{
    PyObject *item;
    if (parse_item_arg(args, nargs, kwnames, &item) < 0) {
        return NULL;
    }
    return ptrqueue_push(self, item, 0, 0, NULL, NULL);
}

PyDoc_STRVAR(SimpleQueue_get_doc,
"get(block=True, timeout=None)\n--\n\n"
"Remove and return an item from the queue.\n\n"
"With block true and timeout None, wait until an item is available; with a non-negative timeout,\n"
"wait at most that many seconds and then raise Empty; with block false, raise Empty at once. The\n"
"GIL is released while waiting, and Ctrl-C interrupts the wait.");

static PyObject *
SimpleQueue_get(PtrQueueObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    int64_t budget;
    if (parse_get_args("get", args, nargs, kwnames, &budget) < 0) {
        return NULL;
    }
    return ptrqueue_pop(self, budget);
}

static int
SimpleQueue_init(PtrQueueObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, ":SimpleQueue", kwlist)) {
        return -1;
    }
    return ptrqueue_create(self, 0);
}

static PyMethodDef SimpleQueue_methods[] = {
    {"put", (PyCFunction)(void (*)(void))SimpleQueue_put, METH_FASTCALL | METH_KEYWORDS,
     SimpleQueue_put_doc},
    {"get", (PyCFunction)(void (*)(void))SimpleQueue_get, METH_FASTCALL | METH_KEYWORDS,
     SimpleQueue_get_doc},
    {"put_nowait", (PyCFunction)(void (*)(void))SimpleQueue_put_nowait,
     METH_FASTCALL | METH_KEYWORDS, SimpleQueue_put_nowait_doc},
    {"get_nowait", (PyCFunction)Queue_get_nowait, METH_NOARGS, Queue_get_nowait_doc},
    {"put_many", (PyCFunction)(void (*)(void))Queue_put_many, METH_FASTCALL | METH_KEYWORDS,
     PyDoc_STR("put_many(items, block=True, timeout=None)\n--\n\n"
               "Put every item of an iterable, in order, with one engine call per 256 items.\n"
               "Returns the number of items put (all of them).")},
    {"get_many", (PyCFunction)(void (*)(void))Queue_get_many, METH_FASTCALL | METH_KEYWORDS,
     Queue_get_many_doc},
    {"qsize", (PyCFunction)queue_qsize, METH_NOARGS, Queue_qsize_doc},
    {"empty", (PyCFunction)queue_empty, METH_NOARGS, Queue_empty_doc},
    {"__class_getitem__", Py_GenericAlias, METH_O | METH_CLASS,
     PyDoc_STR("Return a generic alias, so SimpleQueue[int] works in annotations.")},
    {NULL, NULL, 0, NULL},
};

PyDoc_STRVAR(SimpleQueue_doc,
"SimpleQueue()\n--\n\n"
"An unbounded FIFO queue of Python objects with the API of queue.SimpleQueue, backed by liblfq.\n\n"
"put() never blocks and is re-entrant; get() releases the GIL while it waits.");

static PyTypeObject SimpleQueueType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "lfq.SimpleQueue",
    .tp_basicsize = sizeof(PtrQueueObject),
    .tp_dealloc = (destructor)ptrqueue_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = SimpleQueue_doc,
    .tp_traverse = (traverseproc)ptrqueue_traverse,
    .tp_clear = (inquiry)ptrqueue_clear,
    .tp_weaklistoffset = offsetof(PtrQueueObject, head.weakreflist),
    .tp_methods = SimpleQueue_methods,
    .tp_init = (initproc)SimpleQueue_init,
    .tp_new = ptrqueue_new,
};

/* ------------------------------------------------------------------------------------------------ */
/* BytesQueue: copied byte messages (the engine's bytes payload), shareable with other languages.  */

typedef struct {
    QueueHead head;
    size_t max_message_size;
} BytesQueueObject;

static int
BytesQueue_init(BytesQueueObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"maxsize", "max_message_size", NULL};
    Py_ssize_t maxsize = 0;
    Py_ssize_t max_message_size = LFQ_DEFAULT_MAX_MESSAGE_SIZE;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|nn:BytesQueue", kwlist, &maxsize,
                                     &max_message_size)) {
        return -1;
    }
    if (self->head.q != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "queue is already initialized");
        return -1;
    }
    if (max_message_size < 1 || (size_t)max_message_size > (size_t)LFQ_MAX_MESSAGE_SIZE_LIMIT) {
        PyErr_Format(PyExc_ValueError, "max_message_size must be between 1 and %zu, not %zd",
                     (size_t)LFQ_MAX_MESSAGE_SIZE_LIMIT, max_message_size);
        return -1;
    }
    lfq_options options;
    memset(&options, 0, sizeof options);
    options.payload = LFQ_PAYLOAD_BYTES;
    options.max_message_size = (size_t)max_message_size;
    if (queue_create(&self->head, maxsize, &options) < 0) {
        return -1;
    }
    self->max_message_size = lfq_max_message_size(self->head.q);
    return 0;
}

static void
BytesQueue_dealloc(BytesQueueObject *self)
{
    queue_clear_weakrefs(&self->head);
    /* Byte messages are plain memory owned by the engine: destroying frees them. */
    lfq_destroy(self->head.q);
    self->head.q = NULL;
    queue_free(&self->head);
}

static int
bytesqueue_ready(BytesQueueObject *self)
{
    return queue_ready(&self->head, "BytesQueue");
}

/* Builds a bytes object from a received message and releases the message either way. */
static PyObject *
message_to_bytes(lfq_message *msg)
{
    PyObject *b = PyBytes_FromStringAndSize((const char *)lfq_message_data(msg),
                                            (Py_ssize_t)msg->size);
    lfq_message_release(msg, 1);
    return b;
}

static int
get_message_buffer(BytesQueueObject *self, PyObject *obj, Py_buffer *view)
{
    if (PyObject_GetBuffer(obj, view, PyBUF_SIMPLE) < 0) {
        return -1;
    }
    if ((size_t)view->len > self->max_message_size) {
        PyErr_Format(MessageTooLarge, "message of %zd bytes exceeds max_message_size (%zu)",
                     view->len, self->max_message_size);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

static const char *const put_bytes_names[] = {"data", "block", "timeout"};

PyDoc_STRVAR(BytesQueue_put_bytes_doc,
"put_bytes(data, block=True, timeout=None)\n--\n\n"
"Copy a bytes-like object into the queue as one message.\n\n"
"Raises MessageTooLarge if it is longer than max_message_size, Full if the queue is bounded and\n"
"stays full (block false, or timeout expired), ShutDown once close() was called.");

static PyObject *
BytesQueue_put_bytes(BytesQueueObject *self, PyObject *const *args, Py_ssize_t nargs,
                     PyObject *kwnames)
{
    PyObject *data, *block = NULL, *timeout = NULL;
    if (parse_put_args("put_bytes", put_bytes_names, args, nargs, kwnames, &data, &block,
                       &timeout) < 0 ||
        !bytesqueue_ready(self)) {
        return NULL;
    }
    /* As Queue.put: block/timeout are validated on a bounded queue, full or not, and ignored
     * on an unbounded one, which is never full. */
    int64_t budget = -1;
    if ((block != NULL || timeout != NULL) && self->head.maxsize > 0 &&
        parse_wait(block, timeout, &budget) < 0) {
        return NULL;
    }
    Py_buffer view;
    if (get_message_buffer(self, data, &view) < 0) {
        return NULL;
    }
    int status = lfq_send(self->head.q, view.buf, (size_t)view.len, 0);
    if (status == LFQ_FULL && budget != 0) {
        /* The exported buffer stays valid (and cannot be resized) until PyBuffer_Release. */
        send_ctx ctx = {self->head.q, view.buf, (size_t)view.len};
        status = wait_released(attempt_send, &ctx, budget);
    }
    PyBuffer_Release(&view);
    if (status == LFQ_OK) {
        Py_RETURN_NONE;
    }
    set_status_error(status, Full);
    return NULL;
}

PyDoc_STRVAR(BytesQueue_get_bytes_doc,
"get_bytes(block=True, timeout=None)\n--\n\n"
"Remove the oldest message and return it as bytes.\n\n"
"Waits like queue.Queue.get(): raises Empty when nothing arrives in time (or at once with block\n"
"false), and ShutDown once the queue is closed and drained.");

static PyObject *
BytesQueue_get_bytes(BytesQueueObject *self, PyObject *const *args, Py_ssize_t nargs,
                     PyObject *kwnames)
{
    int64_t budget;
    if (parse_get_args("get_bytes", args, nargs, kwnames, &budget) < 0 ||
        !bytesqueue_ready(self)) {
        return NULL;
    }
    lfq_message msg;
    recv_ctx ctx = {self->head.q, &msg};
    if (take_or_wait(attempt_recv, &ctx, budget, NULL) != LFQ_OK) {
        return NULL;
    }
    return message_to_bytes(&msg);
}

static const char *const put_many_bytes_names[] = {"messages", "block", "timeout"};

PyDoc_STRVAR(BytesQueue_put_many_doc,
"put_many(messages, block=True, timeout=None)\n--\n\n"
"Copy every bytes-like object of an iterable into the queue, in order, packing up to 64 messages\n"
"into each engine call.\n\n"
"Every message is checked first (type and size), so a bad one raises before anything is sent.\n"
"Returns how many leading messages were sent: fewer than given only when block is false or the\n"
"timeout expired with the queue full, or the queue was closed part-way; if it was closed before\n"
"any went in, ShutDown is raised.");

static PyObject *
BytesQueue_put_many(BytesQueueObject *self, PyObject *const *args, Py_ssize_t nargs,
                    PyObject *kwnames)
{
    PyObject *messages;
    int64_t budget;
    if (parse_batch_args("put_many", put_many_bytes_names, args, nargs, kwnames, NULL, &messages,
                         NULL, &budget) < 0 ||
        !bytesqueue_ready(self)) {
        return NULL;
    }
    /* A private list: its items cannot change under us while we pack and send. */
    PyObject *seq = PySequence_List(messages);
    if (seq == NULL) {
        return NULL;
    }
    Py_ssize_t total = PyList_GET_SIZE(seq);
    for (Py_ssize_t i = 0; i < total; i++) {
        PyObject *obj = PyList_GET_ITEM(seq, i);
        if (PyBytes_CheckExact(obj)) {
            if ((size_t)PyBytes_GET_SIZE(obj) > self->max_message_size) {
                PyErr_Format(MessageTooLarge,
                             "message %zd of %zd bytes exceeds max_message_size (%zu)", i,
                             PyBytes_GET_SIZE(obj), self->max_message_size);
                Py_DECREF(seq);
                return NULL;
            }
            continue;
        }
        Py_buffer view;
        if (get_message_buffer(self, obj, &view) < 0) {
            Py_DECREF(seq);
            return NULL;
        }
        PyBuffer_Release(&view);
    }

    char stack_buf[PACK_STACK_BYTES];
    char *pack = stack_buf;
    size_t pack_cap = sizeof stack_buf;
    size_t sizes[MSG_CHUNK];
    int64_t deadline = deadline_of(budget);
    Py_ssize_t done = 0;
    int status = LFQ_OK;
    while (done < total) {
        /* Pack the next chunk: at most MSG_CHUNK messages and PACK_CHUNK_BYTES (but >= 1). */
        size_t n = 0, bytes = 0;
        int failed = 0;
        while (done + (Py_ssize_t)n < total && n < MSG_CHUNK) {
            Py_buffer view;
            if (PyObject_GetBuffer(PyList_GET_ITEM(seq, done + (Py_ssize_t)n), &view,
                                   PyBUF_SIMPLE) < 0) {
                failed = 1;
                break;
            }
            size_t len = (size_t)view.len;
            if (n > 0 && bytes + len > PACK_CHUNK_BYTES) {
                PyBuffer_Release(&view);
                break;
            }
            if (bytes + len > pack_cap) {
                size_t cap = bytes + len > PACK_CHUNK_BYTES ? bytes + len : PACK_CHUNK_BYTES;
                char *grown = PyMem_Malloc(cap);
                if (grown == NULL) {
                    PyBuffer_Release(&view);
                    PyErr_NoMemory();
                    failed = 1;
                    break;
                }
                memcpy(grown, pack, bytes);
                if (pack != stack_buf) {
                    PyMem_Free(pack);
                }
                pack = grown;
                pack_cap = cap;
            }
            memcpy(pack + bytes, view.buf, len);
            PyBuffer_Release(&view);
            sizes[n++] = len;
            bytes += len;
        }
        if (failed) {
            status = WAIT_INTERRUPTED;  /* an exception is set */
            break;
        }
        /* Send the chunk: one call when there is room, waiting (GIL released) when there is not. */
        size_t off = 0, first = 0;
        while (first < n) {
            size_t sent = 0;
            status = lfq_send_burst(self->head.q, pack + off, sizes + first, n - first, &sent, 0);
            if (status == LFQ_FULL && budget != 0) {
                int64_t left = remaining(budget, deadline);
                if (left != 0) {
                    send_burst_ctx ctx = {self->head.q, pack + off, sizes + first, n - first, &sent};
                    status = wait_released(attempt_send_burst, &ctx, left);
                }
            }
            for (size_t k = 0; k < sent; k++) {
                off += sizes[first + k];
            }
            first += sent;
            done += (Py_ssize_t)sent;
            if (status != LFQ_OK) {
                break;
            }
        }
        if (status != LFQ_OK) {
            break;
        }
    }
    if (pack != stack_buf) {
        PyMem_Free(pack);
    }
    Py_DECREF(seq);
    if (status == WAIT_INTERRUPTED || status < 0 || (status == LFQ_CLOSED && done == 0)) {
        set_status_error(status, Full);
        return NULL;
    }
    return PyLong_FromSsize_t(done);
}

static const char *const get_many_bytes_names[] = {"max_messages", "block", "timeout"};

PyDoc_STRVAR(BytesQueue_get_many_doc,
"get_many(max_messages, block=True, timeout=None)\n--\n\n"
"Remove up to max_messages messages and return them as a list of bytes, oldest first.\n\n"
"Waits like get_bytes() for the first message (raising Empty or ShutDown as it would), then takes\n"
"whatever else is already queued, up to max_messages, without waiting further.");

static PyObject *
BytesQueue_get_many(BytesQueueObject *self, PyObject *const *args, Py_ssize_t nargs,
                    PyObject *kwnames)
{
    PyObject *ignored;
    int64_t budget;
    Py_ssize_t max_messages;
    if (parse_batch_args("get_many", get_many_bytes_names, args, nargs, kwnames, "max_messages",
                         &ignored, &max_messages, &budget) < 0 ||
        !bytesqueue_ready(self)) {
        return NULL;
    }
    lfq_message msgs[MSG_CHUNK];
    size_t chunk = max_messages < MSG_CHUNK ? (size_t)max_messages : MSG_CHUNK;
    size_t got = 0;
    recv_burst_ctx ctx = {self->head.q, msgs, chunk, &got};
    if (take_or_wait(attempt_recv_burst, &ctx, budget, NULL) != LFQ_OK) {
        return NULL;
    }
    /* The first batch fills a list of exactly its size; later ones (rare) are appended. */
    PyObject *list = PyList_New((Py_ssize_t)got);
    if (list == NULL) {
        lfq_message_release(msgs, got);
        return NULL;
    }
    Py_ssize_t filled = 0;
    for (;;) {
        for (size_t i = 0; i < got; i++) {
            PyObject *b = message_to_bytes(&msgs[i]);
            int failed = b == NULL;
            if (!failed && filled < PyList_GET_SIZE(list)) {
                PyList_SET_ITEM(list, filled, b);
            }
            else if (!failed) {
                failed = PyList_Append(list, b) < 0;
                Py_DECREF(b);
            }
            if (failed) {
                /* out of memory: release what is left of this batch and give up */
                lfq_message_release(msgs + i + 1, got - i - 1);
                Py_DECREF(list);
                return NULL;
            }
            filled++;
        }
        Py_ssize_t left = max_messages - PyList_GET_SIZE(list);
        if (got < chunk || left <= 0) {
            break;
        }
        chunk = left < MSG_CHUNK ? (size_t)left : MSG_CHUNK;
        if (lfq_recv_burst(self->head.q, msgs, chunk, &got, 0) != LFQ_OK || got == 0) {
            break;
        }
    }
    return list;
}

PyDoc_STRVAR(BytesQueue_qsize_doc,
"qsize()\n--\n\n"
"Return the approximate number of queued messages.");

PyDoc_STRVAR(BytesQueue_empty_doc,
"empty()\n--\n\n"
"Return True if no message is queued (approximate).");

PyDoc_STRVAR(BytesQueue_full_doc,
"full()\n--\n\n"
"Return True if the queue is bounded and holds maxsize messages (approximate).");

PyDoc_STRVAR(BytesQueue_close_doc,
"close()\n--\n\n"
"Close the queue: further puts raise ShutDown, gets drain what is left and then raise ShutDown,\n"
"and blocked callers wake up. Returns True if this call closed it, False if it already was.");

static PyObject *
BytesQueue_close(BytesQueueObject *self, PyObject *Py_UNUSED(ignored))
{
    if (!bytesqueue_ready(self)) {
        return NULL;
    }
    return PyBool_FromLong(lfq_close(self->head.q) == LFQ_OK);
}

static PyObject *
BytesQueue_get_closed(BytesQueueObject *self, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(self->head.q != NULL && lfq_is_closed(self->head.q) == 1);
}

static PyObject *
BytesQueue_get_max_message_size(BytesQueueObject *self, void *Py_UNUSED(closure))
{
    return PyLong_FromSize_t(self->max_message_size);
}

static PyMethodDef BytesQueue_methods[] = {
    {"put_bytes", (PyCFunction)(void (*)(void))BytesQueue_put_bytes,
     METH_FASTCALL | METH_KEYWORDS, BytesQueue_put_bytes_doc},
    {"get_bytes", (PyCFunction)(void (*)(void))BytesQueue_get_bytes,
     METH_FASTCALL | METH_KEYWORDS, BytesQueue_get_bytes_doc},
    {"put_many", (PyCFunction)(void (*)(void))BytesQueue_put_many, METH_FASTCALL | METH_KEYWORDS,
     BytesQueue_put_many_doc},
    {"get_many", (PyCFunction)(void (*)(void))BytesQueue_get_many, METH_FASTCALL | METH_KEYWORDS,
     BytesQueue_get_many_doc},
    {"qsize", (PyCFunction)queue_qsize, METH_NOARGS, BytesQueue_qsize_doc},
    {"empty", (PyCFunction)queue_empty, METH_NOARGS, BytesQueue_empty_doc},
    {"full", (PyCFunction)queue_full, METH_NOARGS, BytesQueue_full_doc},
    {"close", (PyCFunction)BytesQueue_close, METH_NOARGS, BytesQueue_close_doc},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef BytesQueue_members[] = {
    {"maxsize", T_PYSSIZET, offsetof(BytesQueueObject, head.maxsize), READONLY,
     PyDoc_STR("The capacity in messages given at construction; <= 0 means unbounded.")},
    {NULL, 0, 0, 0, NULL},
};

static PyGetSetDef BytesQueue_getset[] = {
    {"closed", (getter)BytesQueue_get_closed, NULL, PyDoc_STR("True once close() was called."),
     NULL},
    {"max_message_size", (getter)BytesQueue_get_max_message_size, NULL,
     PyDoc_STR("The largest message, in bytes, that the queue accepts."), NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyDoc_STRVAR(BytesQueue_doc,
"BytesQueue(maxsize=0, max_message_size=65536)\n--\n\n"
"A FIFO queue of byte messages, copied in and out (liblfq's bytes payload).\n\n"
"maxsize <= 0 gives an unbounded queue, maxsize > 0 a ring of that many messages. Messages up to\n"
"max_message_size bytes (at most 1 GiB) are accepted; any bytes-like object can be put, and\n"
"bytes objects come out.");

static PyTypeObject BytesQueueType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "lfq.BytesQueue",
    .tp_basicsize = sizeof(BytesQueueObject),
    .tp_dealloc = (destructor)BytesQueue_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = BytesQueue_doc,
    .tp_weaklistoffset = offsetof(BytesQueueObject, head.weakreflist),
    .tp_methods = BytesQueue_methods,
    .tp_members = BytesQueue_members,
    .tp_getset = BytesQueue_getset,
    .tp_init = (initproc)BytesQueue_init,
    .tp_new = PyType_GenericNew,
};

/* ------------------------------------------------------------------------------------------------ */
/* Module                                                                                           */

PyDoc_STRVAR(lib_version_doc,
"lib_version()\n--\n\n"
"Return the version string of the linked liblfq engine.");

static PyObject *
lib_version(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    (void)module;
    return PyUnicode_FromString(lfq_version());
}

static PyMethodDef module_methods[] = {
    {"lib_version", lib_version, METH_NOARGS, lib_version_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef lfq_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "lfq._lfq",
    .m_doc = "Compiled core of the lfq package; import lfq instead.",
    .m_size = -1,
    .m_methods = module_methods,
};

static int
add_type(PyObject *module, const char *name, PyTypeObject *type)
{
    if (PyType_Ready(type) < 0) {
        return -1;
    }
    Py_INCREF(type);
    if (PyModule_AddObject(module, name, (PyObject *)type) < 0) {
        Py_DECREF(type);
        return -1;
    }
    return 0;
}

static int
add_object(PyObject *module, const char *name, PyObject *obj)
{
    Py_INCREF(obj);
    if (PyModule_AddObject(module, name, obj) < 0) {
        Py_DECREF(obj);
        return -1;
    }
    return 0;
}

PyMODINIT_FUNC
PyInit__lfq(void)
{
    PyObject *module = PyModule_Create(&lfq_module);
    if (module == NULL) {
        return NULL;
    }
    PyObject *queue_mod = PyImport_ImportModule("queue");
    if (queue_mod == NULL) {
        goto error;
    }
    Empty = PyObject_GetAttrString(queue_mod, "Empty");
    Full = PyObject_GetAttrString(queue_mod, "Full");
    /* Python 3.13 has queue.ShutDown: derive from it so `except queue.ShutDown` keeps working. */
    PyObject *shutdown_base = PyObject_GetAttrString(queue_mod, "ShutDown");
    if (shutdown_base == NULL) {
        PyErr_Clear();
        shutdown_base = PyExc_Exception;
        Py_INCREF(shutdown_base);
    }
    Py_DECREF(queue_mod);
    if (Empty == NULL || Full == NULL) {
        Py_XDECREF(shutdown_base);
        goto error;
    }
    ShutDown = PyErr_NewExceptionWithDoc(
        "lfq.ShutDown", "Raised by put()/get() on a queue that has been shut down (or closed).",
        shutdown_base, NULL);
    Py_DECREF(shutdown_base);
    MessageTooLarge = PyErr_NewExceptionWithDoc(
        "lfq.MessageTooLarge", "Raised when a byte message exceeds the queue's max_message_size.",
        PyExc_ValueError, NULL);
    put_name = PyUnicode_InternFromString("put");
    get_name = PyUnicode_InternFromString("get");
    block_kwname = Py_BuildValue("(s)", "block");
    if (ShutDown == NULL || MessageTooLarge == NULL || put_name == NULL || get_name == NULL ||
        block_kwname == NULL) {
        goto error;
    }
    if (add_object(module, "Empty", Empty) < 0 || add_object(module, "Full", Full) < 0 ||
        add_object(module, "ShutDown", ShutDown) < 0 ||
        add_object(module, "MessageTooLarge", MessageTooLarge) < 0 ||
        add_type(module, "Queue", &QueueType) < 0 ||
        add_type(module, "SimpleQueue", &SimpleQueueType) < 0 ||
        add_type(module, "BytesQueue", &BytesQueueType) < 0 ||
        PyModule_AddIntConstant(module, "DEFAULT_MAX_MESSAGE_SIZE",
                                LFQ_DEFAULT_MAX_MESSAGE_SIZE) < 0 ||
        PyModule_AddIntConstant(module, "MAX_MESSAGE_SIZE_LIMIT", LFQ_MAX_MESSAGE_SIZE_LIMIT) < 0) {
        goto error;
    }
    return module;

error:
    Py_DECREF(module);
    return NULL;
}
