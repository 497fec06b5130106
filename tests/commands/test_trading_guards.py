"""Issue 12's guards through the CLI against the fake Alpaca: no silent margin, the price
collar, the broker binding and the smaller defects."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

from pas.models import UNITS_PER_ONE, Price, Side, TradeOrder, TradeRun
from pas.store.sqlite import SqliteStore
from tests.commands.test_trading_alpaca import Pas, _posted, pas, waits
from tests.fakes.alpaca import FakeAlpaca, fake_alpaca

__all__ = ["fake_alpaca", "pas", "waits"]


CAPITAL_REFUSAL = (
    "error: the portfolios' capital ($160,000.00, every portfolio on this broker) exceeds the account's "
    "equity ($100,000.00); lower their capital or `pas allocate --apply`, or set ALLOW_MARGIN=1 to trade "
    "on margin\n"
)


def _only_new_books(pas: Pas) -> None:
    """Removes the fixture's books: every portfolio on the broker counts against its equity."""
    for pid in ("lobby", "gov"):
        assert pas("portfolio", "remove", pid).exit_code == 0


def _margin_account(pas: Pas, fake: FakeAlpaca) -> None:
    """The issue's case: $100k cash, 2x margin, two portfolios of $80k at 90% invested."""
    fake.cash = Decimal(100_000)
    fake.multiplier = 2
    _only_new_books(pas)
    for pid in ("pa", "pb"):
        assert pas("portfolio", "add", pid, "--capital", "80000").exit_code == 0
        assert pas("portfolio", "set-weights", pid, "AAA=0.45", "BBB=0.45").exit_code == 0


def test_buys_beyond_the_accounts_cash_are_refused_without_margin(pas: Pas, fake_alpaca: FakeAlpaca) -> None:
    _margin_account(pas, fake_alpaca)
    # The books fit the equity (a $170,000 holding by hand), but their buys need more than the
    # $30,000 cash; the buying power (margin) would allow them.
    fake_alpaca.cash = Decimal(30_000)
    fake_alpaca.set_price("CCC", "100")
    fake_alpaca.positions["CCC"] = Decimal(1_700)
    result = pas("rebalance", "-p", "pa")
    assert result.exit_code == 3, result.output
    assert "ALLOW_MARGIN=1 allows borrowing" in result.output
    assert fake_alpaca.orders == {}


def test_books_traded_in_separate_runs_are_summed_against_the_account(
    pas: Pas, fake_alpaca: FakeAlpaca
) -> None:
    # Issue 12: two $80,000 books on a $100,000 account, each traded alone at a low weight,
    # passed one by one; the books on this broker the run does not trade count too.
    _margin_account(pas, fake_alpaca)
    for pid in ("pa", "pb"):
        assert pas("portfolio", "set-weights", pid, "AAA=0.05").exit_code == 0
    alone = pas("rebalance", "-p", "pa")
    assert (alone.exit_code, alone.output) == (3, CAPITAL_REFUSAL)
    assert fake_alpaca.orders == {}
    assert pas("rebalance", "-p", "pa", ALLOW_MARGIN="1").exit_code == 0


def test_portfolios_sized_beyond_the_account_are_refused_even_when_the_buys_fit(
    pas: Pas, fake_alpaca: FakeAlpaca
) -> None:
    _margin_account(pas, fake_alpaca)
    for pid in ("pa", "pb"):
        assert pas("portfolio", "set-weights", pid, "AAA=0.05").exit_code == 0
    both = pas("rebalance", "-p", "pa", "-p", "pb", "--dry-run")
    assert (both.exit_code, both.output) == (3, CAPITAL_REFUSAL)
    assert pas("rebalance", "-p", "pa", "-p", "pb", "--dry-run", ALLOW_MARGIN="1").exit_code == 0


def test_allow_margin_lets_the_buys_borrow(pas: Pas, fake_alpaca: FakeAlpaca) -> None:
    _margin_account(pas, fake_alpaca)
    fake_alpaca.multiplier = 4  # each order is checked against what is left after the last
    result = pas("rebalance", "-p", "pa", "-p", "pb", ALLOW_MARGIN="1")
    assert result.exit_code == 0, result.output
    assert fake_alpaca.cash < 0  # borrowed, as the user asked


def test_a_portfolio_trades_only_through_the_broker_it_was_added_with(
    pas: Pas, fake_alpaca: FakeAlpaca, tmp_path: Path
) -> None:
    # Issue 12: `pas rebalance -p pa --broker sim` (the README's own example) booked sim fills
    # into the ledger an Alpaca run then trusted.
    wrong = pas("rebalance", "-p", "lobby", "--broker", "sim")
    assert (wrong.exit_code, wrong.output) == (
        2,
        "error: portfolio lobby trades through alpaca, not sim; run with --broker alpaca "
        "(or PAS_BROKER=alpaca), or add a new portfolio with --broker sim\n",
    )
    assert pas("portfolio", "add", "paper", "--capital", "1000", "--broker", "sim").exit_code == 0
    listed = json.loads(pas("portfolio", "list", "--json").output)
    assert {p["id"]: p["broker"] for p in listed} == {"gov": "alpaca", "lobby": "alpaca", "paper": "sim"}
    assert pas("rebalance", "-p", "paper").exit_code == 2  # PAS_BROKER unset: alpaca


