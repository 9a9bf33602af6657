"""Compare ICBs: every ICB of one period ranked against England, as the page shows it.

The page's whole table is made here from the Explorer's arrays (``Explorer.compare_columns``)
and turned into a frame once, at the end: on a table of 42 rows each pandas step costs about
a millisecond, and a frame-by-frame route took dozens of them. The verdicts are
``core.verdicts``'s, on the same arrays.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core import explore, headlines, overdispersion, unusual, verdicts
from core.columns import frame_of, n_rows, take_columns


@dataclass(frozen=True)
class Ranking:
    #: The ICBs shown (all, or one region's), sorted, with every verdict and why a rate is
    #: missing, as arrays by name (what the charts, table and text read). Read-only.
    columns: dict
    #: The frame's index (the shown rows' positions in the store).
    index: pd.Index
    #: England's rate (a percentage), or None.
    england: float | None
    #: The spread between ICBs, and whether the comparison allows for it.
    info: overdispersion.Overdispersion
    adjusted: bool
    #: How many ICBs are outside England's limits (``verdicts.outside_of``), over all ICBs.
    outside: dict
    #: ICBs in the period (before a region narrows them).
    total: int
    #: The region shown (a code of ``Explorer.regions``), or None for all.
    region: str | None

    @functools.cached_property
    def table(self) -> pd.DataFrame:
        """``columns`` as a frame, made when first read (the page's CSV, the funnel's
        limits, tests)."""
        return frame_of(self.columns, self.index)

    def funnel_rows(self, limits: pd.DataFrame) -> pd.DataFrame:
        """Every shown ICB's point and verdicts, then the control limits (the funnel CSV)."""
        return funnel_rows(self.columns, limits, self.adjusted)


@dataclass(frozen=True)
class Compared:
    """Every ICB of one period against England, as arrays in the store's order: what Compare
    ICBs ranks and the map shades."""

    columns: dict
    index: pd.Index
    #: The positions that rank ``columns`` (highest rate first).
    ranked: np.ndarray
    england: float | None
    info: overdispersion.Overdispersion
    adjusted: bool


def compare_icbs(ex: explore.Explorer, period: str, group: str, measure: str,
                 adjust: bool | None = None) -> Compared:
    """The ICBs of ``period`` compared with England, allowing for overdispersion
    (Spiegelhalter 2005) when they differ by more than chance, unless ``adjust`` is False
    (Fingertips' bands) or True; each rate as rounding and suppression leave it."""
    columns, index, ranked, eng_rate = ex.compare_columns(period, group, measure)
    # In the ranking's order: the spread between areas is summed over them in that order.
    new, info, used = verdicts.england_columns(columns["numerator"][ranked],
                                               columns["denominator"][ranked], eng_rate, adjust)
    back = np.argsort(ranked)
    columns.update({c: v[back] for c, v in new.items()})
    if len(index):  # an empty table gains no columns
        columns.update(verdicts.rounded_columns(columns, measure))
        sudden = unusual.sudden_changes(ex.history_columns(period, group, measure), period)
        columns["unusual"] = np.array([sudden.get(c, "") for c in columns["area_code"].tolist()],
                                      dtype=object)
    return Compared(columns, index, ranked, eng_rate, info, used)


def by_rate(c: Compared) -> np.ndarray:
    """The positions of ``c``'s ICBs by rate, highest first, ties in the ranking's order
    (Compare ICBs' default order)."""
    return c.ranked[verdicts.sort_order(c.columns["area"][c.ranked],
                                        c.columns["rate"][c.ranked], "rate")]


def explained(columns: dict) -> dict:
    """``columns`` (``compare_icbs``') with ``missing``, and the verdicts and note of an ICB
    with no rate saying why (suppressed, not reliable, redrawn, no data), set in place."""
    n = len(columns["rate"])
    columns.update(verdicts.missing_columns(verdicts.missing_words(
        columns["rate"], columns["suppressed"],
        columns.get("status", np.full(n, "", dtype=object)), columns["redrawn"]), columns))
    if "unusual" in columns:  # the caution in the note: the chart's tooltip, the table, the map
        columns["note"] = unusual.with_notes(columns["note"], columns["unusual"])
    return columns


def rank_icbs(ex: explore.Explorer, period: str, group: str, measure: str,
              adjust: bool | None = None, region: str | None = None,
              sort: str = "rate") -> Ranking:
    """The ICBs of ``period`` compared with England (``compare_icbs``). The spread and every
    verdict come from all ICBs; ``region`` then narrows what is shown, and ``sort`` orders it
    (``verdicts.SORT_KEYS``)."""
    c = compare_icbs(ex, period, group, measure, adjust)
    columns, index, ranked, eng_rate, info, used = (c.columns, c.index, c.ranked, c.england,
                                                    c.info, c.adjusted)
    total = len(index)
    history = ex.history_columns(period, group, measure)
    trends = headlines.history_trends(history, period)
    codes = columns["area_code"].tolist()
    columns["trend"] = pd.array([trends.get(c, "could not be calculated") for c in codes],
                                dtype="str")
    outside = verdicts.outside_of(columns["vs_fingertips"], columns["vs_adjusted"],
                                  columns["denominator"])
    region = region if region in ex.regions else None
    # The rows shown, in the ranking's order (a sort keeps it among ties), then sorted.
    shown = (ranked[np.asarray(columns["parent_code"], dtype=object)[ranked] == region]
             if region else ranked)
    shown = shown[verdicts.sort_order(columns["area"][shown], (
        columns["rate"] if sort == "rate" else columns["denominator"])[shown], sort)]
    return Ranking(explained(take_columns(columns, shown)), index[shown], eng_rate, info,
                   used, outside, total, region)


