"""The bundled synthetic sample: what it holds, that loading it is an upsert, and that its
generator is deterministic."""

from __future__ import annotations

import gzip
import subprocess
import sys
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from pas.demo.sample import DATASET_NAMES, load_sample, manifest, sample_prices, sample_range, sample_records
from pas.records import UpsertCounts
from pas.scrapers import DATASETS
from pas.store.sqlite import SqliteStore
from tests.conftest import FakeClock

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "make_demo_data.py"
SHIPPED = ROOT / "pas" / "demo" / "data"


@pytest.fixture
def sqlite(tmp_path: Path, clock: FakeClock) -> SqliteStore:
    # SQLite only: mongomock takes minutes over the sample's 50,000 rows; the upserts
    # themselves are covered on every backend by the store's contract tests.
    return SqliteStore(tmp_path / "pas.db", clock=clock)


def test_loading_twice_changes_nothing(sqlite: SqliteStore) -> None:
    first = load_sample(sqlite)
    expected = manifest()["records"]
    assert set(first.records) == set(DATASET_NAMES) == set(DATASETS)
    assert {name: c.new for name, c in first.records.items()} == expected
    assert all(c.new > 0 and c.updated == 0 and c.unchanged == 0 for c in first.records.values())
    assert first.prices == len((*first.symbols, first.benchmark)) * manifest()["price_days"]

    again = load_sample(sqlite)
    assert again.records == {name: UpsertCounts(0, 0, n) for name, n in expected.items()}
    for name in DATASET_NAMES:
        assert len(sqlite.records(name)) == expected[name]


def test_the_sample_spans_three_years_of_trading_days_for_forty_tickers_and_spy(sqlite: SqliteStore) -> None:
    summary = load_sample(sqlite)
    first, last = sample_range()
    assert (first.isoformat(), last.isoformat()) == ("2023-01-03", "2025-12-31")
    assert (summary.first_day, summary.last_day) == (first, last)
    assert summary.benchmark == "SPY"
    assert len(summary.symbols) == 40 and all(s.startswith("SYN") for s in summary.symbols)
    latest = sqlite.latest_prices([*summary.symbols, "SPY"])
    assert {p.day for p in latest.values()} == {last} and len(latest) == 41
    days = {p.day for p in sample_prices()}
    assert len(days) == manifest()["price_days"] == 753
    assert all(d.weekday() < 5 for d in days)


def test_no_record_is_public_after_the_day_after_the_last_price_day() -> None:
    _, last = sample_range()
    limit = datetime.combine(last + timedelta(1), time(), UTC)
    for name in DATASET_NAMES:
        records = sample_records(name)
        assert records, name
        assert all(r.dataset == name and r.public_at <= limit for r in records)
        assert all(r.ticker.startswith("SYN") for r in records)


def test_every_file_says_it_is_synthetic() -> None:
    assert manifest()["synthetic"] is True
    assert "SYNTHETIC" in (SHIPPED / "README.md").read_text()


def _generate(out: Path, *extra: str) -> None:
    subprocess.run([sys.executable, str(SCRIPT), "--out", str(out), *extra], check=True, cwd=ROOT)


def test_the_generator_is_deterministic(tmp_path: Path) -> None:
    small = ("--tickers", "4", "--start", "2025-10-01", "--end", "2025-12-31")
    _generate(tmp_path / "a", *small)
    _generate(tmp_path / "b", *small)
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "b").iterdir())
    assert {"prices.csv.gz", "manifest.json", "README.md", *(f"{n}.jsonl.gz" for n in DATASET_NAMES)} == set(
        names
    )
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


@pytest.mark.slow
def test_the_shipped_files_are_what_the_script_writes(tmp_path: Path) -> None:
    _generate(tmp_path)
    for path in SHIPPED.iterdir():
        made = (tmp_path / path.name).read_bytes()
        shipped = path.read_bytes()
        if path.suffix == ".gz":  # compressed bytes may differ between zlib builds
            made, shipped = gzip.decompress(made), gzip.decompress(shipped)
        assert made == shipped, f"{path.name} is stale: run scripts/make_demo_data.py"


def test_the_files_are_small() -> None:
    assert sum(p.stat().st_size for p in SHIPPED.iterdir()) < 1_200_000
