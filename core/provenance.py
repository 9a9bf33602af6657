"""Where each period's figures came from: its file, when it was loaded, whether it is published
or the synthetic sample, and NHS England's publication page for it.

The About page shows this as one row per period, so a reader can check any number at its
source (Fingertips links every indicator to its source in the same way), and the whole-data
downloads use ``tidy_rows``.
"""

from __future__ import annotations

import textwrap

import pandas as pd

from core import export

#: The credit NHS England's annual figures require wherever they are shown or exported (the
#: bundled store's financial years come from these reports: ``scripts/build_real.py``).
ANNUAL_CREDIT = (
    "NHS England, Psychological Therapies: annual reports on the use of IAPT / NHS Talking "
    "Therapies services, 2017-18 to 2024-25. Open Government Licence v3.0"
)

#: NHS England's publication pages, by period type. The annual reports have one series page;
#: the quarterly figures are part of the monthly statistics, listed with every other NHS
#: Talking Therapies publication on the data set's reports page.
PUBLICATIONS: dict[str, tuple[str, str]] = {
    "year": (
        "NHS Talking Therapies, for anxiety and depression: annual reports",
        "https://digital.nhs.uk/data-and-information/publications/statistical/"
        "nhs-talking-therapies-for-anxiety-and-depression-annual-reports",
    ),
    "quarter": (
        "NHS Talking Therapies data set reports (every monthly and quarterly publication)",
        "https://digital.nhs.uk/data-and-information/data-collections-and-data-sets/data-sets/"
        "improving-access-to-psychological-therapies-data-set/"
        "improving-access-to-psychological-therapies-data-set-reports",
    ),
}

#: The levels the whole-data CSV holds: what the pages show (sub-ICB, CCG and STP rows are in
#: the Parquet store, which is the complete download).
MAIN_LEVELS = ("England", "Region", "ICB")


def loaded_at(log: list[dict]) -> dict[str, str]:
    """{file name: when it was last loaded (UTC, to the minute)} from the store's log."""
    when: dict[str, str] = {}
    for entry in log:
        stamp = str(entry.get("loaded_at", ""))[:16].replace("T", " ")
        for name in entry.get("sources") or []:
            when[str(name)] = stamp
    return when


def by_period(frame: pd.DataFrame, log: list[dict]) -> pd.DataFrame:
    """One row per stored period (financial years, then quarters; newest first): published or
    synthetic, the
    file(s) its rows came from, when those were loaded, and the publication page."""
    columns = ["Period", "Type", "Data", "Files", "Loaded (UTC)", "Publication"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    when = loaded_at(log)
    parts = frame[["period", "period_type", "period_start", "synthetic", "source"]].copy()
    parts["source"] = parts["source"].astype("string").fillna("").astype(str)
    rows = []
    for (period, kind), g in parts.groupby(["period", "period_type"], sort=False,
                                           observed=True):
        files = sorted({s for s in g["source"] if s})
        synthetic = bool(g["synthetic"].fillna(False).astype(bool).any())
        published = not synthetic or not g["synthetic"].fillna(False).astype(bool).all()
        data = ("Published" if not synthetic else
                "Published and synthetic sample" if published else "Synthetic sample")
        stamps = sorted({when[f] for f in files if f in when})
        rows.append({
            "start": g["period_start"].min(), "Period": str(period),
            "Type": "Financial year" if kind == "year" else "Quarter", "Data": data,
            "Files": "; ".join(files) or "not recorded",
            "Loaded (UTC)": ", ".join(stamps) or "not recorded",
            "Publication": "" if data == "Synthetic sample" else PUBLICATIONS.get(
                str(kind), ("", ""))[1],
        })
    out = pd.DataFrame(rows).sort_values(["Type", "start"], ascending=[True, False])
    return out[columns].reset_index(drop=True)


def tidy_rows(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Every England, region and ICB row of one period type, in the tidy export layout (one
    row per measure), for the "all data" download."""
    rows = frame[(frame["period_type"] == kind) & frame["level"].isin(MAIN_LEVELS)]
    return export.to_long(rows)


def credited(spec: dict, kind: str) -> dict:
    """A financial-year chart's source line names the annual reports it comes from (with
    their licence) instead of the quarterly data: it is the line image exports carry too.
    Other charts, and specs without that line, are returned as they are."""
    from core import charts  # Altair: not for the scripts that only need the credit

    title = spec.get("title")
    if kind != "year" or not isinstance(title, dict):
        return spec
    wrapped = textwrap.wrap(charts.SOURCE, charts.SUBTITLE_WRAP)
    lines = list(title.get("subtitle") or [])
    for i in range(len(lines) - len(wrapped) + 1):
        if lines[i:i + len(wrapped)] == wrapped:
            lines[i:i + len(wrapped)] = textwrap.wrap(f"Source: {ANNUAL_CREDIT}.",
                                                      charts.SUBTITLE_WRAP)
            return {**spec, "title": {**title, "subtitle": lines}}
    return spec


def with_credit(rows: pd.DataFrame) -> pd.DataFrame:
    """Export rows with a ``credit`` column: the annual reports' credit on each published
    financial-year row, empty elsewhere (quarterly rows name their file in ``source``)."""
    if rows.empty or "synthetic" not in rows.columns:
        return rows
    real_year = ~rows["synthetic"].to_numpy(dtype=bool, na_value=False)
    if "period_type" in rows.columns:
        real_year &= (rows["period_type"] == "year").to_numpy()
    else:
        real_year &= ~rows["period"].astype(str).str.contains(" Q").to_numpy()
    return rows.assign(credit=pd.Series(real_year, index=rows.index).map(
        {True: ANNUAL_CREDIT, False: ""}))
