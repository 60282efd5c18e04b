/*
 * lfq: lock-free multi-producer multi-consumer queues, C API.
 *
 * A queue is an opaque lfq_queue handle: either unbounded (lfq_queue_new, a linked queue that is
 * never full) or a bounded ring of exactly `capacity` slots (lfq_ring_new). Every function is
 * thread-safe unless its comment says otherwise (only lfq_destroy and lfq_visit are not); any
 * number of threads may push and pop on one handle at once.
 *
 * Two payload kinds, chosen at creation through lfq_options.payload:
 *  - LFQ_PAYLOAD_POINTER: `void *` items moved without copying. lfq never dereferences them; the
 *    caller owns what they point to. lfq_options.item_free, if set, is called by lfq_destroy for
 *    every item still queued. Batches follow DPDK's rte_ring model: *_bulk moves all n items or
 *    none, *_burst moves as many as possible (at least one).
 *  - LFQ_PAYLOAD_BYTES: byte messages copied in and out, in the spirit of POSIX mq_send and
 *    mq_receive, each at most lfq_max_message_size(q) bytes. Messages up to
 *    LFQ_INLINE_MESSAGE_SIZE bytes are stored without any allocation. lfq_recv* fill lfq_message
 *    structs that the caller releases with lfq_message_release; lfq_recv_into copies into a
 *    caller buffer that must hold the maximum size (checked before anything is dequeued, so no
 *    message is ever lost to a short buffer).
 * A call for one payload kind on a queue of the other returns LFQ_ERR_WRONG_KIND and changes
 * nothing.
 *
 * Timeouts (int64_t timeout_ns): 0 tries once and reports LFQ_EMPTY / LFQ_FULL; a negative value
 * waits without limit; a positive value waits at most that many nanoseconds and then reports
 * LFQ_TIMEOUT. Waiting threads sleep in the kernel, and lfq_close wakes them all: pushes then
 * report LFQ_CLOSED, and pops keep returning the items left until the queue is drained, then
 * report LFQ_CLOSED. A waiting bulk call (lfq_push_bulk, lfq_pop_bulk, lfq_send_bulk,
 * lfq_recv_bulk) waits until all n fit or are there at once: on a ring of capacity c, producers
 * waiting to push n and consumers waiting to pop m can wait for each other for ever when
 * n + m > c + 1 (c = 2 holding one item, n = m = 2). Give such calls a timeout, or use bursts.
 *
 * Every argument is checked: a NULL handle or out-pointer, a zero or absurd capacity, and similar
 * mistakes return LFQ_ERR_INVALID_ARGUMENT rather than crashing. No Rust panic crosses this API:
 * one would be reported as LFQ_ERR_INTERNAL.
 */

#ifndef LFQ_H
#define LFQ_H

/* Generated from src/ffi/ by cbindgen (build.rs). Do not edit: change the Rust doc comments. */

#include <stdint.h>
#include <stddef.h>

/**
 * Major version of the library (the SONAME is liblfq.so.<major>).
 */
#define LFQ_VERSION_MAJOR 0

/**
 * Minor version of the library.
 */
#define LFQ_VERSION_MINOR 1

/**
 * Patch version of the library.
 */
#define LFQ_VERSION_PATCH 0

/**
 * Messages up to this many bytes travel inside the queue slot and inside `lfq_message`
 * without any heap allocation.
 */
#define LFQ_INLINE_MESSAGE_SIZE 64

/**
 * The maximum message size of a bytes queue whose options leave `max_message_size` at 0.
 */
#define LFQ_DEFAULT_MAX_MESSAGE_SIZE 65536

/**
 * The largest `max_message_size` a bytes queue accepts (1 GiB).
 */
#define LFQ_MAX_MESSAGE_SIZE_LIMIT 1073741824

/**
 * The largest capacity `lfq_ring_new` accepts (2^40); larger ones are LFQ_ERR_INVALID_ARGUMENT.
 */
#define LFQ_MAX_CAPACITY 1099511627776

/**
 * Version of the lfq_ring_map protocol below. A binding checks lfq_ring_map.version and falls
 * back to the ordinary calls if it differs from the one it was written for.
 */
#define LFQ_RING_MAP_VERSION 1

/**
 * The closed bit of lfq_ring_map.tail.
 */
#define LFQ_RING_MAP_CLOSED 1

/**
 * How far lfq_ring_map.tail shifts the send position left.
 */
#define LFQ_RING_MAP_SHIFT 1

/**
 * The kind of items a queue carries, fixed when it is created.
 */
enum lfq_payload
#ifdef __cplusplus
  : int32_t
#endif // __cplusplus
 {
    /**
     * `void *` items, moved without copying; the caller owns what they point to.
     */
    LFQ_PAYLOAD_POINTER = 0,
    /**
     * Byte messages, copied in on send and out on receive.
     */
    LFQ_PAYLOAD_BYTES = 1,
    /**
     * Returned by lfq_payload_of() for a NULL handle; not valid in lfq_options.
     */
    LFQ_PAYLOAD_NONE = -1,
};
#ifndef __cplusplus
typedef int32_t lfq_payload;
#endif // __cplusplus

/**
 * Result of every fallible lfq call. Values >= 0 are outcomes of a valid call; values < 0
 * are errors in the call itself (or in lfq, for LFQ_ERR_INTERNAL).
 */
