"""The geography module and ICB series across the 2022 and 2026 boundary changes.

Reference tables are the project's own copies in data/reference; the checks on real figures use
the published annual counts in ../shared and skip, saying why, when it is absent.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import boundaries, geography, model, readers
from tests.conftest import HEADER, NAMES, REAL, needs_shared, quarterly_csv

ANNUAL = REAL / "annual_recovery_2017-18_to_2024-25.parquet"
CURRENT_REGIONS = {"Y56", "Y58", "Y59", "Y60", "Y61", "Y62", "Y63"}
ESSEX_CCGS = ["99E", "99F", "06Q", "99G", "07G", "07H", "06T"]
COUNTS = list(model.COUNT_COLUMNS)


# --- reference tables --------------------------------------------------------------------------


@pytest.mark.parametrize("b,n", [("2022", 42), ("2026", 36)])
def test_icb_counts_names_and_regions(b, n):
    icbs = geography.icbs(b)
    assert len(icbs) == n and icbs["icb_code"].is_unique
    assert set(icbs["region_code"]) == CURRENT_REGIONS
    assert (icbs["region_name"] != "").all() and (icbs["short_name"] != "").all()
    shapes = json.loads((geography.REFERENCE_DIR / f"icb_{b}.geojson").read_text())
    assert {f["properties"]["icb_code"] for f in shapes["features"]} == set(icbs["icb_code"])
    assert geography.label(b).endswith(f"({n})")


def test_new_icbs_regions_as_published():
    reg = geography.icbs("2026").set_index("icb_code")["region_code"]
    assert reg[["S1Y5D", "D7T5G", "T6Y0W"]].eq("Y61").all()
    assert reg[["S9B9J", "S0E4D", "QRL"]].eq("Y59").all()
    assert reg["Z9B2Z"] == "Y56"


@pytest.mark.parametrize("b", geography.BOUNDARIES)
def test_every_subicb_maps_to_one_icb(b):
    sub = geography.subicb_icb(b)
    icbs = set(geography.icbs(b)["icb_code"])
    assert set(sub["icb_code"]) == icbs  # every ICB has members, and only ICBs of b
    whole = sub[sub["whole"]]
    assert whole["subicb_code"].is_unique
    split = sub[~sub["whole"]]
    if b == "2022":
        assert split.empty and len(whole) == 106
    else:
        # Frimley alone was split inside a sub-ICB location, three ways.
        assert set(split["subicb_code"]) == {"D4U1Y"}
        assert set(split["icb_code"]) == {"S9B9J", "S0E4D", "QRL"}
        assert set(whole["subicb_code"]) | {"D4U1Y"} == set(geography.subicb_icb("2022")["subicb_code"])


def test_2026_membership_equals_succession_table():
    old = geography.subicb_icb("2022").set_index("subicb_code")["icb_code"]
    new = geography.subicb_icb("2026")
    new = new.assign(pred=new["subicb_code"].map(old))
    succ = geography.successions_2026()
    from_table = succ.groupby("successor_code")["predecessor_code"].apply(set).to_dict()
    from_members = {}
    for icb, d in new.groupby("icb_code"):
        preds = set(d["pred"])
        if preds != {icb}:
            # An acquiring ICB keeps its code: the table lists only what it acquired.
            from_members[icb] = preds - {icb}
    assert from_members == from_table
    # A merger moves all of the predecessor into the successor; a split spreads it.
    succ_of = new.groupby("pred")["icb_code"].apply(set)
    for r in succ.itertuples():
        if r.succession_type == "merger":
            assert succ_of[r.predecessor_code] == {r.successor_code}, r
        else:
            assert len(succ_of[r.predecessor_code]) > 1, r
    # The 29 others are unchanged: same code, same members.
    unchanged = set(geography.icbs("2026")["icb_code"]) - set(from_table)
    assert len(unchanged) == 29
    for icb in unchanged:
        assert set(new.loc[new["icb_code"] == icb, "subicb_code"]) == set(old[old == icb].index)


def test_every_historic_ccg_and_stp_reaches_a_2022_icb_with_a_region():
    icb22 = set(geography.icbs("2022")["icb_code"])
    assert set(geography.ccg_history()["icb22_code"]) <= icb22
    assert set(geography.stp_history()["icb22_code"]) <= icb22
    for lv, codes in (("CCG", geography.ccg_history()["ccg_code"]),
                      ("STP", geography.stp_history()["stp_code"]),
                      ("STP", geography.stp_history()["nhs_code"].replace("", pd.NA).dropna())):
        for code in set(codes):
            place = geography.resolve(code, lv)
            assert place is not None and place.region_code in CURRENT_REGIONS, (lv, code)


def test_resolve_levels_names_and_parents():
    assert geography.resolve("QF7").level == "ICB"
    stp = geography.resolve("QF7", "STP")
    assert stp.level == "STP" and "Bassetlaw" in stp.name and "QT1" in stp.note
    essex = geography.resolve("06Q", "SubICB")
    assert essex.parent_code == "D7T5G" and essex.region_code == "Y61"
    assert geography.resolve("06Q", "SubICB", boundaries="2022").parent_code == "QH8"
    d7 = geography.resolve("D7T5G")
    assert (d7.level, d7.parent_code) == ("ICB", "Y61")
    y54 = geography.resolve("Y54", "Region")
    assert "abolished" in y54.name and y54.region_code is None  # two current regions
    assert geography.resolve("13Q", "CCG").geographic is False
    assert geography.resolve("NOPE") is None


def test_unknown_codes_are_named():
    frame = pd.DataFrame({"level": ["ICB", "ICB", "SubICB", "STP", "ICB"],
                          "area_code": ["QHM", "X9X9X", "06Q", "QF7", "X9X9X"]})
    assert geography.unknown_codes(frame) == ["X9X9X"]
    # An STP code stored as an ICB is not taken for one.
    assert geography.unknown_codes(frame.assign(level="ICB").iloc[[3]]) == []
    assert geography.unknown_codes(pd.DataFrame({"level": ["STP"], "area_code": ["QUA9"]})) == ["QUA9"]


def test_default_boundaries_follow_latest_period():
    f = pd.DataFrame({"period_end": pd.to_datetime(["2025-12-31", "2026-03-31"]).date})
    assert geography.default_boundaries(f) == "2022"
    f = pd.DataFrame({"period_end": pd.to_datetime(["2025-12-31", "2026-06-30"]).date})
    assert geography.default_boundaries(f) == "2026"
    assert geography.default_boundaries(model.empty_frame()) == "2026"


# --- real annual figures -------------------------------------------------------------------------

LEVELS = {"England": "England", "Commissioning Region": "Region", "ICB": "ICB", "STP": "STP",
          "CCG": "CCG"}
MEASURES = {"finished_course_treatment": "finished", "not_at_caseness": "not_at_caseness",
            "recovery": "recovered", "reliable_recovery": "reliable_recovered"}


def annual_model_rows() -> pd.DataFrame:
    """The real long annual table as model rows (Total, BME Group, broad Ethnic Group).

    Levels stay what they were published as (STP, CCG); counts "*" are null.
    """
    t = pd.read_parquet(ANNUAL)
    broad = (t["variable_type"] == "Ethnic Group") & (t["variable_b"] == "All")
    t = t[(t["variable_type"].isin(["Total", "BME Group"]) | broad)]
    t = t.assign(measure_name=t["measure_name"].where(t["measure_statistic"] == "count",
                                                      t["measure_name"] + "_pct"))
    idx = ["reporting_period", "start_date", "end_date", "org_type", "org_code", "org_name",
           "variable_type", "variable_a"]
    w = t.pivot_table(index=idx, columns="measure_name", values="value",
                      aggfunc="first").reset_index()
    level = w["org_type"].map(LEVELS)
    out = pd.DataFrame({
        "period": w["reporting_period"].str.replace("-", "/"),
        "period_start": w["start_date"], "period_end": w["end_date"], "period_type": "year",
        "level": level, "area_code": w["org_code"].where(level != "England", "ENG"),
        "area_name": w["org_name"], "breakdown": w["variable_type"],
        "group": w["variable_a"].where(w["variable_type"] != "Total", "Total"),
        "source": "annual_recovery_2017-18_to_2024-25.parquet",
    })
    out["group_parent"] = out["group"]
    for src, dst in MEASURES.items():
        out[dst] = pd.to_numeric(w[src].where(w[src] != "*"), errors="coerce")
    for src, dst in (("recovery_pct", "published_recovery"),
                     ("reliable_recovery_pct", "published_reliable")):
        out[dst] = pd.to_numeric(w[src].where(w[src] != "*"), errors="coerce")
    out["suppressed"] = out[COUNTS].isna().any(axis=1)
    return model.conform(out)


@pytest.fixture(scope="module")
def annual():
    if not ANNUAL.exists():
        pytest.skip(f"{ANNUAL} is absent: the real published rows live in ../shared")
    return annual_model_rows()


@pytest.fixture(scope="module")
def series(annual):
    return {b: boundaries.icb_series(annual, b) for b in geography.BOUNDARIES}


def _point(s: pd.DataFrame, code: str, period: str, group: str = "Total") -> pd.Series:
    hit = s[(s["area_code"] == code) & (s["period"] == period) & (s["group"] == group)]
    assert len(hit) == 1, (code, period, group, len(hit))
    return hit.iloc[0]


def _hand_sum(annual: pd.DataFrame, level: str, codes: list[str], period: str) -> pd.Series:
    rows = annual[(annual["level"] == level) & annual["area_code"].isin(codes)
                  & (annual["period"] == period) & (annual["group"] == "Total")]
    assert sorted(rows["area_code"]) == sorted(codes)
    return rows[COUNTS].sum()


@needs_shared(ANNUAL)
def test_every_real_code_resolves(annual):
    assert geography.unknown_codes(annual) == []


@needs_shared(ANNUAL)
@pytest.mark.parametrize("b,n", [("2022", 42), ("2026", 36)])
def test_series_holds_only_icbs_of_the_boundaries_with_regions(series, b, n):
    s = series[b]
    assert set(s["area_code"]) == set(geography.icbs(b)["icb_code"])
    assert set(s["level"]) == {"ICB"} and s["parent_code"].isin(CURRENT_REGIONS).all()
    total = s[s["group"] == "Total"]
    assert total.groupby(["period", "area_code"]).size().max() == 1
    if b == "2022":  # every 2022 ICB has every year, CCG sums before 2022-23
        assert total.groupby("period")["area_code"].nunique().eq(42).all()


@needs_shared(ANNUAL)
def test_south_yorkshire_2021_22_excludes_bassetlaw_exactly(annual, series):
    p = _point(series["2022"], "QF7", "2021/22")
    hand = _hand_sum(annual, "CCG", ["02P", "02X", "03L", "03N"], "2021/22")
    assert not p["approximate"]
    assert [p[c] for c in COUNTS] == hand.tolist()
    stp = annual[(annual["level"] == "STP") & (annual["area_code"] == "QF7")
                 & (annual["period"] == "2021/22") & (annual["group"] == "Total")].iloc[0]
    assert p["finished"] < stp["finished"]  # the STP still held Bassetlaw (02Q)
    assert pd.isna(p["published_recovery"])  # a sum carries no published percentage
    # Bassetlaw went whole to Nottingham and Nottinghamshire: exact there too.
    assert not _point(series["2022"], "QT1", "2021/22")["approximate"]


@needs_shared(ANNUAL)
@pytest.mark.parametrize("code", ["QUA", "QHL"])
def test_west_birmingham_points_are_approximate(series, code):
    p = _point(series["2022"], code, "2021/22")
    assert p["approximate"] and "West Birmingham" in p["note"]
    assert not _point(series["2022"], code, "2022/23")["approximate"]  # own row after July 2022
    assert not pd.isna(_point(series["2022"], code, "2022/23")["published_recovery"])


@needs_shared(ANNUAL)
def test_glossop_and_cambridgeshire_cuts_are_approximate(series):
    for code, word in (("QOP", "Glossop"), ("QJ2", "Glossop"), ("QUE", "Cambridgeshire"),
                       ("QPM", "Cambridgeshire")):
        p = _point(series["2022"], code, "2021/22")
        assert p["approximate"] and word in p["note"], code


@needs_shared(ANNUAL)
def test_essex_2021_22_in_2026_boundaries_is_the_hand_sum_of_its_ccgs(annual, series):
    p = _point(series["2026"], "D7T5G", "2021/22")
    hand = _hand_sum(annual, "CCG", ESSEX_CCGS, "2021/22")
    assert not p["approximate"]
    assert [p[c] for c in COUNTS] == hand.tolist()
    assert p["parent_code"] == "Y61"


@needs_shared(ANNUAL)
def test_no_borrowed_numbers_where_no_honest_mapping(series):
    s = series["2026"]
    # 2022-23 on is published by ICB only; Hertfordshire and West Essex and Suffolk and North
    # East Essex were split by whole sub-ICB locations, which ICB rows cannot separate.
    for code in ("S1Y5D", "D7T5G", "T6Y0W"):
        assert s[(s["area_code"] == code) & (s["period"] == "2022/23")].empty
    # Two whole ICBs merged: an exact sum.
    assert not _point(s, "Z9B2Z", "2022/23")["approximate"]
    # Frimley's successors are approximate everywhere before April 2026, saying why.
    for code in ("S9B9J", "S0E4D", "QRL"):
        for period in ("2019/20", "2023/24"):
            p = _point(s, code, period)
            assert p["approximate"] and "Frimley" in p["note"], (code, period)


@needs_shared(ANNUAL)
def test_stp_rows_alone_give_exact_points_only_where_the_stp_is_the_icb(annual):
    stps = annual[(annual["level"] == "STP") & annual["period"].isin(["2018/19", "2021/22"])]
    s = boundaries.icb_series(stps, "2022")
    for period in ("2018/19", "2021/22"):  # ONS codes, then NHS codes
        p = _point(s, "QYG", period)
        own = stps[(stps["area_code"].isin(["QYG", "E54000008"])) & (stps["period"] == period)
                   & (stps["group"] == "Total")].iloc[0]
        assert [p[c] for c in COUNTS] == [own[c] for c in COUNTS] and not p["approximate"]
        # South Yorkshire and Bassetlaw is not South Yorkshire: a gap, not its numbers.
        assert s[(s["area_code"] == "QF7") & (s["period"] == period)].empty


@needs_shared(ANNUAL)
def test_an_stp_under_both_its_codes_in_one_period_counts_once(annual):
    """A file holding an STP under its ONS and its NHS code (the same area): the point is
    its first row's, never the two added together."""
    stps = annual[(annual["level"] == "STP") & (annual["period"] == "2021/22")]
    again = stps[stps["area_code"] == "QYG"].assign(area_code="E54000008")
    again = again.assign(**{c: again[c] + 1000 for c in COUNTS})
    once = boundaries.icb_series(stps, "2022")
    twice = boundaries.icb_series(pd.concat([stps, again], ignore_index=True), "2022")
    pd.testing.assert_frame_equal(twice, once)
    p = _point(twice, "QYG", "2021/22")
    own = stps[(stps["area_code"] == "QYG") & (stps["group"] == "Total")].iloc[0]
    assert [p[c] for c in COUNTS] == [own[c] for c in COUNTS]
    # The other code first: its row is the one counted (once).
    first = boundaries.icb_series(pd.concat([again, stps], ignore_index=True), "2022")
    p = _point(first, "QYG", "2021/22")
    assert [p[c] for c in COUNTS] == [own[c] + 1000 for c in COUNTS]


