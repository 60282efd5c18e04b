package lfq

/*
#include <stdlib.h>
#include "golfq.h"
*/
import "C"

import (
	"context"
	"runtime"
	"sync"
	"unsafe"
)

// scratch holds the buffers one batch call hands to the library. They are C memory: the library
// may read and write them freely, and cgo has no Go memory to check on each call (its pointer
// check would otherwise walk every lfq_message of a receive batch). Scratches are pooled so that a
// batch costs no allocation in the steady state; a cleanup frees the C memory of a scratch that
// the pool drops.
type scratch struct {
	mem *scratchMem
}

// scratchMem is kept apart from scratch so that the cleanup can hold it without keeping the
// scratch itself reachable.
type scratchMem struct {
	data  cbuf // outgoing messages packed back to back
	sizes cbuf // outgoing message lengths (size_t)
	msgs  cbuf // incoming lfq_message structs, uninitialised until lfq_recv_burst fills them
}

// cbuf is a growable block of C memory whose old contents never need keeping.
type cbuf struct {
	p unsafe.Pointer
	n uintptr
}

// reserve returns a block of at least n bytes (n > 0).
func (b *cbuf) reserve(n uintptr) unsafe.Pointer {
	if n > b.n {
		C.free(b.p)
		b.p, b.n = nil, 0
		p := C.malloc(C.size_t(n))
		if p == nil {
			panic("lfq: out of memory")
		}
		b.p, b.n = p, n
	}
	return b.p
}

func (m *scratchMem) free() {
	for _, b := range []*cbuf{&m.data, &m.sizes, &m.msgs} {
		C.free(b.p)
		b.p, b.n = nil, 0
	}
}

// maxPooledBytes keeps a rare huge batch from pinning its buffers in the pool.
const maxPooledBytes = 1 << 20

const messageSize = unsafe.Sizeof(C.golfq_message{})

var scratchPool = sync.Pool{New: func() any {
	s := &scratch{mem: new(scratchMem)}
	runtime.AddCleanup(s, (*scratchMem).free, s.mem)
	return s
}}

func getScratch() *scratch { return scratchPool.Get().(*scratch) }

func putScratch(s *scratch) {
	if m := s.mem; m.data.n > maxPooledBytes || m.sizes.n > maxPooledBytes || m.msgs.n > maxPooledBytes {
		m.free() // still safe to pool: the next reserve allocates afresh
	}
	scratchPool.Put(s)
}

// SendBatch sends msgs in order, waiting while a ring is full, and returns how many were sent.
// The messages that fit go in together: one claim of ring slots, or one cgo call on an unbounded
// queue (up to 8,128 messages in one run) or when a message is longer than 64 bytes. It returns n < len(msgs) only
// with an error: [ErrClosed] when the queue is closed part way. If any message is longer than
// [Queue.MaxMessageSize], nothing is sent and the error is [ErrTooLarge].
func (q *Queue) SendBatch(msgs [][]byte) (int, error) {
	return q.SendBatchContext(context.Background(), msgs)
}

// SendBatchContext is SendBatch that gives up when ctx is done, returning the number already sent
// and ctx.Err(). The messages that fit at once are sent even when ctx is already done.
func (q *Queue) SendBatchContext(ctx context.Context, msgs [][]byte) (int, error) {
	if q.calls.isFreed() {
		return 0, ErrFreed
	}
	if len(msgs) == 0 {
		return 0, nil
	}
	if q.h == 0 {
		// The zero Queue, whose maximum size of 0 would otherwise make this ErrTooLarge.
		return 0, statusError(C.LFQ_ERR_INVALID_ARGUMENT)
	}
	longest := 0
	for _, m := range msgs {
		longest = max(longest, len(m))
	}
	if longest > q.maxSize {
		return 0, ErrTooLarge
	}
	// burst sends as many of msgs[from:] as fit now, without waiting.
	burst := func(from int) (int, error) { return q.trySendDirect(msgs[from:]) }
	if q.ring == nil || longest > q.ring.maxSize {
		s := getScratch()
		defer putScratch(s)
		burst = q.packedBurst(s, msgs)
	}
	sent := 0
	for sent < len(msgs) {
		n, err := burst(sent)
		if err == ErrFull {
			err = q.wait(ctx, &q.writers, func() error {
				var e error
				n, e = burst(sent)
				return e
			}, ErrFull)
		}
		if err != nil {
			return sent, err
		}
		q.readers.wake()
		sent += n
	}
	return sent, nil
}

// trySendDirect sends as many of msgs as fit now through the ring's memory, falling back to the
// library for the first one when none fits there (which tells full from closed).
func (q *Queue) trySendDirect(msgs [][]byte) (int, error) {
	c := q.calls.enter()
	if c == nil {
		return 0, ErrFreed
	}
	raceReleaseMerge(unsafe.Pointer(q))
	if n := q.ring.send(msgs); n > 0 {
		c.exit()
		return n, nil
	}
	if err := q.sendInLibrary(c, msgs[0]); err != nil {
		return 0, err
	}
	return 1, nil
}