enum lfq_status
#ifdef __cplusplus
  : int32_t
#endif // __cplusplus
 {
    /**
     * Success.
     */
    LFQ_OK = 0,
    /**
     * Nothing to pop or receive (timeout 0).
     */
    LFQ_EMPTY = 1,
    /**
     * No room to push or send (timeout 0).
     */
    LFQ_FULL = 2,
    /**
     * The queue is closed: a push was refused, or a pop found it closed and drained.
     */
    LFQ_CLOSED = 3,
    /**
     * A positive timeout expired.
     */
    LFQ_TIMEOUT = 4,
    /**
     * NULL handle or out-pointer, capacity 0 or absurd, bad buffer or option, ...
     */
    LFQ_ERR_INVALID_ARGUMENT = -1,
    /**
     * A pointer call on a bytes queue, or a bytes call on a pointer queue.
     */
    LFQ_ERR_WRONG_KIND = -2,
    /**
     * A message larger than the queue's max_message_size.
     */
    LFQ_ERR_TOO_LARGE = -3,
    /**
     * Memory could not be allocated.
     */
    LFQ_ERR_NO_MEMORY = -4,
    /**
     * A panic was caught inside lfq: a bug in lfq, please report it.
     */
    LFQ_ERR_INTERNAL = -5,
};
#ifndef __cplusplus
typedef int32_t lfq_status;
#endif // __cplusplus

/**
 * An lfq queue: unbounded (lfq_queue_new) or a bounded ring (lfq_ring_new), carrying pointer
 * items or byte messages. Opaque; always used through a pointer.
 */
typedef struct lfq_queue lfq_queue;

/**
 * Called by lfq_destroy() once for each pointer item still queued, with the context from
 * lfq_options, so that the caller can release what the items point to.
 */
typedef void (*lfq_item_free_fn)(void *item, void *context);

/**
 * Options for lfq_queue_new() and lfq_ring_new(). Zero-initialise it and set what you need;
 * passing NULL instead of options gives a pointer queue with no item_free callback.
 */
typedef struct lfq_options {
    /**
     * LFQ_PAYLOAD_POINTER (the zero value) or LFQ_PAYLOAD_BYTES.
     */
    lfq_payload payload;
    /**
     * Bytes queues only (must be 0 for pointer queues): the largest message accepted, at most
     * LFQ_MAX_MESSAGE_SIZE_LIMIT; 0 means LFQ_DEFAULT_MAX_MESSAGE_SIZE.
     */
    size_t max_message_size;
    /**
     * Pointer queues only (must be NULL for bytes queues): called by lfq_destroy() once per
     * item still queued. May be NULL, in which case leftover items are simply forgotten.
     */
    lfq_item_free_fn item_free;
    /**
     * Passed unchanged as the second argument of item_free.
     */
    void *item_free_context;
} lfq_options;

/**
 * A received byte message. Its `size` bytes are at `heap` when `heap` is not NULL, otherwise
 * in `inline_bytes`; lfq_message_data() picks the right one. Release it with
 * lfq_message_release() once done (a no-op for inline messages, but always correct to call).
 * Do not change `size` or `heap` of a received message before releasing it.
 */
typedef struct lfq_message {
    /**
     * Length of the message in bytes.
     */
    size_t size;
    /**
     * The message bytes when it is longer than LFQ_INLINE_MESSAGE_SIZE, else NULL.
     */
    uint8_t *heap;
    /**
     * The message bytes when it is at most LFQ_INLINE_MESSAGE_SIZE long.
     */
    uint8_t inline_bytes[LFQ_INLINE_MESSAGE_SIZE];
} lfq_message;

/**
 * Called by lfq_visit() with each pointer item still queued, oldest first, and the caller's
 * context. Returning non-zero stops the walk.
 */
typedef int (*lfq_visit_fn)(void *item, void *context);

