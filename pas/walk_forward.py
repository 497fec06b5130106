"""Walk-forward backtests: in-sample windows where the allocation learns, out-of-sample
windows where what it learned is held and judged.

The trading days of the backtest are cut into consecutive folds of ``in_sample +
out_of_sample`` trading days (the last fold may be short): the first ``in_sample`` days
of a fold are **in sample**, the rest **out of sample**, so the two kinds of window
alternate and never overlap. In sample the backtest runs as usual: the allocation is
fitted again each week on the trailing statistics. On the first day of an out-of-sample
window the allocation is fitted once, on the history up to the day before (the in-sample
window and all before it), and **held** to the end of the window: no weekly refit. The
strategies are point-in-time in every window (they only ever see the past), so what
differs out of sample is that nothing is fitted on it.

Statistics are computed for each book over the in-sample days and over the
out-of-sample days (each a union of windows, each book over its own life), so a user
sees how much of a result survives on the days nothing was fitted to. With
``--allocation none`` nothing is fitted at all, and the two differ only by their days.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from pas.errors import InputError

DEFAULT_IN_SAMPLE = 126  # trading days: half a year
DEFAULT_OUT_OF_SAMPLE = 63  # a quarter
IN_SAMPLE, OUT_OF_SAMPLE = "in_sample", "out_of_sample"


@dataclass(frozen=True)
class WalkForward:
    """The windows of a walk-forward backtest, in trading days (see the module docstring)."""

    in_sample: int = DEFAULT_IN_SAMPLE
    out_of_sample: int = DEFAULT_OUT_OF_SAMPLE

    def __post_init__(self) -> None:
        if self.in_sample < 1 or self.out_of_sample < 1:
            raise InputError(
                f"--in-sample and --out-of-sample must be at least 1 trading day, "
                f"got {self.in_sample} and {self.out_of_sample}"
            )

    def phase(self, number: int) -> str:
        """:data:`IN_SAMPLE` or :data:`OUT_OF_SAMPLE` for the backtest's day ``number`` (from 0)."""
        return IN_SAMPLE if number % (self.in_sample + self.out_of_sample) < self.in_sample else OUT_OF_SAMPLE

    def held(self, number: int) -> bool:
        """Whether day ``number`` keeps the allocation fitted before its out-of-sample window
        (every out-of-sample day but the window's first)."""
        return self.phase(number) == OUT_OF_SAMPLE and self.phase(number - 1) == OUT_OF_SAMPLE

    def windows(self, days: Sequence[date]) -> list[tuple[str, date, date]]:
        """Each window as (phase, first day, last day), in order."""
        out: list[tuple[str, date, date]] = []
        for number, day in enumerate(days):
            phase = self.phase(number)
            if out and out[-1][0] == phase:
                out[-1] = (phase, out[-1][1], day)
            else:
                out.append((phase, day, day))
        return out

    def days_of(self, days: Sequence[date], phase: str) -> set[date]:
        """The days of one phase."""
        return {day for number, day in enumerate(days) if self.phase(number) == phase}
