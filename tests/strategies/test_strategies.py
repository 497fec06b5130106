"""The five strategies on small hand-made data, and the look-ahead property: records that
became public after the as-of time change nothing."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pas.records import Record, RecordColumns, natural_key
from pas.scrapers.insiders import insider_sentiment
from pas.strategies import BUILTIN, get_strategy, resolve_params
from pas.strategies.base import capped_weights, construct, frame, to_number
from pas.strategies.lobbying import season_ends

_serial = itertools.count()


def rec(dataset: str, ticker: str, event: date, public: datetime, **fields: Any) -> Record:
    key = natural_key(dataset, {"n": next(_serial)})
    return Record(dataset, key, ticker, event, public, fields)


def at(d: date, hour: int = 0) -> datetime:
    return datetime.combine(d, time(hour), UTC)


def run(name: str, data: Mapping[str, Sequence[Record]], as_of: datetime, **params: Any) -> dict[str, float]:
    """The strategy's weights from records in memory, read as a build reads them."""
    strategy = get_strategy(name)
    tables = {d: frame(RecordColumns.of(rows, strategy.datasets[d]), as_of) for d, rows in data.items()}
    return strategy.weights(tables, as_of, resolve_params(strategy, params))


# -- lobbying_growth --------------------------------------------------------------------
LOBBY_AS_OF = at(date(2025, 8, 15), 14)


def lobby(ticker: str, filed: date, amount: str) -> Record:
    return rec("lobbying", ticker, filed, at(filed + timedelta(days=1)), amount=amount)


LOBBYING = [
    lobby("AAA", date(2025, 4, 15), "100000"),
    lobby("AAA", date(2025, 7, 18), "150000"),
    lobby("BBB", date(2025, 2, 10), "60000"),
    lobby("BBB", date(2025, 5, 2), "60000"),
    lobby("BBB", date(2025, 7, 31), "60000"),  # the last day of the season: counts
    lobby("CCC", date(2025, 4, 1), "40000"),  # below min_spend in the earlier season
    lobby("CCC", date(2025, 7, 10), "400000"),
    lobby("DDD", date(2025, 4, 18), "100000"),
    lobby("DDD", date(2025, 7, 18), "80000"),
    lobby("EEE", date(2025, 4, 18), "100000"),
    lobby("EEE", date(2025, 7, 20), "150000"),
    lobby("EEE", date(2025, 8, 10), "500000"),  # after the newest complete season
    lobby("FFF", date(2025, 1, 20), "1000000"),  # before the earlier season
    lobby("FFF", date(2025, 4, 20), "50000"),
    lobby("FFF", date(2025, 7, 20), "50000"),
]


def test_season_ends_follow_the_filing_deadlines() -> None:
    assert season_ends(LOBBY_AS_OF, 3) == [date(2025, 7, 31), date(2025, 4, 30), date(2025, 1, 31)]
    # Filings of July 31 are public from August 1: until then July's season is incomplete.
    assert season_ends(at(date(2025, 8, 1), 4), 1) == [date(2025, 7, 31)]  # 00:00 in New York (EDT)
    assert season_ends(at(date(2025, 8, 1), 3), 1) == [date(2025, 4, 30)]
    assert season_ends(at(date(2025, 7, 31), 23), 2) == [date(2025, 4, 30), date(2025, 1, 31)]
    assert season_ends(at(date(2025, 1, 15)), 1) == [date(2024, 10, 31)]


def test_lobbying_growth_hand_computed() -> None:
    # Growth: BBB 120k/60k-1 = 1.0; AAA and EEE 0.5 (tie: AAA first); FFF 0; DDD -0.2; CCC too small.
    assert run("lobbying_growth", {"lobbying": LOBBYING}, LOBBY_AS_OF, top_n=2) == {"BBB": 0.5, "AAA": 0.5}
    assert run("lobbying_growth", {"lobbying": LOBBYING}, LOBBY_AS_OF) == {
        "BBB": 1 / 3,
        "AAA": 1 / 3,
        "EEE": 1 / 3,
    }
    assert "CCC" in run("lobbying_growth", {"lobbying": LOBBYING}, LOBBY_AS_OF, min_spend=40000.0)


# -- congress_buying --------------------------------------------------------------------
CONGRESS_AS_OF = at(date(2025, 6, 30), 12)


def trade(ticker: str, name: str, transaction: str, low: str, high: str | None, days_ago: float) -> Record:
    public = CONGRESS_AS_OF - timedelta(days=days_ago)
    return rec(
        "congress",
        ticker,
        public.date() - timedelta(days=20),
        public,
        name=name,
        transaction=transaction,
        low=low,
        high=high,
    )


