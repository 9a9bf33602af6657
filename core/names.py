"""How areas are named on screen: published names made readable, an ICB with its region.

Kept apart from ``core.explore`` so that any module can name an area without loading the
explorer.
"""

from __future__ import annotations

import functools
import re

import pandas as pd

from core import model
from core.columns import texts


def area_label(row: pd.Series | dict) -> str:
    name = pretty_name(row["area_name"])
    if row["level"] == "ICB" and isinstance(row.get("parent_name"), str):
        return f"{name} ({pretty_name(row['parent_name'])})"
    return name


@functools.lru_cache(maxsize=4096)
def pretty_name(name: str) -> str:
    """'NHS SOUTH YORKSHIRE INTEGRATED CARE BOARD' → 'NHS South Yorkshire ICB'."""
    if not isinstance(name, str):
        return ""
    return full_name(name).replace("Integrated Care Board", "ICB").replace(
        " Commissioning Region", "")


@functools.lru_cache(maxsize=4096)
def full_name(name: str) -> str:
    """Published names are often upper case: 'NHS SOUTH YORKSHIRE INTEGRATED CARE BOARD' →
    'NHS South Yorkshire Integrated Care Board' (``pretty_name`` then shortens it)."""
    if not isinstance(name, str):
        return ""
    if name.isupper():
        small = {"AND", "OF", "THE"}
        name = " ".join(
            w if w in {"NHS", "ICB", "CCG", "STP"}
            else (w.lower() if w in small and i else "-".join(p.capitalize() for p in w.split("-")))
            for i, w in enumerate(name.split()))
    return name.replace("-On-", "-on-").replace("-Upon-", "-upon-")


@functools.lru_cache(maxsize=4096)
def short_name(name: str) -> str:
    """The place in an area's name, which is what fits beside a chart on a phone:
    'NHS Birmingham and Solihull Integrated Care Board' → 'Birmingham and Solihull'."""
    name = full_name(name)
    name = re.sub(r"^NHS\s+", "", name)
    name = re.sub(r"\s+(Integrated Care Board|ICB|Commissioning Region)$", "", name)
    return name.strip() or full_name(name)


#: Groups a legend names shortly (the tooltip and the table keep the full label).
SHORT_GROUPS = {"BME": "BAME"}


def legend_names(data: pd.DataFrame | dict) -> list[str]:
    """Each row's series as its legend says it: the place, not the organisation ("NHS West
    Yorkshire ICB" → "West Yorkshire"), and "BAME" for the long group label, so an entry fits
    a phone (the tooltip keeps the full names). A short name two series would share stays
    long, so a legend entry always names one series."""
    if "area_name" not in data or "group" not in data:
        return [str(s) for s in texts(data["series"])]
    rows = list(zip(texts(data["series"]), texts(data["area_name"]), texts(data["group"]),
                    strict=True))
    short = {s: f"{short_name(str(a))}, {SHORT_GROUPS.get(g, model.group_label(g))}"
             for s, a, g in rows}
    taken: dict[str, set[str]] = {}
    for full, name in short.items():
        taken.setdefault(name, set()).add(full)
    return [short[s] if len(taken[short[s]]) == 1 else s for s, _, _ in rows]


def distinguishing_names(data: pd.DataFrame | dict) -> list[str]:
    """Each row's series by what tells it from the others, short enough to leave the rate on
    a phone's screen beside it: the population where every line is one area's ("BAME"), the
    place where every line is one population's ("Leeds"), and where both vary the population
    alone for the first row's area (the page's own) and the place and population for the
    others ("BAME", "Whole population", "England, BAME"). Else as the legend names it."""
    legend = legend_names(data)
    if "area_name" not in data or "group" not in data:
        return legend
    areas = [short_name(str(a)) for a in texts(data["area_name"])]
    groups = [SHORT_GROUPS.get(g, model.group_label(g)) for g in texts(data["group"])]
    if len(set(areas)) == 1:
        named = groups
    elif len(set(groups)) == 1:
        named = areas
    else:
        named = [g if a == areas[0] else f"{a}, {g}" for a, g in zip(areas, groups, strict=True)]
    # One name per line, and one line per name, or the legend's names.
    return named if len(set(named)) == len(set(zip(named, legend, strict=True))) == len(
        set(legend)) else legend
