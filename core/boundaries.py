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
from dataclasses import dataclass, field
from functools import lru_cache

import pandas as pd

from core import geography as geo
from core import model

COUNTS = list(model.COUNT_COLUMNS)
KEYS = ["period", "period_start", "period_end", "period_type", "breakdown", "group",
        "group_parent"]
SERIES_COLUMNS = (*model.COLUMNS, "approximate", "note")

#: Names of the pieces that moved where a boundary cut through a CCG or a sub-ICB location,
#: keyed by (unit code, ICB the piece went to), so a note can say what moved.
NAMED_PIECES = {
    ("01Y", "QJ2"): "Glossop",
    ("05L", "QHL"): "West Birmingham",
    ("D2P2L", "QHL"): "West Birmingham",
    ("06H", "QPM"): "9 small areas of Cambridgeshire and Peterborough",
    ("09G", "QXU"): "4 small areas around Chichester",
}
FRIMLEY_NOTE = ("Frimley (sub-ICB location D4U1Y) was split three ways on 1 April 2026 and its "
                "parts are not published separately")
_UNIT_NOUNS = {"ICB": "ICB", "SubICB": "sub-ICB location", "CCG": "CCG", "STP": "STP"}
FRIMLEY = "part of Frimley"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


@dataclass(frozen=True)
class Piece:
    """Part of a published unit lying in one ICB: a whole part, or a part of a cut unit."""

    target: str
    whole: bool
    label: str = ""


@dataclass
class Plan:
    """How the ICBs of one geography are made from the units of one level in one vintage."""

    level: str
    units: pd.DataFrame  # unit, target: the included units of each available ICB
    status: dict[str, str] = field(default_factory=dict)  # target -> exact / approximate
    notes: dict[str, str] = field(default_factory=dict)
    own: set[str] = field(default_factory=set)  # targets whose only unit is their own row
    aliases: dict[str, str] = field(default_factory=dict)  # other published code -> unit


# ---------------------------------------------------------------------------------------------
# Pieces of each unit in the chosen geography
# ---------------------------------------------------------------------------------------------


def _short(boundaries: str, code: str) -> str:
    return _short_names(boundaries).get(code, code)


@lru_cache(maxsize=2)
def _short_names(boundaries: str) -> dict[str, str]:
    return dict(zip(geo.icbs(boundaries)["icb_code"], geo.icbs(boundaries)["short_name"],
                    strict=True))


@lru_cache(maxsize=1)
def _subicbs_of_icb22() -> dict[str, list[str]]:
    sub = geo.subicb_icb("2022")
    return sub.groupby("icb_code")["subicb_code"].apply(list).to_dict()


@lru_cache(maxsize=2)
def _subicb_table(boundaries: str) -> dict[str, list[Piece]]:
    out: dict[str, list[Piece]] = {}
    for r in geo.subicb_icb(boundaries).itertuples(index=False):
        out.setdefault(r.subicb_code, []).append(
            Piece(r.icb_code, bool(r.whole), "" if r.whole else FRIMLEY))
    return out


def _subicb_pieces(code: str, boundaries: str) -> list[Piece]:
    return list(_subicb_table(boundaries).get(code, []))


def _icb22_pieces(code: str, boundaries: str) -> list[Piece]:
    """Where the area of a July 2022 ICB lies in the chosen geography."""
    if boundaries == "2022":
        return [Piece(code, True)]
    out: list[Piece] = []
    for sub in _subicbs_of_icb22().get(code, []):
        out += _subicb_pieces(sub, boundaries)
    return out


def _icb26_pieces(code: str, boundaries: str) -> list[Piece]:
    """Where the area of an April 2026 ICB lies in the chosen geography."""
    if boundaries == "2026":
        return [Piece(code, True)]
    sub26 = geo.subicb_icb("2026")
    icb22 = geo.subicb_icb("2022").set_index("subicb_code")["icb_code"]
    members = sub26[sub26["icb_code"] == code]
    return [Piece(icb22[r.subicb_code], bool(r.whole), "" if r.whole else FRIMLEY)
            for r in members.itertuples(index=False)]


def _history_pieces(code: str, main_subicb: str | None, main_icb22: str,
                    other: tuple[tuple[str, int], ...], boundaries: str) -> list[Piece]:
    """Pieces of a CCG or STP: its main part, and the small areas that went elsewhere."""
    if boundaries == "2022" or main_subicb is None:
        main = [Piece(main_icb22, True)] if boundaries == "2022" else _icb22_pieces(
            main_icb22, boundaries)
    else:
        main = _subicb_pieces(main_subicb, boundaries)
    out = list(main)
    for icb22, n in other:
        label = NAMED_PIECES.get((code, icb22), f"{n} small areas (LSOAs)")
        for p in _icb22_pieces(icb22, boundaries):
            out.append(Piece(p.target, False, label))
    return out


