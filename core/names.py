"""How areas are named on screen: published names made readable, an ICB with its region.

Kept apart from ``core.explore`` so that any module can name an area without loading the
explorer.
"""

from __future__ import annotations

import functools

import pandas as pd


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
    if name.isupper():
        small = {"AND", "OF", "THE"}
        words = [
            w if w in {"NHS", "ICB"}
            else (w.lower() if w in small and i else "-".join(p.capitalize() for p in w.split("-")))
            for i, w in enumerate(name.split())
        ]
        name = " ".join(words)
    name = name.replace("Integrated Care Board", "ICB").replace(" Commissioning Region", "")
    name = name.replace("-On-", "-on-").replace("-Upon-", "-upon-")
    return name
