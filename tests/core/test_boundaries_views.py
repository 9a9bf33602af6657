"""The ICB boundaries as the app and the command line use them (issue 10): the Explorer in
one geography, its default, approximate points in charts, tables and exports, ``export
--boundaries``, unknown codes named at ingest, and the map's helpers.

Most checks run on the bundled store, whose financial years are NHS England's published
annual figures (CCGs and STPs to 2021/22, ICBs from 2022/23).
"""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
import pytest

from core import (
    boundaries,
    charts,
    cli,
    explore,
    export,
    geography,
    map_chart,
    model,
    ranking,
    verdicts,
)
from core.columns import frame_of
from core.store import Store
from tests.conftest import area_rows, quarterly_csv, small_quarter


@pytest.fixture(scope="module")
def ex():
    return explore.Explorer(model.compact(Store(model.DEFAULT_STORE).load()))


@pytest.fixture(scope="module")
def years(ex):
    """The bundled store's published financial years only (small enough for a test store)."""
    f = ex.frame
    return f[f["period_type"] == "year"].reset_index(drop=True)


# --- The Explorer in chosen boundaries --------------------------------------------------------


def test_default_boundaries_are_those_of_the_latest_period(ex, years):
    """The latest published period: the bundled store's 2026/27 Q1 is the synthetic sample,
    so its default is the boundaries of its published 2024/25; a published April 2026
    quarter makes it the 36 ICBs."""
    f = ex.frame
    assert f["period_end"].max() >= geography.REORGANISATION_2026
    assert f.loc[f["period_end"] >= geography.REORGANISATION_2026, "synthetic"].all()
    assert ex.default_boundaries == "2022"
    assert ex.in_boundaries() is ex.in_boundaries("2022")
    assert ex.in_boundaries("2026").default_boundaries == "2022"  # the store's, not its own
    assert explore.Explorer(years).default_boundaries == "2022"  # last period 2024/25
    late = (f["period_end"] >= geography.REORGANISATION_2026).to_numpy()
    published = f.assign(synthetic=f["synthetic"].where(~late, False))
    assert explore.Explorer(published).default_boundaries == "2026"
    sample = f[f["period_type"] == "quarter"].assign(synthetic=True)  # only synthetic rows
    assert explore.Explorer(sample).default_boundaries == "2026"


def test_prepare_makes_both_geographies_and_their_look_ups_once(years):
    """What the app builds in the background after its first page: every geography's view of
    the store and each one's look-ups, the same objects a view then asks for."""
    fresh = explore.Explorer(years)
    assert "_by_boundaries" not in fresh.__dict__
    fresh.prepare()
    made = fresh.__dict__["_by_boundaries"]
    assert set(made) == set(geography.BOUNDARIES)
    for b, exb in made.items():
        assert fresh.in_boundaries(b) is exb
        assert {name for name in explore.Explorer._FIRST_VIEW if name in exb.__dict__} == set(
            explore.Explorer._FIRST_VIEW) - {"default_icb"}  # a property over _default_icb
        assert "_default_icb" in exb.__dict__
    series = made["2026"].__dict__["_series"]
    fresh.prepare()  # again: nothing is rebuilt
    assert fresh.__dict__["_by_boundaries"] is made and made["2026"]._series is series


@pytest.mark.parametrize("b,n", [("2022", 42), ("2026", 36)])
def test_picker_holds_the_icbs_of_the_boundaries_grouped_by_region(ex, b, n):
    exb = ex.in_boundaries(b)
    assert exb.boundaries == b and exb.in_boundaries(b) is exb
    assert sorted(exb.icbs) == sorted(geography.icbs(b)["icb_code"])
    assert len(exb.icbs) == n
    icbs = exb.areas[exb.areas["level"] == "ICB"]
    regions = icbs["parent_name"].tolist()
    assert regions == sorted(regions)  # grouped: each region's ICBs together, regions in order
    for code in exb.icbs:  # every label carries the region
        region = geography.icbs(b).set_index("icb_code").loc[code, "region_name"]
        assert exb.labels[code].endswith(f"({region})")
    # No STP, CCG or sub-ICB location among the areas.
    assert set(exb.frame["level"]) <= {"England", "Region", "FormerRegion", "ICB"}


