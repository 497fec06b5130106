"""Finding strategies by name, a user's own strategy, and parameter checking."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pas.cli import app
from pas.errors import InputError
from pas.strategies import BUILTIN, Strategy, get_strategy, resolve_params
from pas.strategies.base import Params, ParamSpec

USER_MODULE = """
from pas.strategies.base import ParamSpec


class Fixed:
    name = "fixed"
    datasets = {"wiki": ("views",)}
    params = {"weight": ParamSpec(0.5, "weight of SPY")}

    def history_days(self, params):
        return 1

    def weights(self, data, as_of, params):
        return {"SPY": params["weight"]}


class NotAStrategy:
    pass


class RecordsByTuple(Fixed):
    datasets = ("wiki",)  # before strategies read columns
"""


@pytest.fixture
def user_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    (tmp_path / "mystrats.py").write_text(USER_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "mystrats"
    sys.modules.pop("mystrats", None)


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_builtin_strategies_are_documented_and_their_defaults_valid(name: str) -> None:
    strategy = get_strategy(name)
    assert isinstance(strategy, Strategy)
    assert strategy.name == name
    doc = type(strategy).__doc__ or ""
    for part in ("Thesis", "Inputs", "Public-date rule", "Parameters", *strategy.params):
        assert part in doc, part
    assert resolve_params(strategy, {}) == {k: spec.default for k, spec in strategy.params.items()}


def test_unknown_strategy_lists_the_builtin_ones() -> None:
    with pytest.raises(InputError, match=r"unknown strategy 'nope'; built-in strategies: congress_buying, "):
        get_strategy("nope")


def test_user_strategy_by_module_and_class(user_module: str) -> None:
    strategy = get_strategy(f"{user_module}:Fixed")
    assert strategy.weights({}, datetime(2026, 1, 1), resolve_params(strategy, {"weight": 1})) == {"SPY": 1.0}
    with pytest.raises(InputError, match="is not a strategy"):
        get_strategy(f"{user_module}:NotAStrategy")
    with pytest.raises(InputError, match=r"datasets must name the fields read of each dataset, such as"):
        get_strategy(f"{user_module}:RecordsByTuple")
    with pytest.raises(InputError, match="has no 'Missing'"):
        get_strategy(f"{user_module}:Missing")
    with pytest.raises(InputError, match="cannot import 'nomodule_xyz'"):
        get_strategy("nomodule_xyz:Fixed")


class Toy:
    name = "toy"
    datasets: Mapping[str, tuple[str, ...]] = {"wiki": ()}
    params: Mapping[str, ParamSpec] = {
        "top_n": ParamSpec(10, "names", 1),
        "cap": ParamSpec(0.2, "cap"),
    }

    def history_days(self, params: Params) -> int:
        return 1

    def weights(self, data: Mapping[str, pd.DataFrame], as_of: datetime, params: Params) -> dict[str, float]:
        return {}


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"top": 3}, "toy has no parameter 'top'; its parameters: cap, top_n"),
        ({"top_n": 2.5}, "parameter top_n of toy must be a whole number, got 2.5"),
        ({"top_n": 0}, "parameter top_n of toy must be at least 1, got 0"),
        ({"cap": "big"}, "parameter cap of toy must be a number, got 'big'"),
    ],
)
def test_bad_params_are_refused(given: dict[str, object], message: str) -> None:
    with pytest.raises(InputError) as info:
        resolve_params(Toy(), given)
    assert str(info.value) == message


def test_params_take_the_defaults_types() -> None:
    assert resolve_params(Toy(), {"top_n": 3.0, "cap": 1}) == {"top_n": 3, "cap": 1.0}


def test_portfolio_add_checks_strategy_and_params(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"PAS_HOME": str(tmp_path)}
    bad = runner.invoke(app, ["portfolio", "add", "x", "--strategy", "nope"], env=env)
    assert bad.exit_code == 2
    assert "error: unknown strategy 'nope'; built-in strategies:" in bad.output
    bad = runner.invoke(
        app, ["portfolio", "add", "x", "--strategy", "gov_contracts", "--param", "topn=3"], env=env
    )
    assert bad.exit_code == 2
    assert (
        "error: gov_contracts has no parameter 'topn'; its parameters: lookback_days, max_weight, top_n"
        in bad.output
    )
    bad = runner.invoke(app, ["portfolio", "add", "x", "--param", "top_n=3"], env=env)
    assert bad.exit_code == 2
    assert "error: a manual portfolio takes no --param; name a strategy with --strategy" in bad.output
    ok = runner.invoke(
        app, ["portfolio", "add", "lobby", "--strategy", "lobbying_growth", "--param", "top_n=15"], env=env
    )
    assert ok.exit_code == 0, ok.output
    shown = runner.invoke(app, ["portfolio", "show", "lobby", "--json"], env=env)
    assert '"top_n": 15' in shown.output
