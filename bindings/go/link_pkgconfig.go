//go:build lfq_pkgconfig

package lfq

// With -tags lfq_pkgconfig the package uses an installed liblfq (`make install`), found through
// pkg-config's lfq.pc, instead of this source tree.

// #cgo pkg-config: lfq
import "C"
