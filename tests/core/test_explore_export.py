from __future__ import annotations

import csv
import datetime as dt
import io

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import explore, export, readers, stats
from core.store import Store
from tests.conftest import area_rows, quarterly_csv


@pytest.fixture(scope="module")
def frame():
    return Store().load()


def test_areas_and_labels(frame):
    a = explore.areas(frame)
    assert a.iloc[0]["area_code"] == "ENG"
    icbs = a[a["level"] == "ICB"]
    assert len(icbs) == 42 and icbs["parent_name"].notna().all()
    row = icbs[icbs["area_code"] == "QF7"].iloc[0]
    assert explore.area_label(row) == "NHS South Yorkshire ICB (North East and Yorkshire)"


@pytest.mark.parametrize("raw,pretty", [
    ("NHS STAFFORDSHIRE AND STOKE-ON-TRENT INTEGRATED CARE BOARD",
     "NHS Staffordshire and Stoke-on-Trent ICB"),
    ("LONDON COMMISSIONING REGION", "London"),
    ("NHS CORNWALL AND THE ISLES OF SCILLY INTEGRATED CARE BOARD",
     "NHS Cornwall and the Isles of Scilly ICB"),
    ("Already Mixed Case", "Already Mixed Case"),
])
def test_pretty_name(raw, pretty):
    assert explore.pretty_name(raw) == pretty


def test_parse_series_rejects_unknown(frame):
    a = explore.areas(frame)
    assert explore.parse_series("QHM~BME", a) == explore.SeriesKey("ICB", "QHM", "BME")
    for bad in ("QHM", "XXX~BME", "QHM~Martians", "~", "<b>~Total", "QHM~BME" * 30, None, 5):
        assert explore.parse_series(bad, a) is None


def test_trend_has_every_quarter_and_headline(frame):
    keys = [explore.SeriesKey("England", "ENG", "Total")]
    t = explore.trend(frame, keys)
    assert list(t["period"]) == explore.quarter_domain(frame)
    assert t.loc[t["period"] == "2020/21 Q2", "status"].item() == "not published"
    h = explore.headline(t)
    assert h["period"] == t.dropna(subset=["rate"]).iloc[-1]["period"]
    assert h["verdict"] in {"Meets the target", "Below the target",
                            "Not distinguishable from the target"}
    assert h["earlier_period"].endswith(h["period"][-2:])  # same quarter a year before
    text = explore.describe_trend(t)
    assert "England, Whole population" in text and "2020/21 Q2 was never published" in text


def test_trend_with_index_equals_without(frame):
    keys = [explore.SeriesKey("ICB", "QOQ", "BME"), explore.SeriesKey("Region", "Y56", "Mixed")]
    a = explore.trend(frame, keys)
    b = explore.trend(frame, keys, index=explore.series_index(frame))
    pd.testing.assert_frame_equal(a, b)
    arrays = explore.store_arrays(frame)
    for rolling in (False, True):
        pd.testing.assert_frame_equal(
            explore.trend(frame, keys, rolling=rolling),
            explore.trend(frame, keys, rolling=rolling, arrays=arrays))
    pd.testing.assert_frame_equal(explore.group_gap(frame, "ICB", "QOQ"),
                                  explore.group_gap(frame, "ICB", "QOQ", arrays=arrays))


@pytest.mark.parametrize("group", ["Total", "BME", "Mixed"])
def test_row_indexes_give_what_a_scan_gives(frame, group):
    """The app picks rows through cached indexes; a scan of the store must agree."""
    period = explore.quarter_domain(frame)[-1]
    slices = explore.rows_index(frame, explore.SLICE_BY)
    (a, eng_a), (b, eng_b) = (explore.compare_areas(frame, period, group, index=i)
                              for i in (None, slices))
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_series_equal(eng_a, eng_b)
    areas = explore.rows_index(frame, explore.AREA_BY)
    for detailed in (False, True):
        pd.testing.assert_frame_equal(
            explore.broad_groups(frame, "ICB", "QOQ", period, detailed=detailed),
            explore.broad_groups(frame, "ICB", "QOQ", period, detailed=detailed, index=areas))


def test_compare_areas_bands(frame):
    period = explore.quarter_domain(frame)[-1]
    table, england = explore.compare_areas(frame, period)
    assert len(table) == 42 and england["area_code"] == "ENG"
    better = table[table["vs_england"].str.startswith("better")]
    assert (better["ci95_low"] > england["rate"]).all()
    assert "ICBs" in explore.describe_compare(table, england, period, "Total")


def test_group_gap_matches_newcombe(frame):
    gap = explore.group_gap(frame, "England", "ENG")
    last = gap.dropna().iloc[-1]
    assert last["gap"] == pytest.approx(last["rate_a"] - last["rate_b"])
    assert last["gap_low"] < last["gap"] < last["gap_high"]


def test_export_long_shape(frame):
    rows = frame[(frame["level"] == "England") & (frame["group"] == "Total")]
    long = export.to_long(rows)
    assert list(long.columns) == export.EXPORT_COLUMNS
    assert set(long["measure"]) == {"recovery", "reliable_recovery"}
    assert len(long) == 2 * len(rows)


