# C tests, example, demo and benchmark (bindings/c). Included by the root Makefile, which defines
# ROOT, LIB_DIR, INCLUDE_DIR and the `lib` target that builds liblfq and regenerates lfq.h.
C_DIR      := $(ROOT)/bindings/c
C_BUILD    := $(C_DIR)/build
C_CC       ?= $(CC)
C_CFLAGS   := -O2 -g -Wall -Wextra -Werror -std=c11 -pthread -I$(INCLUDE_DIR)
# rpath: the binaries find the freshly built library without LD_LIBRARY_PATH.
C_LDFLAGS  := -L$(LIB_DIR) -Wl,-rpath,$(LIB_DIR) -llfq -pthread
# Items per stress run: the full size normally, far fewer under valgrind (which runs threads one
# at a time and each instruction ~50x slower).
C_STRESS_ITEMS          ?= 2000000
C_VALGRIND_STRESS_ITEMS ?= 100000
VALGRIND   ?= valgrind
# Leaks definitely or possibly lost both fail the run. lfq.supp names the one possible leak that
# is not one: crossbeam-epoch's record of a finished thread, reachable only through a pointer into
# its middle until a later pin unlinks it.
VALGRIND_FLAGS := --error-exitcode=1 --leak-check=full --suppressions=$(C_DIR)/lfq.supp

C_LIB := $(LIB_DIR)/liblfq.so.$(MAJOR) $(INCLUDE_DIR)/lfq.h

# Programs linked with -llfq record the SONAME (liblfq.so.$(MAJOR)) and look for that name at run
# time; cargo only writes liblfq.so, so the SONAME link is added next to it.
$(LIB_DIR)/liblfq.so.$(MAJOR): $(LIB_DIR)/liblfq.so
	ln -sf liblfq.so $@

.PHONY: test-c demo-c bench-c c-examples

$(C_BUILD):
	mkdir -p $@

$(C_BUILD)/test_lfq: $(C_DIR)/tests/test_lfq.c $(C_DIR)/tests/runner.h $(C_LIB) | $(C_BUILD)
	$(C_CC) $(C_CFLAGS) -o $@ $< $(C_LDFLAGS)

$(C_BUILD)/%: $(C_DIR)/examples/%.c $(C_LIB) | $(C_BUILD)
	$(C_CC) $(C_CFLAGS) -o $@ $< $(C_LDFLAGS)

$(C_BUILD)/bench_lfq: $(C_DIR)/bench/bench_lfq.c $(C_LIB) | $(C_BUILD)
	$(C_CC) $(C_CFLAGS) -o $@ $< $(C_LDFLAGS)

# valgrind runs quietly: it prints only errors (and fails the run on any error or definite leak),
# so the test runner's "N passed, N failed" stays the last line.
test-c: lib
	@$(MAKE) --no-print-directory $(C_BUILD)/test_lfq $(C_BUILD)/producer_consumer
	$(C_BUILD)/producer_consumer 20000 >/dev/null
	$(VALGRIND) -q $(VALGRIND_FLAGS) $(C_BUILD)/producer_consumer 1000 >/dev/null
	LFQ_TEST_STRESS_ITEMS=$(C_STRESS_ITEMS) $(C_BUILD)/test_lfq
	LFQ_TEST_STRESS_ITEMS=$(C_VALGRIND_STRESS_ITEMS) $(VALGRIND) -q $(VALGRIND_FLAGS) $(C_BUILD)/test_lfq

c-examples: lib
	@$(MAKE) --no-print-directory $(C_BUILD)/producer_consumer $(C_BUILD)/demo

# Prints only demo table rows (the root Makefile prints the header).
demo-c: lib
	@$(MAKE) --no-print-directory -s $(C_BUILD)/producer_consumer $(C_BUILD)/demo >/dev/null
	@$(C_BUILD)/demo

# The C API against the Rust API on the Rust bench scenarios, measured in the same run.
bench-c: lib
	@$(MAKE) --no-print-directory $(C_BUILD)/bench_lfq
	cd $(ROOT) && $(CARGO) build -q --release --example c_api_baseline
	$(C_BUILD)/bench_lfq $(ROOT)/target/release/examples/c_api_baseline
