"""Planning a run: each portfolio's money and targets to planned orders, against the broker's prices."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from decimal import ROUND_CEILING, Decimal

from pas.domain.broker import Account, Asset, Quote
from pas.errors import InputError, RefusedError
from pas.models import AppliedAllocation, CashFlow, Portfolio, Price
from pas.portfolio.account import PortfolioAccount, portfolio_account, stored_accounts
from pas.portfolio.broker.base import Broker
from pas.portfolio.costs import NO_COSTS, CostModel
from pas.portfolio.ledger import Book, build_book
from pas.portfolio.rebalance import Plan, plan_rebalance
from pas.portfolio.trading.collar import check_collar, reference_prices
from pas.portfolio.trading.limits import TradingLimits
from pas.portfolio.transfers import CENT, balance_transfers
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


def check_bound(portfolios: Sequence[Portfolio], broker: str) -> None:
    """Refuses portfolios bound to another broker (each trades through the one it was added
    with, so no simulated fill reaches a real ledger, or hides a real position).

    Raises:
        InputError: a portfolio is bound to another broker; the message names the fix.
    """
    for p in portfolios:
        if p.broker != broker:
            raise InputError(
                f"portfolio {p.id} trades through {p.broker}, not {broker}; run with --broker {p.broker} "
                f"(or PAS_BROKER={p.broker}), or add a new portfolio with --broker {broker}"
            )


def allocated_capital(
    store: Store, broker: Broker, portfolios: Sequence[Portfolio]
) -> tuple[dict[str, Decimal], AppliedAllocation | None, Account | None]:
    """Dollars the latest applied allocation gives each portfolio it names, with that
    allocation and the broker account whose equity it was applied to.

    A portfolio's capital is account equity × exposure × its relative weight; this takes
    precedence over the portfolio's own capital and cash flows. Portfolios the allocation
    does not name (or every portfolio, when none was applied) are left out, and keep
    their own capital. The account is asked for its equity only when needed.
    """
    allocation = store.latest_allocation()
    if allocation is None or not any(p.id in allocation.weights for p in portfolios):
        return {}, None, None
    account = broker.account()
    found = {p.id: allocation.capital(p.id, account.equity) for p in portfolios}
    return {pid: capital for pid, capital in found.items() if capital is not None}, allocation, account


def _pool_gap(
    store: Store, broker: Broker, allocation: AppliedAllocation, account: Account, books: Mapping[str, Book]
) -> tuple[Decimal, Decimal]:
    """(surplus, deficit) of the account's pool against its target, in dollars.

    The pool is the broker's cash less the ledger cash of every portfolio: money that
    belongs to no portfolio. Its target is the account's equity less what the allocation
    gives the portfolios it names, less the equity of those it does not name (see
    :mod:`pas.portfolio.transfers`). Its surplus is capped at the cash it has. ``account``:
    the broker account the allocation was applied to (asked once per plan); ``books``: the
    ledger books already built (the run's own), built again for no other portfolio.
    """
    equity = account.equity
    owned, target = Decimal(0), equity
    unnamed: dict[str, Decimal] = defaultdict(Decimal)
    for p in store.list_portfolios():
        flows = store.cash_flows(p.id)
        book = books[p.id] if p.id in books else build_book(store.ledger_fold(p.id))
        capital = allocation.capital(p.id, equity)
        cash = Decimal(0)
        if p.capital is not None or flows:
            cash = (p.capital or Decimal(0)) + sum((f.amount for f in flows), Decimal(0)) - book.net_invested
        owned += cash
        if capital is not None:
            target -= capital
            continue
        target -= cash
        for symbol, position in book.positions.items():
            unnamed[symbol] += position.qty
    prices = broker.latest_prices(sorted(unnamed)) if unnamed else {}
    target -= sum((q * prices.get(s, Decimal(0)) for s, q in unnamed.items()), Decimal(0))
    pool = account.cash - owned
    return min(max(pool - target, Decimal(0)), max(pool, Decimal(0))), max(target - pool, Decimal(0))


def _sized_cash(
    store: Store,
    broker: Broker,
    portfolios: Sequence[Portfolio],
    accounts: dict[str, PortfolioAccount],
    books: Mapping[str, Book],
    targets: dict[str, Mapping[str, float]],
    costs: CostModel,
    transfers: dict[str, Decimal],
) -> tuple[dict[str, Decimal], set[str]]:
    """The cash each portfolio is planned with, and the portfolios the allocation names;
    fills ``transfers`` (see :func:`plan_portfolios`).

    A portfolio the allocation does not name has its ledger cash. One it names and that
    gives is planned at its allocated equity (its sells come first and free what it
    gives); one that receives has its ledger cash plus what it receives; one allocated
    nothing closes every position and gives what the sales bring in, less their costs.
    """
    allocated, allocation, at_broker = allocated_capital(store, broker, portfolios)
    cash = {p.id: portfolio_cash(accounts[p.id]) for p in portfolios if p.id not in allocated}
    wanted, closing = {}, set()
    for pid, capital in sorted(allocated.items()):
        account = accounts[pid]
        own = account.cash or Decimal(0)
        if capital > 0:
            have = own + sum(account.values.values(), Decimal(0))
        else:
            targets[pid] = {}  # no capital: close every position, give what that brings in
            closing.add(pid)
            capital = Decimal(0)
            have = own + sum(
                (
                    v - costs.bound(account.positions[s].qty, v / account.positions[s].qty)
                    for s, v in account.values.items()
                ),
                Decimal(0),
            )
        wanted[pid] = (capital - have).quantize(CENT, rounding=ROUND_CEILING)
    if allocation is not None and at_broker is not None:
        transfers.update(balance_transfers(wanted, *_pool_gap(store, broker, allocation, at_broker, books)))
    for pid, want in wanted.items():
        own = accounts[pid].cash or Decimal(0)
        if pid in closing:
            cash[pid] = own  # it sells everything, then gives what that brought in
        else:
            cash[pid] = own + (want if want < 0 else transfers.get(pid, Decimal(0)))
    return cash, set(allocated)


def _market(
    broker: Broker, symbols: Sequence[str]
) -> tuple[dict[str, Decimal], dict[str, Quote], dict[str, Decimal]]:
    """The last trades, quotes and reference prices (dollars) of ``symbols``.

    Raises:
        InputError: a symbol has no price; the message names the broker's fix.
    """
    trades = broker.latest_prices(symbols)
    unpriced = [s for s in symbols if s not in trades]
    if unpriced:
        raise InputError(f"no price for {unpriced[0]}: {broker.missing_price_hint(unpriced[0])}")
    quotes = broker.latest_quotes(symbols)
    return trades, quotes, reference_prices(trades, quotes)


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
        transfers: filled with the dollars each allocated portfolio receives (or gives,
            when negative) toward its allocated capital: only money that is free moves,
            and the transfers sum to zero but for what the account's pool gives or takes
            (:mod:`pas.portfolio.transfers`). The caller records them as cash flows when
            it trades, so that money moved between portfolios by the allocation is never
            counted as a portfolio's return.

    Prices are the reference prices of :mod:`pas.portfolio.trading.collar` (quote
    midpoints), and every ordered symbol's is checked against the collar.

    Returns:
        The plans, and per ordered symbol whether it is fractionable.

    Raises:
        InputError: a portfolio has no targets, no capital or a symbol has no price.
        RefusedError: a symbol is not tradable, or its price is outside the collar.
    """
    transfers = {} if transfers is None else transfers
    books, targets = {}, {}
    for p in portfolios:
        weights = store.current_weights(p.id)
        if weights is None:
            raise InputError(
                f"portfolio {p.id} has no target weights; set them with "
                f"`pas portfolio set-weights {p.id} SYMBOL=WEIGHT...`"
            )
        targets[p.id] = weights.weights
        books[p.id] = build_book(store.ledger_fold(p.id))
    symbols = sorted(
        {s for b in books.values() for s in b.positions} | {s for t in targets.values() for s in t}
    )
    trades, quotes, prices = _market(broker, symbols)
    today = market_day(store.clock())  # the broker's prices are today's
    quoted = {s: Price(s, today, price) for s, price in prices.items()}
    accounts = {p.id: portfolio_account(p, store.cash_flows(p.id), books[p.id], quoted) for p in portfolios}
    costs: CostModel = getattr(broker, "costs", NO_COSTS)  # the sim broker models its costs
    cash, allocated = _sized_cash(store, broker, portfolios, accounts, books, targets, costs, transfers)
    plans, assets = _plan_with_assets(
        broker, portfolios, books, targets, prices, cash, allocated, limits, costs
    )
    ordered = sorted({o.symbol for plan in plans for o in plan.orders})
    untradable = [s for s in ordered if not assets[s].tradable and any(targets[p].get(s) for p in targets)]
    if untradable:
        raise RefusedError(
            f"{', '.join(untradable)} cannot be traded at the broker; remove them from the targets"
        )
    closes = {s: p.close for s, p in store.latest_prices(ordered, on_or_before=today).items()}
    check_collar(ordered, trades, quotes, closes, limits.price_collar)
    fractionable = {s: assets[s].fractionable for s in ordered}
    return plans, fractionable


def _plan_with_assets(
    broker: Broker,
    portfolios: Sequence[Portfolio],
    books: dict[str, Book],
    targets: dict[str, Mapping[str, float]],
    prices: dict[str, Decimal],
    cash: dict[str, Decimal],
    allocated: set[str],
    limits: TradingLimits,
    costs: CostModel,
) -> tuple[list[Plan], dict[str, Asset]]:
    """Plans every portfolio, looking asset facts up only for the symbols that get ordered.

    It plans with what is known (unknown symbols as fractionable, which orders at least as
    much as whole shares would), looks up the ordered symbols still unknown, and plans again
    until every ordered symbol is known. A pass is pure, so when every symbol looked up is
    fractionable, as assumed, the next pass would plan the same and the plans stand: one
    pass when every ordered symbol is fractionable (as at a Sim broker that trades fractions). A portfolio the
    allocation funds with nothing yet (its givers were refused) has no plan.

    Returns:
        The plans, and the asset facts of every ordered symbol.
    """
    symbols = sorted(prices)
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
                costs,
            )
            if books[p.id].positions or cash[p.id] > 0 or p.id not in allocated
            else Plan(p.id, Decimal(0), Decimal(0))
            for p in portfolios
        ]
        unknown = sorted({o.symbol for plan in plans for o in plan.orders} - assets.keys())
        if not unknown:
            return plans, assets
        found = {s: broker.asset(s) for s in unknown}
        assets.update(found)
        if all(a.fractionable for a in found.values()):
            return plans, assets


