"""CPython's own queue tests (Lib/test/test_queue.py), run against lfq.Queue and lfq.SimpleQueue.

The interpreter's test package is optional (some distributions split it off), so the module skips
when it is missing. LifoQueue and PriorityQueue, which lfq does not offer, stay the stdlib's; the
tests of queue.Queue's private storage hooks (FailingQueueTest) do not apply, see
test_subclass_with_storage_hooks_is_refused.
"""

from __future__ import annotations

import queue
import types
import unittest

import pytest

import lfq

test_queue = pytest.importorskip("test.test_queue")

LFQ_AS_QUEUE_MODULE = types.SimpleNamespace(
    Queue=lfq.Queue,
    SimpleQueue=lfq.SimpleQueue,
    Empty=lfq.Empty,
    Full=lfq.Full,
    ShutDown=getattr(lfq, "ShutDown", None),
    LifoQueue=queue.LifoQueue,
    PriorityQueue=queue.PriorityQueue,
)


class TestCPythonQueueSuite(test_queue.QueueTest, unittest.TestCase):
    queue = LFQ_AS_QUEUE_MODULE


class TestCPythonSimpleQueueSuite(test_queue.BaseSimpleQueueTest, unittest.TestCase):
    queue = LFQ_AS_QUEUE_MODULE

    def setUp(self) -> None:
        self.type2test = lfq.SimpleQueue
        super().setUp()

    # The C SimpleQueue's own test: put() called re-entrantly from __del__ during another put().
    test_reentrancy = test_queue.CSimpleQueueTest.test_reentrancy
