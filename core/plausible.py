"""Checks that a file's figures could be true, each refusing the file at the first row that
cannot be: counts that contradict each other, a part of England counting more people than
England, and areas that did not exist in the file's period (the sign of a wrong year).

Each takes the file one row per period, area and group (``wide``, indexed by
``model.KEY_COLUMNS``) and the file line of each value (``lines``), so a refusal names the
row a maintainer can open.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from core import model, periods
from core.errors import InputError

#: ICBs and sub-ICB locations replaced CCGs and STPs on 1 July 2022; NHS England published
#: by CCG and STP before, and by sub-ICB location and ICB from then on.
ICB_START = dt.date(2022, 7, 1)
#: Below England each count is rounded to the nearest 5, so a part may be up to 2 above its
#: true count: a part counting more than England by more than this is not rounding.
ROUNDING = 4


def check(wide: pd.DataFrame, lines: pd.DataFrame, name: str) -> None:
    consistent(wide, lines, name)
    within_england(wide, lines, name)
    areas_of_their_time(wide, lines, name)


def _first(mask: np.ndarray, lines: pd.DataFrame) -> int:
    """The position of the row, among those ``mask`` marks, that comes first in the file."""
    return int(np.argmin(np.where(mask, lines.min(axis=1).to_numpy(), np.inf)))


def _row(lines: pd.DataFrame, i: int, measure: str | None = None) -> int | None:
    line = lines[measure].iloc[i] if measure in lines else lines.iloc[i].min()
    return None if pd.isna(line) else int(line)


def consistent(wide: pd.DataFrame, lines: pd.DataFrame, name: str) -> None:
    """Not at caseness within finished, recovered within those at caseness, reliable
    recovery within recovery (allowing for rounding below England)."""
    # A difference of two rounded counts can be off by up to 10 without anything being wrong.
    tol = np.where(wide.index.get_level_values("level") == "England", 0, 10)
    fin, nac = wide["finished"], wide["not_at_caseness"]
    rec, rel = wide["recovered"], wide["reliable_recovered"]
    checks = (
        ("not_at_caseness", nac > fin + tol, "not at caseness ({a:,.0f}) is more than finished "
         "a course of treatment ({b:,.0f})", nac, fin),
        ("recovered", rec > fin - nac + tol, "recovered ({a:,.0f}) is more than finished minus "
         "not at caseness ({b:,.0f}), the most who could recover", rec, fin - nac),
        ("reliable_recovered", rel > rec + tol, "reliable recovery ({a:,.0f}) is more than "
         "recovery ({b:,.0f})", rel, rec),
    )
    for measure, cond, text, a, b in checks:
        cond = cond.fillna(False)
        if cond.any():
            i = cond.to_numpy().nonzero()[0][0]
            k = wide.index[i]
            raise InputError(text.format(a=a.iloc[i], b=b.iloc[i]) + f" for {k[2]} {k[3]}, {k[5]}",
                             file=name, row=_row(lines, i, measure))


_WORDS = {"finished": "finished a course of treatment", "not_at_caseness": "not at caseness",
          "recovered": "recovered", "reliable_recovered": "reliable recovery"}


def within_england(wide: pd.DataFrame, lines: pd.DataFrame, name: str) -> None:
    """No region, ICB or smaller area counts more people than England does for the same
    period and group: a value typed into the wrong row, or a file stitched from two."""
    level = wide.index.get_level_values("level")
    england = np.asarray(level == "England")
    if not england.any() or england.all():
        return
    key = pd.MultiIndex.from_arrays([wide.index.get_level_values(k) for k in
                                     ("period_start", "period_end", "breakdown", "group")])
    if not key[england].is_unique:  # two England rows for one group: refused elsewhere
        return
    at = key[england].get_indexer(key)
    has = (at >= 0) & ~england
    for measure in model.COUNT_COLUMNS:
        values = wide[measure].to_numpy("float64", na_value=np.nan)
        whole = np.where(has, values[england][np.maximum(at, 0)], np.nan)
        over = has & (values > whole + ROUNDING)
        if over.any():
            i = _first(over, lines)
            k = wide.index[i]
            raise InputError(
                f"{_WORDS[measure]} for {k[2]} {k[3]}, {model.group_label(k[5])} "
                f"({values[i]:,.0f}) is more than England's ({whole[i]:,.0f}) for the same "
                "period and group: part of England cannot count more people than all of it",
                file=name, row=_row(lines, i, measure))


def areas_of_their_time(wide: pd.DataFrame, lines: pd.DataFrame, name: str) -> None:
    """ICB and sub-ICB rows only from July 2022, CCG and STP rows only before: either the
    other way round means the file's period is wrong (an annual file given the wrong year)."""
    level = wide.index.get_level_values("level")
    start = np.array(wide.index.get_level_values("period_start"), dtype="datetime64[D]")
    end = np.array(wide.index.get_level_values("period_end"), dtype="datetime64[D]")
    cut = np.datetime64(ICB_START)
    too_early = np.asarray(level.isin(["ICB", "SubICB"])) & (end < cut)
    too_late = np.asarray(level.isin(["CCG", "STP"])) & (start >= cut)
    for wrong, why in (
        (too_early, "which ended before ICBs and sub-ICB locations began on 1 July 2022 "
         "(until then NHS England published by CCG and STP)"),
        (too_late, "which began after CCGs and STPs were replaced by sub-ICB locations and "
         "ICBs on 1 July 2022"),
    ):
        if wrong.any():
            i = _first(wrong, lines)
            k = wide.index[i]
            raise InputError(
                f"the file has {k[2]} rows (such as {k[3]} {wide['area_name'].iloc[i]}) for "
                f"{periods.period_label(k[0], k[1])}, {why}. Is the period right? An annual "
                "file's year comes from its name or the year given for it",
                file=name, row=_row(lines, i))


#: Points by which NHS England's own percentage may differ from the one its counts give at
#: England level (unrounded counts). Published to one decimal place it differs by 0.05 at
#: most (checked on every real and synthetic England row); a whole point leaves room for a
#: publication rounded to whole numbers, and swapped measures differ by several points.
PUBLISHED_SLACK = 1.0


def published_rate_warnings(frame: pd.DataFrame) -> list[str]:
    """England rows whose published percentage is not the rate their counts give: the sign of
    measures relabelled or swapped (M192 read as M195, say). A warning, not a refusal: the
    counts are what the product uses, and they pass every check."""
    out = []
    england = frame[(frame["level"] == "England").to_numpy()]
    for numerator, published, words in (
            ("recovered", "published_recovery", "recovery"),
            ("reliable_recovered", "published_reliable", "reliable recovery")):
        counts = england["finished"] - england["not_at_caseness"]
        rate = 100 * england[numerator] / counts.where(counts > 0)
        gap = (rate - england[published]).abs()
        off = gap.to_numpy("float64", na_value=np.nan) > PUBLISHED_SLACK
        if off.any():
            row = england[off].iloc[0]
            out.append(
                f"Warning: the published {words} percentage for England "
                f"({row['period']}, {model.group_label(row['group'])}) is "
                f"{row[published]:g}%, but its counts give {rate[off].iloc[0]:.1f}% "
                f"({off.sum()} such row{'s' if off.sum() > 1 else ''}). Check that the "
                "measures are labelled as NHS England labels them: the product uses the "
                "counts.")
    return out
