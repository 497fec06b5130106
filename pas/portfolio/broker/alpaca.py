"""The Alpaca broker over its REST API: trading v2 and market data v2.

Endpoints (confirmed against Alpaca's API reference and alpaca-py's clients):

- trading: ``GET /v2/account``, ``GET /v2/clock``, ``GET /v2/assets/{symbol}``,
  ``POST /v2/orders``, ``GET /v2/orders/{id}``,
  ``GET /v2/orders:by_client_order_id?client_order_id=``, ``GET /v2/orders``,
  ``DELETE /v2/orders/{id}``, ``GET /v2/positions``,
  ``GET /v2/account/activities/FILL`` (paged: ``page_token`` is the id of the last
  activity of the previous page, with ``direction=asc`` the next page starts after it);
- data: ``GET /v2/stocks/trades/latest?symbols=`` (``{"trades": {sym: {"p": ...}}}``),
  ``GET /v2/stocks/quotes/latest?symbols=`` (``{"quotes": {sym: {"bp": ..., "ap": ...}}}``) and
  ``GET /v2/stocks/bars?symbols=&timeframe=1Day`` (``{"bars": {sym: [{"t", "c"}]},
  "next_page_token"}``).

Money in trading answers is JSON strings; in data answers JSON numbers, which are parsed
as :class:`~decimal.Decimal` so no close goes through a float
(:mod:`pas.portfolio.broker.alpaca_wire` holds the wire formats).

Retries: GETs (and the look-ups after an order POST) are retried on 429 and 5xx, on
timeouts and on dropped connections, with exponential backoff and jitter, waiting as
long as ``Retry-After`` or ``X-Ratelimit-Reset`` asks. An order POST is never sent twice:
see :meth:`AlpacaBroker.submit_order`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import requests

from pas.clock import Clock, system_clock
from pas.domain.broker import (
    Account,
    Asset,
    Bar,
    BrokerFill,
    BrokerPosition,
    MarketClock,
    Order,
    OrderRequest,
    Quote,
)
from pas.errors import NotFoundError
from pas.http import (
    RETRY_STATUSES,
    TOO_MANY_REQUESTS,
    RetryPolicy,
    Sleep,
    Transient,
    server_wait,
    with_retries,
)
from pas.portfolio.broker import alpaca_wire as wire
from pas.portfolio.broker.errors import (
    BrokerAuthError,
    BrokerError,
    OrderOutcomeUnknown,
    OrderRejected,
)

# Seconds to connect and to wait for each answer; Alpaca answers in well under a second,
# and a cron job must not hang on a dead connection.
DEFAULT_TIMEOUT = 10.0
MAX_ATTEMPTS = 5
# Reads are retried on RETRY_STATUSES (429 comes at 200 requests a minute on trading):
# 0.5 s, 1 s, 2 s... plus up to 0.5 s of jitter; a server asking for a longer pause than
# 120 s is waited for only that long.
RETRY_POLICY = RetryPolicy(
    attempts=MAX_ATTEMPTS, initial_sec=0.5, max_sec=30.0, jitter_sec=0.5, max_server_wait_sec=120.0
)
ORDERS_LIMIT = 500  # Alpaca's maximum for GET /v2/orders
ACTIVITIES_PAGE_SIZE = 100  # Alpaca's maximum for account activities
BARS_PAGE_LIMIT = 10000  # Alpaca's maximum bars per data page
# Symbols per data request: keeps the query string well under URL length limits.
SYMBOLS_PER_REQUEST = 100
# Daily closes come from the consolidated tape (SIP), free for data older than 15 minutes;
# IEX's closes differ (AAPL 2023-09-29: 171.29 on IEX, 171.21 consolidated).
DEFAULT_BARS_FEED = "sip"
FALLBACK_BARS_FEED = "iex"


class _Transient(Transient):
    """A failed attempt that may clear up, with Alpaca's status and message if it answered."""

    def __init__(self, what: str, status: int | None, wait: float | None, message: str = "") -> None:
        super().__init__(what, wait)
        self.status = status
        self.message = message


