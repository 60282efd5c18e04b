package lfq

/*
#include "golfq.h"
*/
import "C"

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Blocking design. A goroutine that finds the queue empty (or a ring full) does not block in C,
// which would pin an OS thread per waiter. It registers in a waitSet and parks on the set's
// current generation channel. Two things close that channel (waking every parked goroutine, which
// then retries):
//   - a Go call on this queue that made progress (a send wakes readers, a receive wakes writers),
//     the fast path between goroutines;
//   - once Handle has given the queue to C code, a watcher goroutine, at most one per waitSet and
//     only while someone waits, that sits in lfq_wait_readable / lfq_wait_writable, so that
//     progress made by C code wakes Go waiters as well.
// Queues that only Go uses have no watcher. A goroutine inside a cgo call keeps its P until the
// runtime's sysmon takes it back, which can take milliseconds: with watchers, some round trips of
// a ping-pong between two goroutines at GOMAXPROCS=2 took 10-20 ms; without them, at most 2.3 ms
// (BENCHMARKS.md, run P).
// Waiters only ever take a message inside their own retry, so a waiter that gives up (context
// done) has taken nothing.

const (
	// spinTries is how many times a caller yields and retries before parking: a peer that is
	// running will usually make progress within a few scheduler rounds, and parking costs more.
	spinTries = 4
	// A watcher waits in the library in slices: it keeps its P while inside cgo, so goroutines
	// queued on that P wait for the slice to end (or for sysmon, which can take 10 ms) before
	// they run. Slices start short after every wake-up and double while nothing happens, up to
	// watchSliceMax, which also bounds how late a watcher notices that nobody waits any more.
	watchSliceMin = time.Millisecond
	watchSliceMax = 50 * time.Millisecond
)

// waitSet holds the goroutines waiting for one condition: readable (a message to take) or
// writable (room in a ring).
type waitSet struct {
	readable bool

	// waiting mirrors n so that the hot path (a send or receive that succeeded) can see without
	// locking that nobody needs waking.
	waiting atomic.Int32

	mu   sync.Mutex
	cond sync.Cond // the watcher sleeps on it while nobody needs it; uses mu
	gen  chan struct{}
	n    int // registered waiters
	// need is set by a waiter that has retried since the last wake-up and still has to wait; the
	// watcher only enters the library while it is set, so it never spins on a condition that
	// waiters have not yet had a chance to consume.
	need     bool
	watching bool
	// shared is set once C code may use the queue (Queue.Handle); only then do waiters need a
	// watcher.
	shared bool
}

func (ws *waitSet) init(readable bool) {
	ws.readable = readable
	ws.cond.L = &ws.mu
	ws.gen = make(chan struct{})
}

// register adds the caller as a waiter and returns the channel that the next wake-up closes. The
// caller must retry its operation after register (so that progress between its failed attempt
// and this call is not missed) and call unregister when done.
func (ws *waitSet) register(q *Queue) <-chan struct{} {
	ws.mu.Lock()
	ch := ws.gen
	ws.n++
	ws.waiting.Store(int32(ws.n))
	ws.need = true
	if ws.shared {
		ws.startWatcher(q)
	}
	ws.mu.Unlock()
	return ch
}

// share makes the set watch the library for progress from now on, for waiters present and
// future: Handle calls it when C code may start sending or receiving on the queue.
func (ws *waitSet) share(q *Queue) {
	ws.mu.Lock()
	ws.shared = true
	if ws.n > 0 {
		ws.startWatcher(q)
	}
	ws.mu.Unlock()
}

// startWatcher starts the watcher, or wakes it to wait in the library again. The caller holds mu,
// and someone waits.
func (ws *waitSet) startWatcher(q *Queue) {
	if !ws.watching {
		ws.watching = true
		go q.watch(ws)
	} else {
		ws.cond.Signal()
	}
}

func (ws *waitSet) unregister() {
	ws.mu.Lock()
	ws.n--
	ws.waiting.Store(int32(ws.n))
	if ws.n == 0 {
		ws.cond.Signal() // let the watcher exit
	}
	ws.mu.Unlock()
}

// wake wakes the waiters, if any; it is cheap when there are none.
func (ws *waitSet) wake() {
	if ws.waiting.Load() > 0 {
		ws.broadcast()
	}
}

// broadcast wakes every registered waiter.
func (ws *waitSet) broadcast() {
	ws.mu.Lock()
	if ws.n > 0 {
		close(ws.gen)
		ws.gen = make(chan struct{})
	}
	ws.mu.Unlock()
}

// wait retries try until it returns something other than wouldBlock, parking between attempts
// as described above, or until ctx is done.
func (q *Queue) wait(ctx context.Context, ws *waitSet, try func() error, wouldBlock error) error {
	for i := 0; i < spinTries; i++ {
		runtime.Gosched()
		if err := try(); err != wouldBlock {
			return err
		}
	}
	done := ctx.Done()
	for {
		ch := ws.register(q)
		if err := try(); err != wouldBlock {
			ws.unregister()
			return err
		}
		select {
		case <-ch:
			ws.unregister()
		case <-done:
			ws.unregister()
			return ctx.Err()
		}
	}
}

// watch is the watcher goroutine of ws. It exits when nobody waits.
func (q *Queue) watch(ws *waitSet) {
	slice := watchSliceMin
	for {
		ws.mu.Lock()
		for ws.n > 0 && !ws.need {
			ws.cond.Wait()
		}
		if ws.n == 0 {
			ws.watching = false
			ws.mu.Unlock()
			return
		}
		ws.need = false
		ws.mu.Unlock()

		st := q.waitReady(ws.readable, slice)
		if slice < watchSliceMax {
			// Let the goroutines that were queued on this P while it sat in C run first. Not
			// after the longest slices, when nothing happens: there it cost about 1.4 ms of CPU
			// time per call (BENCHMARKS.md, run P).
			runtime.Gosched()
		}
		if st == C.LFQ_TIMEOUT || st == C.LFQ_EMPTY || st == C.LFQ_FULL {
			// Nothing changed, so the waiters are still waiting and need no retry.
			slice = min(2*slice, watchSliceMax)
			ws.mu.Lock()
			ws.need = true
			ws.mu.Unlock()
			continue
		}
		// Ready, closed, freed or an error: each waiter's retry reports which.
		slice = watchSliceMin
		ws.broadcast()
	}
}

// waitReady waits in the library, up to timeout, for the queue to become readable or writable.
// It reports LFQ_CLOSED once the queue is freed.
func (q *Queue) waitReady(readable bool, timeout time.Duration) C.lfq_status {
	c := q.calls.enter()
	if c == nil {
		return C.LFQ_CLOSED
	}
	defer c.exit()
	r := C.int(0)
	if readable {
		r = 1
	}
	return C.golfq_wait(q.h, r, C.int64_t(timeout))
}