CONGRESS = [
    trade("AAA", "Member A", "Purchase", "1001", "15000", 3),
    trade("AAA", "Member B", "Purchase", "15001", "50000", 10),
    trade("BBB", "Member A", "Purchase", "1000001", "5000000", 1),
    trade("CCC", "Member A", "Purchase", "15001", "50000", 5),
    trade("CCC", "Member A", "Sale (Partial)", "1001", "15000", 4),
    trade("DDD", "Member C", "Purchase", "1001", "15000", 5),
    trade("DDD", "Member D", "Sale (Full)", "15001", "50000", 5),
    trade("EEE", "Member A", "Purchase", "50000001", None, 50),  # outside the lookback
    trade("EEE", "Member B", "Purchase", "50000001", None, 46),
    trade("FFF", "Member A", "Exchange", "1000001", "5000000", 2),
]


def test_congress_buying_hand_computed() -> None:
    # AAA: 2 buyers; BBB: 1 buyer, $3.0M net; CCC: 1 buyer, $24.5k net; DDD net selling.
    assert run("congress_buying", {"congress": CONGRESS}, CONGRESS_AS_OF, top_n=2) == {"AAA": 0.5, "BBB": 0.5}
    assert set(run("congress_buying", {"congress": CONGRESS}, CONGRESS_AS_OF)) == {"AAA", "BBB", "CCC"}
    assert run("congress_buying", {"congress": CONGRESS}, CONGRESS_AS_OF, min_buyers=2) == {"AAA": 1.0}
    assert set(run("congress_buying", {"congress": CONGRESS}, CONGRESS_AS_OF, lookback_days=60)) == {
        "AAA",
        "BBB",
        "CCC",
        "EEE",
    }


# -- wiki_attention ---------------------------------------------------------------------
WIKI_AS_OF = at(date(2025, 3, 10), 15)


def views(ticker: str, first: date, last: date, per_day: int) -> list[Record]:
    days = (last - first).days + 1
    return [
        rec("wiki", ticker, d, at(d + timedelta(days=1)), views=str(per_day))
        for d in (first + timedelta(days=i) for i in range(days))
    ]


BASE = (date(2025, 2, 17), date(2025, 3, 2))
RECENT = (date(2025, 3, 3), date(2025, 3, 9))
WIKI = [
    *views("AAA", *BASE, 100),
    *views("AAA", *RECENT, 300),
    *views("BBB", *BASE, 1000),
    *views("BBB", *RECENT, 1500),
    *views("CCC", *BASE, 50),
    *views("CCC", *RECENT, 5000),
    *views("DDD", *BASE, 200),
    *views("DDD", date(2025, 3, 7), date(2025, 3, 9), 400),  # days missing: left out
    *views("EEE", date(2025, 2, 1), date(2025, 2, 16), 1),  # before the baseline
    *views("EEE", *BASE, 300),
    *views("EEE", *RECENT, 300),
]


def test_wiki_attention_hand_computed() -> None:
    # Growth: AAA 2.0, DDD 1.0, BBB 0.5, EEE 0; CCC under min_views.
    data = {"wiki": WIKI}
    assert run("wiki_attention", data, WIKI_AS_OF, top_n=2, baseline_weeks=2) == {"AAA": 0.5, "DDD": 0.5}
    assert set(run("wiki_attention", data, WIKI_AS_OF, baseline_weeks=2)) == {"AAA", "BBB", "DDD"}
    assert "CCC" in run("wiki_attention", data, WIKI_AS_OF, baseline_weeks=2, min_views=50.0)


# -- insider_sentiment ------------------------------------------------------------------
INSIDER_AS_OF = at(date(2025, 6, 30), 12)


def form4(ticker: str, code: str, shares: str, price: str | None, days_ago: float = 5) -> Record:
    public = INSIDER_AS_OF - timedelta(days=days_ago)
    return rec("insiders", ticker, public.date(), public, code=code, shares=shares, price=price)


INSIDERS = [
    form4("AAA", "P", "100", "10"),
    form4("AAA", "S", "20", "10"),
    form4("BBB", "P", "10", "500"),
    form4("CCC", "S", "100", "10"),
    form4("DDD", "A", "1000", "10"),
    form4("EEE", "P", "10", None),
    form4("FFF", "P", "1000", "1000", days_ago=91),
]


