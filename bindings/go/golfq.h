// Wrappers that present the hot part of the lfq C API to cgo with pointer-free types.
//
// cgo checks, on every call, each argument whose type is a pointer that may point to a pointer:
// void *, a pointer to a struct that has pointer fields (lfq_message), and the opaque queue
// handle, whose contents cgo cannot see. Those checks cost about as much as the library call
// itself. These wrappers take the handle as an integer, bytes as uint8_t *, and received
// messages as golfq_message, which mirrors lfq_message with the heap pointer as an integer, so
// cgo has nothing to check. Being static inline, they compile into cgo's own C stubs: no extra
// call.

#ifndef GOLFQ_H
#define GOLFQ_H

#include <stddef.h>
#include <stdint.h>

#include "lfq.h"

// golfq_message is lfq_message with `heap` as an integer, so that Go sees no pointer in it.
typedef struct golfq_message {
	size_t size;
	uintptr_t heap;
	uint8_t inline_bytes[LFQ_INLINE_MESSAGE_SIZE];
} golfq_message;

_Static_assert(sizeof(golfq_message) == sizeof(lfq_message), "golfq_message must mirror lfq_message");
_Static_assert(offsetof(golfq_message, size) == offsetof(lfq_message, size), "size offset");
_Static_assert(offsetof(golfq_message, heap) == offsetof(lfq_message, heap), "heap offset");
_Static_assert(offsetof(golfq_message, inline_bytes) == offsetof(lfq_message, inline_bytes),
	"inline_bytes offset");

static inline lfq_queue *golfq_handle(uintptr_t q) { return (lfq_queue *)q; }

// Non-blocking send of one message.
static inline lfq_status golfq_send(uintptr_t q, const uint8_t *data, size_t size) {
	return lfq_send(golfq_handle(q), data, size, 0);
}

// Non-blocking receive of one message into *m.
static inline lfq_status golfq_recv(uintptr_t q, golfq_message *m) {
	return lfq_recv(golfq_handle(q), (lfq_message *)m, 0);
}

// Non-blocking burst send of n messages packed back to back in data.
static inline lfq_status golfq_send_burst(uintptr_t q, const uint8_t *data, const size_t *sizes,
	size_t n, size_t *sent) {
	return lfq_send_burst(golfq_handle(q), data, sizes, n, sent, 0);
}

// Non-blocking burst receive of up to n messages into msgs.
static inline lfq_status golfq_recv_burst(uintptr_t q, golfq_message *msgs, size_t n,
	size_t *received) {
	return lfq_recv_burst(golfq_handle(q), (lfq_message *)msgs, n, received, 0);
}

// Releases n received messages.
static inline void golfq_release(golfq_message *msgs, size_t n) {
	lfq_message_release((lfq_message *)msgs, n);
}

// Fills *m with the shared memory of a bytes ring.
static inline lfq_status golfq_ring_map(uintptr_t q, lfq_ring_map *m) {
	return lfq_map_ring(golfq_handle(q), m);
}

// Wakes up to n library sleepers waiting for a message (readable) or for room.
static inline lfq_status golfq_notify(uintptr_t q, int readable, size_t n) {
	return readable ? lfq_notify_readable(golfq_handle(q), n)
			: lfq_notify_writable(golfq_handle(q), n);
}

static inline void golfq_destroy(uintptr_t q) { lfq_destroy(golfq_handle(q)); }

static inline lfq_status golfq_close(uintptr_t q) { return lfq_close(golfq_handle(q)); }

static inline size_t golfq_len(uintptr_t q) { return lfq_len(golfq_handle(q)); }

static inline lfq_status golfq_wait(uintptr_t q, int readable, int64_t timeout_ns) {
	return readable ? lfq_wait_readable(golfq_handle(q), timeout_ns)
			: lfq_wait_writable(golfq_handle(q), timeout_ns);
}

#endif
