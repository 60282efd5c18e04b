"""Bad inputs get clear Python exceptions, never a crash or a hang."""

from __future__ import annotations

import pytest

import lfq


@pytest.mark.parametrize("maxsize", ["3", 2.5, None, [1]])
def test_bad_maxsize_type(maxsize) -> None:
    with pytest.raises(TypeError):
        lfq.Queue(maxsize)
    with pytest.raises(TypeError):
        lfq.BytesQueue(maxsize)


def test_absurd_maxsize() -> None:
    with pytest.raises(OverflowError):
        lfq.Queue(10**30)
    with pytest.raises(ValueError, match="too large"):
        lfq.Queue(2**50)
    with pytest.raises(ValueError, match="too large"):
        lfq.BytesQueue(2**50)


def test_bad_maxsize_assignments() -> None:
    """A ring cannot grow: a bounded Queue takes 1 up to its first maxsize, and nothing else."""
    q = lfq.Queue(3)
    for bad in (0, -1, 4, 10**30):
        with pytest.raises(ValueError, match="between 1 and the 3"):
            q.maxsize = bad
        assert q.maxsize == 3
    for bad in ("2", 2.5, None):
        with pytest.raises(TypeError):
            q.maxsize = bad
        assert q.maxsize == 3
    with pytest.raises(AttributeError):
        del q.maxsize
    unbounded = lfq.Queue()
    unbounded.maxsize = 10**30  # clipped: bounds nothing, as in queue.Queue
    unbounded.put_nowait(1)
    assert not unbounded.full()
    uninitialized = lfq.Queue.__new__(lfq.Queue)
    with pytest.raises(RuntimeError, match="not initialized"):
        uninitialized.maxsize = 2


def test_bytes_queue_maxsize_is_fixed() -> None:
    """Messages move without the GIL, so only the ring's own bound is exact: no assignment."""
    for q in (lfq.BytesQueue(3), lfq.BytesQueue()):
        before = q.maxsize
        with pytest.raises(AttributeError):
            q.maxsize = 2
        assert q.maxsize == before


@pytest.mark.parametrize("timeout", ["soon", [1], complex(1, 1)])
def test_bad_timeout_type(timeout) -> None:
    q = lfq.Queue(1)
    with pytest.raises(TypeError):
        q.get(timeout=timeout)
    q.put(1)
    with pytest.raises(TypeError):
        q.put(2, timeout=timeout)
    with pytest.raises(TypeError):
        lfq.BytesQueue().get_bytes(timeout=timeout)


@pytest.mark.parametrize("timeout", [-1, -0.001, float("nan")])
def test_bad_timeout_value(timeout) -> None:
    for call in (
        lambda: lfq.Queue().get(timeout=timeout),
        lambda: lfq.SimpleQueue().get(timeout=timeout),
        lambda: lfq.Queue(1).put(1, timeout=timeout),
        lambda: lfq.BytesQueue().get_bytes(timeout=timeout),
        lambda: lfq.BytesQueue().get_many(1, timeout=timeout),
        lambda: lfq.Queue().get_many(1, timeout=timeout),
    ):
        with pytest.raises(ValueError, match="non-negative"):
            call()


def test_huge_timeout_means_forever_but_still_returns_items() -> None:
    q = lfq.Queue()
    q.put("x")
    assert q.get(timeout=1e300) == "x"


def test_argument_errors() -> None:
    q = lfq.Queue()
    with pytest.raises(TypeError, match="missing required argument 'item'"):
        q.put()
    with pytest.raises(TypeError, match="unexpected keyword"):
        q.get(wait=True)
    with pytest.raises(TypeError, match="multiple values"):
        q.put(1, item=2)
    with pytest.raises(TypeError):
        q.put(1, True, None, "extra")
    with pytest.raises(ValueError, match="'max_items' must be at least 1"):
        q.get_many(0)
    with pytest.raises(TypeError):
        q.put_many(42)


def test_uninitialized_objects_raise() -> None:
    for cls in (lfq.Queue, lfq.SimpleQueue):
        raw = cls.__new__(cls)
        with pytest.raises(RuntimeError, match="not initialized"):
            raw.put(1)
        with pytest.raises(RuntimeError, match="not initialized"):
            raw.get_nowait()
    raw = lfq.BytesQueue.__new__(lfq.BytesQueue)
    with pytest.raises(RuntimeError, match="not initialized"):
        raw.put_bytes(b"x")
    with pytest.raises(RuntimeError, match="not initialized"):
        raw.get_bytes()


def test_reinit_rejected() -> None:
    q = lfq.Queue(2)
    q.put("kept")
    with pytest.raises(RuntimeError, match="already initialized"):
        q.__init__(5)
    assert q.get() == "kept"


def test_not_picklable() -> None:
    import pickle

    with pytest.raises(TypeError):
        pickle.dumps(lfq.Queue())
