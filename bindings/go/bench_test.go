package lfq_test

import (
	"testing"

	"github.com/lfq-dev/lfq/bindings/go/internal/workload"
)

// Every benchmark has an lfq and a chan sub-benchmark doing the same work in the same run, so
// their ratio is meaningful. One op is one message of 64 bytes; see package workload.

func run(b *testing.B, name string) {
	for _, p := range workload.Pairs() {
		if p.Name != name {
			continue
		}
		for _, side := range []struct {
			name string
			f    func(int) error
		}{{"lfq", p.LFQ}, {"chan", p.Chan}} {
			b.Run(side.name, func(b *testing.B) {
				b.ReportAllocs()
				if err := side.f(b.N); err != nil {
					b.Fatal(err)
				}
			})
		}
		return
	}
	b.Fatalf("no workload %q", name)
}

// BenchmarkSendRecv: one goroutine sends a message and receives it back.
func BenchmarkSendRecv(b *testing.B) { run(b, "SendRecv") }

// BenchmarkBatch64: one goroutine sends 64 messages in one batch, then receives them.
func BenchmarkBatch64(b *testing.B) { run(b, "Batch64") }

// Benchmark1P1C: a producer and a consumer goroutine, capacity 1024.
func Benchmark1P1C(b *testing.B) { run(b, "1P1C") }

// Benchmark2P2C: two producers and two consumers, capacity 1024.
func Benchmark2P2C(b *testing.B) { run(b, "2P2C") }

// BenchmarkBatch64_1P1C: a producer sends batches of 64, a consumer receives batches of up to 64.
func BenchmarkBatch64_1P1C(b *testing.B) { run(b, "Batch64_1P1C") }
