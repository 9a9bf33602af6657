"""Spiegelhalter's (2005) overdispersion adjustment: against DerSimonian-Laird in statsmodels,
a hand-worked Winsorisation, and the real 2024-25 ICB figures."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.meta_analysis import combine_effects

from core import overdispersion as od
from core import stats
from tests.conftest import needs_shared


def test_z_scores_are_the_funnel_distance():
    z = od.z_scores([45, 60], [100, 100], baseline=0.5)
    assert z[0] == pytest.approx(-1.0) and z[1] == pytest.approx(2.0)
    # Outside the binomial 95% funnel limits exactly when |z| > 1.96.
    lo, hi = stats.funnel_limits(0.5, 100, 0.95)
    assert (0.60 > hi) == (abs(z[1]) > stats.Z95)
    assert np.isnan(od.z_scores([5, 3], [0, 10])[0])


def test_winsorise_by_hand():
    z = np.array([-9.0, -1, -0.5, 0, 0.2, 0.4, 0.6, 1, 2, 12])
    # R's type-7 quantile at 10% of 10 values: x(1) + 0.9*(x(2) - x(1)).
    lo, hi = -9 + 0.9 * 8, 2 + 0.1 * 10
    w = od.winsorise(z, 0.1)
    assert w[0] == pytest.approx(lo) and w[-1] == pytest.approx(hi)
    assert list(w[1:-1]) == list(z[1:-1])
    with pytest.raises(ValueError, match="Winsorising fraction"):
        od.winsorise(z, 0.6)


def test_tau2_equals_dersimonian_laird_without_winsorising():
    """With no Winsorising, Spiegelhalter's tau^2 is the DerSimonian-Laird estimate with the
    binomial variances at the pooled rate (the pooled rate is then the inverse-variance mean),
    so statsmodels' meta-analysis gives it independently."""
    rng = np.random.default_rng(11)
    n = rng.integers(200, 5000, 30).astype(float)
    true = np.clip(rng.normal(0.5, 0.04, 30), 0.05, 0.95)
    o = rng.binomial(n.astype(int), true).astype(float)
    info = od.estimate(o, n, winsor_fraction=0)
    p0 = o.sum() / n.sum()
    ref = combine_effects(o / n, p0 * (1 - p0) / n, method_re="dl")
    assert info.phi * 30 == pytest.approx(ref.q, rel=1e-9)
    assert info.overdispersed
    assert info.tau2 == pytest.approx(ref.tau2, rel=1e-9)


def test_tau2_by_hand_with_winsorising():
    o = np.array([30, 45, 50, 55, 60, 62, 70, 80, 90, 140], dtype=float)
    n = np.array([100, 100, 100, 100, 100, 100, 100, 100, 200, 200], dtype=float)
    info = od.estimate(o, n)
    p0 = o.sum() / n.sum()
    z = (o / n - p0) / np.sqrt(p0 * (1 - p0) / n)
    zs = np.sort(z)
    lo, hi = zs[0] + 0.9 * (zs[1] - zs[0]), zs[8] + 0.1 * (zs[9] - zs[8])
    phi = np.mean(np.clip(z, lo, hi) ** 2)
    w = n / (p0 * (1 - p0))
    tau2 = (10 * phi - 9) / (w.sum() - (w**2).sum() / w.sum())
    assert info.phi == pytest.approx(phi) and info.tau2 == pytest.approx(tau2)
    assert info.overdispersed and phi > 1 + 2 * math.sqrt(2 / 10)
    lo95, hi95 = od.adjusted_limits(p0, n, info.tau2, 0.95)
    half = 1.959964 * np.sqrt(p0 * (1 - p0) / n + tau2)
    assert np.allclose(hi95 - lo95, 2 * half)
    adj = od.adjusted_z_scores(o, n, p0, info.tau2)
    assert np.allclose(adj, (o / n - p0) / np.sqrt(p0 * (1 - p0) / n + tau2))


def test_no_overdispersion_means_tau2_zero_and_fingertips_limits():
    # Every area exactly at the pooled rate: phi = 0.
    info = od.estimate([50, 100, 500], [100, 200, 1000])
    assert info.phi == 0 and not info.overdispersed and info.tau2 == 0
    assert od.adjusted_limits(0.5, 100, info.tau2) == stats.funnel_limits(0.5, 100)
    assert "not widened" in info.describe()
    assert not od.overdispersion_present([50, 100, 500], [100, 200, 1000])


def test_too_few_areas():
    info = od.estimate([5], [10])
    assert math.isnan(info.phi) and not info.overdispersed and info.tau2 == 0
    assert "Too few" in info.describe()


@settings(deadline=None)
@given(st.lists(st.integers(1, 5000), min_size=3, max_size=60), st.integers(0, 2**31))
def test_tau2_never_negative_and_zero_unless_overdispersed(areas, seed):
    rng = np.random.default_rng(seed)
    n = np.array(areas, dtype=float)
    o = rng.binomial(n.astype(int), 0.5).astype(float)
    info = od.estimate(o, n)
    assert info.tau2 >= 0 and info.tau2_estimate >= 0
    if not info.overdispersed:
        assert info.tau2 == 0


