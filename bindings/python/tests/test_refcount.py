"""Reference counting and memory: the queue owns exactly one reference per queued item."""

from __future__ import annotations

import gc
import os
import queue
import sys
import threading
import tracemalloc
import weakref

import pytest

import lfq


class Payload:
    """A fresh object per test, so nothing else holds references to it."""


@pytest.mark.parametrize("factory", [lfq.Queue, lambda: lfq.Queue(4), lfq.SimpleQueue])
def test_put_get_refcounts(factory) -> None:
    q = factory()
    obj = Payload()
    base = sys.getrefcount(obj)
    q.put(obj)
    assert sys.getrefcount(obj) == base + 1
    got = q.get()
    assert got is obj
    del got
    assert sys.getrefcount(obj) == base
    q.put_nowait(obj)
    assert q.get_nowait() is obj
    assert sys.getrefcount(obj) == base


def test_failed_put_keeps_no_reference() -> None:
    q = lfq.Queue(1)
    obj = Payload()
    q.put(Payload())
    base = sys.getrefcount(obj)
    with pytest.raises(queue.Full):
        q.put_nowait(obj)
    with pytest.raises(queue.Full):
        q.put(obj, timeout=0.01)
    assert q.put_many([obj, obj], block=False) == 0
    q.shutdown()
    with pytest.raises(lfq.ShutDown):
        q.put(obj)
    assert sys.getrefcount(obj) == base


def test_batches_refcounts() -> None:
    q = lfq.Queue(8)
    obj = Payload()
    base = sys.getrefcount(obj)
    assert q.put_many([obj] * 20, block=False) == 8
    assert sys.getrefcount(obj) == base + 8
    got = q.get_many(100)
    assert len(got) == 8
    assert sys.getrefcount(obj) == base + 8
    del got
    assert sys.getrefcount(obj) == base


@pytest.mark.parametrize("factory", [lfq.Queue, lambda: lfq.Queue(16), lfq.SimpleQueue])
def test_leftovers_released_with_queue(factory) -> None:
    obj = Payload()
    base = sys.getrefcount(obj)
    q = factory()
    for _ in range(10):
        q.put(obj)
    assert sys.getrefcount(obj) == base + 10
    del q
    assert sys.getrefcount(obj) == base


def test_leftover_del_runs_on_queue_dealloc() -> None:
    freed = []

    class Tracked:
        def __del__(self) -> None:
            freed.append(1)

    q = lfq.Queue()
    q.put(Tracked())
    q.put(Tracked())
    del q
    assert freed == [1, 1]


def test_a_cycle_through_an_instance_attribute_is_collected() -> None:
    q = lfq.Queue()
    q.me = q
    alive = weakref.ref(q)
    del q
    gc.collect()
    assert alive() is None


def test_items_are_freed_by_the_thread_that_frees_their_queue() -> None:
    # Thread A frees a queue whose item's __del__ waits (GIL released) for thread B to free
    # another queue; that queue's item must be freed in B, at once, not left for A to free.
    a_waits = threading.Event()
    freed_in_b = threading.Event()
    waited = []

    class WaitsForB:
        def __del__(self) -> None:
            a_waits.set()
            waited.append(freed_in_b.wait(10))

    class FreedByB:
        def __del__(self) -> None:
            if threading.current_thread().name == "B":
                freed_in_b.set()

    queues = [lfq.Queue()]
    queues[0].put(WaitsForB())

    def free_qb() -> None:
        qb = lfq.Queue()
        qb.put(FreedByB())
        del qb

    a = threading.Thread(target=queues.clear, name="A")
    a.start()
    assert a_waits.wait(10)
    b = threading.Thread(target=free_qb, name="B")
    b.start()
    b.join()
    a.join()
    assert waited == [True]


