"""``pas risk``: exposures, VaR/CVaR, and the circuit breaker."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pas.commands._app import (
    AppState,
    JsonOption,
    dollars,
    money,
    percent,
    print_json,
    print_table,
    say,
    state,
    warn,
)
from pas.commands._wiring import BrokerName, chosen_broker, make_broker
from pas.errors import InputError

if TYPE_CHECKING:
    from pas.models import BreakerState
    from pas.risk.books import BookView
    from pas.risk.exposure import Exposure

app = typer.Typer(
    help="Risk: exposures, value at risk, and the circuit breaker.\n\nExample: pas risk status",
    no_args_is_help=True,
)

IdArgument = Annotated[
    str | None, typer.Argument(metavar="ID", help="Portfolio id (default: every portfolio and the account).")
]


def _books(ctx: typer.Context, portfolio_id: str | None) -> list[BookView]:
    """The books asked for, valued at the latest closes; stale closes are warned of on stderr."""
    from pas.risk.books import account_book, load_books

    app_state = state(ctx)
    if portfolio_id is not None:
        books = load_books(app_state.store, [app_state.portfolio(portfolio_id)])
    else:
        books = load_books(app_state.store, app_state.store.list_portfolios())
        books = [*books, account_book(books)]
    _stale_warning(app_state, books)
    return books


def _stale_warning(app_state: AppState, books: list[BookView]) -> None:
    from pas.freshness import describe, stale_closes
    from pas.schedule import market_day

    store, max_days = app_state.store, app_state.settings.data.price_max_stale_days
    held = sorted({s for b in books for s in b.quantities})
    newest = {s: p.day for s, p in store.latest_prices(held).items()}
    today = market_day(store.clock())
    stale = stale_closes(newest, today, max_days)
    if stale:
        warn(f"valued at stale closes: {describe(stale, today, max_days)}; run `pas prices fetch`")


def _ratio(value: float | None) -> str:
    return "" if value is None or math.isnan(value) else percent(value, 1)


def _unpriced_note(books: list[BookView]) -> None:
    missing = sorted({s for b in books for s in b.unpriced})
    if missing:
        say(
            f"no stored close for {', '.join(missing)}: the equity of the books holding it is "
            "unknown; run `pas prices fetch`"
        )


@app.command("exposure")
def exposure(ctx: typer.Context, portfolio_id: IdArgument = None, as_json: JsonOption = False) -> None:
    """Gross, net, long and cash exposure, largest positions and concentration.

    Fractions are of equity; Herfindahl (HHI) is Σw² over the positions' shares of their
    gross value (1 / HHI is the effective number of positions).

    Example: pas risk exposure lobby --json
    """
    from pas.risk.exposure import exposure as measure

    books = _books(ctx, portfolio_id)
    results: list[tuple[BookView, Exposure | None]] = []
    for b in books:
        equity = b.equity if b.equity is not None and b.equity > 0 else None
        if equity is None and b.cash is None:  # no money: fractions of the gross value
            total = sum((abs(v) for v in b.values.values()), Decimal(0))
            equity = total if total > 0 else None
        results.append((b, None if equity is None else measure(b.values, equity, b.cash)))
    if as_json:
        print_json([_exposure_json(b, e) for b, e in results])
        return
    _exposure_table(results)
    book, largest = results[-1]
    if largest is not None and largest.largest:
        print_table(
            f"Largest positions of {book.name}",
            ["symbol", "market value", "weight"],
            [(h.symbol, money(h.market_value), _ratio(h.weight)) for h in largest.largest],
            right=["market value", "weight"],
        )
    _unpriced_note(books)


def _exposure_json(book: BookView, e: Exposure | None) -> dict[str, Any]:
    found: dict[str, Any] = {"book": book.name, "unpriced": list(book.unpriced)}
    if e is None:
        return found
    return found | {
        "equity": e.equity,
        "cash": e.cash,
        "gross": e.gross,
        "net": e.net,
        "long": e.long,
        "short": e.short,
        "cash_fraction": e.cash_fraction,
        "top5": e.top5,
        "herfindahl": e.herfindahl,
        "positions": e.positions,
        "largest": [
            {"symbol": h.symbol, "market_value": h.market_value, "weight": h.weight} for h in e.largest
        ],
    }


def _exposure_table(results: list[tuple[BookView, Exposure | None]]) -> None:
    print_table(
        "Exposure (fractions of equity)",
        ["book", "equity", "cash", "gross", "net", "long", "top 5", "HHI", "positions"],
        [
            (b.name, "", "", "", "", "", "", "", len(b.quantities))
            if e is None
            else (
                b.name,
                money(e.equity),
                _ratio(e.cash_fraction),
                _ratio(e.gross),
                _ratio(e.net),
                _ratio(e.long),
                _ratio(e.top5),
                "" if math.isnan(e.herfindahl) else f"{e.herfindahl:.3f}",
                e.positions,
            )
            for b, e in results
        ],
        right=["equity", "cash", "gross", "net", "long", "top 5", "HHI", "positions"],
    )


@app.command("var")
def var(
    ctx: typer.Context,
    portfolio_id: IdArgument = None,
    confidence: Annotated[
        float | None,
        typer.Option(help="Confidence level such as 0.95 or 0.99 (default: both)."),
    ] = None,
    days: Annotated[int, typer.Option(min=1, help="Horizon in days (1-day figure × √days).")] = 1,
    lookback: Annotated[
        int, typer.Option(min=2, help="Days of history used (daily returns and closes).")
    ] = 756,
    as_json: JsonOption = False,
) -> None:
    """Historical VaR and CVaR: realised (daily returns) and of today's holdings (closes).

    Losses are positive fractions of equity and dollars; N days scale by √N.

    Example: pas risk var --confidence 0.99 --days 10
    """
    from pas.analytics.losses import VAR_CAPTION
    from pas.risk.var import CONFIDENCES, book_vars, check_confidence

    levels = CONFIDENCES if confidence is None else (check_confidence(confidence),)
    books = _books(ctx, portfolio_id)
    rows = book_vars(state(ctx).store, books, levels, days, lookback)
    if as_json:
        print_json(
            [
                {
                    "book": r.book,
                    "source": r.source,
                    "confidence": r.estimate.confidence,
                    "days": r.estimate.days,
                    "observations": r.estimate.observations,
                    "equity": r.estimate.equity,
                    "var": r.estimate.var,
                    "cvar": r.estimate.cvar,
                    "var_dollars": dollars(r.estimate.var_dollars),
                    "cvar_dollars": dollars(r.estimate.cvar_dollars),
                }
                for r in rows
            ]
        )
        return
    print_table(
        f"Historical VaR and CVaR, {days}-day{' (√N rule)' if days > 1 else ''}",
        ["book", "source", "confidence", "days used", "VaR", "VaR $", "CVaR", "CVaR $"],
        [
            (
                r.book,
                r.source,
                f"{r.estimate.confidence * 100:g}%",
                r.estimate.observations,
                _ratio(r.estimate.var),
                _dollars(r.estimate.var_dollars),
                _ratio(r.estimate.cvar),
                _dollars(r.estimate.cvar_dollars),
            )
            for r in rows
        ],
        right=["days used", "VaR", "VaR $", "CVaR", "CVaR $"],
        caption=VAR_CAPTION,
    )
    _unpriced_note(books)


def _dollars(value: float) -> str:
    return "" if math.isnan(value) else f"{value:,.2f}"


def _state_json(s: BreakerState) -> dict[str, Any]:
    return {
        "tripped": s.tripped,
        "reason": s.reason or None,
        "since": s.since,
        "high_water_mark": s.high_water_mark,
        "hwm_at": s.hwm_at,
        "last_equity": s.last_equity,
        "last_equity_at": s.last_equity_at,
        "previous_day_equity": s.prev_equity,
        "previous_day_equity_at": s.prev_equity_at,
        "reset_at": s.reset_at,
        "reset_reason": s.reset_reason or None,
    }


def _limit(value: Decimal) -> str:
    return percent(value, 1) if value else "off"


def _when(value: Any) -> str:
    return "" if value is None else f"{value:%Y-%m-%d %H:%M} UTC"


@app.command("status")
def status(
    ctx: typer.Context,
    update: Annotated[
        bool, typer.Option("--update", help="Observe the account equity at the broker first.")
    ] = False,
    broker: Annotated[
        BrokerName | None,
        typer.Option(
            "--broker", help="Broker whose equity --update observes. Default: PAS_BROKER, else alpaca."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """The circuit breaker: tripped or not, why and since when, the high-water mark.

    Example: pas risk status --update --broker sim
    """
    from pas.risk.breaker import observe_equity

    app_state = state(ctx)
    store = app_state.store
    limits = app_state.settings.breaker.limits()
    if update:
        equity = make_broker(app_state, chosen_broker(app_state, broker)).account().equity
        current = observe_equity(store, equity, store.clock(), limits)
    else:
        current = store.breaker_state()
    if as_json:
        print_json(
            {
                **_state_json(current),
                # JSON numbers, as they have always been (fractions of equity).
                "max_drawdown": float(limits.max_drawdown),
                "max_daily_loss": float(limits.max_daily_loss),
            }
        )
        return
    if current.tripped:
        say(f"circuit breaker TRIPPED since {_when(current.since)}: {current.reason}")
        say("trading is refused (exit 3); clear it with `pas risk reset --reason TEXT`")
    else:
        say("circuit breaker: ok (trading allowed)")
    print_table(
        None,
        ["", "value", "at"],
        [
            ("high-water mark", money(current.high_water_mark), _when(current.hwm_at)),
            ("last equity", money(current.last_equity), _when(current.last_equity_at)),
            ("previous day's equity", money(current.prev_equity), _when(current.prev_equity_at)),
            ("BREAKER_MAX_DRAWDOWN", _limit(limits.max_drawdown), ""),
            ("BREAKER_MAX_DAILY_LOSS", _limit(limits.max_daily_loss), ""),
            ("last reset", current.reset_reason, _when(current.reset_at)),
        ],
        right=["value"],
    )


@app.command("reset")
def reset(
    ctx: typer.Context,
    reason: Annotated[str, typer.Option("--reason", help="Why trading may resume (recorded).")],
    rebase: Annotated[
        bool,
        typer.Option(
            "--rebase-high-water-mark",
            help="Also set the high-water mark to the last observed equity (recorded).",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Clear a tripped circuit breaker; the reason and time are recorded as a run.

    The high-water mark stays unless --rebase-high-water-mark: while equity is still more
    than BREAKER_MAX_DRAWDOWN below it, the next check trips again.

    Example: pas risk reset --reason "reviewed the drawdown; strategies unchanged"
    """
    from pas.risk.breaker import RESET_COMMAND, reset_breaker

    app_state = state(ctx)
    text = " ".join(reason.split())
    if not text:  # refused before a run is recorded: bad input writes nothing
        raise InputError("a reset needs a reason: pas risk reset --reason TEXT")
    store = app_state.store
    with app_state.run(RESET_COMMAND, reason=text) as handle:
        before, after = reset_breaker(store, reason, store.clock(), rebase=rebase)
        handle.details.update(
            was_tripped=before.tripped,
            tripped_reason=before.reason,
            high_water_mark=str(after.high_water_mark) if after.high_water_mark is not None else None,
        )
        if rebase:
            handle.details["previous_high_water_mark"] = (
                str(before.high_water_mark) if before.high_water_mark is not None else None
            )
    if as_json:
        print_json(
            {
                "run_id": handle.run_id,
                "was_tripped": before.tripped,
                "rebased": rebase,
                "previous_high_water_mark": before.high_water_mark,
                "breaker": _state_json(after),
            }
        )
        return
    if before.tripped:
        say(f"cleared the tripped circuit breaker (reason: {after.reset_reason})")
    else:
        say(f"the circuit breaker was not tripped; reset recorded (reason: {after.reset_reason})")
    if rebase:
        say(f"high-water mark rebased from {money(before.high_water_mark)} to {money(after.high_water_mark)}")
    else:
        say(f"high-water mark stays at {money(after.high_water_mark)}")
