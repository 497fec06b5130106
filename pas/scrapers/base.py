"""What every dataset module shares: the dataset description and the field validators.

A dataset module turns Quiver's rows into :class:`~pas.records.Record` values. Only
fields it names are read, so anything else in a row (prices Quiver computed later, keys
such as ``$where``) never reaches the store. A row that fails validation raises
:class:`Reject` with a short reason; the scrape counts reasons and goes on.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from pas.errors import PasError
from pas.models import SYMBOL_RE
from pas.records import Record
from pas.schedule import MARKET_TZ, day_end
from pas.scrapers.coverage import OVERLAP, Coverage, Cursor

if TYPE_CHECKING:
    from pas.scrapers.client import QuiverClient

# A text field longer than this is not a real Quiver value (lobbying issue texts, the
# longest, stay within a few thousand characters): the row is rejected.
MAX_TEXT = 20_000
# Amounts above this are not real disclosures (and would overflow nano units).
MAX_AMOUNT = Decimal(10) ** 15
# Dates outside these years are not real Quiver values (its oldest history, lobbying,
# begins in 1999): such a row is rejected, so it can never become the newest record.
MIN_YEAR = 1990
MAX_YEAR = 2099
# Where the history of a dataset without dates in its requests is said to begin once a
# backfill has read the feed to its end.
HISTORY_FLOOR = date(MIN_YEAR, 1, 1)

Row = Mapping[str, Any]


class SourceError(PasError):
    """A data source other than Quiver did not give a dataset; the scrape reports it failed."""


class Reject(Exception):
    """A row that cannot be stored; the message is the reason counted in the summary."""


@dataclass(frozen=True)
class FetchPlan:
    """What one scrape asks for.

    Attributes:
        tickers: only these symbols (empty: all); endpoints per ticker are used then.
        since: rows public before this are not needed (None: what coverage lacks).
        today: the day of the scrape (its rows are skipped: Quiver is still adding to them).
        start: the oldest day wanted (``since``'s day, else the dataset's history start).
        coverage: what earlier scrapes fetched completely (see :mod:`pas.scrapers.coverage`).
    """

    tickers: tuple[str, ...]
    since: datetime | None
    today: date
    start: date = HISTORY_FLOOR
    coverage: Coverage = field(default_factory=Coverage)

    @property
    def last_day(self) -> date:
        """The newest day wanted: yesterday."""
        return self.today - timedelta(days=1)

    def todo(self) -> list[tuple[date, date]]:
        """The day ranges to fetch, oldest first: all of them after ``--since``, else what
        coverage lacks (its last days included, see :data:`~pas.scrapers.coverage.OVERLAP`)."""
        if self.since is not None:
            return [(self.start, self.last_day)] if self.start <= self.last_day else []
        return self.coverage.missing(self.start, self.last_day)


@dataclass(frozen=True)
class Answer:
    """The rows of one answer, and what storing them completes.

    Attributes:
        rows: the rows as Quiver sent them.
        done: applied to the dataset's coverage once the rows are stored (None: nothing
            completes here), e.g. a window read to its end or a backfill's next page.
    """

    rows: Sequence[Any]
    done: Callable[[Coverage], None] | None = None


# The first argument is the client of the dataset's source (QuiverClient, WikimediaClient).
Fetcher = Callable[[Any, FetchPlan], Iterator[Answer]]


@dataclass(frozen=True)
class Dataset:
    """A Quiver dataset: how to fetch it and how to turn a row into a record.

    Attributes:
        history_days: how far back a first scrape reaches, in days before today.
        tracks_coverage: whether the fetcher reports coverage (a feed of only the latest
            day has no history to complete).
    """

    name: str
    aliases: tuple[str, ...]
    description: str
    fetch: Fetcher
    normalise: Callable[[Any], Record]
    history_days: int = 10 * 365
    tracks_coverage: bool = True


def as_row(raw: Any) -> Row:
    """The row as a mapping with string keys, or a rejection."""
    if not isinstance(raw, Mapping):
        raise Reject("not an object")
    return raw


def pick(row: Row, *names: str) -> Any:
    """The value of the first of ``names`` present and not null/empty in the row."""
    for name in names:
        value = row.get(name)
        if value is not None and value != "":
            return value
    return None


def text(row: Row, *names: str, required: bool = True) -> str:
    """A string field (first of ``names`` present), stripped; '' when optional and absent."""
    value = pick(row, *names)
    if value is None:
        if required:
            raise Reject(f"missing {names[0]}")
        return ""
    if not isinstance(value, str):
        raise Reject(f"{names[0]} is not text")
    if len(value) > MAX_TEXT:
        raise Reject(f"{names[0]} too long")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate such as "\\ud800": not text of any language
        raise Reject(f"{names[0]} is not valid Unicode") from None
    return value.strip()


def ticker(row: Row, *names: str) -> str:
    """The stock symbol, upper case; missing or malformed ones are rejected."""
    value = pick(row, *(names or ("Ticker",)))
    if value is None:
        raise Reject("missing ticker")
    if not isinstance(value, str):
        raise Reject("ticker is not text")
    symbol = value.strip().upper()
    if not SYMBOL_RE.match(symbol):
        raise Reject("malformed ticker")
    return symbol


_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_COMPACT = re.compile(r"^\d{8}$")


def wall_time(value: Any, what: str) -> tuple[datetime, bool]:
    """A Quiver date or date-time (``2026-01-02``, ``20260102``, ``2026-01-02 15:04:05``,
    ISO-8601 with or without zone) as written, and whether it is only a date (a time of
    exactly midnight counts as a date: Quiver writes days as ``2026-01-02T00:00:00``).

    A year outside :data:`MIN_YEAR`..:data:`MAX_YEAR` is a bad row ("date out of range").
    """
    if not isinstance(value, str) or len(value) > 40:
        raise Reject(f"unparseable {what}")
    raw = value.strip()
    try:
        if _COMPACT.match(raw):
            parsed = datetime.strptime(raw, "%Y%m%d")
        elif _DATE_ONLY.match(raw):
            parsed = datetime.combine(date.fromisoformat(raw), time())
        else:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise Reject(f"unparseable {what}") from None
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise Reject(f"{what} out of range")
    return parsed, parsed.time() == time()


def timestamp(value: Any, what: str) -> datetime:
    """When a Quiver date or date-time says something became public, as UTC, never early.

    A bare date (or a midnight) is public at the end of that day in New York
    (:func:`pas.schedule.day_end`). A time without a zone is read as New York wall time: Quiver does not
    say which zone it means, and New York's is later than UTC, so a time that was meant as
    UTC becomes public a few hours late, never early.
    """
    parsed, bare = wall_time(value, what)
    if bare:
        return day_end(parsed.date())
    zoned = parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=MARKET_TZ)
    return zoned.astimezone(UTC)


def day(row: Row, *names: str, required: bool = True) -> date | None:
    """A date field: the day as written (the date part of a date-time, in its own zone)."""
    value = pick(row, *names)
    if value is None:
        if required:
            raise Reject(f"missing {names[0]}")
        return None
    return wall_time(value, names[0])[0].date()


def moment(row: Row, *names: str) -> datetime | None:
    """The first of ``names`` that is present, as a public time (:func:`timestamp`; None
    when none is)."""
    for name in names:
        value = pick(row, name)
        if value is not None:
            return timestamp(value, name)
    return None


def amount(row: Row, *names: str, required: bool = True) -> Decimal | None:
    """A money or share amount: a JSON number or a numeric string (``"45000.0"``, ``"$1,001"``).

    Quiver sends a bare ``NaN`` for a number it does not have: an optional amount that is
    NaN is missing (None); a required one rejects the row.
    """
    value = pick(row, *names)
    if _is_nan(value):
        value = None
    if value is None:
        if required:
            raise Reject(f"missing {names[0]}")
        return None
    return to_decimal(value, names[0])


def _is_nan(value: Any) -> bool:
    return (isinstance(value, float) and math.isnan(value)) or (
        isinstance(value, str) and value.strip().lower() == "nan"
    )


def to_decimal(value: Any, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise Reject(f"unparseable {what}")
    cleaned = value.replace("$", "").replace(",", "").strip() if isinstance(value, str) else repr(value)
    if len(cleaned) > 40:
        raise Reject(f"unparseable {what}")
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        raise Reject(f"unparseable {what}") from None
    if not number.is_finite() or abs(number) > MAX_AMOUNT:
        raise Reject(f"unparseable {what}")
    return number


def dec(value: Decimal | None) -> str | None:
    """A Decimal as stored in a record's fields (an exact string), None kept."""
    if value is None:
        return None
    text_value = format(value, "f")
    return text_value.rstrip("0").rstrip(".") if "." in text_value else text_value


