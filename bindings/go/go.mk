.PHONY: test-go demo-go
test-go:
	@echo "test-go: not written yet"
demo-go:
