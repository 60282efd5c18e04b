"""The queue.Queue contract, checked against the standard library and lfq.Queue side by side."""

from __future__ import annotations

import queue
import threading
import time
from unittest import mock

import pytest

import lfq
from conftest import STDLIB_HAS_SHUTDOWN, run_threads


def test_exceptions_are_the_stdlib_ones() -> None:
    assert lfq.Empty is queue.Empty
    assert lfq.Full is queue.Full
    assert issubclass(lfq.MessageTooLarge, ValueError)
    if STDLIB_HAS_SHUTDOWN:
        assert issubclass(lfq.ShutDown, queue.ShutDown)


def test_fifo_order(queue_impl) -> None:
    cls, _ = queue_impl
    q = cls()
    items = [1, "two", (3,), None, 5.0, b"six"]
    for item in items:
        q.put(item)
    assert q.qsize() == len(items)
    assert [q.get() for _ in items] == items
    assert q.empty()


def test_keyword_arguments(queue_impl) -> None:
    cls, _ = queue_impl
    q = cls(maxsize=2)
    q.put(item="a", block=True, timeout=1.0)
    q.put("b", timeout=0.5)
    assert q.get(block=True, timeout=1.0) == "a"
    assert q.get(timeout=0.5) == "b"
    q.put_nowait(item="c")
    assert q.get_nowait() == "c"
    with pytest.raises(TypeError):
        q.put("c", bogus=1)
    with pytest.raises(TypeError):
        q.get(True, 1.0, 3)
    with pytest.raises(TypeError):
        q.put_nowait("c", item="d")
    with pytest.raises(TypeError):
        q.put_nowait()


def test_maxsize_full_and_nowait(queue_impl) -> None:
    cls, _ = queue_impl
    q = cls(3)
    assert q.maxsize == 3
    for i in range(3):
        assert not q.full()
        q.put_nowait(i)
    assert q.full()
    assert q.qsize() == 3
    with pytest.raises(queue.Full):
        q.put_nowait(99)
    with pytest.raises(queue.Full):
        q.put(99, block=False)
    with pytest.raises(queue.Full):
        q.put(99, timeout=0.01)
    assert [q.get_nowait() for _ in range(3)] == [0, 1, 2]
    with pytest.raises(queue.Empty):
        q.get_nowait()
    with pytest.raises(queue.Empty):
        q.get(block=False)
    with pytest.raises(queue.Empty):
        q.get(0)  # any falsy block value means "don't block"


def test_lowering_maxsize_applies_to_later_puts(queue_impl) -> None:
    cls, _ = queue_impl
    q = cls(3)
    for i in range(3):
        q.put(i)
    q.maxsize = 2  # below what the queue holds: nothing is lost, puts wait for gets
    assert q.maxsize == 2
    assert q.full()
    with pytest.raises(queue.Full):
        q.put_nowait(3)
    assert q.get() == 0
    assert q.full()
    with pytest.raises(queue.Full):
        q.put(3, timeout=0.01)
    assert q.get() == 1
    assert not q.full()
    q.put_nowait(3)
    with pytest.raises(queue.Full):
        q.put_nowait(4)
    q.maxsize = 3  # and back up to where it started
    q.put_nowait(4)
    assert q.full()
    assert [q.get_nowait() for _ in range(3)] == [2, 3, 4]


def test_bounding_an_unbounded_queue_and_back(queue_impl) -> None:
    cls, _ = queue_impl
    q = cls()
    q.put("a")
    q.put("b")
    q.maxsize = 2
    assert q.full()
    with pytest.raises(queue.Full):
        q.put_nowait("c")
    start = time.monotonic()
    with pytest.raises(queue.Full):
        q.put("c", timeout=0.05)
    assert time.monotonic() - start >= 0.05
    q.maxsize = 0
    assert not q.full()
    q.put_nowait("c")
    assert [q.get() for _ in range(3)] == ["a", "b", "c"]


def test_lowered_maxsize_holds_with_threads(queue_impl) -> None:
    """Producers never see more than maxsize queued, and every item arrives in order."""
    cls, _ = queue_impl
    q = cls(64)
    q.maxsize = 5
    count = 2000
    seen_sizes: list[int] = []
    got: list[int] = []

    def produce() -> None:
        for i in range(count):
            q.put(i, timeout=10)
            seen_sizes.append(q.qsize())  # gets only shrink it between the put and this

    def consume() -> None:
        for _ in range(count):
            got.append(q.get(timeout=10))

    run_threads([produce, consume])
    assert got == list(range(count))
    assert max(seen_sizes) <= 5


@pytest.mark.parametrize("maxsize", [0, -5])
def test_unbounded_for_non_positive_maxsize(queue_impl, maxsize: int) -> None:
    cls, _ = queue_impl
    q = cls(maxsize)
    for i in range(5000):
        q.put_nowait(i)
    assert not q.full()
    assert q.qsize() == 5000
    assert [q.get() for _ in range(5000)] == list(range(5000))


def test_block_accepts_any_truthy_value(queue_impl) -> None:
    cls, _ = queue_impl
    q = cls(1)
    q.put("x", "yes", None)
    assert q.get([1], 1.0) == "x"
    with pytest.raises(queue.Empty):
        q.get("", None)  # falsy: no waiting


def test_negative_timeout_is_value_error(queue_impl) -> None:
    cls, _ = queue_impl
    q = cls(1)
    with pytest.raises(ValueError, match="'timeout' must be a non-negative number"):
        q.get(timeout=-1)
    with pytest.raises(ValueError, match="'timeout' must be a non-negative number"):
        q.put(1, True, -0.5)
    # As in queue.Queue, the timeout is ignored when not blocking.
    q.put(1, False, -1)
    assert q.get(False, -1) == 1


def _timed(fn) -> float:
    start = time.monotonic()
    fn()
    return time.monotonic() - start


@pytest.mark.parametrize("timeout", [0.1, 0.3])
def test_timeouts_are_accurate(queue_impl, timeout: float) -> None:
    """get/put timeouts expire within +-10 %; the upper bound is retried on a busy machine."""
    cls, _ = queue_impl
    q = cls(1)
    q.put("fill")
    empty = cls()

    def get_times_out() -> None:
        with pytest.raises(queue.Empty):
            empty.get(timeout=timeout)

    def put_times_out() -> None:
        with pytest.raises(queue.Full):
            q.put("more", timeout=timeout)

    for op in (get_times_out, put_times_out):
        attempts = []
        for _ in range(3):
            elapsed = _timed(op)
            assert elapsed >= timeout * 0.9, f"returned early: {elapsed:.3f}s"
            attempts.append(elapsed)
            if elapsed <= timeout * 1.1:
                break
        else:
            pytest.fail(f"timeout {timeout}s overshot by > 10 % three times: {attempts}")


def test_blocking_get_wakes_on_put(queue_impl) -> None:
    cls, _ = queue_impl
    q = cls()
    result = []
    t = threading.Thread(target=lambda: result.append(q.get(timeout=10)))
    t.start()
    time.sleep(0.05)
    q.put("hello")
    t.join(10)
    assert result == ["hello"]


@pytest.mark.parametrize("bounded_by", ["constructor", "assigned maxsize"])
def test_blocking_put_wakes_on_get(queue_impl, bounded_by: str) -> None:
    cls, _ = queue_impl
    if bounded_by == "constructor":
        q = cls(1)
    else:
        q = cls()
        q.maxsize = 1
    q.put(1)
    t = threading.Thread(target=lambda: q.put(2, timeout=10))
    t.start()
    time.sleep(0.05)
    assert t.is_alive()
    assert q.get() == 1
    t.join(10)
    assert not t.is_alive()
    assert q.get(timeout=1) == 2


def test_task_done_and_join(queue_impl) -> None:
    cls, _ = queue_impl
    q = cls()
    done = []

    def worker() -> None:
        while True:
            item = q.get()
            if item is None:
                q.task_done()
                return
            time.sleep(0.001)
            done.append(item)
            q.task_done()

    workers = [threading.Thread(target=worker) for _ in range(2)]
    for w in workers:
        w.start()
    for i in range(50):
        q.put(i)
    q.join()
    assert sorted(done) == list(range(50))
    for _ in workers:
        q.put(None)
    q.join()
    for w in workers:
        w.join(10)
    with pytest.raises(ValueError, match="task_done"):
        q.task_done()


def test_join_returns_at_once_without_tasks(queue_impl) -> None:
    cls, _ = queue_impl
    q = cls()
    assert _timed(q.join) < 0.5
    q.put(1)
    q.get()
    q.task_done()
    with pytest.raises(ValueError, match="task_done"):
        q.task_done()


def test_join_waits_for_task_done(queue_impl) -> None:
    cls, _ = queue_impl
    q = cls()
    q.put("job")
    joined = threading.Event()
    t = threading.Thread(target=lambda: (q.join(), joined.set()))
    t.start()
    assert not joined.wait(0.1)
    q.get()
    assert not joined.wait(0.05)
    q.task_done()
    assert joined.wait(5)
    t.join(5)


def test_generic_alias(queue_impl) -> None:
    cls, _ = queue_impl
    alias = cls[int]
    assert alias.__origin__ is cls


def _require_shutdown(queue_impl) -> tuple[type, type[Exception]]:
    cls, shutdown_exc = queue_impl
    if shutdown_exc is None:
        pytest.skip("queue.Queue.shutdown() needs Python 3.13")
    return cls, shutdown_exc


def test_shutdown_drains_then_raises(queue_impl) -> None:
    cls, shutdown_exc = _require_shutdown(queue_impl)
    q = cls()
    q.put(1)
    q.put(2)
    q.shutdown()
    assert q.is_shutdown
    with pytest.raises(shutdown_exc):
        q.put(3)
    with pytest.raises(shutdown_exc):
        q.put_nowait(3)
    assert q.get() == 1
    assert q.get_nowait() == 2
    with pytest.raises(shutdown_exc):
        q.get()
    with pytest.raises(shutdown_exc):
        q.get_nowait()
    with pytest.raises(shutdown_exc):
        q.get(timeout=0.01)


def test_shutdown_wakes_blocked_getters_and_putters(queue_impl) -> None:
    cls, shutdown_exc = _require_shutdown(queue_impl)
    empty, full = cls(), cls(1)
    full.put("x")
    outcomes = []

    def blocked(fn) -> None:
        try:
            fn()
            outcomes.append("returned")
        except shutdown_exc:
            outcomes.append("shutdown")

    threads = [
        threading.Thread(target=blocked, args=(lambda: empty.get(timeout=20),)),
        threading.Thread(target=blocked, args=(lambda: full.put("y", timeout=20),)),
    ]
    for t in threads:
        t.start()
    time.sleep(0.1)
    start = time.monotonic()
    empty.shutdown()
    full.shutdown()
    for t in threads:
        t.join(10)
    assert time.monotonic() - start < 2
    assert outcomes == ["shutdown", "shutdown"]
    assert full.get() == "x"


def test_shutdown_immediate_discards_and_releases_join(queue_impl) -> None:
    cls, shutdown_exc = _require_shutdown(queue_impl)
    q = cls()
    for i in range(10):
        q.put(i)
    assert q.get() == 0
    q.task_done()
    joiner = threading.Thread(target=q.join)
    joiner.start()
    time.sleep(0.05)
    assert joiner.is_alive()
    q.shutdown(immediate=True)
    joiner.join(5)
    assert not joiner.is_alive()
    assert q.qsize() == 0
    with pytest.raises(shutdown_exc):
        q.get()
    with pytest.raises(ValueError, match="task_done"):
        q.task_done()


def test_shutdown_exception_is_catchable_as_stdlib() -> None:
    q = lfq.Queue()
    q.shutdown()
    with pytest.raises(lfq.ShutDown) as info:
        q.put(1)
    if STDLIB_HAS_SHUTDOWN:
        assert isinstance(info.value, queue.ShutDown)


def test_subclass_with_own_init() -> None:
    class Named(lfq.Queue):
        def __init__(self, name: str) -> None:
            super().__init__(2)
            self.name = name

    q = Named("jobs")
    assert q.name == "jobs"
    assert q.maxsize == 2
    q.put(1)
    assert q.get() == 1


@pytest.mark.parametrize("impl", [queue.Queue, lfq.Queue])
def test_nowait_forms_go_through_an_overriding_put_and_get(impl) -> None:
    """queue.Queue's put_nowait/get_nowait call self.put/self.get with block=False."""
    calls = []

    class Logged(impl):
        def put(self, item, block=True, timeout=None):
            calls.append(("put", item, block))
            super().put(item, block, timeout)

        def get(self, block=True, timeout=None):
            item = super().get(block, timeout)
            calls.append(("get", item, block))
            return item

    q = Logged(1)
    q.put_nowait("a")
    with pytest.raises(queue.Full):
        q.put_nowait("b")
    assert q.get_nowait() == "a"
    with pytest.raises(queue.Empty):
        q.get_nowait()
    assert calls == [("put", "a", False), ("put", "b", False), ("get", "a", False)]


