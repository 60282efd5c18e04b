// Package lfq binds liblfq, a lock-free multi-producer multi-consumer queue engine written in
// Rust, through its C ABI (include/lfq.h).
//
// A [Queue] carries byte messages. Each message is copied into library memory by Send and copied
// back out by Recv, so the caller keeps ownership of every slice it passes in and cgo's pointer
// rules hold. Queues made by [NewQueue] are unbounded; queues made by [NewRing] hold at most a fixed
// number of messages.
//
// On rings, messages of up to 64 bytes skip cgo altogether: the package runs the ring's slot
// protocol (lfq_ring_map in lfq.h) on the ring's memory with Go's atomics, and calls into the
// library only for a full, empty or closed ring, a longer message, or a wakeup of a thread asleep
// in the library. A single Send and Recv then cost about twice a buffered channel's, the Recv
// allocating the slice it returns, and [Queue.SendBatch] / [Queue.RecvBatch] under half per message.
// Unbounded queues make one cgo call per call, which alone costs about a channel operation. Other
// reasons to use lfq from Go: sharing a queue with C code in the same process ([Queue.Handle]),
// and holding large backlogs outside the Go heap.
//
// Blocking calls wait in Go, not in C: any number of goroutines blocked in Recv or Send on one
// queue cost at most one OS thread per direction, and cancelling their context returns promptly.
//
// All methods are safe for concurrent use.
package lfq

