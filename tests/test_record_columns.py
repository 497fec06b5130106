"""RecordColumns read from the stores' texts: the fixed-width fast path and its fallback."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from pas.records import RecordColumns


# NumPy warns that it will stop reading a time zone: times are read without their "Z".
@pytest.mark.filterwarnings("error")
def test_times_of_the_stored_width_and_of_any_other_width_read_alike() -> None:
    stored = RecordColumns.from_texts(
        ["A", "B"], "1969-12-31,2026-01-02", "1969-12-31T23:59:59.500000Z,2026-01-02T15:04:05.000001Z", {}
    )
    assert stored.event_date.tolist() == [date(1969, 12, 31), date(2026, 1, 2)]
    assert stored.public_at.tolist() == [
        datetime(1969, 12, 31, 23, 59, 59, 500_000),
        datetime(2026, 1, 2, 15, 4, 5, 1),
    ]
    # Times of other widths are not read as fixed-width bytes, where they would shift the
    # later times: neither when the total length differs nor when it happens to fit.
    odd = RecordColumns.from_texts(
        ["A", "B"], "999-01-02,2026-01-02", "999-01-02T00:00:00Z,2026-01-02T15:04:05Z", {}
    )
    assert odd.event_date.tolist() == [date(999, 1, 2), date(2026, 1, 2)]
    assert odd.public_at.tolist() == [datetime(999, 1, 2), datetime(2026, 1, 2, 15, 4, 5)]
    fits = RecordColumns.from_texts(
        ["A", "B"], "1970-01-01,1970-01-22", "2026-01-02T15:04:05.0001Z,2026-01-02T15:04:05.00000100Z", {}
    )
    assert fits.event_date.tolist() == [date(1970, 1, 1), date(1970, 1, 22)]
    assert fits.public_at.tolist() == [datetime(2026, 1, 2, 15, 4, 5, 100), datetime(2026, 1, 2, 15, 4, 5, 1)]


def test_no_records_are_empty_columns_of_their_types() -> None:
    empty = RecordColumns.from_texts([], None, None, {"views": []})
    assert len(empty) == 0
    assert (str(empty.event_date.dtype), str(empty.public_at.dtype)) == ("datetime64[D]", "datetime64[us]")