// packedBurst copies msgs back to back into the scratch's C memory and returns a burst function
// that sends msgs[from:] from there with one cgo call. Calls must ask for increasing from. On a
// ring each call offers at most a ringful: the library reads every size it is offered, so
// offering the whole rest of a long batch on every call would make the batch quadratic.
func (q *Queue) packedBurst(s *scratch, msgs [][]byte) func(from int) (int, error) {
	total := 0
	for _, m := range msgs {
		total += len(m)
	}
	// The library wants a valid data pointer even when every message is empty, hence the +1.
	data := unsafe.Slice((*byte)(s.mem.data.reserve(uintptr(total)+1)), total)
	sizes := unsafe.Slice((*C.size_t)(s.mem.sizes.reserve(uintptr(len(msgs))*unsafe.Sizeof(C.size_t(0)))), len(msgs))
	packed := 0
	for i, m := range msgs {
		packed += copy(data[packed:], m)
		sizes[i] = C.size_t(len(m))
	}
	at, off := 0, 0 // off is where message at starts in data
	return func(from int) (int, error) {
		for ; at < from; at++ {
			off += int(sizes[at])
		}
		end := len(sizes)
		if q.capacity > 0 {
			end = min(end, from+q.capacity)
		}
		return q.trySendBurst(data[off:], sizes[from:end])
	}
}

// trySendBurst sends as many of the packed messages as fit now, with one cgo call. data and
// sizes are views of a scratch's C memory; data may be empty but its pointer is still valid.
func (q *Queue) trySendBurst(data []byte, sizes []C.size_t) (int, error) {
	dp := (*C.uint8_t)(unsafe.SliceData(data))
	sp := unsafe.SliceData(sizes)
	var sent C.size_t
	c := q.calls.enter()
	if c == nil {
		return 0, ErrFreed
	}
	raceReleaseMerge(unsafe.Pointer(q))
	st := C.golfq_send_burst(q.h, dp, sp, C.size_t(len(sizes)), &sent)
	c.exit()
	if st != C.LFQ_OK {
		return 0, q.statusError(st)
	}
	return int(sent), nil
}

// RecvBatch waits until at least one message is available, then receives up to len(dst) messages
// at once (one claim of ring slots, or one cgo call) and returns how many. Message i is copied
// into dst[i], reusing its capacity (a nil dst[i] gets a new slice), so a dst kept across calls
// makes receiving allocation-free; len(dst[i]) is the message's length. Once the queue is closed and empty it returns [ErrClosed].
// An empty dst returns 0, nil at once.
func (q *Queue) RecvBatch(dst [][]byte) (int, error) {
	return q.RecvBatchContext(context.Background(), dst)
}

// RecvBatchContext is RecvBatch that gives up when ctx is done, returning 0 and ctx.Err(); no
// message is taken in that case. Messages available at once are returned even when ctx is already
// done.
func (q *Queue) RecvBatchContext(ctx context.Context, dst [][]byte) (int, error) {
	if q.calls.isFreed() {
		return 0, ErrFreed
	}
	if len(dst) == 0 {
		return 0, nil
	}
	n, err := q.tryRecvBurst(dst)
	if err == ErrEmpty {
		err = q.wait(ctx, &q.readers, func() error {
			var e error
			n, e = q.tryRecvBurst(dst)
			return e
		}, ErrEmpty)
	}
	if err != nil {
		return 0, err
	}
	q.writers.wake()
	return n, nil
}

// tryRecvBurst receives up to len(dst) messages without waiting: through the ring's memory when
// it can, else with one cgo call.
func (q *Queue) tryRecvBurst(dst [][]byte) (int, error) {
	c := q.calls.enter()
	if c == nil {
		return 0, ErrFreed
	}
	if q.ring != nil {
		if n := q.ring.recv(dst); n > 0 {
			c.exit()
			raceAcquire(unsafe.Pointer(q))
			return n, nil
		}
	}
	s := getScratch()
	defer putScratch(s)
	p := (*C.golfq_message)(s.mem.msgs.reserve(uintptr(len(dst)) * messageSize))
	var got C.size_t
	st := C.golfq_recv_burst(q.h, p, C.size_t(len(dst)), &got)
	c.exit()
	if st != C.LFQ_OK {
		return 0, q.statusError(st)
	}
	raceAcquire(unsafe.Pointer(q))
	n := int(got)
	msgs := unsafe.Slice(p, n)
	anyHeap := false
	for i := range msgs {
		dst[i] = appendMessage(dst[i], &msgs[i])
		anyHeap = anyHeap || msgs[i].heap != 0
	}
	if anyHeap {
		// One call frees all heap parts; batches of small messages, which are all inline,
		// skip the crossing.
		C.golfq_release(p, C.size_t(n))
	}
	return n, nil
}
