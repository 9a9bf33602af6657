"""Against the worked values in ../shared/reference/methods.md."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import stats


def r1(x):
    return round(float(x) * 100, 1)


def test_wilson_worked_example():
    assert stats.proportion(45, 100) == 0.45
    lo, hi = stats.wilson_interval(45, 100, 0.95)
    assert (r1(lo), r1(hi)) == (35.6, 54.8)
    lo, hi = stats.wilson_interval(45, 100, 0.998)
    assert (r1(lo), r1(hi)) == (30.7, 60.1)


def test_no_denominator_is_no_rate_never_zero():
    assert math.isnan(stats.proportion(0, 0))
    assert math.isnan(stats.proportion(5, float("nan")))
    lo, hi = stats.wilson_interval(0, 0)
    assert math.isnan(lo) and math.isnan(hi)
    assert stats.compare_with_target(lo, hi) == "no data"


def test_vectorised_series_keep_index():
    o = pd.Series([45, 0, 10], index=["a", "b", "c"])
    n = pd.Series([100, 0, 10], index=["a", "b", "c"])
    p = stats.proportion(o, n)
    assert list(p.index) == ["a", "b", "c"]
    assert p["a"] == 0.45 and math.isnan(p["b"]) and p["c"] == 1.0
    lo, hi = stats.wilson_interval(o, n)
    assert hi["c"] == 1.0 and lo["c"] < 1.0


@given(st.integers(0, 10_000), st.integers(1, 10_000))
def test_wilson_contains_rate(o, n):
    o = min(o, n)
    lo, hi = stats.wilson_interval(o, n)
    lo998, hi998 = stats.wilson_interval(o, n, 0.998)
    p = o / n
    assert 0 <= lo998 <= lo <= p + 1e-12 and p - 1e-12 <= hi <= hi998 <= 1


def test_compare_with_benchmark():
    lo, hi = stats.wilson_interval(np.array([45, 80, 20]), np.array([100, 100, 100]))
    assert list(stats.compare_with_benchmark(lo, hi, 0.5)) == ["similar", "better", "worse"]
    assert list(stats.compare_with_benchmark(lo, hi, 0.5, higher_is_better=False)) == [
        "similar", "worse", "better"]


def test_two_level_bands():
    bands = stats.compare_two_levels(np.array([45, 80, 20, 60, 40]), np.array([100] * 5), 0.5)
    # 60/100: 95% CI 50.2-69.1 excludes 50, 99.8% CI 44.9-73.0 does not.
    assert list(bands) == ["similar", "better (99.8%)", "worse (99.8%)", "better (95%)",
                           "worse (95%)"]


def test_compare_with_target():
    assert stats.compare_with_target(0.51, 0.60) == "meets the target"
    assert stats.compare_with_target(0.50, 0.60) == "meets the target"
    assert stats.compare_with_target(0.40, 0.499) == "below the target"
    assert stats.compare_with_target(0.45, 0.55) == "not distinguishable from the target"


def test_funnel_worked_example():
    lo, hi = stats.funnel_limits(0.501, 100, 0.95)
    assert (r1(lo), r1(hi)) == (40.3, 59.9)
    lo, hi = stats.funnel_limits(0.501, 100, 0.998)
    assert (r1(lo), r1(hi)) == (34.6, 65.6)
    lo, hi = stats.funnel_limits(0.02, np.array([1, 0]))
    assert lo[0] == 0 and math.isnan(hi[1])


def test_newcombe_difference():
    d, lo, hi = stats.newcombe_difference(45, 100, 60, 100)
    l1, u1 = stats.wilson_interval(45, 100)
    l2, u2 = stats.wilson_interval(60, 100)
    assert d == pytest.approx(-0.15)
    assert lo == pytest.approx(-0.15 - math.sqrt((0.45 - l1) ** 2 + (u2 - 0.6) ** 2))
    assert hi == pytest.approx(-0.15 + math.sqrt((u1 - 0.45) ** 2 + (0.6 - l2) ** 2))
    assert hi < 0  # significant at 95%
    d, lo, hi = stats.newcombe_difference(45, 100, 50, 100)
    assert lo < 0 < hi


def _frame(rows):
    df = pd.DataFrame(rows, columns=["period_start", "finished", "not_at_caseness", "recovered"])
    import datetime as dt
    df["period_start"] = [dt.date.fromisoformat(d) for d in df["period_start"]]
    df["period"] = [f"p{i}" for i in range(len(df))]
    df["period_type"] = "quarter"
    df["level"], df["area_code"], df["breakdown"], df["group"] = "England", "ENG", "Total", "Total"
    df["reliable_recovered"] = df["recovered"]
    df["suppressed"] = False
    for c in ("finished", "not_at_caseness", "recovered", "reliable_recovered"):
        df[c] = df[c].astype("Int64")
    return df


def test_combine_sums_counts_never_averages_rates():
    df = _frame([("2024-04-01", 110, 10, 90), ("2024-07-01", 1010, 10, 100)])
    total = stats.combine(df, ["area_code"])
    assert total.loc[0, "recovered"] == 190
    rated = stats.add_rates(total)
    assert rated.loc[0, "rate"] == pytest.approx(190 / 1100 * 100)  # not mean(90%, 10%) = 50%


def test_combine_with_missing_part_has_no_total():
    df = _frame([("2024-04-01", 110, 10, 90), ("2024-07-01", 1010, None, 100)])
    total = stats.combine(df, ["area_code"])
    assert pd.isna(total.loc[0, "not_at_caseness"]) and bool(total.loc[0, "suppressed"])
    assert math.isnan(stats.add_rates(total).loc[0, "rate"])


def test_rolling_four_quarters_break_at_the_gap():
    df = _frame([
        ("2019-10-01", 100, 10, 40), ("2020-01-01", 100, 10, 40), ("2020-04-01", 100, 10, 40),
        # 2020/21 Q2 never published
        ("2020-10-01", 100, 10, 40), ("2021-01-01", 100, 10, 40), ("2021-04-01", 100, 10, 40),
        ("2021-07-01", 100, 10, 40), ("2021-10-01", 100, 10, 40),
    ])
    rolled = stats.rolling_quarters(df)
    values = rolled["recovered"].tolist()
    assert values[:6] == [pd.NA] * 6 or all(pd.isna(v) for v in values[:6])
    assert values[6] == 160 and values[7] == 160


def test_add_rates_percentages_and_small_numbers():
    df = _frame([("2024-04-01", 120, 20, 45), ("2024-07-01", 25, 5, 10)])
    rated = stats.add_rates(df)
    assert rated.loc[0, "rate"] == 45.0
    assert round(rated.loc[0, "ci95_low"], 1) == 35.6
    assert list(rated["small_numbers"]) == [False, True]


def test_combine_never_sums_part_of_reliable_recovery():
    df = _frame([("2024-04-01", 110, 10, 90), ("2024-07-01", 1010, 10, 100)])
    df["reliable_recovered"] = pd.array([80, None], dtype="Int64")
    total = stats.combine(df, ["area_code"])
    assert total.loc[0, "recovered"] == 190  # its own parts are all there
    assert pd.isna(total.loc[0, "reliable_recovered"])  # was 80: a partial sum
    assert total.loc[0, "missing_parts"] == 1 and "1 of 2 parts" in total.loc[0, "note"]
    assert math.isnan(stats.add_rates(total, "reliable_recovery").loc[0, "rate"])
    whole = stats.combine(_frame([("2024-04-01", 110, 10, 90)]), ["area_code"])
    assert whole.loc[0, "missing_parts"] == 0 and whole.loc[0, "note"] == ""


count = st.one_of(st.none(), st.integers(0, 500))


@settings(deadline=None, max_examples=60)
@given(st.lists(st.tuples(st.integers(0, 2), count, count, count, count), min_size=1,
                max_size=12))
def test_combine_never_returns_a_value_when_a_part_is_missing(parts):
    import datetime as dt
    df = pd.DataFrame(parts, columns=["key", *stats.model.COUNT_COLUMNS])
    for c in stats.model.COUNT_COLUMNS:
        df[c] = pd.array(df[c].tolist(), dtype="Int64")
    df["period_start"] = dt.date(2024, 4, 1)
    df["suppressed"] = False
    total = stats.combine(df, ["key"]).set_index("key")
    for key, part in df.groupby("key"):
        row = total.loc[key]
        for c in stats.model.COUNT_COLUMNS:
            if part[c].isna().any():
                assert pd.isna(row[c]), (key, c)
            elif not pd.isna(row[c]):
                assert row[c] == part[c].sum()
        rate_parts = part[["finished", "not_at_caseness", "recovered"]]
        if rate_parts.isna().any().any():
            assert math.isnan(stats.add_rates(total.loc[[key]]).iloc[0]["rate"])
            assert bool(row["suppressed"])
        else:
            assert row["recovered"] == part["recovered"].sum()


@given(st.lists(st.one_of(st.none(), st.integers(0, 100)), min_size=1, max_size=20),
       st.integers(1, 5))
def test_window_sums_never_partial(values, window):
    n = len(values)
    vals = np.array([np.nan if v is None else v for v in values], dtype=float)
    sums, _ = stats.window_sums(np.zeros(n, dtype=int), np.arange(n), {"x": vals},
                                np.array([v is None for v in values]), window)
    for i in range(n):
        part = vals[max(0, i - window + 1): i + 1]
        if i < window - 1 or np.isnan(part).any():
            assert np.isnan(sums["x"][i])
        else:
            assert sums["x"][i] == part.sum()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(0, 10**9)), max_size=60))
def test_whole_numbers_as_the_cast_gives_them_and_never_a_warning(values):
    """``model.whole_numbers`` (summed counts as nullable whole numbers) equals pandas' cast
    from ``Float64``, and raises no "invalid value encountered in cast" of its own: pandas
    hides that warning with ``warnings.catch_warnings``, which another thread (the app's
    background preparation) can undo, and then it reached the logs."""
    import warnings

    from core import model

    floats = np.array([np.nan if v is None else float(v) for v in values], dtype="float64")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = model.whole_numbers(floats)
    cast = pd.array(floats, dtype="Float64").astype("Int64")
    assert ours.dtype == cast.dtype
    assert ours.tolist() == cast.tolist()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # What the cast does without pandas' own filter: the NaN under a missing value warns.
        if np.isnan(floats).any():
            with pytest.raises(RuntimeWarning, match="invalid value encountered in cast"):
                floats.astype(np.int64)


def test_whole_numbers_warn_nothing_when_another_thread_undoes_the_filter(monkeypatch):
    """The race itself, made certain: pandas hides the cast's warning with
    ``warnings.catch_warnings``, and another thread leaving its own ``catch_warnings`` puts
    back the filters it saw, undoing pandas'. Stubbing pandas' filter out does the same every
    time: its cast then warns (as CI once showed), ``model.whole_numbers`` does not."""
    import contextlib
    import types
    import warnings

    from pandas.core.arrays import masked

    from core import model

    monkeypatch.setattr(masked, "warnings", types.SimpleNamespace(
        catch_warnings=contextlib.nullcontext, filterwarnings=lambda *a, **k: None))
    floats = np.array([480.0, np.nan, 950.0])
    with warnings.catch_warnings(record=True) as cast:
        warnings.simplefilter("always")
        pd.array(floats, dtype="Float64").astype("Int64")
    assert [str(w.message) for w in cast] == ["invalid value encountered in cast"]
    with warnings.catch_warnings(record=True) as ours:
        warnings.simplefilter("always")
        made = model.whole_numbers(floats)
    assert ours == [] and made.tolist() == [480, pd.NA, 950]