class _LostAnswer(Exception):
    """An order POST that may have created the order: no answer, a drop or a 5xx."""

    def __init__(self, reason: str, status: int | None, message: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.message = message


class AlpacaBroker:
    """The :class:`~pas.portfolio.broker.base.Broker` protocol over Alpaca's REST API.

    Args:
        session: the HTTP transport (a ``requests.Session``); tests pass one aimed at a fake.
        base_url: trading API root, e.g. ``https://paper-api.alpaca.markets``.
        data_url: market data API root, e.g. ``https://data.alpaca.markets``.
        key_id: sent as ``APCA-API-KEY-ID``; never in URLs, messages or logs.
        secret: sent as ``APCA-API-SECRET-KEY``; never in URLs, messages or logs.
        feed: the stock data feed of quotes and latest trades (``iex`` is free).
        bars_feed: the feed of daily bars (``sip``, the consolidated close, is free for
            data older than 15 minutes); falls back to ``iex`` with a notice when the
            subscription refuses it.
        timeout: seconds for each HTTP call.
        sleep: how to wait between attempts (tests pass a recorder); default ``time.sleep``.
        clock: the current UTC time, for ``X-Ratelimit-Reset``.
    """

    name = "alpaca"

    def __init__(
        self,
        session: requests.Session,
        base_url: str,
        data_url: str,
        key_id: str,
        secret: str,
        feed: str = "iex",
        bars_feed: str = DEFAULT_BARS_FEED,
        timeout: float = DEFAULT_TIMEOUT,
        sleep: Sleep | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self._session = session
        self._base_url = base_url.rstrip("/")
        self._data_url = data_url.rstrip("/")
        self._headers = {"APCA-API-KEY-ID": key_id, "APCA-API-SECRET-KEY": secret}
        self.feed = feed
        self.bars_feed = bars_feed
        self.notices: list[str] = []  # warnings for the user: e.g. a bars feed fallen back
        self.timeout = timeout
        self._sleep = sleep if sleep is not None else _system_sleep
        self._clock = clock
        self._rng = random.Random()
        self.activities_page_size = ACTIVITIES_PAGE_SIZE
        self.bars_page_limit = BARS_PAGE_LIMIT

    def __repr__(self) -> str:
        return f"AlpacaBroker({self._base_url!r}, feed={self.feed!r})"

    # -- account and market ------------------------------------------------------------
    def account(self) -> Account:
        data = self._get("/v2/account")
        return Account(
            equity=wire.decimal_field(data, "equity"),
            cash=wire.decimal_field(data, "cash"),
            buying_power=wire.decimal_field(data, "buying_power"),
            non_marginable_buying_power=wire.optional_decimal_field(data, "non_marginable_buying_power"),
            blocked=bool(data.get("trading_blocked")) or bool(data.get("account_blocked")),
            currency=str(data.get("currency") or "USD"),
            holds_limit_buys=True,  # Alpaca's docs: a limit buy needs quantity x limit in buying power
        )

    def clock(self) -> MarketClock:
        data = self._get("/v2/clock")
        return MarketClock(
            timestamp=wire.time_field(data, "timestamp"),
            is_open=bool(data.get("is_open")),
            next_open=wire.time_field(data, "next_open"),
            next_close=wire.time_field(data, "next_close"),
        )

    def asset(self, symbol: str) -> Asset:
        try:
            data = self._get(f"/v2/assets/{symbol}")
        except BrokerError as exc:
            if exc.status == 404:
                raise NotFoundError(f"Alpaca has no asset {symbol!r}; check the ticker") from None
            raise
        return Asset(
            symbol=str(data.get("symbol") or symbol),
            tradable=bool(data.get("tradable")),
            fractionable=bool(data.get("fractionable")),
        )

    # -- orders ------------------------------------------------------------------------
    def submit_order(self, request: OrderRequest) -> Order:
        """Sends a market or limit order; never sends it again unless Alpaca certainly refused it.

        A 429 means Alpaca did not take the order, so the POST is retried after the pause
        it asks for, with the same client order id (unique forever at Alpaca, so a copy
        can never become a second order). After a timeout, a dropped connection, a 5xx
        or "client_order_id must be unique" the order may exist: it is looked up by its
        client order id and returned if Alpaca shows it.

        Raises:
            OrderRejected: Alpaca refused the order (buying power, wash trade, invalid,
                or rate limited at every attempt).
            OrderOutcomeUnknown: the order may or may not exist (no answer, and the
                look-up failed or does not show it yet); it must be looked up again later,
                never re-sent.
            BrokerAuthError: the key or secret is wrong.
        """
        body = {
            "symbol": request.symbol,
            "qty": wire.qty_param(request.qty),
            "side": request.side.value,
            "type": "market" if request.limit_price is None else "limit",
            "time_in_force": request.time_in_force,
            "client_order_id": request.client_order_id,
        }
        if request.limit_price is not None:
            body["limit_price"] = wire.qty_param(request.limit_price)
        try:
            data = with_retries(lambda: self._post_order(body), RETRY_POLICY, self._sleep, self._rng)
        except _LostAnswer as lost:
            return self._find_sent(request, lost.reason, lost.status, lost.message)
        except _Transient as limited:  # 429 at every attempt: Alpaca never took it
            raise OrderRejected(
                f"Alpaca rate-limited the order at each of {MAX_ATTEMPTS} attempts; try again later",
                limited.status,
                limited.message,
                "rate_limited",
            ) from None
        except OrderRejected as exc:
            if exc.reason != "duplicate":
                raise
            return self._find_sent(
                request, "Alpaca already has its client order id", exc.status, exc.broker_message
            )
        return wire.parse_order(data)

    def _post_order(self, body: Mapping[str, str]) -> Any:
        """One order POST; a failure other than a 429 may have created the order."""
        try:
            return self._send("POST", self._base_url, "/v2/orders", body=body)
        except _Transient as exc:
            if exc.status == TOO_MANY_REQUESTS:
                raise
            raise _LostAnswer(exc.reason, exc.status, exc.message) from None

    def _find_sent(self, request: OrderRequest, why: str, status: int | None, message: str) -> Order:
        """The order Alpaca holds under the request's client order id, after a lost answer.

        Raises:
            OrderOutcomeUnknown: the look-up failed or does not show the order (Alpaca
                creates orders asynchronously, so "not found" now does not prove absence).
        """
        coid = request.client_order_id
        try:
            found = self.order_by_client_id(coid)
        except BrokerError as exc:
            seen = f"looking it up failed too ({exc})"
        else:
            if found is not None:
                return found
            seen = "Alpaca does not show it (yet)"
        raise OrderOutcomeUnknown(
            f"order {coid} for {request.symbol}: {why}, and {seen}; it may exist, so it is never "
            "re-sent: run `pas sync` to look it up",
            status,
            message,
        )

    def get_order(self, order_id: str) -> Order:
        return wire.parse_order(self._get(f"/v2/orders/{order_id}"))

    def order_by_client_id(self, client_order_id: str) -> Order | None:
        try:
            data = self._get("/v2/orders:by_client_order_id", {"client_order_id": client_order_id})
        except BrokerError as exc:
            if exc.status == 404:
                return None
            raise
        return wire.parse_order(data)

    def list_orders(self, status: str = "open", after: datetime | None = None) -> list[Order]:
        """Orders by status, newest first, following pages of :data:`ORDERS_LIMIT`.

        Alpaca pages orders by time: the next page asks for those submitted ``until`` the
        oldest of the last page (exclusive). Orders seen twice at a page boundary are kept
        once.
        """
        params: dict[str, str] = {"status": status, "limit": str(ORDERS_LIMIT), "direction": "desc"}
        if after is not None:
            params["after"] = wire.time_param(after)
        found: dict[str, Order] = {}
        while True:
            page = [
                wire.parse_order(item) for item in wire.as_list(self._get("/v2/orders", params), "/v2/orders")
            ]
            for order in page:
                found.setdefault(order.id, order)
            oldest = min((o.submitted_at for o in page if o.submitted_at is not None), default=None)
            if len(page) < ORDERS_LIMIT or oldest is None or params.get("until") == wire.time_param(oldest):
                return list(found.values())
            params["until"] = wire.time_param(oldest)

    def cancel_order(self, order_id: str) -> None:
        self._with_retries(lambda: self._send("DELETE", self._base_url, f"/v2/orders/{order_id}"))

    # -- positions and fills -----------------------------------------------------------
    def positions(self) -> list[BrokerPosition]:
        data = self._get("/v2/positions")
        return [
            BrokerPosition(
                symbol=str(item["symbol"]),
                qty=wire.decimal_field(item, "qty"),
                market_value=wire.decimal_field(item, "market_value")
                if item.get("market_value") is not None
                else None,
            )
            for item in wire.as_list(data, "/v2/positions")
        ]

    def fills(self, after: datetime | None = None) -> list[BrokerFill]:
        """FILL activities after a time, oldest first, following every page."""
        fills: list[BrokerFill] = []
        token: str | None = None
        while True:
            params = {"direction": "asc", "page_size": str(self.activities_page_size)}
            if after is not None:
                params["after"] = wire.time_param(after)
            if token is not None:
                params["page_token"] = token
            page = wire.as_list(self._get("/v2/account/activities/FILL", params), "account activities")
            fills.extend(wire.parse_fill(item) for item in page)
            if len(page) < self.activities_page_size:
                return fills
            token = str(page[-1]["id"])

    # -- market data -------------------------------------------------------------------
    def missing_price_hint(self, symbol: str) -> str:
        return f"Alpaca has no trade of {symbol} on the {self.feed} feed; check the ticker"

    def latest_prices(self, symbols: Sequence[str]) -> dict[str, Decimal]:
        prices: dict[str, Decimal] = {}
        for chunk in _chunks(symbols):
            params = {"symbols": ",".join(chunk), "feed": self.feed}
            data = self._get("/v2/stocks/trades/latest", params, data_api=True)
            trades = data.get("trades") or {}
            if not isinstance(trades, Mapping):
                raise wire.malformed("/v2/stocks/trades/latest")
            for symbol, trade in trades.items():
                prices[str(symbol)] = wire.decimal_field(trade, "p")
        return prices

    def latest_quotes(self, symbols: Sequence[str]) -> dict[str, Quote]:
        """``GET /v2/stocks/quotes/latest``: ``{"quotes": {sym: {"bp": bid, "ap": ask, ...}}}``."""
        quotes: dict[str, Quote] = {}
        for chunk in _chunks(symbols):
            params = {"symbols": ",".join(chunk), "feed": self.feed}
            data = self._get("/v2/stocks/quotes/latest", params, data_api=True)
            found = data.get("quotes") or {}
            if not isinstance(found, Mapping):
                raise wire.malformed("/v2/stocks/quotes/latest")
            for symbol, quote in found.items():
                bid, ask = wire.decimal_field(quote, "bp"), wire.decimal_field(quote, "ap")
                quotes[str(symbol)] = Quote(str(symbol), bid, ask)
        return quotes

    def daily_bars(self, symbols: Iterable[str], start: date, end: date | None = None) -> list[Bar]:
        """Daily closes, adjusted for splits and dividends, oldest first per symbol.

        A daily bar's ``t`` is midnight New York time written in UTC (04:00Z or 05:00Z),
        so its UTC date is the trading day.
        """
        bars: list[Bar] = []
        for chunk in _chunks(list(symbols)):
            token: str | None = None
            while True:
                params = {
                    "symbols": ",".join(chunk),
                    "timeframe": "1Day",
                    "start": start.isoformat(),
                    "feed": self.bars_feed,
                    "adjustment": "all",
                    "limit": str(self.bars_page_limit),
                }
                if end is not None:
                    params["end"] = end.isoformat()
                if token:
                    params["page_token"] = token
                data = self._bars_page(params)
                by_symbol = data.get("bars") or {}
                if not isinstance(by_symbol, Mapping):
                    raise wire.malformed("/v2/stocks/bars")
                for symbol, items in by_symbol.items():
                    for item in items or ():
                        bars.append(
                            Bar(str(symbol), wire.time_field(item, "t").date(), wire.decimal_field(item, "c"))
                        )
                token = data.get("next_page_token")
                if not token:
                    break
        return bars

    def _bars_page(self, params: dict[str, str]) -> Any:
        """One page of bars; when the plan refuses the bars feed, from IEX (noted, and kept)."""
        try:
            return self._get("/v2/stocks/bars", params, data_api=True)
        except BrokerError as exc:
            if self.bars_feed == FALLBACK_BARS_FEED or not wire.is_feed_refusal(exc.broker_message):
                raise
            refusal = exc.broker_message
        self.notices.append(
            f"Alpaca's subscription refused the {self.bars_feed} feed for daily bars ({refusal}); "
            f"using {FALLBACK_BARS_FEED}, whose closes differ from the consolidated close: "
            f"set ALPACA_BARS_FEED={FALLBACK_BARS_FEED} to silence this, or upgrade the data plan"
        )
        self.bars_feed = FALLBACK_BARS_FEED
        return self._get("/v2/stocks/bars", {**params, "feed": FALLBACK_BARS_FEED}, data_api=True)

    # -- HTTP --------------------------------------------------------------------------
    def _get(self, path: str, params: Mapping[str, str] | None = None, data_api: bool = False) -> Any:
        root = self._data_url if data_api else self._base_url
        return self._with_retries(lambda: self._send("GET", root, path, params=params))

    def _with_retries(self, attempt: Callable[[], Any]) -> Any:
        try:
            return with_retries(attempt, RETRY_POLICY, self._sleep, self._rng)
        except _Transient as exc:
            raise BrokerError(
                f"{exc.reason} ({MAX_ATTEMPTS} attempts); try again later", exc.status, exc.message
            ) from None

    def _send(
        self,
        method: str,
        root: str,
        path: str,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, str] | None = None,
    ) -> Any:
        """One HTTP call: the parsed JSON body, or a PasError / _Transient."""
        where = f"{method} {path}"
        try:
            response = self._session.request(
                method, root + path, params=params, json=body, headers=self._headers, timeout=self.timeout
            )
        except requests.Timeout:
            raise _Transient(f"Alpaca did not answer {where} within {self.timeout:g}s", None, None) from None
        except requests.ConnectionError:
            what = f"could not connect to Alpaca for {where} (check the network)"
            raise _Transient(what, None, None) from None
        status = response.status_code
        if 200 <= status < 300:
            if status == 204 or not response.content:
                return None
            try:
                return response.json(parse_float=Decimal)
            except ValueError:
                raise wire.malformed(where, status) from None
        message = wire.alpaca_message(response)
        if status in RETRY_STATUSES:
            wait = server_wait(response.headers, status, self._clock())
            raise _Transient(f"Alpaca answered {where} with HTTP {status}", status, wait, message)
        is_order = method == "POST" and path == "/v2/orders"
        # Alpaca answers 403 both for bad credentials ("forbidden.") and for refused orders
        # (blocked account, wash trade, buying power): only the former names the keys.
        auth_words = ("forbidden", "not authorized", "unauthorized")
        refused_order = is_order and not any(w in message.lower() for w in auth_words)
        feed_refused = wire.is_feed_refusal(message)
        if status == 401 or (
            status == 403 and not wire.order_refusal(message) and not refused_order and not feed_refused
        ):
            raise BrokerAuthError(
                f"Alpaca refused the credentials (HTTP {status}: {message}); check ALPACA_API_KEY and "
                "ALPACA_API_SECRET, and that they belong to ALPACA_BASE_URL (paper keys only work on paper)",
                status,
                message,
            )
        if is_order and status in (403, 422):
            reason = wire.order_refusal(message) or "invalid"
            raise OrderRejected(
                f"Alpaca rejected the order (HTTP {status}: {message})", status, message, reason
            )
        raise BrokerError(f"Alpaca answered {where} with HTTP {status}: {message}", status, message)


# -- retry timing ----------------------------------------------------------------------
def _system_sleep(seconds: float) -> None:
    time.sleep(seconds)  # looked up at call time, so a test can patch time.sleep


def _chunks(symbols: Sequence[str]) -> Iterator[list[str]]:
    unique = list(dict.fromkeys(symbols))
    for start in range(0, len(unique), SYMBOLS_PER_REQUEST):
        yield unique[start : start + SYMBOLS_PER_REQUEST]


__all__ = ["DEFAULT_TIMEOUT", "AlpacaBroker"]