/**
 * The shared memory of a bytes ring, for bindings that move small messages without calling
 * into the library (filled by lfq_map_ring). All words are naturally aligned and must be
 * accessed with sequentially consistent atomic operations where this says "atomic".
 *
 * Positions. `one_lap` is a power of two >= `capacity`. A position p names the slot
 * `p & (one_lap - 1)` (always < capacity). The position after p is p + 1, unless
 * `(p & (one_lap - 1)) + 1 == capacity`, in which case it is `(p & ~(one_lap - 1)) + one_lap`.
 * Position arithmetic wraps modulo 2^64 (2^32 on 32-bit targets).
 *
 * Slot i starts at `slots + i * slot_size`. Its stamp is the size_t at `stamp_offset`, its
 * message the lfq_message at `message_offset`.
 *
 * To send a message of at most LFQ_INLINE_MESSAGE_SIZE bytes (and at most
 * lfq_max_message_size):
 * 1. t = atomic load of *tail. If `t & LFQ_RING_MAP_CLOSED`, use lfq_send instead.
 *    Otherwise p = t >> LFQ_RING_MAP_SHIFT.
 * 2. If the atomic load of slot(p)'s stamp is not p, the ring is full or t is stale: use
 *    lfq_send instead.
 * 3. Atomic compare-and-swap *tail from t to (position after p) << LFQ_RING_MAP_SHIFT. If it
 *    fails, start again at 1 (or use lfq_send).
 * 4. Write the slot's message: size, heap = NULL, the bytes in inline_bytes and zeros in the
 *    rest of inline_bytes.
 * 5. Atomic store p + 1 into the stamp: the message is published.
 * 6. If the atomic load of *readers_waiting is not 0, call lfq_notify_readable.
 *
 * To receive:
 * 1. h = atomic load of *head.
 * 2. If the atomic load of slot(h)'s stamp is not h + 1, the ring is empty (or closed and
 *    empty, or h is stale): use lfq_recv instead.
 * 3. Atomic compare-and-swap *head from h to the position after h. If it fails, start again.
 * 4. Copy the slot's lfq_message out. If its heap is not NULL, the block is now the receiver's:
 *    release the copy with lfq_message_release once its bytes are read.
 * 5. Atomic store h + one_lap into the stamp: the slot is free for the next lap.
 * 6. If the atomic load of *writers_waiting is not 0, call lfq_notify_writable.
 *
 * Batches claim k consecutive positions with one compare-and-swap in step 3 after checking the
 * k stamps in step 2, then do steps 4 and 5 for each and step 6 once. Stamps may be stored in
 * any order; a sender that stores the first one last lets receivers take the whole batch at once,
 * where they would otherwise trail it a slot or two at a time.
 *
 * Between steps 3 and 5 the claimed slot is the caller's alone, and other threads wait for it;
 * keep that stretch short. Ordinary lfq calls may run on the same ring at the same time; the
 * mapped protocol and the library's own calls interoperate fully, per-producer order included.
 * The addresses are valid until lfq_destroy.
 */
typedef struct lfq_ring_map {
    /**
     * LFQ_RING_MAP_VERSION of the library that filled this in.
     */
    uint32_t version;
    /**
     * The position of the next receive (atomic).
     */
    size_t *head;
    /**
     * The position of the next send, shifted left by LFQ_RING_MAP_SHIFT, with the
     * LFQ_RING_MAP_CLOSED bit set once the ring is closed (atomic).
     */
    size_t *tail;
    /**
     * How many threads sleep until a message arrives (atomic; read it, never write it).
     */
    uint32_t *readers_waiting;
    /**
     * How many threads sleep until room appears (atomic; read it, never write it).
     */
    uint32_t *writers_waiting;
    /**
     * The first slot.
     */
    uint8_t *slots;
    /**
     * Bytes from one slot to the next.
     */
    size_t slot_size;
    /**
     * Where a slot's stamp (a size_t) sits within the slot.
     */
    size_t stamp_offset;
    /**
     * Where a slot's lfq_message sits within the slot.
     */
    size_t message_offset;
    /**
     * How many slots there are (the ring's capacity).
     */
    size_t capacity;
    /**
     * A power of two >= capacity: positions advance by one_lap per lap.
     */
    size_t one_lap;
} lfq_ring_map;

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

/**
 * Creates an unbounded queue (a linked MPMC queue; a push never reports FULL).
 *
 * - Thread-safety: may be called from any thread.
 * - Ownership: on LFQ_OK `*out` receives a new handle owned by the caller, to be released with
 *   lfq_destroy(); on any other status `*out` is left unchanged.
 * - Blocking: never blocks.
 * - `options` may be NULL (pointer items, no item_free callback).
 * - Returns LFQ_OK, LFQ_ERR_INVALID_ARGUMENT (`out` NULL, or bad options: unknown payload,
 *   max_message_size over LFQ_MAX_MESSAGE_SIZE_LIMIT or set on a pointer queue, item_free set
 *   on a bytes queue), or LFQ_ERR_NO_MEMORY.
 *
 * # Safety
 * `options` must be NULL or point to an `lfq_options`; `out` must be NULL or writable.
 */
lfq_status lfq_queue_new(const struct lfq_options *options, struct lfq_queue **out);

/**
 * Creates a bounded ring holding at most exactly `capacity` items (a push on a full ring
 * reports FULL, or waits with a timeout).
 *
 * - Thread-safety: may be called from any thread.
 * - Ownership: on LFQ_OK `*out` receives a new handle owned by the caller, to be released with
 *   lfq_destroy(); on any other status `*out` is left unchanged.
 * - Blocking: never blocks.
 * - `options` may be NULL (pointer items, no item_free callback).
 * - Returns LFQ_OK; LFQ_ERR_INVALID_ARGUMENT (`out` NULL, `capacity` 0 or over
 *   LFQ_MAX_CAPACITY, bad options as for lfq_queue_new); LFQ_ERR_NO_MEMORY (the ring would
 *   need more memory than the machine has, or the allocator failed).
 *
 * # Safety
 * `options` must be NULL or point to an `lfq_options`; `out` must be NULL or writable.
 */
lfq_status lfq_ring_new(size_t capacity, const struct lfq_options *options, struct lfq_queue **out);

/**
 * Destroys a queue. Pointer items still queued are passed, one call each, to the item_free
 * callback from the options (if any); byte messages still queued are freed.
 *
 * - Thread-safety: NOT thread-safe with respect to any other call on the same handle: every
 *   other thread must be done with `q` (close it and join them first). After this call `q` is
 *   invalid.
 * - Ownership: takes ownership of `q` and of every item still queued.
 * - Blocking: never blocks (apart from what item_free does).
 * - item_free runs when `q` is already invalid: a call on `q` from inside it fails with
 *   LFQ_ERR_INVALID_ARGUMENT (lfq_destroy does nothing).
 * - `q` may be NULL (nothing happens). A handle that was already destroyed is usually detected
 *   and ignored, but that is a best-effort guard, not a guarantee.
 *
 * # Safety
 * `q` must be NULL or a handle from lfq_queue_new/lfq_ring_new not used by any other thread.
 */
