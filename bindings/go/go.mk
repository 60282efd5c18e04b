# Go binding (bindings/go). Included by the root Makefile, which defines ROOT, LIB_DIR and lib.
GO     ?= go
GO_DIR := $(ROOT)/bindings/go
# The Go build cache does not see the contents of liblfq.a, which cgo links by path; a stamp of the
# library in the cgo flags makes a rebuilt library relink the package instead of reusing a stale
# binary.
GO_ENV  = CGO_CPPFLAGS="$$CGO_CPPFLAGS -DLFQ_LIB_STAMP=$$(stat -c %Y.%s $(LIB_DIR)/liblfq.a)"
GO_BENCH ?= .

.PHONY: test-go demo-go bench-go

test-go: lib
	cd $(GO_DIR) && test -z "$$(gofmt -l .)" || { gofmt -l $(GO_DIR); echo "gofmt: files above need formatting"; exit 1; }
	cd $(GO_DIR) && $(GO_ENV) $(GO) vet ./...
	cd $(GO_DIR) && $(GO_ENV) $(GO) test -race -count=1 ./...

demo-go: lib
	@cd $(GO_DIR) && $(GO_ENV) $(GO) run ./cmd/lfq-demo

bench-go: lib
	cd $(GO_DIR) && $(GO_ENV) $(GO) test -run '^$$' -bench '$(GO_BENCH)' -benchmem ./...
