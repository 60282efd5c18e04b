package lfq

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/pprof"
	"sync"
	"testing"
	"time"

	"github.com/lfq-dev/lfq/bindings/go/internal/cpeer"
)

// within fails the test if f does not return within d; blocking calls under test must never hang
// the whole test binary.
func within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not return within %v", what, d)
	}
}

func newRing(t *testing.T, capacity int) *Queue {
	t.Helper()
	q, err := NewRing(capacity)
	if err != nil {
		t.Fatalf("NewRing(%d): %v", capacity, err)
	}
	t.Cleanup(q.Free)
	return q
}

func TestFIFOAndSizes(t *testing.T) {
	ring := newRing(t, 8)
	unbounded := NewQueue()
	defer unbounded.Free()
	for name, q := range map[string]*Queue{"queue": unbounded, "ring": ring} {
		t.Run(name, func(t *testing.T) {
			// Sizes around the inline/heap boundary of the C message, plus empty and maximal ones.
			sizes := []int{0, 1, 63, 64, 65, 1000, q.MaxMessageSize()}
			for _, n := range sizes {
				msg := bytes.Repeat([]byte{byte(n)}, n)
				if err := q.Send(msg); err != nil {
					t.Fatalf("Send(%d bytes): %v", n, err)
				}
			}
			if got := q.Len(); got != len(sizes) {
				t.Fatalf("Len = %d, want %d", got, len(sizes))
			}
			for _, n := range sizes {
				got, err := q.Recv()
				if err != nil {
					t.Fatalf("Recv: %v", err)
				}
				if !bytes.Equal(got, bytes.Repeat([]byte{byte(n)}, n)) {
					t.Fatalf("Recv returned %d bytes, want %d bytes of %d", len(got), n, n)
				}
				if got == nil {
					t.Fatalf("Recv returned nil for a %d-byte message", n)
				}
			}
			if _, err := q.TryRecv(); err != ErrEmpty {
				t.Fatalf("TryRecv on empty queue: %v, want ErrEmpty", err)
			}
		})
	}
}

func TestSendCopiesMessage(t *testing.T) {
	q := NewQueue()
	defer q.Free()
	msg := []byte("original")
	if err := q.Send(msg); err != nil {
		t.Fatal(err)
	}
	copy(msg, "CHANGED!")
	got, err := q.Recv()
	if err != nil || string(got) != "original" {
		t.Fatalf("Recv = %q, %v; want the bytes as they were at Send", got, err)
	}
}

func TestNilAndEmptyMessages(t *testing.T) {
	q := NewQueue()
	defer q.Free()
	if err := q.Send(nil); err != nil {
		t.Fatalf("Send(nil): %v", err)
	}
	if err := q.TrySend([]byte{}); err != nil {
		t.Fatalf("TrySend(empty): %v", err)
	}
	if n, err := q.SendBatch([][]byte{nil, {}, nil}); n != 3 || err != nil {
		t.Fatalf("SendBatch of empty messages = %d, %v", n, err)
	}
	if q.Len() != 5 {
		t.Fatalf("Len = %d, want 5", q.Len())
	}
	for i := 0; i < 2; i++ {
		got, err := q.Recv()
		if err != nil || got == nil || len(got) != 0 {
			t.Fatalf("Recv = %v (nil=%t), %v; want an empty non-nil slice", got, got == nil, err)
		}
	}
	dst := [][]byte{[]byte("stale"), nil, nil, nil}
	n, err := q.RecvBatch(dst)
	if n != 3 || err != nil {
		t.Fatalf("RecvBatch = %d, %v; want 3", n, err)
	}
	for i := 0; i < n; i++ {
		if len(dst[i]) != 0 {
			t.Fatalf("dst[%d] = %q, want empty", i, dst[i])
		}
	}
	if n, err := q.SendBatch(nil); n != 0 || err != nil {
		t.Fatalf("SendBatch(nil) = %d, %v", n, err)
	}
	if n, err := q.RecvBatch(nil); n != 0 || err != nil {
		t.Fatalf("RecvBatch(nil) = %d, %v", n, err)
	}
}

