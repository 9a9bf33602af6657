"""Shared test helpers: paths, the ``shared`` skip, and builders of published-format files."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import settings

# Hypothesis's per-example deadline is a wall-clock limit: on a busy two-core machine it fails
# tests that are right (test_window_sums_never_partial did). No test asserts a time.
settings.register_profile("suite", deadline=None)
settings.load_profile("suite")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared"
REAL = SHARED / "data" / "real"

from core import model  # noqa: E402

HEADER = [
    "REPORTING_PERIOD_START", "REPORTING_PERIOD_END", "ICB", "ICBName", "SubICB", "SubICBName",
    "Provider", "ProviderName", "GroupType", "VariableType", "VariableA", "VariableB",
    "MEASURE_ID", "MEASURE_NAME", "MEASURE_VALUE_SUPPRESSED",
]
NAMES = {
    "M076": "Count_FinishedCourseTreatment", "M179": "Count_NotAtCaseness",
    "M191": "Count_Recovery", "M192": "Percentage_Recovery", "M193": "Count_ReliableRecovery",
    "M195": "Percentage_ReliableRecovery", "M001": "Count_ReferralsReceived",
}


def needs_shared(path: Path = REAL) -> pytest.MarkDecorator:
    return pytest.mark.skipif(
        not path.exists(),
        reason=f"{path} is absent: the real published rows live in ../shared beside the project",
    )


def area_rows(
    start: str = "2025-10-01",
    end: str = "2025-12-31",
    level: str = "ICB",
    code: str = "QHM",
    name: str = "NHS NORTH EAST AND NORTH CUMBRIA INTEGRATED CARE BOARD",
    vtype: str = "Total",
    va: str = "Total",
    vb: str = "null",
    finished: str = "1000",
    nac: str = "50",
    recovered: str = "480",
    reliable: str = "450",
    pct: str = "51",
) -> list[list[str]]:
    """The six recovery rows of one area and group, as a quarterly file writes them."""
    if level == "England":
        icb, icb_name, sub, sub_name = "All_ICB", "null", "All_SubICB", "null"
    elif level == "SubICB":
        icb, icb_name, sub, sub_name = "QHM", "NHS NORTH EAST AND NORTH CUMBRIA ICB", code, name
    else:
        icb, icb_name, sub, sub_name = code, name, "All_SubICB", "null"
    group_type = {"Region": "CommissioningRegion"}.get(level, level)
    rows = []
    try:  # NHS England's reliable recovery percentage, as its counts give it
        share = 100 * int(reliable) / (int(finished) - int(nac))
        reliable_pct = f"{share:.1f}" if 0 <= share <= 100 else "*"
    except (ValueError, ZeroDivisionError):
        reliable_pct = "*"
    for mid, value in (("M076", finished), ("M179", nac), ("M191", recovered),
                       ("M193", reliable), ("M192", pct), ("M195", reliable_pct)):
        rows.append([start, end, icb, icb_name, sub, sub_name, "All_Provider", "null",
                     group_type, vtype, va, vb, mid, NAMES[mid], value])
    return rows


def quarterly_csv(rows: list[list[str]], header: list[str] = HEADER, encoding: str = "utf-8") -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode(encoding)


def small_quarter(start: str = "2025-10-01", end: str = "2025-12-31") -> list[list[str]]:
    """England, one region, two ICBs and one sub-ICB, by total, BME group and ethnic group."""
    rows = []
    kw = dict(start=start, end=end)
    rows += area_rows(level="England", code="ENG", name="England", finished="170000",
                      nac="9000", recovered="81000", reliable="76000", pct="50.3", **kw)
    rows += area_rows(level="England", code="ENG", name="England", vtype="BME Group", va="BME",
                      finished="30000", nac="1500", recovered="13500", reliable="12600",
                      pct="47.4", **kw)
    rows += area_rows(level="England", code="ENG", name="England", vtype="BME Group",
                      va="White British", finished="130000", nac="7000", recovered="64000",
                      reliable="60000", pct="52.0", **kw)
    rows += area_rows(level="Region", code="Y63", name="NORTH EAST AND YORKSHIRE COMMISSIONING REGION",
                      finished="25000", nac="1300", recovered="12000", reliable="11000", pct="51", **kw)
    rows += area_rows(**kw)
    rows += area_rows(vtype="BME Group", va="BME", finished="100", nac="5", recovered="45",
                      reliable="40", pct="47", **kw)
    rows += area_rows(code="QF7", name="NHS SOUTH YORKSHIRE INTEGRATED CARE BOARD",
                      finished="2000", nac="100", recovered="1000", reliable="950", pct="53", **kw)
    rows += area_rows(vtype="Ethnic Group", va="Asian or Asian British", vb="Indian",
                      finished="40", nac="*", recovered="20", reliable="15", pct="*", **kw)
    rows += area_rows(vtype="Ethnic Group", va="Asian or Asian British", vb="Pakistani",
                      finished="30", nac="5", recovered="10", reliable="10", pct="40", **kw)
    rows += area_rows(level="SubICB", code="00L", name="NHS NORTH EAST AND NORTH CUMBRIA ICB - 00L",
                      finished="300", nac="15", recovered="140", reliable="130", pct="49", **kw)
    return rows


@pytest.fixture
def small_csv(tmp_path: Path) -> Path:
    path = tmp_path / "nhstalkingtherapies_quarterly_q3_25_26_ICB_subICB.csv"
    path.write_bytes(quarterly_csv(small_quarter()))
    return path


def annual_frames() -> dict[str, pd.DataFrame]:
    """The real annual figures in ``shared``, one wide frame per year as the annual CSV is
    (the test that asks skips, saying why, where ``../shared`` is absent)."""
    source = REAL / "annual_recovery_2017-18_to_2024-25.parquet"
    if not source.exists():
        pytest.skip(f"{source} is absent: the real published rows live in ../shared beside "
                    "the project")
    tidy = pd.read_parquet(source)
    out = {}
    for year, d in tidy.groupby("reporting_period"):
        old = int(year[:4]) < 2020
        def column(m: str, s: str, old: bool = old) -> str:
            stem = {"finished_course_treatment": "FinishedCourseTreatment",
                    "not_at_caseness": "NotAtCaseness", "recovery": "Recovery",
                    "reliable_recovery": "ReliableRecovery"}[m]
            kind = "Count" if s == "count" else "Percentage"
            return f"{kind}{stem}" if old else f"{kind}_{stem}"
        d = d.assign(column=[column(m, s) for m, s in zip(d["measure_name"], d["measure_statistic"], strict=False)])
        wide = d.pivot_table(
            index=["org_type", "org_code", "org_name", "variable_type", "variable_a", "variable_b"],
            columns="column", values="value", aggfunc="first",
        ).reset_index()
        wide = wide.rename(columns={"org_type": "OrgType", "org_code": "OrgCode",
                                    "org_name": "OrgName", "variable_type": "VariableType",
                                    "variable_a": "VariableA", "variable_b": "VariableB"})
        out[year] = wide
    return out


def annual_csv(frame: pd.DataFrame, year: str) -> bytes:
    """Lay a wide frame out under the real header of its generation (other columns empty)."""
    header_file = "annual_2019-20_header.csv" if int(year[:4]) < 2020 else "annual_2024-25_header.csv"
    header = (REAL / header_file).read_text().strip().split(",")
    out = pd.DataFrame({h: frame[h] if h in frame else "" for h in header})
    return out.to_csv(index=False).encode()


__all__ = ["model"]
