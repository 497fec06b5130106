"""Planning a run: each portfolio's money and targets to planned orders, against the broker's prices."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from pas.domain.broker import Asset
from pas.errors import InputError, RefusedError
from pas.models import CashFlow, Portfolio, Price
from pas.portfolio.account import PortfolioAccount, portfolio_account
from pas.portfolio.broker.base import Broker
from pas.portfolio.ledger import build_book
from pas.portfolio.rebalance import Plan, plan_rebalance
from pas.portfolio.trading.limits import TradingLimits
from pas.schedule import market_day
from pas.store.base import Store


def portfolio_cash(account: PortfolioAccount) -> Decimal:
    """A portfolio's cash in dollars, by the one account model.

    Raises:
        InputError: the portfolio has neither capital nor cash flows.
    """
    if account.cash is None:
        raise InputError(
            f"portfolio {account.portfolio} has no capital; give it some with "
            f"`pas portfolio fund {account.portfolio} AMOUNT`"
        )
    return account.cash


def allocated_capital(store: Store, broker: Broker, portfolios: Sequence[Portfolio]) -> dict[str, Decimal]:
    """Dollars the latest applied allocation gives each portfolio it names.

    A portfolio's capital is account equity × exposure × its relative weight; this takes
    precedence over the portfolio's own capital and cash flows. Portfolios the allocation
    does not name (or every portfolio, when none was applied) are left out, and keep
    their own capital. The account is asked for its equity only when needed.
    """
    allocation = store.latest_allocation()
    if allocation is None or not any(p.id in allocation.weights for p in portfolios):
        return {}
    equity = broker.account().equity
    found = {p.id: allocation.capital(p.id, equity) for p in portfolios}
    return {pid: capital for pid, capital in found.items() if capital is not None}


def _cash_to_plan(
    account: PortfolioAccount, capital: Decimal | None, transfers: dict[str, Decimal]
) -> Decimal:
    """The cash a portfolio plans with, in dollars: its own, or what its allocated capital
    leaves beside its holdings (recording in ``transfers`` the money the allocation moves)."""
    if capital is None:
        return portfolio_cash(account)
    # Sized by the applied allocation: equity (cash + holdings) is the allocated capital.
    held = sum(account.values.values(), Decimal(0))
    ledger_equity = (account.cash or Decimal(0)) + held
    moved = (max(capital, Decimal(0)) - ledger_equity).quantize(Decimal("0.01"))
    if moved:
        transfers[account.portfolio] = moved
    return capital - held if capital > 0 else Decimal(0)


def plan_portfolios(
    store: Store,
    broker: Broker,
    portfolios: Sequence[Portfolio],
    limits: TradingLimits,
    transfers: dict[str, Decimal] | None = None,
) -> tuple[list[Plan], dict[str, bool]]:
    """Plans every portfolio against the broker's prices and asset facts.

    A portfolio's equity is its allocated capital when an applied allocation names it
    (:func:`allocated_capital`), else its own capital plus cash flows plus P&L.

    Args:
        transfers: filled with the dollars each allocated portfolio must receive (or give,
            when negative) for its ledger equity to equal its allocated capital. The caller
            records them as cash flows when it trades, so that money moved between
            portfolios by the allocation is never counted as a portfolio's return.

    Returns:
        The plans, and per ordered symbol whether it is fractionable.

    Raises:
        InputError: a portfolio has no targets, no capital or a symbol has no price.
        RefusedError: a symbol is not tradable.
    """
    if transfers is None:
        transfers = {}
    books, targets = {}, {}
    for p in portfolios:
        weights = store.current_weights(p.id)
        if weights is None:
            raise InputError(
                f"portfolio {p.id} has no target weights; set them with "
                f"`pas portfolio set-weights {p.id} SYMBOL=WEIGHT...`"
            )
        targets[p.id] = weights.weights
        books[p.id] = build_book(store.ledger(p.id))
    symbols = sorted(
        {s for b in books.values() for s in b.positions} | {s for t in targets.values() for s in t}
    )
    prices = broker.latest_prices(symbols)
    today = market_day(store.clock())  # the broker's prices are today's
    quoted = {s: Price(s, today, price) for s, price in prices.items()}
    accounts = {p.id: portfolio_account(p, store.cash_flows(p.id), books[p.id], quoted) for p in portfolios}
    allocated = allocated_capital(store, broker, portfolios)
    cash = {p.id: _cash_to_plan(accounts[p.id], allocated.get(p.id), transfers) for p in portfolios}
    for pid, capital in allocated.items():
        if capital <= 0:
            targets[pid] = {}  # no capital: close every position
    # Asset facts are looked up only for symbols that end up ordered, once each: plan with
    # what is known (unknown symbols as fractionable, which orders at least as much as
    # whole shares would), look up the ordered symbols still unknown, and plan again until
    # every ordered symbol is known. Usually two passes; each pass is pure and fast.
    assets: dict[str, Asset] = {}
    while True:
        fractionable = {s: assets[s].fractionable if s in assets else True for s in symbols}
        plans = [
            plan_rebalance(
                p.id,
                {s: pos.qty for s, pos in books[p.id].positions.items()},
                targets[p.id],
                prices,
                cash[p.id],
                fractionable,
                limits.rules,
            )
            if books[p.id].positions or allocated.get(p.id, 1) > 0
            else Plan(p.id, Decimal(0), Decimal(0))
            for p in portfolios
        ]
        ordered = sorted({o.symbol for plan in plans for o in plan.orders})
        unknown = [s for s in ordered if s not in assets]
        if not unknown:
            break
        assets.update((s, broker.asset(s)) for s in unknown)
    untradable = [s for s in ordered if not assets[s].tradable and any(targets[p].get(s) for p in targets)]
    if untradable:
        raise RefusedError(
            f"{', '.join(untradable)} cannot be traded at the broker; remove them from the targets"
        )
    fractionable = {s: assets[s].fractionable for s in ordered}
    return plans, fractionable


def record_transfers(store: Store, run_id: str, transfers: dict[str, Decimal]) -> None:
    """Records allocation transfers as cash flows, once per run and portfolio (the flow id
    is derived from both, so a resumed or repeated call adds nothing)."""
    when = store.clock()
    for pid, amount in sorted(transfers.items()):
        store.add_cash_flow(CashFlow(pid, amount, when, f"alloc-{run_id}-{pid}", note="allocation"))
