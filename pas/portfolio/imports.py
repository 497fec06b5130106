"""Reading historical fills and prices from CSV or JSON files.

Every row is checked before anything is written: one bad row rejects the whole file,
with the line number of each problem (up to :data:`MAX_REPORTED`).

Fill columns (CSV header or JSON object keys; JSON may be a list or ``{"fills": [...]}``):

=================  =========  ==================================================
column             required   meaning
=================  =========  ==================================================
portfolio          yes [1]_   portfolio id
symbol             yes        ticker
side               yes        ``buy`` or ``sell``
qty                yes        shares, positive, at most 9 decimals
price              yes        dollars per share, positive
time               yes        ISO-8601; a time without zone is UTC
fill_id            no         unique id; derived from the row when absent
commission         no         dollars, default 0
broker_order_id    no         the broker's order id
client_order_id    no         the order id pas sent
=================  =========  ==================================================

.. [1] unless the importer is given a default portfolio.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pas.dates import check_fill_time, check_market_day
from pas.errors import InputError
from pas.models import Fill, Price, Side, check_portfolio_id, check_symbol, parse_decimal, parse_ts

# How many bad rows one error message lists.
MAX_REPORTED = 5
FILL_COLUMNS = ("portfolio", "symbol", "side", "qty", "price", "time")
PRICE_COLUMNS = ("date", "symbol", "close")
FILL_KNOWN = frozenset((*FILL_COLUMNS, "fill_id", "commission", "broker_order_id", "client_order_id"))


STDIN = "-"
"""The file name that means standard input; the command reads it and passes ``text``."""


@dataclass(frozen=True)
class Rows[T]:
    """The parsed rows of a file, with the columns no reader of that kind knows (ignored)."""

    items: list[T]
    ignored_columns: tuple[str, ...] = ()


def _text(path: Path, text: str | None) -> str:
    if text is not None:
        return text.removeprefix("\ufeff")
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path} is not UTF-8 text; save it as UTF-8 CSV or JSON") from None


def _records(path: Path, list_key: str, text: str | None = None) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(location, record) pairs from a CSV or JSON file; location is "line N" or "record N".

    ``text``, when given, is the file's content (standard input); ``path`` then only names it.
    """
    text = _text(path, text)
    if not text.strip():
        return
    if path.suffix.lower() == ".json" or text.lstrip()[:1] in ("[", "{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}") from None
        if isinstance(data, dict):
            data = data.get(list_key)
        if not isinstance(data, list):
            raise InputError(f"{path}: expected a JSON list of objects or {{{list_key!r}: [...]}}")
        for number, item in enumerate(data, start=1):
            yield f"record {number}", item if isinstance(item, dict) else {"": item}
        return
    reader = csv.DictReader(io.StringIO(text))
    for row in reader:
        yield f"line {reader.line_num}", {(k or "").strip().lower(): v for k, v in row.items()}


def records_of(path: Path, list_key: str, text: str | None = None) -> list[tuple[str, Mapping[str, Any]]]:
    """(location, record) pairs of a CSV or JSON file, for readers of other row kinds.

    Raises:
        InputError: the file cannot be read or parsed.
    """
    return list(_records(path, list_key, text))


def _required(record: Mapping[str, Any], key: str) -> str:
    value = record.get(key)
    if value is None or str(value).strip() == "":
        raise InputError(f"missing {key}")
    return str(value).strip()


def unknown_columns(
    records: Iterable[tuple[str, Mapping[str, Any]]], known: Collection[str]
) -> tuple[str, ...]:
    """The columns of ``records`` not in ``known``, in the order they first appear (ignored)."""
    seen = dict.fromkeys(column for _, record in records for column in record)
    return tuple(c for c in seen if c not in known)


def _collect(path: Path, list_key: str, parse: Any, known: frozenset[str], text: str | None) -> Rows[Any]:
    items: list[Any] = []
    problems: list[str] = []
    records = records_of(path, list_key, text)
    for where, record in records:
        try:
            items.append(parse(record))
        except InputError as exc:
            problems.append(f"{where}: {exc}")
    if problems:
        shown = "; ".join(problems[:MAX_REPORTED])
        more = f" (and {len(problems) - MAX_REPORTED} more)" if len(problems) > MAX_REPORTED else ""
        raise InputError(f"{path}: {len(problems)} bad row(s), nothing imported: {shown}{more}")
    if not items:
        raise InputError(f"{path} holds no rows")
    return Rows(items, unknown_columns(records, known))


