"""HTML reports: structure, embedded images, no network, escaping, degenerate data, CLI."""

from __future__ import annotations

import base64
import math
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pas.analytics import sharpe_ratio
from pas.backtest import RUN_COMMAND
from pas.models import DailyMetric, Portfolio, Run, RunStatus, Schedule, WeightSet
from pas.report.data import COMBINED, PortfolioSeries, ReportData, RiskFigures, load_report_data, statistics
from pas.report.html import NO_ALLOCATION, render_report
from pas.report.measures import ROLLING_WINDOW, monthly_returns, rolling_sharpe
from pas.runs import recorded_run
from pas.store.base import Store
from pas.store.sqlite import SqliteStore
from tests.commands.conftest import Invoke

PNG = b"\x89PNG\r\n\x1a\n"
SECTIONS = (
    "equity",
    "returns",
    "drawdown",
    "worst-drawdowns",
    "rolling-sharpe",
    "rolling-volatility",
    "rolling-beta",
    "monthly",
    "distribution",
    "exposure",
    "weights",
    "allocation",
    "statistics",
    "risk",
    "costs",
    "trades",
)
NOW = datetime(2026, 1, 5, 22, 0, tzinfo=UTC)


class Page(HTMLParser):
    """Collects what the tests look at; fails on unbalanced tags."""

    VOID = frozenset({"meta", "img", "br", "link", "input", "hr"})

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.ids: list[str] = []
        self.images: list[str] = []
        self.links: list[str] = []
        self.tags: set[str] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        found = dict(attrs)
        if found.get("id"):
            self.ids.append(found["id"] or "")
        if tag == "img":
            self.images.append(found.get("src") or "")
        for name in ("src", "href"):
            if found.get(name):
                self.links.append(found[name] or "")
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, f"</{tag}> closes {self.open[-1:]}"
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> Page:
    assert html.startswith("<!DOCTYPE html>")
    page = Page()
    page.feed(html)
    page.close()
    assert page.open == []
    return page


def days(n: int, start: date = date(2025, 1, 2)) -> tuple[date, ...]:
    out, d = [], start
    while len(out) < n:
        if d.weekday() < 5:
            out.append(d)
        d += timedelta(1)
    return tuple(out)


def series(n: int, seed: float = 0.0) -> PortfolioSeries:
    ds = days(n)
    returns = tuple(0.004 * math.sin(i * 0.7 + seed) + 0.0005 for i in range(n))
    return PortfolioSeries(ds, returns, tuple(10_000.0 * (1 + i / 1000) for i in range(n)))


def sample_data(n: int = 90, *, benchmark: bool = True) -> ReportData:
    ports = {"lobby": series(n), "<script>alert(1)</script>": series(n, 1.0)}
    bench = {d: 0.003 * math.cos(i) for i, d in enumerate(days(n))} if benchmark else {}
    return ReportData(
        portfolios=ports,
        benchmark="SPY" if benchmark else None,
        benchmark_returns=bench,
        weights={"lobby": {"AAPL": 0.5, "<img src=x onerror=alert(1)>": 0.2, "A$B$": 0.1}},
        allocation=((date(2025, 2, 3), {"lobby": 0.6, "<script>alert(1)</script>": 0.4}),),
        risk={"lobby": RiskFigures({0.95: 0.01, 0.99: 0.02}, 10_000.0)},
        generated_at=NOW,
    )


def test_the_report_has_every_section_and_embeds_png_images() -> None:
    page = parse(render_report(sample_data()))
    assert [i for i in page.ids if i in SECTIONS] == list(SECTIONS)
    # equity, drawdown panels, rolling Sharpe, volatility and beta, 2 heat maps, histograms,
    # 1 weights chart, allocation (no trades: no exposure plot)
    assert len(page.images) == 10
    for src in page.images:
        prefix = "data:image/png;base64,"
        assert src.startswith(prefix)
        assert base64.b64decode(src[len(prefix) :], validate=True).startswith(PNG)
    assert {"table", "style"} <= page.tags and "script" not in page.tags


def test_the_report_loads_nothing_from_the_network() -> None:
    html = render_report(sample_data())
    page = parse(html)
    assert all(link.startswith(("data:", "#")) for link in page.links)
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html)
    assert "http://" not in html and "https://" not in html


def test_names_from_data_are_escaped() -> None:
    html = render_report(sample_data())
    assert "<script" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "lobby" in "".join(parse(html).text)


