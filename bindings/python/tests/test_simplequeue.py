"""The queue.SimpleQueue contract, checked against the standard library and lfq.SimpleQueue."""

from __future__ import annotations

import itertools
import queue
import signal
import threading
import time

import pytest

import lfq


def test_fifo_and_nowait(simple_impl) -> None:
    q = simple_impl()
    assert q.empty()
    for i in range(100):
        q.put(i)
    q.put_nowait(item="last")
    assert q.qsize() == 101
    assert not q.empty()
    assert [q.get() for _ in range(100)] == list(range(100))
    assert q.get_nowait() == "last"
    with pytest.raises(queue.Empty):
        q.get_nowait()
    with pytest.raises(queue.Empty):
        q.get(False)


def test_put_never_blocks_and_ignores_timeout(simple_impl) -> None:
    q = simple_impl()
    q.put(1, block=False, timeout=-1)
    q.put(2, True, 0)
    q.put(item=3)
    assert [q.get() for _ in range(3)] == [1, 2, 3]


def test_get_timeout(simple_impl) -> None:
    q = simple_impl()
    start = time.monotonic()
    with pytest.raises(queue.Empty):
        q.get(timeout=0.1)
    assert time.monotonic() - start >= 0.09
    with pytest.raises(ValueError, match="'timeout' must be a non-negative number"):
        q.get(timeout=-1)


def test_blocking_get_wakes(simple_impl) -> None:
    q = simple_impl()
    got = []
    t = threading.Thread(target=lambda: got.append(q.get()))
    t.start()
    time.sleep(0.05)
    q.put("x")
    t.join(10)
    assert got == ["x"]


def test_reentrant_put_from_del(simple_impl) -> None:
    """A put() run by __del__ (via the cyclic GC, at an arbitrary point) neither deadlocks nor
    reorders: every number comes out exactly once and in increasing order."""
    q = simple_impl()
    counter = itertools.count()
    results = []

    class Cycle:
        def __init__(self) -> None:
            self.me = self

        def __del__(self) -> None:
            q.put(next(counter))

    limit = 5000
    while True:
        junk = Cycle()
        q.put(next(counter))
        del junk
        results.append(q.get())
        if results[-1] >= limit:
            break
    while not q.empty():
        results.append(q.get())
    assert results == list(range(len(results)))
    assert results[-1] >= limit


def test_reentrant_put_from_signal_handler() -> None:
    """put() from a signal handler that interrupts the main thread's own put() loop: no deadlock,
    nothing lost or duplicated, and the main thread's items keep their order."""
    q = lfq.SimpleQueue()
    handler_seq = itertools.count()

    def handler(signum, frame) -> None:
        q.put(("signal", next(handler_seq)))

    old = signal.signal(signal.SIGALRM, handler)
    main_count = 0
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.0005, 0.0005)
        deadline = time.monotonic() + 0.3
        while time.monotonic() < deadline:
            q.put(("main", main_count))
            main_count += 1
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    streams: dict[str, list[int]] = {"main": [], "signal": []}
    while not q.empty():
        source, n = q.get_nowait()
        streams[source].append(n)
    assert streams["main"] == list(range(main_count))
    # Handlers can nest (a signal arriving inside the handler runs another one between its next()
    # and its put()), so the handler's numbers are checked for exactly-once, not for order.
    assert sorted(streams["signal"]) == list(range(next(handler_seq)))
    assert streams["signal"], "the handler never ran"


def test_generic_alias(simple_impl) -> None:
    assert simple_impl[str].__origin__ is simple_impl


def test_simplequeue_batches() -> None:
    q = lfq.SimpleQueue()
    assert q.put_many(["a", "b", "c"]) == 3
    assert q.get_many(2) == ["a", "b"]
    assert q.get_many(2) == ["c"]
    with pytest.raises(queue.Empty):
        q.get_many(2, block=False)


def test_simplequeue_takes_no_arguments() -> None:
    with pytest.raises(TypeError):
        lfq.SimpleQueue(5)
