"""Garbage collection around a burst of allocations: collect only what the burst made."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0


@contextmanager
def new_objects_only() -> Iterator[None]:
    """While inside, the cyclic garbage collector skips every object that existed on entry.

    A poll cycle allocates a dozen containers per feed, a delivery pass as many per request; each
    full collection they trigger would walk the whole heap of the process again (modules,
    SQLAlchemy's and aiohttp's structures; see
    docs/design.md#the-old-heap-frozen-during-passes-and-cycles). `gc.freeze()` sets the older objects aside. On the
    way out of the last caller (callers in several threads nest) `gc.unfreeze()` gives them back, so
    cycles among them are collected as before. Nothing else in this program freezes the heap.

    Only the first caller freezes: a caller arriving while another is inside leaves the objects
    made since then collectable. Were each entry to freeze again, callers that keep overlapping (a
    long delivery pass, poll cycles starting under it) would set aside, and never collect, the
    garbage of everything they made, for as long as the overlap lasts.
    """
    global _depth
    with _lock:
        if _depth == 0:
            gc.freeze()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                gc.unfreeze()