def read_fills(
    path: Path, default_portfolio: str | None = None, *, now: datetime, text: str | None = None
) -> Rows[Fill]:
    """Parses a fills file (see the module docstring for the columns).

    ``default_portfolio`` fills the rows whose portfolio cell is empty; a row naming another
    portfolio is an error, never silently kept or overridden. Columns not in the table are
    ignored and reported in :attr:`Rows.ignored_columns`.

    Args:
        now: the current time; a fill later than it, or outside every US equity session,
            is a bad row (the rules of :mod:`pas.dates`).
        text: the file's content when it was read elsewhere (standard input).

    Raises:
        InputError: the file cannot be read, or any row is bad (all are listed, up to 5).
    """

    def parse(record: Mapping[str, Any]) -> Fill:
        own = str(record.get("portfolio") or "").strip()
        if own and default_portfolio and own != default_portfolio:
            raise InputError(
                f"portfolio column says {own!r} but --portfolio says {default_portfolio!r}; drop one of them"
            )
        raw_portfolio = own or default_portfolio
        if not raw_portfolio:
            raise InputError("missing portfolio (add the column or pass --portfolio)")
        portfolio = check_portfolio_id(str(raw_portfolio).strip())
        symbol = check_symbol(_required(record, "symbol"))
        side_text = _required(record, "side").lower()
        if side_text not in ("buy", "sell"):
            raise InputError(f"side must be buy or sell, got {side_text!r}")
        qty = parse_decimal(_required(record, "qty"), "qty")
        price = parse_decimal(_required(record, "price"), "price")
        raw_time = _required(record, "time")
        ts = parse_ts(raw_time)
        if len(raw_time) == 10:  # a bare day: that is the session, whatever the hour in UTC
            check_market_day(ts.date(), now, "time")
        else:
            check_fill_time(ts, now)
        commission = parse_decimal(record.get("commission") or "0", "commission")
        broker_order_id = str(record.get("broker_order_id") or "").strip()
        fill_id = str(record.get("fill_id") or "").strip() or Fill.derive_id(
            portfolio, symbol, side_text, qty, price, ts, broker_order_id
        )
        return Fill(
            portfolio=portfolio,
            symbol=symbol,
            side=Side(side_text),
            qty=qty,
            price=price,
            ts=ts,
            fill_id=fill_id,
            broker_order_id=broker_order_id,
            client_order_id=str(record.get("client_order_id") or "").strip(),
            commission=commission,
        )

    fills: Rows[Fill] = _collect(path, "fills", parse, FILL_KNOWN, text)
    return fills


def read_prices(path: Path, *, now: datetime, text: str | None = None) -> Rows[Price]:
    """Parses a prices file with columns ``date, symbol, close`` (CSV or JSON); other
    columns are ignored and reported in :attr:`Rows.ignored_columns`.

    Args:
        now: the current time; a close after today in New York, or on a day the NYSE
            is closed, is a bad row (the rules of :mod:`pas.dates`).
        text: the file's content when it was read elsewhere (standard input).

    Raises:
        InputError: the file cannot be read, or any row is bad.
    """

    def parse(record: Mapping[str, Any]) -> Price:
        raw_day = _required(record, "date")
        try:
            day = date.fromisoformat(raw_day[:10])
        except ValueError:
            raise InputError(f"date {raw_day!r} is not YYYY-MM-DD") from None
        check_market_day(day, now, "date")
        close = parse_decimal(_required(record, "close"), "close")
        if close <= 0:
            raise InputError(f"close must be more than zero, got {close}")
        return Price(check_symbol(_required(record, "symbol")), day, close.quantize(_NANO_Q))

    prices: Rows[Price] = _collect(path, "prices", parse, frozenset(PRICE_COLUMNS), text)
    return prices


_NANO_Q = parse_decimal("0.000000001", "quantum")
