"""The sidebar's state: defaults, validation, and the round trip through the URL.

All of a view lives in the query string, so a link reopens exactly that view. Values from a
URL are checked against what the store holds; anything unknown or hostile is dropped
silently and never echoed back to the page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from core import explore, geography, model

MAX_POPULATIONS = 5  # national view: other populations
MAX_AREAS = 2  # ICB view: other areas
VIEWS = ("National", "ICB")
#: How Compare ICBs can order its rows.
SORTS = {"rate": "By rate", "name": "By name", "size": "By size (denominator)"}
#: The two charts of Compare ICBs, each in its own tab (only the open one is drawn).
COMPARE_CHARTS = {"ranked": "Ranked with intervals", "funnel": "Funnel plot"}
#: What colours the map of ICBs.
COLOURS = {"rate": "Rate", "band": "Compared with England"}
#: The two ICB geographies (issue 10): the 42 ICBs of July 2022 and the 36 of April 2026.
BOUNDARIES = dict(geography.BOUNDARY_LABELS)

#: The controls each page shows (and that change it): a page shows no control that does
#: nothing there. Pages not named here (About, Upload) show none.
PAGE_CONTROLS: dict[str, tuple[str, ...]] = {
    "trends": ("period", "view", "icb", "population", "measure", "compare", "areas",
               "show_england", "show_ci", "rolling", "since", "boundaries"),
    "compare": ("period", "icb", "population", "measure", "at", "unadjusted", "sort", "region",
                "boundaries", "chart"),
    "inequalities": ("period", "view", "icb", "measure", "at", "detailed", "boundaries"),
    "map": ("period", "icb", "population", "measure", "at", "boundaries", "colour"),
}


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
    #: The one period Compare ICBs, the map and "where the gap comes from" show (None: the
    #: latest published one).
    at: str | None = None
    #: Compare ICBs: binomial limits and Fingertips' bands instead of the overdispersion rule.
    unadjusted: bool = False
    #: Ethnic inequalities: detailed ethnic groups under the broad ones.
    detailed: bool = False
    #: Compare ICBs: row order (a key of ``SORTS``).
    sort: str = "rate"
    #: Compare ICBs: one region's ICBs only (a region code), or None for all.
    region: str | None = None
    #: ICB geography, a key of ``BOUNDARIES``; None: the boundaries of the latest period.
    boundaries: str | None = None
    #: Map of ICBs: colour by the rate or by the comparison band (a key of ``COLOURS``).
    colour: str = "rate"
    #: Compare ICBs: the chart tab open (a key of ``COMPARE_CHARTS``).
    chart: str = "ranked"
    #: Trend charts start at this period (None: the first one).
    since: str | None = None
    #: Whether a person chose ``icb`` (in the picker, on the map, or by a link naming it);
    #: until then ``icb`` is only the ICB view's default, which Compare and the map do not
    #: mark: a highlight nobody chose read as the tool singling an ICB out (review).
    icb_chosen: bool = False
    #: The ICB geography every view is drawn in: ``boundaries``, else the store's default.
    #: Views are cached on it, so the default and the same choice made explicit (switching
    #: away and back) share one view. Not in the URL (``boundaries`` is).
    geography: str | None = None
    #: What a link held that was not valid here, as (parameter, value), in the URL's order:
    #: said once on the page (``from_params``). Not kept in the session or the URL.
    ignored: list[tuple[str, str]] = field(default_factory=list)

    @property
    def highlight(self) -> str | None:
        """The ICB Compare and the map mark: one chosen, or the one the ICB view shows."""
        return self.icb if self.icb_chosen or self.view == "ICB" else None

    @property
    def rolling_on(self) -> bool:
        """Rolling four quarters belong to the quarterly view only."""
        return self.rolling and self.period == "quarter"

    def to_params(self) -> dict[str, str]:
        p = {"view": self.view, "period": self.period, "pop": self.population,
             "measure": self.measure, "ci": "1" if self.show_ci else "0"}
        if self.rolling_on:
            p["roll"] = "1"
        if self.highlight:  # the ICB view's area, and the ICB Compare and the map mark
            p["icb"] = self.highlight
        if self.view == "ICB":
            if self.areas:
                p["areas"] = ",".join(self.areas)
            p["eng"] = "1" if self.show_england else "0"
        elif self.compare:
            p["cmp"] = ",".join(self.compare)
        # Page controls: only what differs from the default, so a plain link stays short.
        for key, value in (("at", self.at), ("since", self.since), ("region", self.region),
                           ("bnd", self.boundaries)):
            if value:
                p[key] = value
        if self.unadjusted:
            p["adj"] = "0"
        if self.detailed:
            p["det"] = "1"
        if self.sort != "rate":
            p["sort"] = self.sort
        if self.colour != "rate":
            p["colour"] = self.colour
        if self.chart != "ranked":
            p["chart"] = self.chart
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


#: A population as a person may type it in a link: in any case, and BAME for BME (the app
#: says BAME everywhere, and ``pop=BAME`` was silently ignored; a helper's review).
POPULATION_ALIASES = {**{code.upper(): code for code in model.POPULATIONS}, "BAME": "BME"}


def from_params(params: Mapping[str, str], ex: explore.Explorer) -> Selection:
    """A selection from a query string, keeping only values that are valid here. Without a
    valid ICB, the ICB is the store's default one (``Explorer.default_icb``), on every view,
    so the ICB view opens on the same ICB however the page was opened. Without a valid
    period type, the store's default one (``Explorer.default_period_type``). ICBs are
    checked against the chosen boundaries (``bnd``; the store's default without one)."""
    s = Selection(period=ex.default_period_type)

    def get(key: str) -> str:
        value = params.get(key, "")
        return value if isinstance(value, str) and len(value) <= 400 else ""

    s.boundaries = get("bnd") if get("bnd") in BOUNDARIES else None
    ex = ex.in_boundaries(s.boundaries)
    icbs = set(ex.icbs)

    if get("period") in ex.period_types:
        s.period = get("period")
    if get("view") in VIEWS:
        s.view = get("view")
    s.icb = get("icb") if get("icb") in icbs else ex.default_icb
    s.icb_chosen = get("icb") in icbs
    pop = POPULATION_ALIASES.get(get("pop").upper(), get("pop"))
    if pop in model.POPULATIONS:
        s.population = pop
    if get("measure") in model.MEASURES:
        s.measure = get("measure")
    s.show_ci = get("ci") != "0"
    s.show_england = get("eng") != "0"
    s.rolling = get("roll") == "1"
    cmp = [c for c in get("cmp").split(",") if ex.parse_series(c)]
    s.compare = list(dict.fromkeys(cmp))[:MAX_POPULATIONS]
    other = [a for a in get("areas").split(",") if ex.area(a) is not None and a != s.icb]
    s.areas = list(dict.fromkeys(other))[:MAX_AREAS]
    published = set(ex.published(s.period))
    s.at = get("at") if get("at") in published else None
    s.since = get("since") if get("since") in published else None
    s.unadjusted = get("adj") == "0"
    s.detailed = get("det") == "1"
    s.sort = get("sort") if get("sort") in SORTS else "rate"
    s.colour = get("colour") if get("colour") in COLOURS else "rate"
    s.chart = get("chart") if get("chart") in COMPARE_CHARTS else "ranked"
    s.region = get("region") if get("region") in region_codes(ex) else None
    s.ignored = _ignored(params, s)
    return s


#: The parameters whose value names something (an ICB, a period...): one that names nothing
#: here is said, not silently replaced (``icb=ZZZ`` opened another ICB without a word; a
#: helper's review). On/off switches fall back to their default and are not listed.
_NAMED = {"bnd": "boundaries", "period": "period", "view": "view", "icb": "icb",
          "pop": "population", "measure": "measure", "at": "at", "since": "since",
          "sort": "sort", "colour": "colour", "chart": "chart", "region": "region"}


def _ignored(params: Mapping[str, str], s: Selection) -> list[tuple[str, str]]:
    """The (parameter, value) pairs of ``params`` that ``s`` did not take (``_NAMED``)."""
    out = []
    for key, value in params.items():
        if not isinstance(value, str) or not value:
            continue
        if key in _NAMED:
            kept = getattr(s, _NAMED[key])
            if key == "pop":
                value_ok = POPULATION_ALIASES.get(value.upper()) == kept
            elif key == "icb":
                value_ok = s.icb_chosen
            else:
                value_ok = value == kept
            if not value_ok:
                out.append((key, value))
        elif key in ("cmp", "areas"):
            kept = set(s.compare if key == "cmp" else [*s.areas, s.icb])
            out += [(key, v) for v in value.split(",") if v and v not in kept]
    return out


def region_codes(ex: explore.Explorer) -> dict[str, str]:
    """{region code: name} of the regions the store holds, in the store's order (kept with
    the Explorer: read-only)."""
    return ex.regions
