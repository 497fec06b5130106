"""Tables on a narrow terminal: numbers are never truncated; text columns wrap first."""

from __future__ import annotations

import re
import sys

import pytest

from pas.commands._app import print_table

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_numbers_survive_a_60_column_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    rows = [
        ("lobbying", "lobbying_growth with a long note", "monthly", "164,250,000.12", "-1,234,567.891234"),
        ("congress", "congress_buying", "weekly", "9,999,999.99", "12.5"),
    ]
    print_table(
        "Portfolios", ["id", "strategy", "schedule", "capital", "cash"], rows, right=["capital", "cash"]
    )
    out = ANSI.sub("", capsys.readouterr().out)
    assert max(len(line) for line in out.splitlines()) <= 60
    for number in ("164,250,000.12", "-1,234,567.891234", "9,999,999.99"):
        assert number in out, f"{number} was cut:\n{out}"
    assert "…" not in out