void lfq_destroy(struct lfq_queue *q);

/**
 * Closes the queue: later pushes and sends return LFQ_CLOSED, items already queued can still
 * be popped, and once it is drained pops return LFQ_CLOSED. Every thread blocked in this queue
 * wakes up.
 *
 * - Thread-safety: thread-safe. Blocking: never blocks.
 * - Returns LFQ_OK if this call closed it, LFQ_CLOSED if it was already closed,
 *   LFQ_ERR_INVALID_ARGUMENT for a NULL handle.
 *
 * # Safety
 * `q` must be NULL or a live handle.
 */
lfq_status lfq_close(struct lfq_queue *q);

/**
 * Returns 1 if the queue is closed, 0 if not, -1 (LFQ_ERR_INVALID_ARGUMENT) for a NULL handle.
 *
 * - Thread-safety: thread-safe. Blocking: never blocks.
 *
 * # Safety
 * `q` must be NULL or a live handle.
 */
int lfq_is_closed(const struct lfq_queue *q);

/**
 * Returns the number of items queued: exact when no other thread is using the queue,
 * approximate otherwise. 0 for a NULL handle.
 *
 * - Thread-safety: thread-safe. Blocking: never blocks.
 *
 * # Safety
 * `q` must be NULL or a live handle.
 */
size_t lfq_len(const struct lfq_queue *q);

/**
 * Returns the capacity of a ring, or 0 for an unbounded queue or a NULL handle.
 *
 * - Thread-safety: thread-safe. Blocking: never blocks.
 *
 * # Safety
 * `q` must be NULL or a live handle.
 */
size_t lfq_capacity(const struct lfq_queue *q);

/**
 * Returns the largest message a bytes queue accepts; 0 for a pointer queue or a NULL handle.
 *
 * - Thread-safety: thread-safe. Blocking: never blocks.
 *
 * # Safety
 * `q` must be NULL or a live handle.
 */
size_t lfq_max_message_size(const struct lfq_queue *q);

/**
 * Returns the payload kind of the queue, or LFQ_PAYLOAD_NONE for a NULL handle.
 *
 * - Thread-safety: thread-safe. Blocking: never blocks.
 *
 * # Safety
 * `q` must be NULL or a live handle.
 */
lfq_payload lfq_payload_of(const struct lfq_queue *q);

/**
 * Waits until the queue has an item to pop (does not take it), for event loops.
 *
 * - Thread-safety: thread-safe; another consumer may still take the item first. A waiter
 *   woken by a push takes that push's wakeup, so follow LFQ_OK with a pop or receive (timeout
 *   0) rather than abandoning it, or a consumer blocked elsewhere may sleep on until the next
 *   push.
 * - Blocking: timeout_ns 0 checks once; a negative one sleeps until an item arrives or the
 *   queue closes; a positive one sleeps at most that many nanoseconds.
 * - Returns LFQ_OK (an item is there), LFQ_CLOSED (closed and drained), LFQ_EMPTY (timeout 0),
 *   LFQ_TIMEOUT, LFQ_ERR_INVALID_ARGUMENT (NULL handle). Works for both payload kinds.
 *
 * # Safety
 * `q` must be NULL or a live handle.
 */
lfq_status lfq_wait_readable(struct lfq_queue *q, int64_t timeout_ns);

/**
 * Waits until there is room to push (does not reserve it), for event loops. An unbounded
 * queue always has room unless closed.
 *
 * - Thread-safety: thread-safe; another producer may still take the room first. As with
 *   lfq_wait_readable, follow LFQ_OK with a push or send so that no blocked producer misses
 *   the wakeup.
 * - Blocking: timeout_ns 0 checks once; a negative one sleeps until there is room or the
 *   queue closes; a positive one sleeps at most that many nanoseconds.
 * - Returns LFQ_OK, LFQ_CLOSED, LFQ_FULL (timeout 0), LFQ_TIMEOUT, LFQ_ERR_INVALID_ARGUMENT
 *   (NULL handle). Works for both payload kinds.
 *
 * # Safety
 * `q` must be NULL or a live handle.
 */
lfq_status lfq_wait_writable(struct lfq_queue *q, int64_t timeout_ns);

/**
 * Returns a static, NUL-terminated English description of a status code (any value,
 * including unknown ones). Never NULL; do not free it. Thread-safe; never blocks.
 */
const char *lfq_strerror(lfq_status status);

/**
 * Returns the library version as a static string, e.g. "0.1.0". Never NULL; do not free it.
 * Thread-safe; never blocks.
 */
const char *lfq_version(void);

