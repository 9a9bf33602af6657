"""Merging a file's rows into the stored rows, and what a merge would do, in words.

Pure functions on frames (no files): the store, the preview and the upload page share them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core import model, periods, plausible
from core.errors import InputError
from core.readers import ReadResult
from core.validate import unread_words

#: A file covering less than this share of the areas-and-groups the store holds for one of
#: its periods is taken for a cut file (a real republication covers the same rows).
CUT_SHARE = 0.9


@dataclass
class MergeReport:
    """What a merge did, for the command line and the upload page to say in words."""

    added: int = 0
    replaced: int = 0
    unchanged: int = 0
    periods_added: list[str] = field(default_factory=list)
    periods_replaced: list[str] = field(default_factory=list)
    new_areas: list[tuple[str, str, str]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    #: Stored values kept because the file had none there and did not mark them suppressed.
    kept_values: int = 0
    synthetic_removed: int = 0
    #: Said after the rest: what went wrong once the data was saved.
    warnings: list[str] = field(default_factory=list)

    @property
    def changes_nothing(self) -> bool:
        """Every row is already stored with these values (the file was loaded before): a
        store given this merge writes no new version, and says so."""
        return not (self.added or self.replaced or self.synthetic_removed)

    def lines(self) -> list[str]:
        if self.changes_nothing:
            out = [f"Nothing to change: all {self.unchanged:,} rows are already stored with "
                   "these values (was the file loaded before?)."]
        else:
            out = [f"Added {self.added:,} rows, replaced {self.replaced:,}, "
                   f"{self.unchanged:,} identical to what was stored."]
        if self.synthetic_removed:
            out.append(f"Synthetic sample rows removed: {self.synthetic_removed:,}.")
        if self.periods_added:
            out.append("New periods: " + ", ".join(self.periods_added) + ".")
        if self.periods_replaced:
            # A period is "replaced" only where a value in it changes.
            out.append(("Periods updated: " if self.replaced else "Periods already stored: ")
                       + ", ".join(self.periods_replaced) + ".")
        if self.kept_values:
            out.append(f"Stored values kept where the file has none and does not mark them "
                       f"suppressed: {self.kept_values:,}.")
        if self.new_areas:
            shown = ", ".join(f"{c} {n} ({lvl})" for lvl, c, n in self.new_areas[:10])
            more = f" and {len(self.new_areas) - 10} more" if len(self.new_areas) > 10 else ""
            out.append(f"Area codes not stored before: {shown}{more}.")
        return out + self.warnings


def _key(frame: pd.DataFrame) -> pd.MultiIndex:
    return pd.MultiIndex.from_arrays([frame[c] for c in model.KEY_COLUMNS])


def _protect(stored: pd.DataFrame, incoming: pd.DataFrame, old_key: pd.MultiIndex,
             new_key: pd.MultiIndex) -> tuple[pd.DataFrame, int]:
    """``incoming`` with each missing value that the store holds filled from the store, unless
    the incoming row is marked suppressed: a missing value is no reason to lose a number."""
    if stored.empty or incoming.empty:
        return incoming, 0
    pos = old_key.get_indexer(new_key)
    guard = (pos >= 0) & ~incoming["suppressed"].to_numpy(dtype=bool)
    if not guard.any():
        return incoming, 0
    out, kept = None, 0
    for c in (*model.COUNT_COLUMNS, *model.PERCENT_COLUMNS):
        rows = guard & incoming[c].isna().to_numpy()
        if not rows.any():
            continue
        old = stored[c].iloc[pos[rows]]
        have = old.notna().to_numpy()
        if not have.any():
            continue
        out = incoming.copy() if out is None else out
        target = out.index[rows][have]
        out.loc[target, c] = old.to_numpy()[have]
        kept += int(have.sum())
    return (incoming if out is None else out), kept


def diff(stored: pd.DataFrame, incoming: pd.DataFrame) -> MergeReport:
    """What merging ``incoming`` would do, without building the merged store."""
    old_key, new_key = _key(stored), _key(incoming)
    incoming, kept = _protect(stored, model.conform(incoming), old_key, new_key)
    report = _diff(stored, incoming, old_key, new_key)
    report.kept_values = kept
    return report


def _diff(stored: pd.DataFrame, incoming: pd.DataFrame, old_key: pd.MultiIndex,
          new_key: pd.MultiIndex) -> MergeReport:
    report = MergeReport()
    hit = new_key.isin(old_key)
    report.added = int((~hit).sum())
    if hit.any():
        values = [*model.COUNT_COLUMNS, *model.PERCENT_COLUMNS, "area_name", "suppressed",
                  "derived"]
        positions = old_key.get_indexer(new_key[hit])
        before = stored.iloc[positions][values].reset_index(drop=True)
        after = incoming[hit][values].reset_index(drop=True)
        same = pd.Series(True, index=range(len(after)))
        for c in values:
            x, y = before[c].astype(object), after[c].astype(object)
            equal = pd.Series([a == b for a, b in zip(x, y, strict=True)], dtype=object)
            same &= (x.isna() & y.isna()) | equal.fillna(False).astype(bool)
        report.unchanged = int(same.sum())
        report.replaced = int((~same).sum())
    old_periods = set(stored["period"].unique())
    for period in dict.fromkeys(incoming.sort_values("period_start")["period"]):
        (report.periods_replaced if period in old_periods else report.periods_added).append(period)
    known = set(stored[["level", "area_code"]].drop_duplicates().itertuples(index=False, name=None))
    areas = incoming.drop_duplicates(["level", "area_code"])
    report.new_areas = [
        (lvl, code, name)
        for lvl, code, name in zip(areas["level"], areas["area_code"], areas["area_name"], strict=True)
        if (lvl, code) not in known and stored.shape[0] > 0
    ]
    report.sources = sorted(set(incoming["source"]))
    return report


def merge(stored: pd.DataFrame, incoming: pd.DataFrame) -> tuple[pd.DataFrame, MergeReport]:
    """Rows of ``incoming`` replace stored rows with the same period, area and group.

    A value the file leaves missing without marking the row suppressed keeps the stored value
    (a file cut or damaged in transit must not blank good numbers); everything not in
    ``incoming`` is kept as it was.
    """
    old_key, new_key = _key(stored), _key(incoming)
    incoming = model.conform(incoming)
    incoming, kept_values = _protect(stored, incoming, old_key, new_key)
    report = _diff(stored, incoming, old_key, new_key)
    report.kept_values = kept_values
    kept = stored[~old_key.isin(new_key)]
    # conform() hands back a conforming frame as it is, so copy before sorting in place.
    merged = pd.concat([kept, incoming], ignore_index=True) if len(kept) else incoming.copy()
    del kept
    if not merged.dtypes.equals(incoming.dtypes):
        merged = model.conform(merged)
    merged.sort_values(["period_start", "level", "area_code", "breakdown", "group"],
                       kind="stable", inplace=True, ignore_index=True)
    return merged, report


# --- what a file covers ------------------------------------------------------------------------


#: A period the store does not hold yet is compared with the one before it: a file with
#: fewer than this share of its area-and-group rows, or with no rows at a tier it had, looks
#: cut short. Lower than ``CUT_SHARE``: boundaries change (135 CCGs became 106 sub-ICB
#: locations; 42 ICBs become 36 in April 2026), and a cut file loses half on average.
NEW_CUT_SHARE = 0.5
#: Levels of one tier, for comparing periods either side of a boundary change.
_TIER = {"STP": "ICB", "CCG": "SubICB", "FormerRegion": "Region"}


def _keys(rows: pd.DataFrame) -> set[tuple]:
    return set(zip(rows["level"], rows["area_code"], rows["breakdown"], rows["group"],
                   strict=True))


def _previous(stored: pd.DataFrame, inc: pd.DataFrame) -> tuple[str | None, set[tuple]]:
    """The stored period of the same type nearest ``inc``'s (the one before it, else the one
    after) and its row keys; none when that period is on the other side of July 2022, when
    CCGs and STPs gave way to sub-ICB locations and ICBs (the annual files from 2022-23 have
    no sub-ICB rows at all), so the two cannot be compared."""
    kind, start = inc["period_type"].iloc[0], inc["period_start"].iloc[0]
    same = stored[(stored["period_type"] == kind) & (stored["period_start"] != start)]
    if not len(same):
        return None, set()
    before = same[same["period_start"] < start]
    near = (before["period_start"].max() if len(before) else same["period_start"].min())
    rows = same[same["period_start"] == near]
    if _icb_era(rows["period_end"].iloc[0]) != _icb_era(inc["period_end"].iloc[0]):
        return None, set()
    return str(rows["period"].iloc[0]), _keys(rows)


def _icb_era(end: object) -> bool:
    """Whether a period ending on ``end`` was published by ICB (it ends after July 2022)."""
    return pd.Timestamp(end) >= pd.Timestamp(plausible.ICB_START)


#: A file may mark as suppressed (or set to 0) at most this share of the counts the store
#: holds for the rows it replaces: a republication suppresses a handful anew, a file blanked
#: in a spreadsheet (a column cleared, values pasted as '*', formulas lost) almost all.
BLANK_SHARE = 0.05


def _blanked(stored: pd.DataFrame, incoming: pd.DataFrame) -> dict[str, tuple[int, int, str]]:
    """Per period: stored counts the file would turn into suppressed ones, the stored counts in
    the rows it replaces, and the first such count in words."""
    pos = _key(stored).get_indexer(_key(incoming)) if len(stored) else np.full(len(incoming), -1)
    hit = pos >= 0
    if not hit.any():
        return {}
    cols = list(model.COUNT_COLUMNS)
    old = stored[cols].to_numpy("float64", na_value=np.nan)[pos[hit]]
    new = incoming[cols].to_numpy("float64", na_value=np.nan)[hit]
    # Only a row marked suppressed loses its stored values (``_protect`` keeps the rest); a
    # count set to 0 is lost as surely (formulas dropped in a spreadsheet).
    marked = incoming["suppressed"].to_numpy(dtype=bool)[hit][:, None]
    blank = (~np.isnan(old) & np.isnan(new) & marked) | ((old > 0) & (new == 0))
    rows = incoming[hit]
    out = {}
    for period, at in pd.Series(np.arange(len(rows))).groupby(rows["period"].to_numpy()):
        at = at.to_numpy()
        n = int(blank[at].sum())
        if not n:
            continue
        i, j = np.argwhere(blank[at])[0]
        r = rows.iloc[at[i]]
        example = (f"{r['level']} {r['area_code']}, {model.group_label(r['group'])}: "
                   f"{cols[j].replace('_', ' ')} {old[at[i], j]:,.0f} stored, "
                   f"{'0' if new[at[i], j] == 0 else 'suppressed'} in the file")
        out[period] = (n, int((~np.isnan(old[at])).sum()), example)
    return out


def coverage(stored: pd.DataFrame, incoming: pd.DataFrame) -> pd.DataFrame:
    """Per period of ``incoming``: the areas, groups and area-group rows it covers against those
    the store holds for that period (``stored_real``: whether any stored row is published data,
    not the synthetic sample); for a period the store does not hold, the period before it
    (``previous``, its ``rows_previous`` and the tiers of area it had that the file has not,
    ``tiers_missing``); the stored counts it would suppress (``counts_blanked`` of
    ``counts_replaced``, the first in words in ``blanked_example``)."""
    rows = []
    blanked = _blanked(stored, incoming)
    for period, inc in incoming.groupby("period", sort=False):
        st_rows = stored[stored["period"] == period]
        keys_in = _keys(inc)
        keys_st = _keys(st_rows)
        previous, keys_prev = (None, set()) if len(st_rows) else _previous(stored, inc)
        tiers = {_TIER.get(k[0], k[0]) for k in keys_in}
        missing = sorted({_TIER.get(k[0], k[0]) for k in keys_prev} - tiers)
        rows.append({
            "period": period,
            "period_start": inc["period_start"].iloc[0],
            "areas_file": len({k[:2] for k in keys_in}),
            "areas_store": len({k[:2] for k in keys_st}),
            "groups_file": len({k[2:] for k in keys_in}),
            "groups_store": len({k[2:] for k in keys_st}),
            "rows_covered": len(keys_in & keys_st),
            "rows_store": len(keys_st),
            "stored_real": bool(len(st_rows)) and not bool(st_rows["synthetic"].all()),
            "rows_file": len(keys_in),
            "previous": previous,
            "rows_previous": len(keys_prev),
            "tiers_missing": ", ".join(missing),
            **dict(zip(("counts_blanked", "counts_replaced", "blanked_example"),
                       blanked.get(period, (0, 0, "")), strict=True)),
        })
    cols = ["period", "period_start", "areas_file", "areas_store", "groups_file", "groups_store",
            "rows_covered", "rows_store", "stored_real", "rows_file", "previous",
            "rows_previous", "tiers_missing", "counts_blanked", "counts_replaced",
            "blanked_example"]
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values("period_start").drop(columns="period_start").reset_index(drop=True)


#: How to load a refused file anyway, on the command line (the default) and on the page.
ANYWAY_CLI = "ingest it with --allow-partial"
ANYWAY_PAGE = ("a maintainer can run python -m core ingest FILE --allow-partial on the "
               "command line (the Upload page does not load such a file)")


def cut_message(cov: pd.DataFrame, source: str, anyway: str = ANYWAY_CLI,
                unread: Sequence[str] = ()) -> str | None:
    """Why a file looks cut short (None when it covers what the store holds). ``unread``: the
    GroupType or OrgType values the readers did not read (``validate.unread_levels``)."""
    for r in cov.itertuples():
        if r.stored_real and r.rows_store and r.rows_covered < CUT_SHARE * r.rows_store:
            return (
                f"{source}: the file covers {r.rows_covered:,} of the {r.rows_store:,} area and "
                f"group rows the store holds for {r.period} ({r.rows_covered / r.rows_store:.0%}; "
                f"areas {r.areas_file:,} of {r.areas_store:,}, groups {r.groups_file:,} of "
                f"{r.groups_store:,}). A file cut short looks like this, so it was refused and "
                f"nothing was changed. To replace only part of a quarter on purpose, {anyway}."
            )
        if not r.rows_store and r.rows_previous and (
                r.tiers_missing or r.rows_file < NEW_CUT_SHARE * r.rows_previous):
            return (
                f"{source}: {r.period} is new to the store, and the file has {r.rows_file:,} "
                f"area and group rows for it against {r.rows_previous:,} for {r.previous}"
                + (f", and no {r.tiers_missing} rows at all" if r.tiers_missing else "")
                # A renamed GroupType or OrgType drops that tier's rows as unknown: say where
                # to look ('National' for 'England' read as a cut file; a helper's review).
                + ((f" ({unread_words(unread)})" if unread else
                    " (if NHS England renamed those rows' GroupType or OrgType, they were not "
                    "read: check it)") if r.tiers_missing else "")
                + ". A file cut short looks like this, so it was refused and nothing was "
                f"changed. To load it anyway, {anyway}."
            )
        if r.stored_real and r.counts_blanked > BLANK_SHARE * r.counts_replaced:
            return (
                f"{source}: for {r.period} the file marks as suppressed (or sets to 0) "
                f"{r.counts_blanked:,} of the {r.counts_replaced:,} counts the store holds in "
                "the rows it replaces "
                f"({r.counts_blanked / r.counts_replaced:.0%}; first: {r.blanked_example}). A "
                "republication suppresses a few; a file blanked in a spreadsheet looks like "
                f"this, so it was refused and nothing was changed. To load it anyway, {anyway}."
            )
    return None


def suggest_removing_sample(stored: pd.DataFrame, results: Sequence[ReadResult]) -> bool:
    """Whether to pre-tick "remove the synthetic sample": every quarter the store holds is the
    synthetic sample (real annual rows may sit beside it) and this is the first real quarterly
    file. Removing the sample removes only synthetic rows."""
    if stored.empty:
        return False
    quarterly = (stored["period_type"] == "quarter").to_numpy()
    if not quarterly.any() or not bool(stored["synthetic"].to_numpy(dtype=bool)[quarterly].all()):
        return False
    return any((r.frame["period_type"] == "quarter").any() for r in results)


def incoming_rows(results: Sequence[ReadResult], *, synthetic: bool = False) -> pd.DataFrame:
    """All rows of the files read, marked. Two files may hold the same row (a quarter's zip
    and its ICB CSV) only with the same values: which of two versions of a quarter is right
    is the maintainer's call, so files that disagree are refused (``_check_agree``)."""
    incoming = pd.concat([r.frame for r in results], ignore_index=True)
    incoming["synthetic"] = synthetic
    key = list(model.KEY_COLUMNS)
    both = incoming.duplicated(key, keep=False).to_numpy()
    if both.any():
        _check_agree(incoming[both], key)
    return incoming[~incoming.duplicated(key, keep="last")]


