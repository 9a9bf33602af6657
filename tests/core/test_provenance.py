"""Each period's file, load time and publication page; the whole-data download's rows."""

import io

import pandas as pd

from core import export, provenance
from core.store import Store

STORE = Store()
FRAME = STORE.load()
LOG = STORE.log()


def test_every_period_once_with_its_file_load_time_and_source():
    table = provenance.by_period(FRAME, LOG)
    stored = FRAME[["period", "period_type"]].drop_duplicates()
    assert len(table) == len(stored)
    year = table[table["Period"] == "2024/25"].iloc[0]
    assert year["Type"] == "Financial year" and year["Data"] == "Published"
    assert year["Files"] == "psych-ther-ann-2024-25.csv"
    loaded = next(e for e in LOG if "psych-ther-ann-2024-25.csv" in e["sources"])["loaded_at"]
    assert year["Loaded (UTC)"] == loaded[:16].replace("T", " ")
    assert year["Publication"] == provenance.PUBLICATIONS["year"][1]
    synthetic = table[table["Data"] == "Synthetic sample"]
    assert len(synthetic) and (synthetic["Publication"] == "").all()
    assert (synthetic["Type"] == "Quarter").all()  # the bundled sample is quarterly only
    # financial years first, each type newest first
    years = table[table["Type"] == "Financial year"]["Period"].tolist()
    assert years == sorted(years, reverse=True) and table.index[table["Type"] == "Quarter"].min() \
        > table.index[table["Type"] == "Financial year"].max()


def test_a_period_mixing_published_and_synthetic_rows_says_so():
    rows = FRAME[FRAME["period"] == "2024/25 Q1"].copy()
    rows.loc[rows.index[:10], ["synthetic", "source"]] = [False, "real_q1.csv"]
    log = [{"loaded_at": "2026-01-02T03:04:05+00:00", "sources": ["real_q1.csv"]}]
    row = provenance.by_period(rows, log).iloc[0]
    assert row["Data"] == "Published and synthetic sample"
    assert "real_q1.csv" in row["Files"] and row["Loaded (UTC)"] == "2026-01-02 03:04"
    assert row["Publication"] == provenance.PUBLICATIONS["quarter"][1]


def test_all_data_rows_hold_england_regions_and_icbs_of_one_period_type():
    rows = provenance.tidy_rows(FRAME, "year")
    assert set(rows["level"]) == {"England", "Region", "ICB"}
    assert set(rows["period_type"]) == {"year"}
    assert set(rows["measure"]) == {"recovery", "reliable_recovery"}
    back = pd.read_csv(io.StringIO(export.to_csv(rows)))
    england = back[(back["area_code"] == "ENG") & (back["period"] == "2024/25")
                   & (back["group"] == "Total") & (back["measure"] == "recovery")]
    assert round(float(england["rate"].iloc[0]), 1) == 50.5


def test_a_financial_year_chart_credits_the_annual_reports():
    """The source line of a financial-year chart (and so of its PNG and SVG) names the
    annual reports and their licence; a quarterly chart keeps the quarterly source."""
    from core import charts, explore

    ex = explore.Explorer(Store().load())
    years = ex.domain("year")
    data = ex.trend([explore.SeriesKey("England", "ENG", "Total")], domain=years, kind="year")
    spec = charts.trend_spec(data, domain=years)
    text = " ".join(spec["title"]["subtitle"])
    assert " ".join(charts.SOURCE.split()) in " ".join(text.split())
    year = " ".join(" ".join(provenance.credited(spec, "year")["title"]["subtitle"]).split())
    assert "annual reports" in year and "Open Government Licence v3.0" in year
    assert " ".join(charts.SOURCE.split()) not in year
    assert provenance.credited(spec, "quarter") is spec
    assert provenance.credited({"title": "plain"}, "year") == {"title": "plain"}


def test_export_rows_carry_the_credit_on_published_years_only():
    rows = pd.DataFrame({"period": ["2024/25", "2024/25", "2025/26 Q1"],
                         "period_type": ["year", "year", "quarter"],
                         "synthetic": [False, True, False]})
    credit = provenance.with_credit(rows)["credit"].tolist()
    assert credit == [provenance.ANNUAL_CREDIT, "", ""]
    without_type = provenance.with_credit(rows.drop(columns="period_type"))["credit"].tolist()
    assert without_type == credit
    assert "credit" not in provenance.with_credit(rows.drop(columns="synthetic")).columns
