"""ICB series in one chosen geography, across the 2022 and 2026 boundary changes.

A point of an ICB's series comes from the first of these that the data allows:

1. **Exact.** The ICB's own row (a period in which it existed with the same area); else the sum
   of the units that lie wholly inside it and together make it up: its sub-ICB locations, the
   ICBs of the other geography that merged into it, its CCGs (before July 2022), or its STPs.
   The sum is exact when every unit touching the ICB lies wholly inside it.
2. **Approximate** (``approximate`` True, ``note`` naming what moved), only where a boundary
   cut through the finest published unit: a CCG cut in July 2022 (Glossop, West Birmingham,
   9 areas of Cambridgeshire and Peterborough) or earlier, or Frimley's three-way split in
   April 2026. A cut unit counts whole towards the ICB holding most of it and not at all
   towards the others.
3. Otherwise **no row**: a gap, never another area's numbers (for example the 2026 Central
   East ICB from 2022-26 rows published only by ICB: Hertfordshire and West Essex was split
   between two new ICBs by whole sub-ICB locations, which that data cannot separate).

A count of a summed point is null ("no data") whenever any part of it is suppressed or
missing: never a partial sum. Published percentages are kept only on an ICB's own rows; rates
are computed from counts elsewhere (``core.stats``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from core import geography as geo
from core import model
from core.icb_plans import plan

COUNTS = list(model.COUNT_COLUMNS)
KEYS = ["period", "period_start", "period_end", "period_type", "breakdown", "group",
        "group_parent"]
SERIES_COLUMNS = (*model.COLUMNS, "approximate", "note")

# ---------------------------------------------------------------------------------------------
# Series
# ---------------------------------------------------------------------------------------------

#: Candidates in order of preference: exact before approximate, finer units before coarser.
_ORDER = (("ICB", "exact"), ("SubICB", "exact"), ("CCG", "exact"), ("STP", "exact"),
          ("SubICB", "approximate"), ("ICB", "approximate"), ("CCG", "approximate"))
_LEVELS = ("ICB", "SubICB", "CCG", "STP")
_FLAGS = ("suppressed", "synthetic", "derived")


@dataclass(frozen=True)
class _Recipe:
    """One candidate of a plan (the ICBs of one status) as arrays over the ICBs of the chosen
    geography, in the order of ``geo.icbs``: what ``icb_series`` needs per call, made once."""

    units: tuple[str, ...]  # unit codes
    target: np.ndarray  # ICB position of each unit
    expected: np.ndarray  # units each ICB needs (0: not made by this candidate)
    own: np.ndarray  # ICB made from its own row alone: its published percentages are kept
    notes: np.ndarray  # note of each ICB (object)
    aliases: tuple[tuple[str, str], ...]  # other published code -> unit code


@lru_cache(maxsize=64)
def _recipe(level: str, key: str | None, boundaries: str, status: str) -> _Recipe:
    p = plan(level, key, boundaries)
    icbs = geo.icbs(boundaries)["icb_code"].tolist()
    at = {c: i for i, c in enumerate(icbs)}
    # A target outside the geography's ICBs would be dropped from the series anyway.
    targets = {t for t, s in p.status.items() if s == status and t in at}
    units = [(u, t) for u, t in zip(p.units["unit"].tolist(), p.units["target"].tolist(),
                                    strict=True) if t in targets]
    target = np.array([at[t] for _, t in units], dtype=np.int64)
    return _Recipe(
        units=tuple(u for u, _ in units), target=target,
        expected=np.bincount(target, minlength=len(icbs)),
        own=np.array([c in p.own for c in icbs], dtype=bool),
        notes=np.array([p.notes.get(c, "") for c in icbs], dtype=object),
        aliases=tuple(p.aliases.items()))


def _by_value(values: pd.Series, fn) -> np.ndarray:
    """``values.map(fn)`` computed once per distinct value (a handful of dates per store)."""
    codes, distinct = pd.factorize(values)
    mapped = np.array([fn(v) for v in distinct] + [None], dtype=object)
    return mapped[codes]


def _date(value: object) -> dt.date:
    return pd.Timestamp(value).date()


@lru_cache(maxsize=1)
def _one_geography_codes() -> dict[str, frozenset[str]]:
    """ICB codes of one geography only: a row with one is of that vintage whatever its date
    (a file may carry the old codes for a while: the bundled sample's 2026/27 quarter does)."""
    return {b: frozenset(geo.icbs(b)["icb_code"]) - frozenset(geo.icbs(o)["icb_code"])
            for b, o in (("2022", "2026"), ("2026", "2022"))}


def _codes(column: pd.Series, at: np.ndarray) -> tuple[np.ndarray, pd.Index]:
    """Integer codes (from 0, one for every missing value) of ``column`` at rows ``at``."""
    codes, distinct = pd.factorize(column)
    return codes[at] + 1, distinct


def _firsts(codes: np.ndarray) -> np.ndarray:
    """Position of the first row of each code, for codes numbered in order of first
    appearance (as ``pd.factorize`` numbers them): a row is the first of its code exactly
    when its code is above every code before it."""
    before = np.maximum.accumulate(np.concatenate(([-1], codes[:-1])))
    return np.flatnonzero(codes > before)


def _combine(key: np.ndarray, codes: np.ndarray, n: int) -> np.ndarray:
    """One code per distinct (key, code), numbered in order of first appearance."""
    return pd.factorize(key * n + codes)[0]


def _cells(frame: pd.DataFrame, at: np.ndarray) -> np.ndarray:
    """One integer per (period, breakdown, group) of the rows ``at``, numbered in order of
    first appearance: grouping on it costs a fraction of grouping on the seven columns."""
    key, size = np.zeros(len(at), dtype=np.int64), 1
    for c in _TEXT_KEYS:
        codes, distinct = _codes(frame[c], at)
        n = len(distinct) + 1
        if size * n > 2 ** 62:  # renumber before the product could overflow
            key = _combine(key, 0, 1)
            size = int(key.max()) + 1
        key, size = key * n + codes, size * n
    key = _combine(key, 0, 1)
    for c in KEYS:
        if c not in _TEXT_KEYS:
            # A date is almost always the same throughout a cell of the text columns:
            # comparing with the cell's first row is several times cheaper than hashing
            # every date, and only where one differs are the dates grouped on too.
            dates = frame[c].to_numpy()[at]
            try:
                same = bool((dates == dates[_firsts(key)][key]).all())
            except TypeError:  # a value that cannot say whether it is equal (pd.NA)
                same = False
            if not same:
                codes, distinct = _codes(frame[c], at)
                key = _combine(key, codes, len(distinct) + 1)
    return key


class UnitRows:
    """The ICB, sub-ICB location, CCG and STP rows of one frame as ``icb_series`` reads them:
    integer codes for their cells, areas and files, and their rows by level and vintage.
    Worked out once per frame (it is most of the cost of a series): an Explorer keeps one,
    so that a switch of boundaries does not encode the store again. The frame must not change
    while this is kept (an Explorer's frame is read-only)."""

    def __init__(self, frame: pd.DataFrame):
        self.frame = frame
        level, levels = pd.factorize(frame["level"])
        wanted = {i: name for i, name in enumerate(levels) if name in _LEVELS}
        self.at = np.flatnonzero(np.isin(level, list(wanted)))
        level = level[self.at]
        self.cell = _cells(frame, self.at)
        self.first_row = self.at[_firsts(self.cell)]  # frame position of each cell's first row
        self.area, areas = _codes(frame["area_code"], self.at)
        # Code 0 is a missing area code (and a missing file).
        self.code_of = {c: i + 1 for i, c in enumerate(areas)}
        self.source, sources = _codes(frame["source"], self.at)
        self.sources = (np.nan, *sources)
        self.parts = _by_level_and_key(
            frame, self, {name: np.flatnonzero(level == i) for i, name in wanted.items()})

    def series(self, boundaries: str) -> pd.DataFrame:
        """``icb_series`` of this frame in ``boundaries``."""
        geo._check(boundaries)
        if not len(self.at):
            return _empty_series()
        return _series(_Rows(self), boundaries)


class _Rows:
    """What one series reads: the codes of ``UnitRows`` and the counts, percentages and flags
    as plain arrays (counts as floats, NaN where missing); the area codes and file names it
    adds (an STP's other code, a joined list of files) stay with it."""

    def __init__(self, units: UnitRows):
        frame, at = units.frame, units.at
        self.frame, self.parts = frame, units.parts
        self.cell, self.first_row, self.area, self.source = (
            units.cell, units.first_row, units.area, units.source)
        # Area codes of a plan absent from the frame get codes after the frame's (``code``),
        # so an alias can point to them.
        self.code_of = dict(units.code_of)
        self.source_text: list = list(units.sources)  # code 0: no source
        self.counts = [frame[c].to_numpy("float64", na_value=np.nan)[at] for c in COUNTS]
        self.percents = [frame[c].to_numpy("float64", na_value=np.nan)[at]
                         for c in model.PERCENT_COLUMNS]
        self.flags = [frame[c].to_numpy(dtype=bool)[at] for c in _FLAGS]

    def code(self, area: str) -> int:
        return self.code_of.setdefault(area, len(self.code_of) + 1)


def _by_level_and_key(frame: pd.DataFrame, rows: UnitRows, levels: dict[str, np.ndarray]
                      ) -> dict[str, list[tuple[str, np.ndarray]]]:
    """Positions (in ``rows``) of each level's rows, per vintage key, keys sorted: the ICB
    geography of ICB rows, the financial year of CCG and STP rows (a period whose key is None
    has no plan, and its rows are not used). ``levels``: each level's positions."""
    out: dict[str, list[tuple[str, np.ndarray]]] = {}
    for name, mine in levels.items():
        if name == "SubICB":
            out[name] = [("any", mine)]
            continue
        # Keys as integers: the key of each cell (-1: None), and for an ICB row of a code of
        # one geography only, that geography whatever its date.
        if name == "ICB":
            column, fn = "period_end", geo.boundaries_of
        else:
            column, fn = "period_start", geo.history_year
        by_cell = _by_value(frame[column].take(rows.first_row), lambda d, fn=fn: fn(_date(d)))
        names = sorted({k for k in by_cell if k is not None} | (
            set(_one_geography_codes()) if name == "ICB" else set()))
        number = {k: i for i, k in enumerate(names)}
        key = np.array([number.get(k, -1) for k in by_cell], dtype=np.int64)[rows.cell[mine]]
        if name == "ICB":
            area = rows.area[mine]
            for b, only in _one_geography_codes().items():
                codes = [rows.code_of[c] for c in only if c in rows.code_of]
                key = np.where(np.isin(area, codes) & (key >= 0), number[b], key)
        out[name] = [(k, mine[key == i]) for i, k in enumerate(names) if (key == i).any()]
    return out


def _starts(sorted_keys: np.ndarray) -> np.ndarray:
    """Where each run of equal values of ``sorted_keys`` begins (a boolean per element)."""
    new = np.ones(len(sorted_keys), dtype=bool)
    np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=new[1:])
    return new