def test_a_dead_sim_run_is_never_resumed_through_alpaca(
    pas: Pas, fake_alpaca: FakeAlpaca, tmp_path: Path
) -> None:
    # Issue 12: unfinished_trade_run() ignored the broker, so a `--broker sim` run that died
    # was resumed by the next plain `pas rebalance` and its orders went to Alpaca.
    assert pas("portfolio", "add", "paper", "--capital", "1000", "--broker", "sim").exit_code == 0
    assert pas("portfolio", "set-weights", "paper", "AAA=0.5").exit_code == 0
    with SqliteStore(tmp_path / "pas.db") as store:
        run = TradeRun("260105150000dead", store.clock(), "sim", ("paper",))
        units = 50 * UNITS_PER_ONE
        coid = "pas-260105150000dead-paper-AAA"
        order = TradeOrder(
            run.run_id, coid, 0, "AAA", Side.BUY, units, Decimal(10), True, (("paper", units),)
        )
        store.create_trade_run(run, [order])
    result = pas("rebalance", "-p", "gov", "--json")
    assert result.exit_code == 0, result.output
    assert _posted(fake_alpaca) == [f"pas-{json.loads(result.output)['run_id']}-gov-AAA"]
    with SqliteStore(tmp_path / "pas.db") as store:
        assert store.unfinished_trade_run("sim") == run


def test_a_stale_print_is_refused_by_the_collar_and_nothing_is_sent(
    pas: Pas, fake_alpaca: FakeAlpaca
) -> None:
    # Issue 12: a stale $20 print for a $200 stock sized 600 shares that filled for $120,000.
    fake_alpaca.set_price("AAA", "20")
    fake_alpaca.set_quote("AAA", bid="199.9", ask="200.1")
    result = pas("rebalance", "--all")
    assert result.exit_code == 3, result.output
    assert result.output.startswith(
        "error: AAA: the quote midpoint $200.0000 is more than PRICE_COLLAR (10%) away from its "
        "last trade ($20.0000)"
    )
    assert fake_alpaca.count("POST", "/v2/orders") == 0


def test_orders_are_marketable_limits_at_the_collar_unless_order_type_is_market(
    pas: Pas, fake_alpaca: FakeAlpaca
) -> None:
    assert pas("rebalance", "-p", "gov").exit_code == 0
    (sent,) = [r.body for r in fake_alpaca.logged("/v2/orders") if r.method == "POST"]
    assert (sent["type"], sent["limit_price"], sent["time_in_force"]) == ("limit", "11", "day")
    assert pas("portfolio", "set-weights", "gov", "AAA=0.4").exit_code == 0
    assert pas("rebalance", "-p", "gov", ORDER_TYPE="market").exit_code == 0
    market = [r.body for r in fake_alpaca.logged("/v2/orders") if r.method == "POST"][-1]
    assert market["type"] == "market" and "limit_price" not in market


def test_crosses_are_priced_at_the_quote_midpoint(pas: Pas, fake_alpaca: FakeAlpaca, tmp_path: Path) -> None:
    assert pas("rebalance", "--all").exit_code == 0
    assert pas("portfolio", "set-weights", "lobby", "AAA=0.1", "BBB=0.3").exit_code == 0
    assert pas("portfolio", "set-weights", "gov", "AAA=0.45").exit_code == 0
    fake_alpaca.set_price("AAA", "10.04")
    fake_alpaca.set_quote("AAA", bid="9.98", ask="10.02")
    assert pas("rebalance", "--all").exit_code == 0
    with SqliteStore(tmp_path / "pas.db") as store:
        crosses = [f for f in store.fills("gov") if "/cross/" in f.fill_id]
    assert [f.price for f in crosses] == [Decimal("10.00")]


def test_an_unknown_ticker_on_alpaca_does_not_advise_the_sim_brokers_fix(pas: Pas) -> None:
    assert pas("portfolio", "set-weights", "gov", "ZZZZ=0.2").exit_code == 0
    result = pas("rebalance", "-p", "gov")
    assert (result.exit_code, result.output) == (
        2,
        "error: no price for ZZZZ: Alpaca has no trade of ZZZZ on the iex feed; check the ticker\n",
    )


def test_a_portfolio_with_an_open_order_cannot_be_removed(pas: Pas, fake_alpaca: FakeAlpaca) -> None:
    # Issue 12: `pas portfolio remove` succeeded while pa had an open order; its late fill
    # was booked under the removed id and a re-added portfolio held shares it never bought.
    fake_alpaca.fill_mode = "never"
    assert pas("rebalance", "-p", "gov", "--timeout", "0").exit_code in (0, 1)
    for args in (("portfolio", "remove", "gov"), ("portfolio", "remove", "gov", "--force")):
        refused = pas(*args)
        assert (refused.exit_code, refused.output) == (
            2,
            "error: portfolio 'gov' has 1 order(s) still open (AAA); wait for them and run `pas sync` "
            "(or cancel them at the broker), then remove it\n",
        )
    fake_alpaca.fill_open("AAA")
    assert pas("sync").exit_code == 0
    assert pas("portfolio", "remove", "gov", "--force").exit_code == 0


