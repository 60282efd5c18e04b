"""Type stubs for the compiled lfq._lfq module (re-exported by the lfq package)."""

import queue
from collections.abc import Iterable
from types import GenericAlias
from typing import Any, Generic, TypeVar

from typing_extensions import Buffer

_T = TypeVar("_T")

DEFAULT_MAX_MESSAGE_SIZE: int
"""Default largest message of a BytesQueue, in bytes (64 KiB)."""
MAX_MESSAGE_SIZE_LIMIT: int
"""Largest max_message_size a BytesQueue accepts (1 GiB)."""

Empty = queue.Empty
Full = queue.Full

class ShutDown(Exception):
    """Raised by put()/get() on a queue that has been shut down (or closed)."""

class MessageTooLarge(ValueError):
    """Raised when a byte message exceeds the queue's max_message_size."""

def lib_version() -> str:
    """Return the version string of the linked liblfq engine."""

class Queue(Generic[_T]):
    """A FIFO queue of Python objects with the API of queue.Queue, backed by liblfq."""

    @property
    def maxsize(self) -> int:
        """Upper bound on the queue size; <= 0 means unbounded."""
    @maxsize.setter
    def maxsize(self, value: int) -> None:
        """As in queue.Queue; a bounded queue takes 1 up to the maxsize it was created with."""
    @property
    def unfinished_tasks(self) -> int:
        """Number of items put and not yet matched by task_done()."""
    @property
    def is_shutdown(self) -> bool:
        """True once shutdown() has been called."""
    def __init__(self, maxsize: int = 0) -> None: ...
    def put(self, item: _T, block: bool = True, timeout: float | None = None) -> None:
        """Put an item; wait for a free slot when bounded and full (Full after timeout)."""
    def put_nowait(self, item: _T) -> None:
        """Put an item without blocking; raise Full if there is no free slot."""
    def get(self, block: bool = True, timeout: float | None = None) -> _T:
        """Remove and return an item; wait for one (Empty after timeout)."""
    def get_nowait(self) -> _T:
        """Remove and return an item if one is available, else raise Empty."""
    def put_many(
        self, items: Iterable[_T], block: bool = True, timeout: float | None = None
    ) -> int:
        """Put items in order with batched engine calls; return how many were put."""
    def get_many(
        self, max_items: int, block: bool = True, timeout: float | None = None
    ) -> list[_T]:
        """Wait for one item like get(), then take up to max_items that are already queued."""
    def qsize(self) -> int:
        """Approximate number of queued items."""
    def empty(self) -> bool:
        """True if the queue is empty (approximate)."""
    def full(self) -> bool:
        """True if the queue is bounded and holds maxsize items (approximate)."""
    def task_done(self) -> None:
        """Mark one formerly queued item as processed; ValueError if called too often."""
    def join(self) -> None:
        """Block until every item put has been matched by task_done()."""
    def shutdown(self, immediate: bool = False) -> None:
        """Shut the queue down, as queue.Queue.shutdown() in Python 3.13."""
    def __class_getitem__(cls, item: Any, /) -> GenericAlias: ...

class SimpleQueue(Generic[_T]):
    """An unbounded FIFO queue with the API of queue.SimpleQueue, backed by liblfq."""

    def __init__(self) -> None: ...
    def put(self, item: _T, block: bool = True, timeout: float | None = None) -> None:
        """Put an item; never blocks and is re-entrant."""
    def put_nowait(self, item: _T) -> None:
        """Same as put(item)."""
    def get(self, block: bool = True, timeout: float | None = None) -> _T:
        """Remove and return an item; wait for one (Empty after timeout)."""
    def get_nowait(self) -> _T:
        """Remove and return an item if one is available, else raise Empty."""
    def put_many(
        self, items: Iterable[_T], block: bool = True, timeout: float | None = None
    ) -> int:
        """Put items in order with batched engine calls; return how many were put."""
    def get_many(
        self, max_items: int, block: bool = True, timeout: float | None = None
    ) -> list[_T]:
        """Wait for one item like get(), then take up to max_items that are already queued."""
    def qsize(self) -> int:
        """Approximate number of queued items."""
    def empty(self) -> bool:
        """True if the queue is empty (approximate)."""
    def __class_getitem__(cls, item: Any, /) -> GenericAlias: ...

class BytesQueue:
    """A FIFO queue of byte messages, copied in and out (liblfq's bytes payload)."""

    @property
    def maxsize(self) -> int:
        """The capacity in messages given at construction; <= 0 means unbounded."""
    @property
    def max_message_size(self) -> int:
        """The largest message, in bytes, that the queue accepts."""
    @property
    def closed(self) -> bool:
        """True once close() was called."""
    def __init__(self, maxsize: int = 0, max_message_size: int = 65536) -> None: ...
    def put_bytes(self, data: Buffer, block: bool = True, timeout: float | None = None) -> None:
        """Copy a bytes-like object into the queue as one message."""
    def get_bytes(self, block: bool = True, timeout: float | None = None) -> bytes:
        """Remove the oldest message and return it as bytes."""
    def put_many(
        self, messages: Iterable[Buffer], block: bool = True, timeout: float | None = None
    ) -> int:
        """Send messages in order, packed into batched engine calls; return how many were sent."""
    def get_many(
        self, max_messages: int, block: bool = True, timeout: float | None = None
    ) -> list[bytes]:
        """Wait for one message like get_bytes(), then take up to max_messages already queued."""
    def qsize(self) -> int:
        """Approximate number of queued messages."""
    def empty(self) -> bool:
        """True if no message is queued (approximate)."""
    def full(self) -> bool:
        """True if the queue is bounded and holds maxsize messages (approximate)."""
    def close(self) -> bool:
        """Close the queue; True if this call closed it."""