text = st.text(min_size=0, max_size=30)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(text, st.integers(-10**6, 10**6), st.floats(allow_nan=False,
                                                                       allow_infinity=False)),
                min_size=1, max_size=10))
def test_neutralise_formulas_keeps_numbers(rows):
    df = pd.DataFrame(rows, columns=["name", "count", "rate"])
    out = export.neutralise(df)
    for before, after in zip(df["name"], out["name"], strict=True):
        if before.startswith(export.FORMULA_PREFIXES):
            assert after == "'" + before
        else:
            assert after == before
    assert out["count"].tolist() == df["count"].tolist()
    assert out["rate"].tolist() == df["rate"].tolist()
    parsed = list(csv.reader(io.StringIO(export.to_csv(df), newline="")))
    assert all(not r[0].startswith(("=", "+", "-", "@")) for r in parsed[1:])


@settings(max_examples=60, deadline=None)
@given(
    finished=st.integers(0, 100_000),
    nac_share=st.floats(0, 1),
    rec_share=st.floats(0, 1),
    rel_share=st.floats(0, 1),
)
def test_reader_round_trips_counts(finished, nac_share, rec_share, rel_share):
    nac = int(finished * nac_share)
    rec = int((finished - nac) * rec_share)
    rel = int(rec * rel_share)
    data = quarterly_csv(area_rows(level="England", code="ENG", finished=str(finished),
                                   nac=str(nac), recovered=str(rec), reliable=str(rel)))
    f = readers.read_file(data, "q.csv", today=dt.date(2026, 11, 26)).frame
    row = f.iloc[0]
    assert (row["finished"], row["not_at_caseness"], row["recovered"],
            row["reliable_recovered"]) == (finished, nac, rec, rel)


def test_describe_gap_names_the_measure(frame):
    gap = explore.group_gap(frame, "England", "ENG", "reliable_recovery")
    text = explore.describe_gap(gap, "England", "reliable_recovery")
    assert "reliable recovery rate for Black, Asian" in text


SOME_SERIES = [
    explore.SeriesKey(level, code, group)
    for level, code in (("England", "ENG"), ("ICB", "QHM"), ("ICB", "QWE"), ("ICB", "NOPE"))
    for group in ("Total", "BME", "White British", "Mixed")
]


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(keys=st.lists(st.sampled_from(SOME_SERIES), min_size=1, max_size=5, unique=True),
       measure=st.sampled_from(["recovery", "reliable_recovery"]))
def test_rolling_trend_sums_what_rolling_quarters_sums(frame, keys, measure):
    """The trend's own array route for rolling sums agrees with the frame route."""
    domain = explore.quarter_domain(frame)
    data = explore.trend(frame, keys, measure, domain=domain, rolling=True)
    assert len(data) == len(keys) * len(domain)
    rolled = stats.add_rates(
        stats.rolling_quarters(explore.series_rows(frame, keys), relabel=False), measure)
    for order, key in enumerate(keys):
        mine = data[data["series_order"] == order].set_index("period")
        theirs = rolled[(rolled["area_code"] == key.area_code) & (rolled["group"] == key.group)
                        & (rolled["level"] == key.level)].set_index("period")
        theirs = theirs.reindex(domain)
        for column in ("numerator", "denominator", "rate", "ci95_low"):
            pd.testing.assert_series_equal(mine[column].astype(float), theirs[column].astype(float),
                                           check_names=False)
        assert (mine["suppressed"] == theirs["suppressed"].fillna(False).astype(bool)).all()


def test_display_tables_in_arrow_hold_what_the_frames_hold(frame):
    """The app shows the Arrow form of each table; it must say what the DataFrame says."""
    domain = explore.quarter_domain(frame)
    trend = explore.trend(frame, SOME_SERIES[:3], domain=domain)
    table, england = explore.compare_areas(frame, domain[-1], "BME")
    gap = explore.group_gap(frame, "ICB", "QHM")
    groups = explore.broad_groups(frame, "ICB", "QHM", domain[-1], detailed=True)
    for make, data in ((explore.trend_table, trend), (explore.compare_table, table),
                       (explore.gap_table, gap), (explore.groups_table, groups)):
        plain, arrow = make(data), make(data, arrow=True)
        assert arrow.column_names == list(plain.columns) and arrow.num_rows == len(plain)
        pd.testing.assert_frame_equal(arrow.to_pandas(), plain.reset_index(drop=True),
                                      check_dtype=False)


@pytest.mark.parametrize("area", [("England", "ENG"), ("ICB", "QOQ"), ("Region", "Y56"),
                                  ("ICB", "NOPE")])
@pytest.mark.parametrize("detailed", [False, True])
def test_group_rates_are_broad_groups_slimmed(frame, area, detailed):
    """The app's fast route to the ethnic-group rates gives the CSV route's rows and values."""
    index = explore.rows_index(frame, explore.AREA_BY)
    arrays = explore.store_arrays(frame)
    for period in explore.quarter_domain(frame)[-8:]:
        for measure in ("recovery", "reliable_recovery"):
            fast = explore.group_rates(arrays, index, *area, period, measure, detailed)
            full = explore.broad_groups(frame, *area, period, measure, detailed, index=index)
            pd.testing.assert_frame_equal(full[list(fast.columns)], fast, check_dtype=False)