@needs_shared(ANNUAL)
def test_unchanged_icb_keeps_its_own_published_rows(annual, series):
    for b in geography.BOUNDARIES:
        p = _point(series[b], "QYG", "2024/25", "BME")
        own = annual[(annual["level"] == "ICB") & (annual["area_code"] == "QYG")
                     & (annual["period"] == "2024/25") & (annual["group"] == "BME")].iloc[0]
        assert [p[c] for c in COUNTS] == [own[c] for c in COUNTS]
        assert not p["approximate"] and p["note"] == ""


# --- a quarterly file with the April 2026 codes -------------------------------------------------

ESSEX_SUBS = {"99E": "QH8", "99F": "QH8", "06Q": "QH8", "99G": "QH8", "07G": "QH8",
              "07H": "QM7", "06T": "QJG"}


def _rows(start, end, icb, icb_name, sub, sub_name, group_type, counts, pct="50"):
    finished, nac, rec, rel = counts
    return [[start, end, icb, icb_name, sub, sub_name, "All_Provider", "null", group_type,
             "Total", "Total", "null", mid, NAMES[mid], str(v)]
            for mid, v in (("M076", finished), ("M179", nac), ("M191", rec), ("M193", rel),
                           ("M192", pct), ("M195", "45"))]


def _essex_quarter(start, end, new_codes: bool):
    """Essex's sub-ICB locations, and its ICB rows, as a quarterly file gives them."""
    rows, totals = [], {}
    for i, (sub, old_icb) in enumerate(ESSEX_SUBS.items()):
        icb = "D7T5G" if new_codes else old_icb
        counts = (1000 + 10 * i, 60 + i, 480 + 5 * i, 450 + 4 * i)
        rows += _rows(start, end, icb, f"NHS ICB {icb}", sub, f"NHS ESSEX ICB - {sub}",
                      "SubICB", counts)
        tot = totals.setdefault(icb, [0, 0, 0, 0])
        for k in range(4):
            tot[k] += counts[k]
    for icb, counts in totals.items():
        # QM7 and QJG hold other sub-ICB locations too: their own rows are larger.
        extra = 0 if icb in ("QH8", "D7T5G") else 5000
        rows += _rows(start, end, icb, f"NHS ICB {icb}", "All_SubICB", "null", "ICB",
                      [counts[0] + extra, *counts[1:]], pct="51")
    return rows