# ---------------------------------------------------------------------------------------------
# Plans
# ---------------------------------------------------------------------------------------------


def _relations(pieces: list[Piece]) -> dict[str, tuple[str, list[Piece]]]:
    """Classify a unit against each ICB it touches.

    ``whole``: the unit lies inside the ICB. ``main``: most of it does, and only cut pieces lie
    elsewhere (counted here, approximately). ``minor``: only a cut piece lies in the ICB (not
    counted; the ICB is approximate). ``major``: whole parts lie in several ICBs (not counted;
    those ICBs cannot be built from this unit's level).
    """
    by_target: dict[str, list[Piece]] = {}
    for p in pieces:
        by_target.setdefault(p.target, []).append(p)
    whole_targets = [t for t, ps in by_target.items() if any(p.whole for p in ps)]
    out: dict[str, tuple[str, list[Piece]]] = {}
    for t, ps in by_target.items():
        elsewhere = [p for p in pieces if p.target != t]
        if t in whole_targets and not elsewhere:
            out[t] = ("whole", [])
        elif t in whole_targets and len(whole_targets) == 1:
            out[t] = ("main", [p for p in elsewhere if not p.whole])
        elif t in whole_targets:
            out[t] = ("major", [])
        else:
            out[t] = ("minor", ps)
    return out


def _build_plan(level: str, boundaries: str,
                units: list[tuple[str, str, list[Piece]]]) -> Plan:
    """Turn (code, name, pieces) of every unit of one level and vintage into a plan."""
    rels: dict[str, list[tuple[str, str, str, list[Piece]]]] = {}
    for code, name, pieces in units:
        for target, (rel, detail) in _relations(pieces).items():
            rels.setdefault(target, []).append((code, name, rel, detail))
    rows, plan = [], Plan(level, pd.DataFrame())
    noun = _UNIT_NOUNS[level]
    for target, touching in rels.items():
        kinds = {rel for _, _, rel, _ in touching}
        included = [(c, n) for c, n, rel, _ in touching if rel in ("whole", "main")]
        if "major" in kinds or not included:
            continue
        rows += [(c, target) for c, _ in included]
        if kinds == {"whole"}:
            plan.status[target] = "exact"
            if level == "ICB" and included == [(target, included[0][1])]:
                plan.own.add(target)
                plan.notes[target] = ""
            else:
                codes = ", ".join(sorted(c for c, _ in included))
                plan.notes[target] = f"Sum of {_count(len(included), noun)} ({codes})."
            continue
        plan.status[target] = "approximate"
        parts, frimley = [], []
        for code, name, rel, detail in touching:
            if rel == "main":
                for p in detail:
                    if p.label == FRIMLEY:
                        frimley.append(f"{name} ({code})")
                    else:
                        parts.append(f"includes {p.label} (part of {name}, {code}), now in "
                                     f"{_short(boundaries, p.target)}")
            elif rel == "minor":
                if detail[0].label == FRIMLEY:
                    frimley.append(f"{name} ({code})")
                else:
                    parts.append(f"excludes {detail[0].label} (part of {name}, {code}), "
                                 f"now in this ICB")
        if frimley:
            parts.append(f"leaves out the part of Frimley that is now in this ICB (from "
                         f"{', '.join(sorted(frimley))}): {FRIMLEY_NOTE}")
        plan.notes[target] = (f"Approximate: sum of {_count(len(included), noun)} "
                              f"({', '.join(sorted(c for c, _ in included))}); "
                              + "; ".join(sorted(parts)) + ".")
    plan.units = pd.DataFrame(rows, columns=["unit", "target"])
    return plan


@lru_cache(maxsize=32)
def plan(level: str, key: str | None, boundaries: str) -> Plan:
    """How the ICBs of ``boundaries`` are made from ``level`` rows of one vintage ``key``.

    ``key`` is the ICB geography of the rows for level ICB, a financial year for CCG and STP,
    and unused for SubICB (sub-ICB codes are the same in both geographies).
    """
    geo._check(boundaries)
    if level == "ICB":
        table = geo.icbs(key)
        pieces_of = _icb22_pieces if key == "2022" else _icb26_pieces
        units = [(r.icb_code, r.short_name, pieces_of(r.icb_code, boundaries))
                 for r in table.itertuples(index=False)]
    elif level == "SubICB":
        sub = geo.subicb_icb("2022")
        units = [(r.subicb_code, r.subicb_name, _subicb_pieces(r.subicb_code, boundaries))
                 for r in sub.itertuples(index=False)]
    elif level == "CCG":
        h = geo.ccg_history()
        h = h[h["financial_year"] == key]
        units = [(r.ccg_code, r.ccg_name,
                  _history_pieces(r.ccg_code, r.subicb_code, r.icb22_code, r.other, boundaries))
                 for r in h.itertuples(index=False)]
    elif level == "STP":
        h = geo.stp_history()
        h = h[h["financial_year"] == key]
        units = [(r.stp_code, r.stp_name,
                  _history_pieces(r.stp_code, None, r.icb22_code, r.other, boundaries))
                 for r in h.itertuples(index=False)]
        # An STP counts only where exact: its published rows carry no finer detail to say
        # what a cut moved, and CCG sums already give the approximate points.
        p = _build_plan(level, boundaries, units)
        keep = {t for t, s in p.status.items() if s == "exact"}
        p.units = p.units[p.units["target"].isin(keep)].reset_index(drop=True)
        p.status = {t: "exact" for t in keep}
        p.notes = {t: n for t, n in p.notes.items() if t in keep}
        p.aliases = {r.nhs_code: r.stp_code for r in h.itertuples(index=False) if r.nhs_code}
        return p
    else:
        raise ValueError(f"no ICB plan from level {level!r}")
    return _build_plan(level, boundaries, units)


# ---------------------------------------------------------------------------------------------
# Series
# ---------------------------------------------------------------------------------------------

#: Candidates in order of preference: exact before approximate, finer units before coarser.
_ORDER = (("ICB", "exact"), ("SubICB", "exact"), ("CCG", "exact"), ("STP", "exact"),
          ("SubICB", "approximate"), ("ICB", "approximate"), ("CCG", "approximate"))


def _objects(column: pd.Series) -> pd.Series:
    return pd.Series(column.to_numpy(object), dtype=object)


def _by_value(values: pd.Series, fn) -> pd.Series:
    """``values.map(fn)`` computed once per distinct value (a handful of dates per store)."""
    codes, distinct = pd.factorize(values)
    mapped = pd.Series([fn(v) for v in distinct] + [None], dtype=object)
    return pd.Series(mapped.to_numpy()[codes], index=values.index, dtype=object)


def _key_of(level: str, frame: pd.DataFrame) -> pd.Series:
    if level == "ICB":
        key = _by_value(frame["period_end"], lambda d: geo.boundaries_of(_date(d)))
        # A code of one geography only is of that vintage whatever its date (a file may
        # carry the old codes for a while: the bundled sample's 2026/27 quarter does).
        only = {b: set(geo.icbs(b)["icb_code"]) - set(geo.icbs(o)["icb_code"])
                for b, o in (("2022", "2026"), ("2026", "2022"))}
        codes = frame["area_code"].astype(str)
        for b, codes_of in only.items():
            key = key.mask(codes.isin(codes_of).to_numpy() & key.notna().to_numpy(), b)
        return key
    if level == "SubICB":
        return pd.Series("any", index=frame.index)
    return _by_value(frame["period_start"], lambda d: geo.history_year(_date(d)))


def _date(value: object) -> dt.date:
    return pd.Timestamp(value).date()


def _aggregate(rows: pd.DataFrame, p: Plan, status: str) -> pd.DataFrame:
    """Sum the included units of each ICB with ``status`` in the plan, cell by cell.

    ``rows`` are slim: ``_cell`` (period, breakdown and group), ``area_code``, counts and
    flags. A unit counts towards one ICB at most, so the unit -> ICB map is a function.
    """
    targets = {t for t, s in p.status.items() if s == status}
    units = p.units[p.units["target"].isin(targets)]
    if units.empty or rows.empty:
        return pd.DataFrame()
    to_target = dict(zip(units["unit"], units["target"], strict=True))
    if p.aliases:
        # One STP under either of its codes, counted once.
        rows = rows.assign(area_code=rows["area_code"].replace(p.aliases))
        rows = rows.drop_duplicates(["_cell", "area_code"])
    m = rows[rows["area_code"].isin(to_target)]
    if m.empty:
        return pd.DataFrame()
    m = m.assign(target=m["area_code"].map(to_target))
    expected = units.groupby("target").size()
    g = m.groupby(["_cell", "target"], sort=False)
    out = g[COUNTS].sum(min_count=1)
    present = g[COUNTS].count()
    n = expected.reindex(out.index.get_level_values("target")).to_numpy()
    for c in COUNTS:
        out[c] = out[c].where(present[c].to_numpy() == n)
    flags = g[["suppressed", "synthetic", "derived"]].any()
    out["suppressed"] = flags["suppressed"] | out[COUNTS].isna().any(axis=1)
    out["synthetic"] = flags["synthetic"]
    out["derived"] = flags["derived"]
    out["source"] = g["source"].first()
    mixed = g["source"].nunique() > 1
    if mixed.any():
        joined = m.set_index(["_cell", "target"]).loc[mixed[mixed].index, "source"]
        out.loc[mixed, "source"] = joined.groupby(level=[0, 1]).agg(
            lambda s: "; ".join(sorted(set(map(str, s)))))
    own = out.index.get_level_values("target").isin(list(p.own))
    firsts = g[list(model.PERCENT_COLUMNS)].first()
    for c in model.PERCENT_COLUMNS:
        out[c] = firsts[c].where(own)
    out = out.reset_index()
    out["approximate"] = status == "approximate"
    out["note"] = out["target"].map(p.notes)
    return out


