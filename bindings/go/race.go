//go:build race

package lfq

import (
	"runtime"
	"unsafe"
)

// The race detector does not see atomics on C memory, so it cannot see that a message sent
// through a ring's memory happens before its receipt. Every send releases, and every receipt
// acquires, the queue's address, whichever path (the ring's memory or a cgo call) each side took;
// the runtime's own bookkeeping does the same for cgo calls alone.

func raceReleaseMerge(addr unsafe.Pointer) { runtime.RaceReleaseMerge(addr) }

func raceAcquire(addr unsafe.Pointer) { runtime.RaceAcquire(addr) }
