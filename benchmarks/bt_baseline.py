"""bt on the same targets and closes as a pas backtest: the baseline of backtest_bench.py.

`export(source, target, path)` writes what a finished pas backtest traded on — the daily
closes of the source store, each portfolio's target weights on the days they were set,
the weekly allocation — to one pickle. Run as a script on that file, it replays those
targets with bt (a parent book over one child strategy per portfolio, fractional shares,
each target and allocation applied at the close of the day it was decided, as pas's
simulated broker fills) and prints the final value of each book. It imports bt and
pandas only, so that timing it as a whole process times what a bt user would run.

Usage: python benchmarks/bt_baseline.py INPUTS.pkl
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path
from typing import Any


def export(source: Any, target: Any, portfolios: list[str], capital: float, path: Path) -> None:
    """Writes the closes, targets and allocations of a finished pas backtest to ``path``."""
    import pandas as pd

    from pas.schedule import market_day

    history = source.price_history(source.price_symbols())
    closes = pd.DataFrame(
        {s: pd.Series({p.day: float(p.close) for p in ps}) for s, ps in history.items()}
    ).sort_index()
    closes.index = pd.DatetimeIndex(closes.index)
    targets = {}
    for pid in portfolios:
        sets = {market_day(w.at): dict(w.weights) for w in reversed(target.weights_history(pid))}
        frame = pd.DataFrame.from_dict(sets, orient="index").fillna(0.0).sort_index()
        frame.index = pd.DatetimeIndex(frame.index)
        targets[pid] = frame
    shares = {market_day(a.applied_at): dict(a.weights) for a in reversed(target.allocation_history())}
    allocation = pd.DataFrame.from_dict(shares, orient="index").reindex(columns=portfolios).fillna(0.0)
    allocation.index = pd.DatetimeIndex(allocation.index)
    with path.open("wb") as out:
        pickle.dump({"closes": closes, "targets": targets, "allocation": allocation, "capital": capital}, out)


def replay(inputs: dict[str, Any]) -> dict[str, float]:
    """Final value of each book (and ``combined``) of bt replaying the inputs."""
    import bt

    closes = inputs["closes"]
    start = min(inputs["allocation"].index.min(), *(t.index.min() for t in inputs["targets"].values()))
    data = closes[closes.index >= start].ffill()
    children = [
        bt.Strategy(pid, [bt.algos.WeighTarget(weights.reindex(columns=data.columns, fill_value=0.0)),
                          bt.algos.Rebalance()])
        for pid, weights in inputs["targets"].items()
    ]  # fmt: skip
    book = bt.Strategy(
        "combined", [bt.algos.WeighTarget(inputs["allocation"]), bt.algos.Rebalance()], children
    )
    test = bt.Backtest(
        book, data, initial_capital=inputs["capital"], integer_positions=False, progress_bar=False
    )
    test.run()
    values = {child.name: float(test.strategy.children[child.name].values.iloc[-1]) for child in children}
    values["combined"] = float(test.strategy.values.iloc[-1])
    return values


def main() -> None:
    with Path(sys.argv[1]).open("rb") as handle:
        inputs = pickle.load(handle)
    for name, value in replay(inputs).items():
        print(f"{name} {value:.2f}")


if __name__ == "__main__":
    main()
