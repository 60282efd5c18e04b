"""Concurrency: exactly-once delivery under stress, the GIL released while waiting, Ctrl-C."""

from __future__ import annotations

import os
import signal
import struct
import threading
import time
from collections.abc import Callable

import pytest

import lfq
from conftest import run_threads

PRODUCERS = 4
CONSUMERS = 4
PER_PRODUCER = 20_000


def _check_delivery(
    seen_by_consumer: list[list[tuple[int, int]]],
    sent: list[tuple[int, int]] | None = None,
) -> None:
    """Every (producer, seq) sent exactly once (by default, PER_PRODUCER from each producer), and
    each consumer saw each producer in order."""
    if sent is None:
        sent = [(p, s) for p in range(PRODUCERS) for s in range(PER_PRODUCER)]
    everything = [item for seen in seen_by_consumer for item in seen]
    assert len(everything) == len(sent)
    assert sorted(everything) == sorted(sent)
    for seen in seen_by_consumer:
        last = [-1] * PRODUCERS
        for p, s in seen:
            assert s > last[p], f"producer {p}: {s} after {last[p]}"
            last[p] = s


def _stress(put: Callable[[object], None], get: Callable[[], object]) -> None:
    seen_by_consumer: list[list[tuple[int, int]]] = [[] for _ in range(CONSUMERS)]

    def producer(p: int) -> Callable[[], None]:
        def run() -> None:
            for s in range(PER_PRODUCER):
                put((p, s))

        return run

    def consumer(c: int) -> Callable[[], None]:
        def run() -> None:
            out = seen_by_consumer[c]
            while True:
                item = get()
                if item is None:
                    return
                out.append(item)

        return run

    done_producing = threading.Event()

    def stopper() -> None:
        done_producing.wait()
        for _ in range(CONSUMERS):
            put(None)

    producers = [producer(p) for p in range(PRODUCERS)]

    def producers_then_stop() -> None:
        run_threads(producers)
        done_producing.set()

    run_threads(
        [producers_then_stop, stopper, *[consumer(c) for c in range(CONSUMERS)]], timeout=120
    )
    _check_delivery(seen_by_consumer)


@pytest.mark.parametrize("maxsize", [0, 64])
def test_stress_queue(maxsize: int) -> None:
    q = lfq.Queue(maxsize)
    _stress(q.put, q.get)
    assert q.empty()


def test_stress_simple_queue() -> None:
    q = lfq.SimpleQueue()
    _stress(q.put, q.get)
    assert q.empty()


def test_stress_bytes_queue() -> None:
    q = lfq.BytesQueue(128)
    fmt = struct.Struct("<ii")
    stop = fmt.pack(-1, -1)

    def put(item: object) -> None:
        q.put_bytes(stop if item is None else fmt.pack(*item))

    def get() -> object:
        data = q.get_bytes()
        return None if data == stop else fmt.unpack(data)

    _stress(put, get)


@pytest.mark.parametrize("maxsize", [0, 64])
def test_shutdown_amid_traffic_loses_nothing(maxsize: int) -> None:
    """shutdown() while 4 producers and 4 consumers run: every thread ends, and each item whose
    put returned is got exactly once (consumers drain what was queued, then get ShutDown).

    The producers put until the shutdown stops them, so it always lands amid their traffic, however
    the threads are scheduled; it comes once the consumers have got 50,000 items."""
    q = lfq.Queue(maxsize)
    put_done: list[list[int]] = [[] for _ in range(PRODUCERS)]
    stopped_by_shutdown = [False] * PRODUCERS
    seen_by_consumer: list[list[tuple[int, int]]] = [[] for _ in range(CONSUMERS)]
    started = threading.Barrier(PRODUCERS + CONSUMERS + 1)

    def producer(p: int) -> Callable[[], None]:
        def run() -> None:
            started.wait()
            give_up = time.monotonic() + 30  # a shutdown that never stops us fails the test
            s = 0
            while time.monotonic() < give_up:
                try:
                    q.put((p, s), timeout=10)
                except lfq.ShutDown:
                    stopped_by_shutdown[p] = True
                    return
                put_done[p].append(s)
                s += 1

        return run

    def consumer(c: int) -> Callable[[], None]:
        def run() -> None:
            started.wait()
            while True:
                try:
                    seen_by_consumer[c].append(q.get(timeout=10))
                except lfq.ShutDown:
                    return

        return run

    def shut_down() -> None:
        started.wait()
        deadline = time.monotonic() + 10
        while sum(map(len, seen_by_consumer)) < 50_000 and time.monotonic() < deadline:
            time.sleep(0.001)
        q.shutdown()

    run_threads(
        [
            shut_down,
            *[producer(p) for p in range(PRODUCERS)],
            *[consumer(c) for c in range(CONSUMERS)],
        ]
    )
    assert all(stopped_by_shutdown), "a producer was not stopped by the shutdown"
    _check_delivery(seen_by_consumer, [(p, s) for p in range(PRODUCERS) for s in put_done[p]])
    assert q.empty()


