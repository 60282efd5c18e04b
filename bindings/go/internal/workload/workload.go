// Package workload holds the scenarios that both the benchmarks and the demo run: each one moves
// n messages through an lfq queue and, for comparison, through a buffered channel.
//
// The channel side passes the same preallocated 64-byte slices and never copies, the cheapest way
// to use a channel; lfq copies every message in and out.
package workload

import (
	"sync"

	lfq "github.com/lfq-dev/lfq/bindings/go"
)

const (
	// MsgSize is the length of every message.
	MsgSize = 64
	// Batch is the number of messages per batch call.
	Batch = 64
	// Capacity is the capacity of the ring and of the channel.
	Capacity = 1024
)

// Pair is one scenario, run on lfq and on a channel. Each function moves n messages.
type Pair struct {
	Name string // for benchmark names
	Desc string // for the demo table
	LFQ  func(n int) error
	Chan func(n int) error
}

// Pairs lists the scenarios.
func Pairs() []Pair {
	return []Pair{
		{"SendRecv", "send+recv 64 B, 1 goroutine", lfqSendRecv, chanSendRecv},
		{"Batch64", "batch 64 x 64 B, 1 goroutine", lfqBatch, chanBatch},
		{"1P1C", "1P1C 64 B, cap 1024", func(n int) error { return lfqPipe(n, 1, 1) }, func(n int) error { return chanPipe(n, 1, 1) }},
		{"2P2C", "2P2C 64 B, cap 1024", func(n int) error { return lfqPipe(n, 2, 2) }, func(n int) error { return chanPipe(n, 2, 2) }},
		{"Batch64_1P1C", "1P1C batch 64 x 64 B", lfqBatchPipe, chanBatchPipe},
	}
}

// messages returns Batch distinct messages of MsgSize bytes.
func messages() [][]byte {
	msgs := make([][]byte, Batch)
	for i := range msgs {
		msgs[i] = make([]byte, MsgSize)
		msgs[i][0] = byte(i)
	}
	return msgs
}

func newRing() (*lfq.Queue, error) { return lfq.NewRing(Capacity) }

// batches is how many whole batches cover n messages.
func batches(n int) int { return (n + Batch - 1) / Batch }

func lfqSendRecv(n int) error {
	q, err := newRing()
	if err != nil {
		return err
	}
	defer q.Free()
	msg := messages()[0]
	for i := 0; i < n; i++ {
		if err := q.Send(msg); err != nil {
			return err
		}
		if _, err := q.Recv(); err != nil {
			return err
		}
	}
	return nil
}

func chanSendRecv(n int) error {
	ch := make(chan []byte, Capacity)
	msg := messages()[0]
	for i := 0; i < n; i++ {
		ch <- msg
		<-ch
	}
	return nil
}

func lfqBatch(n int) error {
	q, err := newRing()
	if err != nil {
		return err
	}
	defer q.Free()
	msgs, dst := messages(), make([][]byte, Batch)
	for i := batches(n); i > 0; i-- {
		if _, err := q.SendBatch(msgs); err != nil {
			return err
		}
		for got := 0; got < Batch; {
			k, err := q.RecvBatch(dst[got:])
			if err != nil {
				return err
			}
			got += k
		}
	}
	return nil
}

func chanBatch(n int) error {
	ch := make(chan []byte, Capacity)
	msgs, dst := messages(), make([][]byte, Batch)
	for i := batches(n); i > 0; i-- {
		for _, m := range msgs {
			ch <- m
		}
		for j := range dst {
			dst[j] = <-ch
		}
	}
	return nil
}

// pipe runs producers and consumers concurrently, splitting n messages among each side, and
// returns the first error.
func pipe(n, producers, consumers int, produce, consume func(n int) error) error {
	var wg sync.WaitGroup
	errs := make(chan error, producers+consumers)
	start := func(f func(int) error, parts int) {
		for i := 0; i < parts; i++ {
			share := n / parts
			if i < n%parts {
				share++
			}
			wg.Add(1)
			go func() { defer wg.Done(); errs <- f(share) }()
		}
	}
	start(produce, producers)
	start(consume, consumers)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func lfqPipe(n, producers, consumers int) error {
	q, err := newRing()
	if err != nil {
		return err
	}
	defer q.Free()
	msg := messages()[0]
	return pipe(n, producers, consumers, func(n int) error {
		for i := 0; i < n; i++ {
			if err := q.Send(msg); err != nil {
				return err
			}
		}
		return nil
	}, func(n int) error {
		for i := 0; i < n; i++ {
			if _, err := q.Recv(); err != nil {
				return err
			}
		}
		return nil
	})
}

func chanPipe(n, producers, consumers int) error {
	ch := make(chan []byte, Capacity)
	msg := messages()[0]
	return pipe(n, producers, consumers, func(n int) error {
		for i := 0; i < n; i++ {
			ch <- msg
		}
		return nil
	}, func(n int) error {
		for i := 0; i < n; i++ {
			<-ch
		}
		return nil
	})
}

func lfqBatchPipe(n int) error {
	q, err := newRing()
	if err != nil {
		return err
	}
	defer q.Free()
	msgs := messages()
	total := batches(n) * Batch
	return pipe(total, 1, 1, func(int) error {
		for i := batches(n); i > 0; i-- {
			if _, err := q.SendBatch(msgs); err != nil {
				return err
			}
		}
		return nil
	}, func(int) error {
		dst := make([][]byte, Batch)
		for got := 0; got < total; {
			k, err := q.RecvBatch(dst)
			if err != nil {
				return err
			}
			got += k
		}
		return nil
	})
}

func chanBatchPipe(n int) error {
	ch := make(chan []byte, Capacity)
	msgs := messages()
	total := batches(n) * Batch
	return pipe(total, 1, 1, func(int) error {
		for i := batches(n); i > 0; i-- {
			for _, m := range msgs {
				ch <- m
			}
		}
		return nil
	}, func(int) error {
		dst := make([][]byte, Batch)
		for got := 0; got < total; got += Batch {
			for j := range dst {
				dst[j] = <-ch
			}
		}
		return nil
	})
}