def test_april_2026_codes_join_predecessors_without_a_break():
    q4 = _essex_quarter("01/01/2026", "31/03/2026", new_codes=False)
    q1 = _essex_quarter("01/04/2026", "30/06/2026", new_codes=True)
    frame = readers.read_file(quarterly_csv(q4 + q1, HEADER), "essex_q4_q1.csv").frame
    s = boundaries.icb_series(frame, "2026")
    essex = s[(s["area_code"] == "D7T5G") & (s["group"] == "Total")].sort_values("period_start")
    assert essex["period"].tolist() == ["2025/26 Q4", "2026/27 Q1"]
    before, after = essex.iloc[0], essex.iloc[1]
    subs = frame[(frame["level"] == "SubICB") & (frame["period"] == "2025/26 Q4")]
    assert [before[c] for c in COUNTS] == subs[COUNTS].sum().tolist()
    assert not before["approximate"] and "7 sub-ICB locations" in before["note"]
    assert pd.isna(before["published_recovery"])
    assert after["finished"] == subs["finished"].sum()  # the same area, from its own row
    assert after["published_recovery"] == 51 and after["note"] == ""
    # In 2022 boundaries Mid and South Essex continues after April 2026 from its five parts.
    old = boundaries.icb_series(frame, "2022")
    qh8 = old[(old["area_code"] == "QH8") & (old["period"] == "2026/27 Q1")].iloc[0]
    assert qh8["finished"] == sum(1000 + 10 * i for i in range(5))
    # QM7 after April 2026 would need 06K and 06N, which this file lacks: no data, not a guess.
    qm7 = old[(old["area_code"] == "QM7") & (old["period"] == "2026/27 Q1")]
    assert qm7.empty or qm7[COUNTS].isna().all(axis=None)


