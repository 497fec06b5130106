"""The report's HTML tables. Every text that comes from data is HTML-escaped.

Each table has a caption stating the convention its figures follow (VaR sign, drawdown
episode, partial periods, cost measurement).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from html import escape

from pas.analytics.losses import VAR_CAPTION
from pas.report import measures as m
from pas.report.activity import Trade, costs
from pas.report.data import (
    COMBINED,
    PERCENT_STATS,
    STAT_NAMES,
    VAR_LEVELS,
    PortfolioSeries,
    ReportData,
    statistics,
)

TRADES_SHOWN = 50
"""Trades listed in the page (the newest); the CSV beside the report has them all."""
PARTIAL = "*"
"""Marks a partial year (the series does not cover all of its trading days)."""


def empty(message: str) -> str:
    """A paragraph saying why a section has nothing to show."""
    return f'<p class="empty">{escape(message)}</p>'


def table(header: Sequence[str], rows: Sequence[Sequence[str]], caption: str = "") -> str:
    """An HTML table with an optional caption (escaped)."""
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def fmt(value: float | None, percent: bool, places: int = 2) -> str:
    """A figure as text: a percentage of a fraction or a plain number; – when unknown."""
    if value is None or math.isnan(value):
        return "–"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    return f"{value * 100:.{places}f}%" if percent else f"{value:.{places}f}"


def dollars(value: Decimal | float | None) -> str:
    """Dollars with thousands separators and cents; – when unknown."""
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:,.2f}"


def _columns(data: ReportData) -> dict[str, PortfolioSeries]:
    """The books of a table, and the benchmark as a last column when it has returns."""
    books = data.books
    if data.benchmark and data.benchmark_returns:
        books[f"{data.benchmark} (benchmark)"] = PortfolioSeries(
            tuple(data.benchmark_returns), tuple(data.benchmark_returns.values())
        )
    return books


def statistics_table(data: ReportData) -> str:
    """:data:`STAT_NAMES` per book and for the benchmark."""
    if not data.portfolios:
        return empty("No portfolios.")
    columns = _columns(data)
    values = {name: statistics(s, data.benchmark_returns) for name, s in columns.items()}
    rows = [["days", *(str(len(s.days)) for s in columns.values())]]
    rows += [[stat, *(fmt(v[stat], stat in PERCENT_STATS) for v in values.values())] for stat in STAT_NAMES]
    return table(["statistic", *columns], rows, f"Daily returns; VaR and CVaR at 95%, 1 day. {VAR_CAPTION}.")


def returns_table(data: ReportData) -> str:
    """Each calendar year's compounded return, and the cumulative return, per book."""
    columns = _columns(data)
    if not columns:
        return empty("No portfolios.")
    yearly = {name: m.yearly_returns(s.days, s.returns) for name, s in columns.items()}
    partial = {name: m.partial_years(s.days) for name, s in columns.items()}
    years = sorted({y for by_year in yearly.values() for y in by_year})
    rows = [
        [
            str(y),
            *(
                fmt(yearly[n].get(y), True) + (PARTIAL if y in partial[n] else "") if y in yearly[n] else "–"
                for n in columns
            ),
        ]
        for y in years
    ]
    rows.append(["cumulative", *(fmt(m.cumulative_return(s.returns), True) for s in columns.values())])
    return table(
        ["year", *columns],
        rows,
        f"Compounded daily returns. {PARTIAL} a partial year: the series starts or ends inside it.",
    )


def drawdowns_table(data: ReportData) -> str:
    """The worst :data:`~pas.report.measures.WORST_DRAWDOWNS` episodes of each book."""
    rows = []
    for name, s in data.books.items():
        for rank, e in enumerate(m.worst_drawdowns(s.days, s.returns), start=1):
            rows.append(
                [
                    name,
                    str(rank),
                    e.start.isoformat() if e.start else "before the first day",
                    e.trough.isoformat(),
                    e.recovery.isoformat() if e.recovery else "not recovered",
                    fmt(e.depth, True),
                    str(e.length),
                ]
            )
    if not rows:
        return empty("No drawdowns: no book ever fell below its running peak.")
    return table(
        ["book", "rank", "start (peak)", "trough", "recovery", "depth", "length (days)"],
        rows,
        "Start is the last day at the running peak, recovery the first day back at it; length counts "
        "trading days from start to recovery (or to the last day).",
    )


def risk_table(data: ReportData) -> str:
    """1-day historical VaR at :data:`VAR_LEVELS` in percent of equity and dollars."""
    if not data.risk:
        return empty("No risk figures.")
    header = ["portfolio", "equity"]
    for level in VAR_LEVELS:
        header += [f"VaR {level:.0%} 1-day", f"VaR {level:.0%} 1-day $"]
    header.append("method")
    rows = []
    for pid, fig in data.risk.items():
        row = [pid, dollars(fig.equity)]
        for level in VAR_LEVELS:
            var = fig.var.get(level, math.nan)
            row += [fmt(var, percent=True), dollars(None if fig.equity is None else var * fig.equity)]
        row.append(fig.method)
        rows.append(row)
    return table(
        header, rows, f"Value at risk: the loss exceeded on the worst 5% (1%) of days. {VAR_CAPTION}."
    )


def costs_table(data: ReportData) -> str:
    """What each portfolio's trades cost, and with several, the combined book's (all their
    trades): commissions and slippage against the close."""
    if not any(data.trades.values()):
        return empty("No trades recorded.")
    books = dict(data.trades)
    if data.combined is not None:
        books[COMBINED] = [t for found in data.trades.values() for t in found]
    rows = []
    for pid, trades in books.items():
        c = costs(trades)
        bps = float(c.total / c.traded * 10_000) if c.traded else math.nan
        unmeasured = f" ({c.unmeasured} trades without a close)" if c.unmeasured else ""
        rows.append(
            [
                pid,
                str(c.trades),
                dollars(c.traded),
                dollars(c.commission),
                dollars(c.slippage) + unmeasured,
                dollars(c.total),
                fmt(bps, False, 1),
            ]
        )
    return table(
        ["portfolio", "trades", "traded $", "commission $", "slippage $", "total $", "bps of traded"],
        rows,
        "Commissions as the fills record them; slippage is each fill's price against its day's stored "
        "close (buying above or selling below it is a cost).",
    )


def trades_table(trades: Mapping[str, Sequence[Trade]], csv_name: str | None) -> str:
    """The newest :data:`TRADES_SHOWN` trades of every portfolio, and where the rest are."""
    every = sorted((t for found in trades.values() for t in found), key=lambda t: t.ts, reverse=True)
    if not every:
        return empty("No trades recorded.")
    rows = [
        [
            t.ts.strftime("%Y-%m-%d %H:%M"),
            t.portfolio,
            t.symbol,
            t.side.value,
            f"{t.qty.normalize():f}",
            dollars(t.price),
            dollars(t.value),
            dollars(t.commission),
            dollars(t.slippage),
        ]
        for t in every[:TRADES_SHOWN]
    ]
    where = f"every trade is in {csv_name} beside this report" if csv_name else "the trades CSV has them all"
    shown = f"The newest {len(rows)} of {len(every)} trades (UTC); {where}."
    return table(
        [
            "time (UTC)",
            "portfolio",
            "symbol",
            "side",
            "qty",
            "price",
            "value $",
            "commission $",
            "slippage $",
        ],
        rows,
        shown,
    )
