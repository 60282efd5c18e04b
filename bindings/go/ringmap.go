package lfq

/*
#include "golfq.h"

#cgo noescape golfq_ring_map
#cgo nocallback golfq_ring_map
#cgo nocallback golfq_notify
*/
import "C"

import (
	"sync/atomic"
	"unsafe"
)

// A cgo call costs several times a whole ring operation, so on rings the common cases skip it:
// ringMap runs the slot protocol that lfq.h specifies under lfq_ring_map directly on the ring's
// memory, with Go's atomics (which are sequentially consistent, as the protocol asks). Anything
// off the common path (a full, empty or closed ring, a slot another thread has not finished with,
// a message too long for a slot) returns 0, and the caller makes the ordinary library call, which
// sorts it out.
// Every method must run between calls.enter and exit, which keep the memory alive.

// copyInline's two moves are one slot's worth: this fails to compile if that changes.
var _ = [1]struct{}{}[inlineSize-64]

const (
	inlineSize   = int(C.LFQ_INLINE_MESSAGE_SIZE)
	mapClosedBit = uintptr(C.LFQ_RING_MAP_CLOSED)
	mapShift     = uintptr(C.LFQ_RING_MAP_SHIFT)
)

// ringMap is a ring's shared memory as lfq_ring_map describes it.
type ringMap struct {
	h              C.uintptr_t
	head, tail     *uintptr
	readersWaiting *uint32
	writersWaiting *uint32
	slots          unsafe.Pointer
	slotSize       uintptr
	stampOffset    uintptr
	messageOffset  uintptr
	capacity       uintptr
	lapMask        uintptr // one_lap - 1
	oneLap         uintptr
	maxSize        int // the longest message a slot takes: min(inlineSize, queue maximum)
}

// mapRing returns the map of the bytes ring h, or nil when h is not a ring or speaks another
// version of the protocol; then every call goes through the library.
func mapRing(h C.uintptr_t, maxSize int) *ringMap {
	var m C.lfq_ring_map
	if C.golfq_ring_map(h, &m) != C.LFQ_OK || m.version != C.LFQ_RING_MAP_VERSION {
		return nil
	}
	return &ringMap{
		h:              h,
		head:           (*uintptr)(unsafe.Pointer(m.head)),
		tail:           (*uintptr)(unsafe.Pointer(m.tail)),
		readersWaiting: (*uint32)(unsafe.Pointer(m.readers_waiting)),
		writersWaiting: (*uint32)(unsafe.Pointer(m.writers_waiting)),
		slots:          unsafe.Pointer(m.slots),
		slotSize:       uintptr(m.slot_size),
		stampOffset:    uintptr(m.stamp_offset),
		messageOffset:  uintptr(m.message_offset),
		capacity:       uintptr(m.capacity),
		lapMask:        uintptr(m.one_lap) - 1,
		oneLap:         uintptr(m.one_lap),
		maxSize:        min(inlineSize, maxSize),
	}
}

// slot returns the address of the slot of position p.
func (r *ringMap) slot(p uintptr) unsafe.Pointer {
	return unsafe.Add(r.slots, (p&r.lapMask)*r.slotSize)
}

func (r *ringMap) stamp(slot unsafe.Pointer) *uintptr {
	return (*uintptr)(unsafe.Add(slot, r.stampOffset))
}

func (r *ringMap) message(slot unsafe.Pointer) *C.golfq_message {
	return (*C.golfq_message)(unsafe.Add(slot, r.messageOffset))
}

// next returns the position after p: the next slot, or the first slot of the next lap.
func (r *ringMap) next(p uintptr) uintptr {
	if (p&r.lapMask)+1 < r.capacity {
		return p + 1
	}
	return (p &^ r.lapMask) + r.oneLap
}

// claimSend claims up to max (>= 1) consecutive positions at the tail whose slots are free, with
// one compare-and-swap, and returns the first and how many; 0 when the ring is full, closed or
// busy at the tail.
func (r *ringMap) claimSend(max int) (first uintptr, n int) {
	for {
		// The stamp loads see a consumer's release of each slot (the protocol's step 2).
		t := atomic.LoadUintptr(r.tail)
		if t&mapClosedBit != 0 {
			return 0, 0
		}
		first = t >> mapShift
		n, p := 0, first
		for n < max && uintptr(n) < r.capacity && atomic.LoadUintptr(r.stamp(r.slot(p))) == p {
			n, p = n+1, r.next(p)
		}
		// A failed claim means another producer moved the tail: look again.
		if n == 0 || atomic.CompareAndSwapUintptr(r.tail, t, p<<mapShift) {
			return first, n
		}
	}
}

// claimRecv claims up to max (>= 1) consecutive positions at the head whose messages are
// published, and returns the first and how many; 0 when the ring is empty (or closed and empty,
// or busy at the head).
func (r *ringMap) claimRecv(max int) (first uintptr, n int) {
	for {
		first = atomic.LoadUintptr(r.head)
		n, p := 0, first
		for n < max && uintptr(n) < r.capacity && atomic.LoadUintptr(r.stamp(r.slot(p))) == p+1 {
			n, p = n+1, r.next(p)
		}
		if n == 0 || atomic.CompareAndSwapUintptr(r.head, first, p) {
			return first, n
		}
	}
}

