package lfq

import (
	"encoding/binary"
	"sync"
	"testing"
	"time"
)

// stressMessage is producer p's message number seq: both numbers, then padding that varies the
// size around the C message's inline limit.
func stressMessage(p, seq int) []byte {
	msg := make([]byte, 8+seq%80)
	binary.LittleEndian.PutUint32(msg, uint32(p))
	binary.LittleEndian.PutUint32(msg[4:], uint32(seq))
	return msg
}

// receiveUntilClosed takes messages from q until it is closed, one at a time when c is even and
// in batches otherwise, checks that each producer's messages arrive in the order sent, and hands
// each message's producer and number to record.
func receiveUntilClosed(t *testing.T, q *Queue, c, producers int, record func(p, seq int)) {
	last := make([]int, producers)
	for i := range last {
		last[i] = -1
	}
	dst := make([][]byte, 5)
	for {
		var got [][]byte
		if c%2 == 0 {
			msg, err := q.Recv()
			if err == ErrClosed {
				return
			}
			if err != nil {
				t.Errorf("Recv: %v", err)
				return
			}
			got = [][]byte{msg}
		} else {
			n, err := q.RecvBatch(dst)
			if err == ErrClosed {
				return
			}
			if err != nil {
				t.Errorf("RecvBatch: %v", err)
				return
			}
			got = dst[:n]
		}
		for _, msg := range got {
			p := int(binary.LittleEndian.Uint32(msg))
			seq := int(binary.LittleEndian.Uint32(msg[4:]))
			if seq <= last[p] {
				t.Errorf("consumer %d: producer %d seq %d after %d", c, p, seq, last[p])
				return
			}
			last[p] = seq
			record(p, seq)
		}
	}
}

// TestStressExactlyOnceInOrder runs producers and consumers that mix single and batched calls on
// a small ring (so both sides block often) and on an unbounded queue. Every message must arrive
// exactly once, and each consumer must see each producer's messages in the order sent.
func TestStressExactlyOnceInOrder(t *testing.T) {
	const producers, consumers, perProducer = 4, 4, 10000
	ring, err := NewRing(16)
	if err != nil {
		t.Fatal(err)
	}
	defer ring.Free()
	unbounded := NewQueue()
	defer unbounded.Free()
	for name, q := range map[string]*Queue{"ring": ring, "queue": unbounded} {
		t.Run(name, func(t *testing.T) {
			var pwg, cwg sync.WaitGroup
			counts := make([][]uint8, producers)
			for p := range counts {
				counts[p] = make([]uint8, perProducer)
			}
			var mu sync.Mutex // guards counts

			for p := 0; p < producers; p++ {
				pwg.Add(1)
				go func(p int) {
					defer pwg.Done()
					batch := make([][]byte, 0, 8)
					for seq := 0; seq < perProducer; seq++ {
						msg := stressMessage(p, seq)
						if p%2 == 0 {
							if err := q.Send(msg); err != nil {
								t.Errorf("Send: %v", err)
								return
							}
							continue
						}
						batch = append(batch, msg)
						if len(batch) == cap(batch) || seq == perProducer-1 {
							if n, err := q.SendBatch(batch); err != nil || n != len(batch) {
								t.Errorf("SendBatch = %d, %v", n, err)
								return
							}
							batch = batch[:0]
						}
					}
				}(p)
			}
			for c := 0; c < consumers; c++ {
				cwg.Add(1)
				go func(c int) {
					defer cwg.Done()
					receiveUntilClosed(t, q, c, producers, func(p, seq int) {
						mu.Lock()
						counts[p][seq]++
						mu.Unlock()
					})
				}(c)
			}
			within(t, 60*time.Second, "producers", pwg.Wait)
			if err := q.Close(); err != nil {
				t.Fatal(err)
			}
			within(t, 60*time.Second, "consumers", cwg.Wait)
			for p := range counts {
				for seq, n := range counts[p] {
					if n != 1 {
						t.Fatalf("producer %d seq %d received %d times", p, seq, n)
					}
				}
			}
		})
	}
}

// TestCloseAmidTrafficLosesNothing closes a ring and an unbounded queue while producers are
// still sending, singly and in batches. Every message whose send was reported (SendBatch's count
// included) must be received exactly once, in order per producer, and no other message at all;
// every goroutine must end.
func TestCloseAmidTrafficLosesNothing(t *testing.T) {
	const producers, consumers, perProducer = 4, 4, 200000
	for _, capacity := range []int{0, 16} {
		q := NewQueue()
		if capacity > 0 {
			q = newRing(t, capacity)
		}
		defer q.Free()
		var pwg, cwg sync.WaitGroup
		sent := make([]int, producers)
		counts := make([][]uint8, producers)
		for p := range counts {
			counts[p] = make([]uint8, perProducer)
		}
		var mu sync.Mutex // guards counts and received
		received := 0
		for p := 0; p < producers; p++ {
			pwg.Add(1)
			go func(p int) {
				defer pwg.Done()
				for sent[p] < perProducer {
					if p%2 == 0 {
						if err := q.Send(stressMessage(p, sent[p])); err != nil {
							if err != ErrClosed {
								t.Errorf("Send: %v", err)
							}
							return
						}
						sent[p]++
						continue
					}
					batch := make([][]byte, 0, 8)
					for seq := sent[p]; seq < perProducer && len(batch) < cap(batch); seq++ {
						batch = append(batch, stressMessage(p, seq))
					}
					n, err := q.SendBatch(batch)
					sent[p] += n
					if err != nil {
						if err != ErrClosed {
							t.Errorf("SendBatch: %v", err)
						}
						return
					}
				}
			}(p)
		}
		for c := 0; c < consumers; c++ {
			cwg.Add(1)
			go func(c int) {
				defer cwg.Done()
				receiveUntilClosed(t, q, c, producers, func(p, seq int) {
					mu.Lock()
					counts[p][seq]++
					received++
					mu.Unlock()
				})
			}(c)
		}
		within(t, 60*time.Second, "traffic", func() {
			for {
				mu.Lock()
				enough := received >= producers*perProducer/8
				mu.Unlock()
				if enough {
					return
				}
				time.Sleep(time.Millisecond)
			}
		})
		if err := q.Close(); err != nil {
			t.Fatal(err)
		}
		within(t, 60*time.Second, "producers", pwg.Wait)
		within(t, 60*time.Second, "consumers", cwg.Wait)
		for p := range counts {
			for seq, n := range counts[p] {
				want := uint8(0)
				if seq < sent[p] {
					want = 1
				}
				if n != want {
					t.Fatalf("capacity %d: producer %d seq %d (of %d sent) received %d times",
						capacity, p, seq, sent[p], n)
				}
			}
		}
	}
}
