"""Which published units make each ICB of a chosen geography, and how exactly: the plans
``core.boundaries`` sums a frame's rows by.

A plan says, for one level of published unit (ICB, sub-ICB location, CCG or STP) in one
vintage of its boundaries, which units lie wholly inside each ICB of the chosen geography
(an exact sum), which were cut by a boundary and count whole towards the ICB holding most of
them (approximate, with a note naming what moved), and which ICBs cannot be made at all. The
lookups behind it are ``core.geography``'s (ONS and ODS, in ``data/reference/``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import pandas as pd

from core import geography as geo

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
    return list(_icb26_in_2022().get(code, []))


@lru_cache(maxsize=1)
def _icb26_in_2022() -> dict[str, list[Piece]]:
    """The July 2022 ICB of each sub-ICB location of each April 2026 ICB, in table order."""
    icb22 = geo.subicb_icb("2022").set_index("subicb_code")["icb_code"]
    out: dict[str, list[Piece]] = {}
    for r in geo.subicb_icb("2026").itertuples(index=False):
        out.setdefault(r.icb_code, []).append(
            Piece(icb22[r.subicb_code], bool(r.whole), "" if r.whole else FRIMLEY))
    return out


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