#: The values two files holding the same row must agree on.
_AGREE = (*model.COUNT_COLUMNS, *model.PERCENT_COLUMNS)


def _check_agree(rows: pd.DataFrame, key: list[str]) -> None:
    group = rows.groupby(key, sort=False, dropna=False).ngroup().to_numpy()
    values = rows[list(_AGREE)].to_numpy("float64", na_value=np.nan)
    _, first = np.unique(group, return_index=True)
    ref = values[first[group]]  # each row beside the first row of its key
    differs = ~((values == ref) | (np.isnan(values) & np.isnan(ref)))
    if not differs.any():
        return
    i, j = np.argwhere(differs)[0]
    other, one = rows.iloc[i], rows.iloc[first[group[i]]]
    measure = _AGREE[j]
    shown = ["suppressed" if np.isnan(v) else f"{v:,.0f}" if measure in model.COUNT_COLUMNS
             else f"{v:g}" for v in (ref[i, j], values[i, j])]
    raise InputError(
        f"{one['source']} and {other['source']} both hold "
        f"{periods.period_label(one['period_start'], one['period_end'])} but disagree: "
        f"{one['level']} {one['area_code']}, {model.group_label(one['group'])}, "
        f"{measure.replace('_', ' ')} is {shown[0]} in one and {shown[1]} in the other. "
        "Load only the version you mean (the newer publication, if one revises the other)")


def without_sample(stored: pd.DataFrame, remove: bool = True) -> tuple[pd.DataFrame, int]:
    """The store less the synthetic sample (when ``remove``), and how many rows that took out:
    the one place the write, the preview and the merged download drop it."""
    if not remove or not len(stored):
        return stored, 0
    sample = stored["synthetic"].to_numpy(dtype=bool)
    return stored[~sample].reset_index(drop=True), int(sample.sum())


def merge_results(
    stored: pd.DataFrame, results: Sequence[ReadResult], *, synthetic: bool = False,
    remove_synthetic: bool = False,
) -> tuple[pd.DataFrame, MergeReport]:
    stored, _ = without_sample(stored, remove_synthetic)
    return merge(stored, incoming_rows(results, synthetic=synthetic))
