"""What every dataset module shares: the dataset description and the field validators.

A dataset module turns Quiver's rows into :class:`~pas.records.Record` values. Only
fields it names are read, so anything else in a row (prices Quiver computed later, keys
such as ``$where``) never reaches the store. A row that fails validation raises
:class:`Reject` with a short reason; the scrape counts reasons and goes on.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from pas.errors import PasError
from pas.models import SYMBOL_RE
from pas.records import Record

if TYPE_CHECKING:
    from pas.scrapers.client import QuiverClient

# A text field longer than this is not a real Quiver value (lobbying issue texts, the
# longest, stay within a few thousand characters): the row is rejected.
MAX_TEXT = 20_000
# Amounts above this are not real disclosures (and would overflow nano units).
MAX_AMOUNT = Decimal(10) ** 15

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
        since: rows public before this are not needed (None: the whole history).
        today: the UTC day of the scrape (its rows are skipped: Quiver is still adding to them).
    """

    tickers: tuple[str, ...]
    since: datetime | None
    today: date


# The first argument is the client of the dataset's source (QuiverClient, WikimediaClient).
Fetcher = Callable[[Any, FetchPlan], Iterator[Sequence[Any]]]


@dataclass(frozen=True)
class Dataset:
    """A Quiver dataset: how to fetch it and how to turn a row into a record."""

    name: str
    aliases: tuple[str, ...]
    description: str
    fetch: Fetcher
    normalise: Callable[[Any], Record]


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


def timestamp(value: Any, what: str) -> datetime:
    """A Quiver date or date-time (``2026-01-02``, ``20260102``, ``2026-01-02 15:04:05``,
    ISO-8601 with or without zone) as UTC; a bare date is midnight UTC."""
    if not isinstance(value, str) or len(value) > 40:
        raise Reject(f"unparseable {what}")
    raw = value.strip()
    try:
        if _COMPACT.match(raw):
            return datetime.strptime(raw, "%Y%m%d").replace(tzinfo=UTC)
        if _DATE_ONLY.match(raw):
            return datetime.combine(date.fromisoformat(raw), time(), UTC)
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise Reject(f"unparseable {what}") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def day(row: Row, *names: str, required: bool = True) -> date | None:
    """A date field (the date part of a date-time)."""
    value = pick(row, *names)
    if value is None:
        if required:
            raise Reject(f"missing {names[0]}")
        return None
    return timestamp(value, names[0]).date()


def moment(row: Row, *names: str) -> datetime | None:
    """The first of ``names`` that is present, as a UTC time (None when none is)."""
    for name in names:
        value = pick(row, name)
        if value is not None:
            return timestamp(value, name)
    return None


def midnight(d: date, days_after: int = 0) -> datetime:
    """Midnight UTC ``days_after`` days after ``d``."""
    return datetime.combine(d + timedelta(days=days_after), time(), UTC)


def amount(row: Row, *names: str, required: bool = True) -> Decimal | None:
    """A money or share amount: a JSON number or a numeric string (``"45000.0"``, ``"$1,001"``)."""
    value = pick(row, *names)
    if value is None:
        if required:
            raise Reject(f"missing {names[0]}")
        return None
    return to_decimal(value, names[0])


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


def paged_since(
    client: QuiverClient,
    path: str,
    params: Mapping[str, Any],
    dataset: Dataset,
    since: datetime | None,
) -> Iterator[Sequence[Any]]:
    """Pages of a paged endpoint, stopping early once a newest-first page reaches back past
    ``since`` (its oldest valid row is older): the pages after it hold only rows already
    stored, so an incremental scrape reads only the pages that hold new rows.

    Quiver does not document the order of its pages. The early stop is taken only when the
    page itself runs from newer to older rows; a page in oldest-first order is read on to
    the end, since stopping there would miss every new row on later pages.
    """
    for rows in client.pages(path, params, dataset=dataset.name):
        yield rows
        if since is None:
            continue
        times: list[datetime] = []
        for raw in rows:
            try:
                times.append(dataset.normalise(raw).public_at)
            except Reject:
                continue
        newest_first = len(times) < 2 or times[0] >= times[-1]
        if times and newest_first and min(times) < since:
            return


def per_ticker(client: QuiverClient, path: str, plan: FetchPlan, dataset: str) -> Iterator[Sequence[Any]]:
    """One ``{path}/{ticker}`` request per requested ticker."""
    for symbol in plan.tickers:
        yield rows_of(client.get(f"{path}/{symbol}", dataset=dataset), path)


def single(
    client: QuiverClient, path: str, params: Mapping[str, Any], dataset: str
) -> Iterator[Sequence[Any]]:
    """A one-request endpoint's rows."""
    yield rows_of(client.get(path, params, dataset=dataset), path)


def rows_of(answer: Any, path: str) -> Sequence[Any]:
    """The answer when it is a list of rows; anything else is an error of the endpoint."""
    from pas.scrapers.client import QuiverError

    if not isinstance(answer, list):
        raise QuiverError(
            f"QuiverQuant answered {path} with a JSON {type(answer).__name__}, not a list of rows"
        )
    return answer
