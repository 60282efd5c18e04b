//go:build !lfq_pkgconfig

package lfq

// By default the package links the static library of the source tree it lives in, so a checkout
// needs nothing installed: run `make lib` at the repository root first.

// #cgo CFLAGS: -I${SRCDIR}/../../include
// #cgo LDFLAGS: ${SRCDIR}/../../target/release/liblfq.a -ldl -lpthread -lm
import "C"