def test_own_row_with_a_gap_gives_way_to_a_complete_sum_of_its_parts():
    """Complete exact > complete approximate > exact with gaps: where the ICB's own row has a
    suppressed count, the complete sum of its sub-ICB locations is shown instead (without
    the published percentage, which belongs to the own row)."""
    q1 = _essex_quarter("01/04/2026", "30/06/2026", new_codes=True)
    for row in q1:
        if row[2] == "D7T5G" and row[8] == "ICB" and row[12] == "M191":
            row[14] = "*"
    frame = readers.read_file(quarterly_csv(q1, HEADER), "essex_q1.csv").frame
    p = _point(boundaries.icb_series(frame, "2026"), "D7T5G", "2026/27 Q1")
    subs = frame[frame["level"] == "SubICB"]
    assert [p[c] for c in COUNTS] == subs[COUNTS].sum().tolist()
    assert not p["suppressed"] and not p["approximate"]
    assert p["note"].startswith("Sum of 7 sub-ICB locations")
    assert pd.isna(p["published_recovery"])


def test_a_sum_from_several_files_names_each_file_once():
    rows = []
    for i, sub in enumerate(ESSEX_SUBS):
        rows.append({"period": "2025/26 Q4", "period_start": "2026-01-01",
                     "period_end": "2026-03-31", "period_type": "quarter", "level": "SubICB",
                     "area_code": sub, "breakdown": "Total", "group": "Total",
                     "group_parent": "Total", "finished": 100, "not_at_caseness": 10,
                     "recovered": 45, "reliable_recovered": 40, "suppressed": False,
                     "source": ("b.csv", "a.csv")[i % 2]})
    s = boundaries.icb_series(model.conform(pd.DataFrame(rows)), "2026")
    p = _point(s, "D7T5G", "2025/26 Q4")
    assert p["source"] == "a.csv; b.csv" and p["finished"] == 700
    one = boundaries.icb_series(model.conform(pd.DataFrame(rows).assign(source="b.csv")), "2026")
    assert _point(one, "D7T5G", "2025/26 Q4")["source"] == "b.csv"


