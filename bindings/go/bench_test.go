package lfq_test

import (
	"slices"
	"testing"
	"time"

	lfq "github.com/lfq-dev/lfq/bindings/go"
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

// BenchmarkPingPong: a message bounces between two goroutines through two rings of capacity 1,
// both sides waiting in Recv. Besides the mean it reports the median, the 99.9th percentile and
// the worst round trip, where stalls show. "lfq-shared" has first handed both rings to C code
// (Handle), which gives their waiters a watcher goroutine waiting in the library.
func BenchmarkPingPong(b *testing.B) {
	for _, side := range []string{"lfq", "lfq-shared", "chan"} {
		b.Run(side, func(b *testing.B) {
			var there, back func() error
			if side == "chan" {
				ping, pong := make(chan []byte, 1), make(chan []byte, 1)
				go func() {
					for m := range ping {
						pong <- m
					}
					close(pong)
				}()
				defer close(ping)
				there = func() error { ping <- make([]byte, 8); return nil }
				back = func() error { <-pong; return nil }
			} else {
				ping, pong := newBenchRing(b), newBenchRing(b)
				if side == "lfq-shared" {
					_, _ = ping.Handle(), pong.Handle()
				}
				go func() {
					for {
						m, err := ping.Recv()
						if err != nil || pong.Send(m) != nil {
							return
						}
					}
				}()
				defer ping.Close()
				there = func() error { return ping.Send(make([]byte, 8)) }
				back = func() error { _, err := pong.Recv(); return err }
			}
			trips := make([]time.Duration, b.N)
			b.ResetTimer()
			for i := range trips {
				start := time.Now()
				if err := there(); err != nil {
					b.Fatal(err)
				}
				if err := back(); err != nil {
					b.Fatal(err)
				}
				trips[i] = time.Since(start)
			}
			b.StopTimer()
			slices.Sort(trips)
			b.ReportMetric(float64(trips[len(trips)/2]), "p50-ns")
			b.ReportMetric(float64(trips[len(trips)*999/1000]), "p99.9-ns")
			b.ReportMetric(float64(trips[len(trips)-1]), "max-ns")
		})
	}
}

func newBenchRing(b *testing.B) *lfq.Queue {
	q, err := lfq.NewRing(1)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(q.Free)
	return q
}
