"""Daily returns computed from a portfolio's own ledger and the stored daily closes.

The conventions (trading days, equity, returns net of cash flows, the first metric day)
are those of :mod:`pas.metrics`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

from pas.errors import InputError, StaleDataError
from pas.models import UNITS_PER_ONE, CashFlow, DailyMetric, Fill, from_units, to_units
from pas.schedule import market_day
from pas.store.rules import LedgerFold

SOURCE_UPDATE = "update"


def daily_returns_from_ledger(
    portfolio: str,
    capital: Decimal | None,
    fills: Sequence[Fill],
    flows: Sequence[CashFlow],
    closes: Mapping[str, Sequence[tuple[date, Decimal]]],
    benchmark: str,
    since: date | None = None,
    folded: LedgerFold | None = None,
) -> list[DailyMetric]:
    """Every trading day's equity, return and benchmark return from a portfolio's ledger.

    Pure. See the module docstring for the conventions (trading days, equity, returns net
    of cash flows, carrying a close forward, the first metric day). Arithmetic is on
    integers of 10⁻¹⁸ dollars; equity is reported to 10⁻⁹ dollars.

    Args:
        portfolio: the portfolio's id.
        capital: its starting dollars (None counts as 0 when there are cash flows).
        fills: its fills, oldest first.
        flows: its cash flows, oldest first.
        closes: (day, close) pairs per symbol, oldest first; must hold the benchmark and
            every symbol the fills trade.
        benchmark: the symbol whose close days are the trading days.
        since: only the metrics of days on or after it are wanted. Equity is then valued
            from the trading day before it only, so ``closes`` of the other symbols need
            to start at that day's close (or the last one before it, carried forward):
            the results equal those of a full computation, for a fraction of the work.
        folded: ``fills`` folded already (the store's ``ledger_fold``): the holdings and
            cash before the valued day are then that fold less the fills from that day
            on, instead of every earlier fill folded again (the same integers).

    Returns:
        One :class:`DailyMetric` (source ``update``) per trading day after the base day;
        empty when there is no fill or cash flow yet or no trading day after it.

    Raises:
        InputError: no capital and no cash flows (the portfolio has no equity).
        StaleDataError: no close of the benchmark, or of a held symbol on or before a day.
    """
    in_units = {s: [(d, to_units(c)) for d, c in pairs] for s, pairs in closes.items()}
    return daily_returns_in_units(portfolio, capital, fills, flows, in_units, benchmark, since, folded)


def daily_returns_in_units(
    portfolio: str,
    capital: Decimal | None,
    fills: Sequence[Fill],
    flows: Sequence[CashFlow],
    closes: Mapping[str, Sequence[tuple[date, int]]],
    benchmark: str,
    since: date | None = None,
    folded: LedgerFold | None = None,
) -> list[DailyMetric]:
    """:func:`daily_returns_from_ledger` of closes in nano dollars, as the store keeps them
    (:meth:`~pas.store.interfaces.PriceStore.price_units`): the same metrics, without a
    ``Decimal`` per close. A benchmark return is the ``Decimal`` quotient of its two
    closes, made a float, as of the closes in dollars (the same quotient)."""
    if capital is None and not flows:
        raise InputError(
            f"portfolio {portfolio} has no capital and no cash flows, so it has no equity; "
            f"fund it with `pas portfolio fund {portfolio} AMOUNT`"
        )
    bench = list(closes.get(benchmark, ()))
    if not bench:
        raise StaleDataError(
            f"no closes of the benchmark {benchmark} are stored; run `pas prices fetch` first"
        )
    if not fills and not flows:
        return []
    days = [d for d, _ in bench]
    base = base_index(days, fills, flows)
    if base >= len(days) - 1:
        return []
    traded = {f.symbol for f in fills} if folded is None else set(folded.qty)  # the fold keeps each
    carried = _CarriedCloses(closes, sorted(traded), portfolio)
    bench_close = [Decimal(c) for _, c in bench]
    # Equity is valued from this day on; before it only holdings and cash are counted, so
    # the events of the days before it are folded in one pass, and only later ones are
    # grouped by day: an update of the last days costs little more than those days.
    valued = base if since is None else max(base, index_on_or_after(days, since) - 1)
    fills_before = _counted_before(fills, days, valued)
    flows_before = _counted_before(flows, days, valued)
    qty: dict[str, int] = {}
    cash = to_units(capital or Decimal(0)) * UNITS_PER_ONE
    # The flows' Decimal sum is exact (each has at most 9 decimals and is below 10^10, so
    # up to 10^8 flows stay within the 28 digits of Decimal arithmetic), then made units.
    flowed = sum((f.amount for f in flows[:flows_before]), Decimal(0))
    cash += int(flowed.scaleb(9)) * UNITS_PER_ONE
    if folded is None:
        for fill in fills[:fills_before]:
            cash -= _book(qty, fill)
    else:
        qty = dict(folded.qty)
        cash -= folded.cash_out + folded.commissions * UNITS_PER_ONE
        for fill in fills[fills_before:]:
            cash -= _book(qty, fill, -1)
    fill_at = _group(fills[fills_before:], days)
    flow_at = _group(flows[flows_before:], days)
    metrics: list[DailyMetric] = []
    previous_equity = 0
    for index in range(valued, len(days)):
        day = days[index]
        flow_today = sum(to_units(f.amount) for f in flow_at.get(index, ())) * UNITS_PER_ONE
        for fill in fill_at.get(index, ()):
            cash -= _book(qty, fill)
        cash += flow_today
        equity = cash + carried.holdings_value(qty, day)
        if index > valued and previous_equity + flow_today > 0:
            ret = equity / (previous_equity + flow_today) - 1.0
            bench_ret = float(bench_close[index] / bench_close[index - 1]) - 1.0
            dollars = from_units(equity // UNITS_PER_ONE)
            metrics.append(DailyMetric(portfolio, day, ret, dollars, bench_ret, SOURCE_UPDATE))
        previous_equity = equity
    return metrics


class _CarriedCloses:
    """Each symbol's last close on or before a day, for days visited oldest first.

    Args:
        closes: (day, close in nano dollars) pairs per symbol, oldest first.
        symbols: the symbols to value.
        portfolio: the portfolio's id, for the message of a missing close.
    """

    def __init__(
        self, closes: Mapping[str, Sequence[tuple[date, int]]], symbols: Sequence[str], portfolio: str
    ) -> None:
        self._history = {s: closes.get(s, ()) for s in symbols}
        self._seen = dict.fromkeys(symbols, 0)  # how many of each symbol's closes are on or before the day
        self._last: dict[str, int] = {}
        self._portfolio = portfolio

    def holdings_value(self, qty: Mapping[str, int], day: date) -> int:
        """Σ quantity × close on ``day`` (the last one before it carried forward).

        Args:
            qty: units (10⁻⁹ shares) held per symbol; the value is in 10⁻¹⁸ dollars.
            day: the day, no earlier than the one of the previous call.

        Raises:
            StaleDataError: a symbol held has no close on or before the day.
        """
        value = 0
        for symbol, held in qty.items():
            pairs, count = self._history[symbol], self._seen[symbol]
            while count < len(pairs) and pairs[count][0] <= day:
                count += 1
            self._seen[symbol] = count
            if count:
                self._last[symbol] = pairs[count - 1][1]
            if held == 0:
                continue
            if symbol not in self._last:
                raise StaleDataError(
                    f"no close of {symbol} on or before {day} is stored (portfolio {self._portfolio} "
                    "holds it); run `pas prices fetch` first"
                )
            value += held * self._last[symbol]
        return value


def base_index(days: Sequence[date], fills: Sequence[Fill], flows: Sequence[CashFlow]) -> int:
    """The index of the base day: the trading day the first fill or cash flow counts on."""
    first_event = min([market_day(f.ts) for f in fills[:1]] + [market_day(f.ts) for f in flows[:1]])
    return index_on_or_after(days, first_event)


def index_on_or_after(days: Sequence[date], day: date) -> int:
    """The index of the first of ``days`` (sorted) on or after ``day``; ``len(days)`` if none."""
    from bisect import bisect_left

    return bisect_left(days, day)


def _book(qty: dict[str, int], fill: Fill, sign: int = 1) -> int:
    """Adds a fill to the units held per symbol (``sign`` −1: takes it out); returns the
    cash it took in 10⁻¹⁸ dollars (−1: gave back)."""
    signed, price, commission = fill.nano
    qty[fill.symbol] = qty.get(fill.symbol, 0) + sign * signed
    return sign * (signed * price + commission * UNITS_PER_ONE)


def _counted_before[T: (Fill, CashFlow)](events: Sequence[T], days: Sequence[date], index: int) -> int:
    """How many of ``events`` (oldest first) count on a trading day before ``days[index]``."""
    from bisect import bisect_right

    if index == 0:
        return 0
    return bisect_right(events, days[index - 1], key=lambda e: market_day(e.ts))


def _group[T: (Fill, CashFlow)](events: Sequence[T], days: Sequence[date]) -> dict[int, list[T]]:
    grouped: dict[int, list[T]] = {}
    for event in events:
        grouped.setdefault(index_on_or_after(days, market_day(event.ts)), []).append(event)
    return grouped
