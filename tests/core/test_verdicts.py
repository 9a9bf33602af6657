"""core.verdicts: what issue 11's statistics say, as the columns and sentences pages show.

Checked on the real annual figures (``../shared``) where the issue states what a statistician
expects, and on hand-made frames where a value can be worked out on paper.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import explore, headlines, model, ranking, rounding, stats, trend_tests, verdicts
from tests.core import real


@pytest.fixture(scope="module")
def years() -> pd.DataFrame:
    return pd.concat([real.year(y) for y in real.YEARS], ignore_index=True)


@pytest.fixture(scope="module")
def compared(years):
    r = _ranked(years, adjust=False)
    return r.table, r.england


def _ranked(years, **kw) -> ranking.Ranking:
    """Real 2024/25 ICBs compared with England as Compare ICBs does (``rank_icbs``)."""
    return ranking.rank_icbs(explore.Explorer(years), "2024/25", "Total", "recovery", **kw)


def _rounded(data: pd.DataFrame, measure: str = "recovery") -> pd.DataFrame:
    """``data`` with what rounding and suppression do to each rate
    (``verdicts.rounded_columns``), as a view adds them."""
    wanted = ("finished", "not_at_caseness", model.MEASURES[measure]["numerator"], "level",
              "note", "rate", "ci95_low", "ci95_high", "ci998_low", "ci998_high")
    return data.assign(**verdicts.rounded_columns(
        {c: data[c].to_numpy(object) if c in ("level", "note") else stats._numbers(data[c])
         for c in wanted if c in data}, measure))


def _series(frame: pd.DataFrame, groups: list[str], measure: str = "recovery") -> pd.DataFrame:
    """A trend-shaped frame (series_order, period, numerator, denominator, rate) of England's
    annual rows for ``groups``, oldest first, as ``Explorer.trend`` gives for quarters."""
    parts = []
    for i, g in enumerate(groups):
        rows = frame[(frame["level"] == "England") & (frame["group"] == g)
                     & (frame["breakdown"] != "Ethnic Group (detailed)")]
        rows = stats.add_rates(rows.sort_values("period_start"), measure)
        parts.append(rows.assign(series_order=i))
    return pd.concat(parts, ignore_index=True)


# --- Overdispersion on the real ICBs ---------------------------------------------------------


def test_real_icbs_2024_25_nineteen_outside_unadjusted_a_handful_adjusted(years):
    r = _ranked(years)
    out, info, used, counts = r.table, r.info, r.adjusted, r.outside
    assert counts["plain"] == 19 and counts["areas"] == 42
    assert counts["adjusted"] <= 5 and counts["adjusted95"] < counts["plain95"]
    assert used and info.overdispersed and 12 < info.phi < 15
    # by default the chart's bands are the adjusted ones
    assert (out["vs_england"] == out["vs_adjusted"]).all()
    text = verdicts.dispersion_sentence(info, used, counts)
    assert f"phi = {info.phi:.1f}" in text and "19" in text and "Spiegelhalter" in text


def test_unadjusted_control_gives_fingertips_bands_exactly(years):
    r = _ranked(years, adjust=False)
    out, info, used = r.table, r.info, r.adjusted
    assert not used
    expected = stats.compare_two_levels(out["numerator"].to_numpy(float),
                                        out["denominator"].to_numpy(float), r.england / 100)
    assert list(out["vs_england"]) == list(expected) == list(out["vs_fingertips"])
    assert "Unadjusted" in verdicts.dispersion_sentence(info, used, r.outside)


def test_funnel_limits_widen_with_tau2_and_match_binomial_without(years, compared):
    table, england = compared
    info = _ranked(years).info
    plain = ranking.funnel_limits(table, england, 0.0)
    for conf, name in ((0.95, "95"), (0.998, "998")):  # without tau2: the binomial limits
        lo, hi = stats.funnel_limits(england / 100, plain["denominator"].to_numpy(), conf)
        np.testing.assert_allclose(plain[f"low{name}"], np.asarray(lo) * 100)
        np.testing.assert_allclose(plain[f"high{name}"], np.asarray(hi) * 100)
    wide = ranking.funnel_limits(table, england, info.tau2)
    assert (wide["high998"] > plain["high998"]).all() and (wide["low998"] < plain["low998"]).all()
    assert ranking.funnel_limits(table, None).empty


def test_chance_sentence_for_42_areas():
    text = verdicts.chance_sentence(42)
    assert "42 areas" in text and "2.1" in text and "95%" in text
    assert verdicts.chance_sentence(1) == ""


# --- Recent trend and the gap ----------------------------------------------------------------


def test_real_england_bme_decreasing_white_british_flat_and_gap_widening(years):
    five = years[years["period"] >= "2020/21"]
    data = _series(five, ["BME", "White British"])
    assert headlines.trend_words(headlines.series_trend(data, 0)) == "↓ decreasing"
    assert headlines.trend_words(headlines.series_trend(data, 1)) == "→ no significant change"
    gap = headlines.gap_trend(data)
    assert gap.verdict == "widening"
    assert "widening" in headlines.gap_trend_sentence(gap) and "least-squares" in \
        headlines.gap_trend_sentence(gap)
    # The threshold is said as a condition, never as "significant beyond 3.09" beside a
    # verdict of no change, which read as a claim of significance (review, 2026-11-28).
    sentence = headlines.gap_trend_sentence(gap)
    assert "only where z is beyond ±3.09" in sentence and "significant beyond" not in sentence


def test_trend_is_not_tested_across_a_gap():
    data = pd.DataFrame({"series_order": 0, "period": [f"P{i}" for i in range(6)],
                         "numerator": [50, 52, np.nan, 56, 58, 60],
                         "denominator": [100.0] * 6})
    data["rate"] = data["numerator"] / data["denominator"] * 100
    t = headlines.series_trend(data)
    assert t.verdict == trend_tests.NOT_CALCULATED
    assert headlines.trend_words(t) == "could not be calculated"


def test_compare_table_trend_from_history_of_same_period_kind(years):
    hist = explore.Explorer(years).history("2024/25", "Total")
    assert set(hist["period"]) == {"2022/23", "2023/24", "2024/25"}
    assert set(hist["level"]) == {"ICB"}
    # Three years of ICBs: fewer than five points, said in words rather than guessed.
    assert set(headlines.area_trends(hist, "recovery").values()) == {"could not be calculated"}
    eng = explore.Explorer(years).history("2024/25", "BME", level="England")
    words = headlines.area_trends(eng, "recovery")
    assert len(words) == 1 and list(words.values()) == ["↓ decreasing"]


# --- Change on a year ago --------------------------------------------------------------------


def _two(now: tuple[int, int], then: tuple[int, int]) -> pd.DataFrame:
    rows = [then, (1, 2), (1, 2), (1, 2), now]
    d = pd.DataFrame({"series_order": 0, "period": [f"2024/25 Q{i}" for i in range(5)],
                      "numerator": [float(o) for o, _ in rows],
                      "denominator": [float(n) for _, n in rows]})
    d["rate"] = d["numerator"] / d["denominator"] * 100
    return d


def test_change_not_significant_is_neutral_and_from_the_shown_figures():
    # 50.7% against 50.9% (the example): -0.2 points, grey, no significant change.
    h = headlines.change(_two((507, 1000), (509, 1000)))
    assert h["delta"] == "-0.2 points" and h["delta_color"] == "off"
    assert h["verdict"] == "no significant change" and h["earlier"] == "50.9%"
    assert "Newcombe" in h["help"]


def test_change_significant_is_coloured_with_a_verdict():
    h = headlines.change(_two((60000, 100000), (50000, 100000)))
    assert h["delta"] == "+10.0 points" and h["delta_color"] == "normal"
    assert h["verdict"] == "higher"


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 5000), st.integers(0, 5000), st.integers(1, 5000), st.integers(0, 5000))
def test_change_equals_the_difference_of_the_figures_shown(n1, o1, n2, o2):
    o1, o2 = min(o1, n1), min(o2, n2)
    data = _two((o1, n1), (o2, n2))
    h = headlines.change(data)
    shown_now = float(verdicts.pct(data["rate"].iloc[-1]).rstrip("%"))
    shown_then = float(h["earlier"].rstrip("%"))
    assert h["delta"] == f"{shown_now - shown_then:+.1f} points"
    assert (h["delta_color"] == "normal") == (h["verdict"] in ("higher", "lower"))


def test_headline_figures_lag_follows_the_kind_of_period(years):
    data = _series(years, ["Total"])
    assert headlines.lag_of(data) == 1
    h = headlines.headline_figures(data)
    assert h["earlier_period"] == "2023/24"
    assert h["trend"].split(" (")[0].split(" ", 1)[1] in (
        "increasing", "decreasing", "no significant change")
    assert headlines.lag_of(_two((1, 2), (1, 2))) == 4


def test_trend_label_names_the_window_the_trend_was_tested_on():
    """The label spans the five periods tested: the plain quarters' last five, even where the
    rolling series shown ends earlier (a recent quarter suppressed), and "to" the latest
    alone when there are fewer than five."""
    quarters = [f"2023/24 Q{i}" for i in range(1, 5)] + [f"2024/25 Q{i}" for i in range(1, 4)]
    plain = pd.DataFrame({"series_order": 0, "period": quarters,
                          "numerator": [500.0 + i for i in range(7)], "denominator": 1000.0})
    plain["rate"] = plain["numerator"] / plain["denominator"] * 100
    rolling = plain.copy()
    rolling.loc[6, ["numerator", "rate"]] = np.nan  # its latest window is incomplete
    h = headlines.headline_figures(rolling, plain)
    assert h["trend_label"] == "Trend over the 5 quarters 2023/24 Q3 to 2024/25 Q3"
    assert headlines.headline_figures(plain)["trend_label"] == (
        "Trend over the 5 quarters 2023/24 Q3 to 2024/25 Q3")
    short = plain.iloc[4:].reset_index(drop=True)
    assert headlines.headline_figures(short)["trend_label"] == ("Trend over the 5 quarters to "
                                                                "2024/25 Q3")


# --- Rounding and suppression ----------------------------------------------------------------


def _rows() -> pd.DataFrame:
    return pd.DataFrame({
        "level": ["England", "ICB", "ICB", "ICB", "ICB", "ICB"],
        "finished": [100000, 2000, 60, 15, np.nan, 200],
        "not_at_caseness": [10000, 200, np.nan, 10, 5, 20],
        "recovered": [45000, 900, 25, 10, 5, 90],
        "note": [None, "", None, None, "suppressed", None],
    })


def test_rounding_statuses_notes_and_ranges():
    d = stats.add_rates(_rows())
    out = _rounded(d)
    assert list(out["status"]) == ["exact", "rounded", "range", "not reliable", "no data",
                                   "approximate"]
    assert out["rate_range"].iloc[0] == "exact counts"
    # 90 of 200 - 20, each count +-2: 88/184 to 92/176, more than a point away: approximate
    assert out["rate_range"].iloc[5] == "47.8% to 52.3%" and out["approximate"].iloc[5]
    assert out["note"].iloc[5].startswith("Approximate")
    # suppressed not-at-caseness: a rate and an interval that covers the whole range
    r = out.iloc[2]
    assert np.isfinite(r["rate"]) and r["ci95_low"] <= r["rate_low"] <= r["rate"]
    assert r["rate"] <= r["rate_high"] <= r["ci95_high"]
    assert "suppressed (0 to 4)" in r["note"] and " to " in r["rate_range"]
    # 10 recovered of 15 - 10 = 5: no rate, the counts in the note
    bad = out.iloc[3]
    assert np.isnan(bad["rate"]) and "Not reliable" in bad["note"] and "10 recovered" in bad["note"]
    assert out["note"].iloc[4] == "suppressed"  # the row's own reason is kept
    for text in (*out["note"], *out["rate_range"]):
        assert isinstance(text, str)
        assert not any(w in text.lower() for w in ("none", "nan", "null"))


def test_rolling_sums_widen_the_range():
    lo, hi = rounding.count_bounds(np.array([100.0, 5.0, 7.0]), True, parts=4)
    assert list(lo) == [92, 0, 7] and list(hi) == [108, 13, 7]
    one = rounding.assess(200, 20, 90, "ICB")
    four = rounding.assess(200, 20, 90, "ICB", parts=4)
    assert four["rate_high"].iloc[0] - four["rate_low"].iloc[0] > \
        one["rate_high"].iloc[0] - one["rate_low"].iloc[0]


def test_real_suppressed_not_at_caseness_rows_all_get_a_range(years):
    below = years[years["level"] != "England"]
    m = below["not_at_caseness"].isna() & below["finished"].notna() & below["recovered"].notna()
    out = _rounded(stats.add_rates(below[m]))
    ok = out["status"] == rounding.STATUS_RANGE
    assert ok.sum() > 55 and set(out["status"]) <= {rounding.STATUS_RANGE,
                                                    rounding.STATUS_NOT_RELIABLE}
    shown = out[ok]
    assert shown["rate"].between(0, 100).all()
    assert (shown["ci95_low"] <= shown["rate"]).all() and (shown["rate"] <= shown["ci95_high"]).all()


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 400).map(lambda v: v * 5), st.one_of(st.none(), st.integers(0, 80)),
       st.integers(0, 400).map(lambda v: v * 5))
def test_displayed_rate_within_its_interval_and_0_to_100(f, nac, o):
    nac = np.nan if nac is None else nac * 5
    d = stats.add_rates(pd.DataFrame({"level": ["ICB"], "finished": [float(f)],
                                      "not_at_caseness": [nac], "recovered": [float(o)]}))
    out = _rounded(d).iloc[0]
    if np.isfinite(out["rate"]):
        assert 0 <= out["rate"] <= 100
        assert out["ci95_low"] - 1e-9 <= out["rate"] <= out["ci95_high"] + 1e-9
    assert isinstance(out["note"], str)


def test_compare_columns_carry_both_verdicts_trend_and_note(years):
    cols = verdicts.compare_columns(_ranked(years).table)
    assert {"Compared with England, allowing for overdispersion",
            "Compared with England, unadjusted (Fingertips)", "Recent trend",
            "Range under rounding", "Note"} <= set(cols)
    assert all(isinstance(v, str) for c in cols.values() for v in c)


# --- The gap beside the headline -----------------------------------------------------------


def test_real_england_gap_headline_2024_25(years):
    """England 2024/25 (published annual figures): BAME 4.2 points below White British,
    Newcombe 95% interval about −4.5 to −3.9, significant; widening over five years."""
    ex = explore.Explorer(years)
    gap = ex.gap("England", "ENG", kind="year")
    both = ex.trend([explore.SeriesKey("England", "ENG", "BME"),
                     explore.SeriesKey("England", "ENG", "White British")], kind="year")
    h = headlines.gap_headline(gap, "2024/25", headlines.gap_trend(both), "financial years")
    assert h["label"] == "BAME − White British, 2024/25"
    assert h["value"] == "−4.2 points" and h["significant"] is True
    assert h["interval"] == "95% interval −4.5 to −3.9 points"
    row = gap.set_index("period").loc["2024/25"]
    assert row["gap_low"] == pytest.approx(-4.5, abs=0.05)
    assert row["gap_high"] == pytest.approx(-3.9, abs=0.05)
    assert h["verdict"].startswith("Significant: the BAME rate is lower")
    assert h["trend"] == "widening"
    assert h["trend_words"] == "Over the 5 financial years to 2024/25: widening"


def _gap_frame(values: list[tuple[str, float, float, float, str]]) -> pd.DataFrame:
    return pd.DataFrame([{"period": p, "gap": g, "gap_low": lo, "gap_high": hi, "note": n,
                          "group_a": "Black, Asian and minority ethnic (BAME)",
                          "group_b": "White British"} for p, g, lo, hi, n in values])


@pytest.mark.parametrize(("row", "value", "start"), [
    (("Q", 1.04, -0.2, 2.3, ""), "+1.0 points", "Not significant: chance could explain"),
    (("Q", 2.0, 0.5, 3.5, ""), "+2.0 points", "Significant: the BAME rate is higher"),
    (("Q", np.nan, np.nan, np.nan, "Black, Asian and minority ethnic (BAME): suppressed"),
     "no data", "No gap for Q: BAME: suppressed (NHS England published *"),
    (("Q", np.nan, np.nan, np.nan, "not published"), "no data",
     "No gap for Q: not published: NHS England never published 2020/21 Q2"),
    (("Q", np.nan, np.nan, np.nan, ""), "no data", "No gap for Q: no data: nothing published"),
])
def test_gap_headline_in_words(row, value, start):
    h = headlines.gap_headline(_gap_frame([row]), "Q")
    assert h["value"] == value and h["verdict"].startswith(start)
    assert h["trend"] == "could not be calculated"
    shown = " ".join(v for v in h.values() if isinstance(v, str))
    assert "None" not in shown and "nan" not in shown


def test_gap_headline_for_a_period_the_frame_lacks_says_no_data():
    h = headlines.gap_headline(_gap_frame([("A", -1.0, -2.0, -0.1, "")]), "B")
    assert h["value"] == "no data" and h["verdict"].startswith("No gap for B: no data")
    assert h["trend_words"].endswith("to A: could not be calculated")
