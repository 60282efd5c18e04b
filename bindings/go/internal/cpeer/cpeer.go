// Package cpeer is C code that shares an lfq queue with Go through [lfq.Queue.Handle], as a C
// library in the same program would. The package's tests use it; it links liblfq the way the lfq
// package does, so both call the same copy.
package cpeer

/*
#cgo CFLAGS: -I${SRCDIR}/../../../../include
#cgo !lfq_pkgconfig LDFLAGS: ${SRCDIR}/../../../../target/release/liblfq.a -ldl -lpthread -lm
#cgo lfq_pkgconfig pkg-config: lfq

#include <stdlib.h>

#include <lfq.h>

static lfq_status cpeer_send(void *q, const char *msg, size_t size) {
	return lfq_send((lfq_queue *)q, msg, size, -1);
}

static lfq_status cpeer_recv(void *q, char *buf, size_t buf_size, size_t *size) {
	return lfq_recv_into((lfq_queue *)q, buf, buf_size, size, -1);
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// Send sends msg on the queue whose handle is q from C, waiting while a ring is full.
func Send(q unsafe.Pointer, msg string) error {
	cmsg := C.CString(msg)
	defer C.free(unsafe.Pointer(cmsg))
	return status(C.cpeer_send(q, cmsg, C.size_t(len(msg))))
}

// Recv receives one message from C, waiting while the queue is empty.
func Recv(q unsafe.Pointer, maxSize int) (string, error) {
	buf := C.malloc(C.size_t(maxSize))
	defer C.free(buf)
	var size C.size_t
	if err := status(C.cpeer_recv(q, (*C.char)(buf), C.size_t(maxSize), &size)); err != nil {
		return "", err
	}
	return C.GoStringN((*C.char)(buf), C.int(size)), nil
}

func status(st C.lfq_status) error {
	if st == C.LFQ_OK {
		return nil
	}
	return fmt.Errorf("lfq: %s", C.GoString(C.lfq_strerror(st)))
}