def test_one_day_of_data_and_no_benchmark_degrade_gracefully() -> None:
    data = ReportData(portfolios={"new": series(1)}, generated_at=NOW)
    html = render_report(data)
    page = parse(html)
    text = " ".join(page.text)
    # equity, drawdown, rolling Sharpe and volatility (notes), one heat map, histogram
    assert len(page.images) == 6
    assert NO_ALLOCATION in text and "No target weights set." in text
    assert "No benchmark returns are stored" in text and "no benchmark" in text
    assert "so there is no beta" in text and "No trades recorded" in text


def test_a_report_without_portfolios_still_renders() -> None:
    page = parse(render_report(ReportData(portfolios={}, generated_at=NOW)))
    assert "No portfolios." in " ".join(page.text)


def test_rolling_sharpe_is_the_sharpe_ratio_of_each_trailing_window() -> None:
    s = series(ROLLING_WINDOW + 10)
    values = rolling_sharpe(s.returns)
    assert all(math.isnan(v) for v in values[: ROLLING_WINDOW - 1])
    for end in (ROLLING_WINDOW, ROLLING_WINDOW + 10):
        expected = float(sharpe_ratio(list(s.returns[end - ROLLING_WINDOW : end])))  # type: ignore[arg-type]
        assert values[end - 1] == pytest.approx(expected, rel=1e-12)
    assert all(math.isnan(v) for v in rolling_sharpe([0.01] * ROLLING_WINDOW))  # no variation


def test_monthly_returns_compound_the_days_of_each_month() -> None:
    s = PortfolioSeries((date(2025, 1, 30), date(2025, 1, 31), date(2025, 2, 3)), (0.1, 0.1, -0.05))
    assert monthly_returns(s.days, s.returns) == {
        (2025, 1): pytest.approx(0.21),
        (2025, 2): pytest.approx(-0.05),
    }


def test_statistics_without_a_benchmark_leave_alpha_and_beta_out() -> None:
    stats = statistics(series(30), {})
    assert math.isnan(stats["alpha"]) and math.isnan(stats["beta"]) and math.isnan(stats["information ratio"])
    assert stats["annual volatility"] > 0 and stats["max drawdown"] <= 0


def _seed(store: Store, pid: str = "lobby", n: int = 5, *, benchmark: bool = True) -> None:
    store.add_portfolio(Portfolio(pid, "manual", Schedule.WEEKLY, NOW))
    store.put_daily_metrics(
        [
            DailyMetric(pid, d, 0.01 * (-1) ** i, Decimal(10_000 + i), 0.002 if benchmark else None)
            for i, d in enumerate(days(n))
        ]
    )
    store.put_weights(WeightSet(pid, NOW, {"AAPL": 0.6, "MSFT": 0.3}))


def test_load_report_data_reads_metrics_weights_and_computes_risk(store: Store) -> None:
    _seed(store)
    data = load_report_data(store, ["lobby"], "SPY", now=NOW)
    s = data.portfolios["lobby"]
    assert s.days == days(5) and s.returns[0] == 0.01 and s.equity[-1] == 10_004.0
    assert data.benchmark == "SPY" and list(data.benchmark_returns) == list(days(5))
    assert data.weights == {"lobby": {"AAPL": 0.6, "MSFT": 0.3}}
    assert data.allocation == () and data.generated_at == NOW
    assert data.risk["lobby"].equity == 10_004.0 and data.risk["lobby"].var[0.95] > 0  # a loss


def test_load_report_data_without_benchmark_returns_has_no_benchmark(store: Store) -> None:
    _seed(store, benchmark=False)
    assert load_report_data(store, ["lobby"], "SPY", now=NOW).benchmark is None


def test_load_report_data_refuses_a_portfolio_without_metrics(store: Store) -> None:
    store.add_portfolio(Portfolio("empty", "manual", Schedule.WEEKLY, NOW))
    with pytest.raises(
        Exception, match=r"portfolio 'empty' has no daily metrics yet; run `pas metrics update"
    ):
        load_report_data(store, ["empty"], "SPY")


# -- the command ---------------------------------------------------------------------------


@pytest.fixture
def seeded(home: Path) -> Path:
    with SqliteStore(home / "pas.db") as s:
        _seed(s, "lobby", 70)
        _seed(s, "gov", 3)
        s.add_portfolio(Portfolio("idle", "manual", Schedule.WEEKLY, NOW))
    return home


