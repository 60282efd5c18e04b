.PHONY: test-python demo-python
test-python:
	@echo "test-python: not written yet"
demo-python:
