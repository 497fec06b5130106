"""``pas demo``: the whole system on bundled synthetic data, offline, in under a minute."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from pas.commands._app import money, number, percent, print_table, say, state
from pas.errors import InputError

if TYPE_CHECKING:
    from pas.store import Store

DEMO_CAPITAL = Decimal(100_000)
DEMO_ALLOCATION = "score"
REPORT_NAME = "report.html"
STORE_SUFFIX = ".db"  # pas.db and backtests/RUN.db, with their -wal and -shm files
# The strategies' look-back windows (a quarter of lobbying filings and the one before it)
# need about half a year of data before the first build has something to rank.
WARM_UP = timedelta(days=183)
# The demo's portfolio ids: one per built-in strategy.
DEMO_PORTFOLIOS = {
    "lobbying": "lobbying_growth",
    "congress": "congress_buying",
    "wiki": "wiki_attention",
    "insiders": "insider_sentiment",
    "contracts": "gov_contracts",
}


def demo(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option(
            "--home", help="Empty directory to keep the demo's store in (default: a temporary one)."
        ),
    ] = None,
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep the temporary directory's stores (removed by default).")
    ] = False,
) -> None:
    """Run the whole system offline on bundled synthetic data and write an HTML report.

    Loads the sample datasets and prices into a fresh embedded store, registers one
    portfolio per strategy, backtests them (monthly builds, weekly allocation, daily
    metrics), then shows positions, statistics and the allocation. Nothing else is needed:
    no credentials, no network.

    Example: pas demo --home /tmp/pas-demo
    """
    from pas.commands._backtest import run, show_summary
    from pas.demo.sample import load_sample, sample_range
    from pas.models import Portfolio, Schedule
    from pas.store import BACKTESTS_DIR, open_backtest_store

    app_state = state(ctx)
    folder = _fresh_home(home)
    # The demo always runs on its own embedded store, whatever MONGO_URI says.
    settings = app_state.settings
    app_state.use_settings(replace(settings, store=replace(settings.store, home=folder, mongo_uri=None)))
    store = app_state.store
    say(f"pas demo: a fresh embedded store in {folder} (synthetic sample data, not market data)")
    loaded = load_sample(store)
    counts = ", ".join(f"{name} {c.new + c.updated + c.unchanged:,}" for name, c in loaded.records.items())
    say(
        f"loaded {loaded.prices:,} closes of {len(loaded.symbols)} tickers and {loaded.benchmark} "
        f"({loaded.first_day} to {loaded.last_day}); records: {counts}"
    )
    first, last = sample_range()
    now = datetime.now(UTC)
    portfolios = [
        Portfolio(pid, name, Schedule.MONTHLY, now, broker="sim") for pid, name in DEMO_PORTFOLIOS.items()
    ]
    for p in portfolios:
        store.add_portfolio(p)
    say(f"registered {len(portfolios)} portfolios, one per strategy: {', '.join(DEMO_PORTFOLIOS)}")
    start = first + WARM_UP
    with app_state.run("demo", start=str(start), end=str(last)) as handle:
        ran = run(app_state, portfolios, start, last, DEMO_CAPITAL, DEMO_ALLOCATION, show_progress=True)
        handle.details["notes"] = ran.result.notes
    run_id, result = ran.run_id, ran.result
    with open_backtest_store(app_state.settings.store, run_id) as target:
        _show_positions(target, result.portfolios)
        show_summary(ran, as_json=False, kept=home is not None or keep)
        _show_allocation(target)
        report = _write_report(target, app_state.settings.data.benchmark, folder, result.portfolios)
    say(f"report: {report}")
    if home is not None or keep:
        kept = folder / BACKTESTS_DIR / f"{run_id}.db"
        say(
            f"explore: PAS_HOME={folder} pas report --backtest --out report.html; PAS_HOME={folder} "
            f"pas jobs --json lists every note (the backtest's data is in {kept})"
        )
        return
    app_state.close()
    _remove_stores(folder)
    for note in result.notes:
        say(f"note: {note}")
    say(f"removed the demo's stores from {folder} (the report stays); --keep or --home keeps them")


def _remove_stores(folder: Path) -> None:
    """Deletes the demo's SQLite stores (with their WAL files), its kept backtest run among
    them; the report files stay."""
    from pas.store import BACKTESTS_DIR

    for path in [*folder.glob(f"*{STORE_SUFFIX}*"), *folder.glob(f"{BACKTESTS_DIR}/*{STORE_SUFFIX}*")]:
        path.unlink()
    if (folder / BACKTESTS_DIR).is_dir():
        (folder / BACKTESTS_DIR).rmdir()


def _fresh_home(home: Path | None) -> Path:
    if home is None:
        return Path(tempfile.mkdtemp(prefix="pas-demo-"))
    if home.exists() and (not home.is_dir() or any(home.iterdir())):
        raise InputError(f"--home {home} is not an empty directory; the demo needs a fresh one")
    home.mkdir(parents=True, exist_ok=True)
    return home


def _show_positions(target: Store, portfolio_ids: list[str]) -> None:
    from pas.portfolio.account import stored_accounts

    by_id = {p.id: p for p in target.list_portfolios()}
    portfolios = [by_id[pid] for pid in portfolio_ids]
    rows = [
        (a.portfolio, p.symbol, number(p.qty), money(p.avg_cost), money(p.market_value))
        for a in stored_accounts(target, portfolios)
        for p in a.positions.values()
    ]
    print_table(
        "Positions at the end of the backtest",
        ["portfolio", "symbol", "qty", "avg cost", "market value"],
        rows,
        right=["qty", "avg cost", "market value"],
    )


def _show_allocation(target: Store) -> None:
    latest = target.latest_allocation()
    if latest is None:
        return
    rows = [(p, percent(w), percent(w * latest.exposure)) for p, w in sorted(latest.weights.items())]
    print_table(
        f"Allocation ({latest.method}) as of {latest.as_of}",
        ["portfolio", "relative weight", "share of account"],
        rows,
        right=["relative weight", "share of account"],
    )


def _write_report(target: Store, benchmark: str, folder: Path, portfolio_ids: list[str]) -> Path:
    from pas.report.data import load_report_data
    from pas.report.files import write_report

    return write_report(
        load_report_data(target, portfolio_ids, benchmark, backtest=True), folder / REPORT_NAME
    ).html