def test_binomial_areas_false_alarm_rate():
    """Calibrated: 42 areas that differ only by chance are rarely called overdispersed."""
    rng = np.random.default_rng(3)
    alarms = sum(
        od.estimate(rng.binomial(1000, 0.5, 42), np.full(42, 1000.0)).overdispersed
        for _ in range(400))
    assert alarms / 400 < 0.05


def test_five_bands_unadjusted_are_fingertips():
    o, n = np.array([45, 80, 20, 60, 40]), np.array([100] * 5)
    bands, info = od.compare_five_bands(o, n, 0.5, adjust=False)
    assert list(bands) == list(stats.compare_two_levels(o, n, 0.5))


def test_five_bands_adjusted_follow_adjusted_z():
    o = np.array([30, 45, 50, 55, 60, 62, 70, 80, 90, 140], dtype=float)
    n = np.array([100] * 8 + [200, 200], dtype=float)
    bands, info = od.compare_five_bands(o, n)
    assert info.overdispersed
    z = od.adjusted_z_scores(o, n, info.baseline, info.tau2)
    for b, zi in zip(bands, z, strict=True):
        if abs(zi) > stats.Z998:
            assert b == ("better (99.8%)" if zi > 0 else "worse (99.8%)")
        elif abs(zi) > stats.Z95:
            assert b == ("better (95%)" if zi > 0 else "worse (95%)")
        else:
            assert b == "similar"
    lower_is_better, _ = od.compare_five_bands(o, n, higher_is_better=False)
    assert [b.replace("better", "x").replace("worse", "better").replace("x", "worse")
            for b in bands] == list(lower_is_better)


def test_expected_outside_by_chance():
    e = od.expected_outside(42, 0.95)
    assert e["expected"] == pytest.approx(2.1)
    assert e["at_least_one"] == pytest.approx(1 - 0.95**42)
    assert od.expected_outside(42, 0.998)["expected"] == pytest.approx(0.084)
    assert "about 2.1 would fall outside the 95% limits" in od.chance_sentence(42)
    with pytest.raises(ValueError):
        od.expected_outside(-1)


@needs_shared()
def test_real_icbs_2024_25():
    """The issue's figures: unadjusted, 19 of 42 ICBs lie outside the 99.8% limits and phi is
    about 13; adjusted for overdispersion, only a handful lie outside even the 95% limits."""
    from tests.core import real

    y = real.year("2024-25")
    icb = stats.add_rates(y[(y["level"] == "ICB") & (y["group"] == "Total")])
    assert len(icb) == 42
    o, n = icb["numerator"].to_numpy(), icb["denominator"].to_numpy()
    info = od.estimate(o, n)
    z = od.z_scores(o, n)
    assert int((abs(z) > stats.Z998).sum()) == 19
    lo, hi = stats.funnel_limits(info.baseline, n, 0.998)
    assert int(((o / n < lo) | (o / n > hi)).sum()) == 19
    assert info.overdispersed and 12 < info.phi < 14.5
    assert "phi = 13.2" in info.describe()
    adj = od.adjusted_z_scores(o, n, info.baseline, info.tau2)
    assert int((abs(adj) > stats.Z998).sum()) <= 3
    assert 1 <= int((abs(adj) > stats.Z95).sum()) <= 6
    alo, ahi = od.adjusted_limits(info.baseline, n, info.tau2, 0.998)
    assert int(((o / n < alo) | (o / n > ahi)).sum()) == int((abs(adj) > stats.Z998).sum())
    bands, used = od.compare_five_bands(o, n)
    assert used.overdispersed
    flagged = sum(b != "similar" for b in bands)
    plain = sum(b != "similar" for b in od.compare_five_bands(o, n, adjust=False)[0])
    assert flagged <= 6 < 20 < plain


def test_compare_areas_table_has_both_verdicts():
    o = pd.Series([30, 45, 50, 55, 60, 62, 70, 80, 90, 140], index=list("abcdefghij"),
                  dtype=float)
    n = pd.Series([100] * 8 + [200, 200], index=o.index, dtype=float)
    table, info = od.compare_areas(o, n)
    assert list(table.index) == list("abcdefghij")
    assert list(table["band"]) == list(stats.compare_two_levels(o, n, info.baseline))
    bands, _ = od.compare_five_bands(o, n, adjust=True)
    assert list(table["adjusted_band"]) == list(bands)
    assert (table["adjusted95_high"] - table["adjusted95_low"]
            > table["limit95_high"] - table["limit95_low"]).all()
    lo, hi = stats.funnel_limits(info.baseline, n, 0.998)
    assert np.allclose(table["limit998_low"], lo * 100)
    assert ((table["rate"] > table["adjusted998_high"]) | (table["rate"] < table["adjusted998_low"])
            ).sum() == (table["adjusted_z"].abs() > stats.Z998).sum()
