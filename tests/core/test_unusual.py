"""Published figures that changed too sharply to take on trust (``core.unusual``): the rule
at its edges, and on the bundled store's real annual figures, where it flags only the two
ICBs whose published figures jumped."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import explore, ranking, unusual
from core.store import Store


@pytest.fixture(scope="module")
def ex() -> explore.Explorer:
    return explore.Explorer(Store().load()).in_boundaries(None)


def test_a_size_more_than_doubled_or_halved_is_unusual():
    assert unusual.describe(2570, 5160, 2475, 15245, "2020/21") == (
        "on 2020/21: 5,160 → 15,245 people at caseness (×3.0), rate 49.8% → 16.2%")
    assert unusual.describe(500, 1000, 1000, 2000, "x") == ""  # exactly double: not more
    assert unusual.describe(500, 1000, 1005, 2010, "x").startswith("on x: 1,000 → 2,010")
    assert unusual.describe(500, 1000, 245, 495, "x") != ""  # more than halved


def test_a_large_significant_move_in_the_rate_is_unusual():
    assert "rate 50.0% → 30.0%" in unusual.describe(500, 1000, 300, 1000, "x")
    # 15 points but not beyond chance at 99.8% (small numbers): not flagged.
    assert unusual.describe(25, 50, 35, 50, "x") == ""
    # Beyond chance but under 15 points: not flagged.
    assert unusual.describe(5000, 10000, 4000, 10000, "x") == ""


def test_small_or_missing_figures_are_never_unusual():
    assert unusual.describe(10, 20, 80, 90, "x") == ""  # fewer than 100 people either year
    assert unusual.describe(np.nan, 1000, 500, 1000, "x") == ""
    assert unusual.describe(0, 0, 500, 1000, "x") == ""


@given(num=st.integers(0, 5000), den=st.integers(1, 5000))
def test_the_same_figure_twice_is_never_unusual(num, den):
    num = min(num, den)
    assert unusual.describe(num, den, num, den, "x") == ""


def test_on_the_real_figures_only_the_two_jumps_are_flagged(ex):
    """Bath and North East Somerset, Swindon and Wiltshire's 2021/22 rate is published as
    16.2%, from 49.8%, with three times as many people at caseness; Coventry and
    Warwickshire's 2020/21 count halved and came back. Nothing else in 2017/18 to 2024/25."""
    flagged = {}
    for period in ex.published("year"):
        found = unusual.sudden_changes(ex.history_columns(period, "Total", "recovery"), period)
        flagged.update({(code, period): fact for code, fact in found.items()})
    assert set(flagged) == {("QWU", "2020/21"), ("QWU", "2021/22"), ("QOX", "2021/22"),
                            ("QOX", "2022/23")}
    assert flagged["QOX", "2021/22"] == (
        "on 2020/21: 5,160 → 15,245 people at caseness (×3.0), rate 49.8% → 16.2%")


def test_a_comparison_says_it_in_the_note_and_the_caution(ex):
    r = ranking.rank_icbs(ex, "2021/22", "Total", "recovery")
    table = r.table.set_index("area_code")
    assert "Unusual change on 2020/21" in table.at["QOX", "note"]
    assert "data-quality notes" in table.at["QOX", "note"]
    # The row's own note is kept before it.
    assert table.at["QOX", "note"].startswith("Counts are rounded")
    assert [name for name, _ in unusual.cautions(r.table)] == [
        "NHS Coventry and Warwickshire ICB",
        "NHS Bath and North East Somerset, Swindon and Wiltshire ICB"]
    text = unusual.caution(unusual.cautions(r.table))
    assert text.startswith(unusual.CAUTION) and text.endswith("relying on them.")
    # The first year has nothing before it, and 2024/25 nothing unusual.
    assert unusual.cautions(ranking.rank_icbs(ex, "2017/18", "Total", "recovery").table) == []
    assert unusual.cautions(ranking.rank_icbs(ex, "2024/25", "Total", "recovery").table) == []


def test_a_trend_notes_its_unusual_points_and_names_them(ex):
    keys = [explore.SeriesKey("ICB", "QOX", "Total"), explore.SeriesKey("England", "ENG", "Total")]
    t = ex.trend(keys, kind="year")
    flagged = t[t["unusual"] != ""]
    assert flagged["period"].tolist() == ["2021/22", "2022/23"]
    assert (flagged["area_code"] == "QOX").all()
    assert flagged["note"].str.startswith("Unusual change on 20").all()
    said = unusual.trend_cautions(t)
    assert said[0] == ("Bath and North East Somerset, Swindon and Wiltshire, Whole population, "
                       "2021/22", "on 2020/21: 5,160 → 15,245 people at caseness (×3.0), "
                       "rate 49.8% → 16.2%")
    shown = explore.trend_table(t).to_pandas()
    assert shown["Note"].str.contains("data-quality notes").sum() == 2
    # Quarters compare with the same quarter a year before (four earlier, the gap included).
    q = ex.trend([explore.SeriesKey("England", "ENG", "Total")], kind="quarter")
    assert unusual.trend_cautions(q) == []


def test_the_tidy_csv_carries_the_caution(ex):
    """``export.to_long`` (every CSV download and ``python -m core export``) keeps the
    caution in an ``unusual`` column, against the same series' row a year earlier."""
    from core import export

    rows = ex.series_rows([explore.SeriesKey("ICB", "QOX", "Total")], kind="year")
    long = export.to_long(rows, ["recovery"]).set_index("period")
    assert long.at["2021/22", "unusual"] == (
        "on 2020/21: 5,160 → 15,245 people at caseness (×3.0), rate 49.8% → 16.2%")
    assert long.at["2022/23", "unusual"].startswith("on 2021/22: 15,245 → 6,480")
    assert (long.drop(index=["2021/22", "2022/23"])["unusual"] == "").all()
    assert list(long.reset_index().columns) == export.EXPORT_COLUMNS + export.BOUNDARY_COLUMNS


