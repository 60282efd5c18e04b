"""Shared helpers for the lfq binding tests."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

import pytest

import lfq

# queue.Queue gained shutdown() (and queue.ShutDown) in Python 3.13.
STDLIB_HAS_SHUTDOWN = hasattr(queue, "ShutDown")


@pytest.fixture(params=["stdlib", "lfq"])
def queue_impl(request: pytest.FixtureRequest) -> tuple[type, type[Exception] | None]:
    """Run a contract test against queue.Queue and lfq.Queue alike: (Queue class, ShutDown)."""
    if request.param == "stdlib":
        return queue.Queue, getattr(queue, "ShutDown", None)
    return lfq.Queue, lfq.ShutDown


@pytest.fixture(params=["stdlib", "lfq"])
def simple_impl(request: pytest.FixtureRequest) -> type:
    """Run a contract test against queue.SimpleQueue and lfq.SimpleQueue alike."""
    return queue.SimpleQueue if request.param == "stdlib" else lfq.SimpleQueue


def run_threads(targets: list[Callable[[], None]], timeout: float = 60.0) -> None:
    """Run each callable in its own thread, wait for all, and re-raise the first failure."""
    errors: list[BaseException] = []

    def wrap(fn: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                fn()
            except BaseException as exc:  # reported to the test below
                errors.append(exc)

        return run

    threads = [threading.Thread(target=wrap(fn), daemon=True) for fn in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
        assert not t.is_alive(), "thread did not finish in time (deadlock?)"
    if errors:
        raise errors[0]
