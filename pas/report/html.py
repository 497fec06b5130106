"""Renders a :class:`~pas.report.data.ReportData` as one self-contained HTML file.

Plots are drawn with matplotlib's Agg backend and embedded as base64 PNG ``data:`` URIs;
the CSS is inline. The file loads nothing from the network. Every text that comes from
data (portfolio ids, symbols) is HTML-escaped, and matplotlib's math text is off so that
a ``$`` in a name is drawn as it is.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from html import escape
from typing import TYPE_CHECKING, Any

from pas import __version__
from pas.report.data import (
    COMBINED,
    PERCENT_STATS,
    STAT_NAMES,
    VAR_LEVELS,
    PortfolioSeries,
    ReportData,
    statistics,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

ROLLING_WINDOW = 63
"""Trading days in the rolling Sharpe ratio's window (about a quarter)."""
TRADING_DAYS = 252
"""Annualisation of the rolling Sharpe ratio: √252."""
MIN_DEVIATION = 1e-12
"""A window whose daily returns deviate less than this does not vary: its Sharpe ratio is NaN."""
MAX_WEIGHT_BARS = 20
"""Weights shown per portfolio; the rest are summed as "other"."""
WIDTH_IN, DPI = 11.0, 100
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
NO_ALLOCATION = "No allocation applied yet."

CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 0; color: #222;
       background: #f6f7f9; }