def test_default_icb_has_a_figure_for_the_latest_period(ex):
    exb = ex.in_boundaries("2026")
    code = exb.default_icb
    t = exb.trend([explore.SeriesKey("ICB", code, "Total")], kind=exb.default_period_type)
    assert pd.notna(t["rate"].iloc[-1])
    # The first ICB offered (Central East) was redrawn in 2026 and has no annual figure for
    # 2024/25: the published annual rows are whole ICBs, and Hertfordshire and West Essex
    # was split between two new ones.
    assert exb.icbs[0] == "S1Y5D" and code != "S1Y5D"


def test_approximate_points_are_marked_in_trend_table_chart_and_export(ex):
    exb = ex.in_boundaries("2022")
    keys = [explore.SeriesKey("ICB", "QUA", "Total")]
    t = exb.trend(keys, kind="year")
    point = t[t["period"] == "2021/22"].iloc[0]
    assert point["geo_approximate"] and "West Birmingham" in point["note"]
    assert not t[t["period"] == "2023/24"].iloc[0]["geo_approximate"]  # QUA's own row
    table = explore.trend_table(t).to_pandas()
    figure = table.loc[table["Period"] == "2021/22", "Figure"].iloc[0]
    assert figure == "approximate"
    spec = charts.trend_spec(t, domain=exb.domain("year"), frames=False)
    assert charts.common.APPROXIMATE_LINE in " ".join(spec["title"]["subtitle"])
    rings = [layer for layer in spec["layer"] if layer.get("mark", {}).get("shape") == "diamond"]
    assert len(rings) == 1
    rows = export.to_long(exb.series_rows(keys, kind="year"), ["recovery"])
    hit = rows[rows["period"] == "2021/22"].iloc[0]
    assert bool(hit["approximate"]) and "West Birmingham" in hit["boundaries_note"]
    # A series with no approximate point draws no ring and says nothing of one.
    plain = exb.trend([explore.SeriesKey("ICB", "QF7", "Total")], kind="year")
    spec = charts.trend_spec(plain, domain=exb.domain("year"), frames=False)
    assert charts.common.APPROXIMATE_LINE not in " ".join(spec["title"]["subtitle"])


def test_gap_of_a_redrawn_icb_says_why(ex):
    exb = ex.in_boundaries("2026")
    t = exb.trend([explore.SeriesKey("ICB", "D7T5G", "Total")], kind="year")
    by = t.set_index("period")
    assert pd.notna(by.loc["2021/22", "rate"])  # summed from its seven CCGs
    assert pd.isna(by.loc["2023/24", "rate"])
    assert by.loc["2023/24", "note"] == boundaries.gap_note("2026")
    # An ICB unchanged in 2026 keeps plain "no data" wording for a missing point.
    assert "D7T5G" in boundaries.changed_icbs("2026")
    assert "QF7" not in boundaries.changed_icbs("2026")


def test_compare_and_gap_in_boundaries(ex):
    ex22, ex26 = ex.in_boundaries("2022"), ex.in_boundaries("2026")
    t22, t26 = (ranking.rank_icbs(e, "2021/22", "Total", "recovery", adjust=False).table
                for e in (ex22, ex26))
    assert len(t22) == 42 and len(t26) == 36
    table = explore.compare_table(t22).to_pandas()
    qua = table[table["ICB"].str.contains("Black Country")].iloc[0]
    assert qua["Figure"].startswith("approximate: ") and "West Birmingham" in qua["Figure"]
    gap = ex22.gap("ICB", "QUA", kind="year")
    assert gap.set_index("period").loc["2021/22", "geo_approximate"]


def test_chosen_icb_follows_a_switch_of_boundaries():
    assert boundaries.corresponding_icb("QH8", "2026") == "D7T5G"
    assert boundaries.corresponding_icb("D7T5G", "2022") == "QH8"
    assert boundaries.corresponding_icb("QF7", "2026") == "QF7"
    assert boundaries.corresponding_icb("NOPE", "2022") is None
    for b, other in (("2022", "2026"), ("2026", "2022")):
        for code in geography.icbs(other)["icb_code"]:
            assert boundaries.corresponding_icb(code, b) in set(geography.icbs(b)["icb_code"])


