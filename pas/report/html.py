"""Renders a :class:`~pas.report.data.ReportData` as one self-contained HTML file.

Plots (:mod:`pas.report.plots`) are drawn with matplotlib's Agg backend and embedded as
base64 PNG ``data:`` URIs; tables come from :mod:`pas.report.tables`; the CSS is inline.
The file loads nothing from the network. Every text that comes from data (portfolio ids,
symbols) is HTML-escaped, and matplotlib's math text is off so that a ``$`` in a name is
drawn as it is. Every section shows each book of :attr:`ReportData.books` (the portfolios
and, when given, the combined book).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING

from pas import __version__
from pas.analytics.losses import VAR_CAPTION
from pas.report import measures as m
from pas.report import plots
from pas.report import tables as t
from pas.report.data import ReportData

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MAX_WEIGHT_BARS = 20
"""Weights shown per portfolio; the rest are summed as "other"."""
DPI = 100
NO_ALLOCATION = "No allocation applied yet."
NEEDS_WINDOW = f"Needs at least {m.ROLLING_WINDOW} days of returns."

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
caption { caption-side: top; text-align: left; color: #555; font-size: 13px; padding: 0 0 6px 0;
          max-width: 900px; }
p.empty { color: #666; font-style: italic; }
footer { margin-top: 40px; color: #888; font-size: 12px; }
"""