def reaches_back(
    rows: Sequence[Any], dataset: Dataset, since: datetime, *, newest_first: bool = False
) -> bool:
    """Whether the rows reach back past ``since`` (their oldest valid row is older).

    With ``newest_first`` the rows are a page, and reach back only when the page itself
    runs from newer to older rows: Quiver does not document the order of its pages, and
    stopping at an oldest-first page would miss every new row on later pages.
    """
    times: list[datetime] = []
    for raw in rows:
        try:
            times.append(dataset.normalise(raw).public_at)
        except Reject:
            continue
    ordered = not newest_first or len(times) < 2 or times[0] >= times[-1]
    return bool(times) and ordered and min(times) < since


def paged_since(
    client: QuiverClient,
    path: str,
    params: Mapping[str, Any],
    dataset: Dataset,
    since: datetime | None,
    page_size: int,
) -> Iterator[Sequence[Any]]:
    """Pages of a paged endpoint, stopping early once a newest-first page reaches back past
    ``since``: an incremental scrape reads only the pages that hold new rows."""
    for rows in client.pages(path, params, dataset=dataset.name, page_size=page_size):
        yield rows
        if since is not None and reaches_back(rows, dataset, since, newest_first=True):
            return


def dateless_feed(
    client: QuiverClient,
    plan: FetchPlan,
    dataset: Dataset,
    path: str,
    params: Mapping[str, Any],
    page_size: int,
    recent: Callable[[], Sequence[Any]] | None = None,
    recent_reaches_back: Callable[[Sequence[Any], datetime], bool] | None = None,
) -> Iterator[Answer]:
    """A paged feed without date parameters (newest first): backfill, then what is new.

    A first scrape reads every page, saving after each one the next page to ask for, so
    an interrupted backfill resumes there (rows Quiver adds meanwhile push rows to later
    pages: a resumed backfill reads some twice, which upserts merge, and none is lost).
    Once the backfill ends, history up to the day before it began is covered; then the
    pages are read only back to the oldest day coverage lacks. ``recent`` (if given) is
    tried first for that and is enough when it reaches back far enough
    (``recent_reaches_back(rows, since)``; by default, when its oldest row is older).
    """
    coverage, todo = plan.coverage, plan.todo()
    if plan.since is None and (coverage.cursor is not None or not coverage.spans):
        cursor = coverage.cursor or Cursor(1, page_size, plan.today)
        for offset, rows in enumerate(
            client.pages(path, params, dataset=dataset.name, page_size=cursor.page_size, first=cursor.page)
        ):
            yield Answer(rows, _set_cursor(replace(cursor, page=cursor.page + offset + 1)))
        yield Answer((), _finish_backfill(cursor.started))
        if cursor.started == plan.today:
            return  # begun today, it read everything up to yesterday
        todo = [(cursor.started - OVERLAP, plan.last_day)]
    if not todo:
        return
    oldest = todo[0][0]
    since = datetime.combine(oldest, time(), UTC)
    latest = recent() if recent is not None else ()
    if latest:
        yield Answer(latest)
    enough = recent_reaches_back or (lambda rows, oldest: reaches_back(rows, dataset, oldest))
    if not enough(latest, since):
        for page in paged_since(client, path, params, dataset, since, page_size):
            yield Answer(page)
    yield Answer((), _add(oldest, plan.last_day))


