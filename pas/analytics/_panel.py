"""Returns as a 2-D float array, and results back in the caller's shape.

Every statistic works on one (rows, portfolios) float64 array, so a single portfolio is a
one-column panel and no statistic loops over portfolios in Python. :class:`Panel` remembers
what the caller passed (1-D or 2-D; ndarray, Series or DataFrame) to give results back in
kind. The NaN-aware reductions here skip missing observations column by column, without the
warnings NumPy's ``nan*`` functions raise for an all-NaN column.
"""

from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from pas.errors import InputError

type FloatArray = npt.NDArray[np.float64]
type ReturnsLike = pd.Series | pd.DataFrame | npt.ArrayLike
"""Daily noncumulative returns: 1-D (one portfolio) or 2-D (one column per portfolio)."""
type Statistic = float | FloatArray | pd.Series
"""A float for 1-D returns; one value per column for 2-D (a Series for a DataFrame)."""
type Threshold = float | pd.Series | npt.ArrayLike
"""A per-period return: a constant, or 1-D and aligned with the rows of the returns."""
type SeriesLike = FloatArray | pd.Series | pd.DataFrame
"""One value per row and portfolio, in the shape and kind of the returns given."""


@dataclass(frozen=True, slots=True)
class Panel:
    """Returns as a (rows, portfolios) float64 array, with what is needed to give results back.

    Attributes:
        values: The returns, one column per portfolio; never written to.
        one_d: Whether the caller passed a single portfolio (1-D input).
        index: The row labels when the caller passed pandas, else None.
        columns: The column labels when the caller passed a DataFrame, else None.
        name: The name of a Series the caller passed.
    """

    values: FloatArray
    one_d: bool
    index: pd.Index | None = None
    columns: pd.Index | None = None
    name: Hashable = None

    @classmethod
    def of(cls, returns: ReturnsLike) -> "Panel":
        """Reads returns given as an array-like, a Series or a DataFrame."""
        if isinstance(returns, pd.DataFrame):
            values = returns.to_numpy(dtype=np.float64, na_value=np.nan)
            return cls(values, one_d=False, index=returns.index, columns=returns.columns)
        if isinstance(returns, pd.Series):
            column = returns.to_numpy(dtype=np.float64, na_value=np.nan)
            return cls(column[:, np.newaxis], one_d=True, index=returns.index, name=returns.name)
        array = np.asarray(returns, dtype=np.float64)
        if array.ndim == 1:
            return cls(array[:, np.newaxis], one_d=True)
        if array.ndim == 2:
            return cls(array, one_d=False)
        raise InputError(
            f"returns must be 1-D (one portfolio) or 2-D (one column per portfolio), "
            f"not {array.ndim}-D; reshape them first"
        )

    @property
    def rows(self) -> int:
        """The number of periods, missing ones included."""
        return int(self.values.shape[0])

    def nan_stat(self) -> Statistic:
        """NaN for every portfolio: the answer for too-short returns."""
        return self.per_portfolio(np.full(self.values.shape[1], np.nan))

    def per_portfolio(self, values: FloatArray) -> Statistic:
        """One value per column, given back as a float, an array or a Series by column."""
        if self.one_d:
            return float(values[0])
        if self.columns is not None:
            return pd.Series(values, index=self.columns, dtype=np.float64)
        return values

    def like_input(self, values: FloatArray) -> SeriesLike:
        """A (rows, portfolios) array given back in the shape and kind of the input."""
        if self.one_d:
            if self.index is not None:
                return pd.Series(values[:, 0], index=self.index, name=self.name)
            return values[:, 0]
        if self.columns is not None:
            return pd.DataFrame(values, index=self.index, columns=self.columns)
        return values

    def aligned(self, other: Threshold, what: str) -> float | FloatArray:
        """A constant, or a (rows, 1) column aligned with the returns' rows.

        A Series is aligned on the index of pandas returns (missing dates become NaN, so
        they drop out like any missing observation); anything else is taken by position.
        """
        if np.ndim(other) == 0:
            return float(np.asarray(other, dtype=np.float64))
        if isinstance(other, pd.Series) and self.index is not None:
            other = other.reindex(self.index)
        if isinstance(other, pd.Series):
            column = other.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            column = np.asarray(other, dtype=np.float64)
        if column.ndim != 1 or len(column) != self.rows:
            raise InputError(
                f"{what} must be a number or 1-D with one value per row of returns "
                f"({self.rows}), not shape {column.shape}; pass pandas objects to align "
                f"them by date"
            )
        return column[:, np.newaxis]


