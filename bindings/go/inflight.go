package lfq

import (
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"
)

// Free-safety. lfq_destroy must not overlap any other call on the same handle, so every call
// into the library is counted while it runs and Free waits for the count to reach zero.
//
// One shared counter (or a sync.RWMutex, which is one) makes every call write the same cache
// line: with a producer and a consumer on two cores that line moves between them twice per
// call, which cost about a fifth of a Send or Recv. So the count is split over inflightShards
// counters, each on its own cache line. A goroutine picks its counter from the address of its
// stack, which differs between goroutines and stays put while a goroutine runs, so goroutines
// running side by side usually write different lines, and a goroutine keeps finding its line in
// its core's cache. The counter picked is remembered until the call ends, so a stack that moves
// in between does no harm.
//
// Ordering: a call increments its counter and then reads freed; Free sets freed and then reads
// the counters. Go's atomics are sequentially consistent, so either the call sees freed (and
// backs out without touching the handle) or Free sees the call's increment (and waits for it).

const (
	inflightBits   = 5
	inflightShards = 1 << inflightBits // the number of counters
)

// inflightShard is one counter, padded to a cache line of its own. Consecutive counters are 64
// bytes apart, so no two share a line whatever the alignment of the array.
type inflightShard struct {
	n atomic.Int64
	_ [56]byte
}

// inflight is the split counter of calls inside the library, with the flag that Free sets.
type inflight struct {
	freed  atomic.Bool
	shards [inflightShards]inflightShard
}

// enter registers a call about to use the handle. It returns nil once Free has started; then
// the caller must not touch the handle. Otherwise the caller must pass the result to exit when
// its library call has returned.
func (f *inflight) enter() *inflightShard {
	var marker byte
	// Stacks are at least a few KiB apart; a multiplicative hash of the address above the low
	// bits spreads them over the counters. Only the address's value is used, never the pointer.
	i := ((uint64(uintptr(unsafe.Pointer(&marker))) >> 10) * 0x9e3779b97f4a7c15) >> (64 - inflightBits)
	s := &f.shards[i%inflightShards]
	s.n.Add(1)
	if f.freed.Load() {
		s.n.Add(-1)
		return nil
	}
	return s
}

// exit ends a call registered by enter.
func (s *inflightShard) exit() { s.n.Add(-1) }

// startFree sets the freed flag and reports whether this call set it (the first Free).
func (f *inflight) startFree() bool { return !f.freed.Swap(true) }

// isFreed reports whether Free has started.
func (f *inflight) isFreed() bool { return f.freed.Load() }

// drain waits until no call is inside the library. Only calls that entered before startFree
// can be, and none of them blocks for long: the handle is closed by then, which ends the
// watchers' waits, and every other call is non-blocking.
func (f *inflight) drain() {
	for spins := 0; f.busy(); spins++ {
		if spins < 100 {
			runtime.Gosched()
		} else {
			time.Sleep(50 * time.Microsecond)
		}
	}
}

func (f *inflight) busy() bool {
	for i := range f.shards {
		if f.shards[i].n.Load() != 0 {
			return true
		}
	}
	return false
}
