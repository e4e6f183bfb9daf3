"""Time a real service spends on each request, for doubles that otherwise answer on loopback in microseconds.

On loopback a sweep is bound by CPU; against real Azure DevOps and package registries every request also waits for
the network and the service. A double given a `Latency` sleeps that long in the request's own thread before it
answers, so concurrent requests overlap their waits as they do against a real service, and a client that sends
requests one after another pays each one in full.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True, kw_only=True)
class Latency:
    """Seconds added to each request: Azure DevOps REST calls, git smart HTTP requests, package registry lookups."""

    rest_s: float = 0.0
    git_s: float = 0.0
    registry_s: float = 0.0

    NONE: ClassVar[Latency]

    def __post_init__(self) -> None:
        if min(self.rest_s, self.git_s, self.registry_s) < 0:
            raise ValueError(f"latencies cannot be negative: {self}")

    @classmethod
    def parse(cls, text: str) -> Latency:
        """`rest=80ms,git=150ms,registry=40ms` (milliseconds; names may be left out), or `none`."""
        if text.strip().lower() in ("", "none", "0"):
            return cls.NONE
        values = dict(_milliseconds(part.strip()) for part in text.split(","))
        return cls(**values)

    def describe(self) -> str:
        return f"rest={self.rest_s * 1000:g}ms,git={self.git_s * 1000:g}ms,registry={self.registry_s * 1000:g}ms"


Latency.NONE = Latency()


def _milliseconds(part: str) -> tuple[str, float]:
    """`rest=80ms` -> ("rest_s", 0.08)."""
    name, _, value = part.partition("=")
    number = value.removesuffix("ms")
    if name in ("rest", "git", "registry") and value.endswith("ms") and number.replace(".", "", 1).isdigit():
        return f"{name}_s", float(number) / 1000
    raise ValueError(f"latency {part!r}: expected rest=<N>ms, git=<N>ms or registry=<N>ms")


def wait(seconds: float) -> None:
    if seconds > 0:
        time.sleep(seconds)