def test_pas_report_writes_every_portfolio_with_metrics(pas: Invoke, seeded: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = pas("report", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"wrote {out} (gov, lobby; ")
    page = parse(out.read_text())
    # equity, drawdown, 3 rolling; 3 heat maps (the combined book's too); histograms; 2 weight charts
    assert len(page.images) == 5 + 3 + 1 + 2


def test_pas_report_names_portfolios(pas: Invoke, seeded: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    assert pas("report", "lobby", "--out", str(out)).exit_code == 0
    assert "gov" not in " ".join(parse(out.read_text()).text)
    result = pas("report", "nope", "--out", str(out))
    assert (result.exit_code, result.stderr) == (2, "error: no portfolio 'nope' (see `pas portfolio list`)\n")
    result = pas("report", "idle", "--out", str(out))
    assert result.exit_code == 2
    assert (
        result.stderr == "error: portfolio 'idle' has no daily metrics yet; run `pas metrics update idle`\n"
    )


def test_pas_report_without_metrics_says_how_to_get_them(pas: Invoke, tmp_path: Path) -> None:
    result = pas("report", "--out", str(tmp_path / "r.html"))
    assert result.exit_code == 2
    assert (
        result.stderr == "error: no portfolio has daily metrics yet; run `pas metrics update --all` first\n"
    )


def test_pas_report_refuses_bad_out_paths(pas: Invoke, seeded: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "r.html"
    result = pas("report", "--out", str(missing))
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: --out {missing}: directory {missing.parent} does not exist; create it first\n"
    )
    result = pas("report", "--out", str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: --out {tmp_path} is a directory; name an HTML file such as {tmp_path / 'report.html'}\n"
    )


def test_pas_report_backtest_needs_a_backtest(pas: Invoke, seeded: Path, tmp_path: Path) -> None:
    result = pas("report", "--backtest", "--out", str(tmp_path / "r.html"))
    assert (result.exit_code, result.stderr) == (
        2,
        "error: no backtest results to report; run `pas backtest` first\n",
    )


def kept_run_path(home: Path, run_id: str) -> Path:
    """Where ``pas backtest`` keeps run ``run_id`` under an embedded store."""
    (home / "backtests").mkdir(parents=True, exist_ok=True)
    return home / "backtests" / f"{run_id}.db"


def test_pas_report_backtest_refuses_a_partial_run(pas: Invoke, home: Path, tmp_path: Path) -> None:
    with SqliteStore(kept_run_path(home, "261201000000ab12")) as s:
        _seed(s, "bt", 10)
        s.start_run(Run("r1", RUN_COMMAND, s.clock(), RunStatus.RUNNING))  # killed mid-way
    result = pas("report", "--backtest", "--out", str(tmp_path / "r.html"))
    assert (result.exit_code, result.stderr) == (
        2,
        "error: backtest run 261201000000ab12's results are partial: it did not finish (interrupted, "
        "or still running); run `pas backtest` again\n",
    )
    assert not (tmp_path / "r.html").exists()


def test_a_run_interrupted_before_it_saved_anything_is_called_partial(
    pas: Invoke, home: Path, tmp_path: Path
) -> None:
    # Ctrl-C half way: nothing saved yet, and the report said the run "has no results".
    path = kept_run_path(home, "261201000000ab12")
    with SqliteStore(path) as s, pytest.raises(KeyboardInterrupt), recorded_run(s, RUN_COMMAND):
        raise KeyboardInterrupt
    result = pas("report", "--backtest", "261201000000ab12", "--out", str(tmp_path / "r.html"))
    assert (result.exit_code, result.stderr) == (
        2,
        "error: backtest run 261201000000ab12's results are partial: it did not finish "
        "(interrupted); run `pas backtest` again\n",
    )


def test_pas_report_backtest_reads_the_backtest_store(pas: Invoke, home: Path, tmp_path: Path) -> None:
    with SqliteStore(kept_run_path(home, "261201000000ab12")) as s:
        _seed(s, "bt", 10)
        with recorded_run(s, RUN_COMMAND):
            pass  # the backtest finished
    out = tmp_path / "r.html"
    result = pas("report", "--backtest", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "backtest" in " ".join(parse(out.read_text()).text)


def test_several_portfolios_are_followed_by_their_combined_book(store: Store) -> None:
    _seed(store, "a", 5)
    store.add_portfolio(Portfolio("b", "manual", Schedule.WEEKLY, NOW))
    # b starts on the third day with 5,000 that came from outside: not a gain.
    store.put_daily_metrics([DailyMetric("b", d, 0.02, Decimal(5_000 * 1.02), 0.002) for d in days(5)[2:3]])
    data = load_report_data(store, ["a", "b"], "SPY", now=NOW)
    combined = data.combined
    assert combined is not None and list(data.books) == ["a", "b", COMBINED] and combined.days == days(5)
    assert combined.returns[:2] == pytest.approx(data.portfolios["a"].returns[:2], abs=1e-15)
    # Day 3: a 10,001 -> 10,002 (its 1% return as seeded), b 5,000 -> 5,100.
    start = 10_002 / (1 + data.portfolios["a"].returns[2]) + 5_000
    assert math.isclose(combined.returns[2], (10_002 + 5_100) / start - 1)
    assert combined.equity[2] == 10_002 + 5_100
    assert COMBINED in data.risk


def _seed_flows(store: Store) -> None:
    """Two portfolios, by hand: ``a`` starts with 1,000; ``b`` opens on day 2 with 500
    from outside; at the start of day 3, 200 moves from ``a`` to ``b``.

    =====  ==============  ==============  ===========================
    day    a (return, $)   b (return, $)   combined: Σ E / Σ (E/(1+r)) − 1
    =====  ==============  ==============  ===========================
    1      0%, 1,000       –               1,000 / 1,000 − 1 = 0
    2      +10%, 1,100     0%, 500         1,600 / (1,000 + 500) − 1 = 1/15
    3      −10%, 810       +10%, 770       1,580 / (900 + 700) − 1 = −1/80
    4      +10%, 891       −10%, 693       1,584 / (810 + 770) − 1 = 4/1,580
    =====  ==============  ==============  ===========================

    Weighting day 3 by the previous closes instead (1,100 and 500) would give −3.75%.
    """
    for pid, rows in {
        "a": [(0.0, 1_000), (0.1, 1_100), (-0.1, 810), (0.1, 891)],
        "b": [(0.0, 500), (0.1, 770), (-0.1, 693)],
    }.items():
        store.add_portfolio(Portfolio(pid, "manual", Schedule.WEEKLY, NOW))
        on = days(4)[4 - len(rows) :]
        store.put_daily_metrics(
            [DailyMetric(pid, d, r, Decimal(e), None) for d, (r, e) in zip(on, rows, strict=True)]
        )


def _books_with_flows(store: Store) -> ReportData:
    _seed_flows(store)
    return load_report_data(store, ["a", "b"], None, now=NOW)


def test_the_combined_book_is_the_return_of_the_summed_equities_net_of_flows(store: Store) -> None:
    from pas.report.plots import drawdown_figure, equity_figure

    data = _books_with_flows(store)
    combined = data.combined
    assert combined is not None and combined.days == days(4)
    assert combined.returns == pytest.approx((0.0, 1 / 15, -1 / 80, 4 / 1_580), abs=1e-12)
    assert combined.equity == (1_000, 1_600, 1_580, 1_584)
    # the equity chart and the drawdown panels draw it beside the portfolios
    (line,) = [ln for ln in equity_figure(data.books, None, {}).axes[0].lines if ln.get_label() == COMBINED]
    assert list(line.get_ydata()) == pytest.approx([1.0, 16 / 15, 1_580 / 1_500, 1_584 / 1_500])
    panels = [ax for ax in drawdown_figure(data.books).axes if ax.get_visible()]
    assert [ax.get_title(loc="left") for ax in panels] == ["a", "b", COMBINED]
    assert list(panels[2].lines[0].get_ydata()) == pytest.approx([0.0, 0.0, -0.0125, -0.01])


def test_the_combined_book_has_its_column_and_row_in_the_tables(store: Store) -> None:
    text = " ".join(parse(render_report(_books_with_flows(store))).text)
    d = days(4)
    assert "statistic a b combined days 4 3 4" in text
    assert "max drawdown -10.00% -10.00% -1.25%" in text
    # the combined book's whole return is its last equity over the money put in: 1,584 / 1,500
    assert "cumulative 8.90% -1.00% 5.60%" in text
    assert f"combined 1 {d[1]} {d[2]} not recovered -1.25% 2" in text
    # VaR 95% of (0, 1/15, −1/80, 4/1,580): −1/80 + 0.15 × 1/80 = −1.0625% of 1,584 = $16.83;
    # 99%: −1/80 + 0.03 × 1/80 = −1.2125%, $19.21
    assert "combined 1,584.00 1.06% 16.83 1.21% 19.21 historical" in text


def test_pas_report_backtest_run_shows_the_runs_combined_book(
    pas: Invoke, home: Path, tmp_path: Path
) -> None:
    with SqliteStore(kept_run_path(home, "261201000000ab12")) as s:
        _seed_flows(s)
        with recorded_run(s, RUN_COMMAND):
            pass
    out = tmp_path / "r.html"
    assert pas("report", "--backtest", "261201000000ab12", "--out", str(out)).exit_code == 0
    text = " ".join(parse(out.read_text()).text)
    assert "backtest" in text and "cumulative 8.90% -1.00% 5.60%" in text
    assert "combined 1,584.00 1.06% 16.83 1.21% 19.21 historical" in text


# -- the tear sheet's sections -------------------------------------------------------------


def test_drawdowns_are_one_panel_per_book_not_overlapping_areas() -> None:
    from pas.report.plots import drawdown_figure

    books = {f"p{i}": series(40, float(i)) for i in range(5)}
    fig = drawdown_figure(books)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title(loc="left") for ax in panels] == list(books)
    assert all(len(ax.lines) == 1 for ax in panels)  # each book alone in its panel


def test_heat_maps_mark_the_partial_first_and_last_months() -> None:
    from pas.report.plots import heatmap_figure

    # 2025-01-02 .. 2025-03-03: January is whole (the 1st is a holiday), March is not
    s = series(43)
    assert (s.days[0], s.days[-1]) == (date(2025, 1, 2), date(2025, 3, 3))
    fig = heatmap_figure(monthly_returns(s.days, s.returns), {(2025, 3)})
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert [t.endswith("*") for t in texts] == [False, False, True]
    html = render_report(ReportData(portfolios={"p": s}, generated_at=NOW))
    assert "* and hatched: a partial month (the series starts or ends inside it)." in html


def test_the_returns_table_marks_partial_years_and_compounds_the_whole_series() -> None:
    page = " ".join(parse(render_report(sample_data())).text)
    s = series(90)
    assert f"2025 {(math.prod(1 + r for r in s.returns) - 1) * 100:.2f}%*" in page
    assert "cumulative" in page and "* a partial year" in page


def test_the_worst_drawdowns_table_lists_each_books_episodes() -> None:
    returns = (0.1, -0.5, 1.0, -0.1)
    data = ReportData(portfolios={"p": PortfolioSeries(days(4), returns)}, generated_at=NOW)
    text = " ".join(parse(render_report(data)).text)
    d = days(4)
    assert f"p 1 {d[0]} {d[1]} {d[2]} -50.00% 2" in text
    assert f"p 2 {d[2]} {d[3]} not recovered -10.00% 1" in text


def test_the_combined_book_is_one_more_series_in_every_section() -> None:
    data = sample_data()
    plain = parse(render_report(data))
    combined = parse(render_report(replace(data, combined=series(90, 2.0))))
    assert len(combined.images) == len(plain.images) + 1  # its own heat map; a line or panel elsewhere
    text = " ".join(combined.text)
    assert text.count("combined SPY (benchmark)") == 2  # the returns and statistics tables' headers
    assert "combined" not in " ".join(plain.text)


def test_pas_report_run_names_a_kept_run_and_backtest_alone_takes_the_newest(
    pas: Invoke, home: Path, tmp_path: Path
) -> None:
    with SqliteStore(kept_run_path(home, "261201000000ab12")) as s:
        _seed(s, "old", 10)
        with recorded_run(s, RUN_COMMAND):
            pass
    with SqliteStore(kept_run_path(home, "261201000100cd34")) as s:
        _seed(s, "new", 10)
        s.start_run(Run("r1", RUN_COMMAND, s.clock(), RunStatus.RUNNING))
    out = tmp_path / "r.html"
    newest = pas("report", "--backtest", "--out", str(out))
    assert newest.exit_code == 2 and "backtest run 261201000100cd34's results are partial" in newest.stderr
    for args in (["--run", "261201000000ab12"], ["--backtest", "261201000000ab12"]):
        out.unlink(missing_ok=True)
        named = pas("report", *args, "--out", str(out))
        assert named.exit_code == 0, named.output
        assert "old" in " ".join(parse(out.read_text()).text)
    unknown = pas("report", "--run", "nope", "--out", str(out))
    assert (unknown.exit_code, unknown.stderr) == (
        2,
        "error: no backtest run 'nope'; see `pas backtest list`\n",
    )