def test_stress_batches() -> None:
    """put_many/get_many from 4 + 4 threads on a small ring: nothing lost, per-producer order."""
    q = lfq.Queue(32)
    seen_by_consumer: list[list[tuple[int, int]]] = [[] for _ in range(CONSUMERS)]
    remaining = [PRODUCERS * PER_PRODUCER]
    lock = threading.Lock()

    def producer(p: int) -> Callable[[], None]:
        def run() -> None:
            for start in range(0, PER_PRODUCER, 100):
                assert q.put_many([(p, s) for s in range(start, start + 100)]) == 100

        return run

    def consumer(c: int) -> Callable[[], None]:
        def run() -> None:
            while True:
                try:
                    batch = q.get_many(50, timeout=0.2)
                except lfq.Empty:
                    with lock:
                        if remaining[0] == 0:
                            return
                    continue
                seen_by_consumer[c].extend(batch)
                with lock:
                    remaining[0] -= len(batch)

        return run

    run_threads([*[producer(p) for p in range(PRODUCERS)], *[consumer(c) for c in range(4)]])
    _check_delivery(seen_by_consumer)


def test_gil_released_while_blocked() -> None:
    """While one thread waits in get(), another Python thread keeps running."""
    q = lfq.Queue()
    waiter = threading.Thread(target=lambda: q.get(timeout=3))
    waiter.start()
    time.sleep(0.05)  # let it block
    start = time.monotonic()
    spins = 0
    while time.monotonic() - start < 0.2:
        spins += 1
    elapsed = time.monotonic() - start
    q.put("release")
    waiter.join(5)
    # Had the waiter kept the GIL, this loop could not have run until its 3 s timeout.
    assert elapsed < 1.0
    assert spins > 1000


@pytest.mark.parametrize("kind", ["get", "get_many", "put_full", "join", "get_bytes", "simple"])
def test_ctrl_c_interrupts_blocking_calls(kind: str) -> None:
    """SIGINT while the main thread blocks raises KeyboardInterrupt within ~0.1 s."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals are delivered to the main thread")
    q = lfq.Queue(1)
    # Timeouts (and, for join, a late task_done) turn a broken interrupt into a failure, not a hang.
    calls: dict[str, Callable[[], object]] = {
        "get": lambda: lfq.Queue().get(timeout=10),
        "get_many": lambda: lfq.Queue().get_many(4, timeout=10),
        "put_full": lambda: (q.put(1), q.put(2, timeout=10)),
        "join": lambda: (q.put(1), q.join()),
        "get_bytes": lambda: lfq.BytesQueue().get_bytes(timeout=10),
        "simple": lambda: lfq.SimpleQueue().get(timeout=10),
    }
    rescue = threading.Timer(10, q.task_done)
    rescue.daemon = True
    sent_at: list[float] = []

    def interrupt() -> None:
        time.sleep(0.2)
        sent_at.append(time.monotonic())
        os.kill(os.getpid(), signal.SIGINT)

    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        killer = threading.Thread(target=interrupt)
        killer.start()
        if kind == "join":
            rescue.start()
        with pytest.raises(KeyboardInterrupt):
            calls[kind]()
        raised_at = time.monotonic()
        killer.join()
    finally:
        rescue.cancel()
        signal.signal(signal.SIGINT, old)
    assert raised_at - sent_at[0] < 0.2
