"""The report's figures, drawn with matplotlib (the caller selects the Agg backend).

Each function takes the books to draw (``{name: series}``, in the order shown, one look
per book everywhere: :func:`styles`) and returns a :class:`~matplotlib.figure.Figure`.
Where several books would overlap into mud (drawdowns, return histograms, exposure,
turnover) each book gets its own small panel; legends of line charts sit above the axes,
never over the data.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from pas.report import measures as m
from pas.report.activity import TURNOVER_WINDOW, Activity
from pas.report.data import COMBINED

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from pas.report.data import PortfolioSeries

WIDTH_IN = 11.0
PANEL_COLUMNS = 3
"""Small multiples per row (drawdowns, histograms)."""
PANEL_GAP = 0.1
"""Space between small multiples, as a fraction of a panel's width: room for the tick
labels at two neighbouring panels' edges."""
HISTOGRAM_BINS = 50
PANEL_TICKS = 5
"""At most this many tick labels along a small panel's axis, so that they never run together."""
LEGEND_COLUMNS = 8
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
PARTIAL_MARK = "*"
"""Appended to a partial month's figure in the heat maps."""


@contextmanager
def plain_text() -> Iterator[None]:
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


@dataclass(frozen=True)
class BookStyle:
    """How one book's line is drawn: a matplotlib colour, line style and width (points)."""

    colour: str
    linestyle: str
    linewidth: float = 1.3


PALETTE = tuple(f"C{i}" for i in range(10))
"""matplotlib's ten default colours, none of them black."""
LINESTYLES = ("-", "--", ":", "-.")
"""A portfolio's line style once the palette has come round: the eleventh is dashed."""
DISTINCT_STYLES = len(PALETTE) * len(LINESTYLES)
"""Portfolios told apart by colour and line style; the 41st looks like the first."""
COMBINED_STYLE = BookStyle("black", "-", 2.2)
"""The combined book: a thick black line, a look no portfolio gets."""