def test_insider_sentiment_hand_computed_and_matches_the_scraper_score() -> None:
    # Net: BBB $5,000, AAA $800, CCC -$1,000; grants, unpriced and old trades ignored.
    assert run("insider_sentiment", {"insiders": INSIDERS}, INSIDER_AS_OF) == {"BBB": 0.5, "AAA": 0.5}
    assert run("insider_sentiment", {"insiders": INSIDERS}, INSIDER_AS_OF, top_n=1) == {"BBB": 1.0}
    assert insider_sentiment(INSIDERS, INSIDER_AS_OF) == {
        "AAA": Decimal(800),
        "BBB": Decimal(5000),
        "CCC": Decimal(-1000),
    }


# -- gov_contracts ----------------------------------------------------------------------
CONTRACTS_AS_OF = at(date(2025, 6, 30), 12)


def award(ticker: str, amount: str, days_ago: int = 3) -> Record:
    day = CONTRACTS_AS_OF.date() - timedelta(days=days_ago)
    return rec("contracts", ticker, day, at(day), amount=amount)


CONTRACTS = [
    award("AAA", "400"),
    award("AAA", "200"),
    award("BBB", "300"),
    award("CCC", "100"),
    award("DDD", "50"),
    award("EEE", "1000000000", days_ago=40),
    award("FFF", "100"),
    award("FFF", "-200"),
]


def test_gov_contracts_hand_computed() -> None:
    # Totals AAA 600, BBB 300, CCC 100, weighted in proportion; the build caps them.
    data = {"contracts": CONTRACTS}
    raw = run("gov_contracts", data, CONTRACTS_AS_OF, top_n=3)
    assert raw == pytest.approx({"AAA": 0.6, "BBB": 0.3, "CCC": 0.1})
    # AAA capped at 0.5, BBB and CCC share the other 0.5 as 3:1.
    assert construct(raw, {"max_weight": 0.5, "min_names": 1}) == pytest.approx(
        {"AAA": 0.5, "BBB": 0.375, "CCC": 0.125}
    )
    # Under the defaults (0.2, 5 names) all three are capped: the rest is cash.
    assert construct(raw, {"max_weight": 0.2, "min_names": 5}) == pytest.approx(
        {"AAA": 0.2, "BBB": 0.2, "CCC": 0.2}
    )


def test_gov_contracts_normalized_scores_awards_against_the_companys_own_history() -> None:
    # Window (30 days): AAA 600, BBB 300, CCC 100, DDD 50. The 365 days before it:
    # AAA 7,300 -> baseline 7,300 x 30/365 = 600 -> score 1.0; BBB 365 -> 30 -> 10.0;
    # DDD 730 -> 60 -> 0.83; CCC has no earlier award (left out); EEE nothing in the window.
    history = [
        award("AAA", "3650", days_ago=100),
        award("AAA", "3650", days_ago=200),
        award("BBB", "365", days_ago=300),
        award("DDD", "730", days_ago=50),
        award("EEE", "1000000000", days_ago=40),
        award("BBB", "999999", days_ago=400),  # before the history window
    ]
    data = {"contracts": [r for r in CONTRACTS if r.ticker in "AAA BBB CCC DDD"] + history}
    assert run("gov_contracts", data, CONTRACTS_AS_OF, top_n=2, normalized=1) == {"AAA": 0.5, "BBB": 0.5}
    assert run("gov_contracts", data, CONTRACTS_AS_OF, top_n=3, normalized=1) == pytest.approx(
        {"BBB": 1 / 3, "AAA": 1 / 3, "DDD": 1 / 3}
    )
    assert run("gov_contracts", data, CONTRACTS_AS_OF, top_n=2) == pytest.approx(
        {"AAA": 600 / 900, "BBB": 300 / 900}
    ), "raw dollars"


def test_insider_sentiment_normalized_scores_buying_against_the_companys_own_volume() -> None:
    # Window (90 days) net: AAA 800, BBB 5,000, GGG 100. Volume (bought + sold) in the 365
    # days before: AAA 3,650 -> baseline x 90/365 = 900 -> 0.889; BBB 365,000 -> 90,000 ->
    # 0.056; GGG 730 -> 180 -> 0.556. Raw dollars would pick BBB and AAA.
    history = [
        form4("AAA", "S", "365", "10", days_ago=200),
        form4("BBB", "S", "365", "1000", days_ago=100),
        form4("GGG", "P", "10", "10"),
        form4("GGG", "S", "73", "10", days_ago=300),
    ]
    data = {"insiders": INSIDERS + history}
    assert run("insider_sentiment", data, INSIDER_AS_OF, top_n=2, normalized=1) == {"AAA": 0.5, "GGG": 0.5}
    assert run("insider_sentiment", data, INSIDER_AS_OF, top_n=2) == {"BBB": 0.5, "AAA": 0.5}


