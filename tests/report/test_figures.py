"""The report's figures are readable: no legend over the data, no tick labels on top of
each other, and no book hidden behind another's line (issue 17: "mud, overlaps").

The books look like the demo's: six of 600 days, one with a +12.5% day (which once
crowded a histogram's tick labels), all fully invested (whose exposure lines once lay on
top of each other under the legend)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from itertools import combinations
from typing import TYPE_CHECKING

import numpy as np
import pytest

from pas.report import measures as m
from pas.report import plots
from pas.report.activity import Activity
from pas.report.data import PortfolioSeries, historical_risk
from tests.report.test_report import days

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.backend_bases import RendererBase
    from matplotlib.figure import Figure
    from matplotlib.transforms import Bbox

N = 600
GAP_PX = 4
NAMES = ("congress", "contracts", "insiders", "lobbying", "wiki", "combined")


def book(seed: int) -> PortfolioSeries:
    rng = np.random.default_rng(seed)
    returns = rng.normal(0.0005, 0.012, N)
    if seed == 2:
        returns[100] = 0.125
    equity = 20_000 * np.cumprod(1 + returns)
    return PortfolioSeries(days(N), tuple(returns.tolist()), tuple(equity.tolist()))


BOOKS = {name: book(i) for i, name in enumerate(NAMES)}
ACTIVITY = {name: Activity(gross=(0.99,) * N, net=(0.99,) * N, turnover=tuple([0.05] * N)) for name in NAMES}
VAR = {name: dict(historical_risk(s).var) for name, s in BOOKS.items()}
BENCH = {d: 0.0004 * math.sin(i) for i, d in enumerate(days(N))}

FIGURES: dict[str, Callable[[], Figure]] = {
    "equity": lambda: plots.equity_figure(BOOKS, "SPY", BENCH),
    "drawdown": lambda: plots.drawdown_figure(BOOKS),
    "rolling": lambda: plots.rolling_figure(
        BOOKS, lambda s: m.rolling_volatility(s.returns), "volatility", "", percent=True
    ),
    "histogram": lambda: plots.histogram_figure(BOOKS, VAR),
    "exposure": lambda: plots.exposure_figure(BOOKS, ACTIVITY),
    "turnover": lambda: plots.turnover_figure(BOOKS, ACTIVITY),
    "allocation": lambda: plots.allocation_figure(
        list(NAMES[:5]), [f"C{i}" for i in range(5)], list(days(N)[::20]), [[0.2] * 30] * 5
    ),
}


def drawn(fig: Figure) -> RendererBase:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def visible_axes(fig: Figure) -> Iterator[Axes]:
    return (ax for ax in fig.axes if ax.get_visible())


@pytest.mark.parametrize("name", FIGURES)
def test_no_tick_labels_overlap(name: str) -> None:
    with plots.plain_text():
        fig = FIGURES[name]()
        renderer = drawn(fig)
    boxes = [
        (label.get_text(), box)
        for ax in visible_axes(fig)
        for axis in (ax.xaxis, ax.yaxis)
        for label in axis.get_ticklabels()
        if label.get_visible() and label.get_text()
        for box in [label.get_window_extent(renderer)]
        if _drawn_along(ax, axis is ax.xaxis, box, renderer)
    ]
    # labels closer than 4 pixels read as one ("−3.0%−2.0%")
    crowded = [
        (a, b)
        for (a, box_a), (b, box_b) in combinations(boxes, 2)
        if box_a.padded(GAP_PX / 2).overlaps(box_b.padded(GAP_PX / 2))
    ]
    assert crowded == []


def _drawn_along(ax: Axes, x: bool, box: Bbox, renderer: RendererBase) -> bool:
    """Whether a tick label sits beside its axes (matplotlib keeps labels of ticks outside
    the view, which are not drawn)."""
    frame = ax.get_window_extent(renderer)
    centre = (box.x0 + box.x1) / 2 if x else (box.y0 + box.y1) / 2
    low, high = (frame.x0, frame.x1) if x else (frame.y0, frame.y1)
    return low - 1 <= centre <= high + 1


@pytest.mark.parametrize("name", FIGURES)
def test_no_legend_covers_the_data(name: str) -> None:
    with plots.plain_text():
        fig = FIGURES[name]()
        renderer = drawn(fig)
    for ax in visible_axes(fig):
        legend = ax.get_legend()
        if legend is None:
            continue
        box = legend.get_window_extent(renderer)
        for artist in [*ax.lines, *ax.patches, *ax.collections]:
            for path in _paths(artist):
                x, y = path[:, 0], path[:, 1]  # display coordinates
                inside = (box.x0 < x) & (x < box.x1) & (box.y0 < y) & (y < box.y1)
                assert not inside.any(), f"the legend of {ax.get_title(loc='left')!r} covers {artist}"


def _paths(artist: object) -> list[np.ndarray]:
    """An artist's vertices in display coordinates."""
    from matplotlib.collections import Collection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if isinstance(artist, Line2D):
        return [artist.get_transform().transform(artist.get_xydata())]
    if isinstance(artist, Patch):
        return [artist.get_transform().transform(artist.get_path().vertices)]
    if isinstance(artist, Collection):
        transform = artist.get_transform()
        return [transform.transform(p.vertices) for p in artist.get_paths() if len(p.vertices)]
    return []


def test_exposure_and_turnover_are_one_panel_per_book() -> None:
    # five fully invested books drew five lines at 99% on one axes: only the last was seen
    for figure in (plots.exposure_figure(BOOKS, ACTIVITY), plots.turnover_figure(BOOKS, ACTIVITY)):
        panels = list(visible_axes(figure))
        assert [ax.get_title(loc="left") for ax in panels] == list(NAMES)


def test_every_book_has_its_own_line_in_the_line_charts() -> None:
    # with 11 portfolios matplotlib's ten colours came round again: portfolio 0,
    # portfolio 10 and the combined book were drawn alike
    names = [f"p{i}" for i in range(12)] + ["combined"]
    books = {name: book(i) for i, name in enumerate(names)}
    for fig in (
        plots.equity_figure(books, None, {}),
        plots.rolling_figure(
            books, lambda s: m.rolling_volatility(s.returns), "volatility", "", percent=True
        ),
    ):
        (ax,) = fig.axes
        looks = [
            (line.get_color(), line.get_linestyle(), line.get_linewidth())
            for line in ax.lines
            if line.get_label() in names
        ]
        assert len(looks) == len(names)
        assert len(set(looks)) == len(names)


def test_the_combined_book_is_drawn_in_its_own_style() -> None:
    styles = plots.styles([f"p{i}" for i in range(plots.DISTINCT_STYLES)] + ["combined"])
    assert len(set(styles.values())) == plots.DISTINCT_STYLES + 1
    assert styles["combined"] == plots.COMBINED_STYLE
    assert all(s.colour != plots.COMBINED_STYLE.colour for n, s in styles.items() if n != "combined")


@pytest.mark.parametrize("value", [-0.0004, -1e-12, 0.0, 0.0004])
def test_heat_map_shows_a_value_that_rounds_to_zero_as_zero(value: float) -> None:
    fig = plots.heatmap_figure({(2024, 1): value, (2024, 2): 0.05}, set())
    (ax, *_) = fig.axes
    assert [t.get_text() for t in ax.texts] == ["0.0%", "5.0%"]