func TestTooLarge(t *testing.T) {
	q := NewQueue()
	defer q.Free()
	big := make([]byte, q.MaxMessageSize()+1)
	if err := q.Send(big); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Send(oversized) = %v, want ErrTooLarge", err)
	}
	if err := q.TrySend(big); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("TrySend(oversized) = %v, want ErrTooLarge", err)
	}
	n, err := q.SendBatch([][]byte{[]byte("ok"), big})
	if n != 0 || !errors.Is(err, ErrTooLarge) {
		t.Fatalf("SendBatch with an oversized message = %d, %v; want 0, ErrTooLarge", n, err)
	}
	if q.Len() != 0 {
		t.Fatalf("Len = %d after refused sends, want 0", q.Len())
	}
}

func TestBadCapacity(t *testing.T) {
	for _, c := range []int{0, -1, -1 << 40, 1 << 62} {
		q, err := NewRing(c)
		if err == nil {
			q.Free()
			t.Fatalf("NewRing(%d) succeeded, want an error", c)
		}
		if c <= 0 && !errors.Is(err, ErrInvalid) {
			t.Fatalf("NewRing(%d) = %v, want ErrInvalid", c, err)
		}
	}
	// Within the library's limit, but more slots than any machine can allocate.
	q, err := NewRing(1 << 40)
	if err == nil {
		q.Free()
		t.Fatal("NewRing(1<<40) succeeded, want ErrNoMemory")
	}
	if !errors.Is(err, ErrNoMemory) {
		t.Fatalf("NewRing(1<<40) = %v, want ErrNoMemory", err)
	}
}

