.PHONY: test-c demo-c
test-c:
	@echo "test-c: not written yet"
demo-c:
