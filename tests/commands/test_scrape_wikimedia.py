"""``pas scrape wiki`` from Wikimedia's Pageviews API (the fake), and a build on its records."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pas.cli import app
from pas.schedule import market_day
from pas.scrapers.wikimedia import USER_AGENT
from tests.fakes.quiver import API_KEY, UNLIMITED_RATES
from tests.fakes.quiver import serve as serve_quiver
from tests.fakes.wikimedia import FakeWikimedia, serve
from tests.test_subprocess import run

runner = CliRunner()


@pytest.fixture
def wm() -> Iterator[FakeWikimedia]:
    with serve() as server:
        yield server


def today() -> date:
    return market_day(datetime.now(UTC))  # the scrape's "today" is New York's


def env(tmp_path: Path, wm: FakeWikimedia, **extra: str) -> dict[str, str]:
    articles = tmp_path / "articles.csv"
    if not articles.exists():
        articles.write_text("ticker,article\nAAA,Aaa_Corp.\nBBB,Bbb_Inc.\nCCC,No_such_page\n")
    return {
        "PAS_HOME": str(tmp_path / "home"),
        "WIKIMEDIA_BASE_URL": wm.url,
        "WIKI_ARTICLES": str(articles),
        **extra,
    }


def test_scrape_wiki_from_wikimedia_needs_no_quiver_key(tmp_path: Path, wm: FakeWikimedia) -> None:
    start = today() - timedelta(days=400)
    wm.add("Aaa_Corp.", start, [100] * 400)
    wm.add("Bbb_Inc.", start, [100] * 400)
    result = runner.invoke(app, ["scrape", "wiki", "--json"], env=env(tmp_path, wm))
    assert result.exit_code == 0, result.output
    (summary,) = json.loads(result.stdout)
    assert summary["status"] == "ok" and summary["requests"] == 3
    assert summary["new"] == 2 * 365
    assert summary["rejected_reasons"] == {
        "no page views for the article (HTTP 404; check its title in WIKI_ARTICLES)": 1
    }
    data = runner.invoke(app, ["data", "wiki", "--ticker", "AAA", "--json", "-n", "1"], env=env(tmp_path, wm))
    (newest,) = json.loads(data.stdout)
    yesterday = today() - timedelta(days=1)
    assert newest["event_date"] == yesterday.isoformat()
    assert newest["public_at"].startswith(today().isoformat())  # public at the end of the day in New York
    assert newest["fields"]["views"] == "100"


def test_without_a_contact_the_scrape_warns_and_with_one_the_agent_carries_it(
    tmp_path: Path, wm: FakeWikimedia
) -> None:
    wm.add("Aaa_Corp.", today() - timedelta(days=3), [5, 5])
    anonymous = runner.invoke(app, ["scrape", "wiki", "--json"], env=env(tmp_path, wm))
    assert anonymous.exit_code == 0, anonymous.output
    assert anonymous.stderr == (
        "warning: Wikimedia asks clients for a contact and may block those without one: "
        "set WIKIMEDIA_CONTACT to your email or URL\n"
    )
    wm.log.clear()
    named = runner.invoke(
        app, ["scrape", "wiki", "--json"], env=env(tmp_path, wm, WIKIMEDIA_CONTACT="ops@example.org")
    )
    assert named.exit_code == 0 and named.stderr == "", named.output
    assert {e.user_agent for e in wm.log} == {"pas/0.1.0 (Portfolio Allocation System; ops@example.org)"}


def test_the_table_names_the_missing_article_count(tmp_path: Path, wm: FakeWikimedia) -> None:
    wm.add("Aaa_Corp.", today() - timedelta(days=3), [5, 5])
    result = runner.invoke(app, ["scrape", "wiki"], env=env(tmp_path, wm, WIKI_SOURCE="wikimedia"))
    assert result.exit_code == 0, result.output
    assert (
        "wiki: rejected rows (no page views for the article (HTTP 404; check its title in WIKI_ARTICLES): 2)"
    ) in " ".join(result.stdout.split())


def test_a_bad_map_exits_2_naming_the_file_and_line(tmp_path: Path, wm: FakeWikimedia) -> None:
    bad = tmp_path / "articles.csv"
    bad.write_text("ticker,article\nAAA,Aaa Corp\n")
    result = runner.invoke(app, ["scrape", "wiki"], env=env(tmp_path, wm))
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {bad} line 2: 'Aaa Corp' is not an article title as in its URL (e.g. Apple_Inc.)\n"
    )
    assert wm.log == []


def test_bad_wiki_source_is_a_settings_error(tmp_path: Path, wm: FakeWikimedia) -> None:
    result = runner.invoke(app, ["scrape", "wiki"], env=env(tmp_path, wm, WIKI_SOURCE="twitter"))
    assert result.exit_code == 2
    assert "WIKI_SOURCE must be one of wikimedia, quiver, got 'twitter'" in result.stderr


def test_scrape_all_takes_wiki_from_wikimedia_and_the_rest_from_quiver(
    tmp_path: Path, wm: FakeWikimedia
) -> None:
    wm.add("Aaa_Corp.", today() - timedelta(days=3), [5, 5])
    no_key = runner.invoke(app, ["scrape", "all"], env=env(tmp_path, wm))
    assert no_key.exit_code == 2 and "QUIVER_API_KEY is not set" in no_key.stderr
    with serve_quiver() as quiver:
        quiver.rows = {"bulk/congresstrading": [], "live/lobbying": [], "live/insiders": []}
        quiver.rows["live/govcontractsall"] = []
        extra = {
            "QUIVER_API_KEY": API_KEY,
            "QUIVER_BASE_URL": quiver.url,
            "QUIVER_RATE_SEC": "0",
            "QUIVER_RATE_LIMITS": UNLIMITED_RATES,
        }
        result = runner.invoke(app, ["scrape", "all", "--json"], env=env(tmp_path, wm, **extra))
        assert result.exit_code == 0, result.output
        assert not any("wikipedia" in path for path in quiver.paths())
    wiki = next(r for r in json.loads(result.stdout) if r["dataset"] == "wiki")
    assert wiki["new"] == 2
    assert {entry.article for entry in wm.log} == {"Aaa_Corp.", "Bbb_Inc.", "No_such_page"}


def test_wiki_attention_builds_from_wikimedia_records(tmp_path: Path, wm: FakeWikimedia) -> None:
    # Nine weeks of views: a flat baseline, then AAA's page draws three times the readers.
    start = today() - timedelta(days=63)
    wm.add("Aaa_Corp.", start, [200] * 56 + [600] * 7)
    wm.add("Bbb_Inc.", start, [200] * 63)
    e = env(tmp_path, wm)
    assert runner.invoke(app, ["scrape", "wiki"], env=e).exit_code == 0
    added = runner.invoke(app, ["portfolio", "add", "att", "--strategy", "wiki_attention"], env=e)
    assert added.exit_code == 0, added.output
    built = runner.invoke(app, ["build", "att", "--dry-run", "--json"], env=e)
    assert built.exit_code == 0, built.output
    assert json.loads(built.stdout)["weights"] == {"AAA": 0.2}, "one name: 20% (min_names 5), the rest cash"


def test_scrape_wiki_as_a_real_process(tmp_path: Path, wm: FakeWikimedia) -> None:
    wm.add("Aaa_Corp.", today() - timedelta(days=3), [5, 5])
    e = env(tmp_path, wm)
    done = run(["scrape", "wiki", "--json"], tmp_path, **{k: v for k, v in e.items() if k != "PAS_HOME"})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["new"] == 2
    assert {entry.user_agent for entry in wm.log} == {USER_AGENT}
    Path(e["WIKI_ARTICLES"]).write_text("ticker\nAAA\n")
    bad = run(["scrape", "wiki"], tmp_path, WIKIMEDIA_BASE_URL=wm.url, WIKI_ARTICLES=e["WIKI_ARTICLES"])
    assert (bad.returncode, bad.stderr) == (
        2,
        f"error: {e['WIKI_ARTICLES']} line 1: the header must be exactly 'ticker,article'\n",
    )