def test_construction_caps_each_name_and_leaves_the_rest_cash_below_the_breadth_floor() -> None:
    params = {"max_weight": 0.2, "min_names": 5}
    assert construct({"SYN33": 1.0}, params) == {"SYN33": 0.2}, "one qualifying name: 80% cash"
    assert construct({"A": 0.5, "B": 0.5}, {"max_weight": 1.0, "min_names": 4}) == {"A": 0.25, "B": 0.25}
    ten = {t: 0.1 for t in "ABCDEFGHIJ"}
    assert construct(ten, params) == pytest.approx(ten), "broad enough: unchanged"
    assert construct({"A": 0.4, "B": 0.1}, {"max_weight": 0.3, "min_names": 1}) == pytest.approx(
        {"A": 0.3, "B": 0.2}
    ), "a strategy's own cash stays cash; what A gives up goes to B"


@given(st.dictionaries(st.sampled_from("ABCDEFGH"), st.floats(0.01, 1e9), min_size=1), st.floats(0.05, 1.0))
def test_capped_weights_never_exceed_the_cap_and_sum_to_at_most_one(
    sizes: dict[str, float], cap: float
) -> None:
    weights = capped_weights(sizes, cap)
    assert set(weights) == set(sizes)
    assert all(0 < w <= cap + 1e-12 for w in weights.values())
    assert sum(weights.values()) == pytest.approx(min(1.0, cap * len(sizes)))


# -- look-ahead -------------------------------------------------------------------------
CASES: dict[str, tuple[str, Sequence[Record], datetime, dict[str, Any]]] = {
    "lobbying_growth": ("lobbying", LOBBYING, LOBBY_AS_OF, {}),
    "congress_buying": ("congress", CONGRESS, CONGRESS_AS_OF, {}),
    "wiki_attention": ("wiki", WIKI, WIKI_AS_OF, {"baseline_weeks": 2}),
    "insider_sentiment": ("insiders", INSIDERS, INSIDER_AS_OF, {}),
    "gov_contracts": ("contracts", CONTRACTS, CONTRACTS_AS_OF, {}),
}


def future_fields(dataset: str, amount: int, buy: bool) -> dict[str, Any]:
    """Fields that would move the score a lot, were they seen."""
    value = str(amount)
    return {
        "lobbying": {"amount": value},
        "congress": {
            "name": f"Member {amount % 5}",
            "transaction": "Purchase" if buy else "Sale",
            "low": value,
            "high": None,
        },
        "wiki": {"views": value},
        "insiders": {"code": "P" if buy else "S", "shares": value, "price": "10"},
        "contracts": {"amount": value},
    }[dataset]


def test_every_builtin_strategy_has_a_case() -> None:
    assert set(CASES) == set(BUILTIN)


@pytest.mark.parametrize("name", sorted(CASES))
@settings(max_examples=25, deadline=None)
@given(
    extra=st.lists(
        st.tuples(
            st.sampled_from(["AAA", "BBB", "CCC", "DDD", "ZZZ"]),
            st.integers(-200, 5),  # event day relative to the as-of day: mostly before it
            st.integers(1, 200 * 24 * 3600),  # seconds after the as-of time it became public
            st.integers(1, 10**9),
            st.booleans(),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_records_public_after_the_as_of_time_change_nothing(
    name: str, extra: list[tuple[str, int, int, int, bool]]
) -> None:
    dataset, records, as_of, params = CASES[name]
    before = run(name, {dataset: records}, as_of, **params)
    late = [
        rec(
            dataset,
            ticker,
            as_of.date() + timedelta(days=day),
            as_of + timedelta(seconds=sec),
            **future_fields(dataset, amount, buy),
        )
        for ticker, day, sec, amount, buy in extra
    ]
    assert run(name, {dataset: [*records, *late]}, as_of, **params) == before


def test_to_number_reads_decimal_text_and_makes_anything_else_missing() -> None:
    import math

    import pandas as pd

    stored = pd.Series(["1250000", "0.5", "-3", "1E+3", None, 7], dtype=object)
    assert to_number(stored).tolist()[:4] == [1_250_000.0, 0.5, -3.0, 1000.0]
    assert math.isnan(to_number(stored)[4]) and to_number(stored)[5] == 7.0
    # Text that is no number makes only itself missing, not the column an error.
    mixed = to_number(pd.Series(["12", "n/a", ""], dtype=object)).tolist()
    assert mixed[0] == 12.0 and math.isnan(mixed[1]) and math.isnan(mixed[2])