/**
 * Sends one message: copies `size` bytes from `data` into the queue.
 *
 * - Thread-safety: thread-safe.
 * - Ownership: the bytes are copied; `data` stays the caller's and is not retained.
 *   Messages up to LFQ_INLINE_MESSAGE_SIZE bytes are stored without any allocation.
 * - Blocking: only on a full ring with timeout_ns != 0: < 0 sleeps until there is room or the
 *   queue closes, > 0 sleeps at most that many nanoseconds.
 * - `data` may be NULL only when `size` is 0 (an empty message is a valid message).
 * - Returns LFQ_OK, LFQ_FULL (timeout 0), LFQ_TIMEOUT, LFQ_CLOSED, LFQ_ERR_INVALID_ARGUMENT
 *   (NULL handle, NULL data with size > 0), LFQ_ERR_TOO_LARGE (size > lfq_max_message_size),
 *   LFQ_ERR_NO_MEMORY, LFQ_ERR_WRONG_KIND (pointer queue).
 *
 * # Safety
 * `q` must be NULL or a live handle; `data` must be readable for `size` bytes.
 */
lfq_status lfq_send(struct lfq_queue *q, const void *data, size_t size, int64_t timeout_ns);

/**
 * Receives one message into `*msg_out`.
 *
 * - Thread-safety: thread-safe.
 * - Ownership: on LFQ_OK `*msg_out` holds the message and the caller must release it with
 *   lfq_message_release(msg_out, 1). `*msg_out` is treated as uninitialised output (a message
 *   still held in it is not released first) and is unchanged on any other status.
 * - Blocking: only when empty with timeout_ns != 0: < 0 sleeps until a message arrives or the
 *   queue is closed, > 0 sleeps at most that many nanoseconds. With timeout 0 it never sleeps.
 *   It waits out another thread's push that has claimed the oldest position and not yet
 *   written it, so LFQ_EMPTY means the queue was empty.
 * - Returns LFQ_OK, LFQ_EMPTY (timeout 0), LFQ_TIMEOUT, LFQ_CLOSED (closed and drained),
 *   LFQ_ERR_INVALID_ARGUMENT (NULL handle or `msg_out`), LFQ_ERR_WRONG_KIND.
 *
 * # Safety
 * `q` must be NULL or a live handle; `msg_out` NULL or writable.
 */
lfq_status lfq_recv(struct lfq_queue *q, struct lfq_message *msg_out, int64_t timeout_ns);

/**
 * Receives one message by copying it into the caller's buffer (POSIX mq_receive style).
 *
 * - Thread-safety: thread-safe.
 * - Ownership: `buf` stays the caller's; nothing needs releasing.
 * - `buf_size` must be at least lfq_max_message_size(q). This is checked before anything is
 *   dequeued, so a too-small buffer never loses a message.
 * - Blocking: only when empty with timeout_ns != 0: < 0 sleeps until a message arrives or the
 *   queue is closed, > 0 sleeps at most that many nanoseconds. With timeout 0 it never sleeps.
 *   It waits out another thread's push that has claimed the oldest position and not yet
 *   written it, so LFQ_EMPTY means the queue was empty.
 * - On LFQ_OK `*size_out` is the message length; it is unchanged otherwise.
 * - Returns LFQ_OK, LFQ_EMPTY (timeout 0), LFQ_TIMEOUT, LFQ_CLOSED (closed and drained),
 *   LFQ_ERR_INVALID_ARGUMENT (NULL handle, `buf` or `size_out`; `buf_size` too small),
 *   LFQ_ERR_WRONG_KIND.
 *
 * # Safety
 * `q` must be NULL or a live handle; `buf` writable for `buf_size` bytes; `size_out` NULL or
 * writable.
 */
lfq_status lfq_recv_into(struct lfq_queue *q,
                         void *buf,
                         size_t buf_size,
                         size_t *size_out,
                         int64_t timeout_ns);

/**
 * Sends all `n` messages or none. The messages are packed back to back in `data`: message i
 * is the next `sizes[i]` bytes.
 *
 * - Thread-safety: thread-safe; the `n` messages land contiguously in queue order (on an unbounded
 *   queue, up to 8,128 of them: a longer bulk lands in runs of at least that many).
 * - Ownership: the bytes are copied; `data` and `sizes` stay the caller's.
 * - Blocking: with timeout_ns != 0 on a ring without room for all `n`, waits (< 0 until room
 *   or close, > 0 at most that many nanoseconds). The wait polls, yielding and then sleeping in
 *   naps of up to 1 ms, so it may notice room or close that late.
 * - `*sent` (if `sent` is not NULL) is set on every return: `n` on LFQ_OK, else 0, with one
 *   exception: on an unbounded queue that another thread closes during the call, or that
 *   cannot grow, the send may stop part way with LFQ_CLOSED or LFQ_ERR_NO_MEMORY, and then the
 *   first `*sent` messages are queued.
 * - Returns LFQ_OK (also for n == 0), LFQ_FULL (timeout 0), LFQ_TIMEOUT, LFQ_CLOSED,
 *   LFQ_ERR_INVALID_ARGUMENT (NULL handle, NULL `sizes` with n > 0, NULL `data` with a
 *   non-zero total, n larger than the ring's capacity), LFQ_ERR_TOO_LARGE (any message over
 *   the maximum; nothing is sent), LFQ_ERR_NO_MEMORY, LFQ_ERR_WRONG_KIND.
 *
 * # Safety
 * `q` must be NULL or a live handle; `sizes` must hold `n` lengths and `data` their sum in
 * bytes; `sent` NULL or writable.
 */
