"""Compare ICBs: every ICB of one period ranked against England, as the page shows it.

The page's whole table is made here from the Explorer's arrays (``Explorer.compare_columns``)
and turned into a frame once, at the end: on a table of 42 rows each pandas step costs about
a millisecond, and a frame-by-frame route took dozens of them. The verdicts are
``core.verdicts``'s, on the same arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core import explore, headlines, overdispersion, verdicts


@dataclass(frozen=True)
class Ranking:
    #: The ICBs shown (all, or one region's), sorted, with every verdict and why a rate is
    #: missing. Read-only.
    table: pd.DataFrame
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
    #: The funnel plot's tidy rows need the table's arrays (None: build them from the frame).
    _columns: dict | None = None

    def funnel_rows(self, limits: pd.DataFrame) -> pd.DataFrame:
        """Every shown ICB's point and verdicts, then the control limits (the funnel CSV)."""
        if self._columns is None:
            return verdicts.funnel_rows(self.table, limits, self.adjusted)
        return verdicts.funnel_frame(self._columns, len(self.table), limits, self.adjusted)


def rank_icbs(ex: explore.Explorer, period: str, group: str, measure: str,
              adjust: bool | None = None, region: str | None = None,
              sort: str = "rate") -> Ranking:
    """The ICBs of ``period`` compared with England, allowing for overdispersion
    (Spiegelhalter 2005) when they differ by more than chance, unless ``adjust`` is False
    (Fingertips' bands) or True. The spread and every verdict come from all ICBs; ``region``
    then narrows what is shown, and ``sort`` orders it (``verdicts.SORT_KEYS``)."""
    columns, index, ranked, eng_rate = ex.compare_columns(period, group, measure)
    # In the ranking's order: the spread between areas is summed over them in that order.
    new, info, used = verdicts.england_columns(columns["numerator"][ranked],
                                               columns["denominator"][ranked], eng_rate, adjust)
    back = np.argsort(ranked)
    columns.update({c: v[back] for c, v in new.items()})
    total = len(index)
    if total:  # as ``with_rounding``: an empty table gains no columns
        columns.update(verdicts.rounded_columns(columns, measure))
    trends = headlines.history_trends(ex.history_columns(period, group, measure), period)
    columns["trend"] = pd.array([trends.get(c, "could not be calculated")
                                 for c in columns["area_code"].tolist()], dtype="str")
    outside = verdicts.outside_of(columns["vs_fingertips"], columns["vs_adjusted"],
                                  columns["denominator"])
    region = region if region in ex.regions else None
    # The rows shown, in the ranking's order (a sort keeps it among ties), then sorted.
    shown = (ranked[np.asarray(columns["parent_code"], dtype=object)[ranked] == region]
             if region else ranked)
    shown = shown[verdicts.sort_order(columns["area"][shown], (
        columns["rate"] if sort == "rate" else columns["denominator"])[shown], sort)]
    if len(shown) or not total:
        columns = explore.take_columns(columns, shown)
        columns.update(verdicts.missing_columns(verdicts.missing_words(
            columns["rate"], columns["suppressed"],
            columns.get("status", np.full(len(shown), "", dtype=object)),
            columns["redrawn"]), columns))
        table = explore.frame_of(columns, index[shown])
    else:  # no row of the region: the whole table's column types
        table = verdicts.explain_missing(explore.frame_of(columns, index).iloc[shown])
        columns = None
    return Ranking(table, eng_rate, info, used, outside, total, region, columns)
