module github.com/lfq-dev/lfq/bindings/go

go 1.24