# --- The command line -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def year_store(tmp_path_factory, years):
    from core import store as store_mod

    path = tmp_path_factory.mktemp("bnd") / "years.parquet"
    store_mod.atomic_write(path, store_mod.to_parquet_bytes(years, []))
    return path


@pytest.mark.parametrize("b", ["2022", "2026"])
def test_cli_export_boundaries_gives_the_apps_rows(year_store, years, b, capsys):
    assert cli.main(["export", "--boundaries", b, "--level", "ICB", "--measure", "recovery",
                     "--store", str(year_store)]) == 0
    got = pd.read_csv(io.StringIO(capsys.readouterr().out), dtype=str, keep_default_na=False)
    assert sorted(got["area_code"].unique()) == sorted(geography.icbs(b)["icb_code"])
    assert {"approximate", "boundaries_note"} <= set(got.columns)
    # What the app's CSV download of an ICB series holds (ui.data.trend_export): the same
    # rows through the same export, for every ICB and population.
    exb = explore.Explorer(years).in_boundaries(b)
    keys = [explore.SeriesKey("ICB", c, g) for c in exb.icbs for g in model.POPULATIONS]
    app_rows = export.to_long(exb.series_rows(keys, kind="year"), ["recovery"])
    want = pd.read_csv(io.StringIO(export.to_csv(app_rows)), dtype=str, keep_default_na=False)
    order = ["period", "area_code", "breakdown", "group"]
    offered = {(p.breakdown, g) for g, p in model.POPULATIONS.items()}
    got = got[[k in offered for k in zip(got["breakdown"], got["group"], strict=True)]]
    got = got.sort_values(order).reset_index(drop=True)
    want = want[got.columns].sort_values(order).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want)
    if b == "2026":
        essex = got[(got["area_code"] == "D7T5G") & (got["period"] == "2021/22")
                    & (got["group"] == "Total")].iloc[0]
        assert essex["approximate"] == "False"
        assert "07H" in essex["boundaries_note"] and "06T" in essex["boundaries_note"]


def test_cli_export_without_boundaries_is_the_stored_rows(year_store, capsys):
    assert cli.main(["export", "--level", "STP", "--store", str(year_store)]) == 0
    got = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert len(got) and "approximate" not in got.columns


def test_unknown_codes_are_warnings_naming_the_code_and_rows_are_kept(tmp_path, capsys):
    rows = small_quarter("2025-10-01", "2025-12-31")
    rows += area_rows("2025-10-01", "2025-12-31", code="QZZ9", name="NHS NOWHERE ICB")
    rows += area_rows("2025-10-01", "2025-12-31", level="SubICB", code="99Z9Z",
                      name="NHS NOWHERE - 99Z9Z")
    path = tmp_path / "q.csv"
    path.write_bytes(quarterly_csv(rows))
    store = tmp_path / "s.parquet"
    assert cli.main(["ingest", str(path), "--store", str(store)]) == 0
    out = capsys.readouterr().out
    assert "Warning: unknown ICB code QZZ9 (NHS NOWHERE ICB)" in out
    assert "Warning: unknown SubICB code 99Z9Z" in out
    assert "Region unknown" in out
    assert "QHM" not in out.split("Warning", 1)[1]  # known codes are not named
    frame = Store(store).load()
    kept = frame[frame["area_code"] == "QZZ9"]
    assert len(kept) and set(kept["parent_name"]) == {geography.REGION_UNKNOWN}
    assert explore.Explorer(frame).labels["QZZ9"].endswith("(Region unknown)")
    # In either boundaries it is still offered, last, under "Region unknown".
    for b in geography.BOUNDARIES:
        exb = explore.Explorer(frame).in_boundaries(b)
        assert exb.icbs[-1] == "QZZ9" and exb.labels["QZZ9"].endswith("(Region unknown)")


def test_new_2026_icb_gets_its_region_at_ingest(tmp_path):
    from core import readers

    rows = area_rows("2026-04-01", "2026-06-30", code="D7T5G", name="NHS ESSEX ICB")
    result = readers.read_file(quarterly_csv(rows), "q.csv")
    icb = result.frame[result.frame["level"] == "ICB"].iloc[0]
    assert (icb["parent_code"], icb["parent_name"]) == ("Y61", "East of England")
    assert not [w for w in result.warnings if "unknown" in w]  # a whole-population file


