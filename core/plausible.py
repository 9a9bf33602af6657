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

from core import geography, model, periods
from core.errors import InputError

#: ICBs and sub-ICB locations replaced CCGs and STPs on 1 July 2022; NHS England published
#: by CCG and STP before, and by sub-ICB location and ICB from then on.
ICB_START = dt.date(2022, 7, 1)
#: The seven NHS regions replaced the four older ones on 1 April 2019.
REGIONS_START = dt.date(2019, 4, 1)
#: Below England each count is rounded to the nearest 5, so a part may be up to 2 above its
#: true count: a part counting more than England by more than this is not rounding.
ROUNDING = 4


def check(wide: pd.DataFrame, lines: pd.DataFrame, name: str) -> None:
    consistent(wide, lines, name)
    parts_within_wholes(wide, lines, name)
    areas_of_their_time(wide, lines, name)
    whole_periods(wide, lines, name)


def _first(mask: np.ndarray, lines: pd.DataFrame) -> int | None:
    """The position of the row, among those ``mask`` marks, that comes first in the file
    (None when ``mask`` marks none): the row a refusal names."""
    if not mask.any():
        return None
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
        if (i := _first(cond.fillna(False).to_numpy(), lines)) is not None:
            k = wide.index[i]
            raise InputError(text.format(a=a.iloc[i], b=b.iloc[i]) + f" for {k[2]} {k[3]}, {k[5]}",
                             file=name, row=_row(lines, i, measure))


_WORDS = {"finished": "finished a course of treatment", "not_at_caseness": "not at caseness",
          "recovered": "recovered", "reliable_recovered": "reliable recovery"}


def parts_within_wholes(wide: pd.DataFrame, lines: pd.DataFrame, name: str) -> None:
    """No part counts more people than its whole for the same period: an area more than
    England, a population group more than its area's whole population, a sub-ICB location
    more than its ICB, an ICB more than its region. Each is a value typed into the wrong row, or a file stitched from two.
    Rounding to 5 keeps order (a part's true count is at most its whole's, so its rounded
    count is too); ``ROUNDING`` leaves room for a publisher rounding each the other way."""
    index = wide.index
    level = np.asarray(index.get_level_values("level"))
    group = np.asarray(index.get_level_values("group"))
    parent = (wide["parent_code"].to_numpy(dtype=object) if "parent_code" in wide
              else np.full(len(wide), None, dtype=object))
    # An ICB's region: the file's, or the reference tables' (files rarely give it).
    codes = index.get_level_values("area_code")
    region_of = {c: (geography.icb_region(c) or (None,))[0] for c in set(codes[level == "ICB"])}
    given = pd.Series(parent, dtype=object)
    region = np.where(level == "ICB", np.where(given.notna() & (given != ""), given,
                                                codes.map(region_of).to_numpy(object)), None)
    whole_keys = (
        # England's row for the same period and group
        (level != "England", ["England"] * len(wide), ["ENG"] * len(wide), None, None,
         "England's", "for the same period and group: part of England cannot count more "
         "people than all of it"),
        # the area's whole-population row for the same period
        ((group != "Total") & (level != "England"), level, index.get_level_values("area_code"),
         "Total", "Total", "its whole population's", "for the same period and area: a group "
         "cannot count more people than the whole population"),
        # the parent ICB's row for the same period and group
        (level == "SubICB", ["ICB"] * len(wide), parent, None, None, "its ICB {code}'s",
         "for the same period and group: a sub-ICB location cannot count more people than "
         "its ICB"),
        # the region's row for the same period and group
        (level == "ICB", ["Region"] * len(wide), region, None, None, "its region {code}'s",
         "for the same period and group: an ICB cannot count more people than its region"),
    )
    for parts, lvl, code, breakdown, grp, whose, why in whole_keys:
        if not parts.any():
            continue
        wanted = pd.MultiIndex.from_arrays([
            index.get_level_values("period_start"), index.get_level_values("period_end"),
            lvl, code,
            index.get_level_values("breakdown") if breakdown is None else [breakdown] * len(wide),
            index.get_level_values("group") if grp is None else [grp] * len(wide)])
        at = index.get_indexer(wanted) if index.is_unique else np.full(len(wide), -1)
        has = parts & (at >= 0) & (at != np.arange(len(wide)))
        for measure in model.COUNT_COLUMNS:
            values = wide[measure].to_numpy("float64", na_value=np.nan)
            whole = np.where(has, values[np.maximum(at, 0)], np.nan)
            if (i := _first(has & (values > whole + ROUNDING), lines)) is not None:
                k, whole_code = wide.index[i], wide.index[at[i]][3]
                raise InputError(f"{_WORDS[measure]} for {k[2]} {k[3]}, {model.group_label(k[5])} "
                                 f"({values[i]:,.0f}) is more than {whose.format(code=whole_code)} "
                                 f"({whole[i]:,.0f}) {why}", file=name, row=_row(lines, i, measure))


_LEVEL_WORDS = {"FormerRegion": "former NHS region"}


