"""Writes a report and the trades CSV beside it: ``report.html`` and ``report.trades.csv``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pas.errors import StoreError
from pas.report.activity import trades_csv
from pas.report.data import ReportData
from pas.report.html import render_report


@dataclass(frozen=True)
class WrittenReport:
    """The files a report wrote.

    Attributes:
        html: the report; ``size`` is its length in bytes (UTF-8).
        trades: the CSV of every trade (:data:`pas.report.activity.CSV_COLUMNS`).
    """

    html: Path
    trades: Path
    size: int


def trades_path(report_path: Path) -> Path:
    """The trades CSV beside a report: ``report.html`` → ``report.trades.csv``."""
    return report_path.with_name(f"{report_path.stem}.trades.csv")


def write_report(data: ReportData, out: Path) -> WrittenReport:
    """Renders ``data`` to ``out`` and writes its trades to :func:`trades_path` of it.

    Raises:
        StoreError: a file cannot be written.
    """
    trades = trades_path(out)
    html = render_report(data, trades.name).encode("utf-8")
    _write(out, html)
    _write(trades, trades_csv(t for found in data.trades.values() for t in found).encode("utf-8"))
    return WrittenReport(out, trades, len(html))


def _write(path: Path, content: bytes) -> None:
    try:
        path.write_bytes(content)
    except OSError as exc:
        raise StoreError(f"cannot write {path}: {exc.strerror or exc}") from None