func TestRingFullAndCap(t *testing.T) {
	q := newRing(t, 2)
	if q.Cap() != 2 {
		t.Fatalf("Cap = %d, want 2", q.Cap())
	}
	for i := 0; i < 2; i++ {
		if err := q.TrySend([]byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.TrySend([]byte{9}); err != ErrFull {
		t.Fatalf("TrySend on full ring = %v, want ErrFull", err)
	}
	n, err := q.SendBatch(nil)
	if n != 0 || err != nil {
		t.Fatalf("SendBatch(nil) on full ring = %d, %v", n, err)
	}
	u := NewQueue()
	defer u.Free()
	if u.Cap() != 0 {
		t.Fatalf("unbounded Cap = %d, want 0", u.Cap())
	}
}

func TestBatchRoundTrip(t *testing.T) {
	q := newRing(t, 16)
	msgs := make([][]byte, 40) // more than the ring holds: SendBatch must wait for the receiver
	for i := range msgs {
		msgs[i] = bytes.Repeat([]byte{byte(i)}, i*7) // crosses the inline size
	}
	var got [][]byte
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		dst := make([][]byte, 7)
		for len(got) < len(msgs) {
			n, err := q.RecvBatch(dst)
			if err != nil {
				t.Errorf("RecvBatch: %v", err)
				return
			}
			for _, m := range dst[:n] {
				got = append(got, append([]byte(nil), m...))
			}
		}
	}()
	within(t, 10*time.Second, "SendBatch", func() {
		if n, err := q.SendBatch(msgs); n != len(msgs) || err != nil {
			t.Errorf("SendBatch = %d, %v", n, err)
		}
	})
	wg.Wait()
	for i := range msgs {
		if !bytes.Equal(got[i], msgs[i]) {
			t.Fatalf("message %d: got %d bytes, want %d", i, len(got[i]), len(msgs[i]))
		}
	}
}

func TestRecvBatchReusesCapacity(t *testing.T) {
	q := NewQueue()
	defer q.Free()
	dst := [][]byte{make([]byte, 0, 128)}
	before := &dst[0][:1][0]
	if err := q.Send([]byte("abc")); err != nil {
		t.Fatal(err)
	}
	if n, err := q.RecvBatch(dst); n != 1 || err != nil || string(dst[0]) != "abc" {
		t.Fatalf("RecvBatch = %d, %v, %q", n, err, dst[0])
	}
	if &dst[0][0] != before {
		t.Fatal("RecvBatch did not reuse dst[0]'s buffer")
	}
}

func TestCloseDrainsThenReportsClosed(t *testing.T) {
	q := newRing(t, 4)
	for _, s := range []string{"a", "b"} {
		if err := q.Send([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := q.Close(); err != ErrClosed {
		t.Fatalf("second Close = %v, want ErrClosed", err)
	}
	if err := q.Send([]byte("c")); err != ErrClosed {
		t.Fatalf("Send after Close = %v, want ErrClosed", err)
	}
	if n, err := q.SendBatch([][]byte{{1}}); n != 0 || err != ErrClosed {
		t.Fatalf("SendBatch after Close = %d, %v", n, err)
	}
	for _, want := range []string{"a", "b"} {
		got, err := q.Recv()
		if err != nil || string(got) != want {
			t.Fatalf("Recv after Close = %q, %v; want %q", got, err, want)
		}
	}
	if _, err := q.Recv(); err != ErrClosed {
		t.Fatalf("Recv on closed empty queue = %v, want ErrClosed", err)
	}
	if _, err := q.RecvBatch(make([][]byte, 2)); err != ErrClosed {
		t.Fatalf("RecvBatch on closed empty queue = %v, want ErrClosed", err)
	}
}

func TestCloseWakesBlockedCallers(t *testing.T) {
	empty := newRing(t, 1)
	full := newRing(t, 1)
	if err := full.Send([]byte("x")); err != nil {
		t.Fatal(err)
	}
	const each = 20
	errs := make(chan error, 4*each)
	for i := 0; i < each; i++ {
		go func() { _, err := empty.Recv(); errs <- err }()
		go func() { _, err := empty.RecvBatch(make([][]byte, 3)); errs <- err }()
		go func() { errs <- full.Send([]byte("y")) }()
		go func() { _, err := full.SendBatch([][]byte{{1}, {2}}); errs <- err }()
	}
	waitForWaiters(t, &empty.readers, 2*each)
	waitForWaiters(t, &full.writers, 2*each)
	empty.Close()
	full.Close()
	for i := 0; i < 4*each; i++ {
		select {
		case err := <-errs:
			if err != ErrClosed {
				t.Fatalf("blocked call returned %v after Close, want ErrClosed", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("only %d of %d blocked calls returned after Close", i, 4*each)
		}
	}
}

// waitForWaiters waits until n goroutines are parked in ws.
func waitForWaiters(t *testing.T, ws *waitSet, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for int(ws.waiting.Load()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d goroutines are waiting", ws.waiting.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestContextCancel(t *testing.T) {
	q := newRing(t, 1)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := q.RecvContext(ctx); errc <- err }()
	waitForWaiters(t, &q.readers, 1)
	start := time.Now()
	cancel()
	select {
	case err := <-errc:
		if err != context.Canceled {
			t.Fatalf("RecvContext = %v, want context.Canceled", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("cancellation took %v", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("RecvContext did not return after cancel")
	}

	if err := q.Send([]byte("x")); err != nil {
		t.Fatal(err)
	}
	tctx, tcancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer tcancel()
	if err := q.SendContext(tctx, []byte("y")); err != context.DeadlineExceeded {
		t.Fatalf("SendContext on full ring = %v, want DeadlineExceeded", err)
	}
	if n, err := q.SendBatchContext(tctx, [][]byte{{1}}); n != 0 || err != context.DeadlineExceeded {
		t.Fatalf("SendBatchContext on full ring = %d, %v", n, err)
	}
	// The cancelled send must not have gone through: exactly the one message is queued.
	if got, err := q.Recv(); err != nil || string(got) != "x" {
		t.Fatalf("Recv = %q, %v", got, err)
	}
	if _, err := q.TryRecv(); err != ErrEmpty {
		t.Fatalf("TryRecv = %v, want ErrEmpty: a cancelled send went through", err)
	}
	if n, err := q.RecvBatchContext(tctx, make([][]byte, 1)); n != 0 || err != context.DeadlineExceeded {
		t.Fatalf("RecvBatchContext on empty ring = %d, %v", n, err)
	}
}

// TestCancelLosesNothing races many short-lived receivers against a steady producer: every
// message sent must be received exactly once, however many waits were cancelled around it.
func TestCancelLosesNothing(t *testing.T) {
	q := newRing(t, 8)
	const total = 3000
	var mu sync.Mutex
	seen := make(map[string]int)
	cancelled := 0
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				ctx, cancel := context.WithTimeout(context.Background(), 50*time.Microsecond)
				msg, err := q.RecvContext(ctx)
				cancel()
				mu.Lock()
				switch err {
				case nil:
					seen[string(msg)]++
				case context.DeadlineExceeded:
					cancelled++
				case ErrClosed:
					mu.Unlock()
					return
				default:
					mu.Unlock()
					t.Errorf("RecvContext: %v", err)
					return
				}
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < total; i++ {
		if i%100 == 0 {
			time.Sleep(200 * time.Microsecond) // let receivers time out now and then
		}
		if err := q.Send([]byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	q.Close()
	within(t, 10*time.Second, "receivers", wg.Wait)
	for i := 0; i < total; i++ {
		if c := seen[fmt.Sprint(i)]; c != 1 {
			t.Fatalf("message %d received %d times", i, c)
		}
	}
	if len(seen) != total {
		t.Fatalf("received %d distinct messages, want %d", len(seen), total)
	}
	t.Logf("%d waits cancelled", cancelled)
}

// C code sharing a queue through Handle: its sends and receives wake goroutines waiting in Go,
// also those that were already waiting when Handle was first called.
func TestSharedWithCWakesGoWaiters(t *testing.T) {
	q := newRing(t, 1)
	got := make(chan []byte, 1)
	go func() {
		msg, err := q.Recv()
		if err != nil {
			t.Errorf("Recv: %v", err)
		}
		got <- msg
	}()
	waitForWaiters(t, &q.readers, 1)
	if err := cpeer.Send(q.Handle(), "from C"); err != nil {
		t.Fatal(err)
	}
	select {
	case msg := <-got:
		if string(msg) != "from C" {
			t.Fatalf("Recv = %q", msg)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a send from C did not wake the receiver")
	}

	// And the other way round: room made by C frees a blocked sender.
	if err := q.Send([]byte("a")); err != nil {
		t.Fatal(err)
	}
	sent := make(chan error, 1)
	go func() { sent <- q.Send([]byte("b")) }()
	waitForWaiters(t, &q.writers, 1)
	if msg, err := cpeer.Recv(q.Handle(), q.MaxMessageSize()); err != nil || msg != "a" {
		t.Fatalf("C receive = %q, %v", msg, err)
	}
	select {
	case err := <-sent:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a receive from C did not wake the sender")
	}
	if msg, err := cpeer.Recv(q.Handle(), q.MaxMessageSize()); err != nil || msg != "b" {
		t.Fatalf("C receive = %q, %v", msg, err)
	}
	runtime.KeepAlive(q)
}

// watching reports whether ws has a watcher goroutine.
func watching(ws *waitSet) bool {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return ws.watching
}

// A queue that only Go uses gets no watcher (a goroutine in a cgo wait), however long its
// goroutines wait; its first Handle call starts one for the goroutines already waiting.
func TestWatcherOnlyOnceShared(t *testing.T) {
	q := newRing(t, 1)
	recvd := make(chan error, 1)
	go func() { _, err := q.Recv(); recvd <- err }()
	waitForWaiters(t, &q.readers, 1)
	time.Sleep(watchSliceMax)
	if watching(&q.readers) {
		t.Fatal("a queue no C code can reach has a watcher")
	}
	_ = q.Handle()
	deadline := time.Now().Add(30 * time.Second)
	for !watching(&q.readers) {
		if time.Now().After(deadline) {
			t.Fatal("Handle started no watcher for the waiting receiver")
		}
		time.Sleep(time.Millisecond)
	}
	q.Close()
	if err := <-recvd; err != ErrClosed {
		t.Fatalf("Recv = %v after Close, want ErrClosed", err)
	}
}

// The zero Queue is not usable; every method says so with ErrInvalid rather than crashing,
// waiting or blaming the message.
func TestZeroQueueIsInvalid(t *testing.T) {
	// A field after another, as zero Queues often are: not at the start of its allocation.
	holder := &struct {
		name string
		q    Queue
	}{name: "holder"}
	q := &holder.q
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, recvErr := q.RecvContext(ctx)
	_, tryRecvErr := q.TryRecv()
	_, sendBatchErr := q.SendBatchContext(ctx, [][]byte{[]byte("x")})
	_, recvBatchErr := q.RecvBatchContext(ctx, make([][]byte, 1))
	for name, err := range map[string]error{
		"SendContext":      q.SendContext(ctx, []byte("x")),
		"TrySend":          q.TrySend([]byte("x")),
		"RecvContext":      recvErr,
		"TryRecv":          tryRecvErr,
		"SendBatchContext": sendBatchErr,
		"RecvBatchContext": recvBatchErr,
		"Close":            q.Close(),
	} {
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s on the zero Queue = %v, want ErrInvalid", name, err)
		}
	}
	if n := q.Len(); n != 0 {
		t.Errorf("Len of the zero Queue = %d", n)
	}
	q.Free()
	q.Free()
	if err := q.TrySend(nil); !errors.Is(err, ErrFreed) {
		t.Errorf("TrySend on the freed zero Queue = %v, want ErrFreed", err)
	}
}

func TestUseAfterFree(t *testing.T) {
	q, err := NewRing(4)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Send([]byte("dropped by Free")); err != nil {
		t.Fatal(err)
	}
	q.Free()
	q.Free() // idempotent
	checks := map[string]error{
		"Send":    q.Send([]byte("x")),
		"TrySend": q.TrySend(nil),
		"Close":   q.Close(),
	}
	_, checks["Recv"] = q.Recv()
	_, checks["TryRecv"] = q.TryRecv()
	_, checks["RecvContext"] = q.RecvContext(context.Background())
	_, checks["SendBatch"] = q.SendBatch([][]byte{{1}})
	_, checks["SendBatch(nil)"] = q.SendBatch(nil)
	_, checks["SendBatch(oversized)"] = q.SendBatch([][]byte{make([]byte, q.MaxMessageSize()+1)})
	_, checks["RecvBatch"] = q.RecvBatch(make([][]byte, 1))
	_, checks["RecvBatch(nil)"] = q.RecvBatch(nil)
	for name, err := range checks {
		if err != ErrFreed {
			t.Errorf("%s after Free = %v, want ErrFreed", name, err)
		}
	}
	if q.Len() != 0 {
		t.Errorf("Len after Free = %d", q.Len())
	}
}

func TestFreeWakesBlockedAndRacesCalls(t *testing.T) {
	for round := 0; round < 20; round++ {
		q, err := NewRing(2)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for i := 0; i < 4; i++ {
			wg.Add(2)
			go func() {
				defer wg.Done()
				for {
					if err := q.Send([]byte("m")); err != nil {
						if err != ErrFreed {
							t.Errorf("Send racing Free = %v, want ErrFreed", err)
						}
						return
					}
				}
			}()
			go func() {
				defer wg.Done()
				dst := make([][]byte, 3)
				for {
					if _, err := q.RecvBatch(dst); err != nil {
						if err != ErrFreed {
							t.Errorf("RecvBatch racing Free = %v, want ErrFreed", err)
						}
						return
					}
				}
			}()
		}
		time.Sleep(time.Millisecond)
		q.Free()
		within(t, 10*time.Second, "callers racing Free", wg.Wait)
	}
}

func TestFinalizerFreesUnreachableQueue(t *testing.T) {
	before := finalized.Load()
	func() {
		q := NewQueue()
		if err := q.Send([]byte("left behind")); err != nil {
			t.Fatal(err)
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for finalized.Load() == before {
		if time.Now().After(deadline) {
			t.Fatal("finalizer of an unreachable queue did not run")
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}

// TestManyWaitersFewThreads parks 10,000 goroutines in Recv on one empty queue and checks that
// they did not each take an OS thread.
func TestManyWaitersFewThreads(t *testing.T) {
	const waiters = 10000
	q := NewQueue()
	defer q.Free()
	threads := pprof.Lookup("threadcreate")
	before := threads.Count()
	errs := make(chan error, waiters)
	for i := 0; i < waiters; i++ {
		go func() { _, err := q.Recv(); errs <- err }()
	}
	waitForWaiters(t, &q.readers, waiters)
	time.Sleep(2 * watchSliceMax) // give any thread creation time to show
	created := threads.Count() - before
	q.Close()
	for i := 0; i < waiters; i++ {
		select {
		case err := <-errs:
			if err != ErrClosed {
				t.Fatalf("Recv = %v after Close, want ErrClosed", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%d of %d waiters still blocked after Close", waiters-i, waiters)
		}
	}
	t.Logf("%d OS threads created while %d goroutines waited", created, waiters)
	if created >= 100 {
		t.Fatalf("%d OS threads created for %d waiting goroutines", created, waiters)
	}
}

// TestRingLapsAcrossPaths drives a ring whose capacity is not a power of two (so positions skip
// a gap at each lap) through many laps, mixing messages that go through the ring's memory (up to
// 64 bytes) with longer ones that go through the library, in single and batched calls. FIFO order
// and contents must survive every combination.
func TestRingLapsAcrossPaths(t *testing.T) {
	q := newRing(t, 3)
	message := func(seq int) []byte {
		msg := bytes.Repeat([]byte{byte(seq)}, seq%3*50) // 0, 50 or 100 bytes
		return append(msg, byte(seq>>8), byte(seq))
	}
	sent, received := 0, 0
	expect := func(got []byte) {
		t.Helper()
		if want := message(received); !bytes.Equal(got, want) {
			t.Fatalf("message %d: got %d bytes, want %d", received, len(got), len(want))
		}
		received++
	}
	dst := make([][]byte, 3)
	for round := 0; round < 300; round++ {
		if n, err := q.SendBatch([][]byte{message(sent), message(sent + 1)}); err != nil || n != 2 {
			t.Fatalf("SendBatch = %d, %v", n, err)
		}
		sent += 2
		got, err := q.Recv()
		if err != nil {
			t.Fatal(err)
		}
		expect(got)
		for q.Len() < q.Cap() {
			if err := q.TrySend(message(sent)); err != nil {
				t.Fatal(err)
			}
			sent++
		}
		if err := q.TrySend([]byte("x")); err != ErrFull {
			t.Fatalf("TrySend on a full ring: %v, want ErrFull", err)
		}
		for received < sent {
			n, err := q.RecvBatch(dst)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range dst[:n] {
				expect(m)
			}
		}
	}
}

// TestSendHappensBeforeRecv: what a goroutine wrote before sending a message is visible to the
// goroutine that receives it, as with a channel, whichever path the message took (a ring's memory
// for short messages, the library for long ones). Under go test -race this also checks that the
// race detector sees the ordering, which it cannot infer from atomics on C memory.
func TestSendHappensBeforeRecv(t *testing.T) {
	q := newRing(t, 4)
	for _, size := range []int{8, 200} {
		var written int
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				// Polling, not blocking: a blocked Recv is woken through Go channels, which
				// would order the two goroutines by themselves.
				msg, err := q.TryRecv()
				if err == ErrEmpty {
					runtime.Gosched()
					continue
				}
				if err != nil {
					t.Error(err)
				} else if written != len(msg) {
					t.Errorf("read %d after receiving %d bytes", written, len(msg))
				}
				return
			}
		}()
		written = size
		if err := q.TrySend(make([]byte, size)); err != nil {
			t.Fatal(err)
		}
		<-done
	}
}

// TestTryRecvAfterOwnSendFindsAMessage: a goroutine that sent and then receives always gets a
// message, even while another goroutine's send into the oldest slot is half done (its position
// claimed, its message not yet written). crossbeam's linearizable test, on a ring with one slot
// per goroutine, with short messages (through the ring's memory) and long ones (the library).
func TestTryRecvAfterOwnSendFindsAMessage(t *testing.T) {
	const goroutines, rounds = 4, 20000
	for _, size := range []int{8, 200} {
		q := newRing(t, goroutines)
		var wg sync.WaitGroup
		for g := 0; g < goroutines; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				msg := make([]byte, size)
				for i := 0; i < rounds; i++ {
					for q.TrySend(msg) != nil {
						runtime.Gosched()
					}
					if _, err := q.TryRecv(); err != nil {
						t.Errorf("size %d, round %d: TryRecv after TrySend: %v", size, i, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		if n := q.Len(); n != 0 {
			t.Fatalf("size %d: %d messages left", size, n)
		}
	}
}