def record_transfers(store: Store, run_id: str, transfers: dict[str, Decimal]) -> None:
    """Records allocation transfers as cash flows, once per run and portfolio (the flow id
    is derived from both, so a resumed or repeated call adds nothing)."""
    when = store.clock()
    for pid, amount in sorted(transfers.items()):
        store.add_cash_flow(CashFlow(pid, amount, when, f"alloc-{run_id}-{pid}", note="allocation"))


def other_books_equity(store: Store, broker: str, portfolios: Sequence[Portfolio]) -> Decimal:
    """The equity of the portfolios bound to ``broker`` that this run does not trade, at the
    latest stored closes: together with the run's own books it must fit the account's equity
    (see :func:`pas.portfolio.trading.limits.check_buying_power`). A book holding a symbol
    without a stored close counts at the dollars put in (capital plus cash flows).

    Raises:
        RefusedError: such a book has neither a value nor any dollars put in (a ledger of
            imported fills only), so whether the account carries every book is unknown.
    """
    traded = {p.id for p in portfolios}
    others = [p for p in store.list_portfolios() if p.broker == broker and p.id not in traded]
    total = Decimal(0)
    for account in stored_accounts(store, others):
        value = account.equity if account.equity is not None else account.funded
        if value is None and account.positions:
            raise RefusedError(
                f"portfolio {account.portfolio}'s equity is unknown (no capital, and no close for "
                f"{', '.join(account.unpriced)}), so pas cannot tell whether the account carries "
                "every portfolio without margin; run `pas prices fetch`, or set ALLOW_MARGIN=1"
            )
        total += value or Decimal(0)
    return total