def test_a_quote_far_from_the_last_stored_close_is_refused_and_nothing_is_sent(
    pas: Pas, fake_alpaca: FakeAlpaca, tmp_path: Path
) -> None:
    # Issue 12: the reference price "is checked against the last stored close and the
    # current quote"; the last trade agrees with the quote here, the stored close does not.
    with SqliteStore(tmp_path / "pas.db") as store:
        store.upsert_prices([Price("AAA", date(2026, 1, 2), Decimal(20))])
    result = pas("rebalance", "-p", "gov")
    assert result.exit_code == 3, result.output
    assert result.output.startswith(
        "error: AAA: the quote midpoint $10.0000 is more than PRICE_COLLAR (10%) away from its "
        "last stored close ($20.0000); check the price (`pas prices fetch` refreshes the closes)"
    )
    assert fake_alpaca.count("POST", "/v2/orders") == 0


def test_a_sim_portfolios_ledger_never_counts_against_alpacas_positions(
    pas: Pas, fake_alpaca: FakeAlpaca, tmp_path: Path
) -> None:
    # Issue 12: "nothing simulated can reach a real account or hide a real position":
    # `pas reconcile`, and the reconciliation before each plan, sum only the ledgers of
    # the portfolios bound to the broker asked.
    sim = {"PAS_BROKER": "sim", "SIM_MARKET": "always", "PRICE_MAX_STALE_DAYS": "100000"}
    with SqliteStore(tmp_path / "pas.db") as store:
        store.upsert_prices([Price("AAA", date(2026, 1, 2), Decimal(10))])
    assert pas("portfolio", "add", "paper", "--capital", "1000", **sim).exit_code == 0  # bound to sim
    assert pas("portfolio", "set-weights", "paper", "AAA=0.5").exit_code == 0
    traded = pas("rebalance", "-p", "paper", **sim)
    assert traded.exit_code == 0, traded.output
    assert pas("reconcile", **sim).output == "ledgers match the broker: 1 symbol(s)\n"
    alpaca = pas("reconcile")
    assert (alpaca.exit_code, alpaca.output) == (0, "ledgers match the broker: 0 symbol(s)\n")
    real = pas("rebalance", "-p", "gov")
    assert real.exit_code == 0, real.output
    assert fake_alpaca.positions == {"AAA": Decimal(100)}
    assert pas("reconcile").output == "ledgers match the broker: 1 symbol(s)\n"


def test_a_cash_account_can_spend_its_cash_on_marketable_limit_buys(
    pas: Pas, fake_alpaca: FakeAlpaca
) -> None:
    # Found in the audit of issue 12: Alpaca holds a limit buy's quantity x limit price of
    # the buying power ("Buying Power" in its order docs). At the collar's limit (+10%) a
    # cash account's last buy did not fit what the earlier buys had left, so it was refused
    # "insufficient buying power", and again by every later run.
    fake_alpaca.cash = Decimal(10_000)
    _only_new_books(pas)
    assert pas("portfolio", "add", "solo", "--capital", "10000").exit_code == 0
    assert pas("portfolio", "set-weights", "solo", "AAA=0.5", "BBB=0.49").exit_code == 0
    result = pas("rebalance", "-p", "solo")
    assert result.exit_code == 0, result.output
    assert fake_alpaca.positions == {"AAA": Decimal(500), "BBB": Decimal(245)}
    assert fake_alpaca.cash == Decimal(100)  # the cash buffer
    first, second = [r.body for r in fake_alpaca.logged("/v2/orders") if r.method == "POST"]
    assert first["limit_price"] == "11"  # the collar's marketable limit
    assert second["limit_price"] == "20.4"  # lowered to what the account had left (5,000 / 245)


def test_a_book_whose_equity_is_unknown_refuses_the_run(
    pas: Pas, fake_alpaca: FakeAlpaca, tmp_path: Path
) -> None:
    # Whether the account carries every book is unknown while one of them cannot be valued.
    _only_new_books(pas)
    assert pas("portfolio", "add", "pa", "--capital", "1000").exit_code == 0
    assert pas("portfolio", "add", "pb").exit_code == 0  # no capital: its ledger is imported
    assert pas("portfolio", "set-weights", "pa", "AAA=0.1").exit_code == 0
    fills = tmp_path / "fills.csv"
    fills.write_text("portfolio,symbol,side,qty,price,time\npb,ZZZ,buy,5,20,2026-01-02T15:00:00\n")
    assert pas("trades", "import", str(fills)).exit_code == 0
    refused = pas("rebalance", "-p", "pa")
    assert refused.exit_code == 3, refused.output
    assert "portfolio pb's equity is unknown (no capital, and no close for ZZZ)" in refused.output
    assert "pas prices fetch" in refused.output
    assert fake_alpaca.orders == {}
