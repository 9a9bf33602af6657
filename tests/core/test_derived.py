"""Rows the product summed are marked ``derived`` (issue 9, item 4), from the reader through the
store to the tables, the tidy CSV and the chart tooltips.

The annual files to 2019-20 publish no BME Group rows, so BME and White British for 2017-18 to
2019-20 are summed from the Ethnic Group rows; from 2020-21 NHS England publishes them. The
first tests read only the bundled store (no ``../shared`` needed).
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from core import charts, explore, export, model, stats, tables, verdicts
from core.readers import read_file
from core.store import Store
from tests.conftest import area_rows, quarterly_csv

#: NHS England's published England rows for 2017-18 (annual report, Ethnic Group breakdown)
#: that make BME: the four broad groups other than White, and the White groups other than
#: British (2017-18 has no Gypsy or Irish Traveller row). Counts: finished, not at caseness,
#: recovered, reliably recovered.
ENGLAND_2017_18_BME_PARTS = {
    ("Ethnic Group", "Asian or Asian British"): (24718, 1536, 10513, 9968),
    ("Ethnic Group", "Black or Black British"): (14304, 991, 6173, 5871),
    ("Ethnic Group", "Mixed"): (11750, 703, 5044, 4780),
    ("Ethnic Group", "Other Ethnic Groups"): (7665, 522, 3191, 2975),
    ("Ethnic Group (detailed)", "Irish"): (4118, 346, 1964, 1854),
    ("Ethnic Group (detailed)", "Any other White background"): (23099, 1917, 10773, 10206),
}
#: White British is the detailed "White: British" row.
ENGLAND_2017_18_WHITE_BRITISH = (437542, 27905, 212045, 201946)


@pytest.fixture(scope="module")
def bundled() -> pd.DataFrame:
    return Store(model.DEFAULT_STORE).load()


def _row(frame: pd.DataFrame, period: str, group: str, breakdown: str = "BME Group",
         level: str = "England") -> pd.Series:
    rows = frame[(frame["period"] == period) & (frame["level"] == level)
                 & (frame["breakdown"] == breakdown) & (frame["group"] == group)]
    assert len(rows) == 1, (period, group, breakdown)
    return rows.iloc[0]


def test_derived_bme_2017_18_at_england_is_the_hand_sum_and_marked_derived(bundled):
    bme = _row(bundled, "2017/18", "BME")
    hand = np.sum(list(ENGLAND_2017_18_BME_PARTS.values()), axis=0)
    assert tuple(bme[list(model.COUNT_COLUMNS)]) == tuple(hand) == (85654, 6015, 37658, 35654)
    assert bool(bme["derived"]) and not bool(bme["synthetic"])
    assert np.isnan(bme["published_recovery"])  # NHS England published no BME figure then
    # The parts are the stored, published rows: the hand sum uses exactly what the store has.
    for (breakdown, group), counts in ENGLAND_2017_18_BME_PARTS.items():
        part = _row(bundled, "2017/18", group, breakdown)
        assert tuple(part[list(model.COUNT_COLUMNS)]) == counts
        assert not bool(part["derived"])
    wb = _row(bundled, "2017/18", "White British")
    assert tuple(wb[list(model.COUNT_COLUMNS)]) == ENGLAND_2017_18_WHITE_BRITISH
    assert bool(wb["derived"])


def test_published_bme_rows_are_not_derived(bundled):
    for period in ("2020/21", "2024/25"):
        for group in ("BME", "White British"):
            row = _row(bundled, period, group)
            assert not bool(row["derived"]), (period, group)
            assert not np.isnan(row["published_recovery"])
    years = bundled[bundled["period_type"] == "year"]
    derived = years[years["derived"]]
    # Only BME and White British of the three years without a BME Group breakdown.
    assert set(derived["period"]) == {"2017/18", "2018/19", "2019/20"}
    assert set(derived["group"]) == {"BME", "White British"}
    assert not bundled.loc[bundled["breakdown"] != "BME Group", "derived"].any()


def test_a_file_without_broad_rows_gets_derived_broad_groups_and_bme():
    """A quarterly file that publishes only detailed ethnic groups: the broad groups, BME and
    White British are summed and marked derived; the published rows are not."""
    parts = {("Total", "Total"): (1000, 50, 480, 450),
             ("White", "British"): (700, 30, 340, 320),
             ("White", "Irish"): (20, 2, 9, 8),
             ("Asian or Asian British", "Indian"): (60, 4, 28, 26),
             ("Black or Black British", "African"): (50, 3, 22, 21),
             ("Mixed", "White and Asian"): (30, 2, 14, 13),
             ("Other Ethnic Groups", "Chinese"): (10, 1, 5, 4)}
    rows = []
    for (va, vb), (fin, nac, rec, rel) in parts.items():
        vtype, vb = ("Total", "null") if va == "Total" else ("Ethnic Group", vb)
        rows += area_rows(level="England", code="ENG", name="England", vtype=vtype, va=va,
                          vb=vb, finished=str(fin), nac=str(nac), recovered=str(rec),
                          reliable=str(rel), pct="50")
    frame = read_file(quarterly_csv(rows), "detailed-only.csv",
                      today=pd.Timestamp("2026-06-01").date()).frame
    assert frame["derived"].dtype == bool
    published = frame[frame["breakdown"].isin(["Total", "Ethnic Group (detailed)"])]
    assert not published["derived"].any()
    broad = frame[frame["breakdown"] == "Ethnic Group"]
    assert len(broad) == 5 and broad["derived"].all()
    bme = _row(frame, frame["period"].iat[0], "BME")
    assert bool(bme["derived"])
    assert tuple(bme[list(model.COUNT_COLUMNS)]) == (170, 12, 78, 72)


def test_the_tidy_csv_carries_the_derived_column(bundled):
    rows = export.select(bundled, level="England", group="BME", period_type="year")
    long = export.to_long(rows, ["recovery"])
    assert "derived" in export.EXPORT_COLUMNS and "derived" in long.columns
    by_period = dict(zip(long["period"], long["derived"], strict=True))
    assert by_period["2017/18"] and by_period["2019/20"]
    assert not by_period["2020/21"] and not by_period["2024/25"]
    csv = pd.read_csv(io.StringIO(export.to_csv(long)))
    assert "derived" in csv.columns
    assert csv.loc[csv["period"] == "2017/18", "derived"].item()
    assert not csv.loc[csv["period"] == "2024/25", "derived"].item()


def test_tables_say_which_counts_were_summed(bundled):
    ex = explore.Explorer(bundled)
    keys = [explore.SeriesKey("England", "ENG", "BME")]
    trend = ex.trend(keys, kind="year")
    table = tables.trend_table(trend).to_pandas()
    counts = dict(zip(table["Period"], table["Counts"], strict=True))
    assert counts["2017/18"] == tables.DERIVED == "derived: sum of ethnic groups"
    assert counts["2024/25"] == tables.AS_IN_FILE
    gap = ex.gap("England", "ENG", kind="year")
    gap_counts = dict(zip(gap["period"], tables.gap_table(gap).to_pandas()["Counts"], strict=True))
    assert gap_counts["2018/19"] == tables.DERIVED and gap_counts["2021/22"] == tables.AS_IN_FILE
    groups = tables.groups_table(ex.groups("England", "ENG", "2019/20")).to_pandas()
    by_group = dict(zip(groups["Group"], groups["Counts"], strict=True))
    assert by_group[model.group_label("BME")] == tables.DERIVED
    assert by_group["Asian or Asian British"] == tables.AS_IN_FILE


def _tooltip_texts(spec: dict) -> list[tuple[str, str]]:
    """(calculate expression, tooltip title) for every tooltip field of every layer."""
    out = []
    for layer in spec.get("layer", []):
        calcs = {t["as"]: t["calculate"] for t in layer.get("transform", []) if "calculate" in t}
        for tip in (layer.get("encoding", {}).get("tooltip") or []):
            out.append((calcs.get(tip["field"], ""), tip.get("title", "")))
    return out


def test_chart_tooltips_say_a_point_is_derived(bundled):
    """The trend, gap and groups charts' tooltips carry a "Counts" line read from the point's
    ``derived`` flag, and the flag is in the data they draw."""
    ex = explore.Explorer(bundled)
    keys = [explore.SeriesKey("England", "ENG", "BME")]
    domain = ex.domain("year")
    trend = ex.trend(keys, kind="year")
    specs = {
        "trend": (charts.trend_spec(trend, domain=domain), "trend"),
        "gap": (charts.gap_spec(ex.gap("England", "ENG", kind="year"), domain=domain,
                                title="gap"), "gap"),
        "groups": (charts.groups_spec(ex.groups("England", "ENG", "2017/18"), title="groups"),
                   "groups"),
    }
    for name, (spec, dataset) in specs.items():
        tips = _tooltip_texts(spec)
        assert (charts.DERIVED_TIP, "Counts") in tips, name
        assert "'derived: sum of ethnic groups'" in charts.DERIVED_TIP
        points = spec["datasets"][dataset]
        flagged = [p for p in points if p.get("derived")]
        assert flagged, name  # the data the tooltip reads carries the flag
    trend_points = {p["period"]: p["derived"] for p in specs["trend"][0]["datasets"]["trend"]}
    assert trend_points["2017/18"] is True and trend_points["2024/25"] is False


def test_a_bame_rate_known_only_as_a_range_gives_a_gap_covering_the_range(bundled):
    """Birmingham and Solihull's BAME for 2017/18 is summed from ethnic groups, with 'not at
    caseness' suppressed (0 to 4): Recovery over time shows its rate from the range, and the
    gap was blank on Ethnic inequalities (review, 2026-11-28: one figure, two answers). The
    gap now uses the same rate, with an interval covering the gaps at both ends of the range
    (Newcombe's combination of the rate's covering interval with White British's)."""
    ex = explore.Explorer(model.compact(bundled)).in_boundaries("2022")
    gap = ex.gap_columns("ICB", "QHL", "recovery", kind="year")
    first = list(gap["period"]).index("2017/18")
    assert not np.isnan(gap["gap"][first])
    note = gap["note"][first]
    assert note == "Black, Asian and minority ethnic (BAME): rate from a range"
    assert "widened to cover both ends" in tables.missing.explain([note])[0]
    # The same BAME rate as the trend shows (with rounding's columns).
    keys = [explore.SeriesKey("ICB", "QHL", "BME"), explore.SeriesKey("ICB", "QHL",
                                                                      "White British")]
    columns = ex.trend_columns(keys, "recovery", kind="year")
    columns.update(verdicts.rounded_columns(columns, "recovery"))
    at = list(columns["period"]).index("2017/18")
    assert columns["suppressed"][at] and np.isnan(columns["not_at_caseness"][at])
    assert gap["rate_a"][first] == pytest.approx(columns["rate"][at])
    # The interval covers the gap whatever 'not at caseness' was (0 to 4).
    wb = at + len(gap["period"])
    f, o = columns["finished"][at], columns["recovered"][at]
    for nac in range(5):
        d, _, _ = stats.newcombe_difference(o, f - nac, columns["recovered"][wb],
                                            columns["finished"][wb] - columns["not_at_caseness"][wb])
        assert gap["gap_low"][first] <= float(d) * 100 <= gap["gap_high"][first], nac
    # Where no group's rate is a range, the gap is Newcombe's from the counts, note empty.
    later = list(gap["period"]).index("2024/25")
    assert gap["note"][later] == ""
