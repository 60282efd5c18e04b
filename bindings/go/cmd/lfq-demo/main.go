// Command lfq-demo prints the Go rows of `make demo`: each scenario's cost per message on lfq and
// on a buffered channel, measured in the same run.
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/lfq-dev/lfq/bindings/go/internal/workload"
)

// target is how long each measurement runs; 5 scenarios x 2 sides stay well inside the demo's
// 15-second budget.
const target = 250 * time.Millisecond

// measure returns the nanoseconds per message of f, growing n until one run lasts target.
func measure(f func(int) error) (float64, error) {
	n := 1024
	for {
		start := time.Now()
		if err := f(n); err != nil {
			return 0, err
		}
		d := time.Since(start)
		if d >= target || n >= 1<<30 {
			return float64(d.Nanoseconds()) / float64(n), nil
		}
		// Aim a little past the target so that the next run is usually the last.
		next := int(float64(n) * 1.2 * float64(target) / float64(max(d, time.Microsecond)))
		n = min(max(next, 2*n), 100*n)
	}
}

func main() {
	for _, p := range workload.Pairs() {
		lfqNs, err := measure(p.LFQ)
		if err == nil {
			var chanNs float64
			chanNs, err = measure(p.Chan)
			if err == nil {
				fmt.Printf("%-7s %-30s %12.1f  %-26s %12.1f  %6.2fx\n",
					"go", p.Desc, lfqNs, "chan []byte (buffered)", chanNs, chanNs/lfqNs)
				continue
			}
		}
		fmt.Fprintf(os.Stderr, "lfq-demo: %s: %v\n", p.Desc, err)
		os.Exit(1)
	}
}