lfq_status lfq_send_bulk(struct lfq_queue *q,
                         const void *data,
                         const size_t *sizes,
                         size_t n,
                         size_t *sent,
                         int64_t timeout_ns);

/**
 * Sends as many of the `n` messages as fit, at least one, in order from the first (burst).
 * Layout of `data` / `sizes` as for lfq_send_bulk.
 *
 * - Thread-safety: thread-safe.
 * - Ownership: the bytes are copied; `data` and `sizes` stay the caller's.
 * - Blocking: with timeout_ns != 0 on a full ring, waits for room for at least one message
 *   (< 0 until room or close, > 0 at most that many nanoseconds).
 * - `*sent` (if `sent` is not NULL) is set on every return: the count sent (the first
 *   `*sent` messages), 0 on failure.
 * - Returns LFQ_OK (also for n == 0), LFQ_FULL (timeout 0), LFQ_TIMEOUT, LFQ_CLOSED,
 *   LFQ_ERR_INVALID_ARGUMENT (NULL handle, NULL `sizes` with n > 0, NULL `data` with a
 *   non-zero total), LFQ_ERR_TOO_LARGE (any message over the maximum; nothing is sent),
 *   LFQ_ERR_NO_MEMORY, LFQ_ERR_WRONG_KIND.
 *
 * # Safety
 * As for lfq_send_bulk.
 */
lfq_status lfq_send_burst(struct lfq_queue *q,
                          const void *data,
                          const size_t *sizes,
                          size_t n,
                          size_t *sent,
                          int64_t timeout_ns);

/**
 * Receives exactly `n` messages into `msgs[0..n]`, in queue order, or none.
 *
 * - Thread-safety: thread-safe; the `n` messages are contiguous in queue order.
 * - Ownership: on LFQ_OK the caller owns the `n` messages and must release them with
 *   lfq_message_release(msgs, n); `msgs` is untouched on any other status.
 * - Blocking: with timeout_ns != 0, waits until `n` messages are there (< 0 until then or
 *   close, > 0 at most that many nanoseconds). The wait polls, yielding and then sleeping in
 *   naps of up to 1 ms, so it may notice the messages or close that late.
 * - `*received` (if not NULL) is set on every return: `n` on LFQ_OK, else 0.
 * - Returns LFQ_OK (also for n == 0), LFQ_EMPTY (timeout 0), LFQ_TIMEOUT, LFQ_CLOSED (closed
 *   with fewer than n left: drain them with lfq_recv_burst), LFQ_ERR_INVALID_ARGUMENT (NULL
 *   handle, `msgs` NULL with n > 0, n larger than the ring's capacity), LFQ_ERR_WRONG_KIND.
 *
 * # Safety
 * `q` must be NULL or a live handle; `msgs` must have room for `n` messages; `received` NULL
 * or writable.
 */
lfq_status lfq_recv_bulk(struct lfq_queue *q,
                         struct lfq_message *msgs,
                         size_t n,
                         size_t *received,
                         int64_t timeout_ns);

/**
 * Receives between 1 and `n` messages into `msgs[0..*received]`, in queue order (burst).
 *
 * - Thread-safety: thread-safe.
 * - Ownership: the caller owns the `*received` messages and must release them with
 *   lfq_message_release(msgs, *received).
 * - Blocking: with timeout_ns != 0 on an empty queue, waits for at least one message (< 0
 *   until one arrives or the queue is closed, > 0 at most that many nanoseconds).
 * - `*received` (if not NULL) is set on every return: the count, 0 on failure.
 * - Returns LFQ_OK (also for n == 0), LFQ_EMPTY (timeout 0), LFQ_TIMEOUT, LFQ_CLOSED (closed
 *   and drained), LFQ_ERR_INVALID_ARGUMENT (NULL handle, `msgs` NULL with n > 0),
 *   LFQ_ERR_WRONG_KIND.
 *
 * # Safety
 * As for lfq_recv_bulk.
 */
lfq_status lfq_recv_burst(struct lfq_queue *q,
                          struct lfq_message *msgs,
                          size_t n,
                          size_t *received,
                          int64_t timeout_ns);

/**
 * Returns a pointer to the `msg->size` bytes of a received message (valid until it is
 * released), or NULL when `msg` is NULL. Thread-safe for distinct messages; never blocks.
 *
 * # Safety
 * `msg` must be NULL or point to a message filled by an lfq receive call.
 */
const uint8_t *lfq_message_data(const struct lfq_message *msg);

/**
 * Releases `n` received messages: frees heap parts and sets each `heap` to NULL and `size`
 * to 0, so releasing twice is harmless. `msgs` may be NULL (nothing happens).
 *
 * - Thread-safety: thread-safe for distinct messages. Blocking: never blocks.
 * - Ownership: the heap parts go back to lfq; the `lfq_message` structs stay the caller's.
 *
 * # Safety
 * `msgs` must be NULL or point to `n` messages, each filled by an lfq receive call (or already
 * released, or zero-initialised), with `size` and `heap` unchanged since.
 */
void lfq_message_release(struct lfq_message *msgs, size_t n);

