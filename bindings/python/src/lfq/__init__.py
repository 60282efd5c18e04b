"""lfq: the lock-free lfq queue engine for Python.

``lfq.Queue`` and ``lfq.SimpleQueue`` are drop-in replacements for :class:`queue.Queue` and
:class:`queue.SimpleQueue`; ``lfq.BytesQueue`` carries byte messages, copied in and out, in the
format shared with lfq's C, Rust and Go front ends. Blocking calls release the GIL while they wait
and can be interrupted with Ctrl-C.

``lfq.Empty`` and ``lfq.Full`` are :class:`queue.Empty` and :class:`queue.Full` themselves, so
existing ``except queue.Empty:`` code keeps working. ``lfq.ShutDown`` derives from
:class:`queue.ShutDown` on Python 3.13 and later.
"""

from lfq._lfq import (
    DEFAULT_MAX_MESSAGE_SIZE,
    MAX_MESSAGE_SIZE_LIMIT,
    BytesQueue,
    Empty,
    Full,
    MessageTooLarge,
    Queue,
    ShutDown,
    SimpleQueue,
    lib_version,
)

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_MAX_MESSAGE_SIZE",
    "MAX_MESSAGE_SIZE_LIMIT",
    "BytesQueue",
    "Empty",
    "Full",
    "MessageTooLarge",
    "Queue",
    "ShutDown",
    "SimpleQueue",
    "__version__",
    "lib_version",
]
