//go:build !race

package lfq

import "unsafe"

// Without the race detector there is nothing to annotate (see race.go).

func raceReleaseMerge(unsafe.Pointer) {}

func raceAcquire(unsafe.Pointer) {}