/*
#include "golfq.h"

// None of these keeps a pointer argument after it returns or calls back into Go, which lets cgo
// leave stack buffers (a received message, a count) on the stack and skip its callback bookkeeping.
#cgo noescape golfq_send
#cgo nocallback golfq_send
#cgo noescape golfq_recv
#cgo nocallback golfq_recv
#cgo noescape golfq_send_burst
#cgo nocallback golfq_send_burst
#cgo noescape golfq_recv_burst
#cgo nocallback golfq_recv_burst
#cgo noescape golfq_release
#cgo nocallback golfq_release
#cgo nocallback golfq_len
#cgo nocallback golfq_wait
#cgo nocallback golfq_close
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"unsafe"
)

// DefaultMaxMessageSize is the largest message, in bytes, that a queue accepts.
const DefaultMaxMessageSize = int(C.LFQ_DEFAULT_MAX_MESSAGE_SIZE)

// Sentinel errors. Compare with errors.Is.
var (
	// ErrClosed is returned by sends on a closed queue, and by receives once a closed queue is empty.
	ErrClosed = errors.New("lfq: queue closed")
	// ErrFull is returned by TrySend when a ring has no room.
	ErrFull = errors.New("lfq: queue full")
	// ErrEmpty is returned by TryRecv when there is no message.
	ErrEmpty = errors.New("lfq: queue empty")
	// ErrTooLarge is returned when a message is longer than the queue's maximum message size.
	ErrTooLarge = errors.New("lfq: message too large")
	// ErrFreed is returned by every call on a queue after Free.
	ErrFreed = errors.New("lfq: queue already freed")
	// ErrInvalid is wrapped by errors about bad arguments, such as a ring capacity that is not positive.
	ErrInvalid = errors.New("lfq: invalid argument")
	// ErrNoMemory is wrapped by errors about memory the library could not allocate, such as
	// the slots of a very large ring.
	ErrNoMemory = errors.New("lfq: out of memory")
)

// Queue is a FIFO queue of byte messages, unbounded ([NewQueue]) or bounded ([NewRing]).
// Any number of goroutines may send and receive at once. A Queue must not be copied. The zero
// Queue is not usable: its methods return errors wrapping [ErrInvalid].
type Queue struct {
	// h is the library handle as an integer (see golfq.h). It never changes; calls use it only
	// between calls.enter and exit, and Free destroys it once no call is inside.
	h C.uintptr_t

	calls inflight

	// ring moves small messages on a ring without cgo calls (see ringmap.go); nil for unbounded
	// queues.
	ring *ringMap

	capacity int
	maxSize  int

	readers waitSet // goroutines waiting for a message
	writers waitSet // goroutines waiting for room (rings only)
}

// NewQueue returns an empty unbounded queue. It panics only if the library cannot allocate the
// queue, as make does when memory runs out.
func NewQueue() *Queue {
	q, err := newQueue(0)
	if err != nil {
		panic(err)
	}
	return q
}

// NewRing returns an empty bounded queue that holds at most capacity messages. It returns an
// error wrapping [ErrInvalid] when capacity is not positive or is too large for the library, and
// one wrapping [ErrNoMemory] when the library cannot allocate that many slots.
func NewRing(capacity int) (*Queue, error) {
	if capacity <= 0 {
		return nil, fmt.Errorf("%w: ring capacity must be positive, got %d", ErrInvalid, capacity)
	}
	return newQueue(capacity)
}

func newQueue(capacity int) (*Queue, error) {
	opts := C.lfq_options{payload: C.LFQ_PAYLOAD_BYTES}
	var h *C.lfq_queue
	var st C.lfq_status
	if capacity == 0 {
		st = C.lfq_queue_new(&opts, &h)
	} else {
		st = C.lfq_ring_new(C.size_t(capacity), &opts, &h)
	}
	if st != C.LFQ_OK {
		err := statusError(st)
		if capacity > 0 {
			err = fmt.Errorf("%w (ring capacity %d)", err, capacity)
		}
		return nil, err
	}
	q := &Queue{
		h:        C.uintptr_t(uintptr(unsafe.Pointer(h))),
		capacity: capacity,
		maxSize:  int(C.lfq_max_message_size(h)),
	}
	if capacity > 0 {
		q.ring = mapRing(q.h, q.maxSize)
	}
	q.readers.init(true)
	q.writers.init(false)
	runtime.SetFinalizer(q, finalize)
	return q, nil
}

// finalized counts queues freed by the finalizer, for tests.
var finalized atomic.Int64

// finalize releases the library memory of a queue nobody can reach; no call can be in flight.
func finalize(q *Queue) {
	q.Free()
	finalized.Add(1)
}

// Free releases the queue's library memory, dropping any messages still queued. Goroutines
// blocked on the queue return [ErrFreed], and so does every later call. Free waits for calls
// already inside the library to return; calling it more than once is harmless. A finalizer frees
// queues that become unreachable, but Free releases the memory at a known time.
func (q *Queue) Free() {
	if !q.calls.startFree() {
		return // freed already, or being freed by another goroutine
	}
	// No new call enters from here on. Closing first makes the watchers' library waits return
	// at once, so that the calls still inside finish promptly.
	C.golfq_close(q.h)
	q.calls.drain()
	C.golfq_destroy(q.h)
	if q.h != 0 {
		// Only the constructors' queues have a finalizer. A zero Queue may lie inside a larger
		// allocation (a struct field), where SetFinalizer would end the program.
		runtime.SetFinalizer(q, nil)
	}
	q.readers.broadcast()
	q.writers.broadcast()
}

// Close closes the queue: later sends return [ErrClosed], receivers get the messages still queued
// and then [ErrClosed], and every blocked goroutine wakes. Closing an already closed queue returns
// [ErrClosed].
func (q *Queue) Close() error {
	c := q.calls.enter()
	if c == nil {
		return ErrFreed
	}
	st := C.golfq_close(q.h)
	c.exit()
	q.readers.broadcast()
	q.writers.broadcast()
	return q.statusError(st)
}

// Len returns the number of queued messages; under concurrent use it is a snapshot. It returns 0
// after Free.
func (q *Queue) Len() int {
	c := q.calls.enter()
	if c == nil {
		return 0
	}
	n := int(C.golfq_len(q.h))
	c.exit()
	return n
}

// Handle returns the queue's library handle, an lfq_queue * of include/lfq.h, for C code in the
// same process that sends and receives on the same queue (a bytes queue: lfq_send, lfq_recv and
// their batch forms). Go goroutines waiting on the queue wake when C code sends or receives: from
// the first call of Handle on, while goroutines wait on the queue, a goroutine per direction waits
// in the library for C code's progress (a queue only Go uses has none).
//
// The C code must call the same copy of liblfq that this package links: C compiled into the same
// Go program, or, with the lfq_pkgconfig build tag, the installed shared library. The handle is
// valid until [Queue.Free], which C code must never call lfq_destroy in place of; keep the Queue
// reachable (runtime.KeepAlive) while C code uses the handle, or the finalizer may free it.
func (q *Queue) Handle() unsafe.Pointer {
	q.readers.share(q)
	q.writers.share(q)
	// The handle is C memory, which the Go garbage collector never moves or frees; unsafe.Add
	// turns the integer back into that pointer.
	return unsafe.Add(nil, uintptr(q.h))
}

// Cap returns the capacity of a ring, or 0 for an unbounded queue.
func (q *Queue) Cap() int { return q.capacity }

// MaxMessageSize returns the largest message, in bytes, the queue accepts.
func (q *Queue) MaxMessageSize() int { return q.maxSize }

// Send appends msg to the queue, waiting while a ring is full. It returns [ErrClosed] if the queue
// is or becomes closed, and [ErrTooLarge] if msg is longer than [Queue.MaxMessageSize]. A nil or
// empty msg is sent as a zero-length message.
func (q *Queue) Send(msg []byte) error {
	return q.SendContext(context.Background(), msg)
}

// TrySend is Send without waiting: it returns [ErrFull] when a ring has no room.
func (q *Queue) TrySend(msg []byte) error {
	err := q.trySend(msg)
	if err == nil {
		q.readers.wake()
	}
	return err
}

// SendContext is Send that gives up when ctx is done, returning ctx.Err(); then msg was not sent.
// If there is room at once, msg is sent even when ctx is already done.
func (q *Queue) SendContext(ctx context.Context, msg []byte) error {
	err := q.trySend(msg)
	if err == ErrFull {
		err = q.wait(ctx, &q.writers, func() error { return q.trySend(msg) }, ErrFull)
	}
	if err == nil {
		q.readers.wake()
	}
	return err
}

// Recv removes and returns the oldest message, waiting while the queue is empty. Once the queue is
// closed and empty it returns [ErrClosed]. The returned slice is newly allocated and owned by the
// caller; a zero-length message comes back as an empty, non-nil slice.
func (q *Queue) Recv() ([]byte, error) {
	return q.RecvContext(context.Background())
}

// TryRecv is Recv without waiting: it returns [ErrEmpty] when there is no message.
func (q *Queue) TryRecv() ([]byte, error) {
	msg, err := q.tryRecv()
	if err == nil {
		q.writers.wake()
	}
	return msg, err
}

// RecvContext is Recv that gives up when ctx is done, returning ctx.Err(). A message is only
// taken off the queue when it is returned, so cancelling never loses one. If a message is
// available at once it is returned even when ctx is already done.
func (q *Queue) RecvContext(ctx context.Context) ([]byte, error) {
	msg, err := q.tryRecv()
	if err == ErrEmpty {
		err = q.wait(ctx, &q.readers, func() error {
			var e error
			msg, e = q.tryRecv()
			return e
		}, ErrEmpty)
	}
	if err == nil {
		q.writers.wake()
	}
	return msg, err
}

// trySend makes one non-blocking send: through the ring's memory when it can, else in the
// library.
func (q *Queue) trySend(msg []byte) error {
	c := q.calls.enter()
	if c == nil {
		return ErrFreed
	}
	raceReleaseMerge(unsafe.Pointer(q))
	if q.ring != nil && len(msg) <= q.ring.maxSize && q.ring.sendOne(msg) {
		c.exit()
		return nil
	}
	return q.sendInLibrary(c, msg)
}

// sendInLibrary makes one non-blocking send with a cgo call, then ends the call c.
func (q *Queue) sendInLibrary(c *inflightShard, msg []byte) error {
	// Taking the address before the call, rather than writing &msg[0] in it, spares cgo's pointer
	// check an allocation; nil stands for the empty message, which the C API allows.
	var p *C.uint8_t
	if len(msg) > 0 {
		p = (*C.uint8_t)(unsafe.Pointer(&msg[0]))
	}
	st := C.golfq_send(q.h, p, C.size_t(len(msg)))
	c.exit()
	if st == C.LFQ_OK {
		return nil
	}
	return q.statusError(st)
}

// tryRecv makes one non-blocking receive, through the ring's memory when it can, else in the
// library, and copies the message into Go memory.
func (q *Queue) tryRecv() ([]byte, error) {
	c := q.calls.enter()
	if c == nil {
		return nil, ErrFreed
	}
	if q.ring != nil {
		if msg, ok := q.ring.recvOne(); ok {
			c.exit()
			raceAcquire(unsafe.Pointer(q))
			return msg, nil
		}
	}
	var m C.golfq_message // stays on the stack: golfq_recv is noescape
	st := C.golfq_recv(q.h, &m)
	c.exit()
	if st != C.LFQ_OK {
		return nil, q.statusError(st)
	}
	raceAcquire(unsafe.Pointer(q))
	out := appendMessage(nil, &m)
	if m.heap != 0 {
		C.golfq_release(&m, 1)
	}
	return out, nil
}

// messageBytes views a received message's bytes in place (library memory or m itself).
func messageBytes(m *C.golfq_message) []byte {
	n := int(m.size)
	if m.heap != 0 {
		// SAFETY: the library hands over a block of m.size bytes at m.heap, C memory that stays
		// valid until golfq_release, which callers make only after copying. go vet cannot tell
		// that this integer holds a C pointer, which the Go garbage collector never moves.
		return unsafe.Slice((*byte)(unsafe.Add(nil, uintptr(m.heap))), n)
	}
	// SAFETY: without a heap part the message fits inline (size <= LFQ_INLINE_MESSAGE_SIZE).
	return unsafe.Slice((*byte)(unsafe.Pointer(&m.inline_bytes[0])), n)
}

// statusError is the package-level statusError, except that the close made by Free reads as
// ErrFreed.
func (q *Queue) statusError(st C.lfq_status) error {
	if st == C.LFQ_CLOSED && q.calls.isFreed() {
		return ErrFreed
	}
	return statusError(st)
}

// statusError maps a library status to the package's errors.
func statusError(st C.lfq_status) error {
	switch st {
	case C.LFQ_OK:
		return nil
	case C.LFQ_EMPTY:
		return ErrEmpty
	case C.LFQ_FULL:
		return ErrFull
	case C.LFQ_CLOSED:
		return ErrClosed
	case C.LFQ_ERR_TOO_LARGE:
		return ErrTooLarge
	case C.LFQ_ERR_INVALID_ARGUMENT:
		return ErrInvalid
	case C.LFQ_ERR_NO_MEMORY:
		return ErrNoMemory
	default:
		return fmt.Errorf("lfq: %s (status %d)", C.GoString(C.lfq_strerror(st)), int(st))
	}
}