main { max-width: 1160px; margin: 0 auto; padding: 24px; background: #fff; }
h1 { margin: 0 0 4px 0; font-size: 26px; }
h2 { margin-top: 36px; border-bottom: 2px solid #e3e6ea; padding-bottom: 4px; font-size: 20px; }
h3 { font-size: 16px; margin: 18px 0 6px 0; }
p.meta { color: #666; margin: 0 0 12px 0; }
.badge { display: inline-block; padding: 2px 8px; border-radius: 4px; background: #fde68a;
         font-weight: 600; font-size: 13px; }
nav a { margin-right: 14px; color: #1f4e99; text-decoration: none; font-size: 14px; }
img { max-width: 100%; height: auto; display: block; margin: 8px 0; }
table { border-collapse: collapse; margin: 8px 0 16px 0; font-size: 14px; }
th, td { padding: 4px 12px; border-bottom: 1px solid #e3e6ea; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #f0f2f5; }
p.empty { color: #666; font-style: italic; }
footer { margin-top: 40px; color: #888; font-size: 12px; }
"""


def render_report(data: ReportData) -> str:
    """The report as an HTML document (UTF-8 text, no external resources)."""
    import matplotlib

    matplotlib.use("Agg")
    with _plain_text():
        sections = [
            ("equity", "Equity against the benchmark", _equity_section(data)),
            ("drawdown", "Drawdown", _image(_drawdown_figure(data))),
            ("rolling-sharpe", f"Rolling Sharpe ratio ({ROLLING_WINDOW} days)", _rolling_section(data)),
            ("monthly", "Monthly returns", _monthly_section(data)),
            ("weights", "Current target weights", _weights_section(data)),
            ("allocation", "Allocation over time", _allocation_section(data)),
            ("statistics", "Statistics", _statistics_table(data)),
            ("risk", "Risk", _risk_table(data)),
        ]
    return _page(data, sections)


# -- the page ------------------------------------------------------------------------------


def _page(data: ReportData, sections: Sequence[tuple[str, str, str]]) -> str:
    ids = ", ".join(data.portfolios) or "none"
    days = [d for s in data.portfolios.values() for d in s.days]
    period = f"{min(days).isoformat()} to {max(days).isoformat()}" if days else "no days"
    kind = '<span class="badge">backtest</span> ' if data.backtest else ""
    bench = f"benchmark {escape(data.benchmark)}" if data.benchmark else "no benchmark"
    nav = "".join(f'<a href="#{sid}">{escape(title)}</a>' for sid, title, _ in sections)
    body = "\n".join(
        f'<section id="{sid}">\n<h2>{escape(title)}</h2>\n{content}\n</section>'
        for sid, title, content in sections
    )
    generated = data.generated_at.strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pas report: {escape(ids)}</title>
<style>{CSS}</style>
</head>
<body>
<main>
<h1>Portfolio report</h1>
<p class="meta">{kind}Portfolios: <strong>{escape(ids)}</strong> · {escape(period)} · {bench}</p>
<nav>{nav}</nav>
{body}
<footer>Generated {escape(generated)} by pas {escape(__version__)}. Returns are daily, net of cash
flows; ratios are annualised with 252 trading days.</footer>
</main>
</body>
</html>
"""


def _empty(message: str) -> str:
    return f'<p class="empty">{escape(message)}</p>'


def _image(fig: Figure, alt: str = "") -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{encoded}">'


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fmt(value: float | None, percent: bool, places: int = 2) -> str:
    if value is None or math.isnan(value):
        return "–"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    return f"{value * 100:.{places}f}%" if percent else f"{value:.{places}f}"


# -- plots ---------------------------------------------------------------------------------


@contextmanager
def _plain_text() -> Iterator[None]:
    """Names are drawn as they are: no math text (a ``$`` in a symbol), a readable style."""
    import matplotlib

    style: dict[str, Any] = {
        "text.parse_math": False,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "font.size": 10,
    }
    with matplotlib.rc_context(style):  # type: ignore[arg-type]
        yield


def _figure(height: float) -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_IN, height), layout="constrained")
    return fig, fig.subplots()


def _dates(days: Sequence[date]) -> npt.NDArray[np.datetime64]:
    import numpy as np

    return np.array(days, dtype="datetime64[D]")


def _date_axis(ax: Axes) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=3, maxticks=10)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]


def _percent_axis(ax: Axes, axis: str = "y") -> None:
    from matplotlib.ticker import PercentFormatter

    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(PercentFormatter(1.0, decimals=0))


def _note(ax: Axes, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="#666")


def _colours(data: ReportData) -> dict[str, str]:
    """One colour per portfolio, the same in every plot."""
    return {pid: f"C{i % 10}" for i, pid in enumerate(data.portfolios)}


def _growth(returns: Sequence[float]) -> list[float]:
    """Growth of one dollar, starting at 1 before the first return."""
    out, value = [], 1.0
    for r in returns:
        value *= 1 + r
        out.append(value)
    return out


def _equity_section(data: ReportData) -> str:
    fig, ax = _figure(4.2)
    marker = "o" if max((len(s.days) for s in data.portfolios.values()), default=0) < 3 else None
    colour = _colours(data)
    for pid, s in data.portfolios.items():
        ax.plot(
            _dates(s.days), _growth(s.returns), label=pid, marker=marker, linewidth=1.4, color=colour[pid]
        )
    if data.benchmark and data.portfolios:
        days = sorted({d for s in data.portfolios.values() for d in s.days if d in data.benchmark_returns})
        if days:
            bench = _growth([data.benchmark_returns[d] for d in days])
            ax.plot(_dates(days), bench, label=data.benchmark, color="#444", linestyle="--", marker=marker)
    ax.axhline(1.0, color="#999", linewidth=0.8)
    ax.set_ylabel("growth of $1")
    _date_axis(ax)
    if data.portfolios:
        ax.legend(loc="upper left", fontsize=9, ncols=min(6, len(data.portfolios) + 1))
    note = (
        _empty("No benchmark returns are stored; the plot shows the portfolios only.")
        if not data.benchmark
        else ""
    )
    return _image(fig, "equity curves") + note


def _drawdown_figure(data: ReportData) -> Figure:
    fig, ax = _figure(3.2)
    colour = _colours(data)
    for pid, s in data.portfolios.items():
        growth = _growth(s.returns)
        peak, dd = 1.0, []
        for g in growth:
            peak = max(peak, g)
            dd.append(g / peak - 1)
        marker = "o" if len(dd) < 3 else None
        ax.plot(_dates(s.days), dd, label=pid, linewidth=1.2, marker=marker, color=colour[pid])
        ax.fill_between(_dates(s.days), dd, 0, color=colour[pid], alpha=0.12)
    ax.set_ylabel("below the running peak")
    _percent_axis(ax)
    _date_axis(ax)
    if data.portfolios:
        ax.legend(loc="lower left", fontsize=9, ncols=min(6, len(data.portfolios)))
    return fig


def rolling_sharpe(returns: Sequence[float], window: int = ROLLING_WINDOW) -> list[float]:
    """Annualised Sharpe ratio over each trailing ``window`` of daily returns (NaN where
    the window is not full or its returns do not vary); one value per day."""
    import numpy as np
    from numpy.lib.stride_tricks import sliding_window_view

    r = np.asarray(returns, dtype=np.float64)
    out = np.full(len(r), np.nan)
    if len(r) < window:
        return out.tolist()
    windows = sliding_window_view(r, window)
    mean, std = windows.mean(axis=1), windows.std(axis=1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        # Identical returns leave a rounding residue instead of a zero deviation.
        ratio = np.where(std > MIN_DEVIATION, mean / std * np.sqrt(TRADING_DAYS), np.nan)
    out[window - 1 :] = ratio
    result: list[float] = out.tolist()
    return result


def _rolling_section(data: ReportData) -> str:
    fig, ax = _figure(3.2)
    drawn = False
    colour = _colours(data)
    for pid, s in data.portfolios.items():
        values = rolling_sharpe(s.returns)
        if any(not math.isnan(v) for v in values):
            ax.plot(_dates(s.days), values, label=pid, linewidth=1.2, color=colour[pid])
            drawn = True
    ax.axhline(0.0, color="#999", linewidth=0.8)
    if drawn:
        _date_axis(ax)
        ax.legend(loc="upper left", fontsize=9, ncols=min(6, len(data.portfolios)))
        ax.set_ylabel("Sharpe ratio")
    else:
        ax.set_xticks([])
        ax.set_yticks([])
        _note(ax, f"Needs at least {ROLLING_WINDOW} days of returns.")
    return _image(fig, "rolling Sharpe ratio")


def monthly_returns(series: PortfolioSeries) -> dict[tuple[int, int], float]:
    """Compounded return of each (year, month) that has days."""
    growth: dict[tuple[int, int], float] = {}
    for d, r in zip(series.days, series.returns, strict=True):
        key = (d.year, d.month)
        growth[key] = growth.get(key, 1.0) * (1 + r)
    return {k: g - 1 for k, g in growth.items()}


def _monthly_section(data: ReportData) -> str:
    parts = []
    for pid, s in data.portfolios.items():
        parts.append(f"<h3>{escape(pid)}</h3>")
        parts.append(_image(_heatmap(monthly_returns(s)), f"monthly returns of {pid}"))
    return "\n".join(parts) or _empty("No portfolios.")


def _heatmap(months: Mapping[tuple[int, int], float]) -> Figure:
    import numpy as np

    years = sorted({y for y, _ in months})
    grid = np.full((len(years), 12), np.nan)
    for (y, m), value in months.items():
        grid[years.index(y), m - 1] = value
    fig, ax = _figure(0.45 * len(years) + 1.1)
    limit = max(0.01, float(np.nanmax(np.abs(grid))))
    image = ax.imshow(grid, cmap="RdYlGn", vmin=-limit, vmax=limit, aspect="auto")
    ax.grid(False)
    ax.set_xticks(range(12), MONTHS)
    ax.set_yticks(range(len(years)), [str(y) for y in years])
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    for i in range(len(years)):
        for j in range(12):
            if not np.isnan(grid[i, j]):
                value = grid[i, j]
                colour = "white" if abs(value) > 0.7 * limit else "black"
                ax.text(j, i, f"{value * 100:.1f}%", ha="center", va="center", fontsize=9, color=colour)
    fig.colorbar(image, ax=ax, format=_percent_format(), shrink=0.9, pad=0.01)
    return fig


def _percent_format() -> Any:
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(1.0, decimals=None)  # small scales need decimals


def _weights_section(data: ReportData) -> str:
    parts = []
    for pid in (p for p in data.portfolios if p != COMBINED):  # the combined book has no targets
        weights = dict(data.weights.get(pid, {}))
        parts.append(f"<h3>{escape(pid)}</h3>")
        if not weights:
            parts.append(_empty("No target weights set."))
            continue
        ranked = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))
        shown = ranked[:MAX_WEIGHT_BARS]
        rest = sum(w for _, w in ranked[MAX_WEIGHT_BARS:])
        cash = max(0.0, 1.0 - sum(weights.values()))
        labels = [s for s, _ in shown] + (["other"] if rest > 0 else []) + (["cash"] if cash > 1e-9 else [])
        values = [w for _, w in shown] + ([rest] if rest > 0 else []) + ([cash] if cash > 1e-9 else [])
        fig, ax = _figure(0.28 * len(labels) + 0.9)
        colours = ["#4c72b0"] * len(shown) + ["#999"] * (len(labels) - len(shown))
        ax.barh(range(len(labels)), values, color=colours)
        ax.set_yticks(range(len(labels)), labels)
        ax.invert_yaxis()
        _percent_axis(ax, "x")
        ax.grid(axis="y", visible=False)
        for i, v in enumerate(values):
            ax.text(v, i, f" {v * 100:.1f}%", va="center", fontsize=8)
        ax.set_xlim(0, max(values) * 1.15)
        parts.append(_image(fig, f"target weights of {pid}"))
    return "\n".join(parts) or _empty("No portfolios.")


def _allocation_section(data: ReportData) -> str:
    if not data.allocation:
        return _empty(NO_ALLOCATION)
    import numpy as np

    known = _colours(data)
    names = [p for p in known if any(p in shares for _, shares in data.allocation)]
    names += sorted({p for _, shares in data.allocation for p in shares} - set(names))
    colours = [known.get(p, f"C{(len(known) + i) % 10}") for i, p in enumerate(names)]
    history = list(data.allocation)
    last_day = max((d for s in data.portfolios.values() for d in s.days), default=history[-1][0])
    if len(history) > 1 and last_day > history[-1][0]:
        history.append((last_day, history[-1][1]))  # the last allocation holds until today
    days = [d for d, _ in history]
    stacks = np.array([[shares.get(p, 0.0) for _, shares in history] for p in names])
    fig, ax = _figure(3.4)
    if len(days) == 1:
        bottom = 0.0
        for name, row, c in zip(names, stacks, colours, strict=True):
            ax.bar([0], [row[0]], bottom=bottom, label=name, width=0.4, color=c)
            bottom += row[0]
        ax.set_xticks([0], [days[0].isoformat()])
    else:
        ax.stackplot(_dates(days), stacks, labels=names, colors=colours, step="post", alpha=0.85)
        _date_axis(ax)
    _percent_axis(ax)
    ax.set_ylabel("share of capital")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9)
    return _image(fig, "allocation over time")


# -- tables --------------------------------------------------------------------------------


def _statistics_table(data: ReportData) -> str:
    if not data.portfolios:
        return _empty("No portfolios.")
    columns = {pid: statistics(s, data.benchmark_returns) for pid, s in data.portfolios.items()}
    if data.benchmark and data.benchmark_returns:
        days = tuple(data.benchmark_returns)
        bench = PortfolioSeries(days, tuple(data.benchmark_returns.values()))
        columns[f"{data.benchmark} (benchmark)"] = statistics(bench, data.benchmark_returns)
    rows = [
        [name, *(_fmt(values[name], name in PERCENT_STATS) for values in columns.values())]
        for name in STAT_NAMES
    ]
    days_row = ["days", *(str(len(s.days)) for s in data.portfolios.values())]
    if len(columns) > len(data.portfolios):
        days_row.append(str(len(data.benchmark_returns)))
    return _table(["statistic", *columns], [days_row, *rows])


def _risk_table(data: ReportData) -> str:
    if not data.risk:
        return _empty("No risk figures.")
    header = ["portfolio", "equity"]
    for level in VAR_LEVELS:
        header += [f"VaR {level:.0%} 1-day", f"VaR {level:.0%} 1-day $"]
    header.append("method")
    rows = []
    for pid, fig in data.risk.items():
        row = [pid, "–" if fig.equity is None else f"{fig.equity:,.2f}"]
        for level in VAR_LEVELS:
            var = fig.var.get(level)
            row.append(_fmt(var, percent=True))
            known = var is not None and not math.isnan(var) and fig.equity is not None
            row.append(f"{var * fig.equity:,.2f}" if known and var is not None and fig.equity else "–")
        row.append(fig.method)
        rows.append(row)
    note = _empty("Value at risk is the loss exceeded on the worst 5% (1%) of days; negative is a loss.")
    return _table(header, rows) + note
