/* A tiny test runner for the lfq C tests: CHECK macros that record a failure and leave the
 * current test, and a table-driven main that prints "N passed, N failed" as its last line. */
#ifndef LFQ_TEST_RUNNER_H
#define LFQ_TEST_RUNNER_H

#include <stdio.h>
#include <string.h>

#include "lfq.h"

/* Set by a failing CHECK; the runner resets it before each test. */
static int test_failed;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
            test_failed = 1;                                                         \
            return;                                                                  \
        }                                                                            \
    } while (0)

/* Compares two lfq_status values and prints both by name on mismatch. */
#define CHECK_STATUS(actual, expected)                                                    \
    do {                                                                                  \
        lfq_status check_a_ = (actual);                                                   \
        lfq_status check_e_ = (expected);                                                 \
        if (check_a_ != check_e_) {                                                       \
            fprintf(stderr, "  %s:%d: %s returned %d (%s), expected %d (%s)\n", __FILE__, \
                    __LINE__, #actual, (int)check_a_, lfq_strerror(check_a_),             \
                    (int)check_e_, lfq_strerror(check_e_));                               \
            test_failed = 1;                                                              \
            return;                                                                       \
        }                                                                                 \
    } while (0)

#define CHECK_OK(call) CHECK_STATUS(call, LFQ_OK)

/* Compares two unsigned sizes. */
#define CHECK_SIZE(actual, expected)                                                       \
    do {                                                                                   \
        size_t check_a_ = (size_t)(actual);                                                \
        size_t check_e_ = (size_t)(expected);                                              \
        if (check_a_ != check_e_) {                                                        \
            fprintf(stderr, "  %s:%d: %s is %zu, expected %zu\n", __FILE__, __LINE__,      \
                    #actual, check_a_, check_e_);                                          \
            test_failed = 1;                                                               \
            return;                                                                        \
        }                                                                                  \
    } while (0)

typedef struct test_case {
    const char *name;
    void (*run)(void);
} test_case;

#define TEST(fn) {#fn, fn}

/* Runs the tests whose name contains `filter` (all when NULL); returns the process status. */
static int run_tests(const test_case *tests, size_t count, const char *filter) {
    int passed = 0, failed = 0;
    for (size_t i = 0; i < count; i++) {
        if (filter != NULL && strstr(tests[i].name, filter) == NULL) {
            continue;
        }
        test_failed = 0;
        fprintf(stderr, "%s ...\n", tests[i].name);
        tests[i].run();
        if (test_failed) {
            fprintf(stderr, "FAIL %s\n", tests[i].name);
            failed++;
        } else {
            passed++;
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

#endif