/**
 * Pushes one pointer item.
 *
 * - Thread-safety: thread-safe (any number of producers and consumers).
 * - Ownership: on LFQ_OK the queue holds `item` until a pop hands it out (or lfq_destroy
 *   passes it to item_free); on any other status the caller keeps it. `item` may be NULL.
 * - Blocking: only on a full ring with timeout_ns != 0: < 0 sleeps until there is room or the
 *   queue closes, > 0 sleeps at most that many nanoseconds. An unbounded queue never waits.
 * - Returns LFQ_OK, LFQ_FULL (full ring, timeout 0), LFQ_TIMEOUT, LFQ_CLOSED,
 *   LFQ_ERR_INVALID_ARGUMENT (NULL handle), LFQ_ERR_NO_MEMORY (an unbounded queue could not
 *   grow), LFQ_ERR_WRONG_KIND (bytes queue).
 *
 * # Safety
 * `q` must be NULL or a live handle.
 */
lfq_status lfq_push(struct lfq_queue *q, void *item, int64_t timeout_ns);

/**
 * Pops one pointer item into `*item_out`.
 *
 * - Thread-safety: thread-safe.
 * - Ownership: on LFQ_OK the caller owns the item; `*item_out` is unchanged otherwise.
 * - Blocking: only when empty with timeout_ns != 0: < 0 sleeps until an item arrives or the
 *   queue is closed, > 0 sleeps at most that many nanoseconds. With timeout 0 it never sleeps.
 *   It waits out another thread's push that has claimed the oldest position and not yet
 *   written it, so LFQ_EMPTY means the queue was empty.
 * - Returns LFQ_OK, LFQ_EMPTY (timeout 0), LFQ_TIMEOUT, LFQ_CLOSED (closed and drained),
 *   LFQ_ERR_INVALID_ARGUMENT (NULL handle or `item_out`), LFQ_ERR_WRONG_KIND (bytes queue).
 *
 * # Safety
 * `q` must be NULL or a live handle; `item_out` NULL or writable.
 */
lfq_status lfq_pop(struct lfq_queue *q, void **item_out, int64_t timeout_ns);

/**
 * Pushes all `n` pointers of `items`, in order, or none (DPDK "bulk").
 *
 * - Thread-safety: thread-safe; the `n` items land contiguously in queue order (on an unbounded
 *   queue, up to 8,128 of them: a longer bulk lands in runs of at least that many).
 * - Ownership: on LFQ_OK the queue holds all `n` items; otherwise the caller keeps all of them,
 *   with one exception: on an unbounded queue that another thread closes during the call, or
 *   that cannot grow, the push may stop part way with LFQ_CLOSED or LFQ_ERR_NO_MEMORY. The
 *   queue then holds the first `*pushed` items (they will be popped like any other), and the
 *   caller keeps the rest. The `items` array
 *   itself stays the caller's and is not retained.
 * - Blocking: with timeout_ns != 0 on a ring without room for all `n`, waits (< 0 until room or
 *   close, > 0 at most that many nanoseconds); an unbounded queue never waits. The wait polls,
 *   yielding and then sleeping in naps of up to 1 ms, so it may notice room or close that late.
 * - `*pushed` (if `pushed` is not NULL) is set on every return: `n` on LFQ_OK, else 0 but for
 *   the exception above.
 * - Returns LFQ_OK (also for n == 0), LFQ_FULL (timeout 0), LFQ_TIMEOUT, LFQ_CLOSED,
 *   LFQ_ERR_INVALID_ARGUMENT (NULL handle, `items` NULL with n > 0, or n larger than the ring's
 *   capacity), LFQ_ERR_NO_MEMORY, LFQ_ERR_WRONG_KIND.
 *
 * # Safety
 * `q` must be NULL or a live handle; `items` must hold `n` pointers; `pushed` NULL or writable.
 */
lfq_status lfq_push_bulk(struct lfq_queue *q,
                         void *const *items,
                         size_t n,
                         size_t *pushed,
                         int64_t timeout_ns);

/**
 * Pushes as many of the `n` pointers of `items` as fit, at least one, in order, from the
 * front of the array (DPDK "burst").
 *
 * - Thread-safety: thread-safe.
 * - Ownership: the queue holds the first `*pushed` items; the caller keeps the rest.
 * - Blocking: with timeout_ns != 0 on a full ring, waits for room for at least one item
 *   (< 0 until room or close, > 0 at most that many nanoseconds).
 * - `*pushed` (if `pushed` is not NULL) is set on every return: the count pushed, 0 on failure.
 * - Returns LFQ_OK (1..n pushed; also for n == 0, and when an unbounded queue could grow only
 *   part of the way), LFQ_FULL (timeout 0), LFQ_TIMEOUT, LFQ_CLOSED,
 *   LFQ_ERR_INVALID_ARGUMENT (NULL handle, `items` NULL with n > 0), LFQ_ERR_NO_MEMORY (not
 *   even one pushed), LFQ_ERR_WRONG_KIND.
 *
 * # Safety
 * `q` must be NULL or a live handle; `items` must hold `n` pointers; `pushed` NULL or writable.
 */
lfq_status lfq_push_burst(struct lfq_queue *q,
                          void *const *items,
                          size_t n,
                          size_t *pushed,
                          int64_t timeout_ns);

