"""Tidy long exports: one row per period, area, population group and measure.

This is the shape a user takes away (command line ``export``, every CSV download in the app):
plainly named columns, rates as percentages, the published percentage beside our computed one.
Rates and limits keep their full precision (rounded to 6 decimals only to keep the file tidy):
a figure exported as 50.55 re-rounds to 50.6 when the true value, 50.546, is published as
50.5. The display rounds to 1 decimal; the export never does. Below England each rate carries
its range under NHS England's rounding and suppression and a status and note saying whether it
is exact, rounded, approximate, a range or not reliable (``core.rounding``).
Every text cell is neutralised against spreadsheet formula injection: an area name such as
``=HYPERLINK(...)`` from a hostile file must arrive in Excel as text, not run as a formula.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core import model, periods, rounding, stats, unusual

EXPORT_COLUMNS = [
    "period", "period_start", "period_end", "period_type", "level", "area_code", "area_name",
    "parent_code", "parent_name", "breakdown", "group", "measure", "numerator", "denominator",
    "rate", "ci95_low", "ci95_high", "ci998_low", "ci998_high", "rate_low", "rate_high",
    "rate_status", "published_rate", "suppressed", "small_numbers", "synthetic", "derived",
    "source",
    "note",
    # How the figure changed on a year earlier where that is too sharp to take on trust
    # (``core.unusual``): the caution every view shows, kept in the CSV.
    "unusual",
]
#: Added after those where the rows are ICBs in chosen boundaries (issue 10): whether a point
#: was summed across a boundary cut, and how it was made (what moved, for an approximate one).
BOUNDARY_COLUMNS = ["approximate", "boundaries_note"]
#: Decimal places kept in exported rates and limits (display uses 1).
EXPORT_DECIMALS = 6
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: Text starting with any of ``FORMULA_PREFIXES``: one pass over an Arrow column.
_FORMULA_START = "^[" + "".join(re.escape(p) for p in FORMULA_PREFIXES) + "]"
#: Schema metadata of an Arrow table ``neutral_table`` has checked.
NEUTRAL_KEY = b"neutralised"


def neutral_table(table: pa.Table) -> pa.Table:
    """An Arrow table (a display table) with formula text prefixed with ``'``, as
    ``neutralise`` does for a frame, marked in its schema metadata as checked: a view's table
    is made once and shown on every rerun, and the mark saves checking it each time."""
    meta = table.schema.metadata or {}
    if meta.get(NEUTRAL_KEY) == b"1":
        return table
    columns = list(table.columns)
    for i, col in enumerate(columns):
        kind = col.type.value_type if pa.types.is_dictionary(col.type) else col.type
        if pa.types.is_string_view(kind) or kind != col.type and _is_text(kind):
            col = columns[i] = col.cast(pa.large_string())  # checked as plain text
        if not _is_text(col.type):
            continue
        risky = pc.match_substring_regex(col, _FORMULA_START)
        if pc.any(risky).as_py():
            quote, empty = pa.scalar("'", col.type), pa.scalar("", col.type)
            columns[i] = pc.if_else(risky, pc.binary_join_element_wise(quote, col, empty), col)
    return pa.Table.from_arrays(columns, names=table.column_names,
                                metadata={**meta, NEUTRAL_KEY: b"1"})


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)



def select(
    frame: pd.DataFrame,
    *,
    level: str | None = None,
    area: str | None = None,
    group: str | None = None,
    breakdown: str | None = None,
    period_type: str | None = None,
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
) -> pd.DataFrame:
    """Rows matching every filter given; ``area`` matches a code or a name (any case)."""
    mask = pd.Series(True, index=frame.index)
    if level:
        mask &= frame["level"].str.lower() == level.lower()
    if area:
        a = area.strip().lower()
        mask &= (frame["area_code"].str.lower() == a) | (frame["area_name"].str.lower() == a)
    if group:
        mask &= frame["group"].str.lower() == group.lower()
    if breakdown:
        mask &= frame["breakdown"].str.lower() == breakdown.lower()
    if period_type:
        mask &= frame["period_type"] == period_type
    if start:
        mask &= frame["period_end"] >= _as_date(start, first=True)
    if end:
        mask &= frame["period_start"] <= _as_date(end, first=False)
    return frame[mask]


def _as_date(value: str | dt.date, *, first: bool) -> dt.date:
    """Accept a date, a quarter label (``2024/25 Q3``) or a financial year (``2024/25``)."""
    if isinstance(value, dt.date):
        return value
    text = value.strip()
    if " Q" in text:
        start = periods.quarter_start(text)
        return start if first else periods.quarter_end(start)
    if len(text) == 7 and text[4] in "/-":
        year = int(text[:4])
        return dt.date(year, 4, 1) if first else dt.date(year + 1, 3, 31)
    return periods.parse_date(text)


def to_long(frame: pd.DataFrame, measures: list[str] | None = None) -> pd.DataFrame:
    """The export shape: rates from counts (percent), intervals, published rate, flags.

    The rate and its intervals are the ones the product displays (``rounding.assess``): no
    rate above 100% or outside its interval; where "not at caseness" was suppressed the rate
    is the middle of its range and the intervals cover the whole range.
    """
    parts = []
    for measure in measures or list(model.MEASURES):
        rated = stats.add_rates(frame, measure)
        numerator = model.MEASURES[measure]["numerator"]
        a95 = rounding.assess_frame(frame, numerator, 0.95)
        a998 = rounding.assess_frame(frame, numerator, 0.998, notes=False)
        rated["rate"] = a95["rate"]
        rated["ci95_low"], rated["ci95_high"] = a95["ci_low"], a95["ci_high"]
        rated["ci998_low"], rated["ci998_high"] = a998["ci_low"], a998["ci_high"]
        rated["rate_low"], rated["rate_high"] = a95["rate_low"], a95["rate_high"]
        rated["rate_status"], rated["note"] = a95["status"], a95["note"]
        rated["measure"] = measure
        parts.append(rated)
    if not parts or frame.empty:
        extra = BOUNDARY_COLUMNS if "geo_approximate" in frame.columns else []
        return pd.DataFrame(columns=EXPORT_COLUMNS + extra)
    out = pd.concat(parts, ignore_index=True)
    if "derived" not in out:  # a frame from before rows carried it reads as a format-2 store
        out["derived"] = False
    for c in ("rate", "ci95_low", "ci95_high", "ci998_low", "ci998_high", "rate_low",
              "rate_high"):
        out[c] = out[c].astype(float).round(EXPORT_DECIMALS)
    for c in ("numerator", "denominator"):
        out[c] = out[c].astype("Int64")
    out["unusual"] = unusual.tidy_column(out)
    columns = list(EXPORT_COLUMNS)
    if "geo_approximate" in out.columns:
        out["approximate"] = out["geo_approximate"].fillna(False).astype(bool)
        out["boundaries_note"] = (out["geo_note"].fillna("").astype(object)
                                  if "geo_note" in out.columns else "")
        columns += BOUNDARY_COLUMNS
    return out[columns].sort_values(
        ["measure", "period_start", "level", "area_code", "breakdown", "group"], kind="stable"
    )


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text that a spreadsheet would run as a formula with an apostrophe (the frame
    itself when it holds none). Read as plain objects: a mask mapped over pandas' "str" dtype
    comes back as text, not booleans."""
    out = None
    for c in frame.columns:
        col = frame[c]
        if not (col.dtype == object or pd.api.types.is_string_dtype(col)):
            continue
        values = col.to_numpy(dtype=object)
        risky = np.fromiter((isinstance(v, str) and v.startswith(FORMULA_PREFIXES)
                             for v in values), dtype=bool, count=len(values))
        if risky.any():
            values = values.copy()
            values[risky] = ["'" + v for v in values[risky]]
            out = frame.copy() if out is None else out
            out[c] = values
    return frame if out is None else out


def to_csv(frame: pd.DataFrame) -> str:
    """RFC 4180 line ends: with ``\r\n`` as the terminator the writer quotes any field holding
    a lone ``\r`` or ``\n``, so a name such as ``"x\r=cmd"`` cannot start a new row with a
    formula (with ``\n`` alone a bare ``\r`` went out unquoted)."""
    return neutralise(frame).to_csv(index=False, lineterminator="\r\n", na_rep="")