@pytest.mark.parametrize("impl", [queue.Queue, lfq.Queue])
def test_instances_take_attributes_and_mocks(impl) -> None:
    q = impl()
    q.name = "jobs"
    assert q.name == "jobs"
    assert q.__dict__["name"] == "jobs"
    # A patched method also serves the nowait form, which calls it.
    with mock.patch.object(q, "get", return_value=42) as get:
        assert q.get_nowait() == 42
    get.assert_called_once_with(block=False)
    with mock.patch.object(q, "put") as put:
        q.put_nowait("a")
    put.assert_called_once_with("a", block=False)
    assert q.empty()
    q.put_nowait("b")
    assert q.get_nowait() == "b"


@pytest.mark.parametrize("impl", [queue.SimpleQueue, lfq.SimpleQueue])
def test_simplequeue_instances_take_no_attributes(impl) -> None:
    with pytest.raises(AttributeError):
        impl().name = "jobs"


@pytest.mark.parametrize("hook", ["_init", "_qsize", "_put", "_get"])
def test_subclass_with_storage_hooks_is_refused(hook: str) -> None:
    """queue.Queue's storage hooks would never be called: refused, not silently ignored."""
    with pytest.raises(TypeError, match=f"defines {hook}, which lfq.Queue never calls"):
        type("Lifo", (lfq.Queue,), {hook: lambda self, *args: None})
    mixin = type("Mixin", (), {hook: lambda self, *args: None})
    with pytest.raises(TypeError, match=f"Mixin defines {hook}"):
        type("Mixed", (mixin, lfq.Queue), {})


def test_init_subclass_reaches_the_rest_of_the_mro() -> None:
    seen = []

    class Registry:
        def __init_subclass__(cls, **kwargs: object) -> None:
            seen.append(cls.__name__)
            super().__init_subclass__(**kwargs)

    class Jobs(lfq.Queue, Registry):
        pass

    class MoreJobs(Jobs):
        pass

    assert seen == ["Jobs", "MoreJobs"]
    with pytest.raises(TypeError):
        type("Keyword", (lfq.Queue,), {}, unknown=1)


def test_put_many_get_many() -> None:
    q = lfq.Queue()
    assert q.put_many(range(1000)) == 1000
    assert q.unfinished_tasks == 1000
    assert q.get_many(10) == list(range(10))
    rest = q.get_many(10_000)
    assert rest == list(range(10, 1000))
    with pytest.raises(queue.Empty):
        q.get_many(5, block=False)
    with pytest.raises(queue.Empty):
        q.get_many(5, timeout=0.01)
    assert q.put_many(iter(["a", "b"])) == 2
    assert q.get_many(5) == ["a", "b"]


def test_put_many_bounded_partial_and_blocking() -> None:
    q = lfq.Queue(4)
    assert q.put_many(range(10), block=False) == 4
    assert q.put_many(range(3), timeout=0.02) == 0
    consumer_got = []

    def consume() -> None:
        while len(consumer_got) < 14:
            consumer_got.extend(q.get_many(3, timeout=10))

    t = threading.Thread(target=consume)
    t.start()
    assert q.put_many(range(100, 110)) == 10
    t.join(10)
    assert consumer_got == [0, 1, 2, 3, *range(100, 110)]


def test_put_many_stops_at_lowered_maxsize() -> None:
    for q in (lfq.Queue(8), lfq.Queue()):
        q.maxsize = 3
        assert q.put_many(range(10), block=False) == 3
        assert q.put_many(range(10), timeout=0.02) == 0
        assert q.get_many(10) == [0, 1, 2]
        assert q.unfinished_tasks == 3


def test_shutdown_wakes_put_held_by_lowered_maxsize() -> None:
    q = lfq.Queue()
    q.maxsize = 1
    q.put("x")
    outcome = []

    def put() -> None:
        try:
            q.put("y", timeout=20)
            outcome.append("returned")
        except lfq.ShutDown:
            outcome.append("shutdown")

    t = threading.Thread(target=put)
    t.start()
    time.sleep(0.05)
    start = time.monotonic()
    q.shutdown()
    t.join(10)
    assert time.monotonic() - start < 2
    assert outcome == ["shutdown"]
    assert q.get() == "x"


def test_put_many_after_shutdown() -> None:
    q = lfq.Queue()
    q.shutdown()
    with pytest.raises(lfq.ShutDown):
        q.put_many([1, 2])
    with pytest.raises(lfq.ShutDown):
        q.get_many(2)
