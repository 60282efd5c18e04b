//go:build race

package lfq

import (
	"runtime"
	"unsafe"
)

// The race detector does not see atomics on C memory, so it cannot see that a message sent
// through a ring's memory happens before its receipt. These annotations tell it, as the
// runtime's own bookkeeping does for every cgo call.

func raceReleaseMerge(addr unsafe.Pointer) { runtime.RaceReleaseMerge(addr) }

func raceAcquire(addr unsafe.Pointer) { runtime.RaceAcquire(addr) }