// The four functions below write and read messages in claimed slots. Single calls have their own
// functions because a batch of one cost them about 8 ns. Both forms write through writeMessage,
// which the compiler inlines; a per-message helper it would not inline cost batches a fifth of
// their time, so the few lines of each read stand in both receive functions.

// sendOne sends msg (at most r.maxSize bytes) and reports whether it could.
func (r *ringMap) sendOne(msg []byte) bool {
	p, n := r.claimSend(1)
	if n == 0 {
		return false
	}
	s := r.slot(p)
	writeMessage(r.message(s), msg)
	// Publishes the message to the consumer whose stamp load sees p + 1.
	atomic.StoreUintptr(r.stamp(s), p+1)
	r.sent(1)
	return true
}

// send sends the first messages of msgs (each at most r.maxSize bytes), as many as there are free
// slots in a row, and returns how many; 0 means the ring is full, closed or busy at the tail.
func (r *ringMap) send(msgs [][]byte) int {
	first, n := r.claimSend(len(msgs))
	if n == 0 {
		return 0
	}
	p := first
	for i, msg := range msgs[:n] {
		s := r.slot(p)
		writeMessage(r.message(s), msg)
		if i > 0 {
			atomic.StoreUintptr(r.stamp(s), p+1)
		}
		p = r.next(p)
	}
	// The first message goes out last. Consumers take messages in order from the first, so they
	// see the whole batch at once; published one by one as each landed, they chased the producer
	// a slot or two at a time, both sides pulling the same slot lines back and forth, and a
	// producer/consumer pair ran twice as slow.
	atomic.StoreUintptr(r.stamp(r.slot(first)), first+1)
	r.sent(n)
	return n
}

// recvOne receives one message into a new slice, and reports whether there was one.
func (r *ringMap) recvOne() ([]byte, bool) {
	p, n := r.claimRecv(1)
	if n == 0 {
		return nil, false
	}
	s := r.slot(p)
	m := r.message(s)
	msg := appendMessage(nil, m)
	if m.heap != 0 {
		// Rare: messages longer than a slot come only from library calls.
		C.golfq_release(m, 1)
	}
	// Hands the slot, read above, to the next lap's producer.
	atomic.StoreUintptr(r.stamp(s), p+r.oneLap)
	r.received(1)
	return msg, true
}

// recv receives up to len(dst) messages in a row, message i into dst[i] (see appendMessage), and
// returns how many; 0 when the ring is empty (or closed and empty, or busy at the head).
func (r *ringMap) recv(dst [][]byte) int {
	first, n := r.claimRecv(len(dst))
	p := first
	for i := range dst[:n] {
		s := r.slot(p)
		m := r.message(s)
		dst[i] = appendMessage(dst[i], m)
		if m.heap != 0 {
			C.golfq_release(m, 1)
		}
		atomic.StoreUintptr(r.stamp(s), p+r.oneLap)
		p = r.next(p)
	}
	if n > 0 {
		r.received(n)
	}
	return n
}

// writeMessage stores msg (at most inlineSize bytes) in the slot message m. Small enough for the
// compiler to inline into both send loops.
func writeMessage(m *C.golfq_message, msg []byte) {
	m.size, m.heap = C.size_t(len(msg)), 0
	if len(msg) == inlineSize {
		copyInline(unsafe.Pointer(&m.inline_bytes), unsafe.Pointer(unsafe.SliceData(msg)))
	} else {
		writeShort(m, msg)
	}
}

// writeShort stores a message shorter than a slot, zeroing the rest as the protocol asks.
func writeShort(m *C.golfq_message, msg []byte) {
	bytes := (*[inlineSize]byte)(unsafe.Pointer(&m.inline_bytes))
	clear(bytes[copy(bytes[:], msg):])
}

// sent wakes library sleepers waiting for messages, if any, after n were published. The load
// follows the claim (a sequentially consistent update of the tail), as the library's sleep/wake
// handshake requires.
func (r *ringMap) sent(n int) {
	if atomic.LoadUint32(r.readersWaiting) != 0 {
		C.golfq_notify(r.h, 1, C.size_t(n))
	}
}

// received wakes library sleepers waiting for room, if any, after n slots were freed.
func (r *ringMap) received(n int) {
	if atomic.LoadUint32(r.writersWaiting) != 0 {
		C.golfq_notify(r.h, 0, C.size_t(n))
	}
}

// appendMessage copies m's bytes into d, reusing its capacity when it is not nil; a nil d gets
// a new slice, non-nil even for an empty message.
func appendMessage(d []byte, m *C.golfq_message) []byte {
	src := messageBytes(m)
	if d == nil || cap(d) < len(src) {
		d = make([]byte, len(src))
	}
	d = d[:len(src)]
	if len(src) == inlineSize {
		copyInline(unsafe.Pointer(unsafe.SliceData(d)), unsafe.Pointer(unsafe.SliceData(src)))
	} else {
		copy(d, src)
	}
	return d
}

// copyInline copies inlineSize bytes from src to dst in two 32-byte moves (four vector moves).
// The copy and memmove builtins call runtime.memmove, and a whole-array assignment goes through a
// stack temporary (the compiler cannot rule out overlap); for the full-size messages that most
// batches carry, either costs more than the move itself.
func copyInline(dst, src unsafe.Pointer) {
	d := (*[inlineSize / 32][32]byte)(dst)
	s := (*[inlineSize / 32][32]byte)(src)
	d[0] = s[0]
	d[1] = s[1]
}
