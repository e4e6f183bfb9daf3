"""Two independent steps at once, with the errors they would have had one after the other.

The checks before a sweep are of two kinds that need nothing from each other: the engine's (the cache probe and
Renovate's check of the options, both short containers) and Azure DevOps's (the preflight, one request after
another). On a real organization each takes seconds, so the runner does them side by side. Their errors keep the
precedence of the sequential order, so a configuration error still wins over an unreachable organization.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

A = TypeVar("A")
B = TypeVar("B")


def both(first: Callable[[], A], second: Callable[[], B]) -> tuple[A, B]:
    """`first` in a thread of its own (with this thread's context variables, so its log lines carry the same
    bindings) and `second` in this one. Returns when both have finished. If both fail, `first`'s error is raised;
    an interrupt of this thread waits for `first` to finish (it removes its own containers) and then propagates."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="side-by-side") as pool:
        first_done = pool.submit(contextvars.copy_context().run, first)
        try:
            second_result = second()
        except Exception:
            first_done.result()  # raises first's error, which comes first
            raise
        return first_done.result(), second_result