WELL_CONDITIONED = 1e4
"""Largest mean² / variance of a column whose variance is taken from its sums of values and
squares in one pass: that formula loses about log10 of this ratio in digits (under 1e-11
relative here), so columns beyond it, constant ones among them, are computed again from
their deviations in a second pass."""


def nanmean(values: FloatArray) -> FloatArray:
    """Column means over the present (non-NaN) values; NaN for a column with none.

    One pass for columns without a NaN (their sum is finite or ±inf); only a column whose
    sum is NaN is summed again over its present values.
    """
    mean: FloatArray = values.sum(axis=0) / values.shape[0]
    redo = np.isnan(mean)
    if redo.any():
        mean[redo] = _masked_mean(values[:, redo])
    return mean


def _masked_mean(values: FloatArray) -> FloatArray:
    present = ~np.isnan(values)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean: FloatArray = np.add.reduce(values, axis=0, where=present) / present.sum(axis=0)
    return mean


def sum_of_squares(values: FloatArray) -> FloatArray:
    """Each column's sum of squared values, in one pass and without a temporary array."""
    squares: FloatArray = np.einsum("ij,ij->j", values, values)
    return squares


def mean_and_deviation(values: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Column means and sample standard deviations (ddof 1) over the present values.

    Reads ``values`` without writing to them. A column without NaN takes one pass over its
    sums of values and squares (variance = (Σx² − (Σx)²/n) / (n − 1)) when it is well
    conditioned (:data:`WELL_CONDITIONED`); the others (NaN, infinities, constant or
    nearly constant columns) are computed again from their deviations by
    :func:`_two_pass`. The deviation is NaN for a column with fewer than two present
    values, and exactly 0 for one whose present values are all equal.
    """
    rows = values.shape[0]
    total = values.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        mean: FloatArray = total / rows
        variance = (sum_of_squares(values) - total * mean) / (rows - 1)
        stable = (variance > 0) & np.isfinite(variance) & (mean * mean <= WELL_CONDITIONED * variance)
    std: FloatArray = np.sqrt(variance, where=stable, out=np.full_like(variance, np.nan))
    redo = ~stable
    if redo.any():
        mean[redo], std[redo] = _two_pass(values[:, redo])
    return mean, std


def _two_pass(scratch: FloatArray) -> tuple[FloatArray, FloatArray]:
    """:func:`mean_and_deviation` from the deviations from the mean, overwriting ``scratch``.

    A constant column's floating-point mean can differ from its values in the last bit,
    leaving a deviation near 1e-18 that would turn an infinite ratio into an arbitrary
    finite one, so a column whose present values are all equal gets exactly 0
    (empyrical-reloaded makes the same correction).
    """
    constant = np.fmax.reduce(scratch, axis=0) == np.fmin.reduce(scratch, axis=0)
    missing = np.isnan(scratch)
    any_missing = bool(missing.any())
    if any_missing:
        count = scratch.shape[0] - missing.sum(axis=0)
        np.copyto(scratch, 0.0, where=missing)
    else:
        count = np.full(scratch.shape[1], scratch.shape[0])
    with np.errstate(invalid="ignore", divide="ignore"):
        mean: FloatArray = scratch.sum(axis=0) / count
        scratch -= mean
        if any_missing:
            np.copyto(scratch, 0.0, where=missing)
        variance = sum_of_squares(scratch) / (count - 1)
    std = np.where(count < 2, np.nan, np.where(constant, 0.0, np.sqrt(variance)))
    return mean, std
