"""Rates from rounded and suppressed counts: the range, the flags, and the real published
percentages (computed by NHS England from the true counts) always inside our range."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import rounding, stats
from tests.conftest import needs_shared


def one(f, nac, r, level="ICB"):
    return rounding.assess(f, nac, r, level).iloc[0]


def test_count_bounds():
    lo, hi = rounding.count_bounds([0, 5, 10, 480, 7, np.nan], True)
    assert list(lo[:5]) == [0, 5, 8, 478, 7] and list(hi[:5]) == [0, 7, 12, 482, 7]
    assert np.isnan(lo[5]) and np.isnan(hi[5])
    lo, hi = rounding.count_bounds([480], False)
    assert lo[0] == hi[0] == 480


def test_range_under_rounding_worst_cases_by_hand():
    # 120 finished, 20 not at caseness, 45 recovered at an ICB: each count +-2.
    row = one(120, 20, 45)
    assert row["rate"] == pytest.approx(45.0)
    assert row["rate_low"] == pytest.approx(43 / (122 - 18) * 100)
    assert row["rate_high"] == pytest.approx(47 / (118 - 22) * 100)
    assert row["status"] == "approximate" and row["approximate"]
    assert "43.0%" not in row["note"] and f"{row['rate_low']:.1f}%" in row["note"]
    lo, hi = stats.wilson_interval(45, 100)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((lo * 100, hi * 100))
    # A big ICB is within a point whatever the rounding: "rounded", not approximate.
    big = one(10_000, 500, 4_800)
    assert big["status"] == "rounded" and not big["approximate"]
    assert big["rate_high"] - big["rate_low"] < 2


def test_england_is_exact():
    row = one(670_419, 35_234, 321_061, "England")
    assert row["status"] == "exact" and row["rate_low"] == row["rate_high"] == row["rate"]
    assert round(row["rate"], 1) == 50.5 and row["note"] == ""
    assert one(1000, np.nan, 400, "England")["status"] == "no data"


def test_suppressed_not_at_caseness_is_a_range_covering_both_ends():
    row = one(100, np.nan, 45, "SubICB")
    assert row["status"] == "range" and row["approximate"]
    # Low end: 43 of (102 - 0); high end: 47 of (98 - 4).
    assert row["rate_low"] == pytest.approx(43 / 102 * 100)
    assert row["rate_high"] == pytest.approx(47 / 94 * 100)
    lo, _ = stats.wilson_interval(43, 102)
    _, hi = stats.wilson_interval(47, 94)
    assert row["ci_low"] == pytest.approx(lo * 100) and row["ci_high"] == pytest.approx(hi * 100)
    assert row["ci_low"] <= row["rate_low"] <= row["rate"] <= row["rate_high"] <= row["ci_high"]
    assert "suppressed (0 to 4)" in row["note"]


def test_a_range_whose_ends_print_alike_is_said_as_one_value():
    # 20,000 finished: rounding each count by up to 2 moves the rate by under 0.05 points.
    row = one(20_000, 1_000, 9_500, "ICB")
    assert row["status"] == "rounded"
    assert f"{row['rate_low']:.1f}" == f"{row['rate_high']:.1f}" == "50.0"
    assert row["note"] == ("Counts are rounded to the nearest 5 (rate 50.0% to one decimal "
                           "place however they were rounded).")
    # A range that prints as two values still says both.
    assert one(1_000, 10, 485, "ICB")["note"] == ("Counts are rounded to the nearest 5 (rate "
                                                  "between 48.6% and 49.4%).")


def test_recovered_above_denominator_is_not_reliable():
    # The example: 15 finished, 10 not at caseness, 10 recovered gave 200%.
    row = one(15, 10, 10)
    assert row["status"] == "not reliable" and row["not_reliable"]
    assert math.isnan(row["rate"]) and math.isnan(row["ci_low"])
    assert "10 recovered, 15 finished, 10 not at caseness" in row["note"]
    assert "rounding" in row["note"] and "can explain" in row["note"]
    # 95 recovered of 90 at an ICB: never 105.6%.
    icb = one(110, 20, 95)
    assert icb["status"] == "not reliable" and math.isnan(icb["rate"])
    # At England level, or far beyond rounding: "more than rounding can explain".
    assert "more than rounding" in one(100, 10, 200)["note"]
    assert "more than rounding" in one(100, 10, 95, "England")["note"]
    # And the tidy rate columns agree: no rate above 100%.
    cols = stats.rate_columns(np.array([10.0, 45]), np.array([5.0, 100]))
    assert math.isnan(cols["rate"][0]) and math.isnan(cols["ci95_high"][0])
    assert cols["rate"][1] == 45


def test_no_data():
    assert one(np.nan, 10, 45)["status"] == "no data"
    assert "missing or suppressed" in one(100, 10, np.nan)["note"]
    assert one(10, 10, 0)["status"] == "no data"


def test_series_keep_index_and_frame_helper():
    frame = pd.DataFrame({"finished": pd.array([120, 15], dtype="Int64"),
                          "not_at_caseness": pd.array([20, None], dtype="Int64"),
                          "recovered": pd.array([45, 5], dtype="Int64"),
                          "level": ["ICB", "England"]}, index=[7, 9])
    out = rounding.assess_frame(frame)
    assert list(out.index) == [7, 9]
    assert list(out["status"]) == ["approximate", "no data"]


# Counts as published below England: multiples of 5 from 5 upwards, or suppressed.
published = st.one_of(st.none(), st.integers(1, 400).map(lambda k: 5 * k))


@settings(deadline=None)
@given(st.integers(0, 2000), st.integers(0, 2000), st.integers(0, 2000),
       st.sampled_from(["England", "ICB", "SubICB", "Region"]), st.booleans(), st.booleans())
def test_displayed_rate_within_its_interval_and_0_100(f, nac, r, level, round_it, hide_nac):
    if round_it and level != "England":
        f, nac, r = (5 * round(v / 5) for v in (f, nac, r))
    nac_value = np.nan if hide_nac else nac
    row = one(f, nac_value, r, level)
    if row["status"] in ("no data", "not reliable"):
        assert math.isnan(row["rate"]) and math.isnan(row["ci_low"])
        return
    assert 0 <= row["ci_low"] <= row["rate"] <= row["ci_high"] <= 100
    assert row["rate_low"] <= row["rate"] <= row["rate_high"] <= 100
    assert row["rate"] == pytest.approx(
        r / (f - (2 if hide_nac else nac)) * 100)


@settings(deadline=None)
@given(st.tuples(published, published, published), st.sampled_from(["ICB", "SubICB"]))
def test_published_counts_give_a_range_that_holds_the_truth(counts, level):
    """Any true counts that round to the published ones give a rate inside our range."""
    f, nac, r = (np.nan if v is None else float(v) for v in counts)
    row = one(f, nac, r, level)
    if row["status"] in ("no data", "not reliable"):
        return
    lo_f, hi_f = rounding.count_bounds(f, True)
    lo_r, hi_r = rounding.count_bounds(r, True)
    lo_n, hi_n = (0, 4) if np.isnan(nac) else rounding.count_bounds(nac, True)
    for tf in (lo_f[0], hi_f[0]):
        for tn in (np.atleast_1d(lo_n)[0], np.atleast_1d(hi_n)[0]):
            for tr in (lo_r[0], hi_r[0]):
                if tf - tn > 0 and tr <= tf - tn:
                    assert row["rate_low"] - 1e-9 <= tr / (tf - tn) * 100 <= row["rate_high"] + 1e-9


@needs_shared()
def test_real_published_percentages_lie_in_our_range():
    """Every published percentage below England (whole numbers, from the true counts) lies
    within half a point of our range under rounding, for every year, level and group; every
    row with a suppressed "not at caseness" and a published percentage now shows a range."""
    from tests.core import real

    checked = ranges = 0
    for year in real.YEARS:
        frame = real.year(year)
        below = frame[frame["level"] != "England"]
        for num, pub in (("recovered", "published_recovery"),
                         ("reliable_recovered", "published_reliable")):
            a = rounding.assess_frame(below, num)
            p = below[pub]
            shown = a["rate"].notna() & p.notna()
            assert ((p[shown] >= a.loc[shown, "rate_low"] - 0.5 - 1e-9)
                    & (p[shown] <= a.loc[shown, "rate_high"] + 0.5 + 1e-9)).all(), year
            hidden_nac = below["not_at_caseness"].isna() & below[num].notna() \
                & below["finished"].notna() & p.notna()
            assert set(a.loc[hidden_nac, "status"]) <= {"range", "not reliable"}
            assert (a.loc[hidden_nac, "status"] == "range").sum() >= 0.95 * hidden_nac.sum()
            ranges += int(hidden_nac.sum())
            checked += int(shown.sum())
            assert (a["rate"].dropna() <= 100).all()
            ok = a["rate"].notna()
            assert ((a.loc[ok, "ci_low"] <= a.loc[ok, "rate"])
                    & (a.loc[ok, "rate"] <= a.loc[ok, "ci_high"])).all()
    assert checked > 40_000 and ranges > 10_000