# --- suppression ---------------------------------------------------------------------------------

_count = st.one_of(st.none(), st.integers(min_value=0, max_value=5000))


@settings(max_examples=25, deadline=None)
@given(parts=st.lists(st.tuples(_count, _count, _count, _count), min_size=7, max_size=7),
       missing=st.sets(st.integers(min_value=0, max_value=6), max_size=2))
def test_suppressed_or_missing_part_never_yields_a_value(parts, missing):
    rows = []
    for i, (sub, icb) in enumerate(ESSEX_SUBS.items()):
        if i in missing:
            continue
        f, n, r, rel = parts[i]
        rows.append({"period": "2025/26 Q4", "period_start": "2026-01-01",
                     "period_end": "2026-03-31", "period_type": "quarter", "level": "SubICB",
                     "area_code": sub, "parent_code": icb, "breakdown": "Total",
                     "group": "Total", "group_parent": "Total", "finished": f,
                     "not_at_caseness": n, "recovered": r, "reliable_recovered": rel,
                     "suppressed": None in (f, n, r, rel), "source": "x.csv"})
    frame = model.conform(pd.DataFrame(rows))
    s = boundaries.icb_series(frame, "2026")
    essex = s[s["area_code"] == "D7T5G"]
    if len(missing) == 7 or not rows:
        assert essex.empty
        return
    p = essex.iloc[0]
    for k, c in enumerate(COUNTS):
        values = [parts[i][k] for i in range(7)]
        if missing or any(v is None for v in values):
            assert pd.isna(p[c]), (c, values, missing)
            assert p["suppressed"]
        else:
            assert p[c] == sum(values)


