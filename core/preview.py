"""What loading a file would change, before anything is written.

The upload page shows this so a maintainer can see, for England and every ICB whose numbers
move, the rate before and after, and which quarters are new or replaced.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from core import model, stats
from core.readers import ReadResult
from core.store import MergeReport, merge_results


@dataclass
class Preview:
    merged: pd.DataFrame
    report: MergeReport
    changes: pd.DataFrame  # England and ICB rows whose values differ, with rates before/after


def preview(stored: pd.DataFrame, results: Sequence[ReadResult], *, synthetic: bool = False) -> Preview:
    merged, report = merge_results(stored, results, synthetic=synthetic)
    return Preview(merged, report, changes(stored, merged, report.periods_added + report.periods_replaced))


def changes(before: pd.DataFrame, after: pd.DataFrame, period_labels: list[str]) -> pd.DataFrame:
    """Headline recovery rates (whole population and BME) that a merge adds or moves."""
    keep = ["period", "level", "area_code", "area_name", "group"]

    def headline(frame: pd.DataFrame) -> pd.DataFrame:
        f = frame[frame["period"].isin(period_labels) & frame["level"].isin(["England", "ICB"])
                  & frame["group"].isin(["Total", "BME"])
                  & frame["breakdown"].isin(["Total", "BME Group"])]
        rated = stats.add_rates(f, "recovery")
        return rated[keep + ["rate", "numerator", "denominator"]].set_index(keep[:3] + ["group"])

    old, new = headline(before), headline(after)
    joined = new.join(old[["rate"]].rename(columns={"rate": "rate_before"}), how="left")
    joined = joined.rename(columns={"rate": "rate_after"}).reset_index()
    moved = joined["rate_before"].isna() != joined["rate_after"].isna()
    moved |= (joined["rate_before"] - joined["rate_after"]).abs().fillna(0) > 1e-9
    out = joined[moved | (joined["level"] == "England")].copy()
    out["group"] = out["group"].map(model.group_label)
    out["change"] = out["rate_after"] - out["rate_before"]
    order = {"England": 0, "ICB": 1}
    out["_o"] = out["level"].map(order)
    return out.sort_values(["period", "_o", "area_name", "group"]).drop(columns="_o").reset_index(drop=True)
