"""Daily metrics posted by hand: parsing and checking the rows of a metrics file.

A posted row is a portfolio's return on one day (a fraction), with its equity at the
close when known; the benchmark's return is added from the stored closes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pas.dates import closed_reason
from pas.errors import InputError
from pas.models import CashFlow, DailyMetric, Fill, Portfolio, parse_day, parse_decimal
from pas.schedule import market_day

if TYPE_CHECKING:
    from pas.portfolio.imports import Rows

SOURCE_POST = "post"
POSTED_COLUMNS = ("date", "return", "equity")
MIN_RETURN = -1.0
"""A day can lose everything (-100%), never more."""


@dataclass(frozen=True)
class PostedRow:
    """One day of performance given by hand: ``ret`` a fraction, ``equity`` dollars."""

    day: date
    ret: float
    equity: Decimal | None = None


def parse_return(text: str | float, what: str = "return") -> float:
    """A daily return as a fraction (0.01 is +1%): finite and not below -100%."""
    try:
        value = float(str(text).strip())
    except ValueError:
        raise InputError(f"{what} must be a number such as 0.0125 (for +1.25%), got {text!r}") from None
    if not math.isfinite(value):
        raise InputError(f"{what} must be a finite number, got {text!r}")
    if value < MIN_RETURN:
        raise InputError(f"{what} {text} is below -100% (-1); returns are fractions: 0.01 is +1%")
    return value


def parse_equity(text: str | float, what: str = "equity") -> Decimal:
    """Equity in dollars: a finite number, zero or more, kept to 9 decimal places."""
    value = parse_decimal(text, what)
    if value < 0:
        raise InputError(f"{what} must be zero or more dollars, got {text!r}")
    return value.quantize(Decimal(1).scaleb(-9))


def parse_posted_rows(records: Iterable[tuple[str, Mapping[str, Any]]]) -> list[PostedRow]:
    """Rows of a metrics file: ``date``, ``return``, optional ``equity`` per record.

    Every record is checked; all problems are reported together (up to five) and then
    nothing is returned.

    Args:
        records: (location, record) pairs, location such as "line 3".

    Raises:
        InputError: any record is bad, a day appears twice, or there is no record.
    """
    rows: list[PostedRow] = []
    problems: list[str] = []
    seen: dict[date, str] = {}
    for where, record in records:
        try:
            day = parse_day(_field(record, "date"))
            ret = parse_return(_field(record, "return"))
            raw_equity = record.get("equity")
            equity = None if raw_equity in (None, "") else parse_equity(raw_equity)
        except InputError as exc:
            problems.append(f"{where}: {exc}")
            continue
        if day in seen:
            problems.append(f"{where}: {day} is already on {seen[day]}")
            continue
        seen[day] = where
        rows.append(PostedRow(day, ret, equity))
    if problems:
        raise InputError(f"{len(problems)} bad row(s), nothing posted: {_first(problems)}")
    if not rows:
        raise InputError("no rows to post; give date and return columns")
    return rows


def read_posted_file(path: Path, text: str | None = None) -> Rows[PostedRow]:
    """Reads a CSV (or JSON list) with columns ``date``, ``return``, optional ``equity``;
    ``text``, when given, is its content (standard input) and ``path`` only names it.
    Other columns are ignored and reported in ``ignored_columns``."""
    from pas.portfolio.imports import Rows, records_of, unknown_columns

    try:
        records = records_of(path, "metrics", text)
        return Rows(parse_posted_rows(records), unknown_columns(records, POSTED_COLUMNS))
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None


def portfolio_start(portfolio: Portfolio, fills: Sequence[Fill], flows: Sequence[CashFlow]) -> date:
    """The first day the portfolio existed: its creation, or an earlier fill or cash flow
    (history imported after the fact)."""
    days = [market_day(portfolio.created_at)]
    days += [market_day(f.ts) for f in fills[:1]] + [market_day(f.ts) for f in flows[:1]]
    return min(days)


def check_posted(
    rows: Sequence[PostedRow],
    *,
    start: date | None,
    today: date,
    existing: set[date],
    replace: bool,
) -> None:
    """Refuses rows dated in the future, on a day the NYSE is closed, before ``start``, or
    already stored without ``replace``.

    Args:
        start: the first day the portfolio existed; None to backfill a track record kept
            before it (``pas metrics post --backfill``).

    Raises:
        InputError: listing the bad days (nothing was written).
    """
    problems: list[str] = []
    for row in rows:
        if row.day > today:
            problems.append(f"{row.day} is in the future (today is {today})")
        elif closed := closed_reason(row.day):
            problems.append(f"{row.day} is {closed}, not an NYSE trading day")
        elif start is not None and row.day < start:
            problems.append(
                f"{row.day} is before the portfolio existed ({start}); add --backfill to post "
                "a track record from before it"
            )
        elif row.day in existing and not replace:
            problems.append(f"{row.day} is already posted (add --replace to overwrite it)")
    if problems:
        raise InputError(f"nothing posted: {_first(problems)}")


def posted_metrics(
    portfolio: str, rows: Sequence[PostedRow], benchmark_closes: Sequence[tuple[date, Decimal]]
) -> list[DailyMetric]:
    """Metrics of posted rows, with the benchmark's return where two closes allow it.

    The benchmark return of day D is D's close over the close before it; None when either
    is not stored.
    """
    closes = dict(benchmark_closes)
    ordered = sorted(closes)
    previous = {day: before for before, day in pairwise(ordered)}
    metrics = []
    for row in rows:
        bench = None
        if row.day in previous:
            bench = float(closes[row.day] / closes[previous[row.day]]) - 1.0
        metrics.append(DailyMetric(portfolio, row.day, row.ret, row.equity, bench, SOURCE_POST))
    return metrics


def _field(record: Mapping[str, Any], key: str) -> str:
    value = record.get(key)
    if value is None or str(value).strip() == "":
        raise InputError(f"missing {key}")
    return str(value).strip()


def _first(problems: Sequence[str], shown: int = 5) -> str:
    more = f" (and {len(problems) - shown} more)" if len(problems) > shown else ""
    return "; ".join(problems[:shown]) + more
