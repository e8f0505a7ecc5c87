"""One walk per file: the loader, the metadata reader and ``strip`` each ask for the structure of
the same bytes, and a file at the segment limit costs a quarter of a second a walk.

:func:`walk_once` remembers the last few results by the identity of the (immutable) ``bytes``
object and the walk's options; the entries hold the bytes alive, so only a couple are kept (a
comparison's two sides). A walk that raises is not remembered. ``walker.done(data)`` lists the
results already remembered for ``data`` (any options), for a caller that any of them can serve.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from functools import wraps
from typing import TypeVar

T = TypeVar("T")
SLOTS = 2


def walk_once(fn: Callable[..., T]) -> Callable[..., T]:
    cache: list[tuple[bytes, tuple, T]] = []
    lock = threading.Lock()

    @wraps(fn)
    def wrapper(data, **options):
        if type(data) is not bytes:  # a bytearray or memoryview can change under us
            return fn(data, **options)
        key = tuple(sorted(options.items()))
        with lock:
            for d, k, result in cache:
                if d is data and k == key:
                    return result
        result = fn(data, **options)
        with lock:
            cache.insert(0, (data, key, result))
            del cache[SLOTS:]
        return result

    def done(data) -> list[T]:
        with lock:
            return [result for d, _, result in cache if d is data]

    wrapper.done = done  # type: ignore[attr-defined]
    return wrapper