def icb_series(frame: pd.DataFrame, boundaries: str) -> pd.DataFrame:
    """Tidy rows for every ICB of ``boundaries``, every period, breakdown and group in the frame.

    The columns are the model's plus ``approximate`` (bool) and ``note`` (str: how the point
    was made, and what moved for an approximate one). Periods or groups for which an ICB has
    no honest figure have no row.
    """
    geo._check(boundaries)
    rel = frame[frame["level"].isin(["ICB", "SubICB", "CCG", "STP"])]
    if rel.empty:
        return _empty_series()
    # One integer per (period, breakdown, group): grouping on it is much cheaper than on
    # seven text columns, once per candidate.
    cell = rel.groupby(KEYS, dropna=False, sort=False).ngroup().to_numpy()
    cells = rel[KEYS].assign(_cell=cell).drop_duplicates("_cell").set_index("_cell")
    slim = pd.DataFrame({
        # Text as plain object columns: pandas would otherwise keep them as Arrow strings,
        # and every take and group-by below would then cost tens of times more.
        "_cell": cell, "level": _objects(rel["level"]), "area_code": _objects(rel["area_code"]),
        **{c: rel[c].astype("float64").to_numpy() for c in COUNTS},
        **{c: rel[c].to_numpy() for c in model.PERCENT_COLUMNS},
        "suppressed": rel["suppressed"].to_numpy(dtype=bool),
        "synthetic": rel["synthetic"].to_numpy(dtype=bool),
        "derived": rel["derived"].to_numpy(dtype=bool), "source": _objects(rel["source"]),
    })
    by_level = {}
    for level, rows in slim.groupby("level", sort=False):
        by_level[level] = rows.assign(_key=_key_of(level, rel.iloc[rows.index]).to_numpy())
    candidates = []
    for rank, (level, status) in enumerate(_ORDER):
        rows = by_level.get(level)
        if rows is None:
            continue
        for key, part in rows.groupby("_key", sort=True):
            p = plan(level, None if level == "SubICB" else key, boundaries)
            agg = _aggregate(part, p, status)
            if not agg.empty:
                candidates.append(agg.assign(_rank=rank))
    if not candidates:
        return _empty_series()
    allc = pd.concat(candidates, ignore_index=True)
    complete = allc[COUNTS].notna().all(axis=1)
    # Complete exact > complete approximate > exact with gaps > approximate with gaps.
    allc["_tier"] = (~complete).astype(int) * 2 + allc["approximate"].astype(int)
    allc = allc.sort_values(["_tier", "_rank"], kind="stable")
    best = allc.drop_duplicates(["_cell", "target"], keep="first")
    info = geo.icbs(boundaries).set_index("icb_code")
    best = best[best["target"].isin(info.index)]
    out = cells.loc[best["_cell"].to_numpy()].reset_index(drop=True)
    best = best.reset_index(drop=True)
    for c in (*COUNTS, *model.PERCENT_COLUMNS, "suppressed", "synthetic", "derived", "source"):
        out[c] = best[c]
    out["level"] = "ICB"
    out["area_code"] = best["target"]
    out["area_name"] = out["area_code"].map(info["icb_name"])
    out["parent_code"] = out["area_code"].map(info["region_code"])
    out["parent_name"] = out["area_code"].map(info["region_name"])
    conformed = model.conform(out)
    conformed["approximate"] = best["approximate"].to_numpy(dtype=bool)
    conformed["note"] = best["note"].fillna("").astype("str").to_numpy()
    order = ["period_start", "parent_name", "area_name", "breakdown", "group"]
    return conformed.sort_values(order, kind="stable").reset_index(drop=True)


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
