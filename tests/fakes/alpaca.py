"""A fake Alpaca (trading v2 + market data v2) on 127.0.0.1 for tests.

It answers like the real API: money and quantities as JSON strings on the trading API,
numbers on the data API, RFC 3339 times with nanoseconds, ``{"code", "message"}`` errors.
Every body it serves validates against alpaca-py's pydantic models
(tests/fakes/test_alpaca_fidelity.py), and pas's parsers are run over real bodies from
public sources (tests/fixtures/alpaca/, with their PROVENANCE.md). State lives in memory;
every request is logged.

Usage::

    with FakeAlpaca() as fake:                      # serves on fake.url
        fake.set_price("AAPL", "150")               # fill price, latest trade and quote
        fake.set_quote("AAPL", bid="149.9", ask="150.1")
        fake.set_asset("BRK.A", fractionable=False)
        fake.add_bars("SPY", {date(2026, 1, 2): "580.1"})
        fake.cash = Decimal("5000")                 # cash; buying power follows fake.multiplier
        fake.multiplier = 2                         # a margin account (1: cash account)
        fake.fill_mode = "partial"                  # immediate|partial|later|never|reject|expire
        fake.fill_modes["MSFT"] = "later"           # per symbol
        fake.partial_fraction = Decimal("0.5")
        fake.market_open = False                    # orders wait; fake.open_market() runs them
        fake.sip_allowed = False                    # bars with feed=sip: 403 "subscription does not permit …"
        fake.fill_open("AAPL"); fake.expire_open()  # settle resting orders
        fake.count("POST", "/v2/orders")            # from fake.requests

Knobs that reproduce the real API's harder answers (see ORDER_STATUSES and the Fault
fields):

- ``fake.new_status = "pending_review"``: new orders take this status and wait (any of
  :data:`ORDER_STATUSES`); ``fake.set_status(order_id, "done_for_day")`` moves one order to
  any documented status, stamping ``canceled_at``/``expired_at``/``failed_at``/``replaced_at``.
- ``fake.visible_after = timedelta(seconds=5)``: a created order is invisible to look-ups
  (by id, by client order id, in lists) until the fake's clock passes its creation time plus
  this (Alpaca creates orders asynchronously); pass a settable clock and move it.
- ``fake.wash_trade_status = 422``: the wash-trade refusal comes as 422 code 42210000
  instead of 403 code 40310000 (Alpaca has answered both).
- ``fake.rate_limit = 200``: ``X-Ratelimit-Limit``/``-Remaining``/``-Reset`` on every answer,
  counted per minute of the fake's clock (the reset is the epoch second the window ends);
  ``fake.rate_limit_enforced = True`` answers 429 (code 42910000) once the window is used
  up. Off by default: the default clock stands still, so its window never ends.
- ``fake.inject(endpoint, ...)`` queues a :class:`Fault` for the next ``times`` requests:
  ``status=504, after_create=True`` (a lost answer: the order exists),
  ``after_create=True, hold=True`` (the answer waits until ``fake.release()``, so the
  client's timeout passes while the order exists; no fixed sleep),
  ``delay=1.0`` (a slow answer), ``body=b"{not json"`` (any body, e.g. a real sample),
  ``status=429, headers={"Retry-After": "3"}``, and ``lookups_fail=3`` (after this
  fault, the next 3 order look-ups of any kind answer 503).

Endpoint names for :meth:`FakeAlpaca.inject`: account, clock, asset, submit, order,
order_by_client_id, orders, cancel, positions, activities, trades_latest, quotes_latest,
bars.

Built-in refusals like Alpaca's: a reused client order id (422 code 40010001; unique
forever, even after cancel), a buy costing more than the buying power (403 insufficient
buying power; a limit buy costs its quantity x its limit price, and open buys hold that much
of the buying power until they fill, as Alpaca's "Buying Power" docs say), a sell of more
than held (403 insufficient qty; no shorting), an order opposite to an open order on the
same symbol (wash trade, see above). Buying power is Alpaca's: cash at multiplier 1,
(equity - initial margin) x 2 at 2, (last equity - maintenance margin) x 4 at 4. A limit
order whose price the market does not meet rests (``new``) until :meth:`fill_open`. Lists are capped as
Alpaca caps them: orders at 500 (default 50; ``after``/``until`` exclusive, ``direction``),
FILL activities at 100 a page (``page_token`` = the last id of the previous page).
Authentication: headers must carry :data:`KEY_ID` / :data:`SECRET` (else 401).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

KEY_ID = "PKFAKEKEY0000000"
SECRET = "fake-secret-0123456789abcdefghij"
WASH_TRADE = "potential wash trade detected. use complex orders"
BUYING_POWER = "insufficient buying power"
DUPLICATE = "client_order_id must be unique"
# A free data plan asking for SIP data (see tests/fixtures/alpaca/PROVENANCE.md).
SIP_REFUSAL = "subscription does not permit querying recent SIP data"
FILL_MODES = ("immediate", "partial", "later", "never", "reject", "expire")
# Every status Alpaca documents for an order (alpaca-py's OrderStatus holds the same set).
ORDER_STATUSES = (
    "new",
    "partially_filled",
    "filled",
    "done_for_day",
    "canceled",
    "expired",
    "replaced",
    "pending_cancel",
    "pending_replace",
    "pending_review",
    "accepted",
    "pending_new",
    "accepted_for_bidding",
    "stopped",
    "rejected",
    "suspended",
    "calculated",
    "held",
)
# The statuses after which nothing more happens to an order; all others are open.
FINAL_STATUSES = frozenset({"filled", "canceled", "expired", "rejected", "replaced"})
_OPEN = frozenset(ORDER_STATUSES) - FINAL_STATUSES
# The time stamp each final status sets on the order.
_STAMPS = {
    "filled": "filled_at",
    "canceled": "canceled_at",
    "expired": "expired_at",
    "rejected": "failed_at",
    "replaced": "replaced_at",
}
# Alpaca's error codes for refusals the fake makes up itself: the HTTP status, then 10000.
_CODES = {403: 40310000, 422: 42210000, 429: 42910000}
ACCOUNT_ID = str(uuid.uuid5(uuid.NAMESPACE_DNS, "fake-account.alpaca.test"))
RATE_LIMIT = 200  # Alpaca's default: requests a minute per account
# Margin requirements of the fake's positions (Reg T initial, and maintenance), as fractions
# of their market value.
REG_T_INITIAL = Decimal("0.5")
MAINTENANCE = Decimal("0.3")
ORDERS_LIMIT_DEFAULT = 50
ORDERS_LIMIT_MAX = 500
ACTIVITIES_PAGE_MAX = 100
# Look-ups of orders, which fail together when Alpaca's order service is down.
_LOOKUPS = frozenset({"order", "order_by_client_id", "orders"})


@dataclass
class Fault:
    """An injected misbehaviour for the next ``times`` requests to one endpoint."""

    endpoint: str
    status: int | None = None  # an error status; None: answer normally (after any delay)
    message: str = "internal server error"
    headers: Mapping[str, str] = field(default_factory=dict)
    times: int = 1
    after_create: bool = False
    delay: float = 0.0
    body: bytes | None = None
    hold: bool = False  # answer only once FakeAlpaca.release() is called (or the fake stops)
    lookups_fail: int = 0  # then this many order look-ups answer 503


@dataclass
class LoggedRequest:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]


def _rfc3339(ts: datetime) -> str:
    """Alpaca's style: UTC with nanoseconds."""
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"