# --- The map's helpers ------------------------------------------------------------------------


def test_map_rows_table_and_text_alternative(ex):
    exb = ex.in_boundaries("2026")
    # The compared ICBs as the map reads them (``ranking.compare_icbs``), as a frame.
    c = ranking.compare_icbs(exb, "2024/25", "Total", "recovery", adjust=False)
    table, england = frame_of(c.columns, c.index), {"rate": c.england}
    table.loc[table["rate"].notna(), "vs_england"] = "similar"
    # Three 2026 ICBs take sub-ICB locations from split ICBs: the published annual rows
    # (whole ICBs) cannot be summed into them, so they have no figure (a gap, never a guess),
    # but they are listed, with the reason.
    redrawn = table[table["area_code"].isin(["S1Y5D", "D7T5G", "T6Y0W"])]
    assert len(table) == 36 and len(redrawn) == 3 and redrawn["rate"].isna().all()
    assert redrawn["geo_note"].str.contains("area changed on 1 April 2026").all()
    missing = ranking.rank_icbs(exb, "2024/25", "Total", "recovery").table
    gone = missing[missing["area_code"].isin(redrawn["area_code"])]
    assert set(gone["missing"]) == {verdicts.REDRAWN}
    assert gone["note"].str.contains("cannot be summed").all()
    rows = map_chart.map_rows(table)
    shown = map_chart.map_table(rows, "2026").to_pandas()
    assert len(shown) == 36 and list(shown.columns[:3]) == ["ICB", "Region", "Code"]
    assert shown["Region"].tolist() == sorted(shown["Region"])
    no_figure = shown[shown["Recovery rate (%)"].isna()]
    assert set(no_figure["Compared with England"]) <= {"no data"}
    text = map_chart.describe_map(rows, "2026", period="2024/25", group_label="whole population",
                                  england=float(england["rate"]), selected="QF7")
    assert "Map of the 36 ICBs of the boundaries from April 2026, each" in text
    assert f"England {england['rate']:.1f}%" in text and "South Yorkshire is outlined" in text


@pytest.mark.parametrize("state,code", [
    ({"selection": {"icb": [{"area_code": "QF7"}]}}, "QF7"),
    ({"selection": {"icb": {"area_code": ["QF7"]}}}, "QF7"),
    ({"selection": {"icb": []}}, None),
    ({"selection": {}}, None),
    ({"selection": {"icb": [{"area_code": "D7T5G"}]}}, None),  # not an ICB of 2022
    (None, None),
])
def test_picked_icb_reads_the_chart_selection(state, code):
    assert map_chart.picked_icb(state, "2022") == code


def test_boundaries_change_dates():
    assert geography.boundaries_of(dt.date(2026, 6, 30)) == "2026"
    assert geography.boundaries_of(dt.date(2026, 3, 31)) == "2022"


def test_only_a_redrawn_icb_is_said_to_be_redrawn():
    """"area redrawn" is the compare table's own flag (``redrawn``), set where the ICB is
    listed for that reason: an ICB code no reference table knows (kept, with a note of its
    own) and without a figure has "no data", never "area redrawn"."""
    frame = Store().load()
    row = frame[(frame["level"] == "ICB") & (frame["period"] == "2024/25")
                & (frame["group"] == "Total")].iloc[[0]]
    unknown = row.assign(area_code="QZZ9", area_name="NHS NOWHERE ICB", finished=pd.NA,
                         not_at_caseness=pd.NA, recovered=pd.NA, reliable_recovered=pd.NA)
    ex26 = explore.Explorer(model.conform(pd.concat([frame, unknown], ignore_index=True))
                            ).in_boundaries("2026")
    table = ranking.rank_icbs(ex26, "2024/25", "Total", "recovery").table
    why = dict(zip(table["area_code"], table["missing"], strict=True))
    assert why["QZZ9"] == "no data"
    assert {why[c] for c in ("S1Y5D", "D7T5G", "T6Y0W")} == {verdicts.REDRAWN}
    assert table.loc[table["area_code"] == "QZZ9", "geo_note"].iloc[0]  # it has a note