def test_a_quarter_is_compared_with_the_same_quarter_a_year_before_never_another():
    """Counting four published quarters back from 2021/22 Q2 lands on 2020/21 Q1 (Q2 was
    never published): the comparison is with the same quarter, or none."""
    labels = ["2020/21 Q1", "2020/21 Q3", "2020/21 Q4", "2021/22 Q1", "2021/22 Q2", "2021/22 Q3"]
    history = {"area_code": np.array(["A"] * 6, dtype=object),
               "period": np.array(labels, dtype=object), "start": np.arange(6),
               "kind": np.array(["quarter"] * 6, dtype=object),
               "numerator": np.array([100, 500, 500, 500, 500, 500], dtype=float),
               "denominator": np.array([200, 1000, 1000, 1000, 1000, 3000], dtype=float)}
    assert unusual.sudden_changes(history, "2021/22 Q2") == {}  # no 2020/21 Q2 to compare
    assert unusual.sudden_changes(history, "2021/22 Q3") == {
        "A": "on 2020/21 Q3: 1,000 → 3,000 people at caseness (×3.0), rate 50.0% → 16.7%"}


def test_the_synthetic_samples_figures_are_never_compared():
    history = {"area_code": np.array(["A", "A"], dtype=object),
               "period": np.array(["2023/24", "2024/25"], dtype=object), "start": np.arange(2),
               "kind": np.array(["year", "year"], dtype=object),
               "numerator": np.array([500.0, 500.0]), "denominator": np.array([1000.0, 3000.0])}
    assert "A" in unusual.sudden_changes(history, "2024/25")
    for flags in ([True, False], [False, True]):
        assert unusual.sudden_changes({**history, "synthetic": np.array(flags)}, "2024/25") == {}


def test_the_chart_itself_marks_an_unusual_figure(ex):
    """An exported image has no tooltip or table: the ranked chart and the funnel mark the
    name with a dagger and say what it means in the subtitle."""
    from core import charts
    from core.charts import compare

    r = ranking.rank_icbs(ex, "2021/22", "Total", "recovery")
    limits = ranking.funnel_limits(r.table, r.england)
    for spec in (charts.compare_spec(r.table, r.england, title="t", frames=True),
                 charts.funnel_spec(r.table, limits, title="t", frames=True)):
        labels = spec["datasets"]["areas"].column("label").to_pylist()
        marked = [lb for lb in labels if lb.endswith(compare.CAUTION_MARK)]
        assert sorted(marked) == sorted([
            "Bath and North East Somerset, Swindon and Wiltshire" + compare.CAUTION_MARK,
            "Coventry and Warwickshire" + compare.CAUTION_MARK])
        assert any(line.startswith("† The published figure") for line in
                   spec["title"]["subtitle"]), spec["title"]["subtitle"]
    calm = ranking.rank_icbs(ex, "2024/25", "Total", "recovery")
    spec = charts.compare_spec(calm.table, calm.england, title="t", frames=True)
    assert not any("†" in line for line in spec["title"]["subtitle"])
    assert not any("†" in lb for lb in spec["datasets"]["areas"].column("label").to_pylist())


def test_the_trend_marks_its_unusual_points_in_the_picture(ex):
    from core import charts

    keys = [explore.SeriesKey("ICB", "QOX", "Total"), explore.SeriesKey("England", "ENG", "Total")]
    t = ex.trend(keys, kind="year")
    spec = charts.trend_spec(t, domain=ex.domain("year"), frames=True)
    assert any(line.startswith("† The published figure") for line in spec["title"]["subtitle"])
    marks = [layer for layer in spec["layer"] if layer.get("mark", {}).get("text") == "†"]
    assert len(marks) == 1
    # Drawn where the data says: the two unusual points of BaNES's line.
    svg = charts.to_image(spec, "svg").decode()
    assert svg.count(">†<") == 2
    calm = ex.trend([explore.SeriesKey("ICB", "QHL", "Total")], kind="year")
    plain = charts.trend_spec(calm, domain=ex.domain("year"), frames=True)
    assert not [layer for layer in plain["layer"] if layer.get("mark", {}).get("text") == "†"]


def test_a_headline_trend_through_an_unusual_figure_says_so(ex):
    from core import headlines

    t = ex.trend([explore.SeriesKey("ICB", "QOX", "Total")], kind="year")
    h = headlines.headline_figures(t, t, 0)
    assert "it includes 2021/22 and 2022/23, whose figures changed sharply" in h["trend"], h["trend"]
    calm = ex.trend([explore.SeriesKey("ICB", "QHL", "Total")], kind="year")
    assert "changed sharply" not in headlines.headline_figures(calm, calm, 0)["trend"]


def test_the_map_marks_and_notes_an_unusual_figure(ex):
    from core import charts, map_chart

    c = ranking.compare_icbs(ex, "2021/22", "Total", "recovery")
    rows = map_chart.map_columns(ranking.explained(c.columns), ranking.by_rate(c))
    at = {code: i for i, code in enumerate(rows["area_code"])}
    assert "Unusual change on 2020/21" in rows["note"][at["QOX"]]
    spec = map_chart.map_spec(rows, "2022", title="t")
    assert any(line.startswith("† The published figure") for line in spec["title"]["subtitle"])
    svg = charts.to_image(spec, "svg").decode()
    # Bath and North East Somerset, Swindon and Wiltshire, and Coventry and Warwickshire:
    # each a dagger over its halo.
    assert svg.count(">†<") == 4
