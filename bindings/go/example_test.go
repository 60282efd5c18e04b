package lfq_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	lfq "github.com/lfq-dev/lfq/bindings/go"
)

func Example() {
	q := lfq.NewQueue()
	defer q.Free()

	if err := q.Send([]byte("hello")); err != nil {
		panic(err)
	}
	msg, err := q.Recv()
	fmt.Println(string(msg), err)
	// Output: hello <nil>
}

func ExampleNewRing() {
	q, err := lfq.NewRing(2)
	if err != nil {
		panic(err)
	}
	defer q.Free()

	fmt.Println(q.TrySend([]byte("a")), q.TrySend([]byte("b")), q.TrySend([]byte("c")))
	fmt.Println(q.Len(), q.Cap())

	_, err = lfq.NewRing(0)
	fmt.Println(errors.Is(err, lfq.ErrInvalid))
	// Output:
	// <nil> <nil> lfq: queue full
	// 2 2
	// true
}

func ExampleQueue_SendBatch() {
	q := lfq.NewQueue()
	defer q.Free()

	n, err := q.SendBatch([][]byte{[]byte("one"), []byte("two"), []byte("three")})
	fmt.Println(n, err)

	dst := make([][]byte, 8) // reuse dst across calls: received bytes go into its slices
	n, err = q.RecvBatch(dst)
	for _, m := range dst[:n] {
		fmt.Println(string(m))
	}
	fmt.Println(n, err)
	// Output:
	// 3 <nil>
	// one
	// two
	// three
	// 3 <nil>
}

func ExampleQueue_RecvContext() {
	q := lfq.NewQueue()
	defer q.Free()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err := q.RecvContext(ctx)
	fmt.Println(err)
	// Output: context deadline exceeded
}

func ExampleQueue_Close() {
	q := lfq.NewQueue()
	defer q.Free()

	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			msg, err := q.Recv()
			if err != nil {
				fmt.Println(err)
				return
			}
			fmt.Println(string(msg))
		}
	}()
	_ = q.Send([]byte("last words"))
	_ = q.Close()
	<-done
	// Output:
	// last words
	// lfq: queue closed
}
