"""A view's columns as plain arrays: taken at a few positions, joined end to end, given
their rates, and made into a frame once, at the end.

A compare table or a trend reads a few dozen rows out of the whole store; taking them from
NumPy (or pandas') arrays costs microseconds where each pandas step on a frame costs about a
millisecond, so ``core.explore``, ``core.comparing`` and ``core.ranking`` work on these
column dictionaries and build a frame only when the view is finished.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from core import model, stats

#: No rows: the positions of a series or slice the store does not hold.
NO_ROWS = np.array([], dtype=int)


def floats(values: object) -> np.ndarray:
    """A column's values (NumPy or a pandas array) as floats, NaN where missing."""
    if isinstance(values, np.ndarray):
        return values if values.dtype.kind == "f" else values.astype("float64")
    return values.to_numpy("float64", na_value=np.nan)


def texts(values: object) -> list:
    """A text column's values as a Python list (None/NaN kept as they are)."""
    return values.tolist() if isinstance(values, np.ndarray) else list(values)


def objects(values: object) -> np.ndarray:
    """A column's values (NumPy, a pandas array or a Series) as an object array, missing
    values as they are (None, NaN)."""
    if isinstance(values, np.ndarray):
        return values if values.dtype == object else values.astype(object)
    return values.to_numpy(object)


def flags(values: object) -> np.ndarray:
    """A yes/no column's values as booleans, False where missing."""
    if isinstance(values, np.ndarray):
        if values.dtype == bool:
            return values
        if values.dtype.kind in "iuf":
            return np.nan_to_num(values.astype(float)) != 0
        values = pd.array(values, dtype="boolean")
    return values.to_numpy(dtype=bool, na_value=False)


def for_arrow(values: object) -> object:
    """A column as an Arrow table is built from it: plain NumPy where it is numeric (Arrow
    copies that in microseconds, a pandas array a hundred times slower), text as a frame
    holds it (Arrow's large strings), so a table made from a frame or from its arrays is the
    same table."""
    if isinstance(values, np.ndarray):
        if values.dtype.kind in "fiub":
            return values
        try:
            return pa.array(values, type=pa.large_string(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return values
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "fiub":
        return values.to_numpy()
    return values.array if isinstance(values, pd.Series) else values


def n_rows(data: object) -> int:
    """Rows of a frame or of a dictionary of columns (``len`` of a dictionary counts its
    columns)."""
    if isinstance(data, pd.DataFrame):
        return len(data)
    return len(next(iter(data.values()))) if len(data) else 0


def add_rates(columns: dict[str, object], measure: str) -> dict[str, object]:
    """``columns`` (an area's stored columns) with the rate, its intervals, the published
    rate and the small-numbers flag of ``measure``, added in place; returns them."""
    spec = model.MEASURES[measure]
    num = floats(columns[spec["numerator"]])
    den = floats(columns["finished"]) - floats(columns["not_at_caseness"])
    columns.update(stats.rate_columns(num, den))
    columns["published_rate"] = floats(columns[spec["published"]])
    columns["small_numbers"] = den < stats.SMALL_DENOMINATOR
    return columns


#: The columns that say which period and population a row is for.
PERIOD_KEYS = ("period", "period_start", "period_end", "period_type", "breakdown", "group",
                "group_parent")


def join(a: object, b: object) -> object:
    """Two pieces of one column, end to end, keeping the column's type."""
    if isinstance(a, np.ndarray):
        return np.concatenate([a, np.asarray(b, dtype=a.dtype)])
    return type(a)._concat_same_type([a, b])


def rank_descending(values: np.ndarray) -> np.ndarray:
    """The order ``sort_values(ascending=False, na_position="last")`` gives a float column
    (pandas' own steps, ties included), without building a frame to sort."""
    values = np.asarray(values, dtype=float)
    mask = np.isnan(values)
    idx = np.arange(len(values))
    non_nans, non_nan_idx = values[~mask][::-1], idx[~mask][::-1]
    indexer = non_nan_idx[non_nans.argsort(kind="quicksort")][::-1]
    return np.concatenate([indexer, np.flatnonzero(mask)])


class Coded:
    """A text column kept as codes into its distinct values. Taking a few dozen rows costs
    two NumPy takes (microseconds) where pandas' Arrow-backed text costs about 60 µs a take,
    and the codes cost 2 or 4 bytes a row; rows come back as an object array (None where
    missing), which a frame reads as text again."""

    __slots__ = ("codes", "values")

    def __init__(self, column: pd.Series):
        codes, distinct = pd.factorize(column)
        self.codes = codes.astype(np.int16 if len(distinct) < 2**15 else np.int32)
        self.values = np.append(distinct.to_numpy(object), None)

    def take(self, at: np.ndarray) -> np.ndarray:
        return self.values[self.codes[at]]


def take_columns(columns: dict[str, object], at: np.ndarray) -> dict[str, object]:
    """Every column's values at positions ``at``."""
    return {c: v[at] if isinstance(v, np.ndarray) else v.take(at) for c, v in columns.items()}


def frame_of(columns: dict[str, object], index: pd.Index | None = None,
             objects: tuple[str, ...] = ("period_start", "period_end", "geo_note")
             ) -> pd.DataFrame:
    """One frame from finished columns, built once. The ``objects`` columns keep the object
    dtype they have in the store (dates; ``geo_note``); other text arrays become pandas'
    text dtype, as the store's text columns are, even with no rows or no value
    (``Coded`` gives text as objects, and pandas would leave those as objects)."""
    def column(name: str, values: object) -> object:
        if not isinstance(values, np.ndarray) or values.dtype != object:
            return values
        if name in objects:
            return pd.Series(values, dtype=object, index=index, copy=False)
        if all(v is None or isinstance(v, str) for v in values.tolist()):
            return pd.array(values, dtype="str")
        return values

    return pd.DataFrame({c: column(c, v) for c, v in columns.items()}, index=index, copy=False)