def styles(names: Sequence[str]) -> dict[str, BookStyle]:
    """One look per book, the same in every plot.

    Portfolio ``i`` (in the order given, the combined book aside) gets colour
    ``i mod 10`` of :data:`PALETTE` and line style ``i // 10`` of :data:`LINESTYLES`, so
    the first :data:`DISTINCT_STYLES` portfolios are all told apart; the combined book is
    always drawn in :data:`COMBINED_STYLE`.
    """
    portfolios = [n for n in names if n != COMBINED]
    out = {
        name: BookStyle(PALETTE[i % len(PALETTE)], LINESTYLES[i // len(PALETTE) % len(LINESTYLES)])
        for i, name in enumerate(portfolios)
    }
    return {name: COMBINED_STYLE if name == COMBINED else out[name] for name in names}


def colours(names: Sequence[str]) -> dict[str, str]:
    """Each book's colour in :func:`styles`, for the panels (one book each) and areas."""
    return {name: style.colour for name, style in styles(names).items()}


def figure(height: float, rows: int = 1, sharex: bool = False) -> tuple[Figure, list[Axes]]:
    """A report-wide figure of ``rows`` stacked axes."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_IN, height), layout="constrained")
    axes = fig.subplots(rows, 1, sharex=sharex, squeeze=False)
    return fig, [ax for row in axes for ax in row]


def _panels(count: int, height: float) -> tuple[Figure, list[Axes]]:
    """Small multiples: one axes per book, :data:`PANEL_COLUMNS` to a row (extras hidden)."""
    from matplotlib.figure import Figure
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    cols = max(1, min(PANEL_COLUMNS, count))
    rows = max(1, math.ceil(count / cols))
    fig = Figure(figsize=(WIDTH_IN, height * rows + 0.3), layout=ConstrainedLayoutEngine(wspace=PANEL_GAP))
    grid = fig.subplots(rows, cols, squeeze=False, sharey=True)
    axes = [ax for row in grid for ax in row]
    for ax in axes[count:]:
        ax.set_visible(False)
    return fig, axes[:count]


def _dates(days: Sequence[date]) -> npt.NDArray[np.datetime64]:
    import numpy as np

    return np.array(days, dtype="datetime64[D]")


def _date_axis(ax: Axes) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]


def percent_axis(ax: Axes, axis: str = "y") -> None:
    """Tick labels as percentages of fractions."""
    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(_percent_format())


def note(ax: Axes, message: str) -> None:
    """A centred grey message in place of a plot."""
    ax.set_xticks([])
    ax.set_yticks([])
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="#666")


def _legend(ax: Axes) -> None:
    """The books' names in a row above the axes, where no line can run under them."""
    handles, _ = ax.get_legend_handles_labels()
    if handles:
        ax.legend(
            loc="lower left",
            bbox_to_anchor=(0.0, 1.0),
            fontsize=8,
            ncols=min(LEGEND_COLUMNS, len(handles)),
            frameon=False,
            borderaxespad=0.2,
        )


def equity_figure(
    books: Mapping[str, PortfolioSeries], benchmark: str | None, bench: Mapping[date, float]
) -> Figure:
    """Growth of $1 of each book, and of the benchmark over the books' days."""
    fig, (ax,) = figure(4.2)
    marker = "o" if max((len(s.days) for s in books.values()), default=0) < 3 else None
    look = styles(list(books))
    for name, s in books.items():
        ax.plot(_dates(s.days), m.growth(s.returns), label=name, marker=marker, **_line(look[name]))
    days = sorted({d for s in books.values() for d in s.days if d in bench})
    if benchmark and days:
        ax.plot(
            _dates(days),
            m.growth([bench[d] for d in days]),
            label=benchmark,
            color="#444",
            linestyle="--",
            marker=marker,
        )
    ax.axhline(1.0, color="#999", linewidth=0.8)
    ax.set_ylabel("growth of $1")
    _date_axis(ax)
    _legend(ax)
    return fig


def _line(style: BookStyle) -> dict[str, Any]:
    """``Axes.plot`` keywords drawing a book's line in its style."""
    return {"color": style.colour, "linestyle": style.linestyle, "linewidth": style.linewidth}


def drawdown_figure(books: Mapping[str, PortfolioSeries]) -> Figure:
    """One panel per book: its drawdown below the running peak (shared scale)."""
    fig, axes = _panels(len(books), 1.7)
    colour = colours(list(books))
    for ax, (name, s) in zip(axes, books.items(), strict=True):
        dd = m.drawdowns(s.returns)
        marker = "o" if len(dd) < 3 else None
        ax.plot(_dates(s.days), dd, linewidth=1.0, marker=marker, color=colour[name])
        ax.fill_between(_dates(s.days), dd, 0, color=colour[name], alpha=0.25)
        ax.set_title(name, fontsize=9, loc="left")
        _panel_axes(ax)
    return fig


def rolling_figure(
    books: Mapping[str, PortfolioSeries],
    compute: Any,
    ylabel: str,
    empty: str,
    percent: bool = False,
    reference: float = 0.0,
) -> Figure:
    """A rolling statistic of every book (``compute(series) -> values``), or ``empty``;
    unless ``percent``, a grey line marks ``reference`` (0 for a Sharpe ratio, 1 for a
    beta: the market's)."""
    fig, (ax,) = figure(3.0)
    look = styles(list(books))
    drawn = 0
    for name, s in books.items():
        values = compute(s)
        if any(not math.isnan(v) for v in values):
            ax.plot(_dates(s.days), values, label=name, **_line(look[name]))
            drawn += 1
    if not drawn:
        note(ax, empty)
        return fig
    ax.set_ylabel(ylabel)
    if percent:
        percent_axis(ax)
    else:
        ax.axhline(reference, color="#999", linewidth=0.8)
    _date_axis(ax)
    _legend(ax)
    return fig


def heatmap_figure(months: Mapping[tuple[int, int], float], partial: set[tuple[int, int]]) -> Figure:
    """Compounded monthly returns, years as rows; partial months hatched and starred."""
    import numpy as np

    years = sorted({y for y, _ in months})
    grid = np.full((len(years), 12), np.nan)
    for (y, mo), value in months.items():
        grid[years.index(y), mo - 1] = value
    fig, (ax,) = figure(0.45 * len(years) + 1.1)
    limit = max(0.01, float(np.nanmax(np.abs(grid))))
    image = ax.imshow(grid, cmap="RdYlGn", vmin=-limit, vmax=limit, aspect="auto")
    ax.grid(False)
    ax.set_xticks(range(12), MONTHS)
    ax.set_yticks(range(len(years)), [str(y) for y in years])
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    for (y, mo), value in months.items():
        i, j = years.index(y), mo - 1
        mark = PARTIAL_MARK if (y, mo) in partial else ""
        if mark:
            ax.add_patch(_hatch(j, i))
        colour = "white" if abs(value) > 0.7 * limit else "black"
        ax.text(j, i, f"{_cell(value)}{mark}", ha="center", va="center", fontsize=9, color=colour)
    fig.colorbar(image, ax=ax, format=_percent_format(), shrink=0.9, pad=0.01)
    return fig


def _cell(value: float) -> str:
    """A monthly return (a fraction) as a percentage to one decimal; one that rounds to
    zero reads ``0.0%``, never ``-0.0%``."""
    shown = round(value * 100, 1) + 0.0  # adding 0.0 turns -0.0 into 0.0
    return f"{shown:.1f}%"


def _hatch(x: int, y: int) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((x - 0.5, y - 0.5), 1, 1, fill=False, hatch="///", edgecolor="#555", linewidth=0)


def _percent_format() -> Any:
    """Percentages of fractions, with as many decimals as the scale needs (small ones do)."""
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(1.0, decimals=None)


def histogram_figure(
    books: Mapping[str, PortfolioSeries], var: Mapping[str, Mapping[float, float]]
) -> Figure:
    """One panel per book: its daily returns, with each VaR level's loss marked."""
    fig, axes = _panels(len(books), 1.9)
    colour = colours(list(books))
    for ax, (name, s) in zip(axes, books.items(), strict=True):
        # one filled outline instead of a patch per bin: 20 books × 50 bins drew slowly
        ax.hist(s.returns, bins=HISTOGRAM_BINS, color=colour[name], alpha=0.75, histtype="stepfilled")
        for (level, loss), style in zip(sorted(var.get(name, {}).items()), ("--", ":"), strict=False):
            if not math.isnan(loss):
                ax.axvline(
                    -loss,
                    color="#b91c1c",
                    linestyle=style,
                    linewidth=1.2,
                    label=f"VaR {level:.0%} {loss:.2%}",
                )
        ax.set_title(name, fontsize=9, loc="left")
        percent_axis(ax, "x")
        ax.xaxis.set_major_locator(_few_ticks())
        if ax.get_legend_handles_labels()[0]:
            # the VaR lines are in the left tail; the right tail's top is empty
            ax.legend(fontsize=7, loc="upper right")
    return fig


def exposure_figure(books: Mapping[str, PortfolioSeries], activity: Mapping[str, Activity]) -> Figure:
    """One panel per book (shared scale): gross (solid) and net (dashed) exposure.

    Panels rather than one axes: fully invested books all sit at 100%, where their
    lines hid one another."""

    def draw(ax: Axes, x: npt.NDArray[np.datetime64], a: Activity, colour: str) -> None:
        ax.plot(x, a.gross, color=colour, linewidth=1.1)
        ax.plot(x, a.net, color=colour, linewidth=0.9, linestyle="--")

    return _activity_panels(books, activity, draw, "exposure (— gross, - - net)")


def turnover_figure(books: Mapping[str, PortfolioSeries], activity: Mapping[str, Activity]) -> Figure:
    """One panel per book (shared scale): dollars traded over the trailing
    :data:`~pas.report.activity.TURNOVER_WINDOW` days, over equity."""
    import numpy as np

    def draw(ax: Axes, x: npt.NDArray[np.datetime64], a: Activity, colour: str) -> None:
        trailing = np.convolve(np.nan_to_num(a.turnover), np.ones(TURNOVER_WINDOW))[: len(a.turnover)]
        ax.plot(x, trailing, color=colour, linewidth=1.0)

    return _activity_panels(books, activity, draw, f"turnover, {TURNOVER_WINDOW} days")


def _activity_panels(
    books: Mapping[str, PortfolioSeries],
    activity: Mapping[str, Activity],
    draw: Callable[[Axes, npt.NDArray[np.datetime64], Activity, str], None],
    ylabel: str,
) -> Figure:
    """A panel per book, drawn by ``draw(ax, days, activity, colour)``; "no trades" where
    a book has no activity."""
    fig, axes = _panels(len(books), 1.6)
    colour = colours(list(books))
    for ax, (name, s) in zip(axes, books.items(), strict=True):
        a = activity.get(name)
        ax.set_title(name, fontsize=9, loc="left")
        if a is None or not s.days:
            note(ax, "no trades")
            continue
        draw(ax, _dates(s.days), a, colour[name])
        _panel_axes(ax)
    fig.supylabel(ylabel, fontsize=9)
    return fig


def _panel_axes(ax: Axes) -> None:
    """A small panel's axes: percentages up, a few dates across."""
    percent_axis(ax)
    ax.yaxis.set_major_locator(_few_ticks())
    _date_axis(ax)


def _few_ticks() -> Any:
    """At most :data:`PANEL_TICKS` ticks, at round steps (10%, 20%, 25%, 50%…)."""
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(PANEL_TICKS, steps=[1, 2, 2.5, 5, 10])


def weights_figure(labels: Sequence[str], values: Sequence[float], shown: int) -> Figure:
    """Horizontal bars of target weights; bars after the first ``shown`` are grey."""
    fig, (ax,) = figure(0.28 * len(labels) + 0.9)
    ax.barh(range(len(labels)), values, color=["#4c72b0"] * shown + ["#999"] * (len(labels) - shown))
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    percent_axis(ax, "x")
    ax.grid(axis="y", visible=False)
    for i, v in enumerate(values):
        ax.text(v, i, f" {v * 100:.1f}%", va="center", fontsize=8)
    ax.set_xlim(0, max(values) * 1.15)
    return fig


def allocation_figure(
    names: Sequence[str], colour: Sequence[str], days: Sequence[date], stacks: Sequence[Sequence[float]]
) -> Figure:
    """Each portfolio's share of capital over time (stacked, held until the next change)."""
    fig, (ax,) = figure(3.4)
    if len(days) == 1:
        bottom = 0.0
        for name, row, c in zip(names, stacks, colour, strict=True):
            ax.bar([0], [row[0]], bottom=bottom, label=name, width=0.4, color=c)
            bottom += row[0]
        ax.set_xticks([0], [days[0].isoformat()])
    else:
        ax.stackplot(_dates(days), stacks, labels=names, colors=colour, step="post", alpha=0.85)
        _date_axis(ax)
    percent_axis(ax)
    ax.set_ylabel("share of capital")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9)
    return fig