# --- the map -------------------------------------------------------------------------------------

from core import charts, map_chart  # noqa: E402


def _inside(ring, x, y):
    hit = False
    for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False):
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            hit = not hit
    return hit


def _map_table(b):
    icbs = geography.icbs(b)
    bands = list(charts.BAND_STYLE)[:5]
    return pd.DataFrame({
        "area_code": icbs["icb_code"], "rate": [40 + (i % 20) for i in range(len(icbs))],
        "numerator": 100, "denominator": 200,
        "vs_england": [bands[i % 5] for i in range(len(icbs))],
    })


@pytest.mark.parametrize("b,n", [("2022", 42), ("2026", 36)])
def test_boundaries_read_once_and_marker_inside_each_icb(b, n):
    assert map_chart.shapes(b) is map_chart.shapes(b)
    assert len(map_chart.shapes(b)["features"]) == n
    points = map_chart.label_points(b).set_index("area_code")
    for f in map_chart.shapes(b)["features"]:
        g = f["geometry"]
        polys = g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
        lon, lat = points.loc[f["properties"]["icb_code"], ["lon", "lat"]]
        assert any(_inside(p[0], lon, lat) for p in polys), f["properties"]["icb_code"]


def _geometry(spec):
    """The boundaries a map spec carries inline (TopoJSON text), as shapes."""
    texts = {layer["data"]["values"] for layer in spec["layer"]
             if isinstance(layer.get("data", {}).get("values"), str)}
    assert len(texts) == 1  # one copy, however many layers read it
    return json.loads(texts.pop())["objects"]["icbs"]["geometries"]