class FakeAlpaca:
    """In-memory Alpaca; see the module docstring for its API."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.clock = clock or (lambda: datetime(2026, 1, 5, 15, 0, tzinfo=UTC))
        self.lock = threading.RLock()
        self.prices: dict[str, Decimal] = {}
        self.assets: dict[str, dict[str, Any]] = {}
        self.bars: dict[str, dict[date, Decimal]] = {}
        self.orders: dict[str, dict[str, Any]] = {}
        self.activities: list[dict[str, Any]] = []
        self.positions: dict[str, Decimal] = {}
        self.cost: dict[str, Decimal] = {}
        self.cash = Decimal("100000")
        self.multiplier = 1
        self.quotes: dict[str, tuple[Decimal, Decimal]] = {}
        self.sip_allowed = True  # False: a free plan; bars with feed=sip answer 403
        self.trading_blocked = False
        self.market_open = True
        self.next_close: datetime | None = None
        self.fill_mode = "immediate"
        self.fill_modes: dict[str, str] = {}
        self.partial_fraction = Decimal("0.5")
        self.new_status: str | None = None
        self.visible_after = timedelta(0)
        self.wash_trade_status = 403
        self.rate_limit = RATE_LIMIT
        self.rate_limit_enforced = False
        self.lookup_outage = 0
        self._window: tuple[int, int] = (0, 0)  # (minute of the fake clock, requests in it)
        self.faults: list[Fault] = []
        self.requests: list[LoggedRequest] = []
        self._server: ThreadingHTTPServer | None = None
        self._stopping = threading.Event()
        self._released = threading.Event()

    # -- life cycle --------------------------------------------------------------------
    def start(self) -> FakeAlpaca:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.01,), daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._released.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeAlpaca:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- set-up ------------------------------------------------------------------------
    def set_price(self, symbol: str, price: str | Decimal) -> None:
        self.prices[symbol] = Decimal(str(price))

    def set_quote(self, symbol: str, bid: str | Decimal, ask: str | Decimal) -> None:
        """The latest quote of a symbol (without one, bid and ask are its price)."""
        self.quotes[symbol] = (Decimal(str(bid)), Decimal(str(ask)))

    def set_asset(self, symbol: str, tradable: bool = True, fractionable: bool = True) -> None:
        self.assets[symbol] = {"tradable": tradable, "fractionable": fractionable}

    def add_bars(self, symbol: str, closes: Mapping[date, str | Decimal]) -> None:
        self.bars.setdefault(symbol, {}).update({d: Decimal(str(c)) for d, c in closes.items()})

    def inject(self, endpoint: str, **fault: Any) -> None:
        queued = Fault(endpoint, **fault)
        if queued.hold:
            self._released.clear()
        self.faults.append(queued)

    def release(self) -> None:
        """Sends every answer held by a ``hold=True`` fault (a later one holds again)."""
        self._released.set()

    def set_status(self, order_id: str, status: str) -> None:
        """Puts an order into any documented status (see :data:`ORDER_STATUSES`)."""
        if status not in ORDER_STATUSES:
            raise ValueError(f"Alpaca documents no order status {status!r}")
        with self.lock:
            self._set_status(self.orders[order_id], status)

    def count(self, method: str, path: str) -> int:
        return sum(1 for r in self.requests if r.method == method and r.path == path)

    def logged(self, path: str) -> list[LoggedRequest]:
        return [r for r in self.requests if r.path == path]

    # -- order life --------------------------------------------------------------------
    def open_market(self) -> None:
        """Opens the market and executes every order that waited for it."""
        with self.lock:
            self.market_open = True
            for order in self.orders.values():
                if order["status"] == "accepted" and not order.get("_executed"):
                    self._execute(order)

    def fill_open(self, symbol: str | None = None) -> None:
        """Fills the rest of every open order (of one symbol)."""
        with self.lock:
            for order in self.orders.values():
                if order["status"] in _OPEN and symbol in (None, order["symbol"]):
                    self._fill(order, Decimal(order["qty"]) - Decimal(order["filled_qty"]))

    def expire_open(self) -> None:
        """Ends the day: open day orders expire, keeping what filled."""
        with self.lock:
            for order in self.orders.values():
                if order["status"] in _OPEN:
                    self._set_status(order, "expired")

    def _mode(self, symbol: str) -> str:
        return self.fill_modes.get(symbol, self.fill_mode)

    def _execute(self, order: dict[str, Any]) -> None:
        order["_executed"] = True
        mode = self._mode(order["symbol"])
        qty = Decimal(order["qty"])
        if not self._meets_limit(order):
            self._set_status(order, "new")  # rests on the book until fill_open()
        elif mode == "immediate":
            self._fill(order, qty)
        elif mode == "partial":
            self._fill(order, (qty * self.partial_fraction).quantize(Decimal("1e-9")))
        elif mode == "reject":
            self._set_status(order, "rejected")
        elif mode == "expire":
            self._set_status(order, "expired")
        elif mode == "later":
            order["_fill_on_poll"] = True

    def _meets_limit(self, order: dict[str, Any]) -> bool:
        """Whether a limit order's price is met at the current price (a market order's always is)."""
        if not order["limit_price"]:
            return True
        limit, price = Decimal(order["limit_price"]), self.prices[order["symbol"]]
        return price <= limit if order["side"] == "buy" else price >= limit

    def _set_status(self, order: dict[str, Any], status: str) -> None:
        now = _rfc3339(self.clock())
        order.update({"status": status, "updated_at": now})
        if status in _STAMPS:
            order[_STAMPS[status]] = now

    def _fill(self, order: dict[str, Any], qty: Decimal) -> None:
        if qty <= 0:
            return
        symbol = order["symbol"]
        price = self.prices[symbol]
        sign = 1 if order["side"] == "buy" else -1
        filled_before = Decimal(order["filled_qty"])
        avg_before = Decimal(order["filled_avg_price"] or 0)
        filled = filled_before + qty
        avg = (avg_before * filled_before + price * qty) / filled
        held = self.positions.get(symbol, Decimal(0))
        if sign > 0:
            self.cost[symbol] = self.cost.get(symbol, Decimal(0)) + price * qty
        elif held:
            self.cost[symbol] = self.cost.get(symbol, Decimal(0)) * (held - qty) / held
        self.positions[symbol] = held + sign * qty
        self.cash -= sign * price * qty
        done = filled == Decimal(order["qty"])
        now = self.clock()
        order.update(
            {
                "filled_qty": _num(filled),
                "filled_avg_price": _num(avg.quantize(Decimal("1e-9"))),
                "status": "filled" if done else "partially_filled",
                "updated_at": _rfc3339(now),
                "filled_at": _rfc3339(now) if done else None,
            }
        )
        number = len(self.activities) + 1
        self.activities.append(
            {
                "id": f"{now:%Y%m%d%H%M%S}{number:09d}::{uuid.uuid4()}",
                "account_id": ACCOUNT_ID,
                "activity_type": "FILL",
                "transaction_time": _rfc3339(now),
                "type": "fill" if done else "partial_fill",
                "price": _num(price),
                "qty": _num(qty),
                "side": order["side"],
                "symbol": symbol,
                "leaves_qty": _num(Decimal(order["qty"]) - filled),
                "order_id": order["id"],
                "cum_qty": _num(filled),
                "order_status": order["status"],
            }
        )

    # -- request handling (called by the handler thread, under the lock) ---------------
    def handle(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        if method == "GET" and path == "/v2/account":
            return 200, self._account()
        if method == "GET" and path == "/v2/clock":
            return 200, self._clock()
        if method == "GET" and path.startswith("/v2/assets/"):
            symbol = path.rsplit("/", 1)[1]
            if symbol not in self.assets and symbol not in self.prices:
                return 404, _err(40410000, f"asset not found for {symbol}")
            facts = self.assets.get(symbol, {"tradable": True, "fractionable": True})
            return 200, {
                "id": str(uuid.uuid5(uuid.NAMESPACE_DNS, symbol)),
                "class": "us_equity",
                "exchange": "NASDAQ",
                "symbol": symbol,
                "status": "active",
                "marginable": True,
                "shortable": True,
                "easy_to_borrow": True,
                **facts,
            }
        if method == "POST" and path == "/v2/orders":
            return self._submit(body)
        if method == "GET" and path == "/v2/orders:by_client_order_id":
            for order in self._visible_orders():
                if order["client_order_id"] == query.get("client_order_id"):
                    return 200, self._poll(order)
            return 404, _err(40410000, "order not found")
        if method == "GET" and path == "/v2/orders":
            return self._list_orders(query)
        if path.startswith("/v2/orders/"):
            order = self.orders.get(path.rsplit("/", 1)[1])
            if order is None or not self._visible(order):
                return 404, _err(40410000, "order not found")
            if method == "DELETE":
                if order["status"] not in _OPEN:
                    return 422, _err(42210000, f'order is already in "{order["status"]}" state')
                self._set_status(order, "canceled")
                return 204, None
            return 200, self._poll(order)
        if method == "GET" and path == "/v2/positions":
            return 200, self._positions()
        if method == "GET" and path == "/v2/account/activities/FILL":
            return 200, self._activities(query)
        if method == "GET" and path == "/v2/stocks/trades/latest":
            return 200, self._latest(query)
        if method == "GET" and path == "/v2/stocks/quotes/latest":
            return 200, self._latest_quotes(query)
        if method == "GET" and path == "/v2/stocks/bars":
            return self._bars(query)
        return 404, _err(40410000, "endpoint not found")

    def _account(self) -> dict[str, Any]:
        value = sum((q * self.prices.get(s, Decimal(0)) for s, q in self.positions.items()), Decimal(0))
        equity = self.cash + value
        return {
            "id": ACCOUNT_ID,
            "account_number": "PA0000000",
            "status": "ACTIVE",
            "crypto_status": "ACTIVE",
            "currency": "USD",
            "cash": _num(self.cash),
            "buying_power": _num(self._buying_power()),
            "regt_buying_power": _num(self._buying_power()),
            "daytrading_buying_power": "0",
            "non_marginable_buying_power": _num(max(self.cash - self._held_by_buys(), Decimal(0))),
            "accrued_fees": "0",
            "equity": _num(equity),
            "last_equity": _num(equity),
            "portfolio_value": _num(equity),
            "long_market_value": _num(value),
            "short_market_value": "0",
            "initial_margin": _num(value * REG_T_INITIAL),
            "maintenance_margin": _num(value * MAINTENANCE),
            "last_maintenance_margin": _num(value * MAINTENANCE),
            "sma": "0",
            "multiplier": str(self.multiplier),
            "daytrade_count": 0,
            "pattern_day_trader": False,
            "shorting_enabled": self.multiplier > 1,
            "trading_blocked": self.trading_blocked,
            "transfers_blocked": False,
            "account_blocked": False,
            "trade_suspended_by_user": False,
            "created_at": "2025-06-12T22:47:07.99658Z",
        }

    def _buying_power(self) -> Decimal:
        """Alpaca's ``buying_power`` as its account docs define it, less what open buys hold.

        Multiplier 1: cash; 2 (Reg T): max(equity - initial margin, 0) x 2; 4 (day trading):
        (last equity - last maintenance margin) x 4. An open buy order holds its quantity
        left x its limit price (a market order: x the price) until it fills.
        """
        value = sum((q * self.prices.get(s, Decimal(0)) for s, q in self.positions.items()), Decimal(0))
        equity = self.cash + value
        if self.multiplier == 1:
            power = self.cash
        elif self.multiplier == 2:
            power = max(equity - value * REG_T_INITIAL, Decimal(0)) * 2
        else:
            power = max(equity - value * MAINTENANCE, Decimal(0)) * self.multiplier
        return power - self._held_by_buys()

    def _held_by_buys(self) -> Decimal:
        return sum(
            (
                (Decimal(o["qty"]) - Decimal(o["filled_qty"]))
                * (Decimal(o["limit_price"]) if o["limit_price"] else self.prices[o["symbol"]])
                for o in self.orders.values()
                if o["side"] == "buy" and o["status"] in _OPEN
            ),
            Decimal(0),
        )

    def _clock(self) -> dict[str, Any]:
        now = self.clock()
        next_close = self.next_close or (now.replace(hour=21, minute=0, second=0, microsecond=0))
        if next_close <= now:
            next_close += timedelta(days=1)
        return {
            "timestamp": now.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "is_open": self.market_open,
            "next_open": _rfc3339(next_close - timedelta(hours=6, minutes=30)),
            "next_close": _rfc3339(next_close),
        }

    def _submit(self, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict):
            return 400, _err(40010000, "request body format is invalid")
        coid = body.get("client_order_id") or str(uuid.uuid4())
        if any(o["client_order_id"] == coid for o in self.orders.values()):
            return 422, _err(40010001, DUPLICATE)
        symbol, side = body.get("symbol", ""), body.get("side")
        if symbol not in self.prices:
            return 422, _err(40010001, f"asset {symbol} not found")
        try:
            qty = Decimal(body["qty"])
        except Exception:
            return 422, _err(40010001, "qty must be given as a string number")
        if self.trading_blocked:
            return 403, _err(40310000, "account is not allowed to trade")
        for other in self.orders.values():
            if other["symbol"] == symbol and other["status"] in _OPEN and other["side"] != side:
                return self.wash_trade_status, _err(_CODES[self.wash_trade_status], WASH_TRADE)
        limit = Decimal(body["limit_price"]) if body.get("limit_price") else None
        if side == "buy" and qty * (limit or self.prices[symbol]) > self._buying_power():
            return 403, _err(40310000, BUYING_POWER)
        held = self.positions.get(symbol, Decimal(0))
        if side == "sell" and qty > held:
            return 403, _err(
                40310000, f"insufficient qty available for order (requested: {qty}, available: {held})"
            )
        now = _rfc3339(self.clock())
        order: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "client_order_id": coid,
            "created_at": now,
            "updated_at": now,
            "submitted_at": now,
            "filled_at": None,
            "expired_at": None,
            "canceled_at": None,
            "failed_at": None,
            "replaced_at": None,
            "asset_id": str(uuid.uuid5(uuid.NAMESPACE_DNS, symbol)),
            "symbol": symbol,
            "asset_class": "us_equity",
            "notional": None,
            "qty": body["qty"],
            "filled_qty": "0",
            "filled_avg_price": None,
            "order_class": "simple",
            "order_type": body.get("type", "market"),
            "type": body.get("type", "market"),
            "side": side,
            "time_in_force": body.get("time_in_force", "day"),
            "limit_price": body.get("limit_price"),
            "stop_price": None,
            "status": self.new_status or "accepted",
            "extended_hours": False,
            "legs": None,
            "trail_percent": None,
            "trail_price": None,
            "hwm": None,
            "commission": _Raw("0"),  # a JSON number, as in the real sample bodies
            "_visible_at": self.clock() + self.visible_after,
        }
        self.orders[order["id"]] = order
        if self.market_open and self.new_status is None:
            self._execute(order)
        return 200, _public(order)

    def _rate_limit_headers(self) -> tuple[dict[str, str], bool]:
        """Counts a request in the current minute; its headers, and whether it is over the limit."""
        minute = int(self.clock().timestamp()) // 60
        used = self._window[1] + 1 if self._window[0] == minute else 1
        self._window = (minute, used)
        headers = {
            "X-Ratelimit-Limit": str(self.rate_limit),
            "X-Ratelimit-Remaining": str(max(self.rate_limit - used, 0)),
            "X-Ratelimit-Reset": str((minute + 1) * 60),
        }
        return headers, self.rate_limit_enforced and used > self.rate_limit

    def _visible(self, order: dict[str, Any]) -> bool:
        visible_at: datetime = order["_visible_at"]
        return self.clock() >= visible_at

    def _visible_orders(self) -> list[dict[str, Any]]:
        return [o for o in self.orders.values() if self._visible(o)]

    def _poll(self, order: dict[str, Any]) -> dict[str, Any]:
        if order.pop("_fill_on_poll", False):
            self._fill(order, Decimal(order["qty"]))
        return _public(order)

    def _list_orders(self, query: dict[str, str]) -> tuple[int, Any]:
        status = query.get("status", "open")
        if status not in ("open", "closed", "all"):
            return 422, _err(40010001, f"invalid status {status}")
        found = [
            o
            for o in self._visible_orders()
            if status == "all" or (status == "open") == (o["status"] in _OPEN)
        ]
        if "after" in query:
            after = _parse(query["after"])
            found = [o for o in found if _parse(o["submitted_at"]) > after]
        if "until" in query:
            until = _parse(query["until"])
            found = [o for o in found if _parse(o["submitted_at"]) < until]
        found.sort(key=lambda o: o["submitted_at"], reverse=query.get("direction", "desc") == "desc")
        limit = min(int(query.get("limit", ORDERS_LIMIT_DEFAULT)), ORDERS_LIMIT_MAX)
        return 200, [self._poll(o) for o in found[:limit]]

    def _positions(self) -> list[dict[str, Any]]:
        rows = []
        for symbol, qty in sorted(self.positions.items()):
            if qty == 0:
                continue
            price = self.prices[symbol]
            rows.append(
                {
                    "asset_id": str(uuid.uuid5(uuid.NAMESPACE_DNS, symbol)),
                    "symbol": symbol,
                    "exchange": "NASDAQ",
                    "asset_class": "us_equity",
                    "qty": _num(qty),
                    "avg_entry_price": _num(
                        (self.cost.get(symbol, Decimal(0)) / qty).quantize(Decimal("1e-4"))
                    ),
                    "side": "long" if qty > 0 else "short",
                    "market_value": _num(qty * price),
                    "cost_basis": _num(self.cost.get(symbol, Decimal(0))),
                    "current_price": _num(price),
                }
            )
        return rows

    def _activities(self, query: dict[str, str]) -> list[dict[str, Any]]:
        rows = sorted(self.activities, key=lambda a: a["id"])
        if query.get("direction", "desc") == "desc":
            rows.reverse()
        if "after" in query:
            after = _parse(query["after"])
            rows = [a for a in rows if _parse(a["transaction_time"]) > after]
        token = query.get("page_token")
        if token:
            ids = [a["id"] for a in rows]
            rows = rows[ids.index(token) + 1 :] if token in ids else []
        return rows[: min(int(query.get("page_size", ACTIVITIES_PAGE_MAX)), ACTIVITIES_PAGE_MAX)]

    def _latest(self, query: dict[str, str]) -> dict[str, Any]:
        trades = {}
        for symbol in query.get("symbols", "").split(","):
            if symbol in self.prices:
                trades[symbol] = {
                    "t": _rfc3339(self.clock()),
                    "x": "V",
                    "p": _Raw(_num(self.prices[symbol])),
                    "s": 100,
                    "c": ["@"],
                    "i": 1,
                    "z": "C",
                }
        return {"trades": trades}

    def _latest_quotes(self, query: dict[str, str]) -> dict[str, Any]:
        quotes = {}
        for symbol in query.get("symbols", "").split(","):
            if symbol in self.prices:
                bid, ask = self.quotes.get(symbol, (self.prices[symbol], self.prices[symbol]))
                quotes[symbol] = {
                    "t": _rfc3339(self.clock()),
                    "ax": "V",
                    "ap": _Raw(_num(ask)),
                    "as": 1,
                    "bx": "V",
                    "bp": _Raw(_num(bid)),
                    "bs": 1,
                    "c": ["R"],
                    "z": "C",
                }
        return {"quotes": quotes}

    def _bars(self, query: dict[str, str]) -> tuple[int, Any]:
        if query.get("feed") == "sip" and not self.sip_allowed:
            return 403, {"message": SIP_REFUSAL}
        if query.get("timeframe") != "1Day":
            return 422, _err(42210000, "invalid timeframe")
        start = date.fromisoformat(query["start"][:10])
        end = date.fromisoformat(query["end"][:10]) if "end" in query else date.max
        rows = [
            (symbol, day, close)
            for symbol in query.get("symbols", "").split(",")
            for day, close in sorted(self.bars.get(symbol, {}).items())
            if start <= day <= end
        ]
        offset = int(query.get("page_token") or 0)
        limit = int(query.get("limit", "1000"))
        page = rows[offset : offset + limit]
        bars: dict[str, list[dict[str, Any]]] = {}
        for symbol, day, close in page:
            bars.setdefault(symbol, []).append(
                {
                    "t": f"{day.isoformat()}T05:00:00Z",
                    "o": _Raw(_num(close)),
                    "h": _Raw(_num(close)),
                    "l": _Raw(_num(close)),
                    "c": _Raw(_num(close)),
                    "v": 1000,
                    "n": 10,
                    "vw": _Raw(_num(close)),
                }
            )
        more = offset + limit < len(rows)
        return 200, {"bars": bars, "next_page_token": str(offset + limit) if more else None}


class _Raw(str):
    """A number written into JSON as is (the data API sends numbers, not strings)."""


def _dumps(value: Any) -> bytes:
    """JSON where :class:`_Raw` strings become bare numbers."""

    def walk(v: Any) -> str:
        if isinstance(v, _Raw):
            return str(v)
        if isinstance(v, dict):
            return "{" + ",".join(f"{json.dumps(k)}:{walk(x)}" for k, x in v.items()) + "}"
        if isinstance(v, list):
            return "[" + ",".join(walk(x) for x in v) + "]"
        return json.dumps(v)

    return walk(value).encode()


def _num(value: Decimal) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _err(code: int, message: str) -> dict[str, Any]:
    return {"code": code, "message": message}


def _public(order: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in order.items() if not k.startswith("_")}


def _parse(text: str) -> datetime:
    if len(text) == 10:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


_ENDPOINTS = (
    ("POST", "/v2/orders", "submit"),
    ("GET", "/v2/orders:by_client_order_id", "order_by_client_id"),
    ("GET", "/v2/orders", "orders"),
    ("DELETE", "/v2/orders/", "cancel"),
    ("GET", "/v2/orders/", "order"),
    ("GET", "/v2/account/activities/FILL", "activities"),
    ("GET", "/v2/account", "account"),
    ("GET", "/v2/clock", "clock"),
    ("GET", "/v2/assets/", "asset"),
    ("GET", "/v2/positions", "positions"),
    ("GET", "/v2/stocks/trades/latest", "trades_latest"),
    ("GET", "/v2/stocks/quotes/latest", "quotes_latest"),
    ("GET", "/v2/stocks/bars", "bars"),
)


def _endpoint(method: str, path: str) -> str:
    for m, prefix, name in _ENDPOINTS:
        if m == method and (path == prefix or (prefix.endswith("/") and path.startswith(prefix))):
            return name
    return ""


class _Handler(BaseHTTPRequestHandler):
    fake: FakeAlpaca
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle's algorithm on, the body then
    # waits for the client's delayed ACK (~40 ms a request on Linux).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # the test output stays clean
        return

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        fake = self.fake
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        endpoint = _endpoint(method, parts.path)
        with fake.lock:
            fake.requests.append(LoggedRequest(method, parts.path, query, body, dict(self.headers.items())))
            limits, exhausted = fake._rate_limit_headers()
            if (
                self.headers.get("APCA-API-KEY-ID") != KEY_ID
                or self.headers.get("APCA-API-SECRET-KEY") != SECRET
            ):
                self._reply(401, _err(40110000, "request is not authorized"), limits)
                return
            if exhausted:
                self._reply(429, _err(_CODES[429], "rate limit exceeded"), limits)
                return
            if endpoint in _LOOKUPS and fake.lookup_outage > 0:
                fake.lookup_outage -= 1
                self._reply(503, _err(50300000, "service unavailable"), limits)
                return
            fault = self._take_fault(endpoint)
            answer = fault is None or fault.after_create or (fault.status is None and fault.body is None)
            if answer:
                status, payload = fake.handle(method, parts.path, query, body)
        if fault is None:
            self._reply(status, payload, limits)
            return
        fake.lookup_outage += fault.lookups_fail
        if fault.status == 429:
            limits["X-Ratelimit-Remaining"] = "0"
        headers = {**limits, **fault.headers}
        if fault.delay:
            fake._stopping.wait(fault.delay)
        if fault.hold:
            fake._released.wait()
        if fault.body is not None:
            self._send(fault.status or 200, fault.body, headers)
        elif fault.status is not None:
            self._reply(fault.status, _err(fault.status * 100000, fault.message), headers)
        else:
            self._reply(status, payload, headers)

    def _take_fault(self, endpoint: str) -> Fault | None:
        for fault in self.fake.faults:
            if fault.endpoint == endpoint:
                fault.times -= 1
                if fault.times <= 0:
                    self.fake.faults.remove(fault)
                return fault
        return None

    def _reply(self, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> None:
        self._send(status, b"" if payload is None else _dumps(payload), headers or {})

    def _send(self, status: int, data: bytes, headers: Mapping[str, str]) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
            pass


@pytest.fixture
def fake_alpaca() -> Iterator[FakeAlpaca]:
    """A started fake; import this fixture into a conftest (or a test module) to use it."""
    with FakeAlpaca() as fake:
        yield fake
