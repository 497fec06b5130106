"""``pas scrape`` and ``pas data`` through the command line, against the fake server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pas.cli import app
from pas.schedule import market_day
from tests.commands.test_json_conventions import check
from tests.fakes.quiver import API_KEY, UNLIMITED_RATES, FakeQuiver, load_all, serve

runner = CliRunner()


@pytest.fixture
def fake() -> Iterator[FakeQuiver]:
    with serve() as server:
        load_all(server, market_day(datetime.now(UTC)) - timedelta(days=1))
        yield server


def env(tmp_path: Path, fake: FakeQuiver, **extra: str) -> dict[str, str]:
    return {
        "PAS_HOME": str(tmp_path / "home"),
        "QUIVER_API_KEY": API_KEY,
        "QUIVER_BASE_URL": fake.url,
        "QUIVER_RATE_SEC": "0",
        "QUIVER_RATE_LIMITS": UNLIMITED_RATES,
        "WIKI_SOURCE": "quiver",  # these tests are of Quiver's datasets (test_scrape_wikimedia.py: the other)
        **extra,
    }


def test_scrape_all_then_again_within_ttl_sends_nothing(tmp_path: Path, fake: FakeQuiver) -> None:
    first = runner.invoke(app, ["scrape", "all", "--json"], env=env(tmp_path, fake))
    assert first.exit_code == 0, first.output
    results = {r["dataset"]: r for r in check("scrape", first.stdout)}
    assert set(results) == {"congress", "lobbying", "wiki", "insiders", "contracts"}
    assert results["congress"]["new"] == 1200 and results["congress"]["requests"] == 1
    sent = len(fake.log)
    second = runner.invoke(app, ["scrape", "all", "--json"], env=env(tmp_path, fake))
    assert second.exit_code == 0, second.output
    assert len(fake.log) == sent
    assert {r["status"] for r in json.loads(second.stdout)} == {"fresh"}
    refreshed = runner.invoke(app, ["scrape", "wiki", "--refresh", "--json"], env=env(tmp_path, fake))
    assert refreshed.exit_code == 0
    assert len(fake.log) == sent + 1


def test_summary_table_and_run_record(tmp_path: Path, fake: FakeQuiver) -> None:
    fake.rows["live/govcontractsall"].append({"Ticker": None, "Date": "2025-01-01", "Amount": 1})
    result = runner.invoke(app, ["scrape", "contracts"], env=env(tmp_path, fake))
    assert result.exit_code == 0, result.output
    assert "Scrape summary" in result.stdout
    assert "contracts: rejected rows (missing ticker: 1)" in result.stdout
    jobs = runner.invoke(app, ["jobs", "--json"], env=env(tmp_path, fake))
    (run,) = json.loads(jobs.stdout)
    assert run["command"] == "scrape" and run["status"] == "ok"
    assert run["details"]["contracts"]["rejected"] == 1
    assert API_KEY not in jobs.stdout


def test_data_shows_stored_records(tmp_path: Path, fake: FakeQuiver) -> None:
    runner.invoke(app, ["scrape", "politician"], env=env(tmp_path, fake))
    table = runner.invoke(app, ["data", "congress", "--ticker", "nvda", "-n", "3"], env=env(tmp_path, fake))
    assert table.exit_code == 0, table.output
    assert "congress: 150 record(s) stored, newest 3 shown (UTC)" in table.stdout
    as_json = runner.invoke(app, ["data", "congress", "--ticker", "NVDA", "--json"], env=env(tmp_path, fake))
    rows = check("data", as_json.stdout)
    assert len(rows) == 20 and {r["ticker"] for r in rows} == {"NVDA"}
    assert {"low", "high", "traded", "filed"} <= set(rows[0]["fields"])


def test_missing_key_unknown_dataset_and_refused_key(tmp_path: Path, fake: FakeQuiver) -> None:
    no_key = env(tmp_path, fake)
    del no_key["QUIVER_API_KEY"]
    result = runner.invoke(app, ["scrape", "all"], env=no_key)
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: QUIVER_API_KEY is not set; put your QuiverQuant API token in the environment or .env"
    )
    unknown = runner.invoke(app, ["scrape", "tweets"], env=env(tmp_path, fake))
    assert unknown.exit_code == 2
    assert unknown.stderr.strip() == (
        "error: unknown dataset 'tweets'; use one of: congress, lobbying, wiki, insiders, contracts, all"
    )
    refused = runner.invoke(app, ["scrape", "all"], env=env(tmp_path, fake, QUIVER_API_KEY="bad-secret"))
    assert refused.exit_code == 1
    assert "check QUIVER_API_KEY" in refused.stderr and "bad-secret" not in refused.stderr


def test_wiki_gone_is_reported_and_others_stored(tmp_path: Path, fake: FakeQuiver) -> None:
    fake.gone.add("live/wikipedia")
    result = runner.invoke(app, ["scrape", "all"], env=env(tmp_path, fake))
    assert result.exit_code == 0, result.output
    assert "wiki: QuiverQuant has no endpoint for wiki (HTTP 404): the dataset may be discontinued" in (
        result.stdout
    )


def test_entitlement_failure_exits_1_after_the_summary(tmp_path: Path, fake: FakeQuiver) -> None:
    fake.not_entitled.add("live/insiders")
    result = runner.invoke(app, ["scrape", "all"], env=env(tmp_path, fake))
    assert result.exit_code == 1
    assert "insiders: QuiverQuant refused the insiders dataset" in result.stdout
    assert result.stderr.strip() == (
        "error: scraping insiders failed (see above); the other datasets were stored"
    )


def test_data_coverage_shows_the_ranges_fetched_completely(tmp_path: Path, fake: FakeQuiver) -> None:
    empty = runner.invoke(app, ["data", "lobbying", "--coverage"], env=env(tmp_path, fake))
    assert empty.exit_code == 0 and "nothing fetched completely yet; run pas scrape lobbying" in empty.stdout
    assert runner.invoke(app, ["scrape", "lobbying"], env=env(tmp_path, fake)).exit_code == 0
    shown = runner.invoke(app, ["data", "lobbying", "--coverage", "--json"], env=env(tmp_path, fake))
    doc = check("data", shown.stdout)
    yesterday = (market_day(datetime.now(UTC)) - timedelta(days=1)).isoformat()
    assert doc["dataset"] == "lobbying" and doc["backfill"] is None
    assert len(doc["covered"]) == 1 and doc["covered"][0]["to"] == yesterday


def test_a_malformed_key_exits_2_naming_the_variable_and_is_never_stored(
    tmp_path: Path, fake: FakeQuiver
) -> None:
    result = runner.invoke(app, ["scrape", "all"], env=env(tmp_path, fake, QUIVER_API_KEY="zzsec\nretzz"))
    assert result.exit_code == 2
    assert "QUIVER_API_KEY is malformed" in result.stderr
    assert "zzsec" not in result.output and "retzz" not in result.output
    jobs = runner.invoke(app, ["jobs", "--json"], env=env(tmp_path, fake))
    assert "zzsec" not in jobs.stdout


def test_scrape_all_goes_on_after_a_broken_answer_and_the_key_stays_out_of_the_run(
    tmp_path: Path, fake: FakeQuiver
) -> None:
    from tests.fakes.quiver import Fault

    fake.fault("bulk/congresstrading", Fault(200, "[" * 100_000 + "]" * 100_000, raw=True))
    fake.fault("live/insiders", Fault(400, {"detail": f"unknown token {API_KEY}"}))
    result = runner.invoke(app, ["scrape", "all"], env=env(tmp_path, fake))
    assert result.exit_code == 1
    assert "congress: QuiverQuant answered congress with JSON nested too deep to read" in result.stdout
    assert "lobbying" in result.stdout and "contracts" in result.stdout
    assert API_KEY not in result.output
    # Quiver's words are shown as sent, never read as Rich markup: "[redacted]" was taken
    # for a style tag and vanished, leaving "unknown token " on the terminal.
    assert "insiders: QuiverQuant answered insiders with HTTP 400: unknown token [redacted]" in result.stdout
    jobs = runner.invoke(app, ["jobs", "--json"], env=env(tmp_path, fake))
    assert API_KEY not in jobs.stdout and "[redacted]" in jobs.stdout
