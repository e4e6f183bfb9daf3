"""A benchmark's result lines: one figure per line, with its goal and whether the goal was met.

    figure: <name> value=<number> goal=<op><number> met=<yes|no>

Figures without a goal (the raw times behind a ratio) print `goal=none met=n/a`, so every number a ratio was made
from is on record next to it.
"""

from __future__ import annotations

import operator
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

GoalOp = Literal["<=", ">="]
_OPS: Final[dict[GoalOp, Callable[[float, float], bool]]] = {"<=": operator.le, ">=": operator.ge}


@dataclass(frozen=True, kw_only=True)
class Goal:
    op: GoalOp
    bound: float

    def met(self, value: float) -> bool:
        return _OPS[self.op](value, self.bound)

    def __str__(self) -> str:
        return f"{self.op}{self.bound:g}"


def at_most(bound: float) -> Goal:
    return Goal(op="<=", bound=bound)


def at_least(bound: float) -> Goal:
    return Goal(op=">=", bound=bound)


@dataclass(frozen=True, kw_only=True)
class Figure:
    name: str
    value: float
    goal: Goal | None = None
    samples: tuple[float, ...] = ()  # the runs the value is the median of

    @property
    def met(self) -> bool | None:
        return None if self.goal is None else self.goal.met(self.value)

    def line(self) -> str:
        goal = "none" if self.goal is None else str(self.goal)
        met = "n/a" if self.met is None else ("yes" if self.met else "no")
        samples = f"  # runs: {', '.join(f'{s:.3g}' for s in self.samples)}" if len(self.samples) > 1 else ""
        return f"figure: {self.name} value={self.value:.4g} goal={goal} met={met}{samples}"


def median(samples: Sequence[float]) -> float:
    if not samples:
        raise ValueError("no samples to take the median of")
    return statistics.median(samples)


def median_figure(name: str, samples: Sequence[float], goal: Goal | None = None) -> Figure:
    return Figure(name=name, value=median(samples), goal=goal, samples=tuple(samples))


def ratio_figure(name: str, numerators: Sequence[float], denominators: Sequence[float], goal: Goal | None) -> Figure:
    """The ratio of two medians measured in the same alternating rounds."""
    return Figure(name=name, value=median(numerators) / median(denominators), goal=goal)