def windowed(
    client: QuiverClient,
    plan: FetchPlan,
    window_days: int,
    request: Callable[[date, date], Iterator[Sequence[Any]]],
) -> Iterator[Answer]:
    """The answers of a feed asked by date: ``request(first, last)`` for each window of at
    most ``window_days`` days of what the plan lacks; each window, read to its end, is
    added to coverage."""
    for lo, hi in plan.todo():
        while lo <= hi:
            end = min(hi, lo + timedelta(days=window_days - 1))
            for rows in request(lo, end):
                yield Answer(rows)
            yield Answer((), _add(lo, end))
            lo = end + timedelta(days=1)


def _add(start: date, end: date) -> Callable[[Coverage], None]:
    return lambda coverage: coverage.add(start, end)


def _set_cursor(cursor: Cursor) -> Callable[[Coverage], None]:
    def done(coverage: Coverage) -> None:
        coverage.cursor = cursor

    return done


def _finish_backfill(started: date) -> Callable[[Coverage], None]:
    def done(coverage: Coverage) -> None:
        coverage.cursor = None
        coverage.add(HISTORY_FLOOR, started - timedelta(days=1))

    return done


def per_ticker(client: QuiverClient, path: str, plan: FetchPlan, dataset: str) -> Iterator[Answer]:
    """One ``{path}/{ticker}`` request per requested ticker."""
    for symbol in plan.tickers:
        yield Answer(rows_of(client.get(f"{path}/{symbol}", dataset=dataset), path))


def single(client: QuiverClient, path: str, params: Mapping[str, Any], dataset: str) -> Sequence[Any]:
    """A one-request endpoint's rows."""
    return rows_of(client.get(path, params, dataset=dataset), path)


def rows_of(answer: Any, path: str) -> Sequence[Any]:
    """The answer when it is a list of rows; anything else is an error of the endpoint."""
    from pas.scrapers.client import QuiverError

    if not isinstance(answer, list):
        raise QuiverError(
            f"QuiverQuant answered {path} with a JSON {type(answer).__name__}, not a list of rows"
        )
    return answer
