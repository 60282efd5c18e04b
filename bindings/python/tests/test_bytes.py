"""lfq.BytesQueue: copied byte messages."""

from __future__ import annotations

import array
import queue
import threading
import time

import pytest

import lfq


@pytest.mark.parametrize("maxsize", [0, 8])
def test_roundtrip_sizes(maxsize: int) -> None:
    q = lfq.BytesQueue(maxsize, max_message_size=4096)
    payloads = [b"", b"x", bytes(range(64)), bytes(range(65)), b"z" * 4096]
    for p in payloads:
        q.put_bytes(p)
    assert q.qsize() == len(payloads)
    for p in payloads:
        got = q.get_bytes()
        assert type(got) is bytes
        assert got == p
    assert q.empty()


def test_accepts_any_bytes_like() -> None:
    q = lfq.BytesQueue()
    ints = array.array("i", [1, 2, 3])
    q.put_bytes(bytearray(b"ba"))
    q.put_bytes(memoryview(b"mv-slice")[3:])
    q.put_bytes(ints)
    assert q.get_bytes() == b"ba"
    assert q.get_bytes() == b"slice"
    assert q.get_bytes() == ints.tobytes()


def test_messages_are_copies() -> None:
    q = lfq.BytesQueue()
    buf = bytearray(b"before")
    q.put_bytes(buf)
    buf[:] = b"after!"
    assert q.get_bytes() == b"before"


def test_bounded_full_and_timeouts() -> None:
    q = lfq.BytesQueue(2)
    assert q.maxsize == 2
    q.put_bytes(b"1")
    q.put_bytes(b"2")
    assert q.full()
    with pytest.raises(queue.Full):
        q.put_bytes(b"3", block=False)
    start = time.monotonic()
    with pytest.raises(queue.Full):
        q.put_bytes(b"3", timeout=0.05)
    assert time.monotonic() - start >= 0.045
    assert q.get_bytes() == b"1"
    assert q.get_bytes(False) == b"2"
    with pytest.raises(queue.Empty):
        q.get_bytes(block=False)
    with pytest.raises(queue.Empty):
        q.get_bytes(timeout=0.02)


def test_put_many_get_many() -> None:
    q = lfq.BytesQueue()
    msgs = [bytes([i % 256]) * (i % 130) for i in range(500)]
    assert q.put_many(msgs) == 500
    assert q.qsize() == 500
    first = q.get_many(7)
    assert first == msgs[:7]
    rest = q.get_many(10_000)
    assert rest == msgs[7:]
    with pytest.raises(queue.Empty):
        q.get_many(3, block=False)
    assert q.put_many(iter([b"a", bytearray(b"b"), memoryview(b"c")])) == 3
    assert q.get_many(3) == [b"a", b"b", b"c"]


def test_put_many_large_messages_span_chunks() -> None:
    q = lfq.BytesQueue(max_message_size=200_000)
    msgs = [bytes([i]) * 150_000 for i in range(5)]
    assert q.put_many(msgs) == 5
    assert q.get_many(10) == msgs


def test_put_many_bounded_partial_then_blocking() -> None:
    q = lfq.BytesQueue(3)
    assert q.put_many([b"a", b"b", b"c", b"d"], block=False) == 3
    assert q.put_many([b"x"], timeout=0.02) == 0
    received = []

    def consume() -> None:
        while len(received) < 23:
            received.extend(q.get_many(4, timeout=10))

    t = threading.Thread(target=consume)
    t.start()
    assert q.put_many([str(i).encode() for i in range(20)]) == 20
    t.join(10)
    assert received == [b"a", b"b", b"c", *[str(i).encode() for i in range(20)]]


def test_oversized_message() -> None:
    q = lfq.BytesQueue(max_message_size=16)
    assert q.max_message_size == 16
    q.put_bytes(b"x" * 16)
    with pytest.raises(lfq.MessageTooLarge):
        q.put_bytes(b"x" * 17)
    with pytest.raises(ValueError, match="max_message_size"):
        q.put_bytes(bytearray(100))
    with pytest.raises(lfq.MessageTooLarge):
        q.put_many([b"ok", b"y" * 17])
    # nothing of the rejected batch went in
    assert q.get_many(10) == [b"x" * 16]


def test_wrong_types() -> None:
    q = lfq.BytesQueue()
    with pytest.raises(TypeError):
        q.put_bytes("text")
    with pytest.raises(TypeError):
        q.put_bytes(42)
    with pytest.raises(TypeError):
        q.put_bytes(None)
    with pytest.raises(TypeError):
        q.put_many([b"fine", "not bytes"])
    with pytest.raises(TypeError):
        q.put_many(5)
    assert q.empty()
    with pytest.raises(ValueError, match="'max_messages' must be at least 1"):
        q.get_many(0)
    with pytest.raises(TypeError):
        q.get_many("3")


@pytest.mark.parametrize("size", [0, -1, lfq.MAX_MESSAGE_SIZE_LIMIT + 1])
def test_bad_max_message_size(size: int) -> None:
    with pytest.raises(ValueError, match="max_message_size must be between"):
        lfq.BytesQueue(max_message_size=size)


def test_close() -> None:
    q = lfq.BytesQueue()
    q.put_bytes(b"left")
    assert not q.closed
    assert q.close() is True
    assert q.close() is False
    assert q.closed
    with pytest.raises(lfq.ShutDown):
        q.put_bytes(b"more")
    with pytest.raises(lfq.ShutDown):
        q.put_many([b"more"])
    assert q.get_bytes() == b"left"
    with pytest.raises(lfq.ShutDown):
        q.get_bytes()
    with pytest.raises(lfq.ShutDown):
        q.get_bytes(block=False)
    with pytest.raises(lfq.ShutDown):
        q.get_many(4)


def test_close_wakes_blocked_reader() -> None:
    q = lfq.BytesQueue()
    outcome = []

    def reader() -> None:
        try:
            q.get_bytes(timeout=20)
        except lfq.ShutDown:
            outcome.append("shutdown")

    t = threading.Thread(target=reader)
    t.start()
    time.sleep(0.05)
    q.close()
    t.join(5)
    assert outcome == ["shutdown"]


def test_put_bytes_checks_block_and_timeout_as_queue_put_does() -> None:
    # queue.Queue.put validates timeout on a bounded queue whether or not it is full, and
    # ignores block/timeout on an unbounded one.
    bounded = lfq.BytesQueue(2)
    for timeout in (-1, float("nan")):
        with pytest.raises(ValueError, match="non-negative"):
            bounded.put_bytes(b"x", timeout=timeout)
    with pytest.raises(TypeError):
        bounded.put_bytes(b"x", timeout="soon")
    assert bounded.qsize() == 0
    unbounded = lfq.BytesQueue()
    unbounded.put_bytes(b"x", timeout=-1)
    assert unbounded.get_bytes(block=False) == b"x"