def areas_of_their_time(wide: pd.DataFrame, lines: pd.DataFrame, name: str) -> None:
    """ICB and sub-ICB rows only from July 2022, CCG and STP rows only before: either the
    other way round means the file's period is wrong (an annual file given the wrong year)."""
    level = wide.index.get_level_values("level")
    start = np.array(wide.index.get_level_values("period_start"), dtype="datetime64[D]")
    end = np.array(wide.index.get_level_values("period_end"), dtype="datetime64[D]")
    cut = np.datetime64(ICB_START)
    too_early = np.asarray(level.isin(["ICB", "SubICB"])) & (end < cut)
    too_late = np.asarray(level.isin(["CCG", "STP"])) & (start >= cut)
    former = np.asarray(level == "FormerRegion") & (start >= np.datetime64(REGIONS_START))
    for wrong, why in (
        (too_early, "which ended before ICBs and sub-ICB locations began on 1 July 2022 "
         "(until then NHS England published by CCG and STP)"),
        (too_late, "which began after CCGs and STPs were replaced by sub-ICB locations and "
         "ICBs on 1 July 2022"),
        (former, "which began after the seven NHS regions replaced the older ones on 1 April "
         "2019"),
    ):
        if (i := _first(wrong, lines)) is not None:
            k = wide.index[i]
            raise InputError(
                f"the file has {_LEVEL_WORDS.get(k[2], k[2])} rows (such as {k[3]} "
                f"{wide['area_name'].iloc[i]}) for "
                f"{periods.period_label(k[0], k[1])}, {why}. Is the period right? An annual "
                "file's year comes from its name or the year given for it",
                file=name, row=_row(lines, i))


#: A period with under this share of the rows of the largest in its file is a piece of
#: another file: the 42 -> 36 ICBs of April 2026 lose far fewer (as ``merge.NEW_CUT_SHARE``).
PIECE_SHARE = 0.5
#: Within one level (England, region, ICB, sub-ICB...), a period with under this share of the
#: rows another period of the file has at that level, under the same areas (CCGs to June
#: 2022, the 42 ICBs, the 36 from April 2026), is a piece: two whole quarters have the same
#: areas and groups.
LEVEL_PIECE_SHARE = 0.8


def _rows(n: int) -> str:
    return f"{n:,} area and group row" + ("" if n == 1 else "s")


def whole_periods(wide: pd.DataFrame, lines: pd.DataFrame, name: str) -> None:
    """Each period in a file with several is whole: one with no England row beside one with
    England, or with under half the rows of the largest, is a piece of another file (two
    joined, or rows pasted in) that would be stored as a quarter of its own."""
    period = pd.MultiIndex.from_arrays([wide.index.get_level_values("period_start"),
                                        wide.index.get_level_values("period_end")])
    codes, labels = pd.factorize(period)
    if len(labels) < 2:
        return
    rows = np.bincount(codes)
    england = np.bincount(codes, weights=np.asarray(
        wide.index.get_level_values("level") == "England", dtype=float)) > 0
    biggest = int(rows.argmax())
    for k in range(len(labels)):
        lacks_england = england.any() and not england[k]
        if lacks_england or rows[k] < PIECE_SHARE * rows[biggest]:
            raise InputError(
                f"the file holds {periods.period_label(*labels[k])} in {_rows(rows[k])}"
                + (" with no England row" if lacks_england else "")
                + f", beside {periods.period_label(*labels[biggest])} in {_rows(rows[biggest])}: "
                "a piece of another period's file (two files joined, or rows pasted in?). "
                "Load each period from its own file",
                file=name, row=_row(lines, _first(codes == k, lines)))
    _whole_levels(wide, lines, name, codes, labels)


def _whole_levels(wide: pd.DataFrame, lines: pd.DataFrame, name: str, codes: np.ndarray,
                  labels: pd.MultiIndex) -> None:
    """Each level of each period as whole as the same level of the file's other periods of
    its era: a whole quarter with 60% of another's rows pasted in (England rows included)
    passed the check on the whole period (a helper's review)."""
    levels, names = pd.factorize(wide.index.get_level_values("level"))
    rows = np.zeros((len(labels), len(names)), dtype=np.int64)
    np.add.at(rows, (codes, levels), 1)
    era = np.array([(end > pd.Timestamp(ICB_START)) + (end > pd.Timestamp(
        geography.REORGANISATION_2026)) for end in pd.to_datetime(labels.get_level_values(1))])
    for k in range(len(labels)):
        peers = np.flatnonzero(era == era[k])
        for j, level in enumerate(names):
            top = int(peers[rows[peers, j].argmax()])
            if rows[k, j] < LEVEL_PIECE_SHARE * rows[top, j]:
                at = (codes == k) & (levels == j)
                raise InputError(
                    f"the file holds {periods.period_label(*labels[k])} with "
                    f"{_rows(rows[k, j])} at {level} level, beside "
                    f"{periods.period_label(*labels[top])} with {rows[top, j]:,}: a piece of "
                    "another period's file (two files joined, or rows pasted in?). Load each "
                    "period from its own file",
                    file=name, row=_row(lines, _first(at, lines)) if at.any()
                    else _row(lines, _first(codes == k, lines)))


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