# --- The funnel plot ------------------------------------------------------------------------


def funnel_limits(table: pd.DataFrame, baseline_percent: float | None, tau2: float = 0.0
                  ) -> pd.DataFrame:
    """Funnel control limits across the areas' denominators, widened by ``tau2`` (0: the
    binomial limits): ``denominator``, ``low95``/``high95`` and ``low998``/``high998``
    (percentages), and ``baseline``."""
    den = (table["denominator"].to_numpy("float64", na_value=np.nan) if "denominator" in table
           else np.array([]))
    den = den[~np.isnan(den)]
    if not len(den) or baseline_percent is None or pd.isna(baseline_percent):
        return pd.DataFrame()
    n = np.unique(np.geomspace(max(den.min() * 0.8, 5), den.max() * 1.1, 120).round())
    p0 = baseline_percent / 100
    out = {"denominator": n}
    for conf, name in ((0.95, "95"), (0.998, "998")):
        lo, hi = overdispersion.adjusted_limits(p0, n, tau2, conf)
        out[f"low{name}"], out[f"high{name}"] = np.asarray(lo) * 100, np.asarray(hi) * 100
    out["baseline"] = np.full(len(n), baseline_percent, dtype=float)
    return pd.DataFrame(out)


#: What each funnel line is called in the funnel's CSV.
FUNNEL_LINES = {"baseline": "England", "low95": "95% lower", "high95": "95% upper",
                "low998": "99.8% lower", "high998": "99.8% upper"}


#: The area columns of the funnel's CSV, and what each is called there.
_FUNNEL_AREA = {"area_code": "area_code", "area_name": "area_name", "region": "region",
                "numerator": "numerator", "denominator": "denominator", "rate": "rate",
                "ci95_low": "ci95_low", "ci95_high": "ci95_high",
                "vs_england": "compared_with_england",
                "vs_adjusted": "compared_allowing_for_spread",
                "vs_fingertips": "compared_unadjusted", "vs_target": "against_target",
                "note": "note", "synthetic": "synthetic"}


def funnel_rows(areas: pd.DataFrame | dict, limits: pd.DataFrame, adjusted: bool
                ) -> pd.DataFrame:
    """The funnel plot as tidy rows: one per area (``row`` "ICB": its counts, rate, interval
    and verdicts) and one per point of each control line (``row`` "limit": ``limit`` names the
    line, ``rate`` is its value at that ``denominator``), so the CSV holds what the chart
    draws. ``limits_rule`` says how the limits were drawn. ``areas``: the shown areas' columns
    by name (a frame or arrays). The limit rows leave the area columns empty (a flag column
    then holds its values and empties, as object); with no limits each column keeps its
    type."""
    n = n_rows(areas)
    rule = ("allowing for overdispersion (Spiegelhalter 2005)" if adjusted
            else "binomial (unadjusted)")
    lines = 0 if limits.empty else len(limits) * len(FUNNEL_LINES)
    out: dict[str, object] = {"row": pd.array(["ICB"] * n + ["limit"] * lines, dtype="str")}
    for col, name in _FUNNEL_AREA.items():
        if col not in areas:
            continue
        values = areas[col]
        values = values.array if isinstance(values, pd.Series) else values
        if lines:
            values = np.asarray(values)
            fill = np.full(lines, np.nan, dtype=values.dtype if values.dtype.kind == "f"
                           else object)
            values = np.concatenate([values if values.dtype.kind == "f"
                                     else values.astype(object), fill])
        out[name] = values
    if lines:
        den = limits["denominator"].to_numpy("float64")
        out["limit"] = np.concatenate([np.full(n, "", dtype=object), np.repeat(
            np.array(list(FUNNEL_LINES.values()), dtype=object), len(limits))])
        tail = {"denominator": np.tile(den, len(FUNNEL_LINES)),
                "rate": np.concatenate([limits[c].to_numpy("float64") for c in FUNNEL_LINES])}
        for col, values in tail.items():
            if col in out:
                out[col][n:] = values
            else:
                out[col] = np.concatenate([np.full(n, np.nan), values])
    out["limit"] = pd.array(out["limit"] if lines else np.full(n, "", dtype=object), dtype="str")
    out["limits_rule"] = pd.array(np.full(n + lines, rule, dtype=object), dtype="str")
    return pd.DataFrame(out)