@pytest.mark.parametrize("factory", [lfq.Queue, lambda: lfq.Queue(1), lfq.SimpleQueue])
def test_deeply_nested_queues_free_without_recursion(factory) -> None:
    # Each queue holds the next: freeing the outermost frees them all, in a loop rather than
    # one C frame per level (20,000 levels overflowed an 8 MiB stack when it recursed).
    innermost = Payload()
    alive = weakref.ref(innermost)
    outer = factory()
    outer.put(innermost)
    del innermost
    for _ in range(20_000):
        q = factory()
        q.put(outer)
        outer = q
    del q
    del outer
    assert alive() is None


@pytest.mark.parametrize("factory", [lfq.Queue, lambda: lfq.Queue(4), lfq.SimpleQueue])
def test_cycles_through_queued_items_are_collected(factory) -> None:
    # A queue that holds itself, and the common form of the same cycle: an owner whose queue holds
    # one of the owner's bound methods.
    q = factory()
    q.put(q)
    queue_alive = weakref.ref(q)

    class Owner:
        def __init__(self) -> None:
            self.jobs = factory()
            self.jobs.put(self.stop)

        def stop(self) -> None:
            pass

    owner = Owner()
    owner_alive = weakref.ref(owner)
    del q, owner
    gc.collect()
    assert queue_alive() is None
    assert owner_alive() is None


def test_collector_leaves_live_queues_intact() -> None:
    q = lfq.Queue()
    items = [Payload() for _ in range(300)]
    q.put_many(items)
    q.put(q)  # a cycle, but one still reachable from here
    gc.collect()
    assert [q.get() for _ in range(300)] == items
    assert q.get() is q


def test_nested_leftovers_drop_in_queue_order() -> None:
    dropped = []

    class Tracked:
        def __init__(self, name: str) -> None:
            self.name = name

        def __del__(self) -> None:
            dropped.append(self.name)

    inner = lfq.Queue()
    inner.put_many([Tracked("inner 1"), Tracked("inner 2")])
    outer = lfq.Queue()
    outer.put_many([Tracked("outer 1"), inner, Tracked("outer 2")])
    del inner
    del outer
    assert dropped == ["outer 1", "inner 1", "inner 2", "outer 2"]


def test_shutdown_immediate_releases_items() -> None:
    obj = Payload()
    base = sys.getrefcount(obj)
    q = lfq.Queue()
    q.put_many([obj] * 5)
    q.shutdown(immediate=True)
    assert sys.getrefcount(obj) == base
    assert q.unfinished_tasks == 0


def test_leftovers_of_shut_down_queue_released() -> None:
    obj = Payload()
    base = sys.getrefcount(obj)
    q = lfq.Queue(8)
    q.put_many([obj] * 3)
    q.shutdown()
    assert sys.getrefcount(obj) == base + 3
    del q
    assert sys.getrefcount(obj) == base


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc")
@pytest.mark.parametrize("kind", ["Queue", "SimpleQueue", "BytesQueue"])
def test_million_put_get_leaks_nothing(kind: str) -> None:
    """A million put/get round trips leave no Python allocations and no RSS growth behind."""
    if kind == "BytesQueue":
        q = lfq.BytesQueue()
        put, get = q.put_bytes, q.get_bytes
        make = lambda i: i.to_bytes(8, "little") * 10  # noqa: E731 - 80 bytes: heap messages
    else:
        q = getattr(lfq, kind)()
        put, get = q.put, q.get
        make = lambda i: (i,)  # noqa: E731 - a fresh object each time
    n = 1_000_000

    def rounds(count: int) -> None:
        for i in range(count):
            put(make(i))
            get()

    rounds(50_000)  # warm up allocator caches and the engine's node pools
    gc.collect()
    rss_before = _rss_bytes()
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        rounds(n)
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    rss_growth = _rss_bytes() - rss_before
    traced_growth = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    assert traced_growth < 64 * 1024, f"Python allocations grew by {traced_growth} bytes"
    assert rss_growth < 8 * 1024 * 1024, f"RSS grew by {rss_growth} bytes"
    assert q.empty()
