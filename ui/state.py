"""The sidebar's state: defaults, validation, and the round trip through the URL.

All of a view lives in the query string, so a link reopens exactly that view. Values from a
URL are checked against what the store holds; anything unknown or hostile is dropped
silently and never echoed back to the page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from core import explore, model

MAX_POPULATIONS = 5  # national view: other populations
MAX_AREAS = 2  # ICB view: other areas
VIEWS = ("National", "ICB")


@dataclass
class Selection:
    view: str = "National"
    icb: str | None = None
    population: str = "Total"
    measure: str = "recovery"
    compare: list[str] = field(default_factory=list)  # national: "CODE~GROUP"
    areas: list[str] = field(default_factory=list)  # ICB view: area codes
    show_ci: bool = True
    show_england: bool = True
    rolling: bool = False
    #: ``quarter`` or ``year`` (financial year): every page shows this period type.
    period: str = "quarter"

    @property
    def rolling_on(self) -> bool:
        """Rolling four quarters belong to the quarterly view only."""
        return self.rolling and self.period == "quarter"

    def to_params(self) -> dict[str, str]:
        p = {"view": self.view, "period": self.period, "pop": self.population,
             "measure": self.measure, "ci": "1" if self.show_ci else "0"}
        if self.rolling_on:
            p["roll"] = "1"
        if self.view == "ICB":
            if self.icb:
                p["icb"] = self.icb
            if self.areas:
                p["areas"] = ",".join(self.areas)
            p["eng"] = "1" if self.show_england else "0"
        elif self.compare:
            p["cmp"] = ",".join(self.compare)
        return p

    def area(self, ex: explore.Explorer) -> tuple[str, str, str]:
        """(level, code, name) of the area this view is about."""
        if self.view == "ICB" and self.icb:
            hit = ex.area(self.icb)
            if hit is not None:
                return "ICB", self.icb, explore.pretty_name(hit[1])
        return "England", "ENG", "England"

    def series(self, ex: explore.Explorer) -> list[explore.SeriesKey]:
        """The lines this selection draws, main series first."""
        if self.view == "National":
            keys = [explore.SeriesKey("England", "ENG", self.population)]
            for text in self.compare:
                key = ex.parse_series(text)
                if key and key not in keys:
                    keys.append(key)
            return keys
        level, code, _ = self.area(ex)
        groups = list(dict.fromkeys(["Total", "BME", self.population]))
        keys = [explore.SeriesKey(level, code, g) for g in groups]
        for other in self.areas:
            hit = ex.area(other)
            if hit is not None and other != code:
                keys += [explore.SeriesKey(hit[0], other, g) for g in ("Total", "BME")]
        if self.show_england and code != "ENG":
            keys.append(explore.SeriesKey("England", "ENG", self.population))
        return list(dict.fromkeys(keys))


def from_params(params: Mapping[str, str], ex: explore.Explorer) -> Selection:
    """A selection from a query string, keeping only values that are valid here. Without a
    valid ICB, the ICB is the store's default one (``Explorer.default_icb``), on every view,
    so the ICB view opens on the same ICB however the page was opened. Without a valid
    period type, the store's default one (``Explorer.default_period_type``)."""
    s = Selection(period=ex.default_period_type)
    icbs = set(ex.icbs)

    def get(key: str) -> str:
        value = params.get(key, "")
        return value if isinstance(value, str) and len(value) <= 400 else ""

    if get("period") in ex.period_types:
        s.period = get("period")
    if get("view") in VIEWS:
        s.view = get("view")
    s.icb = get("icb") if get("icb") in icbs else ex.default_icb
    if get("pop") in model.POPULATIONS:
        s.population = get("pop")
    if get("measure") in model.MEASURES:
        s.measure = get("measure")
    s.show_ci = get("ci") != "0"
    s.show_england = get("eng") != "0"
    s.rolling = get("roll") == "1"
    cmp = [c for c in get("cmp").split(",") if ex.parse_series(c)]
    s.compare = list(dict.fromkeys(cmp))[:MAX_POPULATIONS]
    other = [a for a in get("areas").split(",") if ex.area(a) is not None and a != s.icb]
    s.areas = list(dict.fromkeys(other))[:MAX_AREAS]
    return s