def render_report(data: ReportData, trades_csv: str | None = None) -> str:
    """The report as an HTML document (UTF-8 text, no external resources).

    Args:
        data: what the report shows.
        trades_csv: the name of the trades CSV written beside the report, named in the
            trades section (None: no CSV is written).
    """
    import matplotlib

    matplotlib.use("Agg")
    with plots.plain_text():
        sections = [
            ("equity", "Equity against the benchmark", _equity_section(data)),
            ("returns", "Cumulative and yearly returns", t.returns_table(data)),
            ("drawdown", "Drawdown", _drawdown_section(data)),
            ("worst-drawdowns", "Worst drawdowns", t.drawdowns_table(data)),
            ("rolling-sharpe", f"Rolling Sharpe ratio ({m.ROLLING_WINDOW} days)", _rolling_sharpe(data)),
            (
                "rolling-volatility",
                f"Rolling volatility ({m.ROLLING_WINDOW} days)",
                _rolling_volatility(data),
            ),
            ("rolling-beta", f"Rolling beta ({m.ROLLING_WINDOW} days)", _rolling_beta(data)),
            ("monthly", "Monthly returns", _monthly_section(data)),
            ("distribution", "Daily returns and value at risk", _distribution_section(data)),
            ("exposure", "Exposure and turnover", _exposure_section(data)),
            ("weights", "Current target weights", _weights_section(data)),
            ("allocation", "Allocation over time", _allocation_section(data)),
            ("statistics", "Statistics", t.statistics_table(data)),
            ("risk", "Risk", t.risk_table(data)),
            ("costs", "Costs paid", t.costs_table(data)),
            ("trades", "Trades", t.trades_table(data.trades, trades_csv)),
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


def _image(fig: Figure, alt: str) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{encoded}">'


def _equity_section(data: ReportData) -> str:
    fig = plots.equity_figure(data.books, data.benchmark, data.benchmark_returns)
    note = (
        ""
        if data.benchmark
        else t.empty("No benchmark returns are stored; the plot shows the portfolios only.")
    )
    return _image(fig, "equity curves") + note


def _drawdown_section(data: ReportData) -> str:
    books = data.books
    if not books:
        return t.empty("No portfolios.")
    return _image(plots.drawdown_figure(books), "drawdown per book") + t.empty(
        "Each book's wealth below its running peak, one panel per book on a shared scale."
    )


def _rolling_sharpe(data: ReportData) -> str:
    fig = plots.rolling_figure(
        data.books, lambda s: m.rolling_sharpe(s.returns), "Sharpe ratio", NEEDS_WINDOW
    )
    return _image(fig, "rolling Sharpe ratio")


def _rolling_volatility(data: ReportData) -> str:
    fig = plots.rolling_figure(
        data.books,
        lambda s: m.rolling_volatility(s.returns),
        "annualised volatility",
        NEEDS_WINDOW,
        percent=True,
    )
    return _image(fig, "rolling volatility") + t.empty("Sample deviation of daily returns × √252.")


def _rolling_beta(data: ReportData) -> str:
    if not data.benchmark:
        return t.empty("No benchmark returns are stored, so there is no beta.")
    bench = data.benchmark_returns
    fig = plots.rolling_figure(
        data.books,
        lambda s: m.rolling_beta(s.returns, m.aligned(s.days, bench)),
        f"beta to {data.benchmark}",
        f"Needs {m.ROLLING_WINDOW} days with at least {m.MIN_BETA_DAYS} benchmark returns.",
        reference=1.0,
    )
    return _image(fig, "rolling beta")


def _monthly_section(data: ReportData) -> str:
    parts = []
    for name, s in data.books.items():
        partial = m.partial_months(s.days)
        parts.append(f"<h3>{escape(name)}</h3>")
        parts.append(
            _image(
                plots.heatmap_figure(m.monthly_returns(s.days, s.returns), partial),
                f"monthly returns of {name}",
            )
        )
    if not parts:
        return t.empty("No portfolios.")
    return "\n".join(parts) + t.empty(
        f"{plots.PARTIAL_MARK} and hatched: a partial month (the series starts or ends inside it)."
    )


def _distribution_section(data: ReportData) -> str:
    books = data.books
    if not books:
        return t.empty("No portfolios.")
    var = {name: dict(r.var) for name, r in data.risk.items()}
    caption = (
        "Histogram of daily returns; the red lines mark the 1-day historical VaR at 95% (dashed) and 99% "
        f"(dotted), drawn at minus the loss. {VAR_CAPTION}."
    )
    return _image(plots.histogram_figure(books, var), "daily returns histogram") + t.empty(caption)


def _exposure_section(data: ReportData) -> str:
    if not data.activity or not any(data.trades.values()):
        return t.empty("No trades recorded, so no exposure or turnover.")
    caption = (
        "Exposure: positions at the close over equity (gross Σ|value|, net Σ value). Turnover: dollars "
        "traded (buys plus sells) over equity, summed over the trailing 21 trading days. One panel per "
        "book, on a shared scale."
    )
    return (
        _image(plots.exposure_figure(data.books, data.activity), "exposure per book")
        + _image(plots.turnover_figure(data.books, data.activity), "turnover per book")
        + t.empty(caption)
    )


def _weights_section(data: ReportData) -> str:
    parts = []
    for pid in data.portfolios:
        weights = dict(data.weights.get(pid, {}))
        parts.append(f"<h3>{escape(pid)}</h3>")
        if not weights:
            parts.append(t.empty("No target weights set."))
            continue
        ranked = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))
        shown = ranked[:MAX_WEIGHT_BARS]
        rest = sum(w for _, w in ranked[MAX_WEIGHT_BARS:])
        cash = max(0.0, 1.0 - sum(weights.values()))
        labels = [s for s, _ in shown] + (["other"] if rest > 0 else []) + (["cash"] if cash > 1e-9 else [])
        values = [w for _, w in shown] + ([rest] if rest > 0 else []) + ([cash] if cash > 1e-9 else [])
        parts.append(_image(plots.weights_figure(labels, values, len(shown)), f"target weights of {pid}"))
    return "\n".join(parts) or t.empty("No portfolios.")


def _allocation_section(data: ReportData) -> str:
    if not data.allocation:
        return t.empty(NO_ALLOCATION)
    known = plots.colours(list(data.books))
    names = [p for p in known if any(p in shares for _, shares in data.allocation)]
    names += sorted({p for _, shares in data.allocation for p in shares} - set(names))
    colours = [known.get(p, f"C{(len(known) + i) % 10}") for i, p in enumerate(names)]
    history = list(data.allocation)
    last_day = max((d for s in data.portfolios.values() for d in s.days), default=history[-1][0])
    if len(history) > 1 and last_day > history[-1][0]:
        history.append((last_day, history[-1][1]))  # the last allocation holds until today
    days = [d for d, _ in history]
    stacks = [[shares.get(p, 0.0) for _, shares in history] for p in names]
    return _image(plots.allocation_figure(names, colours, days, stacks), "allocation over time")