@pytest.mark.parametrize("b,n", [("2022", 42), ("2026", 36)])
def test_rate_map_spec(b, n):
    table = _map_table(b).iloc[1:]  # one ICB without a row: drawn, as "no data"
    spec = map_chart.map_spec(table, b, title="Recovery", england=47.3, selected="QF7",
                              frames=False)
    params = spec.get("params", []) + [p for layer in spec["layer"]
                                       for p in layer.get("params", [])]
    assert [p["name"] for p in params] == ["icb"]
    assert params[0]["select"]["fields"] == ["area_code"]
    assert len(_geometry(spec)) == n
    lookup = next(t for t in spec["layer"][0]["transform"] if "lookup" in t)
    rows = spec["datasets"][lookup["from"]["data"]["name"]]
    assert len(rows) == n and sum(r["vs_england"] == "no data" for r in rows) == 1
    # The chosen ICB is the one row marked, and its outline is drawn from that mark.
    assert [r["area_code"] for r in rows if r["selected"]] == ["QF7"]
    assert "datum.selected" in json.dumps(spec["layer"][0]["encoding"]["strokeWidth"])
    # The legend's ticks and labels: the scale's ends, England and the target.
    legend = {r["value"]: r["label"] for r in spec["datasets"]["meta"]}
    assert legend[47.3] == "England 47.3%" and legend[50.0] == "50% target"
    assert min(legend) <= 40 and max(legend) >= 59
    assert "Office for National Statistics" in " ".join(spec["title"]["subtitle"])
    # Drawn, with the title, the legend's labels and one shape per ICB.
    svg = charts.to_image(spec, "svg", width=500).decode()
    assert svg.count("<path") >= n
    assert "England 47.3%" in svg and "50% target" in svg and ">Recovery<" in svg
    # Too close to label apart: one tick, the target's, England's figure in brackets (not
    # "England 47.7%, 50% target" at 50, which read as England being at the target).
    ticks, labels = map_chart._rate_legend([45.0, 55.0], 47.7, "recovery")
    assert dict(zip(ticks, labels, strict=True))[50.0] == "50% target (England 47.7%)"
    assert 47.7 not in ticks


def test_a_new_map_view_reuses_the_layout():
    """Views differ only in their datasets: the layout is made once per set of options."""
    a = map_chart.map_spec(_map_table("2022"), "2022", title="A", england=47.3)
    b = map_chart.map_spec(_map_table("2022").assign(rate=45.0), "2022", title="B",
                           england=51.0, selected="QF7")
    assert {k: v for k, v in a.items() if k != "datasets"} == {
        k: v for k, v in b.items() if k != "datasets"}
    assert a["datasets"]["meta"]["title"][0].as_py() == "A"
    assert b["datasets"]["meta"]["title"][0].as_py() == "B"


def test_band_map_marks_bands_by_shape_and_outline():
    spec = map_chart.map_spec(_map_table("2026"), "2026", title="Recovery", colour_by="band",
                              frames=False)
    markers = spec["layer"][1]
    assert markers["encoding"]["shape"]["scale"]["range"] == [
        charts.BAND_STYLE[b][1] for b in markers["encoding"]["shape"]["scale"]["domain"]]
    assert "strokeDash" in spec["layer"][0]["encoding"]
    assert len(spec["datasets"][markers["data"]["name"]]) == 36
    svg = charts.to_image(spec, "svg", width=500).decode()
    assert "better (99.8%)" in svg and "Compared with England" in svg
    with pytest.raises(ValueError):
        map_chart.map_spec(_map_table("2026"), "2026", title="x", colour_by="colour")


@pytest.mark.parametrize("colour_by", ["rate", "band"])
@pytest.mark.parametrize("b", ["2022", "2026"])
def test_map_spec_validates_against_vega_lite(b, colour_by):
    """The app builds charts without Altair's per-object checks (core.charts.common), so the
    map's spec is checked whole against the schema here, as every other chart's is in
    tests/core/test_charts.py."""
    import altair as alt

    spec = map_chart.map_spec(_map_table(b), b, title="Recovery", colour_by=colour_by,
                              england=47.3, selected=geography.icbs(b)["icb_code"].iloc[0],
                              frames=False)
    alt.LayerChart.from_dict(spec)  # raises on anything the schema refuses
