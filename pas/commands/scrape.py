"""``pas scrape`` and ``pas data``: fetch QuiverQuant datasets into the store, show them."""

from __future__ import annotations

import sys
import time
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pas.commands._app import JsonOption, number, print_json, print_table, say, state, warn
from pas.errors import ConfigError

if TYPE_CHECKING:
    from requests import Session

    from pas.config import WikiSettings
    from pas.records import Record
    from pas.scrapers.base import Dataset
    from pas.scrapers.scrape import ScrapeResult, SourceClient
    from pas.store.base import Store

# `pas data` shows the newest rows up to this many unless told otherwise.
DEFAULT_DATA_LIMIT = 20

TickerOption = Annotated[
    list[str] | None,
    typer.Option("--ticker", "-t", metavar="SYMBOL", help="Only this ticker (repeatable)."),
]
SinceOption = Annotated[
    str | None,
    typer.Option("--since", help="From this date (ISO-8601, e.g. 2025-01-01)."),
]


def _since(value: str | None) -> datetime | None:
    from pas.models import parse_ts

    return None if value is None else parse_ts(value)


def _tickers(values: list[str] | None) -> list[str]:
    from pas.models import check_symbol

    return [check_symbol(v) for v in values or []]


def scrape(
    ctx: typer.Context,
    dataset: Annotated[
        str,
        typer.Argument(metavar="DATASET", help="congress, lobbying, wiki, insiders, contracts, or all."),
    ],
    ticker: TickerOption = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Fetch rows public since this date instead of only new ones."),
    ] = None,
    refresh: Annotated[bool, typer.Option("--refresh", help="Ignore cached responses.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Fetch datasets into the store (only what is new, unless --since): QuiverQuant's, and
    wiki from Wikimedia's Pageviews API unless WIKI_SOURCE=quiver.

    Example: pas scrape all        (or: pas scrape congress --ticker NVDA --since 2024-01-01)
    """
    from pas.commands._wiring import quiver_client
    from pas.scrapers import resolve
    from pas.scrapers.client import QuiverAuthError, QuiverClient, QuiverError, build_session
    from pas.scrapers.scrape import ScrapeResult
    from pas.scrapers.scrape import scrape as scrape_one

    datasets = resolve(dataset)
    tickers = _tickers(ticker)
    start = _since(since)
    app_state = state(ctx)
    settings = app_state.settings
    from_wikimedia = settings.wiki.source == "wikimedia"
    store = app_state.store
    results: list[ScrapeResult] = []
    with _progress(enabled=not as_json and sys.stderr.isatty()) as tick:
        session = build_session()
        sources: list[tuple[Dataset, SourceClient]] = []
        quiver: QuiverClient | None = None
        for d in datasets:
            if d.name == "wiki" and from_wikimedia:
                sources.append(_wikimedia(settings.wiki, store, session))
                continue
            if quiver is None:  # only when a Quiver dataset is asked for: it needs the key
                quiver = quiver_client(app_state, refresh=refresh, on_request=tick, session=session)
            sources.append((d, quiver))
        if from_wikimedia and not settings.wiki.contact and any(d.name == "wiki" for d in datasets):
            warn(
                "Wikimedia asks clients for a contact and may block those without one: "
                "set WIKIMEDIA_CONTACT to your email or URL"
            )
        names = [d.name for d in datasets]
        with app_state.run("scrape", datasets=",".join(names), tickers=",".join(tickers)) as run:
            refused: QuiverAuthError | None = None
            for d, client in sources:
                try:
                    result = scrape_one(d, client, store, tickers=tickers, since=start)
                except QuiverAuthError as exc:
                    # Every other Quiver dataset would be refused the same way: none is asked.
                    refused, result = exc, ScrapeResult(d.name, status="failed", message=str(exc))
                results.append(result)
                run.details[d.name] = result.as_dict()
                if refused is not None:
                    break
            if as_json:
                print_json([r.as_dict() for r in results])
            else:
                _summary(results)
            if refused is not None:
                raise refused
            failed = [r.dataset for r in results if r.status == "failed"]
            if failed:
                # Raised inside the run so its record says failed; the summary is already out.
                raise QuiverError(
                    f"scraping {', '.join(failed)} failed (see above); the other datasets were stored"
                )


def _wikimedia(settings: WikiSettings, store: Store, session: Session) -> tuple[Dataset, SourceClient]:
    """The wiki dataset from Wikimedia's Pageviews API, with its client (WIKI_SOURCE=wikimedia)."""
    from pas.scrapers import wikimedia

    articles = wikimedia.load_articles(settings.articles or wikimedia.bundled_articles())
    client = wikimedia.WikimediaClient(
        session=session,
        store=store,
        articles=articles,
        base_url=settings.wikimedia_base_url,
        user_agent=wikimedia.user_agent(settings.contact),
        sleep=time.sleep,
        clock=store.clock,
    )
    return wikimedia.DATASET, client


def _summary(results: list[ScrapeResult]) -> None:
    from rich.markup import escape  # Rich is imported only by output that needs it

    rows = [
        (
            r.dataset,
            r.status,
            r.requests,
            r.cache_hits,
            r.counts.new,
            r.counts.updated,
            r.counts.unchanged,
            sum(r.rejected.values()),
            r.deferred,
            f"{r.seconds:.1f}",
        )
        for r in results
    ]
    print_table(
        "Scrape summary",
        [
            "dataset",
            "status",
            "requests",
            "cache hits",
            "new",
            "updated",
            "unchanged",
            "rejected",
            "today",
            "seconds",
        ],
        rows,
        right=["requests", "cache hits", "new", "updated", "unchanged", "rejected", "today", "seconds"],
    )
    for r in results:
        if r.rejected:
            reasons = ", ".join(f"{reason}: {n}" for reason, n in sorted(r.rejected.items()))
            say(f"{r.dataset}: rejected rows ({reasons})")
        if r.message:
            # A message quotes the source's own words (an error body): shown as sent, never
            # read as Rich markup ("[redacted]" is not a style tag).
            say(f"{r.dataset}: {escape(r.message)}")


class _progress:
    """A spinner counting requests on a terminal; nothing under cron or --json."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> Any:
        if not self.enabled:
            return None
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(bar_width=None),
            TextColumn("{task.completed} requests"),
            TimeElapsedColumn(),
            transient=True,
        )
        self._progress.start()
        self._task = self._progress.add_task("scraping QuiverQuant", total=None)
        return self._tick

    def _tick(self, path: str) -> None:
        self._progress.update(self._task, advance=1, description=f"scraping {path.rsplit('/beta/', 1)[-1]}")

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()


def data(
    ctx: typer.Context,
    dataset: Annotated[
        str, typer.Argument(metavar="DATASET", help="congress, lobbying, wiki, insiders or contracts.")
    ],
    ticker: TickerOption = None,
    since: SinceOption = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, help="Show the newest N records.")
    ] = DEFAULT_DATA_LIMIT,
    coverage: Annotated[
        bool, typer.Option("--coverage", help="Show the day ranges fetched completely instead.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Show stored records of a dataset, newest public first (or its coverage).

    Example: pas data lobbying --ticker AAPL --since 2025-01-01   (or: pas data congress --coverage)
    """
    from pas.scrapers import resolve

    datasets = resolve(dataset)
    if len(datasets) != 1:
        raise ConfigError("pas data shows one dataset at a time; name it (e.g. pas data congress)")
    name = datasets[0].name
    if coverage:
        _coverage(name, state(ctx).store.coverage_get(name), as_json)
        return
    tickers = _tickers(ticker)
    store = state(ctx).store
    start = _since(since)
    total = store.count_records(name, tickers=tickers, since=start)
    shown = store.newest_records(name, limit, tickers=tickers, since=start)
    if as_json:
        print_json(
            [
                {
                    "dataset": r.dataset,
                    "key": r.key,
                    "ticker": r.ticker,
                    "event_date": r.event_date,
                    "public_at": r.public_at,
                    "first_seen": r.first_seen,
                    "fields": r.fields,
                }
                for r in shown
            ]
        )
        return
    rows = [
        (
            r.ticker,
            r.event_date.isoformat(),
            r.public_at.strftime("%Y-%m-%d %H:%M"),
            "" if r.first_seen is None else r.first_seen.strftime("%Y-%m-%d %H:%M"),
            _brief(r),
        )
        for r in shown
    ]
    print_table(
        f"{name}: {total} record(s) stored, newest {len(shown)} shown (UTC)",
        ["ticker", "event", "public", "first seen", "details"],
        rows,
    )


def _coverage(name: str, stored: str | None, as_json: bool) -> None:
    """Prints a dataset's covered day ranges and its unfinished backfill, if any."""
    from pas.scrapers.coverage import Coverage

    cov = Coverage.from_json(stored)
    cursor = cov.cursor
    if as_json:
        print_json(
            {
                "dataset": name,
                "covered": [{"from": lo, "to": hi} for lo, hi in cov.spans],
                "backfill": None
                if cursor is None
                else {"next_page": cursor.page, "page_size": cursor.page_size, "started": cursor.started},
            }
        )
        return
    rows = [(lo.isoformat(), hi.isoformat(), (hi - lo).days + 1) for lo, hi in cov.spans]
    print_table(f"{name}: history fetched completely", ["from", "to", "days"], rows, right=["days"])
    if cursor is not None:
        say(f"{name}: backfill in progress, next page {cursor.page} (pages of {cursor.page_size})")
    elif not rows:
        say(f"{name}: nothing fetched completely yet; run pas scrape {name}")


def _brief(r: Record) -> str:
    """The fields that matter at a glance, per dataset."""
    from decimal import Decimal

    f = r.fields

    def amt(name: str) -> str:
        value = f.get(name)
        return "" if value is None else number(Decimal(str(value)))

    if r.dataset == "congress":
        high = amt("high")
        return f"{f.get('name')} {f.get('transaction')} ${amt('low')}–{high or '…'}"
    if r.dataset == "lobbying":
        return f"{f.get('client')} ${amt('amount')}"
    if r.dataset == "contracts":
        return f"{f.get('agency')} ${amt('amount')}"
    if r.dataset == "insiders":
        return f"{f.get('name')} {f.get('code')} {amt('shares')} @ {amt('price')}"
    return f"{amt('views')} views"
