"""What a store holds, as the pickers and notices need it: its periods of each type (with
gaps), which are synthetic, its areas and their labels, the series a user can add.

``core.explore.Explorer`` builds on this (``Catalogue``) with the questions the pages ask.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np
import pandas as pd

from core import model, periods
from core.names import area_label, pretty_name


class SeriesKey(NamedTuple):
    """One line on a chart: an area and a population group.

    A named tuple (not a dataclass) because it is part of cache keys: Streamlit hashes a tuple
    of strings several times faster than it hashes dataclass instances.
    """

    level: str
    area_code: str
    group: str


#: The period types a view can show, in the order offered, with their labels.
PERIOD_TYPES = {"quarter": "Quarterly", "year": "Financial year"}


def year_domain(frame: pd.DataFrame) -> list[str]:
    """All financial years from the first to the last in the store (``2024/25``), any year
    missing between them included, so a chart shows the gap."""
    # The one column needed, then the rows: taking every column's rows costs far more.
    y = frame["period_start"][frame["period_type"] == "year"]
    if y.empty:
        return []
    first, last = (periods.financial_year_start(d) for d in (y.min(), y.max()))
    return [f"{year}/{(year + 1) % 100:02d}" for year in range(first, last + 1)]


def quarter_domain(frame: pd.DataFrame) -> list[str]:
    """All quarters from the first to the last in the store, unpublished ones included."""
    q = frame["period_start"][frame["period_type"] == "quarter"]
    if q.empty:
        return []
    return periods.quarter_range(q.min(), q.max())


def _in_picker_order(latest: pd.DataFrame) -> pd.DataFrame:
    out = latest[["level", "area_code", "area_name", "parent_code", "parent_name"]].copy()
    out["_o"] = out["level"].map({"England": 0, "Region": 1, "ICB": 2})
    # ICBs whose region is unknown (a code no reference table knows) come last.
    out["_u"] = out["parent_name"].isna() | (out["parent_name"] == "Region unknown")
    return out.sort_values(["_o", "_u", "parent_name", "area_name"], na_position="last",
                           kind="stable")


def _latest_rows(f: pd.DataFrame) -> pd.DataFrame:
    """One row of each (level, area): its last in date order, the last in store order among
    rows of one date (a stable sort; a missing date counts as the latest). Found by sorting
    integer codes, not every row by date (the cost of ``areas`` on a large store)."""
    if f.empty:
        return f
    rank, _ = pd.factorize(f["period_start"], sort=True, use_na_sentinel=False)
    level, _ = pd.factorize(f["level"])
    code, _ = pd.factorize(f["area_code"], use_na_sentinel=False)
    area = level.astype(np.int64) * (code.max() + 1) + code
    order = np.lexsort((rank, area))  # stable: by area, then date, then store order
    last = np.ones(len(order), dtype=bool)
    last[:-1] = area[order][1:] != area[order][:-1]
    return f.iloc[np.sort(order[last])]


class Catalogue:
    """What one store holds, worked out on first use and then kept (read-only)."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame

    # --- What the store holds ---------------------------------------------------------------

    @functools.cached_property
    def quarters(self) -> list[str]:
        return quarter_domain(self.frame)

    @property
    def published_quarters(self) -> list[str]:
        return self.published("quarter")

    @property
    def latest(self) -> str | None:
        """The latest quarter (``latest_of`` for either period type)."""
        return self.latest_of("quarter")

    @functools.cached_property
    def years(self) -> list[str]:
        return year_domain(self.frame)

    def domain(self, kind: str = "quarter") -> list[str]:
        """Every period of ``kind`` from the first to the last, gaps included (worked out
        once: every rerun of every page asks)."""
        return self.quarters if kind == "quarter" else self.years

    @functools.cached_property
    def _synthetic_by_period(self) -> dict[str, bool]:
        """Period label → whether every row of it is synthetic (no published row)."""
        return self.frame.groupby("period", sort=False)["synthetic"].all().to_dict()

    def published(self, kind: str = "quarter") -> list[str]:
        """The periods of ``kind`` the store has rows for, oldest first."""
        return list(self._published[kind])

    @functools.cached_property
    def _published(self) -> dict[str, tuple[str, ...]]:
        have = self._synthetic_by_period
        return {kind: tuple(p for p in self.domain(kind) if p in have) for kind in PERIOD_TYPES}

    def latest_of(self, kind: str = "quarter") -> str | None:
        found = self.published(kind)
        return found[-1] if found else None

    @functools.cached_property
    def period_types(self) -> list[str]:
        """The period types the store holds, in ``PERIOD_TYPES`` order."""
        present = set(self.frame["period_type"].unique().tolist())
        return [k for k in PERIOD_TYPES if k in present]

    @functools.cached_property
    def default_period_type(self) -> str:
        """The period type a visitor sees first: the first whose latest period holds
        published (not synthetic) figures, so the first screen is real whenever the store
        allows; else the first the store holds."""
        for kind in self.period_types:
            if not self._synthetic_by_period[self.latest_of(kind)]:
                return kind
        return self.period_types[0] if self.period_types else "quarter"

    def synthetic_periods(self, kind: str = "quarter") -> tuple[list[str], list[str]]:
        """(periods of ``kind`` with synthetic rows, those with none): what a notice says."""
        have = self._synthetic_by_period
        found = self.published(kind)
        return [p for p in found if have[p]], [p for p in found if not have[p]]

    @functools.cached_property
    def synthetic(self) -> bool:
        """Whether any row of the store is synthetic (``synthetic_periods`` says where)."""
        return bool(self.frame["synthetic"].any()) if len(self.frame) else False

    @functools.cached_property
    def regions(self) -> dict[str, str]:
        """{region code: name} of the regions the store holds, in the pickers' order: asked
        on every rerun of every page with a region filter, so worked out once."""
        regions = self.areas[self.areas["level"] == "Region"]
        return {str(c): pretty_name(str(n))
                for c, n in zip(regions["area_code"], regions["area_name"], strict=True)}

    @functools.cached_property
    def areas(self) -> pd.DataFrame:
        """Every England, region and ICB area, with its region, in the order pickers offer
        them: England, the regions, then ICBs by region and name."""
        f = self.frame[["level", "area_code", "area_name", "parent_code", "parent_name",
                        "period_start"]]
        f = f[f["level"].isin(["England", "Region", "ICB"])]
        out = _in_picker_order(_latest_rows(f))
        return out.drop(columns=["_o", "_u"]).reset_index(drop=True)

    @functools.cached_property
    def _lookup(self) -> dict[str, tuple[str, str]]:
        a = self.areas
        return dict(zip(a["area_code"].tolist(),
                        zip(a["level"].tolist(), a["area_name"].tolist(), strict=True),
                        strict=True))

    def area(self, code: str) -> tuple[str, str] | None:
        """(level, name as published) of an area code; None for a code the store lacks."""
        return self._lookup.get(code) if isinstance(code, str) else None

    @functools.cached_property
    def labels(self) -> dict[str, str]:
        """Area code → label for pickers (an ICB with its region)."""
        return {row["area_code"]: area_label(row) for row in self.areas.to_dict("records")}

    @functools.cached_property
    def icbs(self) -> list[str]:
        """ICB codes in the order the picker offers them."""
        return self.areas.loc[self.areas["level"] == "ICB", "area_code"].tolist()

    @property
    def default_icb(self) -> str | None:
        """The ICB a view shows when none was chosen: the first the picker offers, however
        the page was opened."""
        return self.icbs[0] if self.icbs else None

    @functools.cached_property
    def series_choices(self) -> dict[str, str]:
        """Every ``code~group`` series a user can add on the national view, with its label."""
        return {f"{code}~{group}": f"{label}: {model.group_label(group)}"
                for code, label in self.labels.items() for group in model.POPULATIONS}

    def parse_series(self, text: object) -> SeriesKey | None:
        """A series from its URL form ``QHM~BME``; None for anything unknown (never echoed)."""
        if not isinstance(text, str) or "~" not in text or len(text) > 120:
            return None
        code, group = text.split("~", 1)
        hit = self.area(code)
        if group not in model.POPULATIONS or hit is None:
            return None
        return SeriesKey(hit[0], code, group)