def _first_present(group: np.ndarray, values: np.ndarray, present: np.ndarray, n: int,
                   fill) -> np.ndarray:
    """For each of ``n`` groups, the value of its first row where ``present`` (``fill`` where
    none is). Rows are in group order, and in their own order within a group."""
    out = np.full(n, fill, dtype=values.dtype)
    g, v = group[present], values[present]
    if len(g):
        first = _starts(g)
        out[g[first]] = v[first]
    return out


def _candidate(rows: _Rows, part: np.ndarray, r: _Recipe, n_icbs: int) -> dict | None:
    """Sum the units of each ICB the recipe makes, cell by cell: a count is NaN ("no data")
    unless every unit of the ICB has it. ``part`` are positions in ``rows`` (ascending)."""
    area = rows.area[part]
    if r.aliases:
        # One STP under either of its codes, counted once (its first row in the cell).
        alias = np.arange(len(rows.code_of) + len(r.aliases) + 1)
        for other, unit in r.aliases:
            if other in rows.code_of:
                alias[rows.code_of[other]] = rows.code(unit)
        area = alias[area]
        _, first = np.unique(rows.cell[part] * (len(alias) + 1) + area, return_index=True)
        first.sort()
        part, area = part[first], area[first]
    unit_of = np.full(len(rows.code_of) + 1, -1, dtype=np.int64)
    known = [(rows.code_of[u], t) for u, t in zip(r.units, r.target, strict=True)
             if u in rows.code_of]
    if not known:
        return None
    codes, targets = zip(*known, strict=True)
    unit_of[list(codes)] = targets
    target = unit_of[area]
    used = target >= 0
    if not used.any():
        return None
    part, target = part[used], target[used]
    # Rows in (cell, ICB) order, each group's rows in their own order (a stable sort): sums
    # by bincount, and "first" is the first row of a group.
    key = rows.cell[part] * n_icbs + target
    order = np.argsort(key, kind="stable")
    part, key = part[order], key[order]
    start = _starts(key)
    group = np.cumsum(start) - 1
    groups = key[start]
    n = len(groups)
    out = {"cell": groups // n_icbs, "target": groups % n_icbs, "first": part[start]}
    expected = r.expected[out["target"]]
    missing = np.zeros(n, dtype=bool)
    for c, values in zip(COUNTS, rows.counts, strict=True):
        v = values[part]
        present = ~np.isnan(v)
        total = np.bincount(group, weights=np.where(present, v, 0.0), minlength=n)
        out[c] = np.where(np.bincount(group, weights=present, minlength=n) == expected,
                          total, np.nan)
        missing |= np.isnan(out[c])
    for c, values in zip(_FLAGS, rows.flags, strict=True):
        out[c] = np.bincount(group, weights=values[part], minlength=n) > 0
    out["suppressed"] |= missing
    own = r.own[out["target"]]
    for c, values in zip(model.PERCENT_COLUMNS, rows.percents, strict=True):
        v = values[part]
        out[c] = np.where(own, _first_present(group, v, ~np.isnan(v), n, np.nan), np.nan)
    out["source"] = _sources(rows, rows.source[part], group, n)
    return out


def _sources(rows: _Rows, source: np.ndarray, group: np.ndarray, n: int) -> np.ndarray:
    """Each group's source (code into ``rows.source_text``): its first row's, or, where its
    rows came from several files, all of them, sorted and joined with "; "."""
    named = source > 0
    out = _first_present(group, source, named, n, 0)
    other = named & (source != out[group])
    mixed = np.unique(group[other])
    # Rows are in group order: each mixed group's rows are one slice.
    bounds = zip(mixed.tolist(), np.searchsorted(group, mixed).tolist(),
                 np.searchsorted(group, mixed, side="right").tolist(), strict=True)
    for g, lo, hi in bounds:
        names = {str(rows.source_text[s]) for s in set(source[lo:hi].tolist())}
        out[g] = len(rows.source_text)
        rows.source_text.append("; ".join(sorted(names)))
    return out


def _sort_codes(values: pd.Series | pd.Index) -> np.ndarray:
    """Codes ordering ``values`` as ``sort_values`` does (missing last)."""
    codes, distinct = pd.factorize(values, sort=True)
    return np.where(codes < 0, len(distinct), codes)


def icb_series(frame: pd.DataFrame, boundaries: str) -> pd.DataFrame:
    """Tidy rows for every ICB of ``boundaries``, every period, breakdown and group in the frame.

    The columns are the model's plus ``approximate`` (bool) and ``note`` (str: how the point
    was made, and what moved for an approximate one). Periods or groups for which an ICB has
    no honest figure have no row.
    """
    geo._check(boundaries)
    return UnitRows(frame).series(boundaries)


def _series(rows: _Rows, boundaries: str) -> pd.DataFrame:
    frame = rows.frame
    info = geo.icbs(boundaries)
    n_icbs = len(info)
    parts = rows.parts
    notes: dict[str, int] = {}
    candidates = []
    for name, status in _ORDER:
        for key, part in parts.get(name, []):
            r = _recipe(name, None if name == "SubICB" else key, boundaries, status)
            found = _candidate(rows, part, r, n_icbs) if len(r.units) else None
            if found is not None:
                note = np.array([notes.setdefault(v, len(notes)) for v in r.notes])
                found["note"] = note[found["target"]]
                found["approximate"] = np.full(len(found["cell"]), status == "approximate")
                found["order"] = np.full(len(found["cell"]), len(candidates))
                candidates.append(found)
    if not candidates:
        return _empty_series()
    c = {k: np.concatenate([found[k] for found in candidates]) for k in candidates[0]}
    complete = ~np.isnan(np.column_stack([c[k] for k in COUNTS])).any(axis=1)
    # Complete exact > complete approximate > exact with gaps > approximate with gaps; then
    # the order of preference, then the order the rows came in.
    tier = (~complete).astype(int) * 2 + c["approximate"].astype(int)
    ranked = np.lexsort((c["first"], c["order"], tier))
    _, best = np.unique((c["cell"] * n_icbs + c["target"])[ranked], return_index=True)
    best = ranked[np.sort(best)]
    cells = _cell_columns(frame, rows.first_row)
    cell, target = c["cell"][best], c["target"][best]
    order = np.lexsort((np.arange(len(best)),
                        _sort_codes(cells["group"])[cell],
                        _sort_codes(cells["breakdown"])[cell],
                        _sort_codes(info["icb_name"])[target],
                        _sort_codes(info["region_name"])[target],
                        _sort_codes(cells["period_start"])[cell]))
    best, cell, target = best[order], cell[order], target[order]

    def text(values, codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
        # Text as the model stores it; made from the few distinct values, not row by row.
        return pd.array(np.asarray(values, dtype=object), dtype="str").take(codes)

    out: dict[str, object] = {}
    for k in KEYS:
        out[k] = cells[k].array.take(cell) if k in _TEXT_KEYS else cells[k].to_numpy()[cell]
        if k == "period_type":
            out["level"] = text(["ICB"], np.zeros(len(best), dtype=np.int64))
            for col, ref in (("area_code", "icb_code"), ("area_name", "icb_name"),
                             ("parent_code", "region_code"), ("parent_name", "region_name")):
                out[col] = text(info[ref], target)
    for k in COUNTS:
        out[k] = model.whole_numbers(c[k][best])
    for k in (*model.PERCENT_COLUMNS, *_FLAGS):
        out[k] = c[k][best]
    out["source"] = text(rows.source_text, c["source"][best])
    out["approximate"] = c["approximate"][best]
    out["note"] = text(list(notes), c["note"][best])
    return pd.DataFrame(out)


_TEXT_KEYS = ("period", "period_type", "breakdown", "group", "group_parent")


def _cell_columns(frame: pd.DataFrame, first_row: np.ndarray) -> dict[str, pd.Series]:
    """Each cell's (period, breakdown, group) from its first row, with the model's types
    (``model.conform``'s conversions, made on a few thousand cells rather than every row)."""
    out = {}
    for k in KEYS:
        column = frame[k].take(first_row).reset_index(drop=True)
        if k in _TEXT_KEYS:
            out[k] = column.astype("str")
        elif column.dtype == object and all(type(v) is dt.date for v in column.tolist()):
            out[k] = column  # dates already: the conversion would give them back
        else:
            out[k] = pd.to_datetime(column).dt.date.astype(object)
    return out


def _empty_series() -> pd.DataFrame:
    out = model.empty_frame()
    out["approximate"] = pd.Series(dtype=bool)
    out["note"] = pd.Series(dtype="str")
    return out


@lru_cache(maxsize=2)
def changed_icbs(boundaries: str) -> frozenset[str]:
    """The ICBs of ``boundaries`` whose area differs in the other geography: those whose
    series must be summed from parts after (2022) or before (2026) April 2026."""
    geo._check(boundaries)
    other = "2022" if boundaries == "2026" else "2026"
    mine, theirs = (geo.subicb_icb(b).groupby("icb_code")["subicb_code"].apply(frozenset)
                    for b in (boundaries, other))
    return frozenset(code for code, members in mine.items()
                     if theirs.get(code) != members)


def gap_note(boundaries: str) -> str:
    """Why a redrawn ICB has no figure for a period: said wherever the gap shows."""
    return (f"no figure in the {geo.label(boundaries)}: this ICB's area changed on "
            "1 April 2026 and the rows published for this period cannot be summed into it "
            "exactly (no other area's numbers are used)")


@lru_cache(maxsize=256)
def corresponding_icb(code: str, boundaries: str) -> str | None:
    """The ICB of ``boundaries`` that holds most of ICB ``code`` of either geography (by
    sub-ICB locations), so a chosen ICB survives a switch of boundaries: QH8 Mid and South
    Essex -> D7T5G Essex, and back. None for a code that is not an ICB of either."""
    geo._check(boundaries)
    if code in set(geo.icbs(boundaries)["icb_code"]):
        return code
    other = "2022" if boundaries == "2026" else "2026"
    if code not in set(geo.icbs(other)["icb_code"]):
        return None
    members = geo.subicb_icb(other)
    subs = members.loc[members["icb_code"] == code, "subicb_code"]
    target = geo.subicb_icb(boundaries)
    hits = target[target["subicb_code"].isin(subs)]
    if hits.empty:
        return None
    # Most sub-ICB locations wholly inside first; then most touched.
    score = hits.assign(w=hits["whole"].astype(int)).groupby("icb_code")["w"].agg(["sum", "size"])
    return str(score.sort_values(["sum", "size"], ascending=False).index[0])