/**
 * Pops exactly `n` items into `items[0..n]`, in queue order, or none (DPDK "bulk").
 *
 * - Thread-safety: thread-safe; the `n` items are contiguous in queue order.
 * - Ownership: on LFQ_OK the caller owns the `n` items; otherwise `items` is untouched.
 * - Blocking: with timeout_ns != 0, waits until `n` items are there (timeout_ns < 0: until
 *   then or close; > 0: at most that many nanoseconds). The wait polls, yielding and then
 *   sleeping in naps of up to 1 ms, so it may notice the items or close that late.
 * - `*popped` (if `popped` is not NULL) is set on every return: `n` on LFQ_OK, else 0.
 * - Returns LFQ_OK (also for n == 0), LFQ_EMPTY (fewer than n, timeout 0), LFQ_TIMEOUT,
 *   LFQ_CLOSED (closed with fewer than n items left: drain them with lfq_pop_burst),
 *   LFQ_ERR_INVALID_ARGUMENT (NULL handle, `items` NULL with n > 0, or n larger than the ring's
 *   capacity), LFQ_ERR_WRONG_KIND.
 *
 * # Safety
 * `q` must be NULL or a live handle; `items` must have room for `n` pointers; `popped` NULL or
 * writable.
 */
lfq_status lfq_pop_bulk(struct lfq_queue *q,
                        void **items,
                        size_t n,
                        size_t *popped,
                        int64_t timeout_ns);

/**
 * Pops between 1 and `n` items into `items[0..*popped]`, in queue order (DPDK "burst").
 *
 * - Thread-safety: thread-safe.
 * - Ownership: the caller owns the `*popped` items returned.
 * - Blocking: with timeout_ns != 0 on an empty queue, waits for at least one item (< 0 until
 *   one arrives or the queue is closed, > 0 at most that many nanoseconds).
 * - `*popped` (if `popped` is not NULL) is set on every return: the count, 0 on failure.
 * - Returns LFQ_OK (also for n == 0), LFQ_EMPTY (timeout 0), LFQ_TIMEOUT, LFQ_CLOSED (closed
 *   and drained), LFQ_ERR_INVALID_ARGUMENT (NULL handle, `items` NULL with n > 0),
 *   LFQ_ERR_WRONG_KIND.
 *
 * # Safety
 * `q` must be NULL or a live handle; `items` must have room for `n` pointers; `popped` NULL or
 * writable.
 */
lfq_status lfq_pop_burst(struct lfq_queue *q,
                         void **items,
                         size_t n,
                         size_t *popped,
                         int64_t timeout_ns);

/**
 * Calls `visit(item, context)` for each item still queued, oldest first, without taking any,
 * until `visit` returns non-zero. It lets a garbage collector see what a queue of its objects
 * references (the Python binding's cycle collector support uses it).
 *
 * - Thread-safety: NOT thread-safe with pushes and pops on `q`: the items are read where they
 *   lie, so the caller must make sure that no push or pop on `q` runs during the call (waits
 *   such as lfq_wait_readable may). Calls on other queues are unaffected.
 * - Ownership: each item stays the queue's; `visit` must not push to or pop from `q`.
 * - Blocking: never blocks.
 * - Returns LFQ_OK (also when `visit` stopped the walk), LFQ_ERR_INVALID_ARGUMENT (NULL handle
 *   or `visit`), LFQ_ERR_WRONG_KIND (bytes queue).
 *
 * # Safety
 * `q` must be NULL or a live handle, with no push or pop on it during the call.
 */
lfq_status lfq_visit(const struct lfq_queue *q, lfq_visit_fn visit, void *context);

/**
 * Fills *map with the shared memory of a bytes ring (lfq_ring_map describes the protocol).
 *
 * - Thread-safety: thread-safe.
 * - Ownership: the memory stays the library's; the addresses are valid until lfq_destroy.
 * - Returns LFQ_OK, LFQ_ERR_WRONG_KIND (a pointer-payload queue), LFQ_ERR_INVALID_ARGUMENT
 *   (NULL handle or map, or an unbounded queue, which has no ring). Does not block.
 *
 * # Safety
 * `q` must be NULL or a live handle; `map` NULL or valid for writing an lfq_ring_map.
 */
lfq_status lfq_map_ring(const struct lfq_queue *q, struct lfq_ring_map *map);

/**
 * Wakes up to `count` threads sleeping until a message arrives, after a send made through
 * lfq_map_ring's memory found *readers_waiting non-zero. Harmless when nobody sleeps.
 *
 * - Thread-safety: thread-safe. Does not block.
 * - Returns LFQ_OK, LFQ_ERR_WRONG_KIND (a pointer-payload queue), LFQ_ERR_INVALID_ARGUMENT
 *   (NULL handle, or an unbounded queue).
 *
 * # Safety
 * `q` must be NULL or a live handle.
 */
lfq_status lfq_notify_readable(const struct lfq_queue *q, size_t count);

/**
 * Wakes up to `count` threads sleeping until room appears, after a receive made through
 * lfq_map_ring's memory found *writers_waiting non-zero. Harmless when nobody sleeps.
 *
 * - Thread-safety: thread-safe. Does not block.
 * - Returns LFQ_OK, LFQ_ERR_WRONG_KIND (a pointer-payload queue), LFQ_ERR_INVALID_ARGUMENT
 *   (NULL handle, or an unbounded queue).
 *
 * # Safety
 * `q` must be NULL or a live handle.
 */
lfq_status lfq_notify_writable(const struct lfq_queue *q, size_t count);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* LFQ_H */
