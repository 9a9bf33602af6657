"""What loading a file would change, before anything is written.

The upload page shows this so a maintainer can see, for England and every ICB whose numbers
move, the rate before and after, and which quarters are new or replaced. It works on small
slices of the store: the full merge is only built when the user applies or downloads it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from core import model, stats, unusual
from core.charts import full_name, short_name
from core.merge import ANYWAY_PAGE, without_sample
from core.readers import ReadResult
from core.store import MergeReport, coverage, cut_message, diff, incoming_rows, merge
from core.trend_tests import TREND_POINTS
from core.validate import unread_levels

HEADLINE_GROUPS = {"Total": "Total", "BME": "BME Group"}


@dataclass
class Preview:
    report: MergeReport
    changes: pd.DataFrame  # England and ICB rows whose values differ, with rates before/after
    england: pd.DataFrame  # England's whole-population and BME rows after the merge (for a chart)
    #: Per period: areas, groups and area-and-group rows in the file against the store's.
    coverage: pd.DataFrame
    #: Why the file looks cut short (the store refuses it), or None.
    cut: str | None
    #: The file's period type (``quarter`` or ``year``): what the preview chart draws.
    kind: str = "quarter"
    #: Why the merged quarterly series would be too short to read, or None (``short_series``).
    short: str | None = None
    #: The file's England, region and ICB figures that changed too sharply on a year
    #: earlier to take on trust (``unusual.in_periods``): said before anything is saved.
    unusual: list[tuple[str, str]] = field(default_factory=list)


def period_kind(results: Sequence[ReadResult]) -> str:
    """``year`` for annual files (every row a financial year), else ``quarter``: a preview
    chart of quarters would leave an annual file's new year off the chart."""
    types = set()
    for r in results:
        types |= set(r.frame["period_type"].unique())
    return "year" if types == {"year"} else "quarter"


def _headline_rows(frame: pd.DataFrame, levels: Sequence[str]) -> pd.Series:
    mask = frame["level"].isin(levels) & frame["group"].isin(list(HEADLINE_GROUPS))
    return mask & frame["breakdown"].isin(list(HEADLINE_GROUPS.values()))


def preview(stored: pd.DataFrame, results: Sequence[ReadResult], *, synthetic: bool = False,
            remove_synthetic: bool = False) -> Preview:
    stored, removed = without_sample(stored, remove_synthetic)
    incoming = incoming_rows(results, synthetic=synthetic)
    report = diff(stored, incoming)
    report.synthetic_removed = removed
    cov = coverage(stored, incoming)
    period_labels = report.periods_added + report.periods_replaced
    in_periods = stored["period"].isin(period_labels)
    before = stored[in_periods & _headline_rows(stored, ["England", "ICB"])]
    after, _ = merge(before, incoming[_headline_rows(incoming, ["England", "ICB"])])
    england, _ = merge(stored[_headline_rows(stored, ["England"])],
                       incoming[_headline_rows(incoming, ["England"])])
    short = short_series(stored, incoming) if removed else None
    return Preview(report, changes(before, after, period_labels), england, cov,
                   cut_message(cov, ", ".join(report.sources), ANYWAY_PAGE,
                               unread_levels(results)), period_kind(results),
                   short, unusual_figures(stored, incoming, period_labels))


def unusual_figures(stored: pd.DataFrame, incoming: pd.DataFrame, periods: list[str]
                    ) -> list[tuple[str, str]]:
    """``unusual.in_periods`` of ``incoming``'s ``periods`` against the store's year before
    (the store's own rows of those periods replaced by the file's)."""
    if not periods:
        return []
    kept = stored[stored["level"].isin(unusual.LOAD_LEVELS)
                  & stored["group"].isin(unusual.LOAD_GROUPS) & ~stored["period"].isin(periods)]
    new = incoming[incoming["level"].isin(unusual.LOAD_LEVELS)
                   & incoming["group"].isin(unusual.LOAD_GROUPS)]
    return unusual.in_periods(pd.concat([kept, new], ignore_index=True), periods)


def short_series(stored: pd.DataFrame, incoming: pd.DataFrame) -> str | None:
    """With the synthetic sample removed, the quarters left may be too few to read as a
    series (the first real quarterly file leaves one; an annual file, none): say so before it
    is applied, rather than let a maintainer find a one-point chart. None when enough remain.
    ``stored`` is the store without the sample."""
    quarters = sorted({*_quarters(stored), *_quarters(incoming)})
    if len(quarters) >= TREND_POINTS:
        return None
    if not quarters:
        return ("With the synthetic sample removed, the merged data holds no quarters: only "
                "financial years can be shown until a real quarterly file is loaded.")
    span = quarters[0] if len(quarters) == 1 else f"{quarters[0]} to {quarters[-1]}"
    count = "1 quarter" if len(quarters) == 1 else f"{len(quarters)} quarters"
    return (f"With the synthetic sample removed, the quarterly view will hold {count} "
            f"({span}): a recent trend needs {TREND_POINTS} and rolling four quarters need 4, "
            "so those will say 'could not be calculated' until more quarters are loaded. "
            "Financial-year figures are not affected.")


def _quarters(frame: pd.DataFrame) -> set[str]:
    if not len(frame):
        return set()
    return set(frame.loc[(frame["period_type"] == "quarter").to_numpy(), "period"].unique())


def changes(before: pd.DataFrame, after: pd.DataFrame, period_labels: list[str]) -> pd.DataFrame:
    """Headline recovery rates (whole population and BME) that a merge adds or moves."""
    keep = ["period", "level", "area_code", "area_name", "group"]

    def headline(frame: pd.DataFrame) -> pd.DataFrame:
        f = frame[frame["period"].isin(period_labels) & _headline_rows(frame, ["England", "ICB"])]
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


#: The preview table's columns, in the order shown: the figures that change first, then what
#: they belong to, the full published name last (the short name is what fits at 1400 px).
TABLE_COLUMNS = {
    "rate_before": "Before (%)", "rate_after": "After (%)", "change": "Change (pts)",
    "area": "Area", "group": "Population", "period": "Period", "numerator": "Recovered",
    "denominator": "Denominator", "full_name": "Full name (code)",
}


#: Population labels short enough for the table ("BAME" is defined on the About page).
SHORT_GROUPS = {model.group_label("BME"): "BAME"}


def changes_table(changes: pd.DataFrame, kind: str = "quarter") -> pd.DataFrame:
    """The changes as the upload page shows them: the recovery rate before and after and the
    change first; the area by its short name ('NHS BIRMINGHAM AND SOLIHULL INTEGRATED CARE
    BOARD' -> 'Birmingham and Solihull'; England stays England); its full name and code
    last; rates to 2 decimals; the period column named for the file's period type."""
    names = changes["area_name"].tolist()
    out = changes.assign(
        area=[short_name(n) for n in names],
        group=changes["group"].replace(SHORT_GROUPS),
        full_name=[f"{full_name(n)} ({c})" for n, c in zip(names, changes["area_code"],
                                                           strict=True)])
    out = out[list(TABLE_COLUMNS)].rename(columns=TABLE_COLUMNS)
    for c in ("Before (%)", "After (%)", "Change (pts)"):
        out[c] = out[c].astype(float).round(2)
    return out.rename(columns={"Period": "Year" if kind == "year" else "Quarter"})
